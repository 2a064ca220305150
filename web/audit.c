/* audit.c -- see audit.h. */
#include "audit.h"

#include <stdio.h>

#include "log.h"

int jr_audit_view(PGconn *c, const jr_account_t *who, const char *nhs, unsigned cycle,
                  const char *page, const char *address)
{
    static const char sql[] =
        "INSERT INTO web_audit (account, role, scope, nhs_number, cycle, page, address) "
        "VALUES ($1, $2, $3, $4, $5::integer, $6, $7::inet)";
    char scope[JR_ACCOUNT_LEADS_MAX * JR_STREAM_CODE_MAX], cyc[16];
    jr_accounts_scope(who, scope, sizeof scope);
    snprintf(cyc, sizeof cyc, "%u", cycle);
    const char *values[7] = {who->name, jr_accounts_role_name(who->role), scope, nhs, cyc, page,
                             address};
    PGresult *r = PQexecParams(c, sql, 7, NULL, values, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0) {
        jr_log(JR_LOG_ERR, "audit", "cannot write the audit row for %s viewing %s: %s", who->name,
               nhs, PQerrorMessage(c));
    }
    PQclear(r);
    return rc;
}
