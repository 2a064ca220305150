/* metrics.c -- see metrics.h. */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds of the buckets in microseconds, and as Prometheus prints them. */
static const uint64_t bucket_us[JR_METRICS_BUCKETS] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const char *const bucket_le[JR_METRICS_BUCKETS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"};
static const char *const ack_names[JR_METRICS_ACK_STATUSES] = {"ok", "duplicate", "parked",
                                                               "rejected", "retry_later"};

struct jr_metrics {
    _Atomic uint64_t acks[JR_METRICS_ACK_STATUSES];
    /* Per bucket, not cumulative; the last slot is above every bound. */
    _Atomic uint64_t commits[JR_METRICS_BUCKETS + 1];
    _Atomic uint64_t commit_us_sum;
    _Atomic uint64_t reconnects;
};

jr_metrics_t *jr_metrics_new(void)
{
    jr_metrics_t *self = calloc(1, sizeof *self);
    return self;
}

void jr_metrics_destroy(jr_metrics_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free(*self_p);
    *self_p = NULL;
}

void jr_metrics_ack(jr_metrics_t *self, int status)
{
    if (self != NULL && status >= 1 && status <= JR_METRICS_ACK_STATUSES) {
        atomic_fetch_add_explicit(&self->acks[status - 1], 1, memory_order_relaxed);
    }
}

void jr_metrics_commit_us(jr_metrics_t *self, uint64_t us)
{
    if (self == NULL) {
        return;
    }
    size_t i = 0;
    while (i < JR_METRICS_BUCKETS && us > bucket_us[i]) {
        i++;
    }
    atomic_fetch_add_explicit(&self->commits[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&self->commit_us_sum, us, memory_order_relaxed);
}

void jr_metrics_db_reconnect(jr_metrics_t *self)
{
    if (self != NULL) {
        atomic_fetch_add_explicit(&self->reconnects, 1, memory_order_relaxed);
    }
}

typedef struct {
    char *out;
    size_t len, used;
    int failed;
} text_t;

__attribute__((format(printf, 2, 3))) static void put(text_t *t, const char *fmt, ...)
{
    if (t->failed) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->out + t->used, t->len - t->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->len - t->used) {
        t->failed = 1;
        return;
    }
    t->used += (size_t)n;
}

int jr_metrics_format(const jr_metrics_t *self, char *out, size_t len)
{
    if (len == 0) {
        return -1;
    }
    text_t t = {out, len, 0, 0};
    out[0] = '\0';
    jr_metrics_t *m = (jr_metrics_t *)self; /* atomic loads take non-const */
    put(&t, "# HELP joinedreviewd_acks_total Acknowledgements sent to adapters, by status.\n"
            "# TYPE joinedreviewd_acks_total counter\n");
    for (size_t i = 0; i < JR_METRICS_ACK_STATUSES; i++) {
        put(&t, "joinedreviewd_acks_total{status=\"%s\"} %llu\n", ack_names[i],
            (unsigned long long)atomic_load(&m->acks[i]));
    }
    put(&t, "# HELP joinedreviewd_batch_commit_seconds Time to write and commit one batch.\n"
            "# TYPE joinedreviewd_batch_commit_seconds histogram\n");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < JR_METRICS_BUCKETS; i++) {
        cumulative += atomic_load(&m->commits[i]);
        put(&t, "joinedreviewd_batch_commit_seconds_bucket{le=\"%s\"} %llu\n", bucket_le[i],
            (unsigned long long)cumulative);
    }
    cumulative += atomic_load(&m->commits[JR_METRICS_BUCKETS]);
    uint64_t sum = atomic_load(&m->commit_us_sum);
    put(&t,
        "joinedreviewd_batch_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
        "joinedreviewd_batch_commit_seconds_sum %llu.%06llu\n"
        "joinedreviewd_batch_commit_seconds_count %llu\n",
        (unsigned long long)cumulative, (unsigned long long)(sum / 1000000),
        (unsigned long long)(sum % 1000000), (unsigned long long)cumulative);
    put(&t,
        "# HELP joinedreviewd_database_reconnects_total Times the database connection was made "
        "again after it was lost.\n"
        "# TYPE joinedreviewd_database_reconnects_total counter\n"
        "joinedreviewd_database_reconnects_total %llu\n",
        (unsigned long long)atomic_load(&m->reconnects));
    return t.failed ? -1 : (int)t.used;
}

/* ---- the endpoint ------------------------------------------------------- */

struct jr_metrics_server {
    struct MHD_Daemon *mhd;
    jr_metrics_t *metrics;
    unsigned port;
};

enum { TEXT_MAX = 8192 };

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    jr_metrics_server_t *s = cls;
    (void)version;
    (void)upload_data;
    (void)con_cls;
    if (*upload_data_size != 0) {
        return MHD_NO; /* nothing here takes a body */
    }
    unsigned code = MHD_HTTP_OK;
    char *body = malloc(TEXT_MAX);
    const char *type = "text/plain; version=0.0.4; charset=utf-8";
    int n = -1;
    if (body == NULL) {
        return MHD_NO;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        code = MHD_HTTP_METHOD_NOT_ALLOWED;
        n = snprintf(body, TEXT_MAX, "GET only\n");
    } else if (strcmp(url, "/metrics") != 0) {
        code = MHD_HTTP_NOT_FOUND;
        n = snprintf(body, TEXT_MAX, "the figures are at /metrics\n");
    } else {
        n = jr_metrics_format(s->metrics, body, TEXT_MAX);
    }
    if (n < 0) {
        free(body);
        return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return rc;
}

jr_metrics_server_t *jr_metrics_server_start(jr_metrics_t *self, unsigned port)
{
    if (self == NULL || port > 65535) {
        errno = EINVAL;
        return NULL;
    }
    jr_metrics_server_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    s->metrics = self;
    /* Loopback only: the figures are for this machine's scraper (or
     * joinedreview-web), never the network. */
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
                              answer, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                              MHD_OPTION_CONNECTION_LIMIT, 8u, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                              8u, MHD_OPTION_CONNECTION_TIMEOUT, 4u,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384, MHD_OPTION_END);
    if (s->mhd == NULL) {
        free(s);
        errno = errno != 0 ? errno : EADDRINUSE;
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL ? info->port : port;
    return s;
}

unsigned jr_metrics_server_port(const jr_metrics_server_t *server)
{
    return server != NULL ? server->port : 0;
}

void jr_metrics_server_stop(jr_metrics_server_t **server_p)
{
    if (server_p == NULL || *server_p == NULL) {
        return;
    }
    MHD_stop_daemon((*server_p)->mhd);
    free(*server_p);
    *server_p = NULL;
}
