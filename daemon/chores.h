/* chores.h -- the loop's periodic work, each chore on a one-shot timer of
 * its own that it arms again each time it runs (so a reload's interval
 * applies from its next run):
 *  - the due check (due.h), every daemon.due_check_interval_s and after
 *    every batch that commits; a check with more to do than one round goes
 *    on at the loop's next turn, after the input waiting, so that a large
 *    catch-up (after downtime, or at start-up) never holds up ingest long,
 *    each round reading on from where the last stopped (its pass, kept in
 *    d->due.pass);
 *  - the statistics feed, every daemon.statistics_interval_s: the worker
 *    computes it off the loop (stats_worker.h) and the loop publishes the
 *    answer;
 *  - retention, hourly: publications older than daemon.outbox_retention_days
 *    leave the outbox, and rejected input not seen again within
 *    daemon.rejected_retention_days goes, in rounds between the loop's other
 *    work like the due check's.
 * They run only while the database is connected: a chore whose time comes
 * while it is away is owed, and runs as soon as it is back. */
#ifndef JR_CHORES_H
#define JR_CHORES_H

#include "daemon.h"

/* Registers the three timers; the due check and retention as already due
 * (start-up runs their first rounds). 0, or -1 when the daemon's timers
 * are full. */
int jr_chores_init(jr_daemon_t *d);

/* One round of the due check, publishing the notices it decides. */
void jr_chores_due_check(jr_daemon_t *d);

/* One round of retention. */
void jr_chores_trim(jr_daemon_t *d);

/* Starts the statistics timer; d->stats is running. */
void jr_chores_statistics_start(jr_daemon_t *d);

/* Publishes the statistics worker's answer; its socket was readable. */
void jr_chores_statistics_ready(jr_daemon_t *d);

/* Each turn of the loop: once the database is back, runs the chores owed. */
void jr_chores_resume(jr_daemon_t *d);

#endif
