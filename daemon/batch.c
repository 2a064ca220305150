/* batch.c -- see batch.h. */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "log.h"
#include "merge.h"

#define TOPIC_REVIEW "review"

void jr_publications_clear(jr_publications_t *pubs)
{
    for (size_t i = 0; i < pubs->n; i++) {
        free(pubs->items[i].payload);
    }
    free(pubs->items);
    memset(pubs, 0, sizeof *pubs);
}

static int pubs_add(jr_publications_t *pubs, uint64_t seq, const char *topic, uint8_t *payload,
                    size_t len)
{
    if (pubs->n == pubs->cap) {
        size_t cap = pubs->cap ? pubs->cap * 2 : 16;
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

/* ---- one (person, cycle) merged from its stored events ---- */

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
    }
    return "?";
}

/* Stored events were validated on the way in; decode them without the
 * clock-dependent check so a replay never depends on today. */
static const jr_codec_limits_t g_stored_limits = {
    .max_text_bytes = 1 << 20,
    .now_ms = INT64_MAX / 4,
    .future_tolerance_ms = 0,
};

/* One (person, cycle) merged from the person's stored events. */
typedef struct {
    jr_store_rows_t rows;           /* read by compute() itself; empty otherwise */
    const jr_store_row_t *borrowed; /* the rows merged (rows.rows, or prefetched) */
    size_t n_borrowed;
    jr_codec_event_t *dec;
    jr_event_t *cycle_ev; /* contributions, plans, review held of this cycle */
    size_t n_cycle;
    jr_event_t *enrol; /* enrolments up to this cycle */
    size_t n_enrol;
    jr_event_t *sched_ev; /* enrolments and reviews held up to this cycle */
    size_t n_sched;
    jr_review_t *review;
    jr_schedule_t *schedule; /* as of the review's as_of date */
    uint32_t version;
    uint64_t seq;
    uint8_t *record;
    size_t len;
    char held_on[11];
} computed_t;

