/* bench_meetings.c -- how many review meetings the joined-up review saves: a
 * seeded synthetic population, simulated over some years, reviewed
 *
 *  (a) separately, the baseline: every funding stream holds its own review on
 *      its own due date (each stream scheduled alone, from its own
 *      single-stream event list), one meeting per stream review; and
 *  (b) joined-up: one meeting on the joined-up review date, covering the
 *      streams the schedule covers (a REVIEW_HELD at that date is added to
 *      the person's events and the schedule recomputed).
 *
 * Both use jr_schedule_compute with the default streams and rules, and are
 * measured in the same run on the same population.
 *
 *   bench_meetings [PERSONS [YEARS]]      defaults 10000 3
 *
 * The population (fixed seed; person i gets mix i % 100, so the shares are
 * exact for multiples of 100 people):
 *
 *   40%  SC only                     8%  SC + ICES + DFG
 *   15%  SC + ICES                   7%  SC + ATW + ICES
 *   10%  SC + ILF + ICES             5%  SP only
 *   10%  SC + SP                     5%  SC + SP + ILF + ICES + DFG + ATW
 *
 * Each enrolment starts on a day drawn uniformly over the 3 years before the
 * simulation starts (2026-01-01), independently per stream. Before that day
 * every stream has been reviewed on its own schedule (the status quo), so the
 * simulation starts with each stream's last review where its own rule put it
 * and nothing overdue. Access to Work awards (1095 days, no end given) are
 * renewed at the award end as soon as their renewal review is held: a new
 * enrolment starting on the old award's end. DFG never drives a review, so it
 * costs no separate meeting. Meetings are held on their due dates; none is
 * late, none is cancelled, nobody's enrolment ends.
 *
 * Not part of the test suite: cmake --build build --target bench_meetings. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

#define SEED       UINT64_C(0x6d656574696e6773)
#define MAX_EVENTS 256
#define N(a)       (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *name;
    unsigned percent;
    const char *streams[6];
} mixes[] = {
    {"SC", 40, {"SC"}},
    {"SC+ICES", 15, {"SC", "ICES"}},
    {"SC+ILF+ICES", 10, {"SC", "ILF", "ICES"}},
    {"SC+SP", 10, {"SC", "SP"}},
    {"SC+ICES+DFG", 8, {"SC", "ICES", "DFG"}},
    {"SC+ATW+ICES", 7, {"SC", "ATW", "ICES"}},
    {"SP", 5, {"SP"}},
    {"all six", 5, {"SC", "SP", "ILF", "ICES", "DFG", "ATW"}},
};

/* One person's (or one stream's) event history, grown as reviews are held. */
typedef struct {
    jr_event_t events[MAX_EVENTS];
    size_t n;
    int64_t clock_ms; /* occurred_at of the next event: strictly increasing */
} history_t;

static char ids[MAX_EVENTS][8];
static const jr_streams_t *streams;
static jr_schedule_rules_t rules;

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(2685821657736338717);
}

static jr_event_t *append(history_t *h, const char *stream, jr_event_kind_t kind)
{
    if (h->n == MAX_EVENTS) {
        fprintf(stderr, "bench_meetings: more than %d events for one person\n", MAX_EVENTS);
        exit(1);
    }
    jr_event_t *ev = &h->events[h->n];
    *ev = (jr_event_t){.stream = stream,
                       .source_event_id = ids[h->n],
                       .occurred_at_ms = h->clock_ms,
                       .kind = kind};
    h->n++;
    h->clock_ms += 1000;
    return ev;
}

static void enrol(history_t *h, const char *stream, jr_day_t started_on, jr_day_t last_review)
{
    jr_event_t *ev = append(h, stream, JR_EVENT_ENROLMENT);
    ev->u.enrolment = (jr_enrolment_t){.started_on = started_on,
                                       .ended_on = JR_DAY_NONE,
                                       .last_review_on = last_review,
                                       .award_ends_on = JR_DAY_NONE};
}

