/* webmetrics.c -- see webmetrics.h. */
#include "webmetrics.h"

#include <stdio.h>

/* A label value: backslash, double quote and line feed escaped. */
static void label(jr_html_t *h, const char *v)
{
    char one[2] = {0, 0};
    for (const char *c = v ? v : ""; *c; c++) {
        if (*c == '\\' || *c == '"') {
            one[0] = *c;
            jr_html_raw(h, "\\");
            jr_html_raw(h, one);
        } else if (*c == '\n') {
            jr_html_raw(h, "\\n");
        } else {
            one[0] = *c;
            jr_html_raw(h, one);
        }
    }
}

static void family(jr_html_t *h, const char *name, const char *type, const char *help)
{
    jr_html_rawf(h, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void scalar(jr_html_t *h, const char *name, const char *type, const char *help, uint64_t v)
{
    family(h, name, type, help);
    jr_html_rawf(h, "%s %llu\n", name, (unsigned long long)v);
}

static void by_stream(jr_html_t *h, const char *name, const jr_webmetrics_row_t *rows, size_t n,
                      int which, int with_reason)
{
    for (size_t i = 0; i < n; i++) {
        jr_html_rawf(h, "%s{stream=\"", name);
        label(h, rows[i].stream);
        if (with_reason) {
            jr_html_raw(h, "\",reason=\"");
            label(h, rows[i].reason);
        }
        jr_html_rawf(h, "\"} %llu\n", (unsigned long long)(which ? rows[i].b : rows[i].a));
    }
}

void jr_webmetrics_format(jr_html_t *h, const jr_webmetrics_t *m)
{
    family(h, "joinedreview_web_requests_total", "counter", "Answers sent, by HTTP status code.");
    for (size_t i = 0; i <= m->n_codes; i++) {
        if (i < m->n_codes) {
            jr_html_rawf(h, "joinedreview_web_requests_total{code=\"%u\"} %llu\n", m->codes[i],
                         (unsigned long long)m->requests[i]);
        } else {
            jr_html_rawf(h, "joinedreview_web_requests_total{code=\"other\"} %llu\n",
                         (unsigned long long)m->requests[i]);
        }
    }
    family(h, "joinedreview_web_logins_total", "counter", "Sign-in attempts, by outcome.");
    jr_html_rawf(h,
                 "joinedreview_web_logins_total{outcome=\"ok\"} %llu\n"
                 "joinedreview_web_logins_total{outcome=\"failed\"} %llu\n"
                 "joinedreview_web_logins_total{outcome=\"paused\"} %llu\n",
                 (unsigned long long)m->logins_ok, (unsigned long long)m->logins_failed,
                 (unsigned long long)m->logins_paused);
    scalar(h, "joinedreview_web_sessions", "gauge", "Sessions open now.", m->sessions);
    scalar(h, "joinedreview_web_audit_rows_total", "counter",
           "Views of a person's review written to the audit table.", m->audit_rows);
    scalar(h, "joinedreview_web_database_reconnects_total", "counter",
           "Database connections made again after one was lost.", m->reconnects);
    family(h, "joinedreview_parked_events", "gauge",
           "Events waiting for an enrolment that links their identifiers, by stream.");
    by_stream(h, "joinedreview_parked_events", m->parked, m->n_parked, 0, 0);
    family(h, "joinedreview_rejected_messages", "gauge",
           "Distinct rejected messages kept, by stream and reason.");
    by_stream(h, "joinedreview_rejected_messages", m->rejected, m->n_rejected, 0, 1);
    family(h, "joinedreview_rejected_received", "gauge",
           "Times the rejected messages kept were received, by stream and reason.");
    by_stream(h, "joinedreview_rejected_received", m->rejected, m->n_rejected, 1, 1);
    family(h, "joinedreview_reviews_due", "gauge",
           "Joined-up reviews covering the stream due today or within 28 days.");
    by_stream(h, "joinedreview_reviews_due", m->due, m->n_due, 0, 0);
    family(h, "joinedreview_reviews_overdue", "gauge",
           "Joined-up reviews covering the stream past their date.");
    by_stream(h, "joinedreview_reviews_overdue", m->due, m->n_due, 1, 0);
    if (m->daemon_up >= 0) {
        scalar(h, "joinedreview_web_daemon_up", "gauge",
               "1 when the daemon's metrics endpoint answered and its figures follow.",
               (uint64_t)m->daemon_up);
    }
    if (m->daemon_up == 1 && m->daemon_text != NULL) {
        jr_html_raw(h, m->daemon_text);
    }
}
