/* setup_database.c -- see setup_database.h.
 *
 * Every step looks first and acts only on what is missing, so a second run
 * changes nothing. Role names are fixed (the shipped configuration names
 * them), so their statements are constants. The database's name is an
 * option; DDL takes no parameters, so PostgreSQL quotes it itself
 * (format('%I')) and the statement it returns is run. The schema is the
 * daemon's: its migrations, through the store's own code (store_pg.h). */
#include "setup_database.h"

#include <getopt.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_pg.h"

#define EXIT_TROUBLE 2
#define OWNER        "joinedreview_owner"

typedef struct {
    const char *name;
    const char *create; /* the statement that creates it */
    const char *member_of;
    const char *grant; /* makes it a member of member_of */
    const char *what;
} role_t;

static const role_t g_roles[] = {
    {OWNER, "CREATE ROLE " OWNER " LOGIN", NULL, NULL,
     "login: owns the database and the schema, runs the migrations"},
    {"joinedreview_app", "CREATE ROLE joinedreview_app NOLOGIN", NULL, NULL,
     "group: reads and writes rows, changes no schema"},
    {"joinedreview_reader", "CREATE ROLE joinedreview_reader NOLOGIN", NULL, NULL,
     "group: reads the reporting views"},
    {"joinedreview_web", "CREATE ROLE joinedreview_web NOLOGIN", NULL, NULL,
     "group: reads what the web pages show, writes the audit trail"},
    {"jr_daemon", "CREATE ROLE jr_daemon LOGIN IN ROLE joinedreview_app", "joinedreview_app",
     "GRANT joinedreview_app TO jr_daemon", "login of joinedreviewd"},
    {"jr_web", "CREATE ROLE jr_web LOGIN IN ROLE joinedreview_web", "joinedreview_web",
     "GRANT joinedreview_web TO jr_web", "login of joinedreview-web"},
    {"jr_analyst", "CREATE ROLE jr_analyst LOGIN IN ROLE joinedreview_reader",
     "joinedreview_reader", "GRANT joinedreview_reader TO jr_analyst",
     "read-only login of joinedreview summary"},
};

static void usage(FILE *out)
{
    fputs("usage: joinedreview setup-database [--database CONNINFO] [--dbname NAME]\n"
          "  -d, --database CONNINFO  the database superuser's connection, to any database\n"
          "                           of the server [from PG* environment]\n"
          "      --dbname NAME        the database to create [joinedreview]\n",
          out);
}

/* Runs one statement; 0, or -1 with PostgreSQL's reason on stderr. */
static int run(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **out)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "joinedreview setup-database: %s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
        return -1;
    }
    if (out != NULL) {
        *out = res;
    } else {
        PQclear(res);
    }
    return 0;
}

/* Whether a one-row, one-column query answers true; -1 on failure. */
static int ask(PGconn *conn, const char *sql, int n, const char *const *params)
{
    PGresult *res = NULL;
    if (run(conn, sql, n, params, &res) != 0) {
        return -1;
    }
    int yes = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return yes;
}

