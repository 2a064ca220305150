/* joinedreview.c -- the `joinedreview` command: push events to joinedreviewd
 * and print consolidated reviews.
 *
 *   joinedreview push [--endpoint ENDPOINT] [--timeout SECONDS]
 *                     [--server-key KEY --key-file FILE] FILE.jsonl...
 *   joinedreview reviews [--database CONNINFO] [--nhs NHSNUMBER] [--json]
 *   joinedreview --help
 *
 * push reads events, one JSON object per line ("-" reads standard input),
 * and sends each as one joinedreview.v1.Envelope through jr_client. A line:
 *
 *   {"stream":"SC", "id":"sc-0001", "at":"2026-10-01T09:30:00Z",
 *    "nhs":"943 476 5919", "nino":"AB123456C", "local":"SC-77",
 *    "contribution":{...}}
 *
 *   stream   required  funding stream code               -> Envelope.stream
 *   id       required  the stream's unique event key     -> Envelope.source_event_id
 *   at       required  RFC 3339 UTC instant ending in Z, optional fraction
 *                      ("2026-10-01T09:30:00Z", "2026-10-01T09:30:00.250Z")
 *                                                        -> Envelope.occurred_at (ms)
 *   nhs, nino, local   at least one: NHS number, National Insurance number,
 *                      the stream's own client id        -> Envelope.person
 *
 * and exactly one body:
 *
 *   "enrolment":     {"started_on":"2026-01-10"           (required)
 *                     "ended_on", "last_review_on", "award_ends_on": date or null,
 *                     "review_interval_days": integer or null,
 *                     "reference": the stream's reference, or null}
 *   "contribution":  {"topic":"HEALTH", "role":"PERSON"    (both required; names
 *                                                          of the proto enums)
 *                     "working", "not_working", "author_name": text or null,
 *                     "priority": "RED" | "AMBER" | "GREEN" | "NOT_GIVEN",
 *                     "no_change": true | false}
 *   "review_held":   {"held_on":"2026-11-20"}              (required)
 *   "plan_revision": {"revise_by":"2026-12-01", "revised_by":"...",
 *                     "approval_needed":true, "approver":"..."}
 *   "preferences":   {"way":"WAY_WITH_OTHERS"                (required; a ReviewWay name)
 *                     "where", "language", "called": text or null,
 *                     "involve": ["Dev (son)", ...]  (up to 8),
 *                     "needs": ["NEED_BSL_INTERPRETER", ...]  (Need names)}
 *   "budget":        {"period_start":"2026-04-01", "period_end":"2027-03-31",
 *                     "allocated_pence":"1820000", "spent_pence":"1715050"}
 *                    (all required; amounts in whole pence, as a string of
 *                    digits or a JSON integer, never a fraction)
 *
 * An enrolment may also carry "known_as" (the name the stream knows the
 * person by) and "group_key" (the scheme, service or place).
 *
 * null is the same as leaving a field out; an unknown field is an error, so a
 * misspelt field is not silently dropped. schema_version is always 1. push
 * checks the shape of each line; a malformed line is reported as FILE:LINE:
 * reason and not sent. The daemon checks everything else (valid NHS number,
 * real dates, known stream) and answers REJECTED with a reason.
 *
 * push prints each rejection as "REJECTED stream/id: CODE: reason" and at the
 * end "pushed N: ok A, duplicate B, parked C, rejected D".
 *
 * Exit status: 0 when nothing was rejected or malformed; 1 when something
 * was (or, for reviews, a record could not be read, or --nhs found none); 2
 * on a usage error, an unreadable file, no connection to the daemon or the
 * database, no answer within the timeout, or an interrupt. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "joinedreview/joinedreview.pb-c.h"
#include "jr_client.h"
#include "streams.h"
#include "way.h"
#include "keyfile.h"
#include "nhs.h"
#include "text.h"
#include "keygen.h"
#include "setup_database.h"
#include "summary.h"
#include "tail.h"
#include "version.h"

#define EXIT_REJECTED 1
#define EXIT_TROUBLE  2

#define DEFAULT_ENDPOINT  "tcp://127.0.0.1:5560"
#define DEFAULT_TIMEOUT_S 30
#define WHY_LEN           256

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* No SA_RESTART: a blocked wait returns EINTR and jr_client checks the flag. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- usage ---------------------------------------------------------------- */

static void usage(FILE *out)
{
    fputs("usage: joinedreview push [--endpoint ENDPOINT] [--timeout SECONDS]\n"
          "                         [--server-key KEY --key-file FILE] FILE.jsonl...\n"
          "       joinedreview reviews [--database CONNINFO] [--nhs NHSNUMBER] [--json]\n"
          "       joinedreview notices [--database CONNINFO]\n"
          "       joinedreview summary --quarter YYYYQN [--database CONNINFO]\n"
          "       joinedreview keygen NAME   (writes NAME.key, secret, and NAME.pub)\n"
          "       joinedreview tail [--publish EP] [--catchup EP]\n"
          "                         [--kind review|notice|group|statistics]...\n"
          "                         [--stream CODE]\n"
          "                         [--lead CODE] [--nhs NHSNUMBER] [--state FILE]\n"
          "                         [--count N] [--idle-exit SECONDS]\n"
          "                         [--server-key KEY --key-file FILE]\n"
          "       joinedreview setup-database [--database CONNINFO] [--dbname NAME]\n"
          "       joinedreview --help | --version\n"
          "\n"
          "push     send events (one JSON object per line, \"-\" for standard input)\n"
          "         to joinedreviewd and report what it made of them.\n"
          "  -e, --endpoint ENDPOINT  the daemon's ingest socket [" DEFAULT_ENDPOINT "]\n"
          "  -t, --timeout SECONDS    give up when the daemon has not answered\n"
          "                           everything within this time [30]\n"
          "      --server-key KEY     the daemon's CURVE public key (40 Z85 characters)\n"
          "      --key-file FILE      this client's CURVE certificate: lines\n"
          "                           public-key = \"...\" and secret-key = \"...\"\n"
          "\n"
          "reviews  print the current consolidated review of each person.\n"
          "  -d, --database CONNINFO  libpq connection string or URI [from PG* environment]\n"
          "  -n, --nhs NHSNUMBER      only this person (spaces allowed)\n"
          "  -j, --json               one JSON object per review, proto field names\n"
          "\n"
          "notices  print every due-date notice and suggested group review published,\n"
          "         oldest first.\n"
          "  -d, --database CONNINFO  as for reviews\n"
          "\n"
          "summary  the quarterly summary for national capture, as CSV: one row per\n"
          "         funding stream, no identifier; counts of 1 to 7 shown as *, others\n"
          "         rounded to the nearest 5.\n"
          "  -q, --quarter YYYYQN     the quarter, e.g. 2026Q3\n"
          "  -d, --database CONNINFO  a read-only login (a joinedreview_reader member)\n"
          "\n"
          "tail     follow what the daemon publishes: the current state, then every\n"
          "         change, one JSON object per line; never a gap or a repeat.\n"
          "  -p, --publish EP         the daemon's PUB socket [tcp://127.0.0.1:5561]\n"
          "  -c, --catchup EP         the daemon's catch-up socket [tcp://127.0.0.1:5562]\n"
          "  -k, --kind KIND          review, notice, group (suggested group reviews)\n"
          "                           or statistics; repeatable [review and notice]\n"
          "  -s, --stream CODE        only persons enrolled in / notices covering CODE\n"
          "  -l, --lead CODE          only reviews and notices CODE leads\n"
          "  -n, --nhs NHSNUMBER      only this person (spaces allowed)\n"
          "      --state FILE         keep the last sequence in FILE; resume from it\n"
          "      --count N            exit after printing N lines\n"
          "      --idle-exit SECONDS  exit when nothing new came for SECONDS\n"
          "      --server-key KEY, --key-file FILE  as for push\n"
          "\n"
          "setup-database  as the database superuser, once: create the roles, the\n"
          "         database and the schema; a second run changes nothing.\n"
          "  -d, --database CONNINFO  the superuser's connection [from PG* environment]\n"
          "      --dbname NAME        the database to create [joinedreview]\n"
          "\n"
          "  -h, --help               print this and exit\n"
          "  -V, --version            print the version and exit\n"
          "\n"
          "Exit status: 0 all accepted; 1 something rejected or malformed;\n"
          "2 usage, connection or timeout error. See tools/README.md.\n",
          out);
}

