/* sessions.c -- see sessions.h. */
#include "sessions.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    bool used;
    uint8_t id[32];
    jr_session_t s;
} slot_t;

struct jr_sessions {
    pthread_mutex_t lock;
    slot_t *slots;
    size_t max;
    int64_t idle_ms, max_age_ms;
    uint8_t key[crypto_auth_hmacsha256_KEYBYTES]; /* signs sign-in form tokens */
};

jr_sessions_t *jr_sessions_new(size_t max, int64_t idle_ms, int64_t max_age_ms)
{
    jr_sessions_t *self = calloc(1, sizeof *self);
    if (self == NULL || max == 0) {
        free(self);
        return NULL;
    }
    self->slots = calloc(max, sizeof *self->slots);
    if (self->slots == NULL) {
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    self->max = max;
    self->idle_ms = idle_ms;
    self->max_age_ms = max_age_ms;
    crypto_auth_hmacsha256_keygen(self->key);
    return self;
}

void jr_sessions_destroy(jr_sessions_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_sessions_t *self = *self_p;
    sodium_memzero(self->slots, self->max * sizeof *self->slots);
    sodium_memzero(self->key, sizeof self->key);
    pthread_mutex_destroy(&self->lock);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

static bool ended(const jr_sessions_t *self, const slot_t *slot, int64_t now_ms)
{
    return now_ms - slot->s.last_ms >= self->idle_ms ||
           now_ms - slot->s.created_ms >= self->max_age_ms;
}

static void hex(char *out, const uint8_t *bin, size_t len)
{
    sodium_bin2hex(out, len * 2 + 1, bin, len);
}

/* The 32 bytes a session id names; false when it is not 64 hex digits. */
static bool unhex32(const char *text, uint8_t out[32])
{
    size_t got = 0;
    return text != NULL && strlen(text) == 64 &&
           sodium_hex2bin(out, 32, text, 64, NULL, &got, NULL) == 0 && got == 32;
}

int jr_sessions_open(jr_sessions_t *self, const jr_account_t *account, int64_t now_ms,
                     jr_session_t *out)
{
    pthread_mutex_lock(&self->lock);
    slot_t *pick = NULL;
    for (size_t i = 0; i < self->max; i++) {
        slot_t *s = &self->slots[i];
        if (!s->used || ended(self, s, now_ms)) {
            pick = s;
            break;
        }
        if (pick == NULL || s->s.last_ms < pick->s.last_ms) {
            pick = s; /* the least recently used, unless a free one turns up */
        }
    }
    memset(pick, 0, sizeof *pick);
    pick->used = true;
    randombytes_buf(pick->id, sizeof pick->id);
    hex(pick->s.id, pick->id, sizeof pick->id);
    uint8_t csrf[32];
    randombytes_buf(csrf, sizeof csrf);
    hex(pick->s.csrf, csrf, sizeof csrf);
    pick->s.account = *account;
    sodium_memzero(pick->s.account.hash, sizeof pick->s.account.hash);
    pick->s.created_ms = pick->s.last_ms = now_ms;
    *out = pick->s;
    pthread_mutex_unlock(&self->lock);
    return 0;
}

/* The slot named id (constant time per slot), or NULL. Under the lock. */
static slot_t *find(jr_sessions_t *self, const char *id)
{
    uint8_t want[32];
    if (!unhex32(id, want)) {
        return NULL;
    }
    slot_t *found = NULL;
    for (size_t i = 0; i < self->max; i++) {
        if (self->slots[i].used && sodium_memcmp(self->slots[i].id, want, 32) == 0) {
            found = &self->slots[i];
        }
    }
    return found;
}

int jr_sessions_get(jr_sessions_t *self, const char *id, int64_t now_ms, jr_session_t *out)
{
    pthread_mutex_lock(&self->lock);
    slot_t *s = find(self, id);
    int rc = -1;
    if (s != NULL && ended(self, s, now_ms)) {
        memset(s, 0, sizeof *s);
    } else if (s != NULL) {
        s->s.last_ms = now_ms;
        *out = s->s;
        rc = 0;
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

void jr_sessions_close(jr_sessions_t *self, const char *id)
{
    pthread_mutex_lock(&self->lock);
    slot_t *s = find(self, id);
    if (s != NULL) {
        sodium_memzero(s, sizeof *s);
    }
    pthread_mutex_unlock(&self->lock);
}

size_t jr_sessions_count(jr_sessions_t *self, int64_t now_ms)
{
    size_t n = 0;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->max; i++) {
        n += self->slots[i].used && !ended(self, &self->slots[i], now_ms);
    }
    pthread_mutex_unlock(&self->lock);
    return n;
}

bool jr_sessions_csrf_ok(const jr_session_t *session, const char *token)
{
    return token != NULL && strlen(token) == JR_SESSION_ID_LEN &&
           sodium_memcmp(session->csrf, token, JR_SESSION_ID_LEN) == 0;
}

enum { STAMP = 8, NONCE = 16, MAC = crypto_auth_hmacsha256_BYTES };

void jr_sessions_login_token(const jr_sessions_t *self, int64_t now_ms,
                             char out[JR_SESSION_LOGIN_LEN + 1])
{
    uint8_t t[STAMP + NONCE + MAC];
    uint64_t ms = (uint64_t)now_ms;
    for (int i = 0; i < STAMP; i++) {
        t[i] = (uint8_t)(ms >> (56 - 8 * i));
    }
    randombytes_buf(t + STAMP, NONCE);
    crypto_auth_hmacsha256(t + STAMP + NONCE, t, STAMP + NONCE, self->key);
    hex(out, t, sizeof t);
}

bool jr_sessions_login_token_ok(const jr_sessions_t *self, const char *form, const char *cookie,
                                int64_t now_ms)
{
    uint8_t t[STAMP + NONCE + MAC];
    size_t got = 0;
    if (form == NULL || cookie == NULL || strlen(form) != JR_SESSION_LOGIN_LEN ||
        strlen(cookie) != JR_SESSION_LOGIN_LEN ||
        sodium_memcmp(form, cookie, JR_SESSION_LOGIN_LEN) != 0 ||
        sodium_hex2bin(t, sizeof t, form, JR_SESSION_LOGIN_LEN, NULL, &got, NULL) != 0 ||
        got != sizeof t ||
        crypto_auth_hmacsha256_verify(t + STAMP + NONCE, t, STAMP + NONCE, self->key) != 0) {
        return false;
    }
    uint64_t ms = 0;
    for (int i = 0; i < STAMP; i++) {
        ms = ms << 8 | t[i];
    }
    return (int64_t)ms <= now_ms && now_ms - (int64_t)ms < JR_SESSION_LOGIN_TTL_MS;
}
