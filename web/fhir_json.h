/* fhir_json.h -- the small JSON layer FHIR is written with, on jansson:
 * references, codings, identifiers, OperationOutcome, and writing a
 * document into an answer under its ceiling.
 *
 * Every builder returns a new reference (caller owns it; NULL only when
 * out of memory), and the setters take ownership of the value they are
 * given and skip a NULL one, so a resource is written as a sequence of
 * sets without a check after each. No I/O. */
#ifndef JR_FHIR_JSON_H
#define JR_FHIR_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "html.h"

/* {"reference": "Type/id", "display": display}; display may be NULL. */
json_t *jr_fj_ref(const char *type, const char *id, const char *display);

/* {"system", "code", "display"}; display may be NULL. */
json_t *jr_fj_coding(const char *system, const char *code, const char *display);

/* {"coding": [coding], "text": text}; system NULL: text only. */
json_t *jr_fj_concept(const char *system, const char *code, const char *display, const char *text);

/* {"system", "value"}. */
json_t *jr_fj_identifier(const char *system, const char *value);

/* obj[key] = value, taking ownership; nothing when value is NULL. */
void jr_fj_set(json_t *obj, const char *key, json_t *value);

/* obj[key] = s when s is not NULL or empty; a character cut short at its
 * end (text written into a bounded buffer) is dropped. */
void jr_fj_set_str(json_t *obj, const char *key, const char *s);

/* Appends value to the array obj[key] (made when missing), taking
 * ownership; nothing when value is NULL. */
void jr_fj_push(json_t *obj, const char *key, json_t *value);

/* An OperationOutcome with one error issue: code is FHIR's issue type
 * ("not-supported", "invalid", "not-found", "forbidden", "login",
 * "exception", "too-costly"), diagnostics a sentence. */
json_t *jr_fj_outcome(const char *code, const char *diagnostics);

/* Writes doc (compact, keys in the order they were set) into out; takes
 * ownership of doc. false when it did not fit under out's ceiling. */
bool jr_fj_write(jr_html_t *out, json_t *doc);

#endif