/* ---- push: one JSON line to an Envelope ------------------------------------ */

/* An Envelope and its parts. Strings are borrowed from the JSON document, so
 * the document must outlive the event's submission. */
typedef struct {
    Joinedreview__V1__Envelope env;
    Joinedreview__V1__PersonIds person;
    Joinedreview__V1__Enrolment enrolment;
    Joinedreview__V1__Contribution contribution;
    Joinedreview__V1__ReviewHeld review_held;
    Joinedreview__V1__PlanRevision plan_revision;
    Joinedreview__V1__ReviewPreferences preferences;
    Joinedreview__V1__BudgetStatement budget;
    char *involve[16];
    Joinedreview__V1__Need needs[16];
    char pence[2][24]; /* amounts given as JSON integers, as text */
} event_t;

static int check_keys(const json_t *obj, const char *where, const char *const *allowed, char *why)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known)
            return fail(why, WHY_LEN, "unknown field \"%s\"%s%s", key, where ? " in " : "",
                        where ? where : "");
    }
    return 0;
}

/* A text field: absent and null give NULL. protobuf-c wants char *, but only
 * reads it. */
static int get_text(const json_t *obj, const char *key, bool required, char **out, char *why)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return fail(why, WHY_LEN, "\"%s\" is required", key);
        return 0;
    }
    if (!json_is_string(v))
        return fail(why, WHY_LEN, "\"%s\" must be a string", key);
    if (json_string_length(v) == 0) {
        if (required)
            return fail(why, WHY_LEN, "\"%s\" must not be empty", key);
        return 0;
    }
    *out = (char *)json_string_value(v);
    return 0;
}

static int get_bool(const json_t *obj, const char *key, protobuf_c_boolean *has,
                    protobuf_c_boolean *out, char *why)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return fail(why, WHY_LEN, "\"%s\" must be true or false", key);
    *has = 1;
    *out = json_is_true(v);
    return 0;
}

static int get_days(const json_t *obj, const char *key, protobuf_c_boolean *has, uint32_t *out,
                    char *why)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)UINT32_MAX)
        return fail(why, WHY_LEN, "\"%s\" must be a whole number of days", key);
    *has = 1;
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* An enum by its name in the proto; the *_UNSPECIFIED values are not names a
 * sender may use. */
static int get_enum(const json_t *obj, const char *key, bool required,
                    const ProtobufCEnumDescriptor *desc, protobuf_c_boolean *has, int *out,
                    char *why)
{
    char *name;
    if (get_text(obj, key, required, &name, why) < 0)
        return -1;
    if (!name)
        return 0;
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(desc, name);
    if (!ev || strstr(ev->name, "UNSPECIFIED"))
        return fail(why, WHY_LEN, "\"%s\": unknown %s \"%s\"", key, desc->short_name, name);
    *has = 1;
    *out = ev->value;
    return 0;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DDTHH:MM:SS[.fff...]Z" (RFC 3339, UTC only) to ms since the epoch. */
static int parse_instant(const char *s, int64_t *ms)
{
    if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 59)
        return -1;
    if (!jr_text_civil_valid(y, (unsigned)mo, (unsigned)d))
        return -1;

    const char *p = s + 19;
    int frac_ms = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            frac_ms *= 10;
    }
    if ((*p != 'Z' && *p != 'z') || p[1] != '\0')
        return -1;

    jr_day_t day = jr_text_day_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = jr_text_ms_of(day, (unsigned)h, (unsigned)mi, (unsigned)sec) + frac_ms;
    return 0;
}

static int parse_enrolment(const json_t *o, Joinedreview__V1__Enrolment *e, char *why)
{
    static const char *const keys[] = {"started_on",
                                       "ended_on",
                                       "last_review_on",
                                       "review_interval_days",
                                       "award_ends_on",
                                       "reference",
                                       "known_as",
                                       "group_key",
                                       NULL};
    if (check_keys(o, "\"enrolment\"", keys, why) < 0 ||
        get_text(o, "started_on", true, &e->started_on, why) < 0 ||
        get_text(o, "ended_on", false, &e->ended_on, why) < 0 ||
        get_text(o, "last_review_on", false, &e->last_review_on, why) < 0 ||
        get_days(o, "review_interval_days", &e->has_review_interval_days, &e->review_interval_days,
                 why) < 0 ||
        get_text(o, "award_ends_on", false, &e->award_ends_on, why) < 0 ||
        get_text(o, "reference", false, &e->stream_reference, why) < 0 ||
        get_text(o, "known_as", false, &e->known_as, why) < 0 ||
        get_text(o, "group_key", false, &e->group_key, why) < 0)
        return -1;
    return 0;
}

