/* test_format_streams.c -- the review format table and the funding streams
 * table. */
#include "format.h"
#include "streams.h"

#include <stdio.h>
#include <string.h>

#include "jr_cunit.h"

#define B(t) JR_TOPIC_BIT(JR_TOPIC_##t)

static void test_valid_ranges(void)
{
    CU_ASSERT_FALSE(jr_format_topic_valid(0));
    CU_ASSERT_TRUE(jr_format_topic_valid(1));
    CU_ASSERT_TRUE(jr_format_topic_valid(18));
    CU_ASSERT_FALSE(jr_format_topic_valid(19));
    CU_ASSERT_FALSE(jr_format_topic_valid(-1));
    CU_ASSERT_FALSE(jr_format_role_valid(0));
    CU_ASSERT_TRUE(jr_format_role_valid(1));
    CU_ASSERT_TRUE(jr_format_role_valid(6));
    CU_ASSERT_FALSE(jr_format_role_valid(7));
    CU_ASSERT_TRUE(jr_format_priority_valid(0));
    CU_ASSERT_TRUE(jr_format_priority_valid(3));
    CU_ASSERT_FALSE(jr_format_priority_valid(4));
    CU_ASSERT_FALSE(jr_format_priority_valid(-1));
}

static void test_topic_table(void)
{
    static const struct {
        jr_topic_t topic;
        const char *code;
        const char *title;
        int area;
    } want[] = {
        {JR_TOPIC_SUPPORT, "SUPPORT", "Support/assistance", 1},
        {JR_TOPIC_ADVOCACY, "ADVOCACY", "Advocacy", 1},
        {JR_TOPIC_PEER_SUPPORT, "PEER_SUPPORT", "Peer support", 1},
        {JR_TOPIC_FAMILY, "FAMILY", "Family and relationships", 2},
        {JR_TOPIC_CHOICES_RISKS, "CHOICES_RISKS", "Having choices & taking risks", 2},
        {JR_TOPIC_INCOME, "INCOME", "Income and benefits", 3},
        {JR_TOPIC_HEALTH, "HEALTH", "Keeping healthy", 4},
        {JR_TOPIC_SAFETY, "SAFETY", "Feeling safe", 4},
        {JR_TOPIC_INFORMATION, "INFORMATION", "Information", 5},
        {JR_TOPIC_EDUCATION, "EDUCATION", "Education and training", 5},
        {JR_TOPIC_EMPLOYMENT, "EMPLOYMENT", "Employment", 5},
        {JR_TOPIC_CITIZENSHIP, "CITIZENSHIP", "Active citizenship", 6},
        {JR_TOPIC_GOODS_SERVICES, "GOODS_SERVICES", "Access to goods and services", 7},
        {JR_TOPIC_LEISURE, "LEISURE", "Leisure", 7},
        {JR_TOPIC_HOUSING, "HOUSING", "Housing", 8},
        {JR_TOPIC_EQUIPMENT, "EQUIPMENT", "Equipment", 8},
        {JR_TOPIC_TRANSPORT, "TRANSPORT", "Transport", 8},
        {JR_TOPIC_OTHER, "OTHER", "Anything else", 9},
    };
    CU_ASSERT_EQUAL(sizeof want / sizeof want[0], 18);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CU_ASSERT_EQUAL(jr_format_topic_area(want[i].topic), want[i].area);
        CU_ASSERT_STRING_EQUAL(jr_format_topic_code(want[i].topic), want[i].code);
        CU_ASSERT_STRING_EQUAL(jr_format_topic_title(want[i].topic), want[i].title);
        CU_ASSERT_EQUAL(jr_format_topic_from_code(want[i].code), want[i].topic);
    }
    CU_ASSERT_EQUAL(jr_format_topic_area(JR_TOPIC_NONE), 0);
    CU_ASSERT_EQUAL(jr_format_topic_area((jr_topic_t)19), 0);
    CU_ASSERT_PTR_NULL(jr_format_topic_code(JR_TOPIC_NONE));
    CU_ASSERT_PTR_NULL(jr_format_topic_title((jr_topic_t)19));
    /* The 17 topics of areas 1-8 are bits 1..17. */
    jr_topic_set_t all = 0;
    for (int t = JR_TOPIC_SUPPORT; t <= JR_TOPIC_TRANSPORT; t++)
        all |= JR_TOPIC_BIT(t);
    CU_ASSERT_EQUAL(all, JR_TOPICS_AREAS_1_TO_8);
}

