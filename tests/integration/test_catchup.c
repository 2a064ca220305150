/* test_catchup.c -- subscribers that must never miss a record, against the
 * real daemon on a real (throwaway) PostgreSQL: one that joins late, one that
 * disconnects during a burst, one (`joinedreview tail`) that restarts from
 * its persisted sequence, a replay older than the retention, and tail's
 * filters. Each ends holding exactly the daemon's state, checked against the
 * database, with no gap and no duplicate.
 *
 * The in-test subscriber is the client library's (client/jr_subscriber.h:
 * SUB first, SNAPSHOT, drop what the snapshot covers, SINCE on a gap), told
 * to ask SINCE only on a gap or when the test says, so that its counters show
 * what the live feed lost. The daemon's answers themselves (their order and
 * sequence, TOO_OLD, the snapshot filters, answers while the writer waits)
 * are read reply by reply with jr_subscriber_ask(), so the protocol is
 * checked apart from the dance. tail runs as a child process and its output
 * is parsed with jansson. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <zmq.h>

#include "harness.h"
#include "jr_cunit.h"

#ifndef JR_TAIL_PATH
#error "JR_TAIL_PATH must name the joinedreview binary"
#endif

#define T0 1790845200000LL /* 2026-10-01T09:00:00Z */

#define ST_OK JOINEDREVIEW__V1__ACK__STATUS__OK

#define C_OK       JR_SUBSCRIBER_REPLY_OK
#define C_TOO_OLD  JR_SUBSCRIBER_REPLY_TOO_OLD
#define K_SNAPSHOT JR_SUBSCRIBER_ASK_SNAPSHOT
#define K_SINCE    JR_SUBSCRIBER_ASK_SINCE

#define T(x) JOINEDREVIEW__V1__TOPIC__##x
#define R(x) JOINEDREVIEW__V1__ROLE__##x
#define P(x) JOINEDREVIEW__V1__PRIORITY__##x

#define NPERSONS 20   /* persons the bursts are about; even ones lead SC and get a notice */
#define MAXSEQ   4096 /* more than any test publishes */
#define CHUNK    20   /* events sent before their acks are read */

typedef Joinedreview__V1__CatchupReply reply_t;
typedef Joinedreview__V1__Publication publication_t;

static char g_nhs[NPERSONS][11];

/* NHS numbers with a valid modulus-11 check digit, from 943 476 600 on. */
static void make_persons(void)
{
    int base = 943476600;
    for (int n = 0; n < NPERSONS; base++) {
        char d[16];
        snprintf(d, sizeof d, "%09d", base % 1000000000);
        int sum = 0;
        for (int i = 0; i < 9; i++) {
            sum += (d[i] - '0') * (10 - i);
        }
        int check = 11 - sum % 11;
        if (check == 10) {
            continue;
        }
        memcpy(g_nhs[n], d, 9);
        g_nhs[n][9] = (char)('0' + (check == 11 ? 0 : check));
        g_nhs[n][10] = '\0';
        n++;
    }
}

static int person_of(const char *nhs)
{
    for (int i = 0; nhs != NULL && i < NPERSONS; i++) {
        if (strcmp(g_nhs[i], nhs) == 0) {
            return i;
        }
    }
    return -1;
}

static int suite_init(void)
{
    make_persons();
    return h_suite_init();
}

static const char *pgdir(void)
{
    const char *dir = getenv("JR_TEST_PGDIR");
    return dir ? dir : "/tmp";
}

/* ---- the world: a database, a daemon, a dealer --------------------------- */

typedef struct {
    h_db_t db;
    h_daemon_t d;
    void *dealer;
} world_t;

static int world_up(world_t *w, const char *name, const char *const *extra)
{
    memset(w, 0, sizeof *w);
    if (h_db_create(&w->db, name) != 0 || h_daemon_start(&w->d, &w->db, extra) != 0) {
        return -1;
    }
    w->dealer = h_dealer(h_zctx, w->d.ingest);
    return 0;
}

static int world_down(world_t *w)
{
    if (w->dealer) {
        zmq_close(w->dealer);
        w->dealer = NULL;
    }
    return h_daemon_stop(&w->d, SIGTERM);
}

/* Event i of a test: the first NPERSONS enrol person i (even: social care
 * from 2026-08-20, due 2026-10-15, so a 28-day notice goes out; odd: ICES,
 * due 2026-12-01, no notice yet); the rest are contributions, each saying
 * something new, so each changes a record. */
static void make_event(h_env_t *e, int i, char *seid, size_t len)
{
    snprintf(seid, len, "ev-%d", i);
    const char *nhs = g_nhs[i % NPERSONS];
    if (i < NPERSONS) {
        h_enrolment(e, i % 2 ? "ICES" : "SC", seid, T0, nhs, NULL,
                    i % 2 ? "2025-12-01" : "2026-08-20");
        return;
    }
    static char said[64];
    snprintf(said, sizeof said, "said %d", i);
    h_contribution(e, i % 2 ? "ICES" : "SC", seid, T0 + i, nhs, 1 + i % 17, 1 + i % 6, i % 4, said);
}

/* Called after each chunk of a burst; chunk counts from 0. */
typedef void (*hook_t)(void *arg, int chunk);

/* Sends events first .. first+n-1 in chunks, each chunk's acks read before
 * the next is sent; every one must be OK. */
static void burst(world_t *w, int first, int n, hook_t hook, void *arg)
{
    h_env_t e;
    char seid[32];
    int ok = 0;
    for (int c = 0; c * CHUNK < n; c++) {
        int in_chunk = n - c * CHUNK < CHUNK ? n - c * CHUNK : CHUNK;
        for (int k = 0; k < in_chunk; k++) {
            make_event(&e, first + c * CHUNK + k, seid, sizeof seid);
            h_send(w->dealer, &e.env);
        }
        for (int k = 0; k < in_chunk; k++) {
            Joinedreview__V1__Ack *ack = h_recv_ack(w->dealer, 10000);
            CU_ASSERT_PTR_NOT_NULL_FATAL(ack);
            ok += ack->status == ST_OK;
            joinedreview__v1__ack__free_unpacked(ack, NULL);
        }
        if (hook) {
            hook(arg, c);
        }
    }
    CU_ASSERT_EQUAL(ok, n);
}

/* ---- the catch-up endpoint, by hand -------------------------------------- */

typedef struct {
    reply_t **r;
    size_t n;
} replies_t;

static void replies_free(replies_t *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        joinedreview__v1__catchup_reply__free_unpacked(rs->r[i], NULL);
    }
    free(rs->r);
    rs->r = NULL;
    rs->n = 0;
}

static bool keep_reply(void *arg, reply_t *r)
{
    replies_t *rs = arg;
    rs->r = realloc(rs->r, (rs->n + 1) * sizeof *rs->r);
    rs->r[rs->n++] = r;
    return true;
}

/* Sends one request and collects every reply to it, up to the one marked
 * last (or any status but OK). 0, or -1 when the daemon stops answering. */
static int ask_filtered(jr_subscriber_t *client, int kind, uint64_t after, const char *lead,
                        const char *stream, replies_t *rs)
{
    jr_subscriber_request_t req = {.kind = kind, .after = after, .lead = lead, .stream = stream};
    memset(rs, 0, sizeof *rs);
    return jr_subscriber_ask(client, &req, keep_reply, rs, 10000) > 0 ? 0 : -1;
}

static int ask(jr_subscriber_t *client, int kind, uint64_t after, replies_t *rs)
{
    return ask_filtered(client, kind, after, NULL, NULL, rs);
}

static jr_subscriber_t *catchup_client(const world_t *w)
{
    return h_catchup_client(h_zctx, w->d.catchup, NULL, NULL, NULL);
}

static int by_sequence(const void *a, const void *b)
{
    const publication_t *x = *(const publication_t *const *)a;
    const publication_t *y = *(const publication_t *const *)b;
    return (x->sequence > y->sequence) - (x->sequence < y->sequence);
}

/* Whether the items of all replies come in ascending sequence order, as
 * CatchupReply.items promises. */
