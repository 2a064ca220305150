/* rows.c -- see rows.h. */
#include "rows.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "text.h"

#define IDS_MAX JR_ROWS_IDS_MAX

/* ---- small helpers ------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static int refuse(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* The value of `field` in the row with surrounding white space removed, as a
 * pointer and length into the row (not NUL-terminated at *len). */
static const char *value(const jr_rows_binding_t *b, const jr_csvin_row_t *row, jr_field_t field,
                         size_t *len)
{
    *len = 0;
    if (b->col[field] < 0)
        return NULL;
    size_t n;
    const char *s = jr_csvin_row_field(row, (size_t)b->col[field], &n);
    if (!s)
        return NULL;
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    *len = n;
    return n ? s : NULL;
}

/* The whole field as a C string for the Envelope (text keeps its inner
 * spacing), or NULL when it is empty or only white space. */
static char *text(const jr_rows_binding_t *b, const jr_csvin_row_t *row, jr_field_t field)
{
    size_t len;
    if (!value(b, row, field, &len))
        return NULL;
    return (char *)jr_csvin_row_field(row, (size_t)b->col[field], NULL);
}

/* Copies the trimmed value into buf (cap bytes with the NUL). Returns its
 * length, 0 when empty, or -1 when it does not fit. */
static int copy(const jr_rows_binding_t *b, const jr_csvin_row_t *row, jr_field_t field, char *buf,
                size_t cap)
{
    size_t len;
    const char *s = value(b, row, field, &len);
    buf[0] = '\0';
    if (!s)
        return 0;
    if (len + 1 > cap)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return (int)len;
}

static const char *column(const jr_mapping_t *m, jr_field_t f)
{
    const char *c = jr_mapping_column(m, f);
    return c ? c : jr_mapping_field_name(f);
}

/* ---- dates -------------------------------------------------------------- */

/* Reads 1..max digits (at least min); returns the number, or -1. */
static int digits(const char **p, int min, int max)
{
    int v = 0, n = 0;
    while (n < max && isdigit((unsigned char)**p)) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n >= min ? v : -1;
}

int jr_rows_parse_date(const char *s, jr_date_format_t fmt, int allow_time, char iso[11],
                       long long *ms, int *has_time)
{
    const char *p = s;
    int y, mo, d;
    if (fmt == JR_DATES_UK) {
        d = digits(&p, 1, 2);
        if (d < 0 || *p++ != '/')
            return -1;
        mo = digits(&p, 1, 2);
        if (mo < 0 || *p++ != '/')
            return -1;
        y = digits(&p, 4, 4);
    } else {
        y = digits(&p, 4, 4);
        if (y < 0 || *p++ != '-')
            return -1;
        mo = digits(&p, 2, 2);
        if (mo < 0 || *p++ != '-')
            return -1;
        d = digits(&p, 2, 2);
    }
    if (y < 1900 || y > 2200 || !jr_text_civil_valid(y, (unsigned)mo, (unsigned)d))
        return -1;

    int h = 0, mi = 0, sec = 0;
    bool timed = false;
    if (*p == ' ' || *p == 'T') {
        if (!allow_time)
            return -1;
        p++;
        h = digits(&p, 2, 2);
        if (h < 0 || *p++ != ':')
            return -1;
        mi = digits(&p, 2, 2);
        if (mi < 0)
            return -1;
        if (*p == ':') {
            p++;
            sec = digits(&p, 2, 2);
            if (sec < 0)
                return -1;
        }
        if (*p == 'Z')
            p++;
        if (h > 23 || mi > 59 || sec > 59)
            return -1;
        timed = true;
    }
    if (*p != '\0')
        return -1;

    jr_day_t day = jr_text_day_from_civil(y, (unsigned)mo, (unsigned)d);
    jr_text_format_date(day, iso);
    if (ms)
        *ms = jr_text_ms_of(day, (unsigned)h, (unsigned)mi, (unsigned)sec);
    if (has_time)
        *has_time = timed;
    return 0;
}

static const char *format_hint(const jr_mapping_t *m)
{
    return jr_mapping_date_format(m) == JR_DATES_UK ? "DD/MM/YYYY" : "YYYY-MM-DD";
}

