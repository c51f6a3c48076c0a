/*
 * test_diag.c — sources, positions and the printing of diagnostics
 * (compiler/source.c, compiler/diag.c).
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "diag.h"
#include "source.h"

/* What diag_print writes, as a string (caller frees). */
static char *printed(const struct diag *d, enum diag_format fmt)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	diag_print(d, f, fmt, false);
	fclose(f);
	return text;
}

START_TEST(lines_and_locs)
{
	struct sources s;
	sources_init(&s);
	uint32_t f = sources_add(&s, "a.trig", "one\ntwo\r\n\nfour", 15);
	const struct source *src = sources_get(&s, f);
	ck_assert_uint_eq(src->nlines, 4);
	size_t len;
	const char *l = source_line(src, 2, &len);
	ck_assert_uint_eq(len, 3);
	ck_assert(!memcmp(l, "two", 3));
	l = source_line(src, 3, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(source_line(src, 5, &len));
	struct loc at = source_loc(&s, f, 10, 4);      /* the 'f' of "four" */
	ck_assert_uint_eq(at.line, 4);
	ck_assert_uint_eq(at.col, 1);
	ck_assert_uint_eq(at.len, 4);
	at = source_loc(&s, f, 5, 1);
	ck_assert_uint_eq(at.line, 2);
	ck_assert_uint_eq(at.col, 2);
	/* A final newline does not make a line of its own. */
	uint32_t g = sources_add(&s, "b.trig", "x\n", 2);
	ck_assert_uint_eq(sources_get(&s, g)->nlines, 1);
	sources_release(&s);
}
END_TEST

START_TEST(text_format)
{
	struct sources s;
	sources_init(&s);
	uint32_t f = sources_add(&s, "n.trig", "trigger t {\n\tnotfy \"ops\"\n}\n", 27);
	struct diag d;
	diag_init(&d, &s);
	diag_error(&d, (struct loc){ f, 2, 2, 5 }, "unknown-action", "unknown action '%s'", "notfy");
	diag_note(&d, (struct loc){ f, 1, 9, 1 }, "the trigger starts here");
	diag_warning(&d, (struct loc){ 0, 0, 0, 0 }, "usage", "a warning without a place");
	char *out = printed(&d, DIAG_TEXT);
	/* Diagnostics without a place come first; the tab is expanded to 8
	 * columns and the caret follows it; a note stays with its error. */
	ck_assert_str_eq(out,
		"trigc: warning: a warning without a place [usage]\n"
		"n.trig:2:2: error: unknown action 'notfy' [unknown-action]\n"
		"    2 |         notfy \"ops\"\n"
		"      |         ^~~~~\n"
		"n.trig:1:9: note: the trigger starts here\n"
		"    1 | trigger t {\n"
		"      |         ^\n"
		"1 warning and 1 error generated.\n");
	free(out);
	ck_assert_uint_eq(diag_errors(&d), 1);
	diag_promote_warnings(&d);
	ck_assert_uint_eq(diag_errors(&d), 2);
	diag_release(&d);
	sources_release(&s);
}
END_TEST

START_TEST(utf8_caret)
{
	struct sources s;
	sources_init(&s);
	const char *text = "d \"\xc3\xa4\xc3\xa4\" bad\n";
	uint32_t f = sources_add(&s, "u.trig", text, strlen(text));
	struct diag d;
	diag_init(&d, &s);
	diag_error(&d, (struct loc){ f, 1, 10, 3 }, "syntax", "oops");
	char *out = printed(&d, DIAG_TEXT);
	/* Two two-byte characters take two columns, not four. */
	ck_assert_ptr_nonnull(strstr(out, "\n      |        ^~~\n"));
	free(out);
	diag_release(&d);
	sources_release(&s);
}
END_TEST

START_TEST(json_and_sarif)
{
	struct sources s;
	sources_init(&s);
	uint32_t f = sources_add(&s, "q\"x.yaml", "k: v\n", 5);
	struct diag d;
	diag_init(&d, &s);
	diag_error(&d, (struct loc){ f, 1, 1, 1 }, "unknown-key", "unknown key '%s'", "k\n");
	char *out = printed(&d, DIAG_JSON);
	ck_assert_str_eq(out, "[\n {\"file\": \"q\\\"x.yaml\", \"line\": 1, \"column\": 1, \"length\": 1, "
			      "\"severity\": \"error\", \"rule\": \"unknown-key\", "
			      "\"message\": \"unknown key 'k\\n'\"}\n]\n");
	free(out);
	out = printed(&d, DIAG_SARIF);
	ck_assert_ptr_nonnull(strstr(out, "\"version\": \"2.1.0\""));
	ck_assert_ptr_nonnull(strstr(out, "\"ruleId\": \"unknown-key\""));
	ck_assert_ptr_nonnull(strstr(out, "\"startLine\": 1, \"startColumn\": 1, \"endColumn\": 2"));
	free(out);
	diag_release(&d);

	/* Nothing to report: an empty array, and no summary line. */
	diag_init(&d, &s);
	out = printed(&d, DIAG_JSON);
	ck_assert_str_eq(out, "[]\n");
	free(out);
	out = printed(&d, DIAG_TEXT);
	ck_assert_str_eq(out, "");
	free(out);
	diag_release(&d);
	sources_release(&s);
}
END_TEST

static Suite *diag_suite(void)
{
	Suite *s = suite_create("diag");
	TCase *tc = tcase_create("diag");
	tcase_add_test(tc, lines_and_locs);
	tcase_add_test(tc, text_format);
	tcase_add_test(tc, utf8_caret);
	tcase_add_test(tc, json_and_sarif);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(diag_suite)
