/* test_nhs.c -- NHS number and National Insurance number checks. */
#include "nhs.h"

#include <string.h>

#include "jr_cunit.h"

static void test_nhs_valid_with_spaces(void)
{
    char out[JR_NHS_LEN + 1];
    CU_ASSERT_EQUAL(jr_nhs_normalise("943 476 5919", out), JR_NHS_OK);
    CU_ASSERT_STRING_EQUAL(out, "9434765919");
    CU_ASSERT_EQUAL(jr_nhs_normalise("9434765919", out), JR_NHS_OK);
    CU_ASSERT_STRING_EQUAL(out, "9434765919");
    CU_ASSERT_EQUAL(jr_nhs_normalise("943-476-5919", out), JR_NHS_OK);
    CU_ASSERT_STRING_EQUAL(out, "9434765919");
}

static void test_nhs_bad_check_digit(void)
{
    char out[JR_NHS_LEN + 1] = "unchanged";
    CU_ASSERT_EQUAL(jr_nhs_normalise("9434765918", out), JR_NHS_BAD_CHECK_DIGIT);
    CU_ASSERT_STRING_EQUAL(out, "unchanged"); /* written only on success */
}

/* 1,2,...,9 weighted 10..2 sum to 210; 210 mod 11 = 1, so the check is 11 - 1 = 10
 * and no final digit can make the number valid. */
static void test_nhs_check_of_ten_is_invalid(void)
{
    char out[JR_NHS_LEN + 1];
    char number[] = "123456789X";
    for (char last = '0'; last <= '9'; last++) {
        number[9] = last;
        CU_ASSERT_EQUAL(jr_nhs_normalise(number, out), JR_NHS_BAD_CHECK_DIGIT);
    }
}

/* 9,4,3,4,7,6,5,9,0 weighted 10..2 sum to 297 = 27 * 11: remainder 0, check 0. */
static void test_nhs_remainder_zero_gives_check_zero(void)
{
    char out[JR_NHS_LEN + 1];
    CU_ASSERT_EQUAL(jr_nhs_normalise("9434765900", out), JR_NHS_OK);
    CU_ASSERT_STRING_EQUAL(out, "9434765900");
    CU_ASSERT_EQUAL(jr_nhs_normalise("9434765901", out), JR_NHS_BAD_CHECK_DIGIT);
}

/* Back offices write these for "not known". d * (10 + 9 + ... + 2) = 54d
 * leaves 11 - d (or 0 for d = 0) over 11, so every one of them has the
 * right check digit: refused for what they are. */
static void test_nhs_placeholder_refused(void)
{
    char out[JR_NHS_LEN + 1] = "unchanged";
    const char *const placeholders[] = {"0000000000", "1111111111", "2222222222",   "3333333333",
                                        "4444444444", "5555555555", "6666666666",   "7777777777",
                                        "8888888888", "9999999999", "000 000 0000", "999-999-9999"};
    for (size_t i = 0; i < sizeof placeholders / sizeof *placeholders; i++) {
        CU_ASSERT_EQUAL(jr_nhs_normalise(placeholders[i], out), JR_NHS_PLACEHOLDER);
    }
    CU_ASSERT_STRING_EQUAL(out, "unchanged");
    CU_ASSERT_STRING_EQUAL(jr_nhs_status_text(JR_NHS_PLACEHOLDER),
                           "all ten digits are the same, which looks like a placeholder for "
                           "'not known', not a person's number");
}

static void test_nhs_bad_length(void)
{
    char out[JR_NHS_LEN + 1];
    CU_ASSERT_EQUAL(jr_nhs_normalise("943476591", out), JR_NHS_BAD_LENGTH);
    CU_ASSERT_EQUAL(jr_nhs_normalise("94347659190", out), JR_NHS_BAD_LENGTH);
    CU_ASSERT_EQUAL(jr_nhs_normalise("", out), JR_NHS_BAD_LENGTH);
    CU_ASSERT_EQUAL(jr_nhs_normalise("   ", out), JR_NHS_BAD_LENGTH);
    CU_ASSERT_EQUAL(jr_nhs_normalise(NULL, out), JR_NHS_BAD_LENGTH);
}

static void test_nhs_bad_character(void)
{
    char out[JR_NHS_LEN + 1];
    CU_ASSERT_EQUAL(jr_nhs_normalise("943476591A", out), JR_NHS_BAD_CHARACTER);
    CU_ASSERT_EQUAL(jr_nhs_normalise("NHS9434765919", out), JR_NHS_BAD_CHARACTER);
    CU_ASSERT_EQUAL(jr_nhs_normalise("943.476.5919", out), JR_NHS_BAD_CHARACTER);
    CU_ASSERT_EQUAL(jr_nhs_normalise("943\t476\t5919", out), JR_NHS_BAD_CHARACTER);
    CU_ASSERT_EQUAL(jr_nhs_normalise("+9434765919", out), JR_NHS_BAD_CHARACTER);
}

