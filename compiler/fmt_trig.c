/*
 * fmt_trig.c — print a document tree as canonical .trig text.
 *
 * The output uses the sugar of docs/language.md wherever a part of the
 * tree has exactly the shape the sugar produces, and the generic
 * `key value` / `key { ... }` statements everywhere else, so that any
 * tree, whichever front end built it, prints as .trig that parses back to
 * the same tree.  Layout: four spaces per level, one statement per line, a
 * blank line around every top-level statement that spans several lines.
 * A map whose values are all short prints as `key k v k v` when the line
 * stays within WIDTH columns, and as a block otherwise; lists likewise.
 *
 * How a scalar prints depends only on its text (lexed with the real lexer,
 * dsl_probe): a bare word, number, method or `~` when the text is exactly
 * such a token and not a keyword; "{{ PATH }}" as the bare PATH; the REGEX
 * style as /.../ where a regex may stand (after the key `matches`, bare or
 * quoted); anything else
 * as a quoted string.  The exceptions, all about YAML's null (an empty
 * plain scalar): it prints as a key with nothing after it where a
 * statement ends, and as `~` (another null to the decoder) inside a list
 * or a sugar argument, where .trig has no empty value.
 *
 * Thread-safe: no state outside the call.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "grammar/trig_parse.h"

enum { WIDTH = 100, INDENT = 4 };

/* ------------------------------------------------------------ buffers */

struct sb {
	char *p;
	size_t n, cap;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			fputs("trigc: out of memory\n", stderr);
			exit(3);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/*
 * A line being built.  WORD is the last token when it was a bare word, so
 * that the next bare word does not join it into a multi-word keyword
 * (`run` then `pipeline` would lex as 'run pipeline').
 */
struct line {
	struct sb b;
	const char *word;
	size_t word_len;
};

static void line_free(struct line *l)
{
	free(l->b.p);
}

static void line_copy(struct line *dst, const struct line *src)
{
	memset(dst, 0, sizeof(*dst));
	sb_add(&dst->b, src->b.p ? src->b.p : "", src->b.n);
	dst->word = src->word;
	dst->word_len = src->word_len;
}

/* Punctuation and keywords; a lone space keeps the word before it. */
static void put(struct line *l, const char *s)
{
	sb_puts(&l->b, s);
	if (strcmp(s, " ") != 0)
		l->word = NULL;
}

/* Would bare word W right after the line's last bare word make a keyword? */
static bool joins(const struct line *l, const char *w, size_t n)
{
	if (!l->word || l->b.n == 0 || l->b.p[l->b.n - 1] != ' ')
		return false;
	char buf[64];
	size_t total = l->word_len + 1 + n;
	if (total >= sizeof(buf))
		return false;
	memcpy(buf, l->word, l->word_len);
	buf[l->word_len] = ' ';
	memcpy(buf + l->word_len + 1, w, n);
	switch (dsl_probe(buf, total)) {
	case T_RUN_EXECUTION: case T_RUN_PIPELINE: case T_COPY_PIPELINE:
	case T_FETCH_REPOSITORY: case T_RATE_LIMIT: case T_NOT_IN: case T_NOT_EXISTS:
		return true;
	default:
		return false;
	}
}

static void put_word(struct line *l, const char *w, size_t n)
{
	sb_add(&l->b, w, n);
	l->word = w;
	l->word_len = n;
}

struct fmt {
	struct sb *o;
};

static void out_indent(struct fmt *f, int indent)
{
	for (int i = 0; i < indent * INDENT; i++)
		sb_add(f->o, " ", 1);
}

static bool fits(int indent, const struct line *l)
{
	return (size_t)indent * INDENT + l->b.n <= WIDTH;
}

/* Prints line L at INDENT followed by TAIL ("\n", " {\n", ...). */
static void out_line(struct fmt *f, int indent, const struct line *l, const char *tail)
{
	out_indent(f, indent);
	if (l->b.n)
		sb_add(f->o, l->b.p, l->b.n);
	sb_puts(f->o, tail);
}

/* ------------------------------------------------------------ scalars */

static bool is_null(const struct tree *t)
{
	return t->kind == TREE_SCALAR && t->u.scalar.style == STYLE_PLAIN && t->u.scalar.len == 0;
}

/* A scalar a sugar argument may stand for (a null may not). */
static bool sugar_scalar(const struct tree *t)
{
	return t && t->kind == TREE_SCALAR && !is_null(t);
}

static bool is_soft_keyword(int k)
{
	switch (k) {
	case T_BACKEND: case T_IMPORT: case T_STEP: case T_PIPELINE: case T_TRIGGER:
	case T_PARAMETER: case T_INPUT: case T_ENVIRONMENT: case T_HEADER:
	case T_NODE: case T_EDGE: case T_WEBHOOK: case T_ON: case T_HTTP: case T_RESPOND:
	case T_WHEN: case T_ANY: case T_ALL: case T_NOT:
	case T_IN: case T_MATCHES: case T_GLOB: case T_CONTAINS: case T_EXISTS: case T_AS:
		return true;
	default:
		return false;
	}
}

static bool is_secret_keyword(int k)
{
	return k == T_ENV || k == T_FILE || k == T_JWKS_FILE || k == T_JWKS_URL;
}

/* Is TEXT "{{ PATH }}" with PATH one path token?  Sets *PATH, *N. */
static bool template_path(const char *text, size_t len, const char **path, size_t *n)
{
	if (len < 7 || memcmp(text, "{{ ", 3) != 0 || memcmp(text + len - 3, " }}", 3) != 0)
		return false;
	*path = text + 3;
	*n = len - 6;
	return dsl_probe(*path, *n) == T_PATH;
}

static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t want;
	unsigned lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		want = 2;
	else if (c >= 0xe0 && c <= 0xef)
		want = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		want = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < want || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < want; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return want;
}