/* An array of strings (up to max), each borrowed; absent or null is none. */
static int get_texts(const json_t *o, const char *key, char **out, size_t max, size_t *n, char *why)
{
    const json_t *v = json_object_get(o, key);
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > max)
        return fail(why, WHY_LEN, "\"%s\" must be an array of at most %zu strings", key, max);
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *item = json_array_get(v, i);
        if (!json_is_string(item))
            return fail(why, WHY_LEN, "\"%s\" must be an array of strings", key);
        out[(*n)++] = (char *)json_string_value(item);
    }
    return 0;
}

static int parse_preferences(const json_t *o, event_t *ev, char *why)
{
    static const char *const keys[] = {"way",      "where",  "involve", "needs",
                                       "language", "called", NULL};
    Joinedreview__V1__ReviewPreferences *p = &ev->preferences;
    char *names[16];
    size_t n_names = 0;
    int way = 0;
    if (check_keys(o, "\"preferences\"", keys, why) < 0 ||
        get_enum(o, "way", true, &joinedreview__v1__review_way__descriptor, &p->has_way, &way,
                 why) < 0 ||
        get_text(o, "where", false, &p->where, why) < 0 ||
        get_texts(o, "involve", ev->involve, 16, &p->n_involve, why) < 0 ||
        get_texts(o, "needs", names, 16, &n_names, why) < 0 ||
        get_text(o, "language", false, &p->language, why) < 0 ||
        get_text(o, "called", false, &p->called, why) < 0)
        return -1;
    p->way = (Joinedreview__V1__ReviewWay)way;
    p->involve = ev->involve;
    for (size_t i = 0; i < n_names; i++) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(
            &joinedreview__v1__need__descriptor, names[i]);
        if (!v || strstr(v->name, "UNSPECIFIED"))
            return fail(why, WHY_LEN, "\"needs\": unknown Need \"%s\"", names[i]);
        ev->needs[i] = (Joinedreview__V1__Need)v->value;
    }
    p->needs = ev->needs;
    p->n_needs = n_names;
    return 0;
}

/* An amount of pence: a string of digits as it is (the daemon checks it),
 * or a JSON integer written as one; a JSON real is never money. */
static int get_pence(const json_t *o, const char *key, char *buf, char **out, char *why)
{
    const json_t *v = json_object_get(o, key);
    if (v && json_is_integer(v)) {
        snprintf(buf, 24, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = buf;
        return 0;
    }
    if (v && json_is_real(v))
        return fail(why, WHY_LEN, "\"%s\" must be whole pence (a string of digits or an integer)",
                    key);
    return get_text(o, key, true, out, why);
}

static int parse_budget(const json_t *o, event_t *ev, char *why)
{
    static const char *const keys[] = {"period_start", "period_end", "allocated_pence",
                                       "spent_pence", NULL};
    Joinedreview__V1__BudgetStatement *b = &ev->budget;
    if (check_keys(o, "\"budget\"", keys, why) < 0 ||
        get_text(o, "period_start", true, &b->period_start, why) < 0 ||
        get_text(o, "period_end", true, &b->period_end, why) < 0 ||
        get_pence(o, "allocated_pence", ev->pence[0], &b->allocated_pence, why) < 0 ||
        get_pence(o, "spent_pence", ev->pence[1], &b->spent_pence, why) < 0)
        return -1;
    return 0;
}

static int parse_contribution(const json_t *o, Joinedreview__V1__Contribution *c, char *why)
{
    static const char *const keys[] = {"topic",    "role",      "working",     "not_working",
                                       "priority", "no_change", "author_name", NULL};
    int topic = 0, role = 0, priority = 0;
    if (check_keys(o, "\"contribution\"", keys, why) < 0 ||
        get_enum(o, "topic", true, &joinedreview__v1__topic__descriptor, &c->has_topic, &topic,
                 why) < 0 ||
        get_enum(o, "role", true, &joinedreview__v1__role__descriptor, &c->has_author_role, &role,
                 why) < 0 ||
        get_enum(o, "priority", false, &joinedreview__v1__priority__descriptor, &c->has_priority,
                 &priority, why) < 0 ||
        get_text(o, "working", false, &c->working, why) < 0 ||
        get_text(o, "not_working", false, &c->not_working, why) < 0 ||
        get_bool(o, "no_change", &c->has_no_change, &c->no_change, why) < 0 ||
        get_text(o, "author_name", false, &c->author_name, why) < 0)
        return -1;
    c->topic = (Joinedreview__V1__Topic)topic;
    c->author_role = (Joinedreview__V1__Role)role;
    c->priority = (Joinedreview__V1__Priority)priority;
    return 0;
}

static int parse_review_held(const json_t *o, Joinedreview__V1__ReviewHeld *r, char *why)
{
    static const char *const keys[] = {"held_on", NULL};
    if (check_keys(o, "\"review_held\"", keys, why) < 0 ||
        get_text(o, "held_on", true, &r->held_on, why) < 0)
        return -1;
    return 0;
}

static int parse_plan_revision(const json_t *o, Joinedreview__V1__PlanRevision *p, char *why)
{
    static const char *const keys[] = {"revise_by", "revised_by", "approval_needed", "approver",
                                       NULL};
    if (check_keys(o, "\"plan_revision\"", keys, why) < 0 ||
        get_text(o, "revise_by", false, &p->revise_by, why) < 0 ||
        get_text(o, "revised_by", false, &p->revised_by, why) < 0 ||
        get_bool(o, "approval_needed", &p->has_approval_needed, &p->approval_needed, why) < 0 ||
        get_text(o, "approver", false, &p->approver, why) < 0)
        return -1;
    return 0;
}

/* Fills `ev` from one line's JSON object. Returns 0, or -1 with a reason. */
static int parse_event(const json_t *root, event_t *ev, char *why)
{
    static const char *const keys[] = {
        "stream",    "id",           "at",          "nhs",           "nino",        "local",
        "enrolment", "contribution", "review_held", "plan_revision", "preferences", "budget",
        NULL};
    static const char *const bodies[] = {"enrolment",     "contribution", "review_held",
                                         "plan_revision", "preferences",  "budget"};
    char *at;

    *ev = (event_t){
        .env = JOINEDREVIEW__V1__ENVELOPE__INIT,
        .person = JOINEDREVIEW__V1__PERSON_IDS__INIT,
        .enrolment = JOINEDREVIEW__V1__ENROLMENT__INIT,
        .contribution = JOINEDREVIEW__V1__CONTRIBUTION__INIT,
        .review_held = JOINEDREVIEW__V1__REVIEW_HELD__INIT,
        .plan_revision = JOINEDREVIEW__V1__PLAN_REVISION__INIT,
        .preferences = JOINEDREVIEW__V1__REVIEW_PREFERENCES__INIT,
        .budget = JOINEDREVIEW__V1__BUDGET_STATEMENT__INIT,
    };
    if (!json_is_object(root))
        return fail(why, WHY_LEN, "not a JSON object");
    if (check_keys(root, NULL, keys, why) < 0 ||
        get_text(root, "stream", true, &ev->env.stream, why) < 0 ||
        get_text(root, "id", true, &ev->env.source_event_id, why) < 0 ||
        get_text(root, "at", true, &at, why) < 0 ||
        get_text(root, "nhs", false, &ev->person.nhs_number, why) < 0 ||
        get_text(root, "nino", false, &ev->person.ni_number, why) < 0 ||
        get_text(root, "local", false, &ev->person.local_id, why) < 0)
        return -1;
    if (parse_instant(at, &ev->env.occurred_at) < 0)
        return fail(why, WHY_LEN, "\"at\" must be an RFC 3339 UTC time like 2026-10-01T09:30:00Z");
    if (!ev->person.nhs_number && !ev->person.ni_number && !ev->person.local_id)
        return fail(why, WHY_LEN, "one of \"nhs\", \"nino\" or \"local\" is required");
    ev->env.has_schema_version = 1;
    ev->env.schema_version = 1;
    ev->env.has_occurred_at = 1;
    ev->env.person = &ev->person;

    const char *body = NULL;
    const json_t *obj = NULL;
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        const json_t *v = json_object_get(root, bodies[i]);
        if (!v || json_is_null(v))
            continue;
        if (body)
            return fail(why, WHY_LEN, "both \"%s\" and \"%s\": an event has exactly one body", body,
                        bodies[i]);
        if (!json_is_object(v))
            return fail(why, WHY_LEN, "\"%s\" must be an object", bodies[i]);
        body = bodies[i];
        obj = v;
    }
    if (!body)
        return fail(why, WHY_LEN,
                    "no body: one of \"enrolment\", \"contribution\", \"review_held\", "
                    "\"plan_revision\", \"preferences\" or \"budget\" is required");

    if (strcmp(body, "enrolment") == 0) {
        ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_ENROLMENT;
        ev->env.enrolment = &ev->enrolment;
        return parse_enrolment(obj, &ev->enrolment, why);
    }
    if (strcmp(body, "contribution") == 0) {
        ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_CONTRIBUTION;
        ev->env.contribution = &ev->contribution;
        return parse_contribution(obj, &ev->contribution, why);
    }
    if (strcmp(body, "review_held") == 0) {
        ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_REVIEW_HELD;
        ev->env.review_held = &ev->review_held;
        return parse_review_held(obj, &ev->review_held, why);
    }
    if (strcmp(body, "preferences") == 0) {
        ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_PREFERENCES;
        ev->env.preferences = &ev->preferences;
        return parse_preferences(obj, ev, why);
    }
    if (strcmp(body, "budget") == 0) {
        ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_BUDGET;
        ev->env.budget = &ev->budget;
        return parse_budget(obj, ev, why);
    }
    ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_PLAN_REVISION;
    ev->env.plan_revision = &ev->plan_revision;
    return parse_plan_revision(obj, &ev->plan_revision, why);
}

