/* tail.c -- see tail.h.
 *
 * The dance (zguide chapter 5, "Clone"; proto/joinedreview.proto, "Catch-up"):
 *
 *   1. connect the SUB first, so that what is published from now on queues;
 *   2. ask the catch-up ROUTER for SINCE the persisted sequence, or for a
 *      SNAPSHOT when there is none (or the daemon answers TOO_OLD);
 *   3. print the snapshot or replay; `last` becomes the sequence they are
 *      consistent with;
 *   4. read the SUB: drop what is at or below `last`; a sequence above
 *      last + 1 is a gap, filled with SINCE last before going on;
 *   5. when nothing arrives for a while, ask SINCE last anyway: PUB drops
 *      silently, and a lost *final* publication leaves no gap to notice.
 *
 * `last` always means: every publication up to it is reflected in what was
 * printed (or deliberately filtered out). The state file holds `last`; it is
 * written after the lines it covers were flushed, so a crash repeats lines
 * rather than losing them. One thread; SIGTERM/SIGINT arrive on a signalfd in
 * the same zmq_poll. */
#include "tail.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "joinedreview/joinedreview.pb-c.h"

#define EXIT_TROUBLE 2

#define DEFAULT_PUBLISH "tcp://127.0.0.1:5561"
#define DEFAULT_CATCHUP "tcp://127.0.0.1:5562"

#define REPLY_TIMEOUT_MS 10000  /* no reply for this long: ask again */
#define RETRY_WAIT_MS    1000   /* after UNAVAILABLE, or a reply that made no progress */
#define PROBE_MIN_MS     1000   /* first "anything I missed?" after the last news */
#define PROBE_MAX_MS     16000  /* ... then doubling up to this */
#define MAX_ITEMS        10000  /* per SINCE request: the daemon's cap */
#define DRAIN_MAX        1000   /* SUB messages handled between two state writes */
#define PERSIST_EVERY    256    /* lines printed between two state writes, at most */
#define SUB_HWM          100000 /* queued publications while a catch-up is answered */

#define K_REVIEW     1u
#define K_NOTICE     2u
#define K_STATISTICS 4u

typedef Joinedreview__V1__CatchupRequest request_t;
typedef Joinedreview__V1__CatchupReply reply_t;
typedef Joinedreview__V1__Publication publication_t;

typedef struct {
    /* options */
    const char *publish_ep;
    const char *catchup_ep;
    const char *state_path;
    unsigned kinds;
    bool sequenced; /* reviews or notices wanted: follow the sequence */
    const char *stream;
    const char *lead;
    bool has_nhs;
    char nhs[11];
    const char *server_key; /* CURVE: the daemon's public key, or NULL */
    char public_key[41], secret_key[41];
    unsigned long count; /* 0: no limit */
    long idle_exit_s;    /* 0: never */
    const jr_tail_helpers_t *h;
    /* sockets */
    void *zctx;
    void *sub;
    void *dealer;
    int sigfd;
    /* progress */
    bool stop;      /* a signal, --count reached, or trouble */
    int status;     /* the exit status */
    uint64_t last;  /* every publication up to this is reflected */
    uint64_t saved; /* what the state file holds */
    bool saved_valid;
    unsigned long printed;
    unsigned unsaved; /* lines printed since the state file was written */
    unsigned long requests;
    int64_t news_ms;       /* when something new last arrived */
    int64_t probe_ms;      /* when to ask SINCE unprompted */
    int64_t complained_ms; /* when a retry was last reported */
    char reason[200];      /* the daemon's reason with the last status but OK */
    int probe_ivl_ms;
} tail_t;

/* ---- small things ------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("joinedreview tail: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void trouble(tail_t *t)
{
    t->status = EXIT_TROUBLE;
    t->stop = true;
}

static void news(tail_t *t)
{
    t->news_ms = now_ms();
    t->probe_ivl_ms = PROBE_MIN_MS;
    t->probe_ms = t->news_ms + t->probe_ivl_ms;
}

static bool has(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], s) == 0)
            return true;
    return false;
}

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Reads what the signalfd holds; true when it was SIGTERM or SIGINT. */
static bool take_signal(tail_t *t)
{
    struct signalfd_siginfo si;
    if (read(t->sigfd, &si, sizeof si) != (ssize_t)sizeof si)
        return false;
    t->stop = true;
    return true;
}

/* ---- the state file ----------------------------------------------------------- */

/* 0 with *seq, 1 when the file does not exist, -1 when it is unreadable or
 * holds something other than one decimal number. */
static int state_load(const char *path, uint64_t *seq)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 1;
        say("%s: %s", path, strerror(errno));
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
        say("%s: not a state file (one sequence number expected)", path);
        return -1;
    }
    *seq = (uint64_t)v;
    return 0;
}

