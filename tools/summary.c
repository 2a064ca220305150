/* summary.c -- see summary.h. */
#include "summary.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

/* The summary's columns after quarter and stream: the counts, in order, then
 * the money totals (their persons counted in budget_persons, not printed). */
static const char g_header[] =
    "quarter,stream,persons_enrolled,reviews_held,held_by_due_date,complete_at_sign_off,"
    "area1_red,area1_amber,area1_green,area2_red,area2_amber,area2_green,area3_red,area3_amber,area3_green,area4_red,area4_amber,area4_green,area5_red,area5_amber,area5_green,area6_red,area6_amber,area6_green,area7_red,area7_amber,area7_green,area8_red,area8_amber,area8_green,area9_red,area9_amber,area9_green,allocated_pence,spent_pence,underspend_pence";

enum { COUNTS = 4 + 27 };

/* One row per stream with anything in the quarter, in code order. */
static const char g_sql[] =
    "WITH e AS (SELECT stream, persons FROM report_enrolled_by_quarter WHERE quarter = $1), "
    "h AS (SELECT * FROM report_held_by_quarter WHERE quarter = $1), "
    "s AS (SELECT stream FROM e UNION SELECT stream FROM h) "
    "SELECT s.stream, coalesce(e.persons, 0), coalesce(h.reviews_held, 0), "
    "coalesce(h.held_by_due_date, 0), coalesce(h.complete_at_sign_off, 0), "
    "coalesce(h.area1_red, 0), coalesce(h.area1_amber, 0), coalesce(h.area1_green, 0), coalesce(h.area2_red, 0), coalesce(h.area2_amber, 0), coalesce(h.area2_green, 0), coalesce(h.area3_red, 0), coalesce(h.area3_amber, 0), coalesce(h.area3_green, 0), coalesce(h.area4_red, 0), coalesce(h.area4_amber, 0), coalesce(h.area4_green, 0), coalesce(h.area5_red, 0), coalesce(h.area5_amber, 0), coalesce(h.area5_green, 0), coalesce(h.area6_red, 0), coalesce(h.area6_amber, 0), coalesce(h.area6_green, 0), coalesce(h.area7_red, 0), coalesce(h.area7_amber, 0), coalesce(h.area7_green, 0), coalesce(h.area8_red, 0), coalesce(h.area8_amber, 0), coalesce(h.area8_green, 0), coalesce(h.area9_red, 0), coalesce(h.area9_amber, 0), coalesce(h.area9_green, 0), "
    "coalesce(h.budget_persons, 0), coalesce(h.allocated_pence, 0), "
    "coalesce(h.spent_pence, 0), coalesce(h.underspend_pence, 0) "
    "FROM s LEFT JOIN e USING (stream) LEFT JOIN h USING (stream) ORDER BY s.stream";

static void usage(FILE *out)
{
    fputs("usage: joinedreview summary --quarter YYYYQN [--database CONNINFO]\n"
          "  -q, --quarter YYYYQN     the quarter, e.g. 2026Q3 (July to September 2026)\n"
          "  -d, --database CONNINFO  a read-only login (joinedreview_reader) [PG* environment]\n"
          "Writes CSV, one row per funding stream: counts of 1 to 7 as *, others rounded\n"
          "to the nearest 5; budget totals in whole pence, * when 1 to 7 persons make them.\n",
          out);
}

/* Prints one CSV field: stream codes are letters, digits and '_', the rest
 * numbers or '*', so nothing needs quoting. */
static void row_out(const PGresult *res, int row, const char *quarter)
{
    char cell[24];
    printf("%s,%s", quarter, PQgetvalue(res, row, 0));
    for (int c = 1; c <= COUNTS; c++) {
        printf(",%s", jr_capture_count(strtoull(PQgetvalue(res, row, c), NULL, 10), cell));
    }
    uint64_t persons = strtoull(PQgetvalue(res, row, COUNTS + 1), NULL, 10);
    for (int c = COUNTS + 2; c <= COUNTS + 4; c++) {
        printf(",%s", jr_capture_total(strtoll(PQgetvalue(res, row, c), NULL, 10), persons, cell));
    }
    printf("\n");
}

int jr_summary_main(int argc, char **argv, PGconn *(*connect)(const char *conninfo))
{
    static const struct option longopts[] = {{"quarter", required_argument, NULL, 'q'},
                                             {"database", required_argument, NULL, 'd'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *quarter = NULL, *conninfo = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "q:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'q':
            quarter = optarg;
            break;
        case 'd':
            conninfo = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    jr_day_t first, last;
    if (optind < argc || quarter == NULL || jr_capture_quarter(quarter, &first, &last) != 0) {
        fprintf(stderr, "joinedreview summary: give --quarter as YYYYQN, e.g. 2026Q3\n");
        return 2;
    }
    PGconn *conn = connect(conninfo);
    if (conn == NULL) {
        return 2;
    }
    int status = 2;
    const char *params[1] = {quarter};
    PGresult *res = PQexec(conn, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        res = PQexecParams(conn, g_sql, 1, NULL, params, NULL, NULL, 0);
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "joinedreview summary: reading the reporting views failed: %s",
                PQresultErrorMessage(res));
    } else {
        printf("%s\n", g_header);
        for (int row = 0; row < PQntuples(res); row++) {
            row_out(res, row, quarter);
        }
        status = fflush(stdout) == 0 ? 0 : 2;
    }
    PQclear(res);
    PQclear(PQexec(conn, "COMMIT"));
    PQfinish(conn);
    return status;
}