static void test_topic_from_code(void)
{
    CU_ASSERT_EQUAL(jr_format_topic_from_code("goods_services"), JR_TOPIC_GOODS_SERVICES);
    CU_ASSERT_EQUAL(jr_format_topic_from_code("Family_And_Friends"), JR_TOPIC_FAMILY);
    CU_ASSERT_EQUAL(jr_format_topic_from_code("STAYING_SAFE"), JR_TOPIC_SAFETY);
    CU_ASSERT_EQUAL(jr_format_topic_from_code("FAMILYX"), JR_TOPIC_NONE);
    CU_ASSERT_EQUAL(jr_format_topic_from_code("FAMIL"), JR_TOPIC_NONE);
    CU_ASSERT_EQUAL(jr_format_topic_from_code("ALL"), JR_TOPIC_NONE);
    CU_ASSERT_EQUAL(jr_format_topic_from_code(""), JR_TOPIC_NONE);
    CU_ASSERT_EQUAL(jr_format_topic_from_code(NULL), JR_TOPIC_NONE);
}

static void test_topics_parse(void)
{
    jr_topic_set_t set = 0;
    const char *bad = NULL;
    CU_ASSERT_EQUAL(jr_format_topics_parse("INCOME, INFORMATION", &set, &bad), 0);
    CU_ASSERT_EQUAL(set, B(INCOME) | B(INFORMATION));
    CU_ASSERT_EQUAL(jr_format_topics_parse("housing,equipment transport", &set, &bad), 0);
    CU_ASSERT_EQUAL(set, B(HOUSING) | B(EQUIPMENT) | B(TRANSPORT));
    CU_ASSERT_EQUAL(jr_format_topics_parse("ALL", &set, &bad), 0);
    CU_ASSERT_EQUAL(set, 0x3fffeu);
    CU_ASSERT_EQUAL(jr_format_topics_parse("all OTHER", &set, &bad), 0);
    CU_ASSERT_EQUAL(set, 0x7fffeu);
    CU_ASSERT_EQUAL(jr_format_topics_parse("staying_safe family_and_friends", &set, &bad), 0);
    CU_ASSERT_EQUAL(set, B(SAFETY) | B(FAMILY));
    CU_ASSERT_EQUAL(jr_format_topics_parse(" ,, ", &set, &bad), 0);
    CU_ASSERT_EQUAL(set, 0);
    CU_ASSERT_EQUAL(jr_format_topics_parse("", &set, &bad), 0);
    CU_ASSERT_EQUAL(set, 0);

    const char *list = "INCOME,BOGUS HEALTH";
    set = 77;
    CU_ASSERT_EQUAL(jr_format_topics_parse(list, &set, &bad), -1);
    CU_ASSERT_PTR_EQUAL(bad, list + 7);
    CU_ASSERT_EQUAL(set, 77); /* untouched on failure */
}

static void test_area_titles(void)
{
    CU_ASSERT_STRING_EQUAL(jr_format_area_title(1), "Support/assistance / Advocacy / Peer support");
    CU_ASSERT_STRING_EQUAL(jr_format_area_title(2),
                           "Family and relationships / Having choices & taking risks");
    CU_ASSERT_STRING_EQUAL(jr_format_area_title(3), "Income and benefits");
    CU_ASSERT_STRING_EQUAL(jr_format_area_title(8), "Housing / Equipment / Transport");
    CU_ASSERT_STRING_EQUAL(jr_format_area_title(9), "Anything else");
    CU_ASSERT_PTR_NULL(jr_format_area_title(0));
    CU_ASSERT_PTR_NULL(jr_format_area_title(10));
}

static void test_roles_and_priorities(void)
{
    CU_ASSERT_STRING_EQUAL(jr_format_role_code(JR_ROLE_PERSON), "PERSON");
    CU_ASSERT_STRING_EQUAL(jr_format_role_code(JR_ROLE_STREAM_OFFICER), "STREAM_OFFICER");
    CU_ASSERT_STRING_EQUAL(jr_format_role_code(JR_ROLE_ADVOCATE), "ADVOCATE");
    CU_ASSERT_PTR_NULL(jr_format_role_code(JR_ROLE_NONE));
    CU_ASSERT_EQUAL(jr_format_role_from_code("carer"), JR_ROLE_CARER);
    CU_ASSERT_EQUAL(jr_format_role_from_code("COUNCIL"), JR_ROLE_COUNCIL);
    CU_ASSERT_EQUAL(jr_format_role_from_code("PROVIDER"), JR_ROLE_PROVIDER);
    CU_ASSERT_EQUAL(jr_format_role_from_code("BOSS"), JR_ROLE_NONE);
    CU_ASSERT_EQUAL(jr_format_role_from_code(NULL), JR_ROLE_NONE);

    CU_ASSERT_STRING_EQUAL(jr_format_priority_code(JR_PRIORITY_NOT_GIVEN), "NOT_GIVEN");
    CU_ASSERT_STRING_EQUAL(jr_format_priority_code(JR_PRIORITY_GREEN), "GREEN");
    CU_ASSERT_STRING_EQUAL(jr_format_priority_code(JR_PRIORITY_AMBER), "AMBER");
    CU_ASSERT_STRING_EQUAL(jr_format_priority_code(JR_PRIORITY_RED), "RED");
    CU_ASSERT_PTR_NULL(jr_format_priority_code((jr_priority_t)4));
    bool ok = false;
    CU_ASSERT_EQUAL(jr_format_priority_from_code("red", &ok), JR_PRIORITY_RED);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(jr_format_priority_from_code("NOT_GIVEN", &ok), JR_PRIORITY_NOT_GIVEN);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(jr_format_priority_from_code("purple", &ok), JR_PRIORITY_NOT_GIVEN);
    CU_ASSERT_FALSE(ok);
}

