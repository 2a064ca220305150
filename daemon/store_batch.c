/* store_batch.c -- what the writer runs inside its transactions: the
 * batch-wide reads and writes (one round trip each, keyed by arrays), the
 * event log's binary COPY, records, notices, the due-check index, rejected
 * input and the outbox's housekeeping. See store_pg.h. */
#include "store_conn.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parked events released to their persons' cycles ($1 ids, $2 persons, $3
 * cycles, $4 publications) leave the log's parked count (event_count). */
static const jr_store_stmt_t EVENTS_ASSIGN = {
    "batch_events_assign",
    "WITH e AS (UPDATE event e SET nhs_number = k.nhs, cycle = k.cycle, seq = k.seq FROM "
    "unnest($1::int8[], $2::text[], $3::int4[], $4::int8[]) AS k(id, nhs, cycle, seq) WHERE "
    "e.id = k.id AND e.nhs_number IS NULL RETURNING e.id) UPDATE event_count SET parked = "
    "parked - (SELECT count(*) FROM e)",
};

/* What a batch's COPY added to the event log: $1 events, $2 of them parked. */
static const jr_store_stmt_t EVENTS_COUNTED = {
    "batch_events_counted",
    "UPDATE event_count SET events = events + $1, parked = parked + $2",
};

/* One row per distinct rejection (its bytes and reason): a resend counts and
 * takes the new id its insert drew, so that ids follow when each was last
 * seen. */
static const jr_store_stmt_t REJECTED_ADD = {
    "batch_rejected_add",
    "INSERT INTO rejected_event (sender, stream, source_event_id, reason_code, reason, raw, "
    "raw_length, digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (digest, "
    "reason_code) DO UPDATE SET id = EXCLUDED.id, times = "
    "rejected_event.times + 1, last_seen = now(), sender = EXCLUDED.sender, stream = "
    "EXCLUDED.stream, source_event_id = EXCLUDED.source_event_id, reason = EXCLUDED.reason "
    "RETURNING id",
};

/* Keeps the newest $2 ids: a bound on rows whatever the rate of junk. */
static const jr_store_stmt_t REJECTED_EVICT = {
    "batch_rejected_evict",
    "DELETE FROM rejected_event WHERE id <= $1::int8 - $2::int8",
};

/* A round of the retention: rows not seen for $1 days, at most $2. */
static const jr_store_stmt_t REJECTED_TRIM = {
    "batch_rejected_trim",
    "DELETE FROM rejected_event WHERE id IN (SELECT id FROM rejected_event "
    "WHERE last_seen < now() - make_interval(days => $1) LIMIT $2)",
};

/* Rebuild walks the persons a page at a time, in NHS-number order. */
static const jr_store_stmt_t PERSONS_PAGE = {
    "batch_persons_page",
    "SELECT nhs_number, cycle FROM person WHERE nhs_number > $1 ORDER BY nhs_number LIMIT $2",
};

/* A round of the due check: the persons due by $1 after the key ($3, $4)
 * the last round stopped at ($3 NULL: from the first), at most $2, in key
 * order through schedule_due, with the key of each. */
static const jr_store_stmt_t SCHEDULE_DUE = {
    "batch_schedule_due",
    "SELECT s.nhs_number, p.cycle, s.next_check_on FROM schedule s JOIN person p USING "
    "(nhs_number) WHERE s.next_check_on <= $1::date AND (s.next_check_on, s.nhs_number) > "
    "(coalesce($3::date, '-infinity'), coalesce($4::text, '') COLLATE \"C\") ORDER BY "
    "s.next_check_on, s.nhs_number LIMIT $2",
};

static const jr_store_stmt_t NOTICE_KEYS = {
    "batch_notice_keys",
    "SELECT d.nhs_number, d.cycle, d.key FROM unnest($1::text[]) AS k(n) "
    "CROSS JOIN LATERAL (SELECT * FROM due_notice d WHERE d.nhs_number = k.n OFFSET 0) d",
};

/* Every statement that writes outbox rows raises the last sequence number
 * handed out (publish_state.last_seq) in the same transaction. */
#define LAST_SEQ_OF(rows)                                                                          \
    "st AS (UPDATE publish_state SET last_seq = greatest(last_seq, (SELECT max(seq) FROM " rows    \
    "))) "

/* Notices with their outbox rows, each keeping the topic it is published
 * under (for catch-up snapshots); covered as a stream list (see
 * stream_list_add()): $8 and $9. The notice's bytes are stored once, in
 * due_notice (never rewritten); its outbox row has none (migration 028). */
static const jr_store_stmt_t NOTICES_ADD = {
    "batch_notices_add",
    "WITH n AS (SELECT * FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], "
    "$5::date[], $6::date[], $7::text[], $10::int8[], $11::text[], $12::bytea[]) WITH "
    "ORDINALITY AS n(nhs, cycle, key, kind, notice_on, review_on, lead, seq, topic, payload, "
    "i)), c AS (SELECT i, array_agg(code ORDER BY k) AS covered FROM unnest($8::int4[], "
    "$9::text[]) WITH ORDINALITY AS c(i, code, k) GROUP BY i), "
    "ob AS (INSERT INTO outbox (seq, topic, nhs_number) SELECT seq, topic, nhs FROM "
    "n), " LAST_SEQ_OF("n") /* the last sequence number */
    "INSERT INTO due_notice (nhs_number, cycle, key, kind, notice_on, review_on, lead, "
    "covered, seq, topic, payload) SELECT n.nhs, n.cycle, n.key, n.kind, n.notice_on, "
    "n.review_on, n.lead, coalesce(c.covered, '{}'), n.seq, n.topic, n.payload "
    "FROM n LEFT JOIN c USING (i)",
};

static const jr_store_stmt_t PUBLISHED_GET = {
    "batch_published_get",
    "SELECT last_published_seq FROM publish_state",
};

static const jr_store_stmt_t PUBLISHED_SET = {
    "batch_published_set",
    "UPDATE publish_state SET last_published_seq = $1 WHERE last_published_seq < $1",
};

/* A round of the trim: the next $2 rows in sequence order above how far
 * it went (publish_state.trimmed_through), up to the first one still within
 * the retention; of them, all but those holding a current record (a record
 * stored once, migration 028) leave, and trimmed_through moves past them.
 * A round reads at most $2 rows whatever is spared, so the records kept do
 * not slow the trim down as they accumulate.
 *
 * A row spared because it held a current record stops holding it when the
 * person's record changes, behind trimmed_through. So each round also
 * sweeps the next $2 rows behind it, above $3 (where the last sweep
 * stopped), and deletes those no longer current: a row left by a changed
 * record goes within one sweep of the kept rows, 5,000 rows a round.
 *
 * Answers how many rows it went past, how many of them it deleted, the
 * last row the sweep read (NULL: it reached trimmed_through, the next
 * starts from the beginning) and how many the sweep deleted. */
