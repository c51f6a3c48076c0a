/*
 * test_yaml.c — the YAML front end (yaml.c) and the YAML formatter
 * (fmt_yaml.c).
 *
 * Oracles: hand-counted positions for small documents; libyaml's own
 * document loader (a code path separate from the event walk in yaml.c)
 * plus a brute-force character-to-byte position map for the SPEC.md §2
 * example and valohai.yaml; the bytes of the file itself for every
 * `exact` scalar; and, for the formatter, both yaml_parse and libyaml's
 * loader reading its output back.
 */
#include "unit.h"

#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "frontend.h"

/* ------------------------------------------------------------ helpers */

struct doc {
	struct sources s;
	struct diag d;
	struct arena a;
	uint32_t file;
	struct tree *t;
};

static void doc_parse_n(struct doc *x, const char *text, size_t len)
{
	sources_init(&x->s);
	diag_init(&x->d, &x->s);
	x->a = (struct arena)ARENA_INIT;
	x->file = sources_add(&x->s, "t.yaml", text, len);
	x->t = yaml_parse(&x->a, &x->d, &x->s, x->file);
}

static void doc_parse(struct doc *x, const char *text)
{
	doc_parse_n(x, text, strlen(text));
}

static void doc_free(struct doc *x)
{
	arena_free(&x->a);
	diag_release(&x->d);
	sources_release(&x->s);
}

/* Reads a whole file; NULL if it cannot. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* The ```yaml block of SPEC.md §2. */
static char *spec_example(void)
{
	size_t len;
	char *spec = slurp(unit_shared("SPEC.md"), &len);
	ck_assert_msg(spec != NULL, "cannot read %s", unit_shared("SPEC.md"));
	const char *start = strstr(spec, "```yaml\n");
	ck_assert_ptr_nonnull(start);
	start += 8;
	const char *end = strstr(start, "\n```");
	ck_assert_ptr_nonnull(end);
	char *yaml = strndup(start, (size_t)(end - start) + 1);
	free(spec);
	return yaml;
}

static char *valohai_yaml(size_t *len)
{
	char *v = slurp(unit_shared("testdata/valohai/valohai.yaml"), len);
	ck_assert_msg(v != NULL, "cannot read valohai.yaml");
	return v;
}

/* One line per node: kind, loc, for scalars style, text_loc, '!' when
 * exact, and the text JSON-escaped; map entries as "K key loc". */
static void dump_node(FILE *out, const struct tree *t, int ind)
{
	const struct loc *l = &t->loc;
	switch (t->kind) {
	case TREE_SCALAR: {
		const struct loc *tl = &t->u.scalar.text_loc;
		fprintf(out, "%*sS %u:%u+%u %s @%u:%u+%u%s \"", ind, "", l->line, l->col, l->len,
			t->u.scalar.style == STYLE_PLAIN ? "plain" : "quoted",
			tl->line, tl->col, tl->len, t->u.scalar.exact ? "!" : "");
		diag_json_string(out, t->u.scalar.text);
		fputs("\"\n", out);
		break;
	}
	case TREE_MAP:
		fprintf(out, "%*sM %u:%u+%u\n", ind, "", l->line, l->col, l->len);
		for (size_t i = 0; i < t->u.map.n; i++) {
			const struct tree_entry *e = &t->u.map.v[i];
			fprintf(out, "%*sK %s %u:%u+%u\n", ind + 1, "", e->key,
				e->key_loc.line, e->key_loc.col, e->key_loc.len);
			dump_node(out, e->value, ind + 2);
		}
		break;
	case TREE_LIST:
		fprintf(out, "%*sL %u:%u+%u\n", ind, "", l->line, l->col, l->len);
		for (size_t i = 0; i < t->u.list.n; i++)
			dump_node(out, t->u.list.v[i], ind + 1);
		break;
	}
}

static char *dump(const struct tree *t)
{
	char *buf;
	size_t len;
	FILE *out = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(out);
	dump_node(out, t, 0);
	fclose(out);
	return buf;
}

static char *fmt(const struct tree *t)
{
	char *buf;
	size_t len;
	FILE *out = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(out);
	fmt_yaml(out, t);
	fclose(out);
	return buf;
}

/* Asserts exactly one error at LINE:COL holding MSG (and no tree). */
static void expect_error(const char *text, size_t len, uint32_t line, uint32_t col,
			 const char *msg)
{
	struct doc x;
	doc_parse_n(&x, text, len);
	ck_assert_msg(x.t == NULL, "no error for %s", text);
	ck_assert_uint_ge(x.d.errors, 1);
	const struct diag_entry *e = &x.d.v[0];
	ck_assert_int_eq(e->level, DIAG_ERROR);
	ck_assert_str_eq(e->rule, "syntax");
	ck_assert_msg(strstr(e->msg, msg), "message '%s' lacks '%s'", e->msg, msg);
	ck_assert_uint_eq(e->loc.file, x.file);
	ck_assert_uint_eq(e->loc.line, line);
	ck_assert_uint_eq(e->loc.col, col);
	doc_free(&x);
}

static const struct tree *get(const struct tree *t, const char *key)
{
	const struct tree *v = tree_map_get(t, key);
	ck_assert_msg(v != NULL, "no key '%s'", key);
	return v;
}

static const struct tree *item(const struct tree *t, size_t i)
{
	ck_assert_int_eq(t->kind, TREE_LIST);
	ck_assert_uint_lt(i, t->u.list.n);
	return t->u.list.v[i];
}

/* ---------------------------------------------------------- positions */

