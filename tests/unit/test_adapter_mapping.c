/* test_adapter_mapping.c -- the adapter's modules without a daemon: each
 * stream's sample export maps to the topics and roles a reader of DOMAIN.md
 * expects; CSV as spreadsheets write it (quotes, commas and line breaks in
 * fields, a byte-order mark, CRLF), read as a stream in any pieces and in
 * UTF-8, Windows-1252 or UTF-16; undecodable bytes, torn last lines and the
 * reader's caps; refusals with their reasons; stable ids; the mapping
 * override; checkpoints, the rejects file and which inbox files are
 * complete. */
#define _GNU_SOURCE /* F_SETLEASE */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "csvin.h"
#include "inbox.h"
#include "jr_csv_doc.h"
#include "jr_cunit.h"
#include "mapping.h"
#include "rejects.h"
#include "rows.h"

#ifndef JR_SOURCE_DIR
#error "JR_SOURCE_DIR must name the source tree"
#endif

#define T(x) JOINEDREVIEW__V1__TOPIC__##x
#define R(x) JOINEDREVIEW__V1__ROLE__##x
#define P(x) JOINEDREVIEW__V1__PRIORITY__##x
#define NONE (-1) /* no priority given */

enum { ENROL = 'E', CONTRIB = 'C', HELD = 'H', PLAN = 'P', PREFS = 'W', BUDGET = 'B' };

