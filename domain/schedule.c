/* schedule.c -- due dates, the joined-up review date and its notices.
 *
 * One slot per enrolled stream, in the table's code order, holding that
 * stream's enrolments; past meetings are replayed in date order over the
 * slots, then the schedule is worked out as of today. Every choice uses total
 * orders, so the result depends on the set of events and never on the order
 * they arrived in. */
#include "schedule.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const jr_stream_t *row;
    const jr_event_t *const *enrolments; /* the stream's, oldest first (jr_event_compare) */
    size_t n_enrolments;
    jr_day_t held; /* the last meeting that covered the stream */
} slot_t;

/* One slot as of one day, with one of its enrolments. */
typedef struct {
    bool active;
    bool drives;
    bool covered;
    jr_day_t due;
    jr_day_t last_review;
} view_t;

/* malloc(0) may return NULL, which must not read as "out of memory". */
static void *alloc_array(size_t n, size_t size)
{
    return calloc(n > 0 ? n : 1, size);
}

/* day + n, saturating short of JR_DAY_NONE and at INT32_MAX. */
static jr_day_t add_days(jr_day_t day, int64_t n)
{
    int64_t r = (int64_t)day + n;
    if (r > INT32_MAX)
        return INT32_MAX;
    if (r <= (int64_t)JR_DAY_NONE)
        return JR_DAY_NONE + 1;
    return (jr_day_t)r;
}

/* JR_DAY_NONE is the smallest day, so "no date" loses to any date. */
static jr_day_t later(jr_day_t a, jr_day_t b)
{
    return a > b ? a : b;
}

static const jr_schedule_rules_t *rules_or_default(const jr_schedule_rules_t *rules,
                                                   jr_schedule_rules_t *storage)
{
    if (rules != NULL)
        return rules;
    jr_schedule_rules_default(storage);
    return storage;
}

void jr_schedule_rules_default(jr_schedule_rules_t *rules)
{
    *rules = (jr_schedule_rules_t){
        .window_days = JR_SCHEDULE_WINDOW_DEFAULT,
        .lead_days = {56, 28, 7},
        .n_leads = 3,
        .group_window_days = JR_GROUP_WINDOW_DEFAULT,
        .group_max = JR_GROUP_MAX_DEFAULT,
    };
}

/* The stream's next due date given its last review. Returns whether the
 * stream's rule sets dates at all (false: DFG). */
static bool due_of(const jr_stream_t *row, const jr_enrolment_t *e, jr_day_t last, jr_day_t *due)
{
    unsigned interval = e->interval_days != 0 ? e->interval_days : row->interval_days;
    *due = JR_DAY_NONE;

    if (row->before_award_end_days > 0) {
        jr_day_t end = e->award_ends_on;
        if (end == JR_DAY_NONE && row->default_award_days > 0 && e->started_on != JR_DAY_NONE)
            end = add_days(e->started_on, row->default_award_days);
        if (end != JR_DAY_NONE) {
            jr_day_t renewal = add_days(end, -(int64_t)row->before_award_end_days);
            if (last < renewal)
                *due = renewal;
            else if (interval > 0)
                *due = add_days(last, interval);
            return true; /* *due NONE: waits for a new award */
        }
        /* No award end known: the routine rules. */
    } else if (interval == 0) {
        return false;
    }

    if (interval == 0)
        return true;
    if (last != JR_DAY_NONE) {
        *due = add_days(last, interval);
    } else if (e->started_on != JR_DAY_NONE) {
        unsigned first = row->first_review_days;
        *due = add_days(e->started_on, first > 0 && first < interval ? first : interval);
    }
    return true;
}

/* Every slot as of `day`, each with the enrolment chosen for that day (NULL:
 * not part of it); returns the review date. */
