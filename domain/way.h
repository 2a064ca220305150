/* way.h -- how the person wants their review: the way they want to take part
 * and what they need to take part (DOMAIN.md, "How the person wants their
 * review"; the review format: "fundamentally, ask the individual how they
 * want to complete their review").
 *
 * Closed sets, like the format's topics and roles: a C table, not
 * configuration. The numeric values equal the wire contract's ReviewWay and
 * Need values (proto/joinedreview.proto), so the codec converts by range
 * check alone.
 *
 * Pure: no I/O. */
#ifndef JR_WAY_H
#define JR_WAY_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    JR_WAY_NONE = 0,
    JR_WAY_FORMAT_FIRST = 1, /* completes the review format first, then meets */
    JR_WAY_MEETING = 2,      /* a meeting */
    JR_WAY_WITH_OTHERS = 3,  /* with others having their review at the same time */
} jr_way_t;

#define JR_WAY_LAST JR_WAY_WITH_OTHERS

typedef enum {
    JR_NEED_NONE = 0,
    JR_NEED_LARGE_PRINT = 1,
    JR_NEED_EASY_READ = 2,
    JR_NEED_BSL_INTERPRETER = 3,
    JR_NEED_OTHER_LANGUAGE = 4, /* the language is named beside it */
    JR_NEED_ADVOCATE = 5,
    JR_NEED_BRAILLE = 6,
    JR_NEED_AUDIO = 7,
} jr_need_t;

#define JR_NEED_LAST JR_NEED_AUDIO

/* A set of needs: bit (1u << need). */
typedef uint32_t jr_need_set_t;
#define JR_NEED_BIT(n) ((jr_need_set_t)1u << (unsigned)(n))

/* Who to involve: at most this many names or roles. */
#define JR_INVOLVE_MAX 8

bool jr_way_valid(int way);   /* JR_WAY_FORMAT_FIRST..JR_WAY_LAST */
bool jr_need_valid(int need); /* JR_NEED_LARGE_PRINT..JR_NEED_LAST */

/* "FORMAT_FIRST", "MEETING", "WITH_OTHERS"; NULL when invalid. Static. */
const char *jr_way_code(jr_way_t way);
/* "Completes the review format first, then meets", ...; NULL when invalid. */
const char *jr_way_title(jr_way_t way);
/* From its code, case-insensitive, with or without the wire's "WAY_"
 * prefix; JR_WAY_NONE when unknown. */
jr_way_t jr_way_from_code(const char *code);

/* "LARGE_PRINT", "EASY_READ", "BSL_INTERPRETER", ...; NULL when invalid. */
const char *jr_need_code(jr_need_t need);
/* "Large print", "Easy read", "A BSL interpreter", ...; NULL when invalid. */
const char *jr_need_title(jr_need_t need);
/* From its code, case-insensitive, with or without "NEED_"; JR_NEED_NONE
 * when unknown. */
jr_need_t jr_need_from_code(const char *code);

#endif
