/* timers.c -- the loop's timers over zmq_timers_* (see timers.h for why
 * one-shot timers leave libzmq when they fire and armings made by handlers
 * wait). */
#include "timers.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <zmq.h>

#include "clock.h"

typedef struct {
    jr_timers_t *owner;
    jr_timers_fn *fn;
    void *arg;
    bool once;          /* a one-shot timer */
    int zid;            /* libzmq's id while libzmq holds it; -1: it does not */
    bool pending;       /* armed while handlers ran: handed to libzmq after */
    int64_t pending_at; /* when it was armed to fire (monotonic ms) */
} slot_t;

struct jr_timers {
    void *z; /* zmq_timers_new() */
    slot_t slots[JR_TIMERS_MAX];
    size_t n;
    bool executing; /* inside zmq_timers_execute() */
};

jr_timers_t *jr_timers_new(void)
{
    jr_timers_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        return NULL;
    }
    self->z = zmq_timers_new();
    if (self->z == NULL) {
        free(self);
        return NULL;
    }
    return self;
}

void jr_timers_destroy(jr_timers_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    zmq_timers_destroy(&(*self_p)->z);
    free(*self_p);
    *self_p = NULL;
}

/* libzmq's handler for every timer. */
static void fire(int zid, void *arg)
{
    slot_t *s = arg;
    if (s->once) {
        /* Out of libzmq: the copy it puts back at now + delay is dropped
         * unseen, and a delay of 0 does not fire again in this call. */
        zmq_timers_cancel(s->owner->z, zid);
        s->zid = -1;
        if (s->pending) {
            return; /* armed again by a handler before this one: that arming stands */
        }
    }
    s->fn(s->arg);
}

/* Hands a one-shot timer to libzmq, to fire after delay_ms. */
static void schedule(jr_timers_t *self, slot_t *s, size_t delay_ms)
{
    if (s->zid >= 0) {
        int rc = zmq_timers_set_interval(self->z, s->zid, delay_ms);
        assert(rc == 0);
        (void)rc;
    } else {
        s->zid = zmq_timers_add(self->z, delay_ms, fire, s);
        assert(s->zid >= 0);
    }
}

static int add(jr_timers_t *self, bool once, jr_timers_fn *fn, void *arg)
{
    assert(fn != NULL);
    if (self->n == JR_TIMERS_MAX) {
        return -1;
    }
    slot_t *s = &self->slots[self->n];
    *s = (slot_t){.owner = self, .fn = fn, .arg = arg, .once = once, .zid = -1};
    return (int)self->n++;
}

int jr_timers_every(jr_timers_t *self, size_t interval_ms, jr_timers_fn *fn, void *arg)
{
    assert(interval_ms > 0); /* 0 would fire without end in zmq_timers_execute() */
    int timer = add(self, false, fn, arg);
    if (timer >= 0) {
        slot_t *s = &self->slots[timer];
        s->zid = zmq_timers_add(self->z, interval_ms, fire, s);
        assert(s->zid >= 0);
    }
    return timer;
}

int jr_timers_once(jr_timers_t *self, jr_timers_fn *fn, void *arg)
{
    return add(self, true, fn, arg);
}

void jr_timers_arm(jr_timers_t *self, int timer, size_t delay_ms)
{
    assert(timer >= 0 && (size_t)timer < self->n && self->slots[timer].once);
    slot_t *s = &self->slots[timer];
    if (self->executing) {
        s->pending = true;
        s->pending_at = jr_clock_mono_ms() + (int64_t)delay_ms;
        return;
    }
    schedule(self, s, delay_ms);
}

bool jr_timers_armed(const jr_timers_t *self, int timer)
{
    assert(timer >= 0 && (size_t)timer < self->n);
    const slot_t *s = &self->slots[timer];
    return s->pending || s->zid >= 0;
}

long jr_timers_timeout(jr_timers_t *self)
{
    return zmq_timers_timeout(self->z);
}

void jr_timers_execute(jr_timers_t *self)
{
    self->executing = true;
    zmq_timers_execute(self->z);
    self->executing = false;
    for (size_t i = 0; i < self->n; i++) {
        slot_t *s = &self->slots[i];
        if (s->pending) {
            /* Counted from the arming, not from now: the handlers took time. */
            int64_t left = s->pending_at - jr_clock_mono_ms();
            s->pending = false;
            schedule(self, s, left > 0 ? (size_t)left : 0);
        }
    }
}
