/* csvin.h -- one back office's CSV export, read as a stream of rows with
 * libcsv, in whatever encoding the export was saved in.
 *
 * The dialect is RFC 4180 as spreadsheets and reporting tools write it: a
 * header row, fields separated by commas, fields in double quotes that may
 * hold commas, doubled quotes ("") and line breaks, CRLF or LF line ends.
 * Blank lines are skipped. Spaces around an unquoted field are dropped
 * (libcsv's default).
 *
 * Parsing is strict (CSV_STRICT | CSV_STRICT_FINI): a quote inside an
 * unquoted field, text after a closing quote, or a quoted field that never
 * ends fails the whole file with the line where it happened. A file like
 * that cannot be split into rows without guessing.
 *
 * Encodings. The text is decoded to UTF-8 with glibc's iconv as it is read.
 * The encoding is the one the reader is made with (an iconv name:
 * "UTF-8", "WINDOWS-1252", "UTF-16", ...), unless the file starts with a
 * byte-order mark, which always wins: EF BB BF is UTF-8, FF FE UTF-16LE,
 * FE FF UTF-16BE (a BOM is never the start of a header in any other
 * encoding, and the adapter's own rejects files carry a UTF-8 one). "UTF-16"
 * or "UTF-32" without a mark is read little-endian, as Windows writes it.
 * Bytes that are not text in the encoding do not stop the file: each such
 * sequence is read as U+FFFD and the row that holds it says so
 * (jr_csvin_row_bad_text()), for the caller to refuse that row alone.
 *
 * Streaming. The caller feeds the file's bytes in chunks of any size and
 * takes the rows completed so far; the reader holds one chunk's worth of
 * decoded text and rows, and the row being read, never the file. Caps keep
 * a hostile or corrupt file from exhausting memory: JR_CSVIN_MAX_FIELDS
 * fields and JR_CSVIN_MAX_ROW_BYTES bytes (decoded) per row; beyond them the
 * file fails with the line.
 *
 * The end of the file: jr_csvin_torn() says whether the text stops in the
 * middle of a row -- its last row has no line end after it, or a quoted
 * field is still open -- as a file still being written does.
 *
 * Every row remembers the line it starts on (rows with quoted line breaks
 * span several lines).
 *
 * No network, no files: the caller reads the bytes. */
#ifndef JR_CSVIN_H
#define JR_CSVIN_H

#include <stdbool.h>
#include <stddef.h>

#define JR_CSVIN_MAX_FIELDS    1000        /* fields in one row */
#define JR_CSVIN_MAX_ROW_BYTES (1 << 20)   /* bytes of one row, decoded, with a NUL per field */
#define JR_CSVIN_CHUNK         (64 * 1024) /* text decoded and parsed at a time */

/* jr_csvin_torn() results. */
enum {
    JR_CSVIN_WHOLE = 0,      /* the last row ends with a line end */
    JR_CSVIN_TORN_LINE = 1,  /* the last row has no line end after it */
    JR_CSVIN_TORN_QUOTE = 2, /* the text stops inside a quoted field */
};

typedef struct jr_csvin jr_csvin_t;

/* One row: its fields, decoded to UTF-8, and the line it starts on. */
typedef struct jr_csvin_row jr_csvin_row_t;

/* A reader of text in `encoding` (an iconv name; NULL is UTF-8), copied.
 * Caller owns the result (jr_csvin_destroy()). NULL with a reason in why
 * when iconv does not know the encoding, or memory runs out. */
jr_csvin_t *jr_csvin_new(const char *encoding, char *why, size_t why_len);

/* Accepts NULL or a pointer to NULL; sets *self_p to NULL. */
void jr_csvin_destroy(jr_csvin_t **self_p);

/* Whether iconv can decode `encoding` to UTF-8. */
bool jr_csvin_encoding_known(const char *encoding);

/* Reads the next `len` bytes of the file (borrowed). The rows they complete
 * wait for jr_csvin_next(); take them all before feeding more. Returns 0, or
 * -1 when the text is not well-formed CSV, breaks a cap or memory runs out:
 * jr_csvin_error() says why, naming the line, and the reader takes nothing
 * more. */
int jr_csvin_feed(jr_csvin_t *self, const void *data, size_t len);

/* The end of the file: completes its last row. 0, or -1 as above (an open
 * quoted field at the end is an error; jr_csvin_torn() then says so too). */
int jr_csvin_finish(jr_csvin_t *self);

/* The next complete row, the header first, or NULL when none is waiting
 * (feed more; after jr_csvin_finish(), the file has no more). Borrowed:
 * valid until the next call of jr_csvin_next(), _feed(), _finish() or
 * _destroy(); jr_csvin_row_copy() keeps one longer. */
const jr_csvin_row_t *jr_csvin_next(jr_csvin_t *self);

/* Why feed or finish failed: "line N: ...". Borrowed; "" when nothing failed. */
const char *jr_csvin_error(const jr_csvin_t *self);

/* After jr_csvin_finish(): a JR_CSVIN_* value above. */
int jr_csvin_torn(const jr_csvin_t *self);

/* The encoding the text is read in, once the first bytes are read: the
 * reader's own, or the one a byte-order mark names. Borrowed. */
const char *jr_csvin_encoding(const jr_csvin_t *self);

/* ---- rows ---- */

/* Fields in the row; for a data row it may differ from the header's count
 * in a broken row, which the caller refuses. */
size_t jr_csvin_row_fields(const jr_csvin_row_t *row);

/* Field `col`, NUL-terminated (a field may itself hold a NUL byte: *len,
 * when len is non-NULL, gives the true length). NULL when the row has no
 * such field. Borrowed from the row. */
const char *jr_csvin_row_field(const jr_csvin_row_t *row, size_t col, size_t *len);

/* The line of the file (1-based, the header is line 1) where the row starts. */
unsigned long jr_csvin_row_line(const jr_csvin_row_t *row);

/* NULL, or what in the row was not text in the encoding, as a phrase:
 * "line 4 has bytes that are not WINDOWS-1252 text (0x81)". *from_bom (when
 * non-NULL) says whether the encoding came from a byte-order mark rather
 * than from the reader's own. Borrowed from the row. */
const char *jr_csvin_row_bad_text(const jr_csvin_row_t *row, bool *from_bom);

/* The index of the field called `name` in a header row, compared without
 * regard to case; -1 when there is none, -2 when two fields have that name. */
int jr_csvin_row_column(const jr_csvin_row_t *header, const char *name);

/* Bytes of memory a copy of the row holds. */
size_t jr_csvin_row_bytes(const jr_csvin_row_t *row);

/* A copy of the row that lives on its own. Caller owns the result
 * (jr_csvin_row_destroy()); NULL when out of memory. */
jr_csvin_row_t *jr_csvin_row_copy(const jr_csvin_row_t *row);

/* Accepts NULL or a pointer to NULL; sets *row_p to NULL. */
void jr_csvin_row_destroy(jr_csvin_row_t **row_p);

#endif
