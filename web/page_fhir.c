/* page_fhir.c -- GET /fhir/...: the consolidated reviews in FHIR R4, read
 * only (see page.h, fhir_map.h for the mapping, fhir_params.h for what a
 * search may ask).
 *
 * The same accounts, sessions and rules as the pages: a scheduler reads the
 * whole review of the persons their leads lead, a stream officer the cut of
 * the persons enrolled in their stream, built by the same jr_page_may_see
 * and jr_cut_build. Every answer that holds a person's record writes one
 * audit row per person (page "fhir") before a byte of it is sent.
 *
 * What a request may cost is bounded: 32 parameters, _count at most 100
 * entries a page (includes on top, bounded by the person's record), and the
 * answer's ceiling (page_max_bytes), past which the answer is an
 * OperationOutcome "too-costly", never half a Bundle. */
#include "page.h"

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "fhir_json.h"
#include "fhir_map.h"
#include "fhir_params.h"
#include "nhs.h"
#include "queries.h"

#define FHIR_TYPE  "application/fhir+json; charset=utf-8"
#define MAX_PARAMS 32
#define MAX_AUDIT  128
#define FHIR_NS    "https://joinedreview.uk/fhir"

/* ---- answers ------------------------------------------------------------ */

static void answer(jr_resp_t *resp, unsigned status, json_t *doc)
{
    resp->type = FHIR_TYPE;
    resp->status = status;
    if (!jr_fj_write(&resp->body, doc)) {
        size_t max = resp->body.max;
        jr_html_clear(&resp->body);
        jr_html_init(&resp->body, max);
        resp->status = 500;
        jr_fj_write(&resp->body,
                    jr_fj_outcome("too-costly", "The answer would be larger than this service "
                                                "sends: ask for fewer entries (_count) or fewer "
                                                "_include."));
    }
}

static void outcome(jr_resp_t *resp, unsigned status, const char *code, const char *text)
{
    answer(resp, status, jr_fj_outcome(code, text));
}

/* ---- the request's parameters --------------------------------------------- */

typedef struct {
    const char *names[MAX_PARAMS], *values[MAX_PARAMS];
    size_t n;
    bool too_many;
} args_t;

static enum MHD_Result one_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    args_t *a = cls;
    if (a->n == MAX_PARAMS) {
        a->too_many = true;
        return MHD_NO;
    }
    a->names[a->n] = key;
    a->values[a->n++] = value ? value : "";
    return MHD_YES;
}

/* ---- where this service is --------------------------------------------------- */

typedef struct {
    char base[200]; /* "https://host:port/fhir" */
    jr_fhir_ctx_t ctx;
} where_t;

static void where(const jr_req_t *req, where_t *w)
{
    /* The Host header names the service as the client reached it; only a
     * host name or address and a port are taken, anything else is not
     * echoed into links. */
    const char *host = jr_req_header(req, "Host");
    bool ok = host != NULL && host[0] != '\0' && strlen(host) < 100;
    for (const char *c = host; ok && *c; c++) {
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             *c == '.' || *c == '-' || *c == ':' || *c == '[' || *c == ']';
    }
    snprintf(w->base, sizeof w->base, "%s://%s/fhir", req->app->tls ? "https" : "http",
             ok ? host : "localhost");
    w->ctx.ns = FHIR_NS;
    w->ctx.streams = req->app->streams;
}

/* ---- a person's records -------------------------------------------------- */

typedef struct {
    PGresult *rows;     /* jr_queries_person: every cycle, newest first */
    PGresult *received; /* jr_queries_received, when asked */
    char nhs[11];
} person_t;

static void person_clear(person_t *p)
{
    PQclear(p->rows);
    PQclear(p->received);
    memset(p, 0, sizeof *p);
}

/* 0: loaded and the account may see them; 1: nobody the account may see;
 * -1: the database did not answer. */
static int person_load(PGconn *c, const jr_account_t *a, const char *nhs, bool received,
                       person_t *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->nhs, sizeof p->nhs, "%s", nhs);
    p->rows = jr_queries_person(c, nhs);
    if (p->rows == NULL) {
        return -1;
    }
    if (!jr_page_may_see(a, p->rows)) {
        person_clear(p);
        return 1;
    }
    if (received) {
        p->received = jr_queries_received(c, nhs);
        if (p->received == NULL) {
            person_clear(p);
            return -1;
        }
    }
    return 0;
}