/* Can the lexer give back exactly TEXT as a /regex/? */
static bool regex_printable(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if (c == '\\') {
			if (i + 1 >= len || s[i + 1] == '/')
				return false;
			i++;
			c = s[i];
		}
		if (c >= 0x80) {
			size_t k = utf8_len(s + i, len - i);
			if (!k)
				return false;
			i += k;
		} else if (c < 0x20 && c != '\t') {
			return false;
		} else {
			i++;
		}
	}
	return true;
}

static void put_quoted(struct line *l, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	struct sb *b = &l->b;
	sb_add(b, "\"", 1);
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		char esc[8];
		if (c >= 0x80) {
			size_t k = utf8_len(s + i, len - i);
			if (k) {
				sb_add(b, text + i, k);
				i += k;
			} else {
				sb_puts(b, "\\ufffd");
				i++;
			}
			continue;
		}
		i++;
		switch (c) {
		case '"': sb_puts(b, "\\\""); break;
		case '\\': sb_puts(b, "\\\\"); break;
		case '\n': sb_puts(b, "\\n"); break;
		case '\r': sb_puts(b, "\\r"); break;
		case '\t': sb_puts(b, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				sb_puts(b, esc);
			} else {
				sb_add(b, (const char *)&c, 1);
			}
		}
	}
	sb_add(b, "\"", 1);
	l->word = NULL;
}

static void put_regex(struct line *l, const char *text, size_t len)
{
	sb_add(&l->b, "/", 1);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\\') {
			sb_add(&l->b, text + i, 2);
			i++;
		} else if (text[i] == '/') {
			sb_add(&l->b, "\\/", 2);
		} else {
			sb_add(&l->b, text + i, 1);
		}
	}
	sb_add(&l->b, "/", 1);
	l->word = NULL;
}

/* How a scalar value prints, without printing it. */
enum form { F_BARE, F_WORD, F_PATH, F_REGEX, F_STRING, F_NULL };

static enum form scalar_form(const struct tree *t, bool regex_ok)
{
	const char *text = t->u.scalar.text;
	size_t len = t->u.scalar.len, n;
	const char *path;
	if (is_null(t))
		return F_NULL;
	if (t->u.scalar.style == STYLE_REGEX && regex_ok && regex_printable(text, len))
		return F_REGEX;
	switch (dsl_probe(text, len)) {
	case T_WORD:
		return F_WORD;
	case T_NUMBER:
	case T_METHOD:
	case T_TILDE:
		return F_BARE;
	default:
		break;
	}
	if (template_path(text, len, &path, &n))
		return F_PATH;
	return F_STRING;
}

/* A scalar in value position. */
static void put_scalar(struct line *l, const struct tree *t, bool regex_ok)
{
	const char *text = t->u.scalar.text, *path;
	size_t len = t->u.scalar.len, n;
	switch (scalar_form(t, regex_ok)) {
	case F_NULL:
		put(l, "~");
		return;
	case F_REGEX:
		put_regex(l, text, len);
		return;
	case F_WORD:
		if (joins(l, text, len))
			put_quoted(l, text, len);
		else
			put_word(l, text, len);
		return;
	case F_BARE:
		put(l, text);
		return;
	case F_PATH:
		template_path(text, len, &path, &n);
		sb_add(&l->b, path, n);
		l->word = NULL;
		return;
	case F_STRING:
		put_quoted(l, text, len);
		return;
	}
}

/* A name taken literally (a `when` field, an edge's end, an action block's
 * parameter name): bare when it lexes as one word, path or number. */
static void put_literal(struct line *l, const char *text, size_t len)
{
	int k = dsl_probe(text, len);
	if (k == T_WORD && !joins(l, text, len))
		put_word(l, text, len);
	else if (k == T_PATH || k == T_NUMBER)
		put(l, text);
	else
		put_quoted(l, text, len);
}

/* ------------------------------------------------------------ keys */

/* Where a key stands: the statements of a kind of block, or a pair on a line. */
enum kctx { K_GEN, K_TOP, K_STEP, K_PIPE, K_TRIG, K_ACT, K_COND, K_PAIR };

/* May KEY be written bare as a key in context KC? */
static bool key_bare(const char *key, enum kctx kc)
{
	int k = dsl_probe(key, strlen(key));
	if (k == T_WORD)
		return true;
	if (is_secret_keyword(k))
		return kc != K_PAIR;
	if (!is_soft_keyword(k))
		return false;
	switch (kc) {
	case K_TOP:
		return k != T_BACKEND && k != T_IMPORT && k != T_STEP && k != T_PIPELINE &&
		       k != T_TRIGGER;
	case K_STEP:
		return k != T_PARAMETER && k != T_INPUT && k != T_ENVIRONMENT;
	case K_PIPE:
		return k != T_NODE && k != T_EDGE;
	case K_TRIG:
		return k != T_WEBHOOK && k != T_ON && k != T_HTTP && k != T_RESPOND &&
		       k != T_WHEN && k != T_ANY && k != T_ALL && k != T_NOT;
	case K_ACT:
		return k != T_PARAMETER && k != T_INPUT && k != T_ENVIRONMENT && k != T_HEADER;
	case K_COND:
		return k != T_WHEN && k != T_ANY && k != T_ALL && k != T_NOT;
	case K_PAIR:
		/* `as` after an action's head names the action */
		return k != T_AS;
	case K_GEN:
		return true;
	}
	return false;
}

