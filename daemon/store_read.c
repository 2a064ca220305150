/* store_read.c -- what the readers run, each on its own read-only session
 * (catch-up and the statistics), and the writer to publish again after a
 * restart: the outbox, a catch-up snapshot, the statistics, all inside one
 * consistent read. See store_pg.h. */
#include "store_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const jr_store_stmt_t OUTBOX_AFTER = {
    "read_outbox_after",
    "SELECT seq, topic, payload FROM publication WHERE seq > $1 ORDER BY seq LIMIT $2",
};

static const jr_store_stmt_t OUTBOX_OLDEST = {
    "read_outbox_oldest",
    "SELECT trimmed_through + 1 FROM publish_state",
};

/* The current record of every person (their newest cycle's: after a review
 * held, the held cycle's final record until the next event), each person's
 * latest published notice of the current cycle and every current group
 * suggestion, in one sequence order; optionally only those whose next
 * review a stream leads ($1) or who are enrolled in a stream ($2; group
 * suggestions are the lead's, so none then), each notice and suggestion
 * under the topic it was published under. A cursor, so that a snapshot of a million
 * persons is read 1,000 rows at a time inside its transaction, never held
 * whole. A record's bytes are taken as review_record takes them, but only
 * for the rows chosen: through the view, every cycle's bytes would be read
 * and sorted before the filters, a whole caseload's for one lead's
 * snapshot. */
static const jr_store_stmt_t SNAPSHOT = {
    "read_snapshot",
    "DECLARE jr_snapshot NO SCROLL CURSOR FOR "
    "SELECT c.seq, 'review'::text, coalesce(c.record, (SELECT o.payload FROM outbox o "
    "WHERE o.seq = c.seq)) FROM (SELECT DISTINCT ON (nhs_number) * "
    "FROM consolidated_review ORDER BY nhs_number, cycle DESC) c "
    "LEFT JOIN schedule s ON s.nhs_number = c.nhs_number "
    "WHERE ($1::text IS NULL OR s.lead = $1) AND ($2::text IS NULL OR $2 = ANY (c.enrolled)) "
    "UNION ALL "
    "SELECT seq, topic, payload FROM (SELECT DISTINCT ON (d.nhs_number) d.seq, d.topic, "
    "d.payload FROM due_notice d JOIN person p ON p.nhs_number = d.nhs_number AND p.cycle = "
    "d.cycle "
    "WHERE d.seq IS NOT NULL AND ($1::text IS NULL OR d.lead = $1) "
    "AND ($2::text IS NULL OR $2 = ANY (d.covered)) "
    "ORDER BY d.nhs_number, d.seq DESC) n "
    "UNION ALL "
    "SELECT seq, topic, payload FROM group_suggestion WHERE current AND $2::text IS NULL "
    "AND ($1::text IS NULL OR lead = $1) ORDER BY 1",
};

static const jr_store_stmt_t SNAPSHOT_FETCH = {
    "read_snapshot_fetch",
    "FETCH FORWARD 1000 FROM jr_snapshot",
};

/* The last sequence number handed out, which the statements that write the
 * outbox keep (publish_state.last_seq); the outbox's newest row, read
 * through its key, and the publication cursor never say less. The outbox
 * is trimmed by age, so no number it once held can be handed out again. */
static const jr_store_stmt_t LAST_PUBLICATION = {
    "read_last_publication",
    "SELECT greatest(last_seq, last_published_seq, (SELECT coalesce(max(seq), 0) FROM "
    "outbox))::int8 FROM publish_state",
};

/* The figures of the current records come from current_figures, one narrow
 * row a person kept as the records change (migration 027): the same rows
 * as report_current_review and the views over it, without reading or
 * sorting the records themselves. */
static const jr_store_stmt_t STAT_TOTALS = {
    "read_stat_totals",
    "SELECT count(*), count(*) FILTER (WHERE ready_for_sign_off), "
    "count(*) FILTER (WHERE NOT ready_for_sign_off) FROM current_figures",
};

