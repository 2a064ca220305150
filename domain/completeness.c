/* completeness.c -- each funding stream's minimum information. */
#include "completeness.h"

#include <stddef.h>

#include "streams.h"

/* Whatever the row says: the common minimum is always required, "anything
 * else" never. */
static jr_topic_set_t required_of(const jr_stream_t *stream)
{
    jr_topic_set_t row = stream != NULL ? stream->required : 0;
    return (row | JR_TOPICS_COMMON_MINIMUM) & JR_TOPICS_AREAS_1_TO_8;
}

jr_topic_set_t jr_completeness_missing(const jr_stream_t *stream, jr_topic_set_t covered)
{
    return required_of(stream) & ~covered;
}

jr_topic_set_t jr_completeness_covered(const jr_stream_t *stream, jr_topic_set_t covered)
{
    return required_of(stream) & covered;
}

bool jr_completeness_complete(const jr_stream_t *stream, jr_topic_set_t covered)
{
    return jr_completeness_missing(stream, covered) == 0;
}
