/* record.c -- see record.h. */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "wire.h"

JR_WIRE_TIE(JR_NOTICE_LEAD, JOINEDREVIEW__V1__DUE_NOTICE__KIND__LEAD);
JR_WIRE_TIE(JR_NOTICE_DUE, JOINEDREVIEW__V1__DUE_NOTICE__KIND__DUE);
JR_WIRE_TIE(JR_NOTICE_OVERDUE, JOINEDREVIEW__V1__DUE_NOTICE__KIND__OVERDUE);
JR_WIRE_TIE(JR_UNDERSPEND_NOT_SET, JOINEDREVIEW__V1__UNDERSPEND_RULE__UNDERSPEND_NOT_SET);
JR_WIRE_TIE(JR_UNDERSPEND_RETURNED, JOINEDREVIEW__V1__UNDERSPEND_RULE__UNDERSPEND_RETURNED);
JR_WIRE_TIE(JR_UNDERSPEND_CARRIED_FORWARD,
            JOINEDREVIEW__V1__UNDERSPEND_RULE__UNDERSPEND_CARRIED_FORWARD);
JR_WIRE_TIE(JR_UNDERSPEND_KEPT, JOINEDREVIEW__V1__UNDERSPEND_RULE__UNDERSPEND_KEPT);

/* A set of needs as the wire's list, in need order. */
static Joinedreview__V1__Need *need_list(jr_wire_arena_t *a, jr_need_set_t set, size_t *n)
{
    Joinedreview__V1__Need *list = jr_wire_arena_alloc(a, sizeof *list * (JR_NEED_LAST + 1));
    *n = 0;
    for (int k = JR_NEED_LARGE_PRINT; list != NULL && k <= JR_NEED_LAST; k++) {
        if (set & JR_NEED_BIT(k)) {
            list[(*n)++] = (Joinedreview__V1__Need)k;
        }
    }
    return list;
}

static Joinedreview__V1__ReviewPreferences *encode_preferences(jr_wire_arena_t *a,
                                                               const jr_preferences_t *p)
{
    Joinedreview__V1__ReviewPreferences *out = jr_wire_arena_alloc(a, sizeof *out);
    char **involve = jr_wire_arena_alloc(a, sizeof *involve * JR_INVOLVE_MAX);
    if (out == NULL || involve == NULL) {
        return NULL;
    }
    *out = (Joinedreview__V1__ReviewPreferences)JOINEDREVIEW__V1__REVIEW_PREFERENCES__INIT;
    out->has_way = 1;
    out->way = (Joinedreview__V1__ReviewWay)p->way;
    out->where = (char *)p->where;
    for (size_t i = 0; i < p->n_involve && i < JR_INVOLVE_MAX; i++) {
        involve[out->n_involve++] = (char *)p->involve[i];
    }
    out->involve = involve;
    out->needs = need_list(a, p->needs, &out->n_needs);
    out->language = (char *)p->language;
    out->called = (char *)p->called;
    return out;
}

static Joinedreview__V1__Topic *topic_list(jr_wire_arena_t *a, jr_topic_set_t set, size_t *n)
{
    Joinedreview__V1__Topic *list = jr_wire_arena_alloc(a, sizeof *list * (JR_TOPIC_LAST + 1));
    *n = 0;
    if (list == NULL) {
        return NULL;
    }
    for (int t = JR_TOPIC_FIRST; t <= JR_TOPIC_LAST; t++) {
        if (set & JR_TOPIC_BIT(t)) {
            list[(*n)++] = (Joinedreview__V1__Topic)t;
        }
    }
    return list;
}

static Joinedreview__V1__Statement *encode_statement(jr_wire_arena_t *a, const jr_event_t *ev)
{
    Joinedreview__V1__Statement *st = jr_wire_arena_alloc(a, sizeof *st);
    Joinedreview__V1__Provenance *pv = jr_wire_arena_alloc(a, sizeof *pv);
    if (st == NULL || pv == NULL) {
        return NULL;
    }
    const jr_contribution_t *c = &ev->u.contribution;
    *pv = (Joinedreview__V1__Provenance)JOINEDREVIEW__V1__PROVENANCE__INIT;
    pv->stream = (char *)ev->stream;
    pv->has_author_role = 1;
    pv->author_role = (Joinedreview__V1__Role)c->role;
    pv->has_occurred_at = 1;
    pv->occurred_at = ev->occurred_at_ms;
    pv->source_event_id = (char *)ev->source_event_id;
    pv->author_name = (char *)c->author_name;
    *st = (Joinedreview__V1__Statement)JOINEDREVIEW__V1__STATEMENT__INIT;
    st->has_topic = 1;
    st->topic = (Joinedreview__V1__Topic)c->topic;
    st->working = (char *)c->working;
    st->not_working = (char *)c->not_working;
    st->has_priority = 1;
    st->priority = (Joinedreview__V1__Priority)c->priority;
    st->has_no_change = 1;
    st->no_change = c->no_change;
    st->provenance = pv;
    return st;
}

