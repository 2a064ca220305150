/* feed.c -- see feed.h. */
#include "feed.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "csvin.h"
#include "durable.h"
#include "jr_client.h"
#include "log.h"
#include "rejects.h"
#include "rows.h"

#define REJECTED_SUFFIX ".rejected.csv"
#define LOGGED_REJECTS  20    /* per file; the rest are only in the rejects file */
#define QUIET_WARN_MS   10000 /* say so when the daemon has been silent this long */
#define STEP_MS         1000  /* longest blocking wait: checkpoints, ticks, signals */
#define FEED_PIECE      8192  /* bytes given to the reader at a time */
#define STATUS_NONE     0
#define STATUS_REFUSED  JR_CLIENT_REJECTED

/* One row read and not yet below the watermark. */
typedef struct {
    unsigned char status; /* STATUS_NONE or a final JR_CLIENT_* outcome */
    char *reason;         /* refused: why, until written to the rejects file */
    jr_csvin_row_t *row;  /* a copy, until its outcome is final and written */
    unsigned long line;   /* where it starts in the file */
} slot_t;

/* An export read from the top: its descriptor, reader and running hash. */
typedef struct {
    int fd;
    jr_csvin_t *csv;
    crypto_generichash_state hash;
    uint64_t bytes;  /* read so far */
    uint64_t limit;  /* read no further */
    size_t pos, len; /* of the chunk in jr_feed's buf not yet given to the reader */
    bool ended;      /* the reader was told the end */
} source_t;

/* What the first pass over a file learned. */
typedef struct {
    char hash[JR_CHECKPOINT_HASH_HEX]; /* of every byte read */
    uint64_t bytes;
    size_t rows;            /* data rows */
    jr_csvin_row_t *header; /* owned */
    jr_rows_binding_t bind;
    int torn;               /* JR_CSVIN_WHOLE, _TORN_LINE, _TORN_QUOTE */
    char encoding[64];      /* as read: the mapping's or a byte-order mark's */
    jr_inbox_stamp_t stamp; /* as opened */
} survey_t;

/* The file being handled. */
typedef struct {
    const char *name;
    survey_t sv;
    size_t n;     /* data rows */
    slot_t *ring; /* row i is ring[i % ring_cap] while wm <= i < next */
    size_t ring_cap;
    size_t wm;   /* watermark: every row below has its final outcome */
    size_t next; /* rows below this are read */
    size_t held; /* bytes of the row copies in the ring */
    jr_rejects_t *rejects;
    jr_checkpoint_t cp; /* as last saved; counts cover rows below cp.rows_done */
    uint64_t ok, duplicate, parked, rejected; /* rows below wm */
    int64_t last_save_ms;
    int64_t last_answer_ms;
    int64_t last_warn_ms;
    unsigned logged;
} file_t;

