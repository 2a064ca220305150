/* test_schedule_property.c -- the scheduling rules that must hold for every
 * person, checked over thousands of seeded random enrolment sets.
 *
 * Each case draws a random subset of the six streams, one or two enrolments
 * per stream (random starts over 2020-2026, optional last reviews -- for half
 * the people clustered around one date --, ends, award ends and interval
 * overrides), up to three reviews held, and a random today in 2020-2028.
 * Violations are counted, not asserted one by one, and the first failing seed
 * of each property is printed so that it can be replayed. */
#include "schedule.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jr_cunit.h"

#define CASES      5000
#define SEED       UINT64_C(0x4a52534348454455) /* fixed: the run is reproducible */
#define MAX_EVENTS 16
#define N(a)       (sizeof(a) / sizeof((a)[0]))

static const char *const codes[] = {"SC", "SP", "ILF", "ICES", "ATW", "DFG"};
static const char *const ids[] = {"e0", "e1", "e2",  "e3",  "e4",  "e5",  "e6",  "e7",
                                  "e8", "e9", "e10", "e11", "e12", "e13", "e14", "e15"};

static jr_streams_t *streams;

static int setup(void)
{
    streams = jr_streams_new_default();
    return streams == NULL;
}

static int teardown(void)
{
    jr_streams_destroy(&streams);
    return 0;
}

/* xorshift64*: small, fast, and the same on every platform. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(2685821657736338717);
}

/* Uniform enough in [lo, hi]. */
static int32_t between(uint64_t *state, int32_t lo, int32_t hi)
{
    return lo + (int32_t)(next_random(state) % (uint64_t)(hi - lo + 1));
}

static bool chance(uint64_t *state, unsigned percent)
{
    return next_random(state) % 100 < percent;
}

typedef struct {
    jr_event_t events[MAX_EVENTS];
    size_t n;
    jr_day_t today;
    bool has_meeting;
} person_t;

static void random_person(uint64_t seed, person_t *p)
{
    uint64_t st = seed;
    jr_day_t from = jr_text_day_from_civil(2020, 1, 1);
    jr_day_t to = jr_text_day_from_civil(2026, 12, 31);
    memset(p, 0, sizeof *p);
    /* Half the people were last reviewed around one date, so that their
     * streams fall due close together and alignment is exercised. */
    bool clustered = chance(&st, 50);
    jr_day_t around = between(&st, from, to);

    for (size_t c = 0; c < N(codes); c++) {
        if (!chance(&st, 50))
            continue;
        int copies = chance(&st, 25) ? 2 : 1;
        for (int k = 0; k < copies; k++) {
            jr_enrolment_t e = {.started_on = between(&st, from, to),
                                .ended_on = JR_DAY_NONE,
                                .last_review_on = JR_DAY_NONE,
                                .award_ends_on = JR_DAY_NONE};
            if (clustered)
                e.last_review_on = around + between(&st, -60, 60);
            else if (chance(&st, 50))
                e.last_review_on = e.started_on + between(&st, -400, 1500);
            if (chance(&st, 20))
                e.ended_on = e.started_on + between(&st, 0, 2000);
            if (chance(&st, 50))
                e.award_ends_on = e.started_on + between(&st, 100, 1500);
            if (chance(&st, 20))
                e.interval_days = (unsigned)between(&st, 30, 800);
            p->events[p->n] = (jr_event_t){
                .stream = codes[c],
                .source_event_id = ids[p->n],
                .occurred_at_ms = INT64_C(1577836800000) + between(&st, 0, 1000) * INT64_C(3600000),
                .kind = JR_EVENT_ENROLMENT,
                .u.enrolment = e,
            };
            p->n++;
        }
    }
    int meetings = (int)between(&st, 0, 3);
    for (int k = 0; k < meetings; k++) {
        p->events[p->n] = (jr_event_t){
            .stream = codes[next_random(&st) % N(codes)],
            .source_event_id = ids[p->n],
            .occurred_at_ms = INT64_C(1577836800000) + between(&st, 0, 1000) * INT64_C(3600000),
            .kind = JR_EVENT_REVIEW_HELD,
            .u.review_held = {.held_on = between(&st, from, to + 365)},
        };
        p->n++;
        p->has_meeting = true;
    }
    p->today = between(&st, from, jr_text_day_from_civil(2028, 12, 31));
}

static void shuffle(uint64_t seed, jr_event_t *ev, size_t n)
{
    uint64_t st = seed ^ UINT64_C(0x9e3779b97f4a7c15);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(next_random(&st) % i);
        jr_event_t t = ev[i - 1];
        ev[i - 1] = ev[j];
        ev[j] = t;
    }
}

