/*
 * test_cron.c — cron parsing, can-fire and next fire times (runtime/cron.c).
 *
 * Oracles: a generator that writes random expressions together with the
 * sets they denote (so the parser's bitsets are checked independently), a
 * brute-force next-fire search over the libc calendar (gmtime_r) in UTC,
 * and one over glibc's localtime_r() in real zones around DST changes.
 * DST cases with exact instants derived by hand from the zones' rules.
 */
#include "unit.h"

#include <string.h>
#include <time.h>

#include "cron.h"
#include "timeutil.h"
#include "tz.h"

#define CHECK(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

static uint64_t rng_state = 1;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static unsigned rnd(unsigned lo, unsigned hi)
{
	return lo + (unsigned)(rng() % (hi - lo + 1));
}

static int64_t at(const char *rfc3339)
{
	int64_t ms;
	ck_assert_msg(trig_parse_rfc3339(rfc3339, &ms) == 0, "bad time %s", rfc3339);
	return ms / 1000;
}

static struct trig_cron parse(const char *expr)
{
	struct trig_cron c;
	struct trig_cron_error err;
	ck_assert_msg(trig_cron_parse(expr, &c, &err) == 0, "'%s': %s", expr, err.msg);
	return c;
}

static uint64_t bits(unsigned lo, unsigned hi, unsigned step)
{
	uint64_t b = 0;
	for (unsigned v = lo; v <= hi; v += step)
		b |= UINT64_C(1) << v;
	return b;
}

/* ------------------------------------------------------------ parsing */

START_TEST(test_parse_fields)
{
	static const struct {
		const char *expr;
		uint64_t minute, hour, dom, month, dow;
		unsigned flags;
	} cases[] = {
		{ "* * * * *", 0, 0, 0, 0, 0, 3 },
		{ "0 2 * * *", 1, 1 << 2, 0, 0, 0, 3 },
		{ "*/15 9-17 * * 1-5", 1 | 1ull << 15 | 1ull << 30 | 1ull << 45, 0x3fe00, 0, 0,
		  0x3e, TRIG_CRON_DOM_STAR },
		{ "0 12 1,15 * mon", 1, 1 << 12, 1 << 1 | 1 << 15, 0, 1 << 1, 0 },
		{ "5/20 * * * *", 1ull << 5 | 1ull << 25 | 1ull << 45, 0, 0, 0, 0, 3 },
		{ "1-10/3 */7 */10 */5 */2", 1 << 1 | 1 << 4 | 1 << 7 | 1 << 10,
		  1 | 1 << 7 | 1 << 14 | 1 << 21, 1 << 1 | 1 << 11 | 1 << 21 | 1u << 31,
		  1 << 1 | 1 << 6 | 1 << 11, 0x55, 3 },
		{ "0 0 * * 7", 1, 1, 0, 0, 1, TRIG_CRON_DOM_STAR },
		{ "0 0 * * 5-7", 1, 1, 0, 0, 1 | 1 << 5 | 1 << 6, TRIG_CRON_DOM_STAR },
		{ "0 0 * * 0-7", 1, 1, 0, 0, 0x7f, TRIG_CRON_DOM_STAR },
		{ "0 0 * * 1/2", 1, 1, 0, 0, 1 | 1 << 1 | 1 << 3 | 1 << 5, TRIG_CRON_DOM_STAR },
		{ "0 0 * JAN-mar,Dec *", 1, 1, 0, 0xe | 1 << 12, 0, 3 },
		{ "0 0 * * MON-fri", 1, 1, 0, 0, 0x3e, TRIG_CRON_DOM_STAR },
		{ "0 0 * * sun,SAT", 1, 1, 0, 0, 1 | 1 << 6, TRIG_CRON_DOM_STAR },
		{ "0 0 1 * *", 1, 1, 1 << 1, 0, 0, TRIG_CRON_DOW_STAR },
		{ "0 0 *,5 * 1", 1, 1, 0, 0, 1 << 1, TRIG_CRON_DOM_STAR },
		{ "0 0 5,* * 1", 1, 1, 0, 0, 1 << 1, 0 },
		{ "  0\t2  * *\t* ", 1, 1 << 2, 0, 0, 0, 3 },
		{ "059 023 031 012 007", 1ull << 59, 1 << 23, 1u << 31, 1 << 12, 1, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trig_cron c = parse(cases[i].expr);
		/* 0 in the table stands for "every value" */
		uint64_t want[5] = {
			cases[i].minute ? cases[i].minute : bits(0, 59, 1),
			cases[i].hour ? cases[i].hour : bits(0, 23, 1),
			cases[i].dom ? cases[i].dom : bits(1, 31, 1),
			cases[i].month ? cases[i].month : bits(1, 12, 1),
			cases[i].dow ? cases[i].dow : bits(0, 6, 1),
		};
		ck_assert_msg(c.minute == want[0], "%s: minute", cases[i].expr);
		ck_assert_msg(c.hour == want[1], "%s: hour", cases[i].expr);
		ck_assert_msg(c.dom == want[2], "%s: dom %x", cases[i].expr, c.dom);
		ck_assert_msg(c.month == want[3], "%s: month", cases[i].expr);
		ck_assert_msg(c.dow == want[4], "%s: dow %x", cases[i].expr, c.dow);
		ck_assert_msg(c.flags == cases[i].flags, "%s: flags %u", cases[i].expr, c.flags);
	}
	/* names with steps in the fields that have names */
	struct trig_cron c = parse("0 0 * feb/5 tue/2");
	ck_assert_uint_eq(c.month, 1 << 2 | 1 << 7 | 1 << 12);
	ck_assert_uint_eq(c.dow, 1 << 2 | 1 << 4 | 1 << 6);
}
END_TEST

START_TEST(test_macros)
{
	static const char *const m[][2] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" }, { "  @Daily\t", "0 0 * * *" },
		{ "@HOURLY", "0 * * * *" },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		struct trig_cron a = parse(m[i][0]), b = parse(m[i][1]);
		ck_assert_msg(memcmp(&a, &b, sizeof(a)) == 0, "%s", m[i][0]);
	}
}
END_TEST

