/* summary.h -- `joinedreview summary --quarter YYYYQN`: the quarterly
 * summary of national capture (DOMAIN.md, "National capture") as CSV, one
 * row per funding stream, read from the reporting views
 * (report_enrolled_by_quarter, report_held_by_quarter; schema 013) in a
 * read-only transaction, through a read-only login (a member of
 * joinedreview_reader). It carries no identifier; every count goes through
 * domain/capture.h: 1 to 7 shown as "*", others rounded to the nearest 5;
 * money totals only when 0 or at least 8 persons make them. */
#ifndef JR_SUMMARY_H
#define JR_SUMMARY_H

#include <libpq-fe.h>

/* Runs the subcommand; argv[0] is "summary". connect opens the database
 * from a conninfo (NULL: the PG* environment) or says why it cannot and
 * returns NULL. Returns the exit status: 0, or 2 on a usage error or
 * trouble reading. */
int jr_summary_main(int argc, char **argv, PGconn *(*connect)(const char *conninfo));

#endif