/* Writes seq durably: a temporary file, fsync, rename over the old one,
 * fsync the directory. A crash leaves the old or the new file, whole. */
static int state_save(const char *path, uint64_t seq)
{
    char tmp[PATH_MAX], dir[PATH_MAX], text[32];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp ||
        snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        say("%s: path too long", path);
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int len = snprintf(text, sizeof text, "%llu\n", (unsigned long long)seq);

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        say("%s: %s", tmp, strerror(errno));
        return -1;
    }
    int rc = write(fd, text, (size_t)len) == len && fsync(fd) == 0 ? 0 : -1;
    if (rc < 0)
        say("%s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == 0) {
        say("%s: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        say("%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        say("%s: %s", dir, strerror(errno));
        rc = -1;
    }
    if (dfd >= 0)
        close(dfd);
    return rc;
}

/* Writes `last` when it moved (or always, with force). A state file that
 * cannot be written ends the run: a feed that cannot resume must say so. */
static void persist(tail_t *t, bool force)
{
    if (!t->state_path || !t->sequenced || (t->saved_valid && t->saved == t->last && !force))
        return;
    if (state_save(t->state_path, t->last) < 0) {
        trouble(t);
        return;
    }
    t->saved = t->last;
    t->saved_valid = true;
    t->unsaved = 0;
}

/* ---- printing ------------------------------------------------------------------ */

/* Prints one JSON object as one line and flushes it; takes ownership of obj. */
static void emit(tail_t *t, json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(obj);
    if (!text) {
        say("out of memory");
        trouble(t);
        return;
    }
    bool ok = fputs(text, stdout) >= 0 && putchar('\n') != EOF && fflush(stdout) == 0;
    free(text);
    if (!ok) {
        say("standard output: %s", strerror(errno));
        trouble(t);
        return;
    }
    t->printed++;
    t->unsaved++;
    news(t);
    if (t->count && t->printed >= t->count)
        t->stop = true;
}

/* {"topic":..., "sequence":..., ["snapshot":true,] key:{message}} */
static void emit_item(tail_t *t, const char *topic, uint64_t seq, bool snapshot, const char *key,
                      const ProtobufCMessage *msg)
{
    json_t *obj = json_object();
    json_t *body = t->h->message_json(msg);
    json_t *jtopic = json_string(topic);
    if (!obj || !body || !jtopic) {
        json_decref(obj);
        json_decref(body);
        json_decref(jtopic);
        say("publication %llu: cannot be shown as JSON (out of memory or bad text)",
            (unsigned long long)seq);
        trouble(t);
        return;
    }
    json_object_set_new(obj, "topic", jtopic);
    json_object_set_new(obj, "sequence", json_integer((json_int_t)seq));
    if (snapshot)
        json_object_set_new(obj, "snapshot", json_true());
    json_object_set_new(obj, key, body);
    emit(t, obj);
}

/* ---- filters and applying one publication ---------------------------------- */

typedef enum { TOPIC_REVIEW, TOPIC_NOTICE, TOPIC_STATISTICS, TOPIC_OTHER } topic_kind_t;

static topic_kind_t classify(const char *topic)
{
    if (strcmp(topic, "review") == 0)
        return TOPIC_REVIEW;
    if (strncmp(topic, "notice.", 7) == 0)
        return TOPIC_NOTICE;
    if (strcmp(topic, "statistics") == 0)
        return TOPIC_STATISTICS;
    return TOPIC_OTHER;
}

static bool review_wanted(const tail_t *t, const Joinedreview__V1__ConsolidatedReview *r)
{
    if (!(t->kinds & K_REVIEW))
        return false;
    if (t->stream && !has(r->enrolled_streams, r->n_enrolled_streams, t->stream))
        return false;
    if (t->lead && !(r->schedule && same(r->schedule->lead, t->lead)))
        return false;
    return !t->has_nhs || same(r->nhs_number, t->nhs);
}

static bool notice_wanted(const tail_t *t, const Joinedreview__V1__DueNotice *n)
{
    if (!(t->kinds & K_NOTICE))
        return false;
    if (t->stream && !has(n->covered_streams, n->n_covered_streams, t->stream))
        return false;
    if (t->lead && !same(n->lead, t->lead))
        return false;
    return !t->has_nhs || same(n->nhs_number, t->nhs);
}

/* A review or notice, decoded: the message and the sequence it carries. */
typedef struct {
    topic_kind_t kind;
    ProtobufCMessage *msg;
    bool has_seq;
    uint64_t seq;
} item_t;

static void item_free(item_t *it)
{
    if (it->msg)
        protobuf_c_message_free_unpacked(it->msg, NULL);
    it->msg = NULL;
}

