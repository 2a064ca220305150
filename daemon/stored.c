/* stored.c -- see stored.h. */
#include "stored.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"
#include "log.h"
#include "record.h"

#define TOPIC_REVIEW "review"

/* Stored events were validated on the way in; decode them without the
 * clock-dependent check, so that a replay never depends on today. */
static const jr_envelope_limits_t g_stored_limits = {
    .max_text_bytes = 1 << 20,
    .now_ms = INT64_MAX / 4,
    .future_tolerance_ms = 0,
};

jr_plan_ctx_t jr_stored_plan_ctx(const jr_batch_ctx_t *ctx, uint64_t last_seq)
{
    return (jr_plan_ctx_t){ctx->streams, ctx->rules, ctx->today, last_seq};
}

/* ---- publications ---- */

int jr_publications_add(jr_publications_t *pubs, uint64_t seq, const char *topic, uint8_t *payload,
                        size_t len)
{
    if (pubs->n == pubs->cap) {
        size_t cap = pubs->cap ? 2 * pubs->cap : 64;
        jr_publication_t *items = realloc(pubs->items, cap * sizeof *items);
        if (items == NULL) {
            return -1;
        }
        pubs->items = items;
        pubs->cap = cap;
    }
    jr_publication_t *p = &pubs->items[pubs->n++];
    p->seq = seq;
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    p->payload = payload;
    p->len = len;
    return 0;
}

void jr_publications_truncate(jr_publications_t *pubs, size_t keep)
{
    for (size_t i = keep; i < pubs->n; i++) {
        free(pubs->items[i].payload);
    }
    if (keep < pubs->n) {
        pubs->n = keep;
    }
}

void jr_publications_clear(jr_publications_t *pubs)
{
    jr_publications_truncate(pubs, 0);
    free(pubs->items);
    memset(pubs, 0, sizeof *pubs);
}

/* ---- the read step ---- */

jr_plan_event_t jr_stored_event_of(const jr_envelope_t *e)
{
    return (jr_plan_event_t){
        .event = e->event,
        .nhs = e->nhs[0] ? e->nhs : NULL,
        .nino = e->nino[0] ? e->nino : NULL,
        .local_id = e->local_id,
    };
}

int jr_stored_decode(jr_stored_t *out, const jr_streams_t *streams, const jr_store_row_t *rows,
                     size_t n)
{
    memset(out, 0, sizeof *out);
    out->dec = calloc(n + 1, sizeof *out->dec);
    out->v = calloc(n + 1, sizeof *out->v);
    if (out->dec == NULL || out->v == NULL) {
        jr_stored_clear(out);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const jr_store_row_t *r = &rows[i];
        jr_envelope_t *e = &out->dec[out->n];
        jr_reject_t why;
        if (jr_envelope_decode(r->envelope, r->envelope_len, streams, &g_stored_limits, e, &why,
                               NULL, NULL) != 0) {
            jr_log(JR_LOG_WARNING, "stored", "stored event %lld left out: %s", (long long)r->id,
                   why.text);
            continue;
        }
        jr_plan_stored_t *s = &out->v[out->n++];
        s->id = r->id;
        snprintf(s->nhs, sizeof s->nhs, "%s", r->nhs);
        s->cycle = r->cycle;
        s->seq = r->seq;
        s->ev = jr_stored_event_of(e);
    }
    return 0;
}

void jr_stored_clear(jr_stored_t *s)
{
    for (size_t i = 0; s->dec != NULL && i < s->n; i++) {
        jr_envelope_clear(&s->dec[i]);
    }
    free(s->dec);
    free(s->v);
    memset(s, 0, sizeof *s);
}

void jr_stored_keys_on_notice(void *ctx, const char *nhs, uint32_t cycle, const char *key)
{
    jr_stored_keys_t *k = ctx;
    if (k->failed) {
        return;
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 64;
        char **keys = realloc(k->keys, cap * sizeof *keys);
        if (keys == NULL) {
            k->failed = 1;
            return;
        }
        k->keys = keys;
        k->cap = cap;
    }
    char buf[96];
    jr_plan_notice_key(buf, sizeof buf, nhs, cycle, key);
    if ((k->keys[k->n] = strdup(buf)) == NULL) {
        k->failed = 1;
        return;
    }
    k->n++;
}

