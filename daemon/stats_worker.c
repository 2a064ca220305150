/* stats_worker.c -- see stats_worker.h. */
#include "stats_worker.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "reader_thread.h"
#include "store_pg.h"
#include "text.h"

/* The answer on the pair: a status byte, then the figures or a reason. */
typedef struct {
    uint8_t ok;
    char error[256];
    jr_statistics_t st;
} answer_t;

struct jr_stats_worker {
    jr_reader_thread_t rt;
    bool busy;
};

static void *run(void *arg)
{
    jr_stats_worker_t *self = arg;
    for (;;) {
        char today[11]; /* YYYY-MM-DD */
        int n = zmq_recv(self->rt.work_end, today, sizeof today - 1, 0);
        if (n <= 0) {
            break; /* an empty request (or a closed context) stops the worker */
        }
        today[n < (int)sizeof today - 1 ? n : (int)sizeof today - 1] = '\0';
        answer_t *a = calloc(1, sizeof *a);
        if (a == NULL) {
            break;
        }
        jr_day_t day = JR_DAY_NONE;
        if (jr_text_parse_date(today, &day) != 0) {
            snprintf(a->error, sizeof a->error, "asked for statistics of '%s', not a day", today);
        } else {
            int rc = jr_store_pg_connected(self->rt.store)
                         ? JR_STORE_OK
                         : jr_store_pg_connect_wait(self->rt.store, 10000);
            if (rc == JR_STORE_OK) {
                snprintf(a->st.today, sizeof a->st.today, "%s", today);
                rc = jr_store_pg_statistics_snapshot(self->rt.store, day, &a->st);
            }
            a->ok = rc == JR_STORE_OK;
            if (!a->ok) {
                snprintf(a->error, sizeof a->error, "%s", jr_store_pg_error(self->rt.store));
                jr_store_pg_disconnect(self->rt.store); /* a fresh session next time */
            }
        }
        int sent = zmq_send(self->rt.work_end, a, sizeof *a, 0);
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
    if (jr_reader_thread_start(&self->rt, zctx, "statistics", conninfo, statement_timeout_ms, run,
                               self, err, errlen) != 0) {
        free(self);
        return NULL;
    }
    return self;
}

void jr_stats_worker_destroy(jr_stats_worker_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    jr_reader_thread_stop(&(*self_p)->rt);
    free(*self_p);
    *self_p = NULL;
}

void *jr_stats_worker_socket(jr_stats_worker_t *self)
{
    return self->rt.loop_end;
}

bool jr_stats_worker_busy(const jr_stats_worker_t *self)
{
    return self->busy;
}

int jr_stats_worker_ask(jr_stats_worker_t *self, const char *today)
{
    if (self->busy || zmq_send(self->rt.loop_end, today, strlen(today), ZMQ_DONTWAIT) < 0) {
        return -1;
    }
    self->busy = true;
    return 0;
}

int jr_stats_worker_collect(jr_stats_worker_t *self, jr_statistics_t *st, char *err, size_t errlen)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int n = zmq_msg_recv(&msg, self->rt.loop_end, ZMQ_DONTWAIT);
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