/* What one sample row must become. */
typedef struct {
    const char *key; /* the id starts with "<key>-" */
    int kind;
    int topic, role, priority;
} expect_t;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static jr_mapping_t *builtin(const char *stream)
{
    const jr_mapping_builtin_t *b = jr_mapping_builtin(stream);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    char why[512] = "";
    jr_mapping_t *m = jr_mapping_parse(b->text, b->path, why, sizeof why);
    if (!m)
        fprintf(stderr, "%s: %s\n", stream, why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    return m;
}

static jr_csv_doc_t *sample(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/adapters/%s/sample.csv", JR_SOURCE_DIR, dir);
    size_t len;
    char *data = read_file(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    char why[512] = "";
    jr_csv_doc_t *csv = jr_csv_doc_parse(data, len, why, sizeof why);
    free(data);
    if (!csv)
        fprintf(stderr, "%s: %s\n", path, why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    return csv;
}

/* Converts every row of the stream's sample and compares with `want`. */
static void check_sample(const char *stream, const char *dir, const expect_t *want, size_t n)
{
    jr_mapping_t *m = builtin(stream);
    jr_csv_doc_t *csv = sample(dir);
    jr_rows_binding_t b;
    char why[JR_ROWS_REASON_MAX] = "";
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), 0);
    CU_ASSERT_EQUAL(csv->n, n);
    for (size_t i = 0; i < n && i < csv->n; i++) {
        jr_rows_event_t ev;
        int rc = jr_rows_convert(m, &b, csv->rows[i], i, &ev, why, sizeof why);
        if (rc != 0)
            fprintf(stderr, "%s row %zu: %s\n", stream, i, why);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_STRING_EQUAL(ev.env.stream, stream);
        size_t kl = strlen(want[i].key);
        CU_ASSERT(strncmp(ev.env.source_event_id, want[i].key, kl) == 0 &&
                  ev.env.source_event_id[kl] == '-' && strlen(ev.env.source_event_id) == kl + 33);
        switch (want[i].kind) {
        case ENROL:
            CU_ASSERT_EQUAL(ev.env.body_case, JOINEDREVIEW__V1__ENVELOPE__BODY_ENROLMENT);
            CU_ASSERT_PTR_NOT_NULL(ev.enrolment.started_on);
            break;
        case HELD:
            CU_ASSERT_EQUAL(ev.env.body_case, JOINEDREVIEW__V1__ENVELOPE__BODY_REVIEW_HELD);
            break;
        case PLAN:
            CU_ASSERT_EQUAL(ev.env.body_case, JOINEDREVIEW__V1__ENVELOPE__BODY_PLAN_REVISION);
            break;
        case PREFS:
            CU_ASSERT_EQUAL(ev.env.body_case, JOINEDREVIEW__V1__ENVELOPE__BODY_PREFERENCES);
            break;
        case BUDGET:
            CU_ASSERT_EQUAL(ev.env.body_case, JOINEDREVIEW__V1__ENVELOPE__BODY_BUDGET);
            break;
        default: {
            CU_ASSERT_EQUAL_FATAL(ev.env.body_case, JOINEDREVIEW__V1__ENVELOPE__BODY_CONTRIBUTION);
            const Joinedreview__V1__Contribution *c = ev.env.contribution;
            CU_ASSERT_EQUAL(c->topic, want[i].topic);
            CU_ASSERT_EQUAL(c->author_role, want[i].role);
            if (want[i].priority == NONE) {
                CU_ASSERT_FALSE(c->has_priority);
            } else {
                CU_ASSERT_TRUE(c->has_priority);
                CU_ASSERT_EQUAL(c->priority, want[i].priority);
            }
            if ((int)c->topic != want[i].topic || (int)c->author_role != want[i].role)
                fprintf(stderr, "%s row %zu (%s): topic %d role %d\n", stream, i, want[i].key,
                        c->topic, c->author_role);
        }
        }
    }
    jr_csv_doc_destroy(&csv);
    jr_mapping_destroy(&m);
}

/* ---- each stream's sample ------------------------------------------------------ */

static void test_sample_sc(void)
{
    static const expect_t want[] = {
        {"sc-0001", ENROL, 0, 0, 0},
        {"sc-0002", CONTRIB, T(HEALTH), R(PERSON), P(AMBER)},
        {"sc-0006", CONTRIB, T(INCOME), R(COUNCIL), NONE},
        {"sc-0007", CONTRIB, T(INFORMATION), R(PERSON), NONE},
        {"sc-0009", CONTRIB, T(LEISURE), R(PERSON), P(GREEN)},
        {"sc-0003", CONTRIB, T(HEALTH), R(COUNCIL), P(RED)},
        {"sc-0005", CONTRIB, T(SUPPORT), R(PROVIDER), NONE},
        {"sc-0004", CONTRIB, T(HOUSING), R(CARER), P(RED)},
        {"sc-0008", CONTRIB, T(FAMILY), R(CARER), P(AMBER)},
        {"sc-0010", PLAN, 0, 0, 0},
        {"sc-0101", ENROL, 0, 0, 0},
        {"sc-0102", CONTRIB, T(SUPPORT), R(PERSON), P(AMBER)},
        {"sc-0103", CONTRIB, T(FAMILY), R(CARER), P(AMBER)},
        {"sc-0104", PLAN, 0, 0, 0},
        {"sc-0105", HELD, 0, 0, 0},
        {"sc-0106", CONTRIB, T(SUPPORT), R(PERSON), P(GREEN)},
        {"sc-0107", CONTRIB, T(HEALTH), R(PERSON), P(AMBER)},
        {"sc-0201", ENROL, 0, 0, 0},
        {"sc-0202", CONTRIB, T(ADVOCACY), R(ADVOCATE), NONE},
        {"sc-0203", CONTRIB, T(CHOICES_RISKS), R(PERSON), P(RED)},
        {"sc-0204", CONTRIB, T(FAMILY), R(CARER), P(GREEN)},
        {"sc-0205", CONTRIB, T(EDUCATION), R(PERSON), P(GREEN)},
        {"sc-0011", BUDGET, 0, 0, 0},
        {"sc-0012", PREFS, 0, 0, 0},
        {"sc-0206", PREFS, 0, 0, 0},
    };
    check_sample("SC", "sc", want, sizeof want / sizeof *want);
}

static void test_sample_sp(void)
{
    static const expect_t want[] = {
        {"sp-3310", ENROL, 0, 0, 0},
        {"sp-3311", CONTRIB, T(HOUSING), R(STREAM_OFFICER), P(GREEN)}, /* 4a tenancy */
        {"sp-3312", CONTRIB, T(SAFETY), R(STREAM_OFFICER), P(GREEN)},  /* 4e harm */
        {"sp-3320", CONTRIB, T(LEISURE), R(STREAM_OFFICER), P(GREEN)}, /* 2b leisure */
        {"sp-3313", BUDGET, 0, 0, 0},
        {"sp-3401", ENROL, 0, 0, 0},
        {"sp-3402", PREFS, 0, 0, 0},
        {"sp-3411", ENROL, 0, 0, 0},
        {"sp-3412", PREFS, 0, 0, 0},
        {"sp-3421", ENROL, 0, 0, 0},
        {"sp-3422", PREFS, 0, 0, 0},
    };
    check_sample("SP", "sp", want, sizeof want / sizeof *want);
}

static void test_sample_ilf(void)
{
    static const expect_t want[] = {
        {"ilf-22031", ENROL, 0, 0, 0},
        {"ilf-22031-c1", CONTRIB, T(SUPPORT), R(PERSON), P(AMBER)},     /* PA_HOURS, band 2 */
        {"ilf-22031-c2", CONTRIB, T(LEISURE), R(STREAM_OFFICER), NONE}, /* SOCIAL_AND_LEISURE */
        {"ilf-22031-b1", BUDGET, 0, 0, 0},
    };
    check_sample("ILF", "ilf", want, sizeof want / sizeof *want);
}

static void test_sample_ices(void)
{
    static const expect_t want[] = {
        {"ices-5881", ENROL, 0, 0, 0},
        {"ices-5890", CONTRIB, T(EQUIPMENT), R(STREAM_OFFICER), P(AMBER)}, /* PRESSURE_CARE */
        {"ices-5902", CONTRIB, T(EQUIPMENT), R(STREAM_OFFICER), P(GREEN)},
        {"ices-5903", CONTRIB, T(GOODS_SERVICES), R(STREAM_OFFICER), NONE}, /* SERVICE_ACCESS */
        {"ices-5904", CONTRIB, T(SAFETY), R(STREAM_OFFICER), NONE},         /* SAFE_USE_CHECK */
        {"ices-6120", ENROL, 0, 0, 0},
        {"ices-6121", CONTRIB, T(EQUIPMENT), R(STREAM_OFFICER), NONE},
        {"ices-6122", CONTRIB, T(SAFETY), R(STREAM_OFFICER), P(GREEN)}, /* SENSORY_ALARM */
        {"ices-6123", CONTRIB, T(SAFETY), R(PERSON), P(GREEN)},
        {"ices-4470", ENROL, 0, 0, 0},
        {"ices-4471", CONTRIB, T(SAFETY), R(STREAM_OFFICER), P(RED)}, /* FALLS_RISK, URGENT */
        {"ices-4472", CONTRIB, T(EQUIPMENT), R(STREAM_OFFICER), NONE},
        {"ices-4480", CONTRIB, T(EQUIPMENT), R(STREAM_OFFICER), P(GREEN)},
    };
    check_sample("ICES", "ices", want, sizeof want / sizeof *want);
}

static void test_sample_atw(void)
{
    static const expect_t want[] = {
        {"atw-93215-e1", ENROL, 0, 0, 0},
        {"atw-93215-c1", CONTRIB, T(TRANSPORT), R(STREAM_OFFICER), NONE}, /* TRAVEL_TO_WORK */
        {"atw-93215-c2", CONTRIB, T(EQUIPMENT), R(STREAM_OFFICER), NONE}, /* SPECIAL_AIDS */
        {"atw-93215-c3", CONTRIB, T(EMPLOYMENT), R(PERSON), P(GREEN)},
        {"atw-77410-e1", ENROL, 0, 0, 0},
        {"atw-77410-c1", CONTRIB, T(SUPPORT), R(STREAM_OFFICER),
         P(AMBER)}, /* COMMUNICATION_SUPPORT */
        {"atw-77410-c2", CONTRIB, T(EMPLOYMENT), R(PERSON), P(AMBER)},
        {"atw-77410-p1", PREFS, 0, 0, 0},
    };
    check_sample("ATW", "atw", want, sizeof want / sizeof *want);
}

static void test_sample_dfg(void)
{
    static const expect_t want[] = {
        {"dfg-2026-117", ENROL, 0, 0, 0},
        {"dfg-2026-117-c1", CONTRIB, T(HOUSING), R(STREAM_OFFICER),
         P(GREEN)}, /* LEVEL_ACCESS_SHOWER */
        {"dfg-2026-117-a1", BUDGET, 0, 0, 0},
    };
    check_sample("DFG", "dfg", want, sizeof want / sizeof *want);
}

/* Field by field, the parts that are not topics: identifiers, dates in both
 * formats, times, the enrolment, plan and review-held bodies. */
static void test_sample_fields(void)
{
    char why[JR_ROWS_REASON_MAX];
    jr_rows_binding_t b;
    jr_rows_event_t ev;

    jr_mapping_t *m = builtin("SC");
    jr_csv_doc_t *csv = sample("sc");
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), 0);
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[0], 0, &ev, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(ev.person.nhs_number, "943 476 5919");
    CU_ASSERT_STRING_EQUAL(ev.person.local_id, "SC-77");
    CU_ASSERT_PTR_NULL(ev.person.ni_number);
    CU_ASSERT_STRING_EQUAL(ev.enrolment.started_on, "2024-11-18");
    CU_ASSERT_STRING_EQUAL(ev.enrolment.last_review_on, "2025-12-05");
    CU_ASSERT_PTR_NULL(ev.enrolment.ended_on);
    CU_ASSERT_STRING_EQUAL(ev.enrolment.stream_reference, "SC care and support plan CP-2026-0412");
    CU_ASSERT_EQUAL(ev.env.occurred_at, 1768212900000LL); /* 2026-01-12 10:15 UTC */
    CU_ASSERT_EQUAL(ev.env.schema_version, 1);

    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[1], 1, &ev, why, sizeof why), 0);
    CU_ASSERT_EQUAL(ev.env.occurred_at, 1790847000000LL); /* 2026-10-01 09:30 UTC */
    CU_ASSERT_STRING_EQUAL(ev.contribution.author_name, "Daniel Okafor");
    CU_ASSERT_STRING_EQUAL(ev.contribution.not_working,
                           "The spasms in my legs are worse at night, so I'm tired at work.");
    CU_ASSERT_TRUE(ev.contribution.has_no_change);
    CU_ASSERT_FALSE(ev.contribution.no_change);

    /* A note over two lines, quoted in the export. */
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[5], 5, &ev, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(ev.contribution.not_working,
                           "Night-time spasms are affecting his sleep and his job.\n"
                           "He needs a GP referral back to the spinal injuries team soon.");
    CU_ASSERT_EQUAL(jr_csvin_row_line(csv->rows[6]), 9); /* the row after it starts two lines on */

    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[9], 9, &ev, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(ev.plan_revision.revise_by, "2026-12-15");
    CU_ASSERT_STRING_EQUAL(ev.plan_revision.revised_by, "Priya Shah, care coordinator");
    CU_ASSERT_TRUE(ev.plan_revision.has_approval_needed && ev.plan_revision.approval_needed);

    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[14], 14, &ev, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(ev.review_held.held_on, "2026-09-17");
    jr_csv_doc_destroy(&csv);
    jr_mapping_destroy(&m);

    /* ATW: DD/MM/YYYY, the NI number, elements known by NI number only. */
    m = builtin("ATW");
    csv = sample("atw");
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->header, 0, NULL),
                           "claim_ref"); /* no BOM in the name */
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[0], 0, &ev, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(ev.person.ni_number, "AB123456C");
    CU_ASSERT_STRING_EQUAL(ev.person.nhs_number, "943 476 5919");
    CU_ASSERT_STRING_EQUAL(ev.enrolment.started_on, "2026-03-02");
    CU_ASSERT_STRING_EQUAL(ev.enrolment.award_ends_on, "2029-03-01");
    CU_ASSERT_EQUAL(ev.env.occurred_at, 1772409600000LL); /* midnight, row 0 */
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[1], 1, &ev, why, sizeof why), 0);
    CU_ASSERT_PTR_NULL(ev.person.nhs_number);
    CU_ASSERT_STRING_EQUAL(ev.person.ni_number, "AB123456C");
    CU_ASSERT_EQUAL(ev.env.occurred_at, 1789344000000LL + 1); /* 14/09/2026, row 1 */

    /* Aisha's preferences, by NI number: a BSL interpreter and easy read. */
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[7], 7, &ev, why, sizeof why), 0);
    CU_ASSERT_EQUAL(ev.preferences.way, JOINEDREVIEW__V1__REVIEW_WAY__WAY_MEETING);
    CU_ASSERT_EQUAL_FATAL(ev.preferences.n_needs, 2);
    CU_ASSERT_EQUAL(ev.preferences.needs[0], JOINEDREVIEW__V1__NEED__NEED_BSL_INTERPRETER);
    CU_ASSERT_EQUAL(ev.preferences.needs[1], JOINEDREVIEW__V1__NEED__NEED_EASY_READ);
    CU_ASSERT_STRING_EQUAL(ev.preferences.called, "Aisha");
    CU_ASSERT_STRING_EQUAL(ev.person.ni_number, "AB654321D");
    jr_csv_doc_destroy(&csv);
    jr_mapping_destroy(&m);

    /* SP: the scheme is the group key; pounds made whole pence; who to
     * involve, split at ';'. */
    m = builtin("SP");
    csv = sample("sp");
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), 0);
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[0], 0, &ev, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(ev.enrolment.group_key, "Rosewood Court sheltered housing");
    CU_ASSERT_STRING_EQUAL(ev.enrolment.known_as, "Edna Price");
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[4], 4, &ev, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(ev.budget.period_start, "2026-04-01");
    CU_ASSERT_STRING_EQUAL(ev.budget.period_end, "2027-03-31");
    CU_ASSERT_STRING_EQUAL(ev.budget.allocated_pence, "120000");
    CU_ASSERT_STRING_EQUAL(ev.budget.spent_pence, "105000");
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[6], 6, &ev, why, sizeof why), 0);
    CU_ASSERT_EQUAL(ev.preferences.way, JOINEDREVIEW__V1__REVIEW_WAY__WAY_WITH_OTHERS);
    CU_ASSERT_EQUAL_FATAL(ev.preferences.n_involve, 2);
    CU_ASSERT_STRING_EQUAL(ev.preferences.involve[0], "Scheme manager");
    CU_ASSERT_STRING_EQUAL(ev.preferences.involve[1], "his daughter Carol");
    CU_ASSERT_STRING_EQUAL(ev.preferences.where, "The residents' lounge");
    CU_ASSERT_STRING_EQUAL(ev.preferences.called, "Bert");
    jr_csv_doc_destroy(&csv);
    jr_mapping_destroy(&m);

    /* ILF's interval; ICES's "no change". */
    m = builtin("ILF");
    csv = sample("ilf");
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), 0);
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[0], 0, &ev, why, sizeof why), 0);
    CU_ASSERT_TRUE(ev.enrolment.has_review_interval_days);
    CU_ASSERT_EQUAL(ev.enrolment.review_interval_days, 730);
    jr_csv_doc_destroy(&csv);
    jr_mapping_destroy(&m);
    m = builtin("ICES");
    csv = sample("ices");
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), 0);
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[3], 3, &ev, why, sizeof why), 0);
    CU_ASSERT_TRUE(ev.contribution.has_no_change && ev.contribution.no_change);
    CU_ASSERT_PTR_NULL(ev.contribution.working);
    jr_csv_doc_destroy(&csv);
    jr_mapping_destroy(&m);
}

