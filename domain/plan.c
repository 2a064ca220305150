/* plan.c -- see plan.h. */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "strmap.h"

/* Batch rows come after every stored event of their person, in arrival
 * order. */
#define BATCH_ORDER (INT64_MAX / 2)

/* One of a person's events, as the log will hold it after the batch. */
typedef struct {
    jr_event_t ev; /* its strings borrowed from the input */
    uint32_t cycle;
    uint64_t seq;  /* the record that first reflects it */
    int64_t order; /* the stored id; batch rows after them */
} pev_t;

typedef struct {
    char nhs[JR_NHS_LEN + 1];
    uint32_t cycle; /* current, as the batch leaves it */
    bool settled;
    pev_t *ev;
    size_t n, cap;
} person_t;

/* One (person, cycle) merged: the arrays the review and schedules borrow. */
typedef struct {
    jr_event_t *cycle_ev, *enrol, *sched_ev, *kept;
    size_t n_cycle, n_enrol, n_sched, n_kept;
    jr_review_t *review;
    jr_schedule_t *schedule; /* as of review->as_of */
    jr_schedule_t *meeting;  /* as the review held found it; NULL while open */
    uint32_t version;
    uint64_t seq;
} view_t;

/* What the plan's records and notices borrow, freed with it. */
typedef struct {
    view_t **views;
    size_t n_views, cap_views;
    jr_schedule_t **today; /* schedules as of today, for notices */
    size_t n_today, cap_today;
} owned_t;


#define PUSH(arr, n, cap, item)                                                                    \
    do {                                                                                           \
        void *grown_ = jr_grow((arr), &(cap), (n), sizeof *(arr));                                    \
        if (grown_ == NULL) {                                                                      \
            return -1;                                                                             \
        }                                                                                          \
        (arr) = grown_;                                                                            \
        (arr)[(n)++] = (item);                                                                     \
    } while (0)

void jr_plan_notice_key(char *out, size_t len, const char *nhs, uint32_t cycle, const char *key)
{
    snprintf(out, len, "%s\x1f%u\x1f%s", nhs, cycle, key);
}

/* ---- one (person, cycle) merged ---- */

static void view_destroy(view_t **v)
{
    if (*v == NULL) {
        return;
    }
    free((*v)->cycle_ev);
    free((*v)->enrol);
    free((*v)->sched_ev);
    free((*v)->kept);
    jr_merge_destroy(&(*v)->review);
    jr_schedule_destroy(&(*v)->schedule);
    jr_schedule_destroy(&(*v)->meeting);
    free(*v);
    *v = NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Merges cycle `cycle` of a person's events. Events of the cycle with no
 * sequence yet are published now as new_seq (0: none is). The version is
 * the number of distinct publications among the cycle's events, and the
 * sequence the latest (version 0: no record). NULL when out of memory. */
static view_t *view_of(const jr_plan_ctx_t *ctx, const pev_t *ev, size_t n, uint32_t cycle,
                       uint64_t new_seq)
{
    view_t *v = calloc(1, sizeof *v);
    uint64_t *seqs = calloc(n + 1, sizeof *seqs);
    if (v == NULL || seqs == NULL || (v->cycle_ev = calloc(n + 1, sizeof *v->cycle_ev)) == NULL ||
        (v->enrol = calloc(n + 1, sizeof *v->enrol)) == NULL ||
        (v->sched_ev = calloc(n + 1, sizeof *v->sched_ev)) == NULL ||
        (v->kept = calloc(n + 1, sizeof *v->kept)) == NULL) {
        free(seqs);
        view_destroy(&v);
        return NULL;
    }
    size_t n_seqs = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].cycle > cycle) {
            continue;
        }
        const jr_event_t *e = &ev[i].ev;
        if (ev[i].cycle == cycle) {
            seqs[n_seqs++] = ev[i].seq != 0 ? ev[i].seq : new_seq;
        }
        if (e->kind == JR_EVENT_ENROLMENT) {
            v->enrol[v->n_enrol++] = *e;
            v->sched_ev[v->n_sched++] = *e;
        } else if (e->kind == JR_EVENT_REVIEW_HELD) {
            v->sched_ev[v->n_sched++] = *e;
        }
        if (e->kind == JR_EVENT_PREFERENCES || e->kind == JR_EVENT_BUDGET) {
            v->kept[v->n_kept++] = *e; /* kept across cycles */
        } else if (ev[i].cycle == cycle && e->kind != JR_EVENT_ENROLMENT) {
            v->cycle_ev[v->n_cycle++] = *e;
        }
    }
    qsort(seqs, n_seqs, sizeof *seqs, cmp_u64);
    for (size_t i = 0; i < n_seqs; i++) {
        if (seqs[i] != 0 && (i == 0 || seqs[i] != seqs[i - 1])) {
            v->version++;
            v->seq = seqs[i];
        }
    }
    free(seqs);
    jr_merge_input_t in = {v->cycle_ev, v->n_cycle, v->enrol, v->n_enrol, v->kept, v->n_kept};
    v->review = jr_merge_review(&in, ctx->streams);
    /* The record's schedule is as of its own date, so that it is a function
     * of the event log alone; so is what the review held found. */
    v->schedule = v->review == NULL ? NULL
                                    : jr_schedule_compute(v->sched_ev, v->n_sched, ctx->streams,
                                                          &ctx->rules, v->review->as_of);
    if (v->schedule != NULL && v->review->review_held != NULL) {
        v->meeting =
            jr_schedule_at_meeting(v->sched_ev, v->n_sched, ctx->streams, &ctx->rules,
                                   v->review->review_held->u.review_held.held_on);
        if (v->meeting == NULL) {
            view_destroy(&v);
            return NULL;
        }
    }
    if (v->schedule == NULL) {
        view_destroy(&v);
    }
    return v;
}