static const jr_store_stmt_t OUTBOX_TRIM = {
    "batch_outbox_trim",
    "WITH c AS (SELECT o.seq, o.topic, o.nhs_number, o.created_at < now() - "
    "make_interval(days => $1) AS old FROM outbox o WHERE o.seq > (SELECT trimmed_through "
    "FROM publish_state) ORDER BY o.seq LIMIT $2), "
    "upto AS (SELECT coalesce(min(seq) FILTER (WHERE NOT old) - 1, max(seq)) AS s FROM c), "
    "gone AS (DELETE FROM outbox o USING c WHERE o.seq = c.seq AND c.seq <= (SELECT s FROM upto) "
    "AND NOT (c.topic = 'review' AND EXISTS (SELECT 1 FROM consolidated_review r WHERE "
    "r.nhs_number = c.nhs_number AND r.seq = c.seq AND r.record IS NULL)) RETURNING o.seq), "
    "moved AS (UPDATE publish_state SET trimmed_through = greatest(trimmed_through, (SELECT s "
    "FROM upto)) WHERE (SELECT s FROM upto) IS NOT NULL), "
    "sw AS (SELECT o.seq, o.nhs_number FROM outbox o WHERE o.seq > $3::int8 AND o.seq <= "
    "(SELECT trimmed_through FROM publish_state) ORDER BY o.seq LIMIT $2), "
    "swept AS (DELETE FROM outbox o USING sw WHERE o.seq = sw.seq AND NOT EXISTS (SELECT 1 FROM "
    "consolidated_review r WHERE r.nhs_number = sw.nhs_number AND r.seq = sw.seq AND r.record "
    "IS NULL) RETURNING o.seq) "
    "SELECT (SELECT count(*) FROM c WHERE c.seq <= (SELECT s FROM upto)), "
    "(SELECT count(*) FROM gone), (SELECT max(seq) FROM sw), (SELECT count(*) FROM swept)",
};

/* Batch-wide reads, one round trip each, keyed by arrays.
 *
 * Every lookup by key goes through the key's index whatever the planner's
 * statistics say: CROSS JOIN LATERAL (... OFFSET 0) keeps the subquery a
 * per-key index scan. Plain joins were planned as hash joins over whole
 * tables once statistics were missing or stale during a bulk load: a scan
 * of the whole event log, or of every person, for each batch. */
static const jr_store_stmt_t EXISTS_MANY = {
    "batch_exists_many",
    "SELECT e.stream, e.source_event_id FROM unnest($1::text[], $2::text[]) "
    "AS k(s, i) CROSS JOIN LATERAL (SELECT stream, source_event_id FROM event e "
    "WHERE e.stream = k.s AND e.source_event_id = k.i OFFSET 0) e",
};

static const jr_store_stmt_t LINKS_MANY = {
    "batch_links_many",
    "SELECT l.kind, l.stream, l.value, l.nhs_number FROM unnest($1::text[], "
    "$2::text[], $3::text[]) AS k(kd, st, val) CROSS JOIN LATERAL (SELECT * FROM "
    "identity_link l WHERE l.kind = k.kd AND l.stream = k.st AND l.value = k.val "
    "OFFSET 0) l",
};

static const jr_store_stmt_t PERSONS_ADD = {
    "batch_persons_add",
    "INSERT INTO person (nhs_number) SELECT DISTINCT unnest($1::text[]) ON CONFLICT DO NOTHING",
};

static const jr_store_stmt_t PERSONS_READ = {
    "batch_persons_read",
    "SELECT p.nhs_number, p.cycle FROM unnest($1::text[]) AS k(n) CROSS JOIN LATERAL "
    "(SELECT * FROM person p WHERE p.nhs_number = k.n OFFSET 0) p",
};

static const jr_store_stmt_t PERSONS_SET_CYCLES = {
    "batch_persons_set_cycles",
    "UPDATE person p SET cycle = k.cycle FROM unnest($1::text[], $2::int4[]) AS k(nhs, cycle) "
    "WHERE p.nhs_number = k.nhs",
};

/* The stored records of these persons, every cycle: what rebuild compares.
 * In the shape of PERSONS_EVENTS, the record where the envelope is. */
static const jr_store_stmt_t REVIEWS_OF = {
    "batch_reviews_of",
    "SELECT 0::int8, r.cycle, r.seq, r.record, r.nhs_number FROM unnest($1::text[]) AS k(n) "
    "CROSS JOIN LATERAL (SELECT nhs_number, cycle, seq, record FROM review_record r "
    "WHERE r.nhs_number = k.n OFFSET 0) r",
};

static const jr_store_stmt_t PERSONS_EVENTS = {
    "batch_persons_events",
    "SELECT e.id, e.cycle, coalesce(e.seq, 0), e.envelope, e.nhs_number FROM "
    "unnest($1::text[]) AS k(n) CROSS JOIN LATERAL (SELECT * FROM event e "
    "WHERE e.nhs_number = k.n OFFSET 0) e ORDER BY e.nhs_number, e.id",
};

/* Batch-wide writes. Arrays are binary parameters (pgbin.h), so the elements
 * are data, never parsed.
 *
 * A row's list of stream codes, whose length varies, travels flat with the
 * lists of the other rows: one array of codes and, beside it, the row
 * (1-based) each belongs to (stream_list_add()); the statement gathers each
 * row's list back in order. The areas' priorities and conflict flags, a
 * fixed JR_AREA_COUNT per row (the last parameter), are cut out of one
 * array each. */
static const jr_store_stmt_t LINKS_ADD_MANY = {
    "batch_links_add_many",
    "INSERT INTO identity_link (kind, stream, value, nhs_number, linked_by) SELECT k.kd, "
    "k.st, k.val, k.nhs, e.id FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
    "$5::text[], $6::text[]) AS k(kd, st, val, nhs, es, ei) CROSS JOIN LATERAL (SELECT id "
    "FROM event e WHERE e.stream = k.es AND e.source_event_id = k.ei OFFSET 0) e "
    "ON CONFLICT DO NOTHING",
};

static const jr_store_stmt_t PARKED_MANY = {
    "batch_parked_many",
    "SELECT id, 0::int4, 0::int8, envelope FROM event WHERE nhs_number IS NULL "
    "AND (ni_number = ANY ($1::text[]) OR (stream, local_id) IN (SELECT * FROM "
    "unnest($2::text[], $3::text[]))) ORDER BY id",
};

/* Records: enrolled streams as a stream list ($8, $9), each flagged
 * complete or not ($10); the needs ($16, $17), each stream's latest budget
 * ($18 to $21) and the streams a review held covered, each flagged held by
 * its own due date ($22 to $24), as lists too. Written alone by rebuild,
 * with their bytes; by a batch, with their outbox rows, each version's
 * bytes stored once, in its outbox row, the record's own column NULL
 * (migration 028). */
