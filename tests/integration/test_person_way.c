/* test_person_way.c -- what the review format further asks, through the
 * real daemon and its real sockets: how the person wants their review (in
 * the record and every notice, kept across cycles), each stream's budget
 * under each kind of underspend rule and the statistics' totals, suggested
 * group reviews (published with the first notice of their date, replaced by
 * name when a sixth person joins, served by catch-up), bad input refused
 * each alone and kept, and `joinedreview summary` for national capture
 * through a read-only login. Literal expectations throughout. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zmq.h>

#include "harness.h"
#include "jr_cunit.h"

#define T0          1790845200000LL /* 2026-10-01T09:00:00Z */
#define HOUR        3600000LL
#define ST_OK       JOINEDREVIEW__V1__ACK__STATUS__OK
#define ST_REJECTED JOINEDREVIEW__V1__ACK__STATUS__REJECTED
#define W(x)        JOINEDREVIEW__V1__REVIEW_WAY__WAY_##x
#define NEED(x)     JOINEDREVIEW__V1__NEED__NEED_##x
#define RULE(x)     JOINEDREVIEW__V1__UNDERSPEND_RULE__UNDERSPEND_##x

static int start_on(h_daemon_t *d, const h_db_t *db, const char *today)
{
    const char *const extra[] = {"--today", today,
                                 "--set",   "stream.ILF.underspend=returned",
                                 "--set",   "stream.SC.underspend=carried_forward",
                                 "--set",   "stream.SP.underspend=kept",
                                 NULL};
    return h_daemon_start(d, db, extra);
}

/* One publication within timeout_ms: its topic and a copy of its payload
 * (caller frees); -1 when none came. */
static int recv_pub(void *sub, int timeout_ms, char *topic, size_t tlen, uint8_t **payload,
                    size_t *len)
{
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) <= 0) {
        return -1;
    }
    int n = zmq_recv(sub, topic, tlen - 1, 0);
    if (n < 0) {
        return -1;
    }
    topic[n < (int)tlen - 1 ? n : (int)tlen - 1] = '\0';
    zmq_msg_t body;
    zmq_msg_init(&body);
    zmq_msg_recv(&body, sub, 0);
    *len = zmq_msg_size(&body);
    *payload = malloc(*len + 1);
    memcpy(*payload, zmq_msg_data(&body), *len);
    zmq_msg_close(&body);
    return 0;
}

/* The last review published within timeout_ms of the previous one. */
static Joinedreview__V1__ConsolidatedReview *last_review(void *sub, int timeout_ms)
{
    Joinedreview__V1__ConsolidatedReview *last = NULL, *r;
    while ((r = h_recv_review(sub, timeout_ms)) != NULL) {
        if (last) {
            joinedreview__v1__consolidated_review__free_unpacked(last, NULL);
        }
        last = r;
    }
    return last;
}

static void enrol_at(void *dealer, int64_t at, const char *stream, const char *seid,
                     const char *nhs, const char *started, const char *last_review,
                     const char *known_as, const char *group_key)
{
    h_env_t e;
    h_enrolment(&e, stream, seid, at, nhs, NULL, started);
    e.enrolment.last_review_on = (char *)last_review;
    e.enrolment.known_as = (char *)known_as;
    e.enrolment.group_key = (char *)group_key;
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
}

static void enrol(void *dealer, const char *stream, const char *seid, const char *nhs,
                  const char *started, const char *last_review, const char *known_as,
                  const char *group_key)
{
    enrol_at(dealer, T0, stream, seid, nhs, started, last_review, known_as, group_key);
}

static void budget(void *dealer, const char *stream, const char *seid, const char *nhs,
                   const char *allocated, const char *spent)
{
    h_env_t e;
    h_budget(&e, stream, seid, T0, nhs, "2026-04-01", "2027-03-31", allocated, spent);
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
}

static void assert_budget(const Joinedreview__V1__StreamBudget *b, const char *stream,
                          int64_t allocated, int64_t underspend, int rule)
{
    CU_ASSERT_STRING_EQUAL(b->stream, stream);
    CU_ASSERT_STRING_EQUAL(b->period_start, "2026-04-01");
    CU_ASSERT_STRING_EQUAL(b->period_end, "2027-03-31");
    CU_ASSERT_EQUAL(b->allocated_pence, allocated);
    CU_ASSERT_EQUAL(b->underspend_pence, underspend);
    CU_ASSERT_EQUAL(b->rule, rule);
}

/* ---- the person's way, budgets, statistics ---- */

