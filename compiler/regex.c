/*
 * regex.c — POSIX ERE to re2c, by recursive descent.  Every byte and
 * bracket expression becomes a re2c character class built from a 256-bit
 * set, so no character of the input is ever copied into re2c syntax.
 */
#include "regex.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rx {
	const char *s;
	size_t pos, len;
	char *out;
	size_t n, cap;
	size_t err_off;
	char *msg;
	size_t msglen;
	bool failed;
};

struct set {
	uint8_t bits[32];
};

static void set_add(struct set *s, unsigned c)
{
	s->bits[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static bool set_has(const struct set *s, unsigned c)
{
	return s->bits[c >> 3] & (1u << (c & 7));
}

static void put(struct rx *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char tmp[64];
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (r->n + (size_t)n + 1 > r->cap) {
		r->cap = (r->cap + (size_t)n + 1) * 2;
		char *p = realloc(r->out, r->cap);
		if (!p)
			abort();
		r->out = p;
	}
	memcpy(r->out + r->n, tmp, (size_t)n + 1);
	r->n += (size_t)n;
}

static int fail(struct rx *r, size_t at, const char *fmt, ...)
{
	if (!r->failed) {
		r->failed = true;
		r->err_off = at;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->msg, r->msglen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A set as a re2c class: [\x61-\x7a\x5f]. */
static int put_set(struct rx *r, const struct set *s, size_t at)
{
	bool any = false;
	for (unsigned c = 0; c < 256; c++)
		any = any || set_has(s, c);
	if (!any)
		return fail(r, at, "this bracket expression matches no character");
	put(r, "[");
	for (unsigned c = 0; c < 256;) {
		if (!set_has(s, c)) {
			c++;
			continue;
		}
		unsigned e = c;
		while (e + 1 < 256 && set_has(s, e + 1))
			e++;
		if (e == c)
			put(r, "\\x%02x", c);
		else
			put(r, "\\x%02x-\\x%02x", c, e);
		c = e + 1;
	}
	put(r, "]");
	return 0;
}

static void set_class(struct set *s, int (*pred)(int), bool negate)
{
	for (unsigned c = 0; c < 256; c++)
		if ((c < 128 && pred((int)c)) != negate)
			set_add(s, c);
}

static int is_word(int c)
{
	return isalnum(c) || c == '_';
}

static int is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* \d \w \s \D \W \S into S; false if E is not one of them. */
static bool escape_class(char e, struct set *s)
{
	switch (e) {
	case 'd': set_class(s, isdigit, false); return true;
	case 'D': set_class(s, isdigit, true); return true;
	case 'w': set_class(s, is_word, false); return true;
	case 'W': set_class(s, is_word, true); return true;
	case 's': set_class(s, is_space, false); return true;
	case 'S': set_class(s, is_space, true); return true;
	}
	return false;
}

static unsigned escape_byte(char e)
{
	return e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : (unsigned char)e;
}

static const struct {
	const char *name;
	int (*pred)(int);
} classes[] = {
	{ "alpha", isalpha }, { "digit", isdigit }, { "alnum", isalnum }, { "upper", isupper },
	{ "lower", islower }, { "space", isspace }, { "punct", ispunct }, { "xdigit", isxdigit },
	{ "blank", isblank }, { "cntrl", iscntrl }, { "print", isprint }, { "graph", isgraph },
};

/* [ ... ]: r->pos is just after '['. */
static int bracket(struct rx *r)
{
	size_t open = r->pos - 1;
	struct set s = { 0 };
	bool negate = false;
	if (r->pos < r->len && r->s[r->pos] == '^') {
		negate = true;
		r->pos++;
	}
	bool first = true;
	for (;;) {
		if (r->pos >= r->len)
			return fail(r, open, "'[' is not closed");
		unsigned char c = (unsigned char)r->s[r->pos];
		if (c == ']' && !first) {
			r->pos++;
			break;
		}
		first = false;
		if (c == '[' && r->pos + 1 < r->len && r->s[r->pos + 1] == ':') {
			const char *end = strstr(r->s + r->pos + 2, ":]");
			size_t nlen = end ? (size_t)(end - (r->s + r->pos + 2)) : 0;
			bool found = false;
			for (size_t i = 0; end && i < sizeof(classes) / sizeof(classes[0]); i++)
				if (strlen(classes[i].name) == nlen &&
				    !strncmp(classes[i].name, r->s + r->pos + 2, nlen)) {
					set_class(&s, classes[i].pred, false);
					found = true;
				}
			if (!found)
				return fail(r, r->pos, "unknown character class (expected [:alpha:], "
					    "[:digit:], [:space:], ...)");
			r->pos += nlen + 4;
			continue;
		}
		unsigned lo = c;
		r->pos++;
		if (c == '\\' && r->pos < r->len) {
			if (escape_class(r->s[r->pos], &s)) {
				r->pos++;
				continue;
			}
			lo = escape_byte(r->s[r->pos++]);
		}
		unsigned hi = lo;
		if (r->pos + 1 < r->len && r->s[r->pos] == '-' && r->s[r->pos + 1] != ']') {
			size_t at = r->pos;
			r->pos++;
			hi = (unsigned char)r->s[r->pos++];
			if (hi == '\\' && r->pos < r->len)
				hi = escape_byte(r->s[r->pos++]);
			if (hi < lo)
				return fail(r, at, "the range %c-%c is out of order", (int)lo, (int)hi);
		}
		for (unsigned x = lo; x <= hi; x++)
			set_add(&s, x);
	}
	if (negate)
		for (unsigned i = 0; i < 32; i++)
			s.bits[i] = (uint8_t)~s.bits[i];
	return put_set(r, &s, open);
}

static int alternation(struct rx *r, int depth);

/* One atom; 1 when there was one, 0 at a '|', ')' or the end. */
static int atom(struct rx *r, int depth)
{
	if (r->pos >= r->len)
		return 0;
	size_t at = r->pos;
	char c = r->s[r->pos];
	struct set s = { 0 };
	switch (c) {
	case '|':
	case ')':
		return 0;
	case '(':
		r->pos++;
		if (depth > 64)
			return fail(r, at, "groups are nested too deeply");
		put(r, "(");
		if (alternation(r, depth + 1) != 0)
			return -1;
		if (r->pos >= r->len || r->s[r->pos] != ')')
			return fail(r, at, "'(' is not closed");
		r->pos++;
		put(r, ")");
		return 1;
	case '[':
		r->pos++;
		return bracket(r) == 0 ? 1 : -1;
	case '.':
		r->pos++;
		put(r, "[^]");
		return 1;
	case '*':
	case '+':
	case '?':
	case '{':
		return fail(r, at, "'%c' has nothing to repeat", c);
	case '^':
		return fail(r, at, "'^' anchors only at the start of the expression");
	case '$':
		if (r->pos + 1 == r->len)
			return 0;       /* the end anchor, taken by the caller */
		return fail(r, at, "'$' anchors only at the end of the expression");
	case '\\':
		if (r->pos + 1 >= r->len)
			return fail(r, at, "'\\' at the end of the expression");
		r->pos += 2;
		if (r->s[at + 1] >= '1' && r->s[at + 1] <= '9')
			return fail(r, at, "back-references are not supported");
		if (!escape_class(r->s[at + 1], &s))
			set_add(&s, escape_byte(r->s[at + 1]));
		return put_set(r, &s, at) == 0 ? 1 : -1;
	default:
		r->pos++;
		set_add(&s, (unsigned char)c);
		return put_set(r, &s, at) == 0 ? 1 : -1;
	}
}

static int bound(struct rx *r, size_t at, unsigned *v)
{
	if (r->pos >= r->len || !isdigit((unsigned char)r->s[r->pos]))
		return fail(r, at, "expected a number in the repetition bound");
	unsigned n = 0;
	while (r->pos < r->len && isdigit((unsigned char)r->s[r->pos])) {
		n = n * 10 + (unsigned)(r->s[r->pos++] - '0');
		if (n > 255)
			return fail(r, at, "repetition bounds go up to 255");
	}
	*v = n;
	return 0;
}

/* Quantifiers after an atom whose text starts at OUT_AT in the output. */
static int quantifiers(struct rx *r, size_t out_at)
{
	while (r->pos < r->len) {
		char c = r->s[r->pos];
		size_t at = r->pos;
		char q[32];
		if (c == '*' || c == '+' || c == '?') {
			r->pos++;
			snprintf(q, sizeof(q), "%c", c);
		} else if (c == '{') {
			r->pos++;
			unsigned m, n;
			if (bound(r, at, &m) != 0)
				return -1;
			if (r->pos < r->len && r->s[r->pos] == '}') {
				snprintf(q, sizeof(q), "{%u}", m);
			} else if (r->pos < r->len && r->s[r->pos] == ',') {
				r->pos++;
				if (r->pos < r->len && r->s[r->pos] == '}') {
					snprintf(q, sizeof(q), "{%u,}", m);
				} else {
					if (bound(r, at, &n) != 0)
						return -1;
					if (n < m)
						return fail(r, at, "the bounds {%u,%u} are out of order", m, n);
					snprintf(q, sizeof(q), "{%u,%u}", m, n);
				}
			}
			if (r->pos >= r->len || r->s[r->pos] != '}')
				return fail(r, at, "'{' is not closed");
			r->pos++;
		} else {
			return 0;
		}
		/* Wrap what is repeated: (atom)q. */
		put(r, ")%s", q);
		memmove(r->out + out_at + 1, r->out + out_at, r->n - out_at + 1);
		r->out[out_at] = '(';
		r->n++;
	}
	return 0;
}

static int branch(struct rx *r, int depth)
{
	size_t start = r->pos;
	int atoms = 0;
	for (;;) {
		size_t out_at = r->n;
		int rc = atom(r, depth);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		if (quantifiers(r, out_at) != 0)
			return -1;
		put(r, " ");
		atoms++;
	}
	if (!atoms)
		return fail(r, start, "an empty alternative or group matches only the empty string");
	return 0;
}

static int alternation(struct rx *r, int depth)
{
	for (;;) {
		if (branch(r, depth) != 0)
			return -1;
		if (r->pos < r->len && r->s[r->pos] == '|') {
			r->pos++;
			put(r, "| ");
			continue;
		}
		return 0;
	}
}

int regex_to_re2c(struct arena *a, const char *ere, struct regex_re2c *out, size_t *err_off,
		  char *msg, size_t msglen)
{
	struct rx r = { .s = ere, .len = strlen(ere), .msg = msg, .msglen = msglen };
	bool start = r.len && ere[0] == '^';
	if (start)
		r.pos = 1;
	put(&r, start ? "(" : "[^]* (");
	int rc = alternation(&r, 0);
	bool end = false;
	if (rc == 0 && r.pos < r.len && ere[r.pos] == '$' && r.pos + 1 == r.len) {
		end = true;
		r.pos++;
	}
	if (rc == 0 && r.pos < r.len)
		rc = fail(&r, r.pos, "unexpected '%c' (a ')' without its '('?)", ere[r.pos]);
	put(&r, ")");
	if (rc != 0) {
		*err_off = r.err_off;
		free(r.out);
		return -1;
	}
	out->re = arena_strdup(a, r.out);
	out->anchored_end = end;
	free(r.out);
	return 0;
}
