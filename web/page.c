/* page.c -- see page.h. */
#include "page.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "nhs.h"
#include "queries.h"
#include "text.h"
#include "way.h"

void jr_page_begin(const jr_req_t *req, jr_resp_t *resp, const char *title, const char *body_class,
                   int refresh_s)
{
    char role[160];
    jr_html_who_t who = {0};
    if (req->session != NULL) {
        const jr_account_t *a = &req->session->account;
        jr_accounts_describe(a, role, sizeof role);
        who.account = a->name;
        who.role = role;
        who.csrf = req->session->csrf;
        who.nav_worklist = a->role == JR_ACCOUNT_SCHEDULER || a->role == JR_ACCOUNT_STREAM_OFFICER;
        who.nav_desk = a->role == JR_ACCOUNT_DATA_OFFICER;
        who.nav_aggregates = a->role == JR_ACCOUNT_ANALYST;
    }
    jr_html_begin(&resp->body, title, &who, body_class, refresh_s);
}

void jr_page_error(const jr_req_t *req, jr_resp_t *resp, unsigned status, const char *title,
                   const char *sentence)
{
    jr_html_clear(&resp->body);
    resp->status = status;
    jr_page_begin(req, resp, title, NULL, 0);
    jr_html_raw(&resp->body, "<h1>");
    jr_html_text(&resp->body, title);
    jr_html_raw(&resp->body, "</h1>\n<p>");
    jr_html_text(&resp->body, sentence);
    jr_html_raw(&resp->body, "</p>\n<p><a href=\"/\">Back to the start</a></p>\n");
    jr_html_end(&resp->body);
}

PGconn *jr_page_db(jr_req_t *req, jr_resp_t *resp)
{
    PGconn *c = jr_pgpool_take(req->app->db, 5000);
    if (c == NULL) {
        jr_page_error(req, resp, 503, "The database cannot be reached",
                      "The service cannot read the reviews just now. Please try again in a "
                      "minute.");
    }
    return c;
}

void jr_page_db_done(jr_req_t *req, PGconn *conn)
{
    jr_pgpool_give(req->app->db, conn);
}

const char *jr_page_role_words(int role)
{
    switch (role) {
    case JR_ROLE_PERSON:
        return "the person";
    case JR_ROLE_CARER:
        return "a carer or family member";
    case JR_ROLE_COUNCIL:
        return "the council";
    case JR_ROLE_STREAM_OFFICER:
        return "the funding stream's officer";
    case JR_ROLE_PROVIDER:
        return "a provider of support";
    case JR_ROLE_ADVOCATE:
        return "an advocate";
    default:
        return "someone";
    }
}

const char *jr_page_priority_words(int priority)
{
    switch (priority) {
    case JR_PRIORITY_RED:
        return "Red: high priority";
    case JR_PRIORITY_AMBER:
        return "Amber: medium priority";
    case JR_PRIORITY_GREEN:
        return "Green: low priority";
    default:
        return "Not given";
    }
}

const char *jr_page_preferred_name(const char *called, const char *nhs, char out[13])
{
    return called != NULL && called[0] != '\0' ? called : jr_html_nhs(nhs, out);
}

