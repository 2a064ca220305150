/* conns.c -- see conns.h. */
#include "conns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

/* One open connection: libzmq's descriptor, our duplicate, who. */
typedef struct {
    int fd; /* -1: empty slot */
    int dup;
    ino_t ino; /* the socket's: tells a descriptor number reused by another */
    char peer[64];
} conn_t;

typedef struct {
    char name[16];
    void *sock;    /* the socket watched (borrowed) */
    void *mon;     /* PAIR receiving the socket's monitor events */
    conn_t *slots; /* open addressing on fd */
    size_t cap;    /* a power of two, at least twice the connections it holds */
    size_t n;
} watched_t;

/* A connection libzmq closed while its peer was quiet: held a moment. */
typedef struct {
    int dup;
    const watched_t *w;
    int64_t at_ms;
    char peer[64];
} closing_t;

#define CLOSING_MAX 64
#define CLOSING_MS  200

struct jr_conns {
    void *zctx;
    size_t max;
    closing_t closing[CLOSING_MAX];
    size_t n_closing;
    watched_t w[JR_CONNS_SOCKETS_MAX];
    size_t n_watched;
    jr_conns_stats_t st;
    jr_log_limit_t refused_limit, dropped_limit, failed_limit;
};

jr_conns_t *jr_conns_new(void *zctx, size_t max_connections)
{
    jr_conns_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        return NULL;
    }
    self->zctx = zctx;
    self->max = max_connections;
    self->refused_limit.interval_ms = 10000;
    self->dropped_limit.interval_ms = 10000;
    self->failed_limit.interval_ms = 10000;
    return self;
}

static void close_conn(conn_t *c)
{
    if (c->dup >= 0) {
        close(c->dup);
    }
    c->fd = c->dup = -1;
}

static void settle_closing(jr_conns_t *self, bool all);

void jr_conns_destroy(jr_conns_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_conns_t *self = *self_p;
    settle_closing(self, true);
    for (size_t i = 0; i < self->n_watched; i++) {
        watched_t *w = &self->w[i];
        for (size_t k = 0; k < w->cap; k++) {
            if (w->slots[k].fd >= 0) {
                close_conn(&w->slots[k]);
            }
        }
        free(w->slots);
        zmq_close(w->mon);
    }
    free(self);
    *self_p = NULL;
}

int jr_conns_watch(jr_conns_t *self, void *sock, const char *name, char *err, size_t errlen)
{
    if (self->n_watched == JR_CONNS_SOCKETS_MAX) {
        snprintf(err, errlen, "too many sockets watched");
        return -1;
    }
    watched_t *w = &self->w[self->n_watched];
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s", name);
    w->sock = sock;
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://jr-conns-%zu-%s", self->n_watched, name);
    const int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_ACCEPT_FAILED;
    w->cap = 64;
    w->slots = malloc(w->cap * sizeof *w->slots);
    w->mon = zmq_socket(self->zctx, ZMQ_PAIR);
    /* libzmq's I/O thread blocks when the monitor's pipe is full: room for
     * a burst of events while the loop is busy with a batch. */
    int hwm = 100000, zero = 0;
    if (w->slots == NULL || w->mon == NULL ||
        zmq_setsockopt(w->mon, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(w->mon, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_socket_monitor(sock, endpoint, events) != 0 || zmq_connect(w->mon, endpoint) != 0) {
        snprintf(err, errlen, "cannot watch the %s socket's connections: %s", name,
                 zmq_strerror(zmq_errno()));
        free(w->slots);
        if (w->mon != NULL) {
            zmq_close(w->mon);
        }
        return -1;
    }
    for (size_t k = 0; k < w->cap; k++) {
        w->slots[k].fd = w->slots[k].dup = -1;
    }
    self->n_watched++;
    return 0;
}

size_t jr_conns_pollitems(jr_conns_t *self, zmq_pollitem_t *items, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n_watched && n < max; i++) {
        items[n++] = (zmq_pollitem_t){self->w[i].mon, 0, ZMQ_POLLIN, 0};
    }
    return n;
}

static conn_t *slot_of(const watched_t *w, int fd)
{
    size_t mask = w->cap - 1;
    for (size_t i = (size_t)fd * 2654435761u & mask;; i = (i + 1) & mask) {
        if (w->slots[i].fd == fd || w->slots[i].fd == -1) {
            return &w->slots[i];
        }
    }
}

/* Removes the entry at c, moving later entries of its run back (linear
 * probing's deletion, so that lookups never stop at a hole too early). */
static void slot_remove(watched_t *w, conn_t *c)
{
    size_t mask = w->cap - 1;
    size_t i = (size_t)(c - w->slots);
    w->slots[i].fd = w->slots[i].dup = -1;
    w->n--;
    for (size_t j = (i + 1) & mask; w->slots[j].fd != -1; j = (j + 1) & mask) {
        conn_t moved = w->slots[j];
        w->slots[j].fd = w->slots[j].dup = -1;
        *slot_of(w, moved.fd) = moved;
    }
}

static int slots_grow(watched_t *w)
{
    size_t cap = w->cap * 2;
    conn_t *slots = malloc(cap * sizeof *slots);
    if (slots == NULL) {
        return -1;
    }
    for (size_t k = 0; k < cap; k++) {
        slots[k].fd = slots[k].dup = -1;
    }
    watched_t grown = *w;
    grown.slots = slots;
    grown.cap = cap;
    for (size_t k = 0; k < w->cap; k++) {
        if (w->slots[k].fd >= 0) {
            *slot_of(&grown, w->slots[k].fd) = w->slots[k];
        }
    }
    free(w->slots);
    *w = grown;
    return 0;
}

static void peer_name(int fd, char out[64])
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0) {
        if (sa.ss_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)&sa;
            inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
            port = ntohs(in->sin_port);
        } else if (sa.ss_family == AF_INET6) {
            const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)&sa;
            inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
            port = ntohs(in->sin6_port);
        } else {
            snprintf(host, sizeof host, "local");
        }
    }
    snprintf(out, 64, "%s:%u", host, port);
}

