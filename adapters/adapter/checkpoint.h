/* checkpoint.h -- how far through one input file the adapter has got,
 * kept durably in the state directory.
 *
 * A checkpoint records, for one input file identified by its content hash,
 * the row below which every row has its final outcome (accepted by the
 * daemon, or refused by it or by the adapter and written to the rejects
 * file). Rows at or above it may have been sent but are not known to be
 * stored: after a crash they are sent again, which the daemon answers with
 * DUPLICATE if they had landed. So a checkpoint never runs ahead of the
 * daemon's acknowledgements, and a restart loses nothing and stores nothing
 * twice.
 *
 * One file per input: <state>/<STREAM>-<input name>.checkpoint, a few lines
 * of "key value" text, replaced atomically and durably (jr_durable_write()). */
#ifndef JR_CHECKPOINT_H
#define JR_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define JR_CHECKPOINT_HASH_HEX 65 /* 64 hex digits and the NUL */
#define JR_CHECKPOINT_NAME_MAX 256

typedef struct {
    char file_hash[JR_CHECKPOINT_HASH_HEX];   /* BLAKE2b-256 of the input's bytes, hex */
    uint64_t rows_done;                       /* every data row below this has its final outcome */
    uint64_t rejects_bytes;                   /* length of <input>.rejected.csv that covers them */
    uint64_t ok, duplicate, parked, rejected; /* outcomes of rows below rows_done */
    /* Set when every row is done and the input is about to move to done/:
     * its name there. A restart that finds it completes the move. */
    char done_name[JR_CHECKPOINT_NAME_MAX];
} jr_checkpoint_t;

/* Reads the checkpoint of input `name` of `stream` from `dir`.
 * Returns 0 when read, 1 when there is none, -1 on an I/O error (errno),
 * -2 when the file is not a checkpoint (the caller starts afresh). */
int jr_checkpoint_load(const char *dir, const char *stream, const char *name, jr_checkpoint_t *out);

/* Writes it durably (temp file, fsync, rename, fsync of dir). 0, or -1 with
 * errno. */
int jr_checkpoint_save(const char *dir, const char *stream, const char *name,
                       const jr_checkpoint_t *cp);

/* Removes it durably; none is not an error. 0, or -1 with errno. */
int jr_checkpoint_remove(const char *dir, const char *stream, const char *name);

/* The input names that have a checkpoint of `stream` in `dir`, sorted.
 * Caller owns *names (free with jr_checkpoint_free_list()). 0, or -1 with
 * errno. */
int jr_checkpoint_list(const char *dir, const char *stream, char ***names, size_t *n);

void jr_checkpoint_free_list(char **names, size_t n);

#endif
