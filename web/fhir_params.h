/* fhir_params.h -- what joinedreview-web's FHIR endpoint supports, as one
 * table (the CapabilityStatement is written from it), and a search's
 * parameters read and checked against it.
 *
 * A parameter the table does not list for the type, a value it cannot
 * read, or a parameter given twice where once is allowed is refused with a
 * sentence (the answer is an OperationOutcome, 400), never ignored.
 *
 * Paging is by position, not offset: `_cursor` names the last entry of the
 * page before (the next link carries it), so every page costs the same
 * whatever its depth. No I/O. */
#ifndef JR_FHIR_PARAMS_H
#define JR_FHIR_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "streams.h"
#include "text.h"

#define JR_FHIR_COUNT_DEFAULT 20
#define JR_FHIR_COUNT_MAX     100

/* One search parameter of one resource type. */
typedef struct {
    const char *type;       /* "CarePlan" */
    const char *name;       /* "subject:identifier" (with its modifier) */
    const char *param_type; /* FHIR search type: "token", "reference", "date" */
    const char *doc;
} jr_fhir_param_t;

/* An _include or _revinclude a type allows. */
typedef struct {
    const char *type;  /* the type searched */
    const char *value; /* "CarePlan:subject" */
    bool rev;          /* _revinclude */
    unsigned bit;
} jr_fhir_include_t;

enum {
    JR_FHIR_INC_SUBJECT = 1u << 0,   /* CarePlan:subject, Goal:subject, Task:patient */
    JR_FHIR_INC_GOAL = 1u << 1,      /* CarePlan:goal */
    JR_FHIR_INC_AUTHOR = 1u << 2,    /* CarePlan:author, Task:owner */
    JR_FHIR_INC_FOCUS = 1u << 3,     /* Task:focus */
    JR_FHIR_INC_PROVENANCE = 1u << 4 /* _revinclude=Provenance:target */
};

/* The resource types served, in the CapabilityStatement's order. */
extern const char *const jr_fhir_types[];
extern const size_t jr_fhir_n_types;

extern const jr_fhir_param_t jr_fhir_params[];
extern const size_t jr_fhir_n_params;
extern const jr_fhir_include_t jr_fhir_includes[];
extern const size_t jr_fhir_n_includes;

/* A search, read. */
typedef struct {
    const char *type;
    bool none;         /* a value that matches nothing (an invalid NHS number) */
    char nhs[11];      /* the person asked about (subject, patient, identifier); "" any */
    unsigned status;   /* CarePlan: 1 active, 2 completed (bits); Task: 1 requested, 2 other */
    jr_day_t due_from; /* Task: due on or after; JR_DAY_NONE: open */
    jr_day_t due_to;   /* ... on or before */
    char owner[JR_STREAM_CODE_MAX];      /* Task: the lead organisation; "" any */
    char target_type[16], target_id[48]; /* Provenance */
    char code[JR_STREAM_CODE_MAX];       /* Organization: identifier */
    int count;
    char cursor[48]; /* "" from the start */
    unsigned include;
} jr_fhir_query_t;

/* Reads a search of type from its parameters (names and values as
 * received). 0, or -1 with a sentence in why. */
int jr_fhir_params_read(const char *type, const char *const *names, const char *const *values,
                        size_t n, jr_fhir_query_t *q, char *why, size_t whylen);

#endif
