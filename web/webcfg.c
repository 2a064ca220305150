/* webcfg.c -- see webcfg.h. */
#include "webcfg.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"

static int check_log_level(const char *value, char *err, size_t errlen)
{
    if (jr_log_level_from_name(value) < 0) {
        snprintf(err, errlen, "'log_level' must be err, warning, notice, info or debug");
        return -1;
    }
    return 0;
}

static int check_address(const char *value, char *err, size_t errlen)
{
    unsigned char buf[16];
    if (inet_pton(AF_INET, value, buf) != 1 && inet_pton(AF_INET6, value, buf) != 1) {
        snprintf(err, errlen, "'listen_address' must be an IPv4 or IPv6 address, not '%s'", value);
        return -1;
    }
    return 0;
}

static int check_daemon_metrics(const char *value, char *err, size_t errlen)
{
    char host[64];
    unsigned port = 0;
    char extra;
    if (value[0] == '\0') {
        return 0;
    }
    if (sscanf(value, "%63[^:]:%u%c", host, &port, &extra) != 2 || port == 0 || port > 65535 ||
        !jr_webcfg_is_loopback(host)) {
        snprintf(err, errlen,
                 "'daemon_metrics' must be a loopback address and port (127.0.0.1:9560), not '%s'",
                 value);
        return -1;
    }
    return 0;
}

#define W(field) offsetof(jr_webcfg_t, field)
#define INT(name, field, d, lo, hi, text)                                                          \
    {                                                                                              \
        .key = name, .type = JR_CFG_INT, .offset = W(field), .def = d, .min = lo, .max = hi,       \
        .help = text, .when = JR_CFG_ON_RESTART                                                    \
    }
#define STR(name, field, d, text)                                                                  \
    {                                                                                              \
        .key = name, .type = JR_CFG_STRING, .offset = W(field), .def = d, .help = text,            \
        .when = JR_CFG_ON_RESTART                                                                  \
    }

static const jr_cfg_key_t g_keys[] = {
    {.key = "listen_address",
     .type = JR_CFG_STRING,
     .offset = W(listen_address),
     .def = "127.0.0.1",
     .check = check_address,
     .when = JR_CFG_ON_RESTART,
     .help = "address to listen on (an IPv4 or IPv6 literal)"},
    INT("port", port, "8443", 0, 65535, "TCP port (0: any free port, printed at start-up)"),
    STR("tls_cert_file", tls_cert_file, "", "PEM certificate chain (a credential)"),
    STR("tls_key_file", tls_key_file, "",
        "PEM private key (a credential; refused when others can read it)"),
    {.key = "plaintext_development",
     .type = JR_CFG_BOOL,
     .offset = W(plaintext_development),
     .def = "false",
     .when = JR_CFG_ON_RESTART,
     .help = "plain HTTP without TLS, allowed on a loopback address only (development)"},
    STR("accounts_file", accounts_file, "",
        "the accounts: NAME ROLE SCOPE ARGON2ID-HASH per line (a credential)"),
    STR("database", database, "dbname=joinedreview user=jr_web",
        "libpq connection string of a member of joinedreview_web; sslmode=verify-full in "
        "production"),
    STR("daemon_config", daemon_config, "",
        "the daemon's configuration file, whose [stream.CODE] sections say each stream's minimum "
        "information; empty: the built-in streams"),
    {.key = "daemon_metrics",
     .type = JR_CFG_STRING,
     .offset = W(daemon_metrics),
     .def = "",
     .check = check_daemon_metrics,
     .when = JR_CFG_ON_RESTART,
     .help = "the daemon's loopback metrics endpoint (127.0.0.1:9560), included in /metrics"},
    STR("metrics_token_file", metrics_token_file, "",
        "a file holding the bearer token a scraper sends to /metrics (a credential); empty: "
        "analysts' sessions only"),
    {.key = "log_level",
     .type = JR_CFG_STRING,
     .offset = W(log_level),
     .def = "info",
     .check = check_log_level,
     .help = "err, warning, notice, info or debug"},
    INT("threads", threads, "4", 1, 64, "worker threads; each holds one database connection"),
    INT("max_connections", max_connections, "256", 1, 10000, "HTTP connections open at once"),
    INT("per_ip_connections", per_ip_connections, "32", 1, 10000,
        "HTTP connections open at once from one address"),
    INT("connection_timeout_s", connection_timeout_s, "30", 1, 3600,
        "an idle or slow connection is closed after this many seconds"),
    INT("connection_memory_bytes", connection_memory_bytes, "32768", 8192, 1048576,
        "memory per connection for the request line, headers and buffers: bounds their size "
        "(431 beyond it)"),
    INT("post_max_bytes", post_max_bytes, "4096", 256, 65536, "largest form accepted (413 beyond)"),
    INT("page_max_bytes", page_max_bytes, "8388608", 65536, 134217728, "largest page written"),
    INT("sessions_max", sessions_max, "1000", 1, 100000,
        "sessions held at once; the least recently used makes room"),
    INT("session_idle_s", session_idle_s, "900", 60, 86400,
        "a session not used for this long ends"),
    INT("session_max_s", session_max_s, "43200", 300, 604800,
        "a session ends this long after sign-in, used or not"),
    INT("login_failures", login_failures, "5", 1, 100,
        "failed sign-ins for one account or from one address before a pause"),
    INT("login_pause_s", login_pause_s, "30", 1, 3600,
        "the first pause; each further failure doubles it"),
    INT("login_pause_max_s", login_pause_max_s, "900", 1, 86400, "the longest pause"),
    INT("throttle_entries", throttle_entries, "4096", 16, 1000000,
        "accounts and addresses whose failed sign-ins are remembered"),
    INT("password_checks", password_checks, "2", 1, 64,
        "argon2id password checks run at once (each uses the memory its hash names, 64 MiB by "
        "default)"),
    INT("worklist_max_rows", worklist_max_rows, "500", 10, 100000, "rows on one worklist page"),
    INT("statement_timeout_ms", statement_timeout_ms, "10000", 100, 600000,
        "PostgreSQL statement_timeout for the service's sessions"),
    INT("refresh_s", refresh_s, "120", 0, 86400,
        "the worklist reloads itself this often (0: never)"),
};
#undef W
#undef INT
#undef STR