/* An optional date column into dates[slot]; *out is NULL when empty. */
static int date_field(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                      jr_field_t f, jr_rows_event_t *ev, int slot, char **out, char *why,
                      size_t why_len)
{
    char buf[64];
    *out = NULL;
    int n = copy(b, row, f, buf, sizeof buf);
    if (n == 0)
        return 0;
    if (n < 0 ||
        jr_rows_parse_date(buf, jr_mapping_date_format(m), 0, ev->dates[slot], NULL, NULL) != 0)
        return refuse(
            why, why_len, "BAD_DATE: %s \"%.40s\" is not a date (the %s export writes %s)",
            column(m, f), n < 0 ? "(too long)" : buf, jr_mapping_stream(m), format_hint(m));
    *out = ev->dates[slot];
    return 0;
}

/* ---- yes/no and numbers -------------------------------------------------- */

static int yes_no(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                  jr_field_t f, protobuf_c_boolean *has, protobuf_c_boolean *out, char *why,
                  size_t why_len)
{
    static const char *const yes[] = {"Y", "YES", "TRUE", "1"};
    static const char *const no[] = {"N", "NO", "FALSE", "0"};
    char buf[16];
    int n = copy(b, row, f, buf, sizeof buf);
    if (n == 0)
        return 0;
    for (size_t i = 0; n > 0 && i < sizeof yes / sizeof *yes; i++) {
        if (strcasecmp(buf, yes[i]) == 0 || strcasecmp(buf, no[i]) == 0) {
            *has = 1;
            *out = strcasecmp(buf, yes[i]) == 0;
            return 0;
        }
    }
    return refuse(why, why_len, "BAD_VALUE: %s \"%.15s\" is neither Y nor N", column(m, f),
                  n < 0 ? "(too long)" : buf);
}

/* ---- identifiers ------------------------------------------------------------ */

/* Identifier values are copied trimmed into the event (the daemon compares
 * client ids exactly, so "SC-77 " must not differ from "SC-77"). */
static int person(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                  jr_rows_event_t *ev, char *why, size_t why_len)
{
    static const jr_field_t fields[] = {JR_FIELD_NHS, JR_FIELD_NINO, JR_FIELD_LOCAL};
    char *bufs[] = {ev->ids[0], ev->ids[1], ev->ids[2]};
    char **slots[] = {&ev->person.nhs_number, &ev->person.ni_number, &ev->person.local_id};
    char named[160] = "";
    bool any = false;
    for (size_t i = 0; i < 3; i++) {
        int n = copy(b, row, fields[i], bufs[i], IDS_MAX + 1);
        if (n < 0)
            return refuse(why, why_len, "BAD_VALUE: %s is longer than %d bytes",
                          column(m, fields[i]), IDS_MAX);
        *slots[i] = n > 0 ? bufs[i] : NULL;
        any = any || n > 0;
        if (jr_mapping_column(m, fields[i]))
            snprintf(named + strlen(named), sizeof named - strlen(named), "%s%s",
                     named[0] ? ", " : "", column(m, fields[i]));
    }
    if (!any)
        return refuse(why, why_len,
                      "MISSING_IDENTIFIER: %s %s empty: the row must say who it is about", named,
                      strchr(named, ',') ? "are all" : "is");
    return 0;
}

/* ---- words through the mapping ---------------------------------------------- */

static int word(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                jr_field_t f, jr_table_t t, const char *code, bool required, int *out,
                bool *present, char *why, size_t why_len)
{
    char buf[128];
    int n = copy(b, row, f, buf, sizeof buf);
    if (present)
        *present = n != 0;
    if (n == 0) {
        if (!required)
            return 0;
        return refuse(why, why_len, "%s: %s is empty", code, column(m, f));
    }
    if (n > 0 && jr_mapping_lookup(m, t, buf, out))
        return 0;
    return refuse(why, why_len,
                  "%s: %s \"%.60s\" is not in [%s] of the %s mapping (%s): correct the row, or "
                  "add the word to the mapping",
                  code, column(m, f), n < 0 ? "(too long)" : buf, jr_mapping_table_name(t),
                  jr_mapping_stream(m), jr_mapping_origin(m));
}

