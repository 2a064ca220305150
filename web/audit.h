/* audit.h -- every view of a person's review, written down before it is
 * shown: who (account, role, scope), whose record (NHS number and cycle),
 * which page, from which address, when (the database's clock).
 *
 * The row goes to web_audit (schema/020_web.sql), which the service may
 * add to but never change. When the row cannot be written the page is not
 * shown. */
#ifndef JR_AUDIT_H
#define JR_AUDIT_H

#include <libpq-fe.h>

#include "accounts.h"

/* page: "review", "pack" or "fhir". address: the client's, as text (may be NULL).
 * 0, or -1 when the row was not written (logged). */
int jr_audit_view(PGconn *c, const jr_account_t *who, const char *nhs, unsigned cycle,
                  const char *page, const char *address);

/* The same for many persons at once, one row each, in one statement: the
 * FHIR answers (page "fhir"), which may hold several persons. nhs[i] is
 * ten digits, cycles[i] its cycle. 0 (also when n is 0), or -1 when the
 * rows were not written (logged). */
int jr_audit_views(PGconn *c, const jr_account_t *who, const char (*nhs)[11],
                   const unsigned *cycles, size_t n, const char *page, const char *address);

#endif