static Joinedreview__V1__Area *encode_area(jr_wire_arena_t *a, const jr_area_t *area)
{
    Joinedreview__V1__Area *out = jr_wire_arena_alloc(a, sizeof *out);
    if (out == NULL) {
        return NULL;
    }
    *out = (Joinedreview__V1__Area)JOINEDREVIEW__V1__AREA__INIT;
    out->has_number = 1;
    out->number = (uint32_t)area->number;
    out->title = (char *)jr_format_area_title(area->number);
    out->n_statements = area->n_statements;
    out->statements = jr_wire_arena_alloc(a, sizeof *out->statements * area->n_statements);
    for (size_t i = 0; out->statements && i < area->n_statements; i++) {
        out->statements[i] = encode_statement(a, area->statements[i].event);
    }
    out->has_priority = 1;
    out->priority = (Joinedreview__V1__Priority)area->priority;
    out->has_priority_from_person = 1;
    out->priority_from_person = area->priority_from_person;
    out->has_conflict = 1;
    out->conflict = area->conflict;
    out->n_conflict_views = area->n_views;
    out->conflict_views = jr_wire_arena_alloc(a, sizeof *out->conflict_views * area->n_views);
    for (size_t i = 0; out->conflict_views && i < area->n_views; i++) {
        Joinedreview__V1__PriorityView *v = jr_wire_arena_alloc(a, sizeof *v);
        if (v == NULL) {
            break;
        }
        *v = (Joinedreview__V1__PriorityView)JOINEDREVIEW__V1__PRIORITY_VIEW__INIT;
        v->stream = (char *)area->views[i].stream;
        v->has_author_role = 1;
        v->author_role = (Joinedreview__V1__Role)area->views[i].role;
        v->has_topic = 1;
        v->topic = (Joinedreview__V1__Topic)area->views[i].topic;
        v->has_priority = 1;
        v->priority = (Joinedreview__V1__Priority)area->views[i].priority;
        out->conflict_views[i] = v;
    }
    return out;
}

static Joinedreview__V1__Schedule *encode_schedule(jr_wire_arena_t *a, const jr_schedule_t *sched)
{
    Joinedreview__V1__Schedule *out = jr_wire_arena_alloc(a, sizeof *out);
    if (out == NULL) {
        return NULL;
    }
    *out = (Joinedreview__V1__Schedule)JOINEDREVIEW__V1__SCHEDULE__INIT;
    out->review_on = jr_wire_arena_date(a, sched->review_on);
    out->lead = sched->lead ? (char *)sched->lead->code : NULL;
    out->streams = jr_wire_arena_alloc(a, sizeof *out->streams * sched->n_streams);
    out->covered_streams = jr_wire_arena_alloc(a, sizeof *out->covered_streams * sched->n_streams);
    for (size_t i = 0; out->streams && out->covered_streams && i < sched->n_streams; i++) {
        const jr_stream_due_t *d = &sched->streams[i];
        Joinedreview__V1__StreamSchedule *ss = jr_wire_arena_alloc(a, sizeof *ss);
        if (ss == NULL) {
            break;
        }
        *ss = (Joinedreview__V1__StreamSchedule)JOINEDREVIEW__V1__STREAM_SCHEDULE__INIT;
        ss->stream = (char *)d->stream->code;
        ss->next_due_on = jr_wire_arena_date(a, d->due);
        ss->last_review_on = jr_wire_arena_date(a, d->last_review);
        ss->has_drives_date = 1;
        ss->drives_date = d->drives;
        ss->has_covered = 1;
        ss->covered = d->covered;
        out->streams[out->n_streams++] = ss;
        if (d->covered) {
            out->covered_streams[out->n_covered_streams++] = (char *)d->stream->code;
        }
    }
    return out;
}

