/* test_security.c -- only the right systems get in: CURVE on every socket,
 * a ZAP allow-list, stream rights judged per message from the authenticated
 * key, a pseudonymised feed without NHS numbers, and revocation on reload. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "harness.h"
#include "jr_cunit.h"

#define T0          1790845200000LL /* 2026-10-01T09:00:00Z */
#define ST_OK       JOINEDREVIEW__V1__ACK__STATUS__OK
#define ST_REJECTED JOINEDREVIEW__V1__ACK__STATUS__REJECTED
#define T(x)        JOINEDREVIEW__V1__TOPIC__##x
#define R(x)        JOINEDREVIEW__V1__ROLE__##x
#define P(x)        JOINEDREVIEW__V1__PRIORITY__##x

typedef struct {
    char pub[41];
    char sec[41];
} keypair_t;

static keypair_t g_server, g_ilf, g_stats, g_worker, g_stranger, g_analyst;
static char g_dir[256], g_allow[300], g_server_file[300], g_pseudo_file[300];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* A secret, readable by its owner alone, as `joinedreview keygen` writes it. */
static void write_secret(const char *path, const char *text)
{
    write_text(path, text);
    chmod(path, 0600);
}

/* Phase 1: an ILF adapter, a statistics dashboard, an analyst with the
 * pseudonymised feed and the review team. Phase 2: the ILF adapter and the
 * review team revoked; the stranger's key becomes a social care adapter. */
static void write_allow_list(int phase)
{
    char text[1200];
    if (phase == 1) {
        snprintf(text, sizeof text,
                 "[client.ilf-adapter]\npublic_key = %s\nstreams = ILF\n\n"
                 "[client.equipment-dashboard]\npublic_key = %s\nfeeds = statistics\n\n"
                 "[client.analyst]\npublic_key = %s\nfeeds = pseudonymised\n\n"
                 "[client.review-team]\npublic_key = %s\nfeeds = identifiable\n",
                 g_ilf.pub, g_stats.pub, g_analyst.pub, g_worker.pub);
    } else {
        snprintf(text, sizeof text,
                 "[client.equipment-dashboard]\npublic_key = %s\nfeeds = statistics\n\n"
                 "[client.analyst]\npublic_key = %s\nfeeds = pseudonymised\n\n"
                 "[client.sc-adapter]\npublic_key = %s\nstreams = SC\n",
                 g_stats.pub, g_analyst.pub, g_stranger.pub);
    }
    write_text(g_allow, text);
}

static int suite_init(void)
{
    if (h_suite_init() != 0) {
        return 1;
    }
    keypair_t *all[] = {&g_server, &g_ilf, &g_stats, &g_worker, &g_stranger, &g_analyst};
    for (size_t i = 0; i < 6; i++) {
        if (zmq_curve_keypair(all[i]->pub, all[i]->sec) != 0) {
            return 1;
        }
    }
    snprintf(g_dir, sizeof g_dir, "%s/security-%d",
             getenv("JR_TEST_PGDIR") ? getenv("JR_TEST_PGDIR") : "/tmp", (int)getpid());
    mkdir(g_dir, 0700);
    snprintf(g_allow, sizeof g_allow, "%s/allow.ini", g_dir);
    snprintf(g_server_file, sizeof g_server_file, "%s/server.key", g_dir);
    snprintf(g_pseudo_file, sizeof g_pseudo_file, "%s/pseudonym.key", g_dir);
    char text[256];
    snprintf(text, sizeof text, "public-key = \"%s\"\nsecret-key = \"%s\"\n", g_server.pub,
             g_server.sec);
    write_secret(g_server_file, text);
    write_secret(g_pseudo_file, "0123456789abcdef0123456789abcdef-not-a-real-secret");
    write_allow_list(1);
    return 0;
}

/* Polls one item until `until` (h_now_ms() time): 1 when it is ready. The
 * feeds carry statistics every second, so a drain stops at a deadline, not
 * at the first quiet spell. */
