/* fhir_map.c -- see fhir_map.h. */
#include "fhir_map.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "fhir_json.h"
#include "fhir_params.h"
#include "page.h"
#include "text.h"

void jr_fhir_careplan_id(const char *nhs, unsigned cycle, char *out)
{
    snprintf(out, 40, "%.10s-%u", nhs, cycle);
}

void jr_fhir_goal_id(const char *nhs, unsigned cycle, unsigned area, char *out)
{
    snprintf(out, 40, "%.10s-%u-%u", nhs, cycle, area);
}

void jr_fhir_provenance_id(const char *nhs, const Joinedreview__V1__Statement *s, char *out)
{
    /* A contribution is (stream, source_event_id); FHIR ids are 64 of
     * [A-Za-z0-9.-], which an event id need not be, so its hash. */
    const Joinedreview__V1__Provenance *p = s->provenance;
    unsigned char h[8];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    const char *stream = p && p->stream ? p->stream : "",
               *id = p && p->source_event_id ? p->source_event_id : "";
    crypto_generichash_update(&st, (const unsigned char *)stream, strlen(stream) + 1);
    crypto_generichash_update(&st, (const unsigned char *)id, strlen(id));
    crypto_generichash_final(&st, h, sizeof h);
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(out, 40, "%.10s-%s", nhs, hex);
}

unsigned jr_fhir_task_cycle(const jr_cut_t *cut)
{
    return cut->held_on != NULL ? cut->cycle + 1 : cut->cycle;
}

static void profile(json_t *r, const char *url)
{
    json_t *meta = json_object();
    jr_fj_push(meta, "profile", json_string(url));
    jr_fj_set(r, "meta", meta);
}

static json_t *resource(const char *type, const char *id)
{
    json_t *r = json_object();
    jr_fj_set_str(r, "resourceType", type);
    jr_fj_set_str(r, "id", id);
    return r;
}

static const char *stream_name(const jr_fhir_ctx_t *ctx, const char *code)
{
    const jr_stream_t *s = code ? jr_streams_find(ctx->streams, code) : NULL;
    return s != NULL ? s->name : code;
}

static json_t *patient_ref(const char *nhs)
{
    char nhs13[13], display[40];
    snprintf(display, sizeof display, "NHS number %s", jr_html_nhs(nhs, nhs13));
    return jr_fj_ref("Patient", nhs, display);
}

static json_t *org_ref(const jr_fhir_ctx_t *ctx, const char *code)
{
    return jr_fj_ref("Organization", code, stream_name(ctx, code));
}

json_t *jr_fhir_patient(const char *nhs, const char *preferred_name)
{
    json_t *r = resource("Patient", nhs);
    profile(r, JR_FHIR_UKCORE_PATIENT);
    jr_fj_push(r, "identifier", jr_fj_identifier(JR_FHIR_NHS_SYSTEM, nhs));
    if (preferred_name != NULL && preferred_name[0] != '\0') {
        /* The name they want to be called. */
        json_t *name = json_object();
        jr_fj_set_str(name, "use", "usual");
        jr_fj_set_str(name, "text", preferred_name);
        jr_fj_push(r, "name", name);
    }
    return r;
}

static void code_system(const jr_fhir_ctx_t *ctx, const char *what, char *out, size_t len)
{
    snprintf(out, len, "%s/CodeSystem/%s", ctx->ns, what);
}

