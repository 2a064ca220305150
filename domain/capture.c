/* capture.c -- see capture.h. */
#include "capture.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *jr_capture_count(uint64_t count, char out[24])
{
    if (count == 0) {
        snprintf(out, 24, "0");
    } else if (count <= JR_CAPTURE_SMALL_MAX) {
        snprintf(out, 24, "*");
    } else {
        snprintf(out, 24, "%" PRIu64, (count + 2) / 5 * 5);
    }
    return out;
}

bool jr_capture_total_shown(uint64_t persons)
{
    return persons == 0 || persons > JR_CAPTURE_SMALL_MAX;
}

const char *jr_capture_total(int64_t pence, uint64_t persons, char out[24])
{
    if (jr_capture_total_shown(persons)) {
        snprintf(out, 24, "%" PRId64, pence);
    } else {
        snprintf(out, 24, "*");
    }
    return out;
}

int jr_capture_quarter(const char *text, jr_day_t *first, jr_day_t *last)
{
    if (text == NULL || strlen(text) != 6 || text[4] != 'Q' || text[5] < '1' || text[5] > '4') {
        return -1;
    }
    int year = 0;
    for (int i = 0; i < 4; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return -1;
        }
        year = year * 10 + (text[i] - '0');
    }
    if (year < 1900 || year > 2200) {
        return -1;
    }
    unsigned q = (unsigned)(text[5] - '0');
    *first = jr_text_day_from_civil(year, 3 * q - 2, 1);
    *last = q == 4 ? jr_text_day_from_civil(year + 1, 1, 1) - 1
                   : jr_text_day_from_civil(year, 3 * q + 1, 1) - 1;
    return 0;
}
