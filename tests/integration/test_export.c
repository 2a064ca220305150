/* test_export.c -- joinedreview-export, the real binary, against the real
 * daemon and its real sockets, with a CURVE key whose allow-list entry is
 * `records = ATW`: one funding stream's records only.
 *
 *  - The ATW extract of a person enrolled in ATW, SC and ILF holds ATW's
 *    minimum information and no statement on keeping healthy or family
 *    (literal CSV header and rows, the JSON's areas); persons whose review
 *    was not held, or who are not in ATW, get no file. The daemon's side of
 *    the same key: a snapshot of another stream is refused, and a replay
 *    carries other persons' publications without their payload and this
 *    person's review cut.
 *  - kill -9 of the exporter while it writes 300 files: after a restart
 *    every person has exactly one CSV and one JSON, no temporary file is
 *    left, and the files written before the kill were not written again
 *    (same inode, same modification time). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#include "harness.h"
#include "jr_cunit.h"

#ifndef JR_EXPORT_PATH
#error "JR_EXPORT_PATH must name the joinedreview-export binary"
#endif

#define T0    1790845200000LL /* 2026-10-01T09:00:00Z */
#define HOUR  3600000LL
#define ST_OK JOINEDREVIEW__V1__ACK__STATUS__OK
#define T(x)  JOINEDREVIEW__V1__TOPIC__##x
#define R(x)  JOINEDREVIEW__V1__ROLE__##x
#define P(x)  JOINEDREVIEW__V1__PRIORITY__##x

#define MANY 150 /* persons in the kill -9 test: 300 files */

typedef struct {
    char pub[41];
    char sec[41];
} keypair_t;

static keypair_t g_server, g_export, g_pusher;
static char g_dir[256], g_allow[300], g_server_file[300], g_export_key[300];

static void write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void write_keyfile(const char *path, const keypair_t *k)
{
    char text[256];
    snprintf(text, sizeof text, "public-key = \"%s\"\nsecret-key = \"%s\"\n", k->pub, k->sec);
    write_text(path, text, 0600);
}

static int suite_init(void)
{
    if (h_suite_init() != 0) {
        return 1;
    }
    keypair_t *all[] = {&g_server, &g_export, &g_pusher};
    for (size_t i = 0; i < 3; i++) {
        if (zmq_curve_keypair(all[i]->pub, all[i]->sec) != 0) {
            return 1;
        }
    }
    snprintf(g_dir, sizeof g_dir, "%s/export-%d",
             getenv("JR_TEST_PGDIR") ? getenv("JR_TEST_PGDIR") : "/tmp", (int)getpid());
    mkdir(g_dir, 0700);
    snprintf(g_allow, sizeof g_allow, "%s/allow.ini", g_dir);
    snprintf(g_server_file, sizeof g_server_file, "%s/server.key", g_dir);
    snprintf(g_export_key, sizeof g_export_key, "%s/atw-export.key", g_dir);
    write_keyfile(g_server_file, &g_server);
    write_keyfile(g_export_key, &g_export);
    char text[600];
    snprintf(text, sizeof text,
             "[client.back-offices]\npublic_key = %s\nstreams = ALL\n\n"
             "[client.atw-export]\npublic_key = %s\nrecords = ATW\n",
             g_pusher.pub, g_export.pub);
    write_text(g_allow, text, 0644);
    return 0;
}

static int start(h_daemon_t *d, h_db_t *db)
{
    char key[400], allow[400];
    snprintf(key, sizeof key, "daemon.server_key_file=%s", g_server_file);
    snprintf(allow, sizeof allow, "daemon.allow_list_file=%s", g_allow);
    const char *const extra[] = {"--set", "daemon.security=curve", "--set", key, "--set", allow,
                                 NULL};
    return h_daemon_start(d, db, extra);
}

static void *pusher(const h_daemon_t *d)
{
    void *s = zmq_socket(h_zctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, g_server.pub, 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, g_pusher.pub, 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, g_pusher.sec, 40);
    zmq_connect(s, d->ingest);
    return s;
}

/* Starts the exporter for ATW into out/ with its state in state/ under
 * dir; idle_exit 0: until killed. Its log goes to dir/export.log. */
