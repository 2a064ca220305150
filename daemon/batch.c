/* batch.c -- see batch.h. */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "log.h"
#include "merge.h"
#include "record.h"
#include "strmap.h"

#define TOPIC_REVIEW "review"

void jr_publications_clear(jr_publications_t *pubs)
{
    for (size_t i = 0; i < pubs->n; i++) {
        free(pubs->items[i].payload);
    }
    free(pubs->items);
    memset(pubs, 0, sizeof *pubs);
}

/* Room for element n of a growable array of `size`-byte elements with
 * *cap allocated: the array (moved, perhaps, with *cap doubled), or NULL
 * when out of memory, the old one left as it was. */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) {
        return v;
    }
    size_t more = *cap ? 2 * *cap : 64;
    void *moved = realloc(v, more * size);
    if (moved != NULL) {
        *cap = more;
    }
    return moved;
}

static int pubs_add(jr_publications_t *pubs, uint64_t seq, const char *topic, uint8_t *payload,
                    size_t len)
{
    jr_publication_t *items = grow(pubs->items, &pubs->cap, pubs->n, sizeof *items);
    if (items == NULL) {
        return -1;
    }
    pubs->items = items;
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
static const jr_envelope_limits_t g_stored_limits = {
    .max_text_bytes = 1 << 20,
    .now_ms = INT64_MAX / 4,
    .future_tolerance_ms = 0,
};

/* One (person, cycle) merged from the person's stored events. */
typedef struct {
    jr_store_rows_t rows;           /* read by compute() itself; empty otherwise */
    const jr_store_row_t *borrowed; /* the rows merged (rows.rows, or prefetched) */
    size_t n_borrowed;
    jr_envelope_t *dec;
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
} computed_t;

static void computed_clear(computed_t *c)
{
    for (size_t i = 0; c->dec != NULL && i < c->n_borrowed; i++) {
        jr_envelope_clear(&c->dec[i]);
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
        if (jr_envelope_decode(r->envelope, r->envelope_len, ctx->streams, &g_stored_limits,
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
    if (jr_record_encode_review(out->review, out->schedule, &id, &out->record, &out->len) != 0) {
        return JR_STORE_RETRY;
    }
    return JR_STORE_OK;
}

/* The consolidated_review row of a computed record; it borrows c->record
 * (which the caller may hand on) and the streams' codes. */
static jr_store_review_t review_row(const char *nhs, uint32_t cycle, const computed_t *c)
{
    const jr_review_t *r = c->review;
    jr_store_review_t row = {
        .nhs = nhs,
        .cycle = cycle,
        .version = c->version,
        .seq = c->seq,
        .ready = r->ready_for_sign_off,
        .held_on = r->review_held ? r->review_held->u.review_held.held_on : JR_DAY_NONE,
        .record = c->record,
        .record_len = c->len,
    };
    for (size_t i = 0; i < r->n_streams && i < JR_STREAMS_MAX; i++) {
        row.enrolled[row.n_enrolled] = r->streams[i].stream->code;
        row.complete[row.n_enrolled++] = r->streams[i].missing == 0;
    }
    for (size_t i = 0; i < JR_AREA_COUNT; i++) {
        row.area_priority[i] = r->areas[i].priority;
        row.area_conflict[i] = r->areas[i].conflict;
    }
    return row;
}

/* The covered streams' codes (borrowed from the streams table); returns how
 * many of them set their own date (the separate meetings they would
 * otherwise need). */
static int covered_codes(const jr_schedule_t *sched, const char **codes, size_t *n)
{
    int separate = 0;
    *n = 0;
    for (size_t i = 0; i < sched->n_streams; i++) {
        if (sched->streams[i].covered) {
            codes[(*n)++] = sched->streams[i].stream->code;
            separate += sched->streams[i].drives;
        }
    }
    return separate;
}

/* The text a due-check index row borrows. */
typedef struct {
    char nhs[JR_NHS_LEN + 1];
    char lead[JR_STREAM_CODE_MAX];
} schedule_text_t;

/* The person's row in the due-check index, from their schedule as of today:
 * checked today when a notice is already due and not yet decided, else on
 * the next notice date. `decided`: every notice due by today has just been
 * decided. The row borrows from *text. */
static void schedule_row_of(const jr_batch_ctx_t *ctx, const char *nhs, uint32_t cycle,
                            const jr_schedule_t *sched, bool decided, schedule_text_t *text,
                            jr_store_schedule_t *row)
{
    jr_day_t next = !decided && jr_schedule_notices_due(sched, &ctx->rules, ctx->today, NULL, 0) > 0
                        ? ctx->today
                        : jr_schedule_next_notice_on(sched, &ctx->rules, ctx->today);
    memset(text, 0, sizeof *text);
    snprintf(text->nhs, sizeof text->nhs, "%s", nhs);
    if (sched->lead != NULL) {
        snprintf(text->lead, sizeof text->lead, "%s", sched->lead->code);
    }
    *row = (jr_store_schedule_t){
        .nhs = text->nhs,
        .cycle = cycle,
        .review_on = sched->review_on,
        .lead = text->lead[0] ? text->lead : NULL,
        .next_check_on = next,
    };
    row->separate_meetings = covered_codes(sched, row->covered, &row->n_covered);
}

/* The due-check row of a computed cycle written on its own (rebuild). */
static int update_schedule_row(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, const char *nhs,
                               uint32_t cycle, const computed_t *c, bool decided)
{
    jr_schedule_t *sched =
        jr_schedule_compute(c->sched_ev, c->n_sched, ctx->streams, &ctx->rules, ctx->today);
    if (sched == NULL) {
        return JR_STORE_RETRY;
    }
    schedule_text_t text;
    jr_store_schedule_t row;
    schedule_row_of(ctx, nhs, cycle, sched, decided, &text, &row);
    jr_schedule_destroy(&sched);
    return jr_store_pg_schedule_put(store, &row);
}

/* ---- the batch ---- */

/* Keys of the maps: "stream\x1fsource_event_id" and "nhs\x1fcycle". */
static void event_key(char *out, size_t len, const char *stream, const char *seid)
{
    snprintf(out, len, "%s\x1f%s", stream, seid);
}

static void record_key(char out[32], const char *nhs, uint32_t cycle)
{
    snprintf(out, 32, "%s\x1f%u", nhs, cycle);
}

enum { KEY_MAX = JR_STREAM_CODE_MAX + 256 }; /* stream, separator, source_event_id */

/* (person, cycle): a person's current cycle, or a record to recompute. */
typedef struct {
    char nhs[JR_NHS_LEN + 1];
    uint32_t cycle;
} pc_t;

typedef struct {
    pc_t *v;
    size_t n, cap;
    jr_strmap_t index; /* key -> position in v */
} pc_list_t;

/* Adds (nhs, cycle) under key unless present; *at is its position. */
static int pc_add(pc_list_t *l, const char *key, const char *nhs, uint32_t cycle, size_t *at)
{
    bool added = false;
    if (jr_strmap_put(&l->index, key, l->n, &added) != 0) {
        return -1;
    }
    if (!added) {
        *at = *jr_strmap_get(&l->index, key);
        return 0;
    }
    pc_t *v = grow(l->v, &l->cap, l->n, sizeof *v);
    if (v == NULL) {
        return -1;
    }
    l->v = v;
    snprintf(l->v[l->n].nhs, sizeof l->v[0].nhs, "%s", nhs);
    l->v[l->n].cycle = cycle;
    *at = l->n++;
    return 0;
}

static void pc_clear(pc_list_t *l)
{
    free(l->v);
    jr_strmap_clear(&l->index);
    memset(l, 0, sizeof *l);
}

/* A parked event the batch may release: one read from the store, or one of
 * the batch's own rows. */
typedef struct {
    jr_envelope_t stored;    /* decoded, when it came from the store */
    const jr_envelope_t *ev; /* the batch's own item otherwise */
    int64_t id;              /* its id in the store; 0 for the batch's own */
    size_t stored_row;       /* its row in parked_rows, when it came from the store */
    size_t row;              /* the batch's row otherwise */
    bool released;
} parked_t;

static const jr_envelope_t *parked_event(const parked_t *p)
{
    return p->id != 0 ? &p->stored : p->ev;
}

#define NO_RECORD SIZE_MAX

typedef struct {
    uint64_t base_seq; /* the record touched[i] is published as base_seq + i + 1 */
    jr_strmap_t keys;  /* (stream, source_event_id) stored before or earlier in this batch */
    pc_list_t persons; /* current cycle of each person seen, keyed by nhs */
    pc_list_t touched; /* records to recompute, keyed by (nhs, cycle), in order of first touch */
    /* what the batch appends to the event log, in arrival order */
    jr_store_event_row_t *rows;
    char (*row_nhs)[JR_NHS_LEN + 1];
    size_t *row_record; /* the touched record of each row, NO_RECORD while parked */
    size_t n_rows;
    /* the links its enrolments add, each with the enrolment's key */
    jr_link_t *links;
    const char **link_stream, **link_seid;
    size_t n_links;
    /* parked events it may release: the store's first, then its own */
    parked_t *parked;
    size_t n_parked, cap_parked;
    jr_store_rows_t parked_rows; /* the store's, read up front */
    /* the earlier events of the persons it names (read before deciding, by
     * nhs then id; value 0) or only touches (read after deciding; value 1),
     * and the notices they have decided */
    jr_strmap_t named;
    jr_store_rows_t history;
    jr_strmap_t decided;
} batch_state_t;

static void batch_state_clear(batch_state_t *st)
{
    jr_strmap_clear(&st->keys);
    pc_clear(&st->persons);
    pc_clear(&st->touched);
    free(st->rows);
    free(st->row_nhs);
    free(st->row_record);
    free(st->links);
    free(st->link_stream);
    free(st->link_seid);
    for (size_t i = 0; i < st->n_parked; i++) {
        if (st->parked[i].id != 0) {
            jr_envelope_clear(&st->parked[i].stored);
        }
    }
    free(st->parked);
    jr_store_rows_clear(&st->parked_rows);
    jr_strmap_clear(&st->named);
    jr_store_rows_clear(&st->history);
    jr_strmap_clear(&st->decided);
    memset(st, 0, sizeof *st);
}

static int key_add(batch_state_t *st, const char *stream, const char *seid, bool *added)
{
    char key[KEY_MAX];
    event_key(key, sizeof key, stream, seid);
    return jr_strmap_put(&st->keys, key, 0, added);
}

static void on_existing(void *arg, const char *stream, const char *seid)
{
    bool added;
    key_add(arg, stream, seid, &added); /* out of memory: the INSERT refuses it */
}

static void on_link(void *arg, const jr_link_t *link)
{
    jr_identity_add(arg, link);
}

static void on_cycle(void *arg, const char *nhs, uint32_t cycle)
{
    size_t at;
    pc_add(arg, nhs, nhs, cycle, &at); /* out of memory: person_cycle() asks again */
}

static jr_ids_t ids_of(const jr_envelope_t *ev)
{
    return (jr_ids_t){
        .stream = ev->event.stream,
        .nhs = ev->nhs[0] ? ev->nhs : NULL,
        .nino = ev->nino[0] ? ev->nino : NULL,
        .local = ev->local_id,
    };
}

/* The identifier keys an event names (up to two) appended to out. */
static size_t id_keys(const jr_envelope_t *ev, jr_link_t *out)
{
    size_t l = 0;
    if (ev->nino[0]) {
        memset(&out[l], 0, sizeof out[l]);
        out[l].kind = JR_LINK_NINO;
        snprintf(out[l++].value, sizeof out[0].value, "%s", ev->nino);
    }
    if (ev->local_id != NULL) {
        memset(&out[l], 0, sizeof out[l]);
        out[l].kind = JR_LINK_LOCAL;
        snprintf(out[l].stream, sizeof out[0].stream, "%s", ev->event.stream);
        snprintf(out[l++].value, sizeof out[0].value, "%s", ev->local_id);
    }
    return l;
}

static int parked_push(batch_state_t *st, parked_t p)
{
    parked_t *v = grow(st->parked, &st->cap_parked, st->n_parked, sizeof *v);
    if (v == NULL) {
        return -1;
    }
    st->parked = v;
    st->parked[st->n_parked++] = p;
    return 0;
}

/* Parked events in the store that the batch's enrolments may release,
 * decoded, with the links of every identifier they name. */
static int prefetch_parked(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, batch_state_t *st,
                           jr_identity_t *ids_map, const jr_batch_item_t *items, size_t n)
{
    jr_link_t *keys = calloc(2 * n + 1, sizeof *keys);
    if (keys == NULL) {
        return JR_STORE_RETRY;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].decoded && items[i].ev.event.kind == JR_EVENT_ENROLMENT &&
            items[i].ev.nhs[0]) {
            k += id_keys(&items[i].ev, &keys[k]);
        }
    }
    int rc = k ? jr_store_pg_parked_many(store, keys, k, &st->parked_rows) : JR_STORE_OK;
    free(keys);
    if (rc != JR_STORE_OK || st->parked_rows.n == 0) {
        return rc;
    }
    keys = calloc(2 * st->parked_rows.n, sizeof *keys);
    k = 0;
    for (size_t i = 0; keys != NULL && i < st->parked_rows.n; i++) {
        const jr_store_row_t *r = &st->parked_rows.rows[i];
        parked_t p = {.id = r->id, .stored_row = i};
        jr_reject_t why;
        if (jr_envelope_decode(r->envelope, r->envelope_len, ctx->streams, &g_stored_limits,
                               &p.stored, &why, NULL, NULL) != 0) {
            continue; /* e.g. its stream has since been disabled */
        }
        if (parked_push(st, p) != 0) {
            jr_envelope_clear(&p.stored);
            rc = JR_STORE_RETRY;
            break;
        }
        k += id_keys(&p.stored, &keys[k]);
    }
    if (keys == NULL) {
        rc = JR_STORE_RETRY;
    } else if (rc == JR_STORE_OK && k > 0) {
        rc = jr_store_pg_links_many(store, keys, k, on_link, ids_map);
    }
    free(keys);
    return rc;
}

static void on_notice_key(void *arg, const char *nhs, uint32_t cycle, const char *key);

/* What the batch needs to know before it decides: which keys are stored,
 * the links of its identifiers, the cycle, earlier events and decided
 * notices of every person it names (created when new), and the parked
 * events its enrolments may release. */
static int prefetch(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, batch_state_t *st,
                    jr_identity_t *ids_map, const jr_batch_item_t *items, size_t n)
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
        if (items[i].decoded) {
            a[k] = items[i].ev.event.stream;
            b[k++] = items[i].ev.event.source_event_id;
            l += id_keys(&items[i].ev, &links[l]);
        }
    }
    rc = k ? jr_store_pg_exists_many(store, a, b, k, on_existing, st) : JR_STORE_OK;
    if (rc == JR_STORE_OK && l > 0) {
        rc = jr_store_pg_links_many(store, links, l, on_link, ids_map);
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < n; i++) {
        bool added = false;
        if (items[i].decoded && items[i].ev.nhs[0]) {
            if (jr_strmap_put(&st->named, items[i].ev.nhs, 0, &added) != 0) {
                rc = JR_STORE_RETRY;
            } else if (added) {
                a[p++] = items[i].ev.nhs;
            }
        }
    }
    if (rc == JR_STORE_OK && p > 0) {
        rc = jr_store_pg_persons_cycles(store, a, p, on_cycle, &st->persons);
    }
    if (rc == JR_STORE_OK && p > 0) {
        rc = jr_store_pg_persons_events(store, a, p, &st->history);
    }
    if (rc == JR_STORE_OK && p > 0) {
        rc = jr_store_pg_notice_keys(store, a, p, on_notice_key, &st->decided);
    }
    if (rc == JR_STORE_OK) {
        rc = prefetch_parked(store, ctx, st, ids_map, items, n);
    }
done:
    free(a);
    free(b);
    free(links);
    return rc;
}