/* A statement's key at the start of a line: bare or quoted. */
static void put_stmt_key(struct line *l, const char *key, enum kctx kc)
{
	if (key_bare(key, kc))
		put_word(l, key, strlen(key));
	else
		put_quoted(l, key, strlen(key));
}

/* ------------------------------------------------------------ values */

static const char *const secret_keys[] = { "env", "file", "jwks-file", "jwks-url", NULL };

static bool in_set(const char *const *set, const char *s)
{
	for (; *set; set++)
		if (strcmp(*set, s) == 0)
			return true;
	return false;
}

/* {env: NAME} and the like print as `env NAME`. */
static bool is_secret(const struct tree *t)
{
	return t->kind == TREE_MAP && t->u.map.n == 1 && in_set(secret_keys, t->u.map.v[0].key) &&
	       sugar_scalar(t->u.map.v[0].value);
}

static void inline_value(struct line *l, const struct tree *v, bool regex_ok);

/* `key value` inside an inline `{ }` (a generic statement). */
static void inline_stmt(struct line *l, const char *key, const struct tree *v)
{
	put_stmt_key(l, key, K_GEN);
	if (is_null(v))
		return;
	put(l, " ");
	inline_value(l, v, strcmp(key, "matches") == 0);
}

/* A value on one line (always possible; the caller checks the width). */
static void inline_value(struct line *l, const struct tree *v, bool regex_ok)
{
	switch (v->kind) {
	case TREE_SCALAR:
		put_scalar(l, v, regex_ok);
		return;
	case TREE_LIST:
		put(l, "[");
		for (size_t i = 0; i < v->u.list.n; i++) {
			if (i)
				put(l, ", ");
			inline_value(l, v->u.list.v[i], false);
		}
		put(l, "]");
		return;
	case TREE_MAP:
		if (is_secret(v)) {
			put_word(l, v->u.map.v[0].key, strlen(v->u.map.v[0].key));
			put(l, " ");
			put_scalar(l, v->u.map.v[0].value, false);
			return;
		}
		if (v->u.map.n == 0) {
			put(l, "{}");
			return;
		}
		put(l, "{ ");
		for (size_t i = 0; i < v->u.map.n; i++) {
			if (i)
				put(l, ", ");
			inline_stmt(l, v->u.map.v[i].key, v->u.map.v[i].value);
		}
		put(l, " }");
		return;
	}
}

/* ` k v k v ...` for entries FROM.. of MAP, if they can be pairs. */
static bool inline_pairs(struct line *l, const struct tree *map, size_t from)
{
	for (size_t i = from; i < map->u.map.n; i++) {
		const struct tree_entry *e = &map->u.map.v[i];
		size_t kn = strlen(e->key);
		if (is_null(e->value) || !key_bare(e->key, K_PAIR))
			return false;
		put(l, " ");
		if (joins(l, e->key, kn))
			return false;
		put_word(l, e->key, kn);
		put(l, " ");
		inline_value(l, e->value, strcmp(e->key, "matches") == 0);
	}
	return true;
}

static void print_block(struct fmt *f, int indent, const struct tree *map, size_t from,
			enum kctx kc);

/* A list's item on a line of its own, with its comma. */
static void print_item(struct fmt *f, int indent, const struct tree *v)
{
	struct line l = { 0 };
	inline_value(&l, v, false);
	if (fits(indent, &l) || v->kind == TREE_SCALAR || (v->kind == TREE_MAP && is_secret(v)) ||
	    (v->kind == TREE_MAP && v->u.map.n == 0) || (v->kind == TREE_LIST && v->u.list.n == 0)) {
		out_line(f, indent, &l, ",\n");
	} else if (v->kind == TREE_LIST) {
		out_indent(f, indent);
		sb_puts(f->o, "[\n");
		for (size_t i = 0; i < v->u.list.n; i++)
			print_item(f, indent + 1, v->u.list.v[i]);
		out_indent(f, indent);
		sb_puts(f->o, "],\n");
	} else {
		out_indent(f, indent);
		sb_puts(f->o, "{\n");
		print_block(f, indent + 1, v, 0, K_GEN);
		out_indent(f, indent);
		sb_puts(f->o, "},\n");
	}
	line_free(&l);
}

/*
 * Ends the statement begun in L with value V: on the line when it fits,
 * else a list one item per line or a map as a block.  NULL_OK: the
 * statement may end without a value (a null); PAIRS_OK: a map may be
 * written as `k v k v` (a generic statement's value).
 */
