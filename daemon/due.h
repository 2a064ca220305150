/* due.h -- the due check: the due-date notices today brings, for persons no
 * batch has touched.
 *
 * A round is read -> plan -> write in one transaction: up to DUE_ROUND
 * persons whose next check is on or before today (read through an index, so
 * the cost follows what is due, not the size of the caseload), their events
 * in one read and the notices they have decided in another; the planner
 * (jr_plan_due()) settles each: the latest notice due by today unless that
 * (person, cycle, key) was decided before (the earlier ones it supersedes
 * are not sent), and the person's next check, on their next notice date.
 * Rounds are short so that the caller can take input between them.
 *
 * A pass is the rounds from the first key of the index (schedule_due:
 * next check, NHS number) until a round finds fewer persons than it takes.
 * Each round reads on from the key of the last person the one before it
 * handed out (jr_due_pass_t, kept by the caller in memory), not from the
 * first key: settled persons leave the range (their next check moves past
 * today), but their old index entries stay until vacuum, and a read from
 * the first key walked every one of them again, round after round.
 *
 * Why resetting at the start of each pass is enough to settle everyone:
 * due.c. */
#ifndef JR_DUE_H
#define JR_DUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_pg.h"
#include "stored.h"

enum { JR_DUE_ROUND = JR_STORED_PAGE }; /* persons per round */

/* Where the pass under way has got to. */
typedef struct {
    jr_day_t today;           /* the pass's day; JR_DAY_NONE: no pass under way */
    jr_store_due_key_t after; /* the key of the last person handed out */
} jr_due_pass_t;

/* No pass under way: the next round starts one from the first key. */
void jr_due_pass_reset(jr_due_pass_t *pass);

/* One round of the pass (a new pass when none is under way or today is not
 * its day). Publications are appended to pubs and *last_seq advanced when
 * it commits; *sent counts the notices, *persons the persons settled; *more
 * says the pass goes on (the round was full). The pass ends when *more is
 * false or the round failed. A store status. */
int jr_due_check(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, jr_due_pass_t *pass,
                 uint64_t *last_seq, jr_publications_t *pubs, size_t *sent, size_t *persons,
                 bool *more);

#endif
