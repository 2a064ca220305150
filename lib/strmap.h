/* strmap.h -- a set of strings with a number each: open addressing,
 * FNV-1a, grown at half full, so lookups are constant time.
 *
 * A zeroed jr_strmap_t is an empty map; jr_strmap_clear() frees it and
 * leaves it empty. Keys are copied. */
#ifndef JR_STRMAP_H
#define JR_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *key; /* owned; NULL: an empty slot */
    size_t value;
} jr_strmap_slot_t;

typedef struct {
    jr_strmap_slot_t *slots;
    size_t cap, n; /* cap: 0 or a power of two */
} jr_strmap_t;

/* The value of key (borrowed, changeable), or NULL when absent. */
size_t *jr_strmap_get(const jr_strmap_t *m, const char *key);

/* Adds key = value unless present; *added says which. 0, or -1 when out of
 * memory (the map is then as it was). */
int jr_strmap_put(jr_strmap_t *m, const char *key, size_t value, bool *added);

void jr_strmap_clear(jr_strmap_t *m);

#endif
