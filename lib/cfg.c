/* cfg.c -- see cfg.h. */
#include "cfg.h"

#include <errno.h>
#include <ini.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const jr_cfg_key_t *jr_cfg_find(const jr_cfg_key_t *keys, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i].key, name) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

static int set_number(const jr_cfg_key_t *k, void *at, const char *value, char *err, size_t errlen)
{
    errno = 0;
    char *end = NULL;
    long long v = strtoll(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < k->min || v > k->max) {
        snprintf(err, errlen, "'%s' must be a whole number from %lld to %lld, not '%s'", k->key,
                 k->min, k->max, value);
        return -1;
    }
    if (k->type == JR_CFG_UINT) {
        *(unsigned *)at = (unsigned)v;
    } else if (k->type == JR_CFG_INT) {
        *(int *)at = (int)v;
    } else {
        *(long long *)at = v;
    }
    return 0;
}

int jr_cfg_set(const jr_cfg_key_t *k, void *base, const char *value, char *err, size_t errlen)
{
    char *at = (char *)base + k->offset;
    if (k->check != NULL && k->check(value, err, errlen) != 0) {
        return -1;
    }
    switch (k->type) {
    case JR_CFG_STRING: {
        char *copy = strdup(value);
        if (copy == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        free(*(char **)at);
        *(char **)at = copy;
        return 0;
    }
    case JR_CFG_CHARS:
        if (strlen(value) >= (size_t)k->max) {
            snprintf(err, errlen, "'%s' is longer than %lld characters", k->key, k->max - 1);
            return -1;
        }
        strcpy(at, value);
        return 0;
    case JR_CFG_INT:
    case JR_CFG_UINT:
    case JR_CFG_LLONG:
        return set_number(k, at, value, err, errlen);
    case JR_CFG_BOOL:
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
    case JR_CFG_CUSTOM:
        return k->parse(k, at, value, err, errlen);
    }
    snprintf(err, errlen, "'%s': no such type", k->key);
    return -1;
}

int jr_cfg_defaults(const jr_cfg_key_t *keys, size_t n, void *base, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i].def != NULL && jr_cfg_set(&keys[i], base, keys[i].def, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

void jr_cfg_release(const jr_cfg_key_t *keys, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i].type == JR_CFG_STRING) {
            char **at = (char **)((char *)base + keys[i].offset);
            free(*at);
            *at = NULL;
        }
    }
}

static size_t field_size(const jr_cfg_key_t *k)
{
    switch (k->type) {
    case JR_CFG_STRING:
        return sizeof(char *);
    case JR_CFG_CHARS:
        return (size_t)k->max;
    case JR_CFG_INT:
        return sizeof(int);
    case JR_CFG_UINT:
        return sizeof(unsigned);
    case JR_CFG_LLONG:
        return sizeof(long long);
    case JR_CFG_BOOL:
        return sizeof(bool);
    case JR_CFG_CUSTOM:
        return k->size;
    }
    return 0;
}

bool jr_cfg_same(const jr_cfg_key_t *k, const void *a, const void *b)
{
    const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;
    if (k->type == JR_CFG_STRING) {
        const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;
        return strcmp(sa ? sa : "", sb ? sb : "") == 0;
    }
    if (k->type == JR_CFG_CHARS) {
        return strcmp(fa, fb) == 0;
    }
    return memcmp(fa, fb, field_size(k)) == 0;
}

void jr_cfg_take(const jr_cfg_key_t *k, void *to, void *from)
{
    char *ft = (char *)to + k->offset, *ff = (char *)from + k->offset;
    if (k->type == JR_CFG_STRING) {
        char *keep = *(char **)ft; /* the old one goes with `from` */
        *(char **)ft = *(char **)ff;
        *(char **)ff = keep;
        return;
    }
    memcpy(ft, ff, field_size(k));
}

void jr_cfg_print(FILE *out, const char *section, const jr_cfg_key_t *keys, size_t n)
{
    static const char *const names[] = {"string",  "string",  "integer", "integer",
                                        "integer", "boolean", "?"};
    for (size_t i = 0; i < n; i++) {
        const jr_cfg_key_t *k = &keys[i];
        fprintf(out, "%s.%s (%s", section, k->key,
                k->type == JR_CFG_CUSTOM ? k->type_name : names[k->type]);
        if (k->type == JR_CFG_INT || k->type == JR_CFG_UINT || k->type == JR_CFG_LLONG) {
            fprintf(out, ", %lld..%lld", k->min, k->max);
        }
        if (k->def != NULL) {
            fprintf(out, ", default %s", k->def[0] ? k->def : "empty");
        }
        fprintf(out, "%s)\n    %s\n", k->when == JR_CFG_ON_RESTART ? ", on restart" : "", k->help);
    }
}

typedef struct {
    jr_cfg_line_fn *fn;
    void *ctx;
    bool failed;
    char msg[320];
} read_t;

static int on_line(void *user, const char *section, const char *key, const char *value)
{
    read_t *r = user;
    if (r->failed) {
        return 0;
    }
    if (r->fn(r->ctx, section, key, value, r->msg, sizeof r->msg) != 0) {
        r->failed = true;
        return 0; /* inih then returns this line's number */
    }
    return 1;
}

int jr_cfg_read_file(const char *path, jr_cfg_line_fn *fn, void *ctx, char *err, size_t errlen)
{
    read_t r = {.fn = fn, .ctx = ctx};
    int line = ini_parse(path, on_line, &r);
    if (line == -1) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (r.failed) {
        snprintf(err, errlen, "%s:%d: %s", path, line, r.msg);
        return -1;
    }
    if (line != 0) {
        snprintf(err, errlen, "%s:%d: not a 'key = value' line or [section]", path, line);
        return -1;
    }
    return 0;
}

int jr_cfg_split(const char *assignment, char section[64], char key[64], const char **value,
                 char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    const char *dot = NULL;
    for (const char *c = assignment; eq != NULL && c < eq; c++) {
        if (*c == '.') {
            dot = c;
        }
    }
    if (eq == NULL || dot == NULL || dot == assignment) {
        snprintf(err, errlen, "'%s' is not section.key=value", assignment);
        return -1;
    }
    size_t slen = (size_t)(dot - assignment), klen = (size_t)(eq - dot - 1);
    if (slen >= 64 || klen >= 64) {
        snprintf(err, errlen, "'%s': name too long", assignment);
        return -1;
    }
    memcpy(section, assignment, slen);
    section[slen] = '\0';
    memcpy(key, dot + 1, klen);
    key[klen] = '\0';
    *value = eq + 1;
    return 0;
}
