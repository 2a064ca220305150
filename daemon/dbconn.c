/* dbconn.c -- the writer's session: connecting at start-up, reconnecting
 * in the loop after a backoff on a one-shot timer. */
#include "dbconn.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#define BACKOFF_FIRST_MS 100

static void reconnect_timer(void *arg)
{
    jr_dbconn_step(arg); /* the backoff is over */
}

int jr_dbconn_init(jr_daemon_t *d)
{
    d->db.backoff_ms = BACKOFF_FIRST_MS;
    d->db.limit.interval_ms = 30000;
    d->db.retry = jr_timers_once(d->timers, reconnect_timer, d);
    return d->db.retry >= 0 ? 0 : -1;
}

/* A backoff doubled, up to daemon.reconnect_max_ms. */
static int doubled(const jr_daemon_t *d, int ms)
{
    return ms * 2 > d->cfg->reconnect_max_ms ? d->cfg->reconnect_max_ms : ms * 2;
}

/* The next attempt, after the backoff. */
static void backoff(jr_daemon_t *d)
{
    d->db.connecting = false;
    jr_timers_arm(d->timers, d->db.retry, (size_t)d->db.backoff_ms);
    d->db.backoff_ms = doubled(d, d->db.backoff_ms);
}

void jr_dbconn_drop(jr_daemon_t *d)
{
    jr_store_pg_disconnect(d->store);
    backoff(d);
}

/* A session is made: where the outbox stands. */
static void connected(jr_daemon_t *d)
{
    if (jr_store_pg_last_seq(d->store, &d->last_seq) != JR_STORE_OK) {
        jr_log_limited(&d->db.limit, JR_LOG_ERR, "store", "cannot read the outbox: %s",
                       jr_store_pg_error(d->store));
        jr_dbconn_drop(d);
        return;
    }
    d->db.connecting = false;
    d->db.backoff_ms = BACKOFF_FIRST_MS;
    /* A new session: the due check's next round starts a pass afresh, from
     * the first key, whatever was written while it was away. */
    jr_due_pass_reset(&d->due.pass);
    jr_log(JR_LOG_NOTICE, "store", "connected to the database (last sequence %llu)",
           (unsigned long long)d->last_seq);
    sd_notify(0, "STATUS=Running: database connected");
}

int jr_dbconn_start(jr_daemon_t *d, void (*between)(jr_daemon_t *d))
{
    int backoff_ms = 200;
    sd_notify(0, "STATUS=Connecting to the database");
    for (;;) {
        int rc = jr_store_pg_connect_wait(d->store, 10000);
        if (rc == JR_STORE_OK) {
            break;
        }
        if (rc == JR_STORE_BUSY && d->opt.rebuild) {
            jr_log(JR_LOG_ERR, "rebuild",
                   "joinedreviewd is running against this database (it holds the writer's "
                   "lock): stop it first, then rebuild");
            return -1;
        }
        jr_log_limited(&d->db.limit, JR_LOG_WARNING, "store", "%s; retrying",
                       jr_store_pg_error(d->store));
        struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        between(d);
        if (d->stopping) {
            return -1;
        }
        backoff_ms = doubled(d, backoff_ms);
    }
    connected(d);
    return jr_store_pg_connected(d->store) ? 0 : -1;
}

void jr_dbconn_step(jr_daemon_t *d)
{
    if (jr_store_pg_connected(d->store)) {
        return;
    }
    if (!d->db.connecting) {
        if (jr_timers_armed(d->timers, d->db.retry)) {
            return; /* backing off */
        }
        if (jr_store_pg_connect_start(d->store) != JR_STORE_OK) {
            jr_log_limited(&d->db.limit, JR_LOG_WARNING, "store", "%s",
                           jr_store_pg_error(d->store));
            backoff(d);
            return;
        }
        d->db.connecting = true;
    }
    int rc = jr_store_pg_connect_poll(d->store, &d->db.want_write);
    if (rc == JR_STORE_OK) {
        connected(d);
        jr_metrics_db_reconnect(d->metrics);
    } else if (rc != 1) {
        jr_log_limited(&d->db.limit, JR_LOG_WARNING, "store", "%s; retrying in %d ms",
                       jr_store_pg_error(d->store), d->db.backoff_ms);
        sd_notify(0, "STATUS=Database unreachable: answering RETRY_LATER");
        backoff(d);
    }
}

bool jr_dbconn_pollitem(jr_daemon_t *d, zmq_pollitem_t *item)
{
    if (!d->db.connecting || jr_store_pg_socket(d->store) < 0) {
        return false;
    }
    item->fd = jr_store_pg_socket(d->store);
    item->events = d->db.want_write ? ZMQ_POLLOUT : ZMQ_POLLIN;
    return true;
}
