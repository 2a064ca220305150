/* accounts.c -- see accounts.h. */
#include "accounts.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"
#include "keyfile.h"

enum { FILE_MAX = 4 * 1024 * 1024 };

struct jr_accounts {
    jr_account_t *rows;
    size_t n, cap;
};

static const char *const role_names[] = {NULL, "scheduler", "stream-officer", "data-officer",
                                         "analyst"};

const char *jr_accounts_role_name(jr_account_role_t role)
{
    return role >= JR_ACCOUNT_SCHEDULER && role <= JR_ACCOUNT_ANALYST ? role_names[role] : NULL;
}

jr_account_role_t jr_accounts_role_from_name(const char *name)
{
    for (int r = JR_ACCOUNT_SCHEDULER; r <= JR_ACCOUNT_ANALYST; r++) {
        if (name != NULL && strcmp(name, role_names[r]) == 0) {
            return (jr_account_role_t)r;
        }
    }
    return JR_ACCOUNT_NONE;
}

jr_accounts_t *jr_accounts_new(void)
{
    return calloc(1, sizeof(jr_accounts_t));
}

void jr_accounts_destroy(jr_accounts_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free((*self_p)->rows);
    free(*self_p);
    *self_p = NULL;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= JR_ACCOUNT_NAME_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") == n;
}

static bool hash_ok(const char *s)
{
    size_t n = strlen(s);
    /* Only argon2id: a weaker or foreign hash is refused, not verified. */
    return strncmp(s, "$argon2id$", 10) == 0 && n < JR_ACCOUNT_HASH_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789$=,+/") == n;
}

static bool stream_known(const jr_streams_t *streams, const char *code)
{
    return jr_streams_find(streams, code) != NULL;
}

int jr_accounts_check(const jr_account_t *a, const jr_streams_t *streams, char *err, size_t errlen)
{
    if (!name_ok(a->name)) {
        snprintf(err, errlen, "a name is 1 to %d of A-Z a-z 0-9 . _ @ -", JR_ACCOUNT_NAME_MAX);
        return -1;
    }
    switch (a->role) {
    case JR_ACCOUNT_SCHEDULER:
        if (a->n_leads == 0) {
            snprintf(err, errlen, "a scheduler names the lead organisations they schedule for");
            return -1;
        }
        for (size_t i = 0; i < a->n_leads; i++) {
            if (!stream_known(streams, a->leads[i])) {
                snprintf(err, errlen, "no funding stream '%s'", a->leads[i]);
                return -1;
            }
        }
        return 0;
    case JR_ACCOUNT_STREAM_OFFICER:
    case JR_ACCOUNT_DATA_OFFICER:
        if (!stream_known(streams, a->stream)) {
            snprintf(err, errlen, "a %s names one funding stream the configuration knows, not '%s'",
                     jr_accounts_role_name(a->role), a->stream);
            return -1;
        }
        return 0;
    case JR_ACCOUNT_ANALYST:
        return 0;
    case JR_ACCOUNT_NONE:
        break;
    }
    snprintf(err, errlen, "the role is scheduler, stream-officer, data-officer or analyst");
    return -1;
}

/* Fills a's scope from the SCOPE field. */
static int parse_scope(jr_account_t *a, const char *scope, char *err, size_t errlen)
{
    if (a->role == JR_ACCOUNT_ANALYST) {
        if (strcmp(scope, "-") != 0) {
            snprintf(err, errlen, "an analyst's scope is '-'");
            return -1;
        }
        return 0;
    }
    if (a->role != JR_ACCOUNT_SCHEDULER) {
        if (strlen(scope) >= sizeof a->stream) {
            snprintf(err, errlen, "stream code too long");
            return -1;
        }
        strcpy(a->stream, scope);
        return 0;
    }
    const char *c = scope;
    while (*c != '\0') {
        size_t n = strcspn(c, ",");
        if (n == 0 || n >= JR_STREAM_CODE_MAX || a->n_leads == JR_ACCOUNT_LEADS_MAX) {
            snprintf(err, errlen, "the leads are up to %d stream codes separated by commas",
                     JR_ACCOUNT_LEADS_MAX);
            return -1;
        }
        memcpy(a->leads[a->n_leads], c, n);
        a->leads[a->n_leads][n] = '\0';
        a->n_leads++;
        c += n;
        c += *c == ',';
    }
    return 0;
}

