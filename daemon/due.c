/* due.c -- see due.h.
 *
 * What a pass may skip, and why the next one finds it. The pass ends, and
 * the next round starts a new one from the first key, when a round finds
 * fewer persons than it takes, when today is not the pass's day, and when a
 * round fails (rolled back: the caller may also have reconnected, and
 * resets the pass itself then, jr_due_pass_reset()). A key the daemon writes
 * during a pass is never on or before today: every batch and every round
 * settles its persons as of today, and a next check is the first notice
 * date strictly after today (jr_schedule_next_notice_on()), or none; so in
 * the daemon's own running nothing lands behind the cursor. A key on or before
 * today written behind the cursor by anything else (an edit by hand; the
 * rows of --rebuild, whose next check may be today, are written with the
 * daemon stopped, and a start begins a new pass) is skipped by this pass
 * and found by the next one, which begins at the check after this one ends:
 * after the next batch that commits, or within due_check_interval_s. A key
 * moved past the cursor but still on or before today is read later in the
 * same pass. */
#include "due.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"

/* A round inside its transaction. */
static int due_round(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, const jr_stored_page_t *due,
                     uint64_t *last_seq, jr_publications_t *pubs, size_t *sent)
{
    const char *nhs[JR_DUE_ROUND];
    for (size_t i = 0; i < due->n; i++) {
        nhs[i] = due->v[i].nhs;
    }
    jr_store_rows_t rows = {0};
    jr_stored_t stored = {0};
    jr_stored_keys_t decided = {0};
    jr_plan_t *plan = NULL;
    jr_stored_out_t out = {0};
    jr_groups_touched_t groups = {0};
    size_t suggested = 0;
    uint64_t seq = 0;
    int rc = jr_store_pg_persons_events(store, nhs, due->n, &rows);
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_notice_keys(store, nhs, due->n, jr_stored_keys_on_notice, &decided);
    }
    if (rc == JR_STORE_OK &&
        (decided.failed || jr_stored_decode(&stored, ctx->streams, rows.rows, rows.n) != 0)) {
        rc = JR_STORE_RETRY;
    }
    if (rc == JR_STORE_OK) {
        jr_plan_ctx_t pctx = jr_stored_plan_ctx(ctx, *last_seq);
        jr_plan_input_t in = {
            .stored = stored.v,
            .n_stored = stored.n,
            .decided = (const char *const *)decided.keys,
            .n_decided = decided.n,
        };
        rc = jr_plan_due(&pctx, due->v, due->n, &in, &plan) == 0 ? JR_STORE_OK : JR_STORE_RETRY;
    }
    if (rc == JR_STORE_OK) {
        rc = jr_stored_pack(plan, pubs, &out) == 0 ? JR_STORE_OK : JR_STORE_RETRY;
    }
    if (rc == JR_STORE_OK) {
        rc = jr_stored_write(store, &out, &groups);
    }
    if (rc == JR_STORE_OK) {
        seq = plan->last_seq;
        rc = jr_groups_settle(store, ctx, &groups, &seq, pubs, &suggested);
    }
    if (rc == JR_STORE_OK) {
        *sent = plan->n_notices;
        *last_seq = seq;
    }
    jr_groups_touched_clear(&groups);
    jr_stored_out_clear(&out);
    jr_plan_destroy(&plan);
    jr_stored_clear(&stored);
    jr_stored_keys_clear(&decided);
    jr_store_rows_clear(&rows);
    return rc;
}

void jr_due_pass_reset(jr_due_pass_t *pass)
{
    pass->today = JR_DAY_NONE;
    pass->after.on = JR_DAY_NONE;
    pass->after.nhs[0] = '\0';
}

int jr_due_check(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_due_pass_t *pass,
                 uint64_t *last_seq, jr_publications_t *pubs, size_t *sent, size_t *persons,
                 bool *more)
{
    *sent = 0;
    *persons = 0;
    *more = false;
    if (pass->today != ctx->today) {
        jr_due_pass_reset(pass); /* a new pass, or a new day: from the first key */
        pass->today = ctx->today;
    }
    jr_stored_page_t *due = calloc(1, sizeof *due);
    if (due == NULL) {
        jr_due_pass_reset(pass);
        return JR_STORE_RETRY;
    }
    jr_store_due_key_t after = pass->after;
    uint64_t seq = *last_seq;
    size_t pubs_before = pubs->n, round_sent = 0, count = 0;
    int rc = jr_store_pg_begin(store);
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_schedule_due(store, ctx->today, &after, JR_DUE_ROUND, jr_stored_page_add,
                                      due, &count);
    }
    if (rc == JR_STORE_OK && due->n > 0) {
        rc = due_round(store, ctx, due, &seq, pubs, &round_sent);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_commit(store);
    }
    if (rc == JR_STORE_OK) {
        *last_seq = seq;
        *sent = round_sent;
        *persons = due->n;
        *more = due->n == JR_DUE_ROUND;
        pass->after = after;
    } else {
        jr_store_pg_rollback(store);
        jr_publications_truncate(pubs, pubs_before);
    }
    if (!*more) {
        jr_due_pass_reset(pass); /* the pass is over, or failed: the next starts afresh */
    }
    free(due);
    return rc;
}
