/* store_pg.c -- see store_pg.h. */
#include "store_pg.h"

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <time.h>

#include "log.h"
#include "migrations.h"

typedef enum {
    S_PERSON_ENSURE,
    S_PERSON_CYCLE,
    S_PERSON_SET_CYCLE,
    S_EVENT_ASSIGN,
    S_PERSON_EVENTS,
    S_REVIEW_PUT,
    S_REVIEW_GET,
    S_LAST_SEQ,
    S_REJECTED_ADD,
    S_REJECTED_EVICT,
    S_REJECTED_TRIM,
    S_PERSONS,
    S_SCHEDULE_DUE,
    S_NOTICE_KEYS,
    S_NOTICES_ADD,
    S_PUBLISHED_GET,
    S_PUBLISHED_SET,
    S_OUTBOX_AFTER,
    S_OUTBOX_OLDEST,
    S_OUTBOX_TRIM,
    S_SNAPSHOT,
    S_EXISTS_MANY,
    S_LINKS_MANY,
    S_PERSONS_ENSURE_MANY,
    S_PERSONS_CYCLES,
    S_PERSONS_EVENTS,
    S_LINKS_ADD_MANY,
    S_PARKED_MANY,
    S_PUBLISH_RECORDS,
    S_SCHEDULES_PUT,
    S_STAT_TOTALS,
    S_STAT_STREAMS,
    S_STAT_LEADS,
    S_STAT_AREAS,
    S_STAT_COUNTS,
    S_STAT_SEQ,
    S_SNAPSHOT_FETCH,
    S_COUNT
} stmt_t;

