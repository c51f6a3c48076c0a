/*
 * test_timeutil.c — calendar arithmetic, RFC 3339, durations, sizes
 * (runtime/timeutil.c).
 *
 * The calendar is checked against glibc's timegm()/gmtime_r(); RFC 3339
 * parsing against timegm() on the same fields and against the published
 * examples of RFC 3339 §5.8; formatting and durations by round trips and
 * by independently computed values.
 */
#include "unit.h"

#include <string.h>
#include <time.h>

#include "timeutil.h"

#define CHECK(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

static uint64_t rng_state = 1;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int64_t rng_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

/* timegm() of a civil date: the oracle. */
static int64_t libc_timegm(int64_t y, int m, int d, int h, int mi, int s)
{
	struct tm tm = { 0 };
	tm.tm_year = (int)(y - 1900);
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

START_TEST(test_civil_vs_libc)
{
	/* years -100000..100000, and a dense stretch around the epoch */
	for (int i = 0; i < 200000; i++) {
		int64_t days = i < 100000 ? rng_range(-37000000, 37000000) : i - 150000;
		time_t t = (time_t)(days * 86400);
		struct tm tm;
		CHECK(gmtime_r(&t, &tm) != NULL, "gmtime_r");
		int64_t y;
		unsigned m, d;
		trig_civil_from_days(days, &y, &m, &d);
		CHECK(y == (int64_t)tm.tm_year + 1900 && m == (unsigned)tm.tm_mon + 1 &&
		      d == (unsigned)tm.tm_mday, "day %lld: %lld-%u-%u vs %d-%d-%d",
		      (long long)days, (long long)y, m, d, tm.tm_year + 1900, tm.tm_mon + 1,
		      tm.tm_mday);
		CHECK(trig_weekday(days) == (unsigned)tm.tm_wday, "weekday of %lld",
		      (long long)days);
		CHECK(trig_days_from_civil(y, m, d) == days, "round trip of %lld",
		      (long long)days);
	}
}
END_TEST

START_TEST(test_days_in_month)
{
	for (int64_t y = -800; y <= 2800; y++) {
		for (int m = 1; m <= 12; m++) {
			int64_t a = libc_timegm(y, m, 1, 0, 0, 0);
			int64_t b = m == 12 ? libc_timegm(y + 1, 1, 1, 0, 0, 0)
					    : libc_timegm(y, m + 1, 1, 0, 0, 0);
			CHECK(trig_days_in_month(y, (unsigned)m) == (unsigned)((b - a) / 86400),
			      "%lld-%d", (long long)y, m);
			CHECK(trig_days_from_civil(y, (unsigned)m, 1) * 86400 == a, "%lld-%d",
			      (long long)y, m);
		}
	}
	ck_assert_uint_eq(trig_days_in_month(2024, 0), 0);
	ck_assert_uint_eq(trig_days_in_month(2024, 13), 0);
	ck_assert_uint_eq(trig_days_in_month(1900, 2), 28);
	ck_assert_uint_eq(trig_days_in_month(2000, 2), 29);
	ck_assert_int_eq(trig_days_from_civil(1970, 1, 1), 0);
	ck_assert_uint_eq(trig_weekday(0), 4);          /* a Thursday */
	ck_assert_uint_eq(trig_weekday(-1), 3);
	/* extreme arguments stay defined (clamped) */
	int64_t y;
	unsigned m, d;
	trig_civil_from_days(INT64_MAX, &y, &m, &d);
	trig_civil_from_days(INT64_MIN, &y, &m, &d);
	ck_assert_int_lt(y, 0);
	ck_assert_int_gt(trig_days_from_civil(INT64_MAX, 12, 31), 0);
	ck_assert_int_lt(trig_days_from_civil(INT64_MIN, 1, 1), 0);
}
END_TEST

START_TEST(test_now)
{
	int64_t a = (int64_t)time(NULL) * 1000;
	int64_t n = trig_now_ms();
	int64_t b = (int64_t)time(NULL) * 1000 + 1000;
	ck_assert_int_ge(n, a);
	ck_assert_int_le(n, b);
}
END_TEST

/* ------------------------------------------------------------ RFC 3339 */

START_TEST(test_format_rfc3339)
{
	char buf[TRIG_RFC3339_MAX];
	ck_assert_uint_eq(trig_format_rfc3339(buf, INT64_C(1767312000000), 0), 20);
	ck_assert_str_eq(buf, "2026-01-02T00:00:00Z");
	ck_assert_uint_eq(trig_format_rfc3339(buf, INT64_C(1767312000004), 3), 24);
	ck_assert_str_eq(buf, "2026-01-02T00:00:00.004Z");
	trig_format_rfc3339(buf, INT64_C(1767312000994), 1);
	ck_assert_str_eq(buf, "2026-01-02T00:00:00.9Z");
	trig_format_rfc3339(buf, INT64_C(1767312000994), 2);
	ck_assert_str_eq(buf, "2026-01-02T00:00:00.99Z");
	trig_format_rfc3339(buf, INT64_C(1767312000994), 9);
	ck_assert_str_eq(buf, "2026-01-02T00:00:00.994Z");
	trig_format_rfc3339(buf, -1, 3);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
	trig_format_rfc3339(buf, INT64_C(-62167219200000), 0);
	ck_assert_str_eq(buf, "0000-01-01T00:00:00Z");
	trig_format_rfc3339(buf, INT64_C(253402300799999), 3);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59.999Z");
	ck_assert_uint_eq(trig_format_rfc3339(buf, INT64_C(253402300800000), 0), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(trig_format_rfc3339(buf, INT64_C(-62167219200001), 0), 0);
	ck_assert_uint_eq(trig_format_rfc3339(buf, INT64_MIN, 3), 0);

	/* against gmtime_r over years 0..9999 */
	for (int i = 0; i < 100000; i++) {
		int64_t ms = rng_range(INT64_C(-62167219200000), INT64_C(253402300799999));
		int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
		time_t t = (time_t)s;
		struct tm tm;
		CHECK(gmtime_r(&t, &tm) != NULL, "gmtime_r");
		char want[64];
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (int)(ms - s * 1000));
		size_t n = trig_format_rfc3339(buf, ms, 3);
		CHECK(n == strlen(want) && strcmp(buf, want) == 0, "%lld: %s vs %s",
		      (long long)ms, buf, want);
		int64_t back;
		CHECK(trig_parse_rfc3339(buf, &back) == 0 && back == ms, "round trip %s", buf);
		n = trig_format_rfc3339(buf, ms, 0);
		CHECK(n == 20 && trig_parse_rfc3339(buf, &back) == 0 && back == s * 1000,
		      "round trip %s", buf);
	}
}
END_TEST

static int64_t parse_ok(const char *s)
{
	int64_t ms = 12345;
	ck_assert_msg(trig_parse_rfc3339(s, &ms) == 0, "rejected '%s'", s);
	return ms;
}

START_TEST(test_parse_rfc3339)
{
	/* RFC 3339 §5.8 examples */
	ck_assert_int_eq(parse_ok("1985-04-12T23:20:50.52Z"),
			 libc_timegm(1985, 4, 12, 23, 20, 50) * 1000 + 520);
	ck_assert_int_eq(parse_ok("1996-12-19T16:39:57-08:00"),
			 libc_timegm(1996, 12, 20, 0, 39, 57) * 1000);
	ck_assert_int_eq(parse_ok("1990-12-31T23:59:60Z"),
			 libc_timegm(1990, 12, 31, 23, 59, 59) * 1000);
	ck_assert_int_eq(parse_ok("1990-12-31T15:59:60-08:00"),
			 libc_timegm(1990, 12, 31, 23, 59, 59) * 1000);
	ck_assert_int_eq(parse_ok("1937-01-01T12:00:27.87+00:20"),
			 libc_timegm(1937, 1, 1, 11, 40, 27) * 1000 + 870);
	/* variants */
	int64_t base = libc_timegm(2026, 1, 2, 3, 4, 5) * 1000;
	ck_assert_int_eq(parse_ok("2026-01-02T03:04:05Z"), base);
	ck_assert_int_eq(parse_ok("2026-01-02t03:04:05z"), base);
	ck_assert_int_eq(parse_ok("2026-01-02 03:04:05Z"), base);
	ck_assert_int_eq(parse_ok("2026-01-02T05:04:05+02:00"), base);
	ck_assert_int_eq(parse_ok("2026-01-02T03:04:05-00:00"), base);
	ck_assert_int_eq(parse_ok("2026-01-02T03:04:05.1Z"), base + 100);
	ck_assert_int_eq(parse_ok("2026-01-02T03:04:05.123456789Z"), base + 123);
	ck_assert_int_eq(parse_ok("2026-01-02T03:04:05.999999Z"), base + 999);
	ck_assert_int_eq(parse_ok("2026-01-02"), libc_timegm(2026, 1, 2, 0, 0, 0) * 1000);
	ck_assert_int_eq(parse_ok("2024-02-29T00:00:00Z"),
			 libc_timegm(2024, 2, 29, 0, 0, 0) * 1000);
	ck_assert_int_eq(parse_ok("0000-01-01T00:00:00Z"), INT64_C(-62167219200000));
	ck_assert_int_eq(parse_ok("9999-12-31T23:59:59.999Z"), INT64_C(253402300799999));
	ck_assert_int_eq(parse_ok("2016-12-31T23:59:60.5Z"),
			 libc_timegm(2016, 12, 31, 23, 59, 59) * 1000 + 500);

	static const char *const bad[] = {
		"", "2026", "2026-01", "2026-1-02", "2026-01-2", "26-01-02", "2026/01/02",
		"2026-00-10", "2026-13-10", "2026-01-00", "2026-01-32", "2025-02-29", "1900-02-29",
		"2026-04-31", "2026-01-02T", "2026-01-02T03:04Z", "2026-01-02T03:04:05",
		"2026-01-02T24:00:00Z", "2026-01-02T23:60:00Z", "2026-01-02T23:59:61Z",
		"2026-01-02T03:04:05.Z", "2026-01-02T03:04:05+0200", "2026-01-02T03:04:05+02",
		"2026-01-02T03:04:05+24:00", "2026-01-02T03:04:05+02:60", "2026-01-02T03:04:05ZZ",
		"2026-01-02T03:04:05Z ", " 2026-01-02T03:04:05Z", "2026-01-02X03:04:05Z",
		"2026-01-02  03:04:05Z", "2026-01-02T3:04:05Z", "+2026-01-02T03:04:05Z",
		"2026-01-02T03:04:05,5Z", "2026-01-02 ", "2026-01-02Z",
		"2026-06-30T12:00:60Z",         /* leap second not at the end of a UTC day */
		"1990-12-31T23:59:60+01:00",    /* = 22:59:60Z */
		"2026-01-02T03:04:05\xff",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 777;
		ck_assert_msg(trig_parse_rfc3339(bad[i], &ms) == -1, "accepted '%s'", bad[i]);
		ck_assert_int_eq(ms, 777);
	}
	int64_t ms;
	ck_assert_int_eq(trig_parse_rfc3339(NULL, &ms), -1);

	/* random fields with random offsets, against timegm */
	for (int i = 0; i < 50000; i++) {
		int y = (int)rng_range(0, 9999), mo = (int)rng_range(1, 12);
		int dim = (int)trig_days_in_month(y, (unsigned)mo);
		int d = (int)rng_range(1, dim), h = (int)rng_range(0, 23);
		int mi = (int)rng_range(0, 59), s = (int)rng_range(0, 59);
		int oh = (int)rng_range(0, 23), om = (int)rng_range(0, 59);
		int sign = rng() & 1 ? 1 : -1, frac = (int)rng_range(0, 999);
		char text[64];
		snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", y, mo,
			 d, h, mi, s, frac, sign > 0 ? '+' : '-', oh, om);
		int64_t want = (libc_timegm(y, mo, d, h, mi, s) - sign * (oh * 3600 + om * 60)) *
				       1000 + frac;
		CHECK(trig_parse_rfc3339(text, &ms) == 0 && ms == want, "%s", text);
	}
}
END_TEST

