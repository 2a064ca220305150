/* jr_client.c -- the joinedreviewd client: a DEALER socket, a window of
 * in-flight envelopes keyed by (stream, source_event_id), and resends.
 *
 * The in-flight set is a fixed array of `window` slots, indexed by a chained
 * hash of the key; free slots form a list through the same `next` links. A
 * slot keeps the packed envelope so a resend needs no caller data.
 *
 * Every busy slot has a due time: for a slot awaiting an answer, when to give
 * up waiting and resend; for a slot waiting after RETRY_LATER (or after a
 * full send queue), when to send. `next_due` is a lower bound on the earliest
 * due time, so the slots are scanned only when something may be due. */
#include "jr_client.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "jr_clientsock.h"

/* An Ack is a few hundred bytes; anything much larger is not from the daemon.
 * ZMQ_MAXMSGSIZE drops a peer sending bigger frames. */
#define ACK_MAX_BYTES (64 * 1024)
/* Answers read per drain, so a flood of answers cannot starve resends. */
#define DRAIN_BATCH 1024
/* Socket settings that are not options: see jr_client_new(). */
#define RECONNECT_IVL_MS     100
#define RECONNECT_IVL_MAX_MS 5000
#define HEARTBEAT_IVL_MS     10000
#define HEARTBEAT_TIMEOUT_MS 30000

#define NO_SLOT UINT32_MAX
#define NEVER   INT64_MAX

#define DEFAULT_WINDOW           256
#define DEFAULT_ACK_TIMEOUT_MS   5000
#define DEFAULT_RETRY_BACKOFF_MS 250
#define DEFAULT_MAX_BACKOFF_MS   60000

typedef enum {
    SLOT_FREE = 0,
    SLOT_AWAITING_ACK, /* sent; resend at due_ms if no answer */
    SLOT_WAITING,      /* not sent, or RETRY_LATER: send at due_ms */
} slot_state_t;

typedef struct {
    slot_state_t state;
    char *key;       /* "stream\0source_event_id\0": one allocation, owned */
    const char *id;  /* points into key */
    uint8_t *packed; /* owned */
    size_t packed_len;
    void *user;        /* the caller's, passed back untouched */
    unsigned sends;    /* frames handed to the socket so far */
    unsigned timeouts; /* ack timeouts since the last answer */
    unsigned retries;  /* RETRY_LATER answers so far */
    int64_t due_ms;    /* see slot_state_t */
    uint32_t next;     /* hash chain, or the free list */
} slot_t;

struct jr_client {
    void *zctx;
    bool own_zctx;
    void *sock;

    size_t window;
    int ack_timeout_ms;
    int retry_backoff_ms;
    int max_backoff_ms;
    int submit_timeout_ms;
    jr_client_outcome_fn *on_outcome;
    void *ctx;
    volatile sig_atomic_t *interrupted;

    slot_t *slots;     /* window entries */
    uint32_t *buckets; /* heads of hash chains */
    uint32_t bucket_mask;
    uint32_t free_head;
    int64_t next_due; /* <= every busy slot's due_ms; NEVER when none */
    uint64_t answers; /* answers matched so far, for jr_client_poll() */
    jr_client_stats_t stats;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool interrupted(const jr_client_t *self)
{
    return self->interrupted && *self->interrupted;
}

/* base * 2^n, capped. */
static int64_t backoff(int base, unsigned n, int cap)
{
    int64_t wait = base;
    for (unsigned i = 0; i < n && wait < cap; i++)
        wait *= 2;
    return wait < cap ? wait : cap;
}

/* FNV-1a over stream, a NUL, and source_event_id. */
static uint32_t key_hash(const char *stream, const char *id)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)stream; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ 0u) * 16777619u;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static uint32_t slot_find(const jr_client_t *self, const char *stream, const char *id)
{
    uint32_t i = self->buckets[key_hash(stream, id) & self->bucket_mask];
    while (i != NO_SLOT) {
        const slot_t *s = &self->slots[i];
        if (strcmp(s->key, stream) == 0 && strcmp(s->id, id) == 0)
            return i;
        i = s->next;
    }
    return NO_SLOT;
}

