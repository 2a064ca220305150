/* test_schedule.c -- due dates, the joined-up review date, the lead
 * organisation and the due-date notices. */
#include "schedule.h"

#include <stdio.h>
#include <string.h>

#include "jr_cunit.h"

#define T0   INT64_C(1748779200000) /* 2025-06-01T12:00Z: when enrolments arrive */
#define HOUR INT64_C(3600000)
#define N(a) (sizeof(a) / sizeof((a)[0]))

static jr_streams_t *streams;

static int setup(void)
{
    streams = jr_streams_new_default();
    return streams == NULL;
}

static int teardown(void)
{
    jr_streams_destroy(&streams);
    return 0;
}

static jr_day_t D(const char *s)
{
    jr_day_t day = JR_DAY_NONE;
    CU_ASSERT_EQUAL_FATAL(jr_text_parse_date(s, &day), 0);
    return day;
}

/* An enrolment that started on `started`, never reviewed, not ended. */
static jr_event_t enrol(const char *stream, const char *id, const char *started)
{
    return (jr_event_t){.stream = stream,
                        .source_event_id = id,
                        .occurred_at_ms = T0,
                        .kind = JR_EVENT_ENROLMENT,
                        .u.enrolment = {.started_on = D(started),
                                        .ended_on = JR_DAY_NONE,
                                        .last_review_on = JR_DAY_NONE,
                                        .award_ends_on = JR_DAY_NONE}};
}

/* An enrolment last reviewed on `reviewed`. */
static jr_event_t reviewed(const char *stream, const char *id, const char *reviewed_on)
{
    jr_event_t ev = enrol(stream, id, "2020-01-01");
    ev.u.enrolment.last_review_on = D(reviewed_on);
    return ev;
}

static jr_event_t held(const char *id, const char *on)
{
    return (jr_event_t){.stream = "SC",
                        .source_event_id = id,
                        .occurred_at_ms = T0 + 1000 * HOUR,
                        .kind = JR_EVENT_REVIEW_HELD,
                        .u.review_held = {.held_on = D(on)}};
}

static jr_schedule_t *compute_with(const jr_event_t *ev, size_t n, const jr_streams_t *table,
                                   const jr_schedule_rules_t *rules, const char *today)
{
    jr_schedule_t *s = jr_schedule_compute(ev, n, table, rules, D(today));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

static jr_schedule_t *compute(const jr_event_t *ev, size_t n, const char *today)
{
    return compute_with(ev, n, streams, NULL, today);
}

static jr_day_t due_of(const jr_schedule_t *s, const char *code)
{
    const jr_stream_due_t *d = jr_schedule_find(s, code);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    return d->due;
}

static bool covered(const jr_schedule_t *s, const char *code)
{
    const jr_stream_due_t *d = jr_schedule_find(s, code);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    return d->covered;
}

static const char *lead_of(const jr_schedule_t *s)
{
    return s->lead != NULL ? s->lead->code : "(none)";
}

/* "SC:2026-02-26:c SP:none:-" for every active stream, and the review. */
static const char *describe(const jr_schedule_t *s)
{
    static char buf[512];
    char date[11];
    size_t len = 0;
    for (size_t i = 0; i < s->n_streams; i++) {
        const jr_stream_due_t *d = &s->streams[i];
        if (d->due != JR_DAY_NONE)
            jr_text_format_date(d->due, date);
        else
            strcpy(date, "none");
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s:%s:%s ", d->stream->code, date,
                                d->covered ? "c" : "-");
    }
    if (s->review_on != JR_DAY_NONE)
        jr_text_format_date(s->review_on, date);
    else
        strcpy(date, "none");
    snprintf(buf + len, sizeof buf - len, "review %s lead %s", date, lead_of(s));
    return buf;
}

/* --- each stream's rule ------------------------------------------------- */

static void test_social_care_first_review_then_yearly(void)
{
    jr_event_t ev[] = {enrol("SC", "e1", "2026-01-01")};
    jr_schedule_t *s = compute(ev, N(ev), "2026-01-10");
    CU_ASSERT_STRING_EQUAL(describe(s), "SC:2026-02-26:c review 2026-02-26 lead SC");
    CU_ASSERT_EQUAL(jr_schedule_find(s, "SC")->last_review, JR_DAY_NONE);
    CU_ASSERT_TRUE(jr_schedule_find(s, "SC")->drives);
    jr_schedule_destroy(&s);
    CU_ASSERT_PTR_NULL(s);

    /* After a review, every 365 days. */
    ev[0].u.enrolment.last_review_on = D("2026-03-01");
    s = compute(ev, N(ev), "2026-03-10");
    CU_ASSERT_EQUAL(due_of(s, "SC"), D("2027-03-01"));
    CU_ASSERT_EQUAL(jr_schedule_find(s, "SC")->last_review, D("2026-03-01"));
    jr_schedule_destroy(&s);

    /* The same when the review was recorded as a joined-up review held. */
    jr_event_t ev2[] = {enrol("SC", "e1", "2025-01-01"), held("h1", "2025-02-26")};
    s = compute(ev2, N(ev2), "2025-03-10");
    CU_ASSERT_EQUAL(due_of(s, "SC"), D("2026-02-26"));
    CU_ASSERT_EQUAL(jr_schedule_find(s, "SC")->last_review, D("2025-02-26"));
    jr_schedule_destroy(&s);
}