#define RECORD_ROWS                                                                                \
    "WITH r AS (SELECT * FROM unnest($1::text[], $2::int4[], $3::int4[], $4::int8[], "             \
    "$5::bool[], $6::date[], $7::bytea[], $13::date[], $14::text[], $15::text[]) WITH "            \
    "ORDINALITY AS r(nhs, cycle, version, seq, ready, held_on, record, as_of, called, way, i)), "  \
    "s AS (SELECT i, array_agg(code ORDER BY k) AS enrolled, "                                     \
    "array_agg(code ORDER BY k) FILTER (WHERE complete) AS complete FROM unnest($8::int4[], "      \
    "$9::text[], $10::bool[]) WITH ORDINALITY AS s(i, code, complete, k) GROUP BY i), "            \
    "nd AS (SELECT i, array_agg(code ORDER BY k) AS needs FROM unnest($16::int4[], $17::text[]) "  \
    "WITH ORDINALITY AS n(i, code, k) GROUP BY i), "                                               \
    "b AS (SELECT i, array_agg(stream ORDER BY k) AS streams, array_agg(allocated ORDER BY k) AS " \
    "allocated, array_agg(spent ORDER BY k) AS spent FROM unnest($18::int4[], $19::text[], "       \
    "$20::int8[], $21::int8[]) WITH ORDINALITY AS b(i, stream, allocated, spent, k) GROUP BY i), " \
    "h AS (SELECT i, array_agg(stream ORDER BY k) AS held, array_agg(stream ORDER BY k) FILTER "   \
    "(WHERE by_due) AS by_due FROM unnest($22::int4[], $23::text[], $24::bool[]) WITH "            \
    "ORDINALITY AS h(i, stream, by_due, k) GROUP BY i) "
#define RECORD_UPSERT(record)                                                                      \
    "INSERT INTO consolidated_review (nhs_number, cycle, version, seq, ready_for_sign_off, "       \
    "held_on, record, enrolled, complete_streams, area_priority, area_conflict, as_of, called, "   \
    "way, needs, budget_streams, budget_allocated, budget_spent, held_streams, held_by_due) "      \
    "SELECT r.nhs, r.cycle, r.version, r.seq, r.ready, r.held_on, " record ", "                    \
    "coalesce(s.enrolled, '{}'), coalesce(s.complete, '{}'), "                                     \
    "($11::int2[])[(r.i::int4 - 1) * $25::int4 + 1 : r.i::int4 * $25::int4], "                     \
    "($12::bool[])[(r.i::int4 - 1) * $25::int4 + 1 : r.i::int4 * $25::int4], r.as_of, r.called, "  \
    "r.way, coalesce(nd.needs, '{}'), coalesce(b.streams, '{}'), coalesce(b.allocated, '{}'), "    \
    "coalesce(b.spent, '{}'), coalesce(h.held, '{}'), coalesce(h.by_due, '{}') "                   \
    "FROM r LEFT JOIN s USING (i) LEFT JOIN nd USING (i) LEFT JOIN b USING (i) LEFT JOIN h "       \
    "USING (i) ON CONFLICT (nhs_number, cycle) DO UPDATE SET version = "                           \
    "EXCLUDED.version, seq = EXCLUDED.seq, ready_for_sign_off = EXCLUDED.ready_for_sign_off, "     \
    "held_on = EXCLUDED.held_on, record = EXCLUDED.record, enrolled = EXCLUDED.enrolled, "         \
    "complete_streams = EXCLUDED.complete_streams, area_priority = EXCLUDED.area_priority, "       \
    "area_conflict = EXCLUDED.area_conflict, as_of = EXCLUDED.as_of, called = EXCLUDED.called, "   \
    "way = EXCLUDED.way, needs = EXCLUDED.needs, budget_streams = EXCLUDED.budget_streams, "       \
    "budget_allocated = EXCLUDED.budget_allocated, budget_spent = EXCLUDED.budget_spent, "         \
    "held_streams = EXCLUDED.held_streams, held_by_due = EXCLUDED.held_by_due, updated_at = now()"

static const jr_store_stmt_t REVIEWS_PUT = {
    "batch_reviews_put",
    RECORD_ROWS RECORD_UPSERT("r.record"),
};

static const jr_store_stmt_t PUBLISH_RECORDS = {
    "batch_publish_records",
    RECORD_ROWS ", ob AS (INSERT INTO outbox (seq, topic, nhs_number, payload) SELECT seq, "
                "'review', nhs, record FROM r), " LAST_SEQ_OF("r") RECORD_UPSERT("NULL::bytea"),
};

/* Most batches leave most persons' due-check rows as they were (a new
 * contribution seldom moves a review date): an unchanged row is not
 * rewritten, saving a new row version and its index entries. Covered
 * streams as a stream list: $5 and $6. Answers the (lead, group key) the
 * rows had before, where they had one: every part of one statement sees
 * the table as it was before the statement. */
static const jr_store_stmt_t SCHEDULES_PUT = {
    "batch_schedules_put",
    "WITH s AS (SELECT * FROM unnest($1::text[], $2::int4[], $3::date[], $4::text[], "
    "$7::date[], $8::int4[], $9::text[]) WITH ORDINALITY AS s(nhs, cycle, review_on, lead, "
    "next_check_on, separate, group_key, i)), c AS (SELECT i, array_agg(code ORDER BY k) AS "
    "covered FROM unnest($5::int4[], $6::text[]) WITH ORDINALITY AS c(i, code, k) GROUP BY i), "
    "old AS (SELECT o.lead, o.group_key FROM s CROSS JOIN LATERAL (SELECT lead, group_key FROM "
    "schedule o WHERE o.nhs_number = s.nhs AND o.group_key IS NOT NULL OFFSET 0) o), "
    "put AS (INSERT INTO schedule (nhs_number, cycle, review_on, lead, covered, next_check_on, "
    "separate_meetings, group_key) SELECT s.nhs, s.cycle, s.review_on, s.lead, "
    "coalesce(c.covered, '{}'), s.next_check_on, s.separate, s.group_key FROM s LEFT JOIN c "
    "USING (i) ON CONFLICT (nhs_number) DO UPDATE SET cycle = "
    "EXCLUDED.cycle, review_on = EXCLUDED.review_on, lead = EXCLUDED.lead, covered = "
    "EXCLUDED.covered, next_check_on = EXCLUDED.next_check_on, separate_meetings = "
    "EXCLUDED.separate_meetings, group_key = EXCLUDED.group_key, updated_at = now() WHERE "
    "(schedule.cycle, schedule.review_on, schedule.lead, schedule.covered, "
    "schedule.next_check_on, schedule.separate_meetings, schedule.group_key) IS DISTINCT FROM "
    "(EXCLUDED.cycle, EXCLUDED.review_on, EXCLUDED.lead, EXCLUDED.covered, "
    "EXCLUDED.next_check_on, EXCLUDED.separate_meetings, EXCLUDED.group_key)) "
    "SELECT DISTINCT lead, group_key FROM old",
};

/* Suggested group reviews. The persons of each (lead, group key) read
 * through the index of those who want one, with the name to use and the
 * needs of their current record. */
static const jr_store_stmt_t GROUP_MEMBERS = {
    "batch_group_members",
    "SELECT k.i, s.nhs_number, s.review_on, coalesce(r.called, ''), "
    "array_to_string(r.needs, ',') FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS "
    "k(lead, gk, i) CROSS JOIN LATERAL (SELECT nhs_number, review_on FROM schedule s WHERE "
    "s.lead = k.lead AND s.group_key = k.gk OFFSET 0) s LEFT JOIN LATERAL (SELECT called, needs "
    "FROM consolidated_review c WHERE c.nhs_number = s.nhs_number ORDER BY c.cycle DESC LIMIT 1) "
    "r ON true",
};

static const jr_store_stmt_t GROUP_CURRENT = {
    "batch_group_current",
    "SELECT k.i, g.seq, g.review_on, array_to_string(g.members, ',') FROM unnest($1::text[], "
    "$2::text[]) WITH ORDINALITY AS k(lead, gk, i) CROSS JOIN LATERAL (SELECT seq, review_on, "
    "members FROM group_suggestion g WHERE g.lead = k.lead AND g.group_key = k.gk AND g.current "
    "OFFSET 0) g",
};

