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
 * Rounds are short so that the caller can take input between them. */
#ifndef JR_DUE_H
#define JR_DUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_pg.h"
#include "stored.h"

enum { JR_DUE_ROUND = JR_STORED_PAGE }; /* persons per round */

/* One round. Publications are appended to pubs and *last_seq advanced when
 * it commits; *sent counts the notices, *persons the persons settled; *more
 * says another round has work. A store status. */
int jr_due_check(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, uint64_t *last_seq,
                 jr_publications_t *pubs, size_t *sent, size_t *persons, bool *more);

#endif
