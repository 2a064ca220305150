/* batch.c -- see batch.h. */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"
#include "log.h"
#include "grow.h"
#include "strmap.h"

/* ---- the read step ---- */

/* Everything the planner is given, and what it borrows. */
typedef struct {
    jr_plan_event_t *envelopes; /* the items that decoded, in arrival order */
    size_t *item;               /* envelope -> its item */
    bool *stored_before;
    size_t n_envelopes;
    jr_strmap_t keys; /* "stream\x1fsource_event_id" stored */
    jr_link_t *links;
    size_t n_links, cap_links;
    jr_store_rows_t parked_rows, person_rows;
    jr_stored_t parked, history;
    jr_plan_stored_t *stored; /* parked then history */
    size_t n_stored;
    jr_strmap_t named; /* persons involved: nhs -> position in names */
    const char **names;
    size_t n_names, cap_names;
    jr_plan_cycle_t *persons;
    size_t n_persons, cap_persons;
    jr_stored_keys_t decided;
    int failed; /* out of memory in a callback */
} batch_read_t;

static void read_clear(batch_read_t *rd)
{
    free(rd->envelopes);
    free(rd->item);
    free(rd->stored_before);
    jr_strmap_clear(&rd->keys);
    free(rd->links);
    jr_stored_clear(&rd->parked);
    jr_stored_clear(&rd->history);
    jr_store_rows_clear(&rd->parked_rows);
    jr_store_rows_clear(&rd->person_rows);
    free(rd->stored);
    jr_strmap_clear(&rd->named);
    free(rd->names);
    free(rd->persons);
    jr_stored_keys_clear(&rd->decided);
    memset(rd, 0, sizeof *rd);
}

static void event_key(char *out, size_t len, const char *stream, const char *seid)
{
    snprintf(out, len, "%s\x1f%s", stream, seid);
}

enum { KEY_MAX = JR_STREAM_CODE_MAX + JR_SOURCE_EVENT_ID_MAX + 2 };

static void on_existing(void *arg, const char *stream, const char *seid)
{
    batch_read_t *rd = arg;
    char key[KEY_MAX];
    bool added;
    event_key(key, sizeof key, stream, seid);
    rd->failed |= jr_strmap_put(&rd->keys, key, 0, &added) != 0;
}

static void on_link(void *arg, const jr_link_t *link)
{
    batch_read_t *rd = arg;
    jr_link_t *v = jr_grow(rd->links, &rd->cap_links, rd->n_links, sizeof *v);
    if (v == NULL) {
        rd->failed = 1;
        return;
    }
    rd->links = v;
    rd->links[rd->n_links++] = *link;
}

static void on_person(void *arg, const char *nhs, uint32_t cycle)
{
    batch_read_t *rd = arg;
    jr_plan_cycle_t *v = jr_grow(rd->persons, &rd->cap_persons, rd->n_persons, sizeof *v);
    if (v == NULL) {
        rd->failed = 1;
        return;
    }
    rd->persons = v;
    jr_plan_cycle_t *p = &rd->persons[rd->n_persons++];
    snprintf(p->nhs, sizeof p->nhs, "%s", nhs);
    p->cycle = cycle;
}

/* The person is involved in the batch (named, or reached through a link). */
static int name_add(batch_read_t *rd, const char *nhs)
{
    bool added = false;
    if (jr_strmap_put(&rd->named, nhs, rd->n_names, &added) != 0) {
        return -1;
    }
    if (added) {
        const char **v = jr_grow(rd->names, &rd->cap_names, rd->n_names, sizeof *v);
        if (v == NULL) {
            return -1;
        }
        rd->names = v;
        rd->names[rd->n_names++] = nhs;
    }
    return 0;
}

/* The identifier keys an event names (up to two) appended to out. */
static size_t id_keys(const jr_plan_event_t *e, jr_link_t *out)
{
    size_t l = 0;
    if (e->nino != NULL) {
        memset(&out[l], 0, sizeof out[l]);
        out[l].kind = JR_LINK_NINO;
        snprintf(out[l++].value, sizeof out[0].value, "%s", e->nino);
    }
    if (e->local_id != NULL) {
        memset(&out[l], 0, sizeof out[l]);
        out[l].kind = JR_LINK_LOCAL;
        snprintf(out[l].stream, sizeof out[0].stream, "%s", e->event.stream);
        snprintf(out[l++].value, sizeof out[0].value, "%s", e->local_id);
    }
    return l;
}

