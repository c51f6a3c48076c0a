/*
 * test_json.c — the JSON validator and path extractor (runtime/json.h).
 *
 * Oracles: JSONTestSuite (y_ must pass, n_ must fail, i_ as decided in the
 * table below and in json.h), values read by hand from the shared GitHub and
 * Valohai payloads, and Python's json module (tests/unit/json_oracle.py) for
 * hundreds of random paths into real and synthetic documents.  Every
 * document is held in a buffer of exactly its size, so under ASan a read
 * past the end is caught.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "buf.h"
#include "json.h"

/* ------------------------------------------------------------ helpers */

/* The whole file in a malloc()ed buffer of exactly its size (no NUL). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open '%s'", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	char *b = malloc(n ? (size_t)n : 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* A copy of s (without its NUL) in a buffer of exactly its size. */
static char *exact(const char *s, size_t len)
{
	char *b = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(b);
	memcpy(b, s, len);
	return b;
}

static int validate_str(const char *s, struct trig_json_error *err)
{
	size_t len = strlen(s);
	char *b = exact(s, len);
	int r = trig_json_validate(b, len, err);
	free(b);
	return r;
}

/* Extracts the given path texts from doc; slots[i] belongs to paths[i]. */
static struct trig_json_query *query_of(const char *const *paths, unsigned n)
{
	struct trig_json_query *q = trig_json_query_new();
	for (unsigned i = 0; i < n; i++) {
		struct trig_json_error err;
		int slot = trig_json_query_add_text(q, paths[i], &err);
		ck_assert_msg(slot >= 0, "path '%s': %s", paths[i], err.msg);
	}
	return q;
}

/* The decoded text of v (for strings) or its raw text, in a static buffer. */
static const char *text_of(const struct trig_json_value *v)
{
	static struct buf b = BUF_INIT;
	buf_reset(&b);
	ck_assert_int_eq(trig_json_string(v, &b), 0);
	return buf_cstr(&b);
}

#define ck_value(v, t, s) do {                                                  \
	ck_assert_msg((v).type == (t), "type %s, want %s",                      \
		      trig_json_type_name((v).type), trig_json_type_name(t));   \
	ck_assert_str_eq(text_of(&(v)), (s));                                   \
} while (0)

static const char *src_dir(void)
{
	const char *s = getenv("TRIG_SRC");
	return s ? s : ".";
}

/* ------------------------------------------------------------ JSONTestSuite */

/*
 * The implementation-defined cases and what trig does with them (json.h
 * explains why): accept numbers of any size and escaped surrogates (lone
 * ones decode to U+FFFD); reject raw bytes that are not UTF-8, UTF-16, a
 * BOM, and nesting deeper than TRIG_JSON_MAX_DEPTH.
 */
static const struct {
	const char *name;
	bool valid;
} suite_i[] = {
	{ "i_number_double_huge_neg_exp.json", true },
	{ "i_number_huge_exp.json", true },
	{ "i_number_neg_int_huge_exp.json", true },
	{ "i_number_pos_double_huge_exp.json", true },
	{ "i_number_real_neg_overflow.json", true },
	{ "i_number_real_pos_overflow.json", true },
	{ "i_number_real_underflow.json", true },
	{ "i_number_too_big_neg_int.json", true },
	{ "i_number_too_big_pos_int.json", true },
	{ "i_number_very_big_negative_int.json", true },
	{ "i_object_key_lone_2nd_surrogate.json", true },
	{ "i_string_1st_surrogate_but_2nd_missing.json", true },
	{ "i_string_1st_valid_surrogate_2nd_invalid.json", true },
	{ "i_string_UTF-16LE_with_BOM.json", false },
	{ "i_string_UTF-8_invalid_sequence.json", false },
	{ "i_string_UTF8_surrogate_U+D800.json", false },
	{ "i_string_incomplete_surrogate_and_escape_valid.json", true },
	{ "i_string_incomplete_surrogate_pair.json", true },
	{ "i_string_incomplete_surrogates_escape_valid.json", true },
	{ "i_string_invalid_lonely_surrogate.json", true },
	{ "i_string_invalid_surrogate.json", true },
	{ "i_string_invalid_utf-8.json", false },
	{ "i_string_inverted_surrogates_U+1D11E.json", true },
	{ "i_string_iso_latin_1.json", false },
	{ "i_string_lone_second_surrogate.json", true },
	{ "i_string_lone_utf8_continuation_byte.json", false },
	{ "i_string_not_in_unicode_range.json", false },
	{ "i_string_overlong_sequence_2_bytes.json", false },
	{ "i_string_overlong_sequence_6_bytes.json", false },
	{ "i_string_overlong_sequence_6_bytes_null.json", false },
	{ "i_string_truncated-utf-8.json", false },
	{ "i_string_utf16BE_no_BOM.json", false },
	{ "i_string_utf16LE_no_BOM.json", false },
	{ "i_structure_500_nested_arrays.json", false },
	{ "i_structure_UTF-8_BOM_empty_object.json", false },
};

/* Every extracted value lies inside doc and is itself one valid document. */
static void check_spans(const char *doc, size_t len, const struct trig_json_value *slots,
			unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct trig_json_value *v = &slots[i];
		if (v->type == TRIG_JSON_ABSENT) {
			ck_assert_ptr_null(v->raw);
			continue;
		}
		ck_assert(v->raw >= doc && v->len > 0 && v->len <= len &&
			  (size_t)(v->raw - doc) <= len - v->len);
		ck_assert_int_eq(trig_json_validate(v->raw, v->len, NULL), 0);
	}
}

