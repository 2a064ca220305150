/* page_worklist.c -- the joined-up reviews coming up, due and overdue.
 *
 * A scheduler sees the reviews their lead organisations lead; a stream
 * officer those of persons enrolled in their stream (and of "what is
 * missing", only whether their own stream's minimum is). Rows are in review
 * date order, grouped in the bands of bands.h; without a band chosen the
 * list runs from the most overdue to 56 days ahead.
 *
 * Filters: lead organisation (among the scheduler's), stream covered, ready
 * for sign-off or missing information, band, and the person's way: how they
 * want their review, or what they need to take part (their preferences in
 * the record). Each row names the person as they want to be called. */
#include "page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bands.h"
#include "queries.h"
#include "way.h"

/* The person's way (DOMAIN.md "How the person wants their review"): the
 * filter's values, each a way (the record's way column) or a need (its
 * needs). */
static const struct {
    const char *value, *label, *way, *need;
} g_ways[] = {
    {"themselves-first", "Completes the format first, then meets", "FORMAT_FIRST", NULL},
    {"meeting", "A meeting", "MEETING", NULL},
    {"with-others", "With others, as a group", "WITH_OTHERS", NULL},
    {"interpreter", "Needs a BSL interpreter", NULL, "BSL_INTERPRETER"},
    {"other-language", "Needs another language", NULL, "OTHER_LANGUAGE"},
    {"large-print", "Needs large print", NULL, "LARGE_PRINT"},
    {"easy-read", "Needs easy read", NULL, "EASY_READ"},
    {"advocate", "Needs an advocate", NULL, "ADVOCATE"},
    {"braille", "Needs braille", NULL, "BRAILLE"},
    {"audio", "Needs audio", NULL, "AUDIO"},
};

static bool listed(const char *csv, const char *code)
{
    size_t n = strlen(code);
    for (const char *c = csv; *c != '\0';) {
        size_t len = strcspn(c, ",");
        if (len == n && strncmp(c, code, n) == 0) {
            return true;
        }
        c += len;
        c += *c == ',';
    }
    return false;
}

static void option(jr_html_t *h, const char *value, const char *label, const char *chosen)
{
    jr_html_raw(h, "<option value=\"");
    jr_html_attr(h, value);
    jr_html_raw(h, chosen != NULL && strcmp(chosen, value) == 0 ? "\" selected>" : "\">");
    jr_html_text(h, label);
    jr_html_raw(h, "</option>");
}

static void filters(jr_req_t *req, jr_html_t *h, const char *lead, const char *stream,
                    const char *info, const char *band, const char *way)
{
    const jr_account_t *a = &req->session->account;
    jr_html_raw(h, "<form method=\"get\" action=\"/worklist\" class=\"filters\">\n");
    if (a->role == JR_ACCOUNT_SCHEDULER) {
        jr_html_raw(h, "<p><label for=\"lead\">Lead organisation</label>\n"
                       "<select id=\"lead\" name=\"lead\">");
        option(h, "", "All I schedule for", lead);
        for (size_t i = 0; i < a->n_leads; i++) {
            const jr_stream_t *s = jr_streams_find(req->app->streams, a->leads[i]);
            option(h, a->leads[i], s ? s->name : a->leads[i], lead);
        }
        jr_html_raw(h, "</select></p>\n");
    }
    jr_html_raw(h, "<p><label for=\"stream\">Funding stream covered</label>\n"
                   "<select id=\"stream\" name=\"stream\">");
    option(h, "", "Any", stream);
    for (size_t i = 0; i < jr_streams_count(req->app->streams); i++) {
        const jr_stream_t *s = jr_streams_at(req->app->streams, i);
        if (s->enabled) {
            option(h, s->code, s->name, stream);
        }
    }
    jr_html_raw(h, "</select></p>\n<p><label for=\"info\">Information</label>\n"
                   "<select id=\"info\" name=\"info\">");
    option(h, "", "Ready or missing", info);
    option(h, "ready", "Ready for sign-off", info);
    option(h, "missing", "Missing information", info);
    jr_html_raw(h, "</select></p>\n<p><label for=\"band\">When</label>\n"
                   "<select id=\"band\" name=\"band\">");
    option(h, "", "Overdue, due and within 56 days", band);
    for (int b = 0; b < JR_BAND_COUNT; b++) {
        option(h, jr_bands_key((jr_band_t)b), jr_bands_title((jr_band_t)b), band);
    }
    jr_html_raw(h, "</select></p>\n<p><label for=\"way\">The person's way</label>\n"
                   "<select id=\"way\" name=\"way\">");
    option(h, "", "Any", way);
    for (size_t i = 0; i < sizeof g_ways / sizeof g_ways[0]; i++) {
        option(h, g_ways[i].value, g_ways[i].label, way);
    }
    jr_html_raw(h, "</select></p>\n<p><button type=\"submit\">Show</button></p>\n</form>\n");
}

