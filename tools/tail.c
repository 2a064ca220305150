/* tail.c -- see tail.h.
 *
 * The dance itself (subscribe first, SNAPSHOT or SINCE the persisted
 * sequence, the queued publications above it, gaps filled with SINCE, an
 * idle SINCE because a lost *last* publication leaves no gap, TOO_OLD
 * answered with a snapshot) is the client library's: client/jr_subscriber.h.
 * What is tail's own: the filters, the JSON lines, the state file and when
 * it is written, --count and --idle-exit, and the signals.
 *
 * The subscriber's sequence always means: every publication up to it is
 * reflected in what was printed (or deliberately filtered out). The state
 * file holds it; it is written after the lines it covers were flushed, so a
 * crash repeats lines rather than losing them. One thread; SIGTERM/SIGINT
 * arrive on a signalfd that the subscriber watches in its waits. */
#include "tail.h"

#include <errno.h>
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

#include "jr_subscriber.h"
#include "keyfile.h"

#define EXIT_TROUBLE 2

#define DEFAULT_PUBLISH "tcp://127.0.0.1:5561"
#define DEFAULT_CATCHUP "tcp://127.0.0.1:5562"

#define REPLY_TIMEOUT_MS 10000 /* no reply for this long: ask again */
#define PERSIST_EVERY    256   /* lines printed between two state writes, at most */
#define WAIT_MAX_MS      60000 /* longest single wait for publications */

#define K_REVIEW     1u
#define K_NOTICE     2u
#define K_STATISTICS 4u
#define K_GROUP      8u

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
    /* the subscriber and the signals */
    jr_subscriber_t *sub;
    int sigfd;
    /* progress */
    bool stop;      /* a signal, --count reached, or trouble */
    int status;     /* the exit status */
    uint64_t saved; /* what the state file holds */
    bool saved_valid;
    unsigned long printed;
    unsigned unsaved; /* lines printed since the state file was written */
    int64_t news_ms;  /* when something new last arrived */
} tail_t;

/* ---- small things ------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 1, 0))) static void vsay(const char *fmt, va_list ap, const char *end)
{
    fputs("joinedreview tail: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(end, stderr);
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap, "\n");
    va_end(ap);
}

static void on_warning(void *ctx, const char *text)
{
    (void)ctx;
    say("%s", text);
}

static void trouble(tail_t *t)
{
    t->status = EXIT_TROUBLE;
    t->stop = true;
}

static void news(tail_t *t)
{
    t->news_ms = now_ms();
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

/* What a call of the subscriber returned: a signal or --count stops the
 * run, anything else negative is trouble (the subscriber has said why). */
static void took(tail_t *t, int rc)
{
    if (rc == JR_SUBSCRIBER_EINTR)
        take_signal(t);
    else if (rc == JR_SUBSCRIBER_ESTOPPED || rc == JR_SUBSCRIBER_ECALLBACK)
        t->stop = true; /* --count reached, or trouble already noted */
    else if (rc < 0)
        trouble(t);
}

/* ---- the state file ----------------------------------------------------------- */

/* Writes seq when it moved (or always, with force). A state file that
 * cannot be written ends the run: a feed that cannot resume must say so. */