static void test_every_builtin_loads(void)
{
    size_t n;
    const jr_mapping_builtin_t *all = jr_mapping_builtins(&n);
    CU_ASSERT_EQUAL(n, 6);
    static const char *const codes[] = {"ATW", "DFG", "ICES", "ILF", "SC", "SP"};
    for (size_t i = 0; i < n && i < 6; i++) {
        CU_ASSERT_STRING_EQUAL(all[i].stream, codes[i]);
        jr_mapping_t *m = builtin(all[i].stream);
        CU_ASSERT_STRING_EQUAL(jr_mapping_stream(m), codes[i]);
        jr_mapping_destroy(&m);
    }
    CU_ASSERT_PTR_NOT_NULL(jr_mapping_builtin("sc")); /* any case */
    CU_ASSERT_PTR_NULL(jr_mapping_builtin("CPA"));
}

/* ---- CSV as spreadsheets write it ------------------------------------------------- */

static void test_csv_quotes_bom_crlf(void)
{
    static const char text[] = "\xEF\xBB\xBF"
                               "id,Note,Other\r\n"
                               "1,\"x, y\",\"line one\r\nline two\"\r\n"
                               "\r\n"
                               "2,\"she said \"\"no\"\"\",  spaced  \r\n"
                               "3,,last";
    char why[256] = "";
    jr_csv_doc_t *csv = jr_csv_doc_parse(text, sizeof text - 1, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_EQUAL(jr_csvin_row_fields(csv->header), 3);
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->header, 0, NULL), "id");
    CU_ASSERT_EQUAL(jr_csvin_row_column(csv->header, "note"), 1); /* any case */
    CU_ASSERT_EQUAL(jr_csvin_row_column(csv->header, "missing"), -1);
    CU_ASSERT_EQUAL_FATAL(csv->n, 3); /* the blank line is no row */
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->rows[0], 1, NULL), "x, y");
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->rows[0], 2, NULL), "line one\r\nline two");
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->rows[1], 1, NULL), "she said \"no\"");
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->rows[1], 2, NULL), "spaced");
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->rows[2], 1, NULL), "");
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->rows[2], 2, NULL),
                           "last"); /* no final line end */
    CU_ASSERT_PTR_NULL(jr_csvin_row_field(csv->rows[2], 3, NULL));
    CU_ASSERT_EQUAL(jr_csvin_row_line(csv->rows[0]), 2);
    CU_ASSERT_EQUAL(jr_csvin_row_line(csv->rows[1]), 5);
    CU_ASSERT_EQUAL(jr_csvin_row_line(csv->rows[2]), 6);
    jr_csv_doc_destroy(&csv);

    /* The same with LF only and no BOM gives the same fields. */
    static const char lf[] = "id,Note\n1,\"x, y\"\n";
    csv = jr_csv_doc_parse(lf, sizeof lf - 1, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(csv->rows[0], 1, NULL), "x, y");
    jr_csv_doc_destroy(&csv);
}

static void test_csv_malformed_refused(void)
{
    char why[256] = "";
    static const char open_quote[] = "a,b\n1,2\n3,\"never closed\n4,5\n";
    CU_ASSERT_PTR_NULL(jr_csv_doc_parse(open_quote, sizeof open_quote - 1, why, sizeof why));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "not well-formed CSV"));
    static const char stray[] = "a,b\n1,2\n3,\"x\"y\n";
    CU_ASSERT_PTR_NULL(jr_csv_doc_parse(stray, sizeof stray - 1, why, sizeof why));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "line 3"));
    CU_ASSERT_PTR_NULL(jr_csv_doc_parse("", 0, why, sizeof why));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "header"));
}

/* ---- refusals ------------------------------------------------------------------------ */

static const char sc_header[] =
    "record_id,record_type,client_id,nhs_number,entered_at,outcome_area,author_role,author,"
    "whats_working,whats_not_working,priority,no_change,plan_start_date,plan_end_date,"
    "last_review_date,plan_reference,review_held_date,revise_by,revision_owner,approval_needed,"
    "approver\n";

/* Converts the single data row `row` (after sc_header) with mapping m; returns
 * the reason, or "" when it converted. */
static const char *convert_one(const jr_mapping_t *m, const char *row, jr_rows_event_t *ev)
{
    static char why[JR_ROWS_REASON_MAX];
    char text[4096];
    snprintf(text, sizeof text, "%s%s", sc_header, row);
    jr_csv_doc_t *csv = jr_csv_doc_parse(text, strlen(text), why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    jr_rows_binding_t b;
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), 0);
    why[0] = '\0';
    jr_rows_event_t local;
    jr_rows_convert(m, &b, csv->rows[0], 0, ev ? ev : &local, why, sizeof why);
    jr_csv_doc_destroy(&csv);
    return why;
}

static void expect_refusal(const jr_mapping_t *m, const char *row, const char *prefix)
{
    const char *why = convert_one(m, row, NULL);
    CU_ASSERT(strncmp(why, prefix, strlen(prefix)) == 0);
    if (strncmp(why, prefix, strlen(prefix)) != 0)
        fprintf(stderr, "wanted \"%s...\", got \"%s\"\n", prefix, why);
}

/* Budgets and preferences through a mapping in pounds; an export from
 * before them (no such columns) still goes, the rows that need them are
 * refused alone. */
