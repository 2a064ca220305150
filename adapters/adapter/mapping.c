/* mapping.c -- see mapping.h. */
#include "mapping.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csvin.h"
#include "joinedreview/joinedreview.pb-c.h"

/* Generated at build time from adapters/<stream>/mapping.ini. */
extern const jr_mapping_builtin_t jr_mapping_builtin_table[];
extern const size_t jr_mapping_builtin_count;

static const char *const g_field_names[JR_FIELD_COUNT] = {
    [JR_FIELD_KIND] = "kind",
    [JR_FIELD_KEY] = "key",
    [JR_FIELD_DATE] = "date",
    [JR_FIELD_NHS] = "nhs_number",
    [JR_FIELD_NINO] = "ni_number",
    [JR_FIELD_LOCAL] = "local_id",
    [JR_FIELD_CODE] = "code",
    [JR_FIELD_ROLE] = "role",
    [JR_FIELD_AUTHOR] = "author_name",
    [JR_FIELD_WORKING] = "working",
    [JR_FIELD_NOT_WORKING] = "not_working",
    [JR_FIELD_PRIORITY] = "priority",
    [JR_FIELD_NO_CHANGE] = "no_change",
    [JR_FIELD_STARTED_ON] = "started_on",
    [JR_FIELD_ENDED_ON] = "ended_on",
    [JR_FIELD_LAST_REVIEW_ON] = "last_review_on",
    [JR_FIELD_AWARD_ENDS_ON] = "award_ends_on",
    [JR_FIELD_INTERVAL_DAYS] = "review_interval_days",
    [JR_FIELD_REFERENCE] = "reference",
    [JR_FIELD_HELD_ON] = "held_on",
    [JR_FIELD_REVISE_BY] = "revise_by",
    [JR_FIELD_REVISED_BY] = "revised_by",
    [JR_FIELD_APPROVAL_NEEDED] = "approval_needed",
    [JR_FIELD_APPROVER] = "approver",
    [JR_FIELD_KNOWN_AS] = "known_as",
    [JR_FIELD_GROUP_KEY] = "group_key",
    [JR_FIELD_WAY] = "way",
    [JR_FIELD_WHERE] = "where",
    [JR_FIELD_INVOLVE] = "involve",
    [JR_FIELD_NEEDS] = "needs",
    [JR_FIELD_LANGUAGE] = "language",
    [JR_FIELD_CALLED] = "called",
    [JR_FIELD_PERIOD_START] = "period_start",
    [JR_FIELD_PERIOD_END] = "period_end",
    [JR_FIELD_ALLOCATED] = "allocated",
    [JR_FIELD_SPENT] = "spent",
};

static const char *const g_table_names[JR_TABLE_COUNT] = {
    [JR_TABLE_KINDS] = "kinds",           [JR_TABLE_TOPICS] = "topics", [JR_TABLE_ROLES] = "roles",
    [JR_TABLE_PRIORITIES] = "priorities", [JR_TABLE_WAYS] = "ways",     [JR_TABLE_NEEDS] = "needs",
};

static const char *const g_kind_names[] = {
    [JR_KIND_ENROLMENT] = "ENROLMENT",     [JR_KIND_CONTRIBUTION] = "CONTRIBUTION",
    [JR_KIND_REVIEW_HELD] = "REVIEW_HELD", [JR_KIND_PLAN_REVISION] = "PLAN_REVISION",
    [JR_KIND_PREFERENCES] = "PREFERENCES", [JR_KIND_BUDGET] = "BUDGET",
};

typedef struct {
    char *word;
    int value;
} entry_t;

typedef struct {
    entry_t *entries;
    size_t n, cap;
} table_t;

struct jr_mapping {
    char *stream;
    char *name;
    char *origin;
    char *text;
    char *encoding; /* NULL: UTF-8 */
    jr_date_format_t date_format;
    bool has_date_format;
    jr_amounts_t amounts;
    bool has_amounts;
    char *columns[JR_FIELD_COUNT];
    table_t tables[JR_TABLE_COUNT];
};

/* ---- built-in tables -------------------------------------------------- */

const jr_mapping_builtin_t *jr_mapping_builtin(const char *stream)
{
    for (size_t i = 0; stream && i < jr_mapping_builtin_count; i++)
        if (strcasecmp(jr_mapping_builtin_table[i].stream, stream) == 0)
            return &jr_mapping_builtin_table[i];
    return NULL;
}

const jr_mapping_builtin_t *jr_mapping_builtins(size_t *n)
{
    *n = jr_mapping_builtin_count;
    return jr_mapping_builtin_table;
}

/* ---- parsing ---------------------------------------------------------- */

