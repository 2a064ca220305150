/* harness.h -- drives the real daemon for integration tests: a fresh
 * database in the throwaway cluster the CTest fixture started, the daemon
 * binary started as a child process, and real ZeroMQ sockets talking to it.
 *
 * The cluster's socket directory comes from the environment variable
 * JR_TEST_PGDIR (set by tests/CMakeLists.txt). */
#ifndef JR_HARNESS_H
#define JR_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "joinedreview/joinedreview.pb-c.h"
#include "jr_subscriber.h"

#define H_NHS_A "9434765919" /* valid */
#define H_NHS_B "9434765870" /* valid */
/* The day tests run on, unless they say otherwise. */
#define H_TODAY "2026-10-02"

#define H_NHS_BAD "9434765918" /* wrong check digit */

/* The ZeroMQ context every suite's sockets share, made by h_suite_init and
 * ended by h_suite_clean (CUnit suite set-up and clean-up). */
extern void *h_zctx;
int h_suite_init(void);
int h_suite_clean(void);

/* A database created empty for one test; conninfo points at it. */
typedef struct {
    char name[64];
    char conninfo[512];
} h_db_t;

int h_db_create(h_db_t *db, const char *name);

/* A daemon started as a child process against db. */
typedef struct {
    pid_t pid;
    char ingest[128];
    char publish[128];
    char catchup[128];
    char pseudonymised[128];
    char statistics[128];
    char log_path[256];
} h_daemon_t;

/* extra: NULL-terminated list of further arguments (may be NULL). Waits
 * until the daemon says it is ready. 0 on success. */
int h_daemon_start(h_daemon_t *d, const h_db_t *db, const char *const *extra);

/* The same, waiting up to timeout_ms for "ready" (h_daemon_start waits 15 s).
 * The log is checked every 5 ms, so a caller can time the start-up. */
int h_daemon_start_timeout(h_daemon_t *d, const h_db_t *db, const char *const *extra,
                           int timeout_ms);

/* Sends sig (SIGTERM, SIGKILL) and waits; returns the exit status, or
 * 128 + signal when killed. */
int h_daemon_stop(h_daemon_t *d, int sig);

/* The line number (from 1) of the first line of the daemon's log that
 * contains text, or 0. */
int h_log_line_of(const h_daemon_t *d, const char *text);

/* Runs the daemon binary to completion with these arguments (e.g.
 * --rebuild); its stdout goes to out (up to outlen). Returns exit status. */
int h_daemon_run(const h_db_t *db, const char *const *extra, char *out, size_t outlen);

/* The same with its log (standard error) in out too. */
int h_daemon_run_logged(const h_db_t *db, const char *const *extra, char *out, size_t outlen);

/* Bare sockets, on purpose: the tests below them check the wire itself,
 * every Ack as the daemon sends it (RETRY_LATER, reason codes, junk and
 * floods answered), and exactly what the PUB socket sends under a topic.
 * The client library (client/jr_client.h, jr_subscriber.h) folds those into
 * outcomes and a gapless feed; tests that push or follow as a program does
 * use it. */

/* A DEALER connected to the ingest endpoint. */
void *h_dealer(void *zctx, const char *endpoint);
/* A SUB connected to publish, subscribed to `topic`; waits until it is
 * really subscribed (sends nothing; sleeps briefly). */
void *h_sub(void *zctx, const char *endpoint, const char *topic);

/* Packs and sends one envelope as one frame. */
int h_send(void *sock, const Joinedreview__V1__Envelope *env);

/* Receives one Ack within timeout_ms; caller frees with
 * joinedreview__v1__ack__free_unpacked. NULL on timeout. */
Joinedreview__V1__Ack *h_recv_ack(void *sock, int timeout_ms);

/* Sends and waits for its ack; returns the status (0 on timeout). When
 * code is non-NULL the reason code is copied there (64 bytes). */
int h_push(void *sock, const Joinedreview__V1__Envelope *env, char *code);

/* Sends and waits timeout_ms for its ack: the status, 0 when none came. */
int h_push_timeout(void *sock, const Joinedreview__V1__Envelope *env, int timeout_ms);

/* A client of the catch-up endpoint alone (no SUB), through the client
 * library, in zctx: plaintext when server_key is NULL, else CURVE with the
 * daemon's public key and this client's pair. Connected in the background;
 * free with jr_subscriber_destroy(). */
jr_subscriber_t *h_catchup_client(void *zctx, const char *endpoint, const char *server_key,
                                  const char *public_key, const char *secret_key);

/* One catch-up request of this kind (JR_SUBSCRIBER_ASK_*): the first
 * reply, whatever its status, or NULL when none came within timeout_ms.
 * Caller frees with joinedreview__v1__catchup_reply__free_unpacked. */
Joinedreview__V1__CatchupReply *h_catchup(jr_subscriber_t *client, int kind, int timeout_ms);

/* Receives one publication within timeout_ms: NULL on timeout. */
Joinedreview__V1__ConsolidatedReview *h_recv_review(void *sub, int timeout_ms);

/* Envelope builders; the strings are copied into a static pool that
 * h_reset_pool() frees. at_ms = 0 means "now". */
typedef struct {
    Joinedreview__V1__Envelope env;
    Joinedreview__V1__PersonIds ids;
    Joinedreview__V1__Contribution contribution;
    Joinedreview__V1__Enrolment enrolment;
    Joinedreview__V1__ReviewHeld held;
    Joinedreview__V1__PlanRevision plan;
    Joinedreview__V1__ReviewPreferences preferences;
    Joinedreview__V1__BudgetStatement budget;
    Joinedreview__V1__Need needs[8];
} h_env_t;

void h_contribution(h_env_t *e, const char *stream, const char *seid, int64_t at_ms,
                    const char *nhs, int topic, int role, int priority, const char *working);
void h_enrolment(h_env_t *e, const char *stream, const char *seid, int64_t at_ms, const char *nhs,
                 const char *nino, const char *started_on);
void h_review_held(h_env_t *e, const char *stream, const char *seid, int64_t at_ms, const char *nhs,
                   const char *held_on);
/* revised_by may be NULL. */
void h_plan_revision(h_env_t *e, const char *stream, const char *seid, int64_t at_ms,
                     const char *nhs, const char *revise_by, const char *revised_by);

/* Review preferences with the way and the name to use (may be NULL); add
 * needs with h_need(). */
void h_preferences(h_env_t *e, const char *stream, const char *seid, int64_t at_ms, const char *nhs,
                   int way, const char *called);
void h_need(h_env_t *e, int need);
/* A budget statement; amounts as the wire carries them (whole pence, text). */
void h_budget(h_env_t *e, const char *stream, const char *seid, int64_t at_ms, const char *nhs,
              const char *start, const char *end, const char *allocated, const char *spent);

/* One integer from a query with no parameters; -1 on error. */
long long h_sql_int(const h_db_t *db, const char *sql);
/* One text value (copied to out); -1 on error or no row. */
int h_sql_text(const h_db_t *db, const char *sql, char *out, size_t outlen);
/* Runs a command; 0 on success. */
int h_sql_exec(const h_db_t *db, const char *sql);

/* How many persons' rows of current_figures (what the statistics read,
 * kept by triggers: migrations 027 and 030) differ from their newest
 * record's reporting columns (0: all agree; -1 on error). */
long long h_figures_differ(const h_db_t *db);

/* A valid NHS number (modulus-11 check digit) made from an index. */
void h_nhs_of(int i, char out[11]);

int64_t h_now_ms(void);
void h_sleep_ms(int ms);

#endif
