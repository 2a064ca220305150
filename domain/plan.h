/* plan.h -- a batch of envelopes decided, without I/O.
 *
 * A batch is read -> plan -> write. The edge reads, in one prefetch,
 * everything the batch's envelopes need; this module decides, as a pure
 * function of that and of the envelopes; the edge writes what it decided
 * with one set-based statement per kind of row, acknowledges and publishes.
 *
 * The rules of a batch (DOMAIN.md; README "What it computes"):
 *  - Envelopes are decided in arrival order. One whose (stream,
 *    source_event_id) is in the log already, or earlier in the batch, is a
 *    DUPLICATE and changes nothing.
 *  - Its identifiers are resolved to a person through the links stored and
 *    those the batch's own enrolments add (identity.h). Identifiers that
 *    point at different people are refused (IDENTITY_CONFLICT); identifiers
 *    nothing links yet are PARKED: stored, and released to the person's
 *    current cycle as soon as an enrolment links them, in this batch or a
 *    later one.
 *  - A review held is refused unless jr_schedule_check_held() allows it
 *    (NOT_ENROLLED, HELD_IN_FUTURE, HELD_BEFORE_CYCLE); one naming no linked
 *    person is refused, not parked. Allowed, it closes the person's current
 *    cycle: later events of the batch belong to the next.
 *  - An event belongs to the cycle open when it is decided. Every (person,
 *    cycle) an event or a release touches is merged afresh from all of its
 *    events and published as the next version of its record.
 *  - A refused event's key is not remembered: it was not stored, so a
 *    corrected resend in the same batch is stored.
 *  - Publications take sequence numbers after ctx->last_seq without gaps:
 *    the records first, in the order the batch first touched them, then the
 *    notices. An event records the sequence of the record that first
 *    reflects it, so a record's version (the number of distinct publications
 *    among its cycle's events) and sequence (the latest) are derived from the
 *    log alone, which is how --rebuild reproduces every record byte for byte.
 *  - Each person the batch touches is settled as of today: the latest notice
 *    due for their current cycle, unless decided before, and their row of the
 *    due-check index (next check on the next notice date), which also says
 *    which group of persons wanting a group review they belong to (lead
 *    and group key; group.h decides the groups).
 *  - Preferences and budget statements belong to the cycle they arrive in
 *    (a new version of its record) and are read in every later cycle too
 *    (merge.h). A final record also carries what its review held found
 *    (jr_schedule_at_meeting): each covered stream's own due date.
 *
 * The same settling serves the due check (jr_plan_due) and the recomputing
 * of records serves --rebuild (jr_plan_rebuild).
 *
 * Pure: no I/O, no clock (today is in the context). Strings of the input
 * are borrowed: the caller keeps the input alive until the plan is
 * destroyed. */
#ifndef JR_PLAN_H
#define JR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "identity.h"
#include "merge.h"
#include "nhs.h"
#include "schedule.h"
#include "streams.h"

#define JR_PLAN_REASON_MAX 320

/* An event with the identifiers it names. */
typedef struct {
    jr_event_t event; /* by value; its strings borrowed */
    const char *nhs;  /* normalised; NULL when not named */
    const char *nino; /* normalised; NULL when not named */
    const char *local_id;
} jr_plan_event_t;

/* An event of the log, as the read step found it. */
typedef struct {
    int64_t id;               /* its order in the log */
    char nhs[JR_NHS_LEN + 1]; /* "" while parked */
    uint32_t cycle;           /* 0 while parked */
    uint64_t seq;             /* the record that first reflected it; 0: none yet */
    jr_plan_event_t ev;
} jr_plan_stored_t;

/* A person and a cycle: a person's current one, or one moved to. */
typedef struct {
    char nhs[JR_NHS_LEN + 1];
    uint32_t cycle;
} jr_plan_cycle_t;

typedef struct {
    const jr_streams_t *streams; /* borrowed */
    jr_schedule_rules_t rules;
    jr_day_t today;
    uint64_t last_seq; /* the last publication committed */
} jr_plan_ctx_t;

/* What the read step found. */
typedef struct {
    const jr_plan_event_t *envelopes; /* the batch's envelopes that decoded, in arrival order */
    size_t n_envelopes;
    const bool *stored_before; /* per envelope: its key is in the log already */
    /* Every stored event of every person the batch may touch (those it names
     * and those its identifiers and parked events link to), and the parked
     * events its enrolments may release (nhs ""). Any order. */
    const jr_plan_stored_t *stored;
    size_t n_stored;
    const jr_plan_cycle_t *persons; /* the current cycle of each known person; others are new */
    size_t n_persons;
    const jr_link_t *links; /* the stored links of every identifier involved */
    size_t n_links;
    const char *const *decided; /* the notices decided: jr_plan_notice_key() */
    size_t n_decided;
} jr_plan_input_t;

