/* wire.h -- what the files of the wire codec share, and nothing else
 * includes: envelope.c (envelopes in, acks out), record.c (records,
 * notices and statistics out), catchup_wire.c (catch-up requests in,
 * replies out) and pseudonym.c (the pseudonymised copies) see the generated
 * code of proto/joinedreview.proto through it.
 *
 * The domain's enums that the contract also has are the contract's, value
 * for value, so converting is a cast; each value is tied below, and a
 * change on either side that breaks the tie stops the build. The ties of
 * enums only one file converts are in that file. */
#ifndef JR_WIRE_H
#define JR_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "joinedreview/joinedreview.pb-c.h"
#include "statistics.h"
#include "text.h"

/* The domain's value d is the wire's w. */
#define JR_WIRE_TIE(d, w) _Static_assert((int)(d) == (int)(w), #d " must equal " #w)

JR_WIRE_TIE(JR_TOPIC_NONE, JOINEDREVIEW__V1__TOPIC__TOPIC_UNSPECIFIED);
JR_WIRE_TIE(JR_TOPIC_SUPPORT, JOINEDREVIEW__V1__TOPIC__SUPPORT);
JR_WIRE_TIE(JR_TOPIC_ADVOCACY, JOINEDREVIEW__V1__TOPIC__ADVOCACY);
JR_WIRE_TIE(JR_TOPIC_PEER_SUPPORT, JOINEDREVIEW__V1__TOPIC__PEER_SUPPORT);
JR_WIRE_TIE(JR_TOPIC_FAMILY, JOINEDREVIEW__V1__TOPIC__FAMILY);
JR_WIRE_TIE(JR_TOPIC_CHOICES_RISKS, JOINEDREVIEW__V1__TOPIC__CHOICES_RISKS);
JR_WIRE_TIE(JR_TOPIC_INCOME, JOINEDREVIEW__V1__TOPIC__INCOME);
JR_WIRE_TIE(JR_TOPIC_HEALTH, JOINEDREVIEW__V1__TOPIC__HEALTH);
JR_WIRE_TIE(JR_TOPIC_SAFETY, JOINEDREVIEW__V1__TOPIC__SAFETY);
JR_WIRE_TIE(JR_TOPIC_INFORMATION, JOINEDREVIEW__V1__TOPIC__INFORMATION);
JR_WIRE_TIE(JR_TOPIC_EDUCATION, JOINEDREVIEW__V1__TOPIC__EDUCATION);
JR_WIRE_TIE(JR_TOPIC_EMPLOYMENT, JOINEDREVIEW__V1__TOPIC__EMPLOYMENT);
JR_WIRE_TIE(JR_TOPIC_CITIZENSHIP, JOINEDREVIEW__V1__TOPIC__CITIZENSHIP);
JR_WIRE_TIE(JR_TOPIC_GOODS_SERVICES, JOINEDREVIEW__V1__TOPIC__GOODS_SERVICES);
JR_WIRE_TIE(JR_TOPIC_LEISURE, JOINEDREVIEW__V1__TOPIC__LEISURE);
JR_WIRE_TIE(JR_TOPIC_HOUSING, JOINEDREVIEW__V1__TOPIC__HOUSING);
JR_WIRE_TIE(JR_TOPIC_EQUIPMENT, JOINEDREVIEW__V1__TOPIC__EQUIPMENT);
JR_WIRE_TIE(JR_TOPIC_TRANSPORT, JOINEDREVIEW__V1__TOPIC__TRANSPORT);
JR_WIRE_TIE(JR_TOPIC_OTHER, JOINEDREVIEW__V1__TOPIC__OTHER);

JR_WIRE_TIE(JR_ROLE_NONE, JOINEDREVIEW__V1__ROLE__ROLE_UNSPECIFIED);
JR_WIRE_TIE(JR_ROLE_PERSON, JOINEDREVIEW__V1__ROLE__PERSON);
JR_WIRE_TIE(JR_ROLE_CARER, JOINEDREVIEW__V1__ROLE__CARER);
JR_WIRE_TIE(JR_ROLE_COUNCIL, JOINEDREVIEW__V1__ROLE__COUNCIL);
JR_WIRE_TIE(JR_ROLE_STREAM_OFFICER, JOINEDREVIEW__V1__ROLE__STREAM_OFFICER);
JR_WIRE_TIE(JR_ROLE_PROVIDER, JOINEDREVIEW__V1__ROLE__PROVIDER);
JR_WIRE_TIE(JR_ROLE_ADVOCATE, JOINEDREVIEW__V1__ROLE__ADVOCATE);

JR_WIRE_TIE(JR_PRIORITY_NOT_GIVEN, JOINEDREVIEW__V1__PRIORITY__NOT_GIVEN);
JR_WIRE_TIE(JR_PRIORITY_GREEN, JOINEDREVIEW__V1__PRIORITY__GREEN);
JR_WIRE_TIE(JR_PRIORITY_AMBER, JOINEDREVIEW__V1__PRIORITY__AMBER);
JR_WIRE_TIE(JR_PRIORITY_RED, JOINEDREVIEW__V1__PRIORITY__RED);

/* ---- an arena for the messages a file packs ---- */

/* Everything a message being packed points at, allocated so that one call
 * frees it all. Zero-initialised is empty. */
typedef struct {
    void **blocks;
    size_t n, cap;
    bool failed; /* out of memory: the message must not be packed */
} jr_wire_arena_t;

/* A zeroed block of size bytes, or NULL (and the arena failed). */
void *jr_wire_arena_alloc(jr_wire_arena_t *a, size_t size);

/* "YYYY-MM-DD" of day in the arena; NULL for JR_DAY_NONE (an absent field). */
char *jr_wire_arena_date(jr_wire_arena_t *a, jr_day_t day);

void jr_wire_arena_free(jr_wire_arena_t *a);

/* Packs m into *out (caller frees) unless the arena failed. 0, or -1. */
int jr_wire_pack(const jr_wire_arena_t *a, const ProtobufCMessage *m, uint8_t **out, size_t *len);

/* The Statistics message of st in the arena (record.c; a catch-up reply
 * carries one too). NULL when out of memory. */
Joinedreview__V1__Statistics *jr_record_statistics_message(jr_wire_arena_t *a,
                                                           const jr_statistics_t *st);

/* ---- NUL bytes inside strings ---- */

/* protobuf-c hands strings to C NUL-terminated: "a\0b" would arrive as "a",
 * so two different ids could compare equal and text after the NUL would
 * vanish. Walks the wire bytes of a message with its descriptor: 1, with
 * the string field's dotted path ("person.nhs_number") in `path`, when a
 * string at any depth holds a NUL; 0 when none does; -1 when the bytes are
 * not the message (unpacking says why). */
int jr_wire_find_nul(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                     char *path, size_t pathlen);

#endif