static void test_preferences_in_record_notices_and_next_cycle_budgets_by_rule(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "personway") == 0);
    CU_ASSERT_FATAL(start_on(&d, &db, "2026-10-02") == 0);
    void *rsub = h_sub(h_zctx, d.publish, "review");
    void *nsub = h_sub(h_zctx, d.publish, "notice.");
    void *dealer = h_dealer(h_zctx, d.ingest);

    /* How Mrs Patel wants her review, before any enrolment: it waits in
     * her record for the review to have a date. */
    h_env_t e;
    h_preferences(&e, "SC", "sc-pref-1", T0, H_NHS_A, W(FORMAT_FIRST), "Asha");
    h_need(&e, NEED(BSL_INTERPRETER));
    h_need(&e, NEED(EASY_READ));
    char *involve[] = {"Dev (son)", "Her key worker"};
    e.preferences.involve = involve;
    e.preferences.n_involve = 2;
    e.preferences.where = "At home, in the afternoon";
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    /* A budget from each of four streams, one per kind of rule. */
    budget(dealer, "ILF", "ilf-b1", H_NHS_A, "1820000", "1715050");
    budget(dealer, "SC", "sc-b1", H_NHS_A, "960000", "1010000");
    budget(dealer, "SP", "sp-b1", H_NHS_A, "240000", "180000");
    budget(dealer, "DFG", "dfg-b1", H_NHS_A, "3000000", "2750000");
    /* Social care from 2026-08-20: due 2026-10-15, so the 28-day notice is
     * due today. ILF reviewed 2025-01-01, due 2027-01-01, joins it; SP due
     * 2027-01-20 does not. */
    enrol(dealer, "SC", "sc-e", H_NHS_A, "2026-08-20", NULL, "Mrs A Patel", NULL);
    enrol(dealer, "ILF", "ilf-e", H_NHS_A, "2023-01-01", "2025-01-01", "A. Patel", NULL);
    enrol(dealer, "SP", "sp-e", H_NHS_A, "2026-01-20", NULL, NULL, NULL);
    enrol(dealer, "DFG", "dfg-e", H_NHS_A, "2026-03-01", NULL, NULL, NULL);

    Joinedreview__V1__ConsolidatedReview *r = last_review(rsub, 1500);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->version, 9);
    CU_ASSERT_STRING_EQUAL(r->called, "Asha"); /* her own name beats the stream's */
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->preferences);
    CU_ASSERT_EQUAL(r->preferences->way, W(FORMAT_FIRST));
    CU_ASSERT_STRING_EQUAL(r->preferences->where, "At home, in the afternoon");
    CU_ASSERT_EQUAL_FATAL(r->preferences->n_involve, 2);
    CU_ASSERT_STRING_EQUAL(r->preferences->involve[0], "Dev (son)");
    CU_ASSERT_EQUAL_FATAL(r->preferences->n_needs, 2);
    CU_ASSERT_EQUAL(r->preferences->needs[0], NEED(EASY_READ));
    CU_ASSERT_EQUAL(r->preferences->needs[1], NEED(BSL_INTERPRETER));
    CU_ASSERT_STRING_EQUAL(r->preferences_from->source_event_id, "sc-pref-1");
    CU_ASSERT_PTR_NULL(r->group_key); /* she wants the format first, not a group */
    CU_ASSERT_EQUAL_FATAL(r->n_enrolments, 2);
    CU_ASSERT_STRING_EQUAL(r->enrolments[0]->stream, "ILF");
    CU_ASSERT_STRING_EQUAL(r->enrolments[0]->known_as, "A. Patel");
    CU_ASSERT_STRING_EQUAL(r->enrolments[1]->known_as, "Mrs A Patel");
    CU_ASSERT_EQUAL_FATAL(r->n_budgets, 4);
    assert_budget(r->budgets[0], "DFG", 3000000, 250000, RULE(NOT_SET));
    assert_budget(r->budgets[1], "ILF", 1820000, 104950, RULE(RETURNED));
    assert_budget(r->budgets[2], "SC", 960000, -50000, RULE(CARRIED_FORWARD)); /* overspent */
    assert_budget(r->budgets[3], "SP", 240000, 60000, RULE(KEPT));
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);

    /* The notice carries how she wants it. */
    char topic[64];
    uint8_t *bytes = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(recv_pub(nsub, 1500, topic, sizeof topic, &bytes, &len), 0);
    CU_ASSERT_STRING_EQUAL(topic, "notice.lead.SC");
    Joinedreview__V1__DueNotice *n = joinedreview__v1__due_notice__unpack(NULL, len, bytes);
    free(bytes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n);
    CU_ASSERT_STRING_EQUAL(n->key, "lead-28");
    CU_ASSERT_STRING_EQUAL(n->called, "Asha");
    CU_ASSERT_PTR_NOT_NULL_FATAL(n->preferences);
    CU_ASSERT_EQUAL(n->preferences->way, W(FORMAT_FIRST));
    CU_ASSERT_EQUAL(n->preferences->n_needs, 2);
    CU_ASSERT_STRING_EQUAL(n->preferences->where, "At home, in the afternoon");
    joinedreview__v1__due_notice__free_unpacked(n, NULL);

    /* The columns the pages and the summary read. */
    char text[256];
    CU_ASSERT_EQUAL(h_sql_text(&db,
                               "SELECT called || ' ' || way || ' ' || array_to_string(needs, ',') "
                               "|| ' ' || array_to_string(budget_streams, ',') || ' ' || "
                               "array_to_string(budget_spent, ',') || ' ' || as_of "
                               "FROM consolidated_review",
                               text, sizeof text),
                    0);
    CU_ASSERT_STRING_EQUAL(text, "Asha FORMAT_FIRST EASY_READ,BSL_INTERPRETER DFG,ILF,SC,SP "
                                 "2750000,1715050,1010000,180000 2026-10-01");

    /* Statistics: budget totals per stream, never one person's amounts.
     * Eight more persons with ILF budgets make nine. */
    for (int i = 0; i < 8; i++) {
        char nhs[11], seid[32];
        h_nhs_of(200 + i, nhs);
        snprintf(seid, sizeof seid, "ilf-b-%d", i);
        budget(dealer, "ILF", seid, nhs, "100000", "50000");
    }
    jr_subscriber_t *cu = h_catchup_client(h_zctx, d.catchup, NULL, NULL, NULL);
    Joinedreview__V1__CatchupReply *rep = h_catchup(cu, JR_SUBSCRIBER_ASK_STATISTICS, 5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rep->statistics);
    int seen = 0;
    for (size_t i = 0; i < rep->statistics->n_streams; i++) {
        const Joinedreview__V1__StreamStatistics *s = rep->statistics->streams[i];
        if (strcmp(s->stream, "ILF") == 0) {
            seen++;
            CU_ASSERT_EQUAL(s->budget_persons, 9);
            CU_ASSERT_TRUE(s->has_allocated_pence);
            CU_ASSERT_EQUAL(s->allocated_pence, 2620000);
            CU_ASSERT_EQUAL(s->spent_pence, 2115050);
            CU_ASSERT_EQUAL(s->underspend_pence, 504950);
        } else if (strcmp(s->stream, "SC") == 0) {
            seen++;
            CU_ASSERT_EQUAL(s->budget_persons, 1);
            CU_ASSERT_FALSE(s->has_allocated_pence); /* one person's amount: left out */
            CU_ASSERT_FALSE(s->has_spent_pence);
        }
    }
    CU_ASSERT_EQUAL(seen, 2);
    joinedreview__v1__catchup_reply__free_unpacked(rep, NULL);
    jr_subscriber_destroy(&cu);

    /* The review is held today: the final record says, per stream it
     * covered, whether it was held by that stream's own due date. */
    h_review_held(&e, "SC", "sc-held", T0 + 2 * HOUR, H_NHS_A, "2026-10-02");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    r = last_review(rsub, 1500);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r->held_on, "2026-10-02");
    CU_ASSERT_EQUAL_FATAL(r->n_held_for, 3);
    CU_ASSERT_STRING_EQUAL(r->held_for[0]->stream, "DFG");
    CU_ASSERT_PTR_NULL(r->held_for[0]->due_on);
    CU_ASSERT_STRING_EQUAL(r->held_for[1]->stream, "ILF");
    CU_ASSERT_STRING_EQUAL(r->held_for[1]->due_on, "2027-01-01");
    CU_ASSERT_STRING_EQUAL(r->held_for[2]->stream, "SC");
    CU_ASSERT_STRING_EQUAL(r->held_for[2]->due_on, "2026-10-15");
    CU_ASSERT_TRUE(r->held_for[2]->by_due_date);
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
    CU_ASSERT_EQUAL(h_sql_text(&db,
                               "SELECT array_to_string(held_streams, ',') || ' ' || "
                               "array_to_string(held_by_due, ',') FROM consolidated_review "
                               "WHERE held_on IS NOT NULL",
                               text, sizeof text),
                    0);
    CU_ASSERT_STRING_EQUAL(text, "DFG,ILF,SC DFG,ILF,SC");

    /* The next cycle starts with how she wants her review. */
    h_contribution(&e, "SC", "sc-c2", T0 + 3 * HOUR, H_NHS_A, JOINEDREVIEW__V1__TOPIC__HEALTH,
                   JOINEDREVIEW__V1__ROLE__PERSON, JOINEDREVIEW__V1__PRIORITY__GREEN, "better");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    r = last_review(rsub, 1500);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->cycle, 2);
    CU_ASSERT_EQUAL(r->version, 1);
    CU_ASSERT_STRING_EQUAL(r->called, "Asha");
    CU_ASSERT_PTR_NOT_NULL(r->preferences);
    CU_ASSERT_EQUAL(r->n_budgets, 4);
    CU_ASSERT_EQUAL(r->n_held_for, 0);
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
    zmq_close(rsub);
    zmq_close(nsub);
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);

    /* Cycle 2's first notice carries them too: SP, which the meeting did
     * not cover, is due 2027-01-20, 56 days after 2026-11-25. */
    CU_ASSERT_FATAL(start_on(&d, &db, "2026-11-25") == 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice WHERE cycle = 2 AND key = "
                                   "'lead-56' AND review_on = '2027-01-20' AND lead = 'SP'"),
                    1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT (position('Asha'::bytea IN payload) > 0 AND "
                                   "position('At home, in the afternoon'::bytea IN payload) > 0)"
                                   "::int FROM due_notice WHERE cycle = 2"),
                    1);

    /* --rebuild reproduces every record byte for byte. */
    char out[512];
    const char *const rebuild[] = {"--rebuild",
                                   "--set",
                                   "stream.ILF.underspend=returned",
                                   "--set",
                                   "stream.SC.underspend=carried_forward",
                                   "--set",
                                   "stream.SP.underspend=kept",
                                   NULL};
    CU_ASSERT_EQUAL(h_daemon_run(&db, rebuild, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "0 differed"));
    /* Budgets, areas and held reviews: what the statistics read agrees. */
    CU_ASSERT_EQUAL(h_figures_differ(&db), 0);
}

