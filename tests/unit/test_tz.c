/*
 * test_tz.c — time zones (runtime/tz.c) checked against glibc.
 *
 * glibc's localtime_r() (TZ set in the test process only) is the oracle
 * for UTC offsets and abbreviations, over random instants 1900..2200 and at
 * every transition glibc shows in that range (found by scanning and
 * bisecting, so the test does not trust our own reading of the file).
 * POSIX TZ rules are checked against glibc reading the same rule from the
 * TZ variable.  The TZif parser is fed hand-built and damaged files.
 */
#include "unit.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "timeutil.h"
#include "tz.h"

#define T1900 INT64_C(-2208988800)
#define T2200 INT64_C(7258118400)

static const char *const zones[] = {
	"Europe/Helsinki", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
	"America/Sao_Paulo", "Pacific/Apia", "Africa/Casablanca", "America/Nuuk", "UTC",
};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

/* An assertion for hot loops: Check's ck_assert_* write to a pipe each
 * time they pass, which dominates loops of a million checks. */
#define CHECK(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

static uint64_t rng_state;

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

/* The oracle: glibc with TZ set. */
static void glibc_zone(const char *tz)
{
	ck_assert_int_eq(setenv("TZ", tz, 1), 0);
	tzset();
}

static long glibc_off(int64_t t, const char **abbr)
{
	time_t tt = (time_t)t;
	struct tm tm;
	CHECK(localtime_r(&tt, &tm) != NULL, "localtime_r failed at %lld", (long long)t);
	if (abbr)
		*abbr = tm.tm_zone;
	return tm.tm_gmtoff;
}

static const struct trig_tz *zone(const char *name)
{
	char err[256];
	const struct trig_tz *tz = trig_tz_get(name, err, sizeof(err));
	ck_assert_msg(tz != NULL, "%s", err);
	return tz;
}

START_TEST(test_offsets_random)
{
	const char *name = zones[_i];
	const struct trig_tz *tz = zone(name);
	glibc_zone(name);
	rng_state = 42 + (uint64_t)_i;
	for (int i = 0; i < 20000; i++) {
		int64_t t = rng_range(T1900, T2200);
		const char *ga, *ta;
		long go = glibc_off(t, &ga);
		int32_t to = trig_tz_offset(tz, t, &ta);
		CHECK(go == to, "%s at %lld: glibc %ld, trig %d", name, (long long)t, go, (int)to);
		CHECK(strcmp(ga, ta) == 0, "%s at %lld: glibc %s, trig %s", name, (long long)t, ga,
		      ta);
	}
}
END_TEST

/* local_to_utc on random local times that the clock does show. */
START_TEST(test_local_to_utc_random)
{
	const char *name = zones[_i];
	const struct trig_tz *tz = zone(name);
	glibc_zone(name);
	rng_state = 4242 + (uint64_t)_i;
	for (int i = 0; i < 20000; i++) {
		int64_t t = rng_range(T1900, T2200);
		int64_t local = t + glibc_off(t, NULL);
		int kind;
		int64_t r = trig_tz_local_to_utc(tz, local, &kind);
		CHECK(r + glibc_off(r, NULL) == local, "%s: %lld does not show %lld", name,
		      (long long)r, (long long)local);
		CHECK(r <= t, "%s: %lld > %lld", name, (long long)r, (long long)t);
		if (kind == TRIG_TZ_NORMAL)
			CHECK(r == t, "%s: local %lld: %lld != %lld", name, (long long)local,
			      (long long)r, (long long)t);
		else
			CHECK(kind == TRIG_TZ_FOLD, "%s: kind %d", name, kind);
	}
}
END_TEST

struct transition {
	int64_t t;
	long before, after;
};

/* Every change of UTC offset glibc shows in [lo, hi), scanning in
 * 6-hour steps and bisecting to the second. */
static size_t glibc_transitions(int64_t lo, int64_t hi, struct transition *out, size_t max)
{
	size_t n = 0;
	long prev = glibc_off(lo, NULL);
	for (int64_t t = lo + 21600; t < hi; t += 21600) {
		long cur = glibc_off(t, NULL);
		if (cur == prev)
			continue;
		int64_t a = t - 21600, b = t;   /* off(a) == prev, off(b) != prev */
		while (b - a > 1) {
			int64_t m = a + (b - a) / 2;
			if (glibc_off(m, NULL) == prev)
				a = m;
			else
				b = m;
		}
		ck_assert_uint_lt(n, max);
		out[n++] = (struct transition){ b, prev, glibc_off(b, NULL) };
		prev = cur;
	}
	return n;
}