static bool in_sequence_order(const replies_t *rs)
{
    uint64_t prev = 0;
    for (size_t i = 0; i < rs->n; i++) {
        for (size_t j = 0; j < rs->r[i]->n_items; j++) {
            if (rs->r[i]->items[j]->sequence <= prev) {
                return false;
            }
            prev = rs->r[i]->items[j]->sequence;
        }
    }
    return true;
}

/* The topics and NHS numbers of a snapshot's items, "topic nhs" joined by
 * commas, by sequence. */
static void snapshot_items(const replies_t *rs, char *out, size_t len)
{
    const publication_t *all[64];
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++) {
        CU_ASSERT_EQUAL(rs->r[i]->status, C_OK);
        for (size_t j = 0; j < rs->r[i]->n_items && n < 64; j++) {
            all[n++] = rs->r[i]->items[j];
        }
    }
    qsort(all, n, sizeof *all, by_sequence);
    out[0] = '\0';
    for (size_t j = 0; j < n; j++) {
        const publication_t *p = all[j];
        const char *nhs = "?";
        Joinedreview__V1__ConsolidatedReview *r = NULL;
        Joinedreview__V1__DueNotice *d = NULL;
        if (strcmp(p->topic, "review") == 0) {
            r = joinedreview__v1__consolidated_review__unpack(NULL, p->payload.len,
                                                              p->payload.data);
            nhs = r && r->nhs_number ? r->nhs_number : "?";
        } else {
            d = joinedreview__v1__due_notice__unpack(NULL, p->payload.len, p->payload.data);
            nhs = d && d->nhs_number ? d->nhs_number : "?";
        }
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s %s", used ? "," : "", p->topic, nhs);
        if (r) {
            joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
        }
        if (d) {
            joinedreview__v1__due_notice__free_unpacked(d, NULL);
        }
    }
}

/* ---- an in-test subscriber, through the client library ----------------------- */

typedef struct {
    jr_subscriber_t *js;
    bool connected;
    uint64_t snap_seq;  /* the snapshot is consistent with this */
    uint64_t snap_prev; /* the snapshot item before, for their order */
    int snap_reviews, snap_notices;
    unsigned char seen[MAXSEQ]; /* times applied after the snapshot */
    char topic[MAXSEQ][32];
    int probes; /* SINCE asked by the test: no gap showed what was lost */
    uint64_t rec_seq[NPERSONS];
    uint8_t *rec[NPERSONS];
    size_t rec_len[NPERSONS];
    uint64_t notice_seq[NPERSONS];
} subscriber_t;

/* Takes one publication into the subscriber's state. */
static int sub_apply(void *ctx, uint64_t seq, const char *topic, const uint8_t *data, size_t len,
                     int origin)
{
    subscriber_t *s = ctx;
    bool from_snapshot = origin == JR_SUBSCRIBER_SNAPSHOT;
    CU_ASSERT_FATAL(seq > 0 && seq < MAXSEQ);
    if (from_snapshot) {
        CU_ASSERT(seq > s->snap_prev); /* "items: in sequence order" */
        s->snap_prev = seq;
    }
    if (strcmp(topic, "review") == 0) {
        Joinedreview__V1__ConsolidatedReview *r =
            joinedreview__v1__consolidated_review__unpack(NULL, len, data);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(r->sequence, seq);
        int p = person_of(r->nhs_number);
        CU_ASSERT_FATAL(p >= 0);
        if (seq > s->rec_seq[p]) {
            free(s->rec[p]);
            s->rec[p] = malloc(len ? len : 1);
            memcpy(s->rec[p], data, len);
            s->rec_len[p] = len;
            s->rec_seq[p] = seq;
        }
        joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
        s->snap_reviews += from_snapshot;
    } else {
        CU_ASSERT_EQUAL_FATAL(strncmp(topic, "notice.", 7), 0);
        Joinedreview__V1__DueNotice *n = joinedreview__v1__due_notice__unpack(NULL, len, data);
        CU_ASSERT_PTR_NOT_NULL_FATAL(n);
        CU_ASSERT_EQUAL(n->sequence, seq);
        int p = person_of(n->nhs_number);
        CU_ASSERT_FATAL(p >= 0);
        if (seq > s->notice_seq[p]) {
            s->notice_seq[p] = seq;
        }
        joinedreview__v1__due_notice__free_unpacked(n, NULL);
        s->snap_notices += from_snapshot;
    }
    if (!from_snapshot) {
        s->seen[seq]++;
        snprintf(s->topic[seq], sizeof s->topic[seq], "%s", topic);
    }
    return 0;
}

static uint64_t sub_last(const subscriber_t *s)
{
    return jr_subscriber_sequence(s->js);
}

/* Gaps the live feed showed, each filled with SINCE. */
static int sub_gaps(const subscriber_t *s)
{
    jr_subscriber_stats_t st;
    jr_subscriber_stats(s->js, &st);
    return (int)st.gaps;
}

/* Handles what the SUB delivers until it is quiet for quiet_ms. */
static void sub_pump(subscriber_t *s, int quiet_ms)
{
    int rc;
    for (int guard = 0; s->connected && guard < 100000; guard++) {
        if ((rc = jr_subscriber_poll(s->js, quiet_ms)) <= 0) {
            CU_ASSERT_EQUAL(rc, 0);
            return;
        }
    }
}

/* Pumps until the subscriber has `target`; a final SINCE catches a lost last
 * publication (no later one shows that gap). */
static void sub_sync(subscriber_t *s, uint64_t target)
{
    for (int i = 0; i < 20 && sub_last(s) < target; i++) {
        sub_pump(s, 500);
    }
    if (sub_last(s) < target) {
        s->probes++;
        CU_ASSERT_EQUAL(jr_subscriber_sync(s->js), 0);
    }
}

static void sub_free(subscriber_t *s)
{
    jr_subscriber_destroy(&s->js);
    for (int i = 0; i < NPERSONS; i++) {
        free(s->rec[i]);
    }
    free(s);
}

static subscriber_t *sub_new(const world_t *w)
{
    subscriber_t *s = calloc(1, sizeof *s);
    jr_subscriber_options_t o = {
        .publish_endpoint = w->d.publish, /* first: what is published from now on queues */
        .catchup_endpoint = w->d.catchup,
        .zmq_context = h_zctx,
        .probe_ms = -1, /* SINCE on a gap, or when sub_sync says: see the header */
        .on_publication = sub_apply,
        .ctx = s,
    };
    s->js = jr_subscriber_new(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s->js);
    s->connected = true;
    h_sleep_ms(300); /* let the subscription reach the publisher */
    CU_ASSERT_EQUAL_FATAL(jr_subscriber_sync(s->js), 0); /* the snapshot */
    s->snap_seq = sub_last(s);
    return s;
}

/* ---- checking against the database ---------------------------------------- */

static PGresult *rows(const h_db_t *db, const char *sql, PGconn **conn)
{
    *conn = PQconnectdb(db->conninfo);
    PGresult *r = PQexec(*conn, sql);
    CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_TUPLES_OK);
    return r;
}

static void hex(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
}

/* Each person's current record, and latest notice of the current cycle, as
 * the database has them: what every subscriber must end up holding. */
static const char SQL_RECORDS[] = "SELECT DISTINCT ON (c.nhs_number) c.nhs_number, c.seq, "
                                  "c.version, encode(v.record, 'hex') FROM consolidated_review c "
                                  "JOIN review_record v USING (nhs_number, cycle) "
                                  "ORDER BY c.nhs_number, c.cycle DESC";
static const char SQL_NOTICES[] = "SELECT d.nhs_number, max(d.seq) FROM due_notice d "
                                  "JOIN person p USING (nhs_number) WHERE d.cycle = p.cycle "
                                  "AND d.seq IS NOT NULL GROUP BY d.nhs_number";

