/* main.c -- joinedreview-export: when a joined-up review is held, writes
 * one funding stream's extract of the final record, cut to the stream's
 * minimum information, as CSV and JSON into the stream's outbound
 * directory.
 *
 *   joinedreview-export --config FILE --stream CODE [--set export.KEY=VALUE]...
 *                       [--idle-exit SECONDS]
 *   joinedreview-export --config-reference
 *
 * It follows the daemon's publications without missing one
 * (client/jr_subscriber.h: SINCE the sequence kept in the state file, a
 * snapshot only when the daemon no longer keeps that far back), through the
 * catch-up endpoint alone: its key has one stream's records (access.h,
 * `records = CODE`), which the daemon serves there and nowhere else.
 *
 * Never loses, never duplicates. Each extract is written whole before the
 * sequence moves past its publication: a temporary file, fsync, rename,
 * fsync of the directory (lib/durable.h). The state file is written after
 * the files it covers, so a crash (kill -9 included) makes the next run
 * see some publications again, never skip one; a file's name is fixed by
 * person and cycle, and one already there is left as it is, so seeing a
 * publication again writes nothing twice.
 *
 * One thread. SIGTERM and SIGINT arrive on a signalfd the subscriber
 * watches. Under systemd (Type=notify): READY=1 once caught up, STATUS=
 * with counts, WATCHDOG=1 from the loop. Exit status: 0 when stopped by a
 * signal or --idle-exit, 1 on a usage error, 2 on trouble. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cut.h"
#include "durable.h"
#include "extract.h"
#include "jr_subscriber.h"
#include "keyfile.h"
#include "log.h"
#include "settings.h"
#include "version.h"

#define EXIT_USAGE   1
#define EXIT_TROUBLE 2

#define PERSIST_EVERY    256   /* publications dealt with between two state writes, at most */
#define REPLY_TIMEOUT_MS 10000 /* a catch-up request unanswered this long is asked again */

typedef struct {
    jr_export_settings_t cfg;
    jr_share_scope_t scope;
    jr_subscriber_t *sub;
    int sigfd;
    long idle_exit_s; /* 0: never */
    bool stop;
    int status;
    uint64_t saved;
    bool saved_valid;
    unsigned unsaved;
    int64_t news_ms;
    unsigned long extracts, files_written, files_kept;
    char public_key[JR_KEY_Z85_LEN + 1], secret_key[JR_KEY_Z85_LEN + 1];
} exporter_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void status_line(const exporter_t *x)
{
    sd_notifyf(0, "STATUS=%lu extracts (%lu files written, %lu already there); sequence %llu",
               x->extracts, x->files_written, x->files_kept,
               (unsigned long long)(x->sub ? jr_subscriber_sequence(x->sub) : 0));
}

/* ---- the files ------------------------------------------------------------ */

/* Writes dir/name durably unless it is there already. 0 written, 1 kept,
 * -1 on error (logged). */
static int put_file(exporter_t *x, const char *name, const char *data, size_t len)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", x->cfg.outbound, name);
    if (stat(path, &st) == 0) {
        x->files_kept++;
        return 1;
    }
    if (jr_durable_write(x->cfg.outbound, name, data, len) != 0) {
        jr_log(JR_LOG_ERR, "export", "%s: %s", path, strerror(errno));
        return -1;
    }
    x->files_written++;
    return 0;
}

/* The stream's extract of one review held: JSON first, then CSV, each
 * skipped when it is there. 0, or -1 (logged). */
static int extract(exporter_t *x, const Joinedreview__V1__ConsolidatedReview *r)
{
    jr_cut_t cut;
    if (jr_cut_build(&cut, r, &x->scope) != 0) {
        jr_log(JR_LOG_ERR, "export", "out of memory");
        return -1;
    }
    char *json = NULL, *csv = NULL;
    size_t json_len = 0, csv_len = 0;
    char json_name[64], csv_name[64];
    jr_extract_name(r->nhs_number, r->cycle, "json", json_name, sizeof json_name);
    jr_extract_name(r->nhs_number, r->cycle, "csv", csv_name, sizeof csv_name);
    int rc = jr_extract_json(&cut, &json, &json_len) == 0 && jr_extract_csv(&cut, &csv, &csv_len) == 0
                 ? 0
                 : -1;
    if (rc != 0) {
        jr_log(JR_LOG_ERR, "export", "out of memory");
    }
    int wrote_json = rc == 0 ? put_file(x, json_name, json, json_len) : -1;
    int wrote_csv = wrote_json >= 0 ? put_file(x, csv_name, csv, csv_len) : -1;
    if (wrote_json < 0 || wrote_csv < 0) {
        rc = -1;
    } else {
        x->extracts++;
        jr_log(JR_LOG_INFO, "export", "%s: %s-cycle%u, review held on %s: %s", x->scope.stream,
               r->nhs_number, r->cycle, r->held_on,
               wrote_json == 0 || wrote_csv == 0 ? "written" : "already there");
    }
    free(json);
    free(csv);
    jr_cut_clear(&cut);
    return rc;
}