/* ---- push: CURVE keys -------------------------------------------------------- */

/* A client's key pair; a key file others can read is refused. */
static int read_key_file(const char *path, char pub[JR_KEY_Z85_LEN + 1],
                         char sec[JR_KEY_Z85_LEN + 1])
{
    char err[512];
    if (jr_keyfile_read(path, pub, sec, err, sizeof err) != 0) {
        fprintf(stderr, "joinedreview: %s\n", err);
        return -1;
    }
    return 0;
}

/* ---- push ---------------------------------------------------------------------- */

typedef struct {
    unsigned long malformed;
} push_t;

static void on_outcome(void *ctx, const char *stream, const char *id, int status, const char *code,
                       const char *reason, void *user)
{
    (void)ctx;
    (void)user;
    if (status == JR_CLIENT_REJECTED)
        printf("REJECTED %s/%s: %s: %s\n", stream, id, *code ? code : "UNKNOWN",
               *reason ? reason : "no reason given");
}

/* Submits one event; waits for an earlier event with the same key (a key
 * repeated in the input) to finish first. Returns 0 or a JR_CLIENT_E*. */
static int submit(jr_client_t *client, const event_t *ev, int timeout_ms)
{
    int rc = jr_client_submit(client, &ev->env, NULL);
    if (rc == JR_CLIENT_EINFLIGHT) {
        rc = jr_client_flush(client, timeout_ms);
        if (rc > 0)
            return JR_CLIENT_ETIMEDOUT;
        if (rc < 0)
            return rc;
        rc = jr_client_submit(client, &ev->env, NULL);
    }
    return rc;
}

/* Pushes every line of one file. Returns 0, or a JR_CLIENT_E* that ends the
 * whole run (the connection, not the line, is at fault). */
static int push_file(jr_client_t *client, push_t *push, const char *path, FILE *f, int timeout_ms)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    int rc = 0;

    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        char why[WHY_LEN];
        json_error_t jerr;
        event_t ev;

        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;
        json_t *root = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
            fprintf(stderr, "%s:%lu: not JSON: %s (column %d)\n", path, lineno, jerr.text,
                    jerr.column);
            push->malformed++;
            continue;
        }
        if (parse_event(root, &ev, why) < 0) {
            fprintf(stderr, "%s:%lu: %s\n", path, lineno, why);
            push->malformed++;
        } else {
            rc = submit(client, &ev, timeout_ms);
            if (rc == JR_CLIENT_ETOOBIG) {
                fprintf(stderr, "%s:%lu: %s\n", path, lineno, jr_client_strerror(rc));
                push->malformed++;
                rc = 0;
            }
        }
        json_decref(root);
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "joinedreview: %s: %s\n", path, strerror(errno));
        rc = JR_CLIENT_EINVAL;
    }
    free(line);
    return rc;
}

