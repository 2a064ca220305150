/* cut.h -- what of a consolidated review an account may see.
 *
 * The rules are DOMAIN.md's "What each funding stream receives": a
 * scheduler sees the whole review; a stream officer sees, for persons
 * enrolled in their stream, the statements of the topics of its minimum
 * information (which always include Income and benefits, and Information),
 * the priorities of the areas those topics are in, the support plan
 * revision, the schedule and the preferences (how the person wants their
 * review, and the name to use); never another topic's statements, and of
 * an area's conflict only the views on those topics. Budgets, and the
 * place a group review would be at (another stream's scheme, perhaps),
 * are not in a stream's minimum: the whole review only.
 *
 * A cut is built once per page from the decoded record and is all the page
 * reads: statements outside it are not in it to be shown by mistake. It
 * borrows from the record, which must outlive it.
 *
 * Pure: no I/O. */
#ifndef JR_CUT_H
#define JR_CUT_H

#include <stdbool.h>
#include <stddef.h>

#include "format.h"
#include "joinedreview/joinedreview.pb-c.h"
#include "streams.h"

typedef struct {
    bool whole;                      /* everything (a scheduler) */
    char stream[JR_STREAM_CODE_MAX]; /* else: this stream's cut */
    jr_topic_set_t topics;           /* ... showing these topics */
} jr_cut_scope_t;

typedef struct {
    unsigned number;                                /* 1..9 */
    bool shown;                                     /* false: no topic of the area is in the cut */
    const Joinedreview__V1__Statement **statements; /* the shown ones, in the record's order */
    size_t n_statements;
    Joinedreview__V1__Priority priority;
    bool priority_from_person;
    bool conflict;
    const Joinedreview__V1__PriorityView **views; /* the shown views of the conflict */
    size_t n_views;
    bool views_withheld; /* some views were on topics outside the cut */
} jr_cut_area_t;

typedef struct {
    /* Shown to everyone who may see the person. */
    const char *nhs_number;
    unsigned cycle, version;
    const char *as_of, *held_on;
    bool ready_for_sign_off;
    const Joinedreview__V1__Schedule *schedule;          /* may be NULL */
    const Joinedreview__V1__PlanRevision *plan_revision; /* may be NULL */
    const char *called;                                  /* the name to use; may be NULL */
    const Joinedreview__V1__ReviewPreferences *preferences; /* may be NULL */
    const Joinedreview__V1__Provenance *preferences_from;   /* may be NULL */
    /* The whole review only (NULL and 0 otherwise). */
    const char *group_key;
    Joinedreview__V1__StreamBudget *const *budgets;
    size_t n_budgets;
    /* Cut. */
    jr_cut_area_t areas[JR_AREA_COUNT];
    const Joinedreview__V1__StreamCompleteness **completeness; /* the scope's streams */
    size_t n_completeness;
    bool whole;
    jr_topic_set_t topics;
} jr_cut_t;

/* A stream officer's scope: the stream's minimum information (and the
 * common minimum) from streams. -1 when the stream is unknown. */
int jr_cut_scope_stream(jr_cut_scope_t *scope, const jr_streams_t *streams, const char *code);

/* Everything. */
void jr_cut_scope_whole(jr_cut_scope_t *scope);

/* Builds the cut of record under scope. 0, or -1 when out of memory. */
int jr_cut_build(jr_cut_t *cut, const Joinedreview__V1__ConsolidatedReview *record,
                 const jr_cut_scope_t *scope);

/* Frees what the cut allocated (not the record). */
void jr_cut_clear(jr_cut_t *cut);

#endif