json_t *jr_fhir_careplan(const jr_fhir_ctx_t *ctx, const jr_cut_t *cut, const char *opened_on)
{
    char id[40], text[512];
    jr_fhir_careplan_id(cut->nhs_number, cut->cycle, id);
    json_t *r = resource("CarePlan", id);
    json_t *meta = json_object();
    snprintf(text, sizeof text, "%u", cut->version);
    jr_fj_set_str(meta, "versionId", text);
    jr_fj_set(r, "meta", meta);
    jr_fj_set_str(r, "status", cut->held_on != NULL ? "completed" : "active");
    jr_fj_set_str(r, "intent", "plan");
    snprintf(text, sizeof text, "Joined-up review, cycle %u", cut->cycle);
    jr_fj_set_str(r, "title", text);
    snprintf(text, sizeof text,
             "The person-centred review in the eight areas%s. Ready for sign-off: %s.",
             cut->whole ? "" : ", cut to the minimum information of the reader's funding stream",
             cut->ready_for_sign_off ? "yes" : "no, information is missing");
    jr_fj_set_str(r, "description", text);
    jr_fj_set(r, "subject", patient_ref(cut->nhs_number));
    const char *end = cut->held_on ? cut->held_on : cut->schedule ? cut->schedule->review_on : NULL;
    if (opened_on != NULL || end != NULL) {
        json_t *period = json_object();
        jr_fj_set_str(period, "start", opened_on);
        jr_fj_set_str(period, "end", end);
        jr_fj_set(r, "period", period);
    }
    if (cut->schedule != NULL && cut->schedule->lead != NULL) {
        jr_fj_set(r, "author", org_ref(ctx, cut->schedule->lead));
    }
    for (unsigned a = 1; a <= JR_AREA_COUNT; a++) {
        if (cut->areas[a - 1].shown) {
            jr_fhir_goal_id(cut->nhs_number, cut->cycle, a, id);
            jr_fj_push(r, "goal", jr_fj_ref("Goal", id, jr_format_area_title((int)a)));
        }
    }
    const Joinedreview__V1__PlanRevision *p = cut->plan_revision;
    if (p != NULL) {
        snprintf(text, sizeof text,
                 "Support plan revision. When will the support plan be revised? %s. Who will do "
                 "this? %s. Will anyone need to OK these changes? %s%s%s.",
                 p->revise_by ? p->revise_by : "Not said yet",
                 p->revised_by ? p->revised_by : "Not said yet",
                 !p->has_approval_needed ? "Not said yet"
                 : p->approval_needed    ? "Yes"
                                         : "No",
                 p->has_approval_needed && p->approval_needed && p->approver ? ": " : "",
                 p->has_approval_needed && p->approval_needed && p->approver ? p->approver : "");
        json_t *note = json_object();
        jr_fj_set_str(note, "text", text);
        jr_fj_push(r, "note", note);
    }
    return r;
}

/* "Employment: Works three days a week (the funding stream's officer, ATW,
 * 2026-10-01)" -- one statement's side, in words. */
static void said(char *out, size_t len, const Joinedreview__V1__Statement *s, const char *text)
{
    const Joinedreview__V1__Provenance *p = s->provenance;
    char day[11] = "";
    if (p != NULL && p->has_occurred_at) {
        jr_text_format_date(jr_text_day_of_ms(p->occurred_at), day);
    }
    snprintf(out, len, "%s: %s (%s%s%s, %s%s%s)", jr_format_topic_title((jr_topic_t)s->topic), text,
             p && p->author_name ? p->author_name : "", p && p->author_name ? ", " : "",
             jr_page_role_words(p ? (int)p->author_role : 0), p && p->stream ? p->stream : "",
             day[0] ? ", " : "", day);
}

/* The area's statements of one side, appended to buf. */
static void side(char *buf, size_t len, const jr_cut_area_t *a, bool working)
{
    size_t used = strlen(buf);
    bool any = false;
    snprintf(buf + used, len - used, " %s", working ? "What is working:" : "What is not working:");
    for (size_t i = 0; i < a->n_statements; i++) {
        const Joinedreview__V1__Statement *s = a->statements[i];
        const char *text = jr_cut_said(s, working);
        if (text == NULL) {
            continue;
        }
        char one[5000];
        said(one, sizeof one, s, text);
        used = strlen(buf);
        snprintf(buf + used, len - used, "%s %s", any ? ";" : "", one);
        any = true;
    }
    if (!any) {
        used = strlen(buf);
        snprintf(buf + used, len - used, " nothing said yet");
    }
    used = strlen(buf);
    snprintf(buf + used, len - used, ".");
}

