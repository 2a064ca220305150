/* ingest.h -- the ROUTER socket adapters send envelopes to.
 *
 * A message is [routing id][envelope] from a DEALER, or [routing id][empty
 * delimiter][envelope] from a REQ; the ack goes back in the same shape. The
 * whole multipart message is always drained, whatever its frame count.
 *
 * What one client can make the daemon hold: `queue` envelopes received and
 * not yet read by the loop (each at most JR_INGEST_FRAME_CAP on the wire,
 * answered TOO_LARGE beyond max_message_bytes), the one frame being
 * received, and `ack_queue` acks it has not read. An ack that finds the
 * client's queue full is dropped: the client resends what was not acked, and
 * a resend is answered DUPLICATE. */
#ifndef JR_INGEST_H
#define JR_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "zap.h"

/* The largest frame the transport takes: a bigger one drops the connection
 * (conns.h logs and counts it). */
#define JR_INGEST_FRAME_CAP (4 * 1024 * 1024)

typedef struct jr_ingest jr_ingest_t;

typedef enum {
    JR_INGEST_FRAME_OK = 0,
    JR_INGEST_BAD_FRAMES = 1, /* not [id][envelope] or [id][""][envelope] */
    JR_INGEST_TOO_LARGE = 2,  /* over max_message_bytes */
} jr_ingest_verdict_t;

typedef struct {
    zmq_msg_t id;
    zmq_msg_t body;
    bool delimiter;
    jr_ingest_verdict_t verdict;
    size_t frames;
    char sender[96];  /* "127.0.0.1 id:0080000029" */
    char user_id[64]; /* the ZAP User-Id (client public key); "" in plaintext mode */
} jr_ingest_msg_t;

/* Binds a ROUTER on endpoint, prepared by jr_zap_secure in ZAP domain
 * "ingest". Caller owns the result; NULL with err filled. */
jr_ingest_t *jr_ingest_new(void *zctx, const char *endpoint, size_t max_message_bytes, int queue,
                           int ack_queue, const jr_zap_edge_t *edge, char *err, size_t errlen);
void jr_ingest_destroy(jr_ingest_t **self_p);

void *jr_ingest_socket(jr_ingest_t *self); /* borrowed, for zmq_poll */

/* The endpoint actually bound (resolves tcp://...:* ports). Borrowed. */
const char *jr_ingest_endpoint(const jr_ingest_t *self);

/* Receives one message without waiting. 0: *msg filled (release with
 * jr_ingest_msg_close); 1: nothing waiting; -1: socket error. */
int jr_ingest_recv(jr_ingest_t *self, jr_ingest_msg_t *msg);

/* Sends an ack to msg's sender without blocking. A peer that is gone or not
 * reading is skipped (it will resend what was not acked). 0 sent, -1 not. */
int jr_ingest_reply(jr_ingest_t *self, jr_ingest_msg_t *msg, const uint8_t *ack, size_t len);

void jr_ingest_msg_close(jr_ingest_msg_t *msg);

/* Acks dropped because their client was not reading them, or had gone. */
uint64_t jr_ingest_acks_dropped(const jr_ingest_t *self);

#endif
