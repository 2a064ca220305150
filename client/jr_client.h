/* jr_client.h -- push events to joinedreviewd from a funding stream's back
 * office.
 *
 * A client owns one ZeroMQ DEALER socket connected to the daemon's ingest
 * endpoint. Each submitted Envelope is packed and sent as one frame; the
 * daemon answers each with one Ack frame naming the envelope's stream and
 * source_event_id, so answers may arrive in any order.
 *
 * Delivery is at-least-once, made exactly-once by the daemon: it is idempotent
 * on (stream, source_event_id), so the client resends freely.
 *
 *   - Up to `window` envelopes are in flight (sent, no final answer yet).
 *     jr_client_submit() blocks only when the window is full, and while it
 *     waits it reads answers and resends what is due.
 *   - An envelope with no answer after the ack timeout is resent (answers are
 *     lost when the daemon restarts: a reconnected DEALER gets a new routing
 *     id). Each further timeout doubles the wait, up to max_backoff_ms.
 *   - RETRY_LATER (the daemon cannot commit just now) resends after
 *     retry_backoff_ms, doubling per attempt, up to max_backoff_ms.
 *   - OK, DUPLICATE and PARKED are final successes; REJECTED is a final
 *     failure. Each submitted envelope gets exactly one call of on_outcome.
 *
 * The client never gives up on an envelope by itself: an unreachable daemon
 * shows as jr_client_flush() (or a submit with submit_timeout_ms) timing out
 * with envelopes still pending.
 *
 * Threads: a client is used by one thread at a time. It does no work in the
 * background: answers are read, callbacks run and resends happen only inside
 * jr_client_submit(), jr_client_poll() and jr_client_flush(). Call one of
 * them regularly (at least every ack timeout) while envelopes are pending.
 *
 * Signals: the client never installs signal handlers. A wait interrupted by a
 * signal (EINTR) resumes, unless options.interrupted points at a flag that the
 * application's handler has set; then the call returns JR_CLIENT_EINTR. The
 * flag is also checked before each wait, so even a signal that lands just
 * before a wait is noticed within one wait (at most max_backoff_ms).
 *
 * Socket: ZMQ_LINGER, ZMQ_SNDHWM and ZMQ_RCVHWM come from the options;
 * reconnection backs off from 100 ms to 5 s; ZMTP heartbeats (every 10 s,
 * 30 s timeout) drop a half-open connection so that it is re-made; frames
 * over 64 KiB from the daemon (an Ack is a few hundred bytes) drop the
 * connection (ZMQ_MAXMSGSIZE).
 *
 * Example:
 *
 *     static void outcome(void *ctx, const char *stream, const char *id,
 *                         int status, const char *code, const char *reason,
 *                         void *user)
 *     {
 *         if (status == JR_CLIENT_REJECTED)
 *             log_error("%s/%s rejected: %s: %s", stream, id, code, reason);
 *     }
 *
 *     jr_client_options_t opts = {.on_outcome = outcome};
 *     jr_client_t *client = jr_client_new("tcp://127.0.0.1:5560", &opts);
 *     ... for each event: build env; jr_client_submit(client, &env, NULL); ...
 *     int pending = jr_client_flush(client, 30000);  // 0: all answered
 *     jr_client_destroy(&client);
 */
#ifndef JR_CLIENT_H
#define JR_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "joinedreview/joinedreview.pb-c.h"

/* Final outcomes passed to on_outcome (never negative). The first four are
 * the Ack statuses of the wire contract (proto/joinedreview.proto, Ack.Status). */
enum {
    JR_CLIENT_OK = JOINEDREVIEW__V1__ACK__STATUS__OK,               /* stored and merged */
    JR_CLIENT_DUPLICATE = JOINEDREVIEW__V1__ACK__STATUS__DUPLICATE, /* stored earlier */
    JR_CLIENT_PARKED = JOINEDREVIEW__V1__ACK__STATUS__PARKED,     /* stored, awaits an enrolment */
    JR_CLIENT_REJECTED = JOINEDREVIEW__V1__ACK__STATUS__REJECTED, /* refused: see reason */
    /* Not from the daemon: the client was destroyed before a final answer
     * came. The envelope may or may not have been stored; resending it with
     * a new client is safe. */
    JR_CLIENT_ABANDONED = 100,
};