static Joinedreview__V1__ConsolidatedReview *decode(PGresult *rows, int row, int col,
                                                    const char *nhs)
{
    size_t len = 0;
    unsigned char *bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(rows, row, col), &len);
    Joinedreview__V1__ConsolidatedReview *r =
        bytes ? joinedreview__v1__consolidated_review__unpack(NULL, len, bytes) : NULL;
    PQfreemem(bytes);
    if (r != NULL && (r->nhs_number == NULL || strcmp(r->nhs_number, nhs) != 0)) {
        joinedreview__v1__consolidated_review__free_unpacked(r, NULL);
        r = NULL;
    }
    return r;
}

static int scope_of(const jr_req_t *req, jr_share_scope_t *scope)
{
    const jr_account_t *a = &req->session->account;
    if (a->role == JR_ACCOUNT_SCHEDULER) {
        jr_share_scope_whole(scope);
        return 0;
    }
    return jr_share_scope_stream(scope, req->app->streams, a->stream);
}

/* One cycle of a loaded person, decoded and cut. */
typedef struct {
    Joinedreview__V1__ConsolidatedReview *record;
    jr_cut_t cut;
    const char *opened_on; /* the held day of the cycle before, or NULL */
    int row;
} cycle_t;

static void cycle_clear(cycle_t *y)
{
    jr_cut_clear(&y->cut);
    if (y->record != NULL) {
        joinedreview__v1__consolidated_review__free_unpacked(y->record, NULL);
    }
    memset(y, 0, sizeof *y);
}

/* Row row of p (0: the current cycle). 0, or -1 when it cannot be read. */
static int cycle_load(const person_t *p, int row, const jr_share_scope_t *scope, cycle_t *y)
{
    memset(y, 0, sizeof *y);
    y->row = row;
    y->record = decode(p->rows, row, 3, p->nhs);
    if (y->record == NULL || jr_cut_build(&y->cut, y->record, scope) != 0) {
        cycle_clear(y);
        return -1;
    }
    if (row + 1 < PQntuples(p->rows)) {
        const char *held = PQgetvalue(p->rows, row + 1, 2);
        y->opened_on = held[0] != '\0' ? held : NULL;
    }
    return 0;
}

static int row_of_cycle(const person_t *p, unsigned cycle)
{
    for (int i = 0; i < PQntuples(p->rows); i++) {
        if (strtoul(PQgetvalue(p->rows, i, 0), NULL, 10) == cycle) {
            return i;
        }
    }
    return -1;
}

static const char *received_at(const person_t *p, const Joinedreview__V1__Statement *s)
{
    const Joinedreview__V1__Provenance *v = s->provenance;
    if (p->received == NULL || v == NULL || v->stream == NULL || v->source_event_id == NULL) {
        return NULL;
    }
    for (int i = 0; i < PQntuples(p->received); i++) {
        if (strcmp(PQgetvalue(p->received, i, 0), v->stream) == 0 &&
            strcmp(PQgetvalue(p->received, i, 1), v->source_event_id) == 0) {
            return PQgetvalue(p->received, i, 2);
        }
    }
    return NULL;
}

/* ---- a Bundle being written ------------------------------------------------ */

typedef struct {
    json_t *doc, *seen;
    const where_t *w;
    char audit_nhs[MAX_AUDIT][11];
    unsigned audit_cycle[MAX_AUDIT];
    size_t n_audit;
    size_t matches;
} bundle_t;

static void bundle_init(bundle_t *b, const where_t *w)
{
    memset(b, 0, sizeof *b);
    b->w = w;
    b->doc = json_object();
    b->seen = json_object();
    jr_fj_set_str(b->doc, "resourceType", "Bundle");
    jr_fj_set_str(b->doc, "type", "searchset");
}

static void bundle_clear(bundle_t *b)
{
    json_decref(b->doc);
    json_decref(b->seen);
    b->doc = b->seen = NULL;
}

/* Adds resource (taking it) once: an include already in is not repeated. */
static void bundle_add(bundle_t *b, json_t *resource, bool match)
{
    if (resource == NULL) {
        return;
    }
    char url[300];
    snprintf(url, sizeof url, "%s/%s/%s", b->w->base,
             json_string_value(json_object_get(resource, "resourceType")),
             json_string_value(json_object_get(resource, "id")));
    if (json_object_get(b->seen, url) != NULL) {
        json_decref(resource);
        return;
    }
    json_object_set_new(b->seen, url, json_true());
    json_t *e = json_object(), *search = json_object();
    jr_fj_set_str(e, "fullUrl", url);
    jr_fj_set(e, "resource", resource);
    jr_fj_set_str(search, "mode", match ? "match" : "include");
    jr_fj_set(e, "search", search);
    jr_fj_push(b->doc, "entry", e);
    b->matches += match;
}

