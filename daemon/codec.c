/* codec.c -- see codec.h. */
#include "codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joinedreview/joinedreview.pb-c.h"
#include "text.h"

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
        check_text("enrolment.stream_reference", e->stream_reference, JR_NAME_MAX, why) != 0) {
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

static int decode_ids(const Joinedreview__V1__PersonIds *ids, jr_codec_event_t *out,
                      jr_reject_t *why)
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

/* ---- NUL bytes inside strings ---------------------------------------- */

/* protobuf-c hands strings to C NUL-terminated: "a\0b" would arrive as
 * "a", so two different ids could compare equal and text after the NUL would
 * vanish from the review. The wire bytes are walked with the message's own
 * descriptor, and a string field (at any depth) holding a NUL is found
 * before anything reads the decoded message. */

enum { WIRE_MAX_DEPTH = 8 }; /* the contract's messages nest three deep */

static bool wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* 1 and the field's dotted path in `path` when a string holds a NUL; 0 when
 * none does; -1 when the bytes are not the message (unpack decides why). */
static int wire_find_nul(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                         int depth, char *path, size_t pathlen)
{
    const uint8_t *p = buf, *end = buf + len;
    while (p < end) {
        uint64_t key = 0, n = 0;
        if (!wire_varint(&p, end, &key)) {
            return -1;
        }
        switch (key & 7) {
        case 0:
            if (!wire_varint(&p, end, &n)) {
                return -1;
            }
            continue;
        case 1:
        case 5: {
            size_t w = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < w) {
                return -1;
            }
            p += w;
            continue;
        }
        case 2:
            break;
        default:
            return -1; /* groups are not in the contract */
        }
        if (!wire_varint(&p, end, &n) || n > (uint64_t)(end - p)) {
            return -1;
        }
        const ProtobufCFieldDescriptor *f =
            key >> 3 <= UINT32_MAX
                ? protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3))
                : NULL; /* unknown fields are skipped */
        if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, (size_t)n) != NULL) {
            snprintf(path, pathlen, "%s", f->name);
            return 1;
        }
        if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < WIRE_MAX_DEPTH) {
            char inner[96] = "";
            int found = wire_find_nul(f->descriptor, p, (size_t)n, depth + 1, inner, sizeof inner);
            if (found != 0) {
                snprintf(path, pathlen, "%s.%s", f->name, inner); /* "person.nhs_number" */
                return found;
            }
        }
        p += n;
    }
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int jr_codec_decode(const uint8_t *buf, size_t len, const jr_streams_t *streams,
                    const jr_codec_limits_t *limits, jr_codec_event_t *out, jr_reject_t *why,
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
    if (wire_find_nul(&joinedreview__v1__envelope__descriptor, buf, len, 0, nul_field,
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
    default:
        reject(why, "NO_BODY",
               "the envelope has no body: send exactly one of enrolment, contribution, "
               "review_held or plan_revision");
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

void jr_codec_event_clear(jr_codec_event_t *ev)
{
    if (ev == NULL) {
        return;
    }
    if (ev->priv != NULL) {
        joinedreview__v1__envelope__free_unpacked(ev->priv, NULL);
    }
    memset(ev, 0, sizeof *ev);
}

int jr_codec_encode_ack(const char *stream, const char *seid, jr_ack_status_t status,
                        const char *code, const char *reason, uint8_t **out, size_t *len)
{
    Joinedreview__V1__Ack ack = JOINEDREVIEW__V1__ACK__INIT;
    ack.stream = (char *)stream;
    ack.source_event_id = (char *)seid;
    ack.has_status = 1;
    ack.status = (Joinedreview__V1__Ack__Status)status;
    ack.reason_code = (char *)code;
    ack.reason = (char *)reason;
    *len = joinedreview__v1__ack__get_packed_size(&ack);
    *out = malloc(*len ? *len : 1);
    if (*out == NULL) {
        return -1;
    }
    joinedreview__v1__ack__pack(&ack, *out);
    return 0;
}

/* ---- consolidated review ------------------------------------------------ */

/* Everything the packed message points at is allocated from one arena so
 * that one free releases it. */
typedef struct {
    void **blocks;
    size_t n, cap;
    bool failed;
} arena_t;

static void *arena_alloc(arena_t *a, size_t size)
{
    if (a->failed) {
        return NULL;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        void **blocks = realloc(a->blocks, cap * sizeof *blocks);
        if (blocks == NULL) {
            a->failed = true;
            return NULL;
        }
        a->blocks = blocks;
        a->cap = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (p == NULL) {
        a->failed = true;
        return NULL;
    }
    a->blocks[a->n++] = p;
    return p;
}

static void arena_free(arena_t *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->blocks[i]);
    }
    free(a->blocks);
}

static char *arena_date(arena_t *a, jr_day_t day)
{
    if (day == JR_DAY_NONE) {
        return NULL;
    }
    char *s = arena_alloc(a, 11);
    if (s != NULL) {
        jr_text_format_date(day, s);
    }
    return s;
}

static Joinedreview__V1__Topic *topic_list(arena_t *a, jr_topic_set_t set, size_t *n)
{
    Joinedreview__V1__Topic *list = arena_alloc(a, sizeof *list * (JR_TOPIC_LAST + 1));
    *n = 0;
    if (list == NULL) {
        return NULL;
    }
    for (int t = JR_TOPIC_FIRST; t <= JR_TOPIC_LAST; t++) {
        if (set & JR_TOPIC_BIT(t)) {
            list[(*n)++] = (Joinedreview__V1__Topic)t;
        }
    }
    return list;
}

static Joinedreview__V1__Statement *encode_statement(arena_t *a, const jr_event_t *ev)
{
    Joinedreview__V1__Statement *st = arena_alloc(a, sizeof *st);
    Joinedreview__V1__Provenance *pv = arena_alloc(a, sizeof *pv);
    if (st == NULL || pv == NULL) {
        return NULL;
    }
    const jr_contribution_t *c = &ev->u.contribution;
    *pv = (Joinedreview__V1__Provenance)JOINEDREVIEW__V1__PROVENANCE__INIT;
    pv->stream = (char *)ev->stream;
    pv->has_author_role = 1;
    pv->author_role = (Joinedreview__V1__Role)c->role;
    pv->has_occurred_at = 1;
    pv->occurred_at = ev->occurred_at_ms;
    pv->source_event_id = (char *)ev->source_event_id;
    pv->author_name = (char *)c->author_name;
    *st = (Joinedreview__V1__Statement)JOINEDREVIEW__V1__STATEMENT__INIT;
    st->has_topic = 1;
    st->topic = (Joinedreview__V1__Topic)c->topic;
    st->working = (char *)c->working;
    st->not_working = (char *)c->not_working;
    st->has_priority = 1;
    st->priority = (Joinedreview__V1__Priority)c->priority;
    st->has_no_change = 1;
    st->no_change = c->no_change;
    st->provenance = pv;
    return st;
}

static Joinedreview__V1__Area *encode_area(arena_t *a, const jr_area_t *area)
{
    Joinedreview__V1__Area *out = arena_alloc(a, sizeof *out);
    if (out == NULL) {
        return NULL;
    }
    *out = (Joinedreview__V1__Area)JOINEDREVIEW__V1__AREA__INIT;
    out->has_number = 1;
    out->number = (uint32_t)area->number;
    out->title = (char *)jr_format_area_title(area->number);
    out->n_statements = area->n_statements;
    out->statements = arena_alloc(a, sizeof *out->statements * area->n_statements);
    for (size_t i = 0; out->statements && i < area->n_statements; i++) {
        out->statements[i] = encode_statement(a, area->statements[i].event);
    }
    out->has_priority = 1;
    out->priority = (Joinedreview__V1__Priority)area->priority;
    out->has_priority_from_person = 1;
    out->priority_from_person = area->priority_from_person;
    out->has_conflict = 1;
    out->conflict = area->conflict;
    out->n_conflict_views = area->n_views;
    out->conflict_views = arena_alloc(a, sizeof *out->conflict_views * area->n_views);
    for (size_t i = 0; out->conflict_views && i < area->n_views; i++) {
        Joinedreview__V1__PriorityView *v = arena_alloc(a, sizeof *v);
        if (v == NULL) {
            break;
        }
        *v = (Joinedreview__V1__PriorityView)JOINEDREVIEW__V1__PRIORITY_VIEW__INIT;
        v->stream = (char *)area->views[i].stream;
        v->has_author_role = 1;
        v->author_role = (Joinedreview__V1__Role)area->views[i].role;
        v->has_topic = 1;
        v->topic = (Joinedreview__V1__Topic)area->views[i].topic;
        v->has_priority = 1;
        v->priority = (Joinedreview__V1__Priority)area->views[i].priority;
        out->conflict_views[i] = v;
    }
    return out;
}

static Joinedreview__V1__Schedule *encode_schedule(arena_t *a, const jr_schedule_t *sched)
{
    Joinedreview__V1__Schedule *out = arena_alloc(a, sizeof *out);
    if (out == NULL) {
        return NULL;
    }
    *out = (Joinedreview__V1__Schedule)JOINEDREVIEW__V1__SCHEDULE__INIT;
    out->review_on = arena_date(a, sched->review_on);
    out->lead = sched->lead ? (char *)sched->lead->code : NULL;
    out->streams = arena_alloc(a, sizeof *out->streams * sched->n_streams);
    out->covered_streams = arena_alloc(a, sizeof *out->covered_streams * sched->n_streams);
    for (size_t i = 0; out->streams && out->covered_streams && i < sched->n_streams; i++) {
        const jr_stream_due_t *d = &sched->streams[i];
        Joinedreview__V1__StreamSchedule *ss = arena_alloc(a, sizeof *ss);
        if (ss == NULL) {
            break;
        }
        *ss = (Joinedreview__V1__StreamSchedule)JOINEDREVIEW__V1__STREAM_SCHEDULE__INIT;
        ss->stream = (char *)d->stream->code;
        ss->next_due_on = arena_date(a, d->due);
        ss->last_review_on = arena_date(a, d->last_review);
        ss->has_drives_date = 1;
        ss->drives_date = d->drives;
        ss->has_covered = 1;
        ss->covered = d->covered;
        out->streams[out->n_streams++] = ss;
        if (d->covered) {
            out->covered_streams[out->n_covered_streams++] = (char *)d->stream->code;
        }
    }
    return out;
}

int jr_codec_encode_review(const jr_review_t *review, const jr_schedule_t *schedule,
                           const jr_record_id_t *id, uint8_t **out, size_t *len)
{
    arena_t a = {0};
    Joinedreview__V1__ConsolidatedReview cr = JOINEDREVIEW__V1__CONSOLIDATED_REVIEW__INIT;
    cr.nhs_number = (char *)id->nhs_number;
    cr.has_cycle = 1;
    cr.cycle = id->cycle;
    cr.has_version = 1;
    cr.version = id->version;
    cr.has_sequence = 1;
    cr.sequence = id->sequence;

    cr.n_areas = JR_AREA_COUNT;
    cr.areas = arena_alloc(&a, sizeof *cr.areas * JR_AREA_COUNT);
    for (size_t i = 0; cr.areas && i < JR_AREA_COUNT; i++) {
        cr.areas[i] = encode_area(&a, &review->areas[i]);
    }
    cr.n_enrolled_streams = review->n_streams;
    cr.enrolled_streams = arena_alloc(&a, sizeof *cr.enrolled_streams * review->n_streams);
    cr.n_completeness = review->n_streams;
    cr.completeness = arena_alloc(&a, sizeof *cr.completeness * review->n_streams);
    for (size_t i = 0; cr.completeness && cr.enrolled_streams && i < review->n_streams; i++) {
        const jr_stream_status_t *s = &review->streams[i];
        Joinedreview__V1__StreamCompleteness *sc = arena_alloc(&a, sizeof *sc);
        if (sc == NULL) {
            break;
        }
        *sc = (Joinedreview__V1__StreamCompleteness)JOINEDREVIEW__V1__STREAM_COMPLETENESS__INIT;
        sc->stream = (char *)s->stream->code;
        sc->covered = topic_list(&a, s->covered, &sc->n_covered);
        sc->missing = topic_list(&a, s->missing, &sc->n_missing);
        sc->has_complete = 1;
        sc->complete = s->missing == 0;
        cr.completeness[i] = sc;
        cr.enrolled_streams[i] = (char *)s->stream->code;
    }
    cr.has_ready_for_sign_off = 1;
    cr.ready_for_sign_off = review->ready_for_sign_off;
    Joinedreview__V1__PlanRevision plan = JOINEDREVIEW__V1__PLAN_REVISION__INIT;
    if (review->plan_revision != NULL) {
        const jr_plan_revision_t *p = &review->plan_revision->u.plan_revision;
        plan.revise_by = arena_date(&a, p->revise_by);
        plan.revised_by = (char *)p->revised_by;
        plan.has_approval_needed = p->has_approval_needed;
        plan.approval_needed = p->approval_needed;
        plan.approver = (char *)p->approver;
        cr.plan_revision = &plan;
    }
    if (review->review_held != NULL) {
        cr.held_on = arena_date(&a, review->review_held->u.review_held.held_on);
    }
    cr.as_of = arena_date(&a, review->as_of);
    if (schedule != NULL) {
        cr.schedule = encode_schedule(&a, schedule);
    }

    int rc = -1;
    if (!a.failed) {
        *len = joinedreview__v1__consolidated_review__get_packed_size(&cr);
        *out = malloc(*len ? *len : 1);
        if (*out != NULL) {
            joinedreview__v1__consolidated_review__pack(&cr, *out);
            rc = 0;
        }
    }
    arena_free(&a);
    return rc;
}

static const char *notice_kind_word(jr_notice_kind_t kind)
{
    switch (kind) {
    case JR_NOTICE_LEAD:
        return "lead";
    case JR_NOTICE_DUE:
        return "due";
    case JR_NOTICE_OVERDUE:
        return "overdue";
    }
    return "unknown";
}

void jr_codec_notice_topic(const jr_notice_t *notice, const jr_schedule_t *schedule, char *out,
                           size_t outlen)
{
    snprintf(out, outlen, "notice.%s.%s", notice_kind_word(notice->kind),
             schedule->lead ? schedule->lead->code : "NONE");
}

int jr_codec_encode_notice(const jr_notice_t *notice, const jr_schedule_t *schedule,
                           const jr_review_t *review, const jr_record_id_t *id, uint8_t **out,
                           size_t *len)
{
    arena_t a = {0};
    Joinedreview__V1__DueNotice dn = JOINEDREVIEW__V1__DUE_NOTICE__INIT;
    dn.nhs_number = (char *)id->nhs_number;
    dn.has_cycle = 1;
    dn.cycle = id->cycle;
    dn.has_kind = 1;
    dn.kind = (Joinedreview__V1__DueNotice__Kind)notice->kind;
    dn.has_number = 1;
    dn.number = notice->number;
    dn.key = (char *)notice->key;
    dn.notice_on = arena_date(&a, notice->on);
    dn.review_on = arena_date(&a, schedule->review_on);
    dn.lead = schedule->lead ? (char *)schedule->lead->code : NULL;
    dn.has_sequence = 1;
    dn.sequence = id->sequence;
    dn.covered_streams = arena_alloc(&a, sizeof *dn.covered_streams * schedule->n_streams);
    dn.missing_information = arena_alloc(&a, sizeof *dn.missing_information * schedule->n_streams);
    for (size_t i = 0; dn.covered_streams && dn.missing_information && i < schedule->n_streams;
         i++) {
        const jr_stream_due_t *d = &schedule->streams[i];
        if (!d->covered) {
            continue;
        }
        dn.covered_streams[dn.n_covered_streams++] = (char *)d->stream->code;
        /* Missing unless the review shows the stream complete. */
        bool complete = false;
        for (size_t j = 0; review != NULL && j < review->n_streams; j++) {
            if (review->streams[j].stream == d->stream) {
                complete = review->streams[j].missing == 0;
            }
        }
        if (!complete) {
            dn.missing_information[dn.n_missing_information++] = (char *)d->stream->code;
        }
    }
    int rc = -1;
    if (!a.failed) {
        *len = joinedreview__v1__due_notice__get_packed_size(&dn);
        *out = malloc(*len ? *len : 1);
        if (*out != NULL) {
            joinedreview__v1__due_notice__pack(&dn, *out);
            rc = 0;
        }
    }
    arena_free(&a);
    return rc;
}

/* ---- catch-up and statistics -------------------------------------------- */

static bool code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= JR_STREAM_CODE_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
            return false;
        }
    }
    return true;
}