static int own_view(owned_t *o, view_t *v)
{
    PUSH(o->views, o->n_views, o->cap_views, v);
    return 0;
}

static int own_today(owned_t *o, jr_schedule_t *s)
{
    PUSH(o->today, o->n_today, o->cap_today, s);
    return 0;
}

/* ---- the persons of a plan ---- */

typedef struct {
    person_t *v;
    size_t n, cap;
    jr_strmap_t index; /* nhs -> position */
} persons_t;

static void persons_clear(persons_t *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->v[i].ev);
    }
    free(ps->v);
    jr_strmap_clear(&ps->index);
    memset(ps, 0, sizeof *ps);
}

static person_t *person_find(const persons_t *ps, const char *nhs)
{
    size_t *at = jr_strmap_get(&ps->index, nhs);
    return at ? &ps->v[*at] : NULL;
}

/* The person, added at `cycle` when not yet there (*added says so). */
static person_t *person_get(persons_t *ps, const char *nhs, uint32_t cycle, bool *added)
{
    person_t *p = person_find(ps, nhs);
    *added = false;
    if (p != NULL) {
        return p;
    }
    person_t *v = jr_grow(ps->v, &ps->cap, ps->n, sizeof *v);
    if (v == NULL) {
        return NULL;
    }
    ps->v = v;
    bool put = false;
    if (jr_strmap_put(&ps->index, nhs, ps->n, &put) != 0) {
        return NULL;
    }
    p = &ps->v[ps->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->nhs, sizeof p->nhs, "%s", nhs);
    p->cycle = cycle;
    *added = true;
    return p;
}

static int person_add_event(person_t *p, pev_t e)
{
    PUSH(p->ev, p->n, p->cap, e);
    return 0;
}

static int cmp_pev(const void *a, const void *b)
{
    const pev_t *x = a, *y = b;
    return (x->order > y->order) - (x->order < y->order);
}

