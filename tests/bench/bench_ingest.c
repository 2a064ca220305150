/* bench_ingest.c -- realistic ingest at scale: how fast the daemon takes a
 * seeded caseload export from several back offices at once, how long each
 * envelope waits for its ack, and whether the daemon's memory stays flat
 * as the number of persons grows.
 *
 * The data (fixed seed, the same on every run): PERSONS persons, each in a
 * random 1-4 of the six funding streams (Social Care the most common), one
 * ENROLMENT per (person, stream) started in the two years before the
 * harness's today (2026-10-02), six in ten persons with an NI number valid
 * by HMRC's letter rules, some with the stream's own client id; then
 * contributions on the stream's topics by the person, carers, officers,
 * providers and advocates, with priorities and sentences as a review would
 * have them; and about 2 % each of plan revisions and reviews held (a
 * person's joint review held once, recorded by their first stream, as
 * DOMAIN.md's "Who may say a review was held" allows). The rest of EVENTS
 * are contributions.
 *
 * SENDERS threads (at most six, one per back office) each own whole streams
 * and send their export ordered by person (the enrolment, then that
 * person's events in time order) through their own client (jr_client: a
 * DEALER with at most WINDOW unacknowledged, resending whatever is answered
 * RETRY_LATER).
 *
 * It measures:
 *   - events/s from the first send until every event is acknowledged AND a
 *     SUB on the publish endpoint (topic "review") has received the
 *     publication whose sequence is the outbox's highest review sequence
 *     after the last ack (notices, which a "review" subscriber does not
 *     get, may come later in the outbox; their highest sequence is printed
 *     too);
 *   - ack latency, first send to final ack, matched by stream and
 *     source_event_id: p50, p99 and max;
 *   - the daemon's VmRSS at 10, 25, 50, 75 and 100 % of events acknowledged,
 *     and its peak (VmHWM), from /proc/<pid>/status;
 *   - count(*) of the event table against the events sent (exit 1 if they
 *     differ).
 * Baseline, in the same run and database: the same rows (the event table's
 * columns, decoded from the same envelopes) written by a bare COPY into a
 * plain table without indexes, 1,000 rows per commit. And, to show how much
 * of the gap the event log itself accounts for, the same COPY into a copy of
 * the event table (CREATE TABLE ... LIKE event, with its indexes and
 * checks): the floor of any daemon that keeps this log.
 *
 *   bench_ingest [EVENTS [PERSONS [SENDERS [WINDOW]]]]
 *                defaults 1000000 100000 4 500
 *   e.g. bench_ingest 20000 2000 4 500   (a quick run)
 *
 * Needs the throwaway cluster named by JR_TEST_PGDIR (scripts/pg.sh start
 * DIR), or run it through `cmake --build build --target bench_ingest`. Not
 * part of the test suite. */
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "caseload.h"
#include "harness.h"
#include "load.h"

#define BASELINE_ROWS_PER_COMMIT 1000
#define SUB_WAIT_NS              (60LL * 1000000000LL)

/* ---- the caseload ------------------------------------------------------ */

/* One person's enrolment in one stream and what follows it. */
typedef struct {
    int person;
    int stream;
    int started_day;
    int contributions;
    int plan;
    int held;
} pair_t;

typedef struct {
    pair_t *pairs;
    size_t n_pairs;
    size_t enrolments, contributions, plans, held, ninos;
} caseload_t;

/* Topics each stream's officers write about most (its minimum information,
 * streams.c), by Topic number. */
