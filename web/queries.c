/* queries.c -- see queries.h. */
#include "queries.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Shared by the worker threads: the limiter's counts change under a lock. */
static jr_log_limit_t g_limit = {.interval_ms = 10000};
static pthread_mutex_t g_limit_lock = PTHREAD_MUTEX_INITIALIZER;

static PGresult *run(PGconn *c, const char *what, const char *sql, int n, const char *const *values)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        pthread_mutex_lock(&g_limit_lock);
        jr_log_limited(&g_limit, JR_LOG_ERR, "db", "%s: %s", what, PQerrorMessage(c));
        pthread_mutex_unlock(&g_limit_lock);
        PQclear(r);
        return NULL;
    }
    return r;
}

static const char *date_or_null(jr_day_t d, char buf[11])
{
    if (d == JR_DAY_NONE) {
        return NULL;
    }
    jr_text_format_date(d, buf);
    return buf;
}

/* The leads as an array value; stream codes are letters, digits and '_'
 * (checked when the accounts were read), never SQL. */
static const char *leads_array(const char *const *leads, size_t n, char *out, size_t len)
{
    if (leads == NULL) {
        return NULL;
    }
    size_t used = (size_t)snprintf(out, len, "{");
    for (size_t i = 0; i < n && used < len; i++) {
        used += (size_t)snprintf(out + used, len - used, "%s%.15s", i ? "," : "", leads[i]);
    }
    if (used < len) {
        snprintf(out + used, len - used, "}");
    }
    return out;
}

PGresult *jr_queries_worklist(PGconn *c, const jr_queries_worklist_t *q)
{
    /* Unnamed and planned with its values, so a filter left out (NULL)
     * costs nothing. One lead is compared with = ($8), not = ANY: then
     * schedule_lead_review hands the rows over in review date order and
     * the scan stops at the limit, where = ANY sorts every row the lead
     * has. */
    static const char sql[] =
        "SELECT s.nhs_number, s.review_on::text, coalesce(s.lead, ''), "
        "       array_to_string(s.covered, ','), r.ready_for_sign_off, "
        "       array_to_string(r.enrolled, ','), array_to_string(r.complete_streams, ','), "
        "       coalesce(r.called, ''), coalesce(r.way, ''), array_to_string(r.needs, ',') "
        "  FROM schedule s "
        " CROSS JOIN LATERAL (SELECT c.ready_for_sign_off, c.enrolled, c.complete_streams, "
        "                            c.called, c.way, c.needs "
        "                       FROM consolidated_review c WHERE c.nhs_number = s.nhs_number "
        "                      ORDER BY c.cycle DESC LIMIT 1) r "
        " WHERE s.review_on IS NOT NULL "
        "   AND ($1::text[] IS NULL OR s.lead = ANY ($1::text[])) "
        "   AND ($8::text IS NULL OR s.lead = $8::text) "
        "   AND ($2::text IS NULL OR $2::text = ANY (r.enrolled)) "
        "   AND ($3::text IS NULL OR $3::text = ANY (s.covered)) "
        "   AND ($4::boolean IS NULL OR r.ready_for_sign_off = $4::boolean) "
        "   AND ($5::date IS NULL OR s.review_on >= $5::date) "
        "   AND ($6::date IS NULL OR s.review_on <= $6::date) "
        "   AND ($9::text IS NULL OR r.way = $9::text) "
        "   AND ($10::text IS NULL OR $10::text = ANY (r.needs)) "
        "   AND ($11::text IS NULL OR (s.review_on, s.nhs_number) > ($12::date, $11::text)) "
        " ORDER BY s.review_on, s.nhs_number LIMIT $7::integer";
    char leads[JR_ACCOUNT_LEADS_MAX * (JR_STREAM_CODE_MAX + 1) + 3];
    size_t n_leads = q->n_leads < JR_ACCOUNT_LEADS_MAX ? q->n_leads : JR_ACCOUNT_LEADS_MAX;
    char first[11], last[11], limit[16], after_on[11];
    snprintf(limit, sizeof limit, "%d", q->limit);
    bool one = q->leads != NULL && q->n_leads == 1;
    const char *values[12] = {!one ? leads_array(q->leads, n_leads, leads, sizeof leads) : NULL,
                              q->enrolled_in,
                              q->covers,
                              q->ready < 0 ? NULL
                              : q->ready   ? "true"
                                           : "false",
                              date_or_null(q->first, first),
                              date_or_null(q->last, last),
                              limit,
                              one ? q->leads[0] : NULL,
                              q->way,
                              q->need,
                              q->after_nhs,
                              q->after_nhs ? date_or_null(q->after_on, after_on) : NULL};
    return run(c, "worklist", sql, 12, values);
}

