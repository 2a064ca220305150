/* page_desk.c -- the data officer's desk: their stream's input that the
 * daemon refused, by reason, with counts and what to correct; and the
 * events still parked, waiting for an enrolment that links their
 * identifiers, with how long they have waited. Only the reason, the ids and
 * the sizes are read: the refused bytes themselves never reach a page. */
#include "page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queries.h"

static void cell(jr_html_t *h, const char *text)
{
    jr_html_raw(h, "<td>");
    jr_html_text(h, text);
    jr_html_raw(h, "</td>");
}

static void waited(jr_html_t *h, long long s)
{
    long long days = s / 86400, hours = s % 86400 / 3600;
    if (days > 0) {
        jr_html_rawf(h, "%lld day%s, %lld hour%s", days, days == 1 ? "" : "s", hours,
                     hours == 1 ? "" : "s");
    } else {
        jr_html_rawf(h, "%lld hour%s, %lld minutes", hours, hours == 1 ? "" : "s", s % 3600 / 60);
    }
}

static void rejected(jr_html_t *h, PGresult *groups, PGresult *examples)
{
    jr_html_raw(h, "<h2 id=\"rejected\">Rejected input</h2>\n");
    if (PQntuples(groups) == 0) {
        jr_html_raw(h, "<p>Nothing from this stream was refused.</p>\n");
        return;
    }
    jr_html_raw(h, "<table aria-labelledby=\"rejected\"><thead><tr><th scope=\"col\">Reason</th>"
                   "<th scope=\"col\">Messages</th><th scope=\"col\">Times received</th>"
                   "<th scope=\"col\">First seen (UTC)</th><th scope=\"col\">Last seen "
                   "(UTC)</th></tr></thead>\n<tbody>\n");
    for (int i = 0; i < PQntuples(groups); i++) {
        jr_html_raw(h, "<tr><th scope=\"row\"><a href=\"#reason-");
        jr_html_attr(h, PQgetvalue(groups, i, 0));
        jr_html_raw(h, "\">");
        jr_html_text(h, PQgetvalue(groups, i, 0));
        jr_html_raw(h, "</a></th>");
        for (int k = 1; k <= 4; k++) {
            cell(h, PQgetvalue(groups, i, k));
        }
        jr_html_raw(h, "</tr>\n");
    }
    jr_html_raw(h, "</tbody></table>\n");
    for (int i = 0; i < PQntuples(groups); i++) {
        const char *code = PQgetvalue(groups, i, 0);
        jr_html_raw(h, "<h3 id=\"reason-");
        jr_html_attr(h, code);
        jr_html_raw(h, "\">");
        jr_html_text(h, code);
        jr_html_raw(h, ": what to correct</h3>\n<table class=\"examples\"><thead><tr>"
                       "<th scope=\"col\">Source event id</th><th scope=\"col\">What to "
                       "correct</th><th scope=\"col\">Times</th><th scope=\"col\">Last seen "
                       "(UTC)</th><th scope=\"col\">Bytes</th></tr></thead>\n<tbody>\n");
        for (int e = 0; e < PQntuples(examples); e++) {
            if (strcmp(PQgetvalue(examples, e, 0), code) != 0) {
                continue;
            }
            jr_html_raw(h, "<tr>");
            for (int k = 1; k <= 5; k++) {
                cell(h, PQgetvalue(examples, e, k));
            }
            jr_html_raw(h, "</tr>\n");
        }
        jr_html_raw(h, "</tbody></table>\n");
    }
}

static void parked(jr_html_t *h, PGresult *r)
{
    jr_html_raw(h, "<h2 id=\"parked\">Parked events</h2>\n");
    int n = PQntuples(r);
    if (n == 0) {
        jr_html_raw(h, "<p>No events are waiting.</p>\n");
        return;
    }
    jr_html_raw(h, "<p>Events waiting: ");
    jr_html_text(h, PQgetvalue(r, 0, 6));
    jr_html_raw(h, ". Each names only identifiers that no enrolment links to an NHS number yet. "
                   "They join the person's review by themselves once an enrolment naming both "
                   "arrives; an old one usually means the enrolment was never sent.</p>\n"
                   "<table aria-labelledby=\"parked\"><thead><tr><th scope=\"col\">Source event "
                   "id</th><th scope=\"col\">Kind</th><th scope=\"col\">NI number</th>"
                   "<th scope=\"col\">Client id</th><th scope=\"col\">Received (UTC)</th>"
                   "<th scope=\"col\">Waiting</th></tr></thead>\n<tbody>\n");
    for (int i = 0; i < n; i++) {
        jr_html_raw(h, "<tr>");
        for (int k = 0; k <= 4; k++) {
            cell(h, PQgetvalue(r, i, k));
        }
        jr_html_raw(h, "<td>");
        waited(h, strtoll(PQgetvalue(r, i, 5), NULL, 10));
        jr_html_raw(h, "</td></tr>\n");
    }
    jr_html_raw(h, "</tbody></table>\n");
}

void jr_page_desk(jr_req_t *req, jr_resp_t *resp)
{
    const jr_account_t *a = &req->session->account;
    if (a->role != JR_ACCOUNT_DATA_OFFICER) {
        jr_page_error(req, resp, 403, "Not for your role",
                      "The data officer's desk is for data officers.");
        return;
    }
    PGconn *c = jr_page_db(req, resp);
    if (c == NULL) {
        return;
    }
    PGresult *groups = jr_queries_rejected_groups(c, a->stream);
    PGresult *examples = groups ? jr_queries_rejected_examples(c, a->stream) : NULL;
    PGresult *waiting = examples ? jr_queries_parked(c, a->stream, 200) : NULL;
    jr_page_db_done(req, c);
    if (waiting == NULL) {
        jr_page_error(req, resp, 503, "The desk cannot be read",
                      "The database did not answer. Please try again in a minute.");
    } else {
        jr_html_t *h = &resp->body;
        const jr_stream_t *s = jr_streams_find(req->app->streams, a->stream);
        jr_page_begin(req, resp, "Data officer's desk", NULL, 0);
        jr_html_raw(h, "<h1>Data officer's desk: ");
        jr_html_text(h, s ? s->name : a->stream);
        jr_html_raw(h, "</h1>\n");
        rejected(h, groups, examples);
        parked(h, waiting);
        jr_html_end(h);
    }
    PQclear(groups);
    PQclear(examples);
    PQclear(waiting);
}
