/* main.c -- joinedreviewd: one zmq_poll loop does all the writing.
 *
 * socket -> codec -> batch (domain + store) -> acks -> publish. Two threads
 * only read, each over a read-only session of its own: one answers catch-up
 * requests (catchup.h), one computes the statistics feed (stats_worker.h). Signals
 * arrive through a signalfd in the same poll set: SIGTERM/SIGINT finish the
 * batch in hand and exit; SIGHUP reloads the configuration file (streams and
 * log level; endpoints and the database need a restart). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sodium.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "access.h"
#include "batch.h"
#include "stats_worker.h"
#include "catchup.h"
#include "clock.h"
#include "envelope.h"
#include "config.h"
#include "conns.h"
#include "due.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "pseudonym.h"
#include "publish.h"
#include "rate.h"
#include "rebuild.h"
#include "record.h"
#include "store_pg.h"
#include "text.h"
#include "zap.h"

#define MAX_OVERRIDES 64

/* A command-line setting: "--ingest X" is prefix "daemon.ingest_endpoint=",
 * value X; "--set a.b=c" has no prefix. */
typedef struct {
    const char *prefix;
    const char *value;
} override_t;

typedef struct {
    const char *config_path;
    override_t overrides[MAX_OVERRIDES];
    size_t n_overrides;
    bool rebuild;
    bool check_config;
    jr_clock_t clock; /* --today fixes its day, for demonstrations and tests */
} options_t;

typedef struct {
    options_t opt;
    jr_config_t *cfg;
    void *zctx;
    jr_ingest_t *ingest;
    jr_feeds_t *feeds; /* identifiable, pseudonymised and statistics feeds */
    jr_conns_t *conns; /* the public sockets' connections: counted and capped */
    jr_catchup_t *catchup;
    jr_zap_t *zap;       /* NULL in plaintext development mode */
    jr_access_t *access; /* the allow-list; NULL in plaintext development mode */
    /* The loop replaces the allow-list on reload; the catch-up thread reads
     * it under this lock. */
    pthread_mutex_t access_lock;
    char server_public[JR_KEY_Z85_LEN + 1];
    char server_secret[JR_KEY_Z85_LEN + 1];
    bool have_pseudonym_key;
    uint8_t pseudonym_key[JR_PSEUDONYM_KEY_LEN];
    jr_store_pg_t *store;
    int sigfd;
    bool stopping;
    /* database reconnection */
    bool connecting;
    bool want_write;
    int64_t reconnect_at_ms;
    int backoff_ms;
    uint64_t last_seq;      /* last committed sequence number */
    uint64_t published_seq; /* last sequence number handed to the PUB socket */
    int64_t due_check_at_ms;
    bool due_running; /* a due check is between rounds */
    int64_t due_started_ms;
    size_t due_sent, due_persons;
    int64_t statistics_at_ms;
    jr_stats_worker_t *stats; /* computes the statistics feed off the loop */
    int64_t retention_at_ms;
    bool trim_running; /* the outbox trim is between rounds */
    int64_t trim_started_ms;
    uint64_t trim_deleted, trim_rejects, trim_rounds;
    jr_rate_t rate_window; /* accepted events per second over the last minute */
    _Atomic double rate;   /* its figure, for the catch-up thread */
    /* watchdog */
    uint64_t watchdog_usec;
    int64_t watchdog_next_ms;
    /* counters for STATUS= */
    uint64_t n_ok, n_duplicate, n_parked, n_rejected, n_retry;
    jr_metrics_t *metrics; /* the same and more, for GET /metrics */
    jr_metrics_server_t *metrics_server;
    jr_log_limit_t db_limit;
} daemon_t;

static int64_t mono_ms(void)
{
    return jr_clock_mono_ms();
}

/* Today: --today, else the system clock's day. Reads nothing the loop
 * changes, so the catch-up thread asks it too. */
static jr_day_t today_of(const daemon_t *d)
{
    return jr_clock_today(&d->opt.clock);
}

static jr_batch_ctx_t batch_ctx(const daemon_t *d)
{
    return (jr_batch_ctx_t){d->cfg->streams, d->cfg->rules, today_of(d)};
}

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
            "  -h, --help\n");
}

/* Keeps "--ingest X" style options as overrides so files and flags share one path. */
static int add_override(options_t *opt, const char *prefix, const char *value)
{
    if (opt->n_overrides == MAX_OVERRIDES) {
        fprintf(stderr, "joinedreviewd: more than %d settings on the command line\n",
                MAX_OVERRIDES);
        return -1;
    }
    opt->overrides[opt->n_overrides++] = (override_t){prefix ? prefix : "", value};
    return 0;
}

