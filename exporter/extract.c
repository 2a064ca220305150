/* extract.c -- see extract.h. */
#include "extract.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

bool jr_extract_due(const Joinedreview__V1__ConsolidatedReview *r, const jr_share_scope_t *scope)
{
    if (r->held_on == NULL || r->schedule == NULL || scope->whole ||
        !jr_share_person_shown(scope, (const char *const *)r->enrolled_streams,
                               r->n_enrolled_streams)) {
        return false;
    }
    for (size_t i = 0; i < r->schedule->n_streams; i++) {
        const Joinedreview__V1__StreamSchedule *s = r->schedule->streams[i];
        if (s->stream != NULL && strcmp(s->stream, scope->stream) == 0) {
            return s->last_review_on != NULL && strcmp(s->last_review_on, r->held_on) == 0;
        }
    }
    return false;
}

void jr_extract_name(const char *nhs, unsigned cycle, const char *ext, char *out, size_t len)
{
    snprintf(out, len, "%s-cycle%u.%s", nhs, cycle, ext);
}

/* ---- CSV ------------------------------------------------------------------ */

typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
    if (b->failed) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (d == NULL) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* One field, quoted, its quotes doubled; a comma before all but the first. */
static void field(buf_t *b, bool first, const char *s)
{
    if (!first) {
        put(b, ",", 1);
    }
    put(b, "\"", 1);
    for (const char *c = s ? s : ""; *c != '\0';) {
        size_t n = strcspn(c, "\"");
        put(b, c, n);
        c += n;
        if (*c == '"') {
            put(b, "\"\"", 2);
            c++;
        }
    }
    put(b, "\"", 1);
}

static const char *priority_code(int p)
{
    const char *c = jr_format_priority_code((jr_priority_t)p);
    return c ? c : "NOT_GIVEN";
}

static const char *role_code(int r)
{
    const char *c = jr_format_role_code((jr_role_t)r);
    return c ? c : "";
}

static bool met(const jr_cut_t *cut)
{
    for (size_t i = 0; i < cut->n_completeness; i++) {
        if (!(cut->completeness[i]->has_complete && cut->completeness[i]->complete)) {
            return false;
        }
    }
    return cut->n_completeness > 0;
}

/* The columns every row shares, then the statement's (s may be NULL: a
 * topic with nothing said). */
static void row(buf_t *b, const jr_cut_t *cut, const jr_cut_area_t *a, int topic,
                const Joinedreview__V1__Statement *s)
{
    char num[16], area[8], at[25] = "";
    const Joinedreview__V1__Schedule *sch = cut->schedule;
    const Joinedreview__V1__PlanRevision *p = cut->plan_revision;
    const Joinedreview__V1__Provenance *pv = s ? s->provenance : NULL;
    snprintf(num, sizeof num, "%u", cut->cycle);
    snprintf(area, sizeof area, "%u", a->number);
    if (pv != NULL && pv->has_occurred_at) {
        jr_text_format_instant(pv->occurred_at, at);
    }
    field(b, true, cut->nhs_number);
    field(b, false, cut->called);
    field(b, false, num);
    field(b, false, cut->held_on);
    field(b, false, cut->stream);
    field(b, false, met(cut) ? "true" : "false");
    field(b, false, area);
    field(b, false, jr_format_area_title((int)a->number));
    field(b, false, priority_code(a->priority));
    field(b, false, a->priority_from_person ? "true" : "false");
    field(b, false, a->conflict ? "true" : "false");
    field(b, false, jr_format_topic_code((jr_topic_t)topic));
    field(b, false, jr_format_topic_title((jr_topic_t)topic));
    field(b, false, s ? s->working : NULL);
    field(b, false, s ? s->not_working : NULL);
    field(b, false, s == NULL ? "" : s->has_no_change && s->no_change ? "true" : "false");
    field(b, false, s && s->has_priority ? priority_code(s->priority) : "");
    field(b, false, pv ? role_code(pv->author_role) : "");
    field(b, false, pv ? pv->author_name : NULL);
    field(b, false, pv ? pv->stream : NULL);
    field(b, false, at);
    field(b, false, pv ? pv->source_event_id : NULL);
    field(b, false, sch ? sch->review_on : NULL);
    field(b, false, sch ? sch->lead : NULL);
    field(b, false, p ? p->revise_by : NULL);
    field(b, false, p ? p->revised_by : NULL);
    field(b, false, p == NULL || !p->has_approval_needed ? "" : p->approval_needed ? "true" : "false");
    put(b, "\r\n", 2);
}

int jr_extract_csv(const jr_cut_t *cut, char **out, size_t *len)
{
    buf_t b = {0};
    put(&b, JR_EXTRACT_CSV_HEADER "\r\n", strlen(JR_EXTRACT_CSV_HEADER) + 2);
    for (size_t i = 0; i < JR_AREA_COUNT; i++) {
        const jr_cut_area_t *a = &cut->areas[i];
        if (!a->shown) {
            continue;
        }
        for (int t = JR_TOPIC_FIRST; t <= JR_TOPIC_LAST; t++) {
            if (jr_format_topic_area((jr_topic_t)t) != (int)a->number ||
                (cut->topics & JR_TOPIC_BIT(t)) == 0) {
                continue;
            }
            bool said = false;
            for (size_t k = 0; k < a->n_statements; k++) {
                if ((int)a->statements[k]->topic == t) {
                    row(&b, cut, a, t, a->statements[k]);
                    said = true;
                }
            }
            if (!said) {
                row(&b, cut, a, t, NULL);
            }
        }
    }
    if (b.failed) {
        free(b.data);
        return -1;
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

/* ---- JSON ----------------------------------------------------------------- */

/* A string, or null. */
static json_t *str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *topics(const Joinedreview__V1__Topic *t, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, str(jr_format_topic_code((jr_topic_t)t[i])));
    }
    return a;
}

