/* catchup.c -- see catchup.h. */
#include "catchup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#include "access.h"
#include "catchup_wire.h"
#include "log.h"
#include "pseudonym.h"
#include "reader_thread.h"
#include "store_pg.h"
#include "streamcut.h"
#include "zap.h"

#define CHUNK       1000  /* publications per reply */
#define SINCE_MAX   10000 /* publications per SINCE request */
#define MAX_REQUEST 4096  /* bytes */
#define CONNECT_MS  2000  /* how long a request waits for the database */

struct jr_catchup {
    void *sock;            /* ROUTER: the thread's alone once it runs */
    jr_reader_thread_t rt; /* the thread, its session, the pair that stops it */
    jr_catchup_hooks_t hooks;
    bool have_key;
    uint8_t key[JR_PSEUDONYM_KEY_LEN];
    char endpoint[256];
};

static void *run(void *arg);

jr_catchup_t *jr_catchup_new(void *zctx, const char *endpoint, const jr_zap_edge_t *edge,
                             jr_conns_t *conns, const char *conninfo, int statement_timeout_ms,
                             const jr_catchup_hooks_t *hooks, char *err, size_t errlen)
{
    jr_catchup_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->hooks = *hooks;
    self->hooks.pseudonym_key = NULL;
    if (hooks->pseudonym_key != NULL) {
        memcpy(self->key, hooks->pseudonym_key, sizeof self->key);
        self->have_key = true;
    }
    self->sock = zmq_socket(zctx, ZMQ_ROUTER);
    int one = 1, zero = 0, sndtimeo = 2000, sndhwm = 8, rcvhwm = 100;
    int64_t cap = 4 * MAX_REQUEST; /* bigger: dropped; from MAX_REQUEST: BAD_REQUEST */
    if (self->sock == NULL ||
        zmq_setsockopt(self->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &cap, sizeof cap) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) != 0 ||
        jr_zap_secure(self->sock, edge, JR_ZAP_CATCHUP) != 0 ||
        zmq_bind(self->sock, endpoint) != 0) {
        snprintf(err, errlen, "catch-up socket %s: %s", endpoint, zmq_strerror(zmq_errno()));
        jr_catchup_destroy(&self);
        return NULL;
    }
    size_t len = sizeof self->endpoint;
    zmq_getsockopt(self->sock, ZMQ_LAST_ENDPOINT, self->endpoint, &len);
    /* Before the thread owns the socket. */
    if (conns != NULL && jr_conns_watch(conns, self->sock, "catch-up", err, errlen) != 0) {
        jr_catchup_destroy(&self);
        return NULL;
    }

    if (jr_reader_thread_start(&self->rt, zctx, "catchup", conninfo, statement_timeout_ms, run,
                               self, err, errlen) != 0) {
        jr_catchup_destroy(&self);
        return NULL;
    }
    return self;
}

void jr_catchup_destroy(jr_catchup_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_catchup_t *self = *self_p;
    jr_reader_thread_stop(&self->rt); /* before the socket it uses */
    if (self->sock != NULL) {
        zmq_close(self->sock);
    }
    sodium_memzero(self->key, sizeof self->key);
    free(self);
    *self_p = NULL;
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
    bool one_stream;    /* the client may only see this stream's share: */
    jr_share_scope_t scope;
    const char *request_id;
    uint64_t sequence;
    jr_catchup_item_t items[CHUNK];
    size_t n;
} reply_t;

/* Frees the publications gathered for the next reply. */
static void drop_items(reply_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].payload);
    }
    r->n = 0;
}

static void send_reply(reply_t *r, jr_catchup_status_t status, const char *reason, bool last,
                       const jr_statistics_t *stats)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!r->gone && jr_catchup_wire_encode_reply(r->request_id, status, reason, r->sequence, last,
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
    drop_items(r);
}

static int add_item(void *arg, uint64_t seq, const char *topic, const uint8_t *payload, size_t len)
{
    reply_t *r = arg;
    if (r->gone) {
        return JR_STORE_RETRY; /* nobody to send the rest to: stop reading */
    }
    jr_catchup_item_t *it = &r->items[r->n];
    it->seq = seq;
    snprintf(it->topic, sizeof it->topic, "%s", topic);
    if (r->one_stream) {
        if (jr_streamcut_publication(topic, payload, len, &r->scope, &it->payload, &it->len) != 0) {
            return JR_STORE_RETRY;
        }
    } else if (r->pseudonymised) {
        if (jr_pseudonym_publication(topic, payload, len, r->self->key, &it->payload, &it->len) !=
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
        /* The daemon stopping does not wait for the rest of a long
         * snapshot: the client asks again after the restart. */
        zmq_pollitem_t stop = {r->self->rt.work_end, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&stop, 1, 0) > 0) {
            r->gone = true;
            return JR_STORE_RETRY;
        }
    }
    return JR_STORE_OK;
}

static int connect_store(jr_catchup_t *self)
{
    return jr_store_pg_connected(self->rt.store)
               ? JR_STORE_OK
               : jr_store_pg_connect_wait(self->rt.store, CONNECT_MS);
}

/* Reads what the request asks for, in one consistent transaction, sending
 * it as it goes. A store status; r->sequence is the sequence it names. */