/* ------------------------------------------------------------ durations */

START_TEST(test_parse_duration)
{
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
		{ "500ms", 500 }, { "30s", 30000 }, { "5m", 300000 }, { "1h", 3600000 },
		{ "2d", 172800000 }, { "1h30m", 5400000 }, { "90s", 90000 }, { "0s", 0 },
		{ "0ms", 0 }, { "1d2h3m4s5ms", 93784005 }, { "2m500ms", 120500 },
		{ "007s", 7000 }, { "9223372036854775807ms", INT64_MAX },
		{ "106751991167d", INT64_C(106751991167) * 86400000 },
		{ "106751991167d7h12m55s807ms", INT64_MAX },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ms = -1;
		ck_assert_msg(trig_parse_duration(ok[i].s, &ms) == 0, "rejected '%s'", ok[i].s);
		ck_assert_int_eq(ms, ok[i].ms);
	}
	static const char *const bad[] = {
		"", "5", "s", "ms", "-5s", "+5s", "5 s", " 5s", "5s ", "1.5h", "5x", "5S", "5H",
		"1m1h", "1h1h", "30s1m", "1ms1s", "5mss", "5sm", "1h 30m", "1e3s", "0x10s",
		"9223372036854775808ms", "106751991168d", "106751991167d7h12m55s808ms",
		"99999999999999999999999s", "5us", "5ns", "1w", "5msec",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 777;
		ck_assert_msg(trig_parse_duration(bad[i], &ms) == -1, "accepted '%s'", bad[i]);
		ck_assert_int_eq(ms, 777);
	}
	int64_t ms;
	ck_assert_int_eq(trig_parse_duration(NULL, &ms), -1);
}
END_TEST