int jr_codec_decode_catchup(const uint8_t *buf, size_t len, jr_catchup_request_t *out, char *why,
                            size_t whylen)
{
    memset(out, 0, sizeof *out);
    Joinedreview__V1__CatchupRequest *req =
        joinedreview__v1__catchup_request__unpack(NULL, len, buf);
    if (req == NULL) {
        snprintf(why, whylen, "the message is not a joinedreview.v1.CatchupRequest");
        return -1;
    }
    int rc = -1;
    char nul_field[96] = "";
    if (wire_find_nul(&joinedreview__v1__catchup_request__descriptor, buf, len, 0, nul_field,
                      sizeof nul_field) == 1) {
        snprintf(why, whylen, "%s holds a NUL byte: text must be UTF-8 without NUL bytes",
                 nul_field);
        joinedreview__v1__catchup_request__free_unpacked(req, NULL);
        return -1;
    }
    if (req->request_id != NULL && strlen(req->request_id) < sizeof out->request_id &&
        jr_text_valid_utf8(req->request_id, strlen(req->request_id))) {
        strcpy(out->request_id, req->request_id);
    }
    if (!req->has_kind || req->kind < JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SNAPSHOT ||
        req->kind > JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__STATISTICS) {
        snprintf(why, whylen, "kind must be SNAPSHOT, SINCE or STATISTICS");
    } else if (req->kind == JOINEDREVIEW__V1__CATCHUP_REQUEST__KIND__SINCE &&
               !req->has_after_sequence) {
        snprintf(why, whylen, "SINCE needs after_sequence: the last sequence you processed");
    } else if (req->lead != NULL && !code_ok(req->lead)) {
        snprintf(why, whylen, "lead must be a funding stream code such as SC");
    } else if (req->stream != NULL && !code_ok(req->stream)) {
        snprintf(why, whylen, "stream must be a funding stream code such as ICES");
    } else {
        out->kind = (jr_catchup_kind_t)req->kind;
        out->after = req->after_sequence;
        out->max_items = req->has_max_items ? req->max_items : 0;
        if (req->lead != NULL) {
            strcpy(out->lead, req->lead);
        }
        if (req->stream != NULL) {
            strcpy(out->stream, req->stream);
        }
        rc = 0;
    }
    joinedreview__v1__catchup_request__free_unpacked(req, NULL);
    return rc;
}