static struct transition trans_buf[4096];

START_TEST(test_transitions)
{
	const char *name = zones[_i];
	const struct trig_tz *tz = zone(name);
	glibc_zone(name);
	size_t n = glibc_transitions(T1900, T2200, trans_buf, 4096);
	if (strcmp(name, "UTC") != 0)
		ck_assert_uint_ge(n, 2);        /* Kathmandu has just two */
	int kind;
	for (size_t i = 0; i < n; i++) {
		const struct transition *tr = &trans_buf[i];
		int64_t T = tr->t;
		long o1 = tr->before, o2 = tr->after;
		ck_assert_msg(trig_tz_offset(tz, T - 1, NULL) == o1, "%s before %lld", name,
			      (long long)T);
		ck_assert_msg(trig_tz_offset(tz, T, NULL) == o2, "%s at %lld", name, (long long)T);
		/* Local-time checks need the neighbours more than 2 days away. */
		if ((i > 0 && T - trans_buf[i - 1].t < 172800) ||
		    (i + 1 < n && trans_buf[i + 1].t - T < 172800))
			continue;
		if (o2 > o1) {          /* gap: [T + o1, T + o2) is never shown */
			ck_assert_int_eq(trig_tz_local_to_utc(tz, T + o1 - 1, &kind), T - 1);
			ck_assert_int_eq(kind, TRIG_TZ_NORMAL);
			int64_t probes[3] = { T + o1, T + (o1 + o2) / 2, T + o2 - 1 };
			for (int k = 0; k < 3; k++) {
				ck_assert_msg(trig_tz_local_to_utc(tz, probes[k], &kind) == T,
					      "%s gap at %lld", name, (long long)T);
				ck_assert_int_eq(kind, TRIG_TZ_GAP);
			}
			ck_assert_int_eq(trig_tz_local_to_utc(tz, T + o2, &kind), T);
			ck_assert_int_eq(kind, TRIG_TZ_NORMAL);
			ck_assert_int_eq(trig_tz_local_reached(tz, T - 1), T - 1 + o1);
			ck_assert_int_eq(trig_tz_local_reached(tz, T), T + o2);
		} else {                /* fold: [T + o2, T + o1) is shown twice */
			int64_t probes[3] = { T + o2, T + (o1 + o2) / 2, T + o1 - 1 };
			for (int k = 0; k < 3; k++) {
				ck_assert_msg(trig_tz_local_to_utc(tz, probes[k], &kind) ==
						      probes[k] - o1,
					      "%s fold at %lld", name, (long long)T);
				ck_assert_int_eq(kind, TRIG_TZ_FOLD);
			}
			ck_assert_int_eq(trig_tz_local_to_utc(tz, T + o1, &kind), T + o1 - o2);
			ck_assert_int_eq(kind, TRIG_TZ_NORMAL);
			ck_assert_int_eq(trig_tz_local_to_utc(tz, T + o2 - 1, &kind),
					 T + o2 - 1 - o1);
			ck_assert_int_eq(kind, TRIG_TZ_NORMAL);
			/* the clock has shown T + o1 - 1 until it catches up */
			ck_assert_int_eq(trig_tz_local_reached(tz, T), T + o1 - 1);
			ck_assert_int_eq(trig_tz_local_reached(tz, T + (o1 - o2) - 1), T + o1 - 1);
			ck_assert_int_eq(trig_tz_local_reached(tz, T + (o1 - o2)), T + o1);
		}
	}
}
END_TEST

/* The defining property of local_to_utc, brute force on a window around
 * each transition: f(L) = the first instant showing L or later. */