START_TEST(test_positions)
{
	static const char text[] =
		"name: \xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 plain\n"     /* Ünïcödé */
		"'k\xc3\xa9': 'it''s'\n"
		"\"q\": \"tab\\there\"\n"
		"flow: [a, \"b c\", {x: 1}]\n"
		"nested:\n"
		"  - k: v\n"
		"    \xc3\xa9: \xc3\xb1\n"
		"  - [1, 2]\n"
		"block: |\n"
		"  one\n"
		"  two\n"
		"empty:\n";
	/* Counted by hand, in bytes. */
	static const char want[] =
		"M 1:1+4\n"
		" K name 1:1+4\n"
		"  S 1:7+17 plain @1:7+17! \"\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 plain\"\n"
		" K k\xc3\xa9 2:1+5\n"
		"  S 2:8+7 quoted @2:9+5 \"it's\"\n"
		" K q 3:1+3\n"
		"  S 3:6+11 quoted @3:7+9 \"tab\\there\"\n"
		" K flow 4:1+4\n"
		"  L 4:7+18\n"
		"   S 4:8+1 plain @4:8+1! \"a\"\n"
		"   S 4:11+5 quoted @4:12+3! \"b c\"\n"
		"   M 4:18+6\n"
		"    K x 4:19+1\n"
		"     S 4:22+1 plain @4:22+1! \"1\"\n"
		" K nested 5:1+6\n"
		"  L 6:3+1\n"
		"   M 6:5+1\n"
		"    K k 6:5+1\n"
		"     S 6:8+1 plain @6:8+1! \"v\"\n"
		"    K \xc3\xa9 7:5+2\n"
		"     S 7:9+2 plain @7:9+2! \"\xc3\xb1\"\n"
		"   L 8:5+6\n"
		"    S 8:6+1 plain @8:6+1! \"1\"\n"
		"    S 8:9+1 plain @8:9+1! \"2\"\n"
		" K block 9:1+5\n"
		"  S 9:8+1 quoted @10:3+3 \"one\\ntwo\\n\"\n"
		" K empty 12:1+5\n"
		"  S 12:7+0 plain @12:7+0! \"\"\n";
	struct doc x;
	doc_parse(&x, text);
	ck_assert_msg(x.t != NULL, "parse failed: %s", x.d.n ? x.d.v[0].msg : "");
	char *got = dump(x.t);
	ck_assert_str_eq(got, want);
	free(got);
	doc_free(&x);
}
END_TEST

START_TEST(test_positions_line_breaks)
{
	/* CRLF: libyaml counts \r\n as two characters. */
	struct doc x;
	doc_parse(&x, "a: 1\r\nb: x\r\n");
	ck_assert_ptr_nonnull(x.t);
	const struct tree_entry *b = tree_map_find(x.t, "b");
	ck_assert_uint_eq(b->key_loc.line, 2);
	ck_assert_uint_eq(b->key_loc.col, 1);
	ck_assert_uint_eq(b->value->loc.col, 4);
	ck_assert_uint_eq(b->value->loc.len, 1);
	doc_free(&x);

	/* U+2028 breaks a line for libyaml but not for the file's line
	 * table, which diagnostics use: positions follow the line table. */
	doc_parse(&x, "a: x\xe2\x80\xa8" "b: y\n");
	ck_assert_ptr_nonnull(x.t);
	b = tree_map_find(x.t, "b");
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->key_loc.line, 1);
	ck_assert_uint_eq(b->key_loc.col, 8);
	ck_assert_uint_eq(b->value->loc.col, 11);
	doc_free(&x);

	/* A byte order mark is a character before the first token. */
	doc_parse(&x, "\xef\xbb\xbf" "k: v\n");
	ck_assert_ptr_nonnull(x.t);
	ck_assert_uint_eq(x.t->u.map.v[0].key_loc.col, 4);
	ck_assert_uint_eq(x.t->u.map.v[0].value->loc.col, 7);
	doc_free(&x);
}
END_TEST

START_TEST(test_positions_multiline)
{
	static const char text[] =
		"a: \"multi\n"
		"  line\"\n"
		"b: plain\n"
		"  more\n"
		"c: >\n"
		"  folded\n"
		"  text\n"
		"d: &anc !!str  tagged\n"
		"e: |2\n"
		"    indented\n";
	struct doc x;
	doc_parse(&x, text);
	ck_assert_ptr_nonnull(x.t);
	const struct tree *a = get(x.t, "a");
	ck_assert_str_eq(a->u.scalar.text, "multi line");
	ck_assert_uint_eq(a->loc.line, 1);
	ck_assert_uint_eq(a->loc.col, 4);
	ck_assert_uint_eq(a->loc.len, 6);          /* clipped at the line end */
	ck_assert_uint_eq(a->u.scalar.text_loc.col, 5);
	ck_assert(!a->u.scalar.exact);
	const struct tree *b = get(x.t, "b");
	ck_assert_str_eq(b->u.scalar.text, "plain more");
	ck_assert_uint_eq(b->loc.len, 5);
	ck_assert(!b->u.scalar.exact);
	ck_assert_int_eq(b->u.scalar.style, STYLE_PLAIN);
	const struct tree *c = get(x.t, "c");
	ck_assert_str_eq(c->u.scalar.text, "folded text\n");
	ck_assert_int_eq(c->u.scalar.style, STYLE_QUOTED);
	ck_assert_uint_eq(c->loc.line, 5);
	ck_assert_uint_eq(c->loc.col, 4);
	ck_assert_uint_eq(c->u.scalar.text_loc.line, 6);
	ck_assert_uint_eq(c->u.scalar.text_loc.col, 3);
	/* Properties are not part of the token; !!str makes it a string. */
	const struct tree *d = get(x.t, "d");
	ck_assert_uint_eq(d->loc.col, 16);
	ck_assert_uint_eq(d->loc.len, 6);
	ck_assert_int_eq(d->u.scalar.style, STYLE_QUOTED);
	ck_assert(d->u.scalar.exact);
	/* An explicit indentation: the text starts with spaces. */
	const struct tree *e = get(x.t, "e");
	ck_assert_str_eq(e->u.scalar.text, "  indented\n");
	doc_free(&x);
}
END_TEST

/* ----------------------------------------- SPEC example and valohai.yaml */

/* Line and byte column of character IDX of TEXT, by brute force. */
static void char_pos(const char *text, size_t idx, uint32_t *line, uint32_t *col)
{
	uint32_t l = 1, c = 1;
	size_t ch = 0;
	for (size_t i = 0; text[i] && ch < idx; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
		if (((unsigned char)text[i + 1] & 0xC0) != 0x80)
			ch++;
	}
	*line = l;
	*col = c;
}

/* Compares our tree T with node N of libyaml's loader, positions
 * included.  Returns the number of scalars checked. */