/* Suggestions with their outbox rows; members ($8, $9) and what each
 * replaces ($10, $11) as lists. Those replaced are current no more. */
static const jr_store_stmt_t GROUPS_ADD = {
    "batch_groups_add",
    "WITH g AS (SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::date[], "
    "$5::bool[], $6::text[], $7::bytea[]) WITH ORDINALITY AS g(seq, lead, gk, review_on, "
    "current, topic, payload, i)), m AS (SELECT i, array_agg(nhs ORDER BY k) AS members FROM "
    "unnest($8::int4[], $9::text[]) WITH ORDINALITY AS m(i, nhs, k) GROUP BY i), "
    "rp AS (SELECT i, array_agg(seq ORDER BY k) AS replaces FROM unnest($10::int4[], "
    "$11::int8[]) WITH ORDINALITY AS rp(i, seq, k) GROUP BY i), "
    "gone AS (UPDATE group_suggestion SET current = false WHERE seq = ANY ($11::int8[])), "
    "ob AS (INSERT INTO outbox (seq, topic, nhs_number, payload) SELECT seq, topic, NULL, "
    "payload FROM g), " LAST_SEQ_OF(
        "g") "INSERT INTO group_suggestion (seq, lead, group_key, review_on, members, replaces, "
             "current, "
             "topic, payload) SELECT g.seq, g.lead, g.gk, g.review_on, coalesce(m.members, '{}'), "
             "coalesce(rp.replaces, '{}'), g.current, g.topic, g.payload FROM g LEFT JOIN m USING "
             "(i) "
             "LEFT JOIN rp USING (i)",
};

const jr_store_stmt_t *const jr_store_batch_statements[] = {
    &EVENTS_ASSIGN,      &EVENTS_COUNTED, &REJECTED_ADD,    &REJECTED_EVICT,
    &REJECTED_TRIM,      &PERSONS_PAGE,   &SCHEDULE_DUE,    &NOTICE_KEYS,
    &NOTICES_ADD,        &PUBLISHED_GET,  &PUBLISHED_SET,   &OUTBOX_TRIM,
    &EXISTS_MANY,        &LINKS_MANY,     &PERSONS_ADD,     &PERSONS_READ,
    &PERSONS_SET_CYCLES, &REVIEWS_OF,     &PERSONS_EVENTS,  &LINKS_ADD_MANY,
    &PARKED_MANY,        &REVIEWS_PUT,    &PUBLISH_RECORDS, &SCHEDULES_PUT,
    &GROUP_MEMBERS,      &GROUP_CURRENT,  &GROUPS_ADD,      NULL,
};

static const char *link_kind(jr_link_kind_t kind)
{
    return kind == JR_LINK_NINO ? "NINO" : "LOCAL";
}

/* Runs s and calls fn with each (nhs_number, cycle) row it answers (text
 * results). */
static int each_cycle(jr_store_pg_t *self, const jr_store_stmt_t *s, jr_pgbin_array_t *a, size_t n,
                      void (*fn)(void *ctx, const char *nhs, uint32_t cycle), void *ctx)
{
    PGresult *res = NULL;
    int rc = jr_store_conn_run_arrays(self, s, a, n, NULL, 0, &res);
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        fn(ctx, PQgetvalue(res, i, 0), (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10));
    }
    PQclear(res);
    return rc;
}

void jr_store_rows_clear(jr_store_rows_t *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        free(rows->rows[i].envelope);
    }
    free(rows->rows);
    memset(rows, 0, sizeof *rows);
}

/* Appends binary rows (id int8, cycle int4, seq int8, envelope bytea). */
static int append_rows(jr_store_pg_t *self, const PGresult *res, jr_store_rows_t *out)
{
    int n = PQntuples(res);
    if (out->n + (size_t)n > out->cap) {
        size_t cap = out->cap ? out->cap : 16;
        while (cap < out->n + (size_t)n) {
            cap *= 2;
        }
        jr_store_row_t *rows = realloc(out->rows, cap * sizeof *rows);
        if (rows == NULL) {
            return jr_store_conn_fail(self, "out of memory");
        }
        out->rows = rows;
        out->cap = cap;
    }
    for (int i = 0; i < n; i++) {
        jr_store_row_t *r = &out->rows[out->n];
        r->nhs[0] = '\0';
        r->id = jr_store_conn_i64(res, i, 0);
        r->cycle = PQgetisnull(res, i, 1) ? 0 : (uint32_t)jr_store_conn_i32(res, i, 1);
        r->seq = (uint64_t)jr_store_conn_i64(res, i, 2);
        r->envelope_len = (size_t)PQgetlength(res, i, 3);
        r->envelope = malloc(r->envelope_len ? r->envelope_len : 1);
        if (r->envelope == NULL) {
            return jr_store_conn_fail(self, "out of memory");
        }
        memcpy(r->envelope, PQgetvalue(res, i, 3), r->envelope_len);
        out->n++;
    }
    return JR_STORE_OK;
}

/* ---- rejected input ---- */

void jr_store_pg_set_rejected_max(jr_store_pg_t *self, long long max_rows)
{
    self->rejected_max = max_rows;
}

int jr_store_pg_rejected_add(jr_store_pg_t *self, const char *sender, const char *stream,
                             const char *seid, const char *code, const char *reason,
                             const uint8_t *raw, size_t len)
{
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, raw, len);
    jr_store_params_t p = {0};
    jr_store_conn_param_text(&p, sender);
    jr_store_conn_param_text(&p, stream);
    jr_store_conn_param_text(&p, seid);
    jr_store_conn_param_text(&p, code);
    jr_store_conn_param_text(&p, reason);
    jr_store_conn_param_bytes(&p, raw, len < JR_STORE_REJECTED_HEAD ? len : JR_STORE_REJECTED_HEAD);
    jr_store_conn_param_int(&p, (long long)len);
    jr_store_conn_param_bytes(&p, digest, sizeof digest);
    PGresult *res = NULL;
    int rc = jr_store_conn_run(self, &REJECTED_ADD, &p, 0, &res);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    long long id = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (self->rejected_max <= 0 || id <= self->rejected_max) {
        return JR_STORE_OK;
    }
    jr_store_params_t e = {0};
    jr_store_conn_param_int(&e, id);
    jr_store_conn_param_int(&e, self->rejected_max);
    return jr_store_conn_run(self, &REJECTED_EVICT, &e, 0, NULL);
}

