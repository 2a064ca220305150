/* share.c -- see share.h. */
#include "share.h"

#include <stdio.h>
#include <string.h>

int jr_share_scope_stream(jr_share_scope_t *scope, const jr_streams_t *streams, const char *code)
{
    const jr_stream_t *s = code != NULL ? jr_streams_find(streams, code) : NULL;
    memset(scope, 0, sizeof *scope);
    if (s == NULL) {
        return -1;
    }
    snprintf(scope->stream, sizeof scope->stream, "%s", s->code);
    scope->topics = s->required | JR_TOPICS_COMMON_MINIMUM;
    return 0;
}

void jr_share_scope_whole(jr_share_scope_t *scope)
{
    memset(scope, 0, sizeof *scope);
    scope->whole = true;
    scope->topics = JR_TOPICS_AREAS_1_TO_8 | JR_TOPIC_BIT(JR_TOPIC_OTHER);
}

bool jr_share_topic_shown(const jr_share_scope_t *scope, int topic)
{
    return scope->whole ||
           (jr_format_topic_valid(topic) && (scope->topics & JR_TOPIC_BIT(topic)) != 0);
}

bool jr_share_area_shown(const jr_share_scope_t *scope, int area)
{
    for (int t = JR_TOPIC_FIRST; t <= JR_TOPIC_LAST; t++) {
        if (jr_format_topic_area((jr_topic_t)t) == area && jr_share_topic_shown(scope, t)) {
            return true;
        }
    }
    return false;
}

bool jr_share_stream_shown(const jr_share_scope_t *scope, const char *stream)
{
    return scope->whole || (stream != NULL && strcmp(stream, scope->stream) == 0);
}

bool jr_share_person_shown(const jr_share_scope_t *scope, const char *const *enrolled, size_t n)
{
    if (scope->whole) {
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        if (enrolled[i] != NULL && strcmp(enrolled[i], scope->stream) == 0) {
            return true;
        }
    }
    return false;
}