static int cmd_push(int argc, char **argv)
{
    static const struct option longopts[] = {{"endpoint", required_argument, NULL, 'e'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"server-key", required_argument, NULL, 'S'},
                                             {"key-file", required_argument, NULL, 'K'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *endpoint = DEFAULT_ENDPOINT;
    const char *server_key = NULL, *key_file = NULL;
    long timeout_s = DEFAULT_TIMEOUT_S;
    int c;

    while ((c = getopt_long(argc, argv, "e:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            endpoint = optarg;
            break;
        case 't': {
            char *end;
            errno = 0;
            timeout_s = strtol(optarg, &end, 10);
            if (errno || *end || timeout_s < 1 || timeout_s > INT_MAX / 1000) {
                fprintf(stderr, "joinedreview: --timeout wants whole seconds, 1 or more\n");
                return EXIT_TROUBLE;
            }
            break;
        }
        case 'S':
            server_key = optarg;
            break;
        case 'K':
            key_file = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fputs("Try 'joinedreview --help'.\n", stderr);
            return EXIT_TROUBLE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "joinedreview push: name at least one FILE.jsonl (\"-\" for standard "
                        "input)\n");
        return EXIT_TROUBLE;
    }
    if (!server_key != !key_file) {
        fprintf(stderr, "joinedreview push: --server-key and --key-file go together\n");
        return EXIT_TROUBLE;
    }
    if (server_key && !jr_keyfile_z85_ok(server_key)) {
        fprintf(stderr, "joinedreview push: --server-key wants 40 Z85 characters, not \"%s\"\n",
                server_key);
        return EXIT_TROUBLE;
    }

    char pub[JR_KEY_Z85_LEN + 1], sec[JR_KEY_Z85_LEN + 1];
    if (key_file && read_key_file(key_file, pub, sec) < 0)
        return EXIT_TROUBLE;

    /* Open every file first: a typo in the last name should not leave the
     * others half sent. */
    int nfiles = argc - optind;
    FILE **files = calloc((size_t)nfiles, sizeof *files);
    if (!files) {
        fprintf(stderr, "joinedreview: out of memory\n");
        return EXIT_TROUBLE;
    }
    int status = 0;
    for (int i = 0; i < nfiles && status == 0; i++) {
        const char *path = argv[optind + i];
        files[i] = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
        if (!files[i]) {
            fprintf(stderr, "joinedreview: %s: %s\n", path, strerror(errno));
            status = EXIT_TROUBLE;
        }
    }

    push_t push = {0};
    jr_client_t *client = NULL;
    int timeout_ms = (int)timeout_s * 1000;
    if (status == 0) {
        catch_signals();
        jr_client_options_t opts = {
            .submit_timeout_ms = timeout_ms,
            .on_outcome = on_outcome,
            .ctx = &push,
            .interrupted = &interrupted,
            .curve_server_key = server_key,
            .curve_public_key = key_file ? pub : NULL,
            .curve_secret_key = key_file ? sec : NULL,
        };
        client = jr_client_new(endpoint, &opts);
        if (!client) {
            fprintf(stderr, "joinedreview: cannot use endpoint %s: %s\n", endpoint,
                    strerror(errno));
            status = EXIT_TROUBLE;
        }
    }

    int rc = 0;
    for (int i = 0; i < nfiles && status == 0 && rc == 0; i++)
        rc = push_file(client, &push,
                       strcmp(argv[optind + i], "-") == 0 ? "<stdin>" : argv[optind + i], files[i],
                       timeout_ms);
    if (status == 0 && rc == 0) {
        rc = jr_client_flush(client, timeout_ms);
        if (rc > 0)
            rc = JR_CLIENT_ETIMEDOUT;
    }
    if (rc == JR_CLIENT_ETIMEDOUT)
        fprintf(stderr,
                "joinedreview: %zu events had no answer from %s within %ld s "
                "(is joinedreviewd running there?)\n",
                jr_client_pending(client), endpoint, timeout_s);
    else if (rc == JR_CLIENT_EINTR)
        fprintf(stderr, "joinedreview: interrupted; %zu events had no answer yet\n",
                jr_client_pending(client));
    else if (rc == JR_CLIENT_EZMQ)
        fprintf(stderr, "joinedreview: socket error: %s\n", strerror(errno));
    if (rc < 0)
        status = EXIT_TROUBLE;

    if (client) {
        jr_client_stats_t st;
        jr_client_stats(client, &st);
        printf("pushed %llu: ok %llu, duplicate %llu, parked %llu, rejected %llu\n",
               (unsigned long long)st.submitted, (unsigned long long)st.ok,
               (unsigned long long)st.duplicate, (unsigned long long)st.parked,
               (unsigned long long)st.rejected);
        if (status == 0 && st.rejected > 0)
            status = EXIT_REJECTED;
    }
    if (push.malformed > 0) {
        fprintf(stderr, "%lu malformed lines not sent\n", push.malformed);
        if (status == 0)
            status = EXIT_REJECTED;
    }

    jr_client_destroy(&client);
    for (int i = 0; i < nfiles; i++)
        if (files[i] && files[i] != stdin)
            fclose(files[i]);
    free(files);
    return status;
}

/* ---- reviews: NHS numbers ------------------------------------------------------ */

/* The NHS number normalised (lib/nhs.h's rules, placeholders refused). */
static bool nhs_normalise(const char *in, char out[11])
{
    return jr_nhs_normalise(in, out) == JR_NHS_OK;
}

/* "9434765919" -> "943 476 5919"; anything else is shown as it is. */
static const char *nhs_display(const char *nhs, char buf[13])
{
    if (!nhs || strlen(nhs) != 10 || strspn(nhs, "0123456789") != 10)
        return nhs ? nhs : "?";
    snprintf(buf, 13, "%.3s %.3s %.4s", nhs, nhs + 3, nhs + 6);
    return buf;
}

/* ---- reviews: text ------------------------------------------------------------- */

static const char *enum_name(const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(desc, value);
    return ev ? ev->name : "?";
}

static const char *topic_name(Joinedreview__V1__Topic t)
{
    return enum_name(&joinedreview__v1__topic__descriptor, (int)t);
}

static const char *role_name(Joinedreview__V1__Role r)
{
    return enum_name(&joinedreview__v1__role__descriptor, (int)r);
}

static const char *priority_name(Joinedreview__V1__Priority p)
{
    return p == JOINEDREVIEW__V1__PRIORITY__NOT_GIVEN
               ? "not given"
               : enum_name(&joinedreview__v1__priority__descriptor, (int)p);
}

/* Milliseconds since the epoch to "YYYY-MM-DD" (UTC). */
static const char *ms_date(int64_t ms, char buf[16])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, 16, "%Y-%m-%d", &tm) == 0)
        return "?";
    return buf;
}

