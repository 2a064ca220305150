/* test_faults.c -- nothing is lost when things break. A sender pushes a
 * bulk of events and resends whatever was not acknowledged, as every
 * adapter does, while (1) the daemon is killed with SIGKILL at several
 * random points and restarted, and (2) PostgreSQL is stopped for 10 s and
 * started again. A subscriber follows the published stream throughout, as
 * a dashboard would: live on the PUB socket, filling what it missed with
 * SINCE from the catch-up endpoint. Each ends by comparing the database and
 * the published stream with what was sent: every acknowledged event is
 * stored, every event exactly once, the consolidated reviews equal
 * --rebuild, and the subscriber holds every publication of the outbox, byte
 * for byte, most of them received live. Bounded in time.
 *
 * The faults strike at counts of acknowledged events, not after a time, so
 * they land in the middle of the push however fast the daemon is: each
 * test checks that events were still unanswered when the fault struck. */
#include <endian.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "harness.h"
#include "jr_client.h"
#include "jr_cunit.h"

#ifndef JR_PG_SCRIPT
#error "JR_PG_SCRIPT must name scripts/pg.sh"
#endif

#define T0            1790845200000LL
#define N_EVENTS      3000
#define N_PERSONS     100
#define ST_OK         JOINEDREVIEW__V1__ACK__STATUS__OK
#define ST_DUP        JOINEDREVIEW__V1__ACK__STATUS__DUPLICATE
#define ST_RETRY      JOINEDREVIEW__V1__ACK__STATUS__RETRY_LATER
#define MAXSEQ        20000 /* more publications than any test makes */
#define C_OK          JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK
#define C_UNAVAILABLE JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__UNAVAILABLE

/* A subscriber following the published stream across the faults, through
 * the client library: what it holds of each sequence number, and how it
 * came by it. */
typedef struct {
    jr_subscriber_t *sub;
    uint8_t *payload[MAXSEQ];
    size_t len[MAXSEQ];
    bool live[MAXSEQ]; /* received on the PUB socket (else filled by SINCE) */
    int n_live, n_filled;
} follower_t;

/* Keeps a publication's bytes under its sequence number. The library hands
 * each sequence over once: a repeat after a restart is dropped there. */
static int follower_keep(void *ctx, uint64_t seq, const char *topic, const uint8_t *data,
                         size_t len, int origin)
{
    follower_t *f = ctx;
    (void)topic;
    CU_ASSERT_FATAL(seq > 0 && seq < MAXSEQ);
    CU_ASSERT_PTR_NULL_FATAL(f->payload[seq]);
    f->payload[seq] = malloc(len ? len : 1);
    memcpy(f->payload[seq], data, len);
    f->len[seq] = len;
    f->live[seq] = origin == JR_SUBSCRIBER_LIVE;
    f->live[seq] ? f->n_live++ : f->n_filled++;
    return 0;
}

static void follower_start(follower_t *f, const char *publish, const char *catchup)
{
    memset(f, 0, sizeof *f);
    jr_subscriber_options_t o = {
        .publish_endpoint = publish, /* reconnects by itself across restarts */
        .catchup_endpoint = catchup,
        .zmq_context = h_zctx,
        .resume = true, /* from the first publication: the outbox is empty */
        /* SINCE only for a gap and at the end, never on its own while the
         * faults strike: the figures show what the live feed carried. */
        .probe_ms = -1,
        .on_publication = follower_keep,
        .ctx = f,
    };
    f->sub = jr_subscriber_new(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->sub);
    h_sleep_ms(300);
    /* Caught up before the push begins, so that what follows comes live. */
    CU_ASSERT_EQUAL(jr_subscriber_sync(f->sub), 0);
}

static void follower_stop(follower_t *f)
{
    jr_subscriber_destroy(&f->sub);
    for (size_t i = 0; i < MAXSEQ; i++) {
        free(f->payload[i]);
    }
}

/* Takes what the PUB socket has queued, filling any gap it shows. */
static void follower_drain(follower_t *f)
{
    int rc;
    while ((rc = jr_subscriber_poll(f->sub, 0)) > 0) {
    }
    CU_ASSERT_EQUAL(rc, 0);
}

