/* text.c -- UTF-8 and calendar checks. Date arithmetic follows Howard
 * Hinnant's days_from_civil / civil_from_days. */
#include "text.h"

#include <stdio.h>
#include <string.h>

#define MS_PER_DAY INT64_C(86400000)

/* A code point that may appear in text we keep: C0 controls other than tab,
 * LF and CR, DEL and the C1 controls are refused. */
static bool allowed_code_point(uint32_t cp)
{
    if (cp < 0x20)
        return cp == '\t' || cp == '\n' || cp == '\r';
    return !(cp >= 0x7f && cp <= 0x9f);
}

bool jr_text_valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (s == NULL)
        return len == 0;
    while (i < len) {
        unsigned char b = p[i];
        uint32_t cp;
        size_t need;
        uint32_t min;

        if (b < 0x80) {
            cp = b;
            need = 0;
            min = 0;
        } else if (b >= 0xc2 && b <= 0xdf) {
            cp = b & 0x1fu;
            need = 1;
            min = 0x80;
        } else if (b >= 0xe0 && b <= 0xef) {
            cp = b & 0x0fu;
            need = 2;
            min = 0x800;
        } else if (b >= 0xf0 && b <= 0xf4) {
            cp = b & 0x07u;
            need = 3;
            min = 0x10000;
        } else {
            return false; /* continuation byte, C0/C1 overlong lead, or F5..FF */
        }
        if (len - i - 1 < need)
            return false; /* truncated */
        for (size_t k = 1; k <= need; k++) {
            unsigned char c = p[i + k];
            if ((c & 0xc0u) != 0x80u)
                return false;
            cp = (cp << 6) | (c & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        if (!allowed_code_point(cp))
            return false;
        i += need + 1;
    }
    return true;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y_out, unsigned *m_out, unsigned *d_out)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                      /* [0, 11] */
    unsigned d = doy - (153 * mp + 2) / 5 + 1;              /* [1, 31] */
    unsigned m = mp < 10 ? mp + 3 : mp - 9;                 /* [1, 12] */
    *y_out = y + (m <= 2);
    *m_out = m;
    *d_out = d;
}

static bool parse_digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

int jr_text_parse_date(const char *s, jr_day_t *out)
{
    unsigned y, m, d;

    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    if (!parse_digits(s, 4, &y) || !parse_digits(s + 5, 2, &m) || !parse_digits(s + 8, 2, &d))
        return -1;
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    if (out != NULL)
        *out = (jr_day_t)days_from_civil(y, m, d);
    return 0;
}

static void put_digits(char *out, unsigned v, size_t n)
{
    for (size_t i = n; i > 0; i--) {
        out[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
}

void jr_text_format_date(jr_day_t day, char out[11])
{
    int64_t y;
    unsigned m, d;

    civil_from_days(day, &y, &m, &d);
    if (day == JR_DAY_NONE || y < 0 || y > 9999) {
        /* No four-digit year to show: write a date nothing parses. */
        memcpy(out, "0000-00-00", 11);
        return;
    }
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = '\0';
}

jr_day_t jr_text_day_of_ms(int64_t ms)
{
    int64_t day = ms / MS_PER_DAY;
    if (ms % MS_PER_DAY < 0)
        day--; /* floor, so the instant before the epoch is 1969-12-31 */
    if (day > INT32_MAX)
        return INT32_MAX;
    if (day <= INT32_MIN)
        return INT32_MIN + 1; /* never JR_DAY_NONE */
    return (jr_day_t)day;
}

jr_day_t jr_text_day_from_civil(int year, unsigned month, unsigned day)
{
    return (jr_day_t)days_from_civil(year, month, day);
}

void jr_text_civil_from_day(jr_day_t day, int *year, unsigned *month, unsigned *mday)
{
    int64_t y;
    unsigned m, d;

    civil_from_days(day, &y, &m, &d);
    if (year != NULL)
        *year = (int)y;
    if (month != NULL)
        *month = m;
    if (mday != NULL)
        *mday = d;
}

bool jr_text_civil_valid(int year, unsigned month, unsigned day)
{
    return year >= 0 && month >= 1 && month <= 12 && day >= 1 &&
           day <= days_in_month((unsigned)year, month);
}

int64_t jr_text_ms_of(jr_day_t day, unsigned h, unsigned mi, unsigned s)
{
    return (int64_t)day * 86400000 + (int64_t)h * 3600000 + (int64_t)mi * 60000 + (int64_t)s * 1000;
}

const char *jr_text_pounds(int64_t pence, char out[32])
{
    uint64_t p = pence < 0 ? (uint64_t)0 - (uint64_t)pence : (uint64_t)pence;
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)(p / 100));
    size_t used = (size_t)snprintf(out, 32, "%s\u00a3", pence < 0 ? "-" : "");
    for (int i = 0; i < n && used < 26; i++) {
        out[used++] = digits[i];
        if ((n - i - 1) % 3 == 0 && i < n - 1) {
            out[used++] = ',';
        }
    }
    snprintf(out + used, 32 - used, ".%02llu", (unsigned long long)(p % 100));
    return out;
}