static void computed_clear(computed_t *c)
{
    for (size_t i = 0; c->dec != NULL && i < c->n_borrowed; i++) {
        jr_codec_event_clear(&c->dec[i]);
    }
    free(c->dec);
    free(c->cycle_ev);
    free(c->enrol);
    free(c->sched_ev);
    jr_merge_destroy(&c->review);
    jr_schedule_destroy(&c->schedule);
    free(c->record);
    jr_store_rows_clear(&c->rows);
    memset(c, 0, sizeof *c);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Merges (nhs, cycle) and packs its record. new_seq != 0: the cycle's
 * unpublished events are being published now as new_seq. new_seq == 0: the
 * version and sequence come from what is stored (rebuild, due check).
 * Returns JR_STORE_OK, 1 when the cycle has had no publication (no record;
 * the lists and review are still filled), or a store status. Caller clears
 * *out in every case. */
static int compute_rows(const jr_batch_ctx_t *ctx, const char *nhs, uint32_t cycle,
                        uint64_t new_seq, const jr_store_row_t *rows, size_t n, computed_t *out);

static int compute(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, const char *nhs, uint32_t cycle,
                   uint64_t new_seq, computed_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = jr_store_pg_person_events(store, nhs, &out->rows);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    return compute_rows(ctx, nhs, cycle, new_seq, out->rows.rows, out->rows.n, out);
}

/* As compute(), from the person's stored events already read (borrowed:
 * they must outlive *out). */
static int compute_rows(const jr_batch_ctx_t *ctx, const char *nhs, uint32_t cycle,
                        uint64_t new_seq, const jr_store_row_t *rows, size_t n, computed_t *out)
{
    out->borrowed = rows;
    out->n_borrowed = n;
    out->dec = calloc(n + 1, sizeof *out->dec);
    out->cycle_ev = calloc(n + 1, sizeof *out->cycle_ev);
    out->enrol = calloc(n + 1, sizeof *out->enrol);
    out->sched_ev = calloc(n + 1, sizeof *out->sched_ev);
    uint64_t *seqs = calloc(n + 1, sizeof *seqs);
    size_t n_seqs = 0;
    if (out->dec == NULL || out->cycle_ev == NULL || out->enrol == NULL || out->sched_ev == NULL ||
        seqs == NULL) {
        free(seqs);
        return JR_STORE_RETRY;
    }
    for (size_t i = 0; i < n; i++) {
        const jr_store_row_t *r = &rows[i];
        if (r->cycle > cycle) {
            continue;
        }
        if (r->cycle == cycle) {
            seqs[n_seqs++] = r->seq != 0 ? r->seq : new_seq;
        }
        jr_reject_t why;
        if (jr_codec_decode(r->envelope, r->envelope_len, ctx->streams, &g_stored_limits,
                            &out->dec[i], &why, NULL, NULL) != 0) {
            /* e.g. its stream has since been disabled in the configuration */
            jr_log(JR_LOG_WARNING, "batch", "stored event %lld left out of the merge: %s",
                   (long long)r->id, why.text);
            continue;
        }
        const jr_event_t *ev = &out->dec[i].event;
        if (ev->kind == JR_EVENT_ENROLMENT) {
            out->enrol[out->n_enrol++] = *ev;
            out->sched_ev[out->n_sched++] = *ev;
        } else if (ev->kind == JR_EVENT_REVIEW_HELD) {
            out->sched_ev[out->n_sched++] = *ev;
        }
        if (r->cycle == cycle && ev->kind != JR_EVENT_ENROLMENT) {
            out->cycle_ev[out->n_cycle++] = *ev;
        }
    }
    qsort(seqs, n_seqs, sizeof *seqs, cmp_u64);
    for (size_t i = 0; i < n_seqs; i++) {
        if (seqs[i] != 0 && (i == 0 || seqs[i] != seqs[i - 1])) {
            out->version++;
            out->seq = seqs[i];
        }
    }
    free(seqs);
    jr_merge_input_t in = {out->cycle_ev, out->n_cycle, out->enrol, out->n_enrol};
    out->review = jr_merge_review(&in, ctx->streams);
    if (out->review == NULL) {
        return JR_STORE_RETRY;
    }
    /* The record's schedule is as of its own date, so that it is a function
     * of the event log alone (and --rebuild reproduces it). */
    out->schedule = jr_schedule_compute(out->sched_ev, out->n_sched, ctx->streams, &ctx->rules,
                                        out->review->as_of);
    if (out->schedule == NULL) {
        return JR_STORE_RETRY;
    }
    if (out->version == 0) {
        return 1;
    }
    jr_record_id_t id = {nhs, cycle, out->version, out->seq};
    if (jr_codec_encode_review(out->review, out->schedule, &id, &out->record, &out->len) != 0) {
        return JR_STORE_RETRY;
    }
    if (out->review->review_held != NULL) {
        jr_text_format_date(out->review->review_held->u.review_held.held_on, out->held_on);
    }
    return JR_STORE_OK;
}

/* Appends ",CODE" (or "CODE" first) to an array literal being built. */
static void literal_add(char *out, size_t len, const char *item)
{
    size_t used = strlen(out);
    snprintf(out + used, len - used, "%s%s", used > 1 ? "," : "", item);
}

/* Writes a computed record. publish: also stamps the cycle's new events with
 * its sequence number and adds its outbox row, in the same round trip. */
static int store_computed(jr_store_pg_t *store, const char *nhs, uint32_t cycle,
                          const computed_t *c, bool publish)
{
    char enrolled[JR_STREAMS_MAX * JR_STREAM_CODE_MAX + 3] = "{";
    char complete[JR_STREAMS_MAX * JR_STREAM_CODE_MAX + 3] = "{";
    char priority[4 * JR_AREA_COUNT + 3] = "{";
    char conflict[4 * JR_AREA_COUNT + 3] = "{";
    for (size_t i = 0; i < c->review->n_streams; i++) {
        literal_add(enrolled, sizeof enrolled, c->review->streams[i].stream->code);
        if (c->review->streams[i].missing == 0) {
            literal_add(complete, sizeof complete, c->review->streams[i].stream->code);
        }
    }
    for (size_t i = 0; i < JR_AREA_COUNT; i++) {
        char num[4];
        snprintf(num, sizeof num, "%d", (int)c->review->areas[i].priority);
        literal_add(priority, sizeof priority, num);
        literal_add(conflict, sizeof conflict, c->review->areas[i].conflict ? "t" : "f");
    }
    strcat(enrolled, "}");
    strcat(complete, "}");
    strcat(priority, "}");
    strcat(conflict, "}");
    jr_store_review_t r = {
        .enrolled = enrolled,
        .complete_streams = complete,
        .area_priority = priority,
        .area_conflict = conflict,
        .nhs = nhs,
        .cycle = cycle,
        .version = c->version,
        .seq = c->seq,
        .ready = c->review->ready_for_sign_off,
        .held_on = c->held_on[0] ? c->held_on : NULL,
        .record = c->record,
        .record_len = c->len,
    };
    return publish ? jr_store_pg_publish_record(store, &r) : jr_store_pg_review_put(store, &r);
}

/* The covered streams as an array literal; returns how many of them set
 * their own date (the separate meetings they would otherwise need). */
static int covered_literal(const jr_schedule_t *sched, char *out, size_t len)
{
    int separate = 0;
    snprintf(out, len, "{");
    for (size_t i = 0; i < sched->n_streams; i++) {
        if (sched->streams[i].covered) {
            literal_add(out, len, sched->streams[i].stream->code);
            separate += sched->streams[i].drives;
        }
    }
    size_t used = strlen(out);
    snprintf(out + used, len - used, "}");
    return separate;
}

/* The person's row in the due-check index, from their schedule as of today:
 * checked today when a notice is already due and not yet decided, else on
 * the next notice date. `decided`: the due check has just decided every
 * notice due by today. */
static int update_schedule_row(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, const char *nhs,
                               uint32_t cycle, const computed_t *c, bool decided)
{
    jr_schedule_t *sched =
        jr_schedule_compute(c->sched_ev, c->n_sched, ctx->streams, &ctx->rules, ctx->today);
    if (sched == NULL) {
        return JR_STORE_RETRY;
    }
    jr_day_t next = !decided && jr_schedule_notices_due(sched, &ctx->rules, ctx->today, NULL, 0) > 0
                        ? ctx->today
                        : jr_schedule_next_notice_on(sched, &ctx->rules, ctx->today);
    char review_on[11] = "", next_on[11] = "";
    char covered[JR_STREAMS_MAX * JR_STREAM_CODE_MAX + 3];
    int separate = covered_literal(sched, covered, sizeof covered);
    if (sched->review_on != JR_DAY_NONE) {
        jr_text_format_date(sched->review_on, review_on);
    }
    if (next != JR_DAY_NONE) {
        jr_text_format_date(next, next_on);
    }
    jr_store_schedule_t row = {
        .nhs = nhs,
        .cycle = cycle,
        .review_on = review_on[0] ? review_on : NULL,
        .lead = sched->lead ? sched->lead->code : NULL,
        .covered = covered,
        .next_check_on = next_on[0] ? next_on : NULL,
        .separate_meetings = separate,
    };
    int rc = jr_store_pg_schedule_put(store, &row);
    jr_schedule_destroy(&sched);
    return rc;
}

/* ---- the batch ---- */

/* The persons a batch touches, with their current cycle, and the
 * (person, cycle) records to recompute, in order of first touch. */
typedef struct {
    char nhs[JR_NHS_LEN + 1];
    uint32_t cycle;
} pc_t;

typedef struct {
    pc_t *persons; /* current cycle of each person seen */
    size_t n_persons;
    pc_t *touched; /* records to recompute */
    size_t n_touched;
    size_t cap;
    /* (stream, source_event_id) stored before or earlier in this batch */
    char **keys;
    size_t keys_cap;
} batch_state_t;

static pc_t *find_pc(pc_t *list, size_t n, const char *nhs, uint32_t cycle, bool any_cycle)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].nhs, nhs) == 0 && (any_cycle || list[i].cycle == cycle)) {
            return &list[i];
        }
    }
    return NULL;
}

