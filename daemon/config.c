/* config.c -- see config.h. */
#include "config.h"

#include "log.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int parse_leads(const jr_cfg_key_t *k, void *field, const char *value, char *err,
                       size_t errlen)
{
    jr_schedule_rules_t *rules = field;
    size_t n = 0;
    const char *c = value;
    while (*c != '\0') {
        char *end = NULL;
        errno = 0;
        long v = strtol(c, &end, 10);
        if (end == c || errno != 0 || v < k->min || v > k->max || n == JR_SCHEDULE_LEADS_MAX) {
            snprintf(err, errlen, "'%s' must be up to %d whole numbers of days from %lld to %lld",
                     k->key, JR_SCHEDULE_LEADS_MAX, k->min, k->max);
            return -1;
        }
        rules->lead_days[n++] = (unsigned)v;
        c = end;
        while (*c == ' ' || *c == ',') {
            c++;
        }
    }
    rules->n_leads = n;
    return 0;
}

static int parse_topics(const jr_cfg_key_t *k, void *field, const char *value, char *err,
                        size_t errlen)
{
    const char *bad = NULL;
    jr_topic_set_t set = 0;
    if (jr_format_topics_parse(value, &set, &bad) != 0) {
        snprintf(err, errlen, "'%s': unknown topic at '%.40s'", k->key, bad ? bad : value);
        return -1;
    }
    *(jr_topic_set_t *)field = set;
    return 0;
}

static int parse_underspend(const jr_cfg_key_t *k, void *field, const char *value, char *err,
                            size_t errlen)
{
    if (jr_underspend_from_code(value, field) != 0) {
        snprintf(err, errlen, "'%s' must be returned, carried_forward, kept or not_set", k->key);
        return -1;
    }
    return 0;
}

static int check_security(const char *value, char *err, size_t errlen)
{
    if (strcmp(value, "curve") != 0 && strcmp(value, "plaintext-development") != 0) {
        snprintf(err, errlen, "'security' must be curve or plaintext-development");
        return -1;
    }
    return 0;
}

static int check_log_level(const char *value, char *err, size_t errlen)
{
    if (jr_log_level_from_name(value) < 0) {
        snprintf(err, errlen, "'log_level' must be err, warning, notice, info or debug");
        return -1;
    }
    return 0;
}

#define RESTART .when = JR_CFG_ON_RESTART
#define LEADS                                                                                      \
    .type = JR_CFG_CUSTOM, .parse = parse_leads, .type_name = "days",                              \
    .size = sizeof(jr_schedule_rules_t)
#define TOPICS                                                                                     \
    .type = JR_CFG_CUSTOM, .parse = parse_topics, .type_name = "topics",                           \
    .size = sizeof(jr_topic_set_t)
#define UNDERSPEND                                                                                 \
    .type = JR_CFG_CUSTOM, .parse = parse_underspend, .type_name = "rule",                         \
    .size = sizeof(jr_underspend_t)