static pid_t exporter(const h_daemon_t *d, const char *dir, int idle_exit)
{
    char out[400], state[400], log[400], endpoint[400], server[400], keyfile[400], idle[16];
    snprintf(out, sizeof out, "export.outbound=%s/out", dir);
    snprintf(state, sizeof state, "export.state=%s/state/sequence", dir);
    snprintf(log, sizeof log, "%s/export.log", dir);
    snprintf(endpoint, sizeof endpoint, "export.catchup_endpoint=%s", d->catchup);
    snprintf(server, sizeof server, "export.server_key=%s", g_server.pub);
    snprintf(keyfile, sizeof keyfile, "export.key_file=%s", g_export_key);
    snprintf(idle, sizeof idle, "%d", idle_exit);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        const char *argv[] = {JR_EXPORT_PATH, "--stream", "ATW", "--set", out, "--set", state,
                              "--set", endpoint, "--set", server, "--set", keyfile,
                              "--set", "export.poll_ms=200", idle_exit ? "--idle-exit" : NULL,
                              idle, NULL};
        execv(JR_EXPORT_PATH, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid, int timeout_ms)
{
    int64_t until = h_now_ms() + timeout_ms;
    int status = 0;
    while (h_now_ms() < until) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        h_sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The names in dir, sorted, joined by spaces (out: len bytes); the count. */
static int listing(const char *dir, char *out, size_t len)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    int count = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            size_t used = strlen(out);
            snprintf(out + used, len - used, "%s%s", count ? " " : "", names[i]->d_name);
            count++;
        }
        free(names[i]);
    }
    free(names);
    return count;
}

/* ---- the ATW extract of a person in ATW, SC and ILF ------------------------ */

static bool any_statement_on(json_t *doc, const char *topic)
{
    size_t i, k;
    json_t *area, *st;
    json_array_foreach(json_object_get(doc, "areas"), i, area)
    {
        json_array_foreach(json_object_get(area, "statements"), k, st)
        {
            if (strcmp(json_string_value(json_object_get(st, "topic")), topic) == 0) {
                return true;
            }
        }
    }
    return false;
}

typedef struct {
    int with_payload, without_payload;
    bool health_seen, employment_seen;
} replay_t;

static bool on_reply(void *arg, Joinedreview__V1__CatchupReply *reply)
{
    replay_t *rp = arg;
    for (size_t i = 0; i < reply->n_items; i++) {
        Joinedreview__V1__Publication *p = reply->items[i];
        if (!p->has_payload || p->payload.len == 0) {
            rp->without_payload++;
            continue;
        }
        rp->with_payload++;
        if (strcmp(p->topic, "review") != 0) {
            continue;
        }
        Joinedreview__V1__ConsolidatedReview *r =
            joinedreview__v1__consolidated_review__unpack(NULL, p->payload.len, p->payload.data);
        for (size_t a = 0; r != NULL && a < r->n_areas; a++) {
            for (size_t s = 0; s < r->areas[a]->n_statements; s++) {
                rp->health_seen |= r->areas[a]->statements[s]->topic == T(HEALTH);
                rp->employment_seen |= r->areas[a]->statements[s]->topic == T(EMPLOYMENT);
            }
        }
        if (r != NULL) {
            joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
        }
    }
    return false;
}

