/* caseload.h -- synthetic, seeded caseloads for the scale benchmarks: who is
 * in which funding stream, their identifiers, their dates, and which back
 * office exports which stream. Same seed, same caseload. */
#ifndef CASELOAD_H
#define CASELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#define CASELOAD_STREAMS 6
#define CASELOAD_SEED    20261002u

/* A small, fast, seeded generator (splitmix64). */
typedef struct {
    uint64_t state;
} caseload_rng_t;

/* A generator for item `index` of a run seeded with `seed`: items drawn in
 * any order get the same values. */
caseload_rng_t caseload_rng(uint64_t seed, uint64_t index);
uint64_t caseload_next(caseload_rng_t *rng);
/* Uniform in [0, n); n > 0. */
int caseload_below(caseload_rng_t *rng, int n);
/* True with the given probability in percent. */
int caseload_chance(caseload_rng_t *rng, int percent);
/* An index drawn with the given weights (n > 0, at least one weight > 0). */
int caseload_weighted(caseload_rng_t *rng, const int *weights, int n);

/* The six funding streams, "SC" (the most common) first. */
extern const char *const caseload_streams[CASELOAD_STREAMS];

/* k distinct streams (1 <= k <= CASELOAD_STREAMS), weighted by how common
 * each stream is, in table order (SC first). */
void caseload_pick_streams(caseload_rng_t *rng, int k, int out[]);

/* Days since 1970-01-01. */
int caseload_day_of(const char *yyyy_mm_dd);
void caseload_format_day(int day, char out[11]);
/* Milliseconds since 1970 for a minute of a day. */
int64_t caseload_ms(int day, int minute);

/* A National Insurance number valid by HMRC's rules (no D, F, I, Q, U, V
 * first; no D, F, I, O, Q, U, V second; no BG, GB, KN, NK, NT, TN, ZZ; six
 * digits; suffix A-D), different for every person below 300 million. */
void caseload_nino(int person, char out[10]);

/* One enrolment envelope and the strings it points at. */
typedef struct {
    h_env_t e;
    char nhs[11];
    char nino[10];
    char local_id[24];
    char started_on[11];
    char award_ends_on[11];
    char reference[32];
} caseload_enrolment_t;

/* Fills out for person's enrolment in stream, started on started_day;
 * seid is borrowed and must outlive the packing. Some carry the person's NI
 * number, some the stream's own client id; Access to Work gives its award's
 * end. */
void caseload_enrolment(caseload_enrolment_t *out, caseload_rng_t *rng, int person, int stream,
                        int started_day, const char *seid);

/* Gives each stream to one of `senders` back offices, busiest stream first
 * to the least busy office, so that the offices' exports are as even as
 * whole streams allow. owner[s] is the office of stream s. Returns the
 * number of offices used (at most CASELOAD_STREAMS). */
size_t caseload_assign(const size_t events_per_stream[CASELOAD_STREAMS], size_t senders,
                       int owner[CASELOAD_STREAMS]);

#endif
