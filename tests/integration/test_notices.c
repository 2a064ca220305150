/* test_notices.c -- review dates and due-date notices through the real
 * daemon: the record carries the schedule; notices go out once per (person,
 * cycle, key), on a fixed clock, across restarts, a kill -9 between commit
 * and publication, and a review held. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "harness.h"
#include "jr_cunit.h"

#define T0          1790845200000LL /* 2026-10-01T09:00:00Z */
#define HOUR        3600000LL
#define ST_OK       JOINEDREVIEW__V1__ACK__STATUS__OK
#define ST_REJECTED JOINEDREVIEW__V1__ACK__STATUS__REJECTED

/* Receives one notice (topic + DueNotice) within timeout_ms. */
static Joinedreview__V1__DueNotice *recv_notice(void *sub, int timeout_ms, char *topic, size_t tlen)
{
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) <= 0) {
        return NULL;
    }
    int n = zmq_recv(sub, topic, tlen - 1, 0);
    if (n < 0) {
        return NULL;
    }
    topic[n < (int)tlen - 1 ? n : (int)tlen - 1] = '\0';
    zmq_msg_t body;
    zmq_msg_init(&body);
    zmq_msg_recv(&body, sub, 0);
    Joinedreview__V1__DueNotice *dn =
        joinedreview__v1__due_notice__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
    zmq_msg_close(&body);
    return dn;
}

static int start(h_daemon_t *d, const h_db_t *db, const char *today)
{
    const char *const extra[] = {"--today", today, NULL};
    return h_daemon_start(d, db, extra);
}