/* Runs a round of a trim, (days, limit), and says how many rows went. */
static int trim(jr_store_pg_t *self, const jr_store_stmt_t *s, int days, int limit,
                uint64_t *deleted)
{
    jr_store_params_t p = {0};
    jr_store_conn_param_int(&p, days);
    jr_store_conn_param_int(&p, limit);
    PGresult *res = NULL;
    int rc = jr_store_conn_run(self, s, &p, 0, &res);
    if (rc == JR_STORE_OK) {
        *deleted = strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    return rc;
}

int jr_store_pg_rejected_trim(jr_store_pg_t *self, int days, int limit, uint64_t *deleted)
{
    return trim(self, &REJECTED_TRIM, days, limit, deleted);
}

int jr_store_pg_outbox_trim(jr_store_pg_t *self, int days, int limit, uint64_t *swept,
                            uint64_t *passed, uint64_t *deleted)
{
    jr_store_params_t p = {0};
    jr_store_conn_param_int(&p, days);
    jr_store_conn_param_int(&p, limit);
    jr_store_conn_param_int(&p, (long long)*swept);
    PGresult *res = NULL;
    int rc = jr_store_conn_run(self, &OUTBOX_TRIM, &p, 0, &res);
    if (rc == JR_STORE_OK) {
        *passed = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        *deleted =
            strtoull(PQgetvalue(res, 0, 1), NULL, 10) + strtoull(PQgetvalue(res, 0, 3), NULL, 10);
        *swept = PQgetisnull(res, 0, 2) ? 0 : strtoull(PQgetvalue(res, 0, 2), NULL, 10);
        PQclear(res);
    }
    return rc;
}

/* ---- persons, for rebuild and the due check ---- */

/* A date column of a text result: JR_DAY_NONE when NULL. */
static jr_day_t date_of(const PGresult *res, int row, int col)
{
    jr_day_t d = JR_DAY_NONE;
    if (!PQgetisnull(res, row, col) && jr_text_parse_date(PQgetvalue(res, row, col), &d) != 0) {
        d = JR_DAY_NONE;
    }
    return d;
}

/* Runs s and calls fn with each (nhs_number, cycle) row it answers, until
 * fn returns non-zero. *count (when not NULL) says how many rows came. */
static int each_person_row(jr_store_pg_t *self, const jr_store_stmt_t *s,
                           const jr_store_params_t *p,
                           int (*fn)(void *ctx, const char *nhs, uint32_t cycle), void *ctx,
                           size_t *count)
{
    PGresult *res = NULL;
    int rc = jr_store_conn_run(self, s, p, 0, &res);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    int n = PQntuples(res);
    if (count != NULL) {
        *count = (size_t)n;
    }
    for (int i = 0; i < n && rc == JR_STORE_OK; i++) {
        rc = fn(ctx, PQgetvalue(res, i, 0), (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10));
    }
    PQclear(res);
    return rc;
}

int jr_store_pg_schedule_due(jr_store_pg_t *self, jr_day_t today, jr_store_due_key_t *after,
                             int limit, int (*fn)(void *ctx, const char *nhs, uint32_t cycle),
                             void *ctx, size_t *count)
{
    jr_store_params_t p = {0};
    jr_store_conn_param_date(&p, today);
    jr_store_conn_param_int(&p, limit);
    jr_store_conn_param_date(&p, after->on);
    jr_store_conn_param_text(&p, after->on == JR_DAY_NONE ? NULL : after->nhs);
    PGresult *res = NULL;
    int rc = jr_store_conn_run(self, &SCHEDULE_DUE, &p, 0, &res);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    int n = PQntuples(res);
    *count = (size_t)n;
    for (int i = 0; i < n && rc == JR_STORE_OK; i++) {
        rc = fn(ctx, PQgetvalue(res, i, 0), (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10));
    }
    jr_day_t on = n > 0 ? date_of(res, n - 1, 2) : JR_DAY_NONE;
    if (rc == JR_STORE_OK && on != JR_DAY_NONE) {
        after->on = on;
        snprintf(after->nhs, sizeof after->nhs, "%s", PQgetvalue(res, n - 1, 0));
    }
    PQclear(res);
    return rc;
}

/* ---- publication cursor ---- */

int jr_store_pg_published_get(jr_store_pg_t *self, uint64_t *seq)
{
    return jr_store_conn_run_u64(self, &PUBLISHED_GET, NULL, seq);
}

int jr_store_pg_published_set(jr_store_pg_t *self, uint64_t seq)
{
    jr_store_params_t p = {0};
    jr_store_conn_param_int(&p, (long long)seq);
    return jr_store_conn_run(self, &PUBLISHED_SET, &p, 0, NULL);
}

/* ---- batch-wide statements ---- */

/* One text[] array of n strings. */
static void text_array(jr_pgbin_array_t *a, const char *const *v, size_t n)
{
    jr_pgbin_array_open(a, JR_PGBIN_TEXT);
    for (size_t i = 0; i < n; i++) {
        jr_pgbin_array_text(a, v[i]);
    }
}

/* Opens n arrays of these element types. */
static void arrays_open(jr_pgbin_array_t *a, const jr_pgbin_oid_t *types, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        jr_pgbin_array_open(&a[c], types[c]);
    }
}

static const jr_pgbin_oid_t g_texts[] = {JR_PGBIN_TEXT, JR_PGBIN_TEXT, JR_PGBIN_TEXT};

int jr_store_pg_exists_many(jr_store_pg_t *self, const char *const *streams,
                            const char *const *seids, size_t n,
                            void (*fn)(void *ctx, const char *stream, const char *seid), void *ctx)
{
    jr_pgbin_array_t a[2];
    text_array(&a[0], streams, n);
    text_array(&a[1], seids, n);
    PGresult *res = NULL;
    int rc = jr_store_conn_run_arrays(self, &EXISTS_MANY, a, 2, NULL, 0, &res);
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        fn(ctx, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    }
    PQclear(res);
    return rc;
}

/* The (kind, stream, value) key columns of links as three arrays. */
static void link_keys(jr_pgbin_array_t a[3], const jr_link_t *keys, size_t n)
{
    arrays_open(a, g_texts, 3);
    for (size_t i = 0; i < n; i++) {
        jr_pgbin_array_text(&a[0], link_kind(keys[i].kind));
        jr_pgbin_array_text(&a[1], keys[i].kind == JR_LINK_NINO ? "" : keys[i].stream);
        jr_pgbin_array_text(&a[2], keys[i].value);
    }
}

int jr_store_pg_links_many(jr_store_pg_t *self, const jr_link_t *keys, size_t n,
                           void (*fn)(void *ctx, const jr_link_t *link), void *ctx)
{
    jr_pgbin_array_t a[3];
    link_keys(a, keys, n);
    PGresult *res = NULL;
    int rc = jr_store_conn_run_arrays(self, &LINKS_MANY, a, 3, NULL, 0, &res);
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        jr_link_t link = {0};
        link.kind = strcmp(PQgetvalue(res, i, 0), "NINO") == 0 ? JR_LINK_NINO : JR_LINK_LOCAL;
        snprintf(link.stream, sizeof link.stream, "%s", PQgetvalue(res, i, 1));
        snprintf(link.value, sizeof link.value, "%s", PQgetvalue(res, i, 2));
        snprintf(link.nhs, sizeof link.nhs, "%s", PQgetvalue(res, i, 3));
        fn(ctx, &link);
    }
    PQclear(res);
    return rc;
}

int jr_store_pg_links_add_many(jr_store_pg_t *self, const jr_link_t *links,
                               const char *const *by_stream, const char *const *by_seid, size_t n)
{
    jr_pgbin_array_t a[6];
    link_keys(a, links, n);
    arrays_open(a + 3, g_texts, 3);
    for (size_t i = 0; i < n; i++) {
        jr_pgbin_array_text(&a[3], links[i].nhs);
        jr_pgbin_array_text(&a[4], by_stream[i]);
        jr_pgbin_array_text(&a[5], by_seid[i]);
    }
    return jr_store_conn_run_arrays(self, &LINKS_ADD_MANY, a, 6, NULL, 0, NULL);
}