/* Known persons at their cycles, and every stored event of each. */
static int persons_load(persons_t *ps, const jr_plan_input_t *in)
{
    bool added;
    for (size_t i = 0; i < in->n_persons; i++) {
        if (person_get(ps, in->persons[i].nhs, in->persons[i].cycle, &added) == NULL) {
            return -1;
        }
    }
    for (size_t i = 0; i < in->n_stored; i++) {
        const jr_plan_stored_t *s = &in->stored[i];
        if (s->nhs[0] == '\0') {
            continue; /* parked */
        }
        person_t *p = person_get(ps, s->nhs, s->cycle, &added);
        pev_t e = {s->ev.event, s->cycle, s->seq, s->id};
        if (p == NULL || person_add_event(p, e) != 0) {
            return -1;
        }
        if (added) {
            /* Its events without its person: the log's current cycle is at
             * least the latest cycle of its events. */
            p->cycle = p->cycle < s->cycle ? s->cycle : p->cycle;
        }
    }
    return 0;
}

/* ---- the outputs ---- */

static jr_plan_t *plan_new(size_t n_envelopes, uint64_t last_seq)
{
    jr_plan_t *pl = calloc(1, sizeof *pl);
    if (pl == NULL) {
        return NULL;
    }
    pl->outcomes = calloc(n_envelopes + 1, sizeof *pl->outcomes);
    pl->priv = calloc(1, sizeof(owned_t));
    pl->last_seq = last_seq;
    if (pl->outcomes == NULL || pl->priv == NULL) {
        jr_plan_destroy(&pl);
    }
    return pl;
}

void jr_plan_destroy(jr_plan_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_plan_t *pl = *self_p;
    owned_t *o = pl->priv;
    for (size_t i = 0; o != NULL && i < o->n_views; i++) {
        view_destroy(&o->views[i]);
    }
    for (size_t i = 0; o != NULL && i < o->n_today; i++) {
        jr_schedule_destroy(&o->today[i]);
    }
    if (o != NULL) {
        free(o->views);
        free(o->today);
    }
    free(o);
    free(pl->outcomes);
    free(pl->rows);
    free(pl->releases);
    free(pl->links);
    free(pl->new_persons);
    free(pl->cycles);
    free(pl->records);
    free(pl->notices);
    free(pl->due);
    free(pl);
    *self_p = NULL;
}

static void outcome(jr_plan_t *pl, size_t i, jr_plan_status_t status, const char *code,
                    const char *reason)
{
    pl->outcomes[i].status = status;
    pl->outcomes[i].code = code;
    snprintf(pl->outcomes[i].reason, sizeof pl->outcomes[i].reason, "%s", reason);
}

/* The person's row of the due-check index, from their schedule as of
 * today: checked today when a notice is due and not yet decided, else on
 * the next notice date. */
static jr_plan_due_t due_row(const jr_plan_ctx_t *ctx, const char *nhs, uint32_t cycle,
                             const jr_schedule_t *today, const jr_review_t *review, bool decided)
{
    jr_plan_due_t row = {.cycle = cycle, .review_on = today->review_on, .lead = today->lead};
    if (today->review_on != JR_DAY_NONE && today->lead != NULL) {
        row.group_key = review->group_key;
    }
    snprintf(row.nhs, sizeof row.nhs, "%s", nhs);
    bool check_today =
        !decided && jr_schedule_notices_due(today, &ctx->rules, ctx->today, NULL, 0) > 0;
    row.next_check_on =
        check_today ? ctx->today : jr_schedule_next_notice_on(today, &ctx->rules, ctx->today);
    for (size_t i = 0; i < today->n_streams; i++) {
        if (today->streams[i].covered && row.n_covered < JR_STREAMS_MAX) {
            row.covered[row.n_covered++] = today->streams[i].stream;
            row.separate_meetings += today->streams[i].drives;
        }
    }
    return row;
}

/* Settles a person's current cycle as of today, from its view: the latest
 * notice due unless decided before (published as the next sequence), and
 * the due-check row, which moves past today. */
