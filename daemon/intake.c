/* intake.c -- one batch from the ingest socket: judged, written in one
 * transaction, acked, published; the ack counts and the ingest rate. */
#include "intake.h"

#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "chores.h"
#include "dbconn.h"
#include "outbox.h"

/* Counts n accepted events and publishes the rate for the catch-up thread. */
static void rate_add(jr_daemon_t *d, uint64_t n)
{
    int64_t now = jr_clock_mono_ms();
    jr_rate_add(&d->rate_window, now, n);
    atomic_store(&d->rate, jr_rate_per_second(&d->rate_window, now));
}

void jr_intake_rate_now(jr_daemon_t *d)
{
    rate_add(d, 0);
}

double jr_intake_rate(void *arg)
{
    jr_daemon_t *d = arg;
    return atomic_load(&d->rate);
}

static void count(jr_daemon_t *d, jr_ack_status_t st)
{
    jr_metrics_ack(d->metrics, (int)st);
    switch (st) {
    case JR_ACK_OK:
        d->n_ok++;
        rate_add(d, 1);
        break;
    case JR_ACK_DUPLICATE:
        d->n_duplicate++;
        break;
    case JR_ACK_PARKED:
        d->n_parked++;
        break;
    case JR_ACK_REJECTED:
        d->n_rejected++;
        break;
    case JR_ACK_RETRY_LATER:
        d->n_retry++;
        break;
    }
}

/* Frame checks, then the codec: fills the item's verdict. */
static void prepare_item(jr_daemon_t *d, jr_ingest_msg_t *m, jr_batch_item_t *it, char **stream,
                         char **seid)
{
    memset(it, 0, sizeof *it);
    it->raw = zmq_msg_data(&m->body);
    it->raw_len = zmq_msg_size(&m->body);
    it->sender = m->sender;
    if (m->verdict == JR_INGEST_BAD_FRAMES) {
        it->why.code = "BAD_FRAMES";
        snprintf(it->why.text, sizeof it->why.text,
                 "the message had %zu frames: send one Envelope frame from a DEALER (or one "
                 "after an empty delimiter from a REQ)",
                 m->frames);
        return;
    }
    if (m->verdict == JR_INGEST_TOO_LARGE) {
        it->why.code = "TOO_LARGE";
        snprintf(it->why.text, sizeof it->why.text,
                 "the envelope is %zu bytes; the most accepted is %d: shorten its texts",
                 it->raw_len, d->cfg->max_message_bytes);
        return;
    }
    jr_envelope_limits_t limits = {
        .max_text_bytes = (size_t)d->cfg->max_text_bytes,
        .now_ms = jr_clock_now_ms(&d->opt.clock),
        .future_tolerance_ms = (int64_t)d->cfg->future_tolerance_s * 1000,
    };
    it->decoded = jr_envelope_decode(it->raw, it->raw_len, d->cfg->streams, &limits, &it->ev,
                                     &it->why, stream, seid) == 0;
    it->stream = *stream;
    it->seid = *seid;
    /* Judged from the key the connection authenticated with, never from a
     * field the sender controls. */
    if (it->decoded && d->access != NULL &&
        !jr_access_may_push(d->access, m->user_id, it->ev.event.stream)) {
        it->why.code = "NOT_AUTHORISED";
        snprintf(it->why.text, sizeof it->why.text,
                 "not authorised for stream %s: this key may not push events for it",
                 it->ev.event.stream);
        it->decoded = 0;
        jr_envelope_clear(&it->ev);
    }
}

/* Writes the batch in one transaction, or answers RETRY_LATER to all of
 * it while the database is away; a session that failed is dropped. */
static int write_batch(jr_daemon_t *d, jr_batch_item_t *items, size_t n, jr_publications_t *pubs)
{
    int rc = JR_STORE_RETRY;
    if (jr_store_pg_connected(d->store)) {
        int64_t t0 = jr_clock_mono_us();
        jr_batch_ctx_t ctx = jr_daemon_batch_ctx(d);
        rc = jr_batch_write(d->store, &ctx, items, n, &d->last_seq, pubs);
        int64_t took = jr_clock_mono_us() - t0;
        jr_metrics_commit_us(d->metrics, (uint64_t)took);
        jr_log(JR_LOG_DEBUG, "batch", "%zu envelopes, %zu publications in %lld us", n, pubs->n,
               (long long)took);
    } else {
        for (size_t i = 0; i < n; i++) {
            items[i].status = JR_ACK_RETRY_LATER;
            items[i].code = "STORE_UNAVAILABLE";
            snprintf(items[i].reason, sizeof items[i].reason,
                     "the daemon cannot reach its database: resend later");
        }
    }
    if (rc == JR_STORE_RETRY && jr_store_pg_connected(d->store)) {
        jr_log(JR_LOG_WARNING, "store", "batch not stored: %s", jr_store_pg_error(d->store));
        jr_dbconn_drop(d);
    } else if (rc == JR_STORE_RETRY && !d->db.connecting) {
        jr_dbconn_step(d);
    }
    return rc;
}

/* Counts each verdict and sends its ack. */
static void ack(jr_daemon_t *d, jr_ingest_msg_t *msgs, jr_batch_item_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        jr_batch_item_t *it = &items[i];
        uint8_t *buf = NULL;
        size_t len = 0;
        count(d, it->status);
        if (it->status == JR_ACK_REJECTED) {
            jr_log(JR_LOG_NOTICE, "ingest", "rejected %s/%s from %s: %s: %s",
                   it->stream ? it->stream : "?", it->seid ? it->seid : "?", it->sender, it->code,
                   it->reason);
        }
        if (jr_envelope_encode_ack(it->stream, it->seid, it->status, it->code,
                                   it->reason[0] ? it->reason : NULL, &buf, &len) == 0) {
            jr_ingest_reply(d->ingest, &msgs[i], buf, len);
        }
        free(buf);
    }
}

void jr_intake_batch(jr_daemon_t *d)
{
    size_t max = (size_t)d->cfg->batch_max;
    jr_ingest_msg_t *msgs = calloc(max, sizeof *msgs);
    jr_batch_item_t *items = calloc(max, sizeof *items);
    char **ids = calloc(2 * max, sizeof *ids);
    if (msgs == NULL || items == NULL || ids == NULL) {
        jr_log(JR_LOG_ERR, "main", "out of memory for a batch of %zu", max);
        free(msgs);
        free(items);
        free(ids);
        return;
    }
    size_t n = 0;
    while (n < max && jr_ingest_recv(d->ingest, &msgs[n]) == 0) {
        prepare_item(d, &msgs[n], &items[n], &ids[2 * n], &ids[2 * n + 1]);
        n++;
    }
    if (n > 0) {
        jr_publications_t pubs = {0};
        int rc = write_batch(d, items, n, &pubs);
        ack(d, msgs, items, n);
        jr_outbox_publish(d, &pubs);
        if (rc == JR_STORE_OK) {
            jr_chores_due_check(d); /* notices the batch brought due (a review date moved) */
        }
    }
    for (size_t i = 0; i < n; i++) {
        jr_envelope_clear(&items[i].ev);
        jr_ingest_msg_close(&msgs[i]);
        free(ids[2 * i]);
        free(ids[2 * i + 1]);
    }
    free(msgs);
    free(items);
    free(ids);
}
