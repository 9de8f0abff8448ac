/* log.h - one line per event: time, level, request/connection id, message.
 * Never pass a key, password or token to these functions. */
#ifndef DS_LOG_H
#define DS_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level lvl);
int log_parse_level(const char *s, log_level *out); /* 0 ok, -1 unknown */
/* Per-thread context id printed on each line ("req-12", "pg-3"); NULL clears it. */
void log_set_context(const char *id);
void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