/* Every statement the daemon runs, prepared once per connection. */
static const char *const g_sql[S_COUNT] = {
    [S_PERSON_ENSURE] = "INSERT INTO person (nhs_number) VALUES ($1) ON CONFLICT DO NOTHING",
    [S_PERSON_CYCLE] = "SELECT cycle FROM person WHERE nhs_number = $1",
    [S_PERSON_SET_CYCLE] = "UPDATE person SET cycle = $2 WHERE nhs_number = $1",
    [S_EVENT_ASSIGN] = "UPDATE event SET nhs_number = $2, cycle = $3, seq = $4 WHERE id = $1",
    [S_PERSON_EVENTS] = "SELECT id, cycle, coalesce(seq, 0), envelope FROM event "
                        "WHERE nhs_number = $1 ORDER BY id",
    [S_REVIEW_PUT] =
        "INSERT INTO consolidated_review (nhs_number, cycle, version, seq, ready_for_sign_off, "
        "held_on, record, enrolled, complete_streams, area_priority, area_conflict) VALUES ($1, "
        "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (nhs_number, cycle) DO UPDATE "
        "SET version = EXCLUDED.version, seq = EXCLUDED.seq, ready_for_sign_off = "
        "EXCLUDED.ready_for_sign_off, held_on = EXCLUDED.held_on, record = EXCLUDED.record, "
        "enrolled = EXCLUDED.enrolled, complete_streams = EXCLUDED.complete_streams, "
        "area_priority = EXCLUDED.area_priority, area_conflict = EXCLUDED.area_conflict, "
        "updated_at = now()",
    [S_REVIEW_GET] = "SELECT record FROM consolidated_review WHERE nhs_number = $1 AND cycle = $2",
    /* The outbox is trimmed by age, so the last sequence number is the
     * highest any table remembers, never one that could be handed out again. */
    [S_LAST_SEQ] = "SELECT greatest((SELECT coalesce(max(seq), 0) FROM outbox), "
                   "(SELECT coalesce(max(last_published_seq), 0) FROM publish_state), "
                   "(SELECT coalesce(max(seq), 0) FROM consolidated_review), "
                   "(SELECT coalesce(max(seq), 0) FROM due_notice))::int8",
    /* One row per distinct rejection (its bytes and reason): a resend counts
     * and takes the new id its insert drew, so that ids follow when each was
     * last seen. */
    [S_REJECTED_ADD] =
        "INSERT INTO rejected_event (sender, stream, source_event_id, reason_code, reason, raw, "
        "raw_length, digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (digest, "
        "reason_code) DO UPDATE SET id = EXCLUDED.id, times = "
        "rejected_event.times + 1, last_seen = now(), sender = EXCLUDED.sender, stream = "
        "EXCLUDED.stream, source_event_id = EXCLUDED.source_event_id, reason = EXCLUDED.reason "
        "RETURNING id",
    /* Keeps the newest $2 ids: a bound on rows whatever the rate of junk. */
    [S_REJECTED_EVICT] = "DELETE FROM rejected_event WHERE id <= $1::int8 - $2::int8",
    /* A round of the retention: rows not seen for $1 days, at most $2. */
    [S_REJECTED_TRIM] = "DELETE FROM rejected_event WHERE id IN (SELECT id FROM rejected_event "
                        "WHERE last_seen < now() - make_interval(days => $1) LIMIT $2)",
    [S_PERSONS] = "SELECT nhs_number, cycle FROM person ORDER BY nhs_number",
    [S_SCHEDULE_DUE] = "SELECT s.nhs_number, p.cycle FROM schedule s JOIN person p USING "
                       "(nhs_number) WHERE s.next_check_on <= $1 ORDER BY s.next_check_on, "
                       "s.nhs_number LIMIT $2",
    [S_NOTICE_KEYS] = "SELECT d.nhs_number, d.cycle, d.key FROM unnest($1::text[]) AS k(n) "
                      "CROSS JOIN LATERAL (SELECT * FROM due_notice d WHERE d.nhs_number = k.n "
                      "OFFSET 0) d",
    /* Notices with their outbox rows. */
    [S_NOTICES_ADD] =
        "WITH n AS (SELECT * FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], "
        "$5::text[], $6::text[], $7::text[], $8::text[], $9::int8[], $10::text[], $11::bytea[]) "
        "AS n(nhs, cycle, key, kind, notice_on, review_on, lead, covered, seq, topic, payload)), "
        "ob AS (INSERT INTO outbox (seq, topic, nhs_number, payload) SELECT seq, topic, nhs, "
        "payload FROM n) INSERT INTO due_notice (nhs_number, cycle, key, kind, notice_on, "
        "review_on, lead, covered, seq, payload) SELECT nhs, cycle, key, kind, notice_on::date, "
        "review_on::date, lead, covered::text[], seq, payload FROM n",
    [S_PUBLISHED_GET] = "SELECT last_published_seq FROM publish_state",
    [S_PUBLISHED_SET] = "UPDATE publish_state SET last_published_seq = $1 "
                        "WHERE last_published_seq < $1",
    [S_OUTBOX_AFTER] =
        "SELECT seq, topic, payload FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
    [S_OUTBOX_OLDEST] = "SELECT coalesce(min(seq), 0)::int8 FROM outbox",
    /* A round of the trim: the oldest rows past the retention, at most $2. */
    [S_OUTBOX_TRIM] = "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE created_at < "
                      "now() - make_interval(days => $1) ORDER BY created_at LIMIT $2)",
    /* The current record of every person (their newest cycle's: after a
     * review held, the held cycle's final record until the next event) and
     * each person's latest published notice of the current cycle, in one
     * sequence order; optionally only those whose next review a stream leads
     * ($1) or who are enrolled in a stream ($2). A cursor, so that a
     * snapshot of a million persons is read 1,000 rows at a time inside its
     * transaction, never held whole. */
    [S_SNAPSHOT] =
        "DECLARE jr_snapshot NO SCROLL CURSOR FOR "
        "SELECT c.seq, 'review'::text, c.record FROM (SELECT DISTINCT ON (nhs_number) * "
        "FROM consolidated_review ORDER BY nhs_number, cycle DESC) c "
        "LEFT JOIN schedule s ON s.nhs_number = c.nhs_number "
        "WHERE ($1::text IS NULL OR s.lead = $1) AND ($2::text IS NULL OR $2 = ANY (c.enrolled)) "
        "UNION ALL "
        "SELECT seq, topic, payload FROM (SELECT DISTINCT ON (d.nhs_number) d.seq, "
        "'notice.' || lower(d.kind) || '.' || coalesce(d.lead, 'NONE') AS topic, d.payload "
        "FROM due_notice d JOIN person p ON p.nhs_number = d.nhs_number AND p.cycle = d.cycle "
        "WHERE d.seq IS NOT NULL AND ($1::text IS NULL OR d.lead = $1) "
        "AND ($2::text IS NULL OR $2 = ANY (d.covered)) "
        "ORDER BY d.nhs_number, d.seq DESC) n ORDER BY 1",
    /* Batch-wide reads, one round trip each, keyed by arrays.
     *
     * Every lookup by key goes through the key's index whatever the
     * planner's statistics say: CROSS JOIN LATERAL (... OFFSET 0) keeps the
     * subquery a per-key index scan. Plain joins were planned as hash joins
     * over whole tables once statistics were missing or stale during a
     * bulk load: a scan of the whole event log, or of every person, for
     * each batch. */
    [S_EXISTS_MANY] = "SELECT e.stream, e.source_event_id FROM unnest($1::text[], $2::text[]) "
                      "AS k(s, i) CROSS JOIN LATERAL (SELECT stream, source_event_id FROM event e "
                      "WHERE e.stream = k.s AND e.source_event_id = k.i OFFSET 0) e",
    [S_LINKS_MANY] = "SELECT l.kind, l.stream, l.value, l.nhs_number FROM unnest($1::text[], "
                     "$2::text[], $3::text[]) AS k(kd, st, val) CROSS JOIN LATERAL (SELECT * FROM "
                     "identity_link l WHERE l.kind = k.kd AND l.stream = k.st AND l.value = k.val "
                     "OFFSET 0) l",
    [S_PERSONS_ENSURE_MANY] = "INSERT INTO person (nhs_number) SELECT DISTINCT unnest($1::text[]) "
                              "ON CONFLICT DO NOTHING",
    [S_PERSONS_CYCLES] =
        "SELECT p.nhs_number, p.cycle FROM unnest($1::text[]) AS k(n) CROSS JOIN LATERAL "
        "(SELECT * FROM person p WHERE p.nhs_number = k.n OFFSET 0) p",
    [S_PERSONS_EVENTS] = "SELECT e.id, e.cycle, coalesce(e.seq, 0), e.envelope, e.nhs_number FROM "
                         "unnest($1::text[]) AS k(n) CROSS JOIN LATERAL (SELECT * FROM event e "
                         "WHERE e.nhs_number = k.n OFFSET 0) e ORDER BY e.nhs_number, e.id",
    /* Batch-wide writes. Arrays are binary parameters (see arr_t), so the
     * elements are data, never parsed. */
    [S_LINKS_ADD_MANY] =
        "INSERT INTO identity_link (kind, stream, value, nhs_number, linked_by) SELECT k.kd, "
        "k.st, k.val, k.nhs, e.id FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
        "$5::text[], $6::text[]) AS k(kd, st, val, nhs, es, ei) CROSS JOIN LATERAL (SELECT id "
        "FROM event e WHERE e.stream = k.es AND e.source_event_id = k.ei OFFSET 0) e "
        "ON CONFLICT DO NOTHING",
    [S_PARKED_MANY] = "SELECT id, 0::int4, 0::int8, envelope FROM event WHERE nhs_number IS NULL "
                      "AND (ni_number = ANY ($1::text[]) OR (stream, local_id) IN (SELECT * FROM "
                      "unnest($2::text[], $3::text[]))) ORDER BY id",
    /* Records with their outbox rows. */
    [S_PUBLISH_RECORDS] =
        "WITH r AS (SELECT * FROM unnest($1::text[], $2::int4[], $3::int4[], $4::int8[], "
        "$5::bool[], $6::text[], $7::bytea[], $8::text[], $9::text[], $10::text[], $11::text[]) "
        "AS r(nhs, cycle, version, seq, ready, held_on, record, enrolled, complete, priority, "
        "conflict)), ob AS (INSERT INTO outbox (seq, topic, nhs_number, payload) SELECT seq, "
        "'review', nhs, record FROM r) INSERT INTO consolidated_review (nhs_number, cycle, "
        "version, seq, ready_for_sign_off, held_on, record, enrolled, complete_streams, "
        "area_priority, area_conflict) SELECT nhs, cycle, version, seq, ready, held_on::date, "
        "record, enrolled::text[], complete::text[], priority::smallint[], conflict::boolean[] "
        "FROM r ON CONFLICT (nhs_number, cycle) DO UPDATE SET version = EXCLUDED.version, seq = "
        "EXCLUDED.seq, ready_for_sign_off = EXCLUDED.ready_for_sign_off, held_on = "
        "EXCLUDED.held_on, record = EXCLUDED.record, enrolled = EXCLUDED.enrolled, "
        "complete_streams = EXCLUDED.complete_streams, area_priority = EXCLUDED.area_priority, "
        "area_conflict = EXCLUDED.area_conflict, updated_at = now()",
    /* Most batches leave most persons' due-check rows as they were (a new
     * contribution seldom moves a review date): an unchanged row is not
     * rewritten, saving a new row version and its index entries. */
    [S_SCHEDULES_PUT] =
        "INSERT INTO schedule (nhs_number, cycle, review_on, lead, covered, next_check_on, "
        "separate_meetings) SELECT nhs, cycle, review_on::date, lead, covered::text[], "
        "next_check_on::date, separate FROM unnest($1::text[], $2::int4[], $3::text[], "
        "$4::text[], $5::text[], $6::text[], $7::int4[]) AS s(nhs, cycle, review_on, lead, "
        "covered, next_check_on, separate) ON CONFLICT (nhs_number) DO UPDATE SET cycle = "
        "EXCLUDED.cycle, review_on = EXCLUDED.review_on, lead = EXCLUDED.lead, covered = "
        "EXCLUDED.covered, next_check_on = EXCLUDED.next_check_on, separate_meetings = "
        "EXCLUDED.separate_meetings, updated_at = now() WHERE (schedule.cycle, "
        "schedule.review_on, schedule.lead, schedule.covered, schedule.next_check_on, "
        "schedule.separate_meetings) IS DISTINCT FROM (EXCLUDED.cycle, EXCLUDED.review_on, "
        "EXCLUDED.lead, EXCLUDED.covered, EXCLUDED.next_check_on, EXCLUDED.separate_meetings)",
    [S_STAT_TOTALS] = "SELECT count(*), count(*) FILTER (WHERE ready_for_sign_off), "
                      "count(*) FILTER (WHERE NOT ready_for_sign_off) FROM report_current_review",
    [S_STAT_STREAMS] =
        "SELECT coalesce(c.stream, d.stream), coalesce(c.enrolled, 0), coalesce(c.complete, 0), "
        "coalesce(c.missing_information, 0), coalesce(d.due, 0), coalesce(d.overdue, 0) FROM "
        "report_completeness_by_stream c FULL JOIN (SELECT s.stream, count(*) FILTER (WHERE "
        "sc.review_on >= $1::date AND sc.review_on <= $1::date + 28) AS due, count(*) FILTER "
        "(WHERE sc.review_on < $1::date) AS overdue FROM schedule sc, unnest(sc.covered) AS "
        "s(stream) WHERE sc.review_on IS NOT NULL GROUP BY s.stream) d ON d.stream = c.stream "
        "ORDER BY 1",
    [S_STAT_LEADS] = "SELECT lead, count(*), count(*) FILTER (WHERE review_on >= $1::date AND "
                     "review_on <= $1::date + 28), count(*) FILTER (WHERE review_on < $1::date) "
                     "FROM schedule WHERE review_on IS NOT NULL AND lead IS NOT NULL "
                     "GROUP BY lead ORDER BY lead",
    [S_STAT_AREAS] = "SELECT area, red, amber, green, not_given, conflicts FROM "
                     "report_priorities_by_area ORDER BY area",
    [S_STAT_COUNTS] = "SELECT (SELECT count(*) FROM rejected_event), (SELECT count(*) FROM "
                      "event WHERE nhs_number IS NULL), (SELECT count(*) FROM event)",
    /* The last committed publication, cheaply: the outbox's newest row, or
     * the publication cursor once the outbox has been trimmed empty. */
    [S_STAT_SEQ] = "SELECT greatest((SELECT coalesce(max(seq), 0) FROM outbox), "
                   "(SELECT coalesce(max(last_published_seq), 0) FROM publish_state))::int8",
    [S_SNAPSHOT_FETCH] = "FETCH FORWARD 1000 FROM jr_snapshot",
};

