/*
 * fuzz_valohai.c — libFuzzer target for the Valohai client's reading of
 * API answers (runtime/valohai.c), through trig_valohai_parse_answer():
 * the same code the calls run on a 2xx answer, with no network.
 *
 * Input: byte 0 picks the kind of answer (its value modulo the number of
 * kinds) and, in its high bits, the name and parameter overrides passed
 * (the title sought in a pipeline list; overrides "NODE.NAME" for a
 * pipeline copy); the rest is the answer's body.
 *
 * Rules checked (a broken one aborts): success leaves err empty and
 * failure fills it with one line naming Valohai and leaves out alone; a
 * body that is not a JSON object (the project's own extractor decides) is
 * refused as such, and one that is, never for that reason; a created run
 * is read iff its "id" (last member, string or number) decodes to 1..127
 * bytes without NUL, and then to exactly that; a status likewise for
 * "status" (1..31 bytes), its exit code lies in -1..255, "ok" implies
 * terminal, and its metadata is the answer's "metadata" object as
 * written, or empty when that is not an object (always, for a pipeline);
 * a pipeline copy's body is one valid JSON object with project "PROJECT"
 * and arrays of nodes and edges; an upload's id and URL are those of the
 * answer ("datum_id" when there is no "id"), and the id holds none of
 * "/?#%".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "valohai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_valohai: %s:%d: '%s' failed\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const names[] = { "nightly", "train", "", NULL };

static const struct trig_kv ov_one[] = { { "train.epochs", "5" } };
static const struct trig_kv ov_many[] = {
	{ "train.lr", "0.01" }, { "train.flag", "true" }, { "eval.new-param", "x\"y" },
	{ "train.lr", "0.1" },
};
static const struct trig_kv ov_bad[] = { { "nosuch.x", "1" } };
static const struct {
	const struct trig_kv *a;
	size_t n;
} overrides[] = { { NULL, 0 }, { ov_one, N(ov_one) }, { ov_many, N(ov_many) },
		  { ov_bad, N(ov_bad) } };

static struct trig_json_query *query;   /* the paths below, in this order */
enum { P_WHOLE, P_ID, P_STATUS, P_PROJECT, P_NODES, P_EDGES, P_DATUM_ID, P_URL, P_METADATA, NPATHS };
static const char *const paths[NPATHS] = { "", "id", "status", "project", "nodes", "edges",
					    "datum_id", "url", "metadata" };

/* Extracts the paths from doc[0..len): 0, or -1 when it is not JSON. */
static int extract(const char *doc, size_t len, struct trig_json_value *slots)
{
	if (!query) {
		query = trig_json_query_new();
		for (int i = 0; i < NPATHS; i++)
			REQUIRE(trig_json_query_add_text(query, paths[i], NULL) == i);
	}
	return trig_json_extract(query, doc, len, slots, NULL);
}

/* The text of a string or number as value_text() would keep it (into
 * b), or false when it would keep nothing: not a string or number, or
 * NUL inside, or max bytes or more. */
static bool text_of(const struct trig_json_value *v, size_t max, struct buf *b)
{
	buf_reset(b);
	if (v->type != TRIG_JSON_STRING && v->type != TRIG_JSON_NUMBER)
		return false;
	REQUIRE(trig_json_string(v, b) == 0);
	return b->len > 0 && b->len < max && !memchr(b->data, 0, b->len);
}

/* The value of line "name: " in text[0..tlen) (up to the next newline),
 * or NULL. */
