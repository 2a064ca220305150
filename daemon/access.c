/* access.c -- see access.h. */
#include "access.h"

#include "keyfile.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CLIENTS  1024
#define NAME_MAX_LEN 64

typedef struct {
    char name[NAME_MAX_LEN];
    char key[JR_KEY_Z85_LEN + 1];
    bool all_streams;
    char streams[JR_STREAMS_MAX][JR_STREAM_CODE_MAX];
    size_t n_streams;
    unsigned feeds;
    char records[JR_STREAM_CODE_MAX]; /* "": none */
} client_t;

struct jr_access {
    client_t *clients;
    size_t n;
};

/* Splits a list on spaces and commas; calls fn on each word. */
static int each_word(const char *list, int (*fn)(void *ctx, const char *word), void *ctx)
{
    char word[64];
    const char *c = list;
    while (*c) {
        while (*c == ' ' || *c == ',' || *c == '\t') {
            c++;
        }
        size_t n = 0;
        while (*c && *c != ' ' && *c != ',' && *c != '\t') {
            if (n + 1 >= sizeof word) {
                return -1;
            }
            word[n++] = *c++;
        }
        word[n] = '\0';
        if (n > 0 && fn(ctx, word) != 0) {
            return -1;
        }
    }
    return 0;
}

static int add_stream(void *ctx, const char *word)
{
    client_t *cl = ctx;
    if (strcasecmp(word, "ALL") == 0) {
        cl->all_streams = true;
        return 0;
    }
    if (cl->n_streams == JR_STREAMS_MAX || strlen(word) >= JR_STREAM_CODE_MAX) {
        return -1;
    }
    snprintf(cl->streams[cl->n_streams++], JR_STREAM_CODE_MAX, "%s", word);
    return 0;
}

static int add_feed(void *ctx, const char *word)
{
    client_t *cl = ctx;
    if (strcasecmp(word, "identifiable") == 0) {
        cl->feeds |= JR_FEED_IDENTIFIABLE;
    } else if (strcasecmp(word, "pseudonymised") == 0) {
        cl->feeds |= JR_FEED_PSEUDONYMISED;
    } else if (strcasecmp(word, "statistics") == 0) {
        cl->feeds |= JR_FEED_STATISTICS;
    } else {
        return -1;
    }
    return 0;
}

typedef struct {
    jr_access_t *acc;
    char msg[200];
} load_t;

static client_t *client_for(jr_access_t *acc, const char *name)
{
    for (size_t i = 0; i < acc->n; i++) {
        if (strcmp(acc->clients[i].name, name) == 0) {
            return &acc->clients[i];
        }
    }
    if (acc->n == MAX_CLIENTS || strlen(name) >= NAME_MAX_LEN) {
        return NULL;
    }
    client_t *cl = &acc->clients[acc->n++];
    memset(cl, 0, sizeof *cl);
    snprintf(cl->name, sizeof cl->name, "%s", name);
    return cl;
}

static int on_allow(void *user, const char *section, const char *key, const char *value)
{
    load_t *ld = user;
    if (strncmp(section, "client.", 7) != 0 || section[7] == '\0') {
        snprintf(ld->msg, sizeof ld->msg, "sections must be [client.NAME], not [%s]", section);
        return 0;
    }
    client_t *cl = client_for(ld->acc, section + 7);
    if (cl == NULL) {
        snprintf(ld->msg, sizeof ld->msg, "too many clients, or a name over 63 characters");
        return 0;
    }
    if (strcmp(key, "public_key") == 0) {
        if (!jr_keyfile_z85_ok(value)) {
            snprintf(ld->msg, sizeof ld->msg, "[%s] public_key must be 40 Z85 characters", section);
            return 0;
        }
        snprintf(cl->key, sizeof cl->key, "%s", value);
    } else if (strcmp(key, "streams") == 0) {
        if (each_word(value, add_stream, cl) != 0) {
            snprintf(ld->msg, sizeof ld->msg, "[%s] streams: a list of stream codes, or ALL",
                     section);
            return 0;
        }
    } else if (strcmp(key, "feeds") == 0) {
        if (each_word(value, add_feed, cl) != 0) {
            snprintf(ld->msg, sizeof ld->msg,
                     "[%s] feeds: identifiable, pseudonymised and/or statistics", section);
            return 0;
        }
    } else if (strcmp(key, "records") == 0) {
        /* One stream's code: a key that may read every stream's records
         * has the identifiable feed instead. */
        size_t n = strlen(value);
        bool ok = n > 0 && n < JR_STREAM_CODE_MAX && strcasecmp(value, "ALL") != 0;
        for (size_t i = 0; ok && i < n; i++) {
            char ch = value[i];
            ok = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
        }
        if (!ok) {
            snprintf(ld->msg, sizeof ld->msg,
                     "[%s] records: the code of one funding stream (e.g. ATW)", section);
            return 0;
        }
        snprintf(cl->records, sizeof cl->records, "%s", value);
    } else {
        snprintf(ld->msg, sizeof ld->msg, "[%s] unknown key '%s'", section, key);
        return 0;
    }
    return 1;
}

