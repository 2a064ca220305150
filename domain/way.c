/* way.c -- the ways and needs as one table each. */
#include "way.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static const char *const way_codes[JR_WAY_LAST + 1][2] = {
    [JR_WAY_FORMAT_FIRST] = {"FORMAT_FIRST", "Completes the review format first, then meets"},
    [JR_WAY_MEETING] = {"MEETING", "A meeting"},
    [JR_WAY_WITH_OTHERS] = {"WITH_OTHERS", "With others having their review at the same time"},
};

static const char *const need_codes[JR_NEED_LAST + 1][2] = {
    [JR_NEED_LARGE_PRINT] = {"LARGE_PRINT", "Large print"},
    [JR_NEED_EASY_READ] = {"EASY_READ", "Easy read"},
    [JR_NEED_BSL_INTERPRETER] = {"BSL_INTERPRETER", "A BSL interpreter"},
    [JR_NEED_OTHER_LANGUAGE] = {"OTHER_LANGUAGE", "Another language"},
    [JR_NEED_ADVOCATE] = {"ADVOCATE", "An advocate"},
    [JR_NEED_BRAILLE] = {"BRAILLE", "Braille"},
    [JR_NEED_AUDIO] = {"AUDIO", "Audio"},
};

bool jr_way_valid(int way)
{
    return way >= JR_WAY_FORMAT_FIRST && way <= JR_WAY_LAST;
}

bool jr_need_valid(int need)
{
    return need >= JR_NEED_LARGE_PRINT && need <= JR_NEED_LAST;
}

const char *jr_way_code(jr_way_t way)
{
    return jr_way_valid((int)way) ? way_codes[way][0] : NULL;
}

const char *jr_way_title(jr_way_t way)
{
    return jr_way_valid((int)way) ? way_codes[way][1] : NULL;
}

/* The index of code in table[first..last], with or without prefix; 0 when
 * none. */
static int find_code(const char *const (*table)[2], int first, int last, const char *prefix,
                     const char *code)
{
    if (code == NULL) {
        return 0;
    }
    size_t plen = strlen(prefix);
    if (strncasecmp(code, prefix, plen) == 0) {
        code += plen;
    }
    for (int i = first; i <= last; i++) {
        if (strcasecmp(code, table[i][0]) == 0) {
            return i;
        }
    }
    return 0;
}

jr_way_t jr_way_from_code(const char *code)
{
    return (jr_way_t)find_code(way_codes, JR_WAY_FORMAT_FIRST, JR_WAY_LAST, "WAY_", code);
}

const char *jr_need_code(jr_need_t need)
{
    return jr_need_valid((int)need) ? need_codes[need][0] : NULL;
}

const char *jr_need_title(jr_need_t need)
{
    return jr_need_valid((int)need) ? need_codes[need][1] : NULL;
}

jr_need_t jr_need_from_code(const char *code)
{
    return (jr_need_t)find_code(need_codes, JR_NEED_LARGE_PRINT, JR_NEED_LAST, "NEED_", code);
}
