/*
 * fuzz_json.c — libFuzzer target for the JSON validator and extractor
 * (runtime/json.h).
 *
 * On arbitrary bytes it checks that extraction (with a fixed set of paths)
 * fails exactly when validation does, with the same error; that an error
 * offset never lies past the input; that every extracted value lies inside
 * the input, is itself a valid document of the type reported, and decodes;
 * that the whole-document path spans the input minus surrounding white
 * space.  The same bytes, as text, also go through the path parser.  Any
 * broken rule aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
	"", "a", "a.b", "a.b.c", "[0]", "[0][0]", "[1]", "[1].a", "a[0]", "a[2]", "[\"\"]",
	"[\"\\u0041x\"]", "\xc3\xa9", "[\"\\ud800\"]", "ref", "head_commit.author.name",
	"head_commit.added[0]", "repository", "repository.owner.login", "commits[0].id",
	"data[\"valohai.execution-step\"]", "data.valohai\\.execution-id", "x\\.y", "0",
};
enum { NPATHS = sizeof(paths) / sizeof(paths[0]) };

static struct trig_json_query *query;
static int slot_of[NPATHS];

#define REQUIRE(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_json: %s:%d: '%s' failed\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void check_value(const struct trig_json_value *v, const char *doc, size_t size,
			struct buf *b)
{
	if (v->type == TRIG_JSON_ABSENT) {
		REQUIRE(v->raw == NULL && v->len == 0);
		return;
	}
	REQUIRE(v->raw >= doc && v->len > 0 && v->len <= size &&
		(size_t)(v->raw - doc) <= size - v->len);
	REQUIRE(trig_json_validate(v->raw, v->len, NULL) == 0);
	char c = v->raw[0];
	switch (v->type) {
	case TRIG_JSON_NULL: REQUIRE(v->len == 4 && memcmp(v->raw, "null", 4) == 0); break;
	case TRIG_JSON_TRUE: REQUIRE(v->len == 4 && memcmp(v->raw, "true", 4) == 0); break;
	case TRIG_JSON_FALSE: REQUIRE(v->len == 5 && memcmp(v->raw, "false", 5) == 0); break;
	case TRIG_JSON_NUMBER: REQUIRE(c == '-' || (c >= '0' && c <= '9')); break;
	case TRIG_JSON_STRING: REQUIRE(c == '"' && v->raw[v->len - 1] == '"'); break;
	case TRIG_JSON_ARRAY: REQUIRE(c == '[' && v->raw[v->len - 1] == ']'); break;
	case TRIG_JSON_OBJECT: REQUIRE(c == '{' && v->raw[v->len - 1] == '}'); break;
	default: REQUIRE(0);
	}
	buf_reset(b);
	REQUIRE(trig_json_string(v, b) == 0);
	REQUIRE(b->len <= v->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct buf b = BUF_INIT;
	const char *doc = (const char *)data;

	if (!query) {
		query = trig_json_query_new();
		for (unsigned i = 0; i < NPATHS; i++) {
			slot_of[i] = trig_json_query_add_text(query, paths[i], NULL);
			REQUIRE(slot_of[i] >= 0);
		}
	}

	struct trig_json_error e1 = { 0, "" }, e2 = { 0, "" };
	struct trig_json_value slots[NPATHS];
	int v = trig_json_validate(doc, size, &e1);
	int x = trig_json_extract(query, doc, size, slots, &e2);
	REQUIRE(v == x);
	if (v < 0) {
		REQUIRE(e1.offset <= size && e1.msg[0] != 0);
		REQUIRE(e1.offset == e2.offset && strcmp(e1.msg, e2.msg) == 0);
	} else {
		REQUIRE(v == 0);
		for (unsigned i = 0; i < trig_json_query_slots(query); i++)
			check_value(&slots[i], doc, size, &b);
		/* the whole document: the input without surrounding white space */
		const struct trig_json_value *all = &slots[slot_of[0]];
		size_t lead = 0, trail = 0;
		while (lead < size && is_ws(data[lead]))
			lead++;
		while (trail < size - lead && is_ws(data[size - 1 - trail]))
			trail++;
		REQUIRE(all->raw == doc + lead && all->len == size - lead - trail);
	}

	/* The path parser, on the input as text. */
	char *text = malloc(size + 1);
	REQUIRE(text != NULL);
	memcpy(text, data, size);
	text[size] = 0;
	struct trig_path_seg *segs;
	unsigned nsegs;
	struct trig_json_error pe = { 0, "" };
	if (trig_json_path_parse(text, &segs, &nsegs, &pe) == 0) {
		REQUIRE(nsegs <= TRIG_JSON_MAX_DEPTH && (nsegs == 0) == (segs == NULL));
		struct trig_json_query *q = trig_json_query_new();
		REQUIRE(trig_json_query_add(q, segs, nsegs) == 0);
		REQUIRE(trig_json_query_add(q, segs, nsegs) == 0);
		if (v == 0) {
			struct trig_json_value one;
			REQUIRE(trig_json_extract(q, doc, size, &one, NULL) == 0);
			check_value(&one, doc, size, &b);
		}
		trig_json_query_free(q);
		free(segs);
	} else {
		REQUIRE(segs == NULL && pe.offset <= strlen(text) && pe.msg[0] != 0);
	}
	free(text);
	return 0;
}
