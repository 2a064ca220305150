/* rebuild.c -- see rebuild.h. */
#include "rebuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"
#include "strmap.h"

typedef struct {
    jr_plan_cycle_t v[JR_REBUILD_PAGE];
    size_t n;
} page_t;

static int on_person(void *arg, const char *nhs, uint32_t cycle)
{
    page_t *p = arg;
    if (p->n < JR_REBUILD_PAGE) {
        snprintf(p->v[p->n].nhs, sizeof p->v[0].nhs, "%s", nhs);
        p->v[p->n++].cycle = cycle;
    }
    return JR_STORE_OK;
}

/* The page's stored records, by "nhs\x1fcycle". */
typedef struct {
    jr_strmap_t index; /* key -> position */
    uint8_t **bytes;
    size_t *len;
    size_t n, cap;
    int failed;
} old_records_t;

static void old_key(char out[32], const char *nhs, uint32_t cycle)
{
    snprintf(out, 32, "%s\x1f%u", nhs, cycle);
}

static void on_record(void *arg, const char *nhs, uint32_t cycle, const uint8_t *record,
                      size_t len)
{
    old_records_t *o = arg;
    if (o->failed) {
        return;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 256;
        uint8_t **bytes = realloc(o->bytes, cap * sizeof *bytes);
        size_t *lens = bytes ? realloc(o->len, cap * sizeof *lens) : NULL;
        if (bytes != NULL) {
            o->bytes = bytes;
        }
        if (lens == NULL) {
            o->failed = 1;
            return;
        }
        o->len = lens;
        o->cap = cap;
    }
    char key[32];
    bool added;
    old_key(key, nhs, cycle);
    o->bytes[o->n] = malloc(len ? len : 1);
    if (o->bytes[o->n] == NULL || jr_strmap_put(&o->index, key, o->n, &added) != 0) {
        free(o->bytes[o->n]);
        o->failed = 1;
        return;
    }
    memcpy(o->bytes[o->n], record, len);
    o->len[o->n++] = len;
}

static void old_clear(old_records_t *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->bytes[i]);
    }
    free(o->bytes);
    free(o->len);
    jr_strmap_clear(&o->index);
    memset(o, 0, sizeof *o);
}

/* What a page writes: the records that differ (their bytes owned) and every
 * person's due row, borrowing from the plans kept alongside. */
typedef struct {
    jr_store_review_t *records;
    uint8_t **bytes;
    size_t n_records, cap_records;
    jr_store_schedule_t due[JR_REBUILD_PAGE];
    size_t n_due;
    jr_plan_t *plans[JR_REBUILD_PAGE];
    size_t n_plans;
} page_out_t;

static void page_out_clear(page_out_t *w)
{
    for (size_t i = 0; i < w->n_records; i++) {
        free(w->bytes[i]);
    }
    free(w->records);
    free(w->bytes);
    for (size_t i = 0; i < w->n_plans; i++) {
        jr_plan_destroy(&w->plans[i]);
    }
    memset(w, 0, sizeof *w);
}

/* Compares one person's recomputed records with the stored ones; those
 * that differ join w. */
static int compare(const jr_plan_t *plan, const old_records_t *old, page_out_t *w,
                   size_t *records, size_t *differed)
{
    for (size_t i = 0; i < plan->n_records; i++) {
        const jr_plan_record_t *r = &plan->records[i];
        jr_record_id_t id = {r->nhs, r->cycle, r->version, r->seq};
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (jr_record_encode_review(r->review, r->schedule, r->meeting, &id, &bytes, &len) != 0) {
            return -1;
        }
        (*records)++;
        char key[32];
        old_key(key, r->nhs, r->cycle);
        const size_t *at = jr_strmap_get(&old->index, key);
        if (at != NULL && old->len[*at] == len && memcmp(old->bytes[*at], bytes, len) == 0) {
            free(bytes);
            continue;
        }
        (*differed)++;
        jr_log(JR_LOG_WARNING, "rebuild", "record %s cycle %u differed from the log", r->nhs,
               r->cycle);
        if (w->n_records == w->cap_records) {
            size_t cap = w->cap_records ? 2 * w->cap_records : 64;
            jr_store_review_t *rows = realloc(w->records, cap * sizeof *rows);
            uint8_t **b = rows ? realloc(w->bytes, cap * sizeof *b) : NULL;
            if (rows != NULL) {
                w->records = rows;
            }
            if (b == NULL) {
                free(bytes);
                return -1;
            }
            w->bytes = b;
            w->cap_records = cap;
        }
        w->bytes[w->n_records] = bytes;
        w->records[w->n_records++] = jr_stored_review_row(r, bytes, len);
    }
    return 0;
}

