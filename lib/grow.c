/* grow.c -- see grow.h. */
#include "grow.h"

#include <stdlib.h>

void *jr_grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) {
        return v;
    }
    size_t more = *cap ? 2 * *cap : 16;
    void *moved = realloc(v, more * size);
    if (moved != NULL) {
        *cap = more;
    }
    return moved;
}
