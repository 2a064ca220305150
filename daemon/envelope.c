/* envelope.c -- see envelope.h. */
#include "envelope.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "wire.h"

JR_WIRE_TIE(JR_ACK_OK, JOINEDREVIEW__V1__ACK__STATUS__OK);
JR_WIRE_TIE(JR_ACK_DUPLICATE, JOINEDREVIEW__V1__ACK__STATUS__DUPLICATE);
JR_WIRE_TIE(JR_ACK_PARKED, JOINEDREVIEW__V1__ACK__STATUS__PARKED);
JR_WIRE_TIE(JR_ACK_REJECTED, JOINEDREVIEW__V1__ACK__STATUS__REJECTED);
JR_WIRE_TIE(JR_ACK_RETRY_LATER, JOINEDREVIEW__V1__ACK__STATUS__RETRY_LATER);
JR_WIRE_TIE(JR_WAY_FORMAT_FIRST, JOINEDREVIEW__V1__REVIEW_WAY__WAY_FORMAT_FIRST);
JR_WIRE_TIE(JR_WAY_MEETING, JOINEDREVIEW__V1__REVIEW_WAY__WAY_MEETING);
JR_WIRE_TIE(JR_WAY_WITH_OTHERS, JOINEDREVIEW__V1__REVIEW_WAY__WAY_WITH_OTHERS);
JR_WIRE_TIE(JR_NEED_LARGE_PRINT, JOINEDREVIEW__V1__NEED__NEED_LARGE_PRINT);
JR_WIRE_TIE(JR_NEED_EASY_READ, JOINEDREVIEW__V1__NEED__NEED_EASY_READ);
JR_WIRE_TIE(JR_NEED_BSL_INTERPRETER, JOINEDREVIEW__V1__NEED__NEED_BSL_INTERPRETER);
JR_WIRE_TIE(JR_NEED_OTHER_LANGUAGE, JOINEDREVIEW__V1__NEED__NEED_OTHER_LANGUAGE);
JR_WIRE_TIE(JR_NEED_ADVOCATE, JOINEDREVIEW__V1__NEED__NEED_ADVOCATE);
JR_WIRE_TIE(JR_NEED_BRAILLE, JOINEDREVIEW__V1__NEED__NEED_BRAILLE);
JR_WIRE_TIE(JR_NEED_AUDIO, JOINEDREVIEW__V1__NEED__NEED_AUDIO);

/* The largest amount accepted: 15 digits of pence (ten trillion pounds). */
#define PENCE_DIGITS_MAX 15

/* 1990-01-01T00:00:00Z: nothing in a review history is older. */
#define OLDEST_MS 631152000000LL

static int reject(jr_reject_t *why, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reject(jr_reject_t *why, const char *code, const char *fmt, ...)
{
    why->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->text, sizeof why->text, fmt, ap);
    va_end(ap);
    return -1;
}