/* Decodes a review or notice payload. -1 when it is not one. */
static int item_decode(item_t *it, const char *topic, const uint8_t *data, size_t len)
{
    memset(it, 0, sizeof *it);
    it->kind = classify(topic);
    if (it->kind == TOPIC_REVIEW) {
        Joinedreview__V1__ConsolidatedReview *r =
            joinedreview__v1__consolidated_review__unpack(NULL, len, data);
        if (!r)
            return -1;
        it->msg = &r->base;
        it->has_seq = r->has_sequence;
        it->seq = r->sequence;
    } else if (it->kind == TOPIC_NOTICE) {
        Joinedreview__V1__DueNotice *n = joinedreview__v1__due_notice__unpack(NULL, len, data);
        if (!n)
            return -1;
        it->msg = &n->base;
        it->has_seq = n->has_sequence;
        it->seq = n->sequence;
    } else {
        return -1;
    }
    return 0;
}

/* Prints the item if the filters want it; either way `last` becomes seq,
 * which the caller has checked is the next one (or a snapshot's). */
static void apply(tail_t *t, const char *topic, uint64_t seq, const item_t *it, bool snapshot)
{
    if (it->kind == TOPIC_REVIEW) {
        const Joinedreview__V1__ConsolidatedReview *r = (const void *)it->msg;
        if (review_wanted(t, r))
            emit_item(t, topic, seq, snapshot, "record", it->msg);
    } else if (it->kind == TOPIC_NOTICE) {
        const Joinedreview__V1__DueNotice *n = (const void *)it->msg;
        if (notice_wanted(t, n))
            emit_item(t, topic, seq, snapshot, "notice", it->msg);
    }
    if (t->status == 0) {
        t->last = seq;
        news(t);
        if (t->unsaved >= PERSIST_EVERY)
            persist(t, false); /* a long replay or snapshot: save as it goes */
    }
}

/* One publication from a catch-up reply. */
static void apply_publication(tail_t *t, const publication_t *p, bool snapshot)
{
    const char *topic = p->topic ? p->topic : "";
    item_t it;
    if (p->payload.len == 0 || item_decode(&it, topic, p->payload.data, p->payload.len) < 0) {
        /* Nothing more can be learnt from the daemon: say so and go on. */
        say("publication %llu (topic \"%s\", %zu bytes) is not a readable review or notice; "
            "skipped",
            (unsigned long long)p->sequence, topic, p->payload.len);
        t->last = p->sequence;
        news(t);
        return;
    }
    apply(t, topic, p->sequence, &it, snapshot);
    item_free(&it);
}

/* ---- the catch-up endpoint --------------------------------------------------- */

typedef enum { X_DONE, X_TIMEOUT, X_STOPPED, X_FAILED } xstatus_t;

/* Called for each reply to the request in flight; returns true to keep the
 * reply (the callee then owns it), false to have it freed. */
typedef bool (*on_reply_t)(tail_t *t, reply_t *reply, void *arg);

/* Sends req and passes each reply carrying its id to on_reply, until the
 * one with last = true or a status other than OK (whose status lands in
 * *status). Replies to earlier, abandoned requests are dropped. */
static xstatus_t exchange(tail_t *t, request_t *req, on_reply_t on_reply, void *arg, int *status)
{
    char id[64];
    snprintf(id, sizeof id, "tail-%ld-%lu", (long)getpid(), ++t->requests);
    req->request_id = id;
    size_t len = joinedreview__v1__catchup_request__get_packed_size(req);
    uint8_t buf[512];
    if (len > sizeof buf) {
        say("catch-up request too large (%zu bytes): shorten --lead/--stream", len);
        return X_FAILED;
    }
    joinedreview__v1__catchup_request__pack(req, buf);
    while (zmq_send(t->dealer, buf, len, 0) < 0) {
        if (errno != EINTR) {
            say("catch-up %s: %s", t->catchup_ep, zmq_strerror(errno));
            return X_FAILED;
        }
    }

    int64_t deadline = now_ms() + REPLY_TIMEOUT_MS;
    for (;;) {
        zmq_pollitem_t items[] = {{t->dealer, 0, ZMQ_POLLIN, 0}, {NULL, t->sigfd, ZMQ_POLLIN, 0}};
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return X_TIMEOUT;
        int rc = zmq_poll(items, 2, (long)left);
        if (rc < 0 && errno != EINTR) {
            say("zmq_poll: %s", zmq_strerror(errno));
            return X_FAILED;
        }
        if (rc <= 0)
            continue;
        if ((items[1].revents & ZMQ_POLLIN) && take_signal(t))
            return X_STOPPED;
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;

        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, t->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            continue;
        }
        bool more = zmq_msg_more(&msg);
        reply_t *reply = more ? NULL
                              : joinedreview__v1__catchup_reply__unpack(NULL, zmq_msg_size(&msg),
                                                                        zmq_msg_data(&msg));
        zmq_msg_close(&msg);
        while (more) { /* one frame per reply: drain the rest of a stray one */
            zmq_msg_init(&msg);
            more = zmq_msg_recv(&msg, t->dealer, 0) >= 0 && zmq_msg_more(&msg);
            zmq_msg_close(&msg);
        }
        if (!reply) {
            say("catch-up: an unreadable reply (not one CatchupReply frame); ignored");
            continue;
        }
        if (!same(reply->request_id, id)) {
            joinedreview__v1__catchup_reply__free_unpacked(reply, NULL);
            continue;
        }
        deadline = now_ms() + REPLY_TIMEOUT_MS;
        *status = reply->has_status ? (int)reply->status : 0;
        bool done = (reply->has_last && reply->last) ||
                    *status != JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK;
        if (*status != JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK) {
            snprintf(t->reason, sizeof t->reason, "%s",
                     reply->reason ? reply->reason : "no reason given");
            joinedreview__v1__catchup_reply__free_unpacked(reply, NULL);
        } else if (!on_reply(t, reply, arg)) {
            joinedreview__v1__catchup_reply__free_unpacked(reply, NULL);
        }
        if (done)
            return X_DONE;
        if (t->stop)
            return X_STOPPED;
    }
}

