/* load.c -- see load.h. */
#include "load.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define SILENCE_NS     (60LL * 1000000000LL) /* no answer for this long: the run failed */
#define RETRY_DELAY_NS (50LL * 1000000LL)    /* RETRY_LATER: resend after 50 ms */

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

static void *dealer_new(void *zctx, const char *endpoint, int window)
{
    void *sock = zmq_socket(zctx, ZMQ_DEALER);
    if (sock == NULL) {
        return NULL;
    }
    /* Room for a whole window each way, set before connecting so that the
     * pipe gets it: a full receive queue would make the daemon drop acks. */
    int zero = 0, hwm = window + 1000;
    if (zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
        zmq_connect(sock, endpoint) != 0) {
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

static int send_one(void *dealer, const sender_t *s, size_t i)
{
    while (zmq_send(dealer, s->env[i], s->len[i], 0) < 0) {
        if (zmq_errno() != EINTR) {
            fprintf(stderr, "load: sender %zu: send: %s\n", s->index, zmq_strerror(zmq_errno()));
            return -1;
        }
    }
    return 0;
}

/* The next ack already received, or NULL. */
static Joinedreview__V1__Ack *ack_recv(void *dealer)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, dealer, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&msg);
        return NULL;
    }
    Joinedreview__V1__Ack *ack =
        joinedreview__v1__ack__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
    zmq_msg_close(&msg);
    return ack;
}

/* The queue position an ack answers: sent, not finally answered yet, and
 * of the stream the ack names. */
static int ack_match(const sender_t *s, size_t sent, const Joinedreview__V1__Ack *ack, size_t *i)
{
    if (ack == NULL || ack->stream == NULL || ack->source_event_id == NULL) {
        return 0;
    }
    const char *dash = strrchr(ack->source_event_id, '-');
    if (dash == NULL || dash[1] < '0' || dash[1] > '9') {
        return 0;
    }
    char *end = NULL;
    unsigned long long k = strtoull(dash + 1, &end, 10);
    if (*end != '\0' || k >= sent || s->latency_ns[k] >= 0 ||
        strcmp(s->stream[k], ack->stream) != 0) {
        return 0;
    }
    *i = (size_t)k;
    return 1;
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

/* A ring of envelopes answered RETRY_LATER, in the order they are due. */
typedef struct {
    size_t *item;
    int64_t *due_ns;
    size_t cap, head, n;
} retry_t;

static int run_sender(sender_t *s, void *dealer, retry_t *rq)
{
    load_t *l = s->load;
    size_t next = 0, done = 0, in_flight = 0;
    int64_t last_answer = load_now_ns();
    s->stats.events = s->n;
    while (done < s->n) {
        int64_t now = load_now_ns();
        while (rq->n > 0 && rq->due_ns[rq->head] <= now) {
            if (send_one(dealer, s, rq->item[rq->head]) != 0) {
                return -1;
            }
            rq->head = (rq->head + 1) % rq->cap;
            rq->n--;
        }
        while (next < s->n && in_flight < (size_t)l->window) {
            if (next == 0) {
                s->stats.first_send_ns = now;
            }
            s->sent_ns[next] = now;
            if (send_one(dealer, s, next) != 0) {
                return -1;
            }
            next++;
            in_flight++;
        }
        long timeout_ms = 1000;
        if (rq->n > 0) {
            int64_t wait = (rq->due_ns[rq->head] - now) / 1000000 + 1;
            timeout_ms = wait < timeout_ms ? (long)wait : timeout_ms;
        }
        zmq_pollitem_t it = {dealer, 0, ZMQ_POLLIN, 0};
        int ready = zmq_poll(&it, 1, timeout_ms);
        if (ready < 0 && zmq_errno() != EINTR) {
            fprintf(stderr, "load: sender %zu: poll: %s\n", s->index, zmq_strerror(zmq_errno()));
            return -1;
        }
        now = load_now_ns();
        Joinedreview__V1__Ack *ack;
        while (ready > 0 && (ack = ack_recv(dealer)) != NULL) {
            size_t i = 0;
            last_answer = now;
            if (!ack_match(s, next, ack, &i)) {
                s->stats.stray++;
            } else if (ack->status == JOINEDREVIEW__V1__ACK__STATUS__RETRY_LATER) {
                s->stats.retried++;
                size_t tail = (rq->head + rq->n) % rq->cap;
                rq->item[tail] = i;
                rq->due_ns[tail] = now + RETRY_DELAY_NS;
                rq->n++;
            } else {
                s->latency_ns[i] = now - s->sent_ns[i];
                s->stats.last_ack_ns = now;
                count_final(&s->stats, ack->status);
                done++;
                in_flight--;
                atomic_fetch_add(&l->acked, 1);
            }
            joinedreview__v1__ack__free_unpacked(ack, NULL);
        }
        if (now - last_answer > SILENCE_NS) {
            fprintf(stderr, "load: sender %zu: no answer for 60 s, %zu of %zu acknowledged\n",
                    s->index, done, s->n);
            return -1;
        }
    }
    return 0;
}

static void *sender_main(void *arg)
{
    sender_t *s = arg;
    load_t *l = s->load;
    retry_t rq = {0};
    rq.cap = (size_t)l->window;
    rq.item = calloc(rq.cap, sizeof *rq.item);
    rq.due_ns = calloc(rq.cap, sizeof *rq.due_ns);
    s->sent_ns = calloc(s->n ? s->n : 1, sizeof *s->sent_ns);
    s->latency_ns = malloc((s->n ? s->n : 1) * sizeof *s->latency_ns);
    void *dealer = dealer_new(l->zctx, l->endpoint, l->window);
    s->failed = 1;
    if (rq.item != NULL && rq.due_ns != NULL && s->sent_ns != NULL && s->latency_ns != NULL &&
        dealer != NULL) {
        for (size_t i = 0; i < s->n; i++) {
            s->latency_ns[i] = -1;
        }
        s->failed = run_sender(s, dealer, &rq) != 0;
    } else {
        fprintf(stderr, "load: sender %zu cannot start\n", s->index);
    }
    if (dealer != NULL) {
        zmq_close(dealer);
    }
    free(rq.item);
    free(rq.due_ns);
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