static void finish_value(struct fmt *f, int indent, struct line *l, const struct tree *v,
			 bool regex_ok, bool null_ok, bool pairs_ok)
{
	if (null_ok && is_null(v)) {
		out_line(f, indent, l, "\n");
		return;
	}
	if (pairs_ok && v->kind == TREE_MAP && v->u.map.n > 0 && !is_secret(v)) {
		struct line t;
		line_copy(&t, l);
		if (inline_pairs(&t, v, 0) && fits(indent, &t)) {
			out_line(f, indent, &t, "\n");
			line_free(&t);
			return;
		}
		line_free(&t);
		out_line(f, indent, l, " {\n");
		print_block(f, indent + 1, v, 0, K_GEN);
		out_indent(f, indent);
		sb_puts(f->o, "}\n");
		return;
	}
	struct line t;
	line_copy(&t, l);
	put(&t, " ");
	inline_value(&t, v, regex_ok);
	if (fits(indent, &t) || v->kind == TREE_SCALAR || is_secret(v) ||
	    (v->kind == TREE_MAP && v->u.map.n == 0) || (v->kind == TREE_LIST && v->u.list.n == 0)) {
		out_line(f, indent, &t, "\n");
	} else if (v->kind == TREE_LIST) {
		out_line(f, indent, l, " [\n");
		for (size_t i = 0; i < v->u.list.n; i++)
			print_item(f, indent + 1, v->u.list.v[i]);
		out_indent(f, indent);
		sb_puts(f->o, "]\n");
	} else {
		out_line(f, indent, l, " {\n");
		print_block(f, indent + 1, v, 0, K_GEN);
		out_indent(f, indent);
		sb_puts(f->o, "}\n");
	}
	line_free(&t);
}

/* A generic statement KEY VALUE, KEY as context KC allows. */
static void print_generic(struct fmt *f, int indent, const char *key, const struct tree *v,
			  enum kctx kc, bool quote)
{
	struct line l = { 0 };
	bool bare = !quote && key_bare(key, kc);
	if (bare)
		put_word(&l, key, strlen(key));
	else
		put_quoted(&l, key, strlen(key));
	finish_value(f, indent, &l, v, strcmp(key, "matches") == 0, true, true);
	line_free(&l);
}

/* ------------------------------------------------------------ tails */

enum tail { TAIL_GEN, TAIL_ACT, TAIL_BLOCK };

static void print_act_block(struct fmt *f, int indent, const struct tree *map, size_t from);

/* The index of MAP's first entry KEY, or SIZE_MAX.  Sugar that appends
 * stands only for the first entry of its key: later ones would join it. */
static size_t first_index(const struct tree *map, const char *key)
{
	for (size_t i = 0; i < map->u.map.n; i++)
		if (strcmp(map->u.map.v[i].key, key) == 0)
			return i;
	return SIZE_MAX;
}

static const char *const act_maps[] = { "parameters", "inputs", "environment", "headers", NULL };

/* The first entries of an action's map that its block's sugar fills. */
struct act_firsts {
	size_t at[4];
};

static void act_firsts(const struct tree *map, struct act_firsts *f)
{
	for (size_t k = 0; k < 4; k++)
		f->at[k] = first_index(map, act_maps[k]);
}

/* Does entry I of an action's map print as `parameter NAME = VALUE` lines?
 * Returns the keyword's index + 1, or 0. */
static size_t act_sugar(const struct tree *map, size_t i, const struct act_firsts *f)
{
	const struct tree_entry *e = &map->u.map.v[i];
	if (e->value->kind != TREE_MAP || e->value->u.map.n == 0)
		return 0;
	for (size_t k = 0; k < 4; k++)
		if (f->at[k] == i)
			return k + 1;
	return 0;
}

/*
 * Ends a sugar statement begun in L with entries FROM.. of MAP: as pairs
 * on the line when they fit, else as a block (generic, or an action's).
 */
static void finish_tail(struct fmt *f, int indent, struct line *l, const struct tree *map,
			size_t from, enum tail kind)
{
	if (from >= map->u.map.n) {
		out_line(f, indent, l, "\n");
		return;
	}
	bool block = kind == TAIL_BLOCK;
	if (kind == TAIL_ACT) {
		struct act_firsts af;
		act_firsts(map, &af);
		for (size_t i = from; i < map->u.map.n; i++)
			if (act_sugar(map, i, &af))
				block = true;
	}
	if (!block) {
		struct line t;
		line_copy(&t, l);
		bool ok = inline_pairs(&t, map, from) && fits(indent, &t);
		if (ok)
			out_line(f, indent, &t, "\n");
		line_free(&t);
		if (ok)
			return;
	}
	out_line(f, indent, l, " {\n");
	if (kind == TAIL_ACT)
		print_act_block(f, indent + 1, map, from);
	else
		print_block(f, indent + 1, map, from, K_GEN);
	out_indent(f, indent);
	sb_puts(f->o, "}\n");
}

/* ------------------------------------------------------------ steps */

/* A list item that a sugar `KW NAME ...` can stand for: {name: SCALAR, ...}. */
static bool named(const struct tree *t, const char *key)
{
	return t->kind == TREE_MAP && t->u.map.n > 0 && strcmp(t->u.map.v[0].key, key) == 0 &&
	       sugar_scalar(t->u.map.v[0].value);
}

static bool all_named(const struct tree *list, const char *key)
{
	if (list->kind != TREE_LIST || list->u.list.n == 0)
		return false;
	for (size_t i = 0; i < list->u.list.n; i++)
		if (!named(list->u.list.v[i], key))
			return false;
	return true;
}