static void test_budgets_in_pounds_and_preferences(void)
{
    static const char table[] =
        "[stream]\ncode = SC\namounts = pounds\n[columns]\nkind = t\ndate = d\n"
        "nhs_number = n\nperiod_start = a\nperiod_end = z\nallocated = al\nspent = sp\n"
        "way = w\nneeds = ne\n[kinds]\nB = BUDGET\nP = PREFERENCES\n"
        "[ways]\nGROUP = WAY_WITH_OTHERS\n[needs]\nBSL = NEED_BSL_INTERPRETER\n"
        "EASY = NEED_EASY_READ\n";
    char why[JR_ROWS_REASON_MAX] = "";
    jr_mapping_t *m = jr_mapping_parse(table, "test", why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    static const struct {
        const char *allocated, *spent, *want_allocated, *want_spent, *refused;
    } cases[] = {
        {"\"\xc2\xa3" "1,234.56\"", "0012", "123456", "1200", NULL},
        {"9360.5", "\"7,020\"", "936050", "702000", NULL},
        {"-12.00", "0.07", "-1200", "7", NULL}, /* the daemon refuses the sign */
        {"12.345", "1", NULL, NULL, "BAD_VALUE: al \"12.345\" is not an amount in pounds"},
        {"twelve", "1", NULL, NULL, "BAD_VALUE: al \"twelve\" is not an amount"},
        {"", "1", NULL, NULL, "MISSING_VALUE: al is empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "t,d,n,a,z,al,sp,w,ne\nB,2026-11-01,943 476 5919,2026-04-01,"
                                    "2027-03-31,%s,%s,,\n",
                 cases[i].allocated, cases[i].spent);
        jr_csv_doc_t *csv = jr_csv_doc_parse(text, strlen(text), why, sizeof why);
        CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
        jr_rows_binding_t b;
        jr_rows_event_t ev;
        CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), 0);
        int rc = jr_rows_convert(m, &b, csv->rows[0], 0, &ev, why, sizeof why);
        if (cases[i].refused == NULL) {
            CU_ASSERT_EQUAL_FATAL(rc, 0);
            CU_ASSERT_STRING_EQUAL(ev.budget.allocated_pence, cases[i].want_allocated);
            CU_ASSERT_STRING_EQUAL(ev.budget.spent_pence, cases[i].want_spent);
        } else {
            CU_ASSERT_EQUAL(rc, -1);
            CU_ASSERT_EQUAL(strncmp(why, cases[i].refused, strlen(cases[i].refused)), 0);
        }
        jr_csv_doc_destroy(&csv);
    }
    /* Needs through [needs], separated by ';' or ','; an unknown one is
     * refused, never guessed. */
    static const char prefs[] = "t,d,n,a,z,al,sp,w,ne\n"
                                "P,2026-11-01,943 476 5919,,,,,GROUP,\"BSL, easy\"\n"
                                "P,2026-11-01,943 476 5919,,,,,GROUP,BSL;Makaton\n"
                                "P,2026-11-01,943 476 5919,,,,,ALONE,\n";
    jr_csv_doc_t *csv = jr_csv_doc_parse(prefs, sizeof prefs - 1, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    jr_rows_binding_t b;
    jr_rows_event_t ev;
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), 0);
    CU_ASSERT_EQUAL_FATAL(jr_rows_convert(m, &b, csv->rows[0], 0, &ev, why, sizeof why), 0);
    CU_ASSERT_EQUAL(ev.preferences.way, JOINEDREVIEW__V1__REVIEW_WAY__WAY_WITH_OTHERS);
    CU_ASSERT_EQUAL_FATAL(ev.preferences.n_needs, 2);
    CU_ASSERT_EQUAL(ev.preferences.needs[1], JOINEDREVIEW__V1__NEED__NEED_EASY_READ);
    CU_ASSERT_EQUAL(jr_rows_convert(m, &b, csv->rows[1], 1, &ev, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "UNMAPPED_NEED: ne \"Makaton\" is not in [needs]"));
    CU_ASSERT_EQUAL(jr_rows_convert(m, &b, csv->rows[2], 2, &ev, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "UNMAPPED_WAY: w \"ALONE\" is not in [ways]"));
    jr_csv_doc_destroy(&csv);
    /* An export with no budget columns: its budget rows are refused alone. */
    static const char old[] = "t,d,n,w\nB,2026-11-01,943 476 5919,\n";
    csv = jr_csv_doc_parse(old, sizeof old - 1, why, sizeof why);
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), 0);
    CU_ASSERT_EQUAL(jr_rows_convert(m, &b, csv->rows[0], 0, &ev, why, sizeof why), -1);
    CU_ASSERT_STRING_EQUAL(why, "MISSING_VALUE: a is empty: a budget needs it");
    jr_csv_doc_destroy(&csv);
    jr_mapping_destroy(&m);
}

static void test_refusals_with_reasons(void)
{
    jr_mapping_t *m = builtin("SC");
    /* Unmapped code: never guessed. */
    expect_refusal(
        m, "r1,REVIEW_ENTRY,SC-1,9434765919,2026-10-01,WELLBEING,SERVICE_USER,A,ok,,,N,,,,,,,,,\n",
        "UNMAPPED_CODE: outcome_area \"WELLBEING\" is not in [topics] of the SC mapping "
        "(adapters/sc/mapping.ini): correct the row, or add the word to the mapping");
    expect_refusal(m,
                   "r1,REVIEW_ENTRY,SC-1,9434765919,2026-10-01,,SERVICE_USER,A,ok,,,N,,,,,,,,,\n",
                   "UNMAPPED_CODE: outcome_area is empty");
    expect_refusal(
        m, "r1,REVIEW_ENTRY,SC-1,9434765919,2026-10-01,HOUSING,NEIGHBOUR,A,ok,,,N,,,,,,,,,\n",
        "UNMAPPED_ROLE: author_role \"NEIGHBOUR\"");
    expect_refusal(
        m, "r1,REVIEW_ENTRY,SC-1,9434765919,2026-10-01,HOUSING,CARER,A,ok,,PINK,N,,,,,,,,,\n",
        "UNMAPPED_PRIORITY: priority \"PINK\"");
    expect_refusal(m, "r1,CASE_CLOSED,SC-1,9434765919,2026-10-01,,,,,,,,,,,,,,,,\n",
                   "UNMAPPED_KIND: record_type \"CASE_CLOSED\"");
    expect_refusal(m,
                   "r1,REVIEW_ENTRY,SC-1,9434765919,2026-02-30,HOUSING,CARER,A,ok,,,N,,,,,,,,,\n",
                   "BAD_DATE: entered_at \"2026-02-30\" is not a date");
    expect_refusal(m,
                   "r1,REVIEW_ENTRY,SC-1,9434765919,01/10/2026,HOUSING,CARER,A,ok,,,N,,,,,,,,,\n",
                   "BAD_DATE: entered_at \"01/10/2026\"");
    expect_refusal(m, "r1,REVIEW_ENTRY,SC-1,9434765919,,HOUSING,CARER,A,ok,,,N,,,,,,,,,\n",
                   "MISSING_VALUE: entered_at is empty");
    expect_refusal(m, "r1,ENROL,SC-1,9434765919,2026-10-01,,,,,,,,,,,,,,,,\n",
                   "MISSING_VALUE: plan_start_date is empty");
    expect_refusal(m, "r1,ENROL,SC-1,9434765919,2026-10-01,,,,,,,,2026-13-01,,,,,,,,\n",
                   "BAD_DATE: plan_start_date \"2026-13-01\"");
    expect_refusal(m, "r1,REVIEW_ENTRY,,,2026-10-01,HOUSING,CARER,A,ok,,,N,,,,,,,,,\n",
                   "MISSING_IDENTIFIER: nhs_number, client_id are all empty");
    expect_refusal(
        m, "r1,REVIEW_ENTRY,SC-1,9434765919,2026-10-01,HOUSING,CARER,A,ok,,,maybe,,,,,,,,,\n",
        "BAD_VALUE: no_change \"maybe\" is neither Y nor N");
    expect_refusal(m,
                   "r1,REVIEW_ENTRY,SC-1,9434765919,2026-10-01,HOUSING,CARER,A,ok with, a comma\n",
                   "FIELD_COUNT: the row has 10 fields but the header has 21");
    /* What the adapter cannot know is left to the daemon: a wrong check digit converts. */
    CU_ASSERT_STRING_EQUAL(
        convert_one(m,
                    "r1,REVIEW_ENTRY,SC-1,9434765918,2026-10-01,HOUSING,CARER,A,ok,,,N,,,,,,,,,\n",
                    NULL),
        "");
    jr_mapping_destroy(&m);
}

/* ---- reading in a stream, in any encoding --------------------------------------------- */

static const char g_spread[] = "\xEF\xBB\xBF"
                               "id,Note,Other\r\n"
                               "1,\"x, y\",\"line one\r\nline two\"\r\n"
                               "\r\n"
                               "2,\"she said \"\"no\"\"\",  spaced  \r\n"
                               "3,,last\r\n";

/* The same rows whatever the size of the pieces the bytes come in: a byte
 * at a time cuts the byte-order mark, quotes and line ends in two. */