struct jr_store_pg {
    char *conninfo;
    char *owner_conninfo; /* NULL: migrations run on the daemon's own login */
    int statement_timeout_ms;
    PGconn *conn;
    bool ready;
    bool reader; /* a second, read-only session: no lock, no migrations */
    /* Which statements this session has prepared. The writer prepares all
     * at connect, so a schema it does not match fails at once; a reader
     * prepares what it runs, when it first runs it (parsing takes a lock on
     * every table a statement names, and a reader must not wait on tables
     * it never reads). */
    bool prepared[S_COUNT];
    bool copy_pending;      /* a COPY's data is sent; its result not yet read */
    long long rejected_max; /* rows of rejected_event kept; 0: no bound */
    char error[512];
};

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
    self->ready = false;
    self->copy_pending = false;
    memset(self->prepared, 0, sizeof self->prepared);
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
    return self->ready && self->conn != NULL && PQstatus(self->conn) == CONNECTION_OK;
}

int jr_store_pg_socket(const jr_store_pg_t *self)
{
    return self->conn ? PQsocket(self->conn) : -1;
}

const char *jr_store_pg_error(const jr_store_pg_t *self)
{
    return self->error;
}

static void set_error(jr_store_pg_t *self, const char *what)
{
    const char *msg = self->conn ? PQerrorMessage(self->conn) : "no connection";
    snprintf(self->error, sizeof self->error, "%s: %s", what, msg);
    size_t len = strlen(self->error);
    while (len > 0 && (self->error[len - 1] == '\n' || self->error[len - 1] == ' ')) {
        self->error[--len] = '\0';
    }
}

/* Server notices ("already exists, skipping") are for debugging only. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    jr_log(JR_LOG_DEBUG, "store", "server: %.*s", (int)strcspn(message, "\n"), message);
}

/* Decides whether a failed result is worth retrying or is about the data. */
static int classify(jr_store_pg_t *self, PGresult *res, const char *what)
{
    set_error(self, what);
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

/* Runs a simple command outside the prepared set. */
static int exec_simple(jr_store_pg_t *self, const char *sql)
{
    PGresult *res = PQexec(self->conn, sql);
    int rc = JR_STORE_OK;
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = classify(self, res, sql);
    }
    PQclear(res);
    return rc;
}

/* After the connection is up: session settings, the writer lock, statements.
 * A reader's session is read-only and takes no lock. */
static int session_setup(jr_store_pg_t *self)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SET statement_timeout = %d", self->statement_timeout_ms);
    if (exec_simple(self, sql) != JR_STORE_OK ||
        exec_simple(self, "SET application_name = 'joinedreviewd'") != JR_STORE_OK) {
        return JR_STORE_RETRY;
    }
    if (self->reader) {
        return exec_simple(self, "SET default_transaction_read_only = on");
    }
    PGresult *res = PQexec(self->conn, "SELECT pg_try_advisory_lock(74612026)");
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

static int migrate(jr_store_pg_t *self);

/* Migrations on a short connection of the schema's owner; the daemon's
 * session keeps its own, unprivileged login. */
static int migrate_as_owner(jr_store_pg_t *self)
{
    PGconn *run_conn = self->conn;
    self->conn = PQconnectdb(self->owner_conninfo);
    int rc = JR_STORE_RETRY;
    if (PQstatus(self->conn) == CONNECTION_OK) {
        PQsetNoticeProcessor(self->conn, on_notice, NULL);
        rc = migrate(self);
    } else {
        set_error(self, "connect as the schema owner");
    }
    PQfinish(self->conn);
    self->conn = run_conn;
    return rc;
}

static int prepare(jr_store_pg_t *self, stmt_t s)
{
    assert(g_sql[s] != NULL); /* every statement of the enum has its SQL */
    char name[16];
    snprintf(name, sizeof name, "s%d", (int)s);
    PGresult *res = PQprepare(self->conn, name, g_sql[s], 0, NULL);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? JR_STORE_OK : classify(self, res, g_sql[s]);
    PQclear(res);
    self->prepared[s] = rc == JR_STORE_OK;
    return rc;
}

static int prepare_all(jr_store_pg_t *self)
{
    for (int i = 0; i < S_COUNT; i++) {
        if (prepare(self, (stmt_t)i) != JR_STORE_OK) {
            return JR_STORE_FATAL;
        }
    }
    return JR_STORE_OK;
}

int jr_store_pg_connect_start(jr_store_pg_t *self)
{
    jr_store_pg_disconnect(self);
    const char *keys[] = {"dbname", "connect_timeout", "keepalives", "keepalives_idle", NULL};
    const char *vals[] = {self->conninfo, "10", "1", "30", NULL};
    /* expand_dbname = 1: the conninfo string is parsed; later keys fill gaps. */
    self->conn = PQconnectStartParams(keys, vals, 1);
    if (self->conn == NULL || PQstatus(self->conn) == CONNECTION_BAD) {
        set_error(self, "connect");
        jr_store_pg_disconnect(self);
        return JR_STORE_RETRY;
    }
    return JR_STORE_OK;
}

int jr_store_pg_connect_poll(jr_store_pg_t *self, bool *want_write)
{
    if (self->conn == NULL) {
        return JR_STORE_RETRY;
    }
    switch (PQconnectPoll(self->conn)) {
    case PGRES_POLLING_READING:
        *want_write = false;
        return 1;
    case PGRES_POLLING_WRITING:
        *want_write = true;
        return 1;
    case PGRES_POLLING_OK:
        break;
    default:
        set_error(self, "connect");
        jr_store_pg_disconnect(self);
        return JR_STORE_RETRY;
    }
    /* Migrations before preparing: statements name the tables they create. */
    PQsetNoticeProcessor(self->conn, on_notice, NULL);
    int rc = session_setup(self);
    if (rc == JR_STORE_OK) {
        rc = self->reader           ? JR_STORE_OK
             : self->owner_conninfo ? migrate_as_owner(self)
                                    : migrate(self);
    }
    if (rc == JR_STORE_OK && !self->reader) {
        rc = prepare_all(self);
    }
    if (rc != JR_STORE_OK) {
        char keep[sizeof self->error];
        memcpy(keep, self->error, sizeof keep);
        jr_store_pg_disconnect(self);
        memcpy(self->error, keep, sizeof keep);
        return rc == JR_STORE_BUSY ? JR_STORE_BUSY : JR_STORE_RETRY;
    }
    self->ready = true;
    return JR_STORE_OK;
}