typedef struct {
    jr_mapping_t *m;
    char why[256]; /* the first error */
    bool failed;
} parse_t;

__attribute__((format(printf, 2, 3))) static int fail(parse_t *p, const char *fmt, ...)
{
    if (!p->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->why, sizeof p->why, fmt, ap);
        va_end(ap);
        p->failed = true;
    }
    return 0; /* inih: an error on this line */
}

/* A name of the wire contract's enum, other than its *_UNSPECIFIED zero value. */
static bool contract_value(const ProtobufCEnumDescriptor *desc, const char *name, int *out)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(desc, name);
    if (!v || strstr(v->name, "UNSPECIFIED"))
        return false;
    *out = v->value;
    return true;
}

static bool kind_value(const char *name, int *out)
{
    for (int k = JR_KIND_ENROLMENT; k <= JR_KIND_BUDGET; k++) {
        if (strcmp(g_kind_names[k], name) == 0) {
            *out = k;
            return true;
        }
    }
    return false;
}

static int add_entry(parse_t *p, jr_table_t t, const char *word, const char *value)
{
    table_t *tab = &p->m->tables[t];
    int v = 0;
    bool ok = false;
    switch (t) {
    case JR_TABLE_KINDS:
        ok = kind_value(value, &v);
        break;
    case JR_TABLE_TOPICS:
        ok = contract_value(&joinedreview__v1__topic__descriptor, value, &v);
        break;
    case JR_TABLE_ROLES:
        ok = contract_value(&joinedreview__v1__role__descriptor, value, &v);
        break;
    case JR_TABLE_PRIORITIES:
        /* NOT_GIVEN is a real value here: a stream may have a word for it. */
        ok = contract_value(&joinedreview__v1__priority__descriptor, value, &v);
        break;
    case JR_TABLE_WAYS:
        ok = contract_value(&joinedreview__v1__review_way__descriptor, value, &v);
        break;
    case JR_TABLE_NEEDS:
        ok = contract_value(&joinedreview__v1__need__descriptor, value, &v);
        break;
    default:
        break;
    }
    if (!ok) {
        static const char *const allowed[JR_TABLE_COUNT] = {
            [JR_TABLE_KINDS] = "ENROLMENT, CONTRIBUTION, REVIEW_HELD, PLAN_REVISION, "
                               "PREFERENCES or BUDGET",
            [JR_TABLE_TOPICS] = "a topic of the review (SUPPORT, HEALTH, HOUSING, ...)",
            [JR_TABLE_ROLES] = "PERSON, CARER, COUNCIL, STREAM_OFFICER, PROVIDER or ADVOCATE",
            [JR_TABLE_PRIORITIES] = "RED, AMBER, GREEN or NOT_GIVEN",
            [JR_TABLE_WAYS] = "WAY_FORMAT_FIRST, WAY_MEETING or WAY_WITH_OTHERS",
            [JR_TABLE_NEEDS] = "a Need of the contract (NEED_LARGE_PRINT, NEED_EASY_READ, "
                               "NEED_BSL_INTERPRETER, ...)",
        };
        return fail(p, "[%s] %s = %s: the value must be %s", g_table_names[t], word, value,
                    allowed[t]);
    }
    for (size_t i = 0; i < tab->n; i++)
        if (strcasecmp(tab->entries[i].word, word) == 0)
            return fail(p, "[%s] %s is listed twice", g_table_names[t], word);
    if (tab->n == tab->cap) {
        size_t cap = tab->cap ? tab->cap * 2 : 16;
        entry_t *e = realloc(tab->entries, cap * sizeof *e);
        if (!e)
            return fail(p, "out of memory");
        tab->entries = e;
        tab->cap = cap;
    }
    char *w = strdup(word);
    if (!w)
        return fail(p, "out of memory");
    tab->entries[tab->n++] = (entry_t){w, v};
    return 1;
}

