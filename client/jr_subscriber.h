/* jr_subscriber.h -- follow what joinedreviewd publishes without missing or
 * repeating a publication, and ask its catch-up endpoint one-off questions.
 *
 * Every review and notice the daemon publishes carries a global sequence
 * number, one more per publication. PUB/SUB drops what a subscriber is not
 * connected for, so a subscriber that must never miss a record does the
 * Clone dance (proto/joinedreview.proto, "Catch-up"):
 *
 *   1. jr_subscriber_new() connects the SUB first, so that whatever is
 *      published from then on queues;
 *   2. jr_subscriber_sync() asks the catch-up endpoint for a SNAPSHOT (only
 *      the persons one stream leads, or who are enrolled in one stream, when
 *      the options say so), or, with options.resume, for everything SINCE the
 *      sequence the caller kept; replies are applied chunk by chunk as they
 *      come, so a snapshot of a million persons is never held whole;
 *   3. jr_subscriber_poll() applies the queued and live publications above
 *      the sequence already applied, and drops the rest;
 *   4. a live publication that skips a number shows a gap: it asks SINCE the
 *      last one applied for the missing ones (what follows is queued
 *      already), applies them, and asks again until the gap is filled;
 *   5. when nothing new has come for probe_ms (then doubling up to
 *      probe_max_ms), jr_subscriber_poll() asks SINCE anyway: a lost *last*
 *      publication leaves no gap to notice.
 *
 * When the daemon no longer keeps what was asked for (TOO_OLD), or a replay
 * does not follow on from the sequence asked about, it takes a snapshot and
 * applies only its items above the sequence already applied. When the
 * daemon's newest sequence is below it (a different or recreated database),
 * it starts again from a snapshot.
 *
 * The sequence (jr_subscriber_sequence()) always means: every publication
 * up to it has been passed to on_publication, or is superseded by one that
 * was (a snapshot holds only each person's newest record and notice). A
 * caller that keeps it durably (jr_subscriber_state_save()) and gives it back
 * as options.resume_after on the next run loses and repeats nothing.
 *
 * Callbacks run inside jr_subscriber_sync(), _poll() and _ask(), in sequence
 * order, and must not call the subscriber's functions. A publication
 * callback returns 0 when it has dealt with the publication,
 * JR_SUBSCRIBER_STOP when it has and wants the call in progress to return
 * now (e.g. after printing enough), or a negative value when it could not
 * deal with it: the sequence then stays below it and the call returns
 * JR_SUBSCRIBER_ECALLBACK.
 *
 * Timeouts: a catch-up request unanswered for request_timeout_ms is asked
 * again (under a new request id, so that a late answer to the old one is
 * dropped); UNAVAILABLE answers (the daemon cannot read its database) are
 * asked again every retry_ms. Without give_up_ms it keeps asking; with it,
 * the call fails with JR_SUBSCRIBER_ETIMEDOUT once the endpoint has given no
 * usable answer for that long. The SUB reconnects by itself.
 *
 * What it has to say (retries, at most every 30 s; falling back to a
 * snapshot; input it ignored; why a call failed) goes to on_warning as one
 * sentence.
 *
 * Threads: a subscriber is used by one thread at a time; it does no work in
 * the background. Signals: it installs no handlers. jr_subscriber_set_stop_fd()
 * names a descriptor (a signalfd, say) that every wait also watches; when it
 * becomes readable the call returns JR_SUBSCRIBER_EINTR at once, leaving the
 * descriptor unread, and a publication being handed over is finished first.
 *
 * Sockets: a SUB (ZMQ_RCVHWM options.rcvhwm) on the publish endpoint,
 * subscribed to "review" and "notice." (both, even when the caller wants one
 * kind: every sequence must be seen for a gap to show) and, when asked, to
 * "statistics"; a DEALER on the catch-up endpoint. ZMQ_LINGER 0; CURVE when
 * the options give keys.
 *
 * Example:
 *
 *     static int on_pub(void *ctx, uint64_t seq, const char *topic,
 *                       const uint8_t *payload, size_t len, int origin)
 *     {
 *         ... decode payload as the topic says (review, notice.*) ...
 *         return 0;
 *     }
 *
 *     jr_subscriber_options_t o = {.publish_endpoint = "tcp://127.0.0.1:5561",
 *                                  .catchup_endpoint = "tcp://127.0.0.1:5562",
 *                                  .on_publication = on_pub};
 *     jr_subscriber_t *s = jr_subscriber_new(&o);
 *     int rc = jr_subscriber_sync(s);          // the current state
 *     while (rc >= 0)
 *         rc = jr_subscriber_poll(s, 1000);    // then every change
 *     jr_subscriber_destroy(&s);
 */