/* `parameter NAME[: TYPE][ = DEFAULT] ...`, `input ...`, `environment ...` */
static void print_var(struct fmt *f, int indent, const char *kw, const struct tree *m,
		      bool typed)
{
	struct line l = { 0 };
	put(&l, kw);
	put(&l, " ");
	put_scalar(&l, m->u.map.v[0].value, false);
	size_t j = 1;
	if (typed && j < m->u.map.n && strcmp(m->u.map.v[j].key, "type") == 0 &&
	    sugar_scalar(m->u.map.v[j].value)) {
		put(&l, ": ");
		put_scalar(&l, m->u.map.v[j].value, false);
		j++;
	}
	if (j < m->u.map.n && strcmp(m->u.map.v[j].key, "default") == 0 &&
	    !is_null(m->u.map.v[j].value)) {
		struct line t;
		line_copy(&t, &l);
		put(&t, " = ");
		inline_value(&t, m->u.map.v[j].value, false);
		if (fits(indent, &t)) {
			line_free(&l);
			l = t;
			j++;
		} else {
			line_free(&t);
		}
	}
	finish_tail(f, indent, &l, m, j, TAIL_GEN);
	line_free(&l);
}

static void print_step_block(struct fmt *f, int indent, const struct tree *m, size_t from)
{
	size_t fp = first_index(m, "parameters"), fi = first_index(m, "inputs");
	size_t fe = first_index(m, "environment-variables");
	for (size_t i = from; i < m->u.map.n; i++) {
		const struct tree_entry *e = &m->u.map.v[i];
		const char *kw = NULL;
		if (i == fp)
			kw = "parameter";
		else if (i == fi)
			kw = "input";
		else if (i == fe)
			kw = "environment";
		if (kw && all_named(e->value, "name")) {
			for (size_t k = 0; k < e->value->u.list.n; k++)
				print_var(f, indent, kw, e->value->u.list.v[k], kw[0] == 'p');
			continue;
		}
		print_generic(f, indent, e->key, e->value, K_STEP, false);
	}
}

/* ------------------------------------------------------------ pipelines */

/* An edge's end, a list item, is never a null or `~`: a null prints as
 * `~` in a list, and the next round must make the same choice. */
static bool edge_end(const struct tree *t)
{
	return sugar_scalar(t) &&
	       !(t->u.scalar.style == STYLE_PLAIN && t->u.scalar.len == 1 && t->u.scalar.text[0] == '~');
}

static bool is_edge(const struct tree *t)
{
	return t->kind == TREE_LIST && t->u.list.n == 2 && edge_end(t->u.list.v[0]) &&
	       edge_end(t->u.list.v[1]);
}

static void print_pipe_block(struct fmt *f, int indent, const struct tree *m, size_t from)
{
	size_t fnodes = first_index(m, "nodes"), fedges = first_index(m, "edges");
	for (size_t i = from; i < m->u.map.n; i++) {
		const struct tree_entry *e = &m->u.map.v[i];
		const struct tree *v = e->value;
		if (i == fnodes && all_named(v, "name")) {
			for (size_t k = 0; k < v->u.list.n; k++) {
				const struct tree *n = v->u.list.v[k];
				struct line l = { 0 };
				put(&l, "node ");
				put_scalar(&l, n->u.map.v[0].value, false);
				finish_tail(f, indent, &l, n, 1, TAIL_GEN);
				line_free(&l);
			}
			continue;
		}
		if (i == fedges && v->kind == TREE_LIST && v->u.list.n > 0) {
			bool ok = true;
			for (size_t k = 0; k < v->u.list.n; k++)
				ok = ok && is_edge(v->u.list.v[k]);
			if (ok) {
				for (size_t k = 0; k < v->u.list.n; k++) {
					const struct tree *a = v->u.list.v[k]->u.list.v[0];
					const struct tree *b = v->u.list.v[k]->u.list.v[1];
					struct line l = { 0 };
					put(&l, "edge ");
					put_literal(&l, a->u.scalar.text, a->u.scalar.len);
					put(&l, " -> ");
					put_literal(&l, b->u.scalar.text, b->u.scalar.len);
					out_line(f, indent, &l, "\n");
					line_free(&l);
				}
				continue;
			}
		}
		print_generic(f, indent, e->key, v, K_PIPE, false);
	}
}

/* ------------------------------------------------------------ conditions */

static const char *const trigger_keys[] = {
	"name", "description", "enabled", "schedule", "webhook", "notification",
	"conditions", "actions", "max-concurrent", "when-busy", NULL
};

static const char *const condition_kinds[] = {
	"token", "hmac", "jwt", "timestamp", "replay", "ip-allow", "filter", "any",
	"all", "not", "rate-limit", NULL
};

static const struct op {
	const char *key, *sugar;
} ops[] = {
	{ "equals", "==" }, { "not-equals", "!=" }, { "in", "in" }, { "not-in", "not in" },
	{ "matches", "matches" }, { "glob", "glob" }, { "greater-than", ">" },
	{ "less-than", "<" }, { "contains", "contains" }, { "exists", NULL },
};