static jr_schedule_t *compute(const history_t *h, jr_day_t today)
{
    jr_schedule_t *s = jr_schedule_compute(h->events, h->n, streams, &rules, today);
    if (s == NULL) {
        fprintf(stderr, "bench_meetings: out of memory\n");
        exit(1);
    }
    return s;
}

/* An award whose renewal review has been held is renewed from its end.
 * Returns whether any was. */
static bool renew_awards(history_t *h, const jr_schedule_t *s)
{
    bool renewed = false;
    for (size_t i = 0; i < s->n_streams; i++) {
        const jr_stream_due_t *d = &s->streams[i];
        if (d->stream->before_award_end_days == 0 || d->due != JR_DAY_NONE)
            continue;
        const jr_enrolment_t *e = &d->enrolment->u.enrolment;
        jr_day_t end = e->award_ends_on != JR_DAY_NONE
                           ? e->award_ends_on
                           : e->started_on + (jr_day_t)d->stream->default_award_days;
        if (end <= e->started_on)
            continue; /* no award length: nothing to renew */
        enrol(h, d->stream->code, end, JR_DAY_NONE);
        renewed = true;
    }
    return renewed;
}

/* Holds a review meeting on every review date before `until`, starting
 * from `from`; counts the meetings on or after `count_from`, and the
 * driving stream reviews they covered. */
static void hold_reviews(history_t *h, jr_day_t from, jr_day_t until, jr_day_t count_from,
                         unsigned long *meetings, unsigned long *stream_reviews)
{
    jr_day_t today = from;
    for (;;) {
        jr_schedule_t *s = compute(h, today);
        if (renew_awards(h, s)) {
            jr_schedule_destroy(&s);
            continue;
        }
        jr_day_t on = s->review_on;
        if (on == JR_DAY_NONE || on >= until) {
            jr_schedule_destroy(&s);
            return;
        }
        if (on >= count_from) {
            (*meetings)++;
            for (size_t i = 0; i < s->n_streams; i++)
                *stream_reviews += s->streams[i].drives && s->streams[i].covered;
        }
        jr_schedule_destroy(&s);
        append(h, "SC", JR_EVENT_REVIEW_HELD)->u.review_held.held_on = on;
        today = on;
    }
}

/* A stream alone: its enrolments, to be reviewed on its own schedule. */
static void stream_alone(history_t *alone, const history_t *person, const char *code)
{
    alone->n = 0;
    alone->clock_ms = person->clock_ms;
    for (size_t i = 0; i < person->n; i++)
        if (person->events[i].kind == JR_EVENT_ENROLMENT &&
            strcmp(person->events[i].stream, code) == 0)
            alone->events[alone->n++] = person->events[i];
}

typedef struct {
    unsigned long persons;
    unsigned long separate;       /* meetings, (a) */
    unsigned long joined;         /* meetings, (b) */
    unsigned long joined_reviews; /* driving stream reviews covered by (b) */
} tally_t;

