/*
 * fuzz_yaml.c — libFuzzer target for the YAML front end and formatter.
 *
 * Arbitrary bytes go to yaml_parse().  Always: no crash, no leak, every
 * diagnostic and tree position inside the file, every `exact` scalar's
 * text found at its text_loc.  When the parse succeeds: fmt_yaml() output
 * parses again into the same tree (shape, keys and texts; a null that
 * prints as {} comes back as an empty map), and formatting that tree
 * gives the same bytes (the formatter is canonical).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond, ...) do {                                         \
		if (!(cond)) {                                          \
			fprintf(stderr, "fuzz_yaml: " __VA_ARGS__);     \
			fputc('\n', stderr);                            \
			abort();                                        \
		}                                                       \
	} while (0)

/* A position must name bytes of its line (a point may sit at its end). */
static void check_loc(const struct source *src, struct loc l, uint32_t file)
{
	if (l.file == 0 || l.line == 0)
		return;
	REQUIRE(l.file == file, "loc in file %u", l.file);
	size_t len;
	const char *line = source_line(src, l.line, &len);
	REQUIRE(line != NULL, "line %u out of range (%u lines)", l.line, src->nlines);
	REQUIRE(l.col >= 1 && l.col - 1 + (size_t)l.len <= len,
		"span %u:%u+%u past the line's %zu bytes", l.line, l.col, l.len, len);
}

static size_t check_tree(const struct source *src, const struct tree *t, uint32_t file)
{
	size_t n = 1;
	check_loc(src, t->loc, file);
	switch (t->kind) {
	case TREE_SCALAR: {
		struct loc tl = t->u.scalar.text_loc;
		check_loc(src, tl, file);
		REQUIRE(strlen(t->u.scalar.text) <= t->u.scalar.len, "scalar length");
		if (t->u.scalar.exact) {
			size_t len;
			const char *line = source_line(src, tl.line, &len);
			REQUIRE(tl.len == t->u.scalar.len, "exact scalar's text_loc length");
			REQUIRE(memcmp(line + tl.col - 1, t->u.scalar.text, t->u.scalar.len) == 0,
				"exact scalar not at %u:%u", tl.line, tl.col);
		}
		break;
	}
	case TREE_MAP:
		for (size_t i = 0; i < t->u.map.n; i++) {
			check_loc(src, t->u.map.v[i].key_loc, file);
			n += check_tree(src, t->u.map.v[i].value, file);
		}
		break;
	case TREE_LIST:
		for (size_t i = 0; i < t->u.list.n; i++)
			n += check_tree(src, t->u.list.v[i], file);
		break;
	}
	return n;
}

static bool is_null(const struct tree *t)
{
	return t->kind == TREE_SCALAR && t->u.scalar.len == 0 &&
	       t->u.scalar.style == STYLE_PLAIN;
}

static void same_tree(const struct tree *a, const struct tree *b)
{
	if (is_null(a) && b->kind == TREE_MAP && b->u.map.n == 0)
		return;                         /* `- action:` prints as {} */
	REQUIRE(a->kind == b->kind, "kind %d became %d", a->kind, b->kind);
	switch (a->kind) {
	case TREE_SCALAR:
		REQUIRE(a->u.scalar.len == b->u.scalar.len &&
			memcmp(a->u.scalar.text, b->u.scalar.text, a->u.scalar.len) == 0,
			"scalar '%s' came back as '%s'", a->u.scalar.text, b->u.scalar.text);
		REQUIRE(is_null(a) == is_null(b), "null-ness of a scalar changed");
		break;
	case TREE_MAP:
		REQUIRE(a->u.map.n == b->u.map.n, "map of %zu entries came back with %zu",
			a->u.map.n, b->u.map.n);
		for (size_t i = 0; i < a->u.map.n; i++) {
			REQUIRE(strcmp(a->u.map.v[i].key, b->u.map.v[i].key) == 0,
				"key '%s' came back as '%s'", a->u.map.v[i].key, b->u.map.v[i].key);
			same_tree(a->u.map.v[i].value, b->u.map.v[i].value);
		}
		break;
	case TREE_LIST:
		REQUIRE(a->u.list.n == b->u.list.n, "list length changed");
		for (size_t i = 0; i < a->u.list.n; i++)
			same_tree(a->u.list.v[i], b->u.list.v[i]);
		break;
	}
}

static char *format(const struct tree *t, size_t *len)
{
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len);
	REQUIRE(out != NULL, "open_memstream");
	fmt_yaml(out, t);
	REQUIRE(fclose(out) == 0, "fclose");
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	if (!devnull)
		devnull = fopen("/dev/null", "w");

	struct sources s;
	struct diag d;
	struct arena a = ARENA_INIT;
	sources_init(&s);
	diag_init(&d, &s);
	uint32_t f = sources_add(&s, "fuzz.yaml", (const char *)data, size);
	const struct source *src = sources_get(&s, f);
	struct tree *t = yaml_parse(&a, &d, &s, f);

	REQUIRE((t == NULL) == (diag_errors(&d) > 0), "tree and errors disagree");
	for (size_t i = 0; i < d.n; i++)
		check_loc(src, d.v[i].loc, f);
	if (devnull)
		diag_print(&d, devnull, DIAG_TEXT, false);

	if (t) {
		(void)check_tree(src, t, f);
		size_t len1, len2;
		char *out1 = format(t, &len1);

		struct sources s2;
		struct diag d2;
		struct arena a2 = ARENA_INIT;
		sources_init(&s2);
		diag_init(&d2, &s2);
		uint32_t f2 = sources_add(&s2, "fmt.yaml", out1, len1);
		struct tree *t2 = yaml_parse(&a2, &d2, &s2, f2);
		REQUIRE(t2 != NULL, "formatted output does not parse: %s\n--- output:\n%s",
			d2.n ? d2.v[0].msg : "?", out1);
		same_tree(t, t2);
		char *out2 = format(t2, &len2);
		REQUIRE(len1 == len2 && memcmp(out1, out2, len1) == 0,
			"not canonical\n--- once:\n%s\n--- twice:\n%s", out1, out2);
		free(out2);
		arena_free(&a2);
		diag_release(&d2);
		sources_release(&s2);
		free(out1);
	}
	arena_free(&a);
	diag_release(&d);
	sources_release(&s);
	return 0;
}
