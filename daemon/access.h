/* access.h -- who may connect, and what each client may do.
 *
 * The allow-list is an INI file; one section per client:
 *
 *   [client.ilf-adapter]
 *   public_key = <40 Z85 characters, from `joinedreview keygen`>
 *   streams = ILF            ; an adapter: the funding streams it may speak for
 *
 *   [client.equipment-dashboard]
 *   public_key = ...
 *   feeds = statistics       ; a subscriber: identifiable, pseudonymised, statistics
 *
 *   [client.atw-export]
 *   public_key = ...
 *   records = ATW            ; one funding stream's records only
 *
 * `streams` may be ALL. Feeds: `identifiable` (consolidated reviews and
 * notices with NHS numbers, and catch-up of them), `pseudonymised` (the same
 * with identifiers replaced by a keyed hash and free text left out) and
 * `statistics`. `records` names one stream: the key reads, through the
 * catch-up endpoint only, the consolidated reviews and notices of persons
 * enrolled in that stream, each review cut to the stream's minimum
 * information (domain/share.h) -- what a stream's own back office or
 * extract may hold -- and nothing else (no publish socket: a PUB cannot
 * tell one subscriber's records from another's). A client may have both
 * streams and feeds. A key not in the
 * list cannot connect to any socket; rights are judged from the key the
 * connection authenticated with (ZAP User-Id), never from message fields. */
#ifndef JR_ACCESS_H
#define JR_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "keyfile.h"
#include "streams.h"

typedef enum {
    JR_FEED_IDENTIFIABLE = 1u << 0,
    JR_FEED_PSEUDONYMISED = 1u << 1,
    JR_FEED_STATISTICS = 1u << 2,
} jr_feed_t;

typedef struct jr_access jr_access_t;

/* Loads an allow-list. Caller owns the result; NULL with a message in err. */
jr_access_t *jr_access_load(const char *path, char *err, size_t errlen);
void jr_access_destroy(jr_access_t **self_p);

/* The client's name for a Z85 public key, or NULL when not allowed. Borrowed. */
const char *jr_access_name(const jr_access_t *self, const char *public_key);

/* May this key push events for this stream? */
bool jr_access_may_push(const jr_access_t *self, const char *public_key, const char *stream);

/* The feeds (jr_feed_t bits) this key may read; 0 when none. */
unsigned jr_access_feeds(const jr_access_t *self, const char *public_key);

/* The one stream whose records this key may read (`records`): true with
 * its code in stream, false when the key has no such right. */
bool jr_access_records(const jr_access_t *self, const char *public_key,
                       char stream[JR_STREAM_CODE_MAX]);

/* True when the key may push for at least one stream. */
bool jr_access_is_adapter(const jr_access_t *self, const char *public_key);

/* True when some key that could read a feed under `old` can no longer read
 * it under `now` (removed, or its feeds narrowed). */
bool jr_access_revokes_feeds(const jr_access_t *old, const jr_access_t *now);

/* Number of clients, for the log. */
size_t jr_access_count(const jr_access_t *self);

#endif
