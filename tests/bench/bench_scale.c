/* bench_scale.c -- how the daemon's fixed costs grow with the number of
 * persons: start-up, the daily due check, a catch-up snapshot, and the size
 * of its tables, each at several sizes, so that growth worse than linear
 * shows.
 *
 * For each size (persons), in a fresh database:
 *   load  three enrolments per person (distinct streams drawn with a fixed
 *         seed, Social Care the most common; started in the two years
 *         before the harness's today, 2026-10-02, so that review dates
 *         spread over the year; six in ten persons with an NI number),
 *         pushed through the real daemon by 4 concurrent clients
 *         (jr_client), one per back office, 500 unacknowledged each: load
 *         time (first send to last ack) and events/s. After its last ack the
 *         daemon still runs the due check that last batch brought on; the
 *         measures below wait until no schedule row is due on today any
 *         more, and that wait is reported too;
 *   (a)   start-up: SIGTERM, start again, time until the daemon logs
 *         "ready" (median of 3; start-up republishes, trims the outbox and
 *         runs the first round of the due check before it is ready);
 *   (b)   the due check on a later day: start with --today 2026-10-03 (the
 *         next day), then with --today 2026-11-02 (a month on from there).
 *         The daemon settles the persons due in rounds of 500 between its
 *         other work and logs "due check: N persons settled, M notices
 *         published in X ms" when the rounds are done: that X is the
 *         figure; start-to-ready on that day is shown next to it, and the
 *         notices are the outbox rows it added;
 *   (c)   a catch-up SNAPSHOT for one lead organisation ("SC") over the
 *         catch-up ROUTER: time until the reply marked last, and items;
 *   (c')  ingest while that snapshot is answered: contributions pushed one
 *         at a time through the ingest ROUTER (each sent when the last is
 *         acknowledged) for as long as the snapshot runs: how many, and
 *         their ack latency p50 and max; baseline, in the same run, 200
 *         pushed the same way with nothing else going on;
 *   (c2)  a STATISTICS catch-up request: time until its reply (the same
 *         figures the statistics feed computes every interval);
 *   (d)   pg_relation_size and pg_indexes_size (and the total with TOAST)
 *         of event, person, identity_link, consolidated_review, outbox,
 *         schedule and due_notice;
 *   (e)   the daemon's peak memory (VmHWM from /proc): the process that took
 *         the load, and the last one, which ran the month-on due check, the
 *         snapshot and the statistics: flat as persons grow, or not;
 *   (f)   suggested group reviews at their worst: every person with a review
 *         date wants one, at one of persons / 25 schemes (about 25 people a
 *         scheme, as at a sheltered-housing scheme; written into the
 *         schedule as the daemon would have), and every group is settled at
 *         once, with the daemon stopped, by the daemon's own code
 *         (jr_groups_settle: the members of each scheme read through the
 *         index of those who want a group, with each one's name and needs,
 *         the suggestions current, the rules of domain/group.h, the
 *         suggestions packed and written with their outbox rows, as of
 *         2026-10-02) in a transaction then rolled back; a batch or a
 *         round of the due check settles only the schemes of its own
 *         persons. Baselines, in the same run: the members read with one
 *         plain SQL query in scheme and date order, and, for the rules
 *         alone (jr_group_plan over every scheme in memory), a qsort of the
 *         same persons.
 * Baselines, in the same run and database: for (a) and (b) the bare
 *   SELECT count(*) FROM schedule WHERE next_check_on <= $today
 * (the persons due: the floor of any due check), and for (c) the
 * snapshot's rows read with one plain SQL query, as the database's floor.
 * At the end, one table per measure, a row per size, with the growth of the
 * value (value / value at the first size) next to the growth of the size.
 *
 *   bench_scale [PERSONS ...]      default 100000 300000 1000000
 *   e.g. bench_scale 2000 5000     (a quick run)
 *
 * Needs the throwaway cluster named by JR_TEST_PGDIR (scripts/pg.sh start
 * DIR), or run it through `cmake --build build --target bench_scale`. Not
 * part of the test suite. */
#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <zmq.h>

#include "caseload.h"
#include "group.h"
#include "groups.h"
#include "harness.h"
#include "jr_client.h"
#include "load.h"

#define SENDERS          4
#define WINDOW           500
#define RESTARTS         3
#define START_TIMEOUT_MS (600 * 1000)
#define DUE_TIMEOUT_MS   (6 * 3600 * 1000)
#define REPLY_TIMEOUT_MS (600 * 1000)
#define MAX_SIZES        16
#define LEAD             "SC"

static const char *const relations[] = {
    "event", "person", "identity_link", "consolidated_review", "outbox", "schedule", "due_notice",
};
#define N_RELATIONS (sizeof relations / sizeof relations[0])

/* The later days of (b), in days after the harness's today. */
static const int later_days[] = {1, 31};
#define N_LATER (sizeof later_days / sizeof later_days[0])

