/* audit.c -- see audit.h. */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>

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

int jr_audit_views(PGconn *c, const jr_account_t *who, const char (*nhs)[11],
                   const unsigned *cycles, size_t n, const char *page, const char *address)
{
    if (n == 0) {
        return 0;
    }
    static const char sql[] =
        "INSERT INTO web_audit (account, role, scope, nhs_number, cycle, page, address) "
        "SELECT $1, $2, $3, u.nhs, u.cycle, $6, $7::inet "
        "  FROM unnest($4::text[], $5::integer[]) AS u(nhs, cycle)";
    /* Arrays of digits only: NHS numbers (checked) and cycle numbers. */
    char *people = malloc(n * 12 + 3), *cyc = malloc(n * 12 + 3);
    int rc = -1;
    if (people != NULL && cyc != NULL) {
        size_t p = 0, q = 0;
        people[p++] = '{';
        cyc[q++] = '{';
        for (size_t i = 0; i < n; i++) {
            p += (size_t)snprintf(people + p, 13, "%s%.10s", i ? "," : "", nhs[i]);
            q += (size_t)snprintf(cyc + q, 13, "%s%u", i ? "," : "", cycles[i] % 1000000000u);
        }
        snprintf(people + p, 2, "}");
        snprintf(cyc + q, 2, "}");
        char scope[JR_ACCOUNT_LEADS_MAX * JR_STREAM_CODE_MAX];
        jr_accounts_scope(who, scope, sizeof scope);
        const char *values[7] = {
            who->name, jr_accounts_role_name(who->role), scope, people, cyc, page, address};
        PGresult *r = PQexecParams(c, sql, 7, NULL, values, NULL, NULL, 0);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
        if (rc != 0) {
            jr_log(JR_LOG_ERR, "audit", "cannot write %zu audit rows for %s: %s", n, who->name,
                   PQerrorMessage(c));
        }
        PQclear(r);
    }
    free(people);
    free(cyc);
    return rc;
}
