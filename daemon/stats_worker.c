/* stats_worker.c -- see stats_worker.h. */
#include "stats_worker.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "store_pg.h"

/* The answer on the pair: a status byte, then the figures or a reason. */
typedef struct {
    uint8_t ok;
    char error[256];
    jr_statistics_t st;
} answer_t;

struct jr_stats_worker {
    void *loop_end; /* PAIR, the loop's */
    void *work_end; /* PAIR, the worker thread's */
    jr_store_pg_t *store;
    pthread_t thread;
    bool started;
    bool busy;
};

static void *run(void *arg)
{
    jr_stats_worker_t *self = arg;
    for (;;) {
        char today[11]; /* YYYY-MM-DD */
        int n = zmq_recv(self->work_end, today, sizeof today - 1, 0);
        if (n <= 0) {
            break; /* an empty request (or a closed context) stops the worker */
        }
        today[n < (int)sizeof today - 1 ? n : (int)sizeof today - 1] = '\0';
        answer_t *a = calloc(1, sizeof *a);
        if (a == NULL) {
            break;
        }
        int rc = jr_store_pg_connected(self->store) ? JR_STORE_OK
                                                    : jr_store_pg_connect_wait(self->store, 10000);
        if (rc == JR_STORE_OK) {
            snprintf(a->st.today, sizeof a->st.today, "%s", today);
            rc = jr_store_pg_statistics_snapshot(self->store, today, &a->st);
        }
        a->ok = rc == JR_STORE_OK;
        if (!a->ok) {
            snprintf(a->error, sizeof a->error, "%s", jr_store_pg_error(self->store));
            jr_store_pg_disconnect(self->store); /* a fresh session next time */
        }
        int sent = zmq_send(self->work_end, a, sizeof *a, 0);
        free(a);
        if (sent < 0) {
            break;
        }
    }
    return NULL;
}

jr_stats_worker_t *jr_stats_worker_new(void *zctx, const char *conninfo, int statement_timeout_ms,
                                       char *err, size_t errlen)
{
    jr_stats_worker_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        snprintf(err, errlen, "statistics worker: out of memory");
        return NULL;
    }
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://jr-statistics-%p", (void *)self);
    int zero = 0;
    self->loop_end = zmq_socket(zctx, ZMQ_PAIR);
    self->work_end = zmq_socket(zctx, ZMQ_PAIR);
    self->store = jr_store_pg_new_reader(conninfo, statement_timeout_ms);
    if (self->loop_end == NULL || self->work_end == NULL || self->store == NULL ||
        zmq_setsockopt(self->loop_end, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(self->work_end, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_bind(self->loop_end, endpoint) != 0 || zmq_connect(self->work_end, endpoint) != 0) {
        snprintf(err, errlen, "statistics worker: %s", zmq_strerror(zmq_errno()));
        jr_stats_worker_destroy(&self);
        return NULL;
    }
    if (pthread_create(&self->thread, NULL, run, self) != 0) {
        snprintf(err, errlen, "statistics worker: cannot start its thread");
        jr_stats_worker_destroy(&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void jr_stats_worker_destroy(jr_stats_worker_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_stats_worker_t *self = *self_p;
    if (self->started) {
        zmq_send(self->loop_end, "", 0, 0); /* stop */
        pthread_join(self->thread, NULL);
    }
    if (self->loop_end != NULL) {
        zmq_close(self->loop_end);
    }
    if (self->work_end != NULL) {
        zmq_close(self->work_end);
    }
    jr_store_pg_destroy(&self->store);
    free(self);
    *self_p = NULL;
}

void *jr_stats_worker_socket(jr_stats_worker_t *self)
{
    return self->loop_end;
}

bool jr_stats_worker_busy(const jr_stats_worker_t *self)
{
    return self->busy;
}

int jr_stats_worker_ask(jr_stats_worker_t *self, const char *today)
{
    if (self->busy || zmq_send(self->loop_end, today, strlen(today), ZMQ_DONTWAIT) < 0) {
        return -1;
    }
    self->busy = true;
    return 0;
}

int jr_stats_worker_collect(jr_stats_worker_t *self, jr_statistics_t *st, char *err, size_t errlen)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int n = zmq_msg_recv(&msg, self->loop_end, ZMQ_DONTWAIT);
    int rc = -1;
    if (n < 0) {
        snprintf(err, errlen, "no answer: %s", zmq_strerror(zmq_errno()));
    } else if ((size_t)n != sizeof(answer_t)) {
        snprintf(err, errlen, "an answer of %d bytes", n);
        self->busy = false;
    } else {
        answer_t a;
        memcpy(&a, zmq_msg_data(&msg), sizeof a);
        if (a.ok) {
            *st = a.st;
            rc = 0;
        } else {
            snprintf(err, errlen, "%s", a.error);
        }
        self->busy = false;
    }
    zmq_msg_close(&msg);
    return rc;
}
