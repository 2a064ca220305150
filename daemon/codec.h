/* codec.h -- the wire contract at the edge: envelope bytes in, validated
 * domain events out; consolidated reviews and acks to bytes.
 *
 * Validation is layered (each layer names what is wrong and what to do):
 *   1. the bytes are a joinedreview.v1.Envelope (NOT_PROTOBUF);
 *   2. schema version, required fields, exactly one body, known stream, topic,
 *      role and priority, lengths, UTF-8;
 *   3. domain checks: the NHS number's check digit, the NI number's form,
 *      real calendar dates in order, an occurred_at that is neither before
 *      1990 nor in the future beyond the configured tolerance.
 * The ingest socket checks frame count and size before any of this. */
#ifndef JR_CODEC_H
#define JR_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "merge.h"
#include "nhs.h"
#include "schedule.h"
#include "statistics.h"
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
} jr_codec_limits_t;

/* A decoded, validated envelope. `event` borrows from the unpacked message
 * held in `priv`; release with jr_codec_event_clear(). */
typedef struct {
    jr_event_t event;
    char nhs[JR_NHS_LEN + 1];   /* normalised, "" when not given */
    char nino[JR_NINO_LEN + 1]; /* normalised, "" when not given */
    const char *local_id;       /* NULL when not given */
    void *priv;                 /* the unpacked Envelope */
} jr_codec_event_t;

/* Decodes and validates one envelope. Returns 0 and fills *out (caller must
 * jr_codec_event_clear it), or -1 and fills *why; on -1 *out holds nothing to
 * release, but ids_stream/ids_seid (when non-NULL) receive the stream and
 * source_event_id if they could be read, for the ack (caller frees them). */
int jr_codec_decode(const uint8_t *buf, size_t len, const jr_streams_t *streams,
                    const jr_codec_limits_t *limits, jr_codec_event_t *out, jr_reject_t *why,
                    char **ids_stream, char **ids_seid);

void jr_codec_event_clear(jr_codec_event_t *ev);

/* Ack statuses, equal to the wire's Ack.Status values. */
typedef enum {
    JR_ACK_OK = 1,
    JR_ACK_DUPLICATE = 2,
    JR_ACK_PARKED = 3,
    JR_ACK_REJECTED = 4,
    JR_ACK_RETRY_LATER = 5,
} jr_ack_status_t;

/* Packs an Ack. Caller owns *out (free). stream/seid/code/reason may be NULL.
 * Returns 0, or -1 when out of memory. */
int jr_codec_encode_ack(const char *stream, const char *seid, jr_ack_status_t status,
                        const char *code, const char *reason, uint8_t **out, size_t *len);

/* Identifies the consolidated record around a merged review. */
typedef struct {
    const char *nhs_number;
    uint32_t cycle;
    uint32_t version;
    uint64_t sequence;
} jr_record_id_t;

/* Packs a ConsolidatedReview with its schedule (may be NULL). Deterministic:
 * the same inputs always give the same bytes. Caller owns *out (free).
 * Returns 0, or -1 when out of memory. */
int jr_codec_encode_review(const jr_review_t *review, const jr_schedule_t *schedule,
                           const jr_record_id_t *id, uint8_t **out, size_t *len);

/* Packs a DueNotice. `review` gives the covered streams still missing
 * minimum information. Caller owns *out (free). Returns 0, or -1. */
int jr_codec_encode_notice(const jr_notice_t *notice, const jr_schedule_t *schedule,
                           const jr_review_t *review, const jr_record_id_t *id, uint8_t **out,
                           size_t *len);

/* The topic a notice is published under: "notice.<kind>.<lead>", e.g.
 * "notice.due.SC". */
void jr_codec_notice_topic(const jr_notice_t *notice, const jr_schedule_t *schedule, char *out,
                           size_t outlen);

/* ---- catch-up and statistics ---- */

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
int jr_codec_decode_catchup(const uint8_t *buf, size_t len, jr_catchup_request_t *out, char *why,
                            size_t whylen);

typedef struct {
    uint64_t seq;
    char topic[64];
    uint8_t *payload; /* owned by whoever fills the array */
    size_t len;
} jr_codec_item_t;

/* CatchupReply.Status values. */
typedef enum {
    JR_CATCHUP_OK = 1,
    JR_CATCHUP_TOO_OLD = 2,
    JR_CATCHUP_BAD_REQUEST = 3,
    JR_CATCHUP_UNAVAILABLE = 4,
} jr_catchup_status_t;

/* Packs one CatchupReply. stats may be NULL. Caller owns *out. */
int jr_codec_encode_catchup_reply(const char *request_id, jr_catchup_status_t status,
                                  const char *reason, uint64_t sequence, bool last,
                                  const jr_codec_item_t *items, size_t n,
                                  const jr_statistics_t *stats, uint8_t **out, size_t *len);

/* Packs a Statistics message. Caller owns *out. */
int jr_codec_encode_statistics(const jr_statistics_t *stats, uint8_t **out, size_t *len);

#endif
