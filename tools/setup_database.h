/* setup_database.h -- `joinedreview setup-database`: run once by the
 * database superuser against any PostgreSQL 15 or later, it creates the
 * least-privilege roles, the database and the schema (the daemon's own
 * migrations), and prints what it did. Running it again changes nothing and
 * says so.
 *
 * The roles are those the shipped configuration names (schema/004_roles.sql
 * and schema/020_web.sql say what each may do):
 *   joinedreview_owner   login: owns the database and the schema; the
 *                        daemon's migrations log in as it (database_owner)
 *   joinedreview_app     group: reads and writes rows (the daemon)
 *   joinedreview_reader  group: the reporting views (analysts, BI tools)
 *   joinedreview_web     group: what the web pages show, and the audit trail
 *   jr_daemon            login, member of joinedreview_app
 *   jr_web               login, member of joinedreview_web
 * The logins get no password: the server's pg_hba.conf decides how they
 * authenticate (peer with a map, or a password the DBA sets). */
#ifndef JR_SETUP_DATABASE_H
#define JR_SETUP_DATABASE_H

/* argv[0] is "setup-database". Exit status: 0 done (or nothing to do), 2
 * usage, connection, privilege or SQL trouble (said on stderr). */
int jr_setup_database_main(int argc, char **argv);

#endif