/* The operator of a {field, OP: value} filter that `when` can write, or NULL. */
static const struct op *when_op(const struct tree *filter)
{
	if (filter->kind != TREE_MAP || filter->u.map.n != 2 ||
	    strcmp(filter->u.map.v[0].key, "field") != 0 ||
	    !sugar_scalar(filter->u.map.v[0].value) || is_null(filter->u.map.v[1].value))
		return NULL;
	const struct tree_entry *e = &filter->u.map.v[1];
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(ops[i].key, e->key) != 0)
			continue;
		if (!ops[i].sugar && !tree_is(e->value, "true") && !tree_is(e->value, "false"))
			return NULL;
		return &ops[i];
	}
	return NULL;
}

static bool cond_ok(const struct tree *item, enum kctx kc);

/* Is V the list of conditions an `any { }` block can hold? */
static bool conds_in_block(const struct tree *v)
{
	if (v->kind != TREE_LIST)
		return false;
	for (size_t i = 0; i < v->u.list.n; i++)
		if (!cond_ok(v->u.list.v[i], K_COND))
			return false;
	return true;
}

static bool rate_sugar(const struct tree *v)
{
	return named(v, "max");
}

/* Can ITEM be written as a statement of a trigger (K_TRIG) or of an
 * any/all/not block (K_COND)? */
static bool cond_ok(const struct tree *item, enum kctx kc)
{
	if (item->kind != TREE_MAP || item->u.map.n != 1)
		return false;
	const char *k = item->u.map.v[0].key;
	const struct tree *v = item->u.map.v[0].value;
	if (strcmp(k, "filter") == 0 && when_op(v))
		return true;
	if ((strcmp(k, "any") == 0 || strcmp(k, "all") == 0 || strcmp(k, "not") == 0) &&
	    conds_in_block(v))
		return true;
	if (strcmp(k, "rate-limit") == 0 && rate_sugar(v))
		return true;
	if (kc == K_COND)
		return true;    /* a quoted key is a plain item there */
	return in_set(condition_kinds, k) && key_bare(k, K_TRIG);
}

static void print_cond(struct fmt *f, int indent, const struct tree *item, enum kctx kc)
{
	const char *k = item->u.map.v[0].key;
	const struct tree *v = item->u.map.v[0].value;
	const struct op *op;
	if (strcmp(k, "filter") == 0 && (op = when_op(v))) {
		const struct tree *field = v->u.map.v[0].value, *val = v->u.map.v[1].value;
		struct line l = { 0 };
		put(&l, "when ");
		put_literal(&l, field->u.scalar.text, field->u.scalar.len);
		put(&l, " ");
		if (!op->sugar) {
			put(&l, tree_is(val, "true") ? "exists" : "not exists");
			out_line(f, indent, &l, "\n");
		} else {
			put(&l, op->sugar);
			finish_value(f, indent, &l, val, strcmp(op->key, "matches") == 0, false, false);
		}
		line_free(&l);
		return;
	}
	if ((strcmp(k, "any") == 0 || strcmp(k, "all") == 0 || strcmp(k, "not") == 0) &&
	    conds_in_block(v)) {
		out_indent(f, indent);
		sb_puts(f->o, k);
		if (v->u.list.n == 0) {
			sb_puts(f->o, " {}\n");
			return;
		}
		sb_puts(f->o, " {\n");
		for (size_t i = 0; i < v->u.list.n; i++)
			print_cond(f, indent + 1, v->u.list.v[i], K_COND);
		out_indent(f, indent);
		sb_puts(f->o, "}\n");
		return;
	}
	if (strcmp(k, "rate-limit") == 0 && rate_sugar(v)) {
		struct line l = { 0 };
		put(&l, "rate limit ");
		put_scalar(&l, v->u.map.v[0].value, false);
		finish_tail(f, indent, &l, v, 1, TAIL_GEN);
		line_free(&l);
		return;
	}
	print_generic(f, indent, k, v, kc, false);
}

/* ------------------------------------------------------------ actions */

/* A scalar that prints as a string or a path (the optional argument of
 * `http METHOD` and `respond STATUS`, and `webhook`'s path). */
static bool string_or_path(const struct tree *t, bool path_ok)
{
	if (!sugar_scalar(t))
		return false;
	enum form fm = scalar_form(t, false);
	return fm == F_STRING || (path_ok && fm == F_PATH);
}

static bool is_method(const struct tree *t)
{
	return sugar_scalar(t) && dsl_probe(t->u.scalar.text, t->u.scalar.len) == T_METHOD;
}

enum act_sugar { A_NONE, A_RUN_EXECUTION, A_RUN_PIPELINE, A_COPY_PIPELINE, A_FETCH, A_HTTP,
		 A_RESPOND };

static enum act_sugar act_kind(const char *k, const struct tree *v)
{
	if (strcmp(k, "run-execution") == 0 && named(v, "step"))
		return A_RUN_EXECUTION;
	if (strcmp(k, "run-pipeline") == 0 && named(v, "pipeline"))
		return A_RUN_PIPELINE;
	if (strcmp(k, "copy-pipeline") == 0 && named(v, "pipeline"))
		return A_COPY_PIPELINE;
	if (strcmp(k, "fetch-repository") == 0 && v->kind == TREE_MAP)
		return A_FETCH;
	if (strcmp(k, "http") == 0 && v->kind == TREE_MAP && v->u.map.n > 0 &&
	    strcmp(v->u.map.v[0].key, "method") == 0 && is_method(v->u.map.v[0].value))
		return A_HTTP;
	if (strcmp(k, "respond") == 0 && named(v, "status"))
		return A_RESPOND;
	return A_NONE;
}

