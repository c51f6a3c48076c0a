/*
 * cron.c — cron expression parser, can-fire check and next fire time.
 *
 * trig_cron_next() maps local civil times to instants with
 * trig_tz_local_to_utc(): f(L) = the first instant the clock shows L or
 * later.  f is monotone, so the first fire strictly after `after` is f of
 * the first matching local minute L greater than every local time shown up
 * to `after` (trig_tz_local_reached()), and the search for L never has to
 * look at the zone again: it walks the calendar with the bitsets, skipping
 * whole months, days and hours at once.
 */
#include "cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "timeutil.h"

#define MINUTE_MASK ((UINT64_C(1) << 60) - 1)
#define HOUR_MASK   ((UINT32_C(1) << 24) - 1)
#define DOM_MASK    UINT32_C(0xfffffffe)
#define MONTH_MASK  ((uint16_t)0x1ffe)
#define DOW_MASK    ((uint8_t)0x7f)
#define CRON_LIMIT  (INT64_C(1) << 55)
#define HORIZON_YEARS 400

/* ------------------------------------------------------------ parsing */

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
};
static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat",
};

struct field_spec {
	const char *what;               /* for messages */
	unsigned min, max;
	const char *const *names;       /* names[i] means min + i */
	unsigned nnames;
	const char *name_kind;          /* "month", "day" */
};

static const struct field_spec field_specs[5] = {
	{ "minute", 0, 59, NULL, 0, NULL },
	{ "hour", 0, 23, NULL, 0, NULL },
	{ "day of month", 1, 31, NULL, 0, NULL },
	{ "month", 1, 12, month_names, 12, "month" },
	{ "day of week", 0, 7, day_names, 7, "day" },
};

struct cparse {
	const char *expr;
	struct trig_cron_error *err;
};