/* Stored links of the identifiers events[0..n) name (enrolments alone when
 * `enrolments`), or the parked events they may release (`parked`). */
static int read_by_ids(jr_store_pg_t *store, batch_read_t *rd, const jr_plan_event_t *events,
                       size_t n, bool enrolments, jr_store_rows_t *parked)
{
    jr_link_t *keys = calloc(2 * n + 1, sizeof *keys);
    if (keys == NULL) {
        return JR_STORE_RETRY;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!enrolments || (events[i].event.kind == JR_EVENT_ENROLMENT && events[i].nhs != NULL)) {
            k += id_keys(&events[i], &keys[k]);
        }
    }
    int rc = JR_STORE_OK;
    if (k > 0 && parked != NULL) {
        rc = jr_store_pg_parked_many(store, keys, k, parked);
    } else if (k > 0) {
        rc = jr_store_pg_links_many(store, keys, k, on_link, rd);
    }
    free(keys);
    return rc;
}

/* The envelopes that decoded, as the planner sees them, and whether each
 * one's key is stored. */
static int read_envelopes(jr_store_pg_t *store, batch_read_t *rd, const jr_batch_item_t *items,
                          size_t n)
{
    rd->envelopes = calloc(n + 1, sizeof *rd->envelopes);
    rd->item = calloc(n + 1, sizeof *rd->item);
    rd->stored_before = calloc(n + 1, sizeof *rd->stored_before);
    const char **streams = calloc(n + 1, sizeof *streams);
    const char **seids = calloc(n + 1, sizeof *seids);
    int rc = JR_STORE_RETRY;
    if (rd->envelopes != NULL && rd->item != NULL && rd->stored_before != NULL && streams != NULL &&
        seids != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (items[i].decoded) {
                size_t k = rd->n_envelopes++;
                rd->envelopes[k] = jr_stored_event_of(&items[i].ev);
                rd->item[k] = i;
                streams[k] = items[i].ev.event.stream;
                seids[k] = items[i].ev.event.source_event_id;
            }
        }
        rc = rd->n_envelopes > 0
                 ? jr_store_pg_exists_many(store, streams, seids, rd->n_envelopes, on_existing, rd)
                 : JR_STORE_OK;
    }
    for (size_t k = 0; rc == JR_STORE_OK && k < rd->n_envelopes; k++) {
        char key[KEY_MAX];
        event_key(key, sizeof key, streams[k], seids[k]);
        rd->stored_before[k] = jr_strmap_get(&rd->keys, key) != NULL;
    }
    free(streams);
    free(seids);
    return rc;
}

/* Every person the batch's envelopes and the parked events they may
 * release can reach: their cycles, events and decided notices. */
static int read_persons(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, batch_read_t *rd)
{
    for (size_t i = 0; i < rd->n_envelopes; i++) {
        if (rd->envelopes[i].nhs != NULL && name_add(rd, rd->envelopes[i].nhs) != 0) {
            return JR_STORE_RETRY;
        }
    }
    for (size_t i = 0; i < rd->n_links; i++) {
        if (name_add(rd, rd->links[i].nhs) != 0) {
            return JR_STORE_RETRY;
        }
    }
    if (rd->n_names == 0) {
        return JR_STORE_OK;
    }
    int rc = jr_store_pg_persons_read(store, rd->names, rd->n_names, on_person, rd);
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_persons_events(store, rd->names, rd->n_names, &rd->person_rows);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_notice_keys(store, rd->names, rd->n_names, jr_stored_keys_on_notice,
                                     &rd->decided);
    }
    if (rc == JR_STORE_OK && jr_stored_decode(&rd->history, ctx->streams, rd->person_rows.rows,
                                              rd->person_rows.n) != 0) {
        rc = JR_STORE_RETRY;
    }
    return rc;
}

