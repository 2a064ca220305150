/* test_rate.c -- events per second over the last minute. */
#include "rate.h"

#include "jr_cunit.h"

#define SEC INT64_C(1000)

static void test_a_minute_of_events(void)
{
    jr_rate_t r = {0};
    int64_t t0 = 5000 * SEC;
    jr_rate_add(&r, t0, 0);
    CU_ASSERT_DOUBLE_EQUAL(jr_rate_per_second(&r, t0), 0.0, 1e-12);
    /* 11 events in the first second, 49 spread over the next 30. */
    jr_rate_add(&r, t0 + 100, 11);
    for (int s = 1; s <= 30; s++) {
        jr_rate_add(&r, t0 + s * SEC, s <= 19 ? 2 : 1);
    }
    CU_ASSERT_EQUAL(r.total, 11 + 19 * 2 + 11);
    CU_ASSERT_DOUBLE_EQUAL(jr_rate_per_second(&r, t0 + 30 * SEC), 60 / 60.0, 1e-12);
    /* A minute after the first second, its 11 have left the window. */
    CU_ASSERT_DOUBLE_EQUAL(jr_rate_per_second(&r, t0 + 60 * SEC), 49 / 60.0, 1e-12);
    /* Within the same second the window does not move. */
    CU_ASSERT_DOUBLE_EQUAL(jr_rate_per_second(&r, t0 + 60 * SEC + 999), 49 / 60.0, 1e-12);
    /* Sixty quiet seconds after the last event: nothing. */
    CU_ASSERT_DOUBLE_EQUAL(jr_rate_per_second(&r, t0 + 90 * SEC), 0.0, 1e-12);
    CU_ASSERT_EQUAL(r.total, 0);
}

static void test_a_long_gap_empties_every_bucket(void)
{
    jr_rate_t r = {0};
    for (int s = 0; s < 60; s++) {
        jr_rate_add(&r, s * SEC, 3);
    }
    CU_ASSERT_EQUAL(r.total, 180);
    CU_ASSERT_DOUBLE_EQUAL(jr_rate_per_second(&r, 59 * SEC), 3.0, 1e-12);
    jr_rate_add(&r, 100000 * SEC, 1); /* a day later */
    CU_ASSERT_EQUAL(r.total, 1);
    for (int i = 0; i < 60; i++) {
        CU_ASSERT(r.buckets[i] <= 1);
    }
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"a minute of events", test_a_minute_of_events},
        {"a long gap empties every bucket", test_a_long_gap_empties_every_bucket},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"rate", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
