/* store_pg.h -- PostgreSQL: connection, migrations and the statements the
 * batch writer and rebuild need. Nothing here knows the merge rules.
 *
 * Every function returns JR_STORE_OK (0) or a negative status that says
 * whether trying again later can help (JR_STORE_RETRY: the connection is gone
 * or the server refused for now) or not (JR_STORE_DATA: this data was refused;
 * JR_STORE_FATAL: misconfiguration). After any failure inside a transaction
 * the caller must jr_store_pg_rollback().
 *
 * Connecting never waits for a connection to be made: jr_store_pg_connect_start()
 * then jr_store_pg_connect_poll() whenever jr_store_pg_socket() is ready,
 * for the daemon's login and then, when there is one, the schema owner's;
 * each fails after 10 s. Once made, the session's settings, its lock and
 * the check for migrations are a few short round trips. Once connected,
 * the session holds an advisory lock so that only one daemon writes to a
 * database (the sequence numbers rely on it), and the numbered migrations
 * built into the binary (schema/NNN_*.sql) that are not recorded in
 * schema_migration yet have been applied, each in its own transaction,
 * under a second advisory lock: an upgrade is a restart.
 *
 * One module over several files, each a concern (store_conn.h says which);
 * arrays, dates and the event log's rows travel in PostgreSQL's binary
 * formats (pgbin.h), never as SQL text. */
#ifndef JR_STORE_PG_H
#define JR_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "identity.h"
#include "nhs.h"
#include "schedule.h"
#include "statistics.h"
#include "streams.h"
#include "text.h"

typedef enum {
    JR_STORE_OK = 0,
    JR_STORE_RETRY = -1,
    JR_STORE_DATA = -2,
    JR_STORE_FATAL = -3,
    JR_STORE_BUSY = -4, /* connecting: another daemon holds the database's writer lock */
} jr_store_status_t;

typedef struct jr_store_pg jr_store_pg_t;

/* Caller owns the result. The conninfo strings are copied. owner_conninfo,
 * when not NULL or empty, is a separate login that owns the schema: the
 * migrations run as it (on a short connection at each connect), and the
 * daemon's own login needs no right to create, alter or drop anything. */
jr_store_pg_t *jr_store_pg_new(const char *conninfo, const char *owner_conninfo,
                               int statement_timeout_ms);
void jr_store_pg_destroy(jr_store_pg_t **self_p);

/* A second session for long reads beside the writer's: read-only, it takes
 * no writer lock and runs no migrations (the writer's session has). */
jr_store_pg_t *jr_store_pg_new_reader(const char *conninfo, int statement_timeout_ms);

/* ---- connection ---- */

/* Starts a nonblocking connection. JR_STORE_OK when started. */
int jr_store_pg_connect_start(jr_store_pg_t *self);

/* Advances it. Returns JR_STORE_OK when connected and ready (statements
 * prepared, lock held), 1 while in progress (wait for jr_store_pg_socket() to
 * become readable when *want_write is false, writable otherwise),
 * JR_STORE_BUSY when another daemon holds the writer lock, or
 * JR_STORE_RETRY on failure (a reason is in jr_store_pg_error()). */
int jr_store_pg_connect_poll(jr_store_pg_t *self, bool *want_write);

/* Connects, waiting up to timeout_ms. For start-up and tools. */
int jr_store_pg_connect_wait(jr_store_pg_t *self, int timeout_ms);

bool jr_store_pg_connected(const jr_store_pg_t *self);
int jr_store_pg_socket(const jr_store_pg_t *self); /* -1 when none */
const char *jr_store_pg_error(const jr_store_pg_t *self);

/* Drops the connection (after an error that left it unusable). */
void jr_store_pg_disconnect(jr_store_pg_t *self);

/* ---- the schema, for tools ---- */

/* What jr_store_pg_migrate() did. The names are the built-in migrations'
 * (static). */
typedef struct {
    size_t applied;           /* migrations applied by this call */
    size_t known;             /* migrations built in */
    const char *first, *last; /* the first and last applied by this call, or NULL */
    const char *newest;       /* the newest built in */
} jr_store_migrated_t;