#ifndef JR_SUBSCRIBER_H
#define JR_SUBSCRIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joinedreview/joinedreview.pb-c.h"

/* What a publication callback may return besides 0 and a negative value. */
#define JR_SUBSCRIBER_STOP 1

/* How a publication reached the subscriber (on_publication's `origin`). */
enum {
    JR_SUBSCRIBER_LIVE = 1,     /* on the SUB socket */
    JR_SUBSCRIBER_REPLAY = 2,   /* in the answer to SINCE (a gap, a probe, a resume) */
    JR_SUBSCRIBER_SNAPSHOT = 3, /* in a snapshot: the current state, not a change just made */
};

/* options.topics. */
enum {
    JR_SUBSCRIBER_RECORDS = 1,    /* reviews, notices and group suggestions, in sequence */
    JR_SUBSCRIBER_STATISTICS = 2, /* the statistics the daemon publishes */
};

/* Kinds of jr_subscriber_ask() requests: the wire contract's
 * CatchupRequest.Kind. */
enum {
    JR_SUBSCRIBER_ASK_SNAPSHOT = JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SNAPSHOT,
    JR_SUBSCRIBER_ASK_SINCE = JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SINCE,
    JR_SUBSCRIBER_ASK_STATISTICS = JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__STATISTICS,
};

/* What jr_subscriber_ask() returns when the daemon answered: the final
 * reply's status, CatchupReply.Status of the wire contract. */
enum {
    JR_SUBSCRIBER_REPLY_OK = JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK,
    JR_SUBSCRIBER_REPLY_TOO_OLD = JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__TOO_OLD,
    JR_SUBSCRIBER_REPLY_BAD_REQUEST = JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__BAD_REQUEST,
    JR_SUBSCRIBER_REPLY_UNAVAILABLE = JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__UNAVAILABLE,
};

/* Error returns (always negative). */
enum {
    JR_SUBSCRIBER_EINVAL = -1,    /* bad argument or option */
    JR_SUBSCRIBER_ENOMEM = -2,    /* out of memory */
    JR_SUBSCRIBER_EZMQ = -3,      /* a ZeroMQ call failed */
    JR_SUBSCRIBER_ETIMEDOUT = -4, /* no usable answer from the catch-up endpoint in time */
    JR_SUBSCRIBER_EREFUSED = -5,  /* the daemon refused a request (BAD_REQUEST): see reason */
    JR_SUBSCRIBER_EPROTO = -6,    /* the daemon's answer broke the contract */
    JR_SUBSCRIBER_ECALLBACK = -7, /* a callback returned a negative value */
    JR_SUBSCRIBER_ESTOPPED = -8,  /* a callback returned JR_SUBSCRIBER_STOP */
    JR_SUBSCRIBER_EINTR = -9,     /* the stop descriptor became readable */
};

/* One publication, in sequence order, each sequence at most once.
 *   ctx       options.ctx.
 *   sequence  its global sequence number.
 *   topic     "review", "notice.<kind>.<lead>" or "group.<lead>"; borrowed for
 *             the call.
 *   payload   a ConsolidatedReview, a DueNotice or a GroupSuggestion as the
 *             topic says, as the
 *             daemon packed it; borrowed for the call. It is passed on
 *             unread when it came by catch-up: an unreadable one is the
 *             callback's to report (and 0 to skip it).
 *   origin    JR_SUBSCRIBER_LIVE, _REPLAY or _SNAPSHOT.
 * Returns 0, JR_SUBSCRIBER_STOP or a negative value (see above). */
typedef int(jr_subscriber_publication_fn)(void *ctx, uint64_t sequence, const char *topic,
                                          const uint8_t *payload, size_t len, int origin);

/* One set of statistics published by the daemon (borrowed for the call).
 * Returns as a publication callback does. */
typedef int(jr_subscriber_statistics_fn)(void *ctx, const Joinedreview__V1__Statistics *statistics);

/* One sentence for a person (borrowed for the call). */
typedef void(jr_subscriber_warning_fn)(void *ctx, const char *text);