static int settle(const jr_plan_ctx_t *ctx, const jr_strmap_t *decided, jr_plan_t *pl,
                  const char *nhs, uint32_t cycle, const view_t *v, size_t *cap_notices,
                  size_t *cap_due)
{
    owned_t *o = pl->priv;
    jr_schedule_t *today =
        jr_schedule_compute(v->sched_ev, v->n_sched, ctx->streams, &ctx->rules, ctx->today);
    if (today == NULL || own_today(o, today) != 0) {
        jr_schedule_destroy(&today);
        return -1;
    }
    jr_notice_t nt;
    if (jr_schedule_latest_notice(today, &ctx->rules, ctx->today, &nt)) {
        char k[96];
        jr_plan_notice_key(k, sizeof k, nhs, cycle, nt.key);
        if (jr_strmap_get(decided, k) == NULL) {
            jr_plan_notice_t n = {.cycle = cycle,
                                  .seq = ++pl->last_seq,
                                  .notice = nt,
                                  .schedule = today,
                                  .review = v->review};
            snprintf(n.nhs, sizeof n.nhs, "%s", nhs);
            PUSH(pl->notices, pl->n_notices, *cap_notices, n);
        }
    }
    PUSH(pl->due, pl->n_due, *cap_due, due_row(ctx, nhs, cycle, today, v->review, true));
    return 0;
}