static void sub_check(const subscriber_t *s, const h_db_t *db)
{
    long long max = h_sql_int(db, "SELECT max(seq) FROM outbox");
    CU_ASSERT_EQUAL((long long)sub_last(s), max);

    /* After the snapshot, every publication exactly once, under its topic. */
    PGconn *c;
    PGresult *r = rows(db, "SELECT seq, topic FROM outbox ORDER BY seq", &c);
    int after = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        long long seq = atoll(PQgetvalue(r, i, 0));
        CU_ASSERT_FATAL(seq > 0 && seq < MAXSEQ);
        if ((uint64_t)seq <= s->snap_seq) {
            CU_ASSERT_EQUAL(s->seen[seq], 0);
            continue;
        }
        after++;
        CU_ASSERT_EQUAL(s->seen[seq], 1);
        CU_ASSERT_STRING_EQUAL(s->topic[seq], PQgetvalue(r, i, 1));
    }
    int applied = 0;
    for (int i = 0; i < MAXSEQ; i++) {
        applied += s->seen[i];
    }
    CU_ASSERT_EQUAL(applied, after);
    CU_ASSERT_EQUAL((long long)after, max - (long long)s->snap_seq);
    PQclear(r);
    PQfinish(c);

    /* The records, byte for byte. */
    r = rows(db, SQL_RECORDS, &c);
    int held = 0;
    for (int i = 0; i < NPERSONS; i++) {
        held += s->rec_seq[i] > 0;
    }
    CU_ASSERT_EQUAL(held, PQntuples(r));
    for (int i = 0; i < PQntuples(r); i++) {
        int p = person_of(PQgetvalue(r, i, 0));
        CU_ASSERT_FATAL(p >= 0);
        CU_ASSERT_EQUAL((long long)s->rec_seq[p], atoll(PQgetvalue(r, i, 1)));
        char *mine = malloc(2 * s->rec_len[p] + 1);
        hex(s->rec[p] ? s->rec[p] : (const uint8_t *)"", s->rec_len[p], mine);
        CU_ASSERT_STRING_EQUAL(mine, PQgetvalue(r, i, 3));
        free(mine);
    }
    PQclear(r);
    PQfinish(c);

    r = rows(db, SQL_NOTICES, &c);
    int notices = 0;
    for (int i = 0; i < NPERSONS; i++) {
        notices += s->notice_seq[i] > 0;
    }
    CU_ASSERT_EQUAL(notices, PQntuples(r));
    for (int i = 0; i < PQntuples(r); i++) {
        int p = person_of(PQgetvalue(r, i, 0));
        CU_ASSERT_FATAL(p >= 0);
        CU_ASSERT_EQUAL((long long)s->notice_seq[p], atoll(PQgetvalue(r, i, 1)));
    }
    PQclear(r);
    PQfinish(c);
}

/* ---- joinedreview tail as a child process ----------------------------------- */

typedef struct {
    pid_t pid;
    char out[300];
} child_t;

static void state_path(char *path, size_t len, const char *name)
{
    snprintf(path, len, "%s/tail-%s-%d.state", pgdir(), name, (int)getpid());
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static long long read_state(const char *path)
{
    FILE *f = fopen(path, "r");
    long long v = -1;
    if (f != NULL) {
        if (fscanf(f, "%lld", &v) != 1) {
            v = -1;
        }
        fclose(f);
    }
    return v;
}

/* Starts `joinedreview tail --publish P --catchup C args...`, standard
 * output to a file named after the test. */
static void tail_start(child_t *c, const world_t *w, const char *name, const char *const *args)
{
    snprintf(c->out, sizeof c->out, "%s/tail-%s-%d.out", pgdir(), name, (int)getpid());
    const char *argv[32];
    int n = 0;
    argv[n++] = JR_TAIL_PATH;
    argv[n++] = "tail";
    argv[n++] = "--publish";
    argv[n++] = w->d.publish;
    argv[n++] = "--catchup";
    argv[n++] = w->d.catchup;
    for (int i = 0; args != NULL && args[i] != NULL && n < 31; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    int fd = open(c->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_FATAL(fd >= 0);
    c->pid = fork();
    if (c->pid == 0) {
        dup2(fd, STDOUT_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fd);
}

/* The child's exit status, or -1 (and it is killed) after timeout_ms. */
static int tail_wait(child_t *c, int timeout_ms)
{
    int status = 0;
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        h_sleep_ms(50);
    }
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &status, 0);
    fprintf(stderr, "joinedreview tail did not finish within %d ms\n", timeout_ms);
    return -1;
}

/* Runs tail to completion (it must be given --idle-exit or --count). */
static int tail_run(const world_t *w, const char *name, const char *const *args, child_t *c)
{
    tail_start(c, w, name, args);
    return tail_wait(c, 60000);
}

/* Waits until a file exists: tail writes its state once caught up. */
static int wait_file(const char *path, int timeout_ms)
{
    struct stat st;
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (stat(path, &st) == 0) {
            return 0;
        }
        h_sleep_ms(20);
    }
    return -1;
}

/* Every line of the child's output, each parsed with jansson. */
typedef struct {
    json_t *line[MAXSEQ];
    size_t n;
} output_t;

static void output_read(const child_t *c, output_t *o)
{
    memset(o, 0, sizeof *o);
    FILE *f = fopen(c->out, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0 && o->n < MAXSEQ) {
        json_error_t err;
        json_t *j = json_loads(line, 0, &err);
        CU_ASSERT_PTR_NOT_NULL(j);
        if (j == NULL) {
            fprintf(stderr, "%s: not JSON: %s: %s", c->out, err.text, line);
            continue;
        }
        CU_ASSERT_TRUE(json_is_object(j));
        CU_ASSERT_TRUE(json_is_string(json_object_get(j, "topic")));
        o->line[o->n++] = j;
    }
    free(line);
    fclose(f);
}

static void output_free(output_t *o)
{
    for (size_t i = 0; i < o->n; i++) {
        json_decref(o->line[i]);
    }
    o->n = 0;
}

static long long j_seq(const json_t *line)
{
    const json_t *v = json_object_get(line, "sequence");
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static const char *j_str(const json_t *obj, const char *path1, const char *path2)
{
    const json_t *v = json_object_get(obj, path1);
    if (path2 != NULL) {
        v = json_object_get(v, path2);
    }
    return json_is_string(v) ? json_string_value(v) : "";
}

static long long j_int(const json_t *obj, const char *path1, const char *path2)
{
    const json_t *v = json_object_get(json_object_get(obj, path1), path2);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static bool j_snapshot(const json_t *line)
{
    return json_is_true(json_object_get(line, "snapshot"));
}

/* What a consumer of tail's lines holds: per person, the record line with
 * the highest sequence. Checks it against the database (sequence and
 * version of each current record) and that no sequence came twice. */
static void lines_check_state(json_t *const *lines, size_t n, const h_db_t *db)
{
    static unsigned char count[MAXSEQ];
    memset(count, 0, sizeof count);
    long long seq_of[NPERSONS] = {0}, version_of[NPERSONS] = {0};
    for (size_t i = 0; i < n; i++) {
        long long seq = j_seq(lines[i]);
        CU_ASSERT_FATAL(seq > 0 && seq < MAXSEQ);
        count[seq]++;
        CU_ASSERT_EQUAL(count[seq], 1);
        if (strcmp(j_str(lines[i], "topic", NULL), "review") != 0) {
            continue;
        }
        CU_ASSERT_EQUAL(j_int(lines[i], "record", "sequence"), seq);
        int p = person_of(j_str(lines[i], "record", "nhs_number"));
        CU_ASSERT_FATAL(p >= 0);
        if (seq > seq_of[p]) {
            seq_of[p] = seq;
            version_of[p] = j_int(lines[i], "record", "version");
        }
    }
    PGconn *c;
    PGresult *r = rows(db, SQL_RECORDS, &c);
    int held = 0;
    for (int i = 0; i < NPERSONS; i++) {
        held += seq_of[i] > 0;
    }
    CU_ASSERT_EQUAL(held, PQntuples(r));
    for (int i = 0; i < PQntuples(r); i++) {
        int p = person_of(PQgetvalue(r, i, 0));
        CU_ASSERT_FATAL(p >= 0);
        CU_ASSERT_EQUAL(seq_of[p], atoll(PQgetvalue(r, i, 1)));
        CU_ASSERT_EQUAL(version_of[p], atoll(PQgetvalue(r, i, 2)));
    }
    PQclear(r);
    PQfinish(c);
}

/* ---- a subscriber that joins late ------------------------------------------ */

static void pump_hook(void *arg, int chunk)
{
    (void)chunk;
    sub_pump(arg, 0);
}

static void test_late_joiner(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "late", NULL) == 0);
    burst(&w, 0, 200, NULL, NULL);
    long long max1 = h_sql_int(&w.db, "SELECT max(seq) FROM outbox");
    CU_ASSERT(max1 >= 200); /* 200 records and 10 notices */
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM outbox WHERE topic = "
                                     "'notice.lead.SC'"),
                    10);

    /* tail joins late too: its state file appears once it is caught up. */
    char state[300];
    state_path(state, sizeof state, "late");
    unlink(state);
    child_t tail;
    const char *const args[] = {"--state", state, "--idle-exit", "3", NULL};
    tail_start(&tail, &w, "late", args);
    CU_ASSERT_EQUAL(wait_file(state, 15000), 0);
    CU_ASSERT_EQUAL(read_state(state), max1);

    subscriber_t *s = sub_new(&w);
    CU_ASSERT_EQUAL((long long)s->snap_seq, max1);
    CU_ASSERT_EQUAL(s->snap_reviews, NPERSONS);
    CU_ASSERT_EQUAL(s->snap_notices, NPERSONS / 2);

    burst(&w, 200, 200, pump_hook, s);
    sub_sync(s, (uint64_t)h_sql_int(&w.db, "SELECT max(seq) FROM outbox"));
    sub_check(s, &w.db);
    CU_ASSERT_EQUAL(sub_gaps(s) + s->probes, 0); /* nothing was lost on the way */
    sub_free(s);

    CU_ASSERT_EQUAL(tail_wait(&tail, 60000), 0);
    long long max = h_sql_int(&w.db, "SELECT max(seq) FROM outbox");
    CU_ASSERT_EQUAL(read_state(state), max);
    output_t o;
    output_read(&tail, &o);
    /* The snapshot (20 records, 10 notices), then every publication after it. */
    size_t snap = 0;
    for (size_t i = 0; i < o.n; i++) {
        if (j_snapshot(o.line[i])) {
            snap++;
            CU_ASSERT(j_seq(o.line[i]) <= max1);
        } else {
            CU_ASSERT_EQUAL(j_seq(o.line[i]), max1 + (long long)(i - snap) + 1);
        }
    }
    CU_ASSERT_EQUAL(snap, NPERSONS + NPERSONS / 2);
    CU_ASSERT_EQUAL((long long)o.n, (long long)snap + max - max1);
    lines_check_state(o.line, o.n, &w.db);
    output_free(&o);
    unlink(state);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- answered while the writer waits --------------------------------------- */

