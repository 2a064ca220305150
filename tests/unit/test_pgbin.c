/* test_pgbin.c -- PostgreSQL's binary arrays and COPY rows, byte for byte.
 * Each expected value is what PostgreSQL 15 itself sends for the same value
 * (array_send, date_send, timestamptz_send), so an array the daemon builds
 * is one the server reads back as it was meant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jr_cunit.h"
#include "pgbin.h"
#include "text.h"

/* The bytes as lower-case hex, for comparing with a literal. */
static const char *hex(const uint8_t *p, size_t n)
{
    static char out[512];
    out[0] = '\0';
    for (size_t i = 0; i < n && 2 * i + 2 < sizeof out; i++) {
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    }
    return out;
}

static jr_day_t day(const char *s)
{
    jr_day_t d = JR_DAY_NONE;
    CU_ASSERT_EQUAL_FATAL(jr_text_parse_date(s, &d), 0);
    return d;
}

/* Finishes the array and compares it with `expected`, then frees it. */
static void check_array(jr_pgbin_array_t *a, const char *expected)
{
    size_t len = 0;
    const uint8_t *bytes = jr_pgbin_array_finish(a, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    CU_ASSERT_STRING_EQUAL(hex(bytes, len), expected);
    jr_pgbin_array_free(a);
}

static void test_text_array(void)
{
    jr_pgbin_array_t a;
    jr_pgbin_array_open(&a, JR_PGBIN_TEXT);
    jr_pgbin_array_text(&a, "ICES");
    jr_pgbin_array_text(&a, "SC");
    /* SELECT array_send(ARRAY['ICES','SC']::text[]) */
    check_array(&a, "0000000100000000000000190000000200000001"
                    "0000000449434553"
                    "000000025343");
}

static void test_int4_array(void)
{
    jr_pgbin_array_t a;
    jr_pgbin_array_open(&a, JR_PGBIN_INT4);
    jr_pgbin_array_int4(&a, 0);
    jr_pgbin_array_int4(&a, 3);
    jr_pgbin_array_int4(&a, -1);
    /* SELECT array_send(ARRAY[0,3,-1]::int4[]) */
    check_array(&a, "0000000100000000000000170000000300000001"
                    "0000000400000000"
                    "0000000400000003"
                    "00000004ffffffff");
}

static void test_int2_and_bool_arrays(void)
{
    jr_pgbin_array_t a;
    jr_pgbin_array_open(&a, JR_PGBIN_INT2);
    jr_pgbin_array_int2(&a, 3);
    jr_pgbin_array_int2(&a, 0);
    /* SELECT array_send(ARRAY[3,0]::int2[]) */
    check_array(&a, "000000010000000000000015000000020000000100000002000300000002"
                    "0000");
    jr_pgbin_array_open(&a, JR_PGBIN_BOOL);
    jr_pgbin_array_bool(&a, true);
    jr_pgbin_array_bool(&a, false);
    /* SELECT array_send(ARRAY[true,false]) */
    check_array(&a, "000000010000000000000010000000020000000100000001010000000100");
}

static void test_int8_array(void)
{
    jr_pgbin_array_t a;
    jr_pgbin_array_open(&a, JR_PGBIN_INT8);
    jr_pgbin_array_int8(&a, 5000000000LL);
    /* SELECT array_send(ARRAY[5000000000]::int8[]) */
    check_array(&a, "000000010000000000000014000000010000000100000008000000012a05f200");
}

static void test_bytea_array(void)
{
    static const uint8_t two[] = {0x00, 0xff};
    jr_pgbin_array_t a;
    jr_pgbin_array_open(&a, JR_PGBIN_BYTEA);
    jr_pgbin_array_bytea(&a, two, sizeof two);
    jr_pgbin_array_bytea(&a, two, 0); /* empty, not NULL */
    /* SELECT array_send(ARRAY['\x00ff'::bytea, '\x'::bytea]) */
    check_array(&a, "00000001000000000000001100000002000000010000000200ff00000000");
}

static void test_null_element(void)
{
    jr_pgbin_array_t a;
    jr_pgbin_array_open(&a, JR_PGBIN_TEXT);
    jr_pgbin_array_text(&a, "SC");
    jr_pgbin_array_text(&a, NULL);
    /* SELECT array_send(ARRAY['SC', NULL]::text[]): the has-null flag set,
     * the element's length -1 */
    check_array(&a, "0000000100000001000000190000000200000001000000025343ffffffff");
}

static void test_empty_array(void)
{
    jr_pgbin_array_t a;
    jr_pgbin_array_open(&a, JR_PGBIN_TEXT);
    /* SELECT array_send('{}'::text[]): no dimension */
    check_array(&a, "000000000000000000000019");
}

static void test_dates(void)
{
    jr_pgbin_array_t a;
    jr_pgbin_array_open(&a, JR_PGBIN_DATE);
    jr_pgbin_array_date(&a, day("2026-10-01"));
    jr_pgbin_array_date(&a, JR_DAY_NONE);
    /* SELECT array_send(ARRAY['2026-10-01'::date, NULL]): 9,770 days after
     * 2000-01-01 */
    check_array(&a, "00000001000000010000043a0000000200000001000000040000262affffffff");
    uint8_t four[4];
    jr_pgbin_date_bytes(day("2000-01-01"), four);
    CU_ASSERT_STRING_EQUAL(hex(four, 4), "00000000"); /* date_send('2000-01-01') */
    jr_pgbin_date_bytes(day("2026-10-01"), four);
    CU_ASSERT_STRING_EQUAL(hex(four, 4), "0000262a");
    jr_pgbin_date_bytes(day("1999-12-31"), four);
    CU_ASSERT_STRING_EQUAL(hex(four, 4), "ffffffff");
}

static void test_copy_rows(void)
{
    jr_pgbin_buf_t b = {0};
    jr_pgbin_copy_header(&b);
    /* "PGCOPY\n\377\r\n\0", no flags, no header extension */
    CU_ASSERT_STRING_EQUAL(hex(b.data, b.len), "5047434f50590aff0d0a00"
                                               "00000000"
                                               "00000000");
    b.len = 0;
    jr_pgbin_copy_row(&b, 3);
    jr_pgbin_text(&b, "SC");
    jr_pgbin_value(&b, NULL, 0);
    jr_pgbin_timestamptz(&b, 1790845200000LL); /* 2026-10-01T09:00:00Z */
    /* three fields; "SC"; NULL; timestamptz_send('2026-10-01 09:00:00+00') */
    CU_ASSERT_STRING_EQUAL(hex(b.data, b.len), "0003"
                                               "000000025343"
                                               "ffffffff"
                                               "000000080002ffc268c68400");
    b.len = 0;
    jr_pgbin_copy_trailer(&b);
    CU_ASSERT_STRING_EQUAL(hex(b.data, b.len), "ffff");
    CU_ASSERT_FALSE(b.failed);
    jr_pgbin_buf_free(&b);
    CU_ASSERT_PTR_NULL(b.data);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"a text[] of ICES and SC", test_text_array},
        {"an int4[]", test_int4_array},
        {"an int2[] and a bool[]", test_int2_and_bool_arrays},
        {"an int8[]", test_int8_array},
        {"a bytea[]", test_bytea_array},
        {"a NULL element", test_null_element},
        {"an empty array", test_empty_array},
        {"dates count days from 2000-01-01", test_dates},
        {"COPY header, row and trailer", test_copy_rows},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"pgbin", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