static int set_string(parse_t *p, char **slot, const char *section, const char *key,
                      const char *value)
{
    if (*slot)
        return fail(p, "[%s] %s is given twice", section, key);
    if (!*value)
        return fail(p, "[%s] %s is empty", section, key);
    *slot = strdup(value);
    return *slot ? 1 : fail(p, "out of memory");
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    parse_t *p = user;
    jr_mapping_t *m = p->m;
    if (p->failed)
        return 0;
    if (strcmp(section, "stream") == 0) {
        if (strcmp(key, "code") == 0)
            return set_string(p, &m->stream, section, key, value);
        if (strcmp(key, "name") == 0)
            return set_string(p, &m->name, section, key, value);
        if (strcmp(key, "date_format") == 0) {
            if (m->has_date_format)
                return fail(p, "[stream] date_format is given twice");
            m->has_date_format = true;
            if (strcmp(value, "YYYY-MM-DD") == 0)
                m->date_format = JR_DATES_ISO;
            else if (strcmp(value, "DD/MM/YYYY") == 0)
                m->date_format = JR_DATES_UK;
            else
                return fail(p, "[stream] date_format = %s: use YYYY-MM-DD or DD/MM/YYYY", value);
            return 1;
        }
        if (strcmp(key, "encoding") == 0) {
            if (!jr_csvin_encoding_known(value))
                return fail(p,
                            "[stream] encoding = %s: iconv does not know it (UTF-8, "
                            "WINDOWS-1252, UTF-16, ...; iconv -l lists them)",
                            value);
            return set_string(p, &m->encoding, section, key, value);
        }
        if (strcmp(key, "amounts") == 0) {
            if (m->has_amounts)
                return fail(p, "[stream] amounts is given twice");
            m->has_amounts = true;
            if (strcmp(value, "pence") == 0)
                m->amounts = JR_AMOUNTS_PENCE;
            else if (strcmp(value, "pounds") == 0)
                m->amounts = JR_AMOUNTS_POUNDS;
            else
                return fail(p, "[stream] amounts = %s: use pence or pounds", value);
            return 1;
        }
        return fail(p, "[stream] has no key \"%s\" (code, name, date_format, encoding, amounts)",
                    key);
    }
    if (strcmp(section, "columns") == 0) {
        for (int f = 0; f < JR_FIELD_COUNT; f++)
            if (strcmp(key, g_field_names[f]) == 0)
                return set_string(p, &m->columns[f], section, key, value);
        return fail(p, "[columns] has no field \"%s\"; see adapters/README.md for the fields", key);
    }
    for (int t = 0; t < JR_TABLE_COUNT; t++)
        if (strcmp(section, g_table_names[t]) == 0)
            return add_entry(p, (jr_table_t)t, key, value);
    if (!*section)
        return fail(p, "\"%s\" is outside any section", key);
    return fail(p,
                "unknown section [%s] (stream, columns, kinds, topics, roles, priorities, "
                "ways, needs)",
                section);
}

static bool kind_used(const jr_mapping_t *m, jr_kind_t k)
{
    const table_t *t = &m->tables[JR_TABLE_KINDS];
    for (size_t i = 0; i < t->n; i++)
        if (t->entries[i].value == (int)k)
            return true;
    return false;
}

/* What the table must say so that every kind it names can become an event. */
static int check_complete(parse_t *p)
{
    jr_mapping_t *m = p->m;
    if (!m->stream)
        return fail(p, "[stream] code is missing");
    for (const char *c = m->stream; *c; c++)
        if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_')
            return fail(p, "[stream] code = %s: use capital letters, digits and _", m->stream);
    if (!m->columns[JR_FIELD_KIND] || !m->columns[JR_FIELD_DATE])
        return fail(p, "[columns] must name the kind and date columns");
    if (!m->columns[JR_FIELD_NHS] && !m->columns[JR_FIELD_NINO] && !m->columns[JR_FIELD_LOCAL])
        return fail(p, "[columns] must name at least one of nhs_number, ni_number, local_id");
    if (m->tables[JR_TABLE_KINDS].n == 0)
        return fail(p, "[kinds] is empty: name the export's record types");
    if (kind_used(m, JR_KIND_CONTRIBUTION)) {
        if (!m->columns[JR_FIELD_CODE] || !m->columns[JR_FIELD_ROLE])
            return fail(p, "contributions need the code and role columns in [columns]");
        if (m->tables[JR_TABLE_TOPICS].n == 0 || m->tables[JR_TABLE_ROLES].n == 0)
            return fail(p, "contributions need [topics] and [roles]");
        if (m->columns[JR_FIELD_PRIORITY] && m->tables[JR_TABLE_PRIORITIES].n == 0)
            return fail(p, "[columns] names a priority column but [priorities] is empty");
    }
    if (kind_used(m, JR_KIND_ENROLMENT) && !m->columns[JR_FIELD_STARTED_ON])
        return fail(p, "enrolments need the started_on column in [columns]");
    if (kind_used(m, JR_KIND_PREFERENCES) &&
        (!m->columns[JR_FIELD_WAY] || m->tables[JR_TABLE_WAYS].n == 0))
        return fail(p, "preferences need the way column in [columns] and [ways]");
    if (m->columns[JR_FIELD_NEEDS] && m->tables[JR_TABLE_NEEDS].n == 0)
        return fail(p, "[columns] names a needs column but [needs] is empty");
    if (kind_used(m, JR_KIND_BUDGET) &&
        (!m->columns[JR_FIELD_PERIOD_START] || !m->columns[JR_FIELD_PERIOD_END] ||
         !m->columns[JR_FIELD_ALLOCATED] || !m->columns[JR_FIELD_SPENT]))
        return fail(p, "budgets need the period_start, period_end, allocated and spent columns "
                       "in [columns]");
    return 1;
}

