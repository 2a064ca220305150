/* page_aggregates.c -- the analyst's page: counts from the reporting views
 * and the schedule, never an identifier or a word anyone wrote. */
#include "page.h"

#include <stdio.h>

#include "queries.h"

/* A table of r under a heading; every value is a count or a code. */
static void table(jr_html_t *h, const char *id, const char *title, PGresult *r,
                  const char *const *heads, int n_cols)
{
    jr_html_rawf(h, "<h2 id=\"%s\">", id);
    jr_html_text(h, title);
    jr_html_rawf(h, "</h2>\n<table aria-labelledby=\"%s\"><thead><tr>", id);
    for (int k = 0; k < n_cols; k++) {
        jr_html_raw(h, "<th scope=\"col\">");
        jr_html_text(h, heads[k]);
        jr_html_raw(h, "</th>");
    }
    jr_html_raw(h, "</tr></thead>\n<tbody>\n");
    for (int i = 0; i < PQntuples(r); i++) {
        jr_html_raw(h, "<tr><th scope=\"row\">");
        jr_html_text(h, PQgetvalue(r, i, 0));
        jr_html_raw(h, "</th>");
        for (int k = 1; k < n_cols && k < PQnfields(r); k++) {
            jr_html_raw(h, "<td>");
            jr_html_text(h, PQgetvalue(r, i, k));
            jr_html_raw(h, "</td>");
        }
        jr_html_raw(h, "</tr>\n");
    }
    jr_html_raw(h, "</tbody></table>\n");
}

void jr_page_aggregates(jr_req_t *req, jr_resp_t *resp)
{
    if (req->session->account.role != JR_ACCOUNT_ANALYST) {
        jr_page_error(req, resp, 403, "Not for your role", "Aggregates are for analysts.");
        return;
    }
    PGconn *c = jr_page_db(req, resp);
    if (c == NULL) {
        return;
    }
    jr_day_t today = jr_clock_today(&req->app->clock);
    PGresult *r[6] = {jr_queries_due(c, today, false),
                      jr_queries_due(c, today, true),
                      jr_queries_completeness(c),
                      jr_queries_priorities(c),
                      jr_queries_held(c),
                      jr_queries_meetings(c)};
    jr_page_db_done(req, c);
    bool ok = true;
    for (int i = 0; i < 6; i++) {
        ok = ok && r[i] != NULL;
    }
    if (!ok) {
        jr_page_error(req, resp, 503, "The figures cannot be read",
                      "The database did not answer. Please try again in a minute.");
    } else {
        static const char *const due[] = {"Stream", "Overdue", "Due within 28 days", "Scheduled"};
        static const char *const lead[] = {"Lead organisation", "Overdue", "Due within 28 days",
                                           "Scheduled"};
        static const char *const comp[] = {"Stream", "Enrolled", "Complete", "Missing information"};
        static const char *const prio[] = {"Area",  "Red",       "Amber",
                                           "Green", "Not given", "Conflicts"};
        static const char *const held[] = {"Month", "Reviews held"};
        static const char *const meet[] = {"Joined-up reviews", "Separate meetings they replace",
                                           "Meetings saved"};
        jr_html_t *h = &resp->body;
        char text[11], words[24];
        jr_text_format_date(today, text);
        jr_page_begin(req, resp, "Aggregates", NULL, 0);
        jr_html_raw(h, "<h1>Aggregates</h1>\n<p class=\"lede\">Counts only, as of ");
        jr_html_text(h, jr_html_date(text, words));
        jr_html_raw(h, ": no person can be told from them.</p>\n");
        table(h, "due-stream", "Joined-up reviews by funding stream covered", r[0], due, 4);
        table(h, "due-lead", "Joined-up reviews by lead organisation", r[1], lead, 4);
        table(h, "completeness", "Minimum information by funding stream", r[2], comp, 4);
        table(h, "priorities", "Priorities for change by area", r[3], prio, 6);
        table(h, "held", "Reviews held by month", r[4], held, 2);
        table(h, "meetings", "Meetings saved by joining reviews up", r[5], meet, 3);
        jr_html_end(h);
    }
    for (int i = 0; i < 6; i++) {
        PQclear(r[i]);
    }
}