static void test_sp_ilf_ices_intervals(void)
{
    jr_event_t ev[] = {enrol("SP", "e1", "2025-03-01"), enrol("ILF", "e2", "2025-03-01"),
                       reviewed("ICES", "e3", "2025-06-30")};
    jr_schedule_t *s = compute(ev, N(ev), "2025-07-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "ICES:2026-06-30:- ILF:2027-03-01:- SP:2026-03-01:c "
                                        "review 2026-03-01 lead SP");
    jr_schedule_destroy(&s);

    /* An enrolment's own interval overrides the stream's. */
    ev[0].u.enrolment.interval_days = 180;
    s = compute(ev, N(ev), "2025-07-01");
    CU_ASSERT_EQUAL(due_of(s, "SP"), D("2025-08-28"));
    jr_schedule_destroy(&s);
}

static void test_access_to_work_award_end(void)
{
    /* 84 days before the award ends. */
    jr_event_t ev[] = {enrol("ATW", "e1", "2024-07-01")};
    ev[0].u.enrolment.award_ends_on = D("2027-06-30");
    jr_schedule_t *s = compute(ev, N(ev), "2025-07-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "ATW:2027-04-07:c review 2027-04-07 lead ATW");
    jr_schedule_destroy(&s);

    /* No end given: a 1095-day award from the start, so start + 1011. */
    jr_event_t no_end[] = {enrol("ATW", "e1", "2025-01-01")};
    s = compute(no_end, N(no_end), "2025-07-01");
    CU_ASSERT_EQUAL(due_of(s, "ATW"), D("2027-10-09"));
    jr_schedule_destroy(&s);

    /* Reviewed on or after that date: no date until a new award... */
    ev[0].u.enrolment.last_review_on = D("2027-04-10");
    s = compute(ev, N(ev), "2027-04-20");
    CU_ASSERT_STRING_EQUAL(describe(s), "ATW:none:- review none lead (none)");
    CU_ASSERT_TRUE(jr_schedule_find(s, "ATW")->drives);
    jr_schedule_destroy(&s);

    /* ...reviewed exactly on it counts too... */
    ev[0].u.enrolment.last_review_on = D("2027-04-07");
    s = compute(ev, N(ev), "2027-04-20");
    CU_ASSERT_EQUAL(due_of(s, "ATW"), JR_DAY_NONE);
    jr_schedule_destroy(&s);

    /* ...unless the enrolment sets an interval: last review + interval. */
    ev[0].u.enrolment.last_review_on = D("2027-04-10");
    ev[0].u.enrolment.interval_days = 365;
    s = compute(ev, N(ev), "2027-04-20");
    CU_ASSERT_EQUAL(due_of(s, "ATW"), D("2028-04-09"));
    jr_schedule_destroy(&s);

    /* A review before that date does not move it. */
    ev[0].u.enrolment.last_review_on = D("2026-01-10");
    s = compute(ev, N(ev), "2026-01-20");
    CU_ASSERT_EQUAL(due_of(s, "ATW"), D("2027-04-07"));
    jr_schedule_destroy(&s);

    /* A new enrolment with a new award end brings a new date. */
    jr_event_t renewed[] = {ev[0], enrol("ATW", "e2", "2027-07-01")};
    renewed[0].u.enrolment.last_review_on = D("2027-04-10");
    renewed[0].u.enrolment.interval_days = 0;
    renewed[1].occurred_at_ms = T0 + 24 * HOUR;
    renewed[1].u.enrolment.award_ends_on = D("2030-06-30");
    s = compute(renewed, N(renewed), "2027-07-10");
    CU_ASSERT_EQUAL(due_of(s, "ATW"), D("2030-04-07"));
    jr_schedule_destroy(&s);
}

static void test_dfg_never_drives_but_is_covered(void)
{
    jr_event_t only[] = {enrol("DFG", "e1", "2025-01-01")};
    jr_schedule_t *s = compute(only, N(only), "2025-07-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "DFG:none:- review none lead (none)");
    CU_ASSERT_FALSE(jr_schedule_find(s, "DFG")->drives);
    jr_schedule_destroy(&s);

    jr_event_t ev[] = {enrol("DFG", "e1", "2025-01-01"), reviewed("SP", "e2", "2025-05-01")};
    s = compute(ev, N(ev), "2025-07-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "DFG:none:c SP:2026-05-01:c review 2026-05-01 lead SP");
    jr_schedule_destroy(&s);

    /* DFG leads over ATW by default. */
    jr_event_t atw[] = {enrol("DFG", "e1", "2025-01-01"), enrol("ATW", "e2", "2025-01-01")};
    s = compute(atw, N(atw), "2025-07-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "ATW:2027-10-09:c DFG:none:c review 2027-10-09 lead DFG");
    jr_schedule_destroy(&s);
}

/* --- the joined-up review ----------------------------------------------- */

static void test_alignment_window_edges(void)
{
    jr_event_t ev[] = {reviewed("SC", "e1", "2025-01-10"), reviewed("ICES", "e2", "2025-04-10"),
                       reviewed("SP", "e3", "2025-04-11")};
    jr_schedule_t *s = compute(ev, N(ev), "2025-06-01");
    /* ICES is due exactly 90 days after SC: in; SP 91 days: out. */
    CU_ASSERT_STRING_EQUAL(describe(s), "ICES:2026-04-10:c SC:2026-01-10:c SP:2026-04-11:- "
                                        "review 2026-01-10 lead SC");
    /* Alignment only brings a review forward. */
    for (size_t i = 0; i < s->n_streams; i++)
        if (s->streams[i].covered)
            CU_ASSERT_TRUE(s->review_on <= s->streams[i].due);
    jr_schedule_destroy(&s);

    /* The window is configurable. */
    jr_schedule_rules_t rules;
    jr_schedule_rules_default(&rules);
    CU_ASSERT_EQUAL(rules.window_days, 90);
    rules.window_days = 91;
    s = compute_with(ev, N(ev), streams, &rules, "2025-06-01");
    CU_ASSERT_TRUE(covered(s, "SP"));
    jr_schedule_destroy(&s);
    rules.window_days = 0;
    s = compute_with(ev, N(ev), streams, &rules, "2025-06-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "ICES:2026-04-10:- SC:2026-01-10:c SP:2026-04-11:- "
                                        "review 2026-01-10 lead SC");
    jr_schedule_destroy(&s);
}

static void test_ended_enrolments_drop_out(void)
{
    jr_event_t ev[] = {reviewed("SC", "e1", "2025-01-10"), reviewed("SP", "e2", "2025-03-01")};
    ev[0].u.enrolment.ended_on = D("2025-06-01");

    /* Ended today: gone; the review is SP's own. */
    jr_schedule_t *s = compute(ev, N(ev), "2025-06-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "SP:2026-03-01:c review 2026-03-01 lead SP");
    jr_schedule_destroy(&s);

    /* Ends tomorrow: still in force. */
    s = compute(ev, N(ev), "2025-05-31");
    CU_ASSERT_STRING_EQUAL(describe(s), "SC:2026-01-10:c SP:2026-03-01:c "
                                        "review 2026-01-10 lead SC");
    jr_schedule_destroy(&s);
}

static void test_newest_enrolment_wins(void)
{
    jr_event_t ev[] = {reviewed("SC", "e2", "2025-05-01"), reviewed("SC", "e1", "2024-05-01")};
    ev[0].occurred_at_ms = T0 + HOUR;
    jr_schedule_t *s = compute(ev, N(ev), "2025-06-01");
    CU_ASSERT_EQUAL(due_of(s, "SC"), D("2026-05-01"));
    CU_ASSERT_PTR_EQUAL(jr_schedule_find(s, "SC")->enrolment, &ev[0]);
    jr_schedule_destroy(&s);

    /* The newest says it ended: the stream is gone, though an older one is
     * not ended. */
    ev[0].u.enrolment.ended_on = D("2025-05-20");
    s = compute(ev, N(ev), "2025-06-01");
    CU_ASSERT_EQUAL(s->n_streams, 0);
    CU_ASSERT_EQUAL(s->review_on, JR_DAY_NONE);
    CU_ASSERT_PTR_NULL(s->lead);
    jr_schedule_destroy(&s);
}

static void test_unknown_disabled_and_other_events_ignored(void)
{
    jr_event_t ev[] = {reviewed("XYZ", "e1", "2025-01-10"),
                       reviewed("CPA", "e2", "2025-01-10"),
                       reviewed("SP", "e3", "2025-03-01"),
                       {.stream = "SP",
                        .source_event_id = "c1",
                        .occurred_at_ms = T0,
                        .kind = JR_EVENT_CONTRIBUTION,
                        .u.contribution = {.topic = JR_TOPIC_HEALTH, .role = JR_ROLE_PERSON}}};
    ev[0].stream = "XYZ";
    jr_schedule_t *s = compute(ev, N(ev), "2025-06-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "SP:2026-03-01:c review 2026-03-01 lead SP");
    jr_schedule_destroy(&s);

    s = compute(NULL, 0, "2025-06-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "review none lead (none)");
    jr_schedule_destroy(&s);
    jr_schedule_destroy(&s); /* NULL is fine */
    jr_schedule_destroy(NULL);
}

static void test_review_held_sets_covered_streams_only(void)
{
    jr_event_t ev[] = {reviewed("SC", "e1", "2025-01-10"), reviewed("ICES", "e2", "2025-04-10"),
                       reviewed("SP", "e3", "2025-04-11"), held("h1", "2026-01-20")};
    jr_schedule_t *s = compute(ev, N(ev), "2026-01-21");
    /* SC and ICES were covered and move on a year; SP keeps its own date
     * and is next. */
    CU_ASSERT_STRING_EQUAL(describe(s), "ICES:2027-01-20:- SC:2027-01-20:- SP:2026-04-11:c "
                                        "review 2026-04-11 lead SP");
    CU_ASSERT_EQUAL(jr_schedule_find(s, "ICES")->last_review, D("2026-01-20"));
    CU_ASSERT_EQUAL(jr_schedule_find(s, "SP")->last_review, D("2025-04-11"));
    jr_schedule_destroy(&s);

    /* The same meeting reported by two streams is one meeting: it does not
     * go on to cover SP. */
    jr_event_t twice[] = {ev[0], ev[1], ev[2], ev[3], held("h2", "2026-01-20")};
    twice[4].stream = "ICES";
    s = compute(twice, N(twice), "2026-01-21");
    CU_ASSERT_EQUAL(s->review_on, D("2026-04-11"));
    CU_ASSERT_EQUAL(due_of(s, "SP"), D("2026-04-11"));
    jr_schedule_destroy(&s);

    /* Then SP's review, recorded before the first one was (arrival and
     * occurred_at do not matter; the meetings' dates do). */
    jr_event_t next[] = {ev[0], ev[1], ev[2], ev[3], held("h3", "2026-04-01")};
    next[4].occurred_at_ms = T0;
    s = compute(next, N(next), "2026-04-02");
    CU_ASSERT_STRING_EQUAL(describe(s), "ICES:2027-01-20:c SC:2027-01-20:c SP:2027-04-01:c "
                                        "review 2027-01-20 lead SC");
    jr_schedule_destroy(&s);
}

static void test_new_enrolment_after_review_is_fresh_start(void)
{
    /* A new SC plan after the review gets its early first review, though
     * the meeting covered the older SC enrolment. */
    jr_event_t ev[] = {reviewed("SP", "e1", "2025-01-10"), reviewed("SC", "e2", "2025-01-10"),
                       enrol("SC", "e3", "2026-02-01"), held("h1", "2026-01-10")};
    ev[2].occurred_at_ms = T0 + 2000 * HOUR;
    jr_schedule_t *s = compute(ev, N(ev), "2026-02-02");
    CU_ASSERT_STRING_EQUAL(describe(s), "SC:2026-03-29:c SP:2027-01-10:- "
                                        "review 2026-03-29 lead SC");
    CU_ASSERT_EQUAL(jr_schedule_find(s, "SC")->last_review, JR_DAY_NONE);
    CU_ASSERT_PTR_EQUAL(jr_schedule_find(s, "SC")->enrolment, &ev[2]);
    jr_schedule_destroy(&s);

    /* Without the older enrolment the meeting did not cover SC at all. */
    jr_event_t only_new[] = {ev[0], ev[2], ev[3]};
    s = compute(only_new, N(only_new), "2026-02-02");
    CU_ASSERT_STRING_EQUAL(describe(s), "SC:2026-03-29:c SP:2027-01-10:- "
                                        "review 2026-03-29 lead SC");
    jr_schedule_destroy(&s);
}

static void test_renewed_award_does_not_rewrite_past_meeting(void)
{
    /* The meeting on ATW's renewal date covered ATW and SC (due 89 days
     * later), not ICES (due 175 days later). */
    jr_event_t ev[] = {enrol("ATW", "a1", "2023-04-01"), reviewed("SC", "e1", "2025-04-06"),
                       reviewed("ICES", "e2", "2025-07-01"), held("h1", "2026-01-07"),
                       enrol("ATW", "a2", "2026-04-01")};
    ev[0].u.enrolment.award_ends_on = D("2026-04-01");
    ev[4].u.enrolment.award_ends_on = D("2029-04-01");
    ev[4].occurred_at_ms = T0 + 3000 * HOUR;

    jr_schedule_t *s = compute(ev, N(ev), "2026-01-08");
    CU_ASSERT_STRING_EQUAL(describe(s), "ATW:2029-01-07:- ICES:2026-07-01:c SC:2027-01-07:- "
                                        "review 2026-07-01 lead ICES");
    jr_schedule_destroy(&s);

    /* Before the renewal arrived: ATW waits for its new award. */
    s = compute(ev, N(ev) - 1, "2026-01-08");
    CU_ASSERT_STRING_EQUAL(describe(s), "ATW:none:- ICES:2026-07-01:c SC:2027-01-07:- "
                                        "review 2026-07-01 lead ICES");
    CU_ASSERT_EQUAL(jr_schedule_find(s, "ATW")->last_review, D("2026-01-07"));
    jr_schedule_destroy(&s);
}

/* --- the lead organisation ---------------------------------------------- */

static void test_lead_default_precedence(void)
{
    static const char *const order[] = {"SC", "SP", "ILF", "ICES", "DFG", "ATW"};
    jr_event_t ev[N(order)];
    for (size_t i = 0; i < N(order); i++)
        ev[i] = reviewed(order[i], order[i], "2025-03-01");
    /* Every driving stream due on 2026-03-01. */
    ev[2].u.enrolment.last_review_on = D("2024-03-01"); /* ILF, every 730 days */
    ev[5].u.enrolment.award_ends_on = D("2026-05-24");  /* ATW, 84 days before */

    /* Drop the leading stream each time: the next one leads. */
    for (size_t first = 0; first < N(order); first++) {
        jr_schedule_t *s = compute(ev + first, N(order) - first, "2025-06-01");
        CU_ASSERT_STRING_EQUAL(lead_of(s), order[first]);
        CU_ASSERT_EQUAL(s->review_on, D("2026-03-01"));
        jr_schedule_destroy(&s);
    }
}

static void test_lead_reconfigured_precedence(void)
{
    jr_streams_t *table = jr_streams_dup(streams);
    CU_ASSERT_PTR_NOT_NULL_FATAL(table);
    jr_stream_t ices = *jr_streams_find(table, "ICES");
    ices.lead_rank = 1;
    jr_stream_t sc = *jr_streams_find(table, "SC");
    sc.lead_rank = 2;
    CU_ASSERT_EQUAL(jr_streams_put(table, &ices), 0);
    CU_ASSERT_EQUAL(jr_streams_put(table, &sc), 0);

    jr_event_t ev[] = {reviewed("SC", "e1", "2025-03-01"), reviewed("ICES", "e2", "2025-03-05")};
    jr_schedule_t *s = compute_with(ev, N(ev), table, NULL, "2025-06-01");
    CU_ASSERT_STRING_EQUAL(lead_of(s), "ICES");
    jr_schedule_destroy(&s);

    /* Rank 0 counts last; equal ranks go by code. */
    ices.lead_rank = 0;
    CU_ASSERT_EQUAL(jr_streams_put(table, &ices), 0);
    s = compute_with(ev, N(ev), table, NULL, "2025-06-01");
    CU_ASSERT_STRING_EQUAL(lead_of(s), "SC");
    jr_schedule_destroy(&s);
    ices.lead_rank = 2;
    CU_ASSERT_EQUAL(jr_streams_put(table, &ices), 0);
    s = compute_with(ev, N(ev), table, NULL, "2025-06-01");
    CU_ASSERT_STRING_EQUAL(lead_of(s), "ICES");
    jr_schedule_destroy(&s);

    jr_streams_destroy(&table);
}

static void test_stream_added_by_configuration(void)
{
    jr_streams_t *table = jr_streams_dup(streams);
    CU_ASSERT_PTR_NOT_NULL_FATAL(table);
    jr_stream_t cpa = {.code = "CPA",
                       .name = "Care Programme Approach",
                       .enabled = true,
                       .interval_days = 365,
                       .lead_rank = 7};
    jr_stream_t chc = {.code = "CHC",
                       .name = "Continuing Healthcare",
                       .enabled = true,
                       .interval_days = 365,
                       .first_review_days = 90};
    CU_ASSERT_EQUAL(jr_streams_put(table, &cpa), 0);
    CU_ASSERT_EQUAL(jr_streams_put(table, &chc), 0);

    jr_event_t ev[] = {reviewed("CPA", "e1", "2025-03-01"), enrol("CHC", "e2", "2025-05-01"),
                       reviewed("ILF", "e3", "2024-06-01")};
    jr_schedule_t *s = compute_with(ev, N(ev), table, NULL, "2025-06-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "CHC:2025-07-30:c CPA:2026-03-01:- ILF:2026-06-01:- "
                                        "review 2025-07-30 lead CHC");
    jr_schedule_destroy(&s);

    jr_event_t both[] = {reviewed("CPA", "e1", "2025-03-01"), reviewed("SP", "e3", "2025-04-01")};
    s = compute_with(both, N(both), table, NULL, "2025-06-01");
    CU_ASSERT_STRING_EQUAL(describe(s), "CPA:2026-03-01:c SP:2026-04-01:c "
                                        "review 2026-03-01 lead SP");
    jr_schedule_destroy(&s);
    jr_streams_destroy(&table);
}

/* --- notices ------------------------------------------------------------ */

/* "lead-56 lead-28* due ..." with * for superseded, and the dates checked. */
static const char *notices(const jr_schedule_t *s, const jr_schedule_rules_t *rules,
                           const char *today)
{
    static char buf[512];
    jr_notice_t out[16];
    size_t n = jr_schedule_notices_due(s, rules, D(today), out, N(out));
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < N(out); i++) {
        char date[11];
        jr_text_format_date(out[i].on, date);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s%s@%s", i > 0 ? " " : "",
                                out[i].key, out[i].superseded ? "*" : "", date);
    }
    return buf;
}

static jr_schedule_t *due_on_2026_03_01(void)
{
    static jr_event_t ev[1];
    ev[0] = reviewed("SP", "e1", "2025-03-01");
    jr_schedule_t *s = compute(ev, N(ev), "2025-06-01");
    CU_ASSERT_EQUAL_FATAL(s->review_on, D("2026-03-01"));
    return s;
}

static void test_notice_sequence(void)
{
    jr_schedule_t *s = due_on_2026_03_01();
    CU_ASSERT_STRING_EQUAL(notices(s, NULL, "2026-01-03"), "");
    CU_ASSERT_STRING_EQUAL(notices(s, NULL, "2026-01-04"), "lead-56@2026-01-04");
    CU_ASSERT_STRING_EQUAL(notices(s, NULL, "2026-02-01"),
                           "lead-56*@2026-01-04 lead-28@2026-02-01");
    CU_ASSERT_STRING_EQUAL(notices(s, NULL, "2026-02-22"),
                           "lead-56*@2026-01-04 lead-28*@2026-02-01 lead-7@2026-02-22");
    CU_ASSERT_STRING_EQUAL(notices(s, NULL, "2026-03-01"), "lead-56*@2026-01-04 "
                                                           "lead-28*@2026-02-01 "
                                                           "lead-7*@2026-02-22 due@2026-03-01");
    CU_ASSERT_STRING_EQUAL(notices(s, NULL, "2026-03-02"),
                           "lead-56*@2026-01-04 lead-28*@2026-02-01 lead-7*@2026-02-22 "
                           "due*@2026-03-01 overdue-1@2026-03-02");
    CU_ASSERT_STRING_EQUAL(notices(s, NULL, "2026-03-16"),
                           "lead-56*@2026-01-04 lead-28*@2026-02-01 lead-7*@2026-02-22 "
                           "due*@2026-03-01 overdue-1*@2026-03-02 overdue-2*@2026-03-09 "
                           "overdue-3@2026-03-16");

    jr_notice_t out[8];
    CU_ASSERT_EQUAL(jr_schedule_notices_due(s, NULL, D("2026-03-09"), out, N(out)), 6);
    CU_ASSERT_EQUAL(out[0].kind, JR_NOTICE_LEAD);
    CU_ASSERT_EQUAL(out[0].number, 56);
    CU_ASSERT_EQUAL(out[3].kind, JR_NOTICE_DUE);
    CU_ASSERT_EQUAL(out[3].number, 0);
    CU_ASSERT_EQUAL(out[5].kind, JR_NOTICE_OVERDUE);
    CU_ASSERT_EQUAL(out[5].number, 2);
    CU_ASSERT_EQUAL(out[5].on, D("2026-03-09"));
    CU_ASSERT_STRING_EQUAL(out[5].key, "overdue-2");
    CU_ASSERT_FALSE(out[5].superseded);
    jr_schedule_destroy(&s);
}

static void test_catching_up_sends_the_latest(void)
{
    jr_schedule_t *s = due_on_2026_03_01();
    /* Down since before the 56-day notice: only the 28-day one is sent. */
    CU_ASSERT_STRING_EQUAL(notices(s, NULL, "2026-02-20"),
                           "lead-56*@2026-01-04 lead-28@2026-02-01");
    /* Sizing call, and a short buffer gets the first ones. */
    CU_ASSERT_EQUAL(jr_schedule_notices_due(s, NULL, D("2026-04-10"), NULL, 0), 10);
    jr_notice_t out[2];
    CU_ASSERT_EQUAL(jr_schedule_notices_due(s, NULL, D("2026-04-10"), out, N(out)), 10);
    CU_ASSERT_STRING_EQUAL(out[0].key, "lead-56");
    CU_ASSERT_STRING_EQUAL(out[1].key, "lead-28");
    CU_ASSERT_TRUE(out[1].superseded);
    /* The one to send, however long the daemon was away. */
    jr_notice_t latest;
    CU_ASSERT_TRUE(jr_schedule_latest_notice(s, NULL, D("2026-02-20"), &latest));
    CU_ASSERT_STRING_EQUAL(latest.key, "lead-28");
    CU_ASSERT_TRUE(jr_schedule_latest_notice(s, NULL, D("2026-04-10"), &latest));
    CU_ASSERT_STRING_EQUAL(latest.key, "overdue-6");
    CU_ASSERT_EQUAL(latest.on, D("2026-04-06"));
    CU_ASSERT_FALSE(latest.superseded);
    CU_ASSERT_TRUE(jr_schedule_latest_notice(s, NULL, D("2028-03-01"), &latest));
    CU_ASSERT_STRING_EQUAL(latest.key, "overdue-105");
    CU_ASSERT_EQUAL(latest.on, D("2028-02-28"));
    CU_ASSERT_FALSE(jr_schedule_latest_notice(s, NULL, D("2026-01-03"), &latest));
    jr_schedule_destroy(&s);

    /* No review date, no notices. */
    jr_event_t dfg[] = {enrol("DFG", "e1", "2025-01-01")};
    s = compute(dfg, N(dfg), "2025-06-01");
    CU_ASSERT_EQUAL(jr_schedule_notices_due(s, NULL, D("2030-01-01"), NULL, 0), 0);
    CU_ASSERT_EQUAL(jr_schedule_next_notice_on(s, NULL, D("2025-06-01")), JR_DAY_NONE);
    jr_schedule_destroy(&s);
}

static void test_next_notice_on(void)
{
    static const struct {
        const char *today, *next;
    } want[] = {
        {"2025-06-01", "2026-01-04"}, {"2026-01-04", "2026-02-01"}, {"2026-02-20", "2026-02-22"},
        {"2026-02-28", "2026-03-01"}, {"2026-03-01", "2026-03-02"}, {"2026-03-02", "2026-03-09"},
        {"2026-03-05", "2026-03-09"}, {"2026-03-09", "2026-03-16"}, {"2026-03-15", "2026-03-16"},
    };
    jr_schedule_t *s = due_on_2026_03_01();
    for (size_t i = 0; i < N(want); i++) {
        jr_day_t next = jr_schedule_next_notice_on(s, NULL, D(want[i].today));
        char date[11];
        jr_text_format_date(next, date);
        if (strcmp(date, want[i].next) != 0)
            printf("\n  today %s: next %s, want %s\n", want[i].today, date, want[i].next);
        CU_ASSERT_EQUAL(next, D(want[i].next));
    }
    jr_schedule_destroy(&s);
}

static void test_configured_lead_times(void)
{
    jr_schedule_rules_t rules = {.window_days = 90, .lead_days = {14, 0, 30, 14}, .n_leads = 4};
    jr_schedule_t *s = due_on_2026_03_01();
    /* Any order in the configuration; 0 and duplicates ignored. */
    CU_ASSERT_STRING_EQUAL(notices(s, &rules, "2026-03-01"),
                           "lead-30*@2026-01-30 lead-14*@2026-02-15 due@2026-03-01");
    CU_ASSERT_EQUAL(jr_schedule_next_notice_on(s, &rules, D("2026-01-01")), D("2026-01-30"));
    rules.n_leads = 0;
    CU_ASSERT_STRING_EQUAL(notices(s, &rules, "2026-03-01"), "due@2026-03-01");
    CU_ASSERT_EQUAL(jr_schedule_next_notice_on(s, &rules, D("2026-01-01")), D("2026-03-01"));
    jr_schedule_destroy(&s);
}

/* ---- who may say a review was held ---- */

static jr_held_verdict_t may_close(const jr_event_t *ev, size_t n, const char *stream,
                                   const char *held_on, const char *today, jr_day_t *opened)
{
    return jr_schedule_check_held(ev, n, streams, stream, D(held_on), D(today), opened);
}

static void test_only_an_enrolled_stream_may_close(void)
{
    jr_event_t ev[3] = {enrol("SC", "sc-e", "2025-01-01"), enrol("ILF", "ilf-e", "2025-03-01"),
                        enrol("ICES", "ices-e", "2025-01-01")};
    ev[2].u.enrolment.ended_on = D("2025-05-01");
    jr_day_t opened = 0;
    CU_ASSERT_EQUAL(may_close(ev, 3, "SC", "2025-06-01", "2025-06-02", &opened), JR_HELD_OK);
    CU_ASSERT_EQUAL(opened, JR_DAY_NONE); /* the first cycle */
    /* Not enrolled at all. */
    CU_ASSERT_EQUAL(may_close(ev, 3, "ATW", "2025-06-01", "2025-06-02", &opened),
                    JR_HELD_NOT_ENROLLED);
    /* Enrolled, but not yet on the held date ... */
    CU_ASSERT_EQUAL(may_close(ev, 3, "ILF", "2025-02-28", "2025-06-02", &opened),
                    JR_HELD_NOT_ENROLLED);
    CU_ASSERT_EQUAL(may_close(ev, 3, "ILF", "2025-03-01", "2025-06-02", &opened), JR_HELD_OK);
    /* ... or no longer: ended on 2025-05-01 (the end day counts as ended). */
    CU_ASSERT_EQUAL(may_close(ev, 3, "ICES", "2025-04-30", "2025-06-02", &opened), JR_HELD_OK);
    CU_ASSERT_EQUAL(may_close(ev, 3, "ICES", "2025-05-01", "2025-06-02", &opened),
                    JR_HELD_NOT_ENROLLED);
    /* Nobody known: no enrolment at all. */
    CU_ASSERT_EQUAL(may_close(NULL, 0, "SC", "2025-06-01", "2025-06-02", &opened),
                    JR_HELD_NOT_ENROLLED);
}

static void test_held_date_within_the_cycle_and_not_ahead(void)
{
    jr_event_t ev[3] = {enrol("SC", "sc-e", "2025-01-01"), held("h1", "2025-03-10"),
                        held("h2", "2025-06-20")};
    jr_day_t opened = 0;
    /* After today: refused, whoever sends it. */
    CU_ASSERT_EQUAL(may_close(ev, 3, "SC", "2025-07-02", "2025-07-01", &opened), JR_HELD_IN_FUTURE);
    CU_ASSERT_EQUAL(may_close(ev, 3, "SC", "2025-07-01", "2025-07-01", &opened), JR_HELD_OK);
    /* The cycle opened with the latest review held, 2025-06-20. */
    CU_ASSERT_EQUAL(opened, D("2025-06-20"));
    CU_ASSERT_EQUAL(may_close(ev, 3, "SC", "2025-06-19", "2025-07-01", &opened),
                    JR_HELD_BEFORE_CYCLE);
    CU_ASSERT_EQUAL(may_close(ev, 3, "SC", "2025-06-20", "2025-07-01", &opened), JR_HELD_OK);
    /* Not enrolled is said first. */
    CU_ASSERT_EQUAL(may_close(ev, 3, "DFG", "2025-06-19", "2025-06-01", &opened),
                    JR_HELD_NOT_ENROLLED);
}

/* A stream re-enrolled after a gap: the enrolment in force on the held day
 * decides, as at a replayed meeting. */
static void test_held_judged_by_the_enrolment_in_force(void)
{
    jr_event_t first = enrol("SP", "sp-1", "2024-01-01");
    first.u.enrolment.ended_on = D("2024-06-01");
    jr_event_t again = enrol("SP", "sp-2", "2025-01-01");
    again.occurred_at_ms = T0 + HOUR;
    jr_event_t ev[2] = {first, again};
    jr_day_t opened = 0;
    CU_ASSERT_EQUAL(may_close(ev, 2, "SP", "2024-03-01", "2025-06-01", &opened), JR_HELD_OK);
    CU_ASSERT_EQUAL(may_close(ev, 2, "SP", "2024-09-01", "2025-06-01", &opened),
                    JR_HELD_NOT_ENROLLED);
    CU_ASSERT_EQUAL(may_close(ev, 2, "SP", "2025-02-01", "2025-06-01", &opened), JR_HELD_OK);
}

static CU_TestInfo stream_tests[] = {
    {"SC: first review at 56 days, then 365", test_social_care_first_review_then_yearly},
    {"SP 365, ILF 730, ICES 365, overrides", test_sp_ilf_ices_intervals},
    {"ATW: 84 days before the award ends", test_access_to_work_award_end},
    {"DFG never drives a date but is covered", test_dfg_never_drives_but_is_covered},
    {"ended enrolments drop out", test_ended_enrolments_drop_out},
    {"the newest enrolment wins", test_newest_enrolment_wins},
    {"unknown, disabled and other events ignored", test_unknown_disabled_and_other_events_ignored},
    {"a stream added by configuration", test_stream_added_by_configuration},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo review_tests[] = {
    {"alignment window edges", test_alignment_window_edges},
    {"review held moves covered streams only", test_review_held_sets_covered_streams_only},
    {"a new enrolment after a review starts afresh",
     test_new_enrolment_after_review_is_fresh_start},
    {"a renewed award keeps past meetings", test_renewed_award_does_not_rewrite_past_meeting},
    {"lead: default precedence", test_lead_default_precedence},
    {"lead: reconfigured precedence", test_lead_reconfigured_precedence},
    {"only an enrolled stream may close the cycle", test_only_an_enrolled_stream_may_close},
    {"held within the cycle and not ahead of today", test_held_date_within_the_cycle_and_not_ahead},
    {"held judged by the enrolment in force", test_held_judged_by_the_enrolment_in_force},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo notice_tests[] = {
    {"lead, due and weekly overdue notices", test_notice_sequence},
    {"catching up sends only the latest", test_catching_up_sends_the_latest},
    {"next notice date", test_next_notice_on},
    {"configured lead times", test_configured_lead_times},
    CU_TEST_INFO_NULL,
};

int main(void)
{
    CU_SuiteInfo suites[] = {
        {.pName = "streams", .pInitFunc = setup, .pCleanupFunc = teardown, .pTests = stream_tests},
        {.pName = "review", .pInitFunc = setup, .pCleanupFunc = teardown, .pTests = review_tests},
        {.pName = "notices", .pInitFunc = setup, .pCleanupFunc = teardown, .pTests = notice_tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