/* A short, printable excerpt of untrusted text for a reason sentence. */
static void excerpt(const char *s, char out[41])
{
    size_t i = 0;
    for (; s[i] != '\0' && i < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[i] = '\0';
}

static int check_text(const char *field, const char *s, size_t max, jr_reject_t *why)
{
    if (s == NULL) {
        return 0;
    }
    size_t len = strlen(s);
    if (len > max) {
        return reject(why, "TEXT_TOO_LONG",
                      "%s is %zu bytes long; the most accepted is %zu: shorten it", field, len,
                      max);
    }
    if (!jr_text_valid_utf8(s, len)) {
        return reject(
            why, "BAD_TEXT",
            "%s is not valid UTF-8 text (or holds control characters): re-encode it as UTF-8",
            field);
    }
    return 0;
}

/* A date field: absent is allowed unless required. */
static int check_date(const char *field, const char *s, bool required, jr_day_t *out,
                      jr_reject_t *why)
{
    *out = JR_DAY_NONE;
    if (s == NULL || s[0] == '\0') {
        if (required) {
            return reject(why, "MISSING_FIELD", "%s is missing: give the date as YYYY-MM-DD",
                          field);
        }
        return 0;
    }
    if (jr_text_parse_date(s, out) != 0) {
        char ex[41];
        excerpt(s, ex);
        return reject(why, "IMPOSSIBLE_DATE",
                      "%s '%s' is not a real calendar date in the form YYYY-MM-DD", field, ex);
    }
    return 0;
}

static int decode_contribution(const Joinedreview__V1__Contribution *c, size_t max_text,
                               jr_contribution_t *out, jr_reject_t *why)
{
    if (!c->has_topic) {
        return reject(why, "MISSING_FIELD", "contribution.topic is missing: name the topic");
    }
    if (!jr_format_topic_valid((int)c->topic)) {
        return reject(why, "UNKNOWN_TOPIC",
                      "contribution.topic %d is not a topic of the review format: use one of "
                      "SUPPORT ... OTHER",
                      (int)c->topic);
    }
    if (!c->has_author_role) {
        return reject(why, "MISSING_FIELD",
                      "contribution.author_role is missing: say who wrote it");
    }
    if (!jr_format_role_valid((int)c->author_role)) {
        return reject(why, "UNKNOWN_ROLE",
                      "contribution.author_role %d is not a known role: use PERSON, CARER, "
                      "COUNCIL, STREAM_OFFICER, PROVIDER or ADVOCATE",
                      (int)c->author_role);
    }
    if (c->has_priority && !jr_format_priority_valid((int)c->priority)) {
        return reject(why, "UNKNOWN_PRIORITY",
                      "contribution.priority %d is not RED, AMBER, GREEN or NOT_GIVEN",
                      (int)c->priority);
    }
    if (check_text("contribution.working", c->working, max_text, why) != 0 ||
        check_text("contribution.not_working", c->not_working, max_text, why) != 0 ||
        check_text("contribution.author_name", c->author_name, JR_NAME_MAX, why) != 0) {
        return -1;
    }
    bool no_change = c->has_no_change && c->no_change;
    bool said = (c->working && c->working[0]) || (c->not_working && c->not_working[0]) ||
                (c->has_priority && c->priority != JOINEDREVIEW__V1__PRIORITY__NOT_GIVEN);
    if (!no_change && !said) {
        return reject(why, "EMPTY_CONTRIBUTION",
                      "the contribution says nothing: give what is working, what is not working, "
                      "a priority, or set no_change");
    }
    out->topic = (jr_topic_t)c->topic;
    out->role = (jr_role_t)c->author_role;
    out->working = c->working;
    out->not_working = c->not_working;
    out->author_name = c->author_name;
    out->priority = c->has_priority ? (jr_priority_t)c->priority : JR_PRIORITY_NOT_GIVEN;
    out->no_change = no_change;
    return 0;
}

static int decode_enrolment(const Joinedreview__V1__Enrolment *e, jr_enrolment_t *out,
                            jr_reject_t *why)
{
    if (check_date("enrolment.started_on", e->started_on, true, &out->started_on, why) != 0 ||
        check_date("enrolment.ended_on", e->ended_on, false, &out->ended_on, why) != 0 ||
        check_date("enrolment.last_review_on", e->last_review_on, false, &out->last_review_on,
                   why) != 0 ||
        check_date("enrolment.award_ends_on", e->award_ends_on, false, &out->award_ends_on, why) !=
            0 ||
        check_text("enrolment.stream_reference", e->stream_reference, JR_NAME_MAX, why) != 0 ||
        check_text("enrolment.known_as", e->known_as, JR_NAME_MAX, why) != 0 ||
        check_text("enrolment.group_key", e->group_key, JR_NAME_MAX, why) != 0) {
        return -1;
    }
    if (out->ended_on != JR_DAY_NONE && out->ended_on < out->started_on) {
        return reject(why, "IMPOSSIBLE_DATE",
                      "enrolment.ended_on is before enrolment.started_on: check both dates");
    }
    if (out->award_ends_on != JR_DAY_NONE && out->award_ends_on < out->started_on) {
        return reject(why, "IMPOSSIBLE_DATE",
                      "enrolment.award_ends_on is before enrolment.started_on: check both dates");
    }
    if (e->has_review_interval_days &&
        (e->review_interval_days < 1 || e->review_interval_days > 3650)) {
        return reject(why, "OUT_OF_RANGE",
                      "enrolment.review_interval_days %u is not between 1 and 3650",
                      e->review_interval_days);
    }
    out->interval_days = e->has_review_interval_days ? e->review_interval_days : 0;
    out->reference = e->stream_reference;
    out->known_as = e->known_as != NULL && e->known_as[0] != '\0' ? e->known_as : NULL;
    out->group_key = e->group_key != NULL && e->group_key[0] != '\0' ? e->group_key : NULL;
    return 0;
}

static int decode_preferences(const Joinedreview__V1__ReviewPreferences *p, jr_preferences_t *out,
                              jr_reject_t *why)
{
    if (!p->has_way) {
        return reject(why, "MISSING_FIELD",
                      "preferences.way is missing: say how the person wants their review "
                      "(WAY_FORMAT_FIRST, WAY_MEETING or WAY_WITH_OTHERS)");
    }
    if (!jr_way_valid((int)p->way)) {
        return reject(why, "UNKNOWN_WAY",
                      "preferences.way %d is not a way of having the review: use "
                      "WAY_FORMAT_FIRST (the format first, then a meeting), WAY_MEETING or "
                      "WAY_WITH_OTHERS",
                      (int)p->way);
    }
    for (size_t i = 0; i < p->n_needs; i++) {
        if (!jr_need_valid((int)p->needs[i])) {
            return reject(why, "UNKNOWN_NEED",
                          "preferences.needs holds %d, which is not a need the daemon knows: use "
                          "NEED_LARGE_PRINT, NEED_EASY_READ, NEED_BSL_INTERPRETER, "
                          "NEED_OTHER_LANGUAGE, NEED_ADVOCATE, NEED_BRAILLE or NEED_AUDIO",
                          (int)p->needs[i]);
        }
        out->needs |= JR_NEED_BIT(p->needs[i]);
    }
    if (p->n_involve > JR_INVOLVE_MAX) {
        return reject(why, "OUT_OF_RANGE",
                      "preferences.involve names %zu people; the most accepted is %d: name the "
                      "few the person wants most",
                      p->n_involve, JR_INVOLVE_MAX);
    }
    for (size_t i = 0; i < p->n_involve; i++) {
        if (check_text("preferences.involve", p->involve[i], JR_NAME_MAX, why) != 0) {
            return -1;
        }
        out->involve[out->n_involve++] = p->involve[i];
    }
    if (check_text("preferences.where", p->where, JR_NAME_MAX, why) != 0 ||
        check_text("preferences.language", p->language, JR_NAME_MAX, why) != 0 ||
        check_text("preferences.called", p->called, JR_NAME_MAX, why) != 0) {
        return -1;
    }
    if ((out->needs & JR_NEED_BIT(JR_NEED_OTHER_LANGUAGE)) &&
        (p->language == NULL || p->language[0] == '\0')) {
        return reject(why, "MISSING_FIELD",
                      "preferences.language is missing: with NEED_OTHER_LANGUAGE, name the "
                      "language");
    }
    out->way = (jr_way_t)p->way;
    out->where = p->where != NULL && p->where[0] != '\0' ? p->where : NULL;
    out->language = p->language != NULL && p->language[0] != '\0' ? p->language : NULL;
    out->called = p->called != NULL && p->called[0] != '\0' ? p->called : NULL;
    return 0;
}

/* An amount of whole pence, written as decimal digits. */
static int check_pence(const char *field, const char *s, int64_t *out, jr_reject_t *why)
{
    char ex[41];
    if (s == NULL || s[0] == '\0') {
        return reject(why, "MISSING_FIELD",
                      "%s is missing: give the amount in whole pence, e.g. 1250000 for "
                      "GBP 12,500.00",
                      field);
    }
    excerpt(s, ex);
    if (s[0] == '-') {
        return reject(why, "NEGATIVE_AMOUNT",
                      "%s '%s' is negative: amounts are from 0 up (an overspend is spent "
                      "greater than allocated)",
                      field, ex);
    }
    size_t len = strlen(s);
    if (strspn(s, "0123456789") != len) {
        return reject(why, "NOT_WHOLE_PENCE",
                      "%s '%s' is not a whole number of pence: send digits only, no point or "
                      "sign (GBP 1,250.50 is 125050)",
                      field, ex);
    }
    if (len > PENCE_DIGITS_MAX) {
        return reject(why, "OUT_OF_RANGE", "%s '%s' is more than %d digits of pence: check it",
                      field, ex, PENCE_DIGITS_MAX);
    }
    *out = strtoll(s, NULL, 10);
    return 0;
}

static int decode_budget(const Joinedreview__V1__BudgetStatement *b, jr_budget_t *out,
                         jr_reject_t *why)
{
    if (check_date("budget.period_start", b->period_start, true, &out->period_start, why) != 0 ||
        check_date("budget.period_end", b->period_end, true, &out->period_end, why) != 0) {
        return -1;
    }
    if (out->period_end < out->period_start) {
        return reject(why, "END_BEFORE_START",
                      "budget.period_end %s is before budget.period_start %s: check both dates",
                      b->period_end, b->period_start);
    }
    if (check_pence("budget.allocated_pence", b->allocated_pence, &out->allocated_pence, why) !=
            0 ||
        check_pence("budget.spent_pence", b->spent_pence, &out->spent_pence, why) != 0) {
        return -1;
    }
    return 0;
}

static int decode_plan(const Joinedreview__V1__PlanRevision *p, jr_plan_revision_t *out,
                       jr_reject_t *why)
{
    if (check_date("plan_revision.revise_by", p->revise_by, false, &out->revise_by, why) != 0 ||
        check_text("plan_revision.revised_by", p->revised_by, JR_NAME_MAX, why) != 0 ||
        check_text("plan_revision.approver", p->approver, JR_NAME_MAX, why) != 0) {
        return -1;
    }
    out->revised_by = p->revised_by;
    out->has_approval_needed = p->has_approval_needed;
    out->approval_needed = p->has_approval_needed && p->approval_needed;
    out->approver = p->approver;
    return 0;
}

static int decode_ids(const Joinedreview__V1__PersonIds *ids, jr_envelope_t *out, jr_reject_t *why)
{
    if (ids == NULL || ((ids->nhs_number == NULL || ids->nhs_number[0] == '\0') &&
                        (ids->ni_number == NULL || ids->ni_number[0] == '\0') &&
                        (ids->local_id == NULL || ids->local_id[0] == '\0'))) {
        return reject(why, "MISSING_IDENTIFIER",
                      "the envelope names nobody: give an NHS number, NI number or the stream's "
                      "client id");
    }
    if (check_text("person.nhs_number", ids->nhs_number, 40, why) != 0 ||
        check_text("person.ni_number", ids->ni_number, 40, why) != 0 ||
        check_text("person.local_id", ids->local_id, JR_NAME_MAX, why) != 0) {
        return -1;
    }
    if (ids->nhs_number != NULL && ids->nhs_number[0] != '\0') {
        jr_nhs_status_t st = jr_nhs_normalise(ids->nhs_number, out->nhs);
        if (st == JR_NHS_PLACEHOLDER) {
            char ex[41];
            excerpt(ids->nhs_number, ex);
            return reject(why, "PLACEHOLDER_NHS_NUMBER",
                          "NHS number '%s' looks like a placeholder for 'not known' (all ten "
                          "digits are the same): send the person's real NHS number, or leave it "
                          "out and give their NI number or your client id",
                          ex);
        }
        if (st != JR_NHS_OK) {
            char ex[41];
            excerpt(ids->nhs_number, ex);
            return reject(why, "INVALID_NHS_NUMBER",
                          "NHS number '%s' is not valid: %s; check it against the person's "
                          "record",
                          ex, jr_nhs_status_text(st));
        }
    }
    if (ids->ni_number != NULL && ids->ni_number[0] != '\0' &&
        !jr_nhs_nino_normalise(ids->ni_number, out->nino)) {
        char ex[41];
        excerpt(ids->ni_number, ex);
        return reject(why, "INVALID_NI_NUMBER",
                      "NI number '%s' is not valid: two letters, six digits and A, B, C or D", ex);
    }
    out->local_id = (ids->local_id != NULL && ids->local_id[0] != '\0') ? ids->local_id : NULL;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int jr_envelope_decode(const uint8_t *buf, size_t len, const jr_streams_t *streams,
                       const jr_envelope_limits_t *limits, jr_envelope_t *out, jr_reject_t *why,
                       char **ids_stream, char **ids_seid)
{
    memset(out, 0, sizeof *out);
    Joinedreview__V1__Envelope *env = joinedreview__v1__envelope__unpack(NULL, len, buf);
    if (env == NULL) {
        return reject(why, "NOT_PROTOBUF",
                      "the message is not a joinedreview.v1.Envelope: send one packed Envelope "
                      "per message");
    }
    int rc = -1;
    char nul_field[96] = "";
    if (jr_wire_find_nul(&joinedreview__v1__envelope__descriptor, buf, len, nul_field,
                         sizeof nul_field) == 1) {
        reject(why, "BAD_TEXT",
               "%s holds a NUL byte: text must be UTF-8 without NUL bytes; remove it and resend",
               nul_field);
        /* The keys are not echoed: cut at the NUL, they would name another
         * event. */
        goto done;
    }
    /* Echo the keys only when they are printable text, for the ack. */
    if (ids_stream && env->stream && strlen(env->stream) < 64 &&
        jr_text_valid_utf8(env->stream, strlen(env->stream))) {
        *ids_stream = dup_or_null(env->stream);
    }
    if (ids_seid && env->source_event_id &&
        strlen(env->source_event_id) <= JR_SOURCE_EVENT_ID_MAX &&
        jr_text_valid_utf8(env->source_event_id, strlen(env->source_event_id))) {
        *ids_seid = dup_or_null(env->source_event_id);
    }

    if (!env->has_schema_version) {
        reject(why, "MISSING_FIELD", "schema_version is missing: this daemon speaks version %d",
               JR_SCHEMA_VERSION);
        goto done;
    }
    if (env->schema_version != JR_SCHEMA_VERSION) {
        reject(why, "UNKNOWN_SCHEMA_VERSION",
               "schema_version %u is not supported: this daemon speaks version %d",
               env->schema_version, JR_SCHEMA_VERSION);
        goto done;
    }
    if (env->stream == NULL || env->stream[0] == '\0') {
        reject(why, "MISSING_FIELD", "stream is missing: give the funding stream's code");
        goto done;
    }
    const jr_stream_t *stream = jr_streams_find(streams, env->stream);
    if (stream == NULL || !stream->enabled) {
        char ex[41];
        excerpt(env->stream, ex);
        reject(why, "UNKNOWN_STREAM",
               "stream '%s' is not a funding stream this daemon accepts: check the adapter's "
               "stream code or the daemon's [stream.%s] configuration",
               ex, ex);
        goto done;
    }
    if (env->source_event_id == NULL || env->source_event_id[0] == '\0') {
        reject(why, "MISSING_FIELD",
               "source_event_id is missing: give each event a key unique within its stream");
        goto done;
    }
    if (check_text("source_event_id", env->source_event_id, JR_SOURCE_EVENT_ID_MAX, why) != 0) {
        goto done;
    }
    if (!env->has_occurred_at) {
        reject(why, "MISSING_FIELD",
               "occurred_at is missing: give when it happened, in ms since 1970 UTC");
        goto done;
    }
    if (env->occurred_at < OLDEST_MS ||
        env->occurred_at > limits->now_ms + limits->future_tolerance_ms) {
        reject(why, "IMPOSSIBLE_TIME",
               "occurred_at %lld is before 1990 or in the future: send ms since 1970 UTC",
               (long long)env->occurred_at);
        goto done;
    }
    if (decode_ids(env->person, out, why) != 0) {
        goto done;
    }
    jr_event_t *ev = &out->event;
    ev->stream = env->stream;
    ev->source_event_id = env->source_event_id;
    ev->occurred_at_ms = env->occurred_at;
    switch (env->body_case) {
    case JOINEDREVIEW__V1__ENVELOPE__BODY_CONTRIBUTION:
        ev->kind = JR_EVENT_CONTRIBUTION;
        rc = decode_contribution(env->contribution, limits->max_text_bytes, &ev->u.contribution,
                                 why);
        break;
    case JOINEDREVIEW__V1__ENVELOPE__BODY_ENROLMENT:
        ev->kind = JR_EVENT_ENROLMENT;
        rc = decode_enrolment(env->enrolment, &ev->u.enrolment, why);
        break;
    case JOINEDREVIEW__V1__ENVELOPE__BODY_REVIEW_HELD:
        ev->kind = JR_EVENT_REVIEW_HELD;
        rc = check_date("review_held.held_on", env->review_held->held_on, true,
                        &ev->u.review_held.held_on, why);
        break;
    case JOINEDREVIEW__V1__ENVELOPE__BODY_PLAN_REVISION:
        ev->kind = JR_EVENT_PLAN_REVISION;
        rc = decode_plan(env->plan_revision, &ev->u.plan_revision, why);
        break;
    case JOINEDREVIEW__V1__ENVELOPE__BODY_PREFERENCES:
        ev->kind = JR_EVENT_PREFERENCES;
        rc = decode_preferences(env->preferences, &ev->u.preferences, why);
        break;
    case JOINEDREVIEW__V1__ENVELOPE__BODY_BUDGET:
        ev->kind = JR_EVENT_BUDGET;
        rc = decode_budget(env->budget, &ev->u.budget, why);
        break;
    default:
        reject(why, "NO_BODY",
               "the envelope has no body: send exactly one of enrolment, contribution, "
               "review_held, plan_revision, preferences or budget");
        break;
    }
done:
    if (rc == 0) {
        out->priv = env;
    } else {
        joinedreview__v1__envelope__free_unpacked(env, NULL);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

void jr_envelope_clear(jr_envelope_t *ev)
{
    if (ev == NULL) {
        return;
    }
    if (ev->priv != NULL) {
        joinedreview__v1__envelope__free_unpacked(ev->priv, NULL);
    }
    memset(ev, 0, sizeof *ev);
}

int jr_envelope_encode_ack(const char *stream, const char *seid, jr_ack_status_t status,
                           const char *code, const char *reason, uint8_t **out, size_t *len)
{
    Joinedreview__V1__Ack ack = JOINEDREVIEW__V1__ACK__INIT;
    ack.stream = (char *)stream;
    ack.source_event_id = (char *)seid;
    ack.has_status = 1;
    ack.status = (Joinedreview__V1__Ack__Status)status;
    ack.reason_code = (char *)code;
    ack.reason = (char *)reason;
    const jr_wire_arena_t none = {0};
    return jr_wire_pack(&none, &ack.base, out, len);
}