static int person_cycle(jr_store_pg_t *store, batch_state_t *st, const char *nhs, uint32_t *cycle)
{
    size_t *at = jr_strmap_get(&st->persons.index, nhs);
    if (at != NULL) {
        *cycle = st->persons.v[*at].cycle;
        return JR_STORE_OK;
    }
    int rc = jr_store_pg_person_cycle(store, nhs, cycle);
    size_t pos;
    if (rc == JR_STORE_OK && pc_add(&st->persons, nhs, nhs, *cycle, &pos) != 0) {
        rc = JR_STORE_RETRY;
    }
    return rc;
}

/* The record (nhs, cycle) is to be recomputed; *at is its position, which
 * fixes its sequence number. */
static int touch(batch_state_t *st, const char *nhs, uint32_t cycle, size_t *at)
{
    char key[32];
    record_key(key, nhs, cycle);
    return pc_add(&st->touched, key, nhs, cycle, at) == 0 ? JR_STORE_OK : JR_STORE_RETRY;
}

static bool names_link(const jr_envelope_t *ev, const jr_link_t *link)
{
    if (link->kind == JR_LINK_NINO) {
        return strcmp(ev->nino, link->value) == 0;
    }
    return ev->local_id != NULL && strcmp(ev->event.stream, link->stream) == 0 &&
           strcmp(ev->local_id, link->value) == 0;
}

