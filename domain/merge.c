/* merge.c -- one cycle's events into the consolidated eight-area review.
 *
 * Every choice below is made on sorted copies of the input pointers, with
 * total orders, so the result depends on the set of events and never on the
 * order they arrived in. */
#include "merge.h"

#include <stdlib.h>
#include <string.h>

#include "completeness.h"

static int compare_text(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

/* malloc(0) may return NULL, which must not read as "out of memory". */
static void *alloc_array(size_t n, size_t size)
{
    return calloc(n > 0 ? n : 1, size);
}

static jr_priority_t priority_of(const jr_event_t *ev)
{
    int p = (int)ev->u.contribution.priority;
    return jr_format_priority_valid(p) ? (jr_priority_t)p : JR_PRIORITY_NOT_GIVEN;
}

/* Statement order: topic, stream code, role; within one (stream, role, topic)
 * the newest first, so the first of each run is the current statement. */
static int compare_statement(const void *pa, const void *pb)
{
    const jr_event_t *a = *(const jr_event_t *const *)pa;
    const jr_event_t *b = *(const jr_event_t *const *)pb;
    const jr_contribution_t *ca = &a->u.contribution;
    const jr_contribution_t *cb = &b->u.contribution;

    if (ca->topic != cb->topic)
        return ca->topic < cb->topic ? -1 : 1;
    int c = compare_text(a->stream, b->stream);
    if (c != 0)
        return c;
    if (ca->role != cb->role)
        return ca->role < cb->role ? -1 : 1;
    return jr_event_compare(b, a);
}

static bool same_author_and_topic(const jr_event_t *a, const jr_event_t *b)
{
    return a->u.contribution.topic == b->u.contribution.topic &&
           a->u.contribution.role == b->u.contribution.role &&
           compare_text(a->stream, b->stream) == 0;
}

/* Stream code, then the newest first. */
static int compare_enrolment(const void *pa, const void *pb)
{
    const jr_event_t *a = *(const jr_event_t *const *)pa;
    const jr_event_t *b = *(const jr_event_t *const *)pb;
    int c = compare_text(a->stream, b->stream);
    return c != 0 ? c : jr_event_compare(b, a);
}

static const jr_event_t *newer(const jr_event_t *best, const jr_event_t *ev)
{
    return best == NULL || jr_event_compare(ev, best) > 0 ? ev : best;
}

/* Fills one area from the current statements (already in statement order). */
static int build_area(jr_area_t *area, const jr_event_t *const *current, size_t n_current)
{
    size_t n = 0;
    for (size_t i = 0; i < n_current; i++)
        if (jr_format_topic_area(current[i]->u.contribution.topic) == area->number)
            n++;
    if (n == 0)
        return 0;

    area->statements = alloc_array(n, sizeof *area->statements);
    if (area->statements == NULL)
        return -1;

    const jr_event_t *person = NULL; /* the person's newest statement with a priority */
    jr_priority_t highest = JR_PRIORITY_NOT_GIVEN;
    size_t n_given = 0;
    bool red = false, green = false;

    for (size_t i = 0; i < n_current; i++) {
        const jr_event_t *ev = current[i];
        if (jr_format_topic_area(ev->u.contribution.topic) != area->number)
            continue;
        area->statements[area->n_statements++].event = ev;
        jr_priority_t p = priority_of(ev);
        if (p == JR_PRIORITY_NOT_GIVEN)
            continue;
        n_given++;
        red |= p == JR_PRIORITY_RED;
        green |= p == JR_PRIORITY_GREEN;
        if (p > highest)
            highest = p;
        if (ev->u.contribution.role == JR_ROLE_PERSON)
            person = newer(person, ev);
    }

    bool person_differs = false;
    if (person != NULL) {
        area->priority = priority_of(person);
        area->priority_from_person = true;
        for (size_t i = 0; i < area->n_statements; i++) {
            const jr_event_t *ev = area->statements[i].event;
            jr_priority_t p = priority_of(ev);
            if (ev->u.contribution.role != JR_ROLE_PERSON && p != JR_PRIORITY_NOT_GIVEN &&
                p != area->priority)
                person_differs = true;
        }
    } else {
        area->priority = highest;
    }
    area->conflict = (red && green) || person_differs;
    if (!area->conflict)
        return 0;

    area->views = alloc_array(n_given, sizeof *area->views);
    if (area->views == NULL)
        return -1;
    for (size_t i = 0; i < area->n_statements; i++) {
        const jr_event_t *ev = area->statements[i].event;
        jr_priority_t p = priority_of(ev);
        if (p == JR_PRIORITY_NOT_GIVEN)
            continue;
        area->views[area->n_views++] = (jr_priority_view_t){
            .stream = ev->stream,
            .role = ev->u.contribution.role,
            .topic = ev->u.contribution.topic,
            .priority = p,
        };
    }
    return 0;
}

/* The enrolled streams: newest enrolment per known, enabled stream, still in
 * force on as_of. */
static int build_streams(jr_review_t *review, const jr_merge_input_t *in,
                         const jr_streams_t *streams)
{
    const jr_event_t **enrolments = alloc_array(in->n_enrolments, sizeof *enrolments);
    if (enrolments == NULL)
        return -1;

    size_t n = 0;
    for (size_t i = 0; i < in->n_enrolments; i++) {
        const jr_event_t *ev = &in->enrolments[i];
        const jr_stream_t *row = ev->stream != NULL ? jr_streams_find(streams, ev->stream) : NULL;
        if (ev->kind == JR_EVENT_ENROLMENT && row != NULL && row->enabled)
            enrolments[n++] = ev;
    }
    qsort(enrolments, n, sizeof *enrolments, compare_enrolment);

    review->streams = alloc_array(n, sizeof *review->streams);
    if (review->streams == NULL) {
        free(enrolments);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const jr_event_t *ev = enrolments[i];
        if (i > 0 && strcmp(ev->stream, enrolments[i - 1]->stream) == 0)
            continue; /* an older enrolment of the same stream */
        jr_day_t ended = ev->u.enrolment.ended_on;
        if (ended != JR_DAY_NONE && ended <= review->as_of)
            continue;
        const jr_stream_t *row = jr_streams_find(streams, ev->stream);
        review->streams[review->n_streams++] = (jr_stream_status_t){
            .stream = row,
            .enrolment = ev,
            .covered = jr_completeness_covered(row, review->covered),
            .missing = jr_completeness_missing(row, review->covered),
        };
    }
    free(enrolments);

    review->ready_for_sign_off = review->n_streams > 0;
    for (size_t i = 0; i < review->n_streams; i++)
        if (review->streams[i].missing != 0)
            review->ready_for_sign_off = false;
    return 0;
}

/* Stream code, then the latest period start, then the newest statement. */
static int compare_budget(const void *pa, const void *pb)
{
    const jr_event_t *a = *(const jr_event_t *const *)pa;
    const jr_event_t *b = *(const jr_event_t *const *)pb;
    int c = compare_text(a->stream, b->stream);
    if (c != 0)
        return c;
    if (a->u.budget.period_start != b->u.budget.period_start)
        return a->u.budget.period_start > b->u.budget.period_start ? -1 : 1;
    return jr_event_compare(b, a);
}

/* Preferences (the newest) and each stream's latest budget. */
static int build_kept(jr_review_t *review, const jr_merge_input_t *in, const jr_streams_t *streams)
{
    const jr_event_t **budgets = alloc_array(in->n_kept, sizeof *budgets);
    review->budgets = alloc_array(in->n_kept, sizeof *review->budgets);
    if (budgets == NULL || review->budgets == NULL) {
        free(budgets);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < in->n_kept; i++) {
        const jr_event_t *ev = &in->kept[i];
        if (ev->kind == JR_EVENT_PREFERENCES) {
            review->preferences = newer(review->preferences, ev);
            continue;
        }
        const jr_stream_t *row = ev->stream != NULL ? jr_streams_find(streams, ev->stream) : NULL;
        if (ev->kind == JR_EVENT_BUDGET && row != NULL && row->enabled)
            budgets[n++] = ev;
    }
    qsort(budgets, n, sizeof *budgets, compare_budget);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(budgets[i]->stream, budgets[i - 1]->stream) == 0)
            continue; /* an earlier period, or a statement corrected since */
        const jr_budget_t *b = &budgets[i]->u.budget;
        review->budgets[review->n_budgets++] = (jr_budget_line_t){
            .stream = jr_streams_find(streams, budgets[i]->stream),
            .statement = budgets[i],
            .underspend_pence = b->allocated_pence - b->spent_pence,
        };
    }
    free(budgets);
    return 0;
}

