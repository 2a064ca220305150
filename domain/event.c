/* event.c -- the order that decides which event is newest. */
#include "event.h"

#include <string.h>

static int compare_text(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

int jr_event_compare(const jr_event_t *a, const jr_event_t *b)
{
    if (a->occurred_at_ms != b->occurred_at_ms)
        return a->occurred_at_ms < b->occurred_at_ms ? -1 : 1;
    int c = compare_text(a->stream, b->stream);
    if (c == 0)
        c = compare_text(a->source_event_id, b->source_event_id);
    return (c > 0) - (c < 0);
}
