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
 * Requests are answered on a thread of their own, over a read-only database
 * session of their own, so a snapshot of a million persons (seconds of
 * reading) or a client that stops reading never holds up ingest. Each answer
 * is read in one REPEATABLE READ transaction and names the last publication
 * committed in it: a snapshot holds exactly the publications up to that
 * sequence, and a subscriber applies what the feed sends after it. The
 * thread owns the ROUTER once started; the daemon's loop never touches it. */
#ifndef JR_CATCHUP_H
#define JR_CATCHUP_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "conns.h"
#include "share.h"
#include "statistics.h"
#include "text.h"
#include "zap.h"

typedef struct jr_catchup jr_catchup_t;

/* What the client that sent a request may read: jr_feed_t bits, from its
 * ZAP User-Id ("" in plaintext mode). Called on the catch-up thread. */
typedef unsigned(jr_catchup_rights_fn)(void *ctx, const char *user_id);

/* Whether the client that sent a request may read one stream's records
 * (access.h, `records`): true with that stream's share in *scope. Called on
 * the catch-up thread. */
typedef bool(jr_catchup_records_fn)(void *ctx, const char *user_id, jr_share_scope_t *scope);

/* Events accepted per second over the last minute, for STATISTICS. Called
 * on the catch-up thread. */
typedef double(jr_catchup_rate_fn)(void *ctx);

/* The day the statistics are for. Called on the catch-up thread. */
typedef jr_day_t(jr_catchup_today_fn)(void *ctx);

typedef struct {
    jr_catchup_rights_fn *rights;
    jr_catchup_rate_fn *rate;
    jr_catchup_today_fn *today;
    void *ctx;
    /* NULL: no pseudonymised data to give; else copied */
    const uint8_t *pseudonym_key;
    /* NULL: no key reads one stream's records */
    jr_catchup_records_fn *records;
} jr_catchup_hooks_t;

/* Binds the ROUTER (prepared by jr_zap_secure in ZAP domain "catchup"; its
 * connections watched by conns, when not NULL) and starts the thread that
 * answers it, reading through its own session on conninfo (connected when
 * first needed). A client with the identifiable feed gets everything; one
 * with only the pseudonymised feed gets pseudonymised publications; one with
 * only statistics gets STATISTICS and nothing else.
 *
 * A client that does not read its answers holds at most 8 replies of at
 * most 1,000 publications in the daemon; the thread waits 2 s for it to read
 * more, then drops the request. Requests queue at most 100 per client, each
 * at most 4 KiB. */
jr_catchup_t *jr_catchup_new(void *zctx, const char *endpoint, const jr_zap_edge_t *edge,
                             jr_conns_t *conns, const char *conninfo, int statement_timeout_ms,
                             const jr_catchup_hooks_t *hooks, char *err, size_t errlen);

/* Stops the thread and frees everything. A snapshot being sent is cut
 * short at its next chunk (the client asks again after the restart). */
void jr_catchup_destroy(jr_catchup_t **self_p);

const char *jr_catchup_endpoint(const jr_catchup_t *self);

#endif