static void test_schedule_in_record_and_notices_once(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "notices") == 0);
    CU_ASSERT_FATAL(start(&d, &db, "2026-10-02") == 0);
    void *rsub = h_sub(h_zctx, d.publish, "review");
    void *dealer = h_dealer(h_zctx, d.ingest);

    /* Social care from 2026-08-20: first review 56 days on, 2026-10-15.
     * ICES from 2025-12-01, every 365 days: 2026-12-01, within 90 days, so
     * it joins. DFG is active: covered, though it never sets a date. */
    h_env_t e;
    h_enrolment(&e, "SC", "sc-e", T0, H_NHS_A, NULL, "2026-08-20");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    h_enrolment(&e, "ICES", "ices-e", T0, H_NHS_A, NULL, "2025-12-01");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    h_enrolment(&e, "DFG", "dfg-e", T0 + HOUR, H_NHS_A, NULL, "2026-03-01");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);

    Joinedreview__V1__ConsolidatedReview *r = NULL;
    for (int i = 0; i < 3; i++) {
        if (r) {
            joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
        }
        r = h_recv_review(rsub, 3000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->schedule);
    CU_ASSERT_STRING_EQUAL(r->schedule->review_on, "2026-10-15");
    CU_ASSERT_STRING_EQUAL(r->schedule->lead, "SC");
    CU_ASSERT_EQUAL_FATAL(r->schedule->n_covered_streams, 3);
    CU_ASSERT_STRING_EQUAL(r->schedule->covered_streams[0], "DFG");
    CU_ASSERT_STRING_EQUAL(r->schedule->covered_streams[1], "ICES");
    CU_ASSERT_STRING_EQUAL(r->schedule->covered_streams[2], "SC");
    CU_ASSERT_EQUAL_FATAL(r->schedule->n_streams, 3);
    CU_ASSERT_PTR_NULL(r->schedule->streams[0]->next_due_on); /* DFG sets no date */
    CU_ASSERT_FALSE(r->schedule->streams[0]->drives_date);
    CU_ASSERT_STRING_EQUAL(r->schedule->streams[1]->next_due_on, "2026-12-01");
    CU_ASSERT_STRING_EQUAL(r->schedule->streams[2]->next_due_on, "2026-10-15");
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
    zmq_close(rsub);
    zmq_close(dealer);

    /* On 2026-10-02 the 56- and 28-day notices have fallen due: only the
     * latest goes out and is recorded; the one it supersedes is not. */
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice"), 1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice WHERE key = 'lead-28' "
                                   "AND seq IS NOT NULL AND review_on = '2026-10-15'"),
                    1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice WHERE key = 'lead-56'"), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT next_check_on - date '2026-10-08' FROM schedule"), 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);

    /* A clean restart on the same day publishes nothing again. */
    CU_ASSERT_FATAL(start(&d, &db, "2026-10-02") == 0);
    h_sleep_ms(300);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM outbox WHERE topic LIKE 'notice.%'"), 1);
    /* The notice's bytes are stored once, in due_notice; its publication
     * answers them. */
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM outbox WHERE topic LIKE 'notice.%' "
                                   "AND payload IS NULL"),
                    1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM publication p JOIN due_notice d "
                                   "ON d.seq = p.seq WHERE p.payload = d.payload "
                                   "AND length(d.payload) > 0"),
                    1);

    /* On 2026-10-08 the 7-day notice, once, to a subscriber filtering by kind. */
    CU_ASSERT_FATAL(start(&d, &db, "2026-10-02") == 0);
    char pub[128];
    snprintf(pub, sizeof pub, "%s", d.publish);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    char fixed[160];
    snprintf(fixed, sizeof fixed, "daemon.publish_endpoint=%s", pub);
    const char *const day8[] = {"--today", "2026-10-08", "--set", fixed, NULL};
    void *nsub = zmq_socket(h_zctx, ZMQ_SUB);
    int zero = 0;
    zmq_setsockopt(nsub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(nsub, ZMQ_SUBSCRIBE, "notice.lead.", 12);
    zmq_connect(nsub, pub);
    /* The daemon sends the start-up catch-up before its subscribers can
     * connect; set the due check to find it after they have. */
    h_sql_exec(&db, "UPDATE schedule SET next_check_on = '2026-10-09'");
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, day8) == 0);
    h_sleep_ms(500);
    h_sql_exec(&db, "UPDATE schedule SET next_check_on = '2026-10-08'");
    /* A batch triggers the check at once; an unrelated person will do. */
    dealer = h_dealer(h_zctx, d.ingest);
    h_contribution(&e, "SP", "other", T0, H_NHS_B, JOINEDREVIEW__V1__TOPIC__HOUSING,
                   JOINEDREVIEW__V1__ROLE__PERSON, JOINEDREVIEW__V1__PRIORITY__GREEN, "fine");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    char topic[64];
    Joinedreview__V1__DueNotice *dn = recv_notice(nsub, 5000, topic, sizeof topic);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dn);
    CU_ASSERT_STRING_EQUAL(topic, "notice.lead.SC");
    CU_ASSERT_EQUAL(dn->kind, JOINEDREVIEW__V1__DUE_NOTICE__KIND__LEAD);
    CU_ASSERT_EQUAL(dn->number, 7);
    CU_ASSERT_STRING_EQUAL(dn->key, "lead-7");
    CU_ASSERT_STRING_EQUAL(dn->nhs_number, H_NHS_A);
    CU_ASSERT_STRING_EQUAL(dn->notice_on, "2026-10-08");
    CU_ASSERT_STRING_EQUAL(dn->review_on, "2026-10-15");
    CU_ASSERT_STRING_EQUAL(dn->lead, "SC");
    CU_ASSERT_EQUAL(dn->n_covered_streams, 3);
    CU_ASSERT_EQUAL(dn->n_missing_information, 3); /* nobody has said anything yet */
    joinedreview__v1__due_notice__free_unpacked(dn, NULL);
    CU_ASSERT_PTR_NULL(recv_notice(nsub, 500, topic, sizeof topic));
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGKILL), 128 + SIGKILL);

    /* kill -9 between commit and publication: the publication cursor is
     * behind the outbox. The restart publishes the rest once more and
     * decides nothing twice. */
    long long notices = h_sql_int(&db, "SELECT count(*) FROM due_notice");
    long long outbox = h_sql_int(&db, "SELECT count(*) FROM outbox");
    h_sql_exec(&db, "UPDATE publish_state SET last_published_seq = last_published_seq - 2");
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, day8) == 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice"), notices);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM outbox"), outbox);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT last_published_seq FROM publish_state"), outbox);
    FILE *f = fopen(d.log_path, "r");
    char line[512];
    int republished = 0;
    while (f && fgets(line, sizeof line, f)) {
        republished += strstr(line, "published 2 committed publications again") != NULL;
    }
    if (f) {
        fclose(f);
    }
    CU_ASSERT_EQUAL(republished, 1);

    /* Overdue: the day after, then weekly; each once. */
    const char *const day16[] = {"--today", "2026-10-16", NULL};
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, day16) == 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice WHERE key = 'due'"), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice WHERE key = 'overdue-1' "
                                   "AND notice_on = '2026-10-16' AND seq IS NOT NULL"),
                    1);
    const char *const day23[] = {"--today", "2026-10-23", NULL};
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, day23) == 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, day23) == 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice WHERE key = 'overdue-2' "
                                   "AND notice_on = '2026-10-23'"),
                    1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM outbox WHERE topic = 'notice.overdue.SC'"),
                    2);
    zmq_close(nsub);
}

