/* catchup.h -- the catch-up endpoint: a ROUTER that answers subscribers who
 * joined late or missed publications (the Clone pattern).
 *
 * One frame per request (a CatchupRequest, from a DEALER; or after an empty
 * delimiter, from a REQ); the answer is one or more CatchupReply frames of at
 * most 1,000 publications each, the final one marked last. SNAPSHOT sends
 * every current consolidated review and open notice, consistent with the
 * sequence it names; SINCE sends the outbox after a sequence, or TOO_OLD when
 * that is older than the retention; STATISTICS sends the figures now.
 *
 * The daemon has one thread and commits batches synchronously, so between
 * two batches the store holds exactly the publications up to the last
 * committed sequence: that is the sequence a snapshot is consistent with. */
#ifndef JR_CATCHUP_H
#define JR_CATCHUP_H

#include <stddef.h>
#include <stdint.h>

#include "statistics.h"
#include "store_pg.h"

typedef struct jr_catchup jr_catchup_t;

/* Figures for a STATISTICS request; returns 0 or a store status. */
typedef int(jr_catchup_statistics_fn)(void *ctx, jr_statistics_t *out);

jr_catchup_t *jr_catchup_new(void *zctx, const char *endpoint, char *err, size_t errlen);
void jr_catchup_destroy(jr_catchup_t **self_p);

void *jr_catchup_socket(jr_catchup_t *self); /* borrowed, for zmq_poll */
const char *jr_catchup_endpoint(const jr_catchup_t *self);

/* Answers every request waiting (at most 16 per call, so ingest is not
 * starved). last_seq is the last committed sequence number. */
void jr_catchup_handle(jr_catchup_t *self, jr_store_pg_t *store, uint64_t last_seq,
                       jr_catchup_statistics_fn *statistics, void *ctx);

#endif
