/* test_codec.c -- the wire contract at the edge, without sockets: layered
 * validation with its reason codes, acks, and deterministic review bytes. */
#include <stdlib.h>
#include <string.h>

#include "catchup_wire.h"
#include "envelope.h"
#include "joinedreview/joinedreview.pb-c.h"
#include "jr_cunit.h"
#include "merge.h"
#include "record.h"

#define T0 1790845200000LL /* 2026-10-01T09:00:00Z */

static jr_streams_t *g_streams;
static const jr_envelope_limits_t g_limits = {4000, T0 + 86400000LL, 86400000LL};

static int init(void)
{
    g_streams = jr_streams_new_default();
    return g_streams == NULL;
}

static int clean(void)
{
    jr_streams_destroy(&g_streams);
    return 0;
}

typedef struct {
    Joinedreview__V1__Envelope env;
    Joinedreview__V1__PersonIds ids;
    Joinedreview__V1__Contribution c;
    Joinedreview__V1__Enrolment e;
} env_t;

static void contribution(env_t *x)
{
    Joinedreview__V1__Envelope env = JOINEDREVIEW__V1__ENVELOPE__INIT;
    Joinedreview__V1__PersonIds ids = JOINEDREVIEW__V1__PERSON_IDS__INIT;
    Joinedreview__V1__Contribution c = JOINEDREVIEW__V1__CONTRIBUTION__INIT;
    x->env = env;
    x->ids = ids;
    x->c = c;
    x->env.has_schema_version = 1;
    x->env.schema_version = 1;
    x->env.stream = "SC";
    x->env.source_event_id = "sc-1";
    x->env.has_occurred_at = 1;
    x->env.occurred_at = T0;
    x->ids.nhs_number = "943 476 5919";
    x->env.person = &x->ids;
    x->c.has_topic = 1;
    x->c.topic = JOINEDREVIEW__V1__TOPIC__HEALTH;
    x->c.has_author_role = 1;
    x->c.author_role = JOINEDREVIEW__V1__ROLE__PERSON;
    x->c.has_priority = 1;
    x->c.priority = JOINEDREVIEW__V1__PRIORITY__RED;
    x->c.working = "Walking to the shops again";
    x->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_CONTRIBUTION;
    x->env.contribution = &x->c;
}

/* Packs, decodes; returns the reason code, or "OK". */
static const char *verdict(const Joinedreview__V1__Envelope *env, jr_envelope_t *out)
{
    uint8_t buf[8192];
    size_t len = joinedreview__v1__envelope__pack(env, buf);
    static jr_reject_t why;
    char *stream = NULL, *seid = NULL;
    jr_envelope_t ev;
    int rc = jr_envelope_decode(buf, len, g_streams, &g_limits, &ev, &why, &stream, &seid);
    free(stream);
    free(seid);
    if (rc == 0) {
        if (out != NULL) {
            *out = ev;
        } else {
            jr_envelope_clear(&ev);
        }
        return "OK";
    }
    return why.code;
}

static void test_valid_contribution_decodes(void)
{
    env_t x;
    contribution(&x);
    jr_envelope_t ev;
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, &ev), "OK");
    CU_ASSERT_STRING_EQUAL(ev.nhs, "9434765919");
    CU_ASSERT_STRING_EQUAL(ev.event.stream, "SC");
    CU_ASSERT_EQUAL(ev.event.kind, JR_EVENT_CONTRIBUTION);
    CU_ASSERT_EQUAL(ev.event.u.contribution.topic, JR_TOPIC_HEALTH);
    CU_ASSERT_EQUAL(ev.event.u.contribution.role, JR_ROLE_PERSON);
    CU_ASSERT_EQUAL(ev.event.u.contribution.priority, JR_PRIORITY_RED);
    CU_ASSERT_STRING_EQUAL(ev.event.u.contribution.working, "Walking to the shops again");
    jr_envelope_clear(&ev);
}

