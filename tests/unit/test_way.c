/* test_way.c -- the review format's further asks, without a
 * database: how the person wants their review (kept across cycles, the
 * name to use, the group key), each stream's latest budget and its
 * underspend rule, what a review held found for each stream's own due
 * date, suggested group reviews (forming, publishing with the first notice,
 * replacing, withdrawing; nobody's date later), and the quarterly summary's
 * suppression of small numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "group.h"
#include "jr_cunit.h"
#include "merge.h"
#include "plan.h"
#include "schedule.h"
#include "way.h"

#define T0    INT64_C(1790845200000) /* 2026-10-01T09:00:00Z */
#define HOUR  INT64_C(3600000)
#define NHS_A "9434765919"
#define N(a)  (sizeof(a) / sizeof((a)[0]))

static jr_streams_t *g_streams;

static int setup(void)
{
    g_streams = jr_streams_new_default();
    if (g_streams == NULL) {
        return 1;
    }
    /* Each kind of rule, and one stream (DFG) with none. */
    const char *codes[] = {"ILF", "SC", "SP"};
    jr_underspend_t rules[] = {JR_UNDERSPEND_RETURNED, JR_UNDERSPEND_CARRIED_FORWARD,
                               JR_UNDERSPEND_KEPT};
    for (size_t i = 0; i < N(codes); i++) {
        jr_stream_t row = *jr_streams_find(g_streams, codes[i]);
        row.underspend = rules[i];
        jr_streams_put(g_streams, &row);
    }
    return 0;
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

static jr_event_t enrolment(const char *stream, const char *id, int64_t at, const char *started,
                            const char *known_as, const char *group_key)
{
    return (jr_event_t){.stream = stream,
                        .source_event_id = id,
                        .occurred_at_ms = at,
                        .kind = JR_EVENT_ENROLMENT,
                        .u.enrolment = {.started_on = D(started),
                                        .ended_on = JR_DAY_NONE,
                                        .last_review_on = JR_DAY_NONE,
                                        .award_ends_on = JR_DAY_NONE,
                                        .known_as = known_as,
                                        .group_key = group_key}};
}

static jr_event_t preferences(const char *stream, const char *id, int64_t at, jr_way_t way,
                              jr_need_set_t needs, const char *called)
{
    return (jr_event_t){.stream = stream,
                        .source_event_id = id,
                        .occurred_at_ms = at,
                        .kind = JR_EVENT_PREFERENCES,
                        .u.preferences = {.way = way, .needs = needs, .called = called}};
}

static jr_event_t budget(const char *stream, const char *id, int64_t at, const char *start,
                         const char *end, int64_t allocated, int64_t spent)
{
    return (jr_event_t){.stream = stream,
                        .source_event_id = id,
                        .occurred_at_ms = at,
                        .kind = JR_EVENT_BUDGET,
                        .u.budget = {.period_start = D(start),
                                     .period_end = D(end),
                                     .allocated_pence = allocated,
                                     .spent_pence = spent}};
}

static jr_review_t *merge(const jr_event_t *enrolments, size_t n_enrolments,
                          const jr_event_t *kept, size_t n_kept)
{
    jr_merge_input_t in = {.enrolments = enrolments,
                           .n_enrolments = n_enrolments,
                           .kept = kept,
                           .n_kept = n_kept};
    jr_review_t *r = jr_merge_review(&in, g_streams);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    return r;
}

/* ---- the words ---- */

static void test_ways_needs_and_rules_by_their_words(void)
{
    CU_ASSERT_EQUAL(jr_way_from_code("with_others"), JR_WAY_WITH_OTHERS);
    CU_ASSERT_EQUAL(jr_way_from_code("WAY_FORMAT_FIRST"), JR_WAY_FORMAT_FIRST);
    CU_ASSERT_EQUAL(jr_way_from_code("phone"), JR_WAY_NONE);
    CU_ASSERT_STRING_EQUAL(jr_way_code(JR_WAY_MEETING), "MEETING");
    CU_ASSERT_FALSE(jr_way_valid(0));
    CU_ASSERT_FALSE(jr_way_valid(4));
    CU_ASSERT_EQUAL(jr_need_from_code("NEED_BSL_INTERPRETER"), JR_NEED_BSL_INTERPRETER);
    CU_ASSERT_EQUAL(jr_need_from_code("easy_read"), JR_NEED_EASY_READ);
    CU_ASSERT_EQUAL(jr_need_from_code("sign language"), JR_NEED_NONE);
    CU_ASSERT_STRING_EQUAL(jr_need_title(JR_NEED_BSL_INTERPRETER), "A BSL interpreter");
    CU_ASSERT_FALSE(jr_need_valid(8));
    jr_underspend_t u = JR_UNDERSPEND_KEPT;
    CU_ASSERT_EQUAL(jr_underspend_from_code("carried_forward", &u), 0);
    CU_ASSERT_EQUAL(u, JR_UNDERSPEND_CARRIED_FORWARD);
    CU_ASSERT_EQUAL(jr_underspend_from_code("UNDERSPEND_RETURNED", &u), 0);
    CU_ASSERT_EQUAL(u, JR_UNDERSPEND_RETURNED);
    CU_ASSERT_EQUAL(jr_underspend_from_code("clawed back", &u), -1);
    CU_ASSERT_STRING_EQUAL(jr_underspend_title(JR_UNDERSPEND_NOT_SET), "no agreed rule");
    /* No stream has a rule until a council sets one. */
    jr_streams_t *plain = jr_streams_new_default();
    for (size_t i = 0; i < jr_streams_count(plain); i++) {
        CU_ASSERT_EQUAL(jr_streams_at(plain, i)->underspend, JR_UNDERSPEND_NOT_SET);
    }
    jr_streams_destroy(&plain);
}

/* ---- the person's way ---- */

static void test_newest_preferences_win_by_when_they_happened(void)
{
    jr_event_t en[] = {enrolment("SC", "e", T0, "2026-01-05", "Mrs Patel", NULL)};
    /* The newer statement arrives first: when it happened decides. */
    jr_event_t kept[] = {
        preferences("SP", "p2", T0 + 2 * HOUR, JR_WAY_WITH_OTHERS,
                    JR_NEED_BIT(JR_NEED_BSL_INTERPRETER) | JR_NEED_BIT(JR_NEED_EASY_READ), "Asha"),
        preferences("SC", "p1", T0 + HOUR, JR_WAY_MEETING, JR_NEED_BIT(JR_NEED_LARGE_PRINT),
                    "Mrs A Patel"),
    };
    jr_review_t *r = merge(en, N(en), kept, N(kept));
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->preferences);
    CU_ASSERT_STRING_EQUAL(r->preferences->source_event_id, "p2");
    CU_ASSERT_EQUAL(r->preferences->u.preferences.way, JR_WAY_WITH_OTHERS);
    CU_ASSERT_EQUAL(r->preferences->u.preferences.needs,
                    JR_NEED_BIT(JR_NEED_BSL_INTERPRETER) | JR_NEED_BIT(JR_NEED_EASY_READ));
    CU_ASSERT_STRING_EQUAL(r->called, "Asha"); /* the person's own name beats the stream's */
    CU_ASSERT_EQUAL(r->as_of, D("2026-10-01"));
    jr_merge_destroy(&r);
}

