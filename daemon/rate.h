/* rate.h -- events accepted per second over the last minute, for the
 * statistics: sixty one-second buckets and their running total, so that
 * counting and reading cost the same whatever the rate.
 *
 * A zeroed jr_rate_t is empty. Pure: the time is an argument (monotonic
 * milliseconds). */
#ifndef JR_RATE_H
#define JR_RATE_H

#include <stdint.h>

typedef struct {
    uint64_t buckets[60];
    uint64_t total; /* the buckets' sum */
    int64_t second; /* the second of the newest bucket */
} jr_rate_t;

/* Counts n events at now_ms (n = 0 only moves the window on). */
void jr_rate_add(jr_rate_t *r, int64_t now_ms, uint64_t n);

/* Events per second over the minute before now_ms. */
double jr_rate_per_second(jr_rate_t *r, int64_t now_ms);

#endif
