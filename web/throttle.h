/* throttle.h -- a pause after repeated failed sign-ins, per account and per
 * address.
 *
 * Each key ("account:NAME", "address:IP") counts its failures. From the
 * failures-th on, every failure starts a pause of pause_ms, doubled for each
 * further failure up to max_ms; while a key is paused, sign-in is refused
 * without checking the password. A success clears the key. The table
 * remembers at most `entries` keys: a new key takes the place of the one
 * whose last failure is oldest, so a flood of addresses costs fixed memory.
 *
 * Thread-safe. Times are arguments (ms on a monotonic clock). */
#ifndef JR_THROTTLE_H
#define JR_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct jr_throttle jr_throttle_t;

jr_throttle_t *jr_throttle_new(size_t entries, unsigned failures, int64_t pause_ms, int64_t max_ms);
void jr_throttle_destroy(jr_throttle_t **self_p);

/* Milliseconds key must still wait (0: it may try now). */
int64_t jr_throttle_wait_ms(jr_throttle_t *self, const char *key, int64_t now_ms);

/* A failed attempt for key at now_ms. */
void jr_throttle_failed(jr_throttle_t *self, const char *key, int64_t now_ms);

/* A successful one: key is forgotten. */
void jr_throttle_cleared(jr_throttle_t *self, const char *key);

#endif