static void test_name_and_group_key_follow_lead_precedence(void)
{
    /* SC leads before SP: SC's name for the person is used; only SP names
     * a scheme, so SP's key is the group key, once the person wants a
     * group review. */
    jr_event_t en[] = {
        enrolment("SP", "e1", T0, "2025-02-01", "A. Patel", "Willow Court"),
        enrolment("SC", "e2", T0, "2026-01-05", "Mrs Patel", NULL),
    };
    jr_review_t *r = merge(en, N(en), NULL, 0);
    CU_ASSERT_STRING_EQUAL(r->called, "Mrs Patel");
    CU_ASSERT_PTR_NULL(r->group_key); /* no wish for a group yet */
    jr_merge_destroy(&r);

    jr_event_t with[] = {preferences("SC", "p", T0, JR_WAY_WITH_OTHERS, 0, NULL)};
    r = merge(en, N(en), with, N(with));
    CU_ASSERT_STRING_EQUAL(r->called, "Mrs Patel");
    CU_ASSERT_STRING_EQUAL(r->group_key, "Willow Court");
    jr_merge_destroy(&r);

    jr_event_t meet[] = {preferences("SC", "p", T0, JR_WAY_MEETING, 0, NULL)};
    r = merge(en, N(en), meet, N(meet));
    CU_ASSERT_PTR_NULL(r->group_key);
    jr_merge_destroy(&r);
}

