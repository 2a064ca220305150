/* extract.h -- what joinedreview-export writes for one funding stream when a
 * review is held: the final record, cut to the stream's minimum information
 * (cut/cut.h), as CSV and as JSON. No I/O: text in memory, so that both can
 * be tested exactly.
 *
 * A review held is extracted for a stream when the record is final (it
 * carries held_on), the person is enrolled in the stream, and the meeting
 * covered the stream: its schedule's entry for the stream has the held date
 * as its last review (domain/schedule.h: every stream a meeting covers gets
 * last review = the held date).
 *
 * One file of each per person and cycle, named "NHS-cycleN.csv" and
 * "NHS-cycleN.json": the same review held always has the same name, so a
 * restart finds what it wrote before and writes nothing twice.
 *
 * The CSV (RFC 4180, UTF-8, every field quoted, CRLF) has one row per
 * statement the stream may read, in area and topic order, and one row for
 * each topic of the stream's minimum information that has no statement (its
 * statement columns empty), so a missing topic shows. Every row carries
 * the person, the cycle and the area's priority; its columns are
 * JR_EXTRACT_CSV_HEADER. The JSON holds the same and the schedule, the
 * stream's completeness and the support plan revision. */
#ifndef JR_EXTRACT_H
#define JR_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "cut.h"

#define JR_EXTRACT_CSV_HEADER                                                                      \
    "nhs_number,preferred_name,cycle,held_on,stream,minimum_information_met,area,area_title,"     \
    "area_priority,priority_from_person,conflict,topic,topic_title,working,not_working,"          \
    "no_change,statement_priority,said_by_role,said_by_name,said_for_stream,occurred_at,"         \
    "source_event_id,next_review_on,lead,plan_revise_by,plan_revised_by,plan_approval_needed"

/* Whether this record is a review held that covered the scope's stream,
 * for a person enrolled in it. */
bool jr_extract_due(const Joinedreview__V1__ConsolidatedReview *record,
                    const jr_share_scope_t *scope);

/* "9434765919-cycle1.csv" (ext "csv" or "json"). */
void jr_extract_name(const char *nhs, unsigned cycle, const char *ext, char *out, size_t len);

/* The CSV and the JSON of a cut (a stream's share). Caller owns *out
 * (free). 0, or -1 when out of memory. */
int jr_extract_csv(const jr_cut_t *cut, char **out, size_t *len);
int jr_extract_json(const jr_cut_t *cut, char **out, size_t *len);

#endif