static int decided_load(jr_strmap_t *decided, const jr_plan_input_t *in)
{
    bool added;
    for (size_t i = 0; i < in->n_decided; i++) {
        if (jr_strmap_put(decided, in->decided[i], 0, &added) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- deciding a batch ---- */

/* A parked event the batch may release: stored, or one of its own rows. */
typedef struct {
    const jr_plan_event_t *ev;
    int64_t id;      /* stored: its id; 0: the batch's own */
    size_t envelope; /* the batch's own: its envelope */
    size_t row;      /* the batch's own: its row */
    bool released;
} parked_t;

typedef struct {
    const jr_plan_ctx_t *ctx;
    const jr_plan_input_t *in;
    jr_plan_t *pl;
    jr_identity_t *ids;
    persons_t persons;
    jr_strmap_t keys;    /* keys stored by this batch */
    jr_strmap_t touched; /* "nhs\x1fcycle" -> record position */
    jr_plan_cycle_t *touch;
    size_t n_touch, cap_touch;
    parked_t *parked;
    size_t n_parked, cap_parked;
    size_t cap_rows, cap_releases, cap_links, cap_new, cap_cycles;
} batch_t;

/* The record (nhs, cycle) is published by this batch; its sequence. */
static int touch(batch_t *b, const char *nhs, uint32_t cycle, uint64_t *seq)
{
    char key[32];
    snprintf(key, sizeof key, "%s\x1f%u", nhs, cycle);
    bool added = false;
    if (jr_strmap_put(&b->touched, key, b->n_touch, &added) != 0) {
        return -1;
    }
    if (added) {
        jr_plan_cycle_t t = {.cycle = cycle};
        snprintf(t.nhs, sizeof t.nhs, "%s", nhs);
        PUSH(b->touch, b->n_touch, b->cap_touch, t);
    }
    *seq = b->ctx->last_seq + *jr_strmap_get(&b->touched, key) + 1;
    return 0;
}

static jr_ids_t ids_of(const jr_plan_event_t *e)
{
    return (jr_ids_t){e->event.stream, e->nhs, e->nino, e->local_id};
}

static bool names_link(const jr_plan_event_t *e, const jr_link_t *link)
{
    if (link->kind == JR_LINK_NINO) {
        return e->nino != NULL && strcmp(e->nino, link->value) == 0;
    }
    return e->local_id != NULL && strcmp(e->event.stream, link->stream) == 0 &&
           strcmp(e->local_id, link->value) == 0;
}

/* The person at their cycle, added to the plan's new persons when the log
 * does not know them. */
static person_t *person_for(batch_t *b, const char *nhs)
{
    bool added = false;
    person_t *p = person_get(&b->persons, nhs, 1, &added);
    if (p != NULL && added) {
        jr_plan_cycle_t np = {.cycle = 1};
        snprintf(np.nhs, sizeof np.nhs, "%s", nhs);
        void *v = jr_grow(b->pl->new_persons, &b->cap_new, b->pl->n_new_persons, sizeof np);
        if (v == NULL) {
            return NULL;
        }
        b->pl->new_persons = v;
        b->pl->new_persons[b->pl->n_new_persons++] = np;
    }
    return p;
}

/* Parked events that a new link resolves join the person's current cycle. */
static int release_parked(batch_t *b, const jr_link_t *link)
{
    for (size_t i = 0; i < b->n_parked; i++) {
        parked_t *pk = &b->parked[i];
        if (pk->released || !names_link(pk->ev, link)) {
            continue;
        }
        jr_ids_t ids = ids_of(pk->ev);
        char nhs[JR_NHS_LEN + 1];
        if (jr_identity_resolve(b->ids, &ids, nhs) != JR_RESOLVE_PERSON) {
            continue;
        }
        person_t *p = person_for(b, nhs);
        uint64_t seq = 0;
        if (p == NULL || touch(b, nhs, p->cycle, &seq) != 0) {
            return -1;
        }
        pev_t e = {pk->ev->event, p->cycle, seq, pk->id};
        if (pk->id != 0) {
            jr_plan_release_t r = {.id = pk->id, .cycle = p->cycle, .seq = seq};
            snprintf(r.nhs, sizeof r.nhs, "%s", nhs);
            PUSH(b->pl->releases, b->pl->n_releases, b->cap_releases, r);
        } else {
            jr_plan_row_t *row = &b->pl->rows[pk->row];
            snprintf(row->nhs, sizeof row->nhs, "%s", nhs);
            row->cycle = p->cycle;
            row->seq = seq;
            e.order = BATCH_ORDER + (int64_t)pk->envelope;
        }
        if (person_add_event(p, e) != 0) {
            return -1;
        }
        pk->released = true;
    }
    return 0;
}

/* May this review held close the person's cycle? 0 with *refused set, or
 * -1 when out of memory. */
static int check_review_held(batch_t *b, size_t i, const char *nhs, bool *refused)
{
    const jr_event_t *ev = &b->in->envelopes[i].event;
    jr_held_verdict_t verdict = JR_HELD_NOT_ENROLLED;
    jr_day_t opened = JR_DAY_NONE;
    if (nhs != NULL) {
        const person_t *p = person_find(&b->persons, nhs);
        size_t n = p ? p->n : 0;
        jr_event_t *evs = calloc(n + 1, sizeof *evs);
        if (evs == NULL) {
            return -1;
        }
        for (size_t k = 0; k < n; k++) {
            evs[k] = p->ev[k].ev;
        }
        verdict = jr_schedule_check_held(evs, n, b->ctx->streams, ev->stream,
                                         ev->u.review_held.held_on, b->ctx->today, &opened);
        free(evs);
    }
    char held[11], today[11], opened_s[11] = "", reason[JR_PLAN_REASON_MAX];
    jr_text_format_date(ev->u.review_held.held_on, held);
    jr_text_format_date(b->ctx->today, today);
    if (opened != JR_DAY_NONE) {
        jr_text_format_date(opened, opened_s);
    }
    *refused = verdict != JR_HELD_OK;
    const char *code = NULL;
    switch (verdict) {
    case JR_HELD_OK:
        return 0;
    case JR_HELD_NOT_ENROLLED:
        code = "NOT_ENROLLED";
        snprintf(reason, sizeof reason,
                 "%s has no enrolment in force for this person on %s: only a funding stream the "
                 "person is enrolled in on the day may record that their review was held",
                 ev->stream, held);
        break;
    case JR_HELD_IN_FUTURE:
        code = "HELD_IN_FUTURE";
        snprintf(reason, sizeof reason,
                 "review_held.held_on %s is after today (%s): record the review once it has been "
                 "held",
                 held, today);
        break;
    case JR_HELD_BEFORE_CYCLE:
        code = "HELD_BEFORE_CYCLE";
        snprintf(reason, sizeof reason,
                 "review_held.held_on %s is before this review cycle opened with the review held "
                 "on %s: check the date",
                 held, opened_s);
        break;
    }
    outcome(b->pl, i, JR_PLAN_REJECTED, code, reason);
    return 0;
}

/* Decides envelope i. */
static int decide(batch_t *b, size_t i)
{
    const jr_plan_event_t *e = &b->in->envelopes[i];
    const jr_event_t *ev = &e->event;
    jr_plan_t *pl = b->pl;
    char key[JR_STREAM_CODE_MAX + 256];
    snprintf(key, sizeof key, "%s\x1f%s", ev->stream, ev->source_event_id);
    if ((b->in->stored_before != NULL && b->in->stored_before[i]) ||
        jr_strmap_get(&b->keys, key) != NULL) {
        outcome(pl, i, JR_PLAN_DUPLICATE, NULL, "already stored");
        return 0;
    }
    jr_ids_t ids = ids_of(e);
    char nhs[JR_NHS_LEN + 1] = "";
    jr_resolve_t who = jr_identity_resolve(b->ids, &ids, nhs);
    if (who == JR_RESOLVE_CONFLICT) {
        outcome(pl, i, JR_PLAN_REJECTED, "IDENTITY_CONFLICT",
                "the identifiers belong to different people in joinedreview: check the NHS "
                "number, NI number and client id against the person's record");
        return 0;
    }
    if (ev->kind == JR_EVENT_REVIEW_HELD) {
        /* Never parked: identifiers no enrolment links name nobody enrolled. */
        bool refused = false;
        if (check_review_held(b, i, who == JR_RESOLVE_PERSON ? nhs : NULL, &refused) != 0) {
            return -1;
        }
        if (refused) {
            return 0;
        }
    }
    bool added = false;
    if (jr_strmap_put(&b->keys, key, i, &added) != 0) {
        return -1;
    }
    jr_plan_row_t row = {.envelope = i};
    if (who == JR_RESOLVE_PARK) {
        PUSH(pl->rows, pl->n_rows, b->cap_rows, row);
        parked_t pk = {.ev = e, .envelope = i, .row = pl->n_rows - 1};
        PUSH(b->parked, b->n_parked, b->cap_parked, pk);
        outcome(pl, i, JR_PLAN_PARKED, NULL,
                "stored; waiting for an enrolment that links these identifiers to an NHS number");
        return 0;
    }
    person_t *p = person_for(b, nhs);
    if (p == NULL) {
        return -1;
    }
    snprintf(row.nhs, sizeof row.nhs, "%s", nhs);
    row.cycle = p->cycle;
    if (touch(b, nhs, p->cycle, &row.seq) != 0) {
        return -1;
    }
    PUSH(pl->rows, pl->n_rows, b->cap_rows, row);
    pev_t pe = {*ev, row.cycle, row.seq, BATCH_ORDER + (int64_t)i};
    if (person_add_event(p, pe) != 0) {
        return -1;
    }
    outcome(pl, i, JR_PLAN_OK, NULL, "");
    if (ev->kind == JR_EVENT_ENROLMENT) {
        jr_link_t links[2];
        size_t n = jr_identity_links_of(&ids, links);
        for (size_t k = 0; k < n; k++) {
            if (jr_identity_lookup(b->ids, links[k].kind, links[k].stream, links[k].value) !=
                    NULL ||
                jr_identity_add(b->ids, &links[k]) != 0) {
                continue; /* already linked (resolve checked it is the same person) */
            }
            jr_plan_link_t l = {links[k], i};
            PUSH(pl->links, pl->n_links, b->cap_links, l);
            if (release_parked(b, &links[k]) != 0) {
                return -1;
            }
        }
    } else if (ev->kind == JR_EVENT_REVIEW_HELD) {
        p->cycle++;
        for (size_t k = 0; k < pl->n_cycles; k++) {
            if (strcmp(pl->cycles[k].nhs, nhs) == 0) {
                pl->cycles[k].cycle = p->cycle;
                return 0;
            }
        }
        jr_plan_cycle_t c = {.cycle = p->cycle};
        snprintf(c.nhs, sizeof c.nhs, "%s", nhs);
        PUSH(pl->cycles, pl->n_cycles, b->cap_cycles, c);
    }
    return 0;
}

/* Merges every record the batch touched and settles each person it
 * touched: records first, in the order first touched, then notices. */
static int publish(batch_t *b, const jr_strmap_t *decided)
{
    jr_plan_t *pl = b->pl;
    owned_t *o = pl->priv;
    size_t cap_records = 0, cap_notices = 0, cap_due = 0;
    view_t **current = calloc(b->n_touch + 1, sizeof *current); /* per record: its view */
    if (current == NULL) {
        return -1;
    }
    for (size_t i = 0; i < b->persons.n; i++) {
        person_t *p = &b->persons.v[i];
        qsort(p->ev, p->n, sizeof *p->ev, cmp_pev);
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < b->n_touch; i++) {
        const jr_plan_cycle_t *t = &b->touch[i];
        const person_t *p = person_find(&b->persons, t->nhs);
        view_t *v = view_of(b->ctx, p->ev, p->n, t->cycle, b->ctx->last_seq + i + 1);
        if (v == NULL || own_view(o, v) != 0) {
            view_destroy(&v);
            rc = -1;
            break;
        }
        current[i] = v;
        jr_plan_record_t r = {.cycle = t->cycle,
                              .version = v->version,
                              .seq = v->seq,
                              .review = v->review,
                              .schedule = v->schedule,
                              .meeting = v->meeting};
        snprintf(r.nhs, sizeof r.nhs, "%s", t->nhs);
        void *grown = jr_grow(pl->records, &cap_records, pl->n_records, sizeof r);
        if (grown == NULL) {
            rc = -1;
            break;
        }
        pl->records = grown;
        pl->records[pl->n_records++] = r;
    }
    pl->last_seq = b->ctx->last_seq + pl->n_records;
    /* Each person's current cycle, settled once: where a record of it was
     * touched, from that; then those whose current cycle was not (a review
     * held closed the one that was), in the order first touched. */
    for (size_t i = 0; rc == 0 && i < b->n_touch; i++) {
        person_t *p = person_find(&b->persons, b->touch[i].nhs);
        if (!p->settled && b->touch[i].cycle == p->cycle) {
            p->settled = true;
            rc = settle(b->ctx, decided, pl, p->nhs, p->cycle, current[i], &cap_notices, &cap_due);
        }
    }
    for (size_t i = 0; rc == 0 && i < b->n_touch; i++) {
        person_t *p = person_find(&b->persons, b->touch[i].nhs);
        if (p->settled) {
            continue;
        }
        p->settled = true;
        view_t *v = view_of(b->ctx, p->ev, p->n, p->cycle, 0);
        if (v == NULL || own_view(o, v) != 0) {
            view_destroy(&v);
            rc = -1;
            break;
        }
        rc = settle(b->ctx, decided, pl, p->nhs, p->cycle, v, &cap_notices, &cap_due);
    }
    free(current);
    return rc;
}

static void batch_clear(batch_t *b)
{
    jr_identity_destroy(&b->ids);
    persons_clear(&b->persons);
    jr_strmap_clear(&b->keys);
    jr_strmap_clear(&b->touched);
    free(b->touch);
    free(b->parked);
}

int jr_plan_batch(const jr_plan_ctx_t *ctx, const jr_plan_input_t *in, jr_plan_t **out)
{
    batch_t b = {.ctx = ctx, .in = in};
    jr_strmap_t decided = {0};
    int rc = -1;
    *out = NULL;
    b.pl = plan_new(in->n_envelopes, ctx->last_seq);
    b.ids = jr_identity_new();
    if (b.pl == NULL || b.ids == NULL || persons_load(&b.persons, in) != 0 ||
        decided_load(&decided, in) != 0) {
        goto done;
    }
    for (size_t i = 0; i < in->n_links; i++) {
        if (jr_identity_add(b.ids, &in->links[i]) != 0) {
            goto done;
        }
    }
    for (size_t i = 0; i < in->n_stored; i++) {
        if (in->stored[i].nhs[0] == '\0') {
            parked_t pk = {.ev = &in->stored[i].ev, .id = in->stored[i].id};
            void *v = jr_grow(b.parked, &b.cap_parked, b.n_parked, sizeof pk);
            if (v == NULL) {
                goto done;
            }
            b.parked = v;
            b.parked[b.n_parked++] = pk;
        }
    }
    for (size_t i = 0; i < in->n_envelopes; i++) {
        if (decide(&b, i) != 0) {
            goto done;
        }
    }
    rc = publish(&b, &decided);
done:
    if (rc == 0) {
        *out = b.pl;
    } else {
        jr_plan_destroy(&b.pl);
    }
    batch_clear(&b);
    jr_strmap_clear(&decided);
    return rc;
}

/* ---- the due check and rebuild ---- */

int jr_plan_due(const jr_plan_ctx_t *ctx, const jr_plan_cycle_t *due, size_t n_due,
                const jr_plan_input_t *in, jr_plan_t **out)
{
    persons_t ps = {0};
    jr_strmap_t decided = {0};
    jr_plan_t *pl = plan_new(0, ctx->last_seq);
    size_t cap_notices = 0, cap_due = 0;
    int rc = pl != NULL && persons_load(&ps, in) == 0 && decided_load(&decided, in) == 0 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n_due; i++) {
        const person_t *p = person_find(&ps, due[i].nhs);
        view_t *v = view_of(ctx, p ? p->ev : NULL, p ? p->n : 0, due[i].cycle, 0);
        if (v == NULL || own_view(pl->priv, v) != 0) {
            view_destroy(&v);
            rc = -1;
            break;
        }
        rc = settle(ctx, &decided, pl, due[i].nhs, due[i].cycle, v, &cap_notices, &cap_due);
    }
    persons_clear(&ps);
    jr_strmap_clear(&decided);
    if (rc != 0) {
        jr_plan_destroy(&pl);
    }
    *out = pl;
    return rc;
}

int jr_plan_rebuild(const jr_plan_ctx_t *ctx, const char *nhs, uint32_t current,
                    const jr_plan_input_t *in, jr_plan_t **out)
{
    persons_t ps = {0};
    jr_plan_t *pl = plan_new(0, ctx->last_seq);
    size_t cap_records = 0, cap_due = 0;
    int rc = pl != NULL && persons_load(&ps, in) == 0 ? 0 : -1;
    const person_t *p = rc == 0 ? person_find(&ps, nhs) : NULL;
    if (p != NULL) {
        qsort(p->ev, p->n, sizeof *p->ev, cmp_pev);
    }
    for (uint32_t cycle = 1; rc == 0 && cycle <= current; cycle++) {
        view_t *v = view_of(ctx, p ? p->ev : NULL, p ? p->n : 0, cycle, 0);
        if (v == NULL || own_view(pl->priv, v) != 0) {
            view_destroy(&v);
            rc = -1;
            break;
        }
        if (v->version > 0) {
            jr_plan_record_t r = {.cycle = cycle,
                                  .version = v->version,
                                  .seq = v->seq,
                                  .review = v->review,
                                  .schedule = v->schedule,
                                  .meeting = v->meeting};
            snprintf(r.nhs, sizeof r.nhs, "%s", nhs);
            void *grown = jr_grow(pl->records, &cap_records, pl->n_records, sizeof r);
            if (grown == NULL) {
                rc = -1;
                break;
            }
            pl->records = grown;
            pl->records[pl->n_records++] = r;
        }
        if (cycle == current) {
            jr_schedule_t *today =
                jr_schedule_compute(v->sched_ev, v->n_sched, ctx->streams, &ctx->rules, ctx->today);
            if (today == NULL || own_today(pl->priv, today) != 0) {
                jr_schedule_destroy(&today);
                rc = -1;
                break;
            }
            jr_plan_due_t row = due_row(ctx, nhs, cycle, today, v->review, false);
            void *grown = jr_grow(pl->due, &cap_due, pl->n_due, sizeof row);
            if (grown == NULL) {
                rc = -1;
                break;
            }
            pl->due = grown;
            pl->due[pl->n_due++] = row;
        }
    }
    persons_clear(&ps);
    if (rc != 0) {
        jr_plan_destroy(&pl);
    }
    *out = pl;
    return rc;
}
