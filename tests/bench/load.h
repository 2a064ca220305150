/* load.h -- pushes prepared envelopes into the daemon from several senders
 * at once, as back offices do: each sender is a thread with its own client
 * (client/jr_client.h: a DEALER, at most `window` envelopes unacknowledged,
 * RETRY_LATER resent), and times each envelope from its first send to its
 * final ack.
 *
 * Every envelope needs its own (stream, source_event_id): the sender names
 * each with load_seid(), whose number is the envelope's place in its
 * sender's queue, so a stream must belong to one sender only. */
#ifndef LOAD_H
#define LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "joinedreview/joinedreview.pb-c.h"

typedef struct load load_t;

/* What happened to one sender's envelopes, or to all of them. */
typedef struct {
    size_t events;
    size_t ok, duplicate, parked, rejected; /* final answers */
    size_t retried;                         /* RETRY_LATER answers, each resent */
    size_t stray;                           /* acks that matched no envelope in flight */
    int64_t first_send_ns, last_ack_ns;     /* load_now_ns() clock */
} load_stats_t;

/* A monotonic clock in nanoseconds, shared by the senders and the caller. */
int64_t load_now_ns(void);

/* senders >= 1, window >= 1. Caller owns the result. */
load_t *load_new(size_t senders, int window);
void load_destroy(load_t **self_p);

/* The source_event_id the next envelope added to this sender must carry,
 * e.g. "sc-1234". */
void load_seid(const load_t *self, size_t sender, const char *stream, char out[32]);

/* Packs env (borrowed) onto the sender's queue. stream is borrowed and must
 * outlive self (a static string). 0 on success. */
int load_add(load_t *self, size_t sender, const char *stream,
             const Joinedreview__V1__Envelope *env);

size_t load_count(const load_t *self, size_t sender);
/* The i-th packed envelope of a sender; borrowed. */
const uint8_t *load_envelope(const load_t *self, size_t sender, size_t i, size_t *len);

/* Starts one thread per sender against the ingest endpoint. zctx and
 * endpoint are borrowed until load_wait returns. 0 on success. */
int load_start(load_t *self, void *zctx, const char *endpoint);
/* Envelopes finally acknowledged so far, over all senders; any thread. */
size_t load_acked(const load_t *self);
/* True once every sender has stopped (done or failed). */
int load_finished(const load_t *self);
/* Joins the senders: 0 when every envelope was finally acknowledged. */
int load_wait(load_t *self);

/* After load_wait: one sender's figures, or all senders' when sender is
 * SIZE_MAX. */
void load_stats(const load_t *self, size_t sender, load_stats_t *out);
/* After load_wait: ack latency over every acknowledged envelope, in ns, at
 * the given fractions (0.5, 0.99, 1.0 for the maximum). 0 on success. */
int load_latency(const load_t *self, const double *fractions, size_t n, int64_t *out);

/* A "VmRSS:"-style line of /proc/<pid>/status (key with its colon), in kB;
 * -1 when unreadable. */
long load_proc_kb(pid_t pid, const char *key);

#endif
