/* make_corpus.c -- writes the seed corpus: one valid envelope of each kind
 * and a few near misses. Run by hand when the contract changes:
 *   make_corpus tests/fuzz/corpus */
#include <stdio.h>
#include <string.h>

#include "joinedreview/joinedreview.pb-c.h"

static void save(const char *dir, const char *name, const Joinedreview__V1__Envelope *env)
{
    uint8_t buf[4096];
    size_t len = joinedreview__v1__envelope__pack(env, buf);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    Joinedreview__V1__Envelope env = JOINEDREVIEW__V1__ENVELOPE__INIT;
    Joinedreview__V1__PersonIds ids = JOINEDREVIEW__V1__PERSON_IDS__INIT;
    Joinedreview__V1__Contribution c = JOINEDREVIEW__V1__CONTRIBUTION__INIT;
    Joinedreview__V1__Enrolment e = JOINEDREVIEW__V1__ENROLMENT__INIT;
    Joinedreview__V1__ReviewHeld h = JOINEDREVIEW__V1__REVIEW_HELD__INIT;
    Joinedreview__V1__PlanRevision p = JOINEDREVIEW__V1__PLAN_REVISION__INIT;
    env.has_schema_version = 1;
    env.schema_version = 1;
    env.stream = "SC";
    env.source_event_id = "sc-1";
    env.has_occurred_at = 1;
    env.occurred_at = 1790845200000LL;
    ids.nhs_number = "943 476 5919";
    ids.ni_number = "AB123456C";
    env.person = &ids;
    c.has_topic = 1;
    c.topic = JOINEDREVIEW__V1__TOPIC__HEALTH;
    c.has_author_role = 1;
    c.author_role = JOINEDREVIEW__V1__ROLE__PERSON;
    c.has_priority = 1;
    c.priority = JOINEDREVIEW__V1__PRIORITY__RED;
    c.working = "Walking to the shops again";
    c.not_working = "Breathless on the stairs";
    env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_CONTRIBUTION;
    env.contribution = &c;
    save(dir, "contribution", &env);
    e.started_on = "2026-01-12";
    e.last_review_on = "2025-12-05";
    e.award_ends_on = "2029-03-01";
    env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_ENROLMENT;
    env.enrolment = &e;
    save(dir, "enrolment", &env);
    h.held_on = "2026-10-19";
    env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_REVIEW_HELD;
    env.review_held = &h;
    save(dir, "review_held", &env);
    p.revise_by = "2026-12-15";
    p.revised_by = "Priya Shah";
    p.has_approval_needed = 1;
    p.approval_needed = 1;
    env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_PLAN_REVISION;
    env.plan_revision = &p;
    save(dir, "plan_revision", &env);
    e.started_on = "2025-02-30";
    env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_ENROLMENT;
    env.enrolment = &e;
    save(dir, "impossible_date", &env);
    c.working = "caf\xc3\x28";
    env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_CONTRIBUTION;
    env.contribution = &c;
    save(dir, "bad_utf8", &env);
    Joinedreview__V1__ReviewPreferences w = JOINEDREVIEW__V1__REVIEW_PREFERENCES__INIT;
    Joinedreview__V1__Need needs[2] = {JOINEDREVIEW__V1__NEED__NEED_BSL_INTERPRETER,
                                       JOINEDREVIEW__V1__NEED__NEED_EASY_READ};
    char *involve[1] = {"Dev (son)"};
    w.has_way = 1;
    w.way = JOINEDREVIEW__V1__REVIEW_WAY__WAY_WITH_OTHERS;
    w.where = "The residents' lounge";
    w.involve = involve;
    w.n_involve = 1;
    w.needs = needs;
    w.n_needs = 2;
    w.called = "Asha";
    env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_PREFERENCES;
    env.preferences = &w;
    save(dir, "preferences", &env);
    Joinedreview__V1__BudgetStatement b = JOINEDREVIEW__V1__BUDGET_STATEMENT__INIT;
    b.period_start = "2026-04-01";
    b.period_end = "2027-03-31";
    b.allocated_pence = "1820000";
    b.spent_pence = "1715050";
    env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_BUDGET;
    env.budget = &b;
    save(dir, "budget", &env);
    return 0;
}