static void test_atw_extract_holds_no_health_or_family(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_EQUAL_FATAL(h_db_create(&db, "jr_export_cut"), 0);
    CU_ASSERT_EQUAL_FATAL(start(&d, &db), 0);
    void *s = pusher(&d);
    h_env_t e;
    /* SC's first review is due 2026-10-15 (56 days after 2026-08-20), ATW's
     * 84 days before its award ends on 2027-01-07, the same day; ILF's
     * (730 days) 87 days later, inside the 90-day window: one review covers
     * all three, and SC leads it. */
    h_enrolment(&e, "SC", "sc-e", T0, H_NHS_A, NULL, "2026-08-20");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    h_enrolment(&e, "ILF", "ilf-e", T0, H_NHS_A, NULL, "2025-01-10");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    h_enrolment(&e, "ATW", "atw-e", T0, H_NHS_A, NULL, "2024-01-08");
    e.enrolment.award_ends_on = "2027-01-07";
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    h_contribution(&e, "SC", "sc-health", T0 + HOUR, H_NHS_A, T(HEALTH), R(PERSON), P(RED),
                   "SECRET-HEALTH: spasms at night");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    h_contribution(&e, "ILF", "ilf-family", T0 + HOUR, H_NHS_A, T(FAMILY), R(CARER), P(AMBER),
                   "SECRET-FAMILY: a short break from caring");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    h_contribution(&e, "ATW", "atw-job", T0 + HOUR, H_NHS_A, T(EMPLOYMENT), R(STREAM_OFFICER),
                   P(GREEN), "Works three days a week, \"settled\", in the library");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    h_contribution(&e, "SC", "sc-income", T0 + HOUR, H_NHS_A, T(INCOME), R(COUNCIL), P(NOT_GIVEN),
                   "Receives PIP");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    h_review_held(&e, "SC", "sc-held", T0 + 2 * HOUR, H_NHS_A, "2026-10-01");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    /* B: social care only, review held. C: ATW, review not held. */
    h_enrolment(&e, "SC", "sc-e-b", T0, H_NHS_B, NULL, "2026-08-20");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    h_contribution(&e, "SC", "sc-b", T0 + HOUR, H_NHS_B, T(HEALTH), R(PERSON), P(RED),
                   "SECRET-B: not ATW's");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    h_review_held(&e, "SC", "sc-held-b", T0 + 2 * HOUR, H_NHS_B, "2026-10-01");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    char nhs_c[11];
    h_nhs_of(7, nhs_c);
    h_enrolment(&e, "ATW", "atw-e-c", T0, nhs_c, NULL, "2026-01-05");
    CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);

    char dir[400], path[500], names[4096];
    snprintf(dir, sizeof dir, "%s/cut", g_dir);
    mkdir(dir, 0700);
    CU_ASSERT_EQUAL(wait_exit(exporter(&d, dir, 2), 60000), 0);
    snprintf(path, sizeof path, "%s/out", dir);
    CU_ASSERT_EQUAL(listing(path, names, sizeof names), 2);
    CU_ASSERT_STRING_EQUAL(names, "9434765919-cycle1.csv 9434765919-cycle1.json");

    snprintf(path, sizeof path, "%s/out/9434765919-cycle1.csv", dir);
    char *csv = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    const char *header =
        "nhs_number,preferred_name,cycle,held_on,stream,minimum_information_met,area,area_title,"
        "area_priority,priority_from_person,conflict,topic,topic_title,working,not_working,"
        "no_change,statement_priority,said_by_role,said_by_name,said_for_stream,occurred_at,"
        "source_event_id,next_review_on,lead,plan_revise_by,plan_revised_by,"
        "plan_approval_needed\r\n";
    CU_ASSERT_EQUAL(strncmp(csv, header, strlen(header)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        csv, "\"9434765919\",\"\",\"1\",\"2026-10-01\",\"ATW\",\"false\",\"5\","
             "\"Information / Education and training / Employment\",\"GREEN\",\"false\","
             "\"false\",\"EMPLOYMENT\",\"Employment\",\"Works three days a week, "
             "\"\"settled\"\", in the library\",\"\",\"false\",\"GREEN\",\"STREAM_OFFICER\",\"\","
             "\"ATW\",\"2026-10-01T10:00:00Z\",\"atw-job\",\"2026-10-15\",\"ATW\",\"\",\"\",\"\"\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\"INCOME\",\"Income and benefits\",\"Receives PIP\""));
    /* ATW's seven topics: one row each (EMPLOYMENT and INCOME said, the
     * other five missing), and nothing else. */
    int rows = 0;
    for (const char *c = csv; (c = strstr(c, "\r\n")) != NULL; c += 2) {
        rows++;
    }
    CU_ASSERT_EQUAL(rows, 1 + 7);
    CU_ASSERT_PTR_NULL(strstr(csv, "SECRET"));
    CU_ASSERT_PTR_NULL(strstr(csv, "\"HEALTH\""));
    CU_ASSERT_PTR_NULL(strstr(csv, "\"FAMILY\""));
    free(csv);

    snprintf(path, sizeof path, "%s/out/9434765919-cycle1.json", dir);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "stream")), "ATW");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "held_on")), "2026-10-01");
    json_t *areas = json_object_get(doc, "areas");
    CU_ASSERT_EQUAL_FATAL(json_array_size(areas), 4);
    static const int shown[4] = {1, 3, 5, 8};
    for (size_t i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(areas, i), "number")),
                        shown[i]);
    }
    CU_ASSERT_FALSE(any_statement_on(doc, "HEALTH"));
    CU_ASSERT_FALSE(any_statement_on(doc, "FAMILY"));
    CU_ASSERT_TRUE(any_statement_on(doc, "EMPLOYMENT"));
    json_t *minimum = json_array_get(json_object_get(doc, "minimum_information"), 0);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(doc, "minimum_information")), 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(minimum, "stream")), "ATW");
    json_decref(doc);
    char *text = slurp(path);
    CU_ASSERT_PTR_NULL(strstr(text, "SECRET"));
    free(text);

    /* The daemon's side of the key. */
    jr_subscriber_t *c = h_catchup_client(h_zctx, d.catchup, g_server.pub, g_export.pub,
                                          g_export.sec);
    jr_subscriber_request_t other = {.kind = JR_SUBSCRIBER_ASK_SNAPSHOT, .stream = "SC"};
    CU_ASSERT_EQUAL(jr_subscriber_ask(c, &other, NULL, NULL, 10000),
                    JR_SUBSCRIBER_REPLY_BAD_REQUEST);
    CU_ASSERT_STRING_EQUAL(jr_subscriber_reason(c),
                           "not authorised: this key reads ATW's records only");
    jr_subscriber_request_t stats = {.kind = JR_SUBSCRIBER_ASK_STATISTICS};
    CU_ASSERT_EQUAL(jr_subscriber_ask(c, &stats, NULL, NULL, 10000),
                    JR_SUBSCRIBER_REPLY_BAD_REQUEST);
    replay_t rp = {0};
    jr_subscriber_request_t since = {.kind = JR_SUBSCRIBER_ASK_SINCE, .after = 0};
    CU_ASSERT_EQUAL(jr_subscriber_ask(c, &since, on_reply, &rp, 10000), JR_SUBSCRIBER_REPLY_OK);
    CU_ASSERT_TRUE(rp.with_payload > 0);
    CU_ASSERT_TRUE(rp.without_payload > 0); /* B's records and notices */
    CU_ASSERT_TRUE(rp.employment_seen);
    CU_ASSERT_FALSE(rp.health_seen);
    jr_subscriber_destroy(&c);

    zmq_close(s);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- kill -9 mid-run --------------------------------------------------------- */