static const int stream_topics[CASELOAD_STREAMS][18] = {
    {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
    {12, 1, 2, 3, 4, 7, 8, 10, 11, 15, 6, 9},
    {1, 4, 7, 8, 14, 15, 6, 9},
    {16, 7, 8, 13, 6, 9},
    {10, 11, 16, 17, 1, 6, 9},
    {15, 16, 17, 7, 8, 6, 9},
};

/* For each Topic (1-18): two things that work, two that do not. */
static const char *const sentences[19][2][2] = {
    [1] = {{"Personal assistant comes every morning for washing and dressing; the routine suits "
            "her.",
            "Support hours went up in the spring and mornings are much calmer."},
           {"Evening calls are often late, so tea is not until after eight.",
            "Agency staff keep changing and he has to explain his routine again."}},
    [2] = {{"Has an advocate from the local self-advocacy group for meetings.",
            "The advocate helped him challenge the decision about his day service."},
           {"The waiting list for an independent advocate is about four months.",
            "No one has explained what an advocate could do for her."}},
    [3] = {{"Goes to the peer support group at the library every other Thursday.",
            "Keeps in touch with two friends from the course by phone."},
           {"Stopped going to the group when the venue moved across town.",
            "Would like to meet others who use a wheelchair but does not know where."}},
    [4] = {{"Her sister visits at weekends and helps with the shopping.",
            "Sees his grandchildren most Sundays and enjoys it."},
           {"Mother is the main carer and is finding it hard to keep going.",
            "Contact with his son has broken down since the move."}},
    [5] = {{"Manages her own budget with help from a support planner.",
            "Chooses who comes into the house and has said no to one agency."},
           {"Family worry about him going out alone after dark.",
            "Not always involved in decisions about her own medication."}},
    [6] = {{"PIP award confirmed at the enhanced rate for daily living.",
            "The direct payment arrives on time and the account is up to date."},
           {"Universal Credit was stopped for six weeks after a missed appointment.",
            "Has rent arrears of about three hundred pounds."}},
    [7] = {{"Diabetes is well controlled and the GP reviews it every six months.",
            "Physiotherapy has helped; walking further with the frame."},
           {"Two falls at home since March, one needing an ambulance.",
            "Has missed hospital appointments because of transport."}},
    [8] = {{"Pendant alarm fitted and she knows how to use it.",
            "Feels safe with the regular carers and knows who to call."},
           {"Cold callers at the door persuaded her to pay for repairs.",
            "The back door lock is broken and she worries at night."}},
    [9] = {{"Has the care plan in easy read and keeps it by the phone.",
            "Knows how to contact the duty team if things change."},
           {"Letters from the council are hard to follow; needs large print.",
            "Was not told that the day centre hours had changed."}},
    [10] = {{"Started an English and maths course at the college two mornings a week.",
             "Completed a food hygiene certificate in the summer."},
            {"The college place ended when the support worker funding stopped.",
             "Wants to learn computer skills but the course is full."}},
    [11] = {{"Works sixteen hours a week at the garden centre with a job coach.",
             "Access to Work pays for a support worker at the office."},
            {"Lost his job at the warehouse after the shift pattern changed.",
             "The employer has not yet made the adjustments agreed in January."}},
    [12] = {{"Volunteers at the food bank on Fridays.",
             "Registered to vote and went to the polling station with a friend."},
            {"Would like to volunteer but needs someone to go with her at first.",
             "Does not feel part of the local community since moving."}},
    [13] = {{"Does a weekly online shop with help from his carer.",
             "Uses the community pharmacy's delivery service."},
            {"The local bank branch closed and she cannot manage online banking.",
             "The nearest shop is not wheelchair accessible."}},
    [14] = {{"Swims at the leisure centre every Wednesday with a PA.",
             "Enjoys the gardening club and has a plot at the allotment."},
            {"Has not been out socially for months apart from appointments.",
             "Cinema trips stopped when the PA hours were cut."}},
    [15] = {{"The tenancy is secure and the flat suits him well.",
             "Moved to a ground floor flat in May and is settling in."},
            {"The stairs to the bedroom are becoming unsafe.",
             "Damp in the bathroom has been reported twice to the landlord."}},
    [16] = {{"A new profiling bed was delivered and fitted in April.",
             "Shower chair and grab rails have made bathing easier."},
            {"The hoist is overdue for its safety check.",
             "The wheelchair cushion is worn and causing pressure problems."}},
    [17] = {{"Uses the community transport minibus for the day centre.",
             "Has a blue badge and a Motability car that her husband drives."},
            {"The taxi to work costs more than the Access to Work award allows.",
             "The bus pass application has been waiting for eight weeks."}},
    [18] = {{"Has a dog who is a great comfort and a reason to go out.",
             "Is proud of the photo album she made of her family."},
            {"Would like help with the garden, which has become overgrown.",
             "Worried about what will happen when his father can no longer help."}},
};

static const char *const follow_ups[] = {
    "Agreed at the home visit.",         "Discussed on the phone with the carer.",
    "To be checked at the next review.", "The person agrees with this.",
    "Raised by the provider's manager.", "No change since the last contact.",
};

static const char *const authors[] = {
    "J. Patel", "A. Okafor", "S. McLeod", "R. Hughes",
    "K. Nowak", "M. Ahmed",  "L. Evans",  "T. Byrne",
};

/* Roles, by Role number: PERSON, CARER, COUNCIL, STREAM_OFFICER, PROVIDER,
 * ADVOCATE. Social Care's officers are the council's. */
static const int role_weight_sc[7] = {0, 20, 12, 45, 0, 15, 8};
static const int role_weight_other[7] = {0, 20, 12, 0, 45, 15, 8};
/* NOT_GIVEN, GREEN, AMBER, RED */
static const int priority_weight[4] = {30, 35, 25, 10};

static int caseload_build(caseload_t *cl, size_t events, int persons, int today)
{
    static const int streams_per_person[4] = {35, 35, 20, 10}; /* 1, 2, 3, 4 streams */
    memset(cl, 0, sizeof *cl);
    cl->pairs = malloc((size_t)persons * 4 * sizeof *cl->pairs);
    if (cl->pairs == NULL) {
        return -1;
    }
    for (int p = 0; p < persons; p++) {
        caseload_rng_t rng = caseload_rng(CASELOAD_SEED, (uint64_t)p);
        int k = 1 + caseload_weighted(&rng, streams_per_person, 4);
        int streams[CASELOAD_STREAMS];
        caseload_pick_streams(&rng, k, streams);
        for (int i = 0; i < k; i++) {
            pair_t *pr = &cl->pairs[cl->n_pairs++];
            pr->person = p;
            pr->stream = streams[i];
            pr->started_day = today - 1 - caseload_below(&rng, 730);
            pr->contributions = 0;
            pr->held = i == 0 && today - 1 - pr->started_day >= 365 && caseload_chance(&rng, 4);
            pr->plan = caseload_chance(&rng, 2);
            cl->held += (size_t)pr->held;
            cl->plans += (size_t)pr->plan;
        }
    }
    cl->enrolments = cl->n_pairs;
    size_t fixed = cl->enrolments + cl->held + cl->plans;
    if (events < fixed) {
        fprintf(stderr, "bench_ingest: %d persons need at least %zu events\n", persons, fixed);
        return -1;
    }
    /* The contributions fall on the enrolments at random (multinomially):
     * some people have much to say, some little. */
    cl->contributions = events - fixed;
    caseload_rng_t rng = caseload_rng(CASELOAD_SEED, UINT64_MAX);
    for (size_t c = 0; c < cl->contributions; c++) {
        cl->pairs[caseload_next(&rng) % cl->n_pairs].contributions++;
    }
    return 0;
}

/* One event of a pair, in time order. */
typedef struct {
    int64_t at_ms;
    int kind; /* 0 contribution, 1 plan revision, 2 review held */
    int day;
} item_t;

static int cmp_item(const void *a, const void *b)
{
    const item_t *x = a, *y = b;
    return (x->at_ms > y->at_ms) - (x->at_ms < y->at_ms);
}

static int add_contribution(load_t *l, size_t office, const pair_t *pr, caseload_rng_t *rng,
                            int64_t at_ms, const char *nhs)
{
    const char *stream = caseload_streams[pr->stream];
    const int *topics = stream_topics[pr->stream];
    int n_topics = 0;
    while (n_topics < 18 && topics[n_topics] != 0) {
        n_topics++;
    }
    int topic = caseload_chance(rng, 85) ? topics[caseload_below(rng, n_topics)]
                                         : 1 + caseload_below(rng, 18);
    int role = caseload_weighted(rng, pr->stream == 0 ? role_weight_sc : role_weight_other, 7);
    int priority = caseload_weighted(rng, priority_weight, 4);
    static const int form_weight[4] = {45, 25, 27, 3}; /* working, not working, both, no change */
    int form = caseload_weighted(rng, form_weight, 4);
    char working[256], not_working[256], seid[32];
    const char *const(*said)[2] = sentences[topic];
    snprintf(working, sizeof working, "%s", said[0][caseload_below(rng, 2)]);
    snprintf(not_working, sizeof not_working, "%s", said[1][caseload_below(rng, 2)]);
    if (caseload_chance(rng, 35)) {
        char *text = form == 1 ? not_working : working;
        size_t len = strlen(text);
        snprintf(text + len, sizeof working - len, " %s",
                 follow_ups[caseload_below(rng, (int)(sizeof follow_ups / sizeof *follow_ups))]);
    }
    load_seid(l, office, stream, seid);
    h_env_t e;
    h_contribution(&e, stream, seid, at_ms, nhs, topic, role, form == 3 ? 0 : priority,
                   form == 0 || form == 2 ? working : NULL);
    if (form == 1 || form == 2) {
        e.contribution.not_working = not_working;
    }
    if (form == 3) {
        e.contribution.has_no_change = 1;
        e.contribution.no_change = 1;
    }
    if (caseload_chance(rng, 30)) {
        e.contribution.author_name =
            (char *)authors[caseload_below(rng, (int)(sizeof authors / sizeof *authors))];
    }
    return load_add(l, office, stream, &e.env);
}

/* The enrolment, then the pair's events in time order. */
static int add_pair(load_t *l, size_t office, const pair_t *pr, size_t index, int today)
{
    caseload_rng_t rng = caseload_rng(CASELOAD_SEED ^ 0x1e5ULL, (uint64_t)index);
    const char *stream = caseload_streams[pr->stream];
    char seid[32];
    load_seid(l, office, stream, seid);
    caseload_enrolment_t en;
    caseload_enrolment(&en, &rng, pr->person, pr->stream, pr->started_day, seid);
    if (load_add(l, office, stream, &en.e.env) != 0) {
        return -1;
    }
    size_t n = (size_t)pr->contributions + (size_t)pr->plan + (size_t)pr->held;
    item_t *items = malloc((n ? n : 1) * sizeof *items);
    if (items == NULL) {
        return -1;
    }
    int span = today - pr->started_day; /* >= 1 */
    size_t k = 0;
    for (int c = 0; c < pr->contributions; c++) {
        int day = pr->started_day + 1 + caseload_below(&rng, span);
        items[k++] = (item_t){caseload_ms(day, 8 * 60 + caseload_below(&rng, 10 * 60)), 0, day};
    }
    if (pr->plan) {
        int day = pr->started_day + 1 + caseload_below(&rng, span);
        items[k++] = (item_t){caseload_ms(day, 10 * 60 + caseload_below(&rng, 6 * 60)), 1, day};
    }
    if (pr->held) {
        int day = pr->started_day + 330 + caseload_below(&rng, 36);
        items[k++] = (item_t){caseload_ms(day, 10 * 60 + caseload_below(&rng, 6 * 60)), 2, day};
    }
    qsort(items, k, sizeof *items, cmp_item);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < k; i++) {
        if (items[i].kind == 0) {
            rc = add_contribution(l, office, pr, &rng, items[i].at_ms, en.nhs);
            continue;
        }
        h_env_t e;
        char date[11];
        load_seid(l, office, stream, seid);
        if (items[i].kind == 1) {
            caseload_format_day(items[i].day + 180 + caseload_below(&rng, 185), date);
            h_plan_revision(&e, stream, seid, items[i].at_ms, en.nhs, date,
                            authors[caseload_below(&rng, (int)(sizeof authors / sizeof *authors))]);
        } else {
            caseload_format_day(items[i].day, date);
            h_review_held(&e, stream, seid, items[i].at_ms, en.nhs, date);
        }
        rc = load_add(l, office, stream, &e.env);
    }
    free(items);
    return rc;
}

