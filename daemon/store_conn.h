/* store_conn.h -- what the store's files share, and nothing outside the
 * store includes: the session, its prepared statements and the helpers that
 * run them. The store's API is store_pg.h; its files are
 *   store_conn.c     the session: connecting, transactions, running statements
 *   store_migrate.c  the migrations and the settings the schema keeps
 *   store_batch.c    what the writer runs: the batch's statements, its COPY
 *   store_read.c     what readers run: catch-up and the statistics
 * and pgbin.c builds the binary arrays and COPY rows they send. */
#ifndef JR_STORE_CONN_H
#define JR_STORE_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgbin.h"
#include "store_pg.h"
#include "text.h"

/* A statement the store prepares. Each file keeps its own as static
 * constants next to the functions that run them. */
typedef struct {
    const char *name; /* the prepared statement's name: unique in the store */
    const char *sql;
} jr_store_stmt_t;

/* Every statement of store_batch.c and store_read.c, NULL-terminated: the
 * writer prepares them all when it connects, so that a schema it does not
 * match fails at once. */
extern const jr_store_stmt_t *const jr_store_batch_statements[];
extern const jr_store_stmt_t *const jr_store_read_statements[];

enum { JR_STORE_STMTS_MAX = 64, JR_STORE_PARAMS_MAX = 32 };

typedef enum {
    JR_STORE_IDLE,    /* no connection */
    JR_STORE_SESSION, /* the session's own connection is being made */
    JR_STORE_OWNER,   /* the schema owner's, to migrate, is being made */
    JR_STORE_READY,
} jr_store_phase_t;

struct jr_store_pg {
    char *conninfo;
    char *owner_conninfo; /* NULL: migrations run on the daemon's own login */
    int statement_timeout_ms;
    PGconn *conn;
    PGconn *owner; /* the schema owner's short connection, while migrating */
    jr_store_phase_t phase;
    int64_t deadline_ms; /* monotonic: the connection being made fails after it */
    bool reader;         /* a second, read-only session: no lock, no migrations */
    /* The statements this session has prepared. The writer prepares all at
     * connect; a reader prepares what it runs, when it first runs it
     * (parsing takes a lock on every table a statement names, and a reader
     * must not wait on tables it never reads). */
    const jr_store_stmt_t *prepared[JR_STORE_STMTS_MAX];
    size_t n_prepared;
    bool copy_pending;      /* a COPY's data is sent; its result not yet read */
    uint64_t copy_events;   /* the rows it adds to the event log */
    uint64_t copy_parked;   /* of them, parked */
    long long rejected_max; /* rows of rejected_event kept; 0: no bound */
    char error[512];
};

/* ---- parameters of one statement ---- */

typedef struct {
    const char *values[JR_STORE_PARAMS_MAX];
    int lengths[JR_STORE_PARAMS_MAX];
    int formats[JR_STORE_PARAMS_MAX];
    int n;
    char bytes[JR_STORE_PARAMS_MAX][24]; /* numbers and dates the values point into */
} jr_store_params_t;

void jr_store_conn_param_text(jr_store_params_t *p, const char *s); /* NULL: NULL */
void jr_store_conn_param_int(jr_store_params_t *p, long long v);
void jr_store_conn_param_bytes(jr_store_params_t *p, const uint8_t *b, size_t len);
/* A binary date; JR_DAY_NONE: NULL. */
void jr_store_conn_param_date(jr_store_params_t *p, jr_day_t day);
/* A binary array, finished (see jr_pgbin_array_finish): it must outlive the
 * statement's run. JR_STORE_RETRY, with the error set, when it ran out of
 * memory. */
int jr_store_conn_param_array(jr_store_pg_t *self, jr_store_params_t *p, jr_pgbin_array_t *a);

/* ---- running statements ---- */

/* Runs statement s with p (NULL: none); *out receives the result (caller
 * clears) when non-NULL. Results are binary when `binary`. A status. */
int jr_store_conn_run(jr_store_pg_t *self, const jr_store_stmt_t *s, const jr_store_params_t *p,
                      int binary, PGresult **out);

/* Runs s with the arrays a[0..n) as its parameters $1..$n, then those of
 * `after` (NULL: none), and frees the arrays whatever happens. */
int jr_store_conn_run_arrays(jr_store_pg_t *self, const jr_store_stmt_t *s, jr_pgbin_array_t *a,
                             size_t n, const jr_store_params_t *after, int binary, PGresult **out);

/* Runs s (text results) and reads the one number it answers, 0 when no row. */
int jr_store_conn_run_u64(jr_store_pg_t *self, const jr_store_stmt_t *s, const jr_store_params_t *p,
                          uint64_t *out);

/* Runs a simple command outside the prepared set. */
int jr_store_conn_exec(jr_store_pg_t *self, const char *sql);

/* Decides whether a failed result is worth retrying or is about the data,
 * with the error set. */
int jr_store_conn_classify(jr_store_pg_t *self, PGresult *res, const char *what);

/* Sets the error to "what: <libpq's message>". */
void jr_store_conn_set_error(jr_store_pg_t *self, const char *what);

/* Sets the error to `what` alone and returns JR_STORE_RETRY. */
int jr_store_conn_fail(jr_store_pg_t *self, const char *what);

/* Binary integer columns of a result. */
int64_t jr_store_conn_i64(const PGresult *res, int row, int col);
int32_t jr_store_conn_i32(const PGresult *res, int row, int col);

/* ---- store_migrate.c ---- */

/* Applies the migrations not yet recorded on self->conn (the owner's, when
 * the session has one, stands in for it meanwhile), each in its own
 * transaction under an advisory lock, then the settings the schema keeps
 * for the reporting views. A status; JR_STORE_FATAL when one failed. */
int jr_store_migrate_apply(jr_store_pg_t *self);

#endif
