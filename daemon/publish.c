/* publish.c -- see publish.h. */
#include "publish.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

struct jr_publish {
    void *sock;
    char endpoint[256];
};

jr_publish_t *jr_publish_new(void *zctx, const char *endpoint, const jr_zap_edge_t *edge,
                             const char *domain, int queue, char *err, size_t errlen)
{
    jr_publish_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->sock = zmq_socket(zctx, ZMQ_PUB);
    int zero = 0;
    if (self->sock == NULL || zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(self->sock, ZMQ_SNDHWM, &queue, sizeof queue) != 0 ||
        jr_zap_secure(self->sock, edge, domain) != 0 || zmq_bind(self->sock, endpoint) != 0) {
        snprintf(err, errlen, "publish socket %s: %s", endpoint, zmq_strerror(zmq_errno()));
        jr_publish_destroy(&self);
        return NULL;
    }
    size_t len = sizeof self->endpoint;
    zmq_getsockopt(self->sock, ZMQ_LAST_ENDPOINT, self->endpoint, &len);
    return self;
}

void jr_publish_destroy(jr_publish_t **self_p)
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

const char *jr_publish_endpoint(const jr_publish_t *self)
{
    return self->endpoint;
}

void *jr_publish_socket(jr_publish_t *self)
{
    return self->sock;
}

int jr_publish_send(jr_publish_t *self, const char *topic, const uint8_t *payload, size_t len)
{
    if (zmq_send(self->sock, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        return -1;
    }
    return zmq_send(self->sock, payload, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

int jr_publish_reset(jr_publish_t *self)
{
    /* Unbinding closes the connections accepted on the endpoint; the port is
     * released by the I/O thread, so binding again may need a moment. */
    if (zmq_unbind(self->sock, self->endpoint) != 0) {
        return -1;
    }
    for (int attempt = 0; attempt < 50; attempt++) {
        if (zmq_bind(self->sock, self->endpoint) == 0) {
            return 0;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* ---- the daemon's feeds ---- */

struct jr_feeds {
    jr_publish_t *sock[JR_FEEDS_N];
    bool have_key;
    uint8_t key[JR_PSEUDONYM_KEY_LEN];
    uint64_t dropped;
};

jr_feeds_t *jr_feeds_new(jr_publish_t *identifiable, jr_publish_t *pseudonymised,
                         jr_publish_t *statistics, const uint8_t *pseudonym_key)
{
    jr_feeds_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        return NULL;
    }
    self->sock[0] = identifiable;
    self->sock[1] = pseudonymised;
    self->sock[2] = statistics;
    if (pseudonym_key != NULL) {
        memcpy(self->key, pseudonym_key, sizeof self->key);
        self->have_key = true;
    }
    return self;
}

void jr_feeds_destroy(jr_feeds_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_feeds_t *self = *self_p;
    for (size_t i = 0; i < JR_FEEDS_N; i++) {
        jr_publish_destroy(&self->sock[i]);
    }
    sodium_memzero(self->key, sizeof self->key);
    free(self);
    *self_p = NULL;
}

void jr_feeds_publish(jr_feeds_t *self, const char *topic, const uint8_t *payload, size_t len)
{
    if (jr_publish_send(self->sock[0], topic, payload, len) != 0) {
        self->dropped++;
    }
    uint8_t *alias = NULL;
    size_t alias_len = 0;
    if (self->have_key &&
        jr_pseudonym_publication(topic, payload, len, self->key, &alias, &alias_len) == 0 &&
        jr_publish_send(self->sock[1], topic, alias, alias_len) != 0) {
        self->dropped++;
    }
    free(alias);
}

void jr_feeds_statistics(jr_feeds_t *self, const uint8_t *payload, size_t len)
{
    for (size_t i = 0; i < JR_FEEDS_N; i++) {
        if (jr_publish_send(self->sock[i], "statistics", payload, len) != 0) {
            self->dropped++;
        }
    }
}

jr_publish_t *jr_feeds_socket(jr_feeds_t *self, size_t i)
{
    return i < JR_FEEDS_N ? self->sock[i] : NULL;
}

uint64_t jr_feeds_dropped(const jr_feeds_t *self)
{
    return self->dropped;
}
