/* settings.c -- see settings.h. */
#include "settings.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "keyfile.h"
#include "log.h"

#define S(field) offsetof(jr_export_settings_t, field)
#define STR(name, field, d, text)                                                                  \
    {                                                                                              \
        .key = name, .type = JR_CFG_STRING, .offset = S(field), .def = d, .help = text,            \
        .when = JR_CFG_ON_RESTART                                                                  \
    }

static int check_log_level(const char *value, char *err, size_t errlen)
{
    if (jr_log_level_from_name(value) < 0) {
        snprintf(err, errlen, "'log_level' is err, warning, notice, info or debug, not '%s'",
                 value);
        return -1;
    }
    return 0;
}

static const jr_cfg_key_t g_keys[] = {
    STR("stream", stream, "", "the funding stream whose extracts this instance writes (--stream)"),
    STR("catchup_endpoint", catchup_endpoint, "tcp://127.0.0.1:5562",
        "the daemon's catch-up endpoint (the only socket a one-stream key may use)"),
    STR("outbound", outbound, "outbound",
        "the stream's outbound directory: one CSV and one JSON file per person and review held"),
    STR("state", state, "state/sequence",
        "the last publication dealt with, kept durably so that a restart misses nothing"),
    STR("daemon_config", daemon_config, "",
        "the daemon's configuration file, whose [stream.CODE] sections say each stream's minimum "
        "information; empty: the built-in streams"),
    {.key = "server_key",
     .type = JR_CFG_STRING,
     .offset = S(server_key),
     .def = "",
     .check = jr_keyfile_check_server_key,
     .when = JR_CFG_ON_RESTART,
     .help = "the daemon's CURVE public key (Z85); empty: plain TCP"},
    STR("key_file", key_file, "", "this exporter's CURVE key pair (a credential)"),
    {.key = "log_level",
     .type = JR_CFG_STRING,
     .offset = S(log_level),
     .def = "info",
     .check = check_log_level,
     .help = "err, warning, notice, info or debug"},
    {.key = "poll_ms",
     .type = JR_CFG_INT,
     .offset = S(poll_ms),
     .def = "1000",
     .min = 100,
     .max = 600000,
     .help = "how often the daemon is asked for publications after the last one dealt with"},
};
#undef S
#undef STR

#define N_KEYS (sizeof g_keys / sizeof g_keys[0])

static int set_key(jr_export_settings_t *s, const char *section, const char *key,
                   const char *value, char *err, size_t errlen)
{
    if (strcmp(section, "export") != 0) {
        snprintf(err, errlen, "unknown section [%s]", section);
        return -1;
    }
    const jr_cfg_key_t *k = jr_cfg_find(g_keys, N_KEYS, key);
    if (k == NULL) {
        snprintf(err, errlen, "unknown key '%s' in [export]", key);
        return -1;
    }
    return jr_cfg_set(k, s, value, err, errlen);
}

static int on_line(void *ctx, const char *section, const char *key, const char *value, char *err,
                   size_t errlen)
{
    return set_key(ctx, section, key, value, err, errlen);
}

int jr_export_settings_init(jr_export_settings_t *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    return jr_cfg_defaults(g_keys, N_KEYS, s, err, errlen);
}

void jr_export_settings_free(jr_export_settings_t *s)
{
    jr_cfg_release(g_keys, N_KEYS, s);
}

int jr_export_settings_load(jr_export_settings_t *s, const char *path, char *err, size_t errlen)
{
    return jr_cfg_read_file(path, on_line, s, err, errlen);
}

int jr_export_settings_set(jr_export_settings_t *s, const char *assignment, char *err,
                           size_t errlen)
{
    char section[64], key[64], msg[256];
    const char *value = NULL;
    if (strncmp(assignment, "export.", 7) != 0) {
        snprintf(err, errlen, "--set %s: the keys are export.KEY=VALUE", assignment);
        return -1;
    }
    if (jr_cfg_split(assignment, section, key, &value, err, errlen) != 0) {
        return -1;
    }
    if (set_key(s, section, key, value, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "--set %s: %s", assignment, msg);
        return -1;
    }
    return 0;
}

int jr_export_settings_check(const jr_export_settings_t *s, char *err, size_t errlen)
{
    if (s->stream[0] == '\0') {
        snprintf(err, errlen, "no stream: give --stream CODE (the unit's instance name)");
        return -1;
    }
    if ((s->server_key[0] == '\0') != (s->key_file[0] == '\0')) {
        snprintf(err, errlen, "server_key and key_file go together (CURVE), or neither");
        return -1;
    }
    return 0;
}

void jr_export_settings_reference(FILE *out)
{
    jr_cfg_print(out, "export", g_keys, N_KEYS);
}
