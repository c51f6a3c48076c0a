/*
 * fmt_yaml.c — print a document tree as canonical YAML (`trigc fmt --to yaml`).
 *
 * The layout:
 *   - two spaces of indentation; maps always in block style, keys in the
 *     tree's order; lists of maps or lists in block style, with a map
 *     item's first key on the dash line ("- name: x");
 *   - a list whose items are all scalars in flow style ("[a, b]") when
 *     the whole line stays within FLOW_WIDTH columns and no item would
 *     need quoting for the flow context only (a plain item holding one of
 *     , [ ] { } : or a null item); block style otherwise;
 *   - an empty map prints as {} and an empty list as [];
 *   - a blank line between top-level entries (the sections) and between
 *     the items of the top-level steps, pipelines and triggers lists (and
 *     of a top-level list, valohai.yaml's shape).
 *
 * Scalars.  Quoting depends only on the text and the key (the value of a
 * `matches` key, a regular expression, always prints double-quoted), never
 * on how the source quoted it, so that the YAML prints the same when read
 * back, whichever front end built the tree.  A
 * scalar prints plain when YAML 1.1 and 1.2 parsers read it back as the
 * same text; texts that such parsers would type as numbers, booleans or
 * nulls (5, 0x1F, 1e3, yes, on, ~, null) also print plain, since trig's
 * decoder types scalars by their text and the schema.  Anything else is
 * double-quoted with JSON-style escapes: leading or trailing spaces, a
 * leading indicator (- ? : , [ ] { } # & * ! | > ' " % @ `, except a '-'
 * before a digit or '.': -1, -.5), ": " or a final ':', " #", "{{"
 * (templates), control and non-printable characters, line breaks, tabs,
 * the texts "<<" (a merge key) and "=", texts that start with a digit and
 * hold a ':' (YAML 1.1 reads "02:00" as a number) or look like a YAML 1.1
 * date (2024-01-02).  Bytes that are not UTF-8 print as U+FFFD, and are
 * treated as U+FFFD when deciding, so the output is canonical.
 *
 * Nulls.  An empty PLAIN scalar is YAML's null (`key:`).  It prints as
 * nothing after the colon (`default:`), or `-` as a list item, except as
 * the value of a one-entry map that is a list item — an action or
 * condition, where the decoder reads a null as an empty map — where it
 * prints as {} (`- fetch-repository: {}`).  An empty QUOTED scalar is "".
 *
 * A key whose printed form would pass libyaml's 1024-character limit on
 * implicit keys is written as an explicit key ("? key" then ": value").
 */
#include "frontend.h"

#include <stdint.h>
#include <string.h>

enum {
	FLOW_WIDTH = 100,       /* a flow list's line stays within this */
	LONG_KEY = 1000,        /* longer keys are written "? key" */
};

/* ------------------------------------------------------------- scalars */

/* Decodes one UTF-8 character of S (N > 0 bytes); *ADV gets its length.
 * Anything that is not a valid, shortest-form character of at most
 * U+10FFFF (surrogates excluded) is one byte of U+FFFD. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *adv)
{
	unsigned char c = s[0];
	*adv = 1;
	if (c < 0x80)
		return c;
	size_t len;
	uint32_t cp, min;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, cp = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, cp = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0xFFFD;
	}
	if (n < len)
		return 0xFFFD;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0xFFFD;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0xFFFD;
	*adv = len;
	return cp;
}

static void put_utf8(FILE *out, uint32_t cp)
{
	if (cp < 0x80) {
		fputc((int)cp, out);
	} else if (cp < 0x800) {
		fputc((int)(0xC0 | cp >> 6), out);
		fputc((int)(0x80 | (cp & 0x3F)), out);
	} else if (cp < 0x10000) {
		fputc((int)(0xE0 | cp >> 12), out);
		fputc((int)(0x80 | (cp >> 6 & 0x3F)), out);
		fputc((int)(0x80 | (cp & 0x3F)), out);
	} else {
		fputc((int)(0xF0 | cp >> 18), out);
		fputc((int)(0x80 | (cp >> 12 & 0x3F)), out);
		fputc((int)(0x80 | (cp >> 6 & 0x3F)), out);
		fputc((int)(0x80 | (cp & 0x3F)), out);
	}
}

/* Characters a YAML file may hold literally inside a scalar: printable,
 * not a line break, not a byte order mark. */
