/* rejects.c -- see rejects.h. */
#include "rejects.h"

#include <csv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct jr_rejects {
    char *path;
    const jr_csvin_row_t *header;
    FILE *f;
    int reason_col; /* the input's own "reason" column, or -1 */
    bool exists;
    uint64_t written;
};

jr_rejects_t *jr_rejects_open(const char *path, const jr_csvin_row_t *header, uint64_t keep_bytes)
{
    jr_rejects_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        errno = ENOMEM;
        return NULL;
    }
    self->header = header;
    self->reason_col = jr_csvin_row_column(header, "reason");
    struct stat st;
    bool present = stat(path, &st) == 0;
    if (keep_bytes == 0) {
        /* Rows refused after the last checkpoint (or by an unrelated earlier
         * run) are refused again and rewritten. */
        if (present && unlink(path) != 0)
            goto fail;
    } else {
        if (!present || (uint64_t)st.st_size < keep_bytes) {
            errno = ERANGE;
            goto fail;
        }
        if (truncate(path, (off_t)keep_bytes) != 0)
            goto fail;
        self->f = fopen(path, "ab");
        if (!self->f || fseek(self->f, 0, SEEK_END) != 0)
            goto fail;
        self->exists = true;
    }
    return self;
fail:;
    int err = errno;
    jr_rejects_close(&self);
    errno = err;
    return NULL;
}

static int put_field(FILE *f, const char *s, size_t len, bool first)
{
    if (!first && fputc(',', f) == EOF)
        return -1;
    return csv_fwrite(f, s, len) == 0 ? 0 : -1;
}

static int write_header(jr_rejects_t *self)
{
    FILE *f = self->f;
    if (fputs("\xEF\xBB\xBF", f) == EOF)
        return -1;
    size_t n = jr_csvin_row_fields(self->header);
    for (size_t c = 0; c < n; c++) {
        const char *h = jr_csvin_row_field(self->header, c, NULL);
        if (put_field(f, h, strlen(h), c == 0) < 0)
            return -1;
    }
    if (self->reason_col < 0 && put_field(f, "reason", 6, n == 0) < 0)
        return -1;
    return fputs("\r\n", f) == EOF ? -1 : 0;
}

/* Fields first..n-1 of `row` as one field, joined with the commas that
 * split them: the surplus of a row wider than the header. */
static int put_joined(FILE *f, const jr_csvin_row_t *row, size_t first, size_t n, bool lead)
{
    size_t total = 0;
    for (size_t c = first; c < n; c++) {
        size_t len;
        jr_csvin_row_field(row, c, &len);
        total += len + 1;
    }
    char *buf = malloc(total ? total : 1);
    if (!buf)
        return -1;
    size_t at = 0;
    for (size_t c = first; c < n; c++) {
        size_t len;
        const char *v = jr_csvin_row_field(row, c, &len);
        if (c > first)
            buf[at++] = ',';
        memcpy(buf + at, v, len);
        at += len;
    }
    int rc = put_field(f, buf, at, lead);
    free(buf);
    return rc;
}

int jr_rejects_write(jr_rejects_t *self, const jr_csvin_row_t *row, const char *reason)
{
    if (!self->f) {
        self->f = fopen(self->path, "wb");
        if (!self->f || write_header(self) < 0)
            return -1;
        self->exists = true;
    }
    FILE *f = self->f;
    size_t n = jr_csvin_row_fields(row);
    size_t cols = jr_csvin_row_fields(self->header);
    /* Exactly the header's columns, whatever the row's width: a short row
     * is padded, and the surplus of a long one is joined into the last
     * column before the reason, so the reason is always in its column. */
    size_t width = self->reason_col >= 0 ? cols : cols + 1;
    size_t reason_at = self->reason_col >= 0 ? (size_t)self->reason_col : cols;
    size_t last = reason_at == width - 1 ? width - 2 : width - 1; /* wraps when width is 1 */
    for (size_t c = 0; c < width; c++) {
        int rc;
        if (c == reason_at) {
            rc = put_field(f, reason, strlen(reason), c == 0);
        } else if (c == last && n > c + 1) {
            rc = put_joined(f, row, c, n, c == 0);
        } else {
            size_t len = 0;
            const char *v = c < n ? jr_csvin_row_field(row, c, &len) : "";
            rc = put_field(f, v, len, c == 0);
        }
        if (rc < 0)
            return -1;
    }
    if (fputs("\r\n", f) == EOF)
        return -1;
    self->written++;
    return 0;
}

int jr_rejects_sync(jr_rejects_t *self, uint64_t *bytes)
{
    *bytes = 0;
    if (!self->f)
        return 0;
    if (fflush(self->f) != 0 || fsync(fileno(self->f)) != 0)
        return -1;
    long pos = ftell(self->f);
    if (pos < 0)
        return -1;
    *bytes = (uint64_t)pos;
    return 0;
}

uint64_t jr_rejects_count(const jr_rejects_t *self)
{
    return self->written;
}

int jr_rejects_exists(const jr_rejects_t *self)
{
    return self->exists;
}

void jr_rejects_close(jr_rejects_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jr_rejects_t *self = *self_p;
    if (self->f)
        fclose(self->f);
    free(self->path);
    free(self);
    *self_p = NULL;
}
