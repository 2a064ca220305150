/* inbox.c -- see inbox.h. */
#define _GNU_SOURCE /* F_SETLEASE */
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
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "durable.h"
#include "log.h"

#define REJECTED_SUFFIX ".rejected.csv"
#define COMPONENT       "adapter"

/* What inotify said last about a file. */
typedef enum {
    EV_UNKNOWN, /* nothing since the adapter started watching (or events were lost) */
    EV_WRITING, /* created or written to, not closed since */
    EV_CLOSED,  /* closed after writing, or moved in */
} ev_state_t;

/* What the inbox knows of one input. */
typedef struct {
    char *name;
    ev_state_t ev;
    jr_inbox_stamp_t stamp; /* as last seen */
    int64_t since_ms;       /* when that stamp was first seen */
    bool held;              /* jr_inbox_hold(): left alone while `stamp` stays */
    int64_t held_until_ms;
    int said;  /* the last reason for waiting logged (WAIT_*), to say it once */
    bool seen; /* in the latest scan */
} entry_t;

enum { WAIT_NONE, WAIT_EVENTS, WAIT_LEASE, WAIT_SETTLE, WAIT_HELD };

struct jr_inbox {
    char *dir;
    char *done;
    char *failed;
    int fd;     /* the inbox directory, flock()ed */
    int watch;  /* inotify, or -1 */
    bool woken; /* an event since the last jr_inbox_drain() may make a file ready */
    entry_t *entries;
    size_t n_entries, cap_entries;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
    self->watch = -1;
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
    if (self->watch >= 0)
        close(self->watch);
    for (size_t i = 0; i < self->n_entries; i++)
        free(self->entries[i].name);
    free(self->entries);
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

static void stamp_of(const struct stat *st, jr_inbox_stamp_t *stamp)
{
    stamp->dev = (unsigned long long)st->st_dev;
    stamp->ino = (unsigned long long)st->st_ino;
    stamp->size = (unsigned long long)st->st_size;
    stamp->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* ---- what the inbox knows of each input -------------------------------------------- */

static entry_t *entry(jr_inbox_t *self, const char *name, bool create)
{
    for (size_t i = 0; i < self->n_entries; i++)
        if (strcmp(self->entries[i].name, name) == 0)
            return &self->entries[i];
    if (!create)
        return NULL;
    if (self->n_entries == self->cap_entries) {
        size_t cap = self->cap_entries ? self->cap_entries * 2 : 16;
        entry_t *e = realloc(self->entries, cap * sizeof *e);
        if (!e)
            return NULL;
        self->entries = e;
        self->cap_entries = cap;
    }
    entry_t *e = &self->entries[self->n_entries];
    *e = (entry_t){.name = strdup(name), .since_ms = mono_ms()};
    if (!e->name)
        return NULL;
    self->n_entries++;
    return e;
}

static void forget(jr_inbox_t *self, entry_t *e)
{
    free(e->name);
    *e = self->entries[--self->n_entries];
}

static bool same_stamp(const jr_inbox_stamp_t *a, const jr_inbox_stamp_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

int jr_inbox_watch(jr_inbox_t *self)
{
    if (self->watch >= 0)
        return self->watch;
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return -1;
    if (inotify_add_watch(fd, self->dir,
                          IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                              IN_DELETE) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    self->watch = fd;
    return fd;
}

/* Reads the events waiting and notes what they say. 0, or -1 with errno. */
static int drain_events(jr_inbox_t *self)
{
    if (self->watch < 0)
        return 0;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t len = read(self->watch, buf, sizeof buf);
        if (len < 0 && errno == EINTR)
            continue;
        if (len < 0 && errno == EAGAIN)
            return 0;
        if (len <= 0)
            return -1;
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                /* Events were lost: what they would have said is unknown. */
                for (size_t i = 0; i < self->n_entries; i++)
                    self->entries[i].ev = EV_UNKNOWN;
                self->woken = true;
                continue;
            }
            if (!ev->len || !jr_inbox_is_input(ev->name))
                continue;
            if (ev->mask & (IN_MOVED_FROM | IN_DELETE)) {
                entry_t *e = entry(self, ev->name, false);
                if (e)
                    forget(self, e);
                continue;
            }
            entry_t *e = entry(self, ev->name, true);
            if (!e) {
                errno = ENOMEM;
                return -1;
            }
            if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
                e->ev = EV_CLOSED;
                self->woken = true;
            } else if (ev->mask & (IN_CREATE | IN_MODIFY)) {
                e->ev = EV_WRITING;
            }
        }
    }
}

int jr_inbox_drain(jr_inbox_t *self)
{
    if (drain_events(self) != 0)
        return -1;
    int woken = self->woken;
    self->woken = false;
    return woken;
}