static void due_at(jr_client_t *self, slot_t *s, int64_t when)
{
    s->due_ms = when;
    if (when < self->next_due)
        self->next_due = when;
}

/* Unlinks slot i from its chain, frees what it owns and returns it to the
 * free list. */
static void slot_release(jr_client_t *self, uint32_t i)
{
    slot_t *s = &self->slots[i];
    uint32_t *link = &self->buckets[key_hash(s->key, s->id) & self->bucket_mask];
    while (*link != i)
        link = &self->slots[*link].next;
    *link = s->next;

    free(s->key);
    free(s->packed);
    memset(s, 0, sizeof *s);
    s->state = SLOT_FREE;
    s->next = self->free_head;
    self->free_head = i;
    self->stats.pending--;
}

/* Reports the final outcome of slot i and releases it. */
static void slot_finish(jr_client_t *self, uint32_t i, int status, const char *code,
                        const char *reason)
{
    slot_t *s = &self->slots[i];
    switch (status) {
    case JR_CLIENT_OK:
        self->stats.ok++;
        break;
    case JR_CLIENT_DUPLICATE:
        self->stats.duplicate++;
        break;
    case JR_CLIENT_PARKED:
        self->stats.parked++;
        break;
    case JR_CLIENT_REJECTED:
        self->stats.rejected++;
        break;
    default:
        self->stats.abandoned++;
        break;
    }
    if (self->on_outcome)
        self->on_outcome(self->ctx, s->key, s->id, status, code ? code : "", reason ? reason : "",
                         s->user);
    slot_release(self, i);
}

/* Hands the slot's frame to the socket without blocking. A full send queue
 * (EAGAIN: the HWM is reached while the daemon is away) is not an error: the
 * slot waits and tries again. Returns 0 or JR_CLIENT_EZMQ. */
static int slot_send(jr_client_t *self, slot_t *s, int64_t now)
{
    for (;;) {
        if (zmq_send(self->sock, s->packed, s->packed_len, ZMQ_DONTWAIT) >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            s->state = SLOT_WAITING;
            due_at(self, s, now + self->retry_backoff_ms);
            return 0;
        }
        return JR_CLIENT_EZMQ;
    }
    if (s->sends++ > 0)
        self->stats.resent++;
    s->state = SLOT_AWAITING_ACK;
    due_at(self, s, now + backoff(self->ack_timeout_ms, s->timeouts, self->max_backoff_ms));
    return 0;
}

/* Resends whatever is due and recomputes next_due. */
static int run_due(jr_client_t *self, int64_t now)
{
    if (now < self->next_due)
        return 0;
    self->next_due = NEVER;
    for (size_t i = 0; i < self->window; i++) {
        slot_t *s = &self->slots[i];
        if (s->state == SLOT_FREE)
            continue;
        if (s->due_ms <= now) {
            if (s->state == SLOT_AWAITING_ACK)
                s->timeouts++;
            if (slot_send(self, s, now) < 0) {
                self->next_due = now; /* rescan next time */
                return JR_CLIENT_EZMQ;
            }
        }
        if (s->due_ms < self->next_due)
            self->next_due = s->due_ms;
    }
    return 0;
}

/* Applies one answer frame. Anything that cannot be matched to a slot is
 * counted and otherwise ignored: the envelope it belonged to (if any) is
 * resent when its ack timeout passes. */