static jr_day_t evaluate(const slot_t *slots, const jr_event_t *const *chosen, size_t n,
                         jr_day_t day, unsigned window, view_t *views)
{
    jr_day_t review_on = JR_DAY_NONE;
    for (size_t i = 0; i < n; i++) {
        view_t *v = &views[i];
        *v = (view_t){.due = JR_DAY_NONE, .last_review = JR_DAY_NONE};
        if (chosen[i] == NULL)
            continue;
        const jr_enrolment_t *e = &chosen[i]->u.enrolment;
        v->active = e->ended_on == JR_DAY_NONE || e->ended_on > day;
        /* A meeting before this enrolment started did not review it. */
        jr_day_t held = slots[i].held;
        if (e->started_on != JR_DAY_NONE && held < e->started_on)
            held = JR_DAY_NONE;
        v->last_review = later(e->last_review_on, held);
        v->drives = due_of(slots[i].row, e, v->last_review, &v->due);
        if (v->active && v->due != JR_DAY_NONE && (review_on == JR_DAY_NONE || v->due < review_on))
            review_on = v->due;
    }
    if (review_on == JR_DAY_NONE)
        return review_on;

    jr_day_t edge = add_days(review_on, window);
    for (size_t i = 0; i < n; i++) {
        view_t *v = &views[i];
        if (v->active)
            v->covered = v->drives ? v->due != JR_DAY_NONE && v->due <= edge : true;
    }
    return review_on;
}

/* Meetings in the order they happened: held_on, then the event order. */
static int compare_held(const void *pa, const void *pb)
{
    const jr_event_t *a = *(const jr_event_t *const *)pa;
    const jr_event_t *b = *(const jr_event_t *const *)pb;
    if (a->u.review_held.held_on != b->u.review_held.held_on)
        return a->u.review_held.held_on < b->u.review_held.held_on ? -1 : 1;
    return jr_event_compare(a, b);
}

