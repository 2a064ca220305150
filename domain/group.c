/* group.c -- see group.h. */
#include "group.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static int compare_person(const void *pa, const void *pb)
{
    const jr_group_person_t *a = pa, *b = pb;
    if (a->review_on != b->review_on) {
        return a->review_on < b->review_on ? -1 : 1;
    }
    return strcmp(a->nhs, b->nhs);
}

size_t jr_group_form(jr_group_person_t *persons, size_t n, const jr_schedule_rules_t *rules,
                     jr_group_t *out)
{
    jr_schedule_rules_t storage;
    if (rules == NULL) {
        jr_schedule_rules_default(&storage);
        rules = &storage;
    }
    size_t most = rules->group_max >= 2 ? rules->group_max : 2;
    qsort(persons, n, sizeof *persons, compare_person);
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        int64_t edge = (int64_t)persons[i].review_on + rules->group_window_days;
        size_t j = i + 1;
        while (j < n && j - i < most && (int64_t)persons[j].review_on <= edge) {
            j++;
        }
        if (j - i >= 2) {
            out[k++] = (jr_group_t){.review_on = persons[i].review_on, .first = i, .n = j - i};
            i = j;
        } else {
            i++;
        }
    }
    return k;
}

static bool same_group(const jr_group_person_t *persons, const jr_group_t *g,
                       const jr_group_current_t *c, const jr_strmap_t *in_current, size_t at)
{
    if (g->review_on != c->review_on || g->n != c->n_members) {
        return false;
    }
    for (size_t i = 0; i < g->n; i++) {
        const size_t *where = jr_strmap_get(in_current, persons[g->first + i].nhs);
        if (where == NULL || *where != at) {
            return false;
        }
    }
    return true;
}

/* Indices into current, in the order of their ids (a few: insertion). */
static void sort_by_id(size_t *v, size_t n, const jr_group_current_t *current)
{
    for (size_t i = 1; i < n; i++) {
        size_t x = v[i], j = i;
        for (; j > 0 && current[v[j - 1]].id > current[x].id; j--) {
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
}

void jr_group_plan_clear(jr_group_plan_t *plan)
{
    for (size_t i = 0; plan->added != NULL && i < plan->n_added; i++) {
        free(plan->added[i].replaces);
    }
    free(plan->added);
    free(plan->withdrawn);
    memset(plan, 0, sizeof *plan);
}

int jr_group_plan(jr_group_person_t *persons, size_t n, const jr_group_current_t *current,
                  size_t n_current, const jr_schedule_rules_t *rules, jr_day_t today,
                  jr_group_plan_t *out)
{
    memset(out, 0, sizeof *out);
    jr_strmap_t in_current = {0}; /* NHS number -> the current suggestion naming it */
    jr_group_t *groups = calloc(n / 2 + 1, sizeof *groups);
    bool *standing = calloc(n_current + 1, sizeof *standing); /* formed again */
    bool *gone = calloc(n_current + 1, sizeof *gone);         /* replaced */
    out->added = calloc(n / 2 + 1, sizeof *out->added);
    out->withdrawn = calloc(n_current + 1, sizeof *out->withdrawn);
    int rc = -1;
    if (groups == NULL || standing == NULL || gone == NULL || out->added == NULL ||
        out->withdrawn == NULL) {
        goto done;
    }
    for (size_t c = 0; c < n_current; c++) {
        for (size_t m = 0; m < current[c].n_members; m++) {
            bool added;
            if (jr_strmap_put(&in_current, current[c].members[m], c, &added) != 0) {
                goto done;
            }
        }
    }
    size_t n_groups = jr_group_form(persons, n, rules, groups);
    out->n_formed = n_groups;
    /* First the groups formed again: they stand, whatever else happens. */
    bool *again = calloc(n_groups + 1, sizeof *again);
    if (again == NULL) {
        goto done;
    }
    for (size_t g = 0; g < n_groups; g++) {
        const size_t *at = jr_strmap_get(&in_current, persons[groups[g].first].nhs);
        if (at != NULL && same_group(persons, &groups[g], &current[*at], &in_current, *at)) {
            again[g] = standing[*at] = true;
        }
    }
    for (size_t g = 0; g < n_groups; g++) {
        if (again[g] || today < jr_schedule_first_notice_on(groups[g].review_on, rules)) {
            continue;
        }
        jr_group_new_t *a = &out->added[out->n_added++];
        a->group = groups[g];
        a->replaces = calloc(groups[g].n + 1, sizeof *a->replaces);
        if (a->replaces == NULL) {
            free(again);
            goto done;
        }
        for (size_t i = 0; i < groups[g].n; i++) {
            const size_t *at = jr_strmap_get(&in_current, persons[groups[g].first + i].nhs);
            if (at == NULL || standing[*at]) {
                continue;
            }
            bool named = false;
            for (size_t k = 0; k < a->n_replaces; k++) {
                named = named || a->replaces[k] == *at;
            }
            if (!named) {
                a->replaces[a->n_replaces++] = *at;
                gone[*at] = true;
            }
        }
        sort_by_id(a->replaces, a->n_replaces, current);
    }
    free(again);
    for (size_t c = 0; c < n_current; c++) {
        if (!standing[c] && !gone[c] && current[c].review_on > today) {
            out->withdrawn[out->n_withdrawn++] = c;
        }
    }
    sort_by_id(out->withdrawn, out->n_withdrawn, current);
    rc = 0;
done:
    jr_strmap_clear(&in_current);
    free(groups);
    free(standing);
    free(gone);
    if (rc != 0) {
        jr_group_plan_clear(out);
    }
    return rc;
}
