/* rate.c -- see rate.h. */
#include "rate.h"

void jr_rate_add(jr_rate_t *r, int64_t now_ms, uint64_t n)
{
    int64_t sec = now_ms / 1000;
    if (sec != r->second) {
        /* The buckets of the seconds gone by since the newest are emptied:
         * all sixty after a minute or more of quiet. */
        for (int64_t s = r->second + 1; s <= sec && s <= r->second + 60; s++) {
            r->total -= r->buckets[s % 60];
            r->buckets[s % 60] = 0;
        }
        r->second = sec;
    }
    r->buckets[sec % 60] += n;
    r->total += n;
}

double jr_rate_per_second(jr_rate_t *r, int64_t now_ms)
{
    jr_rate_add(r, now_ms, 0);
    return (double)r->total / 60.0;
}