/* ---- the set of stored keys: open addressing, FNV-1a ---- */

static uint64_t key_hash(const char *stream, const char *seid)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = stream; *c; c++) {
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    }
    h = (h ^ 0x1f) * 1099511628211ULL;
    for (const char *c = seid; *c; c++) {
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    }
    return h;
}

/* Finds the slot of a key, or the empty slot where it belongs. */
static char **key_slot(batch_state_t *st, const char *stream, const char *seid)
{
    size_t mask = st->keys_cap - 1;
    size_t slen = strlen(stream);
    for (size_t i = key_hash(stream, seid) & mask;; i = (i + 1) & mask) {
        char *k = st->keys[i];
        if (k == NULL || (strncmp(k, stream, slen) == 0 && k[slen] == '\x1f' &&
                          strcmp(k + slen + 1, seid) == 0)) {
            return &st->keys[i];
        }
    }
}

static bool key_seen(batch_state_t *st, const char *stream, const char *seid)
{
    return *key_slot(st, stream, seid) != NULL;
}

static int key_add(batch_state_t *st, const char *stream, const char *seid)
{
    char **slot = key_slot(st, stream, seid);
    if (*slot != NULL) {
        return 0;
    }
    size_t len = strlen(stream) + strlen(seid) + 2;
    *slot = malloc(len);
    if (*slot == NULL) {
        return -1;
    }
    snprintf(*slot, len, "%s\x1f%s", stream, seid);
    return 0;
}

static void on_existing(void *arg, const char *stream, const char *seid)
{
    key_add(arg, stream, seid);
}

static void on_link(void *arg, const jr_link_t *link)
{
    jr_identity_add(arg, link);
}

static void on_cycle(void *arg, const char *nhs, uint32_t cycle)
{
    batch_state_t *st = arg;
    pc_t *p = &st->persons[st->n_persons++];
    snprintf(p->nhs, sizeof p->nhs, "%s", nhs);
    p->cycle = cycle;
}

/* What the batch needs to know before its first write, in three round
 * trips: which keys are stored, the links of its identifiers, and the
 * cycle of every person it names (created when new). */