static int parse_args(int argc, char **argv, options_t *opt)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},   {"set", required_argument, NULL, 's'},
        {"ingest", required_argument, NULL, 1},     {"publish", required_argument, NULL, 2},
        {"database", required_argument, NULL, 3},   {"log-level", required_argument, NULL, 4},
        {"rebuild", no_argument, NULL, 5},          {"check-config", no_argument, NULL, 6},
        {"config-reference", no_argument, NULL, 7}, {"today", required_argument, NULL, 8},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int c;
    int rc = 0;
    while ((c = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
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

/* The file first, then the command line: the same table checks both. */
static jr_config_t *load_config(const options_t *opt)
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

/* Descriptors kept for everything but client connections: the database
 * sessions (the writer's, two readers', the migrations'), libzmq's own, the
 * signalfd, files. */
#define FD_RESERVE 256

/* Raises the soft limit of open files to the hard one (systemd starts
 * services at 1,024) and returns the connection cap that limit allows:
 * daemon.max_connections, lowered so that clients can never take the
 * descriptors the database sessions need. */
static size_t connection_cap(const daemon_t *d)
{
    struct rlimit rl;
    uint64_t nofile = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t was = rl.rlim_cur;
        if (rl.rlim_cur != rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
                rl.rlim_cur = was;
            } else {
                jr_log(JR_LOG_INFO, "main", "open files: soft limit raised from %llu to %llu",
                       (unsigned long long)was, (unsigned long long)rl.rlim_cur);
            }
        }
        nofile = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX / 2 : (uint64_t)rl.rlim_cur;
    }
    size_t cap = (size_t)d->cfg->max_connections;
    size_t budget = jr_conns_budget(nofile, FD_RESERVE);
    if (cap > budget) {
        jr_log(JR_LOG_WARNING, "main",
               "max_connections %zu lowered to %zu: %llu open files allow no more (each "
               "connection takes two; raise LimitNOFILE=)",
               cap, budget, (unsigned long long)nofile);
        cap = budget;
    }
    return cap;
}

static void reload(daemon_t *d)
{
    sd_notify(0, "RELOADING=1");
    jr_config_t *cfg = load_config(&d->opt);
    if (cfg == NULL) {
        jr_log(JR_LOG_ERR, "main", "reload failed; keeping the running configuration");
    } else {
        char kept[512];
        jr_config_apply_reload(d->cfg, cfg, kept, sizeof kept);
        if (kept[0] != '\0') {
            jr_log(JR_LOG_WARNING, "main",
                   "changed, but applied only at the next restart (kept as they are): %s", kept);
        }
        jr_log_set_level((jr_log_level_t)jr_log_level_from_name(d->cfg->log_level));
        jr_conns_set_max(d->conns, connection_cap(d));
        jr_store_pg_set_rejected_max(d->store, d->cfg->rejected_max_rows);
        jr_config_destroy(&cfg);
        if (d->access != NULL) {
            char err[512];
            jr_access_t *access = jr_access_load(d->cfg->allow_list_file, err, sizeof err);
            if (access == NULL) {
                jr_log(JR_LOG_ERR, "main", "allow-list not reloaded, keeping the old one: %s", err);
            } else {
                bool revoked = jr_access_revokes_feeds(d->access, access);
                pthread_mutex_lock(&d->access_lock);
                jr_access_destroy(&d->access);
                d->access = access;
                pthread_mutex_unlock(&d->access_lock);
                jr_log(JR_LOG_NOTICE, "main", "allow-list reloaded: %zu clients",
                       jr_access_count(access));
                /* A subscriber whose rights went is cut off: every subscriber
                 * reconnects and is judged again; adapters are judged per
                 * message, so they keep their connections. */
                if (revoked) {
                    for (size_t i = 0; i < JR_FEEDS_N; i++) {
                        jr_publish_t *feed = jr_feeds_socket(d->feeds, i);
                        if (jr_publish_reset(feed) != 0) {
                            jr_log(JR_LOG_ERR, "main", "could not rebind %s",
                                   jr_publish_endpoint(feed));
                        }
                        jr_conns_forget(d->conns, jr_publish_socket(feed));
                    }
                }
            }
        }
        jr_log(JR_LOG_NOTICE, "main", "configuration reloaded");
    }
    sd_notify(0, "READY=1");
}

static void schedule_reconnect(daemon_t *d)
{
    d->connecting = false;
    d->reconnect_at_ms = mono_ms() + d->backoff_ms;
    d->backoff_ms =
        d->backoff_ms * 2 > d->cfg->reconnect_max_ms ? d->cfg->reconnect_max_ms : d->backoff_ms * 2;
}

static void db_connected(daemon_t *d)
{
    if (jr_store_pg_last_seq(d->store, &d->last_seq) != JR_STORE_OK) {
        jr_log_limited(&d->db_limit, JR_LOG_ERR, "store", "cannot read the outbox: %s",
                       jr_store_pg_error(d->store));
        jr_store_pg_disconnect(d->store);
        schedule_reconnect(d);
        return;
    }
    d->connecting = false;
    d->backoff_ms = 100;
    jr_log(JR_LOG_NOTICE, "store", "connected to the database (last sequence %llu)",
           (unsigned long long)d->last_seq);
    sd_notify(0, "STATUS=Running: database connected");
}

static void db_step(daemon_t *d)
{
    if (jr_store_pg_connected(d->store)) {
        return;
    }
    if (!d->connecting) {
        if (mono_ms() < d->reconnect_at_ms) {
            return;
        }
        if (jr_store_pg_connect_start(d->store) != JR_STORE_OK) {
            jr_log_limited(&d->db_limit, JR_LOG_WARNING, "store", "%s",
                           jr_store_pg_error(d->store));
            schedule_reconnect(d);
            return;
        }
        d->connecting = true;
    }
    int rc = jr_store_pg_connect_poll(d->store, &d->want_write);
    if (rc == JR_STORE_OK) {
        db_connected(d);
        jr_metrics_db_reconnect(d->metrics);
    } else if (rc != 1) {
        jr_log_limited(&d->db_limit, JR_LOG_WARNING, "store", "%s; retrying in %d ms",
                       jr_store_pg_error(d->store), d->backoff_ms);
        sd_notify(0, "STATUS=Database unreachable: answering RETRY_LATER");
        schedule_reconnect(d);
    }
}

