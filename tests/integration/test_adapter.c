/* test_adapter.c -- joinedreview-adapter, the real binary, against the real
 * daemon on a throwaway PostgreSQL, over real sockets: every stream's sample
 * arrives as expected and re-running changes nothing; malformed rows are
 * refused with reasons while good rows arrive; kill -9 mid-file and a
 * restart store every row exactly once; the daemon stopped mid-file and
 * started again loses and doubles nothing; watch mode picks files up as
 * they arrive, also when the daemon starts after the adapter; the rejects
 * file keeps the reason in its column whatever a row's width; UTF-8,
 * Windows-1252 and UTF-16 exports store the same statements and an
 * undecodable byte refuses its row; the adapter's memory does not grow with
 * the export; a file written in place with a pause, or left open for
 * writing, is taken only once it is complete. */
#define _GNU_SOURCE /* F_SETLEASE, to see whether this file system has leases */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "csvin.h"
#include "jr_csv_doc.h"
#include "harness.h"
#include "jr_cunit.h"
#include "mapping.h"

#ifndef JR_ADAPTER_PATH
#error "JR_ADAPTER_PATH must name the joinedreview-adapter binary"
#endif
#ifndef JR_SOURCE_DIR
#error "JR_SOURCE_DIR must name the source tree"
#endif

#define T(x) JOINEDREVIEW__V1__TOPIC__##x

/* The adapter's peak resident memory on any export, in KiB: see "Memory" in
 * adapters/README.md. */
#define JR_ADAPTER_MEMORY_BOUND_KB (24 * 1024)

static char g_root[64]; /* this run's scratch directory */

/* ---- files ------------------------------------------------------------------ */

static void path_of(char *out, size_t len, const char *a, const char *b)
{
    snprintf(out, len, "%s/%s%s%s", g_root, a, b ? "/" : "", b ? b : "");
}

static void make_dirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    mkdir(buf, 0755);
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(text, 1, len, f), len);
    fclose(f);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

/* Drops a file into an inbox the way a back office should: write it under
 * a hidden name, then rename it into place. */
static void drop(const char *inbox, const char *name, const char *text, size_t len)
{
    char tmp[512], final[512];
    snprintf(tmp, sizeof tmp, "%s/.%s.part", inbox, name);
    snprintf(final, sizeof final, "%s/%s", inbox, name);
    write_file(tmp, text, len);
    CU_ASSERT_EQUAL(rename(tmp, final), 0);
}

static void drop_sample(const char *inbox, const char *stream_dir, const char *name)
{
    char src[512];
    snprintf(src, sizeof src, "%s/adapters/%s/sample.csv", JR_SOURCE_DIR, stream_dir);
    size_t len;
    char *text = read_file(src, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    drop(inbox, name, text, len);
    free(text);
}

static int exists(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

/* Files in `dir` whose name ends in `suffix`. */
static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t a = strlen(e->d_name), b = strlen(suffix);
        n += a >= b && strcmp(e->d_name + a - b, suffix) == 0;
    }
    closedir(d);
    return n;
}

static int log_has(const char *log, const char *needle)
{
    char *text = read_file(log, NULL);
    int found = text && strstr(text, needle) != NULL;
    free(text);
    return found;
}

/* ---- the adapter process ---------------------------------------------------- */

/* Starts the adapter with `args` (NULL-terminated), its stderr to `log`. */
static pid_t adapter_start(const char *const *args, const char *log)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = JR_ADAPTER_PATH;
    for (size_t i = 0; args[i] && n + 1 < 40; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, STDERR_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fd);
    return pid;
}

/* Waits up to timeout_ms; returns the exit status, 128 + signal, or -1 on
 * timeout (the adapter is then killed). */
