/* groups.c -- see groups.h. */
#include "groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group.h"
#include "grow.h"
#include "log.h"
#include "record.h"

void jr_groups_touch(jr_groups_touched_t *t, const char *lead, const char *key)
{
    if (t == NULL || t->failed || lead == NULL || key == NULL) {
        return;
    }
    char k[JR_STREAM_CODE_MAX + 256];
    snprintf(k, sizeof k, "%s\x1f%s", lead, key);
    bool added = false;
    if (jr_strmap_put(&t->index, k, t->n, &added) != 0) {
        t->failed = 1;
        return;
    }
    if (!added) {
        return;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **leads = realloc(t->leads, cap * sizeof *leads);
        if (leads != NULL) {
            t->leads = leads;
        }
        char **keys = leads != NULL ? realloc(t->keys, cap * sizeof *keys) : NULL;
        if (keys == NULL) {
            t->failed = 1;
            return;
        }
        t->keys = keys;
        t->cap = cap;
    }
    t->leads[t->n] = strdup(lead);
    t->keys[t->n] = strdup(key);
    if (t->leads[t->n] == NULL || t->keys[t->n] == NULL) {
        free(t->leads[t->n]);
        free(t->keys[t->n]);
        t->failed = 1;
        return;
    }
    t->n++;
}

void jr_groups_touched_clear(jr_groups_touched_t *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->leads[i]);
        free(t->keys[i]);
    }
    free(t->leads);
    free(t->keys);
    jr_strmap_clear(&t->index);
    memset(t, 0, sizeof *t);
}

/* ---- the read step ---- */

typedef struct {
    char nhs[JR_NHS_LEN + 1];
    char *called; /* owned; NULL when unknown */
    jr_day_t review_on;
    jr_need_set_t needs;
} member_t;

typedef struct {
    uint64_t seq;
    jr_day_t review_on;
    char **members; /* owned */
    size_t n_members;
} current_t;

/* What one (lead, group key) holds. */
typedef struct {
    member_t *members;
    size_t n_members, cap_members;
    current_t *current;
    size_t n_current, cap_current;
} pair_t;

typedef struct {
    pair_t *pairs;
    size_t n;
    int failed;
} groups_read_t;

static void read_clear(groups_read_t *rd)
{
    for (size_t p = 0; rd->pairs != NULL && p < rd->n; p++) {
        pair_t *pr = &rd->pairs[p];
        for (size_t i = 0; i < pr->n_members; i++) {
            free(pr->members[i].called);
        }
        for (size_t i = 0; i < pr->n_current; i++) {
            for (size_t k = 0; k < pr->current[i].n_members; k++) {
                free(pr->current[i].members[k]);
            }
            free(pr->current[i].members);
        }
        free(pr->members);
        free(pr->current);
    }
    free(rd->pairs);
    memset(rd, 0, sizeof *rd);
}

static jr_need_set_t needs_of(const char *csv)
{
    jr_need_set_t set = 0;
    for (const char *c = csv; *c != '\0';) {
        size_t len = strcspn(c, ",");
        char code[32];
        snprintf(code, sizeof code, "%.*s", (int)len, c);
        jr_need_t n = jr_need_from_code(code);
        set |= n != JR_NEED_NONE ? JR_NEED_BIT(n) : 0;
        c += len;
        c += *c == ',';
    }
    return set;
}

static void on_member(void *arg, size_t pair, const char *nhs, jr_day_t review_on,
                      const char *called, const char *needs)
{
    groups_read_t *rd = arg;
    if (rd->failed || pair >= rd->n || review_on == JR_DAY_NONE) {
        return;
    }
    pair_t *p = &rd->pairs[pair];
    member_t *v = jr_grow(p->members, &p->cap_members, p->n_members, sizeof *v);
    if (v == NULL) {
        rd->failed = 1;
        return;
    }
    p->members = v;
    member_t *m = &p->members[p->n_members];
    memset(m, 0, sizeof *m);
    snprintf(m->nhs, sizeof m->nhs, "%s", nhs);
    m->review_on = review_on;
    m->needs = needs_of(needs);
    if (called[0] != '\0' && (m->called = strdup(called)) == NULL) {
        rd->failed = 1;
        return;
    }
    p->n_members++;
}

