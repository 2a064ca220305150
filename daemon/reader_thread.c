/* reader_thread.c -- see reader_thread.h. */
#include "reader_thread.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

int jr_reader_thread_start(jr_reader_thread_t *t, void *zctx, const char *name,
                           const char *conninfo, int statement_timeout_ms, void *(*run)(void *),
                           void *arg, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "inproc://jr-%s-%p", name, (void *)t);
    int zero = 0;
    t->loop_end = zmq_socket(zctx, ZMQ_PAIR);
    t->work_end = zmq_socket(zctx, ZMQ_PAIR);
    t->store = jr_store_pg_new_reader(conninfo, statement_timeout_ms);
    if (t->loop_end == NULL || t->work_end == NULL || t->store == NULL ||
        zmq_setsockopt(t->loop_end, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(t->work_end, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_bind(t->loop_end, endpoint) != 0 || zmq_connect(t->work_end, endpoint) != 0) {
        snprintf(err, errlen, "%s thread: %s", name,
                 t->store == NULL ? "out of memory" : zmq_strerror(zmq_errno()));
        jr_reader_thread_stop(t);
        return -1;
    }
    if (pthread_create(&t->thread, NULL, run, arg) != 0) {
        snprintf(err, errlen, "%s: cannot start its thread", name);
        jr_reader_thread_stop(t);
        return -1;
    }
    t->started = true;
    return 0;
}

void jr_reader_thread_stop(jr_reader_thread_t *t)
{
    if (t->started) {
        zmq_send(t->loop_end, "", 0, 0); /* stop */
        pthread_join(t->thread, NULL);
        t->started = false;
    }
    if (t->loop_end != NULL) {
        zmq_close(t->loop_end);
        t->loop_end = NULL;
    }
    if (t->work_end != NULL) {
        zmq_close(t->work_end);
        t->work_end = NULL;
    }
    jr_store_pg_destroy(&t->store);
}
