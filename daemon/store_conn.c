/* store_conn.c -- the store's session: connecting without blocking (the
 * daemon's login, then the schema owner's to migrate), the writer's lock,
 * transactions, and running prepared statements. See store_pg.h and
 * store_conn.h. */
#include "store_conn.h"

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* How long a connection may take to be made, each login's on its own (the
 * connect_timeout that PQconnectdb would apply, which PQconnectPoll does
 * not). */
#define CONNECT_TIMEOUT_MS 10000

/* The advisory lock only one writer holds. */
#define WRITER_LOCK "SELECT pg_try_advisory_lock(74612026)"

jr_store_pg_t *jr_store_pg_new_reader(const char *conninfo, int statement_timeout_ms)
{
    jr_store_pg_t *self = jr_store_pg_new(conninfo, NULL, statement_timeout_ms);
    if (self != NULL) {
        self->reader = true;
    }
    return self;
}

jr_store_pg_t *jr_store_pg_new(const char *conninfo, const char *owner_conninfo,
                               int statement_timeout_ms)
{
    jr_store_pg_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        return NULL;
    }
    self->conninfo = strdup(conninfo);
    if (self->conninfo == NULL) {
        free(self);
        return NULL;
    }
    self->statement_timeout_ms = statement_timeout_ms;
    if (owner_conninfo != NULL && owner_conninfo[0] != '\0') {
        self->owner_conninfo = strdup(owner_conninfo);
        if (self->owner_conninfo == NULL) {
            jr_store_pg_destroy(&self);
        }
    }
    return self;
}

void jr_store_pg_disconnect(jr_store_pg_t *self)
{
    if (self->conn != NULL) {
        PQfinish(self->conn);
        self->conn = NULL;
    }
    if (self->owner != NULL) {
        PQfinish(self->owner);
        self->owner = NULL;
    }
    self->phase = JR_STORE_IDLE;
    self->copy_pending = false;
    self->n_prepared = 0;
}

void jr_store_pg_destroy(jr_store_pg_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_store_pg_disconnect(*self_p);
    free((*self_p)->conninfo);
    free((*self_p)->owner_conninfo);
    free(*self_p);
    *self_p = NULL;
}

bool jr_store_pg_connected(const jr_store_pg_t *self)
{
    return self->phase == JR_STORE_READY && self->conn != NULL &&
           PQstatus(self->conn) == CONNECTION_OK;
}

int jr_store_pg_socket(const jr_store_pg_t *self)
{
    const PGconn *c = self->phase == JR_STORE_OWNER ? self->owner : self->conn;
    return c ? PQsocket(c) : -1;
}

const char *jr_store_pg_error(const jr_store_pg_t *self)
{
    return self->error;
}

/* Sets the error to "what: <libpq's message about conn>". */
static void conn_error(jr_store_pg_t *self, const PGconn *conn, const char *what)
{
    const char *msg = conn ? PQerrorMessage(conn) : "no connection";
    snprintf(self->error, sizeof self->error, "%s: %s", what, msg);
    size_t len = strlen(self->error);
    while (len > 0 && (self->error[len - 1] == '\n' || self->error[len - 1] == ' ')) {
        self->error[--len] = '\0';
    }
}

void jr_store_conn_set_error(jr_store_pg_t *self, const char *what)
{
    conn_error(self, self->conn, what);
}

int jr_store_conn_fail(jr_store_pg_t *self, const char *what)
{
    snprintf(self->error, sizeof self->error, "%s", what);
    return JR_STORE_RETRY;
}

/* Server notices ("already exists, skipping") are for debugging only. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    jr_log(JR_LOG_DEBUG, "store", "server: %.*s", (int)strcspn(message, "\n"), message);
}

int jr_store_conn_classify(jr_store_pg_t *self, PGresult *res, const char *what)
{
    jr_store_conn_set_error(self, what);
    if (self->conn == NULL || PQstatus(self->conn) != CONNECTION_OK) {
        return JR_STORE_RETRY;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)) {
        return JR_STORE_DATA;
    }
    /* Connection trouble, shutdown, resources, lock conflicts, timeouts and
     * anything unexpected: the data may well be fine, so it must not be
     * refused. */
    return JR_STORE_RETRY;
}

int jr_store_conn_exec(jr_store_pg_t *self, const char *sql)
{
    PGresult *res = PQexec(self->conn, sql);
    int rc = JR_STORE_OK;
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = jr_store_conn_classify(self, res, sql);
    }
    PQclear(res);
    return rc;
}

