/* log.c -- see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic jr_log_level_t g_level = JR_LOG_INFO; /* set by the loop, read by every thread */

static const char *const g_names[] = {
    [JR_LOG_ERR] = "err",   [JR_LOG_WARNING] = "warning", [JR_LOG_NOTICE] = "notice",
    [JR_LOG_INFO] = "info", [JR_LOG_DEBUG] = "debug",
};

void jr_log_set_level(jr_log_level_t level)
{
    g_level = level;
}

int jr_log_level_from_name(const char *name)
{
    for (int i = JR_LOG_ERR; i <= JR_LOG_DEBUG; i++) {
        if (strcmp(name, g_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static void vlog(jr_log_level_t level, const char *component, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vlog(jr_log_level_t level, const char *component, const char *fmt, va_list ap)
{
    char line[2048];
    int n;
    if (isatty(STDERR_FILENO)) {
        n = snprintf(line, sizeof line, "%-7s %s: ", g_names[level], component);
    } else {
        n = snprintf(line, sizeof line, "<%d>%s: ", (int)level, component);
    }
    if (n < 0 || (size_t)n >= sizeof line) {
        return;
    }
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (m < 0) {
        return;
    }
    size_t len = strlen(line);
    if (len + 1 < sizeof line) {
        line[len++] = '\n';
    } else {
        line[sizeof line - 2] = '\n';
        len = sizeof line - 1;
    }
    /* One write per line keeps lines whole when several processes share stderr. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void jr_log(jr_log_level_t level, const char *component, const char *fmt, ...)
{
    if (level > g_level) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vlog(level, component, fmt, ap);
    va_end(ap);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void jr_log_limited(jr_log_limit_t *limit, jr_log_level_t level, const char *component,
                    const char *fmt, ...)
{
    if (level > g_level) {
        return;
    }
    int64_t now = now_ms();
    if (limit->last_ms != 0 && now - limit->last_ms < limit->interval_ms) {
        limit->suppressed++;
        return;
    }
    if (limit->suppressed > 0) {
        jr_log(level, component, "(%llu similar messages suppressed)",
               (unsigned long long)limit->suppressed);
        limit->suppressed = 0;
    }
    limit->last_ms = now;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, component, fmt, ap);
    va_end(ap);
}
