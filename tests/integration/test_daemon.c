/* test_daemon.c -- the real daemon, through its real sockets, on a real
 * (throwaway) PostgreSQL: acks, stored rows, published records, idempotent
 * resend, parking and un-parking, every kind of bad input, a restart with
 * nothing lost, losing the database connection, and rebuild equality. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "harness.h"
#include "jr_cunit.h"

#define T0   1790845200000LL /* 2026-10-01T09:00:00Z */
#define HOUR 3600000LL

#define ST_OK       JOINEDREVIEW__V1__ACK__STATUS__OK
#define ST_DUP      JOINEDREVIEW__V1__ACK__STATUS__DUPLICATE
#define ST_PARKED   JOINEDREVIEW__V1__ACK__STATUS__PARKED
#define ST_REJECTED JOINEDREVIEW__V1__ACK__STATUS__REJECTED
#define ST_RETRY    JOINEDREVIEW__V1__ACK__STATUS__RETRY_LATER

#define T(x) JOINEDREVIEW__V1__TOPIC__##x
#define R(x) JOINEDREVIEW__V1__ROLE__##x
#define P(x) JOINEDREVIEW__V1__PRIORITY__##x

/* One test's world: a database, a daemon, a dealer and a subscriber. */
typedef struct {
    h_db_t db;
    h_daemon_t d;
    void *dealer;
    void *sub;
} world_t;

static int world_up(world_t *w, const char *name, const char *const *extra)
{
    memset(w, 0, sizeof *w);
    if (h_db_create(&w->db, name) != 0 || h_daemon_start(&w->d, &w->db, extra) != 0) {
        return -1;
    }
    w->sub = h_sub(h_zctx, w->d.publish, "review");
    w->dealer = h_dealer(h_zctx, w->d.ingest);
    return 0;
}

static void sockets_down(world_t *w)
{
    if (w->dealer) {
        zmq_close(w->dealer);
    }
    if (w->sub) {
        zmq_close(w->sub);
    }
    w->dealer = w->sub = NULL;
}

static int world_down(world_t *w)
{
    sockets_down(w);
    return h_daemon_stop(&w->d, SIGTERM);
}

static const Joinedreview__V1__Area *area(const Joinedreview__V1__ConsolidatedReview *r, int n)
{
    return (r != NULL && r->n_areas == 9) ? r->areas[n - 1] : NULL;
}

/* ---- the happy path ---------------------------------------------------- */

static void test_contribution_acked_stored_published(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "happy", NULL) == 0);
    h_env_t e;
    h_enrolment(&e, "ICES", "ices-enrol-1", T0, H_NHS_A, NULL, "2026-01-05");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    h_contribution(&e, "ICES", "ices-1", T0 + HOUR, H_NHS_A, T(EQUIPMENT), R(STREAM_OFFICER),
                   P(AMBER), "Hoist serviced in September");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);

    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM event"), 2);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM outbox"), 2);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT version FROM consolidated_review"), 2);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT seq FROM consolidated_review"), 2);

    Joinedreview__V1__ConsolidatedReview *r1 = h_recv_review(w.sub, 3000);
    Joinedreview__V1__ConsolidatedReview *r2 = h_recv_review(w.sub, 3000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r2);
    CU_ASSERT_EQUAL(r1->sequence, 1);
    CU_ASSERT_EQUAL(r1->version, 1);
    CU_ASSERT_EQUAL(r2->sequence, 2);
    CU_ASSERT_EQUAL(r2->version, 2);
    CU_ASSERT_STRING_EQUAL(r2->nhs_number, H_NHS_A);
    CU_ASSERT_EQUAL(r2->cycle, 1);
    CU_ASSERT_EQUAL(r2->n_areas, 9);
    const Joinedreview__V1__Area *a8 = area(r2, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a8);
    CU_ASSERT_EQUAL(a8->n_statements, 1);
    CU_ASSERT_STRING_EQUAL(a8->statements[0]->working, "Hoist serviced in September");
    CU_ASSERT_STRING_EQUAL(a8->statements[0]->provenance->stream, "ICES");
    CU_ASSERT_EQUAL(a8->priority, P(AMBER));
    CU_ASSERT_EQUAL(r2->n_completeness, 1);
    CU_ASSERT_STRING_EQUAL(r2->completeness[0]->stream, "ICES");
    /* ICES needs EQUIPMENT, HEALTH, SAFETY, GOODS_SERVICES, INCOME, INFORMATION. */
    CU_ASSERT_EQUAL(r2->completeness[0]->n_covered, 1);
    CU_ASSERT_EQUAL(r2->completeness[0]->n_missing, 5);
    CU_ASSERT_FALSE(r2->ready_for_sign_off);

    /* The stored record is the published one, byte for byte, stored once:
     * in its outbox row, which the current record names. */
    size_t len = joinedreview__v1__consolidated_review__get_packed_size(r2);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT length(record) FROM review_record"), (long long)len);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM consolidated_review c JOIN outbox o "
                                     "ON o.seq = c.seq WHERE c.record IS NULL AND "
                                     "o.payload IS NOT NULL"),
                    1);
    joinedreview__v1__consolidated_review__free_unpacked(r1, NULL);
    joinedreview__v1__consolidated_review__free_unpacked(r2, NULL);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- idempotence -------------------------------------------------------- */