void jr_stored_keys_clear(jr_stored_keys_t *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->keys[i]);
    }
    free(k->keys);
    memset(k, 0, sizeof *k);
}

int jr_stored_page_add(void *ctx, const char *nhs, uint32_t cycle)
{
    jr_stored_page_t *p = ctx;
    if (p->n < JR_STORED_PAGE) {
        snprintf(p->v[p->n].nhs, sizeof p->v[0].nhs, "%s", nhs);
        p->v[p->n++].cycle = cycle;
    }
    return JR_STORE_OK;
}

/* ---- the write step ---- */

jr_store_review_t jr_stored_review_row(const jr_plan_record_t *r, const uint8_t *record, size_t len)
{
    const jr_review_t *rv = r->review;
    jr_store_review_t row = {
        .nhs = r->nhs,
        .cycle = r->cycle,
        .version = r->version,
        .seq = r->seq,
        .ready = rv->ready_for_sign_off,
        .held_on = rv->review_held ? rv->review_held->u.review_held.held_on : JR_DAY_NONE,
        .record = record,
        .record_len = len,
    };
    for (size_t i = 0; i < rv->n_streams && i < JR_STREAMS_MAX; i++) {
        row.enrolled[row.n_enrolled] = rv->streams[i].stream->code;
        row.complete[row.n_enrolled++] = rv->streams[i].missing == 0;
    }
    for (size_t i = 0; i < JR_AREA_COUNT; i++) {
        row.area_priority[i] = rv->areas[i].priority;
        row.area_conflict[i] = rv->areas[i].conflict;
    }
    row.as_of = rv->as_of;
    row.called = rv->called;
    if (rv->preferences != NULL) {
        const jr_preferences_t *p = &rv->preferences->u.preferences;
        row.way = jr_way_code(p->way);
        for (int k = JR_NEED_LARGE_PRINT; k <= JR_NEED_LAST; k++) {
            if (p->needs & JR_NEED_BIT(k)) {
                row.needs[row.n_needs++] = jr_need_code((jr_need_t)k);
            }
        }
    }
    for (size_t i = 0; i < rv->n_budgets && i < JR_STREAMS_MAX; i++) {
        const jr_budget_t *b = &rv->budgets[i].statement->u.budget;
        row.budget_streams[row.n_budgets] = rv->budgets[i].stream->code;
        row.budget_allocated[row.n_budgets] = b->allocated_pence;
        row.budget_spent[row.n_budgets++] = b->spent_pence;
    }
    const jr_schedule_t *m = r->meeting;
    for (size_t i = 0; m != NULL && rv->review_held != NULL && i < m->n_streams; i++) {
        const jr_stream_due_t *d = &m->streams[i];
        if (d->covered && row.n_held < JR_STREAMS_MAX) {
            row.held_streams[row.n_held] = d->stream->code;
            row.held_by_due[row.n_held++] = d->due == JR_DAY_NONE || row.held_on <= d->due;
        }
    }
    return row;
}

jr_store_schedule_t jr_stored_due_row(const jr_plan_due_t *d)
{
    jr_store_schedule_t row = {
        .nhs = d->nhs,
        .cycle = d->cycle,
        .review_on = d->review_on,
        .lead = d->lead != NULL ? d->lead->code : NULL,
        .n_covered = d->n_covered,
        .next_check_on = d->next_check_on,
        .separate_meetings = d->separate_meetings,
        .group_key = d->group_key,
    };
    for (size_t i = 0; i < d->n_covered; i++) {
        row.covered[i] = d->covered[i]->code;
    }
    return row;
}

/* The streams a notice's schedule covers (codes, borrowed). */
static size_t covered_codes(const jr_schedule_t *sched, const char **codes)
{
    size_t n = 0;
    for (size_t i = 0; i < sched->n_streams && n < JR_STREAMS_MAX; i++) {
        if (sched->streams[i].covered) {
            codes[n++] = sched->streams[i].stream->code;
        }
    }
    return n;
}

