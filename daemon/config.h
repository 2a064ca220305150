/* config.h -- the daemon's configuration: one declarative table.
 *
 * The file is INI (parsed by inih): a [daemon] section with the keys of the
 * table in config.c, and one [stream.CODE] section per funding stream to
 * change or add (see streams.h for the fields). Command-line overrides use
 * the same names ("daemon.batch_max=500", "stream.CPA.enabled=true").
 * An unknown section or key, or a value out of bounds, is an error. Each
 * key says whether SIGHUP applies it or it waits for a restart (endpoints,
 * the database, the secrets, what the sockets were made with).
 * Secrets never go in this file: the database password comes from a libpq
 * passfile (conninfo "passfile=/path"), never from the command line. */
#ifndef JR_CONFIG_H
#define JR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cfg.h"
#include "schedule.h"
#include "streams.h"

typedef struct {
    char *ingest_endpoint;        /* ROUTER bind, e.g. tcp://127.0.0.1:5560 */
    char *publish_endpoint;       /* PUB bind */
    char *catchup_endpoint;       /* catch-up ROUTER bind */
    char *pseudonymised_endpoint; /* PUB for the pseudonymised feed (and statistics) */
    char *statistics_endpoint;    /* PUB for statistics alone */
    char *security;               /* "curve", or "plaintext-development" */
    char *server_key_file;        /* the daemon's CURVE key pair (secret) */
    char *allow_list_file;        /* clients and their rights */
    char *pseudonym_key_file;     /* HMAC key for the pseudonymised feed (secret) */
    char *database;               /* libpq conninfo */
    char *database_owner;         /* conninfo of the schema owner, for migrations; "": database */
    char *log_level;              /* err, warning, notice, info, debug */
    int batch_max;                /* envelopes per transaction */
    int max_message_bytes;        /* largest envelope frame accepted */
    int max_text_bytes;           /* longest statement text accepted */
    int reconnect_max_ms;         /* cap of the database reconnect backoff */
    int statement_timeout_ms;
    int future_tolerance_s;      /* how far in the future occurred_at may be */
    int due_check_interval_s;    /* how often the due check runs */
    int outbox_retention_days;   /* how long publications stay available for catch-up */
    int statistics_interval_s;   /* how often statistics are published */
    int rejected_retention_days; /* how long a rejection not seen again is kept */
    int rejected_max_rows;       /* most rows of rejected input kept */
    int max_connections;         /* client connections across the public sockets */
    int handshake_timeout_ms;    /* a connection not authenticated by then is dropped */
    int ingest_queue;            /* envelopes queued per adapter connection */
    int ack_queue;               /* unread acks held per adapter connection */
    int publish_queue;           /* unread publications held per subscriber */
    int metrics_port;            /* loopback port of GET /metrics; 0: none */
    jr_schedule_rules_t rules;   /* alignment window and notice lead times */
    jr_streams_t *streams;       /* owned */
} jr_config_t;

/* The defaults. Caller owns the result; NULL when out of memory. */
jr_config_t *jr_config_new(void);
void jr_config_destroy(jr_config_t **self_p);

/* Reads an INI file over the current values. Returns 0, or -1 with a
 * message ("file:line: unknown key 'x' in [daemon]") in err. */
int jr_config_load_file(jr_config_t *self, const char *path, char *err, size_t errlen);

/* The funding streams of the daemon's configuration file at path, read by
 * this same reader, for the programs beside the daemon (joinedreview-web,
 * joinedreview-export); the built-in table when path is NULL or "". Caller
 * owns the result; NULL with err. */
jr_streams_t *jr_config_streams_of(const char *path, char *err, size_t errlen);

/* Applies one "section.key=value" override (section may be "stream.CODE").
 * Returns 0, or -1 with a message in err. */
int jr_config_override(jr_config_t *self, const char *assignment, char *err, size_t errlen);

/* A reload: takes from `fresh` the value of every key SIGHUP applies that
 * changed, and the streams table; the changed keys that need a restart keep
 * their running values and are named in kept ("ingest_endpoint, database",
 * "" when none). */
void jr_config_apply_reload(jr_config_t *self, jr_config_t *fresh, char *kept, size_t keptlen);

/* Prints the reference of every key (name, type, default, bounds, help,
 * whether it waits for a restart). */
void jr_config_print_reference(FILE *out);

#endif