static json_t *statement(const Joinedreview__V1__Statement *s)
{
    const Joinedreview__V1__Provenance *pv = s->provenance;
    char at[25] = "";
    if (pv != NULL && pv->has_occurred_at) {
        jr_text_format_instant(pv->occurred_at, at);
    }
    json_t *said_by = json_pack("{s:o, s:o, s:o, s:o, s:o}", "role",
                                str(pv ? role_code(pv->author_role) : NULL), "name",
                                str(pv ? pv->author_name : NULL), "stream",
                                str(pv ? pv->stream : NULL), "occurred_at", str(at[0] ? at : NULL),
                                "source_event_id", str(pv ? pv->source_event_id : NULL));
    return json_pack("{s:o, s:o, s:o, s:b, s:o, s:o}", "topic",
                     str(jr_format_topic_code((jr_topic_t)s->topic)), "working", str(s->working),
                     "not_working", str(s->not_working), "no_change",
                     s->has_no_change && s->no_change, "priority",
                     s->has_priority ? str(priority_code(s->priority)) : json_null(), "said_by",
                     said_by);
}

static json_t *area(const jr_cut_area_t *a)
{
    json_t *statements = json_array(), *views = json_array();
    for (size_t i = 0; i < a->n_statements; i++) {
        json_array_append_new(statements, statement(a->statements[i]));
    }
    for (size_t i = 0; i < a->n_views; i++) {
        const Joinedreview__V1__PriorityView *v = a->views[i];
        json_array_append_new(
            views, json_pack("{s:o, s:o, s:o, s:o}", "stream", str(v->stream), "role",
                             str(role_code(v->author_role)), "topic",
                             str(jr_format_topic_code((jr_topic_t)v->topic)), "priority",
                             str(priority_code(v->priority))));
    }
    return json_pack("{s:i, s:s, s:s, s:b, s:b, s:o, s:b, s:o}", "number", (int)a->number,
                     "title", jr_format_area_title((int)a->number), "priority",
                     priority_code(a->priority), "priority_from_person", a->priority_from_person,
                     "conflict", a->conflict, "views", views, "views_withheld", a->views_withheld,
                     "statements", statements);
}

static json_t *schedule(const Joinedreview__V1__Schedule *s)
{
    if (s == NULL) {
        return json_null();
    }
    json_t *covered = json_array(), *streams = json_array();
    for (size_t i = 0; i < s->n_covered_streams; i++) {
        json_array_append_new(covered, str(s->covered_streams[i]));
    }
    for (size_t i = 0; i < s->n_streams; i++) {
        const Joinedreview__V1__StreamSchedule *st = s->streams[i];
        json_array_append_new(
            streams, json_pack("{s:o, s:o, s:o, s:b, s:b}", "stream", str(st->stream),
                               "next_due_on", str(st->next_due_on), "last_review_on",
                               str(st->last_review_on), "drives_date",
                               !st->has_drives_date || st->drives_date, "covered",
                               st->has_covered && st->covered));
    }
    return json_pack("{s:o, s:o, s:o, s:o}", "next_review_on", str(s->review_on), "lead",
                     str(s->lead), "covered_streams", covered, "streams", streams);
}

int jr_extract_json(const jr_cut_t *cut, char **out, size_t *len)
{
    json_t *areas = json_array(), *completeness = json_array();
    for (size_t i = 0; i < JR_AREA_COUNT; i++) {
        if (cut->areas[i].shown) {
            json_array_append_new(areas, area(&cut->areas[i]));
        }
    }
    for (size_t i = 0; i < cut->n_completeness; i++) {
        const Joinedreview__V1__StreamCompleteness *c = cut->completeness[i];
        json_array_append_new(completeness,
                              json_pack("{s:o, s:b, s:o, s:o}", "stream", str(c->stream),
                                        "complete", c->has_complete && c->complete, "covered",
                                        topics(c->covered, c->n_covered), "missing",
                                        topics(c->missing, c->n_missing)));
    }
    const Joinedreview__V1__PlanRevision *p = cut->plan_revision;
    json_t *plan = p == NULL ? json_null()
                             : json_pack("{s:o, s:o, s:o, s:o}", "revise_by", str(p->revise_by),
                                         "revised_by", str(p->revised_by), "approval_needed",
                                         p->has_approval_needed ? json_boolean(p->approval_needed)
                                                                : json_null(),
                                         "approver", str(p->approver));
    json_t *doc = json_pack(
        "{s:s, s:o, s:o, s:i, s:i, s:o, s:o, s:b, s:o, s:o, s:o, s:o}", "stream", cut->stream,
        "nhs_number", str(cut->nhs_number), "preferred_name", str(cut->called), "cycle",
        (int)cut->cycle, "version", (int)cut->version, "held_on", str(cut->held_on), "as_of",
        str(cut->as_of), "ready_for_sign_off", cut->ready_for_sign_off, "minimum_information",
        completeness, "areas", areas, "schedule", schedule(cut->schedule),
        "support_plan_revision", plan);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (text == NULL) {
        return -1;
    }
    *len = strlen(text);
    /* A final newline, as text files have. */
    char *t = realloc(text, *len + 2);
    if (t == NULL) {
        free(text);
        return -1;
    }
    t[(*len)++] = '\n';
    t[*len] = '\0';
    *out = t;
    return 0;
}