static void bundle_audit(bundle_t *b, const char *nhs, unsigned cycle)
{
    for (size_t i = 0; i < b->n_audit; i++) {
        if (strcmp(b->audit_nhs[i], nhs) == 0 && b->audit_cycle[i] == cycle) {
            return;
        }
    }
    if (b->n_audit < MAX_AUDIT) {
        snprintf(b->audit_nhs[b->n_audit], 11, "%s", nhs);
        b->audit_cycle[b->n_audit++] = cycle;
    }
}

static void url_encode(char *out, size_t len, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t used = strlen(out);
    for (; *s && used + 4 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
            out[used++] = (char)c;
        } else {
            out[used++] = '%';
            out[used++] = hex[c >> 4];
            out[used++] = hex[c & 15];
        }
    }
    out[used] = '\0';
}

/* The search's own address, with cursor as _cursor (NULL: none). */
static void search_link(char *out, size_t len, const where_t *w, const char *type, const args_t *a,
                        const char *cursor)
{
    snprintf(out, len, "%s/%s", w->base, type);
    bool first = true;
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->names[i], "_cursor") == 0) {
            continue;
        }
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s", first ? "?" : "&");
        url_encode(out, len, a->names[i]);
        used = strlen(out);
        snprintf(out + used, len - used, "=");
        url_encode(out, len, a->values[i]);
        first = false;
    }
    if (cursor != NULL) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s_cursor=", first ? "?" : "&");
        url_encode(out, len, cursor);
    }
}

static void bundle_links(bundle_t *b, const char *type, const args_t *a, const char *next)
{
    char url[2048];
    json_t *self = json_object();
    search_link(url, sizeof url, b->w, type, a, NULL);
    jr_fj_set_str(self, "relation", "self");
    jr_fj_set_str(self, "url", url);
    jr_fj_push(b->doc, "link", self);
    if (next != NULL) {
        json_t *n = json_object();
        search_link(url, sizeof url, b->w, type, a, next);
        jr_fj_set_str(n, "relation", "next");
        jr_fj_set_str(n, "url", url);
        jr_fj_push(b->doc, "link", n);
    }
}

/* Writes the audit rows, then the Bundle. */
static void bundle_send(jr_req_t *req, jr_resp_t *resp, PGconn *c, bundle_t *b)
{
    if (b->n_audit > 0) {
        if (jr_audit_views(c, &req->session->account, (const char(*)[11])b->audit_nhs,
                           b->audit_cycle, b->n_audit, "fhir", req->address) != 0) {
            bundle_clear(b);
            outcome(resp, 503, "transient",
                    "Every read of a review is recorded, and the record cannot be written just "
                    "now, so nothing is sent. Please try again in a minute.");
            return;
        }
        atomic_fetch_add(&req->app->audit_rows, b->n_audit);
    }
    json_decref(b->seen);
    b->seen = NULL;
    answer(resp, 200, b->doc);
    b->doc = NULL;
}

/* ---- the resources of one cycle ---------------------------------------------- */

static void add_provenances(bundle_t *b, const person_t *p, const cycle_t *y, unsigned only_area)
{
    for (unsigned a = 1; a <= JR_AREA_COUNT; a++) {
        const jr_cut_area_t *ar = &y->cut.areas[a - 1];
        if (!ar->shown || (only_area != 0 && a != only_area)) {
            continue;
        }
        for (size_t i = 0; i < ar->n_statements; i++) {
            bundle_add(b,
                       jr_fhir_provenance(&b->w->ctx, &y->cut, a, ar->statements[i],
                                          received_at(p, ar->statements[i])),
                       false);
        }
    }
}

static json_t *patient_of(const cycle_t *y)
{
    return jr_fhir_patient(y->cut.nhs_number, y->cut.called);
}

static json_t *organization(const where_t *w, const char *code)
{
    const jr_stream_t *s = code ? jr_streams_find(w->ctx.streams, code) : NULL;
    return s != NULL && s->enabled ? jr_fhir_organization(&w->ctx, s) : NULL;
}

/* ---- ids -------------------------------------------------------------------- */