static void test_nhs_status_text(void)
{
    CU_ASSERT_STRING_EQUAL(jr_nhs_status_text(JR_NHS_BAD_CHECK_DIGIT), "the check digit is wrong");
    CU_ASSERT_STRING_EQUAL(jr_nhs_status_text(JR_NHS_BAD_LENGTH), "an NHS number has 10 digits");
    CU_ASSERT_STRING_EQUAL(jr_nhs_status_text(JR_NHS_BAD_CHARACTER),
                           "an NHS number holds only digits, spaces and hyphens");
    CU_ASSERT_STRING_EQUAL(jr_nhs_status_text(JR_NHS_OK), "a valid NHS number");
}

static void test_nino_valid(void)
{
    char out[JR_NINO_LEN + 1];
    CU_ASSERT_TRUE(jr_nhs_nino_normalise("AB 12 34 56 C", out));
    CU_ASSERT_STRING_EQUAL(out, "AB123456C");
    CU_ASSERT_TRUE(jr_nhs_nino_normalise("ab123456d", out));
    CU_ASSERT_STRING_EQUAL(out, "AB123456D");
    CU_ASSERT_TRUE(jr_nhs_nino_normalise("  JG 10 37 59 A ", out));
    CU_ASSERT_STRING_EQUAL(out, "JG103759A");
    /* O is allowed first, not second. */
    CU_ASSERT_TRUE(jr_nhs_nino_normalise("OA000000B", out));
    CU_ASSERT_STRING_EQUAL(out, "OA000000B");
}

static void test_nino_invalid_prefix(void)
{
    char out[JR_NINO_LEN + 1] = "unchanged";
    /* The much-quoted sample "QQ 12 34 56 C" is not a real number: Q is
     * never a first (or second) letter. */
    CU_ASSERT_FALSE(jr_nhs_nino_normalise("QQ 12 34 56 C", out));
    const char *first[] = {"DA123456C", "FA123456C", "IA123456C",
                           "QA123456C", "UA123456C", "VA123456C"};
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++)
        CU_ASSERT_FALSE(jr_nhs_nino_normalise(first[i], out));
    const char *second[] = {"AD123456C", "AF123456C", "AI123456C", "AO123456C",
                            "AQ123456C", "AU123456C", "AV123456C"};
    for (size_t i = 0; i < sizeof second / sizeof second[0]; i++)
        CU_ASSERT_FALSE(jr_nhs_nino_normalise(second[i], out));
    CU_ASSERT_FALSE(jr_nhs_nino_normalise("1B123456C", out));
    CU_ASSERT_STRING_EQUAL(out, "unchanged");
}

static void test_nino_invalid_suffix_and_shape(void)
{
    char out[JR_NINO_LEN + 1];
    CU_ASSERT_FALSE(jr_nhs_nino_normalise("AB123456E", out));
    CU_ASSERT_FALSE(jr_nhs_nino_normalise("AB1234561", out));
    CU_ASSERT_FALSE(jr_nhs_nino_normalise("AB123456", out));
    CU_ASSERT_FALSE(jr_nhs_nino_normalise("AB1234567C", out));
    CU_ASSERT_FALSE(jr_nhs_nino_normalise("AB12345CC", out));
    CU_ASSERT_FALSE(jr_nhs_nino_normalise("AB-12-34-56-C", out));
    CU_ASSERT_FALSE(jr_nhs_nino_normalise("", out));
    CU_ASSERT_FALSE(jr_nhs_nino_normalise(NULL, out));
}

static CU_TestInfo nhs_tests[] = {
    {"NHS number with spaces or hyphens", test_nhs_valid_with_spaces},
    {"wrong check digit", test_nhs_bad_check_digit},
    {"computed check of 10 is invalid", test_nhs_check_of_ten_is_invalid},
    {"remainder 0 gives check digit 0", test_nhs_remainder_zero_gives_check_zero},
    {"all digits the same is a placeholder", test_nhs_placeholder_refused},
    {"wrong length", test_nhs_bad_length},
    {"stray characters", test_nhs_bad_character},
    {"status text", test_nhs_status_text},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo nino_tests[] = {
    {"valid NI numbers", test_nino_valid},
    {"invalid prefixes", test_nino_invalid_prefix},
    {"invalid suffix and shape", test_nino_invalid_suffix_and_shape},
    CU_TEST_INFO_NULL,
};

int main(void)
{
    CU_SuiteInfo suites[] = {
        {.pName = "nhs number", .pTests = nhs_tests},
        {.pName = "national insurance number", .pTests = nino_tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