static int adapter_wait(pid_t pid, int timeout_ms)
{
    int status;
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        h_sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static int adapter_run(const char *const *args, const char *log)
{
    return adapter_wait(adapter_start(args, log), 120000);
}

/* One stream's directories under the scratch root. */
typedef struct {
    char inbox[256], done[300], failed[300], state[256], log[256];
} dirs_t;

static void dirs_for(dirs_t *d, const char *name)
{
    path_of(d->inbox, sizeof d->inbox, name, "inbox");
    path_of(d->state, sizeof d->state, name, "state");
    path_of(d->log, sizeof d->log, name, "adapter.log");
    snprintf(d->done, sizeof d->done, "%s/done", d->inbox);
    snprintf(d->failed, sizeof d->failed, "%s/failed", d->inbox);
    make_dirs(d->inbox);
}

/* ---- the database --------------------------------------------------------------- */

static long long sql_int(const h_db_t *db, const char *sql)
{
    return h_sql_int(db, sql);
}

/* The current consolidated review of a person; caller frees it. */
static Joinedreview__V1__ConsolidatedReview *review_of(const h_db_t *db, const char *nhs)
{
    PGconn *c = PQconnectdb(db->conninfo);
    Joinedreview__V1__ConsolidatedReview *r = NULL;
    const char *params[1] = {nhs};
    PGresult *res = PQexecParams(c,
                                 "SELECT record FROM review_record c JOIN person p "
                                 "USING (nhs_number) WHERE c.cycle = p.cycle AND nhs_number = $1",
                                 1, NULL, params, NULL, NULL, 1);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        r = joinedreview__v1__consolidated_review__unpack(NULL, (size_t)PQgetlength(res, 0, 0),
                                                          (const uint8_t *)PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
    return r;
}

/* The stored envelope of the event whose id starts with `key` + "-". */
static Joinedreview__V1__Envelope *envelope_of(const h_db_t *db, const char *key)
{
    char pattern[128];
    snprintf(pattern, sizeof pattern, "%s-%%", key);
    PGconn *c = PQconnectdb(db->conninfo);
    Joinedreview__V1__Envelope *e = NULL;
    const char *params[1] = {pattern};
    PGresult *res = PQexecParams(c, "SELECT envelope FROM event WHERE source_event_id LIKE $1", 1,
                                 NULL, params, NULL, NULL, 1);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        e = joinedreview__v1__envelope__unpack(NULL, (size_t)PQgetlength(res, 0, 0),
                                               (const uint8_t *)PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
    return e;
}

static const Joinedreview__V1__StreamCompleteness *
completeness(const Joinedreview__V1__ConsolidatedReview *r, const char *stream)
{
    for (size_t i = 0; r && i < r->n_completeness; i++)
        if (strcmp(r->completeness[i]->stream, stream) == 0)
            return r->completeness[i];
    return NULL;
}

/* ---- generated exports ------------------------------------------------------------ */

static const char sc_header[] =
    "record_id,record_type,client_id,nhs_number,entered_at,outcome_area,author_role,author,"
    "whats_working,whats_not_working,priority,no_change,plan_start_date,plan_end_date,"
    "last_review_date,plan_reference,review_held_date,revise_by,revision_owner,approval_needed,"
    "approver\n";

/* The SC codes of the seventeen topics of areas 1-8, in the contract's
 * topic order, and five author words for five roles. */
static const char *const g_codes[17] = {"SUPPORT_ASSISTANCE",
                                        "ADVOCACY",
                                        "PEER_SUPPORT",
                                        "FAMILY_RELATIONSHIPS",
                                        "CHOICES_AND_RISKS",
                                        "INCOME_AND_BENEFITS",
                                        "KEEPING_HEALTHY",
                                        "FEELING_SAFE",
                                        "INFORMATION",
                                        "EDUCATION_AND_TRAINING",
                                        "EMPLOYMENT",
                                        "ACTIVE_CITIZENSHIP",
                                        "GOODS_AND_SERVICES",
                                        "LEISURE",
                                        "HOUSING",
                                        "EQUIPMENT",
                                        "TRANSPORT"};
static const char *const g_roles[5] = {"SERVICE_USER", "CARER", "CARE_COORDINATOR", "PROVIDER",
                                       "ADVOCATE"};
static const int g_role_values[5] = {1, 2, 3, 5,
                                     6}; /* PERSON, CARER, COUNCIL, PROVIDER, ADVOCATE */

static int topic_of(int i)
{
    return i % 17;
}
static int role_of(int i)
{
    return (i / 17) % 5;
}

/* An SC export of `rows` rows: an enrolment of H_NHS_A, then contributions
 * "entry N" cycling through every topic and role, one more day every 20
 * rows from 2026-01-01 (so a later row is always newer). With nhs_b, odd
 * rows are about H_NHS_B (client SC-2, never enrolled: its own person).
 * Returns the text; caller frees. */
static char *generate_sc(int rows, int nhs_b, size_t *len)
{
    size_t cap = (size_t)rows * 200 + sizeof sc_header;
    char *text = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    size_t n = (size_t)snprintf(text, cap, "%s", sc_header);
    n += (size_t)snprintf(text + n, cap - n,
                          "k-00000,ENROL,SC-1,%s,2026-01-01,,,,,,,,2025-06-01,,,plan G1,,,,,\n",
                          H_NHS_A);
    for (int i = 1; i < rows; i++) {
        int day = i / 20; /* 2026-01-01 + day, by month lengths */
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int mo = 0;
        while (day >= mdays[mo]) {
            day -= mdays[mo];
            mo++;
        }
        n += (size_t)snprintf(text + n, cap - n,
                              "k-%05d,REVIEW_ENTRY,%s,%s,2026-%02d-%02d,%s,%s,Tester,entry "
                              "%d,,,N,,,,,,,,,\n",
                              i, nhs_b && i % 2 ? "SC-2" : "SC-1",
                              nhs_b && i % 2 ? H_NHS_B : H_NHS_A, mo + 1, day + 1,
                              g_codes[topic_of(i)], g_roles[role_of(i)], i);
    }
    *len = n;
    return text;
}

/* Polls until `sql` counts at least `want`; returns the count (or less on
 * timeout). */
static long long wait_count(const h_db_t *db, const char *sql, long long want, int timeout_ms)
{
    long long n = 0;
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        n = sql_int(db, sql);
        if (n >= want)
            break;
        h_sleep_ms(10);
    }
    return n;
}

/* The samples' rows happened up to mid-November 2026: the daemon runs on a
 * day after them, or it would refuse them as in its future. */
#define SAMPLE_DAY "2026-11-27"
static const char *const g_on_sample_day[] = {"--today", SAMPLE_DAY, NULL};

/* ---- every stream's sample ---------------------------------------------------------- */

static const struct {
    const char *code, *dir;
    long long events; /* rows the daemon stores */
    int status;       /* the adapter's exit status */
} g_streams[] = {
    {"SP", "sp", 10, 1}, /* one row has a mistyped NHS number */
    {"ILF", "ilf", 4, 0}, {"ICES", "ices", 13, 0}, {"ATW", "atw", 8, 0},
    {"DFG", "dfg", 3, 0}, {"SC", "sc", 25, 0},
};

static void run_samples(const h_daemon_t *d, const char *round)
{
    for (size_t i = 0; i < sizeof g_streams / sizeof *g_streams; i++) {
        dirs_t dirs;
        dirs_for(&dirs, g_streams[i].dir);
        char name[64];
        snprintf(name, sizeof name, "%s-%s.csv", g_streams[i].dir, round);
        drop_sample(dirs.inbox, g_streams[i].dir, name);
        const char *args[] = {"--stream", g_streams[i].code, "--endpoint", d->ingest,   "--inbox",
                              dirs.inbox, "--state",         dirs.state,   "--timeout", "30",
                              NULL};
        int st = adapter_run(args, dirs.log);
        CU_ASSERT_EQUAL(st, g_streams[i].status);
        if (st != g_streams[i].status)
            fprintf(stderr, "%s exited %d; see %s\n", g_streams[i].code, st, dirs.log);
        CU_ASSERT_TRUE(exists(dirs.done, name));
        CU_ASSERT_FALSE(exists(dirs.inbox, name));
        CU_ASSERT_EQUAL(count_files(dirs.state, ".checkpoint"), 0);
    }
}

static void test_samples_of_six_streams(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_samples") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, g_on_sample_day) == 0);

    run_samples(&d, "1");
    char sql[256];
    long long total = 0;
    for (size_t i = 0; i < sizeof g_streams / sizeof *g_streams; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM event WHERE stream = '%s'",
                 g_streams[i].code);
        CU_ASSERT_EQUAL(sql_int(&db, sql), g_streams[i].events);
        total += g_streams[i].events;
    }
    CU_ASSERT_EQUAL(total, 63);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event WHERE nhs_number IS NULL"), 0);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM rejected_event WHERE stream = 'SP' AND "
                                 "reason_code = 'INVALID_NHS_NUMBER' AND "
                                 "source_event_id LIKE 'sp-3320-%'"),
                    1);
    long long outbox = sql_int(&db, "SELECT count(*) FROM outbox");

    /* The refused row is beside the input in done/, with every original
     * column and the daemon's reason. */
    dirs_t sp;
    dirs_for(&sp, "sp");
    char rej[512];
    snprintf(rej, sizeof rej, "%s/sp-1.csv.rejected.csv", sp.done);
    size_t len;
    char *text = read_file(rej, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char why[256];
    jr_csv_doc_t *csv = jr_csv_doc_parse(text, len, why, sizeof why);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_EQUAL(jr_csvin_row_fields(csv->header), 27);
    CU_ASSERT_EQUAL_FATAL(csv->n, 1);
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->rows[0], 0, NULL), "sp-3320");
    CU_ASSERT_STRING_EQUAL(
        jr_csvin_row_field(csv->rows[0], (size_t)jr_csvin_row_column(csv->header, "nhs_number"),
                           NULL),
        "999 345 6781");
    const char *reason =
        jr_csvin_row_field(csv->rows[0], (size_t)jr_csvin_row_column(csv->header, "reason"), NULL);
    static const char want_reason[] = "INVALID_NHS_NUMBER: NHS number '999 345 6781' is not valid";
    CU_ASSERT_EQUAL(strncmp(reason, want_reason, sizeof want_reason - 1), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(reason, "(line 5)"));
    jr_csv_doc_destroy(&csv);
    CU_ASSERT_TRUE(log_has(sp.log, "sp-1.csv line 5: rejected by the daemon: INVALID_NHS_NUMBER"));

    /* Daniel Okafor: enrolled in four streams; complete for some, not others. */
    Joinedreview__V1__ConsolidatedReview *r = review_of(&db, H_NHS_A);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(r->n_enrolled_streams, 4);
    CU_ASSERT_STRING_EQUAL(r->enrolled_streams[0], "ATW");
    CU_ASSERT_STRING_EQUAL(r->enrolled_streams[1], "DFG");
    CU_ASSERT_STRING_EQUAL(r->enrolled_streams[2], "ICES");
    CU_ASSERT_STRING_EQUAL(r->enrolled_streams[3], "SC");
    const Joinedreview__V1__StreamCompleteness *c = completeness(r, "ATW");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(c->n_missing, 1);
    CU_ASSERT_EQUAL(c->missing[0], T(EDUCATION));
    CU_ASSERT_TRUE(completeness(r, "DFG") && completeness(r, "DFG")->complete);
    CU_ASSERT_TRUE(completeness(r, "ICES") && completeness(r, "ICES")->complete);
    c = completeness(r, "SC");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(c->n_missing, 5);
    CU_ASSERT_EQUAL(c->missing[0], T(ADVOCACY));
    CU_ASSERT_EQUAL(c->missing[1], T(PEER_SUPPORT));
    CU_ASSERT_EQUAL(c->missing[2], T(CHOICES_RISKS));
    CU_ASSERT_EQUAL(c->missing[3], T(EDUCATION));
    CU_ASSERT_EQUAL(c->missing[4], T(CITIZENSHIP));
    CU_ASSERT_FALSE(r->ready_for_sign_off);
    /* How Daniel wants his review (SC), and his budgets (DFG's grant and
     * social care's, in pounds and in pence): under no agreed rule, as no
     * stream has one until a council sets it. */
    CU_ASSERT_STRING_EQUAL(r->called, "Dan");
    CU_ASSERT_TRUE(r->preferences &&
                   r->preferences->way == JOINEDREVIEW__V1__REVIEW_WAY__WAY_FORMAT_FIRST);
    CU_ASSERT_EQUAL_FATAL(r->n_budgets, 2);
    CU_ASSERT_STRING_EQUAL(r->budgets[0]->stream, "DFG");
    CU_ASSERT_EQUAL(r->budgets[0]->allocated_pence, 3000000);
    CU_ASSERT_EQUAL(r->budgets[0]->underspend_pence, 255000);
    CU_ASSERT_STRING_EQUAL(r->budgets[1]->stream, "SC");
    CU_ASSERT_EQUAL(r->budgets[1]->underspend_pence, 57750);
    CU_ASSERT_EQUAL(r->budgets[1]->rule, JOINEDREVIEW__V1__UNDERSPEND_RULE__UNDERSPEND_NOT_SET);
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);

    /* Aisha Rahman (ATW, by NI number): a BSL interpreter and easy read. */
    r = review_of(&db, "9992345675");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r->called, "Aisha");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->preferences);
    CU_ASSERT_EQUAL_FATAL(r->preferences->n_needs, 2);
    CU_ASSERT_EQUAL(r->preferences->needs[0], JOINEDREVIEW__V1__NEED__NEED_EASY_READ);
    CU_ASSERT_EQUAL(r->preferences->needs[1], JOINEDREVIEW__V1__NEED__NEED_BSL_INTERPRETER);
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);

    /* Three tenants of Rosewood Court (SP) want their review together:
     * due 2027-01-06, -13 and -27, one suggestion at the earliest date,
     * out with the first notice of that date (2026-11-11). */
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM group_suggestion WHERE current AND lead = "
                                 "'SP' AND group_key = 'Rosewood Court sheltered housing' AND "
                                 "review_on = '2027-01-06' AND members = ARRAY['9994567802', "
                                 "'9994567810', '9994567829']"),
                    1);

    /* The same exports again: nothing changes (the bad row is refused again). */
    run_samples(&d, "2");
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 63);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM outbox"), outbox);
    CU_ASSERT_TRUE(log_has(sp.log, "sp-2.csv: done, 11 rows: 0 ok, 10 duplicate, 0 parked, 1 "
                                   "rejected"));
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- malformed rows ------------------------------------------------------------------- */

