/* test_codec.c -- the wire contract at the edge, without sockets: layered
 * validation with its reason codes, acks, and deterministic review bytes. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "catchup_wire.h"
#include "envelope.h"
#include "joinedreview/joinedreview.pb-c.h"
#include "jr_cunit.h"
#include "merge.h"
#include "pseudonym.h"
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

typedef struct {
    Joinedreview__V1__Envelope env;
    Joinedreview__V1__PersonIds ids;
    Joinedreview__V1__ReviewPreferences p;
    Joinedreview__V1__BudgetStatement b;
    Joinedreview__V1__Need needs[2];
    char *involve[2];
} way_env_t;

static void base(way_env_t *x, const char *seid)
{
    Joinedreview__V1__Envelope env = JOINEDREVIEW__V1__ENVELOPE__INIT;
    Joinedreview__V1__PersonIds ids = JOINEDREVIEW__V1__PERSON_IDS__INIT;
    memset(x, 0, sizeof *x);
    x->env = env;
    x->ids = ids;
    x->env.has_schema_version = 1;
    x->env.schema_version = 1;
    x->env.stream = "SP";
    x->env.source_event_id = (char *)seid;
    x->env.has_occurred_at = 1;
    x->env.occurred_at = T0;
    x->ids.nhs_number = "9434765919";
    x->env.person = &x->ids;
}

static void prefs(way_env_t *x)
{
    Joinedreview__V1__ReviewPreferences p = JOINEDREVIEW__V1__REVIEW_PREFERENCES__INIT;
    base(x, "sp-pref-1");
    x->p = p;
    x->p.has_way = 1;
    x->p.way = JOINEDREVIEW__V1__REVIEW_WAY__WAY_WITH_OTHERS;
    x->p.where = "The lounge at Willow Court";
    x->involve[0] = "Dev (son)";
    x->involve[1] = "Key worker";
    x->p.involve = x->involve;
    x->p.n_involve = 2;
    x->needs[0] = JOINEDREVIEW__V1__NEED__NEED_BSL_INTERPRETER;
    x->needs[1] = JOINEDREVIEW__V1__NEED__NEED_EASY_READ;
    x->p.needs = x->needs;
    x->p.n_needs = 2;
    x->p.called = "Asha";
    x->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_PREFERENCES;
    x->env.preferences = &x->p;
}

static void budget(way_env_t *x)
{
    Joinedreview__V1__BudgetStatement b = JOINEDREVIEW__V1__BUDGET_STATEMENT__INIT;
    base(x, "ilf-budget-1");
    x->env.stream = "ILF";
    x->b = b;
    x->b.period_start = "2026-04-01";
    x->b.period_end = "2027-03-31";
    x->b.allocated_pence = "1820000";
    x->b.spent_pence = "1715050";
    x->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_BUDGET;
    x->env.budget = &x->b;
}

static void test_preferences_and_budget_decode(void)
{
    way_env_t x;
    jr_envelope_t ev;
    prefs(&x);
    CU_ASSERT_STRING_EQUAL_FATAL(verdict(&x.env, &ev), "OK");
    CU_ASSERT_EQUAL(ev.event.kind, JR_EVENT_PREFERENCES);
    const jr_preferences_t *p = &ev.event.u.preferences;
    CU_ASSERT_EQUAL(p->way, JR_WAY_WITH_OTHERS);
    CU_ASSERT_EQUAL(p->needs, JR_NEED_BIT(JR_NEED_BSL_INTERPRETER) | JR_NEED_BIT(JR_NEED_EASY_READ));
    CU_ASSERT_EQUAL_FATAL(p->n_involve, 2);
    CU_ASSERT_STRING_EQUAL(p->involve[1], "Key worker");
    CU_ASSERT_STRING_EQUAL(p->where, "The lounge at Willow Court");
    CU_ASSERT_STRING_EQUAL(p->called, "Asha");
    jr_envelope_clear(&ev);
    budget(&x);
    CU_ASSERT_STRING_EQUAL_FATAL(verdict(&x.env, &ev), "OK");
    CU_ASSERT_EQUAL(ev.event.kind, JR_EVENT_BUDGET);
    CU_ASSERT_EQUAL(ev.event.u.budget.allocated_pence, 1820000);
    CU_ASSERT_EQUAL(ev.event.u.budget.spent_pence, 1715050);
    jr_envelope_clear(&ev);
    /* Nothing spent yet is a budget too. */
    x.b.spent_pence = "0";
    CU_ASSERT_STRING_EQUAL(verdict(&x.env, NULL), "OK");
}

