/* pseudonym.c -- see pseudonym.h. */
#include "pseudonym.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define DAY_MS INT64_C(86400000)

void jr_pseudonym_of(const char *nhs, const uint8_t key[JR_PSEUDONYM_KEY_LEN], char out[65])
{
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, JR_PSEUDONYM_KEY_LEN);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)(nhs ? nhs : ""), nhs ? strlen(nhs) : 0);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}

/* The copy's blocks live in an arena freed once it is packed. Its strings
 * borrow from the unpacked original, which outlives it. */

static Joinedreview__V1__Statement *copy_statement(jr_wire_arena_t *b,
                                                   const Joinedreview__V1__Statement *in)
{
    Joinedreview__V1__Statement *st = jr_wire_arena_alloc(b, sizeof *st);
    if (st == NULL) {
        return NULL;
    }
    *st = (Joinedreview__V1__Statement)JOINEDREVIEW__V1__STATEMENT__INIT;
    st->has_topic = in->has_topic;
    st->topic = in->topic;
    st->has_priority = in->has_priority;
    st->priority = in->priority;
    st->has_no_change = in->has_no_change;
    st->no_change = in->no_change;
    if (in->provenance != NULL) {
        const Joinedreview__V1__Provenance *pin = in->provenance;
        Joinedreview__V1__Provenance *pv = jr_wire_arena_alloc(b, sizeof *pv);
        if (pv == NULL) {
            return NULL;
        }
        *pv = (Joinedreview__V1__Provenance)JOINEDREVIEW__V1__PROVENANCE__INIT;
        pv->stream = pin->stream;
        pv->has_author_role = pin->has_author_role;
        pv->author_role = pin->author_role;
        pv->has_occurred_at = pin->has_occurred_at;
        pv->occurred_at = pin->occurred_at - ((pin->occurred_at % DAY_MS) + DAY_MS) % DAY_MS;
        st->provenance = pv;
    }
    return st;
}

static Joinedreview__V1__Area *copy_area(jr_wire_arena_t *b, const Joinedreview__V1__Area *in)
{
    Joinedreview__V1__Area *a = jr_wire_arena_alloc(b, sizeof *a);
    if (a == NULL) {
        return NULL;
    }
    *a = (Joinedreview__V1__Area)JOINEDREVIEW__V1__AREA__INIT;
    a->has_number = in->has_number;
    a->number = in->number;
    a->title = in->title;
    a->has_priority = in->has_priority;
    a->priority = in->priority;
    a->has_priority_from_person = in->has_priority_from_person;
    a->priority_from_person = in->priority_from_person;
    a->has_conflict = in->has_conflict;
    a->conflict = in->conflict;
    a->statements = jr_wire_arena_alloc(b, sizeof *a->statements * in->n_statements);
    for (size_t i = 0; a->statements != NULL && i < in->n_statements; i++) {
        a->statements[a->n_statements++] = copy_statement(b, in->statements[i]);
    }
    a->conflict_views = jr_wire_arena_alloc(b, sizeof *a->conflict_views * in->n_conflict_views);
    for (size_t i = 0; a->conflict_views != NULL && i < in->n_conflict_views; i++) {
        const Joinedreview__V1__PriorityView *vin = in->conflict_views[i];
        Joinedreview__V1__PriorityView *v = jr_wire_arena_alloc(b, sizeof *v);
        if (v == NULL) {
            break;
        }
        *v = (Joinedreview__V1__PriorityView)JOINEDREVIEW__V1__PRIORITY_VIEW__INIT;
        v->stream = vin->stream;
        v->has_author_role = vin->has_author_role;
        v->author_role = vin->author_role;
        v->has_topic = vin->has_topic;
        v->topic = vin->topic;
        v->has_priority = vin->has_priority;
        v->priority = vin->priority;
        a->conflict_views[a->n_conflict_views++] = v;
    }
    return a;
}