static size_t cmp_loader(const char *text, yaml_document_t *doc, yaml_node_t *n,
			 const struct tree *t)
{
	uint32_t line, col;
	size_t checked = 0;
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		ck_assert_int_eq(t->kind, TREE_SCALAR);
		ck_assert_uint_eq(t->u.scalar.len, n->data.scalar.length);
		ck_assert(memcmp(t->u.scalar.text, n->data.scalar.value, t->u.scalar.len) == 0);
		ck_assert_int_eq(t->u.scalar.style == STYLE_PLAIN,
				 n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
		char_pos(text, n->start_mark.index, &line, &col);
		ck_assert_uint_eq(t->loc.line, line);
		ck_assert_uint_eq(t->loc.col, col);
		if (n->start_mark.line == n->end_mark.line)
			ck_assert_uint_eq(t->loc.len,
					  n->end_mark.index - n->start_mark.index); /* ASCII */
		return 1;
	}
	case YAML_MAPPING_NODE: {
		ck_assert_int_eq(t->kind, TREE_MAP);
		size_t np = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
		ck_assert_uint_eq(t->u.map.n, np);
		for (size_t i = 0; i < np; i++) {
			yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			ck_assert_int_eq(k->type, YAML_SCALAR_NODE);
			ck_assert_str_eq(t->u.map.v[i].key, (const char *)k->data.scalar.value);
			char_pos(text, k->start_mark.index, &line, &col);
			ck_assert_uint_eq(t->u.map.v[i].key_loc.line, line);
			ck_assert_uint_eq(t->u.map.v[i].key_loc.col, col);
			checked += cmp_loader(text, doc, yaml_document_get_node(doc, p->value),
					      t->u.map.v[i].value);
		}
		return checked;
	}
	case YAML_SEQUENCE_NODE: {
		ck_assert_int_eq(t->kind, TREE_LIST);
		size_t ni = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
		ck_assert_uint_eq(t->u.list.n, ni);
		char_pos(text, n->start_mark.index, &line, &col);
		ck_assert_uint_eq(t->loc.line, line);
		ck_assert_uint_eq(t->loc.col, col);
		for (size_t i = 0; i < ni; i++)
			checked += cmp_loader(text, doc,
					      yaml_document_get_node(doc,
								     n->data.sequence.items.start[i]),
					      t->u.list.v[i]);
		return checked;
	}
	default:
		ck_abort_msg("unexpected node type");
	}
	return 0;
}

static size_t against_loader(const char *text, const struct tree *t)
{
	yaml_parser_t p;
	yaml_document_t doc;
	ck_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	ck_assert(yaml_parser_load(&p, &doc));
	size_t n = cmp_loader(text, &doc, yaml_document_get_root_node(&doc), t);
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return n;
}

/* Every exact scalar's text is in the file at text_loc. */
static size_t check_exact(const struct doc *x, const struct tree *t)
{
	size_t n = 0;
	if (t->kind == TREE_SCALAR) {
		if (!t->u.scalar.exact)
			return 0;
		size_t len;
		const char *line = source_line(sources_get(&x->s, x->file),
					       t->u.scalar.text_loc.line, &len);
		ck_assert_ptr_nonnull(line);
		ck_assert_uint_le(t->u.scalar.text_loc.col - 1 + t->u.scalar.len, len);
		ck_assert(memcmp(line + t->u.scalar.text_loc.col - 1, t->u.scalar.text,
				 t->u.scalar.len) == 0);
		ck_assert_uint_eq(t->u.scalar.text_loc.len, t->u.scalar.len);
		return 1;
	}
	if (t->kind == TREE_MAP)
		for (size_t i = 0; i < t->u.map.n; i++)
			n += check_exact(x, t->u.map.v[i].value);
	else
		for (size_t i = 0; i < t->u.list.n; i++)
			n += check_exact(x, t->u.list.v[i]);
	return n;
}

START_TEST(test_spec_example)
{
	char *text = spec_example();
	struct doc x;
	doc_parse(&x, text);
	ck_assert_msg(x.t != NULL, "parse failed: %s", x.d.n ? x.d.v[0].msg : "");
	ck_assert_uint_eq(x.d.n, 0);
	ck_assert_uint_eq(against_loader(text, x.t), 52);      /* value scalars */
	ck_assert_uint_eq(check_exact(&x, x.t), 52);

	/* Spot checks, positions counted in SPEC.md's example. */
	const struct tree *p = get(x.t, "project");
	ck_assert_str_eq(p->u.scalar.text, "mnist");
	ck_assert_uint_eq(p->loc.line, 1);
	ck_assert_uint_eq(p->loc.col, 10);
	const struct tree *trig = get(x.t, "triggers");
	ck_assert_uint_eq(trig->u.list.n, 3);
	const struct tree *gh = item(trig, 1);
	ck_assert(tree_is(get(gh, "name"), "github-push"));
	const struct tree *in = get(get(item(get(gh, "conditions"), 2), "filter"), "in");
	ck_assert(tree_is(item(in, 1), "refs/heads/release"));
	const struct tree *cron = get(get(item(trig, 0), "schedule"), "cron");
	ck_assert_str_eq(cron->u.scalar.text, "0 2 * * *");
	ck_assert_int_eq(cron->u.scalar.style, STYLE_QUOTED);
	ck_assert_uint_eq(cron->loc.line, 31);
	ck_assert_uint_eq(cron->loc.col, 13);
	ck_assert_uint_eq(cron->loc.len, 11);
	ck_assert_uint_eq(cron->u.scalar.text_loc.col, 14);
	ck_assert(cron->u.scalar.exact);
	const struct tree *fr = get(item(get(gh, "actions"), 0), "fetch-repository");
	ck_assert_int_eq(fr->kind, TREE_MAP);
	ck_assert_uint_eq(fr->u.map.n, 0);
	const struct tree_entry *pin = tree_map_find(
		get(get(item(get(item(trig, 2), "actions"), 0), "run-pipeline"), "inputs"),
		"prep.dataset");
	ck_assert_ptr_nonnull(pin);
	ck_assert_uint_eq(pin->key_loc.line, 64);
	ck_assert_uint_eq(pin->key_loc.col, 20);
	ck_assert_uint_eq(pin->key_loc.len, 12);
	doc_free(&x);
	free(text);
}
END_TEST

START_TEST(test_valohai_yaml)
{
	size_t len;
	char *text = valohai_yaml(&len);
	struct doc x;
	doc_parse_n(&x, text, len);
	ck_assert_msg(x.t != NULL, "parse failed: %s", x.d.n ? x.d.v[0].msg : "");
	ck_assert_int_eq(x.t->kind, TREE_LIST);      /* valohai.yaml: a list */
	ck_assert_uint_eq(against_loader(text, x.t), 45);
	ck_assert_uint_eq(check_exact(&x, x.t), 45);
	ck_assert_uint_eq(x.t->u.list.n, 4);
	const struct tree *train = get(item(x.t, 1), "step");
	const struct tree *env = item(get(train, "environment-variables"), 0);
	const struct tree *def = get(env, "default");
	ck_assert_str_eq(def->u.scalar.text, "1");
	ck_assert_int_eq(def->u.scalar.style, STYLE_QUOTED);
	ck_assert_uint_eq(def->loc.line, 33);
	ck_assert_uint_eq(def->loc.col, 18);
	const struct tree *edges = get(get(item(x.t, 3), "pipeline"), "edges");
	ck_assert_uint_eq(edges->u.list.n, 3);
	const struct tree *e2 = item(edges, 2);
	ck_assert(tree_is(item(e2, 0), "train.output.model*"));
	ck_assert_uint_eq(e2->loc.line, 58);
	ck_assert_uint_eq(e2->loc.col, 9);
	ck_assert_uint_eq(e2->loc.len, 43);
	doc_free(&x);
	free(text);
}
END_TEST

