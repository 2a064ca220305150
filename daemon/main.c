/* main.c -- joinedreviewd: start-up, signals, and the one zmq_poll loop
 * that does all the writing.
 *
 * socket -> codec -> batch (domain + store) -> acks -> publish. Two threads
 * only read, each over a read-only session of its own: one answers catch-up
 * requests (catchup.h), one computes the statistics feed (stats_worker.h).
 * Signals arrive through a signalfd in the same poll set: SIGTERM/SIGINT
 * finish the batch in hand and exit; SIGHUP reloads the configuration file
 * (streams and log level; endpoints and the database need a restart).
 *
 * What the loop runs lives in files of its own: a batch taken in
 * (intake.h), the database session (dbconn.h), the chores on timers
 * (chores.h), publication after commit (outbox.h), the configuration in
 * force (settings.h), the command line (options.h); the state they share
 * is daemon.h. Everything that is not input waits on a timer (timers.h):
 * the loop polls until the soonest one, or the conns module's own timeout. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sodium.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <zmq.h>

#include "chores.h"
#include "daemon.h"
#include "dbconn.h"
#include "intake.h"
#include "outbox.h"
#include "rebuild.h"
#include "settings.h"

static int setup_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void handle_signals(jr_daemon_t *d)
{
    struct signalfd_siginfo si;
    while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            jr_settings_reload(d);
        } else {
            jr_log(JR_LOG_NOTICE, "main", "signal %u: finishing and stopping", si.ssi_signo);
            d->stopping = true;
        }
    }
}

/* Every 5 s: lets go of connections libzmq closed quietly, and tells
 * systemd how things stand. */
static void status_line(void *arg)
{
    jr_daemon_t *d = arg;
    jr_conns_sweep(d->conns);
    jr_conns_stats_t c = jr_conns_stats(d->conns);
    sd_notifyf(0,
               "STATUS=%s; ok %llu, duplicate %llu, parked %llu, rejected %llu, retry %llu; "
               "connections %zu (refused at the cap %llu, dropped mid-message %llu); acks "
               "dropped %llu",
               jr_store_pg_connected(d->store) ? "Running" : "Database unreachable",
               (unsigned long long)d->n_ok, (unsigned long long)d->n_duplicate,
               (unsigned long long)d->n_parked, (unsigned long long)d->n_rejected,
               (unsigned long long)d->n_retry, c.open, (unsigned long long)c.refused,
               (unsigned long long)c.dropped_mid,
               (unsigned long long)jr_ingest_acks_dropped(d->ingest));
}

static void watchdog(void *arg)
{
    (void)arg;
    sd_notify(0, "WATCHDOG=1");
}

/* Called on the catch-up thread. */
static jr_day_t today(void *arg)
{
    return jr_daemon_today(arg);
}

static int run_loop(jr_daemon_t *d)
{
    /* The status line, and systemd's watchdog at half the interval it
     * allows (the first at once), registered with the chores' timers. */
    uint64_t watchdog_usec = 0;
    bool watched = sd_watchdog_enabled(0, &watchdog_usec) > 0;
    size_t watchdog_ms = watchdog_usec / 2000 > 0 ? (size_t)(watchdog_usec / 2000) : 1;
    if (jr_timers_every(d->timers, 5000, status_line, d) < 0 ||
        (watched && jr_timers_every(d->timers, watchdog_ms, watchdog, d) < 0)) {
        jr_log(JR_LOG_ERR, "main", "cannot register the loop's timers");
        return -1;
    }
    if (watched) {
        watchdog(d);
    }
    while (!d->stopping) {
        /* A session libpq found broken while running a statement: a new
         * one at once, unless a backoff is running. */
        if (!jr_store_pg_connected(d->store) && !d->db.connecting) {
            jr_dbconn_step(d);
        }
        zmq_pollitem_t items[5 + JR_CONNS_SOCKETS_MAX] = {
            {jr_ingest_socket(d->ingest), 0, ZMQ_POLLIN, 0},
            {NULL, d->sigfd, ZMQ_POLLIN, 0},
            {d->zap ? jr_zap_socket(d->zap) : NULL, -1, d->zap ? ZMQ_POLLIN : 0, 0},
            {jr_stats_worker_socket(d->stats), 0, ZMQ_POLLIN, 0},
            {NULL, -1, 0, 0}, /* the database's socket while connecting */
        };
        bool polls_db = jr_dbconn_pollitem(d, &items[4]);
        int n_items = 5 + (int)jr_conns_pollitems(d->conns, &items[5], JR_CONNS_SOCKETS_MAX);
        long timeout = jr_timers_timeout(d->timers);
        int conns_ms = jr_conns_timeout_ms(d->conns);
        if (conns_ms >= 0 && (timeout < 0 || conns_ms < timeout)) {
            timeout = conns_ms;
        }
        if (zmq_poll(items, n_items, timeout) < 0) {
            if (zmq_errno() == EINTR) {
                continue;
            }
            jr_log(JR_LOG_ERR, "main", "zmq_poll: %s", zmq_strerror(zmq_errno()));
            return -1;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            handle_signals(d);
        }
        jr_conns_handle(d->conns); /* before new input: the cap holds */
        if (items[0].revents & ZMQ_POLLIN) {
            jr_intake_batch(d);
        }
        if (items[2].revents & ZMQ_POLLIN) {
            jr_zap_handle(d->zap, d->access);
        }
        if (items[3].revents & ZMQ_POLLIN) {
            jr_chores_statistics_ready(d);
        }
        jr_intake_rate_now(d); /* the rate decays while nothing arrives */
        if (polls_db && items[4].revents) {
            jr_dbconn_step(d);
        }
        jr_chores_resume(d); /* what came due while the database was away */
        jr_timers_execute(d->timers);
    }
    return 0;
}