START_TEST(test_suite_all)
{
	const char *dir = unit_shared("testdata/json/JSONTestSuite/test_parsing");
	char dirname[4096];
	snprintf(dirname, sizeof(dirname), "%s", dir);
	DIR *d = opendir(dirname);
	ck_assert_msg(d != NULL, "cannot open '%s'", dirname);

	static const char *const paths[] = { "", "[0]", "[0][0]", "[1]", "a", "[0].a", "[\"\"]" };
	struct trig_json_query *q = query_of(paths, 7);
	unsigned ny = 0, nn = 0, ni = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		size_t nl = strlen(name);
		if (nl < 6 || strcmp(name + nl - 5, ".json") != 0)
			continue;
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dirname, name);
		size_t len;
		char *doc = slurp(path, &len);
		struct trig_json_error err = { 0, "" };
		int r = trig_json_validate(doc, len, &err);

		bool want;
		if (name[0] == 'y') {
			want = true, ny++;
		} else if (name[0] == 'n') {
			want = false, nn++;
		} else {
			size_t k;
			for (k = 0; k < sizeof(suite_i) / sizeof(suite_i[0]); k++)
				if (strcmp(suite_i[k].name, name) == 0)
					break;
			ck_assert_msg(k < sizeof(suite_i) / sizeof(suite_i[0]),
				      "'%s' is not in the table of i_ files", name);
			want = suite_i[k].valid, ni++;
		}
		ck_assert_msg((r == 0) == want, "'%s': %s (%zu: %s)", name,
			      r == 0 ? "accepted" : "rejected", err.offset, err.msg);
		if (r < 0) {
			ck_assert_msg(err.offset <= len && err.msg[0], "'%s': bad error", name);
		}

		/* Extraction agrees with validation, and its spans are sound. */
		struct trig_json_value slots[7];
		ck_assert_int_eq(trig_json_extract(q, doc, len, slots, NULL), r);
		if (r == 0) {
			check_spans(doc, len, slots, 7);
			ck_assert_int_ne(slots[0].type, TRIG_JSON_ABSENT);
		}
		free(doc);
	}
	closedir(d);
	trig_json_query_free(q);
	ck_assert_uint_ge(ny, 95);
	ck_assert_uint_ge(nn, 188);
	ck_assert_uint_eq(ni, sizeof(suite_i) / sizeof(suite_i[0]));
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(test_error_messages)
{
	static const struct {
		const char *doc;
		size_t offset;
		const char *msg;
	} cases[] = {
		{ "{\"a\": 1]", 7, "unexpected ']' in an object, expected ',' or '}'" },
		{ "{]", 1, "unexpected ']' in an object" },
		{ "[1}", 2, "unexpected '}' in an array, expected ',' or ']'" },
		{ "[\"a\\x\"]", 3, "invalid escape '\\x'" },
		{ "[\"a\\u12g4\"]", 3, "invalid escape '\\u12g'" },
		{ "[\"a\tb\"]", 3, "control character in a string" },
		{ "[\"ab", 4, "unexpected end of input in a string" },
		{ "[\"ab\\", 5, "unexpected end of input in a string" },
		{ "[\"ab\\u00", 8, "unexpected end of input in a string" },
		{ "[\"ab\xe2\x82", 6, "unexpected end of input in a string" },
		{ "[\"ab\xe2\x28\xa1\"]", 4, "invalid UTF-8 byte '\\xe2' in a string" },
		{ "[\"\xc0\xaf\"]", 2, "invalid UTF-8 byte '\\xc0' in a string" },
		{ "[\"\xed\xa0\x80\"]", 2, "invalid UTF-8 byte '\\xed' in a string" },
		{ "[1] x", 4, "trailing data after the document" },
		{ "[1] [2]", 4, "trailing data after the document" },
		{ "", 0, "empty document" },
		{ " \n\t\r ", 5, "empty document" },
		{ "[1,]", 3, "trailing comma in an array" },
		{ "{\"a\":1,}", 7, "trailing comma in an object" },
		{ "{\"a\" 1}", 5, "unexpected number after an object key, expected ':'" },
		{ "{1:2}", 1, "unexpected number in an object, expected a string key" },
		{ "[01]", 1, "invalid number '01'" },
		{ "[1.]", 1, "invalid number '1.'" },
		{ "[-]", 1, "invalid number '-'" },
		{ "[tru]", 1, "invalid literal 'tru'" },
		{ "[truex]", 1, "invalid literal 'truex'" },
		{ "[NaN]", 1, "invalid literal 'NaN'" },
		{ "\xef\xbb\xbf{}", 0, "byte order mark before the document" },
		{ "{\"a\":", 5, "unexpected end of input in an object" },
		{ "[", 1, "unexpected end of input in an array" },
		{ "]", 0, "unexpected ']' at the top level" },
		{ "[#]", 1, "unexpected '#'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trig_json_error err = { 99999, "" };
		ck_assert_msg(validate_str(cases[i].doc, &err) == -1, "case %zu accepted", i);
		ck_assert_msg(err.offset == cases[i].offset, "case %zu: offset %zu, want %zu (%s)",
			      i, err.offset, cases[i].offset, err.msg);
		ck_assert_str_eq(err.msg, cases[i].msg);
	}
	ck_assert_int_eq(trig_json_validate(NULL, 0, NULL), -1);
}
END_TEST

/* NUL bytes: ordinary bytes (so invalid outside escapes), never an end. */
START_TEST(test_nul_bytes)
{
	struct trig_json_error err;
	char *b = exact("[\"a\0b\"]", 7);
	ck_assert_int_eq(trig_json_validate(b, 7, &err), -1);
	ck_assert_uint_eq(err.offset, 3);
	ck_assert_str_eq(err.msg, "control character in a string");
	free(b);

	b = exact("[1]\0", 4);
	ck_assert_int_eq(trig_json_validate(b, 4, &err), -1);
	ck_assert_uint_eq(err.offset, 3);
	ck_assert_int_eq(trig_json_validate(b, 3, &err), 0);    /* the NUL is past len */
	free(b);

	b = exact("[\"\\u0000x\"]", 11);
	struct trig_json_value v;
	struct trig_json_query *q = trig_json_query_new();
	ck_assert_int_eq(trig_json_query_add_text(q, "[0]", NULL), 0);
	ck_assert_int_eq(trig_json_extract(q, b, 11, &v, NULL), 0);
	struct buf out = BUF_INIT;
	ck_assert_int_eq(trig_json_string(&v, &out), 0);
	ck_assert_uint_eq(out.len, 2);
	ck_assert(out.data[0] == 0 && out.data[1] == 'x');
	buf_release(&out);
	trig_json_query_free(q);
	free(b);
}
END_TEST

/* ------------------------------------------------------------ depth */

static char *nested(unsigned depth, const char *open, const char *inner, const char *close,
		    size_t *len)
{
	size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
	*len = depth * (lo + lc) + li;
	char *b = malloc(*len ? *len : 1), *p = b;
	ck_assert_ptr_nonnull(b);
	for (unsigned i = 0; i < depth; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, inner, li);
	p += li;
	for (unsigned i = 0; i < depth; i++, p += lc)
		memcpy(p, close, lc);
	return b;
}

START_TEST(test_depth)
{
	struct trig_json_error err;
	size_t len;
	char *b;

	b = nested(TRIG_JSON_MAX_DEPTH, "[", "", "]", &len);
	ck_assert_int_eq(trig_json_validate(b, len, &err), 0);
	free(b);
	b = nested(TRIG_JSON_MAX_DEPTH + 1, "[", "", "]", &len);
	ck_assert_int_eq(trig_json_validate(b, len, &err), -1);
	ck_assert_uint_eq(err.offset, TRIG_JSON_MAX_DEPTH);
	ck_assert_str_eq(err.msg, "nesting deeper than 256");
	free(b);

	/* A million levels: refused at once, no recursion. */
	b = nested(1000000, "[", "", "]", &len);
	ck_assert_int_eq(trig_json_validate(b, len, &err), -1);
	ck_assert_uint_eq(err.offset, TRIG_JSON_MAX_DEPTH);
	free(b);

	/* Objects, and a path down to the deepest value. */
	struct trig_path_seg segs[TRIG_JSON_MAX_DEPTH + 1];
	for (unsigned i = 0; i <= TRIG_JSON_MAX_DEPTH; i++)
		segs[i] = (struct trig_path_seg){ "k", -1 };
	struct trig_json_query *q = trig_json_query_new();
	ck_assert_int_eq(trig_json_query_add(q, segs, TRIG_JSON_MAX_DEPTH), 0);
	ck_assert_int_eq(trig_json_query_add(q, segs, TRIG_JSON_MAX_DEPTH - 1), 1);
	ck_assert_int_eq(trig_json_query_add(q, segs, TRIG_JSON_MAX_DEPTH + 1), -1);
	ck_assert_uint_eq(trig_json_query_slots(q), 2);
	struct trig_json_value v[2];
	b = nested(TRIG_JSON_MAX_DEPTH, "{\"k\":", "true", "}", &len);
	ck_assert_int_eq(trig_json_extract(q, b, len, v, &err), 0);
	ck_value(v[0], TRIG_JSON_TRUE, "true");
	ck_value(v[1], TRIG_JSON_OBJECT, "{\"k\":true}");
	free(b);
	b = nested(TRIG_JSON_MAX_DEPTH + 1, "{\"k\":", "true", "}", &len);
	ck_assert_int_eq(trig_json_extract(q, b, len, v, &err), -1);
	ck_assert_str_eq(err.msg, "nesting deeper than 256");
	ck_assert_uint_eq(err.offset, 5 * TRIG_JSON_MAX_DEPTH);
	free(b);
	trig_json_query_free(q);
}
END_TEST

/* ------------------------------------------------------------ real payloads */

START_TEST(test_push_by_hand)
{
	/* Values read in the file with a text editor. */
	static const struct {
		const char *path;
		enum trig_json_type type;
		const char *text;
	} want[] = {
		{ "ref", TRIG_JSON_STRING, "refs/tags/simple-tag" },
		{ "before", TRIG_JSON_STRING, "0000000000000000000000000000000000000000" },
		{ "after", TRIG_JSON_STRING, "6113728f27ae82c7b1a177c8d03f9e96e0adf246" },
		{ "created", TRIG_JSON_TRUE, "true" },
		{ "deleted", TRIG_JSON_FALSE, "false" },
		{ "base_ref", TRIG_JSON_NULL, "null" },
		{ "commits", TRIG_JSON_ARRAY, "[]" },
		{ "commits[0]", TRIG_JSON_ABSENT, NULL },
		{ "head_commit.message", TRIG_JSON_STRING, "Adding a .gitignore file" },
		{ "head_commit.author.name", TRIG_JSON_STRING, "Codertocat" },
		{ "head_commit.author.email", TRIG_JSON_STRING,
		  "21031067+Codertocat@users.noreply.github.com" },
		{ "head_commit.added", TRIG_JSON_ARRAY, "[\n      \".gitignore\"\n    ]" },
		{ "head_commit.added[0]", TRIG_JSON_STRING, ".gitignore" },
		{ "head_commit.added[1]", TRIG_JSON_ABSENT, NULL },
		{ "head_commit.removed", TRIG_JSON_ARRAY, "[]" },
		{ "repository.id", TRIG_JSON_NUMBER, "186853002" },
		{ "repository.full_name", TRIG_JSON_STRING, "Codertocat/Hello-World" },
		{ "repository.owner.login", TRIG_JSON_STRING, "Codertocat" },
		{ "repository.owner.id", TRIG_JSON_NUMBER, "21031067" },
		{ "repository.description", TRIG_JSON_NULL, "null" },
		{ "repository.created_at", TRIG_JSON_NUMBER, "1557933565" },
		{ "repository.default_branch", TRIG_JSON_STRING, "master" },
		{ "repository.has_wiki", TRIG_JSON_TRUE, "true" },
		{ "repository.open_issues_count", TRIG_JSON_NUMBER, "2" },
		{ "pusher", TRIG_JSON_OBJECT,
		  "{\n    \"name\": \"Codertocat\",\n"
		  "    \"email\": \"21031067+Codertocat@users.noreply.github.com\"\n  }" },
		{ "pusher.name", TRIG_JSON_STRING, "Codertocat" },
		{ "sender.login", TRIG_JSON_STRING, "Codertocat" },
		{ "sender.site_admin", TRIG_JSON_FALSE, "false" },
		{ "sender.gravatar_id", TRIG_JSON_STRING, "" },
		{ "sender.login.x", TRIG_JSON_ABSENT, NULL },
		{ "sender[0]", TRIG_JSON_ABSENT, NULL },
		{ "no_such_key", TRIG_JSON_ABSENT, NULL },
		{ "Ref", TRIG_JSON_ABSENT, NULL },
	};
	enum { N = sizeof(want) / sizeof(want[0]) };
	const char *paths[N];
	for (unsigned i = 0; i < N; i++)
		paths[i] = want[i].path;
	struct trig_json_query *q = query_of(paths, N);
	ck_assert_uint_eq(trig_json_query_slots(q), N);

	size_t len;
	char *doc = slurp(unit_shared("testdata/github/push.0.json"), &len);
	struct trig_json_value v[N];
	struct trig_json_error err;
	ck_assert_int_eq(trig_json_extract(q, doc, len, v, &err), 0);
	for (unsigned i = 0; i < N; i++) {
		if (want[i].type == TRIG_JSON_ABSENT) {
			ck_assert_msg(v[i].type == TRIG_JSON_ABSENT, "'%s' is present", paths[i]);
			continue;
		}
		ck_assert_msg(v[i].type == want[i].type, "'%s': type %s", paths[i],
			      trig_json_type_name(v[i].type));
		ck_assert_str_eq(text_of(&v[i]), want[i].text);
	}
	/* The whole document. */
	ck_assert_int_eq(trig_json_query_add_text(q, "", NULL), N);
	struct trig_json_value all[N + 1];
	ck_assert_int_eq(trig_json_extract(q, doc, len, all, &err), 0);
	ck_assert_int_eq(all[N].type, TRIG_JSON_OBJECT);
	ck_assert_ptr_eq(all[N].raw, doc);
	ck_assert_uint_eq(all[N].len, len - 1);         /* the file ends with "}\n" */
	trig_json_query_free(q);
	free(doc);
}
END_TEST

START_TEST(test_valohai_by_hand)
{
	static const char *const paths[] = {
		"type",
		"data\\.valohai\\.execution-step",              /* no such key: dots escaped */
		"data.valohai\\.execution-step",
		"data[\"valohai.execution-step\"]",
		"data.valohai\\.execution-counter",
		"data[\"valohai.execution-duration\"]",
		"data[\"valohai.execution-title\"]",
		"data.valohai.execution-step",                  /* a nested path: absent */
		"project.name",
		"data[\"valohai\\u002eexecution-id\"]",         /* a JSON escape in brackets */
	};
	struct trig_json_query *q = query_of(paths, 10);
	ck_assert_uint_eq(trig_json_query_slots(q), 9);  /* the step twice: one slot */
	size_t len;
	char *doc = slurp(unit_shared("testdata/valohai/execution_completed.json"), &len);
	struct trig_json_value v[9];
	ck_assert_int_eq(trig_json_extract(q, doc, len, v, NULL), 0);
	ck_value(v[0], TRIG_JSON_STRING, "execution_completed");
	ck_assert_int_eq(v[1].type, TRIG_JSON_ABSENT);
	ck_value(v[2], TRIG_JSON_STRING, "train");
	ck_value(v[3], TRIG_JSON_NUMBER, "736");
	ck_value(v[4], TRIG_JSON_NUMBER, "660.01");
	ck_value(v[5], TRIG_JSON_NULL, "null");
	ck_assert_int_eq(v[6].type, TRIG_JSON_ABSENT);
	ck_value(v[7], TRIG_JSON_STRING, "mnist");
	ck_value(v[8], TRIG_JSON_STRING, "0191a2b3-0000-4000-8000-000000000020");
	free(doc);
	trig_json_query_free(q);

	static const char *const dpaths[] = {
		"data.dataset.name", "data.version.uri", "data.dataset.tags[0]",
		"data.version.tags", "data.version.tags[0]",
	};
	q = query_of(dpaths, 5);
	doc = slurp(unit_shared("testdata/valohai/dataset_version_created.json"), &len);
	struct trig_json_value d[5];
	ck_assert_int_eq(trig_json_extract(q, doc, len, d, NULL), 0);
	ck_value(d[0], TRIG_JSON_STRING, "images");
	ck_value(d[1], TRIG_JSON_STRING, "dataset://images/images-2026-11-26");
	ck_value(d[2], TRIG_JSON_STRING, "raw");
	ck_value(d[3], TRIG_JSON_ARRAY, "[]");
	ck_assert_int_eq(d[4].type, TRIG_JSON_ABSENT);
	free(doc);
	trig_json_query_free(q);

	static const char *const mpaths[] = {
		"data.model_version.counter", "data.model_version.status",
		"data.model_version.tags[0]", "data.model.slug",
	};
	q = query_of(mpaths, 4);
	doc = slurp(unit_shared("testdata/valohai/model_latest_approved_version_changed.json"), &len);
	struct trig_json_value m[4];
	ck_assert_int_eq(trig_json_extract(q, doc, len, m, NULL), 0);
	ck_value(m[0], TRIG_JSON_NUMBER, "7");
	ck_value(m[1], TRIG_JSON_STRING, "approved");
	ck_value(m[2], TRIG_JSON_STRING, "production");
	ck_value(m[3], TRIG_JSON_STRING, "digits");
	free(doc);
	trig_json_query_free(q);
}
END_TEST

/* Every proper prefix that cuts into the document is refused, and nothing
 * past the prefix is read (each prefix has a buffer of its own size). */
START_TEST(test_truncated_push)
{
	size_t len;
	char *doc = slurp(unit_shared("testdata/github/push.0.json"), &len);
	size_t end = len;
	while (end > 0 && strchr(" \t\r\n", doc[end - 1]))
		end--;
	ck_assert_uint_lt(end, len);

	static const char *const paths[] = {
		"ref", "head_commit.author.name", "head_commit.added[0]", "repository",
		"sender.login", "",
	};
	struct trig_json_query *q = query_of(paths, 6);
	struct trig_json_value v[6];
	for (size_t k = 0; k <= len; k++) {
		char *b = exact(doc, k);
		struct trig_json_error err = { 0, "" };
		int r = trig_json_validate(b, k, &err);
		ck_assert_msg((r == 0) == (k >= end), "prefix of %zu bytes: %s", k,
			      r == 0 ? "accepted" : err.msg);
		if (r < 0)
			ck_assert_uint_le(err.offset, k);
		ck_assert_int_eq(trig_json_extract(q, b, k, v, NULL), r);
		free(b);
	}
	trig_json_query_free(q);
	free(doc);
}
END_TEST

/* ------------------------------------------------------------ keys */

START_TEST(test_escaped_keys)
{
	static const char doc[] =
		"{\"a\\u0062\": 1, \"c\\\"d\": 2, \"e\\\\f\": 3, \"\\u00e9\": 4,"
		" \"x.y\": 5, \"\\ud83d\\ude00\": 6, \"\\/\": 7, \"\": 8,"
		" \"\\u0000z\": 9, \"tab\\tkey\": 10, \"a.b\": {\"c[0]\": [11]},"
		" \"\\uD800\": 12}";
	static const char *const paths[] = {
		"ab", "[\"c\\\"d\"]", "e\\\\f", "\xc3\xa9", "x\\.y", "\xf0\x9f\x98\x80",
		"/", "[\"\"]", "z", "[\"tab\\tkey\"]", "a\\.b.c\\[0][0]", "[\"\\ufffd\"]",
		"a", "x",
	};
	enum { N = sizeof(paths) / sizeof(paths[0]) };
	struct trig_json_query *q = query_of(paths, N);
	char *b = exact(doc, sizeof(doc) - 1);
	struct trig_json_value v[N];
	struct trig_json_error err;
	ck_assert_int_eq(trig_json_extract(q, b, sizeof(doc) - 1, v, &err), 0);
	static const char *const want[] = {
		"1", "2", "3", "4", "5", "6", "7", "8",
		NULL,   /* "\u0000z" is not "z" */
		"10", "11", "12",
	};
	for (int i = 0; i < 12; i++) {
		if (!want[i]) {
			ck_assert_int_eq(v[i].type, TRIG_JSON_ABSENT);
			continue;
		}
		ck_assert_msg(v[i].type == TRIG_JSON_NUMBER, "path '%s' %s", paths[i],
			      trig_json_type_name(v[i].type));
		ck_assert_str_eq(text_of(&v[i]), want[i]);
	}
	ck_assert_int_eq(v[12].type, TRIG_JSON_ABSENT);
	ck_assert_int_eq(v[13].type, TRIG_JSON_ABSENT);
	free(b);
	trig_json_query_free(q);

	/* trig_json_key_equal on string values */
	struct trig_json_value s = { TRIG_JSON_STRING, "\"a\\u0062\\n\"", 11 };
	ck_assert(trig_json_key_equal(&s, "ab\n", 3));
	ck_assert(!trig_json_key_equal(&s, "ab", 2));
	ck_assert(!trig_json_key_equal(&s, "ab\nc", 4));
	struct trig_json_value n = { TRIG_JSON_NUMBER, "1", 1 };
	ck_assert(!trig_json_key_equal(&n, "1", 1));
}
END_TEST

START_TEST(test_duplicate_keys)
{
	static const char doc[] =
		"{\"a\": {\"b\": 1, \"c\": 2}, \"x\": [1, 2], \"a\": {\"c\": 3},"
		" \"x\": 5, \"y\": 1, \"y\": 2, \"y\": 3, \"z\": {\"q\": 1},"
		" \"\\u007a\": {\"q\": 2}}";
	static const char *const paths[] = { "a.b", "a.c", "a", "x[1]", "x", "y", "z.q" };
	struct trig_json_query *q = query_of(paths, 7);
	char *b = exact(doc, sizeof(doc) - 1);
	struct trig_json_value v[7];
	ck_assert_int_eq(trig_json_extract(q, b, sizeof(doc) - 1, v, NULL), 0);
	ck_assert_int_eq(v[0].type, TRIG_JSON_ABSENT);  /* the second "a" has no "b" */
	ck_value(v[1], TRIG_JSON_NUMBER, "3");
	ck_value(v[2], TRIG_JSON_OBJECT, "{\"c\": 3}");
	ck_assert_int_eq(v[3].type, TRIG_JSON_ABSENT);
	ck_value(v[4], TRIG_JSON_NUMBER, "5");
	ck_value(v[5], TRIG_JSON_NUMBER, "3");
	ck_value(v[6], TRIG_JSON_NUMBER, "2");          /* "\u007a" is "z" */
	free(b);
	trig_json_query_free(q);
}
END_TEST

/* ------------------------------------------------------------ queries */

START_TEST(test_query_slots)
{
	struct trig_json_query *q = trig_json_query_new();
	ck_assert_uint_eq(trig_json_query_slots(q), 0);
	struct trig_path_seg ab[] = { { "a", -1 }, { "b", -1 } };
	struct trig_path_seg a0[] = { { "a", -1 }, { NULL, 0 } };
	struct trig_path_seg a_0[] = { { "a", -1 }, { "0", -1 } };
	struct trig_path_seg bad[] = { { NULL, -1 } };
	char key[] = "a";
	struct trig_path_seg copy[] = { { key, -1 } };
	ck_assert_int_eq(trig_json_query_add(q, ab, 2), 0);
	ck_assert_int_eq(trig_json_query_add(q, a0, 2), 1);
	ck_assert_int_eq(trig_json_query_add(q, a_0, 2), 2);
	ck_assert_int_eq(trig_json_query_add(q, ab, 2), 0);
	ck_assert_int_eq(trig_json_query_add(q, copy, 1), 3);
	key[0] = 'z';   /* the query copied the key */
	ck_assert_int_eq(trig_json_query_add(q, ab, 1), 3);
	ck_assert_int_eq(trig_json_query_add(q, bad, 1), -1);
	ck_assert_int_eq(trig_json_query_add(q, NULL, 0), 4);
	ck_assert_uint_eq(trig_json_query_slots(q), 5);

	static const char doc[] = "{\"a\": [\"i0\", {\"b\": 2}], \"z\": 1}";
	struct trig_json_value v[5];
	char *b = exact(doc, sizeof(doc) - 1);
	ck_assert_int_eq(trig_json_extract(q, b, sizeof(doc) - 1, v, NULL), 0);
	ck_assert_int_eq(v[0].type, TRIG_JSON_ABSENT);  /* a is an array */
	ck_value(v[1], TRIG_JSON_STRING, "i0");
	ck_assert_int_eq(v[2].type, TRIG_JSON_ABSENT);  /* key "0" never indexes */
	ck_value(v[3], TRIG_JSON_ARRAY, "[\"i0\", {\"b\": 2}]");
	ck_value(v[4], TRIG_JSON_OBJECT, doc);
	free(b);

	/* On error the return is -1; NULL query = validation only. */
	b = exact("{\"a\": [1,]}", 11);
	ck_assert_int_eq(trig_json_extract(q, b, 11, v, NULL), -1);
	ck_assert_int_eq(trig_json_extract(NULL, b, 11, NULL, NULL), -1);
	ck_assert_int_eq(trig_json_extract(NULL, b, 6, NULL, NULL), -1);
	free(b);
	b = exact("[1]", 3);
	ck_assert_int_eq(trig_json_extract(NULL, b, 3, NULL, NULL), 0);
	free(b);
	trig_json_query_free(q);
	trig_json_query_free(NULL);
}
END_TEST

START_TEST(test_array_indexes)
{
	static const char doc[] = "[[0, 1, 2], {\"k\": [10, [20, 21], 30]}, 2, [], [[[\"deep\"]]]]";
	static const char *const paths[] = {
		"[0][2]", "[1].k[1][1]", "[1].k[2]", "[2]", "[3][0]", "[4][0][0][0]", "[5]",
		"[0][3]", "[1].k",
	};
	struct trig_json_query *q = query_of(paths, 9);
	char *b = exact(doc, sizeof(doc) - 1);
	struct trig_json_value v[9];
	ck_assert_int_eq(trig_json_extract(q, b, sizeof(doc) - 1, v, NULL), 0);
	ck_value(v[0], TRIG_JSON_NUMBER, "2");
	ck_value(v[1], TRIG_JSON_NUMBER, "21");
	ck_value(v[2], TRIG_JSON_NUMBER, "30");
	ck_value(v[3], TRIG_JSON_NUMBER, "2");
	ck_assert_int_eq(v[4].type, TRIG_JSON_ABSENT);
	ck_value(v[5], TRIG_JSON_STRING, "deep");
	ck_assert_int_eq(v[6].type, TRIG_JSON_ABSENT);
	ck_assert_int_eq(v[7].type, TRIG_JSON_ABSENT);
	ck_value(v[8], TRIG_JSON_ARRAY, "[10, [20, 21], 30]");
	free(b);
	trig_json_query_free(q);
}
END_TEST

/* ------------------------------------------------------------ strings */

START_TEST(test_string_decoding)
{
	static const struct {
		const char *json;
		const char *text;
		size_t len;
	} cases[] = {
		{ "\"plain\"", "plain", 5 },
		{ "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8 },
		{ "\"\\u00e9\\u00E9\"", "\xc3\xa9\xc3\xa9", 4 },
		{ "\"\\u20ac\"", "\xe2\x82\xac", 3 },
		{ "\"\\ud834\\udd1e\"", "\xf0\x9d\x84\x9e", 4 },         /* U+1D11E */
		{ "\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4 },         /* U+10FFFF */
		{ "\"\\ud800\"", "\xef\xbf\xbd", 3 },                    /* lone high */
		{ "\"\\udc00\"", "\xef\xbf\xbd", 3 },                    /* lone low */
		{ "\"\\ud800x\"", "\xef\xbf\xbdx", 4 },
		{ "\"\\ud800\\u0041\"", "\xef\xbf\xbd" "A", 4 },         /* high, not low */
		{ "\"\\ud800\\ud800\\udc00\"", "\xef\xbf\xbd\xf0\x90\x80\x80", 7 },
		{ "\"\\udc00\\ud800\"", "\xef\xbf\xbd\xef\xbf\xbd", 6 },  /* inverted */
		{ "\"a\\u0000b\"", "a\0b", 3 },
		{ "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "caf\xc3\xa9 \xf0\x9f\x98\x80", 10 },
		{ "\"\"", "", 0 },
	};
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].json);
		char *b = exact(cases[i].json, len);
		struct trig_json_value v;
		struct trig_json_query *q = trig_json_query_new();
		ck_assert_int_eq(trig_json_query_add(q, NULL, 0), 0);
		ck_assert_msg(trig_json_extract(q, b, len, &v, NULL) == 0, "case %zu", i);
		ck_assert_int_eq(v.type, TRIG_JSON_STRING);
		buf_reset(&out);
		buf_adds(&out, "<");
		ck_assert_int_eq(trig_json_string(&v, &out), 0);
		ck_assert_msg(out.len == cases[i].len + 1 &&
			      memcmp(out.data + 1, cases[i].text, cases[i].len) == 0 &&
			      out.data[out.len] == 0, "case %zu", i);
		trig_json_query_free(q);
		free(b);
	}

	/* Other types: their raw text; absent and malformed: -1, out unchanged. */
	struct trig_json_value num = { TRIG_JSON_NUMBER, "-1.5e3", 6 };
	struct trig_json_value arr = { TRIG_JSON_ARRAY, "[1, \"a\\n\"]", 10 };
	struct trig_json_value abs = { TRIG_JSON_ABSENT, NULL, 0 };
	struct trig_json_value bad = { TRIG_JSON_STRING, "\"a\\x\"", 5 };
	struct trig_json_value cut = { TRIG_JSON_STRING, "\"a\\u12\"", 7 };
	buf_reset(&out);
	ck_assert_int_eq(trig_json_string(&num, &out), 0);
	ck_assert_str_eq(buf_cstr(&out), "-1.5e3");
	buf_reset(&out);
	ck_assert_int_eq(trig_json_string(&arr, &out), 0);
	ck_assert_str_eq(buf_cstr(&out), "[1, \"a\\n\"]");
	buf_reset(&out);
	buf_adds(&out, "keep");
	ck_assert_int_eq(trig_json_string(&abs, &out), -1);
	ck_assert_int_eq(trig_json_string(&bad, &out), -1);
	ck_assert_int_eq(trig_json_string(&cut, &out), -1);
	ck_assert_str_eq(buf_cstr(&out), "keep");
	buf_release(&out);

	ck_assert_str_eq(trig_json_type_name(TRIG_JSON_ABSENT), "absent");
	ck_assert_str_eq(trig_json_type_name(TRIG_JSON_OBJECT), "object");
}
END_TEST

/* ------------------------------------------------------------ path text */

static void check_path(const char *text, unsigned n, ...)
{
	struct trig_path_seg *segs;
	unsigned nsegs;
	struct trig_json_error err = { 0, "" };
	ck_assert_msg(trig_json_path_parse(text, &segs, &nsegs, &err) == 0,
		      "'%s': %s", text, err.msg);
	ck_assert_msg(nsegs == n, "'%s': %u segments", text, nsegs);
	va_list ap;
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++) {
		const char *key = va_arg(ap, const char *);
		int index = va_arg(ap, int);
		ck_assert_int_eq(segs[i].index, index);
		if (key)
			ck_assert_str_eq(segs[i].key, key);
		else
			ck_assert_ptr_null(segs[i].key);
	}
	va_end(ap);
	if (n == 0)
		ck_assert_ptr_null(segs);
	free(segs);
}

