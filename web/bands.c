/* bands.c -- see bands.h. */
#include "bands.h"

#include <stddef.h>
#include <string.h>

static const struct {
    const char *key, *title;
} g_bands[JR_BAND_COUNT] = {
    {"overdue-24m", "Overdue over 24 months"},    {"overdue-12m", "Overdue over 12 months"},
    {"overdue-6m-12m", "Overdue 6 to 12 months"}, {"overdue-6m", "Overdue up to 6 months"},
    {"overdue-4w", "Overdue up to 4 weeks"},      {"due-today", "Due today"},
    {"within-7", "Coming up within 7 days"},      {"within-28", "Coming up within 28 days"},
    {"within-56", "Coming up within 56 days"},    {"later", "Later than 56 days"},
};

jr_day_t jr_bands_add_months(jr_day_t day, int months)
{
    int y;
    unsigned m, d;
    jr_text_civil_from_day(day, &y, &m, &d);
    int total = y * 12 + (int)m - 1 + months;
    y = total / 12;
    m = (unsigned)(total % 12) + 1;
    while (d > 28 && !jr_text_civil_valid(y, m, d)) {
        d--;
    }
    return jr_text_day_from_civil(y, m, d);
}

void jr_bands_range(jr_band_t band, jr_day_t today, jr_day_t *first, jr_day_t *last)
{
    jr_day_t m6 = jr_bands_add_months(today, -6), m12 = jr_bands_add_months(today, -12),
             m24 = jr_bands_add_months(today, -24);
    *first = *last = JR_DAY_NONE;
    switch (band) {
    case JR_BAND_OVER_24_MONTHS:
        *last = m24 - 1;
        break;
    case JR_BAND_OVER_12_MONTHS:
        *first = m24;
        *last = m12 - 1;
        break;
    case JR_BAND_UP_TO_12_MONTHS:
        *first = m12;
        *last = m6 - 1;
        break;
    case JR_BAND_UP_TO_6_MONTHS:
        *first = m6;
        *last = today - 29;
        break;
    case JR_BAND_UP_TO_4_WEEKS:
        *first = today - 28;
        *last = today - 1;
        break;
    case JR_BAND_DUE_TODAY:
        *first = *last = today;
        break;
    case JR_BAND_WITHIN_7_DAYS:
        *first = today + 1;
        *last = today + 7;
        break;
    case JR_BAND_WITHIN_28_DAYS:
        *first = today + 8;
        *last = today + 28;
        break;
    case JR_BAND_WITHIN_56_DAYS:
        *first = today + 29;
        *last = today + 56;
        break;
    case JR_BAND_LATER:
    case JR_BAND_COUNT:
        *first = today + 57;
        break;
    }
}

void jr_bands_init(jr_bands_t *self, jr_day_t today)
{
    for (int b = 0; b < JR_BAND_COUNT; b++) {
        jr_bands_range((jr_band_t)b, today, &self->first[b], &self->last[b]);
    }
}

jr_band_t jr_bands_find(const jr_bands_t *self, jr_day_t review_on)
{
    for (int b = 0; b < JR_BAND_LATER; b++) {
        if ((self->first[b] == JR_DAY_NONE || review_on >= self->first[b]) &&
            (self->last[b] == JR_DAY_NONE || review_on <= self->last[b])) {
            return (jr_band_t)b;
        }
    }
    return JR_BAND_LATER;
}

jr_band_t jr_bands_of(jr_day_t review_on, jr_day_t today)
{
    jr_bands_t t;
    jr_bands_init(&t, today);
    return jr_bands_find(&t, review_on);
}

const char *jr_bands_title(jr_band_t band)
{
    return band < JR_BAND_COUNT ? g_bands[band].title : "";
}

const char *jr_bands_key(jr_band_t band)
{
    return band < JR_BAND_COUNT ? g_bands[band].key : "";
}

int jr_bands_from_key(const char *key)
{
    for (int b = 0; key != NULL && b < JR_BAND_COUNT; b++) {
        if (strcmp(key, g_bands[b].key) == 0) {
            return b;
        }
    }
    return -1;
}