static Joinedreview__V1__StreamBudget *encode_budget(jr_wire_arena_t *a,
                                                     const jr_budget_line_t *line)
{
    Joinedreview__V1__StreamBudget *b = jr_wire_arena_alloc(a, sizeof *b);
    if (b == NULL) {
        return NULL;
    }
    const jr_budget_t *st = &line->statement->u.budget;
    *b = (Joinedreview__V1__StreamBudget)JOINEDREVIEW__V1__STREAM_BUDGET__INIT;
    b->stream = (char *)line->stream->code;
    b->period_start = jr_wire_arena_date(a, st->period_start);
    b->period_end = jr_wire_arena_date(a, st->period_end);
    b->has_allocated_pence = b->has_spent_pence = b->has_underspend_pence = b->has_rule = 1;
    b->allocated_pence = st->allocated_pence;
    b->spent_pence = st->spent_pence;
    b->underspend_pence = line->underspend_pence;
    b->rule = (Joinedreview__V1__UnderspendRule)line->stream->underspend;
    return b;
}

/* The person's way, budgets and names (merge.h), and what a review held
 * found (NULL while the cycle is open). */
static void encode_person(jr_wire_arena_t *a, const jr_review_t *review,
                          const jr_schedule_t *meeting, Joinedreview__V1__ConsolidatedReview *cr)
{
    if (review->preferences != NULL) {
        const jr_event_t *ev = review->preferences;
        Joinedreview__V1__Provenance *pv = jr_wire_arena_alloc(a, sizeof *pv);
        cr->preferences = encode_preferences(a, &ev->u.preferences);
        if (pv != NULL) {
            *pv = (Joinedreview__V1__Provenance)JOINEDREVIEW__V1__PROVENANCE__INIT;
            pv->stream = (char *)ev->stream;
            pv->has_occurred_at = 1;
            pv->occurred_at = ev->occurred_at_ms;
            pv->source_event_id = (char *)ev->source_event_id;
            cr->preferences_from = pv;
        }
    }
    cr->budgets = jr_wire_arena_alloc(a, sizeof *cr->budgets * review->n_budgets);
    for (size_t i = 0; cr->budgets != NULL && i < review->n_budgets; i++) {
        cr->budgets[cr->n_budgets++] = encode_budget(a, &review->budgets[i]);
    }
    cr->enrolments = jr_wire_arena_alloc(a, sizeof *cr->enrolments * review->n_streams);
    for (size_t i = 0; cr->enrolments != NULL && i < review->n_streams; i++) {
        const jr_enrolment_t *e = &review->streams[i].enrolment->u.enrolment;
        if (e->known_as == NULL && e->group_key == NULL) {
            continue;
        }
        Joinedreview__V1__StreamEnrolment *se = jr_wire_arena_alloc(a, sizeof *se);
        if (se == NULL) {
            break;
        }
        *se = (Joinedreview__V1__StreamEnrolment)JOINEDREVIEW__V1__STREAM_ENROLMENT__INIT;
        se->stream = (char *)review->streams[i].stream->code;
        se->known_as = (char *)e->known_as;
        se->group_key = (char *)e->group_key;
        cr->enrolments[cr->n_enrolments++] = se;
    }
    cr->called = (char *)review->called;
    cr->group_key = (char *)review->group_key;
    if (meeting == NULL || review->review_held == NULL) {
        return;
    }
    jr_day_t held_on = review->review_held->u.review_held.held_on;
    cr->held_for = jr_wire_arena_alloc(a, sizeof *cr->held_for * meeting->n_streams);
    for (size_t i = 0; cr->held_for != NULL && i < meeting->n_streams; i++) {
        const jr_stream_due_t *d = &meeting->streams[i];
        Joinedreview__V1__HeldFor *h = d->covered ? jr_wire_arena_alloc(a, sizeof *h) : NULL;
        if (h == NULL) {
            continue;
        }
        *h = (Joinedreview__V1__HeldFor)JOINEDREVIEW__V1__HELD_FOR__INIT;
        h->stream = (char *)d->stream->code;
        h->due_on = jr_wire_arena_date(a, d->due);
        h->has_by_due_date = 1;
        h->by_due_date = d->due == JR_DAY_NONE || held_on <= d->due;
        cr->held_for[cr->n_held_for++] = h;
    }
}

