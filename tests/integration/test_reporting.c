/* test_reporting.c -- statistics on request and on the PUB socket, and the
 * reporting views an analyst points a BI tool at, with literal figures. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "harness.h"
#include "jr_cunit.h"

#define T0    1790845200000LL /* 2026-10-01T09:00:00Z */
#define ST_OK JOINEDREVIEW__V1__ACK__STATUS__OK
#define T(x)  JOINEDREVIEW__V1__TOPIC__##x
#define R(x)  JOINEDREVIEW__V1__ROLE__##x
#define P(x)  JOINEDREVIEW__V1__PRIORITY__##x

/* Two people: A in SC (due 2026-10-15) and ICES, with a red-green conflict
 * in area 8 and complete ICES information; B in SP only (due 2027-01-20). */
static void push_population(void *dealer)
{
    h_env_t e;
    h_enrolment(&e, "SC", "sc-e", T0, H_NHS_A, NULL, "2026-08-20");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    h_enrolment(&e, "ICES", "ices-e", T0, H_NHS_A, NULL, "2025-12-01");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    h_enrolment(&e, "SP", "sp-e", T0, H_NHS_B, NULL, "2026-01-20");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    static const int ices[] = {T(EQUIPMENT),      T(HEALTH), T(SAFETY),
                               T(GOODS_SERVICES), T(INCOME), T(INFORMATION)};
    char seid[32];
    for (size_t i = 0; i < sizeof ices / sizeof ices[0]; i++) {
        snprintf(seid, sizeof seid, "ices-%zu", i);
        h_contribution(&e, "ICES", seid, T0 + 1000 * (int64_t)i, H_NHS_A, ices[i],
                       R(STREAM_OFFICER), ices[i] == T(EQUIPMENT) ? P(GREEN) : P(NOT_GIVEN),
                       "in place");
        CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    }
    h_contribution(&e, "SC", "sc-1", T0 + 9000, H_NHS_A, T(HOUSING), R(CARER), P(RED), "ramp");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    h_contribution(&e, "SP", "sp-1", T0 + 9000, H_NHS_B, T(HOUSING), R(PERSON), P(AMBER), "flat");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
}

static bool keep_reply(void *arg, Joinedreview__V1__CatchupReply *reply)
{
    Joinedreview__V1__CatchupReply **kept = arg;
    if (*kept != NULL) {
        return false; /* statistics come in one reply */
    }
    *kept = reply;
    return true;
}

static Joinedreview__V1__CatchupReply *ask_statistics(const char *endpoint)
{
    jr_subscriber_t *client = h_catchup_client(h_zctx, endpoint, NULL, NULL, NULL);
    jr_subscriber_request_t req = {.kind = JR_SUBSCRIBER_ASK_STATISTICS, .request_id = "stats-1"};
    Joinedreview__V1__CatchupReply *reply = NULL;
    (void)jr_subscriber_ask(client, &req, keep_reply, &reply, 5000);
    jr_subscriber_destroy(&client);
    return reply;
}

static const Joinedreview__V1__StreamStatistics *
stream_stats(const Joinedreview__V1__Statistics *st, const char *code)
{
    for (size_t i = 0; i < st->n_streams; i++) {
        if (strcmp(st->streams[i]->stream, code) == 0) {
            return st->streams[i];
        }
    }
    return NULL;
}

/* The next publication on a SUB subscribed to "statistics", within 5 s:
 * NULL when none came or it was not one. */
static Joinedreview__V1__Statistics *recv_statistics(void *sub)
{
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 5000) <= 0) {
        return NULL;
    }
    char topic[32] = "";
    int n = zmq_recv(sub, topic, sizeof topic - 1, 0);
    topic[n > 0 ? n : 0] = '\0';
    zmq_msg_t m;
    zmq_msg_init(&m);
    zmq_msg_recv(&m, sub, 0);
    Joinedreview__V1__Statistics *st =
        strcmp(topic, "statistics") == 0
            ? joinedreview__v1__statistics__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m))
            : NULL;
    zmq_msg_close(&m);
    return st;
}

