/* fhir_params.c -- see fhir_params.h. */
#include "fhir_params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nhs.h"

const char *const jr_fhir_types[] = {"Patient",    "CarePlan", "Goal",
                                     "Provenance", "Task",     "Organization"};
const size_t jr_fhir_n_types = sizeof jr_fhir_types / sizeof jr_fhir_types[0];

#define PATIENT_REF                                                                                \
    "Patient/NHS, or the NHS number alone; with :identifier, "                                     \
    "https://fhir.nhs.uk/Id/nhs-number|NHS"
#define BY_NHS "https://fhir.nhs.uk/Id/nhs-number|NHS, or the NHS number alone"

const jr_fhir_param_t jr_fhir_params[] = {
    {"Patient", "identifier", "token", "the NHS number: " BY_NHS},
    {"CarePlan", "subject", "reference", "the person: " PATIENT_REF},
    {"CarePlan", "patient", "reference", "the person: " PATIENT_REF},
    {"CarePlan", "subject:identifier", "token", "the person by NHS number: " BY_NHS},
    {"CarePlan", "patient:identifier", "token", "the person by NHS number: " BY_NHS},
    {"CarePlan", "status", "token", "active (the open cycle) or completed (a review held)"},
    {"Goal", "subject", "reference", "the person: " PATIENT_REF},
    {"Goal", "patient", "reference", "the person: " PATIENT_REF},
    {"Goal", "subject:identifier", "token", "the person by NHS number: " BY_NHS},
    {"Goal", "patient:identifier", "token", "the person by NHS number: " BY_NHS},
    {"Provenance", "target", "reference", "the Goal or CarePlan a contribution is part of"},
    {"Task", "status", "token", "requested: the next joined-up reviews (the worklist)"},
    {"Task", "due", "date",
     "the review date (Task.restriction.period.end), with ge, gt, le, lt or eq; twice for a "
     "range"},
    {"Task", "owner", "reference", "the lead organisation: Organization/CODE, or the code"},
    {"Task", "patient", "reference", "the person: " PATIENT_REF},
    {"Task", "subject", "reference", "the person: " PATIENT_REF},
    {"Task", "patient:identifier", "token", "the person by NHS number: " BY_NHS},
    {"Organization", "identifier", "token", "the funding stream's code"},
};
const size_t jr_fhir_n_params = sizeof jr_fhir_params / sizeof jr_fhir_params[0];

const jr_fhir_include_t jr_fhir_includes[] = {
    {"CarePlan", "CarePlan:subject", false, JR_FHIR_INC_SUBJECT},
    {"CarePlan", "CarePlan:goal", false, JR_FHIR_INC_GOAL},
    {"CarePlan", "CarePlan:author", false, JR_FHIR_INC_AUTHOR},
    {"CarePlan", "Provenance:target", true, JR_FHIR_INC_PROVENANCE},
    {"Goal", "Goal:subject", false, JR_FHIR_INC_SUBJECT},
    {"Goal", "Provenance:target", true, JR_FHIR_INC_PROVENANCE},
    {"Task", "Task:patient", false, JR_FHIR_INC_SUBJECT},
    {"Task", "Task:owner", false, JR_FHIR_INC_AUTHOR},
    {"Task", "Task:focus", false, JR_FHIR_INC_FOCUS},
};
const size_t jr_fhir_n_includes = sizeof jr_fhir_includes / sizeof jr_fhir_includes[0];

static const jr_fhir_param_t *find_param(const char *type, const char *name)
{
    for (size_t i = 0; i < jr_fhir_n_params; i++) {
        if (strcmp(jr_fhir_params[i].type, type) == 0 &&
            strcmp(jr_fhir_params[i].name, name) == 0) {
            return &jr_fhir_params[i];
        }
    }
    return NULL;
}

/* The person a value names: "Patient/NHS", "NHS", or
 * "https://fhir.nhs.uk/Id/nhs-number|NHS" when by_identifier. A well-formed
 * value that is not a valid NHS number matches nobody (q->none). */