/* Whether some process has the file open for writing: 1 yes, 0 no, -1 the
 * kernel cannot say to this process. A read lease is granted only while no
 * one has the file open for writing; it is released at once. It needs the
 * file's owner (or CAP_LEASE) and a file system with leases. */
static int lease_test(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    int rc;
    if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
        fcntl(fd, F_SETLEASE, F_UNLCK);
        rc = 0;
    } else {
        rc = errno == EAGAIN ? 1 : -1;
    }
    close(fd);
    return rc;
}

/* Says once per file and reason why it is left for now. */
static void say(entry_t *e, int why)
{
    if (e->said == why)
        return;
    e->said = why;
    switch (why) {
    case WAIT_EVENTS:
        jr_log(JR_LOG_INFO, COMPONENT, "%s is being written; left until it is closed", e->name);
        break;
    case WAIT_LEASE:
        jr_log(JR_LOG_INFO, COMPONENT, "%s is open for writing; left until it is closed", e->name);
        break;
    default:
        break;
    }
}

/* Why `e` (its file stamped `st` now) is not to be read yet: WAIT_NONE when
 * it is complete. *wait_ms: when to look again, for the reasons a clock
 * ends (-1 otherwise). */
static int waiting(jr_inbox_t *self, entry_t *e, const jr_inbox_stamp_t *st, int settle_ms,
                   int64_t now, int *wait_ms)
{
    *wait_ms = -1;
    if (!same_stamp(&e->stamp, st)) {
        e->stamp = *st;
        e->since_ms = now;
        e->held = false;
    }
    if (e->held && now < e->held_until_ms) {
        *wait_ms = (int)(e->held_until_ms - now);
        return WAIT_HELD;
    }
    if (e->ev == EV_WRITING)
        return WAIT_EVENTS;
    if (lease_test(self->fd, e->name) == 1) {
        /* Written by a process that started before the watch, or in
         * one-shot mode: its close is seen by inotify or the next run. */
        *wait_ms = settle_ms > 0 ? settle_ms : -1;
        return WAIT_LEASE;
    }
    if (now - e->since_ms < settle_ms) {
        *wait_ms = (int)(settle_ms - (now - e->since_ms));
        return WAIT_SETTLE;
    }
    return WAIT_NONE;
}

int jr_inbox_scan(jr_inbox_t *self, int settle_ms, char ***names, size_t *n, int *wait_ms)
{
    *names = NULL;
    *n = 0;
    *wait_ms = -1;
    if (drain_events(self) != 0)
        return -1;
    self->woken = false; /* this scan sees what the events said */
    DIR *d = opendir(self->dir);
    if (!d)
        return -1;
    for (size_t i = 0; i < self->n_entries; i++)
        self->entries[i].seen = false;
    int64_t now = mono_ms();
    size_t cap = 0;
    struct dirent *ent;
    int rc = 0;
    while ((ent = readdir(d)) != NULL) {
        if (!jr_inbox_is_input(ent->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        entry_t *e = entry(self, ent->d_name, true);
        if (!e) {
            rc = -1;
            break;
        }
        e->seen = true;
        jr_inbox_stamp_t stamp;
        stamp_of(&st, &stamp);
        int wait;
        int why = waiting(self, e, &stamp, settle_ms, now, &wait);
        say(e, why);
        if (why != WAIT_NONE) {
            if (wait >= 0 && (*wait_ms < 0 || wait < *wait_ms))
                *wait_ms = wait;
            continue;
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
        if (!((*names)[*n] = strdup(ent->d_name))) {
            rc = -1;
            break;
        }
        (*n)++;
    }
    closedir(d);
    /* Files gone without an event (the watch lost them, or none is kept). */
    for (size_t i = 0; rc == 0 && i < self->n_entries;) {
        if (!self->entries[i].seen)
            forget(self, &self->entries[i]);
        else
            i++;
    }
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

int jr_inbox_hold(jr_inbox_t *self, const char *name, const jr_inbox_stamp_t *stamp, int wait_ms)
{
    entry_t *e = entry(self, name, true);
    if (!e) {
        errno = ENOMEM;
        return -1;
    }
    if (!same_stamp(&e->stamp, stamp)) {
        e->stamp = *stamp;
        e->since_ms = mono_ms();
    }
    e->held = true;
    e->held_until_ms = mono_ms() + wait_ms;
    e->said = WAIT_HELD;
    return 0;
}

int jr_inbox_writer(jr_inbox_t *self, const char *name)
{
    if (drain_events(self) != 0)
        return -1;
    entry_t *e = entry(self, name, false);
    if (e && e->ev == EV_WRITING)
        return 1;
    return lease_test(self->fd, name) == 1 ? 1 : 0;
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
