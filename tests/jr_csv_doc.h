/* jr_csv_doc.h -- for tests: a whole CSV text read with the adapter's
 * streaming reader (csvin) into memory, every row kept, so that a test can
 * look at any row. The adapter itself never holds a file like this. */
#ifndef JR_CSV_DOC_H
#define JR_CSV_DOC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvin.h"

typedef struct {
    jr_csvin_row_t *header;
    jr_csvin_row_t **rows; /* data rows */
    size_t n;
    int torn;
    char encoding[64];
} jr_csv_doc_t;

static inline void jr_csv_doc_destroy(jr_csv_doc_t **doc_p)
{
    if (!doc_p || !*doc_p)
        return;
    jr_csv_doc_t *doc = *doc_p;
    jr_csvin_row_destroy(&doc->header);
    for (size_t i = 0; i < doc->n; i++)
        jr_csvin_row_destroy(&doc->rows[i]);
    free(doc->rows);
    free(doc);
    *doc_p = NULL;
}

/* Takes the rows the reader has completed. 0, or -1 when out of memory. */
static inline int jr_csv_doc_take(jr_csv_doc_t *doc, jr_csvin_t *csv)
{
    const jr_csvin_row_t *row;
    while ((row = jr_csvin_next(csv)) != NULL) {
        jr_csvin_row_t *copy = jr_csvin_row_copy(row);
        if (!copy)
            return -1;
        if (!doc->header) {
            doc->header = copy;
            continue;
        }
        jr_csvin_row_t **rows = realloc(doc->rows, (doc->n + 1) * sizeof *rows);
        if (!rows) {
            jr_csvin_row_destroy(&copy);
            return -1;
        }
        doc->rows = rows;
        doc->rows[doc->n++] = copy;
    }
    return 0;
}

/* Reads `len` bytes of CSV in `encoding` (NULL: UTF-8), fed `step` bytes at
 * a time (0: all at once). NULL with csvin's reason in why. */
static inline jr_csv_doc_t *jr_csv_doc_parse_in(const void *data, size_t len, const char *encoding,
                                                size_t step, char *why, size_t why_len)
{
    jr_csvin_t *csv = jr_csvin_new(encoding, why, why_len);
    jr_csv_doc_t *doc = calloc(1, sizeof *doc);
    if (!csv || !doc) {
        jr_csvin_destroy(&csv);
        free(doc);
        return NULL;
    }
    const char *p = data;
    size_t left = len;
    int rc = 0;
    while (rc == 0 && left > 0) {
        size_t n = step && step < left ? step : left;
        rc = jr_csvin_feed(csv, p, n) == 0 && jr_csv_doc_take(doc, csv) == 0 ? 0 : -1;
        p += n;
        left -= n;
    }
    if (rc == 0)
        rc = jr_csvin_finish(csv) == 0 && jr_csv_doc_take(doc, csv) == 0 ? 0 : -1;
    doc->torn = jr_csvin_torn(csv);
    snprintf(doc->encoding, sizeof doc->encoding, "%s", jr_csvin_encoding(csv));
    if (rc != 0) {
        snprintf(why, why_len, "%s", jr_csvin_error(csv));
        jr_csv_doc_destroy(&doc);
    }
    jr_csvin_destroy(&csv);
    return doc;
}

static inline jr_csv_doc_t *jr_csv_doc_parse(const void *data, size_t len, char *why,
                                             size_t why_len)
{
    return jr_csv_doc_parse_in(data, len, NULL, 0, why, why_len);
}

#endif