static void test_malformed_rows_refused_good_rows_arrive(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_malformed") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, g_on_sample_day) == 0);
    dirs_t dirs;
    dirs_for(&dirs, "malformed");

    /* As Excel saves it: BOM, CRLF, quoted commas and line breaks. */
    static const char text[] =
        "\xEF\xBB\xBF"
        "record_id,record_type,client_id,nhs_number,entered_at,outcome_area,author_role,author,"
        "whats_working,whats_not_working,priority,no_change,plan_start_date,plan_end_date,"
        "last_review_date,plan_reference,review_held_date,revise_by,revision_owner,"
        "approval_needed,approver\r\n"
        "m-1,ENROL,SC-1,943 476 5919,2026-01-05,,,,,,,,2025-06-01,,,plan,,,,,\r\n"
        "m-2,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01 09:00,HOUSING,CARER,\"Okafor, Grace\","
        "\"The ramp is fine,\r\nand so is the rail.\",,GREEN,N,,,,,,,,,\r\n"
        "m-3,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01 09:05,,CARER,Grace,text,,,N,,,,,,,,,\r\n"
        "m-4,ENROL,SC-2,943 476 5919,2026-01-05,,,,,,,,,,,,,,,,\r\n"
        "m-5,REVIEW_ENTRY,SC-1,943 476 5919,2026-02-30,HOUSING,CARER,Grace,text,,,N,,,,,,,,,\r\n"
        "m-6,REVIEW_ENTRY,SC-1,943 476 5918,2026-10-01,HOUSING,CARER,Grace,text,,,N,,,,,,,,,\r\n"
        "m-7,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01,WELLBEING,CARER,Grace,text,,,N,,,,,,,,,\r\n"
        "m-8,REVIEW_ENTRY,SC-1\r\n"
        "m-9,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-02,KEEPING_HEALTHY,SERVICE_USER,Daniel,"
        "Sleeping better,,AMBER,N,,,,,,,,,\r\n";
    drop(dirs.inbox, "export.csv", text, sizeof text - 1);
    /* A file without the outcome_area and author_role columns: refused whole. */
    static const char partial[] = "record_id,record_type,client_id,nhs_number,entered_at\n"
                                  "p-1,ENROL,SC-1,943 476 5919,2026-01-05\n";
    drop(dirs.inbox, "partial.csv", partial, sizeof partial - 1);

    const char *args[] = {"--stream", "SC",       "--endpoint", d.ingest, "--inbox", dirs.inbox,
                          "--state",  dirs.state, "--timeout",  "30",     NULL};
    CU_ASSERT_EQUAL(adapter_run(args, dirs.log), 1);

    /* The good rows arrived, intact. */
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 3);
    Joinedreview__V1__Envelope *e = envelope_of(&db, "m-2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(e->contribution->working, "The ramp is fine,\r\nand so is the rail.");
    CU_ASSERT_STRING_EQUAL(e->contribution->author_name, "Okafor, Grace");
    CU_ASSERT_EQUAL(e->contribution->topic, T(HOUSING));
    CU_ASSERT_EQUAL(e->occurred_at, 1790845200000LL); /* 2026-10-01 09:00 UTC */
    joinedreview__v1__envelope__free_unpacked(e, NULL);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM rejected_event"), 1);

    /* The refused ones, in file order, each with its reason. */
    char rej[512];
    snprintf(rej, sizeof rej, "%s/export.csv.rejected.csv", dirs.done);
    size_t len;
    char *out = read_file(rej, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    char why[256];
    jr_csv_doc_t *csv = jr_csv_doc_parse(out, len, why, sizeof why);
    free(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    static const struct {
        const char *id, *reason;
    } want[] = {
        {"m-3", "UNMAPPED_CODE: outcome_area is empty (line 5)"},
        {"m-4", "MISSING_VALUE: plan_start_date is empty: record_type ENROL needs it (line 6)"},
        {"m-5", "BAD_DATE: entered_at \"2026-02-30\" is not a date"},
        {"m-6", "INVALID_NHS_NUMBER: NHS number '943 476 5918' is not valid"},
        {"m-7", "UNMAPPED_CODE: outcome_area \"WELLBEING\" is not in [topics] of the SC mapping"},
        {"m-8", "FIELD_COUNT: the row has 3 fields but the header has 21"},
    };
    int reason_col = jr_csvin_row_column(csv->header, "reason");
    CU_ASSERT_EQUAL_FATAL(reason_col, 21);
    CU_ASSERT_EQUAL_FATAL(csv->n, 6);
    for (size_t i = 0; i < 6; i++) {
        CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->rows[i], 0, NULL), want[i].id);
        const char *got = jr_csvin_row_field(csv->rows[i], (size_t)reason_col, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_EQUAL(strncmp(got, want[i].reason, strlen(want[i].reason)), 0);
        if (strncmp(got, want[i].reason, strlen(want[i].reason)) != 0)
            fprintf(stderr, "row %zu: %s\n", i, got);
    }
    jr_csv_doc_destroy(&csv);

    /* The file refused whole is in failed/, with the reason beside it. */
    CU_ASSERT_TRUE(exists(dirs.failed, "partial.csv"));
    char note[512];
    snprintf(note, sizeof note, "%s/partial.csv.reason.txt", dirs.failed);
    char *reason = read_file(note, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(reason);
    CU_ASSERT_PTR_NOT_NULL(strstr(reason, "the header has no column outcome_area, author_role"));
    free(reason);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event WHERE source_event_id LIKE 'p-%'"), 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- kill -9 mid-file ------------------------------------------------------------------- */

static void test_kill9_mid_file_then_restart(void)
{
    enum { ROWS = 5000 };
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_kill9") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, g_on_sample_day) == 0);
    dirs_t dirs;
    dirs_for(&dirs, "kill9");
    size_t len;
    char *text = generate_sc(ROWS, 1, &len);
    drop(dirs.inbox, "big.csv", text, len);
    free(text);

    const char *args[] = {"--stream", "SC",      "--endpoint", d.ingest,           "--inbox",
                          dirs.inbox, "--state", dirs.state,   "--timeout",        "60",
                          "--window", "16",      "--set",      "checkpoint_ms=20", NULL};
    int64_t t0 = h_now_ms();
    pid_t pid = adapter_start(args, dirs.log);
    long long seen = wait_count(&db, "SELECT count(*) FROM event", 1500, 60000);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CU_ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    long long at_kill = sql_int(&db, "SELECT count(*) FROM event");
    fprintf(stderr, "\n  killed after %lld ms with %lld of %d rows stored\n",
            (long long)(h_now_ms() - t0), at_kill, ROWS);
    CU_ASSERT(seen >= 1500);
    CU_ASSERT(at_kill < ROWS); /* really mid-file */
    CU_ASSERT_TRUE(exists(dirs.inbox, "big.csv"));
    CU_ASSERT_EQUAL(count_files(dirs.state, ".checkpoint"), 1);

    CU_ASSERT_EQUAL(adapter_run(args, dirs.log), 0);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), ROWS);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(DISTINCT split_part(source_event_id, '-', 2)) "
                                 "FROM event"),
                    ROWS);
    CU_ASSERT_TRUE(log_has(dirs.log, "big.csv: resuming at row"));
    CU_ASSERT_TRUE(exists(dirs.done, "big.csv"));
    CU_ASSERT_EQUAL(count_files(dirs.state, ".checkpoint"), 0);

    /* The second run resumed: it sent only what was above the checkpoint. */
    char *log = read_file(dirs.log, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    const char *done = strstr(log, "big.csv: done, 5000 rows: ");
    unsigned long long ok = 0, dup = 0, parked = 0, rejected = 0;
    CU_ASSERT_PTR_NOT_NULL(done);
    if (done)
        sscanf(done,
               "big.csv: done, 5000 rows: %llu ok, %llu duplicate, %llu parked, %llu rejected", &ok,
               &dup, &parked, &rejected);
    const char *resumed = strstr(log, "big.csv: resuming at row ");
    unsigned long long from = 0;
    if (resumed)
        sscanf(resumed, "big.csv: resuming at row %llu", &from);
    fprintf(stderr, "  restart resumed at row %llu; duplicates resent: %llu\n", from, dup);
    CU_ASSERT(from > 0 && from <= (unsigned long long)at_kill);
    CU_ASSERT_EQUAL(ok + dup + parked, ROWS);
    CU_ASSERT_EQUAL(rejected, 0);
    CU_ASSERT(ok > 0);
    CU_ASSERT(dup < 1000);
    free(log);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- the daemon stopped mid-file ------------------------------------------------------------ */

static void test_daemon_restart_mid_file(void)
{
    enum { ROWS = 3000 };
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_dstop") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, g_on_sample_day) == 0);
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "%s", d.ingest);
    dirs_t dirs;
    dirs_for(&dirs, "dstop");
    size_t len;
    char *text = generate_sc(ROWS, 0, &len);
    drop(dirs.inbox, "big.csv", text, len);
    free(text);

    const char *args[] = {"--stream", "SC",      "--endpoint",    endpoint,    "--inbox",
                          dirs.inbox, "--state", dirs.state,      "--timeout", "90",
                          "--window", "32",      "--ack-timeout", "300",       NULL};
    pid_t pid = adapter_start(args, dirs.log);
    long long seen = wait_count(&db, "SELECT count(*) FROM event", 600, 60000);
    CU_ASSERT(seen >= 600);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    long long at_stop = sql_int(&db, "SELECT count(*) FROM event");
    fprintf(stderr, "\n  daemon stopped with %lld of %d rows stored\n", at_stop, ROWS);
    CU_ASSERT(at_stop < ROWS);
    h_sleep_ms(1500);
    CU_ASSERT_EQUAL(waitpid(pid, NULL, WNOHANG), 0); /* the adapter waits */
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), at_stop);

    const char *const again[] = {"--ingest", endpoint, "--today", SAMPLE_DAY, NULL};
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, again) == 0);
    CU_ASSERT_STRING_EQUAL(d.ingest, endpoint);
    CU_ASSERT_EQUAL(adapter_wait(pid, 90000), 0);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), ROWS);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(DISTINCT split_part(source_event_id, '-', 2)) "
                                 "FROM event"),
                    ROWS);

    /* The consolidated review: for each topic and role, the newest row's
     * statement, once. */
    int newest[17][5];
    memset(newest, 0, sizeof newest);
    for (int i = 1; i < ROWS; i++)
        newest[topic_of(i)][role_of(i)] = i;
    Joinedreview__V1__ConsolidatedReview *r = review_of(&db, H_NHS_A);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    size_t statements = 0, right = 0;
    for (size_t a = 0; a < r->n_areas; a++) {
        for (size_t s = 0; s < r->areas[a]->n_statements; s++) {
            const Joinedreview__V1__Statement *st = r->areas[a]->statements[s];
            statements++;
            int t = (int)st->topic - 1, ro = -1;
            for (int k = 0; k < 5; k++)
                if (g_role_values[k] == (int)st->provenance->author_role)
                    ro = k;
            char want[32];
            snprintf(want, sizeof want, "entry %d",
                     t >= 0 && t < 17 && ro >= 0 ? newest[t][ro] : -1);
            right += st->working && strcmp(st->working, want) == 0;
        }
    }
    CU_ASSERT_EQUAL(statements, 17 * 5);
    CU_ASSERT_EQUAL(right, 17 * 5);
    CU_ASSERT_TRUE(completeness(r, "SC") && completeness(r, "SC")->complete);
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- watch mode, the daemon starting later --------------------------------------------------- */