/* Waits ms, or less when a signal comes. */
static void pause_ms(tail_t *t, int ms)
{
    zmq_pollitem_t it = {NULL, t->sigfd, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, ms) > 0 && (it.revents & ZMQ_POLLIN))
        take_signal(t);
}

/* After a request went unanswered (why NULL), or the daemon could not
 * answer it (why says so): whether to ask again. Reported at most every
 * 30 s. With --idle-exit a script is waiting, so give up once the daemon has
 * not answered for longer than that. */
static bool retry(tail_t *t, int64_t since_ms, const char *what, const char *why)
{
    if (t->stop)
        return false;
    int64_t now = now_ms(), waited = now - since_ms;
    int64_t limit = (int64_t)t->idle_exit_s * 1000;
    if (t->idle_exit_s && waited >= (limit > REPLY_TIMEOUT_MS ? limit : REPLY_TIMEOUT_MS)) {
        say("%s from %s: %s after %lld s; giving up", what, t->catchup_ep,
            why ? why : "no answer (is joinedreviewd running there, and does it accept this key?)",
            (long long)(waited / 1000));
        trouble(t);
        return false;
    }
    if (t->complained_ms == 0 || now - t->complained_ms >= 30000) {
        say("%s from %s: %s; asking again", what, t->catchup_ep, why ? why : "no answer yet");
        t->complained_ms = now;
    }
    return true;
}

/* ---- SNAPSHOT ---------------------------------------------------------------- */

typedef struct {
    reply_t **replies;
    size_t n, cap;
} kept_t;

static bool keep_reply(tail_t *t, reply_t *reply, void *arg)
{
    kept_t *k = arg;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 8;
        reply_t **p = realloc(k->replies, cap * sizeof *p);
        if (!p) {
            say("out of memory");
            trouble(t);
            return false;
        }
        k->replies = p;
        k->cap = cap;
    }
    k->replies[k->n++] = reply;
    return true;
}

static void kept_clear(kept_t *k)
{
    for (size_t i = 0; i < k->n; i++)
        joinedreview__v1__catchup_reply__free_unpacked(k->replies[i], NULL);
    k->n = 0;
}

static int by_sequence(const void *a, const void *b)
{
    const publication_t *x = *(const publication_t *const *)a;
    const publication_t *y = *(const publication_t *const *)b;
    return (x->sequence > y->sequence) - (x->sequence < y->sequence);
}

/* Prints the snapshot's items above `last`, in sequence order, then moves
 * `last` to the sequence the snapshot is consistent with. */
