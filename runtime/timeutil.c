/*
 * timeutil.c — calendar arithmetic, RFC 3339, durations and sizes.
 *
 * The calendar conversions are Howard Hinnant's algorithms
 * (http://howardhinnant.github.io/date_algorithms.html), written for
 * int64_t: a 400-year era is split off first so every intermediate value
 * stays small and non-negative.
 */
#include "timeutil.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

#define CIVIL_LIMIT (INT64_C(1) << 40)

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Floor division and the matching non-negative remainder (b > 0). */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b < 0) ? q - 1 : q;
}

int64_t trig_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y = clamp64(y, -CIVIL_LIMIT, CIVIL_LIMIT);
	if (m < 1 || m > 12) {
		/* Normalise out-of-range months into the year. */
		int64_t mm = (int64_t)m - 1;
		y += floor_div(mm, 12);
		m = (unsigned)(mm - floor_div(mm, 12) * 12) + 1;
	}
	if (d > 1u << 20)
		d = 1u << 20;
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;                                    /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void trig_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = clamp64(days, -CIVIL_LIMIT * 366, CIVIL_LIMIT * 366) + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;                                 /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);          /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                               /* [0, 11] */
	unsigned mm = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = mm;
	*y = yoe + era * 400 + (mm <= 2);
}

unsigned trig_weekday(int64_t days)
{
	int64_t r = (days % 7 + 7 + 4) % 7;     /* 1970-01-01 was a Thursday */
	return (unsigned)r;
}

static bool is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

unsigned trig_days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12)
		return 0;
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

int64_t trig_now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (int64_t)time(NULL) * 1000;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ RFC 3339 */

static char *put_digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

size_t trig_format_rfc3339(char buf[TRIG_RFC3339_MAX], int64_t unix_ms, int frac_digits)
{
	/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z */
	const int64_t lo = INT64_C(-62167219200000), hi = INT64_C(253402300799999);
	if (unix_ms < lo || unix_ms > hi) {
		buf[0] = '\0';
		return 0;
	}
	int64_t secs = floor_div(unix_ms, 1000);
	unsigned ms = (unsigned)(unix_ms - secs * 1000);
	int64_t days = floor_div(secs, 86400);
	unsigned sod = (unsigned)(secs - days * 86400);
	int64_t y;
	unsigned m, d;
	trig_civil_from_days(days, &y, &m, &d);

	char *p = buf;
	p = put_digits(p, (unsigned)y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = put_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, sod % 60, 2);
	if (frac_digits > 0) {
		if (frac_digits > 3)
			frac_digits = 3;
		static const unsigned div[4] = { 1000, 100, 10, 1 };
		*p++ = '.';
		p = put_digits(p, ms / div[frac_digits], frac_digits);
	}
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - buf);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly n digits at *s. */
static bool digits(const char **s, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit((*s)[i]))
			return false;
		v = v * 10 + (unsigned)((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return true;
}

int trig_parse_rfc3339(const char *s, int64_t *unix_ms)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	int64_t off = 0;

	if (!s || !digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) ||
	    *s++ != '-' || !digits(&s, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > trig_days_in_month(y, mo))
		return -1;
	bool leap_second = false;
	if (*s) {
		if (*s != 'T' && *s != 't' && *s != ' ')
			return -1;
		s++;
		if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi) ||
		    *s++ != ':' || !digits(&s, 2, &sec))
			return -1;
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		if (sec == 60) {
			leap_second = true;
			sec = 59;
		}
		if (*s == '.') {
			s++;
			if (!is_digit(*s))
				return -1;
			unsigned scale = 100;
			for (; is_digit(*s); s++) {
				ms += (unsigned)(*s - '0') * scale;
				scale /= 10;
			}
		}
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int sign = *s++ == '-' ? -1 : 1;
			unsigned oh, om;
			if (!digits(&s, 2, &oh) || *s++ != ':' || !digits(&s, 2, &om))
				return -1;
			if (oh > 23 || om > 59)
				return -1;
			off = sign * (int64_t)(oh * 3600 + om * 60);
		} else {
			return -1;
		}
		if (*s)
			return -1;
	}
	int64_t secs = trig_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	/* A leap second exists only as the last second of a UTC day. */
	if (leap_second && floor_div(secs, 60) * 60 - floor_div(secs, 86400) * 86400 != 86340)
		return -1;
	*unix_ms = secs * 1000 + ms;
	return 0;
}

