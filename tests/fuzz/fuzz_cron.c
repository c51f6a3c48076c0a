/*
 * fuzz_cron.c — libFuzzer target for the cron parser and next-fire search.
 *
 * Input: a cron expression.  A rejected one must come with a message and
 * a span inside the input.  An accepted one is asked whether it can fire
 * and for a few successive fire times in UTC and Europe/Helsinki from a
 * start derived from the input: they must increase, each must be a minute
 * of local time whose fields match (checked with gmtime_r, not our
 * calendar), or the end of a DST gap; and they exist iff can_fire says so.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "tz.h"

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool local_matches(const struct trig_cron *c, int64_t local)
{
	time_t t = (time_t)local;
	struct tm tm;
	REQUIRE(gmtime_r(&t, &tm) != NULL);
	if (!(c->minute >> tm.tm_min & 1) || !(c->hour >> tm.tm_hour & 1) ||
	    !(c->month >> (tm.tm_mon + 1) & 1))
		return false;
	bool dom = c->dom >> tm.tm_mday & 1, dow = c->dow >> tm.tm_wday & 1;
	if (c->flags & (TRIG_CRON_DOM_STAR | TRIG_CRON_DOW_STAR))
		return dom && dow;
	return dom || dow;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char expr[256];
	if (size >= sizeof(expr))
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';

	struct trig_cron c;
	struct trig_cron_error err;
	if (trig_cron_parse(expr, &c, &err) != 0) {
		REQUIRE(err.msg[0] != '\0');
		REQUIRE(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		REQUIRE((size_t)err.offset + err.len <= strlen(expr));
		return 0;
	}
	bool can = trig_cron_can_fire(&c);

	/* a start in 1900..2200 picked by the input */
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211u;
	int64_t start = -2208988800 + (int64_t)(h % 9467107200u);

	char e[256];
	const struct trig_tz *zones[2] = { NULL, trig_tz_get("Europe/Helsinki", e, sizeof(e)) };
	for (int z = 0; z < 2; z++) {
		if (z && !zones[z])
			continue;       /* no tzdata here */
		const struct trig_tz *tz = zones[z];
		int64_t t = start;
		for (int k = 0; k < 4; k++) {
			int64_t n = trig_cron_next(&c, tz, t);
			REQUIRE((n != TRIG_CRON_NEVER) == can);
			if (n == TRIG_CRON_NEVER)
				break;
			REQUIRE(n > t);
			int32_t off = trig_tz_offset(tz, n, NULL);
			bool gap_end = trig_tz_offset(tz, n - 1, NULL) < off;
			int64_t local = n + off;
			REQUIRE(gap_end || (local % 60 == 0 && local_matches(&c, local)));
			t = n;
		}
	}
	return 0;
}
