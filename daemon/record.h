/* record.h -- what the daemon publishes, packed for the wire: consolidated
 * reviews, due notices with the topic each goes out under, and statistics.
 * Deterministic: the same inputs always give the same bytes, so that
 * --rebuild reproduces every record byte for byte. */
#ifndef JR_RECORD_H
#define JR_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "merge.h"
#include "schedule.h"
#include "statistics.h"

/* Identifies the consolidated record around a merged review. */
typedef struct {
    const char *nhs_number;
    uint32_t cycle;
    uint32_t version;
    uint64_t sequence;
} jr_record_id_t;

/* Packs a ConsolidatedReview with its schedule (may be NULL) and, for a
 * final record, the schedule its review held found (jr_schedule_at_meeting;
 * NULL while the cycle is open). Caller owns *out (free). Returns 0, or -1
 * when out of memory. */
int jr_record_encode_review(const jr_review_t *review, const jr_schedule_t *schedule,
                            const jr_schedule_t *meeting, const jr_record_id_t *id, uint8_t **out,
                            size_t *len);

/* Packs a DueNotice. `review` gives the covered streams still missing
 * minimum information, and the person's preferences and name. Caller owns
 * *out (free). Returns 0, or -1. */
int jr_record_encode_notice(const jr_notice_t *notice, const jr_schedule_t *schedule,
                            const jr_review_t *review, const jr_record_id_t *id, uint8_t **out,
                            size_t *len);

/* The topic a notice is published under, "notice.<kind>.<lead>", e.g.
 * "notice.due.SC" ("NONE" without a lead). The one place the rule is
 * written: the store keeps the topic with the notice. */
void jr_record_notice_topic(const jr_notice_t *notice, const jr_schedule_t *schedule, char *out,
                            size_t outlen);

/* A member of a suggested group, as the suggestion names them. */
typedef struct {
    const char *nhs;
    const char *called; /* NULL when unknown */
    jr_day_t review_on; /* their own joined-up review date */
    jr_need_set_t needs;
} jr_record_member_t;

/* A suggested group review (group.h). Strings and arrays are borrowed. */
typedef struct {
    uint64_t sequence;
    const char *lead;
    const char *group_key;
    jr_day_t review_on; /* JR_DAY_NONE when withdrawn */
    const jr_record_member_t *members;
    size_t n_members;
    const uint64_t *replaces;
    size_t n_replaces;
    bool withdrawn;
} jr_record_group_t;

/* Packs a GroupSuggestion. Caller owns *out. Returns 0, or -1. */
int jr_record_encode_group(const jr_record_group_t *group, uint8_t **out, size_t *len);

/* The topic a group suggestion goes out under: "group.<lead>". */
void jr_record_group_topic(const char *lead, char *out, size_t outlen);

/* Packs a Statistics message. Caller owns *out. Returns 0, or -1. */
int jr_record_encode_statistics(const jr_statistics_t *stats, uint8_t **out, size_t *len);

#endif
