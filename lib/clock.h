/* clock.h -- the one notion of "now" a program runs by.
 *
 * Normally the system clock (in UTC). A fixed day (joinedreviewd --today,
 * for demonstrations and tests) moves everything judged against now: the
 * day the rules use, and "now" itself, so that a run on a future day
 * behaves as that day would. "Now" on a fixed day is its last millisecond,
 * not the clock's time of day on it: what a daemon would accept at some
 * moment of that day is accepted, and a run gives the same answers whatever
 * the hour it is started at. */
#ifndef JR_CLOCK_H
#define JR_CLOCK_H

#include <stdint.h>

#include "text.h"

typedef struct {
    jr_day_t fixed_day; /* JR_DAY_NONE: the clock's */
} jr_clock_t;

/* Milliseconds on the monotonic clock, for intervals and deadlines. */
int64_t jr_clock_mono_ms(void);

/* Microseconds on the monotonic clock, for timing short work. */
int64_t jr_clock_mono_us(void);

/* Milliseconds since 1970 on the system clock. */
int64_t jr_clock_wall_ms(void);

/* Today: the fixed day, else the clock's day (UTC). Thread-safe. */
jr_day_t jr_clock_today(const jr_clock_t *c);

/* Now, in ms since 1970: the clock's, or the last millisecond of the fixed
 * day. Thread-safe. */
int64_t jr_clock_now_ms(const jr_clock_t *c);

#endif
