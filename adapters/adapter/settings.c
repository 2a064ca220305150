/* settings.c -- see settings.h. */
#include "settings.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { T_STRING, T_INT, T_BOOL } type_t;

typedef struct {
    const char *key;
    type_t type;
    size_t offset;
    const char *def;
    long long min, max;
    const char *help;
} setting_t;

#define OFF(f) offsetof(jr_settings_t, f)

/* The one table of keys. */
static const setting_t g_keys[] = {
    {"stream", T_STRING, OFF(stream), "", 0, 0,
     "funding stream code: SP, ILF, ICES, ATW, DFG, SC, or one with its own mapping file"},
    {"endpoint", T_STRING, OFF(endpoint), "tcp://127.0.0.1:5560", 0, 0,
     "the daemon's ingest socket"},
    {"inbox", T_STRING, OFF(inbox), "inbox", 0, 0,
     "directory the back office drops its CSV exports into (done/ and failed/ inside it)"},
    {"state", T_STRING, OFF(state), "state", 0, 0, "directory for checkpoints"},
    {"mapping", T_STRING, OFF(mapping), "", 0, 0,
     "mapping file to use instead of the built-in adapters/<stream>/mapping.ini"},
    {"watch", T_BOOL, OFF(watch), "false", 0, 0,
     "true: run until SIGTERM, handling files as they arrive (inotify); false: one-shot"},
    {"window", T_INT, OFF(window), "256", 1, 65536, "rows in flight at most"},
    {"ack_timeout_ms", T_INT, OFF(ack_timeout_ms), "5000", 100, 600000,
     "resend a row the daemon has not answered after this long (doubling each time)"},
    {"max_backoff_ms", T_INT, OFF(max_backoff_ms), "60000", 100, 3600000,
     "longest wait between resends"},
    {"timeout_s", T_INT, OFF(timeout_s), "300", 0, 864000,
     "one-shot: give up (exit 2, progress kept) after this long without an answer; 0 never"},
    {"checkpoint_ms", T_INT, OFF(checkpoint_ms), "500", 0, 600000,
     "longest time between checkpoints while a file is read"},
    {"settle_ms", T_INT, OFF(settle_ms), "2000", 0, 3600000,
     "watch: leave a file alone until it is closed (or moved in) and has not changed for this "
     "long"},
    {"torn_wait_s", T_INT, OFF(torn_wait_s), "600", 0, 864000,
     "a file whose last line has no line end (or whose last quoted field is open) is still "
     "being written: leave it until it has not changed for this long, then take it as it is"},
    {"rescan_s", T_INT, OFF(rescan_s), "60", 1, 86400,
     "watch: look at the inbox this often even without inotify events"},
    {"max_file_bytes", T_INT, OFF(max_file_bytes), "268435456", 1024, 4294967296LL,
     "larger exports are refused whole (moved to failed/)"},
    {"log_level", T_STRING, OFF(log_level), "info", 0, 0, "err, warning, notice, info or debug"},
    {"server_key", T_STRING, OFF(server_key), "", 0, 0,
     "the daemon's CURVE public key (40 Z85 characters), when it requires CURVE"},
    {"key_file", T_STRING, OFF(key_file), "", 0, 0,
     "this adapter's CURVE key pair: lines public-key = \"...\" and secret-key = \"...\""},
};

#define N_KEYS (sizeof g_keys / sizeof *g_keys)

static int set_value(jr_settings_t *s, const setting_t *k, const char *value, char *why,
                     size_t why_len)
{
    char *base = (char *)s + k->offset;
    switch (k->type) {
    case T_STRING: {
        char *copy = strdup(value);
        if (!copy) {
            snprintf(why, why_len, "out of memory");
            return -1;
        }
        free(*(char **)base);
        *(char **)base = copy;
        return 0;
    }
    case T_BOOL:
        if (strcasecmp(value, "true") == 0 || strcasecmp(value, "yes") == 0 ||
            strcmp(value, "1") == 0) {
            *(bool *)base = true;
        } else if (strcasecmp(value, "false") == 0 || strcasecmp(value, "no") == 0 ||
                   strcmp(value, "0") == 0) {
            *(bool *)base = false;
        } else {
            snprintf(why, why_len, "%s = %s: use true or false", k->key, value);
            return -1;
        }
        return 0;
    case T_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end || v < k->min || v > k->max) {
            snprintf(why, why_len, "%s = %s: a whole number from %lld to %lld", k->key, value,
                     k->min, k->max);
            return -1;
        }
        *(long long *)base = v;
        return 0;
    }
    }
    return -1;
}

static const setting_t *find(const char *key)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(g_keys[i].key, key) == 0)
            return &g_keys[i];
    return NULL;
}

int jr_settings_init(jr_settings_t *s)
{
    memset(s, 0, sizeof *s);
    char why[128];
    for (size_t i = 0; i < N_KEYS; i++)
        if (set_value(s, &g_keys[i], g_keys[i].def, why, sizeof why) != 0)
            return -1;
    return 0;
}

void jr_settings_free(jr_settings_t *s)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (g_keys[i].type == T_STRING) {
            char **p = (char **)((char *)s + g_keys[i].offset);
            free(*p);
            *p = NULL;
        }
}

typedef struct {
    jr_settings_t *s;
    char why[256];
    bool failed;
} load_t;

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    load_t *l = user;
    if (l->failed)
        return 0;
    if (strcmp(section, "adapter") != 0) {
        snprintf(l->why, sizeof l->why, "unknown section [%s]: the keys go under [adapter]",
                 section);
        l->failed = true;
        return 0;
    }
    const setting_t *k = find(key);
    if (!k) {
        snprintf(l->why, sizeof l->why,
                 "unknown key \"%s\" (joinedreview-adapter --config-reference lists them)", key);
        l->failed = true;
        return 0;
    }
    if (set_value(l->s, k, value, l->why, sizeof l->why) != 0) {
        l->failed = true;
        return 0;
    }
    return 1;
}

int jr_settings_load(jr_settings_t *s, const char *path, char *why, size_t why_len)
{
    load_t l = {.s = s};
    int line = ini_parse(path, on_key, &l);
    if (line == -1) {
        snprintf(why, why_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (line != 0 || l.failed) {
        snprintf(why, why_len, "%s:%d: %s", path, line,
                 l.failed ? l.why : "not INI (a line that is neither [section] nor key = value)");
        return -1;
    }
    return 0;
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
    const setting_t *k = find(name);
    if (!k) {
        snprintf(why, why_len, "unknown key \"%s\" (--config-reference lists them)", key);
        return -1;
    }
    return set_value(s, k, eq + 1, why, why_len);
}

void jr_settings_reference(FILE *out)
{
    fputs("; joinedreview-adapter configuration (--config FILE). Every key is optional;\n"
          "; the value shown is the default. Command-line options override the file.\n"
          "[adapter]\n",
          out);
    for (size_t i = 0; i < N_KEYS; i++) {
        const setting_t *k = &g_keys[i];
        fprintf(out, "\n; %s", k->help);
        if (k->type == T_INT)
            fprintf(out, " (%lld to %lld)", k->min, k->max);
        fprintf(out, "\n%s = %s\n", k->key, k->def);
    }
}