static int fail(struct cparse *cp, const char *at, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct cparse *cp, const char *at, size_t len, const char *fmt, ...)
{
	if (cp->err) {
		va_list ap;
		cp->err->offset = (unsigned)(at - cp->expr);
		cp->err->len = (unsigned)len;
		va_start(ap, fmt);
		vsnprintf(cp->err->msg, sizeof(cp->err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Text of a token for a message: at most 32 bytes of it. */
#define SHOWN(len) (int)((len) > 32 ? 32 : (len))

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int unexpected(struct cparse *cp, const char *at, const struct field_spec *fs)
{
	unsigned char c = (unsigned char)*at;
	if (c == '?')
		return fail(cp, at, 1, "unsupported '?' in %s field: use '*'", fs->what);
	if (c >= 0x20 && c < 0x7f)
		return fail(cp, at, 1, "unexpected '%c' in %s field", c, fs->what);
	return fail(cp, at, 1, "unexpected byte 0x%02x in %s field", c, fs->what);
}

/* A number or name at *s (a run of letters and digits up to end). */
static int parse_value(struct cparse *cp, const struct field_spec *fs, const char **s,
		       const char *end, unsigned *out)
{
	const char *b = *s, *p = b;
	bool digits = true, letters = true;
	while (p < end && (is_digit(*p) || is_alpha(*p))) {
		digits &= is_digit(*p);
		letters &= is_alpha(*p);
		p++;
	}
	size_t n = (size_t)(p - b);
	if (n == 0)
		return p < end ? unexpected(cp, p, fs)
			       : fail(cp, p, 0, "missing %s value", fs->what);
	if (digits) {
		unsigned v = 0;
		for (const char *q = b; q < p && v <= 1000; q++)
			v = v * 10 + (unsigned)(*q - '0');
		if (v < fs->min || v > fs->max)
			return fail(cp, b, n, "%s '%.*s' is out of range %u-%u", fs->what,
				    SHOWN(n), b, fs->min, fs->max);
		*out = v;
	} else if (letters && fs->names) {
		unsigned i = 0;
		for (; i < fs->nnames; i++) {
			if (n == 3 && lower(b[0]) == fs->names[i][0] &&
			    lower(b[1]) == fs->names[i][1] && lower(b[2]) == fs->names[i][2])
				break;
		}
		if (i == fs->nnames)
			return fail(cp, b, n, "unknown %s name '%.*s'", fs->name_kind, SHOWN(n), b);
		*out = fs->min + i;
	} else if (fs->names) {
		return fail(cp, b, n, "%s '%.*s' is not a number or a %s name", fs->what,
			    SHOWN(n), b, fs->name_kind);
	} else {
		return fail(cp, b, n, "%s '%.*s' is not a number", fs->what, SHOWN(n), b);
	}
	*s = p;
	return 0;
}

/* The step after a '/' at *s. */
static int parse_step(struct cparse *cp, const struct field_spec *fs, const char **s,
		      const char *end, unsigned *out)
{
	const char *slash = *s - 1, *b = *s, *p = b;
	while (p < end && (is_digit(*p) || is_alpha(*p)))
		p++;
	size_t n = (size_t)(p - b);
	if (n == 0)
		return p < end && *p != ',' ? unexpected(cp, p, fs)
					    : fail(cp, slash, 1, "missing step after '/'");
	unsigned v = 0;
	for (const char *q = b; q < p; q++) {
		if (!is_digit(*q))
			return fail(cp, b, n, "step '%.*s' is not a number", SHOWN(n), b);
		if (v <= 1000)
			v = v * 10 + (unsigned)(*q - '0');
	}
	if (v == 0)
		return fail(cp, b, n, "step '%.*s' must be at least 1", SHOWN(n), b);
	if (v > fs->max)
		return fail(cp, b, n, "step '%.*s' is out of range 1-%u", SHOWN(n), b, fs->max);
	*out = v;
	*s = p;
	return 0;
}

/* The "-M" of a range "N-M" starting at item, *s at the '-'. */
static int parse_range_end(struct cparse *cp, const struct field_spec *fs, const char *item,
			   const char **s, const char *end, unsigned lo, unsigned *hi)
{
	const char *p = *s + 1;
	size_t n = (size_t)(p - item);
	if (p == end || *p == ',' || *p == '/')
		return fail(cp, item, n, "range '%.*s' has no end", SHOWN(n), item);
	if (parse_value(cp, fs, &p, end, hi))
		return -1;
	n = (size_t)(p - item);
	if (*hi < lo)
		return fail(cp, item, n, "range '%.*s' is backwards", SHOWN(n), item);
	*s = p;
	return 0;
}

/* One field, [b, end): a comma list of items. */
static int parse_field(struct cparse *cp, const struct field_spec *fs, const char *b,
		       const char *end, uint64_t *bits)
{
	const char *s = b;
	*bits = 0;
	for (;;) {
		const char *item = s;
		unsigned lo, hi, step = 1;
		if (s == end || *s == ',')
			return fail(cp, s < end ? s : s - 1, 1, "empty item in %s list", fs->what);
		if (*s == '*') {
			s++;
			lo = fs->min;
			hi = fs->max;
			if (s < end && *s == '/') {
				s++;
				if (parse_step(cp, fs, &s, end, &step))
					return -1;
			}
		} else {
			if (parse_value(cp, fs, &s, end, &lo))
				return -1;
			hi = lo;
			bool range = s < end && *s == '-';
			if (range && parse_range_end(cp, fs, item, &s, end, lo, &hi))
				return -1;
			if (s < end && *s == '/') {
				if (!range)
					hi = fs->max;   /* N/S: N to the maximum */
				s++;
				if (parse_step(cp, fs, &s, end, &step))
					return -1;
			}
		}
		for (unsigned v = lo; v <= hi; v += step)
			*bits |= UINT64_C(1) << v;
		if (s == end)
			return 0;
		if (*s != ',')
			return unexpected(cp, s, fs);
		s++;
		if (s == end)
			return fail(cp, s - 1, 1, "empty item in %s list", fs->what);
	}
}

static const struct {
	const char *name;
	const char *expr;
} cron_macros[] = {
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

static bool same_word(const char *a, size_t n, const char *b)
{
	if (strlen(b) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != b[i])
			return false;
	return true;
}

static int parse_fields(struct cparse *cp, const char *expr, struct trig_cron *out);

static int parse_macro(struct cparse *cp, const char *b, struct trig_cron *out)
{
	const char *p = b;
	while (*p && !is_blank(*p))
		p++;
	size_t n = (size_t)(p - b);
	const char *rest = p;
	while (is_blank(*rest))
		rest++;
	if (same_word(b, n, "@reboot"))
		return fail(cp, b, n, "unsupported '@reboot': trig has no boot-time schedule");
	for (size_t i = 0; i < sizeof(cron_macros) / sizeof(cron_macros[0]); i++) {
		if (!same_word(b, n, cron_macros[i].name))
			continue;
		if (*rest) {
			const char *e = rest + strlen(rest);
			while (e > rest && is_blank(e[-1]))
				e--;
			return fail(cp, rest, (size_t)(e - rest), "unexpected '%.*s' after '%.*s'",
				    SHOWN(e - rest), rest, SHOWN(n), b);
		}
		struct cparse inner = { cron_macros[i].expr, NULL };
		return parse_fields(&inner, cron_macros[i].expr, out);
	}
	return fail(cp, b, n, "unknown macro '%.*s'", SHOWN(n), b);
}

static int parse_fields(struct cparse *cp, const char *expr, struct trig_cron *out)
{
	const char *fb[5], *fe[5];
	const char *extra = NULL, *last_end = NULL;
	unsigned nf = 0;
	const char *p = expr;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		const char *b = p;
		while (*p && !is_blank(*p))
			p++;
		if (nf < 5) {
			fb[nf] = b;
			fe[nf] = p;
		} else if (!extra) {
			extra = b;
		}
		last_end = p;
		nf++;
	}
	if (nf == 0)
		return fail(cp, expr, 0, "empty cron expression");
	if (nf > 5)
		return fail(cp, extra, (size_t)(last_end - extra),
			    "expected 5 fields, found %u", nf);
	if (nf < 5)
		return fail(cp, fb[0], (size_t)(last_end - fb[0]),
			    "expected 5 fields, found %u", nf);

	uint64_t bits[5];
	for (unsigned i = 0; i < 5; i++)
		if (parse_field(cp, &field_specs[i], fb[i], fe[i], &bits[i]))
			return -1;
	memset(out, 0, sizeof(*out));
	out->minute = bits[0];
	out->hour = (uint32_t)bits[1];
	out->dom = (uint32_t)bits[2];
	out->month = (uint16_t)bits[3];
	out->dow = (uint8_t)((bits[4] | bits[4] >> 7) & DOW_MASK);    /* 7 is Sunday */
	out->flags = (uint8_t)((*fb[2] == '*' ? TRIG_CRON_DOM_STAR : 0) |
			       (*fb[4] == '*' ? TRIG_CRON_DOW_STAR : 0));
	return 0;
}

int trig_cron_parse(const char *expr, struct trig_cron *out, struct trig_cron_error *err)
{
	struct cparse cp = { expr ? expr : "", err };
	const char *p = cp.expr;
	struct trig_cron c;
	while (is_blank(*p))
		p++;
	int r = *p == '@' ? parse_macro(&cp, p, &c) : parse_fields(&cp, cp.expr, &c);
	if (r == 0)
		*out = c;
	return r;
}

int trig_cron_at(const char *hhmm, unsigned *hour, unsigned *minute,
		 struct trig_cron_error *err)
{
	struct cparse cp = { hhmm ? hhmm : "", err };
	const char *s = cp.expr, *p = s;
	size_t total = strlen(s);
	unsigned h = 0, m = 0;
	while (is_digit(*p) && p - s < 2)
		h = h * 10 + (unsigned)(*p++ - '0');
	const char *colon = p;
	if (p == s || *p != ':' || !is_digit(p[1]) || !is_digit(p[2]) || p[3])
		return fail(&cp, s, total, "time '%.*s' is not in HH:MM form",
			    SHOWN(total), s);
	m = (unsigned)(p[1] - '0') * 10 + (unsigned)(p[2] - '0');
	if (h > 23)
		return fail(&cp, s, (size_t)(colon - s), "hour '%.*s' is out of range 0-23",
			    (int)(colon - s), s);
	if (m > 59)
		return fail(&cp, colon + 1, 2, "minute '%.2s' is out of range 0-59", colon + 1);
	*hour = h;
	*minute = m;
	return 0;
}

/* ------------------------------------------------------------ matching */

static unsigned ctz64(uint64_t v)
{
	return (unsigned)__builtin_ctzll(v);
}

/* Bits 1..31: the days of month y-mo that match the day fields. */
static uint32_t day_mask(const struct trig_cron *c, int64_t y, unsigned mo)
{
	unsigned dim = trig_days_in_month(y, mo);
	uint32_t valid = (uint32_t)(((UINT64_C(1) << dim) - 1) << 1);
	unsigned wd1 = trig_weekday(trig_days_from_civil(y, mo, 1));
	/* bit i of r: day i+1 has a matching weekday, (wd1 + i) % 7. */
	uint64_t r = ((uint64_t)(c->dow >> wd1) | (uint64_t)c->dow << (7 - wd1)) & 0x7f;
	uint64_t rep = r | r << 7 | r << 14 | r << 21 | r << 28;
	uint32_t dowdays = (uint32_t)((rep << 1) & 0xfffffffe);
	uint32_t days;
	if (c->flags & (TRIG_CRON_DOM_STAR | TRIG_CRON_DOW_STAR))
		days = c->dom & dowdays;
	else
		days = c->dom | dowdays;
	return days & valid;
}

/* The fields with bits outside their ranges cleared. */
static struct trig_cron cron_clean(const struct trig_cron *in)
{
	struct trig_cron c = *in;
	c.minute &= MINUTE_MASK;
	c.hour &= HOUR_MASK;
	c.dom &= DOM_MASK;
	c.month &= MONTH_MASK;
	c.dow &= DOW_MASK;
	return c;
}

bool trig_cron_can_fire(const struct trig_cron *in)
{
	struct trig_cron c = cron_clean(in);
	if (!c.minute || !c.hour || !c.month || !c.dom || !c.dow)
		return false;
	/* The Gregorian calendar repeats every 400 years. */
	for (int64_t y = 2000; y < 2000 + HORIZON_YEARS; y++)
		for (unsigned mo = 1; mo <= 12; mo++)
			if ((c.month >> mo & 1) && day_mask(&c, y, mo))
				return true;
	return false;
}

/* The first local minute >= start (a minute boundary, local seconds) that
 * matches c, or false when none comes within the horizon. */
static bool next_local(const struct trig_cron *c, int64_t start, int64_t *out)
{
	int64_t days = start / 86400, y;
	if (start % 86400 < 0)
		days--;
	unsigned sod = (unsigned)(start - days * 86400);
	unsigned mo, d, h = sod / 3600, mi = sod / 60 % 60;
	trig_civil_from_days(days, &y, &mo, &d);
	const int64_t ylimit = y + HORIZON_YEARS;
	uint32_t dm = 0;
	int64_t dm_y = 0;
	unsigned dm_mo = 0;

	for (;;) {
		if (mo > 12) {
			mo = 1;
			y++;
		}
		if (y > ylimit)
			return false;
		if (!(c->month >> mo & 1)) {
			uint32_t later = c->month & ~((2u << mo) - 1);
			if (later) {
				mo = ctz64(later);
			} else {
				y++;
				mo = ctz64(c->month);
			}
			d = 1;
			h = mi = 0;
			continue;
		}
		if (dm_y != y || dm_mo != mo) {
			dm = day_mask(c, y, mo);
			dm_y = y;
			dm_mo = mo;
		}
		uint32_t days_left = d > 31 ? 0 : dm & ~((UINT32_C(1) << d) - 1);
		if (!days_left) {
			mo++;
			d = 1;
			h = mi = 0;
			continue;
		}
		unsigned nd = ctz64(days_left);
		if (nd != d) {
			d = nd;
			h = mi = 0;
		}
		uint32_t hours_left = h > 23 ? 0 : c->hour & ~((UINT32_C(1) << h) - 1);
		if (!hours_left) {
			d++;
			h = mi = 0;
			continue;
		}
		unsigned nh = ctz64(hours_left);
		if (nh != h) {
			h = nh;
			mi = 0;
		}
		uint64_t mins_left = mi > 59 ? 0 : c->minute & ~((UINT64_C(1) << mi) - 1);
		if (!mins_left) {
			h++;
			mi = 0;
			continue;
		}
		mi = ctz64(mins_left);
		*out = trig_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
		return true;
	}
}

int64_t trig_cron_next(const struct trig_cron *in, const struct trig_tz *tz, int64_t after)
{
	struct trig_cron c = cron_clean(in);
	if (!c.minute || !c.hour || !c.month || !c.dom || !c.dow)
		return TRIG_CRON_NEVER;
	if (after > CRON_LIMIT)
		return TRIG_CRON_NEVER;
	if (after < -CRON_LIMIT)
		after = -CRON_LIMIT;
	/* Local times up to `reached` have all been shown by `after`: the
	 * next fire is the first matching minute past them. */
	int64_t reached = tz ? trig_tz_local_reached(tz, after) : after;
	int64_t start = reached - (reached % 60 + 60) % 60 + 60;
	int64_t local;
	if (!next_local(&c, start, &local))
		return TRIG_CRON_NEVER;
	return tz ? trig_tz_local_to_utc(tz, local, NULL) : local;
}
