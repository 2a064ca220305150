/* cut.c -- see cut.h. */
#include "cut.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jr_cut_build(jr_cut_t *cut, const Joinedreview__V1__ConsolidatedReview *r,
                 const jr_share_scope_t *scope)
{
    memset(cut, 0, sizeof *cut);
    cut->nhs_number = r->nhs_number;
    cut->cycle = r->cycle;
    cut->version = r->version;
    cut->sequence = r->has_sequence ? r->sequence : 0;
    cut->as_of = r->as_of;
    cut->held_on = r->held_on;
    cut->ready_for_sign_off = r->ready_for_sign_off;
    cut->schedule = r->schedule;
    cut->plan_revision = r->plan_revision;
    cut->called = r->called;
    cut->preferences = r->preferences;
    cut->preferences_from = r->preferences_from;
    if (scope->whole) {
        cut->group_key = r->group_key;
        cut->budgets = r->budgets;
        cut->n_budgets = r->n_budgets;
    }
    cut->enrolled_streams = r->enrolled_streams;
    cut->n_enrolled_streams = r->n_enrolled_streams;
    cut->whole = scope->whole;
    snprintf(cut->stream, sizeof cut->stream, "%s", scope->whole ? "" : scope->stream);
    cut->topics = scope->topics;
    for (unsigned n = 1; n <= JR_AREA_COUNT; n++) {
        cut->areas[n - 1].number = n;
        cut->areas[n - 1].shown = jr_share_area_shown(scope, (int)n);
    }
    for (size_t i = 0; i < r->n_areas; i++) {
        const Joinedreview__V1__Area *a = r->areas[i];
        if (!a->has_number || a->number < 1 || a->number > JR_AREA_COUNT) {
            continue;
        }
        jr_cut_area_t *c = &cut->areas[a->number - 1];
        c->title = a->title;
        if (!c->shown) {
            continue;
        }
        c->statements = calloc(a->n_statements + 1, sizeof *c->statements);
        c->views = calloc(a->n_conflict_views + 1, sizeof *c->views);
        if (c->statements == NULL || c->views == NULL) {
            jr_cut_clear(cut);
            return -1;
        }
        for (size_t s = 0; s < a->n_statements; s++) {
            if (jr_share_topic_shown(scope, a->statements[s]->topic)) {
                c->statements[c->n_statements++] = a->statements[s];
            }
        }
        c->priority = a->priority;
        c->priority_from_person = a->priority_from_person;
        c->conflict = a->conflict;
        for (size_t v = 0; v < a->n_conflict_views; v++) {
            if (jr_share_topic_shown(scope, a->conflict_views[v]->topic)) {
                c->views[c->n_views++] = a->conflict_views[v];
            } else {
                c->views_withheld = true;
            }
        }
    }
    cut->completeness = calloc(r->n_completeness + 1, sizeof *cut->completeness);
    if (cut->completeness == NULL) {
        jr_cut_clear(cut);
        return -1;
    }
    for (size_t i = 0; i < r->n_completeness; i++) {
        const Joinedreview__V1__StreamCompleteness *sc = r->completeness[i];
        if (jr_share_stream_shown(scope, sc->stream)) {
            cut->completeness[cut->n_completeness++] = sc;
        }
    }
    return 0;
}

const char *jr_cut_said(const Joinedreview__V1__Statement *s, bool working)
{
    const char *text = working ? s->working : s->not_working;
    if (text != NULL && text[0] != '\0') {
        return text;
    }
    return working && s->has_no_change && s->no_change ? "No change." : NULL;
}

void jr_cut_clear(jr_cut_t *cut)
{
    for (size_t i = 0; i < JR_AREA_COUNT; i++) {
        free(cut->areas[i].statements);
        free(cut->areas[i].views);
    }
    free(cut->completeness);
    memset(cut, 0, sizeof *cut);
}

int jr_cut_pack(const jr_cut_t *cut, uint8_t **out, size_t *len)
{
    Joinedreview__V1__ConsolidatedReview r = JOINEDREVIEW__V1__CONSOLIDATED_REVIEW__INIT;
    Joinedreview__V1__Area areas[JR_AREA_COUNT], *area_p[JR_AREA_COUNT];
    r.nhs_number = (char *)cut->nhs_number;
    r.has_cycle = r.has_version = r.has_ready_for_sign_off = 1;
    r.cycle = cut->cycle;
    r.version = cut->version;
    r.ready_for_sign_off = cut->ready_for_sign_off;
    r.has_sequence = cut->sequence != 0;
    r.sequence = cut->sequence;
    r.as_of = (char *)cut->as_of;
    r.held_on = (char *)cut->held_on;
    r.schedule = (Joinedreview__V1__Schedule *)cut->schedule;
    r.plan_revision = (Joinedreview__V1__PlanRevision *)cut->plan_revision;
    r.called = (char *)cut->called;
    r.preferences = (Joinedreview__V1__ReviewPreferences *)cut->preferences;
    r.preferences_from = (Joinedreview__V1__Provenance *)cut->preferences_from;
    r.group_key = (char *)cut->group_key;
    r.budgets = (Joinedreview__V1__StreamBudget **)cut->budgets;
    r.n_budgets = cut->n_budgets;
    r.enrolled_streams = (char **)cut->enrolled_streams;
    r.n_enrolled_streams = cut->n_enrolled_streams;
    for (size_t i = 0; i < JR_AREA_COUNT; i++) {
        const jr_cut_area_t *c = &cut->areas[i];
        Joinedreview__V1__Area *a = &areas[i];
        joinedreview__v1__area__init(a);
        area_p[i] = a;
        a->has_number = 1;
        a->number = c->number;
        a->title = (char *)c->title;
        if (!c->shown) {
            continue;
        }
        a->statements = (Joinedreview__V1__Statement **)c->statements;
        a->n_statements = c->n_statements;
        a->has_priority = a->has_priority_from_person = a->has_conflict = 1;
        a->priority = c->priority;
        a->priority_from_person = c->priority_from_person;
        a->conflict = c->conflict;
        a->conflict_views = (Joinedreview__V1__PriorityView **)c->views;
        a->n_conflict_views = c->n_views;
    }
    r.areas = area_p;
    r.n_areas = JR_AREA_COUNT;
    r.completeness = (Joinedreview__V1__StreamCompleteness **)cut->completeness;
    r.n_completeness = cut->n_completeness;
    *len = joinedreview__v1__consolidated_review__get_packed_size(&r);
    *out = malloc(*len ? *len : 1);
    if (*out == NULL) {
        return -1;
    }
    joinedreview__v1__consolidated_review__pack(&r, *out);
    return 0;
}
