/* durable.c -- see durable.h. */
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int jr_durable_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    errno = err;
    return rc;
}

static int join(char *out, const char *dir, const char *name, const char *suffix)
{
    int n = snprintf(out, PATH_MAX, "%s/%s%s", dir, name, suffix);
    if (n < 0 || n >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int jr_durable_write(const char *dir, const char *name, const void *data, size_t len)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    if (join(tmp, dir, name, ".tmp") < 0 || join(path, dir, name, "") < 0)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    return jr_durable_sync_dir(dir);
fail:;
    int err = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = err;
    return -1;
}

int jr_durable_move(const char *from_dir, const char *from_name, const char *to_dir,
                    const char *to_name)
{
    char from[PATH_MAX], to[PATH_MAX];
    if (join(from, from_dir, from_name, "") < 0 || join(to, to_dir, to_name, "") < 0)
        return -1;
    if (rename(from, to) != 0)
        return -1;
    /* The new entry first: should the second sync not happen, the file
     * shows in both places rather than in neither. */
    if (jr_durable_sync_dir(to_dir) != 0)
        return -1;
    return jr_durable_sync_dir(from_dir);
}

int jr_durable_remove(const char *dir, const char *name)
{
    char path[PATH_MAX];
    if (join(path, dir, name, "") < 0)
        return -1;
    if (unlink(path) != 0 && errno != ENOENT)
        return -1;
    return jr_durable_sync_dir(dir);
}

int jr_durable_mkdirs(const char *path, unsigned mode)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
            return -1;
        *p = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}