int jr_store_pg_connect_wait(jr_store_pg_t *self, int timeout_ms)
{
    if (jr_store_pg_connect_start(self) != JR_STORE_OK) {
        return JR_STORE_RETRY;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        bool want_write = false;
        int rc = jr_store_pg_connect_poll(self, &want_write);
        if (rc != 1) {
            return rc;
        }
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long spent = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= timeout_ms) {
            snprintf(self->error, sizeof self->error, "connect: timed out");
            jr_store_pg_disconnect(self);
            return JR_STORE_RETRY;
        }
        struct pollfd pfd = {.fd = PQsocket(self->conn), .events = want_write ? POLLOUT : POLLIN};
        if (poll(&pfd, 1, (int)(timeout_ms - spent)) < 0 && errno != EINTR) {
            return JR_STORE_RETRY;
        }
    }
}

static int migrate(jr_store_pg_t *self)
{
    int rc = exec_simple(self, "SELECT pg_advisory_lock(74612027)");
    if (rc != JR_STORE_OK) {
        return rc;
    }
    rc = exec_simple(self, "CREATE TABLE IF NOT EXISTS schema_migration ("
                           "version integer PRIMARY KEY, name text NOT NULL, "
                           "applied_at timestamptz NOT NULL DEFAULT now())");
    for (size_t i = 0; rc == JR_STORE_OK && i < jr_migrations_count; i++) {
        const jr_migration_t *m = &jr_migrations[i];
        char version[16];
        snprintf(version, sizeof version, "%d", m->version);
        const char *params[] = {version, m->name};
        PGresult *res =
            PQexecParams(self->conn, "SELECT 1 FROM schema_migration WHERE version = $1", 1, NULL,
                         params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = classify(self, res, "migrate");
            PQclear(res);
            break;
        }
        bool done = PQntuples(res) > 0;
        PQclear(res);
        if (done) {
            continue;
        }
        jr_log(JR_LOG_NOTICE, "store", "applying migration %s", m->name);
        rc = exec_simple(self, "BEGIN");
        if (rc == JR_STORE_OK) {
            rc = exec_simple(self, m->sql);
        }
        if (rc == JR_STORE_OK) {
            res = PQexecParams(self->conn,
                               "INSERT INTO schema_migration (version, name) VALUES ($1, $2)", 2,
                               NULL, params, NULL, NULL, 0);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                rc = classify(self, res, "migrate");
            }
            PQclear(res);
        }
        if (rc == JR_STORE_OK) {
            rc = exec_simple(self, "COMMIT");
        } else {
            jr_log(JR_LOG_ERR, "store", "migration %s failed: %s", m->name, self->error);
            exec_simple(self, "ROLLBACK");
            rc = JR_STORE_FATAL;
        }
    }
    exec_simple(self, "SELECT pg_advisory_unlock(74612027)");
    return rc;
}

int jr_store_pg_begin(jr_store_pg_t *self)
{
    return exec_simple(self, "BEGIN");
}

int jr_store_pg_commit(jr_store_pg_t *self)
{
    return exec_simple(self, "COMMIT");
}

void jr_store_pg_rollback(jr_store_pg_t *self)
{
    if (self->conn != NULL && PQstatus(self->conn) == CONNECTION_OK) {
        jr_store_pg_events_copy_end(self); /* a COPY sent but not yet read */
        PGresult *res = PQexec(self->conn, "ROLLBACK");
        PQclear(res);
    }
}

/* ---- prepared statement helpers ---- */

typedef struct {
    const char *values[12];
    int lengths[12];
    int formats[12];
    int n;
    char nums[12][24];
} params_t;

static void p_text(params_t *p, const char *s)
{
    p->values[p->n] = s;
    p->lengths[p->n] = 0;
    p->formats[p->n] = 0;
    p->n++;
}

static void p_int(params_t *p, long long v)
{
    snprintf(p->nums[p->n], sizeof p->nums[p->n], "%lld", v);
    p_text(p, p->nums[p->n]);
}

static void p_bytes(params_t *p, const uint8_t *b, size_t len)
{
    p->values[p->n] = (const char *)b;
    p->lengths[p->n] = (int)len;
    p->formats[p->n] = 1;
    p->n++;
}

/* Runs statement `s`; *out receives the result on success (caller clears)
 * when non-NULL. Results are binary when `binary`. */
