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
#define STATUS_NONE     0
#define STATUS_REFUSED  JR_CLIENT_REJECTED

/* The file being handled. */
typedef struct {
    const char *name;
    jr_csvin_t *csv;
    jr_rows_binding_t bind;
    size_t n;              /* data rows */
    unsigned char *status; /* per row: STATUS_NONE or a final JR_CLIENT_* outcome */
    char **reasons;        /* per refused row, until written to the rejects file */
    size_t wm;             /* watermark: every row below has its final outcome */
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
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hash_hex(const void *data, size_t len, char out[JR_CHECKPOINT_HASH_HEX])
{
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest, data, len, NULL, 0);
    sodium_bin2hex(out, JR_CHECKPOINT_HASH_HEX, digest, sizeof digest);
}

/* ---- outcomes ------------------------------------------------------------------ */

static void log_refusal(jr_feed_t *self, file_t *f, size_t row, const char *who, const char *why)
{
    if (f->logged < LOGGED_REJECTS)
        jr_log(JR_LOG_NOTICE, self->component, "%s line %lu: %s: %s", f->name,
               jr_csvin_line(f->csv, row), who, why);
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
    if (!f || status == JR_CLIENT_ABANDONED || row >= f->n)
        return;
    f->last_answer_ms = mono_ms();
    if (status == JR_CLIENT_REJECTED) {
        char why[JR_ROWS_REASON_MAX + 64];
        snprintf(why, sizeof why, "%s: %s", *code ? code : "REJECTED",
                 *reason ? reason : "the daemon gave no reason");
        free(f->reasons[row]);
        f->reasons[row] = strdup(why);
        log_refusal(self, f, row, "rejected by the daemon", why);
    }
    f->status[row] = (unsigned char)status;
}

/* Moves the watermark over every row with its final outcome, writing the
 * refused ones to the rejects file in row order. 0, or -1 on a write error. */
static int advance(jr_feed_t *self, file_t *f)
{
    while (f->wm < f->n && f->status[f->wm] != STATUS_NONE) {
        size_t row = f->wm;
        switch (f->status[row]) {
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
            snprintf(text, sizeof text, "%s (line %lu)",
                     f->reasons[row] ? f->reasons[row] : "REJECTED", jr_csvin_line(f->csv, row));
            if (jr_rejects_write(f->rejects, row, text) != 0) {
                jr_log(JR_LOG_ERR, self->component, "%s" REJECTED_SUFFIX ": %s", f->name,
                       strerror(errno));
                return -1;
            }
            f->rejected++;
            free(f->reasons[row]);
            f->reasons[row] = NULL;
            break;
        }
        }
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
               f->wm < f->n ? jr_csvin_line(f->csv, f->wm) : 0);
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
            f->reasons[row] = strdup("TOO_LARGE: the row makes an event over 256 KiB: shorten "
                                     "its text");
            f->status[row] = STATUS_REFUSED;
            log_refusal(self, f, row, "refused", "TOO_LARGE");
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
    for (size_t i = 0; f->reasons && i < f->n; i++)
        free(f->reasons[i]);
    free(f->reasons);
    free(f->status);
    jr_rejects_close(&f->rejects);
    jr_csvin_destroy(&f->csv);
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
static int resume_point(jr_feed_t *self, file_t *f, const char *hash)
{
    const char *stream = jr_mapping_stream(self->o.mapping);
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
        f->rejects = jr_rejects_open(rej, f->csv, cp.rejects_bytes);
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
        f->wm = cp.rows_done;
        f->ok = cp.ok;
        f->duplicate = cp.duplicate;
        f->parked = cp.parked;
        f->rejected = cp.rejected;
        if (f->wm > 0)
            jr_log(JR_LOG_NOTICE, self->component,
                   "%s: resuming at row %zu of %zu (line %lu), from its checkpoint", f->name, f->wm,
                   f->n, f->wm < f->n ? jr_csvin_line(f->csv, f->wm) : 0);
        return 0;
    }
    memset(&f->cp, 0, sizeof f->cp);
    snprintf(f->cp.file_hash, sizeof f->cp.file_hash, "%s", hash);
    f->rejects = jr_rejects_open(rej, f->csv, 0);
    if (!f->rejects) {
        jr_log(JR_LOG_ERR, self->component, "%s: %s", rej, strerror(errno));
        return -1;
    }
    return 0;
}

