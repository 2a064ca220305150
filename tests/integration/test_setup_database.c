/* test_setup_database.c -- `joinedreview setup-database`, the real binary,
 * against a fresh PostgreSQL cluster of its own (the CTest fixture
 * pg_setup makes it anew each run, so the roles, which belong to the
 * cluster, start absent): what the first run creates and says, that a
 * second run changes nothing and says so, the rights the roles end up with,
 * and the daemon starting on what it made, as the installed configuration
 * has it (its own login, migrations as the schema's owner). */
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "jr_cunit.h"

#define DBNAME "jr_setup"

static char g_dir[256];

/* Runs setup-database with args; its standard output in out (the first
 * line, the server's version, left out), its exit status returned. */
static int setup(const char *args, char *out, size_t outlen)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s setup-database --database 'host=%s user=postgres dbname=postgres' %s 2>&1",
             JR_TOOL_PATH, g_dir, args);
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        return -1;
    }
    char line[512];
    size_t used = 0;
    out[0] = '\0';
    for (int n = 0; fgets(line, sizeof line, p) != NULL; n++) {
        if (n == 0 && strncmp(line, "PostgreSQL 1", 12) == 0) {
            continue;
        }
        used += (size_t)snprintf(out + used, outlen - used, "%s", line);
        if (used >= outlen) {
            used = outlen - 1;
        }
    }
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* One value of a query as `user` on the setup database; "ERROR" when refused. */
static void as_user(const char *user, const char *sql, char *out, size_t outlen)
{
    char conninfo[512];
    snprintf(conninfo, sizeof conninfo, "host=%s user=%s dbname=" DBNAME, g_dir, user);
    PGconn *c = PQconnectdb(conninfo);
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) {
        snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
    } else {
        snprintf(out, outlen, "%s", st == PGRES_COMMAND_OK ? "OK" : "ERROR");
    }
    PQclear(r);
    PQfinish(c);
}

static void test_first_run_creates_everything(void)
{
    char out[4096];
    CU_ASSERT_EQUAL(setup("--dbname " DBNAME, out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(
        out, "role joinedreview_owner: created (login: owns the database and the schema, runs "
             "the migrations)\n"
             "role joinedreview_app: created (group: reads and writes rows, changes no schema)\n"
             "role joinedreview_reader: created (group: reads the reporting views)\n"
             "role joinedreview_web: created (group: reads what the web pages show, writes the "
             "audit trail)\n"
             "role jr_daemon: created (login of joinedreviewd)\n"
             "role jr_web: created (login of joinedreview-web)\n"
             "role jr_analyst: created (read-only login of joinedreview summary)\n"
             "database jr_setup: created, owned by joinedreview_owner; only joinedreview's roles "
             "may connect\n"
             "schema: 18 migrations applied as joinedreview_owner, 001_event_log.sql to "
             "029_current_figures_unchanged.sql\n"
             "done\n");
}

static void test_second_run_changes_nothing(void)
{
    char out[4096];
    CU_ASSERT_EQUAL(setup("--dbname " DBNAME, out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(
        out, "role joinedreview_owner: already there\n"
             "role joinedreview_app: already there\n"
             "role joinedreview_reader: already there\n"
             "role joinedreview_web: already there\n"
             "role jr_daemon: already there\n"
             "role jr_web: already there\n"
             "role jr_analyst: already there\n"
             "database jr_setup: already there, owned by joinedreview_owner\n"
             "schema: up to date (18 migrations, the newest 029_current_figures_unchanged.sql)\n"
             "nothing to do: everything was already in place\n");
}

static void test_a_database_of_another_owner_is_refused(void)
{
    /* scripts/pg.sh made "joinedreview", owned by postgres. */
    char out[4096];
    CU_ASSERT_EQUAL(setup("", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "database joinedreview exists, owned by postgres, not "
                                       "joinedreview_owner"));
}

static void test_each_role_has_its_rights_alone(void)
{
    char v[256];
    as_user(
        "postgres",
        "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'", v,
        sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "joinedreview_owner");
    as_user("jr_daemon", "SELECT count(*) FROM event", v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "0");
    as_user("jr_daemon", "CREATE TABLE intruder (x int)", v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "ERROR");
    as_user("jr_daemon", "SELECT count(*) FROM web_audit", v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "ERROR");
    as_user("jr_web", "SELECT count(*) FROM report_due_by_lead", v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "0");
    as_user("jr_web", "SELECT count(envelope) FROM event", v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "ERROR");
    as_user("jr_analyst", "SELECT count(*) FROM report_enrolled_by_quarter", v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "0");
    as_user("jr_analyst", "SELECT count(*) FROM event", v, sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "ERROR");
    as_user("postgres", "SELECT has_database_privilege('public', '" DBNAME "', 'CONNECT')::text", v,
            sizeof v);
    CU_ASSERT_STRING_EQUAL(v, "false");
}

static void test_the_daemon_starts_as_installed(void)
{
    h_db_t db;
    snprintf(db.name, sizeof db.name, "%s", DBNAME);
    snprintf(db.conninfo, sizeof db.conninfo, "host=%s user=jr_daemon dbname=" DBNAME, g_dir);
    char owner[512];
    snprintf(owner, sizeof owner,
             "daemon.database_owner=host=%s user=joinedreview_owner dbname=" DBNAME, g_dir);
    const char *extra[] = {"--set", owner, NULL};
    h_daemon_t d;
    CU_ASSERT_EQUAL_FATAL(h_daemon_start(&d, &db, extra), 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

int main(void)
{
    const char *dir = getenv("JR_TEST_PGDIR");
    if (dir == NULL) {
        fprintf(stderr, "JR_TEST_PGDIR is not set\n");
        return 1;
    }
    snprintf(g_dir, sizeof g_dir, "%s", dir);
    CU_TestInfo tests[] = {
        {"first run creates everything", test_first_run_creates_everything},
        {"second run changes nothing", test_second_run_changes_nothing},
        {"a database of another owner is refused", test_a_database_of_another_owner_is_refused},
        {"each role has its rights alone", test_each_role_has_its_rights_alone},
        {"the daemon starts as installed", test_the_daemon_starts_as_installed},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {
        {"setup-database", h_suite_init, h_suite_clean, NULL, NULL, tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
