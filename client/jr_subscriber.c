/* jr_subscriber.c -- the Clone pattern over a SUB and a DEALER; see
 * jr_subscriber.h.
 *
 * `last` is the sequence applied. Snapshot items are applied as each reply
 * comes: the daemon sends them in sequence order, so when a snapshot stops
 * part-way (a callback's STOP, a timeout and a second try), everything up
 * to `last` is already reflected, and SINCE `last` brings the rest. */
#include "jr_subscriber.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "durable.h"
#include "jr_clientsock.h"

#define DEFAULT_REQUEST_TIMEOUT_MS 10000
#define DEFAULT_RETRY_MS           1000
#define DEFAULT_PROBE_MS           1000
#define DEFAULT_PROBE_MAX_MS       16000
#define DEFAULT_RCVHWM             100000
#define MAX_ITEMS                  10000 /* per SINCE request: the daemon's cap */
#define DRAIN_MAX                  1000  /* live messages handled in one poll */
#define MAX_REQUEST                512   /* a packed CatchupRequest; the filters are stream codes */
#define TOPIC_MAX                  128
#define COMPLAIN_EVERY_MS          30000 /* "asking again" said at most this often */

#define NEVER INT64_MAX

typedef Joinedreview__V1__CatchupRequest request_t;
typedef Joinedreview__V1__CatchupReply reply_t;
typedef Joinedreview__V1__Publication publication_t;

struct jr_subscriber {
    void *zctx;
    bool own_zctx;
    void *sub; /* NULL: no publish endpoint, or disconnected */
    void *dealer;
    int stop_fd;

    char *publish_ep;
    char *catchup_ep;
    char *lead;
    char *stream;
    unsigned topics;
    bool curve;
    char server_key[41], public_key[41], secret_key[41];
    int request_timeout_ms;
    int retry_ms;
    int probe_ms; /* < 0: never */
    int probe_max_ms;
    int give_up_ms;
    int rcvhwm;
    jr_subscriber_publication_fn *on_publication;
    jr_subscriber_statistics_fn *on_statistics;
    jr_subscriber_warning_fn *on_warning;
    void *ctx;

    bool positioned; /* `last` means something: resumed, or snapshot items applied */
    bool synced;     /* a sync has succeeded */
    uint64_t last;
    unsigned long serial; /* request ids */
    int64_t probe_at_ms;
    int probe_ivl_ms;
    int64_t complained_ms;
    char reason[200];
    jr_subscriber_stats_t stats;
};

/* ---- small things -------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 2, 3))) static void warn(jr_subscriber_t *self, const char *fmt, ...)
{
    if (!self->on_warning)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    self->on_warning(self->ctx, text);
}

/* Something new was applied: probe soon after the quiet begins. */
static void news(jr_subscriber_t *self)
{
    self->probe_ivl_ms = self->probe_ms;
    self->probe_at_ms = self->probe_ms < 0 ? NEVER : now_ms() + self->probe_ivl_ms;
}

static uint64_t delivered(const jr_subscriber_t *self)
{
    const jr_subscriber_stats_t *s = &self->stats;
    return s->live + s->replayed + s->snapshot + s->statistics;
}

/* Waits ms, or less when the stop descriptor becomes readable: 0 or
 * JR_SUBSCRIBER_EINTR. */
static int pause_ms(jr_subscriber_t *self, int ms)
{
    zmq_pollitem_t it = {NULL, self->stop_fd, ZMQ_POLLIN, 0};
    int n = self->stop_fd >= 0 ? 1 : 0;
    if (zmq_poll(n ? &it : NULL, n, ms) > 0 && (it.revents & ZMQ_POLLIN))
        return JR_SUBSCRIBER_EINTR;
    return 0;
}

/* After a request went unanswered (why NULL), or the daemon could not
 * answer it (why says so): whether to ask again. Said at most every 30 s;
 * with give_up_ms, false once the endpoint has been of no use that long. */
static bool retry(jr_subscriber_t *self, int64_t since_ms, const char *what, const char *why)
{
    int64_t now = now_ms(), waited = now - since_ms;
    if (self->give_up_ms && waited >= self->give_up_ms) {
        warn(self, "%s from %s: %s after %lld s; giving up", what, self->catchup_ep,
             why ? why : "no answer (is joinedreviewd running there, and does it accept this key?)",
             (long long)(waited / 1000));
        return false;
    }
    if (self->complained_ms == 0 || now - self->complained_ms >= COMPLAIN_EVERY_MS) {
        warn(self, "%s from %s: %s; asking again", what, self->catchup_ep,
             why ? why : "no answer yet");
        self->complained_ms = now;
    }
    return true;
}

