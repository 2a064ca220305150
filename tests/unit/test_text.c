/* test_text.c -- UTF-8 checks and calendar dates. */
#include "text.h"

#include <string.h>

#include "jr_cunit.h"

static bool utf8(const char *s)
{
    return jr_text_valid_utf8(s, strlen(s));
}

static void test_pounds(void)
{
    char b[32];
    CU_ASSERT_STRING_EQUAL(jr_text_pounds(0, b), "\u00a30.00");
    CU_ASSERT_STRING_EQUAL(jr_text_pounds(7, b), "\u00a30.07");
    CU_ASSERT_STRING_EQUAL(jr_text_pounds(57750, b), "\u00a3577.50");
    CU_ASSERT_STRING_EQUAL(jr_text_pounds(1820000, b), "\u00a318,200.00");
    CU_ASSERT_STRING_EQUAL(jr_text_pounds(-50000, b), "-\u00a3500.00");
    CU_ASSERT_STRING_EQUAL(jr_text_pounds(123456789012, b), "\u00a31,234,567,890.12");
    CU_ASSERT_STRING_EQUAL(jr_text_pounds(INT64_MIN, b), "-\u00a392,233,720,368,547,758.08");
}

static void test_utf8_valid(void)
{
    CU_ASSERT_TRUE(utf8("plain ASCII"));
    CU_ASSERT_TRUE(utf8("caf\xc3\xa9"));              /* U+00E9, 2 bytes */
    CU_ASSERT_TRUE(utf8("\xe2\x82\xac 20"));          /* U+20AC, 3 bytes */
    CU_ASSERT_TRUE(utf8("\xf0\x9f\x98\x80"));         /* U+1F600, 4 bytes */
    CU_ASSERT_TRUE(utf8("\xf4\x8f\xbf\xbf"));         /* U+10FFFF, the last */
    CU_ASSERT_TRUE(utf8("\xc2\xa0"));                 /* U+00A0, first after C1 */
    CU_ASSERT_TRUE(utf8("\xed\x9f\xbf\xee\x80\x80")); /* U+D7FF, U+E000 around surrogates */
    CU_ASSERT_TRUE(utf8("line one\r\nline\ttwo\n"));  /* tab, CR, LF allowed */
    CU_ASSERT_TRUE(jr_text_valid_utf8("", 0));
    CU_ASSERT_TRUE(jr_text_valid_utf8(NULL, 0));
    /* Only len bytes are read: the invalid byte after them does not count. */
    CU_ASSERT_TRUE(jr_text_valid_utf8("ok\xff", 2));
}

static void test_utf8_overlong(void)
{
    CU_ASSERT_FALSE(utf8("\xc0\x80"));         /* NUL as 2 bytes */
    CU_ASSERT_FALSE(utf8("\xc1\xbf"));         /* U+007F as 2 bytes */
    CU_ASSERT_FALSE(utf8("\xe0\x80\x80"));     /* NUL as 3 bytes */
    CU_ASSERT_FALSE(utf8("\xe0\x9f\xbf"));     /* U+07FF as 3 bytes */
    CU_ASSERT_FALSE(utf8("\xf0\x8f\xbf\xbf")); /* U+FFFF as 4 bytes */
}

static void test_utf8_surrogates_and_range(void)
{
    CU_ASSERT_FALSE(utf8("\xed\xa0\x80"));     /* U+D800 */
    CU_ASSERT_FALSE(utf8("\xed\xbf\xbf"));     /* U+DFFF */
    CU_ASSERT_FALSE(utf8("\xf4\x90\x80\x80")); /* U+110000 */
    CU_ASSERT_FALSE(utf8("\xf5\x80\x80\x80"));
    CU_ASSERT_FALSE(utf8("\xff"));
}