void jr_page_preferences(jr_html_t *h, const jr_cut_t *cut)
{
    const Joinedreview__V1__ReviewPreferences *p = cut->preferences;
    jr_html_raw(h, "<h2 id=\"way\">How they want their review</h2>\n");
    if (p == NULL) {
        jr_html_raw(h, "<p>Not recorded yet. Ask the person how they want to complete their "
                       "review: the format first and then a meeting, a meeting, or with "
                       "others; where, with whom, and what they need (large print, easy "
                       "read, an interpreter, an advocate).</p>\n");
        return;
    }
    const char *way = jr_way_title((jr_way_t)p->way);
    jr_html_raw(h, "<dl class=\"facts preferences\"><dt>The way</dt><dd class=\"way\">");
    jr_html_text(h, way != NULL ? way : "Not said");
    if (cut->group_key != NULL) {
        jr_html_raw(h, "</dd><dt>A group review at</dt><dd class=\"group\">");
        jr_html_text(h, cut->group_key);
    }
    jr_html_raw(h, "</dd><dt>Where</dt><dd>");
    jr_html_text(h, p->where != NULL ? p->where : "Not said");
    jr_html_raw(h, "</dd><dt>Who to involve</dt><dd>");
    for (size_t i = 0; i < p->n_involve; i++) {
        jr_html_raw(h, i ? "; " : "");
        jr_html_text(h, p->involve[i]);
    }
    jr_html_raw(h, p->n_involve == 0 ? "Not said" : "");
    jr_html_raw(h, "</dd><dt>What they need to take part</dt><dd class=\"needs\">");
    for (size_t i = 0; i < p->n_needs; i++) {
        const char *title = jr_need_title((jr_need_t)p->needs[i]);
        jr_html_raw(h, i ? ", " : "");
        jr_html_text(h, title != NULL ? title : "?");
        if (p->needs[i] == JOINEDREVIEW__V1__NEED__NEED_OTHER_LANGUAGE && p->language != NULL) {
            jr_html_raw(h, " (");
            jr_html_text(h, p->language);
            jr_html_raw(h, ")");
        }
    }
    jr_html_raw(h, p->n_needs == 0 ? "Nothing said" : "");
    jr_html_raw(h, "</dd><dt>The name they want to be called</dt><dd class=\"called\">");
    jr_html_text(h, p->called != NULL ? p->called : "Not said");
    if (cut->preferences_from != NULL) {
        jr_html_raw(h, "</dd><dt>Recorded by</dt><dd>");
        jr_html_text(h, cut->preferences_from->stream);
        if (cut->preferences_from->has_occurred_at) {
            char iso[11], words[24];
            jr_text_format_date(jr_text_day_of_ms(cut->preferences_from->occurred_at), iso);
            jr_html_raw(h, ", ");
            jr_html_text(h, jr_html_date(iso, words));
        }
    }
    jr_html_raw(h, "</dd></dl>\n");
}

void jr_page_provenance(jr_html_t *h, const Joinedreview__V1__Provenance *p)
{
    if (p == NULL) {
        return;
    }
    jr_html_raw(h, "<span class=\"who\">");
    if (p->author_name != NULL && p->author_name[0] != '\0') {
        jr_html_text(h, p->author_name);
        jr_html_raw(h, ", ");
    }
    jr_html_text(h, jr_page_role_words(p->author_role));
    jr_html_raw(h, " (");
    jr_html_text(h, p->stream);
    jr_html_raw(h, ")");
    if (p->has_occurred_at) {
        char iso[11], words[24];
        jr_text_format_date(jr_text_day_of_ms(p->occurred_at), iso);
        jr_html_raw(h, ", <time datetime=\"");
        jr_html_attr(h, iso);
        jr_html_raw(h, "\">");
        jr_html_text(h, jr_html_date(iso, words));
        jr_html_raw(h, "</time>");
    }
    jr_html_raw(h, "</span>");
}

/* Whether the account may see the person whose current review is row 0. */
static bool may_see(const jr_account_t *a, PGresult *rows)
{
    const char *enrolled = PQgetvalue(rows, 0, 4), *lead = PQgetvalue(rows, 0, 5);
    if (a->role == JR_ACCOUNT_SCHEDULER) {
        for (size_t i = 0; i < a->n_leads; i++) {
            if (strcmp(a->leads[i], lead) == 0) {
                return true;
            }
        }
        return false;
    }
    if (a->role == JR_ACCOUNT_STREAM_OFFICER) {
        size_t n = strlen(a->stream);
        for (const char *c = enrolled; *c != '\0';) {
            size_t len = strcspn(c, ",");
            if (len == n && strncmp(c, a->stream, n) == 0) {
                return true;
            }
            c += len;
            c += *c == ',';
        }
    }
    return false;
}

