/* harness.c -- see harness.h. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#ifndef JR_DAEMON_PATH
#error "JR_DAEMON_PATH must name the joinedreviewd binary"
#endif

void *h_zctx;

int h_suite_init(void)
{
    h_zctx = zmq_ctx_new();
    return h_zctx ? 0 : 1;
}

int h_suite_clean(void)
{
    zmq_ctx_term(h_zctx);
    return 0;
}

int64_t h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_nhs_of(int i, char out[11])
{
    for (int base = i * 10;; base++) {
        snprintf(out, 11, "4%08d", base % 100000000);
        int sum = 0;
        for (int k = 0; k < 9; k++) {
            sum += (out[k] - '0') * (10 - k);
        }
        int check = 11 - sum % 11;
        check = check == 11 ? 0 : check;
        if (check != 10) {
            out[9] = (char)('0' + check);
            out[10] = '\0';
            return;
        }
    }
}

void h_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static const char *pgdir(void)
{
    const char *dir = getenv("JR_TEST_PGDIR");
    return dir ? dir : "/tmp/jrpg";
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int h_db_create(h_db_t *db, const char *name)
{
    snprintf(db->name, sizeof db->name, "jr_%s", name);
    snprintf(db->conninfo, sizeof db->conninfo, "host=%s user=postgres dbname=%s", pgdir(),
             db->name);
    char admin[512];
    snprintf(admin, sizeof admin, "host=%s user=postgres dbname=postgres", pgdir());
    PGconn *c = PQconnectdb(admin);
    PQsetNoticeProcessor(c, quiet, NULL);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "harness: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    /* Database names cannot be parameters; these are the test's own literals. */
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
    PQclear(PQexec(c, sql));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db->name);
    PGresult *r = PQexec(c, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0) {
        fprintf(stderr, "harness: %s", PQerrorMessage(c));
    }
    PQclear(r);
    PQfinish(c);
    return rc;
}

static int build_argv(const char **argv, size_t max, const h_db_t *db, const char *const *extra,
                      bool with_endpoints)
{
    size_t n = 0;
    static char dbarg[600];
    snprintf(dbarg, sizeof dbarg, "daemon.database=%s", db->conninfo);
    argv[n++] = JR_DAEMON_PATH;
    argv[n++] = "--set";
    argv[n++] = dbarg;
    /* Plain sockets unless a test sets security = curve itself (a later
     * --set wins); tests run on a fixed clock (a later --today wins). */
    argv[n++] = "--set";
    argv[n++] = "daemon.security=plaintext-development";
    argv[n++] = "--set";
    argv[n++] = "daemon.pseudonymised_endpoint=tcp://127.0.0.1:*";
    argv[n++] = "--set";
    argv[n++] = "daemon.statistics_endpoint=tcp://127.0.0.1:*";
    argv[n++] = "--today";
    argv[n++] = H_TODAY;
    if (with_endpoints) {
        argv[n++] = "--ingest";
        argv[n++] = "tcp://127.0.0.1:*";
        argv[n++] = "--publish";
        argv[n++] = "tcp://127.0.0.1:*";
        argv[n++] = "--set";
        argv[n++] = "daemon.catchup_endpoint=tcp://127.0.0.1:*";
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n + 1 < max; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    return 0;
}

int h_daemon_start(h_daemon_t *d, const h_db_t *db, const char *const *extra)
{
    return h_daemon_start_timeout(d, db, extra, 15000);
}

int h_daemon_start_timeout(h_daemon_t *d, const h_db_t *db, const char *const *extra,
                           int timeout_ms)
{
    memset(d, 0, sizeof *d);
    snprintf(d->log_path, sizeof d->log_path, "%s/daemon-%s-%d.log", pgdir(), db->name,
             (int)getpid());
    const char *argv[64];
    build_argv(argv, 64, db, extra, true);
    int fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return -1;
    }
    d->pid = fork();
    if (d->pid == 0) {
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO); /* an orphan must not hold the test runner's pipe */
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fd);
    /* Wait for "ready: ingest X, publish Y, catch-up Z" in its log. */
    enum { STEP_MS = 5 };
    for (int waited = 0; waited < timeout_ms; waited += STEP_MS) {
        h_sleep_ms(STEP_MS);
        FILE *f = fopen(d->log_path, "r");
        char line[1024];
        while (f != NULL && fgets(line, sizeof line, f) != NULL) {
            char *p = strstr(line, "ready: ingest ");
            if (p != NULL &&
                sscanf(p,
                       "ready: ingest %127[^,], publish %127[^,], catch-up %127[^,], "
                       "pseudonymised %127[^,;\n], statistics %127[^;\n]",
                       d->ingest, d->publish, d->catchup, d->pseudonymised, d->statistics) >= 4) {
                fclose(f);
                return 0;
            }
        }
        if (f != NULL) {
            fclose(f);
        }
        int status;
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            fprintf(stderr, "harness: daemon exited during start-up; see %s\n", d->log_path);
            d->pid = 0;
            return -1;
        }
    }
    fprintf(stderr, "harness: daemon not ready after %d ms; see %s\n", timeout_ms, d->log_path);
    h_daemon_stop(d, SIGKILL);
    return -1;
}