/* Each back office's export: its streams' enrolments, ordered by person. */
static load_t *exports_build(const caseload_t *cl, size_t senders, int window, int today,
                             int owner[CASELOAD_STREAMS], size_t *offices)
{
    size_t per_stream[CASELOAD_STREAMS] = {0};
    for (size_t i = 0; i < cl->n_pairs; i++) {
        const pair_t *pr = &cl->pairs[i];
        per_stream[pr->stream] +=
            1 + (size_t)pr->contributions + (size_t)pr->plan + (size_t)pr->held;
    }
    *offices = caseload_assign(per_stream, senders, owner);
    load_t *l = load_new(*offices, window);
    for (size_t i = 0; l != NULL && i < cl->n_pairs; i++) {
        const pair_t *pr = &cl->pairs[i];
        if (add_pair(l, (size_t)owner[pr->stream], pr, i, today) != 0) {
            load_destroy(&l);
        }
    }
    return l;
}

/* ---- the subscriber ---------------------------------------------------- */

/* A bare SUB, not the client library's subscriber: it measures what the
 * live feed itself delivers, and when; catch-up would fill any drop and
 * hide it. */

typedef struct {
    void *zctx;
    const char *endpoint;
    atomic_int ready;
    atomic_int stop;
    atomic_uint_fast64_t max_seq;
    atomic_int_fast64_t max_seq_ns; /* when max_seq arrived */
    atomic_size_t received;
} sub_t;