/* The subscriber holds exactly the outbox: every sequence up to the newest,
 * each byte for byte, nothing beyond; and the live feed carried all but the
 * gaps the daemon's restarts opened. A restarted daemon publishes before a
 * subscriber's SUB has reconnected, and what it sent meanwhile (a batch or
 * two of the resent in-flight window: how much is a matter of timing) is
 * filled by SINCE: one run of consecutive sequence numbers per restart, and
 * at most one more at the end (the last publications, still in flight when
 * the final SINCE asked). Any other gap would be a fault of the live feed. */
static void follower_check(follower_t *f, const h_db_t *db, int restarts)
{
    follower_drain(f);
    long long newest = h_sql_int(db, "SELECT max(seq) FROM outbox");
    CU_ASSERT_FATAL(newest > 0 && newest < MAXSEQ);
    /* SINCE the last one it has, as the Clone pattern does at the end of a
     * quiet spell: a lost last publication leaves no gap to show. */
    CU_ASSERT_EQUAL(jr_subscriber_sync(f->sub), 0);
    CU_ASSERT_EQUAL((long long)jr_subscriber_sequence(f->sub), newest);
    PGconn *c = PQconnectdb(db->conninfo);
    PGresult *r = PQexecParams(c, "SELECT seq, payload FROM publication ORDER BY seq", 0, NULL,
                               NULL, NULL, NULL, 1);
    CU_ASSERT_EQUAL_FATAL(PQresultStatus(r), PGRES_TUPLES_OK);
    int same = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        uint64_t seq = be64toh(*(const uint64_t *)(const void *)PQgetvalue(r, i, 0));
        size_t len = (size_t)PQgetlength(r, i, 1);
        same += seq < MAXSEQ && f->payload[seq] != NULL && f->len[seq] == len &&
                memcmp(f->payload[seq], PQgetvalue(r, i, 1), len) == 0;
    }
    CU_ASSERT_EQUAL(same, newest);
    CU_ASSERT_EQUAL(PQntuples(r), newest);
    for (long long seq = newest + 1; seq < MAXSEQ; seq++) {
        CU_ASSERT_PTR_NULL_FATAL(f->payload[seq]); /* nothing the outbox does not have */
    }
    int runs = 0;
    for (long long seq = 1; seq <= newest && seq < MAXSEQ; seq++) {
        runs += f->payload[seq] != NULL && !f->live[seq] &&
                (seq == 1 || f->payload[seq - 1] == NULL || f->live[seq - 1]);
    }
    fprintf(stderr, "\n  live %d, filled %d in %d run(s) after %d restart(s)\n", f->n_live,
            f->n_filled, runs, restarts);
    CU_ASSERT(f->n_live > 0);
    CU_ASSERT(runs <= restarts + 1);
    PQclear(r);
    PQfinish(c);
}

/* The sender pushes as every adapter does, through the client library
 * (client/jr_client.h): each event is submitted once, and the client resends
 * what is not answered (the acks of a killed daemon are lost) and what is
 * answered RETRY_LATER. Which events have a final answer: */
typedef struct {
    jr_client_t *client;
    size_t window;
    int next; /* the next event to submit */
    bool done[N_EVENTS];
    bool acked_ok[N_EVENTS];
    int n_done;
    follower_t *f; /* drained as acks come in; NULL: none */
} sender_t;

static void on_outcome(void *ctx, const char *stream, const char *id, int status, const char *code,
                       const char *reason, void *user)
{
    sender_t *s = ctx;
    int i = (int)(intptr_t)user - 1;
    (void)stream;
    if (status == JR_CLIENT_OK || status == JR_CLIENT_DUPLICATE) {
        s->done[i] = true;
        s->acked_ok[i] = true;
        s->n_done++;
    } else if (status != JR_CLIENT_ABANDONED) {
        fprintf(stderr, "\n  %s: %s %s: %s\n", id, jr_client_status_name(status), code, reason);
    }
}

static void sender_start(sender_t *s, const char *ingest, size_t window, follower_t *f)
{
    memset(s, 0, sizeof *s);
    s->window = window;
    s->f = f;
    jr_client_options_t o = {.window = window,
                             .ack_timeout_ms = 2000,
                             .max_backoff_ms = 2000,
                             .on_outcome = on_outcome,
                             .ctx = s,
                             .zmq_context = h_zctx};
    s->client = jr_client_new(ingest, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s->client);
}

static void sender_stop(sender_t *s)
{
    CU_ASSERT_EQUAL(jr_client_pending(s->client), 0);
    jr_client_destroy(&s->client);
}