int jr_stored_pack(const jr_plan_t *plan, jr_publications_t *pubs, jr_stored_out_t *out)
{
    size_t before = pubs->n;
    memset(out, 0, sizeof *out);
    out->records = calloc(plan->n_records + 1, sizeof *out->records);
    out->notices = calloc(plan->n_notices + 1, sizeof *out->notices);
    out->topics = calloc(plan->n_notices + 1, sizeof *out->topics);
    out->due = calloc(plan->n_due + 1, sizeof *out->due);
    if (out->records == NULL || out->notices == NULL || out->topics == NULL || out->due == NULL) {
        goto fail;
    }
    for (size_t i = 0; i < plan->n_records; i++) {
        const jr_plan_record_t *r = &plan->records[i];
        jr_record_id_t id = {r->nhs, r->cycle, r->version, r->seq};
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (jr_record_encode_review(r->review, r->schedule, r->meeting, &id, &bytes, &len) != 0) {
            goto fail;
        }
        if (jr_publications_add(pubs, r->seq, TOPIC_REVIEW, bytes, len) != 0) {
            free(bytes);
            goto fail;
        }
        out->records[out->n_records++] = jr_stored_review_row(r, bytes, len);
    }
    for (size_t i = 0; i < plan->n_notices; i++) {
        const jr_plan_notice_t *nt = &plan->notices[i];
        const jr_schedule_t *sched = nt->schedule;
        jr_record_id_t id = {nt->nhs, nt->cycle, 0, nt->seq};
        uint8_t *bytes = NULL;
        size_t len = 0;
        jr_record_notice_topic(&nt->notice, sched, out->topics[i], sizeof out->topics[i]);
        if (jr_record_encode_notice(&nt->notice, sched, nt->review, &id, &bytes, &len) != 0) {
            goto fail;
        }
        if (jr_publications_add(pubs, nt->seq, out->topics[i], bytes, len) != 0) {
            free(bytes);
            goto fail;
        }
        jr_store_notice_t *row = &out->notices[out->n_notices++];
        *row = (jr_store_notice_t){
            .nhs = nt->nhs,
            .cycle = nt->cycle,
            .key = nt->notice.key,
            .kind = nt->notice.kind,
            .notice_on = nt->notice.on,
            .review_on = sched->review_on,
            .lead = sched->lead != NULL ? sched->lead->code : NULL,
            .seq = nt->seq,
            .topic = out->topics[i],
            .payload = bytes, /* owned by pubs */
            .payload_len = len,
        };
        row->n_covered = covered_codes(sched, row->covered);
    }
    for (size_t i = 0; i < plan->n_due; i++) {
        out->due[out->n_due++] = jr_stored_due_row(&plan->due[i]);
    }
    return 0;
fail:
    jr_publications_truncate(pubs, before);
    jr_stored_out_clear(out);
    return -1;
}

static void on_left(void *ctx, const char *lead, const char *group_key)
{
    jr_groups_touch(ctx, lead, group_key);
}

int jr_stored_write(jr_store_pg_t *store, const jr_stored_out_t *out, jr_groups_touched_t *groups)
{
    int rc = JR_STORE_OK;
    if (out->n_records > 0) {
        rc = jr_store_pg_publish_records(store, out->records, out->n_records);
    }
    if (rc == JR_STORE_OK && out->n_notices > 0) {
        rc = jr_store_pg_notices_add(store, out->notices, out->n_notices);
    }
    if (rc == JR_STORE_OK && out->n_due > 0) {
        rc = jr_store_pg_schedules_put(store, out->due, out->n_due, groups ? on_left : NULL,
                                       groups);
    }
    for (size_t i = 0; groups != NULL && i < out->n_due; i++) {
        if (out->due[i].group_key != NULL) {
            jr_groups_touch(groups, out->due[i].lead, out->due[i].group_key);
        }
    }
    return groups != NULL && groups->failed && rc == JR_STORE_OK ? JR_STORE_RETRY : rc;
}

void jr_stored_out_clear(jr_stored_out_t *out)
{
    free(out->records);
    free(out->notices);
    free(out->topics);
    free(out->due);
    memset(out, 0, sizeof *out);
}