static void on_current(void *arg, size_t pair, uint64_t seq, jr_day_t review_on,
                       const char *members)
{
    groups_read_t *rd = arg;
    if (rd->failed || pair >= rd->n) {
        return;
    }
    pair_t *p = &rd->pairs[pair];
    current_t *v = jr_grow(p->current, &p->cap_current, p->n_current, sizeof *v);
    if (v == NULL) {
        rd->failed = 1;
        return;
    }
    p->current = v;
    current_t *c = &p->current[p->n_current++];
    memset(c, 0, sizeof *c);
    c->seq = seq;
    c->review_on = review_on;
    size_t most = 1;
    for (const char *m = members; *m != '\0'; m++) {
        most += *m == ',';
    }
    c->members = calloc(most, sizeof *c->members);
    for (const char *m = members; c->members != NULL && *m != '\0';) {
        size_t len = strcspn(m, ",");
        if ((c->members[c->n_members] = strndup(m, len)) == NULL) {
            rd->failed = 1;
            return;
        }
        c->n_members++;
        m += len;
        m += *m == ',';
    }
    rd->failed |= c->members == NULL;
}

/* ---- the write step ---- */

/* What the write sends, and what its rows borrow. */
typedef struct {
    jr_store_group_t *rows;
    size_t n, cap;
    /* per row, owned: members' NHS numbers (borrowed from the read), the
     * replaced sequences and the topic */
    const char ***members;
    uint64_t **replaces;
    char (*topics)[64];
} groups_out_t;

static void out_clear(groups_out_t *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->members[i]);
        free(o->replaces[i]);
    }
    free(o->rows);
    free(o->members);
    free(o->replaces);
    free(o->topics);
    memset(o, 0, sizeof *o);
}

static int out_room(groups_out_t *o)
{
    if (o->n < o->cap) {
        return 0;
    }
    size_t cap = o->cap ? 2 * o->cap : 16;
    jr_store_group_t *rows = realloc(o->rows, cap * sizeof *rows);
    if (rows != NULL) {
        o->rows = rows;
    }
    const char ***members = rows ? realloc(o->members, cap * sizeof *members) : NULL;
    if (members != NULL) {
        o->members = members;
    }
    uint64_t **replaces = members ? realloc(o->replaces, cap * sizeof *replaces) : NULL;
    if (replaces != NULL) {
        o->replaces = replaces;
    }
    char(*topics)[64] = replaces ? realloc(o->topics, cap * sizeof *topics) : NULL;
    if (topics == NULL) {
        return -1;
    }
    o->topics = topics;
    o->cap = cap;
    return 0;
}

/* One suggestion (or, with no group, the withdrawal of `withdrawn`):
 * packed, appended to pubs and to the rows to write. */
static int add_one(groups_out_t *o, jr_publications_t *pubs, uint64_t seq, const char *lead,
                   const char *key, const jr_group_new_t *added, const jr_group_person_t *persons,
                   const pair_t *pr, const jr_strmap_t *by_nhs, uint64_t withdrawn)
{
    if (out_room(o) != 0) {
        return -1;
    }
    size_t n_members = added != NULL ? added->group.n : 0;
    size_t n_replaces = added != NULL ? added->n_replaces : 1;
    const char **members = calloc(n_members + 1, sizeof *members);
    uint64_t *replaces = calloc(n_replaces + 1, sizeof *replaces);
    jr_record_member_t *rm = calloc(n_members + 1, sizeof *rm);
    if (members == NULL || replaces == NULL || rm == NULL) {
        free(members);
        free(replaces);
        free(rm);
        return -1;
    }
    for (size_t i = 0; i < n_members; i++) {
        const jr_group_person_t *gp = &persons[added->group.first + i];
        const member_t *m = &pr->members[*jr_strmap_get(by_nhs, gp->nhs)];
        members[i] = m->nhs;
        rm[i] = (jr_record_member_t){m->nhs, m->called, m->review_on, m->needs};
    }
    for (size_t i = 0; i < n_replaces; i++) {
        replaces[i] = added != NULL ? pr->current[added->replaces[i]].seq : withdrawn;
    }
    jr_record_group_t g = {
        .sequence = seq,
        .lead = lead,
        .group_key = key,
        .review_on = added != NULL ? added->group.review_on : JR_DAY_NONE,
        .members = rm,
        .n_members = n_members,
        .replaces = replaces,
        .n_replaces = n_replaces,
        .withdrawn = added == NULL,
    };
    uint8_t *bytes = NULL;
    size_t len = 0;
    jr_record_group_topic(lead, o->topics[o->n], sizeof o->topics[0]);
    int rc = jr_record_encode_group(&g, &bytes, &len);
    free(rm);
    if (rc != 0 || jr_publications_add(pubs, seq, o->topics[o->n], bytes, len) != 0) {
        free(bytes);
        free(members);
        free(replaces);
        return -1;
    }
    o->members[o->n] = members;
    o->replaces[o->n] = replaces;
    o->rows[o->n] = (jr_store_group_t){
        .seq = seq,
        .lead = lead,
        .group_key = key,
        .review_on = g.review_on,
        .members = members,
        .n_members = n_members,
        .replaces = replaces,
        .n_replaces = n_replaces,
        .current = added != NULL,
        .topic = NULL,    /* set once every row is in: o->topics moves as it grows */
        .payload = bytes, /* owned by pubs */
        .payload_len = len,
    };
    o->n++;
    return 0;
}