int jr_store_pg_parked_many(jr_store_pg_t *self, const jr_link_t *keys, size_t n,
                            jr_store_rows_t *out)
{
    jr_pgbin_array_t a[3];
    arrays_open(a, g_texts, 3);
    for (size_t i = 0; i < n; i++) {
        if (keys[i].kind == JR_LINK_NINO) {
            jr_pgbin_array_text(&a[0], keys[i].value);
        } else {
            jr_pgbin_array_text(&a[1], keys[i].stream);
            jr_pgbin_array_text(&a[2], keys[i].value);
        }
    }
    PGresult *res = NULL;
    int rc = jr_store_conn_run_arrays(self, &PARKED_MANY, a, 3, NULL, 1, &res);
    if (rc == JR_STORE_OK) {
        rc = append_rows(self, res, out);
        PQclear(res);
    }
    return rc;
}

int jr_store_pg_persons_read(jr_store_pg_t *self, const char *const *nhs, size_t n,
                             void (*fn)(void *ctx, const char *nhs, uint32_t cycle), void *ctx)
{
    jr_pgbin_array_t a;
    text_array(&a, nhs, n);
    return each_cycle(self, &PERSONS_READ, &a, 1, fn, ctx);
}

int jr_store_pg_persons_add(jr_store_pg_t *self, const char *const *nhs, size_t n)
{
    jr_pgbin_array_t a;
    text_array(&a, nhs, n);
    return jr_store_conn_run_arrays(self, &PERSONS_ADD, &a, 1, NULL, 0, NULL);
}

int jr_store_pg_persons_set_cycles(jr_store_pg_t *self, const char *const *nhs,
                                   const uint32_t *cycles, size_t n)
{
    jr_pgbin_array_t a[2];
    text_array(&a[0], nhs, n);
    jr_pgbin_array_open(&a[1], JR_PGBIN_INT4);
    for (size_t i = 0; i < n; i++) {
        jr_pgbin_array_int4(&a[1], (int32_t)cycles[i]);
    }
    return jr_store_conn_run_arrays(self, &PERSONS_SET_CYCLES, a, 2, NULL, 0, NULL);
}

int jr_store_pg_events_assign(jr_store_pg_t *self, const jr_store_assign_t *rows, size_t n)
{
    static const jr_pgbin_oid_t types[4] = {JR_PGBIN_INT8, JR_PGBIN_TEXT, JR_PGBIN_INT4,
                                            JR_PGBIN_INT8};
    jr_pgbin_array_t a[4];
    arrays_open(a, types, 4);
    for (size_t i = 0; i < n; i++) {
        jr_pgbin_array_int8(&a[0], rows[i].id);
        jr_pgbin_array_text(&a[1], rows[i].nhs);
        jr_pgbin_array_int4(&a[2], (int32_t)rows[i].cycle);
        jr_pgbin_array_int8(&a[3], (int64_t)rows[i].seq);
    }
    return jr_store_conn_run_arrays(self, &EVENTS_ASSIGN, a, 4, NULL, 0, NULL);
}

int jr_store_pg_persons_page(jr_store_pg_t *self, const char *after, int limit,
                             int (*fn)(void *ctx, const char *nhs, uint32_t cycle), void *ctx,
                             size_t *count)
{
    jr_store_params_t p = {0};
    jr_store_conn_param_text(&p, after);
    jr_store_conn_param_int(&p, limit);
    return each_person_row(self, &PERSONS_PAGE, &p, fn, ctx, count);
}

/* Runs s, a statement keyed by persons whose rows are (id, cycle, seq,
 * bytes, nhs_number), and appends them. */
static int rows_by_person(jr_store_pg_t *self, const jr_store_stmt_t *s, const char *const *nhs,
                          size_t n, jr_store_rows_t *out)
{
    jr_pgbin_array_t a;
    text_array(&a, nhs, n);
    PGresult *res = NULL;
    int rc = jr_store_conn_run_arrays(self, s, &a, 1, NULL, 1, &res);
    size_t first = out->n;
    if (rc == JR_STORE_OK) {
        rc = append_rows(self, res, out);
    }
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        snprintf(out->rows[first + (size_t)i].nhs, sizeof out->rows[0].nhs, "%.*s",
                 PQgetlength(res, i, 4), PQgetvalue(res, i, 4));
    }
    PQclear(res);
    return rc;
}

int jr_store_pg_persons_events(jr_store_pg_t *self, const char *const *nhs, size_t n,
                               jr_store_rows_t *out)
{
    return rows_by_person(self, &PERSONS_EVENTS, nhs, n, out);
}

int jr_store_pg_reviews_of(jr_store_pg_t *self, const char *const *nhs, size_t n,
                           jr_store_rows_t *out)
{
    return rows_by_person(self, &REVIEWS_OF, nhs, n, out);
}

/* Appends a row's stream codes to a stream list: each code, and beside it
 * the row (1-based). */
static void stream_list_add(jr_pgbin_array_t *rows, jr_pgbin_array_t *codes, size_t row,
                            const char *const *list, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        jr_pgbin_array_int4(rows, (int32_t)row);
        jr_pgbin_array_text(codes, list[k]);
    }
}

/* Runs RECORD_ROWS-based statement s for n records. */
static int run_records(jr_store_pg_t *self, const jr_store_stmt_t *s, const jr_store_review_t *r,
                       size_t n)
{
    enum { N = 24 };
    static const jr_pgbin_oid_t types[N] = {
        JR_PGBIN_TEXT,  JR_PGBIN_INT4, JR_PGBIN_INT4, JR_PGBIN_INT8, JR_PGBIN_BOOL, JR_PGBIN_DATE,
        JR_PGBIN_BYTEA, JR_PGBIN_INT4, JR_PGBIN_TEXT, JR_PGBIN_BOOL, JR_PGBIN_INT2, JR_PGBIN_BOOL,
        JR_PGBIN_DATE,  JR_PGBIN_TEXT, JR_PGBIN_TEXT, JR_PGBIN_INT4, JR_PGBIN_TEXT, JR_PGBIN_INT4,
        JR_PGBIN_TEXT,  JR_PGBIN_INT8, JR_PGBIN_INT8, JR_PGBIN_INT4, JR_PGBIN_TEXT, JR_PGBIN_BOOL};
    jr_pgbin_array_t a[N];
    arrays_open(a, types, N);
    for (size_t i = 0; i < n; i++) {
        jr_pgbin_array_text(&a[0], r[i].nhs);
        jr_pgbin_array_int4(&a[1], (int32_t)r[i].cycle);
        jr_pgbin_array_int4(&a[2], (int32_t)r[i].version);
        jr_pgbin_array_int8(&a[3], (int64_t)r[i].seq);
        jr_pgbin_array_bool(&a[4], r[i].ready);
        jr_pgbin_array_date(&a[5], r[i].held_on);
        jr_pgbin_array_bytea(&a[6], r[i].record, r[i].record_len);
        stream_list_add(&a[7], &a[8], i + 1, r[i].enrolled, r[i].n_enrolled);
        for (size_t k = 0; k < r[i].n_enrolled; k++) {
            jr_pgbin_array_bool(&a[9], r[i].complete[k]);
        }
        for (size_t k = 0; k < JR_AREA_COUNT; k++) {
            jr_pgbin_array_int2(&a[10], (int16_t)r[i].area_priority[k]);
            jr_pgbin_array_bool(&a[11], r[i].area_conflict[k]);
        }
        jr_pgbin_array_date(&a[12], r[i].as_of);
        jr_pgbin_array_text(&a[13], r[i].called);
        jr_pgbin_array_text(&a[14], r[i].way);
        stream_list_add(&a[15], &a[16], i + 1, r[i].needs, r[i].n_needs);
        stream_list_add(&a[17], &a[18], i + 1, r[i].budget_streams, r[i].n_budgets);
        for (size_t k = 0; k < r[i].n_budgets; k++) {
            jr_pgbin_array_int8(&a[19], r[i].budget_allocated[k]);
            jr_pgbin_array_int8(&a[20], r[i].budget_spent[k]);
        }
        stream_list_add(&a[21], &a[22], i + 1, r[i].held_streams, r[i].n_held);
        for (size_t k = 0; k < r[i].n_held; k++) {
            jr_pgbin_array_bool(&a[23], r[i].held_by_due[k]);
        }
    }
    jr_store_params_t areas = {0};
    jr_store_conn_param_int(&areas, JR_AREA_COUNT); /* $25: the areas of each record */
    return jr_store_conn_run_arrays(self, s, a, N, &areas, 0, NULL);
}

