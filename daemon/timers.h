/* timers.h -- the loop's timers: registered once, each a handler with a
 * schedule of its own, over libzmq's stable zmq_timers_* (4.3.4).
 *
 * Two kinds. A periodic timer (jr_timers_every) fires every interval from
 * its registration on. A one-shot timer (jr_timers_once) fires once each
 * time it is armed (jr_timers_arm), after the delay it was armed with;
 * arming it again before then moves that firing. The loop polls for at most
 * jr_timers_timeout() and then runs what has come due with
 * jr_timers_execute().
 *
 * Handlers may arm any one-shot timer, their own included. An arming made
 * while handlers run is handed to libzmq once they have all run (its delay
 * still counted from the arming), so a timer armed at 0 ms from a handler
 * fires at the loop's next turn, after the poll has taken the input
 * waiting, and never twice in one turn: how long work is cut into rounds
 * that never hold up ingest for long.
 *
 * Why not zmq_timers_* alone: libzmq 4.3.4's zmq_timers_execute() puts a
 * fired timer back at now + interval and walks on, so an interval of 0
 * fires again and again within one call; zmq_timers_set_interval() and
 * _reset() called from a handler erase the entry that call is walking; and
 * a cancelled timer cannot be brought back. Here a one-shot timer leaves
 * libzmq when it fires (cancelled from its own handler, which is safe),
 * armings made by handlers wait until zmq_timers_execute() has returned,
 * and periodic timers are never changed.
 *
 * One thread: the loop's. */
#ifndef JR_TIMERS_H
#define JR_TIMERS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct jr_timers jr_timers_t;

/* A handler; arg is what the timer was registered with. */
typedef void(jr_timers_fn)(void *arg);

enum { JR_TIMERS_MAX = 8 }; /* timers one set can hold */

/* Caller owns the result; NULL when out of memory. */
jr_timers_t *jr_timers_new(void);
void jr_timers_destroy(jr_timers_t **self_p);

/* Registers fn(arg) to run every interval_ms (more than 0) from now on.
 * arg is borrowed. Returns the timer, or -1 when JR_TIMERS_MAX are
 * registered. */
int jr_timers_every(jr_timers_t *self, size_t interval_ms, jr_timers_fn *fn, void *arg);

/* Registers fn(arg) to run once each time the timer is armed; it is not
 * armed yet. arg is borrowed. Returns the timer, or -1 when JR_TIMERS_MAX
 * are registered. */
int jr_timers_once(jr_timers_t *self, jr_timers_fn *fn, void *arg);

/* Arms a one-shot timer to fire after delay_ms (0: at the loop's next turn),
 * in place of an arming that has not fired yet. */
void jr_timers_arm(jr_timers_t *self, int timer, size_t delay_ms);

/* True from a one-shot timer's arming until it fires. */
bool jr_timers_armed(const jr_timers_t *self, int timer);

/* Milliseconds until a timer fires (0: one is due), or -1 when none will:
 * the longest the loop may wait in zmq_poll. */
long jr_timers_timeout(jr_timers_t *self);

/* Runs the handlers of the timers that have come due, then the armings
 * they made. */
void jr_timers_execute(jr_timers_t *self);

#endif
