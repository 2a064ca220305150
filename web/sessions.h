/* sessions.h -- who is signed in: a bounded table of sessions, and the
 * tokens that keep forms from being posted by other sites.
 *
 * A session is named by 32 random bytes (64 hex digits, the cookie's
 * value), compared in constant time. It ends when unused for idle_ms, or
 * max_age_ms after sign-in, whichever comes first, or at sign-out. The
 * table holds at most max sessions: a new one takes the place of an ended
 * one, else of the least recently used.
 *
 * Forms carry a token besides the SameSite=Strict cookie:
 *   - the sign-in form, before any session exists, a signed token (the
 *     time it was made, 16 random bytes, and an HMAC-SHA-256 of both under
 *     a key made at start-up), also set as a cookie: both must match, the
 *     signature must hold and the token be under an hour old;
 *   - the sign-out form, the session's own random token.
 *
 * Thread-safe: every call takes the table's lock. Times are arguments
 * (milliseconds on a monotonic clock), so tests need no waiting. */
#ifndef JR_SESSIONS_H
#define JR_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accounts.h"

#define JR_SESSION_ID_LEN       64  /* hex digits */
#define JR_SESSION_LOGIN_LEN    112 /* hex digits of a sign-in form token */
#define JR_SESSION_LOGIN_TTL_MS (3600 * 1000)

typedef struct {
    char id[JR_SESSION_ID_LEN + 1];
    char csrf[JR_SESSION_ID_LEN + 1];
    jr_account_t account; /* as at sign-in, without its hash */
    int64_t created_ms, last_ms;
} jr_session_t;

typedef struct jr_sessions jr_sessions_t;

/* Needs libsodium initialised (sodium_init). Caller owns the result; NULL
 * when out of memory. */
jr_sessions_t *jr_sessions_new(size_t max, int64_t idle_ms, int64_t max_age_ms);
void jr_sessions_destroy(jr_sessions_t **self_p);

/* Opens a session for account at now_ms; a copy in *out. 0, or -1. */
int jr_sessions_open(jr_sessions_t *self, const jr_account_t *account, int64_t now_ms,
                     jr_session_t *out);

/* The live session named id: 0 and a copy in *out (its last use is now),
 * or -1 when there is none or it has ended (it is then removed). */
int jr_sessions_get(jr_sessions_t *self, const char *id, int64_t now_ms, jr_session_t *out);

/* Ends the session named id, if any. */
void jr_sessions_close(jr_sessions_t *self, const char *id);

/* Live sessions at now_ms. */
size_t jr_sessions_count(jr_sessions_t *self, int64_t now_ms);

/* Whether token is the session's sign-out token (constant time). */
bool jr_sessions_csrf_ok(const jr_session_t *session, const char *token);

/* A new sign-in form token (JR_SESSION_LOGIN_LEN hex digits and a NUL). */
void jr_sessions_login_token(const jr_sessions_t *self, int64_t now_ms,
                             char out[JR_SESSION_LOGIN_LEN + 1]);

/* Whether the form's token and the cookie's are one token this table made
 * within the last hour. */
bool jr_sessions_login_token_ok(const jr_sessions_t *self, const char *form, const char *cookie,
                                int64_t now_ms);

#endif