static const jr_store_stmt_t STAT_STREAMS = {
    "read_stat_streams",
    "SELECT coalesce(c.stream, d.stream), coalesce(c.enrolled, 0), coalesce(c.complete, 0), "
    "coalesce(c.missing_information, 0), coalesce(d.due, 0), coalesce(d.overdue, 0) FROM "
    "(SELECT s.stream, count(*) AS enrolled, count(*) FILTER (WHERE s.stream = ANY "
    "(f.complete_streams)) AS complete, count(*) FILTER (WHERE NOT s.stream = ANY "
    "(f.complete_streams)) AS missing_information FROM current_figures f, unnest(f.enrolled) AS "
    "s(stream) GROUP BY s.stream) c FULL JOIN (SELECT s.stream, count(*) FILTER (WHERE "
    "sc.review_on >= $1::date AND sc.review_on <= $1::date + $2::int4) AS due, count(*) FILTER "
    "(WHERE sc.review_on < $1::date) AS overdue FROM schedule sc, unnest(sc.covered) AS "
    "s(stream) WHERE sc.review_on IS NOT NULL GROUP BY s.stream) d ON d.stream = c.stream "
    "ORDER BY 1",
};

static const jr_store_stmt_t STAT_LEADS = {
    "read_stat_leads",
    "SELECT lead, count(*), count(*) FILTER (WHERE review_on >= $1::date AND "
    "review_on <= $1::date + $2::int4), count(*) FILTER (WHERE review_on < $1::date) "
    "FROM schedule WHERE review_on IS NOT NULL AND lead IS NOT NULL "
    "GROUP BY lead ORDER BY lead",
};

static const jr_store_stmt_t STAT_BUDGETS = {
    "read_stat_budgets",
    "SELECT b.stream, count(*), sum(b.allocated), sum(b.spent) FROM current_figures f, "
    "unnest(f.budget_streams, f.budget_allocated, f.budget_spent) AS b(stream, allocated, spent) "
    "GROUP BY b.stream ORDER BY b.stream",
};

static const jr_store_stmt_t STAT_AREAS = {
    "read_stat_areas",
    "SELECT a.area, count(*) FILTER (WHERE a.priority = 3), count(*) FILTER (WHERE a.priority "
    "= 2), count(*) FILTER (WHERE a.priority = 1), count(*) FILTER (WHERE a.priority = 0), "
    "count(*) FILTER (WHERE f.area_conflict[a.area]) FROM current_figures f, "
    "unnest(f.area_priority) WITH ORDINALITY AS a(priority, area) GROUP BY a.area ORDER BY "
    "a.area",
};

/* The event log's counts are kept as it grows (event_count). Rejected
 * input is counted: it is bounded (rejected_max_rows), and people delete
 * what they have dealt with. */
static const jr_store_stmt_t STAT_COUNTS = {
    "read_stat_counts",
    "SELECT (SELECT count(*) FROM rejected_event), parked, events FROM event_count",
};

const jr_store_stmt_t *const jr_store_read_statements[] = {
    &OUTBOX_AFTER, &OUTBOX_OLDEST, &SNAPSHOT,   &SNAPSHOT_FETCH, &LAST_PUBLICATION, &STAT_TOTALS,
    &STAT_STREAMS, &STAT_LEADS,    &STAT_AREAS, &STAT_COUNTS,    &STAT_BUDGETS,     NULL,
};

/* Calls fn with each (seq, topic, payload) row of a binary result. */
static int each_publication(const PGresult *res,
                            int (*fn)(void *ctx, uint64_t seq, const char *topic,
                                      const uint8_t *payload, size_t len),
                            void *ctx)
{
    int rc = JR_STORE_OK;
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        char topic[128];
        snprintf(topic, sizeof topic, "%.*s", PQgetlength(res, i, 1), PQgetvalue(res, i, 1));
        rc = fn(ctx, (uint64_t)jr_store_conn_i64(res, i, 0), topic,
                (const uint8_t *)PQgetvalue(res, i, 2), (size_t)PQgetlength(res, i, 2));
    }
    return rc;
}

