/* cfg.h -- configuration as one declarative table: key, type, default,
 * bounds, help, and whether a reload applies it. Each program lists its keys
 * once (the daemon's [daemon] and [stream.CODE], the adapter's [adapter]) and
 * this engine sets values from defaults, INI files (inih) and command-line
 * overrides through one path, checks types and bounds, prints the reference,
 * and tells which keys changed between two configurations.
 *
 * An unknown key is an error; so is a value out of bounds, with a sentence
 * that names the key and what it takes. Secrets never go in a configuration
 * file: they are files named by it (keyfile.h). */
#ifndef JR_CFG_H
#define JR_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    JR_CFG_STRING, /* char *, owned by the configuration */
    JR_CFG_CHARS,  /* char[max]: a fixed array of max bytes */
    JR_CFG_INT,    /* int, min..max */
    JR_CFG_UINT,   /* unsigned, min..max */
    JR_CFG_LLONG,  /* long long, min..max */
    JR_CFG_BOOL,   /* bool: true/false, yes/no, 1/0 */
    JR_CFG_CUSTOM, /* parsed by the key's own function */
} jr_cfg_type_t;

/* Whether SIGHUP applies a changed value, or it waits for a restart
 * (endpoints, the database, what sockets were made with). */
typedef enum {
    JR_CFG_ON_RELOAD = 0,
    JR_CFG_ON_RESTART = 1,
} jr_cfg_when_t;

typedef struct jr_cfg_key jr_cfg_key_t;

struct jr_cfg_key {
    const char *key;
    jr_cfg_type_t type;
    size_t offset;   /* of the field in the configured struct */
    const char *def; /* NULL: no default (the struct's own value stands) */
    long long min, max;
    const char *help;
    jr_cfg_when_t when;
    /* JR_CFG_CUSTOM: parses value into the field (0, or -1 with err), what
     * the reference calls its type, and the field's size for comparison. */
    int (*parse)(const jr_cfg_key_t *k, void *field, const char *value, char *err, size_t errlen);
    const char *type_name;
    size_t size;
    /* Any type: a further check of the text (0, or -1 with err). */
    int (*check)(const char *value, char *err, size_t errlen);
};

/* The key named `name`, or NULL. */
const jr_cfg_key_t *jr_cfg_find(const jr_cfg_key_t *keys, size_t n, const char *name);

/* Sets one key of the struct at base from text. 0, or -1 with a sentence in
 * err ("'batch_max' must be a whole number from 1 to 10000, not 'x'"). */
int jr_cfg_set(const jr_cfg_key_t *k, void *base, const char *value, char *err, size_t errlen);

/* Sets every key that has a default. 0, or -1 with err. */
int jr_cfg_defaults(const jr_cfg_key_t *keys, size_t n, void *base, char *err, size_t errlen);

/* Frees the strings the table's keys own in base. */
void jr_cfg_release(const jr_cfg_key_t *keys, size_t n, void *base);

/* Whether key k has the same value in the structs at a and b. */
bool jr_cfg_same(const jr_cfg_key_t *k, const void *a, const void *b);

/* Moves the value of key k from `from` to `to` (strings change owner). */
void jr_cfg_take(const jr_cfg_key_t *k, void *to, void *from);

/* Prints each key as "section.key (type, bounds, default D)\n    help",
 * saying which wait for a restart. */
void jr_cfg_print(FILE *out, const char *section, const jr_cfg_key_t *keys, size_t n);

/* One "key = value" of an INI file, with its section. 0 to go on, or -1
 * with err (the line is then named). */
typedef int(jr_cfg_line_fn)(void *ctx, const char *section, const char *key, const char *value,
                            char *err, size_t errlen);

/* Reads an INI file line by line into fn. 0, or -1 with "FILE:LINE: why"
 * (or "FILE: cannot open: ...") in err. */
int jr_cfg_read_file(const char *path, jr_cfg_line_fn *fn, void *ctx, char *err, size_t errlen);

/* Splits "section.key=value" at the last '.' before '=' (sections may hold
 * dots: "stream.CPA.enabled=true"). 0, or -1 with err. */
int jr_cfg_split(const char *assignment, char section[64], char key[64], const char **value,
                 char *err, size_t errlen);

#endif