/* "NHS", "NHS-N" or "NHS-N-N": the parts, or -1. */
static int parse_id(const char *id, char nhs[11], unsigned *n1, unsigned *n2)
{
    *n1 = *n2 = 0;
    size_t len = strspn(id, "0123456789");
    if (len != 10) {
        return -1;
    }
    memcpy(nhs, id, 10);
    nhs[10] = '\0';
    int parts = 1;
    const char *c = id + 10;
    while (*c == '-' && parts < 3) {
        size_t d = strspn(c + 1, "0123456789");
        if (d == 0 || d > 6) {
            return -1;
        }
        unsigned v = (unsigned)strtoul(c + 1, NULL, 10);
        if (parts == 1) {
            *n1 = v;
        } else {
            *n2 = v;
        }
        parts++;
        c += 1 + d;
    }
    if (*c != '\0') {
        return -1;
    }
    char checked[11];
    return jr_nhs_normalise(nhs, checked) == JR_NHS_OK ? parts : -1;
}

/* ---- reads ---------------------------------------------------------------------- */

static void not_found(jr_resp_t *resp, const char *type)
{
    char text[120];
    snprintf(text, sizeof text, "There is no %s with that id among the records you may see.", type);
    outcome(resp, 404, "not-found", text);
}

static void read_one(jr_req_t *req, jr_resp_t *resp, PGconn *c, const where_t *w, const char *type,
                     const char *id)
{
    if (strcmp(type, "Organization") == 0) {
        json_t *o = strlen(id) < JR_STREAM_CODE_MAX ? organization(w, id) : NULL;
        if (o == NULL) {
            not_found(resp, type);
            return;
        }
        answer(resp, 200, o);
        return;
    }
    char nhs[11];
    unsigned n1, n2;
    int parts = -1;
    bool provenance = strcmp(type, "Provenance") == 0;
    if (provenance) {
        /* NHS-HEX16 */
        parts = strlen(id) == 27 && id[10] == '-' && strspn(id + 11, "0123456789abcdef") == 16 &&
                        strspn(id, "0123456789") == 10
                    ? 1
                    : -1;
        if (parts == 1) {
            memcpy(nhs, id, 10);
            nhs[10] = '\0';
        }
    } else {
        parts = parse_id(id, nhs, &n1, &n2);
    }
    bool shape = parts == 1   ? strcmp(type, "Patient") == 0 || provenance
                 : parts == 2 ? strcmp(type, "CarePlan") == 0 || strcmp(type, "Task") == 0
                 : parts == 3 ? strcmp(type, "Goal") == 0
                              : false;
    if (!shape) {
        not_found(resp, type);
        return;
    }
    jr_share_scope_t scope;
    if (scope_of(req, &scope) != 0) {
        outcome(resp, 403, "forbidden", "Your funding stream is not configured here.");
        return;
    }
    person_t p;
    int rc = person_load(c, &req->session->account, nhs, provenance, &p);
    if (rc != 0) {
        if (rc < 0) {
            outcome(resp, 503, "transient", "The database did not answer. Please try again.");
        } else {
            not_found(resp, type);
        }
        return;
    }
    int row = strcmp(type, "CarePlan") == 0 || strcmp(type, "Goal") == 0 ? row_of_cycle(&p, n1) : 0;
    bundle_t b; /* for its audit list; the answer is the one resource */
    bundle_init(&b, w);
    json_t *found = NULL;
    cycle_t y;
    for (; row >= 0 && row < PQntuples(p.rows) && found == NULL; row++) {
        if (cycle_load(&p, row, &scope, &y) != 0) {
            break;
        }
        if (strcmp(type, "Patient") == 0) {
            found = patient_of(&y);
        } else if (strcmp(type, "CarePlan") == 0) {
            found = jr_fhir_careplan(&w->ctx, &y.cut, y.opened_on);
        } else if (strcmp(type, "Goal") == 0) {
            found = jr_fhir_goal(&w->ctx, &y.cut, n2);
        } else if (strcmp(type, "Task") == 0) {
            found = jr_fhir_task_cycle(&y.cut) == n1 ? jr_fhir_task(&w->ctx, &y.cut) : NULL;
        } else {
            for (unsigned a = 1; a <= JR_AREA_COUNT && found == NULL; a++) {
                const jr_cut_area_t *ar = &y.cut.areas[a - 1];
                for (size_t i = 0; ar->shown && i < ar->n_statements && found == NULL; i++) {
                    char pid[40];
                    jr_fhir_provenance_id(nhs, ar->statements[i], pid);
                    if (strcmp(pid, id) == 0) {
                        found = jr_fhir_provenance(&w->ctx, &y.cut, a, ar->statements[i],
                                                   received_at(&p, ar->statements[i]));
                    }
                }
            }
        }
        if (found != NULL) {
            bundle_audit(&b, nhs, y.cut.cycle);
        }
        cycle_clear(&y);
        if (!provenance) {
            break; /* the others are in the one row asked for */
        }
    }
    if (found == NULL) {
        bundle_clear(&b);
        person_clear(&p);
        not_found(resp, type);
        return;
    }
    if (jr_audit_views(c, &req->session->account, (const char(*)[11])b.audit_nhs, b.audit_cycle,
                       b.n_audit, "fhir", req->address) != 0) {
        json_decref(found);
        outcome(resp, 503, "transient",
                "Every read of a review is recorded, and the record cannot be written just now, "
                "so nothing is sent. Please try again in a minute.");
    } else {
        atomic_fetch_add(&req->app->audit_rows, b.n_audit);
        answer(resp, 200, found);
    }
    bundle_clear(&b);
    person_clear(&p);
}

