/* intake.h -- a batch taken in: what the ingest socket has waiting (up to
 * daemon.batch_max envelopes), judged (frames, the codec, the sender's
 * rights), written in one transaction (batch.h), acked, then published.
 * Nothing is acked before its commit; while the database is away every
 * envelope is answered RETRY_LATER. Also the counts of acks by status and
 * the rate of accepted events the statistics report. */
#ifndef JR_INTAKE_H
#define JR_INTAKE_H

#include "daemon.h"

/* Takes in one batch; the ingest socket was readable. */
void jr_intake_batch(jr_daemon_t *d);

/* Moves the window of accepted events per second on to now and sets
 * d->rate, the figure the statistics and the catch-up thread read: the
 * rate decays while nothing arrives. */
void jr_intake_rate_now(jr_daemon_t *d);

/* The catch-up hook (catchup.h): the rate as the loop last set it; arg is
 * the daemon. Called on the catch-up thread. */
double jr_intake_rate(void *arg);

#endif