static void test_resend_is_duplicate(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "resend", NULL) == 0);
    h_env_t e;
    h_contribution(&e, "SC", "sc-1", T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), "Walking more");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_DUP);
    /* Same key, different content: still the first one counts. */
    e.contribution.working = "Something else";
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_DUP);
    /* Two copies in one burst (one batch). */
    h_contribution(&e, "SC", "sc-2", T0, H_NHS_A, T(SAFETY), R(PERSON), P(GREEN), "Safe");
    h_send(w.dealer, &e.env);
    h_send(w.dealer, &e.env);
    Joinedreview__V1__Ack *a = h_recv_ack(w.dealer, 5000);
    Joinedreview__V1__Ack *b = h_recv_ack(w.dealer, 5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(a->status + b->status, ST_OK + ST_DUP);
    joinedreview__v1__ack__free_unpacked(a, NULL);
    joinedreview__v1__ack__free_unpacked(b, NULL);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM event"), 2);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM outbox"), 2);
    char text[128] = "";
    h_sql_text(&w.db, "SELECT source_event_id FROM event ORDER BY id LIMIT 1", text, sizeof text);
    CU_ASSERT_STRING_EQUAL(text, "sc-1");
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- parking ------------------------------------------------------------ */

static void test_parked_until_enrolment_links(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "parking", NULL) == 0);
    h_env_t e;
    /* Access to Work knows the person only by NI number. */
    h_contribution(&e, "ATW", "atw-1", T0, NULL, T(EMPLOYMENT), R(STREAM_OFFICER), P(GREEN),
                   "Job coach twice a month");
    e.ids.ni_number = "AB 12 34 56 C";
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_PARKED);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM event WHERE nhs_number IS NULL"), 1);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM consolidated_review"), 0);
    /* Resending a parked event is harmless. */
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_DUP);

    /* The enrolment names both: the parked event joins the person. */
    h_enrolment(&e, "ATW", "atw-enrol-1", T0 + HOUR, H_NHS_A, "AB123456C", "2026-02-01");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM event WHERE nhs_number IS NULL"), 0);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM identity_link WHERE kind = 'NINO' "
                                     "AND value = 'AB123456C' AND nhs_number = '9434765919'"),
                    1);
    Joinedreview__V1__ConsolidatedReview *r = h_recv_review(w.sub, 3000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const Joinedreview__V1__Area *a5 = area(r, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a5);
    CU_ASSERT_EQUAL(a5->n_statements, 1);
    CU_ASSERT_EQUAL(a5->statements[0]->topic, T(EMPLOYMENT));
    CU_ASSERT_STRING_EQUAL(r->enrolled_streams[0], "ATW");
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);

    /* Later events by NI number alone go straight to the person. */
    h_contribution(&e, "ATW", "atw-2", T0 + 2 * HOUR, NULL, T(TRANSPORT), R(PERSON), P(RED), NULL);
    e.ids.ni_number = "AB123456C";
    e.contribution.not_working = "Taxi fares to work are too high";
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    /* ... and one that contradicts the link is rejected, not merged. */
    h_contribution(&e, "ATW", "atw-3", T0 + 2 * HOUR, H_NHS_B, T(TRANSPORT), R(PERSON), P(RED),
                   "x");
    e.ids.ni_number = "AB123456C";
    char code[64];
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, code), ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(code, "IDENTITY_CONFLICT");
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- bad input ---------------------------------------------------------- */

