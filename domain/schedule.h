/* schedule.h -- one person's review dates: each funding stream's next due date,
 * the joined-up review date, the streams it covers, the lead organisation, and
 * the due-date notices.
 *
 * The rules (DOMAIN.md, "Enrolments, review dates and the single review" and
 * "Due-date notices"):
 *
 * Enrolments
 *  - Input is a person's events in any order; only JR_EVENT_ENROLMENT and
 *    JR_EVENT_REVIEW_HELD are read. Enrolments of streams that are not in the
 *    table, or are disabled, or name no stream, are ignored.
 *  - For each stream the newest enrolment (jr_event_compare) is in force
 *    today, whether its start has come or not (a planned enrolment's first
 *    review is already known).
 *  - A stream is active on a day T unless its enrolment's ended_on is given
 *    and ended_on <= T.
 *
 * A stream's last review
 *  - last review = the later of the enrolment's last_review_on and the last
 *    joined-up review held that covered the stream, when that meeting was on
 *    or after the enrolment's start (a new enrolment after a review, a new
 *    plan or a new award, is a fresh start: SC gets its early first review).
 *  - Reviews held are replayed in the order they happened: by held_on, ties by
 *    jr_event_compare. Several records of a review held on the same day are
 *    one meeting (each funding stream may report it); a record without a
 *    held_on date is ignored. Every held review counts, whatever today is (it
 *    is for the ingest layer to refuse a held_on in the future).
 *  - At each meeting on day H the schedule is computed as of H, with the last
 *    reviews known so far and, for each stream, the newest of its enrolments
 *    that had started by H (so an award renewed later does not rewrite which
 *    streams an earlier meeting covered; a stream with no enrolment started by
 *    H was not part of it). Every stream that schedule covers gets last
 *    review H. A stream outside the window of the review date as of H keeps
 *    its own date, even when the meeting was held late: the daemon never
 *    assumes a stream was reviewed that the review did not list.
 *  - A later correction of an enrolment (a new interval, say) applies to the
 *    replayed meetings too: the schedule is a function of what is known now.
 *
 * A stream's next due date (interval = the enrolment's interval_days, or the
 * stream's when 0)
 *  - Award rule (before_award_end_days > 0, ATW): award end = the enrolment's
 *    award_ends_on, or started_on + default_award_days when not given; due =
 *    award end - before_award_end_days. When the last review is on or after
 *    that date, due = last review + interval when interval > 0, else there is
 *    no due date: the stream waits for a new enrolment with a new award end.
 *    With neither an award end nor a default award length the routine rules
 *    below apply (interval 0: no due date).
 *  - interval 0 and no award rule (DFG): the stream never drives a date
 *    (drives false). While active it is covered by every joined-up review,
 *    because its minimum information is required then; it is not covered when
 *    there is no review date (it is the person's only stream, say).
 *  - Otherwise with a last review: last review + interval.
 *  - Otherwise (never reviewed): started_on + first_review_days when the
 *    stream sets an early first review that is sooner than the interval (SC:
 *    56), else started_on + interval.
 *  - An enrolment with neither a start date nor a last review has no due date.
 *  - A driving stream with no due date (ATW waiting for its new award) is not
 *    covered: it has been reviewed for this award already.
 *
 * The joined-up review
 *  - review_on = the earliest due date among active streams that have one;
 *    JR_DAY_NONE when none has.
 *  - Covered: every active stream with due <= review_on + window (a stream due
 *    exactly window days after is in, window + 1 is out), and every active
 *    non-driving stream, when there is a review date. Alignment only brings
 *    a review forward: review_on <= due for every covered stream.
 *  - Lead organisation: the covered stream with the lowest nonzero lead_rank
 *    (0 ranks after every nonzero rank); ties by code. NULL when nothing is
 *    covered.
 *
 * Notices, for the review date D
 *  - One per distinct nonzero lead time L: JR_NOTICE_LEAD, number L, on D - L
 *    (key "lead-L"); JR_NOTICE_DUE on D ("due"); JR_NOTICE_OVERDUE number k
 *    (k = 1, 2, ...) on D + 1 + 7 * (k - 1) ("overdue-k"). A lead time of 0
 *    is ignored (the due notice is that day); duplicates count once.
 *  - Notices due by today (date <= today) are listed in date order. Every one
 *    but the latest is marked superseded: a daemon that catches up after
 *    downtime sends only the latest (the shortest lead, or the due notice, or
 *    the latest overdue one) and skips the others. A daemon that checks on
 *    each notice's date sends every notice, since each is the latest on its
 *    own day.
 *  - The key is stable for (person, cycle): the daemon records it to publish
 *    each notice exactly once.
 *
 * Dates are days since 1970-01-01 (text.h); arithmetic saturates instead of
 * overflowing, so absurd configured intervals give far dates, not wrong ones.
 * The result is a deterministic function of the *set* of input events, the
 * streams table, the rules and today.
 *
 * Pure: no I/O, no clock (today is an argument). */
#ifndef JR_SCHEDULE_H
#define JR_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"
#include "streams.h"
#include "text.h"

#define JR_SCHEDULE_LEADS_MAX      8
#define JR_SCHEDULE_WINDOW_DEFAULT 90
#define JR_GROUP_WINDOW_DEFAULT    28
#define JR_GROUP_MAX_DEFAULT       8
#define JR_NOTICE_KEY_MAX          24 /* "overdue-" + up to 10 digits + NUL fits */