/* A TCP port nobody listens on now. */
static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    close(s);
    return ntohs(a.sin_port);
}

static void test_watch_mode_daemon_starts_later(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_watch") == 0);
    int port = free_port();
    CU_ASSERT_FATAL(port > 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    dirs_t dirs;
    dirs_for(&dirs, "watch");

    const char *args[] = {"--stream", "ICES",    "--endpoint",    endpoint,  "--inbox",
                          dirs.inbox, "--state", dirs.state,      "--watch", "--ack-timeout",
                          "300",      "--set",   "settle_ms=100", NULL};
    pid_t pid = adapter_start(args, dirs.log);
    h_sleep_ms(300);
    drop_sample(dirs.inbox, "ices", "ices-1.csv");
    h_sleep_ms(1500);
    /* No daemon yet: the file waits in the inbox, the adapter keeps trying. */
    CU_ASSERT_TRUE(exists(dirs.inbox, "ices-1.csv"));
    CU_ASSERT_EQUAL(waitpid(pid, NULL, WNOHANG), 0);

    const char *const extra[] = {"--ingest", endpoint, "--today", SAMPLE_DAY, NULL};
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, extra) == 0);
    for (int i = 0; i < 200 && !exists(dirs.done, "ices-1.csv"); i++)
        h_sleep_ms(50);
    CU_ASSERT_TRUE(exists(dirs.done, "ices-1.csv"));
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 13);

    /* A file arriving while it runs is handled too; an unrelated file is not. */
    drop(dirs.inbox, "notes.txt", "not an export\n", 14);
    drop_sample(dirs.inbox, "ices", "ices-2.csv");
    for (int i = 0; i < 200 && !exists(dirs.done, "ices-2.csv"); i++)
        h_sleep_ms(50);
    CU_ASSERT_TRUE(exists(dirs.done, "ices-2.csv"));
    CU_ASSERT_TRUE(exists(dirs.inbox, "notes.txt"));
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 13);
    CU_ASSERT_TRUE(log_has(dirs.log, "ices-2.csv: done, 13 rows: 0 ok, 13 duplicate"));

    kill(pid, SIGTERM);
    CU_ASSERT_EQUAL(adapter_wait(pid, 10000), 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- the rejects file: the reason in its column, whatever the row's width -------------------- */

/* The header of an SC rejects file: the export's columns and "reason", every
 * field quoted, CRLF, after a UTF-8 byte-order mark. */
#define SC_REJECTS_HEADER                                                                          \
    "\xEF\xBB\xBF\"record_id\",\"record_type\",\"client_id\",\"nhs_number\",\"entered_at\","       \
    "\"outcome_area\",\"author_role\",\"author\",\"whats_working\",\"whats_not_working\","         \
    "\"priority\",\"no_change\",\"plan_start_date\",\"plan_end_date\",\"last_review_date\","       \
    "\"plan_reference\",\"review_held_date\",\"revise_by\",\"revision_owner\","                    \
    "\"approval_needed\",\"approver\",\"reason\"\r\n"

static void test_rejects_reason_in_its_column(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_rejwidth") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0);
    dirs_t dirs;
    dirs_for(&dirs, "rejwidth");

    /* Line 2: an unquoted comma makes 22 fields; line 3: 3 fields; line 4:
     * 21 fields, an unmapped code. */
    static const char text[] =
        "record_id,record_type,client_id,nhs_number,entered_at,outcome_area,author_role,author,"
        "whats_working,whats_not_working,priority,no_change,plan_start_date,plan_end_date,"
        "last_review_date,plan_reference,review_held_date,revise_by,revision_owner,"
        "approval_needed,approver\n"
        "w-1,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01,HOUSING,CARER,Grace,The ramp, the rail,,,N,"
        ",,,,,,,,approver x\n"
        "w-2,REVIEW_ENTRY,SC-1\n"
        "w-3,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01,WELLBEING,CARER,Grace,ok,,,N,,,,,,,,,\n";
    drop(dirs.inbox, "width.csv", text, sizeof text - 1);
    const char *args[] = {"--stream", "SC",       "--endpoint", d.ingest, "--inbox", dirs.inbox,
                          "--state",  dirs.state, "--timeout",  "30",     NULL};
    CU_ASSERT_EQUAL(adapter_run(args, dirs.log), 1);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 0);

    /* The surplus field joins the last column before the reason, with the
     * comma that split it off. */
    static const char want[] = SC_REJECTS_HEADER
        "\"w-1\",\"REVIEW_ENTRY\",\"SC-1\",\"943 476 5919\",\"2026-10-01\",\"HOUSING\",\"CARER\","
        "\"Grace\",\"The ramp\",\"the rail\",\"\",\"\",\"N\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
        "\",approver x\",\"FIELD_COUNT: the row has 22 fields but the header has 21: a value "
        "holding a comma or a line break must be in double quotes (line 2)\"\r\n"
        "\"w-2\",\"REVIEW_ENTRY\",\"SC-1\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
        "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"FIELD_COUNT: the row has 3 fields but the header "
        "has 21: a value holding a comma or a line break must be in double quotes (line 3)\"\r\n"
        "\"w-3\",\"REVIEW_ENTRY\",\"SC-1\",\"943 476 5919\",\"2026-10-01\",\"WELLBEING\","
        "\"CARER\",\"Grace\",\"ok\",\"\",\"\",\"N\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
        "\"UNMAPPED_CODE: outcome_area \"\"WELLBEING\"\" is not in [topics] of the SC mapping "
        "(built-in adapters/sc/mapping.ini): correct the row, or add the word to the mapping "
        "(line 4)\"\r\n";
    char rej[512];
    snprintf(rej, sizeof rej, "%s/width.csv.rejected.csv", dirs.done);
    size_t len = 0;
    char *got = read_file(rej, &len);
    CU_ASSERT_PTR_NOT_NULL(got);
    CU_ASSERT_EQUAL(len, sizeof want - 1);
    CU_ASSERT_STRING_EQUAL(got ? got : "", want);
    free(got);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- encodings: UTF-8, Windows-1252, UTF-16 ------------------------------------------------- */

/* The same three rows in each encoding: an enrolment, then statements with
 * characters that Windows-1252 and Latin-1 write differently (the euro sign,
 * curly quotes, the dash and the ellipsis are 0x80-0x9F in 1252, control
 * characters in Latin-1) and some they share (é, £, ë). */
#define ENC_HEADER                                                                                 \
    "record_id,record_type,client_id,nhs_number,entered_at,outcome_area,author_role,author,"       \
    "whats_working,whats_not_working,priority,no_change,plan_start_date,plan_end_date,"            \
    "last_review_date,plan_reference,review_held_date,revise_by,revision_owner,approval_needed,"   \
    "approver\r\n"
#define ENC_ROW_1 "e-1,ENROL,SC-1,943 476 5919,2026-01-05,,,,,,,,2025-06-01,,,plan,,,,,\r\n"

static const char g_enc_utf8[] = ENC_HEADER ENC_ROW_1
    "e-2,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01 09:00,HOUSING,SERVICE_USER,Zo\xC3\xAB "
    "Bront\xC3\xAB,Caf\xC3\xA9 trips cost \xC2\xA3"
    "12 \xE2\x80\x93 worth it,"
    "\"The carer\xE2\x80\x99s rota is \xE2\x80\x9Ctoo tight\xE2\x80\x9D\",GREEN,N,,,,,,,,,\r\n"
    "e-3,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01 09:05,TRANSPORT,CARER,Ren\xC3\xA9"
    "e,The bus pass saves \xE2\x82\xAC"
    "40 a month\xE2\x80\xA6,,AMBER,N,,,,,,,,,\r\n";

static const char g_enc_1252[] = ENC_HEADER ENC_ROW_1
    "e-2,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01 09:00,HOUSING,SERVICE_USER,Zo\xEB "
    "Bront\xEB,Caf\xE9 trips cost \xA3"
    "12 \x96 worth it,"
    "\"The carer\x92s rota is \x93too tight\x94\",GREEN,N,,,,,,,,,\r\n"
    "e-3,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01 09:05,TRANSPORT,CARER,Ren\xE9"
    "e,The bus pass saves \x80"
    "40 a month\x85,,AMBER,N,,,,,,,,,\r\n";

/* The built-in SC mapping with `encoding = WINDOWS-1252` in [stream],
 * written to `path`. */
static void write_1252_mapping(const char *path)
{
    const jr_mapping_builtin_t *sc = jr_mapping_builtin("SC");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
    const char *at = strstr(sc->text, "[stream]\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    size_t head = (size_t)(at - sc->text) + strlen("[stream]\n");
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(sc->text, 1, head, f);
    fputs("encoding = WINDOWS-1252\n", f);
    fputs(sc->text + head, f);
    fclose(f);
}

/* `utf8` as UTF-16LE after a byte-order mark; caller frees. */
static char *to_utf16le(const char *utf8, size_t *len)
{
    size_t n = strlen(utf8), cap = 2 + 4 * n;
    char *out = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    out[0] = '\xFF';
    out[1] = '\xFE';
    iconv_t cd = iconv_open("UTF-16LE", "UTF-8");
    CU_ASSERT_FATAL(cd != (iconv_t)-1);
    char *in = (char *)utf8, *o = out + 2;
    size_t inleft = n, outleft = cap - 2;
    CU_ASSERT_FATAL(iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1);
    iconv_close(cd);
    *len = cap - outleft;
    return out;
}

/* Runs one export through a daemon of its own and checks the statements it
 * stored, byte for byte in UTF-8. */
static void check_encoding(const char *label, const char *text, size_t len, const char *mapping)
{
    char dbname[64], name[64];
    snprintf(dbname, sizeof dbname, "adapter_enc_%s", label);
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, dbname) == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0);
    dirs_t dirs;
    snprintf(name, sizeof name, "enc-%s", label);
    dirs_for(&dirs, name);
    snprintf(name, sizeof name, "export-%s.csv", label);
    drop(dirs.inbox, name, text, len);
    const char *args[] = {"--stream",
                          "SC",
                          "--endpoint",
                          d.ingest,
                          "--inbox",
                          dirs.inbox,
                          "--state",
                          dirs.state,
                          "--timeout",
                          "30",
                          mapping ? "--mapping" : NULL,
                          mapping,
                          NULL};
    int st = adapter_run(args, dirs.log);
    CU_ASSERT_EQUAL(st, 0);
    if (st != 0)
        fprintf(stderr, "%s: the adapter exited %d; see %s\n", label, st, dirs.log);
    CU_ASSERT_TRUE(exists(dirs.done, name));
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 3);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM rejected_event"), 0);

    /* Not fatal: the daemon is stopped below whatever happens. */
    Joinedreview__V1__Envelope *e = envelope_of(&db, "e-2");
    CU_ASSERT_PTR_NOT_NULL(e);
    if (e) {
        CU_ASSERT_STRING_EQUAL(e->contribution->author_name, "Zo\xC3\xAB Bront\xC3\xAB");
        CU_ASSERT_STRING_EQUAL(e->contribution->working, "Caf\xC3\xA9 trips cost \xC2\xA3"
                                                         "12 \xE2\x80\x93 worth it");
        CU_ASSERT_STRING_EQUAL(e->contribution->not_working,
                               "The carer\xE2\x80\x99s rota is \xE2\x80\x9Ctoo tight\xE2\x80\x9D");
        joinedreview__v1__envelope__free_unpacked(e, NULL);
    }
    e = envelope_of(&db, "e-3");
    CU_ASSERT_PTR_NOT_NULL(e);
    if (e) {
        CU_ASSERT_STRING_EQUAL(e->contribution->author_name, "Ren\xC3\xA9"
                                                             "e");
        CU_ASSERT_STRING_EQUAL(e->contribution->working, "The bus pass saves \xE2\x82\xAC"
                                                         "40 a month\xE2\x80\xA6");
        joinedreview__v1__envelope__free_unpacked(e, NULL);
    }
    /* The same rows, the same ids, whatever the bytes they came in. */
    char text_ids[512];
    CU_ASSERT_EQUAL(h_sql_text(&db,
                               "SELECT string_agg(source_event_id, ' ' ORDER BY source_event_id) "
                               "FROM event",
                               text_ids, sizeof text_ids),
                    0);
    static char first_ids[512];
    if (!first_ids[0])
        snprintf(first_ids, sizeof first_ids, "%s", text_ids);
    CU_ASSERT_STRING_EQUAL(text_ids, first_ids);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