static void expect_reject(world_t *w, const Joinedreview__V1__Envelope *env, const char *want)
{
    char code[64] = "";
    int st = h_push(w->dealer, env, code);
    CU_ASSERT_EQUAL(st, ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(code, want);
    if (st != ST_REJECTED || strcmp(code, want) != 0) {
        fprintf(stderr, "expected %s, got status %d code %s\n", want, st, code);
    }
}

static void test_bad_input_rejected_with_reason(void)
{
    world_t w;
    const char *const extra[] = {"--set", "daemon.max_message_bytes=2048", NULL};
    CU_ASSERT_FATAL(world_up(&w, "badinput", extra) == 0);
    h_env_t e;

    /* Not a protobuf at all. */
    CU_ASSERT_EQUAL(zmq_send(w.dealer, "\xff\xff\xff\xff garbage", 13, 0), 13);
    Joinedreview__V1__Ack *ack = h_recv_ack(w.dealer, 5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ack);
    CU_ASSERT_EQUAL(ack->status, ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(ack->reason_code, "NOT_PROTOBUF");
    CU_ASSERT_PTR_NOT_NULL(ack->reason);
    joinedreview__v1__ack__free_unpacked(ack, NULL);

    /* Wrong frame count: two frames from a DEALER. */
    zmq_send(w.dealer, "a", 1, ZMQ_SNDMORE);
    zmq_send(w.dealer, "b", 1, 0);
    ack = h_recv_ack(w.dealer, 5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ack);
    CU_ASSERT_STRING_EQUAL(ack->reason_code, "BAD_FRAMES");
    joinedreview__v1__ack__free_unpacked(ack, NULL);

    /* Over the size cap. */
    static char big[3000];
    memset(big, 'a', sizeof big - 1);
    h_contribution(&e, "SC", "big", T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), big);
    expect_reject(&w, &e.env, "TOO_LARGE");

    h_contribution(&e, "SC", "v2", T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), "ok");
    e.env.schema_version = 2;
    expect_reject(&w, &e.env, "UNKNOWN_SCHEMA_VERSION");

    h_contribution(&e, "XX", "s1", T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), "ok");
    expect_reject(&w, &e.env, "UNKNOWN_STREAM");
    h_contribution(&e, "CPA", "s2", T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), "ok");
    expect_reject(&w, &e.env, "UNKNOWN_STREAM"); /* disabled by default */

    h_contribution(&e, "SC", "t1", T0, H_NHS_A, 99, R(PERSON), P(RED), "ok");
    expect_reject(&w, &e.env, "UNKNOWN_TOPIC");
    h_contribution(&e, "SC", "r1", T0, H_NHS_A, T(HEALTH), 42, P(RED), "ok");
    expect_reject(&w, &e.env, "UNKNOWN_ROLE");

    h_contribution(&e, "SC", NULL, T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), "ok");
    expect_reject(&w, &e.env, "MISSING_FIELD");
    h_contribution(&e, "SC", "m2", T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), "ok");
    e.env.has_occurred_at = 0;
    expect_reject(&w, &e.env, "MISSING_FIELD");
    h_contribution(&e, "SC", "m3", T0, NULL, T(HEALTH), R(PERSON), P(RED), "ok");
    expect_reject(&w, &e.env, "MISSING_IDENTIFIER");
    h_contribution(&e, "SC", "m4", T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), "ok");
    e.env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY__NOT_SET;
    expect_reject(&w, &e.env, "NO_BODY");

    h_contribution(&e, "SC", "n1", T0, H_NHS_BAD, T(HEALTH), R(PERSON), P(RED), "ok");
    expect_reject(&w, &e.env, "INVALID_NHS_NUMBER");
    h_contribution(&e, "SC", "n2", T0, "12345", T(HEALTH), R(PERSON), P(RED), "ok");
    expect_reject(&w, &e.env, "INVALID_NHS_NUMBER");
    h_contribution(&e, "ATW", "n3", T0, NULL, T(HEALTH), R(PERSON), P(RED), "ok");
    e.ids.ni_number = "DQ123456C";
    expect_reject(&w, &e.env, "INVALID_NI_NUMBER");

    h_enrolment(&e, "SC", "d1", T0, H_NHS_A, NULL, "2025-02-30");
    expect_reject(&w, &e.env, "IMPOSSIBLE_DATE");
    h_enrolment(&e, "SC", "d2", T0, H_NHS_A, NULL, "2025-13-01");
    expect_reject(&w, &e.env, "IMPOSSIBLE_DATE");
    h_enrolment(&e, "SC", "d3", T0, H_NHS_A, NULL, "2026-03-01");
    e.enrolment.ended_on = "2026-02-01";
    expect_reject(&w, &e.env, "IMPOSSIBLE_DATE");
    h_contribution(&e, "SC", "d4", 1000, H_NHS_A, T(HEALTH), R(PERSON), P(RED), "ok");
    expect_reject(&w, &e.env, "IMPOSSIBLE_TIME");
    h_contribution(&e, "SC", "d5", h_now_ms() + 400 * 24 * HOUR, H_NHS_A, T(HEALTH), R(PERSON),
                   P(RED), "ok");
    expect_reject(&w, &e.env, "IMPOSSIBLE_TIME");

    h_contribution(&e, "SC", "u1", T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), "caf\xc3\x28");
    expect_reject(&w, &e.env, "BAD_TEXT");
    static char longtext[1900];
    memset(longtext, 'b', sizeof longtext - 1);
    h_contribution(&e, "SC", "u2", T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), longtext);
    /* 1,899 bytes fits the frame cap but not a lowered text cap: see below. */
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);

    /* Every rejection is kept, with its raw bytes and reason. */
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM rejected_event"), 21);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM rejected_event WHERE "
                                     "length(raw) > 0 AND length(reason) > 20"),
                    21);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM event"), 1);
    CU_ASSERT_EQUAL(world_down(&w), 0);

    /* Text longer than max_text_bytes. */
    const char *const extra2[] = {"--set", "daemon.max_text_bytes=100", NULL};
    CU_ASSERT_FATAL(world_up(&w, "badtext", extra2) == 0);
    h_contribution(&e, "SC", "u3", T0, H_NHS_A, T(HEALTH), R(PERSON), P(RED), longtext);
    expect_reject(&w, &e.env, "TEXT_TOO_LONG");
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

