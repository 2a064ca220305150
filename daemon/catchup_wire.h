/* catchup_wire.h -- catch-up on the wire: a CatchupRequest in, checked, and
 * CatchupReply messages out (catchup.h serves them). */
#ifndef JR_CATCHUP_WIRE_H
#define JR_CATCHUP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "statistics.h"
#include "streams.h"

/* CatchupRequest.Kind values (tied in catchup_wire.c). */
typedef enum {
    JR_CATCHUP_SNAPSHOT = 1,
    JR_CATCHUP_SINCE = 2,
    JR_CATCHUP_STATISTICS = 3,
} jr_catchup_kind_t;

typedef struct {
    jr_catchup_kind_t kind;
    char request_id[65];
    uint64_t after;     /* SINCE */
    uint32_t max_items; /* SINCE; 0: the default */
    char lead[JR_STREAM_CODE_MAX];
    char stream[JR_STREAM_CODE_MAX];
} jr_catchup_request_t;

/* Decodes and checks a CatchupRequest. Returns 0, or -1 with a sentence in
 * why (the request_id, if readable, is still filled). */
int jr_catchup_wire_decode(const uint8_t *buf, size_t len, jr_catchup_request_t *out, char *why,
                           size_t whylen);

/* One publication of a reply. */
typedef struct {
    uint64_t seq;
    char topic[64];
    uint8_t *payload; /* owned by whoever fills the array */
    size_t len;
} jr_catchup_item_t;

/* CatchupReply.Status values (tied in catchup_wire.c). */
typedef enum {
    JR_CATCHUP_OK = 1,
    JR_CATCHUP_TOO_OLD = 2,
    JR_CATCHUP_BAD_REQUEST = 3,
    JR_CATCHUP_UNAVAILABLE = 4,
} jr_catchup_status_t;

/* Packs one CatchupReply. items and stats are borrowed; stats may be NULL.
 * Caller owns *out. Returns 0, or -1 when out of memory. */
int jr_catchup_wire_encode_reply(const char *request_id, jr_catchup_status_t status,
                                 const char *reason, uint64_t sequence, bool last,
                                 const jr_catchup_item_t *items, size_t n,
                                 const jr_statistics_t *stats, uint8_t **out, size_t *len);

#endif