START_TEST(test_local_to_utc_bruteforce)
{
	static const char *const z[] = { "Europe/Helsinki", "Australia/Lord_Howe",
					  "Pacific/Apia", "America/Nuuk" };
	const char *name = z[_i];
	const struct trig_tz *tz = zone(name);
	glibc_zone(name);
	/* 2011..2013 covers Apia's skipped day; 2030..2045 the rule era. */
	int64_t ranges[2][2] = { { 1293840000, 1388534400 }, { 1893456000, 2366841600 } };
	size_t total = 0;
	for (int r = 0; r < 2; r++) {
		size_t n = glibc_transitions(ranges[r][0], ranges[r][1], trans_buf, 4096);
		total += n;
		for (size_t i = 0; i < n; i++) {
			int64_t T = trans_buf[i].t;
			/* Every minute of local time 26 h around T.  These zones
			 * change on whole minutes by whole minutes here, so
			 * the first instant showing L or later is a minute too. */
			int64_t t = T - 2 * 93600;
			for (int64_t L = T - 93600; L < T + 93600; L += 60) {
				while (t + glibc_off(t, NULL) < L)
					t += 60;        /* t only grows: f is monotone */
				int64_t got = trig_tz_local_to_utc(tz, L, NULL);
				CHECK(got == t, "%s: local %lld: trig %lld, brute %lld", name,
				      (long long)L, (long long)got, (long long)t);
			}
		}
	}
	ck_assert_uint_gt(total, 0);
}
END_TEST

/* ------------------------------------------------------------ TZif building */

struct tzb {
	unsigned char d[8192];
	size_t n;
};

static void b_bytes(struct tzb *b, const void *p, size_t n)
{
	ck_assert_uint_le(b->n + n, sizeof(b->d));
	if (n)                  /* p may be NULL then */
		memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void b_u32(struct tzb *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };
	b_bytes(b, x, 4);
}

static void b_u64(struct tzb *b, uint64_t v)
{
	b_u32(b, (uint32_t)(v >> 32));
	b_u32(b, (uint32_t)v);
}

static void b_header(struct tzb *b, char version, uint32_t isut, uint32_t isstd, uint32_t leap,
		     uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
	b_bytes(b, "TZif", 4);
	b_bytes(b, &version, 1);
	static const unsigned char zero[15];
	b_bytes(b, zero, 15);
	b_u32(b, isut);
	b_u32(b, isstd);
	b_u32(b, leap);
	b_u32(b, timecnt);
	b_u32(b, typecnt);
	b_u32(b, charcnt);
}

struct tzspec {
	size_t ntrans;
	const int64_t *trans;
	const uint8_t *idx;
	size_t ntypes;
	const int32_t *utoff;
	const uint8_t *isdst;
	const uint8_t *abbr;
	const char *chars;
	size_t nchars;
	const char *footer;
};

/* A version 2 file: an empty v1 block, then the 64-bit data and footer. */
static void build_v2(struct tzb *b, const struct tzspec *s)
{
	b->n = 0;
	b_header(b, '2', 0, 0, 0, 0, 0, 0);
	b_header(b, '2', 0, 0, 0, (uint32_t)s->ntrans, (uint32_t)s->ntypes,
		 (uint32_t)s->nchars);
	for (size_t i = 0; i < s->ntrans; i++)
		b_u64(b, (uint64_t)s->trans[i]);
	b_bytes(b, s->idx, s->ntrans);
	for (size_t i = 0; i < s->ntypes; i++) {
		b_u32(b, (uint32_t)s->utoff[i]);
		b_bytes(b, &s->isdst[i], 1);
		b_bytes(b, &s->abbr[i], 1);
	}
	b_bytes(b, s->chars, s->nchars);
	b_bytes(b, "\n", 1);
	b_bytes(b, s->footer, strlen(s->footer));
	b_bytes(b, "\n", 1);
}

static struct trig_tz *rule_zone(const char *footer)
{
	static const int32_t off[1] = { 0 };
	static const uint8_t zero[1] = { 0 };
	struct tzspec s = { 0, NULL, NULL, 1, off, zero, zero, "XXX", 4, footer };
	struct tzb b;
	char err[200];
	build_v2(&b, &s);
	struct trig_tz *tz = trig_tz_parse(b.d, b.n, footer, err, sizeof(err));
	ck_assert_msg(tz != NULL, "%s: %s", footer, err);
	return tz;
}

/* POSIX rules alone (no transitions), against glibc reading the same rule
 * from TZ.  glibc computes rules for years before 1970 as if they were
 * 1970, so earlier instants are compared with glibc 400 years later: the
 * Gregorian calendar, and with it any rule, repeats every 400 years. */