static int prefetch(jr_store_pg_t *store, batch_state_t *st, jr_identity_t *ids_map,
                    const jr_batch_item_t *items, size_t n)
{
    const char **a = calloc(n + 1, sizeof *a);
    const char **b = calloc(n + 1, sizeof *b);
    jr_link_t *links = calloc(2 * n + 1, sizeof *links);
    int rc = JR_STORE_RETRY;
    if (a == NULL || b == NULL || links == NULL) {
        goto done;
    }
    size_t k = 0, l = 0, p = 0;
    for (size_t i = 0; i < n; i++) {
        if (!items[i].decoded) {
            continue;
        }
        const jr_codec_event_t *ev = &items[i].ev;
        a[k] = ev->event.stream;
        b[k++] = ev->event.source_event_id;
        if (ev->nino[0]) {
            links[l].kind = JR_LINK_NINO;
            snprintf(links[l++].value, sizeof links[0].value, "%s", ev->nino);
        }
        if (ev->local_id != NULL) {
            links[l].kind = JR_LINK_LOCAL;
            snprintf(links[l].stream, sizeof links[0].stream, "%s", ev->event.stream);
            snprintf(links[l++].value, sizeof links[0].value, "%s", ev->local_id);
        }
    }
    rc = k ? jr_store_pg_exists_many(store, a, b, k, on_existing, st) : JR_STORE_OK;
    if (rc == JR_STORE_OK && l > 0) {
        rc = jr_store_pg_links_many(store, links, l, on_link, ids_map);
    }
    for (size_t i = 0; i < n; i++) {
        if (items[i].decoded && items[i].ev.nhs[0] &&
            find_pc(st->persons, st->n_persons, items[i].ev.nhs, 0, true) == NULL) {
            bool dup = false;
            for (size_t j = 0; j < p && !dup; j++) {
                dup = strcmp(a[j], items[i].ev.nhs) == 0;
            }
            if (!dup) {
                a[p++] = items[i].ev.nhs;
            }
        }
    }
    if (rc == JR_STORE_OK && p > 0) {
        rc = jr_store_pg_persons_cycles(store, a, p, on_cycle, st);
    }
done:
    free(a);
    free(b);
    free(links);
    return rc;
}

static int person_cycle(jr_store_pg_t *store, batch_state_t *st, const char *nhs, uint32_t *cycle)
{
    pc_t *p = find_pc(st->persons, st->n_persons, nhs, 0, true);
    if (p != NULL) {
        *cycle = p->cycle;
        return JR_STORE_OK;
    }
    int rc = jr_store_pg_person_cycle(store, nhs, cycle);
    if (rc == JR_STORE_OK) {
        p = &st->persons[st->n_persons++];
        snprintf(p->nhs, sizeof p->nhs, "%s", nhs);
        p->cycle = *cycle;
    }
    return rc;
}

static void touch(batch_state_t *st, const char *nhs, uint32_t cycle)
{
    if (find_pc(st->touched, st->n_touched, nhs, cycle, false) == NULL) {
        pc_t *t = &st->touched[st->n_touched++];
        snprintf(t->nhs, sizeof t->nhs, "%s", nhs);
        t->cycle = cycle;
    }
}

/* Loads the stored links for an event's identifiers into the batch's map. */
static int load_links(jr_store_pg_t *store, jr_identity_t *ids_map, const jr_ids_t *ids)
{
    jr_link_t link = {0};
    bool found = false;
    int rc = JR_STORE_OK;
    if (ids->nino != NULL && jr_identity_lookup(ids_map, JR_LINK_NINO, "", ids->nino) == NULL) {
        link.kind = JR_LINK_NINO;
        snprintf(link.value, sizeof link.value, "%s", ids->nino);
        rc = jr_store_pg_link_find(store, JR_LINK_NINO, "", ids->nino, link.nhs, &found);
        if (rc == JR_STORE_OK && found && jr_identity_add(ids_map, &link) < 0) {
            rc = JR_STORE_RETRY;
        }
    }
    if (rc == JR_STORE_OK && ids->local != NULL &&
        jr_identity_lookup(ids_map, JR_LINK_LOCAL, ids->stream, ids->local) == NULL) {
        memset(&link, 0, sizeof link);
        link.kind = JR_LINK_LOCAL;
        snprintf(link.stream, sizeof link.stream, "%s", ids->stream);
        snprintf(link.value, sizeof link.value, "%s", ids->local);
        rc = jr_store_pg_link_find(store, JR_LINK_LOCAL, ids->stream, ids->local, link.nhs, &found);
        if (rc == JR_STORE_OK && found && jr_identity_add(ids_map, &link) < 0) {
            rc = JR_STORE_RETRY;
        }
    }
    return rc;
}

static jr_ids_t ids_of(const jr_codec_event_t *ev)
{
    return (jr_ids_t){
        .stream = ev->event.stream,
        .nhs = ev->nhs[0] ? ev->nhs : NULL,
        .nino = ev->nino[0] ? ev->nino : NULL,
        .local = ev->local_id,
    };
}