static void apply_snapshot(tail_t *t, const kept_t *k)
{
    uint64_t consistent = 0;
    bool has_consistent = false;
    size_t n = 0;
    for (size_t i = 0; i < k->n; i++) {
        n += k->replies[i]->n_items;
        if (k->replies[i]->has_sequence) {
            consistent = k->replies[i]->sequence;
            has_consistent = true;
        }
    }
    if (!has_consistent) {
        say("catch-up: the snapshot does not say which sequence it is consistent with");
        trouble(t);
        return;
    }
    publication_t **items = malloc((n ? n : 1) * sizeof *items);
    if (!items) {
        say("out of memory");
        trouble(t);
        return;
    }
    n = 0;
    for (size_t i = 0; i < k->n; i++)
        for (size_t j = 0; j < k->replies[i]->n_items; j++)
            items[n++] = k->replies[i]->items[j];
    qsort(items, n, sizeof *items, by_sequence);
    for (size_t i = 0; i < n && !t->stop; i++) {
        if (items[i]->sequence > consistent)
            say("catch-up: snapshot item %llu is newer than the snapshot (%llu)",
                (unsigned long long)items[i]->sequence, (unsigned long long)consistent);
        if (items[i]->sequence > t->last)
            apply_publication(t, items[i], true);
    }
    free(items);
    /* Stopped part-way (--count): `last` stays at the last item printed, so
     * a resumed tail asks SINCE it and loses nothing. */
    if (!t->stop && consistent > t->last) {
        t->last = consistent;
        news(t);
    }
}

static int take_snapshot(tail_t *t)
{
    kept_t k = {0};
    int64_t asked = now_ms();
    int rc = -1;
    while (!t->stop) {
        request_t req = JOINEDREVIEW__V1__CATCHUP_REQUEST__INIT;
        req.has_kind = 1;
        req.kind = JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SNAPSHOT;
        req.lead = (char *)t->lead;
        req.stream = (char *)t->stream;
        int status = 0;
        kept_clear(&k);
        xstatus_t x = exchange(t, &req, keep_reply, &k, &status);
        if (x == X_STOPPED) {
            rc = 0;
            break;
        }
        if (x == X_FAILED) {
            trouble(t);
            break;
        }
        if (x == X_TIMEOUT) {
            if (!retry(t, asked, "snapshot", NULL))
                break;
            continue;
        }
        if (status == JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__UNAVAILABLE) {
            pause_ms(t, RETRY_WAIT_MS);
            if (!retry(t, asked, "snapshot", t->reason))
                break;
            continue;
        }
        if (status != JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK) {
            say("the daemon refused a snapshot request (status %d): %s", status, t->reason);
            trouble(t);
            break;
        }
        if (!t->stop)
            apply_snapshot(t, &k);
        rc = t->status == 0 ? 0 : -1;
        break;
    }
    kept_clear(&k);
    free(k.replies);
    return rc;
}

/* ---- SINCE --------------------------------------------------------------------- */

typedef struct {
    uint64_t highest; /* the newest sequence the daemon has */
    bool has_highest;
    bool broken; /* an item did not follow on from `last` */
    uint64_t broken_at;
} since_t;

static bool replay_reply(tail_t *t, reply_t *reply, void *arg)
{
    since_t *s = arg;
    if (reply->has_sequence && (!s->has_highest || reply->sequence > s->highest)) {
        s->highest = reply->sequence;
        s->has_highest = true;
    }
    for (size_t i = 0; i < reply->n_items && !t->stop && !s->broken; i++) {
        const publication_t *p = reply->items[i];
        if (p->sequence <= t->last)
            continue; /* already printed (a live copy got there first) */
        if (p->sequence != t->last + 1) {
            s->broken = true;
            s->broken_at = p->sequence;
            break;
        }
        apply_publication(t, p, false);
    }
    return false;
}

/* Replays every publication after `last` until `last` is the newest the
 * daemon has, asking again while it says there is more. Falls back to a
 * snapshot when the daemon no longer has them (TOO_OLD). */
static int catch_up(tail_t *t)
{
    int64_t asked = now_ms();
    while (!t->stop) {
        request_t req = JOINEDREVIEW__V1__CATCHUP_REQUEST__INIT;
        req.has_kind = 1;
        req.kind = JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SINCE;
        req.has_after_sequence = 1;
        req.after_sequence = t->last;
        req.has_max_items = 1;
        req.max_items = MAX_ITEMS;
        uint64_t before = t->last;
        since_t s = {0};
        int status = 0;
        xstatus_t x = exchange(t, &req, replay_reply, &s, &status);
        if (x == X_STOPPED)
            return 0;
        if (x == X_FAILED) {
            trouble(t);
            return -1;
        }
        if (x == X_TIMEOUT) {
            if (!retry(t, asked, "replay", NULL))
                return -1;
            continue;
        }
        switch (status) {
        case JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK:
            break;
        case JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__TOO_OLD:
            say("the daemon no longer keeps what followed sequence %llu; taking a snapshot",
                (unsigned long long)t->last);
            return take_snapshot(t);
        case JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__UNAVAILABLE:
            pause_ms(t, RETRY_WAIT_MS);
            if (!retry(t, asked, "replay", t->reason))
                return -1;
            continue;
        default:
            say("the daemon refused a replay request (status %d): %s", status, t->reason);
            trouble(t);
            return -1;
        }
        if (t->status != 0)
            return -1;
        if (s.broken) {
            say("catch-up: the replay after %llu went on at %llu; taking a snapshot",
                (unsigned long long)t->last, (unsigned long long)s.broken_at);
            return take_snapshot(t);
        }
        if (!s.has_highest) {
            say("catch-up: a replay reply without the newest sequence");
            trouble(t);
            return -1;
        }
        if (s.highest < before) {
            /* Not the history this state file followed: a new database. */
            say("the daemon's newest sequence is %llu, below %llu: a different database? "
                "starting again from a snapshot",
                (unsigned long long)s.highest, (unsigned long long)before);
            t->last = 0;
            return take_snapshot(t);
        }
        if (t->last >= s.highest || t->stop)
            return 0;
        if (t->last == before) {
            /* It says there is more but sent none: do not spin. */
            snprintf(t->reason, sizeof t->reason, "it has up to %llu but sent nothing after %llu",
                     (unsigned long long)s.highest, (unsigned long long)t->last);
            pause_ms(t, RETRY_WAIT_MS);
            if (!retry(t, asked, "replay", t->reason))
                return -1;
        }
    }
    return 0;
}