static int poll_until(zmq_pollitem_t *it, int64_t until)
{
    long left = (long)(until - h_now_ms());
    return left > 0 && zmq_poll(it, 1, left) > 0;
}

/* A socket that speaks CURVE with the given client key (NULL: plaintext). */
static void *curve_socket(int type, const keypair_t *client, const char *endpoint)
{
    void *s = zmq_socket(h_zctx, type);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    if (client != NULL) {
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, g_server.pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, client->pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, client->sec, 40);
    }
    if (type == ZMQ_SUB) {
        zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    }
    zmq_connect(s, endpoint);
    return s;
}

static int start(h_daemon_t *d, h_db_t *db)
{
    char key[400], allow[400], pseudo[400];
    snprintf(key, sizeof key, "daemon.server_key_file=%s", g_server_file);
    snprintf(allow, sizeof allow, "daemon.allow_list_file=%s", g_allow);
    snprintf(pseudo, sizeof pseudo, "daemon.pseudonym_key_file=%s", g_pseudo_file);
    const char *const extra[] = {
        "--set", "daemon.security=curve",          "--set", key, "--set", allow, "--set", pseudo,
        "--set", "daemon.statistics_interval_s=1", NULL};
    return h_daemon_start(d, db, extra);
}

static void contribution(h_env_t *e, const char *stream, const char *seid)
{
    h_contribution(e, stream, seid, T0, H_NHS_A, T(HEALTH), R(PERSON), P(AMBER),
                   "Walking to the shops again");
}