/* Parked events that a new link resolves join the person's current cycle. */
static int release_parked(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_identity_t *ids_map,
                          batch_state_t *st, const jr_link_t *link)
{
    jr_store_rows_t rows = {0};
    int rc = jr_store_pg_parked_for(store, link, &rows);
    for (size_t i = 0; rc == JR_STORE_OK && i < rows.n; i++) {
        jr_codec_event_t ev;
        jr_reject_t why;
        if (jr_codec_decode(rows.rows[i].envelope, rows.rows[i].envelope_len, ctx->streams,
                            &g_stored_limits, &ev, &why, NULL, NULL) != 0) {
            continue;
        }
        jr_ids_t ids = ids_of(&ev);
        char nhs[JR_NHS_LEN + 1];
        rc = load_links(store, ids_map, &ids);
        if (rc == JR_STORE_OK && jr_identity_resolve(ids_map, &ids, nhs) == JR_RESOLVE_PERSON) {
            uint32_t cycle = 0;
            rc = person_cycle(store, st, nhs, &cycle);
            if (rc == JR_STORE_OK) {
                rc = jr_store_pg_event_assign(store, rows.rows[i].id, nhs, cycle);
            }
            if (rc == JR_STORE_OK) {
                touch(st, nhs, cycle);
                jr_log(JR_LOG_INFO, "batch", "released parked event %s/%s", ev.event.stream,
                       ev.event.source_event_id);
            }
        }
        jr_codec_event_clear(&ev);
    }
    jr_store_rows_clear(&rows);
    return rc;
}

static void set_outcome(jr_batch_item_t *it, jr_ack_status_t status, const char *code,
                        const char *reason)
{
    it->status = status;
    it->code = code;
    snprintf(it->reason, sizeof it->reason, "%s", reason ? reason : "");
}

/* One valid envelope inside the open transaction. */
static int write_event(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_identity_t *ids_map,
                       batch_state_t *st, jr_batch_item_t *it)
{
    const jr_event_t *ev = &it->ev.event;
    if (key_seen(st, ev->stream, ev->source_event_id)) {
        set_outcome(it, JR_ACK_DUPLICATE, NULL, "already stored");
        return JR_STORE_OK;
    }
    if (key_add(st, ev->stream, ev->source_event_id) != 0) {
        return JR_STORE_RETRY;
    }
    jr_ids_t ids = ids_of(&it->ev); /* their stored links were prefetched */
    int rc = JR_STORE_OK;
    char nhs[JR_NHS_LEN + 1] = "";
    jr_resolve_t who = jr_identity_resolve(ids_map, &ids, nhs);
    if (who == JR_RESOLVE_CONFLICT) {
        set_outcome(it, JR_ACK_REJECTED, "IDENTITY_CONFLICT",
                    "the identifiers belong to different people in joinedreview: check the NHS "
                    "number, NI number and client id against the person's record");
        return jr_store_pg_rejected_add(store, it->sender, ev->stream, ev->source_event_id,
                                        it->code, it->reason, it->raw, it->raw_len);
    }
    uint32_t cycle = 0;
    if (who == JR_RESOLVE_PERSON) {
        rc = person_cycle(store, st, nhs, &cycle);
        if (rc != JR_STORE_OK) {
            return rc;
        }
    }
    jr_store_event_row_t row = {
        .stream = ev->stream,
        .seid = ev->source_event_id,
        .kind = kind_name(ev->kind),
        .occurred_at_ms = ev->occurred_at_ms,
        .sender = it->sender,
        .nhs = who == JR_RESOLVE_PERSON ? nhs : NULL,
        .nino = ids.nino,
        .local_id = ids.local,
        .cycle = cycle,
        .envelope = it->raw,
        .envelope_len = it->raw_len,
    };
    int64_t id = 0;
    rc = jr_store_pg_event_add(store, &row, &id);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    if (who == JR_RESOLVE_PARK) {
        set_outcome(it, JR_ACK_PARKED, NULL,
                    "stored; waiting for an enrolment that links these identifiers to an NHS "
                    "number");
        return JR_STORE_OK;
    }
    touch(st, nhs, cycle);
    set_outcome(it, JR_ACK_OK, NULL, "");
    if (ev->kind == JR_EVENT_ENROLMENT) {
        jr_link_t links[2];
        size_t n = jr_identity_links_of(&ids, links);
        for (size_t i = 0; rc == JR_STORE_OK && i < n; i++) {
            if (jr_identity_add(ids_map, &links[i]) != 0) {
                continue; /* already linked (resolve checked it is the same person) */
            }
            rc = jr_store_pg_link_add(store, &links[i], id);
            if (rc == JR_STORE_OK) {
                rc = release_parked(store, ctx, ids_map, st, &links[i]);
            }
        }
    } else if (ev->kind == JR_EVENT_REVIEW_HELD) {
        pc_t *p = find_pc(st->persons, st->n_persons, nhs, 0, true);
        p->cycle = cycle + 1;
        rc = jr_store_pg_person_set_cycle(store, nhs, p->cycle);
    }
    return rc;
}

