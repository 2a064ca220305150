/* load.c -- see load.h. Each sender pushes through the client library
 * (client/jr_client.h), as a back office's own program would: the window,
 * RETRY_LATER and the matching of acks are the library's. */
#include "load.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jr_client.h"

#define SILENCE_NS     (60LL * 1000000000LL) /* no answer for this long: the run failed */
#define SILENCE_MS     60000                 /* ... and no resend before it */
#define RETRY_DELAY_MS 50                    /* RETRY_LATER: resend after 50 ms, then doubling */

/* One back office: its queue, its thread, its figures. */
typedef struct {
    load_t *load;
    size_t index;
    uint8_t **env;
    uint32_t *len;
    const char **stream;
    int64_t *sent_ns;    /* first send */
    int64_t *latency_ns; /* first send to final ack; -1 until then */
    size_t n, cap;
    size_t done;            /* final answers */
    int64_t last_answer_ns; /* when the last final answer came */
    load_stats_t stats;
    int failed;
    pthread_t thread;
} sender_t;

struct load {
    sender_t *senders;
    size_t n_senders;
    size_t running; /* threads started */
    int window;
    void *zctx;
    const char *endpoint;
    atomic_size_t acked;
    atomic_size_t stopped;
};

int64_t load_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

load_t *load_new(size_t senders, int window)
{
    load_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        return NULL;
    }
    self->senders = calloc(senders, sizeof *self->senders);
    if (self->senders == NULL) {
        free(self);
        return NULL;
    }
    self->n_senders = senders;
    self->window = window;
    atomic_init(&self->acked, 0);
    atomic_init(&self->stopped, 0);
    for (size_t i = 0; i < senders; i++) {
        self->senders[i].load = self;
        self->senders[i].index = i;
    }
    return self;
}

void load_destroy(load_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    load_t *self = *self_p;
    for (size_t i = 0; i < self->n_senders; i++) {
        sender_t *s = &self->senders[i];
        for (size_t k = 0; k < s->n; k++) {
            free(s->env[k]);
        }
        free(s->env);
        free(s->len);
        free(s->stream);
        free(s->sent_ns);
        free(s->latency_ns);
    }
    free(self->senders);
    free(self);
    *self_p = NULL;
}

void load_seid(const load_t *self, size_t sender, const char *stream, char out[32])
{
    char lower[16];
    size_t k = 0;
    for (; stream[k] != '\0' && k + 1 < sizeof lower; k++) {
        char c = stream[k];
        lower[k] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    lower[k] = '\0';
    snprintf(out, 32, "%s-%zu", lower, self->senders[sender].n);
}

static int grow(sender_t *s)
{
    size_t cap = s->cap ? s->cap * 2 : 4096;
    uint8_t **env = realloc(s->env, cap * sizeof *env);
    if (env != NULL) {
        s->env = env;
    }
    uint32_t *len = realloc(s->len, cap * sizeof *len);
    if (len != NULL) {
        s->len = len;
    }
    const char **stream = realloc(s->stream, cap * sizeof *stream);
    if (stream != NULL) {
        s->stream = stream;
    }
    if (env == NULL || len == NULL || stream == NULL) {
        return -1;
    }
    s->cap = cap;
    return 0;
}

int load_add(load_t *self, size_t sender, const char *stream, const Joinedreview__V1__Envelope *env)
{
    sender_t *s = &self->senders[sender];
    if (s->n == s->cap && grow(s) != 0) {
        return -1;
    }
    size_t len = joinedreview__v1__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        return -1;
    }
    joinedreview__v1__envelope__pack(env, buf);
    s->env[s->n] = buf;
    s->len[s->n] = (uint32_t)len;
    s->stream[s->n] = stream;
    s->n++;
    return 0;
}

size_t load_count(const load_t *self, size_t sender)
{
    return self->senders[sender].n;
}

const uint8_t *load_envelope(const load_t *self, size_t sender, size_t i, size_t *len)
{
    const sender_t *s = &self->senders[sender];
    *len = s->len[i];
    return s->env[i];
}

static void count_final(load_stats_t *st, int status)
{
    switch (status) {
    case JOINEDREVIEW__V1__ACK__STATUS__OK:
        st->ok++;
        break;
    case JOINEDREVIEW__V1__ACK__STATUS__DUPLICATE:
        st->duplicate++;
        break;
    case JOINEDREVIEW__V1__ACK__STATUS__PARKED:
        st->parked++;
        break;
    default:
        st->rejected++;
        break;
    }
}

/* A final answer: its latency, counted. */
static void on_outcome(void *ctx, const char *stream, const char *id, int status, const char *code,
                       const char *reason, void *user)
{
    sender_t *s = ctx;
    (void)stream;
    (void)id;
    (void)code;
    (void)reason;
    if (status == JR_CLIENT_ABANDONED) {
        return; /* the run failed; not an answer */
    }
    size_t i = (size_t)(uintptr_t)user - 1;
    int64_t now = load_now_ns();
    s->latency_ns[i] = now - s->sent_ns[i];
    s->stats.last_ack_ns = now;
    s->last_answer_ns = now;
    count_final(&s->stats, status);
    s->done++;
    atomic_fetch_add(&s->load->acked, 1);
}

/* Reads answers until at most `most` envelopes are in flight; -1 when the
 * daemon has answered nothing for 60 s, or the socket failed. */
static int wait_for_room(sender_t *s, jr_client_t *client, size_t most)
{
    while (jr_client_pending(client) > most) {
        int rc = jr_client_poll(client, 1000);
        if (rc < 0) {
            fprintf(stderr, "load: sender %zu: %s\n", s->index, jr_client_strerror(rc));
            return -1;
        }
        if (load_now_ns() - s->last_answer_ns > SILENCE_NS) {
            fprintf(stderr, "load: sender %zu: no answer for 60 s, %zu of %zu acknowledged\n",
                    s->index, s->done, s->n);
            return -1;
        }
    }
    return 0;
}

