/* fuzz_envelope.c -- the untrusted-input path of joinedreviewd as a fuzz
 * target: envelope bytes -> decode and validate -> merge -> packed record
 * and ack; and the same bytes as a catch-up request -> decode.
 *
 * An input misbehaves when:
 *   - the decoder returns neither 0 (accepted) nor -1 with a reason: a
 *     reason code of capital letters and underscores, and a sentence that
 *     is valid UTF-8 (a person reads it in the ack);
 *   - an accepted envelope breaks the decoded event's own invariants: a
 *     stream the daemon knows, a source_event_id of 1 to 200 bytes of
 *     UTF-8, a known kind, an occurred_at from 1990 to the daemon's clock
 *     plus its tolerance, at least one identifier, an NHS number of 10
 *     digits when there is one;
 *   - the ack for the outcome cannot be packed, or does not read back with
 *     the same status, stream, source_event_id and reason code;
 *   - merging an accepted event, scheduling it or packing the record fails
 *     (each fails only when out of memory);
 *   - a catch-up request is decoded to neither a known kind nor a refusal
 *     with a reason;
 *   - it crashes, leaks or reads out of bounds (a sanitizer stops the run).
 *
 * Built two ways: with clang's libFuzzer (-DJR_FUZZ=ON, target
 * fuzz_envelope), where a misbehaving input aborts so that libFuzzer keeps
 * it, and with replay.c as an ordinary test that runs the corpus in
 * tests/fuzz/corpus on every build. */
#include "fuzz_envelope.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catchup_wire.h"
#include "envelope.h"
#include "joinedreview/joinedreview.pb-c.h"
#include "merge.h"
#include "record.h"
#include "schedule.h"
#include "text.h"

#define NOW_MS       1790845200000LL /* the daemon's clock for the run */
#define TOLERANCE_MS 86400000LL
#define OLDEST_MS    631152000000LL /* 1990-01-01 */

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t whylen, const char *fmt,
                                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/* NULL and "" are the same on the wire (an absent proto2 string). */
static bool same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool code_ok(const char *code)
{
    if (code == NULL || *code == '\0')
        return false;
    for (const char *p = code; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || *p == '_'))
            return false;
    return true;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return s[n] == '\0';
}

static int event_ok(const jr_envelope_t *ev, const jr_streams_t *streams, char *why,
                    size_t whylen)
{
    const jr_event_t *e = &ev->event;
    if (e->stream == NULL || jr_streams_find(streams, e->stream) == NULL)
        return fail(why, whylen, "accepted with a stream the daemon does not know");
    size_t n = e->source_event_id ? strlen(e->source_event_id) : 0;
    if (n == 0 || n > JR_SOURCE_EVENT_ID_MAX || !jr_text_valid_utf8(e->source_event_id, n))
        return fail(why, whylen,
                    "accepted with a source_event_id that is not 1 to %d bytes of UTF-8",
                    JR_SOURCE_EVENT_ID_MAX);
    if (e->kind < JR_EVENT_ENROLMENT || e->kind > JR_EVENT_BUDGET)
        return fail(why, whylen, "accepted with kind %d", (int)e->kind);
    if (e->kind == JR_EVENT_BUDGET &&
        (e->u.budget.allocated_pence < 0 || e->u.budget.spent_pence < 0 ||
         e->u.budget.period_end < e->u.budget.period_start))
        return fail(why, whylen, "accepted a budget with a negative amount or an inverted period");
    if (e->kind == JR_EVENT_PREFERENCES &&
        (!jr_way_valid((int)e->u.preferences.way) || e->u.preferences.n_involve > JR_INVOLVE_MAX ||
         (e->u.preferences.needs & ~(jr_need_set_t)0xfe) != 0))
        return fail(why, whylen, "accepted preferences with an unknown way or need");
    if (e->occurred_at_ms < OLDEST_MS || e->occurred_at_ms > NOW_MS + TOLERANCE_MS)
        return fail(why, whylen, "accepted with occurred_at %lld", (long long)e->occurred_at_ms);
    if (!ev->nhs[0] && !ev->nino[0] && !(ev->local_id && ev->local_id[0]))
        return fail(why, whylen, "accepted without an identifier");
    if (ev->nhs[0] && !digits(ev->nhs, 10))
        return fail(why, whylen, "accepted with NHS number \"%s\"", ev->nhs);
    return 0;
}