typedef struct result result_t;
static int measure_groups(const h_db_t *db, int persons, result_t *r);

/* Contributions pushed one at a time, each when the last was acked. */
typedef struct {
    int n;
    double p50_ms, max_ms;
} pushes_t;

typedef struct {
    char today[11];
    long long due;     /* persons due: the baseline count */
    double count_ms;   /* the baseline count's time */
    double start_ms;   /* start to ready on that day */
    double check_ms;   /* the due check's own figure, from its log line */
    long long notices; /* outbox rows the due check added */
} due_result_t;

struct result {
    int persons;
    size_t events;
    double load_s;
    double settle_s; /* last ack until nothing is due on today */
    double start_ms; /* (a), median */
    due_result_t plain;
    due_result_t later[N_LATER];
    long long snap_items;
    double snap_ms;
    long long sql_rows;
    double sql_ms;
    double stats_ms;              /* a STATISTICS catch-up request */
    pushes_t during;              /* (c'): pushed while the snapshot was answered */
    pushes_t idle;                /* (c'): its baseline */
    long hwm_load_kb, hwm_end_kb; /* (e) */
    long long group_persons, group_pairs, group_published; /* (f) */
    double group_ms, group_sql_ms, group_plan_ms, group_sort_ms;
    long long heap[N_RELATIONS], indexes[N_RELATIONS], total[N_RELATIONS];
};

static double ms_since(int64_t t0)
{
    return (double)(load_now_ns() - t0) / 1e6;
}

/* ---- load -------------------------------------------------------------- */

typedef struct {
    int person;
    int stream;
    int started_day;
} pair_t;

/* Three enrolments per person, each back office's ordered by person. */
static load_t *enrolments_build(int persons, int today, size_t *events)
{
    size_t n = (size_t)persons * 3;
    pair_t *pairs = malloc(n * sizeof *pairs);
    if (pairs == NULL) {
        return NULL;
    }
    size_t per_stream[CASELOAD_STREAMS] = {0};
    for (int p = 0; p < persons; p++) {
        caseload_rng_t rng = caseload_rng(CASELOAD_SEED, (uint64_t)p);
        int streams[3];
        caseload_pick_streams(&rng, 3, streams);
        for (int i = 0; i < 3; i++) {
            pairs[(size_t)p * 3 + (size_t)i] =
                (pair_t){p, streams[i], today - 1 - caseload_below(&rng, 730)};
            per_stream[streams[i]]++;
        }
    }
    int owner[CASELOAD_STREAMS];
    size_t offices = caseload_assign(per_stream, SENDERS, owner);
    load_t *l = load_new(offices, WINDOW);
    for (size_t i = 0; l != NULL && i < n; i++) {
        const pair_t *pr = &pairs[i];
        size_t office = (size_t)owner[pr->stream];
        caseload_rng_t rng = caseload_rng(CASELOAD_SEED ^ 0x1e5ULL, (uint64_t)i);
        char seid[32];
        caseload_enrolment_t en;
        load_seid(l, office, caseload_streams[pr->stream], seid);
        caseload_enrolment(&en, &rng, pr->person, pr->stream, pr->started_day, seid);
        if (load_add(l, office, caseload_streams[pr->stream], &en.e.env) != 0) {
            load_destroy(&l);
        }
    }
    free(pairs);
    *events = n;
    return l;
}

static int load_through_daemon(const h_daemon_t *d, int persons, int today, result_t *r)
{
    load_t *l = enrolments_build(persons, today, &r->events);
    if (l == NULL) {
        fprintf(stderr, "bench_scale: cannot build %d persons' enrolments\n", persons);
        return -1;
    }
    void *zctx = zmq_ctx_new();
    int rc = load_start(l, zctx, d->ingest);
    rc |= load_wait(l);
    load_stats_t st;
    load_stats(l, SIZE_MAX, &st);
    r->load_s = (double)(st.last_ack_ns - st.first_send_ns) / 1e9;
    if (st.ok != r->events) {
        fprintf(stderr,
                "bench_scale: %zu of %zu enrolments acked OK (%zu duplicate, %zu parked, "
                "%zu rejected)\n",
                st.ok, r->events, st.duplicate, st.parked, st.rejected);
        rc = -1;
    }
    zmq_ctx_term(zctx);
    load_destroy(&l);
    return rc;
}

/* ---- the database's own floor ------------------------------------------ */

/* One integer from a query with up to one parameter; -1 on error. */
static long long sql_ll(PGconn *c, const char *sql, const char *param)
{
    const char *params[1] = {param};
    PGresult *r = PQexecParams(c, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    } else {
        fprintf(stderr, "bench_scale: %s", PQerrorMessage(c));
    }
    PQclear(r);
    return v;
}