jr_mapping_t *jr_mapping_parse(const char *text, const char *origin, char *why, size_t why_len)
{
    parse_t p = {.m = calloc(1, sizeof(jr_mapping_t))};
    if (!p.m) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    p.m->origin = strdup(origin ? origin : "mapping");
    p.m->text = strdup(text);
    if (!p.m->origin || !p.m->text) {
        snprintf(why, why_len, "out of memory");
        jr_mapping_destroy(&p.m);
        return NULL;
    }
    int line = ini_parse_string(text, on_key, &p);
    if (line != 0 && !p.failed)
        fail(&p, "not INI (a line that is neither [section], key = value nor a comment)");
    if (!p.failed)
        check_complete(&p);
    if (p.failed) {
        if (line > 0)
            snprintf(why, why_len, "%s:%d: %s", origin, line, p.why);
        else
            snprintf(why, why_len, "%s: %s", origin, p.why);
        jr_mapping_destroy(&p.m);
        return NULL;
    }
    return p.m;
}

jr_mapping_t *jr_mapping_load(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, why_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    char buf[4096];
    size_t got;
    bool ok = true;
    while (ok && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *t = realloc(text, cap);
            if (!t || cap > 4 * 1024 * 1024) {
                free(t ? t : text);
                text = NULL;
                ok = false;
                break;
            }
            text = t;
        }
        memcpy(text + len, buf, got);
        len += got;
    }
    bool read_error = ferror(f);
    fclose(f);
    if (!ok || read_error) {
        snprintf(why, why_len, "%s: %s", path,
                 read_error ? "read error" : "too large for a mapping (over 4 MiB)");
        free(text);
        return NULL;
    }
    if (!text) {
        snprintf(why, why_len, "%s: the file is empty", path);
        return NULL;
    }
    text[len] = '\0';
    jr_mapping_t *m = jr_mapping_parse(text, path, why, why_len);
    free(text);
    return m;
}

void jr_mapping_destroy(jr_mapping_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jr_mapping_t *self = *self_p;
    free(self->stream);
    free(self->name);
    free(self->origin);
    free(self->text);
    free(self->encoding);
    for (int f = 0; f < JR_FIELD_COUNT; f++)
        free(self->columns[f]);
    for (int t = 0; t < JR_TABLE_COUNT; t++) {
        for (size_t i = 0; i < self->tables[t].n; i++)
            free(self->tables[t].entries[i].word);
        free(self->tables[t].entries);
    }
    free(self);
    *self_p = NULL;
}

/* ---- queries ---------------------------------------------------------- */

const char *jr_mapping_stream(const jr_mapping_t *self)
{
    return self->stream;
}

const char *jr_mapping_name(const jr_mapping_t *self)
{
    return self->name ? self->name : self->stream;
}

const char *jr_mapping_origin(const jr_mapping_t *self)
{
    return self->origin;
}

const char *jr_mapping_encoding(const jr_mapping_t *self)
{
    return self->encoding ? self->encoding : "UTF-8";
}

jr_date_format_t jr_mapping_date_format(const jr_mapping_t *self)
{
    return self->date_format;
}

jr_amounts_t jr_mapping_amounts(const jr_mapping_t *self)
{
    return self->amounts;
}

const char *jr_mapping_column(const jr_mapping_t *self, jr_field_t field)
{
    return field < JR_FIELD_COUNT ? self->columns[field] : NULL;
}

const char *jr_mapping_field_name(jr_field_t field)
{
    return field < JR_FIELD_COUNT ? g_field_names[field] : "?";
}

const char *jr_mapping_table_name(jr_table_t table)
{
    return table < JR_TABLE_COUNT ? g_table_names[table] : "?";
}

bool jr_mapping_lookup(const jr_mapping_t *self, jr_table_t table, const char *word, int *value)
{
    if (table >= JR_TABLE_COUNT || !word)
        return false;
    while (isspace((unsigned char)*word))
        word++;
    size_t len = strlen(word);
    while (len > 0 && isspace((unsigned char)word[len - 1]))
        len--;
    const table_t *t = &self->tables[table];
    for (size_t i = 0; i < t->n; i++) {
        if (strlen(t->entries[i].word) == len && strncasecmp(t->entries[i].word, word, len) == 0) {
            *value = t->entries[i].value;
            return true;
        }
    }
    return false;
}

const char *jr_mapping_text(const jr_mapping_t *self)
{
    return self->text;
}
