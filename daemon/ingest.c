/* ingest.c -- see ingest.h. */
#include "ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "zap.h"

/* libzmq disconnects a peer whose frame exceeds ZMQ_MAXMSGSIZE without a
 * word (conns.h logs and counts it); keep that as a memory guard well above
 * the configured cap, and answer envelopes between the two with a reason
 * instead. */
#define HARD_FRAME_CAP JR_INGEST_FRAME_CAP

struct jr_ingest {
    void *sock;
    size_t max_message_bytes;
    char endpoint[256];
    uint64_t acks_dropped;
    jr_log_limit_t unreachable_limit;
};

jr_ingest_t *jr_ingest_new(void *zctx, const char *endpoint, size_t max_message_bytes, int queue,
                           int ack_queue, const jr_zap_edge_t *edge, char *err, size_t errlen)
{
    jr_ingest_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->max_message_bytes = max_message_bytes;
    self->unreachable_limit.interval_ms = 10000;
    self->sock = zmq_socket(zctx, ZMQ_ROUTER);
    int one = 1, zero = 0;
    int64_t cap = HARD_FRAME_CAP;
    /* No ZMTP heartbeats (TCP keepalive finds vanished peers instead): in
     * libzmq 4.3.4 a heartbeat falling due on a connection whose peer left
     * while its input was stopped (its queue full) aborts the process
     * (stream_engine_base.cpp:331, _io_error). The queues are bounded in
     * messages both ways; acks beyond ack_queue are dropped, not held. */
    if (self->sock == NULL ||
        zmq_setsockopt(self->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &cap, sizeof cap) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_SNDHWM, &ack_queue, sizeof ack_queue) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_RCVHWM, &queue, sizeof queue) != 0 ||
        jr_zap_secure(self->sock, edge, JR_ZAP_INGEST) != 0 ||
        zmq_bind(self->sock, endpoint) != 0) {
        snprintf(err, errlen, "ingest socket %s: %s", endpoint, zmq_strerror(zmq_errno()));
        jr_ingest_destroy(&self);
        return NULL;
    }
    size_t len = sizeof self->endpoint;
    zmq_getsockopt(self->sock, ZMQ_LAST_ENDPOINT, self->endpoint, &len);
    return self;
}

void jr_ingest_destroy(jr_ingest_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    if ((*self_p)->sock != NULL) {
        zmq_close((*self_p)->sock);
    }
    free(*self_p);
    *self_p = NULL;
}

void *jr_ingest_socket(jr_ingest_t *self)
{
    return self->sock;
}

const char *jr_ingest_endpoint(const jr_ingest_t *self)
{
    return self->endpoint;
}

static void describe_sender(jr_ingest_msg_t *msg)
{
    const char *addr = zmq_msg_gets(&msg->id, "Peer-Address");
    char hex[2 * 16 + 1] = "";
    const unsigned char *id = zmq_msg_data(&msg->id);
    size_t n = zmq_msg_size(&msg->id);
    for (size_t i = 0; i < n && i < 16; i++) {
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    }
    snprintf(msg->sender, sizeof msg->sender, "%s id:%s", addr ? addr : "?", hex);
}

int jr_ingest_recv(jr_ingest_t *self, jr_ingest_msg_t *msg)
{
    memset(msg, 0, sizeof *msg);
    zmq_msg_init(&msg->id);
    zmq_msg_init(&msg->body);
    if (zmq_msg_recv(&msg->id, self->sock, ZMQ_DONTWAIT) < 0) {
        int e = zmq_errno();
        zmq_msg_close(&msg->id);
        zmq_msg_close(&msg->body);
        return (e == EAGAIN || e == EINTR) ? 1 : -1;
    }
    msg->frames = 1;
    describe_sender(msg);
    /* Drain every remaining frame; keep the last as the body candidate. */
    bool empty_second = false;
    for (;;) {
        int more = 0;
        size_t more_len = sizeof more;
        if (zmq_getsockopt(self->sock, ZMQ_RCVMORE, &more, &more_len) != 0 || !more) {
            break;
        }
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, self->sock, 0) < 0) {
            zmq_msg_close(&part);
            break;
        }
        msg->frames++;
        if (msg->frames == 2) {
            empty_second = zmq_msg_size(&part) == 0;
        }
        zmq_msg_move(&msg->body, &part);
        zmq_msg_close(&part);
    }
    const char *uid = msg->frames > 1 ? zmq_msg_gets(&msg->body, "User-Id") : NULL;
    snprintf(msg->user_id, sizeof msg->user_id, "%s", uid ? uid : "");
    if (msg->frames == 2 && !empty_second) {
        msg->delimiter = false;
    } else if (msg->frames == 3 && empty_second) {
        msg->delimiter = true;
    } else {
        msg->verdict = JR_INGEST_BAD_FRAMES;
        msg->delimiter = empty_second;
        return 0;
    }
    if (zmq_msg_size(&msg->body) > self->max_message_bytes) {
        msg->verdict = JR_INGEST_TOO_LARGE;
    }
    return 0;
}

int jr_ingest_reply(jr_ingest_t *self, jr_ingest_msg_t *msg, const uint8_t *ack, size_t len)
{
    int flags = ZMQ_DONTWAIT | ZMQ_SNDMORE;
    if (zmq_send(self->sock, zmq_msg_data(&msg->id), zmq_msg_size(&msg->id), flags) < 0) {
        self->acks_dropped++;
        jr_log_limited(&self->unreachable_limit, JR_LOG_NOTICE, "ingest",
                       "cannot ack %s: %s (it will resend)", msg->sender,
                       zmq_errno() == EAGAIN ? "it is not reading its acks"
                                             : zmq_strerror(zmq_errno()));
        return -1;
    }
    if (msg->delimiter) {
        zmq_send(self->sock, "", 0, flags);
    }
    if (zmq_send(self->sock, ack, len, ZMQ_DONTWAIT) < 0) {
        return -1;
    }
    return 0;
}

void jr_ingest_msg_close(jr_ingest_msg_t *msg)
{
    zmq_msg_close(&msg->id);
    zmq_msg_close(&msg->body);
}

uint64_t jr_ingest_acks_dropped(const jr_ingest_t *self)
{
    return self->acks_dropped;
}