static bool printable(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
		return false;
	return cp != 0x2028 && cp != 0x2029 && cp != 0xFEFF && cp != 0xFFFE && cp != 0xFFFF;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Whether TEXT (LEN > 0 bytes) must be double-quoted. */
static bool needs_quotes(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	static const char indicators[] = "-?:,[]{}#&*!|>'\"%@`";
	if (memchr(indicators, s[0], sizeof(indicators) - 1) &&
	    !(s[0] == '-' && len > 1 && (is_digit(text[1]) || text[1] == '.')))
		return true;
	if (s[0] == ' ' || s[len - 1] == ' ' || s[len - 1] == ':')
		return true;
	if ((len == 2 && memcmp(text, "<<", 2) == 0) || (len == 1 && text[0] == '='))
		return true;
	if (len >= 3 && memcmp(text, "...", 3) == 0)
		return true;
	/* YAML 1.1 dates (2024-01-02) and sexagesimal numbers (02:00). */
	if (len >= 6 && is_digit(text[0]) && is_digit(text[1]) && is_digit(text[2]) &&
	    is_digit(text[3]) && text[4] == '-' && is_digit(text[5]))
		return true;
	if (is_digit(text[0]) && memchr(text, ':', len))
		return true;
	for (size_t i = 0; i < len;) {
		size_t adv;
		uint32_t cp = utf8_next(s + i, len - i, &adv);
		if (!printable(cp))
			return true;
		if (i + 1 < len) {
			char c = text[i], d = text[i + 1];
			if ((c == ':' && d == ' ') || (c == ' ' && d == '#') ||
			    (c == '{' && d == '{'))
				return true;
		}
		i += adv;
	}
	return false;
}

static bool scalar_quoted(const struct tree *t)
{
	return t->u.scalar.len == 0 || needs_quotes(t->u.scalar.text, t->u.scalar.len);
}

static bool is_null(const struct tree *t)
{
	return t->kind == TREE_SCALAR && t->u.scalar.len == 0 && t->u.scalar.style == STYLE_PLAIN;
}

static void put_quoted(FILE *out, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	fputc('"', out);
	for (size_t i = 0; i < len;) {
		size_t adv;
		uint32_t cp = utf8_next(s + i, len - i, &adv);
		i += adv;
		switch (cp) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\t': fputs("\\t", out); break;
		case '\r': fputs("\\r", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		default:
			if (printable(cp))
				put_utf8(out, cp);
			else
				fprintf(out, "\\u%04X", (unsigned)cp);
		}
	}
	fputc('"', out);
}

/* Prints a string: plain or double-quoted. */
static void put_text(FILE *out, const char *text, size_t len, bool quoted)
{
	const unsigned char *s = (const unsigned char *)text;
	if (quoted) {
		put_quoted(out, text, len);
		return;
	}
	for (size_t i = 0; i < len;) {          /* bad UTF-8 becomes U+FFFD */
		size_t adv;
		put_utf8(out, utf8_next(s + i, len - i, &adv));
		i += adv;
	}
}

static void put_scalar(FILE *out, const struct tree *t)
{
	put_text(out, t->u.scalar.text, t->u.scalar.len, scalar_quoted(t));
}

/* Bytes put_text() prints (without writing anything). */
static size_t text_width(const char *text, size_t len, bool quoted)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t w = quoted ? 2 : 0;
	for (size_t i = 0; i < len;) {
		size_t adv;
		uint32_t cp = utf8_next(s + i, len - i, &adv);
		i += adv;
		if (quoted && (cp == '"' || cp == '\\' || cp == '\n' || cp == '\t' ||
			       cp == '\r' || cp == '\b' || cp == '\f'))
			w += 2;
		else if (quoted && !printable(cp))
			w += 6;
		else
			w += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	}
	return w;
}

static size_t scalar_width(const struct tree *t)
{
	return text_width(t->u.scalar.text, t->u.scalar.len, scalar_quoted(t));
}

/* ---------------------------------------------------------- structure */

static void indent(FILE *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc(' ', out);
}

/* Whether list L can print as [a, b] after COLUMN bytes of its line. */
static bool flow_fits(const struct tree *l, size_t column)
{
	size_t w = column + 2;
	for (size_t i = 0; i < l->u.list.n; i++) {
		const struct tree *it = l->u.list.v[i];
		if (it->kind != TREE_SCALAR || is_null(it))
			return false;
		if (!scalar_quoted(it) && strpbrk(it->u.scalar.text, ",[]{}:"))
			return false;
		w += scalar_width(it) + (i ? 2 : 0);
		if (w > FLOW_WIDTH)
			return false;
	}
	return true;
}

static void put_flow(FILE *out, const struct tree *l)
{
	fputc('[', out);
	for (size_t i = 0; i < l->u.list.n; i++) {
		if (i)
			fputs(", ", out);
		put_scalar(out, l->u.list.v[i]);
	}
	fputc(']', out);
}

static void print_map(FILE *out, const struct tree *m, size_t ind, bool on_dash, bool sep);
static void print_list(FILE *out, const struct tree *l, size_t ind, bool on_dash, bool sep);