/* After the connection is up: session settings, the writer lock. A reader's
 * session is read-only and takes no lock. */
static int session_setup(jr_store_pg_t *self)
{
    jr_store_params_t p = {0};
    jr_store_conn_param_int(&p, self->statement_timeout_ms);
    PGresult *res = PQexecParams(self->conn, "SELECT set_config('statement_timeout', $1, false)", 1,
                                 NULL, p.values, NULL, NULL, 0);
    bool set = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!set || jr_store_conn_exec(self, "SET application_name = 'joinedreviewd'") != JR_STORE_OK) {
        if (!set) {
            jr_store_conn_set_error(self, "SET statement_timeout");
        }
        return JR_STORE_RETRY;
    }
    if (self->reader) {
        return jr_store_conn_exec(self, "SET default_transaction_read_only = on");
    }
    res = PQexec(self->conn, WRITER_LOCK);
    bool locked = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                  strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!locked) {
        snprintf(self->error, sizeof self->error,
                 "another joinedreviewd holds this database's writer lock");
        return JR_STORE_BUSY;
    }
    return JR_STORE_OK;
}

static int prepare(jr_store_pg_t *self, const jr_store_stmt_t *s)
{
    if (self->n_prepared == JR_STORE_STMTS_MAX) {
        return jr_store_conn_fail(self, "more statements than JR_STORE_STMTS_MAX");
    }
    PGresult *res = PQprepare(self->conn, s->name, s->sql, 0, NULL);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? JR_STORE_OK
                                                     : jr_store_conn_classify(self, res, s->sql);
    PQclear(res);
    if (rc == JR_STORE_OK) {
        self->prepared[self->n_prepared++] = s;
    }
    return rc;
}

static int prepare_all(jr_store_pg_t *self)
{
    const jr_store_stmt_t *const *lists[] = {jr_store_batch_statements, jr_store_read_statements};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        for (const jr_store_stmt_t *const *s = lists[l]; *s != NULL; s++) {
            if (prepare(self, *s) != JR_STORE_OK) {
                return JR_STORE_FATAL;
            }
        }
    }
    return JR_STORE_OK;
}

/* Starts a connection to conninfo; NULL when libpq could not even start. */
static PGconn *start(const char *conninfo)
{
    const char *keys[] = {"dbname", "connect_timeout", "keepalives", "keepalives_idle", NULL};
    const char *vals[] = {conninfo, "10", "1", "30", NULL};
    /* expand_dbname = 1: the conninfo string is parsed; later keys fill gaps. */
    PGconn *conn = PQconnectStartParams(keys, vals, 1);
    if (conn != NULL && PQstatus(conn) != CONNECTION_BAD) {
        PQsetNoticeProcessor(conn, on_notice, NULL);
    }
    return conn;
}

int jr_store_pg_connect_start(jr_store_pg_t *self)
{
    jr_store_pg_disconnect(self);
    self->conn = start(self->conninfo);
    if (self->conn == NULL || PQstatus(self->conn) == CONNECTION_BAD) {
        jr_store_conn_set_error(self, "connect");
        jr_store_pg_disconnect(self);
        return JR_STORE_RETRY;
    }
    self->phase = JR_STORE_SESSION;
    self->deadline_ms = jr_clock_mono_ms() + CONNECT_TIMEOUT_MS;
    return JR_STORE_OK;
}

/* Advances one connection being made: 1 while in progress, JR_STORE_OK
 * once made, JR_STORE_RETRY when it failed. */
static int poll_one(PGconn *conn, bool *want_write)
{
    switch (PQconnectPoll(conn)) {
    case PGRES_POLLING_READING:
        *want_write = false;
        return 1;
    case PGRES_POLLING_WRITING:
        *want_write = true;
        return 1;
    case PGRES_POLLING_OK:
        return JR_STORE_OK;
    default:
        return JR_STORE_RETRY;
    }
}

/* Migrations on the schema owner's connection: the helpers work on
 * self->conn, so it stands in for the session's own meanwhile, which keeps
 * its unprivileged login. The owner's connection is closed afterwards. */
static int migrate_as_owner(jr_store_pg_t *self)
{
    PGconn *session = self->conn;
    self->conn = self->owner;
    int rc = jr_store_migrate_apply(self);
    self->conn = session;
    PQfinish(self->owner);
    self->owner = NULL;
    return rc;
}

/* The session's connection is made: settings and lock, then, for the
 * writer, the migrations (on the owner's connection, which is started
 * here and made by later polls) and the statements. */
