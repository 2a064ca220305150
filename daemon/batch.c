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
    pubs->items[pubs->n++] = (jr_publication_t){seq, topic, payload, len};
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

typedef struct {
    uint8_t *record;
    size_t len;
    uint32_t version;
    uint64_t seq;
    bool ready;
    char held_on[11];
} computed_t;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Merges (nhs, cycle). new_seq != 0: the cycle's unpublished events are
 * being published now as new_seq. new_seq == 0: a rebuild, which derives the
 * version and sequence from what is stored. */
static int compute(jr_store_pg_t *store, const jr_streams_t *streams, const char *nhs,
                   uint32_t cycle, uint64_t new_seq, computed_t *out)
{
    jr_store_rows_t rows = {0};
    memset(out, 0, sizeof *out);
    int rc = jr_store_pg_cycle_events(store, nhs, cycle, &rows);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    jr_codec_event_t *dec = calloc(rows.n + 1, sizeof *dec);
    jr_event_t *cycle_ev = calloc(rows.n + 1, sizeof *cycle_ev);
    jr_event_t *enrol = calloc(rows.n + 1, sizeof *enrol);
    uint64_t *seqs = calloc(rows.n + 1, sizeof *seqs);
    size_t n_cycle = 0, n_enrol = 0, n_seqs = 0;
    rc = JR_STORE_RETRY;
    if (dec == NULL || cycle_ev == NULL || enrol == NULL || seqs == NULL) {
        goto done;
    }
    for (size_t i = 0; i < rows.n; i++) {
        const jr_store_row_t *r = &rows.rows[i];
        jr_reject_t why;
        if (r->cycle == cycle) {
            seqs[n_seqs++] = r->seq != 0 ? r->seq : new_seq;
        }
        if (jr_codec_decode(r->envelope, r->envelope_len, streams, &g_stored_limits, &dec[i], &why,
                            NULL, NULL) != 0) {
            /* e.g. its stream has since been disabled in the configuration */
            jr_log(JR_LOG_WARNING, "batch", "stored event %lld left out of the merge: %s",
                   (long long)r->id, why.text);
            continue;
        }
        if (dec[i].event.kind == JR_EVENT_ENROLMENT) {
            enrol[n_enrol++] = dec[i].event;
        } else if (r->cycle == cycle) {
            cycle_ev[n_cycle++] = dec[i].event;
        }
    }
    qsort(seqs, n_seqs, sizeof *seqs, cmp_u64);
    uint32_t version = 0;
    uint64_t seq = 0;
    for (size_t i = 0; i < n_seqs; i++) {
        if (seqs[i] != 0 && (i == 0 || seqs[i] != seqs[i - 1])) {
            version++;
            seq = seqs[i];
        }
    }
    jr_merge_input_t in = {cycle_ev, n_cycle, enrol, n_enrol};
    jr_review_t *review = jr_merge_review(&in, streams);
    if (review == NULL) {
        goto done;
    }
    jr_record_id_t id = {nhs, cycle, version, seq};
    if (jr_codec_encode_review(review, &id, &out->record, &out->len) == 0) {
        out->version = version;
        out->seq = seq;
        out->ready = review->ready_for_sign_off;
        if (review->review_held != NULL) {
            jr_text_format_date(review->review_held->u.review_held.held_on, out->held_on);
        }
        rc = version > 0 ? JR_STORE_OK : 1; /* 1: nothing published in this cycle */
    }
    jr_merge_destroy(&review);
done:
    for (size_t i = 0; dec != NULL && i < rows.n; i++) {
        jr_codec_event_clear(&dec[i]);
    }
    free(dec);
    free(cycle_ev);
    free(enrol);
    free(seqs);
    jr_store_rows_clear(&rows);
    return rc;
}

