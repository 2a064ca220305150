/* fhir_json.c -- see fhir_json.h. */
#include "fhir_json.h"

#include <stdio.h>
#include <string.h>

json_t *jr_fj_ref(const char *type, const char *id, const char *display)
{
    char ref[160];
    snprintf(ref, sizeof ref, "%s/%s", type, id);
    json_t *o = json_object();
    jr_fj_set_str(o, "reference", ref);
    jr_fj_set_str(o, "display", display);
    return o;
}

json_t *jr_fj_coding(const char *system, const char *code, const char *display)
{
    json_t *o = json_object();
    jr_fj_set_str(o, "system", system);
    jr_fj_set_str(o, "code", code);
    jr_fj_set_str(o, "display", display);
    return o;
}

json_t *jr_fj_concept(const char *system, const char *code, const char *display, const char *text)
{
    json_t *o = json_object();
    if (system != NULL) {
        jr_fj_push(o, "coding", jr_fj_coding(system, code, display));
    }
    jr_fj_set_str(o, "text", text);
    return o;
}

json_t *jr_fj_identifier(const char *system, const char *value)
{
    json_t *o = json_object();
    jr_fj_set_str(o, "system", system);
    jr_fj_set_str(o, "value", value);
    return o;
}

void jr_fj_set(json_t *obj, const char *key, json_t *value)
{
    if (obj != NULL && value != NULL) {
        json_object_set_new(obj, key, value);
    } else {
        json_decref(value);
    }
}

/* A JSON string of s. Text written into a bounded buffer may end in the
 * middle of a character, which jansson refuses: the incomplete character is
 * dropped rather than the whole text. */
static json_t *text(const char *s)
{
    json_t *j = json_string(s);
    size_t len = strlen(s);
    for (int cut = 1; j == NULL && cut <= 3 && (size_t)cut < len; cut++) {
        j = json_stringn(s, len - (size_t)cut);
    }
    return j;
}

void jr_fj_set_str(json_t *obj, const char *key, const char *s)
{
    if (s != NULL && s[0] != '\0') {
        jr_fj_set(obj, key, text(s));
    }
}

void jr_fj_push(json_t *obj, const char *key, json_t *value)
{
    if (obj == NULL || value == NULL) {
        json_decref(value);
        return;
    }
    json_t *a = json_object_get(obj, key);
    if (a == NULL) {
        a = json_array();
        json_object_set_new(obj, key, a);
    }
    json_array_append_new(a, value);
}

json_t *jr_fj_outcome(const char *code, const char *diagnostics)
{
    json_t *o = json_object(), *issue = json_object();
    jr_fj_set_str(o, "resourceType", "OperationOutcome");
    jr_fj_set_str(issue, "severity", "error");
    jr_fj_set_str(issue, "code", code);
    jr_fj_set_str(issue, "diagnostics", diagnostics);
    jr_fj_push(o, "issue", issue);
    return o;
}

static int dump(const char *buffer, size_t size, void *data)
{
    jr_html_t *out = data;
    char chunk[1025];
    while (size > 0) {
        size_t n = size < 1024 ? size : 1024;
        memcpy(chunk, buffer, n);
        chunk[n] = '\0';
        jr_html_raw(out, chunk);
        buffer += n;
        size -= n;
    }
    return out->failed ? -1 : 0;
}

bool jr_fj_write(jr_html_t *out, json_t *doc)
{
    bool ok = doc != NULL &&
              json_dump_callback(doc, dump, out, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 &&
              !out->failed;
    json_decref(doc);
    return ok;
}
