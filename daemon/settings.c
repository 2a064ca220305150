/* settings.c -- the configuration in force: secrets, the connection cap,
 * SIGHUP's reload, and the allow-list the catch-up thread reads. */
#include "settings.h"

#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include "options.h"

/* Descriptors kept for everything but client connections: the database
 * sessions (the writer's, two readers', the migrations'), libzmq's own, the
 * signalfd, files. */
#define FD_RESERVE 256

int jr_settings_load_secrets(jr_daemon_t *d)
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

size_t jr_settings_connection_cap(const jr_daemon_t *d)
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

/* The allow-list read again; every subscriber is cut off when a key lost a
 * feed. */
static void reload_access(jr_daemon_t *d)
{
    char err[512];
    jr_access_t *access = jr_access_load(d->cfg->allow_list_file, err, sizeof err);
    if (access == NULL) {
        jr_log(JR_LOG_ERR, "main", "allow-list not reloaded, keeping the old one: %s", err);
        return;
    }
    bool revoked = jr_access_revokes_feeds(d->access, access);
    pthread_mutex_lock(&d->access_lock);
    jr_access_destroy(&d->access);
    d->access = access;
    pthread_mutex_unlock(&d->access_lock);
    jr_log(JR_LOG_NOTICE, "main", "allow-list reloaded: %zu clients", jr_access_count(access));
    /* A subscriber whose rights went is cut off: every subscriber
     * reconnects and is judged again; adapters are judged per
     * message, so they keep their connections. */
    if (revoked) {
        for (size_t i = 0; i < JR_FEEDS_N; i++) {
            jr_publish_t *feed = jr_feeds_socket(d->feeds, i);
            if (jr_publish_reset(feed) != 0) {
                jr_log(JR_LOG_ERR, "main", "could not rebind %s", jr_publish_endpoint(feed));
            }
            jr_conns_forget(d->conns, jr_publish_socket(feed));
        }
    }
}

void jr_settings_reload(jr_daemon_t *d)
{
    sd_notify(0, "RELOADING=1");
    jr_config_t *cfg = jr_options_load_config(&d->opt);
    if (cfg == NULL) {
        jr_log(JR_LOG_ERR, "main", "reload failed; keeping the running configuration");
    } else {
        char kept[512];
        /* The catch-up thread reads the streams for one-stream keys. */
        pthread_mutex_lock(&d->access_lock);
        jr_config_apply_reload(d->cfg, cfg, kept, sizeof kept);
        pthread_mutex_unlock(&d->access_lock);
        if (kept[0] != '\0') {
            jr_log(JR_LOG_WARNING, "main",
                   "changed, but applied only at the next restart (kept as they are): %s", kept);
        }
        jr_log_set_level((jr_log_level_t)jr_log_level_from_name(d->cfg->log_level));
        jr_conns_set_max(d->conns, jr_settings_connection_cap(d));
        jr_store_pg_set_rejected_max(d->store, d->cfg->rejected_max_rows);
        jr_config_destroy(&cfg);
        if (d->access != NULL) {
            reload_access(d);
        }
        jr_log(JR_LOG_NOTICE, "main", "configuration reloaded");
    }
    sd_notify(0, "READY=1");
}

unsigned jr_settings_rights(void *arg, const char *user_id)
{
    jr_daemon_t *d = arg;
    pthread_mutex_lock(&d->access_lock);
    unsigned feeds = d->access == NULL
                         ? JR_FEED_IDENTIFIABLE | JR_FEED_PSEUDONYMISED | JR_FEED_STATISTICS
                         : jr_access_feeds(d->access, user_id);
    pthread_mutex_unlock(&d->access_lock);
    return feeds;
}

bool jr_settings_records(void *arg, const char *user_id, jr_share_scope_t *scope)
{
    jr_daemon_t *d = arg;
    char stream[JR_STREAM_CODE_MAX];
    pthread_mutex_lock(&d->access_lock);
    bool ok = d->access != NULL && jr_access_records(d->access, user_id, stream) &&
              jr_share_scope_stream(scope, d->cfg->streams, stream) == 0;
    pthread_mutex_unlock(&d->access_lock);
    return ok;
}