static int run(jr_store_pg_t *self, stmt_t s, const params_t *p, int binary, PGresult **out)
{
    if (!jr_store_pg_connected(self)) {
        snprintf(self->error, sizeof self->error, "not connected");
        return JR_STORE_RETRY;
    }
    if (!self->prepared[s]) {
        int rc = prepare(self, s);
        if (rc != JR_STORE_OK) {
            return rc;
        }
    }
    char name[16];
    snprintf(name, sizeof name, "s%d", (int)s);
    PGresult *res =
        PQexecPrepared(self->conn, name, p->n, p->values, p->lengths, p->formats, binary);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = classify(self, res, g_sql[s]);
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

static int64_t bin_i64(const PGresult *res, int row, int col)
{
    uint64_t v;
    memcpy(&v, PQgetvalue(res, row, col), sizeof v);
    return (int64_t)be64toh(v);
}

static int32_t bin_i32(const PGresult *res, int row, int col)
{
    uint32_t v;
    memcpy(&v, PQgetvalue(res, row, col), sizeof v);
    return (int32_t)be32toh(v);
}

static const char *link_kind(jr_link_kind_t kind)
{
    return kind == JR_LINK_NINO ? "NINO" : "LOCAL";
}

int jr_store_pg_person_cycle(jr_store_pg_t *self, const char *nhs, uint32_t *cycle)
{
    params_t p = {0};
    p_text(&p, nhs);
    int rc = run(self, S_PERSON_ENSURE, &p, 0, NULL);
    PGresult *res = NULL;
    if (rc == JR_STORE_OK) {
        rc = run(self, S_PERSON_CYCLE, &p, 0, &res);
    }
    if (rc == JR_STORE_OK) {
        *cycle = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    return rc;
}

int jr_store_pg_person_set_cycle(jr_store_pg_t *self, const char *nhs, uint32_t cycle)
{
    params_t p = {0};
    p_text(&p, nhs);
    p_int(&p, cycle);
    return run(self, S_PERSON_SET_CYCLE, &p, 0, NULL);
}

void jr_store_rows_clear(jr_store_rows_t *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        free(rows->rows[i].envelope);
    }
    free(rows->rows);
    memset(rows, 0, sizeof *rows);
}

/* Appends binary rows (id int8, cycle int4, seq int8, envelope bytea). */
static int append_rows(jr_store_pg_t *self, const PGresult *res, jr_store_rows_t *out)
{
    int n = PQntuples(res);
    if (out->n + (size_t)n > out->cap) {
        size_t cap = out->cap ? out->cap : 16;
        while (cap < out->n + (size_t)n) {
            cap *= 2;
        }
        jr_store_row_t *rows = realloc(out->rows, cap * sizeof *rows);
        if (rows == NULL) {
            snprintf(self->error, sizeof self->error, "out of memory");
            return JR_STORE_RETRY;
        }
        out->rows = rows;
        out->cap = cap;
    }
    for (int i = 0; i < n; i++) {
        jr_store_row_t *r = &out->rows[out->n];
        r->id = bin_i64(res, i, 0);
        r->cycle = PQgetisnull(res, i, 1) ? 0 : (uint32_t)bin_i32(res, i, 1);
        r->seq = (uint64_t)bin_i64(res, i, 2);
        r->envelope_len = (size_t)PQgetlength(res, i, 3);
        r->envelope = malloc(r->envelope_len ? r->envelope_len : 1);
        if (r->envelope == NULL) {
            snprintf(self->error, sizeof self->error, "out of memory");
            return JR_STORE_RETRY;
        }
        memcpy(r->envelope, PQgetvalue(res, i, 3), r->envelope_len);
        out->n++;
    }
    return JR_STORE_OK;
}

int jr_store_pg_event_assign(jr_store_pg_t *self, int64_t id, const char *nhs, uint32_t cycle,
                             uint64_t seq)
{
    params_t p = {0};
    p_int(&p, id);
    p_text(&p, nhs);
    p_int(&p, cycle);
    p_int(&p, (long long)seq);
    return run(self, S_EVENT_ASSIGN, &p, 0, NULL);
}

int jr_store_pg_person_events(jr_store_pg_t *self, const char *nhs, jr_store_rows_t *out)
{
    params_t p = {0};
    p_text(&p, nhs);
    PGresult *res = NULL;
    int rc = run(self, S_PERSON_EVENTS, &p, 1, &res);
    if (rc == JR_STORE_OK) {
        rc = append_rows(self, res, out);
        PQclear(res);
    }
    return rc;
}

/* The parameters of S_REVIEW_PUT, $1..$11. */
static void review_params(params_t *p, const jr_store_review_t *r)
{
    p_text(p, r->nhs);
    p_int(p, r->cycle);
    p_int(p, r->version);
    p_int(p, (long long)r->seq);
    p_text(p, r->ready ? "t" : "f");
    p_text(p, r->held_on);
    p_bytes(p, r->record, r->record_len);
    p_text(p, r->enrolled);
    p_text(p, r->complete_streams);
    p_text(p, r->area_priority);
    p_text(p, r->area_conflict);
}

int jr_store_pg_review_put(jr_store_pg_t *self, const jr_store_review_t *r)
{
    params_t p = {0};
    review_params(&p, r);
    return run(self, S_REVIEW_PUT, &p, 0, NULL);
}

int jr_store_pg_review_get(jr_store_pg_t *self, const char *nhs, uint32_t cycle, uint8_t **record,
                           size_t *len, bool *found)
{
    params_t p = {0};
    p_text(&p, nhs);
    p_int(&p, cycle);
    PGresult *res = NULL;
    int rc = run(self, S_REVIEW_GET, &p, 1, &res);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    *found = PQntuples(res) > 0;
    if (*found) {
        *len = (size_t)PQgetlength(res, 0, 0);
        *record = malloc(*len ? *len : 1);
        if (*record == NULL) {
            PQclear(res);
            return JR_STORE_RETRY;
        }
        memcpy(*record, PQgetvalue(res, 0, 0), *len);
    }
    PQclear(res);
    return JR_STORE_OK;
}

/* Runs a parameterless statement that answers one number (0 when no row). */
static int run_u64(jr_store_pg_t *self, stmt_t s, uint64_t *out)
{
    params_t p = {0};
    PGresult *res = NULL;
    int rc = run(self, s, &p, 0, &res);
    if (rc == JR_STORE_OK) {
        *out = PQntuples(res) > 0 ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
        PQclear(res);
    }
    return rc;
}

int jr_store_pg_last_seq(jr_store_pg_t *self, uint64_t *seq)
{
    return run_u64(self, S_LAST_SEQ, seq);
}

void jr_store_pg_set_rejected_max(jr_store_pg_t *self, long long max_rows)
{
    self->rejected_max = max_rows;
}

int jr_store_pg_rejected_add(jr_store_pg_t *self, const char *sender, const char *stream,
                             const char *seid, const char *code, const char *reason,
                             const uint8_t *raw, size_t len)
{
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, raw, len);
    params_t p = {0};
    p_text(&p, sender);
    p_text(&p, stream);
    p_text(&p, seid);
    p_text(&p, code);
    p_text(&p, reason);
    p_bytes(&p, raw, len < JR_STORE_REJECTED_HEAD ? len : JR_STORE_REJECTED_HEAD);
    p_int(&p, (long long)len);
    p_bytes(&p, digest, sizeof digest);
    PGresult *res = NULL;
    int rc = run(self, S_REJECTED_ADD, &p, 0, &res);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    long long id = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (self->rejected_max <= 0 || id <= self->rejected_max) {
        return JR_STORE_OK;
    }
    params_t e = {0};
    p_int(&e, id);
    p_int(&e, self->rejected_max);
    return run(self, S_REJECTED_EVICT, &e, 0, NULL);
}