/* ---- binding ------------------------------------------------------------------ */

int jr_rows_bind(const jr_mapping_t *m, const jr_csvin_row_t *header, jr_rows_binding_t *b,
                 char *why, size_t why_len)
{
    char missing[512] = "", doubled[256] = "";
    b->columns = jr_csvin_row_fields(header);
    for (int f = 0; f < JR_FIELD_COUNT; f++) {
        const char *name = jr_mapping_column(m, (jr_field_t)f);
        b->col[f] = -1;
        if (!name)
            continue;
        int c = jr_csvin_row_column(header, name);
        if (c == -1 && f >= JR_FIELD_KNOWN_AS)
            continue; /* an export from before preferences and budgets: rows that need them
                         are refused one by one (MISSING_VALUE), the others go */
        if (c == -1)
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                     missing[0] ? ", " : "", name);
        else if (c == -2)
            snprintf(doubled + strlen(doubled), sizeof doubled - strlen(doubled), "%s%s",
                     doubled[0] ? ", " : "", name);
        else
            b->col[f] = c;
    }
    if (missing[0])
        return refuse(why, why_len,
                      "the header has no column %s: the %s export needs every column its "
                      "mapping names (%s)",
                      missing, jr_mapping_stream(m), jr_mapping_origin(m));
    if (doubled[0])
        return refuse(why, why_len, "the header names column %s twice", doubled);
    return 0;
}

/* ---- conversion ----------------------------------------------------------------- */

static int contribution(const jr_mapping_t *m, const jr_rows_binding_t *b,
                        const jr_csvin_row_t *row, jr_rows_event_t *ev, char *why, size_t why_len)
{
    Joinedreview__V1__Contribution *c = &ev->contribution;
    int topic = 0, role = 0, priority = 0;
    bool has_priority = false;
    if (word(m, b, row, JR_FIELD_CODE, JR_TABLE_TOPICS, "UNMAPPED_CODE", true, &topic, NULL, why,
             why_len) < 0 ||
        word(m, b, row, JR_FIELD_ROLE, JR_TABLE_ROLES, "UNMAPPED_ROLE", true, &role, NULL, why,
             why_len) < 0 ||
        word(m, b, row, JR_FIELD_PRIORITY, JR_TABLE_PRIORITIES, "UNMAPPED_PRIORITY", false,
             &priority, &has_priority, why, why_len) < 0 ||
        yes_no(m, b, row, JR_FIELD_NO_CHANGE, &c->has_no_change, &c->no_change, why, why_len) < 0)
        return -1;
    c->has_topic = 1;
    c->topic = (Joinedreview__V1__Topic)topic;
    c->has_author_role = 1;
    c->author_role = (Joinedreview__V1__Role)role;
    if (has_priority) {
        c->has_priority = 1;
        c->priority = (Joinedreview__V1__Priority)priority;
    }
    c->working = text(b, row, JR_FIELD_WORKING);
    c->not_working = text(b, row, JR_FIELD_NOT_WORKING);
    c->author_name = text(b, row, JR_FIELD_AUTHOR);
    ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_CONTRIBUTION;
    ev->env.contribution = c;
    return 0;
}