static void test_utf8_truncated_and_stray(void)
{
    CU_ASSERT_FALSE(utf8("\xe2\x82")); /* euro sign missing its last byte */
    CU_ASSERT_FALSE(utf8("abc\xf0\x9f\x98"));
    CU_ASSERT_FALSE(utf8("\xc3"));
    CU_ASSERT_FALSE(utf8("\x80"));     /* continuation without a lead */
    CU_ASSERT_FALSE(utf8("\xc3\x28")); /* lead followed by ASCII */
    CU_ASSERT_FALSE(jr_text_valid_utf8("\xe2\x82\xac", 2));
}

static void test_utf8_control_characters(void)
{
    CU_ASSERT_FALSE(utf8("a\x01"
                         "b"));
    CU_ASSERT_FALSE(utf8("\x1b[31m"));
    CU_ASSERT_FALSE(utf8("\x7f"));
    CU_ASSERT_FALSE(utf8("\xc2\x85")); /* U+0085, a C1 control */
    CU_ASSERT_FALSE(jr_text_valid_utf8("a\0b", 3));
    CU_ASSERT_TRUE(utf8("\t"));
}

static void test_parse_date_valid(void)
{
    jr_day_t d = 0;
    CU_ASSERT_EQUAL(jr_text_parse_date("1970-01-01", &d), 0);
    CU_ASSERT_EQUAL(d, 0);
    CU_ASSERT_EQUAL(jr_text_parse_date("2024-02-29", &d), 0);
    CU_ASSERT_EQUAL(d, 19782);
    CU_ASSERT_EQUAL(jr_text_parse_date("2000-02-29", &d), 0);
    CU_ASSERT_EQUAL(d, 11016);
    CU_ASSERT_EQUAL(jr_text_parse_date("1969-12-31", &d), 0);
    CU_ASSERT_EQUAL(d, -1);
    CU_ASSERT_EQUAL(jr_text_parse_date("1900-01-01", &d), 0);
    CU_ASSERT_EQUAL(d, -25567);
    CU_ASSERT_EQUAL(jr_text_parse_date("2200-12-31", &d), 0);
    CU_ASSERT_EQUAL(d, 84370);
}

static void test_parse_date_invalid(void)
{
    const char *bad[] = {
        "2025-02-29", "2025-02-30", "2025-13-01",           "2025-1-01",   "2025-01-1",
        "2025-00-10", "2025-01-00", "2025-04-31",           "2100-02-29",  "1899-12-31",
        "2201-01-01", "2025/01/01", "2025-01-01 ",          " 2025-01-01", "+025-01-01",
        "20250101",   "",           "2025-01-01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jr_day_t d = 12345;
        CU_ASSERT_EQUAL(jr_text_parse_date(bad[i], &d), -1);
        CU_ASSERT_EQUAL(d, 12345);
    }
    CU_ASSERT_EQUAL(jr_text_parse_date(NULL, NULL), -1);
}

static void test_format_date(void)
{
    char out[11];
    jr_text_format_date(0, out);
    CU_ASSERT_STRING_EQUAL(out, "1970-01-01");
    jr_text_format_date(19782, out);
    CU_ASSERT_STRING_EQUAL(out, "2024-02-29");
    jr_text_format_date(-1, out);
    CU_ASSERT_STRING_EQUAL(out, "1969-12-31");
    jr_text_format_date(-25567, out);
    CU_ASSERT_STRING_EQUAL(out, "1900-01-01");
    /* No date, or a year that has no four digits: a string nothing parses. */
    jr_text_format_date(JR_DAY_NONE, out);
    CU_ASSERT_STRING_EQUAL(out, "0000-00-00");
    jr_text_format_date(INT32_MAX, out);
    CU_ASSERT_STRING_EQUAL(out, "0000-00-00");
}