int jr_store_pg_rejected_trim(jr_store_pg_t *self, int days, int limit, uint64_t *deleted)
{
    params_t p = {0};
    p_int(&p, days);
    p_int(&p, limit);
    PGresult *res = NULL;
    int rc = run(self, S_REJECTED_TRIM, &p, 0, &res);
    if (rc == JR_STORE_OK) {
        *deleted = strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    return rc;
}

/* Runs s and calls fn with each (nhs_number, cycle) row it answers, until
 * fn returns non-zero. *count (when not NULL) says how many rows came. */
static int each_person_row(jr_store_pg_t *self, stmt_t s, const params_t *p,
                           int (*fn)(void *ctx, const char *nhs, uint32_t cycle), void *ctx,
                           size_t *count)
{
    PGresult *res = NULL;
    int rc = run(self, s, p, 0, &res);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    int n = PQntuples(res);
    if (count != NULL) {
        *count = (size_t)n;
    }
    for (int i = 0; i < n && rc == JR_STORE_OK; i++) {
        rc = fn(ctx, PQgetvalue(res, i, 0), (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10));
    }
    PQclear(res);
    return rc;
}

int jr_store_pg_each_person(jr_store_pg_t *self,
                            int (*fn)(void *ctx, const char *nhs, uint32_t cycle), void *ctx)
{
    params_t p = {0};
    return each_person_row(self, S_PERSONS, &p, fn, ctx, NULL);
}

int jr_store_pg_schedule_put(jr_store_pg_t *self, const jr_store_schedule_t *sc)
{
    return jr_store_pg_schedules_put(self, sc, 1);
}

int jr_store_pg_schedule_due(jr_store_pg_t *self, const char *today, int limit,
                             int (*fn)(void *ctx, const char *nhs, uint32_t cycle), void *ctx,
                             size_t *count)
{
    params_t p = {0};
    p_text(&p, today);
    p_int(&p, limit);
    return each_person_row(self, S_SCHEDULE_DUE, &p, fn, ctx, count);
}

int jr_store_pg_published_get(jr_store_pg_t *self, uint64_t *seq)
{
    return run_u64(self, S_PUBLISHED_GET, seq);
}

int jr_store_pg_published_set(jr_store_pg_t *self, uint64_t seq)
{
    params_t p = {0};
    p_int(&p, (long long)seq);
    return run(self, S_PUBLISHED_SET, &p, 0, NULL);
}

int jr_store_pg_outbox_after(jr_store_pg_t *self, uint64_t after, int limit,
                             int (*fn)(void *ctx, uint64_t seq, const char *topic,
                                       const uint8_t *payload, size_t len),
                             void *ctx, size_t *count)
{
    params_t p = {0};
    p_int(&p, (long long)after);
    p_int(&p, limit);
    PGresult *res = NULL;
    int rc = run(self, S_OUTBOX_AFTER, &p, 1, &res);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    int n = PQntuples(res);
    *count = (size_t)n;
    for (int i = 0; i < n && rc == JR_STORE_OK; i++) {
        char topic[128];
        int tlen = PQgetlength(res, i, 1);
        snprintf(topic, sizeof topic, "%.*s", tlen, PQgetvalue(res, i, 1));
        rc = fn(ctx, (uint64_t)bin_i64(res, i, 0), topic, (const uint8_t *)PQgetvalue(res, i, 2),
                (size_t)PQgetlength(res, i, 2));
    }
    PQclear(res);
    return rc;
}

int jr_store_pg_outbox_oldest(jr_store_pg_t *self, uint64_t *seq)
{
    return run_u64(self, S_OUTBOX_OLDEST, seq);
}

int jr_store_pg_outbox_trim(jr_store_pg_t *self, int days, int limit, uint64_t *deleted)
{
    params_t p = {0};
    p_int(&p, days);
    p_int(&p, limit);
    PGresult *res = NULL;
    int rc = run(self, S_OUTBOX_TRIM, &p, 0, &res);
    if (rc == JR_STORE_OK) {
        *deleted = strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    return rc;
}

int jr_store_pg_snapshot(jr_store_pg_t *self, const char *lead, const char *stream,
                         int (*fn)(void *ctx, uint64_t seq, const char *topic,
                                   const uint8_t *payload, size_t len),
                         void *ctx)
{
    params_t p = {0};
    p_text(&p, lead);
    p_text(&p, stream);
    int rc = run(self, S_SNAPSHOT, &p, 0, NULL);
    params_t none = {0};
    for (bool more = true; rc == JR_STORE_OK && more;) {
        PGresult *res = NULL;
        rc = run(self, S_SNAPSHOT_FETCH, &none, 1, &res);
        if (rc != JR_STORE_OK) {
            break;
        }
        more = PQntuples(res) > 0;
        for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
            char topic[128];
            snprintf(topic, sizeof topic, "%.*s", PQgetlength(res, i, 1), PQgetvalue(res, i, 1));
            rc = fn(ctx, (uint64_t)bin_i64(res, i, 0), topic,
                    (const uint8_t *)PQgetvalue(res, i, 2), (size_t)PQgetlength(res, i, 2));
        }
        PQclear(res);
    }
    return rc;
}

int jr_store_pg_read_begin(jr_store_pg_t *self, uint64_t *seq)
{
    int rc = exec_simple(self, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (rc == JR_STORE_OK) {
        rc = run_u64(self, S_STAT_SEQ, seq);
        if (rc != JR_STORE_OK) {
            jr_store_pg_rollback(self);
        }
    }
    return rc;
}

int jr_store_pg_read_end(jr_store_pg_t *self)
{
    return jr_store_pg_commit(self);
}

static uint32_t u32(const PGresult *res, int row, int col)
{
    return (uint32_t)strtoul(PQgetvalue(res, row, col), NULL, 10);
}

int jr_store_pg_statistics_snapshot(jr_store_pg_t *self, const char *today, jr_statistics_t *st)
{
    int rc = jr_store_pg_read_begin(self, &st->sequence);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    rc = jr_store_pg_statistics(self, today, st);
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_read_end(self);
    } else {
        jr_store_pg_rollback(self);
    }
    return rc;
}

int jr_store_pg_statistics(jr_store_pg_t *self, const char *today, jr_statistics_t *st)
{
    params_t none = {0};
    params_t day = {0};
    p_text(&day, today);
    PGresult *res = NULL;
    int rc = run(self, S_STAT_TOTALS, &none, 0, &res);
    if (rc == JR_STORE_OK) {
        st->reviews = u32(res, 0, 0);
        st->ready_for_sign_off = u32(res, 0, 1);
        st->missing_information = u32(res, 0, 2);
        PQclear(res);
        rc = run(self, S_STAT_STREAMS, &day, 0, &res);
    }
    if (rc == JR_STORE_OK) {
        st->n_streams = 0;
        for (int i = 0; i < PQntuples(res) && st->n_streams < JR_STREAMS_MAX; i++) {
            jr_stat_stream_t *s = &st->streams[st->n_streams++];
            snprintf(s->stream, sizeof s->stream, "%s", PQgetvalue(res, i, 0));
            s->enrolled = u32(res, i, 1);
            s->complete = u32(res, i, 2);
            s->missing_information = u32(res, i, 3);
            s->due_within_28_days = u32(res, i, 4);
            s->overdue = u32(res, i, 5);
        }
        PQclear(res);
        rc = run(self, S_STAT_LEADS, &day, 0, &res);
    }
    if (rc == JR_STORE_OK) {
        st->n_leads = 0;
        for (int i = 0; i < PQntuples(res) && st->n_leads < JR_STREAMS_MAX + 1; i++) {
            jr_stat_lead_t *l = &st->leads[st->n_leads++];
            snprintf(l->lead, sizeof l->lead, "%s", PQgetvalue(res, i, 0));
            l->reviews = u32(res, i, 1);
            l->due_within_28_days = u32(res, i, 2);
            l->overdue = u32(res, i, 3);
        }
        PQclear(res);
        rc = run(self, S_STAT_AREAS, &none, 0, &res);
    }
    if (rc == JR_STORE_OK) {
        memset(st->areas, 0, sizeof st->areas);
        for (int i = 0; i < PQntuples(res); i++) {
            unsigned area = u32(res, i, 0);
            if (area >= 1 && area <= JR_AREA_COUNT) {
                jr_stat_area_t *a = &st->areas[area - 1];
                a->red = u32(res, i, 1);
                a->amber = u32(res, i, 2);
                a->green = u32(res, i, 3);
                a->not_given = u32(res, i, 4);
                a->conflicts = u32(res, i, 5);
            }
        }
        PQclear(res);
        rc = run(self, S_STAT_COUNTS, &none, 0, &res);
    }
    if (rc == JR_STORE_OK) {
        st->rejected_events = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        st->parked_events = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
        st->events_total = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
        PQclear(res);
    }
    return rc;
}

/* ---- batch-wide statements ---- */

/* A growable byte buffer for binary parameters and COPY data. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    bool failed; /* out of memory: the buffer is unusable */
} buf_t;

static void buf_put(buf_t *b, const void *p, size_t n)
{
    if (b->failed) {
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n) {
            cap *= 2;
        }
        uint8_t *data = realloc(b->data, cap);
        if (data == NULL) {
            b->failed = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

static void buf_u16(buf_t *b, uint16_t v)
{
    v = htobe16(v);
    buf_put(b, &v, sizeof v);
}

static void buf_u32(buf_t *b, uint32_t v)
{
    v = htobe32(v);
    buf_put(b, &v, sizeof v);
}

static void buf_u64(buf_t *b, uint64_t v)
{
    v = htobe64(v);
    buf_put(b, &v, sizeof v);
}

/* One value in PostgreSQL's binary framing, used by arrays and COPY alike:
 * its length (-1: NULL), then its bytes. */
static void buf_value(buf_t *b, const void *p, size_t n)
{
    if (p == NULL) {
        buf_u32(b, UINT32_MAX);
        return;
    }
    buf_u32(b, (uint32_t)n);
    buf_put(b, p, n);
}

static void buf_text(buf_t *b, const char *s)
{
    buf_value(b, s, s ? strlen(s) : 0);
}

static void buf_i32(buf_t *b, int32_t v)
{
    buf_u32(b, 4);
    buf_u32(b, (uint32_t)v);
}

static void buf_i64(buf_t *b, int64_t v)
{
    buf_u32(b, 8);
    buf_u64(b, (uint64_t)v);
}

/* A one-dimensional array parameter in the binary format of array_recv:
 * a header, then each element framed as above. Elements are data, never
 * parsed as syntax, and bytea needs no escaping. */
typedef enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT4 = 23,
    OID_TEXT = 25,
} oid_t;

typedef struct {
    buf_t b;
    uint32_t oid; /* the element type: must be the one the SQL casts to */
    uint32_t n;
    bool has_null;
} arr_t;

enum { ARR_HEADER = 20 };

static void arr_open(arr_t *a, oid_t oid)
{
    memset(a, 0, sizeof *a);
    a->oid = oid;
    uint8_t header[ARR_HEADER] = {0};
    buf_put(&a->b, header, sizeof header); /* filled by arr_param */
}

static void arr_text(arr_t *a, const char *s)
{
    a->has_null |= s == NULL;
    buf_text(&a->b, s);
    a->n++;
}

static const oid_t g_texts[] = {OID_TEXT, OID_TEXT, OID_TEXT};

/* Opens n arrays of these element types. */
static void arrays_open(arr_t *a, const oid_t *types, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        arr_open(&a[c], types[c]);
    }
}