static void print_statement(const Joinedreview__V1__Statement *s)
{
    const Joinedreview__V1__Provenance *pv = s->provenance;
    char date[16];
    const char *sep = " ";

    printf("       [%s/%s %s]", pv && pv->stream ? pv->stream : "?",
           pv && pv->has_author_role ? role_name(pv->author_role) : "?",
           pv && pv->has_occurred_at ? ms_date(pv->occurred_at, date) : "?");
    if (s->has_no_change && s->no_change) {
        printf("%sno change", sep);
        sep = " | ";
    }
    if (s->working && *s->working) {
        printf("%sworking: %s", sep, s->working);
        sep = " | ";
    }
    if (s->not_working && *s->not_working) {
        printf("%snot working: %s", sep, s->not_working);
        sep = " | ";
    }
    if (s->has_priority && s->priority != JOINEDREVIEW__V1__PRIORITY__NOT_GIVEN) {
        printf("%spriority %s", sep, priority_name(s->priority));
        sep = " | ";
    }
    if (pv && pv->author_name && *pv->author_name)
        printf("%sby %s", sep, pv->author_name);
    putchar('\n');
}

static void print_area(const Joinedreview__V1__Area *a)
{
    printf("\n  %u. %s\n", a->number, a->title ? a->title : "");
    if (a->n_statements == 0) {
        printf("     Nothing recorded yet.\n");
        return;
    }
    printf("     Priority for change: %s%s\n",
           priority_name(a->has_priority ? a->priority : JOINEDREVIEW__V1__PRIORITY__NOT_GIVEN),
           a->has_priority_from_person && a->priority_from_person ? " (person's own)" : "");
    if (a->has_conflict && a->conflict) {
        printf("     CONFLICT:");
        for (size_t i = 0; i < a->n_conflict_views; i++) {
            const Joinedreview__V1__PriorityView *v = a->conflict_views[i];
            printf("%s %s/%s says %s for %s", i ? ";" : "", v->stream ? v->stream : "?",
                   role_name(v->author_role), priority_name(v->priority), topic_name(v->topic));
        }
        putchar('\n');
    }
    for (size_t i = 0; i < a->n_statements; i++) {
        const Joinedreview__V1__Statement *s = a->statements[i];
        if (i == 0 || a->statements[i - 1]->topic != s->topic)
            printf("     %s\n", topic_name(s->topic));
        print_statement(s);
    }
}

static void print_topics(const Joinedreview__V1__Topic *topics, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "", topic_name(topics[i]));
}

static void print_schedule(const Joinedreview__V1__Schedule *s)
{
    if (s == NULL || s->review_on == NULL) {
        printf("  Joined-up review: no date yet\n");
        return;
    }
    printf("  Joined-up review due %s, led by %s, covering", s->review_on, s->lead ? s->lead : "?");
    for (size_t i = 0; i < s->n_covered_streams; i++)
        printf("%s %s", i ? "," : "", s->covered_streams[i]);
    printf("\n   ");
    for (size_t i = 0; i < s->n_streams; i++) {
        const Joinedreview__V1__StreamSchedule *st = s->streams[i];
        if (st->next_due_on)
            printf("%s %s due %s", i ? ";" : "", st->stream, st->next_due_on);
        else
            printf("%s %s %s", i ? ";" : "", st->stream,
                   st->has_drives_date && !st->drives_date ? "has no routine review"
                                                           : "has no date");
    }
    printf("\n");
}

/* "large print, a BSL interpreter": the needs in words. */
static void print_needs(const Joinedreview__V1__Need *needs, size_t n, const char *language)
{
    for (size_t i = 0; i < n; i++) {
        const char *title = jr_need_title((jr_need_t)needs[i]);
        printf("%s%s", i ? ", " : "", title ? title : "?");
        if (needs[i] == JOINEDREVIEW__V1__NEED__NEED_OTHER_LANGUAGE && language)
            printf(" (%s)", language);
    }
}

/* How the person wants their review, as the record or a notice says. */
static void print_preferences(const Joinedreview__V1__ReviewPreferences *p, const char *indent)
{
    const char *way = jr_way_title((jr_way_t)p->way);
    printf("%sHow they want their review: %s\n", indent, way ? way : "?");
    if (p->where)
        printf("%s  where: %s\n", indent, p->where);
    if (p->n_involve > 0) {
        printf("%s  who to involve:", indent);
        for (size_t i = 0; i < p->n_involve; i++)
            printf("%s %s", i ? "," : "", p->involve[i]);
        printf("\n");
    }
    if (p->n_needs > 0) {
        printf("%s  to take part they need: ", indent);
        print_needs(p->needs, p->n_needs, p->language);
        printf("\n");
    }
}

/* Each stream's latest budget, its underspend and what happens to it. */
static void print_budgets(const Joinedreview__V1__ConsolidatedReview *r)
{
    if (r->n_budgets == 0)
        return;
    printf("\n  Budgets (latest period of each funding stream):\n");
    for (size_t i = 0; i < r->n_budgets; i++) {
        const Joinedreview__V1__StreamBudget *b = r->budgets[i];
        char a[32], sp[32], u[32];
        const char *rule = jr_underspend_title((jr_underspend_t)b->rule);
        printf(
            "    %s %s to %s: allocated %s, spent %s, %s %s: %s\n", b->stream ? b->stream : "?",
            b->period_start ? b->period_start : "?", b->period_end ? b->period_end : "?",
            jr_text_pounds(b->allocated_pence, a), jr_text_pounds(b->spent_pence, sp),
            b->underspend_pence < 0 ? "overspend" : "underspend",
            jr_text_pounds(b->underspend_pence < 0 ? -b->underspend_pence : b->underspend_pence, u),
            rule ? rule : "?");
    }
}

static void print_review(const Joinedreview__V1__ConsolidatedReview *r)
{
    char nhs[13];
    printf("NHS number %s\n", nhs_display(r->nhs_number, nhs));
    printf("  Review cycle %u, version %u, as of %s\n", r->cycle, r->version,
           r->as_of ? r->as_of : "?");
    if (r->held_on)
        printf("  Review held on %s: this record is final\n", r->held_on);
    printf("  Ready for sign-off: %s\n",
           r->has_ready_for_sign_off && r->ready_for_sign_off ? "yes" : "no");
    printf("  Funding streams:");
    for (size_t i = 0; i < r->n_enrolled_streams; i++)
        printf("%s %s", i ? "," : "", r->enrolled_streams[i]);
    printf("%s\n", r->n_enrolled_streams ? "" : " none in force");
    if (r->called)
        printf("  Name to use: %s\n", r->called);
    if (r->preferences)
        print_preferences(r->preferences, "  ");
    if (r->group_key)
        printf("  Wants a group review with others at: %s\n", r->group_key);
    print_schedule(r->schedule);
    for (size_t i = 0; i < r->n_held_for; i++) {
        const Joinedreview__V1__HeldFor *h = r->held_for[i];
        printf("  Held for %s, %s its own due date%s%s\n", h->stream ? h->stream : "?",
               h->by_due_date ? "by" : "after", h->due_on ? " " : "", h->due_on ? h->due_on : "");
    }

    for (size_t i = 0; i < r->n_areas; i++)
        print_area(r->areas[i]);

    printf("\n  Minimum information by funding stream:\n");
    if (r->n_completeness == 0)
        printf("    (no funding stream in force)\n");
    for (size_t i = 0; i < r->n_completeness; i++) {
        const Joinedreview__V1__StreamCompleteness *c = r->completeness[i];
        printf("    %s: ", c->stream ? c->stream : "?");
        if (c->n_missing == 0) {
            printf("complete\n");
        } else {
            printf("missing ");
            print_topics(c->missing, c->n_missing);
            putchar('\n');
        }
    }

    print_budgets(r);

    const Joinedreview__V1__PlanRevision *p = r->plan_revision;
    printf("\n  Support plan revision: ");
    if (!p) {
        printf("not agreed yet\n");
        return;
    }
    printf("revise by %s", p->revise_by ? p->revise_by : "(no date)");
    if (p->revised_by)
        printf(", by %s", p->revised_by);
    if (p->has_approval_needed && p->approval_needed)
        printf("; changes need approval%s%s\n", p->approver ? " from " : "",
               p->approver ? p->approver : "");
    else
        printf("; no approval needed\n");
}