/* ---- searches -------------------------------------------------------------------- */

/* Patient: one by identifier, or the persons the account may see in NHS
 * number order. */
static int search_patient(jr_req_t *req, PGconn *c, const jr_fhir_query_t *q, bundle_t *b,
                          const jr_share_scope_t *scope, char *next)
{
    const jr_account_t *a = &req->session->account;
    const char *leads[JR_ACCOUNT_LEADS_MAX];
    for (size_t i = 0; i < a->n_leads && i < JR_ACCOUNT_LEADS_MAX; i++) {
        leads[i] = a->leads[i];
    }
    PGresult *list = NULL;
    if (q->nhs[0] == '\0') {
        list = jr_queries_visible(c, a->role == JR_ACCOUNT_SCHEDULER ? leads : NULL, a->n_leads,
                                  a->role == JR_ACCOUNT_STREAM_OFFICER ? a->stream : NULL,
                                  q->cursor[0] ? q->cursor : NULL, q->count + 1);
        if (list == NULL) {
            return -1;
        }
    }
    int n = list ? PQntuples(list) : 1;
    for (int i = 0; i < n && i < q->count; i++) {
        const char *nhs = list ? PQgetvalue(list, i, 0) : q->nhs;
        person_t p;
        int rc = person_load(c, a, nhs, false, &p);
        if (rc < 0) {
            PQclear(list);
            return -1;
        }
        cycle_t y;
        if (rc == 0 && cycle_load(&p, 0, scope, &y) == 0) {
            bundle_add(b, patient_of(&y), true);
            bundle_audit(b, nhs, y.cut.cycle);
            cycle_clear(&y);
        }
        person_clear(&p);
    }
    if (list != NULL && n > q->count) {
        snprintf(next, 48, "%s", PQgetvalue(list, q->count - 1, 0));
    }
    PQclear(list);
    return 0;
}

/* CarePlan and Goal: of one person, newest cycle first; the cursor is the
 * last entry's id. */
static int search_person_plans(jr_req_t *req, PGconn *c, const jr_fhir_query_t *q, bundle_t *b,
                               const jr_share_scope_t *scope, char *next)
{
    bool goals = strcmp(q->type, "Goal") == 0;
    person_t p;
    int rc =
        person_load(c, &req->session->account, q->nhs, q->include & JR_FHIR_INC_PROVENANCE, &p);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }
    bool started = q->cursor[0] == '\0', more = false;
    size_t taken = 0;
    for (int row = 0; row < PQntuples(p.rows) && !more; row++) {
        cycle_t y;
        if (cycle_load(&p, row, scope, &y) != 0) {
            person_clear(&p);
            return -1;
        }
        unsigned want = y.cut.held_on != NULL ? 2 : 1;
        bool status_ok = q->status == 0 || (q->status & want) != 0;
        for (unsigned a = goals ? 1 : 0; status_ok && !more && a <= (goals ? JR_AREA_COUNT : 0);
             a++) {
            if (goals && !y.cut.areas[a - 1].shown) {
                continue;
            }
            char id[40];
            if (goals) {
                jr_fhir_goal_id(p.nhs, y.cut.cycle, a, id);
            } else {
                jr_fhir_careplan_id(p.nhs, y.cut.cycle, id);
            }
            if (!started) {
                started = strcmp(id, q->cursor) == 0;
                continue;
            }
            if (taken == (size_t)q->count) {
                more = true; /* next already names the last entry of this page */
                break;
            }
            taken++;
            bundle_audit(b, p.nhs, y.cut.cycle);
            if (goals) {
                bundle_add(b, jr_fhir_goal(&b->w->ctx, &y.cut, a), true);
            } else {
                bundle_add(b, jr_fhir_careplan(&b->w->ctx, &y.cut, y.opened_on), true);
                for (unsigned g = 1; (q->include & JR_FHIR_INC_GOAL) && g <= JR_AREA_COUNT; g++) {
                    bundle_add(b, jr_fhir_goal(&b->w->ctx, &y.cut, g), false);
                }
                if ((q->include & JR_FHIR_INC_AUTHOR) && y.cut.schedule != NULL) {
                    bundle_add(b, organization(b->w, y.cut.schedule->lead), false);
                }
            }
            if (q->include & JR_FHIR_INC_SUBJECT) {
                bundle_add(b, patient_of(&y), false);
            }
            if (q->include & JR_FHIR_INC_PROVENANCE) {
                add_provenances(b, &p, &y, goals ? a : 0);
            }
            snprintf(next, 48, "%s", id);
        }
        cycle_clear(&y);
    }
    person_clear(&p);
    return more;
}

