/* merge.h -- merges a person's events of one cycle into the consolidated
 * eight-area review.
 *
 * The rules (DOMAIN.md, "Merging contributions"):
 *  - Within the cycle, for each (stream, author role, topic) only the newest
 *    contribution counts, "newest" by jr_event_compare (occurred_at, never
 *    arrival). Older ones stay in the event log but do not show.
 *  - Each area lists its current statements grouped by topic (topic order),
 *    then by stream code, then by role.
 *  - The area's priority is the person's own where they gave one (if the
 *    person gave several in the area, the newest); otherwise the highest any
 *    contributor gave (red > amber > green); NOT_GIVEN when nobody gave one.
 *  - Conflict: among the current statements of the area that give a
 *    priority, red and green both occur, or the person's priority differs
 *    from another contributor's. A conflicting area lists every priority
 *    given (who said what), in statement order.
 *  - Enrolled streams: for each stream, the newest enrolment (by
 *    jr_event_compare) is in force unless its ended_on is on or before the
 *    record's as_of date. Streams unknown to the table or disabled are
 *    ignored.
 *  - Completeness: one entry per enrolled stream, in code order.
 *    ready_for_sign_off: at least one enrolled stream, and none missing
 *    anything.
 *  - The plan revision shown is the newest in the cycle.
 *  - as_of: the day of the newest occurred_at among all input events.
 *  - Preferences (how the person wants their review) are kept across
 *    cycles: the newest (jr_event_compare) up to this cycle is the
 *    person's, whole.
 *  - Budgets: for each known, enabled stream that sent a budget statement
 *    up to this cycle, its latest period: the latest period_start, and for
 *    the same start the newest statement (a correction). Underspend is
 *    allocated minus spent (negative: an overspend); the rule is the
 *    stream's. In code order.
 *  - called, the name to use: the preferences' own name, else the
 *    known_as of the enrolled stream that ranks first as lead organisation
 *    (lead_rank) among those that give one.
 *  - group_key: only when the preferences' way is "with others": the
 *    group key of the enrolled stream that ranks first as lead among those
 *    that give one (NULL when none does).
 *
 * The result is a deterministic function of the *set* of input events: the
 * order of the input arrays does not matter.
 *
 * Pure: no I/O. */
#ifndef JR_MERGE_H
#define JR_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "streams.h"

typedef struct {
    const jr_event_t
        *cycle_events; /* contributions, plan revisions, review held: this cycle only */
    size_t n_cycle_events;
    const jr_event_t *enrolments; /* every enrolment of the person up to this cycle */
    size_t n_enrolments;
    /* every preferences and budget statement of the person up to this cycle */
    const jr_event_t *kept;
    size_t n_kept;
} jr_merge_input_t;

typedef struct {
    const jr_event_t *event; /* borrowed from the input: a JR_EVENT_CONTRIBUTION */
} jr_statement_t;

typedef struct {
    const char *stream; /* borrowed */
    jr_role_t role;
    jr_topic_t topic;
    jr_priority_t priority;
} jr_priority_view_t;

typedef struct {
    int number;                 /* 1..9 */
    jr_statement_t *statements; /* owned by the review */
    size_t n_statements;
    jr_priority_t priority;
    bool priority_from_person;
    bool conflict;
    jr_priority_view_t *views; /* owned; only when conflict */
    size_t n_views;
} jr_area_t;

typedef struct {
    const jr_stream_t *stream;   /* borrowed from the streams table */
    const jr_event_t *enrolment; /* borrowed: the enrolment in force */
    jr_topic_set_t covered;      /* required topics covered */
    jr_topic_set_t missing;      /* required topics missing */
} jr_stream_status_t;

typedef struct {
    const jr_stream_t *stream;   /* borrowed from the streams table */
    const jr_event_t *statement; /* borrowed: the JR_EVENT_BUDGET of the latest period */
    int64_t underspend_pence;    /* allocated minus spent; negative: an overspend */
} jr_budget_line_t;

typedef struct {
    jr_area_t areas[JR_AREA_COUNT]; /* areas[0] is area 1 */
    jr_topic_set_t covered;         /* every topic with a current contribution */
    jr_stream_status_t *streams;    /* owned; enrolled streams in code order */
    size_t n_streams;
    bool ready_for_sign_off;
    const jr_event_t *plan_revision; /* borrowed; NULL when none */
    const jr_event_t *review_held;   /* borrowed; NULL while the cycle is open */
    jr_day_t as_of;                  /* JR_DAY_NONE when there were no events */
    const jr_event_t *preferences;   /* borrowed: the newest JR_EVENT_PREFERENCES; NULL: none */
    jr_budget_line_t *budgets;       /* owned; one per stream with a statement, in code order */
    size_t n_budgets;
    const char *called;    /* borrowed; NULL when nobody gave a name */
    const char *group_key; /* borrowed; NULL unless the person wants a group review and has one */
} jr_review_t;

/* Caller owns the result (jr_merge_destroy); it borrows from `in` and
 * `streams`, which must outlive it. NULL only when out of memory. */
jr_review_t *jr_merge_review(const jr_merge_input_t *in, const jr_streams_t *streams);

void jr_merge_destroy(jr_review_t **self_p);

#endif