int jr_store_pg_outbox_after(jr_store_pg_t *self, uint64_t after, int limit,
                             int (*fn)(void *ctx, uint64_t seq, const char *topic,
                                       const uint8_t *payload, size_t len),
                             void *ctx, size_t *count)
{
    jr_store_params_t p = {0};
    jr_store_conn_param_int(&p, (long long)after);
    jr_store_conn_param_int(&p, limit);
    PGresult *res = NULL;
    int rc = jr_store_conn_run(self, &OUTBOX_AFTER, &p, 1, &res);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    *count = (size_t)PQntuples(res);
    rc = each_publication(res, fn, ctx);
    PQclear(res);
    return rc;
}

int jr_store_pg_outbox_oldest(jr_store_pg_t *self, uint64_t *seq)
{
    return jr_store_conn_run_u64(self, &OUTBOX_OLDEST, NULL, seq);
}

int jr_store_pg_snapshot(jr_store_pg_t *self, const char *lead, const char *stream,
                         int (*fn)(void *ctx, uint64_t seq, const char *topic,
                                   const uint8_t *payload, size_t len),
                         void *ctx)
{
    jr_store_params_t p = {0};
    jr_store_conn_param_text(&p, lead);
    jr_store_conn_param_text(&p, stream);
    int rc = jr_store_conn_run(self, &SNAPSHOT, &p, 0, NULL);
    for (bool more = true; rc == JR_STORE_OK && more;) {
        PGresult *res = NULL;
        rc = jr_store_conn_run(self, &SNAPSHOT_FETCH, NULL, 1, &res);
        if (rc != JR_STORE_OK) {
            break;
        }
        more = PQntuples(res) > 0;
        rc = each_publication(res, fn, ctx);
        PQclear(res);
    }
    return rc;
}

int jr_store_pg_last_seq(jr_store_pg_t *self, uint64_t *seq)
{
    return jr_store_conn_run_u64(self, &LAST_PUBLICATION, NULL, seq);
}

int jr_store_pg_read_begin(jr_store_pg_t *self, uint64_t *seq)
{
    int rc = jr_store_conn_exec(self, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (rc == JR_STORE_OK) {
        rc = jr_store_conn_run_u64(self, &LAST_PUBLICATION, NULL, seq);
        if (rc != JR_STORE_OK) {
            jr_store_pg_rollback(self);
        }
    }
    return rc;
}

int jr_store_pg_read_end(jr_store_pg_t *self)
{
    return jr_store_pg_commit(self);
}

int jr_store_pg_statistics_snapshot(jr_store_pg_t *self, jr_day_t today, jr_statistics_t *st)
{
    int rc = jr_store_pg_read_begin(self, &st->sequence);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    rc = jr_store_pg_statistics(self, today, st);
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_read_end(self);
    } else {
        jr_store_pg_rollback(self);
    }
    return rc;
}

static uint32_t u32(const PGresult *res, int row, int col)
{
    return (uint32_t)strtoul(PQgetvalue(res, row, col), NULL, 10);
}

static void read_streams(const PGresult *res, jr_statistics_t *st)
{
    st->n_streams = 0;
    for (int i = 0; i < PQntuples(res) && st->n_streams < JR_STREAMS_MAX; i++) {
        jr_stat_stream_t *s = &st->streams[st->n_streams++];
        memset(s, 0, sizeof *s);
        snprintf(s->stream, sizeof s->stream, "%s", PQgetvalue(res, i, 0));
        s->enrolled = u32(res, i, 1);
        s->complete = u32(res, i, 2);
        s->missing_information = u32(res, i, 3);
        s->due_within_28_days = u32(res, i, 4);
        s->overdue = u32(res, i, 5);
    }
}