typedef struct {
    unsigned window_days;                      /* alignment window after the review date */
    unsigned lead_days[JR_SCHEDULE_LEADS_MAX]; /* notice lead times, any order */
    size_t n_leads;                            /* <= JR_SCHEDULE_LEADS_MAX; more are ignored */
    /* Group reviews (group.h) are formed from review dates and published
     * with the first notice of their date, so their rules ride here. */
    unsigned group_window_days; /* members' dates within this of the earliest */
    unsigned group_max;         /* most members of one suggested group (at least 2) */
} jr_schedule_rules_t;

typedef struct {
    const jr_stream_t *stream;   /* borrowed from the streams table */
    const jr_event_t *enrolment; /* borrowed from the input: the enrolment in force */
    jr_day_t due;                /* JR_DAY_NONE: no due date */
    jr_day_t last_review;        /* JR_DAY_NONE: never reviewed */
    bool drives;                 /* the stream's rule sets dates (false: DFG) */
    bool covered;                /* reviewed at the joined-up review */
} jr_stream_due_t;

typedef struct {
    jr_stream_due_t *streams; /* owned; the active streams in code order */
    size_t n_streams;
    jr_day_t review_on;      /* the joined-up review date; JR_DAY_NONE when none */
    const jr_stream_t *lead; /* borrowed; NULL when nothing is covered */
} jr_schedule_t;

typedef enum {
    JR_NOTICE_LEAD = 1,
    JR_NOTICE_DUE = 2,
    JR_NOTICE_OVERDUE = 3,
} jr_notice_kind_t;

typedef struct {
    jr_notice_kind_t kind;
    unsigned number; /* LEAD: days before; OVERDUE: 1, 2, ...; DUE: 0 */
    jr_day_t on;
    bool superseded;             /* a later notice is also due: it is not sent */
    char key[JR_NOTICE_KEY_MAX]; /* "lead-56", "due", "overdue-2" */
} jr_notice_t;

/* Window 90 days; leads 56, 28 and 7 days; groups within 28 days, of at
 * most 8. */
void jr_schedule_rules_default(jr_schedule_rules_t *rules);

/* The schedule as of today. events may be NULL when n is 0; rules NULL means
 * the defaults. Caller owns the result (jr_schedule_destroy); it borrows from
 * `events` and `streams`, which must outlive it (a jr_streams_put invalidates
 * it). NULL only when out of memory. */
jr_schedule_t *jr_schedule_compute(const jr_event_t *events, size_t n, const jr_streams_t *streams,
                                   const jr_schedule_rules_t *rules, jr_day_t today);

/* The schedule as the review held on held_on found it: the meetings held
 * before that day replayed, and for each stream the newest enrolment that
 * had started by then (as at a replayed meeting, above), evaluated on
 * held_on. Its covered streams are those the meeting reviewed, each with
 * its own due date before it. Same ownership as jr_schedule_compute. */
jr_schedule_t *jr_schedule_at_meeting(const jr_event_t *events, size_t n,
                                      const jr_streams_t *streams,
                                      const jr_schedule_rules_t *rules, jr_day_t held_on);

void jr_schedule_destroy(jr_schedule_t **self_p);

/* The entry for a stream code; NULL when the stream is not active. Borrowed. */
const jr_stream_due_t *jr_schedule_find(const jr_schedule_t *self, const char *code);

/* The notices for the review date that are due by today, in date order.
 * Writes the first min(count, max) to out and returns the count (like
 * snprintf): call with max 0 to size `out`. 0 when there is no review date.
 * rules NULL means the defaults. */
size_t jr_schedule_notices_due(const jr_schedule_t *self, const jr_schedule_rules_t *rules,
                               jr_day_t today, jr_notice_t *out, size_t max);

/* The latest notice due by today: the one to send, since it supersedes
 * every earlier one. false when none is due. rules NULL means the defaults. */
bool jr_schedule_latest_notice(const jr_schedule_t *self, const jr_schedule_rules_t *rules,
                               jr_day_t today, jr_notice_t *out);

/* The date of the first notice of a review date: the longest lead time
 * before it (the due date itself with no lead times). JR_DAY_NONE for
 * JR_DAY_NONE. */
jr_day_t jr_schedule_first_notice_on(jr_day_t review_on, const jr_schedule_rules_t *rules);

/* The date of the first notice strictly after today, for the index of "next
 * check" dates; JR_DAY_NONE when there is no review date. */
jr_day_t jr_schedule_next_notice_on(const jr_schedule_t *self, const jr_schedule_rules_t *rules,
                                    jr_day_t today);

/* Who may say the joined-up review was held (DOMAIN.md, "Who may say a
 * review was held"), for a review held reported by `stream` on held_on:
 *  - the stream must have the person enrolled on held_on: its newest
 *    enrolment started by then (as at a replayed meeting, above) has not
 *    ended by then (ended_on <= held_on counts as ended, as everywhere);
 *  - held_on may not be after today;
 *  - held_on may not be before the day the current cycle opened: the latest
 *    held_on among the reviews held in `events` (each closed a cycle).
 * `events` are the person's stored enrolments and reviews held (any order;
 * other kinds are ignored). Checked in that order; *opened receives the day
 * the cycle opened (JR_DAY_NONE for the first cycle). */
typedef enum {
    JR_HELD_OK = 0,
    JR_HELD_NOT_ENROLLED = 1,
    JR_HELD_IN_FUTURE = 2,
    JR_HELD_BEFORE_CYCLE = 3,
} jr_held_verdict_t;

jr_held_verdict_t jr_schedule_check_held(const jr_event_t *events, size_t n,
                                         const jr_streams_t *streams, const char *stream,
                                         jr_day_t held_on, jr_day_t today, jr_day_t *opened);

#endif