static void test_statistics_and_views(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "reporting") == 0);
    const char *const extra[] = {"--set", "daemon.statistics_interval_s=1", NULL};
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, extra) == 0);
    void *sub = h_sub(h_zctx, d.publish, "statistics");
    void *dealer = h_dealer(h_zctx, d.ingest);
    push_population(dealer);

    /* On request. Today is 2026-10-02: A's review (2026-10-15) is due within
     * 28 days, led by SC, covering ICES and SC; B's (2027-01-20) is not. */
    Joinedreview__V1__CatchupReply *reply = ask_statistics(d.catchup);
    CU_ASSERT_PTR_NOT_NULL_FATAL(reply);
    CU_ASSERT_STRING_EQUAL(reply->request_id, "stats-1");
    CU_ASSERT_EQUAL(reply->status, JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK);
    CU_ASSERT_TRUE(reply->last);
    const Joinedreview__V1__Statistics *st = reply->statistics;
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_STRING_EQUAL(st->today, "2026-10-02");
    CU_ASSERT_EQUAL(st->reviews, 2);
    CU_ASSERT_EQUAL(st->ready_for_sign_off, 0);
    CU_ASSERT_EQUAL(st->missing_information, 2);
    CU_ASSERT_EQUAL(st->events_total, 11);
    /* All 11 accepted within the last minute: 11 / 60 a second. */
    CU_ASSERT_DOUBLE_EQUAL(st->ingest_per_second, 11 / 60.0, 1e-9);
    CU_ASSERT_EQUAL(st->rejected_events, 0);
    CU_ASSERT_EQUAL(st->parked_events, 0);
    /* One publication per event (each its own batch) and the 28-day notice. */
    CU_ASSERT_EQUAL(st->sequence, 12);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM outbox WHERE topic = 'notice.lead.SC'"),
                    1);
    const Joinedreview__V1__StreamStatistics *ices = stream_stats(st, "ICES");
    const Joinedreview__V1__StreamStatistics *sc = stream_stats(st, "SC");
    const Joinedreview__V1__StreamStatistics *sp = stream_stats(st, "SP");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ices);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
    CU_ASSERT_EQUAL(ices->enrolled, 1);
    CU_ASSERT_EQUAL(ices->complete, 1);
    CU_ASSERT_EQUAL(sc->missing_information, 1);
    CU_ASSERT_EQUAL(sc->due_within_28_days, 1);
    CU_ASSERT_EQUAL(ices->due_within_28_days, 1);
    CU_ASSERT_EQUAL(sp->due_within_28_days, 0);
    CU_ASSERT_EQUAL(sc->overdue, 0);
    CU_ASSERT_EQUAL_FATAL(st->n_areas, 9);
    CU_ASSERT_EQUAL(st->areas[7]->area, 8);
    CU_ASSERT_EQUAL(st->areas[7]->red, 1);   /* A: red beats green, nobody's own */
    CU_ASSERT_EQUAL(st->areas[7]->amber, 1); /* B: the person's amber */
    CU_ASSERT_EQUAL(st->areas[7]->conflicts, 1);
    CU_ASSERT_EQUAL(st->areas[0]->not_given, 2);
    CU_ASSERT_EQUAL_FATAL(st->n_leads, 2);
    CU_ASSERT_STRING_EQUAL(st->leads[0]->lead, "SC");
    CU_ASSERT_EQUAL(st->leads[0]->due_within_28_days, 1);
    CU_ASSERT_STRING_EQUAL(st->leads[1]->lead, "SP");
    uint64_t sequence = st->sequence;
    CU_ASSERT(sequence > 0);
    joinedreview__v1__catchup_reply__free_unpacked(reply, NULL);

    /* Regularly on the PUB socket, unsequenced, computed off the daemon's
     * loop in one snapshot that names the last publication it includes. */
    Joinedreview__V1__Statistics *pub = recv_statistics(sub);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
    CU_ASSERT_EQUAL(pub->reviews, 2);
    CU_ASSERT_EQUAL(pub->sequence, sequence);
    CU_ASSERT_DOUBLE_EQUAL(pub->ingest_per_second, 11 / 60.0, 1e-9);
    joinedreview__v1__statistics__free_unpacked(pub, NULL);

    /* The reporting views, as an analyst would read them. */
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT complete FROM report_completeness_by_stream "
                                   "WHERE stream = 'ICES'"),
                    1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT missing_information FROM "
                                   "report_completeness_by_stream WHERE stream = 'SC'"),
                    1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT red FROM report_priorities_by_area WHERE area = 8"), 1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT conflicts FROM report_priorities_by_area "
                                   "WHERE area = 8"),
                    1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT scheduled FROM report_due_by_stream "
                                   "WHERE stream = 'ICES'"),
                    1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT scheduled FROM report_due_by_lead WHERE lead = 'SC'"),
                    1);
    /* A's review covers SC and ICES: two separate meetings become one. */
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT separate_meetings FROM report_meetings_saved"), 3);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT meetings_saved FROM report_meetings_saved"), 1);
    h_env_t e;
    h_review_held(&e, "SC", "held", T0 + 20000, H_NHS_A, "2026-10-01");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT reviews_held FROM report_reviews_held_by_month "
                                   "WHERE month = '2026-10-01'"),
                    1);
    zmq_close(sub);
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* Today as the system clock has it, in UTC, as the daemon reckons days. */
static void clock_today(char out[11], int64_t at_s)
{
    time_t t = (time_t)at_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Without --today (as in service) the figures are for the system clock's
 * day, both published and on request. */
static void test_statistics_on_the_clock(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "reporting_clock") == 0);
    const char *const extra[] = {"--today", "clock", "--set", "daemon.statistics_interval_s=1",
                                 NULL};
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, extra) == 0);
    void *sub = h_sub(h_zctx, d.publish, "statistics");
    int64_t before = h_now_ms() / 1000;
    char day_before[11], day_after[11];
    clock_today(day_before, before);

    Joinedreview__V1__CatchupReply *reply = ask_statistics(d.catchup);
    CU_ASSERT_PTR_NOT_NULL_FATAL(reply);
    CU_ASSERT_EQUAL(reply->status, JOINEDREVIEW__V1__CATCHUP_REPLY__STATUS__OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(reply->statistics);
    const char *asked = reply->statistics->today;

    Joinedreview__V1__Statistics *pub = recv_statistics(sub);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
    clock_today(day_after, h_now_ms() / 1000);
    /* The test may straddle midnight: either day will do, nothing else. */
    CU_ASSERT_TRUE(strcmp(asked, day_before) == 0 || strcmp(asked, day_after) == 0);
    CU_ASSERT_TRUE(strcmp(pub->today, day_before) == 0 || strcmp(pub->today, day_after) == 0);
    CU_ASSERT_EQUAL(pub->reviews, 0);
    joinedreview__v1__statistics__free_unpacked(pub, NULL);
    joinedreview__v1__catchup_reply__free_unpacked(reply, NULL);
    zmq_close(sub);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"statistics on request and published; reporting views", test_statistics_and_views},
        {"statistics follow the system clock without --today", test_statistics_on_the_clock},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"reporting", h_suite_init, h_suite_clean, NULL, NULL, tests},
                             CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
