/* settings.h -- joinedreview-export's configuration: one declarative table
 * (lib/cfg.h), an INI file's [export] section, and --set export.KEY=VALUE
 * overrides. An unknown key or a value out of bounds is an error at
 * start-up. The CURVE key pair is a file the configuration names (a
 * credential under systemd), never a value in it. */
#ifndef JR_EXPORT_SETTINGS_H
#define JR_EXPORT_SETTINGS_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    char *stream;           /* the funding stream whose extracts this instance writes */
    char *catchup_endpoint; /* the daemon's catch-up socket */
    char *outbound;         /* the stream's outbound directory */
    char *state;            /* the sequence reached, kept durably */
    char *daemon_config;    /* the daemon's configuration, for [stream.*]; "": built-in */
    char *server_key;       /* the daemon's CURVE public key; "": plaintext development */
    char *key_file;         /* this exporter's key pair */
    char *log_level;
    int poll_ms; /* how often the daemon is asked for what is new */
} jr_export_settings_t;

/* Every key at its default. 0, or -1 with err. */
int jr_export_settings_init(jr_export_settings_t *s, char *err, size_t errlen);
void jr_export_settings_free(jr_export_settings_t *s);

/* Reads an INI file's [export] section over the current values. 0, or -1
 * with "FILE:LINE: why" in err. */
int jr_export_settings_load(jr_export_settings_t *s, const char *path, char *err, size_t errlen);

/* Sets "export.KEY=VALUE" (or "KEY=VALUE"). 0, or -1 with err. */
int jr_export_settings_set(jr_export_settings_t *s, const char *assignment, char *err,
                           size_t errlen);

/* The checks that span keys: a stream, and server_key with key_file. 0, or
 * -1 with err. */
int jr_export_settings_check(const jr_export_settings_t *s, char *err, size_t errlen);

void jr_export_settings_reference(FILE *out);

#endif