PGresult *jr_queries_person(PGconn *c, const char *nhs)
{
    static const char sql[] =
        "SELECT c.cycle, c.version, coalesce(c.held_on::text, ''), (SELECT v.record "
        "       FROM review_record v WHERE v.nhs_number = c.nhs_number AND v.cycle = c.cycle), "
        "       array_to_string(c.enrolled, ','), coalesce(s.lead, '') "
        "  FROM consolidated_review c LEFT JOIN schedule s ON s.nhs_number = c.nhs_number "
        " WHERE c.nhs_number = $1 ORDER BY c.cycle DESC";
    const char *values[1] = {nhs};
    return run(c, "person", sql, 1, values);
}

PGresult *jr_queries_visible(PGconn *c, const char *const *leads, size_t n_leads,
                             const char *enrolled_in, const char *after_nhs, int limit)
{
    /* The same two rules as the worklist: a scheduler sees the persons
     * whose current review their leads lead (schedule.lead), a stream
     * officer those enrolled in their stream in their current record. */
    static const char sql[] =
        "SELECT p.nhs_number FROM ( "
        "  SELECT s.nhs_number FROM schedule s "
        "   WHERE $1::text[] IS NOT NULL AND s.lead = ANY ($1::text[]) "
        "     AND ($3::text IS NULL OR s.nhs_number > $3::text) "
        "  UNION ALL "
        "  SELECT r.nhs_number FROM (SELECT DISTINCT ON (c.nhs_number) c.nhs_number, c.enrolled "
        "                              FROM consolidated_review c "
        "                             WHERE $2::text IS NOT NULL "
        "                               AND ($3::text IS NULL OR c.nhs_number > $3::text) "
        "                             ORDER BY c.nhs_number, c.cycle DESC) r "
        "   WHERE $2::text = ANY (r.enrolled)) p "
        " ORDER BY p.nhs_number LIMIT $4::integer";
    char array[JR_ACCOUNT_LEADS_MAX * (JR_STREAM_CODE_MAX + 1) + 3], lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *values[4] = {leads_array(leads, n_leads, array, sizeof array), enrolled_in,
                             after_nhs, lim};
    return run(c, "visible persons", sql, 4, values);
}

PGresult *jr_queries_current(PGconn *c, const char *const *nhs, size_t n)
{
    static const char sql[] =
        "SELECT DISTINCT ON (c.nhs_number) c.nhs_number, c.cycle, (SELECT v.record "
        "       FROM review_record v WHERE v.nhs_number = c.nhs_number AND v.cycle = c.cycle), "
        "       coalesce((SELECT p.held_on::text FROM consolidated_review p "
        "                  WHERE p.nhs_number = c.nhs_number AND p.cycle = c.cycle - 1), '') "
        "  FROM consolidated_review c WHERE c.nhs_number = ANY ($1::text[]) "
        " ORDER BY c.nhs_number, c.cycle DESC";
    /* An array value of NHS numbers: ten digits each (checked), never SQL. */
    char *array = malloc(n * 12 + 3);
    if (array == NULL) {
        return NULL;
    }
    size_t used = (size_t)snprintf(array, 2, "{");
    for (size_t i = 0; i < n; i++) {
        bool digits = strlen(nhs[i]) == 10 && strspn(nhs[i], "0123456789") == 10;
        used += (size_t)snprintf(array + used, 13, "%s%s", i ? "," : "", digits ? nhs[i] : "0");
    }
    snprintf(array + used, 2, "}");
    const char *values[1] = {array};
    PGresult *r = run(c, "current records", sql, 1, values);
    free(array);
    return r;
}

PGresult *jr_queries_received(PGconn *c, const char *nhs)
{
    static const char sql[] =
        "SELECT stream, source_event_id, "
        "       to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
        "  FROM event WHERE nhs_number = $1";
    const char *values[1] = {nhs};
    return run(c, "received", sql, 1, values);
}

PGresult *jr_queries_notices(PGconn *c, const char *nhs)
{
    static const char sql[] =
        "SELECT cycle, key, kind, notice_on::text, review_on::text, coalesce(lead, ''), "
        "       array_to_string(covered, ', ') "
        "  FROM due_notice WHERE nhs_number = $1 AND seq IS NOT NULL "
        " ORDER BY notice_on DESC, key LIMIT 100";
    const char *values[1] = {nhs};
    return run(c, "notices", sql, 1, values);
}

#define UTC_MINUTE(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"