START_TEST(test_posix_rules)
{
	static const char *const rules[] = {
		"EST5EDT,M3.2.0,M11.1.0",
		"EET-2EEST,M3.5.0/3,M10.5.0/4",
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
		"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",              /* v3: negative time */
		"CET-1CEST,J60/2,J300/3",
		"WET0WEST,M3.5.0/1,M10.5.0",
		"AAA-5:45BBB-6:15:30,M1.5.6/167,M12.1.0/-167",  /* v3: +-167 h */
		"<+0545>-5:45",
		"NZST-12NZDT,M9.5.0,M4.1.0/3",
	};
	const char *name = rules[_i];
	struct trig_tz *tz = rule_zone(name);
	glibc_zone(name);
	rng_state = 7 + (uint64_t)_i;
	const int64_t cycle = INT64_C(146097) * 86400;
	for (int i = 0; i < 20000; i++) {
		int64_t t = rng_range(T1900, T2200);
		long go = glibc_off(t < 0 ? t + cycle : t, NULL);
		CHECK(go == trig_tz_offset(tz, t, NULL), "%s at %lld: glibc %ld trig %d", name,
		      (long long)t, go, (int)trig_tz_offset(tz, t, NULL));
	}
	size_t n = glibc_transitions(INT64_C(946684800), INT64_C(1262304000), trans_buf, 4096);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(trig_tz_offset(tz, trans_buf[i].t - 1, NULL), trans_buf[i].before);
		ck_assert_int_eq(trig_tz_offset(tz, trans_buf[i].t, NULL), trans_buf[i].after);
	}
	trig_tz_free(tz);
}
END_TEST

/* RFC 8536 §3.3.1: DST all year (glibc does not special-case this). */
START_TEST(test_posix_dst_all_year)
{
	struct trig_tz *tz = rule_zone("EST5EDT,0/0,J365/25");
	rng_state = 99;
	for (int i = 0; i < 20000; i++) {
		int64_t t = rng_range(T1900, T2200);
		const char *ab;
		CHECK(trig_tz_offset(tz, t, &ab) == -4 * 3600 && strcmp(ab, "EDT") == 0,
		      "at %lld", (long long)t);
	}
	/* no gaps or folds: local time is utc - 4 h everywhere */
	int kind;
	for (int64_t L = INT64_C(1767225600) - 3 * 86400; L < INT64_C(1767225600) + 3 * 86400;
	     L += 600) {
		ck_assert_int_eq(trig_tz_local_to_utc(tz, L, &kind), L + 4 * 3600);
		ck_assert_int_eq(kind, TRIG_TZ_NORMAL);
	}
	trig_tz_free(tz);
}
END_TEST

/* Changes that cross a UTC year boundary, derived by hand (glibc looks
 * only at the rules of the instant's UTC year, so it cannot be the oracle
 * here).  "XXX3YYY,0/0,364/23": DST (-2 h) from Jan 1 00:00 standard time
 * (03:00Z) to day 364 (0-based, counting Feb 29) at 23:00 DST. */
START_TEST(test_posix_year_boundary)
{
	struct trig_tz *tz = rule_zone("XXX3YYY,0/0,364/23");
	int64_t jan1_2186, dec31_2184;
	ck_assert_int_eq(trig_parse_rfc3339("2186-01-01", &jan1_2186), 0);
	ck_assert_int_eq(trig_parse_rfc3339("2184-12-31", &dec31_2184), 0);
	jan1_2186 /= 1000;
	dec31_2184 /= 1000;
	/* 2185 is common: day 364 is Dec 31, so DST ends 2186-01-01T01:00Z */
	ck_assert_int_eq(trig_tz_offset(tz, jan1_2186 + 3599, NULL), -7200);
	ck_assert_int_eq(trig_tz_offset(tz, jan1_2186 + 3600, NULL), -10800);
	ck_assert_int_eq(trig_tz_offset(tz, jan1_2186 + 3 * 3600 - 1, NULL), -10800);
	ck_assert_int_eq(trig_tz_offset(tz, jan1_2186 + 3 * 3600, NULL), -7200);
	/* 2184 is leap: day 364 is Dec 30, DST ends Dec 31 01:00Z; starts
	 * again 2185-01-01T03:00Z */
	ck_assert_int_eq(trig_tz_offset(tz, dec31_2184 + 3599, NULL), -7200);
	ck_assert_int_eq(trig_tz_offset(tz, dec31_2184 + 3600, NULL), -10800);
	ck_assert_int_eq(trig_tz_offset(tz, dec31_2184 + 86400 + 3 * 3600 - 1, NULL), -10800);
	ck_assert_int_eq(trig_tz_offset(tz, dec31_2184 + 86400 + 3 * 3600, NULL), -7200);
	/* the fold: local 2185-12-31T22:00..23:00 shows twice; 22:30 first
	 * shows at 00:30Z, still on DST */
	int kind;
	ck_assert_int_eq(trig_tz_local_to_utc(tz, jan1_2186 - 5400, &kind), jan1_2186 + 1800);
	ck_assert_int_eq(kind, TRIG_TZ_FOLD);
	/* the gap: local 2186-01-01T00:00..01:00 never shows */
	ck_assert_int_eq(trig_tz_local_to_utc(tz, jan1_2186 + 1800, &kind), jan1_2186 + 3 * 3600);
	ck_assert_int_eq(kind, TRIG_TZ_GAP);
	trig_tz_free(tz);
}
END_TEST