static void accepted(jr_conns_t *self, watched_t *w, int fd)
{
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
        return; /* the descriptor is gone already, or none is left to copy it */
    }
    if (self->st.open >= self->max) {
        char peer[64];
        peer_name(dup, peer);
        shutdown(dup, SHUT_RDWR); /* libzmq sees the end and closes its side */
        close(dup);
        self->st.refused++;
        jr_log_limited(&self->refused_limit, JR_LOG_WARNING, "conns",
                       "refused a connection from %s to the %s socket: %zu connections are open, "
                       "the most daemon.max_connections allows",
                       peer, w->name, self->st.open);
        return;
    }
    if (2 * (w->n + 1) > w->cap && slots_grow(w) != 0) {
        shutdown(dup, SHUT_RDWR);
        close(dup);
        return;
    }
    conn_t *c = slot_of(w, fd);
    if (c->fd == fd) { /* an entry whose disconnection was never seen */
        close_conn(c);
        w->n--;
        self->st.open--;
    }
    struct stat st;
    c->fd = fd;
    c->dup = dup;
    c->ino = fstat(dup, &st) == 0 ? st.st_ino : 0;
    peer_name(dup, c->peer);
    w->n++;
    self->st.open++;
    self->st.accepted++;
}

/* The peer's side of a connection libzmq has closed: still sending (bytes
 * wait unread: the daemon's side dropped it in mid-message), gone (its end
 * of stream waits), or quiet for now. */
typedef enum { PEER_SENDING, PEER_GONE, PEER_QUIET } peer_t;

static peer_t peer_state(int dup)
{
    char byte;
    ssize_t got = recv(dup, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got > 0) {
        return PEER_SENDING;
    }
    return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? PEER_QUIET : PEER_GONE;
}

static void dropped_mid(jr_conns_t *self, const char *peer, const char *socket)
{
    self->st.dropped_mid++;
    jr_log_limited(&self->dropped_limit, JR_LOG_WARNING, "conns",
                   "dropped the connection from %s to the %s socket in mid-message: it sent a "
                   "frame over the transport's limit (4 MiB on ingest), or does not speak ZeroMQ",
                   peer, socket);
}

static void disconnected(jr_conns_t *self, watched_t *w, int fd)
{
    conn_t *c = slot_of(w, fd);
    if (c->fd != fd) {
        return; /* refused at the cap, or never seen */
    }
    peer_t st = peer_state(c->dup);
    if (st == PEER_SENDING) {
        dropped_mid(self, c->peer, w->name);
    }
    if (st == PEER_QUIET && self->n_closing < CLOSING_MAX) {
        /* libzmq may have read all that had come when it gave up on an
         * oversized frame: what the peer sends next tells, shortly. */
        closing_t *k = &self->closing[self->n_closing++];
        k->dup = c->dup;
        k->w = w;
        k->at_ms = jr_clock_mono_ms();
        snprintf(k->peer, sizeof k->peer, "%s", c->peer);
    } else {
        close(c->dup);
    }
    slot_remove(w, c);
    self->st.open--;
}

