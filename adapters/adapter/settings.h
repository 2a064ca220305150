/* settings.h -- the adapter's configuration: one declarative table of keys
 * (name, type, default, bounds, help), read from an INI file's [adapter]
 * section and overridden by command-line options. An unknown key, a value
 * out of bounds or a malformed line is an error at start-up.
 *
 * Secrets do not go here: the CURVE key pair is read from key_file. */
#ifndef JR_SETTINGS_H
#define JR_SETTINGS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    char *stream;     /* funding stream code */
    char *endpoint;   /* the daemon's ingest socket */
    char *inbox;      /* where exports are dropped */
    char *state;      /* checkpoints */
    char *mapping;    /* a mapping file instead of the built-in one ("" = built-in) */
    bool watch;       /* run until SIGTERM, handling files as they arrive */
    long long window; /* rows in flight at most */
    long long ack_timeout_ms;
    long long max_backoff_ms;
    long long timeout_s; /* one-shot: give up after this long without an answer */
    long long checkpoint_ms;
    long long settle_ms;   /* watch: leave a file alone until unchanged this long */
    long long torn_wait_s; /* a file stopping mid-row is taken as it is after this long */
    long long rescan_s;    /* watch: look at the inbox this often even without events */
    long long max_file_bytes;
    char *log_level;
    char *server_key; /* the daemon's CURVE public key, Z85 */
    char *key_file;   /* this adapter's CURVE key pair */
} jr_settings_t;

/* Fills every key with its default. 0, or -1 when out of memory. */
int jr_settings_init(jr_settings_t *s);

/* Frees the strings. */
void jr_settings_free(jr_settings_t *s);

/* Reads `path`'s [adapter] section over the current values. 0, or -1 with
 * a reason ("FILE:LINE: ...") in why. */
int jr_settings_load(jr_settings_t *s, const char *path, char *why, size_t why_len);

/* Sets one key from "key=value" text. 0, or -1 with a reason in why. */
int jr_settings_set(jr_settings_t *s, const char *assignment, char *why, size_t why_len);

/* Prints every key with its type, default and help, as a commented INI file. */
void jr_settings_reference(FILE *out);

#endif
