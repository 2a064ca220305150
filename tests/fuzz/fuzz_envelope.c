/* fuzz_envelope.c -- the untrusted-input path of joinedreviewd as a fuzz
 * target: envelope bytes -> decode and validate -> merge -> packed record;
 * and catch-up request bytes -> decode. Whatever the bytes, nothing may
 * crash, leak or read out of bounds.
 *
 * Built two ways: with clang's libFuzzer (-DJR_FUZZ=ON, target fuzz_envelope)
 * for fuzzing, and with replay.c as an ordinary test that runs the corpus in
 * tests/fuzz/corpus on every build. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "catchup_wire.h"
#include "envelope.h"
#include "merge.h"
#include "record.h"
#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static jr_streams_t *streams;
    if (streams == NULL) {
        streams = jr_streams_new_default();
    }
    if (size > 65536) {
        return 0; /* the ingest socket refuses larger frames before decoding */
    }
    const jr_envelope_limits_t limits = {4000, 1790845200000LL, 86400000LL};
    jr_envelope_t ev;
    jr_reject_t why;
    char *stream = NULL, *seid = NULL;
    if (jr_envelope_decode(data, size, streams, &limits, &ev, &why, &stream, &seid) == 0) {
        jr_merge_input_t in = {NULL, 0, NULL, 0};
        if (ev.event.kind == JR_EVENT_ENROLMENT) {
            in.enrolments = &ev.event;
            in.n_enrolments = 1;
        } else {
            in.cycle_events = &ev.event;
            in.n_cycle_events = 1;
        }
        jr_review_t *review = jr_merge_review(&in, streams);
        jr_schedule_t *sched = jr_schedule_compute(&ev.event, 1, streams, NULL, 20000);
        if (review != NULL) {
            jr_record_id_t id = {"9434765919", 1, 1, 1};
            uint8_t *out = NULL;
            size_t len = 0;
            if (jr_record_encode_review(review, sched, &id, &out, &len) == 0) {
                free(out);
            }
        }
        jr_schedule_destroy(&sched);
        jr_merge_destroy(&review);
        jr_envelope_clear(&ev);
    }
    free(stream);
    free(seid);
    jr_catchup_request_t req;
    char reason[200];
    (void)jr_catchup_wire_decode(data, size, &req, reason, sizeof reason);
    return 0;
}