/* ------------------------------------------------------------- errors */

#define ERR(text, line, col, msg) expect_error(text, sizeof(text) - 1, line, col, msg)

START_TEST(test_errors_libyaml)
{
	ERR("a:\n\tb: 1\n", 2, 1,
	    "found character that cannot start any token while scanning for the next token");
	ERR("a: [1, 2\n", 1, 9, "did not find expected ',' or ']' while parsing a flow sequence");
	ERR("a: {x: 1\n", 1, 9, "while parsing a flow mapping");
	ERR("a:\n  b: 1\n c: 2\n", 3, 2, "did not find expected key while parsing a block mapping");
	ERR("a: \"open\n", 1, 9, "found unexpected end of stream while scanning a quoted scalar");
	ERR("a: b: c\n", 1, 5, "mapping values are not allowed in this context");
	ERR("a: b\0c\n", 1, 5, "control character U+0000 is not allowed");
	ERR("a: b\xff" "c\n", 1, 5, "invalid UTF-8: byte 0xFF cannot start a character");
	ERR("a: \xc3(\n", 1, 5, "invalid UTF-8: byte 0x28 cannot continue a character");
	ERR("\xff\xfe" "a\0:\0", 1, 1, "invalid UTF-8");         /* UTF-16 */
	ERR("a: \xe2\x82", 1, 4, "invalid UTF-8: the file ends inside a character");

	/* The unclosed flow gets a note where it opened. */
	struct doc x;
	doc_parse(&x, "k:\n  v: [1, 2\n");
	ck_assert_ptr_null(x.t);
	ck_assert_uint_eq(x.d.n, 2);
	ck_assert_int_eq(x.d.v[1].level, DIAG_NOTE);
	ck_assert_str_eq(x.d.v[1].msg, "the flow sequence starts here");
	ck_assert_uint_eq(x.d.v[1].loc.line, 2);
	ck_assert_uint_eq(x.d.v[1].loc.col, 6);
	/* Message style: lowercase, no final period. */
	const char *m = x.d.v[0].msg;
	ck_assert(m[0] >= 'a' && m[0] <= 'z');
	ck_assert(m[strlen(m) - 1] != '.');
	doc_free(&x);
}
END_TEST

START_TEST(test_errors_structure)
{
	ERR("a: 1\n---\nb: 2\n", 2, 1, "a definition file holds one YAML document");
	ERR("--- {a: 1}\n--- {b: 2}\n", 2, 1, "a definition file holds one YAML document");
	ERR("hello\n", 1, 1, "the top level of a definition file must be a map, not a scalar");
	ERR("\"\"\n", 1, 1, "must be a map");
	ERR("a: !!binary eA==\n", 1, 4, "unsupported tag '!!binary'");
	ERR("a: !foo x\n", 1, 4, "unsupported tag '!foo'");
	ERR("a: !<tag:example.com,2000:x> x\n", 1, 4, "unsupported tag 'tag:example.com,2000:x'");
	ERR("%TAG !! tag:example.com,2000:\n---\na: !!str x\n", 3, 4,
	    "unsupported tag 'tag:example.com,2000:str'");
	ERR("a: !!seq x\n", 1, 4, "tag '!!seq' does not fit a scalar");
	ERR("a: !!str {}\n", 1, 4, "tag '!!str' does not fit a map");
	ERR("[a]: 1\n", 1, 1, "a map key must be a scalar, not a list");
	ERR("? {b: 1}\n: 2\n", 1, 3, "a map key must be a scalar, not a map");
	ERR("\"a\\0b\": 1\n", 1, 1, "a map key must not hold a NUL character");
	ERR("a: *nope\n", 1, 4, "undefined alias 'nope'");
	ERR("a: &x [1, *x]\n", 1, 11, "alias 'x' refers to a node that contains it");
	ERR("a: {<<: 5}\n", 1, 9, "merge key '<<' takes a map or a list of maps, not a scalar");
	ERR("a: {<<: [{b: 1}, [2]]}\n", 1, 18, "merge key '<<' takes maps, not a list");

	/* Errors that do not stop libyaml are all reported. */
	struct doc x;
	doc_parse(&x, "[a]: 1\nb: !foo x\nc: *y\nd: ok\n");
	ck_assert_ptr_null(x.t);
	ck_assert_uint_eq(x.d.errors, 3);
	ck_assert_uint_eq(x.d.v[1].loc.line, 2);
	ck_assert_uint_eq(x.d.v[2].loc.line, 3);
	doc_free(&x);
}
END_TEST

START_TEST(test_errors_depth)
{
	/* The root map is level 1: 63 lists below it are fine, 64 are not. */
	char buf[256];
	size_t n = 0;
	n += (size_t)sprintf(buf, "a: ");
	for (int i = 0; i < 63; i++)
		buf[n++] = '[';
	for (int i = 0; i < 63; i++)
		buf[n++] = ']';
	buf[n++] = '\n';
	struct doc x;
	doc_parse_n(&x, buf, n);
	ck_assert_ptr_nonnull(x.t);
	doc_free(&x);

	n = (size_t)sprintf(buf, "a: ");
	for (int i = 0; i < 64; i++)
		buf[n++] = '[';
	for (int i = 0; i < 64; i++)
		buf[n++] = ']';
	buf[n++] = '\n';
	expect_error(buf, n, 1, 67, "nest too deeply");

	/* A megabyte of brackets: one error, quickly. */
	size_t big = 1 << 20;
	char *deep = malloc(big);
	ck_assert_ptr_nonnull(deep);
	memset(deep, '[', big);
	expect_error(deep, big, 1, 65, "nest too deeply");
	free(deep);
}
END_TEST

