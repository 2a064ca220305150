/* nhs.c -- NHS number and National Insurance number checks. */
#include "nhs.h"

#include <stddef.h>

jr_nhs_status_t jr_nhs_normalise(const char *in, char out[JR_NHS_LEN + 1])
{
    char digits[JR_NHS_LEN];
    size_t n = 0;
    bool too_long = false;

    if (in == NULL)
        return JR_NHS_BAD_LENGTH;
    /* A stray character is the more useful reason, so scan everything first. */
    for (const char *p = in; *p != '\0'; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (*p < '0' || *p > '9')
            return JR_NHS_BAD_CHARACTER;
        if (n == JR_NHS_LEN)
            too_long = true;
        else
            digits[n++] = *p;
    }
    if (too_long || n != JR_NHS_LEN)
        return JR_NHS_BAD_LENGTH;

    unsigned sum = 0;
    for (unsigned i = 0; i < JR_NHS_LEN - 1; i++)
        sum += (unsigned)(digits[i] - '0') * (10u - i);
    unsigned check = 11u - sum % 11u;
    if (check == 11u)
        check = 0;
    if (check == 10u || check != (unsigned)(digits[JR_NHS_LEN - 1] - '0'))
        return JR_NHS_BAD_CHECK_DIGIT;
    bool all_same = true;
    for (size_t i = 1; i < JR_NHS_LEN; i++)
        all_same = all_same && digits[i] == digits[0];
    if (all_same)
        return JR_NHS_PLACEHOLDER;

    for (size_t i = 0; i < JR_NHS_LEN; i++)
        out[i] = digits[i];
    out[JR_NHS_LEN] = '\0';
    return JR_NHS_OK;
}

const char *jr_nhs_status_text(jr_nhs_status_t st)
{
    switch (st) {
    case JR_NHS_OK:
        return "a valid NHS number";
    case JR_NHS_BAD_LENGTH:
        return "an NHS number has 10 digits";
    case JR_NHS_BAD_CHARACTER:
        return "an NHS number holds only digits, spaces and hyphens";
    case JR_NHS_BAD_CHECK_DIGIT:
        return "the check digit is wrong";
    case JR_NHS_PLACEHOLDER:
        return "all ten digits are the same, which looks like a placeholder for 'not known', "
               "not a person's number";
    }
    return "not an NHS number";
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool is_letter_not_in(char c, const char *excluded)
{
    if (c < 'A' || c > 'Z')
        return false;
    for (const char *e = excluded; *e != '\0'; e++)
        if (c == *e)
            return false;
    return true;
}

bool jr_nhs_nino_normalise(const char *in, char out[JR_NINO_LEN + 1])
{
    char buf[JR_NINO_LEN];
    size_t n = 0;

    if (in == NULL)
        return false;
    for (const char *p = in; *p != '\0'; p++) {
        if (*p == ' ')
            continue;
        if (n == JR_NINO_LEN)
            return false;
        buf[n++] = upper(*p);
    }
    if (n != JR_NINO_LEN)
        return false;
    if (!is_letter_not_in(buf[0], "DFIQUV") || !is_letter_not_in(buf[1], "DFIOQUV"))
        return false;
    for (size_t i = 2; i < 8; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return false;
    if (buf[8] < 'A' || buf[8] > 'D')
        return false;

    for (size_t i = 0; i < JR_NINO_LEN; i++)
        out[i] = buf[i];
    out[JR_NINO_LEN] = '\0';
    return true;
}