/* Hands one publication over; `last` moves to it unless the callback could
 * not deal with it. 0, JR_SUBSCRIBER_ESTOPPED or JR_SUBSCRIBER_ECALLBACK. */
static int apply(jr_subscriber_t *self, uint64_t seq, const char *topic, const uint8_t *data,
                 size_t len, int origin)
{
    int rc =
        self->on_publication ? self->on_publication(self->ctx, seq, topic, data, len, origin) : 0;
    if (rc < 0)
        return JR_SUBSCRIBER_ECALLBACK;
    self->last = seq;
    self->positioned = true;
    if (origin == JR_SUBSCRIBER_LIVE)
        self->stats.live++;
    else if (origin == JR_SUBSCRIBER_REPLAY)
        self->stats.replayed++;
    else
        self->stats.snapshot++;
    news(self);
    return rc > 0 ? JR_SUBSCRIBER_ESTOPPED : 0;
}

/* ---- one request and its replies ----------------------------------------- */

/* What to do with one reply to the request in flight: 0 (done with it), 1
 * (kept: the callee owns it now), or a negative JR_SUBSCRIBER_E* to abandon
 * the request. Called for every reply, whatever its status. */
typedef int(step_fn)(jr_subscriber_t *self, reply_t *reply, void *arg);

/* Reads one message from the DEALER: 0 with *out (NULL when it was not one
 * CatchupReply frame), or -1 when nothing was there after all. */
static int recv_reply(jr_subscriber_t *self, reply_t **out)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    *out = NULL;
    if (zmq_msg_recv(&msg, self->dealer, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&msg);
        return -1;
    }
    bool more = zmq_msg_more(&msg);
    if (!more)
        *out =
            joinedreview__v1__catchup_reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
    zmq_msg_close(&msg);
    while (more) { /* one frame per reply: drain the rest of a stray one */
        zmq_msg_init(&msg);
        more = zmq_msg_recv(&msg, self->dealer, 0) >= 0 && zmq_msg_more(&msg);
        zmq_msg_close(&msg);
    }
    return 0;
}

/* Sends req under its request id (a fresh one when it has none) and passes
 * each reply carrying that id
 * to step, until the one marked last or one whose status is not OK (the
 * status lands in *status). Replies to earlier, abandoned requests are
 * dropped. Returns 0 when the final reply came, 1 when none came within
 * timeout_ms of the request or the previous reply, or a negative
 * JR_SUBSCRIBER_E*. */
static int exchange(jr_subscriber_t *self, request_t *req, step_fn *step, void *arg, int timeout_ms,
                    int *status)
{
    char id[64];
    if (req->request_id)
        snprintf(id, sizeof id, "%s", req->request_id);
    else
        snprintf(id, sizeof id, "sub-%ld-%lu", (long)getpid(), ++self->serial);
    req->request_id = id;
    size_t len = joinedreview__v1__catchup_request__get_packed_size(req);
    uint8_t buf[MAX_REQUEST];
    if (len > sizeof buf) {
        warn(self, "catch-up request too large (%zu bytes): shorten the lead or stream filter",
             len);
        return JR_SUBSCRIBER_EINVAL;
    }
    joinedreview__v1__catchup_request__pack(req, buf);
    while (zmq_send(self->dealer, buf, len, 0) < 0) {
        if (errno != EINTR) {
            warn(self, "catch-up %s: %s", self->catchup_ep, zmq_strerror(errno));
            return JR_SUBSCRIBER_EZMQ;
        }
    }
    self->stats.requests++;

    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        zmq_pollitem_t items[] = {{self->dealer, 0, ZMQ_POLLIN, 0},
                                  {NULL, self->stop_fd, ZMQ_POLLIN, 0}};
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 1;
        int rc = zmq_poll(items, self->stop_fd >= 0 ? 2 : 1, (long)left);
        if (rc < 0 && errno != EINTR) {
            warn(self, "zmq_poll: %s", zmq_strerror(errno));
            return JR_SUBSCRIBER_EZMQ;
        }
        if (rc <= 0)
            continue;
        if (self->stop_fd >= 0 && (items[1].revents & ZMQ_POLLIN))
            return JR_SUBSCRIBER_EINTR;
        reply_t *reply;
        if (!(items[0].revents & ZMQ_POLLIN) || recv_reply(self, &reply) < 0)
            continue;
        if (!reply) {
            warn(self, "catch-up: an unreadable reply (not one CatchupReply frame); ignored");
            continue;
        }
        if (!reply->request_id || strcmp(reply->request_id, id) != 0) {
            joinedreview__v1__catchup_reply__free_unpacked(reply, NULL);
            continue;
        }
        deadline = now_ms() + timeout_ms;
        *status = reply->has_status ? (int)reply->status : 0;
        bool last = (reply->has_last && reply->last) || *status != JR_SUBSCRIBER_REPLY_OK;
        if (*status != JR_SUBSCRIBER_REPLY_OK)
            snprintf(self->reason, sizeof self->reason, "%s",
                     reply->reason ? reply->reason : "no reason given");
        int r = step ? step(self, reply, arg) : 0;
        if (r != 1)
            joinedreview__v1__catchup_reply__free_unpacked(reply, NULL);
        if (r < 0)
            return r;
        if (last)
            return 0;
    }
}