static bool action_ok(const struct tree *item)
{
	if (item->kind != TREE_MAP || item->u.map.n != 1)
		return false;
	const char *k = item->u.map.v[0].key;
	if (act_kind(k, item->u.map.v[0].value) != A_NONE)
		return true;
	return !in_set(trigger_keys, k) && !in_set(condition_kinds, k) && key_bare(k, K_TRIG);
}

static void print_action(struct fmt *f, int indent, const struct tree *item)
{
	const char *k = item->u.map.v[0].key;
	const struct tree *v = item->u.map.v[0].value;
	struct line l = { 0 };
	size_t from = 1;
	switch (act_kind(k, v)) {
	case A_NONE:
		print_generic(f, indent, k, v, K_TRIG, false);
		return;
	case A_RUN_EXECUTION:
		put(&l, "run execution ");
		put_scalar(&l, v->u.map.v[0].value, false);
		break;
	case A_RUN_PIPELINE:
	case A_COPY_PIPELINE:
		put(&l, k[0] == 'r' ? "run pipeline " : "copy pipeline ");
		put_scalar(&l, v->u.map.v[0].value, false);
		break;
	case A_FETCH:
		put(&l, "fetch repository");
		from = 0;
		break;
	case A_HTTP:
		put(&l, "http ");
		put_scalar(&l, v->u.map.v[0].value, false);
		if (v->u.map.n > 1 && strcmp(v->u.map.v[1].key, "url") == 0 &&
		    string_or_path(v->u.map.v[1].value, true)) {
			put(&l, " ");
			put_scalar(&l, v->u.map.v[1].value, false);
			from = 2;
		}
		break;
	case A_RESPOND:
		put(&l, "respond ");
		put_scalar(&l, v->u.map.v[0].value, false);
		if (v->u.map.n > 1 && strcmp(v->u.map.v[1].key, "body") == 0 &&
		    string_or_path(v->u.map.v[1].value, true)) {
			put(&l, " ");
			put_scalar(&l, v->u.map.v[1].value, false);
			from = 2;
		}
		break;
	}
	/* name: NAME right after the head is `as NAME` */
	if (from < v->u.map.n && strcmp(v->u.map.v[from].key, "name") == 0 &&
	    sugar_scalar(v->u.map.v[from].value)) {
		put(&l, " as ");
		put_scalar(&l, v->u.map.v[from].value, false);
		from++;
	}
	finish_tail(f, indent, &l, v, from, TAIL_ACT);
	line_free(&l);
}

static void print_act_block(struct fmt *f, int indent, const struct tree *map, size_t from)
{
	static const char *const kws[] = { "parameter", "input", "environment", "header" };
	struct act_firsts af;
	act_firsts(map, &af);
	for (size_t i = from; i < map->u.map.n; i++) {
		const struct tree_entry *e = &map->u.map.v[i];
		size_t k0 = act_sugar(map, i, &af);
		if (k0) {
			const char *kw = kws[k0 - 1];
			for (size_t k = 0; k < e->value->u.map.n; k++) {
				const struct tree_entry *s = &e->value->u.map.v[k];
				struct line l = { 0 };
				put(&l, kw);
				put(&l, " ");
				put_literal(&l, s->key, strlen(s->key));
				put(&l, " =");
				finish_value(f, indent, &l, s->value, false, false, false);
				line_free(&l);
			}
			continue;
		}
		print_generic(f, indent, e->key, e->value, K_ACT, false);
	}
}

/* ------------------------------------------------------------ triggers */

static bool all_ok(const struct tree *list, bool conds)
{
	if (list->kind != TREE_LIST || list->u.list.n == 0)
		return false;
	for (size_t i = 0; i < list->u.list.n; i++)
		if (conds ? !cond_ok(list->u.list.v[i], K_TRIG) : !action_ok(list->u.list.v[i]))
			return false;
	return true;
}

static void print_webhook(struct fmt *f, int indent, const struct tree *m)
{
	struct line l = { 0 };
	put(&l, "webhook");
	size_t j = 0;
	const struct tree *path = NULL;
	if (j < m->u.map.n && strcmp(m->u.map.v[j].key, "path") == 0 &&
	    string_or_path(m->u.map.v[j].value, false))
		path = m->u.map.v[j++].value;
	if (j < m->u.map.n && strcmp(m->u.map.v[j].key, "methods") == 0) {
		const struct tree *ms = m->u.map.v[j].value;
		bool ok = ms->kind == TREE_LIST && ms->u.list.n > 0;
		for (size_t k = 0; ok && k < ms->u.list.n; k++)
			ok = is_method(ms->u.list.v[k]);
		if (ok) {
			for (size_t k = 0; k < ms->u.list.n; k++) {
				put(&l, " ");
				put_scalar(&l, ms->u.list.v[k], false);
			}
			j++;
		}
	}
	if (path) {
		put(&l, " ");
		put_scalar(&l, path, false);
	}
	finish_tail(f, indent, &l, m, j, TAIL_GEN);
	line_free(&l);
}

