/* completeness.h -- does a review hold each funding stream's minimum
 * information?
 *
 * A topic is covered when at least one contribution for it exists in the
 * cycle, from any stream and any author, "no change" included: information
 * gathered once serves every stream.
 *
 * Pure: no I/O. */
#ifndef JR_COMPLETENESS_H
#define JR_COMPLETENESS_H

#include <stdbool.h>

#include "format.h"
#include "streams.h"

/* The stream's required topics that `covered` lacks. */
jr_topic_set_t jr_completeness_missing(const jr_stream_t *stream, jr_topic_set_t covered);

/* The stream's required topics that `covered` holds. */
jr_topic_set_t jr_completeness_covered(const jr_stream_t *stream, jr_topic_set_t covered);

/* True when nothing the stream requires is missing. */
bool jr_completeness_complete(const jr_stream_t *stream, jr_topic_set_t covered);

#endif