/* Finds a person's rows in the prefetched, nhs-ordered list. */
static const jr_store_row_t *rows_of(const jr_store_rows_t *all, const char *nhs, size_t *n)
{
    size_t lo = 0, hi = all->n;
    while (lo < hi) { /* the first row >= nhs */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(all->rows[mid].nhs, nhs) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    size_t end = lo;
    while (end < all->n && strcmp(all->rows[end].nhs, nhs) == 0) {
        end++;
    }
    *n = end - lo;
    return all->rows + lo;
}

/* Merges and publishes every (person, cycle) the batch touched, from one
 * read of their events, one round trip per record. */
static int publish_touched(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, batch_state_t *st,
                           uint64_t *seq, jr_publications_t *pubs)
{
    const char **nhs = calloc(st->n_touched + 1, sizeof *nhs);
    jr_store_rows_t all = {0};
    int rc = nhs ? JR_STORE_OK : JR_STORE_RETRY;
    size_t n = 0;
    for (size_t i = 0; rc == JR_STORE_OK && i < st->n_touched; i++) {
        bool dup = false;
        for (size_t j = 0; j < n && !dup; j++) {
            dup = strcmp(nhs[j], st->touched[i].nhs) == 0;
        }
        if (!dup) {
            nhs[n++] = st->touched[i].nhs;
        }
    }
    if (rc == JR_STORE_OK && n > 0) {
        rc = jr_store_pg_persons_events(store, nhs, n, &all);
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < st->n_touched; i++) {
        const pc_t *t = &st->touched[i];
        size_t nrows = 0;
        const jr_store_row_t *rows = rows_of(&all, t->nhs, &nrows);
        computed_t c;
        memset(&c, 0, sizeof c);
        rc = compute_rows(ctx, t->nhs, t->cycle, *seq + 1, rows, nrows, &c);
        if (rc == JR_STORE_OK) {
            rc = store_computed(store, t->nhs, t->cycle, &c, true);
        }
        if (rc == JR_STORE_OK && pubs_add(pubs, *seq + 1, TOPIC_REVIEW, c.record, c.len) == 0) {
            c.record = NULL; /* now owned by pubs */
            (*seq)++;
        } else if (rc == JR_STORE_OK) {
            rc = JR_STORE_RETRY;
        }
        /* The due-check index follows the person's current cycle. */
        pc_t *p = find_pc(st->persons, st->n_persons, t->nhs, 0, true);
        if (rc == JR_STORE_OK && p->cycle == t->cycle) {
            rc = update_schedule_row(store, ctx, t->nhs, t->cycle, &c, false);
        } else if (rc == JR_STORE_OK) {
            computed_t cur;
            memset(&cur, 0, sizeof cur);
            int crc = compute_rows(ctx, t->nhs, p->cycle, 0, rows, nrows, &cur);
            rc = crc == 1 ? JR_STORE_OK : crc;
            if (rc == JR_STORE_OK) {
                rc = update_schedule_row(store, ctx, t->nhs, p->cycle, &cur, false);
            }
            computed_clear(&cur);
        }
        computed_clear(&c);
    }
    jr_store_rows_clear(&all);
    free(nhs);
    return rc;
}

/* The whole batch in one transaction. */
static int write_once(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_batch_item_t *items,
                      size_t n, uint64_t *last_seq, jr_publications_t *pubs)
{
    /* Each valid item adds at most its person plus those its links release
     * (the link's own person), so 4n + 16 bounds both lists. */
    batch_state_t st = {0};
    st.cap = 4 * n + 16;
    st.persons = calloc(st.cap, sizeof *st.persons);
    st.touched = calloc(st.cap, sizeof *st.touched);
    for (st.keys_cap = 64; st.keys_cap < 4 * n; st.keys_cap *= 2) {
    }
    st.keys = calloc(st.keys_cap, sizeof *st.keys);
    jr_identity_t *ids_map = jr_identity_new();
    size_t pubs_before = pubs->n;
    uint64_t seq = *last_seq;
    int rc = JR_STORE_RETRY;
    if (st.persons == NULL || st.touched == NULL || st.keys == NULL || ids_map == NULL) {
        goto done;
    }
    rc = jr_store_pg_begin(store);
    if (rc == JR_STORE_OK) {
        rc = prefetch(store, &st, ids_map, items, n);
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < n; i++) {
        jr_batch_item_t *it = &items[i];
        if (it->decoded) {
            if (st.n_persons + 4 > st.cap || st.n_touched + 4 > st.cap) {
                rc = JR_STORE_RETRY; /* unreachable with the sizing above */
                break;
            }
            rc = write_event(store, ctx, ids_map, &st, it);
        } else {
            set_outcome(it, JR_ACK_REJECTED, it->why.code, it->why.text);
            rc = jr_store_pg_rejected_add(store, it->sender, it->stream, it->seid, it->code,
                                          it->reason, it->raw, it->raw_len);
        }
    }
    if (rc == JR_STORE_OK) {
        rc = publish_touched(store, ctx, &st, &seq, pubs);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_commit(store);
    }
done:
    if (rc == JR_STORE_OK) {
        *last_seq = seq;
    } else {
        jr_store_pg_rollback(store);
        for (size_t i = pubs_before; i < pubs->n; i++) {
            free(pubs->items[i].payload);
        }
        pubs->n = pubs_before;
    }
    for (size_t i = 0; st.keys != NULL && i < st.keys_cap; i++) {
        free(st.keys[i]);
    }
    free(st.keys);
    jr_identity_destroy(&ids_map);
    free(st.persons);
    free(st.touched);
    return rc;
}

int jr_batch_write(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_batch_item_t *items,
                   size_t n, uint64_t *last_seq, jr_publications_t *pubs)
{
    int rc = write_once(store, ctx, items, n, last_seq, pubs);
    if (rc == JR_STORE_DATA && n > 1) {
        /* Find the envelope the database refused: one per transaction. */
        jr_log(JR_LOG_WARNING, "batch", "batch of %zu refused (%s); writing one at a time", n,
               jr_store_pg_error(store));
        rc = JR_STORE_OK;
        for (size_t i = 0; i < n; i++) {
            int one = write_once(store, ctx, &items[i], 1, last_seq, pubs);
            if (one == JR_STORE_DATA) {
                continue; /* handled below */
            }
            if (one != JR_STORE_OK) {
                rc = one;
                for (size_t j = i; j < n; j++) {
                    set_outcome(&items[j], JR_ACK_RETRY_LATER, "STORE_UNAVAILABLE",
                                "the daemon cannot store events right now: resend later");
                }
                return rc;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (rc == JR_STORE_DATA) {
            /* A single envelope the database refused: rejected alone. */
            jr_batch_item_t *it = &items[i];
            char reason[320];
            snprintf(reason, sizeof reason,
                     "the database refused this event (%.200s): correct it and resend",
                     jr_store_pg_error(store));
            set_outcome(it, JR_ACK_REJECTED, "STORE_REFUSED", reason);
            if (jr_store_pg_begin(store) == JR_STORE_OK &&
                jr_store_pg_rejected_add(store, it->sender, it->stream, it->seid, it->code,
                                         it->reason, it->raw, it->raw_len) == JR_STORE_OK &&
                jr_store_pg_commit(store) == JR_STORE_OK) {
                continue;
            }
            jr_store_pg_rollback(store);
            set_outcome(it, JR_ACK_RETRY_LATER, "STORE_UNAVAILABLE",
                        "the daemon cannot store events right now: resend later");
        } else if (rc != JR_STORE_OK) {
            set_outcome(&items[i], JR_ACK_RETRY_LATER, "STORE_UNAVAILABLE",
                        "the daemon cannot store events right now: resend later");
        }
    }
    return rc == JR_STORE_DATA ? JR_STORE_OK : rc;
}

/* ---- rebuild ---- */

typedef struct {
    jr_store_pg_t *store;
    const jr_batch_ctx_t *ctx;
    size_t records, differed;
} rebuild_t;

static int rebuild_person(void *arg, const char *nhs, uint32_t current)
{
    rebuild_t *rb = arg;
    for (uint32_t cycle = 1; cycle <= current; cycle++) {
        computed_t c;
        int rc = compute(rb->store, rb->ctx, nhs, cycle, 0, &c);
        if (rc == 1) {
            rc = JR_STORE_OK; /* nothing published in this cycle yet */
        } else if (rc == JR_STORE_OK) {
            rb->records++;
            uint8_t *old = NULL;
            size_t old_len = 0;
            bool found = false;
            rc = jr_store_pg_review_get(rb->store, nhs, cycle, &old, &old_len, &found);
            if (rc == JR_STORE_OK &&
                (!found || old_len != c.len || memcmp(old, c.record, c.len) != 0)) {
                rb->differed++;
                jr_log(JR_LOG_WARNING, "rebuild", "record %s cycle %u differed from the log", nhs,
                       cycle);
                rc = store_computed(rb->store, nhs, cycle, &c, false);
            }
            free(old);
        }
        if (rc == JR_STORE_OK && cycle == current) {
            rc = update_schedule_row(rb->store, rb->ctx, nhs, cycle, &c, false);
        }
        computed_clear(&c);
        if (rc != JR_STORE_OK) {
            return rc;
        }
    }
    return JR_STORE_OK;
}

int jr_batch_rebuild(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, size_t *records,
                     size_t *differed)
{
    rebuild_t rb = {store, ctx, 0, 0};
    int rc = jr_store_pg_begin(store);
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_each_person(store, rebuild_person, &rb);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_commit(store);
    } else {
        jr_store_pg_rollback(store);
    }
    *records = rb.records;
    *differed = rb.differed;
    return rc;
}

/* ---- due-date notices ---- */

typedef struct {
    jr_store_pg_t *store;
    const jr_batch_ctx_t *ctx;
    uint64_t seq;
    jr_publications_t *pubs;
    size_t sent, recorded;
} due_t;

static const char *notice_kind_name(jr_notice_kind_t kind)
{
    return kind == JR_NOTICE_LEAD ? "LEAD" : kind == JR_NOTICE_DUE ? "DUE" : "OVERDUE";
}

/* Decides one person's notices due by today: each (person, cycle, key) is
 * recorded once; the latest is published, those it supersedes only
 * recorded. Then the person's next check moves past today. */
static int due_person(void *arg, const char *nhs, uint32_t cycle)
{
    due_t *dc = arg;
    const jr_batch_ctx_t *ctx = dc->ctx;
    computed_t c;
    jr_schedule_t *sched = NULL;
    int rc = compute(dc->store, ctx, nhs, cycle, 0, &c);
    if (rc == 1) {
        rc = JR_STORE_OK;
    }
    if (rc == JR_STORE_OK) {
        sched = jr_schedule_compute(c.sched_ev, c.n_sched, ctx->streams, &ctx->rules, ctx->today);
        rc = sched ? JR_STORE_OK : JR_STORE_RETRY;
    }
    jr_notice_t notices[64];
    size_t n = 0;
    if (rc == JR_STORE_OK) {
        n = jr_schedule_notices_due(sched, &ctx->rules, ctx->today, notices, 64);
        n = n > 64 ? 64 : n;
    }
    char review_on[11] = "", notice_on[11];
    char covered[JR_STREAMS_MAX * JR_STREAM_CODE_MAX + 3] = "{}";
    if (sched != NULL && sched->review_on != JR_DAY_NONE) {
        jr_text_format_date(sched->review_on, review_on);
        covered_literal(sched, covered, sizeof covered);
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < n; i++) {
        const jr_notice_t *nt = &notices[i];
        jr_text_format_date(nt->on, notice_on);
        jr_store_notice_t row = {
            .nhs = nhs,
            .cycle = cycle,
            .key = nt->key,
            .kind = notice_kind_name(nt->kind),
            .notice_on = notice_on,
            .review_on = review_on,
            .lead = sched->lead ? sched->lead->code : NULL,
            .covered = covered,
        };
        bool added = false;
        rc = jr_store_pg_notice_add(dc->store, &row, &added);
        if (rc != JR_STORE_OK || !added) {
            continue;
        }
        dc->recorded++;
        if (nt->superseded) {
            continue;
        }
        jr_record_id_t id = {nhs, cycle, 0, dc->seq + 1};
        uint8_t *payload = NULL;
        size_t len = 0;
        char topic[64];
        jr_codec_notice_topic(nt, sched, topic, sizeof topic);
        if (jr_codec_encode_notice(nt, sched, c.review, &id, &payload, &len) != 0) {
            rc = JR_STORE_RETRY;
            break;
        }
        rc = jr_store_pg_outbox_add(dc->store, dc->seq + 1, topic, nhs, payload, len);
        if (rc == JR_STORE_OK) {
            rc = jr_store_pg_notice_set_seq(dc->store, &row, dc->seq + 1, payload, len);
        }
        if (rc == JR_STORE_OK && pubs_add(dc->pubs, dc->seq + 1, topic, payload, len) == 0) {
            dc->seq++;
            dc->sent++;
        } else {
            free(payload);
            rc = rc == JR_STORE_OK ? JR_STORE_RETRY : rc;
        }
    }
    if (rc == JR_STORE_OK) {
        /* Everything due by today is decided: check again at the next notice. */
        rc = update_schedule_row(dc->store, ctx, nhs, cycle, &c, true);
    }
    jr_schedule_destroy(&sched);
    computed_clear(&c);
    return rc;
}

int jr_batch_due_check(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, uint64_t *last_seq,
                       jr_publications_t *pubs, size_t *sent)
{
    enum { ROUND = 200 };
    *sent = 0;
    for (;;) {
        due_t dc = {store, ctx, *last_seq, pubs, 0, 0};
        size_t pubs_before = pubs->n;
        size_t count = 0;
        char today[11];
        jr_text_format_date(ctx->today, today);
        int rc = jr_store_pg_begin(store);
        if (rc == JR_STORE_OK) {
            rc = jr_store_pg_schedule_due(store, today, ROUND, due_person, &dc, &count);
        }
        if (rc == JR_STORE_OK) {
            rc = jr_store_pg_commit(store);
        }
        if (rc != JR_STORE_OK) {
            jr_store_pg_rollback(store);
            for (size_t i = pubs_before; i < pubs->n; i++) {
                free(pubs->items[i].payload);
            }
            pubs->n = pubs_before;
            return rc;
        }
        *last_seq = dc.seq;
        *sent += dc.sent;
        if (count < ROUND) {
            return JR_STORE_OK;
        }
    }
}