typedef struct {
    char name[64];
    ino_t ino;
    struct timespec mtime;
} seen_t;

static void test_kill_9_loses_and_duplicates_nothing(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_EQUAL_FATAL(h_db_create(&db, "jr_export_kill"), 0);
    CU_ASSERT_EQUAL_FATAL(start(&d, &db), 0);
    void *s = pusher(&d);
    h_env_t e;
    char nhs[MANY][11], id[64];
    for (int i = 0; i < MANY; i++) {
        h_nhs_of(1000 + i, nhs[i]);
        snprintf(id, sizeof id, "atw-e-%d", i);
        h_enrolment(&e, "ATW", id, T0, nhs[i], NULL, "2024-01-08");
        e.enrolment.award_ends_on = "2027-01-07";
        CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
        snprintf(id, sizeof id, "atw-c-%d", i);
        h_contribution(&e, "ATW", id, T0 + HOUR, nhs[i], T(TRANSPORT), R(PERSON), P(AMBER),
                       "Taxi fares to work");
        CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
        snprintf(id, sizeof id, "atw-h-%d", i);
        h_review_held(&e, "ATW", id, T0 + 2 * HOUR, nhs[i], "2026-10-01");
        CU_ASSERT_EQUAL(h_push(s, &e.env, NULL), ST_OK);
    }

    char dir[400], out[500], path[1200];
    snprintf(dir, sizeof dir, "%s/kill", g_dir);
    snprintf(out, sizeof out, "%s/out", dir);
    mkdir(dir, 0700);
    pid_t pid = exporter(&d, dir, 0);
    /* Killed once it has written some, long before it is done. */
    static char names[MANY * 2 * 32];
    int before = 0;
    int64_t until = h_now_ms() + 60000;
    while (h_now_ms() < until && (before = listing(out, names, sizeof names)) < 20) {
        h_sleep_ms(1);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    before = listing(out, names, sizeof names);
    CU_ASSERT_TRUE(before >= 20);
    CU_ASSERT_TRUE(before < 2 * MANY);
    static seen_t seen[2 * MANY];
    int n_seen = 0;
    for (char *tok = strtok(names, " "); tok != NULL && n_seen < 2 * MANY;
         tok = strtok(NULL, " ")) {
        size_t len = strlen(tok);
        if (len > 4 && strcmp(tok + len - 4, ".tmp") == 0) {
            continue; /* cut off mid-write: written again */
        }
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", out, tok);
        if (stat(path, &st) == 0) {
            snprintf(seen[n_seen].name, sizeof seen[n_seen].name, "%s", tok);
            seen[n_seen].ino = st.st_ino;
            seen[n_seen].mtime = st.st_mtim;
            n_seen++;
        }
    }

    CU_ASSERT_EQUAL(wait_exit(exporter(&d, dir, 2), 120000), 0);
    CU_ASSERT_EQUAL(listing(out, names, sizeof names), 2 * MANY);
    CU_ASSERT_PTR_NULL(strstr(names, ".tmp"));
    for (int i = 0; i < MANY; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%.10s-cycle1.csv", out, nhs[i]);
        CU_ASSERT_EQUAL(stat(path, &st), 0);
        snprintf(path, sizeof path, "%s/%.10s-cycle1.json", out, nhs[i]);
        CU_ASSERT_EQUAL(stat(path, &st), 0);
    }
    for (int i = 0; i < n_seen; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%.63s", out, seen[i].name);
        CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
        CU_ASSERT_EQUAL(st.st_ino, seen[i].ino);
        CU_ASSERT_EQUAL(st.st_mtim.tv_sec, seen[i].mtime.tv_sec);
        CU_ASSERT_EQUAL(st.st_mtim.tv_nsec, seen[i].mtime.tv_nsec);
    }
    /* The state file holds the daemon's last publication. */
    snprintf(path, sizeof path, "%s/state/sequence", dir);
    char *state = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(state);
    CU_ASSERT_EQUAL(strtoll(state, NULL, 10), h_sql_int(&db, "SELECT max(seq) FROM outbox"));
    free(state);
    printf("\n  killed after %d of %d files; %d complete ones kept as they were\n", before,
           2 * MANY, n_seen);

    zmq_close(s);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- trouble at start-up ------------------------------------------------------------ */

/* A key file that cannot be read, and a server_key that is not a key: exit
 * 2 and 1, each with one sentence and nothing else on stderr (a key file's
 * error was once followed by a line of whatever the stack held). */
static void test_trouble_at_start_said_once(void)
{
    struct {
        const char *set, *want;
        int status;
    } cases[] = {
        {"export.key_file=/nonexistent/export.key",
         "<3>export: /nonexistent/export.key: cannot open: No such file or directory\n", 2},
        {"export.server_key=abc",
         "joinedreview-export: --set export.server_key=abc: 'server_key' is not a public key (3 "
         "characters; a key is 40 of the Z85 alphabet): copy the quoted value of the public-key "
         "line of the daemon's server.pub\n",
         1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char log[400], server[80], out[400], state[400];
        snprintf(log, sizeof log, "%s/start-%zu.log", g_dir, i);
        snprintf(server, sizeof server, "export.server_key=%s", g_server.pub);
        snprintf(out, sizeof out, "export.outbound=%s/start-%zu/out", g_dir, i);
        snprintf(state, sizeof state, "export.state=%s/start-%zu/sequence", g_dir, i);
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 2);
            const char *argv[] = {JR_EXPORT_PATH, "--stream", "ATW",        "--set",
                                  server,         "--set",    out,          "--set",
                                  state,          "--set",    cases[i].set, NULL};
            execv(JR_EXPORT_PATH, (char *const *)argv);
            _exit(127);
        }
        CU_ASSERT_EQUAL(wait_exit(pid, 10000), cases[i].status);
        char *text = slurp(log);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_STRING_EQUAL(text, cases[i].want);
        free(text);
    }
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"the ATW extract of a person in ATW, SC and ILF holds no HEALTH or FAMILY statement",
         test_atw_extract_holds_no_health_or_family},
        {"kill -9 of the exporter mid-run loses and duplicates nothing",
         test_kill_9_loses_and_duplicates_nothing},
        {"trouble at start-up is said once, in a sentence", test_trouble_at_start_said_once},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"export", suite_init, h_suite_clean, NULL, NULL, tests},
                             CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
