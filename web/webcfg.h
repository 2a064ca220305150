/* webcfg.h -- joinedreview-web's configuration: one declarative table
 * (lib/cfg.h), an INI file with a [web] section, and --set web.KEY=VALUE
 * overrides. An unknown key is an error at start-up.
 *
 * Secrets are files the configuration names, never values in it: the TLS
 * key, the accounts file (it holds password hashes) and the metrics token
 * are each refused when their group or other users can read them.
 *
 * The funding streams are the daemon's: daemon_config names the daemon's
 * own configuration file, whose [stream.CODE] sections (daemon/config.h,
 * the same reader the daemon uses) give each stream's minimum information;
 * empty means the built-in table. */
#ifndef JR_WEBCFG_H
#define JR_WEBCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
    char *listen_address;       /* an IPv4 or IPv6 literal */
    int port;                   /* 0: any free port (tests) */
    char *tls_cert_file;        /* PEM certificate (chain) */
    char *tls_key_file;         /* PEM private key: a secret */
    bool plaintext_development; /* plain HTTP, on a loopback address only */
    char *accounts_file;        /* a secret */
    char *database;             /* libpq conninfo of a member of joinedreview_web */
    char *daemon_config;        /* the daemon's configuration, for [stream.*] */
    char *daemon_metrics;       /* "127.0.0.1:PORT" of the daemon's metrics, or "" */
    char *metrics_token_file;   /* bearer token for /metrics, or "": analysts only */
    char *log_level;
    int threads;                 /* worker threads, one database connection each */
    int max_connections;         /* HTTP connections at once */
    int per_ip_connections;      /* ... from one address */
    int connection_timeout_s;    /* an idle connection is closed after this */
    int connection_memory_bytes; /* per connection: request line, headers, buffers */
    int post_max_bytes;          /* the largest form accepted */
    int page_max_bytes;          /* the largest page written */
    int sessions_max;            /* sessions held at once */
    int session_idle_s;          /* a session unused this long ends */
    int session_max_s;           /* a session ends this long after sign-in, used or not */
    int login_failures;          /* failed sign-ins before a pause */
    int login_pause_s;           /* the first pause; each further failure doubles it */
    int login_pause_max_s;
    int throttle_entries;  /* accounts and addresses whose failures are remembered */
    int password_checks;   /* argon2id checks at once (each takes its memory) */
    int worklist_max_rows; /* rows on one worklist */
    int statement_timeout_ms;
    int refresh_s; /* the worklist reloads itself this often; 0: never */
} jr_webcfg_t;

/* The defaults. Caller owns the result; NULL when out of memory. */
jr_webcfg_t *jr_webcfg_new(void);
void jr_webcfg_destroy(jr_webcfg_t **self_p);

/* Reads an INI file ([web] only). 0, or -1 with a sentence in err. */
int jr_webcfg_load_file(jr_webcfg_t *self, const char *path, char *err, size_t errlen);

/* Applies "web.KEY=VALUE". 0, or -1 with err. */
int jr_webcfg_override(jr_webcfg_t *self, const char *assignment, char *err, size_t errlen);

/* The checks that span keys: TLS files unless plaintext development, and
 * plaintext only on a loopback address. 0, or -1 with err. */
int jr_webcfg_check(const jr_webcfg_t *self, char *err, size_t errlen);

/* Whether an IPv4 or IPv6 literal is a loopback address. */
bool jr_webcfg_is_loopback(const char *address);

void jr_webcfg_print_reference(FILE *out);

#endif
