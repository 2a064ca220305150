/* share.h -- what each funding stream receives (DOMAIN.md): the rule that
 * says which topics and areas of a consolidated review a reader may see.
 *
 * The lead organisation and the review schedulers see the whole review. A
 * funding stream (its officers, its back office, its extract) sees, for
 * persons enrolled in that stream only, the statements of the topics of its
 * minimum information (which always include Income and benefits, and
 * Information), the priorities of the areas those topics are in, the
 * support plan revision, the schedule and the preferences: never another
 * topic's statements.
 *
 * The rule is applied to the wire's record by cut/cut.h, once, for every
 * reader: joinedreview-web's pages and FHIR, joinedreview-export, and the
 * daemon's catch-up for a key with one stream's records.
 *
 * Pure: no I/O. */
#ifndef JR_SHARE_H
#define JR_SHARE_H

#include <stdbool.h>
#include <stddef.h>

#include "format.h"
#include "streams.h"

typedef struct {
    bool whole;                      /* everything (a scheduler, the lead) */
    char stream[JR_STREAM_CODE_MAX]; /* else: this stream's share */
    jr_topic_set_t topics;           /* ... of these topics */
} jr_share_scope_t;

/* A funding stream's share: its minimum information (and the common
 * minimum) from streams. 0, or -1 when the stream is unknown. */
int jr_share_scope_stream(jr_share_scope_t *scope, const jr_streams_t *streams, const char *code);

/* Everything. */
void jr_share_scope_whole(jr_share_scope_t *scope);

/* Whether a statement (or a view in a conflict) on this topic is shown. */
bool jr_share_topic_shown(const jr_share_scope_t *scope, int topic);

/* Whether area 1..9 is shown at all: some topic of it is. Its priority is
 * shown with it. */
bool jr_share_area_shown(const jr_share_scope_t *scope, int area);

/* Whether a stream's completeness (or other stream-keyed part) is shown:
 * every stream's to the whole, only its own to a stream. */
bool jr_share_stream_shown(const jr_share_scope_t *scope, const char *stream);

/* Whether a person enrolled in these streams is seen at all under the
 * scope: always for the whole, else when the scope's stream is among them. */
bool jr_share_person_shown(const jr_share_scope_t *scope, const char *const *enrolled, size_t n);

#endif