static int compare_text(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

/* Stream code (the table's order), then the oldest first. */
static int compare_enrolment(const void *pa, const void *pb)
{
    const jr_event_t *a = *(const jr_event_t *const *)pa;
    const jr_event_t *b = *(const jr_event_t *const *)pb;
    int c = compare_text(a->stream, b->stream);
    return c != 0 ? c : jr_event_compare(a, b);
}

/* One slot per known, enabled stream with an enrolment, in code order.
 * `sorted` holds the enrolments, sorted; the slots borrow runs of it. */
static size_t collect_slots(const jr_event_t *events, size_t n, const jr_streams_t *streams,
                            const jr_event_t **sorted, slot_t slots[JR_STREAMS_MAX])
{
    size_t n_sorted = 0;
    for (size_t i = 0; i < n; i++) {
        const jr_event_t *ev = &events[i];
        if (ev->kind != JR_EVENT_ENROLMENT || ev->stream == NULL)
            continue;
        const jr_stream_t *row = jr_streams_find(streams, ev->stream);
        if (row != NULL && row->enabled)
            sorted[n_sorted++] = ev;
    }
    qsort(sorted, n_sorted, sizeof *sorted, compare_enrolment);

    size_t n_slots = 0;
    for (size_t i = 0; i < n_sorted; i++) {
        if (i > 0 && strcmp(sorted[i]->stream, sorted[i - 1]->stream) == 0) {
            slots[n_slots - 1].n_enrolments++;
            continue;
        }
        slots[n_slots++] = (slot_t){.row = jr_streams_find(streams, sorted[i]->stream),
                                    .enrolments = &sorted[i],
                                    .n_enrolments = 1,
                                    .held = JR_DAY_NONE};
    }
    return n_slots;
}

/* The enrolment in force at a meeting on `day`: the newest of those that had
 * started by then. NULL when none had. */
static const jr_event_t *started_by(const slot_t *slot, jr_day_t day)
{
    for (size_t k = slot->n_enrolments; k > 0; k--) {
        const jr_event_t *ev = slot->enrolments[k - 1];
        if (ev->u.enrolment.started_on == JR_DAY_NONE || ev->u.enrolment.started_on <= day)
            return ev;
    }
    return NULL;
}

/* Replays the meetings held before `before` in date order: each sets the
 * last review of the streams it covered. */
static int replay_meetings(const jr_event_t *events, size_t n, slot_t *slots, size_t n_slots,
                           unsigned window, jr_day_t before)
{
    const jr_event_t **held = alloc_array(n, sizeof *held);
    if (held == NULL)
        return -1;
    size_t n_held = 0;
    for (size_t i = 0; i < n; i++)
        if (events[i].kind == JR_EVENT_REVIEW_HELD &&
            events[i].u.review_held.held_on != JR_DAY_NONE &&
            events[i].u.review_held.held_on < before)
            held[n_held++] = &events[i];
    qsort(held, n_held, sizeof *held, compare_held);

    const jr_event_t *chosen[JR_STREAMS_MAX] = {0};
    view_t views[JR_STREAMS_MAX];
    for (size_t h = 0; h < n_held; h++) {
        jr_day_t on = held[h]->u.review_held.held_on;
        if (h > 0 && held[h - 1]->u.review_held.held_on == on)
            continue; /* the same meeting, reported again */
        for (size_t i = 0; i < n_slots; i++)
            chosen[i] = started_by(&slots[i], on);
        evaluate(slots, chosen, n_slots, on, window, views);
        for (size_t i = 0; i < n_slots; i++)
            if (views[i].covered)
                slots[i].held = on;
    }
    free(held);
    return 0;
}

/* Lower nonzero rank leads; 0 ranks last. */
static bool leads_before(const jr_stream_t *a, const jr_stream_t *b)
{
    if (a->lead_rank == 0)
        return false;
    return b->lead_rank == 0 || a->lead_rank < b->lead_rank;
}

/* The schedule as of `day`. With `meeting`, as the meeting held that day
 * found it: only meetings before it replayed, and each stream's newest
 * enrolment started by then. */
static jr_schedule_t *compute(const jr_event_t *events, size_t n, const jr_streams_t *streams,
                              const jr_schedule_rules_t *rules, jr_day_t day, bool meeting)
{
    jr_schedule_rules_t storage;
    rules = rules_or_default(rules, &storage);
    if (events == NULL)
        n = 0;

    const jr_event_t **sorted = NULL;
    jr_schedule_t *self = calloc(1, sizeof *self);
    if (self == NULL)
        return NULL;
    self->review_on = JR_DAY_NONE;

    sorted = alloc_array(n, sizeof *sorted);
    if (sorted == NULL)
        goto fail;
    slot_t slots[JR_STREAMS_MAX];
    size_t n_slots = collect_slots(events, n, streams, sorted, slots);
    if (replay_meetings(events, n, slots, n_slots, rules->window_days,
                        meeting ? day : INT32_MAX) < 0)
        goto fail;

    /* Today: the newest enrolment of each stream, started or not. */
    const jr_event_t *chosen[JR_STREAMS_MAX] = {0};
    for (size_t i = 0; i < n_slots; i++)
        chosen[i] = meeting ? started_by(&slots[i], day)
                            : slots[i].enrolments[slots[i].n_enrolments - 1];
    view_t views[JR_STREAMS_MAX];
    self->review_on = evaluate(slots, chosen, n_slots, day, rules->window_days, views);

    self->streams = alloc_array(n_slots, sizeof *self->streams);
    if (self->streams == NULL)
        goto fail;
    for (size_t i = 0; i < n_slots; i++) {
        if (chosen[i] == NULL || !views[i].active)
            continue;
        self->streams[self->n_streams++] = (jr_stream_due_t){
            .stream = slots[i].row,
            .enrolment = chosen[i],
            .due = views[i].due,
            .last_review = views[i].last_review,
            .drives = views[i].drives,
            .covered = views[i].covered,
        };
        if (views[i].covered && (self->lead == NULL || leads_before(slots[i].row, self->lead)))
            self->lead = slots[i].row;
    }
    free(sorted);
    return self;

fail:
    free(sorted);
    jr_schedule_destroy(&self);
    return NULL;
}

jr_schedule_t *jr_schedule_compute(const jr_event_t *events, size_t n, const jr_streams_t *streams,
                                   const jr_schedule_rules_t *rules, jr_day_t today)
{
    return compute(events, n, streams, rules, today, false);
}

jr_schedule_t *jr_schedule_at_meeting(const jr_event_t *events, size_t n,
                                      const jr_streams_t *streams,
                                      const jr_schedule_rules_t *rules, jr_day_t held_on)
{
    return compute(events, n, streams, rules, held_on, true);
}

void jr_schedule_destroy(jr_schedule_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->streams);
    free(*self_p);
    *self_p = NULL;
}

