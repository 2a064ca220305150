/* rows.h -- one row of a stream's export into one joinedreview.v1.Envelope.
 *
 * jr_rows_bind() finds each column the mapping names in the file's header
 * (by name, in any order; extra columns are ignored). jr_rows_convert() then
 * turns a data row into an Envelope, or refuses it with a reason code and a
 * sentence. The adapter refuses what it can tell is wrong from the row and
 * its mapping alone:
 *
 *   BAD_ENCODING        the row holds bytes that are not text in the export's
 *                       encoding (the mapping's, or its byte-order mark's)
 *   FIELD_COUNT         the row has more or fewer fields than the header
 *   UNMAPPED_KIND       the record type is empty or not in [kinds]
 *   UNMAPPED_CODE       the native code is empty or not in [topics]
 *   UNMAPPED_ROLE       the author's role is empty or not in [roles]
 *   UNMAPPED_PRIORITY   the priority word is not in [priorities]
 *   MISSING_VALUE       a value the kind of event needs is empty
 *   MISSING_IDENTIFIER  no NHS number, NI number or client id
 *   UNMAPPED_WAY        the way the person wants their review is empty or not
 *                       in [ways]
 *   UNMAPPED_NEED       a need is not in [needs]
 *   BAD_DATE            a date that is not a real date in the stream's format
 *   BAD_VALUE           a yes/no or a number that is neither; more than 8
 *                       people to involve; with amounts = pounds, an amount
 *                       that is not pounds and pence
 *
 * Everything else (a valid NHS number, a known stream, dates in range, text
 * limits, an amount that is negative or not whole pence, a budget period
 * that ends before it starts) is the daemon's to check: it answers REJECTED
 * with its own reason.
 *
 * When it happened (occurred_at): the row's date column. A date with a time
 * ("2026-10-01 09:30", "2026-10-01T09:30:00Z") is that instant in UTC; a date
 * alone is midnight UTC plus the row's index in the file in milliseconds, so
 * that rows of one day keep the order of the file (a later row supersedes an
 * earlier one about the same topic).
 *
 * The source_event_id is stable: derived only from the row's content, so the
 * same row always gets the same id, whatever file it comes in, where in the
 * file, or how often. See jr_rows_id().
 *
 * No I/O. */
#ifndef JR_ROWS_H
#define JR_ROWS_H

#include <stddef.h>

#include "csvin.h"
#include "joinedreview/joinedreview.pb-c.h"
#include "mapping.h"

#define JR_ROWS_ID_MAX     128 /* bytes of a source_event_id, with the NUL */
#define JR_ROWS_REASON_MAX 512
#define JR_ROWS_IDS_MAX    200 /* bytes of an identifier: the contract's limit for names */

/* Which file column holds each field; -1 when the stream has none. */
typedef struct {
    int col[JR_FIELD_COUNT];
    size_t columns; /* the header's */
} jr_rows_binding_t;

/* One row's Envelope. Its strings point into the row it came from
 * (borrowed) or into this struct, so both must outlive its use. */
typedef struct {
    Joinedreview__V1__Envelope env;
    Joinedreview__V1__PersonIds person;
    Joinedreview__V1__Enrolment enrolment;
    Joinedreview__V1__Contribution contribution;
    Joinedreview__V1__ReviewHeld review_held;
    Joinedreview__V1__PlanRevision plan_revision;
    Joinedreview__V1__ReviewPreferences preferences;
    Joinedreview__V1__BudgetStatement budget;
    char stream[32];
    char id[JR_ROWS_ID_MAX];
    char ids[3][JR_ROWS_IDS_MAX + 1]; /* NHS number, NI number, client id, trimmed */
    char dates[7][11];                /* ISO dates converted from the stream's format */
    char *involve[8];                 /* into involve_text */
    char involve_text[8 * (JR_ROWS_IDS_MAX + 1)];
    Joinedreview__V1__Need needs[8];
    char pence[2][24]; /* amounts made whole pence (amounts = pounds) */
} jr_rows_event_t;

/* Finds the mapping's columns in the header row (borrowed). Returns 0, or
 * -1 with a sentence in why naming every missing (or doubled) column. The
 * columns of the fields added with preferences and budgets (known_as
 * onwards) may be missing: an export from before them still goes, and a row
 * that needs one is refused alone (MISSING_VALUE, UNMAPPED_WAY). */
int jr_rows_bind(const jr_mapping_t *m, const jr_csvin_row_t *header, jr_rows_binding_t *b,
                 char *why, size_t why_len);

/* Converts a data row (borrowed), the file's row number `index` (from 0,
 * below the header). Returns 0 with *out filled, or -1 with the reason as
 * "CODE: sentence" in why (at most JR_ROWS_REASON_MAX bytes is enough). */
int jr_rows_convert(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                    size_t index, jr_rows_event_t *out, char *why, size_t why_len);

/* The row's source_event_id: "<key>-<hash>" when the stream has a key column
 * and the row a value in it, else "<hash>". <hash> is 32 hex digits of
 * BLAKE2b-128 over the stream code and, for every column the mapping names
 * (in a fixed order, each with its field name and length), the value with
 * surrounding spaces removed, and spaces and hyphens removed from NHS and NI
 * numbers. The columns of the fields added with preferences and budgets
 * (known_as onwards in jr_field_t) count only when the row has a value in
 * them, so a mapping that gains one keeps every earlier row's id. Columns
 * the mapping does not name, the column order, the file's
 * name and the row's position do not count. <key> is the key column's value
 * with characters other than letters, digits and "-_./" made "_", at most 64
 * bytes. Writes JR_ROWS_ID_MAX bytes at most. */
void jr_rows_id(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                char id[JR_ROWS_ID_MAX]);

/* Parses a date in the stream's format, with an optional time when
 * allow_time: writes "YYYY-MM-DD" to iso and, when ms is non-NULL, the
 * instant (ms since 1970, UTC; *has_time says whether a time was given).
 * Returns 0, or -1 when it is not a real date. */
int jr_rows_parse_date(const char *s, jr_date_format_t fmt, int allow_time, char iso[11],
                       long long *ms, int *has_time);

#endif