/* ---- the state file -------------------------------------------------------- */

static void persist(exporter_t *x, uint64_t seq, bool force)
{
    if (!force && x->saved_valid && x->saved == seq) {
        return;
    }
    char err[600];
    if (jr_subscriber_state_save(x->cfg.state, seq, err, sizeof err) < 0) {
        jr_log(JR_LOG_ERR, "export", "%s", err);
        x->status = EXIT_TROUBLE;
        x->stop = true;
        return;
    }
    x->saved = seq;
    x->saved_valid = true;
    x->unsaved = 0;
}

/* ---- what the subscriber hands over ---------------------------------------- */

static int on_publication(void *ctx, uint64_t seq, const char *topic, const uint8_t *payload,
                          size_t len, int origin)
{
    exporter_t *x = ctx;
    (void)seq;
    (void)origin;
    x->news_ms = now_ms();
    /* Notices, and what the key may not read (sent without its payload),
     * are dealt with by passing over them. */
    if (strcmp(topic, "review") != 0 || len == 0) {
        return 0;
    }
    Joinedreview__V1__ConsolidatedReview *r =
        joinedreview__v1__consolidated_review__unpack(NULL, len, payload);
    if (r == NULL) {
        static jr_log_limit_t limit = {.interval_ms = 30000};
        jr_log_limited(&limit, JR_LOG_WARNING, "export",
                       "publication %llu is not a readable review; passed over",
                       (unsigned long long)seq);
        return 0;
    }
    int rc = jr_extract_due(r, &x->scope) ? extract(x, r) : 0;
    joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
    if (rc != 0) {
        return -1; /* the sequence stays before it: asked again */
    }
    if (++x->unsaved >= PERSIST_EVERY) {
        persist(x, seq, false);
    }
    return x->stop ? JR_SUBSCRIBER_STOP : 0;
}

static void on_warning(void *ctx, const char *text)
{
    (void)ctx;
    jr_log(JR_LOG_WARNING, "export", "%s", text);
}

/* ---- set-up ------------------------------------------------------------------ */

static void usage(FILE *out)
{
    fputs("usage: joinedreview-export --config FILE --stream CODE [--set export.KEY=VALUE]...\n"
          "                           [--idle-exit SECONDS]\n"
          "       joinedreview-export --config-reference | --help | --version\n"
          "\n"
          "When a joined-up review is held, writes the funding stream's extract of the\n"
          "final record, cut to its minimum information: NHS-cycleN.csv and .json in\n"
          "the stream's outbound directory.\n"
          "\n"
          "  -c, --config FILE        an INI file with an [export] section\n"
          "  -s, --stream CODE        the funding stream (export.stream)\n"
          "      --set KEY=VALUE      overrides one key (export.outbound=/srv/out/SP)\n"
          "      --idle-exit SECONDS  exit 0 once caught up and nothing new came for this long\n"
          "      --config-reference   every key, its default and bounds\n"
          "  -h, --help               this text\n"
          "      --version            the version\n",
          out);
}