/* The read step: everything the planner needs, in a handful of statements. */
static int read_batch(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, const jr_batch_item_t *items,
                      size_t n, batch_read_t *rd)
{
    int rc = read_envelopes(store, rd, items, n);
    if (rc == JR_STORE_OK) {
        rc = read_by_ids(store, rd, rd->envelopes, rd->n_envelopes, false, NULL);
    }
    if (rc == JR_STORE_OK) {
        rc = read_by_ids(store, rd, rd->envelopes, rd->n_envelopes, true, &rd->parked_rows);
    }
    if (rc == JR_STORE_OK && rd->parked_rows.n > 0) {
        if (jr_stored_decode(&rd->parked, ctx->streams, rd->parked_rows.rows, rd->parked_rows.n) !=
            0) {
            return JR_STORE_RETRY;
        }
        jr_plan_event_t *ev = calloc(rd->parked.n + 1, sizeof *ev);
        if (ev == NULL) {
            return JR_STORE_RETRY;
        }
        for (size_t i = 0; i < rd->parked.n; i++) {
            ev[i] = rd->parked.v[i].ev;
        }
        rc = read_by_ids(store, rd, ev, rd->parked.n, false, NULL);
        free(ev);
    }
    if (rc == JR_STORE_OK) {
        rc = read_persons(store, ctx, rd);
    }
    if (rc == JR_STORE_OK) {
        rd->stored = calloc(rd->parked.n + rd->history.n + 1, sizeof *rd->stored);
        if (rd->stored == NULL) {
            return JR_STORE_RETRY;
        }
        for (size_t i = 0; i < rd->parked.n; i++) {
            rd->stored[rd->n_stored++] = rd->parked.v[i];
        }
        for (size_t i = 0; i < rd->history.n; i++) {
            rd->stored[rd->n_stored++] = rd->history.v[i];
        }
    }
    return rc == JR_STORE_OK && (rd->failed || rd->decided.failed) ? JR_STORE_RETRY : rc;
}

/* ---- the write step ---- */

static void set_outcome(jr_batch_item_t *it, jr_ack_status_t status, const char *code,
                        const char *reason)
{
    it->status = status;
    it->code = code;
    snprintf(it->reason, sizeof it->reason, "%s", reason ? reason : "");
}

static jr_ack_status_t ack_of(jr_plan_status_t s)
{
    switch (s) {
    case JR_PLAN_OK:
        break;
    case JR_PLAN_DUPLICATE:
        return JR_ACK_DUPLICATE;
    case JR_PLAN_PARKED:
        return JR_ACK_PARKED;
    case JR_PLAN_REJECTED:
        return JR_ACK_REJECTED;
    }
    return JR_ACK_OK;
}

static const char *kind_name(jr_event_kind_t k)
{
    switch (k) {
    case JR_EVENT_ENROLMENT:
        return "ENROLMENT";
    case JR_EVENT_CONTRIBUTION:
        return "CONTRIBUTION";
    case JR_EVENT_REVIEW_HELD:
        return "REVIEW_HELD";
    case JR_EVENT_PLAN_REVISION:
        return "PLAN_REVISION";
    case JR_EVENT_PREFERENCES:
        return "PREFERENCES";
    case JR_EVENT_BUDGET:
        return "BUDGET";
    }
    return "?";
}

/* Every item's outcome; refused input is kept (rejected_event). */
static int write_outcomes(jr_store_pg_t *store, const batch_read_t *rd, const jr_plan_t *plan,
                          jr_batch_item_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!items[i].decoded) {
            set_outcome(&items[i], JR_ACK_REJECTED, items[i].why.code, items[i].why.text);
        }
    }
    for (size_t k = 0; k < rd->n_envelopes; k++) {
        const jr_plan_outcome_t *o = &plan->outcomes[k];
        set_outcome(&items[rd->item[k]], ack_of(o->status), o->code, o->reason);
    }
    int rc = JR_STORE_OK;
    for (size_t i = 0; rc == JR_STORE_OK && i < n; i++) {
        const jr_batch_item_t *it = &items[i];
        if (it->status == JR_ACK_REJECTED) {
            const char *stream = it->decoded ? it->ev.event.stream : it->stream;
            const char *seid = it->decoded ? it->ev.event.source_event_id : it->seid;
            rc = jr_store_pg_rejected_add(store, it->sender, stream, seid, it->code, it->reason,
                                          it->raw, it->raw_len);
        }
    }
    return rc;
}

/* The event log's new rows, in arrival order. */
static jr_store_event_row_t *event_rows(const batch_read_t *rd, const jr_plan_t *plan,
                                        const jr_batch_item_t *items)
{
    jr_store_event_row_t *rows = calloc(plan->n_rows + 1, sizeof *rows);
    for (size_t i = 0; rows != NULL && i < plan->n_rows; i++) {
        const jr_plan_row_t *r = &plan->rows[i];
        const jr_plan_event_t *e = &rd->envelopes[r->envelope];
        const jr_batch_item_t *it = &items[rd->item[r->envelope]];
        rows[i] = (jr_store_event_row_t){
            .stream = e->event.stream,
            .seid = e->event.source_event_id,
            .kind = kind_name(e->event.kind),
            .occurred_at_ms = e->event.occurred_at_ms,
            .sender = it->sender,
            .nhs = r->nhs[0] ? r->nhs : NULL,
            .nino = e->nino,
            .local_id = e->local_id,
            .cycle = r->cycle,
            .seq = r->seq,
            .envelope = it->raw,
            .envelope_len = it->raw_len,
        };
    }
    return rows;
}