/* Brings the schema up to date with the daemon's own migrations, over a
 * connection made and closed here: conninfo with dbname (when not NULL)
 * over its database, as `role` when not NULL (SET ROLE: the schema's owner,
 * for a superuser's session). For `joinedreview setup-database`.
 * JR_STORE_OK, or a failure with the reason in err. */
int jr_store_pg_migrate(const char *conninfo, const char *dbname, const char *role,
                        jr_store_migrated_t *out, char *err, size_t errlen);

/* ---- transactions ---- */
int jr_store_pg_begin(jr_store_pg_t *self);
int jr_store_pg_commit(jr_store_pg_t *self);
void jr_store_pg_rollback(jr_store_pg_t *self);

/* ---- statements (inside a transaction) ---- */

typedef struct {
    const char *stream;
    const char *seid;
    const char *kind; /* "ENROLMENT", ... */
    int64_t occurred_at_ms;
    const char *sender;
    const char *nhs;  /* NULL: parked */
    const char *nino; /* NULL when absent */
    const char *local_id;
    uint32_t cycle; /* ignored when parked */
    uint64_t seq;   /* the publication that first reflects it; 0 when parked */
    const uint8_t *envelope;
    size_t envelope_len;
} jr_store_event_row_t;

/* Appends the rows to the event log with one binary COPY, in the order
 * given (so event ids follow it). _send streams the rows and returns while
 * PostgreSQL is still writing them, so the caller can compute meanwhile;
 * _end waits for the outcome, adds the rows to the log's running counts
 * (event_count), and must come before any other statement. A (stream,
 * source_event_id) already stored makes the COPY fail with JR_STORE_DATA.
 * Nothing is sent for n == 0. */
int jr_store_pg_events_copy_send(jr_store_pg_t *self, const jr_store_event_row_t *rows, size_t n);
int jr_store_pg_events_copy_end(jr_store_pg_t *self);

/* Adds identity links; each is linked by the enrolment (by_stream[i],
 * by_seid[i]) stored in the same transaction. A link already present is
 * left as it is. */
int jr_store_pg_links_add_many(jr_store_pg_t *self, const jr_link_t *links,
                               const char *const *by_stream, const char *const *by_seid, size_t n);

/* One stored event as read back. The envelope is owned by the list. */
typedef struct {
    int64_t id;
    char nhs[JR_NHS_LEN + 1]; /* filled by jr_store_pg_persons_events only */
    uint32_t cycle;           /* 0 when parked */
    uint64_t seq;             /* 0 when not yet published */
    uint8_t *envelope;
    size_t envelope_len;
} jr_store_row_t;

typedef struct {
    jr_store_row_t *rows;
    size_t n, cap;
} jr_store_rows_t;

void jr_store_rows_clear(jr_store_rows_t *rows);

/* Parked events naming any of these identifiers (the links a batch may
 * add), in id order. Appends. */
int jr_store_pg_parked_many(jr_store_pg_t *self, const jr_link_t *keys, size_t n,
                            jr_store_rows_t *out);

/* A consolidated_review row. Strings are borrowed; stream codes, in code
 * order, typically from the streams table. */
typedef struct {
    const char *nhs;
    uint32_t cycle;
    uint32_t version;
    uint64_t seq;
    bool ready;
    jr_day_t held_on; /* JR_DAY_NONE: not held */
    const uint8_t *record;
    size_t record_len;
    /* for reporting: the streams in force, whether each is complete, and
     * each area's priority and conflict flag (area n at [n - 1]) */
    const char *enrolled[JR_STREAMS_MAX];
    bool complete[JR_STREAMS_MAX]; /* [i]: enrolled[i] has its minimum information */
    size_t n_enrolled;
    jr_priority_t area_priority[JR_AREA_COUNT];
    bool area_conflict[JR_AREA_COUNT];
    /* for the pages, the statistics and the quarterly summary (013) */
    jr_day_t as_of;
    const char *called; /* NULL when unknown */
    const char *way;    /* "FORMAT_FIRST", ...; NULL when no preferences */
    const char *needs[JR_NEED_LAST];
    size_t n_needs;
    const char *budget_streams[JR_STREAMS_MAX]; /* each stream's latest budget */
    int64_t budget_allocated[JR_STREAMS_MAX];
    int64_t budget_spent[JR_STREAMS_MAX];
    size_t n_budgets;
    const char *held_streams[JR_STREAMS_MAX]; /* a final record: the streams its review covered */
    bool held_by_due[JR_STREAMS_MAX];         /* ... held on or before their own due date */
    size_t n_held;
} jr_store_review_t;

