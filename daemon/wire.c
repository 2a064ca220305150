/* wire.c -- see wire.h. */
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *jr_wire_arena_alloc(jr_wire_arena_t *a, size_t size)
{
    if (a->failed) {
        return NULL;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        void **blocks = realloc(a->blocks, cap * sizeof *blocks);
        if (blocks == NULL) {
            a->failed = true;
            return NULL;
        }
        a->blocks = blocks;
        a->cap = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (p == NULL) {
        a->failed = true;
        return NULL;
    }
    a->blocks[a->n++] = p;
    return p;
}

char *jr_wire_arena_date(jr_wire_arena_t *a, jr_day_t day)
{
    if (day == JR_DAY_NONE) {
        return NULL;
    }
    char *s = jr_wire_arena_alloc(a, 11);
    if (s != NULL) {
        jr_text_format_date(day, s);
    }
    return s;
}

void jr_wire_arena_free(jr_wire_arena_t *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->blocks[i]);
    }
    free(a->blocks);
    memset(a, 0, sizeof *a);
}

int jr_wire_pack(const jr_wire_arena_t *a, const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
    if (a->failed || m == NULL) {
        return -1;
    }
    *len = protobuf_c_message_get_packed_size(m);
    *out = malloc(*len ? *len : 1);
    if (*out == NULL) {
        return -1;
    }
    protobuf_c_message_pack(m, *out);
    return 0;
}

/* ---- NUL bytes inside strings ---- */

enum { WIRE_MAX_DEPTH = 8 }; /* the contract's messages nest three deep */

static bool wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

static int find_nul(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                    int depth, char *path, size_t pathlen)
{
    const uint8_t *p = buf, *end = buf + len;
    while (p < end) {
        uint64_t key = 0, n = 0;
        if (!wire_varint(&p, end, &key)) {
            return -1;
        }
        switch (key & 7) {
        case 0:
            if (!wire_varint(&p, end, &n)) {
                return -1;
            }
            continue;
        case 1:
        case 5: {
            size_t w = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < w) {
                return -1;
            }
            p += w;
            continue;
        }
        case 2:
            break;
        default:
            return -1; /* groups are not in the contract */
        }
        if (!wire_varint(&p, end, &n) || n > (uint64_t)(end - p)) {
            return -1;
        }
        const ProtobufCFieldDescriptor *f =
            key >> 3 <= UINT32_MAX
                ? protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3))
                : NULL; /* unknown fields are skipped */
        if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, (size_t)n) != NULL) {
            snprintf(path, pathlen, "%s", f->name);
            return 1;
        }
        if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < WIRE_MAX_DEPTH) {
            char inner[96] = "";
            int found = find_nul(f->descriptor, p, (size_t)n, depth + 1, inner, sizeof inner);
            if (found != 0) {
                snprintf(path, pathlen, "%s.%s", f->name, inner); /* "person.nhs_number" */
                return found;
            }
        }
        p += n;
    }
    return 0;
}

int jr_wire_find_nul(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                     char *path, size_t pathlen)
{
    return find_nul(desc, buf, len, 0, path, pathlen);
}