/* Packs and decodes, returning the reason sentence as well as the code. */
static const char *why_text(const Joinedreview__V1__Envelope *env, const char **text)
{
    uint8_t buf[8192];
    size_t len = joinedreview__v1__envelope__pack(env, buf);
    static jr_reject_t why;
    jr_envelope_t ev;
    if (jr_envelope_decode(buf, len, g_streams, &g_limits, &ev, &why, NULL, NULL) == 0) {
        jr_envelope_clear(&ev);
        *text = "";
        return "OK";
    }
    *text = why.text;
    return why.code;
}

static void test_bad_person_way_input_each_refused_with_its_reason(void)
{
    way_env_t x;
    const char *text = NULL;
    budget(&x);
    x.b.allocated_pence = "-500";
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "NEGATIVE_AMOUNT");
    CU_ASSERT_STRING_EQUAL(text, "budget.allocated_pence '-500' is negative: amounts are from 0 "
                                 "up (an overspend is spent greater than allocated)");
    budget(&x);
    x.b.spent_pence = "1250.50";
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "NOT_WHOLE_PENCE");
    CU_ASSERT_STRING_EQUAL(text, "budget.spent_pence '1250.50' is not a whole number of pence: "
                                 "send digits only, no point or sign (GBP 1,250.50 is 125050)");
    budget(&x);
    x.b.period_end = "2026-03-31";
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "END_BEFORE_START");
    CU_ASSERT_STRING_EQUAL(text, "budget.period_end 2026-03-31 is before budget.period_start "
                                 "2026-04-01: check both dates");
    budget(&x);
    x.b.period_start = "2026-02-30";
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "IMPOSSIBLE_DATE");
    budget(&x);
    x.b.allocated_pence = NULL;
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "MISSING_FIELD");
    budget(&x);
    x.b.allocated_pence = "1234567890123456";
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "OUT_OF_RANGE");
    prefs(&x);
    x.p.way = 9;
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "UNKNOWN_WAY");
    CU_ASSERT_STRING_EQUAL(text, "preferences.way 9 is not a way of having the review: use "
                                 "WAY_FORMAT_FIRST (the format first, then a meeting), "
                                 "WAY_MEETING or WAY_WITH_OTHERS");
    prefs(&x);
    x.p.has_way = 0;
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "MISSING_FIELD");
    prefs(&x);
    x.needs[1] = 12;
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "UNKNOWN_NEED");
    prefs(&x);
    x.needs[1] = JOINEDREVIEW__V1__NEED__NEED_OTHER_LANGUAGE;
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "MISSING_FIELD"); /* which language? */
    x.p.language = "Gujarati";
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "OK");
    prefs(&x);
    char *nine[9] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    x.p.involve = nine;
    x.p.n_involve = 9;
    CU_ASSERT_STRING_EQUAL(why_text(&x.env, &text), "OUT_OF_RANGE");

    /* A group key of 201 bytes. */
    Joinedreview__V1__Envelope env = JOINEDREVIEW__V1__ENVELOPE__INIT;
    Joinedreview__V1__PersonIds ids = JOINEDREVIEW__V1__PERSON_IDS__INIT;
    Joinedreview__V1__Enrolment e = JOINEDREVIEW__V1__ENROLMENT__INIT;
    char key[202];
    memset(key, 'k', 201);
    key[201] = '\0';
    env.has_schema_version = 1;
    env.schema_version = 1;
    env.stream = "SP";
    env.source_event_id = "sp-e";
    env.has_occurred_at = 1;
    env.occurred_at = T0;
    ids.nhs_number = "9434765919";
    env.person = &ids;
    e.started_on = "2025-02-01";
    e.group_key = key;
    env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_ENROLMENT;
    env.enrolment = &e;
    CU_ASSERT_STRING_EQUAL(why_text(&env, &text), "TEXT_TOO_LONG");
    CU_ASSERT_STRING_EQUAL(text, "enrolment.group_key is 201 bytes long; the most accepted is "
                                 "200: shorten it");
    key[200] = '\0';
    CU_ASSERT_STRING_EQUAL(why_text(&env, &text), "OK");
}

