/* envelope.h -- envelopes at the edge: bytes in, a validated domain event
 * out, and the ack that answers each one.
 *
 * Validation is layered (each layer names what is wrong and what to do):
 *   1. the bytes are a joinedreview.v1.Envelope (NOT_PROTOBUF), and no string
 *      in it holds a NUL byte (BAD_TEXT);
 *   2. schema version, required fields, exactly one body, known stream, topic,
 *      role, priority, way (UNKNOWN_WAY) and needs (UNKNOWN_NEED), lengths
 *      (names, places and group keys at most 200 bytes), UTF-8;
 *   3. domain checks: the NHS number's check digit, the NI number's form,
 *      real calendar dates in order (a budget's period ending before it
 *      starts: END_BEFORE_START), amounts in whole pence (NEGATIVE_AMOUNT,
 *      NOT_WHOLE_PENCE), an occurred_at that is neither before 1990 nor in
 *      the future beyond the configured tolerance.
 * The ingest socket checks frame count and size before any of this. */
#ifndef JR_ENVELOPE_H
#define JR_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "nhs.h"
#include "streams.h"

#define JR_SCHEMA_VERSION      1
#define JR_SOURCE_EVENT_ID_MAX 200
#define JR_NAME_MAX            200

typedef struct {
    const char *code; /* machine-readable, static, e.g. "INVALID_NHS_NUMBER" */
    char text[320];   /* a sentence a person can act on */
} jr_reject_t;

typedef struct {
    size_t max_text_bytes;
    int64_t now_ms; /* the daemon's clock, for the future check */
    int64_t future_tolerance_ms;
} jr_envelope_limits_t;

/* A decoded, validated envelope. `event` borrows from the unpacked message
 * held in `priv`; release with jr_envelope_clear(). */
typedef struct {
    jr_event_t event;
    char nhs[JR_NHS_LEN + 1];   /* normalised, "" when not given */
    char nino[JR_NINO_LEN + 1]; /* normalised, "" when not given */
    const char *local_id;       /* NULL when not given */
    void *priv;                 /* the unpacked Envelope */
} jr_envelope_t;

/* Decodes and validates one envelope. Returns 0 and fills *out (caller must
 * jr_envelope_clear it), or -1 and fills *why; on -1 *out holds nothing to
 * release, but ids_stream/ids_seid (when non-NULL) receive the stream and
 * source_event_id if they could be read, for the ack (caller frees them). */
int jr_envelope_decode(const uint8_t *buf, size_t len, const jr_streams_t *streams,
                       const jr_envelope_limits_t *limits, jr_envelope_t *out, jr_reject_t *why,
                       char **ids_stream, char **ids_seid);

void jr_envelope_clear(jr_envelope_t *ev);

/* Ack statuses, equal to the wire's Ack.Status values (tied in envelope.c). */
typedef enum {
    JR_ACK_OK = 1,
    JR_ACK_DUPLICATE = 2,
    JR_ACK_PARKED = 3,
    JR_ACK_REJECTED = 4,
    JR_ACK_RETRY_LATER = 5,
} jr_ack_status_t;

/* Packs an Ack. Caller owns *out (free). stream/seid/code/reason may be NULL.
 * Returns 0, or -1 when out of memory. */
int jr_envelope_encode_ack(const char *stream, const char *seid, jr_ack_status_t status,
                           const char *code, const char *reason, uint8_t **out, size_t *len);

#endif
