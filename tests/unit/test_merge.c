/* test_merge.c -- the consolidated review from one cycle's events. */
#include "merge.h"

#include <stdio.h>
#include <string.h>

#include "jr_cunit.h"

#define B(t)   JR_TOPIC_BIT(JR_TOPIC_##t)
#define DAY_MS INT64_C(86400000)
#define T0     INT64_C(1748779200000) /* 2025-06-01T12:00Z */
#define DAY0   20240                  /* 2025-06-01 */
#define N(a)   (sizeof(a) / sizeof((a)[0]))

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

static jr_event_t said(const char *stream, const char *id, int64_t ms, jr_topic_t topic,
                       jr_role_t role, jr_priority_t priority)
{
    return (jr_event_t){.stream = stream,
                        .source_event_id = id,
                        .occurred_at_ms = ms,
                        .kind = JR_EVENT_CONTRIBUTION,
                        .u.contribution = {.topic = topic, .role = role, .priority = priority}};
}

static jr_event_t no_change(const char *stream, const char *id, int64_t ms, jr_topic_t topic)
{
    jr_event_t ev = said(stream, id, ms, topic, JR_ROLE_STREAM_OFFICER, JR_PRIORITY_NOT_GIVEN);
    ev.u.contribution.no_change = true;
    return ev;
}

static jr_event_t enrolled(const char *stream, const char *id, int64_t ms, jr_day_t ended_on)
{
    return (jr_event_t){.stream = stream,
                        .source_event_id = id,
                        .occurred_at_ms = ms,
                        .kind = JR_EVENT_ENROLMENT,
                        .u.enrolment = {.started_on = DAY0 - 400,
                                        .ended_on = ended_on,
                                        .last_review_on = JR_DAY_NONE,
                                        .award_ends_on = JR_DAY_NONE}};
}

static jr_event_t plan(const char *stream, const char *id, int64_t ms, jr_day_t revise_by)
{
    return (jr_event_t){.stream = stream,
                        .source_event_id = id,
                        .occurred_at_ms = ms,
                        .kind = JR_EVENT_PLAN_REVISION,
                        .u.plan_revision = {.revise_by = revise_by}};
}

static jr_event_t held(const char *stream, const char *id, int64_t ms, jr_day_t held_on)
{
    return (jr_event_t){.stream = stream,
                        .source_event_id = id,
                        .occurred_at_ms = ms,
                        .kind = JR_EVENT_REVIEW_HELD,
                        .u.review_held = {.held_on = held_on}};
}

static jr_review_t *merge(const jr_event_t *cycle, size_t n_cycle, const jr_event_t *enrolments,
                          size_t n_enrolments)
{
    jr_merge_input_t in = {.cycle_events = cycle,
                           .n_cycle_events = n_cycle,
                           .enrolments = enrolments,
                           .n_enrolments = n_enrolments};
    jr_review_t *review = jr_merge_review(&in, streams);
    CU_ASSERT_PTR_NOT_NULL_FATAL(review);
    return review;
}

static const jr_area_t *area(const jr_review_t *review, int number)
{
    return &review->areas[number - 1];
}

static void assert_view(const jr_priority_view_t *v, const char *stream, jr_role_t role,
                        jr_topic_t topic, jr_priority_t priority)
{
    CU_ASSERT_STRING_EQUAL(v->stream, stream);
    CU_ASSERT_EQUAL(v->role, role);
    CU_ASSERT_EQUAL(v->topic, topic);
    CU_ASSERT_EQUAL(v->priority, priority);
}

static void test_person_priority_wins(void)
{
    jr_event_t ev[] = {
        said("SC", "c1", T0, JR_TOPIC_ADVOCACY, JR_ROLE_COUNCIL, JR_PRIORITY_RED),
        said("SC", "p1", T0 - 1000, JR_TOPIC_SUPPORT, JR_ROLE_PERSON, JR_PRIORITY_AMBER),
    };
    jr_review_t *r = merge(ev, N(ev), NULL, 0);
    const jr_area_t *a = area(r, 1);
    CU_ASSERT_EQUAL(a->number, 1);
    CU_ASSERT_EQUAL(a->priority, JR_PRIORITY_AMBER);
    CU_ASSERT_TRUE(a->priority_from_person);
    /* The person differs from the council: made explicit. */
    CU_ASSERT_TRUE(a->conflict);
    CU_ASSERT_EQUAL_FATAL(a->n_views, 2);
    assert_view(&a->views[0], "SC", JR_ROLE_PERSON, JR_TOPIC_SUPPORT, JR_PRIORITY_AMBER);
    assert_view(&a->views[1], "SC", JR_ROLE_COUNCIL, JR_TOPIC_ADVOCACY, JR_PRIORITY_RED);
    jr_merge_destroy(&r);
    CU_ASSERT_PTR_NULL(r);
}