/* ---- budgets ---- */

static void test_latest_budget_per_stream_with_its_rule(void)
{
    jr_event_t kept[] = {
        /* ILF: two periods; the later one shows. */
        budget("ILF", "b1", T0, "2025-04-01", "2026-03-31", 1820000, 1750000),
        budget("ILF", "b2", T0 + HOUR, "2026-04-01", "2027-03-31", 1900000, 1525050),
        /* SC: the same period corrected: the newest statement shows. */
        budget("SC", "b3", T0 + 2 * HOUR, "2026-04-01", "2027-03-31", 960000, 1010000),
        budget("SC", "b4", T0, "2026-04-01", "2027-03-31", 960000, 900000),
        /* DFG: no agreed rule. */
        budget("DFG", "b5", T0, "2026-01-10", "2026-09-30", 3000000, 2750000),
        /* An unknown stream is no budget. */
        budget("XYZ", "b6", T0, "2026-01-10", "2026-09-30", 1, 0),
    };
    jr_review_t *r = merge(NULL, 0, kept, N(kept));
    CU_ASSERT_EQUAL_FATAL(r->n_budgets, 3);
    CU_ASSERT_STRING_EQUAL(r->budgets[0].stream->code, "DFG");
    CU_ASSERT_EQUAL(r->budgets[0].underspend_pence, 250000);
    CU_ASSERT_EQUAL(r->budgets[0].stream->underspend, JR_UNDERSPEND_NOT_SET);
    CU_ASSERT_STRING_EQUAL(r->budgets[1].stream->code, "ILF");
    CU_ASSERT_STRING_EQUAL(r->budgets[1].statement->source_event_id, "b2");
    CU_ASSERT_EQUAL(r->budgets[1].underspend_pence, 374950);
    CU_ASSERT_EQUAL(r->budgets[1].stream->underspend, JR_UNDERSPEND_RETURNED);
    CU_ASSERT_STRING_EQUAL(r->budgets[2].stream->code, "SC");
    CU_ASSERT_STRING_EQUAL(r->budgets[2].statement->source_event_id, "b3");
    CU_ASSERT_EQUAL(r->budgets[2].underspend_pence, -50000); /* an overspend */
    CU_ASSERT_EQUAL(r->budgets[2].stream->underspend, JR_UNDERSPEND_CARRIED_FORWARD);
    jr_merge_destroy(&r);
}

/* ---- the schedule a review held found ---- */