#define D(field) offsetof(jr_config_t, field)
static const jr_cfg_key_t g_daemon_keys[] = {
    {.key = "ingest_endpoint",
     .type = JR_CFG_STRING,
     .offset = D(ingest_endpoint),
     .def = "tcp://127.0.0.1:5560",
     RESTART,
     .help = "ZeroMQ endpoint the ROUTER binds for adapters"},
    {.key = "publish_endpoint",
     .type = JR_CFG_STRING,
     .offset = D(publish_endpoint),
     .def = "tcp://127.0.0.1:5561",
     RESTART,
     .help = "ZeroMQ endpoint the PUB binds for subscribers"},
    {.key = "catchup_endpoint",
     .type = JR_CFG_STRING,
     .offset = D(catchup_endpoint),
     .def = "tcp://127.0.0.1:5562",
     RESTART,
     .help = "ZeroMQ endpoint the catch-up ROUTER binds for subscribers that missed publications"},
    {.key = "pseudonymised_endpoint",
     .type = JR_CFG_STRING,
     .offset = D(pseudonymised_endpoint),
     .def = "tcp://127.0.0.1:5563",
     RESTART,
     .help =
         "ZeroMQ endpoint of the PUB carrying pseudonymised records and notices, and statistics"},
    {.key = "statistics_endpoint",
     .type = JR_CFG_STRING,
     .offset = D(statistics_endpoint),
     .def = "tcp://127.0.0.1:5564",
     RESTART,
     .help = "ZeroMQ endpoint of the PUB carrying statistics alone, for keys with the statistics "
             "right"},
    {.key = "security",
     .type = JR_CFG_STRING,
     .offset = D(security),
     .def = "curve",
     RESTART,
     .check = check_security,
     .help = "curve (every socket encrypted and authenticated), or plaintext-development (never in "
             "production)"},
    {.key = "server_key_file",
     .type = JR_CFG_STRING,
     .offset = D(server_key_file),
     .def = "",
     RESTART,
     .help = "the daemon's CURVE key pair, as written by 'joinedreview keygen' (a credential)"},
    {.key = "allow_list_file",
     .type = JR_CFG_STRING,
     .offset = D(allow_list_file),
     .def = "",
     .help = "the clients allowed to connect and their rights (reloaded on SIGHUP)"},
    {.key = "pseudonym_key_file",
     .type = JR_CFG_STRING,
     .offset = D(pseudonym_key_file),
     .def = "",
     RESTART,
     .help =
         "at least 32 random bytes keying the pseudonyms of the pseudonymised feed (a credential); "
         "empty: that feed carries statistics only"},
    {.key = "database",
     .type = JR_CFG_STRING,
     .offset = D(database),
     .def = "dbname=joinedreview",
     RESTART,
     .help = "libpq connection string; use passfile= for the password, sslmode=verify-full in "
             "production"},
    {.key = "database_owner",
     .type = JR_CFG_STRING,
     .offset = D(database_owner),
     .def = "",
     RESTART,
     .help =
         "libpq connection string of the login that owns the schema and runs migrations; empty: "
         "the daemon's own login does"},
    {.key = "log_level",
     .type = JR_CFG_STRING,
     .offset = D(log_level),
     .def = "info",
     .check = check_log_level,
     .help = "err, warning, notice, info or debug"},
    {.key = "batch_max",
     .type = JR_CFG_INT,
     .offset = D(batch_max),
     .def = "1000",
     .min = 1,
     .max = 10000,
     .help = "most envelopes written in one transaction"},
    {.key = "max_message_bytes",
     .type = JR_CFG_INT,
     .offset = D(max_message_bytes),
     .def = "65536",
     .min = 1024,
     .max = 1048576,
     RESTART,
     .help = "largest envelope accepted, in bytes"},
    {.key = "max_text_bytes",
     .type = JR_CFG_INT,
     .offset = D(max_text_bytes),
     .def = "4000",
     .min = 64,
     .max = 65536,
     .help = "longest statement text (what is working / not working), in bytes"},
    {.key = "reconnect_max_ms",
     .type = JR_CFG_INT,
     .offset = D(reconnect_max_ms),
     .def = "30000",
     .min = 100,
     .max = 600000,
     .help = "longest wait between database reconnection attempts"},
    {.key = "statement_timeout_ms",
     .type = JR_CFG_INT,
     .offset = D(statement_timeout_ms),
     .def = "30000",
     .min = 100,
     .max = 600000,
     RESTART,
     .help = "PostgreSQL statement_timeout for the daemon's session"},
    {.key = "future_tolerance_s",
     .type = JR_CFG_INT,
     .offset = D(future_tolerance_s),
     .def = "86400",
     .min = 0,
     .max = 604800,
     .help = "how far ahead of the daemon's clock an event's occurred_at may be"},
    {.key = "alignment_window_days",
     .type = JR_CFG_UINT,
     .offset = D(rules.window_days),
     .def = "90",
     .min = 0,
     .max = 730,
     .help = "streams due within this many days after the joined-up review date join it"},
    {.key = "notice_lead_days",
     LEADS,
     .offset = D(rules),
     .def = "56 28 7",
     .min = 1,
     .max = 365,
     .help = "days before the review date that notices go out (up to 8, space-separated)"},
    {.key = "group_window_days",
     .type = JR_CFG_UINT,
     .offset = D(rules.group_window_days),
     .def = "28",
     .min = 0,
     .max = 365,
     .help = "people who want a group review join one whose earliest review date is at most "
             "this many days before theirs"},
    {.key = "group_max",
     .type = JR_CFG_UINT,
     .offset = D(rules.group_max),
     .def = "8",
     .min = 2,
     .max = 100,
     .help = "most people in one suggested group review"},
    {.key = "outbox_retention_days",
     .type = JR_CFG_INT,
     .offset = D(outbox_retention_days),
     .def = "30",
     .min = 1,
     .max = 3650,
     .help = "how long publications stay in the outbox for catch-up; older requests get TOO_OLD"},
    {.key = "statistics_interval_s",
     .type = JR_CFG_INT,
     .offset = D(statistics_interval_s),
     .def = "60",
     .min = 1,
     .max = 86400,
     .help = "how often statistics are published under the topic 'statistics'"},
    {.key = "due_check_interval_s",
     .type = JR_CFG_INT,
     .offset = D(due_check_interval_s),
     .def = "60",
     .min = 1,
     .max = 86400,
     .help = "how often the daemon checks which notices have fallen due"},
    {.key = "rejected_retention_days",
     .type = JR_CFG_INT,
     .offset = D(rejected_retention_days),
     .def = "90",
     .min = 1,
     .max = 3650,
     .help = "how long a rejected message not seen again is kept for inspection"},
    {.key = "rejected_max_rows",
     .type = JR_CFG_INT,
     .offset = D(rejected_max_rows),
     .def = "100000",
     .min = 100,
     .max = 10000000,
     .help =
         "most rejected messages kept (each at most 4 KiB of its bytes); the least recently seen "
         "make room"},
    {.key = "max_connections",
     .type = JR_CFG_INT,
     .offset = D(max_connections),
     .def = "1000",
     .min = 1,
     .max = 1000000,
     .help = "client connections open at once across the public sockets; more are shut at once "
             "(lowered "
             "at start-up to what the open-files limit allows)"},
    {.key = "metrics_port",
     .type = JR_CFG_INT,
     .offset = D(metrics_port),
     .def = "0",
     .min = 0,
     .max = 65535,
     RESTART,
     .help = "port of the daemon's Prometheus figures (GET /metrics), on 127.0.0.1 only; 0: "
             "none"},
    {.key = "handshake_timeout_ms",
     .type = JR_CFG_INT,
     .offset = D(handshake_timeout_ms),
     .def = "5000",
     .min = 100,
     .max = 60000,
     RESTART,
     .help = "a connection that has not finished its CURVE handshake by then is dropped"},
    {.key = "ingest_queue",
     .type = JR_CFG_INT,
     .offset = D(ingest_queue),
     .def = "1000",
     .min = 10,
     .max = 100000,
     RESTART,
     .help = "envelopes received from one adapter connection and not yet taken by the daemon; "
             "beyond it "
             "the adapter waits"},
    {.key = "ack_queue",
     .type = JR_CFG_INT,
     .offset = D(ack_queue),
     .def = "1000",
     .min = 10,
     .max = 100000,
     RESTART,
     .help =
         "acks held for one adapter connection that does not read them; beyond it they are dropped "
         "(a resend is answered DUPLICATE)"},
    {.key = "publish_queue",
     .type = JR_CFG_INT,
     .offset = D(publish_queue),
     .def = "10000",
     .min = 100,
     .max = 1000000,
     RESTART,
     .help =
         "publications held for one subscriber that does not read them; beyond it they are dropped "
         "(catch-up fills the gap)"},
};
#undef D

