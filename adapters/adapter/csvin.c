/* csvin.c -- see csvin.h. */
#include "csvin.h"

#include <csv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    size_t offset; /* into arena */
    size_t len;
} field_t;

typedef struct {
    size_t first; /* index of its first field */
    size_t count;
    unsigned long line;
} record_t;

struct jr_csvin {
    char *arena; /* every field's bytes, each followed by a NUL */
    size_t arena_len, arena_cap;
    field_t *fields;
    size_t n_fields, cap_fields;
    record_t *recs; /* recs[0] is the header */
    size_t n_recs, cap_recs;

    /* While parsing. */
    size_t rec_first;           /* first field of the record being read */
    unsigned long line;         /* line of the chunk being fed */
    unsigned long rec_newlines; /* line breaks inside the record's quoted fields */
    bool failed;                /* out of memory, or too many fields */
    const char *fail_why;
};

static bool grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return false;
        n *= 2;
    }
    void *p = realloc(*buf, n * elem);
    if (!p)
        return false;
    *buf = p;
    *cap = n;
    return true;
}

static void on_field(void *s, size_t len, void *data)
{
    jr_csvin_t *self = data;
    if (self->failed)
        return;
    if (self->n_fields - self->rec_first >= JR_CSVIN_MAX_FIELDS) {
        self->failed = true;
        self->fail_why = "a row has more than 1000 fields";
        return;
    }
    if (!grow((void **)&self->arena, &self->arena_cap, self->arena_len + len + 1, 1) ||
        !grow((void **)&self->fields, &self->cap_fields, self->n_fields + 1, sizeof(field_t))) {
        self->failed = true;
        self->fail_why = "out of memory";
        return;
    }
    if (len)
        memcpy(self->arena + self->arena_len, s, len);
    self->arena[self->arena_len + len] = '\0';
    self->fields[self->n_fields++] = (field_t){self->arena_len, len};
    self->arena_len += len + 1;
    for (size_t i = 0; i < len; i++)
        self->rec_newlines += ((const char *)s)[i] == '\n';
}

static void on_record(int term, void *data)
{
    (void)term;
    jr_csvin_t *self = data;
    if (self->failed)
        return;
    size_t count = self->n_fields - self->rec_first;
    /* A line holding only spaces comes through as one empty field: it is a
     * blank line, not a row. */
    if (count == 1 && self->fields[self->rec_first].len == 0) {
        self->n_fields = self->rec_first;
        self->rec_newlines = 0;
        return;
    }
    if (!grow((void **)&self->recs, &self->cap_recs, self->n_recs + 1, sizeof(record_t))) {
        self->failed = true;
        self->fail_why = "out of memory";
        return;
    }
    self->recs[self->n_recs++] = (record_t){
        .first = self->rec_first,
        .count = count,
        .line = self->line - self->rec_newlines,
    };
    self->rec_first = self->n_fields;
    self->rec_newlines = 0;
}

jr_csvin_t *jr_csvin_parse(const void *data, size_t len, char *why, size_t why_len)
{
    const unsigned char *p = data;
    struct csv_parser parser;
    jr_csvin_t *self = calloc(1, sizeof *self);
    if (!self || csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        snprintf(why, why_len, "out of memory");
        free(self);
        return NULL;
    }
    /* A UTF-8 byte-order mark, as Excel writes "CSV UTF-8", is not data. */
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        p += 3;
        len -= 3;
    }

    /* Fed a line at a time, so that a record's end is known to lie on the
     * line being fed; its first line follows from the line breaks inside it. */
    bool ok = true;
    size_t pos = 0;
    self->line = 0;
    while (ok && pos < len) {
        const unsigned char *nl = memchr(p + pos, '\n', len - pos);
        size_t chunk = nl ? (size_t)(nl - (p + pos)) + 1 : len - pos;
        self->line++;
        if (csv_parse(&parser, p + pos, chunk, on_field, on_record, self) != chunk)
            ok = false;
        pos += chunk;
        if (self->failed)
            ok = false;
    }
    if (ok && csv_fini(&parser, on_field, on_record, self) != 0)
        ok = false;
    if (ok && self->failed)
        ok = false;

    if (!ok) {
        if (self->failed)
            snprintf(why, why_len, "line %lu: %s", self->line, self->fail_why);
        else
            snprintf(why, why_len,
                     "line %lu: not well-formed CSV (%s): a quote inside an unquoted field, "
                     "text after a closing quote, or a quoted field that never ends",
                     self->line ? self->line : 1, csv_strerror(csv_error(&parser)));
        csv_free(&parser);
        jr_csvin_destroy(&self);
        return NULL;
    }
    csv_free(&parser);
    if (self->n_recs == 0) {
        snprintf(why, why_len, "the file is empty: a header row naming the columns is required");
        jr_csvin_destroy(&self);
        return NULL;
    }
    return self;
}

void jr_csvin_destroy(jr_csvin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jr_csvin_t *self = *self_p;
    free(self->arena);
    free(self->fields);
    free(self->recs);
    free(self);
    *self_p = NULL;
}

size_t jr_csvin_columns(const jr_csvin_t *self)
{
    return self->recs[0].count;
}

const char *jr_csvin_header(const jr_csvin_t *self, size_t col)
{
    if (col >= self->recs[0].count)
        return NULL;
    return self->arena + self->fields[self->recs[0].first + col].offset;
}

int jr_csvin_column(const jr_csvin_t *self, const char *name)
{
    int found = -1;
    for (size_t i = 0; i < self->recs[0].count; i++) {
        if (strcasecmp(jr_csvin_header(self, i), name) == 0) {
            if (found >= 0)
                return -2;
            found = (int)i;
        }
    }
    return found;
}

size_t jr_csvin_rows(const jr_csvin_t *self)
{
    return self->n_recs - 1;
}

size_t jr_csvin_fields(const jr_csvin_t *self, size_t row)
{
    return row + 1 < self->n_recs ? self->recs[row + 1].count : 0;
}

const char *jr_csvin_field(const jr_csvin_t *self, size_t row, size_t col, size_t *len)
{
    if (row + 1 >= self->n_recs || col >= self->recs[row + 1].count)
        return NULL;
    const field_t *f = &self->fields[self->recs[row + 1].first + col];
    if (len)
        *len = f->len;
    return self->arena + f->offset;
}

unsigned long jr_csvin_line(const jr_csvin_t *self, size_t row)
{
    return row + 1 < self->n_recs ? self->recs[row + 1].line : 0;
}