/* Sends req until the daemon answers it, asking again after a timeout and
 * after UNAVAILABLE for as long as retry() allows; `arg` (`size` bytes) is
 * cleared before each try. 0 with *status (any but UNAVAILABLE), or a
 * negative JR_SUBSCRIBER_E*. */
static int exchange_answered(jr_subscriber_t *self, request_t *req, step_fn *step, void *arg,
                             size_t size, const char *what, int64_t asked, int *status)
{
    for (;;) {
        memset(arg, 0, size);
        req->request_id = NULL; /* a fresh one each time */
        int x = exchange(self, req, step, arg, self->request_timeout_ms, status);
        if (x < 0)
            return x;
        if (x == 0 && *status != JR_SUBSCRIBER_REPLY_UNAVAILABLE)
            return 0;
        if (x == 0) {
            int rc = pause_ms(self, self->retry_ms);
            if (rc < 0)
                return rc;
        }
        if (!retry(self, asked, what, x == 0 ? self->reason : NULL))
            return JR_SUBSCRIBER_ETIMEDOUT;
    }
}

/* ---- SNAPSHOT --------------------------------------------------------------- */

typedef struct {
    uint64_t consistent; /* the sequence the snapshot is consistent with */
    bool has_consistent;
    uint64_t previous; /* the item before, for the order the contract promises */
} snapshot_t;

