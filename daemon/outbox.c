/* outbox.c -- publications to the feeds after their commit; what a crash
 * left unpublished, again at start-up. */
#include "outbox.h"

void jr_outbox_publish(jr_daemon_t *d, jr_publications_t *pubs)
{
    for (size_t i = 0; i < pubs->n; i++) {
        jr_feeds_publish(d->feeds, pubs->items[i].topic, pubs->items[i].payload,
                         pubs->items[i].len);
        d->published_seq = pubs->items[i].seq;
    }
    if (pubs->n > 0 && jr_store_pg_connected(d->store)) {
        jr_store_pg_published_set(d->store, d->published_seq);
    }
    jr_publications_clear(pubs);
}

static int republish_one(void *arg, uint64_t seq, const char *topic, const uint8_t *payload,
                         size_t len)
{
    jr_daemon_t *d = arg;
    jr_feeds_publish(d->feeds, topic, payload, len);
    d->published_seq = seq;
    return JR_STORE_OK;
}

void jr_outbox_republish(jr_daemon_t *d)
{
    uint64_t from = 0;
    if (jr_store_pg_published_get(d->store, &from) != JR_STORE_OK) {
        return;
    }
    d->published_seq = from;
    size_t count = 0;
    do {
        if (jr_store_pg_outbox_after(d->store, d->published_seq, 1000, republish_one, d, &count) !=
            JR_STORE_OK) {
            return;
        }
    } while (count == 1000);
    if (d->published_seq > from) {
        jr_log(JR_LOG_NOTICE, "publish", "published %llu committed publications again (%llu..%llu)",
               (unsigned long long)(d->published_seq - from), (unsigned long long)from + 1,
               (unsigned long long)d->published_seq);
        jr_store_pg_published_set(d->store, d->published_seq);
    }
}