static void test_meeting_knows_each_streams_own_due_date(void)
{
    /* SC from 2025-08-20: first review 2025-10-15. ICES from 2024-12-01:
     * due 2025-12-01, within 90 days: joins. A meeting on 2025-10-20 is
     * late for SC and early for ICES. */
    jr_event_t ev[] = {
        enrolment("SC", "e1", T0, "2025-08-20", NULL, NULL),
        enrolment("ICES", "e2", T0, "2024-12-01", NULL, NULL),
        {.stream = "SC",
         .source_event_id = "h",
         .occurred_at_ms = T0,
         .kind = JR_EVENT_REVIEW_HELD,
         .u.review_held = {.held_on = D("2025-10-20")}},
    };
    jr_schedule_t *m = jr_schedule_at_meeting(ev, N(ev), g_streams, NULL, D("2025-10-20"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(m->review_on, D("2025-10-15"));
    const jr_stream_due_t *sc = jr_schedule_find(m, "SC"), *ices = jr_schedule_find(m, "ICES");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ices);
    CU_ASSERT_EQUAL(sc->due, D("2025-10-15"));
    CU_ASSERT_TRUE(sc->covered);
    CU_ASSERT_EQUAL(ices->due, D("2025-12-01"));
    CU_ASSERT_TRUE(ices->covered);
    jr_schedule_destroy(&m);
    /* Afterwards the dates have moved on. */
    jr_schedule_t *after = jr_schedule_compute(ev, N(ev), g_streams, NULL, D("2025-10-21"));
    CU_ASSERT_EQUAL(jr_schedule_find(after, "SC")->due, D("2026-10-20"));
    jr_schedule_destroy(&after);
    CU_ASSERT_EQUAL(jr_schedule_first_notice_on(D("2026-11-26"), NULL), D("2026-10-01"));
}

/* ---- group reviews ---- */

typedef struct {
    char nhs[11];
    const char *on;
} who_t;

static size_t persons_of(const who_t *w, size_t n, jr_group_person_t *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (jr_group_person_t){w[i].nhs, D(w[i].on)};
    }
    return n;
}

/* Five at one scheme, three due within 28 days of the earliest, two later. */
static const who_t g_five[] = {
    {"9000000009", "2026-12-27"}, /* later: 31 days after the earliest */
    {"9000000017", "2026-11-26"}, /* the earliest */
    {"9000000025", "2026-12-24"}, /* exactly 28 days after: in */
    {"9000000033", "2027-03-01"}, /* much later */
    {"9000000041", "2026-12-10"},
};

static void test_five_at_a_scheme_give_one_group_of_three(void)
{
    jr_group_person_t p[8];
    jr_group_t g[4];
    size_t n = persons_of(g_five, N(g_five), p);
    CU_ASSERT_EQUAL_FATAL(jr_group_form(p, n, NULL, g), 1);
    CU_ASSERT_EQUAL(g[0].review_on, D("2026-11-26"));
    CU_ASSERT_EQUAL_FATAL(g[0].n, 3);
    CU_ASSERT_STRING_EQUAL(p[g[0].first].nhs, "9000000017");
    CU_ASSERT_STRING_EQUAL(p[g[0].first + 1].nhs, "9000000041");
    CU_ASSERT_STRING_EQUAL(p[g[0].first + 2].nhs, "9000000025");
    /* Nobody's date moves later: the suggested date is on or before each
     * member's own. */
    for (size_t i = 0; i < g[0].n; i++) {
        CU_ASSERT_TRUE(g[0].review_on <= p[g[0].first + i].review_on);
    }
    /* The two later ones are 64 days apart: no group of their own. */
}