/* Parked events that a new link resolves join the person's current cycle:
 * the store's by an UPDATE, the batch's own in their row. */
static int release_parked(jr_store_pg_t *store, jr_identity_t *ids_map, batch_state_t *st,
                          const jr_link_t *link)
{
    int rc = JR_STORE_OK;
    for (size_t i = 0; rc == JR_STORE_OK && i < st->n_parked; i++) {
        parked_t *p = &st->parked[i];
        const jr_envelope_t *ev = parked_event(p);
        if (p->released || !names_link(ev, link)) {
            continue;
        }
        jr_ids_t ids = ids_of(ev);
        char nhs[JR_NHS_LEN + 1];
        if (jr_identity_resolve(ids_map, &ids, nhs) != JR_RESOLVE_PERSON) {
            continue;
        }
        uint32_t cycle = 0;
        size_t at = 0;
        rc = person_cycle(store, st, nhs, &cycle);
        if (rc == JR_STORE_OK) {
            rc = touch(st, nhs, cycle, &at);
        }
        if (rc == JR_STORE_OK && p->id != 0) {
            rc = jr_store_pg_event_assign(store, p->id, nhs, cycle, st->base_seq + at + 1);
            jr_store_row_t *r = &st->parked_rows.rows[p->stored_row];
            snprintf(r->nhs, sizeof r->nhs, "%s", nhs);
            r->cycle = cycle;
            r->seq = st->base_seq + at + 1;
        } else if (rc == JR_STORE_OK) {
            snprintf(st->row_nhs[p->row], sizeof st->row_nhs[0], "%s", nhs);
            st->rows[p->row].nhs = st->row_nhs[p->row];
            st->rows[p->row].cycle = cycle;
            st->row_record[p->row] = at;
        }
        if (rc == JR_STORE_OK) {
            p->released = true;
            jr_log(JR_LOG_INFO, "batch", "released parked event %s/%s", ev->event.stream,
                   ev->event.source_event_id);
        }
    }
    return rc;
}