/* ---- STATISTICS ------------------------------------------------------------------ */

static void emit_statistics(tail_t *t, const Joinedreview__V1__Statistics *st)
{
    json_t *obj = json_object();
    json_t *body = t->h->message_json(&st->base);
    if (!obj || !body) {
        json_decref(obj);
        json_decref(body);
        say("out of memory");
        trouble(t);
        return;
    }
    json_object_set_new(obj, "topic", json_string("statistics"));
    json_object_set_new(obj, "statistics", body);
    emit(t, obj);
}

static bool statistics_reply(tail_t *t, reply_t *reply, void *arg)
{
    (void)arg;
    if (reply->statistics)
        emit_statistics(t, reply->statistics);
    return false;
}

/* The statistics now, so that a dashboard starts with figures. A daemon
 * that cannot give them is not a reason to stop following. */
static void fetch_statistics(tail_t *t)
{
    request_t req = JOINEDREVIEW__V1__CATCHUP_REQUEST__INIT;
    req.has_kind = 1;
    req.kind = JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__STATISTICS;
    int status = 0;
    xstatus_t x = exchange(t, &req, statistics_reply, NULL, &status);
    if (x == X_FAILED)
        trouble(t);
    else if (x == X_TIMEOUT)
        say("no statistics from %s; they will come with the next publication of them",
            t->catchup_ep);
    else if (x == X_DONE && status != JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK)
        say("the daemon gave no statistics (status %d): %s", status, t->reason);
}

/* ---- live publications ------------------------------------------------------------ */

/* One publication from the SUB: [topic][payload]. */
static void on_live(tail_t *t)
{
    zmq_msg_t topic_msg, body;
    zmq_msg_init(&topic_msg);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&topic_msg, t->sub, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&topic_msg);
        zmq_msg_close(&body);
        return;
    }
    bool two = false, more = zmq_msg_more(&topic_msg);
    if (more && zmq_msg_recv(&body, t->sub, 0) >= 0) {
        more = zmq_msg_more(&body);
        two = !more;
    }
    while (more) { /* drain a message of the wrong shape */
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        more = zmq_msg_recv(&extra, t->sub, 0) >= 0 && zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
    char topic[128];
    size_t tlen = zmq_msg_size(&topic_msg);
    if (!two || tlen >= sizeof topic || memchr(zmq_msg_data(&topic_msg), '\0', tlen)) {
        say("a publication that is not [topic][payload]; ignored");
        goto done;
    }
    memcpy(topic, zmq_msg_data(&topic_msg), tlen);
    topic[tlen] = '\0';

    topic_kind_t kind = classify(topic);
    if (kind == TOPIC_STATISTICS) {
        if (!(t->kinds & K_STATISTICS))
            goto done;
        Joinedreview__V1__Statistics *st =
            joinedreview__v1__statistics__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
        if (st) {
            emit_statistics(t, st);
            joinedreview__v1__statistics__free_unpacked(st, NULL);
        } else {
            say("unreadable statistics; ignored");
        }
        goto done;
    }
    if (kind == TOPIC_OTHER)
        goto done; /* a topic this version does not know */

    item_t it;
    if (item_decode(&it, topic, zmq_msg_data(&body), zmq_msg_size(&body)) < 0 || !it.has_seq) {
        /* Its sequence is unknown: the next one will show the gap, and the
         * replay will say what it was. */
        say("an unreadable publication under \"%s\"; ignored", topic);
        item_free(&it);
        goto done;
    }
    if (it.seq > t->last + 1)
        catch_up(t); /* fills the gap, usually past this one too */
    if (!t->stop && it.seq == t->last + 1)
        apply(t, topic, it.seq, &it, false);
    item_free(&it);
done:
    zmq_msg_close(&topic_msg);
    zmq_msg_close(&body);
}