/* The streams whose minimum information is missing, for one row. */
static void missing(jr_html_t *h, const char *enrolled, const char *complete, const char *only)
{
    bool any = false;
    for (const char *c = enrolled; *c != '\0';) {
        size_t len = strcspn(c, ",");
        char code[JR_STREAM_CODE_MAX];
        snprintf(code, sizeof code, "%.*s", (int)len, c);
        if (!listed(complete, code) && (only == NULL || strcmp(only, code) == 0)) {
            jr_html_raw(h, any ? ", " : "");
            jr_html_text(h, code);
            any = true;
        }
        c += len;
        c += *c == ',';
    }
    if (!any) {
        jr_html_raw(h, "Nothing");
    }
}

/* How the person wants their review and what they need, in words. */
static void their_way(jr_html_t *h, const char *way, const char *needs)
{
    const char *title = jr_way_title(jr_way_from_code(way));
    bool any = title != NULL;
    jr_html_text(h, title != NULL ? title : "");
    for (const char *c = needs; *c != '\0';) {
        size_t len = strcspn(c, ",");
        char code[32];
        snprintf(code, sizeof code, "%.*s", (int)len, c);
        const char *need = jr_need_title(jr_need_from_code(code));
        if (need != NULL) {
            jr_html_raw(h, any ? "; " : "");
            jr_html_text(h, need);
            any = true;
        }
        c += len;
        c += *c == ',';
    }
    jr_html_raw(h, any ? "" : "Not recorded");
}

static void table_head(jr_html_t *h, jr_band_t band, int count)
{
    jr_html_rawf(h, "<h2 id=\"band-%s\">", jr_bands_key(band));
    jr_html_text(h, jr_bands_title(band));
    jr_html_rawf(h, " <span class=\"count\">(%d)</span></h2>\n", count);
    jr_html_rawf(h,
                 "<table class=\"worklist\" aria-labelledby=\"band-%s\">\n<thead><tr>"
                 "<th scope=\"col\">Review date</th><th scope=\"col\">Name</th>"
                 "<th scope=\"col\">NHS number</th><th scope=\"col\">Lead</th>"
                 "<th scope=\"col\">Streams covered</th><th scope=\"col\">Missing information</th>"
                 "<th scope=\"col\">Their way</th>"
                 "<th scope=\"col\">Review pack</th></tr></thead>\n<tbody>\n",
                 jr_bands_key(band));
}

static void rows(jr_req_t *req, jr_html_t *h, PGresult *r, int n, jr_day_t today)
{
    const jr_account_t *a = &req->session->account;
    int counts[JR_BAND_COUNT] = {0};
    jr_bands_t bands;
    jr_bands_init(&bands, today);
    for (int i = 0; i < n; i++) {
        jr_day_t d;
        if (jr_text_parse_date(PQgetvalue(r, i, 1), &d) == 0) {
            counts[jr_bands_find(&bands, d)]++;
        }
    }
    int open = -1;
    for (int i = 0; i < n; i++) {
        jr_day_t d;
        if (jr_text_parse_date(PQgetvalue(r, i, 1), &d) != 0) {
            continue;
        }
        jr_band_t band = jr_bands_find(&bands, d);
        if ((int)band != open) {
            jr_html_raw(h, open >= 0 ? "</tbody></table>\n" : "");
            table_head(h, band, counts[band]);
            open = (int)band;
        }
        const char *nhs = PQgetvalue(r, i, 0);
        char shown[13], name[13], date[24];
        jr_html_raw(h, "<tr><td>");
        jr_html_text(h, jr_html_date(PQgetvalue(r, i, 1), date));
        jr_html_raw(h, "</td><td class=\"name\"><a href=\"/person/");
        jr_html_attr(h, nhs);
        jr_html_raw(h, "\">");
        jr_html_text(h, jr_page_preferred_name(PQgetvalue(r, i, 7), nhs, name));
        jr_html_raw(h, "</a></td><td class=\"nhs\">");
        jr_html_text(h, jr_html_nhs(nhs, shown));
        jr_html_raw(h, "</td><td>");
        jr_html_text(h, PQgetvalue(r, i, 2));
        jr_html_raw(h, "</td><td>");
        for (const char *c = PQgetvalue(r, i, 3); *c != '\0';) {
            size_t len = strcspn(c, ",");
            char code[JR_STREAM_CODE_MAX];
            snprintf(code, sizeof code, "%.*s", (int)len, c);
            jr_html_text(h, code);
            c += len;
            if (*c == ',') {
                jr_html_raw(h, ", ");
                c++;
            }
        }
        jr_html_raw(h, "</td><td class=\"missing\">");
        missing(h, PQgetvalue(r, i, 5), PQgetvalue(r, i, 6),
                a->role == JR_ACCOUNT_STREAM_OFFICER ? a->stream : NULL);
        jr_html_raw(h, "</td><td class=\"way\">");
        their_way(h, PQgetvalue(r, i, 8), PQgetvalue(r, i, 9));
        jr_html_raw(h, "</td><td>");
        if (a->role == JR_ACCOUNT_SCHEDULER) {
            jr_html_raw(h, "<a href=\"/person/");
            jr_html_attr(h, nhs);
            jr_html_raw(h, "/pack\">Pack<span class=\"visually-hidden\"> for ");
            jr_html_text(h, shown);
            jr_html_raw(h, "</span></a>");
        }
        jr_html_raw(h, "</td></tr>\n");
    }
    if (open >= 0) {
        jr_html_raw(h, "</tbody></table>\n");
    }
}

