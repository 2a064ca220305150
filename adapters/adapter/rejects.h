/* rejects.h -- <file>.rejected.csv: the rows of an export that were refused,
 * beside the input, with the reason.
 *
 * The file has the input's header plus a column "reason" (or the input's own
 * "reason" column, refilled, when a corrected rejects file is sent again),
 * then each refused row with its original fields and the reason. Every row
 * has exactly the header's columns, so the reason is always in the reason
 * column: a row with fewer fields than the header is padded with empty
 * ones, and the surplus of a row with more is joined, with the commas that
 * split it off, into the last column before the reason. Every field
 * is written in double quotes with libcsv's csv_fwrite(), so commas, quotes
 * and line breaks survive; lines end in CRLF and the file starts with a
 * UTF-8 byte-order mark, as spreadsheets expect. The file is created with the
 * first refused row: no rejects, no file.
 *
 * Durability: jr_rejects_sync() flushes and fsyncs and says how many bytes
 * are on disk; the caller records that in its checkpoint, and on a restart
 * jr_rejects_open() cuts the file back to it, so a row refused after the last
 * checkpoint is written once, not twice. */
#ifndef JR_REJECTS_H
#define JR_REJECTS_H

#include <stdint.h>

#include "csvin.h"

typedef struct jr_rejects jr_rejects_t;

/* Prepares rejects for the rows of a file with this header row at `path`
 * (copied). keep_bytes is what a checkpoint recorded: the file is cut back
 * to it, or removed when it is 0. `header` is borrowed and must outlive the
 * writer. Caller owns the result.
 * Returns NULL with errno set when the existing file is shorter than
 * keep_bytes (ERANGE: the checkpoint cannot be trusted) or cannot be cut. */
jr_rejects_t *jr_rejects_open(const char *path, const jr_csvin_row_t *header, uint64_t keep_bytes);

/* Appends a data row (borrowed) with `reason`. 0, or -1 with errno. */
int jr_rejects_write(jr_rejects_t *self, const jr_csvin_row_t *row, const char *reason);

/* Flushes and fsyncs what was written; *bytes gets the file's length (0 when
 * there is no file). 0, or -1 with errno. */
int jr_rejects_sync(jr_rejects_t *self, uint64_t *bytes);

/* Rows written since open (not counting those kept from before). */
uint64_t jr_rejects_count(const jr_rejects_t *self);

/* Whether the file exists (something was refused, now or before a restart). */
int jr_rejects_exists(const jr_rejects_t *self);

/* Closes without syncing (call jr_rejects_sync() first to keep it).
 * Accepts NULL or a pointer to NULL; sets *self_p to NULL. */
void jr_rejects_close(jr_rejects_t **self_p);

#endif