static Joinedreview__V1__Statistics *build_statistics(arena_t *a, const jr_statistics_t *st)
{
    Joinedreview__V1__Statistics *m = arena_alloc(a, sizeof *m);
    if (m == NULL) {
        return NULL;
    }
    *m = (Joinedreview__V1__Statistics)JOINEDREVIEW__V1__STATISTICS__INIT;
    m->has_sequence = 1;
    m->sequence = st->sequence;
    m->today = (char *)st->today;
    m->has_reviews = 1;
    m->reviews = st->reviews;
    m->has_ready_for_sign_off = 1;
    m->ready_for_sign_off = st->ready_for_sign_off;
    m->has_missing_information = 1;
    m->missing_information = st->missing_information;
    m->streams = arena_alloc(a, sizeof *m->streams * (st->n_streams + 1));
    for (size_t i = 0; m->streams && i < st->n_streams; i++) {
        Joinedreview__V1__StreamStatistics *s = arena_alloc(a, sizeof *s);
        if (s == NULL) {
            break;
        }
        *s = (Joinedreview__V1__StreamStatistics)JOINEDREVIEW__V1__STREAM_STATISTICS__INIT;
        s->stream = (char *)st->streams[i].stream;
        s->has_enrolled = s->has_complete = s->has_missing_information = 1;
        s->has_due_within_28_days = s->has_overdue = 1;
        s->enrolled = st->streams[i].enrolled;
        s->complete = st->streams[i].complete;
        s->missing_information = st->streams[i].missing_information;
        s->due_within_28_days = st->streams[i].due_within_28_days;
        s->overdue = st->streams[i].overdue;
        m->streams[m->n_streams++] = s;
    }
    m->leads = arena_alloc(a, sizeof *m->leads * (st->n_leads + 1));
    for (size_t i = 0; m->leads && i < st->n_leads; i++) {
        Joinedreview__V1__LeadStatistics *l = arena_alloc(a, sizeof *l);
        if (l == NULL) {
            break;
        }
        *l = (Joinedreview__V1__LeadStatistics)JOINEDREVIEW__V1__LEAD_STATISTICS__INIT;
        l->lead = (char *)st->leads[i].lead;
        l->has_reviews = l->has_due_within_28_days = l->has_overdue = 1;
        l->reviews = st->leads[i].reviews;
        l->due_within_28_days = st->leads[i].due_within_28_days;
        l->overdue = st->leads[i].overdue;
        m->leads[m->n_leads++] = l;
    }
    m->areas = arena_alloc(a, sizeof *m->areas * JR_AREA_COUNT);
    for (size_t i = 0; m->areas && i < JR_AREA_COUNT; i++) {
        Joinedreview__V1__AreaStatistics *ar = arena_alloc(a, sizeof *ar);
        if (ar == NULL) {
            break;
        }
        *ar = (Joinedreview__V1__AreaStatistics)JOINEDREVIEW__V1__AREA_STATISTICS__INIT;
        ar->has_area = ar->has_red = ar->has_amber = ar->has_green = 1;
        ar->has_not_given = ar->has_conflicts = 1;
        ar->area = (uint32_t)(i + 1);
        ar->red = st->areas[i].red;
        ar->amber = st->areas[i].amber;
        ar->green = st->areas[i].green;
        ar->not_given = st->areas[i].not_given;
        ar->conflicts = st->areas[i].conflicts;
        m->areas[m->n_areas++] = ar;
    }
    m->has_rejected_events = m->has_parked_events = m->has_events_total = 1;
    m->rejected_events = st->rejected_events;
    m->parked_events = st->parked_events;
    m->events_total = st->events_total;
    m->has_ingest_per_second = 1;
    m->ingest_per_second = st->ingest_per_second;
    return m;
}

