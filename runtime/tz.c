/*
 * tz.c — TZif reader and UTC offset / local time arithmetic.
 *
 * A zone is a table of transitions (instant, time type) followed, for
 * instants at or after the last transition, by the footer's POSIX TZ rule
 * (RFC 8536 §3.3).  Everything is seen through one primitive, tz_period():
 * the offset in effect at an instant and the bounds of the stretch of time
 * over which the zone says it stays in effect.  Local-to-UTC conversion
 * walks the few periods that can contain a given local time: those inside
 * [local - max offset, local - min offset].
 *
 * The file is outside input: every count and index is checked against the
 * bytes actually present before it is used (tests/fuzz/fuzz_tzif.c).
 */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "timeutil.h"

#define TZ_LIMIT   (INT64_C(1) << 60)   /* arguments are clamped to ±this */
#define TZ_MIN_T   (-(INT64_C(1) << 62)) /* open ends of periods */
#define TZ_MAX_T   (INT64_C(1) << 62)
#define TZ_MAX_OFF 93599                /* 25:59:59, RFC 8536 §3.2 */
#define TZ_ABBR_MAX 31
#define TZ_FILE_MAX (1 << 22)
#define TZ_NAME_MAX 255

struct tz_type {
	int32_t utoff;
	bool isdst;
	uint32_t abbr;          /* index into chars */
};

enum tz_date_kind { DATE_JULIAN1, DATE_JULIAN0, DATE_MONTH };

/* A rule date: Jn (1..365, no Feb 29), n (0..365) or Mm.w.d; secs is the
 * local time of day of the change, -167 h .. 167 h. */
struct tz_date {
	enum tz_date_kind kind;
	int n, m, w, d;
	int32_t secs;
};

struct tz_rule {
	int32_t std_off, dst_off;       /* seconds east */
	bool has_dst;
	struct tz_date start, end;
	char std_abbr[TZ_ABBR_MAX + 1], dst_abbr[TZ_ABBR_MAX + 1];
};

struct trig_tz {
	char *name;
	size_t ntrans;
	int64_t *trans;
	uint8_t *ttype;
	size_t ntypes;
	struct tz_type *types;
	char *chars;
	bool has_rule;
	struct tz_rule rule;
	int32_t min_off, max_off;
	bool fixed;             /* one offset at all times */
	int32_t fixed_off;
	const char *fixed_abbr;
	bool builtin;
};

struct tz_period {
	int64_t start, end;     /* [start, end) in unix seconds */
	int32_t off;
	bool isdst;
	const char *abbr;
};

static struct tz_type utc_type = { 0, false, 0 };
static char utc_chars[] = "UTC";
static char utc_name[] = "UTC";
static struct trig_tz utc_zone = {
	.name = utc_name, .ntypes = 1, .types = &utc_type, .chars = utc_chars,
	.fixed = true, .fixed_abbr = utc_chars, .builtin = true,
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int64_t clamp_t(int64_t t)
{
	return t < -TZ_LIMIT ? -TZ_LIMIT : t > TZ_LIMIT ? TZ_LIMIT : t;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b < 0) ? q - 1 : q;
}

/* ------------------------------------------------------------ POSIX rule */

/* Unix time of a rule date in year y at its local time, before the offset
 * is taken off. */
static int64_t rule_local(const struct tz_date *d, int64_t y)
{
	int64_t days;
	switch (d->kind) {
	case DATE_JULIAN1: {
		int doy = d->n - 1;
		unsigned feb = trig_days_in_month(y, 2);
		if (feb == 29 && d->n >= 60)
			doy++;
		days = trig_days_from_civil(y, 1, 1) + doy;
		break;
	}
	case DATE_JULIAN0:
		days = trig_days_from_civil(y, 1, 1) + d->n;
		break;
	default: {
		int64_t first = trig_days_from_civil(y, (unsigned)d->m, 1);
		int wd = (int)trig_weekday(first);
		int dd = (d->d - wd + 7) % 7 + 7 * (d->w - 1);
		int dim = (int)trig_days_in_month(y, (unsigned)d->m);
		while (dd >= dim)
			dd -= 7;
		days = first + dd;
		break;
	}
	}
	return days * 86400 + d->secs;
}