/* True when `needle` occurs anywhere in the bytes. */
static int contains(const void *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp((const char *)hay + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static void test_only_the_right_systems_get_in(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "security") == 0);
    CU_ASSERT_FATAL(start(&d, &db) == 0);

    /* Subscribers first (slow joiners). */
    void *worker_sub = curve_socket(ZMQ_SUB, &g_worker, d.publish);
    void *stats_on_identifiable = curve_socket(ZMQ_SUB, &g_stats, d.publish);
    void *stats_on_pseudonymised = curve_socket(ZMQ_SUB, &g_stats, d.pseudonymised);
    void *stats_sub = curve_socket(ZMQ_SUB, &g_stats, d.statistics);
    void *analyst_sub = curve_socket(ZMQ_SUB, &g_analyst, d.pseudonymised);
    void *stranger_sub = curve_socket(ZMQ_SUB, &g_stranger, d.pseudonymised);
    void *plain_sub = curve_socket(ZMQ_SUB, NULL, d.publish);
    h_sleep_ms(500);

    h_env_t e;
    /* An ILF adapter may speak for ILF ... */
    void *ilf = curve_socket(ZMQ_DEALER, &g_ilf, d.ingest);
    contribution(&e, "ILF", "ilf-1");
    CU_ASSERT_EQUAL(h_push(ilf, &e.env, NULL), ST_OK);
    /* ... and not for social care, whatever the envelope says. */
    contribution(&e, "SC", "sc-1");
    char code[64] = "";
    CU_ASSERT_EQUAL(h_push(ilf, &e.env, code), ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(code, "NOT_AUTHORISED");
    char reason[200] = "";
    h_sql_text(&db, "SELECT reason FROM rejected_event WHERE source_event_id = 'sc-1'", reason,
               sizeof reason);
    CU_ASSERT_PTR_NOT_NULL(strstr(reason, "not authorised for stream SC"));

    /* An unknown key and a plaintext client get nowhere. */
    void *stranger = curve_socket(ZMQ_DEALER, &g_stranger, d.ingest);
    contribution(&e, "ILF", "stranger-1");
    CU_ASSERT_EQUAL(h_push_timeout(stranger, &e.env, 1500), 0);
    void *plain = curve_socket(ZMQ_DEALER, NULL, d.ingest);
    contribution(&e, "ILF", "plain-1");
    CU_ASSERT_EQUAL(h_push_timeout(plain, &e.env, 1500), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM event"), 1);
    jr_subscriber_t *stranger_cu =
        h_catchup_client(h_zctx, d.catchup, g_server.pub, g_stranger.pub, g_stranger.sec);
    CU_ASSERT_PTR_NULL(h_catchup(stranger_cu, JR_SUBSCRIBER_ASK_STATISTICS, 1500));

    /* The review team sees the record with the NHS number. */
    Joinedreview__V1__ConsolidatedReview *r = h_recv_review(worker_sub, 3000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r->nhs_number, H_NHS_A);
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);

    /* The statistics dashboard joins neither the identifiable feed nor the
     * pseudonymised one: the same rule as catch-up applies to it below. It
     * reads the statistics feed. */
    CU_ASSERT_PTR_NULL(h_recv_review(stats_on_identifiable, 500));
    CU_ASSERT_PTR_NULL(h_recv_review(plain_sub, 200));
    CU_ASSERT_PTR_NULL(h_recv_review(stranger_sub, 200));
    zmq_pollitem_t nothing = {stats_on_pseudonymised, 0, ZMQ_POLLIN, 0};
    CU_ASSERT_EQUAL(zmq_poll(&nothing, 1, 1500), 0); /* not even statistics */
    char topic[32] = "";
    zmq_pollitem_t on_stats = {stats_sub, 0, ZMQ_POLLIN, 0};
    CU_ASSERT_EQUAL(zmq_poll(&on_stats, 1, 3000), 1);
    CU_ASSERT_EQUAL(zmq_recv(stats_sub, topic, sizeof topic - 1, 0), 10);
    CU_ASSERT_STRING_EQUAL(topic, "statistics");
    /* The analyst's pseudonymised feed never shows an NHS number or a
     * statement. */
    zmq_pollitem_t it = {analyst_sub, 0, ZMQ_POLLIN, 0};
    int got = 0;
    for (int64_t until = h_now_ms() + 1500; poll_until(&it, until);) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, analyst_sub, 0);
        CU_ASSERT_FALSE(contains(zmq_msg_data(&m), zmq_msg_size(&m), H_NHS_A));
        CU_ASSERT_FALSE(contains(zmq_msg_data(&m), zmq_msg_size(&m), "Walking"));
        if (zmq_msg_size(&m) > 20) {
            Joinedreview__V1__ConsolidatedReview *pr =
                joinedreview__v1__consolidated_review__unpack(NULL, zmq_msg_size(&m),
                                                              zmq_msg_data(&m));
            if (pr != NULL && pr->nhs_number != NULL) {
                CU_ASSERT_EQUAL(strlen(pr->nhs_number), 64);
                got++;
            }
            if (pr != NULL) {
                joinedreview__v1__consolidated_review__free_unpacked(pr, NULL);
            }
        }
        zmq_msg_close(&m);
    }
    CU_ASSERT_EQUAL(got, 1);
    /* Catch-up: statistics yes, records no. */
    jr_subscriber_t *stats_cu =
        h_catchup_client(h_zctx, d.catchup, g_server.pub, g_stats.pub, g_stats.sec);
    Joinedreview__V1__CatchupReply *rep = h_catchup(stats_cu, JR_SUBSCRIBER_ASK_STATISTICS, 3000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
    CU_ASSERT_EQUAL(rep->status, JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK);
    CU_ASSERT_PTR_NOT_NULL(rep->statistics);
    joinedreview__v1__catchup_reply__free_unpacked(rep, NULL);
    rep = h_catchup(stats_cu, JR_SUBSCRIBER_ASK_SNAPSHOT, 3000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
    CU_ASSERT_EQUAL(rep->status, JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__BAD_REQUEST);
    CU_ASSERT_EQUAL(rep->n_items, 0);
    joinedreview__v1__catchup_reply__free_unpacked(rep, NULL);

    /* Revoking the ILF adapter's key on reload cuts it off at once, on its
     * open connection, and it cannot connect again. */
    write_allow_list(2);
    kill(d.pid, SIGHUP);
    h_sleep_ms(300);
    contribution(&e, "ILF", "ilf-2");
    CU_ASSERT_EQUAL(h_push(ilf, &e.env, code), ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(code, "NOT_AUTHORISED");
    void *ilf_again = curve_socket(ZMQ_DEALER, &g_ilf, d.ingest);
    contribution(&e, "ILF", "ilf-3");
    CU_ASSERT_EQUAL(h_push_timeout(ilf_again, &e.env, 1500), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM event"), 1);

    /* The review team was revoked too: its subscription is cut off. The
     * analyst, still allowed, is dropped with everyone else on that feed
     * and reconnects by itself within seconds (a subscriber fills any gap
     * by catch-up); keep publishing until it is back. */
    void *sc = curve_socket(ZMQ_DEALER, &g_stranger, d.ingest);
    it.socket = analyst_sub;
    got = 0;
    int pushed_ok = 0;
    for (int round = 0; round < 15 && got == 0; round++) {
        char seid[16];
        snprintf(seid, sizeof seid, "sc-%d", round + 2);
        contribution(&e, "SC", seid);
        e.env.occurred_at += round;
        pushed_ok += h_push(sc, &e.env, NULL) == ST_OK;
        for (int64_t until = h_now_ms() + 1000; poll_until(&it, until);) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            zmq_msg_recv(&m, analyst_sub, 0);
            CU_ASSERT_FALSE(contains(zmq_msg_data(&m), zmq_msg_size(&m), H_NHS_A));
            got += zmq_msg_size(&m) > 20;
            zmq_msg_close(&m);
        }
    }
    CU_ASSERT_TRUE(pushed_ok > 0);
    CU_ASSERT_TRUE(got > 0);
    CU_ASSERT_PTR_NULL(h_recv_review(worker_sub, 500));
    zmq_close(sc);

    void *socks[] = {worker_sub,
                     stats_on_identifiable,
                     stats_on_pseudonymised,
                     stats_sub,
                     analyst_sub,
                     stranger_sub,
                     plain_sub,
                     ilf,
                     stranger,
                     plain,
                     ilf_again};
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++) {
        zmq_close(socks[i]);
    }
    jr_subscriber_destroy(&stranger_cu);
    jr_subscriber_destroy(&stats_cu);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* Every identifier pushed inside a free-form field, in every way a back
 * office writes it. */
static const char *const g_identifiers[] = {
    "9434765919", "943 476 5919",  "943-476-5919", "9434765870",
    "AB123456C",  "AB 12 34 56 C", "SC-77-12",     "Ms Ada Lovelace",
};

/* Counts a record and notes when its statements happened. */
static int note_record(const uint8_t *data, size_t len, int64_t *occurred_at_seen)
{
    Joinedreview__V1__ConsolidatedReview *r =
        joinedreview__v1__consolidated_review__unpack(NULL, len, data);
    int records = 0;
    if (r != NULL && r->n_areas == 9) {
        records++;
        for (size_t a = 0; a < r->n_areas; a++) {
            for (size_t k = 0; k < r->areas[a]->n_statements; k++) {
                *occurred_at_seen = r->areas[a]->statements[k]->provenance->occurred_at;
            }
        }
    }
    if (r != NULL) {
        joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
    }
    return records;
}

/* Reads every message the socket has within ms (publications, or catch-up
 * replies when catchup); fails the test on any identifier in it. Returns the
 * number of records seen. */
static int drain_without_identifiers(void *sock, int ms, bool catchup, int64_t *occurred_at_seen)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    int records = 0;
    for (int64_t until = h_now_ms() + ms; poll_until(&it, until);) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, sock, 0);
        for (size_t i = 0; i < sizeof g_identifiers / sizeof *g_identifiers; i++) {
            CU_ASSERT_FALSE(contains(zmq_msg_data(&m), zmq_msg_size(&m), g_identifiers[i]));
        }
        if (!catchup) {
            records += zmq_msg_size(&m) > 40
                           ? note_record(zmq_msg_data(&m), zmq_msg_size(&m), occurred_at_seen)
                           : 0;
        } else {
            Joinedreview__V1__CatchupReply *rep =
                joinedreview__v1__catchup_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
            for (size_t i = 0; rep != NULL && i < rep->n_items; i++) {
                if (strcmp(rep->items[i]->topic, "review") == 0) {
                    records += note_record(rep->items[i]->payload.data, rep->items[i]->payload.len,
                                           occurred_at_seen);
                }
            }
            if (rep != NULL) {
                joinedreview__v1__catchup_reply__free_unpacked(rep, NULL);
            }
        }
        zmq_msg_close(&m);
    }
    return records;
}

