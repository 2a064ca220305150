/* pgpool.h -- the service's database connections: a fixed pool, one per
 * worker thread, so a request never waits for another's query and the
 * database sees a bounded number of sessions.
 *
 * A connection is made when first taken, and made again when a query found
 * it broken (counted: the metrics show reconnects). Each session is set up
 * with application_name, statement_timeout and TCP keepalives.
 * Thread-safe. */
#ifndef JR_PGPOOL_H
#define JR_PGPOOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jr_pgpool jr_pgpool_t;

/* size connections to conninfo (copied). Caller owns the result. */
jr_pgpool_t *jr_pgpool_new(const char *conninfo, size_t size, int statement_timeout_ms);
void jr_pgpool_destroy(jr_pgpool_t **self_p);

/* A connected session, waiting up to wait_ms for a free one; NULL when none
 * is free or the database cannot be reached (logged, rate-limited). */
PGconn *jr_pgpool_take(jr_pgpool_t *self, int wait_ms);

/* Gives a session back. One whose connection broke is made again at the
 * next take. */
void jr_pgpool_give(jr_pgpool_t *self, PGconn *conn);

/* Connections made again after one was lost. */
uint64_t jr_pgpool_reconnects(jr_pgpool_t *self);

#endif