/* RETRY_LATER answers so far. */
static int n_retry(const sender_t *s)
{
    jr_client_stats_t st;
    jr_client_stats(s->client, &st);
    return (int)st.retry_later;
}

static void submit_event(sender_t *s, int i)
{
    char seid[32], nhs[11];
    snprintf(seid, sizeof seid, "f-%d", i);
    h_nhs_of(i % N_PERSONS, nhs);
    h_env_t e;
    h_contribution(&e, "SC", seid, T0 + i, nhs, 1 + i % 17, 1 + i % 6, i % 4, "fault test");
    CU_ASSERT_EQUAL(jr_client_submit(s->client, &e.env, (void *)(intptr_t)(i + 1)), 0);
}

/* Submits what is left (at most `window` in flight) and collects outcomes
 * for up to `ms`, or until `enough` events are done. */
static void pump_until(sender_t *s, int ms, int enough)
{
    int64_t until = h_now_ms() + ms;
    while (h_now_ms() < until && s->n_done < enough) {
        while (s->next < N_EVENTS && jr_client_pending(s->client) < s->window) {
            submit_event(s, s->next++);
        }
        if (s->f != NULL) {
            follower_drain(s->f);
        }
        CU_ASSERT_EQUAL(jr_client_poll(s->client, 200), 0);
    }
}

static void pump(sender_t *s, int ms)
{
    pump_until(s, ms, N_EVENTS);
}

static void check_store(const h_db_t *db, const sender_t *s)
{
    CU_ASSERT_EQUAL(s->n_done, N_EVENTS);
    CU_ASSERT_EQUAL(h_sql_int(db, "SELECT count(*) FROM event"), N_EVENTS);
    CU_ASSERT_EQUAL(h_sql_int(db, "SELECT count(DISTINCT source_event_id) FROM event"), N_EVENTS);
    /* Sequence numbers have no gap, and each record is its last publication. */
    CU_ASSERT_EQUAL(h_sql_int(db, "SELECT max(seq) - count(*) FROM outbox"), 0);
    CU_ASSERT_EQUAL(h_sql_int(db, "SELECT count(*) FROM consolidated_review"), N_PERSONS);
    CU_ASSERT_EQUAL(h_figures_differ(db), 0); /* what the statistics read, kept through it all */
    CU_ASSERT_EQUAL(h_sql_int(db, "SELECT count(*) FROM consolidated_review c JOIN outbox o "
                                  "ON o.seq = c.seq WHERE c.record IS NULL AND "
                                  "o.payload IS NOT NULL"),
                    N_PERSONS);
    h_sql_exec(db, "DROP TABLE IF EXISTS live");
    h_sql_exec(db, "CREATE TABLE live AS SELECT * FROM consolidated_review");
    char out[256];
    const char *const rb[] = {"--rebuild", NULL};
    CU_ASSERT_EQUAL(h_daemon_run(db, rb, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "0 differed"));
}

/* Whether every event acknowledged OK is in the event log. */
static bool acked_all_stored(const h_db_t *db, const sender_t *s)
{
    static bool stored[N_EVENTS];
    memset(stored, 0, sizeof stored);
    PGconn *c = PQconnectdb(db->conninfo);
    PGresult *r = PQexec(c, "SELECT source_event_id FROM event WHERE source_event_id LIKE 'f-%'");
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++) {
        int k = -1;
        if (sscanf(PQgetvalue(r, i, 0), "f-%d", &k) == 1 && k >= 0 && k < N_EVENTS) {
            stored[k] = true;
        }
    }
    PQclear(r);
    PQfinish(c);
    for (int i = 0; i < N_EVENTS; i++) {
        if (s->acked_ok[i] && !stored[i]) {
            return false;
        }
    }
    return true;
}