PGresult *jr_queries_rejected_groups(PGconn *c, const char *stream)
{
    static const char sql[] =
        "SELECT reason_code, count(*), sum(times), " UTC_MINUTE("min(received_at)") ", " UTC_MINUTE(
            "max(last_seen)") "  FROM rejected_event WHERE stream = $1 "
                              " GROUP BY reason_code ORDER BY count(*) DESC, reason_code";
    const char *values[1] = {stream};
    return run(c, "rejected by reason", sql, 1, values);
}

PGresult *jr_queries_rejected_examples(PGconn *c, const char *stream)
{
    static const char sql[] =
        "SELECT reason_code, coalesce(source_event_id, ''), reason, times, " UTC_MINUTE(
            "last_seen") ", raw_length "
                         "  FROM (SELECT reason_code, source_event_id, reason, times, last_seen, "
                         "               raw_length, id, row_number() OVER (PARTITION BY "
                         "               reason_code ORDER BY last_seen DESC, id DESC) AS k "
                         "          FROM rejected_event WHERE stream = $1) r "
                         " WHERE k <= 10 ORDER BY reason_code, last_seen DESC, id DESC";
    const char *values[1] = {stream};
    return run(c, "rejected examples", sql, 1, values);
}

PGresult *jr_queries_parked(PGconn *c, const char *stream, int limit)
{
    static const char sql[] =
        "SELECT source_event_id, kind, coalesce(ni_number, ''), coalesce(local_id, "
        "''), " UTC_MINUTE(
            "received_at") ", floor(extract(epoch FROM now() - received_at))::bigint, "
                           "       count(*) OVER () "
                           "  FROM event WHERE nhs_number IS NULL AND stream = $1 "
                           " ORDER BY received_at, id LIMIT $2::integer";
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *values[2] = {stream, lim};
    return run(c, "parked", sql, 2, values);
}

PGresult *jr_queries_due(PGconn *c, jr_day_t today, bool by_lead)
{
    /* The reporting views count against the database's current_date; these
     * count against the service's today, which --today can fix. */
    static const char by_stream_sql[] =
        "SELECT s.stream, count(*) FILTER (WHERE sc.review_on < $1::date), "
        "       count(*) FILTER (WHERE sc.review_on >= $1::date AND sc.review_on <= $1::date + "
        "28), "
        "       count(*) "
        "  FROM schedule sc, unnest(sc.covered) AS s(stream) "
        " WHERE sc.review_on IS NOT NULL GROUP BY s.stream ORDER BY s.stream";
    static const char by_lead_sql[] =
        "SELECT coalesce(sc.lead, ''), count(*) FILTER (WHERE sc.review_on < $1::date), "
        "       count(*) FILTER (WHERE sc.review_on >= $1::date AND sc.review_on <= $1::date + "
        "28), "
        "       count(*) "
        "  FROM schedule sc WHERE sc.review_on IS NOT NULL GROUP BY 1 ORDER BY 1";
    char d[11];
    jr_text_format_date(today, d);
    const char *values[1] = {d};
    return run(c, by_lead ? "due by lead" : "due by stream", by_lead ? by_lead_sql : by_stream_sql,
               1, values);
}

PGresult *jr_queries_completeness(PGconn *c)
{
    return run(c, "completeness",
               "SELECT stream, enrolled, complete, missing_information "
               "  FROM report_completeness_by_stream ORDER BY stream",
               0, NULL);
}

PGresult *jr_queries_priorities(PGconn *c)
{
    return run(c, "priorities",
               "SELECT area, red, amber, green, not_given, conflicts "
               "  FROM report_priorities_by_area ORDER BY area",
               0, NULL);
}

PGresult *jr_queries_held(PGconn *c)
{
    return run(c, "reviews held",
               "SELECT to_char(month, 'YYYY-MM'), reviews_held FROM report_reviews_held_by_month "
               " ORDER BY month DESC LIMIT 24",
               0, NULL);
}

PGresult *jr_queries_meetings(PGconn *c)
{
    return run(c, "meetings saved",
               "SELECT joined_up_reviews, separate_meetings, meetings_saved "
               "  FROM report_meetings_saved",
               0, NULL);
}

PGresult *jr_queries_parked_counts(PGconn *c)
{
    return run(c, "parked counts",
               "SELECT stream, count(*) FROM event WHERE nhs_number IS NULL "
               " GROUP BY stream ORDER BY stream",
               0, NULL);
}

PGresult *jr_queries_rejected_counts(PGconn *c)
{
    return run(c, "rejected counts",
               "SELECT coalesce(stream, ''), reason_code, count(*), sum(times) "
               "  FROM rejected_event GROUP BY 1, 2 ORDER BY 1, 2",
               0, NULL);
}