/* Each stream's budget totals, beside its other figures (a stream with a
 * budget and nobody enrolled gets a row of its own). */
static void read_budgets(const PGresult *res, jr_statistics_t *st)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *code = PQgetvalue(res, i, 0);
        jr_stat_stream_t *s = NULL;
        for (size_t k = 0; k < st->n_streams && s == NULL; k++) {
            s = strcmp(st->streams[k].stream, code) == 0 ? &st->streams[k] : NULL;
        }
        if (s == NULL && st->n_streams < JR_STREAMS_MAX) {
            s = &st->streams[st->n_streams++];
            memset(s, 0, sizeof *s);
            snprintf(s->stream, sizeof s->stream, "%s", code);
        }
        if (s != NULL) {
            s->budget_persons = u32(res, i, 1);
            s->allocated_pence = strtoll(PQgetvalue(res, i, 2), NULL, 10);
            s->spent_pence = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        }
    }
}

static void read_leads(const PGresult *res, jr_statistics_t *st)
{
    st->n_leads = 0;
    for (int i = 0; i < PQntuples(res) && st->n_leads < JR_STREAMS_MAX + 1; i++) {
        jr_stat_lead_t *l = &st->leads[st->n_leads++];
        snprintf(l->lead, sizeof l->lead, "%s", PQgetvalue(res, i, 0));
        l->reviews = u32(res, i, 1);
        l->due_within_28_days = u32(res, i, 2);
        l->overdue = u32(res, i, 3);
    }
}

static void read_areas(const PGresult *res, jr_statistics_t *st)
{
    memset(st->areas, 0, sizeof st->areas);
    for (int i = 0; i < PQntuples(res); i++) {
        unsigned area = u32(res, i, 0);
        if (area >= 1 && area <= JR_AREA_COUNT) {
            jr_stat_area_t *a = &st->areas[area - 1];
            a->red = u32(res, i, 1);
            a->amber = u32(res, i, 2);
            a->green = u32(res, i, 3);
            a->not_given = u32(res, i, 4);
            a->conflicts = u32(res, i, 5);
        }
    }
}

int jr_store_pg_statistics(jr_store_pg_t *self, jr_day_t today, jr_statistics_t *st)
{
    jr_store_params_t day = {0}; /* today, and how far "due soon" looks */
    jr_store_conn_param_date(&day, today);
    jr_store_conn_param_int(&day, JR_DUE_WITHIN_DAYS);
    PGresult *res = NULL;
    int rc = jr_store_conn_run(self, &STAT_TOTALS, NULL, 0, &res);
    if (rc == JR_STORE_OK) {
        st->reviews = u32(res, 0, 0);
        st->ready_for_sign_off = u32(res, 0, 1);
        st->missing_information = u32(res, 0, 2);
        PQclear(res);
        rc = jr_store_conn_run(self, &STAT_STREAMS, &day, 0, &res);
    }
    if (rc == JR_STORE_OK) {
        read_streams(res, st);
        PQclear(res);
        rc = jr_store_conn_run(self, &STAT_BUDGETS, NULL, 0, &res);
    }
    if (rc == JR_STORE_OK) {
        read_budgets(res, st);
        PQclear(res);
        rc = jr_store_conn_run(self, &STAT_LEADS, &day, 0, &res);
    }
    if (rc == JR_STORE_OK) {
        read_leads(res, st);
        PQclear(res);
        rc = jr_store_conn_run(self, &STAT_AREAS, NULL, 0, &res);
    }
    if (rc == JR_STORE_OK) {
        read_areas(res, st);
        PQclear(res);
        rc = jr_store_conn_run(self, &STAT_COUNTS, NULL, 0, &res);
    }
    if (rc == JR_STORE_OK) {
        st->rejected_events = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        st->parked_events = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
        st->events_total = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
        PQclear(res);
    }
    return rc;
}