/* The ack for an outcome packs and reads back the same. */
static int ack_ok(const char *stream, const char *seid, jr_ack_status_t status, const char *code,
                  const char *reason, char *why, size_t whylen)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (jr_envelope_encode_ack(stream, seid, status, code, reason, &buf, &len) != 0)
        return fail(why, whylen, "the ack could not be packed");
    Joinedreview__V1__Ack *ack = joinedreview__v1__ack__unpack(NULL, len, buf);
    bool ok = ack != NULL && ack->has_status && (int)ack->status == (int)status &&
              same(ack->stream, stream) && same(ack->source_event_id, seid) &&
              same(ack->reason_code, code);
    if (ack != NULL)
        joinedreview__v1__ack__free_unpacked(ack, NULL);
    free(buf);
    return ok ? 0 : fail(why, whylen, "the ack does not read back as packed");
}

/* Merges, schedules and packs the record of one accepted event. */
static int record_ok(const jr_envelope_t *ev, const jr_streams_t *streams, char *why,
                     size_t whylen)
{
    jr_merge_input_t in = {NULL, 0, NULL, 0, NULL, 0};
    if (ev->event.kind == JR_EVENT_ENROLMENT) {
        in.enrolments = &ev->event;
        in.n_enrolments = 1;
    } else if (ev->event.kind == JR_EVENT_PREFERENCES || ev->event.kind == JR_EVENT_BUDGET) {
        in.kept = &ev->event;
        in.n_kept = 1;
    } else {
        in.cycle_events = &ev->event;
        in.n_cycle_events = 1;
    }
    jr_review_t *review = jr_merge_review(&in, streams);
    jr_schedule_t *sched = jr_schedule_compute(&ev->event, 1, streams, NULL, 20000);
    int rc = 0;
    if (review == NULL || sched == NULL) {
        rc = fail(why, whylen, "merging or scheduling an accepted event failed");
    } else {
        jr_record_id_t id = {"9434765919", 1, 1, 1};
        uint8_t *out = NULL;
        size_t len = 0;
        if (jr_record_encode_review(review, sched, NULL, &id, &out, &len) != 0)
            rc = fail(why, whylen, "the record of an accepted event could not be packed");
        free(out);
    }
    jr_schedule_destroy(&sched);
    jr_merge_destroy(&review);
    return rc;
}

static int catchup_ok(const uint8_t *data, size_t size, char *why, size_t whylen)
{
    jr_catchup_request_t req;
    char reason[200] = "";
    int rc = jr_catchup_wire_decode(data, size, &req, reason, sizeof reason);
    if (rc == 0)
        return req.kind >= JR_CATCHUP_SNAPSHOT && req.kind <= JR_CATCHUP_STATISTICS
                   ? 0
                   : fail(why, whylen, "a catch-up request decoded with kind %d", (int)req.kind);
    if (rc == -1)
        return reason[0] ? 0 : fail(why, whylen, "a catch-up request refused without a reason");
    return fail(why, whylen, "jr_catchup_wire_decode returned %d", rc);
}

int fuzz_envelope_check(const uint8_t *data, size_t size, char *why, size_t whylen)
{
    static jr_streams_t *streams;
    if (streams == NULL)
        streams = jr_streams_new_default();
    if (size > 65536)
        return 0; /* the ingest socket refuses larger frames before decoding */
    const jr_envelope_limits_t limits = {4000, NOW_MS, TOLERANCE_MS};
    jr_envelope_t ev;
    jr_reject_t reject = {NULL, ""};
    char *stream = NULL, *seid = NULL;
    int rc;
    int decoded = jr_envelope_decode(data, size, streams, &limits, &ev, &reject, &stream, &seid);
    if (decoded == 0) {
        rc = event_ok(&ev, streams, why, whylen);
        if (rc == 0)
            rc = ack_ok(ev.event.stream, ev.event.source_event_id, JR_ACK_OK, NULL, NULL, why,
                        whylen);
        if (rc == 0)
            rc = record_ok(&ev, streams, why, whylen);
        jr_envelope_clear(&ev);
    } else if (decoded == -1) {
        if (!code_ok(reject.code) || reject.text[0] == '\0' ||
            !jr_text_valid_utf8(reject.text, strlen(reject.text)))
            rc = fail(why, whylen, "refused without a reason code and a sentence in UTF-8");
        else
            rc = ack_ok(stream, seid, JR_ACK_REJECTED, reject.code, reject.text, why, whylen);
    } else {
        rc = fail(why, whylen, "jr_envelope_decode returned %d", decoded);
    }
    free(stream);
    free(seid);
    if (rc == 0)
        rc = catchup_ok(data, size, why, whylen);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    if (fuzz_envelope_check(data, size, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_envelope: %s\n", why);
        abort(); /* libFuzzer keeps the input as a crash */
    }
    return 0;
}