static int enrolment(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                     jr_rows_event_t *ev, const char *kind_word, char *why, size_t why_len)
{
    Joinedreview__V1__Enrolment *e = &ev->enrolment;
    if (date_field(m, b, row, JR_FIELD_STARTED_ON, ev, 0, &e->started_on, why, why_len) < 0 ||
        date_field(m, b, row, JR_FIELD_ENDED_ON, ev, 1, &e->ended_on, why, why_len) < 0 ||
        date_field(m, b, row, JR_FIELD_LAST_REVIEW_ON, ev, 2, &e->last_review_on, why, why_len) <
            0 ||
        date_field(m, b, row, JR_FIELD_AWARD_ENDS_ON, ev, 3, &e->award_ends_on, why, why_len) < 0)
        return -1;
    if (!e->started_on)
        return refuse(why, why_len, "MISSING_VALUE: %s is empty: %s %s needs it",
                      column(m, JR_FIELD_STARTED_ON), column(m, JR_FIELD_KIND), kind_word);
    char buf[16];
    int n = copy(b, row, JR_FIELD_INTERVAL_DAYS, buf, sizeof buf);
    if (n != 0) {
        char *end = buf;
        unsigned long days = n > 0 && isdigit((unsigned char)buf[0]) ? strtoul(buf, &end, 10) : 0;
        if (n < 0 || *end || days < 1 || days > 36500)
            return refuse(why, why_len, "BAD_VALUE: %s \"%.15s\" is not a number of days",
                          column(m, JR_FIELD_INTERVAL_DAYS), n < 0 ? "(too long)" : buf);
        e->has_review_interval_days = 1;
        e->review_interval_days = (uint32_t)days;
    }
    e->stream_reference = text(b, row, JR_FIELD_REFERENCE);
    e->known_as = text(b, row, JR_FIELD_KNOWN_AS);
    e->group_key = text(b, row, JR_FIELD_GROUP_KEY);
    ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_ENROLMENT;
    ev->env.enrolment = e;
    return 0;
}

static int plan_revision(const jr_mapping_t *m, const jr_rows_binding_t *b,
                         const jr_csvin_row_t *row, jr_rows_event_t *ev, char *why, size_t why_len)
{
    Joinedreview__V1__PlanRevision *p = &ev->plan_revision;
    if (date_field(m, b, row, JR_FIELD_REVISE_BY, ev, 0, &p->revise_by, why, why_len) < 0 ||
        yes_no(m, b, row, JR_FIELD_APPROVAL_NEEDED, &p->has_approval_needed, &p->approval_needed,
               why, why_len) < 0)
        return -1;
    p->revised_by = text(b, row, JR_FIELD_REVISED_BY);
    p->approver = text(b, row, JR_FIELD_APPROVER);
    ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_PLAN_REVISION;
    ev->env.plan_revision = p;
    return 0;
}

static int review_held(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                       jr_rows_event_t *ev, const char *row_date, char *why, size_t why_len)
{
    Joinedreview__V1__ReviewHeld *h = &ev->review_held;
    if (date_field(m, b, row, JR_FIELD_HELD_ON, ev, 0, &h->held_on, why, why_len) < 0)
        return -1;
    if (!h->held_on) {
        /* No held-on column, or it is empty: the review was held on the
         * row's own date. */
        memcpy(ev->dates[4], row_date, 11);
        h->held_on = ev->dates[4];
    }
    ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_REVIEW_HELD;
    ev->env.review_held = h;
    return 0;
}

/* Splits the trimmed value of f at any of `seps` into up to max pieces,
 * each trimmed, copied into buf (cap bytes) and pointed at from out.
 * Returns how many, or -1 when there are more than max (or no room). */
static int split(const jr_rows_binding_t *b, const jr_csvin_row_t *row, jr_field_t f,
                 const char *seps, char *buf, size_t cap, char **out, int max)
{
    size_t len;
    const char *s = value(b, row, f, &len);
    int n = 0;
    size_t used = 0;
    for (size_t i = 0; s != NULL && i < len;) {
        size_t piece = 0;
        while (i + piece < len && !strchr(seps, s[i + piece]))
            piece++;
        size_t a = i, z = i + piece;
        while (a < z && isspace((unsigned char)s[a]))
            a++;
        while (z > a && isspace((unsigned char)s[z - 1]))
            z--;
        if (z > a) {
            if (n == max || used + (z - a) + 1 > cap)
                return -1;
            memcpy(buf + used, s + a, z - a);
            buf[used + (z - a)] = '\0';
            out[n++] = buf + used;
            used += z - a + 1;
        }
        i += piece + 1;
    }
    return n;
}