#define N_KEYS (sizeof g_keys / sizeof g_keys[0])

static int set_key(jr_webcfg_t *self, const char *section, const char *key, const char *value,
                   char *err, size_t errlen)
{
    if (strcmp(section, "web") != 0) {
        snprintf(err, errlen, "unknown section [%s]", section);
        return -1;
    }
    const jr_cfg_key_t *k = jr_cfg_find(g_keys, N_KEYS, key);
    if (k == NULL) {
        snprintf(err, errlen, "unknown key '%s' in [web]", key);
        return -1;
    }
    return jr_cfg_set(k, self, value, err, errlen);
}

static int on_line(void *ctx, const char *section, const char *key, const char *value, char *err,
                   size_t errlen)
{
    return set_key(ctx, section, key, value, err, errlen);
}

jr_webcfg_t *jr_webcfg_new(void)
{
    jr_webcfg_t *self = calloc(1, sizeof *self);
    char err[256];
    if (self != NULL && jr_cfg_defaults(g_keys, N_KEYS, self, err, sizeof err) != 0) {
        jr_webcfg_destroy(&self);
    }
    return self;
}

void jr_webcfg_destroy(jr_webcfg_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_cfg_release(g_keys, N_KEYS, *self_p);
    free(*self_p);
    *self_p = NULL;
}

int jr_webcfg_load_file(jr_webcfg_t *self, const char *path, char *err, size_t errlen)
{
    return jr_cfg_read_file(path, on_line, self, err, errlen);
}

int jr_webcfg_override(jr_webcfg_t *self, const char *assignment, char *err, size_t errlen)
{
    char section[64], key[64], msg[256];
    const char *value = NULL;
    if (jr_cfg_split(assignment, section, key, &value, err, errlen) != 0) {
        return -1;
    }
    if (set_key(self, section, key, value, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "--set %s: %s", assignment, msg);
        return -1;
    }
    return 0;
}

bool jr_webcfg_is_loopback(const char *address)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, address, a) == 1) {
        return a[0] == 127;
    }
    static const unsigned char one[16] = {[15] = 1};
    return inet_pton(AF_INET6, address, a) == 1 && memcmp(a, one, 16) == 0;
}

int jr_webcfg_check(const jr_webcfg_t *self, char *err, size_t errlen)
{
    if (self->plaintext_development) {
        if (!jr_webcfg_is_loopback(self->listen_address)) {
            snprintf(err, errlen,
                     "plaintext_development serves plain HTTP on a loopback address only, not on "
                     "%s: give tls_cert_file and tls_key_file",
                     self->listen_address);
            return -1;
        }
    } else if (self->tls_cert_file[0] == '\0' || self->tls_key_file[0] == '\0') {
        snprintf(err, errlen,
                 "tls_cert_file and tls_key_file are needed (plain HTTP only with "
                 "plaintext_development on a loopback address)");
        return -1;
    }
    if (self->accounts_file[0] == '\0') {
        snprintf(err, errlen, "accounts_file is needed (joinedreview-web --add-account makes one)");
        return -1;
    }
    if (self->login_pause_max_s < self->login_pause_s) {
        snprintf(err, errlen, "login_pause_max_s must be at least login_pause_s");
        return -1;
    }
    return 0;
}

void jr_webcfg_print_reference(FILE *out)
{
    jr_cfg_print(out, "web", g_keys, N_KEYS);
}