static void count_due(PGconn *c, due_result_t *due)
{
    int64_t t0 = load_now_ns();
    due->due = sql_ll(c, "SELECT count(*) FROM schedule WHERE next_check_on <= $1", due->today);
    due->count_ms = ms_since(t0);
}

/* The rows a SNAPSHOT for one lead reads (the daemon's query in
 * store_pg.c), fetched whole in binary as the daemon does. */
static double snapshot_sql_ms(PGconn *c, const char *lead, long long *rows)
{
    static const char sql[] =
        "SELECT c.seq, 'review'::text, coalesce(c.record, (SELECT o.payload FROM outbox o "
        "WHERE o.seq = c.seq)) FROM (SELECT DISTINCT ON (nhs_number) * "
        "FROM consolidated_review ORDER BY nhs_number, cycle DESC) c "
        "LEFT JOIN schedule s ON s.nhs_number = c.nhs_number "
        "WHERE ($1::text IS NULL OR s.lead = $1) AND ($2::text IS NULL OR $2 = ANY (c.enrolled)) "
        "UNION ALL "
        "SELECT seq, topic, payload FROM (SELECT DISTINCT ON (d.nhs_number) d.seq, "
        "'notice.' || lower(d.kind) || '.' || coalesce(d.lead, 'NONE') AS topic, d.payload "
        "FROM due_notice d JOIN person p ON p.nhs_number = d.nhs_number AND p.cycle = d.cycle "
        "WHERE d.seq IS NOT NULL AND ($1::text IS NULL OR d.lead = $1) "
        "AND ($2::text IS NULL OR $2 = ANY (d.covered)) "
        "ORDER BY d.nhs_number, d.seq DESC) n ORDER BY 1";
    const char *params[2] = {lead, NULL};
    int64_t t0 = load_now_ns();
    PGresult *r = PQexecParams(c, sql, 2, NULL, params, NULL, NULL, 1);
    double ms = ms_since(t0);
    *rows = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1;
    PQclear(r);
    return ms;
}

static void sizes(PGconn *c, result_t *r)
{
    for (size_t i = 0; i < N_RELATIONS; i++) {
        r->heap[i] = sql_ll(c, "SELECT pg_relation_size($1::regclass)", relations[i]);
        r->indexes[i] = sql_ll(c, "SELECT pg_indexes_size($1::regclass)", relations[i]);
        r->total[i] = sql_ll(c, "SELECT pg_total_relation_size($1::regclass)", relations[i]);
    }
}

/* Waits until no schedule row is due on today: s waited, or -1 when the
 * count stops moving for 30 s with rows still due. */
static double settle(PGconn *c)
{
    int64_t t0 = load_now_ns(), moved = t0;
    long long last = -1, due;
    while ((due = sql_ll(c, "SELECT count(*) FROM schedule WHERE next_check_on <= $1", H_TODAY)) !=
           0) {
        int64_t now = load_now_ns();
        if (due != last) {
            last = due;
            moved = now;
        } else if (due < 0 || now - moved > 30000000000LL) {
            fprintf(stderr, "bench_scale: %lld persons stay due on %s\n", due, H_TODAY);
            return -1;
        }
        h_sleep_ms(20);
    }
    return (double)(load_now_ns() - t0) / 1e9;
}

/* ---- the daemon -------------------------------------------------------- */

/* SIGTERM, then start with these arguments: ms until "ready", or -1. */
static double restart(h_daemon_t *d, const h_db_t *db, const char *today)
{
    const char *level = getenv("JR_BENCH_LOG") ? getenv("JR_BENCH_LOG") : "info";
    const char *const with_today[] = {"--log-level", level, "--today", today, NULL};
    const char *const plain[] = {"--log-level", level, NULL};
    h_daemon_stop(d, SIGTERM);
    int64_t t0 = load_now_ns();
    if (h_daemon_start_timeout(d, db, today ? with_today : plain, START_TIMEOUT_MS) != 0) {
        return -1;
    }
    return ms_since(t0);
}

/* Waits for the due check's closing log line; its duration in ms, or -1. */
static double due_check_ms(const h_daemon_t *d)
{
    static const char mark[] = "due check: ";
    for (int64_t t0 = load_now_ns(); ms_since(t0) < DUE_TIMEOUT_MS; h_sleep_ms(50)) {
        FILE *f = fopen(d->log_path, "r");
        char line[512];
        double ms = -1;
        while (f != NULL && fgets(line, sizeof line, f) != NULL) {
            const char *at = strstr(line, mark);
            const char *in = at ? strstr(at, " in ") : NULL;
            if (in != NULL) {
                ms = strtod(in + 4, NULL);
            }
        }
        if (f != NULL) {
            fclose(f);
        }
        if (ms >= 0) {
            return ms;
        }
    }
    return -1;
}

/* A STATISTICS catch-up request: ms until its reply, or -1. The daemon
 * computes the same figures for its statistics feed every
 * statistics_interval_s, in its loop. */
