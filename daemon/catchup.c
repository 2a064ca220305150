/* catchup.c -- see catchup.h. */
#include "catchup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "codec.h"
#include "log.h"
#include "zap.h"

#define CHUNK             1000  /* publications per reply */
#define SINCE_MAX         10000 /* publications per SINCE request */
#define MAX_REQUEST       4096  /* bytes */
#define REQUESTS_PER_CALL 16

struct jr_catchup {
    void *sock;
    char endpoint[256];
};

jr_catchup_t *jr_catchup_new(void *zctx, const char *endpoint, const char *secret_key, char *err,
                             size_t errlen)
{
    jr_catchup_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->sock = zmq_socket(zctx, ZMQ_ROUTER);
    int one = 1, zero = 0, sndtimeo = 2000, hwm = 1000;
    int64_t cap = 64 * 1024;
    if (self->sock == NULL ||
        zmq_setsockopt(self->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &cap, sizeof cap) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        jr_zap_secure(self->sock, secret_key, JR_ZAP_CATCHUP) != 0 ||
        zmq_bind(self->sock, endpoint) != 0) {
        snprintf(err, errlen, "catch-up socket %s: %s", endpoint, zmq_strerror(zmq_errno()));
        jr_catchup_destroy(&self);
        return NULL;
    }
    size_t len = sizeof self->endpoint;
    zmq_getsockopt(self->sock, ZMQ_LAST_ENDPOINT, self->endpoint, &len);
    return self;
}

void jr_catchup_destroy(jr_catchup_t **self_p)
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

void *jr_catchup_socket(jr_catchup_t *self)
{
    return self->sock;
}

const char *jr_catchup_endpoint(const jr_catchup_t *self)
{
    return self->endpoint;
}

/* Who asked, and how to answer them. */
typedef struct {
    jr_catchup_t *self;
    zmq_msg_t id;
    bool delimiter;
    bool gone;          /* the client stopped reading: give up on this request */
    bool pseudonymised; /* the client may only see pseudonymised data */
    const jr_catchup_hooks_t *hooks;
    const char *request_id;
    uint64_t sequence;
    jr_codec_item_t items[CHUNK];
    size_t n;
} reply_t;

static void send_reply(reply_t *r, jr_catchup_status_t status, const char *reason, bool last,
                       const jr_statistics_t *stats)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!r->gone && jr_codec_encode_catchup_reply(r->request_id, status, reason, r->sequence, last,
                                                  r->items, r->n, stats, &buf, &len) == 0) {
        /* Blocking for at most ZMQ_SNDTIMEO: a client that does not read
         * is dropped from this request rather than stalling the daemon. */
        if (zmq_send(r->self->sock, zmq_msg_data(&r->id), zmq_msg_size(&r->id), ZMQ_SNDMORE) < 0 ||
            (r->delimiter && zmq_send(r->self->sock, "", 0, ZMQ_SNDMORE) < 0) ||
            zmq_send(r->self->sock, buf, len, 0) < 0) {
            jr_log(JR_LOG_NOTICE, "catchup", "client stopped reading: %s",
                   zmq_strerror(zmq_errno()));
            r->gone = true;
        }
    }
    free(buf);
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].payload);
    }
    r->n = 0;
}

static int add_item(void *arg, uint64_t seq, const char *topic, const uint8_t *payload, size_t len)
{
    reply_t *r = arg;
    if (r->gone) {
        return JR_STORE_OK;
    }
    jr_codec_item_t *it = &r->items[r->n];
    it->seq = seq;
    snprintf(it->topic, sizeof it->topic, "%s", topic);
    if (r->pseudonymised) {
        if (r->hooks->pseudonymise(r->hooks->ctx, topic, payload, len, &it->payload, &it->len) !=
            0) {
            /* Unreadable: its sequence goes with an empty payload, so the
             * client sees no gap, and nothing identifiable leaks. */
            it->payload = NULL;
            it->len = 0;
        }
    } else {
        it->payload = malloc(len ? len : 1);
        if (it->payload == NULL) {
            return JR_STORE_RETRY;
        }
        memcpy(it->payload, payload, len);
        it->len = len;
    }
    if (++r->n == CHUNK) {
        send_reply(r, JR_CATCHUP_OK, NULL, false, NULL);
    }
    return JR_STORE_OK;
}