/* Writes n records alone, without outbox rows (rebuild). */
int jr_store_pg_reviews_put(jr_store_pg_t *self, const jr_store_review_t *r, size_t n);

/* Every stored record of these persons, as rows: nhs, cycle and seq, the
 * record's bytes where an event's envelope is (any order). Appends. */
int jr_store_pg_reviews_of(jr_store_pg_t *self, const char *const *nhs, size_t n,
                           jr_store_rows_t *out);

/* The last sequence number handed out (0 when none), kept as publications
 * are written (publish_state.last_seq): one row read, whatever the size. */
int jr_store_pg_last_seq(jr_store_pg_t *self, uint64_t *seq);

/* Bytes of a rejected message kept for diagnosis (with its length and
 * SHA-256 digest). */
#define JR_STORE_REJECTED_HEAD 4096

/* Keeps input the daemon refused: one row per distinct rejection (the
 * message's bytes and the reason code), counted when it comes again, with
 * the message's length, digest and first JR_STORE_REJECTED_HEAD bytes.
 * Beyond the bound set by jr_store_pg_set_rejected_max, the rows seen least
 * recently make room. */
int jr_store_pg_rejected_add(jr_store_pg_t *self, const char *sender, const char *stream,
                             const char *seid, const char *code, const char *reason,
                             const uint8_t *raw, size_t len);

/* The most rows of rejected input kept (0: no bound). */
void jr_store_pg_set_rejected_max(jr_store_pg_t *self, long long max_rows);

/* Deletes rejected input not seen for `days`, at most limit rows: one round
 * of the retention (*deleted < limit: the last). */
int jr_store_pg_rejected_trim(jr_store_pg_t *self, int days, int limit, uint64_t *deleted);

/* Persons after `after` ("" from the first) and their current cycles, in
 * NHS-number order, at most limit; *count says how many came. */
int jr_store_pg_persons_page(jr_store_pg_t *self, const char *after, int limit,
                             int (*fn)(void *ctx, const char *nhs, uint32_t cycle), void *ctx,
                             size_t *count);

/* ---- schedule and notices ---- */

/* A row of the due-check index (table schedule). Strings are borrowed. */
typedef struct {
    const char *nhs;
    uint32_t cycle;
    jr_day_t review_on;                  /* JR_DAY_NONE: no review date */
    const char *lead;                    /* stream code or NULL */
    const char *covered[JR_STREAMS_MAX]; /* stream codes, in code order */
    size_t n_covered;
    jr_day_t next_check_on; /* JR_DAY_NONE: nothing to check */
    int separate_meetings;  /* covered streams that set their own date */
    const char *group_key;  /* set when the person wants a group review (plan.h); else NULL */
} jr_store_schedule_t;

/* A key of the due check's index: (next check, NHS number). */
typedef struct {
    jr_day_t on; /* JR_DAY_NONE: before the first key */
    char nhs[JR_NHS_LEN + 1];
} jr_store_due_key_t;

/* Persons whose next check is on or before today and whose key comes after
 * *after, at most limit, in key order; *after becomes the key of the last
 * one read (unchanged when none came), *count says how many there were. */
int jr_store_pg_schedule_due(jr_store_pg_t *self, jr_day_t today, jr_store_due_key_t *after,
                             int limit, int (*fn)(void *ctx, const char *nhs, uint32_t cycle),
                             void *ctx, size_t *count);