const jr_stream_due_t *jr_schedule_find(const jr_schedule_t *self, const char *code)
{
    if (self == NULL || code == NULL)
        return NULL;
    for (size_t i = 0; i < self->n_streams; i++)
        if (strcmp(self->streams[i].stream->code, code) == 0)
            return &self->streams[i];
    return NULL;
}

static int compare_lead_desc(const void *pa, const void *pb)
{
    unsigned a = *(const unsigned *)pa, b = *(const unsigned *)pb;
    return (a < b) - (a > b);
}

/* The distinct nonzero lead times, longest first (so in date order). */
static size_t lead_times(const jr_schedule_rules_t *rules, unsigned out[JR_SCHEDULE_LEADS_MAX])
{
    size_t n = rules->n_leads < JR_SCHEDULE_LEADS_MAX ? rules->n_leads : JR_SCHEDULE_LEADS_MAX;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (rules->lead_days[i] > 0)
            out[k++] = rules->lead_days[i];
    qsort(out, k, sizeof *out, compare_lead_desc);
    size_t distinct = 0;
    for (size_t i = 0; i < k; i++)
        if (distinct == 0 || out[distinct - 1] != out[i])
            out[distinct++] = out[i];
    return distinct;
}

static jr_day_t overdue_on(jr_day_t review_on, int64_t k)
{
    return add_days(review_on, 1 + 7 * (k - 1));
}

/* The i-th notice of the review date (0-based, date order). */
static jr_notice_t notice_at(jr_day_t review_on, const unsigned *leads, size_t n_leads, size_t i)
{
    jr_notice_t nt = {0};
    if (i < n_leads) {
        nt.kind = JR_NOTICE_LEAD;
        nt.number = leads[i];
        nt.on = add_days(review_on, -(int64_t)leads[i]);
        snprintf(nt.key, sizeof nt.key, "lead-%u", nt.number);
    } else if (i == n_leads) {
        nt.kind = JR_NOTICE_DUE;
        nt.on = review_on;
        snprintf(nt.key, sizeof nt.key, "due");
    } else {
        nt.kind = JR_NOTICE_OVERDUE;
        nt.number = (unsigned)(i - n_leads);
        nt.on = overdue_on(review_on, nt.number);
        snprintf(nt.key, sizeof nt.key, "overdue-%u", nt.number);
    }
    return nt;
}

size_t jr_schedule_notices_due(const jr_schedule_t *self, const jr_schedule_rules_t *rules,
                               jr_day_t today, jr_notice_t *out, size_t max)
{
    jr_schedule_rules_t storage;
    rules = rules_or_default(rules, &storage);
    if (self == NULL || self->review_on == JR_DAY_NONE || today == JR_DAY_NONE)
        return 0;

    jr_day_t d = self->review_on;
    unsigned leads[JR_SCHEDULE_LEADS_MAX];
    size_t n_leads = lead_times(rules, leads);

    size_t count = 0;
    for (size_t i = 0; i < n_leads; i++)
        if (add_days(d, -(int64_t)leads[i]) <= today)
            count++;
    if (d <= today)
        count++;
    if ((int64_t)today >= (int64_t)d + 1)
        count += (size_t)(((int64_t)today - ((int64_t)d + 1)) / 7 + 1);

    /* The notices are in date order, so those due by today come first. */
    for (size_t i = 0; i < count && i < max; i++) {
        out[i] = notice_at(d, leads, n_leads, i);
        out[i].superseded = i + 1 < count;
    }
    return count;
}