START_TEST(test_format_duration)
{
	static const struct {
		int64_t ms;
		const char *s;
	} cases[] = {
		{ 90000, "1m30s" }, { 3600000, "1h" }, { 0, "0s" }, { 1, "1ms" },
		{ 1500, "1s500ms" }, { 86400000, "1d" }, { 90000000, "1d1h" },
		{ 93784005, "1d2h3m4s5ms" }, { -90000, "-1m30s" },
		{ INT64_MAX, "106751991167d7h12m55s807ms" },
		{ INT64_MIN, "-106751991167d7h12m55s808ms" },
	};
	char buf[32];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = trig_format_duration(buf, sizeof(buf), cases[i].ms);
		ck_assert_str_eq(buf, cases[i].s);
		ck_assert_uint_eq(n, strlen(cases[i].s));
	}
	/* truncation reports the full length, as snprintf does */
	ck_assert_uint_eq(trig_format_duration(buf, 4, 93784005), 11);
	ck_assert_str_eq(buf, "1d2");
	ck_assert_uint_eq(trig_format_duration(NULL, 0, 90000), 5);

	/* round trips; the parts are those of plain division */
	for (int i = 0; i < 200000; i++) {
		int64_t ms = (int64_t)(rng() >> (rng() % 64));
		if (ms < 0)
			ms = -(ms + 1);
		trig_format_duration(buf, sizeof(buf), ms);
		int64_t back;
		CHECK(trig_parse_duration(buf, &back) == 0 && back == ms, "%lld -> %s",
		      (long long)ms, buf);
		char want[64], *p = want;
		int64_t d = ms / 86400000, h = ms / 3600000 % 24, m = ms / 60000 % 60;
		int64_t s = ms / 1000 % 60, r = ms % 1000;
		if (d)
			p += sprintf(p, "%lldd", (long long)d);
		if (h)
			p += sprintf(p, "%lldh", (long long)h);
		if (m)
			p += sprintf(p, "%lldm", (long long)m);
		if (s)
			p += sprintf(p, "%llds", (long long)s);
		if (r)
			p += sprintf(p, "%lldms", (long long)r);
		if (p == want)
			strcpy(want, "0s");
		CHECK(strcmp(buf, want) == 0, "%lld: %s vs %s", (long long)ms, buf, want);
	}
}
END_TEST

