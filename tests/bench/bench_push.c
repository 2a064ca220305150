/* bench_push.c -- a simple local push: how many events per second the daemon
 * takes from one client (client/jr_client.h: a DEALER with a window of
 * envelopes in flight), acknowledged only after commit, against a baseline
 * measured in the same run on the same PostgreSQL: the same envelopes
 * written by a bare COPY into a plain table, one commit per 1,000 rows (the
 * daemon's default batch size).
 *
 *   bench_push [EVENTS [PERSONS [WINDOW]]]      defaults 20000 2000 1000
 *
 * Needs the throwaway cluster: scripts/pg.sh start build/test-pg, or run it
 * through `cmake --build build --target bench`. Not part of the test suite. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "harness.h"
#include "jr_client.h"

static double secs(void)
{
    return (double)h_now_ms() / 1000.0;
}

static uint8_t *pack(int i, int persons, size_t *len)
{
    static const char *const streams[] = {"SC", "SP", "ILF", "ICES", "ATW", "DFG"};
    char seid[32], nhs[11];
    snprintf(seid, sizeof seid, "bench-%d", i);
    h_nhs_of(i % persons, nhs);
    h_env_t e;
    h_contribution(&e, streams[i % 6], seid, 1790845200000LL + i, nhs, 1 + i % 18, 1 + i % 6, i % 4,
                   "Getting out to the day centre twice a week; transport is reliable");
    *len = joinedreview__v1__envelope__get_packed_size(&e.env);
    uint8_t *buf = malloc(*len);
    joinedreview__v1__envelope__pack(&e.env, buf);
    return buf;
}

static double baseline_copy(const h_db_t *db, uint8_t **bufs, size_t *lens, int n)
{
    PGconn *c = PQconnectdb(db->conninfo);
    PQclear(PQexec(c, "CREATE TABLE IF NOT EXISTS bench_copy (stream text, source_event_id "
                      "text, envelope bytea)"));
    PQclear(PQexec(c, "TRUNCATE bench_copy"));
    double t0 = secs();
    for (int i = 0; i < n; i += 1000) {
        PQclear(PQexec(c, "BEGIN"));
        PQclear(PQexec(c, "COPY bench_copy FROM STDIN"));
        for (int j = i; j < n && j < i + 1000; j++) {
            char line[4096];
            int off = snprintf(line, sizeof line, "SC\tbench-%d\t\\\\x", j);
            for (size_t k = 0; k < lens[j] && off + 3 < (int)sizeof line; k++) {
                off += snprintf(line + off, sizeof line - (size_t)off, "%02x", bufs[j][k]);
            }
            line[off++] = '\n';
            PQputCopyData(c, line, off);
        }
        PQputCopyEnd(c, NULL);
        PQclear(PQgetResult(c));
        PQclear(PQexec(c, "COMMIT"));
    }
    double t = secs() - t0;
    PQfinish(c);
    return n / t;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    int persons = argc > 2 ? atoi(argv[2]) : 2000;
    int window = argc > 3 ? atoi(argv[3]) : 1000;
    h_db_t db;
    h_daemon_t d;
    if (h_db_create(&db, "bench_push") != 0 ||
        h_daemon_start(&d, &db,
                       (const char *const[]){
                           "--log-level", getenv("JR_BENCH_LOG") ? getenv("JR_BENCH_LOG") : "info",
                           NULL}) != 0) {
        fprintf(stderr, "bench_push: cannot start (is build/test-pg running?)\n");
        return 1;
    }
    uint8_t **bufs = calloc((size_t)n, sizeof *bufs);
    size_t *lens = calloc((size_t)n, sizeof *lens);
    for (int i = 0; i < n; i++) {
        bufs[i] = pack(i, persons, &lens[i]);
    }
    /* No resend within the run (the daemon answers everything it holds);
     * queues with room for the whole window each way. */
    jr_client_options_t o = {.window = (size_t)window,
                             .ack_timeout_ms = 60000,
                             .submit_timeout_ms = 10000,
                             .sndhwm = 100000,
                             .rcvhwm = 100000};
    jr_client_t *client = jr_client_new(d.ingest, &o);
    if (client == NULL) {
        fprintf(stderr, "bench_push: no client\n");
        h_daemon_stop(&d, SIGTERM);
        return 1;
    }
    int rc = 0;
    double t0 = secs();
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = jr_client_submit_packed(client, bufs[i], lens[i], NULL);
    }
    /* The rest, failing only after 10 s with no answer at all. */
    for (size_t before = 0; rc == 0 && jr_client_pending(client) != before;) {
        before = jr_client_pending(client);
        rc = jr_client_flush(client, 10000);
        rc = rc > 0 && jr_client_pending(client) == before ? rc : rc < 0 ? rc : 0;
    }
    jr_client_stats_t st;
    jr_client_stats(client, &st);
    int acked = (int)(st.ok + st.duplicate + st.parked + st.rejected), ok = (int)st.ok;
    if (rc != 0) {
        fprintf(stderr, "bench_push: ack timeout after %d (%s)\n", acked,
                rc > 0 ? "no answers for 10 s" : jr_client_strerror(rc));
    }
    double daemon_rate = acked / (secs() - t0);
    double base_rate = baseline_copy(&db, bufs, lens, n);
    printf("events %d, persons %d, window %d, ok %d\n", n, persons, window, ok);
    printf("daemon (ROUTER -> commit -> ack -> publish): %.0f events/s\n", daemon_rate);
    printf("baseline (bare COPY, 1000 rows/commit, same PostgreSQL): %.0f rows/s\n", base_rate);
    printf("ratio daemon/baseline: %.2f\n", daemon_rate / base_rate);
    jr_client_destroy(&client);
    h_daemon_stop(&d, SIGTERM);
    for (int i = 0; i < n; i++) {
        free(bufs[i]);
    }
    free(bufs);
    free(lens);
    return ok == n ? 0 : 1;
}