int jr_page_person_load(jr_req_t *req, jr_resp_t *resp, PGconn *conn, const char *nhs_text,
                        unsigned cycle, const char *page, jr_page_person_t *out)
{
    memset(out, 0, sizeof *out);
    const jr_account_t *a = &req->session->account;
    if (jr_nhs_normalise(nhs_text, out->nhs) != JR_NHS_OK) {
        jr_page_error(req, resp, 404, "No such NHS number",
                      "That is not a valid NHS number (ten digits with a check digit).");
        return -1;
    }
    out->rows = jr_queries_person(conn, out->nhs);
    if (out->rows == NULL) {
        jr_page_error(req, resp, 503, "The review cannot be read",
                      "The database did not answer. Please try again in a minute.");
        return -1;
    }
    /* Someone the account may not see is answered like someone who does not
     * exist: the answer tells nothing about who has a review. */
    if (PQntuples(out->rows) == 0 || !may_see(a, out->rows)) {
        jr_page_error(req, resp, 404, "No review you may see",
                      "There is no review for that NHS number among the persons you may see.");
        jr_page_person_clear(out);
        return -1;
    }
    int row = -1;
    for (int i = 0; i < PQntuples(out->rows); i++) {
        if (cycle == 0 || strtoul(PQgetvalue(out->rows, i, 0), NULL, 10) == cycle) {
            row = i;
            break;
        }
    }
    if (row < 0) {
        jr_page_error(req, resp, 404, "No such review cycle",
                      "This person has no review cycle with that number.");
        jr_page_person_clear(out);
        return -1;
    }
    out->cycle = (unsigned)strtoul(PQgetvalue(out->rows, row, 0), NULL, 10);
    size_t len = 0;
    unsigned char *bytes =
        PQunescapeBytea((const unsigned char *)PQgetvalue(out->rows, row, 3), &len);
    out->record = bytes ? joinedreview__v1__consolidated_review__unpack(NULL, len, bytes) : NULL;
    PQfreemem(bytes);
    if (out->record == NULL || out->record->nhs_number == NULL ||
        strcmp(out->record->nhs_number, out->nhs) != 0) {
        jr_page_error(req, resp, 500, "The review cannot be read",
                      "The stored record could not be read.");
        jr_page_person_clear(out);
        return -1;
    }
    jr_cut_scope_t scope;
    if (a->role == JR_ACCOUNT_SCHEDULER) {
        jr_cut_scope_whole(&scope);
    } else if (jr_cut_scope_stream(&scope, req->app->streams, a->stream) != 0) {
        jr_page_error(req, resp, 403, "Not for your role", "Your stream is not configured.");
        jr_page_person_clear(out);
        return -1;
    }
    if (jr_cut_build(&out->cut, out->record, &scope) != 0) {
        jr_page_error(req, resp, 500, "Out of memory", "Please try again.");
        jr_page_person_clear(out);
        return -1;
    }
    /* Written before anything of the record is sent. */
    if (jr_audit_view(conn, a, out->nhs, out->cycle, page, req->address) != 0) {
        jr_page_error(req, resp, 503, "The view cannot be recorded",
                      "Every view of a review is recorded, and the record cannot be written "
                      "just now, so the review is not shown. Please try again in a minute.");
        jr_page_person_clear(out);
        return -1;
    }
    atomic_fetch_add(&req->app->audit_rows, 1);
    return 0;
}

void jr_page_person_clear(jr_page_person_t *p)
{
    jr_cut_clear(&p->cut);
    if (p->record != NULL) {
        joinedreview__v1__consolidated_review__free_unpacked(p->record, NULL);
    }
    PQclear(p->rows);
    memset(p, 0, sizeof *p);
}