/* The persons new to the log, so that their events, links and records can
 * name them. */
static int write_persons(jr_store_pg_t *store, const jr_plan_t *plan)
{
    if (plan->n_new_persons == 0) {
        return JR_STORE_OK;
    }
    const char **nhs = calloc(plan->n_new_persons, sizeof *nhs);
    if (nhs == NULL) {
        return JR_STORE_RETRY;
    }
    for (size_t i = 0; i < plan->n_new_persons; i++) {
        nhs[i] = plan->new_persons[i].nhs;
    }
    int rc = jr_store_pg_persons_add(store, nhs, plan->n_new_persons);
    free(nhs);
    return rc;
}

/* Released parked events, the links enrolments add, and cycles moved on by
 * a review held. */
static int write_changes(jr_store_pg_t *store, const batch_read_t *rd, const jr_plan_t *plan)
{
    size_t most = plan->n_releases + plan->n_links + plan->n_cycles + 1;
    jr_store_assign_t *assign = calloc(most, sizeof *assign);
    jr_link_t *links = calloc(most, sizeof *links);
    const char **a = calloc(most, sizeof *a), **b = calloc(most, sizeof *b);
    uint32_t *cycles = calloc(most, sizeof *cycles);
    int rc = JR_STORE_RETRY;
    if (assign == NULL || links == NULL || a == NULL || b == NULL || cycles == NULL) {
        goto done;
    }
    rc = JR_STORE_OK;
    if (plan->n_releases > 0) {
        for (size_t i = 0; i < plan->n_releases; i++) {
            const jr_plan_release_t *r = &plan->releases[i];
            assign[i] = (jr_store_assign_t){r->id, r->nhs, r->cycle, r->seq};
        }
        rc = jr_store_pg_events_assign(store, assign, plan->n_releases);
        jr_log(JR_LOG_INFO, "batch", "released %zu parked event(s) to their persons",
               plan->n_releases);
    }
    if (rc == JR_STORE_OK && plan->n_links > 0) {
        for (size_t i = 0; i < plan->n_links; i++) {
            const jr_plan_event_t *by = &rd->envelopes[plan->links[i].envelope];
            links[i] = plan->links[i].link;
            a[i] = by->event.stream;
            b[i] = by->event.source_event_id;
        }
        rc = jr_store_pg_links_add_many(store, links, a, b, plan->n_links);
    }
    if (rc == JR_STORE_OK && plan->n_cycles > 0) {
        for (size_t i = 0; i < plan->n_cycles; i++) {
            a[i] = plan->cycles[i].nhs;
            cycles[i] = plan->cycles[i].cycle;
        }
        rc = jr_store_pg_persons_set_cycles(store, a, cycles, plan->n_cycles);
    }
done:
    free(assign);
    free(links);
    free(a);
    free(b);
    free(cycles);
    return rc;
}

/* The write step. The events go to the log while the records and notices
 * are packed: PostgreSQL writes the COPY on one core while the daemon packs
 * on the other. Then the groups the persons' due rows join or leave;
 * *last_seq is the last publication once written. */
static int write_plan(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, const batch_read_t *rd,
                      const jr_plan_t *plan, jr_batch_item_t *items, size_t n,
                      jr_publications_t *pubs, uint64_t *last_seq)
{
    jr_stored_out_t out = {0};
    jr_groups_touched_t groups = {0};
    size_t suggested = 0;
    *last_seq = plan->last_seq;
    jr_store_event_row_t *rows = event_rows(rd, plan, items);
    int rc = rows != NULL ? write_outcomes(store, rd, plan, items, n) : JR_STORE_RETRY;
    if (rc == JR_STORE_OK) {
        rc = write_persons(store, plan);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_events_copy_send(store, rows, plan->n_rows);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_stored_pack(plan, pubs, &out) == 0 ? JR_STORE_OK : JR_STORE_RETRY;
        int copied = jr_store_pg_events_copy_end(store);
        rc = rc == JR_STORE_OK ? copied : rc;
    }
    if (rc == JR_STORE_OK) {
        rc = write_changes(store, rd, plan);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_stored_write(store, &out, &groups);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_groups_settle(store, ctx, &groups, last_seq, pubs, &suggested);
    }
    jr_groups_touched_clear(&groups);
    jr_stored_out_clear(&out);
    free(rows);
    return rc;
}

