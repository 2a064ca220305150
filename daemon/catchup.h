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

#include "access.h"
#include "statistics.h"
#include "store_pg.h"

typedef struct jr_catchup jr_catchup_t;

/* Figures for a STATISTICS request; returns 0 or a store status. */
typedef int(jr_catchup_statistics_fn)(void *ctx, jr_statistics_t *out);

/* Binds the ROUTER; a CURVE server in ZAP domain "catchup" when secret_key
 * is given. */
jr_catchup_t *jr_catchup_new(void *zctx, const char *endpoint, const char *secret_key, char *err,
                             size_t errlen);
void jr_catchup_destroy(jr_catchup_t **self_p);

void *jr_catchup_socket(jr_catchup_t *self); /* borrowed, for zmq_poll */
const char *jr_catchup_endpoint(const jr_catchup_t *self);

/* What the client that sent a request may read: jr_feed_t bits, from its
 * ZAP User-Id ("" in plaintext mode). */
typedef unsigned(jr_catchup_rights_fn)(void *ctx, const char *user_id);

/* Rewrites a publication for a client who may only see pseudonymised data;
 * returns 0 and a new payload (caller frees), or -1. */
typedef int(jr_catchup_pseudonymise_fn)(void *ctx, const char *topic, const uint8_t *payload,
                                        size_t len, uint8_t **out, size_t *out_len);

typedef struct {
    jr_catchup_statistics_fn *statistics;
    jr_catchup_rights_fn *rights;
    jr_catchup_pseudonymise_fn *pseudonymise; /* NULL: no pseudonymised data to give */
    void *ctx;
} jr_catchup_hooks_t;

/* Answers every request waiting (at most 16 per call, so ingest is not
 * starved). last_seq is the last committed sequence number. A client with
 * the identifiable feed gets everything; one with only the pseudonymised
 * feed gets pseudonymised publications; one with only statistics gets
 * STATISTICS and nothing else. */
void jr_catchup_handle(jr_catchup_t *self, jr_store_pg_t *store, uint64_t last_seq,
                       const jr_catchup_hooks_t *hooks);

#endif