static void handle_answer(jr_client_t *self, const uint8_t *data, size_t len, int64_t now)
{
    Joinedreview__V1__Ack *ack = NULL;
    uint32_t i;

    if (len > ACK_MAX_BYTES)
        goto stray;
    ack = joinedreview__v1__ack__unpack(NULL, len, data);
    if (!ack || !ack->stream || !ack->source_event_id || !ack->has_status)
        goto stray;
    i = slot_find(self, ack->stream, ack->source_event_id);
    if (i == NO_SLOT)
        goto stray; /* a late answer to a resend, already final */

    switch (ack->status) {
    case JOINEDREVIEW__V1__ACK__STATUS__OK:
    case JOINEDREVIEW__V1__ACK__STATUS__DUPLICATE:
    case JOINEDREVIEW__V1__ACK__STATUS__PARKED:
    case JOINEDREVIEW__V1__ACK__STATUS__REJECTED:
        self->answers++;
        slot_finish(self, i, (int)ack->status, ack->reason_code, ack->reason);
        break;
    case JOINEDREVIEW__V1__ACK__STATUS__RETRY_LATER: {
        slot_t *s = &self->slots[i];
        self->answers++;
        self->stats.retry_later++;
        s->timeouts = 0; /* the daemon is there */
        s->state = SLOT_WAITING;
        due_at(self, s, now + backoff(self->retry_backoff_ms, s->retries++, self->max_backoff_ms));
        break;
    }
    default:
        goto stray;
    }
    joinedreview__v1__ack__free_unpacked(ack, NULL);
    return;

stray:
    self->stats.stray_acks++;
    if (ack)
        joinedreview__v1__ack__free_unpacked(ack, NULL);
}