static void test_date_round_trip(void)
{
    jr_day_t first = jr_text_day_from_civil(1900, 1, 1);
    jr_day_t last = jr_text_day_from_civil(2200, 12, 31);
    CU_ASSERT_EQUAL(first, -25567);
    CU_ASSERT_EQUAL(last, 84370);

    unsigned failures = 0;
    for (jr_day_t day = first; day <= last; day++) {
        char text[11];
        jr_day_t back = JR_DAY_NONE;
        int y;
        unsigned m, d;
        jr_text_format_date(day, text);
        jr_text_civil_from_day(day, &y, &m, &d);
        if (jr_text_parse_date(text, &back) != 0 || back != day ||
            jr_text_day_from_civil(y, m, d) != day)
            failures++;
    }
    CU_ASSERT_EQUAL(failures, 0);
}

static void test_civil(void)
{
    int y;
    unsigned m, d;
    CU_ASSERT_EQUAL(jr_text_day_from_civil(2024, 2, 29), 19782);
    CU_ASSERT_EQUAL(jr_text_day_from_civil(2025, 3, 1), 20148);
    jr_text_civil_from_day(20148, &y, &m, &d);
    CU_ASSERT_EQUAL(y, 2025);
    CU_ASSERT_EQUAL(m, 3);
    CU_ASSERT_EQUAL(d, 1);
    jr_text_civil_from_day(20147, &y, &m, &d);
    CU_ASSERT_EQUAL(y, 2025);
    CU_ASSERT_EQUAL(m, 2);
    CU_ASSERT_EQUAL(d, 28);
    /* Hinnant's epoch shift: day -719468 is 0000-03-01. */
    jr_text_civil_from_day(-719468, &y, &m, &d);
    CU_ASSERT_EQUAL(y, 0);
    CU_ASSERT_EQUAL(m, 3);
    CU_ASSERT_EQUAL(d, 1);
}

static void test_day_of_ms(void)
{
    CU_ASSERT_EQUAL(jr_text_day_of_ms(0), 0);
    CU_ASSERT_EQUAL(jr_text_day_of_ms(86399999), 0);
    CU_ASSERT_EQUAL(jr_text_day_of_ms(86400000), 1);
    CU_ASSERT_EQUAL(jr_text_day_of_ms(1709164800000), 19782); /* 2024-02-29T00:00Z */
    CU_ASSERT_EQUAL(jr_text_day_of_ms(1709164799999), 19781);
    CU_ASSERT_EQUAL(jr_text_day_of_ms(1748779200000), 20240); /* 2025-06-01T12:00Z */
    CU_ASSERT_EQUAL(jr_text_day_of_ms(-1), -1);               /* 1969-12-31T23:59:59.999Z */
    CU_ASSERT_EQUAL(jr_text_day_of_ms(-86400000), -1);
    CU_ASSERT_EQUAL(jr_text_day_of_ms(-86400001), -2);
    CU_ASSERT_EQUAL(jr_text_day_of_ms(INT64_MAX), INT32_MAX);
    CU_ASSERT_EQUAL(jr_text_day_of_ms(INT64_MIN), INT32_MIN + 1); /* never JR_DAY_NONE */
}

static CU_TestInfo utf8_tests[] = {
    {"valid text", test_utf8_valid},
    {"overlong forms", test_utf8_overlong},
    {"surrogates and beyond U+10FFFF", test_utf8_surrogates_and_range},
    {"truncated and stray bytes", test_utf8_truncated_and_stray},
    {"control characters", test_utf8_control_characters},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo date_tests[] = {
    {"whole pence as pounds", test_pounds},
    {"parse valid dates", test_parse_date_valid},
    {"reject invalid dates", test_parse_date_invalid},
    {"format dates", test_format_date},
    {"round trip 1900..2200", test_date_round_trip},
    {"civil conversions", test_civil},
    {"day of an instant", test_day_of_ms},
    CU_TEST_INFO_NULL,
};

int main(void)
{
    CU_SuiteInfo suites[] = {
        {.pName = "utf-8", .pTests = utf8_tests},
        {.pName = "dates", .pTests = date_tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