static void set_outcome(jr_batch_item_t *it, jr_ack_status_t status, const char *code,
                        const char *reason)
{
    it->status = status;
    it->code = code;
    snprintf(it->reason, sizeof it->reason, "%s", reason ? reason : "");
}

/* The person's enrolments and reviews held as the log holds them just
 * before the event being decided: stored (read with the batch, or now when
 * the event named the person only through a link), earlier in this batch, or
 * released from parking by it; decoded. Only a review held needs them. */
typedef struct {
    jr_envelope_t *dec;
    jr_event_t *ev;
    size_t n, cap;
    jr_store_rows_t read; /* the person's rows, when read now */
} person_events_t;

static void person_events_clear(person_events_t *pe)
{
    for (size_t i = 0; i < pe->n; i++) {
        jr_envelope_clear(&pe->dec[i]);
    }
    free(pe->dec);
    free(pe->ev);
    jr_store_rows_clear(&pe->read);
    memset(pe, 0, sizeof *pe);
}

static int person_events_add(const jr_batch_ctx_t *ctx, person_events_t *pe, const uint8_t *env,
                             size_t len)
{
    if (pe->n == pe->cap) {
        size_t cap = pe->cap ? 2 * pe->cap : 16;
        jr_envelope_t *dec = realloc(pe->dec, cap * sizeof *dec);
        if (dec == NULL) {
            return JR_STORE_RETRY;
        }
        pe->dec = dec;
        pe->cap = cap;
    }
    jr_reject_t why;
    if (jr_envelope_decode(env, len, ctx->streams, &g_stored_limits, &pe->dec[pe->n], &why, NULL,
                           NULL) != 0) {
        return JR_STORE_OK; /* e.g. its stream has since been disabled */
    }
    jr_event_kind_t k = pe->dec[pe->n].event.kind;
    if (k == JR_EVENT_ENROLMENT || k == JR_EVENT_REVIEW_HELD) {
        pe->n++;
    } else {
        jr_envelope_clear(&pe->dec[pe->n]);
    }
    return JR_STORE_OK;
}

static const jr_store_row_t *rows_of(const jr_store_rows_t *all, const char *nhs, size_t *n);

static int person_events(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, const batch_state_t *st,
                         const char *nhs, person_events_t *pe)
{
    memset(pe, 0, sizeof *pe);
    const jr_store_rows_t *stored = &st->history; /* by nhs then id: read in one statement */
    if (jr_strmap_get(&st->named, nhs) == NULL) {
        int rc = jr_store_pg_person_events(store, nhs, &pe->read);
        if (rc != JR_STORE_OK) {
            return rc;
        }
        stored = &pe->read;
    }
    size_t n = 0;
    const jr_store_row_t *rows = stored == &pe->read ? pe->read.rows : rows_of(stored, nhs, &n);
    if (stored == &pe->read) {
        n = pe->read.n;
    }
    int rc = JR_STORE_OK;
    for (size_t i = 0; rc == JR_STORE_OK && i < n; i++) {
        rc = person_events_add(ctx, pe, rows[i].envelope, rows[i].envelope_len);
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < st->parked_rows.n; i++) {
        const jr_store_row_t *r = &st->parked_rows.rows[i];
        if (strcmp(r->nhs, nhs) == 0) {
            rc = person_events_add(ctx, pe, r->envelope, r->envelope_len);
        }
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < st->n_rows; i++) {
        const jr_store_event_row_t *r = &st->rows[i];
        if (r->nhs != NULL && strcmp(r->nhs, nhs) == 0) {
            rc = person_events_add(ctx, pe, r->envelope, r->envelope_len);
        }
    }
    pe->ev = calloc(pe->n + 1, sizeof *pe->ev);
    if (rc == JR_STORE_OK && pe->ev == NULL) {
        rc = JR_STORE_RETRY;
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < pe->n; i++) {
        pe->ev[i] = pe->dec[i].event;
    }
    return rc;
}

/* May this review held close the person's cycle? A store status; the
 * item's outcome is set to REJECTED when it may not. */
static int check_review_held(jr_store_pg_t *store, const jr_batch_ctx_t *ctx,
                             const batch_state_t *st, jr_batch_item_t *it, const char *nhs,
                             bool *refused)
{
    const jr_event_t *ev = &it->ev.event;
    char held[11], today[11], opened_s[11] = "";
    jr_text_format_date(ev->u.review_held.held_on, held);
    jr_text_format_date(ctx->today, today);
    jr_held_verdict_t verdict = JR_HELD_NOT_ENROLLED;
    jr_day_t opened = JR_DAY_NONE;
    *refused = false;
    if (nhs != NULL) {
        person_events_t pe;
        int rc = person_events(store, ctx, st, nhs, &pe);
        if (rc == JR_STORE_OK) {
            verdict = jr_schedule_check_held(pe.ev, pe.n, ctx->streams, ev->stream,
                                             ev->u.review_held.held_on, ctx->today, &opened);
        }
        person_events_clear(&pe);
        if (rc != JR_STORE_OK) {
            return rc;
        }
    }
    if (opened != JR_DAY_NONE) {
        jr_text_format_date(opened, opened_s);
    }
    char reason[320];
    switch (verdict) {
    case JR_HELD_OK:
        return JR_STORE_OK;
    case JR_HELD_NOT_ENROLLED:
        snprintf(reason, sizeof reason,
                 "%s has no enrolment in force for this person on %s: only a funding stream the "
                 "person is enrolled in on the day may record that their review was held",
                 ev->stream, held);
        set_outcome(it, JR_ACK_REJECTED, "NOT_ENROLLED", reason);
        break;
    case JR_HELD_IN_FUTURE:
        snprintf(reason, sizeof reason,
                 "review_held.held_on %s is after today (%s): record the review once it has been "
                 "held",
                 held, today);
        set_outcome(it, JR_ACK_REJECTED, "HELD_IN_FUTURE", reason);
        break;
    case JR_HELD_BEFORE_CYCLE:
        snprintf(reason, sizeof reason,
                 "review_held.held_on %s is before this review cycle opened with the review held "
                 "on %s: check the date",
                 held, opened_s);
        set_outcome(it, JR_ACK_REJECTED, "HELD_BEFORE_CYCLE", reason);
        break;
    }
    *refused = true;
    return jr_store_pg_rejected_add(store, it->sender, ev->stream, ev->source_event_id, it->code,
                                    it->reason, it->raw, it->raw_len);
}