static double statistics_ms(const char *endpoint)
{
    void *zctx = zmq_ctx_new();
    jr_subscriber_t *client = h_catchup_client(zctx, endpoint, NULL, NULL, NULL);
    h_sleep_ms(100); /* connected before the clock starts */
    int64_t t0 = load_now_ns();
    Joinedreview__V1__CatchupReply *r =
        h_catchup(client, JR_SUBSCRIBER_ASK_STATISTICS, REPLY_TIMEOUT_MS);
    double ms = r != NULL && (int)r->status == JR_SUBSCRIBER_REPLY_OK ? ms_since(t0) : -1;
    if (r != NULL) {
        joinedreview__v1__catchup_reply__free_unpacked(r, NULL);
    }
    jr_subscriber_destroy(&client);
    zmq_ctx_term(zctx);
    return ms;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Ack latencies of contributions pushed one at a time through the client
 * library, each sent when the last was acknowledged: n of them, or until
 * `stop` is set. Run on a thread of its own while a snapshot is answered. */
typedef struct {
    void *zctx;
    const char *ingest;
    int n;
    atomic_int stop;
    double *ms;
    int done, cap;
    int failed;
} pusher_t;

static void *pusher_main(void *arg)
{
    pusher_t *p = arg;
    jr_client_options_t o = {
        .window = 1, .ack_timeout_ms = REPLY_TIMEOUT_MS, .zmq_context = p->zctx};
    jr_client_t *client = jr_client_new(p->ingest, &o);
    p->failed = client == NULL;
    h_sleep_ms(100); /* connected before the clock starts */
    static int serial;
    while (!p->failed && p->done < p->cap && (p->n == 0 || p->done < p->n) &&
           !atomic_load(&p->stop)) {
        char seid[32], nhs[11];
        snprintf(seid, sizeof seid, "bench-live-%d", ++serial);
        h_nhs_of(serial % 1000, nhs); /* a person the load enrolled */
        h_env_t e;
        h_contribution(&e, "SC", seid, 1790845200000LL + serial, nhs,
                       JOINEDREVIEW__V1__TOPIC__HOUSING, JOINEDREVIEW__V1__ROLE__CARER,
                       JOINEDREVIEW__V1__PRIORITY__AMBER, "needs a ramp at the back door");
        jr_client_stats_t before, after;
        jr_client_stats(client, &before);
        int64_t t0 = load_now_ns();
        p->failed = jr_client_submit(client, &e.env, NULL) != 0 ||
                    jr_client_flush(client, REPLY_TIMEOUT_MS) != 0;
        jr_client_stats(client, &after);
        p->failed |= after.ok == before.ok; /* stored and merged, nothing else */
        if (!p->failed) {
            p->ms[p->done++] = ms_since(t0);
        }
    }
    if (p->failed) {
        fprintf(stderr, "bench_scale: a push failed\n");
    }
    jr_client_destroy(&client);
    return NULL;
}

static void pushes_of(pusher_t *p, pushes_t *out)
{
    qsort(p->ms, (size_t)p->done, sizeof *p->ms, cmp_double);
    out->n = p->done;
    out->p50_ms = p->done ? p->ms[p->done / 2] : 0;
    out->max_ms = p->done ? p->ms[p->done - 1] : 0;
}

/* The baseline of (c'): n pushes with nothing else going on. */
static int pushes_idle(const char *ingest, int n, pushes_t *out)
{
    pusher_t p = {.zctx = zmq_ctx_new(), .ingest = ingest, .n = n, .cap = n};
    p.ms = calloc((size_t)n, sizeof *p.ms);
    int rc = -1;
    if (p.ms != NULL) {
        pusher_main(&p);
        rc = p.failed || p.done < n ? -1 : 0;
    }
    pushes_of(&p, out);
    free(p.ms);
    zmq_ctx_term(p.zctx);
    return rc;
}

static bool count_items(void *arg, Joinedreview__V1__CatchupReply *reply)
{
    long long *items = arg;
    if ((int)reply->status == JR_SUBSCRIBER_REPLY_OK) {
        *items += (long long)reply->n_items;
    }
    return false;
}

/* SNAPSHOT for one lead over the catch-up ROUTER: ms until the reply
 * marked last, or -1. Meanwhile, contributions are pushed one at a time on
 * the ingest endpoint (during). */
static double snapshot_ms(const char *endpoint, const char *lead, long long *items,
                          const char *ingest, pushes_t *during)
{
    void *zctx = zmq_ctx_new();
    jr_subscriber_t *client = h_catchup_client(zctx, endpoint, NULL, NULL, NULL);
    pusher_t p = {.zctx = zctx, .ingest = ingest, .cap = 100000};
    p.ms = calloc((size_t)p.cap, sizeof *p.ms);
    atomic_init(&p.stop, 0);
    pthread_t pusher;
    double ms = -1;
    *items = 0;
    if (p.ms == NULL || client == NULL || pthread_create(&pusher, NULL, pusher_main, &p) != 0) {
        goto out;
    }
    h_sleep_ms(100); /* connected before the clock starts */
    jr_subscriber_request_t req = {
        .kind = JR_SUBSCRIBER_ASK_SNAPSHOT, .lead = lead, .request_id = "bench_scale"};
    int64_t t0 = load_now_ns();
    int status = jr_subscriber_ask(client, &req, count_items, items, REPLY_TIMEOUT_MS);
    if (status == JR_SUBSCRIBER_REPLY_OK) {
        ms = ms_since(t0);
    } else {
        fprintf(stderr, "bench_scale: catch-up answered %s\n",
                status > 0 ? jr_subscriber_reason(client) : jr_subscriber_strerror(status));
    }
    atomic_store(&p.stop, 1);
    pthread_join(pusher, NULL);
    if (p.failed) {
        ms = -1;
    }
out:
    pushes_of(&p, during);
    free(p.ms);
    jr_subscriber_destroy(&client);
    zmq_ctx_term(zctx);
    return ms;
}

/* Everything for one size; 0 on success. */
static int measure(int persons, result_t *r)
{
    int today = caseload_day_of(H_TODAY);
    memset(r, 0, sizeof *r);
    r->persons = persons;
    h_db_t db;
    h_daemon_t d;
    const char *level = getenv("JR_BENCH_LOG") ? getenv("JR_BENCH_LOG") : "info";
    if (h_db_create(&db, "bench_scale") != 0 ||
        h_daemon_start(&d, &db, (const char *const[]){"--log-level", level, NULL}) != 0) {
        fprintf(stderr, "bench_scale: cannot start (is the cluster in JR_TEST_PGDIR running?)\n");
        return -1;
    }
    fprintf(stderr, "bench_scale: %d persons: loading\n", persons);
    PGconn *c = NULL;
    int rc = load_through_daemon(&d, persons, today, r);
    r->hwm_load_kb = load_proc_kb(d.pid, "VmHWM:");
    long long rows = h_sql_int(&db, "SELECT count(*) FROM event");
    if (rc == 0 && rows != (long long)r->events) {
        fprintf(stderr, "bench_scale: %lld events stored of %zu sent\n", rows, r->events);
        rc = -1;
    }
    c = PQconnectdb(db.conninfo);
    if (rc == 0 && PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_scale: %s", PQerrorMessage(c));
        rc = -1;
    }
    if (rc == 0) {
        r->settle_s = settle(c);
        rc = r->settle_s < 0 ? -1 : 0;
    }

    /* (a) */
    fprintf(stderr, "bench_scale: %d persons: start-up\n", persons);
    double starts[RESTARTS] = {0};
    snprintf(r->plain.today, sizeof r->plain.today, "%s", H_TODAY);
    if (rc == 0) {
        count_due(c, &r->plain);
    }
    for (int i = 0; rc == 0 && i < RESTARTS; i++) {
        starts[i] = restart(&d, &db, NULL);
        rc = starts[i] < 0 ? -1 : 0;
    }
    qsort(starts, RESTARTS, sizeof *starts, cmp_double);
    r->start_ms = starts[RESTARTS / 2];

    /* (b) */
    for (size_t i = 0; rc == 0 && i < N_LATER; i++) {
        due_result_t *due = &r->later[i];
        fprintf(stderr, "bench_scale: %d persons: due check\n", persons);
        caseload_format_day(today + later_days[i], due->today);
        count_due(c, due);
        long long before = sql_ll(c, "SELECT coalesce(max(seq), 0) FROM outbox", NULL);
        due->start_ms = restart(&d, &db, due->today);
        due->check_ms = due->start_ms < 0 || due->due == 0 ? 0 : due_check_ms(&d);
        rc = due->start_ms < 0 || due->check_ms < 0 ? -1 : 0;
        char from[24];
        snprintf(from, sizeof from, "%lld", before);
        due->notices =
            sql_ll(c, "SELECT count(*) FROM outbox WHERE seq > $1 AND topic LIKE 'notice.%'", from);
    }

    /* (c) */
    if (rc == 0) {
        fprintf(stderr, "bench_scale: %d persons: snapshot\n", persons);
        rc = pushes_idle(d.ingest, 200, &r->idle);
        r->snap_ms = snapshot_ms(d.catchup, LEAD, &r->snap_items, d.ingest, &r->during);
        r->sql_ms = snapshot_sql_ms(c, LEAD, &r->sql_rows);
        r->stats_ms = statistics_ms(d.catchup);
        rc = rc != 0 || r->snap_ms < 0 || r->stats_ms < 0 ? -1 : 0;
    }

    /* (d), (e) */
    if (rc == 0) {
        sizes(c, r);
    }
    r->hwm_end_kb = load_proc_kb(d.pid, "VmHWM:");
    PQfinish(c);
    h_daemon_stop(&d, SIGTERM);

    /* (f), with the daemon stopped: the settling takes the writer's lock */
    if (rc == 0) {
        fprintf(stderr, "bench_scale: %d persons: group reviews\n", persons);
        rc = measure_groups(&db, persons, r);
    }
    return rc;
}

/* ---- the report -------------------------------------------------------- */

static void growth(double value, double first)
{
    if (first > 0 && value >= 0) {
        printf(" %8.2f", value / first);
    } else {
        printf(" %8s", "-");
    }
}

/* ---- (f) suggested group reviews ---- */

static int cmp_group_person(const void *pa, const void *pb)
{
    const jr_group_person_t *a = pa, *b = pb;
    return a->review_on != b->review_on ? (a->review_on < b->review_on ? -1 : 1)
                                        : strcmp(a->nhs, b->nhs);
}

/* The rules alone over every scheme's members (rows of lead, group_key,
 * nhs_number, review_on in scheme order), and the baseline sort. */
static void group_rules(const PGresult *res, result_t *r)
{
    int n = PQntuples(res);
    jr_group_person_t *all = calloc((size_t)n + 1, sizeof *all);
    jr_group_person_t *copy = calloc((size_t)n + 1, sizeof *copy);
    if (all == NULL || copy == NULL) {
        free(all);
        free(copy);
        return;
    }
    for (int i = 0; i < n; i++) {
        jr_day_t d = JR_DAY_NONE;
        jr_text_parse_date(PQgetvalue(res, i, 3), &d);
        all[i] = (jr_group_person_t){PQgetvalue(res, i, 2), d};
    }
    memcpy(copy, all, (size_t)n * sizeof *all);
    jr_schedule_rules_t rules;
    jr_schedule_rules_default(&rules);
    jr_day_t today;
    jr_text_parse_date(H_TODAY, &today);
    int64_t t0 = load_now_ns();
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && strcmp(PQgetvalue(res, j, 1), PQgetvalue(res, i, 1)) == 0 &&
               strcmp(PQgetvalue(res, j, 0), PQgetvalue(res, i, 0)) == 0) {
            j++;
        }
        jr_group_plan_t plan;
        if (jr_group_plan(all + i, (size_t)(j - i), NULL, 0, &rules, today, &plan) == 0) {
            jr_group_plan_clear(&plan);
        }
        i = j;
    }
    r->group_plan_ms = ms_since(t0);
    t0 = load_now_ns();
    qsort(copy, (size_t)n, sizeof *copy, cmp_group_person);
    r->group_sort_ms = ms_since(t0);
    free(all);
    free(copy);
}

