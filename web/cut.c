/* cut.c -- see cut.h. */
#include "cut.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jr_cut_scope_stream(jr_cut_scope_t *scope, const jr_streams_t *streams, const char *code)
{
    const jr_stream_t *s = jr_streams_find(streams, code);
    memset(scope, 0, sizeof *scope);
    if (s == NULL) {
        return -1;
    }
    snprintf(scope->stream, sizeof scope->stream, "%s", s->code);
    scope->topics = s->required | JR_TOPICS_COMMON_MINIMUM;
    return 0;
}

void jr_cut_scope_whole(jr_cut_scope_t *scope)
{
    memset(scope, 0, sizeof *scope);
    scope->whole = true;
    scope->topics = JR_TOPICS_AREAS_1_TO_8 | JR_TOPIC_BIT(JR_TOPIC_OTHER);
}

static bool topic_shown(const jr_cut_scope_t *scope, int topic)
{
    return scope->whole ||
           (jr_format_topic_valid(topic) && (scope->topics & JR_TOPIC_BIT(topic)) != 0);
}

/* Whether any topic of area n is in the scope. */
static bool area_shown(const jr_cut_scope_t *scope, unsigned n)
{
    for (int t = JR_TOPIC_FIRST; t <= JR_TOPIC_LAST; t++) {
        if (jr_format_topic_area((jr_topic_t)t) == (int)n && topic_shown(scope, t)) {
            return true;
        }
    }
    return false;
}

int jr_cut_build(jr_cut_t *cut, const Joinedreview__V1__ConsolidatedReview *r,
                 const jr_cut_scope_t *scope)
{
    memset(cut, 0, sizeof *cut);
    cut->nhs_number = r->nhs_number;
    cut->cycle = r->cycle;
    cut->version = r->version;
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
    cut->whole = scope->whole;
    cut->topics = scope->topics;
    for (unsigned n = 1; n <= JR_AREA_COUNT; n++) {
        cut->areas[n - 1].number = n;
        cut->areas[n - 1].shown = area_shown(scope, n);
    }
    for (size_t i = 0; i < r->n_areas; i++) {
        const Joinedreview__V1__Area *a = r->areas[i];
        if (!a->has_number || a->number < 1 || a->number > JR_AREA_COUNT) {
            continue;
        }
        jr_cut_area_t *c = &cut->areas[a->number - 1];
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
            if (topic_shown(scope, a->statements[s]->topic)) {
                c->statements[c->n_statements++] = a->statements[s];
            }
        }
        c->priority = a->priority;
        c->priority_from_person = a->priority_from_person;
        c->conflict = a->conflict;
        for (size_t v = 0; v < a->n_conflict_views; v++) {
            if (topic_shown(scope, a->conflict_views[v]->topic)) {
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
        if (scope->whole || (sc->stream != NULL && strcmp(sc->stream, scope->stream) == 0)) {
            cut->completeness[cut->n_completeness++] = sc;
        }
    }
    return 0;
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
