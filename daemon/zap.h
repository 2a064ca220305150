/* zap.h -- the ZAP handler: decides, at each CURVE handshake, whether a
 * client key may connect to a socket.
 *
 * libzmq lets anyone in over CURVE unless a ZAP handler answers on
 * inproc://zeromq.zap.01 in the same context, so this is bound before any
 * public endpoint. Each public socket names its ZAP domain:
 *   ingest          keys that may push for at least one stream
 *   identifiable    keys with the identifiable feed
 *   pseudonymised   keys with the pseudonymised feed
 *   statistics      keys with any feed (the statistics carry no identifier)
 *   catchup         keys with any feed, or one stream's records (each request
 *                   is judged again)
 * The User-Id given to an accepted connection is the client's public key,
 * so that every later message is judged against the allow-list in force
 * then (a revoked key loses its rights on reload). */
#ifndef JR_ZAP_H
#define JR_ZAP_H

#include <stddef.h>

#include "access.h"

#define JR_ZAP_INGEST        "ingest"
#define JR_ZAP_IDENTIFIABLE  "identifiable"
#define JR_ZAP_PSEUDONYMISED "pseudonymised"
#define JR_ZAP_STATISTICS    "statistics"
#define JR_ZAP_CATCHUP       "catchup"

typedef struct jr_zap jr_zap_t;

jr_zap_t *jr_zap_new(void *zctx, char *err, size_t errlen);
void jr_zap_destroy(jr_zap_t **self_p);
void *jr_zap_socket(jr_zap_t *self); /* borrowed, for zmq_poll */

/* What every public socket is given before it binds. */
typedef struct {
    const char *secret_key; /* the daemon's CURVE secret key; NULL: plaintext development */
    int handshake_ms;       /* a connection that has not finished its handshake by then goes */
} jr_zap_edge_t;

/* Prepares a public socket; call before bind. A CURVE server in a ZAP
 * domain (unless plaintext development); connections that do not finish
 * the handshake within edge->handshake_ms are dropped (libzmq's default is
 * 30 s: an idle TCP connection holds a descriptor that long); TCP
 * keepalive finds peers that vanished (after 60 s idle, 6 probes 10 s
 * apart). 0 or -1. */
int jr_zap_secure(void *sock, const jr_zap_edge_t *edge, const char *domain);

/* Answers the waiting handshake requests against `access` (borrowed). */
void jr_zap_handle(jr_zap_t *self, const jr_access_t *access);

#endif
