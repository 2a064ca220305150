/* page_review.c -- one person's review, in the review format's own layout.
 *
 * The eight areas and "anything else" as the format's table (what is
 * working, what is not working, the priority for change), each statement
 * with who said it and when; conflicts named plainly; each funding
 * stream's minimum information, met or missing; the schedule; the notices
 * sent; the support plan revision; how the person wants their review
 * (their preferences); each stream's budget and underspend rule (the whole
 * review only); earlier cycles. A stream officer's page is written from their cut (cut.h) alone.
 * Every view is audited before the page is written (page.c). */
#include "page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queries.h"
#include "text.h"

static const char *stream_name(const jr_req_t *req, const char *code)
{
    const jr_stream_t *s = jr_streams_find(req->app->streams, code);
    return s != NULL ? s->name : code;
}

static void date_cell(jr_html_t *h, const char *iso)
{
    char words[24];
    if (iso == NULL || iso[0] == '\0') {
        jr_html_raw(h, "None");
        return;
    }
    jr_html_text(h, jr_html_date(iso, words));
}

/* One side (working / not working) of an area's statements. */
static void side(jr_html_t *h, const jr_cut_area_t *a, bool working)
{
    bool any = false;
    for (size_t i = 0; i < a->n_statements; i++) {
        const Joinedreview__V1__Statement *s = a->statements[i];
        const char *text = working ? s->working : s->not_working;
        bool no_change = working && s->has_no_change && s->no_change;
        if ((text == NULL || text[0] == '\0') && !no_change) {
            continue;
        }
        jr_html_raw(h, any ? "" : "<ul class=\"statements\">");
        any = true;
        jr_html_raw(h, "<li><span class=\"topic\">");
        jr_html_text(h, jr_format_topic_title((jr_topic_t)s->topic));
        jr_html_raw(h, ":</span> <span class=\"said\">");
        if (text != NULL && text[0] != '\0') {
            jr_html_text(h, text);
        } else {
            jr_html_raw(h, "No change.");
        }
        jr_html_raw(h, "</span> ");
        jr_page_provenance(h, s->provenance);
        if (s->has_priority && s->priority != JOINEDREVIEW__V1__PRIORITY__NOT_GIVEN && !working) {
            jr_html_raw(h, " <span class=\"given\">");
            jr_html_text(h, jr_page_priority_words(s->priority));
            jr_html_raw(h, "</span>");
        }
        jr_html_raw(h, "</li>");
    }
    jr_html_raw(h, any ? "</ul>" : "<p class=\"none\">Nothing said yet.</p>");
}

static void priority_cell(jr_html_t *h, const jr_cut_area_t *a)
{
    static const char *const classes[] = {"none", "green", "amber", "red"};
    int p = a->priority >= 0 && a->priority <= 3 ? (int)a->priority : 0;
    jr_html_rawf(h, "<p class=\"priority %s\">", classes[p]);
    jr_html_text(h, jr_page_priority_words(p));
    if (p != 0) {
        jr_html_raw(h,
                    a->priority_from_person ? " (the person's own)" : " (the highest anyone gave)");
    }
    jr_html_raw(h, "</p>");
    if (a->conflict) {
        jr_html_raw(h, "<div class=\"conflict\"><p><strong>Views differ:</strong></p><ul>");
        for (size_t i = 0; i < a->n_views; i++) {
            const Joinedreview__V1__PriorityView *v = a->views[i];
            jr_html_raw(h, "<li>");
            jr_html_text(h, jr_page_role_words(v->author_role));
            jr_html_raw(h, " (");
            jr_html_text(h, v->stream);
            jr_html_raw(h, ", ");
            jr_html_text(h, jr_format_topic_title((jr_topic_t)v->topic));
            jr_html_raw(h, "): ");
            jr_html_text(h, jr_page_priority_words(v->priority));
            jr_html_raw(h, "</li>");
        }
        if (a->views_withheld) {
            jr_html_raw(h, "<li>and views on topics outside your stream's minimum "
                           "information</li>");
        }
        jr_html_raw(h, "</ul></div>");
    }
}