/* Connections closed quietly, watched for CLOSING_MS: a peer still sending
 * then was dropped in mid-message. */
static void settle_closing(jr_conns_t *self, bool all)
{
    int64_t now = jr_clock_mono_ms();
    size_t kept = 0;
    for (size_t i = 0; i < self->n_closing; i++) {
        closing_t *k = &self->closing[i];
        peer_t st = peer_state(k->dup);
        if (st == PEER_QUIET && !all && now - k->at_ms < CLOSING_MS) {
            self->closing[kept++] = *k;
            continue;
        }
        if (st == PEER_SENDING) {
            dropped_mid(self, k->peer, k->w->name);
        }
        close(k->dup);
    }
    self->n_closing = kept;
}

int jr_conns_timeout_ms(const jr_conns_t *self)
{
    return self->n_closing > 0 ? CLOSING_MS / 4 : -1;
}

static void take_events(jr_conns_t *self, watched_t *w)
{
    for (;;) {
        zmq_msg_t head, where;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, w->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            return;
        }
        zmq_msg_init(&where);
        zmq_msg_recv(&where, w->mon, 0); /* the endpoint: always follows */
        zmq_msg_close(&where);
        if (zmq_msg_size(&head) == 6) {
            uint16_t event;
            uint32_t value;
            memcpy(&event, zmq_msg_data(&head), sizeof event);
            memcpy(&value, (const char *)zmq_msg_data(&head) + 2, sizeof value);
            if (event == ZMQ_EVENT_ACCEPTED) {
                accepted(self, w, (int)value);
            } else if (event == ZMQ_EVENT_DISCONNECTED) {
                disconnected(self, w, (int)value);
            } else if (event == ZMQ_EVENT_ACCEPT_FAILED) {
                self->st.accept_failed++;
                jr_log_limited(&self->failed_limit, JR_LOG_ERR, "conns",
                               "the %s socket could not accept a connection: %s", w->name,
                               strerror((int)value));
            }
        }
        zmq_msg_close(&head);
    }
}

void jr_conns_handle(jr_conns_t *self)
{
    for (size_t i = 0; i < self->n_watched; i++) {
        take_events(self, &self->w[i]);
    }
    settle_closing(self, false);
}

/* Connections libzmq closed without a DISCONNECTED event (as when an
 * endpoint is unbound): its descriptor is closed, or now another socket's.
 * The duplicate would keep such a connection open at the TCP level, and the
 * peer would never learn that it is gone. */
static void sweep(jr_conns_t *self, watched_t *w, bool all)
{
    for (size_t i = 0; i < w->cap;) {
        conn_t *c = &w->slots[i];
        struct stat st;
        if (c->fd >= 0 && (all || fstat(c->fd, &st) != 0 || st.st_ino != c->ino)) {
            shutdown(c->dup, SHUT_RDWR);
            close(c->dup);
            slot_remove(w, c);
            self->st.open--;
            continue; /* a later entry of the run may have moved here */
        }
        i++;
    }
}

void jr_conns_sweep(jr_conns_t *self)
{
    for (size_t i = 0; i < self->n_watched; i++) {
        sweep(self, &self->w[i], false);
    }
}

void jr_conns_forget(jr_conns_t *self, void *sock)
{
    for (size_t i = 0; i < self->n_watched; i++) {
        if (self->w[i].sock == sock) {
            /* Only what was accepted before the unbind is known yet: events
             * not taken since are the new endpoint's (or checked by the
             * next sweep). */
            sweep(self, &self->w[i], true);
        }
    }
}

void jr_conns_set_max(jr_conns_t *self, size_t max_connections)
{
    self->max = max_connections;
}

jr_conns_stats_t jr_conns_stats(const jr_conns_t *self)
{
    return self->st;
}

size_t jr_conns_budget(uint64_t nofile, uint64_t reserve)
{
    return nofile > reserve ? (size_t)((nofile - reserve) / 2) : 0;
}