json_t *jr_fhir_goal(const jr_fhir_ctx_t *ctx, const jr_cut_t *cut, unsigned area)
{
    if (area < 1 || area > JR_AREA_COUNT || !cut->areas[area - 1].shown) {
        return NULL;
    }
    const jr_cut_area_t *a = &cut->areas[area - 1];
    char id[40], system[300], code[8];
    jr_fhir_goal_id(cut->nhs_number, cut->cycle, area, id);
    json_t *r = resource("Goal", id);
    jr_fj_set_str(r, "lifecycleStatus", cut->held_on != NULL ? "completed" : "active");
    code_system(ctx, "review-area", system, sizeof system);
    snprintf(code, sizeof code, "%u", area);
    const char *title = jr_format_area_title((int)area);
    jr_fj_push(r, "category", jr_fj_concept(system, code, title, NULL));
    static const char *const priorities[4][2] = {{NULL, NULL},
                                                 {"low-priority", "Low Priority"},
                                                 {"medium-priority", "Medium Priority"},
                                                 {"high-priority", "High Priority"}};
    int p = a->priority >= 1 && a->priority <= 3 ? (int)a->priority : 0;
    if (p != 0) {
        jr_fj_set(r, "priority",
                  jr_fj_concept("http://terminology.hl7.org/CodeSystem/goal-priority",
                                priorities[p][0], priorities[p][1], jr_page_priority_words(p)));
    }
    /* Statements are bounded (4,000 bytes each): the description has room
     * for a full area. */
    static _Thread_local char text[1 << 18];
    snprintf(text, sizeof text, "%s.", title);
    side(text, sizeof text, a, true);
    side(text, sizeof text, a, false);
    jr_fj_set(r, "description", jr_fj_concept(system, code, title, text));
    jr_fj_set(r, "subject", patient_ref(cut->nhs_number));
    if (p != 0 && a->priority_from_person) {
        jr_fj_set(r, "expressedBy", patient_ref(cut->nhs_number));
    }
    if (a->conflict) {
        snprintf(text, sizeof text, "Views differ:");
        for (size_t i = 0; i < a->n_views; i++) {
            const Joinedreview__V1__PriorityView *v = a->views[i];
            size_t used = strlen(text);
            snprintf(text + used, sizeof text - used, "%s %s (%s, %s): %s", i ? ";" : "",
                     jr_page_role_words(v->author_role), v->stream ? v->stream : "",
                     jr_format_topic_title((jr_topic_t)v->topic),
                     jr_page_priority_words(v->priority));
        }
        if (a->views_withheld) {
            size_t used = strlen(text);
            snprintf(text + used, sizeof text - used,
                     "%s and views on topics outside this stream's minimum information",
                     a->n_views ? ";" : "");
        }
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, ".");
        json_t *note = json_object();
        jr_fj_set_str(note, "text", text);
        jr_fj_push(r, "note", note);
    }
    return r;
}

json_t *jr_fhir_provenance(const jr_fhir_ctx_t *ctx, const jr_cut_t *cut, unsigned area,
                           const Joinedreview__V1__Statement *s, const char *recorded)
{
    const Joinedreview__V1__Provenance *p = s->provenance;
    char id[40], system[300], occurred[25] = "";
    jr_fhir_provenance_id(cut->nhs_number, s, id);
    json_t *r = resource("Provenance", id);
    jr_fhir_goal_id(cut->nhs_number, cut->cycle, area, id);
    jr_fj_push(r, "target", jr_fj_ref("Goal", id, jr_format_topic_title((jr_topic_t)s->topic)));
    jr_fhir_careplan_id(cut->nhs_number, cut->cycle, id);
    jr_fj_push(r, "target", jr_fj_ref("CarePlan", id, NULL));
    if (p != NULL && p->has_occurred_at) {
        jr_text_format_instant(p->occurred_at, occurred);
        jr_fj_set_str(r, "occurredDateTime", occurred);
    }
    jr_fj_set_str(r, "recorded", recorded != NULL ? recorded : occurred);
    json_t *agent = json_object();
    jr_fj_set(agent, "type",
              jr_fj_concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "author", "Author", NULL));
    int role = p ? (int)p->author_role : 0;
    const char *role_code = jr_format_role_code((jr_role_t)role);
    code_system(ctx, "author-role", system, sizeof system);
    jr_fj_push(
        agent, "role",
        jr_fj_concept(system, role_code ? role_code : "UNKNOWN", jr_page_role_words(role), NULL));
    if (role == JR_ROLE_PERSON) {
        jr_fj_set(agent, "who", patient_ref(cut->nhs_number));
    } else {
        json_t *who = json_object();
        jr_fj_set_str(who, "display",
                      p && p->author_name && p->author_name[0] ? p->author_name
                                                               : jr_page_role_words(role));
        jr_fj_set(agent, "who", who);
    }
    if (p != NULL && p->stream != NULL) {
        jr_fj_set(agent, "onBehalfOf", org_ref(ctx, p->stream));
    }
    jr_fj_push(r, "agent", agent);
    if (p != NULL && p->stream != NULL && p->source_event_id != NULL) {
        char event_system[300];
        snprintf(event_system, sizeof event_system, "%s/Id/event/%s", ctx->ns, p->stream);
        json_t *what = json_object(), *entity = json_object();
        jr_fj_set(what, "identifier", jr_fj_identifier(event_system, p->source_event_id));
        jr_fj_set_str(entity, "role", "source");
        jr_fj_set(entity, "what", what);
        jr_fj_push(r, "entity", entity);
    }
    return r;
}