/* One text[] array of n strings. */
static void text_array(arr_t *a, const char *const *v, size_t n)
{
    arr_open(a, OID_TEXT);
    for (size_t i = 0; i < n; i++) {
        arr_text(a, v[i]);
    }
}

static void arr_bytes(arr_t *a, const uint8_t *p, size_t n)
{
    buf_value(&a->b, p, n);
    a->n++;
}

static void arr_i32(arr_t *a, int32_t v)
{
    buf_i32(&a->b, v);
    a->n++;
}

static void arr_i64(arr_t *a, int64_t v)
{
    buf_i64(&a->b, v);
    a->n++;
}

static void arr_bool(arr_t *a, bool v)
{
    uint8_t byte = v ? 1 : 0;
    buf_value(&a->b, &byte, 1);
    a->n++;
}

/* Completes the header and adds the array as a binary parameter. An empty
 * array is written as zero dimensions. */
static void arr_param(params_t *p, arr_t *a)
{
    if (a->b.failed) {
        p_bytes(p, NULL, 0); /* arrays_failed() refuses to run */
        return;
    }
    uint32_t header[5] = {htobe32(a->n ? 1 : 0), htobe32(a->has_null ? 1 : 0), htobe32(a->oid),
                          htobe32(a->n), htobe32(1)};
    memcpy(a->b.data, header, sizeof header);
    p_bytes(p, a->b.data, a->n ? a->b.len : 12);
}

/* True (with the store's error set) when an array ran out of memory. */
static bool arrays_failed(jr_store_pg_t *self, const arr_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].b.failed) {
            snprintf(self->error, sizeof self->error, "out of memory");
            return true;
        }
    }
    return false;
}

static void arrays_free(arr_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].b.data);
    }
}

/* Runs s with the arrays a[0..n) as its parameters $1..$n. */
static int run_arrays(jr_store_pg_t *self, stmt_t s, arr_t *a, size_t n, int binary, PGresult **out)
{
    params_t p = {0};
    for (size_t i = 0; i < n; i++) {
        arr_param(&p, &a[i]);
    }
    int rc = arrays_failed(self, a, n) ? JR_STORE_RETRY : run(self, s, &p, binary, out);
    arrays_free(a, n);
    return rc;
}

int jr_store_pg_exists_many(jr_store_pg_t *self, const char *const *streams,
                            const char *const *seids, size_t n,
                            void (*fn)(void *ctx, const char *stream, const char *seid), void *ctx)
{
    arr_t a[2];
    arr_open(&a[0], OID_TEXT);
    arr_open(&a[1], OID_TEXT);
    for (size_t i = 0; i < n; i++) {
        arr_text(&a[0], streams[i]);
        arr_text(&a[1], seids[i]);
    }
    PGresult *res = NULL;
    int rc = run_arrays(self, S_EXISTS_MANY, a, 2, 0, &res);
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        fn(ctx, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    }
    PQclear(res);
    return rc;
}

/* The (kind, stream, value) key columns of links as three arrays. */
static void link_keys(arr_t a[3], const jr_link_t *keys, size_t n)
{
    arrays_open(a, g_texts, 3);
    for (size_t i = 0; i < n; i++) {
        arr_text(&a[0], link_kind(keys[i].kind));
        arr_text(&a[1], keys[i].kind == JR_LINK_NINO ? "" : keys[i].stream);
        arr_text(&a[2], keys[i].value);
    }
}

int jr_store_pg_links_many(jr_store_pg_t *self, const jr_link_t *keys, size_t n,
                           void (*fn)(void *ctx, const jr_link_t *link), void *ctx)
{
    arr_t a[3];
    link_keys(a, keys, n);
    PGresult *res = NULL;
    int rc = run_arrays(self, S_LINKS_MANY, a, 3, 0, &res);
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        jr_link_t link = {0};
        link.kind = strcmp(PQgetvalue(res, i, 0), "NINO") == 0 ? JR_LINK_NINO : JR_LINK_LOCAL;
        snprintf(link.stream, sizeof link.stream, "%s", PQgetvalue(res, i, 1));
        snprintf(link.value, sizeof link.value, "%s", PQgetvalue(res, i, 2));
        snprintf(link.nhs, sizeof link.nhs, "%s", PQgetvalue(res, i, 3));
        fn(ctx, &link);
    }
    PQclear(res);
    return rc;
}

int jr_store_pg_links_add_many(jr_store_pg_t *self, const jr_link_t *links,
                               const char *const *by_stream, const char *const *by_seid, size_t n)
{
    arr_t a[6];
    link_keys(a, links, n);
    arrays_open(a + 3, g_texts, 3);
    for (size_t i = 0; i < n; i++) {
        arr_text(&a[3], links[i].nhs);
        arr_text(&a[4], by_stream[i]);
        arr_text(&a[5], by_seid[i]);
    }
    return run_arrays(self, S_LINKS_ADD_MANY, a, 6, 0, NULL);
}

int jr_store_pg_parked_many(jr_store_pg_t *self, const jr_link_t *keys, size_t n,
                            jr_store_rows_t *out)
{
    arr_t a[3];
    arrays_open(a, g_texts, 3);
    for (size_t i = 0; i < n; i++) {
        if (keys[i].kind == JR_LINK_NINO) {
            arr_text(&a[0], keys[i].value);
        } else {
            arr_text(&a[1], keys[i].stream);
            arr_text(&a[2], keys[i].value);
        }
    }
    PGresult *res = NULL;
    int rc = run_arrays(self, S_PARKED_MANY, a, 3, 1, &res);
    if (rc == JR_STORE_OK) {
        rc = append_rows(self, res, out);
        PQclear(res);
    }
    return rc;
}

int jr_store_pg_persons_cycles(jr_store_pg_t *self, const char *const *nhs, size_t n,
                               void (*fn)(void *ctx, const char *nhs, uint32_t cycle), void *ctx)
{
    arr_t a;
    text_array(&a, nhs, n);
    params_t p = {0};
    arr_param(&p, &a);
    PGresult *res = NULL;
    int rc =
        arrays_failed(self, &a, 1) ? JR_STORE_RETRY : run(self, S_PERSONS_ENSURE_MANY, &p, 0, NULL);
    if (rc == JR_STORE_OK) {
        rc = run(self, S_PERSONS_CYCLES, &p, 0, &res);
    }
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        fn(ctx, PQgetvalue(res, i, 0), (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10));
    }
    PQclear(res);
    arrays_free(&a, 1);
    return rc;
}

int jr_store_pg_persons_events(jr_store_pg_t *self, const char *const *nhs, size_t n,
                               jr_store_rows_t *out)
{
    arr_t a;
    text_array(&a, nhs, n);
    PGresult *res = NULL;
    int rc = run_arrays(self, S_PERSONS_EVENTS, &a, 1, 1, &res);
    size_t first = out->n;
    if (rc == JR_STORE_OK) {
        rc = append_rows(self, res, out);
    }
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        snprintf(out->rows[first + (size_t)i].nhs, sizeof out->rows[0].nhs, "%.*s",
                 PQgetlength(res, i, 4), PQgetvalue(res, i, 4));
    }
    PQclear(res);
    return rc;
}