static int read_answer(reply_t *r, const jr_catchup_request_t *req, bool *too_old)
{
    jr_store_pg_t *store = r->self->rt.store;
    int rc = jr_store_pg_read_begin(store, &r->sequence);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    if (req->kind == JR_CATCHUP_SNAPSHOT) {
        rc = jr_store_pg_snapshot(store, req->lead[0] ? req->lead : NULL,
                                  req->stream[0] ? req->stream : NULL, add_item, r);
    } else {
        uint64_t available_from = 0;
        rc = jr_store_pg_outbox_oldest(store, &available_from);
        if (rc == JR_STORE_OK && req->after + 1 < available_from) {
            char reason[160];
            snprintf(reason, sizeof reason,
                     "publications after %llu are no longer kept (the oldest is %llu): take a "
                     "SNAPSHOT",
                     (unsigned long long)req->after, (unsigned long long)available_from);
            jr_store_pg_rollback(store);
            send_reply(r, JR_CATCHUP_TOO_OLD, reason, true, NULL);
            *too_old = true;
            return JR_STORE_OK;
        }
        size_t count = 0;
        int max =
            req->max_items == 0 || req->max_items > SINCE_MAX ? SINCE_MAX : (int)req->max_items;
        if (rc == JR_STORE_OK) {
            rc = jr_store_pg_outbox_after(store, req->after, max, add_item, r, &count);
        }
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_read_end(store);
    } else {
        jr_store_pg_rollback(store);
    }
    return rc;
}

static void answer(reply_t *r, const uint8_t *buf, size_t len, const char *user_id)
{
    jr_catchup_t *self = r->self;
    jr_catchup_request_t req;
    char why[200];
    if (jr_catchup_wire_decode(buf, len, &req, why, sizeof why) != 0) {
        r->request_id = req.request_id;
        send_reply(r, JR_CATCHUP_BAD_REQUEST, why, true, NULL);
        return;
    }
    r->request_id = req.request_id;
    unsigned feeds = self->hooks.rights(self->hooks.ctx, user_id);
    if (req.kind != JR_CATCHUP_STATISTICS && !(feeds & JR_FEED_IDENTIFIABLE) &&
        self->hooks.records != NULL && self->hooks.records(self->hooks.ctx, user_id, &r->scope)) {
        r->one_stream = true;
        if (req.kind == JR_CATCHUP_SNAPSHOT && req.stream[0] != '\0' &&
            strcmp(req.stream, r->scope.stream) != 0) {
            snprintf(why, sizeof why, "not authorised: this key reads %s's records only",
                     r->scope.stream);
            send_reply(r, JR_CATCHUP_BAD_REQUEST, why, true, NULL);
            return;
        }
        snprintf(req.stream, sizeof req.stream, "%s", r->scope.stream);
    } else if (req.kind != JR_CATCHUP_STATISTICS && !(feeds & JR_FEED_IDENTIFIABLE)) {
        if (!(feeds & JR_FEED_PSEUDONYMISED) || !self->have_key) {
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
    int rc = connect_store(self);
    if (rc == JR_STORE_OK && req.kind == JR_CATCHUP_STATISTICS) {
        jr_statistics_t st;
        memset(&st, 0, sizeof st);
        jr_day_t today = self->hooks.today(self->hooks.ctx);
        jr_text_format_date(today, st.today);
        rc = jr_store_pg_statistics_snapshot(self->rt.store, today, &st);
        if (rc == JR_STORE_OK) {
            st.ingest_per_second = self->hooks.rate(self->hooks.ctx);
            r->sequence = st.sequence;
            send_reply(r, JR_CATCHUP_OK, NULL, true, &st);
            return;
        }
    } else if (rc == JR_STORE_OK) {
        bool too_old = false;
        rc = read_answer(r, &req, &too_old);
        if (too_old) {
            return;
        }
    }
    if (rc != JR_STORE_OK && r->gone) {
        drop_items(r);
        return; /* the client stopped reading; its transaction is rolled back */
    }
    if (rc != JR_STORE_OK) {
        static jr_log_limit_t limit = {.interval_ms = 60000};
        jr_log_limited(&limit, JR_LOG_WARNING, "catchup", "cannot read the database: %s",
                       jr_store_pg_error(self->rt.store));
        jr_store_pg_disconnect(self->rt.store); /* a fresh session for the next request */
        drop_items(r);
        send_reply(r, JR_CATCHUP_UNAVAILABLE, "the daemon could not read its database: ask again",
                   true, NULL);
        return;
    }
    send_reply(r, JR_CATCHUP_OK, NULL, true, NULL);
}

/* Receives one request and answers it. */
static void handle(jr_catchup_t *self)
{
    reply_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return;
    }
    r->self = self;
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
        answer(r, zmq_msg_data(body), zmq_msg_size(body), uid ? uid : "");
    }
    for (size_t i = 0; i < n_parts; i++) {
        zmq_msg_close(&parts[i]);
    }
    zmq_msg_close(&r->id);
    free(r);
}

static void *run(void *arg)
{
    jr_catchup_t *self = arg;
    for (;;) {
        zmq_pollitem_t items[2] = {{self->sock, 0, ZMQ_POLLIN, 0},
                                   {self->rt.work_end, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, -1) < 0) {
            if (zmq_errno() == EINTR) {
                continue;
            }
            jr_log(JR_LOG_ERR, "catchup", "zmq_poll: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            break; /* the loop says stop */
        }
        if (items[0].revents & ZMQ_POLLIN) {
            handle(self);
        }
    }
    return NULL;
}