static size_t items_in(const replies_t *rs)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++) {
        n += rs->r[i]->n_items;
    }
    return n;
}

/* Catch-up reads on a session of its own. With the daemon's writer stuck
 * behind a lock on the event log (as behind a long batch), SNAPSHOT and
 * SINCE are still answered, each naming the last committed publication; when
 * the lock goes, the held event is stored and acknowledged. */
static void test_answered_while_writer_waits(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "writer_waits", NULL) == 0);
    burst(&w, 0, 40, NULL, NULL);
    long long max1 = h_sql_int(&w.db, "SELECT max(seq) FROM outbox");

    PGconn *locker = PQconnectdb(w.db.conninfo);
    PQclear(PQexec(locker, "BEGIN"));
    PGresult *res = PQexec(locker, "LOCK TABLE event IN ACCESS EXCLUSIVE MODE");
    CU_ASSERT_EQUAL_FATAL(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    h_env_t e;
    char seid[32];
    make_event(&e, 40, seid, sizeof seid);
    CU_ASSERT_EQUAL(h_send(w.dealer, &e.env), 0);
    bool waiting = false;
    for (int i = 0; i < 200 && !waiting; i++) {
        waiting = h_sql_int(&w.db, "SELECT count(*) FROM pg_locks WHERE NOT granted "
                                   "AND relation = 'event'::regclass") > 0;
        if (!waiting) {
            h_sleep_ms(50);
        }
    }
    CU_ASSERT_TRUE(waiting); /* the daemon's batch is held up */

    jr_subscriber_t *cu = catchup_client(&w);
    replies_t rs;
    CU_ASSERT_EQUAL_FATAL(ask(cu, K_SNAPSHOT, 0, &rs), 0);
    CU_ASSERT_EQUAL(rs.r[rs.n - 1]->status, C_OK);
    CU_ASSERT_EQUAL((long long)rs.r[rs.n - 1]->sequence, max1);
    CU_ASSERT_EQUAL(items_in(&rs), NPERSONS + NPERSONS / 2);
    CU_ASSERT_TRUE(in_sequence_order(&rs));
    replies_free(&rs);
    CU_ASSERT_EQUAL_FATAL(ask(cu, K_SINCE, (uint64_t)max1 - 5, &rs), 0);
    CU_ASSERT_EQUAL(rs.r[rs.n - 1]->status, C_OK);
    CU_ASSERT_EQUAL((long long)rs.r[rs.n - 1]->sequence, max1);
    CU_ASSERT_EQUAL(items_in(&rs), 5);
    replies_free(&rs);
    jr_subscriber_destroy(&cu);

    PQclear(PQexec(locker, "COMMIT"));
    PQfinish(locker);
    Joinedreview__V1__Ack *ack = h_recv_ack(w.dealer, 10000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ack);
    CU_ASSERT_EQUAL(ack->status, ST_OK);
    joinedreview__v1__ack__free_unpacked(ack, NULL);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT max(seq) FROM outbox"), max1 + 1);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM event"), 41);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- one that disconnects during a burst -------------------------------------- */

typedef struct {
    subscriber_t *s;
    const world_t *w;
    uint64_t at_close, at_reopen;
} disconnect_t;

static void disconnect_hook(void *arg, int chunk)
{
    disconnect_t *d = arg;
    if (chunk == 4) { /* gone: whatever it had queued is lost with it */
        jr_subscriber_disconnect(d->s->js);
        d->s->connected = false;
        d->at_close = sub_last(d->s);
    } else if (chunk == 9) {
        CU_ASSERT_EQUAL(jr_subscriber_connect(d->s->js), 0);
        h_sleep_ms(300); /* let the subscription reach the publisher */
        d->s->connected = true;
        d->at_reopen = sub_last(d->s);
    }
    sub_pump(d->s, 0);
}

static void test_disconnect_during_burst(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "disconnect", NULL) == 0);
    subscriber_t *s = sub_new(&w);
    CU_ASSERT_EQUAL(s->snap_seq, 0);
    disconnect_t d = {s, &w, 0, 0};
    burst(&w, 0, 300, disconnect_hook, &d);
    sub_sync(s, (uint64_t)h_sql_int(&w.db, "SELECT max(seq) FROM outbox"));
    /* It held something before it went, missed chunks 5 to 9 (100 events)
     * while away, and the first live publication after it came back showed
     * the gap, which SINCE filled. */
    CU_ASSERT(d.at_close > 0);
    CU_ASSERT_EQUAL(d.at_reopen, d.at_close);
    CU_ASSERT(sub_gaps(s) >= 1);
    CU_ASSERT_EQUAL(s->probes, 0);
    sub_check(s, &w.db);
    sub_free(s);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- tail restarts from its persisted sequence ---------------------------------- */

typedef struct {
    child_t *tail;
    int stop_at;
} stop_t;

static void stop_hook(void *arg, int chunk)
{
    stop_t *st = arg;
    if (chunk == st->stop_at) {
        kill(st->tail->pid, SIGTERM); /* mid-burst */
    }
}