static void persist(tail_t *t, uint64_t seq, bool force)
{
    if (!t->state_path || !t->sequenced || (t->saved_valid && t->saved == seq && !force))
        return;
    char err[PATH_MAX + 200];
    if (jr_subscriber_state_save(t->state_path, seq, err, sizeof err) < 0) {
        say("%s", err);
        trouble(t);
        return;
    }
    t->saved = seq;
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

/* ---- filters ---------------------------------------------------------------------- */

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

static bool group_wanted(const tail_t *t, const Joinedreview__V1__GroupSuggestion *g)
{
    if (!(t->kinds & K_GROUP))
        return false;
    if (t->lead && !same(g->lead, t->lead))
        return false;
    for (size_t i = 0; t->has_nhs && i < g->n_members; i++)
        if (same(g->members[i]->nhs_number, t->nhs))
            return true;
    return !t->has_nhs && !t->stream; /* a group is its lead's, not a stream's */
}

/* ---- what the subscriber hands over ---------------------------------------------- */

/* The callback's answer once a line is dealt with. */
static int outcome(const tail_t *t)
{
    return t->status != 0 ? -1 : t->stop ? JR_SUBSCRIBER_STOP : 0;
}

/* One review or notice, in sequence order: printed if the filters want it;
 * either way it is dealt with, and the sequence moves on to it. */
static int on_publication(void *ctx, uint64_t seq, const char *topic, const uint8_t *payload,
                          size_t len, int origin)
{
    tail_t *t = ctx;
    bool snapshot = origin == JR_SUBSCRIBER_SNAPSHOT;
    ProtobufCMessage *msg = NULL;
    if (strcmp(topic, "review") == 0 && len > 0) {
        Joinedreview__V1__ConsolidatedReview *r =
            joinedreview__v1__consolidated_review__unpack(NULL, len, payload);
        if (r && review_wanted(t, r))
            emit_item(t, topic, seq, snapshot, "record", &r->base);
        msg = r ? &r->base : NULL;
    } else if (strncmp(topic, "notice.", 7) == 0 && len > 0) {
        Joinedreview__V1__DueNotice *n = joinedreview__v1__due_notice__unpack(NULL, len, payload);
        if (n && notice_wanted(t, n))
            emit_item(t, topic, seq, snapshot, "notice", &n->base);
        msg = n ? &n->base : NULL;
    } else if (strncmp(topic, "group.", 6) == 0 && len > 0) {
        Joinedreview__V1__GroupSuggestion *g =
            joinedreview__v1__group_suggestion__unpack(NULL, len, payload);
        if (g && group_wanted(t, g))
            emit_item(t, topic, seq, snapshot, "group", &g->base);
        msg = g ? &g->base : NULL;
    }
    if (!msg) {
        /* Nothing more can be learnt from the daemon: say so and go on. */
        say("publication %llu (topic \"%s\", %zu bytes) is not a readable review, notice or "
            "group suggestion; "
            "skipped",
            (unsigned long long)seq, topic, len);
        news(t);
        return 0;
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    if (t->status == 0) {
        news(t);
        if (t->unsaved >= PERSIST_EVERY)
            persist(t, seq, false); /* a long replay or snapshot: save as it goes */
    }
    return outcome(t);
}

static int on_statistics(void *ctx, const Joinedreview__V1__Statistics *st)
{
    tail_t *t = ctx;
    emit_statistics(t, st);
    return outcome(t);
}

static bool statistics_reply(void *arg, Joinedreview__V1__CatchupReply *reply)
{
    tail_t *t = arg;
    if (reply->statistics && t->status == 0)
        emit_statistics(t, reply->statistics);
    return false;
}

/* The statistics now, so that a dashboard starts with figures. A daemon
 * that cannot give them is not a reason to stop following. */
static void fetch_statistics(tail_t *t)
{
    jr_subscriber_request_t req = {.kind = JR_SUBSCRIBER_ASK_STATISTICS};
    int rc = jr_subscriber_ask(t->sub, &req, statistics_reply, t, REPLY_TIMEOUT_MS);
    if (rc == JR_SUBSCRIBER_ETIMEDOUT)
        say("no statistics from %s; they will come with the next publication of them",
            t->catchup_ep);
    else if (rc < 0)
        took(t, rc);
    else if (rc != JR_SUBSCRIBER_REPLY_OK)
        say("the daemon gave no statistics (status %d): %s", rc, jr_subscriber_reason(t->sub));
}

/* ---- options and set-up ------------------------------------------------------------ */

__attribute__((format(printf, 1, 2))) static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap, "\nTry 'joinedreview --help'.\n");
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
            else if (strcmp(optarg, "group") == 0)
                t->kinds |= K_GROUP;
            else
                return bad_usage("--kind is review, notice, group or statistics, not \"%s\"",
                                 optarg);
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
            if (!jr_keyfile_z85_ok(optarg))
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
    t->sequenced = (t->kinds & (K_REVIEW | K_NOTICE | K_GROUP)) != 0;
    return 0;
}

