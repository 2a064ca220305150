/* due.c -- see due.h. */
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

int jr_due_check(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, uint64_t *last_seq,
                 jr_publications_t *pubs, size_t *sent, size_t *persons, bool *more)
{
    *sent = 0;
    *persons = 0;
    *more = false;
    jr_stored_page_t *due = calloc(1, sizeof *due);
    if (due == NULL) {
        return JR_STORE_RETRY;
    }
    uint64_t seq = *last_seq;
    size_t pubs_before = pubs->n, round_sent = 0, count = 0;
    int rc = jr_store_pg_begin(store);
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_schedule_due(store, ctx->today, JR_DUE_ROUND, jr_stored_page_add, due,
                                      &count);
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
    } else {
        jr_store_pg_rollback(store);
        jr_publications_truncate(pubs, pubs_before);
    }
    free(due);
    return rc;
}
