/* stored.h -- between the planner (domain/plan.h) and the store: the event
 * log's rows decoded into the plan's input, and what a plan decided turned
 * into the store's rows and the publications that go out once they commit.
 *
 * The batch (batch.h), the due check (due.h) and rebuild (rebuild.h) are each
 * read -> plan -> write; this is what their read and write steps share. */
#ifndef JR_STORED_H
#define JR_STORED_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "plan.h"
#include "schedule.h"
#include "store_pg.h"
#include "streams.h"

/* The groups a write touched (groups.h). */
typedef struct jr_groups_touched jr_groups_touched_t;

/* What every batch, rebuild and due check works with. */
typedef struct {
    const jr_streams_t *streams; /* borrowed */
    jr_schedule_rules_t rules;
    jr_day_t today; /* the daemon's today (--today, or the UTC date) */
} jr_batch_ctx_t;

/* The planner's context for a write after publication last_seq. */
jr_plan_ctx_t jr_stored_plan_ctx(const jr_batch_ctx_t *ctx, uint64_t last_seq);

/* ---- publications: sent once the transaction that wrote them commits ---- */

typedef struct {
    uint64_t seq;
    char topic[64];
    uint8_t *payload; /* owned */
    size_t len;
} jr_publication_t;

typedef struct {
    jr_publication_t *items;
    size_t n, cap;
} jr_publications_t;

/* Appends one, taking payload. 0, or -1 when out of memory (payload is then
 * still the caller's). */
int jr_publications_add(jr_publications_t *pubs, uint64_t seq, const char *topic, uint8_t *payload,
                        size_t len);

/* Drops those after the first `keep` (their transaction rolled back). */
void jr_publications_truncate(jr_publications_t *pubs, size_t keep);

void jr_publications_clear(jr_publications_t *pubs);

/* ---- the read step ---- */

/* An envelope as the planner sees it; it borrows from *e. */
jr_plan_event_t jr_stored_event_of(const jr_envelope_t *e);

/* Stored events decoded for the planner. Each plan_stored_t borrows from the
 * envelope beside it; neither moves once decoded. */
typedef struct {
    jr_envelope_t *dec;
    jr_plan_stored_t *v;
    size_t n;
} jr_stored_t;

/* Decodes rows[0..n) (nhs "" for a parked row). A row that no longer
 * decodes (its stream has since been disabled in the configuration) is left
 * out, with a warning. 0, or -1 when out of memory. */
int jr_stored_decode(jr_stored_t *out, const jr_streams_t *streams, const jr_store_row_t *rows,
                     size_t n);

void jr_stored_clear(jr_stored_t *s);

/* Notice keys read from the store, as the planner looks them up
 * (jr_plan_notice_key()); they are owned here. */
typedef struct {
    char **keys;
    size_t n, cap;
    int failed; /* out of memory while reading: the read is to be retried */
} jr_stored_keys_t;

/* The callback jr_store_pg_notice_keys() takes: ctx is a jr_stored_keys_t. */
void jr_stored_keys_on_notice(void *ctx, const char *nhs, uint32_t cycle, const char *key);

void jr_stored_keys_clear(jr_stored_keys_t *k);

/* Persons read a page at a time: the due check's rounds, rebuild's pages. */
enum { JR_STORED_PAGE = 500 };

typedef struct {
    jr_plan_cycle_t v[JR_STORED_PAGE];
    size_t n;
} jr_stored_page_t;

/* The callback the store's person readers take: ctx is a jr_stored_page_t;
 * persons beyond the page are left out. */
int jr_stored_page_add(void *ctx, const char *nhs, uint32_t cycle);

/* ---- the write step ---- */

/* The records, notices and due-check rows a plan decided, as the store's
 * rows, with the records and notices packed and appended to pubs (records
 * first, then notices: the order of their sequence numbers). The rows
 * borrow from the plan, the streams table and pubs. */
typedef struct {
    jr_store_review_t *records;
    size_t n_records;
    jr_store_notice_t *notices;
    size_t n_notices;
    jr_store_schedule_t *due;
    size_t n_due;
    char (*topics)[64]; /* each notice's topic */
} jr_stored_out_t;

/* Packs what `plan` decided into *out and pubs. 0, or -1 when out of
 * memory (pubs then as it was). */
int jr_stored_pack(const jr_plan_t *plan, jr_publications_t *pubs, jr_stored_out_t *out);

/* Writes the packed rows: records with their outbox rows, notices with
 * theirs, then the due-check index; the groups of persons wanting a group
 * review that the index rows join or leave are added to `groups` (NULL:
 * not gathered). A store status. */
int jr_stored_write(jr_store_pg_t *store, const jr_stored_out_t *out, jr_groups_touched_t *groups);

void jr_stored_out_clear(jr_stored_out_t *out);

/* One record's consolidated_review row; it borrows record and the plan's
 * strings. */
jr_store_review_t jr_stored_review_row(const jr_plan_record_t *r, const uint8_t *record,
                                       size_t len);

/* One person's row of the due-check index; it borrows from *d and the
 * streams table. */
jr_store_schedule_t jr_stored_due_row(const jr_plan_due_t *d);

#endif
