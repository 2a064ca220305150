/* test_completeness.c -- each stream's minimum information, from the default
 * table. */
#include "completeness.h"

#include "jr_cunit.h"
#include "streams.h"

#define B(t) JR_TOPIC_BIT(JR_TOPIC_##t)

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

static const jr_stream_t *row(const char *code)
{
    const jr_stream_t *r = jr_streams_find(streams, code);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    return r;
}

/* An equipment-focused review: everything ICES needs and nothing more. */
#define EQUIPMENT_REVIEW                                                                           \
    (B(INCOME) | B(INFORMATION) | B(EQUIPMENT) | B(HEALTH) | B(SAFETY) | B(GOODS_SERVICES))

static void test_ices_complete(void)
{
    CU_ASSERT_TRUE(jr_completeness_complete(row("ICES"), EQUIPMENT_REVIEW));
    CU_ASSERT_EQUAL(jr_completeness_missing(row("ICES"), EQUIPMENT_REVIEW), 0);
    CU_ASSERT_EQUAL(jr_completeness_covered(row("ICES"), EQUIPMENT_REVIEW), EQUIPMENT_REVIEW);
}

static void test_dfg_misses_housing_and_transport(void)
{
    CU_ASSERT_FALSE(jr_completeness_complete(row("DFG"), EQUIPMENT_REVIEW));
    CU_ASSERT_EQUAL(jr_completeness_missing(row("DFG"), EQUIPMENT_REVIEW),
                    B(HOUSING) | B(TRANSPORT));
    CU_ASSERT_EQUAL(jr_completeness_covered(row("DFG"), EQUIPMENT_REVIEW),
                    B(INCOME) | B(INFORMATION) | B(EQUIPMENT) | B(HEALTH) | B(SAFETY));
}

static void test_literal_minimums(void)
{
    /* Nothing covered: missing is exactly the stream's minimum. */
    CU_ASSERT_EQUAL(jr_completeness_missing(row("ATW"), 0),
                    B(INCOME) | B(INFORMATION) | B(EDUCATION) | B(EMPLOYMENT) | B(EQUIPMENT) |
                        B(TRANSPORT) | B(SUPPORT));
    CU_ASSERT_EQUAL(jr_completeness_missing(row("ILF"), 0),
                    B(INCOME) | B(INFORMATION) | B(SUPPORT) | B(FAMILY) | B(HEALTH) | B(SAFETY) |
                        B(LEISURE) | B(HOUSING));
    CU_ASSERT_EQUAL(jr_completeness_missing(row("SP"), 0),
                    B(INCOME) | B(INFORMATION) | B(CITIZENSHIP) | B(SUPPORT) | B(ADVOCACY) |
                        B(PEER_SUPPORT) | B(FAMILY) | B(HEALTH) | B(SAFETY) | B(EDUCATION) |
                        B(EMPLOYMENT) | B(HOUSING));
    CU_ASSERT_EQUAL(jr_completeness_missing(row("ICES"), 0), EQUIPMENT_REVIEW);
    CU_ASSERT_EQUAL(jr_completeness_missing(row("DFG"), 0),
                    B(INCOME) | B(INFORMATION) | B(HOUSING) | B(EQUIPMENT) | B(TRANSPORT) |
                        B(HEALTH) | B(SAFETY));
    CU_ASSERT_EQUAL(jr_completeness_missing(row("SC"), 0), 0x3fffeu);
    CU_ASSERT_EQUAL(jr_completeness_covered(row("SC"), 0), 0);
}

static void test_sc_requires_all_17(void)
{
    const jr_stream_t *sc = row("SC");
    CU_ASSERT_TRUE(jr_completeness_complete(sc, JR_TOPICS_AREAS_1_TO_8));
    int required = 0;
    for (int t = JR_TOPIC_FIRST; t <= JR_TOPIC_LAST; t++) {
        if (jr_completeness_missing(sc, JR_TOPICS_AREAS_1_TO_8 & ~JR_TOPIC_BIT(t)) != 0)
            required++;
        /* Leaving one topic out misses exactly that topic. */
        if (t != JR_TOPIC_OTHER)
            CU_ASSERT_EQUAL(jr_completeness_missing(sc, JR_TOPICS_AREAS_1_TO_8 & ~JR_TOPIC_BIT(t)),
                            JR_TOPIC_BIT(t));
    }
    CU_ASSERT_EQUAL(required, 17);
}

static void test_common_minimum_always(void)
{
    /* Rows built by hand rather than through put still need INCOME and
     * INFORMATION. */
    jr_stream_t bare = {.code = "NEW", .enabled = true, .required = 0};
    CU_ASSERT_EQUAL(jr_completeness_missing(&bare, 0), B(INCOME) | B(INFORMATION));
    CU_ASSERT_TRUE(jr_completeness_complete(&bare, B(INCOME) | B(INFORMATION)));
    CU_ASSERT_FALSE(jr_completeness_complete(&bare, B(INCOME)));
}

static void test_other_never_required(void)
{
    jr_stream_t odd = {.code = "ODD", .enabled = true, .required = B(OTHER) | B(HOUSING)};
    CU_ASSERT_EQUAL(jr_completeness_missing(&odd, 0), B(INCOME) | B(INFORMATION) | B(HOUSING));
    CU_ASSERT_EQUAL(jr_completeness_covered(&odd, B(OTHER)), 0);
    for (size_t i = 0; i < jr_streams_count(streams); i++) {
        const jr_stream_t *r = jr_streams_at(streams, i);
        CU_ASSERT_EQUAL(jr_completeness_missing(r, 0) & B(OTHER), 0);
        /* Only OTHER covered helps no stream. */
        CU_ASSERT_EQUAL(jr_completeness_covered(r, B(OTHER)), 0);
    }
}

static CU_TestInfo tests[] = {
    {"equipment review completes ICES", test_ices_complete},
    {"equipment review misses HOUSING, TRANSPORT for DFG", test_dfg_misses_housing_and_transport},
    {"literal minimums", test_literal_minimums},
    {"SC requires all 17 topics", test_sc_requires_all_17},
    {"INCOME and INFORMATION always required", test_common_minimum_always},
    {"OTHER never required", test_other_never_required},
    CU_TEST_INFO_NULL,
};

int main(void)
{
    CU_SuiteInfo suites[] = {
        {.pName = "completeness", .pInitFunc = setup, .pCleanupFunc = teardown, .pTests = tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
