/* clock.c -- see clock.h. */
#include "clock.h"

#include <time.h>

#define DAY_MS INT64_C(86400000)

int64_t jr_clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t jr_clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t jr_clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

jr_day_t jr_clock_today(const jr_clock_t *c)
{
    return c->fixed_day != JR_DAY_NONE ? c->fixed_day : jr_text_day_of_ms(jr_clock_wall_ms());
}

int64_t jr_clock_now_ms(const jr_clock_t *c)
{
    if (c->fixed_day == JR_DAY_NONE) {
        return jr_clock_wall_ms();
    }
    return (int64_t)c->fixed_day * DAY_MS + DAY_MS - 1; /* 23:59:59.999 that day */
}
