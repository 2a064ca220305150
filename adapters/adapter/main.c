/* main.c -- joinedreview-adapter: turns a funding stream's CSV exports into
 * joinedreview events.
 *
 *   joinedreview-adapter --stream CODE [--config FILE] [--endpoint ENDPOINT]
 *                        [--inbox DIR] [--state DIR] [--mapping FILE]
 *                        [--watch] [--timeout SECONDS] [--set KEY=VALUE]...
 *
 * One-shot (the default) handles every export in the inbox and exits:
 *   0  every row of every file was accepted (OK, DUPLICATE or PARKED);
 *   1  some row, or a whole file, was refused (see *.rejected.csv, failed/);
 *   2  trouble: usage, configuration, mapping, the inbox or state directory,
 *      no answer from the daemon within the timeout, or a signal. Progress
 *      is checkpointed: the next run resumes.
 * Files still being written (open for writing, or ending in the middle of a
 * row) are left in the inbox for a later run and do not change the status.
 * --watch handles files as they arrive and are complete (inotify) until
 * SIGTERM or SIGINT, then exits 0 (2 on trouble at start-up). See
 * adapters/README.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "durable.h"
#include "feed.h"
#include "inbox.h"
#include "keyfile.h"
#include "log.h"
#include "mapping.h"
#include "settings.h"
#include "version.h"

#define EXIT_REJECTED 1
#define EXIT_TROUBLE  2

static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

/* No SA_RESTART: a blocked wait returns EINTR, and jr_client and the watch
 * loop check the flag. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* The inbox's lease test: a writer opening a file while the adapter
     * holds its lease (for an instant) signals SIGIO. */
    signal(SIGIO, SIG_IGN);
}

static void usage(FILE *out)
{
    fputs("usage: joinedreview-adapter --stream CODE [options]\n"
          "       joinedreview-adapter --config FILE [options]\n"
          "\n"
          "Reads a funding stream's CSV exports from an inbox directory and sends each row\n"
          "to joinedreviewd as one event. Finished files move to INBOX/done/, refused rows\n"
          "go to FILE.rejected.csv beside them, files refused whole to INBOX/failed/.\n"
          "\n"
          "  -s, --stream CODE       funding stream: SP, ILF, ICES, ATW, DFG, SC (built-in\n"
          "                          mappings), or any code with --mapping\n"
          "  -c, --config FILE       INI file with an [adapter] section (see\n"
          "                          --config-reference); options below override it\n"
          "  -e, --endpoint ENDPOINT the daemon's ingest socket [tcp://127.0.0.1:5560]\n"
          "  -i, --inbox DIR         where exports are dropped [inbox]\n"
          "  -S, --state DIR         where checkpoints are kept [state]\n"
          "  -m, --mapping FILE      use this mapping instead of the built-in one\n"
          "  -w, --watch             keep running, handling files as they arrive and are\n"
          "                          complete\n"
          "  -t, --timeout SECONDS   one-shot: give up after this long without an answer\n"
          "                          from the daemon [300; 0 = never]\n"
          "      --window N          rows in flight at most [256]\n"
          "      --ack-timeout MS    resend a row unanswered this long [5000]\n"
          "      --server-key KEY    the daemon's CURVE public key (40 Z85 characters)\n"
          "      --key-file FILE     this adapter's CURVE key pair (joinedreview keygen)\n"
          "      --log-level LEVEL   err, warning, notice, info, debug [info]\n"
          "      --set KEY=VALUE     any configuration key\n"
          "      --print-mapping     print the stream's mapping table and exit\n"
          "      --config-reference  print every configuration key and exit\n"
          "  -h, --help              print this and exit\n"
          "  -V, --version           print the version and exit\n"
          "\n"
          "Exit status (one-shot): 0 every row accepted; 1 some row or file refused;\n"
          "2 trouble (configuration, directories, no answer from the daemon, a signal).\n"
          "See adapters/README.md.\n",
          out);
}

/* This adapter's key pair; a key file others can read is refused. */
static int read_key_file(const char *path, char pub[JR_KEY_Z85_LEN + 1],
                         char sec[JR_KEY_Z85_LEN + 1])
{
    char err[512];
    if (jr_keyfile_read(path, pub, sec, err, sizeof err) != 0) {
        jr_log(JR_LOG_ERR, "adapter", "key file %s", err);
        return -1;
    }
    return 0;
}

/* ---- the watchdog and status line ------------------------------------------------ */

static void tick(void *ctx)
{
    (void)ctx;
    static struct timespec last;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec != last.tv_sec) {
        sd_notify(0, "WATCHDOG=1");
        last = now;
    }
}

