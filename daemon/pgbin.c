/* pgbin.c -- see pgbin.h. */
#include "pgbin.h"

#include <assert.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

/* Days and microseconds between the Unix epoch and PostgreSQL's
 * (2000-01-01). */
#define PG_EPOCH_DAYS 10957
#define PG_EPOCH_US   946684800000000LL

/* An array's header: dimensions, has-null flag, element type, then the
 * length and lower bound of its one dimension. */
enum { ARRAY_HEADER = 20, EMPTY_ARRAY = 12 };

void jr_pgbin_buf_free(jr_pgbin_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void jr_pgbin_put(jr_pgbin_buf_t *b, const void *p, size_t n)
{
    if (b->failed) {
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n) {
            cap *= 2;
        }
        uint8_t *data = realloc(b->data, cap);
        if (data == NULL) {
            b->failed = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

void jr_pgbin_put_u16(jr_pgbin_buf_t *b, uint16_t v)
{
    v = htobe16(v);
    jr_pgbin_put(b, &v, sizeof v);
}

void jr_pgbin_put_u32(jr_pgbin_buf_t *b, uint32_t v)
{
    v = htobe32(v);
    jr_pgbin_put(b, &v, sizeof v);
}

static void put_u64(jr_pgbin_buf_t *b, uint64_t v)
{
    v = htobe64(v);
    jr_pgbin_put(b, &v, sizeof v);
}

void jr_pgbin_value(jr_pgbin_buf_t *b, const void *p, size_t n)
{
    if (p == NULL) {
        jr_pgbin_put_u32(b, UINT32_MAX); /* -1 */
        return;
    }
    jr_pgbin_put_u32(b, (uint32_t)n);
    jr_pgbin_put(b, p, n);
}

void jr_pgbin_text(jr_pgbin_buf_t *b, const char *s)
{
    jr_pgbin_value(b, s, s ? strlen(s) : 0);
}

void jr_pgbin_int2(jr_pgbin_buf_t *b, int16_t v)
{
    jr_pgbin_put_u32(b, 2);
    jr_pgbin_put_u16(b, (uint16_t)v);
}

void jr_pgbin_int4(jr_pgbin_buf_t *b, int32_t v)
{
    jr_pgbin_put_u32(b, 4);
    jr_pgbin_put_u32(b, (uint32_t)v);
}

void jr_pgbin_int8(jr_pgbin_buf_t *b, int64_t v)
{
    jr_pgbin_put_u32(b, 8);
    put_u64(b, (uint64_t)v);
}

void jr_pgbin_bool(jr_pgbin_buf_t *b, bool v)
{
    uint8_t byte = v ? 1 : 0;
    jr_pgbin_value(b, &byte, 1);
}

void jr_pgbin_date(jr_pgbin_buf_t *b, jr_day_t day)
{
    if (day == JR_DAY_NONE) {
        jr_pgbin_value(b, NULL, 0);
    } else {
        jr_pgbin_int4(b, day - PG_EPOCH_DAYS);
    }
}

void jr_pgbin_date_bytes(jr_day_t day, uint8_t out[4])
{
    assert(day != JR_DAY_NONE);
    uint32_t v = htobe32((uint32_t)(day - PG_EPOCH_DAYS));
    memcpy(out, &v, sizeof v);
}

void jr_pgbin_timestamptz(jr_pgbin_buf_t *b, int64_t ms)
{
    jr_pgbin_int8(b, ms * 1000 - PG_EPOCH_US);
}

/* ---- arrays ---- */

void jr_pgbin_array_open(jr_pgbin_array_t *a, jr_pgbin_oid_t oid)
{
    memset(a, 0, sizeof *a);
    a->oid = oid;
    uint8_t header[ARRAY_HEADER] = {0};
    jr_pgbin_put(&a->b, header, sizeof header); /* filled by jr_pgbin_array_finish */
}

void jr_pgbin_array_text(jr_pgbin_array_t *a, const char *s)
{
    assert(a->oid == JR_PGBIN_TEXT);
    a->has_null |= s == NULL;
    jr_pgbin_text(&a->b, s);
    a->n++;
}

void jr_pgbin_array_bytea(jr_pgbin_array_t *a, const uint8_t *p, size_t n)
{
    assert(a->oid == JR_PGBIN_BYTEA);
    a->has_null |= p == NULL;
    jr_pgbin_value(&a->b, p, n);
    a->n++;
}

void jr_pgbin_array_int2(jr_pgbin_array_t *a, int16_t v)
{
    assert(a->oid == JR_PGBIN_INT2);
    jr_pgbin_int2(&a->b, v);
    a->n++;
}

void jr_pgbin_array_int4(jr_pgbin_array_t *a, int32_t v)
{
    assert(a->oid == JR_PGBIN_INT4);
    jr_pgbin_int4(&a->b, v);
    a->n++;
}

void jr_pgbin_array_int8(jr_pgbin_array_t *a, int64_t v)
{
    assert(a->oid == JR_PGBIN_INT8);
    jr_pgbin_int8(&a->b, v);
    a->n++;
}

void jr_pgbin_array_bool(jr_pgbin_array_t *a, bool v)
{
    assert(a->oid == JR_PGBIN_BOOL);
    jr_pgbin_bool(&a->b, v);
    a->n++;
}

void jr_pgbin_array_date(jr_pgbin_array_t *a, jr_day_t day)
{
    assert(a->oid == JR_PGBIN_DATE);
    a->has_null |= day == JR_DAY_NONE;
    jr_pgbin_date(&a->b, day);
    a->n++;
}

const uint8_t *jr_pgbin_array_finish(jr_pgbin_array_t *a, size_t *len)
{
    if (a->b.failed) {
        return NULL;
    }
    uint32_t header[5] = {htobe32(a->n ? 1 : 0), htobe32(a->has_null ? 1 : 0), htobe32(a->oid),
                          htobe32(a->n), htobe32(1)};
    memcpy(a->b.data, header, sizeof header);
    *len = a->n ? a->b.len : EMPTY_ARRAY; /* no dimension: no length, no lower bound */
    return a->b.data;
}

void jr_pgbin_array_free(jr_pgbin_array_t *a)
{
    jr_pgbin_buf_free(&a->b);
}

/* ---- COPY ---- */

void jr_pgbin_copy_header(jr_pgbin_buf_t *b)
{
    static const char signature[11] = "PGCOPY\n\377\r\n";
    jr_pgbin_put(b, signature, sizeof signature);
    jr_pgbin_put_u32(b, 0); /* flags: no OIDs */
    jr_pgbin_put_u32(b, 0); /* header extension: none */
}

void jr_pgbin_copy_row(jr_pgbin_buf_t *b, uint16_t fields)
{
    jr_pgbin_put_u16(b, fields);
}

void jr_pgbin_copy_trailer(jr_pgbin_buf_t *b)
{
    jr_pgbin_put_u16(b, UINT16_MAX); /* a field count of -1 */
}