static void test_encodings(void)
{
    char mapping[512];
    path_of(mapping, sizeof mapping, "sc-1252.ini", NULL);
    write_1252_mapping(mapping);

    check_encoding("utf8", g_enc_utf8, sizeof g_enc_utf8 - 1, NULL);
    check_encoding("cp1252", g_enc_1252, sizeof g_enc_1252 - 1, mapping);
    size_t len;
    char *utf16 = to_utf16le(g_enc_utf8, &len);
    check_encoding("utf16", utf16, len, NULL); /* found by its byte-order mark */
    free(utf16);
}

/* A byte that Windows-1252 does not define refuses its row, with the
 * encoding and the line; the other rows arrive. */
static void test_undecodable_row_refused(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_undecodable") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0);
    dirs_t dirs;
    dirs_for(&dirs, "undecodable");
    char mapping[512];
    path_of(mapping, sizeof mapping, "sc-1252-b.ini", NULL);
    write_1252_mapping(mapping);

    static const char text[] = ENC_HEADER ENC_ROW_1
        "u-2,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01 09:00,HOUSING,CARER,Grace,"
        "\"Two lines,\r\nthe second with \x81 in it\",,GREEN,N,,,,,,,,,\r\n"
        "u-3,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01 09:05,TRANSPORT,CARER,Ren\xE9"
        "e,Fine,,AMBER,N,,,,,,,,,\r\n";
    drop(dirs.inbox, "bad.csv", text, sizeof text - 1);
    const char *args[] = {"--stream",  "SC",      "--endpoint", d.ingest,    "--inbox",
                          dirs.inbox,  "--state", dirs.state,   "--timeout", "30",
                          "--mapping", mapping,   NULL};
    CU_ASSERT_EQUAL(adapter_run(args, dirs.log), 1);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 2);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event WHERE source_event_id LIKE 'u-2-%'"),
                    0);

    char rej[512];
    snprintf(rej, sizeof rej, "%s/bad.csv.rejected.csv", dirs.done);
    char *got = read_file(rej, NULL);
    CU_ASSERT_PTR_NOT_NULL(got);
    static const char want[] = SC_REJECTS_HEADER
        "\"u-2\",\"REVIEW_ENTRY\",\"SC-1\",\"943 476 5919\",\"2026-10-01 09:00\",\"HOUSING\","
        "\"CARER\",\"Grace\",\"Two lines,\r\nthe second with \xEF\xBF\xBD in it\",\"\","
        "\"GREEN\",\"N\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
        "\"BAD_ENCODING: line 4 has bytes that are not WINDOWS-1252 text (0x81): correct the "
        "row, or name the export's encoding in the SC mapping ([stream] encoding) (line 3)\"\r\n";
    CU_ASSERT_STRING_EQUAL(got ? got : "", want);
    if (got && strcmp(got, want) != 0)
        fprintf(stderr, "got:\n%s\n", got);
    free(got);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- memory bounded whatever the file's size ----------------------------------------------- */