static int session_made(jr_store_pg_t *self, bool *want_write)
{
    int rc = session_setup(self);
    if (rc != JR_STORE_OK || self->reader) {
        return rc;
    }
    if (self->owner_conninfo != NULL) {
        self->owner = start(self->owner_conninfo);
        if (self->owner == NULL || PQstatus(self->owner) == CONNECTION_BAD) {
            conn_error(self, self->owner, "connect as the schema owner");
            return JR_STORE_RETRY;
        }
        self->phase = JR_STORE_OWNER;
        self->deadline_ms = jr_clock_mono_ms() + CONNECT_TIMEOUT_MS;
        *want_write = true; /* libpq: poll for writing first */
        return 1;
    }
    /* Migrations before preparing: statements name the tables they create. */
    rc = jr_store_migrate_apply(self);
    return rc == JR_STORE_OK ? prepare_all(self) : rc;
}

static int connect_step(jr_store_pg_t *self, bool *want_write)
{
    if (self->phase == JR_STORE_SESSION) {
        int rc = poll_one(self->conn, want_write);
        if (rc == JR_STORE_RETRY) {
            jr_store_conn_set_error(self, "connect");
        }
        return rc == JR_STORE_OK ? session_made(self, want_write) : rc;
    }
    int rc = poll_one(self->owner, want_write); /* JR_STORE_OWNER */
    if (rc == JR_STORE_RETRY) {
        conn_error(self, self->owner, "connect as the schema owner");
    }
    if (rc != JR_STORE_OK) {
        return rc;
    }
    rc = migrate_as_owner(self);
    return rc == JR_STORE_OK ? prepare_all(self) : rc;
}

int jr_store_pg_connect_poll(jr_store_pg_t *self, bool *want_write)
{
    if (self->phase == JR_STORE_READY) {
        return JR_STORE_OK;
    }
    if (self->phase == JR_STORE_IDLE) {
        return jr_store_conn_fail(self, "connect: not started");
    }
    int rc = jr_clock_mono_ms() > self->deadline_ms ? jr_store_conn_fail(self, "connect: timed out")
                                                    : connect_step(self, want_write);
    if (rc == 1) {
        return 1;
    }
    if (rc != JR_STORE_OK) {
        char keep[sizeof self->error];
        memcpy(keep, self->error, sizeof keep);
        jr_store_pg_disconnect(self);
        memcpy(self->error, keep, sizeof keep);
        return rc == JR_STORE_BUSY ? JR_STORE_BUSY : JR_STORE_RETRY;
    }
    self->phase = JR_STORE_READY;
    return JR_STORE_OK;
}

int jr_store_pg_connect_wait(jr_store_pg_t *self, int timeout_ms)
{
    if (jr_store_pg_connect_start(self) != JR_STORE_OK) {
        return JR_STORE_RETRY;
    }
    int64_t deadline = jr_clock_mono_ms() + timeout_ms;
    for (;;) {
        bool want_write = false;
        int rc = jr_store_pg_connect_poll(self, &want_write);
        if (rc != 1) {
            return rc;
        }
        int64_t left = deadline - jr_clock_mono_ms();
        if (left <= 0) {
            jr_store_pg_disconnect(self);
            return jr_store_conn_fail(self, "connect: timed out");
        }
        struct pollfd pfd = {.fd = jr_store_pg_socket(self),
                             .events = want_write ? POLLOUT : POLLIN};
        if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
            return JR_STORE_RETRY;
        }
    }
}

/* ---- transactions ---- */

int jr_store_pg_begin(jr_store_pg_t *self)
{
    return jr_store_conn_exec(self, "BEGIN");
}

int jr_store_pg_commit(jr_store_pg_t *self)
{
    return jr_store_conn_exec(self, "COMMIT");
}

void jr_store_pg_rollback(jr_store_pg_t *self)
{
    if (self->conn != NULL && PQstatus(self->conn) == CONNECTION_OK) {
        PGresult *res;
        while (self->copy_pending && (res = PQgetResult(self->conn)) != NULL) {
            PQclear(res); /* a COPY sent but not yet read */
        }
        self->copy_pending = false;
        res = PQexec(self->conn, "ROLLBACK");
        PQclear(res);
    }
}

/* ---- parameters ---- */

void jr_store_conn_param_text(jr_store_params_t *p, const char *s)
{
    assert(p->n < JR_STORE_PARAMS_MAX);
    p->values[p->n] = s;
    p->lengths[p->n] = 0;
    p->formats[p->n] = 0;
    p->n++;
}

