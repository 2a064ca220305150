/* groups.h -- suggested group reviews at the edge: after a batch or a round
 * of the due check has written its persons' due-check rows, the groups
 * those rows join or leave (by lead organisation and group key) are read
 * -> planned -> written in the same transaction.
 *
 * Read: every person who wants a group review under each touched (lead,
 * group key), through the index of those who do, with the name to use and
 * the needs of their current record; and the current suggestions of each.
 * Plan: the pure rules of domain/group.h (forming, publishing with the
 * first notice of the date, replacing, withdrawing). Write: each new
 * suggestion (or withdrawal) with its outbox row, under "group.<lead>",
 * taking the next sequence numbers after the write's records and notices,
 * with one statement. Publications go to identifiable subscribers only
 * (pseudonym.h has no copy of them). */
#ifndef JR_GROUPS_H
#define JR_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "store_pg.h"
#include "stored.h"
#include "strmap.h"

/* The (lead, group key) pairs a write touched, each once. Zeroed is empty. */
struct jr_groups_touched {
    jr_strmap_t index;    /* "lead\x1fkey" -> position */
    char **leads, **keys; /* owned */
    size_t n, cap;
    int failed; /* out of memory: the write is to be retried */
};

/* Adds (lead, key) unless there. */
void jr_groups_touch(jr_groups_touched_t *t, const char *lead, const char *key);

void jr_groups_touched_clear(jr_groups_touched_t *t);

/* Settles every touched group as of ctx->today: publications appended to
 * pubs with sequence numbers after *last_seq, which moves on; *published
 * says how many. Inside the caller's transaction. A store status. */
int jr_groups_settle(jr_store_pg_t *store, const jr_batch_ctx_t *ctx,
                     const jr_groups_touched_t *touched, uint64_t *last_seq,
                     jr_publications_t *pubs, size_t *published);

#endif
