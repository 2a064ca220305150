/* batch.h -- writes a batch of envelopes in one transaction and rebuilds
 * consolidated reviews from the event log.
 *
 * A batch first reads what it needs with three batch-wide statements (which
 * keys are stored, the links of its identifiers, every named person's cycle)
 * plus the parked events its enrolments may release. It then decides each
 * envelope in memory, in arrival order: a duplicate (stream,
 * source_event_id) is acked DUPLICATE; identifiers are resolved to the person
 * (identity.h), or the event is parked; an enrolment adds its identity links
 * and releases the parked events they resolve; a review held closes the
 * person's cycle. Then it writes: the events with one binary COPY, each
 * stamped with the sequence number of the record that first reflects it; the
 * links; every (person, cycle) it touched merged afresh from its stored
 * events (merge.h), with its outbox row; the notice each touched person's
 * current cycle brings due, and their due-check rows. Input that failed to
 * decode is stored in rejected_event in the same transaction.
 *
 * The version of a cycle's record is the number of distinct publications
 * among that cycle's events, and its sequence number the latest of them, so
 * that --rebuild derives both from the log alone and reproduces every record
 * byte for byte. A record carries the person's schedule as of its own as_of
 * date for the same reason; the due-check index (table schedule) follows the
 * daemon's today.
 *
 * A failure rolls everything back: the sequence counter too. If the database
 * refused one envelope's data, the batch is replayed one envelope per
 * transaction so that only that envelope is rejected. */
#ifndef JR_BATCH_H
#define JR_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "schedule.h"
#include "store_pg.h"
#include "streams.h"

/* What every batch, rebuild and due check works with. */
typedef struct {
    const jr_streams_t *streams; /* borrowed */
    jr_schedule_rules_t rules;
    jr_day_t today; /* the daemon's today (--today, or the UTC date) */
} jr_batch_ctx_t;

typedef struct {
    /* in: the raw envelope (borrowed) and who sent it */
    const uint8_t *raw;
    size_t raw_len;
    const char *sender;
    /* in: the codec's verdict */
    int decoded;      /* 1: ev is valid; 0: why says what is wrong */
    jr_envelope_t ev; /* owned by the caller */
    jr_reject_t why;
    const char *stream; /* for the ack and the rejected row; may be NULL */
    const char *seid;
    /* out */
    jr_ack_status_t status;
    const char *code; /* static; NULL unless REJECTED / RETRY_LATER */
    char reason[320];
} jr_batch_item_t;

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

void jr_publications_clear(jr_publications_t *pubs);

/* Writes the batch. *last_seq is the last committed sequence number; it is
 * advanced only when the batch commits. Publications of the committed batch
 * are appended to pubs. Sets every item's status. Returns JR_STORE_OK, or
 * JR_STORE_RETRY when nothing could be committed (every item is then
 * RETRY_LATER and the caller should reconnect). */
int jr_batch_write(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_batch_item_t *items,
                   size_t n, uint64_t *last_seq, jr_publications_t *pubs);

/* Recomputes every consolidated review from the event log in one
 * transaction, rewriting those that differ. *records counts the records
 * computed, *differed those whose stored bytes were not identical. */
int jr_batch_rebuild(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, size_t *records,
                     size_t *differed);

/* One round of the due check: for up to 500 persons whose next check is on
 * or before today (read through an index, so the cost follows what is due),
 * sends the latest notice due by today unless that (person, cycle, key) was
 * decided before (the earlier ones it supersedes are not sent), records it
 * with its outbox row, and moves the person's next check to their next
 * notice date, in one transaction and a handful of statements. Publications
 * are appended to pubs; *sent counts them, *persons the persons settled;
 * *more says another round has work. Rounds are short so that the caller
 * can take input between them. */
int jr_batch_due_check(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, uint64_t *last_seq,
                       jr_publications_t *pubs, size_t *sent, size_t *persons, bool *more);

#endif
