/*
 * log.h — the runtime's messages on stderr.
 *
 * Data goes to stdout; messages go here, as "PROG: level: message".  In
 * `serve` mode every line starts with an RFC 3339 UTC timestamp.  Messages
 * never contain secrets: callers log names of secrets, never values.
 */
#ifndef TRIG_LOG_H
#define TRIG_LOG_H

#include <stdbool.h>

enum trig_log_level { TRIG_LOG_ERROR, TRIG_LOG_WARN, TRIG_LOG_INFO, TRIG_LOG_DEBUG };

void trig_log_setup(const char *prog, enum trig_log_level level, bool timestamps);
void trig_log(enum trig_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define trig_error(...) trig_log(TRIG_LOG_ERROR, __VA_ARGS__)
#define trig_warn(...)  trig_log(TRIG_LOG_WARN, __VA_ARGS__)
#define trig_info(...)  trig_log(TRIG_LOG_INFO, __VA_ARGS__)
#define trig_debug(...) trig_log(TRIG_LOG_DEBUG, __VA_ARGS__)

#endif