static int preferences(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                       jr_rows_event_t *ev, char *why, size_t why_len)
{
    Joinedreview__V1__ReviewPreferences *p = &ev->preferences;
    int way = 0;
    if (word(m, b, row, JR_FIELD_WAY, JR_TABLE_WAYS, "UNMAPPED_WAY", true, &way, NULL, why,
             why_len) < 0)
        return -1;
    p->has_way = 1;
    p->way = (Joinedreview__V1__ReviewWay)way;
    int n = split(b, row, JR_FIELD_INVOLVE, ";", ev->involve_text, sizeof ev->involve_text,
                  ev->involve, 8);
    if (n < 0)
        return refuse(why, why_len,
                      "BAD_VALUE: %s names more than 8 people (or is too long): name the few the "
                      "person wants most, separated by ';'",
                      column(m, JR_FIELD_INVOLVE));
    p->involve = ev->involve;
    p->n_involve = (size_t)n;
    char words[512], *w[8];
    n = split(b, row, JR_FIELD_NEEDS, ";,", words, sizeof words, w, 8);
    if (n < 0)
        return refuse(why, why_len, "BAD_VALUE: %s lists more than 8 needs (or is too long)",
                      column(m, JR_FIELD_NEEDS));
    for (int i = 0; i < n; i++) {
        int need = 0;
        if (!jr_mapping_lookup(m, JR_TABLE_NEEDS, w[i], &need))
            return refuse(why, why_len,
                          "UNMAPPED_NEED: %s \"%.60s\" is not in [needs] of the %s mapping (%s): "
                          "correct the row, or add the word to the mapping",
                          column(m, JR_FIELD_NEEDS), w[i], jr_mapping_stream(m),
                          jr_mapping_origin(m));
        ev->needs[i] = (Joinedreview__V1__Need)need;
    }
    p->needs = ev->needs;
    p->n_needs = (size_t)n;
    p->where = text(b, row, JR_FIELD_WHERE);
    p->language = text(b, row, JR_FIELD_LANGUAGE);
    p->called = text(b, row, JR_FIELD_CALLED);
    ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_PREFERENCES;
    ev->env.preferences = p;
    return 0;
}

/* An amount: with amounts = pence the cell as it is, trimmed (the daemon
 * checks it); with pounds, "£1,234.56", "1234.5" or "1234" made whole pence by
 * its digits alone (a sign is kept for the daemon to refuse). */
static int amount(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                  jr_field_t f, char pence[24], char **out, char *why, size_t why_len)
{
    char buf[64];
    int n = copy(b, row, f, buf, sizeof buf);
    if (n == 0)
        return refuse(why, why_len, "MISSING_VALUE: %s is empty: a budget needs it", column(m, f));
    if (jr_mapping_amounts(m) == JR_AMOUNTS_PENCE) {
        if (n < 0 || n > 23)
            return refuse(why, why_len, "BAD_VALUE: %s is too long for an amount", column(m, f));
        memcpy(pence, buf, (size_t)n + 1);
        *out = pence;
        return 0;
    }
    const char *p = buf;
    size_t k = 0;
    if (*p == '-')
        pence[k++] = *p++;
    if (strncmp(p, "\xc2\xa3", 2) == 0) /* £ in UTF-8 */
        p += 2;
    size_t whole = 0;
    for (; (isdigit((unsigned char)*p) || *p == ',') && k < 18; p++)
        if (*p != ',')
            pence[k++] = *p, whole++;
    int decimals = 0;
    char cents[2] = {'0', '0'};
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p) && decimals < 3; p++)
            if (decimals++ < 2)
                cents[decimals - 1] = *p;
    if (n < 0 || whole == 0 || decimals > 2 || *p != '\0')
        return refuse(why, why_len,
                      "BAD_VALUE: %s \"%.40s\" is not an amount in pounds and pence (the %s "
                      "export writes pounds, e.g. 1234.56)",
                      column(m, f), n < 0 ? "(too long)" : buf, jr_mapping_stream(m));
    pence[k++] = cents[0];
    pence[k++] = cents[1];
    pence[k] = '\0';
    /* "0012.00" is 1200 pence: leading zeros would read as more digits. */
    size_t lead = pence[0] == '-' ? 1 : 0, z = lead;
    while (pence[z] == '0' && pence[z + 1] != '\0')
        z++;
    memmove(pence + lead, pence + z, strlen(pence + z) + 1);
    *out = pence;
    return 0;
}