void jr_page_worklist(jr_req_t *req, jr_resp_t *resp)
{
    const jr_account_t *a = &req->session->account;
    if (a->role != JR_ACCOUNT_SCHEDULER && a->role != JR_ACCOUNT_STREAM_OFFICER) {
        jr_page_error(req, resp, 403, "Not for your role",
                      "The worklist is for review schedulers and stream officers.");
        return;
    }
    const char *lead = jr_req_arg(req, "lead"), *stream = jr_req_arg(req, "stream"),
               *info = jr_req_arg(req, "info"), *band = jr_req_arg(req, "band"),
               *way = jr_req_arg(req, "way");
    lead = lead && *lead ? lead : NULL;
    stream = stream && *stream ? stream : NULL;
    info = info && *info ? info : NULL;
    band = band && *band ? band : NULL;
    way = way && *way ? way : NULL;

    /* Each filter's value is checked against what it may be; the query
     * takes it as a parameter all the same. */
    const char *only_lead[1] = {lead};
    const char *leads[JR_ACCOUNT_LEADS_MAX];
    jr_queries_worklist_t q = {.ready = -1, .limit = req->app->cfg->worklist_max_rows + 1};
    if (a->role == JR_ACCOUNT_SCHEDULER) {
        bool mine = lead == NULL;
        for (size_t i = 0; i < a->n_leads; i++) {
            leads[i] = a->leads[i];
            mine = mine || strcmp(lead, a->leads[i]) == 0;
        }
        if (!mine) {
            jr_page_error(req, resp, 400, "Not one of your lead organisations",
                          "Choose a lead organisation you schedule for.");
            return;
        }
        q.leads = lead ? only_lead : leads;
        q.n_leads = lead ? 1 : a->n_leads;
    } else {
        q.enrolled_in = a->stream;
    }
    if (stream != NULL && jr_streams_find(req->app->streams, stream) == NULL) {
        jr_page_error(req, resp, 400, "No such funding stream", "Choose a stream from the list.");
        return;
    }
    q.covers = stream;
    if (info != NULL) {
        if (strcmp(info, "ready") != 0 && strcmp(info, "missing") != 0) {
            jr_page_error(req, resp, 400, "No such choice", "Information is ready or missing.");
            return;
        }
        q.ready = strcmp(info, "ready") == 0;
    }
    jr_day_t today = jr_clock_today(&req->app->clock);
    q.first = JR_DAY_NONE;
    q.last = today + 56;
    if (band != NULL) {
        int b = jr_bands_from_key(band);
        if (b < 0) {
            jr_page_error(req, resp, 400, "No such choice", "Choose when from the list.");
            return;
        }
        jr_bands_range((jr_band_t)b, today, &q.first, &q.last);
    }
    bool way_known = way == NULL;
    for (size_t i = 0; way != NULL && i < sizeof g_ways / sizeof g_ways[0]; i++) {
        if (strcmp(way, g_ways[i].value) == 0) {
            way_known = true;
            q.way = g_ways[i].way;
            q.need = g_ways[i].need;
        }
    }
    if (!way_known) {
        jr_page_error(req, resp, 400, "No such choice", "Choose the person's way from the list.");
        return;
    }

    PGconn *c = jr_page_db(req, resp);
    if (c == NULL) {
        return;
    }
    PGresult *r = jr_queries_worklist(c, &q);
    jr_page_db_done(req, c);
    if (r == NULL) {
        jr_page_error(req, resp, 503, "The worklist cannot be read",
                      "The database did not answer. Please try again in a minute.");
        return;
    }
    jr_html_t *h = &resp->body;
    char today_text[11], today_words[24];
    jr_text_format_date(today, today_text);
    jr_page_begin(req, resp, "Worklist", NULL, req->app->cfg->refresh_s);
    jr_html_raw(h, "<h1>Worklist: joined-up reviews</h1>\n<p class=\"lede\">As of ");
    jr_html_text(h, jr_html_date(today_text, today_words));
    jr_html_raw(h, a->role == JR_ACCOUNT_SCHEDULER
                       ? ", the reviews your lead organisations lead, by review date.</p>\n"
                       : ", the reviews of persons enrolled in your stream, by review date.</p>\n");
    filters(req, h, lead, stream, info, band, way);
    int n = r ? PQntuples(r) : 0;
    bool more = n > req->app->cfg->worklist_max_rows;
    n = more ? req->app->cfg->worklist_max_rows : n;
    if (n == 0) {
        jr_html_raw(h, "<p class=\"notice\">No joined-up reviews match.</p>\n");
    }
    rows(req, h, r, n, today);
    if (more) {
        jr_html_rawf(h,
                     "<p class=\"notice\">More than %d reviews match: the first %d are shown. "
                     "Narrow the list with the filters.</p>\n",
                     req->app->cfg->worklist_max_rows, req->app->cfg->worklist_max_rows);
    }
    jr_html_end(h);
    PQclear(r);
}
