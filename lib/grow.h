/* grow.h -- room in a growable array, for the modules that gather rows of
 * unknown number (a batch's plan, its read step, the groups it settles).
 *
 * Pure: no I/O. */
#ifndef JR_GROW_H
#define JR_GROW_H

#include <stddef.h>

/* Room for element n of an array of `size`-byte elements with *cap
 * allocated: the array (moved, perhaps; doubled, from 16), or NULL when
 * out of memory (the old one untouched and still the caller's). */
void *jr_grow(void *v, size_t *cap, size_t n, size_t size);

#endif