/* Nothing a sender wrote freely reaches the pseudonymised feed, live or by
 * catch-up: identifiers pushed in every free-form field are nowhere in it. */
static void test_pseudonymised_feed_carries_no_identifier(void)
{
    char allow[600];
    snprintf(allow, sizeof allow,
             "[client.any-adapter]\npublic_key = %s\nstreams = ALL\n\n"
             "[client.analyst]\npublic_key = %s\nfeeds = pseudonymised statistics\n",
             g_stranger.pub, g_stats.pub);
    write_text(g_allow, allow);
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "pseudofree") == 0);
    CU_ASSERT_FATAL(start(&d, &db) == 0);
    void *sub = curve_socket(ZMQ_SUB, &g_stats, d.pseudonymised);
    h_sleep_ms(500);
    void *adapter = curve_socket(ZMQ_DEALER, &g_stranger, d.ingest);
    h_env_t e;
    /* T0 is 2026-10-01T09:00:00Z; a sender may pick any millisecond. */
    const int64_t at = T0 + 9434765LL;
    h_enrolment(&e, "SC", "sc-9434765919-e1", at, H_NHS_A, "AB 12 34 56 C", "2026-01-05");
    e.ids.local_id = "SC-77-12";
    e.enrolment.stream_reference = "award for 943 476 5919 (Ms Ada Lovelace)";
    e.enrolment.known_as = "Ms Ada Lovelace";
    e.enrolment.group_key = "AB123456C";
    CU_ASSERT_EQUAL(h_push(adapter, &e.env, NULL), ST_OK);
    h_contribution(&e, "SC", "sc-9434765870-c1", at, H_NHS_A, T(HEALTH), R(CARER), P(RED),
                   "Ms Ada Lovelace, 943-476-5919, walks again");
    e.contribution.not_working = "her NI number AB123456C is on the letter";
    e.contribution.author_name = "9434765870";
    CU_ASSERT_EQUAL(h_push(adapter, &e.env, NULL), ST_OK);
    h_plan_revision(&e, "SC", "sc-AB123456C-p1", at, H_NHS_A, "2026-12-01", "Ms Ada Lovelace");
    e.plan.approver = "9434765919";
    CU_ASSERT_EQUAL(h_push(adapter, &e.env, NULL), ST_OK);
    /* How the person wants their review, and the names streams know them
     * by, with identifiers in every free-form field: only the way and the
     * needs reach the pseudonymised copies. */
    h_preferences(&e, "SC", "sc-pref-1", at, H_NHS_A,
                  JOINEDREVIEW__V1__REVIEW_WAY__WAY_WITH_OTHERS, "Ms Ada Lovelace");
    h_need(&e, JOINEDREVIEW__V1__NEED__NEED_OTHER_LANGUAGE);
    char *involve[] = {"9434765870", "AB 12 34 56 C"};
    e.preferences.involve = involve;
    e.preferences.n_involve = 2;
    e.preferences.where = "943 476 5919's flat";
    e.preferences.language = "SC-77-12";
    CU_ASSERT_EQUAL(h_push(adapter, &e.env, NULL), ST_OK);
    h_budget(&e, "SC", "sc-budget-1", at, H_NHS_A, "2026-04-01", "2027-03-31", "9434765919",
             "9434765870");
    CU_ASSERT_EQUAL(h_push(adapter, &e.env, NULL), ST_OK);
    h_contribution(&e, "ATW", "atw-SC-77-12", at, NULL, T(EMPLOYMENT), R(PERSON), P(GREEN),
                   "via local id");
    e.ids.local_id = "SC-77-12"; /* another stream's client id: parked, never published */
    h_push(adapter, &e.env, NULL);

    int64_t occurred = 0;
    CU_ASSERT_EQUAL(drain_without_identifiers(sub, 1500, false, &occurred), 5);
    /* When it happened: the day only. */
    CU_ASSERT_EQUAL(occurred, 1790812800000LL); /* 2026-10-01T00:00:00Z */

    /* The same by catch-up: a snapshot and everything since 0. The requests
     * are built by hand and the replies read as raw frames, not through the
     * client library: what is checked is every byte on the wire. */
    void *cu = curve_socket(ZMQ_DEALER, &g_stats, d.catchup);
    for (int kind = 1; kind <= 2; kind++) {
        Joinedreview__V1__CatchupRequest req = JOINEDREVIEW__V1__CATCHUP_REQUEST__INIT;
        req.has_kind = 1;
        req.kind = kind;
        req.has_after_sequence = kind == 2;
        uint8_t buf[64];
        zmq_send(cu, buf, joinedreview__v1__catchup_request__pack(&req, buf), 0);
        occurred = 0;
        /* The snapshot has the current record; SINCE 0 all five versions. */
        CU_ASSERT_EQUAL(drain_without_identifiers(cu, 1500, true, &occurred), kind == 1 ? 1 : 5);
        CU_ASSERT_EQUAL(occurred, 1790812800000LL);
    }
    void *socks[] = {sub, adapter, cu};
    for (size_t i = 0; i < 3; i++) {
        zmq_close(socks[i]);
    }
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    write_allow_list(1);
}

