/* checkpoint.c -- see checkpoint.h. */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"

#define MAGIC  "joinedreview-adapter checkpoint 1"
#define SUFFIX ".checkpoint"

static int file_name(char *out, size_t len, const char *stream, const char *name)
{
    int n = snprintf(out, len, "%s-%s" SUFFIX, stream, name);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static bool get_u64(const char *line, const char *key, uint64_t *out)
{
    size_t k = strlen(key);
    if (strncmp(line, key, k) != 0 || line[k] != ' ')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(line + k + 1, &end, 10);
    if (errno || end == line + k + 1 || (*end != '\n' && *end != '\0'))
        return false;
    *out = v;
    return true;
}

int jr_checkpoint_load(const char *dir, const char *stream, const char *name, jr_checkpoint_t *out)
{
    char base[NAME_MAX + 1], path[PATH_MAX];
    if (file_name(base, sizeof base, stream, name) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, base);
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 1 : -1;

    char line[512];
    unsigned seen = 0;
    bool magic = false, bad = false;
    while (!bad && fgets(line, sizeof line, f)) {
        if (!magic) {
            magic = strcmp(line, MAGIC "\n") == 0;
            bad = !magic;
            continue;
        }
        if (strncmp(line, "file_hash ", 10) == 0) {
            size_t len = strcspn(line + 10, "\n");
            bad = len != JR_CHECKPOINT_HASH_HEX - 1;
            if (!bad) {
                memcpy(out->file_hash, line + 10, len);
                out->file_hash[len] = '\0';
                seen |= 1;
            }
        } else if (strncmp(line, "done_name ", 10) == 0) {
            size_t len = strcspn(line + 10, "\n");
            bad = len >= sizeof out->done_name;
            if (!bad) {
                memcpy(out->done_name, line + 10, len);
                out->done_name[len] = '\0';
            }
        } else if (get_u64(line, "rows_done", &out->rows_done)) {
            seen |= 2;
        } else if (get_u64(line, "rejects_bytes", &out->rejects_bytes)) {
            seen |= 4;
        } else if (!get_u64(line, "ok", &out->ok) && !get_u64(line, "duplicate", &out->duplicate) &&
                   !get_u64(line, "parked", &out->parked) &&
                   !get_u64(line, "rejected", &out->rejected)) {
            bad = true;
        }
    }
    bool read_error = ferror(f);
    fclose(f);
    if (read_error)
        return -1;
    if (bad || !magic || seen != 7) {
        memset(out, 0, sizeof *out);
        return -2;
    }
    return 0;
}

int jr_checkpoint_save(const char *dir, const char *stream, const char *name,
                       const jr_checkpoint_t *cp)
{
    char base[NAME_MAX + 1], text[1024];
    if (file_name(base, sizeof base, stream, name) < 0)
        return -1;
    int n = snprintf(text, sizeof text,
                     MAGIC "\n"
                           "file_hash %s\n"
                           "rows_done %" PRIu64 "\n"
                           "rejects_bytes %" PRIu64 "\n"
                           "ok %" PRIu64 "\n"
                           "duplicate %" PRIu64 "\n"
                           "parked %" PRIu64 "\n"
                           "rejected %" PRIu64 "\n"
                           "%s%s%s",
                     cp->file_hash, cp->rows_done, cp->rejects_bytes, cp->ok, cp->duplicate,
                     cp->parked, cp->rejected, cp->done_name[0] ? "done_name " : "", cp->done_name,
                     cp->done_name[0] ? "\n" : "");
    if (n < 0 || (size_t)n >= sizeof text) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return jr_durable_write(dir, base, text, (size_t)n);
}

int jr_checkpoint_remove(const char *dir, const char *stream, const char *name)
{
    char base[NAME_MAX + 1];
    if (file_name(base, sizeof base, stream, name) < 0)
        return -1;
    return jr_durable_remove(dir, base);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int jr_checkpoint_list(const char *dir, const char *stream, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t prefix = strlen(stream) + 1, suffix = strlen(SUFFIX), cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= prefix + suffix || strncmp(e->d_name, stream, prefix - 1) != 0 ||
            e->d_name[prefix - 1] != '-' || strcmp(e->d_name + len - suffix, SUFFIX) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            char **p = realloc(*names, cap * sizeof *p);
            if (!p) {
                rc = -1;
                break;
            }
            *names = p;
        }
        char *name = strndup(e->d_name + prefix, len - prefix - suffix);
        if (!name) {
            rc = -1;
            break;
        }
        (*names)[(*n)++] = name;
    }
    int err = errno;
    closedir(d);
    if (rc < 0) {
        jr_checkpoint_free_list(*names, *n);
        *names = NULL;
        *n = 0;
        errno = err ? err : ENOMEM;
        return -1;
    }
    if (*n > 1)
        qsort(*names, *n, sizeof **names, by_name);
    return 0;
}

void jr_checkpoint_free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}