jr_access_t *jr_access_load(const char *path, char *err, size_t errlen)
{
    jr_access_t *acc = calloc(1, sizeof *acc);
    load_t ld = {.acc = acc};
    if (acc == NULL || (acc->clients = calloc(MAX_CLIENTS, sizeof *acc->clients)) == NULL) {
        snprintf(err, errlen, "out of memory");
        jr_access_destroy(&acc);
        return NULL;
    }
    int rc = ini_parse(path, on_allow, &ld);
    if (rc == -1) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    } else if (rc != 0) {
        snprintf(err, errlen, "%s:%d: %s", path, rc,
                 ld.msg[0] ? ld.msg : "not a 'key = value' line or [section]");
    }
    for (size_t i = 0; rc == 0 && i < acc->n; i++) {
        if (acc->clients[i].key[0] == '\0') {
            snprintf(err, errlen, "%s: [client.%s] has no public_key", path, acc->clients[i].name);
            rc = -1;
        }
    }
    if (rc != 0) {
        jr_access_destroy(&acc);
    }
    return acc;
}

void jr_access_destroy(jr_access_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free((*self_p)->clients);
    free(*self_p);
    *self_p = NULL;
}

static const client_t *find(const jr_access_t *self, const char *key)
{
    for (size_t i = 0; self != NULL && key != NULL && i < self->n; i++) {
        if (strcmp(self->clients[i].key, key) == 0) {
            return &self->clients[i];
        }
    }
    return NULL;
}

const char *jr_access_name(const jr_access_t *self, const char *public_key)
{
    const client_t *cl = find(self, public_key);
    return cl ? cl->name : NULL;
}

bool jr_access_may_push(const jr_access_t *self, const char *public_key, const char *stream)
{
    const client_t *cl = find(self, public_key);
    if (cl == NULL) {
        return false;
    }
    if (cl->all_streams) {
        return true;
    }
    for (size_t i = 0; i < cl->n_streams; i++) {
        if (strcmp(cl->streams[i], stream) == 0) {
            return true;
        }
    }
    return false;
}

bool jr_access_records(const jr_access_t *self, const char *public_key,
                       char stream[JR_STREAM_CODE_MAX])
{
    const client_t *cl = find(self, public_key);
    if (cl == NULL || cl->records[0] == '\0') {
        return false;
    }
    snprintf(stream, JR_STREAM_CODE_MAX, "%s", cl->records);
    return true;
}

bool jr_access_is_adapter(const jr_access_t *self, const char *public_key)
{
    const client_t *cl = find(self, public_key);
    return cl != NULL && (cl->all_streams || cl->n_streams > 0);
}

unsigned jr_access_feeds(const jr_access_t *self, const char *public_key)
{
    const client_t *cl = find(self, public_key);
    return cl ? cl->feeds : 0;
}

size_t jr_access_count(const jr_access_t *self)
{
    return self ? self->n : 0;
}

bool jr_access_revokes_feeds(const jr_access_t *old, const jr_access_t *now)
{
    for (size_t i = 0; old != NULL && i < old->n; i++) {
        unsigned before = old->clients[i].feeds;
        if (before & ~jr_access_feeds(now, old->clients[i].key)) {
            return true;
        }
    }
    return false;
}