/* A due_notice row with its outbox row. Strings are borrowed. */
typedef struct {
    const char *nhs;
    uint32_t cycle;
    const char *key; /* "lead-56", "due", "overdue-1" */
    jr_notice_kind_t kind;
    jr_day_t notice_on;
    jr_day_t review_on;
    const char *lead;                    /* stream code or NULL */
    const char *covered[JR_STREAMS_MAX]; /* stream codes, in code order */
    size_t n_covered;
    uint64_t seq;           /* its publication */
    const char *topic;      /* what it is published under: "notice.due.SC" */
    const uint8_t *payload; /* the packed DueNotice */
    size_t payload_len;
} jr_store_notice_t;

/* Calls fn with the key of every notice recorded for these persons. */
int jr_store_pg_notice_keys(jr_store_pg_t *self, const char *const *nhs, size_t n,
                            void (*fn)(void *ctx, const char *nhs, uint32_t cycle, const char *key),
                            void *ctx);

/* Records n notices (none recorded before) with their outbox rows, in one
 * round trip. */
int jr_store_pg_notices_add(jr_store_pg_t *self, const jr_store_notice_t *rows, size_t n);

/* The last sequence number known to be published. set only moves it up. */
int jr_store_pg_published_get(jr_store_pg_t *self, uint64_t *seq);
int jr_store_pg_published_set(jr_store_pg_t *self, uint64_t seq);

/* Publications after `after`, in order, at most limit. */
int jr_store_pg_outbox_after(jr_store_pg_t *self, uint64_t after, int limit,
                             int (*fn)(void *ctx, uint64_t seq, const char *topic,
                                       const uint8_t *payload, size_t len),
                             void *ctx, size_t *count);

/* The oldest publication a replay can start from: every one from it on is
 * still in the outbox (those below it went with the trim, but for the
 * current records it spares). */
int jr_store_pg_outbox_oldest(jr_store_pg_t *self, uint64_t *seq);

/* One round of the trim: goes past the next publications in sequence
 * order, at most limit, that are older than `days`, and deletes those of
 * them that hold no current record (*passed < limit: the last round); and
 * sweeps the next limit rows kept behind it, after *swept, deleting those
 * no longer a current record (*swept: where the sweep got to, 0 when it
 * went round). *deleted counts both. */
int jr_store_pg_outbox_trim(jr_store_pg_t *self, int days, int limit, uint64_t *swept,
                            uint64_t *passed, uint64_t *deleted);

/* A consistent read: a REPEATABLE READ, READ ONLY transaction, with *seq
 * the last publication committed in it. Everything read until read_end sees
 * exactly the state at that sequence. On failure nothing is left open. */
int jr_store_pg_read_begin(jr_store_pg_t *self, uint64_t *seq);
int jr_store_pg_read_end(jr_store_pg_t *self);

/* The current state for a catch-up snapshot: every person's current record
 * and each person's latest published notice of the current cycle, in
 * sequence order; lead and stream (NULL: any) filter. Only inside
 * read_begin/read_end: it reads through a cursor, 1,000 rows at a time. */
int jr_store_pg_snapshot(jr_store_pg_t *self, const char *lead, const char *stream,
                         int (*fn)(void *ctx, uint64_t seq, const char *topic,
                                   const uint8_t *payload, size_t len),
                         void *ctx);

/* Fills everything in *st but sequence, today and ingest_per_second, as of
 * today. */
int jr_store_pg_statistics(jr_store_pg_t *self, jr_day_t today, jr_statistics_t *st);

/* The same in one read-only snapshot, with st->sequence the last
 * publication committed in it. */
int jr_store_pg_statistics_snapshot(jr_store_pg_t *self, jr_day_t today, jr_statistics_t *st);

/* ---- batch-wide statements: one round trip for a whole batch ---- */