static void test_kill_9_at_random_points(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "kill9") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0);
    /* The restarted daemon listens where the first did, so the sender and
     * the subscriber reconnect by themselves. */
    char ingest[200], publish[200], catchup[200];
    snprintf(ingest, sizeof ingest, "daemon.ingest_endpoint=%s", d.ingest);
    snprintf(publish, sizeof publish, "daemon.publish_endpoint=%s", d.publish);
    snprintf(catchup, sizeof catchup, "daemon.catchup_endpoint=%s", d.catchup);
    const char *const same[] = {"--set", ingest, "--set", publish, "--set", catchup, NULL};
    static follower_t f;
    follower_start(&f, d.publish, d.catchup);
    static sender_t s;
    sender_start(&s, d.ingest, 500, &f);
    srand(20261125);
    for (int kill_round = 0; kill_round < 3; kill_round++) {
        /* Somewhere in this quarter of the push, with 500 in flight. */
        int at = N_EVENTS * kill_round / 4 + 1 + rand() % (N_EVENTS / 4);
        pump_until(&s, 60000, at);
        CU_ASSERT(s.n_done >= at && s.n_done < N_EVENTS);
        /* Every event acknowledged before the kill must be stored. */
        CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGKILL), 128 + SIGKILL);
        CU_ASSERT_TRUE(acked_all_stored(&db, &s));
        CU_ASSERT_FATAL(h_daemon_start(&d, &db, same) == 0);
    }
    pump(&s, 60000);
    sender_stop(&s);
    follower_check(&f, &db, 3);
    follower_stop(&f);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    check_store(&db, &s);
}

/* Sends one envelope and waits for its own ack, ignoring late acks of
 * earlier sends; the status, or 0 when none came within 10 s. A bare
 * DEALER: the test wants to see RETRY_LATER itself, which the client
 * library turns into resends. */
static int push_own(void *dealer, const Joinedreview__V1__Envelope *env)
{
    h_send(dealer, env);
    int64_t until = h_now_ms() + 10000;
    while (h_now_ms() < until) {
        Joinedreview__V1__Ack *ack = h_recv_ack(dealer, 500);
        if (ack == NULL) {
            continue;
        }
        int st = ack->source_event_id && strcmp(ack->source_event_id, env->source_event_id) == 0
                     ? (int)ack->status
                     : -1;
        joinedreview__v1__ack__free_unpacked(ack, NULL);
        if (st >= 0) {
            return st;
        }
    }
    return 0;
}

/* The status of a STATISTICS request to the catch-up endpoint (answered
 * from its own database session), or -1 when no answer came in 10 s. */
static int catchup_status(const char *endpoint)
{
    jr_subscriber_t *client = h_catchup_client(h_zctx, endpoint, NULL, NULL, NULL);
    Joinedreview__V1__CatchupReply *r = h_catchup(client, JR_SUBSCRIBER_ASK_STATISTICS, 10000);
    int st = r != NULL ? (int)r->status : -1;
    if (r != NULL) {
        joinedreview__v1__catchup_reply__free_unpacked(r, NULL);
    }
    jr_subscriber_destroy(&client);
    return st;
}

static int pg(const char *what)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s %s >/dev/null", JR_PG_SCRIPT, what,
             getenv("JR_TEST_PGDIR") ? getenv("JR_TEST_PGDIR") : "/tmp/jrpg");
    return system(cmd);
}

static void test_postgres_stopped_for_10_s(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "pgstop") == 0);
    const char *const extra[] = {"--set", "daemon.reconnect_max_ms=1000", NULL};
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, extra) == 0);
    static follower_t f;
    follower_start(&f, d.publish, d.catchup);
    static sender_t s;
    sender_start(&s, d.ingest, 200, &f);
    void *dealer = h_dealer(h_zctx, d.ingest); /* for one envelope's own ack */
    pump_until(&s, 60000, N_EVENTS / 3);
    CU_ASSERT(s.n_done < N_EVENTS);                   /* in the middle of the push */
    CU_ASSERT_EQUAL(catchup_status(d.catchup), C_OK); /* its session is open */
    CU_ASSERT_EQUAL_FATAL(pg("stop"), 0);
    int64_t stopped = h_now_ms();
    /* The daemon stays up and answers RETRY_LATER; catch-up says to ask
     * again. */
    h_env_t e;
    h_contribution(&e, "SC", "during-outage", T0, H_NHS_A, 6, 1, 1, "while down");
    CU_ASSERT_EQUAL(push_own(dealer, &e.env), ST_RETRY);
    CU_ASSERT_EQUAL(catchup_status(d.catchup), C_UNAVAILABLE);
    int retry_before = n_retry(&s);
    pump(&s, (int)(stopped + 10000 - h_now_ms()));
    CU_ASSERT(n_retry(&s) > retry_before); /* the sender kept trying, and was told to */
    CU_ASSERT(s.n_done < N_EVENTS);        /* acks of what was committed before, at most */
    CU_ASSERT_EQUAL(waitpid(d.pid, NULL, WNOHANG), 0); /* still running */
    CU_ASSERT_EQUAL_FATAL(pg("start"), 0);
    pump(&s, 60000);
    sender_stop(&s);
    int st = 0;
    for (int i = 0; i < 50 && st != ST_OK; i++) {
        st = push_own(dealer, &e.env);
        if (st != ST_OK) {
            h_sleep_ms(200);
        }
    }
    CU_ASSERT_EQUAL(st, ST_OK);
    zmq_close(dealer);
    CU_ASSERT_EQUAL(catchup_status(d.catchup), C_OK); /* a fresh session */
    follower_check(&f, &db, 0);
    follower_stop(&f);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    h_sql_exec(&db, "DELETE FROM event WHERE source_event_id = 'during-outage'");
    /* That one event's person is one of the 300 anyway (NHS_A is not). */
    h_sql_exec(&db, "DELETE FROM consolidated_review WHERE nhs_number = '9434765919'");
    h_sql_exec(&db, "DELETE FROM schedule WHERE nhs_number = '9434765919'");
    h_sql_exec(&db, "DELETE FROM outbox WHERE nhs_number = '9434765919'");
    h_sql_exec(&db, "DELETE FROM person WHERE nhs_number = '9434765919'");
    CU_ASSERT_EQUAL(s.n_done, N_EVENTS);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM event"), N_EVENTS);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(DISTINCT source_event_id) FROM event"), N_EVENTS);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM consolidated_review"), N_PERSONS);
}