/* ---- reviews: JSON ------------------------------------------------------------- */

static json_t *message_json(const ProtobufCMessage *msg);

/* One value of field `f` stored at `p`, mirroring the proto: enums by name,
 * int64 instants as numbers. */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v = *(const uint64_t *)p;
        if (v <= (uint64_t)LLONG_MAX)
            return json_integer((json_int_t)v);
        char buf[24];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
        return json_string(buf);
    }
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        return ev ? json_string(ev->name) : json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        json_t *j = json_string(s);
        return j ? j : json_null(); /* not UTF-8: the daemon should never store that */
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return message_json(*(ProtobufCMessage *const *)p);
    case PROTOBUF_C_TYPE_BYTES:
    default:
        return json_null(); /* no bytes fields in the contract */
    }
}

static size_t element_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

/* Whether a non-repeated field was set (proto2 presence). */
static bool field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)msg;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(void *const *)(base + f->offset) != NULL;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
    return true;
}

/* A message as a JSON object with the proto's field names, in tag order.
 * Unset optional fields are left out; repeated fields are always arrays. */
static json_t *message_json(const ProtobufCMessage *msg)
{
    if (!msg)
        return json_null();
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const char *base = (const char *)msg;
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const char *array = *(const char *const *)(base + f->offset);
            json_t *arr = json_array();
            for (size_t k = 0; arr && k < n; k++)
                json_array_append_new(arr, value_json(f, array + k * element_size(f)));
            json_object_set_new(obj, f->name, arr);
        } else if (field_present(msg, f)) {
            json_object_set_new(obj, f->name, value_json(f, base + f->offset));
        }
    }
    return obj;
}

/* ---- reviews ------------------------------------------------------------------- */

/* Connects for `reviews` and `notices`. dbname with expand_dbname takes a
 * full conninfo string or URI; absent values fall back to the PG*
 * environment, as psql does. NULL (said on stderr) when it cannot. */