static void test_review_held_starts_new_cycle_and_moves_dates(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "held") == 0);
    CU_ASSERT_FATAL(start(&d, &db, "2026-10-20") == 0);
    void *dealer = h_dealer(h_zctx, d.ingest);
    h_env_t e;
    h_enrolment(&e, "SC", "sc-e", T0, H_NHS_A, NULL, "2026-08-20");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    h_enrolment(&e, "ILF", "ilf-e", T0, H_NHS_A, NULL, "2025-01-10");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    /* SC due 2026-10-15, ILF 2027-01-10 (730 days): 87 days apart, joined. */
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT review_on - date '2026-10-15' FROM schedule"), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT cardinality(covered) FROM schedule"), 2);
    h_review_held(&e, "SC", "held-1", T0 + 20 * 24 * HOUR, H_NHS_A, "2026-10-19");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    /* Both streams were reviewed on 2026-10-19: SC next on 2027-10-19 and
     * ILF on 2028-10-18 (730 days). A new cycle. */
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT cycle FROM person"), 2);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT review_on - date '2027-10-19' FROM schedule"), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT cycle FROM schedule"), 2);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM consolidated_review WHERE cycle = 1 "
                                   "AND held_on = '2026-10-19'"),
                    1);
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* DOMAIN.md, "Who may say a review was held": only a stream with the
 * person enrolled on the held date, never after the daemon's day, never
 * before the cycle opened; each refusal with its own reason, kept. */
static void test_who_may_say_a_review_was_held(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "heldrules") == 0);
    CU_ASSERT_FATAL(start(&d, &db, "2026-10-20") == 0);
    void *dealer = h_dealer(h_zctx, d.ingest);
    h_env_t e;
    char code[64];
    h_enrolment(&e, "SC", "sc-e", T0, H_NHS_A, NULL, "2026-01-05");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);

    /* ILF has nothing to do with this person: refused, SC's cycle stays. */
    h_review_held(&e, "ILF", "ilf-held", T0 + HOUR, H_NHS_A, "2026-10-19");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, code), ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(code, "NOT_ENROLLED");
    /* 47 days after the daemon's day. */
    h_review_held(&e, "SC", "sc-ahead", T0 + HOUR, H_NHS_A, "2026-12-06");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, code), ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(code, "HELD_IN_FUTURE");
    /* Identifiers no enrolment links: nobody enrolled, so refused, not parked. */
    h_review_held(&e, "ATW", "atw-held", T0 + HOUR, NULL, "2026-10-19");
    e.ids.ni_number = "CE654321A";
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, code), ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(code, "NOT_ENROLLED");
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT cycle FROM person"), 1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM consolidated_review "
                                   "WHERE held_on IS NOT NULL"),
                    0);
    char reason[400] = "";
    h_sql_text(&db, "SELECT reason FROM rejected_event WHERE source_event_id = 'ilf-held'", reason,
               sizeof reason);
    CU_ASSERT_STRING_EQUAL(reason,
                           "ILF has no enrolment in force for this person on 2026-10-19: only a "
                           "funding stream the person is enrolled in on the day may record that "
                           "their review was held");
    h_sql_text(&db, "SELECT reason FROM rejected_event WHERE source_event_id = 'sc-ahead'", reason,
               sizeof reason);
    CU_ASSERT_STRING_EQUAL(reason, "review_held.held_on 2026-12-06 is after today (2026-10-20): "
                                   "record the review once it has been held");

    /* The enrolled stream closes the cycle; a later report dated before the
     * cycle opened is refused. */
    h_review_held(&e, "SC", "sc-held", T0 + 2 * HOUR, H_NHS_A, "2026-10-19");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT cycle FROM person"), 2);
    h_review_held(&e, "SC", "sc-early", T0 + 3 * HOUR, H_NHS_A, "2026-10-01");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, code), ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(code, "HELD_BEFORE_CYCLE");
    h_sql_text(&db, "SELECT reason FROM rejected_event WHERE source_event_id = 'sc-early'", reason,
               sizeof reason);
    CU_ASSERT_STRING_EQUAL(reason, "review_held.held_on 2026-10-01 is before this review cycle "
                                   "opened with the review held on 2026-10-19: check the date");
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT cycle FROM person"), 2);
    /* A refusal is not a duplicate: corrected, the same key is stored. */
    h_review_held(&e, "SC", "sc-ahead", T0 + 4 * HOUR, H_NHS_A, "2026-10-20");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT cycle FROM person"), 3);
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* One notion of today: a run with --today in the future takes events of
 * that day (the clock's day would call them the future), and the review
 * held that day. */
static void test_today_drives_the_future_check(void)
{
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "todayahead") == 0);
    CU_ASSERT_FATAL(start(&d, &db, "2031-03-01") == 0);
    void *dealer = h_dealer(h_zctx, d.ingest);
    h_env_t e;
    const int64_t march_2031 = 1930035600000LL; /* 2031-02-28T09:00:00Z */
    h_enrolment(&e, "SC", "sc-e", march_2031, H_NHS_A, NULL, "2030-01-05");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    h_review_held(&e, "SC", "sc-held", march_2031 + HOUR, H_NHS_A, "2031-02-28");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    /* A day past the daemon's day and its tolerance (a day) is the future. */
    char code[64];
    h_contribution(&e, "SC", "sc-later", march_2031 + 3 * 24 * HOUR, H_NHS_A, 1, 1, 1, "later");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, code), ST_REJECTED);
    CU_ASSERT_STRING_EQUAL(code, "IMPOSSIBLE_TIME");
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* Review records of the current state, as a late subscriber's snapshot has
 * them: nhs -> (cycle, held_on, review date). Returns the count. */