int jr_accounts_parse(const char *text, size_t len, const jr_streams_t *streams,
                      jr_accounts_t **out, char *err, size_t errlen)
{
    *out = NULL;
    jr_accounts_t *self = jr_accounts_new();
    if (self == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t line_no = 0;
    for (size_t at = 0; at < len;) {
        const char *start = text + at;
        const char *nl = memchr(start, '\n', len - at);
        size_t n = nl ? (size_t)(nl - start) : len - at;
        at += n + 1;
        line_no++;
        char line[512];
        if (n >= sizeof line || memchr(start, '\0', n) != NULL) {
            snprintf(err, errlen, "line %zu: too long, or holds a NUL byte", line_no);
            goto fail;
        }
        memcpy(line, start, n);
        line[n] = '\0';
        if (n > 0 && line[n - 1] == '\r') {
            line[n - 1] = '\0';
        }
        char *fields[5];
        size_t nf = 0;
        char *save = NULL;
        for (char *f = strtok_r(line, " \t", &save); f != NULL && nf < 5;
             f = strtok_r(NULL, " \t", &save)) {
            fields[nf++] = f;
        }
        if (nf == 0 || fields[0][0] == '#') {
            continue;
        }
        char why[200];
        jr_account_t a;
        memset(&a, 0, sizeof a);
        if (nf != 4) {
            snprintf(err, errlen, "line %zu: wants NAME ROLE SCOPE HASH", line_no);
            goto fail;
        }
        if (strlen(fields[0]) > JR_ACCOUNT_NAME_MAX || !hash_ok(fields[3])) {
            snprintf(err, errlen, "line %zu: %s", line_no,
                     !hash_ok(fields[3]) ? "the hash is not an argon2id string (crypto_pwhash_str)"
                                         : "the name is too long");
            goto fail;
        }
        strcpy(a.name, fields[0]);
        strcpy(a.hash, fields[3]);
        a.role = jr_accounts_role_from_name(fields[1]);
        if ((a.role != JR_ACCOUNT_NONE && parse_scope(&a, fields[2], why, sizeof why) != 0) ||
            jr_accounts_check(&a, streams, why, sizeof why) != 0) {
            snprintf(err, errlen, "line %zu: %s", line_no, why);
            goto fail;
        }
        if (jr_accounts_find(self, a.name) != NULL) {
            snprintf(err, errlen, "line %zu: a second account named '%s'", line_no, a.name);
            goto fail;
        }
        if (jr_accounts_put(self, &a) != 0) {
            snprintf(err, errlen, "line %zu: more than %d accounts", line_no, JR_ACCOUNTS_MAX);
            goto fail;
        }
    }
    *out = self;
    return 0;
fail:
    jr_accounts_destroy(&self);
    return -1;
}

int jr_accounts_load(const char *path, const jr_streams_t *streams, bool missing_ok,
                     jr_accounts_t **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *probe = fopen(path, "rb");
    if (probe == NULL && errno == ENOENT && missing_ok) {
        *out = jr_accounts_new();
        return *out ? 0 : -1;
    }
    if (probe != NULL) {
        fclose(probe);
    }
    FILE *f = jr_keyfile_open_secret(path, err, errlen);
    if (f == NULL) {
        return -1;
    }
    char *text = malloc(FILE_MAX + 1);
    size_t len = text ? fread(text, 1, FILE_MAX + 1, f) : 0;
    fclose(f);
    if (text == NULL || len > FILE_MAX) {
        snprintf(err, errlen, "%s: %s", path, text ? "larger than 4 MiB" : "out of memory");
        free(text);
        return -1;
    }
    char why[256];
    int rc = jr_accounts_parse(text, len, streams, out, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
    }
    free(text);
    return rc;
}

const jr_account_t *jr_accounts_find(const jr_accounts_t *self, const char *name)
{
    for (size_t i = 0; self != NULL && name != NULL && i < self->n; i++) {
        if (strcmp(self->rows[i].name, name) == 0) {
            return &self->rows[i];
        }
    }
    return NULL;
}

size_t jr_accounts_count(const jr_accounts_t *self)
{
    return self ? self->n : 0;
}

const jr_account_t *jr_accounts_at(const jr_accounts_t *self, size_t i)
{
    return self != NULL && i < self->n ? &self->rows[i] : NULL;
}

int jr_accounts_put(jr_accounts_t *self, const jr_account_t *a)
{
    jr_account_t *old = (jr_account_t *)jr_accounts_find(self, a->name);
    if (old != NULL) {
        *old = *a;
        return 0;
    }
    if (self->n == JR_ACCOUNTS_MAX) {
        return -1;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        jr_account_t *rows = realloc(self->rows, cap * sizeof *rows);
        if (rows == NULL) {
            return -1;
        }
        self->rows = rows;
        self->cap = cap;
    }
    self->rows[self->n++] = *a;
    return 0;
}

void jr_accounts_scope(const jr_account_t *a, char *out, size_t len)
{
    if (a->role == JR_ACCOUNT_SCHEDULER) {
        size_t used = 0;
        out[0] = '\0';
        for (size_t i = 0; i < a->n_leads && used < len; i++) {
            used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", a->leads[i]);
        }
    } else if (a->role == JR_ACCOUNT_ANALYST) {
        snprintf(out, len, "-");
    } else {
        snprintf(out, len, "%s", a->stream);
    }
}

void jr_accounts_describe(const jr_account_t *a, char *out, size_t len)
{
    char scope[JR_ACCOUNT_LEADS_MAX * JR_STREAM_CODE_MAX];
    jr_accounts_scope(a, scope, sizeof scope);
    switch (a->role) {
    case JR_ACCOUNT_SCHEDULER:
        for (char *c = scope; *c; c++) {
            *c = *c == ',' ? '/' : *c;
        }
        snprintf(out, len, "review scheduler for %s", scope);
        return;
    case JR_ACCOUNT_STREAM_OFFICER:
        snprintf(out, len, "stream officer for %s", scope);
        return;
    case JR_ACCOUNT_DATA_OFFICER:
        snprintf(out, len, "data officer for %s", scope);
        return;
    default:
        snprintf(out, len, "analyst");
        return;
    }
}

int jr_accounts_save(const jr_accounts_t *self, const char *path, char *err, size_t errlen)
{
    size_t cap = 256 + self->n * 320, used = 0;
    char *text = malloc(cap);
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    used += (size_t)snprintf(text, cap,
                             "# joinedreview-web accounts: NAME ROLE SCOPE ARGON2ID-HASH\n"
                             "# A secret: keep it mode 0600. Written by joinedreview-web "
                             "--add-account.\n");
    for (size_t i = 0; i < self->n; i++) {
        char scope[JR_ACCOUNT_LEADS_MAX * JR_STREAM_CODE_MAX];
        jr_accounts_scope(&self->rows[i], scope, sizeof scope);
        used +=
            (size_t)snprintf(text + used, cap - used, "%s %s %s %s\n", self->rows[i].name,
                             jr_accounts_role_name(self->rows[i].role), scope, self->rows[i].hash);
    }
    char dir_buf[4096], name_buf[4096];
    snprintf(dir_buf, sizeof dir_buf, "%s", path);
    snprintf(name_buf, sizeof name_buf, "%s", path);
    int rc = jr_durable_write(dirname(dir_buf), basename(name_buf), text, used);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    }
    free(text);
    return rc;
}