static void test_layers_name_the_problem(void)
{
    env_t x;
    contribution(&x);
    x.env.has_schema_version = 0;
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "MISSING_FIELD");
    contribution(&x);
    x.env.schema_version = 7;
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "UNKNOWN_SCHEMA_VERSION");
    contribution(&x);
    x.env.stream = "NHS";
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "UNKNOWN_STREAM");
    contribution(&x);
    x.c.topic = 19;
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "UNKNOWN_TOPIC");
    contribution(&x);
    x.c.has_author_role = 0;
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "MISSING_FIELD");
    contribution(&x);
    x.c.priority = 4;
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "UNKNOWN_PRIORITY");
    contribution(&x);
    x.c.working = NULL;
    x.c.has_priority = 0;
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "EMPTY_CONTRIBUTION");
    x.c.has_no_change = 1;
    x.c.no_change = 1;
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "OK"); /* "no change" says something */
    contribution(&x);
    x.ids.nhs_number = "943 476 5918";
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "INVALID_NHS_NUMBER");
    contribution(&x);
    x.ids.nhs_number = "999 999 9999"; /* passes modulus 11: "not known" */
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "PLACEHOLDER_NHS_NUMBER");
    contribution(&x);
    x.env.occurred_at = T0 + 3 * 86400000LL; /* beyond the day's tolerance */
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "IMPOSSIBLE_TIME");
    contribution(&x);
    x.c.not_working = "\x01 bell";
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "BAD_TEXT");
    contribution(&x);
    x.env.source_event_id = "";
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "MISSING_FIELD");
}

/* Packs env, then turns every '~' of the wire bytes into a NUL: protobuf-c
 * packs C strings, so a NUL can only be put on the wire by hand. Decodes;
 * the reason code, its text in text (320 bytes), and the echoed keys. */
static const char *verdict_with_nul(const Joinedreview__V1__Envelope *env, char *text,
                                    char **stream, char **seid)
{
    uint8_t buf[8192];
    size_t len = joinedreview__v1__envelope__pack(env, buf);
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '~') {
            buf[i] = 0;
        }
    }
    static jr_reject_t why;
    jr_envelope_t ev;
    if (jr_envelope_decode(buf, len, g_streams, &g_limits, &ev, &why, stream, seid) == 0) {
        jr_envelope_clear(&ev);
        return "OK";
    }
    snprintf(text, 320, "%s", why.text);
    return why.code;
}

static void test_nul_in_any_string_refused(void)
{
    env_t x;
    char text[320];
    char *stream = NULL, *seid = NULL;
    contribution(&x);
    x.env.source_event_id = "nul-A~second";
    CU_ASSERT_STRING_EQUAL(verdict_with_nul(&x.env, text, &stream, &seid), "BAD_TEXT");
    CU_ASSERT_STRING_EQUAL(text, "source_event_id holds a NUL byte: text must be UTF-8 without "
                                 "NUL bytes; remove it and resend");
    /* Cut at the NUL, the key would name another event: not echoed. */
    CU_ASSERT_PTR_NULL(seid);
    free(stream);
    stream = NULL;

    contribution(&x);
    x.env.stream = "SC~ILF";
    CU_ASSERT_STRING_EQUAL(verdict_with_nul(&x.env, text, &stream, &seid), "BAD_TEXT");
    CU_ASSERT_STRING_EQUAL(text, "stream holds a NUL byte: text must be UTF-8 without NUL bytes; "
                                 "remove it and resend");
    CU_ASSERT_PTR_NULL(stream);

    contribution(&x);
    x.ids.nhs_number = "9434765919~1";
    CU_ASSERT_STRING_EQUAL(verdict_with_nul(&x.env, text, NULL, NULL), "BAD_TEXT");
    CU_ASSERT_STRING_EQUAL(text, "person.nhs_number holds a NUL byte: text must be UTF-8 without "
                                 "NUL bytes; remove it and resend");

    contribution(&x);
    x.c.working = "Walking~ and the hidden rest";
    CU_ASSERT_STRING_EQUAL(verdict_with_nul(&x.env, text, NULL, NULL), "BAD_TEXT");
    CU_ASSERT_STRING_EQUAL(text, "contribution.working holds a NUL byte: text must be UTF-8 "
                                 "without NUL bytes; remove it and resend");

    /* Without the NUL the same envelope is fine. */
    contribution(&x);
    CU_ASSERT_STRING_EQUAL(verdict_with_nul(&x.env, text, NULL, NULL), "OK");
}