static int recv_part(void *sock, zmq_msg_t *part, int flags)
{
    for (;;) {
        if (zmq_msg_recv(part, sock, flags) >= 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* Reads the answers already queued, without waiting. An answer is one frame,
 * or (as a REQ-style peer would see it) an empty delimiter and one frame;
 * any other shape is drained whole and counted as stray. */
static int drain_answers(jr_client_t *self, int64_t now)
{
    for (int n = 0; n < DRAIN_BATCH; n++) {
        zmq_msg_t answer, part;
        int frames = 1;
        bool good = true;

        zmq_msg_init(&answer);
        if (recv_part(self->sock, &answer, ZMQ_DONTWAIT) < 0) {
            int err = errno;
            zmq_msg_close(&answer);
            errno = err;
            return err == EAGAIN ? 0 : JR_CLIENT_EZMQ;
        }
        /* The rest of a multipart message is already here: no waiting. */
        while (zmq_msg_more(&answer)) {
            if (frames > 1 || zmq_msg_size(&answer) != 0)
                good = false;
            zmq_msg_init(&part);
            if (recv_part(self->sock, &part, 0) < 0) {
                int err = errno;
                zmq_msg_close(&part);
                zmq_msg_close(&answer);
                errno = err;
                return JR_CLIENT_EZMQ;
            }
            zmq_msg_move(&answer, &part); /* releases the previous frame */
            zmq_msg_close(&part);
            frames++;
        }
        if (good)
            handle_answer(self, zmq_msg_data(&answer), zmq_msg_size(&answer), now);
        else
            self->stats.stray_acks++;
        zmq_msg_close(&answer);
    }
    return 0;
}

typedef bool(done_fn)(const jr_client_t *self, uint64_t arg);

static bool has_room(const jr_client_t *self, uint64_t arg)
{
    (void)arg;
    return self->free_head != NO_SLOT;
}

static bool none_pending(const jr_client_t *self, uint64_t arg)
{
    (void)arg;
    return self->stats.pending == 0;
}

static bool answered_since(const jr_client_t *self, uint64_t answers_before)
{
    return self->answers != answers_before || self->stats.pending == 0;
}

/* Reads answers and resends until done() holds or `deadline` (monotonic ms,
 * NEVER for no limit) passes. Returns 0 when done, JR_CLIENT_ETIMEDOUT,
 * JR_CLIENT_EINTR or JR_CLIENT_EZMQ. */
static int pump(jr_client_t *self, int64_t deadline, done_fn *done, uint64_t arg)
{
    for (;;) {
        int64_t now = now_ms();
        int rc = drain_answers(self, now);
        if (rc == 0)
            rc = run_due(self, now);
        if (rc < 0)
            return rc;
        if (done(self, arg))
            return 0;
        if (interrupted(self))
            return JR_CLIENT_EINTR;
        if (now >= deadline)
            return JR_CLIENT_ETIMEDOUT;

        int64_t wake = deadline < self->next_due ? deadline : self->next_due;
        long wait = -1;
        if (wake != NEVER)
            wait = wake - now > LONG_MAX ? LONG_MAX : (long)(wake - now);
        zmq_pollitem_t item = {.socket = self->sock, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, wait) < 0) {
            if (errno == EINTR)
                continue; /* the flag is checked at the top */
            return JR_CLIENT_EZMQ;
        }
    }
}

static int64_t deadline_after(int timeout_ms)
{
    return timeout_ms < 0 ? NEVER : now_ms() + timeout_ms;
}

static int set_int(void *sock, int option, int value)
{
    return zmq_setsockopt(sock, option, &value, sizeof value);
}

jr_client_t *jr_client_new(const char *endpoint, const jr_client_options_t *opts)
{
    static const jr_client_options_t defaults = {0};
    const jr_client_options_t *o = opts ? opts : &defaults;
    jr_client_t *self = NULL;
    int err = EINVAL;

    if (!endpoint || !*endpoint || o->window > JR_CLIENT_MAX_WINDOW || o->ack_timeout_ms < 0 ||
        o->retry_backoff_ms < 0 || o->max_backoff_ms < 0 || o->submit_timeout_ms < 0 ||
        o->linger_ms < 0 || o->sndhwm < 0 || o->rcvhwm < 0)
        goto fail;

    err = ENOMEM;
    self = calloc(1, sizeof *self);
    if (!self)
        goto fail;
    self->window = o->window ? o->window : DEFAULT_WINDOW;
    self->ack_timeout_ms = o->ack_timeout_ms ? o->ack_timeout_ms : DEFAULT_ACK_TIMEOUT_MS;
    self->retry_backoff_ms = o->retry_backoff_ms ? o->retry_backoff_ms : DEFAULT_RETRY_BACKOFF_MS;
    self->max_backoff_ms = o->max_backoff_ms ? o->max_backoff_ms : DEFAULT_MAX_BACKOFF_MS;
    if (self->max_backoff_ms < self->ack_timeout_ms)
        self->max_backoff_ms = self->ack_timeout_ms;
    self->submit_timeout_ms = o->submit_timeout_ms;
    self->on_outcome = o->on_outcome;
    self->ctx = o->ctx;
    self->interrupted = o->interrupted;
    self->next_due = NEVER;

    uint32_t nbuckets = 16;
    while (nbuckets < 2 * self->window)
        nbuckets *= 2;
    self->bucket_mask = nbuckets - 1;
    self->buckets = malloc(nbuckets * sizeof *self->buckets);
    self->slots = calloc(self->window, sizeof *self->slots);
    if (!self->buckets || !self->slots)
        goto fail;
    for (uint32_t b = 0; b < nbuckets; b++)
        self->buckets[b] = NO_SLOT;
    for (size_t i = 0; i < self->window; i++)
        self->slots[i].next = i + 1 < self->window ? (uint32_t)(i + 1) : NO_SLOT;
    self->free_head = 0;

    self->zctx = jr_clientsock_context(o->zmq_context, &self->own_zctx);
    if (!self->zctx) {
        err = errno;
        goto fail;
    }
    self->sock = zmq_socket(self->zctx, ZMQ_DEALER);
    if (!self->sock) {
        err = errno;
        goto fail;
    }

    int hwm_floor = self->window * 2 > 1000 ? (int)self->window * 2 : 1000;
    int64_t maxmsg = ACK_MAX_BYTES;
    /* LINGER: the default (forever) hangs zmq_ctx_term while the daemon is
     * away. Heartbeats drop a half-open connection (a daemon host that
     * vanished) so that the socket reconnects; RCVHWM is never tiny, which
     * the heartbeat code needs (libzmq #3937, #4364). */
    if (set_int(self->sock, ZMQ_LINGER, o->linger_ms) < 0 ||
        set_int(self->sock, ZMQ_SNDHWM, o->sndhwm ? o->sndhwm : hwm_floor) < 0 ||
        set_int(self->sock, ZMQ_RCVHWM, o->rcvhwm ? o->rcvhwm : hwm_floor) < 0 ||
        zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) < 0 ||
        set_int(self->sock, ZMQ_RECONNECT_IVL, RECONNECT_IVL_MS) < 0 ||
        set_int(self->sock, ZMQ_RECONNECT_IVL_MAX, RECONNECT_IVL_MAX_MS) < 0 ||
        set_int(self->sock, ZMQ_HEARTBEAT_IVL, HEARTBEAT_IVL_MS) < 0 ||
        set_int(self->sock, ZMQ_HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS) < 0 ||
        jr_clientsock_curve(self->sock, o->curve_server_key, o->curve_public_key,
                            o->curve_secret_key) < 0 ||
        zmq_connect(self->sock, endpoint) < 0) {
        err = errno;
        goto fail;
    }
    return self;

fail:
    jr_client_destroy(&self);
    errno = err;
    return NULL;
}

void jr_client_destroy(jr_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jr_client_t *self = *self_p;
    *self_p = NULL;

    if (self->slots) {
        for (size_t i = 0; i < self->window; i++)
            if (self->slots[i].state != SLOT_FREE)
                slot_finish(self, (uint32_t)i, JR_CLIENT_ABANDONED, "", "");
    }
    if (self->sock)
        zmq_close(self->sock);
    jr_clientsock_context_end(self->zctx, self->own_zctx);
    free(self->slots);
    free(self->buckets);
    free(self);
}

/* Puts a packed envelope in flight under (stream, id): `packed` is taken
 * over (freed on failure). See jr_client_submit(). */
static int submit(jr_client_t *self, const char *stream, const char *id, uint8_t *packed,
                  size_t len, void *user)
{
    size_t stream_len = strlen(stream);
    size_t id_len = strlen(id);
    char *key = malloc(stream_len + id_len + 2);
    if (!key) {
        free(packed);
        return JR_CLIENT_ENOMEM;
    }
    memcpy(key, stream, stream_len + 1);
    memcpy(key + stream_len + 1, id, id_len + 1);

    if (self->free_head == NO_SLOT) {
        int64_t deadline =
            self->submit_timeout_ms ? deadline_after(self->submit_timeout_ms) : NEVER;
        int rc = pump(self, deadline, has_room, 0);
        if (rc < 0) {
            free(packed);
            free(key);
            return rc;
        }
    }

    uint32_t i = self->free_head;
    slot_t *s = &self->slots[i];
    self->free_head = s->next;
    uint32_t *bucket = &self->buckets[key_hash(stream, id) & self->bucket_mask];
    *s = (slot_t){
        .state = SLOT_WAITING,
        .key = key,
        .id = key + stream_len + 1,
        .packed = packed,
        .packed_len = len,
        .user = user,
        .next = *bucket,
    };
    *bucket = i;
    self->stats.pending++;

    int64_t now = now_ms();
    if (slot_send(self, s, now) < 0) {
        int err = errno;
        slot_release(self, i);
        errno = err;
        return JR_CLIENT_EZMQ;
    }
    self->stats.submitted++;

    /* Pick up answers that are already here, so outcomes arrive steadily
     * rather than only when the window fills. A failure here concerns the
     * socket, not this envelope, which is in flight: the next call reports it. */
    if (drain_answers(self, now) == 0)
        (void)run_due(self, now);
    return 0;
}

int jr_client_submit(jr_client_t *self, const Joinedreview__V1__Envelope *env, void *user)
{
    if (!self || !env || !env->stream || !*env->stream || !env->source_event_id ||
        !*env->source_event_id)
        return JR_CLIENT_EINVAL;
    if (slot_find(self, env->stream, env->source_event_id) != NO_SLOT)
        return JR_CLIENT_EINFLIGHT;
    size_t len = joinedreview__v1__envelope__get_packed_size(env);
    if (len > JR_CLIENT_MAX_ENVELOPE)
        return JR_CLIENT_ETOOBIG;
    uint8_t *packed = malloc(len ? len : 1);
    if (!packed)
        return JR_CLIENT_ENOMEM;
    joinedreview__v1__envelope__pack(env, packed);
    return submit(self, env->stream, env->source_event_id, packed, len, user);
}

int jr_client_submit_packed(jr_client_t *self, const uint8_t *packed, size_t len, void *user)
{
    if (!self || (!packed && len))
        return JR_CLIENT_EINVAL;
    if (len > JR_CLIENT_MAX_ENVELOPE)
        return JR_CLIENT_ETOOBIG;
    Joinedreview__V1__Envelope *env = joinedreview__v1__envelope__unpack(NULL, len, packed);
    int rc = JR_CLIENT_EINVAL;
    uint8_t *copy = NULL;
    if (!env || !env->stream || !*env->stream || !env->source_event_id || !*env->source_event_id)
        goto done;
    rc = JR_CLIENT_EINFLIGHT;
    if (slot_find(self, env->stream, env->source_event_id) != NO_SLOT)
        goto done;
    rc = JR_CLIENT_ENOMEM;
    copy = malloc(len ? len : 1);
    if (!copy)
        goto done;
    memcpy(copy, packed, len);
    rc = submit(self, env->stream, env->source_event_id, copy, len, user);
done:
    if (env)
        joinedreview__v1__envelope__free_unpacked(env, NULL);
    return rc;
}

int jr_client_poll(jr_client_t *self, int timeout_ms)
{
    if (!self)
        return JR_CLIENT_EINVAL;
    int rc =
        pump(self, deadline_after(timeout_ms < 0 ? 0 : timeout_ms), answered_since, self->answers);
    return rc == JR_CLIENT_ETIMEDOUT ? 0 : rc;
}

int jr_client_flush(jr_client_t *self, int timeout_ms)
{
    if (!self)
        return JR_CLIENT_EINVAL;
    int rc = pump(self, deadline_after(timeout_ms), none_pending, 0);
    if (rc == JR_CLIENT_ETIMEDOUT)
        return (int)self->stats.pending;
    return rc;
}

size_t jr_client_pending(const jr_client_t *self)
{
    return self ? self->stats.pending : 0;
}

void jr_client_stats(const jr_client_t *self, jr_client_stats_t *out)
{
    if (!out)
        return;
    if (!self) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = self->stats;
}

const char *jr_client_status_name(int status)
{
    switch (status) {
    case JR_CLIENT_OK:
        return "OK";
    case JR_CLIENT_DUPLICATE:
        return "DUPLICATE";
    case JR_CLIENT_PARKED:
        return "PARKED";
    case JR_CLIENT_REJECTED:
        return "REJECTED";
    case JR_CLIENT_ABANDONED:
        return "ABANDONED";
    default:
        return "UNKNOWN";
    }
}

const char *jr_client_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case JR_CLIENT_EINVAL:
        return "invalid argument, or an envelope without stream or source_event_id";
    case JR_CLIENT_ENOMEM:
        return "out of memory";
    case JR_CLIENT_EZMQ:
        return "the ZeroMQ socket failed";
    case JR_CLIENT_EINFLIGHT:
        return "an envelope with the same stream and source_event_id is still in flight";
    case JR_CLIENT_ETOOBIG:
        return "the envelope is too large";
    case JR_CLIENT_ETIMEDOUT:
        return "the window stayed full until the submit timeout";
    case JR_CLIENT_EINTR:
        return "interrupted by a signal";
    default:
        return "unknown error";
    }
}
