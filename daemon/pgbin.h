/* pgbin.h -- PostgreSQL's binary formats, built in memory: values, one-
 * dimensional arrays (as array_recv reads them) and the rows of COPY ... FROM
 * STDIN (FORMAT binary). The store sends every array and date this way, so
 * elements are data and never parsed as SQL text.
 *
 * Pure: no I/O, no libpq. Everything is big-endian, as on the wire. Running
 * out of memory marks the buffer failed and makes every later write a no-op;
 * the caller checks `failed` once, at the end. */
#ifndef JR_PGBIN_H
#define JR_PGBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

/* The element types the store sends: their fixed OIDs (pg_type.dat). */
typedef enum {
    JR_PGBIN_BOOL = 16,
    JR_PGBIN_BYTEA = 17,
    JR_PGBIN_INT8 = 20,
    JR_PGBIN_INT2 = 21,
    JR_PGBIN_INT4 = 23,
    JR_PGBIN_TEXT = 25,
    JR_PGBIN_DATE = 1082,
} jr_pgbin_oid_t;

/* A growable byte buffer. Zero-initialised is empty; the caller frees data
 * (jr_pgbin_buf_free). */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    bool failed; /* out of memory: the buffer is unusable */
} jr_pgbin_buf_t;

void jr_pgbin_buf_free(jr_pgbin_buf_t *b);

/* Raw bytes and big-endian integers, unframed. */
void jr_pgbin_put(jr_pgbin_buf_t *b, const void *p, size_t n);
void jr_pgbin_put_u16(jr_pgbin_buf_t *b, uint16_t v);
void jr_pgbin_put_u32(jr_pgbin_buf_t *b, uint32_t v);

/* One framed value, as arrays and COPY rows hold them: its length (-1 for
 * NULL), then its bytes. p == NULL writes NULL. */
void jr_pgbin_value(jr_pgbin_buf_t *b, const void *p, size_t n);
void jr_pgbin_text(jr_pgbin_buf_t *b, const char *s); /* NULL: NULL */
void jr_pgbin_int2(jr_pgbin_buf_t *b, int16_t v);
void jr_pgbin_int4(jr_pgbin_buf_t *b, int32_t v);
void jr_pgbin_int8(jr_pgbin_buf_t *b, int64_t v);
void jr_pgbin_bool(jr_pgbin_buf_t *b, bool v);

/* A date: days since 2000-01-01, PostgreSQL's epoch. JR_DAY_NONE: NULL. */
void jr_pgbin_date(jr_pgbin_buf_t *b, jr_day_t day);

/* A timestamptz from ms since 1970 UTC: microseconds since 2000-01-01. */
void jr_pgbin_timestamptz(jr_pgbin_buf_t *b, int64_t ms);

/* The four bytes of a date sent alone, as a binary parameter. The day must
 * not be JR_DAY_NONE (a NULL parameter has no bytes). */
void jr_pgbin_date_bytes(jr_day_t day, uint8_t out[4]);

/* ---- one-dimensional arrays ---- */

typedef struct {
    jr_pgbin_buf_t b;
    jr_pgbin_oid_t oid; /* the element type: the one the SQL casts the parameter to */
    uint32_t n;
    bool has_null;
} jr_pgbin_array_t;

/* Starts an empty array of `oid` elements. */
void jr_pgbin_array_open(jr_pgbin_array_t *a, jr_pgbin_oid_t oid);

/* Appends one element; the element type must be the array's (asserted). */
void jr_pgbin_array_text(jr_pgbin_array_t *a, const char *s); /* NULL: NULL */
void jr_pgbin_array_bytea(jr_pgbin_array_t *a, const uint8_t *p, size_t n);
void jr_pgbin_array_int2(jr_pgbin_array_t *a, int16_t v);
void jr_pgbin_array_int4(jr_pgbin_array_t *a, int32_t v);
void jr_pgbin_array_int8(jr_pgbin_array_t *a, int64_t v);
void jr_pgbin_array_bool(jr_pgbin_array_t *a, bool v);
void jr_pgbin_array_date(jr_pgbin_array_t *a, jr_day_t day); /* JR_DAY_NONE: NULL */

/* Completes the header. Returns the array's bytes (borrowed: they live
 * until jr_pgbin_array_free) and their length, or NULL when out of memory.
 * An empty array has zero dimensions, as PostgreSQL writes '{}'. */
const uint8_t *jr_pgbin_array_finish(jr_pgbin_array_t *a, size_t *len);

void jr_pgbin_array_free(jr_pgbin_array_t *a);

/* ---- COPY ... FROM STDIN (FORMAT binary) ---- */

/* The signature, flags and an empty header extension: once, first. */
void jr_pgbin_copy_header(jr_pgbin_buf_t *b);

/* A row's start: its number of fields, each then written framed. */
void jr_pgbin_copy_row(jr_pgbin_buf_t *b, uint16_t fields);

/* The trailer: once, last. */
void jr_pgbin_copy_trailer(jr_pgbin_buf_t *b);

#endif