#define S(field) offsetof(jr_stream_t, field)
static const jr_cfg_key_t g_stream_keys[] = {
    {.key = "name",
     .type = JR_CFG_CHARS,
     .offset = S(name),
     .max = sizeof(((jr_stream_t *)0)->name),
     .help = "the stream's name"},
    {.key = "enabled",
     .type = JR_CFG_BOOL,
     .offset = S(enabled),
     .help = "whether events for the stream are accepted"},
    {.key = "required",
     TOPICS,
     .offset = S(required),
     .help = "topics of its minimum information (INCOME and INFORMATION are always added); ALL = "
             "areas 1-8"},
    {.key = "interval_days",
     .type = JR_CFG_UINT,
     .offset = S(interval_days),
     .min = 0,
     .max = 3650,
     .help = "routine review interval; 0 = never drives a review date"},
    {.key = "first_review_days",
     .type = JR_CFG_UINT,
     .offset = S(first_review_days),
     .min = 0,
     .max = 3650,
     .help = "early first review after the start; 0 = none"},
    {.key = "before_award_end_days",
     .type = JR_CFG_UINT,
     .offset = S(before_award_end_days),
     .min = 0,
     .max = 3650,
     .help = "review due this many days before the award ends; 0 = not used"},
    {.key = "default_award_days",
     .type = JR_CFG_UINT,
     .offset = S(default_award_days),
     .min = 0,
     .max = 3650,
     .help = "award length assumed when no end is given"},
    {.key = "lead_rank",
     .type = JR_CFG_UINT,
     .offset = S(lead_rank),
     .min = 0,
     .max = 100,
     .help = "lead-organisation precedence: 1 leads first; 0 = last"},
    {.key = "underspend",
     UNDERSPEND,
     .offset = S(underspend),
     .help = "what happens to an underspend: returned (to the stream), carried_forward (in the "
             "person's budget), kept (by the person to use freely), or not_set (shown as 'no "
             "agreed rule')"},
};
#undef S

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Sets one key of [section]; the single path for files, overrides and
 * defaults. */