static void test_record_shows_the_way_and_the_pseudonym_leaves_names_out(void)
{
    way_env_t x, y;
    jr_envelope_t p, b;
    prefs(&x);
    budget(&y);
    CU_ASSERT_STRING_EQUAL_FATAL(verdict(&x.env, &p), "OK");
    CU_ASSERT_STRING_EQUAL_FATAL(verdict(&y.env, &b), "OK");
    jr_event_t kept[2] = {p.event, b.event};
    jr_merge_input_t in = {NULL, 0, NULL, 0, kept, 2};
    jr_review_t *r = jr_merge_review(&in, g_streams);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    jr_record_id_t id = {"9434765919", 1, 2, 77};
    uint8_t *bytes = NULL, *alias = NULL;
    size_t len = 0, alias_len = 0;
    CU_ASSERT_EQUAL_FATAL(jr_record_encode_review(r, NULL, NULL, &id, &bytes, &len), 0);
    Joinedreview__V1__ConsolidatedReview *cr =
        joinedreview__v1__consolidated_review__unpack(NULL, len, bytes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cr->preferences);
    CU_ASSERT_EQUAL(cr->preferences->way, JOINEDREVIEW__V1__REVIEW_WAY__WAY_WITH_OTHERS);
    CU_ASSERT_EQUAL(cr->preferences->n_needs, 2);
    CU_ASSERT_STRING_EQUAL(cr->preferences->where, "The lounge at Willow Court");
    CU_ASSERT_STRING_EQUAL(cr->preferences_from->stream, "SP");
    CU_ASSERT_STRING_EQUAL(cr->called, "Asha");
    CU_ASSERT_EQUAL_FATAL(cr->n_budgets, 1);
    CU_ASSERT_STRING_EQUAL(cr->budgets[0]->stream, "ILF");
    CU_ASSERT_EQUAL(cr->budgets[0]->allocated_pence, 1820000);
    CU_ASSERT_EQUAL(cr->budgets[0]->underspend_pence, 104950);
    CU_ASSERT_EQUAL(cr->budgets[0]->rule, JOINEDREVIEW__V1__UNDERSPEND_RULE__UNDERSPEND_NOT_SET);
    joinedreview__v1__consolidated_review__free_unpacked(cr, NULL);

    uint8_t key[JR_PSEUDONYM_KEY_LEN] = {1, 2, 3};
    CU_ASSERT_EQUAL_FATAL(jr_pseudonym_publication("review", bytes, len, key, &alias, &alias_len),
                          0);
    cr = joinedreview__v1__consolidated_review__unpack(NULL, alias_len, alias);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cr->preferences);
    CU_ASSERT_EQUAL(cr->preferences->way, JOINEDREVIEW__V1__REVIEW_WAY__WAY_WITH_OTHERS);
    CU_ASSERT_EQUAL(cr->preferences->n_needs, 2);
    CU_ASSERT_PTR_NULL(cr->preferences->where);
    CU_ASSERT_EQUAL(cr->preferences->n_involve, 0);
    CU_ASSERT_PTR_NULL(cr->preferences->called);
    CU_ASSERT_PTR_NULL(cr->preferences_from);
    CU_ASSERT_PTR_NULL(cr->called);
    CU_ASSERT_EQUAL(cr->n_budgets, 0);
    CU_ASSERT_EQUAL(cr->n_enrolments, 0);
    CU_ASSERT_PTR_NULL(memmem(alias, alias_len, "Asha", 4));
    CU_ASSERT_PTR_NULL(memmem(alias, alias_len, "Willow", 6));
    joinedreview__v1__consolidated_review__free_unpacked(cr, NULL);
    free(alias);
    free(bytes);

    /* A group suggestion names persons and a place: no pseudonymised copy. */
    jr_record_member_t m[2] = {{"9434765919", "Asha", 20783, JR_NEED_BIT(JR_NEED_EASY_READ)},
                               {"9434765870", NULL, 20790, 0}};
    uint64_t replaced = 41;
    jr_record_group_t g = {77, "SP", "Willow Court", 20783, m, 2, &replaced, 1, false};
    CU_ASSERT_EQUAL_FATAL(jr_record_encode_group(&g, &bytes, &len), 0);
    Joinedreview__V1__GroupSuggestion *gs =
        joinedreview__v1__group_suggestion__unpack(NULL, len, bytes);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gs);
    CU_ASSERT_STRING_EQUAL(gs->review_on, "2026-11-26");
    CU_ASSERT_EQUAL(gs->n_members, 2);
    CU_ASSERT_STRING_EQUAL(gs->members[0]->called, "Asha");
    CU_ASSERT_EQUAL(gs->members[0]->needs[0], JOINEDREVIEW__V1__NEED__NEED_EASY_READ);
    CU_ASSERT_EQUAL(gs->replaces[0], 41);
    CU_ASSERT_FALSE(gs->withdrawn);
    joinedreview__v1__group_suggestion__free_unpacked(gs, NULL);
    char topic[64];
    jr_record_group_topic("SP", topic, sizeof topic);
    CU_ASSERT_STRING_EQUAL(topic, "group.SP");
    CU_ASSERT_EQUAL(jr_pseudonym_publication(topic, bytes, len, key, &alias, &alias_len), -1);
    free(bytes);
    jr_merge_destroy(&r);
    jr_envelope_clear(&p);
    jr_envelope_clear(&b);
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
        {"preferences and budget decode", test_preferences_and_budget_decode},
        {"bad person-way input, each refused with its reason",
         test_bad_person_way_input_each_refused_with_its_reason},
        {"the record shows the way; the pseudonym leaves names out",
         test_record_shows_the_way_and_the_pseudonym_leaves_names_out},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"codec", init, clean, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