int main(int argc, char **argv)
{
    long persons = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
    long years = argc > 2 ? strtol(argv[2], NULL, 10) : 3;
    if (persons <= 0 || years <= 0 || years > 50) {
        fprintf(stderr, "usage: bench_meetings [PERSONS [YEARS]]\n");
        return 2;
    }

    jr_streams_t *table = jr_streams_new_default();
    if (table == NULL)
        return 1;
    streams = table;
    jr_schedule_rules_default(&rules);
    for (size_t i = 0; i < MAX_EVENTS; i++)
        snprintf(ids[i], sizeof ids[i], "e%zu", i);

    jr_day_t start = jr_text_day_from_civil(2026, 1, 1);
    jr_day_t end = jr_text_day_from_civil(2026 + (int)years, 1, 1);
    jr_day_t earliest_start = jr_text_day_from_civil(2023, 1, 1);

    static history_t person, alone, settled; /* large: not on the stack */
    tally_t total = {0}, by_mix[N(mixes)] = {{0}};
    uint64_t st = SEED;

    for (long p = 0; p < persons; p++) {
        size_t m = 0;
        for (unsigned cum = mixes[0].percent; (unsigned)(p % 100) >= cum;)
            cum += mixes[++m].percent;

        /* The status quo up to the start: each stream reviewed alone. */
        person.n = 0;
        person.clock_ms = INT64_C(1577836800000);
        for (size_t k = 0; k < N(mixes[m].streams) && mixes[m].streams[k] != NULL; k++) {
            jr_day_t started =
                earliest_start + (jr_day_t)(next_random(&st) % (uint64_t)(start - earliest_start));
            enrol(&person, mixes[m].streams[k], started, JR_DAY_NONE);
        }
        settled.n = 0;
        settled.clock_ms = person.clock_ms + 1000000;
        unsigned long warm_meetings = 0, warm_reviews = 0;
        for (size_t k = 0; k < N(mixes[m].streams) && mixes[m].streams[k] != NULL; k++) {
            stream_alone(&alone, &person, mixes[m].streams[k]);
            hold_reviews(&alone, earliest_start, start, end, &warm_meetings, &warm_reviews);
            jr_schedule_t *s = compute(&alone, start);
            for (size_t i = 0; i < s->n_streams; i++) {
                jr_event_t *ev = append(&settled, s->streams[i].stream->code, JR_EVENT_ENROLMENT);
                ev->u.enrolment = s->streams[i].enrolment->u.enrolment;
                ev->u.enrolment.last_review_on = s->streams[i].last_review;
            }
            jr_schedule_destroy(&s);
        }

        /* (a) separately: each stream from its settled enrolment, alone. */
        tally_t t = {.persons = 1};
        unsigned long ignored = 0;
        for (size_t k = 0; k < N(mixes[m].streams) && mixes[m].streams[k] != NULL; k++) {
            stream_alone(&alone, &settled, mixes[m].streams[k]);
            hold_reviews(&alone, start, end, start, &t.separate, &ignored);
        }
        /* (b) joined-up: the same enrolments together. */
        hold_reviews(&settled, start, end, start, &t.joined, &t.joined_reviews);

        by_mix[m].persons += t.persons;
        by_mix[m].separate += t.separate;
        by_mix[m].joined += t.joined;
        by_mix[m].joined_reviews += t.joined_reviews;
        total.persons += t.persons;
        total.separate += t.separate;
        total.joined += t.joined;
        total.joined_reviews += t.joined_reviews;
    }

    double person_years = (double)total.persons * (double)(end - start) / 365.25;
    printf("bench_meetings: %lu persons, %ld years from 2026-01-01, window %u days, seed "
           "0x%016" PRIx64 "\n",
           total.persons, years, rules.window_days, SEED);
    printf("  separate reviews (baseline): %8lu meetings  %.3f per person per year\n",
           total.separate, (double)total.separate / person_years);
    printf("  joined-up review:            %8lu meetings  %.3f per person per year\n", total.joined,
           (double)total.joined / person_years);
    printf("  reduction:                   %.1f%% fewer meetings\n",
           total.separate > 0
               ? 100.0 * (double)(total.separate - total.joined) / (double)total.separate
               : 0.0);
    printf("  stream reviews in joined-up meetings: %lu (%.3f per person per year; separate: "
           "%.3f)\n",
           total.joined_reviews, (double)total.joined_reviews / person_years,
           (double)total.separate / person_years);
    printf("  by mix (meetings per person per year, separate -> joined-up):\n");
    for (size_t m = 0; m < N(mixes); m++) {
        if (by_mix[m].persons == 0)
            continue;
        double py = (double)by_mix[m].persons * (double)(end - start) / 365.25;
        printf("    %-12s %6lu persons  %.3f -> %.3f\n", mixes[m].name, by_mix[m].persons,
               (double)by_mix[m].separate / py, (double)by_mix[m].joined / py);
    }

    jr_streams_destroy(&table);
    return 0;
}
