/* test_plan.c -- a batch decided without PostgreSQL: duplicates within and
 * across batches, parking and linking within one batch and across batches,
 * a review held in the middle of a batch, every order of a batch's events,
 * the sequence numbers of records and notices, and the due check and
 * rebuild that share the batch's rules. */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jr_cunit.h"

#define T0     INT64_C(1790845200000) /* 2026-10-01T09:00:00Z */
#define HOUR   INT64_C(3600000)
#define NHS_A  "9434765919"
#define NHS_B  "9434765870"
#define NINO_X "CE654321A"

static jr_streams_t *g_streams;

static int setup(void)
{
    g_streams = jr_streams_new_default();
    return g_streams == NULL;
}

static int teardown(void)
{
    jr_streams_destroy(&g_streams);
    return 0;
}

static jr_day_t D(const char *s)
{
    jr_day_t d = JR_DAY_NONE;
    CU_ASSERT_EQUAL_FATAL(jr_text_parse_date(s, &d), 0);
    return d;
}

static jr_plan_ctx_t ctx_on(const char *today, uint64_t last_seq)
{
    jr_plan_ctx_t c = {.streams = g_streams, .today = D(today), .last_seq = last_seq};
    jr_schedule_rules_default(&c.rules);
    return c;
}

static jr_plan_event_t enrolment(const char *stream, const char *id, int64_t at, const char *nhs,
                                 const char *nino, const char *started)
{
    jr_plan_event_t e = {.nhs = nhs, .nino = nino};
    e.event = (jr_event_t){.stream = stream,
                           .source_event_id = id,
                           .occurred_at_ms = at,
                           .kind = JR_EVENT_ENROLMENT,
                           .u.enrolment = {.started_on = D(started),
                                           .ended_on = JR_DAY_NONE,
                                           .last_review_on = JR_DAY_NONE,
                                           .award_ends_on = JR_DAY_NONE}};
    return e;
}

static jr_plan_event_t contribution(const char *stream, const char *id, int64_t at, const char *nhs,
                                    jr_topic_t topic, jr_role_t role, jr_priority_t priority,
                                    const char *working)
{
    jr_plan_event_t e = {.nhs = nhs};
    e.event = (jr_event_t){
        .stream = stream,
        .source_event_id = id,
        .occurred_at_ms = at,
        .kind = JR_EVENT_CONTRIBUTION,
        .u.contribution = {.topic = topic, .role = role, .working = working, .priority = priority}};
    return e;
}

static jr_plan_event_t held(const char *stream, const char *id, int64_t at, const char *nhs,
                            const char *on)
{
    jr_plan_event_t e = {.nhs = nhs};
    e.event = (jr_event_t){.stream = stream,
                           .source_event_id = id,
                           .occurred_at_ms = at,
                           .kind = JR_EVENT_REVIEW_HELD,
                           .u.review_held = {.held_on = D(on)}};
    return e;
}

static jr_plan_stored_t stored(int64_t id, const char *nhs, uint32_t cycle, uint64_t seq,
                               jr_plan_event_t ev)
{
    jr_plan_stored_t s = {.id = id, .cycle = cycle, .seq = seq, .ev = ev};
    snprintf(s.nhs, sizeof s.nhs, "%s", nhs ? nhs : "");
    return s;
}

static jr_plan_t *plan(const jr_plan_ctx_t *c, const jr_plan_input_t *in)
{
    jr_plan_t *pl = NULL;
    CU_ASSERT_EQUAL_FATAL(jr_plan_batch(c, in, &pl), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pl);
    return pl;
}

/* A record's content, in a canonical text: what a reader of the review
 * sees (areas, priorities, conflicts, completeness, readiness). */
static void review_text(const jr_review_t *r, char *out, size_t len)
{
    size_t used = 0;
    for (size_t a = 0; a < JR_AREA_COUNT; a++) {
        const jr_area_t *area = &r->areas[a];
        used += (size_t)snprintf(out + used, len - used, "[%d p%d%s%s:", area->number,
                                 (int)area->priority, area->priority_from_person ? " person" : "",
                                 area->conflict ? " conflict" : "");
        for (size_t s = 0; s < area->n_statements; s++) {
            used += (size_t)snprintf(out + used, len - used, " %s",
                                     area->statements[s].event->source_event_id);
        }
        used += (size_t)snprintf(out + used, len - used, "]");
    }
    for (size_t s = 0; s < r->n_streams; s++) {
        used += (size_t)snprintf(
            out + used, len - used, " %s:%llx/%llx", r->streams[s].stream->code,
            (unsigned long long)r->streams[s].covered, (unsigned long long)r->streams[s].missing);
    }
    snprintf(out + used, len - used, " ready=%d", r->ready_for_sign_off);
}