typedef struct {
    const char *want_nhs;
    uint32_t *cycle;
    char *held_on, *review_on;
    int reviews;
} snapshot_reviews_t;

static int snapshot_review(void *ctx, uint64_t seq, const char *topic, const uint8_t *payload,
                           size_t len, int origin)
{
    snapshot_reviews_t *s = ctx;
    (void)seq;
    CU_ASSERT_EQUAL(origin, JR_SUBSCRIBER_SNAPSHOT);
    if (strcmp(topic, "review") != 0) {
        return 0;
    }
    s->reviews++;
    Joinedreview__V1__ConsolidatedReview *cr =
        joinedreview__v1__consolidated_review__unpack(NULL, len, payload);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cr);
    if (strcmp(cr->nhs_number, s->want_nhs) == 0) {
        *s->cycle = cr->cycle;
        snprintf(s->held_on, 11, "%s", cr->held_on ? cr->held_on : "");
        snprintf(s->review_on, 11, "%s",
                 cr->schedule && cr->schedule->review_on ? cr->schedule->review_on : "");
    }
    joinedreview__v1__consolidated_review__free_unpacked(cr, NULL);
    return 0;
}

static int snapshot_reviews(const char *endpoint, const char *want_nhs, uint32_t *cycle,
                            char *held_on, char *review_on)
{
    snapshot_reviews_t s = {want_nhs, cycle, held_on, review_on, 0};
    jr_subscriber_options_t o = {.catchup_endpoint = endpoint,
                                 .zmq_context = h_zctx,
                                 .request_timeout_ms = 5000,
                                 .give_up_ms = 5000,
                                 .on_publication = snapshot_review,
                                 .ctx = &s};
    jr_subscriber_t *sub = jr_subscriber_new(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
    CU_ASSERT_EQUAL(jr_subscriber_sync(sub), 0); /* no live feed: the snapshot alone */
    jr_subscriber_destroy(&sub);
    return s.reviews;
}

/* Between a review held and the person's next event, the held cycle's final
 * record, with the new review date, is their current state everywhere. */
static void test_held_person_stays_current(void)
{
    enum { PERSONS = 12, HELD = 5 };
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "heldcurrent") == 0);
    CU_ASSERT_FATAL(start(&d, &db, "2026-10-20") == 0);
    void *dealer = h_dealer(h_zctx, d.ingest);
    h_env_t e;
    char nhs[PERSONS][11], seid[32];
    for (int i = 0; i < PERSONS; i++) {
        h_nhs_of(i, nhs[i]);
        snprintf(seid, sizeof seid, "sc-e-%d", i);
        h_enrolment(&e, "SC", seid, T0, nhs[i], NULL, "2025-10-01");
        CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    }
    for (int i = 0; i < HELD; i++) {
        snprintf(seid, sizeof seid, "sc-held-%d", i);
        h_review_held(&e, "SC", seid, T0 + HOUR, nhs[i], "2026-10-19");
        CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    }
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM person WHERE cycle = 2"), HELD);
    /* A late subscriber's snapshot: every person, the held ones with their
     * final record carrying the new date (SC yearly: 2027-10-19). */
    uint32_t cycle = 0;
    char held_on[11] = "", review_on[11] = "";
    CU_ASSERT_EQUAL(snapshot_reviews(d.catchup, nhs[0], &cycle, held_on, review_on), PERSONS);
    CU_ASSERT_EQUAL(cycle, 1);
    CU_ASSERT_STRING_EQUAL(held_on, "2026-10-19");
    CU_ASSERT_STRING_EQUAL(review_on, "2027-10-19");
    /* The reporting view and the statistics built on it. */
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM report_current_review"), PERSONS);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT sum(enrolled) FROM report_completeness_by_stream"),
                    PERSONS);
    jr_subscriber_t *s = h_catchup_client(h_zctx, d.catchup, NULL, NULL, NULL);
    Joinedreview__V1__CatchupReply *st = h_catchup(s, JR_SUBSCRIBER_ASK_STATISTICS, 5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st->statistics);
    CU_ASSERT_EQUAL(st->statistics->reviews, PERSONS);
    joinedreview__v1__catchup_reply__free_unpacked(st, NULL);
    jr_subscriber_destroy(&s);
    /* The next event opens the new cycle's record, which becomes current. */
    h_contribution(&e, "SC", "sc-next", T0 + 2 * HOUR, nhs[0], 1, 1, 1, "new cycle");
    CU_ASSERT_EQUAL(h_push(dealer, &e.env, NULL), ST_OK);
    CU_ASSERT_EQUAL(snapshot_reviews(d.catchup, nhs[0], &cycle, held_on, review_on), PERSONS);
    CU_ASSERT_EQUAL(cycle, 2);
    CU_ASSERT_STRING_EQUAL(held_on, "");
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM report_current_review"), PERSONS);
    CU_ASSERT_EQUAL(h_figures_differ(&db), 0); /* held cycles and new ones, read right */
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
}