/* Writes an SC export of `rows` contributions of about 1 KB each, about
 * `rows` / 10 persons, straight to `path` (the test itself never holds it:
 * the adapter's peak memory is measured from its fork). */
static void write_large_export(const char *path, char prefix, int rows)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(sc_header, f);
    char pad[901];
    for (size_t i = 0; i < sizeof pad - 1; i++)
        pad[i] = "abcdefghij klmnopqrstuvwxyz"[i % 27];
    pad[sizeof pad - 1] = '\0';
    for (int i = 0; i < rows; i++) {
        char nhs[11];
        h_nhs_of(i / 10, nhs);
        fprintf(f,
                "%c-%06d,REVIEW_ENTRY,,%s,2026-%02d-%02d,%s,%s,Tester,entry %d %s,,,N,,,,,,,,,\n",
                prefix, i, nhs, 1 + i % 9, 1 + i % 28, g_codes[topic_of(i)], g_roles[role_of(i)], i,
                pad);
    }
    CU_ASSERT_EQUAL(fclose(f), 0);
}

/* Runs the adapter one-shot on one export of `rows` rows; returns its peak
 * resident memory in KiB (getrusage of the child). */
static long run_measured(const h_daemon_t *d, const char *label, int rows, int64_t *ms)
{
    dirs_t dirs;
    dirs_for(&dirs, label);
    char path[512];
    snprintf(path, sizeof path, "%s/.large.csv.part", dirs.inbox);
    write_large_export(path, label[4], rows);
    char final[512];
    snprintf(final, sizeof final, "%s/large.csv", dirs.inbox);
    CU_ASSERT_EQUAL_FATAL(rename(path, final), 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(final, &st), 0);

    const char *args[] = {"--stream", "SC",       "--endpoint", d->ingest, "--inbox", dirs.inbox,
                          "--state",  dirs.state, "--timeout",  "120",     NULL};
    int64_t t0 = h_now_ms();
    pid_t pid = adapter_start(args, dirs.log);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    CU_ASSERT_EQUAL(wait4(pid, &status, 0, &ru), pid);
    *ms = h_now_ms() - t0;
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_TRUE(exists(dirs.done, "large.csv"));
    fprintf(stderr, "\n  %d rows, %.1f MB: %lld ms, adapter peak RSS %.1f MiB\n", rows,
            (double)st.st_size / 1e6, (long long)*ms, (double)ru.ru_maxrss / 1024);
    unlink(final);
    char done[512];
    snprintf(done, sizeof done, "%s/large.csv", dirs.done);
    unlink(done);
    return ru.ru_maxrss;
}