int jr_record_encode_review(const jr_review_t *review, const jr_schedule_t *schedule,
                            const jr_schedule_t *meeting, const jr_record_id_t *id, uint8_t **out,
                            size_t *len)
{
    jr_wire_arena_t a = {0};
    Joinedreview__V1__ConsolidatedReview cr = JOINEDREVIEW__V1__CONSOLIDATED_REVIEW__INIT;
    cr.nhs_number = (char *)id->nhs_number;
    cr.has_cycle = 1;
    cr.cycle = id->cycle;
    cr.has_version = 1;
    cr.version = id->version;
    cr.has_sequence = 1;
    cr.sequence = id->sequence;

    cr.n_areas = JR_AREA_COUNT;
    cr.areas = jr_wire_arena_alloc(&a, sizeof *cr.areas * JR_AREA_COUNT);
    for (size_t i = 0; cr.areas && i < JR_AREA_COUNT; i++) {
        cr.areas[i] = encode_area(&a, &review->areas[i]);
    }
    cr.n_enrolled_streams = review->n_streams;
    cr.enrolled_streams = jr_wire_arena_alloc(&a, sizeof *cr.enrolled_streams * review->n_streams);
    cr.n_completeness = review->n_streams;
    cr.completeness = jr_wire_arena_alloc(&a, sizeof *cr.completeness * review->n_streams);
    for (size_t i = 0; cr.completeness && cr.enrolled_streams && i < review->n_streams; i++) {
        const jr_stream_status_t *s = &review->streams[i];
        Joinedreview__V1__StreamCompleteness *sc = jr_wire_arena_alloc(&a, sizeof *sc);
        if (sc == NULL) {
            break;
        }
        *sc = (Joinedreview__V1__StreamCompleteness)JOINEDREVIEW__V1__STREAM_COMPLETENESS__INIT;
        sc->stream = (char *)s->stream->code;
        sc->covered = topic_list(&a, s->covered, &sc->n_covered);
        sc->missing = topic_list(&a, s->missing, &sc->n_missing);
        sc->has_complete = 1;
        sc->complete = s->missing == 0;
        cr.completeness[i] = sc;
        cr.enrolled_streams[i] = (char *)s->stream->code;
    }
    cr.has_ready_for_sign_off = 1;
    cr.ready_for_sign_off = review->ready_for_sign_off;
    Joinedreview__V1__PlanRevision plan = JOINEDREVIEW__V1__PLAN_REVISION__INIT;
    if (review->plan_revision != NULL) {
        const jr_plan_revision_t *p = &review->plan_revision->u.plan_revision;
        plan.revise_by = jr_wire_arena_date(&a, p->revise_by);
        plan.revised_by = (char *)p->revised_by;
        plan.has_approval_needed = p->has_approval_needed;
        plan.approval_needed = p->approval_needed;
        plan.approver = (char *)p->approver;
        cr.plan_revision = &plan;
    }
    if (review->review_held != NULL) {
        cr.held_on = jr_wire_arena_date(&a, review->review_held->u.review_held.held_on);
    }
    cr.as_of = jr_wire_arena_date(&a, review->as_of);
    if (schedule != NULL) {
        cr.schedule = encode_schedule(&a, schedule);
    }
    encode_person(&a, review, meeting, &cr);

    int rc = jr_wire_pack(&a, &cr.base, out, len);
    jr_wire_arena_free(&a);
    return rc;
}

static const char *notice_kind_word(jr_notice_kind_t kind)
{
    switch (kind) {
    case JR_NOTICE_LEAD:
        return "lead";
    case JR_NOTICE_DUE:
        return "due";
    case JR_NOTICE_OVERDUE:
        return "overdue";
    }
    return "unknown";
}

void jr_record_notice_topic(const jr_notice_t *notice, const jr_schedule_t *schedule, char *out,
                            size_t outlen)
{
    snprintf(out, outlen, "notice.%s.%s", notice_kind_word(notice->kind),
             schedule->lead ? schedule->lead->code : "NONE");
}