static void test_highest_without_person(void)
{
    jr_event_t ev[] = {
        said("SP", "a", T0, JR_TOPIC_HEALTH, JR_ROLE_PROVIDER, JR_PRIORITY_GREEN),
        said("SC", "b", T0, JR_TOPIC_SAFETY, JR_ROLE_COUNCIL, JR_PRIORITY_RED),
        said("ILF", "c", T0, JR_TOPIC_HEALTH, JR_ROLE_CARER, JR_PRIORITY_AMBER),
        said("SC", "d", T0, JR_TOPIC_FAMILY, JR_ROLE_CARER, JR_PRIORITY_AMBER),
        said("SC", "e", T0, JR_TOPIC_CHOICES_RISKS, JR_ROLE_COUNCIL, JR_PRIORITY_RED),
        /* A person's statement with no priority leaves the highest in charge. */
        said("SC", "f", T0, JR_TOPIC_FAMILY, JR_ROLE_PERSON, JR_PRIORITY_NOT_GIVEN),
    };
    jr_review_t *r = merge(ev, N(ev), NULL, 0);
    CU_ASSERT_EQUAL(area(r, 4)->priority, JR_PRIORITY_RED);
    CU_ASSERT_FALSE(area(r, 4)->priority_from_person);
    CU_ASSERT_EQUAL(area(r, 2)->priority, JR_PRIORITY_RED);
    CU_ASSERT_FALSE(area(r, 2)->priority_from_person);
    CU_ASSERT_FALSE(area(r, 2)->conflict); /* red and amber: one step */
    CU_ASSERT_EQUAL(area(r, 2)->n_views, 0);
    CU_ASSERT_EQUAL(area(r, 3)->priority, JR_PRIORITY_NOT_GIVEN);
    CU_ASSERT_EQUAL(area(r, 3)->n_statements, 0);
    CU_ASSERT_PTR_NULL(area(r, 3)->statements);
    jr_merge_destroy(&r);
}

static void test_red_green_conflict_names_authors(void)
{
    jr_event_t ev[] = {
        said("ICES", "x", T0, JR_TOPIC_SAFETY, JR_ROLE_PROVIDER, JR_PRIORITY_GREEN),
        said("ILF", "y", T0, JR_TOPIC_HEALTH, JR_ROLE_CARER, JR_PRIORITY_RED),
        said("SC", "z", T0, JR_TOPIC_HEALTH, JR_ROLE_COUNCIL, JR_PRIORITY_NOT_GIVEN),
    };
    jr_review_t *r = merge(ev, N(ev), NULL, 0);
    const jr_area_t *a = area(r, 4);
    CU_ASSERT_EQUAL(a->priority, JR_PRIORITY_RED);
    CU_ASSERT_FALSE(a->priority_from_person);
    CU_ASSERT_TRUE(a->conflict);
    /* Only statements that gave a priority, in statement order. */
    CU_ASSERT_EQUAL_FATAL(a->n_views, 2);
    assert_view(&a->views[0], "ILF", JR_ROLE_CARER, JR_TOPIC_HEALTH, JR_PRIORITY_RED);
    assert_view(&a->views[1], "ICES", JR_ROLE_PROVIDER, JR_TOPIC_SAFETY, JR_PRIORITY_GREEN);
    CU_ASSERT_EQUAL(a->n_statements, 3);
    jr_merge_destroy(&r);
}

static void test_person_green_vs_council_amber(void)
{
    jr_event_t ev[] = {
        said("SC", "p", T0, JR_TOPIC_HOUSING, JR_ROLE_PERSON, JR_PRIORITY_GREEN),
        said("DFG", "c", T0, JR_TOPIC_EQUIPMENT, JR_ROLE_COUNCIL, JR_PRIORITY_AMBER),
    };
    jr_review_t *r = merge(ev, N(ev), NULL, 0);
    const jr_area_t *a = area(r, 8);
    CU_ASSERT_EQUAL(a->priority, JR_PRIORITY_GREEN);
    CU_ASSERT_TRUE(a->priority_from_person);
    CU_ASSERT_TRUE(a->conflict);
    CU_ASSERT_EQUAL_FATAL(a->n_views, 2);
    assert_view(&a->views[0], "SC", JR_ROLE_PERSON, JR_TOPIC_HOUSING, JR_PRIORITY_GREEN);
    assert_view(&a->views[1], "DFG", JR_ROLE_COUNCIL, JR_TOPIC_EQUIPMENT, JR_PRIORITY_AMBER);
    jr_merge_destroy(&r);
}

