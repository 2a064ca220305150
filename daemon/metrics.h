/* metrics.h -- the daemon's own figures for the operations team, in
 * Prometheus' text exposition format 0.0.4, on a loopback-only HTTP
 * endpoint.
 *
 * What only the daemon's loop knows: acknowledgements by status, how long a
 * batch's commit takes (a histogram with Prometheus' default buckets), and
 * how often the database connection was made again. Figures that the
 * database holds (parked, rejected, reviews due) are joinedreview-web's to
 * serve; it includes these when it can reach them.
 *
 * The counters are atomics: the loop adds, the endpoint's thread reads,
 * neither waits for the other. The endpoint (libmicrohttpd, its own thread)
 * binds 127.0.0.1 only, answers GET /metrics and nothing else, and holds at
 * most 8 connections of 4 s each. */
#ifndef JR_METRICS_H
#define JR_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Ack statuses as on the wire (Ack.Status: OK 1 ... RETRY_LATER 5). */
#define JR_METRICS_ACK_STATUSES 5

/* Prometheus' default buckets, in seconds. */
#define JR_METRICS_BUCKETS 11

typedef struct jr_metrics jr_metrics_t;

/* Zeroed counters. Caller owns the result; NULL when out of memory. */
jr_metrics_t *jr_metrics_new(void);
void jr_metrics_destroy(jr_metrics_t **self_p);

/* One acknowledgement sent with this wire status (1..5; others ignored). */
void jr_metrics_ack(jr_metrics_t *self, int status);

/* One batch committed (or failed) after this many microseconds. */
void jr_metrics_commit_us(jr_metrics_t *self, uint64_t us);

/* The database connection was made again after it was lost. */
void jr_metrics_db_reconnect(jr_metrics_t *self);

/* Writes the exposition text into out (NUL-terminated). Returns its length,
 * or -1 when it does not fit in len bytes. */
int jr_metrics_format(const jr_metrics_t *self, char *out, size_t len);

/* The endpoint. */
typedef struct jr_metrics_server jr_metrics_server_t;

/* Serves self (borrowed: must outlive the server) on 127.0.0.1:port (0: a
 * free port, see jr_metrics_server_port). NULL with errno when it cannot
 * bind. */
jr_metrics_server_t *jr_metrics_server_start(jr_metrics_t *self, unsigned port);

/* The port it listens on. */
unsigned jr_metrics_server_port(const jr_metrics_server_t *server);

void jr_metrics_server_stop(jr_metrics_server_t **server_p);

#endif
