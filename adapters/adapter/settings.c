/* settings.c -- see settings.h. */
#include "settings.h"

#include "cfg.h"
#include "keyfile.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFF(f) offsetof(jr_settings_t, f)

/* The one table of keys. */
static const jr_cfg_key_t g_keys[] = {
    {.key = "stream",
     .type = JR_CFG_STRING,
     .offset = OFF(stream),
     .def = "",
     .help = "funding stream code: SP, ILF, ICES, ATW, DFG, SC, or one with its own mapping file"},
    {.key = "endpoint",
     .type = JR_CFG_STRING,
     .offset = OFF(endpoint),
     .def = "tcp://127.0.0.1:5560",
     .help = "the daemon's ingest socket"},
    {.key = "inbox",
     .type = JR_CFG_STRING,
     .offset = OFF(inbox),
     .def = "inbox",
     .help = "directory the back office drops its CSV exports into (done/ and failed/ inside it)"},
    {.key = "state",
     .type = JR_CFG_STRING,
     .offset = OFF(state),
     .def = "state",
     .help = "directory for checkpoints"},
    {.key = "mapping",
     .type = JR_CFG_STRING,
     .offset = OFF(mapping),
     .def = "",
     .help = "mapping file to use instead of the built-in adapters/<stream>/mapping.ini"},
    {.key = "watch",
     .type = JR_CFG_BOOL,
     .offset = OFF(watch),
     .def = "false",
     .help = "true: run until SIGTERM, handling files as they arrive (inotify); false: one-shot"},
    {.key = "window",
     .type = JR_CFG_LLONG,
     .offset = OFF(window),
     .def = "256",
     .min = 1,
     .max = 65536,
     .help = "rows in flight at most"},
    {.key = "ack_timeout_ms",
     .type = JR_CFG_LLONG,
     .offset = OFF(ack_timeout_ms),
     .def = "5000",
     .min = 100,
     .max = 600000,
     .help = "resend a row the daemon has not answered after this long (doubling each time)"},
    {.key = "max_backoff_ms",
     .type = JR_CFG_LLONG,
     .offset = OFF(max_backoff_ms),
     .def = "60000",
     .min = 100,
     .max = 3600000,
     .help = "longest wait between resends"},
    {.key = "timeout_s",
     .type = JR_CFG_LLONG,
     .offset = OFF(timeout_s),
     .def = "300",
     .min = 0,
     .max = 864000,
     .help =
         "one-shot: give up (exit 2, progress kept) after this long without an answer; 0 never"},
    {.key = "checkpoint_ms",
     .type = JR_CFG_LLONG,
     .offset = OFF(checkpoint_ms),
     .def = "500",
     .min = 0,
     .max = 600000,
     .help = "longest time between checkpoints while a file is read"},
    {.key = "settle_ms",
     .type = JR_CFG_LLONG,
     .offset = OFF(settle_ms),
     .def = "2000",
     .min = 0,
     .max = 3600000,
     .help =
         "watch: leave a file alone until it is closed (or moved in) and has not changed for this "
         "long"},
    {.key = "torn_wait_s",
     .type = JR_CFG_LLONG,
     .offset = OFF(torn_wait_s),
     .def = "600",
     .min = 0,
     .max = 864000,
     .help =
         "a file whose last line has no line end (or whose last quoted field is open) is still "
         "being written: leave it until it has not changed for this long, then take it as it is"},
    {.key = "rescan_s",
     .type = JR_CFG_LLONG,
     .offset = OFF(rescan_s),
     .def = "60",
     .min = 1,
     .max = 86400,
     .help = "watch: look at the inbox this often even without inotify events"},
    {.key = "max_file_bytes",
     .type = JR_CFG_LLONG,
     .offset = OFF(max_file_bytes),
     .def = "268435456",
     .min = 1024,
     .max = 4294967296LL,
     .help = "larger exports are refused whole (moved to failed/)"},
    {.key = "log_level",
     .type = JR_CFG_STRING,
     .offset = OFF(log_level),
     .def = "info",
     .help = "err, warning, notice, info or debug"},
    {.key = "server_key",
     .type = JR_CFG_STRING,
     .offset = OFF(server_key),
     .def = "",
     .check = jr_keyfile_check_server_key,
     .help = "the daemon's CURVE public key (40 Z85 characters), when it requires CURVE"},
    {.key = "key_file",
     .type = JR_CFG_STRING,
     .offset = OFF(key_file),
     .def = "",
     .help = "this adapter's CURVE key pair: lines public-key = \"...\" and secret-key = \"...\""},
};

#define N_KEYS (sizeof g_keys / sizeof *g_keys)

int jr_settings_init(jr_settings_t *s)
{
    memset(s, 0, sizeof *s);
    char why[128];
    return jr_cfg_defaults(g_keys, N_KEYS, s, why, sizeof why);
}

void jr_settings_free(jr_settings_t *s)
{
    jr_cfg_release(g_keys, N_KEYS, s);
}

static int on_key(void *ctx, const char *section, const char *key, const char *value, char *why,
                  size_t why_len)
{
    if (strcmp(section, "adapter") != 0) {
        snprintf(why, why_len, "unknown section [%s]: the keys go under [adapter]", section);
        return -1;
    }
    const jr_cfg_key_t *k = jr_cfg_find(g_keys, N_KEYS, key);
    if (!k) {
        snprintf(why, why_len,
                 "unknown key \"%s\" (joinedreview-adapter --config-reference lists them)", key);
        return -1;
    }
    return jr_cfg_set(k, ctx, value, why, why_len);
}

int jr_settings_load(jr_settings_t *s, const char *path, char *why, size_t why_len)
{
    return jr_cfg_read_file(path, on_key, s, why, why_len);
}

int jr_settings_set(jr_settings_t *s, const char *assignment, char *why, size_t why_len)
{
    const char *eq = strchr(assignment, '=');
    if (!eq) {
        snprintf(why, why_len, "\"%s\": use key=value", assignment);
        return -1;
    }
    char key[64];
    size_t klen = (size_t)(eq - assignment);
    if (klen >= sizeof key) {
        snprintf(why, why_len, "unknown key \"%.*s\"", (int)klen, assignment);
        return -1;
    }
    memcpy(key, assignment, klen);
    key[klen] = '\0';
    /* "adapter.window=8" and "window=8" both work. */
    const char *name = strncmp(key, "adapter.", 8) == 0 ? key + 8 : key;
    const jr_cfg_key_t *k = jr_cfg_find(g_keys, N_KEYS, name);
    if (!k) {
        snprintf(why, why_len, "unknown key \"%s\" (--config-reference lists them)", key);
        return -1;
    }
    return jr_cfg_set(k, s, eq + 1, why, why_len);
}

void jr_settings_reference(FILE *out)
{
    fputs("; joinedreview-adapter configuration (--config FILE). Every key is optional;\n"
          "; the value shown is the default. Command-line options override the file.\n"
          "[adapter]\n",
          out);
    for (size_t i = 0; i < N_KEYS; i++) {
        const jr_cfg_key_t *k = &g_keys[i];
        fprintf(out, "\n; %s", k->help);
        if (k->type == JR_CFG_LLONG)
            fprintf(out, " (%lld to %lld)", k->min, k->max);
        fprintf(out, "\n%s = %s\n", k->key, k->def);
    }
}