static void print_trig_block(struct fmt *f, int indent, const struct tree *m, size_t from)
{
	size_t fconds = first_index(m, "conditions"), facts = first_index(m, "actions");
	for (size_t i = from; i < m->u.map.n; i++) {
		const struct tree_entry *e = &m->u.map.v[i];
		const struct tree *v = e->value;
		if (i == fconds && all_ok(v, true)) {
			for (size_t k = 0; k < v->u.list.n; k++)
				print_cond(f, indent, v->u.list.v[k], K_TRIG);
		} else if (i == facts && all_ok(v, false)) {
			for (size_t k = 0; k < v->u.list.n; k++)
				print_action(f, indent, v->u.list.v[k]);
		} else if (strcmp(e->key, "webhook") == 0 && v->kind == TREE_MAP) {
			print_webhook(f, indent, v);
		} else if (strcmp(e->key, "notification") == 0 && named(v, "event")) {
			struct line l = { 0 };
			put(&l, "on ");
			put_scalar(&l, v->u.map.v[0].value, false);
			finish_tail(f, indent, &l, v, 1, TAIL_GEN);
			line_free(&l);
		} else {
			/* A trigger key stays a key; any other is quoted, so
			 * that it is not taken for a condition or an action. */
			print_generic(f, indent, e->key, v, K_TRIG, !in_set(trigger_keys, e->key));
		}
	}
}

/* ------------------------------------------------------------ blocks */

static void print_block(struct fmt *f, int indent, const struct tree *map, size_t from,
			enum kctx kc)
{
	for (size_t i = from; i < map->u.map.n; i++)
		print_generic(f, indent, map->u.map.v[i].key, map->u.map.v[i].value, kc, false);
}

/* `KW NAME { ... }` for a step, pipeline or trigger. */
static void print_named_block(struct fmt *f, const char *kw, const struct tree *m,
			      void (*body)(struct fmt *, int, const struct tree *, size_t))
{
	struct line l = { 0 };
	put(&l, kw);
	put(&l, " ");
	put_scalar(&l, m->u.map.v[0].value, false);
	if (m->u.map.n == 1) {
		out_line(f, 0, &l, "\n");
	} else {
		out_line(f, 0, &l, " {\n");
		body(f, 1, m, 1);
		sb_puts(f->o, "}\n");
	}
	line_free(&l);
}

/* One top-level statement, separated by blank lines from its neighbours
 * when either spans more than one line. */
struct top {
	struct sb out;
	bool prev_multi;
	bool any;
};

static void top_begin(struct fmt *f, struct sb *tmp)
{
	memset(tmp, 0, sizeof(*tmp));
	f->o = tmp;
}

static void top_end(struct top *t, struct fmt *f, struct sb *tmp)
{
	size_t lines = 0;
	for (size_t i = 0; i < tmp->n; i++)
		lines += tmp->p[i] == '\n';
	bool multi = lines > 1;
	if (t->any && (multi || t->prev_multi))
		sb_add(&t->out, "\n", 1);
	if (tmp->n)
		sb_add(&t->out, tmp->p, tmp->n);
	free(tmp->p);
	t->prev_multi = multi;
	t->any = true;
	f->o = NULL;
}

void fmt_trig(FILE *out, const struct tree *root)
{
	if (!root || root->kind != TREE_MAP)
		return;
	struct fmt f = { 0 };
	struct top t = { 0 };
	struct sb tmp;
	size_t fsteps = first_index(root, "steps"), fpipes = first_index(root, "pipelines");
	size_t ftrigs = first_index(root, "triggers"), fimport = first_index(root, "import");
	for (size_t i = 0; i < root->u.map.n; i++) {
		const struct tree_entry *e = &root->u.map.v[i];
		const struct tree *v = e->value;
		const char *kw = NULL;
		void (*body)(struct fmt *, int, const struct tree *, size_t) = NULL;
		if (i == fsteps) {
			kw = "step";
			body = print_step_block;
		} else if (i == fpipes) {
			kw = "pipeline";
			body = print_pipe_block;
		} else if (i == ftrigs) {
			kw = "trigger";
			body = print_trig_block;
		}
		if (kw && all_named(v, "name")) {
			for (size_t k = 0; k < v->u.list.n; k++) {
				top_begin(&f, &tmp);
				print_named_block(&f, kw, v->u.list.v[k], body);
				top_end(&t, &f, &tmp);
			}
			continue;
		}
		if (i == fimport && v->kind == TREE_LIST && v->u.list.n > 0) {
			for (size_t k = 0; k < v->u.list.n; k++) {
				top_begin(&f, &tmp);
				struct line l = { 0 };
				put(&l, "import");
				finish_value(&f, 0, &l, v->u.list.v[k], false, false, false);
				line_free(&l);
				top_end(&t, &f, &tmp);
			}
			continue;
		}
		top_begin(&f, &tmp);
		if (strcmp(e->key, "backend") == 0 && named(v, "kind")) {
			struct line l = { 0 };
			put(&l, "backend ");
			put_scalar(&l, v->u.map.v[0].value, false);
			finish_tail(&f, 0, &l, v, 1, TAIL_BLOCK);
			line_free(&l);
		} else {
			print_generic(&f, 0, e->key, v, K_TOP, false);
		}
		top_end(&t, &f, &tmp);
	}
	if (t.out.n)
		fwrite(t.out.p, 1, t.out.n, out);
	free(t.out.p);
}