int jr_store_pg_publish_records(jr_store_pg_t *self, const jr_store_review_t *r, size_t n)
{
    static const oid_t types[11] = {OID_TEXT,  OID_INT4, OID_INT4, OID_INT8, OID_BOOL, OID_TEXT,
                                    OID_BYTEA, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT};
    arr_t a[11];
    arrays_open(a, types, 11);
    for (size_t i = 0; i < n; i++) {
        arr_text(&a[0], r[i].nhs);
        arr_i32(&a[1], (int32_t)r[i].cycle);
        arr_i32(&a[2], (int32_t)r[i].version);
        arr_i64(&a[3], (int64_t)r[i].seq);
        arr_bool(&a[4], r[i].ready);
        arr_text(&a[5], r[i].held_on);
        arr_bytes(&a[6], r[i].record, r[i].record_len);
        arr_text(&a[7], r[i].enrolled);
        arr_text(&a[8], r[i].complete_streams);
        arr_text(&a[9], r[i].area_priority);
        arr_text(&a[10], r[i].area_conflict);
    }
    return run_arrays(self, S_PUBLISH_RECORDS, a, 11, 0, NULL);
}

int jr_store_pg_schedules_put(jr_store_pg_t *self, const jr_store_schedule_t *rows, size_t n)
{
    static const oid_t types[7] = {OID_TEXT, OID_INT4, OID_TEXT, OID_TEXT,
                                   OID_TEXT, OID_TEXT, OID_INT4};
    arr_t a[7];
    arrays_open(a, types, 7);
    for (size_t i = 0; i < n; i++) {
        arr_text(&a[0], rows[i].nhs);
        arr_i32(&a[1], (int32_t)rows[i].cycle);
        arr_text(&a[2], rows[i].review_on);
        arr_text(&a[3], rows[i].lead);
        arr_text(&a[4], rows[i].covered);
        arr_text(&a[5], rows[i].next_check_on);
        arr_i32(&a[6], rows[i].separate_meetings);
    }
    return run_arrays(self, S_SCHEDULES_PUT, a, 7, 0, NULL);
}

/* ---- the event log's binary COPY ---- */

/* Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
#define PG_EPOCH_US 946684800000000LL

enum { COPY_CHUNK = 64 * 1024 }; /* bytes per PQputCopyData */

static int copy_flush(jr_store_pg_t *self, buf_t *b)
{
    if (b->failed) {
        snprintf(self->error, sizeof self->error, "out of memory");
        return JR_STORE_RETRY;
    }
    if (b->len > 0 && PQputCopyData(self->conn, (const char *)b->data, (int)b->len) != 1) {
        set_error(self, "COPY event");
        return JR_STORE_RETRY;
    }
    b->len = 0;
    return JR_STORE_OK;
}

/* Abandons a COPY in progress and reads its result. */
static void copy_end(jr_store_pg_t *self, const char *abort)
{
    PQputCopyEnd(self->conn, abort);
    PGresult *res;
    while ((res = PQgetResult(self->conn)) != NULL) {
        PQclear(res);
    }
}

int jr_store_pg_events_copy_send(jr_store_pg_t *self, const jr_store_event_row_t *rows, size_t n)
{
    if (n == 0) {
        return JR_STORE_OK;
    }
    if (!jr_store_pg_connected(self)) {
        snprintf(self->error, sizeof self->error, "not connected");
        return JR_STORE_RETRY;
    }
    PGresult *res = PQexec(self->conn, "COPY event (stream, source_event_id, kind, occurred_at, "
                                       "sender, nhs_number, ni_number, local_id, cycle, seq, "
                                       "envelope) FROM STDIN (FORMAT binary)");
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        int rc = classify(self, res, "COPY event");
        PQclear(res);
        return rc;
    }
    PQclear(res);
    static const char signature[11] = "PGCOPY\n\377\r\n";
    buf_t b = {0};
    buf_put(&b, signature, sizeof signature);
    buf_u32(&b, 0); /* flags */
    buf_u32(&b, 0); /* header extension */
    int rc = JR_STORE_OK;
    for (size_t i = 0; i < n && rc == JR_STORE_OK; i++) {
        const jr_store_event_row_t *r = &rows[i];
        buf_u16(&b, 11);
        buf_text(&b, r->stream);
        buf_text(&b, r->seid);
        buf_text(&b, r->kind);
        buf_i64(&b, r->occurred_at_ms * 1000 - PG_EPOCH_US);
        buf_text(&b, r->sender);
        buf_text(&b, r->nhs);
        buf_text(&b, r->nino);
        buf_text(&b, r->local_id);
        if (r->nhs != NULL) {
            buf_i32(&b, (int32_t)r->cycle);
        } else {
            buf_value(&b, NULL, 0);
        }
        if (r->seq != 0) {
            buf_i64(&b, (int64_t)r->seq);
        } else {
            buf_value(&b, NULL, 0);
        }
        buf_value(&b, r->envelope, r->envelope_len);
        if (b.len >= COPY_CHUNK || b.failed) {
            rc = copy_flush(self, &b);
        }
    }
    buf_u16(&b, UINT16_MAX); /* the trailer: -1 */
    if (rc == JR_STORE_OK) {
        rc = copy_flush(self, &b);
    }
    free(b.data);
    if (rc != JR_STORE_OK) {
        copy_end(self, "the daemon abandoned the batch");
        return rc;
    }
    if (PQputCopyEnd(self->conn, NULL) != 1) {
        set_error(self, "COPY event");
        copy_end(self, "the daemon abandoned the batch");
        return JR_STORE_RETRY;
    }
    self->copy_pending = true;
    return JR_STORE_OK;
}

int jr_store_pg_events_copy_end(jr_store_pg_t *self)
{
    if (!self->copy_pending) {
        return JR_STORE_OK;
    }
    self->copy_pending = false;
    int rc = JR_STORE_OK;
    PGresult *res;
    while ((res = PQgetResult(self->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == JR_STORE_OK) {
            rc = classify(self, res, "COPY event");
        }
        PQclear(res);
    }
    return rc;
}

int jr_store_pg_notice_keys(jr_store_pg_t *self, const char *const *nhs, size_t n,
                            void (*fn)(void *ctx, const char *nhs, uint32_t cycle, const char *key),
                            void *ctx)
{
    arr_t a;
    text_array(&a, nhs, n);
    PGresult *res = NULL;
    int rc = run_arrays(self, S_NOTICE_KEYS, &a, 1, 0, &res);
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        fn(ctx, PQgetvalue(res, i, 0), (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10),
           PQgetvalue(res, i, 2));
    }
    PQclear(res);
    return rc;
}

int jr_store_pg_notices_add(jr_store_pg_t *self, const jr_store_notice_t *rows, size_t n)
{
    static const oid_t types[11] = {OID_TEXT, OID_INT4, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT,
                                    OID_TEXT, OID_TEXT, OID_INT8, OID_TEXT, OID_BYTEA};
    arr_t a[11];
    arrays_open(a, types, 11);
    for (size_t i = 0; i < n; i++) {
        const jr_store_notice_t *r = &rows[i];
        arr_text(&a[0], r->nhs);
        arr_i32(&a[1], (int32_t)r->cycle);
        arr_text(&a[2], r->key);
        arr_text(&a[3], r->kind);
        arr_text(&a[4], r->notice_on);
        arr_text(&a[5], r->review_on);
        arr_text(&a[6], r->lead);
        arr_text(&a[7], r->covered);
        arr_i64(&a[8], (int64_t)r->seq);
        arr_text(&a[9], r->topic);
        arr_bytes(&a[10], r->payload, r->payload_len);
    }
    return run_arrays(self, S_NOTICES_ADD, a, 11, 0, NULL);
}