static const char *line_of(const char *text, size_t tlen, const char *name, size_t *len)
{
	size_t n = strlen(name);
	const char *p = text, *end = text + tlen;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) >= n + 2 && !memcmp(p, name, n) && p[n] == ':' &&
		    p[n + 1] == ' ') {
			*len = (size_t)(le - p) - n - 2;
			return p + n + 2;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static bool line_is(const char *text, size_t tlen, const char *name, const char *value)
{
	size_t len;
	const char *v = line_of(text, tlen, name, &len);
	return v && len == strlen(value) && !memcmp(v, value, len);
}

/* Whether out starts with "name: value\n"; *rest then points after it. */
static bool starts(const struct buf *out, const char *name, const struct buf *value,
		   const char **rest)
{
	size_t n = strlen(name);
	if (out->len < n + 3 + value->len || memcmp(out->data, name, n) ||
	    memcmp(out->data + n, ": ", 2) || memcmp(out->data + n + 2, value->data, value->len) ||
	    out->data[n + 2 + value->len] != '\n')
		return false;
	*rest = out->data + n + 3 + value->len;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum trig_valohai_answer kind = (enum trig_valohai_answer)(data[0] % TRIG_VALOHAI_ANSWER_KINDS);
	unsigned pick = (unsigned)(data[0] / TRIG_VALOHAI_ANSWER_KINDS);
	const char *name = names[pick % N(names)];
	unsigned o = (pick / N(names)) % N(overrides);
	const char *body = (const char *)data + 1;
	size_t len = size - 1;

	struct buf out = BUF_INIT, t = BUF_INIT, u = BUF_INIT;
	const char *rest;
	char err[512];
	memset(err, 'x', sizeof(err));
	int rc = trig_valohai_parse_answer(kind, body, len, name, overrides[o].a, overrides[o].n,
					   &out, err, sizeof(err));
	REQUIRE(rc == 0 || rc == -1);
	REQUIRE(memchr(err, 0, sizeof(err)) != NULL);
	if (rc < 0) {
		REQUIRE(out.len == 0);
		REQUIRE(!strncmp(err, "valohai ", 8));
		REQUIRE(!strchr(err, '\n') && !strchr(err, '\r'));
	} else {
		REQUIRE(err[0] == 0);
	}

	/* How the refusal of an answer that is not a JSON object begins: the
	 * call, then its method and path in parentheses (no other message
	 * has them). */
	static const char *const calls[TRIG_VALOHAI_ANSWER_KINDS] = {
		"create execution", "create pipeline", "status of execution", "status of pipeline",
		"list pipelines", "get pipeline", "make upload", "fetch repository",
	};
	char refused[300];
	if (kind == TRIG_VALOHAI_ANSWER_EXECUTION_STATUS || kind == TRIG_VALOHAI_ANSWER_PIPELINE_STATUS)
		snprintf(refused, sizeof(refused), "valohai %s '%s' (", calls[kind], name ? name : "");
	else
		snprintf(refused, sizeof(refused), "valohai %s (", calls[kind]);
	bool not_object = rc < 0 && !strncmp(err, refused, strlen(refused)) &&
			  strstr(err, "): answered 200 but not a JSON object: ");

	struct trig_json_value s[NPATHS];
	bool object = extract(body, len, s) == 0 && s[P_WHOLE].type == TRIG_JSON_OBJECT;
	REQUIRE(object == !not_object);
	if (!object)
		goto done;

	switch (kind) {
	case TRIG_VALOHAI_ANSWER_EXECUTION:
	case TRIG_VALOHAI_ANSWER_PIPELINE:
		REQUIRE((rc == 0) == text_of(&s[P_ID], 128, &t));
		if (rc == 0)
			REQUIRE(starts(&out, "id", &t, &rest) && !strncmp(rest, "url: ", 5));
		break;
	case TRIG_VALOHAI_ANSWER_EXECUTION_STATUS:
	case TRIG_VALOHAI_ANSWER_PIPELINE_STATUS: {
		REQUIRE((rc == 0) == text_of(&s[P_STATUS], 32, &t));
		if (rc)
			break;
		REQUIRE(starts(&out, "status", &t, &rest));
		size_t rl = out.len - (size_t)(rest - out.data), n;
		const char *x = line_of(rest, rl, "exit_code", &n);
		REQUIRE(x && n < 8);
		char num[8];
		memcpy(num, x, n);
		num[n] = 0;
		long code = strtol(num, NULL, 10);
		REQUIRE(code >= -1 && code <= 255);
		REQUIRE(line_is(rest, rl, "terminal", "true") ||
			line_is(rest, rl, "terminal", "false"));
		REQUIRE(line_is(rest, rl, "ok", "true") == !strcmp(t.data, "complete"));
		if (line_is(rest, rl, "ok", "true"))
			REQUIRE(line_is(rest, rl, "terminal", "true"));
		/* the last line; raw JSON may hold newlines: up to the last one */
		const char *md = line_of(rest, rl, "metadata", &n);
		REQUIRE(md && out.data[out.len - 1] == '\n');
		n = (size_t)(out.data + out.len - 1 - md);
		const struct trig_json_value *want = &s[P_METADATA];
		if (kind == TRIG_VALOHAI_ANSWER_PIPELINE_STATUS || want->type != TRIG_JSON_OBJECT)
			REQUIRE(n == 0);
		else
			REQUIRE(n == want->len && !memcmp(md, want->raw, n));
		break;
	}
	case TRIG_VALOHAI_ANSWER_PIPELINE_LIST:
		if (rc == 0) {
			size_t n;
			REQUIRE(line_of(out.data, out.len, "id", &n) && n < 128);
		}
		break;
	case TRIG_VALOHAI_ANSWER_PIPELINE_SOURCE:
		if (rc == 0) {
			/* the body's raw JSON may hold newlines: it runs to the last one */
			REQUIRE(out.len > 7 && !memcmp(out.data, "body: ", 6) &&
				out.data[out.len - 1] == '\n');
			const char *b = out.data + 6;
			size_t n = out.len - 7;
			struct trig_json_value c[NPATHS];
			struct trig_json_error je;
			if (trig_json_validate(b, n, &je) != 0) {
				fprintf(stderr, "fuzz_valohai: copy body is not JSON (%s at %zu): "
					"%.*s\n", je.msg, je.offset, (int)n, b);
				abort();
			}
			REQUIRE(extract(b, n, c) == 0 && c[P_WHOLE].type == TRIG_JSON_OBJECT);
			REQUIRE(c[P_PROJECT].type == TRIG_JSON_STRING &&
				trig_json_key_equal(&c[P_PROJECT], "PROJECT", 7));
			REQUIRE(c[P_NODES].type == TRIG_JSON_ARRAY);
			REQUIRE(c[P_EDGES].type == TRIG_JSON_ARRAY);
		}
		break;
	case TRIG_VALOHAI_ANSWER_MAKE_UPLOAD:
		if (rc == 0) {
			/* what was read: id (else datum_id) and url, as the answer has them */
			REQUIRE(text_of(s[P_ID].type != TRIG_JSON_ABSENT ? &s[P_ID] : &s[P_DATUM_ID],
					128, &t));
			REQUIRE(text_of(&s[P_URL], 4096, &u));
			REQUIRE(!strpbrk(t.data, "/?#%"));
			REQUIRE(starts(&out, "id", &t, &rest) && !strncmp(rest, "url: ", 5));
			rest += 5;
			REQUIRE(!memcmp(rest, u.data, u.len) && rest[u.len] == '\n');
			rest += u.len + 1;
			size_t rl = out.len - (size_t)(rest - out.data);
			REQUIRE(line_is(rest, rl, "method", "PUT") || line_is(rest, rl, "method", "POST"));
			REQUIRE(line_is(rest, rl, "method", "POST") == (strstr(rest, "form:\n") != NULL));
		}
		break;
	case TRIG_VALOHAI_ANSWER_FETCH:
		REQUIRE(out.len == 0);
		break;
	case TRIG_VALOHAI_ANSWER_KINDS:
		REQUIRE(0);
	}
done:
	buf_release(&out);
	buf_release(&t);
	buf_release(&u);
	return 0;
}
