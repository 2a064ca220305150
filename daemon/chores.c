/* chores.c -- the due check, the statistics feed and retention, each on
 * its timer, each run only while the database is connected. */
#include "chores.h"

#include <stdlib.h>

#include "due.h"
#include "intake.h"
#include "outbox.h"
#include "record.h"

/* Rows per round of retention, so that a day's worth at a million persons
 * never holds up ingest; a subscriber asking for them is told to take a
 * snapshot. */
#define TRIM_ROUND 5000

/* A chore's time has come: it runs now while the database is connected,
 * else it is owed until jr_chores_resume() finds it back. */
static void run(jr_daemon_t *d, bool *owed, void (*chore)(jr_daemon_t *d))
{
    if (!jr_store_pg_connected(d->store)) {
        *owed = true;
        return;
    }
    chore(d);
}

void jr_chores_due_check(jr_daemon_t *d)
{
    int64_t now = jr_clock_mono_ms();
    d->due.owed = false;
    jr_timers_arm(d->timers, d->due.timer, (size_t)d->cfg->due_check_interval_s * 1000);
    if (!jr_store_pg_connected(d->store)) {
        return;
    }
    if (!d->due.running) {
        d->due.running = true;
        d->due.started_ms = now;
        d->due.sent = d->due.persons = 0;
    }
    jr_batch_ctx_t ctx = jr_daemon_batch_ctx(d);
    jr_publications_t pubs = {0};
    size_t sent = 0, persons = 0;
    bool more = false;
    int rc =
        jr_due_check(d->store, &ctx, &d->due.pass, &d->last_seq, &pubs, &sent, &persons, &more);
    jr_outbox_publish(d, &pubs);
    d->due.sent += sent;
    d->due.persons += persons;
    if (rc != JR_STORE_OK) {
        jr_log(JR_LOG_WARNING, "due", "due check failed: %s", jr_store_pg_error(d->store));
        d->due.running = false;
    } else if (more) {
        jr_timers_arm(d->timers, d->due.timer, 0); /* the next round, after any waiting input */
    } else {
        d->due.running = false;
        if (d->due.persons > 0) {
            jr_log(JR_LOG_INFO, "due",
                   "due check: %zu persons settled, %zu notices published in %lld ms",
                   d->due.persons, d->due.sent,
                   (long long)(jr_clock_mono_ms() - d->due.started_ms));
        }
    }
}

/* Asks the worker for the figures (unless it is still computing the last
 * ones); jr_chores_statistics_ready() publishes its answer. */
static void ask_statistics(jr_daemon_t *d)
{
    d->statistics.owed = false;
    jr_chores_statistics_start(d); /* the next ask, an interval from now */
    char today[11];
    jr_text_format_date(jr_daemon_today(d), today);
    if (!jr_stats_worker_busy(d->stats)) {
        jr_stats_worker_ask(d->stats, today);
    }
}

void jr_chores_statistics_start(jr_daemon_t *d)
{
    jr_timers_arm(d->timers, d->statistics.timer, (size_t)d->cfg->statistics_interval_s * 1000);
}

void jr_chores_statistics_ready(jr_daemon_t *d)
{
    static jr_log_limit_t limit = {.interval_ms = 60000};
    jr_statistics_t st;
    char err[256];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (jr_stats_worker_collect(d->stats, &st, err, sizeof err) != 0) {
        jr_log_limited(&limit, JR_LOG_WARNING, "statistics", "statistics not published: %s", err);
        return;
    }
    jr_intake_rate_now(d);
    st.ingest_per_second = jr_intake_rate(d);
    if (jr_record_encode_statistics(&st, &buf, &len) == 0) {
        jr_feeds_statistics(d->feeds, buf, len);
    }
    free(buf);
}

void jr_chores_trim(jr_daemon_t *d)
{
    if (!jr_store_pg_connected(d->store)) {
        return; /* its timer stands; once due, it is owed until the database is back */
    }
    d->trim.owed = false;
    if (!d->trim.running) {
        d->trim.running = true;
        d->trim.started_ms = jr_clock_mono_ms();
        d->trim.deleted = d->trim.rejects = d->trim.rounds = 0;
    }
    uint64_t passed = 0, deleted = 0, rejects = 0;
    int rc = jr_store_pg_outbox_trim(d->store, d->cfg->outbox_retention_days, TRIM_ROUND,
                                     &d->trim.swept, &passed, &deleted);
    if (rc == JR_STORE_OK) {
        /* Rejected input not seen again within its retention goes too. */
        rc = jr_store_pg_rejected_trim(d->store, d->cfg->rejected_retention_days, TRIM_ROUND,
                                       &rejects);
    }
    d->trim.deleted += deleted;
    d->trim.rejects += rejects;
    d->trim.rounds++;
    if (rc == JR_STORE_OK && (passed == TRIM_ROUND || rejects == TRIM_ROUND)) {
        jr_timers_arm(d->timers, d->trim.timer, 0); /* the next round, after any waiting input */
        return;
    }
    if (rc != JR_STORE_OK) {
        jr_log(JR_LOG_WARNING, "publish", "outbox not trimmed: %s", jr_store_pg_error(d->store));
    } else if (d->trim.deleted > 0) {
        jr_log(JR_LOG_INFO, "publish",
               "%llu publications older than %d days left the outbox in %llu round%s, %lld ms",
               (unsigned long long)d->trim.deleted, d->cfg->outbox_retention_days,
               (unsigned long long)d->trim.rounds, d->trim.rounds == 1 ? "" : "s",
               (long long)(jr_clock_mono_ms() - d->trim.started_ms));
    }
    if (rc == JR_STORE_OK && d->trim.rejects > 0) {
        jr_log(JR_LOG_INFO, "ingest", "%llu rejected messages not seen for %d days were dropped",
               (unsigned long long)d->trim.rejects, d->cfg->rejected_retention_days);
    }
    d->trim.running = false;
    jr_timers_arm(d->timers, d->trim.timer, 3600 * 1000);
}

static void due_timer(void *arg)
{
    jr_daemon_t *d = arg;
    run(d, &d->due.owed, jr_chores_due_check);
}

static void statistics_timer(void *arg)
{
    jr_daemon_t *d = arg;
    run(d, &d->statistics.owed, ask_statistics);
}

static void trim_timer(void *arg)
{
    jr_daemon_t *d = arg;
    run(d, &d->trim.owed, jr_chores_trim);
}

int jr_chores_init(jr_daemon_t *d)
{
    d->due.timer = jr_timers_once(d->timers, due_timer, d);
    d->statistics.timer = jr_timers_once(d->timers, statistics_timer, d);
    d->trim.timer = jr_timers_once(d->timers, trim_timer, d);
    if (d->due.timer < 0 || d->statistics.timer < 0 || d->trim.timer < 0) {
        return -1;
    }
    jr_timers_arm(d->timers, d->due.timer, 0);
    jr_timers_arm(d->timers, d->trim.timer, 0);
    return 0;
}

void jr_chores_resume(jr_daemon_t *d)
{
    if (!jr_store_pg_connected(d->store)) {
        return;
    }
    if (d->due.owed) {
        run(d, &d->due.owed, jr_chores_due_check);
    }
    if (d->statistics.owed) {
        run(d, &d->statistics.owed, ask_statistics);
    }
    if (d->trim.owed) {
        run(d, &d->trim.owed, jr_chores_trim);
    }
}