static void test_tail_restarts_from_state(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "restart", NULL) == 0);
    char state[300];
    state_path(state, sizeof state, "restart");
    unlink(state);

    /* First run: starts on an empty outbox, follows live, stopped mid-burst. */
    child_t t1;
    const char *const args1[] = {"--state", state, NULL};
    tail_start(&t1, &w, "restart-1", args1);
    CU_ASSERT_EQUAL_FATAL(wait_file(state, 15000), 0);
    CU_ASSERT_EQUAL(read_state(state), 0);
    burst(&w, 0, 150, NULL, NULL);
    stop_t st = {&t1, 2};
    burst(&w, 150, 100, stop_hook, &st);
    CU_ASSERT_EQUAL(tail_wait(&t1, 20000), 0); /* SIGTERM: persist and exit 0 */
    long long saved = read_state(state);

    /* Second run: resumes with SINCE while more is pushed. */
    child_t t2;
    const char *const args2[] = {"--state", state, "--idle-exit", "2", NULL};
    tail_start(&t2, &w, "restart-2", args2);
    h_sleep_ms(200);
    burst(&w, 250, 100, NULL, NULL);
    CU_ASSERT_EQUAL(tail_wait(&t2, 60000), 0);
    long long max = h_sql_int(&w.db, "SELECT max(seq) FROM outbox");
    CU_ASSERT_EQUAL(read_state(state), max);

    output_t o1, o2;
    output_read(&t1, &o1);
    output_read(&t2, &o2);
    /* The first run printed exactly up to what it saved; the second went on
     * from there: together 1..max, each once. */
    CU_ASSERT(o1.n > 0);
    CU_ASSERT(o1.n > 0 && j_seq(o1.line[o1.n - 1]) == saved);
    CU_ASSERT(saved < max);
    CU_ASSERT(o2.n > 0 && j_seq(o2.line[0]) == saved + 1);
    static json_t *all[2 * MAXSEQ];
    size_t n = 0;
    for (size_t i = 0; i < o1.n; i++) {
        all[n++] = o1.line[i];
    }
    for (size_t i = 0; i < o2.n; i++) {
        all[n++] = o2.line[i];
    }
    CU_ASSERT_EQUAL((long long)n, max);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(j_seq(all[i]), (long long)i + 1);
        CU_ASSERT_FALSE(j_snapshot(all[i]));
    }
    /* ... under the topics the outbox has. */
    PGconn *c;
    PGresult *r = rows(&w.db, "SELECT seq, topic FROM outbox ORDER BY seq", &c);
    CU_ASSERT_EQUAL(PQntuples(r), (int)n);
    for (int i = 0; i < PQntuples(r) && (size_t)i < n; i++) {
        CU_ASSERT_STRING_EQUAL(j_str(all[i], "topic", NULL), PQgetvalue(r, i, 1));
    }
    PQclear(r);
    PQfinish(c);
    lines_check_state(all, n, &w.db);
    output_free(&o1);
    output_free(&o2);
    unlink(state);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- tail across a restart of the daemon ---------------------------------------- */

/* The daemon goes away and comes back on the same endpoints while tail runs:
 * its SUB reconnects by itself, and what was published before it did shows
 * as a gap (or, if nothing follows, is found by its idle SINCE). */
static void test_tail_across_daemon_restart(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "bounce", NULL) == 0);
    char pub[200], cu[200], state[300];
    snprintf(pub, sizeof pub, "daemon.publish_endpoint=%s", w.d.publish);
    snprintf(cu, sizeof cu, "daemon.catchup_endpoint=%s", w.d.catchup);
    state_path(state, sizeof state, "bounce");
    unlink(state);
    child_t t;
    const char *const args[] = {"--state", state, "--idle-exit", "4", NULL};
    tail_start(&t, &w, "bounce", args);
    CU_ASSERT_EQUAL_FATAL(wait_file(state, 15000), 0);
    burst(&w, 0, 100, NULL, NULL);
    CU_ASSERT_EQUAL(world_down(&w), 0);

    const char *const same[] = {"--set", pub, "--set", cu, NULL};
    CU_ASSERT_FATAL(h_daemon_start(&w.d, &w.db, same) == 0);
    w.dealer = h_dealer(h_zctx, w.d.ingest);
    burst(&w, 100, 100, NULL, NULL); /* at once: before tail's SUB is back */
    CU_ASSERT_EQUAL(tail_wait(&t, 60000), 0);
    long long max = h_sql_int(&w.db, "SELECT max(seq) FROM outbox");
    CU_ASSERT_EQUAL(read_state(state), max);
    output_t o;
    output_read(&t, &o);
    CU_ASSERT_EQUAL((long long)o.n, max);
    for (size_t i = 0; i < o.n; i++) {
        CU_ASSERT_EQUAL(j_seq(o.line[i]), (long long)i + 1);
    }
    lines_check_state(o.line, o.n, &w.db);
    output_free(&o);
    unlink(state);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- SINCE older than the retention ------------------------------------------------ */