static void test_csv_streamed_in_any_pieces(void)
{
    static const size_t steps[] = {0, 1, 2, 3, 7, 64};
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
        char why[256] = "";
        jr_csv_doc_t *doc =
            jr_csv_doc_parse_in(g_spread, sizeof g_spread - 1, NULL, steps[k], why, sizeof why);
        CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
        CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(doc->header, 0, NULL), "id");
        CU_ASSERT_EQUAL_FATAL(doc->n, 3);
        CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(doc->rows[0], 2, NULL), "line one\r\nline two");
        CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(doc->rows[1], 1, NULL), "she said \"no\"");
        CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(doc->rows[2], 2, NULL), "last");
        CU_ASSERT_EQUAL(jr_csvin_row_line(doc->rows[0]), 2);
        CU_ASSERT_EQUAL(jr_csvin_row_line(doc->rows[1]), 5);
        CU_ASSERT_EQUAL(jr_csvin_row_line(doc->rows[2]), 6);
        CU_ASSERT_EQUAL(doc->torn, JR_CSVIN_WHOLE);
        CU_ASSERT_STRING_EQUAL(doc->encoding, "UTF-8");
        jr_csv_doc_destroy(&doc);
    }
}

/* `utf8` in another encoding, after `bom` (bom_len bytes); caller frees. */
static char *encode(const char *utf8, const char *to, const char *bom, size_t bom_len, size_t *len)
{
    size_t n = strlen(utf8), cap = bom_len + 4 * n + 4;
    char *out = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    memcpy(out, bom, bom_len);
    iconv_t cd = iconv_open(to, "UTF-8");
    CU_ASSERT_FATAL(cd != (iconv_t)-1);
    char *in = (char *)utf8, *o = out + bom_len;
    size_t il = n, ol = cap - bom_len;
    CU_ASSERT_FATAL(iconv(cd, &in, &il, &o, &ol) != (size_t)-1);
    iconv_close(cd);
    *len = cap - ol;
    return out;
}

static void test_csv_encodings(void)
{
    /* Windows-1252 and Latin-1 differ at 0x80-0x9F: the euro, the quotes. */
    static const char utf8[] = "who,said\n"
                               "Ren\xC3\xA9"
                               "e,\xE2\x80\x9C\xE2\x82\xAC"
                               "5 \xE2\x80\x93 \xC2\xA3"
                               "4\xE2\x80\x9D\n";
    static const char cp1252[] = "who,said\n"
                                 "Ren\xE9"
                                 "e,\x93\x80"
                                 "5 \x96 \xA3"
                                 "4\x94\n";
    static const struct {
        const char *to, *bom, *reader, *read_as;
        size_t bom_len;
    } cases[] = {
        {"UTF-8", "", NULL, "UTF-8", 0},
        {"UTF-8", "\xEF\xBB\xBF", "WINDOWS-1252", "UTF-8", 3}, /* the mark wins */
        {"UTF-16LE", "\xFF\xFE", NULL, "UTF-16LE", 2},
        {"UTF-16BE", "\xFE\xFF", "WINDOWS-1252", "UTF-16BE", 2},
        {"UTF-16LE", "", "UTF-16", "UTF-16LE", 0}, /* no mark: Windows' order */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        size_t len;
        char *text = encode(utf8, cases[k].to, cases[k].bom, cases[k].bom_len, &len);
        char why[256] = "";
        jr_csv_doc_t *doc = jr_csv_doc_parse_in(text, len, cases[k].reader, 3, why, sizeof why);
        free(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
        CU_ASSERT_STRING_EQUAL(doc->encoding, cases[k].read_as);
        CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(doc->header, 0, NULL), "who");
        CU_ASSERT_EQUAL_FATAL(doc->n, 1);
        CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(doc->rows[0], 0, NULL), "Ren\xC3\xA9"
                                                                          "e");
        CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(doc->rows[0], 1, NULL), "\xE2\x80\x9C\xE2\x82\xAC"
                                                                          "5 \xE2\x80\x93 \xC2\xA3"
                                                                          "4\xE2\x80\x9D");
        CU_ASSERT_PTR_NULL(jr_csvin_row_bad_text(doc->rows[0], NULL));
        jr_csv_doc_destroy(&doc);
    }
    char why[256] = "";
    jr_csv_doc_t *doc =
        jr_csv_doc_parse_in(cp1252, sizeof cp1252 - 1, "WINDOWS-1252", 0, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL_FATAL(doc->n, 1);
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(doc->rows[0], 1, NULL), "\xE2\x80\x9C\xE2\x82\xAC"
                                                                      "5 \xE2\x80\x93 \xC2\xA3"
                                                                      "4\xE2\x80\x9D");
    jr_csv_doc_destroy(&doc);

    CU_ASSERT_FALSE(jr_csvin_encoding_known("KLINGON"));
    CU_ASSERT_TRUE(jr_csvin_encoding_known("windows-1252"));
    CU_ASSERT_PTR_NULL(jr_csvin_new("KLINGON", why, sizeof why));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "KLINGON"));
}

/* Bytes that are not text in the encoding mark their row, which keeps its
 * place and its other fields; the rows around it are untouched. */
static void test_csv_undecodable_bytes(void)
{
    static const struct {
        const char *text;
        size_t len;
        const char *encoding, *field, *bad;
        bool from_bom;
    } cases[] = {
        {"a,b\n1,x\x81y\n2,z\n", 14, "WINDOWS-1252", "x\xEF\xBF\xBDy",
         "line 2 has bytes that are not WINDOWS-1252 text (0x81)", false},
        {"a,b\n1,\"x\n\xFFy\"\n2,z\n", 17, NULL, "x\n\xEF\xBF\xBDy",
         "line 3 has bytes that are not UTF-8 text (0xFF)", false},
        {"\xFF\xFE"
         "a\0,\0b\0\n\0"
         "1\0,\0\x00\xD8y\0\n\0"
         "2\0,\0z\0\n\0",
         28, NULL, "\xEF\xBF\xBDy", "line 2 has bytes that are not UTF-16LE text (0x00 0xD8)",
         true},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char why[256] = "";
        jr_csv_doc_t *doc =
            jr_csv_doc_parse_in(cases[k].text, cases[k].len, cases[k].encoding, 5, why, sizeof why);
        CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
        CU_ASSERT_EQUAL_FATAL(doc->n, 2);
        CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(doc->rows[0], 1, NULL), cases[k].field);
        bool from_bom = !cases[k].from_bom;
        const char *bad = jr_csvin_row_bad_text(doc->rows[0], &from_bom);
        CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
        CU_ASSERT_STRING_EQUAL(bad, cases[k].bad);
        CU_ASSERT_EQUAL(from_bom, cases[k].from_bom);
        CU_ASSERT_PTR_NULL(jr_csvin_row_bad_text(doc->rows[1], NULL));
        CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(doc->rows[1], 1, NULL), "z");
        jr_csv_doc_destroy(&doc);
    }

    /* The row says why when it is converted. */
    jr_mapping_t *m = builtin("SC");
    char text[1024];
    snprintf(text, sizeof text, "%s%s", sc_header,
             "r1,REVIEW_ENTRY,SC-1,9434765919,2026-10-01,HOUSING,CARER,Ren\xE9"
             "e,ok,,,N,,,,,,,,,\n");
    char why[JR_ROWS_REASON_MAX] = "";
    jr_csv_doc_t *doc = jr_csv_doc_parse(text, strlen(text), why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    jr_rows_binding_t b;
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, doc->header, &b, why, sizeof why), 0);
    jr_rows_event_t ev;
    CU_ASSERT_EQUAL(jr_rows_convert(m, &b, doc->rows[0], 0, &ev, why, sizeof why), -1);
    CU_ASSERT_STRING_EQUAL(why, "BAD_ENCODING: line 2 has bytes that are not UTF-8 text (0xE9): "
                                "correct the row, or name the export's encoding in the SC mapping "
                                "([stream] encoding)");
    jr_csv_doc_destroy(&doc);
    jr_mapping_destroy(&m);
}

/* A text that stops in the middle of a row is torn: a last row with no line
 * end, or an open quote (which is also not CSV). Spaces after the last line
 * end are no row. */
