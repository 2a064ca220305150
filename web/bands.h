/* bands.h -- where a joined-up review stands against today, in the bands
 * the worklist shows and councils report.
 *
 * Coming up: within 56, 28 and 7 days (the notices' lead times); due
 * today; overdue up to 4 weeks (1-28 days), up to 6 months, 6 to 12
 * months, 12 to 24 months ("over 12 months") and over 24 months. The bands
 * do not overlap, so every review is in exactly one of them; months are
 * calendar months (a review due on 31 August is 6 months overdue from 28
 * February, the end of the shorter month). Later than 56 days is "later".
 *
 * Pure: no I/O. */
#ifndef JR_BANDS_H
#define JR_BANDS_H

#include "text.h"

typedef enum {
    JR_BAND_OVER_24_MONTHS = 0,
    JR_BAND_OVER_12_MONTHS,  /* 12 to 24 months overdue */
    JR_BAND_UP_TO_12_MONTHS, /* 6 to 12 months overdue */
    JR_BAND_UP_TO_6_MONTHS,  /* 29 days to 6 months overdue */
    JR_BAND_UP_TO_4_WEEKS,   /* 1 to 28 days overdue */
    JR_BAND_DUE_TODAY,
    JR_BAND_WITHIN_7_DAYS,  /* 1 to 7 days ahead */
    JR_BAND_WITHIN_28_DAYS, /* 8 to 28 days ahead */
    JR_BAND_WITHIN_56_DAYS, /* 29 to 56 days ahead */
    JR_BAND_LATER,          /* more than 56 days ahead */
    JR_BAND_COUNT
} jr_band_t;

/* The band of a review on review_on, seen on today. */
jr_band_t jr_bands_of(jr_day_t review_on, jr_day_t today);

/* The bands' date ranges for one today, to place many reviews. */
typedef struct {
    jr_day_t first[JR_BAND_COUNT], last[JR_BAND_COUNT];
} jr_bands_t;

void jr_bands_init(jr_bands_t *self, jr_day_t today);
jr_band_t jr_bands_find(const jr_bands_t *self, jr_day_t review_on);

/* The first and last review date of a band seen on today (JR_DAY_NONE
 * where it is open-ended). */
void jr_bands_range(jr_band_t band, jr_day_t today, jr_day_t *first, jr_day_t *last);

/* "Overdue up to 4 weeks", ...: the heading. */
const char *jr_bands_title(jr_band_t band);

/* "overdue-4w", ...: the band's name in a URL; and back (-1: unknown). */
const char *jr_bands_key(jr_band_t band);
int jr_bands_from_key(const char *key);

/* today moved by months calendar months, the day clamped to the month's end. */
jr_day_t jr_bands_add_months(jr_day_t day, int months);

#endif