static int person(jr_fhir_query_t *q, const char *name, const char *value, bool by_identifier,
                  char *why, size_t whylen)
{
    const char *v = value;
    if (by_identifier) {
        const char *bar = strchr(value, '|');
        if (bar != NULL) {
            size_t n = (size_t)(bar - value);
            if (n != 0 && (n != strlen("https://fhir.nhs.uk/Id/nhs-number") ||
                           strncmp(value, "https://fhir.nhs.uk/Id/nhs-number", n) != 0)) {
                q->none = true; /* another system's identifier: nobody here */
                return 0;
            }
            v = bar + 1;
        }
    } else if (strncmp(v, "Patient/", 8) == 0) {
        v += 8;
    } else if (strchr(v, '/') != NULL) {
        snprintf(why, whylen, "%s: a Patient reference (Patient/NHS), not '%s'", name, value);
        return -1;
    }
    char nhs[11];
    if (q->nhs[0] != '\0' || q->none) {
        snprintf(why, whylen, "%s: the person is named once only", name);
        return -1;
    }
    if (jr_nhs_normalise(v, nhs) != JR_NHS_OK) {
        q->none = true;
        return 0;
    }
    snprintf(q->nhs, sizeof q->nhs, "%s", nhs);
    return 0;
}

static int count(jr_fhir_query_t *q, const char *value, char *why, size_t whylen)
{
    char *end = NULL;
    long n = strtol(value, &end, 10);
    if (end == value || *end != '\0' || n < 1 || n > JR_FHIR_COUNT_MAX) {
        snprintf(why, whylen, "_count: a whole number from 1 to %d, not '%s'", JR_FHIR_COUNT_MAX,
                 value);
        return -1;
    }
    q->count = (int)n;
    return 0;
}

static int due(jr_fhir_query_t *q, const char *value, char *why, size_t whylen)
{
    static const char *const prefixes[] = {"ge", "gt", "le", "lt", "eq"};
    int prefix = 4;
    const char *v = value;
    for (int i = 0; i < 5; i++) {
        if (strncmp(value, prefixes[i], 2) == 0) {
            prefix = i;
            v = value + 2;
        }
    }
    jr_day_t day;
    if (jr_text_parse_date(v, &day) != 0) {
        snprintf(why, whylen, "due: a date (YYYY-MM-DD) after ge, gt, le, lt or eq, not '%s'",
                 value);
        return -1;
    }
    jr_day_t from = JR_DAY_NONE, to = JR_DAY_NONE;
    switch (prefix) {
    case 0:
        from = day;
        break;
    case 1:
        from = day + 1;
        break;
    case 2:
        to = day;
        break;
    case 3:
        to = day - 1;
        break;
    default:
        from = to = day;
        break;
    }
    if ((from != JR_DAY_NONE && q->due_from != JR_DAY_NONE) ||
        (to != JR_DAY_NONE && q->due_to != JR_DAY_NONE)) {
        snprintf(why, whylen, "due: each end of the range is given once");
        return -1;
    }
    if (from != JR_DAY_NONE) {
        q->due_from = from;
    }
    if (to != JR_DAY_NONE) {
        q->due_to = to;
    }
    return 0;
}

/* A comma-separated list of codes into status bits. */
static int status(jr_fhir_query_t *q, const char *value)
{
    bool careplan = strcmp(q->type, "CarePlan") == 0;
    char list[128];
    snprintf(list, sizeof list, "%s", value);
    for (char *save = NULL, *code = strtok_r(list, ",", &save); code != NULL;
         code = strtok_r(NULL, ",", &save)) {
        if (careplan && strcmp(code, "active") == 0) {
            q->status |= 1;
        } else if (careplan && strcmp(code, "completed") == 0) {
            q->status |= 2;
        } else if (!careplan && strcmp(code, "requested") == 0) {
            q->status |= 1;
        } else {
            /* A status of the value set this service never gives: its
             * resources match nothing, which is an answer, not an error. */
            q->status |= careplan ? 4 : 2;
        }
    }
    return 0;
}

static int include(jr_fhir_query_t *q, const char *name, const char *value, char *why,
                   size_t whylen)
{
    bool rev = strcmp(name, "_revinclude") == 0;
    for (size_t i = 0; i < jr_fhir_n_includes; i++) {
        const jr_fhir_include_t *inc = &jr_fhir_includes[i];
        if (inc->rev == rev && strcmp(inc->type, q->type) == 0 && strcmp(inc->value, value) == 0) {
            q->include |= inc->bit;
            return 0;
        }
    }
    snprintf(why, whylen, "%s=%s is not supported on %s (see /fhir/metadata)", name, value,
             q->type);
    return -1;
}