START_TEST(test_parse_errors)
{
	static const struct {
		const char *expr;
		unsigned offset, len;
		const char *msg;
	} cases[] = {
		{ "61 * * * *", 0, 2, "minute '61' is out of range 0-59" },
		{ "* 24 * * *", 2, 2, "hour '24' is out of range 0-23" },
		{ "* * 0 * *", 4, 1, "day of month '0' is out of range 1-31" },
		{ "* * 32 * *", 4, 2, "day of month '32' is out of range 1-31" },
		{ "* * * 13 *", 6, 2, "month '13' is out of range 1-12" },
		{ "* * * 0 *", 6, 1, "month '0' is out of range 1-12" },
		{ "* * * * 8", 8, 1, "day of week '8' is out of range 0-7" },
		{ "1,2,99 * * * *", 4, 2, "minute '99' is out of range 0-59" },
		{ "99999999999 * * * *", 0, 11, "minute '99999999999' is out of range 0-59" },
		{ "*/0 * * * *", 2, 1, "step '0' must be at least 1" },
		{ "0 0 * * sun-sat/0", 16, 1, "step '0' must be at least 1" },
		{ "*/60 * * * *", 2, 2, "step '60' is out of range 1-59" },
		{ "* */24 * * *", 4, 2, "step '24' is out of range 1-23" },
		{ "*/ * * * *", 1, 1, "missing step after '/'" },
		{ "*/x * * * *", 2, 1, "step 'x' is not a number" },
		{ "* * * * * *", 10, 1, "expected 5 fields, found 6" },
		{ "0 0 * * * echo hi", 10, 7, "expected 5 fields, found 7" },
		{ "* * * *", 0, 7, "expected 5 fields, found 4" },
		{ "  5 ", 2, 1, "expected 5 fields, found 1" },
		{ "", 0, 0, "empty cron expression" },
		{ " \t ", 0, 0, "empty cron expression" },
		{ "0 0 * jna *", 6, 3, "unknown month name 'jna'" },
		{ "0 0 * JANUARY *", 6, 7, "unknown month name 'JANUARY'" },
		{ "0 0 * * mnd", 8, 3, "unknown day name 'mnd'" },
		{ "0 0 * 1x *", 6, 2, "month '1x' is not a number or a month name" },
		{ "0 0 * * mon-", 8, 4, "range 'mon-' has no end" },
		{ "5-2 * * * *", 0, 3, "range '5-2' is backwards" },
		{ "0 0 * * sat-sun", 8, 7, "range 'sat-sun' is backwards" },
		{ "0 0 * * 7-1", 8, 3, "range '7-1' is backwards" },
		{ "5- * * * *", 0, 2, "range '5-' has no end" },
		{ "5-/2 * * * *", 0, 2, "range '5-' has no end" },
		{ "1,,2 * * * *", 2, 1, "empty item in minute list" },
		{ "1, * * * *", 1, 1, "empty item in minute list" },
		{ ",1 * * * *", 0, 1, "empty item in minute list" },
		{ "0 0 ? * *", 4, 1, "unsupported '?' in day of month field: use '*'" },
		{ "0 0 L * *", 4, 1, "day of month 'L' is not a number" },
		{ "0 0 * * 1#2", 9, 1, "unexpected '#' in day of week field" },
		{ "1.5 * * * *", 1, 1, "unexpected '.' in minute field" },
		{ "*-5 * * * *", 1, 1, "unexpected '-' in minute field" },
		{ "-5 * * * *", 0, 1, "unexpected '-' in minute field" },
		{ "*5 * * * *", 1, 1, "unexpected '5' in minute field" },
		{ "1-2-3 * * * *", 3, 1, "unexpected '-' in minute field" },
		{ "0 0 * * *\n", 9, 1, "unexpected byte 0x0a in day of week field" },
		{ "0 0 * * mon/x", 12, 1, "step 'x' is not a number" },
		{ "@reboot", 0, 7, "unsupported '@reboot': trig has no boot-time schedule" },
		{ "@dayly", 0, 6, "unknown macro '@dayly'" },
		{ "@daily 5", 7, 1, "unexpected '5' after '@daily'" },
		{ " @hourly  0 0 ", 10, 3, "unexpected '0 0' after '@hourly'" },
		{ "0 @daily * * *", 2, 1, "unexpected '@' in hour field" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trig_cron c;
		struct trig_cron_error err;
		memset(&err, 0, sizeof(err));
		ck_assert_msg(trig_cron_parse(cases[i].expr, &c, &err) == -1, "accepted '%s'",
			      cases[i].expr);
		ck_assert_msg(strcmp(err.msg, cases[i].msg) == 0, "'%s': '%s'", cases[i].expr,
			      err.msg);
		ck_assert_msg(err.offset == cases[i].offset && err.len == cases[i].len,
			      "'%s': span %u+%u, want %u+%u", cases[i].expr, err.offset, err.len,
			      cases[i].offset, cases[i].len);
		ck_assert_uint_le(err.offset + err.len, strlen(cases[i].expr));
	}
	/* err may be NULL; out is untouched on error */
	struct trig_cron c;
	memset(&c, 0xab, sizeof(c));
	ck_assert_int_eq(trig_cron_parse("61 * * * *", &c, NULL), -1);
	ck_assert_uint_eq(c.dow, 0xab);
	ck_assert_int_eq(trig_cron_parse(NULL, &c, NULL), -1);
}
END_TEST

START_TEST(test_cron_at)
{
	static const struct {
		const char *s;
		unsigned h, m;
	} ok[] = { { "02:00", 2, 0 }, { "2:00", 2, 0 }, { "23:59", 23, 59 }, { "0:00", 0, 0 },
		   { "09:30", 9, 30 } };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		unsigned h = 99, m = 99;
		struct trig_cron_error err;
		ck_assert_msg(trig_cron_at(ok[i].s, &h, &m, &err) == 0, "%s: %s", ok[i].s, err.msg);
		ck_assert_uint_eq(h, ok[i].h);
		ck_assert_uint_eq(m, ok[i].m);
	}
	static const struct {
		const char *s;
		unsigned offset, len;
		const char *msg;
	} bad[] = {
		{ "24:00", 0, 2, "hour '24' is out of range 0-23" },
		{ "7:60", 2, 2, "minute '60' is out of range 0-59" },
		{ "2:0", 0, 3, "time '2:0' is not in HH:MM form" },
		{ "123:00", 0, 6, "time '123:00' is not in HH:MM form" },
		{ "02:00:00", 0, 8, "time '02:00:00' is not in HH:MM form" },
		{ "2pm", 0, 3, "time '2pm' is not in HH:MM form" },
		{ "", 0, 0, "time '' is not in HH:MM form" },
		{ " 2:00", 0, 5, "time ' 2:00' is not in HH:MM form" },
		{ ":30", 0, 3, "time ':30' is not in HH:MM form" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned h, m;
		struct trig_cron_error err;
		ck_assert_int_eq(trig_cron_at(bad[i].s, &h, &m, &err), -1);
		ck_assert_str_eq(err.msg, bad[i].msg);
		ck_assert_uint_eq(err.offset, bad[i].offset);
		ck_assert_uint_eq(err.len, bad[i].len);
	}
}
END_TEST

/* ------------------------------------------------------------ the generator */

struct gen {
	char text[400];
	uint64_t set[5];        /* dow: bits 0..6 */
	bool domstar, dowstar;
};

static const unsigned field_lo[5] = { 0, 0, 1, 1, 0 }, field_hi[5] = { 59, 23, 31, 12, 7 };
static const char *const mnames[] = { "jan", "feb", "mar", "apr", "may", "jun",
				      "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const dnames[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static void put_value(char **p, int f, unsigned v)
{
	const char *name = NULL;
	if (f == 3 && rng() % 3 == 0)
		name = mnames[v - 1];
	else if (f == 4 && v < 7 && rng() % 3 == 0)
		name = dnames[v];
	if (!name) {
		*p += sprintf(*p, "%u", v);
		return;
	}
	for (int i = 0; i < 3; i++)
		*(*p)++ = rng() % 2 ? name[i] : (char)(name[i] - 'a' + 'A');
}

static void add_values(struct gen *g, int f, unsigned lo, unsigned hi, unsigned step)
{
	for (unsigned v = lo; v <= hi; v += step)
		g->set[f] |= UINT64_C(1) << (f == 4 && v == 7 ? 0 : v);
}

/* One field; `dense` makes it likely to be '*'. */
static void gen_field(struct gen *g, int f, char **p, unsigned star_pct)
{
	unsigned lo = field_lo[f], hi = field_hi[f];
	if (rnd(1, 100) <= star_pct) {
		*(*p)++ = '*';
		add_values(g, f, lo, hi, 1);
		if (f == 2)
			g->domstar = true;
		if (f == 4)
			g->dowstar = true;
		return;
	}
	unsigned items = rnd(1, 3);
	for (unsigned i = 0; i < items; i++) {
		if (i)
			*(*p)++ = ',';
		unsigned a = rnd(lo, hi), b = rnd(lo, hi), s = rnd(1, hi);
		if (a > b) {
			unsigned t = a;
			a = b;
			b = t;
		}
		if (s > 6 && rng() % 2)
			s = rnd(1, 6);
		switch (rng() % 6) {
		case 0:
			*p += sprintf(*p, "*/%u", s);
			add_values(g, f, lo, hi, s);
			if (i == 0 && f == 2)
				g->domstar = true;
			if (i == 0 && f == 4)
				g->dowstar = true;
			break;
		case 1:
		case 2:
			put_value(p, f, a);
			add_values(g, f, a, a, 1);
			break;
		case 3:
			put_value(p, f, a);
			*(*p)++ = '-';
			put_value(p, f, b);
			add_values(g, f, a, b, 1);
			break;
		case 4:
			put_value(p, f, a);
			*(*p)++ = '-';
			put_value(p, f, b);
			*p += sprintf(*p, "/%u", s);
			add_values(g, f, a, b, s);
			break;
		default:
			put_value(p, f, a);
			*p += sprintf(*p, "/%u", s);
			add_values(g, f, a, hi, s);
			break;
		}
	}
}

static void gen_expr(struct gen *g, const unsigned star_pct[5])
{
	memset(g, 0, sizeof(*g));
	char *p = g->text;
	for (int f = 0; f < 5; f++) {
		if (f)
			*p++ = rng() % 4 ? ' ' : '\t';
		gen_field(g, f, &p, star_pct[f]);
	}
	*p = '\0';
}

#define NONE INT64_MIN

static bool has(uint64_t set, unsigned v)
{
	return set >> v & 1;
}

/* Vixie's day rule on a civil date. */
static bool day_ok(const struct gen *g, unsigned mon, unsigned mday, unsigned wday)
{
	if (!has(g->set[3], mon))
		return false;
	bool dom = has(g->set[2], mday), dow = has(g->set[4], wday);
	return g->domstar || g->dowstar ? dom && dow : dom || dow;
}

/* Brute force in UTC over the libc calendar: day by day, then minute by
 * minute in a matching day.  NONE when nothing fires within `years`. */
static int64_t oracle_utc(const struct gen *g, int64_t after, int years)
{
	int64_t start = (after >= 0 ? after / 60 : (after - 59) / 60) * 60 + 60;
	int64_t day0 = start >= 0 ? start / 86400 : (start - 86399) / 86400;
	for (int64_t day = day0; day < day0 + years * 366; day++) {
		time_t t = (time_t)(day * 86400);
		struct tm tm;
		CHECK(gmtime_r(&t, &tm) != NULL, "gmtime_r");
		if (!day_ok(g, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday, (unsigned)tm.tm_wday))
			continue;
		for (int m = 0; m < 1440; m++) {
			int64_t when = day * 86400 + m * 60;
			if (when >= start && has(g->set[1], (unsigned)m / 60) &&
			    has(g->set[0], (unsigned)m % 60))
				return when;
		}
	}
	return NONE;
}

START_TEST(test_next_utc_bruteforce)
{
	static const unsigned stars[4][5] = {
		{ 30, 30, 50, 60, 50 },         /* anything */
		{ 0, 0, 20, 30, 20 },           /* sparse */
		{ 0, 0, 0, 0, 0 },              /* no stars: the OR rule */
		{ 60, 60, 90, 90, 10 },         /* dense */
	};
	rng_state = 2026;
	int compared = 0, never = 0;
	for (int i = 0; i < 6000; i++) {
		struct gen g;
		gen_expr(&g, stars[i % 4]);
		struct trig_cron c;
		struct trig_cron_error err;
		CHECK(trig_cron_parse(g.text, &c, &err) == 0, "'%s': %s", g.text, err.msg);
		CHECK(c.minute == g.set[0] && c.hour == g.set[1] && c.dom == g.set[2] &&
		      c.month == g.set[3] && c.dow == g.set[4], "'%s': bitsets differ", g.text);
		CHECK(c.flags == ((g.domstar ? TRIG_CRON_DOM_STAR : 0) |
				  (g.dowstar ? TRIG_CRON_DOW_STAR : 0)), "'%s': flags", g.text);
		int64_t after = (int64_t)(rng() % (UINT64_C(7300) * 86400 * 30)) -
				INT64_C(2208988800) + (int64_t)rnd(0, 59);
		for (int k = 0; k < 3; k++) {
			int64_t want = oracle_utc(&g, after, 30);
			int64_t got = trig_cron_next(&c, NULL, after);
			int64_t got_utc = trig_cron_next(&c, trig_tz_utc(), after);
			CHECK(got == got_utc, "'%s': NULL and UTC zone differ", g.text);
			if (want == NONE) {
				CHECK(got == TRIG_CRON_NEVER || got > after + 30 * 365 * 86400,
				      "'%s' after %lld: got %lld, brute force found none", g.text,
				      (long long)after, (long long)got);
				never++;
				break;
			}
			CHECK(got == want, "'%s' after %lld: got %lld, want %lld", g.text,
			      (long long)after, (long long)got, (long long)want);
			compared++;
			after = rnd(0, 3) ? want : want - (int64_t)rnd(1, 59);
		}
	}
	ck_assert_int_gt(compared, 15000);
	ck_assert_int_lt(never, 600);
}
END_TEST

/* ------------------------------------------------------------ can_fire */

/* occurs[m][d][wd]: some date m/d falls on weekday wd in the 400-year
 * cycle, by gmtime_r over every day of it. */
static bool occurs[13][32][7];

static void fill_occurs(void)
{
	for (int64_t day = 10957; day < 10957 + 146097; day++) {
		time_t t = (time_t)(day * 86400);
		struct tm tm;
		CHECK(gmtime_r(&t, &tm) != NULL, "gmtime_r");
		occurs[tm.tm_mon + 1][tm.tm_mday][tm.tm_wday] = true;
	}
}

static bool oracle_can_fire(const struct gen *g)
{
	if (!g->set[0] || !g->set[1])
		return false;
	for (unsigned m = 1; m <= 12; m++)
		for (unsigned d = 1; d <= 31; d++)
			for (unsigned wd = 0; wd < 7; wd++)
				if (occurs[m][d][wd] && day_ok(g, m, d, wd))
					return true;
	return false;
}

START_TEST(test_can_fire)
{
	static const struct {
		const char *expr;
		bool can;
	} cases[] = {
		{ "0 0 30 2 *", false }, { "0 0 31 4,6,9,11 *", false }, { "0 0 30,31 2 *", false },
		{ "0 0 31 2,4 *", false }, { "0 0 30 2 */2", false },  /* AND: Feb 30 never */
		{ "0 0 29 2 *", true }, { "0 0 31 1 *", true }, { "0 0 31 2,3 *", true },
		{ "0 0 30 2 mon", true },       /* OR: any Monday in February */
		{ "0 0 29 2 1", true },         /* OR as well: Feb 29 or Mondays */
		{ "0 0 29 2 */7", true },       /* AND: Feb 29 on a Sunday (2004) */
		{ "0 0 */30 2 1", true },       /* AND: days 1 and 31; Feb 1 on a Monday */
		{ "0 0 */30 4 *", true }, { "* * * * *", true }, { "@yearly", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trig_cron c = parse(cases[i].expr);
		ck_assert_msg(trig_cron_can_fire(&c) == cases[i].can, "%s", cases[i].expr);
		int64_t next = trig_cron_next(&c, NULL, at("2026-01-01T00:00:00Z"));
		ck_assert_msg((next != TRIG_CRON_NEVER) == cases[i].can, "%s: next", cases[i].expr);
	}
	/* empty fields (never from the parser) cannot fire */
	struct trig_cron c = parse("* * * * *");
	c.hour = 0;
	ck_assert(!trig_cron_can_fire(&c));
	ck_assert_int_eq(trig_cron_next(&c, NULL, 0), TRIG_CRON_NEVER);
	c = parse("* * * * *");
	c.dow = 0x80;           /* only an out-of-range bit */
	ck_assert(!trig_cron_can_fire(&c));

	/* Feb 29 falls on every weekday over the cycle (so the AND rule
	 * only matters for dates that never exist) */
	fill_occurs();
	for (int wd = 0; wd < 7; wd++)
		ck_assert(occurs[2][29][wd]);
	ck_assert(!occurs[2][30][0] && !occurs[4][31][3]);

	/* random expressions with sparse days, against the occurs table */
	static const unsigned stars[5] = { 50, 50, 0, 10, 40 };
	rng_state = 77;
	int nevers = 0;
	for (int i = 0; i < 20000; i++) {
		struct gen g;
		gen_expr(&g, stars);
		if (i % 2) {
			/* days 29..31 of short months: often impossible */
			memset(&g, 0, sizeof(g));
			char *p = g.text;
			p += sprintf(p, "%u %u ", rnd(0, 59), rnd(0, 23));
			g.set[0] = UINT64_C(1) << 59;   /* (any non-empty set) */
			g.set[1] = 1;
			unsigned nd = rnd(1, 3), nm = rnd(1, 3);
			for (unsigned k = 0; k < nd; k++) {
				unsigned d = rnd(29, 31);
				p += sprintf(p, "%s%u", k ? "," : "", d);
				g.set[2] |= UINT64_C(1) << d;
			}
			static const unsigned shortm[5] = { 2, 4, 6, 9, 11 };
			*p++ = ' ';
			for (unsigned k = 0; k < nm; k++) {
				unsigned m = shortm[rnd(0, 4)];
				p += sprintf(p, "%s%u", k ? "," : "", m);
				g.set[3] |= UINT64_C(1) << m;
			}
			if (rng() % 2) {
				p += sprintf(p, " *");
				g.set[4] = 0x7f;
				g.dowstar = true;
			} else {
				unsigned wd = rnd(0, 6);
				p += sprintf(p, " %s%u", rng() % 2 ? "*/7," : "", wd);
				g.set[4] = UINT64_C(1) << wd | (strstr(g.text, "*/7") ? 1 : 0);
				g.dowstar = strstr(g.text, "*/7") != NULL;
			}
		}
		c = parse(g.text);
		bool want = oracle_can_fire(&g);
		CHECK(trig_cron_can_fire(&c) == want, "'%s': want %d", g.text, want);
		nevers += !want;
		if (!want)
			CHECK(trig_cron_next(&c, NULL, (int64_t)(rng() % 4000000000u)) ==
				      TRIG_CRON_NEVER, "'%s': next", g.text);
	}
	ck_assert_int_gt(nevers, 1000);
}
END_TEST

/* ------------------------------------------------------------ next in UTC */

START_TEST(test_next_utc_cases)
{
	static const struct {
		const char *expr, *after, *want;
	} cases[] = {
		{ "0 2 * * *", "2026-01-01T02:00:00Z", "2026-01-02T02:00:00Z" },
		{ "0 2 * * *", "2026-01-01T01:59:59Z", "2026-01-01T02:00:00Z" },
		{ "* * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z" },
		{ "* * * * *", "2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z" },
		/* 2100 is a common year */
		{ "0 0 29 2 *", "2097-03-01T00:00:00Z", "2104-02-29T00:00:00Z" },
		{ "0 0 31 * *", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z" },
		{ "0 12 1,15 * mon", "2026-01-01T12:00:00Z", "2026-01-05T12:00:00Z" },
		{ "0 12 13 * fri", "2026-02-06T12:00:00Z", "2026-02-13T12:00:00Z" },
		/* AND rule: a Sunday the 13th */
		{ "0 0 13 * */7", "2026-01-01T00:00:00Z", "2026-09-13T00:00:00Z" },
		{ "59 23 31 12 *", "1969-06-01T00:00:00Z", "1969-12-31T23:59:00Z" },
		{ "*/15 9-17 * * 1-5", "2026-01-02T17:45:00Z", "2026-01-05T09:00:00Z" },
		{ "@yearly", "1899-12-31T23:59:00Z", "1900-01-01T00:00:00Z" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trig_cron c = parse(cases[i].expr);
		int64_t got = trig_cron_next(&c, NULL, at(cases[i].after));
		char buf[TRIG_RFC3339_MAX];
		trig_format_rfc3339(buf, got * 1000, 0);
		ck_assert_msg(got == at(cases[i].want), "'%s' after %s: %s, want %s",
			      cases[i].expr, cases[i].after, buf, cases[i].want);
	}
	/* extremes stay defined */
	struct trig_cron c = parse("* * * * *");
	ck_assert_int_eq(trig_cron_next(&c, NULL, INT64_MAX), TRIG_CRON_NEVER);
	ck_assert_int_eq(trig_cron_next(&c, NULL, INT64_C(1) << 56), TRIG_CRON_NEVER);
	int64_t lo = trig_cron_next(&c, NULL, INT64_MIN);
	ck_assert_int_eq(lo % 60, 0);
	ck_assert_int_lt(lo, -(INT64_C(1) << 54));
	ck_assert_int_eq(trig_cron_next(&c, trig_tz_utc(), 0), 60);
}
END_TEST

/* ------------------------------------------------------------ DST by hand */

static const struct trig_tz *zone(const char *name)
{
	char err[256];
	const struct trig_tz *tz = trig_tz_get(name, err, sizeof(err));
	ck_assert_msg(tz != NULL, "%s", err);
	return tz;
}

/* Fire times of EXPR in ZONE after AFTER, one per element of WANT (NULL
 * terminated). */
static void expect_fires(const char *zname, const char *expr, const char *after,
			 const char *const *want)
{
	const struct trig_tz *tz = zone(zname);
	struct trig_cron c = parse(expr);
	int64_t t = at(after);
	for (size_t i = 0; want[i]; i++) {
		t = trig_cron_next(&c, tz, t);
		char buf[TRIG_RFC3339_MAX];
		trig_format_rfc3339(buf, t * 1000, 0);
		ck_assert_msg(t == at(want[i]), "%s '%s' after %s, fire %zu: %s, want %s", zname,
			      expr, after, i, buf, want[i]);
	}
}

#define FIRES(...) ((const char *const[]){ __VA_ARGS__, NULL })

/*
 * Europe/Helsinki 2026 (EU rule, changes at 01:00Z on the last Sundays of
 * March and October): 2026-03-29 03:00 EET (+2) jumps to 04:00 EEST (+3)
 * at 01:00Z; 2026-10-25 04:00 EEST falls back to 03:00 EET at 01:00Z.
 */
START_TEST(test_dst_helsinki)
{
	const char *z = "Europe/Helsinki";
	/* 03:30 is skipped on the 29th: fires at the end of the gap */
	expect_fires(z, "30 3 * * *", "2026-03-27T12:00:00Z",
		     FIRES("2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"));
	/* 03:30 shows twice on Oct 25: once, at 03:30 EEST = 00:30Z */
	expect_fires(z, "30 3 * * *", "2026-10-23T12:00:00Z",
		     FIRES("2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"));
	/* four skipped times fire once, together */
	expect_fires(z, "*/15 3 * * *", "2026-03-28T12:00:00Z",
		     FIRES("2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T00:15:00Z"));
	/* 03:00 (skipped) and 04:00 (the first minute after) are one instant */
	expect_fires(z, "0 3,4 * * *", "2026-03-28T12:00:00Z",
		     FIRES("2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T01:00:00Z"));
	/* the repeated hour fires only in its first pass */
	expect_fires(z, "*/20 3 * * *", "2026-10-24T12:00:00Z",
		     FIRES("2026-10-25T00:00:00Z", "2026-10-25T00:20:00Z", "2026-10-25T00:40:00Z",
			   "2026-10-26T01:00:00Z"));
	expect_fires(z, "* * * * *", "2026-10-25T00:58:00Z",
		     FIRES("2026-10-25T00:59:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:01:00Z"));
	/* after = inside the second pass: nothing more until 04:00 EET */
	expect_fires(z, "* * * * *", "2026-10-25T01:10:00Z", FIRES("2026-10-25T02:00:00Z"));
	expect_fires(z, "0 4 * * *", "2026-10-24T12:00:00Z",
		     FIRES("2026-10-25T02:00:00Z", "2026-10-26T02:00:00Z"));
	/* daily at 02:00 is untouched by either change */
	expect_fires(z, "0 2 * * *", "2026-03-28T12:00:00Z",
		     FIRES("2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z"));
}
END_TEST

/*
 * America/New_York 2026 (US rule): 2026-03-08 02:00 EST jumps to 03:00 EDT
 * at 07:00Z; 2026-11-01 02:00 EDT falls back to 01:00 EST at 06:00Z.
 */
START_TEST(test_dst_new_york)
{
	const char *z = "America/New_York";
	expect_fires(z, "30 2 * * *", "2026-03-07T12:00:00Z",
		     FIRES("2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"));
	expect_fires(z, "30 1 * * *", "2026-10-31T12:00:00Z",
		     FIRES("2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"));
	expect_fires(z, "0 * * * *", "2026-11-01T04:30:00Z",
		     FIRES("2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"));
}
END_TEST

/*
 * Australia/Lord_Howe 2026: a 30-minute DST.  2026-04-05 02:00 +11 falls
 * back to 01:30 +10:30 at 2026-04-04T15:00Z; 2026-10-04 02:00 +10:30 jumps
 * to 02:30 +11 at 2026-10-03T15:30Z.
 */
START_TEST(test_dst_lord_howe)
{
	const char *z = "Australia/Lord_Howe";
	expect_fires(z, "15 2 * * *", "2026-10-03T00:00:00Z",
		     FIRES("2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"));
	expect_fires(z, "45 1 * * *", "2026-04-04T00:00:00Z",
		     FIRES("2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"));
}
END_TEST

/*
 * Pacific/Apia skipped Friday 2011-12-30: 2011-12-29 23:59:59 -10 was
 * followed by 2011-12-31 00:00:00 +14, at 2011-12-30T10:00:00Z.
 */
START_TEST(test_dst_apia)
{
	const char *z = "Pacific/Apia";
	expect_fires(z, "0 12 * * *", "2011-12-29T00:00:00Z",
		     FIRES("2011-12-29T22:00:00Z", "2011-12-30T10:00:00Z", "2011-12-30T22:00:00Z"));
	/* every minute of the missing day: once, at the jump */
	expect_fires(z, "* * 30 12 *", "2011-12-29T00:00:00Z",
		     FIRES("2011-12-30T10:00:00Z", "2012-12-29T10:00:00Z", "2012-12-29T10:01:00Z"));
	expect_fires(z, "0 0 * * fri", "2011-12-20T00:00:00Z",
		     FIRES("2011-12-23T10:00:00Z", "2011-12-30T10:00:00Z", "2012-01-05T10:00:00Z"));
}
END_TEST

/* Asia/Kathmandu moved from +5:30 to +5:45 at 1986-01-01 00:00 local:
 * 00:00..00:14 was skipped, at 1985-12-31T18:30Z, when the clock showed
 * 00:15; so 00:15 fires with the skipped times, once. */
START_TEST(test_dst_kathmandu)
{
	expect_fires("Asia/Kathmandu", "*/5 0 * * *", "1985-12-31T12:00:00Z",
		     FIRES("1985-12-31T18:30:00Z", "1985-12-31T18:35:00Z", "1985-12-31T18:40:00Z"));
}
END_TEST

/* ------------------------------------------------------------ zones, brute force */

static long glibc_off(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	CHECK(localtime_r(&tt, &tm) != NULL, "localtime_r");
	return tm.tm_gmtoff;
}

static int64_t floor60(int64_t t)
{
	return (t >= 0 ? t / 60 : (t - 59) / 60) * 60;
}

static bool local_matches(const struct gen *g, int64_t local)
{
	time_t t = (time_t)local;
	struct tm tm;
	CHECK(gmtime_r(&t, &tm) != NULL, "gmtime_r");
	return has(g->set[0], (unsigned)tm.tm_min) && has(g->set[1], (unsigned)tm.tm_hour) &&
	       day_ok(g, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday, (unsigned)tm.tm_wday);
}

/*
 * The first fire after `after` by walking UTC minutes with glibc (TZ set):
 * a minute t fires when the clock, arriving at t, newly reaches a matching
 * local minute (one later than every local time shown before).  Valid for
 * zones whose changes fall on whole minutes by whole minutes.  NONE when
 * nothing fires within `window` seconds.
 */
static int64_t oracle_tz(const struct gen *g, int64_t after, int64_t window)
{
	int64_t reached = floor60(after + glibc_off(after));
	for (int64_t t = floor60(after); t >= after - 27 * 3600; t -= 60) {
		int64_t l = t + glibc_off(t);
		if (l > reached)
			reached = l;
	}
	for (int64_t t = floor60(after) + 60; t <= after + window; t += 60) {
		int64_t l = t + glibc_off(t);
		for (int64_t L = reached + 60; L <= l; L += 60)
			if (local_matches(g, L))
				return t;
		if (l > reached)
			reached = l;
	}
	return NONE;
}

static size_t glibc_changes(int64_t lo, int64_t hi, int64_t *out, size_t max)
{
	size_t n = 0;
	long prev = glibc_off(lo);
	for (int64_t t = lo + 21600; t < hi && n < max; t += 21600) {
		long cur = glibc_off(t);
		if (cur == prev)
			continue;
		int64_t a = t - 21600, b = t;
		while (b - a > 1) {
			int64_t m = a + (b - a) / 2;
			if (glibc_off(m) == prev)
				a = m;
			else
				b = m;
		}
		out[n++] = b;
		prev = cur;
	}
	return n;
}

START_TEST(test_next_zone_bruteforce)
{
	static const struct {
		const char *zone;
		const char *from, *to;
	} zs[] = {
		{ "Europe/Helsinki", "1990-01-01", "2040-01-01" },
		{ "America/New_York", "1990-01-01", "2040-01-01" },
		{ "Australia/Lord_Howe", "1990-01-01", "2040-01-01" },
		{ "America/Sao_Paulo", "1990-01-01", "2020-01-01" },  /* changes at midnight */
		{ "Pacific/Apia", "2009-01-01", "2022-01-01" },
		{ "Africa/Casablanca", "2008-01-01", "2030-01-01" },
		{ "Asia/Kathmandu", "1985-06-01", "1986-06-01" },
		{ "America/Nuuk", "2020-01-01", "2040-01-01" },
	};
	const char *name = zs[_i].zone;
	const struct trig_tz *tz = zone(name);
	ck_assert_int_eq(setenv("TZ", name, 1), 0);
	tzset();
	static int64_t ch[2048];
	size_t n = glibc_changes(at(zs[_i].from), at(zs[_i].to), ch, 2048);
	ck_assert_uint_gt(n, 0);
	static const unsigned stars[5] = { 20, 30, 85, 90, 85 };
	rng_state = 500 + (uint64_t)_i;
	int compared = 0;
	for (int i = 0; i < 400; i++) {
		struct gen g;
		gen_expr(&g, stars);
		struct trig_cron c = parse(g.text);
		int64_t T = ch[rng() % n];
		int64_t after = T - (int64_t)rnd(0, 36 * 3600);
		if (rng() % 4 == 0)
			after = T + (int64_t)rnd(0, 2 * 3600);
		for (int k = 0; k < 4; k++) {
			int64_t want = oracle_tz(&g, after, 3 * 86400);
			int64_t got = trig_cron_next(&c, tz, after);
			if (want == NONE) {
				CHECK(got > after + 3 * 86400, "%s '%s' after %lld: %lld, none",
				      name, g.text, (long long)after, (long long)got);
				break;
			}
			CHECK(got == want, "%s '%s' after %lld: got %lld, want %lld", name, g.text,
			      (long long)after, (long long)got, (long long)want);
			compared++;
			after = got;
		}
	}
	ck_assert_int_gt(compared, 400);
}
END_TEST

/* Listing fire times in a zone: strictly increasing, each a minute of
 * local time that matches, or the end of a gap that skipped one. */
START_TEST(test_next_zone_sequence)
{
	const struct trig_tz *tz = zone("Europe/Helsinki");
	static const unsigned stars[5] = { 10, 20, 60, 70, 60 };
	rng_state = 3;
	for (int i = 0; i < 300; i++) {
		struct gen g;
		gen_expr(&g, stars);
		struct trig_cron c = parse(g.text);
		int64_t t = at("2025-01-01T00:00:00Z") + (int64_t)(rng() % (3 * 365 * 86400));
		for (int k = 0; k < 50; k++) {
			int64_t next = trig_cron_next(&c, tz, t);
			if (next == TRIG_CRON_NEVER)
				break;
			CHECK(next > t, "'%s': %lld not after %lld", g.text, (long long)next,
			      (long long)t);
			int32_t off = trig_tz_offset(tz, next, NULL);
			int64_t local = next + off;
			bool gap_end = trig_tz_offset(tz, next - 1, NULL) < off;
			CHECK(local % 60 == 0 || gap_end, "'%s': %lld", g.text, (long long)next);
			CHECK(local_matches(&g, local) || gap_end, "'%s': %lld does not match",
			      g.text, (long long)next);
			t = next;
		}
	}
}
END_TEST

static Suite *cron_suite(void)
{
	Suite *s = suite_create("cron");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_fields);
	tcase_add_test(tc, test_macros);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_cron_at);
	tcase_add_test(tc, test_can_fire);
	suite_add_tcase(s, tc);
	tc = tcase_create("next");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_next_utc_cases);
	tcase_add_test(tc, test_next_utc_bruteforce);
	tcase_add_test(tc, test_dst_helsinki);
	tcase_add_test(tc, test_dst_new_york);
	tcase_add_test(tc, test_dst_lord_howe);
	tcase_add_test(tc, test_dst_apia);
	tcase_add_test(tc, test_dst_kathmandu);
	tcase_add_loop_test(tc, test_next_zone_bruteforce, 0, 8);
	tcase_add_test(tc, test_next_zone_sequence);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(cron_suite)