/* Provenance?target=Goal/ID or CarePlan/ID. */
static int search_provenance(jr_req_t *req, PGconn *c, const jr_fhir_query_t *q, bundle_t *b,
                             const jr_share_scope_t *scope, char *next)
{
    char nhs[11];
    unsigned cycle, area;
    int parts = parse_id(q->target_id, nhs, &cycle, &area);
    bool goal = strcmp(q->target_type, "Goal") == 0;
    if (parts != (goal ? 3 : 2)) {
        return 0;
    }
    person_t p;
    int rc = person_load(c, &req->session->account, nhs, true, &p);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }
    int row = row_of_cycle(&p, cycle);
    cycle_t y;
    if (row < 0 || cycle_load(&p, row, scope, &y) != 0) {
        person_clear(&p);
        return 0;
    }
    bool started = q->cursor[0] == '\0';
    size_t taken = 0;
    int more = 0;
    for (unsigned a = 1; a <= JR_AREA_COUNT && !more; a++) {
        const jr_cut_area_t *ar = &y.cut.areas[a - 1];
        if (!ar->shown || (goal && a != area)) {
            continue;
        }
        for (size_t i = 0; i < ar->n_statements; i++) {
            char id[40];
            jr_fhir_provenance_id(nhs, ar->statements[i], id);
            if (!started) {
                started = strcmp(id, q->cursor) == 0;
                continue;
            }
            if (taken == (size_t)q->count) {
                more = 1;
                break;
            }
            taken++;
            bundle_add(b,
                       jr_fhir_provenance(&b->w->ctx, &y.cut, a, ar->statements[i],
                                          received_at(&p, ar->statements[i])),
                       true);
            snprintf(next, 48, "%s", id);
        }
    }
    if (taken > 0) {
        bundle_audit(b, nhs, y.cut.cycle);
    }
    cycle_clear(&y);
    person_clear(&p);
    return more;
}

static bool task_matches(const jr_fhir_query_t *q, const jr_cut_t *cut)
{
    const Joinedreview__V1__Schedule *s = cut->schedule;
    if (s == NULL || s->review_on == NULL) {
        return false;
    }
    jr_day_t due;
    if (jr_text_parse_date(s->review_on, &due) != 0) {
        return false;
    }
    return (q->due_from == JR_DAY_NONE || due >= q->due_from) &&
           (q->due_to == JR_DAY_NONE || due <= q->due_to) &&
           (q->owner[0] == '\0' || (s->lead != NULL && strcmp(s->lead, q->owner) == 0));
}

static void add_task(bundle_t *b, const jr_fhir_query_t *q, const cycle_t *y)
{
    bundle_add(b, jr_fhir_task(&b->w->ctx, &y->cut), true);
    bundle_audit(b, y->cut.nhs_number, y->cut.cycle);
    if (q->include & JR_FHIR_INC_SUBJECT) {
        bundle_add(b, patient_of(y), false);
    }
    if ((q->include & JR_FHIR_INC_AUTHOR) && y->cut.schedule != NULL) {
        bundle_add(b, organization(b->w, y->cut.schedule->lead), false);
    }
    if ((q->include & JR_FHIR_INC_FOCUS) && y->cut.held_on == NULL) {
        bundle_add(b, jr_fhir_careplan(&b->w->ctx, &y->cut, y->opened_on), false);
    }
}

/* Task: the next joined-up reviews, as the worklist: in review date order,
 * the cursor "YYYY-MM-DD.NHS" of the last one. */