static int budget(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                  jr_rows_event_t *ev, char *why, size_t why_len)
{
    Joinedreview__V1__BudgetStatement *bs = &ev->budget;
    if (date_field(m, b, row, JR_FIELD_PERIOD_START, ev, 5, &bs->period_start, why, why_len) < 0 ||
        date_field(m, b, row, JR_FIELD_PERIOD_END, ev, 6, &bs->period_end, why, why_len) < 0)
        return -1;
    if (!bs->period_start || !bs->period_end)
        return refuse(why, why_len, "MISSING_VALUE: %s is empty: a budget needs it",
                      column(m, bs->period_start ? JR_FIELD_PERIOD_END : JR_FIELD_PERIOD_START));
    if (amount(m, b, row, JR_FIELD_ALLOCATED, ev->pence[0], &bs->allocated_pence, why, why_len) <
            0 ||
        amount(m, b, row, JR_FIELD_SPENT, ev->pence[1], &bs->spent_pence, why, why_len) < 0)
        return -1;
    ev->env.body_case = JOINEDREVIEW__V1__ENVELOPE__BODY_BUDGET;
    ev->env.budget = bs;
    return 0;
}

int jr_rows_convert(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                    size_t index, jr_rows_event_t *ev, char *why, size_t why_len)
{
    *ev = (jr_rows_event_t){
        .env = JOINEDREVIEW__V1__ENVELOPE__INIT,
        .person = JOINEDREVIEW__V1__PERSON_IDS__INIT,
        .enrolment = JOINEDREVIEW__V1__ENROLMENT__INIT,
        .contribution = JOINEDREVIEW__V1__CONTRIBUTION__INIT,
        .review_held = JOINEDREVIEW__V1__REVIEW_HELD__INIT,
        .plan_revision = JOINEDREVIEW__V1__PLAN_REVISION__INIT,
        .preferences = JOINEDREVIEW__V1__REVIEW_PREFERENCES__INIT,
        .budget = JOINEDREVIEW__V1__BUDGET_STATEMENT__INIT,
    };
    bool from_bom = false;
    const char *bad = jr_csvin_row_bad_text(row, &from_bom);
    if (bad && from_bom)
        return refuse(why, why_len,
                      "BAD_ENCODING: %s, the encoding its byte-order mark names: correct the row",
                      bad);
    if (bad)
        return refuse(why, why_len,
                      "BAD_ENCODING: %s: correct the row, or name the export's encoding in the %s "
                      "mapping ([stream] encoding)",
                      bad, jr_mapping_stream(m));
    size_t nf = jr_csvin_row_fields(row), nc = b->columns;
    if (nf != nc)
        return refuse(why, why_len,
                      "FIELD_COUNT: the row has %zu fields but the header has %zu: a value "
                      "holding a comma or a line break must be in double quotes",
                      nf, nc);

    int kind = 0;
    char kind_word[64];
    if (word(m, b, row, JR_FIELD_KIND, JR_TABLE_KINDS, "UNMAPPED_KIND", true, &kind, NULL, why,
             why_len) < 0)
        return -1;
    if (copy(b, row, JR_FIELD_KIND, kind_word, sizeof kind_word) <= 0)
        snprintf(kind_word, sizeof kind_word, "?");

    /* When it happened. */
    char buf[64], row_date[11];
    long long ms = 0;
    int has_time = 0;
    int n = copy(b, row, JR_FIELD_DATE, buf, sizeof buf);
    if (n == 0)
        return refuse(why, why_len, "MISSING_VALUE: %s is empty: every row needs its date",
                      column(m, JR_FIELD_DATE));
    if (n < 0 ||
        jr_rows_parse_date(buf, jr_mapping_date_format(m), 1, row_date, &ms, &has_time) != 0)
        return refuse(why, why_len,
                      "BAD_DATE: %s \"%.40s\" is not a date (the %s export writes %s, "
                      "optionally with a time HH:MM)",
                      column(m, JR_FIELD_DATE), n < 0 ? "(too long)" : buf, jr_mapping_stream(m),
                      format_hint(m));
    if (!has_time)
        ms += (long long)(index < 86399999 ? index : 86399999);

    if (person(m, b, row, ev, why, why_len) < 0)
        return -1;

    int rc = 0;
    switch ((jr_kind_t)kind) {
    case JR_KIND_CONTRIBUTION:
        rc = contribution(m, b, row, ev, why, why_len);
        break;
    case JR_KIND_ENROLMENT:
        rc = enrolment(m, b, row, ev, kind_word, why, why_len);
        break;
    case JR_KIND_REVIEW_HELD:
        rc = review_held(m, b, row, ev, row_date, why, why_len);
        break;
    case JR_KIND_PLAN_REVISION:
        rc = plan_revision(m, b, row, ev, why, why_len);
        break;
    case JR_KIND_PREFERENCES:
        rc = preferences(m, b, row, ev, why, why_len);
        break;
    case JR_KIND_BUDGET:
        rc = budget(m, b, row, ev, why, why_len);
        break;
    }
    if (rc < 0)
        return -1;

    snprintf(ev->stream, sizeof ev->stream, "%s", jr_mapping_stream(m));
    jr_rows_id(m, b, row, ev->id);
    ev->env.has_schema_version = 1;
    ev->env.schema_version = 1;
    ev->env.stream = ev->stream;
    ev->env.source_event_id = ev->id;
    ev->env.has_occurred_at = 1;
    ev->env.occurred_at = ms;
    ev->env.person = &ev->person;
    return 0;
}

