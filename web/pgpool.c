/* pgpool.c -- see pgpool.h. */
#include "pgpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

typedef struct {
    PGconn *conn;
    bool busy;
    bool ever; /* connected once: a new connection is a reconnect */
} slot_t;

struct jr_pgpool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    slot_t *slots;
    size_t size;
    char *conninfo;
    char options[64];
    _Atomic uint64_t reconnects;
    jr_log_limit_t limit;
};

jr_pgpool_t *jr_pgpool_new(const char *conninfo, size_t size, int statement_timeout_ms)
{
    jr_pgpool_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        return NULL;
    }
    self->slots = calloc(size, sizeof *self->slots);
    self->conninfo = strdup(conninfo);
    if (self->slots == NULL || self->conninfo == NULL) {
        free(self->slots);
        free(self->conninfo);
        free(self);
        return NULL;
    }
    self->size = size;
    snprintf(self->options, sizeof self->options, "-c statement_timeout=%d", statement_timeout_ms);
    self->limit.interval_ms = 10000;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->freed, NULL);
    return self;
}

void jr_pgpool_destroy(jr_pgpool_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_pgpool_t *self = *self_p;
    for (size_t i = 0; i < self->size; i++) {
        PQfinish(self->slots[i].conn);
    }
    pthread_cond_destroy(&self->freed);
    pthread_mutex_destroy(&self->lock);
    free(self->slots);
    free(self->conninfo);
    free(self);
    *self_p = NULL;
}

static PGconn *connect_one(jr_pgpool_t *self)
{
    /* The conninfo comes first and the service's own settings after it, so
     * a conninfo cannot turn them off; expand_dbname reads it as a string. */
    const char *keys[] = {"dbname",          "application_name", "options",
                          "connect_timeout", "keepalives_idle",  NULL};
    const char *values[] = {self->conninfo, "joinedreview-web", self->options, "5", "60", NULL};
    PGconn *c = PQconnectdbParams(keys, values, 1);
    if (c == NULL || PQstatus(c) != CONNECTION_OK) {
        pthread_mutex_lock(&self->lock); /* the limiter's counts */
        jr_log_limited(&self->limit, JR_LOG_WARNING, "db", "cannot connect: %s",
                       c ? PQerrorMessage(c) : "out of memory");
        pthread_mutex_unlock(&self->lock);
        PQfinish(c);
        return NULL;
    }
    return c;
}

PGconn *jr_pgpool_take(jr_pgpool_t *self, int wait_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&self->lock);
    slot_t *slot = NULL;
    for (;;) {
        for (size_t i = 0; i < self->size && slot == NULL; i++) {
            if (!self->slots[i].busy) {
                slot = &self->slots[i];
            }
        }
        if (slot != NULL ||
            pthread_cond_timedwait(&self->freed, &self->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    if (slot != NULL) {
        slot->busy = true;
    }
    pthread_mutex_unlock(&self->lock);
    if (slot == NULL) {
        return NULL;
    }
    if (slot->conn != NULL && PQstatus(slot->conn) != CONNECTION_OK) {
        PQfinish(slot->conn);
        slot->conn = NULL;
    }
    if (slot->conn == NULL) {
        slot->conn = connect_one(self);
        if (slot->conn != NULL && slot->ever) {
            atomic_fetch_add(&self->reconnects, 1);
        }
        slot->ever = slot->ever || slot->conn != NULL;
    }
    if (slot->conn == NULL) {
        pthread_mutex_lock(&self->lock);
        slot->busy = false;
        pthread_mutex_unlock(&self->lock);
        pthread_cond_signal(&self->freed);
        return NULL;
    }
    return slot->conn;
}

void jr_pgpool_give(jr_pgpool_t *self, PGconn *conn)
{
    if (conn == NULL) {
        return;
    }
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->size; i++) {
        if (self->slots[i].conn == conn) {
            self->slots[i].busy = false;
        }
    }
    pthread_mutex_unlock(&self->lock);
    pthread_cond_signal(&self->freed);
}

uint64_t jr_pgpool_reconnects(jr_pgpool_t *self)
{
    return atomic_load(&self->reconnects);
}