/* ---- duplicates ---- */

static void test_duplicates_within_and_across_batches(void)
{
    jr_plan_ctx_t c = ctx_on("2026-10-02", 40);
    jr_plan_event_t ev[4] = {
        enrolment("SC", "e1", T0, NHS_A, NULL, "2026-01-05"),
        contribution("SC", "c1", T0 + HOUR, NHS_A, JR_TOPIC_HEALTH, JR_ROLE_PERSON, JR_PRIORITY_RED,
                     "walks"),
        contribution("SC", "c1", T0 + HOUR, NHS_A, JR_TOPIC_HEALTH, JR_ROLE_PERSON, JR_PRIORITY_RED,
                     "walks"), /* the same again, in the batch */
        contribution("SC", "old", T0, NHS_A, JR_TOPIC_HOUSING, JR_ROLE_CARER, JR_PRIORITY_GREEN,
                     "stored before"),
    };
    const bool before[4] = {false, false, false, true};
    jr_plan_input_t in = {.envelopes = ev, .n_envelopes = 4, .stored_before = before};
    jr_plan_t *pl = plan(&c, &in);
    CU_ASSERT_EQUAL(pl->outcomes[0].status, JR_PLAN_OK);
    CU_ASSERT_EQUAL(pl->outcomes[1].status, JR_PLAN_OK);
    CU_ASSERT_EQUAL(pl->outcomes[2].status, JR_PLAN_DUPLICATE);
    CU_ASSERT_STRING_EQUAL(pl->outcomes[2].reason, "already stored");
    CU_ASSERT_EQUAL(pl->outcomes[3].status, JR_PLAN_DUPLICATE);
    CU_ASSERT_EQUAL(pl->n_rows, 2);
    CU_ASSERT_EQUAL(pl->n_new_persons, 1);
    CU_ASSERT_STRING_EQUAL(pl->new_persons[0].nhs, NHS_A);
    /* One record, published as 41; every row records it. */
    CU_ASSERT_EQUAL_FATAL(pl->n_records, 1);
    CU_ASSERT_EQUAL(pl->records[0].seq, 41);
    CU_ASSERT_EQUAL(pl->records[0].version, 1);
    CU_ASSERT_EQUAL(pl->rows[0].seq, 41);
    CU_ASSERT_EQUAL(pl->rows[1].seq, 41);
    /* SC from 2026-01-05: first review 2026-03-02, overdue on 2026-10-02:
     * the latest notice, overdue-31, is published after the record. */
    CU_ASSERT_EQUAL_FATAL(pl->n_notices, 1);
    CU_ASSERT_STRING_EQUAL(pl->notices[0].notice.key, "overdue-31");
    CU_ASSERT_EQUAL(pl->notices[0].seq, 42);
    CU_ASSERT_EQUAL(pl->last_seq, 42);
    CU_ASSERT_EQUAL_FATAL(pl->n_due, 1);
    CU_ASSERT_EQUAL(pl->due[0].review_on, D("2026-03-02"));
    CU_ASSERT_EQUAL(pl->due[0].next_check_on, D("2026-10-06")); /* overdue-32 */
    CU_ASSERT_STRING_EQUAL(pl->due[0].lead->code, "SC");
    jr_plan_destroy(&pl);

    /* Decided before: not published again. */
    char key[96];
    jr_plan_notice_key(key, sizeof key, NHS_A, 1, "overdue-31");
    const char *const decided[] = {key};
    in.decided = decided;
    in.n_decided = 1;
    pl = plan(&c, &in);
    CU_ASSERT_EQUAL(pl->n_notices, 0);
    CU_ASSERT_EQUAL(pl->last_seq, 41);
    jr_plan_destroy(&pl);
}

/* ---- parking and linking ---- */