static void test_agreement_is_not_conflict(void)
{
    jr_event_t ev[] = {
        said("SC", "a", T0, JR_TOPIC_INCOME, JR_ROLE_COUNCIL, JR_PRIORITY_AMBER),
        said("SP", "b", T0, JR_TOPIC_INCOME, JR_ROLE_PROVIDER, JR_PRIORITY_GREEN),
        said("SC", "c", T0, JR_TOPIC_HEALTH, JR_ROLE_PERSON, JR_PRIORITY_RED),
        said("SC", "d", T0, JR_TOPIC_SAFETY, JR_ROLE_COUNCIL, JR_PRIORITY_RED),
    };
    jr_review_t *r = merge(ev, N(ev), NULL, 0);
    /* Amber against green, nobody else: one step, no conflict. */
    CU_ASSERT_EQUAL(area(r, 3)->priority, JR_PRIORITY_AMBER);
    CU_ASSERT_FALSE(area(r, 3)->conflict);
    CU_ASSERT_EQUAL(area(r, 3)->n_views, 0);
    CU_ASSERT_PTR_NULL(area(r, 3)->views);
    /* The person and the council agree. */
    CU_ASSERT_EQUAL(area(r, 4)->priority, JR_PRIORITY_RED);
    CU_ASSERT_TRUE(area(r, 4)->priority_from_person);
    CU_ASSERT_FALSE(area(r, 4)->conflict);
    jr_merge_destroy(&r);
}

static void test_newest_by_occurred_at_not_arrival(void)
{
    jr_event_t ev[] = {
        said("SC", "e2", T0, JR_TOPIC_HOUSING, JR_ROLE_COUNCIL, JR_PRIORITY_RED),
        /* Arrives later, happened earlier, and its id sorts later too. */
        said("SC", "e9", T0 - DAY_MS, JR_TOPIC_HOUSING, JR_ROLE_COUNCIL, JR_PRIORITY_GREEN),
    };
    ev[0].u.contribution.working = "new";
    ev[1].u.contribution.working = "old";
    jr_review_t *r = merge(ev, N(ev), NULL, 0);
    const jr_area_t *a = area(r, 8);
    CU_ASSERT_EQUAL_FATAL(a->n_statements, 1);
    CU_ASSERT_PTR_EQUAL(a->statements[0].event, &ev[0]);
    CU_ASSERT_STRING_EQUAL(a->statements[0].event->u.contribution.working, "new");
    CU_ASSERT_EQUAL(a->priority, JR_PRIORITY_RED);
    CU_ASSERT_FALSE(a->conflict); /* the superseded green no longer counts */
    jr_merge_destroy(&r);
}

static void test_same_instant_broken_by_source_id(void)
{
    jr_event_t ev[] = {
        said("SC", "b", T0, JR_TOPIC_INCOME, JR_ROLE_COUNCIL, JR_PRIORITY_GREEN),
        said("SC", "a", T0, JR_TOPIC_INCOME, JR_ROLE_COUNCIL, JR_PRIORITY_RED),
    };
    jr_review_t *r = merge(ev, N(ev), NULL, 0);
    CU_ASSERT_EQUAL_FATAL(area(r, 3)->n_statements, 1);
    CU_ASSERT_STRING_EQUAL(area(r, 3)->statements[0].event->source_event_id, "b");
    jr_merge_destroy(&r);
}

static void test_statement_order(void)
{
    jr_event_t ev[] = {
        said("SC", "1", T0, JR_TOPIC_TRANSPORT, JR_ROLE_COUNCIL, JR_PRIORITY_NOT_GIVEN),
        said("SC", "2", T0, JR_TOPIC_HOUSING, JR_ROLE_COUNCIL, JR_PRIORITY_NOT_GIVEN),
        said("ILF", "3", T0, JR_TOPIC_HOUSING, JR_ROLE_PERSON, JR_PRIORITY_NOT_GIVEN),
        said("SC", "4", T0, JR_TOPIC_HOUSING, JR_ROLE_PERSON, JR_PRIORITY_NOT_GIVEN),
        said("DFG", "5", T0, JR_TOPIC_HOUSING, JR_ROLE_STREAM_OFFICER, JR_PRIORITY_NOT_GIVEN),
        said("DFG", "6", T0, JR_TOPIC_EQUIPMENT, JR_ROLE_STREAM_OFFICER, JR_PRIORITY_NOT_GIVEN),
        said("SC", "7", T0, JR_TOPIC_HOUSING, JR_ROLE_CARER, JR_PRIORITY_NOT_GIVEN),
    };
    jr_review_t *r = merge(ev, N(ev), NULL, 0);
    const jr_area_t *a = area(r, 8);
    /* HOUSING: DFG officer; ILF person; SC person, carer, council. Then
     * EQUIPMENT, then TRANSPORT. Same stream and topic from different roles
     * both show. */
    const char *want[] = {"5", "3", "4", "7", "2", "6", "1"};
    CU_ASSERT_EQUAL_FATAL(a->n_statements, N(want));
    for (size_t i = 0; i < N(want); i++)
        CU_ASSERT_STRING_EQUAL(a->statements[i].event->source_event_id, want[i]);
    CU_ASSERT_EQUAL(a->priority, JR_PRIORITY_NOT_GIVEN);
    CU_ASSERT_FALSE(a->priority_from_person);
    CU_ASSERT_FALSE(a->conflict);
    CU_ASSERT_EQUAL(r->covered, B(HOUSING) | B(EQUIPMENT) | B(TRANSPORT));
    jr_merge_destroy(&r);
}

