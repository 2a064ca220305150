/* log.h -- one log function, to stderr, with level and component.
 *
 * Lines carry the sd-daemon "<N>" priority prefix so that the journal keeps
 * the level when running under systemd; when stderr is a terminal the prefix
 * is replaced by a readable level name. Repeated messages can be rate-limited
 * with jr_log_limited(). */
#ifndef JR_LOG_H
#define JR_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    JR_LOG_ERR = 3,
    JR_LOG_WARNING = 4,
    JR_LOG_NOTICE = 5,
    JR_LOG_INFO = 6,
    JR_LOG_DEBUG = 7,
} jr_log_level_t;

/* Messages above this level are dropped. */
void jr_log_set_level(jr_log_level_t level);

/* "err", "warning", "notice", "info", "debug" -> level; -1 if unknown. */
int jr_log_level_from_name(const char *name);

void jr_log(jr_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A rate limiter for one kind of repeated message: logs at most once per
 * interval and says how many were suppressed. */
typedef struct {
    int64_t interval_ms;
    int64_t last_ms;
    uint64_t suppressed;
} jr_log_limit_t;

void jr_log_limited(jr_log_limit_t *limit, jr_log_level_t level, const char *component,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