static void answer(reply_t *r, const uint8_t *buf, size_t len, const char *user_id,
                   jr_store_pg_t *store, uint64_t last_seq)
{
    jr_catchup_request_t req;
    char why[200];
    r->sequence = last_seq;
    if (jr_codec_decode_catchup(buf, len, &req, why, sizeof why) != 0) {
        r->request_id = req.request_id;
        send_reply(r, JR_CATCHUP_BAD_REQUEST, why, true, NULL);
        return;
    }
    r->request_id = req.request_id;
    unsigned feeds = r->hooks->rights(r->hooks->ctx, user_id);
    if (req.kind != JR_CATCHUP_STATISTICS && !(feeds & JR_FEED_IDENTIFIABLE)) {
        if (!(feeds & JR_FEED_PSEUDONYMISED) || r->hooks->pseudonymise == NULL) {
            send_reply(r, JR_CATCHUP_BAD_REQUEST,
                       "not authorised for reviews and notices: this key may read statistics "
                       "only",
                       true, NULL);
            return;
        }
        r->pseudonymised = true;
    }
    if (req.kind == JR_CATCHUP_STATISTICS && feeds == 0) {
        send_reply(r, JR_CATCHUP_BAD_REQUEST, "not authorised", true, NULL);
        return;
    }
    if (!jr_store_pg_connected(store)) {
        send_reply(r, JR_CATCHUP_UNAVAILABLE, "the daemon cannot reach its database: ask again",
                   true, NULL);
        return;
    }
    int rc = JR_STORE_OK;
    switch (req.kind) {
    case JR_CATCHUP_SNAPSHOT:
        rc = jr_store_pg_snapshot(store, req.lead[0] ? req.lead : NULL,
                                  req.stream[0] ? req.stream : NULL, add_item, r);
        break;
    case JR_CATCHUP_SINCE: {
        uint64_t oldest = 0;
        rc = jr_store_pg_outbox_oldest(store, &oldest);
        uint64_t available_from = oldest != 0 ? oldest : last_seq + 1;
        if (rc == JR_STORE_OK && req.after + 1 < available_from) {
            char reason[160];
            snprintf(reason, sizeof reason,
                     "publications after %llu are no longer kept (the oldest is %llu): take a "
                     "SNAPSHOT",
                     (unsigned long long)req.after, (unsigned long long)available_from);
            send_reply(r, JR_CATCHUP_TOO_OLD, reason, true, NULL);
            return;
        }
        size_t count = 0;
        int max = req.max_items == 0 || req.max_items > SINCE_MAX ? SINCE_MAX : (int)req.max_items;
        if (rc == JR_STORE_OK) {
            rc = jr_store_pg_outbox_after(store, req.after, max, add_item, r, &count);
        }
        break;
    }
    case JR_CATCHUP_STATISTICS: {
        jr_statistics_t st;
        memset(&st, 0, sizeof st);
        rc = r->hooks->statistics(r->hooks->ctx, &st);
        if (rc == JR_STORE_OK) {
            send_reply(r, JR_CATCHUP_OK, NULL, true, &st);
            return;
        }
        break;
    }
    }
    if (rc != JR_STORE_OK) {
        for (size_t i = 0; i < r->n; i++) {
            free(r->items[i].payload);
        }
        r->n = 0;
        send_reply(r, JR_CATCHUP_UNAVAILABLE, "the daemon could not read its database: ask again",
                   true, NULL);
        return;
    }
    send_reply(r, JR_CATCHUP_OK, NULL, true, NULL);
}

void jr_catchup_handle(jr_catchup_t *self, jr_store_pg_t *store, uint64_t last_seq,
                       const jr_catchup_hooks_t *hooks)
{
    for (int handled = 0; handled < REQUESTS_PER_CALL; handled++) {
        reply_t *r = calloc(1, sizeof *r);
        if (r == NULL) {
            return;
        }
        r->self = self;
        r->hooks = hooks;
        zmq_msg_init(&r->id);
        if (zmq_msg_recv(&r->id, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&r->id);
            free(r);
            return;
        }
        /* Drain the whole message: [id][request] or [id][""][request]. */
        zmq_msg_t parts[3];
        size_t n_parts = 0;
        int more = 0;
        size_t more_len = sizeof more;
        while (zmq_getsockopt(self->sock, ZMQ_RCVMORE, &more, &more_len) == 0 && more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, self->sock, 0) < 0) {
                zmq_msg_close(&part);
                break;
            }
            if (n_parts < 3) {
                zmq_msg_init(&parts[n_parts]);
                zmq_msg_move(&parts[n_parts], &part);
                n_parts++;
            }
            zmq_msg_close(&part);
        }
        r->delimiter = n_parts == 2 && zmq_msg_size(&parts[0]) == 0;
        zmq_msg_t *body = n_parts == 1 ? &parts[0] : r->delimiter ? &parts[1] : NULL;
        if (body == NULL || zmq_msg_size(body) > MAX_REQUEST) {
            send_reply(r, JR_CATCHUP_BAD_REQUEST,
                       "send one CatchupRequest frame (after an empty delimiter from a REQ)", true,
                       NULL);
        } else {
            const char *uid = zmq_msg_gets(body, "User-Id");
            answer(r, zmq_msg_data(body), zmq_msg_size(body), uid ? uid : "", store, last_seq);
        }
        for (size_t i = 0; i < n_parts; i++) {
            zmq_msg_close(&parts[i]);
        }
        zmq_msg_close(&r->id);
        free(r);
    }
}