static void areas(const jr_req_t *req, jr_html_t *h, const jr_cut_t *cut)
{
    jr_html_raw(h, "<h2 id=\"areas\">The eight areas</h2>\n");
    if (!cut->whole) {
        jr_html_raw(h, "<p>Shown: the topics of ");
        jr_html_text(h, stream_name(req, req->session->account.stream));
        jr_html_raw(h, "'s minimum information, with Income and benefits, and Information.</p>\n");
    }
    jr_html_raw(h, "<table class=\"format\" aria-labelledby=\"areas\">\n<thead><tr>"
                   "<th scope=\"col\">Area</th><th scope=\"col\">What is working?</th>"
                   "<th scope=\"col\">What is not working?</th>"
                   "<th scope=\"col\">What are the priorities for change?</th></tr></thead>\n"
                   "<tbody>\n");
    for (size_t i = 0; i < JR_AREA_COUNT; i++) {
        const jr_cut_area_t *a = &cut->areas[i];
        jr_html_rawf(h, "<tr id=\"area-%u\"><th scope=\"row\">", a->number);
        if (a->number < JR_AREA_COUNT) {
            jr_html_rawf(h, "<span class=\"number\">%u</span> ", a->number);
        }
        jr_html_text(h, a->number < JR_AREA_COUNT ? jr_format_area_title((int)a->number)
                                                  : "Anything else?");
        jr_html_raw(h, "</th>");
        if (!a->shown) {
            jr_html_raw(h, "<td colspan=\"3\" class=\"withheld\">Not shared with ");
            jr_html_text(h, stream_name(req, req->session->account.stream));
            jr_html_raw(h, ": outside its minimum information.</td></tr>\n");
            continue;
        }
        jr_html_raw(h, "<td>");
        side(h, a, true);
        jr_html_raw(h, "</td><td>");
        side(h, a, false);
        jr_html_raw(h, "</td><td>");
        priority_cell(h, a);
        jr_html_raw(h, "</td></tr>\n");
    }
    jr_html_raw(h, "</tbody></table>\n");
}

static void topic_list(jr_html_t *h, const Joinedreview__V1__Topic *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        jr_html_raw(h, i ? ", " : "");
        jr_html_text(h, jr_format_topic_title((jr_topic_t)t[i]));
    }
    if (n == 0) {
        jr_html_raw(h, "None");
    }
}

static void completeness(const jr_req_t *req, jr_html_t *h, const jr_cut_t *cut)
{
    jr_html_raw(h, "<h2 id=\"minimum\">Each funding stream's minimum information</h2>\n"
                   "<table aria-labelledby=\"minimum\"><thead><tr><th scope=\"col\">Stream</th>"
                   "<th scope=\"col\">Met?</th><th scope=\"col\">Missing</th>"
                   "<th scope=\"col\">Covered</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < cut->n_completeness; i++) {
        const Joinedreview__V1__StreamCompleteness *s = cut->completeness[i];
        bool met = s->has_complete && s->complete;
        jr_html_raw(h, "<tr><th scope=\"row\">");
        jr_html_text(h, stream_name(req, s->stream));
        jr_html_raw(h, met ? "</th><td class=\"met\">Met" : "</th><td class=\"unmet\">Missing");
        jr_html_raw(h, "</td><td>");
        topic_list(h, s->missing, s->n_missing);
        jr_html_raw(h, "</td><td>");
        topic_list(h, s->covered, s->n_covered);
        jr_html_raw(h, "</td></tr>\n");
    }
    jr_html_raw(h, "</tbody></table>\n");
}