static void status_line(const jr_feed_t *feed, const char *stream)
{
    jr_feed_totals_t t;
    jr_feed_totals(feed, &t);
    sd_notifyf(0,
               "STATUS=%s: %llu files done, %llu refused whole; %llu rows: %llu ok, %llu "
               "duplicate, %llu parked, %llu rejected",
               stream, (unsigned long long)t.files, (unsigned long long)t.failed,
               (unsigned long long)t.rows, (unsigned long long)t.ok,
               (unsigned long long)t.duplicate, (unsigned long long)t.parked,
               (unsigned long long)t.rejected);
}

/* ---- one-shot and watch ------------------------------------------------------------ */

/* Handles the files in the inbox that are complete now. *worst gets the
 * worst JR_FEED_* result seen (ERROR, TIMEOUT and STOPPED over REJECTS over
 * ACCEPTED; WAITING counts as ACCEPTED: the file is simply not there yet),
 * *waiting how many files were found still being written. Returns -1 when
 * the run must stop (a signal, or the daemon silent), else 0. *wait_ms:
 * when a file left for a time is due again (-1: none). */
static int handle_inbox(jr_feed_t *feed, jr_inbox_t *inbox, int settle_ms, int *worst,
                        size_t *waiting, int *wait_ms, const char *stream)
{
    char **names;
    size_t n;
    if (jr_inbox_scan(inbox, settle_ms, &names, &n, wait_ms) != 0) {
        jr_log(JR_LOG_ERR, "adapter", "inbox %s: %s", jr_inbox_dir(inbox), strerror(errno));
        *worst = JR_FEED_ERROR;
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0 && !g_interrupted; i++) {
        int r = jr_feed_file(feed, names[i]);
        *waiting += r == JR_FEED_WAITING;
        if (r == JR_FEED_ERROR || r == JR_FEED_STOPPED || r == JR_FEED_TIMEOUT)
            *worst = r;
        else if (r == JR_FEED_REJECTS && *worst == JR_FEED_ACCEPTED)
            *worst = r;
        if (r == JR_FEED_STOPPED || r == JR_FEED_TIMEOUT)
            rc = -1;
        status_line(feed, stream);
    }
    jr_inbox_free_names(names, n);
    return rc;
}

static int run_watch(jr_feed_t *feed, jr_inbox_t *inbox, const jr_settings_t *s, const char *stream)
{
    int fd = jr_inbox_watch(inbox);
    if (fd < 0) {
        jr_log(JR_LOG_ERR, "adapter", "cannot watch %s: %s", jr_inbox_dir(inbox), strerror(errno));
        return EXIT_TROUBLE;
    }
    sd_notify(0, "READY=1");
    jr_log(JR_LOG_NOTICE, "adapter", "watching %s for %s exports", jr_inbox_dir(inbox), stream);
    while (!g_interrupted) {
        int worst = JR_FEED_ACCEPTED, wait_ms;
        size_t waiting = 0;
        handle_inbox(feed, inbox, (int)s->settle_ms, &worst, &waiting, &wait_ms, stream);
        /* Wait for a file to be closed or moved in, a file to settle, or the
         * periodic rescan, in steps short enough to notice a signal and feed
         * the watchdog. Events read while files were handled count too. */
        long left =
            wait_ms >= 0 && wait_ms < s->rescan_s * 1000 ? wait_ms + 50 : (long)s->rescan_s * 1000;
        int woken = jr_inbox_drain(inbox);
        while (woken == 0 && left > 0 && !g_interrupted) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int step = left < 1000 ? (int)left : 1000;
            int r = poll(&p, 1, step);
            tick(NULL);
            if (r > 0)
                woken = jr_inbox_drain(inbox); /* the scan decides what to read */
            else if (r < 0 && errno != EINTR)
                woken = -1;
            left -= step;
        }
        if (woken < 0) {
            jr_log(JR_LOG_ERR, "adapter", "watching %s: %s", jr_inbox_dir(inbox), strerror(errno));
            return EXIT_TROUBLE;
        }
    }
    sd_notify(0, "STOPPING=1");
    return 0;
}

/* ---- start-up ---------------------------------------------------------------------- */

typedef struct {
    char **items;
    size_t n;
} overrides_t;

/* Keeps "KEY=VALUE" (key NULL: `value` already is one) to apply after the
 * configuration file, so that options win whatever their order. */
static int add_override(overrides_t *o, const char *key, const char *value)
{
    size_t len = (key ? strlen(key) + 1 : 0) + strlen(value) + 1;
    char *s = malloc(len);
    char **items = realloc(o->items, (o->n + 1) * sizeof *items);
    if (!s || !items) {
        free(s);
        if (items)
            o->items = items;
        fputs("joinedreview-adapter: out of memory\n", stderr);
        return -1;
    }
    snprintf(s, len, "%s%s%s", key ? key : "", key ? "=" : "", value);
    o->items = items;
    o->items[o->n++] = s;
    return 0;
}