static void test_csv_torn(void)
{
    static const struct {
        const char *text;
        int torn;
        size_t rows;
        bool ok;
    } cases[] = {
        {"a,b\n1,2\n", JR_CSVIN_WHOLE, 1, true},
        {"a,b\r\n1,2\r\n", JR_CSVIN_WHOLE, 1, true},
        {"a,b\n1,2\n   ", JR_CSVIN_WHOLE, 1, true},
        {"a,b\n1,2", JR_CSVIN_TORN_LINE, 1, true},
        {"a,b\n1,2\n3,4", JR_CSVIN_TORN_LINE, 2, true},
        {"a,b", JR_CSVIN_TORN_LINE, 0, true},
        {"a,b\n1,\"two\nlines", JR_CSVIN_TORN_QUOTE, 0, false},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char why[256] = "";
        jr_csvin_t *csv = jr_csvin_new(NULL, why, sizeof why);
        CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
        CU_ASSERT_EQUAL(jr_csvin_feed(csv, cases[k].text, strlen(cases[k].text)), 0);
        CU_ASSERT_EQUAL(jr_csvin_finish(csv) == 0, cases[k].ok);
        CU_ASSERT_EQUAL(jr_csvin_torn(csv), cases[k].torn);
        size_t rows = 0;
        while (jr_csvin_next(csv))
            rows++;
        CU_ASSERT_EQUAL(rows, cases[k].rows + 1); /* and the header */
        if (!cases[k].ok)
            CU_ASSERT_PTR_NOT_NULL(strstr(jr_csvin_error(csv), "line 3: not well-formed CSV"));
        jr_csvin_destroy(&csv);
    }
}

/* A row or a field too long for the caps fails the file at its line, before
 * the reader holds more than the cap: an open quote does not swallow the
 * rest of the file. */