static void test_default_streams(void)
{
    static const struct {
        const char *code;
        const char *name;
        bool enabled;
        jr_topic_set_t required;
        unsigned interval, first, before_end, award, lead;
    } want[] = {
        {"ATW", "Access to Work", true,
         B(INCOME) | B(INFORMATION) | B(EDUCATION) | B(EMPLOYMENT) | B(EQUIPMENT) | B(TRANSPORT) |
             B(SUPPORT),
         0, 0, 84, 1095, 6},
        {"CPA", "Care Programme Approach", false, JR_TOPICS_AREAS_1_TO_8, 365, 0, 0, 0, 7},
        {"DFG", "Disabled Facilities Grants", true,
         B(INCOME) | B(INFORMATION) | B(HOUSING) | B(EQUIPMENT) | B(TRANSPORT) | B(HEALTH) |
             B(SAFETY),
         0, 0, 0, 0, 5},
        {"ICES", "Integrated Community Equipment Services", true,
         B(INCOME) | B(INFORMATION) | B(EQUIPMENT) | B(HEALTH) | B(SAFETY) | B(GOODS_SERVICES), 365,
         0, 0, 0, 4},
        {"ILF", "Independent Living Fund", true,
         B(INCOME) | B(INFORMATION) | B(SUPPORT) | B(FAMILY) | B(HEALTH) | B(SAFETY) | B(LEISURE) |
             B(HOUSING),
         730, 0, 0, 0, 3},
        {"SC", "Social Care", true, JR_TOPICS_AREAS_1_TO_8, 365, 56, 0, 0, 1},
        {"SP", "Supporting People", true,
         B(INCOME) | B(INFORMATION) | B(CITIZENSHIP) | B(SUPPORT) | B(ADVOCACY) | B(PEER_SUPPORT) |
             B(FAMILY) | B(HEALTH) | B(SAFETY) | B(EDUCATION) | B(EMPLOYMENT) | B(HOUSING),
         365, 0, 0, 0, 2},
    };
    jr_streams_t *streams = jr_streams_new_default();
    CU_ASSERT_PTR_NOT_NULL_FATAL(streams);
    CU_ASSERT_EQUAL_FATAL(jr_streams_count(streams), 7);
    for (size_t i = 0; i < 7; i++) {
        const jr_stream_t *row = jr_streams_at(streams, i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(row);
        CU_ASSERT_STRING_EQUAL(row->code, want[i].code);
        CU_ASSERT_STRING_EQUAL(row->name, want[i].name);
        CU_ASSERT_EQUAL(row->enabled, want[i].enabled);
        CU_ASSERT_EQUAL(row->required, want[i].required);
        CU_ASSERT_EQUAL(row->interval_days, want[i].interval);
        CU_ASSERT_EQUAL(row->first_review_days, want[i].first);
        CU_ASSERT_EQUAL(row->before_award_end_days, want[i].before_end);
        CU_ASSERT_EQUAL(row->default_award_days, want[i].award);
        CU_ASSERT_EQUAL(row->lead_rank, want[i].lead);
        CU_ASSERT_PTR_EQUAL(jr_streams_find(streams, want[i].code), row);
    }
    CU_ASSERT_PTR_NULL(jr_streams_at(streams, 7));
    CU_ASSERT_PTR_NULL(jr_streams_find(streams, "XYZ"));
    CU_ASSERT_PTR_NULL(jr_streams_find(streams, "sc")); /* codes are exact */
    jr_streams_destroy(&streams);
    CU_ASSERT_PTR_NULL(streams);
    jr_streams_destroy(&streams); /* NULL is fine */
}

static void test_streams_put(void)
{
    jr_streams_t *streams = jr_streams_new_default();
    CU_ASSERT_PTR_NOT_NULL_FATAL(streams);

    /* A new stream is a row: the common minimum is added, "anything else"
     * is never required, and it sorts into code order. */
    jr_stream_t mh = {.code = "MH_2",
                      .name = "Mental health",
                      .enabled = true,
                      .required = B(HEALTH) | B(OTHER),
                      .interval_days = 180,
                      .lead_rank = 8};
    CU_ASSERT_EQUAL(jr_streams_put(streams, &mh), 0);
    CU_ASSERT_EQUAL(jr_streams_count(streams), 8);
    const jr_stream_t *row = jr_streams_find(streams, "MH_2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(row);
    CU_ASSERT_EQUAL(row->required, B(HEALTH) | B(INCOME) | B(INFORMATION));
    CU_ASSERT_EQUAL(row->interval_days, 180);
    CU_ASSERT_STRING_EQUAL(jr_streams_at(streams, 4)->code, "ILF");
    CU_ASSERT_STRING_EQUAL(jr_streams_at(streams, 5)->code, "MH_2");
    CU_ASSERT_STRING_EQUAL(jr_streams_at(streams, 6)->code, "SC");

    /* Same code replaces. */
    jr_stream_t sp = *jr_streams_find(streams, "SP");
    sp.interval_days = 180;
    sp.required = 0;
    CU_ASSERT_EQUAL(jr_streams_put(streams, &sp), 0);
    CU_ASSERT_EQUAL(jr_streams_count(streams), 8);
    CU_ASSERT_EQUAL(jr_streams_find(streams, "SP")->interval_days, 180);
    CU_ASSERT_EQUAL(jr_streams_find(streams, "SP")->required, B(INCOME) | B(INFORMATION));

    /* Malformed codes. */
    const char *bad[] = {"", "mh", "A-B", "A B", "SC\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jr_stream_t r = {.enabled = true};
        memcpy(r.code, bad[i], strlen(bad[i]) + 1);
        CU_ASSERT_EQUAL(jr_streams_put(streams, &r), -1);
    }
    /* 16 characters leave no room for the NUL. */
    jr_stream_t unterminated = {.enabled = true};
    memset(unterminated.code, 'A', sizeof unterminated.code);
    CU_ASSERT_EQUAL(jr_streams_put(streams, &unterminated), -1);
    CU_ASSERT_EQUAL(jr_streams_count(streams), 8);

    /* The table holds JR_STREAMS_MAX rows. */
    for (size_t i = jr_streams_count(streams); i < JR_STREAMS_MAX; i++) {
        jr_stream_t r = {.enabled = true};
        snprintf(r.code, sizeof r.code, "X%zu", i);
        CU_ASSERT_EQUAL(jr_streams_put(streams, &r), 0);
    }
    CU_ASSERT_EQUAL(jr_streams_count(streams), JR_STREAMS_MAX);
    jr_stream_t extra = {.code = "ZZ", .enabled = true};
    CU_ASSERT_EQUAL(jr_streams_put(streams, &extra), -1);
    sp.interval_days = 90; /* replacing still works when full */
    CU_ASSERT_EQUAL(jr_streams_put(streams, &sp), 0);
    CU_ASSERT_EQUAL(jr_streams_find(streams, "SP")->interval_days, 90);
    for (size_t i = 1; i < jr_streams_count(streams); i++)
        CU_ASSERT_TRUE(
            strcmp(jr_streams_at(streams, i - 1)->code, jr_streams_at(streams, i)->code) < 0);
    jr_streams_destroy(&streams);
}

static void test_streams_dup(void)
{
    jr_streams_t *streams = jr_streams_new_default();
    jr_streams_t *copy = jr_streams_dup(streams);
    CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
    jr_stream_t cpa = *jr_streams_find(copy, "CPA");
    cpa.enabled = true;
    CU_ASSERT_EQUAL(jr_streams_put(copy, &cpa), 0);
    CU_ASSERT_TRUE(jr_streams_find(copy, "CPA")->enabled);
    CU_ASSERT_FALSE(jr_streams_find(streams, "CPA")->enabled);
    jr_streams_destroy(&copy);
    jr_streams_destroy(&streams);
}

static CU_TestInfo format_tests[] = {
    {"valid ranges", test_valid_ranges},
    {"topic table", test_topic_table},
    {"topic from code", test_topic_from_code},
    {"topic lists", test_topics_parse},
    {"area titles", test_area_titles},
    {"roles and priorities", test_roles_and_priorities},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo streams_tests[] = {
    {"default table", test_default_streams},
    {"put adds and replaces", test_streams_put},
    {"dup is independent", test_streams_dup},
    CU_TEST_INFO_NULL,
};

int main(void)
{
    CU_SuiteInfo suites[] = {
        {.pName = "format", .pTests = format_tests},
        {.pName = "streams", .pTests = streams_tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
