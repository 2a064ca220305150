/* streams.h -- the funding streams as data.
 *
 * Each stream is one row: its code, name, the topics of its minimum
 * information, and its review-date rule. The six streams of the seed (and CPA,
 * disabled) are the defaults; configuration may change any field of any row or
 * add a stream, and no other code knows stream codes. Every stream's minimum
 * includes INCOME and INFORMATION (the seed: "every funding stream would
 * require"), whatever its row says.
 *
 * Pure: no I/O. */
#ifndef JR_STREAMS_H
#define JR_STREAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "format.h"

#define JR_STREAM_CODE_MAX 16 /* including the NUL */
#define JR_STREAMS_MAX     32

/* Topics every stream requires. */
#define JR_TOPICS_COMMON_MINIMUM                                                                   \
    (JR_TOPIC_BIT(JR_TOPIC_INCOME) | JR_TOPIC_BIT(JR_TOPIC_INFORMATION))

/* What happens to a budget's underspend (DOMAIN.md, "Budgets and
 * underspend"): the stream's rule, a setting. The values equal the wire
 * contract's UnderspendRule. Not set shows as "no agreed rule". */
typedef enum {
    JR_UNDERSPEND_NOT_SET = 0,
    JR_UNDERSPEND_RETURNED = 1,        /* returned to the funding stream */
    JR_UNDERSPEND_CARRIED_FORWARD = 2, /* carried forward in the person's budget */
    JR_UNDERSPEND_KEPT = 3,            /* kept by the person to use freely */
} jr_underspend_t;

#define JR_UNDERSPEND_LAST JR_UNDERSPEND_KEPT

typedef struct {
    char code[JR_STREAM_CODE_MAX]; /* "SP"; upper-case letters, digits, '_' */
    char name[64];                 /* "Supporting People" */
    bool enabled;                  /* a disabled stream is unknown on the wire */
    jr_topic_set_t required;       /* minimum information, always incl. the common minimum */
    /* Review-date rule (used by scheduling). 0 means "not used". */
    unsigned interval_days;         /* routine interval; 0: never drives a date (DFG) */
    unsigned first_review_days;     /* early first review after start (SC: 56) */
    unsigned before_award_end_days; /* due this many days before the award ends (ATW: 84) */
    unsigned default_award_days;    /* award length assumed when no end is given (ATW: 1095) */
    unsigned lead_rank;             /* lead-organisation precedence: lower leads; 0 = last */
    jr_underspend_t underspend;     /* the rule for an underspend; no stream has one by default */
} jr_stream_t;

typedef struct jr_streams jr_streams_t;

/* The defaults: SP, ILF, ICES, ATW, DFG, SC enabled, CPA disabled.
 * Caller owns the result. NULL only when out of memory. */
jr_streams_t *jr_streams_new_default(void);

/* Adds a row, or replaces the row with the same code. The common minimum is
 * added to row->required. Returns 0, or -1 when the code is malformed or the
 * table is full. The row is copied. */
int jr_streams_put(jr_streams_t *self, const jr_stream_t *row);

/* The row with this code, enabled or not; NULL when none. Borrowed, valid
 * until the next put or destroy. */
const jr_stream_t *jr_streams_find(const jr_streams_t *self, const char *code);

/* Rows in code order (strcmp), for iteration: 0 <= i < count. Borrowed. */
size_t jr_streams_count(const jr_streams_t *self);
const jr_stream_t *jr_streams_at(const jr_streams_t *self, size_t i);

/* A deep copy (for config reload). Caller owns the result. */
jr_streams_t *jr_streams_dup(const jr_streams_t *self);

void jr_streams_destroy(jr_streams_t **self_p);

/* "not_set", "returned", "carried_forward", "kept" (the setting's words);
 * NULL when invalid. Static. */
const char *jr_underspend_code(jr_underspend_t rule);
/* "no agreed rule", "returned to the funding stream", "carried forward in
 * the person's budget", "kept by the person to use freely". */
const char *jr_underspend_title(jr_underspend_t rule);
/* From its word, case-insensitive (also with the wire's "UNDERSPEND_"
 * prefix); 0 and *out, or -1 when unknown. */
int jr_underspend_from_code(const char *code, jr_underspend_t *out);

#endif