static void test_since_older_than_retention(void)
{
    world_t w;
    const char *const extra[] = {"--set", "daemon.outbox_retention_days=30", NULL};
    CU_ASSERT_FATAL(world_up(&w, "retention", extra) == 0);
    burst(&w, 0, 60, NULL, NULL);
    long long max = h_sql_int(&w.db, "SELECT max(seq) FROM outbox");
    long long k = max / 2;
    CU_ASSERT_EQUAL(world_down(&w), 0);

    /* The first half is 400 days old; the sweep at start-up removes it. */
    char sql[200];
    snprintf(sql, sizeof sql,
             "UPDATE outbox SET created_at = now() - interval '400 days' WHERE seq <= %lld", k);
    CU_ASSERT_EQUAL(h_sql_exec(&w.db, sql), 0);
    CU_ASSERT_FATAL(h_daemon_start(&w.d, &w.db, extra) == 0);
    long long through = -1;
    for (int i = 0; i < 100 && through != k; i++) {
        through = h_sql_int(&w.db, "SELECT trimmed_through FROM publish_state");
        if (through != k) {
            h_sleep_ms(100);
        }
    }
    CU_ASSERT_EQUAL_FATAL(through, k);
    /* Of the first half, only rows holding a current record stay. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox o WHERE seq <= %lld AND NOT EXISTS (SELECT 1 FROM "
             "consolidated_review c WHERE c.seq = o.seq AND c.record IS NULL)",
             k);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, sql), 0);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT min(seq) FROM outbox WHERE seq > (SELECT "
                                     "trimmed_through FROM publish_state)"),
                    k + 1);

    jr_subscriber_t *cu = catchup_client(&w);
    replies_t rs;
    /* Publication k is gone: after k-1 cannot be served. */
    CU_ASSERT_EQUAL_FATAL(ask(cu, K_SINCE, (uint64_t)k - 1, &rs), 0);
    CU_ASSERT_EQUAL(rs.n, 1);
    CU_ASSERT_EQUAL(rs.r[0]->status, C_TOO_OLD);
    CU_ASSERT_TRUE(rs.r[0]->last);
    CU_ASSERT_PTR_NOT_NULL(rs.r[0]->reason);
    CU_ASSERT_EQUAL(rs.r[0]->n_items, 0);
    replies_free(&rs);
    CU_ASSERT_EQUAL_FATAL(ask(cu, K_SINCE, 0, &rs), 0);
    CU_ASSERT_EQUAL(rs.r[0]->status, C_TOO_OLD);
    replies_free(&rs);
    /* After k still can: everything from k+1 is kept. */
    CU_ASSERT_EQUAL_FATAL(ask(cu, K_SINCE, (uint64_t)k, &rs), 0);
    size_t items = 0;
    for (size_t i = 0; i < rs.n; i++) {
        CU_ASSERT_EQUAL(rs.r[i]->status, C_OK);
        CU_ASSERT_EQUAL((long long)rs.r[i]->sequence, max);
        for (size_t j = 0; j < rs.r[i]->n_items; j++) {
            CU_ASSERT_EQUAL((long long)rs.r[i]->items[j]->sequence, k + 1 + (long long)items);
            items++;
        }
    }
    CU_ASSERT_EQUAL((long long)items, max - k);
    replies_free(&rs);
    jr_subscriber_destroy(&cu);

    /* A subscriber that was at k-1 takes the snapshot instead, and still
     * ends holding the daemon's state. */
    subscriber_t *s = sub_new(&w);
    CU_ASSERT_EQUAL((long long)s->snap_seq, max);
    CU_ASSERT_EQUAL(s->snap_reviews, NPERSONS);
    CU_ASSERT_EQUAL(s->snap_notices, NPERSONS / 2); /* open notices outlive the outbox rows */
    sub_check(s, &w.db);
    sub_free(s);

    /* So does tail resuming from a state file that old. */
    char state[300], text[32];
    state_path(state, sizeof state, "retention");
    snprintf(text, sizeof text, "%lld\n", k - 1);
    write_text(state, text);
    child_t t;
    const char *const args[] = {"--state", state, "--idle-exit", "1", NULL};
    CU_ASSERT_EQUAL(tail_run(&w, "retention", args, &t), 0);
    CU_ASSERT_EQUAL(read_state(state), max);
    output_t o;
    output_read(&t, &o);
    for (size_t i = 0; i < o.n; i++) {
        CU_ASSERT_TRUE(j_snapshot(o.line[i]));
        CU_ASSERT(j_seq(o.line[i]) > k - 1 && j_seq(o.line[i]) <= max);
    }
    lines_check_state(o.line, o.n, &w.db);
    output_free(&o);
    unlink(state);
    CU_ASSERT_EQUAL(world_down(&w), 0);

    /* Everything older than the retention (a quiet month): after the sweep
     * the outbox holds only the rows that are a person's current record
     * (stored once, there), every record still whole; the sequence goes on
     * from max, never back to 1, and SINCE max is still a valid question. */
    CU_ASSERT_EQUAL(h_sql_exec(&w.db, "UPDATE outbox SET created_at = now() - interval '400 days'"),
                    0);
    long long records = h_sql_int(&w.db, "SELECT count(*) FROM consolidated_review");
    CU_ASSERT_FATAL(records > 0);
    CU_ASSERT_FATAL(h_daemon_start(&w.d, &w.db, extra) == 0);
    for (int i = 0; i < 100 && h_sql_int(&w.db, "SELECT count(*) FROM outbox") != records; i++) {
        h_sleep_ms(100);
    }
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM outbox"), records);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM outbox o JOIN consolidated_review c "
                                     "ON c.seq = o.seq AND c.nhs_number = o.nhs_number "
                                     "WHERE c.record IS NULL"),
                    records);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM review_record WHERE length(record) > 0"),
                    records);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT trimmed_through FROM publish_state"), max);
    /* A snapshot still serves each person's record whole, from those rows. */
    jr_subscriber_t *snap = catchup_client(&w);
    replies_t ss;
    CU_ASSERT_EQUAL_FATAL(ask(snap, K_SNAPSHOT, 0, &ss), 0);
    long long whole = 0;
    for (size_t i = 0; i < ss.n; i++) {
        for (size_t j = 0; j < ss.r[i]->n_items; j++) {
            whole += strcmp(ss.r[i]->items[j]->topic, "review") == 0 &&
                     ss.r[i]->items[j]->payload.len > 0;
        }
    }
    CU_ASSERT_EQUAL(whole, h_sql_int(&w.db, "SELECT count(DISTINCT nhs_number) FROM "
                                            "consolidated_review"));
    replies_free(&ss);
    jr_subscriber_destroy(&snap);
    CU_ASSERT_EQUAL(h_daemon_stop(&w.d, SIGTERM), 0); /* and a restart after that */
    CU_ASSERT_FATAL(h_daemon_start(&w.d, &w.db, extra) == 0);
    w.dealer = h_dealer(h_zctx, w.d.ingest);
    burst(&w, 1000, 1, NULL, NULL);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT max(seq) FROM outbox"), max + 1);
    cu = catchup_client(&w);
    CU_ASSERT_EQUAL_FATAL(ask(cu, K_SINCE, (uint64_t)max, &rs), 0);
    CU_ASSERT_EQUAL(rs.r[0]->status, C_OK);
    CU_ASSERT_EQUAL((long long)rs.r[0]->sequence, max + 1);
    CU_ASSERT_EQUAL(rs.r[0]->n_items, 1);
    replies_free(&rs);
    jr_subscriber_destroy(&cu);
    CU_ASSERT_EQUAL(world_down(&w), 0);

    /* That event changed a person's record: the row kept behind the trim
     * for their old one holds a current record no more, and the next trim's
     * sweep takes it. */
    static const char left[] = "SELECT count(*) FROM outbox o WHERE o.seq <= (SELECT "
                               "trimmed_through FROM publish_state) AND NOT EXISTS (SELECT 1 FROM "
                               "consolidated_review c WHERE c.seq = o.seq AND c.record IS NULL)";
    CU_ASSERT_EQUAL(h_sql_int(&w.db, left), 1);
    CU_ASSERT_FATAL(h_daemon_start(&w.d, &w.db, extra) == 0);
    for (int i = 0; i < 100 && h_sql_int(&w.db, left) != 0; i++) {
        h_sleep_ms(100);
    }
    CU_ASSERT_EQUAL(h_sql_int(&w.db, left), 0);
    CU_ASSERT_EQUAL(h_sql_int(&w.db, "SELECT count(*) FROM outbox WHERE seq <= (SELECT "
                                     "trimmed_through FROM publish_state)"),
                    records - 1);
    CU_ASSERT_EQUAL(h_daemon_stop(&w.d, SIGTERM), 0);
}

/* ---- the outbox trimmed in rounds ------------------------------------------------- */

/* A backlog past the retention larger than one round of the trim (5,000
 * rows) leaves in rounds between the loop's other work; what is within the
 * retention stays, and the sequence goes on. */
static void test_trim_in_rounds(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "trim_rounds") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0); /* the schema */
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_exec(&db, "INSERT INTO outbox (seq, topic, payload, created_at) "
                                    "SELECT g, 'review', '\\x00', now() - interval '400 days' "
                                    "FROM generate_series(1, 12000) g"),
                    0);
    CU_ASSERT_EQUAL(h_sql_exec(&db, "INSERT INTO outbox (seq, topic, payload) SELECT g, 'review', "
                                    "'\\x00' FROM generate_series(12001, 12010) g"),
                    0);
    CU_ASSERT_EQUAL(h_sql_exec(&db, "UPDATE publish_state SET last_published_seq = 12010"), 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, NULL) == 0);
    int line = 0;
    for (int i = 0; i < 100 && line == 0; i++) {
        line =
            h_log_line_of(&d, "12000 publications older than 30 days left the outbox in 3 rounds");
        if (line == 0) {
            h_sleep_ms(100);
        }
    }
    CU_ASSERT(line > h_log_line_of(&d, "ready: ")); /* the first round before, the rest after */
    CU_ASSERT(h_log_line_of(&d, "ready: ") > 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM outbox"), 10);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT min(seq) FROM outbox"), 12001);
    void *dealer = h_dealer(h_zctx, d.ingest);
    h_env_t e;
    h_enrolment(&e, "SC", "after-trim", T0, g_nhs[0], NULL, "2026-08-20");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT min(seq) FROM outbox WHERE nhs_number IS NOT NULL"),
                    12011);
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- tail over CURVE ------------------------------------------------------------- */

typedef struct {
    char pub[41];
    char sec[41];
} keypair_t;

/* Writes a key pair as `joinedreview keygen` does; path is under dir. */
static void write_keys(char *path, size_t len, const char *dir, const char *name,
                       const keypair_t *k)
{
    char text[160];
    snprintf(path, len, "%s/%s.key", dir, name);
    snprintf(text, sizeof text, "public-key = \"%s\"\nsecret-key = \"%s\"\n", k->pub, k->sec);
    write_text(path, text);
    chmod(path, 0600);
}

/* With the daemon's default security (CURVE, an allow-list): tail reads with
 * a key allowed the identifiable feed, and a statistics-only key gets
 * statistics but is refused records, at once and with exit status 2. */