/* ------------------------------------------------------------ sizes */

START_TEST(test_parse_size)
{
	static const struct {
		const char *s;
		uint64_t n;
	} ok[] = {
		{ "1048576", 1048576 }, { "0", 0 }, { "512B", 512 }, { "1KiB", 1024 },
		{ "1MiB", 1048576 }, { "1GiB", UINT64_C(1073741824) },
		{ "2TiB", UINT64_C(2199023255552) }, { "1KB", 1000 }, { "1kB", 1000 },
		{ "1MB", 1000000 }, { "3GB", UINT64_C(3000000000) },
		{ "1TB", UINT64_C(1000000000000) }, { "18446744073709551615", UINT64_MAX },
		{ "18446744073709551615B", UINT64_MAX },
		{ "16777215TiB", UINT64_C(16777215) << 40 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t n = 7;
		ck_assert_msg(trig_parse_size(ok[i].s, &n) == 0, "rejected '%s'", ok[i].s);
		ck_assert_msg(n == ok[i].n, "%s", ok[i].s);
	}
	static const char *const bad[] = {
		"", "B", "MiB", "-1", "+1", "1.5MiB", "1 MiB", " 1", "1 ", "1mib", "1MIB", "1Mi",
		"1kiB", "1K", "1M", "1b", "1PiB", "18446744073709551616", "16777216TiB",
		"18446744073709551616B", "20000000TB", "0x10", "1MiBB",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t n = 7;
		ck_assert_msg(trig_parse_size(bad[i], &n) == -1, "accepted '%s'", bad[i]);
		ck_assert_uint_eq(n, 7);
	}
	uint64_t n;
	ck_assert_int_eq(trig_parse_size(NULL, &n), -1);
}
END_TEST

static Suite *timeutil_suite(void)
{
	Suite *s = suite_create("timeutil");
	TCase *tc = tcase_create("calendar");
	tcase_add_test(tc, test_civil_vs_libc);
	tcase_add_test(tc, test_days_in_month);
	tcase_add_test(tc, test_now);
	suite_add_tcase(s, tc);
	tc = tcase_create("rfc3339");
	tcase_add_test(tc, test_format_rfc3339);
	tcase_add_test(tc, test_parse_rfc3339);
	suite_add_tcase(s, tc);
	tc = tcase_create("duration");
	tcase_add_test(tc, test_parse_duration);
	tcase_add_test(tc, test_format_duration);
	tcase_add_test(tc, test_parse_size);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(timeutil_suite)
