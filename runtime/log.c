/*
 * log.c — stderr messages, one write per line so threads do not interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "trig";
static enum trig_log_level log_level = TRIG_LOG_INFO;
static bool log_timestamps;

void trig_log_setup(const char *prog, enum trig_log_level level, bool timestamps)
{
	if (prog) {
		const char *slash = strrchr(prog, '/');
		log_prog = slash ? slash + 1 : prog;
	}
	log_level = level;
	log_timestamps = timestamps;
}

void trig_log(enum trig_log_level level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	if (level > log_level)
		return;
	char line[2048];
	size_t n = 0;
	if (log_timestamps) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n += strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
	}
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%s: %s: ", log_prog, names[level]);
	if (n < sizeof(line)) {
		va_list ap;
		va_start(ap, fmt);
		int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		if (m > 0)
			n += (size_t)m;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(2, line, n);
	(void)w;
}