/* Counts accepted events (n = 0 only moves the window on) and publishes
 * the rate for the catch-up thread. */
static void rate_add(daemon_t *d, uint64_t n)
{
    int64_t now = mono_ms();
    jr_rate_add(&d->rate_window, now, n);
    atomic_store(&d->rate, jr_rate_per_second(&d->rate_window, now));
}

static double rate_per_second(daemon_t *d)
{
    rate_add(d, 0);
    return atomic_load(&d->rate);
}

static void count(daemon_t *d, jr_ack_status_t st)
{
    jr_metrics_ack(d->metrics, (int)st);
    switch (st) {
    case JR_ACK_OK:
        d->n_ok++;
        rate_add(d, 1);
        break;
    case JR_ACK_DUPLICATE:
        d->n_duplicate++;
        break;
    case JR_ACK_PARKED:
        d->n_parked++;
        break;
    case JR_ACK_REJECTED:
        d->n_rejected++;
        break;
    case JR_ACK_RETRY_LATER:
        d->n_retry++;
        break;
    }
}

/* Hands committed publications to the feeds, then records how far it got,
 * so that a crash between commit and publication is made good at the next
 * start (subscribers drop repeats by sequence number). */
static void publish_all(daemon_t *d, jr_publications_t *pubs)
{
    for (size_t i = 0; i < pubs->n; i++) {
        jr_feeds_publish(d->feeds, pubs->items[i].topic, pubs->items[i].payload,
                         pubs->items[i].len);
        d->published_seq = pubs->items[i].seq;
    }
    if (pubs->n > 0 && jr_store_pg_connected(d->store)) {
        jr_store_pg_published_set(d->store, d->published_seq);
    }
    jr_publications_clear(pubs);
}

static int republish_one(void *arg, uint64_t seq, const char *topic, const uint8_t *payload,
                         size_t len)
{
    daemon_t *d = arg;
    jr_feeds_publish(d->feeds, topic, payload, len);
    d->published_seq = seq;
    return JR_STORE_OK;
}

/* At start-up: publishes what was committed but not published before a
 * crash. */
static void republish(daemon_t *d)
{
    uint64_t from = 0;
    if (jr_store_pg_published_get(d->store, &from) != JR_STORE_OK) {
        return;
    }
    d->published_seq = from;
    size_t count = 0;
    do {
        if (jr_store_pg_outbox_after(d->store, d->published_seq, 1000, republish_one, d, &count) !=
            JR_STORE_OK) {
            return;
        }
    } while (count == 1000);
    if (d->published_seq > from) {
        jr_log(JR_LOG_NOTICE, "publish", "published %llu committed publications again (%llu..%llu)",
               (unsigned long long)(d->published_seq - from), (unsigned long long)from + 1,
               (unsigned long long)d->published_seq);
        jr_store_pg_published_set(d->store, d->published_seq);
    }
}

/* Decides and publishes the notices that have fallen due. */
/* One round of the due check. While rounds have work, the next one runs
 * as soon as the loop has taken any waiting input, so a large catch-up
 * (after downtime, or at start-up) never holds up ingest for long; then the
 * timer takes over. */
static void due_check(daemon_t *d)
{
    int64_t now = mono_ms();
    d->due_check_at_ms = now + (int64_t)d->cfg->due_check_interval_s * 1000;
    if (!jr_store_pg_connected(d->store)) {
        return;
    }
    if (!d->due_running) {
        d->due_running = true;
        d->due_started_ms = now;
        d->due_sent = d->due_persons = 0;
    }
    jr_batch_ctx_t ctx = batch_ctx(d);
    jr_publications_t pubs = {0};
    size_t sent = 0, persons = 0;
    bool more = false;
    int rc = jr_due_check(d->store, &ctx, &d->last_seq, &pubs, &sent, &persons, &more);
    publish_all(d, &pubs);
    d->due_sent += sent;
    d->due_persons += persons;
    if (rc != JR_STORE_OK) {
        jr_log(JR_LOG_WARNING, "due", "due check failed: %s", jr_store_pg_error(d->store));
        d->due_running = false;
    } else if (more) {
        d->due_check_at_ms = now; /* the next round, after any waiting input */
    } else {
        d->due_running = false;
        if (d->due_persons > 0) {
            jr_log(JR_LOG_INFO, "due",
                   "due check: %zu persons settled, %zu notices published in %lld ms",
                   d->due_persons, d->due_sent, (long long)(mono_ms() - d->due_started_ms));
        }
    }
}

/* The statistics feed: the worker computes the figures off the loop (they
 * read every current record); publish_statistics() asks, and
 * statistics_ready() publishes the answer. */
static void publish_statistics(daemon_t *d)
{
    d->statistics_at_ms = mono_ms() + (int64_t)d->cfg->statistics_interval_s * 1000;
    char today[11];
    jr_text_format_date(today_of(d), today);
    if (!jr_stats_worker_busy(d->stats)) {
        jr_stats_worker_ask(d->stats, today);
    }
}