/* A version 1 file (32-bit data, no footer) cut from the real one. */
START_TEST(test_v1_file)
{
	FILE *f = fopen("/usr/share/zoneinfo/America/New_York", "rb");
	ck_assert_ptr_nonnull(f);
	static unsigned char d[1 << 16];
	size_t n = fread(d, 1, sizeof(d), f);
	fclose(f);
	ck_assert_uint_gt(n, 44);
	uint32_t c[6];
	for (int i = 0; i < 6; i++)
		c[i] = (uint32_t)d[20 + 4 * i] << 24 | (uint32_t)d[21 + 4 * i] << 16 |
		       (uint32_t)d[22 + 4 * i] << 8 | d[23 + 4 * i];
	size_t v1 = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
	ck_assert_uint_gt(c[3], 100);
	d[4] = 0;               /* version 1 */
	char err[200];
	struct trig_tz *tz = trig_tz_parse(d, v1, "v1", err, sizeof(err));
	ck_assert_msg(tz != NULL, "%s", err);
	glibc_zone("America/New_York");
	rng_state = 1;
	for (int i = 0; i < 5000; i++) {
		int64_t t = rng_range(INT32_MIN + INT64_C(86400), INT32_MAX);
		CHECK(trig_tz_offset(tz, t, NULL) == glibc_off(t, NULL), "at %lld", (long long)t);
	}
	/* after the last 32-bit transition: the last type, no rule */
	ck_assert_int_eq(trig_tz_offset(tz, INT64_C(4102444800) + 180 * 86400, NULL), -5 * 3600);
	trig_tz_free(tz);
}
END_TEST

static void expect_corrupt(const struct tzb *b, const char *what)
{
	char err[200] = "";
	struct trig_tz *tz = trig_tz_parse(b->d, b->n, "x", err, sizeof(err));
	ck_assert_msg(tz == NULL, "accepted: %s", what);
	ck_assert_msg(strstr(err, what) != NULL, "'%s' lacks '%s'", err, what);
}

