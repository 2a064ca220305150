/* queries.h -- every statement joinedreview-web sends, with parameters only.
 *
 * Each returns the result (caller PQclears it), or NULL when the statement
 * failed (logged, rate-limited). Columns come back as text, in the order
 * each function lists. The service's login reads only the columns these
 * statements name (schema/020_web.sql grants them column by column). */
#ifndef JR_QUERIES_H
#define JR_QUERIES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "accounts.h"
#include "text.h"

/* Which current reviews a worklist lists. */
typedef struct {
    const char *const *leads; /* only reviews these lead (a scheduler's); NULL: any lead */
    size_t n_leads;
    const char *enrolled_in; /* only persons enrolled in it (a stream officer's); NULL: any */
    const char *covers;      /* only reviews covering this stream; NULL: any */
    int ready;               /* 1 ready for sign-off, 0 missing information, -1 either */
    jr_day_t first, last;    /* review dates in [first, last]; JR_DAY_NONE: open */
    const char *way;         /* only persons who want their review this way ("WITH_OTHERS") */
    const char *need;        /* only persons who need this to take part ("EASY_READ") */
    int limit;
} jr_queries_worklist_t;

/* nhs_number, review_on, lead, covered ("SC,ICES"), ready_for_sign_off
 * ("t"/"f"), enrolled, complete_streams, the name to use (or ""), the way
 * (or ""), the needs ("BSL_INTERPRETER,EASY_READ"); in review date order. */
PGresult *jr_queries_worklist(PGconn *c, const jr_queries_worklist_t *q);

/* Every cycle's record of a person, newest first: cycle, version, held_on,
 * record (bytea, text form), enrolled ("SC,ICES"), lead of the current
 * schedule (or ""). */
PGresult *jr_queries_person(PGconn *c, const char *nhs);

/* The notices published for a person, newest first: cycle, key, kind,
 * notice_on, review_on, lead, covered. */
PGresult *jr_queries_notices(PGconn *c, const char *nhs);

/* A stream's rejected input by reason: reason_code, messages, times,
 * first_seen, last_seen (UTC, "YYYY-MM-DD HH:MM"). */
PGresult *jr_queries_rejected_groups(PGconn *c, const char *stream);

/* The ten most recently seen of each reason: reason_code, source_event_id,
 * reason, times, last_seen, raw_length. */
PGresult *jr_queries_rejected_examples(PGconn *c, const char *stream);

/* A stream's parked events, oldest first, at most limit: source_event_id,
 * kind, ni_number, local_id, received_at, seconds waited, total parked. */
PGresult *jr_queries_parked(PGconn *c, const char *stream, int limit);

/* Joined-up reviews by covered stream as of today: stream, overdue,
 * due_within_28_days (today included), scheduled. by_lead: the same by lead
 * organisation. */
PGresult *jr_queries_due(PGconn *c, jr_day_t today, bool by_lead);

/* The reporting views: completeness (stream, enrolled, complete, missing),
 * priorities (area, red, amber, green, not_given, conflicts), held (month,
 * reviews_held; the last 24), meetings (joined_up_reviews,
 * separate_meetings, meetings_saved). */
PGresult *jr_queries_completeness(PGconn *c);
PGresult *jr_queries_priorities(PGconn *c);
PGresult *jr_queries_held(PGconn *c);
PGresult *jr_queries_meetings(PGconn *c);

/* For /metrics: parked events by stream (stream, count); rejected input by
 * stream and reason (stream or "", reason_code, messages, times). */
PGresult *jr_queries_parked_counts(PGconn *c);
PGresult *jr_queries_rejected_counts(PGconn *c);

#endif