static void test_person_newest_priority_in_area(void)
{
    jr_event_t ev[] = {
        said("SC", "new", T0, JR_TOPIC_PEER_SUPPORT, JR_ROLE_PERSON, JR_PRIORITY_AMBER),
        said("SP", "old", T0 - 5000, JR_TOPIC_SUPPORT, JR_ROLE_PERSON, JR_PRIORITY_RED),
    };
    jr_review_t *r = merge(ev, N(ev), NULL, 0);
    const jr_area_t *a = area(r, 1);
    CU_ASSERT_EQUAL(a->n_statements, 2);
    CU_ASSERT_EQUAL(a->priority, JR_PRIORITY_AMBER);
    CU_ASSERT_TRUE(a->priority_from_person);
    CU_ASSERT_FALSE(a->conflict); /* only the person spoke */
    jr_merge_destroy(&r);
}

static void test_other_and_area_numbers(void)
{
    jr_event_t ev[] = {
        said("SC", "o", T0, JR_TOPIC_OTHER, JR_ROLE_ADVOCATE, JR_PRIORITY_GREEN),
        said("SC", "bad", T0, (jr_topic_t)19, JR_ROLE_COUNCIL, JR_PRIORITY_RED),
        said("SC", "nobody", T0, JR_TOPIC_INCOME, JR_ROLE_NONE, JR_PRIORITY_RED),
    };
    jr_review_t *r = merge(ev, N(ev), NULL, 0);
    for (int n = 1; n <= JR_AREA_COUNT; n++)
        CU_ASSERT_EQUAL(area(r, n)->number, n);
    CU_ASSERT_EQUAL_FATAL(area(r, 9)->n_statements, 1);
    CU_ASSERT_STRING_EQUAL(area(r, 9)->statements[0].event->source_event_id, "o");
    CU_ASSERT_EQUAL(area(r, 9)->priority, JR_PRIORITY_GREEN);
    CU_ASSERT_EQUAL(area(r, 3)->n_statements, 0); /* no author role: not shown */
    CU_ASSERT_EQUAL(r->covered, B(OTHER));
    jr_merge_destroy(&r);
}

static void test_empty(void)
{
    jr_review_t *r = merge(NULL, 0, NULL, 0);
    CU_ASSERT_EQUAL(r->as_of, JR_DAY_NONE);
    CU_ASSERT_EQUAL(r->covered, 0);
    CU_ASSERT_EQUAL(r->n_streams, 0);
    CU_ASSERT_FALSE(r->ready_for_sign_off);
    CU_ASSERT_PTR_NULL(r->plan_revision);
    CU_ASSERT_PTR_NULL(r->review_held);
    for (int n = 1; n <= JR_AREA_COUNT; n++) {
        CU_ASSERT_EQUAL(area(r, n)->n_statements, 0);
        CU_ASSERT_EQUAL(area(r, n)->priority, JR_PRIORITY_NOT_GIVEN);
    }
    jr_merge_destroy(&r);
    jr_merge_destroy(&r);
    jr_merge_destroy(NULL);
}

