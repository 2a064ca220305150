/* publish.h -- the PUB socket subscribers read consolidated reviews from.
 *
 * Each publication is two frames: the topic ("review") and the packed
 * message, which carries its global sequence number. PUB drops what a slow
 * subscriber cannot take; the outbox table keeps every publication so that
 * nothing is lost to a subscriber that catches up from it. */
#ifndef JR_PUBLISH_H
#define JR_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

typedef struct jr_publish jr_publish_t;

/* Binds a PUB; a CURVE server in ZAP `domain` when secret_key is given. */
jr_publish_t *jr_publish_new(void *zctx, const char *endpoint, const char *secret_key,
                             const char *domain, char *err, size_t errlen);

/* Drops every subscriber (they reconnect by themselves, and the ZAP handler
 * judges each again): how a revoked key is cut off. 0 or -1. */
int jr_publish_reset(jr_publish_t *self);
void jr_publish_destroy(jr_publish_t **self_p);

const char *jr_publish_endpoint(const jr_publish_t *self);

/* Never blocks. Returns 0, or -1 when the message was dropped. */
int jr_publish_send(jr_publish_t *self, const char *topic, const uint8_t *payload, size_t len);

#endif