static void *sub_main(void *arg)
{
    sub_t *s = arg;
    void *sock = h_sub(s->zctx, s->endpoint, "review");
    atomic_store(&s->ready, sock != NULL ? 1 : -1);
    while (sock != NULL && !atomic_load(&s->stop)) {
        Joinedreview__V1__ConsolidatedReview *r = h_recv_review(sock, 100);
        if (r == NULL) {
            continue;
        }
        int64_t now = load_now_ns();
        atomic_fetch_add(&s->received, 1);
        if (r->has_sequence && r->sequence > atomic_load(&s->max_seq)) {
            atomic_store(&s->max_seq_ns, now);
            atomic_store(&s->max_seq, r->sequence);
        }
        joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
    }
    if (sock != NULL) {
        zmq_close(sock);
    }
    return NULL;
}

/* ---- the baseline ------------------------------------------------------ */

static const char hex[] = "0123456789abcdef";

/* Appends one COPY text row for this envelope; the buffer holds at least
 * 4 * len + 512 bytes. Returns the bytes written, 0 for an undecodable one. */
static size_t copy_row(char *out, const uint8_t *env, size_t len, const char *sender)
{
    Joinedreview__V1__Envelope *e = joinedreview__v1__envelope__unpack(NULL, len, env);
    if (e == NULL) {
        return 0;
    }
    static const char *const kinds[] = {
        [JOINEDREVIEW__V1__ENVELOPE__BODY_ENROLMENT] = "ENROLMENT",
        [JOINEDREVIEW__V1__ENVELOPE__BODY_CONTRIBUTION] = "CONTRIBUTION",
        [JOINEDREVIEW__V1__ENVELOPE__BODY_REVIEW_HELD] = "REVIEW_HELD",
        [JOINEDREVIEW__V1__ENVELOPE__BODY_PLAN_REVISION] = "PLAN_REVISION",
    };
    char day[11];
    int64_t ms = e->occurred_at;
    caseload_format_day((int)(ms / 86400000), day);
    int64_t in_day = ms % 86400000;
    const Joinedreview__V1__PersonIds *ids = e->person;
    /* The cycle column costs the same whatever its value: 1 here. */
    int n = sprintf(out, "%s\t%s\t%s\t%s %02d:%02d:%02d.%03d+00\t%s\t%s\t%s\t%s\t1\t\\\\x",
                    e->stream, e->source_event_id, kinds[e->body_case], day,
                    (int)(in_day / 3600000), (int)(in_day / 60000 % 60), (int)(in_day / 1000 % 60),
                    (int)(in_day % 1000), sender, ids->nhs_number,
                    ids->ni_number ? ids->ni_number : "\\N", ids->local_id ? ids->local_id : "\\N");
    joinedreview__v1__envelope__free_unpacked(e, NULL);
    size_t off = (size_t)n;
    for (size_t i = 0; i < len; i++) {
        out[off++] = hex[env[i] >> 4];
        out[off++] = hex[env[i] & 15];
    }
    out[off++] = '\n';
    return off;
}