START_TEST(test_corrupt)
{
	static const int64_t trans[2] = { 1000, 2000 };
	static const uint8_t idx[2] = { 1, 0 };
	static const int32_t off[2] = { 3600, 7200 };
	static const uint8_t dst[2] = { 0, 1 };
	static const uint8_t ab[2] = { 0, 4 };
	struct tzspec ok = { 2, trans, idx, 2, off, dst, ab, "AAA\0BBB", 8, "AAA-1" };
	struct tzb b;
	char err[200];

	build_v2(&b, &ok);
	struct trig_tz *tz = trig_tz_parse(b.d, b.n, "ok", err, sizeof(err));
	ck_assert_msg(tz != NULL, "%s", err);
	const char *abbr;
	ck_assert_int_eq(trig_tz_offset(tz, 999, &abbr), 3600);
	ck_assert_str_eq(abbr, "AAA");
	ck_assert_int_eq(trig_tz_offset(tz, 1000, &abbr), 7200);
	ck_assert_str_eq(abbr, "BBB");
	ck_assert_int_eq(trig_tz_offset(tz, 2000, &abbr), 3600);
	ck_assert_str_eq(trig_tz_name(tz), "ok");
	trig_tz_free(tz);

	/* every truncation of a good file fails cleanly */
	for (size_t n = 0; n < b.n; n++) {
		tz = trig_tz_parse(b.d, n, "cut", err, sizeof(err));
		ck_assert_msg(tz == NULL, "accepted %zu of %zu bytes", n, b.n);
	}

	struct tzb c = b;
	c.d[0] = 'X';
	expect_corrupt(&c, "bad magic");
	c = b;
	c.d[4] = c.d[44 + 4] = '9';
	expect_corrupt(&c, "unknown TZif version");
	c = b;
	c.d[44 + 4] = '3';
	expect_corrupt(&c, "disagree");

	struct tzspec s = ok;
	const int64_t back[2] = { 2000, 1000 };
	s.trans = back;
	build_v2(&c, &s);
	expect_corrupt(&c, "ascending");
	s = ok;
	const uint8_t badidx[2] = { 0, 2 };
	s.idx = badidx;
	build_v2(&c, &s);
	expect_corrupt(&c, "type index out of range");
	s = ok;
	const int32_t badoff[2] = { 3600, 100000 };
	s.utoff = badoff;
	build_v2(&c, &s);
	expect_corrupt(&c, "offset out of range");
	s = ok;
	const int32_t minoff[2] = { 3600, INT32_MIN };
	s.utoff = minoff;
	build_v2(&c, &s);
	expect_corrupt(&c, "offset out of range");
	s = ok;
	const uint8_t baddst[2] = { 0, 2 };
	s.isdst = baddst;
	build_v2(&c, &s);
	expect_corrupt(&c, "DST indicator");
	s = ok;
	const uint8_t badab[2] = { 0, 8 };
	s.abbr = badab;
	build_v2(&c, &s);
	expect_corrupt(&c, "abbreviation index");
	s = ok;
	s.chars = "AAA\0BBBB";
	build_v2(&c, &s);
	expect_corrupt(&c, "NUL-terminated");
	s = ok;
	s.ntypes = 0;
	s.ntrans = 0;
	build_v2(&c, &s);
	expect_corrupt(&c, "type count");
	s = ok;
	s.footer = "AAA-1BBB";
	build_v2(&c, &s);
	expect_corrupt(&c, "footer TZ string");
	s.footer = "AAA-1BBB,M13.1.0,M1.1.0";
	build_v2(&c, &s);
	expect_corrupt(&c, "footer TZ string");
	s.footer = "AAA-1BBB,M3.5.0/168,M10.5.0";
	build_v2(&c, &s);
	expect_corrupt(&c, "footer TZ string");
	s.footer = "AAA-25";
	build_v2(&c, &s);
	expect_corrupt(&c, "footer TZ string");

	c = b;
	c.d[c.n - 1] = 'x';
	expect_corrupt(&c, "unterminated footer");
	c = b;
	c.d[c.n++] = 'x';
	expect_corrupt(&c, "trailing data");

	/* leap-second records */
	c.n = 0;
	b_header(&c, '2', 0, 0, 0, 0, 0, 0);
	b_header(&c, '2', 0, 0, 1, 0, 1, 4);
	b_u32(&c, 0);
	b_bytes(&c, "\0\0", 2);
	b_bytes(&c, "UTC", 4);
	b_u64(&c, 78796800);
	b_u32(&c, 1);
	b_bytes(&c, "\nUTC0\n", 6);
	expect_corrupt(&c, "leap-second");

	s = ok;
	s.nchars = 0;
	s.ntypes = 1;
	const uint8_t zero_ab[2] = { 0, 0 };
	s.abbr = zero_ab;
	build_v2(&c, &s);
	expect_corrupt(&c, "no abbreviation characters");
	/* a version 1 file: no footer, nothing after its data */
	c.n = 0;
	b_header(&c, 0, 0, 0, 0, 0, 1, 4);
	b_u32(&c, 7200);
	b_bytes(&c, "\0\0", 2);
	b_bytes(&c, "EET", 4);
	tz = trig_tz_parse(c.d, c.n, "v1", err, sizeof(err));
	ck_assert_msg(tz != NULL, "%s", err);
	ck_assert_int_eq(trig_tz_offset(tz, 123456789, &abbr), 7200);
	ck_assert_str_eq(abbr, "EET");
	trig_tz_free(tz);
	b_bytes(&c, "\nEET-2\n", 7);
	expect_corrupt(&c, "trailing data after the version 1 data");
	ck_assert_ptr_null(trig_tz_parse(NULL, 0, "x", err, sizeof(err)));

	/* huge counts do not make the parser read past the end */
	c = b;
	c.d[44 + 32] = 0x7f;     /* timecnt of the 64-bit header */
	expect_corrupt(&c, "truncated");
}
END_TEST