int jr_record_encode_notice(const jr_notice_t *notice, const jr_schedule_t *schedule,
                            const jr_review_t *review, const jr_record_id_t *id, uint8_t **out,
                            size_t *len)
{
    jr_wire_arena_t a = {0};
    Joinedreview__V1__DueNotice dn = JOINEDREVIEW__V1__DUE_NOTICE__INIT;
    dn.nhs_number = (char *)id->nhs_number;
    dn.has_cycle = 1;
    dn.cycle = id->cycle;
    dn.has_kind = 1;
    dn.kind = (Joinedreview__V1__DueNotice__Kind)notice->kind;
    dn.has_number = 1;
    dn.number = notice->number;
    dn.key = (char *)notice->key;
    dn.notice_on = jr_wire_arena_date(&a, notice->on);
    dn.review_on = jr_wire_arena_date(&a, schedule->review_on);
    dn.lead = schedule->lead ? (char *)schedule->lead->code : NULL;
    dn.has_sequence = 1;
    dn.sequence = id->sequence;
    if (review != NULL && review->preferences != NULL) {
        dn.preferences = encode_preferences(&a, &review->preferences->u.preferences);
    }
    dn.called = review != NULL ? (char *)review->called : NULL;
    dn.covered_streams = jr_wire_arena_alloc(&a, sizeof *dn.covered_streams * schedule->n_streams);
    dn.missing_information =
        jr_wire_arena_alloc(&a, sizeof *dn.missing_information * schedule->n_streams);
    for (size_t i = 0; dn.covered_streams && dn.missing_information && i < schedule->n_streams;
         i++) {
        const jr_stream_due_t *d = &schedule->streams[i];
        if (!d->covered) {
            continue;
        }
        dn.covered_streams[dn.n_covered_streams++] = (char *)d->stream->code;
        /* Missing unless the review shows the stream complete. */
        bool complete = false;
        for (size_t j = 0; review != NULL && j < review->n_streams; j++) {
            if (review->streams[j].stream == d->stream) {
                complete = review->streams[j].missing == 0;
            }
        }
        if (!complete) {
            dn.missing_information[dn.n_missing_information++] = (char *)d->stream->code;
        }
    }
    int rc = jr_wire_pack(&a, &dn.base, out, len);
    jr_wire_arena_free(&a);
    return rc;
}

void jr_record_group_topic(const char *lead, char *out, size_t outlen)
{
    snprintf(out, outlen, "group.%s", lead != NULL ? lead : "NONE");
}

int jr_record_encode_group(const jr_record_group_t *g, uint8_t **out, size_t *len)
{
    jr_wire_arena_t a = {0};
    Joinedreview__V1__GroupSuggestion gs = JOINEDREVIEW__V1__GROUP_SUGGESTION__INIT;
    gs.has_sequence = 1;
    gs.sequence = g->sequence;
    gs.lead = (char *)g->lead;
    gs.group_key = (char *)g->group_key;
    gs.review_on = jr_wire_arena_date(&a, g->review_on);
    gs.members = jr_wire_arena_alloc(&a, sizeof *gs.members * g->n_members);
    for (size_t i = 0; gs.members != NULL && i < g->n_members; i++) {
        const jr_record_member_t *m = &g->members[i];
        Joinedreview__V1__GroupMember *gm = jr_wire_arena_alloc(&a, sizeof *gm);
        if (gm == NULL) {
            break;
        }
        *gm = (Joinedreview__V1__GroupMember)JOINEDREVIEW__V1__GROUP_MEMBER__INIT;
        gm->nhs_number = (char *)m->nhs;
        gm->called = (char *)m->called;
        gm->review_on = jr_wire_arena_date(&a, m->review_on);
        gm->needs = need_list(&a, m->needs, &gm->n_needs);
        gs.members[gs.n_members++] = gm;
    }
    gs.n_replaces = g->n_replaces;
    gs.replaces = (uint64_t *)g->replaces;
    if (g->withdrawn) {
        gs.has_withdrawn = 1;
        gs.withdrawn = 1;
    }
    int rc = jr_wire_pack(&a, &gs.base, out, len);
    jr_wire_arena_free(&a);
    return rc;
}