static void test_bad_envelope_does_not_poison_batch(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "poison", NULL) == 0);
    h_env_t e;
    char seid[32];
    /* A burst: 50 good, with bad ones interleaved; all in few batches. */
    for (int i = 0; i < 60; i++) {
        snprintf(seid, sizeof seid, "b-%d", i);
        h_contribution(&e, "SC", seid, T0 + i, (i % 6 == 5) ? H_NHS_BAD : H_NHS_A, T(HEALTH),
                       R(CARER), P(GREEN), "ok");
        h_send(w.dealer, &e.env);
    }
    int ok = 0, rejected = 0;
    for (int i = 0; i < 60; i++) {
        Joinedreview__V1__Ack *ack = h_recv_ack(w.dealer, 5000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ack);
        ok += ack->status == ST_OK;
        rejected += ack->status == ST_REJECTED;
        joinedreview__v1__ack__free_unpacked(ack, NULL);
    }
    CU_ASSERT_EQUAL(ok, 50);
    CU_ASSERT_EQUAL(rejected, 10);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM event"), 50);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- durability ----------------------------------------------------------- */

static void test_restart_loses_nothing(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "restart", NULL) == 0);
    h_env_t e;
    char seid[32];
    for (int i = 0; i < 20; i++) {
        snprintf(seid, sizeof seid, "r-%d", i);
        h_contribution(&e, "SP", seid, T0 + i, i % 2 ? H_NHS_A : H_NHS_B, T(HOUSING), R(PERSON),
                       P(AMBER), "Tenancy going well");
        CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    }
    CU_ASSERT_EQUAL(world_down(&w), 0); /* SIGTERM: a clean exit */

    CU_ASSERT_FATAL(h_daemon_start(&w.d, &w.db, NULL) == 0);
    w.dealer = h_dealer(h_zctx, w.d.ingest);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM event"), 20);
    /* Resending everything after the restart changes nothing ... */
    for (int i = 0; i < 20; i++) {
        snprintf(seid, sizeof seid, "r-%d", i);
        h_contribution(&e, "SP", seid, T0 + i, i % 2 ? H_NHS_A : H_NHS_B, T(HOUSING), R(PERSON),
                       P(AMBER), "Tenancy going well");
        CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_DUP);
    }
    /* ... and new events continue the sequence without a gap. */
    h_contribution(&e, "SP", "r-new", T0 + 99, H_NHS_A, T(FAMILY), R(PERSON), P(GREEN), "ok");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM outbox"), 21);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT max(seq) FROM outbox"), 21);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT version FROM consolidated_review WHERE "
                                     "nhs_number = '9434765919'"),
                    11);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

