/* page_pack.c -- the review pack: the review format, filled in with what is
 * already known, to send to the person before the meeting (the format's own
 * advice: "send the review format to the individual to complete and then
 * meet up to look at the information").
 *
 * Plain English, each area with room to write, the three questions of the
 * support plan; printed on A4 by the stylesheet's print rules, in large
 * print with ?print=large (and, once review preferences are recorded, when
 * the person asks for it). For schedulers: the lead organisation sends it. */
#include "page.h"

#include <stdio.h>
#include <string.h>

static void known(jr_html_t *h, const jr_cut_area_t *a)
{
    bool any = false;
    for (size_t i = 0; i < a->n_statements; i++) {
        const Joinedreview__V1__Statement *s = a->statements[i];
        const char *parts[2] = {s->working, s->not_working};
        for (int k = 0; k < 2; k++) {
            if (parts[k] == NULL || parts[k][0] == '\0') {
                continue;
            }
            jr_html_raw(h, any ? ""
                               : "<p class=\"known-intro\">What we know so far:</p><ul "
                                 "class=\"known\">");
            any = true;
            jr_html_raw(h, k == 0 ? "<li><span class=\"kind\">Working:</span> "
                                  : "<li><span class=\"kind\">Not working:</span> ");
            jr_html_text(h, parts[k]);
            jr_html_raw(h, " ");
            jr_page_provenance(h, s->provenance);
            jr_html_raw(h, "</li>");
        }
    }
    jr_html_raw(h, any ? "</ul>\n"
                       : "<p class=\"known-intro\">Nobody has written about this "
                         "yet.</p>\n");
}

static void write_box(jr_html_t *h, const char *question)
{
    jr_html_raw(h, "<div class=\"write\"><p class=\"question\">");
    jr_html_text(h, question);
    jr_html_raw(h, "</p><div class=\"lines\"></div></div>\n");
}

void jr_page_pack(jr_req_t *req, jr_resp_t *resp, const char *nhs)
{
    if (req->session->account.role != JR_ACCOUNT_SCHEDULER) {
        jr_page_error(req, resp, 403, "Not for your role",
                      "The review pack is sent by the lead organisation's review schedulers.");
        return;
    }
    const char *print = jr_req_arg(req, "print");
    bool large = print != NULL && strcmp(print, "large") == 0;
    PGconn *c = jr_page_db(req, resp);
    if (c == NULL) {
        return;
    }
    jr_page_person_t p;
    int rc = jr_page_person_load(req, resp, c, nhs, 0, "pack", &p);
    jr_page_db_done(req, c);
    if (rc != 0) {
        return;
    }
    jr_html_t *h = &resp->body;
    char name[13], title[280], date[24];
    const char *called = jr_page_preferred_name(p.cut.called, p.nhs, name);
    snprintf(title, sizeof title, "Review pack for %s", called);
    jr_page_begin(req, resp, title, large ? "pack large-print" : "pack", 0);
    jr_html_raw(h, "<h1>Your review</h1>\n<p class=\"for\">For ");
    jr_html_text(h, called);
    if (p.cut.schedule != NULL && p.cut.schedule->review_on != NULL) {
        jr_html_raw(h, ". Your review is due on ");
        jr_html_text(h, jr_html_date(p.cut.schedule->review_on, date));
    }
    jr_html_raw(h, ".</p>\n<div class=\"intro\"><p>This is your review. It is about your life "
                   "and your support, and you are in control of it.</p>\n"
                   "<p>Please fill in what you can before we meet. For each part, write what "
                   "is working, what is not working, and what you would most like to change. "
                   "We have written down what we already know: tell us if anything is wrong "
                   "or has changed. You can leave anything blank, and someone you trust can "
                   "help you.</p>\n"
                   "<p>For each part, you can say how much you want it to change: "
                   "<strong>red</strong> if it matters a lot, <strong>amber</strong> if it "
                   "matters a bit, <strong>green</strong> if it can wait.</p></div>\n");
    if (!large) {
        jr_html_raw(h, "<p class=\"screen-only\"><a href=\"/person/");
        jr_html_attr(h, p.nhs);
        jr_html_raw(h, "/pack?print=large\">This pack in large print</a></p>\n");
    }
    for (size_t i = 0; i < JR_AREA_COUNT; i++) {
        const jr_cut_area_t *a = &p.cut.areas[i];
        jr_html_raw(h, "<section class=\"area\">\n<h2>");
        if (a->number < JR_AREA_COUNT) {
            jr_html_rawf(h, "%u. ", a->number);
            jr_html_text(h, jr_format_area_title((int)a->number));
        } else {
            jr_html_raw(h, "Anything else?");
        }
        jr_html_raw(h, "</h2>\n");
        known(h, a);
        write_box(h, "What is working?");
        write_box(h, "What is not working?");
        jr_html_raw(h, "<p class=\"question\">What are your priorities for change?</p>"
                       "<p class=\"choices\">Red: high priority &#9744; &nbsp; Amber: medium "
                       "priority &#9744; &nbsp; Green: low priority &#9744;</p>\n</section>\n");
    }
    jr_html_raw(h, "<section class=\"area plan\">\n<h2>Your support plan</h2>\n");
    write_box(h, "When will you revise your support plan (if necessary)?");
    write_box(h, "Who will do this?");
    write_box(h, "Will anyone need to OK these changes?");
    jr_html_raw(h, "</section>\n");
    jr_html_end(h);
    jr_page_person_clear(&p);
}