static int run_sender(sender_t *s, jr_client_t *client)
{
    size_t window = (size_t)s->load->window;
    s->stats.events = s->n;
    s->last_answer_ns = load_now_ns();
    for (size_t i = 0; i < s->n; i++) {
        /* Room first, so that the clock starts when the envelope goes out. */
        if (wait_for_room(s, client, window - 1) != 0) {
            return -1;
        }
        int64_t now = load_now_ns();
        if (i == 0) {
            s->stats.first_send_ns = now;
        }
        s->sent_ns[i] = now;
        int rc = jr_client_submit_packed(client, s->env[i], s->len[i], (void *)(uintptr_t)(i + 1));
        if (rc != 0) {
            fprintf(stderr, "load: sender %zu: %s\n", s->index, jr_client_strerror(rc));
            return -1;
        }
    }
    return wait_for_room(s, client, 0);
}

static void *sender_main(void *arg)
{
    sender_t *s = arg;
    load_t *l = s->load;
    s->sent_ns = calloc(s->n ? s->n : 1, sizeof *s->sent_ns);
    s->latency_ns = malloc((s->n ? s->n : 1) * sizeof *s->latency_ns);
    /* Room for a whole window each way, so a full receive queue never makes
     * the daemon drop acks; a resend only after the silence that fails the
     * run anyway (the daemon answers every envelope it holds). */
    jr_client_options_t o = {
        .window = (size_t)l->window,
        .ack_timeout_ms = SILENCE_MS,
        .retry_backoff_ms = RETRY_DELAY_MS,
        .max_backoff_ms = SILENCE_MS,
        .sndhwm = l->window + 1000,
        .rcvhwm = l->window + 1000,
        .on_outcome = on_outcome,
        .ctx = s,
        .zmq_context = l->zctx,
    };
    jr_client_t *client = jr_client_new(l->endpoint, &o);
    s->failed = 1;
    if (s->sent_ns != NULL && s->latency_ns != NULL && client != NULL) {
        for (size_t i = 0; i < s->n; i++) {
            s->latency_ns[i] = -1;
        }
        s->failed = run_sender(s, client) != 0;
        jr_client_stats_t st;
        jr_client_stats(client, &st);
        s->stats.retried = st.retry_later;
        s->stats.stray = st.stray_acks;
    } else {
        fprintf(stderr, "load: sender %zu cannot start\n", s->index);
    }
    jr_client_destroy(&client);
    atomic_fetch_add(&l->stopped, 1);
    return NULL;
}

int load_start(load_t *self, void *zctx, const char *endpoint)
{
    self->zctx = zctx;
    self->endpoint = endpoint;
    for (size_t i = 0; i < self->n_senders; i++) {
        if (pthread_create(&self->senders[i].thread, NULL, sender_main, &self->senders[i]) != 0) {
            /* The ones started run to the end; load_wait reports failure. */
            atomic_fetch_add(&self->stopped, self->n_senders - i);
            return -1;
        }
        self->running++;
    }
    return 0;
}

size_t load_acked(const load_t *self)
{
    return atomic_load(&((load_t *)self)->acked);
}

int load_finished(const load_t *self)
{
    return atomic_load(&((load_t *)self)->stopped) >= self->n_senders;
}

int load_wait(load_t *self)
{
    int rc = self->running == self->n_senders ? 0 : -1;
    for (size_t i = 0; i < self->running; i++) {
        pthread_join(self->senders[i].thread, NULL);
        rc |= self->senders[i].failed ? -1 : 0;
    }
    self->running = 0;
    return rc;
}

void load_stats(const load_t *self, size_t sender, load_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < self->n_senders; i++) {
        if (sender != SIZE_MAX && sender != i) {
            continue;
        }
        const load_stats_t *st = &self->senders[i].stats;
        out->events += self->senders[i].n;
        out->ok += st->ok;
        out->duplicate += st->duplicate;
        out->parked += st->parked;
        out->rejected += st->rejected;
        out->retried += st->retried;
        out->stray += st->stray;
        if (st->first_send_ns != 0 &&
            (out->first_send_ns == 0 || st->first_send_ns < out->first_send_ns)) {
            out->first_send_ns = st->first_send_ns;
        }
        if (st->last_ack_ns > out->last_ack_ns) {
            out->last_ack_ns = st->last_ack_ns;
        }
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int load_latency(const load_t *self, const double *fractions, size_t n, int64_t *out)
{
    size_t total = 0;
    for (size_t i = 0; i < self->n_senders; i++) {
        total += self->senders[i].n;
    }
    int64_t *all = malloc((total ? total : 1) * sizeof *all);
    if (all == NULL) {
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < self->n_senders; i++) {
        const sender_t *s = &self->senders[i];
        for (size_t j = 0; s->latency_ns != NULL && j < s->n; j++) {
            if (s->latency_ns[j] >= 0) {
                all[k++] = s->latency_ns[j];
            }
        }
    }
    if (k == 0) {
        free(all);
        return -1;
    }
    qsort(all, k, sizeof *all, cmp_i64);
    for (size_t f = 0; f < n; f++) {
        size_t rank = (size_t)(fractions[f] * (double)k + 0.999999);
        out[f] = all[rank == 0 ? 0 : rank > k ? k - 1 : rank - 1];
    }
    free(all);
    return 0;
}

long load_proc_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t klen = strlen(key);
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, klen) == 0) {
            kb = strtol(line + klen, NULL, 10);
            break;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kb;
}
