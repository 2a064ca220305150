/* stats_worker.h -- the statistics feed's figures computed on a thread of
 * their own, over a read-only database session of their own.
 *
 * The figures read every current record: about 0.8 s at 100,000 persons and
 * 4.7 s at a million. Computed in the daemon's loop they would hold up
 * ingest for that long every statistics interval; here the loop asks, goes
 * on with its work, and collects the answer when the worker's socket is
 * readable. The figures come from one snapshot, with the sequence number of
 * the last publication committed in it.
 *
 * The loop and the worker talk over an inproc PAIR of the daemon's ZeroMQ
 * context; nothing else is shared. The worker connects (and reconnects
 * after a failure) when asked, so a database that is away costs one failed
 * answer, never a stuck loop. */
#ifndef JR_STATS_WORKER_H
#define JR_STATS_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "statistics.h"

typedef struct jr_stats_worker jr_stats_worker_t;

/* Starts the worker. conninfo is copied. NULL on failure (err says why). */
jr_stats_worker_t *jr_stats_worker_new(void *zctx, const char *conninfo, int statement_timeout_ms,
                                       char *err, size_t errlen);

/* Stops the worker (after the answer it is computing, if any) and frees it. */
void jr_stats_worker_destroy(jr_stats_worker_t **self_p);

/* The loop's end of the pair, for zmq_poll (ZMQ_POLLIN: an answer). */
void *jr_stats_worker_socket(jr_stats_worker_t *self);

/* True between an ask and its collect. */
bool jr_stats_worker_busy(const jr_stats_worker_t *self);

/* Asks for the figures as of today ("YYYY-MM-DD"). 0 when asked; -1 when
 * busy or the request could not be sent. */
int jr_stats_worker_ask(jr_stats_worker_t *self, const char *today);

/* Reads the answer: 0 with *st filled (all but ingest_per_second), or -1
 * with err saying why. */
int jr_stats_worker_collect(jr_stats_worker_t *self, jr_statistics_t *st, char *err, size_t errlen);

#endif