typedef enum {
    JR_PLAN_OK = 1,
    JR_PLAN_DUPLICATE = 2,
    JR_PLAN_PARKED = 3,
    JR_PLAN_REJECTED = 4, /* to be kept with the refused input */
} jr_plan_status_t;

typedef struct {
    jr_plan_status_t status;
    const char *code; /* static; NULL unless refused */
    char reason[JR_PLAN_REASON_MAX];
} jr_plan_outcome_t;

/* A row the event log gains: envelope `envelope` of the input. */
typedef struct {
    size_t envelope;
    char nhs[JR_NHS_LEN + 1]; /* "" while parked */
    uint32_t cycle;           /* 0 while parked */
    uint64_t seq;             /* 0 while parked */
} jr_plan_row_t;

/* A stored parked event given to its person. */
typedef struct {
    int64_t id;
    char nhs[JR_NHS_LEN + 1];
    uint32_t cycle;
    uint64_t seq;
} jr_plan_release_t;

/* A link the batch adds, by the enrolment of envelope `envelope`. */
typedef struct {
    jr_link_t link;
    size_t envelope;
} jr_plan_link_t;

/* A consolidated review to publish: the whole record, as of its own date. */
typedef struct {
    char nhs[JR_NHS_LEN + 1];
    uint32_t cycle;
    uint32_t version;
    uint64_t seq;
    const jr_review_t *review;     /* owned by the plan */
    const jr_schedule_t *schedule; /* owned by the plan: as of review->as_of */
    const jr_schedule_t *meeting;  /* owned by the plan: as the review held found it; NULL
                                      while the cycle is open */
} jr_plan_record_t;

/* A due-date notice to publish. */
typedef struct {
    char nhs[JR_NHS_LEN + 1];
    uint32_t cycle;
    uint64_t seq;
    jr_notice_t notice;
    const jr_schedule_t *schedule; /* owned by the plan: as of today */
    const jr_review_t *review;     /* owned by the plan: the cycle's review (what is missing) */
} jr_plan_notice_t;

/* A person's row of the due-check index, as of today. */
typedef struct {
    char nhs[JR_NHS_LEN + 1];
    uint32_t cycle;
    jr_day_t review_on;      /* JR_DAY_NONE: no review date */
    const jr_stream_t *lead; /* borrowed from the streams table; NULL: none */
    const jr_stream_t *covered[JR_STREAMS_MAX];
    size_t n_covered;
    jr_day_t next_check_on; /* JR_DAY_NONE: nothing to check */
    int separate_meetings;  /* covered streams that set their own date */
    const char *group_key;  /* borrowed: the person wants a group review by this key (merge.h),
                               and has a review date and a lead; NULL otherwise */
} jr_plan_due_t;

typedef struct {
    jr_plan_outcome_t *outcomes; /* one per envelope */
    jr_plan_row_t *rows;
    size_t n_rows;
    jr_plan_release_t *releases;
    size_t n_releases;
    jr_plan_link_t *links;
    size_t n_links;
    jr_plan_cycle_t *new_persons; /* persons the log did not know, at cycle 1 */
    size_t n_new_persons;
    jr_plan_cycle_t *cycles; /* persons whose current cycle moved on */
    size_t n_cycles;
    jr_plan_record_t *records;
    size_t n_records;
    jr_plan_notice_t *notices;
    size_t n_notices;
    jr_plan_due_t *due;
    size_t n_due;
    uint64_t last_seq; /* the last publication once this plan is written */
    void *priv;        /* what records and notices borrow */
} jr_plan_t;

/* Decides a batch. Caller owns *out (jr_plan_destroy). 0, or -1 when out
 * of memory. */
int jr_plan_batch(const jr_plan_ctx_t *ctx, const jr_plan_input_t *in, jr_plan_t **out);

/* One round of the due check: settles each of `due` (persons at their
 * current cycle) as of today, from their stored events and the notices
 * decided (in->stored, in->decided; envelopes, persons and links unused).
 * Only notices and due rows are filled. 0, or -1 when out of memory. */
int jr_plan_due(const jr_plan_ctx_t *ctx, const jr_plan_cycle_t *due, size_t n_due,
                const jr_plan_input_t *in, jr_plan_t **out);

/* Every record of one person recomputed from the log (in->stored: all of
 * their events), cycle 1 to `current`, each with the version and sequence
 * the log gives it; cycles with no publication have none. Also the
 * person's due row (notices not counted as decided). 0, or -1 when out of
 * memory. */
int jr_plan_rebuild(const jr_plan_ctx_t *ctx, const char *nhs, uint32_t current,
                    const jr_plan_input_t *in, jr_plan_t **out);

void jr_plan_destroy(jr_plan_t **self_p);

/* The key of a decided notice: "nhs\x1fcycle\x1fkey" (out at least 64 bytes). */
void jr_plan_notice_key(char *out, size_t len, const char *nhs, uint32_t cycle, const char *key);

#endif