static Joinedreview__V1__Schedule *copy_schedule(jr_wire_arena_t *b,
                                                 const Joinedreview__V1__Schedule *in)
{
    Joinedreview__V1__Schedule *s = jr_wire_arena_alloc(b, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    *s = (Joinedreview__V1__Schedule)JOINEDREVIEW__V1__SCHEDULE__INIT;
    s->review_on = in->review_on;
    s->lead = in->lead;
    s->n_covered_streams = in->n_covered_streams;
    s->covered_streams = in->covered_streams; /* stream codes, from the table */
    s->streams = jr_wire_arena_alloc(b, sizeof *s->streams * in->n_streams);
    for (size_t i = 0; s->streams != NULL && i < in->n_streams; i++) {
        const Joinedreview__V1__StreamSchedule *sin = in->streams[i];
        Joinedreview__V1__StreamSchedule *ss = jr_wire_arena_alloc(b, sizeof *ss);
        if (ss == NULL) {
            break;
        }
        *ss = (Joinedreview__V1__StreamSchedule)JOINEDREVIEW__V1__STREAM_SCHEDULE__INIT;
        ss->stream = sin->stream;
        ss->next_due_on = sin->next_due_on;
        ss->last_review_on = sin->last_review_on;
        ss->has_drives_date = sin->has_drives_date;
        ss->drives_date = sin->drives_date;
        ss->has_covered = sin->has_covered;
        ss->covered = sin->covered;
        s->streams[s->n_streams++] = ss;
    }
    return s;
}

/* Of the preferences, what the daemon checked against closed sets: the way
 * and the needs. Where, who, the language and the name stay out. */
static Joinedreview__V1__ReviewPreferences *
copy_preferences(jr_wire_arena_t *b, const Joinedreview__V1__ReviewPreferences *in)
{
    if (in == NULL) {
        return NULL;
    }
    Joinedreview__V1__ReviewPreferences *p = jr_wire_arena_alloc(b, sizeof *p);
    if (p == NULL) {
        return NULL;
    }
    *p = (Joinedreview__V1__ReviewPreferences)JOINEDREVIEW__V1__REVIEW_PREFERENCES__INIT;
    p->has_way = in->has_way;
    p->way = in->way;
    p->n_needs = in->n_needs;
    p->needs = in->needs;
    return p;
}

static int review_copy(const uint8_t *payload, size_t len, const uint8_t *key, uint8_t **out,
                       size_t *out_len)
{
    Joinedreview__V1__ConsolidatedReview *in =
        joinedreview__v1__consolidated_review__unpack(NULL, len, payload);
    if (in == NULL) {
        return -1;
    }
    char alias[65];
    jr_pseudonym_of(in->nhs_number, key, alias);
    jr_wire_arena_t b = {0};
    Joinedreview__V1__ConsolidatedReview r = JOINEDREVIEW__V1__CONSOLIDATED_REVIEW__INIT;
    r.nhs_number = alias;
    r.has_cycle = in->has_cycle;
    r.cycle = in->cycle;
    r.has_version = in->has_version;
    r.version = in->version;
    r.has_sequence = in->has_sequence;
    r.sequence = in->sequence;
    r.areas = jr_wire_arena_alloc(&b, sizeof *r.areas * in->n_areas);
    for (size_t i = 0; r.areas != NULL && i < in->n_areas; i++) {
        r.areas[r.n_areas++] = copy_area(&b, in->areas[i]);
    }
    r.n_enrolled_streams = in->n_enrolled_streams;
    r.enrolled_streams = in->enrolled_streams; /* stream codes, from the table */
    r.completeness = jr_wire_arena_alloc(&b, sizeof *r.completeness * in->n_completeness);
    for (size_t i = 0; r.completeness != NULL && i < in->n_completeness; i++) {
        r.completeness[r.n_completeness++] = in->completeness[i]; /* codes, topics, a flag */
    }
    r.has_ready_for_sign_off = in->has_ready_for_sign_off;
    r.ready_for_sign_off = in->ready_for_sign_off;
    Joinedreview__V1__PlanRevision plan = JOINEDREVIEW__V1__PLAN_REVISION__INIT;
    if (in->plan_revision != NULL) {
        plan.revise_by = in->plan_revision->revise_by;
        plan.has_approval_needed = in->plan_revision->has_approval_needed;
        plan.approval_needed = in->plan_revision->approval_needed;
        r.plan_revision = &plan;
    }
    r.held_on = in->held_on;
    r.as_of = in->as_of;
    if (in->schedule != NULL) {
        r.schedule = copy_schedule(&b, in->schedule);
    }
    r.preferences = copy_preferences(&b, in->preferences);
    int rc = jr_wire_pack(&b, &r.base, out, out_len);
    jr_wire_arena_free(&b);
    joinedreview__v1__consolidated_review__free_unpacked(in, NULL);
    return rc;
}

static int notice_copy(const uint8_t *payload, size_t len, const uint8_t *key, uint8_t **out,
                       size_t *out_len)
{
    Joinedreview__V1__DueNotice *in = joinedreview__v1__due_notice__unpack(NULL, len, payload);
    if (in == NULL) {
        return -1;
    }
    char alias[65];
    jr_pseudonym_of(in->nhs_number, key, alias);
    Joinedreview__V1__DueNotice n = JOINEDREVIEW__V1__DUE_NOTICE__INIT;
    n.nhs_number = alias;
    n.has_cycle = in->has_cycle;
    n.cycle = in->cycle;
    n.has_kind = in->has_kind;
    n.kind = in->kind;
    n.has_number = in->has_number;
    n.number = in->number;
    n.key = in->key; /* "lead-56", "due", "overdue-2": the daemon's own */
    n.notice_on = in->notice_on;
    n.review_on = in->review_on;
    n.n_covered_streams = in->n_covered_streams;
    n.covered_streams = in->covered_streams;
    n.lead = in->lead;
    n.n_missing_information = in->n_missing_information;
    n.missing_information = in->missing_information;
    n.has_sequence = in->has_sequence;
    n.sequence = in->sequence;
    jr_wire_arena_t b = {0};
    n.preferences = copy_preferences(&b, in->preferences);
    int rc = jr_wire_pack(&b, &n.base, out, out_len);
    jr_wire_arena_free(&b);
    joinedreview__v1__due_notice__free_unpacked(in, NULL);
    return rc;
}

int jr_pseudonym_publication(const char *topic, const uint8_t *payload, size_t len,
                             const uint8_t key[JR_PSEUDONYM_KEY_LEN], uint8_t **out,
                             size_t *out_len)
{
    if (strcmp(topic, "review") == 0) {
        return review_copy(payload, len, key, out, out_len);
    }
    if (strncmp(topic, "notice.", 7) == 0) {
        return notice_copy(payload, len, key, out, out_len);
    }
    return -1;
}