static int exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_COPY_IN;
    if (!ok) {
        fprintf(stderr, "bench_ingest: baseline: %s", PQerrorMessage(c));
    }
    PQclear(r);
    return ok ? 0 : -1;
}

/* The columns both baselines write, in copy_row's order. */
#define BASELINE_COLUMNS                                                                           \
    "(stream, source_event_id, kind, occurred_at, sender, nhs_number, ni_number, local_id, "       \
    "cycle, envelope)"

/* Rows per second into the table `create` makes, or a negative number on
 * failure. */
static double baseline_copy(const h_db_t *db, const load_t *l, size_t offices, const char *create,
                            const char *copy)
{
    enum { CHUNK = 64 * 1024, ROW_MAX = 16 * 1024 };
    PGconn *c = PQconnectdb(db->conninfo);
    char *buf = malloc(CHUNK + ROW_MAX);
    double rate = -1;
    if (PQstatus(c) != CONNECTION_OK || buf == NULL || exec_ok(c, create) != 0) {
        goto out;
    }
    size_t total = 0;
    for (size_t o = 0; o < offices; o++) {
        total += load_count(l, o);
    }
    int64_t t0 = load_now_ns();
    size_t office = 0, i = 0, done = 0;
    while (done < total) {
        if (exec_ok(c, "BEGIN") != 0 || exec_ok(c, copy) != 0) {
            goto out;
        }
        size_t used = 0;
        for (int r = 0; r < BASELINE_ROWS_PER_COMMIT && done < total; r++, done++) {
            while (i == load_count(l, office)) {
                office++;
                i = 0;
            }
            char sender[32];
            snprintf(sender, sizeof sender, "127.0.0.1 id:00800041%02zx", office);
            size_t len = 0;
            const uint8_t *env = load_envelope(l, office, i++, &len);
            if (4 * len + 512 > ROW_MAX) {
                continue;
            }
            used += copy_row(buf + used, env, len, sender);
            if (used >= CHUNK) {
                PQputCopyData(c, buf, (int)used);
                used = 0;
            }
        }
        if (used > 0) {
            PQputCopyData(c, buf, (int)used);
        }
        PQputCopyEnd(c, NULL);
        PGresult *res = PQgetResult(c);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        while ((res = PQgetResult(c)) != NULL) {
            PQclear(res);
        }
        if (!ok || exec_ok(c, "COMMIT") != 0) {
            fprintf(stderr, "bench_ingest: baseline COPY: %s", PQerrorMessage(c));
            goto out;
        }
    }
    rate = (double)total / ((double)(load_now_ns() - t0) / 1e9);
out:
    free(buf);
    PQfinish(c);
    return rate;
}