static void test_sixth_joining_replaces_the_suggestion_naming_it(void)
{
    jr_group_person_t p[8];
    size_t n = persons_of(g_five, N(g_five), p);
    jr_group_plan_t plan;
    /* Before the first notice of 2026-11-26 (56 days ahead: 2026-10-01)
     * the group forms but is not published. */
    CU_ASSERT_EQUAL_FATAL(jr_group_plan(p, n, NULL, 0, NULL, D("2026-09-30"), &plan), 0);
    CU_ASSERT_EQUAL(plan.n_formed, 1);
    CU_ASSERT_EQUAL(plan.n_added, 0);
    jr_group_plan_clear(&plan);
    CU_ASSERT_EQUAL_FATAL(jr_group_plan(p, n, NULL, 0, NULL, D("2026-10-01"), &plan), 0);
    CU_ASSERT_EQUAL_FATAL(plan.n_added, 1);
    CU_ASSERT_EQUAL(plan.added[0].group.n, 3);
    CU_ASSERT_EQUAL(plan.added[0].n_replaces, 0);
    jr_group_plan_clear(&plan);

    /* Published as suggestion 41: formed the same again, nothing new. */
    const char *members[] = {"9000000017", "9000000041", "9000000025"};
    jr_group_current_t cur = {41, D("2026-11-26"), members, 3};
    CU_ASSERT_EQUAL_FATAL(jr_group_plan(p, n, &cur, 1, NULL, D("2026-10-02"), &plan), 0);
    CU_ASSERT_EQUAL(plan.n_added, 0);
    CU_ASSERT_EQUAL(plan.n_withdrawn, 0);
    jr_group_plan_clear(&plan);

    /* A sixth joins, due 2026-12-01: a group of four replaces 41. */
    who_t six[N(g_five) + 1];
    memcpy(six, g_five, sizeof g_five);
    six[N(g_five)] = (who_t){"9000000068", "2026-12-01"};
    n = persons_of(six, N(six), p);
    CU_ASSERT_EQUAL_FATAL(jr_group_plan(p, n, &cur, 1, NULL, D("2026-10-02"), &plan), 0);
    CU_ASSERT_EQUAL_FATAL(plan.n_added, 1);
    const jr_group_new_t *a = &plan.added[0];
    CU_ASSERT_EQUAL(a->group.review_on, D("2026-11-26"));
    CU_ASSERT_EQUAL_FATAL(a->group.n, 4);
    CU_ASSERT_STRING_EQUAL(p[a->group.first + 1].nhs, "9000000068");
    CU_ASSERT_EQUAL_FATAL(a->n_replaces, 1);
    CU_ASSERT_EQUAL(cur.id, 41);
    CU_ASSERT_EQUAL(a->replaces[0], 0);
    for (size_t i = 0; i < a->group.n; i++) {
        CU_ASSERT_TRUE(a->group.review_on <= p[a->group.first + i].review_on);
    }
    CU_ASSERT_EQUAL(plan.n_withdrawn, 0);
    jr_group_plan_clear(&plan);
}

static void test_group_window_edge_most_members_and_order(void)
{
    jr_schedule_rules_t rules;
    jr_schedule_rules_default(&rules);
    rules.group_max = 3;
    /* Seven on consecutive weeks: groups of 3 (max), 3, and one alone. */
    who_t w[] = {
        {"9000000076", "2027-01-01"}, {"9000000084", "2027-01-08"}, {"9000000092", "2027-01-15"},
        {"9000000106", "2027-01-22"}, {"9000000114", "2027-01-29"}, {"9000000122", "2027-02-05"},
        {"9000000130", "2027-03-26"},
    };
    jr_group_person_t p[8], q[8];
    jr_group_t g[4], h[4];
    size_t n = persons_of(w, N(w), p);
    CU_ASSERT_EQUAL_FATAL(jr_group_form(p, n, &rules, g), 2);
    CU_ASSERT_EQUAL(g[0].n, 3);
    CU_ASSERT_EQUAL(g[1].n, 3);
    CU_ASSERT_EQUAL(g[1].review_on, D("2027-01-22"));
    /* Any order in, the same groups out. */
    for (size_t i = 0; i < n; i++) {
        q[i] = p[n - 1 - i];
    }
    CU_ASSERT_EQUAL_FATAL(jr_group_form(q, n, &rules, h), 2);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_STRING_EQUAL(p[i].nhs, q[i].nhs);
    }
    for (size_t i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(g[i].review_on, h[i].review_on);
        CU_ASSERT_EQUAL(g[i].first, h[i].first);
        CU_ASSERT_EQUAL(g[i].n, h[i].n);
    }
    /* 29 days apart is out of a 28-day window. */
    who_t apart[] = {{"9000000076", "2027-01-01"}, {"9000000084", "2027-01-30"}};
    n = persons_of(apart, N(apart), p);
    CU_ASSERT_EQUAL(jr_group_form(p, n, NULL, g), 0);
}