/* Decides one valid envelope: its outcome, its row in the event log, the
 * links it adds and the parked events they release. Only rejections, cycle
 * changes and releases of stored events are written at once; rows and
 * links are written for the whole batch once every envelope is decided. A
 * refused event's key is not remembered: it was not stored. */
static int plan_event(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_identity_t *ids_map,
                      batch_state_t *st, jr_batch_item_t *it)
{
    const jr_event_t *ev = &it->ev.event;
    char key[KEY_MAX];
    event_key(key, sizeof key, ev->stream, ev->source_event_id);
    if (jr_strmap_get(&st->keys, key) != NULL) {
        set_outcome(it, JR_ACK_DUPLICATE, NULL, "already stored");
        return JR_STORE_OK;
    }
    jr_ids_t ids = ids_of(&it->ev); /* their stored links were prefetched */
    char nhs[JR_NHS_LEN + 1] = "";
    jr_resolve_t who = jr_identity_resolve(ids_map, &ids, nhs);
    if (who == JR_RESOLVE_CONFLICT) {
        set_outcome(it, JR_ACK_REJECTED, "IDENTITY_CONFLICT",
                    "the identifiers belong to different people in joinedreview: check the NHS "
                    "number, NI number and client id against the person's record");
        return jr_store_pg_rejected_add(store, it->sender, ev->stream, ev->source_event_id,
                                        it->code, it->reason, it->raw, it->raw_len);
    }
    if (ev->kind == JR_EVENT_REVIEW_HELD) {
        /* Never parked: identifiers no enrolment links name nobody enrolled. */
        bool refused = false;
        int rc =
            check_review_held(store, ctx, st, it, who == JR_RESOLVE_PERSON ? nhs : NULL, &refused);
        if (rc != JR_STORE_OK || refused) {
            return rc;
        }
    }
    bool added = false;
    if (jr_strmap_put(&st->keys, key, 0, &added) != 0) {
        return JR_STORE_RETRY;
    }
    uint32_t cycle = 0;
    int rc = who == JR_RESOLVE_PERSON ? person_cycle(store, st, nhs, &cycle) : JR_STORE_OK;
    if (rc != JR_STORE_OK) {
        return rc;
    }
    size_t r = st->n_rows++;
    snprintf(st->row_nhs[r], sizeof st->row_nhs[0], "%s", nhs);
    st->rows[r] = (jr_store_event_row_t){
        .stream = ev->stream,
        .seid = ev->source_event_id,
        .kind = kind_name(ev->kind),
        .occurred_at_ms = ev->occurred_at_ms,
        .sender = it->sender,
        .nhs = who == JR_RESOLVE_PERSON ? st->row_nhs[r] : NULL,
        .nino = ids.nino,
        .local_id = ids.local,
        .cycle = cycle,
        .envelope = it->raw,
        .envelope_len = it->raw_len,
    };
    st->row_record[r] = NO_RECORD;
    if (who == JR_RESOLVE_PARK) {
        set_outcome(it, JR_ACK_PARKED, NULL,
                    "stored; waiting for an enrolment that links these identifiers to an NHS "
                    "number");
        return parked_push(st, (parked_t){.ev = &it->ev, .row = r}) == 0 ? JR_STORE_OK
                                                                         : JR_STORE_RETRY;
    }
    rc = touch(st, nhs, cycle, &st->row_record[r]);
    set_outcome(it, JR_ACK_OK, NULL, "");
    if (ev->kind == JR_EVENT_ENROLMENT) {
        jr_link_t links[2];
        size_t n = jr_identity_links_of(&ids, links);
        for (size_t i = 0; rc == JR_STORE_OK && i < n; i++) {
            if (jr_identity_lookup(ids_map, links[i].kind, links[i].stream, links[i].value) !=
                    NULL ||
                jr_identity_add(ids_map, &links[i]) != 0) {
                continue; /* already linked (resolve checked it is the same person) */
            }
            st->links[st->n_links] = links[i];
            st->link_stream[st->n_links] = ev->stream;
            st->link_seid[st->n_links++] = ev->source_event_id;
            rc = release_parked(store, ids_map, st, &links[i]);
        }
    } else if (ev->kind == JR_EVENT_REVIEW_HELD && rc == JR_STORE_OK) {
        pc_t *p = &st->persons.v[*jr_strmap_get(&st->persons.index, nhs)];
        p->cycle = cycle + 1;
        rc = jr_store_pg_person_set_cycle(store, nhs, p->cycle);
    }
    return rc;
}

static int cmp_rows(const void *a, const void *b)
{
    const jr_store_row_t *x = a, *y = b;
    int c = strcmp(x->nhs, y->nhs);
    return c != 0 ? c : (x->id > y->id) - (x->id < y->id);
}

/* Every event of the persons the batch touched as the log will hold them
 * after it, from memory, by nhs then id: their earlier events, the stored
 * parked events the batch released, and its own rows (each stamped with the
 * record that first reflects it; ids after every stored one, in arrival
 * order). Persons it touches without naming them (a released event can
 * resolve to one) are read now. *out borrows the envelopes; free the array
 * alone. */
static int gather(jr_store_pg_t *store, batch_state_t *st, jr_store_rows_t *out)
{
    const char **late = calloc(st->touched.n + 1, sizeof *late);
    int rc = late ? JR_STORE_OK : JR_STORE_RETRY;
    size_t n_late = 0;
    for (size_t i = 0; rc == JR_STORE_OK && i < st->touched.n; i++) {
        bool added = false;
        if (jr_strmap_put(&st->named, st->touched.v[i].nhs, 1, &added) != 0) {
            rc = JR_STORE_RETRY;
        } else if (added) {
            late[n_late++] = st->touched.v[i].nhs;
        }
    }
    if (rc == JR_STORE_OK && n_late > 0) { /* their released events included */
        rc = jr_store_pg_persons_events(store, late, n_late, &st->history);
    }
    if (rc == JR_STORE_OK && n_late > 0) {
        rc = jr_store_pg_notice_keys(store, late, n_late, on_notice_key, &st->decided);
    }
    free(late);
    memset(out, 0, sizeof *out);
    out->cap = st->history.n + st->parked_rows.n + st->n_rows + 1;
    out->rows = rc == JR_STORE_OK ? calloc(out->cap, sizeof *out->rows) : NULL;
    if (out->rows == NULL) {
        return JR_STORE_RETRY;
    }
    for (size_t i = 0; i < st->history.n; i++) {
        out->rows[out->n++] = st->history.rows[i];
    }
    for (size_t i = 0; i < st->parked_rows.n; i++) {
        const jr_store_row_t *r = &st->parked_rows.rows[i];
        const size_t *read_late = r->nhs[0] ? jr_strmap_get(&st->named, r->nhs) : NULL;
        if (read_late != NULL && *read_late == 0) {
            out->rows[out->n++] = *r;
        }
    }
    for (size_t i = 0; i < st->n_rows; i++) {
        jr_store_event_row_t *e = &st->rows[i];
        e->seq = st->row_record[i] == NO_RECORD ? 0 : st->base_seq + st->row_record[i] + 1;
        if (e->nhs != NULL) {
            jr_store_row_t *r = &out->rows[out->n++];
            r->id = INT64_MAX / 2 + (int64_t)i;
            snprintf(r->nhs, sizeof r->nhs, "%s", e->nhs);
            r->cycle = e->cycle;
            r->seq = e->seq;
            r->envelope = (uint8_t *)(uintptr_t)e->envelope; /* read only */
            r->envelope_len = e->envelope_len;
        }
    }
    qsort(out->rows, out->n, sizeof *out->rows, cmp_rows);
    return JR_STORE_OK;
}

