/* options.c -- the command line, --help and --check-config's report, and
 * loading the configuration: the file, then the command line over it. */
#include "options.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text.h"
#include "version.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: joinedreviewd [options]\n"
            "  -c, --config FILE      configuration file (INI)\n"
            "  -s, --set SEC.KEY=VAL  override one setting (repeatable), e.g.\n"
            "                         --set daemon.batch_max=500 --set stream.CPA.enabled=true\n"
            "      --ingest ENDPOINT  same as --set daemon.ingest_endpoint=ENDPOINT\n"
            "      --publish ENDPOINT same as --set daemon.publish_endpoint=ENDPOINT\n"
            "      --database CONNINFO same as --set daemon.database=CONNINFO\n"
            "      --log-level LEVEL  same as --set daemon.log_level=LEVEL\n"
            "      --today YYYY-MM-DD run as if today were this date (demonstrations, tests);\n"
            "                         'clock' (the default) follows the system clock\n"
            "      --rebuild          recompute every consolidated review from the event log,\n"
            "                         report how many differed, and exit\n"
            "      --check-config     load the configuration and the secrets it names, print\n"
            "                         it, and exit (1 when something is refused)\n"
            "      --config-reference print every configuration key and exit\n"
            "  -h, --help             print this and exit\n"
            "  -V, --version          print the version and exit\n");
}

/* Keeps "--ingest X" style options as overrides so files and flags share one path. */
static int add_override(jr_options_t *opt, const char *prefix, const char *value)
{
    if (opt->n_overrides == JR_OPTIONS_OVERRIDES_MAX) {
        fprintf(stderr, "joinedreviewd: more than %d settings on the command line\n",
                JR_OPTIONS_OVERRIDES_MAX);
        return -1;
    }
    opt->overrides[opt->n_overrides++] = (jr_options_override_t){prefix ? prefix : "", value};
    return 0;
}

int jr_options_parse(int argc, char **argv, jr_options_t *opt)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"ingest", required_argument, NULL, 1},
        {"publish", required_argument, NULL, 2},
        {"database", required_argument, NULL, 3},
        {"log-level", required_argument, NULL, 4},
        {"rebuild", no_argument, NULL, 5},
        {"check-config", no_argument, NULL, 6},
        {"config-reference", no_argument, NULL, 7},
        {"today", required_argument, NULL, 8},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    int rc = 0;
    while ((c = getopt_long(argc, argv, "c:s:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt->config_path = optarg;
            break;
        case 's':
            rc |= add_override(opt, NULL, optarg);
            break;
        case 1:
            rc |= add_override(opt, "daemon.ingest_endpoint=", optarg);
            break;
        case 2:
            rc |= add_override(opt, "daemon.publish_endpoint=", optarg);
            break;
        case 3:
            rc |= add_override(opt, "daemon.database=", optarg);
            break;
        case 4:
            rc |= add_override(opt, "daemon.log_level=", optarg);
            break;
        case 5:
            opt->rebuild = true;
            break;
        case 6:
            opt->check_config = true;
            break;
        case 7:
            jr_config_print_reference(stdout);
            exit(0);
        case 8:
            if (strcmp(optarg, "clock") == 0) {
                opt->clock.fixed_day = JR_DAY_NONE;
            } else if (jr_text_parse_date(optarg, &opt->clock.fixed_day) != 0) {
                fprintf(stderr,
                        "joinedreviewd: --today '%s' is neither a date (YYYY-MM-DD) nor 'clock'\n",
                        optarg);
                return -1;
            }
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("joinedreviewd %s\n", JR_VERSION);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joinedreviewd: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return rc;
}

jr_config_t *jr_options_load_config(const jr_options_t *opt)
{
    char err[512];
    jr_config_t *cfg = jr_config_new();
    if (cfg == NULL) {
        jr_log(JR_LOG_ERR, "config", "out of memory");
        return NULL;
    }
    if (opt->config_path != NULL &&
        jr_config_load_file(cfg, opt->config_path, err, sizeof err) != 0) {
        jr_log(JR_LOG_ERR, "config", "%s", err);
        jr_config_destroy(&cfg);
        return NULL;
    }
    for (size_t i = 0; i < opt->n_overrides; i++) {
        char assignment[2048];
        snprintf(assignment, sizeof assignment, "%s%s", opt->overrides[i].prefix,
                 opt->overrides[i].value);
        if (jr_config_override(cfg, assignment, err, sizeof err) != 0) {
            jr_log(JR_LOG_ERR, "config", "%s", err);
            jr_config_destroy(&cfg);
            return NULL;
        }
    }
    return cfg;
}

void jr_options_print_config(FILE *out, const jr_config_t *cfg, bool secrets_ok)
{
    fprintf(out, "ingest_endpoint = %s\npublish_endpoint = %s\nbatch_max = %d\n",
            cfg->ingest_endpoint, cfg->publish_endpoint, cfg->batch_max);
    for (size_t i = 0; i < jr_streams_count(cfg->streams); i++) {
        const jr_stream_t *s = jr_streams_at(cfg->streams, i);
        fprintf(out, "stream %s (%s): %s\n", s->code, s->name, s->enabled ? "enabled" : "disabled");
    }
    fprintf(out, "secrets: %s\n", secrets_ok ? "readable, owner only" : "refused (see above)");
}