static int measure_groups(const h_db_t *db, int persons, result_t *r)
{
    PGconn *c = PQconnectdb(db->conninfo);
    char schemes[24];
    snprintf(schemes, sizeof schemes, "%d", persons / 25 > 0 ? persons / 25 : 1);
    int rc = PQstatus(c) == CONNECTION_OK ? 0 : -1;
    PGresult *res = NULL;
    if (rc == 0) {
        const char *params[1] = {schemes};
        res = PQexecParams(c,
                           "UPDATE schedule SET group_key = 'scheme-' || (abs(hashtext("
                           "nhs_number)) % $1::int4) WHERE review_on IS NOT NULL AND lead IS "
                           "NOT NULL",
                           1, NULL, params, NULL, NULL, 0);
        r->group_persons = strtoll(PQcmdTuples(res), NULL, 10);
        rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
        PQclear(res);
        PQclear(PQexec(c, "ANALYZE schedule"));
    }
    /* Baseline: every member, in scheme and date order, by one query. */
    int64_t t0 = load_now_ns();
    res = rc == 0 ? PQexec(c, "SELECT lead, group_key, nhs_number, review_on::text FROM schedule "
                              "WHERE group_key IS NOT NULL ORDER BY lead, group_key, review_on, "
                              "nhs_number")
                  : NULL;
    r->group_sql_ms = ms_since(t0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        group_rules(res, r);
    } else {
        rc = -1;
    }
    PQclear(res);

    /* The daemon's own code, every scheme at once, rolled back. */
    jr_streams_t *streams = jr_streams_new_default();
    jr_store_pg_t *store = jr_store_pg_new(db->conninfo, NULL, 600000);
    jr_groups_touched_t touched = {0};
    jr_publications_t pubs = {0};
    if (rc == 0 && (streams == NULL || store == NULL ||
                    jr_store_pg_connect_wait(store, 60000) != JR_STORE_OK)) {
        fprintf(stderr, "bench_scale: groups: %s\n", store ? jr_store_pg_error(store) : "?");
        rc = -1;
    }
    res = rc == 0 ? PQexec(c, "SELECT DISTINCT lead, group_key FROM schedule WHERE group_key IS "
                              "NOT NULL")
                  : NULL;
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        jr_groups_touch(&touched, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    }
    PQclear(res);
    r->group_pairs = (long long)touched.n;
    uint64_t seq = 0;
    if (rc == 0 && (jr_store_pg_last_seq(store, &seq) != JR_STORE_OK ||
                    jr_store_pg_begin(store) != JR_STORE_OK)) {
        rc = -1;
    }
    if (rc == 0) {
        jr_batch_ctx_t ctx = {.streams = streams};
        jr_schedule_rules_default(&ctx.rules);
        jr_text_parse_date(H_TODAY, &ctx.today);
        size_t published = 0;
        t0 = load_now_ns();
        rc = jr_groups_settle(store, &ctx, &touched, &seq, &pubs, &published) == JR_STORE_OK ? 0
                                                                                             : -1;
        r->group_ms = ms_since(t0);
        r->group_published = (long long)published;
        if (rc != 0) {
            fprintf(stderr, "bench_scale: groups: %s\n", jr_store_pg_error(store));
        }
        jr_store_pg_rollback(store);
    }
    jr_publications_clear(&pubs);
    jr_groups_touched_clear(&touched);
    jr_store_pg_destroy(&store);
    jr_streams_destroy(&streams);
    PQfinish(c);
    return rc;
}

