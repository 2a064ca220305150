/* identity.c -- the links from NI numbers and stream-local ids to NHS
 * numbers: an open-addressing hash table keyed by (kind, stream, value). */
#include "identity.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_SLOTS 64 /* a power of two */

struct jr_identity {
    jr_link_t *links; /* slots; kind 0 marks an empty one */
    size_t n_slots;
    size_t count;
};

static const char *stream_of(jr_link_kind_t kind, const char *stream)
{
    /* An NI number is national: it names the person whatever stream sent it. */
    return kind == JR_LINK_NINO || stream == NULL ? "" : stream;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static size_t hash_key(jr_link_kind_t kind, const char *stream, const char *value)
{
    uint64_t h = UINT64_C(14695981039346656037);
    h = fnv1a(h, kind == JR_LINK_NINO ? "N" : "L");
    h = fnv1a(h, stream);
    h = fnv1a(h, "\x1f"); /* so ("AB","C") and ("A","BC") differ */
    h = fnv1a(h, value);
    return (size_t)h;
}

/* The slot holding the key, or the empty slot where it would go. */
static jr_link_t *find_slot(jr_link_t *slots, size_t n_slots, jr_link_kind_t kind,
                            const char *stream, const char *value)
{
    size_t i = hash_key(kind, stream, value) & (n_slots - 1);
    for (;;) {
        jr_link_t *slot = &slots[i];
        if (slot->kind == 0 || (slot->kind == kind && strcmp(slot->stream, stream) == 0 &&
                                strcmp(slot->value, value) == 0))
            return slot;
        i = (i + 1) & (n_slots - 1);
    }
}

static int grow(jr_identity_t *self)
{
    size_t n_slots = self->n_slots * 2;
    jr_link_t *slots = calloc(n_slots, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < self->n_slots; i++) {
        const jr_link_t *old = &self->links[i];
        if (old->kind != 0)
            *find_slot(slots, n_slots, old->kind, old->stream, old->value) = *old;
    }
    free(self->links);
    self->links = slots;
    self->n_slots = n_slots;
    return 0;
}

jr_identity_t *jr_identity_new(void)
{
    jr_identity_t *self = calloc(1, sizeof *self);
    if (self == NULL)
        return NULL;
    self->links = calloc(INITIAL_SLOTS, sizeof *self->links);
    if (self->links == NULL) {
        free(self);
        return NULL;
    }
    self->n_slots = INITIAL_SLOTS;
    return self;
}

void jr_identity_destroy(jr_identity_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->links);
    free(*self_p);
    *self_p = NULL;
}

static bool terminated(const char *s, size_t size)
{
    return strnlen(s, size) < size;
}

static bool nhs_shaped(const char *nhs)
{
    if (strlen(nhs) != JR_NHS_LEN)
        return false;
    for (size_t i = 0; i < JR_NHS_LEN; i++)
        if (nhs[i] < '0' || nhs[i] > '9')
            return false;
    return true;
}

int jr_identity_add(jr_identity_t *self, const jr_link_t *link)
{
    if (self == NULL || link == NULL ||
        (link->kind != JR_LINK_NINO && link->kind != JR_LINK_LOCAL) ||
        !terminated(link->stream, sizeof link->stream) ||
        !terminated(link->value, sizeof link->value) || !terminated(link->nhs, sizeof link->nhs) ||
        link->value[0] == '\0' || !nhs_shaped(link->nhs) ||
        (link->kind == JR_LINK_LOCAL && link->stream[0] == '\0'))
        return -1;

    const char *stream = stream_of(link->kind, link->stream);
    jr_link_t *slot = find_slot(self->links, self->n_slots, link->kind, stream, link->value);
    if (slot->kind != 0)
        return strcmp(slot->nhs, link->nhs) == 0 ? 0 : 1;

    /* Keep the table at most half full so probes stay short. */
    if (2 * (self->count + 1) > self->n_slots) {
        if (grow(self) < 0)
            return -1;
        slot = find_slot(self->links, self->n_slots, link->kind, stream, link->value);
    }
    *slot = *link;
    if (link->kind == JR_LINK_NINO)
        memset(slot->stream, 0, sizeof slot->stream);
    self->count++;
    return 0;
}

const char *jr_identity_lookup(const jr_identity_t *self, jr_link_kind_t kind, const char *stream,
                               const char *value)
{
    if (self == NULL || value == NULL || value[0] == '\0' ||
        (kind != JR_LINK_NINO && kind != JR_LINK_LOCAL))
        return NULL;
    const jr_link_t *slot =
        find_slot(self->links, self->n_slots, kind, stream_of(kind, stream), value);
    return slot->kind != 0 ? slot->nhs : NULL;
}

static bool given(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static void copy_nhs(char out[JR_NHS_LEN + 1], const char *nhs)
{
    size_t len = strnlen(nhs, JR_NHS_LEN);
    memcpy(out, nhs, len);
    out[len] = '\0';
}

jr_resolve_t jr_identity_resolve(const jr_identity_t *self, const jr_ids_t *ids,
                                 char nhs_out[JR_NHS_LEN + 1])
{
    const char *by_nino = NULL;
    const char *by_local = NULL;

    if (ids == NULL)
        return JR_RESOLVE_PARK;
    if (given(ids->nino))
        by_nino = jr_identity_lookup(self, JR_LINK_NINO, NULL, ids->nino);
    if (given(ids->local) && given(ids->stream))
        by_local = jr_identity_lookup(self, JR_LINK_LOCAL, ids->stream, ids->local);

    if (given(ids->nhs)) {
        if ((by_nino != NULL && strcmp(by_nino, ids->nhs) != 0) ||
            (by_local != NULL && strcmp(by_local, ids->nhs) != 0))
            return JR_RESOLVE_CONFLICT;
        copy_nhs(nhs_out, ids->nhs);
        return JR_RESOLVE_PERSON;
    }
    if (by_nino != NULL && by_local != NULL && strcmp(by_nino, by_local) != 0)
        return JR_RESOLVE_CONFLICT;
    if (by_nino != NULL || by_local != NULL) {
        copy_nhs(nhs_out, by_nino != NULL ? by_nino : by_local);
        return JR_RESOLVE_PERSON;
    }
    return JR_RESOLVE_PARK;
}

size_t jr_identity_links_of(const jr_ids_t *ids, jr_link_t out[2])
{
    size_t n = 0;

    if (ids == NULL || !given(ids->nhs) || strlen(ids->nhs) != JR_NHS_LEN)
        return 0;
    if (given(ids->nino) && strlen(ids->nino) <= JR_NINO_LEN) {
        jr_link_t *l = &out[n++];
        memset(l, 0, sizeof *l);
        l->kind = JR_LINK_NINO;
        strcpy(l->value, ids->nino);
        strcpy(l->nhs, ids->nhs);
    }
    /* An id too long to store, or a stream code too long to be one, links
     * nothing (the codec refuses both). */
    if (given(ids->local) && given(ids->stream) && strlen(ids->local) <= JR_LOCAL_ID_MAX &&
        strlen(ids->stream) < JR_STREAM_CODE_MAX) {
        jr_link_t *l = &out[n++];
        memset(l, 0, sizeof *l);
        l->kind = JR_LINK_LOCAL;
        strcpy(l->stream, ids->stream);
        strcpy(l->value, ids->local);
        strcpy(l->nhs, ids->nhs);
    }
    return n;
}
