/*
 * fuzz_dsl.c — libFuzzer target for the .trig front end and formatter.
 *
 * Input bytes are a .trig file: dsl_parse() must not crash on anything
 * (NULs, invalid UTF-8, unbalanced or very deep brackets...).  When the
 * file parses without errors, the formatter's round trip must hold:
 * fmt_trig(t) parses without errors to the same tree (positions and the
 * PLAIN/QUOTED difference aside), and formatting that tree again gives the
 * same bytes.
 *
 * An input whose first byte is NUL is a recipe for a tree instead (see
 * build()), so that fmt_trig is also tried on shapes the parser would not
 * produce but YAML can: arbitrary keys and texts, nulls, nested lists.
 * The same round trip must hold, modulo the documented normalisations
 * (a null inside a list or a sugar argument prints as `~`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

/* ------------------------------------------------------------ trees */

static void dump(FILE *out, const struct tree *t)
{
	switch (t->kind) {
	case TREE_SCALAR:
		fprintf(out, "%s\"", t->u.scalar.style == STYLE_REGEX ? "re:" :
			t->u.scalar.style == STYLE_PLAIN ? "p:" : "");
		for (size_t i = 0; i < t->u.scalar.len; i++) {
			unsigned char c = (unsigned char)t->u.scalar.text[i];
			if (c < 0x20 || c == '"' || c == '\\')
				fprintf(out, "\\x%02x", c);
			else
				fputc(c, out);
		}
		fputc('"', out);
		break;
	case TREE_LIST:
		fputc('[', out);
		for (size_t i = 0; i < t->u.list.n; i++) {
			if (i)
				fputs(", ", out);
			dump(out, t->u.list.v[i]);
		}
		fputc(']', out);
		break;
	case TREE_MAP:
		fputc('{', out);
		for (size_t i = 0; i < t->u.map.n; i++) {
			if (i)
				fputs(", ", out);
			fprintf(out, "%s: ", t->u.map.v[i].key);
			dump(out, t->u.map.v[i].value);
		}
		fputc('}', out);
		break;
	}
}

static bool is_null(const struct tree *t)
{
	return t->kind == TREE_SCALAR && t->u.scalar.style == STYLE_PLAIN && t->u.scalar.len == 0;
}

/* Same tree?  A may have a null where B has `~` when LENIENT. */
static bool same(const struct tree *a, const struct tree *b, bool lenient)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case TREE_SCALAR:
		if (lenient && is_null(a) && b->u.scalar.style == STYLE_PLAIN &&
		    b->u.scalar.len == 1 && b->u.scalar.text[0] == '~')
			return true;
		if ((a->u.scalar.style == STYLE_REGEX) != (b->u.scalar.style == STYLE_REGEX))
			return false;
		if (is_null(a) != is_null(b))
			return false;
		return a->u.scalar.len == b->u.scalar.len &&
		       memcmp(a->u.scalar.text, b->u.scalar.text, a->u.scalar.len) == 0;
	case TREE_LIST:
		if (a->u.list.n != b->u.list.n)
			return false;
		for (size_t i = 0; i < a->u.list.n; i++)
			if (!same(a->u.list.v[i], b->u.list.v[i], lenient))
				return false;
		return true;
	case TREE_MAP:
		if (a->u.map.n != b->u.map.n)
			return false;
		for (size_t i = 0; i < a->u.map.n; i++)
			if (strcmp(a->u.map.v[i].key, b->u.map.v[i].key) != 0 ||
			    !same(a->u.map.v[i].value, b->u.map.v[i].value, lenient))
				return false;
		return true;
	}
	return false;
}

/* ------------------------------------------------------------ recipes */