static int search_task(jr_req_t *req, PGconn *c, const jr_fhir_query_t *q, bundle_t *b,
                       const jr_share_scope_t *scope, char *next)
{
    const jr_account_t *a = &req->session->account;
    if (q->status != 0 && (q->status & 1) == 0) {
        return 0; /* only requested Tasks are served */
    }
    if (q->nhs[0] != '\0') {
        person_t p;
        int rc = person_load(c, a, q->nhs, false, &p);
        if (rc != 0) {
            return rc < 0 ? -1 : 0;
        }
        cycle_t y;
        if (q->cursor[0] == '\0' && cycle_load(&p, 0, scope, &y) == 0) {
            if (task_matches(q, &y.cut)) {
                add_task(b, q, &y);
            }
            cycle_clear(&y);
        }
        person_clear(&p);
        return 0;
    }
    jr_queries_worklist_t w = {.ready = -1, .limit = q->count + 1};
    const char *leads[JR_ACCOUNT_LEADS_MAX], *owner[1] = {q->owner};
    size_t n = 0;
    if (a->role == JR_ACCOUNT_SCHEDULER) {
        for (size_t i = 0; i < a->n_leads && i < JR_ACCOUNT_LEADS_MAX; i++) {
            if (q->owner[0] == '\0' || strcmp(a->leads[i], q->owner) == 0) {
                leads[n++] = a->leads[i];
            }
        }
        if (n == 0) {
            return 0; /* an owner none of the account's leads is */
        }
        w.leads = leads;
        w.n_leads = n;
    } else {
        w.enrolled_in = a->stream;
        if (q->owner[0] != '\0') {
            w.leads = owner;
            w.n_leads = 1;
        }
    }
    w.first = q->due_from;
    w.last = q->due_to;
    char after_nhs[11];
    if (q->cursor[0] != '\0') {
        /* "YYYY-MM-DD.NHS" */
        char day[11];
        if (strlen(q->cursor) != 21 || q->cursor[10] != '.') {
            return -2;
        }
        memcpy(day, q->cursor, 10);
        day[10] = '\0';
        if (jr_text_parse_date(day, &w.after_on) != 0 ||
            strspn(q->cursor + 11, "0123456789") != 10) {
            return -2;
        }
        memcpy(after_nhs, q->cursor + 11, 11);
        w.after_nhs = after_nhs;
    }
    PGresult *list = jr_queries_worklist(c, &w);
    if (list == NULL) {
        return -1;
    }
    int rows = PQntuples(list);
    int shown = rows < q->count ? rows : q->count;
    if (shown > 0) {
        /* Their current records, in one statement. */
        const char *nhs[JR_FHIR_COUNT_MAX];
        for (int i = 0; i < shown; i++) {
            nhs[i] = PQgetvalue(list, i, 0);
        }
        PGresult *cur = jr_queries_current(c, nhs, (size_t)shown);
        if (cur == NULL) {
            PQclear(list);
            return -1;
        }
        for (int i = 0; i < shown; i++) {
            for (int k = 0; k < PQntuples(cur); k++) {
                if (strcmp(PQgetvalue(cur, k, 0), nhs[i]) != 0) {
                    continue;
                }
                cycle_t y;
                memset(&y, 0, sizeof y);
                y.record = decode(cur, k, 2, nhs[i]);
                if (y.record != NULL && jr_cut_build(&y.cut, y.record, scope) == 0) {
                    const char *held = PQgetvalue(cur, k, 3);
                    y.opened_on = held[0] ? held : NULL;
                    if (task_matches(q, &y.cut)) {
                        add_task(b, q, &y);
                    }
                }
                cycle_clear(&y);
                break;
            }
        }
        PQclear(cur);
    }
    if (rows > q->count) {
        snprintf(next, 48, "%s.%s", PQgetvalue(list, q->count - 1, 1),
                 PQgetvalue(list, q->count - 1, 0));
    }
    PQclear(list);
    return rows > q->count;
}

static int search_organization(const jr_fhir_query_t *q, bundle_t *b)
{
    const jr_streams_t *s = b->w->ctx.streams;
    for (size_t i = 0; i < jr_streams_count(s); i++) {
        const jr_stream_t *st = jr_streams_at(s, i);
        if (st->enabled && (q->code[0] == '\0' || strcmp(q->code, st->code) == 0)) {
            bundle_add(b, jr_fhir_organization(&b->w->ctx, st), true);
        }
    }
    return 0;
}

