/* capture.h -- national capture (DOMAIN.md, "National capture"; the review
 * format: "could we capture information from funding streams nationally?"):
 * the rules of the quarterly summary that leave a council.
 *
 *  - A quarter is written YYYYQN (2026Q3: 1 July to 30 September 2026).
 *  - Small numbers are suppressed: a count from 1 to 7 is shown as "*",
 *    every other count is rounded to the nearest 5 (0 stays 0; 8 is 10,
 *    12 is 10, 13 is 15).
 *  - A money total is a person's amount when few persons make it: it is
 *    shown only when no persons (0) or at least 8 make it, else "*" (the
 *    statistics feed leaves it out the same way). Shown, it is exact, in
 *    whole pence.
 *
 * Pure: no I/O. */
#ifndef JR_CAPTURE_H
#define JR_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "text.h"

#define JR_CAPTURE_SMALL_MAX 7 /* counts 1..7 are suppressed */

/* A count as the summary shows it: "0", "*", or rounded to the nearest 5.
 * out holds at least 24 bytes. Returns out. */
const char *jr_capture_count(uint64_t count, char out[24]);

/* Whether a total made by `persons` persons may be shown. */
bool jr_capture_total_shown(uint64_t persons);

/* A total of whole pence as the summary shows it: exact, or "*" when
 * jr_capture_total_shown(persons) is false. out holds at least 24 bytes. */
const char *jr_capture_total(int64_t pence, uint64_t persons, char out[24]);

/* Parses "YYYYQN" (N 1..4, year 1900..2200) into its first and last day.
 * 0, or -1 when malformed. */
int jr_capture_quarter(const char *text, jr_day_t *first, jr_day_t *last);

#endif
