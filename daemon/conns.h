/* conns.h -- the connections of the daemon's public sockets: counted,
 * capped, and named in the log.
 *
 * libzmq accepts every TCP connection and offers no cap, no reason when it
 * drops one, and no peer address outside messages. A socket monitor on each
 * public socket reports each accepted connection with its descriptor; this
 * module keeps a duplicate of that descriptor for as long as the connection
 * lives, which gives:
 *  - a cap (daemon.max_connections, across the sockets watched): beyond it,
 *    a new connection is shut down at once, before it costs more than its
 *    two descriptors for a moment, so that descriptors, and the database
 *    sessions that need them, are never exhausted by clients;
 *  - the peer's address, for the log;
 *  - why libzmq dropped a connection, which it does not say: when the
 *    daemon's side closed it while the peer was still sending (unread bytes
 *    wait in the socket), the peer sent a frame over the transport's limit
 *    or did not speak ZeroMQ; this is logged (rate-limited) and counted.
 * Holding the duplicate also makes shutting a connection down safe: the
 * descriptor cannot have been closed and reused behind the module's back.
 *
 * Events arrive in order because the daemon's context has one I/O thread
 * (libzmq's default): a connection's DISCONNECTED comes before the ACCEPTED
 * of the next connection given the same descriptor number.
 *
 * Each connection costs two descriptors while it lives (libzmq's and the
 * duplicate); jr_conns_budget() says how many connections a descriptor limit
 * allows. */
#ifndef JR_CONNS_H
#define JR_CONNS_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct jr_conns jr_conns_t;

#define JR_CONNS_SOCKETS_MAX 8

typedef struct {
    uint64_t accepted;      /* connections accepted and kept */
    uint64_t refused;       /* shut down at once: the cap was reached */
    uint64_t dropped_mid;   /* closed by the daemon's side with the peer still sending */
    uint64_t accept_failed; /* accept() failed (descriptors exhausted, say) */
    size_t open;            /* connections open now */
} jr_conns_stats_t;

/* Caller owns the result; NULL when out of memory. */
jr_conns_t *jr_conns_new(void *zctx, size_t max_connections);
void jr_conns_destroy(jr_conns_t **self_p);

/* Watches sock's connections from now on; name ("ingest") is for the log.
 * Call from the thread that owns sock, before it is handed to another one.
 * 0, or -1 with err filled. */
int jr_conns_watch(jr_conns_t *self, void *sock, const char *name, char *err, size_t errlen);

/* Fills up to max poll items (one per watched socket, ZMQ_POLLIN); returns
 * how many. */
size_t jr_conns_pollitems(jr_conns_t *self, zmq_pollitem_t *items, size_t max);

/* Takes every event waiting, without blocking. */
void jr_conns_handle(jr_conns_t *self);

/* How soon jr_conns_handle() wants to run again (ms), or -1: no sooner
 * than the next event. A connection closed while its peer was quiet is
 * watched a moment (200 ms, at most 64 at once) for what the peer sends
 * next: libzmq may have read all that had arrived when it gave up on an
 * oversized frame. */
int jr_conns_timeout_ms(const jr_conns_t *self);

/* Lets go of connections libzmq closed without saying so (checked by the
 * descriptor's socket identity): call every few seconds. */
void jr_conns_sweep(jr_conns_t *self);

/* Lets go of every connection of sock, after its endpoint was unbound (its
 * connections are closed then, and libzmq reports none of them). */
void jr_conns_forget(jr_conns_t *self, void *sock);

/* Changes the cap (on reload). Open connections above it stay. */
void jr_conns_set_max(jr_conns_t *self, size_t max_connections);

jr_conns_stats_t jr_conns_stats(const jr_conns_t *self);

/* The most connections `nofile` descriptors allow with `reserve` of them
 * kept for everything else. */
size_t jr_conns_budget(uint64_t nofile, uint64_t reserve);

#endif