static void test_memory_bounded(void)
{
    enum { SMALL = 5000, LARGE = 50000 };
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_memory") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0);
    int64_t ms_small, ms_large;
    long small = run_measured(&d, "mem-small", SMALL, &ms_small);
    long large = run_measured(&d, "mem-large", LARGE, &ms_large);
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), SMALL + LARGE);
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer keeps freed memory in quarantine and shadow: the
     * figures above are printed, not bounded. */
    (void)small;
    (void)large;
#else
    /* Ten times the rows (and ~50 MB against ~5 MB): the same memory. */
    CU_ASSERT(large < JR_ADAPTER_MEMORY_BOUND_KB);
    CU_ASSERT(large - small < 4096);
#endif
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- watch mode: a file written in place, with a pause -----------------------------------------
 */

/* An SC export of `rows` rows about H_NHS_A, one per topic and role, as text. */
static void watch_rows(char *out, size_t cap, int first, int last)
{
    size_t n = 0;
    for (int i = first; i <= last && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n,
                              "p-%03d,REVIEW_ENTRY,SC-1,%s,2026-10-01 09:%02d,%s,%s,Tester,entry "
                              "%d,,,N,,,,,,,,,\n",
                              i, H_NHS_A, i % 60, g_codes[topic_of(i)], g_roles[role_of(i)], i);
}

/* Writes rows first..first+39 to inbox/`name` in place, in two halves with
 * a pause of pause_ms after the first, which ends in the middle of its 21st
 * row. With reopen, the file is closed during the pause and opened again to
 * append. During the pause another export arrives, and nothing of this
 * file is sent or moved. */
static void write_in_place(const h_db_t *db, const dirs_t *dirs, const char *name, int first,
                           bool reopen, int pause_ms)
{
    char text[16384], key[16];
    size_t n = (size_t)snprintf(text, sizeof text, "%s", sc_header);
    watch_rows(text + n, sizeof text - n, first, first + 39);
    snprintf(key, sizeof key, "p-%03d,", first + 20);
    const char *cut = strstr(text, key);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
    cut += 30; /* in the middle of the row: no line end after it */
    size_t half = (size_t)(cut - text), len = strlen(text);
    long long before = sql_int(db, "SELECT count(*) FROM event");

    char path[512];
    snprintf(path, sizeof path, "%s/%s", dirs->inbox, name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(text, 1, half, f), half);
    fflush(f);
    if (reopen)
        fclose(f);
    /* Another export arriving meanwhile makes the adapter look at the inbox
     * during the pause: a header alone, no rows. */
    h_sleep_ms(500);
    char nudge[64];
    snprintf(nudge, sizeof nudge, "nudge-%s", name);
    drop(dirs->inbox, nudge, sc_header, sizeof sc_header - 1);
    h_sleep_ms(pause_ms - 500);
    CU_ASSERT_TRUE(exists(dirs->done, nudge));
    CU_ASSERT_FALSE(exists(dirs->done, name));
    CU_ASSERT_EQUAL(sql_int(db, "SELECT count(*) FROM event"), before);
    if (reopen) {
        f = fopen(path, "ab");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    }
    CU_ASSERT_EQUAL(fwrite(text + half, 1, len - half, f), len - half);
    CU_ASSERT_EQUAL(fclose(f), 0);
}