/* The group key (or, with !group, the known_as) of the enrolled stream
 * first in lead precedence (lead_rank; 0 ranks last, ties by code) whose
 * enrolment gives one; NULL when none does. */
static const char *first_by_lead(const jr_review_t *review, bool group)
{
    const char *best = NULL;
    const jr_stream_t *best_row = NULL;
    for (size_t i = 0; i < review->n_streams; i++) {
        const jr_stream_status_t *s = &review->streams[i];
        const jr_enrolment_t *e = &s->enrolment->u.enrolment;
        const char *v = group ? e->group_key : e->known_as;
        if (v == NULL || v[0] == '\0')
            continue;
        unsigned r = s->stream->lead_rank, b = best_row ? best_row->lead_rank : 0;
        if (best_row == NULL || (r != 0 && (b == 0 || r < b))) {
            best = v;
            best_row = s->stream;
        }
    }
    return best;
}

static void build_names(jr_review_t *review)
{
    const jr_preferences_t *p = review->preferences ? &review->preferences->u.preferences : NULL;
    review->called = p != NULL && p->called != NULL && p->called[0] != '\0'
                         ? p->called
                         : first_by_lead(review, false);
    if (p != NULL && p->way == JR_WAY_WITH_OTHERS)
        review->group_key = first_by_lead(review, true);
}

