/* publish.h -- the PUB sockets subscribers read consolidated reviews from.
 *
 * Each publication is two frames: the topic ("review", "notice.due.SC",
 * "statistics") and the packed message, which carries its global sequence
 * number. A subscriber that does not read has at most `queue` publications
 * waiting for it in the daemon; beyond that the socket drops what it cannot
 * take (PUB semantics), and the outbox keeps every publication so that the
 * subscriber catches up from it.
 *
 * Who may subscribe is decided once, at the handshake, by the socket's ZAP
 * domain (zap.h): a PUB cannot filter per subscriber, so each feed has its
 * own socket. (libzmq 4.3.4's XPUB_MANUAL, which could, keeps a pointer to a
 * subscriber that left before its subscription was read: a hostile client
 * could make the daemon use freed memory.) */
#ifndef JR_PUBLISH_H
#define JR_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "pseudonym.h"
#include "zap.h"

typedef struct jr_publish jr_publish_t;

/* Binds a PUB, prepared by jr_zap_secure in ZAP `domain`. Caller owns the
 * result; NULL with err filled. */
jr_publish_t *jr_publish_new(void *zctx, const char *endpoint, const jr_zap_edge_t *edge,
                             const char *domain, int queue, char *err, size_t errlen);

/* Drops every subscriber (they reconnect by themselves, and the ZAP handler
 * judges each again): how a revoked key is cut off. 0 or -1. */
int jr_publish_reset(jr_publish_t *self);
void jr_publish_destroy(jr_publish_t **self_p);

const char *jr_publish_endpoint(const jr_publish_t *self);
void *jr_publish_socket(jr_publish_t *self); /* borrowed: for watching its connections */

/* Never blocks. Returns 0, or -1 when the message was dropped. */
int jr_publish_send(jr_publish_t *self, const char *topic, const uint8_t *payload, size_t len);

/* ---- the daemon's feeds ---- */

/* The three feeds every publication fans out to: identifiable (records and
 * notices as they are), pseudonymised (their pseudonymised copies,
 * pseudonym.h) and statistics (statistics alone; every feed carries
 * statistics). */
typedef struct jr_feeds jr_feeds_t;

/* Takes ownership of the three sockets; copies the pseudonym key (NULL: no
 * pseudonymised records, statistics only). Caller owns the result. */
jr_feeds_t *jr_feeds_new(jr_publish_t *identifiable, jr_publish_t *pseudonymised,
                         jr_publish_t *statistics, const uint8_t *pseudonym_key);
void jr_feeds_destroy(jr_feeds_t **self_p);

/* A record or notice, on the identifiable feed and, pseudonymised, on the
 * pseudonymised one. Never blocks; what a socket drops is counted. */
void jr_feeds_publish(jr_feeds_t *self, const char *topic, const uint8_t *payload, size_t len);

/* Statistics, on every feed. */
void jr_feeds_statistics(jr_feeds_t *self, const uint8_t *payload, size_t len);

/* The sockets, in the order identifiable, pseudonymised, statistics
 * (borrowed): for watching their connections and resetting them. */
jr_publish_t *jr_feeds_socket(jr_feeds_t *self, size_t i);
#define JR_FEEDS_N 3

/* Publications a socket dropped (a subscriber at its queue's end). */
uint64_t jr_feeds_dropped(const jr_feeds_t *self);

#endif