/* ---- options and set-up ------------------------------------------------------------ */

__attribute__((format(printf, 1, 2))) static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("joinedreview tail: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'joinedreview --help'.\n", stderr);
    va_end(ap);
    return -1;
}

static int parse_whole(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* 0, 1 for --help, -1 on a usage error. */
static int parse_options(tail_t *t, int argc, char **argv)
{
    static const struct option longopts[] = {{"publish", required_argument, NULL, 'p'},
                                             {"catchup", required_argument, NULL, 'c'},
                                             {"kind", required_argument, NULL, 'k'},
                                             {"stream", required_argument, NULL, 's'},
                                             {"lead", required_argument, NULL, 'l'},
                                             {"nhs", required_argument, NULL, 'n'},
                                             {"state", required_argument, NULL, 'S'},
                                             {"count", required_argument, NULL, 'N'},
                                             {"idle-exit", required_argument, NULL, 'i'},
                                             {"server-key", required_argument, NULL, 'K'},
                                             {"key-file", required_argument, NULL, 'F'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *key_file = NULL;
    int c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:c:k:s:l:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            t->publish_ep = optarg;
            break;
        case 'c':
            t->catchup_ep = optarg;
            break;
        case 'k':
            if (strcmp(optarg, "review") == 0)
                t->kinds |= K_REVIEW;
            else if (strcmp(optarg, "notice") == 0)
                t->kinds |= K_NOTICE;
            else if (strcmp(optarg, "statistics") == 0)
                t->kinds |= K_STATISTICS;
            else
                return bad_usage("--kind is review, notice or statistics, not \"%s\"", optarg);
            break;
        case 's':
            t->stream = optarg;
            break;
        case 'l':
            t->lead = optarg;
            break;
        case 'n':
            if (!t->h->nhs_normalise(optarg, t->nhs))
                return bad_usage("\"%s\" is not a valid NHS number", optarg);
            t->has_nhs = true;
            break;
        case 'S':
            t->state_path = optarg;
            break;
        case 'N':
            if (parse_whole(optarg, LONG_MAX, &v) < 0)
                return bad_usage("--count wants a whole number, 1 or more, not \"%s\"", optarg);
            t->count = (unsigned long)v;
            break;
        case 'i':
            if (parse_whole(optarg, 86400 * 365, &v) < 0)
                return bad_usage("--idle-exit wants whole seconds, 1 or more, not \"%s\"", optarg);
            t->idle_exit_s = v;
            break;
        case 'K':
            if (strlen(optarg) != 40)
                return bad_usage("--server-key wants 40 Z85 characters, not \"%s\"", optarg);
            t->server_key = optarg;
            break;
        case 'F':
            key_file = optarg;
            break;
        case 'h':
            return 1;
        default:
            fputs("Try 'joinedreview --help'.\n", stderr);
            return -1;
        }
    }
    if (optind < argc)
        return bad_usage("unexpected argument \"%s\"", argv[optind]);
    if (!t->server_key != !key_file)
        return bad_usage("%s", "--server-key and --key-file go together");
    if (key_file && t->h->read_key_file(key_file, t->public_key, t->secret_key) < 0)
        return -1;
    if (!t->kinds)
        t->kinds = K_REVIEW | K_NOTICE;
    t->sequenced = (t->kinds & (K_REVIEW | K_NOTICE)) != 0;
    return 0;
}

static void *socket_for(tail_t *t, int type, const char *endpoint)
{
    void *s = zmq_socket(t->zctx, type);
    int zero = 0, hwm = SUB_HWM;
    if (!s || zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        (type == ZMQ_SUB && zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0) ||
        (t->server_key && (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, t->server_key, 41) != 0 ||
                           zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, t->public_key, 41) != 0 ||
                           zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, t->secret_key, 41) != 0)) ||
        zmq_connect(s, endpoint) != 0) {
        say("%s: %s", endpoint, zmq_strerror(zmq_errno()));
        if (s)
            zmq_close(s);
        return NULL;
    }
    return s;
}