int h_daemon_stop(h_daemon_t *d, int sig)
{
    if (d->pid <= 0) {
        return -1;
    }
    kill(d->pid, sig);
    int status = 0;
    waitpid(d->pid, &status, 0);
    d->pid = 0;
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

static int run_daemon(const h_db_t *db, const char *const *extra, char *out, size_t outlen,
                      bool with_stderr)
{
    const char *argv[64];
    build_argv(argv, 64, db, extra, false);
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        if (with_stderr) {
            dup2(pipefd[1], STDERR_FILENO);
        }
        close(pipefd[0]);
        close(pipefd[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < outlen && (r = read(pipefd[0], out + got, outlen - 1 - got)) > 0) {
        got += (size_t)r;
    }
    out[got] = '\0';
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int h_daemon_run(const h_db_t *db, const char *const *extra, char *out, size_t outlen)
{
    return run_daemon(db, extra, out, outlen, false);
}

int h_daemon_run_logged(const h_db_t *db, const char *const *extra, char *out, size_t outlen)
{
    return run_daemon(db, extra, out, outlen, true);
}

void *h_dealer(void *zctx, const char *endpoint)
{
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(s, endpoint);
    return s;
}

void *h_sub(void *zctx, const char *endpoint, const char *topic)
{
    void *s = zmq_socket(zctx, ZMQ_SUB);
    int zero = 0, hwm = 100000;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, topic, strlen(topic));
    zmq_connect(s, endpoint);
    h_sleep_ms(300); /* let the subscription reach the publisher (slow joiner) */
    return s;
}

int h_send(void *sock, const Joinedreview__V1__Envelope *env)
{
    size_t len = joinedreview__v1__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len ? len : 1);
    joinedreview__v1__envelope__pack(env, buf);
    int rc = zmq_send(sock, buf, len, 0) < 0 ? -1 : 0;
    free(buf);
    return rc;
}

static int recv_frame(void *sock, int timeout_ms, zmq_msg_t *msg)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) <= 0) {
        return -1;
    }
    zmq_msg_init(msg);
    if (zmq_msg_recv(msg, sock, 0) < 0) {
        zmq_msg_close(msg);
        return -1;
    }
    return 0;
}

Joinedreview__V1__Ack *h_recv_ack(void *sock, int timeout_ms)
{
    zmq_msg_t msg;
    if (recv_frame(sock, timeout_ms, &msg) != 0) {
        return NULL;
    }
    Joinedreview__V1__Ack *ack =
        joinedreview__v1__ack__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
    zmq_msg_close(&msg);
    return ack;
}

int h_push_timeout(void *sock, const Joinedreview__V1__Envelope *env, int timeout_ms)
{
    if (h_send(sock, env) != 0) {
        return 0;
    }
    Joinedreview__V1__Ack *ack = h_recv_ack(sock, timeout_ms);
    int st = ack ? (int)ack->status : 0;
    if (ack != NULL) {
        joinedreview__v1__ack__free_unpacked(ack, NULL);
    }
    return st;
}

jr_subscriber_t *h_catchup_client(void *zctx, const char *endpoint, const char *server_key,
                                  const char *public_key, const char *secret_key)
{
    jr_subscriber_options_t o = {
        .catchup_endpoint = endpoint,
        .zmq_context = zctx,
        .curve_server_key = server_key,
        .curve_public_key = public_key,
        .curve_secret_key = secret_key,
    };
    return jr_subscriber_new(&o);
}

