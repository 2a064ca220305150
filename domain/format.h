/* format.h -- the joined-up review format: areas, topics, author roles and
 * priorities for change.
 *
 * These are fixed by the review format itself (eight areas plus "anything
 * else"), so they are a C table, not configuration. Funding streams, which
 * *are* configuration, live in streams.h. The numeric values equal the wire
 * contract's enum values (proto/joinedreview.proto), so the codec converts by
 * range check alone.
 *
 * Pure: no I/O. */
#ifndef JR_FORMAT_H
#define JR_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    JR_TOPIC_NONE = 0,
    JR_TOPIC_SUPPORT = 1,
    JR_TOPIC_ADVOCACY = 2,
    JR_TOPIC_PEER_SUPPORT = 3,
    JR_TOPIC_FAMILY = 4,
    JR_TOPIC_CHOICES_RISKS = 5,
    JR_TOPIC_INCOME = 6,
    JR_TOPIC_HEALTH = 7,
    JR_TOPIC_SAFETY = 8,
    JR_TOPIC_INFORMATION = 9,
    JR_TOPIC_EDUCATION = 10,
    JR_TOPIC_EMPLOYMENT = 11,
    JR_TOPIC_CITIZENSHIP = 12,
    JR_TOPIC_GOODS_SERVICES = 13,
    JR_TOPIC_LEISURE = 14,
    JR_TOPIC_HOUSING = 15,
    JR_TOPIC_EQUIPMENT = 16,
    JR_TOPIC_TRANSPORT = 17,
    JR_TOPIC_OTHER = 18,
} jr_topic_t;

#define JR_TOPIC_FIRST JR_TOPIC_SUPPORT
#define JR_TOPIC_LAST  JR_TOPIC_OTHER

/* A set of topics: bit (1u << topic). */
typedef uint32_t jr_topic_set_t;
#define JR_TOPIC_BIT(t) ((jr_topic_set_t)1u << (unsigned)(t))
/* The 17 topics of areas 1-8 ("ALL" in the seed's stream table). */
#define JR_TOPICS_AREAS_1_TO_8 ((jr_topic_set_t)0x3fffeu)

#define JR_AREA_COUNT 9 /* areas 1..8 and 9, "anything else" */

typedef enum {
    JR_ROLE_NONE = 0,
    JR_ROLE_PERSON = 1,
    JR_ROLE_CARER = 2,
    JR_ROLE_COUNCIL = 3,
    JR_ROLE_STREAM_OFFICER = 4,
    JR_ROLE_PROVIDER = 5,
    JR_ROLE_ADVOCATE = 6,
} jr_role_t;

#define JR_ROLE_LAST JR_ROLE_ADVOCATE

typedef enum {
    JR_PRIORITY_NOT_GIVEN = 0,
    JR_PRIORITY_GREEN = 1,
    JR_PRIORITY_AMBER = 2,
    JR_PRIORITY_RED = 3,
} jr_priority_t;

/* True for JR_TOPIC_FIRST..JR_TOPIC_LAST. */
bool jr_format_topic_valid(int topic);
bool jr_format_role_valid(int role);
bool jr_format_priority_valid(int priority);

/* The area (1..9) a topic belongs to; 0 for an invalid topic. */
int jr_format_topic_area(jr_topic_t topic);

/* "SUPPORT", "GOODS_SERVICES", ...; NULL for an invalid topic. Static storage. */
const char *jr_format_topic_code(jr_topic_t topic);

/* "Support/assistance", "Keeping healthy", ...; NULL when invalid. */
const char *jr_format_topic_title(jr_topic_t topic);

/* Topic from its code, case-insensitive; also accepts the seed's synonyms
 * "FAMILY_AND_FRIENDS" (FAMILY) and "STAYING_SAFE" (SAFETY). JR_TOPIC_NONE
 * when unknown. */
jr_topic_t jr_format_topic_from_code(const char *code);

/* Parses a list of topic codes separated by spaces and/or commas into a set;
 * "ALL" means JR_TOPICS_AREAS_1_TO_8. Returns 0, or -1 on an unknown code (and
 * then *bad points at the start of that code inside `list`). */
int jr_format_topics_parse(const char *list, jr_topic_set_t *out, const char **bad);

/* "Support/assistance / Advocacy / Peer support"-style title of area 1..9;
 * NULL when out of range. */
const char *jr_format_area_title(int area);

/* "PERSON", "CARER", ...; NULL when invalid. */
const char *jr_format_role_code(jr_role_t role);
jr_role_t jr_format_role_from_code(const char *code); /* JR_ROLE_NONE if unknown */

/* "NOT_GIVEN", "GREEN", "AMBER", "RED"; NULL when invalid. */
const char *jr_format_priority_code(jr_priority_t p);
jr_priority_t jr_format_priority_from_code(const char *code, bool *ok);

#endif