/* Error returns (always negative). Functions return 0 on success. */
enum {
    JR_CLIENT_EINVAL = -1,    /* bad argument, or envelope without stream or source_event_id */
    JR_CLIENT_ENOMEM = -2,    /* out of memory */
    JR_CLIENT_EZMQ = -3,      /* a ZeroMQ call failed; errno says why */
    JR_CLIENT_EINFLIGHT = -4, /* that (stream, source_event_id) is already in flight */
    JR_CLIENT_ETOOBIG = -5,   /* the packed envelope exceeds JR_CLIENT_MAX_ENVELOPE */
    JR_CLIENT_ETIMEDOUT = -6, /* submit_timeout_ms passed with the window still full */
    JR_CLIENT_EINTR = -7,     /* a signal arrived and *options.interrupted was set */
};

/* Largest packed envelope the client sends, in bytes. The contract caps a
 * statement at 4,000 bytes and names at 200, so real envelopes are far
 * smaller. */
#define JR_CLIENT_MAX_ENVELOPE (256 * 1024)

/* Largest accepted options.window. */
#define JR_CLIENT_MAX_WINDOW 65536

/* Called exactly once per submitted envelope with its final outcome, from
 * inside jr_client_submit(), jr_client_poll(), jr_client_flush() or
 * jr_client_destroy().
 *
 *   ctx              options.ctx, as given.
 *   stream, source_event_id
 *                    the envelope's key. Borrowed: valid during the call only.
 *   status           JR_CLIENT_OK, _DUPLICATE, _PARKED, _REJECTED or
 *                    _ABANDONED.
 *   reason_code, reason
 *                    the daemon's machine-readable code and sentence for
 *                    REJECTED (and sometimes for other statuses); "" when the
 *                    daemon sent none. Borrowed: valid during the call only.
 *   user             the pointer given to jr_client_submit() for this
 *                    envelope; the callback may free it.
 *
 * The callback must not call jr_client_submit(), _poll(), _flush() or
 * _destroy() on the same client. */
typedef void(jr_client_outcome_fn)(void *ctx, const char *stream, const char *source_event_id,
                                   int status, const char *reason_code, const char *reason,
                                   void *user);

/* Options for jr_client_new(). Zero-initialise and set what you need: every
 * field left 0 (or NULL) takes the default in brackets. */
typedef struct {
    /* Most envelopes in flight at once [256; at most JR_CLIENT_MAX_WINDOW].
     * Bounds memory (each in-flight envelope keeps its packed bytes for
     * resending) and the work queued at the daemon. */
    size_t window;
    /* Wait this long for an answer before resending [5000]. */
    int ack_timeout_ms;
    /* First wait before resending after RETRY_LATER [250]. */
    int retry_backoff_ms;
    /* Cap on every resend wait, both kinds [60000; never below ack_timeout_ms]. */
    int max_backoff_ms;
    /* How long jr_client_submit() may block waiting for room in the window;
     * 0 waits as long as it takes [0]. */
    int submit_timeout_ms;
    /* ZMQ_LINGER: how long destroy waits for unsent frames [0]. Waiting buys
     * little: whatever had no answer is reported ABANDONED anyway, and the
     * application resends it. */
    int linger_ms;
    /* ZMQ_SNDHWM / ZMQ_RCVHWM [max(1000, 2 * window)]. The window, not the
     * HWM, bounds the traffic; the HWM only needs room for it. */
    int sndhwm;
    int rcvhwm;

    /* Final outcomes; NULL to count them only. */
    jr_client_outcome_fn *on_outcome;
    /* First argument of on_outcome. Borrowed. */
    void *ctx;

    /* Set by the application's signal handler; see "Signals" above.
     * Borrowed; NULL: waits always resume after EINTR. */
    volatile sig_atomic_t *interrupted;

    /* A ZeroMQ context to create the socket in. Borrowed: it must outlive the
     * client. NULL: the client creates and owns one. */
    void *zmq_context;

    /* CURVE encryption, when the daemon requires it: the daemon's public key
     * and this client's key pair, each as 40 Z85 characters. Copied by
     * jr_client_new(). NULL curve_server_key: plain TCP. */
    const char *curve_server_key;
    const char *curve_public_key;
    const char *curve_secret_key;
} jr_client_options_t;

/* Counters since jr_client_new(). Final outcomes plus `pending` always equal
 * `submitted`. */
