/* batch.h -- a batch of envelopes written in one transaction: read -> plan
 * -> write.
 *
 * Read: with a handful of batch-wide statements, whatever the batch's size,
 * everything the batch's envelopes can need (stored.h): which of their keys
 * are stored, the links of their identifiers, the parked events their
 * enrolments may release (and those events' links), and every person all of
 * that names: their current cycles, stored events and decided notices.
 * Plan: every decision, made in memory by the pure planner (domain/plan.h,
 * where the batch's rules are written down). Write: one statement per kind
 * of row: refused input, new persons, the events (one binary COPY, sent
 * while the records are packed), released events, links, cycles moved on,
 * records and notices with their outbox rows, the due-check index.
 *
 * A failure rolls everything back: the sequence counter too. If the database
 * refused one envelope's data, the batch is replayed one envelope per
 * transaction so that only that envelope is rejected. */
#ifndef JR_BATCH_H
#define JR_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "store_pg.h"
#include "stored.h"

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
    char reason[JR_PLAN_REASON_MAX];
} jr_batch_item_t;

/* Writes the batch. *last_seq is the last committed sequence number; it is
 * advanced only when the batch commits. Publications of the committed batch
 * are appended to pubs. Sets every item's status. Returns JR_STORE_OK, or
 * JR_STORE_RETRY when nothing could be committed (every item is then
 * RETRY_LATER and the caller should reconnect). */
int jr_batch_write(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_batch_item_t *items,
                   size_t n, uint64_t *last_seq, jr_publications_t *pubs);

#endif