void jr_store_conn_param_int(jr_store_params_t *p, long long v)
{
    assert(p->n < JR_STORE_PARAMS_MAX);
    snprintf(p->bytes[p->n], sizeof p->bytes[p->n], "%lld", v);
    jr_store_conn_param_text(p, p->bytes[p->n]);
}

void jr_store_conn_param_bytes(jr_store_params_t *p, const uint8_t *b, size_t len)
{
    assert(p->n < JR_STORE_PARAMS_MAX);
    p->values[p->n] = (const char *)b;
    p->lengths[p->n] = (int)len;
    p->formats[p->n] = 1;
    p->n++;
}

void jr_store_conn_param_date(jr_store_params_t *p, jr_day_t day)
{
    assert(p->n < JR_STORE_PARAMS_MAX);
    if (day == JR_DAY_NONE) {
        jr_store_conn_param_bytes(p, NULL, 0);
        return;
    }
    jr_pgbin_date_bytes(day, (uint8_t *)p->bytes[p->n]);
    jr_store_conn_param_bytes(p, (const uint8_t *)p->bytes[p->n], 4);
}

int jr_store_conn_param_array(jr_store_pg_t *self, jr_store_params_t *p, jr_pgbin_array_t *a)
{
    size_t len = 0;
    const uint8_t *bytes = jr_pgbin_array_finish(a, &len);
    jr_store_conn_param_bytes(p, bytes, len);
    return bytes != NULL ? JR_STORE_OK : jr_store_conn_fail(self, "out of memory");
}

/* ---- running statements ---- */

static bool is_prepared(const jr_store_pg_t *self, const jr_store_stmt_t *s)
{
    for (size_t i = 0; i < self->n_prepared; i++) {
        if (self->prepared[i] == s) {
            return true;
        }
    }
    return false;
}

int jr_store_conn_run(jr_store_pg_t *self, const jr_store_stmt_t *s, const jr_store_params_t *p,
                      int binary, PGresult **out)
{
    if (!jr_store_pg_connected(self)) {
        return jr_store_conn_fail(self, "not connected");
    }
    if (!is_prepared(self, s)) {
        int rc = prepare(self, s);
        if (rc != JR_STORE_OK) {
            return rc;
        }
    }
    static const jr_store_params_t none = {0};
    p = p ? p : &none;
    PGresult *res =
        PQexecPrepared(self->conn, s->name, p->n, p->values, p->lengths, p->formats, binary);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = jr_store_conn_classify(self, res, s->sql);
        PQclear(res);
        return rc;
    }
    if (out != NULL) {
        *out = res;
    } else {
        PQclear(res);
    }
    return JR_STORE_OK;
}

int jr_store_conn_run_arrays(jr_store_pg_t *self, const jr_store_stmt_t *s, jr_pgbin_array_t *a,
                             size_t n, const jr_store_params_t *after, int binary, PGresult **out)
{
    jr_store_params_t p = {0};
    int rc = JR_STORE_OK;
    for (size_t i = 0; i < n; i++) {
        int added = jr_store_conn_param_array(self, &p, &a[i]);
        rc = rc == JR_STORE_OK ? added : rc;
    }
    for (int i = 0; after != NULL && i < after->n; i++) {
        assert(p.n < JR_STORE_PARAMS_MAX);
        p.values[p.n] = after->values[i]; /* pointing into *after, which outlives the run */
        p.lengths[p.n] = after->lengths[i];
        p.formats[p.n++] = after->formats[i];
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_conn_run(self, s, &p, binary, out);
    }
    for (size_t i = 0; i < n; i++) {
        jr_pgbin_array_free(&a[i]);
    }
    return rc;
}

int jr_store_conn_run_u64(jr_store_pg_t *self, const jr_store_stmt_t *s, const jr_store_params_t *p,
                          uint64_t *out)
{
    PGresult *res = NULL;
    int rc = jr_store_conn_run(self, s, p, 0, &res);
    if (rc == JR_STORE_OK) {
        *out = PQntuples(res) > 0 ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
        PQclear(res);
    }
    return rc;
}

int64_t jr_store_conn_i64(const PGresult *res, int row, int col)
{
    uint64_t v;
    memcpy(&v, PQgetvalue(res, row, col), sizeof v);
    return (int64_t)be64toh(v);
}

int32_t jr_store_conn_i32(const PGresult *res, int row, int col)
{
    uint32_t v;
    memcpy(&v, PQgetvalue(res, row, col), sizeof v);
    return (int32_t)be32toh(v);
}
