/* daemon.h -- joinedreviewd's state, shared by the files of the daemon's
 * program and by nothing else: main.c (start-up, signals, the loop),
 * options.c, settings.c, dbconn.c, outbox.c, intake.c and chores.c. The
 * modules of jr_core (sockets, store, codec) never see it.
 *
 * One value, made in main() and passed down; no globals. Each group of
 * fields below names the file that writes it; the others only read it.
 * Everything runs on the loop's thread except what the catch-up thread
 * reads through its hooks (jr_settings_rights, jr_settings_records,
 * jr_intake_rate, and today in main.c): access and the streams of the
 * configuration under access_lock, the rate as an atomic, and
 * opt.clock, which nothing changes. */
#ifndef JR_DAEMON_H
#define JR_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "catchup.h"
#include "config.h"
#include "conns.h"
#include "due.h"
#include "ingest.h"
#include "keyfile.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "pseudonym.h"
#include "publish.h"
#include "rate.h"
#include "stats_worker.h"
#include "store_pg.h"
#include "stored.h"
#include "timers.h"
#include "zap.h"

typedef struct jr_daemon {
    /* main.c: what start-up makes, in the order it makes it */
    jr_options_t opt;
    jr_config_t *cfg; /* settings.c applies a reload to it */
    int sigfd;
    bool stopping;
    jr_timers_t *timers; /* the loop's (timers.h); each file registers its own */
    void *zctx;
    jr_conns_t *conns; /* the public sockets' connections: counted and capped */
    jr_zap_t *zap;     /* NULL in plaintext development mode */
    jr_ingest_t *ingest;
    jr_feeds_t *feeds; /* identifiable, pseudonymised and statistics feeds */
    jr_catchup_t *catchup;
    jr_metrics_t *metrics; /* acks, commit latency, reconnects, for GET /metrics */
    jr_metrics_server_t *metrics_server;

    /* settings.c: the secrets and the allow-list */
    jr_access_t *access; /* NULL in plaintext development mode */
    /* The loop replaces the allow-list on reload; the catch-up thread reads
     * it under this lock. */
    pthread_mutex_t access_lock;
    char server_public[JR_KEY_Z85_LEN + 1];
    char server_secret[JR_KEY_Z85_LEN + 1];
    bool have_pseudonym_key;
    uint8_t pseudonym_key[JR_PSEUDONYM_KEY_LEN];

    /* dbconn.c: the writer's session and its reconnection */
    jr_store_pg_t *store;
    struct {
        bool connecting; /* a connection is being made: its socket is polled */
        bool want_write; /* ... for writing, else for reading */
        int backoff_ms;  /* the wait before the next attempt after a failure */
        int retry;       /* the one-shot timer of that wait */
        jr_log_limit_t limit;
    } db;
    uint64_t last_seq; /* last committed sequence number: read at connecting,
                          advanced by intake.c and chores.c as they commit */

    /* outbox.c */
    uint64_t published_seq; /* last sequence number handed to the feeds */

    /* intake.c: counters for STATUS= (metrics has them too) and the rate */
    uint64_t n_ok, n_duplicate, n_parked, n_rejected, n_retry;
    jr_rate_t rate_window; /* accepted events per second over the last minute */
    _Atomic double rate;   /* its figure, for the catch-up thread */

    /* chores.c: each chore's timer, and its rounds in progress */
    jr_stats_worker_t *stats; /* computes the statistics feed off the loop */
    struct {
        int timer;
        bool owed;    /* came due while the database was away */
        bool running; /* between rounds */
        int64_t started_ms;
        size_t sent, persons;
        jr_due_pass_t pass; /* where its pass has got to; dbconn.c resets it */
    } due;
    struct {
        int timer;
        bool owed;
        bool running;
        int64_t started_ms;
        uint64_t deleted, rejects, rounds;
        uint64_t swept; /* the outbox's sweep behind the trim: how far it went */
    } trim;
    struct {
        int timer;
        bool owed;
    } statistics;
} jr_daemon_t;

/* Today: --today, else the system clock's day. Reads nothing the loop
 * changes, so the catch-up thread asks it too. */
static inline jr_day_t jr_daemon_today(const jr_daemon_t *d)
{
    return jr_clock_today(&d->opt.clock);
}

/* What a batch, the due check and --rebuild decide by. */
static inline jr_batch_ctx_t jr_daemon_batch_ctx(const jr_daemon_t *d)
{
    return (jr_batch_ctx_t){d->cfg->streams, d->cfg->rules, jr_daemon_today(d)};
}

#endif