/* ---- group reviews ---- */

/* Six people at one sheltered-housing scheme who want their review with
 * others (SP reviews each a year after the last): due 2026-11-26,
 * 2026-12-10 and 2026-12-24 (28 days after the first: in), 2026-12-27 and
 * 2027-03-01 (later); the sixth, who joins afterwards, 2026-12-01. */
static const struct {
    int i;
    const char *last_review;
    const char *due;
    const char *name;
} g_scheme[] = {
    {1, "2025-11-26", "2026-11-26", "Mr Okafor"},    {2, "2025-12-10", "2026-12-10", "Ms Byrne"},
    {3, "2025-12-24", "2026-12-24", "Mrs Kowalska"}, {4, "2025-12-27", "2026-12-27", "Mr Shah"},
    {5, "2026-03-01", "2027-03-01", "Miss Jones"},   {6, "2025-12-01", "2026-12-01", "Mr Evans"},
};

/* Before the first run's day (2026-09-20): 2026-09-11. */
#define EARLY (T0 - 20 * 24 * HOUR)

static void join_scheme(void *dealer, size_t k)
{
    char nhs[11], seid[32];
    h_nhs_of(g_scheme[k].i, nhs);
    h_env_t e;
    snprintf(seid, sizeof seid, "sp-pref-%d", g_scheme[k].i);
    h_preferences(&e, "SP", seid, EARLY, nhs, W(WITH_OTHERS), NULL);
    if (g_scheme[k].i == 6) {
        h_need(&e, NEED(BSL_INTERPRETER));
    }
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    snprintf(seid, sizeof seid, "sp-e-%d", g_scheme[k].i);
    enrol_at(dealer, EARLY, "SP", seid, nhs, "2024-06-01", g_scheme[k].last_review,
             g_scheme[k].name, "Willow Court");
}