START_TEST(test_errors_alias_bomb)
{
	/* Sizes: a 2 nodes, b 21, c 211, d 2111, e 21111; the aliases add
	 * 20 + 210 + 2110 + 21110 before f, and f's fourth *e passes 100000. */
	static const char bomb[] =
		"a: &a [1]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	ERR(bomb, 6, 17, "alias 'e' expands the document past the limit of 100000 aliased nodes");

	/* Under the budget, the alias is the anchored subtree itself. */
	struct doc x;
	doc_parse(&x, "a: &x {k: v}\nb: *x\nc: &s text\nd: [*s, *s]\n");
	ck_assert_ptr_nonnull(x.t);
	ck_assert_ptr_eq(get(x.t, "a"), get(x.t, "b"));
	ck_assert(tree_is(item(get(x.t, "d"), 1), "text"));
	doc_free(&x);

	/* An anchor defined again: later aliases see the new one. */
	doc_parse(&x, "a: &x 1\nb: *x\nc: &x 2\nd: *x\n");
	ck_assert_ptr_nonnull(x.t);
	ck_assert(tree_is(get(x.t, "b"), "1"));
	ck_assert(tree_is(get(x.t, "d"), "2"));
	doc_free(&x);

	/* Many anchors (the hash table grows). */
	size_t cap = 400000, n = 0;
	char *many = malloc(cap);
	ck_assert_ptr_nonnull(many);
	for (int i = 0; i < 5000; i++)
		n += (size_t)snprintf(many + n, cap - n, "k%d: &a%d v%d\n", i, i, i);
	for (int i = 0; i < 5000; i++)
		n += (size_t)snprintf(many + n, cap - n, "r%d: *a%d\n", i, 4999 - i);
	doc_parse_n(&x, many, n);
	ck_assert_ptr_nonnull(x.t);
	ck_assert_uint_eq(x.t->u.map.n, 10000);
	ck_assert(tree_is(get(x.t, "r0"), "v4999"));
	ck_assert(tree_is(get(x.t, "r4999"), "v0"));
	doc_free(&x);
	free(many);
}
END_TEST

/* ------------------------------------------------------ documents, merges */

START_TEST(test_empty_and_null)
{
	static const char *const empties[] = {
		"", "\n", "# only a comment\n", "---\n", "--- \n...\n",
	};
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		struct doc x;
		doc_parse(&x, empties[i]);
		ck_assert_msg(x.t != NULL, "'%s' failed", empties[i]);
		ck_assert_int_eq(x.t->kind, TREE_MAP);
		ck_assert_uint_eq(x.t->u.map.n, 0);
		ck_assert_uint_eq(x.t->loc.file, x.file);
		ck_assert_uint_ge(x.t->loc.line, 1);
		doc_free(&x);
	}
	struct doc x;
	doc_parse(&x, "a:\nb: ~\nc: null\nd: ''\ne: !!str\n");
	ck_assert_ptr_nonnull(x.t);
	const struct tree *a = get(x.t, "a");
	ck_assert_int_eq(a->u.scalar.style, STYLE_PLAIN);
	ck_assert_uint_eq(a->u.scalar.len, 0);
	ck_assert_uint_eq(a->loc.col, 3);
	ck_assert(tree_is(get(x.t, "b"), "~"));
	ck_assert(tree_is(get(x.t, "c"), "null"));
	ck_assert_int_eq(get(x.t, "d")->u.scalar.style, STYLE_QUOTED);
	ck_assert_int_eq(get(x.t, "e")->u.scalar.style, STYLE_QUOTED);
	ck_assert_uint_eq(get(x.t, "e")->u.scalar.len, 0);
	doc_free(&x);

	/* Duplicate keys are the decoder's business: both kept, in order. */
	doc_parse(&x, "a: 1\nb: 2\na: 3\n");
	ck_assert_ptr_nonnull(x.t);
	ck_assert_uint_eq(x.t->u.map.n, 3);
	ck_assert_str_eq(x.t->u.map.v[2].key, "a");
	ck_assert_uint_eq(x.t->u.map.v[2].key_loc.line, 3);
	doc_free(&x);

	/* Standard tags are accepted; a NUL inside a value is kept. */
	doc_parse(&x, "a: !!int 5\nb: !!map {x: !!null ~}\nc: !!seq [!!float 1.5, !!bool true]\n"
		      "d: \"x\\0y\"\n");
	ck_assert_ptr_nonnull(x.t);
	ck_assert_uint_eq(get(x.t, "d")->u.scalar.len, 3);
	ck_assert(memcmp(get(x.t, "d")->u.scalar.text, "x\0y", 3) == 0);
	doc_free(&x);
}
END_TEST

START_TEST(test_merge)
{
	static const char text[] =
		"base: &b {x: 1, y: 2, z: 3}\n"
		"more: &m {y: 20, w: 40}\n"
		"one:\n"
		"  <<: *b\n"
		"  y: own\n"
		"two:\n"
		"  k: first\n"
		"  <<: [*m, *b]\n"
		"three:\n"
		"  \"<<\": quoted\n"
		"four: {<<: {p: q}, r: s}\n";
	struct doc x;
	doc_parse(&x, text);
	ck_assert_ptr_nonnull(x.t);
	/* one: x, z from base at the place of <<, y the map's own. */
	const struct tree *one = get(x.t, "one");
	ck_assert_uint_eq(one->u.map.n, 3);
	ck_assert_str_eq(one->u.map.v[0].key, "x");
	ck_assert_str_eq(one->u.map.v[1].key, "z");
	ck_assert_str_eq(one->u.map.v[2].key, "y");
	ck_assert(tree_is(one->u.map.v[2].value, "own"));
	ck_assert_uint_eq(one->u.map.v[0].key_loc.line, 1);   /* where it was written */
	/* two: the earlier merged map wins. */
	const struct tree *two = get(x.t, "two");
	ck_assert_uint_eq(two->u.map.n, 5);
	ck_assert(tree_is(get(two, "y"), "20"));
	ck_assert(tree_is(get(two, "x"), "1"));
	ck_assert(tree_is(get(two, "k"), "first"));
	ck_assert_str_eq(two->u.map.v[1].key, "y");
	/* A quoted "<<" is an ordinary key. */
	ck_assert(tree_is(get(get(x.t, "three"), "<<"), "quoted"));
	const struct tree *four = get(x.t, "four");
	ck_assert_uint_eq(four->u.map.n, 2);
	ck_assert(tree_is(get(four, "p"), "q"));
	doc_free(&x);
}
END_TEST

START_TEST(test_hostile)
{
	/* A 4 MiB scalar. */
	size_t n = 4u << 20;
	char *big = malloc(n + 8);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "k: ", 3);
	memset(big + 3, 'x', n);
	big[n + 3] = '\n';
	struct doc x;
	doc_parse_n(&x, big, n + 4);
	ck_assert_ptr_nonnull(x.t);
	ck_assert_uint_eq(get(x.t, "k")->u.scalar.len, n);
	doc_free(&x);
	free(big);

	/* Garbage: an error, never a crash. */
	static const char *const junk[] = {
		"\0\0\0", "{{{{", "]]]]", "- - - -\n\t-", "&a &b *c", "? ? ? ?", "!<>", "%YAML 9.9\n---\n",
		"a: |\n\x01", "'\n\n'\n'", "*", "&", "!", "\"\\u0000\": 1", "<<: *",
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		doc_parse_n(&x, junk[i], strlen(junk[i]) + (i == 0 ? 3 : 0));
		if (!x.t)
			ck_assert_uint_ge(x.d.errors, 1);
		doc_free(&x);
	}
}
END_TEST