START_TEST(test_path_parse)
{
	check_path("", 0);
	check_path("a", 1, "a", -1);
	check_path("a.b[0].c", 4, "a", -1, "b", -1, NULL, 0, "c", -1);
	check_path("data\\.x.y", 2, "data.x", -1, "y", -1);
	check_path("data[\"valohai.execution-step\"]", 2, "data", -1,
		   "valohai.execution-step", -1);
	check_path("[\"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\"]", 1,
		   "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80", -1);
	check_path("[\"\"]", 1, "", -1);
	check_path("[3][12][2147483647]", 3, NULL, 3, NULL, 12, NULL, 2147483647);
	check_path("a\\\\b\\[c]", 1, "a\\b[c]", -1);
	check_path("x.0", 2, "x", -1, "0", -1);
	check_path("\xc3\xa9t\xc3\xa9.sp ace", 2, "\xc3\xa9t\xc3\xa9", -1, "sp ace", -1);
	check_path("a[\"b\"].c[\"d\"][1]", 5, "a", -1, "b", -1, "c", -1, "d", -1, NULL, 1);

	static const struct {
		const char *text;
		size_t offset;
		const char *msg;
	} bad[] = {
		{ ".a", 0, "empty key in a path" },
		{ "a.", 2, "empty key in a path" },
		{ "a..b", 2, "empty key in a path" },
		{ "a.[0]", 2, "empty key in a path" },
		{ "a[", 2, "expected an index or a quoted key after '['" },
		{ "a[x]", 2, "expected an index or a quoted key after '['" },
		{ "a[-1]", 2, "expected an index or a quoted key after '['" },
		{ "a[01]", 2, "index with a leading zero" },
		{ "a[2147483648]", 2, "index too large" },
		{ "a[1", 3, "expected ']' after an index" },
		{ "a[1]b", 4, "expected '.' or '[' after ']'" },
		{ "a[\"b", 1, "unterminated key in '[\"...\"]'" },
		{ "a[\"b\"", 5, "expected ']' after a quoted key" },
		{ "a[\"b\\q\"]", 4, "invalid escape '\\q' in a key" },
		{ "a[\"b\\u00\"]", 4, "invalid escape '\\u00' in a key" },
		{ "a[\"\\u0000\"]", 3, "NUL character in a key" },
		{ "a[\"\t\"]", 3, "control character in a key" },
		{ "a\\b", 1, "invalid escape '\\b' in a path" },
		{ "a\\", 1, "invalid escape '\\' in a path" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct trig_path_seg *segs = (void *)1;
		unsigned nsegs = 7;
		struct trig_json_error err = { 999, "" };
		ck_assert_msg(trig_json_path_parse(bad[i].text, &segs, &nsegs, &err) == -1,
			      "'%s' accepted", bad[i].text);
		ck_assert_ptr_null(segs);
		ck_assert_msg(err.offset == bad[i].offset, "'%s': offset %zu (%s)",
			      bad[i].text, err.offset, err.msg);
		ck_assert_str_eq(err.msg, bad[i].msg);
	}

	/* 256 segments are fine, 257 are not. */
	char deep[257 * 3 + 1];
	for (int i = 0; i < 257; i++)
		memcpy(deep + 3 * i, "[0]", 3);
	deep[256 * 3] = 0;
	struct trig_path_seg *segs;
	unsigned nsegs;
	struct trig_json_error err;
	ck_assert_int_eq(trig_json_path_parse(deep, &segs, &nsegs, &err), 0);
	ck_assert_uint_eq(nsegs, 256);
	for (unsigned i = 0; i < nsegs; i++)
		ck_assert(segs[i].index == 0 && segs[i].key == NULL);
	free(segs);
	deep[256 * 3] = '[';
	deep[257 * 3] = 0;
	ck_assert_int_eq(trig_json_path_parse(deep, &segs, &nsegs, &err), -1);
	ck_assert_str_eq(err.msg, "path deeper than 256");
	struct trig_json_query *q = trig_json_query_new();
	ck_assert_int_eq(trig_json_query_add_text(q, deep, &err), -1);
	ck_assert_int_eq(trig_json_query_add_text(q, "a[", &err), -1);
	ck_assert_uint_eq(trig_json_query_slots(q), 0);
	trig_json_query_free(q);
}
END_TEST

/* ------------------------------------------------------------ oracle */

/* Runs a shell command, returning its exit status (-1 if it did not exit). */
static int run_cmd(const char *cmd)
{
	int st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct opath {
	unsigned doc;
	char *text, *segs;      /* from json_oracle.py */
	char *parsed;           /* trig_json_path_parse(text), as JSON */
	int slot;
};

/*
 * npaths[i] random paths into each file docs[i], parsed, extracted (one
 * query and one pass per document) and checked by json_oracle.py.
 */
static void oracle(const char *const *docs, const unsigned *npaths, unsigned ndocs,
		   unsigned seed)
{
	struct buf cmd = BUF_INIT, rec = BUF_INIT, dec = BUF_INIT;
	unsigned total = 0;

	buf_printf(&cmd, "python3 '%s/tests/unit/json_oracle.py' paths %u", src_dir(), seed);
	for (unsigned i = 0; i < ndocs; i++) {
		buf_printf(&cmd, " '%s:%u'", docs[i], npaths[i]);
		total += npaths[i];
	}
	FILE *p = popen(buf_cstr(&cmd), "r");
	ck_assert_ptr_nonnull(p);
	struct trig_json_query **q = calloc(ndocs, sizeof(*q));
	struct opath *op = calloc(total, sizeof(*op));
	ck_assert(q && op);
	for (unsigned i = 0; i < ndocs; i++)
		q[i] = trig_json_query_new();
	char line[8192];
	unsigned k = 0;
	while (k < total && fgets(line, sizeof(line), p)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		char *nl = strchr(line, '\n');
		ck_assert(t1 && t2 && nl);
		*t1 = *t2 = *nl = 0;
		op[k].doc = (unsigned)atoi(line);
		ck_assert_uint_lt(op[k].doc, ndocs);
		op[k].text = strdup(t1 + 1);
		op[k].segs = strdup(t2 + 1);

		struct trig_path_seg *sg;
		unsigned ns;
		struct trig_json_error err;
		ck_assert_msg(trig_json_path_parse(op[k].text, &sg, &ns, &err) == 0,
			      "'%s': %s", op[k].text, err.msg);
		buf_reset(&rec);
		buf_addc(&rec, '[');
		for (unsigned i = 0; i < ns; i++) {
			if (i)
				buf_addc(&rec, ',');
			if (sg[i].index >= 0)
				buf_printf(&rec, "%d", (int)sg[i].index);
			else
				buf_json_cstr(&rec, sg[i].key);
		}
		buf_addc(&rec, ']');
		op[k].parsed = strdup(buf_cstr(&rec));
		op[k].slot = trig_json_query_add(q[op[k].doc], sg, ns);
		ck_assert_int_ge(op[k].slot, 0);
		free(sg);
		k++;
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_uint_eq(k, total);

	char results[] = "/tmp/test_json.XXXXXX";
	int fd = mkstemp(results);
	ck_assert_int_ge(fd, 0);
	FILE *out = fdopen(fd, "w");
	ck_assert_ptr_nonnull(out);
	for (unsigned d = 0; d < ndocs; d++) {
		size_t len;
		char *doc = slurp(docs[d], &len);
		unsigned ns = trig_json_query_slots(q[d]);
		struct trig_json_value *v = calloc(ns ? ns : 1, sizeof(*v));
		struct trig_json_error err;
		ck_assert_ptr_nonnull(v);
		ck_assert_msg(trig_json_extract(q[d], doc, len, v, &err) == 0, "'%s': %s",
			      docs[d], err.msg);
		check_spans(doc, len, v, ns);
		for (unsigned i = 0; i < total; i++) {
			if (op[i].doc != d)
				continue;
			const struct trig_json_value *x = &v[op[i].slot];
			buf_reset(&rec);
			buf_printf(&rec, "{\"doc\":%u,\"text\":", d);
			buf_json_cstr(&rec, op[i].text);
			buf_printf(&rec, ",\"segs\":%s,\"parsed\":%s,\"type\":\"%s\"", op[i].segs,
				   op[i].parsed, trig_json_type_name(x->type));
			if (x->type != TRIG_JSON_ABSENT) {
				buf_printf(&rec, ",\"offset\":%zu,\"raw\":", (size_t)(x->raw - doc));
				buf_json_str(&rec, x->raw, x->len);
				buf_reset(&dec);
				ck_assert_int_eq(trig_json_string(x, &dec), 0);
				buf_adds(&rec, ",\"decoded\":");
				buf_json_str(&rec, dec.data, dec.len);
			}
			buf_adds(&rec, "}\n");
			ck_assert_uint_eq(fwrite(rec.data, 1, rec.len, out), rec.len);
		}
		free(v);
		free(doc);
	}
	ck_assert_int_eq(fclose(out), 0);

	buf_reset(&cmd);
	buf_printf(&cmd, "python3 '%s/tests/unit/json_oracle.py' check '%s'", src_dir(), results);
	for (unsigned i = 0; i < ndocs; i++)
		buf_printf(&cmd, " '%s'", docs[i]);
	int st = run_cmd(buf_cstr(&cmd));
	unlink(results);
	ck_assert_msg(st == 0, "json_oracle.py check failed");

	for (unsigned i = 0; i < total; i++) {
		free(op[i].text);
		free(op[i].segs);
		free(op[i].parsed);
	}
	for (unsigned i = 0; i < ndocs; i++)
		trig_json_query_free(q[i]);
	free(op);
	free(q);
	buf_release(&cmd);
	buf_release(&rec);
	buf_release(&dec);
}

/* Paths of shared test files (unit_shared() keeps one path at a time). */
static char **shared_files(const char *dir, const char *const *names, unsigned n)
{
	char **paths = calloc(n, sizeof(*paths));
	char rel[256];
	ck_assert_ptr_nonnull(paths);
	for (unsigned i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "testdata/%s/%s", dir, names[i]);
		paths[i] = strdup(unit_shared(rel));
	}
	return paths;
}

static void free_files(char **paths, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

START_TEST(test_oracle_github)
{
	static const char *const names[] = {
		"push.0.json", "push.1.json", "push.2.json", "pull_request.0.json",
		"pull_request.1.json", "issue_comment.0.json", "ping.0.json", "release.0.json",
		"workflow_run.0.json",
	};
	static const unsigned npaths[] = { 400, 120, 120, 120, 120, 120, 120, 120, 120 };
	char **files = shared_files("github", names, 9);
	oracle((const char *const *)files, npaths, 9, 1000);
	free_files(files, 9);
}
END_TEST

START_TEST(test_oracle_valohai)
{
	static const char *const names[] = {
		"execution_completed.json", "dataset_version_created.json",
		"model_latest_approved_version_changed.json",
	};
	static const unsigned npaths[] = { 60, 60, 60 };
	char **files = shared_files("valohai", names, 3);
	oracle((const char *const *)files, npaths, 3, 2000);
	free_files(files, 3);
}
END_TEST

/* Synthetic documents: awkward keys, every escape, duplicate keys. */
START_TEST(test_oracle_synthetic)
{
	enum { NDOCS = 12 };
	char dir[] = "/tmp/test_json.XXXXXX", cmd[8192];
	char *files[NDOCS];
	unsigned npaths[NDOCS];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "python3 '%s/tests/unit/json_oracle.py' synth 7 %d '%s/doc'",
		 src_dir(), NDOCS, dir);
	ck_assert_int_eq(run_cmd(cmd), 0);
	for (unsigned i = 0; i < NDOCS; i++) {
		char name[64];
		snprintf(name, sizeof(name), "/doc.%u.json", i + 1);
		files[i] = malloc(strlen(dir) + strlen(name) + 1);
		ck_assert_ptr_nonnull(files[i]);
		strcpy(files[i], dir);
		strcat(files[i], name);
		npaths[i] = 150;
	}
	oracle((const char *const *)files, npaths, NDOCS, 3000);
	for (unsigned i = 0; i < NDOCS; i++) {
		ck_assert_int_eq(unlink(files[i]), 0);
		free(files[i]);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ------------------------------------------------------------ threads */

struct shared_run {
	const struct trig_json_query *q;
	const char *doc;
	size_t len;
	const struct trig_json_value *want;
	unsigned n;
	int bad;
};

static void *extract_many(void *arg)
{
	struct shared_run *s = arg;
	struct trig_json_value v[16];
	for (int i = 0; i < 2000; i++) {
		bool ok = trig_json_extract(s->q, s->doc, s->len, v, NULL) == 0;
		for (unsigned k = 0; ok && k < s->n; k++)
			ok = v[k].type == s->want[k].type && v[k].raw == s->want[k].raw &&
			     v[k].len == s->want[k].len;
		if (!ok) {
			__atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

START_TEST(test_threads)
{
	static const char *const paths[] = {
		"ref", "head_commit.id", "repository.owner.login", "sender", "head_commit.added[0]",
	};
	struct trig_json_query *q = query_of(paths, 5);
	size_t len;
	char *doc = slurp(unit_shared("testdata/github/push.0.json"), &len);
	struct trig_json_value want[16];
	memset(want, 0, sizeof(want));
	ck_assert_int_eq(trig_json_extract(q, doc, len, want, NULL), 0);
	struct shared_run s = { q, doc, len, want, 5, 0 };
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, extract_many, &s), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_int_eq(s.bad, 0);
	trig_json_query_free(q);
	free(doc);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_suite_all);
	tcase_add_test(tc, test_error_messages);
	tcase_add_test(tc, test_nul_bytes);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_push_by_hand);
	tcase_add_test(tc, test_valohai_by_hand);
	tcase_add_test(tc, test_truncated_push);
	tcase_add_test(tc, test_escaped_keys);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_query_slots);
	tcase_add_test(tc, test_array_indexes);
	tcase_add_test(tc, test_string_decoding);
	tcase_add_test(tc, test_path_parse);
	tcase_add_test(tc, test_oracle_github);
	tcase_add_test(tc, test_oracle_valohai);
	tcase_add_test(tc, test_oracle_synthetic);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(json_suite)