static void statistics_ready(daemon_t *d)
{
    static jr_log_limit_t limit = {.interval_ms = 60000};
    jr_statistics_t st;
    char err[256];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (jr_stats_worker_collect(d->stats, &st, err, sizeof err) != 0) {
        jr_log_limited(&limit, JR_LOG_WARNING, "statistics", "statistics not published: %s", err);
        return;
    }
    st.ingest_per_second = rate_per_second(d);
    if (jr_record_encode_statistics(&st, &buf, &len) == 0) {
        jr_feeds_statistics(d->feeds, buf, len);
    }
    free(buf);
}

/* What a catch-up client may read: everything in plaintext development mode,
 * else what the allow-list in force says of the key it authenticated with.
 * Called on the catch-up thread. */
static unsigned rights(void *arg, const char *user_id)
{
    daemon_t *d = arg;
    pthread_mutex_lock(&d->access_lock);
    unsigned feeds = d->access == NULL
                         ? JR_FEED_IDENTIFIABLE | JR_FEED_PSEUDONYMISED | JR_FEED_STATISTICS
                         : jr_access_feeds(d->access, user_id);
    pthread_mutex_unlock(&d->access_lock);
    return feeds;
}

/* The ingest rate the loop last worked out. Called on the catch-up thread. */
static double rate(void *arg)
{
    daemon_t *d = arg;
    return atomic_load(&d->rate);
}

/* Called on the catch-up thread. */
static jr_day_t today(void *arg)
{
    return today_of(arg);
}

/* Publications older than the retention leave the outbox, once an hour, in
 * rounds of TRIM_ROUND rows between the loop's other work, so that a day's
 * worth at a million persons never holds up ingest; a subscriber asking for
 * them is told to take a snapshot. Rejected input not seen again within its
 * own retention leaves in the same rounds. */
#define TRIM_ROUND 5000

static void trim_outbox(daemon_t *d)
{
    if (!jr_store_pg_connected(d->store)) {
        return; /* the loop comes back once it is */
    }
    if (!d->trim_running) {
        d->trim_running = true;
        d->trim_started_ms = mono_ms();
        d->trim_deleted = d->trim_rejects = d->trim_rounds = 0;
    }
    uint64_t deleted = 0, rejects = 0;
    int rc = jr_store_pg_outbox_trim(d->store, d->cfg->outbox_retention_days, TRIM_ROUND, &deleted);
    if (rc == JR_STORE_OK) {
        /* Rejected input not seen again within its retention goes too. */
        rc = jr_store_pg_rejected_trim(d->store, d->cfg->rejected_retention_days, TRIM_ROUND,
                                       &rejects);
    }
    d->trim_deleted += deleted;
    d->trim_rejects += rejects;
    d->trim_rounds++;
    if (rc == JR_STORE_OK && (deleted == TRIM_ROUND || rejects == TRIM_ROUND)) {
        d->retention_at_ms = mono_ms(); /* the next round, after any waiting input */
        return;
    }
    if (rc != JR_STORE_OK) {
        jr_log(JR_LOG_WARNING, "publish", "outbox not trimmed: %s", jr_store_pg_error(d->store));
    } else if (d->trim_deleted > 0) {
        jr_log(JR_LOG_INFO, "publish",
               "%llu publications older than %d days left the outbox in %llu round%s, %lld ms",
               (unsigned long long)d->trim_deleted, d->cfg->outbox_retention_days,
               (unsigned long long)d->trim_rounds, d->trim_rounds == 1 ? "" : "s",
               (long long)(mono_ms() - d->trim_started_ms));
    }
    if (rc == JR_STORE_OK && d->trim_rejects > 0) {
        jr_log(JR_LOG_INFO, "ingest", "%llu rejected messages not seen for %d days were dropped",
               (unsigned long long)d->trim_rejects, d->cfg->rejected_retention_days);
    }
    d->trim_running = false;
    d->retention_at_ms = mono_ms() + 3600 * 1000;
}

/* Frame checks, then the codec: fills the item's verdict. */
static void prepare_item(daemon_t *d, jr_ingest_msg_t *m, jr_batch_item_t *it, char **stream,
                         char **seid)
{
    memset(it, 0, sizeof *it);
    it->raw = zmq_msg_data(&m->body);
    it->raw_len = zmq_msg_size(&m->body);
    it->sender = m->sender;
    if (m->verdict == JR_INGEST_BAD_FRAMES) {
        it->why.code = "BAD_FRAMES";
        snprintf(it->why.text, sizeof it->why.text,
                 "the message had %zu frames: send one Envelope frame from a DEALER (or one "
                 "after an empty delimiter from a REQ)",
                 m->frames);
        return;
    }
    if (m->verdict == JR_INGEST_TOO_LARGE) {
        it->why.code = "TOO_LARGE";
        snprintf(it->why.text, sizeof it->why.text,
                 "the envelope is %zu bytes; the most accepted is %d: shorten its texts",
                 it->raw_len, d->cfg->max_message_bytes);
        return;
    }
    jr_envelope_limits_t limits = {
        .max_text_bytes = (size_t)d->cfg->max_text_bytes,
        .now_ms = jr_clock_now_ms(&d->opt.clock),
        .future_tolerance_ms = (int64_t)d->cfg->future_tolerance_s * 1000,
    };
    it->decoded = jr_envelope_decode(it->raw, it->raw_len, d->cfg->streams, &limits, &it->ev,
                                     &it->why, stream, seid) == 0;
    it->stream = *stream;
    it->seid = *seid;
    /* Judged from the key the connection authenticated with, never from a
     * field the sender controls. */
    if (it->decoded && d->access != NULL &&
        !jr_access_may_push(d->access, m->user_id, it->ev.event.stream)) {
        it->why.code = "NOT_AUTHORISED";
        snprintf(it->why.text, sizeof it->why.text,
                 "not authorised for stream %s: this key may not push events for it",
                 it->ev.event.stream);
        it->decoded = 0;
        jr_envelope_clear(&it->ev);
    }
}