/* Ends a transaction: commits when everything before went well (rc), else
 * rolls back and drops the publications added since `before`, which then
 * never happened. Returns the outcome. */
static int commit_or_undo(jr_store_pg_t *store, int rc, jr_publications_t *pubs, size_t before)
{
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_commit(store);
    }
    if (rc != JR_STORE_OK) {
        jr_store_pg_rollback(store);
        jr_publications_truncate(pubs, before);
    }
    return rc;
}

/* The whole batch in one transaction: read, plan, write. */
static int write_once(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_batch_item_t *items,
                      size_t n, uint64_t *last_seq, jr_publications_t *pubs)
{
    batch_read_t rd = {0};
    jr_plan_t *plan = NULL;
    size_t pubs_before = pubs->n;
    uint64_t seq = *last_seq;
    int rc = jr_store_pg_begin(store);
    if (rc == JR_STORE_OK) {
        rc = read_batch(store, ctx, items, n, &rd);
    }
    if (rc == JR_STORE_OK) {
        jr_plan_ctx_t pctx = jr_stored_plan_ctx(ctx, *last_seq);
        jr_plan_input_t in = {
            .envelopes = rd.envelopes,
            .n_envelopes = rd.n_envelopes,
            .stored_before = rd.stored_before,
            .stored = rd.stored,
            .n_stored = rd.n_stored,
            .persons = rd.persons,
            .n_persons = rd.n_persons,
            .links = rd.links,
            .n_links = rd.n_links,
            .decided = (const char *const *)rd.decided.keys,
            .n_decided = rd.decided.n,
        };
        rc = jr_plan_batch(&pctx, &in, &plan) == 0 ? JR_STORE_OK : JR_STORE_RETRY;
    }
    if (rc == JR_STORE_OK) {
        rc = write_plan(store, ctx, &rd, plan, items, n, pubs, &seq);
    }
    rc = commit_or_undo(store, rc, pubs, pubs_before);
    if (rc == JR_STORE_OK) {
        *last_seq = seq;
    }
    jr_plan_destroy(&plan);
    read_clear(&rd);
    return rc;
}

static void retry_later(jr_batch_item_t *it)
{
    set_outcome(it, JR_ACK_RETRY_LATER, "STORE_UNAVAILABLE",
                "the daemon cannot store events right now: resend later");
}

/* An envelope the database refused on its own: kept and rejected alone. */
static void refused_alone(jr_store_pg_t *store, jr_batch_item_t *it)
{
    char reason[JR_PLAN_REASON_MAX];
    snprintf(reason, sizeof reason,
             "the database refused this event (%.200s): correct it and resend",
             jr_store_pg_error(store));
    set_outcome(it, JR_ACK_REJECTED, "STORE_REFUSED", reason);
    if (jr_store_pg_begin(store) == JR_STORE_OK &&
        jr_store_pg_rejected_add(store, it->sender, it->stream, it->seid, it->code, it->reason,
                                 it->raw, it->raw_len) == JR_STORE_OK &&
        jr_store_pg_commit(store) == JR_STORE_OK) {
        return;
    }
    jr_store_pg_rollback(store);
    retry_later(it);
}

int jr_batch_write(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_batch_item_t *items,
                   size_t n, uint64_t *last_seq, jr_publications_t *pubs)
{
    int rc = write_once(store, ctx, items, n, last_seq, pubs);
    if (rc == JR_STORE_DATA && n > 1) {
        /* Find the envelope the database refused: one per transaction. */
        jr_log(JR_LOG_WARNING, "batch", "batch of %zu refused (%s); writing one at a time", n,
               jr_store_pg_error(store));
        for (size_t i = 0; i < n; i++) {
            int one = write_once(store, ctx, &items[i], 1, last_seq, pubs);
            if (one == JR_STORE_DATA) {
                refused_alone(store, &items[i]);
            } else if (one != JR_STORE_OK) {
                for (size_t j = i; j < n; j++) {
                    retry_later(&items[j]);
                }
                return one;
            }
        }
        return JR_STORE_OK;
    }
    if (rc == JR_STORE_DATA) {
        refused_alone(store, &items[0]);
        return JR_STORE_OK;
    }
    for (size_t i = 0; rc != JR_STORE_OK && i < n; i++) {
        retry_later(&items[i]);
    }
    return rc;
}