static void test_enrolment_in_force(void)
{
    jr_event_t cycle[] = {said("SC", "c", T0, JR_TOPIC_INCOME, JR_ROLE_PERSON, JR_PRIORITY_GREEN)};
    jr_event_t enrolments[] = {
        enrolled("SP", "sp1", T0 - 9 * DAY_MS, DAY0 - 1),     /* ended before as_of */
        enrolled("ILF", "ilf1", T0 - 9 * DAY_MS, DAY0),       /* ended on as_of */
        enrolled("ICES", "ices1", T0 - 9 * DAY_MS, DAY0 + 1), /* ends tomorrow */
        enrolled("SC", "sc1", T0 - 9 * DAY_MS, JR_DAY_NONE),
        /* ATW: an ended enrolment superseded by a newer open one. */
        enrolled("ATW", "atw2", T0 - 2 * DAY_MS, JR_DAY_NONE),
        enrolled("ATW", "atw1", T0 - 8 * DAY_MS, DAY0 - 30),
        /* DFG: the newest enrolment ended it. */
        enrolled("DFG", "dfg2", T0 - 1 * DAY_MS, DAY0 - 1),
        enrolled("DFG", "dfg1", T0 - 7 * DAY_MS, JR_DAY_NONE),
    };
    jr_review_t *r = merge(cycle, N(cycle), enrolments, N(enrolments));
    CU_ASSERT_EQUAL(r->as_of, DAY0);
    const char *codes[] = {"ATW", "ICES", "SC"};
    const char *ids[] = {"atw2", "ices1", "sc1"};
    CU_ASSERT_EQUAL_FATAL(r->n_streams, 3);
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_STRING_EQUAL(r->streams[i].stream->code, codes[i]);
        CU_ASSERT_PTR_EQUAL(r->streams[i].stream, jr_streams_find(streams, codes[i]));
        CU_ASSERT_STRING_EQUAL(r->streams[i].enrolment->source_event_id, ids[i]);
    }
    CU_ASSERT_EQUAL(r->streams[1].covered, B(INCOME));
    CU_ASSERT_EQUAL(r->streams[1].missing,
                    B(INFORMATION) | B(EQUIPMENT) | B(HEALTH) | B(SAFETY) | B(GOODS_SERVICES));
    jr_merge_destroy(&r);
}

static void test_ready_for_sign_off(void)
{
    jr_event_t cycle[] = {
        said("ICES", "1", T0, JR_TOPIC_INCOME, JR_ROLE_PERSON, JR_PRIORITY_NOT_GIVEN),
        said("SC", "2", T0, JR_TOPIC_INFORMATION, JR_ROLE_COUNCIL, JR_PRIORITY_NOT_GIVEN),
        said("ICES", "3", T0, JR_TOPIC_EQUIPMENT, JR_ROLE_PROVIDER, JR_PRIORITY_AMBER),
        said("ICES", "4", T0, JR_TOPIC_HEALTH, JR_ROLE_PERSON, JR_PRIORITY_GREEN),
        said("SP", "5", T0, JR_TOPIC_SAFETY, JR_ROLE_CARER, JR_PRIORITY_NOT_GIVEN),
        said("ICES", "6", T0, JR_TOPIC_GOODS_SERVICES, JR_ROLE_PERSON, JR_PRIORITY_NOT_GIVEN),
        /* Explicit "no change" covers a topic. */
        no_change("DFG", "7", T0, JR_TOPIC_HOUSING),
        no_change("DFG", "8", T0, JR_TOPIC_TRANSPORT),
    };
    jr_event_t enrolments[] = {
        enrolled("ICES", "e-ices", T0 - DAY_MS, JR_DAY_NONE),
        enrolled("DFG", "e-dfg", T0 - DAY_MS, JR_DAY_NONE),
    };

    /* Nobody enrolled: never ready, however much is covered. */
    jr_review_t *r = merge(cycle, N(cycle), NULL, 0);
    CU_ASSERT_FALSE(r->ready_for_sign_off);
    jr_merge_destroy(&r);

    /* ICES alone, first six statements: complete. */
    r = merge(cycle, 6, enrolments, 1);
    CU_ASSERT_EQUAL_FATAL(r->n_streams, 1);
    CU_ASSERT_EQUAL(r->streams[0].missing, 0);
    CU_ASSERT_TRUE(r->ready_for_sign_off);
    jr_merge_destroy(&r);

    /* With DFG too: HOUSING and TRANSPORT missing. */
    r = merge(cycle, 6, enrolments, 2);
    CU_ASSERT_EQUAL_FATAL(r->n_streams, 2);
    CU_ASSERT_STRING_EQUAL(r->streams[0].stream->code, "DFG");
    CU_ASSERT_EQUAL(r->streams[0].missing, B(HOUSING) | B(TRANSPORT));
    CU_ASSERT_EQUAL(r->streams[1].missing, 0);
    CU_ASSERT_FALSE(r->ready_for_sign_off);
    jr_merge_destroy(&r);

    /* "No change" on both fills the gap. */
    r = merge(cycle, N(cycle), enrolments, 2);
    CU_ASSERT_EQUAL(r->streams[0].missing, 0);
    CU_ASSERT_EQUAL(r->streams[0].covered, B(INCOME) | B(INFORMATION) | B(HOUSING) | B(EQUIPMENT) |
                                               B(TRANSPORT) | B(HEALTH) | B(SAFETY));
    CU_ASSERT_TRUE(r->ready_for_sign_off);
    CU_ASSERT_EQUAL(area(r, 8)->n_statements, 3);
    CU_ASSERT_EQUAL(area(r, 8)->priority, JR_PRIORITY_AMBER);
    jr_merge_destroy(&r);
}