static void test_group_that_no_longer_forms_is_withdrawn_until_its_day(void)
{
    /* Two of 41 remain wanting a group, far apart now: no group. */
    who_t w[] = {{"9000000017", "2027-11-26"}, {"9000000041", "2026-12-10"}};
    jr_group_person_t p[2];
    size_t n = persons_of(w, N(w), p);
    const char *members[] = {"9000000017", "9000000041"};
    jr_group_current_t cur = {41, D("2026-11-26"), members, 2};
    jr_group_plan_t plan;
    CU_ASSERT_EQUAL_FATAL(jr_group_plan(p, n, &cur, 1, NULL, D("2026-10-10"), &plan), 0);
    CU_ASSERT_EQUAL(plan.n_added, 0);
    CU_ASSERT_EQUAL_FATAL(plan.n_withdrawn, 1);
    CU_ASSERT_EQUAL(plan.withdrawn[0], 0);
    jr_group_plan_clear(&plan);
    /* On or after the suggested day it stands as it was. */
    CU_ASSERT_EQUAL_FATAL(jr_group_plan(p, n, &cur, 1, NULL, D("2026-11-26"), &plan), 0);
    CU_ASSERT_EQUAL(plan.n_withdrawn, 0);
    jr_group_plan_clear(&plan);
}

/* ---- preferences across cycles, through the planner ---- */

static jr_plan_stored_t stored(int64_t id, uint32_t cycle, uint64_t seq, jr_event_t ev)
{
    jr_plan_stored_t s = {.id = id, .cycle = cycle, .seq = seq};
    snprintf(s.nhs, sizeof s.nhs, "%s", NHS_A);
    s.ev.event = ev;
    s.ev.nhs = NHS_A;
    return s;
}

static void test_preferences_carry_into_the_next_cycle_and_its_notices(void)
{
    jr_plan_ctx_t c = {.streams = g_streams, .today = D("2026-10-20"), .last_seq = 10};
    jr_schedule_rules_default(&c.rules);
    jr_plan_stored_t st[] = {
        stored(1, 1, 1, enrolment("SC", "e", T0 - 400 * 24 * HOUR, "2025-08-20", NULL, "Day centre")),
        stored(2, 1, 2,
               preferences("SC", "p", T0 - 300 * 24 * HOUR, JR_WAY_WITH_OTHERS,
                           JR_NEED_BIT(JR_NEED_BSL_INTERPRETER), "Sam")),
        stored(3, 1, 3,
               (jr_event_t){.stream = "SC",
                            .source_event_id = "h",
                            .occurred_at_ms = T0 - 10 * 24 * HOUR,
                            .kind = JR_EVENT_REVIEW_HELD,
                            .u.review_held = {.held_on = D("2025-10-15")}}),
    };
    jr_plan_event_t env = {.nhs = NHS_A,
                           .event = budget("SC", "b", T0, "2026-04-01", "2027-03-31", 500, 100)};
    jr_plan_cycle_t person = {NHS_A, 2};
    bool before = false;
    jr_plan_input_t in = {.envelopes = &env,
                          .n_envelopes = 1,
                          .stored_before = &before,
                          .stored = st,
                          .n_stored = N(st),
                          .persons = &person,
                          .n_persons = 1};
    jr_plan_t *pl = NULL;
    CU_ASSERT_EQUAL_FATAL(jr_plan_batch(&c, &in, &pl), 0);
    CU_ASSERT_EQUAL_FATAL(pl->n_records, 1);
    const jr_review_t *r = pl->records[0].review;
    CU_ASSERT_EQUAL(pl->records[0].cycle, 2);
    CU_ASSERT_EQUAL(pl->records[0].version, 1);
    CU_ASSERT_PTR_NULL(pl->records[0].meeting); /* cycle 2 is open */
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->preferences);
    CU_ASSERT_STRING_EQUAL(r->called, "Sam");
    CU_ASSERT_STRING_EQUAL(r->group_key, "Day centre");
    CU_ASSERT_EQUAL(r->n_budgets, 1);
    /* Reviewed 2025-10-15: due 2026-10-15, overdue on 2026-10-20. */
    CU_ASSERT_EQUAL_FATAL(pl->n_notices, 1);
    CU_ASSERT_STRING_EQUAL(pl->notices[0].notice.key, "overdue-1");
    CU_ASSERT_PTR_EQUAL(pl->notices[0].review->preferences, r->preferences);
    CU_ASSERT_EQUAL_FATAL(pl->n_due, 1);
    CU_ASSERT_STRING_EQUAL(pl->due[0].group_key, "Day centre");
    CU_ASSERT_STRING_EQUAL(pl->due[0].lead->code, "SC");
    jr_plan_destroy(&pl);

    /* The first cycle's record, rebuilt: final, with what its review found. */
    jr_plan_input_t all = {.stored = st, .n_stored = N(st)};
    CU_ASSERT_EQUAL_FATAL(jr_plan_rebuild(&c, NHS_A, 2, &all, &pl), 0);
    CU_ASSERT_EQUAL_FATAL(pl->n_records, 1);
    CU_ASSERT_EQUAL(pl->records[0].cycle, 1);
    CU_ASSERT_EQUAL(pl->records[0].version, 3);
    const jr_schedule_t *m = pl->records[0].meeting;
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(jr_schedule_find(m, "SC")->due, D("2025-10-15"));
    jr_plan_destroy(&pl);
}

