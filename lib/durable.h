/* durable.h -- file operations that survive a crash or a power cut.
 *
 * POSIX makes a rename atomic but not durable: the new directory entry is on
 * disk only once the directory itself is fsynced. These helpers do the whole
 * sequence, so that after a crash a file is either wholly old or wholly new,
 * and a moved file is in exactly one of the two directories. */
#ifndef JR_DURABLE_H
#define JR_DURABLE_H

#include <stddef.h>

/* fsyncs the directory `dir`. 0, or -1 with errno. */
int jr_durable_sync_dir(const char *dir);

/* Replaces `dir`/`name` with `len` bytes of `data`: writes `name`.tmp,
 * fsyncs it, renames it over `name` and fsyncs `dir`. 0, or -1 with errno
 * (the old file, if any, is then untouched). */
int jr_durable_write(const char *dir, const char *name, const void *data, size_t len);

/* Renames from_dir/from_name to to_dir/to_name (same file system) and
 * fsyncs both directories. 0, or -1 with errno. */
int jr_durable_move(const char *from_dir, const char *from_name, const char *to_dir,
                    const char *to_name);

/* Removes dir/name and fsyncs dir. A missing file is not an error. 0, or -1
 * with errno. */
int jr_durable_remove(const char *dir, const char *name);

/* Creates `path` and any missing parents (like mkdir -p) with `mode`. An
 * existing directory is not an error. 0, or -1 with errno. */
int jr_durable_mkdirs(const char *path, unsigned mode);

#endif
