/* inbox.c -- see inbox.h. */
#include "inbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "durable.h"

#define REJECTED_SUFFIX ".rejected.csv"

struct jr_inbox {
    char *dir;
    char *done;
    char *failed;
    int fd; /* the inbox directory, flock()ed */
};

static char *join(const char *a, const char *b)
{
    size_t len = strlen(a) + strlen(b) + 2;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s/%s", a, b);
    return s;
}

static int make_dir(const char *path)
{
    return jr_durable_mkdirs(path, 0750);
}

jr_inbox_t *jr_inbox_open(const char *dir, char *why, size_t why_len)
{
    jr_inbox_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    self->fd = -1;
    self->dir = strdup(dir);
    self->done = join(dir, "done");
    self->failed = join(dir, "failed");
    if (!self->dir || !self->done || !self->failed) {
        snprintf(why, why_len, "out of memory");
        goto fail;
    }
    const char *step = self->dir;
    if (make_dir(self->dir) != 0 || make_dir(step = self->done) != 0 ||
        make_dir(step = self->failed) != 0) {
        snprintf(why, why_len, "inbox %s: %s", step, strerror(errno));
        goto fail;
    }
    self->fd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (self->fd < 0) {
        snprintf(why, why_len, "inbox %s: %s", self->dir, strerror(errno));
        goto fail;
    }
    if (flock(self->fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(why, why_len, "inbox %s: %s", self->dir,
                 errno == EWOULDBLOCK ? "another adapter is already reading this inbox"
                                      : strerror(errno));
        goto fail;
    }
    return self;
fail:
    jr_inbox_destroy(&self);
    return NULL;
}

void jr_inbox_destroy(jr_inbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jr_inbox_t *self = *self_p;
    if (self->fd >= 0)
        close(self->fd); /* releases the lock */
    free(self->dir);
    free(self->done);
    free(self->failed);
    free(self);
    *self_p = NULL;
}

const char *jr_inbox_dir(const jr_inbox_t *self)
{
    return self->dir;
}

const char *jr_inbox_done_dir(const jr_inbox_t *self)
{
    return self->done;
}

const char *jr_inbox_failed_dir(const jr_inbox_t *self)
{
    return self->failed;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

bool jr_inbox_is_input(const char *name)
{
    if (name[0] == '.' || !ends_with(name, ".csv") || ends_with(name, REJECTED_SUFFIX))
        return false;
    /* A name with control characters cannot be logged or checkpointed
     * safely (a checkpoint is line-based). */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int jr_inbox_scan(const jr_inbox_t *self, int settle_ms, char ***names, size_t *n, int *wait_ms)
{
    *names = NULL;
    *n = 0;
    *wait_ms = -1;
    DIR *d = opendir(self->dir);
    if (!d)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (!jr_inbox_is_input(e->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (settle_ms > 0) {
            int64_t age = (int64_t)(now.tv_sec - st.st_mtim.tv_sec) * 1000 +
                          (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
            if (age < settle_ms) {
                int left = (int)(settle_ms - (age < 0 ? 0 : age));
                if (*wait_ms < 0 || left < *wait_ms)
                    *wait_ms = left;
                continue;
            }
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(*names, cap * sizeof *p);
            if (!p) {
                rc = -1;
                break;
            }
            *names = p;
        }
        if (!((*names)[*n] = strdup(e->d_name))) {
            rc = -1;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (rc < 0) {
        jr_inbox_free_names(*names, *n);
        *names = NULL;
        *n = 0;
        errno = ENOMEM;
        return -1;
    }
    if (*n > 1)
        qsort(*names, *n, sizeof **names, by_name);
    return 0;
}

void jr_inbox_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

bool jr_inbox_has(const jr_inbox_t *self, const char *name)
{
    struct stat st;
    return fstatat(self->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static void stamp_of(const struct stat *st, jr_inbox_stamp_t *stamp)
{
    stamp->dev = (unsigned long long)st->st_dev;
    stamp->ino = (unsigned long long)st->st_ino;
    stamp->size = (unsigned long long)st->st_size;
    stamp->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

int jr_inbox_stamp(const jr_inbox_t *self, const char *name, jr_inbox_stamp_t *stamp)
{
    struct stat st;
    if (fstatat(self->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return -1;
    stamp_of(&st, stamp);
    return 0;
}

int jr_inbox_open_file(const jr_inbox_t *self, const char *name, jr_inbox_stamp_t *stamp)
{
    int fd = openat(self->fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat st;
    int err = fstat(fd, &st) != 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL : 0;
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    if (stamp)
        stamp_of(&st, stamp);
    return fd;
}

static bool taken(const char *dir, const char *name)
{
    char path[PATH_MAX], rej[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(rej, sizeof rej, "%s/%s" REJECTED_SUFFIX, dir, name);
    return access(path, F_OK) == 0 || access(rej, F_OK) == 0;
}

static int free_name(const char *dir, const char *name, char *out, size_t out_len)
{
    if (!taken(dir, name)) {
        if ((size_t)snprintf(out, out_len, "%s", name) >= out_len) {
            errno = ENAMETOOLONG;
            return -1;
        }
        return 0;
    }
    size_t len = strlen(name);
    size_t stem = ends_with(name, ".csv") ? len - 4 : len;
    for (int i = 2; i < 100000; i++) {
        int n = snprintf(out, out_len, "%.*s~%d%s", (int)stem, name, i, name + stem);
        if (n < 0 || (size_t)n >= out_len) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (!taken(dir, out))
            return 0;
    }
    errno = EEXIST;
    return -1;
}

int jr_inbox_done_name(const jr_inbox_t *self, const char *name, char *out, size_t out_len)
{
    return free_name(self->done, name, out, out_len);
}

int jr_inbox_fail(const jr_inbox_t *self, const char *name, const char *reason)
{
    char target[NAME_MAX + 1], note[PATH_MAX];
    if (free_name(self->failed, name, target, sizeof target) != 0)
        return -1;
    int n = snprintf(note, sizeof note, "%s.reason.txt", target);
    if (n < 0 || (size_t)n >= sizeof note || strlen(note) > NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* The reason first: a crash between the two leaves the input in the
     * inbox, to be refused again, rather than in failed/ unexplained. */
    size_t len = strlen(reason);
    char *text = malloc(len + 2);
    if (!text)
        return -1;
    memcpy(text, reason, len);
    text[len] = '\n';
    int rc = jr_durable_write(self->failed, note, text, len + 1);
    free(text);
    if (rc != 0)
        return -1;
    return jr_durable_move(self->dir, name, self->failed, target);
}