/* ------------------------------------------------------------ durations */

static const struct {
	const char *name;
	int64_t ms;
} dur_units[] = {
	{ "d", INT64_C(86400000) },
	{ "h", INT64_C(3600000) },
	{ "m", INT64_C(60000) },
	{ "s", INT64_C(1000) },
	{ "ms", INT64_C(1) },
};
#define NDUR_UNITS (sizeof(dur_units) / sizeof(dur_units[0]))

/* Reads a run of digits as a uint64_t; false when there is none or it overflows. */
static bool read_u64(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	if (!is_digit(*p))
		return false;
	for (; is_digit(*p); p++) {
		unsigned dg = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - dg) / 10)
			return false;
		v = v * 10 + dg;
	}
	*s = p;
	*out = v;
	return true;
}

int trig_parse_duration(const char *s, int64_t *ms)
{
	if (!s || !*s)
		return -1;
	size_t next_unit = 0;   /* units must come in dur_units order */
	int64_t total = 0;
	while (*s) {
		uint64_t n;
		if (!read_u64(&s, &n))
			return -1;
		size_t u;
		if (s[0] == 'm' && s[1] == 's') {
			u = 4;
			s += 2;
		} else {
			for (u = 0; u < 4; u++)
				if (*s == dur_units[u].name[0])
					break;
			if (u == 4)
				return -1;      /* missing or unknown unit */
			s++;
		}
		if (u < next_unit)
			return -1;
		next_unit = u + 1;
		int64_t f = dur_units[u].ms;
		if (n > (uint64_t)(INT64_MAX / f))
			return -1;
		int64_t part = (int64_t)n * f;
		if (part > INT64_MAX - total)
			return -1;
		total += part;
	}
	*ms = total;
	return 0;
}

size_t trig_format_duration(char *buf, size_t n, int64_t ms)
{
	char tmp[48];
	char *p = tmp;
	uint64_t v = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
	if (ms < 0)
		*p++ = '-';
	if (v == 0) {
		*p++ = '0';
		*p++ = 's';
	}
	for (size_t u = 0; u < NDUR_UNITS && v; u++) {
		uint64_t f = (uint64_t)dur_units[u].ms;
		uint64_t q = v / f;
		if (!q)
			continue;
		v -= q * f;
		char num[24];
		int k = 0;
		do {
			num[k++] = (char)('0' + q % 10);
			q /= 10;
		} while (q);
		while (k)
			*p++ = num[--k];
		for (const char *un = dur_units[u].name; *un; un++)
			*p++ = *un;
	}
	size_t len = (size_t)(p - tmp);
	if (n) {
		size_t c = len < n - 1 ? len : n - 1;
		memcpy(buf, tmp, c);
		buf[c] = '\0';
	}
	return len;
}

/* ------------------------------------------------------------ sizes */

int trig_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *name;
		uint64_t mult;
	} units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KiB", UINT64_C(1) << 10 }, { "MiB", UINT64_C(1) << 20 },
		{ "GiB", UINT64_C(1) << 30 }, { "TiB", UINT64_C(1) << 40 },
		{ "KB", UINT64_C(1000) }, { "kB", UINT64_C(1000) },
		{ "MB", UINT64_C(1000000) }, { "GB", UINT64_C(1000000000) },
		{ "TB", UINT64_C(1000000000000) },
	};
	uint64_t n;
	if (!s || !read_u64(&s, &n))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].name) != 0)
			continue;
		if (n > UINT64_MAX / units[i].mult)
			return -1;
		*bytes = n * units[i].mult;
		return 0;
	}
	return -1;
}
