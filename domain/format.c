/* format.c -- the joined-up review format as one table of topics. */
#include "format.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *code;
    const char *title;
    int area;
} topic_row_t;

/* Indexed by jr_topic_t. Areas hold consecutive topics, in the seed's order. */
static const topic_row_t topics[JR_TOPIC_LAST + 1] = {
    [JR_TOPIC_SUPPORT] = {"SUPPORT", "Support/assistance", 1},
    [JR_TOPIC_ADVOCACY] = {"ADVOCACY", "Advocacy", 1},
    [JR_TOPIC_PEER_SUPPORT] = {"PEER_SUPPORT", "Peer support", 1},
    [JR_TOPIC_FAMILY] = {"FAMILY", "Family and relationships", 2},
    [JR_TOPIC_CHOICES_RISKS] = {"CHOICES_RISKS", "Having choices & taking risks", 2},
    [JR_TOPIC_INCOME] = {"INCOME", "Income and benefits", 3},
    [JR_TOPIC_HEALTH] = {"HEALTH", "Keeping healthy", 4},
    [JR_TOPIC_SAFETY] = {"SAFETY", "Feeling safe", 4},
    [JR_TOPIC_INFORMATION] = {"INFORMATION", "Information", 5},
    [JR_TOPIC_EDUCATION] = {"EDUCATION", "Education and training", 5},
    [JR_TOPIC_EMPLOYMENT] = {"EMPLOYMENT", "Employment", 5},
    [JR_TOPIC_CITIZENSHIP] = {"CITIZENSHIP", "Active citizenship", 6},
    [JR_TOPIC_GOODS_SERVICES] = {"GOODS_SERVICES", "Access to goods and services", 7},
    [JR_TOPIC_LEISURE] = {"LEISURE", "Leisure", 7},
    [JR_TOPIC_HOUSING] = {"HOUSING", "Housing", 8},
    [JR_TOPIC_EQUIPMENT] = {"EQUIPMENT", "Equipment", 8},
    [JR_TOPIC_TRANSPORT] = {"TRANSPORT", "Transport", 8},
    [JR_TOPIC_OTHER] = {"OTHER", "Anything else", 9},
};

/* The seed's stream table names two topics differently. */
static const struct {
    const char *code;
    jr_topic_t topic;
} topic_synonyms[] = {
    {"FAMILY_AND_FRIENDS", JR_TOPIC_FAMILY},
    {"STAYING_SAFE", JR_TOPIC_SAFETY},
};

static const char *const area_titles[JR_AREA_COUNT + 1] = {
    [1] = "Support/assistance / Advocacy / Peer support",
    [2] = "Family and relationships / Having choices & taking risks",
    [3] = "Income and benefits",
    [4] = "Keeping healthy / Feeling safe",
    [5] = "Information / Education and training / Employment",
    [6] = "Active citizenship",
    [7] = "Access to goods and services / Leisure",
    [8] = "Housing / Equipment / Transport",
    [9] = "Anything else",
};

static const char *const role_codes[JR_ROLE_LAST + 1] = {
    [JR_ROLE_PERSON] = "PERSON",     [JR_ROLE_CARER] = "CARER",
    [JR_ROLE_COUNCIL] = "COUNCIL",   [JR_ROLE_STREAM_OFFICER] = "STREAM_OFFICER",
    [JR_ROLE_PROVIDER] = "PROVIDER", [JR_ROLE_ADVOCATE] = "ADVOCATE",
};

static const char *const priority_codes[JR_PRIORITY_RED + 1] = {
    [JR_PRIORITY_NOT_GIVEN] = "NOT_GIVEN",
    [JR_PRIORITY_GREEN] = "GREEN",
    [JR_PRIORITY_AMBER] = "AMBER",
    [JR_PRIORITY_RED] = "RED",
};

bool jr_format_topic_valid(int topic)
{
    return topic >= JR_TOPIC_FIRST && topic <= JR_TOPIC_LAST;
}

bool jr_format_role_valid(int role)
{
    return role >= JR_ROLE_PERSON && role <= JR_ROLE_LAST;
}

bool jr_format_priority_valid(int priority)
{
    return priority >= JR_PRIORITY_NOT_GIVEN && priority <= JR_PRIORITY_RED;
}

int jr_format_topic_area(jr_topic_t topic)
{
    return jr_format_topic_valid((int)topic) ? topics[topic].area : 0;
}

const char *jr_format_topic_code(jr_topic_t topic)
{
    return jr_format_topic_valid((int)topic) ? topics[topic].code : NULL;
}

const char *jr_format_topic_title(jr_topic_t topic)
{
    return jr_format_topic_valid((int)topic) ? topics[topic].title : NULL;
}

/* `code` (len bytes, not NUL-terminated) equals `word`, ignoring case. */
static bool word_equal(const char *code, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(code, word, len) == 0;
}

static jr_topic_t topic_from_word(const char *code, size_t len)
{
    for (int t = JR_TOPIC_FIRST; t <= JR_TOPIC_LAST; t++)
        if (word_equal(code, len, topics[t].code))
            return (jr_topic_t)t;
    for (size_t i = 0; i < sizeof topic_synonyms / sizeof topic_synonyms[0]; i++)
        if (word_equal(code, len, topic_synonyms[i].code))
            return topic_synonyms[i].topic;
    return JR_TOPIC_NONE;
}

jr_topic_t jr_format_topic_from_code(const char *code)
{
    if (code == NULL)
        return JR_TOPIC_NONE;
    return topic_from_word(code, strlen(code));
}

static bool is_separator(char c)
{
    return c == ' ' || c == ',' || c == '\t';
}

int jr_format_topics_parse(const char *list, jr_topic_set_t *out, const char **bad)
{
    jr_topic_set_t set = 0;
    const char *p = list != NULL ? list : "";

    for (;;) {
        while (is_separator(*p))
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (*p != '\0' && !is_separator(*p))
            p++;
        size_t len = (size_t)(p - start);
        if (word_equal(start, len, "ALL")) {
            set |= JR_TOPICS_AREAS_1_TO_8;
            continue;
        }
        jr_topic_t t = topic_from_word(start, len);
        if (t == JR_TOPIC_NONE) {
            if (bad != NULL)
                *bad = start;
            return -1;
        }
        set |= JR_TOPIC_BIT(t);
    }
    if (out != NULL)
        *out = set;
    return 0;
}

const char *jr_format_area_title(int area)
{
    return area >= 1 && area <= JR_AREA_COUNT ? area_titles[area] : NULL;
}

const char *jr_format_role_code(jr_role_t role)
{
    return jr_format_role_valid((int)role) ? role_codes[role] : NULL;
}

jr_role_t jr_format_role_from_code(const char *code)
{
    if (code == NULL)
        return JR_ROLE_NONE;
    for (int r = JR_ROLE_PERSON; r <= JR_ROLE_LAST; r++)
        if (strcasecmp(code, role_codes[r]) == 0)
            return (jr_role_t)r;
    return JR_ROLE_NONE;
}

const char *jr_format_priority_code(jr_priority_t p)
{
    return jr_format_priority_valid((int)p) ? priority_codes[p] : NULL;
}

jr_priority_t jr_format_priority_from_code(const char *code, bool *ok)
{
    if (code != NULL)
        for (int p = JR_PRIORITY_NOT_GIVEN; p <= JR_PRIORITY_RED; p++)
            if (strcasecmp(code, priority_codes[p]) == 0) {
                if (ok != NULL)
                    *ok = true;
                return (jr_priority_t)p;
            }
    if (ok != NULL)
        *ok = false;
    return JR_PRIORITY_NOT_GIVEN;
}
