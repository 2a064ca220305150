/* page.h -- the pages of joinedreview-web, one file each (page_*.c), and
 * what they share (page.c): the layout with the signed-in account, the
 * error pages, who may see which person, and how a statement is written.
 *
 * Every page writes text through jr_html_text(): nothing a back office or a
 * person wrote can become markup. */
#ifndef JR_PAGE_H
#define JR_PAGE_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "cut.h"
#include "joinedreview/joinedreview.pb-c.h"
#include "request.h"

/* GET /login: the form. POST /login: signs in. POST /logout: signs out. */
void jr_page_login(jr_req_t *req, jr_resp_t *resp);
void jr_page_logout(jr_req_t *req, jr_resp_t *resp);

/* GET /worklist: schedulers and stream officers. */
void jr_page_worklist(jr_req_t *req, jr_resp_t *resp);

/* GET /person/NHS[?cycle=N]: the person's review. rest is what follows
 * "/person/". GET /person/NHS/pack[?print=large]: the review pack. */
void jr_page_review(jr_req_t *req, jr_resp_t *resp, const char *rest);
void jr_page_pack(jr_req_t *req, jr_resp_t *resp, const char *nhs);

/* GET /desk: the data officer's desk. */
void jr_page_desk(jr_req_t *req, jr_resp_t *resp);

/* GET /aggregates: the analyst's figures. */
void jr_page_aggregates(jr_req_t *req, jr_resp_t *resp);

/* GET /metrics: Prometheus text, for a bearer token or an analyst. */
void jr_page_metrics(jr_req_t *req, jr_resp_t *resp);

/* ---- shared ---------------------------------------------------------- */

/* Opens the layout for the signed-in account (if any). */
void jr_page_begin(const jr_req_t *req, jr_resp_t *resp, const char *title, const char *body_class,
                   int refresh_s);

/* A whole page saying what went wrong: status, title and one sentence. */
void jr_page_error(const jr_req_t *req, jr_resp_t *resp, unsigned status, const char *title,
                   const char *sentence);

/* A person's records, decoded, once the account may see them. */
typedef struct {
    PGresult *rows; /* every cycle, newest first (jr_queries_person) */
    Joinedreview__V1__ConsolidatedReview *record; /* the cycle asked for */
    unsigned cycle;
    char nhs[11];
    jr_cut_t cut;
} jr_page_person_t;

/* Loads the person named by nhs_text (cycle 0: the current one) on conn,
 * checks that the account may see them, writes the audit row for page, and
 * builds the cut. 0; or -1 with the error page already in resp. */
int jr_page_person_load(jr_req_t *req, jr_resp_t *resp, PGconn *conn, const char *nhs_text,
                        unsigned cycle, const char *page, jr_page_person_t *out);
void jr_page_person_clear(jr_page_person_t *p);

/* "Daniel Okafor, the person (SC), 1 October 2026": who said it and when. */
void jr_page_provenance(jr_html_t *h, const Joinedreview__V1__Provenance *p);

/* "The person", "A carer or family member", ... */
const char *jr_page_role_words(int role);

/* "Red: high priority", ...; "Not given". */
const char *jr_page_priority_words(int priority);

/* The name to use for the person: `called` (the record's: their own, else
 * the name their lead stream knows them by), or, when nobody has given a
 * name, the NHS number written 3-3-4 (out: 13 bytes). Returns one of them,
 * to be written as text. */
const char *jr_page_preferred_name(const char *called, const char *nhs, char out[13]);

/* How the person wants their review (their preferences), as the review
 * page and the pack show it; whole adds the group review's place. */
void jr_page_preferences(jr_html_t *h, const jr_cut_t *cut);

/* The page's database session, or the 503 page in resp and NULL. */
PGconn *jr_page_db(jr_req_t *req, jr_resp_t *resp);
void jr_page_db_done(jr_req_t *req, PGconn *conn);

#endif