static int snapshot_step(jr_subscriber_t *self, reply_t *reply, void *arg)
{
    snapshot_t *s = arg;
    if (reply->status != JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK)
        return 0;
    if (reply->has_sequence) {
        s->consistent = reply->sequence;
        s->has_consistent = true;
    }
    for (size_t i = 0; i < reply->n_items; i++) {
        const publication_t *p = reply->items[i];
        if (s->has_consistent && p->sequence > s->consistent)
            warn(self, "catch-up: snapshot item %llu is newer than the snapshot (%llu)",
                 (unsigned long long)p->sequence, (unsigned long long)s->consistent);
        if (p->sequence <= s->previous)
            warn(self, "catch-up: snapshot item %llu came after %llu, out of sequence order",
                 (unsigned long long)p->sequence, (unsigned long long)s->previous);
        s->previous = p->sequence;
        if (p->sequence <= self->last)
            continue; /* what this subscriber has already (a snapshot after TOO_OLD) */
        int rc = apply(self, p->sequence, p->topic ? p->topic : "", p->payload.data, p->payload.len,
                       JR_SUBSCRIBER_SNAPSHOT);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Applies a snapshot's items above `last`, then moves `last` to the
 * sequence it is consistent with. */
static int take_snapshot(jr_subscriber_t *self)
{
    self->stats.snapshots++;
    request_t req = JOINEDREVIEW__V1__CATCHUP_REQUEST__INIT;
    req.has_kind = 1;
    req.kind = JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SNAPSHOT;
    req.lead = self->lead;
    req.stream = self->stream;
    snapshot_t s;
    int status = 0;
    int rc =
        exchange_answered(self, &req, snapshot_step, &s, sizeof s, "snapshot", now_ms(), &status);
    if (rc < 0)
        return rc;
    if (status != JR_SUBSCRIBER_REPLY_OK) {
        warn(self, "the daemon refused a snapshot request (status %d): %s", status, self->reason);
        return JR_SUBSCRIBER_EREFUSED;
    }
    if (!s.has_consistent) {
        warn(self, "catch-up: the snapshot does not say which sequence it is consistent with");
        return JR_SUBSCRIBER_EPROTO;
    }
    if (s.consistent > self->last) {
        self->last = s.consistent;
        news(self);
    }
    self->positioned = true;
    return 0;
}

/* ---- SINCE ------------------------------------------------------------------ */

typedef struct {
    uint64_t highest; /* the newest sequence the daemon has */
    bool has_highest;
    bool broken; /* an item did not follow on from `last` */
    uint64_t broken_at;
} since_t;

static int replay_step(jr_subscriber_t *self, reply_t *reply, void *arg)
{
    since_t *s = arg;
    if (reply->status != JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK)
        return 0;
    if (reply->has_sequence && (!s->has_highest || reply->sequence > s->highest)) {
        s->highest = reply->sequence;
        s->has_highest = true;
    }
    for (size_t i = 0; i < reply->n_items && !s->broken; i++) {
        const publication_t *p = reply->items[i];
        if (p->sequence <= self->last)
            continue; /* already applied (a live copy got there first) */
        if (p->sequence != self->last + 1) {
            s->broken = true;
            s->broken_at = p->sequence;
            break;
        }
        int rc = apply(self, p->sequence, p->topic ? p->topic : "", p->payload.data, p->payload.len,
                       JR_SUBSCRIBER_REPLAY);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Replays every publication after `last` until `last` is `until` or the
 * newest the daemon has, whichever is lower, asking again while it says
 * there is more. Falls back to a snapshot when the daemon no longer has
 * them (TOO_OLD). */
static int catch_up(jr_subscriber_t *self, uint64_t until)
{
    int64_t asked = now_ms();
    for (;;) {
        request_t req = JOINEDREVIEW__V1__CATCHUP_REQUEST__INIT;
        req.has_kind = 1;
        req.kind = JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SINCE;
        req.has_after_sequence = 1;
        req.after_sequence = self->last;
        req.has_max_items = 1;
        req.max_items = until - self->last < MAX_ITEMS ? (uint32_t)(until - self->last) : MAX_ITEMS;
        uint64_t before = self->last;
        since_t s;
        int status = 0;
        int rc = exchange_answered(self, &req, replay_step, &s, sizeof s, "replay", asked, &status);
        if (rc < 0)
            return rc;
        if (status == JR_SUBSCRIBER_REPLY_TOO_OLD) {
            warn(self, "the daemon no longer keeps what followed sequence %llu; taking a snapshot",
                 (unsigned long long)self->last);
            return take_snapshot(self);
        }
        if (status != JR_SUBSCRIBER_REPLY_OK) {
            warn(self, "the daemon refused a replay request (status %d): %s", status, self->reason);
            return JR_SUBSCRIBER_EREFUSED;
        }
        if (s.broken) {
            warn(self, "catch-up: the replay after %llu went on at %llu; taking a snapshot",
                 (unsigned long long)self->last, (unsigned long long)s.broken_at);
            return take_snapshot(self);
        }
        if (!s.has_highest) {
            warn(self, "catch-up: a replay reply without the newest sequence");
            return JR_SUBSCRIBER_EPROTO;
        }
        if (s.highest < before) {
            /* Not the history this subscriber followed: a new database. */
            warn(self,
                 "the daemon's newest sequence is %llu, below %llu: a different database? "
                 "starting again from a snapshot",
                 (unsigned long long)s.highest, (unsigned long long)before);
            self->last = 0;
            return take_snapshot(self);
        }
        if (self->last >= s.highest || self->last >= until)
            return 0;
        if (self->last == before) {
            /* It says there is more but sent none: do not spin. */
            snprintf(self->reason, sizeof self->reason,
                     "it has up to %llu but sent nothing after %llu", (unsigned long long)s.highest,
                     (unsigned long long)self->last);
            rc = pause_ms(self, self->retry_ms);
            if (rc < 0)
                return rc;
            if (!retry(self, asked, "replay", self->reason))
                return JR_SUBSCRIBER_ETIMEDOUT;
        } else {
            asked = now_ms(); /* it answers: the clock for giving up starts again */
        }
    }
}

/* ---- live publications -------------------------------------------------------- */

/* The sequence a review's or a notice's payload carries: 0 with *seq, 1 for
 * a topic without one (a newer version's), -1 when it cannot be read. */
static int sequence_of(const char *topic, const uint8_t *data, size_t len, uint64_t *seq)
{
    bool has = false;
    if (strcmp(topic, "review") == 0) {
        Joinedreview__V1__ConsolidatedReview *r =
            joinedreview__v1__consolidated_review__unpack(NULL, len, data);
        if (r) {
            has = r->has_sequence;
            *seq = r->sequence;
            joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
        }
    } else if (strncmp(topic, "notice.", 7) == 0) {
        Joinedreview__V1__DueNotice *n = joinedreview__v1__due_notice__unpack(NULL, len, data);
        if (n) {
            has = n->has_sequence;
            *seq = n->sequence;
            joinedreview__v1__due_notice__free_unpacked(n, NULL);
        }
    } else if (strncmp(topic, "group.", 6) == 0) {
        Joinedreview__V1__GroupSuggestion *g =
            joinedreview__v1__group_suggestion__unpack(NULL, len, data);
        if (g) {
            has = g->has_sequence;
            *seq = g->sequence;
            joinedreview__v1__group_suggestion__free_unpacked(g, NULL);
        }
    } else {
        return 1;
    }
    return has ? 0 : -1;
}

static int deliver_statistics(jr_subscriber_t *self, const uint8_t *data, size_t len)
{
    Joinedreview__V1__Statistics *st = joinedreview__v1__statistics__unpack(NULL, len, data);
    if (!st) {
        self->stats.unreadable++;
        warn(self, "unreadable statistics; ignored");
        return 0;
    }
    int rc = self->on_statistics ? self->on_statistics(self->ctx, st) : 0;
    joinedreview__v1__statistics__free_unpacked(st, NULL);
    if (rc < 0)
        return JR_SUBSCRIBER_ECALLBACK;
    self->stats.statistics++;
    return rc > 0 ? JR_SUBSCRIBER_ESTOPPED : 0;
}

/* One message from the SUB: [topic][payload]. 0, or a negative
 * JR_SUBSCRIBER_E* from filling a gap or from a callback. */
static int on_live(jr_subscriber_t *self)
{
    zmq_msg_t topic_msg, body;
    zmq_msg_init(&topic_msg);
    zmq_msg_init(&body);
    int rc = 0;
    if (zmq_msg_recv(&topic_msg, self->sub, ZMQ_DONTWAIT) < 0)
        goto done;
    bool two = false, more = zmq_msg_more(&topic_msg);
    if (more && zmq_msg_recv(&body, self->sub, 0) >= 0) {
        more = zmq_msg_more(&body);
        two = !more;
    }
    while (more) { /* drain a message of the wrong shape */
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        more = zmq_msg_recv(&extra, self->sub, 0) >= 0 && zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
    char topic[TOPIC_MAX];
    size_t tlen = zmq_msg_size(&topic_msg);
    if (!two || tlen >= sizeof topic || memchr(zmq_msg_data(&topic_msg), '\0', tlen)) {
        self->stats.unreadable++;
        warn(self, "a publication that is not [topic][payload]; ignored");
        goto done;
    }
    memcpy(topic, zmq_msg_data(&topic_msg), tlen);
    topic[tlen] = '\0';
    const uint8_t *data = zmq_msg_data(&body);
    size_t len = zmq_msg_size(&body);

    if (strcmp(topic, "statistics") == 0) {
        if (self->topics & JR_SUBSCRIBER_STATISTICS)
            rc = deliver_statistics(self, data, len);
        goto done;
    }
    if (!(self->topics & JR_SUBSCRIBER_RECORDS))
        goto done;
    uint64_t seq = 0;
    int known = sequence_of(topic, data, len, &seq);
    if (known > 0)
        goto done; /* a topic this version does not know */
    if (known < 0) {
        /* Its sequence is unknown: the next one will show the gap, and the
         * replay will say what it was. */
        self->stats.unreadable++;
        warn(self, "an unreadable publication under \"%s\"; ignored", topic);
        goto done;
    }
    if (seq > self->last + 1) {
        /* Only the gap: what follows this one is queued here already. */
        self->stats.gaps++;
        rc = catch_up(self, seq - 1);
        if (rc < 0)
            goto done;
    }
    if (seq == self->last + 1)
        rc = apply(self, seq, topic, data, len, JR_SUBSCRIBER_LIVE);
    else
        self->stats.dropped++;
done:
    zmq_msg_close(&topic_msg);
    zmq_msg_close(&body);
    return rc;
}

/* ---- sockets ------------------------------------------------------------------ */

static void *socket_for(jr_subscriber_t *self, int type, const char *endpoint)
{
    void *s = zmq_socket(self->zctx, type);
    int zero = 0;
    if (!s || zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        (type == ZMQ_SUB &&
         zmq_setsockopt(s, ZMQ_RCVHWM, &self->rcvhwm, sizeof self->rcvhwm) != 0) ||
        jr_clientsock_curve(s, self->curve ? self->server_key : NULL, self->public_key,
                            self->secret_key) != 0) {
        int err = zmq_errno();
        if (s)
            zmq_close(s);
        errno = err;
        return NULL;
    }
    if (type == ZMQ_SUB) {
        /* Both, whatever the caller wants: every sequence must be seen for a
         * gap to show. */
        static const char *const records[] = {"review", "notice.", "group."};
        for (size_t i = 0; (self->topics & JR_SUBSCRIBER_RECORDS) && i < 3; i++)
            zmq_setsockopt(s, ZMQ_SUBSCRIBE, records[i], strlen(records[i]));
        if (self->topics & JR_SUBSCRIBER_STATISTICS)
            zmq_setsockopt(s, ZMQ_SUBSCRIBE, "statistics", 10);
    }
    if (zmq_connect(s, endpoint) != 0) {
        int err = zmq_errno();
        zmq_close(s);
        errno = err;
        return NULL;
    }
    return s;
}

int jr_subscriber_connect(jr_subscriber_t *self)
{
    if (!self || !self->publish_ep)
        return JR_SUBSCRIBER_EINVAL;
    if (self->sub)
        return 0;
    self->sub = socket_for(self, ZMQ_SUB, self->publish_ep);
    return self->sub ? 0 : JR_SUBSCRIBER_EZMQ;
}

void jr_subscriber_disconnect(jr_subscriber_t *self)
{
    if (self && self->sub) {
        zmq_close(self->sub);
        self->sub = NULL;
    }
}

/* ---- the public functions ------------------------------------------------------ */

static char *copy(const char *s, bool *failed)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    *failed |= c == NULL;
    return c;
}

jr_subscriber_t *jr_subscriber_new(const jr_subscriber_options_t *o)
{
    jr_subscriber_t *self = NULL;
    int err = EINVAL;
    if (!o || !o->catchup_endpoint || !*o->catchup_endpoint ||
        (o->topics & ~(unsigned)(JR_SUBSCRIBER_RECORDS | JR_SUBSCRIBER_STATISTICS)) ||
        o->request_timeout_ms < 0 || o->retry_ms < 0 || o->probe_max_ms < 0 || o->give_up_ms < 0 ||
        o->rcvhwm < 0 ||
        !jr_clientsock_keys_ok(o->curve_server_key, o->curve_public_key, o->curve_secret_key))
        goto fail;

    err = ENOMEM;
    self = calloc(1, sizeof *self);
    if (!self)
        goto fail;
    self->stop_fd = -1;
    bool failed = false;
    self->publish_ep = copy(o->publish_endpoint, &failed);
    self->catchup_ep = copy(o->catchup_endpoint, &failed);
    self->lead = copy(o->lead, &failed);
    self->stream = copy(o->stream, &failed);
    if (failed)
        goto fail;
    self->topics = o->topics ? o->topics : JR_SUBSCRIBER_RECORDS;
    if (o->curve_server_key) {
        self->curve = true;
        memcpy(self->server_key, o->curve_server_key, 41);
        memcpy(self->public_key, o->curve_public_key, 41);
        memcpy(self->secret_key, o->curve_secret_key, 41);
    }
    self->request_timeout_ms =
        o->request_timeout_ms ? o->request_timeout_ms : DEFAULT_REQUEST_TIMEOUT_MS;
    self->retry_ms = o->retry_ms ? o->retry_ms : DEFAULT_RETRY_MS;
    self->probe_ms = o->probe_ms < 0 ? -1 : o->probe_ms ? o->probe_ms : DEFAULT_PROBE_MS;
    self->probe_max_ms = o->probe_max_ms ? o->probe_max_ms : DEFAULT_PROBE_MAX_MS;
    if (self->probe_max_ms < self->probe_ms)
        self->probe_max_ms = self->probe_ms;
    self->give_up_ms = o->give_up_ms;
    self->rcvhwm = o->rcvhwm ? o->rcvhwm : DEFAULT_RCVHWM;
    self->on_publication = o->on_publication;
    self->on_statistics = o->on_statistics;
    self->on_warning = o->on_warning;
    self->ctx = o->ctx;
    if (o->resume) {
        self->positioned = true;
        self->last = o->resume_after;
    }
    news(self);

    self->zctx = jr_clientsock_context(o->zmq_context, &self->own_zctx);
    if (!self->zctx) {
        err = errno;
        goto fail;
    }
    /* The SUB first: what is published while the catch-up is answered
     * queues. */
    if (self->publish_ep && jr_subscriber_connect(self) < 0) {
        err = errno;
        goto fail;
    }
    self->dealer = socket_for(self, ZMQ_DEALER, self->catchup_ep);
    if (!self->dealer) {
        err = errno;
        goto fail;
    }
    return self;

fail:
    jr_subscriber_destroy(&self);
    errno = err;
    return NULL;
}

void jr_subscriber_destroy(jr_subscriber_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jr_subscriber_t *self = *self_p;
    *self_p = NULL;
    if (self->sub)
        zmq_close(self->sub);
    if (self->dealer)
        zmq_close(self->dealer);
    jr_clientsock_context_end(self->zctx, self->own_zctx);
    free(self->publish_ep);
    free(self->catchup_ep);
    free(self->lead);
    free(self->stream);
    free(self);
}

void jr_subscriber_set_stop_fd(jr_subscriber_t *self, int fd)
{
    if (self)
        self->stop_fd = fd < 0 ? -1 : fd;
}

int jr_subscriber_sync(jr_subscriber_t *self)
{
    if (!self)
        return JR_SUBSCRIBER_EINVAL;
    if (!(self->topics & JR_SUBSCRIBER_RECORDS))
        return 0;
    int rc;
    if (!self->positioned) {
        rc = take_snapshot(self);
    } else {
        if (self->synced)
            self->stats.probes++;
        rc = catch_up(self, UINT64_MAX);
    }
    if (rc == 0)
        self->synced = true;
    return rc;
}

int jr_subscriber_poll(jr_subscriber_t *self, int timeout_ms)
{
    if (!self)
        return JR_SUBSCRIBER_EINVAL;
    bool records = (self->topics & JR_SUBSCRIBER_RECORDS) != 0;
    if (records && !self->synced) {
        int rc = jr_subscriber_sync(self);
        if (rc < 0)
            return rc;
    }
    uint64_t base = delivered(self);
    int64_t deadline = timeout_ms < 0 ? NEVER : now_ms() + timeout_ms;
    for (;;) {
        /* A shed feed (disconnected) is not probed: that is its point. */
        bool probing =
            records && self->probe_ms >= 0 && (self->sub != NULL || self->publish_ep == NULL);
        int64_t now = now_ms();
        if (probing && now >= self->probe_at_ms) {
            uint64_t before = self->last;
            self->stats.probes++;
            int rc = catch_up(self, UINT64_MAX);
            if (rc < 0)
                return rc;
            if (self->last == before) {
                int ivl = self->probe_ivl_ms > self->probe_max_ms / 2 ? self->probe_max_ms
                                                                      : self->probe_ivl_ms * 2;
                self->probe_ivl_ms = ivl;
                self->probe_at_ms = now_ms() + ivl;
            }
            if (delivered(self) != base)
                break;
            continue;
        }

        int64_t wake = probing && self->probe_at_ms < deadline ? self->probe_at_ms : deadline;
        long wait = wake == NEVER ? -1 : wake > now ? (long)(wake - now) : 0;
        zmq_pollitem_t items[2];
        int n = 0, sub_at = -1, stop_at = -1;
        if (self->sub) {
            sub_at = n;
            items[n++] = (zmq_pollitem_t){self->sub, 0, ZMQ_POLLIN, 0};
        }
        if (self->stop_fd >= 0) {
            stop_at = n;
            items[n++] = (zmq_pollitem_t){NULL, self->stop_fd, ZMQ_POLLIN, 0};
        }
        if (n == 0 && wait < 0)
            break; /* nothing could ever come */
        int rc = zmq_poll(n ? items : NULL, n, wait);
        if (rc < 0 && errno != EINTR) {
            warn(self, "zmq_poll: %s", zmq_strerror(errno));
            return JR_SUBSCRIBER_EZMQ;
        }
        if (rc > 0 && stop_at >= 0 && (items[stop_at].revents & ZMQ_POLLIN))
            return JR_SUBSCRIBER_EINTR;
        if (rc > 0 && sub_at >= 0 && (items[sub_at].revents & ZMQ_POLLIN)) {
            for (int i = 0; i < DRAIN_MAX && self->sub; i++) {
                int events = 0;
                size_t elen = sizeof events;
                if (zmq_getsockopt(self->sub, ZMQ_EVENTS, &events, &elen) != 0 ||
                    !(events & ZMQ_POLLIN))
                    break;
                int r = on_live(self);
                if (r < 0)
                    return r;
            }
            if (delivered(self) != base)
                break;
        }
        if (now_ms() >= deadline)
            break;
    }
    uint64_t n = delivered(self) - base;
    return n > INT_MAX ? INT_MAX : (int)n;
}

uint64_t jr_subscriber_sequence(const jr_subscriber_t *self)
{
    return self ? self->last : 0;
}

typedef struct {
    jr_subscriber_reply_fn *fn;
    void *arg;
} ask_t;

static int ask_step(jr_subscriber_t *self, reply_t *reply, void *arg)
{
    (void)self;
    const ask_t *a = arg;
    return a->fn && a->fn(a->arg, reply) ? 1 : 0;
}

int jr_subscriber_ask(jr_subscriber_t *self, const jr_subscriber_request_t *r,
                      jr_subscriber_reply_fn *on_reply, void *arg, int timeout_ms)
{
    if (!self || !r || timeout_ms < 0)
        return JR_SUBSCRIBER_EINVAL;
    request_t req = JOINEDREVIEW__V1__CATCHUP_REQUEST__INIT;
    req.has_kind = 1;
    req.kind = (Joinedreview__V1__CatchupRequest__Kind)r->kind;
    if (r->kind == JR_SUBSCRIBER_ASK_SINCE) {
        req.has_after_sequence = 1;
        req.after_sequence = r->after;
        req.has_max_items = r->max_items != 0;
        req.max_items = r->max_items;
    }
    req.lead = (char *)r->lead;
    req.stream = (char *)r->stream;
    req.request_id = (char *)r->request_id;
    ask_t a = {on_reply, arg};
    int status = 0;
    int x = exchange(self, &req, ask_step, &a, timeout_ms ? timeout_ms : self->request_timeout_ms,
                     &status);
    if (x < 0)
        return x;
    return x == 1 ? JR_SUBSCRIBER_ETIMEDOUT : status > 0 ? status : JR_SUBSCRIBER_EPROTO;
}

const char *jr_subscriber_reason(const jr_subscriber_t *self)
{
    return self ? self->reason : "";
}

void jr_subscriber_stats(const jr_subscriber_t *self, jr_subscriber_stats_t *out)
{
    if (out)
        *out = self ? self->stats : (jr_subscriber_stats_t){0};
}

const char *jr_subscriber_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case JR_SUBSCRIBER_EINVAL:
        return "invalid argument or option";
    case JR_SUBSCRIBER_ENOMEM:
        return "out of memory";
    case JR_SUBSCRIBER_EZMQ:
        return "a ZeroMQ socket failed";
    case JR_SUBSCRIBER_ETIMEDOUT:
        return "the catch-up endpoint gave no usable answer in time";
    case JR_SUBSCRIBER_EREFUSED:
        return "the daemon refused the request";
    case JR_SUBSCRIBER_EPROTO:
        return "the daemon's answer broke the wire contract";
    case JR_SUBSCRIBER_ECALLBACK:
        return "a callback failed";
    case JR_SUBSCRIBER_ESTOPPED:
        return "a callback asked to stop";
    case JR_SUBSCRIBER_EINTR:
        return "interrupted";
    default:
        return "unknown error";
    }
}

/* ---- the state file ----------------------------------------------------------- */

int jr_subscriber_state_load(const char *path, uint64_t *sequence, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char buf[64];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    bool bad = ferror(f) || !feof(f);
    fclose(f);
    buf[n] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (bad || n == 0 || buf[0] < '0' || buf[0] > '9' || errno ||
        strspn(end, " \t\r\n") != strlen(end)) {
        snprintf(err, errlen, "%s: not a state file (one sequence number expected)", path);
        return -1;
    }
    *sequence = (uint64_t)v;
    return 0;
}

int jr_subscriber_state_save(const char *path, uint64_t sequence, char *err, size_t errlen)
{
    char dir[PATH_MAX], text[32];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    const char *name = dir;
    char *slash = strrchr(dir, '/');
    if (!slash) {
        name = path;
        snprintf(dir, sizeof dir, ".");
    } else {
        name = path + (slash - dir) + 1;
        if (slash == dir)
            dir[1] = '\0';
        else
            *slash = '\0';
    }
    int len = snprintf(text, sizeof text, "%llu\n", (unsigned long long)sequence);
    if (jr_durable_write(dir, name, text, (size_t)len) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