static int rebuild(jr_daemon_t *d)
{
    size_t records = 0, differed = 0;
    jr_batch_ctx_t ctx = jr_daemon_batch_ctx(d);
    int rc = jr_rebuild(d->store, &ctx, &records, &differed);
    if (rc != JR_STORE_OK) {
        jr_log(JR_LOG_ERR, "rebuild", "failed: %s", jr_store_pg_error(d->store));
        return 1;
    }
    printf("rebuilt %zu consolidated reviews; %zu differed from the stored ones\n", records,
           differed);
    return differed == 0 ? 0 : 3;
}

/* The public sockets, the ZAP handler before any of them (without one,
 * CURVE lets anyone in), each watched by conns. 0, or -1 (logged). */
static int open_sockets(jr_daemon_t *d)
{
    char err[512];
    const jr_zap_edge_t edge = {d->access ? d->server_secret : NULL, d->cfg->handshake_timeout_ms};
    if (d->access != NULL) {
        d->zap = jr_zap_new(d->zctx, err, sizeof err);
        if (d->zap == NULL) {
            jr_log(JR_LOG_ERR, "main", "%s", err);
            return -1;
        }
    }
    d->ingest = jr_ingest_new(d->zctx, d->cfg->ingest_endpoint, (size_t)d->cfg->max_message_bytes,
                              d->cfg->ingest_queue, d->cfg->ack_queue, &edge, err, sizeof err);
    if (d->ingest == NULL ||
        jr_conns_watch(d->conns, jr_ingest_socket(d->ingest), "ingest", err, sizeof err) != 0) {
        jr_log(JR_LOG_ERR, "main", "%s", err);
        return -1;
    }
    /* The three feeds, each watched; the feeds own them once made. */
    const struct {
        const char *endpoint, *domain, *name;
    } feed_of[JR_FEEDS_N] = {
        {d->cfg->publish_endpoint, JR_ZAP_IDENTIFIABLE, "publish"},
        {d->cfg->pseudonymised_endpoint, JR_ZAP_PSEUDONYMISED, "pseudonymised"},
        {d->cfg->statistics_endpoint, JR_ZAP_STATISTICS, "statistics"},
    };
    jr_publish_t *feed[JR_FEEDS_N] = {NULL};
    for (size_t i = 0; i < JR_FEEDS_N; i++) {
        feed[i] = jr_publish_new(d->zctx, feed_of[i].endpoint, &edge, feed_of[i].domain,
                                 d->cfg->publish_queue, err, sizeof err);
        if (feed[i] == NULL || jr_conns_watch(d->conns, jr_publish_socket(feed[i]), feed_of[i].name,
                                              err, sizeof err) != 0) {
            jr_log(JR_LOG_ERR, "main", "%s", err);
            for (size_t k = 0; k <= i; k++) {
                jr_publish_destroy(&feed[k]);
            }
            return -1;
        }
    }
    d->feeds =
        jr_feeds_new(feed[0], feed[1], feed[2], d->have_pseudonym_key ? d->pseudonym_key : NULL);
    if (d->feeds == NULL) {
        jr_log(JR_LOG_ERR, "main", "cannot start: out of memory");
        for (size_t k = 0; k < JR_FEEDS_N; k++) {
            jr_publish_destroy(&feed[k]);
        }
        return -1;
    }
    jr_catchup_hooks_t hooks = {jr_settings_rights,
                                jr_intake_rate,
                                today,
                                d,
                                d->have_pseudonym_key ? d->pseudonym_key : NULL,
                                jr_settings_records};
    d->catchup =
        jr_catchup_new(d->zctx, d->cfg->catchup_endpoint, &edge, d->conns, d->cfg->database,
                       d->cfg->statement_timeout_ms, &hooks, err, sizeof err);
    if (d->catchup == NULL) {
        jr_log(JR_LOG_ERR, "main", "%s", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    jr_daemon_t d = {
        .sigfd = -1, .opt.clock.fixed_day = JR_DAY_NONE, .access_lock = PTHREAD_MUTEX_INITIALIZER};
    if (jr_options_parse(argc, argv, &d.opt) != 0) {
        return 2;
    }
    d.cfg = jr_options_load_config(&d.opt);
    if (d.cfg == NULL) {
        return 2;
    }
    jr_log_set_level((jr_log_level_t)jr_log_level_from_name(d.cfg->log_level));
    if (d.opt.check_config) {
        /* The secrets too: readable, well formed, and not open to others. */
        int checked = jr_settings_load_secrets(&d) == 0 ? 0 : 1;
        jr_options_print_config(stdout, d.cfg, checked == 0);
        jr_access_destroy(&d.access);
        sodium_memzero(d.server_secret, sizeof d.server_secret);
        sodium_memzero(d.pseudonym_key, sizeof d.pseudonym_key);
        jr_config_destroy(&d.cfg);
        return checked;
    }
    int rc = 1;
    if (sodium_init() < 0) { /* before any thread: libsodium's own set-up */
        jr_log(JR_LOG_ERR, "main", "cannot start: libsodium did not initialise");
        jr_config_destroy(&d.cfg);
        return 1;
    }
    d.sigfd = setup_signals();
    d.store = jr_store_pg_new(d.cfg->database, d.cfg->database_owner, d.cfg->statement_timeout_ms);
    d.metrics = jr_metrics_new();
    d.timers = jr_timers_new();
    if (d.sigfd < 0 || d.store == NULL || d.metrics == NULL || d.timers == NULL ||
        jr_dbconn_init(&d) != 0 || jr_chores_init(&d) != 0) {
        jr_log(JR_LOG_ERR, "main", "cannot start: %s", strerror(errno));
        goto out;
    }
    jr_store_pg_set_rejected_max(d.store, d.cfg->rejected_max_rows);
    if (!d.opt.rebuild && jr_settings_load_secrets(&d) != 0) {
        goto out;
    }
    if (jr_dbconn_start(&d, handle_signals) != 0) {
        goto out;
    }
    if (d.opt.rebuild) {
        rc = rebuild(&d);
        goto out;
    }
    char err[512];
    d.zctx = zmq_ctx_new();
    size_t max_conns = jr_settings_connection_cap(&d);
    d.conns = jr_conns_new(d.zctx, max_conns);
    if (d.zctx == NULL || d.conns == NULL) {
        jr_log(JR_LOG_ERR, "main", "cannot start: out of memory");
        goto out;
    }
    if (open_sockets(&d) != 0) {
        goto out;
    }
    jr_outbox_republish(&d);
    jr_chores_trim(&d);
    jr_chores_due_check(&d); /* notices that fell due while it was down: the first round */
    d.stats =
        jr_stats_worker_new(d.zctx, d.cfg->database, d.cfg->statement_timeout_ms, err, sizeof err);
    if (d.stats == NULL) {
        jr_log(JR_LOG_ERR, "main", "%s", err);
        goto out;
    }
    jr_chores_statistics_start(&d);
    if (d.cfg->metrics_port > 0) {
        d.metrics_server = jr_metrics_server_start(d.metrics, (unsigned)d.cfg->metrics_port);
        if (d.metrics_server == NULL) {
            jr_log(JR_LOG_ERR, "main", "cannot serve metrics on 127.0.0.1:%d: %s",
                   d.cfg->metrics_port, strerror(errno));
            goto out;
        }
        jr_log(JR_LOG_INFO, "main", "metrics on http://127.0.0.1:%u/metrics",
               jr_metrics_server_port(d.metrics_server));
    }
    jr_log(JR_LOG_NOTICE, "main",
           "ready: ingest %s, publish %s, catch-up %s, pseudonymised %s, statistics %s; at most "
           "%zu connections",
           jr_ingest_endpoint(d.ingest), jr_publish_endpoint(jr_feeds_socket(d.feeds, 0)),
           jr_catchup_endpoint(d.catchup), jr_publish_endpoint(jr_feeds_socket(d.feeds, 1)),
           jr_publish_endpoint(jr_feeds_socket(d.feeds, 2)), max_conns);
    sd_notify(0, "READY=1\nSTATUS=Running");
    rc = run_loop(&d) == 0 ? 0 : 1;
    sd_notify(0, "STOPPING=1");
    jr_log(JR_LOG_NOTICE, "main", "stopped: ok %llu, duplicate %llu, parked %llu, rejected %llu",
           (unsigned long long)d.n_ok, (unsigned long long)d.n_duplicate,
           (unsigned long long)d.n_parked, (unsigned long long)d.n_rejected);
out:
    jr_metrics_server_stop(&d.metrics_server);
    jr_stats_worker_destroy(&d.stats);
    jr_ingest_destroy(&d.ingest);
    jr_feeds_destroy(&d.feeds);
    jr_catchup_destroy(&d.catchup);
    jr_zap_destroy(&d.zap);
    jr_conns_destroy(&d.conns);
    jr_access_destroy(&d.access);
    sodium_memzero(d.server_secret, sizeof d.server_secret);
    sodium_memzero(d.pseudonym_key, sizeof d.pseudonym_key);
    if (d.zctx != NULL) {
        zmq_ctx_term(d.zctx);
    }
    jr_store_pg_destroy(&d.store);
    if (d.sigfd >= 0) {
        close(d.sigfd);
    }
    jr_timers_destroy(&d.timers);
    jr_metrics_destroy(&d.metrics);
    jr_config_destroy(&d.cfg);
    return rc;
}
