/* rebuild.h -- every consolidated review recomputed from the event log
 * (joinedreviewd --rebuild), rewriting those that differ.
 *
 * The persons are read JR_REBUILD_PAGE at a time, in NHS-number order: their
 * events and stored records in one read each, each person recomputed by the
 * planner (jr_plan_rebuild(): every cycle's record with the version and
 * sequence the log gives it, and the person's due-check row), the records
 * that differ and the due rows written with one statement each, in one
 * transaction per page. Memory and each transaction follow a page, not the
 * caseload. A page is a function of the log alone, so a rebuild interrupted
 * between pages leaves each person either rebuilt or as they were, and
 * running it again finishes the work. It runs only while no daemon writes
 * (it holds the writer's lock). */
#ifndef JR_REBUILD_H
#define JR_REBUILD_H

#include <stddef.h>

#include "store_pg.h"
#include "stored.h"

enum { JR_REBUILD_PAGE = JR_STORED_PAGE }; /* persons per read */

/* *records counts the records computed, *differed those whose stored bytes
 * were not identical (each is logged). A store status. */
int jr_rebuild(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, size_t *records, size_t *differed);

#endif
