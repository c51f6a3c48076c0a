/*
 * fuzz_tzif.c — libFuzzer target for the TZif reader (trig_tz_parse).
 *
 * Input: the bytes of a time zone file.  Whatever is accepted must answer
 * consistently: offsets within ±26 h; trig_tz_local_to_utc(L) is the first
 * instant whose local time is L or later (so the instant before shows
 * less) and is monotone; trig_tz_local_reached() agrees with it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t local_at(const struct trig_tz *tz, int64_t t)
{
	return t + trig_tz_offset(tz, t, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct trig_tz *tz = trig_tz_parse(data, size, "fuzz", err, sizeof(err));
	if (!tz) {
		REQUIRE(err[0] != '\0');
		return 0;
	}
	/* probe instants: fixed ones and some taken from the input */
	int64_t probes[24] = { 0, -1, 1, 1000000000, 2000000000, 4000000000, -2000000000,
			       -4000000000, 2145916800, 2147483647, 2147483648, -2147483648 };
	size_t np = 12;
	for (size_t i = 0; i + 8 <= size && np < 24; i += 97) {
		uint64_t v;
		memcpy(&v, data + i, 8);
		probes[np++] = (int64_t)(v % (UINT64_C(1) << 41)) - (INT64_C(1) << 40);
	}
	int64_t prev_l = 0, prev_r = 0;
	for (size_t i = 0; i < np; i++) {
		for (int64_t d = -90000; d <= 90000; d += 15000) {
			int64_t t = probes[i] + d;
			int32_t off = trig_tz_offset(tz, t, NULL);
			REQUIRE(off >= -93599 && off <= 93599);
			/* local_to_utc: minimal instant showing t or later */
			int kind;
			int64_t r = trig_tz_local_to_utc(tz, t, &kind);
			REQUIRE(local_at(tz, r) >= t);
			REQUIRE(local_at(tz, r - 1) < t);
			REQUIRE(kind != TRIG_TZ_GAP || local_at(tz, r) > t);
			REQUIRE(kind == TRIG_TZ_GAP || local_at(tz, r) == t);
			if (d > -90000)
				REQUIRE(r >= prev_r && t > prev_l);
			prev_l = t;
			prev_r = r;
			/* local_reached: L > reached(t) iff f(L) > t */
			int64_t m = trig_tz_local_reached(tz, t);
			REQUIRE(m >= local_at(tz, t));
			REQUIRE(trig_tz_local_to_utc(tz, m, NULL) <= t);
			REQUIRE(trig_tz_local_to_utc(tz, m + 1, NULL) > t);
		}
	}
	trig_tz_free(tz);
	return 0;
}