/* Drains what has arrived (bounded), writes it in one transaction, acks,
 * then publishes. Nothing is acked before its commit. */
static void handle_ingest(daemon_t *d)
{
    size_t max = (size_t)d->cfg->batch_max;
    jr_ingest_msg_t *msgs = calloc(max, sizeof *msgs);
    jr_batch_item_t *items = calloc(max, sizeof *items);
    char **ids = calloc(2 * max, sizeof *ids);
    if (msgs == NULL || items == NULL || ids == NULL) {
        jr_log(JR_LOG_ERR, "main", "out of memory for a batch of %zu", max);
        free(msgs);
        free(items);
        free(ids);
        return;
    }
    size_t n = 0;
    while (n < max && jr_ingest_recv(d->ingest, &msgs[n]) == 0) {
        prepare_item(d, &msgs[n], &items[n], &ids[2 * n], &ids[2 * n + 1]);
        n++;
    }
    if (n > 0) {
        jr_publications_t pubs = {0};
        int rc = JR_STORE_RETRY;
        if (jr_store_pg_connected(d->store)) {
            int64_t t0 = jr_clock_mono_us();
            jr_batch_ctx_t ctx = batch_ctx(d);
            rc = jr_batch_write(d->store, &ctx, items, n, &d->last_seq, &pubs);
            int64_t took = jr_clock_mono_us() - t0;
            jr_metrics_commit_us(d->metrics, (uint64_t)took);
            jr_log(JR_LOG_DEBUG, "batch", "%zu envelopes, %zu publications in %lld us", n, pubs.n,
                   (long long)took);
        } else {
            for (size_t i = 0; i < n; i++) {
                items[i].status = JR_ACK_RETRY_LATER;
                items[i].code = "STORE_UNAVAILABLE";
                snprintf(items[i].reason, sizeof items[i].reason,
                         "the daemon cannot reach its database: resend later");
            }
        }
        if (rc == JR_STORE_RETRY && jr_store_pg_connected(d->store)) {
            jr_log(JR_LOG_WARNING, "store", "batch not stored: %s", jr_store_pg_error(d->store));
            jr_store_pg_disconnect(d->store);
            schedule_reconnect(d);
        } else if (rc == JR_STORE_RETRY && !d->connecting) {
            db_step(d);
        }
        for (size_t i = 0; i < n; i++) {
            jr_batch_item_t *it = &items[i];
            uint8_t *ack = NULL;
            size_t len = 0;
            count(d, it->status);
            if (it->status == JR_ACK_REJECTED) {
                jr_log(JR_LOG_NOTICE, "ingest", "rejected %s/%s from %s: %s: %s",
                       it->stream ? it->stream : "?", it->seid ? it->seid : "?", it->sender,
                       it->code, it->reason);
            }
            if (jr_envelope_encode_ack(it->stream, it->seid, it->status, it->code,
                                       it->reason[0] ? it->reason : NULL, &ack, &len) == 0) {
                jr_ingest_reply(d->ingest, &msgs[i], ack, len);
            }
            free(ack);
        }
        publish_all(d, &pubs);
        if (rc == JR_STORE_OK) {
            due_check(d); /* notices the batch brought due (a review date moved) */
        }
    }
    for (size_t i = 0; i < n; i++) {
        jr_envelope_clear(&items[i].ev);
        jr_ingest_msg_close(&msgs[i]);
        free(ids[2 * i]);
        free(ids[2 * i + 1]);
    }
    free(msgs);
    free(items);
    free(ids);
}

static int setup_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void handle_signals(daemon_t *d)
{
    struct signalfd_siginfo si;
    while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            reload(d);
        } else {
            jr_log(JR_LOG_NOTICE, "main", "signal %u: finishing and stopping", si.ssi_signo);
            d->stopping = true;
        }
    }
}

static void status_line(daemon_t *d)
{
    jr_conns_sweep(d->conns);
    jr_conns_stats_t c = jr_conns_stats(d->conns);
    sd_notifyf(0,
               "STATUS=%s; ok %llu, duplicate %llu, parked %llu, rejected %llu, retry %llu; "
               "connections %zu (refused at the cap %llu, dropped mid-message %llu); acks "
               "dropped %llu",
               jr_store_pg_connected(d->store) ? "Running" : "Database unreachable",
               (unsigned long long)d->n_ok, (unsigned long long)d->n_duplicate,
               (unsigned long long)d->n_parked, (unsigned long long)d->n_rejected,
               (unsigned long long)d->n_retry, c.open, (unsigned long long)c.refused,
               (unsigned long long)c.dropped_mid,
               (unsigned long long)jr_ingest_acks_dropped(d->ingest));
}