/* 0 to run, 1 when done (help, reference, version), -1 on a usage error. */
static int parse(exporter_t *x, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},  {"stream", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'S'},     {"idle-exit", required_argument, NULL, 'i'},
        {"config-reference", no_argument, NULL, 'R'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0}};
    char err[600];
    int c;
    while ((c = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (jr_export_settings_load(&x->cfg, optarg, err, sizeof err) != 0) {
                fprintf(stderr, "joinedreview-export: %s\n", err);
                return -1;
            }
            break;
        case 's':
            free(x->cfg.stream);
            x->cfg.stream = strdup(optarg);
            if (x->cfg.stream == NULL) {
                return -1;
            }
            break;
        case 'S':
            if (jr_export_settings_set(&x->cfg, optarg, err, sizeof err) != 0) {
                fprintf(stderr, "joinedreview-export: %s\n", err);
                return -1;
            }
            break;
        case 'i': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v < 1 || v > 86400) {
                fprintf(stderr, "joinedreview-export: --idle-exit wants 1 to 86400 seconds\n");
                return -1;
            }
            x->idle_exit_s = v;
            break;
        }
        case 'R':
            jr_export_settings_reference(stdout);
            return 1;
        case 'h':
            usage(stdout);
            return 1;
        case 'V':
            printf("joinedreview-export %s\n", JR_VERSION);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joinedreview-export: unexpected '%s'\n", argv[optind]);
        return -1;
    }
    if (jr_export_settings_check(&x->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "joinedreview-export: %s\n", err);
        return -1;
    }
    return 0;
}

/* The stream's share, the key pair and the directories. 0, or -1 (logged). */
static int prepare(exporter_t *x)
{
    char err[600];
    jr_streams_t *streams = jr_config_streams_of(x->cfg.daemon_config, err, sizeof err);
    if (streams == NULL) {
        jr_log(JR_LOG_ERR, "export", "%s", err);
        return -1;
    }
    int rc = jr_share_scope_stream(&x->scope, streams, x->cfg.stream);
    jr_streams_destroy(&streams);
    if (rc != 0) {
        jr_log(JR_LOG_ERR, "export", "stream '%s' is not a funding stream the configuration knows",
               x->cfg.stream);
        return -1;
    }
    if (x->cfg.key_file[0] != '\0' &&
        jr_keyfile_read(x->cfg.key_file, x->public_key, x->secret_key, err, sizeof err) != 0) {
        jr_log(JR_LOG_ERR, "export", "%s", err);
        return -1;
    }
    /* The state file's directory, and the outbound one. */
    char state_dir[4096];
    snprintf(state_dir, sizeof state_dir, "%s", x->cfg.state);
    char *slash = strrchr(state_dir, '/');
    if (slash != NULL && slash != state_dir) {
        *slash = '\0';
    } else {
        snprintf(state_dir, sizeof state_dir, "%s", slash == state_dir ? "/" : ".");
    }
    if (jr_durable_mkdirs(state_dir, 0700) != 0 || jr_durable_mkdirs(x->cfg.outbound, 0750) != 0) {
        jr_log(JR_LOG_ERR, "export", "cannot make %s or %s: %s", state_dir, x->cfg.outbound,
               strerror(errno));
        return -1;
    }
    return 0;
}

static int open_subscriber(exporter_t *x, uint64_t from)
{
    bool curve = x->cfg.server_key[0] != '\0';
    jr_subscriber_options_t o = {
        .publish_endpoint = NULL, /* a one-stream key reads catch-up only */
        .catchup_endpoint = x->cfg.catchup_endpoint,
        .topics = JR_SUBSCRIBER_RECORDS,
        .stream = x->scope.stream,
        /* Everything the daemon still keeps after the state file's
         * sequence (from 0 on a first run); a snapshot when it no longer
         * keeps that far back. */
        .resume = true,
        .resume_after = from,
        .request_timeout_ms = REPLY_TIMEOUT_MS,
        .probe_ms = x->cfg.poll_ms,
        .probe_max_ms = x->cfg.poll_ms,
        .give_up_ms = x->idle_exit_s ? (int)(x->idle_exit_s * 1000) + REPLY_TIMEOUT_MS : 0,
        .on_publication = on_publication,
        .on_warning = on_warning,
        .ctx = x,
        .curve_server_key = curve ? x->cfg.server_key : NULL,
        .curve_public_key = curve ? x->public_key : NULL,
        .curve_secret_key = curve ? x->secret_key : NULL,
    };
    x->sub = jr_subscriber_new(&o);
    if (x->sub == NULL) {
        jr_log(JR_LOG_ERR, "export", "%s: %s", x->cfg.catchup_endpoint, strerror(errno));
        return -1;
    }
    jr_subscriber_set_stop_fd(x->sub, x->sigfd);
    return 0;
}

/* ---- the loop ------------------------------------------------------------------ */