/* ---- a person's current cycle: due-check row and notice ---- */

/* "nhs\x1fcycle\x1fkey": a notice already decided. */
static void notice_key(char *out, size_t len, const char *nhs, uint32_t cycle, const char *key)
{
    snprintf(out, len, "%s\x1f%u\x1f%s", nhs, cycle, key);
}

static void on_notice_key(void *arg, const char *nhs, uint32_t cycle, const char *key)
{
    char k[64];
    bool added;
    notice_key(k, sizeof k, nhs, cycle, key);
    jr_strmap_put(arg, k, 0, &added); /* out of memory: the INSERT refuses the duplicate */
}

/* The text a notice row borrows. */
typedef struct {
    char key[JR_NOTICE_KEY_MAX];
    char lead[JR_STREAM_CODE_MAX];
    char topic[64];
} notice_text_t;

/* One person's latest notice due by today, unless it is decided already:
 * packed, handed to pubs, and its row filled. *row.nhs is NULL when there
 * is none to send. */
static int decide_notice(const jr_batch_ctx_t *ctx, const pc_t *p, const computed_t *c,
                         const jr_schedule_t *sched, const jr_strmap_t *decided, uint64_t seq,
                         jr_publications_t *pubs, notice_text_t *text, jr_store_notice_t *row)
{
    memset(row, 0, sizeof *row);
    jr_notice_t nt;
    char k[64];
    if (!jr_schedule_latest_notice(sched, &ctx->rules, ctx->today, &nt)) {
        return JR_STORE_OK;
    }
    notice_key(k, sizeof k, p->nhs, p->cycle, nt.key);
    if (jr_strmap_get(decided, k) != NULL) {
        return JR_STORE_OK;
    }
    memset(text, 0, sizeof *text);
    snprintf(text->key, sizeof text->key, "%s", nt.key);
    if (sched->lead != NULL) {
        snprintf(text->lead, sizeof text->lead, "%s", sched->lead->code);
    }
    jr_record_notice_topic(&nt, sched, text->topic, sizeof text->topic);
    jr_record_id_t id = {p->nhs, p->cycle, 0, seq};
    uint8_t *payload = NULL;
    size_t len = 0;
    if (jr_record_encode_notice(&nt, sched, c->review, &id, &payload, &len) != 0) {
        return JR_STORE_RETRY;
    }
    if (pubs_add(pubs, seq, text->topic, payload, len) != 0) {
        free(payload);
        return JR_STORE_RETRY;
    }
    *row = (jr_store_notice_t){
        .nhs = p->nhs,
        .cycle = p->cycle,
        .key = text->key,
        .kind = nt.kind,
        .notice_on = nt.on,
        .review_on = sched->review_on,
        .lead = text->lead[0] ? text->lead : NULL,
        .seq = seq,
        .topic = text->topic,
        .payload = payload, /* owned by pubs */
        .payload_len = len,
    };
    covered_codes(sched, row->covered, &row->n_covered);
    return JR_STORE_OK;
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

/* The person's current cycle settled as of today: its latest notice due,
 * unless decided before (published as seq through pubs; notice->nhs stays
 * NULL when there is none), and its due-check row, which moves past today. */
static int settle_current(const jr_batch_ctx_t *ctx, const pc_t *p, const computed_t *c,
                          const jr_strmap_t *decided, uint64_t seq, jr_publications_t *pubs,
                          notice_text_t *notice_text, jr_store_notice_t *notice,
                          schedule_text_t *schedule_text, jr_store_schedule_t *schedule)
{
    jr_schedule_t *sched =
        jr_schedule_compute(c->sched_ev, c->n_sched, ctx->streams, &ctx->rules, ctx->today);
    if (sched == NULL) {
        return JR_STORE_RETRY;
    }
    int rc = decide_notice(ctx, p, c, sched, decided, seq, pubs, notice_text, notice);
    if (rc == JR_STORE_OK) {
        schedule_row_of(ctx, p->nhs, p->cycle, sched, true, schedule_text, schedule);
    }
    jr_schedule_destroy(&sched);
    return rc;
}

/* What a batch or a due-check round writes for the persons it settles. */
typedef struct {
    const jr_strmap_t *decided; /* notices decided before */
    jr_store_notice_t *notices;
    notice_text_t *notice_text;
    size_t n_notices;
    jr_store_schedule_t *schedules;
    schedule_text_t *schedule_text;
    bool *scheduled;
} settled_t;

static int settled_init(settled_t *s, size_t n, const jr_strmap_t *decided)
{
    memset(s, 0, sizeof *s);
    s->decided = decided;
    s->notices = calloc(n + 1, sizeof *s->notices);
    s->notice_text = calloc(n + 1, sizeof *s->notice_text);
    s->schedules = calloc(n + 1, sizeof *s->schedules);
    s->schedule_text = calloc(n + 1, sizeof *s->schedule_text);
    s->scheduled = calloc(n + 1, sizeof *s->scheduled);
    return s->notices && s->notice_text && s->schedules && s->schedule_text && s->scheduled
               ? JR_STORE_OK
               : JR_STORE_RETRY;
}

static void settled_clear(settled_t *s)
{
    free(s->notices);
    free(s->notice_text);
    free(s->schedules);
    free(s->schedule_text);
    free(s->scheduled);
    memset(s, 0, sizeof *s);
}

/* Settles person i of the list (position i of the arrays); a notice takes
 * sequence number seq. */
static int settle(const jr_batch_ctx_t *ctx, settled_t *s, size_t i, const pc_t *p,
                  const computed_t *c, uint64_t seq, jr_publications_t *pubs)
{
    jr_store_notice_t *notice = &s->notices[s->n_notices];
    int rc = settle_current(ctx, p, c, s->decided, seq, pubs, &s->notice_text[s->n_notices], notice,
                            &s->schedule_text[i], &s->schedules[i]);
    if (rc == JR_STORE_OK && notice->nhs != NULL) {
        s->n_notices++;
    }
    s->scheduled[i] = rc == JR_STORE_OK;
    return rc;
}

/* Writes the notices (with their outbox rows) and the due-check rows. */
static int settled_write(jr_store_pg_t *store, const settled_t *s, size_t n)
{
    int rc = JR_STORE_OK;
    if (s->n_notices > 0) {
        rc = jr_store_pg_notices_add(store, s->notices, s->n_notices);
    }
    if (rc == JR_STORE_OK && n > 0) {
        rc = jr_store_pg_schedules_put(store, s->schedules, n);
    }
    return rc;
}

/* What a batch publishes for the (person, cycle) records it touched. */
typedef struct {
    size_t n_t, n; /* records; distinct persons */
    pc_t *current; /* each person's current cycle */
    const char **nhs;
    jr_store_review_t *records;
    settled_t settled;
} touched_t;

static void touched_clear(touched_t *t)
{
    settled_clear(&t->settled);
    free(t->current);
    free(t->nhs);
    free(t->records);
    memset(t, 0, sizeof *t);
}

/* Merges every (person, cycle) the batch touched from `all` (gather())
 * and packs its record; then settles each person's current cycle (the
 * notice it brought due, the next check), so the due check has nothing left
 * to do for them. No I/O. Records take the sequence numbers first, in touch
 * order, then the notices; the publications go to pubs in that order. */
static int merge_touched(const jr_batch_ctx_t *ctx, batch_state_t *st, const jr_store_rows_t *all,
                         uint64_t *seq, jr_publications_t *pubs, touched_t *out)
{
    size_t n_t = st->touched.n;
    uint64_t first_notice = *seq + n_t + 1;
    jr_strmap_t persons = {0}; /* distinct persons touched -> position */
    jr_publications_t notice_pubs = {0};
    memset(out, 0, sizeof *out);
    out->n_t = n_t;
    out->current = calloc(n_t + 1, sizeof *out->current);
    out->nhs = calloc(n_t + 1, sizeof *out->nhs);
    out->records = calloc(n_t + 1, sizeof *out->records);
    int rc = settled_init(&out->settled, n_t, &st->decided);
    if (out->current == NULL || out->nhs == NULL || out->records == NULL) {
        rc = JR_STORE_RETRY;
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < n_t; i++) {
        bool added = false;
        const char *who = st->touched.v[i].nhs;
        if (jr_strmap_put(&persons, who, out->n, &added) != 0) {
            rc = JR_STORE_RETRY;
        } else if (added) {
            out->current[out->n] = st->persons.v[*jr_strmap_get(&st->persons.index, who)];
            out->nhs[out->n++] = who;
        }
    }
    settled_t *settled = &out->settled;
    for (size_t i = 0; rc == JR_STORE_OK && i < n_t; i++) {
        const pc_t *t = &st->touched.v[i];
        size_t nrows = 0, p = *jr_strmap_get(&persons, t->nhs);
        const jr_store_row_t *rows = rows_of(all, t->nhs, &nrows);
        computed_t c = {0};
        rc = compute_rows(ctx, t->nhs, t->cycle, *seq + 1, rows, nrows, &c);
        if (rc == 1) {
            jr_log(JR_LOG_ERR, "batch", "record %s cycle %u has no event to publish", t->nhs,
                   t->cycle);
            rc = JR_STORE_RETRY;
        }
        if (rc == JR_STORE_OK) {
            out->records[i] = review_row(t->nhs, t->cycle, &c);
            rc = pubs_add(pubs, *seq + 1, TOPIC_REVIEW, c.record, c.len) == 0 ? JR_STORE_OK
                                                                              : JR_STORE_RETRY;
        }
        if (rc == JR_STORE_OK) {
            c.record = NULL; /* now owned by pubs; the record row still points at it */
            (*seq)++;
        }
        if (rc == JR_STORE_OK && t->cycle == out->current[p].cycle) {
            rc = settle(ctx, settled, p, &out->current[p], &c, first_notice + settled->n_notices,
                        &notice_pubs);
        }
        computed_clear(&c);
    }
    /* Persons whose current cycle was not touched (a review held closed the
     * one that was). */
    for (size_t p = 0; rc == JR_STORE_OK && p < out->n; p++) {
        if (settled->scheduled[p]) {
            continue;
        }
        size_t nrows = 0;
        const jr_store_row_t *rows = rows_of(all, out->nhs[p], &nrows);
        computed_t c = {0};
        rc = compute_rows(ctx, out->nhs[p], out->current[p].cycle, 0, rows, nrows, &c);
        rc = rc == 1 ? JR_STORE_OK : rc;
        if (rc == JR_STORE_OK) {
            rc = settle(ctx, settled, p, &out->current[p], &c, first_notice + settled->n_notices,
                        &notice_pubs);
        }
        computed_clear(&c);
    }
    /* The notices' publications follow the records'. */
    for (size_t i = 0; rc == JR_STORE_OK && i < notice_pubs.n; i++) {
        jr_publication_t *np = &notice_pubs.items[i];
        if (pubs_add(pubs, np->seq, np->topic, np->payload, np->len) != 0) {
            rc = JR_STORE_RETRY;
            break;
        }
        np->payload = NULL; /* now owned by pubs; the notice row still points at it */
        (*seq)++;
    }
    jr_publications_clear(&notice_pubs);
    jr_strmap_clear(&persons);
    return rc;
}

/* Writes what merge_touched() decided: records with their outbox rows,
 * notices with theirs, and the due-check rows. */
static int write_touched(jr_store_pg_t *store, const touched_t *t)
{
    int rc = t->n_t > 0 ? jr_store_pg_publish_records(store, t->records, t->n_t) : JR_STORE_OK;
    return rc == JR_STORE_OK ? settled_write(store, &t->settled, t->n) : rc;
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
        for (size_t i = before; i < pubs->n; i++) {
            free(pubs->items[i].payload);
        }
        pubs->n = before;
    }
    return rc;
}