static void search(jr_req_t *req, jr_resp_t *resp, PGconn *c, const where_t *w, const char *type,
                   const args_t *args)
{
    jr_fhir_query_t q;
    char why[300];
    if (jr_fhir_params_read(type, args->names, args->values, args->n, &q, why, sizeof why) != 0) {
        outcome(resp, 400, "not-supported", why);
        return;
    }
    bool person_scoped = strcmp(type, "CarePlan") == 0 || strcmp(type, "Goal") == 0;
    if (person_scoped && q.nhs[0] == '\0' && !q.none) {
        char text[160];
        snprintf(text, sizeof text,
                 "%s is searched by the person: subject, patient or subject:identifier "
                 "(https://fhir.nhs.uk/Id/nhs-number|NHS)",
                 type);
        outcome(resp, 400, "required", text);
        return;
    }
    jr_share_scope_t scope;
    if (scope_of(req, &scope) != 0) {
        outcome(resp, 403, "forbidden", "Your funding stream is not configured here.");
        return;
    }
    bundle_t b;
    bundle_init(&b, w);
    char next[48] = "";
    int rc = 0;
    if (!q.none) {
        if (strcmp(type, "Patient") == 0) {
            rc = search_patient(req, c, &q, &b, &scope, next);
            rc = rc < 0 ? rc : next[0] != '\0';
        } else if (person_scoped) {
            rc = search_person_plans(req, c, &q, &b, &scope, next);
        } else if (strcmp(type, "Provenance") == 0) {
            rc = search_provenance(req, c, &q, &b, &scope, next);
        } else if (strcmp(type, "Task") == 0) {
            rc = search_task(req, c, &q, &b, &scope, next);
        } else {
            rc = search_organization(&q, &b);
        }
    }
    if (rc == -2) {
        bundle_clear(&b);
        outcome(resp, 400, "invalid", "_cursor: not one this service gave");
        return;
    }
    if (rc < 0) {
        bundle_clear(&b);
        outcome(resp, 503, "transient", "The database did not answer. Please try again.");
        return;
    }
    bundle_links(&b, type, args, rc == 1 && next[0] != '\0' ? next : NULL);
    bundle_send(req, resp, c, &b);
}

/* ---- the entry point ----------------------------------------------------------- */

void jr_page_fhir(jr_req_t *req, jr_resp_t *resp, const char *rest)
{
    resp->type = FHIR_TYPE;
    args_t args = {.n = 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, one_arg, &args);
    if (args.too_many) {
        outcome(resp, 400, "too-costly", "At most 32 search parameters.");
        return;
    }
    where_t w;
    where(req, &w);
    if (strcmp(rest, "metadata") == 0) {
        char date[11];
        jr_text_format_date(jr_clock_today(&req->app->clock), date);
        answer(resp, 200, jr_fhir_capability(w.base, date, JR_VERSION));
        return;
    }
    if (req->session == NULL) {
        outcome(resp, 401, "login",
                "Sign in first (POST /login); the session cookie then "
                "reads what the account's role may see.");
        return;
    }
    const jr_account_t *a = &req->session->account;
    if (a->role != JR_ACCOUNT_SCHEDULER && a->role != JR_ACCOUNT_STREAM_OFFICER) {
        outcome(resp, 403, "forbidden",
                "A person's review is for review schedulers and stream officers.");
        return;
    }
    char type[32];
    size_t n = strcspn(rest, "/");
    const char *id = rest[n] == '/' ? rest + n + 1 : NULL;
    snprintf(type, sizeof type, "%.*s", (int)(n < sizeof type ? n : 0), rest);
    bool known = false;
    for (size_t i = 0; i < jr_fhir_n_types && !known; i++) {
        known = strcmp(jr_fhir_types[i], type) == 0;
    }
    if (!known || (id != NULL && (id[0] == '\0' || strchr(id, '/') != NULL))) {
        outcome(resp, 404, "not-supported",
                "Not something this service serves: see /fhir/metadata.");
        return;
    }
    if (id != NULL) {
        for (size_t i = 0; i < args.n; i++) {
            if (strcmp(args.names[i], "_format") != 0) {
                char text[200];
                snprintf(text, sizeof text, "%.60s: a read takes no parameters but _format",
                         args.names[i]);
                outcome(resp, 400, "not-supported", text);
                return;
            }
        }
    }
    PGconn *c = jr_pgpool_take(req->app->db, 5000);
    if (c == NULL) {
        outcome(resp, 503, "transient", "The database cannot be reached. Please try again.");
        return;
    }
    if (id != NULL) {
        read_one(req, resp, c, &w, type, id);
    } else {
        search(req, resp, c, &w, type, &args);
    }
    jr_pgpool_give(req->app->db, c);
}