static int config_set(jr_config_t *self, const char *section, const char *key, const char *value,
                      char *err, size_t errlen)
{
    if (strcmp(section, "daemon") == 0) {
        const jr_cfg_key_t *k = jr_cfg_find(g_daemon_keys, N_ELEMS(g_daemon_keys), key);
        if (k == NULL) {
            snprintf(err, errlen, "unknown key '%s' in [daemon]", key);
            return -1;
        }
        return jr_cfg_set(k, self, value, err, errlen);
    }
    if (strncmp(section, "stream.", 7) == 0) {
        const char *code = section + 7;
        const jr_cfg_key_t *k = jr_cfg_find(g_stream_keys, N_ELEMS(g_stream_keys), key);
        if (k == NULL) {
            snprintf(err, errlen, "unknown key '%s' in [%s]", key, section);
            return -1;
        }
        jr_stream_t row;
        const jr_stream_t *old = jr_streams_find(self->streams, code);
        if (old != NULL) {
            row = *old;
        } else {
            /* A new stream: enabled, needing only the common minimum, until
             * its keys say otherwise. */
            memset(&row, 0, sizeof row);
            if (strlen(code) >= sizeof row.code) {
                snprintf(err, errlen, "stream code '%s' is too long", code);
                return -1;
            }
            strcpy(row.code, code);
            snprintf(row.name, sizeof row.name, "%s", code);
            row.enabled = true;
        }
        if (jr_cfg_set(k, &row, value, err, errlen) != 0) {
            return -1;
        }
        if (jr_streams_put(self->streams, &row) != 0) {
            snprintf(err, errlen, "stream code '%s' must be upper-case letters, digits or '_'",
                     code);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "unknown section [%s]", section);
    return -1;
}

static int on_line(void *ctx, const char *section, const char *key, const char *value, char *err,
                   size_t errlen)
{
    return config_set(ctx, section, key, value, err, errlen);
}

jr_config_t *jr_config_new(void)
{
    jr_config_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        return NULL;
    }
    self->streams = jr_streams_new_default();
    char err[256];
    if (self->streams == NULL ||
        jr_cfg_defaults(g_daemon_keys, N_ELEMS(g_daemon_keys), self, err, sizeof err) != 0) {
        jr_config_destroy(&self);
    }
    return self;
}

void jr_config_destroy(jr_config_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_config_t *self = *self_p;
    jr_cfg_release(g_daemon_keys, N_ELEMS(g_daemon_keys), self);
    jr_streams_destroy(&self->streams);
    free(self);
    *self_p = NULL;
}

int jr_config_load_file(jr_config_t *self, const char *path, char *err, size_t errlen)
{
    return jr_cfg_read_file(path, on_line, self, err, errlen);
}

int jr_config_override(jr_config_t *self, const char *assignment, char *err, size_t errlen)
{
    char section[64], key[64], msg[256];
    const char *value = NULL;
    if (jr_cfg_split(assignment, section, key, &value, err, errlen) != 0) {
        return -1;
    }
    if (config_set(self, section, key, value, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "--set %s: %s", assignment, msg);
        return -1;
    }
    return 0;
}

void jr_config_apply_reload(jr_config_t *self, jr_config_t *fresh, char *kept, size_t keptlen)
{
    size_t used = 0;
    kept[0] = '\0';
    for (size_t i = 0; i < N_ELEMS(g_daemon_keys); i++) {
        const jr_cfg_key_t *k = &g_daemon_keys[i];
        if (jr_cfg_same(k, self, fresh)) {
            continue;
        }
        if (k->when == JR_CFG_ON_RELOAD) {
            jr_cfg_take(k, self, fresh);
        } else if (used + strlen(k->key) + 3 < keptlen) {
            used += (size_t)snprintf(kept + used, keptlen - used, "%s%s", used ? ", " : "", k->key);
        }
    }
    /* The funding streams are data: a reload applies them whole. */
    jr_streams_t *streams = self->streams;
    self->streams = fresh->streams;
    fresh->streams = streams;
}

void jr_config_print_reference(FILE *out)
{
    jr_cfg_print(out, "daemon", g_daemon_keys, N_ELEMS(g_daemon_keys));
    jr_cfg_print(out, "stream.CODE", g_stream_keys, N_ELEMS(g_stream_keys));
}