json_t *jr_fhir_task(const jr_fhir_ctx_t *ctx, const jr_cut_t *cut)
{
    const Joinedreview__V1__Schedule *s = cut->schedule;
    if (s == NULL || s->review_on == NULL) {
        return NULL;
    }
    char id[40], system[300], text[1024];
    jr_fhir_careplan_id(cut->nhs_number, jr_fhir_task_cycle(cut), id);
    json_t *r = resource("Task", id);
    profile(r, JR_FHIR_UKCORE_TASK);
    jr_fj_set_str(r, "status", "requested");
    bool missing = false;
    for (size_t i = 0; i < cut->n_completeness; i++) {
        missing =
            missing || !(cut->completeness[i]->has_complete && cut->completeness[i]->complete);
    }
    jr_fj_set(
        r, "businessStatus",
        jr_fj_concept(NULL, NULL, NULL,
                      missing ? "Minimum information missing" : "Minimum information complete"));
    jr_fj_set_str(r, "intent", "order");
    code_system(ctx, "task", system, sizeof system);
    jr_fj_set(r, "code", jr_fj_concept(system, "joined-up-review", "Joined-up review", NULL));
    snprintf(text, sizeof text, "Joined-up review covering");
    for (size_t i = 0; i < s->n_covered_streams; i++) {
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "%s %s", i ? "," : "", s->covered_streams[i]);
    }
    jr_fj_set_str(r, "description", text);
    if (cut->held_on == NULL) {
        jr_fhir_careplan_id(cut->nhs_number, cut->cycle, id);
        jr_fj_set(r, "focus", jr_fj_ref("CarePlan", id, NULL));
    }
    jr_fj_set(r, "for", patient_ref(cut->nhs_number));
    if (s->lead != NULL) {
        jr_fj_set(r, "owner", org_ref(ctx, s->lead));
    }
    json_t *restriction = json_object(), *period = json_object();
    jr_fj_set_str(period, "end", s->review_on);
    jr_fj_set(restriction, "period", period);
    jr_fj_set(r, "restriction", restriction);
    for (size_t i = 0; i < s->n_covered_streams; i++) {
        json_t *in = json_object();
        jr_fj_set(in, "type", jr_fj_concept(system, "covers", "Funding stream reviewed", NULL));
        jr_fj_set(in, "valueReference", org_ref(ctx, s->covered_streams[i]));
        jr_fj_push(r, "input", in);
    }
    for (size_t i = 0; i < cut->n_completeness; i++) {
        const Joinedreview__V1__StreamCompleteness *c = cut->completeness[i];
        if (c->n_missing == 0) {
            continue;
        }
        snprintf(text, sizeof text, "%s:", c->stream ? c->stream : "");
        for (size_t t = 0; t < c->n_missing; t++) {
            size_t used = strlen(text);
            snprintf(text + used, sizeof text - used, "%s %s", t ? "," : "",
                     jr_format_topic_title((jr_topic_t)c->missing[t]));
        }
        json_t *in = json_object();
        jr_fj_set(in, "type",
                  jr_fj_concept(system, "missing", "Minimum information still missing", NULL));
        jr_fj_set_str(in, "valueString", text);
        jr_fj_push(r, "input", in);
    }
    return r;
}