/* ---- the run ----------------------------------------------------------- */

static const int marks[] = {10, 25, 50, 75, 100};
#define N_MARKS (sizeof marks / sizeof marks[0])

/* Waits for the senders, sampling the daemon's VmRSS as the acks pass each
 * mark and saying how far it got every ten seconds. */
static void watch(const load_t *l, size_t total, pid_t daemon, long rss_kb[N_MARKS])
{
    size_t next_mark = 0;
    int64_t t0 = load_now_ns(), report = t0 + 10000000000LL;
    for (;;) {
        int finished = load_finished(l);
        size_t acked = load_acked(l);
        while (next_mark < N_MARKS && acked * 100 >= total * (size_t)marks[next_mark]) {
            rss_kb[next_mark++] = load_proc_kb(daemon, "VmRSS:");
        }
        if (finished) {
            return;
        }
        int64_t now = load_now_ns();
        if (now >= report) {
            fprintf(stderr, "bench_ingest: %zu of %zu acknowledged, %.0f events/s\n", acked, total,
                    (double)acked / ((double)(now - t0) / 1e9));
            report += 10000000000LL;
        }
        h_sleep_ms(2);
    }
}

static double ms_of(int64_t ns)
{
    return (double)ns / 1e6;
}

int main(int argc, char **argv)
{
    long events = argc > 1 ? atol(argv[1]) : 1000000;
    int persons = argc > 2 ? atoi(argv[2]) : 100000;
    int senders = argc > 3 ? atoi(argv[3]) : 4;
    int window = argc > 4 ? atoi(argv[4]) : 500;
    if (events < 1 || persons < 1 || senders < 1 || window < 1) {
        fprintf(stderr, "usage: bench_ingest [EVENTS [PERSONS [SENDERS [WINDOW]]]]\n");
        return 2;
    }
    if (senders > CASELOAD_STREAMS) {
        fprintf(stderr, "bench_ingest: one back office per stream at most: %d senders\n",
                CASELOAD_STREAMS);
        senders = CASELOAD_STREAMS;
    }
    int today = caseload_day_of(H_TODAY);

    int64_t g0 = load_now_ns();
    caseload_t cl;
    int owner[CASELOAD_STREAMS];
    size_t offices = 0;
    load_t *l = NULL;
    if (caseload_build(&cl, (size_t)events, persons, today) != 0 ||
        (l = exports_build(&cl, (size_t)senders, window, today, owner, &offices)) == NULL) {
        fprintf(stderr, "bench_ingest: cannot build the caseload\n");
        free(cl.pairs);
        return 1;
    }
    free(cl.pairs);
    printf("bench_ingest: %ld events, %d persons, %zu senders, window %d, seed %u\n", events,
           persons, offices, window, CASELOAD_SEED);
    printf("  %zu enrolments, %zu contributions, %zu plan revisions, %zu reviews held "
           "(built in %.1f s)\n",
           cl.enrolments, cl.contributions, cl.plans, cl.held, (double)(load_now_ns() - g0) / 1e9);
    for (size_t o = 0; o < offices; o++) {
        printf("  sender %zu:", o + 1);
        for (int s = 0; s < CASELOAD_STREAMS; s++) {
            if (owner[s] == (int)o) {
                printf(" %s", caseload_streams[s]);
            }
        }
        printf(", %zu events\n", load_count(l, o));
    }
    fflush(stdout);

    h_db_t db;
    h_daemon_t d;
    const char *level = getenv("JR_BENCH_LOG") ? getenv("JR_BENCH_LOG") : "info";
    if (h_db_create(&db, "bench_ingest") != 0 ||
        h_daemon_start(&d, &db, (const char *const[]){"--log-level", level, NULL}) != 0) {
        fprintf(stderr, "bench_ingest: cannot start (is the cluster in JR_TEST_PGDIR running?)\n");
        load_destroy(&l);
        return 1;
    }
    void *zctx = zmq_ctx_new();
    sub_t sub = {.zctx = zctx, .endpoint = d.publish};
    pthread_t sub_thread;
    if (pthread_create(&sub_thread, NULL, sub_main, &sub) != 0) {
        fprintf(stderr, "bench_ingest: cannot start the subscriber\n");
        h_daemon_stop(&d, SIGTERM);
        zmq_ctx_term(zctx);
        load_destroy(&l);
        return 1;
    }
    while (atomic_load(&sub.ready) == 0) {
        h_sleep_ms(10);
    }

    size_t total = 0;
    for (size_t o = 0; o < offices; o++) {
        total += load_count(l, o);
    }
    long rss_kb[N_MARKS] = {0};
    int failed = load_start(l, zctx, d.ingest) != 0;
    watch(l, total, d.pid, rss_kb);
    failed |= load_wait(l) != 0;
    load_stats_t st;
    load_stats(l, SIZE_MAX, &st);

    /* A batch's reviews are committed before its acks, so the highest review
     * sequence is final by the last ack; the due check after that batch may
     * still be adding notices. */
    long long review_seq = h_sql_int(&db, "SELECT coalesce(max(seq), 0) FROM outbox WHERE "
                                          "topic = 'review'");
    long long max_seq = h_sql_int(&db, "SELECT coalesce(max(seq), 0) FROM outbox");
    long long reviews = h_sql_int(&db, "SELECT count(*) FROM outbox WHERE topic = 'review'");
    int64_t waited_from = load_now_ns();
    while ((long long)atomic_load(&sub.max_seq) < review_seq &&
           load_now_ns() - waited_from < SUB_WAIT_NS) {
        h_sleep_ms(1);
    }
    int seen = (long long)atomic_load(&sub.max_seq) >= review_seq;
    int64_t end_ns = st.last_ack_ns;
    if (seen && atomic_load(&sub.max_seq_ns) > end_ns) {
        end_ns = atomic_load(&sub.max_seq_ns);
    }
    atomic_store(&sub.stop, 1);
    pthread_join(sub_thread, NULL);

    long hwm_kb = load_proc_kb(d.pid, "VmHWM:");
    long long rows = h_sql_int(&db, "SELECT count(*) FROM event");
    h_daemon_stop(&d, SIGTERM);
    zmq_ctx_term(zctx);

    double secs = (double)(end_ns - st.first_send_ns) / 1e9;
    double rate = (double)(st.ok + st.duplicate + st.parked + st.rejected) / secs;
    static const double fractions[] = {0.5, 0.99, 1.0};
    int64_t lat[3] = {0, 0, 0};
    load_latency(l, fractions, 3, lat);
    double base = baseline_copy(&db, l, offices,
                                "CREATE TABLE baseline_event (stream text, source_event_id text, "
                                "kind text, occurred_at timestamptz, sender text, nhs_number "
                                "text, ni_number text, local_id text, cycle integer, envelope "
                                "bytea)",
                                "COPY baseline_event " BASELINE_COLUMNS " FROM STDIN");
    /* The floor of any daemon that keeps this event log: the same rows into
     * a copy of it, with its indexes and checks, and nothing else. */
    double log_base = baseline_copy(&db, l, offices,
                                    "CREATE TABLE baseline_log (LIKE event INCLUDING DEFAULTS "
                                    "INCLUDING CONSTRAINTS INCLUDING INDEXES)",
                                    "COPY baseline_log " BASELINE_COLUMNS " FROM STDIN");

    printf("\n%-48s %s\n", "measure", "value");
    printf("%-48s %zu ok, %zu duplicate, %zu parked, %zu rejected\n", "final acks", st.ok,
           st.duplicate, st.parked, st.rejected);
    printf("%-48s %zu resent, %zu stray acks\n", "RETRY_LATER answers", st.retried, st.stray);
    printf("%-48s %.2f s\n", "first send to last ack",
           ms_of(st.last_ack_ns - st.first_send_ns) / 1e3);
    printf("%-48s %.2f s (seq %lld %s)\n", "first send to last review on the SUB", secs, review_seq,
           seen ? "received" : "NOT received");
    printf("%-48s %zu of %lld (outbox max(seq), notices too: %lld)\n",
           "review publications received by the SUB", atomic_load(&sub.received), reviews, max_seq);
    printf("%-48s %.0f events/s\n", "daemon: acked and published", rate);
    printf("%-48s %.1f / %.1f / %.1f ms\n", "ack latency p50 / p99 / max", ms_of(lat[0]),
           ms_of(lat[1]), ms_of(lat[2]));
    for (size_t m = 0; m < N_MARKS; m++) {
        char label[64];
        snprintf(label, sizeof label, "daemon VmRSS at %3d %% acked (%zu events)", marks[m],
                 total * (size_t)marks[m] / 100);
        printf("%-48s %.1f MB\n", label, (double)rss_kb[m] / 1024);
    }
    printf("%-48s %.1f MB\n", "daemon peak RSS (VmHWM)", (double)hwm_kb / 1024);
    printf("%-48s %lld (sent %zu)%s\n", "count(*) of event", rows, total,
           rows == (long long)total ? "" : "  MISMATCH");
    printf("%-48s %.0f rows/s\n", "baseline: bare COPY, 1,000 rows/commit", base);
    printf("%-48s %.3f\n", "ratio daemon / baseline", base > 0 ? rate / base : 0.0);
    printf("%-48s %.0f rows/s (%.3f of the bare COPY)\n", "the same into a copy of the event log",
           log_base, base > 0 && log_base > 0 ? log_base / base : 0.0);
    printf("%-48s %.3f\n", "ratio daemon / event-log COPY", log_base > 0 ? rate / log_base : 0.0);

    load_destroy(&l);
    return failed || !seen || rows != (long long)total || base <= 0 || log_base <= 0 ? 1 : 0;
}