static int run_rows(jr_feed_t *self, file_t *f)
{
    const jr_mapping_t *m = self->o.mapping;
    for (size_t row = f->wm; row < f->n; row++) {
        jr_rows_event_t ev;
        char why[JR_ROWS_REASON_MAX];
        if (jr_rows_convert(m, &f->bind, f->csv, row, &ev, why, sizeof why) != 0) {
            f->reasons[row] = strdup(why);
            f->status[row] = STATUS_REFUSED;
            log_refusal(self, f, row, "refused", why);
        } else {
            int rc = submit(self, f, row, &ev);
            if (rc != 0)
                return rc;
        }
        if (advance(self, f) != 0 || save(self, f, false) != 0)
            return JR_FEED_ERROR;
        if (self->o.tick)
            self->o.tick(self->o.tick_ctx);
        if (self->o.interrupted && *self->o.interrupted)
            return JR_FEED_STOPPED;
    }
    /* Everything is sent: wait for the last answers. */
    while (jr_client_pending(self->client) > 0) {
        int rc = jr_client_flush(self->client, STEP_MS);
        if (rc < 0 && rc != JR_CLIENT_EINTR) {
            jr_log(JR_LOG_ERR, self->component, "%s: %s", f->name, jr_client_strerror(rc));
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

static int feed_once(jr_feed_t *self, const char *name, bool *changed)
{
    file_t f = {.name = name};
    char *data = NULL;
    size_t len = 0;
    char why[1024], hash[JR_CHECKPOINT_HASH_HEX];
    jr_inbox_stamp_t stamp;

    if (!self->client && !(self->client = jr_client_new(self->o.endpoint, &self->client_opts))) {
        jr_log(JR_LOG_ERR, self->component, "cannot use endpoint %s: %s", self->o.endpoint,
               strerror(errno));
        return JR_FEED_ERROR;
    }
    if (jr_inbox_read(self->o.inbox, name, self->o.max_file_bytes, &data, &len, &stamp) != 0) {
        if (errno == EFBIG) {
            snprintf(why, sizeof why, "larger than max_file_bytes (%zu bytes)",
                     self->o.max_file_bytes);
            return refuse_file(self, name, why);
        }
        jr_log(JR_LOG_ERR, self->component, "%s/%s: %s", jr_inbox_dir(self->o.inbox), name,
               strerror(errno));
        return JR_FEED_ERROR;
    }
    hash_hex(data, len, hash);
    f.csv = jr_csvin_parse(data, len, why, sizeof why);
    free(data);
    if (!f.csv)
        return refuse_file(self, name, why);
    if (jr_rows_bind(self->o.mapping, f.csv, &f.bind, why, sizeof why) != 0) {
        jr_csvin_destroy(&f.csv);
        return refuse_file(self, name, why);
    }
    f.n = jr_csvin_rows(f.csv);
    f.status = calloc(f.n ? f.n : 1, 1);
    f.reasons = calloc(f.n ? f.n : 1, sizeof *f.reasons);
    if (!f.status || !f.reasons) {
        jr_log(JR_LOG_ERR, self->component, "%s: out of memory for %zu rows", name, f.n);
        file_free(&f);
        return JR_FEED_ERROR;
    }
    if (resume_point(self, &f, hash) != 0) {
        file_free(&f);
        return JR_FEED_ERROR;
    }
    if (f.wm == 0)
        jr_log(JR_LOG_INFO, self->component, "%s: %zu rows", name, f.n);

    f.last_answer_ms = f.last_save_ms = mono_ms();
    self->cur = &f;
    int rc = run_rows(self, &f);
    if (rc == 0 && !unchanged(self, name, &stamp)) {
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
        return JR_FEED_ACCEPTED;
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
    if (rc != JR_FEED_ACCEPTED && rc != JR_FEED_REJECTS && reset_client(self) != 0)
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
            bool same = false;
            if (here) {
                char *data;
                size_t len;
                char hash[JR_CHECKPOINT_HASH_HEX];
                if (jr_inbox_read(self->o.inbox, name, self->o.max_file_bytes, &data, &len, NULL) ==
                    0) {
                    hash_hex(data, len, hash);
                    free(data);
                    same = strcmp(hash, cp.file_hash) == 0;
                }
            }
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
    free(self);
    *self_p = NULL;
}

void jr_feed_totals(const jr_feed_t *self, jr_feed_totals_t *out)
{
    *out = self->totals;
}