struct rule_event {
	int64_t t;
	int64_t year;
	bool dst;               /* the state the event switches to */
};

static bool event_before(const struct rule_event *a, const struct rule_event *b)
{
	if (a->t != b->t)
		return a->t < b->t;
	if (a->year != b->year)
		return a->year < b->year;
	return a->dst && !b->dst;       /* a year's start before its end */
}

static void rule_period(const struct tz_rule *r, int64_t t, struct tz_period *p)
{
	if (!r->has_dst) {
		p->start = TZ_MIN_T;
		p->end = TZ_MAX_T;
		p->off = r->std_off;
		p->isdst = false;
		p->abbr = r->std_abbr;
		return;
	}
	/* A year's changes lie within 8 days of the year (times up to 167 h,
	 * offsets up to 26 h), so with t in UTC year y the changes of y-2
	 * are all before t and those of y+2 all after it. */
	int64_t y;
	unsigned m, d;
	trig_civil_from_days(floor_div(t, 86400), &y, &m, &d);
	struct rule_event ev[10];
	size_t n = 0;
	for (int64_t yy = y - 2; yy <= y + 2; yy++) {
		ev[n++] = (struct rule_event){ rule_local(&r->start, yy) - r->std_off, yy, true };
		ev[n++] = (struct rule_event){ rule_local(&r->end, yy) - r->dst_off, yy, false };
	}
	for (size_t i = 1; i < n; i++) {
		struct rule_event e = ev[i];
		size_t j = i;
		for (; j > 0 && event_before(&e, &ev[j - 1]); j--)
			ev[j] = ev[j - 1];
		ev[j] = e;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (ev[i].t <= t)
			k = i;
	p->start = ev[k].t;
	p->end = k + 1 < n ? ev[k + 1].t : TZ_MAX_T;
	p->isdst = ev[k].dst;
	p->off = ev[k].dst ? r->dst_off : r->std_off;
	p->abbr = ev[k].dst ? r->dst_abbr : r->std_abbr;
}

/* ------------------------------------------------------------ periods */

static void type_period(const struct trig_tz *tz, size_t type, struct tz_period *p)
{
	const struct tz_type *ty = &tz->types[type];
	p->off = ty->utoff;
	p->isdst = ty->isdst;
	p->abbr = tz->chars + ty->abbr;
}

/* The period containing instant t (already clamped). */
static void tz_period(const struct trig_tz *tz, int64_t t, struct tz_period *p)
{
	size_t n = tz->ntrans;
	if (tz->fixed) {
		p->start = TZ_MIN_T;
		p->end = TZ_MAX_T;
		p->off = tz->fixed_off;
		p->isdst = false;
		p->abbr = tz->fixed_abbr;
	} else if (n && t < tz->trans[0]) {
		type_period(tz, 0, p);  /* RFC 8536: type 0 before the first */
		p->start = TZ_MIN_T;
		p->end = tz->trans[0];
	} else if (n && t < tz->trans[n - 1]) {
		size_t lo = 0, hi = n - 1;      /* trans[lo] <= t < trans[hi] */
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;
			if (tz->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		type_period(tz, tz->ttype[lo], p);
		p->start = tz->trans[lo];
		p->end = tz->trans[hi];
	} else {
		int64_t last = n ? tz->trans[n - 1] : TZ_MIN_T;
		if (tz->has_rule) {
			rule_period(&tz->rule, t, p);
			if (p->start < last)
				p->start = last;
		} else {
			type_period(tz, n ? tz->ttype[n - 1] : 0, p);
			p->start = last;
			p->end = TZ_MAX_T;
		}
	}
}

int32_t trig_tz_offset(const struct trig_tz *tz, int64_t utc, const char **abbrev)
{
	struct tz_period p;
	if (!tz)
		tz = &utc_zone;
	tz_period(tz, clamp_t(utc), &p);
	if (abbrev)
		*abbrev = p.abbr;
	return p.off;
}

int64_t trig_tz_local_to_utc(const struct trig_tz *tz, int64_t local, int *kind)
{
	if (!tz)
		tz = &utc_zone;
	local = clamp_t(local);
	if (tz->fixed) {
		if (kind)
			*kind = TRIG_TZ_NORMAL;
		return local - tz->fixed_off;
	}
	/* Every instant whose clock shows `local` lies in
	 * [local - max_off, local - min_off]; so does the end of a gap
	 * that skips it.  Walk the periods over that window in order. */
	struct tz_period p;
	int64_t hi = local - tz->min_off;
	int64_t found = 0;
	int k = -1, count = 0;
	tz_period(tz, local - tz->max_off, &p);
	for (;;) {
		int64_t ls = p.start + p.off, le = p.end + p.off;
		if (ls <= local && local < le) {
			if (k < 0) {
				found = local - p.off;
				k = TRIG_TZ_NORMAL;
			}
			count++;
		} else if (k < 0 && ls > local) {
			found = p.start;
			k = TRIG_TZ_GAP;
		}
		if (p.end > hi || p.end >= TZ_MAX_T)
			break;
		tz_period(tz, p.end, &p);
	}
	if (k < 0) {            /* unreachable with consistent bounds */
		found = hi;
		k = TRIG_TZ_NORMAL;
	}
	if (k == TRIG_TZ_NORMAL && count > 1)
		k = TRIG_TZ_FOLD;
	if (kind)
		*kind = k;
	return found;
}

int64_t trig_tz_local_reached(const struct trig_tz *tz, int64_t utc)
{
	if (!tz)
		tz = &utc_zone;
	utc = clamp_t(utc);
	if (tz->fixed)
		return utc + tz->fixed_off;
	/* Before utc - (max_off - min_off) the clock showed less than it
	 * shows at utc; only the periods since can hold a later local time. */
	struct tz_period p;
	int64_t best = INT64_MIN;
	tz_period(tz, utc - ((int64_t)tz->max_off - tz->min_off), &p);
	while (p.end <= utc) {
		if (p.end - 1 + p.off > best)
			best = p.end - 1 + p.off;
		tz_period(tz, p.end, &p);
	}
	if (utc + p.off > best)
		best = utc + p.off;
	return best;
}

const struct trig_tz *trig_tz_utc(void)
{
	return &utc_zone;
}

const char *trig_tz_name(const struct trig_tz *tz)
{
	return tz ? tz->name : utc_zone.name;
}

void trig_tz_free(struct trig_tz *tz)
{
	if (!tz || tz->builtin)
		return;
	free(tz->name);
	free(tz->trans);
	free(tz->ttype);
	free(tz->types);
	free(tz->chars);
	free(tz);
}

/* ------------------------------------------------------------ TZ strings */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Reads 1..maxd digits as an int no greater than max. */
static bool tz_num(const char **s, int maxd, int max, int *out)
{
	int v = 0, nd = 0;
	while (is_digit(**s) && nd < maxd) {
		v = v * 10 + (**s - '0');
		(*s)++;
		nd++;
	}
	if (!nd || is_digit(**s) || v > max)
		return false;
	*out = v;
	return true;
}

static bool tz_abbr(const char **s, char out[TZ_ABBR_MAX + 1])
{
	const char *p = *s;
	size_t n = 0;
	if (*p == '<') {
		p++;
		while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-') {
			if (n == TZ_ABBR_MAX)
				return false;
			out[n++] = *p++;
		}
		if (*p++ != '>')
			return false;
	} else {
		while (is_alpha(*p)) {
			if (n == TZ_ABBR_MAX)
				return false;
			out[n++] = *p++;
		}
	}
	if (n < 1)
		return false;
	out[n] = '\0';
	*s = p;
	return true;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh: seconds, signed. */
static bool tz_hms(const char **s, int maxh, int32_t *out)
{
	int sign = 1, h, m = 0, sec = 0;
	if (**s == '+' || **s == '-')
		sign = *(*s)++ == '-' ? -1 : 1;
	if (!tz_num(s, 3, maxh, &h))
		return false;
	if (**s == ':') {
		(*s)++;
		if (!tz_num(s, 2, 59, &m))
			return false;
		if (**s == ':') {
			(*s)++;
			if (!tz_num(s, 2, 59, &sec))
				return false;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return true;
}

static bool tz_date(const char **s, struct tz_date *d)
{
	d->secs = 2 * 3600;
	if (**s == 'J') {
		(*s)++;
		d->kind = DATE_JULIAN1;
		if (!tz_num(s, 3, 365, &d->n) || d->n < 1)
			return false;
	} else if (**s == 'M') {
		(*s)++;
		d->kind = DATE_MONTH;
		if (!tz_num(s, 2, 12, &d->m) || d->m < 1 || *(*s)++ != '.' ||
		    !tz_num(s, 1, 5, &d->w) || d->w < 1 || *(*s)++ != '.' ||
		    !tz_num(s, 1, 6, &d->d))
			return false;
	} else {
		d->kind = DATE_JULIAN0;
		if (!tz_num(s, 3, 365, &d->n))
			return false;
	}
	if (**s == '/') {
		(*s)++;
		if (!tz_hms(s, 167, &d->secs))
			return false;
	}
	return true;
}

/* std offset [dst [offset] ,start[/time],end[/time]] (POSIX, RFC 8536 §3.3). */
static bool tz_rule_parse(const char *s, struct tz_rule *r)
{
	int32_t v;
	memset(r, 0, sizeof(*r));
	if (!tz_abbr(&s, r->std_abbr) || !tz_hms(&s, 24, &v))
		return false;
	r->std_off = -v;
	if (!*s)
		return r->std_off >= -TZ_MAX_OFF && r->std_off <= TZ_MAX_OFF;
	r->has_dst = true;
	if (!tz_abbr(&s, r->dst_abbr))
		return false;
	r->dst_off = r->std_off + 3600;
	if (*s && *s != ',') {
		if (!tz_hms(&s, 24, &v))
			return false;
		r->dst_off = -v;
	}
	/* POSIX leaves a missing rule to the implementation; zic always
	 * writes one. */
	if (*s++ != ',' || !tz_date(&s, &r->start) || *s++ != ',' ||
	    !tz_date(&s, &r->end) || *s)
		return false;
	return r->std_off >= -TZ_MAX_OFF && r->std_off <= TZ_MAX_OFF &&
	       r->dst_off >= -TZ_MAX_OFF && r->dst_off <= TZ_MAX_OFF;
}

/* ------------------------------------------------------------ TZif */

struct tzif_header {
	unsigned char version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);
	return v > INT64_MAX ? -(int64_t)(~v) - 1 : (int64_t)v;
}

static int32_t be32s(const unsigned char *p)
{
	uint32_t v = be32(p);
	return v > INT32_MAX ? -(int32_t)(~v) - 1 : (int32_t)v;
}

static const char *tzif_header(const unsigned char *p, size_t avail, struct tzif_header *h)
{
	if (avail < 44)
		return "truncated header";
	if (memcmp(p, "TZif", 4) != 0)
		return "bad magic (not a TZif file)";
	h->version = p[4];
	if (h->version != 0 && (h->version < '2' || h->version > '4'))
		return "unknown TZif version";
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	return NULL;
}

static uint64_t tzif_data_size(const struct tzif_header *h, unsigned timesize)
{
	return (uint64_t)h->timecnt * (timesize + 1) + (uint64_t)h->typecnt * 6 +
	       h->charcnt + (uint64_t)h->leapcnt * (timesize + 4) +
	       h->isstdcnt + h->isutcnt;
}

/* Parses into tz (zeroed by the caller); returns NULL or what is wrong. */
static const char *tzif_parse(const unsigned char *data, size_t len, struct trig_tz *tz,
			      bool *unsupported)
{
	struct tzif_header h;
	const char *e = tzif_header(data, len, &h);
	if (e)
		return e;
	unsigned timesize = 4;
	const unsigned char *p = data + 44;
	size_t avail = len - 44;
	uint64_t size = tzif_data_size(&h, 4);
	if (size > avail)
		return "truncated version 1 data";
	if (h.version >= '2') {
		/* Skip the 32-bit data; use the 64-bit header and data. */
		p += size;
		avail -= (size_t)size;
		unsigned char v1 = h.version;
		if ((e = tzif_header(p, avail, &h)))
			return e;
		if (h.version != v1)
			return "the two headers disagree on the version";
		p += 44;
		avail -= 44;
		timesize = 8;
		size = tzif_data_size(&h, 8);
		if (size > avail)
			return "truncated version 2+ data";
	}
	if (h.typecnt == 0 || h.typecnt > 256)
		return "type count out of range 1-256";
	if (h.charcnt == 0)
		return "no abbreviation characters";
	if (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)
		return "standard/wall indicator count differs from the type count";
	if (h.isutcnt != 0 && h.isutcnt != h.typecnt)
		return "UT/local indicator count differs from the type count";
	if (h.leapcnt != 0) {
		*unsupported = true;
		return "it has leap-second records (a 'right/' zone), which are not supported";
	}

	const unsigned char *ptimes = p;
	const unsigned char *pidx = ptimes + (size_t)h.timecnt * timesize;
	const unsigned char *ptypes = pidx + h.timecnt;
	const unsigned char *pchars = ptypes + (size_t)h.typecnt * 6;
	const unsigned char *pstd = pchars + h.charcnt;     /* leapcnt == 0 */
	const unsigned char *put = pstd + h.isstdcnt;
	const unsigned char *end = put + h.isutcnt;

	tz->ntrans = h.timecnt;
	tz->ntypes = h.typecnt;
	tz->trans = trig_xcalloc(h.timecnt ? h.timecnt : 1, sizeof(int64_t));
	tz->ttype = trig_xcalloc(h.timecnt ? h.timecnt : 1, 1);
	tz->types = trig_xcalloc(h.typecnt, sizeof(struct tz_type));
	tz->chars = trig_xmalloc(h.charcnt);
	memcpy(tz->chars, pchars, h.charcnt);

	for (size_t i = 0; i < h.timecnt; i++) {
		int64_t t = timesize == 8 ? be64(ptimes + 8 * i) : be32s(ptimes + 4 * i);
		if (t < -TZ_LIMIT || t > TZ_LIMIT)
			return "transition time out of range";
		if (i && t <= tz->trans[i - 1])
			return "transition times not in ascending order";
		tz->trans[i] = t;
		if (pidx[i] >= h.typecnt)
			return "transition type index out of range";
		tz->ttype[i] = pidx[i];
	}
	for (size_t i = 0; i < h.typecnt; i++) {
		const unsigned char *q = ptypes + 6 * i;
		struct tz_type *ty = &tz->types[i];
		ty->utoff = be32s(q);
		if (ty->utoff < -TZ_MAX_OFF || ty->utoff > TZ_MAX_OFF)
			return "UTC offset out of range";
		if (q[4] > 1)
			return "DST indicator not 0 or 1";
		ty->isdst = q[4];
		ty->abbr = q[5];
		if (ty->abbr >= h.charcnt)
			return "abbreviation index out of range";
		if (!memchr(tz->chars + ty->abbr, '\0', h.charcnt - ty->abbr))
			return "abbreviation not NUL-terminated";
	}
	for (size_t i = 0; i < h.isstdcnt; i++)
		if (pstd[i] > 1)
			return "standard/wall indicator not 0 or 1";
	for (size_t i = 0; i < h.isutcnt; i++)
		if (put[i] > 1 || (put[i] && (!h.isstdcnt || !pstd[i])))
			return "bad UT/local indicator";

	if (timesize == 8) {
		/* Footer: "\n" TZ-string "\n". */
		size_t rest = len - (size_t)(end - data);
		if (rest < 2 || end[0] != '\n')
			return "missing footer";
		const unsigned char *nl = memchr(end + 1, '\n', rest - 1);
		if (!nl)
			return "unterminated footer";
		size_t slen = (size_t)(nl - end - 1);
		if (nl + 1 != data + len)
			return "trailing data after the footer";
		if (slen) {
			char s[128];
			if (slen >= sizeof(s) || memchr(end + 1, '\0', slen))
				return "footer TZ string too long";
			memcpy(s, end + 1, slen);
			s[slen] = '\0';
			if (!tz_rule_parse(s, &tz->rule))
				return "footer TZ string is invalid";
			tz->has_rule = true;
		}
	} else if (end != data + len) {
		return "trailing data after the version 1 data";
	}

	/* Offset bounds, and the constant-offset shortcut. */
	tz->min_off = tz->max_off = tz->types[0].utoff;
	for (size_t i = 0; i < tz->ntypes; i++) {
		int32_t o = tz->types[i].utoff;
		tz->min_off = o < tz->min_off ? o : tz->min_off;
		tz->max_off = o > tz->max_off ? o : tz->max_off;
	}
	if (tz->has_rule) {
		int32_t a = tz->rule.std_off, b = tz->rule.has_dst ? tz->rule.dst_off : a;
		int32_t lo = a < b ? a : b, hi = a < b ? b : a;
		tz->min_off = lo < tz->min_off ? lo : tz->min_off;
		tz->max_off = hi > tz->max_off ? hi : tz->max_off;
	}
	if (tz->ntrans == 0 && (!tz->has_rule || !tz->rule.has_dst)) {
		tz->fixed = true;
		if (tz->has_rule) {
			tz->fixed_off = tz->rule.std_off;
			tz->fixed_abbr = tz->rule.std_abbr;
		} else {
			tz->fixed_off = tz->types[0].utoff;
			tz->fixed_abbr = tz->chars + tz->types[0].abbr;
		}
	}
	return NULL;
}

static struct trig_tz *tz_parse(const void *data, size_t len, const char *name,
				char *err, size_t errlen, bool *unsupported)
{
	struct trig_tz *tz = trig_xcalloc(1, sizeof(*tz));
	*unsupported = false;
	const char *e = tzif_parse(data, len, tz, unsupported);
	if (e) {
		seterr(err, errlen, "%s", e);
		trig_tz_free(tz);
		return NULL;
	}
	tz->name = trig_xstrdup(name ? name : "");
	return tz;
}

struct trig_tz *trig_tz_parse(const void *data, size_t len, const char *name,
			      char *err, size_t errlen)
{
	bool unsupported;
	if (!data) {
		seterr(err, errlen, "no data");
		return NULL;
	}
	return tz_parse(data, len, name, err, errlen, &unsupported);
}

/* ------------------------------------------------------------ loading */

static bool tz_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > TZ_NAME_MAX || name[0] == '/')
		return false;
	const char *comp = name;
	for (const char *p = name;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t cl = (size_t)(p - comp);
			if (cl == 0 || (cl == 1 && comp[0] == '.') ||
			    (cl == 2 && comp[0] == '.' && comp[1] == '.'))
				return false;
			if (!*p)
				return true;
			comp = p + 1;
		} else if (!is_alpha(*p) && !is_digit(*p) && *p != '_' && *p != '+' &&
			   *p != '-') {
			return false;
		}
	}
}

