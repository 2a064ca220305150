/* replay.c -- runs every file of corpus directories through the fuzz
 * target's checks, so that ordinary (gcc, sanitizer) builds exercise what
 * fuzzing found.
 *
 *   replay DIR...
 *
 * Inputs run in name order. An input fails when it misbehaves, as
 * fuzz_envelope.c defines it (the decoder gives neither success nor a reason
 * code, an accepted event breaks its own invariants, the ack or the record
 * cannot be packed and read back, ...), and when it cannot be read: each
 * failing input is named on standard error with what went wrong. The last
 * line on standard output counts them:
 *
 *   replay: 212 inputs, 212 passed, 0 failed
 *
 * Exit status 0 when at least one input ran and none failed, 1 otherwise.
 * A crash, or a report of AddressSanitizer or UndefinedBehaviorSanitizer
 * (built with -fno-sanitize-recover), ends the run at once: the input it
 * happened on is named on standard error first. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_envelope.h"

/* Present only in sanitizer builds: called when a sanitizer ends the run. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static char g_current[4096]; /* the input being run, for a death notice */

static void name_current(void)
{
    static const char prefix[] = "replay: the run ended on input ";
    if (write(STDERR_FILENO, prefix, sizeof prefix - 1) < 0 ||
        write(STDERR_FILENO, g_current, strlen(g_current)) < 0 ||
        write(STDERR_FILENO, "\n", 1) < 0) {
        /* nothing more can be done in a dying process */
    }
}

static void on_crash(int sig)
{
    name_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Names the input when the run dies on it. A sanitizer has its own
 * handlers, which must stay: it says, through the callback. */
static void watch_deaths(void)
{
    if (__sanitizer_set_death_callback != NULL) {
        __sanitizer_set_death_callback(name_current);
        return;
    }
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on_crash);
}

/* The whole file in *buf (caller frees): 0, or -1 with errno. */
static int read_all(const char *path, uint8_t **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    int err = 0;
    if (fstat(fd, &st) != 0)
        err = errno;
    else if (!S_ISREG(st.st_mode))
        err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    *len = err ? 0 : (size_t)st.st_size;
    *buf = err ? NULL : malloc(*len ? *len : 1);
    if (!err && *buf == NULL)
        err = ENOMEM;
    for (size_t got = 0; !err && got < *len;) {
        ssize_t r = read(fd, *buf + got, *len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            err = r < 0 ? errno : EIO; /* shorter than it said */
        else
            got += (size_t)r;
    }
    close(fd);
    if (err) {
        free(*buf);
        *buf = NULL;
        errno = err;
        return -1;
    }
    return 0;
}

static int not_hidden(const struct dirent *de)
{
    return de->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    size_t ran = 0, failed = 0;
    int trouble = 0;
    watch_deaths();
    for (int a = 1; a < argc; a++) {
        struct dirent **names;
        int n = scandir(argv[a], &names, not_hidden, alphasort);
        if (n < 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[a], strerror(errno));
            trouble = 1;
            continue;
        }
        for (int i = 0; i < n; i++) {
            snprintf(g_current, sizeof g_current, "%s/%s", argv[a], names[i]->d_name);
            free(names[i]);
            uint8_t *buf = NULL;
            size_t len = 0;
            char why[256];
            ran++;
            if (read_all(g_current, &buf, &len) != 0) {
                fprintf(stderr, "replay: %s: cannot be read: %s\n", g_current, strerror(errno));
                failed++;
                continue;
            }
            if (fuzz_envelope_check(buf, len, why, sizeof why) != 0) {
                fprintf(stderr, "replay: %s: %s\n", g_current, why);
                failed++;
            }
            free(buf);
        }
        free(names);
    }
    printf("replay: %zu inputs, %zu passed, %zu failed\n", ran, ran - failed, failed);
    return ran > 0 && failed == 0 && !trouble ? 0 : 1;
}