/* ------------------------------------------------------------ formatter */

/* Parses TEXT, formats it, checks fmt(parse(fmt(t))) == fmt(t); returns
 * fmt(t). */
static char *fmt_canonical(const char *text, size_t len)
{
	struct doc x, y;
	doc_parse_n(&x, text, len);
	ck_assert_msg(x.t != NULL, "parse failed: %s", x.d.n ? x.d.v[0].msg : "");
	char *once = fmt(x.t);
	doc_parse(&y, once);
	ck_assert_msg(y.t != NULL, "output does not parse: %s\n%s",
		      y.d.n ? y.d.v[0].msg : "", once);
	char *twice = fmt(y.t);
	ck_assert_str_eq(twice, once);
	free(twice);
	doc_free(&y);
	doc_free(&x);
	return once;
}

/* Same shape and texts (styles and positions aside). */
static void same_tree(const struct tree *a, const struct tree *b)
{
	ck_assert_int_eq(a->kind, b->kind);
	switch (a->kind) {
	case TREE_SCALAR:
		ck_assert_uint_eq(a->u.scalar.len, b->u.scalar.len);
		ck_assert(memcmp(a->u.scalar.text, b->u.scalar.text, a->u.scalar.len) == 0);
		break;
	case TREE_MAP:
		ck_assert_uint_eq(a->u.map.n, b->u.map.n);
		for (size_t i = 0; i < a->u.map.n; i++) {
			ck_assert_str_eq(a->u.map.v[i].key, b->u.map.v[i].key);
			same_tree(a->u.map.v[i].value, b->u.map.v[i].value);
		}
		break;
	case TREE_LIST:
		ck_assert_uint_eq(a->u.list.n, b->u.list.n);
		for (size_t i = 0; i < a->u.list.n; i++)
			same_tree(a->u.list.v[i], b->u.list.v[i]);
		break;
	}
}

START_TEST(test_fmt_files)
{
	size_t vlen;
	char *texts[2] = { spec_example(), valohai_yaml(&vlen) };
	for (int i = 0; i < 2; i++) {
		char *out = fmt_canonical(texts[i], strlen(texts[i]));
		struct doc x, y;
		doc_parse(&x, texts[i]);
		doc_parse(&y, out);
		same_tree(x.t, y.t);
		/* libyaml's loader reads the output as the same tree too. */
		ck_assert_uint_gt(against_loader(out, y.t), 40);
		doc_free(&x);
		doc_free(&y);
		if (i == 0) {
			/* Sections and triggers apart, flow lists, quoted templates. */
			ck_assert_ptr_nonnull(strstr(out, "project: mnist\n\nbackend:\n  kind: local\n"));
			ck_assert_ptr_nonnull(strstr(out, "\nimport: [valohai.yaml]\n\nsteps:\n  - name: train\n"));
			ck_assert_ptr_nonnull(strstr(out, "    edges:\n      - [prep.output.*.npz, train.input.dataset]\n"));
			ck_assert_ptr_nonnull(strstr(out, "          pipeline: nightly-training\n\n  - name: github-push\n"));
			ck_assert_ptr_nonnull(strstr(out, "      methods: [POST]\n"));
			ck_assert_ptr_nonnull(strstr(out, "      - fetch-repository: {}\n"));
			ck_assert_ptr_nonnull(strstr(out, "          commit: \"{{ payload.after }}\"\n"));
			ck_assert_ptr_nonnull(strstr(out, "          body: \"started {{ launch.id }}\"\n"));
			ck_assert_ptr_nonnull(strstr(out, "          parameters:\n            epochs: 5\n"));
		} else {
			ck_assert(strncmp(out, "- step:\n    name: preprocess\n", 29) == 0);
			ck_assert_ptr_nonnull(strstr(out, "        default: true\n\n- step:\n"));
		}
		free(out);
		free(texts[i]);
	}
}
END_TEST