static void test_unknown_and_disabled_streams_ignored(void)
{
    jr_event_t cycle[] = {
        said("SC", "1", T0, JR_TOPIC_INCOME, JR_ROLE_PERSON, JR_PRIORITY_NOT_GIVEN)};
    jr_event_t enrolments[] = {
        enrolled("XYZ", "x", T0, JR_DAY_NONE),
        enrolled("CPA", "c", T0, JR_DAY_NONE),
    };
    jr_review_t *r = merge(cycle, N(cycle), enrolments, N(enrolments));
    CU_ASSERT_EQUAL(r->n_streams, 0);
    CU_ASSERT_FALSE(r->ready_for_sign_off);
    jr_merge_destroy(&r);

    /* Enabling CPA by configuration is all it takes. */
    jr_stream_t cpa = *jr_streams_find(streams, "CPA");
    cpa.enabled = true;
    CU_ASSERT_EQUAL_FATAL(jr_streams_put(streams, &cpa), 0);
    r = merge(cycle, N(cycle), enrolments, N(enrolments));
    CU_ASSERT_EQUAL_FATAL(r->n_streams, 1);
    CU_ASSERT_STRING_EQUAL(r->streams[0].stream->code, "CPA");
    CU_ASSERT_EQUAL(r->streams[0].missing, 0x3fffeu & ~B(INCOME));
    jr_merge_destroy(&r);
    cpa.enabled = false;
    CU_ASSERT_EQUAL(jr_streams_put(streams, &cpa), 0);
}

static void test_plan_revision_and_review_held(void)
{
    jr_event_t cycle[] = {
        plan("SC", "plan-new", T0, DAY0 + 30),
        plan("SC", "plan-old", T0 - DAY_MS, DAY0 + 10),
        said("SC", "c", T0 - 2 * DAY_MS, JR_TOPIC_INCOME, JR_ROLE_COUNCIL, JR_PRIORITY_NOT_GIVEN),
    };
    jr_review_t *r = merge(cycle, N(cycle), NULL, 0);
    CU_ASSERT_PTR_EQUAL(r->plan_revision, &cycle[0]);
    CU_ASSERT_EQUAL(r->plan_revision->u.plan_revision.revise_by, DAY0 + 30);
    CU_ASSERT_PTR_NULL(r->review_held);
    CU_ASSERT_EQUAL(area(r, 3)->n_statements, 1);
    jr_merge_destroy(&r);

    jr_event_t closed[] = {
        held("SC", "held-old", T0 - DAY_MS, DAY0 - 1),
        held("SC", "held-new", T0, DAY0),
    };
    r = merge(closed, N(closed), NULL, 0);
    CU_ASSERT_PTR_EQUAL(r->review_held, &closed[1]);
    CU_ASSERT_PTR_NULL(r->plan_revision);
    jr_merge_destroy(&r);
}

static void test_as_of(void)
{
    jr_event_t cycle[] = {
        said("SC", "c", T0, JR_TOPIC_INCOME, JR_ROLE_COUNCIL, JR_PRIORITY_NOT_GIVEN)};
    jr_event_t enrolments[] = {enrolled("SC", "e", T0 + 3 * DAY_MS, JR_DAY_NONE)};
    jr_review_t *r = merge(cycle, N(cycle), NULL, 0);
    CU_ASSERT_EQUAL(r->as_of, DAY0);
    jr_merge_destroy(&r);
    r = merge(cycle, N(cycle), enrolments, 1);
    CU_ASSERT_EQUAL(r->as_of, DAY0 + 3);
    jr_merge_destroy(&r);
    r = merge(NULL, 0, enrolments, 1);
    CU_ASSERT_EQUAL(r->as_of, DAY0 + 3);
    jr_merge_destroy(&r);
}

