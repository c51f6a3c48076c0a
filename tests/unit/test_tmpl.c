/*
 * test_tmpl.c — field references and templates (compiler/tmpl.c).
 */
#include <string.h>

#include "unit.h"

#include "tmpl.h"

static struct arena a = ARENA_INIT;

static void teardown(void)
{
	arena_free(&a);
}

START_TEST(field_roots)
{
	struct fieldref f;
	struct tmpl_error err;
	ck_assert_int_eq(field_parse(&a, "payload.head_commit.id", 22, &f, &err), 0);
	ck_assert_int_eq(f.root, TRIG_ROOT_PAYLOAD);
	ck_assert_uint_eq(f.nsegs, 2);
	ck_assert_str_eq(f.segs[0].key, "head_commit");
	ck_assert_str_eq(f.segs[1].key, "id");

	ck_assert_int_eq(field_parse(&a, "header.X-GitHub-Event", 21, &f, &err), 0);
	ck_assert_int_eq(f.root, TRIG_ROOT_HEADER);
	ck_assert_str_eq(f.name, "X-GitHub-Event");

	const char *s = "payload.commits[0].author[\"na.me\"]";
	ck_assert_int_eq(field_parse(&a, s, strlen(s), &f, &err), 0);
	ck_assert_uint_eq(f.nsegs, 4);
	ck_assert_str_eq(f.segs[0].key, "commits");
	ck_assert_ptr_null(f.segs[1].key);
	ck_assert_int_eq(f.segs[1].index, 0);
	ck_assert_str_eq(f.segs[2].key, "author");
	ck_assert_str_eq(f.segs[3].key, "na.me");
	s = "event.data\\.x.y";
	ck_assert_int_eq(field_parse(&a, s, strlen(s), &f, &err), 0);
	ck_assert_int_eq(f.root, TRIG_ROOT_EVENT);
	ck_assert_uint_eq(f.nsegs, 2);
	ck_assert_str_eq(f.segs[0].key, "data.x");
	ck_assert_str_eq(f.segs[1].key, "y");

	s = "event.data[\"valohai.execution-step\"]";
	ck_assert_int_eq(field_parse(&a, s, strlen(s), &f, &err), 0);
	ck_assert_uint_eq(f.nsegs, 2);
	ck_assert_str_eq(f.segs[1].key, "valohai.execution-step");

	ck_assert_int_eq(field_parse(&a, "remote.ip", 9, &f, &err), 0);
	ck_assert_int_eq(f.root, TRIG_ROOT_REMOTE_IP);
	ck_assert_int_eq(field_parse(&a, "now", 3, &f, &err), 0);
	ck_assert_int_eq(f.root, TRIG_ROOT_NOW);
}
END_TEST

START_TEST(field_errors)
{
	struct fieldref f;
	struct tmpl_error err;
	ck_assert_int_eq(field_parse(&a, "paylod.ref", 10, &f, &err), -1);
	ck_assert(err.unknown_root);
	ck_assert_uint_eq(err.off, 0);
	ck_assert_uint_eq(err.len, 6);
	ck_assert_str_eq(err.msg, "unknown template root 'paylod'; did you mean 'payload'?");

	ck_assert_int_eq(field_parse(&a, "header.a.b", 10, &f, &err), -1);
	ck_assert(!err.unknown_root);
	ck_assert_int_eq(field_parse(&a, "remote.port", 11, &f, &err), -1);
	ck_assert_int_eq(field_parse(&a, "now.x", 5, &f, &err), -1);
	ck_assert_int_eq(field_parse(&a, "payload.", 8, &f, &err), -1);
	ck_assert_uint_eq(err.off, 7);
	ck_assert_int_eq(field_parse(&a, "payload[x]", 10, &f, &err), -1);
	ck_assert_int_eq(field_parse(&a, "payload[0", 9, &f, &err), -1);
	ck_assert_int_eq(field_parse(&a, "payload[\"a", 10, &f, &err), -1);
	ck_assert_int_eq(field_parse(&a, "", 0, &f, &err), -1);
	ck_assert_int_eq(field_parse(&a, "Payload.x", 9, &f, &err), -1);
}
END_TEST

START_TEST(templates)
{
	struct tmpl t;
	struct tmpl_error err;
	ck_assert_int_eq(tmpl_parse(&a, "started {{ launch.id }} for {{trigger.name}}!", &t, &err), 0);
	ck_assert_uint_eq(t.n, 5);
	ck_assert(!t.v[0].is_field);
	ck_assert_str_eq(t.v[0].text, "started ");
	ck_assert(t.v[1].is_field);
	ck_assert_int_eq(t.v[1].field.root, TRIG_ROOT_LAUNCH_ID);
	ck_assert_uint_eq(t.v[1].field.off, 11);
	ck_assert_str_eq(t.v[2].text, " for ");
	ck_assert_int_eq(t.v[3].field.root, TRIG_ROOT_TRIGGER);
	ck_assert_str_eq(t.v[4].text, "!");

	ck_assert_int_eq(tmpl_parse(&a, "plain text", &t, &err), 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert(!tmpl_has_fields("plain text"));
	ck_assert(tmpl_has_fields("a {{ now }}"));
	ck_assert_int_eq(tmpl_parse(&a, "", &t, &err), 0);
	ck_assert_uint_eq(t.n, 0);

	/* Errors carry the span inside the string. */
	ck_assert_int_eq(tmpl_parse(&a, "x {{ payload.a", &t, &err), -1);
	ck_assert_uint_eq(err.off, 2);
	ck_assert_int_eq(tmpl_parse(&a, "x {{  }}", &t, &err), -1);
	ck_assert_str_eq(err.msg, "an empty '{{ }}'");
	ck_assert_int_eq(tmpl_parse(&a, "ab {{ bogus.x }}", &t, &err), -1);
	ck_assert(err.unknown_root);
	ck_assert_uint_eq(err.off, 6);
	ck_assert_uint_eq(err.len, 5);
}
END_TEST

static Suite *tmpl_suite(void)
{
	Suite *s = suite_create("tmpl");
	TCase *tc = tcase_create("tmpl");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, field_roots);
	tcase_add_test(tc, field_errors);
	tcase_add_test(tc, templates);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(tmpl_suite)
