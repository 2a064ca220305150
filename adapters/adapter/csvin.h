/* csvin.h -- one back office's CSV export, read whole with libcsv.
 *
 * The dialect is RFC 4180 as spreadsheets and reporting tools write it: a
 * header row, fields separated by commas, fields in double quotes that may
 * hold commas, doubled quotes ("") and line breaks, CRLF or LF line ends, and
 * an optional UTF-8 byte-order mark at the start. Blank lines are skipped.
 * Spaces around an unquoted field are dropped (libcsv's default).
 *
 * Parsing is strict (CSV_STRICT | CSV_STRICT_FINI): a quote inside an
 * unquoted field, text after a closing quote, or a quoted field that never
 * ends fails the whole file with the line where it happened. A file like
 * that cannot be split into rows without guessing.
 *
 * The whole file is parsed before any row is used, so a broken file is
 * refused before anything is sent. Every row remembers the line it starts on
 * (rows with quoted line breaks span several lines).
 *
 * No network, no files: the caller reads the bytes. */
#ifndef JR_CSVIN_H
#define JR_CSVIN_H

#include <stddef.h>

/* Caps that keep a hostile or corrupt file from exhausting memory. */
#define JR_CSVIN_MAX_FIELDS 1000 /* fields in one row */

typedef struct jr_csvin jr_csvin_t;

/* Parses `len` bytes of CSV. `data` is borrowed; the result holds its own
 * copy of every field. Caller owns the result: free it with
 * jr_csvin_destroy(). Returns NULL with a reason in why (a sentence naming
 * the line) when the text is not well-formed CSV, has no header row, or
 * memory runs out. */
jr_csvin_t *jr_csvin_parse(const void *data, size_t len, char *why, size_t why_len);

/* Accepts NULL or a pointer to NULL; sets *self_p to NULL. */
void jr_csvin_destroy(jr_csvin_t **self_p);

/* Fields in the header row. */
size_t jr_csvin_columns(const jr_csvin_t *self);

/* The header's name of column `col` (< jr_csvin_columns()). Borrowed. */
const char *jr_csvin_header(const jr_csvin_t *self, size_t col);

/* The index of the header column called `name`, compared without regard to
 * case; -1 when there is none, -2 when two columns have that name. */
int jr_csvin_column(const jr_csvin_t *self, const char *name);

/* Data rows (the header is not counted). */
size_t jr_csvin_rows(const jr_csvin_t *self);

/* Fields in data row `row`; may differ from jr_csvin_columns() in a broken
 * row, which the caller refuses. */
size_t jr_csvin_fields(const jr_csvin_t *self, size_t row);

/* Field `col` of data row `row`, NUL-terminated (a field may itself hold a
 * NUL byte: *len, when len is non-NULL, gives the true length). NULL when the
 * row has no such field. Borrowed: valid until jr_csvin_destroy(). */
const char *jr_csvin_field(const jr_csvin_t *self, size_t row, size_t col, size_t *len);

/* The line of the file (1-based, the header is line 1) where data row `row`
 * starts. */
unsigned long jr_csvin_line(const jr_csvin_t *self, size_t row);

#endif
