/* main.c -- joinedreview-web: the command line, the accounts tool, start-up
 * and shutdown.
 *
 *   joinedreview-web --config FILE [--set web.KEY=VALUE]... [--today DATE]
 *   joinedreview-web --config FILE --add-account NAME ROLE [STREAM | LEAD...]
 *
 * Start-up reads the configuration, the daemon's stream table, the accounts
 * and the secrets, and refuses to start on any fault; then it serves until
 * SIGTERM or SIGINT. Under systemd it says READY=1 once it listens. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <termios.h>
#include <unistd.h>

#include "accounts.h"
#include "app.h"
#include "config.h"
#include "keyfile.h"
#include "log.h"
#include "server.h"
#include "text.h"
#include "version.h"
#include "webcfg.h"

#define MAX_SETS 64

typedef struct {
    const char *config_path;
    const char *sets[MAX_SETS];
    size_t n_sets;
    jr_clock_t clock;
    bool check_config, reference;
    char **add; /* NAME ROLE [SCOPE...] */
    int n_add;
} options_t;

static void usage(FILE *out)
{
    fputs("usage: joinedreview-web [--config FILE] [--set web.KEY=VALUE]... [--today DATE]\n"
          "       joinedreview-web [--config FILE] --add-account NAME ROLE [STREAM | LEAD...]\n"
          "       joinedreview-web --config-reference | --check-config\n"
          "\n"
          "  -c, --config FILE        the INI file with a [web] section\n"
          "  -s, --set web.KEY=VALUE  overrides one key (repeatable)\n"
          "      --today YYYY-MM-DD   run as if today were this date (demonstrations, tests);\n"
          "                           'clock' (the default) follows the system clock, in UTC\n"
          "      --add-account NAME ROLE [STREAM | LEAD...]\n"
          "                           adds or replaces an account in accounts_file: ROLE is\n"
          "                           scheduler (with the lead organisations they schedule\n"
          "                           for), stream-officer or data-officer (with their\n"
          "                           stream), or analyst; the password is read from\n"
          "                           standard input (asked twice, unseen, on a terminal)\n"
          "      --check-config       read everything start-up reads, then exit\n"
          "      --config-reference   print every key\n"
          "  -h, --help               print this and exit\n"
          "  -V, --version            print the version and exit\n",
          out);
}