/* A tree built by hand (as the .trig front end would): the exact output. */
START_TEST(test_fmt_layout)
{
	struct arena a = ARENA_INIT;
	struct loc nl = { 0, 0, 0, 0 };
	struct tree *root = tree_map(&a, nl);
	tree_map_put(&a, root, "project", nl, tree_scalar(&a, nl, "demo", 4, STYLE_QUOTED));
	tree_map_put(&a, root, "backend", nl, tree_map(&a, nl));
	struct tree *trig = tree_list(&a, nl);
	tree_map_put(&a, root, "triggers", nl, trig);
	for (int i = 0; i < 2; i++) {
		struct tree *t = tree_map(&a, nl);
		tree_list_push(&a, trig, t);
		tree_map_put(&a, t, "name", nl, tree_scalar(&a, nl, i ? "b" : "a", 1, STYLE_PLAIN));
		struct tree *conds = tree_list(&a, nl);
		tree_map_put(&a, t, "conditions", nl, conds);
		struct tree *f = tree_map(&a, nl), *body = tree_map(&a, nl);
		tree_list_push(&a, conds, f);
		tree_map_put(&a, f, "filter", nl, body);
		tree_map_put(&a, body, "field", nl,
			     tree_scalar(&a, nl, "payload.ref", 11, STYLE_PLAIN));
		tree_map_put(&a, body, "matches", nl,
			     tree_scalar(&a, nl, "^v[0-9]+$", 9, STYLE_REGEX));
		struct tree *acts = tree_list(&a, nl);
		tree_map_put(&a, t, "actions", nl, acts);
		struct tree *fr = tree_map(&a, nl);
		tree_list_push(&a, acts, fr);
		tree_map_put(&a, fr, "fetch-repository", nl,
			     tree_scalar(&a, nl, "", 0, STYLE_PLAIN));
		struct tree *pair = tree_list(&a, nl);
		tree_map_put(&a, t, "empty", nl, tree_list(&a, nl));
		tree_map_put(&a, t, "desc", nl, tree_scalar(&a, nl, "", 0, STYLE_PLAIN));
		tree_map_put(&a, t, "blank", nl, tree_scalar(&a, nl, "", 0, STYLE_QUOTED));
		tree_list_push(&a, pair, tree_scalar(&a, nl, "x", 1, STYLE_PLAIN));
		tree_list_push(&a, pair, tree_scalar(&a, nl, "", 0, STYLE_PLAIN));
		tree_map_put(&a, t, "nulls", nl, pair);
	}
	static const char want[] =
		"project: demo\n"
		"\n"
		"backend: {}\n"
		"\n"
		"triggers:\n"
		"  - name: a\n"
		"    conditions:\n"
		"      - filter:\n"
		"          field: payload.ref\n"
		"          matches: \"^v[0-9]+$\"\n"
		"    actions:\n"
		"      - fetch-repository: {}\n"
		"    empty: []\n"
		"    desc:\n"
		"    blank: \"\"\n"
		"    nulls:\n"
		"      - x\n"
		"      -\n"
		"\n"
		"  - name: b\n"
		"    conditions:\n"
		"      - filter:\n"
		"          field: payload.ref\n"
		"          matches: \"^v[0-9]+$\"\n"
		"    actions:\n"
		"      - fetch-repository: {}\n"
		"    empty: []\n"
		"    desc:\n"
		"    blank: \"\"\n"
		"    nulls:\n"
		"      - x\n"
		"      -\n";
	char *out = fmt(root);
	ck_assert_str_eq(out, want);
	free(fmt_canonical(out, strlen(out)));
	free(out);

	/* Lists: flow only while the line fits; lists of lists. */
	struct tree *r2 = tree_map(&a, nl);
	struct tree *lst = tree_list(&a, nl);
	tree_map_put(&a, r2, "ip-allow", nl, lst);
	for (int i = 0; i < 8; i++)
		tree_list_push(&a, lst, tree_scalar(&a, nl, "192.168.100.0/24", 16, STYLE_QUOTED));
	struct tree *lol = tree_list(&a, nl), *inner = tree_list(&a, nl);
	tree_map_put(&a, r2, "lol", nl, lol);
	tree_list_push(&a, lol, inner);
	tree_list_push(&a, lol, tree_list(&a, nl));
	tree_list_push(&a, inner, tree_scalar(&a, nl, "a,b", 3, STYLE_PLAIN));
	tree_list_push(&a, inner, tree_scalar(&a, nl, "c", 1, STYLE_PLAIN));
	out = fmt(r2);
	ck_assert_str_eq(out,
			 "ip-allow:\n"
			 "  - 192.168.100.0/24\n  - 192.168.100.0/24\n  - 192.168.100.0/24\n"
			 "  - 192.168.100.0/24\n  - 192.168.100.0/24\n  - 192.168.100.0/24\n"
			 "  - 192.168.100.0/24\n  - 192.168.100.0/24\n"
			 "\n"
			 "lol:\n"
			 "  - - a,b\n"
			 "    - c\n"
			 "  - []\n");
	free(fmt_canonical(out, strlen(out)));
	free(out);
	lst->u.list.n = 5;                    /* 7 + 5 * 18 = 97 columns */
	out = fmt(r2);
	ck_assert_ptr_nonnull(strstr(out, "ip-allow: [192.168.100.0/24, 192.168.100.0/24, "
					  "192.168.100.0/24, 192.168.100.0/24, 192.168.100.0/24]\n"));
	free(out);

	/* Empty root and empty list root. */
	out = fmt(tree_map(&a, nl));
	ck_assert_str_eq(out, "{}\n");
	free(out);
	arena_free(&a);
}
END_TEST

/* Reads YAML text with libyaml's loader and returns the text of the
 * value of key "k" of the top map (malloc'd), or NULL. */