static void test_event_compare(void)
{
    jr_event_t a = said("SC", "b", T0, JR_TOPIC_INCOME, JR_ROLE_COUNCIL, JR_PRIORITY_NOT_GIVEN);
    jr_event_t b = a;
    CU_ASSERT_EQUAL(jr_event_compare(&a, &b), 0);
    b.occurred_at_ms = T0 + 1;
    CU_ASSERT_EQUAL(jr_event_compare(&a, &b), -1);
    CU_ASSERT_EQUAL(jr_event_compare(&b, &a), 1);
    b = a;
    b.stream = "ATW"; /* same instant: stream code decides */
    CU_ASSERT_EQUAL(jr_event_compare(&a, &b), 1);
    b = a;
    b.source_event_id = "c";
    CU_ASSERT_EQUAL(jr_event_compare(&a, &b), -1);
    b.source_event_id = "a";
    CU_ASSERT_EQUAL(jr_event_compare(&a, &b), 1);
    b.occurred_at_ms = INT64_MIN;
    CU_ASSERT_EQUAL(jr_event_compare(&a, &b), 1);
}

/* The whole review as text, so two reviews compare byte for byte. */
static void render(const jr_review_t *r, char *buf, size_t size)
{
    size_t n = 0;
#define OUT(...) n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__)
    OUT("as_of=%d covered=%x ready=%d plan=%s held=%s\n", (int)r->as_of, (unsigned)r->covered,
        r->ready_for_sign_off, r->plan_revision ? r->plan_revision->source_event_id : "-",
        r->review_held ? r->review_held->source_event_id : "-");
    for (int i = 0; i < JR_AREA_COUNT; i++) {
        const jr_area_t *a = &r->areas[i];
        OUT("area %d p=%d person=%d conflict=%d:", a->number, a->priority, a->priority_from_person,
            a->conflict);
        for (size_t k = 0; k < a->n_statements; k++)
            OUT(" %s/%s", a->statements[k].event->stream, a->statements[k].event->source_event_id);
        OUT(" views:");
        for (size_t k = 0; k < a->n_views; k++)
            OUT(" %s/%d/%d/%d", a->views[k].stream, a->views[k].role, a->views[k].topic,
                a->views[k].priority);
        OUT("\n");
    }
    for (size_t i = 0; i < r->n_streams; i++)
        OUT("stream %s %s %x %x\n", r->streams[i].stream->code,
            r->streams[i].enrolment->source_event_id, (unsigned)r->streams[i].covered,
            (unsigned)r->streams[i].missing);
#undef OUT
    CU_ASSERT_FATAL(n < size);
}

static void swap(jr_event_t *a, jr_event_t *b)
{
    jr_event_t t = *a;
    *a = *b;
    *b = t;
}

static unsigned permutations_differing;
static unsigned permutations_seen;

static void check_permutation(const jr_event_t *cycle, size_t n_cycle, const jr_event_t *enrolments,
                              size_t n_enrolments, const char *want)
{
    char got[4096];
    jr_review_t *r = merge(cycle, n_cycle, enrolments, n_enrolments);
    render(r, got, sizeof got);
    jr_merge_destroy(&r);
    if (strcmp(got, want) != 0)
        permutations_differing++;
}

/* Heap's algorithm: every order of cycle[0..k). */
static void permute(jr_event_t *cycle, size_t k, size_t n_cycle, jr_event_t *enrolments,
                    size_t n_enrolments, const char *want)
{
    if (k == 1) {
        check_permutation(cycle, n_cycle, enrolments, n_enrolments, want);
        permutations_seen++;
        /* Vary the enrolments' order along the way too. */
        swap(&enrolments[0], &enrolments[1 + permutations_seen % (n_enrolments - 1)]);
        return;
    }
    for (size_t i = 0; i < k - 1; i++) {
        permute(cycle, k - 1, n_cycle, enrolments, n_enrolments, want);
        swap(&cycle[k % 2 == 0 ? i : 0], &cycle[k - 1]);
    }
    permute(cycle, k - 1, n_cycle, enrolments, n_enrolments, want);
}