/* ---- national capture ---- */

static void test_small_numbers_suppressed_others_rounded_to_five(void)
{
    char b[24];
    CU_ASSERT_STRING_EQUAL(jr_capture_count(0, b), "0");
    CU_ASSERT_STRING_EQUAL(jr_capture_count(1, b), "*");
    CU_ASSERT_STRING_EQUAL(jr_capture_count(7, b), "*");
    CU_ASSERT_STRING_EQUAL(jr_capture_count(8, b), "10");
    CU_ASSERT_STRING_EQUAL(jr_capture_count(12, b), "10");
    CU_ASSERT_STRING_EQUAL(jr_capture_count(13, b), "15");
    CU_ASSERT_STRING_EQUAL(jr_capture_count(15, b), "15");
    CU_ASSERT_STRING_EQUAL(jr_capture_count(1234, b), "1235");
    CU_ASSERT_STRING_EQUAL(jr_capture_total(2750000, 1, b), "*");
    CU_ASSERT_STRING_EQUAL(jr_capture_total(0, 0, b), "0");
    CU_ASSERT_STRING_EQUAL(jr_capture_total(-50000, 8, b), "-50000");
    jr_day_t first, last;
    CU_ASSERT_EQUAL(jr_capture_quarter("2026Q4", &first, &last), 0);
    CU_ASSERT_EQUAL(first, D("2026-10-01"));
    CU_ASSERT_EQUAL(last, D("2026-12-31"));
    CU_ASSERT_EQUAL(jr_capture_quarter("2024Q1", &first, &last), 0);
    CU_ASSERT_EQUAL(last, D("2024-03-31"));
    CU_ASSERT_EQUAL(jr_capture_quarter("2026Q5", &first, &last), -1);
    CU_ASSERT_EQUAL(jr_capture_quarter("2026-Q1", &first, &last), -1);
    CU_ASSERT_EQUAL(jr_capture_quarter("26Q1", &first, &last), -1);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"ways, needs and rules by their words", test_ways_needs_and_rules_by_their_words},
        {"newest preferences win by when they happened",
         test_newest_preferences_win_by_when_they_happened},
        {"name and group key follow lead precedence",
         test_name_and_group_key_follow_lead_precedence},
        {"latest budget per stream with its rule", test_latest_budget_per_stream_with_its_rule},
        {"a review held knows each stream's own due date",
         test_meeting_knows_each_streams_own_due_date},
        {"five at a scheme give one group of three", test_five_at_a_scheme_give_one_group_of_three},
        {"a sixth joining replaces the suggestion, naming it",
         test_sixth_joining_replaces_the_suggestion_naming_it},
        {"group window edge, most members, any order",
         test_group_window_edge_most_members_and_order},
        {"a group that no longer forms is withdrawn until its day",
         test_group_that_no_longer_forms_is_withdrawn_until_its_day},
        {"preferences carry into the next cycle and its notices",
         test_preferences_carry_into_the_next_cycle_and_its_notices},
        {"small numbers suppressed, others rounded to five",
         test_small_numbers_suppressed_others_rounded_to_five},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {
        {"person_way", setup, teardown, NULL, NULL, tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
