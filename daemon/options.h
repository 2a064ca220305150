/* options.h -- joinedreviewd's command line: what it asks for, --help, and
 * the configuration it names, loaded.
 *
 * Settings on the command line ("--set a.b=c", "--ingest X") are kept as
 * overrides and applied over the configuration file through the same table
 * (config.h), so files and flags are checked alike. */
#ifndef JR_OPTIONS_H
#define JR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "clock.h"
#include "config.h"

#define JR_OPTIONS_OVERRIDES_MAX 64

/* A command-line setting: "--ingest X" is prefix "daemon.ingest_endpoint=",
 * value X; "--set a.b=c" has the prefix "". Both borrowed from argv. */
typedef struct {
    const char *prefix;
    const char *value;
} jr_options_override_t;

typedef struct {
    const char *config_path; /* NULL: the defaults and the command line alone */
    jr_options_override_t overrides[JR_OPTIONS_OVERRIDES_MAX];
    size_t n_overrides;
    bool rebuild;      /* --rebuild: recompute the reviews from the event log, and exit */
    bool check_config; /* --check-config: load, print, and exit */
    jr_clock_t clock;  /* --today fixes its day, for demonstrations and tests */
} jr_options_t;

/* Fills opt from argv (opt->clock.fixed_day is JR_DAY_NONE beforehand, for
 * the system clock). --help and --config-reference print and exit(0).
 * 0, or -1 with the reason on stderr. */
int jr_options_parse(int argc, char **argv, jr_options_t *opt);

/* The configuration file first, then the command line's settings over it.
 * Caller owns the result; NULL when refused (logged). */
jr_config_t *jr_options_load_config(const jr_options_t *opt);

/* --check-config's report: the endpoints, the batch size, the streams, and
 * whether the secrets were readable (secrets_ok). */
void jr_options_print_config(FILE *out, const jr_config_t *cfg, bool secrets_ok);

#endif