/* The whole batch in one transaction: read what it needs, decide every
 * envelope in memory, then write rows, links, records and the due-check
 * index with a handful of statements whatever the batch's size. */
static int write_once(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_batch_item_t *items,
                      size_t n, uint64_t *last_seq, jr_publications_t *pubs)
{
    batch_state_t st = {.base_seq = *last_seq};
    st.rows = calloc(n + 1, sizeof *st.rows);
    st.row_nhs = calloc(n + 1, sizeof *st.row_nhs);
    st.row_record = calloc(n + 1, sizeof *st.row_record);
    st.links = calloc(2 * n + 1, sizeof *st.links);
    st.link_stream = calloc(2 * n + 1, sizeof *st.link_stream);
    st.link_seid = calloc(2 * n + 1, sizeof *st.link_seid);
    jr_identity_t *ids_map = jr_identity_new();
    size_t pubs_before = pubs->n;
    uint64_t seq = *last_seq;
    jr_store_rows_t all = {0};
    touched_t touched = {0};
    int rc = JR_STORE_RETRY;
    if (st.rows == NULL || st.row_nhs == NULL || st.row_record == NULL || st.links == NULL ||
        st.link_stream == NULL || st.link_seid == NULL || ids_map == NULL) {
        goto done;
    }
    rc = jr_store_pg_begin(store);
    if (rc == JR_STORE_OK) {
        rc = prefetch(store, ctx, &st, ids_map, items, n);
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < n; i++) {
        jr_batch_item_t *it = &items[i];
        if (it->decoded) {
            rc = plan_event(store, ctx, ids_map, &st, it);
        } else {
            set_outcome(it, JR_ACK_REJECTED, it->why.code, it->why.text);
            rc = jr_store_pg_rejected_add(store, it->sender, it->stream, it->seid, it->code,
                                          it->reason, it->raw, it->raw_len);
        }
    }
    /* The events go to the log while the records are merged: PostgreSQL
     * writes the COPY on one core while the daemon computes on the other. */
    if (rc == JR_STORE_OK) {
        rc = gather(store, &st, &all);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_events_copy_send(store, st.rows, st.n_rows);
    }
    if (rc == JR_STORE_OK) {
        rc = merge_touched(ctx, &st, &all, &seq, pubs, &touched);
        int copied = jr_store_pg_events_copy_end(store);
        rc = rc == JR_STORE_OK ? copied : rc;
    }
    if (rc == JR_STORE_OK && st.n_links > 0) {
        rc = jr_store_pg_links_add_many(store, st.links, st.link_stream, st.link_seid, st.n_links);
    }
    if (rc == JR_STORE_OK) {
        rc = write_touched(store, &touched);
    }
done:
    rc = commit_or_undo(store, rc, pubs, pubs_before);
    if (rc == JR_STORE_OK) {
        *last_seq = seq;
    }
    touched_clear(&touched);
    free(all.rows); /* the envelopes are borrowed */
    batch_state_clear(&st);
    jr_identity_destroy(&ids_map);
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
                jr_store_review_t row = review_row(nhs, cycle, &c);
                rc = jr_store_pg_review_put(rb->store, &row);
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

enum { DUE_ROUND = 500 }; /* persons per transaction of the due check */

typedef struct {
    pc_t v[DUE_ROUND];
    size_t n;
} due_list_t;

static int on_due(void *arg, const char *nhs, uint32_t cycle)
{
    due_list_t *l = arg;
    if (l->n < DUE_ROUND) {
        snprintf(l->v[l->n].nhs, sizeof l->v[0].nhs, "%s", nhs);
        l->v[l->n++].cycle = cycle;
    }
    return JR_STORE_OK;
}

/* One round of the due check inside a transaction: up to DUE_ROUND persons
 * whose next check has come, their events in one read, the notices they
 * have decided in another; each one is settled (settle_current()). */
static int due_round(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, due_list_t *due,
                     uint64_t *seq, jr_publications_t *pubs, size_t *sent)
{
    size_t n = 0;
    int rc = jr_store_pg_schedule_due(store, ctx->today, DUE_ROUND, on_due, due, &n);
    if (rc != JR_STORE_OK || due->n == 0) {
        return rc;
    }
    const char *nhs[DUE_ROUND];
    for (size_t i = 0; i < due->n; i++) {
        nhs[i] = due->v[i].nhs;
    }
    jr_store_rows_t all = {0};
    jr_strmap_t decided = {0};
    settled_t settled;
    rc = settled_init(&settled, due->n, &decided);
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_persons_events(store, nhs, due->n, &all);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_notice_keys(store, nhs, due->n, on_notice_key, &decided);
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < due->n; i++) {
        const pc_t *p = &due->v[i];
        size_t nrows = 0;
        const jr_store_row_t *rows = rows_of(&all, p->nhs, &nrows);
        computed_t c = {0};
        rc = compute_rows(ctx, p->nhs, p->cycle, 0, rows, nrows, &c);
        rc = rc == 1 ? JR_STORE_OK : rc; /* no record yet: notices all the same */
        if (rc == JR_STORE_OK) {
            rc = settle(ctx, &settled, i, p, &c, *seq + settled.n_notices + 1, pubs);
        }
        computed_clear(&c);
    }
    if (rc == JR_STORE_OK) {
        rc = settled_write(store, &settled, due->n);
    }
    if (rc == JR_STORE_OK) {
        *seq += settled.n_notices;
        *sent += settled.n_notices;
    }
    jr_store_rows_clear(&all);
    settled_clear(&settled);
    jr_strmap_clear(&decided);
    return rc;
}

int jr_batch_due_check(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, uint64_t *last_seq,
                       jr_publications_t *pubs, size_t *sent, size_t *persons, bool *more)
{
    *sent = 0;
    *persons = 0;
    *more = false;
    due_list_t *due = malloc(sizeof *due);
    if (due == NULL) {
        return JR_STORE_RETRY;
    }
    due->n = 0;
    uint64_t seq = *last_seq;
    size_t pubs_before = pubs->n, round_sent = 0;
    int rc = jr_store_pg_begin(store);
    if (rc == JR_STORE_OK) {
        rc = due_round(store, ctx, due, &seq, pubs, &round_sent);
    }
    rc = commit_or_undo(store, rc, pubs, pubs_before);
    if (rc == JR_STORE_OK) {
        *last_seq = seq;
        *sent = round_sent;
        *persons = due->n;
        *more = due->n == DUE_ROUND;
    }
    free(due);
    return rc;
}