static int open_subscriber(tail_t *t, uint64_t from, bool resume)
{
    jr_subscriber_options_t o = {
        .publish_endpoint = t->publish_ep,
        .catchup_endpoint = t->catchup_ep,
        .topics = (t->sequenced ? JR_SUBSCRIBER_RECORDS : 0) |
                  (t->kinds & K_STATISTICS ? JR_SUBSCRIBER_STATISTICS : 0),
        /* Sent with the snapshot request, so the daemon sends only the
         * persons that match; tail's own filters still apply to each line. */
        .lead = t->lead,
        .stream = t->stream,
        .resume = resume,
        .resume_after = from,
        .request_timeout_ms = REPLY_TIMEOUT_MS,
        /* With --idle-exit a script is waiting: give up once the daemon has
         * not answered for the longer of 10 s and the idle time. */
        .give_up_ms = t->idle_exit_s
                          ? (t->idle_exit_s * 1000 > REPLY_TIMEOUT_MS ? (int)(t->idle_exit_s * 1000)
                                                                      : REPLY_TIMEOUT_MS)
                          : 0,
        .on_publication = on_publication,
        .on_statistics = on_statistics,
        .on_warning = on_warning,
        .ctx = t,
        .curve_server_key = t->server_key,
        .curve_public_key = t->server_key ? t->public_key : NULL,
        .curve_secret_key = t->server_key ? t->secret_key : NULL,
    };
    t->sub = jr_subscriber_new(&o);
    if (!t->sub) {
        say("%s and %s: %s", t->publish_ep, t->catchup_ep, strerror(errno));
        return -1;
    }
    jr_subscriber_set_stop_fd(t->sub, t->sigfd);
    return 0;
}

/* ---- the loop ------------------------------------------------------------------- */

/* Follows the publications until stopped. */
static void follow(tail_t *t)
{
    while (!t->stop) {
        int64_t wait = WAIT_MAX_MS;
        if (t->idle_exit_s) {
            int64_t left = t->news_ms + (int64_t)t->idle_exit_s * 1000 - now_ms();
            wait = left < 0 ? 0 : left < wait ? left : wait;
        }
        took(t, jr_subscriber_poll(t->sub, (int)wait));
        if (t->status == 0)
            persist(t, jr_subscriber_sequence(t->sub), false);
        if (t->stop || !t->idle_exit_s || now_ms() < t->news_ms + (int64_t)t->idle_exit_s * 1000)
            continue;
        /* Before leaving, make sure the quiet is real. */
        if (!t->sequenced)
            break;
        uint64_t before = jr_subscriber_sequence(t->sub);
        unsigned long printed = t->printed;
        int rc = jr_subscriber_sync(t->sub);
        took(t, rc);
        if (rc == 0 && jr_subscriber_sequence(t->sub) == before && t->printed == printed)
            break;
        if (t->status == 0)
            persist(t, jr_subscriber_sequence(t->sub), false);
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
        char err[PATH_MAX + 200];
        have_state = jr_subscriber_state_load(t.state_path, &from, err, sizeof err);
        if (have_state < 0) {
            say("%s", err);
            return EXIT_TROUBLE;
        }
    }

    /* Signals arrive on a descriptor the subscriber watches; blocked before
     * the ZeroMQ context starts its threads, so they inherit the mask. A
     * closed standard output is an error to report, not a reason to die. */
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
    if (open_subscriber(&t, from, have_state == 0) < 0) {
        t.status = EXIT_TROUBLE;
        goto done;
    }

    news(&t);
    if (t.sequenced) {
        took(&t, jr_subscriber_sync(t.sub)); /* the snapshot, or SINCE the state file's */
        news(&t);
    }
    /* Written once caught up, so the file exists from then on. */
    if (t.status == 0 && t.sequenced)
        persist(&t, jr_subscriber_sequence(t.sub), true);
    if (!t.stop && (t.kinds & K_STATISTICS))
        fetch_statistics(&t);
    follow(&t);

done:
    if (t.status == 0 && t.sub)
        persist(&t, jr_subscriber_sequence(t.sub), false);
    jr_subscriber_destroy(&t.sub);
    if (t.sigfd >= 0)
        close(t.sigfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return t.status;
}