static void schedule(const jr_req_t *req, jr_html_t *h, const jr_cut_t *cut)
{
    const Joinedreview__V1__Schedule *s = cut->schedule;
    jr_html_raw(h, "<h2 id=\"schedule\">Schedule</h2>\n");
    if (s == NULL) {
        jr_html_raw(h, "<p>No review date yet.</p>\n");
        return;
    }
    jr_html_raw(h, "<dl class=\"facts\"><dt>Joined-up review date</dt><dd>");
    date_cell(h, s->review_on);
    jr_html_raw(h, "</dd><dt>Lead organisation</dt><dd>");
    jr_html_text(h, s->lead ? stream_name(req, s->lead) : "None");
    jr_html_raw(h, "</dd><dt>Streams reviewed at it</dt><dd>");
    for (size_t i = 0; i < s->n_covered_streams; i++) {
        jr_html_raw(h, i ? ", " : "");
        jr_html_text(h, s->covered_streams[i]);
    }
    jr_html_raw(h, "</dd></dl>\n<table aria-labelledby=\"schedule\"><thead><tr>"
                   "<th scope=\"col\">Stream</th><th scope=\"col\">Its own next review</th>"
                   "<th scope=\"col\">Last reviewed</th><th scope=\"col\">At the joined-up "
                   "review?</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < s->n_streams; i++) {
        const Joinedreview__V1__StreamSchedule *st = s->streams[i];
        jr_html_raw(h, "<tr><th scope=\"row\">");
        jr_html_text(h, stream_name(req, st->stream));
        jr_html_raw(h, "</th><td>");
        if (st->has_drives_date && !st->drives_date) {
            jr_html_raw(h, "Sets no date");
        } else {
            date_cell(h, st->next_due_on);
        }
        jr_html_raw(h, "</td><td>");
        date_cell(h, st->last_review_on);
        jr_html_raw(h, st->has_covered && st->covered ? "</td><td>Yes</td></tr>\n"
                                                      : "</td><td>No</td></tr>\n");
    }
    jr_html_raw(h, "</tbody></table>\n");
}

/* "28 days ahead", "Due today", "Overdue (notice 2)" from the notice's kind
 * and key ("lead-28", "due", "overdue-2"). */
static void notice_words(jr_html_t *h, const char *kind, const char *key)
{
    const char *dash = strchr(key, '-');
    unsigned n = dash != NULL ? (unsigned)strtoul(dash + 1, NULL, 10) : 0;
    if (strcmp(kind, "LEAD") == 0) {
        jr_html_rawf(h, "%u days ahead", n);
    } else if (strcmp(kind, "DUE") == 0) {
        jr_html_raw(h, "Due today");
    } else if (strcmp(kind, "OVERDUE") == 0) {
        jr_html_rawf(h, "Overdue (notice %u)", n);
    } else {
        jr_html_text(h, key);
    }
}

static void notices(jr_html_t *h, PGresult *r)
{
    jr_html_raw(h, "<h2 id=\"notices\">Notices sent</h2>\n");
    if (r == NULL || PQntuples(r) == 0) {
        jr_html_raw(h, "<p>None yet.</p>\n");
        return;
    }
    jr_html_raw(h, "<table aria-labelledby=\"notices\"><thead><tr><th scope=\"col\">For</th>"
                   "<th scope=\"col\">Notice</th><th scope=\"col\">Review date</th>"
                   "<th scope=\"col\">Lead</th><th scope=\"col\">Cycle</th></tr></thead>\n"
                   "<tbody>\n");
    for (int i = 0; i < PQntuples(r); i++) {
        jr_html_raw(h, "<tr><td>");
        date_cell(h, PQgetvalue(r, i, 3));
        jr_html_raw(h, "</td><td>");
        notice_words(h, PQgetvalue(r, i, 2), PQgetvalue(r, i, 1));
        jr_html_raw(h, "</td><td>");
        date_cell(h, PQgetvalue(r, i, 4));
        jr_html_raw(h, "</td><td>");
        jr_html_text(h, PQgetvalue(r, i, 5));
        jr_html_raw(h, "</td><td>");
        jr_html_text(h, PQgetvalue(r, i, 0));
        jr_html_raw(h, "</td></tr>\n");
    }
    jr_html_raw(h, "</tbody></table>\n");
}

