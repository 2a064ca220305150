/* bench_web.c -- joinedreview-web under concurrent load, against the same
 * data read by the bare SQL in the same run.
 *
 *   bench_web [PERSONS [CLIENTS [REQUESTS]]]      (100000 8 200)
 *
 * Seeds PERSONS persons through the real daemon (each enrolled in social
 * care and one other stream, with two contributions from social care: a
 * seeded caseload, tests/bench/caseload.h), starts the real joinedreview-web
 * (plain HTTP on 127.0.0.1: the figures are the page's, not TLS's), signs
 * in as a scheduler for SC, and then CLIENTS threads each ask REQUESTS times
 * for (a) the worklist of the lead organisation SC (the overdue, due and
 * the next 56 days: its first 500 rows) and (b) one person's review page
 * (persons SC leads, drawn in turn), over keep-alive connections. The
 * baseline: the same CLIENTS threads, each with its own database session,
 * running the statements those pages run (queries.c's own functions, for
 * the same filters and persons: the worklist's statement; a person's records
 * and notices, and also with the audit row the page writes), timed the same way. Prints p50 and p95
 * of each, and the ratios.
 *
 *   bench_web PERSONS CLIENTS REQUESTS fhir
 *
 * measures FHIR searches instead, on the same seeded caseload: (c) the
 * worklist in FHIR, Task?status=requested&owner=Organization/SC&due=le
 * (today + 56)&_count=100 (the first page of 100 Tasks, each built from the
 * person's current record and cut), against its statements (the worklist's
 * for 101 rows, the 100 current records in one statement, and also with the
 * 100 audit rows the answer writes); (d) one person's plan,
 * CarePlan?subject:identifier=...|NHS&_include=CarePlan:goal
 * &_revinclude=Provenance:target, against a person's records and the times
 * their events were stored (and the audit row). */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "accounts.h"
#include "audit.h"
#include "caseload.h"
#include "harness.h"
#include "load.h"
#include "queries.h"
#include "text.h"

#ifndef JR_WEB_PATH
#error "JR_WEB_PATH must name the joinedreview-web binary"
#endif

#define SENDERS 4
#define WINDOW  500
#define ROWS    500

typedef struct {
    int persons, clients, requests;
    char dir[256];
    char conninfo[600];
    unsigned port;
    char cookie[160];
    char (*people)[11]; /* persons whose review SC leads */
    jr_account_t who;   /* the scheduler, for the audit rows of the baseline */
    size_t n_people;
} bench_t;

/* ---- seeding ------------------------------------------------------------ */

static int seed(bench_t *b, const h_daemon_t *d)
{
    int today = caseload_day_of(H_TODAY);
    load_t *l = load_new(SENDERS, WINDOW);
    if (l == NULL) {
        return -1;
    }
    /* Social care is one back office; the other streams three more. */
    for (int p = 0; p < b->persons; p++) {
        caseload_rng_t rng = caseload_rng(CASELOAD_SEED, (uint64_t)p);
        int other = 1 + caseload_below(&rng, CASELOAD_STREAMS - 1);
        int streams[2] = {0, other};
        for (int k = 0; k < 2; k++) {
            size_t office = streams[k] == 0 ? 0 : (size_t)(1 + (streams[k] - 1) % 3);
            char seid[32];
            caseload_enrolment_t en;
            load_seid(l, office, caseload_streams[streams[k]], seid);
            caseload_enrolment(&en, &rng, p, streams[k], today - 1 - caseload_below(&rng, 700),
                               seid);
            if (load_add(l, office, caseload_streams[streams[k]], &en.e.env) != 0) {
                load_destroy(&l);
                return -1;
            }
        }
        for (int k = 0; k < 2; k++) {
            char seid[32], nhs[11];
            h_env_t e;
            h_nhs_of(p, nhs);
            load_seid(l, 0, "SC", seid);
            h_contribution(&e, "SC", seid, caseload_ms(today - 2 - k, 600), nhs,
                           k ? JOINEDREVIEW__V1__TOPIC__HOUSING : JOINEDREVIEW__V1__TOPIC__HEALTH,
                           k ? JOINEDREVIEW__V1__ROLE__CARER : JOINEDREVIEW__V1__ROLE__PERSON,
                           1 + caseload_below(&rng, 3),
                           k ? "The ramp to the front door is too steep when it is wet."
                             : "My pressure areas have healed since I got the new cushion.");
            if (load_add(l, 0, "SC", &e.env) != 0) {
                load_destroy(&l);
                return -1;
            }
        }
    }
    void *zctx = zmq_ctx_new();
    int64_t t0 = load_now_ns();
    int rc = load_start(l, zctx, d->ingest);
    rc |= load_wait(l);
    load_stats_t st;
    load_stats(l, SIZE_MAX, &st);
    printf("seeded %zu events (%zu ok, %zu rejected) for %d persons in %.1f s\n", st.events, st.ok,
           st.rejected, b->persons, (double)(load_now_ns() - t0) / 1e9);
    zmq_ctx_term(zctx);
    load_destroy(&l);
    return rc;
}

