/* identity.h -- linking a stream's identifiers to the person's NHS number.
 *
 * The NHS number is the person key. Streams outside health may know the
 * person only by National Insurance number or by their own client id (scoped
 * to the stream). An enrolment naming the NHS number together with either of
 * those links them; any later event naming only a linked identifier belongs to
 * that person. An event naming only identifiers that are not linked yet is
 * parked. Only enrolments create links (they are the stream's statement that
 * "this client is this person").
 *
 * This module holds a set of links (those the store loaded for a batch, plus
 * those the batch adds) and decides; the store does the I/O.
 *
 * Pure: no I/O. */
#ifndef JR_IDENTITY_H
#define JR_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "nhs.h"
#include "streams.h"

#define JR_LOCAL_ID_MAX 200 /* bytes, without the NUL */

typedef enum {
    JR_LINK_NINO = 1,  /* value is a normalised NI number; stream is "" */
    JR_LINK_LOCAL = 2, /* value is a stream-local id; stream names the stream */
} jr_link_kind_t;

typedef struct {
    jr_link_kind_t kind;
    char stream[JR_STREAM_CODE_MAX];
    char value[JR_LOCAL_ID_MAX + 1];
    char nhs[JR_NHS_LEN + 1];
} jr_link_t;

/* Identifiers as the event gave them, already normalised and checked by the
 * codec (NULL when absent). */
typedef struct {
    const char *stream;
    const char *nhs;   /* 10 digits */
    const char *nino;  /* normalised */
    const char *local; /* as sent */
} jr_ids_t;

typedef enum {
    JR_RESOLVE_PERSON = 0,   /* *nhs_out names the person */
    JR_RESOLVE_PARK = 1,     /* nothing links these identifiers yet */
    JR_RESOLVE_CONFLICT = 2, /* identifiers point at different people */
} jr_resolve_t;

typedef struct jr_identity jr_identity_t;

jr_identity_t *jr_identity_new(void); /* caller owns; NULL when out of memory */
void jr_identity_destroy(jr_identity_t **self_p);

/* Adds a link. Returns 0 when added or already present with the same NHS
 * number, 1 when the identifier is linked to a different NHS number (nothing
 * changes), -1 when out of memory. */
int jr_identity_add(jr_identity_t *self, const jr_link_t *link);

/* The NHS number a link key points at, or NULL. Borrowed. */
const char *jr_identity_lookup(const jr_identity_t *self, jr_link_kind_t kind, const char *stream,
                               const char *value);

/* Decides who an event is about:
 *  - an NHS number given: that person, unless a given NI number or local id
 *    is linked to a different NHS number (CONFLICT);
 *  - otherwise a linked NI number or local id names the person; if both are
 *    linked to different people, CONFLICT;
 *  - otherwise PARK.
 * nhs_out is written on PERSON. */
jr_resolve_t jr_identity_resolve(const jr_identity_t *self, const jr_ids_t *ids,
                                 char nhs_out[JR_NHS_LEN + 1]);

/* The links an enrolment with these identifiers creates (0, 1 or 2): only
 * when it names an NHS number. Writes them to out[]. */
size_t jr_identity_links_of(const jr_ids_t *ids, jr_link_t out[2]);

#endif