/* A catch-up request's strings are checked the same way. */
static void test_nul_in_catchup_request_refused(void)
{
    Joinedreview__V1__CatchupRequest req = JOINEDREVIEW__V1__CATCHUP_REQUEST__INIT;
    req.has_kind = 1;
    req.kind = JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SNAPSHOT;
    req.lead = "SC~";
    uint8_t buf[256];
    size_t len = joinedreview__v1__catchup_request__pack(&req, buf);
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '~') {
            buf[i] = 0;
        }
    }
    jr_catchup_request_t out;
    char why[200];
    CU_ASSERT_EQUAL(jr_catchup_wire_decode(buf, len, &out, why, sizeof why), -1);
    CU_ASSERT_STRING_EQUAL(why, "lead holds a NUL byte: text must be UTF-8 without NUL bytes");
}

static void test_not_protobuf(void)
{
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    jr_envelope_t ev;
    jr_reject_t why;
    CU_ASSERT_EQUAL(
        jr_envelope_decode(junk, sizeof junk, g_streams, &g_limits, &ev, &why, NULL, NULL), -1);
    CU_ASSERT_STRING_EQUAL(why.code, "NOT_PROTOBUF");
    CU_ASSERT_PTR_NULL(ev.priv);
}

static void test_ack_round_trip(void)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(jr_envelope_encode_ack("ATW", "atw-9", JR_ACK_REJECTED,
                                                 "INVALID_NI_NUMBER", "fix it", &buf, &len),
                          0);
    Joinedreview__V1__Ack *ack = joinedreview__v1__ack__unpack(NULL, len, buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ack);
    CU_ASSERT_STRING_EQUAL(ack->stream, "ATW");
    CU_ASSERT_STRING_EQUAL(ack->source_event_id, "atw-9");
    CU_ASSERT_EQUAL(ack->status, JOINEDREVIEW__V1__ACK__STATUS__REJECTED);
    CU_ASSERT_STRING_EQUAL(ack->reason_code, "INVALID_NI_NUMBER");
    joinedreview__v1__ack__free_unpacked(ack, NULL);
    free(buf);
}

static void test_review_bytes_are_deterministic(void)
{
    env_t x;
    contribution(&x);
    jr_envelope_t ev;
    CU_ASSERT_STRING_EQUAL_FATAL(verdict(&x.env, &ev), "OK");
    jr_merge_input_t in = {&ev.event, 1, NULL, 0, NULL, 0};
    jr_review_t *r1 = jr_merge_review(&in, g_streams);
    jr_review_t *r2 = jr_merge_review(&in, g_streams);
    jr_record_id_t id = {"9434765919", 1, 3, 42};
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    CU_ASSERT_EQUAL(jr_record_encode_review(r1, NULL, NULL, &id, &b1, &l1), 0);
    CU_ASSERT_EQUAL(jr_record_encode_review(r2, NULL, NULL, &id, &b2, &l2), 0);
    CU_ASSERT_EQUAL(l1, l2);
    CU_ASSERT_EQUAL(memcmp(b1, b2, l1), 0);
    Joinedreview__V1__ConsolidatedReview *cr =
        joinedreview__v1__consolidated_review__unpack(NULL, l1, b1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cr);
    CU_ASSERT_EQUAL(cr->version, 3);
    CU_ASSERT_EQUAL(cr->sequence, 42);
    CU_ASSERT_EQUAL(cr->n_areas, 9);
    CU_ASSERT_EQUAL(cr->areas[3]->number, 4);
    CU_ASSERT_EQUAL(cr->areas[3]->priority, JOINEDREVIEW__V1__PRIORITY__RED);
    CU_ASSERT_TRUE(cr->areas[3]->priority_from_person);
    CU_ASSERT_STRING_EQUAL(cr->as_of, "2026-10-01");
    CU_ASSERT_FALSE(cr->ready_for_sign_off); /* enrolled nowhere */
    joinedreview__v1__consolidated_review__free_unpacked(cr, NULL);
    free(b1);
    free(b2);
    jr_merge_destroy(&r1);
    jr_merge_destroy(&r2);
    jr_envelope_clear(&ev);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"valid contribution decodes", test_valid_contribution_decodes},
        {"each layer names the problem", test_layers_name_the_problem},
        {"not a protobuf", test_not_protobuf},
        {"a NUL in any string is refused", test_nul_in_any_string_refused},
        {"a NUL in a catch-up request is refused", test_nul_in_catchup_request_refused},
        {"ack round trip", test_ack_round_trip},
        {"review bytes are deterministic", test_review_bytes_are_deterministic},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"codec", init, clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