static void free_overrides(overrides_t *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->items[i]);
    free(o->items);
}

static jr_mapping_t *load_mapping(const jr_settings_t *s)
{
    char why[512];
    jr_mapping_t *m = NULL;
    if (s->mapping[0]) {
        m = jr_mapping_load(s->mapping, why, sizeof why);
    } else if (s->stream[0]) {
        const jr_mapping_builtin_t *b = jr_mapping_builtin(s->stream);
        if (!b) {
            size_t n;
            const jr_mapping_builtin_t *all = jr_mapping_builtins(&n);
            char known[128] = "";
            for (size_t i = 0; i < n; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                         all[i].stream);
            jr_log(JR_LOG_ERR, "adapter",
                   "no built-in mapping for stream \"%s\" (built in: %s); give one with "
                   "--mapping FILE",
                   s->stream, known);
            return NULL;
        }
        char origin[128];
        snprintf(origin, sizeof origin, "built-in %s", b->path);
        m = jr_mapping_parse(b->text, origin, why, sizeof why);
    } else {
        jr_log(JR_LOG_ERR, "adapter",
               "name the funding stream: --stream CODE (or stream = in "
               "the --config file, or a --mapping file)");
        return NULL;
    }
    if (!m) {
        jr_log(JR_LOG_ERR, "adapter", "mapping: %s", why);
        return NULL;
    }
    if (s->stream[0] && strcasecmp(s->stream, jr_mapping_stream(m)) != 0) {
        jr_log(JR_LOG_ERR, "adapter", "the mapping %s is for stream %s, not %s",
               jr_mapping_origin(m), jr_mapping_stream(m), s->stream);
        jr_mapping_destroy(&m);
    }
    return m;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stream", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'c'},
        {"endpoint", required_argument, NULL, 'e'},
        {"inbox", required_argument, NULL, 'i'},
        {"state", required_argument, NULL, 'S'},
        {"mapping", required_argument, NULL, 'm'},
        {"watch", no_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},
        {"window", required_argument, NULL, 1},
        {"ack-timeout", required_argument, NULL, 2},
        {"log-level", required_argument, NULL, 3},
        {"set", required_argument, NULL, 4},
        {"server-key", required_argument, NULL, 7},
        {"key-file", required_argument, NULL, 8},
        {"print-mapping", no_argument, NULL, 5},
        {"config-reference", no_argument, NULL, 6},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static const char *const short_keys[128] = {
        ['s'] = "stream",  ['e'] = "endpoint",  ['i'] = "inbox",  ['S'] = "state",
        ['m'] = "mapping", ['t'] = "timeout_s", [1] = "window",   [2] = "ack_timeout_ms",
        [3] = "log_level", [7] = "server_key",  [8] = "key_file",
    };
    const char *config = NULL;
    bool print_mapping = false;
    overrides_t ov = {0};
    jr_settings_t s;
    int status = EXIT_TROUBLE, c;
    jr_mapping_t *mapping = NULL;
    jr_inbox_t *inbox = NULL;
    jr_feed_t *feed = NULL;
    char why[512];

    if (jr_settings_init(&s) != 0) {
        fputs("joinedreview-adapter: out of memory\n", stderr);
        return EXIT_TROUBLE;
    }
    while ((c = getopt_long(argc, argv, "s:c:e:i:S:m:wt:hV", longopts, NULL)) != -1) {
        if (c > 0 && c < 128 && short_keys[c]) {
            if (add_override(&ov, short_keys[c], optarg) != 0)
                goto done;
            continue;
        }
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'w':
            if (add_override(&ov, "watch", "true") != 0)
                goto done;
            break;
        case 4:
            if (add_override(&ov, NULL, optarg) != 0)
                goto done;
            break;
        case 5:
            print_mapping = true;
            break;
        case 6:
            jr_settings_reference(stdout);
            status = 0;
            goto done;
        case 'h':
            usage(stdout);
            status = 0;
            goto done;
        case 'V':
            printf("joinedreview-adapter %s\n", JR_VERSION);
            status = 0;
            goto done;
        default:
            fputs("Try 'joinedreview-adapter --help'.\n", stderr);
            goto done;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joinedreview-adapter: unexpected argument \"%s\"\n", argv[optind]);
        goto done;
    }
    if (config && jr_settings_load(&s, config, why, sizeof why) != 0) {
        fprintf(stderr, "joinedreview-adapter: %s\n", why);
        goto done;
    }
    for (size_t i = 0; i < ov.n; i++) {
        if (jr_settings_set(&s, ov.items[i], why, sizeof why) != 0) {
            fprintf(stderr, "joinedreview-adapter: %s\n", why);
            goto done;
        }
    }
    int level = jr_log_level_from_name(s.log_level);
    if (level < 0) {
        fprintf(stderr,
                "joinedreview-adapter: log_level %s: use err, warning, notice, info or "
                "debug\n",
                s.log_level);
        goto done;
    }
    jr_log_set_level((jr_log_level_t)level);

    mapping = load_mapping(&s);
    if (!mapping)
        goto done;
    if (print_mapping) {
        fputs(jr_mapping_text(mapping), stdout);
        status = 0;
        goto done;
    }
    const char *stream = jr_mapping_stream(mapping);

    char pub[JR_KEY_Z85_LEN + 1], sec[JR_KEY_Z85_LEN + 1];
    bool curve = s.server_key[0] != '\0';
    if (curve != (s.key_file[0] != '\0')) {
        jr_log(JR_LOG_ERR, "adapter", "server_key and key_file go together");
        goto done;
    }
    if (curve && read_key_file(s.key_file, pub, sec) != 0)
        goto done;
    if (jr_durable_mkdirs(s.state, 0700) != 0) {
        jr_log(JR_LOG_ERR, "adapter", "state directory %s: %s", s.state, strerror(errno));
        goto done;
    }
    inbox = jr_inbox_open(s.inbox, why, sizeof why);
    if (!inbox) {
        jr_log(JR_LOG_ERR, "adapter", "%s", why);
        goto done;
    }
    catch_signals();

    jr_feed_options_t fo = {
        .endpoint = s.endpoint,
        .mapping = mapping,
        .inbox = inbox,
        .state_dir = s.state,
        .window = (size_t)s.window,
        .ack_timeout_ms = (int)s.ack_timeout_ms,
        .max_backoff_ms =
            (int)(s.max_backoff_ms > s.ack_timeout_ms ? s.max_backoff_ms : s.ack_timeout_ms),
        .timeout_ms = s.watch ? 0 : (int)(s.timeout_s * 1000),
        .checkpoint_ms = (int)s.checkpoint_ms,
        .max_file_bytes = (size_t)s.max_file_bytes,
        .torn_wait_ms = (int)(s.torn_wait_s * 1000),
        .interrupted = &g_interrupted,
        .curve_server_key = curve ? s.server_key : NULL,
        .curve_public_key = curve ? pub : NULL,
        .curve_secret_key = curve ? sec : NULL,
        .tick = tick,
    };
    feed = jr_feed_new(&fo, why, sizeof why);
    if (!feed) {
        jr_log(JR_LOG_ERR, "adapter", "%s", why);
        goto done;
    }
    jr_log(JR_LOG_INFO, "adapter", "%s (%s), mapping %s, daemon %s, inbox %s", stream,
           jr_mapping_name(mapping), jr_mapping_origin(mapping), s.endpoint, s.inbox);
    if (jr_feed_recover(feed) != 0)
        goto done;

    if (s.watch) {
        status = run_watch(feed, inbox, &s, stream);
    } else {
        int worst = JR_FEED_ACCEPTED, wait_ms;
        size_t waiting = 0;
        handle_inbox(feed, inbox, 0, &worst, &waiting, &wait_ms, stream);
        if (waiting > 0)
            jr_log(JR_LOG_NOTICE, "adapter",
                   "%zu file%s still being written stay%s in the inbox for a later run", waiting,
                   waiting == 1 ? "" : "s", waiting == 1 ? "s" : "");
        jr_feed_totals_t t;
        jr_feed_totals(feed, &t);
        jr_log(JR_LOG_INFO, "adapter",
               "%s: %llu files done, %llu refused whole; %llu rows: %llu ok, %llu duplicate, "
               "%llu parked, %llu rejected",
               stream, (unsigned long long)t.files, (unsigned long long)t.failed,
               (unsigned long long)t.rows, (unsigned long long)t.ok,
               (unsigned long long)t.duplicate, (unsigned long long)t.parked,
               (unsigned long long)t.rejected);
        status = worst == JR_FEED_ACCEPTED  ? 0
                 : worst == JR_FEED_REJECTS ? EXIT_REJECTED
                                            : EXIT_TROUBLE;
    }

done:
    jr_feed_destroy(&feed);
    jr_inbox_destroy(&inbox);
    jr_mapping_destroy(&mapping);
    jr_settings_free(&s);
    free_overrides(&ov);
    return status;
}
