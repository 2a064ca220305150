/* test_config.c -- the daemon's configuration table and its allow-list,
 * without a daemon: defaults, streams as data, what a reload applies and
 * what waits for a restart, and who may do what. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "config.h"
#include "jr_cunit.h"

static char g_dir[256];

static int setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/jr-test-config-XXXXXX");
    return mkdtemp(g_dir) == NULL;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_defaults_and_streams(void)
{
    jr_config_t *c = jr_config_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->ingest_endpoint, "tcp://127.0.0.1:5560");
    CU_ASSERT_STRING_EQUAL(c->statistics_endpoint, "tcp://127.0.0.1:5564");
    CU_ASSERT_EQUAL(c->batch_max, 1000);
    CU_ASSERT_EQUAL(c->rules.window_days, 90);
    CU_ASSERT_EQUAL(c->rules.n_leads, 3);
    CU_ASSERT_EQUAL(c->rules.lead_days[1], 28);
    CU_ASSERT_EQUAL(c->max_connections, 1000);
    const jr_stream_t *cpa = jr_streams_find(c->streams, "CPA");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cpa);
    CU_ASSERT_FALSE(cpa->enabled);
    char err[400];
    CU_ASSERT_EQUAL(jr_config_override(c, "stream.CPA.enabled=true", err, sizeof err), 0);
    CU_ASSERT_TRUE(jr_streams_find(c->streams, "CPA")->enabled);
    /* A new stream is a section. */
    CU_ASSERT_EQUAL(jr_config_override(c, "stream.HOME.interval_days=180", err, sizeof err), 0);
    const jr_stream_t *home = jr_streams_find(c->streams, "HOME");
    CU_ASSERT_PTR_NOT_NULL_FATAL(home);
    CU_ASSERT_EQUAL(home->interval_days, 180);
    CU_ASSERT_TRUE(home->enabled);
    CU_ASSERT_EQUAL(jr_config_override(c, "stream.SC.required=HOUSING TRANSPORT", err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(jr_config_override(c, "stream.SC.required=HOUSES", err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "--set stream.SC.required=HOUSES: 'required': unknown topic at "
                                "'HOUSES'");
    CU_ASSERT_EQUAL(jr_config_override(c, "daemon.notice_lead_days=30 14", err, sizeof err), 0);
    CU_ASSERT_EQUAL(c->rules.n_leads, 2);
    /* Underspend rules, per stream; none by default. Group rules. */
    CU_ASSERT_EQUAL(jr_streams_find(c->streams, "ILF")->underspend, JR_UNDERSPEND_NOT_SET);
    CU_ASSERT_EQUAL(jr_config_override(c, "stream.ILF.underspend=returned", err, sizeof err), 0);
    CU_ASSERT_EQUAL(jr_streams_find(c->streams, "ILF")->underspend, JR_UNDERSPEND_RETURNED);
    CU_ASSERT_EQUAL(jr_config_override(c, "stream.SC.underspend=clawed_back", err, sizeof err),
                    -1);
    CU_ASSERT_STRING_EQUAL(err, "--set stream.SC.underspend=clawed_back: 'underspend' must be "
                                "returned, carried_forward, kept or not_set");
    CU_ASSERT_EQUAL(c->rules.group_window_days, 28);
    CU_ASSERT_EQUAL(c->rules.group_max, 8);
    CU_ASSERT_EQUAL(jr_config_override(c, "daemon.group_max=1", err, sizeof err), -1);
    CU_ASSERT_EQUAL(jr_config_override(c, "daemon.group_window_days=21", err, sizeof err), 0);
    CU_ASSERT_EQUAL(c->rules.group_window_days, 21);
    CU_ASSERT_EQUAL(jr_config_override(c, "daemon.security=open", err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "--set daemon.security=open: 'security' must be curve or "
                                "plaintext-development");
    CU_ASSERT_EQUAL(jr_config_override(c, "daemon.batchmax=5", err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "--set daemon.batchmax=5: unknown key 'batchmax' in [daemon]");
    CU_ASSERT_EQUAL(jr_config_override(c, "daemon.batch_max=0", err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "--set daemon.batch_max=0: 'batch_max' must be a whole number "
                                "from 1 to 10000, not '0'");
    jr_config_destroy(&c);
    CU_ASSERT_PTR_NULL(c);
}

static void test_file_names_the_line(void)
{
    char path[300], err[600], want[600];
    snprintf(path, sizeof path, "%s/daemon.conf", g_dir);
    write_file(path, "[daemon]\nbatch_max = 500\n[stream.ICES]\ninterval_dayz = 10\n");
    jr_config_t *c = jr_config_new();
    CU_ASSERT_EQUAL(jr_config_load_file(c, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:4: unknown key 'interval_dayz' in [stream.ICES]", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    write_file(path, "[deamon]\nbatch_max = 500\n");
    CU_ASSERT_EQUAL(jr_config_load_file(c, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2: unknown section [deamon]", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    jr_config_destroy(&c);
}

/* SIGHUP applies what it can; endpoints, the database, the secrets and what
 * the sockets were made with wait for a restart, and are named. */
static void test_reload_applies_and_names_the_rest(void)
{
    jr_config_t *running = jr_config_new(), *fresh = jr_config_new();
    char err[400], kept[512];
    const char *const changes[] = {
        "daemon.batch_max=200",          "daemon.log_level=debug",
        "daemon.max_message_bytes=2048", "daemon.statement_timeout_ms=500",
        "daemon.allow_list_file=/etc/x", "daemon.ingest_endpoint=tcp://127.0.0.1:6000",
        "daemon.database=dbname=other",  "daemon.alignment_window_days=60",
        "stream.CPA.enabled=true",
    };
    for (size_t i = 0; i < sizeof changes / sizeof *changes; i++) {
        CU_ASSERT_EQUAL_FATAL(jr_config_override(fresh, changes[i], err, sizeof err), 0);
    }
    jr_config_apply_reload(running, fresh, kept, sizeof kept);
    CU_ASSERT_STRING_EQUAL(kept, "ingest_endpoint, database, max_message_bytes, "
                                 "statement_timeout_ms");
    CU_ASSERT_EQUAL(running->batch_max, 200);
    CU_ASSERT_STRING_EQUAL(running->log_level, "debug");
    CU_ASSERT_STRING_EQUAL(running->allow_list_file, "/etc/x");
    CU_ASSERT_EQUAL(running->rules.window_days, 60);
    CU_ASSERT_TRUE(jr_streams_find(running->streams, "CPA")->enabled);
    CU_ASSERT_STRING_EQUAL(running->ingest_endpoint, "tcp://127.0.0.1:5560");
    CU_ASSERT_STRING_EQUAL(running->database, "dbname=joinedreview");
    CU_ASSERT_EQUAL(running->max_message_bytes, 65536);
    jr_config_destroy(&fresh);
    /* Nothing changed: nothing named. */
    fresh = jr_config_new();
    jr_config_override(fresh, "daemon.batch_max=200", err, sizeof err);
    jr_config_override(fresh, "daemon.log_level=debug", err, sizeof err);
    jr_config_apply_reload(running, fresh, kept, sizeof kept);
    CU_ASSERT_STRING_EQUAL(kept, "");
    jr_config_destroy(&fresh);
    jr_config_destroy(&running);
}

/* ---- the allow-list ---- */

#define K_ILF   "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define K_DASH  "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define K_TEAM  "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
#define K_OTHER "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"

static void test_allow_list(void)
{
    char path[300], err[600], want[600];
    snprintf(path, sizeof path, "%s/allow.ini", g_dir);
    write_file(path, "[client.ilf-adapter]\npublic_key = " K_ILF "\nstreams = ILF, SC\n\n"
                     "[client.dashboard]\npublic_key = " K_DASH "\nfeeds = statistics\n\n"
                     "[client.team]\npublic_key = " K_TEAM
                     "\nfeeds = identifiable pseudonymised\nstreams = ALL\n");
    jr_access_t *a = jr_access_load(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(jr_access_count(a), 3);
    CU_ASSERT_STRING_EQUAL(jr_access_name(a, K_ILF), "ilf-adapter");
    CU_ASSERT_PTR_NULL(jr_access_name(a, K_OTHER));
    CU_ASSERT_TRUE(jr_access_may_push(a, K_ILF, "ILF"));
    CU_ASSERT_TRUE(jr_access_may_push(a, K_ILF, "SC"));
    CU_ASSERT_FALSE(jr_access_may_push(a, K_ILF, "ATW"));
    CU_ASSERT_TRUE(jr_access_may_push(a, K_TEAM, "ATW"));
    CU_ASSERT_FALSE(jr_access_may_push(a, K_DASH, "SC"));
    CU_ASSERT_FALSE(jr_access_may_push(a, K_OTHER, "SC"));
    CU_ASSERT_TRUE(jr_access_is_adapter(a, K_ILF));
    CU_ASSERT_FALSE(jr_access_is_adapter(a, K_DASH));
    CU_ASSERT_EQUAL(jr_access_feeds(a, K_DASH), JR_FEED_STATISTICS);
    CU_ASSERT_EQUAL(jr_access_feeds(a, K_TEAM), JR_FEED_IDENTIFIABLE | JR_FEED_PSEUDONYMISED);
    CU_ASSERT_EQUAL(jr_access_feeds(a, K_ILF), 0);

    /* Narrowing a feed revokes; widening one does not. */
    write_file(path, "[client.dashboard]\npublic_key = " K_DASH "\nfeeds = statistics\n\n"
                     "[client.team]\npublic_key = " K_TEAM "\nfeeds = pseudonymised\n");
    jr_access_t *narrower = jr_access_load(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(narrower);
    CU_ASSERT_TRUE(jr_access_revokes_feeds(a, narrower));
    CU_ASSERT_FALSE(jr_access_revokes_feeds(narrower, a));
    jr_access_destroy(&narrower);
    jr_access_destroy(&a);

    write_file(path, "[client.x]\npublic_key = not-a-key\n");
    CU_ASSERT_PTR_NULL(jr_access_load(path, err, sizeof err));
    snprintf(want, sizeof want, "%s:2: [client.x] public_key must be 40 Z85 characters", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    write_file(path, "[x]\npublic_key = " K_ILF "\n");
    CU_ASSERT_PTR_NULL(jr_access_load(path, err, sizeof err));
    snprintf(want, sizeof want, "%s:2: sections must be [client.NAME], not [x]", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    write_file(path, "[client.x]\nfeeds = everything\npublic_key = " K_ILF "\n");
    CU_ASSERT_PTR_NULL(jr_access_load(path, err, sizeof err));
    snprintf(want, sizeof want,
             "%s:2: [client.x] feeds: identifiable, pseudonymised and/or statistics", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    write_file(path, "[client.x]\nstreams = SC\n");
    CU_ASSERT_PTR_NULL(jr_access_load(path, err, sizeof err));
    snprintf(want, sizeof want, "%s: [client.x] has no public_key", path);
    CU_ASSERT_STRING_EQUAL(err, want);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"defaults, streams as data, bounds", test_defaults_and_streams},
        {"a file's mistake names its line", test_file_names_the_line},
        {"a reload applies what it can and names the rest", test_reload_applies_and_names_the_rest},
        {"the allow-list", test_allow_list},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"config", setup, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