/* Publications after `next`, each the one after the last. */
typedef struct {
    uint64_t next; /* the last one seen */
    bool ordered;
} in_order_t;

static int in_order(void *ctx, uint64_t seq, const char *topic, const uint8_t *data, size_t len,
                    int origin)
{
    in_order_t *o = ctx;
    (void)topic;
    (void)data;
    (void)len;
    o->ordered &= seq == o->next + 1 && origin == JR_SUBSCRIBER_REPLAY;
    o->next = seq;
    return 0;
}

/* A subscriber that stops reading: PUB drops what it cannot take, ingest
 * goes on at full speed, and the subscriber fills the hole from catch-up. */
static void test_dead_subscriber_never_blocks_ingest(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "deadsub") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0);
    /* A bare SUB with a tiny queue that is never read: the subscriber that
     * misbehaves, which the client library would not do. */
    void *sub = zmq_socket(h_zctx, ZMQ_SUB);
    int zero = 0, hwm = 10;
    zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "review", 6);
    zmq_connect(sub, d.publish);
    h_sleep_ms(300);
    static sender_t s;
    sender_start(&s, d.ingest, 500, NULL);
    pump(&s, 60000); /* nobody reads sub meanwhile */
    sender_stop(&s);
    CU_ASSERT_EQUAL(s.n_done, N_EVENTS);
    long long last = h_sql_int(&db, "SELECT max(seq) FROM outbox");
    CU_ASSERT(last >= N_PERSONS);
    /* It never read a thing (the PUB queued or dropped for it, never
     * waited); it comes back with an empty queue and catches up from where
     * it was, every publication in order. */
    zmq_close(sub);
    in_order_t seen = {0, true};
    jr_subscriber_options_t o = {.catchup_endpoint = d.catchup,
                                 .zmq_context = h_zctx,
                                 .resume = true,
                                 .resume_after = seen.next,
                                 .give_up_ms = 5000,
                                 .on_publication = in_order,
                                 .ctx = &seen};
    jr_subscriber_t *back = jr_subscriber_new(&o);
    CU_ASSERT_EQUAL(jr_subscriber_sync(back), 0);
    CU_ASSERT_TRUE(seen.ordered);
    CU_ASSERT_EQUAL((long long)seen.next, last); /* no gap, nothing missing */
    CU_ASSERT_EQUAL((long long)jr_subscriber_sequence(back), last);
    jr_subscriber_destroy(&back);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"kill -9 at random points, then resend: exactly once", test_kill_9_at_random_points},
        {"PostgreSQL stopped for 10 s: RETRY_LATER, nothing lost", test_postgres_stopped_for_10_s},
        {"a dead subscriber never blocks ingest and catches up",
         test_dead_subscriber_never_blocks_ingest},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"faults", h_suite_init, h_suite_clean, NULL, NULL, tests},
                             CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
