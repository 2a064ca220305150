/* test_web_metrics.c -- the Prometheus text both programs write, exactly;
 * and the daemon's loopback endpoint read the way joinedreview-web reads
 * it. */
#include <string.h>

#include "jr_cunit.h"
#include "metrics.h"
#include "scrape.h"
#include "webmetrics.h"

static const char g_daemon_text[] =
    "# HELP joinedreviewd_acks_total Acknowledgements sent to adapters, by status.\n"
    "# TYPE joinedreviewd_acks_total counter\n"
    "joinedreviewd_acks_total{status=\"ok\"} 3\n"
    "joinedreviewd_acks_total{status=\"duplicate\"} 1\n"
    "joinedreviewd_acks_total{status=\"parked\"} 0\n"
    "joinedreviewd_acks_total{status=\"rejected\"} 2\n"
    "joinedreviewd_acks_total{status=\"retry_later\"} 0\n"
    "# HELP joinedreviewd_batch_commit_seconds Time to write and commit one batch.\n"
    "# TYPE joinedreviewd_batch_commit_seconds histogram\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"0.005\"} 1\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"0.01\"} 2\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"0.025\"} 2\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"0.05\"} 2\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"0.1\"} 2\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"0.25\"} 3\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"0.5\"} 3\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"1\"} 3\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"2.5\"} 3\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"5\"} 3\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"10\"} 3\n"
    "joinedreviewd_batch_commit_seconds_bucket{le=\"+Inf\"} 4\n"
    "joinedreviewd_batch_commit_seconds_sum 12.215000\n"
    "joinedreviewd_batch_commit_seconds_count 4\n"
    "# HELP joinedreviewd_database_reconnects_total Times the database connection was made "
    "again after it was lost.\n"
    "# TYPE joinedreviewd_database_reconnects_total counter\n"
    "joinedreviewd_database_reconnects_total 1\n";

static jr_metrics_t *figures(void)
{
    jr_metrics_t *m = jr_metrics_new();
    jr_metrics_ack(m, 1);
    jr_metrics_ack(m, 1);
    jr_metrics_ack(m, 1);
    jr_metrics_ack(m, 2);
    jr_metrics_ack(m, 4);
    jr_metrics_ack(m, 4);
    jr_metrics_ack(m, 0); /* not a status: ignored */
    jr_metrics_ack(m, 6);
    jr_metrics_commit_us(m, 5000);     /* on the bound: in le="0.005" */
    jr_metrics_commit_us(m, 5001);     /* le="0.01" */
    jr_metrics_commit_us(m, 200000);   /* le="0.25" */
    jr_metrics_commit_us(m, 12004999); /* above every bound */
    jr_metrics_db_reconnect(m);
    return m;
}

static void test_daemon_text(void)
{
    jr_metrics_t *m = figures();
    char out[4096];
    int n = jr_metrics_format(m, out, sizeof out);
    CU_ASSERT_EQUAL(n, (int)strlen(g_daemon_text));
    CU_ASSERT_STRING_EQUAL(out, g_daemon_text);
    CU_ASSERT_EQUAL(jr_metrics_format(m, out, 100), -1); /* does not fit */
    jr_metrics_destroy(&m);
    CU_ASSERT_PTR_NULL(m);
}