int jr_codec_encode_statistics(const jr_statistics_t *stats, uint8_t **out, size_t *len)
{
    arena_t a = {0};
    Joinedreview__V1__Statistics *m = build_statistics(&a, stats);
    int rc = -1;
    if (m != NULL && !a.failed) {
        *len = joinedreview__v1__statistics__get_packed_size(m);
        *out = malloc(*len ? *len : 1);
        if (*out != NULL) {
            joinedreview__v1__statistics__pack(m, *out);
            rc = 0;
        }
    }
    arena_free(&a);
    return rc;
}

int jr_codec_encode_catchup_reply(const char *request_id, jr_catchup_status_t status,
                                  const char *reason, uint64_t sequence, bool last,
                                  const jr_codec_item_t *items, size_t n,
                                  const jr_statistics_t *stats, uint8_t **out, size_t *len)
{
    arena_t a = {0};
    Joinedreview__V1__CatchupReply r = JOINEDREVIEW__V1__CATCHUP_REPLY__INIT;
    r.request_id = request_id && request_id[0] ? (char *)request_id : NULL;
    r.has_status = 1;
    r.status = (Joinedreview__V1__CatchupReply__Status)status;
    r.reason = (char *)reason;
    r.has_sequence = 1;
    r.sequence = sequence;
    r.has_last = 1;
    r.last = last;
    r.items = arena_alloc(&a, sizeof *r.items * (n + 1));
    for (size_t i = 0; r.items && i < n; i++) {
        Joinedreview__V1__Publication *p = arena_alloc(&a, sizeof *p);
        if (p == NULL) {
            break;
        }
        *p = (Joinedreview__V1__Publication)JOINEDREVIEW__V1__PUBLICATION__INIT;
        p->has_sequence = 1;
        p->sequence = items[i].seq;
        p->topic = (char *)items[i].topic;
        p->has_payload = 1;
        p->payload.data = items[i].payload;
        p->payload.len = items[i].len;
        r.items[r.n_items++] = p;
    }
    if (stats != NULL) {
        r.statistics = build_statistics(&a, stats);
    }
    int rc = -1;
    if (!a.failed) {
        *len = joinedreview__v1__catchup_reply__get_packed_size(&r);
        *out = malloc(*len ? *len : 1);
        if (*out != NULL) {
            joinedreview__v1__catchup_reply__pack(&r, *out);
            rc = 0;
        }
    }
    arena_free(&a);
    return rc;
}