static void plan(jr_html_t *h, const jr_cut_t *cut)
{
    const Joinedreview__V1__PlanRevision *p = cut->plan_revision;
    jr_html_raw(h, "<h2>Support plan revision</h2>\n<dl class=\"facts\">"
                   "<dt>When will the support plan be revised?</dt><dd>");
    date_cell(h, p ? p->revise_by : NULL);
    jr_html_raw(h, "</dd><dt>Who will do this?</dt><dd>");
    jr_html_text(h, p && p->revised_by ? p->revised_by : "Not said yet");
    jr_html_raw(h, "</dd><dt>Will anyone need to OK these changes?</dt><dd>");
    if (p == NULL || !p->has_approval_needed) {
        jr_html_raw(h, "Not said yet");
    } else if (p->approval_needed) {
        jr_html_raw(h, "Yes");
        if (p->approver != NULL) {
            jr_html_raw(h, ": ");
            jr_html_text(h, p->approver);
        }
    } else {
        jr_html_raw(h, "No");
    }
    jr_html_raw(h, "</dd></dl>\n");
}

/* Each stream's latest budget and what happens to an underspend: the whole
 * review only. */
static void budgets(const jr_req_t *req, jr_html_t *h, const jr_cut_t *cut)
{
    if (!cut->whole) {
        return;
    }
    jr_html_raw(h, "<h2 id=\"budgets\">Budgets and underspend</h2>\n");
    if (cut->n_budgets == 0) {
        jr_html_raw(h, "<p>No funding stream has sent a budget yet.</p>\n");
        return;
    }
    jr_html_raw(h, "<table aria-labelledby=\"budgets\"><thead><tr><th scope=\"col\">Stream</th>"
                   "<th scope=\"col\">Period</th><th scope=\"col\">Allocated</th>"
                   "<th scope=\"col\">Spent</th><th scope=\"col\">Underspend</th>"
                   "<th scope=\"col\">What happens to it</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < cut->n_budgets; i++) {
        const Joinedreview__V1__StreamBudget *b = cut->budgets[i];
        char money[32];
        const char *rule = jr_underspend_title((jr_underspend_t)b->rule);
        jr_html_raw(h, "<tr><th scope=\"row\">");
        jr_html_text(h, stream_name(req, b->stream));
        jr_html_raw(h, "</th><td>");
        date_cell(h, b->period_start);
        jr_html_raw(h, " to ");
        date_cell(h, b->period_end);
        jr_html_raw(h, "</td><td>");
        jr_html_text(h, jr_text_pounds(b->allocated_pence, money));
        jr_html_raw(h, "</td><td>");
        jr_html_text(h, jr_text_pounds(b->spent_pence, money));
        jr_html_raw(h, b->underspend_pence < 0 ? "</td><td class=\"overspend\">Overspent by "
                                                : "</td><td>");
        jr_html_text(h, jr_text_pounds(b->underspend_pence < 0 ? -b->underspend_pence
                                                               : b->underspend_pence,
                                       money));
        jr_html_raw(h, b->rule == JOINEDREVIEW__V1__UNDERSPEND_RULE__UNDERSPEND_NOT_SET
                           ? "</td><td class=\"no-rule\">"
                           : "</td><td>");
        jr_html_text(h, rule != NULL ? rule : "?");
        jr_html_raw(h, "</td></tr>\n");
    }
    jr_html_raw(h, "</tbody></table>\n");
}