/* ---- the service ---------------------------------------------------------- */

static int write_text(const char *path, const char *text, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) {
        return -1;
    }
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static pid_t start_web(bench_t *b, const h_db_t *db)
{
    char path[512], text[2048], log[512];
    jr_account_t a = {.name = "bench", .role = JR_ACCOUNT_SCHEDULER, .n_leads = 1};
    strcpy(a.leads[0], "SC");
    if (crypto_pwhash_str(a.hash, "bench-password", 14, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        return -1;
    }
    jr_accounts_t *accounts = jr_accounts_new();
    snprintf(path, sizeof path, "%s/accounts", b->dir);
    char err[256];
    int rc =
        jr_accounts_put(accounts, &a) == 0 ? jr_accounts_save(accounts, path, err, sizeof err) : -1;
    jr_accounts_destroy(&accounts);
    b->who = a;
    h_sql_exec(db, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                   "'jr_web_bench') THEN CREATE ROLE jr_web_bench LOGIN IN ROLE "
                   "joinedreview_web; END IF; END $$");
    snprintf(b->conninfo, sizeof b->conninfo, "host=%s user=jr_web_bench dbname=%s",
             getenv("JR_TEST_PGDIR") ? getenv("JR_TEST_PGDIR") : "/tmp/jrpg", db->name);
    snprintf(text, sizeof text,
             "[web]\nport = 0\nplaintext_development = true\naccounts_file = %s\n"
             "database = %s\nthreads = 4\nworklist_max_rows = %d\nlog_level = notice\n",
             path, b->conninfo, ROWS);
    snprintf(path, sizeof path, "%s/web.conf", b->dir);
    if (rc != 0 || write_text(path, text, 0600) != 0) {
        return -1;
    }
    snprintf(log, sizeof log, "%s/web.log", b->dir);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
        execl(JR_WEB_PATH, JR_WEB_PATH, "--config", path, "--today", H_TODAY, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600; i++) {
        h_sleep_ms(100);
        FILE *f = fopen(log, "r");
        char line[512];
        while (f != NULL && fgets(line, sizeof line, f) != NULL) {
            char *p = strstr(line, "ready: http://127.0.0.1:");
            if (p != NULL) {
                b->port = (unsigned)atoi(p + strlen("ready: http://127.0.0.1:"));
            }
        }
        if (f != NULL) {
            fclose(f);
        }
        if (b->port != 0) {
            return pid;
        }
    }
    kill(pid, SIGTERM);
    return -1;
}

/* ---- a small HTTP/1.1 client with keep-alive ---------------------------- */

typedef struct {
    int fd;
    char *buf;
    size_t cap;
} client_t;

static int client_open(client_t *c, unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (c->buf == NULL) {
        c->cap = 8 << 20;
        c->buf = malloc(c->cap);
    }
    return c->fd >= 0 && connect(c->fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -1;
}

/* One request; the status, with the whole answer (headers and body) in
 * c->buf. -1 when the connection failed. */
static int client_ask(client_t *c, const char *method, const char *path, const char *cookie,
                      const char *body)
{
    char req[2048], head[256] = "";
    if (cookie != NULL) {
        snprintf(head, sizeof head, "Cookie: %s\r\n", cookie);
    }
    int n = body == NULL ? snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n",
                                    method, path, head)
                         : snprintf(req, sizeof req,
                                    "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Type: "
                                    "application/x-www-form-urlencoded\r\nContent-Length: "
                                    "%zu\r\n\r\n%s",
                                    method, path, head, strlen(body), body);
    if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        return -1;
    }
    size_t got = 0, need = 0;
    char *end = NULL;
    for (;;) {
        ssize_t r = recv(c->fd, c->buf + got, c->cap - 1 - got, 0);
        if (r <= 0) {
            return -1;
        }
        got += (size_t)r;
        c->buf[got] = '\0';
        if (end == NULL && (end = strstr(c->buf, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(c->buf, "Content-Length:");
            need = (size_t)(end + 4 - c->buf) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
        }
        if (end != NULL && got >= need) {
            break;
        }
    }
    return atoi(c->buf + 9);
}

static void client_close(client_t *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
}

static int sign_in(bench_t *b)
{
    client_t c = {.fd = -1};
    int rc = -1;
    if (client_open(&c, b->port) == 0 && client_ask(&c, "GET", "/login", NULL, NULL) == 200) {
        char login[200] = "", token[200] = "", body[512];
        const char *k = strstr(c.buf, "jr_login=");
        const char *t = strstr(c.buf, "name=\"csrf\" value=\"");
        if (k != NULL && t != NULL) {
            sscanf(k, "%199[^;]", login);
            sscanf(t + strlen("name=\"csrf\" value=\""), "%199[^\"]", token);
            snprintf(body, sizeof body, "name=bench&password=bench-password&csrf=%s", token);
            if (client_ask(&c, "POST", "/login", login, body) == 303) {
                const char *s = strstr(c.buf, "jr_session=");
                if (s != NULL) {
                    sscanf(s, "%159[^;]", b->cookie);
                    rc = 0;
                }
            }
        }
    }
    client_close(&c);
    free(c.buf);
    return rc;
}

/* ---- the load ------------------------------------------------------------ */

typedef enum { WORKLIST, PERSON, FHIR_TASKS, FHIR_PLAN } kind_t;

#define FHIR_PAGE 100

typedef struct {
    bench_t *b;
    int id;
    kind_t kind;
    int sql;    /* the baseline */
    double *ms; /* requests entries */
    int failed;
} worker_t;

/* What the service's answer reads and writes, as bare statements. */
static int baseline(bench_t *b, PGconn *db, kind_t kind, bool audit, jr_queries_worklist_t *q,
                    const char *nhs)
{
    int rc = 0;
    if (kind == WORKLIST || kind == PERSON) {
        PGresult *r = kind == WORKLIST ? jr_queries_worklist(db, q) : jr_queries_person(db, nhs);
        rc = r == NULL ? -1 : 0;
        PQclear(r);
        return rc;
    }
    char people[FHIR_PAGE][11];
    unsigned cycles[FHIR_PAGE];
    size_t n = 0;
    if (kind == FHIR_TASKS) {
        jr_queries_worklist_t t = *q;
        t.limit = FHIR_PAGE + 1;
        PGresult *list = jr_queries_worklist(db, &t);
        const char *nhs_of[FHIR_PAGE];
        for (int i = 0; list != NULL && i < PQntuples(list) && n < FHIR_PAGE; i++) {
            nhs_of[n++] = PQgetvalue(list, i, 0);
        }
        PGresult *cur = list != NULL ? jr_queries_current(db, nhs_of, n) : NULL;
        rc = cur == NULL ? -1 : 0;
        for (int i = 0; cur != NULL && i < PQntuples(cur) && i < FHIR_PAGE; i++) {
            snprintf(people[i], 11, "%s", PQgetvalue(cur, i, 0));
            cycles[i] = (unsigned)atoi(PQgetvalue(cur, i, 1));
        }
        n = cur != NULL ? (size_t)PQntuples(cur) : 0;
        PQclear(cur);
        PQclear(list);
    } else {
        PGresult *r = jr_queries_person(db, nhs), *e = jr_queries_received(db, nhs);
        rc = r == NULL || e == NULL ? -1 : 0;
        snprintf(people[0], 11, "%s", nhs);
        cycles[0] = r != NULL && PQntuples(r) > 0 ? (unsigned)atoi(PQgetvalue(r, 0, 0)) : 1;
        n = 1;
        PQclear(r);
        PQclear(e);
    }
    if (rc == 0 && audit) {
        rc = jr_audit_views(db, &b->who, (const char(*)[11])people, cycles, n, "fhir",
                            "127.0.0.1");
    }
    return rc;
}

static void *work(void *arg)
{
    worker_t *w = arg;
    bench_t *b = w->b;
    client_t c = {.fd = -1};
    PGconn *db = NULL;
    if (w->sql) {
        db = PQconnectdb(b->conninfo);
        w->failed = PQstatus(db) != CONNECTION_OK;
    } else {
        w->failed = client_open(&c, b->port) != 0;
    }
    const char *leads[1] = {"SC"};
    jr_queries_worklist_t q = {.leads = leads,
                               .n_leads = 1,
                               .ready = -1,
                               .limit = ROWS + 1,
                               .first = JR_DAY_NONE,
                               .last = caseload_day_of(H_TODAY) + 56};
    for (int i = 0; i < b->requests && !w->failed; i++) {
        const char *nhs = b->people[((size_t)w->id * 7919 + (size_t)i * 104729) % b->n_people];
        char path[300], due[11];
        jr_text_format_date(caseload_day_of(H_TODAY) + 56, due);
        if (w->kind == FHIR_TASKS) {
            snprintf(path, sizeof path,
                     "/fhir/Task?status=requested&owner=Organization/SC&due=le%s&_count=%d", due,
                     FHIR_PAGE);
        } else if (w->kind == FHIR_PLAN) {
            snprintf(path, sizeof path,
                     "/fhir/CarePlan?subject:identifier=https://fhir.nhs.uk/Id/nhs-number%%7C%s"
                     "&_include=CarePlan:goal&_revinclude=Provenance:target",
                     nhs);
        } else {
            snprintf(path, sizeof path, "%s%s", w->kind == WORKLIST ? "/worklist" : "/person/",
                     w->kind == WORKLIST ? "" : nhs);
        }
        int64_t t0 = load_now_ns();
        if (w->sql) {
            w->failed = baseline(b, db, w->kind, w->sql == 2, &q, nhs) != 0;
        } else {
            int st = client_ask(&c, "GET", path, b->cookie, NULL);
            w->failed = st != 200;
        }
        w->ms[i] = (double)(load_now_ns() - t0) / 1e6;
    }
    client_close(&c);
    free(c.buf);
    PQfinish(db);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs clients at once; p50 and p95 of every request, in ms. */
static int run(bench_t *b, kind_t kind, int sql, double *p50, double *p95, double *per_s)
{
    size_t n = (size_t)b->clients * (size_t)b->requests;
    double *ms = calloc(n, sizeof *ms);
    worker_t *w = calloc((size_t)b->clients, sizeof *w);
    pthread_t *t = calloc((size_t)b->clients, sizeof *t);
    int failed = 0;
    int64_t t0 = load_now_ns();
    for (int i = 0; i < b->clients; i++) {
        w[i] = (worker_t){b, i, kind, sql, ms + (size_t)i * (size_t)b->requests, 0};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < b->clients; i++) {
        pthread_join(t[i], NULL);
        failed |= w[i].failed;
    }
    *per_s = (double)n / ((double)(load_now_ns() - t0) / 1e9);
    qsort(ms, n, sizeof *ms, cmp);
    *p50 = ms[n / 2];
    *p95 = ms[n * 95 / 100];
    free(ms);
    free(w);
    free(t);
    return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    bench_t b = {.persons = argc > 1 ? atoi(argv[1]) : 100000,
                 .clients = argc > 2 ? atoi(argv[2]) : 8,
                 .requests = argc > 3 ? atoi(argv[3]) : 200};
    bool fhir = argc > 4 && strcmp(argv[4], "fhir") == 0;
    int first = fhir ? FHIR_TASKS : WORKLIST;
    if (b.persons < 100 || b.clients < 1 || b.requests < 10 || sodium_init() < 0) {
        fprintf(stderr,
                "usage: bench_web [PERSONS (>= 100) [CLIENTS [REQUESTS (>= 10) [fhir]]]]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(b.dir, sizeof b.dir, "%s/bench-web",
             getenv("JR_TEST_PGDIR") ? getenv("JR_TEST_PGDIR") : "/tmp/jrpg");
    mkdir(b.dir, 0700);
    h_db_t db;
    h_daemon_t d;
    if (h_db_create(&db, "bench_web") != 0 || h_daemon_start(&d, &db, NULL) != 0) {
        return 1;
    }
    printf("bench_web: %d persons, %d clients, %d requests each; today %s\n", b.persons, b.clients,
           b.requests, H_TODAY);
    int rc = seed(&b, &d);
    pid_t web = rc == 0 ? start_web(&b, &db) : -1;
    rc = web > 0 && sign_in(&b) == 0 ? 0 : -1;
    if (rc == 0) {
        /* The persons SC leads, for the person pages. */
        PGconn *c = PQconnectdb(db.conninfo);
        PGresult *r = PQexec(c, "SELECT nhs_number FROM schedule WHERE lead = 'SC' ORDER BY 1");
        b.n_people = (size_t)PQntuples(r);
        b.people = calloc(b.n_people + 1, sizeof *b.people);
        for (size_t i = 0; i < b.n_people; i++) {
            snprintf(b.people[i], sizeof b.people[i], "%s", PQgetvalue(r, (int)i, 0));
        }
        long long rows = h_sql_int(&db, "SELECT count(*) FROM schedule WHERE lead = 'SC' AND "
                                        "review_on <= DATE '" H_TODAY "' + 56");
        PQclear(r);
        PQexec(c, "VACUUM ANALYZE");
        PQfinish(c);
        printf("SC leads %zu reviews, %lld of them overdue, due or within 56 days (the worklist "
               "shows the first %d)\n",
               b.n_people, rows, ROWS);
        double all[4][3][3], (*p)[3][3] = all + first;
        for (int k = 0; k < 2 && rc == 0 && b.n_people > 0; k++) {
            int kind = first + k;
            for (int sql = kind == WORKLIST ? 1 : 2; sql >= 0 && rc == 0; sql--) {
                /* a warm-up round, then the measured one */
                int req = b.requests;
                b.requests = 10;
                rc |= run(&b, (kind_t)kind, sql, &p[k][sql][0], &p[k][sql][1], &p[k][sql][2]);
                b.requests = req;
                rc |= run(&b, (kind_t)kind, sql, &p[k][sql][0], &p[k][sql][1], &p[k][sql][2]);
            }
        }
        if (rc == 0) {
            printf("\n| %d concurrent clients | p50 ms | p95 ms | per second |\n"
                   "| --- | --- | --- | --- |\n",
                   b.clients);
            static const char *const names[4][3] = {
                {"worklist page (joinedreview-web)", "worklist SQL (bare, same statement)", ""},
                {"person's review page (joinedreview-web)", "person's SQL (bare, same statements)",
                 "person's SQL and the audit row it writes"},
                {"FHIR Task search, 100 a page (joinedreview-web)",
                 "its SQL (bare: worklist rows, 100 current records)",
                 "its SQL and the 100 audit rows it writes"},
                {"FHIR CarePlan search with goals and provenance (joinedreview-web)",
                 "its SQL (bare: records, events' stored times)",
                 "its SQL and the audit row it writes"}};
            for (int k = 0; k < 2; k++) {
                for (int sql = 0; sql < (first + k == WORKLIST ? 2 : 3); sql++) {
                    printf("| %s | %.2f | %.2f | %.0f |\n", names[first + k][sql], p[k][sql][0],
                           p[k][sql][1], p[k][sql][2]);
                }
            }
            printf("\nratio service / SQL: %s p50 %.2f, p95 %.2f; %s p50 %.2f, p95 %.2f "
                   "(against its SQL and audit rows: p50 %.2f, p95 %.2f)\n",
                   fhir ? "Task search" : "worklist", p[0][0][0] / p[0][1][0],
                   p[0][0][1] / p[0][1][1], fhir ? "CarePlan search" : "person",
                   p[1][0][0] / p[1][1][0], p[1][0][1] / p[1][1][1], p[1][0][0] / p[1][2][0],
                   p[1][0][1] / p[1][2][1]);
            if (fhir) {
                printf("(Task search against its SQL and audit rows: p50 %.2f, p95 %.2f)\n",
                       p[0][0][0] / p[0][2][0], p[0][0][1] / p[0][2][1]);
            }
        } else {
            fprintf(stderr, "bench_web: a request failed; see %s/web.log\n", b.dir);
        }
    }
    if (web > 0) {
        kill(web, SIGTERM);
        waitpid(web, NULL, 0);
    }
    h_daemon_stop(&d, SIGTERM);
    free(b.people);
    return rc == 0 ? 0 : 1;
}
