/* throttle.c -- see throttle.h. */
#include "throttle.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { KEY_MAX = 96 };

typedef struct {
    char key[KEY_MAX]; /* "" when free */
    unsigned failures;
    int64_t last_ms, until_ms;
} entry_t;

struct jr_throttle {
    pthread_mutex_t lock;
    entry_t *entries;
    size_t n;
    unsigned failures;
    int64_t pause_ms, max_ms;
};

jr_throttle_t *jr_throttle_new(size_t entries, unsigned failures, int64_t pause_ms, int64_t max_ms)
{
    jr_throttle_t *self = calloc(1, sizeof *self);
    if (self == NULL || entries == 0) {
        free(self);
        return NULL;
    }
    self->entries = calloc(entries, sizeof *self->entries);
    if (self->entries == NULL) {
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    self->n = entries;
    self->failures = failures ? failures : 1;
    self->pause_ms = pause_ms;
    self->max_ms = max_ms;
    return self;
}

void jr_throttle_destroy(jr_throttle_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    pthread_mutex_destroy(&(*self_p)->lock);
    free((*self_p)->entries);
    free(*self_p);
    *self_p = NULL;
}

/* The entry of key; when absent and make, a fresh one in the place of the
 * stalest. Under the lock. */
static entry_t *lookup(jr_throttle_t *self, const char *key, bool make)
{
    entry_t *stalest = NULL;
    for (size_t i = 0; i < self->n; i++) {
        entry_t *e = &self->entries[i];
        if (e->key[0] != '\0' && strncmp(e->key, key, KEY_MAX - 1) == 0) {
            return e;
        }
        bool free_slot = e->key[0] == '\0';
        if (stalest == NULL || (free_slot && stalest->key[0] != '\0') ||
            (!free_slot && stalest->key[0] != '\0' && e->last_ms < stalest->last_ms)) {
            stalest = e; /* a free slot, else the oldest failure */
        }
    }
    if (!make) {
        return NULL;
    }
    memset(stalest, 0, sizeof *stalest);
    strncpy(stalest->key, key, KEY_MAX - 1);
    return stalest;
}

int64_t jr_throttle_wait_ms(jr_throttle_t *self, const char *key, int64_t now_ms)
{
    pthread_mutex_lock(&self->lock);
    entry_t *e = lookup(self, key, false);
    int64_t wait = e != NULL && e->until_ms > now_ms ? e->until_ms - now_ms : 0;
    pthread_mutex_unlock(&self->lock);
    return wait;
}

void jr_throttle_failed(jr_throttle_t *self, const char *key, int64_t now_ms)
{
    pthread_mutex_lock(&self->lock);
    entry_t *e = lookup(self, key, true);
    e->failures++;
    e->last_ms = now_ms;
    if (e->failures >= self->failures) {
        int64_t pause = self->pause_ms;
        for (unsigned i = self->failures; i < e->failures && pause < self->max_ms; i++) {
            pause *= 2;
        }
        e->until_ms = now_ms + (pause < self->max_ms ? pause : self->max_ms);
    }
    pthread_mutex_unlock(&self->lock);
}

void jr_throttle_cleared(jr_throttle_t *self, const char *key)
{
    pthread_mutex_lock(&self->lock);
    entry_t *e = lookup(self, key, false);
    if (e != NULL) {
        memset(e, 0, sizeof *e);
    }
    pthread_mutex_unlock(&self->lock);
}
