/* streams.c -- the funding streams table. */
#include "streams.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define B(t) JR_TOPIC_BIT(JR_TOPIC_##t)

/* The defaults (DOMAIN.md, "Each stream's minimum information" and "Enrolments,
 * review dates"). INCOME and INFORMATION are added to every row by put. Lead
 * ranks give the default precedence SC, SP, ILF, ICES, DFG, ATW (then CPA). */
static const jr_stream_t default_streams[] = {
    {.code = "SP",
     .name = "Supporting People",
     .enabled = true,
     .required = B(CITIZENSHIP) | B(SUPPORT) | B(ADVOCACY) | B(PEER_SUPPORT) | B(FAMILY) |
                 B(HEALTH) | B(SAFETY) | B(EDUCATION) | B(EMPLOYMENT) | B(HOUSING),
     .interval_days = 365,
     .lead_rank = 2},
    {.code = "ILF",
     .name = "Independent Living Fund",
     .enabled = true,
     .required = B(SUPPORT) | B(FAMILY) | B(HEALTH) | B(SAFETY) | B(LEISURE) | B(HOUSING),
     .interval_days = 730,
     .lead_rank = 3},
    {.code = "ICES",
     .name = "Integrated Community Equipment Services",
     .enabled = true,
     .required = B(EQUIPMENT) | B(HEALTH) | B(SAFETY) | B(GOODS_SERVICES),
     .interval_days = 365,
     .lead_rank = 4},
    {.code = "ATW",
     .name = "Access to Work",
     .enabled = true,
     .required = B(EDUCATION) | B(EMPLOYMENT) | B(EQUIPMENT) | B(TRANSPORT) | B(SUPPORT),
     .interval_days = 0,
     .before_award_end_days = 84,
     .default_award_days = 1095,
     .lead_rank = 6},
    {.code = "DFG",
     .name = "Disabled Facilities Grants",
     .enabled = true,
     .required = B(HOUSING) | B(EQUIPMENT) | B(TRANSPORT) | B(HEALTH) | B(SAFETY),
     .interval_days = 0,
     .lead_rank = 5},
    {.code = "SC",
     .name = "Social Care",
     .enabled = true,
     .required = JR_TOPICS_AREAS_1_TO_8,
     .interval_days = 365,
     .first_review_days = 56,
     .lead_rank = 1},
    {.code = "CPA",
     .name = "Care Programme Approach",
     .enabled = false,
     .required = JR_TOPICS_AREAS_1_TO_8,
     .interval_days = 365,
     .lead_rank = 7},
};

#undef B

struct jr_streams {
    jr_stream_t rows[JR_STREAMS_MAX]; /* sorted by code (strcmp) */
    size_t count;
};

static bool code_valid(const char *code)
{
    size_t len = strnlen(code, JR_STREAM_CODE_MAX);
    if (len == 0 || len >= JR_STREAM_CODE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = code[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

jr_streams_t *jr_streams_new_default(void)
{
    jr_streams_t *self = calloc(1, sizeof *self);
    if (self == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof default_streams / sizeof default_streams[0]; i++)
        (void)jr_streams_put(self, &default_streams[i]); /* the table is known good */
    return self;
}

int jr_streams_put(jr_streams_t *self, const jr_stream_t *row)
{
    if (self == NULL || row == NULL || !code_valid(row->code))
        return -1;

    jr_stream_t copy = *row;
    copy.name[sizeof copy.name - 1] = '\0';
    /* "Anything else" is never required; the common minimum always is. */
    copy.required = (copy.required | JR_TOPICS_COMMON_MINIMUM) & JR_TOPICS_AREAS_1_TO_8;

    size_t i = 0;
    while (i < self->count && strcmp(self->rows[i].code, copy.code) < 0)
        i++;
    if (i < self->count && strcmp(self->rows[i].code, copy.code) == 0) {
        self->rows[i] = copy;
        return 0;
    }
    if (self->count == JR_STREAMS_MAX)
        return -1;
    memmove(&self->rows[i + 1], &self->rows[i], (self->count - i) * sizeof self->rows[0]);
    self->rows[i] = copy;
    self->count++;
    return 0;
}

const jr_stream_t *jr_streams_find(const jr_streams_t *self, const char *code)
{
    if (self == NULL || code == NULL)
        return NULL;
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->rows[i].code, code) == 0)
            return &self->rows[i];
    return NULL;
}

size_t jr_streams_count(const jr_streams_t *self)
{
    return self != NULL ? self->count : 0;
}

const jr_stream_t *jr_streams_at(const jr_streams_t *self, size_t i)
{
    return self != NULL && i < self->count ? &self->rows[i] : NULL;
}

jr_streams_t *jr_streams_dup(const jr_streams_t *self)
{
    if (self == NULL)
        return NULL;
    jr_streams_t *copy = malloc(sizeof *copy);
    if (copy != NULL)
        *copy = *self;
    return copy;
}

void jr_streams_destroy(jr_streams_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free(*self_p);
    *self_p = NULL;
}

static const char *const underspend_words[JR_UNDERSPEND_LAST + 1][2] = {
    [JR_UNDERSPEND_NOT_SET] = {"not_set", "no agreed rule"},
    [JR_UNDERSPEND_RETURNED] = {"returned", "returned to the funding stream"},
    [JR_UNDERSPEND_CARRIED_FORWARD] = {"carried_forward", "carried forward in the person's budget"},
    [JR_UNDERSPEND_KEPT] = {"kept", "kept by the person to use freely"},
};

const char *jr_underspend_code(jr_underspend_t rule)
{
    return (int)rule >= 0 && rule <= JR_UNDERSPEND_LAST ? underspend_words[rule][0] : NULL;
}

const char *jr_underspend_title(jr_underspend_t rule)
{
    return (int)rule >= 0 && rule <= JR_UNDERSPEND_LAST ? underspend_words[rule][1] : NULL;
}

int jr_underspend_from_code(const char *code, jr_underspend_t *out)
{
    if (code == NULL)
        return -1;
    if (strncasecmp(code, "UNDERSPEND_", 11) == 0)
        code += 11;
    for (int r = 0; r <= JR_UNDERSPEND_LAST; r++)
        if (strcasecmp(code, underspend_words[r][0]) == 0) {
            *out = (jr_underspend_t)r;
            return 0;
        }
    return -1;
}