struct recipe {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct recipe *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static const char *const keys[] = {
	"project", "backend", "import", "steps", "pipelines", "triggers", "name", "kind",
	"command", "parameters", "inputs", "environment-variables", "environment", "nodes",
	"edges", "conditions", "actions", "webhook", "notification", "schedule", "description",
	"enabled", "filter", "field", "equals", "not-equals", "in", "not-in", "matches", "glob",
	"exists", "greater-than", "less-than", "contains", "any", "all", "not", "rate-limit",
	"max", "per", "key", "token", "hmac", "secret", "env", "file", "jwks-file", "jwks-url",
	"run-execution", "run-pipeline", "copy-pipeline", "fetch-repository", "http",
	"respond", "method", "url", "status", "body", "step", "pipeline", "type", "default",
	"headers", "event", "path", "methods", "when", "on", "parameter", "input", "header",
	"node", "edge", "trigger", "run", "rate", "copy", "fetch", "execution", "limit",
	"repository", "a b", "", "x.y", "GET", "~", "1", "-", "\"q\"", "é", "notfy",
};

static const char *const texts[] = {
	"", "~", "null", "true", "false", "GET", "POST", "5", "-1.5", "1h30m", "1MiB",
	"{{ payload.after }}", "{{ a }}", "{{ a.b[0] }}", "{{ e.d[\"x.y\"] }}", "run", "execution",
	"pipeline", "not", "in", "exists", "limit", "rate", "fetch", "repository", "copy",
	"a b", "x\"y", "\\", "/", "a/b", "\xc3\xa9", "\n", "l1\nl2", "payload.ref", "env", "file",
	"step", "when", "matches", "{", "[", "#", ";", ",", "->", "=", "x:y", "0 2 * * *",
	"prep.output.*.npz", "header.X-GitHub-Event", "train", "nightly", "\t", "\x7f", "a\\",
};

/* Texts the lexer can give a regex (never a backslash before a slash
 * that is not itself escaped: `\/` in the source is a plain slash). */
static const char *const regexes[] = {
	"^images(-.*)?$", "a/b", "\\d+/x", "x", "", "\\\\/", "[/]", "\xc3\xa9",
};

static struct tree *build(struct arena *a, struct recipe *r, int depth, const char *key)
{
	unsigned b = take(r);
	unsigned kind = depth > 5 ? 0 : b % 4;
	struct loc nowhere = { 0, 0, 0, 0 };
	if (kind == 0 || kind == 3) {
		unsigned c = take(r);
		if (key && strcmp(key, "matches") == 0 && c % 3 == 0) {
			const char *s = regexes[take(r) % (sizeof(regexes) / sizeof(regexes[0]))];
			return tree_scalar(a, nowhere, s, strlen(s), STYLE_REGEX);
		}
		if (c % 7 == 6) {               /* text with a NUL */
			return tree_scalar(a, nowhere, "a\0b", 3, STYLE_QUOTED);
		}
		const char *s = texts[take(r) % (sizeof(texts) / sizeof(texts[0]))];
		return tree_scalar(a, nowhere, s, strlen(s), c % 2 ? STYLE_QUOTED : STYLE_PLAIN);
	}
	unsigned n = take(r) % 5;
	if (kind == 1) {
		struct tree *m = tree_map(a, nowhere);
		for (unsigned i = 0; i < n; i++) {
			const char *k = keys[take(r) % (sizeof(keys) / sizeof(keys[0]))];
			tree_map_put(a, m, k, nowhere, build(a, r, depth + 1, k));
		}
		return m;
	}
	struct tree *l = tree_list(a, nowhere);
	for (unsigned i = 0; i < n; i++)
		tree_list_push(a, l, build(a, r, depth + 1, NULL));
	return l;
}

/* ------------------------------------------------------------ checks */

static char *format(const struct tree *t, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		abort();
	fmt_trig(f, t);
	if (fclose(f) != 0)
		abort();
	return buf;
}

static void fail(const char *what, const struct tree *t, const char *text, struct diag *d)
{
	fprintf(stderr, "fuzz_dsl: %s\n--- tree:\n", what);
	if (t)
		dump(stderr, t);
	fprintf(stderr, "\n--- formatted:\n%s\n---\n", text ? text : "");
	if (d)
		diag_print(d, stderr, DIAG_TEXT, false);
	abort();
}

/* T formats, parses back to the same tree, and formats to the same bytes. */
static void round_trip(struct sources *s, const struct tree *t, bool lenient)
{
	struct arena a = ARENA_INIT;
	struct diag d;
	diag_init(&d, s);
	size_t len1, len2;
	char *text1 = format(t, &len1);
	uint32_t f1 = sources_add(s, "fmt1.trig", text1, len1);
	struct tree *t2 = dsl_parse(&a, &d, s, f1);
	if (!t2)
		fail("formatted text does not parse", t, text1, &d);
	if (!same(t, t2, lenient)) {
		fprintf(stderr, "--- reparsed:\n");
		dump(stderr, t2);
		fputc('\n', stderr);
		fail("formatted text parses to another tree", t, text1, NULL);
	}
	char *text2 = format(t2, &len2);
	if (len1 != len2 || memcmp(text1, text2, len1) != 0) {
		fprintf(stderr, "--- formatted again:\n%s\n", text2);
		fail("formatting is not stable", t, text1, NULL);
	}
	free(text1);
	free(text2);
	diag_release(&d);
	arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sources s;
	struct arena a = ARENA_INIT;
	sources_init(&s);
	if (size > 0 && data[0] == 0) {
		struct recipe r = { data + 1, size - 1 };
		struct tree *root = tree_map(&a, (struct loc){ 0, 0, 0, 0 });
		unsigned n = take(&r) % 6;
		for (unsigned i = 0; i < n; i++) {
			const char *k = keys[take(&r) % (sizeof(keys) / sizeof(keys[0]))];
			tree_map_put(&a, root, k, (struct loc){ 0, 0, 0, 0 }, build(&a, &r, 0, k));
		}
		round_trip(&s, root, true);
	} else {
		struct diag d;
		diag_init(&d, &s);
		uint32_t f = sources_add(&s, "fuzz.trig", (const char *)data, size);
		struct tree *t = dsl_parse(&a, &d, &s, f);
		if (t && diag_errors(&d) == 0)
			round_trip(&s, t, false);
		else if (!t && diag_errors(&d) == 0)
			fail("no tree and no error", NULL, NULL, &d);
		diag_release(&d);
	}
	arena_free(&a);
	sources_release(&s);
	return 0;
}