/* More persons due than one round of the due check takes: the daemon is
 * ready first, then settles them all in rounds between its other work,
 * each notice once, with no gap in the sequence; the schedule's rows are
 * not rewritten, and a person moved behind the pass is settled by the
 * next. */
static void test_due_check_in_rounds(void)
{
    enum { PERSONS = 1200 }; /* rounds of 500: 500, 500, 200 */
    h_db_t db;
    h_daemon_t d;
    CU_ASSERT_FATAL(h_db_create(&db, "rounds") == 0);
    CU_ASSERT_FATAL(start(&d, &db, "2026-10-02") == 0);
    void *dealer = h_dealer(h_zctx, d.ingest);
    /* Social care from 2026-08-20: review 2026-10-15; on 2026-10-02 the
     * 28-day notice is the latest due, sent with each enrolment's batch.
     * Sent 400 at a time, each lot's acks read before the next: a client
     * keeps no more in flight than the daemon holds acks for (ack_queue). */
    h_env_t e;
    int ok = 0;
    for (int lot = 0; lot < PERSONS / 400; lot++) {
        for (int i = lot * 400; i < (lot + 1) * 400; i++) {
            char seid[32], nhs[11];
            snprintf(seid, sizeof seid, "rounds-%d", i);
            h_nhs_of(i, nhs);
            h_enrolment(&e, "SC", seid, T0, nhs, NULL, "2026-08-20");
            h_send(dealer, &e.env);
        }
        for (int i = 0; i < 400; i++) {
            Joinedreview__V1__Ack *ack = h_recv_ack(dealer, 20000);
            if (ack == NULL) {
                break;
            }
            ok += ack->status == ST_OK;
            joinedreview__v1__ack__free_unpacked(ack, NULL);
        }
    }
    CU_ASSERT_EQUAL(ok, PERSONS);
    zmq_close(dealer);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice WHERE key = 'lead-28'"),
                    PERSONS);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);

    /* On 2026-10-08 the 7-day notice falls due for all of them at once. */
    CU_ASSERT_FATAL(start(&d, &db, "2026-10-08") == 0);
    int settled = 0;
    for (int waited = 0; settled == 0 && waited < 20000; waited += 50) {
        h_sleep_ms(50);
        settled = h_log_line_of(&d, "due check: 1200 persons settled, 1200 notices published");
    }
    CU_ASSERT(settled > h_log_line_of(&d, "ready: "));
    CU_ASSERT(h_log_line_of(&d, "ready: ") > 0);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice WHERE key = 'lead-7' "
                                   "AND seq IS NOT NULL"),
                    PERSONS);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM schedule "
                                   "WHERE next_check_on <= '2026-10-08'"),
                    0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM outbox"),
                    h_sql_int(&db, "SELECT max(seq) FROM outbox"));
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM outbox"), 3 * PERSONS);
    /* Every next check moved on to the review date. */
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM schedule "
                                   "WHERE next_check_on = '2026-10-15'"),
                    PERSONS);

    /* On 2026-10-15 the review date's notice, for all of them again, in a
     * pass of three rounds. A write made while the first round runs (a
     * trigger, by hand as it were) moves the last person in key order to
     * a key before the one the pass has reached: the pass reads on from
     * its key and does not see them, and the next pass, which starts from
     * the first key, settles them. */
    char last[11];
    CU_ASSERT_FATAL(h_sql_text(&db, "SELECT max(nhs_number) FROM schedule", last, sizeof last) ==
                    0);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TABLE moved (at date); "
             "CREATE FUNCTION move_behind() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
             "IF NOT EXISTS (SELECT FROM moved) THEN INSERT INTO moved VALUES ('2026-10-14'); "
             "UPDATE schedule SET next_check_on = '2026-10-14' WHERE nhs_number = '%s'; "
             "END IF; RETURN NULL; END $$; "
             "CREATE TRIGGER move_behind AFTER UPDATE ON schedule "
             "FOR EACH STATEMENT EXECUTE FUNCTION move_behind()",
             last);
    CU_ASSERT_EQUAL_FATAL(h_sql_exec(&db, sql), 0);
    const char *const day15[] = {"--today", "2026-10-15", "--set", "daemon.due_check_interval_s=1",
                                 NULL};
    CU_ASSERT_FATAL(h_daemon_start(&d, &db, day15) == 0);
    int first = 0, second = 0;
    for (int waited = 0; second == 0 && waited < 20000; waited += 50) {
        h_sleep_ms(50);
        first = h_log_line_of(&d, "due check: 1199 persons settled, 1199 notices published");
        second = h_log_line_of(&d, "due check: 1 persons settled, 1 notices published");
    }
    CU_ASSERT(first > 0);
    CU_ASSERT(second > first);
    CU_ASSERT_EQUAL(h_daemon_stop(&d, SIGTERM), 0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM moved"), 1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM due_notice WHERE key = 'due' "
                                   "AND seq IS NOT NULL"),
                    PERSONS);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM due_notice WHERE key = 'due' AND nhs_number = '%s'", last);
    CU_ASSERT_EQUAL(h_sql_int(&db, sql), 1);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM schedule "
                                   "WHERE next_check_on <= '2026-10-15'"),
                    0);
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM outbox"),
                    h_sql_int(&db, "SELECT max(seq) FROM outbox"));
    CU_ASSERT_EQUAL(h_sql_int(&db, "SELECT count(*) FROM outbox"), 4 * PERSONS);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"schedule in the record; notices exactly once", test_schedule_in_record_and_notices_once},
        {"review held starts a new cycle and moves dates",
         test_review_held_starts_new_cycle_and_moves_dates},
        {"more due than a round: ready first, then every notice once, none skipped",
         test_due_check_in_rounds},
        {"who may say a review was held", test_who_may_say_a_review_was_held},
        {"--today drives the future check", test_today_drives_the_future_check},
        {"a person whose review was held stays current", test_held_person_stays_current},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"notices", h_suite_init, h_suite_clean, NULL, NULL, tests},
                             CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
