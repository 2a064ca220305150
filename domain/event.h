/* event.h -- the domain's view of one stored event.
 *
 * The codec turns a validated wire Envelope into a jr_event_t; the merge reads
 * arrays of them. Strings are borrowed from whoever owns the decoded envelope
 * (the codec's jr_codec_event_t) and must outlive every use.
 *
 * Pure: types only. */
#ifndef JR_EVENT_H
#define JR_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "format.h"
#include "text.h"
#include "way.h"

typedef enum {
    JR_EVENT_ENROLMENT = 1,
    JR_EVENT_CONTRIBUTION = 2,
    JR_EVENT_REVIEW_HELD = 3,
    JR_EVENT_PLAN_REVISION = 4,
    JR_EVENT_PREFERENCES = 5,
    JR_EVENT_BUDGET = 6,
} jr_event_kind_t;

typedef struct {
    jr_topic_t topic;
    jr_role_t role;
    const char *working;     /* NULL when not given */
    const char *not_working; /* NULL when not given */
    const char *author_name; /* NULL when not given */
    jr_priority_t priority;
    bool no_change;
} jr_contribution_t;

typedef struct {
    jr_day_t started_on;
    jr_day_t ended_on;       /* JR_DAY_NONE: still in force */
    jr_day_t last_review_on; /* JR_DAY_NONE: never reviewed */
    jr_day_t award_ends_on;  /* JR_DAY_NONE: not given */
    unsigned interval_days;  /* 0: the stream's default */
    const char *reference;   /* NULL when not given */
    const char *known_as;    /* the name the stream knows the person by; NULL when not given */
    const char *group_key;   /* the scheme, service or place; NULL when not given */
} jr_enrolment_t;

typedef struct {
    jr_day_t held_on;
} jr_review_held_t;

typedef struct {
    jr_day_t revise_by;     /* JR_DAY_NONE when not given */
    const char *revised_by; /* NULL when not given */
    bool has_approval_needed;
    bool approval_needed;
    const char *approver; /* NULL when not given */
} jr_plan_revision_t;

/* How the person wants their review (way.h): the whole of it, each time. */
typedef struct {
    jr_way_t way;
    const char *where; /* NULL when not given */
    const char *involve[JR_INVOLVE_MAX];
    size_t n_involve;
    jr_need_set_t needs;
    const char *language; /* with JR_NEED_OTHER_LANGUAGE; NULL when not given */
    const char *called;   /* the name they want to be called; NULL when not given */
} jr_preferences_t;

/* A stream's budget for the person over one period, in whole pence. */
typedef struct {
    jr_day_t period_start;
    jr_day_t period_end;
    int64_t allocated_pence; /* >= 0 */
    int64_t spent_pence;     /* >= 0 */
} jr_budget_t;

typedef struct {
    const char *stream;          /* funding stream code */
    const char *source_event_id; /* unique within the stream */
    int64_t occurred_at_ms;      /* UTC */
    jr_event_kind_t kind;
    union {
        jr_contribution_t contribution;
        jr_enrolment_t enrolment;
        jr_review_held_t review_held;
        jr_plan_revision_t plan_revision;
        jr_preferences_t preferences;
        jr_budget_t budget;
    } u;
} jr_event_t;

/* Total order used wherever "newest" is decided: occurred_at, then stream,
 * then source_event_id (so ties never depend on arrival). <0, 0, >0. */
int jr_event_compare(const jr_event_t *a, const jr_event_t *b);

#endif