/* One reply to a jr_subscriber_ask() request. Return true to take
 * ownership of reply (free it with
 * joinedreview__v1__catchup_reply__free_unpacked), false to leave it to the
 * subscriber. */
typedef bool(jr_subscriber_reply_fn)(void *arg, Joinedreview__V1__CatchupReply *reply);

/* Options for jr_subscriber_new(). Zero-initialise and set what you need:
 * every field left 0 (or NULL) takes the default in brackets. Strings are
 * copied. */
typedef struct {
    /* The daemon's PUB socket. NULL: no live feed, for a program that reads
     * the current state once (jr_subscriber_sync()) or only asks. */
    const char *publish_endpoint;
    /* The daemon's catch-up socket. Required. */
    const char *catchup_endpoint;
    /* JR_SUBSCRIBER_RECORDS and/or _STATISTICS [RECORDS]. */
    unsigned topics;
    /* Snapshot filters sent with SNAPSHOT: only persons whose joined-up
     * review this stream leads, only persons enrolled in this stream. NULL:
     * everyone. Publications are never filtered here: each is passed on
     * (filtering is the caller's), and all move the sequence on. */
    const char *lead;
    const char *stream;
    /* Start with SINCE resume_after instead of a snapshot (resume_after 0:
     * every publication the daemon still keeps) [false]. */
    bool resume;
    uint64_t resume_after;
    /* A request with no reply for this long is asked again [10000]. */
    int request_timeout_ms;
    /* Wait before asking again after UNAVAILABLE, or after a replay that
     * made no progress [1000]. */
    int retry_ms;
    /* Nothing new for this long: ask SINCE anyway [1000]; -1: never. */
    int probe_ms;
    /* ... doubling after each probe that found nothing, up to [16000]. */
    int probe_max_ms;
    /* Fail with JR_SUBSCRIBER_ETIMEDOUT once the catch-up endpoint has given
     * no usable answer for this long [0: keep asking]. */
    int give_up_ms;
    /* ZMQ_RCVHWM of the SUB: publications queued while a catch-up is
     * answered [100000]. */
    int rcvhwm;

    jr_subscriber_publication_fn *on_publication; /* NULL: sequence only */
    jr_subscriber_statistics_fn *on_statistics;   /* NULL: ignored */
    jr_subscriber_warning_fn *on_warning;         /* NULL: silent */
    void *ctx;                                    /* first argument of each; borrowed */

    /* As in jr_client_options_t (jr_client.h): a ZeroMQ context, borrowed
     * (NULL: the subscriber makes its own), and CURVE keys, 40 Z85
     * characters each (NULL curve_server_key: plain TCP). */
    void *zmq_context;
    const char *curve_server_key;
    const char *curve_public_key;
    const char *curve_secret_key;
} jr_subscriber_options_t;

/* Counters since jr_subscriber_new(). */
typedef struct {
    uint64_t live;       /* publications applied as they came on the SUB */
    uint64_t replayed;   /* ... from answers to SINCE */
    uint64_t snapshot;   /* ... from snapshots */
    uint64_t dropped;    /* live ones at or below the sequence already applied */
    uint64_t gaps;       /* live ones that skipped a number (each filled with SINCE) */
    uint64_t probes;     /* SINCE asked with no gap to fill */
    uint64_t snapshots;  /* snapshots taken */
    uint64_t requests;   /* catch-up requests sent, resends included */
    uint64_t unreadable; /* live messages that could not be read (ignored) */
    uint64_t statistics; /* statistics passed to on_statistics */
} jr_subscriber_stats_t;

/* A one-off catch-up request for jr_subscriber_ask(). */
typedef struct {
    int kind;           /* JR_SUBSCRIBER_ASK_SNAPSHOT, _SINCE or _STATISTICS */
    uint64_t after;     /* SINCE: publications after this one */
    uint32_t max_items; /* SINCE: at most this many; 0: the daemon's default */
    const char *lead;   /* SNAPSHOT filters, or NULL */
    const char *stream;
    /* Echoed in every reply; NULL: one the subscriber makes. Replies are
     * matched by it, so it must differ from every earlier request's on this
     * subscriber (at most 63 bytes). */
    const char *request_id;
} jr_subscriber_request_t;

typedef struct jr_subscriber jr_subscriber_t;