static void test_parking_and_linking_within_one_batch(void)
{
    jr_plan_ctx_t c = ctx_on("2026-10-02", 0);
    jr_plan_event_t parked = contribution("ATW", "a1", T0, NULL, JR_TOPIC_EMPLOYMENT,
                                          JR_ROLE_PERSON, JR_PRIORITY_AMBER, "new job");
    parked.nino = NINO_X;
    jr_plan_event_t ev[3] = {
        parked,
        enrolment("ATW", "e1", T0 + HOUR, NHS_A, NINO_X, "2026-01-05"),
        contribution("ATW", "a2", T0 + 2 * HOUR, NULL, JR_TOPIC_TRANSPORT, JR_ROLE_PERSON,
                     JR_PRIORITY_GREEN, "bus pass"),
    };
    ev[2].nino = NINO_X; /* linked by then */
    jr_plan_input_t in = {.envelopes = ev, .n_envelopes = 3};
    jr_plan_t *pl = plan(&c, &in);
    CU_ASSERT_EQUAL(pl->outcomes[0].status, JR_PLAN_PARKED);
    CU_ASSERT_STRING_EQUAL(pl->outcomes[0].reason, "stored; waiting for an enrolment that links "
                                                   "these identifiers to an NHS number");
    CU_ASSERT_EQUAL(pl->outcomes[1].status, JR_PLAN_OK);
    CU_ASSERT_EQUAL(pl->outcomes[2].status, JR_PLAN_OK);
    CU_ASSERT_EQUAL_FATAL(pl->n_links, 1);
    CU_ASSERT_EQUAL(pl->links[0].link.kind, JR_LINK_NINO);
    CU_ASSERT_STRING_EQUAL(pl->links[0].link.value, NINO_X);
    CU_ASSERT_STRING_EQUAL(pl->links[0].link.nhs, NHS_A);
    CU_ASSERT_EQUAL(pl->links[0].envelope, 1);
    /* The parked row was released in the same batch: it joins the record. */
    CU_ASSERT_EQUAL_FATAL(pl->n_rows, 3);
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_STRING_EQUAL(pl->rows[i].nhs, NHS_A);
        CU_ASSERT_EQUAL(pl->rows[i].cycle, 1);
        CU_ASSERT_EQUAL(pl->rows[i].seq, 1);
    }
    CU_ASSERT_EQUAL(pl->n_releases, 0);
    CU_ASSERT_EQUAL_FATAL(pl->n_records, 1);
    const jr_review_t *r = pl->records[0].review;
    CU_ASSERT_EQUAL(r->areas[4].n_statements, 1); /* area 5: employment */
    CU_ASSERT_EQUAL(r->areas[7].n_statements, 1); /* area 8: transport */
    CU_ASSERT_EQUAL(r->areas[4].priority, JR_PRIORITY_AMBER);
    jr_plan_destroy(&pl);
}

static void test_stored_parked_event_released(void)
{
    jr_plan_ctx_t c = ctx_on("2026-10-02", 7);
    jr_plan_event_t parked = contribution("ATW", "a1", T0, NULL, JR_TOPIC_EMPLOYMENT,
                                          JR_ROLE_PERSON, JR_PRIORITY_AMBER, "new job");
    parked.nino = NINO_X;
    jr_plan_stored_t st[1] = {stored(55, NULL, 0, 0, parked)};
    jr_plan_event_t ev[1] = {enrolment("ATW", "e1", T0 + HOUR, NHS_A, NINO_X, "2026-01-05")};
    jr_plan_input_t in = {.envelopes = ev, .n_envelopes = 1, .stored = st, .n_stored = 1};
    jr_plan_t *pl = plan(&c, &in);
    CU_ASSERT_EQUAL_FATAL(pl->n_releases, 1);
    CU_ASSERT_EQUAL(pl->releases[0].id, 55);
    CU_ASSERT_STRING_EQUAL(pl->releases[0].nhs, NHS_A);
    CU_ASSERT_EQUAL(pl->releases[0].cycle, 1);
    CU_ASSERT_EQUAL(pl->releases[0].seq, 8);
    CU_ASSERT_EQUAL_FATAL(pl->n_records, 1);
    CU_ASSERT_EQUAL(pl->records[0].review->areas[4].n_statements, 1);
    jr_plan_destroy(&pl);
}