/* Damaged copies of real files: no crash, no leak (run under ASan and
 * valgrind); whatever loads still answers sanely. */
START_TEST(test_damaged_real_files)
{
	static unsigned char d[1 << 16];
	FILE *f = fopen("/usr/share/zoneinfo/Europe/Helsinki", "rb");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(d, 1, sizeof(d), f);
	fclose(f);
	rng_state = 5;
	for (int i = 0; i < 3000; i++) {
		static unsigned char c[1 << 16];
		memcpy(c, d, n);
		int flips = 1 + (int)(rng() % 4);
		for (int k = 0; k < flips; k++)
			c[rng() % n] ^= (unsigned char)(1u << (rng() % 8));
		char err[200];
		struct trig_tz *tz = trig_tz_parse(c, n, "damaged", err, sizeof(err));
		if (!tz)
			continue;
		for (int k = 0; k < 20; k++) {
			int64_t t = (int64_t)(rng() % (UINT64_C(1) << 40)) - (INT64_C(1) << 39);
			int32_t o = trig_tz_offset(tz, t, NULL);
			ck_assert(o >= -93599 && o <= 93599);
			int64_t r = trig_tz_local_to_utc(tz, t, NULL);
			ck_assert(r + trig_tz_offset(tz, r, NULL) >= t);
			ck_assert(trig_tz_local_reached(tz, t) >= t + o);
		}
		trig_tz_free(tz);
	}
}
END_TEST

/* ------------------------------------------------------------ loading */