/* strerror() is not thread-safe; this is (GNU strerror_r). */
static const char *errstr(int e, char *buf, size_t n)
{
	return strerror_r(e, buf, n);
}

/* The name as it may appear in a message: at most 64 bytes, printable. */
static void printable(char out[80], const char *s)
{
	size_t i = 0;
	for (; s[i] && i < 64; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

struct trig_tz *trig_tz_load(const char *name, char *err, size_t errlen)
{
	char shown[80], eb[128];
	if (!name)
		name = "";
	printable(shown, name);
	if (!tz_name_ok(name)) {
		seterr(err, errlen, "invalid time zone name '%s'", shown);
		return NULL;
	}
	if (strcmp(name, "UTC") == 0)
		return &utc_zone;

	const char *dir = getenv("TZDIR");
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	char path[PATH_MAX];
	int pn = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (pn < 0 || (size_t)pn >= sizeof(path)) {
		seterr(err, errlen, "unknown time zone '%s'", shown);
		return NULL;
	}
	/* O_NONBLOCK: a FIFO in the way must not hang the loader. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			seterr(err, errlen, "unknown time zone '%s'", shown);
		else
			seterr(err, errlen, "cannot read time zone file '%s': %s", path,
			       errstr(errno, eb, sizeof(eb)));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		seterr(err, errlen, "cannot read time zone file '%s': %s", path,
		       errstr(errno, eb, sizeof(eb)));
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		seterr(err, errlen, "unknown time zone '%s'", shown);
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
		seterr(err, errlen, "time zone file '%s' is corrupt: %s", path,
		       S_ISREG(st.st_mode) ? "too large" : "not a regular file");
		close(fd);
		return NULL;
	}
	size_t size = (size_t)st.st_size, got = 0;
	unsigned char *data = trig_xmalloc(size ? size : 1);
	while (got < size) {
		ssize_t r = read(fd, data + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				seterr(err, errlen, "cannot read time zone file '%s': %s", path,
				       errstr(errno, eb, sizeof(eb)));
			else
				seterr(err, errlen, "time zone file '%s' is corrupt: %s", path,
				       "file shrank while being read");
			free(data);
			close(fd);
			return NULL;
		}
		got += (size_t)r;
	}
	close(fd);

	char detail[160];
	bool unsupported;
	struct trig_tz *tz = tz_parse(data, size, name, detail, sizeof(detail), &unsupported);
	free(data);
	if (!tz) {
		if (unsupported)
			seterr(err, errlen, "time zone file '%s' is not supported: %s", path,
			       detail);
		else
			seterr(err, errlen, "time zone file '%s' is corrupt: %s", path, detail);
	}
	return tz;
}

/* ------------------------------------------------------------ cache */

struct tz_cache_entry {
	struct trig_tz *tz;
	struct tz_cache_entry *next;
};

static pthread_mutex_t tz_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz_cache_entry *tz_cache;

const struct trig_tz *trig_tz_get(const char *name, char *err, size_t errlen)
{
	if (name && strcmp(name, "UTC") == 0)
		return &utc_zone;
	if (pthread_mutex_lock(&tz_cache_lock) != 0) {
		seterr(err, errlen, "cannot lock the time zone cache");
		return NULL;
	}
	struct trig_tz *tz = NULL;
	for (struct tz_cache_entry *e = tz_cache; e && name; e = e->next) {
		if (strcmp(e->tz->name, name) == 0) {
			tz = e->tz;
			break;
		}
	}
	if (!tz) {
		tz = trig_tz_load(name, err, errlen);
		if (tz && !tz->builtin) {
			struct tz_cache_entry *e = trig_xmalloc(sizeof(*e));
			e->tz = tz;
			e->next = tz_cache;
			tz_cache = e;
		}
	}
	pthread_mutex_unlock(&tz_cache_lock);
	return tz;
}
