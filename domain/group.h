/* group.h -- suggested group reviews (DOMAIN.md, "Group reviews"; the
 * review format: "see if people want to do their review with others who are
 * doing their review at the same time").
 *
 * The rules, for the persons of one lead organisation and one group key who
 * want their review with others (merge.h says whose group key is whose):
 *  - Forming: the persons in review date order (then NHS number). The first
 *    not yet placed starts a group; the next ones join while their review
 *    date falls within rules->group_window_days of the first's (exactly
 *    window days after is in, one more out) and the group has fewer than
 *    rules->group_max members. A group of one is no group: that person is
 *    left alone and the next starts a group.
 *  - The suggested date is the earliest member's review date. Nobody's own
 *    date moves: a suggestion brings nobody's review later than their own
 *    date (it is never later than any member's), and changes no schedule.
 *  - Publishing: a group is published once its date's first notice is due
 *    (today on or after jr_schedule_first_notice_on() of its date), so it
 *    goes out with that notice; once per membership: a formed group equal
 *    (same date, same members) to a current suggestion is not published
 *    again.
 *  - Replacing: a group published names every current suggestion that
 *    shares a member with it and is not itself formed again; those are no
 *    longer current.
 *  - Withdrawing: a current suggestion that is not formed again and that no
 *    group published replaces is withdrawn when its date is still to come
 *    (after today): the group no longer forms. One whose date has come is
 *    left as it stands: whether the meeting happened is in the members'
 *    reviews.
 *
 * Pure: no I/O, no clock (today is an argument). The result depends on the
 * set of persons and current suggestions, never on their order. */
#ifndef JR_GROUP_H
#define JR_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "schedule.h"
#include "text.h"

/* A person who wants their review with others, at their review date. */
typedef struct {
    const char *nhs; /* borrowed */
    jr_day_t review_on;
} jr_group_person_t;

/* A suggestion published before and still current. */
typedef struct {
    uint64_t id; /* the sequence number it was published with */
    jr_day_t review_on;
    const char *const *members; /* borrowed NHS numbers */
    size_t n_members;
} jr_group_current_t;

/* A group formed: persons[first .. first + n) once sorted. */
typedef struct {
    jr_day_t review_on; /* the earliest member's */
    size_t first, n;
} jr_group_t;

/* Sorts persons[0..n) into review date order (then NHS number) and writes
 * the groups they form to out (room for n / 2 at least). Returns how many.
 * rules NULL means the defaults. */
size_t jr_group_form(jr_group_person_t *persons, size_t n, const jr_schedule_rules_t *rules,
                     jr_group_t *out);

/* A group to publish. */
typedef struct {
    jr_group_t group;
    size_t *replaces; /* indices into current; owned by the plan */
    size_t n_replaces;
} jr_group_new_t;

typedef struct {
    jr_group_new_t *added; /* in date order */
    size_t n_added;
    size_t *withdrawn; /* indices into current */
    size_t n_withdrawn;
    size_t n_formed; /* groups formed, published or not */
} jr_group_plan_t;

/* Decides one lead organisation and group key: forms the groups of
 * persons (sorted in place, as jr_group_form), and says which to publish,
 * what each replaces and which current suggestions are withdrawn. Caller
 * clears *out (jr_group_plan_clear). 0, or -1 when out of memory. */
int jr_group_plan(jr_group_person_t *persons, size_t n, const jr_group_current_t *current,
                  size_t n_current, const jr_schedule_rules_t *rules, jr_day_t today,
                  jr_group_plan_t *out);

void jr_group_plan_clear(jr_group_plan_t *plan);

#endif