bool jr_schedule_latest_notice(const jr_schedule_t *self, const jr_schedule_rules_t *rules,
                               jr_day_t today, jr_notice_t *out)
{
    jr_schedule_rules_t storage;
    rules = rules_or_default(rules, &storage);
    size_t count = jr_schedule_notices_due(self, rules, today, NULL, 0);
    if (count == 0)
        return false;
    unsigned leads[JR_SCHEDULE_LEADS_MAX];
    size_t n_leads = lead_times(rules, leads);
    *out = notice_at(self->review_on, leads, n_leads, count - 1);
    return true;
}

jr_day_t jr_schedule_first_notice_on(jr_day_t review_on, const jr_schedule_rules_t *rules)
{
    jr_schedule_rules_t storage;
    rules = rules_or_default(rules, &storage);
    if (review_on == JR_DAY_NONE)
        return JR_DAY_NONE;
    unsigned leads[JR_SCHEDULE_LEADS_MAX];
    size_t n_leads = lead_times(rules, leads);
    return n_leads > 0 ? add_days(review_on, -(int64_t)leads[0]) : review_on;
}

jr_day_t jr_schedule_next_notice_on(const jr_schedule_t *self, const jr_schedule_rules_t *rules,
                                    jr_day_t today)
{
    jr_schedule_rules_t storage;
    rules = rules_or_default(rules, &storage);
    if (self == NULL || self->review_on == JR_DAY_NONE)
        return JR_DAY_NONE;

    jr_day_t d = self->review_on;
    unsigned leads[JR_SCHEDULE_LEADS_MAX];
    size_t n_leads = lead_times(rules, leads);
    for (size_t i = 0; i < n_leads; i++) {
        jr_day_t on = add_days(d, -(int64_t)leads[i]);
        if (on > today)
            return on;
    }
    if (d > today)
        return d;
    /* today >= d: the first overdue notice after today. */
    int64_t k = today == d ? 1 : ((int64_t)today - ((int64_t)d + 1)) / 7 + 2;
    jr_day_t on = overdue_on(d, k);
    return on > today ? on : JR_DAY_NONE;
}

jr_held_verdict_t jr_schedule_check_held(const jr_event_t *events, size_t n,
                                         const jr_streams_t *streams, const char *stream,
                                         jr_day_t held_on, jr_day_t today, jr_day_t *opened)
{
    *opened = JR_DAY_NONE;
    if (events == NULL)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        jr_day_t on = events[i].u.review_held.held_on;
        if (events[i].kind == JR_EVENT_REVIEW_HELD && on != JR_DAY_NONE &&
            (*opened == JR_DAY_NONE || on > *opened))
            *opened = on;
    }
    const jr_event_t **sorted = alloc_array(n, sizeof *sorted);
    if (sorted == NULL && n > 0)
        return JR_HELD_NOT_ENROLLED; /* out of memory: refuse rather than guess */
    slot_t slots[JR_STREAMS_MAX];
    size_t n_slots = collect_slots(events, n, streams, sorted, slots);
    bool enrolled = false;
    for (size_t i = 0; i < n_slots && stream != NULL; i++) {
        if (strcmp(slots[i].row->code, stream) != 0)
            continue;
        const jr_event_t *in_force = started_by(&slots[i], held_on);
        enrolled = in_force != NULL && (in_force->u.enrolment.ended_on == JR_DAY_NONE ||
                                        in_force->u.enrolment.ended_on > held_on);
    }
    free(sorted);
    if (!enrolled)
        return JR_HELD_NOT_ENROLLED;
    if (held_on > today)
        return JR_HELD_IN_FUTURE;
    if (*opened != JR_DAY_NONE && held_on < *opened)
        return JR_HELD_BEFORE_CYCLE;
    return JR_HELD_OK;
}