static void test_database_connection_lost(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "dblost", NULL) == 0);
    h_env_t e;
    h_contribution(&e, "SC", "l-1", T0, H_NHS_A, T(INCOME), R(PERSON), P(GREEN), "Benefits ok");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    /* Cut the daemon's database session from the server side. */
    CU_ASSERT_EQUAL(h_sql_exec(&w.db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE application_name = 'joinedreviewd' "
                                      "AND datname = 'jr_dblost'"),
                    0);
    h_contribution(&e, "SC", "l-2", T0 + 1, H_NHS_A, T(INFORMATION), R(PERSON), P(GREEN), "ok");
    int st = h_push(w.dealer, &e.env, NULL);
    CU_ASSERT_EQUAL(st, ST_RETRY);
    /* The daemon stays up, reconnects, and the resend lands. */
    for (int i = 0; i < 50 && st != ST_OK; i++) {
        h_sleep_ms(100);
        st = h_push(w.dealer, &e.env, NULL);
    }
    CU_ASSERT_EQUAL(st, ST_OK);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM event"), 2);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT max(seq) FROM outbox"), 2);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- rebuild -------------------------------------------------------------- */

static void test_rebuild_equals_live(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "rebuild", NULL) == 0);
    h_env_t e;
    char seid[32];
    /* A mix: enrolments, contributions out of order, a parked event, a
     * review held (new cycle), conflicts. */
    h_enrolment(&e, "SC", "e1", T0, H_NHS_A, "AB123456C", "2026-01-01");
    h_push(w.dealer, &e.env, NULL);
    h_enrolment(&e, "DFG", "e2", T0, H_NHS_A, NULL, "2026-01-01");
    h_push(w.dealer, &e.env, NULL);
    for (int i = 0; i < 30; i++) {
        snprintf(seid, sizeof seid, "c-%d", i);
        h_contribution(&e, i % 3 ? "SC" : "DFG", seid, T0 + (30 - i) * HOUR,
                       i % 4 ? H_NHS_A : H_NHS_B, 1 + i % 18, 1 + i % 6, i % 4, "said");
        h_push(w.dealer, &e.env, NULL);
    }
    h_contribution(&e, "ATW", "p1", T0, NULL, T(EMPLOYMENT), R(PERSON), P(RED), "parked");
    e.ids.ni_number = "CE654321A";
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_PARKED);
    h_enrolment(&e, "ATW", "e3", T0, H_NHS_B, "CE654321A", "2026-01-01");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    h_review_held(&e, "SC", "held-1", T0 + 40 * HOUR, H_NHS_A, "2026-10-02");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    h_contribution(&e, "SC", "after", T0 + 50 * HOUR, H_NHS_A, T(HEALTH), R(PERSON), P(RED),
                   "new cycle");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT cycle FROM person WHERE nhs_number='9434765919'"), 2);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM consolidated_review"), 3);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM consolidated_review "
                                     "WHERE held_on = '2026-10-02'"),
                    1);
    CU_ASSERT_EQUAL(world_down(&w), 0);

    h_sql_exec(&w.db, "CREATE TABLE live AS SELECT c.nhs_number, c.cycle, c.version, c.seq, "
                      "v.record FROM consolidated_review c JOIN review_record v "
                      "USING (nhs_number, cycle)");
    h_sql_exec(&w.db, "CREATE TABLE live_schedule AS SELECT nhs_number, cycle, review_on, lead, "
                      "covered, separate_meetings, group_key FROM schedule");
    h_sql_exec(&w.db, "CREATE VIEW next_check AS SELECT nhs_number, next_check_on FROM schedule "
                      "WHERE next_check_on IS NOT NULL");
    h_sql_exec(&w.db, "CREATE TABLE live_check AS TABLE next_check");
    char out[512];
    const char *const rb[] = {"--rebuild", NULL};
    CU_ASSERT_EQUAL(h_daemon_run(&w.db, rb, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "rebuilt 3 consolidated reviews; 0 differed"));
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM live l JOIN consolidated_review c "
                                     "USING (nhs_number, cycle) JOIN review_record v "
                                     "USING (nhs_number, cycle) WHERE l.record = v.record AND "
                                     "l.version = c.version AND l.seq = c.seq"),
                    3);
    /* The schedule's rows as they were; each next check as it was, or
     * today where a notice has fallen due by today: rebuild does not read
     * which were decided, and leaves them to the due check. */
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM (SELECT * FROM live_schedule EXCEPT "
                                     "SELECT nhs_number, cycle, review_on, lead, covered, "
                                     "separate_meetings, group_key FROM schedule) x"),
                    0);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM schedule"), 2);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM next_check"),
                    h_sql_int(&w.db, "SELECT count(*) FROM live_check"));
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM live_check l JOIN next_check c "
                                     "USING (nhs_number) WHERE c.next_check_on = l.next_check_on "
                                     "OR c.next_check_on = (now() AT TIME ZONE 'UTC')::date"),
                    h_sql_int(&w.db, "SELECT count(*) FROM live_check"));

    /* A damaged record is found and repaired from the log. */
    h_sql_exec(&w.db, "UPDATE consolidated_review SET record = '\\x00' WHERE cycle = 2");
    CU_ASSERT_EQUAL(h_daemon_run(&w.db, rb, out, sizeof out), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "rebuilt 3 consolidated reviews; 1 differed"));
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM live l JOIN review_record v "
                                     "USING (nhs_number, cycle) WHERE l.record = v.record"),
                    3);
    CU_ASSERT_EQUAL(h_figures_differ(&w.db), 0);

    /* The daemon's first due check after it settles those due today, and
     * every next check is the live one again. */
    CU_ASSERT_EQUAL_FATAL(h_daemon_start(&w.d, &w.db, NULL), 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&w.d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM live_check"), 2);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM ((TABLE live_check EXCEPT TABLE "
                                     "next_check) UNION ALL (TABLE next_check EXCEPT "
                                     "TABLE live_check)) x"),
                    0);
}