/* ---- the stable id ------------------------------------------------------------ */

static void hash_part(crypto_generichash_state *st, const void *p, size_t len)
{
    crypto_generichash_update(st, p, len);
}

void jr_rows_id(const jr_mapping_t *m, const jr_rows_binding_t *b, const jr_csvin_row_t *row,
                char id[JR_ROWS_ID_MAX])
{
    static const char domain[] = "joinedreview-adapter row v1";
    static bool ready;
    if (!ready) {
        /* Picks the fastest implementation; safe to call more than once. */
        if (sodium_init() < 0)
            abort(); /* cannot happen on Linux; nothing sensible to do without it */
        ready = true;
    }
    crypto_generichash_state st;
    unsigned char digest[16];
    crypto_generichash_init(&st, NULL, 0, sizeof digest);
    hash_part(&st, domain, sizeof domain);
    const char *stream = jr_mapping_stream(m);
    hash_part(&st, stream, strlen(stream) + 1);

    for (int f = 0; f < JR_FIELD_COUNT; f++) {
        if (b->col[f] < 0)
            continue;
        size_t len;
        const char *v = value(b, row, (jr_field_t)f, &len);
        if (f >= JR_FIELD_KNOWN_AS && len == 0)
            continue; /* added later: absent, as for a mapping without them */
        char norm[IDS_MAX + 1];
        if (v && (f == JR_FIELD_NHS || f == JR_FIELD_NINO) && len <= IDS_MAX) {
            /* "943 476 5919" and "9434765919" are the same person. */
            size_t k = 0;
            for (size_t i = 0; i < len; i++)
                if (v[i] != ' ' && v[i] != '-')
                    norm[k++] = (char)toupper((unsigned char)v[i]);
            v = norm;
            len = k;
        }
        const char *name = jr_mapping_field_name((jr_field_t)f);
        unsigned char lenbuf[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                                   (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
        hash_part(&st, name, strlen(name) + 1);
        hash_part(&st, lenbuf, sizeof lenbuf);
        if (len)
            hash_part(&st, v, len);
    }
    crypto_generichash_final(&st, digest, sizeof digest);

    char hex[sizeof digest * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);

    size_t klen;
    const char *key = value(b, row, JR_FIELD_KEY, &klen);
    if (!key) {
        snprintf(id, JR_ROWS_ID_MAX, "%s", hex);
        return;
    }
    char safe[65];
    size_t k = 0;
    for (size_t i = 0; i < klen && k < sizeof safe - 1; i++) {
        unsigned char c = (unsigned char)key[i];
        safe[k++] = (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/') ? (char)c : '_';
    }
    safe[k] = '\0';
    snprintf(id, JR_ROWS_ID_MAX, "%s-%s", safe, hex);
}