static void test_curve_needs_keys(void)
{
    h_db_t db;
    CU_ASSERT_FATAL(h_db_create(&db, "securitykeys") == 0);
    char out[256];
    const char *const extra[] = {"--set", "daemon.security=curve", NULL};
    CU_ASSERT_EQUAL(h_daemon_run(&db, extra, out, sizeof out), 1);
}

/* A secret key others can read is refused, as ssh and PostgreSQL refuse
 * theirs, with the command that fixes it. */
static void test_secret_readable_by_others_refused(void)
{
    h_db_t db;
    CU_ASSERT_FATAL(h_db_create(&db, "securitymodes") == 0);
    char key[400], allow[400], pseudo[400], out[2048];
    snprintf(key, sizeof key, "daemon.server_key_file=%s", g_server_file);
    snprintf(allow, sizeof allow, "daemon.allow_list_file=%s", g_allow);
    snprintf(pseudo, sizeof pseudo, "daemon.pseudonym_key_file=%s", g_pseudo_file);
    const char *const extra[] = {
        "--set", "daemon.security=curve", "--set", key, "--set", allow, "--set",
        pseudo,  "--check-config",        NULL};
    char want[1024];

    chmod(g_server_file, 0644);
    CU_ASSERT_EQUAL(h_daemon_run_logged(&db, extra, out, sizeof out), 1);
    snprintf(want, sizeof want,
             "%s is open to every user (mode 0644): a secret must be readable by its owner "
             "alone; run 'chmod 600 %s' (or pass it as a systemd credential)",
             g_server_file, g_server_file);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
    chmod(g_server_file, 0600);

    chmod(g_pseudo_file, 0640);
    CU_ASSERT_EQUAL(h_daemon_run_logged(&db, extra, out, sizeof out), 1);
    snprintf(want, sizeof want,
             "%s is open to its group (mode 0640): a secret must be readable by its owner "
             "alone; run 'chmod 600 %s' (or pass it as a systemd credential)",
             g_pseudo_file, g_pseudo_file);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
    chmod(g_pseudo_file, 0600);

    /* Owner-only secrets pass. */
    CU_ASSERT_EQUAL(h_daemon_run_logged(&db, extra, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "secrets: readable, owner only"));
}