static void cycles(jr_html_t *h, const jr_page_person_t *p)
{
    jr_html_raw(h, "<h2>Review cycles</h2>\n<ul class=\"cycles\">");
    for (int i = 0; i < PQntuples(p->rows); i++) {
        const char *cyc = PQgetvalue(p->rows, i, 0), *held = PQgetvalue(p->rows, i, 2);
        bool this_one = strtoul(cyc, NULL, 10) == p->cycle;
        jr_html_raw(h, "<li>");
        if (!this_one) {
            jr_html_raw(h, "<a href=\"/person/");
            jr_html_attr(h, p->nhs);
            jr_html_raw(h, "?cycle=");
            jr_html_attr(h, cyc);
            jr_html_raw(h, "\">");
        }
        jr_html_raw(h, "Cycle ");
        jr_html_text(h, cyc);
        if (held[0] != '\0') {
            jr_html_raw(h, ", held on ");
            date_cell(h, held);
        } else {
            jr_html_raw(h, ", open");
        }
        jr_html_raw(h, this_one ? " (shown)" : "</a>");
        jr_html_raw(h, "</li>");
    }
    jr_html_raw(h, "</ul>\n");
}

void jr_page_review(jr_req_t *req, jr_resp_t *resp, const char *rest)
{
    const jr_account_t *a = &req->session->account;
    if (a->role != JR_ACCOUNT_SCHEDULER && a->role != JR_ACCOUNT_STREAM_OFFICER) {
        jr_page_error(req, resp, 403, "Not for your role",
                      "A person's review is for review schedulers and stream officers.");
        return;
    }
    const char *cyc = jr_req_arg(req, "cycle");
    char *end = NULL;
    unsigned long cycle = cyc ? strtoul(cyc, &end, 10) : 0;
    if (cyc != NULL && (end == cyc || *end != '\0' || cycle == 0 || cycle > 100000)) {
        jr_page_error(req, resp, 400, "No such review cycle", "A cycle is a whole number.");
        return;
    }
    PGconn *c = jr_page_db(req, resp);
    if (c == NULL) {
        return;
    }
    jr_page_person_t p;
    if (jr_page_person_load(req, resp, c, rest, (unsigned)cycle, "review", &p) != 0) {
        jr_page_db_done(req, c);
        return;
    }
    PGresult *sent = jr_queries_notices(c, p.nhs);
    jr_page_db_done(req, c);

    jr_html_t *h = &resp->body;
    const jr_cut_t *cut = &p.cut;
    char name[13], nhs[13], title[280];
    const char *called = jr_page_preferred_name(cut->called, p.nhs, name);
    snprintf(title, sizeof title, "Review of %s", called);
    jr_page_begin(req, resp, title, NULL, 0);
    jr_html_raw(h, "<h1>Review of ");
    jr_html_text(h, called);
    jr_html_raw(h, "</h1>\n<dl class=\"facts summary\"><dt>NHS number</dt><dd>");
    jr_html_text(h, jr_html_nhs(p.nhs, nhs));
    jr_html_rawf(h, "</dd><dt>Review cycle</dt><dd>%u (version %u)</dd><dt>As of</dt><dd>",
                 cut->cycle, cut->version);
    date_cell(h, cut->as_of);
    jr_html_raw(h, "</dd><dt>Ready for sign-off?</dt><dd>");
    jr_html_raw(h, cut->ready_for_sign_off ? "Yes" : "No: information is missing");
    if (cut->held_on != NULL) {
        jr_html_raw(h, "</dd><dt>Held on</dt><dd>");
        date_cell(h, cut->held_on);
    }
    jr_html_raw(h, "</dd></dl>\n");
    if (a->role == JR_ACCOUNT_SCHEDULER) {
        jr_html_raw(h, "<p class=\"actions\"><a href=\"/person/");
        jr_html_attr(h, p.nhs);
        jr_html_raw(h, "/pack\">The review pack to send to the person</a> (<a href=\"/person/");
        jr_html_attr(h, p.nhs);
        jr_html_raw(h, "/pack?print=large\">large print</a>)</p>\n");
    }
    jr_page_preferences(h, cut);
    areas(req, h, cut);
    completeness(req, h, cut);
    schedule(req, h, cut);
    notices(h, sent);
    plan(h, cut);
    budgets(req, h, cut);
    cycles(h, &p);
    jr_html_end(h);
    PQclear(sent);
    jr_page_person_clear(&p);
}