static bool keep_first(void *arg, Joinedreview__V1__CatchupReply *reply)
{
    Joinedreview__V1__CatchupReply **first = arg;
    if (*first != NULL) {
        return false;
    }
    *first = reply;
    return true;
}

Joinedreview__V1__CatchupReply *h_catchup(jr_subscriber_t *client, int kind, int timeout_ms)
{
    jr_subscriber_request_t req = {.kind = kind};
    Joinedreview__V1__CatchupReply *first = NULL;
    (void)jr_subscriber_ask(client, &req, keep_first, &first, timeout_ms);
    return first;
}

int h_push(void *sock, const Joinedreview__V1__Envelope *env, char *code)
{
    if (h_send(sock, env) != 0) {
        return 0;
    }
    Joinedreview__V1__Ack *ack = h_recv_ack(sock, 10000);
    if (ack == NULL) {
        return 0;
    }
    int st = ack->status;
    if (code != NULL) {
        snprintf(code, 64, "%s", ack->reason_code ? ack->reason_code : "");
    }
    joinedreview__v1__ack__free_unpacked(ack, NULL);
    return st;
}

Joinedreview__V1__ConsolidatedReview *h_recv_review(void *sub, int timeout_ms)
{
    zmq_msg_t topic, body;
    if (recv_frame(sub, timeout_ms, &topic) != 0) {
        return NULL;
    }
    zmq_msg_close(&topic);
    if (recv_frame(sub, 1000, &body) != 0) {
        return NULL;
    }
    Joinedreview__V1__ConsolidatedReview *r = joinedreview__v1__consolidated_review__unpack(
        NULL, zmq_msg_size(&body), zmq_msg_data(&body));
    zmq_msg_close(&body);
    return r;
}

static void base(h_env_t *e, const char *stream, const char *seid, int64_t at_ms, const char *nhs)
{
    Joinedreview__V1__Envelope env = JOINEDREVIEW__V1__ENVELOPE__INIT;
    Joinedreview__V1__PersonIds ids = JOINEDREVIEW__V1__PERSON_IDS__INIT;
    e->env = env;
    e->ids = ids;
    e->env.has_schema_version = 1;
    e->env.schema_version = 1;
    e->env.stream = (char *)stream;
    e->env.source_event_id = (char *)seid;
    e->env.has_occurred_at = 1;
    e->env.occurred_at = at_ms ? at_ms : h_now_ms();
    e->ids.nhs_number = (char *)nhs;
    e->env.person = &e->ids;
}

void h_contribution(h_env_t *e, const char *stream, const char *seid, int64_t at_ms,
                    const char *nhs, int topic, int role, int priority, const char *working)
{
    base(e, stream, seid, at_ms, nhs);
    Joinedreview__V1__Contribution c = JOINEDREVIEW__V1__CONTRIBUTION__INIT;
    e->contribution = c;
    e->contribution.has_topic = 1;
    e->contribution.topic = (Joinedreview__V1__Topic)topic;
    e->contribution.has_author_role = 1;
    e->contribution.author_role = (Joinedreview__V1__Role)role;
    e->contribution.has_priority = 1;
    e->contribution.priority = (Joinedreview__V1__Priority)priority;
    e->contribution.working = (char *)working;
    e->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_CONTRIBUTION;
    e->env.contribution = &e->contribution;
}

void h_enrolment(h_env_t *e, const char *stream, const char *seid, int64_t at_ms, const char *nhs,
                 const char *nino, const char *started_on)
{
    base(e, stream, seid, at_ms, nhs);
    e->ids.ni_number = (char *)nino;
    Joinedreview__V1__Enrolment en = JOINEDREVIEW__V1__ENROLMENT__INIT;
    e->enrolment = en;
    e->enrolment.started_on = (char *)started_on;
    e->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_ENROLMENT;
    e->env.enrolment = &e->enrolment;
}

void h_review_held(h_env_t *e, const char *stream, const char *seid, int64_t at_ms, const char *nhs,
                   const char *held_on)
{
    base(e, stream, seid, at_ms, nhs);
    Joinedreview__V1__ReviewHeld h = JOINEDREVIEW__V1__REVIEW_HELD__INIT;
    e->held = h;
    e->held.held_on = (char *)held_on;
    e->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_REVIEW_HELD;
    e->env.review_held = &e->held;
}