/* Creates a subscriber: connects the SUB (when publish_endpoint is given)
 * and then the DEALER. The connections are made in the background, so an
 * absent daemon is not an error here. Sends nothing yet. `opts` is
 * borrowed. Caller owns the result: free it with jr_subscriber_destroy().
 * NULL on a bad option (errno EINVAL), out of memory, or a ZeroMQ error. */
jr_subscriber_t *jr_subscriber_new(const jr_subscriber_options_t *opts);

/* Closes the sockets (and the context, if the subscriber made it) and
 * frees the subscriber. Accepts NULL or a pointer to NULL; sets *self_p to
 * NULL. */
void jr_subscriber_destroy(jr_subscriber_t **self_p);

/* Every wait also watches fd (see "Signals" above); -1: none (the
 * default). */
void jr_subscriber_set_stop_fd(jr_subscriber_t *self, int fd);

/* Brings the subscriber up to the daemon's newest publication: the first
 * time by the snapshot (or SINCE options.resume_after), then by SINCE the
 * sequence applied. Does nothing without JR_SUBSCRIBER_RECORDS. Returns 0,
 * or a negative JR_SUBSCRIBER_E*. */
int jr_subscriber_sync(jr_subscriber_t *self);

/* Waits up to timeout_ms (< 0: as long as it takes) for publications and
 * applies them, filling gaps and probing when nothing comes (and syncing
 * first if jr_subscriber_sync() has not succeeded yet). Returns as soon as
 * it has passed something on (at most 1,000 live messages in one call), or
 * when the time is up: the number of publications and statistics passed on
 * (0 when none), or a negative JR_SUBSCRIBER_E*. */
int jr_subscriber_poll(jr_subscriber_t *self, int timeout_ms);

/* The sequence applied so far (see above); options.resume_after, or 0,
 * before anything was. */
uint64_t jr_subscriber_sequence(const jr_subscriber_t *self);

/* Closes the SUB: nothing is received until jr_subscriber_connect(), and
 * what was queued is dropped (the daemon's PUB drops what comes meanwhile).
 * For a program that must shed its feed for a while; the first publication
 * after jr_subscriber_connect() shows the gap, which is filled. */
void jr_subscriber_disconnect(jr_subscriber_t *self);

/* Connects a new SUB after jr_subscriber_disconnect() (or does nothing when
 * connected). 0, or JR_SUBSCRIBER_EZMQ / _EINVAL (no publish endpoint). */
int jr_subscriber_connect(jr_subscriber_t *self);

/* Sends one request on the catch-up socket and passes each reply to it
 * (the ones with its request id) to on_reply, up to the one marked last or
 * one whose status is not OK. No resends: a reply that does not come within
 * timeout_ms (of the request or the previous reply; 0: request_timeout_ms)
 * ends it. For one-off questions (the statistics now, say) and for programs
 * that read the replies themselves. Returns the final reply's status
 * (JR_SUBSCRIBER_REPLY_*, > 0), or a negative JR_SUBSCRIBER_E*
 * (ETIMEDOUT when no final reply came). */
int jr_subscriber_ask(jr_subscriber_t *self, const jr_subscriber_request_t *req,
                      jr_subscriber_reply_fn *on_reply, void *arg, int timeout_ms);

/* The daemon's reason with the last answer whose status was not OK ("" if
 * none). Borrowed: valid until the next call. */
const char *jr_subscriber_reason(const jr_subscriber_t *self);

/* Copies the counters into *out. */
void jr_subscriber_stats(const jr_subscriber_t *self, jr_subscriber_stats_t *out);

/* A short English phrase for a JR_SUBSCRIBER_E* code. Static storage. */
const char *jr_subscriber_strerror(int err);

/* ---- keeping the sequence across runs ---------------------------------- */

/* Reads a state file: one decimal sequence number and a newline. Returns 0
 * with *sequence, 1 when the file does not exist (start with a snapshot), or
 * -1 with a sentence in err when it cannot be read or holds anything else. */
int jr_subscriber_state_load(const char *path, uint64_t *sequence, char *err, size_t errlen);

/* Writes a state file durably: a temporary file beside it, fsync, rename
 * over it, fsync of the directory, so that after a crash it is wholly old
 * or wholly new. Returns 0, or -1 with a sentence in err. */
int jr_subscriber_state_save(const char *path, uint64_t sequence, char *err, size_t errlen);

#endif
