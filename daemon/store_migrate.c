/* store_migrate.c -- the numbered migrations built into the binary
 * (schema/NNN_*.sql, migrations.h), applied at every connection of the
 * writer: an upgrade is a restart; then the settings the reporting views
 * read of the daemon's rules. See store_conn.h. */
#include "store_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "migrations.h"

/* What the reporting views read of the daemon's rules (report_setting):
 * written only when it changed, so that a restart leaves no dead row. */
#define SETTINGS                                                                                   \
    "INSERT INTO report_setting (due_within_days) VALUES ($1) ON CONFLICT (id) DO UPDATE SET "     \
    "due_within_days = EXCLUDED.due_within_days WHERE report_setting.due_within_days IS "          \
    "DISTINCT FROM EXCLUDED.due_within_days"

/* Only one process migrates at a time, whichever login it uses. */
#define MIGRATION_LOCK   "SELECT pg_advisory_lock(74612027)"
#define MIGRATION_UNLOCK "SELECT pg_advisory_unlock(74612027)"

/* Runs one statement with the migration's version and name as $1, $2. */
static int with_version(jr_store_pg_t *self, const char *sql, const jr_migration_t *m, bool *found)
{
    jr_store_params_t p = {0};
    jr_store_conn_param_int(&p, m->version);
    jr_store_conn_param_text(&p, m->name);
    PGresult *res = PQexecParams(self->conn, sql, found ? 1 : 2, NULL, p.values, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
                 ? JR_STORE_OK
                 : jr_store_conn_classify(self, res, "migrate");
    if (rc == JR_STORE_OK && found != NULL) {
        *found = PQntuples(res) > 0;
    }
    PQclear(res);
    return rc;
}

/* Applies one migration in its own transaction, recorded with it. */
static int apply(jr_store_pg_t *self, const jr_migration_t *m)
{
    jr_log(JR_LOG_NOTICE, "store", "applying migration %s", m->name);
    int rc = jr_store_conn_exec(self, "BEGIN");
    if (rc == JR_STORE_OK) {
        rc = jr_store_conn_exec(self, m->sql);
    }
    if (rc == JR_STORE_OK) {
        rc = with_version(self, "INSERT INTO schema_migration (version, name) VALUES ($1, $2)", m,
                          NULL);
    }
    if (rc == JR_STORE_OK) {
        return jr_store_conn_exec(self, "COMMIT");
    }
    jr_log(JR_LOG_ERR, "store", "migration %s failed: %s", m->name, self->error);
    jr_store_conn_exec(self, "ROLLBACK");
    return JR_STORE_FATAL;
}

int jr_store_migrate_apply(jr_store_pg_t *self)
{
    int rc = jr_store_conn_exec(self, MIGRATION_LOCK);
    if (rc != JR_STORE_OK) {
        return rc;
    }
    rc = jr_store_conn_exec(self, "CREATE TABLE IF NOT EXISTS schema_migration ("
                                  "version integer PRIMARY KEY, name text NOT NULL, "
                                  "applied_at timestamptz NOT NULL DEFAULT now())");
    for (size_t i = 0; rc == JR_STORE_OK && i < jr_migrations_count; i++) {
        bool done = false;
        rc = with_version(self, "SELECT 1 FROM schema_migration WHERE version = $1",
                          &jr_migrations[i], &done);
        if (rc == JR_STORE_OK && !done) {
            rc = apply(self, &jr_migrations[i]);
        }
    }
    jr_store_conn_exec(self, MIGRATION_UNLOCK);
    if (rc == JR_STORE_OK) {
        jr_store_params_t p = {0};
        jr_store_conn_param_int(&p, JR_DUE_WITHIN_DAYS);
        PGresult *res = PQexecParams(self->conn, SETTINGS, p.n, NULL, p.values, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            rc = jr_store_conn_classify(self, res, "report_setting");
        }
        PQclear(res);
    }
    return rc;
}

/* Which built-in migrations the database has recorded (done[i]); none when
 * it has no schema_migration table yet. */
static int recorded(jr_store_pg_t *self, bool *done)
{
    PGresult *res = PQexec(self->conn, "SELECT to_regclass('schema_migration') IS NOT NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = jr_store_conn_classify(self, res, "schema_migration");
        PQclear(res);
        return rc;
    }
    bool present = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!present) {
        return JR_STORE_OK;
    }
    res = PQexec(self->conn, "SELECT version FROM schema_migration");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = jr_store_conn_classify(self, res, "schema_migration");
        PQclear(res);
        return rc;
    }
    for (int row = 0; row < PQntuples(res); row++) {
        int version = atoi(PQgetvalue(res, row, 0));
        for (size_t i = 0; i < jr_migrations_count; i++) {
            done[i] = done[i] || jr_migrations[i].version == version;
        }
    }
    PQclear(res);
    return JR_STORE_OK;
}

/* The server's notices ("already exists, skipping"): the caller reports
 * what was done. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int jr_store_pg_migrate(const char *conninfo, const char *dbname, const char *role,
                        jr_store_migrated_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->known = jr_migrations_count;
    out->newest = jr_migrations_count ? jr_migrations[jr_migrations_count - 1].name : NULL;
    bool *done = calloc(jr_migrations_count + 1, sizeof *done);
    jr_store_pg_t *self = jr_store_pg_new(conninfo ? conninfo : "", NULL, 0);
    if (done == NULL || self == NULL) {
        snprintf(err, errlen, "out of memory");
        free(done);
        jr_store_pg_destroy(&self);
        return JR_STORE_FATAL;
    }
    /* The first dbname is expanded as a connection string; the second, when
     * given, overrides the database it names. */
    const char *keys[] = {"dbname", dbname ? "dbname" : NULL, NULL};
    const char *values[] = {conninfo ? conninfo : "", dbname, NULL};
    self->conn = PQconnectdbParams(keys, values, 1);
    int rc = JR_STORE_OK;
    if (PQstatus(self->conn) != CONNECTION_OK) {
        jr_store_conn_set_error(self, "connect");
        rc = JR_STORE_RETRY;
    } else {
        PQsetNoticeProcessor(self->conn, quiet, NULL);
    }
    if (rc == JR_STORE_OK && role != NULL) {
        jr_store_params_t p = {0};
        jr_store_conn_param_text(&p, role);
        PGresult *res = PQexecParams(self->conn, "SELECT set_config('role', $1, false)", p.n, NULL,
                                     p.values, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = jr_store_conn_classify(self, res, "SET ROLE");
        }
        PQclear(res);
    }
    if (rc == JR_STORE_OK) {
        rc = recorded(self, done);
    }
    if (rc == JR_STORE_OK) {
        rc = jr_store_migrate_apply(self);
    }
    for (size_t i = 0; rc == JR_STORE_OK && i < jr_migrations_count; i++) {
        if (!done[i]) {
            out->applied++;
            out->first = out->first ? out->first : jr_migrations[i].name;
            out->last = jr_migrations[i].name;
        }
    }
    if (rc != JR_STORE_OK) {
        snprintf(err, errlen, "%s", self->error);
    }
    free(done);
    jr_store_pg_destroy(&self);
    return rc;
}