/* The server: PostgreSQL 15 or later, and a superuser's session. */
static int check_server(PGconn *conn)
{
    PGresult *res = NULL;
    if (run(conn,
            "SELECT current_setting('server_version_num')::int, current_setting('server_version'),"
            " current_user, rolsuper FROM pg_roles WHERE rolname = current_user",
            0, NULL, &res) != 0) {
        return -1;
    }
    int rc = 0;
    if (PQntuples(res) != 1 || atoi(PQgetvalue(res, 0, 0)) < 150000) {
        fprintf(stderr, "joinedreview setup-database: needs PostgreSQL 15 or later, not %s\n",
                PQntuples(res) == 1 ? PQgetvalue(res, 0, 1) : "?");
        rc = -1;
    } else if (strcmp(PQgetvalue(res, 0, 3), "t") != 0) {
        fprintf(stderr,
                "joinedreview setup-database: %s is not a superuser; run it as the database "
                "superuser (e.g. sudo -u postgres joinedreview setup-database)\n",
                PQgetvalue(res, 0, 2));
        rc = -1;
    } else {
        printf("PostgreSQL %s, as %s (superuser)\n", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return rc;
}

/* Each role, created when missing, made a member of its group when not. */
static int setup_roles(PGconn *conn, int *changes)
{
    for (size_t i = 0; i < sizeof g_roles / sizeof g_roles[0]; i++) {
        const role_t *r = &g_roles[i];
        const char *name[] = {r->name};
        int exists = ask(conn, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", 1, name);
        if (exists < 0) {
            return -1;
        }
        if (!exists) {
            if (run(conn, r->create, 0, NULL, NULL) != 0) {
                return -1;
            }
            printf("role %s: created (%s)\n", r->name, r->what);
            (*changes)++;
            continue;
        }
        const char *pair[] = {r->name, r->member_of};
        int member =
            r->member_of == NULL ? 1 : ask(conn, "SELECT pg_has_role($1, $2, 'MEMBER')", 2, pair);
        if (member < 0) {
            return -1;
        }
        if (!member) {
            if (run(conn, r->grant, 0, NULL, NULL) != 0) {
                return -1;
            }
            printf("role %s: was there; made a member of %s\n", r->name, r->member_of);
            (*changes)++;
        } else {
            printf("role %s: already there\n", r->name);
        }
    }
    return 0;
}

/* Runs the statement PostgreSQL builds with format(), the database's name
 * quoted by it as an identifier. */
static int run_formatted(PGconn *conn, const char *format_sql, const char *dbname)
{
    const char *params[] = {dbname};
    PGresult *res = NULL;
    if (run(conn, format_sql, 1, params, &res) != 0) {
        return -1;
    }
    int rc = run(conn, PQgetvalue(res, 0, 0), 0, NULL, NULL);
    PQclear(res);
    return rc;
}

/* The database, owned by the schema's owner, open to joinedreview's roles
 * alone. Refused when it exists with another owner. */
static int setup_database(PGconn *conn, const char *dbname, int *changes)
{
    const char *params[] = {dbname};
    PGresult *res = NULL;
    if (run(conn, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", 1, params,
            &res) != 0) {
        return -1;
    }
    if (PQntuples(res) == 1) {
        int rc = 0;
        if (strcmp(PQgetvalue(res, 0, 0), OWNER) == 0) {
            printf("database %s: already there, owned by " OWNER "\n", dbname);
        } else {
            fprintf(stderr,
                    "joinedreview setup-database: database %s exists, owned by %s, not " OWNER
                    ": choose another --dbname, or hand it over (ALTER DATABASE ... OWNER TO " OWNER
                    ") if it is joinedreview's\n",
                    dbname, PQgetvalue(res, 0, 0));
            rc = -1;
        }
        PQclear(res);
        return rc;
    }
    PQclear(res);
    if (run_formatted(conn,
                      "SELECT format('CREATE DATABASE %I OWNER " OWNER
                      " TEMPLATE template0 ENCODING ''UTF8''', $1::text)",
                      dbname) != 0 ||
        run_formatted(conn, "SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', $1::text)",
                      dbname) != 0 ||
        run_formatted(conn,
                      "SELECT format('GRANT CONNECT ON DATABASE %I TO joinedreview_app, "
                      "joinedreview_reader, joinedreview_web', $1::text)",
                      dbname) != 0) {
        return -1;
    }
    printf("database %s: created, owned by " OWNER "; only joinedreview's roles may connect\n",
           dbname);
    (*changes)++;
    return 0;
}

int jr_setup_database_main(int argc, char **argv)
{
    static const struct option longopts[] = {{"database", required_argument, NULL, 'd'},
                                             {"dbname", required_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *conninfo = "", *dbname = "joinedreview";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            conninfo = optarg;
            break;
        case 'n':
            dbname = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fputs("Try 'joinedreview --help'.\n", stderr);
            return EXIT_TROUBLE;
        }
    }
    if (optind < argc || dbname[0] == '\0') {
        usage(stderr);
        return EXIT_TROUBLE;
    }
    /* The migrations' own notices would repeat what is printed here. */
    jr_log_set_level(JR_LOG_WARNING);
    PGconn *conn = PQconnectdb(conninfo);
    int changes = 0, status = EXIT_TROUBLE;
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "joinedreview setup-database: cannot connect: %s", PQerrorMessage(conn));
        goto done;
    }
    if (check_server(conn) != 0 || setup_roles(conn, &changes) != 0 ||
        setup_database(conn, dbname, &changes) != 0) {
        goto done;
    }
    /* The schema, as its owner, on a connection to the new database. */
    jr_store_migrated_t m;
    char err[512];
    if (jr_store_pg_migrate(conninfo, dbname, OWNER, &m, err, sizeof err) != JR_STORE_OK) {
        fprintf(stderr, "joinedreview setup-database: migrations: %s\n", err);
        goto done;
    }
    if (m.applied > 0) {
        printf("schema: %zu migration%s applied as " OWNER ", %s to %s\n", m.applied,
               m.applied == 1 ? "" : "s", m.first, m.last);
        changes++;
    } else {
        printf("schema: up to date (%zu migrations, the newest %s)\n", m.known,
               m.newest ? m.newest : "none");
    }
    printf(changes ? "done\n" : "nothing to do: everything was already in place\n");
    status = 0;
done:
    PQfinish(conn);
    return status;
}