typedef struct {
    uint64_t submitted;   /* envelopes accepted by jr_client_submit() */
    uint64_t ok;          /* final: OK */
    uint64_t duplicate;   /* final: DUPLICATE */
    uint64_t parked;      /* final: PARKED */
    uint64_t rejected;    /* final: REJECTED */
    uint64_t abandoned;   /* final: ABANDONED (destroyed while pending) */
    uint64_t resent;      /* resends after an ack timeout or RETRY_LATER */
    uint64_t retry_later; /* RETRY_LATER answers received */
    uint64_t stray_acks;  /* answers matching nothing in flight (late or malformed) */
    size_t pending;       /* in flight now */
} jr_client_stats_t;

typedef struct jr_client jr_client_t;

/* Creates a client and connects it to `endpoint` ("tcp://host:port"; copied).
 * The connection is made in the background and re-made whenever it drops, so
 * an absent daemon is not an error here. `opts` is borrowed and may be NULL
 * (all defaults). Caller owns the result: free it with jr_client_destroy().
 * Returns NULL on a bad option or endpoint, or when out of memory; errno
 * then says why (EINVAL for bad options). */
jr_client_t *jr_client_new(const char *endpoint, const jr_client_options_t *opts);

/* Calls on_outcome with JR_CLIENT_ABANDONED for every envelope still in
 * flight, closes the socket (and the context, if the client created it) and
 * frees the client. Accepts NULL or a pointer to NULL; sets *self_p to NULL.
 * Call jr_client_flush() first to wait for answers. */
void jr_client_destroy(jr_client_t **self_p);

/* Packs `env` and sends it. `env` is borrowed: the client keeps its own
 * packed copy for resending, so the caller may free or reuse `env` as soon as
 * this returns. `user` is passed back, untouched, to on_outcome (ownership
 * stays with the caller; the callback is the place to free it).
 *
 * env->stream and env->source_event_id must be non-empty; the daemon checks
 * everything else. Blocks only while the window is full, reading answers and
 * resending meanwhile (so on_outcome may run inside this call).
 *
 * Returns 0 when the envelope is in flight (a later on_outcome will follow),
 * or a negative JR_CLIENT_E* (no on_outcome will follow):
 *   EINVAL     stream or source_event_id missing or empty;
 *   EINFLIGHT  the same (stream, source_event_id) is still in flight: wait
 *              for its outcome (jr_client_flush()) before sending it again;
 *   ETOOBIG, ENOMEM, EZMQ, ETIMEDOUT, EINTR as listed above. */
int jr_client_submit(jr_client_t *self, const Joinedreview__V1__Envelope *env, void *user);

/* The same for an envelope already packed (a program that keeps its queue
 * packed, on disk say): `packed` is borrowed and copied. It is unpacked
 * once to learn its stream and source_event_id, by which the answer is
 * matched; bytes that are not an Envelope with both are EINVAL. */
int jr_client_submit_packed(jr_client_t *self, const uint8_t *packed, size_t len, void *user);

/* Reads the answers that have arrived and resends what is due, waiting up to
 * timeout_ms for the first answer (0: do not wait). For applications with
 * their own loop that want outcomes promptly. Returns 0, or JR_CLIENT_EZMQ /
 * JR_CLIENT_EINTR. */
int jr_client_poll(jr_client_t *self, int timeout_ms);

/* Waits until every submitted envelope has its final outcome, reading answers
 * and resending meanwhile. timeout_ms < 0 waits as long as it takes.
 * Returns 0 when nothing is pending, the number of envelopes still pending
 * (> 0) when the timeout passed first, or JR_CLIENT_EZMQ / JR_CLIENT_EINTR. */
int jr_client_flush(jr_client_t *self, int timeout_ms);

/* Envelopes in flight now. */
size_t jr_client_pending(const jr_client_t *self);

/* Copies the counters into *out. */
void jr_client_stats(const jr_client_t *self, jr_client_stats_t *out);

/* "OK", "DUPLICATE", "PARKED", "REJECTED", "ABANDONED"; "UNKNOWN" for any
 * other value. Static storage. */
const char *jr_client_status_name(int status);

/* A short English phrase for a JR_CLIENT_E* code ("the window stayed full
 * until the submit timeout"). Static storage. */
const char *jr_client_strerror(int err);

#endif
