/* inbox.h -- the directory a back office drops its exports into.
 *
 *   INBOX/NAME.csv                 an export waiting or being read
 *   INBOX/NAME.csv.rejected.csv    its refused rows, written while it is read
 *   INBOX/done/                    finished exports, each with its rejects file
 *   INBOX/failed/                  exports refused as a whole (not CSV, or a
 *                                  column missing), each with NAME.reason.txt
 *
 * An input is a regular file whose name ends in ".csv" (any case), does not
 * start with "." and does not end in ".rejected.csv". Exports should be
 * dropped by renaming them into the inbox (write "NAME.csv.part" or
 * ".NAME.csv", then rename), so that a half-written file is never seen.
 *
 * A file written in place is handed over only once it is complete:
 *
 *   - not open for writing. With jr_inbox_watch(), inotify says so: a file
 *     created or written to (IN_CREATE, IN_MODIFY) waits for IN_CLOSE_WRITE;
 *     a moved-in name (IN_MOVED_TO) is complete. For files no event has
 *     spoken of (there at start-up, in one-shot mode, or after lost
 *     events), a read lease says so: fcntl(F_SETLEASE, F_RDLCK) fails with
 *     EAGAIN while any process has the file open for writing (the lease is
 *     released at once). A lease needs the file's owner or CAP_LEASE; when
 *     the adapter has neither, only the rules below remain.
 *   - unchanged (device, inode, size, modification time) for settle_ms, as
 *     this process has seen it.
 *   - not held: the caller holds a file whose text stops in the middle of a
 *     row (jr_inbox_hold()) until it changes or a time passes.
 *
 * The process must ignore SIGIO: the kernel signals a lease's holder when a
 * writer opens the file, and SIGIO's default action ends the process.
 *
 * One adapter at a time: jr_inbox_open() takes an exclusive flock() on the
 * inbox directory and fails if another process holds it. */
#ifndef JR_INBOX_H
#define JR_INBOX_H

#include <stdbool.h>
#include <stddef.h>

typedef struct jr_inbox jr_inbox_t;

/* Opens and locks `dir` (copied), creating it and its done/ and failed/
 * when missing. Caller owns the result. NULL with a reason in why. */
jr_inbox_t *jr_inbox_open(const char *dir, char *why, size_t why_len);

/* Releases the lock. Accepts NULL or a pointer to NULL; sets *self_p to NULL. */
void jr_inbox_destroy(jr_inbox_t **self_p);

/* The inbox and its done/ and failed/ directories. Borrowed. */
const char *jr_inbox_dir(const jr_inbox_t *self);
const char *jr_inbox_done_dir(const jr_inbox_t *self);
const char *jr_inbox_failed_dir(const jr_inbox_t *self);

/* Whether `name` is an input by the rule above. */
bool jr_inbox_is_input(const char *name);

/* Starts watching the inbox with inotify. Returns the descriptor to poll
 * for reading (owned by the inbox: call jr_inbox_drain() when it is
 * readable), or -1 with errno. */
int jr_inbox_watch(jr_inbox_t *self);

/* Reads the inotify events waiting (none when not watching). Returns 1 when
 * one of them, or one read meanwhile by the other calls, may have made a
 * file complete (a close after writing, a moved-in name, lost events), 0
 * when none did, -1 with errno. */
int jr_inbox_drain(jr_inbox_t *self);

/* The inputs now in the inbox that are complete by the rules above, sorted
 * by name (exports usually carry their date in the name). *wait_ms says
 * when the first of those left out for a time (settling, held) is due to be
 * looked at again (-1: none; a file being written is due when inotify says
 * it was closed). Logs once why a file is being left. Caller owns *names
 * (jr_inbox_free_names()). 0, or -1 with errno. */
int jr_inbox_scan(jr_inbox_t *self, int settle_ms, char ***names, size_t *n, int *wait_ms);

void jr_inbox_free_names(char **names, size_t n);

/* Whether the inbox holds a file called `name`. */
bool jr_inbox_has(const jr_inbox_t *self, const char *name);

/* Which file a name points at, and its size and change time: if any of
 * them differs, the file was replaced or rewritten. */
typedef struct {
    unsigned long long dev, ino, size;
    long long mtime_ns;
} jr_inbox_stamp_t;

/* Opens inbox/`name` for reading (not following a symbolic link) and, when
 * stamp is non-NULL, gives its stamp as it was opened. Returns the file
 * descriptor (caller closes it), or -1 with errno. */
int jr_inbox_open_file(const jr_inbox_t *self, const char *name, jr_inbox_stamp_t *stamp);

/* The stamp of inbox/`name` now. 0, or -1 with errno. */
int jr_inbox_stamp(const jr_inbox_t *self, const char *name, jr_inbox_stamp_t *stamp);

/* Leaves inbox/`name` out of scans while its stamp is `stamp`, for at most
 * wait_ms: the caller found its text stopping in the middle of a row. 0, or
 * -1 with errno. */
int jr_inbox_hold(jr_inbox_t *self, const char *name, const jr_inbox_stamp_t *stamp, int wait_ms);

/* Whether inbox/`name` is open for writing now, as far as inotify or a
 * lease can tell: 1 yes, 0 not that anything shows, -1 with errno when the
 * events cannot be read. */
int jr_inbox_writer(jr_inbox_t *self, const char *name);

/* A name for `name` in done/ that neither it nor its rejects file takes
 * yet: `name` itself, else "STEM~2.csv", "STEM~3.csv", ... 0, or -1. */
int jr_inbox_done_name(const jr_inbox_t *self, const char *name, char *out, size_t out_len);

/* Moves inbox/`name` to failed/ (renamed like done/ on a clash) and writes
 * `reason` beside it as NAME.reason.txt, durably. 0, or -1 with errno. */
int jr_inbox_fail(const jr_inbox_t *self, const char *name, const char *reason);

#endif
