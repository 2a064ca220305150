/* page_metrics.c -- GET /metrics for the operations team's scraper.
 *
 * Allowed to a request bearing the token of metrics_token_file
 * ("Authorization: Bearer TOKEN", compared in constant time), or to an
 * analyst's session: the figures are counts, never identifiers. Its own
 * counters, the database's figures (parked, rejected, reviews due and
 * overdue by stream) and, when daemon_metrics is set and answers within a
 * second, the daemon's own (acks by status, batch commit latency,
 * reconnects). */
#include "page.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "queries.h"
#include "scrape.h"
#include "webmetrics.h"

enum { DAEMON_TEXT_MAX = 65536, ROWS_MAX = 4096 };

static bool bearer_ok(const jr_req_t *req)
{
    const char *token = req->app->metrics_token;
    const char *auth = jr_req_header(req, "Authorization");
    size_t n = strlen(token);
    if (n == 0 || auth == NULL || strncmp(auth, "Bearer ", 7) != 0) {
        return false;
    }
    auth += 7;
    return strlen(auth) == n && sodium_memcmp(auth, token, n) == 0;
}

/* Rows of r as (stream, reason?, a, b) from the given columns. */
static size_t rows_of(PGresult *r, jr_webmetrics_row_t *out, int c_stream, int c_reason, int c_a,
                      int c_b)
{
    size_t n = 0;
    for (int i = 0; r != NULL && i < PQntuples(r) && n < ROWS_MAX; i++) {
        out[n].stream = PQgetvalue(r, i, c_stream);
        out[n].reason = c_reason >= 0 ? PQgetvalue(r, i, c_reason) : NULL;
        out[n].a = strtoull(PQgetvalue(r, i, c_a), NULL, 10);
        out[n].b = c_b >= 0 ? strtoull(PQgetvalue(r, i, c_b), NULL, 10) : 0;
        n++;
    }
    return n;
}

void jr_page_metrics(jr_req_t *req, jr_resp_t *resp)
{
    jr_app_t *app = req->app;
    bool analyst = req->session != NULL && req->session->account.role == JR_ACCOUNT_ANALYST;
    if (!analyst && !bearer_ok(req)) {
        jr_page_error(req, resp, req->session ? 403 : 401, "Not for your role",
                      "The metrics are for the operations team's scraper and for analysts.");
        resp->www_authenticate = req->session ? NULL : "Bearer realm=\"joinedreview-web\"";
        return;
    }
    PGconn *c = jr_page_db(req, resp);
    if (c == NULL) {
        return;
    }
    PGresult *parked = jr_queries_parked_counts(c), *rejected = jr_queries_rejected_counts(c),
             *due = jr_queries_due(c, jr_clock_today(&app->clock), false);
    jr_page_db_done(req, c);
    jr_webmetrics_row_t *rows = calloc(3 * ROWS_MAX, sizeof *rows);
    char *daemon = app->cfg->daemon_metrics[0] ? malloc(DAEMON_TEXT_MAX) : NULL;
    if (parked == NULL || rejected == NULL || due == NULL || rows == NULL ||
        (app->cfg->daemon_metrics[0] && daemon == NULL)) {
        jr_page_error(req, resp, 503, "The figures cannot be read", "The database did not answer.");
    } else {
        uint64_t requests[JR_APP_CODES + 1];
        for (size_t i = 0; i <= JR_APP_CODES; i++) {
            requests[i] = atomic_load(&app->requests[i]);
        }
        jr_webmetrics_t m = {
            .codes = jr_app_codes,
            .requests = requests,
            .n_codes = JR_APP_CODES,
            .logins_ok = atomic_load(&app->logins_ok),
            .logins_failed = atomic_load(&app->logins_failed),
            .logins_paused = atomic_load(&app->logins_paused),
            .sessions = jr_sessions_count(app->sessions, jr_clock_mono_ms()),
            .audit_rows = atomic_load(&app->audit_rows),
            .reconnects = jr_pgpool_reconnects(app->db),
            .parked = rows,
            .rejected = rows + ROWS_MAX,
            .due = rows + 2 * ROWS_MAX,
            .daemon_up = -1,
        };
        m.n_parked = rows_of(parked, rows, 0, -1, 1, -1);
        m.n_rejected = rows_of(rejected, rows + ROWS_MAX, 0, 1, 2, 3);
        /* due: (stream, overdue, due within 28 days): a = due, b = overdue */
        m.n_due = rows_of(due, rows + 2 * ROWS_MAX, 0, -1, 2, 1);
        if (daemon != NULL) {
            m.daemon_up =
                jr_scrape_get(app->cfg->daemon_metrics, daemon, DAEMON_TEXT_MAX, 1000) >= 0;
            m.daemon_text = daemon;
        }
        resp->type = "text/plain; version=0.0.4; charset=utf-8";
        jr_webmetrics_format(&resp->body, &m);
    }
    free(daemon);
    free(rows);
    PQclear(parked);
    PQclear(rejected);
    PQclear(due);
}
