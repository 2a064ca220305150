/* config.c -- see config.h. */
#include "config.h"

#include "log.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* CFG_NAME is a fixed char array inside a stream row; CFG_UINT an unsigned. */
typedef enum {
    CFG_STRING,
    CFG_NAME,
    CFG_INT,
    CFG_UINT,
    CFG_BOOL,
    CFG_TOPICS,
    CFG_LEADS
} cfg_type_t;

typedef struct {
    const char *key;
    cfg_type_t type;
    size_t offset;
    const char *def; /* NULL: no default (for stream fields, the row's own) */
    long min, max;
    const char *help;
} cfg_key_t;

#define D(field) offsetof(jr_config_t, field)
static const cfg_key_t g_daemon_keys[] = {
    {"ingest_endpoint", CFG_STRING, D(ingest_endpoint), "tcp://127.0.0.1:5560", 0, 0,
     "ZeroMQ endpoint the ROUTER binds for adapters"},
    {"publish_endpoint", CFG_STRING, D(publish_endpoint), "tcp://127.0.0.1:5561", 0, 0,
     "ZeroMQ endpoint the PUB binds for subscribers"},
    {"catchup_endpoint", CFG_STRING, D(catchup_endpoint), "tcp://127.0.0.1:5562", 0, 0,
     "ZeroMQ endpoint the catch-up ROUTER binds for subscribers that missed publications"},
    {"pseudonymised_endpoint", CFG_STRING, D(pseudonymised_endpoint), "tcp://127.0.0.1:5563", 0, 0,
     "ZeroMQ endpoint of the PUB carrying pseudonymised records and notices, and statistics"},
    {"statistics_endpoint", CFG_STRING, D(statistics_endpoint), "tcp://127.0.0.1:5564", 0, 0,
     "ZeroMQ endpoint of the PUB carrying statistics alone, for keys with the statistics right"},
    {"security", CFG_STRING, D(security), "curve", 0, 0,
     "curve (every socket encrypted and authenticated), or plaintext-development (never in "
     "production)"},
    {"server_key_file", CFG_STRING, D(server_key_file), "", 0, 0,
     "the daemon's CURVE key pair, as written by 'joinedreview keygen' (a credential)"},
    {"allow_list_file", CFG_STRING, D(allow_list_file), "", 0, 0,
     "the clients allowed to connect and their rights (reloaded on SIGHUP)"},
    {"pseudonym_key_file", CFG_STRING, D(pseudonym_key_file), "", 0, 0,
     "at least 32 random bytes keying the pseudonyms of the pseudonymised feed (a credential); "
     "empty: that feed carries statistics only"},
    {"database", CFG_STRING, D(database), "dbname=joinedreview", 0, 0,
     "libpq connection string; use passfile= for the password, sslmode=verify-full in "
     "production"},
    {"database_owner", CFG_STRING, D(database_owner), "", 0, 0,
     "libpq connection string of the login that owns the schema and runs migrations; empty: "
     "the daemon's own login does"},
    {"log_level", CFG_STRING, D(log_level), "info", 0, 0, "err, warning, notice, info or debug"},
    {"batch_max", CFG_INT, D(batch_max), "1000", 1, 10000,
     "most envelopes written in one transaction"},
    {"max_message_bytes", CFG_INT, D(max_message_bytes), "65536", 1024, 1048576,
     "largest envelope accepted, in bytes"},
    {"max_text_bytes", CFG_INT, D(max_text_bytes), "4000", 64, 65536,
     "longest statement text (what is working / not working), in bytes"},
    {"reconnect_max_ms", CFG_INT, D(reconnect_max_ms), "30000", 100, 600000,
     "longest wait between database reconnection attempts"},
    {"statement_timeout_ms", CFG_INT, D(statement_timeout_ms), "30000", 100, 600000,
     "PostgreSQL statement_timeout for the daemon's session"},
    {"future_tolerance_s", CFG_INT, D(future_tolerance_s), "86400", 0, 604800,
     "how far ahead of the daemon's clock an event's occurred_at may be"},
    {"alignment_window_days", CFG_UINT, D(rules.window_days), "90", 0, 730,
     "streams due within this many days after the joined-up review date join it"},
    {"notice_lead_days", CFG_LEADS, D(rules), "56 28 7", 1, 365,
     "days before the review date that notices go out (up to 8, space-separated)"},
    {"outbox_retention_days", CFG_INT, D(outbox_retention_days), "30", 1, 3650,
     "how long publications stay in the outbox for catch-up; older requests get TOO_OLD"},
    {"statistics_interval_s", CFG_INT, D(statistics_interval_s), "60", 1, 86400,
     "how often statistics are published under the topic 'statistics'"},
    {"due_check_interval_s", CFG_INT, D(due_check_interval_s), "60", 1, 86400,
     "how often the daemon checks which notices have fallen due"},
    {"rejected_retention_days", CFG_INT, D(rejected_retention_days), "90", 1, 3650,
     "how long a rejected message not seen again is kept for inspection"},
    {"rejected_max_rows", CFG_INT, D(rejected_max_rows), "100000", 100, 10000000,
     "most rejected messages kept (each at most 4 KiB of its bytes); the least recently seen "
     "make room"},
    {"max_connections", CFG_INT, D(max_connections), "1000", 1, 1000000,
     "client connections open at once across the public sockets; more are shut at once (lowered "
     "at start-up to what the open-files limit allows)"},
    {"handshake_timeout_ms", CFG_INT, D(handshake_timeout_ms), "5000", 100, 60000,
     "a connection that has not finished its CURVE handshake by then is dropped"},
    {"ingest_queue", CFG_INT, D(ingest_queue), "1000", 10, 100000,
     "envelopes received from one adapter connection and not yet taken by the daemon; beyond it "
     "the adapter waits"},
    {"ack_queue", CFG_INT, D(ack_queue), "1000", 10, 100000,
     "acks held for one adapter connection that does not read them; beyond it they are dropped "
     "(a resend is answered DUPLICATE)"},
    {"publish_queue", CFG_INT, D(publish_queue), "10000", 100, 1000000,
     "publications held for one subscriber that does not read them; beyond it they are dropped "
     "(catch-up fills the gap)"},
};
#undef D