static int run_loop(daemon_t *d)
{
    int64_t status_next = mono_ms() + 5000;
    while (!d->stopping) {
        zmq_pollitem_t items[5 + JR_CONNS_SOCKETS_MAX] = {
            {jr_ingest_socket(d->ingest), 0, ZMQ_POLLIN, 0},
            {NULL, d->sigfd, ZMQ_POLLIN, 0},
            {d->zap ? jr_zap_socket(d->zap) : NULL, -1, d->zap ? ZMQ_POLLIN : 0, 0},
            {jr_stats_worker_socket(d->stats), 0, ZMQ_POLLIN, 0},
            {NULL, -1, 0, 0}, /* the database's socket while connecting */
        };
        bool polls_db = d->connecting && jr_store_pg_socket(d->store) >= 0;
        if (polls_db) {
            items[4].fd = jr_store_pg_socket(d->store);
            items[4].events = d->want_write ? ZMQ_POLLOUT : ZMQ_POLLIN;
        }
        int n_items = 5 + (int)jr_conns_pollitems(d->conns, &items[5], JR_CONNS_SOCKETS_MAX);
        int64_t now = mono_ms();
        long timeout = status_next - now;
        if (!jr_store_pg_connected(d->store) && !d->connecting) {
            long until = (long)(d->reconnect_at_ms - now);
            timeout = until < timeout ? until : timeout;
        }
        if (d->watchdog_usec > 0) {
            long until = (long)(d->watchdog_next_ms - now);
            timeout = until < timeout ? until : timeout;
        }
        if (jr_store_pg_connected(d->store)) {
            long until = (long)(d->due_check_at_ms - now);
            timeout = until < timeout ? until : timeout;
            until = (long)(d->statistics_at_ms - now);
            timeout = until < timeout ? until : timeout;
            until = (long)(d->retention_at_ms - now);
            timeout = until < timeout ? until : timeout;
        }
        int conns_ms = jr_conns_timeout_ms(d->conns);
        if (conns_ms >= 0 && conns_ms < timeout) {
            timeout = conns_ms;
        }
        if (timeout < 0) {
            timeout = 0;
        }
        if (zmq_poll(items, n_items, timeout) < 0) {
            if (zmq_errno() == EINTR) {
                continue;
            }
            jr_log(JR_LOG_ERR, "main", "zmq_poll: %s", zmq_strerror(zmq_errno()));
            return -1;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            handle_signals(d);
        }
        jr_conns_handle(d->conns); /* before new input: the cap holds */
        if (items[0].revents & ZMQ_POLLIN) {
            handle_ingest(d);
        }
        if (items[2].revents & ZMQ_POLLIN) {
            jr_zap_handle(d->zap, d->access);
        }
        if (items[3].revents & ZMQ_POLLIN) {
            statistics_ready(d);
        }
        rate_add(d, 0); /* the rate decays while nothing arrives */
        if (polls_db && items[4].revents) {
            db_step(d);
        } else if (!jr_store_pg_connected(d->store) && !d->connecting) {
            db_step(d);
        }
        now = mono_ms();
        if (now >= d->due_check_at_ms && jr_store_pg_connected(d->store)) {
            due_check(d);
        }
        if (now >= d->statistics_at_ms && jr_store_pg_connected(d->store)) {
            publish_statistics(d);
        }
        if (now >= d->retention_at_ms && jr_store_pg_connected(d->store)) {
            trim_outbox(d);
        }
        if (d->watchdog_usec > 0 && now >= d->watchdog_next_ms) {
            sd_notify(0, "WATCHDOG=1");
            d->watchdog_next_ms = now + (int64_t)(d->watchdog_usec / 2000);
        }
        if (now >= status_next) {
            status_line(d);
            status_next = now + 5000;
        }
    }
    return 0;
}

/* Start-up: the database must be reachable once, to migrate. Waits (and
 * keeps answering signals) until it is. */
static int start_database(daemon_t *d)
{
    int backoff = 200;
    sd_notify(0, "STATUS=Connecting to the database");
    for (;;) {
        int rc = jr_store_pg_connect_wait(d->store, 10000);
        if (rc == JR_STORE_OK) {
            break;
        }
        if (rc == JR_STORE_BUSY && d->opt.rebuild) {
            jr_log(JR_LOG_ERR, "rebuild",
                   "joinedreviewd is running against this database (it holds the writer's "
                   "lock): stop it first, then rebuild");
            return -1;
        }
        jr_log_limited(&d->db_limit, JR_LOG_WARNING, "store", "%s; retrying",
                       jr_store_pg_error(d->store));
        struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        handle_signals(d);
        if (d->stopping) {
            return -1;
        }
        backoff = backoff * 2 > d->cfg->reconnect_max_ms ? d->cfg->reconnect_max_ms : backoff * 2;
    }
    db_connected(d);
    return jr_store_pg_connected(d->store) ? 0 : -1;
}

static int rebuild(daemon_t *d)
{
    size_t records = 0, differed = 0;
    jr_batch_ctx_t ctx = batch_ctx(d);
    int rc = jr_rebuild(d->store, &ctx, &records, &differed);
    if (rc != JR_STORE_OK) {
        jr_log(JR_LOG_ERR, "rebuild", "failed: %s", jr_store_pg_error(d->store));
        return 1;
    }
    printf("rebuilt %zu consolidated reviews; %zu differed from the stored ones\n", records,
           differed);
    return differed == 0 ? 0 : 3;
}

/* The key pair, the allow-list and the pseudonym key: files named in the
 * configuration (under systemd, credentials). */
