/* streamcut.h -- a publication as a key with one funding stream's records
 * may read it (access.h, `records = CODE`).
 *
 * A consolidated review of a person enrolled in the stream goes as the
 * review cut to the stream's minimum information (cut/cut.h, the one cut
 * every reader of a stream's share goes through); a due notice goes when
 * the review it announces covers the stream. Everything else -- other
 * persons' reviews, other streams' notices, any other topic -- goes with
 * an empty payload: its sequence number still travels, so the client sees
 * no gap, and nothing of it leaks. */
#ifndef JR_STREAMCUT_H
#define JR_STREAMCUT_H

#include <stddef.h>
#include <stdint.h>

#include "share.h"

/* The publication of topic under scope (a stream's share). Caller owns
 * *out; *out is NULL and *out_len 0 when it is withheld. Returns 0, or -1
 * when memory runs out. */
int jr_streamcut_publication(const char *topic, const uint8_t *payload, size_t len,
                             const jr_share_scope_t *scope, uint8_t **out, size_t *out_len);

#endif
