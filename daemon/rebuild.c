/* rebuild.c -- see rebuild.h. */
#include "rebuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"
#include "strmap.h"

/* The page's stored records (jr_store_pg_reviews_of()), found by
 * "nhs\x1fcycle". */
typedef struct {
    jr_store_rows_t rows;
    jr_strmap_t index; /* key -> row */
} old_records_t;

static void old_key(char out[32], const char *nhs, uint32_t cycle)
{
    snprintf(out, 32, "%s\x1f%u", nhs, cycle);
}

static int old_read(jr_store_pg_t *store, const char *const *nhs, size_t n, old_records_t *o)
{
    int rc = jr_store_pg_reviews_of(store, nhs, n, &o->rows);
    for (size_t i = 0; rc == JR_STORE_OK && i < o->rows.n; i++) {
        char key[32];
        bool added;
        old_key(key, o->rows.rows[i].nhs, o->rows.rows[i].cycle);
        if (jr_strmap_put(&o->index, key, i, &added) != 0) {
            rc = JR_STORE_RETRY;
        }
    }
    return rc;
}

static void old_clear(old_records_t *o)
{
    jr_store_rows_clear(&o->rows);
    jr_strmap_clear(&o->index);
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
static int compare(const jr_plan_t *plan, const old_records_t *old, page_out_t *w, size_t *records,
                   size_t *differed)
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
        const jr_store_row_t *was = at != NULL ? &old->rows.rows[*at] : NULL;
        if (was != NULL && was->envelope_len == len && memcmp(was->envelope, bytes, len) == 0) {
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
static int rebuild_page(jr_store_pg_t *store, const jr_batch_ctx_t *ctx,
                        const jr_stored_page_t *page, size_t *records, size_t *differed)
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
        rc = old_read(store, nhs, page->n, &old);
    }
    if (rc == JR_STORE_OK && jr_stored_decode(&stored, ctx->streams, rows.rows, rows.n) != 0) {
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

int jr_rebuild(jr_store_pg_t *store, const jr_batch_ctx_t *ctx, size_t *records, size_t *differed)
{
    *records = 0;
    *differed = 0;
    jr_stored_page_t *page = calloc(1, sizeof *page);
    char after[JR_NHS_LEN + 1] = "";
    int rc = page != NULL ? JR_STORE_OK : JR_STORE_RETRY;
    bool more = true;
    while (rc == JR_STORE_OK && more) {
        size_t count = 0;
        page->n = 0;
        rc = jr_store_pg_begin(store);
        if (rc == JR_STORE_OK) {
            rc = jr_store_pg_persons_page(store, after, JR_REBUILD_PAGE, jr_stored_page_add, page,
                                          &count);
        }
        if (rc == JR_STORE_OK && page->n > 0) {
            rc = rebuild_page(store, ctx, page, records, differed);
            snprintf(after, sizeof after, "%s", page->v[page->n - 1].nhs);
        }
        if (rc == JR_STORE_OK) {
            rc = jr_store_pg_commit(store);
        } else {
            jr_store_pg_rollback(store);
        }
        more = page->n == JR_REBUILD_PAGE;
    }
    free(page);
    return rc;
}