static void test_tail_over_curve(void)
{
    keypair_t server, adapter, reader, dashboard;
    CU_ASSERT_FATAL(zmq_curve_keypair(server.pub, server.sec) == 0 &&
                    zmq_curve_keypair(adapter.pub, adapter.sec) == 0 &&
                    zmq_curve_keypair(reader.pub, reader.sec) == 0 &&
                    zmq_curve_keypair(dashboard.pub, dashboard.sec) == 0);
    char dir[256], server_file[300], reader_file[300], dashboard_file[300], allow[300];
    snprintf(dir, sizeof dir, "%s/tail-curve-%d", pgdir(), (int)getpid());
    mkdir(dir, 0700);
    write_keys(server_file, sizeof server_file, dir, "server", &server);
    write_keys(reader_file, sizeof reader_file, dir, "reader", &reader);
    write_keys(dashboard_file, sizeof dashboard_file, dir, "dashboard", &dashboard);
    snprintf(allow, sizeof allow, "%s/allow.ini", dir);
    char text[512];
    snprintf(text, sizeof text,
             "[client.adapter]\npublic_key = %s\nstreams = ALL\n\n"
             "[client.review-team]\npublic_key = %s\nfeeds = identifiable\n\n"
             "[client.dashboard]\npublic_key = %s\nfeeds = statistics\n",
             adapter.pub, reader.pub, dashboard.pub);
    write_text(allow, text);

    char key_set[400], allow_set[400];
    snprintf(key_set, sizeof key_set, "daemon.server_key_file=%s", server_file);
    snprintf(allow_set, sizeof allow_set, "daemon.allow_list_file=%s", allow);
    const char *const extra[] = {
        "--set", "daemon.security=curve", "--set", key_set, "--set", allow_set, NULL};
    world_t w;
    memset(&w, 0, sizeof w);
    CU_ASSERT_FATAL(h_db_create(&w.db, "curve") == 0);
    CU_ASSERT_FATAL(h_daemon_start(&w.d, &w.db, extra) == 0);
    w.dealer = zmq_socket(h_zctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(w.dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(w.dealer, ZMQ_CURVE_SERVERKEY, server.pub, 40);
    zmq_setsockopt(w.dealer, ZMQ_CURVE_PUBLICKEY, adapter.pub, 40);
    zmq_setsockopt(w.dealer, ZMQ_CURVE_SECRETKEY, adapter.sec, 40);
    zmq_connect(w.dealer, w.d.ingest);
    burst(&w, 0, 40, NULL, NULL);
    long long max = h_sql_int(&w.db, "SELECT max(seq) FROM outbox");

    char state[300];
    state_path(state, sizeof state, "curve");
    write_text(state, "0\n");
    child_t c;
    output_t o;
    const char *const as_reader[] = {"--server-key", server.pub, "--key-file",
                                     reader_file,    "--state",  state,
                                     "--idle-exit",  "1",        NULL};
    CU_ASSERT_EQUAL(tail_run(&w, "curve", as_reader, &c), 0);
    output_read(&c, &o);
    CU_ASSERT_EQUAL((long long)o.n, max);
    for (size_t i = 0; i < o.n; i++) {
        CU_ASSERT_EQUAL(j_seq(o.line[i]), (long long)i + 1);
    }
    lines_check_state(o.line, o.n, &w.db);
    output_free(&o);
    CU_ASSERT_EQUAL(read_state(state), max);

    const char *const stats[] = {"--server-key", server.pub,   "--key-file", dashboard_file,
                                 "--kind",       "statistics", "--count",    "1",
                                 "--idle-exit",  "5",          NULL};
    CU_ASSERT_EQUAL(tail_run(&w, "curve-stats", stats, &c), 0);
    output_read(&c, &o);
    CU_ASSERT_EQUAL_FATAL(o.n, 1);
    CU_ASSERT_EQUAL(j_int(o.line[0], "statistics", "reviews"), NPERSONS);
    output_free(&o);

    const char *const refused[] = {"--server-key", server.pub, "--key-file", dashboard_file,
                                   "--idle-exit",  "5",        NULL};
    CU_ASSERT_EQUAL(tail_run(&w, "curve-refused", refused, &c), 2);
    output_read(&c, &o);
    CU_ASSERT_EQUAL(o.n, 0);
    output_free(&o);

    unlink(state);
    unlink(c.out);
    unlink(server_file);
    unlink(reader_file);
    unlink(dashboard_file);
    unlink(allow);
    rmdir(dir);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

/* ---- tail's filters ---------------------------------------------------------------- */

/* Runs tail from sequence 0 (every publication) with these arguments. */
static void run_from_zero(const world_t *w, const char *name, const char *const *filter,
                          output_t *o, long long *saved)
{
    char state[300];
    state_path(state, sizeof state, name);
    write_text(state, "0\n");
    const char *args[16];
    int n = 0;
    args[n++] = "--state";
    args[n++] = state;
    args[n++] = "--idle-exit";
    args[n++] = "1";
    for (int i = 0; filter[i] != NULL && n < 15; i++) {
        args[n++] = filter[i];
    }
    args[n] = NULL;
    child_t c;
    CU_ASSERT_EQUAL(tail_run(w, name, args, &c), 0);
    output_read(&c, o);
    if (saved) {
        *saved = read_state(state);
    }
    unlink(state);
    unlink(c.out);
}

static void test_tail_filters(void)
{
    world_t w;
    CU_ASSERT_FATAL(world_up(&w, "filters", NULL) == 0);
    h_env_t e;
    /* A: social care, due 2026-10-15, so SC leads and a 28-day notice goes
     * out. B: ICES, due 2026-12-01, no notice yet. */
    h_enrolment(&e, "SC", "a-enrol", T0, H_NHS_A, NULL, "2026-08-20");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    h_enrolment(&e, "ICES", "b-enrol", T0, H_NHS_B, NULL, "2025-12-01");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    h_contribution(&e, "ICES", "b-1", T0 + 1, H_NHS_B, T(EQUIPMENT), R(STREAM_OFFICER), P(AMBER),
                   "Hoist serviced");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    h_contribution(&e, "SC", "a-1", T0 + 2, H_NHS_A, T(HEALTH), R(PERSON), P(RED), "Walking more");
    CU_ASSERT_EQUAL(h_push(w.dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL_FATAL(h_sql_int(&w.db, "SELECT count(*) FROM outbox"), 5);
    CU_ASSERT_EQUAL_FATAL(h_sql_int(&w.db, "SELECT count(*) FROM outbox WHERE topic = "
                                           "'notice.lead.SC'"),
                          1);
    output_t o;
    long long saved;

    const char *const none[] = {NULL};
    run_from_zero(&w, "f-all", none, &o, &saved);
    CU_ASSERT_EQUAL(o.n, 5);
    for (size_t i = 0; i < o.n; i++) {
        CU_ASSERT_EQUAL(j_seq(o.line[i]), (long long)i + 1);
    }
    CU_ASSERT_EQUAL(saved, 5);
    output_free(&o);

    const char *const notices[] = {"--kind", "notice", NULL};
    run_from_zero(&w, "f-notice", notices, &o, &saved);
    CU_ASSERT_EQUAL_FATAL(o.n, 1);
    CU_ASSERT_STRING_EQUAL(j_str(o.line[0], "topic", NULL), "notice.lead.SC");
    CU_ASSERT_STRING_EQUAL(j_str(o.line[0], "notice", "nhs_number"), "9434765919");
    CU_ASSERT_STRING_EQUAL(j_str(o.line[0], "notice", "kind"), "LEAD");
    CU_ASSERT_STRING_EQUAL(j_str(o.line[0], "notice", "key"), "lead-28");
    CU_ASSERT_STRING_EQUAL(j_str(o.line[0], "notice", "lead"), "SC");
    CU_ASSERT_STRING_EQUAL(j_str(o.line[0], "notice", "review_on"), "2026-10-15");
    CU_ASSERT_EQUAL(j_int(o.line[0], "notice", "sequence"), j_seq(o.line[0]));
    CU_ASSERT_EQUAL(saved, 5); /* filtered-out publications still count */
    output_free(&o);

    const char *const reviews[] = {"--kind", "review", NULL};
    run_from_zero(&w, "f-review", reviews, &o, NULL);
    CU_ASSERT_EQUAL(o.n, 4);
    for (size_t i = 0; i < o.n; i++) {
        CU_ASSERT_STRING_EQUAL(j_str(o.line[i], "topic", NULL), "review");
    }
    output_free(&o);

    /* Reviews ICES leads: B's two versions. */
    const char *const lead[] = {"--lead", "ICES", NULL};
    run_from_zero(&w, "f-lead", lead, &o, NULL);
    CU_ASSERT_EQUAL_FATAL(o.n, 2);
    CU_ASSERT_STRING_EQUAL(j_str(o.line[0], "record", "nhs_number"), "9434765870");
    CU_ASSERT_EQUAL(j_int(o.line[0], "record", "version"), 1);
    CU_ASSERT_STRING_EQUAL(j_str(o.line[1], "record", "nhs_number"), "9434765870");
    CU_ASSERT_EQUAL(j_int(o.line[1], "record", "version"), 2);
    output_free(&o);

    /* Social care: A's two versions and the notice covering SC. */
    const char *const stream[] = {"--stream", "SC", NULL};
    run_from_zero(&w, "f-stream", stream, &o, NULL);
    CU_ASSERT_EQUAL_FATAL(o.n, 3);
    int records = 0, notice_lines = 0;
    for (size_t i = 0; i < o.n; i++) {
        if (strcmp(j_str(o.line[i], "topic", NULL), "review") == 0) {
            records++;
            CU_ASSERT_STRING_EQUAL(j_str(o.line[i], "record", "nhs_number"), "9434765919");
        } else {
            notice_lines++;
            CU_ASSERT_STRING_EQUAL(j_str(o.line[i], "notice", "nhs_number"), "9434765919");
        }
    }
    CU_ASSERT_EQUAL(records, 2);
    CU_ASSERT_EQUAL(notice_lines, 1);
    output_free(&o);

    /* One person, with spaces. */
    const char *const person[] = {"--nhs", "943 476 5870", NULL};
    run_from_zero(&w, "f-nhs", person, &o, NULL);
    CU_ASSERT_EQUAL_FATAL(o.n, 2);
    CU_ASSERT_STRING_EQUAL(j_str(o.line[0], "record", "nhs_number"), "9434765870");
    CU_ASSERT_STRING_EQUAL(j_str(o.line[1], "record", "nhs_number"), "9434765870");
    output_free(&o);

    /* Filters combine; nothing matching still moves the state on. */
    const char *const both[] = {"--kind", "review", "--lead", "SC", "--nhs", "9434765919", NULL};
    run_from_zero(&w, "f-both", both, &o, NULL);
    CU_ASSERT_EQUAL(o.n, 2);
    output_free(&o);
    const char *const nobody[] = {"--stream", "ATW", NULL};
    run_from_zero(&w, "f-nobody", nobody, &o, &saved);
    CU_ASSERT_EQUAL(o.n, 0);
    CU_ASSERT_EQUAL(saved, 5);
    output_free(&o);

    /* --count stops after N lines, saving exactly up to the last printed;
     * the next run goes on from there. */
    char state[300];
    state_path(state, sizeof state, "f-count");
    write_text(state, "0\n");
    child_t c;
    const char *const count[] = {"--state", state, "--count", "2", "--idle-exit", "5", NULL};
    CU_ASSERT_EQUAL(tail_run(&w, "f-count", count, &c), 0);
    output_read(&c, &o);
    CU_ASSERT_EQUAL(o.n, 2);
    CU_ASSERT_EQUAL(read_state(state), 2);
    output_free(&o);
    const char *const rest[] = {"--state", state, "--idle-exit", "1", NULL};
    CU_ASSERT_EQUAL(tail_run(&w, "f-count", rest, &c), 0);
    output_read(&c, &o);
    CU_ASSERT_EQUAL_FATAL(o.n, 3);
    CU_ASSERT_EQUAL(j_seq(o.line[0]), 3);
    CU_ASSERT_EQUAL(j_seq(o.line[2]), 5);
    output_free(&o);
    unlink(state);

    /* No state: the snapshot, the current record of each person. */
    const char *const snap[] = {"--kind", "review", "--idle-exit", "1", NULL};
    CU_ASSERT_EQUAL(tail_run(&w, "f-snap", snap, &c), 0);
    output_read(&c, &o);
    CU_ASSERT_EQUAL_FATAL(o.n, 2);
    for (size_t i = 0; i < o.n; i++) {
        CU_ASSERT_TRUE(j_snapshot(o.line[i]));
        CU_ASSERT_EQUAL(j_int(o.line[i], "record", "version"), 2);
    }
    output_free(&o);

    /* The daemon filters snapshots itself, by lead and by stream. */
    jr_subscriber_t *cu = catchup_client(&w);
    replies_t rs;
    char items[512];
    CU_ASSERT_EQUAL_FATAL(ask_filtered(cu, K_SNAPSHOT, 0, "ICES", NULL, &rs), 0);
    snapshot_items(&rs, items, sizeof items);
    CU_ASSERT_STRING_EQUAL(items, "review 9434765870");
    CU_ASSERT_EQUAL(rs.r[rs.n - 1]->sequence, 5);
    replies_free(&rs);
    CU_ASSERT_EQUAL_FATAL(ask_filtered(cu, K_SNAPSHOT, 0, NULL, "SC", &rs), 0);
    snapshot_items(&rs, items, sizeof items);
    CU_ASSERT_STRING_EQUAL(items, "notice.lead.SC 9434765919,review 9434765919");
    replies_free(&rs);
    CU_ASSERT_EQUAL_FATAL(ask_filtered(cu, K_SNAPSHOT, 0, "SC", "ICES", &rs), 0);
    snapshot_items(&rs, items, sizeof items);
    CU_ASSERT_STRING_EQUAL(items, "");
    replies_free(&rs);
    jr_subscriber_destroy(&cu);
    const char *const snap_lead[] = {"--lead", "SC", "--idle-exit", "1", NULL};
    CU_ASSERT_EQUAL(tail_run(&w, "f-snap-lead", snap_lead, &c), 0);
    output_read(&c, &o);
    CU_ASSERT_EQUAL_FATAL(o.n, 2);
    CU_ASSERT_STRING_EQUAL(j_str(o.line[0], "topic", NULL), "notice.lead.SC");
    CU_ASSERT_STRING_EQUAL(j_str(o.line[1], "record", "nhs_number"), "9434765919");
    output_free(&o);

    /* Statistics, asked for at start. */
    const char *const stats[] = {"--kind", "statistics", "--count", "1", "--idle-exit", "5", NULL};
    CU_ASSERT_EQUAL(tail_run(&w, "f-stats", stats, &c), 0);
    output_read(&c, &o);
    CU_ASSERT_EQUAL_FATAL(o.n, 1);
    CU_ASSERT_STRING_EQUAL(j_str(o.line[0], "topic", NULL), "statistics");
    CU_ASSERT_EQUAL(j_int(o.line[0], "statistics", "reviews"), 2);
    CU_ASSERT_EQUAL(j_int(o.line[0], "statistics", "sequence"), 5);
    output_free(&o);
    unlink(c.out);
    CU_ASSERT_EQUAL(world_down(&w), 0);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"a late joiner: snapshot, then live", test_late_joiner},
        {"snapshot and SINCE answered while the writer waits", test_answered_while_writer_waits},
        {"a disconnect mid-burst is filled with SINCE", test_disconnect_during_burst},
        {"tail restarts from its persisted sequence", test_tail_restarts_from_state},
        {"tail follows across a restart of the daemon", test_tail_across_daemon_restart},
        {"SINCE older than the retention: TOO_OLD, then a snapshot",
         test_since_older_than_retention},
        {"an outbox backlog is trimmed in rounds", test_trim_in_rounds},
        {"tail's filters", test_tail_filters},
        {"tail over CURVE, as the allow-list says", test_tail_over_curve},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {
        {"catchup", suite_init, h_suite_clean, NULL, NULL, tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