static void report(const result_t *r, size_t n)
{
    const result_t *f = &r[0];
    printf("\nload: 3 enrolments per person through %d DEALERs, window %d\n", SENDERS, WINDOW);
    printf("%10s %8s %10s %10s %10s %8s %12s\n", "persons", "x size", "events", "load s",
           "events/s", "x time", "then due s");
    for (size_t i = 0; i < n; i++) {
        printf("%10d", r[i].persons);
        growth(r[i].persons, f->persons);
        printf(" %10zu %10.1f %10.0f", r[i].events, r[i].load_s, (double)r[i].events / r[i].load_s);
        growth(r[i].load_s, f->load_s);
        printf(" %12.1f\n", r[i].settle_s);
    }

    printf("\n(a) start-up: SIGTERM, start, until \"ready\" (median of %d); baseline: "
           "count(*) of schedule due on %s\n",
           RESTARTS, H_TODAY);
    printf("%10s %8s %10s %8s | %10s %10s %8s\n", "persons", "x size", "start ms", "x time", "due",
           "count ms", "x time");
    for (size_t i = 0; i < n; i++) {
        printf("%10d", r[i].persons);
        growth(r[i].persons, f->persons);
        printf(" %10.1f", r[i].start_ms);
        growth(r[i].start_ms, f->start_ms);
        printf(" | %10lld %10.2f", r[i].plain.due, r[i].plain.count_ms);
        growth(r[i].plain.count_ms, f->plain.count_ms);
        printf("\n");
    }

    for (size_t k = 0; k < N_LATER; k++) {
        printf("\n(b) due check with --today %s (%d day%s on): its logged duration; "
               "baseline: count(*) of schedule due\n",
               f->later[k].today, later_days[k], later_days[k] == 1 ? "" : "s");
        printf("%10s %8s %10s %10s %10s %8s | %10s %10s %8s\n", "persons", "x size", "notices",
               "start ms", "check ms", "x time", "due", "count ms", "x time");
        for (size_t i = 0; i < n; i++) {
            const due_result_t *due = &r[i].later[k];
            double check = due->check_ms;
            printf("%10d", r[i].persons);
            growth(r[i].persons, f->persons);
            printf(" %10lld %10.1f %10.1f", due->notices, due->start_ms, check);
            growth(check, f->later[k].check_ms);
            printf(" | %10lld %10.2f", due->due, due->count_ms);
            growth(due->count_ms, f->later[k].count_ms);
            printf("\n");
        }
    }

    printf("\n(c) catch-up SNAPSHOT, lead %s (after the due checks); baseline: its rows by one "
           "SQL query\n",
           LEAD);
    printf("%10s %8s %10s %10s %10s %8s | %10s %10s %8s\n", "persons", "x size", "items", "ms",
           "items/s", "x time", "rows", "SQL ms", "x time");
    for (size_t i = 0; i < n; i++) {
        printf("%10d", r[i].persons);
        growth(r[i].persons, f->persons);
        printf(" %10lld %10.1f %10.0f", r[i].snap_items, r[i].snap_ms,
               (double)r[i].snap_items / (r[i].snap_ms / 1e3));
        growth(r[i].snap_ms, f->snap_ms);
        printf(" | %10lld %10.1f", r[i].sql_rows, r[i].sql_ms);
        growth(r[i].sql_ms, f->sql_ms);
        printf("\n");
    }

    printf("\n(c') ingest while that snapshot is answered: contributions pushed one at a time; "
           "baseline: 200 the same way with nothing else going on\n");
    printf("%10s | %8s %10s %10s | %8s %10s %10s\n", "persons", "pushed", "p50 ms", "max ms",
           "baseline", "p50 ms", "max ms");
    for (size_t i = 0; i < n; i++) {
        printf("%10d | %8d %10.2f %10.2f | %8d %10.2f %10.2f\n", r[i].persons, r[i].during.n,
               r[i].during.p50_ms, r[i].during.max_ms, r[i].idle.n, r[i].idle.p50_ms,
               r[i].idle.max_ms);
    }

    printf("\n(c2) a STATISTICS catch-up request (the statistics feed's figures)\n");
    printf("%10s %8s %10s %8s\n", "persons", "x size", "ms", "x time");
    for (size_t i = 0; i < n; i++) {
        printf("%10d", r[i].persons);
        growth(r[i].persons, f->persons);
        printf(" %10.1f", r[i].stats_ms);
        growth(r[i].stats_ms, f->stats_ms);
        printf("\n");
    }

    printf("\n(d) sizes in MB: pg_relation_size, pg_indexes_size, pg_total_relation_size "
           "(with TOAST)\n");
    printf("%-20s %10s %8s %9s %8s %9s %8s %9s %8s %9s\n", "relation", "persons", "x size", "heap",
           "x heap", "indexes", "x index", "total", "x total", "B/person");
    for (size_t t = 0; t < N_RELATIONS; t++) {
        for (size_t i = 0; i < n; i++) {
            printf("%-20s %10d", relations[t], r[i].persons);
            growth(r[i].persons, f->persons);
            printf(" %9.2f", (double)r[i].heap[t] / 1048576);
            growth((double)r[i].heap[t], (double)f->heap[t]);
            printf(" %9.2f", (double)r[i].indexes[t] / 1048576);
            growth((double)r[i].indexes[t], (double)f->indexes[t]);
            printf(" %9.2f", (double)r[i].total[t] / 1048576);
            growth((double)r[i].total[t], (double)f->total[t]);
            printf(" %9.0f\n", (double)r[i].total[t] / r[i].persons);
        }
    }

    printf("\n(e) the daemon's peak memory (VmHWM), MB: the process that took the load; the "
           "last one (month-on due check, snapshot, statistics)\n");
    printf("%10s %8s %10s %10s\n", "persons", "x size", "load", "last");
    for (size_t i = 0; i < n; i++) {
        printf("%10d", r[i].persons);
        growth(r[i].persons, f->persons);
        printf(" %10.1f %10.1f\n", (double)r[i].hwm_load_kb / 1024, (double)r[i].hwm_end_kb / 1024);
    }

    printf("\n(f) suggested group reviews, every scheme settled at once (about 25 people a "
           "scheme, all wanting a group review), by the daemon's code, rolled back; baselines: "
           "the members by one SQL query; the rules alone, and a qsort of the same persons\n");
    printf("%10s %8s %10s %8s %10s %10s %8s | %10s | %10s %10s\n", "persons", "x size", "lead+key",
           "want", "published", "settle ms", "x time", "SQL ms", "rules ms", "qsort ms");
    for (size_t i = 0; i < n; i++) {
        printf("%10d", r[i].persons);
        growth(r[i].persons, f->persons);
        printf(" %10lld %8lld %10lld %10.1f", r[i].group_pairs, r[i].group_persons,
               r[i].group_published, r[i].group_ms);
        growth(r[i].group_ms, f->group_ms);
        printf(" | %10.1f | %10.1f %10.1f\n", r[i].group_sql_ms, r[i].group_plan_ms,
               r[i].group_sort_ms);
    }
}

int main(int argc, char **argv)
{
    int sizes_default[] = {100000, 300000, 1000000};
    int persons[MAX_SIZES];
    size_t n = 0;
    for (int i = 1; i < argc && n < MAX_SIZES; i++) {
        persons[n] = atoi(argv[i]);
        if (persons[n] < 1) {
            fprintf(stderr, "usage: bench_scale [PERSONS ...]\n");
            return 2;
        }
        n++;
    }
    if (n == 0) {
        memcpy(persons, sizes_default, sizeof sizes_default);
        n = sizeof sizes_default / sizeof sizes_default[0];
    }
    result_t *r = calloc(n, sizeof *r);
    if (r == NULL) {
        return 1;
    }
    printf("bench_scale: persons");
    for (size_t i = 0; i < n; i++) {
        printf(" %d", persons[i]);
    }
    printf("; seed %u\n", CASELOAD_SEED);
    fflush(stdout);
    int rc = 0;
    size_t done = 0;
    for (; done < n; done++) {
        if (measure(persons[done], &r[done]) != 0) {
            rc = 1;
            break;
        }
    }
    if (done > 0) {
        report(r, done);
    }
    free(r);
    return rc;
}