/* Plans one (lead, group key) and adds what it publishes. */
static int settle_pair(const jr_batch_ctx_t *ctx, const char *lead, const char *key,
                       const pair_t *pr, uint64_t *seq, groups_out_t *o, jr_publications_t *pubs)
{
    jr_group_person_t *persons = calloc(pr->n_members + 1, sizeof *persons);
    jr_group_current_t *current = calloc(pr->n_current + 1, sizeof *current);
    jr_strmap_t by_nhs = {0};
    jr_group_plan_t plan = {0};
    int rc = persons != NULL && current != NULL ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < pr->n_members; i++) {
        bool added;
        persons[i] = (jr_group_person_t){pr->members[i].nhs, pr->members[i].review_on};
        rc = jr_strmap_put(&by_nhs, pr->members[i].nhs, i, &added);
    }
    for (size_t i = 0; rc == 0 && i < pr->n_current; i++) {
        current[i] = (jr_group_current_t){pr->current[i].seq, pr->current[i].review_on,
                                          (const char *const *)pr->current[i].members,
                                          pr->current[i].n_members};
    }
    if (rc == 0) {
        rc = jr_group_plan(persons, pr->n_members, current, pr->n_current, &ctx->rules, ctx->today,
                           &plan);
    }
    for (size_t i = 0; rc == 0 && i < plan.n_added; i++) {
        rc = add_one(o, pubs, ++*seq, lead, key, &plan.added[i], persons, pr, &by_nhs, 0);
    }
    for (size_t i = 0; rc == 0 && i < plan.n_withdrawn; i++) {
        rc = add_one(o, pubs, ++*seq, lead, key, NULL, persons, pr, &by_nhs,
                     pr->current[plan.withdrawn[i]].seq);
    }
    jr_group_plan_clear(&plan);
    jr_strmap_clear(&by_nhs);
    free(persons);
    free(current);
    return rc;
}

int jr_groups_settle(jr_store_pg_t *store, const jr_batch_ctx_t *ctx,
                     const jr_groups_touched_t *touched, uint64_t *last_seq,
                     jr_publications_t *pubs, size_t *published)
{
    *published = 0;
    if (touched->n == 0) {
        return JR_STORE_OK;
    }
    groups_read_t rd = {.pairs = calloc(touched->n, sizeof *rd.pairs), .n = touched->n};
    groups_out_t o = {0};
    const char *const *leads = (const char *const *)touched->leads;
    const char *const *keys = (const char *const *)touched->keys;
    size_t pubs_before = pubs->n;
    uint64_t seq = *last_seq;
    int rc = rd.pairs != NULL ? JR_STORE_OK : JR_STORE_RETRY;
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_group_members(store, leads, keys, touched->n, on_member, &rd);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_pg_group_current(store, leads, keys, touched->n, on_current, &rd);
    }
    if (rc == JR_STORE_OK && rd.failed) {
        rc = JR_STORE_RETRY;
    }
    for (size_t p = 0; rc == JR_STORE_OK && p < touched->n; p++) {
        if (settle_pair(ctx, leads[p], keys[p], &rd.pairs[p], &seq, &o, pubs) != 0) {
            rc = JR_STORE_RETRY;
        }
    }
    for (size_t i = 0; i < o.n; i++) {
        o.rows[i].topic = o.topics[i]; /* the topics may have moved as they grew */
    }
    if (rc == JR_STORE_OK && o.n > 0) {
        rc = jr_store_pg_groups_add(store, o.rows, o.n);
    }
    if (rc == JR_STORE_OK) {
        *last_seq = seq;
        *published = o.n;
        if (o.n > 0) {
            jr_log(JR_LOG_INFO, "groups", "%zu group suggestion(s) published", o.n);
        }
    } else {
        jr_publications_truncate(pubs, pubs_before);
    }
    out_clear(&o);
    read_clear(&rd);
    return rc;
}