/* Prints what follows "key:" (COLUMN bytes into the line) for V, whose
 * entries nest at IND + 2, and the line's end.  NULL_MAP: a null prints
 * as {}.  QUOTE: a scalar prints double-quoted (a regular expression). */
static void print_value(FILE *out, const struct tree *v, size_t ind, size_t column,
			bool null_map, bool sep, bool quote)
{
	if (!v) {
		fputc('\n', out);
		return;
	}
	switch (v->kind) {
	case TREE_SCALAR:
		if (is_null(v)) {
			fputs(null_map ? " {}\n" : "\n", out);
		} else {
			fputc(' ', out);
			put_text(out, v->u.scalar.text, v->u.scalar.len, quote || scalar_quoted(v));
			fputc('\n', out);
		}
		break;
	case TREE_MAP:
		if (v->u.map.n == 0) {
			fputs(" {}\n", out);
		} else {
			fputc('\n', out);
			print_map(out, v, ind + 2, false, false);
		}
		break;
	case TREE_LIST:
		if (v->u.list.n == 0) {
			fputs(" []\n", out);
		} else if (flow_fits(v, column + 1)) {
			fputc(' ', out);
			put_flow(out, v);
			fputc('\n', out);
		} else {
			fputc('\n', out);
			print_list(out, v, ind + 2, false, sep);
		}
		break;
	}
}

/* Prints the entries of map M at indentation IND; ON_DASH: the first key
 * goes on the current line (after "- ").  SEP: a blank line between the
 * entries and between the items of steps, pipelines and triggers (the
 * top level). */
static void print_map(FILE *out, const struct tree *m, size_t ind, bool on_dash, bool sep)
{
	bool null_map = on_dash && m->u.map.n == 1;
	for (size_t i = 0; i < m->u.map.n; i++) {
		const struct tree_entry *e = &m->u.map.v[i];
		size_t klen = strlen(e->key);
		bool kq = klen == 0 || needs_quotes(e->key, klen);
		bool regex = strcmp(e->key, "matches") == 0;
		bool sep_items = sep && (strcmp(e->key, "steps") == 0 ||
					 strcmp(e->key, "pipelines") == 0 ||
					 strcmp(e->key, "triggers") == 0);
		if (sep && i)
			fputc('\n', out);
		if (!(on_dash && i == 0))
			indent(out, ind);
		size_t kw = text_width(e->key, klen, kq);
		if (kw > LONG_KEY) {
			/* An explicit key: "? key" then ": value". */
			fputs("? ", out);
			put_text(out, e->key, klen, kq);
			fputc('\n', out);
			indent(out, ind);
			fputc(':', out);
			print_value(out, e->value, ind, ind + 1, null_map, sep_items, regex);
			continue;
		}
		put_text(out, e->key, klen, kq);
		fputc(':', out);
		print_value(out, e->value, ind, ind + kw + 1, null_map, sep_items, regex);
	}
}

/* Prints the items of list L, dashes at indentation IND; ON_DASH: the
 * first dash goes on the current line.  SEP: a blank line between the
 * items. */
static void print_list(FILE *out, const struct tree *l, size_t ind, bool on_dash, bool sep)
{
	for (size_t i = 0; i < l->u.list.n; i++) {
		const struct tree *it = l->u.list.v[i];
		if (sep && i)
			fputc('\n', out);
		if (!(on_dash && i == 0))
			indent(out, ind);
		fputc('-', out);
		switch (it->kind) {
		case TREE_SCALAR:
			if (!is_null(it)) {
				fputc(' ', out);
				put_scalar(out, it);
			}
			fputc('\n', out);
			break;
		case TREE_MAP:
			if (it->u.map.n == 0) {
				fputs(" {}\n", out);
			} else {
				fputc(' ', out);
				print_map(out, it, ind + 2, true, false);
			}
			break;
		case TREE_LIST:
			if (it->u.list.n == 0) {
				fputs(" []\n", out);
			} else if (flow_fits(it, ind + 2)) {
				fputc(' ', out);
				put_flow(out, it);
				fputc('\n', out);
			} else {
				fputc(' ', out);
				print_list(out, it, ind + 2, true, false);
			}
			break;
		}
	}
}

void fmt_yaml(FILE *out, const struct tree *root)
{
	if (!root) {
		fputs("{}\n", out);
		return;
	}
	switch (root->kind) {
	case TREE_MAP:
		if (root->u.map.n == 0)
			fputs("{}\n", out);
		else
			print_map(out, root, 0, false, true);
		break;
	case TREE_LIST:
		if (root->u.list.n == 0)
			fputs("[]\n", out);
		else
			print_list(out, root, 0, false, true);
		break;
	case TREE_SCALAR:
		if (is_null(root)) {
			fputs("{}\n", out);
		} else {
			put_scalar(out, root);
			fputc('\n', out);
		}
		break;
	}
}