int jr_store_pg_publish_records(jr_store_pg_t *self, const jr_store_review_t *r, size_t n)
{
    return run_records(self, &PUBLISH_RECORDS, r, n);
}

int jr_store_pg_reviews_put(jr_store_pg_t *self, const jr_store_review_t *r, size_t n)
{
    return run_records(self, &REVIEWS_PUT, r, n);
}

int jr_store_pg_schedules_put(jr_store_pg_t *self, const jr_store_schedule_t *rows, size_t n,
                              void (*fn)(void *ctx, const char *lead, const char *group_key),
                              void *ctx)
{
    static const jr_pgbin_oid_t types[9] = {JR_PGBIN_TEXT, JR_PGBIN_INT4, JR_PGBIN_DATE,
                                            JR_PGBIN_TEXT, JR_PGBIN_INT4, JR_PGBIN_TEXT,
                                            JR_PGBIN_DATE, JR_PGBIN_INT4, JR_PGBIN_TEXT};
    jr_pgbin_array_t a[9];
    arrays_open(a, types, 9);
    for (size_t i = 0; i < n; i++) {
        jr_pgbin_array_text(&a[0], rows[i].nhs);
        jr_pgbin_array_int4(&a[1], (int32_t)rows[i].cycle);
        jr_pgbin_array_date(&a[2], rows[i].review_on);
        jr_pgbin_array_text(&a[3], rows[i].lead);
        stream_list_add(&a[4], &a[5], i + 1, rows[i].covered, rows[i].n_covered);
        jr_pgbin_array_date(&a[6], rows[i].next_check_on);
        jr_pgbin_array_int4(&a[7], rows[i].separate_meetings);
        jr_pgbin_array_text(&a[8], rows[i].group_key);
    }
    PGresult *res = NULL;
    int rc = jr_store_conn_run_arrays(self, &SCHEDULES_PUT, a, 9, NULL, 0, &res);
    for (int i = 0; rc == JR_STORE_OK && fn != NULL && i < PQntuples(res); i++) {
        fn(ctx, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    }
    PQclear(res);
    return rc;
}

/* The (lead, group key) pairs as two arrays. */
static void pair_arrays(jr_pgbin_array_t a[2], const char *const *leads, const char *const *keys,
                        size_t n)
{
    text_array(&a[0], leads, n);
    text_array(&a[1], keys, n);
}

int jr_store_pg_group_members(jr_store_pg_t *self, const char *const *leads,
                              const char *const *keys, size_t n,
                              void (*fn)(void *ctx, size_t pair, const char *nhs,
                                         jr_day_t review_on, const char *called, const char *needs),
                              void *ctx)
{
    jr_pgbin_array_t a[2];
    pair_arrays(a, leads, keys, n);
    PGresult *res = NULL;
    int rc = jr_store_conn_run_arrays(self, &GROUP_MEMBERS, a, 2, NULL, 0, &res);
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        fn(ctx, (size_t)strtoull(PQgetvalue(res, i, 0), NULL, 10) - 1, PQgetvalue(res, i, 1),
           date_of(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
    }
    PQclear(res);
    return rc;
}

int jr_store_pg_group_current(jr_store_pg_t *self, const char *const *leads,
                              const char *const *keys, size_t n,
                              void (*fn)(void *ctx, size_t pair, uint64_t seq, jr_day_t review_on,
                                         const char *members),
                              void *ctx)
{
    jr_pgbin_array_t a[2];
    pair_arrays(a, leads, keys, n);
    PGresult *res = NULL;
    int rc = jr_store_conn_run_arrays(self, &GROUP_CURRENT, a, 2, NULL, 0, &res);
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        fn(ctx, (size_t)strtoull(PQgetvalue(res, i, 0), NULL, 10) - 1,
           strtoull(PQgetvalue(res, i, 1), NULL, 10), date_of(res, i, 2), PQgetvalue(res, i, 3));
    }
    PQclear(res);
    return rc;
}

int jr_store_pg_groups_add(jr_store_pg_t *self, const jr_store_group_t *rows, size_t n)
{
    static const jr_pgbin_oid_t types[11] = {
        JR_PGBIN_INT8,  JR_PGBIN_TEXT, JR_PGBIN_TEXT, JR_PGBIN_DATE, JR_PGBIN_BOOL, JR_PGBIN_TEXT,
        JR_PGBIN_BYTEA, JR_PGBIN_INT4, JR_PGBIN_TEXT, JR_PGBIN_INT4, JR_PGBIN_INT8};
    jr_pgbin_array_t a[11];
    arrays_open(a, types, 11);
    for (size_t i = 0; i < n; i++) {
        const jr_store_group_t *g = &rows[i];
        jr_pgbin_array_int8(&a[0], (int64_t)g->seq);
        jr_pgbin_array_text(&a[1], g->lead);
        jr_pgbin_array_text(&a[2], g->group_key);
        jr_pgbin_array_date(&a[3], g->review_on);
        jr_pgbin_array_bool(&a[4], g->current);
        jr_pgbin_array_text(&a[5], g->topic);
        jr_pgbin_array_bytea(&a[6], g->payload, g->payload_len);
        stream_list_add(&a[7], &a[8], i + 1, g->members, g->n_members);
        for (size_t k = 0; k < g->n_replaces; k++) {
            jr_pgbin_array_int4(&a[9], (int32_t)(i + 1));
            jr_pgbin_array_int8(&a[10], (int64_t)g->replaces[k]);
        }
    }
    return jr_store_conn_run_arrays(self, &GROUPS_ADD, a, 11, NULL, 0, NULL);
}

int jr_store_pg_notice_keys(jr_store_pg_t *self, const char *const *nhs, size_t n,
                            void (*fn)(void *ctx, const char *nhs, uint32_t cycle, const char *key),
                            void *ctx)
{
    jr_pgbin_array_t a;
    text_array(&a, nhs, n);
    PGresult *res = NULL;
    int rc = jr_store_conn_run_arrays(self, &NOTICE_KEYS, &a, 1, NULL, 0, &res);
    for (int i = 0; rc == JR_STORE_OK && i < PQntuples(res); i++) {
        fn(ctx, PQgetvalue(res, i, 0), (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10),
           PQgetvalue(res, i, 2));
    }
    PQclear(res);
    return rc;
}

/* due_notice.kind: the table's words for a notice's kind. */
static const char *notice_kind(jr_notice_kind_t kind)
{
    switch (kind) {
    case JR_NOTICE_LEAD:
        return "LEAD";
    case JR_NOTICE_DUE:
        return "DUE";
    case JR_NOTICE_OVERDUE:
        return "OVERDUE";
    }
    return NULL; /* refused by the column's constraint */
}

int jr_store_pg_notices_add(jr_store_pg_t *self, const jr_store_notice_t *rows, size_t n)
{
    static const jr_pgbin_oid_t types[12] = {
        JR_PGBIN_TEXT, JR_PGBIN_INT4, JR_PGBIN_TEXT, JR_PGBIN_TEXT, JR_PGBIN_DATE, JR_PGBIN_DATE,
        JR_PGBIN_TEXT, JR_PGBIN_INT4, JR_PGBIN_TEXT, JR_PGBIN_INT8, JR_PGBIN_TEXT, JR_PGBIN_BYTEA};
    jr_pgbin_array_t a[12];
    arrays_open(a, types, 12);
    for (size_t i = 0; i < n; i++) {
        const jr_store_notice_t *r = &rows[i];
        jr_pgbin_array_text(&a[0], r->nhs);
        jr_pgbin_array_int4(&a[1], (int32_t)r->cycle);
        jr_pgbin_array_text(&a[2], r->key);
        jr_pgbin_array_text(&a[3], notice_kind(r->kind));
        jr_pgbin_array_date(&a[4], r->notice_on);
        jr_pgbin_array_date(&a[5], r->review_on);
        jr_pgbin_array_text(&a[6], r->lead);
        stream_list_add(&a[7], &a[8], i + 1, r->covered, r->n_covered);
        jr_pgbin_array_int8(&a[9], (int64_t)r->seq);
        jr_pgbin_array_text(&a[10], r->topic);
        jr_pgbin_array_bytea(&a[11], r->payload, r->payload_len);
    }
    return jr_store_conn_run_arrays(self, &NOTICES_ADD, a, 12, NULL, 0, NULL);
}

/* ---- the event log's binary COPY ---- */

#define COPY_EVENT                                                                                 \
    "COPY event (stream, source_event_id, kind, occurred_at, sender, nhs_number, ni_number, "      \
    "local_id, cycle, seq, envelope) FROM STDIN (FORMAT binary)"

enum { COPY_FIELDS = 11, COPY_CHUNK = 64 * 1024 }; /* bytes per PQputCopyData */

static int copy_flush(jr_store_pg_t *self, jr_pgbin_buf_t *b)
{
    if (b->failed) {
        return jr_store_conn_fail(self, "out of memory");
    }
    if (b->len > 0 && PQputCopyData(self->conn, (const char *)b->data, (int)b->len) != 1) {
        jr_store_conn_set_error(self, "COPY event");
        return JR_STORE_RETRY;
    }
    b->len = 0;
    return JR_STORE_OK;
}

/* Abandons a COPY in progress and reads its result. */
static void copy_abandon(jr_store_pg_t *self)
{
    PQputCopyEnd(self->conn, "the daemon abandoned the batch");
    PGresult *res;
    while ((res = PQgetResult(self->conn)) != NULL) {
        PQclear(res);
    }
}

/* One event's row, its fields in COPY_EVENT's order. */
static void copy_event_row(jr_pgbin_buf_t *b, const jr_store_event_row_t *r)
{
    jr_pgbin_copy_row(b, COPY_FIELDS);
    jr_pgbin_text(b, r->stream);
    jr_pgbin_text(b, r->seid);
    jr_pgbin_text(b, r->kind);
    jr_pgbin_timestamptz(b, r->occurred_at_ms);
    jr_pgbin_text(b, r->sender);
    jr_pgbin_text(b, r->nhs);
    jr_pgbin_text(b, r->nino);
    jr_pgbin_text(b, r->local_id);
    if (r->nhs != NULL) {
        jr_pgbin_int4(b, (int32_t)r->cycle);
    } else {
        jr_pgbin_value(b, NULL, 0);
    }
    if (r->seq != 0) {
        jr_pgbin_int8(b, (int64_t)r->seq);
    } else {
        jr_pgbin_value(b, NULL, 0);
    }
    jr_pgbin_value(b, r->envelope, r->envelope_len);
}

int jr_store_pg_events_copy_send(jr_store_pg_t *self, const jr_store_event_row_t *rows, size_t n)
{
    if (n == 0) {
        return JR_STORE_OK;
    }
    self->copy_events = n;
    self->copy_parked = 0;
    for (size_t i = 0; i < n; i++) {
        self->copy_parked += rows[i].nhs == NULL;
    }
    if (!jr_store_pg_connected(self)) {
        return jr_store_conn_fail(self, "not connected");
    }
    PGresult *res = PQexec(self->conn, COPY_EVENT);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        int rc = jr_store_conn_classify(self, res, "COPY event");
        PQclear(res);
        return rc;
    }
    PQclear(res);
    jr_pgbin_buf_t b = {0};
    jr_pgbin_copy_header(&b);
    int rc = JR_STORE_OK;
    for (size_t i = 0; i < n && rc == JR_STORE_OK; i++) {
        copy_event_row(&b, &rows[i]);
        if (b.len >= COPY_CHUNK || b.failed) {
            rc = copy_flush(self, &b);
        }
    }
    jr_pgbin_copy_trailer(&b);
    if (rc == JR_STORE_OK) {
        rc = copy_flush(self, &b);
    }
    jr_pgbin_buf_free(&b);
    if (rc != JR_STORE_OK) {
        copy_abandon(self);
        return rc;
    }
    if (PQputCopyEnd(self->conn, NULL) != 1) {
        jr_store_conn_set_error(self, "COPY event");
        copy_abandon(self);
        return JR_STORE_RETRY;
    }
    self->copy_pending = true;
    return JR_STORE_OK;
}

int jr_store_pg_events_copy_end(jr_store_pg_t *self)
{
    if (!self->copy_pending) {
        return JR_STORE_OK;
    }
    self->copy_pending = false;
    int rc = JR_STORE_OK;
    PGresult *res;
    while ((res = PQgetResult(self->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == JR_STORE_OK) {
            rc = jr_store_conn_classify(self, res, "COPY event");
        }
        PQclear(res);
    }
    if (rc == JR_STORE_OK) {
        jr_store_params_t p = {0};
        jr_store_conn_param_int(&p, (long long)self->copy_events);
        jr_store_conn_param_int(&p, (long long)self->copy_parked);
        rc = jr_store_conn_run(self, &EVENTS_COUNTED, &p, 0, NULL);
    }
    return rc;
}