/* The same database as another login. */
static h_db_t as_user(const h_db_t *db, const char *user)
{
    h_db_t other = *db;
    snprintf(other.conninfo, sizeof other.conninfo, "host=%s user=%s dbname=%s",
             getenv("JR_TEST_PGDIR") ? getenv("JR_TEST_PGDIR") : "/tmp/jrpg", user, db->name);
    return other;
}

static void test_least_privilege(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "privilege") == 0);
    /* What the DBA does once per cluster: the group roles (migration 004
     * also creates them when it may) and a login in each. */
    CU_ASSERT_EQUAL(h_sql_exec(&db,
                               "DO $$ BEGIN "
                               "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                               "'joinedreview_app') THEN CREATE ROLE joinedreview_app; END IF; "
                               "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                               "'joinedreview_reader') THEN CREATE ROLE joinedreview_reader; "
                               "END IF; "
                               "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                               "'jr_test_daemon') THEN CREATE ROLE jr_test_daemon LOGIN IN "
                               "ROLE joinedreview_app; END IF; "
                               "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                               "'jr_test_analyst') THEN CREATE ROLE jr_test_analyst LOGIN IN "
                               "ROLE joinedreview_reader; END IF; END $$"),
                    0);
    h_db_t daemon_db = as_user(&db, "jr_test_daemon");
    char owner[600];
    snprintf(owner, sizeof owner, "daemon.database_owner=%s", db.conninfo);
    const char *const extra[] = {"--set", owner, NULL};
    CU_ASSERT_FATAL(h_daemon_start(&d, &daemon_db, extra) == 0);
    void *zctx = zmq_ctx_new();
    void *dealer = h_dealer(zctx, d.ingest);
    h_env_t e;
    contribution(&e, "SC", "sc-1");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    zmq_close(dealer);
    zmq_ctx_term(zctx);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM event"), 1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM pg_tables WHERE tablename = 'event' "
                                   "AND tableowner = 'postgres'"),
                    1);

    /* The daemon's login writes rows but cannot change the schema. */
    CU_ASSERT_EQUAL(h_sql_int(&daemon_db, "SELECT count(*) FROM event"), 1);
    CU_ASSERT_NOT_EQUAL(h_sql_exec(&daemon_db, "DROP TABLE event"), 0);
    CU_ASSERT_NOT_EQUAL(h_sql_exec(&daemon_db, "ALTER TABLE event ADD COLUMN x integer"), 0);
    CU_ASSERT_NOT_EQUAL(h_sql_exec(&daemon_db, "CREATE TABLE scratch (x integer)"), 0);
    CU_ASSERT_NOT_EQUAL(h_sql_exec(&daemon_db, "TRUNCATE event"), 0);
    /* The analyst reads the reporting views and nothing else. */
    h_db_t analyst = as_user(&db, "jr_test_analyst");
    CU_ASSERT_EQUAL(h_sql_int(&analyst, "SELECT count(*) FROM report_current_review"), 1);
    CU_ASSERT_EQUAL(h_sql_int(&analyst, "SELECT count(*) FROM event"), -1);
    CU_ASSERT_EQUAL(h_sql_int(&analyst, "SELECT count(*) FROM consolidated_review"), -1);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"only the right systems get in", test_only_the_right_systems_get_in},
        {"CURVE without keys refuses to start", test_curve_needs_keys},
        {"the pseudonymised feed carries no identifier",
         test_pseudonymised_feed_carries_no_identifier},
        {"a secret others can read is refused", test_secret_readable_by_others_refused},
        {"least privilege in PostgreSQL", test_least_privilege},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"security", suite_init, h_suite_clean, NULL, NULL, tests},
                             CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