static void test_identity_conflict_refused(void)
{
    jr_plan_ctx_t c = ctx_on("2026-10-02", 0);
    jr_link_t link = {.kind = JR_LINK_NINO};
    snprintf(link.value, sizeof link.value, "%s", NINO_X);
    snprintf(link.nhs, sizeof link.nhs, "%s", NHS_A);
    jr_plan_event_t ev[1] = {contribution("ATW", "a1", T0, NHS_B, JR_TOPIC_EMPLOYMENT,
                                          JR_ROLE_PERSON, JR_PRIORITY_AMBER, "who?")};
    ev[0].nino = NINO_X;
    jr_plan_input_t in = {.envelopes = ev, .n_envelopes = 1, .links = &link, .n_links = 1};
    jr_plan_t *pl = plan(&c, &in);
    CU_ASSERT_EQUAL(pl->outcomes[0].status, JR_PLAN_REJECTED);
    CU_ASSERT_STRING_EQUAL(pl->outcomes[0].code, "IDENTITY_CONFLICT");
    CU_ASSERT_EQUAL(pl->n_rows, 0);
    CU_ASSERT_EQUAL(pl->n_records, 0);
    CU_ASSERT_EQUAL(pl->last_seq, 0);
    jr_plan_destroy(&pl);
}

/* ---- a review held in the middle of a batch ---- */

static void test_review_held_mid_batch(void)
{
    jr_plan_ctx_t c = ctx_on("2026-10-20", 100);
    jr_plan_stored_t st[1] = {
        stored(1, NHS_A, 1, 90, enrolment("SC", "e1", T0, NHS_A, NULL, "2025-10-01"))};
    const jr_plan_cycle_t known[1] = {{NHS_A, 1}};
    jr_plan_event_t ev[4] = {
        contribution("SC", "before", T0 + HOUR, NHS_A, JR_TOPIC_HEALTH, JR_ROLE_PERSON,
                     JR_PRIORITY_RED, "before the meeting"),
        held("ILF", "wrong", T0 + 2 * HOUR, NHS_A, "2026-10-19"), /* not enrolled */
        held("SC", "held", T0 + 2 * HOUR, NHS_A, "2026-10-19"),
        contribution("SC", "after", T0 + 3 * HOUR, NHS_A, JR_TOPIC_HEALTH, JR_ROLE_PERSON,
                     JR_PRIORITY_GREEN, "after the meeting"),
    };
    jr_plan_input_t in = {.envelopes = ev,
                          .n_envelopes = 4,
                          .stored = st,
                          .n_stored = 1,
                          .persons = known,
                          .n_persons = 1};
    jr_plan_t *pl = plan(&c, &in);
    CU_ASSERT_EQUAL(pl->outcomes[1].status, JR_PLAN_REJECTED);
    CU_ASSERT_STRING_EQUAL(pl->outcomes[1].code, "NOT_ENROLLED");
    CU_ASSERT_EQUAL(pl->outcomes[2].status, JR_PLAN_OK);
    CU_ASSERT_EQUAL(pl->n_new_persons, 0);
    CU_ASSERT_EQUAL_FATAL(pl->n_rows, 3);
    CU_ASSERT_EQUAL(pl->rows[0].cycle, 1);
    CU_ASSERT_EQUAL(pl->rows[1].cycle, 1); /* the review held closes cycle 1 */
    CU_ASSERT_EQUAL(pl->rows[2].cycle, 2); /* the next event opens cycle 2 */
    CU_ASSERT_EQUAL_FATAL(pl->n_cycles, 1);
    CU_ASSERT_EQUAL(pl->cycles[0].cycle, 2);
    /* Cycle 1's final record (its second version: the enrolment's was the
     * first) is 101; cycle 2's first is 102. */
    CU_ASSERT_EQUAL_FATAL(pl->n_records, 2);
    CU_ASSERT_EQUAL(pl->records[0].cycle, 1);
    CU_ASSERT_EQUAL(pl->records[0].seq, 101);
    CU_ASSERT_EQUAL(pl->records[0].version, 2);
    CU_ASSERT_PTR_NOT_NULL(pl->records[0].review->review_held);
    CU_ASSERT_EQUAL(pl->records[1].cycle, 2);
    CU_ASSERT_EQUAL(pl->records[1].seq, 102);
    CU_ASSERT_EQUAL(pl->records[1].version, 1);
    CU_ASSERT_EQUAL(pl->records[1].review->areas[3].priority, JR_PRIORITY_GREEN);
    /* The held cycle's record carries the new date: SC yearly from the
     * meeting. */
    CU_ASSERT_EQUAL(pl->records[0].schedule->review_on, D("2027-10-19"));
    /* Settled in cycle 2, nothing due yet. */
    CU_ASSERT_EQUAL(pl->n_notices, 0);
    CU_ASSERT_EQUAL_FATAL(pl->n_due, 1);
    CU_ASSERT_EQUAL(pl->due[0].cycle, 2);
    CU_ASSERT_EQUAL(pl->due[0].review_on, D("2027-10-19"));
    CU_ASSERT_EQUAL(pl->last_seq, 102);
    jr_plan_destroy(&pl);
}