static char *loader_value(const char *yaml, size_t *len)
{
	yaml_parser_t p;
	yaml_document_t doc;
	char *res = NULL;
	ck_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, strlen(yaml));
	if (yaml_parser_load(&p, &doc)) {
		yaml_node_t *r = yaml_document_get_root_node(&doc);
		if (r && r->type == YAML_MAPPING_NODE &&
		    r->data.mapping.pairs.start < r->data.mapping.pairs.top) {
			yaml_node_t *v = yaml_document_get_node(&doc,
								r->data.mapping.pairs.start[0].value);
			if (v->type == YAML_SCALAR_NODE) {
				*len = v->data.scalar.length;
				res = malloc(*len + 1);
				memcpy(res, v->data.scalar.value, *len + 1);
			}
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
	return res;
}

START_TEST(test_fmt_scalars)
{
	/* Text, and whether it must print plain (1) or quoted (0). */
	static const struct { const char *s; int plain; } cases[] = {
		{ "plain words", 1 }, { "yes", 1 }, { "no", 1 }, { "on", 1 }, { "true", 1 },
		{ "null", 1 }, { "~", 1 }, { "0x1F", 1 }, { "1e3", 1 }, { "5", 1 }, { "1.5", 1 },
		{ "-1", 1 }, { "-.5", 1 }, { "1MiB", 1 }, { "a#b", 1 }, { "a:b", 1 },
		{ "https://app.valohai.com", 1 }, { "prep.output.*.npz", 1 },
		{ "python3 train.py {parameters}", 1 }, { "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", 1 },
		{ "\xf0\x9f\x9a\x80 rocket", 1 }, { "it's", 1 }, { "say \"hi\"", 1 },
		{ "{{ payload.ref }}", 0 }, { "started {{ launch.id }}", 0 },
		{ ": ", 0 }, { "a: b", 0 }, { "ends:", 0 }, { "#", 0 }, { "a #b", 0 },
		{ " lead", 0 }, { "trail ", 0 }, { "two\nlines", 0 }, { "tab\there", 0 },
		{ "cr\r", 0 }, { "bell\x07", 0 }, { "del\x7f", 0 }, { "nel\xc2\x85", 0 },
		{ "ls\xe2\x80\xa8", 0 }, { "bom\xef\xbb\xbf", 0 }, { "<<", 0 }, { "=", 0 },
		{ "02:00", 0 }, { "2024-01-02", 0 }, { "-", 0 }, { "---", 0 }, { "...", 0 },
		{ "- item", 0 }, { "back\\slash\"", 1 },
		{ "-x", 0 }, { "?x", 0 }, { ":x", 0 }, { ",x", 0 }, { "[x", 0 }, { "]x", 0 },
		{ "{x", 0 }, { "}x", 0 }, { "#x", 0 }, { "&x", 0 }, { "*x", 0 }, { "!x", 0 },
		{ "|x", 0 }, { ">x", 0 }, { "'x", 0 }, { "\"x", 0 }, { "%x", 0 }, { "@x", 0 },
		{ "`x", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = cases[i].s;
		size_t len = strlen(s);
		struct arena a = ARENA_INIT;
		struct loc nl = { 0, 0, 0, 0 };
		struct tree *root = tree_map(&a, nl);
		tree_map_put(&a, root, "k", nl, tree_scalar(&a, nl, s, len, STYLE_QUOTED));
		tree_map_put(&a, root, s, nl, tree_scalar(&a, nl, "v", 1, STYLE_PLAIN));
		struct tree *l = tree_list(&a, nl);
		tree_list_push(&a, l, tree_scalar(&a, nl, s, len, STYLE_PLAIN));
		tree_list_push(&a, l, tree_scalar(&a, nl, s, len, STYLE_QUOTED));
		tree_map_put(&a, root, "l", nl, l);
		char *out = fmt(root);

		/* Plain or quoted, as expected. */
		const char *v = out + 3;
		ck_assert_msg((v[0] != '"') == cases[i].plain, "'%s' printed as %s", s, out);
		/* Read back by yaml_parse and by libyaml's loader: same text. */
		struct doc x;
		doc_parse(&x, out);
		ck_assert_msg(x.t != NULL, "'%s': output does not parse: %s", s, out);
		const struct tree *k = get(x.t, "k");
		ck_assert_uint_eq(k->u.scalar.len, len);
		ck_assert_msg(memcmp(k->u.scalar.text, s, len) == 0, "'%s' read back wrong", s);
		ck_assert_str_eq(x.t->u.map.v[1].key, s);
		const struct tree *rl = get(x.t, "l");
		ck_assert_uint_eq(rl->u.list.n, 2);
		ck_assert(memcmp(rl->u.list.v[0]->u.scalar.text, s, len) == 0);
		size_t olen;
		char *o = loader_value(out, &olen);
		ck_assert_msg(o != NULL, "libyaml loader rejects %s", out);
		ck_assert_uint_eq(olen, len);
		ck_assert(memcmp(o, s, len) == 0);
		free(o);
		doc_free(&x);
		free(fmt_canonical(out, strlen(out)));
		free(out);
		arena_free(&a);
	}
}
END_TEST

START_TEST(test_fmt_odd_texts)
{
	struct arena a = ARENA_INIT;
	struct loc nl = { 0, 0, 0, 0 };

	/* A NUL, and bytes that are not UTF-8 (printed as U+FFFD). */
	struct tree *root = tree_map(&a, nl);
	tree_map_put(&a, root, "nul", nl, tree_scalar(&a, nl, "a\0b", 3, STYLE_QUOTED));
	tree_map_put(&a, root, "bad", nl, tree_scalar(&a, nl, "x\xff\xc3", 3, STYLE_QUOTED));
	tree_map_put(&a, root, "sur", nl, tree_scalar(&a, nl, "\xed\xa0\x80", 3, STYLE_QUOTED));
	char *out = fmt(root);
	ck_assert_str_eq(out, "nul: \"a\\u0000b\"\n\nbad: x\xef\xbf\xbd\xef\xbf\xbd\n\n"
			      "sur: \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\n");
	struct doc x;
	doc_parse(&x, out);
	ck_assert_ptr_nonnull(x.t);
	ck_assert_uint_eq(get(x.t, "nul")->u.scalar.len, 3);
	ck_assert(memcmp(get(x.t, "nul")->u.scalar.text, "a\0b", 3) == 0);
	doc_free(&x);
	free(fmt_canonical(out, strlen(out)));
	free(out);

	/* A key too long for an implicit key, and a long flow item. */
	size_t n = 3000;
	char *key = malloc(n + 1);
	ck_assert_ptr_nonnull(key);
	memset(key, 'k', n);
	key[n] = 0;
	root = tree_map(&a, nl);
	struct tree *inner = tree_map(&a, nl);
	tree_map_put(&a, inner, "x", nl, tree_scalar(&a, nl, key, n, STYLE_PLAIN));
	tree_map_put(&a, root, key, nl, inner);
	struct tree *l = tree_list(&a, nl), *m = tree_map(&a, nl);
	tree_list_push(&a, l, m);
	tree_map_put(&a, m, key, nl, tree_scalar(&a, nl, "", 0, STYLE_PLAIN));
	tree_map_put(&a, root, "l", nl, l);
	out = fmt(root);
	ck_assert(strncmp(out, "? kkk", 5) == 0);
	doc_parse(&x, out);
	ck_assert_msg(x.t != NULL, "long key: %s", x.d.n ? x.d.v[0].msg : "");
	same_tree(root->u.map.v[0].value, x.t->u.map.v[0].value);
	ck_assert_str_eq(x.t->u.map.v[0].key, key);
	doc_free(&x);
	free(fmt_canonical(out, strlen(out)));
	free(out);
	free(key);
	arena_free(&a);
}
END_TEST

/* Trees that came from YAML with anchors, merges and every scalar style. */
START_TEST(test_fmt_roundtrip_yaml)
{
	static const char *const docs[] = {
		"a: &x {k: [1, 2]}\nb: *x\nc: {<<: *x, d: e}\n",
		"s: 'single ''q'''\nd: \"dbl \\\"q\\\" \\u00e9 \\t\"\nl: |\n  lit\n   more\nf: >\n  fold\n  ed\n",
		"n:\nm: ~\nlist:\n  -\n  - []\n  - {}\n  - - - deep\n",
		"- step: {name: a}\n- pipeline: {name: b, edges: [[x, y]]}\n",
		"k: [\"a,b\", \"c:d\", 'e]', \"{f}\"]\n",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char *out = fmt_canonical(docs[i], strlen(docs[i]));
		struct doc x, y;
		doc_parse(&x, docs[i]);
		doc_parse(&y, out);
		same_tree(x.t, y.t);
		doc_free(&x);
		doc_free(&y);
		free(out);
	}
}
END_TEST

static Suite *yaml_suite(void)
{
	Suite *s = suite_create("yaml");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_positions);
	tcase_add_test(tc, test_positions_line_breaks);
	tcase_add_test(tc, test_positions_multiline);
	tcase_add_test(tc, test_spec_example);
	tcase_add_test(tc, test_valohai_yaml);
	tcase_add_test(tc, test_empty_and_null);
	tcase_add_test(tc, test_merge);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_errors_libyaml);
	tcase_add_test(tc, test_errors_structure);
	tcase_add_test(tc, test_errors_depth);
	tcase_add_test(tc, test_errors_alias_bomb);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	tc = tcase_create("fmt");
	tcase_add_test(tc, test_fmt_files);
	tcase_add_test(tc, test_fmt_layout);
	tcase_add_test(tc, test_fmt_scalars);
	tcase_add_test(tc, test_fmt_odd_texts);
	tcase_add_test(tc, test_fmt_roundtrip_yaml);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(yaml_suite)