static void test_csv_caps(void)
{
    size_t big = JR_CSVIN_MAX_ROW_BYTES + 4096;
    char *text = malloc(big + 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    strcpy(text, "a,b\n1,\"");
    size_t at = strlen(text);
    memset(text + at, 'x', big);
    char why[256] = "";
    jr_csvin_t *csv = jr_csvin_new(NULL, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_EQUAL(jr_csvin_feed(csv, text, at + big), -1);
    CU_ASSERT_STRING_EQUAL(jr_csvin_error(csv),
                           "line 2: a field longer than 1048576 bytes (a quoted field that never "
                           "ends?)");
    jr_csvin_destroy(&csv);

    /* Many fields that together are too long. */
    strcpy(text, "a\n");
    at = 2;
    while (at < big) {
        memcpy(text + at, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy,", 64);
        at += 64;
    }
    text[at++] = '\n';
    csv = jr_csvin_new(NULL, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_EQUAL(jr_csvin_feed(csv, text, at), -1);
    CU_ASSERT_STRING_EQUAL(jr_csvin_error(csv), "line 2: a row has more than 1000 fields");
    jr_csvin_destroy(&csv);
    free(text);
}

static void test_missing_column_refuses_file(void)
{
    jr_mapping_t *m = builtin("SC");
    static const char text[] = "record_id,record_type,client_id,nhs_number,entered_at\n"
                               "r1,ENROL,SC-1,9434765919,2026-10-01\n";
    char why[1024] = "";
    jr_csv_doc_t *csv = jr_csv_doc_parse(text, sizeof text - 1, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    jr_rows_binding_t b;
    CU_ASSERT_EQUAL(jr_rows_bind(m, csv->header, &b, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "the header has no column outcome_area, author_role"));
    jr_csv_doc_destroy(&csv);
    jr_mapping_destroy(&m);
}

/* ---- stable ids ------------------------------------------------------------------------ */

static void test_stable_ids(void)
{
    jr_mapping_t *m = builtin("SC");
    jr_rows_event_t a, b;
    static const char row[] =
        "sc-9,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01,HOUSING,CARER,Grace,\"Fine, thanks\",,,N,,,"
        ",,,,,,\n";
    CU_ASSERT_STRING_EQUAL(convert_one(m, row, &a), "");
    CU_ASSERT_STRING_EQUAL(convert_one(m, row, &b), "");
    /* The same row twice: the same id. */
    CU_ASSERT_STRING_EQUAL(a.id, b.id);
    CU_ASSERT_EQUAL(strncmp(a.id, "sc-9-", 5), 0);
    CU_ASSERT_EQUAL(strlen(a.id), 5 + 32);

    /* The NHS number written without spaces is the same row. */
    CU_ASSERT_STRING_EQUAL(
        convert_one(m,
                    "sc-9,REVIEW_ENTRY,SC-1,9434765919,2026-10-01,HOUSING,CARER,Grace,\"Fine, "
                    "thanks\",,,N,,,,,,,,,\n",
                    &b),
        "");
    CU_ASSERT_STRING_EQUAL(a.id, b.id);

    /* A changed row gets a different id: its text, its date, its topic. */
    CU_ASSERT_STRING_EQUAL(
        convert_one(m,
                    "sc-9,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-01,HOUSING,CARER,Grace,\"Fine, "
                    "thank you\",,,N,,,,,,,,,\n",
                    &b),
        "");
    CU_ASSERT_STRING_NOT_EQUAL(a.id, b.id);
    CU_ASSERT_EQUAL(strncmp(b.id, "sc-9-", 5), 0);
    CU_ASSERT_STRING_EQUAL(
        convert_one(m,
                    "sc-9,REVIEW_ENTRY,SC-1,943 476 5919,2026-10-02,HOUSING,CARER,Grace,\"Fine, "
                    "thanks\",,,N,,,,,,,,,\n",
                    &b),
        "");
    CU_ASSERT_STRING_NOT_EQUAL(a.id, b.id);

    /* Another file: columns in another order, an extra column, the row further
     * down. Still the same row, so still the same id. */
    static const char other[] =
        "approver,approval_needed,revision_owner,revise_by,review_held_date,plan_reference,"
        "last_review_date,plan_end_date,plan_start_date,no_change,priority,whats_not_working,"
        "whats_working,author,author_role,outcome_area,entered_at,nhs_number,client_id,"
        "record_type,record_id,exported_by\n"
        ",,,,,,,,,N,,,\"Fine, thanks\",Grace,CARER,HOUSING,2026-10-01,943 476 5919,SC-1,"
        "REVIEW_ENTRY,sc-8,nightly job\n"
        ",,,,,,,,,N,,,\"Fine, thanks\",Grace,CARER,HOUSING,2026-10-01,943 476 5919,SC-1,"
        "REVIEW_ENTRY,sc-9,nightly job\n";
    char why[512];
    jr_csv_doc_t *csv = jr_csv_doc_parse(other, sizeof other - 1, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    jr_rows_binding_t bind;
    CU_ASSERT_EQUAL_FATAL(jr_rows_bind(m, csv->header, &bind, why, sizeof why), 0);
    char id[JR_ROWS_ID_MAX];
    jr_rows_id(m, &bind, csv->rows[1], id);
    CU_ASSERT_STRING_EQUAL(id, a.id);
    jr_rows_id(m, &bind, csv->rows[0], id); /* the key differs: another row */
    CU_ASSERT_STRING_NOT_EQUAL(id, a.id);
    jr_csv_doc_destroy(&csv);
    jr_mapping_destroy(&m);
}

/* ---- the mapping: override, checks ------------------------------------------------------- */

static void test_mapping_override(void)
{
    /* A council adds a code of its own by copying the table and editing it. */
    const jr_mapping_builtin_t *sc = jr_mapping_builtin("SC");
    char *text = malloc(strlen(sc->text) + 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    const char *topics = strstr(sc->text, "[topics]\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(topics);
    size_t head = (size_t)(topics - sc->text) + strlen("[topics]\n");
    memcpy(text, sc->text, head);
    strcpy(text + head, "WELLBEING = HEALTH\n");
    strcat(text, sc->text + head);

    char path[] = "/tmp/jr-mapping-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    free(text);
    char why[512] = "";
    jr_mapping_t *m = jr_mapping_load(path, why, sizeof why);
    unlink(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(jr_mapping_origin(m), path);
    jr_rows_event_t ev;
    CU_ASSERT_STRING_EQUAL(
        convert_one(m,
                    "r1,REVIEW_ENTRY,SC-1,9434765919,2026-10-01,wellbeing,SERVICE_USER,A,ok,,,N,,"
                    ",,,,,,,\n",
                    &ev),
        "");
    CU_ASSERT_EQUAL(ev.contribution.topic, T(HEALTH));
    int v = 0;
    CU_ASSERT_TRUE(jr_mapping_lookup(m, JR_TABLE_TOPICS, "  Wellbeing ", &v));
    CU_ASSERT_FALSE(jr_mapping_lookup(m, JR_TABLE_TOPICS, "WELL BEING", &v));
    jr_mapping_destroy(&m);
}

static void expect_bad_mapping(const char *text, const char *needle)
{
    char why[512] = "";
    jr_mapping_t *m = jr_mapping_parse(text, "test.ini", why, sizeof why);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, needle));
    if (!strstr(why, needle))
        fprintf(stderr, "wanted \"%s\" in \"%s\"\n", needle, why);
    jr_mapping_destroy(&m);
}

static void test_mapping_checked_when_loaded(void)
{
    static const char base[] = "[stream]\ncode = XX\n[columns]\nkind = t\ndate = d\nnhs_number = "
                               "n\ncode = c\nrole = r\n[kinds]\nNOTE = CONTRIBUTION\n[roles]\nME = "
                               "PERSON\n";
    char text[1024];
    snprintf(text, sizeof text, "%s[topics]\nA = HEALTH\n", base);
    char why[256];
    jr_mapping_t *m = jr_mapping_parse(text, "test.ini", why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL(m);
    jr_mapping_destroy(&m);

    snprintf(text, sizeof text, "%s[topics]\nA = WELLNESS\n", base);
    expect_bad_mapping(text, "test.ini:14: [topics] A = WELLNESS: the value must be a topic");
    snprintf(text, sizeof text, "%s[topics]\nA = HEALTH\na = SAFETY\n", base);
    expect_bad_mapping(text, "[topics] a is listed twice");
    snprintf(text, sizeof text, "%s[topics]\nA = TOPIC_UNSPECIFIED\n", base);
    expect_bad_mapping(text, "the value must be a topic");
    snprintf(text, sizeof text, "%s[topics]\nA = HEALTH\n[columns]\nnhs = x\n", base);
    expect_bad_mapping(text, "[columns] has no field \"nhs\"");
    snprintf(text, sizeof text, "%s[topic]\nA = HEALTH\n", base);
    expect_bad_mapping(text, "unknown section [topic]");
    expect_bad_mapping("[stream]\ncode = XX\n[columns]\nkind = t\ndate = d\nnhs_number = n\n"
                       "[kinds]\nNOTE = CONTRIBUTION\n",
                       "contributions need the code and role columns");
    expect_bad_mapping("[stream]\ncode = XX\n[columns]\nkind = t\ndate = d\nnhs_number = n\n"
                       "started_on = s\n[kinds]\nNEW = ENROLMENT\nOLD = ENDED\n",
                       "[kinds] OLD = ENDED: the value must be ENROLMENT");
    expect_bad_mapping("[columns]\nkind = t\n", "[stream] code is missing");
    expect_bad_mapping("[stream]\ncode = XX\ndate_format = MM/DD/YYYY\n", "date_format");
    expect_bad_mapping("[stream]\ncode = XX\nencoding = KLINGON\n",
                       "test.ini:3: [stream] encoding = KLINGON: iconv does not know it");

    /* The export's encoding: UTF-8 unless the table names one. */
    snprintf(text, sizeof text, "%s[topics]\nA = HEALTH\n", base);
    m = jr_mapping_parse(text, "test.ini", why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(jr_mapping_encoding(m), "UTF-8");
    jr_mapping_destroy(&m);
    snprintf(text, sizeof text, "[stream]\nencoding = windows-1252\n%s[topics]\nA = HEALTH\n",
             base + strlen("[stream]\n"));
    m = jr_mapping_parse(text, "test.ini", why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(jr_mapping_encoding(m), "windows-1252");
    jr_mapping_destroy(&m);
}

static void test_dates(void)
{
    char iso[11];
    long long ms;
    int timed;
    CU_ASSERT_EQUAL(jr_rows_parse_date("2/3/2026", JR_DATES_UK, 0, iso, NULL, NULL), 0);
    CU_ASSERT_STRING_EQUAL(iso, "2026-03-02");
    CU_ASSERT_EQUAL(jr_rows_parse_date("29/02/2028", JR_DATES_UK, 0, iso, NULL, NULL), 0);
    CU_ASSERT_EQUAL(jr_rows_parse_date("29/02/2026", JR_DATES_UK, 0, iso, NULL, NULL), -1);
    CU_ASSERT_EQUAL(jr_rows_parse_date("2026-10-01", JR_DATES_UK, 0, iso, NULL, NULL), -1);
    CU_ASSERT_EQUAL(jr_rows_parse_date("2026-10-01T09:30:15Z", JR_DATES_ISO, 1, iso, &ms, &timed),
                    0);
    CU_ASSERT_EQUAL(ms, 1790847015000LL);
    CU_ASSERT_TRUE(timed);
    CU_ASSERT_EQUAL(jr_rows_parse_date("2026-10-01 09:30", JR_DATES_ISO, 0, iso, NULL, NULL), -1);
    CU_ASSERT_EQUAL(jr_rows_parse_date("2026-10-01 24:00", JR_DATES_ISO, 1, iso, NULL, NULL), -1);
    CU_ASSERT_EQUAL(jr_rows_parse_date("2026-1-01", JR_DATES_ISO, 0, iso, NULL, NULL), -1);
    CU_ASSERT_EQUAL(jr_rows_parse_date("1899-12-31", JR_DATES_ISO, 0, iso, NULL, NULL), -1);
}

/* ---- checkpoints and the rejects file ------------------------------------------------------ */

static void test_checkpoint_round_trip(void)
{
    char dir[] = "/tmp/jr-ckpt-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    jr_checkpoint_t cp = {.rows_done = 1234,
                          .rejects_bytes = 567,
                          .ok = 1200,
                          .duplicate = 30,
                          .parked = 1,
                          .rejected = 3};
    memset(cp.file_hash, 'a', 64);
    CU_ASSERT_EQUAL(jr_checkpoint_save(dir, "SC", "export 2026-10-01.csv", &cp), 0);
    jr_checkpoint_t got;
    CU_ASSERT_EQUAL(jr_checkpoint_load(dir, "SC", "export 2026-10-01.csv", &got), 0);
    CU_ASSERT_EQUAL(got.rows_done, 1234);
    CU_ASSERT_EQUAL(got.rejects_bytes, 567);
    CU_ASSERT_EQUAL(got.duplicate, 30);
    CU_ASSERT_STRING_EQUAL(got.file_hash, cp.file_hash);
    CU_ASSERT_STRING_EQUAL(got.done_name, "");
    CU_ASSERT_EQUAL(jr_checkpoint_load(dir, "SP", "export 2026-10-01.csv", &got), 1);

    snprintf(cp.done_name, sizeof cp.done_name, "export 2026-10-01~2.csv");
    CU_ASSERT_EQUAL(jr_checkpoint_save(dir, "SC", "export 2026-10-01.csv", &cp), 0);
    CU_ASSERT_EQUAL(jr_checkpoint_load(dir, "SC", "export 2026-10-01.csv", &got), 0);
    CU_ASSERT_STRING_EQUAL(got.done_name, "export 2026-10-01~2.csv");

    char **names;
    size_t n;
    CU_ASSERT_EQUAL(jr_checkpoint_list(dir, "SC", &names, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(names[0], "export 2026-10-01.csv");
    jr_checkpoint_free_list(names, n);

    /* A damaged checkpoint is reported as such, not half-read. */
    char path[512];
    snprintf(path, sizeof path, "%s/SC-bad.csv.checkpoint", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("joinedreview-adapter checkpoint 1\nrows_done 12x\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(jr_checkpoint_load(dir, "SC", "bad.csv", &got), -2);
    CU_ASSERT_EQUAL(got.rows_done, 0);

    CU_ASSERT_EQUAL(jr_checkpoint_remove(dir, "SC", "export 2026-10-01.csv"), 0);
    CU_ASSERT_EQUAL(jr_checkpoint_remove(dir, "SC", "export 2026-10-01.csv"), 0);
    unlink(path);
    CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static void test_rejects_file(void)
{
    static const char text[] = "id,note\n1,\"a, b\"\n2,\"two\nlines\"\n3\n4,five, six,seven\n";
    char why[256];
    jr_csv_doc_t *csv = jr_csv_doc_parse(text, sizeof text - 1, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    char dir[] = "/tmp/jr-rejects-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/x.csv.rejected.csv", dir);

    jr_rejects_t *r = jr_rejects_open(path, csv->header, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    uint64_t bytes = 1;
    CU_ASSERT_EQUAL(jr_rejects_sync(r, &bytes), 0);
    CU_ASSERT_EQUAL(bytes, 0); /* nothing refused: no file */
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    CU_ASSERT_EQUAL(jr_rejects_write(r, csv->rows[0], "UNMAPPED_CODE: \"x\", really"), 0);
    CU_ASSERT_EQUAL(jr_rejects_sync(r, &bytes), 0);
    uint64_t after_one = bytes;
    CU_ASSERT_EQUAL(jr_rejects_write(r, csv->rows[1], "BAD_DATE: no"), 0);
    CU_ASSERT_EQUAL(jr_rejects_write(r, csv->rows[2], "FIELD_COUNT: short"), 0);
    jr_rejects_close(&r);

    /* Reopened at a checkpoint's length: the later rows are cut away. */
    r = jr_rejects_open(path, csv->header, after_one);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(jr_rejects_write(r, csv->rows[2], "FIELD_COUNT: short"), 0);
    /* A row wider than the header: the surplus joins the last column. */
    CU_ASSERT_EQUAL(jr_rejects_write(r, csv->rows[3], "FIELD_COUNT: long"), 0);
    CU_ASSERT_EQUAL(jr_rejects_sync(r, &bytes), 0);
    jr_rejects_close(&r);

    size_t len;
    char *out = read_file(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL(len, bytes);
    CU_ASSERT_STRING_EQUAL(out, "\xEF\xBB\xBF\"id\",\"note\",\"reason\"\r\n"
                                "\"1\",\"a, b\",\"UNMAPPED_CODE: \"\"x\"\", really\"\r\n"
                                "\"3\",\"\",\"FIELD_COUNT: short\"\r\n"
                                "\"4\",\"five,six,seven\",\"FIELD_COUNT: long\"\r\n");
    jr_csv_doc_t *back = jr_csv_doc_parse(out, len, why, sizeof why);
    free(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_EQUAL_FATAL(back->n, 3);
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(back->rows[0], 1, NULL), "a, b");
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(back->rows[0], 2, NULL),
                           "UNMAPPED_CODE: \"x\", really");
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(back->rows[1], 0, NULL), "3");
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(back->rows[1], 1, NULL), ""); /* padded */
    CU_ASSERT_STRING_EQUAL(jr_csvin_row_field(back->rows[1], 2, NULL), "FIELD_COUNT: short");
    jr_csv_doc_destroy(&back);

    /* A checkpoint that claims more than the file holds is not trusted. */
    r = jr_rejects_open(path, csv->header, bytes + 10);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_EQUAL(errno, ERANGE);
    unlink(path);
    rmdir(dir);
    jr_csv_doc_destroy(&csv);
}

/* ---- the inbox: which files are complete ----------------------------------------------------- */

static bool listed(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* Scans with settle_ms and says whether `name` is among the files handed
 * over; *wait_ms as the scan gives it. */
static bool ready(jr_inbox_t *in, int settle_ms, const char *name, int *wait_ms)
{
    char **names;
    size_t n;
    int wait;
    CU_ASSERT_EQUAL_FATAL(jr_inbox_scan(in, settle_ms, &names, &n, &wait), 0);
    bool found = listed(names, n, name);
    jr_inbox_free_names(names, n);
    if (wait_ms)
        *wait_ms = wait;
    return found;
}

static void test_inbox_complete_files(void)
{
    signal(SIGIO, SIG_IGN); /* as the adapter does: see inbox.h */
    char dir[] = "/tmp/jr-inbox-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char why[256], path[512];
    jr_inbox_t *in = jr_inbox_open(dir, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);

    /* A closed file is complete; one open for writing is not, where the
     * kernel grants this process leases (its owner may). */
    snprintf(path, sizeof path, "%s/a.csv", dir);
    FILE *a = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    fputs("id\n1\n", a);
    fclose(a);
    snprintf(path, sizeof path, "%s/b.csv", dir);
    FILE *b = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    fputs("id\n", b);
    fflush(b);
    /* b.csv is open for writing here: a lease is refused with EAGAIN where
     * leases work at all. */
    int fd = open(path, O_RDONLY);
    bool leases = fd >= 0 && fcntl(fd, F_SETLEASE, F_RDLCK) != 0 && errno == EAGAIN;
    if (fd >= 0)
        close(fd);
    int wait;
    CU_ASSERT_TRUE(ready(in, 0, "a.csv", &wait));
    if (leases) {
        CU_ASSERT_FALSE(ready(in, 0, "b.csv", NULL));
        CU_ASSERT_EQUAL(jr_inbox_writer(in, "b.csv"), 1);
    }
    fclose(b);
    CU_ASSERT_TRUE(ready(in, 0, "b.csv", NULL));
    CU_ASSERT_EQUAL(jr_inbox_writer(in, "b.csv"), 0);

    /* Held while it stays as it was; free again once it changes. */
    jr_inbox_stamp_t st;
    CU_ASSERT_EQUAL(jr_inbox_stamp(in, "a.csv", &st), 0);
    CU_ASSERT_EQUAL(jr_inbox_hold(in, "a.csv", &st, 60000), 0);
    CU_ASSERT_FALSE(ready(in, 0, "a.csv", &wait));
    CU_ASSERT(wait > 50000 && wait <= 60000);
    snprintf(path, sizeof path, "%s/a.csv", dir);
    a = fopen(path, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    fputs("2\n", a);
    fclose(a);
    CU_ASSERT_TRUE(ready(in, 0, "a.csv", NULL));
    /* ... and settled only once unchanged for settle_ms, as this process
     * has seen it. */
    CU_ASSERT_FALSE(ready(in, 60000, "a.csv", &wait));
    CU_ASSERT(wait > 50000 && wait <= 60000);

    /* Watched: a file created and written waits for its close, whatever
     * leases say. */
    CU_ASSERT(jr_inbox_watch(in) >= 0);
    snprintf(path, sizeof path, "%s/c.csv", dir);
    FILE *c = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    fputs("id\n1\n", c);
    fflush(c);
    CU_ASSERT_EQUAL(jr_inbox_drain(in), 0); /* created and written: nothing to do yet */
    CU_ASSERT_FALSE(ready(in, 0, "c.csv", NULL));
    CU_ASSERT_EQUAL(jr_inbox_writer(in, "c.csv"), 1);
    fclose(c);
    CU_ASSERT_EQUAL(jr_inbox_drain(in), 1); /* closed after writing */
    CU_ASSERT_TRUE(ready(in, 0, "c.csv", NULL));
    CU_ASSERT_EQUAL(jr_inbox_writer(in, "c.csv"), 0);

    jr_inbox_destroy(&in);
    static const char *const files[] = {"a.csv", "b.csv", "c.csv"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/done", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/failed", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    CU_TestInfo samples[] = {
        {"SC sample maps to the expected topics and roles", test_sample_sc},
        {"SP sample maps to the expected topics and roles", test_sample_sp},
        {"ILF sample maps to the expected topics and roles", test_sample_ilf},
        {"ICES sample maps to the expected topics and roles", test_sample_ices},
        {"ATW sample maps to the expected topics and roles", test_sample_atw},
        {"DFG sample maps to the expected topics and roles", test_sample_dfg},
        {"sample fields: ids, dates, times, bodies", test_sample_fields},
        {"every built-in mapping loads", test_every_builtin_loads},
        CU_TEST_INFO_NULL,
    };
    CU_TestInfo rows[] = {
        {"quoted commas and line breaks, BOM, CRLF", test_csv_quotes_bom_crlf},
        {"malformed CSV refused with its line", test_csv_malformed_refused},
        {"the same rows whatever pieces the bytes come in", test_csv_streamed_in_any_pieces},
        {"UTF-8, Windows-1252, UTF-16 by the reader's encoding or a byte-order mark",
         test_csv_encodings},
        {"undecodable bytes mark their row, with the line and the encoding",
         test_csv_undecodable_bytes},
        {"a text that stops in the middle of a row is torn", test_csv_torn},
        {"rows and fields over the caps fail the file at their line", test_csv_caps},
        {"rows refused with reasons, never guessed", test_refusals_with_reasons},
        {"budgets in pounds, preferences, exports from before them",
         test_budgets_in_pounds_and_preferences},
        {"a missing column refuses the file", test_missing_column_refuses_file},
        {"the same row gets the same id, a changed row another", test_stable_ids},
        {"a council's mapping file overrides the built-in one", test_mapping_override},
        {"a mapping is checked when loaded", test_mapping_checked_when_loaded},
        {"dates in both formats, with and without times", test_dates},
        CU_TEST_INFO_NULL,
    };
    CU_TestInfo state[] = {
        {"checkpoint round trip", test_checkpoint_round_trip},
        {"rejects file: quoting, padding, cut back to a checkpoint", test_rejects_file},
        {"inbox: files open for writing, held or unsettled are left", test_inbox_complete_files},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {
        {"adapter samples", NULL, NULL, NULL, NULL, samples},
        {"adapter rows", NULL, NULL, NULL, NULL, rows},
        {"adapter state", NULL, NULL, NULL, NULL, state},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