/* Every publication of a catch-up request, by topic prefix. */
typedef struct {
    int groups, others;
    uint64_t group_seq[8];
} items_t;

static bool collect(void *arg, Joinedreview__V1__CatchupReply *reply)
{
    items_t *it = arg;
    for (size_t i = 0; i < reply->n_items; i++) {
        if (strncmp(reply->items[i]->topic, "group.", 6) == 0) {
            CU_ASSERT_STRING_EQUAL(reply->items[i]->topic, "group.SP");
            if (it->groups < 8) {
                it->group_seq[it->groups] = reply->items[i]->sequence;
            }
            it->groups++;
        } else {
            it->others++;
        }
    }
    return false;
}

static items_t ask(jr_subscriber_t *cu, int kind, const char *lead, const char *stream)
{
    items_t it = {0};
    jr_subscriber_request_t req = {.kind = kind, .lead = lead, .stream = stream};
    CU_ASSERT_EQUAL(jr_subscriber_ask(cu, &req, collect, &it, 5000), JR_SUBSCRIBER_REPLY_OK);
    return it;
}

static void test_group_suggested_with_first_notice_and_replaced_by_name(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "groups") == 0);
    /* Before the first notice of 2026-11-26 (56 days ahead: 2026-10-01)
     * the five form a group that is not published yet. */
    CU_ASSERT_FATAL(start_on(&d, &db, "2026-09-20") == 0);
    void *dealer = h_dealer(h_zctx, d.ingest);
    for (size_t k = 0; k < 5; k++) {
        join_scheme(dealer, k);
    }
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM group_suggestion"), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM schedule WHERE lead = 'SP' AND "
                                   "group_key = 'Willow Court'"),
                    5);

    /* On 2026-10-02 the due check sends the first member's 56-day notice,
     * and with it (the next sequence number) one group of three at the
     * earliest date. */
    CU_ASSERT_FATAL(start_on(&d, &db, "2026-10-02") == 0);
    char p[7][11];
    for (size_t k = 0; k < 6; k++) {
        h_nhs_of(g_scheme[k].i, p[k]);
    }
    char text[512], want[512];
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM group_suggestion"), 1);
    CU_ASSERT_EQUAL(h_sql_text(&db,
                               "SELECT lead || ' ' || group_key || ' ' || review_on || ' ' || "
                               "array_to_string(members, ',') || ' ' || current || ' ' || topic "
                               "FROM group_suggestion",
                               text, sizeof text),
                    0);
    snprintf(want, sizeof want, "SP Willow Court 2026-11-26 %s,%s,%s true group.SP", p[0], p[1],
             p[2]);
    CU_ASSERT_STRING_EQUAL(text, want);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT g.seq - d.seq FROM group_suggestion g, due_notice d "
                                   "WHERE d.key = 'lead-56'"),
                    1);
    long long first = h_sql_int(&db, "SELECT seq FROM group_suggestion");

    /* A sixth joins, due 2026-12-01: live, a group of four that names the
     * suggestion it replaces; to identifiable subscribers. */
    void *gsub = h_sub(h_zctx, d.publish, "group.");
    dealer = h_dealer(h_zctx, d.ingest);
    join_scheme(dealer, 5);
    char topic[64];
    uint8_t *bytes = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(recv_pub(gsub, 3000, topic, sizeof topic, &bytes, &len), 0);
    CU_ASSERT_STRING_EQUAL(topic, "group.SP");
    Joinedreview__V1__GroupSuggestion *g =
        joinedreview__v1__group_suggestion__unpack(NULL, len, bytes);
    free(bytes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_STRING_EQUAL(g->lead, "SP");
    CU_ASSERT_STRING_EQUAL(g->group_key, "Willow Court");
    CU_ASSERT_STRING_EQUAL(g->review_on, "2026-11-26");
    CU_ASSERT_EQUAL_FATAL(g->n_replaces, 1);
    CU_ASSERT_EQUAL(g->replaces[0], (uint64_t)first);
    CU_ASSERT_FALSE(g->withdrawn);
    CU_ASSERT_EQUAL_FATAL(g->n_members, 4);
    const size_t order[4] = {0, 5, 1, 2}; /* by their own dates */
    for (size_t m = 0; m < 4; m++) {
        CU_ASSERT_STRING_EQUAL(g->members[m]->nhs_number, p[order[m]]);
        CU_ASSERT_STRING_EQUAL(g->members[m]->called, g_scheme[order[m]].name);
        CU_ASSERT_STRING_EQUAL(g->members[m]->review_on, g_scheme[order[m]].due);
        /* Nobody's date moves later than their own. */
        CU_ASSERT_TRUE(strcmp(g->review_on, g->members[m]->review_on) <= 0);
    }
    CU_ASSERT_EQUAL_FATAL(g->members[1]->n_needs, 1);
    CU_ASSERT_EQUAL(g->members[1]->needs[0], NEED(BSL_INTERPRETER));
    uint64_t second = g->sequence;
    joinedreview__v1__group_suggestion__free_unpacked(g, NULL);
    CU_ASSERT_EQUAL(recv_pub(gsub, 500, topic, sizeof topic, &bytes, &len), -1); /* once */
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM group_suggestion WHERE current"), 1);
    snprintf(want, sizeof want,
             "SELECT count(*) FROM group_suggestion WHERE NOT current AND seq = %lld", first);
    CU_ASSERT_EQUAL(h_sql_int(&db, want), 1);
    /* Each person's own review date is as it was. */
    for (size_t k = 0; k < 6; k++) {
        snprintf(want, sizeof want,
                 "SELECT count(*) FROM schedule WHERE nhs_number = '%s' AND review_on = '%s'", p[k],
                 g_scheme[k].due);
        CU_ASSERT_EQUAL(h_sql_int(&db, want), 1);
    }

    /* Catch-up serves the current suggestion in a snapshot (and for the
     * lead's filter, not for another lead's or a stream's), and both in
     * the publications since the start. */
    jr_subscriber_t *cu = h_catchup_client(h_zctx, d.catchup, NULL, NULL, NULL);
    items_t all = ask(cu, JR_SUBSCRIBER_ASK_SNAPSHOT, NULL, NULL);
    CU_ASSERT_EQUAL(all.groups, 1);
    CU_ASSERT_EQUAL(all.group_seq[0], second);
    CU_ASSERT_EQUAL(all.others, 6 + 1); /* six records; one notice has fallen due */
    CU_ASSERT_EQUAL(ask(cu, JR_SUBSCRIBER_ASK_SNAPSHOT, "SP", NULL).groups, 1);
    CU_ASSERT_EQUAL(ask(cu, JR_SUBSCRIBER_ASK_SNAPSHOT, "SC", NULL).groups, 0);
    CU_ASSERT_EQUAL(ask(cu, JR_SUBSCRIBER_ASK_SNAPSHOT, NULL, "SP").groups, 0);
    items_t since = ask(cu, JR_SUBSCRIBER_ASK_SINCE, NULL, NULL);
    CU_ASSERT_EQUAL(since.groups, 2);
    CU_ASSERT_EQUAL(since.group_seq[0], (uint64_t)first);
    CU_ASSERT_EQUAL(since.group_seq[1], second);
    jr_subscriber_destroy(&cu);

    /* The sixth no longer wants a group: the four become three again, a
     * suggestion that names the one of four. */
    h_env_t e;
    h_preferences(&e, "SP", "sp-pref-6b", T0 + HOUR, p[5], W(MEETING), NULL);
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL_FATAL(recv_pub(gsub, 3000, topic, sizeof topic, &bytes, &len), 0);
    g = joinedreview__v1__group_suggestion__unpack(NULL, len, bytes);
    free(bytes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g->n_members, 3);
    CU_ASSERT_EQUAL_FATAL(g->n_replaces, 1);
    CU_ASSERT_EQUAL(g->replaces[0], second);
    joinedreview__v1__group_suggestion__free_unpacked(g, NULL);
    zmq_close(gsub);
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- bad input ---- */

static void test_bad_input_each_refused_alone_and_kept(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "badway") == 0);
    CU_ASSERT_FATAL(start_on(&d, &db, "2026-10-02") == 0);
    void *dealer = h_dealer(h_zctx, d.ingest);
    static const struct {
        const char *seid, *code, *reason;
    } want[] = {
        {"good-1", "", ""},
        {"bad-negative", "NEGATIVE_AMOUNT",
         "budget.allocated_pence '-500' is negative: amounts are from 0 up (an overspend is "
         "spent greater than allocated)"},
        {"bad-fraction", "NOT_WHOLE_PENCE",
         "budget.spent_pence '1250.50' is not a whole number of pence: send digits only, no "
         "point or sign (GBP 1,250.50 is 125050)"},
        {"bad-period", "END_BEFORE_START",
         "budget.period_end 2026-03-31 is before budget.period_start 2026-04-01: check both "
         "dates"},
        {"bad-way", "UNKNOWN_WAY",
         "preferences.way 7 is not a way of having the review: use WAY_FORMAT_FIRST (the format "
         "first, then a meeting), WAY_MEETING or WAY_WITH_OTHERS"},
        {"bad-need", "UNKNOWN_NEED",
         "preferences.needs holds 99, which is not a need the daemon knows: use "
         "NEED_LARGE_PRINT, NEED_EASY_READ, NEED_BSL_INTERPRETER, NEED_OTHER_LANGUAGE, "
         "NEED_ADVOCATE, NEED_BRAILLE or NEED_AUDIO"},
        {"bad-group-key", "TEXT_TOO_LONG",
         "enrolment.group_key is 201 bytes long; the most accepted is 200: shorten it"},
        {"good-2", "", ""},
    };
    char key[202];
    memset(key, 'k', 201);
    key[201] = '\0';
    /* All sent before any ack is read: one batch, or a few. */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        h_env_t e;
        const char *s = want[i].seid;
        if (strncmp(s, "good", 4) == 0 || strcmp(s, "bad-way") == 0 || strcmp(s, "bad-need") == 0) {
            h_preferences(&e, "SC", s, T0, H_NHS_A, W(MEETING), NULL);
            e.preferences.way = strcmp(s, "bad-way") == 0 ? 7 : W(MEETING);
            if (strcmp(s, "bad-need") == 0) {
                h_need(&e, NEED(LARGE_PRINT));
                h_need(&e, 99);
            }
        } else if (strcmp(s, "bad-group-key") == 0) {
            h_enrolment(&e, "SP", s, T0, H_NHS_A, NULL, "2026-01-20");
            e.enrolment.group_key = key;
        } else {
            h_budget(&e, "ILF", s, T0, H_NHS_A, "2026-04-01",
                     strcmp(s, "bad-period") == 0 ? "2026-03-31" : "2027-03-31",
                     strcmp(s, "bad-negative") == 0 ? "-500" : "1000",
                     strcmp(s, "bad-fraction") == 0 ? "1250.50" : "0");
        }
        CU_ASSERT_EQUAL(h_send(dealer, &e.env), 0);
    }
    int ok = 0, rejected = 0;
    for (size_t n = 0; n < sizeof want / sizeof want[0]; n++) {
        Joinedreview__V1__Ack *ack = h_recv_ack(dealer, 5000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ack);
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            if (strcmp(want[i].seid, ack->source_event_id) != 0) {
                continue;
            }
            if (want[i].code[0] == '\0') {
                CU_ASSERT_EQUAL(ack->status, ST_OK);
                ok++;
            } else {
                CU_ASSERT_EQUAL(ack->status, ST_REJECTED);
                CU_ASSERT_STRING_EQUAL(ack->reason_code, want[i].code);
                CU_ASSERT_STRING_EQUAL(ack->reason, want[i].reason);
                rejected++;
            }
        }
        joinedreview__v1__ack__free_unpacked(ack, NULL);
    }
    CU_ASSERT_EQUAL(ok, 2);
    CU_ASSERT_EQUAL(rejected, 6);
    /* Kept for a person to inspect, each with its reason. */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char sql[256], text[512];
        snprintf(sql, sizeof sql,
                 "SELECT reason_code || ': ' || reason FROM rejected_event WHERE "
                 "source_event_id = '%s'",
                 want[i].seid);
        if (want[i].code[0] == '\0') {
            CU_ASSERT_EQUAL(h_sql_text(&db, sql, text, sizeof text), -1);
            continue;
        }
        char expected[512];
        snprintf(expected, sizeof expected, "%s: %s", want[i].code, want[i].reason);
        CU_ASSERT_EQUAL(h_sql_text(&db, sql, text, sizeof text), 0);
        CU_ASSERT_STRING_EQUAL(text, expected);
    }
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM event"), 2);
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* ---- national capture ---- */

