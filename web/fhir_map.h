/* fhir_map.h -- a consolidated review in FHIR R4, from the reader's cut
 * (cut/cut.h): a stream officer's resources are written from their cut
 * alone, exactly as their page is.
 *
 *   Patient       the person: id and identifier the NHS number (system
 *                 https://fhir.nhs.uk/Id/nhs-number); the name they want to
 *                 be called as a name of use "usual", once review
 *                 preferences are in the record (jr_cut_t.called).
 *                 UK Core Patient.
 *   CarePlan      one per cycle, id NHS-CYCLE: status active, completed once
 *                 held; intent plan; author the lead organisation; period
 *                 from the review that opened the cycle to the one held (or
 *                 due); a goal per area shown; the support plan revision as
 *                 a note.
 *   Goal          one per area shown, id NHS-CYCLE-AREA: description the
 *                 area and what is working / not working, who said it;
 *                 priority red / amber / green as high / medium / low;
 *                 expressedBy the person when their own priority prevails;
 *                 a conflict as a note naming who said what.
 *   Provenance    one per contribution shown, id NHS-HASH (a hash of the
 *                 stream and its event id): targets its Goal and CarePlan;
 *                 who (the person, or the author's name or role in words),
 *                 in which role, on behalf of which stream; occurred and
 *                 recorded; the stream's event id as the entity.
 *   Task          the next joined-up review, id NHS-CYCLE: status
 *                 requested, intent order, owner the lead organisation, due
 *                 on the review date (restriction.period.end), the streams
 *                 it covers and the minimum information still missing as
 *                 inputs. UK Core Task.
 *   Organization  each funding stream, id its code. UK Core Organization.
 *
 * Codes this service defines (areas, author roles, stream codes, event
 * ids) have systems under ctx->ns. No I/O. */
#ifndef JR_FHIR_MAP_H
#define JR_FHIR_MAP_H

#include <jansson.h>

#include "cut.h"
#include "streams.h"

#define JR_FHIR_NHS_SYSTEM     "https://fhir.nhs.uk/Id/nhs-number"
#define JR_FHIR_UKCORE_PATIENT "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
#define JR_FHIR_UKCORE_ORG     "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization"
#define JR_FHIR_UKCORE_TASK    "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Task"

typedef struct {
    const char *ns;              /* base of this service's code systems */
    const jr_streams_t *streams; /* names of the streams */
} jr_fhir_ctx_t;

/* Ids. out: 40 bytes. */
void jr_fhir_careplan_id(const char *nhs, unsigned cycle, char *out);
void jr_fhir_goal_id(const char *nhs, unsigned cycle, unsigned area, char *out);
void jr_fhir_provenance_id(const char *nhs, const Joinedreview__V1__Statement *s, char *out);
/* The cycle the next review will close: the open one, or the one after the
 * cycle the record closed. */
unsigned jr_fhir_task_cycle(const jr_cut_t *cut);

json_t *jr_fhir_patient(const char *nhs, const char *preferred_name);

/* opened_on: the day the cycle opened (the previous cycle's review held),
 * or NULL for a first cycle. */
json_t *jr_fhir_careplan(const jr_fhir_ctx_t *ctx, const jr_cut_t *cut, const char *opened_on);

/* NULL when the area is not in the cut. */
json_t *jr_fhir_goal(const jr_fhir_ctx_t *ctx, const jr_cut_t *cut, unsigned area);

/* recorded: when the daemon stored the contribution (ISO instant), or NULL
 * (then the time it happened). */
json_t *jr_fhir_provenance(const jr_fhir_ctx_t *ctx, const jr_cut_t *cut, unsigned area,
                           const Joinedreview__V1__Statement *s, const char *recorded);

/* NULL when the person has no review date. */
json_t *jr_fhir_task(const jr_fhir_ctx_t *ctx, const jr_cut_t *cut);

json_t *jr_fhir_organization(const jr_fhir_ctx_t *ctx, const jr_stream_t *s);

/* What this service supports, exactly. base: its FHIR base URL; date:
 * "YYYY-MM-DD". */
json_t *jr_fhir_capability(const char *base, const char *date, const char *version);

#endif
