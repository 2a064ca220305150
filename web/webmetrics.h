/* webmetrics.h -- joinedreview-web's /metrics in Prometheus' text
 * exposition format 0.0.4, written from plain figures (no I/O), so that the
 * text can be tested exactly.
 *
 * Families (every label value is escaped as the format says):
 *   joinedreview_web_requests_total{code}     counter, answers by status code
 *   joinedreview_web_logins_total{outcome}    counter: ok, failed, paused
 *   joinedreview_web_sessions                 gauge
 *   joinedreview_web_audit_rows_total         counter, views of a review written down
 *   joinedreview_web_database_reconnects_total counter
 *   joinedreview_parked_events{stream}        gauge, from the database
 *   joinedreview_rejected_messages{stream,reason}  gauge, distinct messages kept
 *   joinedreview_rejected_received{stream,reason}  gauge, times they came
 *   joinedreview_reviews_due{stream}          gauge, due within 28 days (today included)
 *   joinedreview_reviews_overdue{stream}      gauge
 *   joinedreview_web_daemon_up                gauge, 1 when the daemon's figures follow
 * and then the daemon's own text (daemon/metrics.h), when it answered. */
#ifndef JR_WEBMETRICS_H
#define JR_WEBMETRICS_H

#include <stddef.h>
#include <stdint.h>

#include "html.h"

typedef struct {
    const char *stream, *reason; /* reason: rejected rows only */
    uint64_t a, b;               /* parked: a; rejected: messages, times; due: due, overdue */
} jr_webmetrics_row_t;

typedef struct {
    const unsigned *codes;    /* status codes counted by name */
    const uint64_t *requests; /* n_codes counts, then "other" */
    size_t n_codes;
    uint64_t logins_ok, logins_failed, logins_paused;
    uint64_t sessions, audit_rows, reconnects;
    const jr_webmetrics_row_t *parked;
    size_t n_parked;
    const jr_webmetrics_row_t *rejected;
    size_t n_rejected;
    const jr_webmetrics_row_t *due;
    size_t n_due;
    int daemon_up;           /* -1: not configured (family left out) */
    const char *daemon_text; /* appended when daemon_up is 1 */
} jr_webmetrics_t;

/* Appends the exposition to out (its ceiling applies). */
void jr_webmetrics_format(jr_html_t *out, const jr_webmetrics_t *m);

#endif
