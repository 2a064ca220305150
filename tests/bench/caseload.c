/* caseload.c -- see caseload.h. */
#include "caseload.h"

#include <stdio.h>
#include <string.h>

const char *const caseload_streams[CASELOAD_STREAMS] = {"SC", "SP", "ILF", "ICES", "ATW", "DFG"};

/* How common each stream is, in percent of enrolments: Social Care holds
 * most caseloads, then equipment and housing adaptations. */
static const int stream_weight[CASELOAD_STREAMS] = {40, 15, 6, 18, 8, 13};

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

caseload_rng_t caseload_rng(uint64_t seed, uint64_t index)
{
    return (caseload_rng_t){mix(seed * 0x9e3779b97f4a7c15ULL + mix(index + 1))};
}

uint64_t caseload_next(caseload_rng_t *rng)
{
    rng->state += 0x9e3779b97f4a7c15ULL;
    return mix(rng->state);
}

int caseload_below(caseload_rng_t *rng, int n)
{
    return (int)(caseload_next(rng) % (uint64_t)n);
}

int caseload_chance(caseload_rng_t *rng, int percent)
{
    return caseload_below(rng, 100) < percent;
}

int caseload_weighted(caseload_rng_t *rng, const int *weights, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        total += weights[i];
    }
    int r = caseload_below(rng, total);
    for (int i = 0; i < n; i++) {
        if (r < weights[i]) {
            return i;
        }
        r -= weights[i];
    }
    return n - 1;
}

void caseload_pick_streams(caseload_rng_t *rng, int k, int out[])
{
    int w[CASELOAD_STREAMS];
    memcpy(w, stream_weight, sizeof w);
    int taken[CASELOAD_STREAMS] = {0};
    for (int i = 0; i < k && i < CASELOAD_STREAMS; i++) {
        int s = caseload_weighted(rng, w, CASELOAD_STREAMS);
        taken[s] = 1;
        w[s] = 0;
    }
    int n = 0;
    for (int s = 0; s < CASELOAD_STREAMS; s++) {
        if (taken[s]) {
            out[n++] = s;
        }
    }
}

/* Howard Hinnant's civil-calendar conversions, for the proleptic Gregorian
 * calendar. */
static int days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int caseload_day_of(const char *yyyy_mm_dd)
{
    int y = 0, m = 0, d = 0;
    if (sscanf(yyyy_mm_dd, "%d-%d-%d", &y, &m, &d) != 3) {
        return 0;
    }
    return days_from_civil(y, m, d);
}

void caseload_format_day(int day, char out[11])
{
    int z = day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp + (mp < 10 ? 3 : -9);
    int y = yoe + era * 400 + (m <= 2);
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u);
}

int64_t caseload_ms(int day, int minute)
{
    return ((int64_t)day * 1440 + minute) * 60000;
}

/* Two-letter prefixes HMRC issues. */
static int prefix_valid(char a, char b)
{
    static const char *const not_issued[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
    if (strchr("DFIQUV", a) != NULL || strchr("DFIOQUV", b) != NULL) {
        return 0;
    }
    for (size_t i = 0; i < sizeof not_issued / sizeof not_issued[0]; i++) {
        if (not_issued[i][0] == a && not_issued[i][1] == b) {
            return 0;
        }
    }
    return 1;
}

void caseload_nino(int person, char out[10])
{
    static char prefixes[26 * 26][2];
    static int n_prefixes; /* filled on first use, before any thread starts */
    if (n_prefixes == 0) {
        for (char a = 'A'; a <= 'Z'; a++) {
            for (char b = 'A'; b <= 'Z'; b++) {
                if (prefix_valid(a, b)) {
                    prefixes[n_prefixes][0] = a;
                    prefixes[n_prefixes][1] = b;
                    n_prefixes++;
                }
            }
        }
    }
    /* The digits and the millions block together name the person: within a
     * block the digits differ (a bijection of 0..999999 that scatters
     * neighbours), across blocks the prefix does. */
    int digits = (int)(((uint64_t)(person % 1000000) * 737279u + 104729u) % 1000000u);
    int block = person / 1000000;
    const char *p =
        prefixes[(block + (int)(mix((uint64_t)digits) % (uint64_t)n_prefixes)) % n_prefixes];
    snprintf(out, 10, "%c%c%06u%c", p[0], p[1], (unsigned)digits % 1000000u,
             'A' + (int)(mix((uint64_t)person) % 4));
}

void caseload_enrolment(caseload_enrolment_t *out, caseload_rng_t *rng, int person, int stream,
                        int started_day, const char *seid)
{
    const char *code = caseload_streams[stream];
    h_nhs_of(person, out->nhs);
    /* Six in ten persons have an NI number on some back office's file. */
    int has_nino = mix((uint64_t)person ^ 0x5eedULL) % 10 < 6;
    const char *nino = NULL;
    if (has_nino && caseload_chance(rng, 80)) {
        caseload_nino(person, out->nino);
        nino = out->nino;
    }
    caseload_format_day(started_day, out->started_on);
    int64_t at = caseload_ms(started_day, 9 * 60 + caseload_below(rng, 8 * 60));
    h_enrolment(&out->e, code, seid, at, out->nhs, nino, out->started_on);
    if (caseload_chance(rng, 30)) {
        snprintf(out->local_id, sizeof out->local_id, "%s-%07d", code, person);
        out->e.ids.local_id = out->local_id;
    }
    if (strcmp(code, "ATW") == 0) {
        caseload_format_day(started_day + 1095, out->award_ends_on);
        out->e.enrolment.award_ends_on = out->award_ends_on;
    }
    if (caseload_chance(rng, 50)) {
        snprintf(out->reference, sizeof out->reference, "%s/%.4s/%06d", code, out->started_on,
                 person % 1000000);
        out->e.enrolment.stream_reference = out->reference;
    }
}

size_t caseload_assign(const size_t events_per_stream[CASELOAD_STREAMS], size_t senders,
                       int owner[CASELOAD_STREAMS])
{
    size_t used = senders < CASELOAD_STREAMS ? senders : CASELOAD_STREAMS;
    size_t load[CASELOAD_STREAMS] = {0};
    int done[CASELOAD_STREAMS] = {0};
    for (int round = 0; round < CASELOAD_STREAMS; round++) {
        int busiest = -1;
        for (int s = 0; s < CASELOAD_STREAMS; s++) {
            if (!done[s] && (busiest < 0 || events_per_stream[s] > events_per_stream[busiest])) {
                busiest = s;
            }
        }
        size_t office = 0;
        for (size_t o = 1; o < used; o++) {
            if (load[o] < load[office]) {
                office = o;
            }
        }
        owner[busiest] = (int)office;
        load[office] += events_per_stream[busiest];
        done[busiest] = 1;
    }
    return used;
}
