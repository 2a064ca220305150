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

/* page: "review" or "pack". address: the client's, as text (may be NULL).
 * 0, or -1 when the row was not written (logged). */
int jr_audit_view(PGconn *c, const jr_account_t *who, const char *nhs, unsigned cycle,
                  const char *page, const char *address);

#endif