static PGconn *db_connect(const char *conninfo)
{
    const char *const keys[] = {"dbname", "fallback_application_name", NULL};
    const char *const values[] = {conninfo, "joinedreview", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "joinedreview: cannot connect to the database: %s",
                conn ? PQerrorMessage(conn) : "out of memory\n");
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static int cmd_reviews(int argc, char **argv)
{
    static const struct option longopts[] = {{"database", required_argument, NULL, 'd'},
                                             {"nhs", required_argument, NULL, 'n'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    /* Parameters only: the NHS number is $1, never part of the text. Each
     * person's newest cycle's record: after a review held, the held cycle's
     * final one until the next event. */
    static const char sql_all[] = "SELECT DISTINCT ON (nhs_number) record FROM "
                                  "review_record ORDER BY nhs_number, cycle DESC";
    static const char sql_one[] = "SELECT record FROM review_record WHERE nhs_number = $1 "
                                  "ORDER BY cycle DESC LIMIT 1";
    const char *conninfo = NULL, *nhs_arg = NULL;
    bool as_json = false;
    char nhs[11];
    int c;

    while ((c = getopt_long(argc, argv, "d:n:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            conninfo = optarg;
            break;
        case 'n':
            nhs_arg = optarg;
            break;
        case 'j':
            as_json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fputs("Try 'joinedreview --help'.\n", stderr);
            return EXIT_TROUBLE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joinedreview reviews: unexpected argument \"%s\"\n", argv[optind]);
        return EXIT_TROUBLE;
    }
    if (nhs_arg && !nhs_normalise(nhs_arg, nhs)) {
        fprintf(stderr, "joinedreview reviews: \"%s\" is not a valid NHS number\n", nhs_arg);
        return EXIT_TROUBLE;
    }

    PGconn *conn = db_connect(conninfo);
    PGresult *res = NULL;
    int status = 0;
    if (conn == NULL) {
        status = EXIT_TROUBLE;
        goto done;
    }
    const char *params[1] = {nhs};
    res = PQexecParams(conn, nhs_arg ? sql_one : sql_all, nhs_arg ? 1 : 0, NULL,
                       nhs_arg ? params : NULL, NULL, NULL, 1 /* binary: bytea as raw bytes */);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "joinedreview: reading consolidated reviews failed: %s",
                PQresultErrorMessage(res));
        status = EXIT_TROUBLE;
        goto done;
    }

    int rows = PQntuples(res);
    for (int row = 0; row < rows; row++) {
        const uint8_t *data = (const uint8_t *)PQgetvalue(res, row, 0);
        size_t len = (size_t)PQgetlength(res, row, 0);
        Joinedreview__V1__ConsolidatedReview *r =
            joinedreview__v1__consolidated_review__unpack(NULL, len, data);
        if (!r) {
            fprintf(stderr,
                    "joinedreview: review %d of %d is not a readable ConsolidatedReview "
                    "(%zu bytes)\n",
                    row + 1, rows, len);
            status = EXIT_REJECTED;
            continue;
        }
        if (as_json) {
            json_t *j = message_json(&r->base);
            char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            if (text)
                puts(text);
            else
                status = EXIT_TROUBLE;
            free(text);
            json_decref(j);
        } else {
            if (row > 0)
                printf("\n========================================================\n\n");
            print_review(r);
        }
        joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
    }
    if (rows == 0) {
        if (nhs_arg) {
            char buf[13];
            fprintf(stderr, "joinedreview: no consolidated review for NHS number %s\n",
                    nhs_display(nhs, buf));
            status = EXIT_REJECTED;
        } else {
            fprintf(stderr, "joinedreview: no consolidated reviews yet\n");
        }
    }

done:
    PQclear(res);
    PQfinish(conn);
    if (fflush(stdout) != 0 && status == 0)
        status = EXIT_TROUBLE;
    return status;
}

/* ---- notices ----------------------------------------------------------------- */

static void print_notice(uint64_t seq, const char *topic, const Joinedreview__V1__DueNotice *n)
{
    char nhs[13];
    const char *what = n->kind == JOINEDREVIEW__V1__DUE_NOTICE__KIND__LEAD  ? "coming up"
                       : n->kind == JOINEDREVIEW__V1__DUE_NOTICE__KIND__DUE ? "due today"
                                                                            : "OVERDUE";
    printf("#%llu %-22s %s: joined-up review %s on %s (notice of %s), lead %s, covering",
           (unsigned long long)seq, topic, nhs_display(n->nhs_number, nhs), what,
           n->review_on ? n->review_on : "?", n->notice_on ? n->notice_on : "?",
           n->lead ? n->lead : "?");
    for (size_t i = 0; i < n->n_covered_streams; i++)
        printf("%s %s", i ? "," : "", n->covered_streams[i]);
    if (n->n_missing_information > 0) {
        printf("; minimum information still missing for");
        for (size_t i = 0; i < n->n_missing_information; i++)
            printf("%s %s", i ? "," : "", n->missing_information[i]);
    }
    printf("\n");
    if (n->called)
        printf("      name to use: %s\n", n->called);
    if (n->preferences)
        print_preferences(n->preferences, "      ");
}

/* A suggested group review, its members by the names they want to be
 * called and their own dates. */
static void print_group(uint64_t seq, const char *topic, const Joinedreview__V1__GroupSuggestion *g)
{
    printf("#%llu %-22s ", (unsigned long long)seq, topic);
    if (g->withdrawn) {
        printf("group review at %s withdrawn: it no longer forms",
               g->group_key ? g->group_key : "?");
    } else {
        printf("suggested group review at %s on %s, lead %s, for %zu people:",
               g->group_key ? g->group_key : "?", g->review_on ? g->review_on : "?",
               g->lead ? g->lead : "?", g->n_members);
    }
    for (size_t i = 0; i < g->n_replaces; i++)
        printf("%s#%llu", i ? ", " : "; replaces ", (unsigned long long)g->replaces[i]);
    printf("\n");
    for (size_t i = 0; i < g->n_members; i++) {
        const Joinedreview__V1__GroupMember *m = g->members[i];
        char nhs[13];
        printf("      %s (%s), own review date %s", m->called ? m->called : "(no name given)",
               nhs_display(m->nhs_number, nhs), m->review_on ? m->review_on : "?");
        if (m->n_needs > 0) {
            printf("; needs ");
            print_needs(m->needs, m->n_needs, NULL);
        }
        printf("\n");
    }
}

static int cmd_notices(int argc, char **argv)
{
    static const struct option longopts[] = {{"database", required_argument, NULL, 'd'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *conninfo = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            conninfo = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fputs("Try 'joinedreview --help'.\n", stderr);
            return EXIT_TROUBLE;
        }
    }
    PGconn *conn = db_connect(conninfo);
    PGresult *res = NULL;
    int status = 0;
    if (conn == NULL) {
        status = EXIT_TROUBLE;
        goto done;
    }
    res = PQexecParams(conn,
                       "SELECT seq::text, topic, payload FROM publication "
                       "WHERE topic LIKE 'notice.%' OR topic LIKE 'group.%' ORDER BY seq",
                       0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "joinedreview: reading notices failed: %s", PQresultErrorMessage(res));
        status = EXIT_TROUBLE;
        goto done;
    }
    for (int row = 0; row < PQntuples(res); row++) {
        char seq[32], topic[80];
        snprintf(seq, sizeof seq, "%.*s", PQgetlength(res, row, 0), PQgetvalue(res, row, 0));
        snprintf(topic, sizeof topic, "%.*s", PQgetlength(res, row, 1), PQgetvalue(res, row, 1));
        if (strncmp(topic, "group.", 6) == 0) {
            Joinedreview__V1__GroupSuggestion *g = joinedreview__v1__group_suggestion__unpack(
                NULL, (size_t)PQgetlength(res, row, 2), (const uint8_t *)PQgetvalue(res, row, 2));
            if (!g) {
                fprintf(stderr, "joinedreview: %s is not a readable GroupSuggestion\n", seq);
                status = EXIT_REJECTED;
                continue;
            }
            print_group(strtoull(seq, NULL, 10), topic, g);
            joinedreview__v1__group_suggestion__free_unpacked(g, NULL);
            continue;
        }
        Joinedreview__V1__DueNotice *n = joinedreview__v1__due_notice__unpack(
            NULL, (size_t)PQgetlength(res, row, 2), (const uint8_t *)PQgetvalue(res, row, 2));
        if (!n) {
            fprintf(stderr, "joinedreview: notice %s is not a readable DueNotice\n", seq);
            status = EXIT_REJECTED;
            continue;
        }
        print_notice(strtoull(seq, NULL, 10), topic, n);
        joinedreview__v1__due_notice__free_unpacked(n, NULL);
    }
    if (PQntuples(res) == 0)
        printf("no due notices yet\n");
done:
    PQclear(res);
    PQfinish(conn);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_TROUBLE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("joinedreview %s\n", JR_VERSION);
        return 0;
    }
    /* Subcommands parse their options from argv[1] ("push ...") on. */
    if (strcmp(cmd, "push") == 0)
        return cmd_push(argc - 1, argv + 1);
    if (strcmp(cmd, "reviews") == 0)
        return cmd_reviews(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0)
        return jr_keygen_main(argc - 1, argv + 1);
    if (strcmp(cmd, "notices") == 0)
        return cmd_notices(argc - 1, argv + 1);
    if (strcmp(cmd, "setup-database") == 0)
        return jr_setup_database_main(argc - 1, argv + 1);
    if (strcmp(cmd, "summary") == 0)
        return jr_summary_main(argc - 1, argv + 1, db_connect);
    if (strcmp(cmd, "tail") == 0) {
        const jr_tail_helpers_t helpers = {message_json, nhs_normalise, read_key_file};
        return jr_tail_main(argc - 1, argv + 1, &helpers);
    }
    fprintf(stderr, "joinedreview: unknown command \"%s\"; try 'joinedreview --help'.\n", cmd);
    return EXIT_TROUBLE;
}
