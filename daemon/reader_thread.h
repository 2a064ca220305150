/* reader_thread.h -- a thread of the daemon's that only reads: its own
 * read-only database session (connected when first needed) and an inproc
 * PAIR to the loop. The statistics worker and the catch-up endpoint each run
 * on one.
 *
 * The loop keeps loop_end; the thread uses work_end and store alone. An
 * empty message on the pair tells the thread to stop: the thread's function
 * returns when it reads one (or when the pair fails). */
#ifndef JR_READER_THREAD_H
#define JR_READER_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "store_pg.h"

typedef struct {
    void *loop_end;       /* PAIR: the loop's end */
    void *work_end;       /* PAIR: the thread's end */
    jr_store_pg_t *store; /* the thread's read-only session */
    pthread_t thread;
    bool started;
} jr_reader_thread_t;

/* Makes the pair and the session, then starts run(arg) on a new thread.
 * name labels the pair and the messages in err. 0, or -1 with err set and
 * everything already undone. */
int jr_reader_thread_start(jr_reader_thread_t *t, void *zctx, const char *name,
                           const char *conninfo, int statement_timeout_ms, void *(*run)(void *),
                           void *arg, char *err, size_t errlen);

/* Tells the thread to stop, waits for it, and frees the pair and the
 * session. Safe on a thread that never started, and twice. */
void jr_reader_thread_stop(jr_reader_thread_t *t);

#endif