jr_review_t *jr_merge_review(const jr_merge_input_t *in, const jr_streams_t *streams)
{
    static const jr_merge_input_t empty = {0};
    const jr_event_t **current = NULL;
    jr_review_t *review = calloc(1, sizeof *review);
    if (review == NULL)
        return NULL;
    if (in == NULL)
        in = &empty;

    review->as_of = JR_DAY_NONE;
    for (int a = 0; a < JR_AREA_COUNT; a++)
        review->areas[a].number = a + 1;

    bool any = false;
    int64_t newest_ms = 0;
    for (size_t i = 0; i < in->n_cycle_events; i++)
        if (!any || in->cycle_events[i].occurred_at_ms > newest_ms) {
            newest_ms = in->cycle_events[i].occurred_at_ms;
            any = true;
        }
    for (size_t i = 0; i < in->n_enrolments; i++)
        if (!any || in->enrolments[i].occurred_at_ms > newest_ms) {
            newest_ms = in->enrolments[i].occurred_at_ms;
            any = true;
        }
    for (size_t i = 0; i < in->n_kept; i++)
        if (!any || in->kept[i].occurred_at_ms > newest_ms) {
            newest_ms = in->kept[i].occurred_at_ms;
            any = true;
        }
    if (any)
        review->as_of = jr_text_day_of_ms(newest_ms);

    current = alloc_array(in->n_cycle_events, sizeof *current);
    if (current == NULL)
        goto fail;
    size_t n = 0;
    for (size_t i = 0; i < in->n_cycle_events; i++) {
        const jr_event_t *ev = &in->cycle_events[i];
        switch (ev->kind) {
        case JR_EVENT_CONTRIBUTION:
            if (jr_format_topic_valid((int)ev->u.contribution.topic) &&
                jr_format_role_valid((int)ev->u.contribution.role))
                current[n++] = ev;
            break;
        case JR_EVENT_PLAN_REVISION:
            review->plan_revision = newer(review->plan_revision, ev);
            break;
        case JR_EVENT_REVIEW_HELD:
            review->review_held = newer(review->review_held, ev);
            break;
        case JR_EVENT_ENROLMENT:
        case JR_EVENT_PREFERENCES:
        case JR_EVENT_BUDGET:
            break; /* these come in their own arrays */
        }
    }

    /* Keep the first (newest) of each (stream, role, topic) run. */
    qsort(current, n, sizeof *current, compare_statement);
    size_t n_current = 0;
    for (size_t i = 0; i < n; i++)
        if (n_current == 0 || !same_author_and_topic(current[n_current - 1], current[i]))
            current[n_current++] = current[i];

    for (size_t i = 0; i < n_current; i++)
        review->covered |= JR_TOPIC_BIT(current[i]->u.contribution.topic);
    for (int a = 0; a < JR_AREA_COUNT; a++)
        if (build_area(&review->areas[a], current, n_current) < 0)
            goto fail;
    if (build_streams(review, in, streams) < 0 || build_kept(review, in, streams) < 0)
        goto fail;
    build_names(review);

    free(current);
    return review;

fail:
    free(current);
    jr_merge_destroy(&review);
    return NULL;
}

void jr_merge_destroy(jr_review_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    jr_review_t *self = *self_p;
    for (int a = 0; a < JR_AREA_COUNT; a++) {
        free(self->areas[a].statements);
        free(self->areas[a].views);
    }
    free(self->streams);
    free(self->budgets);
    free(self);
    *self_p = NULL;
}
