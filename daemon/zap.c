/* zap.c -- see zap.h. The protocol is ZeroMQ RFC 27 (ZAP 1.0). */
#include "zap.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"

struct jr_zap {
    void *sock;
    jr_log_limit_t refused_limit;
};

jr_zap_t *jr_zap_new(void *zctx, char *err, size_t errlen)
{
    jr_zap_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->refused_limit.interval_ms = 10000;
    self->sock = zmq_socket(zctx, ZMQ_REP);
    int zero = 0;
    if (self->sock == NULL || zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_bind(self->sock, "inproc://zeromq.zap.01") != 0) {
        snprintf(err, errlen, "ZAP handler: %s", zmq_strerror(zmq_errno()));
        jr_zap_destroy(&self);
        return NULL;
    }
    return self;
}

void jr_zap_destroy(jr_zap_t **self_p)
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

void *jr_zap_socket(jr_zap_t *self)
{
    return self->sock;
}

/* Does this key have what the domain needs? */
static bool allowed(const jr_access_t *access, const char *domain, const char *key)
{
    unsigned feeds = jr_access_feeds(access, key);
    if (strcmp(domain, JR_ZAP_INGEST) == 0) {
        return jr_access_is_adapter(access, key);
    }
    if (strcmp(domain, JR_ZAP_IDENTIFIABLE) == 0) {
        return (feeds & JR_FEED_IDENTIFIABLE) != 0;
    }
    if (strcmp(domain, JR_ZAP_PSEUDONYMISED) == 0) {
        return (feeds & JR_FEED_PSEUDONYMISED) != 0;
    }
    if (strcmp(domain, JR_ZAP_STATISTICS) == 0) {
        return feeds != 0;
    }
    if (strcmp(domain, JR_ZAP_CATCHUP) == 0) {
        char stream[JR_STREAM_CODE_MAX];
        return feeds != 0 || jr_access_records(access, key, stream);
    }
    return false;
}

static void frame_text(zmq_msg_t *m, char *out, size_t outlen)
{
    size_t n = zmq_msg_size(m) < outlen - 1 ? zmq_msg_size(m) : outlen - 1;
    memcpy(out, zmq_msg_data(m), n);
    out[n] = '\0';
}

void jr_zap_handle(jr_zap_t *self, const jr_access_t *access)
{
    for (;;) {
        /* version, request id, domain, address, identity, mechanism, credentials... */
        zmq_msg_t f[8];
        size_t n = 0;
        int more = 1;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, self->sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
                zmq_msg_close(&part);
                if (n == 0) {
                    return;
                }
                break;
            }
            more = zmq_msg_more(&part);
            if (n < 8) {
                zmq_msg_init(&f[n]);
                zmq_msg_move(&f[n], &part);
                n++;
            }
            zmq_msg_close(&part);
        }
        char version[8] = "", domain[32] = "", address[64] = "", mechanism[16] = "";
        char key[JR_KEY_Z85_LEN + 1] = "";
        if (n >= 6) {
            frame_text(&f[0], version, sizeof version);
            frame_text(&f[2], domain, sizeof domain);
            frame_text(&f[3], address, sizeof address);
            frame_text(&f[5], mechanism, sizeof mechanism);
        }
        if (n >= 7 && strcmp(mechanism, "CURVE") == 0 && zmq_msg_size(&f[6]) == 32) {
            zmq_z85_encode(key, zmq_msg_data(&f[6]), 32);
        }
        bool ok = strcmp(version, "1.0") == 0 && key[0] != '\0' && allowed(access, domain, key);
        if (!ok) {
            jr_log_limited(&self->refused_limit, JR_LOG_NOTICE, "zap",
                           "refused %s key %s from %s for %s", mechanism[0] ? mechanism : "?",
                           key[0] ? key : "(none)", address, domain);
        } else {
            jr_log(JR_LOG_INFO, "zap", "%s connected from %s to %s", jr_access_name(access, key),
                   address, domain);
        }
        /* Reply: version, request id, status code, status text, user id, metadata. */
        zmq_send(self->sock, "1.0", 3, ZMQ_SNDMORE);
        if (n >= 2) {
            zmq_send(self->sock, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
        } else {
            zmq_send(self->sock, "", 0, ZMQ_SNDMORE);
        }
        zmq_send(self->sock, ok ? "200" : "400", 3, ZMQ_SNDMORE);
        const char *text = ok ? "OK" : "not on the allow-list for this socket";
        zmq_send(self->sock, text, strlen(text), ZMQ_SNDMORE);
        zmq_send(self->sock, ok ? key : "", ok ? strlen(key) : 0, ZMQ_SNDMORE);
        zmq_send(self->sock, "", 0, 0);
        for (size_t i = 0; i < n; i++) {
            zmq_msg_close(&f[i]);
        }
    }
}

int jr_zap_secure(void *sock, const jr_zap_edge_t *edge, const char *domain)
{
    int one = 1, idle = 60, intvl = 10, cnt = 6;
    if (zmq_setsockopt(sock, ZMQ_HANDSHAKE_IVL, &edge->handshake_ms, sizeof(int)) != 0 ||
        zmq_setsockopt(sock, ZMQ_TCP_KEEPALIVE, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_TCP_KEEPALIVE_IDLE, &idle, sizeof idle) != 0 ||
        zmq_setsockopt(sock, ZMQ_TCP_KEEPALIVE_INTVL, &intvl, sizeof intvl) != 0 ||
        zmq_setsockopt(sock, ZMQ_TCP_KEEPALIVE_CNT, &cnt, sizeof cnt) != 0) {
        return -1;
    }
    if (edge->secret_key == NULL) {
        return 0;
    }
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, edge->secret_key, JR_KEY_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0) {
        return -1;
    }
    return 0;
}
