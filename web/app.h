/* app.h -- what every request of joinedreview-web may use: the
 * configuration, the funding streams, the accounts, the sessions, the
 * sign-in throttle, the database pool and the service's counters. One is
 * made by main.c and handed to the server; nothing of it is global. */
#ifndef JR_APP_H
#define JR_APP_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "accounts.h"
#include "clock.h"
#include "pgpool.h"
#include "sessions.h"
#include "streams.h"
#include "throttle.h"
#include "webcfg.h"

/* Status codes the service counts by name; the rest count as "other". */
#define JR_APP_CODES 13
extern const unsigned jr_app_codes[JR_APP_CODES];

typedef struct {
    const jr_webcfg_t *cfg;
    const jr_streams_t *streams;
    const jr_accounts_t *accounts;
    jr_sessions_t *sessions;
    jr_throttle_t *throttle;
    jr_pgpool_t *db;
    jr_clock_t clock;
    bool tls;
    /* Bearer token for /metrics; empty: analysts' sessions only. */
    char metrics_token[128];
    /* Bounds the argon2id checks running at once (each takes its memory). */
    sem_t password_checks;
    /* A hash checked when the account does not exist, so that a missing
     * account costs the same time as a wrong password. */
    char dummy_hash[JR_ACCOUNT_HASH_MAX];
    /* Counters for /metrics. */
    _Atomic uint64_t requests[JR_APP_CODES + 1];
    _Atomic uint64_t logins_ok, logins_failed, logins_paused;
    _Atomic uint64_t audit_rows;
} jr_app_t;

/* Counts one answer with this status code. */
void jr_app_count(jr_app_t *app, unsigned status);

#endif
