/* dbconn.h -- the writer's database session over the daemon's life: the
 * first connection at start-up (waited for: the migrations need it), and
 * in the loop, reconnecting without ever blocking it.
 *
 * In the loop a connection is made step by step (libpq's PQconnectPoll,
 * its socket in the poll set); an attempt that fails, or a session lost
 * with a batch in hand, waits a backoff (100 ms, doubling up to
 * daemon.reconnect_max_ms) on a one-shot timer before the next. A session
 * libpq found broken while running a statement is reconnected at once,
 * unless that wait is running. While the database is away, envelopes are
 * answered RETRY_LATER (intake.h) and the chores wait (chores.h). */
#ifndef JR_DBCONN_H
#define JR_DBCONN_H

#include <stdbool.h>
#include <zmq.h>

#include "daemon.h"

/* Registers the reconnection timer; before anything connects. 0, or -1
 * when the daemon's timers are full. */
int jr_dbconn_init(jr_daemon_t *d);

/* Start-up: connects (migrating the schema), retrying with a backoff until
 * it succeeds; between attempts calls between(d) (signals) and gives up
 * once d->stopping is set. 0 when connected, -1 when it gave up or another
 * joinedreviewd holds the database during --rebuild. */
int jr_dbconn_start(jr_daemon_t *d, void (*between)(jr_daemon_t *d));

/* Moves reconnection on: starts an attempt when none is running and no
 * backoff is, or advances the one running (its socket was ready). Does
 * nothing while connected. */
void jr_dbconn_step(jr_daemon_t *d);

/* Closes the session (it failed in a way that needs a new one) and retries
 * after the backoff. */
void jr_dbconn_drop(jr_daemon_t *d);

/* While a connection is being made, fills *item with its socket and the
 * readiness it waits for, and returns true; else leaves it and returns
 * false. */
bool jr_dbconn_pollitem(jr_daemon_t *d, zmq_pollitem_t *item);

#endif