/* The SUB first: what is published while the catch-up is answered queues. */
static int open_sockets(tail_t *t)
{
    t->zctx = zmq_ctx_new();
    if (!t->zctx) {
        say("zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    t->sub = socket_for(t, ZMQ_SUB, t->publish_ep);
    if (!t->sub)
        return -1;
    /* Both, even when one kind is filtered out: every sequence must be seen
     * for a gap to show. */
    static const char *const topics[] = {"review", "notice."};
    for (size_t i = 0; t->sequenced && i < 2; i++)
        zmq_setsockopt(t->sub, ZMQ_SUBSCRIBE, topics[i], strlen(topics[i]));
    if (t->kinds & K_STATISTICS)
        zmq_setsockopt(t->sub, ZMQ_SUBSCRIBE, "statistics", 10);
    t->dealer = socket_for(t, ZMQ_DEALER, t->catchup_ep);
    return t->dealer ? 0 : -1;
}

/* ---- the loop ------------------------------------------------------------------- */

/* Follows the SUB until stopped. */
static void follow(tail_t *t)
{
    while (!t->stop) {
        int64_t now = now_ms();
        int64_t wake = t->probe_ms;
        int64_t idle_at = t->news_ms + (int64_t)t->idle_exit_s * 1000;
        if (t->idle_exit_s && idle_at < wake)
            wake = idle_at;
        zmq_pollitem_t items[] = {{t->sub, 0, ZMQ_POLLIN, 0}, {NULL, t->sigfd, ZMQ_POLLIN, 0}};
        int64_t wait = wake > now ? wake - now : 0;
        int rc = zmq_poll(items, 2, (long)(wait < 60000 ? wait : 60000));
        if (rc < 0 && errno != EINTR) {
            say("zmq_poll: %s", zmq_strerror(errno));
            trouble(t);
            break;
        }
        if (rc > 0 && (items[1].revents & ZMQ_POLLIN) && take_signal(t))
            break;
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN)) {
            for (int i = 0; i < DRAIN_MAX && !t->stop; i++) {
                int events = 0;
                size_t len = sizeof events;
                if (zmq_getsockopt(t->sub, ZMQ_EVENTS, &events, &len) != 0 ||
                    !(events & ZMQ_POLLIN))
                    break;
                on_live(t);
                if (t->unsaved >= PERSIST_EVERY)
                    persist(t, false);
            }
            persist(t, false);
            continue;
        }

        now = now_ms();
        if (t->idle_exit_s && now >= t->news_ms + (int64_t)t->idle_exit_s * 1000) {
            /* Before leaving, make sure the quiet is real. */
            uint64_t before = t->last;
            unsigned long printed = t->printed;
            if (!t->sequenced || (catch_up(t) == 0 && t->last == before && t->printed == printed))
                break;
            persist(t, false);
            continue;
        }
        if (t->sequenced && now >= t->probe_ms) {
            uint64_t before = t->last;
            catch_up(t);
            persist(t, false);
            if (t->last == before) {
                t->probe_ivl_ms =
                    t->probe_ivl_ms * 2 > PROBE_MAX_MS ? PROBE_MAX_MS : t->probe_ivl_ms * 2;
                t->probe_ms = now_ms() + t->probe_ivl_ms;
            }
        }
    }
}

int jr_tail_main(int argc, char **argv, const jr_tail_helpers_t *helpers)
{
    tail_t t = {
        .publish_ep = DEFAULT_PUBLISH,
        .catchup_ep = DEFAULT_CATCHUP,
        .h = helpers,
        .sigfd = -1,
    };
    int rc = parse_options(&t, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : EXIT_TROUBLE;

    uint64_t from = 0;
    int have_state = 1;
    if (t.state_path) {
        have_state = state_load(t.state_path, &from);
        if (have_state < 0)
            return EXIT_TROUBLE;
    }

    /* Signals arrive on a descriptor in the poll set; blocked before the
     * ZeroMQ context starts its threads, so they inherit the mask. A closed
     * standard output is an error to report, not a reason to die. */
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, &old);
    signal(SIGPIPE, SIG_IGN);
    t.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (t.sigfd < 0) {
        say("signalfd: %s", strerror(errno));
        t.status = EXIT_TROUBLE;
        goto done;
    }
    if (open_sockets(&t) < 0) {
        t.status = EXIT_TROUBLE;
        goto done;
    }

    news(&t);
    if (!t.sequenced) {
        t.probe_ms = INT64_MAX; /* statistics alone: nothing to catch up */
    } else if (have_state == 0) {
        t.last = from;
        catch_up(&t);
    } else {
        take_snapshot(&t);
    }
    /* Written once caught up, so the file exists from then on. */
    if (t.status == 0 && t.sequenced)
        persist(&t, true);
    if (!t.stop && (t.kinds & K_STATISTICS))
        fetch_statistics(&t);
    follow(&t);

done:
    if (t.status == 0 && t.zctx)
        persist(&t, false);
    if (t.sub)
        zmq_close(t.sub);
    if (t.dealer)
        zmq_close(t.dealer);
    if (t.zctx)
        zmq_ctx_term(t.zctx);
    if (t.sigfd >= 0)
        close(t.sigfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return t.status;
}