/* Lower nonzero rank leads; 0 ranks last (the rule, restated). */
static bool leads_before(const jr_stream_t *a, const jr_stream_t *b)
{
    if (a->lead_rank == 0)
        return false;
    return b->lead_rank == 0 || a->lead_rank < b->lead_rank;
}

static bool same_schedule(const jr_schedule_t *a, const jr_schedule_t *b)
{
    if (a->n_streams != b->n_streams || a->review_on != b->review_on || a->lead != b->lead)
        return false;
    for (size_t i = 0; i < a->n_streams; i++) {
        const jr_stream_due_t *x = &a->streams[i], *y = &b->streams[i];
        if (x->stream != y->stream || x->due != y->due || x->last_review != y->last_review ||
            x->drives != y->drives || x->covered != y->covered ||
            strcmp(x->enrolment->source_event_id, y->enrolment->source_event_id) != 0)
            return false;
    }
    return true;
}

enum {
    P_COMPUTED,      /* jr_schedule_compute gave a schedule */
    P_NOT_LATER,     /* (1) no covered stream after its own due date */
    P_EARLIEST,      /* (2) review_on is the earliest due date */
    P_WINDOW,        /* (3) covered, or due more than the window after */
    P_NON_DRIVING,   /* non-driving streams covered exactly when there is a date */
    P_LEAD,          /* (4) the lead is the first covered stream by precedence */
    P_DETERMINISTIC, /* (5) input order does not matter */
    P_INDEPENDENT,   /* without meetings, a stream's date is its own */
    P_NOTICES,       /* notices in date order, by today, only the latest sent */
    P_NEXT_NOTICE,   /* the next notice is after today and after every due one */
    P_COUNT,
};

static const char *const property_names[P_COUNT] = {
    "no schedule (out of memory)",           "covered stream after its due date",
    "review date not the earliest due date", "stream neither covered nor beyond the window",
    "non-driving stream coverage",           "lead not the first covered stream by precedence",
    "input order changed the schedule",      "a stream's own date changed by other streams",
    "notices out of order or not by today",  "next notice not after today",
};

static unsigned violations[P_COUNT];

static void violated(int property, uint64_t seed)
{
    if (violations[property]++ == 0)
        printf("\n  %s: first at seed 0x%016" PRIx64 "\n", property_names[property], seed);
}

static void check_notices(const jr_schedule_t *s, jr_day_t today, uint64_t seed)
{
    jr_notice_t out[64];
    size_t n = jr_schedule_notices_due(s, NULL, today, out, N(out));
    size_t shown = n < N(out) ? n : N(out);
    size_t sent = 0;
    for (size_t i = 0; i < shown; i++) {
        if (out[i].on > today || (i > 0 && out[i].on <= out[i - 1].on))
            violated(P_NOTICES, seed);
        sent += !out[i].superseded;
    }
    if (n <= N(out) && sent != (n > 0 ? 1u : 0u))
        violated(P_NOTICES, seed);

    jr_day_t next = jr_schedule_next_notice_on(s, NULL, today);
    if (s->review_on == JR_DAY_NONE ? next != JR_DAY_NONE
                                    : next <= today || (shown > 0 && next <= out[shown - 1].on))
        violated(P_NEXT_NOTICE, seed);
}

static void check_case(uint64_t seed, const jr_schedule_rules_t *rules)
{
    person_t p;
    random_person(seed, &p);
    jr_schedule_t *s = jr_schedule_compute(p.events, p.n, streams, rules, p.today);
    if (s == NULL) {
        violated(P_COMPUTED, seed);
        return;
    }

    jr_day_t earliest = JR_DAY_NONE;
    const jr_stream_t *best = NULL;
    for (size_t i = 0; i < s->n_streams; i++) {
        const jr_stream_due_t *d = &s->streams[i];
        if (d->due != JR_DAY_NONE && (earliest == JR_DAY_NONE || d->due < earliest))
            earliest = d->due;
        if (d->covered && d->due != JR_DAY_NONE && s->review_on > d->due)
            violated(P_NOT_LATER, seed);
        if (d->drives && d->due != JR_DAY_NONE && !d->covered &&
            (int64_t)d->due <= (int64_t)s->review_on + rules->window_days)
            violated(P_WINDOW, seed);
        if (!d->drives && d->covered != (s->review_on != JR_DAY_NONE))
            violated(P_NON_DRIVING, seed);
        if (!d->drives && d->due != JR_DAY_NONE)
            violated(P_NON_DRIVING, seed);
        if (d->covered && (best == NULL || leads_before(d->stream, best)))
            best = d->stream;
    }
    if (s->review_on != earliest)
        violated(P_EARLIEST, seed);
    if (s->lead != best)
        violated(P_LEAD, seed);

    jr_event_t shuffled[MAX_EVENTS];
    memcpy(shuffled, p.events, p.n * sizeof p.events[0]);
    shuffle(seed, shuffled, p.n);
    jr_schedule_t *again = jr_schedule_compute(shuffled, p.n, streams, rules, p.today);
    if (again == NULL || !same_schedule(s, again))
        violated(P_DETERMINISTIC, seed);
    jr_schedule_destroy(&again);

    /* Without meetings, each stream's date depends on its own enrolments. */
    if (!p.has_meeting)
        for (size_t i = 0; i < s->n_streams; i++) {
            jr_event_t own[MAX_EVENTS];
            size_t n_own = 0;
            for (size_t k = 0; k < p.n; k++)
                if (strcmp(p.events[k].stream, s->streams[i].stream->code) == 0)
                    own[n_own++] = p.events[k];
            jr_schedule_t *alone = jr_schedule_compute(own, n_own, streams, rules, p.today);
            if (alone == NULL || alone->n_streams != 1 ||
                alone->streams[0].due != s->streams[i].due || alone->review_on != s->streams[i].due)
                violated(P_INDEPENDENT, seed);
            jr_schedule_destroy(&alone);
        }

    check_notices(s, p.today, seed);
    jr_schedule_destroy(&s);
}

