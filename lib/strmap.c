/* strmap.c -- see strmap.h. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = s; *c; c++) {
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    }
    return h;
}

static jr_strmap_slot_t *slot_of(const jr_strmap_t *m, const char *key)
{
    size_t mask = m->cap - 1;
    for (size_t i = str_hash(key) & mask;; i = (i + 1) & mask) {
        if (m->slots[i].key == NULL || strcmp(m->slots[i].key, key) == 0) {
            return &m->slots[i];
        }
    }
}

size_t *jr_strmap_get(const jr_strmap_t *m, const char *key)
{
    if (m->cap == 0) {
        return NULL;
    }
    jr_strmap_slot_t *s = slot_of(m, key);
    return s->key ? &s->value : NULL;
}

int jr_strmap_put(jr_strmap_t *m, const char *key, size_t value, bool *added)
{
    if (2 * (m->n + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        jr_strmap_t grown = {calloc(cap, sizeof(jr_strmap_slot_t)), cap, m->n};
        if (grown.slots == NULL) {
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->slots[i].key != NULL) {
                *slot_of(&grown, m->slots[i].key) = m->slots[i];
            }
        }
        free(m->slots);
        *m = grown;
    }
    jr_strmap_slot_t *s = slot_of(m, key);
    *added = s->key == NULL;
    if (*added) {
        s->key = strdup(key);
        if (s->key == NULL) {
            return -1;
        }
        s->value = value;
        m->n++;
    }
    return 0;
}

void jr_strmap_clear(jr_strmap_t *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->slots[i].key);
    }
    free(m->slots);
    memset(m, 0, sizeof *m);
}