/* One page: read, plan each person, write. */
static int rebuild_page(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, const page_t *page,
                        size_t *records, size_t *differed)
{
    const char *nhs[JR_REBUILD_PAGE];
    for (size_t i = 0; i < page->n; i++) {
        nhs[i] = page->v[i].nhs;
    }
    jr_store_rows_t rows = {0};
    jr_stored_t stored = {0};
    old_records_t old = {0};
    page_out_t *w = calloc(1, sizeof *w);
    int rc = w != NULL ? jr_store_pg_persons_events(store, nhs, page->n, &rows) : JR_STORE_RETRY;
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_reviews_of(store, nhs, page->n, on_record, &old);
    }
    if (rc == JR_STORE_OK &&
        (old.failed || jr_stored_decode(&stored, ctx->streams, rows.rows, rows.n) != 0)) {
        rc = JR_STORE_RETRY;
    }
    /* The events come grouped by person: each person's are a slice. */
    jr_strmap_t first = {0}; /* nhs -> where its slice starts */
    for (size_t i = 0; rc == JR_STORE_OK && i < stored.n; i++) {
        bool added;
        if ((i == 0 || strcmp(stored.v[i].nhs, stored.v[i - 1].nhs) != 0) &&
            jr_strmap_put(&first, stored.v[i].nhs, i, &added) != 0) {
            rc = JR_STORE_RETRY;
        }
    }
    jr_plan_ctx_t pctx = jr_stored_plan_ctx(ctx, 0);
    for (size_t i = 0; rc == JR_STORE_OK && i < page->n; i++) {
        const size_t *at = jr_strmap_get(&first, page->v[i].nhs);
        size_t from = at != NULL ? *at : stored.n, to = from;
        while (to < stored.n && strcmp(stored.v[to].nhs, page->v[i].nhs) == 0) {
            to++;
        }
        jr_plan_input_t in = {.stored = stored.v + from, .n_stored = to - from};
        jr_plan_t *plan = NULL;
        if (jr_plan_rebuild(&pctx, page->v[i].nhs, page->v[i].cycle, &in, &plan) != 0) {
            rc = JR_STORE_RETRY;
            break;
        }
        w->plans[w->n_plans++] = plan;
        if (compare(plan, &old, w, records, differed) != 0) {
            rc = JR_STORE_RETRY;
        }
        for (size_t k = 0; k < plan->n_due; k++) {
            w->due[w->n_due++] = jr_stored_due_row(&plan->due[k]);
        }
    }
    if (rc == JR_STORE_OK && w->n_records > 0) {
        rc = jr_store_pg_reviews_put(store, w->records, w->n_records);
    }
    if (rc == JR_STORE_OK && w->n_due > 0) {
        rc = jr_store_pg_schedules_put(store, w->due, w->n_due, NULL, NULL);
    }
    jr_strmap_clear(&first);
    if (w != NULL) {
        page_out_clear(w);
        free(w);
    }
    jr_stored_clear(&stored);
    old_clear(&old);
    jr_store_rows_clear(&rows);
    return rc;
}

int jr_rebuild(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, size_t *records,
               size_t *differed)
{
    *records = 0;
    *differed = 0;
    page_t *page = calloc(1, sizeof *page);
    char after[JR_NHS_LEN + 1] = "";
    int rc = page != NULL ? jr_store_pg_begin(store) : JR_STORE_RETRY;
    while (rc == JR_STORE_OK) {
        size_t count = 0;
        page->n = 0;
        rc = jr_store_pg_persons_page(store, after, JR_REBUILD_PAGE, on_person, page, &count);
        if (rc != JR_STORE_OK || page->n == 0) {
            break;
        }
        rc = rebuild_page(store, ctx, page, records, differed);
        snprintf(after, sizeof after, "%s", page->v[page->n - 1].nhs);
        if (page->n < JR_REBUILD_PAGE) {
            break;
        }
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_commit(store);
    } else {
        jr_store_pg_rollback(store);
    }
    free(page);
    return rc;
}