/* ---- every order ---- */

#define N_ORDER 5

static void permute(int *a, int k, int n, void (*fn)(const int *, void *), void *arg)
{
    if (k == n) {
        fn(a, arg);
        return;
    }
    for (int i = k; i < n; i++) {
        int t = a[k];
        a[k] = a[i];
        a[i] = t;
        permute(a, k + 1, n, fn, arg);
        a[i] = a[k];
        a[k] = t;
    }
}

typedef struct {
    jr_plan_event_t ev[N_ORDER];
    char first[2048];
    int orders, same, split_same;
} orders_t;

static void one_order(const int *order, void *arg)
{
    orders_t *o = arg;
    jr_plan_ctx_t c = ctx_on("2026-10-02", 0);
    jr_plan_event_t ev[N_ORDER];
    for (int i = 0; i < N_ORDER; i++) {
        ev[i] = o->ev[order[i]];
    }
    /* All in one batch. */
    jr_plan_input_t in = {.envelopes = ev, .n_envelopes = N_ORDER};
    jr_plan_t *pl = NULL;
    CU_ASSERT_EQUAL_FATAL(jr_plan_batch(&c, &in, &pl), 0);
    CU_ASSERT_EQUAL_FATAL(pl->n_records, 1);
    char text[2048];
    review_text(pl->records[0].review, text, sizeof text);
    if (o->orders++ == 0) {
        snprintf(o->first, sizeof o->first, "%s", text);
    }
    o->same += strcmp(text, o->first) == 0;
    jr_plan_destroy(&pl);

    /* Split in two batches: the first two stored, the rest arriving. */
    jr_plan_stored_t st[2] = {stored(1, NHS_A, 1, 1, ev[0]), stored(2, NHS_A, 1, 1, ev[1])};
    const jr_plan_cycle_t known[1] = {{NHS_A, 1}};
    jr_plan_ctx_t c2 = ctx_on("2026-10-02", 5);
    jr_plan_input_t in2 = {.envelopes = ev + 2,
                           .n_envelopes = N_ORDER - 2,
                           .stored = st,
                           .n_stored = 2,
                           .persons = known,
                           .n_persons = 1};
    CU_ASSERT_EQUAL_FATAL(jr_plan_batch(&c2, &in2, &pl), 0);
    CU_ASSERT_EQUAL_FATAL(pl->n_records, 1);
    CU_ASSERT_EQUAL(pl->records[0].version, 2);
    CU_ASSERT_EQUAL(pl->records[0].seq, 6);
    review_text(pl->records[0].review, text, sizeof text);
    o->split_same += strcmp(text, o->first) == 0;
    jr_plan_destroy(&pl);
}

/* The record is a function of the set of events: every order of a batch,
 * and every split of it into two batches, gives the same review. */
static void test_every_order_gives_the_same_record(void)
{
    static orders_t o;
    memset(&o, 0, sizeof o);
    o.ev[0] = enrolment("SC", "e1", T0, NHS_A, NULL, "2026-01-05");
    o.ev[1] = contribution("SC", "c1", T0 + HOUR, NHS_A, JR_TOPIC_HEALTH, JR_ROLE_PERSON,
                           JR_PRIORITY_GREEN, "walking again");
    o.ev[2] = contribution("SC", "c2", T0 + 2 * HOUR, NHS_A, JR_TOPIC_HEALTH, JR_ROLE_COUNCIL,
                           JR_PRIORITY_RED, "falls");
    o.ev[3] = contribution("SC", "c3", T0 + 3 * HOUR, NHS_A, JR_TOPIC_HEALTH, JR_ROLE_PERSON,
                           JR_PRIORITY_AMBER, "newer, the person's own");
    o.ev[4] = contribution("SC", "c4", T0 - HOUR, NHS_A, JR_TOPIC_HOUSING, JR_ROLE_CARER,
                           JR_PRIORITY_RED, "stairs");
    int order[N_ORDER] = {0, 1, 2, 3, 4};
    permute(order, 0, N_ORDER, one_order, &o);
    CU_ASSERT_EQUAL(o.orders, 120);
    CU_ASSERT_EQUAL(o.same, 120);
    CU_ASSERT_EQUAL(o.split_same, 120);
    /* The person's own newest priority (amber, c3 superseding c1) prevails
     * and differs from the council's red: a conflict. SC covers HEALTH and
     * HOUSING only, so it is not ready. */
    CU_ASSERT_STRING_EQUAL(o.first, "[1 p0:][2 p0:][3 p0:][4 p2 person conflict: c3 c2][5 p0:][6 "
                                    "p0:][7 p0:][8 p3: c4][9 p0:] SC:8080/37f7e ready=0");
}