static int load_secrets(daemon_t *d)
{
    char err[512];
    if (strcmp(d->cfg->security, "curve") == 0) {
        if (d->cfg->server_key_file[0] == '\0' || d->cfg->allow_list_file[0] == '\0') {
            jr_log(JR_LOG_ERR, "main",
                   "security = curve needs server_key_file and allow_list_file (make keys with "
                   "'joinedreview keygen'); for development only, security = "
                   "plaintext-development");
            return -1;
        }
        if (jr_keyfile_read(d->cfg->server_key_file, d->server_public, d->server_secret, err,
                            sizeof err) != 0 ||
            (d->access = jr_access_load(d->cfg->allow_list_file, err, sizeof err)) == NULL) {
            jr_log(JR_LOG_ERR, "main", "%s", err);
            return -1;
        }
        jr_log(JR_LOG_NOTICE, "main", "CURVE on every socket; server key %s; %zu clients allowed",
               d->server_public, jr_access_count(d->access));
    } else {
        jr_log(JR_LOG_WARNING, "main",
               "PLAINTEXT DEVELOPMENT MODE: no encryption, no authentication; never use this "
               "with real people's data");
    }
    if (d->cfg->pseudonym_key_file[0] != '\0') {
        if (jr_keyfile_read_bytes(d->cfg->pseudonym_key_file, d->pseudonym_key,
                                  sizeof d->pseudonym_key, err, sizeof err) != 0) {
            jr_log(JR_LOG_ERR, "main", "%s", err);
            return -1;
        }
        d->have_pseudonym_key = true;
    }
    return 0;
}