/* Runs `joinedreview summary` with these arguments; its standard output in
 * out. Returns the exit status. */
static int summary(const char *conninfo, const char *quarter, char *out, size_t outlen)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s summary --quarter %s --database '%s' 2>&1", JR_TOOL_PATH, quarter,
             conninfo);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, outlen - 1, p) : 0;
    out[n] = '\0';
    return p ? WEXITSTATUS(pclose(p)) : -1;
}

/* Fourteen people in social care: twelve had their review in 2026Q4, eight
 * by social care's own due date (a first review 56 days after 2026-10-05:
 * 2026-11-30), four after it; nine said keeping healthy is their red
 * priority; each has a social care budget. Two of the twelve are in ILF
 * too (reviewed at the same meeting, by ILF's date), one with a budget. */
static void test_quarterly_summary_through_a_read_only_login(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "capture") == 0);
    CU_ASSERT_FATAL(start_on(&d, &db, "2026-12-15") == 0);
    void *dealer = h_dealer(h_zctx, d.ingest);
    const int64_t nov25 = 1795600800000LL, dec01 = 1796119200000LL; /* 10:00Z */
    for (int i = 0; i < 14; i++) {
        char nhs[11], seid[32];
        h_env_t e;
        h_nhs_of(300 + i, nhs);
        snprintf(seid, sizeof seid, "sc-e-%d", i);
        enrol(dealer, "SC", seid, nhs, "2026-10-05", NULL, NULL, NULL);
        if (i < 2) {
            snprintf(seid, sizeof seid, "ilf-e-%d", i);
            enrol(dealer, "ILF", seid, nhs, "2020-01-01", "2024-12-20", NULL, NULL);
        }
        if (i < 9) {
            snprintf(seid, sizeof seid, "sc-c-%d", i);
            h_contribution(&e, "SC", seid, T0 + HOUR, nhs, JOINEDREVIEW__V1__TOPIC__HEALTH,
                           JOINEDREVIEW__V1__ROLE__PERSON, JOINEDREVIEW__V1__PRIORITY__RED,
                           "tired");
            CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
        }
        if (i < 12) {
            snprintf(seid, sizeof seid, "sc-b-%d", i);
            budget(dealer, "SC", seid, nhs, "100000", "90000");
        }
        if (i == 0) {
            budget(dealer, "ILF", "ilf-b-0", nhs, "500000", "400000");
        }
        if (i < 12) {
            snprintf(seid, sizeof seid, "sc-h-%d", i);
            h_review_held(&e, "SC", seid, i < 8 ? nov25 : dec01, nhs,
                          i < 8 ? "2026-11-25" : "2026-12-01");
            CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
        }
    }
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);

    /* An analyst's login: a member of joinedreview_reader, nothing else. */
    CU_ASSERT_EQUAL(h_sql_exec(&db, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE "
                                    "rolname = 'jr_test_analyst') THEN CREATE ROLE "
                                    "jr_test_analyst LOGIN IN ROLE joinedreview_reader; END IF; "
                                    "END $$"),
                    0);
    char analyst[sizeof db.conninfo - 32];
    snprintf(analyst, sizeof analyst, "%.440s user=jr_test_analyst", db.conninfo);
    char out[4096];
    CU_ASSERT_EQUAL(summary(analyst, "2026Q4", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(
        out,
        "quarter,stream,persons_enrolled,reviews_held,held_by_due_date,complete_at_sign_off,area1_"
        "red,area1_amber,area1_green,area2_red,area2_amber,area2_green,area3_red,area3_amber,area3_"
        "green,area4_red,area4_amber,area4_green,area5_red,area5_amber,area5_green,area6_red,area6_"
        "amber,area6_green,area7_red,area7_amber,area7_green,area8_red,area8_amber,area8_green,"
        "area9_red,area9_amber,area9_green,allocated_pence,spent_pence,underspend_pence\n"
        "2026Q4,ILF,*,*,*,0,0,0,0,0,0,0,0,0,0,*,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,*,*,*\n"
        "2026Q4,SC,15,10,10,0,0,0,0,0,0,0,0,0,0,10,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1200000,"
        "1080000,120000\n");
    /* Nothing in another quarter: the header alone. */
    CU_ASSERT_EQUAL(summary(analyst, "2027Q1", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(
        out,
        "quarter,stream,persons_enrolled,reviews_held,held_by_due_date,complete_at_sign_off,area1_"
        "red,area1_amber,area1_green,area2_red,area2_amber,area2_green,area3_red,area3_amber,area3_"
        "green,area4_red,area4_amber,area4_green,area5_red,area5_amber,area5_green,area6_red,area6_"
        "amber,area6_green,area7_red,area7_amber,area7_green,area8_red,area8_amber,area8_green,"
        "area9_red,area9_amber,area9_green,allocated_pence,spent_pence,underspend_pence\n");
    /* The login reads the views, not the records. */
    h_db_t as_analyst = db;
    snprintf(as_analyst.conninfo, sizeof as_analyst.conninfo, "%s", analyst);
    CU_ASSERT_EQUAL(h_sql_int(&as_analyst, "SELECT count(*) FROM consolidated_review"), -1);
    CU_ASSERT_EQUAL(summary(analyst, "2026Q5", out, sizeof out), 2);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"preferences in the record, notices and the next cycle; budgets by rule",
         test_preferences_in_record_notices_and_next_cycle_budgets_by_rule},
        {"a group suggested with the first notice and replaced by name",
         test_group_suggested_with_first_notice_and_replaced_by_name},
        {"bad input, each refused alone and kept", test_bad_input_each_refused_alone_and_kept},
        {"the quarterly summary through a read-only login",
         test_quarterly_summary_through_a_read_only_login},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"person_way", h_suite_init, h_suite_clean, NULL, NULL, tests},
                             CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