#define S(field) offsetof(jr_stream_t, field)
static const cfg_key_t g_stream_keys[] = {
    {"name", CFG_NAME, S(name), NULL, 0, 0, "the stream's name"},
    {"enabled", CFG_BOOL, S(enabled), NULL, 0, 1, "whether events for the stream are accepted"},
    {"required", CFG_TOPICS, S(required), NULL, 0, 0,
     "topics of its minimum information (INCOME and INFORMATION are always added); ALL = "
     "areas 1-8"},
    {"interval_days", CFG_UINT, S(interval_days), NULL, 0, 3650,
     "routine review interval; 0 = never drives a review date"},
    {"first_review_days", CFG_UINT, S(first_review_days), NULL, 0, 3650,
     "early first review after the start; 0 = none"},
    {"before_award_end_days", CFG_UINT, S(before_award_end_days), NULL, 0, 3650,
     "review due this many days before the award ends; 0 = not used"},
    {"default_award_days", CFG_UINT, S(default_award_days), NULL, 0, 3650,
     "award length assumed when no end is given"},
    {"lead_rank", CFG_UINT, S(lead_rank), NULL, 0, 100,
     "lead-organisation precedence: 1 leads first; 0 = last"},
};
#undef S

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int set_value(void *base, const cfg_key_t *k, const char *value, char *err, size_t errlen)
{
    char *at = (char *)base + k->offset;
    switch (k->type) {
    case CFG_STRING: {
        char *copy = strdup(value);
        if (copy == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        free(*(char **)at);
        *(char **)at = copy;
        return 0;
    }
    case CFG_NAME:
        if (strlen(value) >= sizeof(((jr_stream_t *)0)->name)) {
            snprintf(err, errlen, "'%s' is too long", k->key);
            return -1;
        }
        strcpy(at, value);
        return 0;
    case CFG_INT:
    case CFG_UINT: {
        errno = 0;
        char *end = NULL;
        long v = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || v < k->min || v > k->max) {
            snprintf(err, errlen, "'%s' must be a whole number from %ld to %ld, not '%s'", k->key,
                     k->min, k->max, value);
            return -1;
        }
        if (k->type == CFG_UINT) {
            *(unsigned *)at = (unsigned)v;
        } else {
            *(int *)at = (int)v;
        }
        return 0;
    }
    case CFG_BOOL:
        if (strcasecmp(value, "true") == 0 || strcasecmp(value, "yes") == 0 ||
            strcmp(value, "1") == 0) {
            *(bool *)at = true;
        } else if (strcasecmp(value, "false") == 0 || strcasecmp(value, "no") == 0 ||
                   strcmp(value, "0") == 0) {
            *(bool *)at = false;
        } else {
            snprintf(err, errlen, "'%s' must be true or false, not '%s'", k->key, value);
            return -1;
        }
        return 0;
    case CFG_LEADS: {
        jr_schedule_rules_t *rules = (jr_schedule_rules_t *)at;
        size_t n = 0;
        const char *c = value;
        while (*c != '\0') {
            char *end = NULL;
            errno = 0;
            long v = strtol(c, &end, 10);
            if (end == c || errno != 0 || v < k->min || v > k->max || n == JR_SCHEDULE_LEADS_MAX) {
                snprintf(err, errlen, "'%s' must be up to %d whole numbers of days from %ld to %ld",
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
    case CFG_TOPICS: {
        const char *bad = NULL;
        jr_topic_set_t set = 0;
        if (jr_format_topics_parse(value, &set, &bad) != 0) {
            snprintf(err, errlen, "'%s': unknown topic at '%.40s'", k->key, bad ? bad : value);
            return -1;
        }
        *(jr_topic_set_t *)at = set;
        return 0;
    }
    }
    return -1;
}

static const cfg_key_t *find_key(const cfg_key_t *keys, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i].key, name) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

/* Sets one key of [section]; the single path for file, defaults and overrides. */
static int config_set(jr_config_t *self, const char *section, const char *key, const char *value,
                      char *err, size_t errlen)
{
    if (strcmp(section, "daemon") == 0) {
        const cfg_key_t *k = find_key(g_daemon_keys, N_ELEMS(g_daemon_keys), key);
        if (k == NULL) {
            snprintf(err, errlen, "unknown key '%s' in [daemon]", key);
            return -1;
        }
        if (strcmp(key, "security") == 0 && strcmp(value, "curve") != 0 &&
            strcmp(value, "plaintext-development") != 0) {
            snprintf(err, errlen, "'security' must be curve or plaintext-development");
            return -1;
        }
        if (strcmp(key, "log_level") == 0 && jr_log_level_from_name(value) < 0) {
            snprintf(err, errlen, "'log_level' must be err, warning, notice, info or debug");
            return -1;
        }
        return set_value(self, k, value, err, errlen);
    }
    if (strncmp(section, "stream.", 7) == 0) {
        const char *code = section + 7;
        const cfg_key_t *k = find_key(g_stream_keys, N_ELEMS(g_stream_keys), key);
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
        if (set_value(&row, k, value, err, errlen) != 0) {
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

typedef struct {
    jr_config_t *cfg;
    char *err;
    size_t errlen;
    const char *path;
    int failed;
    char msg[256];
} load_ctx_t;

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    load_ctx_t *ctx = user;
    char msg[256];
    if (config_set(ctx->cfg, section, name, value, msg, sizeof msg) != 0) {
        snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
        ctx->failed = 1;
        return 0; /* ini_parse then returns this line's number */
    }
    return 1;
}

jr_config_t *jr_config_new(void)
{
    jr_config_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        return NULL;
    }
    self->streams = jr_streams_new_default();
    if (self->streams == NULL) {
        free(self);
        return NULL;
    }
    char err[256];
    for (size_t i = 0; i < N_ELEMS(g_daemon_keys); i++) {
        if (set_value(self, &g_daemon_keys[i], g_daemon_keys[i].def, err, sizeof err) != 0) {
            jr_config_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void jr_config_destroy(jr_config_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_config_t *self = *self_p;
    for (size_t i = 0; i < N_ELEMS(g_daemon_keys); i++) {
        if (g_daemon_keys[i].type == CFG_STRING) {
            free(*(char **)((char *)self + g_daemon_keys[i].offset));
        }
    }
    jr_streams_destroy(&self->streams);
    free(self);
    *self_p = NULL;
}

int jr_config_load_file(jr_config_t *self, const char *path, char *err, size_t errlen)
{
    load_ctx_t ctx = {.cfg = self, .err = err, .errlen = errlen, .path = path};
    int rc = ini_parse(path, on_ini, &ctx);
    if (ctx.failed) {
        snprintf(err, errlen, "%s:%d: %s", path, rc, ctx.msg);
        return -1;
    }
    if (rc == -1) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s:%d: not a 'key = value' line or [section]", path, rc);
        return -1;
    }
    return 0;
}

int jr_config_override(jr_config_t *self, const char *assignment, char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    const char *dot = NULL; /* the last '.' before '=': sections may hold dots */
    for (const char *c = assignment; eq != NULL && c < eq; c++) {
        if (*c == '.') {
            dot = c;
        }
    }
    if (eq == NULL || dot == NULL || dot == assignment) {
        snprintf(err, errlen, "'%s' is not section.key=value", assignment);
        return -1;
    }
    char section[64];
    char key[64];
    size_t slen = (size_t)(dot - assignment);
    size_t klen = (size_t)(eq - dot - 1);
    if (slen >= sizeof section || klen >= sizeof key) {
        snprintf(err, errlen, "'%s': name too long", assignment);
        return -1;
    }
    memcpy(section, assignment, slen);
    section[slen] = '\0';
    memcpy(key, dot + 1, klen);
    key[klen] = '\0';
    char msg[256];
    if (config_set(self, section, key, eq + 1, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "--set %s: %s", assignment, msg);
        return -1;
    }
    return 0;
}

static void print_keys(FILE *out, const char *section, const cfg_key_t *keys, size_t n)
{
    static const char *const type_names[] = {"string",  "string", "integer", "integer",
                                             "boolean", "topics", "days"};
    for (size_t i = 0; i < n; i++) {
        const cfg_key_t *k = &keys[i];
        fprintf(out, "%s.%s (%s", section, k->key, type_names[k->type]);
        if (k->type == CFG_INT || k->type == CFG_UINT) {
            fprintf(out, ", %ld..%ld", k->min, k->max);
        }
        if (k->def != NULL) {
            fprintf(out, ", default %s", k->def);
        }
        fprintf(out, ")\n    %s\n", k->help);
    }
}

void jr_config_print_reference(FILE *out)
{
    print_keys(out, "daemon", g_daemon_keys, N_ELEMS(g_daemon_keys));
    print_keys(out, "stream.CODE", g_stream_keys, N_ELEMS(g_stream_keys));
}