Joinedreview__V1__Statistics *jr_record_statistics_message(jr_wire_arena_t *a,
                                                           const jr_statistics_t *st)
{
    Joinedreview__V1__Statistics *m = jr_wire_arena_alloc(a, sizeof *m);
    if (m == NULL) {
        return NULL;
    }
    *m = (Joinedreview__V1__Statistics)JOINEDREVIEW__V1__STATISTICS__INIT;
    m->has_sequence = 1;
    m->sequence = st->sequence;
    m->today = (char *)st->today;
    m->has_reviews = 1;
    m->reviews = st->reviews;
    m->has_ready_for_sign_off = 1;
    m->ready_for_sign_off = st->ready_for_sign_off;
    m->has_missing_information = 1;
    m->missing_information = st->missing_information;
    m->streams = jr_wire_arena_alloc(a, sizeof *m->streams * (st->n_streams + 1));
    for (size_t i = 0; m->streams && i < st->n_streams; i++) {
        Joinedreview__V1__StreamStatistics *s = jr_wire_arena_alloc(a, sizeof *s);
        if (s == NULL) {
            break;
        }
        *s = (Joinedreview__V1__StreamStatistics)JOINEDREVIEW__V1__STREAM_STATISTICS__INIT;
        s->stream = (char *)st->streams[i].stream;
        s->has_enrolled = s->has_complete = s->has_missing_information = 1;
        s->has_due_within_28_days = s->has_overdue = 1;
        s->enrolled = st->streams[i].enrolled;
        s->complete = st->streams[i].complete;
        s->missing_information = st->streams[i].missing_information;
        s->due_within_28_days = st->streams[i].due_within_28_days;
        s->overdue = st->streams[i].overdue;
        s->has_budget_persons = 1;
        s->budget_persons = st->streams[i].budget_persons;
        if (jr_capture_total_shown(st->streams[i].budget_persons)) {
            s->has_allocated_pence = s->has_spent_pence = s->has_underspend_pence = 1;
            s->allocated_pence = st->streams[i].allocated_pence;
            s->spent_pence = st->streams[i].spent_pence;
            s->underspend_pence = st->streams[i].allocated_pence - st->streams[i].spent_pence;
        }
        m->streams[m->n_streams++] = s;
    }
    m->leads = jr_wire_arena_alloc(a, sizeof *m->leads * (st->n_leads + 1));
    for (size_t i = 0; m->leads && i < st->n_leads; i++) {
        Joinedreview__V1__LeadStatistics *l = jr_wire_arena_alloc(a, sizeof *l);
        if (l == NULL) {
            break;
        }
        *l = (Joinedreview__V1__LeadStatistics)JOINEDREVIEW__V1__LEAD_STATISTICS__INIT;
        l->lead = (char *)st->leads[i].lead;
        l->has_reviews = l->has_due_within_28_days = l->has_overdue = 1;
        l->reviews = st->leads[i].reviews;
        l->due_within_28_days = st->leads[i].due_within_28_days;
        l->overdue = st->leads[i].overdue;
        m->leads[m->n_leads++] = l;
    }
    m->areas = jr_wire_arena_alloc(a, sizeof *m->areas * JR_AREA_COUNT);
    for (size_t i = 0; m->areas && i < JR_AREA_COUNT; i++) {
        Joinedreview__V1__AreaStatistics *ar = jr_wire_arena_alloc(a, sizeof *ar);
        if (ar == NULL) {
            break;
        }
        *ar = (Joinedreview__V1__AreaStatistics)JOINEDREVIEW__V1__AREA_STATISTICS__INIT;
        ar->has_area = ar->has_red = ar->has_amber = ar->has_green = 1;
        ar->has_not_given = ar->has_conflicts = 1;
        ar->area = (uint32_t)(i + 1);
        ar->red = st->areas[i].red;
        ar->amber = st->areas[i].amber;
        ar->green = st->areas[i].green;
        ar->not_given = st->areas[i].not_given;
        ar->conflicts = st->areas[i].conflicts;
        m->areas[m->n_areas++] = ar;
    }
    m->has_rejected_events = m->has_parked_events = m->has_events_total = 1;
    m->rejected_events = st->rejected_events;
    m->parked_events = st->parked_events;
    m->events_total = st->events_total;
    m->has_ingest_per_second = 1;
    m->ingest_per_second = st->ingest_per_second;
    return m;
}

int jr_record_encode_statistics(const jr_statistics_t *stats, uint8_t **out, size_t *len)
{
    jr_wire_arena_t a = {0};
    Joinedreview__V1__Statistics *m = jr_record_statistics_message(&a, stats);
    int rc = jr_wire_pack(&a, m ? &m->base : NULL, out, len);
    jr_wire_arena_free(&a);
    return rc;
}