static void test_watch_file_written_in_place(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_inplace") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0);
    dirs_t dirs;
    dirs_for(&dirs, "inplace");
    /* settle_ms is the default, 2 s: each pause is longer. */
    const char *args[] = {"--stream", "SC",      "--endpoint", d.ingest,  "--inbox",
                          dirs.inbox, "--state", dirs.state,   "--watch", NULL};
    pid_t pid = adapter_start(args, dirs.log);
    h_sleep_ms(300);

    static const struct {
        const char *name;
        int first;
        bool reopen;
    } cases[] = {{"open.csv", 1, false}, {"reopened.csv", 41, true}};
    for (size_t c = 0; c < 2; c++) {
        write_in_place(&db, &dirs, cases[c].name, cases[c].first, cases[c].reopen, 4000);
        for (int i = 0; i < 300 && !exists(dirs.done, cases[c].name); i++)
            h_sleep_ms(50);
        CU_ASSERT_TRUE(exists(dirs.done, cases[c].name));
        CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 40 * (long long)(c + 1));
        char rej[128];
        snprintf(rej, sizeof rej, "%s.rejected.csv", cases[c].name);
        CU_ASSERT_FALSE(exists(dirs.done, rej));
        CU_ASSERT_FALSE(exists(dirs.inbox, rej));
        char line[128];
        snprintf(line, sizeof line, "%s: done, 40 rows: 40 ok, 0 duplicate, 0 parked, 0 rejected",
                 cases[c].name);
        CU_ASSERT_TRUE(log_has(dirs.log, line));
    }
    kill(pid, SIGTERM);
    CU_ASSERT_EQUAL(adapter_wait(pid, 10000), 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* One-shot, so no inotify: a file some process has open for writing is left
 * where it is, even when what it holds so far ends with a line end, because
 * the kernel grants no read lease on it. */
static void test_open_for_writing_left_alone(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_lease") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0);
    dirs_t dirs;
    dirs_for(&dirs, "lease");

    /* Leases need the file's owner (or CAP_LEASE) and a file system that
     * has them: without, the adapter relies on inotify and the torn line. */
    char probe[512];
    snprintf(probe, sizeof probe, "%s/.probe", dirs.inbox);
    write_file(probe, "x", 1);
    int pfd = open(probe, O_RDONLY);
    bool leases = pfd >= 0 && fcntl(pfd, F_SETLEASE, F_RDLCK) == 0;
    if (leases)
        fcntl(pfd, F_SETLEASE, F_UNLCK);
    if (pfd >= 0)
        close(pfd);
    unlink(probe);
    if (!leases) {
        fprintf(stderr, "\n  no file leases here (%s): skipped\n", strerror(errno));
        CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
        return;
    }

    char text[16384];
    size_t n = (size_t)snprintf(text, sizeof text, "%s", sc_header);
    watch_rows(text + n, sizeof text - n, 81, 120);
    const char *cut = strstr(text, "p-101,"); /* 20 whole rows, then a pause */
    CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
    size_t half = (size_t)(cut - text), len = strlen(text);
    char path[512];
    snprintf(path, sizeof path, "%s/lease.csv", dirs.inbox);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(text, 1, half, f), half);
    fflush(f);

    const char *args[] = {"--stream", "SC",       "--endpoint", d.ingest, "--inbox", dirs.inbox,
                          "--state",  dirs.state, "--timeout",  "30",     NULL};
    CU_ASSERT_EQUAL(adapter_run(args, dirs.log), 0);
    CU_ASSERT_TRUE(exists(dirs.inbox, "lease.csv"));
    CU_ASSERT_FALSE(exists(dirs.done, "lease.csv"));
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 0);
    CU_ASSERT_TRUE(log_has(dirs.log, "lease.csv is open for writing; left until it is closed"));

    CU_ASSERT_EQUAL(fwrite(text + half, 1, len - half, f), len - half);
    CU_ASSERT_EQUAL(fclose(f), 0);
    CU_ASSERT_EQUAL(adapter_run(args, dirs.log), 0);
    CU_ASSERT_TRUE(exists(dirs.done, "lease.csv"));
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 40);
    CU_ASSERT_TRUE(
        log_has(dirs.log, "lease.csv: done, 40 rows: 40 ok, 0 duplicate, 0 parked, 0 rejected"));
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* A file whose last line has no line end is taken to be still being
 * written, even when it arrived by rename and nothing has it open; once it
 * has stayed so for torn_wait_s, it is taken as it is, its last line its
 * last row. */
static void test_torn_last_line(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "adapter_torn") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0);
    dirs_t dirs;
    dirs_for(&dirs, "torn");
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "%s", sc_header);
    watch_rows(text + n, sizeof text - n, 121, 125);
    size_t len = strlen(text) - 1; /* no line end after the last row */
    drop(dirs.inbox, "torn.csv", text, len);

    const char *args[] = {"--stream", "SC",       "--endpoint", d.ingest, "--inbox", dirs.inbox,
                          "--state",  dirs.state, "--timeout",  "30",     NULL};
    CU_ASSERT_EQUAL(adapter_run(args, dirs.log), 0);
    CU_ASSERT_TRUE(exists(dirs.inbox, "torn.csv"));
    CU_ASSERT_FALSE(exists(dirs.done, "torn.csv"));
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 0);
    CU_ASSERT_TRUE(log_has(dirs.log, "torn.csv: its last line has no line end, so it is taken to "
                                     "be still being written: left in the inbox until it changes "
                                     "(taken as it is once unchanged for 600 s)"));

    /* Unchanged for ten seconds, and torn_wait_s is 5: its last line is
     * its last row. */
    char path[512];
    snprintf(path, sizeof path, "%s/torn.csv", dirs.inbox);
    struct timespec then[2];
    clock_gettime(CLOCK_REALTIME, &then[0]);
    then[0].tv_sec -= 10;
    then[1] = then[0];
    CU_ASSERT_EQUAL(utimensat(AT_FDCWD, path, then, 0), 0);
    const char *later[] = {"--stream", "SC",      "--endpoint", d.ingest, "--inbox",
                           dirs.inbox, "--state", dirs.state,   "--set",  "torn_wait_s=5",
                           NULL};
    CU_ASSERT_EQUAL(adapter_run(later, dirs.log), 0);
    CU_ASSERT_TRUE(exists(dirs.done, "torn.csv"));
    CU_ASSERT_EQUAL(sql_int(&db, "SELECT count(*) FROM event"), 5);
    CU_ASSERT_TRUE(log_has(dirs.log, "torn.csv: its last line has no line end, unchanged for 5 s: "
                                     "taking it as it is (its last line is its last row)"));
    CU_ASSERT_TRUE(
        log_has(dirs.log, "torn.csv: done, 5 rows: 5 ok, 0 duplicate, 0 parked, 0 rejected"));
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- setup ------------------------------------------------------------------------------------
 */

/* ---- a server_key that is not a key ---------------------------------------- */

/* A server_key of the wrong length or alphabet is refused at start-up with
 * a sentence that says where the key is, before any socket is made (it
 * used to pass, and then fail as "cannot use endpoint ...: Invalid
 * argument"). */
static void test_bad_server_key_refused_at_start(void)
{
    dirs_t dirs;
    dirs_for(&dirs, "badkey");
    const char *const bad[] = {"abc", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf,"};
    for (size_t i = 0; i < 2; i++) {
        char set[80];
        snprintf(set, sizeof set, "server_key=%s", bad[i]);
        const char *args[] = {"--stream", "SC", "--inbox",   dirs.inbox, "--state", dirs.state,
                              "--set",    set,  "--timeout", "1",        NULL};
        CU_ASSERT_EQUAL(adapter_run(args, dirs.log), 2);
    }
    CU_ASSERT_TRUE(log_has(dirs.log, "'server_key' is not a public key (3 characters; a key is 40 "
                                     "of the Z85 alphabet): copy the quoted value of the "
                                     "public-key line of the daemon's server.pub"));
    CU_ASSERT_TRUE(log_has(dirs.log, "'server_key' is not a public key (40 characters;"));
    CU_ASSERT_FALSE(log_has(dirs.log, "cannot use endpoint"));
}

static int suite_init(void)
{
    snprintf(g_root, sizeof g_root, "/tmp/jr-adapter-test-XXXXXX");
    if (!mkdtemp(g_root))
        return 1;
    fprintf(stderr, "scratch directory %s\n", g_root);
    return 0;
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"six streams' samples arrive; running them again changes nothing",
         test_samples_of_six_streams},
        {"malformed rows refused with reasons while good rows arrive",
         test_malformed_rows_refused_good_rows_arrive},
        {"kill -9 mid-file, restart: every row stored exactly once",
         test_kill9_mid_file_then_restart},
        {"daemon stopped mid-file and started again: nothing lost or doubled",
         test_daemon_restart_mid_file},
        {"watch mode: files as they arrive, the daemon starting later",
         test_watch_mode_daemon_starts_later},
        {"the rejects file keeps the reason in its column, whatever the row's width",
         test_rejects_reason_in_its_column},
        {"UTF-8, Windows-1252 and UTF-16 exports store the same statements", test_encodings},
        {"an undecodable byte refuses its row, naming the encoding and the line",
         test_undecodable_row_refused},
        {"memory stays bounded whatever the export's size", test_memory_bounded},
        {"watch mode: a file written in place with a pause is taken only when complete",
         test_watch_file_written_in_place},
        {"a file open for writing is left where it is", test_open_for_writing_left_alone},
        {"a torn last line is waited for, then taken as it is after torn_wait_s",
         test_torn_last_line},
        {"a server_key that is not a key is refused at start-up, saying where the key is",
         test_bad_server_key_refused_at_start},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {
        {"adapter", suite_init, NULL, NULL, NULL, tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