static void test_daemon_endpoint(void)
{
    jr_metrics_t *m = figures();
    jr_metrics_server_t *s = jr_metrics_server_start(m, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char where[32], out[8192];
    snprintf(where, sizeof where, "127.0.0.1:%u", jr_metrics_server_port(s));
    CU_ASSERT_EQUAL(jr_scrape_get(where, out, sizeof out, 2000), (int)strlen(g_daemon_text));
    CU_ASSERT_STRING_EQUAL(out, g_daemon_text);
    CU_ASSERT_EQUAL(jr_scrape_get(where, out, 64, 2000), -1); /* larger than the room */
    jr_metrics_server_stop(&s);
    CU_ASSERT_EQUAL(jr_scrape_get(where, out, sizeof out, 500), -1); /* nobody there */
    jr_metrics_destroy(&m);
}

static void test_web_text(void)
{
    static const unsigned codes[2] = {200, 403};
    static const uint64_t requests[3] = {7, 2, 1};
    static const jr_webmetrics_row_t parked[1] = {{"ATW", NULL, 4, 0}};
    static const jr_webmetrics_row_t rejected[1] = {{"SP", "INVALID_NHS_NUMBER", 2, 5}};
    static const jr_webmetrics_row_t due[2] = {{"SC", NULL, 3, 1}, {"X\"Y", NULL, 0, 0}};
    jr_webmetrics_t m = {.codes = codes,
                         .requests = requests,
                         .n_codes = 2,
                         .logins_ok = 4,
                         .logins_failed = 3,
                         .logins_paused = 1,
                         .sessions = 2,
                         .audit_rows = 9,
                         .reconnects = 0,
                         .parked = parked,
                         .n_parked = 1,
                         .rejected = rejected,
                         .n_rejected = 1,
                         .due = due,
                         .n_due = 2,
                         .daemon_up = 1,
                         .daemon_text = "joinedreviewd_database_reconnects_total 1\n"};
    jr_html_t h;
    jr_html_init(&h, 1 << 16);
    jr_webmetrics_format(&h, &m);
    static const char want[] =
        "# HELP joinedreview_web_requests_total Answers sent, by HTTP status code.\n"
        "# TYPE joinedreview_web_requests_total counter\n"
        "joinedreview_web_requests_total{code=\"200\"} 7\n"
        "joinedreview_web_requests_total{code=\"403\"} 2\n"
        "joinedreview_web_requests_total{code=\"other\"} 1\n"
        "# HELP joinedreview_web_logins_total Sign-in attempts, by outcome.\n"
        "# TYPE joinedreview_web_logins_total counter\n"
        "joinedreview_web_logins_total{outcome=\"ok\"} 4\n"
        "joinedreview_web_logins_total{outcome=\"failed\"} 3\n"
        "joinedreview_web_logins_total{outcome=\"paused\"} 1\n"
        "# HELP joinedreview_web_sessions Sessions open now.\n"
        "# TYPE joinedreview_web_sessions gauge\n"
        "joinedreview_web_sessions 2\n"
        "# HELP joinedreview_web_audit_rows_total Views of a person's review written to the "
        "audit table.\n"
        "# TYPE joinedreview_web_audit_rows_total counter\n"
        "joinedreview_web_audit_rows_total 9\n"
        "# HELP joinedreview_web_database_reconnects_total Database connections made again "
        "after one was lost.\n"
        "# TYPE joinedreview_web_database_reconnects_total counter\n"
        "joinedreview_web_database_reconnects_total 0\n"
        "# HELP joinedreview_parked_events Events waiting for an enrolment that links their "
        "identifiers, by stream.\n"
        "# TYPE joinedreview_parked_events gauge\n"
        "joinedreview_parked_events{stream=\"ATW\"} 4\n"
        "# HELP joinedreview_rejected_messages Distinct rejected messages kept, by stream and "
        "reason.\n"
        "# TYPE joinedreview_rejected_messages gauge\n"
        "joinedreview_rejected_messages{stream=\"SP\",reason=\"INVALID_NHS_NUMBER\"} 2\n"
        "# HELP joinedreview_rejected_received Times the rejected messages kept were received, "
        "by stream and reason.\n"
        "# TYPE joinedreview_rejected_received gauge\n"
        "joinedreview_rejected_received{stream=\"SP\",reason=\"INVALID_NHS_NUMBER\"} 5\n"
        "# HELP joinedreview_reviews_due Joined-up reviews covering the stream due today or "
        "within 28 days.\n"
        "# TYPE joinedreview_reviews_due gauge\n"
        "joinedreview_reviews_due{stream=\"SC\"} 3\n"
        "joinedreview_reviews_due{stream=\"X\\\"Y\"} 0\n"
        "# HELP joinedreview_reviews_overdue Joined-up reviews covering the stream past their "
        "date.\n"
        "# TYPE joinedreview_reviews_overdue gauge\n"
        "joinedreview_reviews_overdue{stream=\"SC\"} 1\n"
        "joinedreview_reviews_overdue{stream=\"X\\\"Y\"} 0\n"
        "# HELP joinedreview_web_daemon_up 1 when the daemon's metrics endpoint answered and "
        "its figures follow.\n"
        "# TYPE joinedreview_web_daemon_up gauge\n"
        "joinedreview_web_daemon_up 1\n"
        "joinedreviewd_database_reconnects_total 1\n";
    CU_ASSERT_FALSE(h.failed);
    CU_ASSERT_STRING_EQUAL(h.data, want);
    jr_html_clear(&h);
}

int main(void)
{
    CU_TestInfo tests[] = {{"daemon text", test_daemon_text},
                           {"daemon endpoint", test_daemon_endpoint},
                           {"web text", test_web_text},
                           CU_TEST_INFO_NULL};
    CU_SuiteInfo suites[] = {{"metrics", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