static int parse_args(int argc, char **argv, options_t *opt)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},
        {"today", required_argument, NULL, 't'},  {"add-account", no_argument, NULL, 'a'},
        {"check-config", no_argument, NULL, 'k'}, {"config-reference", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    opt->clock.fixed_day = JR_DAY_NONE;
    bool add = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:s:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt->config_path = optarg;
            break;
        case 's':
            if (opt->n_sets == MAX_SETS) {
                fprintf(stderr, "joinedreview-web: too many --set\n");
                return -1;
            }
            opt->sets[opt->n_sets++] = optarg;
            break;
        case 't':
            if (strcmp(optarg, "clock") != 0 &&
                jr_text_parse_date(optarg, &opt->clock.fixed_day) != 0) {
                fprintf(stderr,
                        "joinedreview-web: --today '%s' is neither a date (YYYY-MM-DD) "
                        "nor 'clock'\n",
                        optarg);
                return -1;
            }
            break;
        case 'a':
            add = true;
            break;
        case 'k':
            opt->check_config = true;
            break;
        case 'r':
            opt->reference = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("joinedreview-web %s\n", JR_VERSION);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (add) {
        opt->add = argv + optind;
        opt->n_add = argc - optind;
        if (opt->n_add < 2) {
            fprintf(stderr, "joinedreview-web: --add-account NAME ROLE [STREAM | LEAD...]\n");
            return -1;
        }
    } else if (optind < argc) {
        fprintf(stderr, "joinedreview-web: unexpected '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* A line of standard input, unseen when it is a terminal. */
static int read_password(const char *prompt, char *out, size_t len)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fputs(prompt, stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(out, (int)len, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputs("\n", stderr);
    }
    if (got == NULL) {
        return -1;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int add_account(const jr_webcfg_t *cfg, const jr_streams_t *streams, char **args, int n)
{
    char err[512];
    if (cfg->accounts_file[0] == '\0') {
        fprintf(stderr, "joinedreview-web: set web.accounts_file to the file to write\n");
        return 1;
    }
    jr_account_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", args[0]);
    a.role = jr_accounts_role_from_name(args[1]);
    for (int i = 2; i < n; i++) {
        if (a.role == JR_ACCOUNT_SCHEDULER && a.n_leads < JR_ACCOUNT_LEADS_MAX) {
            snprintf(a.leads[a.n_leads++], JR_STREAM_CODE_MAX, "%s", args[i]);
        } else if (i == 2 && a.role != JR_ACCOUNT_SCHEDULER) {
            snprintf(a.stream, sizeof a.stream, "%s", args[i]);
        } else {
            fprintf(stderr, "joinedreview-web: too many streams for a %s\n", args[1]);
            return 1;
        }
    }
    if (strlen(args[0]) > JR_ACCOUNT_NAME_MAX ||
        jr_accounts_check(&a, streams, err, sizeof err) != 0) {
        fprintf(stderr, "joinedreview-web: %s\n",
                strlen(args[0]) > JR_ACCOUNT_NAME_MAX ? "name too long" : err);
        return 1;
    }
    jr_accounts_t *accounts = NULL;
    if (jr_accounts_load(cfg->accounts_file, streams, true, &accounts, err, sizeof err) != 0) {
        fprintf(stderr, "joinedreview-web: %s\n", err);
        return 1;
    }
    char pw[256], again[256];
    int rc = 1;
    if (read_password("Password (12 characters or more): ", pw, sizeof pw) != 0 ||
        strlen(pw) < 12) {
        fprintf(stderr, "joinedreview-web: a password of 12 characters or more, please\n");
    } else if (isatty(STDIN_FILENO) &&
               (read_password("The same again: ", again, sizeof again) != 0 ||
                strcmp(pw, again) != 0)) {
        fprintf(stderr, "joinedreview-web: the two passwords differ\n");
    } else if (crypto_pwhash_str(a.hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        fprintf(stderr, "joinedreview-web: out of memory hashing the password\n");
    } else if (jr_accounts_put(accounts, &a) != 0 ||
               jr_accounts_save(accounts, cfg->accounts_file, err, sizeof err) != 0) {
        fprintf(stderr, "joinedreview-web: %s\n", err);
    } else {
        char scope[160];
        jr_accounts_scope(&a, scope, sizeof scope);
        printf("account %s (%s %s) written to %s; restart joinedreview-web to apply it\n", a.name,
               args[1], scope, cfg->accounts_file);
        rc = 0;
    }
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(again, sizeof again);
    jr_accounts_destroy(&accounts);
    return rc;
}

static int read_token(const char *path, char *out, size_t len, char *err, size_t errlen)
{
    FILE *f = jr_keyfile_open_secret(path, err, errlen);
    if (f == NULL) {
        return -1;
    }
    char *got = fgets(out, (int)len, f);
    fclose(f);
    if (got != NULL) {
        out[strcspn(out, " \t\r\n")] = '\0';
    }
    if (got == NULL || strlen(out) < 16) {
        snprintf(err, errlen, "%s: needs a token of 16 to %zu characters on its first line", path,
                 len - 1);
        return -1;
    }
    return 0;
}

/* Descriptors: connections hold one each, so the soft limit goes up to the
 * hard one, as the daemon does. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    options_t opt = {0};
    char err[512];
    if (sodium_init() < 0 || parse_args(argc, argv, &opt) != 0) {
        return 2;
    }
    if (opt.reference) {
        jr_webcfg_print_reference(stdout);
        return 0;
    }
    jr_webcfg_t *cfg = jr_webcfg_new();
    if (cfg == NULL || (opt.config_path != NULL &&
                        jr_webcfg_load_file(cfg, opt.config_path, err, sizeof err) != 0)) {
        fprintf(stderr, "joinedreview-web: %s\n", cfg ? err : "out of memory");
        jr_webcfg_destroy(&cfg);
        return 1;
    }
    for (size_t i = 0; i < opt.n_sets; i++) {
        if (jr_webcfg_override(cfg, opt.sets[i], err, sizeof err) != 0) {
            fprintf(stderr, "joinedreview-web: %s\n", err);
            jr_webcfg_destroy(&cfg);
            return 1;
        }
    }
    jr_log_set_level((jr_log_level_t)jr_log_level_from_name(cfg->log_level));
    jr_streams_t *streams = jr_config_streams_of(cfg->daemon_config, err, sizeof err);
    if (streams == NULL) {
        fprintf(stderr, "joinedreview-web: the daemon's configuration: %s\n", err);
        jr_webcfg_destroy(&cfg);
        return 1;
    }
    if (opt.add != NULL) {
        int rc = add_account(cfg, streams, opt.add, opt.n_add);
        jr_streams_destroy(&streams);
        jr_webcfg_destroy(&cfg);
        return rc;
    }

    int status = 1;
    jr_app_t app = {.cfg = cfg, .streams = streams, .clock = opt.clock};
    jr_accounts_t *accounts = NULL;
    jr_server_t *server = NULL;
    bool sem = false;
    if (jr_webcfg_check(cfg, err, sizeof err) != 0 ||
        jr_accounts_load(cfg->accounts_file, streams, false, &accounts, err, sizeof err) != 0 ||
        (cfg->metrics_token_file[0] != '\0' &&
         read_token(cfg->metrics_token_file, app.metrics_token, sizeof app.metrics_token, err,
                    sizeof err) != 0)) {
        jr_log(JR_LOG_ERR, "main", "%s", err);
        goto out;
    }
    if (opt.check_config) {
        printf("configuration, streams (%zu) and accounts (%zu) are in order\n",
               jr_streams_count(streams), jr_accounts_count(accounts));
        status = 0;
        goto out;
    }
    app.accounts = accounts;
    app.sessions = jr_sessions_new((size_t)cfg->sessions_max, (int64_t)cfg->session_idle_s * 1000,
                                   (int64_t)cfg->session_max_s * 1000);
    app.throttle =
        jr_throttle_new((size_t)cfg->throttle_entries, (unsigned)cfg->login_failures,
                        (int64_t)cfg->login_pause_s * 1000, (int64_t)cfg->login_pause_max_s * 1000);
    app.db = jr_pgpool_new(cfg->database, (size_t)cfg->threads, cfg->statement_timeout_ms);
    char random_pw[33];
    randombytes_buf(random_pw, sizeof random_pw - 1);
    for (size_t i = 0; i + 1 < sizeof random_pw; i++) {
        random_pw[i] = (char)('a' + (unsigned char)random_pw[i] % 26);
    }
    random_pw[32] = '\0';
    sem = sem_init(&app.password_checks, 0, (unsigned)cfg->password_checks) == 0;
    if (app.sessions == NULL || app.throttle == NULL || app.db == NULL || !sem ||
        crypto_pwhash_str(app.dummy_hash, random_pw, 32, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        jr_log(JR_LOG_ERR, "main", "out of memory");
        goto out;
    }
    raise_nofile();
    /* Signals are taken by sigwait below; the server's threads inherit the
     * mask, so none of them is interrupted. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    server = jr_server_start(&app, err, sizeof err);
    if (server == NULL) {
        jr_log(JR_LOG_ERR, "main", "%s", err);
        goto out;
    }
    if (cfg->plaintext_development) {
        jr_log(JR_LOG_WARNING, "main",
               "plain HTTP (plaintext_development): for development on this machine only");
    }
    jr_log(JR_LOG_NOTICE, "main",
           "ready: %s://%s:%u/ (%zu accounts, %d threads, at most %d connections)",
           cfg->plaintext_development ? "http" : "https", cfg->listen_address,
           jr_server_port(server), jr_accounts_count(accounts), cfg->threads, cfg->max_connections);
    sd_notify(0, "READY=1");
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) {
            continue;
        }
        if (sig == SIGHUP) {
            jr_log(JR_LOG_NOTICE, "main", "SIGHUP: accounts and settings apply at a restart");
            continue;
        }
        jr_log(JR_LOG_NOTICE, "main", "signal %d: stopping", sig);
        break;
    }
    sd_notify(0, "STOPPING=1");
    status = 0;
out:
    jr_server_stop(&server);
    jr_pgpool_destroy(&app.db);
    jr_throttle_destroy(&app.throttle);
    jr_sessions_destroy(&app.sessions);
    if (sem) {
        sem_destroy(&app.password_checks);
    }
    jr_accounts_destroy(&accounts);
    jr_streams_destroy(&streams);
    jr_webcfg_destroy(&cfg);
    return status;
}