int main(int argc, char **argv)
{
    daemon_t d = {.sigfd = -1,
                  .backoff_ms = 100,
                  .opt.clock.fixed_day = JR_DAY_NONE,
                  .access_lock = PTHREAD_MUTEX_INITIALIZER};
    d.db_limit.interval_ms = 30000;
    if (parse_args(argc, argv, &d.opt) != 0) {
        return 2;
    }
    d.cfg = load_config(&d.opt);
    if (d.cfg == NULL) {
        return 2;
    }
    jr_log_set_level((jr_log_level_t)jr_log_level_from_name(d.cfg->log_level));
    if (d.opt.check_config) {
        /* The secrets too: readable, well formed, and not open to others. */
        int checked = load_secrets(&d) == 0 ? 0 : 1;
        printf("ingest_endpoint = %s\npublish_endpoint = %s\nbatch_max = %d\n",
               d.cfg->ingest_endpoint, d.cfg->publish_endpoint, d.cfg->batch_max);
        for (size_t i = 0; i < jr_streams_count(d.cfg->streams); i++) {
            const jr_stream_t *s = jr_streams_at(d.cfg->streams, i);
            printf("stream %s (%s): %s\n", s->code, s->name, s->enabled ? "enabled" : "disabled");
        }
        printf("secrets: %s\n", checked == 0 ? "readable, owner only" : "refused (see above)");
        jr_access_destroy(&d.access);
        sodium_memzero(d.server_secret, sizeof d.server_secret);
        sodium_memzero(d.pseudonym_key, sizeof d.pseudonym_key);
        jr_config_destroy(&d.cfg);
        return checked;
    }
    int rc = 1;
    if (sodium_init() < 0) { /* before any thread: libsodium's own set-up */
        jr_log(JR_LOG_ERR, "main", "cannot start: libsodium did not initialise");
        jr_config_destroy(&d.cfg);
        return 1;
    }
    d.sigfd = setup_signals();
    d.store = jr_store_pg_new(d.cfg->database, d.cfg->database_owner, d.cfg->statement_timeout_ms);
    d.metrics = jr_metrics_new();
    if (d.sigfd < 0 || d.store == NULL || d.metrics == NULL) {
        jr_log(JR_LOG_ERR, "main", "cannot start: %s", strerror(errno));
        goto out;
    }
    jr_store_pg_set_rejected_max(d.store, d.cfg->rejected_max_rows);
    if (!d.opt.rebuild && load_secrets(&d) != 0) {
        goto out;
    }
    if (start_database(&d) != 0) {
        goto out;
    }
    if (d.opt.rebuild) {
        rc = rebuild(&d);
        goto out;
    }
    char err[512];
    d.zctx = zmq_ctx_new();
    size_t max_conns = connection_cap(&d);
    d.conns = jr_conns_new(d.zctx, max_conns);
    if (d.zctx == NULL || d.conns == NULL) {
        jr_log(JR_LOG_ERR, "main", "cannot start: out of memory");
        goto out;
    }
    const jr_zap_edge_t edge = {d.access ? d.server_secret : NULL, d.cfg->handshake_timeout_ms};
    if (d.access != NULL) {
        /* Before any public bind: without a ZAP handler CURVE lets anyone in. */
        d.zap = jr_zap_new(d.zctx, err, sizeof err);
        if (d.zap == NULL) {
            jr_log(JR_LOG_ERR, "main", "%s", err);
            goto out;
        }
    }
    d.ingest = jr_ingest_new(d.zctx, d.cfg->ingest_endpoint, (size_t)d.cfg->max_message_bytes,
                             d.cfg->ingest_queue, d.cfg->ack_queue, &edge, err, sizeof err);
    if (d.ingest == NULL ||
        jr_conns_watch(d.conns, jr_ingest_socket(d.ingest), "ingest", err, sizeof err) != 0) {
        jr_log(JR_LOG_ERR, "main", "%s", err);
        goto out;
    }
    /* The three feeds, each watched; the feeds own them once made. */
    const struct {
        const char *endpoint, *domain, *name;
    } feed_of[JR_FEEDS_N] = {
        {d.cfg->publish_endpoint, JR_ZAP_IDENTIFIABLE, "publish"},
        {d.cfg->pseudonymised_endpoint, JR_ZAP_PSEUDONYMISED, "pseudonymised"},
        {d.cfg->statistics_endpoint, JR_ZAP_STATISTICS, "statistics"},
    };
    jr_publish_t *feed[JR_FEEDS_N] = {NULL};
    for (size_t i = 0; i < JR_FEEDS_N; i++) {
        feed[i] = jr_publish_new(d.zctx, feed_of[i].endpoint, &edge, feed_of[i].domain,
                                 d.cfg->publish_queue, err, sizeof err);
        if (feed[i] == NULL || jr_conns_watch(d.conns, jr_publish_socket(feed[i]), feed_of[i].name,
                                              err, sizeof err) != 0) {
            jr_log(JR_LOG_ERR, "main", "%s", err);
            for (size_t k = 0; k <= i; k++) {
                jr_publish_destroy(&feed[k]);
            }
            goto out;
        }
    }
    d.feeds =
        jr_feeds_new(feed[0], feed[1], feed[2], d.have_pseudonym_key ? d.pseudonym_key : NULL);
    if (d.feeds == NULL) {
        jr_log(JR_LOG_ERR, "main", "cannot start: out of memory");
        for (size_t k = 0; k < JR_FEEDS_N; k++) {
            jr_publish_destroy(&feed[k]);
        }
        goto out;
    }
    jr_catchup_hooks_t hooks = {rights, rate, today, &d,
                                d.have_pseudonym_key ? d.pseudonym_key : NULL};
    d.catchup = jr_catchup_new(d.zctx, d.cfg->catchup_endpoint, &edge, d.conns, d.cfg->database,
                               d.cfg->statement_timeout_ms, &hooks, err, sizeof err);
    if (d.catchup == NULL) {
        jr_log(JR_LOG_ERR, "main", "%s", err);
        goto out;
    }
    if (sd_watchdog_enabled(0, &d.watchdog_usec) <= 0) {
        d.watchdog_usec = 0;
    }
    d.watchdog_next_ms = mono_ms();
    republish(&d);
    trim_outbox(&d);
    due_check(&d); /* notices that fell due while it was down: the first round */
    d.stats =
        jr_stats_worker_new(d.zctx, d.cfg->database, d.cfg->statement_timeout_ms, err, sizeof err);
    if (d.stats == NULL) {
        jr_log(JR_LOG_ERR, "main", "%s", err);
        goto out;
    }
    d.statistics_at_ms = mono_ms() + (int64_t)d.cfg->statistics_interval_s * 1000;
    if (d.cfg->metrics_port > 0) {
        d.metrics_server = jr_metrics_server_start(d.metrics, (unsigned)d.cfg->metrics_port);
        if (d.metrics_server == NULL) {
            jr_log(JR_LOG_ERR, "main", "cannot serve metrics on 127.0.0.1:%d: %s",
                   d.cfg->metrics_port, strerror(errno));
            goto out;
        }
        jr_log(JR_LOG_INFO, "main", "metrics on http://127.0.0.1:%u/metrics",
               jr_metrics_server_port(d.metrics_server));
    }
    jr_log(JR_LOG_NOTICE, "main",
           "ready: ingest %s, publish %s, catch-up %s, pseudonymised %s, statistics %s; at most "
           "%zu connections",
           jr_ingest_endpoint(d.ingest), jr_publish_endpoint(jr_feeds_socket(d.feeds, 0)),
           jr_catchup_endpoint(d.catchup), jr_publish_endpoint(jr_feeds_socket(d.feeds, 1)),
           jr_publish_endpoint(jr_feeds_socket(d.feeds, 2)), max_conns);
    sd_notify(0, "READY=1\nSTATUS=Running");
    rc = run_loop(&d) == 0 ? 0 : 1;
    sd_notify(0, "STOPPING=1");
    jr_log(JR_LOG_NOTICE, "main", "stopped: ok %llu, duplicate %llu, parked %llu, rejected %llu",
           (unsigned long long)d.n_ok, (unsigned long long)d.n_duplicate,
           (unsigned long long)d.n_parked, (unsigned long long)d.n_rejected);
out:
    jr_metrics_server_stop(&d.metrics_server);
    jr_stats_worker_destroy(&d.stats);
    jr_ingest_destroy(&d.ingest);
    jr_feeds_destroy(&d.feeds);
    jr_catchup_destroy(&d.catchup);
    jr_zap_destroy(&d.zap);
    jr_conns_destroy(&d.conns);
    jr_access_destroy(&d.access);
    sodium_memzero(d.server_secret, sizeof d.server_secret);
    sodium_memzero(d.pseudonym_key, sizeof d.pseudonym_key);
    if (d.zctx != NULL) {
        zmq_ctx_term(d.zctx);
    }
    jr_store_pg_destroy(&d.store);
    if (d.sigfd >= 0) {
        close(d.sigfd);
    }
    jr_metrics_destroy(&d.metrics);
    jr_config_destroy(&d.cfg);
    return rc;
}