json_t *jr_fhir_organization(const jr_fhir_ctx_t *ctx, const jr_stream_t *s)
{
    char system[300];
    json_t *r = resource("Organization", s->code);
    profile(r, JR_FHIR_UKCORE_ORG);
    snprintf(system, sizeof system, "%s/Id/funding-stream", ctx->ns);
    jr_fj_push(r, "identifier", jr_fj_identifier(system, s->code));
    jr_fj_set(r, "active", json_boolean(s->enabled));
    jr_fj_push(r, "type", jr_fj_concept(NULL, NULL, NULL, "Funding stream"));
    jr_fj_set_str(r, "name", s->name);
    return r;
}

json_t *jr_fhir_capability(const char *base, const char *date, const char *version)
{
    json_t *r = resource("CapabilityStatement", NULL);
    jr_fj_set_str(r, "status", "active");
    jr_fj_set_str(r, "date", date);
    jr_fj_set_str(r, "publisher", "joinedreview");
    jr_fj_set_str(r, "kind", "instance");
    json_t *software = json_object(), *impl = json_object();
    jr_fj_set_str(software, "name", "joinedreview-web");
    jr_fj_set_str(software, "version", version);
    jr_fj_set(r, "software", software);
    jr_fj_set_str(impl, "description",
                  "Joined-up person-centred reviews, read-only: a person's review as CarePlan, "
                  "Goal and Provenance, the next joined-up review as Task");
    jr_fj_set_str(impl, "url", base);
    jr_fj_set(r, "implementation", impl);
    jr_fj_set_str(r, "fhirVersion", "4.0.1");
    jr_fj_push(r, "format", json_string("application/fhir+json"));
    jr_fj_push(r, "format", json_string("json"));
    json_t *rest = json_object(), *security = json_object();
    jr_fj_set_str(rest, "mode", "server");
    jr_fj_set_str(security, "description",
                  "The web service's accounts and sessions: sign in at /login; the session "
                  "cookie then reads what the account's role may see. Every read of a person's "
                  "record is audited.");
    jr_fj_set(rest, "security", security);
    for (size_t t = 0; t < jr_fhir_n_types; t++) {
        const char *type = jr_fhir_types[t];
        json_t *res = json_object();
        jr_fj_set_str(res, "type", type);
        if (strcmp(type, "Patient") == 0) {
            jr_fj_push(res, "supportedProfile", json_string(JR_FHIR_UKCORE_PATIENT));
        } else if (strcmp(type, "Task") == 0) {
            jr_fj_push(res, "supportedProfile", json_string(JR_FHIR_UKCORE_TASK));
        } else if (strcmp(type, "Organization") == 0) {
            jr_fj_push(res, "supportedProfile", json_string(JR_FHIR_UKCORE_ORG));
        }
        static const char *const interactions[] = {"read", "search-type"};
        for (size_t i = 0; i < 2; i++) {
            json_t *in = json_object();
            jr_fj_set_str(in, "code", interactions[i]);
            jr_fj_push(res, "interaction", in);
        }
        for (size_t i = 0; i < jr_fhir_n_includes; i++) {
            const jr_fhir_include_t *inc = &jr_fhir_includes[i];
            if (strcmp(inc->type, type) == 0) {
                jr_fj_push(res, inc->rev ? "searchRevInclude" : "searchInclude",
                           json_string(inc->value));
            }
        }
        for (size_t i = 0; i < jr_fhir_n_params; i++) {
            const jr_fhir_param_t *p = &jr_fhir_params[i];
            if (strcmp(p->type, type) != 0 || strchr(p->name, ':') != NULL) {
                continue; /* a modifier is documented with its parameter */
            }
            json_t *sp = json_object();
            jr_fj_set_str(sp, "name", p->name);
            jr_fj_set_str(sp, "type", p->param_type);
            jr_fj_set_str(sp, "documentation", p->doc);
            jr_fj_push(res, "searchParam", sp);
        }
        static const char *const common[][3] = {
            {"_count", "number", "entries per page, 1 to 100 (20 when not given)"},
            {"_cursor", "string", "where a page starts: the next link carries it"},
        };
        for (size_t i = 0; i < 2; i++) {
            json_t *sp = json_object();
            jr_fj_set_str(sp, "name", common[i][0]);
            jr_fj_set_str(sp, "type", common[i][1]);
            jr_fj_set_str(sp, "documentation", common[i][2]);
            jr_fj_push(res, "searchParam", sp);
        }
        jr_fj_push(rest, "resource", res);
    }
    jr_fj_push(r, "rest", rest);
    return r;
}