static void run_cases(const jr_schedule_rules_t *rules, uint64_t base)
{
    memset(violations, 0, sizeof violations);
    uint64_t st = base;
    for (int i = 0; i < CASES; i++)
        check_case(next_random(&st), rules);
    CU_ASSERT_EQUAL(violations[P_COMPUTED], 0);
    CU_ASSERT_EQUAL(violations[P_NOT_LATER], 0);
    CU_ASSERT_EQUAL(violations[P_EARLIEST], 0);
    CU_ASSERT_EQUAL(violations[P_WINDOW], 0);
    CU_ASSERT_EQUAL(violations[P_NON_DRIVING], 0);
    CU_ASSERT_EQUAL(violations[P_LEAD], 0);
    CU_ASSERT_EQUAL(violations[P_DETERMINISTIC], 0);
    CU_ASSERT_EQUAL(violations[P_INDEPENDENT], 0);
    CU_ASSERT_EQUAL(violations[P_NOTICES], 0);
    CU_ASSERT_EQUAL(violations[P_NEXT_NOTICE], 0);
}

static void test_default_rules(void)
{
    jr_schedule_rules_t rules;
    jr_schedule_rules_default(&rules);
    run_cases(&rules, SEED);
}

static void test_other_windows(void)
{
    jr_schedule_rules_t rules;
    jr_schedule_rules_default(&rules);
    rules.window_days = 0;
    run_cases(&rules, SEED + 1);
    rules.window_days = 365;
    run_cases(&rules, SEED + 2);
}

/* The generator must actually exercise the rules: a sanity check on the
 * population, so that a broken generator cannot pass vacuously. */
static void test_population_is_varied(void)
{
    jr_schedule_rules_t rules;
    jr_schedule_rules_default(&rules);
    unsigned with_date = 0, aligned = 0, left_out = 0, non_driving = 0, met = 0;
    uint64_t st = SEED;
    for (int i = 0; i < CASES; i++) {
        person_t p;
        random_person(next_random(&st), &p);
        jr_schedule_t *s = jr_schedule_compute(p.events, p.n, streams, &rules, p.today);
        if (s == NULL) {
            CU_FAIL("out of memory");
            return;
        }
        with_date += s->review_on != JR_DAY_NONE;
        met += p.has_meeting;
        size_t covered = 0;
        for (size_t k = 0; k < s->n_streams; k++) {
            covered += s->streams[k].drives && s->streams[k].covered;
            left_out += s->streams[k].drives && !s->streams[k].covered;
            non_driving += !s->streams[k].drives;
        }
        aligned += covered > 1;
        jr_schedule_destroy(&s);
    }
    printf("\n  %d cases: %u with a review date, %u aligning several streams, %u streams left "
           "out, %u non-driving, %u with meetings\n",
           CASES, with_date, aligned, left_out, non_driving, met);
    CU_ASSERT_TRUE(with_date > CASES / 2);
    CU_ASSERT_TRUE(aligned > CASES / 20);
    CU_ASSERT_TRUE(left_out > CASES / 20);
    CU_ASSERT_TRUE(non_driving > CASES / 20);
    CU_ASSERT_TRUE(met > CASES / 2);
}

static CU_TestInfo property_tests[] = {
    {"properties, default rules", test_default_rules},
    {"properties, windows 0 and 365", test_other_windows},
    {"the random population is varied", test_population_is_varied},
    CU_TEST_INFO_NULL,
};

int main(void)
{
    CU_SuiteInfo suites[] = {
        {.pName = "schedule properties",
         .pInitFunc = setup,
         .pCleanupFunc = teardown,
         .pTests = property_tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
