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
    const jr_csvin_t *csv;
    FILE *f;
    int reason_col; /* the input's own "reason" column, or -1 */
    bool exists;
    uint64_t written;
};

jr_rejects_t *jr_rejects_open(const char *path, const jr_csvin_t *csv, uint64_t keep_bytes)
{
    jr_rejects_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        errno = ENOMEM;
        return NULL;
    }
    self->csv = csv;
    self->reason_col = jr_csvin_column(csv, "reason");
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
    size_t n = jr_csvin_columns(self->csv);
    for (size_t c = 0; c < n; c++) {
        const char *h = jr_csvin_header(self->csv, c);
        if (put_field(f, h, strlen(h), c == 0) < 0)
            return -1;
    }
    if (self->reason_col < 0 && put_field(f, "reason", 6, n == 0) < 0)
        return -1;
    return fputs("\r\n", f) == EOF ? -1 : 0;
}

int jr_rejects_write(jr_rejects_t *self, size_t row, const char *reason)
{
    if (!self->f) {
        self->f = fopen(self->path, "wb");
        if (!self->f || write_header(self) < 0)
            return -1;
        self->exists = true;
    }
    FILE *f = self->f;
    size_t n = jr_csvin_fields(self->csv, row);
    size_t cols = jr_csvin_columns(self->csv);
    bool reason_written = false;
    for (size_t c = 0; c < n; c++) {
        size_t len;
        const char *v = jr_csvin_field(self->csv, row, c, &len);
        if ((int)c == self->reason_col) {
            v = reason;
            len = strlen(reason);
            reason_written = true;
        }
        if (put_field(f, v, len, c == 0) < 0)
            return -1;
    }
    if (!reason_written) {
        /* A short row is padded so that the reason lands in its column. */
        size_t col = self->reason_col >= 0 ? (size_t)self->reason_col : cols;
        for (size_t c = n; c < col; c++)
            if (put_field(f, "", 0, c == 0) < 0)
                return -1;
        if (put_field(f, reason, strlen(reason), n == 0 && col == 0) < 0)
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