/* ---- configuration ------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_config_reload_and_unknown_key(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/reload-%d.conf",
             getenv("JR_TEST_PGDIR") ? getenv("JR_TEST_PGDIR") : "/tmp", (int)getpid());
    write_file(path, "[daemon]\nlog_level = info\n");
    world_t w;
    const char *const extra[] = {"--config", path, NULL};
    CU_ASSERT_FATAL(world_up(&w, "reload", extra) == 0);
    h_env_t e;
    h_contribution(&e, "CPA", "cpa-1", T0, H_NHS_A, T(HEALTH), R(PERSON), P(AMBER), "ok");
    char code[64];
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, code), ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(code, "UNKNOWN_STREAM");

    /* A seventh stream is configuration: enable it and reload. */
    write_file(path, "[daemon]\nlog_level = info\n[stream.CPA]\nenabled = true\n");
    kill(w.d.pid, SIGHUP);
    int st = 0;
    for (int i = 0; i < 50 && st != ST_OK; i++) {
        h_sleep_ms(100);
        st = h_push(w.dealer, &e.env, NULL);
    }
    CU_ASSERT_EQUAL(st, ST_OK);

    /* A broken file on reload keeps the running configuration. */
    write_file(path, "[daemon]\nlog_levle = info\n");
    kill(w.d.pid, SIGHUP);
    h_sleep_ms(200);
    h_contribution(&e, "CPA", "cpa-2", T0, H_NHS_A, T(SAFETY), R(PERSON), P(AMBER), "ok");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL(world_down(&w), 0);

    /* ... and stops the daemon at start-up, naming the line. */
    char out[256];
    const char *const bad[] = {"--config", path, NULL};
    CU_ASSERT_EQUAL(h_daemon_run(&w.db, bad, out, sizeof out), 2);
    remove(path);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"contribution acked, stored, published", test_contribution_acked_stored_published},
        {"resend is a harmless duplicate", test_resend_is_duplicate},
        {"parked until an enrolment links it", test_parked_until_enrolment_links},
        {"bad input rejected with a reason and kept", test_bad_input_rejected_with_reason},
        {"one bad envelope does not poison its batch", test_bad_envelope_does_not_poison_batch},
        {"restart loses nothing", test_restart_loses_nothing},
        {"database connection lost: RETRY_LATER, then recovers", test_database_connection_lost},
        {"rebuild equals the live state byte for byte", test_rebuild_equals_live},
        {"SIGHUP reloads; an unknown key is an error", test_config_reload_and_unknown_key},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {
        {"daemon", h_suite_init, h_suite_clean, NULL, NULL, tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
