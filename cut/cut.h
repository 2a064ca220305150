/* cut.h -- a consolidated review cut to what one reader may see.
 *
 * The rule is domain/share.h (DOMAIN.md, "What each funding stream
 * receives"): a scheduler sees the whole review; a funding stream sees the
 * statements of the topics of its minimum information (with Income and
 * benefits, and Information), the priorities of the areas those topics are
 * in, its own completeness, the support plan revision, the schedule and the
 * preferences (how the person wants their review, and the name to use); never another topic's
 * statements, and of an area's conflict only the views on its topics.
 *
 * This is the one place the rule is applied to the wire's record, for every
 * reader: joinedreview-web's pages and FHIR resources, joinedreview-export's
 * extracts, and the daemon's catch-up for a key with one stream's records
 * (jr_cut_pack). A cut is built once from the decoded record and is all
 * its reader reads: statements outside it are not in it to be shown by
 * mistake. It borrows from the record, which must outlive it.
 *
 * No I/O; the wire's types, so it lives beside them rather than in
 * domain/. */
#ifndef JR_CUT_H
#define JR_CUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "joinedreview/joinedreview.pb-c.h"
#include "share.h"
#include "streams.h"

typedef struct {
    unsigned number;                                /* 1..9 */
    const char *title;                              /* the record's, may be NULL */
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
    uint64_t sequence;
    const char *as_of, *held_on;
    bool ready_for_sign_off;
    const Joinedreview__V1__Schedule *schedule;          /* may be NULL */
    const Joinedreview__V1__PlanRevision *plan_revision; /* may be NULL */
    char *const *enrolled_streams;                       /* the record's */
    size_t n_enrolled_streams;
    const char *called;                                     /* the name to use; may be NULL */
    const Joinedreview__V1__ReviewPreferences *preferences; /* may be NULL */
    const Joinedreview__V1__Provenance *preferences_from;   /* may be NULL */
    /* The whole review only (NULL and 0 otherwise): budgets, and the place
     * a group review would be at (another stream's scheme, perhaps), are
     * not in a stream's minimum. */
    const char *group_key;
    Joinedreview__V1__StreamBudget *const *budgets;
    size_t n_budgets;
    /* Cut. */
    jr_cut_area_t areas[JR_AREA_COUNT];
    const Joinedreview__V1__StreamCompleteness **completeness; /* the scope's streams */
    size_t n_completeness;
    bool whole;
    char stream[JR_STREAM_CODE_MAX]; /* the scope's stream, unless whole */
    jr_topic_set_t topics;
} jr_cut_t;

/* Builds the cut of record under scope. 0, or -1 when out of memory. */
int jr_cut_build(jr_cut_t *cut, const Joinedreview__V1__ConsolidatedReview *record,
                 const jr_share_scope_t *scope);

/* What statement s says on one side of its area: its text for what is
 * working (working) or not working; "No change." for a "no change"
 * contribution's working side; NULL when it says nothing on that side.
 * Borrowed from s. */
const char *jr_cut_said(const Joinedreview__V1__Statement *s, bool working);

/* Frees what the cut allocated (not the record). */
void jr_cut_clear(jr_cut_t *cut);

/* The cut as a ConsolidatedReview of its own, packed: the areas outside the
 * cut carry their number and title only; the completeness is the scope's.
 * Built field by field from the cut (a whitelist), so a field added to the
 * record later reaches a cut reader only once it is added here. Caller owns
 * *out (free). 0, or -1 when out of memory. */
int jr_cut_pack(const jr_cut_t *cut, uint8_t **out, size_t *len);

#endif