START_TEST(test_load_errors)
{
	char err[300];
	struct trig_tz *tz = trig_tz_load("Europe/Helsinky", err, sizeof(err));
	ck_assert_ptr_null(tz);
	ck_assert_str_eq(err, "unknown time zone 'Europe/Helsinky'");
	ck_assert_ptr_null(trig_tz_load("Europe", err, sizeof(err)));
	ck_assert_str_eq(err, "unknown time zone 'Europe'");

	static const char *const bad[] = {
		"", "/etc/passwd", "../etc/passwd", "Europe/../../etc/passwd", "Europe/./Helsinki",
		"Europe//Helsinki", "Europe/Helsinki/", "Europe/Hel sinki", "Europe\\Helsinki",
		"Europe/Helsinki\n", ".", "..", "zone.tab",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_ptr_null(trig_tz_load(bad[i], err, sizeof(err)));
		ck_assert_msg(strncmp(err, "invalid time zone name '", 24) == 0, "%s: %s", bad[i],
			      err);
		ck_assert_ptr_null(trig_tz_get(bad[i], err, sizeof(err)));
	}
	/* the name accepts what IANA names use */
	tz = trig_tz_load("Etc/GMT+5", err, sizeof(err));
	ck_assert_msg(tz != NULL, "%s", err);
	ck_assert_int_eq(trig_tz_offset(tz, 0, NULL), -5 * 3600);
	trig_tz_free(tz);
	tz = trig_tz_load("America/Port-au-Prince", err, sizeof(err));
	ck_assert_msg(tz != NULL, "%s", err);
	trig_tz_free(tz);

	/* leap-second zones are refused, saying why */
	if (access("/usr/share/zoneinfo/right/UTC", R_OK) == 0) {
		ck_assert_ptr_null(trig_tz_load("right/UTC", err, sizeof(err)));
		ck_assert_msg(strstr(err, "is not supported: it has leap-second records"), "%s",
			      err);
	}
	/* a non-TZif file under TZDIR */
	char dir[] = "/tmp/trig-tz-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[512];
	snprintf(path, sizeof(path), "%s/Bad", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is not a time zone, but it is long enough to have a header\n", f);
	fclose(f);
	ck_assert_int_eq(setenv("TZDIR", dir, 1), 0);
	ck_assert_ptr_null(trig_tz_load("Bad", err, sizeof(err)));
	char want[600];
	snprintf(want, sizeof(want), "time zone file '%s' is corrupt: bad magic (not a TZif file)",
		 path);
	ck_assert_str_eq(err, want);
	/* UTC works without any tzdata */
	tz = trig_tz_load("UTC", err, sizeof(err));
	ck_assert_ptr_nonnull(tz);
	ck_assert_ptr_eq(tz, trig_tz_utc());
	ck_assert_str_eq(trig_tz_name(tz), "UTC");
	trig_tz_free(tz);       /* no-op on the built-in zone */
	ck_assert_ptr_eq(trig_tz_get("UTC", err, sizeof(err)), trig_tz_utc());
	ck_assert_ptr_null(trig_tz_load("Europe/Helsinki", err, sizeof(err)));
	/* a FIFO neither hangs nor loads */
	char fifo[512];
	snprintf(fifo, sizeof(fifo), "%s/Fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_ptr_null(trig_tz_load("Fifo", err, sizeof(err)));
	snprintf(want, sizeof(want), "time zone file '%s' is corrupt: not a regular file", fifo);
	ck_assert_str_eq(err, want);
	unlink(fifo);
	/* long names are shortened in messages */
	char longname[200];
	memset(longname, 'a', 150);
	longname[150] = '\0';
	ck_assert_ptr_null(trig_tz_load(longname, err, sizeof(err)));
	snprintf(want, sizeof(want), "unknown time zone '%.64s...'", longname);
	ck_assert_str_eq(err, want);
	unlink(path);
	rmdir(dir);
	unsetenv("TZDIR");
}
END_TEST

START_TEST(test_utc)
{
	const struct trig_tz *utc = trig_tz_utc();
	const char *ab;
	int kind;
	ck_assert_int_eq(trig_tz_offset(utc, 1234567890, &ab), 0);
	ck_assert_str_eq(ab, "UTC");
	ck_assert_int_eq(trig_tz_local_to_utc(utc, 1234567890, &kind), 1234567890);
	ck_assert_int_eq(kind, TRIG_TZ_NORMAL);
	ck_assert_int_eq(trig_tz_offset(NULL, 0, NULL), 0);
	/* extreme arguments are clamped, not overflowed */
	const struct trig_tz *h = zone("Europe/Helsinki");
	ck_assert_int_eq(trig_tz_offset(h, INT64_MAX, NULL),
			 trig_tz_offset(h, INT64_C(1) << 60, NULL));
	ck_assert_int_eq(trig_tz_offset(h, INT64_MIN, NULL), 5989);    /* Helsinki LMT */
	ck_assert_int_le(trig_tz_local_to_utc(h, INT64_MAX, NULL), INT64_C(1) << 60);
	ck_assert_int_ge(trig_tz_local_to_utc(h, INT64_MIN, NULL), -(INT64_C(1) << 61));
	ck_assert_int_ge(trig_tz_local_reached(h, INT64_MAX), INT64_C(1) << 60);
}
END_TEST

static void *get_helsinki(void *arg)
{
	const struct trig_tz **out = arg;
	char err[200];
	for (int i = 0; i < 1000; i++)
		out[i] = trig_tz_get(i % 2 ? "Europe/Helsinki" : "America/New_York", err,
				     sizeof(err));
	return NULL;
}

START_TEST(test_cache_threads)
{
	enum { N = 8 };
	pthread_t th[N];
	static const struct trig_tz *got[N][1000];
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, get_helsinki, got[i]), 0);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < N; i++) {
		for (int k = 0; k < 1000; k++) {
			ck_assert_ptr_nonnull(got[i][k]);
			ck_assert_ptr_eq(got[i][k], got[0][k % 2]);
		}
	}
	ck_assert_str_eq(trig_tz_name(got[0][1]), "Europe/Helsinki");
	ck_assert_ptr_ne(got[0][0], got[0][1]);
}
END_TEST

static Suite *tz_suite(void)
{
	Suite *s = suite_create("tz");
	TCase *tc = tcase_create("glibc");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_offsets_random, 0, NZONES);
	tcase_add_loop_test(tc, test_local_to_utc_random, 0, NZONES);
	tcase_add_loop_test(tc, test_transitions, 0, NZONES);
	tcase_add_loop_test(tc, test_local_to_utc_bruteforce, 0, 4);
	tcase_add_loop_test(tc, test_posix_rules, 0, 9);
	tcase_add_test(tc, test_posix_dst_all_year);
	tcase_add_test(tc, test_posix_year_boundary);
	tcase_add_test(tc, test_v1_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("parse");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_corrupt);
	tcase_add_test(tc, test_damaged_real_files);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_utc);
	tcase_add_test(tc, test_cache_threads);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(tz_suite)