static int reference(const char *name, const char *value, const char *type, char *out,
                     size_t outlen, char *why, size_t whylen)
{
    size_t n = strlen(type);
    const char *v = strncmp(value, type, n) == 0 && value[n] == '/' ? value + n + 1 : value;
    size_t len = strlen(v);
    bool ok = len > 0 && len < outlen;
    for (size_t i = 0; ok && i < len; i++) {
        char c = v[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '.' || c == '_';
    }
    if (!ok) {
        snprintf(why, whylen, "%s: %s/ID, not '%s'", name, type, value);
        return -1;
    }
    snprintf(out, outlen, "%s", v);
    return 0;
}

static int target(jr_fhir_query_t *q, const char *value, char *why, size_t whylen)
{
    const char *slash = strchr(value, '/');
    size_t n = slash ? (size_t)(slash - value) : 0;
    if (slash == NULL || (strncmp(value, "Goal", n) != 0 && strncmp(value, "CarePlan", n) != 0) ||
        n >= sizeof q->target_type) {
        snprintf(why, whylen, "target: Goal/ID or CarePlan/ID, not '%s'", value);
        return -1;
    }
    snprintf(q->target_type, sizeof q->target_type, "%.*s", (int)n, value);
    return reference("target", slash + 1, "", q->target_id, sizeof q->target_id, why, whylen);
}

/* Names that may come more than once. */
static bool repeatable(const char *name)
{
    return strcmp(name, "_include") == 0 || strcmp(name, "_revinclude") == 0 ||
           strcmp(name, "due") == 0;
}

int jr_fhir_params_read(const char *type, const char *const *names, const char *const *values,
                        size_t n, jr_fhir_query_t *q, char *why, size_t whylen)
{
    memset(q, 0, sizeof *q);
    q->type = type;
    q->due_from = q->due_to = JR_DAY_NONE;
    q->count = JR_FHIR_COUNT_DEFAULT;
    for (size_t i = 0; i < n; i++) {
        const char *name = names[i], *value = values[i] ? values[i] : "";
        for (size_t k = 0; k < i && !repeatable(name); k++) {
            if (strcmp(names[k], name) == 0) {
                snprintf(why, whylen, "%s is given more than once", name);
                return -1;
            }
        }
        int rc = 0;
        if (strcmp(name, "_count") == 0) {
            rc = count(q, value, why, whylen);
        } else if (strcmp(name, "_cursor") == 0) {
            rc = reference("_cursor", value, "", q->cursor, sizeof q->cursor, why, whylen);
        } else if (strcmp(name, "_format") == 0) {
            if (strcmp(value, "json") != 0 && strcmp(value, "application/json") != 0 &&
                strcmp(value, "application/fhir+json") != 0) {
                snprintf(why, whylen, "_format: this service speaks JSON only, not '%s'", value);
                rc = -1;
            }
        } else if (strcmp(name, "_include") == 0 || strcmp(name, "_revinclude") == 0) {
            rc = include(q, name, value, why, whylen);
        } else if (find_param(type, name) == NULL) {
            snprintf(why, whylen,
                     "%s is not a search parameter this service supports on %s (see "
                     "/fhir/metadata)",
                     name, type);
            rc = -1;
        } else if (strcmp(name, "identifier") == 0 && strcmp(type, "Organization") == 0) {
            const char *bar = strchr(value, '|');
            rc = reference(name, bar ? bar + 1 : value, "", q->code, sizeof q->code, why, whylen);
        } else if (strcmp(name, "identifier") == 0 || strstr(name, ":identifier") != NULL) {
            rc = person(q, name, value, true, why, whylen);
        } else if (strcmp(name, "subject") == 0 || strcmp(name, "patient") == 0) {
            rc = person(q, name, value, false, why, whylen);
        } else if (strcmp(name, "status") == 0) {
            rc = status(q, value);
        } else if (strcmp(name, "due") == 0) {
            rc = due(q, value, why, whylen);
        } else if (strcmp(name, "owner") == 0) {
            rc = reference(name, value, "Organization", q->owner, sizeof q->owner, why, whylen);
        } else if (strcmp(name, "target") == 0) {
            rc = target(q, value, why, whylen);
        }
        if (rc != 0) {
            return -1;
        }
    }
    if (strcmp(type, "Provenance") == 0 && q->target_type[0] == '\0') {
        snprintf(why, whylen, "Provenance is searched by target (Goal/ID or CarePlan/ID)");
        return -1;
    }
    return 0;
}