static void test_input_order_does_not_matter(void)
{
    jr_event_t cycle[] = {
        said("SC", "s1", T0, JR_TOPIC_SUPPORT, JR_ROLE_PERSON, JR_PRIORITY_GREEN),
        said("SC", "s2", T0 - 10, JR_TOPIC_SUPPORT, JR_ROLE_PERSON, JR_PRIORITY_RED),
        said("ILF", "s3", T0, JR_TOPIC_ADVOCACY, JR_ROLE_ADVOCATE, JR_PRIORITY_RED),
        said("SC", "t1", T0 + 5, JR_TOPIC_HEALTH, JR_ROLE_COUNCIL, JR_PRIORITY_AMBER),
        said("SC", "t0", T0 + 5, JR_TOPIC_HEALTH, JR_ROLE_COUNCIL, JR_PRIORITY_GREEN),
        no_change("ICES", "n1", T0 - 99, JR_TOPIC_EQUIPMENT),
        plan("SC", "p1", T0 - 3, DAY0 + 20),
        plan("ICES", "p2", T0 - 3, DAY0 + 40),
    };
    jr_event_t enrolments[] = {
        enrolled("SC", "e1", T0 - DAY_MS, JR_DAY_NONE),
        enrolled("ICES", "e2", T0 - 2 * DAY_MS, JR_DAY_NONE),
        enrolled("ICES", "e3", T0 - 3 * DAY_MS, DAY0 - 10),
        enrolled("XYZ", "e4", T0 - 3 * DAY_MS, JR_DAY_NONE),
    };
    char want[4096];
    jr_review_t *r = merge(cycle, N(cycle), enrolments, N(enrolments));
    render(r, want, sizeof want);
    /* Pin the baseline itself, so "all the same" also means "all right". */
    CU_ASSERT_EQUAL(area(r, 1)->priority, JR_PRIORITY_GREEN);
    CU_ASSERT_TRUE(area(r, 1)->conflict);
    CU_ASSERT_EQUAL(area(r, 4)->priority, JR_PRIORITY_AMBER);
    CU_ASSERT_STRING_EQUAL(area(r, 4)->statements[0].event->source_event_id, "t1");
    CU_ASSERT_STRING_EQUAL(r->plan_revision->source_event_id, "p1");
    CU_ASSERT_EQUAL(r->n_streams, 2);
    jr_merge_destroy(&r);
    CU_ASSERT_STRING_EQUAL(
        want, "as_of=20240 covered=10086 ready=0 plan=p1 held=-\n"
              "area 1 p=1 person=1 conflict=1: SC/s1 ILF/s3 views: SC/1/1/1 ILF/6/2/3\n"
              "area 2 p=0 person=0 conflict=0: views:\n"
              "area 3 p=0 person=0 conflict=0: views:\n"
              "area 4 p=2 person=0 conflict=0: SC/t1 views:\n"
              "area 5 p=0 person=0 conflict=0: views:\n"
              "area 6 p=0 person=0 conflict=0: views:\n"
              "area 7 p=0 person=0 conflict=0: views:\n"
              "area 8 p=0 person=0 conflict=0: ICES/n1 views:\n"
              "area 9 p=0 person=0 conflict=0: views:\n"
              "stream ICES e2 10080 2340\n"
              "stream SC e1 10086 2ff78\n");

    permutations_differing = 0;
    permutations_seen = 0;
    permute(cycle, N(cycle), N(cycle), enrolments, N(enrolments), want);
    CU_ASSERT_EQUAL(permutations_seen, 40320); /* 8! */
    CU_ASSERT_EQUAL(permutations_differing, 0);
}

static CU_TestInfo priority_tests[] = {
    {"the person's priority wins over a red", test_person_priority_wins},
    {"without the person the highest wins", test_highest_without_person},
    {"red vs green conflict names both authors", test_red_green_conflict_names_authors},
    {"person green vs council amber is a conflict", test_person_green_vs_council_amber},
    {"agreement or one step apart is no conflict", test_agreement_is_not_conflict},
    {"the person's newest priority in the area", test_person_newest_priority_in_area},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo statement_tests[] = {
    {"newest by occurred_at, not arrival", test_newest_by_occurred_at_not_arrival},
    {"same instant: source id decides", test_same_instant_broken_by_source_id},
    {"order: topic, stream, role", test_statement_order},
    {"anything else, invalid topic or role", test_other_and_area_numbers},
    {"no events", test_empty},
    {"event order", test_event_compare},
    {"input order does not matter", test_input_order_does_not_matter},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo stream_tests[] = {
    {"enrolment in force on as_of", test_enrolment_in_force},
    {"ready for sign-off; no change covers", test_ready_for_sign_off},
    {"unknown and disabled streams ignored", test_unknown_and_disabled_streams_ignored},
    {"newest plan revision and review held", test_plan_revision_and_review_held},
    {"as_of", test_as_of},
    CU_TEST_INFO_NULL,
};

int main(void)
{
    CU_SuiteInfo suites[] = {
        {.pName = "priorities",
         .pInitFunc = setup,
         .pCleanupFunc = teardown,
         .pTests = priority_tests},
        {.pName = "statements",
         .pInitFunc = setup,
         .pCleanupFunc = teardown,
         .pTests = statement_tests},
        {.pName = "streams", .pInitFunc = setup, .pCleanupFunc = teardown, .pTests = stream_tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