struct jr_feed {
    jr_feed_options_t o;
    char component[40];
    jr_client_options_t client_opts;
    jr_client_t *client;
    file_t *cur; /* NULL between files: outcomes then belong to nothing */
    jr_feed_totals_t totals;
    unsigned char *buf; /* JR_CSVIN_CHUNK bytes of a file at a time */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static slot_t *slot(const file_t *f, size_t row)
{
    return &f->ring[row % f->ring_cap];
}

/* Forgets the copy of a row whose outcome needs it no more. */
static void drop_row(file_t *f, slot_t *s)
{
    if (s->row) {
        f->held -= jr_csvin_row_bytes(s->row);
        jr_csvin_row_destroy(&s->row);
    }
}

/* ---- reading a file ----------------------------------------------------------- */

static void source_close(source_t *src)
{
    jr_csvin_destroy(&src->csv);
    if (src->fd >= 0)
        close(src->fd);
    src->fd = -1;
}

/* Opens inbox/`name` to read at most `limit` bytes. 0, or -1 with errno. */
static int source_open(jr_feed_t *self, const char *name, uint64_t limit, source_t *src,
                       jr_inbox_stamp_t *stamp)
{
    memset(src, 0, sizeof *src);
    src->limit = limit;
    src->fd = jr_inbox_open_file(self->o.inbox, name, stamp);
    if (src->fd < 0)
        return -1;
    char why[256];
    src->csv = jr_csvin_new(jr_mapping_encoding(self->o.mapping), why, sizeof why);
    if (!src->csv) {
        /* The mapping's encoding was checked when it was loaded. */
        source_close(src);
        errno = ENOMEM;
        return -1;
    }
    crypto_generichash_init(&src->hash, NULL, 0, 32);
    return 0;
}

enum { SRC_ROW = 1, SRC_END = 0, SRC_NOT_CSV = -1, SRC_IO = -2, SRC_TOO_BIG = -3 };

/* The next row, the header first: SRC_ROW with *row (borrowed until the
 * next call), SRC_END, SRC_NOT_CSV (jr_csvin_error() says why), SRC_IO
 * (errno) or SRC_TOO_BIG (over max_file_bytes). Reads a chunk at a time and
 * gives it to the reader in smaller pieces, so that the rows one piece
 * completes, which the reader holds at once, stay few however short. */
static int source_next(jr_feed_t *self, source_t *src, const jr_csvin_row_t **row)
{
    for (;;) {
        *row = jr_csvin_next(src->csv);
        if (*row)
            return SRC_ROW;
        if (src->ended)
            return SRC_END;
        if (src->pos < src->len) {
            size_t piece = src->len - src->pos < FEED_PIECE ? src->len - src->pos : FEED_PIECE;
            if (jr_csvin_feed(src->csv, self->buf + src->pos, piece) != 0)
                return SRC_NOT_CSV;
            src->pos += piece;
            continue;
        }
        uint64_t left = src->limit - src->bytes;
        size_t want = left < JR_CSVIN_CHUNK ? (size_t)left : JR_CSVIN_CHUNK;
        ssize_t r = want ? read(src->fd, self->buf, want) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return SRC_IO;
        if (r == 0) {
            src->ended = true;
            if (jr_csvin_finish(src->csv) != 0)
                return SRC_NOT_CSV;
            continue;
        }
        src->bytes += (uint64_t)r;
        if (src->bytes > self->o.max_file_bytes)
            return SRC_TOO_BIG;
        crypto_generichash_update(&src->hash, self->buf, (size_t)r);
        src->pos = 0;
        src->len = (size_t)r;
    }
}

static void source_hash(source_t *src, char out[JR_CHECKPOINT_HASH_HEX])
{
    unsigned char digest[32];
    crypto_generichash_final(&src->hash, digest, sizeof digest);
    sodium_bin2hex(out, JR_CHECKPOINT_HASH_HEX, digest, sizeof digest);
}

/* The BLAKE2b-256 of inbox/`name`, read a chunk at a time. 0, or -1 with errno. */
static int hash_file(jr_feed_t *self, const char *name, char out[JR_CHECKPOINT_HASH_HEX])
{
    int fd = jr_inbox_open_file(self->o.inbox, name, NULL);
    if (fd < 0)
        return -1;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    for (;;) {
        ssize_t r = read(fd, self->buf, JR_CSVIN_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            close(fd);
            errno = err;
            return -1;
        }
        if (r == 0)
            break;
        crypto_generichash_update(&st, self->buf, (size_t)r);
    }
    close(fd);
    unsigned char digest[32];
    crypto_generichash_final(&st, digest, sizeof digest);
    sodium_bin2hex(out, JR_CHECKPOINT_HASH_HEX, digest, sizeof digest);
    return 0;
}

enum { SURVEY_OK = 0, SURVEY_REFUSE = 1, SURVEY_ERROR = -1 };

/* survey_t.torn beyond csvin's: the file has no bytes at all. */
#define TORN_EMPTY (JR_CSVIN_TORN_QUOTE + 1)

/* The first pass: reads the whole file once, keeping nothing but its
 * header, to refuse a file that is not CSV, lacks a column or whose header
 * is not text in its encoding before anything of it is sent, and to count
 * its rows and hash it. SURVEY_OK with *sv filled; SURVEY_REFUSE with the
 * reason in why; SURVEY_ERROR (logged). Either way sv->torn says whether
 * the file stopped in the middle of a row (an open quote at the end is
 * also a refusal, which only holds once the file is complete). */
static int survey(jr_feed_t *self, const char *name, survey_t *sv, char *why, size_t why_len)
{
    source_t src;
    why[0] = '\0';
    if (source_open(self, name, UINT64_MAX, &src, &sv->stamp) != 0) {
        jr_log(JR_LOG_ERR, self->component, "%s/%s: %s", jr_inbox_dir(self->o.inbox), name,
               strerror(errno));
        return SURVEY_ERROR;
    }
    int result = SURVEY_OK, rc;
    const jr_csvin_row_t *row;
    size_t rows = 0;
    if (sv->stamp.size > self->o.max_file_bytes) {
        rc = SRC_TOO_BIG;
        goto done;
    }
    while ((rc = source_next(self, &src, &row)) == SRC_ROW) {
        if (sv->header) {
            rows++;
            continue;
        }
        const char *bad = jr_csvin_row_bad_text(row, NULL);
        if (bad) {
            snprintf(why, why_len,
                     "the header: %s: save the export in that encoding, or name its encoding in "
                     "the %s mapping ([stream] encoding)",
                     bad, jr_mapping_stream(self->o.mapping));
            result = SURVEY_REFUSE;
            break;
        }
        if (!(sv->header = jr_csvin_row_copy(row))) {
            jr_log(JR_LOG_ERR, self->component, "%s: out of memory", name);
            result = SURVEY_ERROR;
            break;
        }
        if (jr_rows_bind(self->o.mapping, sv->header, &sv->bind, why, why_len) != 0) {
            result = SURVEY_REFUSE;
            break;
        }
    }
done:
    /* Known when the reading reached the end (a header refused on a line of
     * its own stops it before). An empty file has only been created yet:
     * its writer may not have begun. */
    sv->torn = src.ended && src.bytes == 0 ? TORN_EMPTY : jr_csvin_torn(src.csv);
    snprintf(sv->encoding, sizeof sv->encoding, "%s", jr_csvin_encoding(src.csv));
    if (result == SURVEY_OK) {
        switch (rc) {
        case SRC_END:
            break;
        case SRC_NOT_CSV:
            snprintf(why, why_len, "%s", jr_csvin_error(src.csv));
            result = SURVEY_REFUSE;
            break;
        case SRC_TOO_BIG:
            snprintf(why, why_len, "larger than max_file_bytes (%zu bytes)",
                     self->o.max_file_bytes);
            result = SURVEY_REFUSE;
            break;
        default:
            jr_log(JR_LOG_ERR, self->component, "%s/%s: %s", jr_inbox_dir(self->o.inbox), name,
                   strerror(errno));
            result = SURVEY_ERROR;
            break;
        }
    }
    sv->rows = rows;
    sv->bytes = src.bytes;
    source_hash(&src, sv->hash);
    source_close(&src);
    return result;
}

/* ---- outcomes ------------------------------------------------------------------ */

static void log_refusal(jr_feed_t *self, file_t *f, unsigned long line, const char *who,
                        const char *why)
{
    if (f->logged < LOGGED_REJECTS)
        jr_log(JR_LOG_NOTICE, self->component, "%s line %lu: %s: %s", f->name, line, who, why);
    else if (f->logged == LOGGED_REJECTS)
        jr_log(JR_LOG_NOTICE, self->component,
               "%s: more rows refused; every one is in %s" REJECTED_SUFFIX, f->name, f->name);
    f->logged++;
}

static void on_outcome(void *ctx, const char *stream, const char *id, int status, const char *code,
                       const char *reason, void *user)
{
    (void)stream;
    (void)id;
    jr_feed_t *self = ctx;
    file_t *f = self->cur;
    size_t row = (size_t)(uintptr_t)user - 1;
    /* ABANDONED is not an outcome: the row stays above the watermark and is
     * sent again by the next run. */
    if (!f || status == JR_CLIENT_ABANDONED || row < f->wm || row >= f->next)
        return;
    slot_t *s = slot(f, row);
    f->last_answer_ms = mono_ms();
    if (status == JR_CLIENT_REJECTED) {
        char why[JR_ROWS_REASON_MAX + 64];
        snprintf(why, sizeof why, "%s: %s", *code ? code : "REJECTED",
                 *reason ? reason : "the daemon gave no reason");
        free(s->reason);
        s->reason = strdup(why);
        log_refusal(self, f, s->line, "rejected by the daemon", why);
    } else {
        drop_row(f, s); /* accepted: the rejects file will not need it */
    }
    s->status = (unsigned char)status;
}

/* Moves the watermark over every row with its final outcome, writing the
 * refused ones to the rejects file in row order. 0, or -1 on a write error. */
static int advance(jr_feed_t *self, file_t *f)
{
    while (f->wm < f->next && slot(f, f->wm)->status != STATUS_NONE) {
        slot_t *s = slot(f, f->wm);
        switch (s->status) {
        case JR_CLIENT_OK:
            f->ok++;
            break;
        case JR_CLIENT_DUPLICATE:
            f->duplicate++;
            break;
        case JR_CLIENT_PARKED:
            f->parked++;
            break;
        default: {
            char text[JR_ROWS_REASON_MAX + 96];
            snprintf(text, sizeof text, "%s (line %lu)", s->reason ? s->reason : "REJECTED",
                     s->line);
            if (jr_rejects_write(f->rejects, s->row, text) != 0) {
                jr_log(JR_LOG_ERR, self->component, "%s" REJECTED_SUFFIX ": %s", f->name,
                       strerror(errno));
                return -1;
            }
            f->rejected++;
            break;
        }
        }
        free(s->reason);
        s->reason = NULL;
        drop_row(f, s);
        s->status = STATUS_NONE;
        f->wm++;
    }
    return 0;
}

/* Records the watermark durably: the rejects file first, then the checkpoint
 * that covers it. Unless `force`, only when it moved and checkpoint_ms has
 * passed. 0, or -1 (logged). */
static int save(jr_feed_t *self, file_t *f, bool force)
{
    int64_t now = mono_ms();
    if (!force && (f->wm == f->cp.rows_done || now - f->last_save_ms < self->o.checkpoint_ms))
        return 0;
    jr_checkpoint_t cp = f->cp;
    if (jr_rejects_sync(f->rejects, &cp.rejects_bytes) != 0) {
        jr_log(JR_LOG_ERR, self->component, "%s" REJECTED_SUFFIX ": %s", f->name, strerror(errno));
        return -1;
    }
    cp.rows_done = f->wm;
    cp.ok = f->ok;
    cp.duplicate = f->duplicate;
    cp.parked = f->parked;
    cp.rejected = f->rejected;
    if (jr_checkpoint_save(self->o.state_dir, jr_mapping_stream(self->o.mapping), f->name, &cp) !=
        0) {
        jr_log(JR_LOG_ERR, self->component, "checkpoint of %s in %s: %s", f->name,
               self->o.state_dir, strerror(errno));
        return -1;
    }
    f->cp = cp;
    f->last_save_ms = now;
    return 0;
}

/* Between waits: outcomes in, watermark on, checkpoint, watchdog, and the
 * reasons to stop. Returns 0 to go on, or a JR_FEED_* result. */
static int step(jr_feed_t *self, file_t *f)
{
    if (advance(self, f) != 0 || save(self, f, false) != 0)
        return JR_FEED_ERROR;
    if (self->o.tick)
        self->o.tick(self->o.tick_ctx);
    if (self->o.interrupted && *self->o.interrupted)
        return JR_FEED_STOPPED;
    size_t pending = jr_client_pending(self->client);
    int64_t now = mono_ms();
    int64_t quiet = now - f->last_answer_ms;
    if (pending == 0)
        return 0;
    if (self->o.timeout_ms > 0 && quiet >= self->o.timeout_ms) {
        jr_log(JR_LOG_ERR, self->component,
               "%s: no answer from the daemon at %s for %d s with %zu rows waiting; giving up "
               "for now (progress is saved: the next run resumes at line %lu)",
               f->name, self->o.endpoint, self->o.timeout_ms / 1000, pending,
               f->wm < f->next ? slot(f, f->wm)->line : 0);
        return JR_FEED_TIMEOUT;
    }
    if (quiet >= QUIET_WARN_MS && now - f->last_warn_ms >= 6 * QUIET_WARN_MS) {
        jr_log(JR_LOG_WARNING, self->component,
               "%s: no answer from the daemon at %s for %lld s; %zu rows waiting, still "
               "resending",
               f->name, self->o.endpoint, (long long)(quiet / 1000), pending);
        f->last_warn_ms = now;
    }
    return 0;
}

/* Waits until row `row` may be read: fewer than ring_cap rows between the
 * watermark and it, and the copies held within JR_FEED_HELD_BYTES. The
 * watermark waits only for rows in flight, whose answers (or resends) come.
 * Returns 0, or a JR_FEED_* result. */
static int make_room(jr_feed_t *self, file_t *f, size_t row)
{
    for (;;) {
        if (advance(self, f) != 0)
            return JR_FEED_ERROR;
        if (row - f->wm < f->ring_cap && f->held <= JR_FEED_HELD_BYTES)
            return 0;
        int rc = jr_client_poll(self->client, STEP_MS);
        if (rc < 0 && rc != JR_CLIENT_EINTR) {
            jr_log(JR_LOG_ERR, self->component, "%s: %s", f->name, jr_client_strerror(rc));
            return JR_FEED_ERROR;
        }
        int st = step(self, f);
        if (st != 0)
            return st;
    }
}

/* Submits one converted row, waiting for room in the window as long as it
 * takes. Returns 0, or a JR_FEED_* result. */
static int submit(jr_feed_t *self, file_t *f, size_t row, const jr_rows_event_t *ev)
{
    for (;;) {
        int rc = jr_client_submit(self->client, &ev->env, (void *)(uintptr_t)(row + 1));
        if (rc == 0)
            return 0;
        if (rc == JR_CLIENT_EINFLIGHT) {
            /* An identical row earlier in the file is still in flight: the
             * same id, so wait for its answer; this one is then a DUPLICATE. */
            rc = jr_client_flush(self->client, STEP_MS);
            if (rc < 0 && rc != JR_CLIENT_EINTR)
                goto broken;
        } else if (rc == JR_CLIENT_ETOOBIG) {
            slot_t *s = slot(f, row);
            s->reason = strdup("TOO_LARGE: the row makes an event over 256 KiB: shorten "
                               "its text");
            s->status = STATUS_REFUSED;
            log_refusal(self, f, s->line, "refused", "TOO_LARGE");
            return 0;
        } else if (rc != JR_CLIENT_ETIMEDOUT && rc != JR_CLIENT_EINTR) {
            goto broken;
        }
        int st = step(self, f);
        if (st != 0)
            return st;
        continue;
    broken:
        jr_log(JR_LOG_ERR, self->component, "%s: cannot send: %s (%s)", f->name,
               jr_client_strerror(rc), strerror(errno));
        return JR_FEED_ERROR;
    }
}

/* ---- one file ------------------------------------------------------------------ */

static void file_free(file_t *f)
{
    for (size_t i = f->wm; f->ring && i < f->next; i++) {
        slot_t *s = slot(f, i);
        free(s->reason);
        drop_row(f, s);
    }
    free(f->ring);
    jr_rejects_close(&f->rejects);
    jr_csvin_row_destroy(&f->sv.header);
}

/* "<name>.rejected.csv"; -1 when it would not fit a file name. */
static int rejects_name(char *out, size_t len, const char *name)
{
    int n = snprintf(out, len, "%s" REJECTED_SUFFIX, name);
    if (n < 0 || (size_t)n >= len || (size_t)n > NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Moves the finished input (and its rejects) to done/ as cp->done_name,
 * which the checkpoint recorded first, then removes the checkpoint. */
static int complete_move(jr_feed_t *self, const char *name, const jr_checkpoint_t *cp,
                         bool input_here)
{
    const jr_inbox_t *in = self->o.inbox;
    const char *stream = jr_mapping_stream(self->o.mapping);
    char rej[PATH_MAX], done_rej[PATH_MAX];
    if (rejects_name(rej, sizeof rej, name) != 0 ||
        rejects_name(done_rej, sizeof done_rej, cp->done_name) != 0) {
        jr_log(JR_LOG_ERR, self->component, "%s: the name is too long", name);
        return -1;
    }
    if (input_here &&
        jr_durable_move(jr_inbox_dir(in), name, jr_inbox_done_dir(in), cp->done_name) != 0) {
        jr_log(JR_LOG_ERR, self->component, "moving %s to %s/%s: %s", name, jr_inbox_done_dir(in),
               cp->done_name, strerror(errno));
        return -1;
    }
    if (jr_inbox_has(in, rej) &&
        jr_durable_move(jr_inbox_dir(in), rej, jr_inbox_done_dir(in), done_rej) != 0) {
        jr_log(JR_LOG_ERR, self->component, "moving %s to %s/%s: %s", rej, jr_inbox_done_dir(in),
               done_rej, strerror(errno));
        return -1;
    }
    if (jr_checkpoint_remove(self->o.state_dir, stream, name) != 0) {
        jr_log(JR_LOG_ERR, self->component, "removing the checkpoint of %s: %s", name,
               strerror(errno));
        return -1;
    }
    return 0;
}

/* Every row has its outcome: record the name in done/, move, forget. */
static int finish(jr_feed_t *self, file_t *f)
{
    if (jr_inbox_done_name(self->o.inbox, f->name, f->cp.done_name, sizeof f->cp.done_name) != 0) {
        jr_log(JR_LOG_ERR, self->component, "no free name for %s in %s: %s", f->name,
               jr_inbox_done_dir(self->o.inbox), strerror(errno));
        return JR_FEED_ERROR;
    }
    bool had_rejects = jr_rejects_exists(f->rejects);
    if (save(self, f, true) != 0)
        return JR_FEED_ERROR;
    jr_rejects_close(&f->rejects);
    if (complete_move(self, f->name, &f->cp, true) != 0)
        return JR_FEED_ERROR;

    self->totals.files++;
    self->totals.rows += f->n;
    self->totals.ok += f->ok;
    self->totals.duplicate += f->duplicate;
    self->totals.parked += f->parked;
    self->totals.rejected += f->rejected;
    char where[NAME_MAX + 32] = "";
    if (had_rejects)
        snprintf(where, sizeof where, " (see done/%s" REJECTED_SUFFIX ")", f->cp.done_name);
    jr_log(f->rejected ? JR_LOG_NOTICE : JR_LOG_INFO, self->component,
           "%s: done, %zu rows: %llu ok, %llu duplicate, %llu parked, %llu rejected%s", f->name,
           f->n, (unsigned long long)f->ok, (unsigned long long)f->duplicate,
           (unsigned long long)f->parked, (unsigned long long)f->rejected, where);
    return f->rejected ? JR_FEED_REJECTS : JR_FEED_ACCEPTED;
}

/* The whole file is refused: to failed/ with the reason. */
static int refuse_file(jr_feed_t *self, const char *name, const char *why)
{
    jr_log(JR_LOG_ERR, self->component, "%s: refused as a whole, moved to failed/: %s", name, why);
    char reason[1024];
    snprintf(reason, sizeof reason, "%s: %s", name, why);
    if (jr_inbox_fail(self->o.inbox, name, reason) != 0) {
        jr_log(JR_LOG_ERR, self->component, "moving %s to %s: %s", name,
               jr_inbox_failed_dir(self->o.inbox), strerror(errno));
        return JR_FEED_ERROR;
    }
    jr_checkpoint_remove(self->o.state_dir, jr_mapping_stream(self->o.mapping), name);
    self->totals.failed++;
    return JR_FEED_REJECTS;
}

/* Where to start: the checkpoint's watermark if it is this file's, else 0. */
static int resume_point(jr_feed_t *self, file_t *f)
{
    const char *stream = jr_mapping_stream(self->o.mapping);
    const char *hash = f->sv.hash;
    char rej[PATH_MAX];
    snprintf(rej, sizeof rej, "%s/%s" REJECTED_SUFFIX, jr_inbox_dir(self->o.inbox), f->name);
    jr_checkpoint_t cp;
    int rc = jr_checkpoint_load(self->o.state_dir, stream, f->name, &cp);
    if (rc == -1) {
        jr_log(JR_LOG_ERR, self->component, "checkpoint of %s: %s", f->name, strerror(errno));
        return -1;
    }
    if (rc == -2)
        jr_log(JR_LOG_WARNING, self->component,
               "the checkpoint of %s is damaged; starting the file again (resent rows come "
               "back as duplicates)",
               f->name);
    bool same = rc == 0 && strcmp(cp.file_hash, hash) == 0 && cp.rows_done <= f->n;
    if (rc == 0 && !same)
        jr_log(JR_LOG_INFO, self->component,
               "%s is not the file its checkpoint was for; starting it from the top", f->name);
    if (same) {
        f->rejects = jr_rejects_open(rej, f->sv.header, cp.rejects_bytes);
        if (!f->rejects && errno == ERANGE) {
            jr_log(JR_LOG_WARNING, self->component,
                   "%s" REJECTED_SUFFIX " is shorter than its checkpoint says; starting %s "
                   "again",
                   f->name, f->name);
            same = false;
        } else if (!f->rejects) {
            jr_log(JR_LOG_ERR, self->component, "%s: %s", rej, strerror(errno));
            return -1;
        }
    }
    if (same) {
        f->cp = cp;
        f->cp.done_name[0] = '\0';
        f->wm = f->next = cp.rows_done;
        f->ok = cp.ok;
        f->duplicate = cp.duplicate;
        f->parked = cp.parked;
        f->rejected = cp.rejected;
        return 0;
    }
    memset(&f->cp, 0, sizeof f->cp);
    snprintf(f->cp.file_hash, sizeof f->cp.file_hash, "%s", hash);
    f->rejects = jr_rejects_open(rej, f->sv.header, 0);
    if (!f->rejects) {
        jr_log(JR_LOG_ERR, self->component, "%s: %s", rej, strerror(errno));
        return -1;
    }
    return 0;
}

/* Converts and sends one row read (borrowed), row number `row`. Returns 0,
 * or a JR_FEED_* result. */
static int take_row(jr_feed_t *self, file_t *f, size_t row, const jr_csvin_row_t *r)
{
    int rc = make_room(self, f, row);
    if (rc != 0)
        return rc;
    slot_t *s = slot(f, row);
    *s = (slot_t){.line = jr_csvin_row_line(r), .row = jr_csvin_row_copy(r)};
    if (!s->row) {
        jr_log(JR_LOG_ERR, self->component, "%s: out of memory", f->name);
        return JR_FEED_ERROR;
    }
    f->held += jr_csvin_row_bytes(s->row);
    f->next = row + 1;
    jr_rows_event_t ev;
    char why[JR_ROWS_REASON_MAX];
    if (jr_rows_convert(self->o.mapping, &f->sv.bind, r, row, &ev, why, sizeof why) != 0) {
        s->reason = strdup(why);
        s->status = STATUS_REFUSED;
        log_refusal(self, f, s->line, "refused", why);
    } else if ((rc = submit(self, f, row, &ev)) != 0) {
        return rc;
    }
    if (advance(self, f) != 0 || save(self, f, false) != 0)
        return JR_FEED_ERROR;
    if (self->o.tick)
        self->o.tick(self->o.tick_ctx);
    if (self->o.interrupted && *self->o.interrupted)
        return JR_FEED_STOPPED;
    return 0;
}

/* The second pass: reads the file again from the top, exactly the bytes the
 * first pass read, and sends the rows from the watermark on. *changed is set
 * when the file is no longer what the first pass read. Returns 0 when every
 * row has its outcome (or the file changed), else a JR_FEED_* result. */
static int run_rows(jr_feed_t *self, file_t *f, bool *changed)
{
    source_t src;
    jr_inbox_stamp_t stamp;
    if (source_open(self, f->name, f->sv.bytes, &src, &stamp) != 0) {
        jr_log(JR_LOG_ERR, self->component, "%s/%s: %s", jr_inbox_dir(self->o.inbox), f->name,
               strerror(errno));
        return JR_FEED_ERROR;
    }
    const jr_csvin_row_t *r;
    size_t row = 0;
    bool header = true;
    int rc = 0, got;
    while ((got = source_next(self, &src, &r)) == SRC_ROW) {
        if (header) {
            header = false;
            continue;
        }
        if (row >= f->n) {
            *changed = true;
            break;
        }
        if (row == f->wm && row > 0 && row == f->next)
            jr_log(JR_LOG_NOTICE, self->component,
                   "%s: resuming at row %zu of %zu (line %lu), from its checkpoint", f->name, row,
                   f->n, jr_csvin_row_line(r));
        if (row >= f->next && (rc = take_row(self, f, row, r)) != 0)
            break;
        row++;
    }
    if (rc == 0 && !*changed) {
        char hash[JR_CHECKPOINT_HASH_HEX];
        source_hash(&src, hash);
        if (got == SRC_IO) {
            jr_log(JR_LOG_ERR, self->component, "%s/%s: %s", jr_inbox_dir(self->o.inbox), f->name,
                   strerror(errno));
            rc = JR_FEED_ERROR;
        } else if (got != SRC_END || row != f->n || strcmp(hash, f->sv.hash) != 0) {
            *changed = true; /* what the first pass read was well-formed */
        }
    }
    source_close(&src);
    if (rc != 0 || *changed)
        return rc;
    /* Everything is sent: wait for the last answers. */
    while (jr_client_pending(self->client) > 0) {
        int fl = jr_client_flush(self->client, STEP_MS);
        if (fl < 0 && fl != JR_CLIENT_EINTR) {
            jr_log(JR_LOG_ERR, self->component, "%s: %s", f->name, jr_client_strerror(fl));
            return JR_FEED_ERROR;
        }
        int st = step(self, f);
        if (st != 0)
            return st;
    }
    return advance(self, f) == 0 ? 0 : JR_FEED_ERROR;
}

/* Forgets the rows of an unfinished file still in flight, so that their
 * late answers cannot be taken for rows of the next file: a new client, the
 * old one's envelopes ABANDONED (ignored; they are above the checkpoint and
 * sent again when the file is). */
static int reset_client(jr_feed_t *self)
{
    if (jr_client_pending(self->client) == 0)
        return 0;
    jr_client_destroy(&self->client);
    self->client = jr_client_new(self->o.endpoint, &self->client_opts);
    if (!self->client) {
        jr_log(JR_LOG_ERR, self->component, "cannot use endpoint %s: %s", self->o.endpoint,
               strerror(errno));
        return -1;
    }
    return 0;
}

/* Whether inbox/`name` is still the file that was read. */
static bool unchanged(const jr_feed_t *self, const char *name, const jr_inbox_stamp_t *then)
{
    jr_inbox_stamp_t now;
    return jr_inbox_stamp(self->o.inbox, name, &now) == 0 && now.dev == then->dev &&
           now.ino == then->ino && now.size == then->size && now.mtime_ns == then->mtime_ns;
}

/* The text of the file stops in the middle of a row. Whether it has stayed
 * so for torn_wait_ms (it is then taken as it is); if not, it is held in
 * the inbox until it changes or that time is up. */
static bool torn_long_enough(jr_feed_t *self, file_t *f)
{
    static const char *const what[] = {
        [JR_CSVIN_TORN_LINE] = "its last line has no line end",
        [JR_CSVIN_TORN_QUOTE] = "a quoted field is open at its end",
        [TORN_EMPTY] = "it is empty",
    };
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age =
        ((int64_t)now.tv_sec * 1000000000LL + now.tv_nsec - f->sv.stamp.mtime_ns) / 1000000;
    int64_t left = self->o.torn_wait_ms - (age > 0 ? age : 0);
    if (left <= 0) {
        jr_log(JR_LOG_WARNING, self->component, "%s: %s, unchanged for %d s: taking it as it is%s",
               f->name, what[f->sv.torn], self->o.torn_wait_ms / 1000,
               f->sv.torn == JR_CSVIN_TORN_LINE ? " (its last line is its last row)" : "");
        return true;
    }
    jr_log(JR_LOG_NOTICE, self->component,
           "%s: %s, so it is taken to be still being written: left in the inbox until it "
           "changes (taken as it is once unchanged for %d s)",
           f->name, what[f->sv.torn], self->o.torn_wait_ms / 1000);
    if (jr_inbox_hold(self->o.inbox, f->name, &f->sv.stamp, (int)left) != 0)
        jr_log(JR_LOG_WARNING, self->component, "%s: %s", f->name, strerror(errno));
    return false;
}

static int feed_once(jr_feed_t *self, const char *name, bool *changed)
{
    file_t f = {.name = name};
    char why[1024];

    if (!self->client && !(self->client = jr_client_new(self->o.endpoint, &self->client_opts))) {
        jr_log(JR_LOG_ERR, self->component, "cannot use endpoint %s: %s", self->o.endpoint,
               strerror(errno));
        return JR_FEED_ERROR;
    }
    int sr = survey(self, name, &f.sv, why, sizeof why);
    if (sr != SURVEY_ERROR && f.sv.torn != JR_CSVIN_WHOLE && !torn_long_enough(self, &f)) {
        file_free(&f);
        return JR_FEED_WAITING;
    }
    if (sr != SURVEY_OK) {
        file_free(&f);
        return sr == SURVEY_REFUSE ? refuse_file(self, name, why) : JR_FEED_ERROR;
    }
    f.n = f.sv.rows;
    /* Rows between the watermark and the newest read, at most: a few
     * windows, so that one slow answer does not stop the reading. */
    f.ring_cap = self->o.window * JR_FEED_SPAN_WINDOWS;
    f.ring = calloc(f.ring_cap, sizeof *f.ring);
    if (!f.ring) {
        jr_log(JR_LOG_ERR, self->component, "%s: out of memory", name);
        file_free(&f);
        return JR_FEED_ERROR;
    }
    if (resume_point(self, &f) != 0) {
        file_free(&f);
        return JR_FEED_ERROR;
    }
    if (f.wm == 0)
        jr_log(JR_LOG_INFO, self->component, "%s: %zu rows%s%s", name, f.n,
               strcmp(f.sv.encoding, "UTF-8") ? ", read as " : "",
               strcmp(f.sv.encoding, "UTF-8") ? f.sv.encoding : "");

    f.last_answer_ms = f.last_save_ms = mono_ms();
    self->cur = &f;
    bool reread = false;
    int rc = run_rows(self, &f, &reread);
    if (rc == 0 && (reread || !unchanged(self, name, &f.sv.stamp))) {
        /* Rewritten in place while it was read (exports should arrive by
         * rename): what was read is delivered, but the file now holds
         * something else, so it is read again rather than moved unread. */
        jr_log(JR_LOG_WARNING, self->component,
               "%s changed while it was read; reading it again (drop exports by renaming them "
               "into the inbox)",
               name);
        jr_checkpoint_remove(self->o.state_dir, jr_mapping_stream(self->o.mapping), name);
        *changed = true;
        self->cur = NULL;
        file_free(&f);
        return reset_client(self) == 0 ? JR_FEED_ACCEPTED : JR_FEED_ERROR;
    }
    if (rc == 0 && jr_inbox_writer(self->o.inbox, name) == 1) {
        /* Complete when it was read, but opened for writing again since:
         * it stays, with its checkpoint, until it is complete again. If it
         * is unchanged then, it finishes from there; if not, it is read
         * again from the top (what was sent comes back DUPLICATE). */
        jr_log(JR_LOG_NOTICE, self->component,
               "%s: every row read has its outcome, but the file is open for writing again; "
               "left in the inbox until it is complete",
               name);
        rc = JR_FEED_WAITING;
    }
    if (rc == 0)
        rc = finish(self, &f);
    else if (rc != JR_FEED_ERROR && save(self, &f, true) != 0)
        rc = JR_FEED_ERROR;
    if (rc == JR_FEED_STOPPED)
        jr_log(JR_LOG_NOTICE, self->component,
               "%s: stopped at row %zu of %zu; the next run resumes there", name, f.wm, f.n);
    self->cur = NULL;
    file_free(&f);
    if (rc != JR_FEED_ACCEPTED && rc != JR_FEED_REJECTS && rc != JR_FEED_WAITING &&
        reset_client(self) != 0)
        rc = JR_FEED_ERROR;
    return rc;
}

int jr_feed_file(jr_feed_t *self, const char *name)
{
    for (int attempt = 0;; attempt++) {
        bool changed = false;
        int rc = feed_once(self, name, &changed);
        if (!changed)
            return rc;
        if (attempt == 2) {
            jr_log(JR_LOG_ERR, self->component,
                   "%s keeps changing while it is read; leaving it for later", name);
            return JR_FEED_ERROR;
        }
    }
}

/* ---- start-up ------------------------------------------------------------------- */

int jr_feed_recover(jr_feed_t *self)
{
    const char *stream = jr_mapping_stream(self->o.mapping);
    char **names;
    size_t n;
    if (jr_checkpoint_list(self->o.state_dir, stream, &names, &n) != 0) {
        jr_log(JR_LOG_ERR, self->component, "state directory %s: %s", self->o.state_dir,
               strerror(errno));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name = names[i];
        jr_checkpoint_t cp;
        int lr = jr_checkpoint_load(self->o.state_dir, stream, name, &cp);
        bool here = jr_inbox_has(self->o.inbox, name);
        if (lr == 0 && cp.done_name[0]) {
            /* Finished, but the move to done/ was cut short. */
            char hash[JR_CHECKPOINT_HASH_HEX];
            bool same = here && hash_file(self, name, hash) == 0 && strcmp(hash, cp.file_hash) == 0;
            if (same &&
                jr_inbox_done_name(self->o.inbox, name, cp.done_name, sizeof cp.done_name) != 0)
                same = false;
            jr_log(JR_LOG_NOTICE, self->component,
                   "%s was finished before a restart; completing its move to done/", name);
            rc = complete_move(self, name, &cp, same);
        } else if (lr == 0 && !here) {
            /* The input went away: its progress means nothing now. */
            rc = jr_checkpoint_remove(self->o.state_dir, stream, name);
        } else if (lr < 0) {
            jr_log(JR_LOG_WARNING, self->component,
                   "dropping the unreadable checkpoint of %s (the file starts again)", name);
            rc = jr_checkpoint_remove(self->o.state_dir, stream, name);
        }
    }
    jr_checkpoint_free_list(names, n);
    return rc;
}

/* ---- lifetime -------------------------------------------------------------------- */

jr_feed_t *jr_feed_new(const jr_feed_options_t *opts, char *why, size_t why_len)
{
    if (sodium_init() < 0) {
        snprintf(why, why_len, "libsodium failed to initialise");
        return NULL;
    }
    jr_feed_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    self->o = *opts;
    self->buf = malloc(JR_CSVIN_CHUNK);
    if (!self->buf) {
        snprintf(why, why_len, "out of memory");
        free(self);
        return NULL;
    }
    snprintf(self->component, sizeof self->component, "adapter.%s",
             jr_mapping_stream(opts->mapping));
    self->client_opts = (jr_client_options_t){
        .window = opts->window,
        .ack_timeout_ms = opts->ack_timeout_ms,
        .max_backoff_ms = opts->max_backoff_ms,
        .submit_timeout_ms = STEP_MS,
        .on_outcome = on_outcome,
        .ctx = self,
        .interrupted = opts->interrupted,
        .curve_server_key = opts->curve_server_key,
        .curve_public_key = opts->curve_public_key,
        .curve_secret_key = opts->curve_secret_key,
    };
    self->client = jr_client_new(opts->endpoint, &self->client_opts);
    if (!self->client) {
        snprintf(why, why_len, "cannot use endpoint %s: %s", opts->endpoint, strerror(errno));
        free(self->buf);
        free(self);
        return NULL;
    }
    return self;
}

void jr_feed_destroy(jr_feed_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jr_feed_t *self = *self_p;
    self->cur = NULL;
    jr_client_destroy(&self->client);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

void jr_feed_totals(const jr_feed_t *self, jr_feed_totals_t *out)
{
    *out = self->totals;
}