static int store_computed(jr_store_pg_t *store, const char *nhs, uint32_t cycle,
                          const computed_t *c)
{
    jr_store_review_t r = {
        .nhs = nhs,
        .cycle = cycle,
        .version = c->version,
        .seq = c->seq,
        .ready = c->ready,
        .held_on = c->held_on[0] ? c->held_on : NULL,
        .record = c->record,
        .record_len = c->len,
    };
    return jr_store_pg_review_put(store, &r);
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
static int release_parked(jr_store_pg_t *store, const jr_streams_t *streams, jr_identity_t *ids_map,
                          batch_state_t *st, const jr_link_t *link)
{
    jr_store_rows_t rows = {0};
    int rc = jr_store_pg_parked_for(store, link, &rows);
    for (size_t i = 0; rc == JR_STORE_OK && i < rows.n; i++) {
        jr_codec_event_t ev;
        jr_reject_t why;
        if (jr_codec_decode(rows.rows[i].envelope, rows.rows[i].envelope_len, streams,
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
static int write_event(jr_store_pg_t *store, const jr_streams_t *streams, jr_identity_t *ids_map,
                       batch_state_t *st, jr_batch_item_t *it)
{
    const jr_event_t *ev = &it->ev.event;
    bool exists = false;
    int rc = jr_store_pg_event_exists(store, ev->stream, ev->source_event_id, &exists);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    if (exists) {
        set_outcome(it, JR_ACK_DUPLICATE, NULL, "already stored");
        return JR_STORE_OK;
    }
    jr_ids_t ids = ids_of(&it->ev);
    rc = load_links(store, ids_map, &ids);
    if (rc != JR_STORE_OK) {
        return rc;
    }
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
                rc = release_parked(store, streams, ids_map, st, &links[i]);
            }
        }
    } else if (ev->kind == JR_EVENT_REVIEW_HELD) {
        pc_t *p = find_pc(st->persons, st->n_persons, nhs, 0, true);
        p->cycle = cycle + 1;
        rc = jr_store_pg_person_set_cycle(store, nhs, p->cycle);
    }
    return rc;
}

/* The whole batch in one transaction. */
static int write_once(jr_store_pg_t *store, const jr_streams_t *streams, jr_batch_item_t *items,
                      size_t n, uint64_t *last_seq, jr_publications_t *pubs)
{
    /* Each valid item touches at most its person plus those its links
     * release; released events are bounded by what is parked, so size the
     * lists generously and grow if needed. */
    batch_state_t st = {0};
    st.cap = 2 * n + 16;
    st.persons = calloc(st.cap, sizeof *st.persons);
    st.touched = calloc(st.cap, sizeof *st.touched);
    jr_identity_t *ids_map = jr_identity_new();
    size_t pubs_before = pubs->n;
    uint64_t seq = *last_seq;
    int rc = JR_STORE_RETRY;
    if (st.persons == NULL || st.touched == NULL || ids_map == NULL) {
        goto done;
    }
    rc = jr_store_pg_begin(store);
    for (size_t i = 0; rc == JR_STORE_OK && i < n; i++) {
        jr_batch_item_t *it = &items[i];
        if (it->decoded) {
            if (st.n_persons + 4 > st.cap || st.n_touched + 4 > st.cap) {
                rc = JR_STORE_RETRY; /* unreachable with the sizing above */
                break;
            }
            rc = write_event(store, streams, ids_map, &st, it);
        } else {
            set_outcome(it, JR_ACK_REJECTED, it->why.code, it->why.text);
            rc = jr_store_pg_rejected_add(store, it->sender, it->stream, it->seid, it->code,
                                          it->reason, it->raw, it->raw_len);
        }
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < st.n_touched; i++) {
        const pc_t *t = &st.touched[i];
        computed_t c;
        rc = compute(store, streams, t->nhs, t->cycle, seq + 1, &c);
        if (rc == JR_STORE_OK) {
            seq++;
            rc = jr_store_pg_cycle_stamp(store, t->nhs, t->cycle, seq);
        }
        if (rc == JR_STORE_OK) {
            rc = store_computed(store, t->nhs, t->cycle, &c);
        }
        if (rc == JR_STORE_OK) {
            rc = jr_store_pg_outbox_add(store, seq, TOPIC_REVIEW, t->nhs, c.record, c.len);
        }
        if (rc == JR_STORE_OK && pubs_add(pubs, seq, TOPIC_REVIEW, c.record, c.len) == 0) {
            c.record = NULL; /* now owned by pubs */
        } else if (rc == JR_STORE_OK) {
            rc = JR_STORE_RETRY;
        }
        free(c.record);
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
    jr_identity_destroy(&ids_map);
    free(st.persons);
    free(st.touched);
    return rc;
}

int jr_batch_write(jr_store_pg_t *store, const jr_streams_t *streams, jr_batch_item_t *items,
                   size_t n, uint64_t *last_seq, jr_publications_t *pubs)
{
    int rc = write_once(store, streams, items, n, last_seq, pubs);
    if (rc == JR_STORE_DATA && n > 1) {
        /* Find the envelope the database refused: one per transaction. */
        jr_log(JR_LOG_WARNING, "batch", "batch of %zu refused (%s); writing one at a time", n,
               jr_store_pg_error(store));
        rc = JR_STORE_OK;
        for (size_t i = 0; i < n; i++) {
            int one = write_once(store, streams, &items[i], 1, last_seq, pubs);
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
    const jr_streams_t *streams;
    size_t records, differed;
} rebuild_t;

static int rebuild_person(void *ctx, const char *nhs, uint32_t current)
{
    rebuild_t *rb = ctx;
    for (uint32_t cycle = 1; cycle <= current; cycle++) {
        computed_t c;
        int rc = compute(rb->store, rb->streams, nhs, cycle, 0, &c);
        if (rc == 1) {
            free(c.record);
            continue; /* nothing published in this cycle yet */
        }
        if (rc != JR_STORE_OK) {
            return rc;
        }
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
            rc = store_computed(rb->store, nhs, cycle, &c);
        }
        free(old);
        free(c.record);
        if (rc != JR_STORE_OK) {
            return rc;
        }
    }
    return JR_STORE_OK;
}

int jr_batch_rebuild(jr_store_pg_t *store, const jr_streams_t *streams, size_t *records,
                     size_t *differed)
{
    rebuild_t rb = {store, streams, 0, 0};
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