/* What a subscriber call returned: go on, stop, or wait and ask again. */
static void took(exporter_t *x, int rc)
{
    if (rc >= 0 || rc == JR_SUBSCRIBER_ESTOPPED) {
        return;
    }
    if (rc == JR_SUBSCRIBER_EINTR) {
        struct signalfd_siginfo si;
        while (read(x->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
            x->stop = true;
        }
        return;
    }
    if (rc == JR_SUBSCRIBER_ECALLBACK) {
        /* An extract could not be written (a full disk, say): the
         * publication is asked for again after a pause. */
        struct timespec pause = {.tv_sec = x->cfg.poll_ms / 1000,
                                 .tv_nsec = (long)(x->cfg.poll_ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
        return;
    }
    jr_log(JR_LOG_ERR, "export", "%s: %s", jr_subscriber_strerror(rc),
           jr_subscriber_reason(x->sub));
    x->status = EXIT_TROUBLE;
    x->stop = true;
}

static void follow(exporter_t *x)
{
    while (!x->stop) {
        sd_notify(0, "WATCHDOG=1");
        int wait = 5000;
        if (x->idle_exit_s) {
            int64_t left = x->news_ms + x->idle_exit_s * 1000 - now_ms();
            wait = left < 0 ? 0 : left < wait ? (int)left : wait;
        }
        took(x, jr_subscriber_poll(x->sub, wait));
        if (x->status == 0) {
            persist(x, jr_subscriber_sequence(x->sub), false);
            status_line(x);
        }
        if (x->stop || !x->idle_exit_s || now_ms() < x->news_ms + x->idle_exit_s * 1000) {
            continue;
        }
        /* Quiet for long enough: make sure it is real before leaving. */
        uint64_t before = jr_subscriber_sequence(x->sub);
        int rc = jr_subscriber_sync(x->sub);
        took(x, rc);
        if (rc == 0 && jr_subscriber_sequence(x->sub) == before) {
            break;
        }
    }
}

int main(int argc, char **argv)
{
    exporter_t x = {.sigfd = -1};
    char err[600];
    if (jr_export_settings_init(&x.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "joinedreview-export: %s\n", err);
        return EXIT_TROUBLE;
    }
    int rc = parse(&x, argc, argv);
    if (rc != 0) {
        jr_export_settings_free(&x.cfg);
        return rc > 0 ? 0 : EXIT_USAGE;
    }
    jr_log_set_level((jr_log_level_t)jr_log_level_from_name(x.cfg.log_level));

    uint64_t from = 0;
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, &old);
    x.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (x.sigfd < 0) {
        jr_log(JR_LOG_ERR, "export", "signalfd: %s", strerror(errno));
        x.status = EXIT_TROUBLE;
        goto done;
    }
    if (prepare(&x) != 0) { /* it said why */
        x.status = EXIT_TROUBLE;
        goto done;
    }
    if (jr_subscriber_state_load(x.cfg.state, &from, err, sizeof err) < 0) {
        jr_log(JR_LOG_ERR, "export", "%s", err);
        x.status = EXIT_TROUBLE;
        goto done;
    }
    if (open_subscriber(&x, from) != 0) {
        x.status = EXIT_TROUBLE;
        goto done;
    }
    jr_log(JR_LOG_NOTICE, "export", "%s: extracts into %s, from sequence %llu", x.scope.stream,
           x.cfg.outbound, (unsigned long long)from);
    x.news_ms = now_ms();
    took(&x, jr_subscriber_sync(x.sub));
    if (x.status == 0) {
        persist(&x, jr_subscriber_sequence(x.sub), true);
        sd_notify(0, "READY=1");
        status_line(&x);
        jr_log(JR_LOG_NOTICE, "export", "ready: %s caught up at sequence %llu (%lu extracts)",
               x.scope.stream, (unsigned long long)jr_subscriber_sequence(x.sub), x.extracts);
    }
    follow(&x);

done:
    sd_notify(0, "STOPPING=1");
    if (x.status == 0 && x.sub != NULL) {
        persist(&x, jr_subscriber_sequence(x.sub), false);
    }
    if (x.sub != NULL || x.status == 0) {
        jr_log(JR_LOG_NOTICE, "export", "%s: %lu extracts, %lu files written, %lu already there",
               x.scope.stream, x.extracts, x.files_written, x.files_kept);
    }
    jr_subscriber_destroy(&x.sub);
    if (x.sigfd >= 0) {
        close(x.sigfd);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    jr_export_settings_free(&x.cfg);
    return x.status;
}