/* ---- the due check and rebuild ---- */

static void test_due_round_and_rebuild(void)
{
    jr_plan_event_t e = enrolment("SC", "e1", T0, NHS_A, NULL, "2026-08-20");
    jr_plan_event_t cn = contribution("SC", "c1", T0 + HOUR, NHS_A, JR_TOPIC_HEALTH, JR_ROLE_PERSON,
                                      JR_PRIORITY_RED, "walks");
    jr_plan_event_t h = held("SC", "h1", T0 + 2 * HOUR, NHS_A, "2026-10-01");
    jr_plan_event_t after = contribution("SC", "c2", T0 + 3 * HOUR, NHS_A, JR_TOPIC_HOUSING,
                                         JR_ROLE_PERSON, JR_PRIORITY_GREEN, "new flat");
    jr_plan_stored_t st[4] = {stored(1, NHS_A, 1, 3, e), stored(2, NHS_A, 1, 4, cn),
                              stored(3, NHS_A, 1, 4, h), stored(4, NHS_A, 2, 9, after)};
    jr_plan_input_t in = {.stored = st, .n_stored = 4};

    /* The review (SC yearly from the meeting, 2027-10-01) is 28 days away on
     * 2027-09-03: the lead-28 notice, as sequence 21. */
    jr_plan_ctx_t c = ctx_on("2027-09-03", 20);
    const jr_plan_cycle_t due[1] = {{NHS_A, 2}};
    jr_plan_t *pl = NULL;
    CU_ASSERT_EQUAL_FATAL(jr_plan_due(&c, due, 1, &in, &pl), 0);
    CU_ASSERT_EQUAL_FATAL(pl->n_notices, 1);
    CU_ASSERT_STRING_EQUAL(pl->notices[0].notice.key, "lead-28");
    CU_ASSERT_EQUAL(pl->notices[0].seq, 21);
    CU_ASSERT_EQUAL(pl->notices[0].cycle, 2);
    CU_ASSERT_EQUAL(pl->notices[0].schedule->review_on, D("2027-10-01"));
    CU_ASSERT_EQUAL_FATAL(pl->n_due, 1);
    CU_ASSERT_EQUAL(pl->due[0].next_check_on, D("2027-09-24"));
    CU_ASSERT_EQUAL(pl->n_records, 0);
    jr_plan_destroy(&pl);

    /* Rebuild: cycle 1's record is version 2 (publications 3 and 4), cycle
     * 2's version 1 (9), as the log says. */
    CU_ASSERT_EQUAL_FATAL(jr_plan_rebuild(&c, NHS_A, 2, &in, &pl), 0);
    CU_ASSERT_EQUAL_FATAL(pl->n_records, 2);
    CU_ASSERT_EQUAL(pl->records[0].version, 2);
    CU_ASSERT_EQUAL(pl->records[0].seq, 4);
    CU_ASSERT_EQUAL(pl->records[1].version, 1);
    CU_ASSERT_EQUAL(pl->records[1].seq, 9);
    CU_ASSERT_EQUAL_FATAL(pl->n_due, 1);
    /* Not decided: a notice is due today, so the check is today. */
    CU_ASSERT_EQUAL(pl->due[0].next_check_on, D("2027-09-03"));
    CU_ASSERT_EQUAL(pl->n_notices, 0);
    jr_plan_destroy(&pl);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"duplicates within and across batches", test_duplicates_within_and_across_batches},
        {"parking and linking within one batch", test_parking_and_linking_within_one_batch},
        {"a stored parked event released", test_stored_parked_event_released},
        {"identifiers of two people are refused", test_identity_conflict_refused},
        {"a review held in the middle of a batch", test_review_held_mid_batch},
        {"every order gives the same record", test_every_order_gives_the_same_record},
        {"the due check and rebuild", test_due_round_and_rebuild},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"plan", setup, teardown, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
