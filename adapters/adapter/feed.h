/* feed.h -- one export file from the inbox, row by row, to the daemon, with
 * nothing lost and nothing stored twice, in memory that does not grow with
 * the file.
 *
 * For each input file:
 *
 *   1. read it through once (csvin, a chunk at a time, decoding its
 *      encoding), keeping only its header: find the mapping's columns in it
 *      (rows), count the rows and hash the bytes. A file whose text stops
 *      in the middle of a row (no line end after its last row, or a quoted
 *      field still open) is still being written: it is left in the inbox
 *      (JR_FEED_WAITING, and jr_inbox_hold() until it changes) unless it
 *      has not changed for torn_wait_ms, when it is taken as it is: its
 *      last line is its last row (some exporters end the file without a
 *      line end), an open quote refuses it. A file that is not CSV, lacks a
 *      column or whose header is not text in its encoding goes to failed/
 *      with the reason: nothing of it is sent.
 *   2. look for its checkpoint (same name, same content hash): resume from
 *      the row it records, with the rejects file cut back to match.
 *   3. read it again from the top (exactly the bytes the first pass read),
 *      turn each row from the watermark on into an Envelope (or refuse it
 *      with a reason) and submit it through jr_client: a DEALER socket with
 *      a bounded window of rows in flight, resent after the ack timeout and
 *      after RETRY_LATER, with backoff, for as long as it takes.
 *   4. as answers arrive, advance the watermark: the lowest row without a
 *      final outcome. Refused rows below it go to <file>.rejected.csv; the
 *      watermark, the rejects file's length and the counts are checkpointed
 *      durably at most every checkpoint_ms (and when stopping).
 *   5. when every row has its outcome, and the file is the one read and
 *      not open for writing again (jr_inbox_writer(); else it stays, with
 *      its checkpoint, JR_FEED_WAITING), move the file and its rejects to
 *      done/, then remove the checkpoint. Each step is recorded first, so a
 *      crash at any point is completed by jr_feed_recover() at start-up.
 *
 * A row is resent after a crash only if it was above the watermark; the
 * daemon answers it DUPLICATE if it had been stored. If the file is not the
 * same in the second pass (its bytes, its rows) or after it, what was sent
 * stands (the ids are the rows' content) and the file is read again.
 *
 * Memory: the rows between the watermark and the newest row read are kept
 * (a copy of each until its outcome is final and written), at most
 * JR_FEED_SPAN_WINDOWS windows of them and, beyond one row, at most
 * JR_FEED_HELD_BYTES of copies; reading waits while either is reached.
 * With the reader's chunk and row (csvin.h) and jr_client's window of
 * packed envelopes, that bounds the adapter whatever the file's size. */
#ifndef JR_FEED_H
#define JR_FEED_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "inbox.h"
#include "mapping.h"

/* Rows read ahead of the watermark, at most, in windows: room for one slow
 * answer while the rest of the window keeps moving. */
#define JR_FEED_SPAN_WINDOWS 4
/* Copies of rows awaiting their outcome, at most (one row always fits). */
#define JR_FEED_HELD_BYTES (16 * 1024 * 1024)

typedef struct {
    const char *endpoint;               /* the daemon's ingest socket */
    const jr_mapping_t *mapping;        /* borrowed */
    jr_inbox_t *inbox;                  /* borrowed */
    const char *state_dir;              /* checkpoints */
    size_t window;                      /* rows in flight at most */
    int ack_timeout_ms;                 /* resend a row after this long without an answer */
    int max_backoff_ms;                 /* longest wait between resends */
    int timeout_ms;                     /* give up on a file after this long without any answer
                                           while rows wait (0: never) */
    int checkpoint_ms;                  /* at most this long between checkpoints */
    size_t max_file_bytes;              /* larger inputs go to failed/ */
    int torn_wait_ms;                   /* a file whose text stops in the middle of a row is
                                           left until it has not changed for this long, then
                                           taken as it is (0: at once) */
    volatile sig_atomic_t *interrupted; /* set by the signal handler: stop soon */
    /* CURVE, when the daemon requires it (40 Z85 characters each; NULL: plain). */
    const char *curve_server_key, *curve_public_key, *curve_secret_key;
    /* Called about once a second while a file is handled (systemd watchdog). */
    void (*tick)(void *ctx);
    void *tick_ctx;
} jr_feed_options_t;

/* jr_feed_file() results. */
enum {
    JR_FEED_ACCEPTED = 0, /* every row accepted: OK, DUPLICATE or PARKED */
    JR_FEED_REJECTS = 1,  /* finished, but rows were refused (see the rejects file),
                             or the whole file was refused (see failed/) */
    JR_FEED_STOPPED = 2,  /* interrupted: progress checkpointed, the file stays */
    JR_FEED_TIMEOUT = 3,  /* no answer within timeout_ms: progress checkpointed */
    JR_FEED_WAITING = 4,  /* not complete yet (see below): left in the inbox; rows
                             already read keep their outcomes, checkpointed */
    JR_FEED_ERROR = -1,   /* the file could not be read, or the state not written */
};

typedef struct {
    uint64_t files;  /* files finished (moved to done/) */
    uint64_t failed; /* files refused whole (moved to failed/) */
    uint64_t rows;   /* rows with a final outcome */
    uint64_t ok, duplicate, parked, rejected;
} jr_feed_totals_t;

typedef struct jr_feed jr_feed_t;

/* Creates the feed and its jr_client (connected in the background). The
 * options and what they point at are borrowed and must outlive the feed.
 * Caller owns the result. NULL with a reason in why. */
jr_feed_t *jr_feed_new(const jr_feed_options_t *opts, char *why, size_t why_len);

/* Destroys the client (rows still in flight are forgotten: they are above
 * the checkpoint and will be sent again). Accepts NULL or a pointer to NULL. */
void jr_feed_destroy(jr_feed_t **self_p);

/* Completes what a crash interrupted: finishes moving files whose every row
 * was done, and drops checkpoints whose file has gone. 0, or -1 (logged). */
int jr_feed_recover(jr_feed_t *self);

/* Handles inbox/`name` as above. Returns a JR_FEED_* value. */
int jr_feed_file(jr_feed_t *self, const char *name);

void jr_feed_totals(const jr_feed_t *self, jr_feed_totals_t *out);

#endif
