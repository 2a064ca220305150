/* zap.h -- the ZAP handler: decides, at each CURVE handshake, whether a
 * client key may connect to a socket.
 *
 * libzmq lets anyone in over CURVE unless a ZAP handler answers on
 * inproc://zeromq.zap.01 in the same context, so this is bound before any
 * public endpoint. Each public socket names its ZAP domain:
 *   ingest          keys that may push for at least one stream
 *   identifiable    keys with the identifiable feed
 *   pseudonymised   keys with the pseudonymised or statistics feed
 *   catchup         keys with any feed
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
#define JR_ZAP_CATCHUP       "catchup"

typedef struct jr_zap jr_zap_t;

jr_zap_t *jr_zap_new(void *zctx, char *err, size_t errlen);
void jr_zap_destroy(jr_zap_t **self_p);
void *jr_zap_socket(jr_zap_t *self); /* borrowed, for zmq_poll */

/* Makes a socket a CURVE server in a ZAP domain; call before bind. With a
 * NULL secret key (plaintext development mode) it does nothing. 0 or -1. */
int jr_zap_secure(void *sock, const char *secret_key, const char *domain);

/* Answers the waiting handshake requests against `access` (borrowed). */
void jr_zap_handle(jr_zap_t *self, const jr_access_t *access);

#endif
