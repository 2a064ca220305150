/* text.h -- checks on untrusted text and calendar dates.
 *
 * Dates are days since 1970-01-01 (proleptic Gregorian, no time zone), the
 * unit every domain module uses; JR_DAY_NONE means "no date".
 *
 * Pure: no I/O. */
#ifndef JR_TEXT_H
#define JR_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t jr_day_t;
#define JR_DAY_NONE INT32_MIN

/* Valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF)
 * and no control characters other than tab, CR and LF. */
bool jr_text_valid_utf8(const char *s, size_t len);

/* Parses exactly "YYYY-MM-DD" with 1900 <= YYYY <= 2200 and a day that exists
 * in that month (leap years included). Returns 0 and writes *out, or -1. */
int jr_text_parse_date(const char *s, jr_day_t *out);

/* Writes "YYYY-MM-DD" (11 bytes with the NUL). */
void jr_text_format_date(jr_day_t day, char out[11]);

/* Day from an instant in ms since the epoch (UTC). */
jr_day_t jr_text_day_of_ms(int64_t ms);

/* Whether year-month-day is a day of the calendar (month 1..12, a day the
 * month has, leap years included). */
bool jr_text_civil_valid(int year, unsigned month, unsigned day);

/* The instant at h:mi:s UTC on a day, in ms since the epoch. */
int64_t jr_text_ms_of(jr_day_t day, unsigned h, unsigned mi, unsigned s);

/* Whole pence as pounds for people to read: "£18,200.00", "-£5.50" (out:
 * at least 32 bytes). Returns out. */
const char *jr_text_pounds(int64_t pence, char out[32]);

/* Civil date <-> day number; month 1..12. */
jr_day_t jr_text_day_from_civil(int year, unsigned month, unsigned day);
void jr_text_civil_from_day(jr_day_t day, int *year, unsigned *month, unsigned *mday);

#endif