void h_plan_revision(h_env_t *e, const char *stream, const char *seid, int64_t at_ms,
                     const char *nhs, const char *revise_by, const char *revised_by)
{
    base(e, stream, seid, at_ms, nhs);
    Joinedreview__V1__PlanRevision p = JOINEDREVIEW__V1__PLAN_REVISION__INIT;
    e->plan = p;
    e->plan.revise_by = (char *)revise_by;
    e->plan.revised_by = (char *)revised_by;
    e->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_PLAN_REVISION;
    e->env.plan_revision = &e->plan;
}

void h_preferences(h_env_t *e, const char *stream, const char *seid, int64_t at_ms, const char *nhs,
                   int way, const char *called)
{
    base(e, stream, seid, at_ms, nhs);
    Joinedreview__V1__ReviewPreferences p = JOINEDREVIEW__V1__REVIEW_PREFERENCES__INIT;
    e->preferences = p;
    e->preferences.has_way = 1;
    e->preferences.way = (Joinedreview__V1__ReviewWay)way;
    e->preferences.called = (char *)called;
    e->preferences.needs = e->needs;
    e->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_PREFERENCES;
    e->env.preferences = &e->preferences;
}

void h_need(h_env_t *e, int need)
{
    if (e->preferences.n_needs < sizeof e->needs / sizeof e->needs[0]) {
        e->needs[e->preferences.n_needs++] = (Joinedreview__V1__Need)need;
    }
}

void h_budget(h_env_t *e, const char *stream, const char *seid, int64_t at_ms, const char *nhs,
              const char *start, const char *end, const char *allocated, const char *spent)
{
    base(e, stream, seid, at_ms, nhs);
    Joinedreview__V1__BudgetStatement b = JOINEDREVIEW__V1__BUDGET_STATEMENT__INIT;
    e->budget = b;
    e->budget.period_start = (char *)start;
    e->budget.period_end = (char *)end;
    e->budget.allocated_pence = (char *)allocated;
    e->budget.spent_pence = (char *)spent;
    e->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_BUDGET;
    e->env.budget = &e->budget;
}

static PGresult *query(const h_db_t *db, const char *sql, PGconn **c)
{
    *c = PQconnectdb(db->conninfo);
    PQsetNoticeProcessor(*c, quiet, NULL);
    if (PQstatus(*c) != CONNECTION_OK) {
        return NULL;
    }
    return PQexec(*c, sql);
}

long long h_sql_int(const h_db_t *db, const char *sql)
{
    PGconn *c;
    PGresult *r = query(db, sql, &c);
    long long v = -1;
    if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 &&
        !PQgetisnull(r, 0, 0)) {
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    PQfinish(c);
    return v;
}

long long h_figures_differ(const h_db_t *db)
{
    static const char sql[] =
        "WITH r AS (SELECT DISTINCT ON (nhs_number) nhs_number, cycle, ready_for_sign_off, "
        "enrolled, complete_streams, area_priority, area_conflict, budget_streams, "
        "budget_allocated, budget_spent FROM consolidated_review ORDER BY nhs_number, cycle DESC) "
        "SELECT (SELECT count(*) FROM (TABLE r EXCEPT TABLE current_figures) x) + "
        "(SELECT count(*) FROM (TABLE current_figures EXCEPT TABLE r) y)";
    return h_sql_int(db, sql);
}

int h_sql_text(const h_db_t *db, const char *sql, char *out, size_t outlen)
{
    PGconn *c;
    PGresult *r = query(db, sql, &c);
    int rc = -1;
    if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
        snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    PQfinish(c);
    return rc;
}

int h_sql_exec(const h_db_t *db, const char *sql)
{
    PGconn *c;
    PGresult *r = query(db, sql, &c);
    int rc = (r != NULL &&
              (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK))
                 ? 0
                 : -1;
    PQclear(r);
    PQfinish(c);
    return rc;
}

int h_log_line_of(const h_daemon_t *d, const char *text)
{
    FILE *f = fopen(d->log_path, "r");
    char line[512];
    int at = 0, n = 0;
    while (f != NULL && at == 0 && fgets(line, sizeof line, f) != NULL) {
        n++;
        at = strstr(line, text) != NULL ? n : 0;
    }
    if (f != NULL) {
        fclose(f);
    }
    return at;
}