/* Calls fn for each (stream, seid) among the n given that is stored. */
int jr_store_pg_exists_many(jr_store_pg_t *self, const char *const *streams,
                            const char *const *seids, size_t n,
                            void (*fn)(void *ctx, const char *stream, const char *seid), void *ctx);

/* Calls fn for each stored link among the n keys (kind, stream, value). */
int jr_store_pg_links_many(jr_store_pg_t *self, const jr_link_t *keys, size_t n,
                           void (*fn)(void *ctx, const jr_link_t *link), void *ctx);

/* Calls fn with the current cycle of each of these persons the log knows. */
int jr_store_pg_persons_read(jr_store_pg_t *self, const char *const *nhs, size_t n,
                             void (*fn)(void *ctx, const char *nhs, uint32_t cycle), void *ctx);

/* Adds persons the log does not know yet, at cycle 1. */
int jr_store_pg_persons_add(jr_store_pg_t *self, const char *const *nhs, size_t n);

/* Moves each person to the cycle beside it. */
int jr_store_pg_persons_set_cycles(jr_store_pg_t *self, const char *const *nhs,
                                   const uint32_t *cycles, size_t n);

/* A parked event given to its person: its cycle, and the publication that
 * first reflects it. */
typedef struct {
    int64_t id;
    const char *nhs;
    uint32_t cycle;
    uint64_t seq;
} jr_store_assign_t;

/* Releases n parked events; they leave the log's parked count. */
int jr_store_pg_events_assign(jr_store_pg_t *self, const jr_store_assign_t *rows, size_t n);

/* Every event of these persons, grouped by person, in id order; each row's
 * nhs says whose. Appends. */
int jr_store_pg_persons_events(jr_store_pg_t *self, const char *const *nhs, size_t n,
                               jr_store_rows_t *out);

/* Publishes n records (distinct persons and cycles) in one round trip:
 * each one's outbox row (topic "review", payload the record) and the record
 * itself. The events they reflect carry their sequence numbers already. */
int jr_store_pg_publish_records(jr_store_pg_t *self, const jr_store_review_t *r, size_t n);

/* Writes n rows of the due-check index (distinct persons) in one round trip,
 * and calls fn (when not NULL) with each distinct (lead, group key) those
 * persons' rows had before, where they had one: the groups they may leave. */
int jr_store_pg_schedules_put(jr_store_pg_t *self, const jr_store_schedule_t *rows, size_t n,
                              void (*fn)(void *ctx, const char *lead, const char *group_key),
                              void *ctx);

/* ---- suggested group reviews (group.h) ---- */

/* Calls fn with every person who wants a group review under each
 * (leads[i], keys[i]): their review date, the name to use ("" when
 * unknown) and their needs as comma-separated codes. */
int jr_store_pg_group_members(jr_store_pg_t *self, const char *const *leads,
                              const char *const *keys, size_t n,
                              void (*fn)(void *ctx, size_t pair, const char *nhs,
                                         jr_day_t review_on, const char *called, const char *needs),
                              void *ctx);

/* Calls fn with every current suggestion of each (leads[i], keys[i]): its
 * sequence, date and members (comma-separated NHS numbers). */
int jr_store_pg_group_current(jr_store_pg_t *self, const char *const *leads,
                              const char *const *keys, size_t n,
                              void (*fn)(void *ctx, size_t pair, uint64_t seq, jr_day_t review_on,
                                         const char *members),
                              void *ctx);

/* A group_suggestion row with its outbox row. Strings and arrays borrowed. */
typedef struct {
    uint64_t seq;
    const char *lead;
    const char *group_key;
    jr_day_t review_on; /* JR_DAY_NONE: withdrawn */
    const char *const *members;
    size_t n_members;
    const uint64_t *replaces; /* no longer current once this is written */
    size_t n_replaces;
    bool current;
    const char *topic; /* "group.<lead>" */
    const uint8_t *payload;
    size_t payload_len;
} jr_store_group_t;

/* Records n suggestions with their outbox rows, in one round trip. */
int jr_store_pg_groups_add(jr_store_pg_t *self, const jr_store_group_t *rows, size_t n);

#endif
