/*
 * test_events.c — notification events (runtime/events.c): the Valohai-
 * format events the runtime emits, event types, and the dispatcher on a
 * hand-built project with a real state folder, launcher and local backend.
 *
 * Oracles: Python's json module reads every built event back (shape, key
 * set and values), timegm() checks the times, POSIX regcomp() the type
 * grammar; the real Valohai notifications of testdata/valohai/ go through
 * the dispatcher, and what the executions print proves what the filters
 * and templates read (a bracketed dotted key included).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "audit.h"
#include "buf.h"
#include "conditions.h"
#include "events.h"
#include "journal.h"
#include "json.h"
#include "launch.h"
#include "local.h"
#include "log.h"
#include "state.h"

/* ------------------------------------------------------------ helpers */

/* The value at PATH (trigger path syntax) of DOC, decoded, in OUT; its type. */
static enum trig_json_type value_at(const char *doc, size_t len, const char *path, struct buf *out)
{
	struct trig_json_query *q = trig_json_query_new();
	struct trig_json_error jerr;
	ck_assert_int_eq(trig_json_query_add_text(q, path, &jerr), 0);
	struct trig_json_value v;
	ck_assert_msg(trig_json_extract(q, doc, len, &v, &jerr) == 0, "%s at %zu in %.*s", jerr.msg,
		      jerr.offset, (int)len, doc);
	buf_reset(out);
	if (v.type != TRIG_JSON_ABSENT)
		trig_json_string(&v, out);
	trig_json_query_free(q);
	return v.type;
}

/* Runs python3 SCRIPT with TEXT on stdin; its exit status (0: the checks
 * passed) and what it printed in OUT. */
static int python(const char *script, const char *text, size_t len, struct buf *out)
{
	char in[] = "/tmp/trig-events-py-XXXXXX";
	int fd = mkstemp(in);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd, "python3 -c '%s' < %s 2>&1", script, in);
	FILE *p = popen(cmd.data, "r");
	ck_assert_ptr_nonnull(p);
	char chunk[4096];
	size_t n;
	buf_reset(out);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(out, chunk, n);
	int st = pclose(p);
	unlink(in);
	buf_release(&cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* 2026-11-26T02:00:03.112Z */
#define CTIME_MS 1795658403112LL

static int64_t parse_valohai_time(const char *s)
{
	struct tm tm = { 0 };
	int us = -1;
	char tz[8] = "";
	ck_assert_int_eq(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%6d%7s", &tm.tm_year, &tm.tm_mon,
				&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us, tz), 8);
	ck_assert_str_eq(tz, "+00:00");
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + us / 1000;
}

/* ------------------------------------------------------------ building */

START_TEST(build_execution_completed)
{
	struct trig_event_run e = {
		.type = "execution_completed", .project = "mnist", .id = "e-01JDQ7M5X6Q2V0Y9Z8K4W3R2T1",
		.step = "train", .status = "completed", .title = NULL, .commit = "9f2c1e0",
		.url = "/state/executions/e-1", .trigger = "nightly", .launch = "l-01JDQ7M5X6Q2V0Y9Z8K4W3R2T0",
		.exit_code = 0, .created_ms = CTIME_MS, .started_ms = CTIME_MS + 1000,
		.ended_ms = CTIME_MS + 1000 + 660010, .depth = 3,
	};
	struct buf b = BUF_INIT, v = BUF_INIT, out = BUF_INIT;
	trig_event_build_run(&b, &e);
	ck_assert_int_eq(trig_json_validate(b.data, b.len, NULL), 0);
	ck_assert_ptr_null(memchr(b.data, '\n', b.len));

	/* Python: the shape of testdata/valohai/execution_completed.json. */
	static const char script[] =
		"import json,sys\n"
		"d=json.load(sys.stdin)\n"
		"ref=json.load(open(sys.argv[1]))\n"
		"assert set(d)==set(ref), (set(d),set(ref))\n"
		"assert d[\"project\"]==dict(id=None,name=\"mnist\"), d[\"project\"]\n"
		"dd=d[\"data\"]\n"
		"assert dd[\"valohai.execution-step\"]==\"train\"\n"
		"assert dd[\"valohai.execution-status\"]==\"complete\"\n"
		"assert abs(dd[\"valohai.execution-duration\"]-660.01)<1e-9, dd\n"
		"assert dd[\"valohai.execution-exit-code\"]==0\n"
		"assert dd[\"valohai.execution-title\"] is None\n"
		"assert dd[\"valohai.commit-identifier\"]==\"9f2c1e0\"\n"
		"assert dd[\"trig.trigger\"]==\"nightly\" and dd[\"trig.depth\"]==3\n"
		"assert dd[\"trig.launch\"]==\"l-01JDQ7M5X6Q2V0Y9Z8K4W3R2T0\"\n"
		"for k in (\"valohai.execution-id\",\"valohai.execution-step\",\"valohai.execution-status\","
		"\"valohai.execution-duration\",\"valohai.execution-ctime\",\"valohai.execution-qtime\","
		"\"valohai.execution-title\",\"valohai.project-name\",\"valohai.commit-identifier\"):\n"
		"  assert k in ref[\"data\"] and k in dd, k\n"
		"assert not any(k.startswith(\"valohai.pipeline\") for k in dd)\n"
		"assert d[\"title\"]==\"Execution e-01JDQ7M5X6Q2V0Y9Z8K4W3R2T1 completed\", d[\"title\"]\n"
		"print(\"ok\")\n";
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd, "import sys; sys.argv=[0, \"%s\"]\n%s",
		   unit_shared("testdata/valohai/execution_completed.json"), script);
	int rc = python(cmd.data, b.data, b.len, &out);
	ck_assert_msg(rc == 0, "python: %s\nevent: %s", buf_cstr(&out), b.data);
	buf_release(&cmd);

	/* The project's own reader, through the bracketed and escaped paths
	 * a filter would use. */
	ck_assert_int_eq(value_at(b.data, b.len, "data[\"valohai.execution-step\"]", &v), TRIG_JSON_STRING);
	ck_assert_str_eq(v.data, "train");
	ck_assert_int_eq(value_at(b.data, b.len, "data.valohai\\.execution-id", &v), TRIG_JSON_STRING);
	ck_assert_str_eq(v.data, "e-01JDQ7M5X6Q2V0Y9Z8K4W3R2T1");
	ck_assert_int_eq(value_at(b.data, b.len, "type", &v), TRIG_JSON_STRING);
	ck_assert_str_eq(v.data, "execution_completed");
	/* Times in Valohai's format, read back with timegm(). */
	ck_assert_int_eq(value_at(b.data, b.len, "data[\"valohai.execution-ctime\"]", &v),
			 TRIG_JSON_STRING);
	ck_assert_int_eq(parse_valohai_time(v.data), CTIME_MS);
	ck_assert_int_eq(value_at(b.data, b.len, "data[\"valohai.execution-stime\"]", &v),
			 TRIG_JSON_STRING);
	ck_assert_int_eq(parse_valohai_time(v.data), CTIME_MS + 1000);
	buf_release(&b);
	buf_release(&v);
	buf_release(&out);
}
END_TEST

/* Each type's status word, and what an event that has not ended lacks. */
START_TEST(build_status_words)
{
	static const struct { const char *type, *word; bool ended; } cases[] = {
		{ "execution_created", "created", false },
		{ "execution_started", "started", false },
		{ "execution_completed", "complete", true },
		{ "execution_failed", "error", true },
		{ "execution_stopped", "stopped", true },
	};
	struct buf b = BUF_INIT, v = BUF_INIT;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trig_event_run e = {
			.type = cases[i].type, .project = "p", .id = "e-1", .step = "s",
			.status = "whatever the backend says", .exit_code = cases[i].ended ? 3 : -1,
			.created_ms = CTIME_MS, .started_ms = cases[i].ended ? CTIME_MS : 0,
			.ended_ms = cases[i].ended ? CTIME_MS + 1500 : 0,
		};
		buf_reset(&b);
		trig_event_build_run(&b, &e);
		ck_assert_str_eq(trig_event_status_word(cases[i].type), cases[i].word);
		ck_assert_int_eq(value_at(b.data, b.len, "data[\"valohai.execution-status\"]", &v),
				 TRIG_JSON_STRING);
		ck_assert_str_eq(v.data, cases[i].word);
		enum trig_json_type dt = value_at(b.data, b.len, "data[\"valohai.execution-duration\"]", &v);
		enum trig_json_type xt = value_at(b.data, b.len, "data[\"valohai.execution-exit-code\"]", &v);
		if (cases[i].ended) {
			ck_assert_int_eq(dt, TRIG_JSON_NUMBER);
			ck_assert_int_eq(xt, TRIG_JSON_NUMBER);
			ck_assert_str_eq(v.data, "3");
			value_at(b.data, b.len, "data[\"valohai.execution-duration\"]", &v);
			ck_assert_double_eq_tol(strtod(v.data, NULL), 1.5, 1e-9);
		} else {
			ck_assert_int_eq(dt, TRIG_JSON_ABSENT);
			ck_assert_int_eq(xt, TRIG_JSON_ABSENT);
		}
	}
	ck_assert_ptr_null(trig_event_status_word("dataset_version_created"));
	buf_release(&b);
	buf_release(&v);
}
END_TEST

START_TEST(build_pipelines)
{
	struct buf b = BUF_INIT, v = BUF_INIT;
	/* A pipeline's own event: pipeline keys, no execution keys. */
	struct trig_event_run e = {
		.type = "pipeline_failed", .project = "p", .id = "p-9", .pipeline = "nightly",
		.pipeline_id = "p-9", .trigger = "t", .launch = "l-1", .exit_code = -1,
		.created_ms = CTIME_MS, .started_ms = CTIME_MS, .ended_ms = CTIME_MS + 2000, .depth = 1,
	};
	trig_event_build_run(&b, &e);
	ck_assert_int_eq(trig_json_validate(b.data, b.len, NULL), 0);
	ck_assert_int_eq(value_at(b.data, b.len, "data[\"valohai.pipeline-id\"]", &v), TRIG_JSON_STRING);
	ck_assert_str_eq(v.data, "p-9");
	value_at(b.data, b.len, "data[\"valohai.pipeline-status\"]", &v);
	ck_assert_str_eq(v.data, "error");
	value_at(b.data, b.len, "data[\"valohai.pipeline-name\"]", &v);
	ck_assert_str_eq(v.data, "nightly");
	ck_assert_int_eq(value_at(b.data, b.len, "data[\"valohai.execution-id\"]", &v), TRIG_JSON_ABSENT);
	ck_assert_int_eq(value_at(b.data, b.len, "data[\"valohai.pipeline-duration\"]", &v),
			 TRIG_JSON_NUMBER);
	ck_assert_double_eq_tol(strtod(v.data, NULL), 2.0, 1e-9);

	/* A node's execution: the execution's keys plus its pipeline and node. */
	struct trig_event_run n = {
		.type = "execution_started", .project = "p", .id = "p-9.train", .step = "train",
		.pipeline = "nightly", .pipeline_id = "p-9", .node = "train", .exit_code = -1,
		.created_ms = CTIME_MS, .started_ms = CTIME_MS,
	};
	buf_reset(&b);
	trig_event_build_run(&b, &n);
	value_at(b.data, b.len, "data[\"valohai.execution-id\"]", &v);
	ck_assert_str_eq(v.data, "p-9.train");
	value_at(b.data, b.len, "data[\"valohai.pipeline-id\"]", &v);
	ck_assert_str_eq(v.data, "p-9");
	value_at(b.data, b.len, "data[\"valohai.pipeline-node\"]", &v);
	ck_assert_str_eq(v.data, "train");
	value_at(b.data, b.len, "data[\"valohai.execution-status\"]", &v);
	ck_assert_str_eq(v.data, "started");
	buf_release(&b);
	buf_release(&v);
}
END_TEST

/* Hostile strings (from titles, commits) and NULLs still make one valid
 * line, and read back as they went in. */
START_TEST(build_escapes)
{
	struct trig_event_run e = {
		.type = "execution_failed", .project = "p", .id = NULL, .step = NULL,
		.title = "a \"quoted\"\ntitle\\ with \x01 control", .commit = "\xff\xfe bad utf-8",
		.url = NULL, .trigger = NULL, .launch = NULL, .exit_code = -1,
	};
	struct buf b = BUF_INIT, v = BUF_INIT, out = BUF_INIT;
	trig_event_build_run(&b, &e);
	ck_assert_int_eq(trig_json_validate(b.data, b.len, NULL), 0);
	ck_assert_ptr_null(memchr(b.data, '\n', b.len));
	value_at(b.data, b.len, "data[\"valohai.execution-title\"]", &v);
	ck_assert_str_eq(v.data, "a \"quoted\"\ntitle\\ with \x01 control");
	ck_assert_int_eq(value_at(b.data, b.len, "data[\"valohai.execution-id\"]", &v), TRIG_JSON_NULL);
	ck_assert_int_eq(value_at(b.data, b.len, "data[\"valohai.execution-ctime\"]", &v), TRIG_JSON_NULL);
	ck_assert_int_eq(value_at(b.data, b.len, "url", &v), TRIG_JSON_STRING);
	ck_assert_str_eq(v.data, "");
	int rc = python("import json,sys; d=json.load(sys.stdin); "
			"assert d[\"data\"][\"valohai.commit-identifier\"].endswith(\" bad utf-8\"); print(1)",
			b.data, b.len, &out);
	ck_assert_msg(rc == 0, "%s", buf_cstr(&out));
	buf_release(&b);
	buf_release(&v);
	buf_release(&out);
}
END_TEST

/* The type grammar against a POSIX regular expression, on random strings
 * over an alphabet with every class of character in it. */
START_TEST(type_grammar)
{
	regex_t re;
	ck_assert_int_eq(regcomp(&re, "^[a-z][a-z0-9_.-]*$", REG_EXTENDED | REG_NOSUB), 0);
	static const char alphabet[] = "az09_.-A Z/\"\\\t{}";
	unsigned seed = 12345;
	char s[160];
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(rand_r(&seed) % 12);
		if (i % 1000 == 0)
			len = 120 + (size_t)(rand_r(&seed) % 20);  /* around the length limit */
		for (size_t k = 0; k < len; k++)
			s[k] = rand_r(&seed) % 4 ? "abcdefghijklmnopqrstuvwxyz"[rand_r(&seed) % 26]
						 : alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		s[len] = 0;
		bool want = len <= TRIG_EVENT_TYPE_MAX && regexec(&re, s, 0, NULL, 0) == 0;
		ck_assert_msg(trig_event_type_valid(s, len) == want, "'%s'", s);
	}
	regfree(&re);
	ck_assert(trig_event_type_valid("dataset_version_created", 23));
	ck_assert(trig_event_type_valid("my.custom-event_2", 17));
	ck_assert(!trig_event_type_valid("Dataset", 7));
	ck_assert(!trig_event_type_valid("", 0));
	ck_assert(!trig_event_type_valid("a\0b", 3));
}
END_TEST

/* ------------------------------------------------------------ the dispatcher */

static char dir[256];

static void make_dir(void)
{
	unit_temp_dir(dir, sizeof(dir), "events");
	trig_log_setup("test", TRIG_LOG_ERROR, false);
}

static void remove_dir(void)
{
	unit_remove_tree(dir);
}

/* Paths (slot N = path N): the fields the triggers below read. */
static const struct trig_path_seg seg_step[] = { { "data", -1 }, { "valohai.execution-step", -1 } };
static const struct trig_path_seg seg_exec[] = { { "data", -1 }, { "valohai.execution-id", -1 } };
static const struct trig_path_seg seg_dsname[] = { { "data", -1 }, { "dataset", -1 }, { "name", -1 } };
static const struct trig_path_seg seg_uri[] = { { "data", -1 }, { "version", -1 }, { "uri", -1 } };
static const struct trig_path_seg seg_type[] = { { "type", -1 } };
static const struct trig_path_seg seg_by[] = { { "data", -1 }, { "trig.trigger", -1 } };

#define FIELD(p, id, txt) { .root = TRIG_ROOT_EVENT, .text = txt, .segs = p, \
			    .nsegs = sizeof(p) / sizeof(p[0]), .path_id = id }
static const struct trig_field paths[] = {
	FIELD(seg_step, 0, "event.data[\"valohai.execution-step\"]"),
	FIELD(seg_exec, 1, "event.data.valohai\\.execution-id"),
	FIELD(seg_dsname, 2, "event.data.dataset.name"),
	FIELD(seg_uri, 3, "event.data.version.uri"),
	FIELD(seg_type, 4, "event.type"),
	FIELD(seg_by, 5, "event.data[\"trig.trigger\"]"),
};

/* Each step writes its parameter to outputs/out. */
static const struct trig_param v_param[] = { { "v", TRIG_PARAM_STRING, "", NULL, false } };
#define STEP(n) { .name = n, .command = "printf '%s' {parameter:v} > \"$VH_OUTPUTS_DIR/out\"", \
		  .params = v_param, .nparams = 1 }
static const struct trig_step steps[] = { STEP("validate"), STEP("prep"), STEP("typed"), STEP("tick") };

#define ONE_FIELD(name, seg, id, txt) \
	static const struct trig_piece name##_pieces[] = { \
		{ .kind = TRIG_PIECE_FIELD, .field = FIELD(seg, id, txt) } }; \
	static const struct trig_binding name[] = { { "v", { "{{ … }}", name##_pieces, 1 } } }
ONE_FIELD(v_exec, seg_exec, 1, "event.data.valohai\\.execution-id");
ONE_FIELD(v_uri, seg_uri, 3, "event.data.version.uri");
ONE_FIELD(v_type, seg_type, 4, "event.type");
ONE_FIELD(v_by, seg_by, 5, "event.data[\"trig.trigger\"]");

static const struct trig_action run_validate[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &steps[0], .parameters = v_exec, .nparameters = 1,
	  .name = "validate" } };
static const struct trig_action run_prep[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &steps[1], .parameters = v_uri, .nparameters = 1,
	  .name = "prep" } };
static const struct trig_action run_typed[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &steps[2], .parameters = v_type, .nparameters = 1,
	  .name = "typed" } };
static const struct trig_action run_tick[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &steps[3], .parameters = v_by, .nparameters = 1,
	  .name = "tick" } };

static const struct trig_condition on_train[] = {
	{ .kind = TRIG_COND_FILTER, .source = "when event.data[\"valohai.execution-step\"] == train",
	  .u.filter = { .field = FIELD(seg_step, 0, "event.data[\"valohai.execution-step\"]"),
			.op = TRIG_OP_EQUALS, .value = "train" } } };
static const struct trig_condition on_images[] = {
	{ .kind = TRIG_COND_FILTER, .source = "when event.data.dataset.name glob images*",
	  .u.filter = { .field = FIELD(seg_dsname, 2, "event.data.dataset.name"), .op = TRIG_OP_GLOB,
			.value = "images*" } } };
static const struct trig_condition on_tick[] = {
	{ .kind = TRIG_COND_FILTER, .source = "when event.data[\"valohai.execution-step\"] == tick",
	  .u.filter = { .field = FIELD(seg_step, 0, "event.data[\"valohai.execution-step\"]"),
			.op = TRIG_OP_EQUALS, .value = "tick" } } };
static const struct trig_condition once_an_hour[] = {
	{ .kind = TRIG_COND_RATE_LIMIT, .source = "rate limit 1 per 1h",
	  .u.rate_limit = { .max = 1, .per_ms = 3600000 } } };

enum { T_VALIDATE, T_PREP, T_PREP_OFF, T_TYPED, T_KICK, T_AGAIN, T_RATED, T_N };
static const struct trig_trigger triggers[] = {
	[T_VALIDATE] = { .name = "validate-after-train", .kind = TRIG_KIND_NOTIFICATION, .enabled = true,
			 .event = "execution_completed", .conditions = on_train, .nconditions = 1,
			 .actions = run_validate, .nactions = 1 },
	[T_PREP] = { .name = "prep-images", .kind = TRIG_KIND_NOTIFICATION, .enabled = true,
		     .event = "dataset_version_created", .conditions = on_images, .nconditions = 1,
		     .actions = run_prep, .nactions = 1 },
	[T_PREP_OFF] = { .name = "prep-off", .kind = TRIG_KIND_NOTIFICATION, .enabled = false,
			 .event = "dataset_version_created", .actions = run_prep, .nactions = 1 },
	[T_TYPED] = { .name = "typed", .kind = TRIG_KIND_NOTIFICATION, .enabled = true,
		      .event = "custom.kind-1", .actions = run_typed, .nactions = 1 },
	/* kick starts a tick; again re-triggers on every tick that completes. */
	[T_KICK] = { .name = "kick", .kind = TRIG_KIND_NOTIFICATION, .enabled = true, .event = "kick",
		     .actions = run_tick, .nactions = 1 },
	[T_AGAIN] = { .name = "again", .kind = TRIG_KIND_NOTIFICATION, .enabled = true,
		      .event = "execution_completed", .conditions = on_tick, .nconditions = 1,
		      .actions = run_tick, .nactions = 1 },
	[T_RATED] = { .name = "rated", .kind = TRIG_KIND_NOTIFICATION, .enabled = true, .event = "rated",
		      .conditions = once_an_hour, .nconditions = 1, .actions = run_typed, .nactions = 1 },
};
static const struct trig_project project = {
	.abi = TRIG_ABI, .name = "ev", .steps = steps, .nsteps = 4, .triggers = triggers,
	.ntriggers = T_N, .paths = paths, .npaths = 6,
};

struct env {
	struct trig_state *st;
	struct trig_journal *j;
	struct trig_audit *audit;
	struct trig_local *local;
	struct trig_json_query *q;
	struct trig_guard *g;
	struct trig_events *ev;
	struct trig_launcher *l;
	char runs[400];
};

static void env_open(struct env *e, bool attach)
{
	char err[512], sdir[300], execdir[400];
	memset(e, 0, sizeof(*e));
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	snprintf(execdir, sizeof(execdir), "%s/executions", sdir);
	e->st = trig_state_open(sdir, 0, err, sizeof(err));
	ck_assert_msg(e->st != NULL, "%s", err);
	e->j = trig_journal_open(e->st, err, sizeof(err));
	ck_assert_msg(e->j != NULL, "%s", err);
	e->audit = trig_audit_open(e->st, err, sizeof(err));
	ck_assert_msg(e->audit != NULL, "%s", err);
	struct trig_local_config lc = { .executions_dir = execdir, .workdir = dir, .max_parallel = 2 };
	e->local = trig_local_new(&lc, err, sizeof(err));
	ck_assert_msg(e->local != NULL, "%s", err);
	e->q = trig_json_query_new();
	for (uint32_t i = 0; i < project.npaths; i++)
		ck_assert_int_eq(trig_json_query_add(e->q, paths[i].segs, paths[i].nsegs), (int)i);
	e->g = trig_guard_new(&project, e->q, err, sizeof(err));
	ck_assert_msg(e->g != NULL, "%s", err);
	e->ev = trig_events_new(&project, e->q, e->st, e->audit);
	snprintf(e->runs, sizeof(e->runs), "%s/runs", sdir);
	mkdir(e->runs, 0700);
	struct trig_launcher_config cfg = {
		.project = &project, .journal = e->j, .audit = e->audit, .local = e->local,
		.paths = e->q, .runs_dir = e->runs, .on_event = trig_events_hook, .event_ctx = e->ev,
	};
	e->l = trig_launcher_new(&cfg);
	if (attach)
		trig_events_attach(e->ev, e->l, e->g, NULL);
}

/* Launches, and the launches their events cause, until none is left. */
static void settle(struct env *e)
{
	for (;;) {
		trig_launcher_wait(e->l);
		trig_events_drain(e->ev);
		uint64_t d0, d1;
		trig_events_quiet(e->ev, &d0);
		unsigned running = 0;
		for (uint32_t i = 0; i < project.ntriggers; i++)
			running += trig_launcher_running(e->l, &project.triggers[i]);
		if (!running && trig_events_quiet(e->ev, &d1) && d0 == d1)
			return;
	}
}

static void env_close(struct env *e)
{
	settle(e);
	trig_events_stop(e->ev);
	trig_local_stop(e->local, 0);
	trig_launcher_wait(e->l);
	trig_launcher_free(e->l);
	trig_events_free(e->ev);
	trig_guard_free(e->g);
	trig_json_query_free(e->q);
	trig_journal_close(e->j);
	trig_audit_close(e->audit);
	trig_state_close(e->st);
}

static char *slurp_path(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	buf_grow(&b, 0);
	if (len)
		*len = b.len;
	return buf_detach(&b);
}

/* What execution ID wrote to outputs/out. */
static char *output_of(const char *id)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/state/executions/%s/outputs/out", dir, id);
	return slurp_path(path, NULL);
}

static char *audit_text(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/state/audit.jsonl", dir);
	char *t = slurp_path(path, NULL);
	return t ? t : strdup("");
}

static unsigned count_of(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The id of execution I of launch N in a summary, via the audit record. */
static void launch_id_of(const char *summary, unsigned n, char *out, size_t outlen)
{
	struct buf path = BUF_INIT, v = BUF_INIT;
	buf_printf(&path, "launches[%u].launch", n);
	ck_assert_int_eq(value_at(summary, strlen(summary), path.data, &v), TRIG_JSON_STRING);
	snprintf(out, outlen, "%s", v.data);
	buf_release(&path);
	buf_release(&v);
}

/* The execution id the audit's "launched" record of LAUNCH names. */
static void execution_of(const char *launch, char *out, size_t outlen)
{
	char *audit = audit_text();
	char *line = strstr(audit, launch);
	ck_assert_ptr_nonnull(line);
	char *id = strstr(line, "\"id\":\"e-");
	ck_assert_ptr_nonnull(id);
	id += 6;
	size_t n = strcspn(id, "\"");
	ck_assert_uint_lt(n, outlen);
	memcpy(out, id, n);
	out[n] = 0;
	free(audit);
}

/* Events that are not valid are refused whole: nothing launched, audited. */
START_TEST(post_invalid)
{
	struct env e;
	env_open(&e, true);
	static const struct { const char *type, *doc, *msg; } bad[] = {
		{ NULL, "{\"type\":", "not valid JSON" },
		{ NULL, "[1,2]", "not an object" },
		{ NULL, "\"dataset_version_created\"", "not an object" },
		{ NULL, "{}", "has no \"type\"" },
		{ NULL, "{\"type\":7}", "not a string" },
		{ NULL, "{\"type\":null}", "not a string" },
		{ NULL, "{\"type\":\"Bad Type\"}", "not a valid type" },
		{ "kick", "{\"type\":\"dataset_version_created\"}", "differs from 'kick'" },
		{ "Kick", "{}", "not valid" },
		{ "kick", "{} {}", "not valid JSON" },
	};
	char err[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf sum = BUF_INIT;
		struct trig_events_stats st;
		int n = trig_events_post(e.ev, bad[i].type, bad[i].doc, strlen(bad[i].doc), 0, NULL, &sum,
					 &st, err, sizeof(err));
		ck_assert_msg(n == -1, "%s: %d", bad[i].doc, n);
		ck_assert_msg(strstr(err, bad[i].msg), "%s: '%s'", bad[i].doc, err);
		ck_assert_uint_eq(sum.len, 0);
		ck_assert_uint_eq(st.launched + st.matched, 0);
		buf_release(&sum);
	}
	/* Larger than 1 MiB, even if valid. */
	size_t big = TRIG_EVENTS_MAX_BODY + 1;
	char *doc = malloc(big);
	ck_assert_ptr_nonnull(doc);
	memset(doc, ' ', big);
	doc[0] = '{';
	doc[big - 1] = '}';
	ck_assert_int_eq(trig_events_post(e.ev, "kick", doc, big, 0, NULL, NULL, NULL, err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "1 MiB"));
	free(doc);
	env_close(&e);
	char *audit = audit_text();
	ck_assert_str_eq(audit, "");
	free(audit);
}
END_TEST

/* The real notification: filter on the dataset's name, the version's URI
 * into the step; the disabled trigger audited as such. */
START_TEST(post_dataset_version_created)
{
	struct env e;
	env_open(&e, true);
	size_t len;
	char *doc = slurp_path(unit_shared("testdata/valohai/dataset_version_created.json"), &len);
	ck_assert_ptr_nonnull(doc);
	struct buf sum = BUF_INIT, v = BUF_INIT;
	struct trig_events_stats st;
	char err[256];
	int n = trig_events_post(e.ev, NULL, doc, len, 0, "r-test", &sum, &st, err, sizeof(err));
	ck_assert_msg(n == 1, "%d %s", n, err);
	ck_assert_uint_eq(st.matched, 2);
	ck_assert_uint_eq(st.launched, 1);
	ck_assert_uint_eq(st.disabled, 1);
	ck_assert_int_eq(trig_json_validate(sum.data, sum.len, NULL), 0);
	value_at(sum.data, sum.len, "type", &v);
	ck_assert_str_eq(v.data, "dataset_version_created");
	value_at(sum.data, sum.len, "launches[0].trigger", &v);
	ck_assert_str_eq(v.data, "prep-images");
	value_at(sum.data, sum.len, "not_matched[0].trigger", &v);
	ck_assert_str_eq(v.data, "prep-off");
	value_at(sum.data, sum.len, "not_matched[0].outcome", &v);
	ck_assert_str_eq(v.data, "disabled");
	char lid[64], xid[64];
	launch_id_of(sum.data, 0, lid, sizeof(lid));
	settle(&e);
	execution_of(lid, xid, sizeof(xid));
	char *out = output_of(xid);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "dataset://images/images-2026-11-26");
	free(out);

	/* Another dataset: not matched, the reason names the value seen. */
	static const char other[] = "{\"type\":\"dataset_version_created\",\"data\":{\"dataset\":"
				    "{\"name\":\"audio\"},\"version\":{\"uri\":\"dataset://audio/1\"}}}";
	buf_reset(&sum);
	n = trig_events_post(e.ev, "dataset_version_created", other, strlen(other), 0, NULL, &sum, &st,
			     err, sizeof(err));
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(st.not_matched, 1);
	value_at(sum.data, sum.len, "not_matched[0].outcome", &v);
	ck_assert_str_eq(v.data, "not-matched");
	value_at(sum.data, sum.len, "not_matched[0].reason", &v);
	ck_assert_ptr_nonnull(strstr(v.data, "audio"));
	env_close(&e);

	char *audit = audit_text();
	ck_assert_uint_eq(count_of(audit, "\"trigger\":\"prep-off\",\"kind\":\"event\",\"outcome\":\"disabled\""), 2);
	ck_assert_uint_eq(count_of(audit, "\"trigger\":\"prep-images\",\"kind\":\"event\",\"outcome\":\"launched\",\"request\":\"r-test\""), 1);
	ck_assert_uint_eq(count_of(audit, "\"trigger\":\"prep-images\",\"kind\":\"event\",\"outcome\":\"not-matched\""), 1);
	free(audit);
	free(doc);
	buf_release(&sum);
	buf_release(&v);
}
END_TEST

/* Training completes -> validation: the real execution_completed, read
 * through the bracketed and the escaped dotted keys. */
START_TEST(post_execution_completed)
{
	struct env e;
	env_open(&e, true);
	size_t len;
	char *doc = slurp_path(unit_shared("testdata/valohai/execution_completed.json"), &len);
	ck_assert_ptr_nonnull(doc);
	struct buf sum = BUF_INIT;
	struct trig_events_stats st;
	char err[256], lid[64], xid[64];
	int n = trig_events_post(e.ev, "execution_completed", doc, len, 0, NULL, &sum, &st, err,
				 sizeof(err));
	ck_assert_msg(n == 1, "%d %s %s", n, err, buf_cstr(&sum));
	ck_assert_uint_eq(st.matched, 2);       /* again's filter wants step tick */
	ck_assert_uint_eq(st.not_matched, 1);
	launch_id_of(sum.data, 0, lid, sizeof(lid));
	settle(&e);
	execution_of(lid, xid, sizeof(xid));
	char *out = output_of(xid);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "0191a2b3-0000-4000-8000-000000000020");
	free(out);
	env_close(&e);
	free(doc);
	buf_release(&sum);
}
END_TEST

/* A type from the caller goes into a document that has none, so event.type
 * reads it; whitespace and members are kept. */
START_TEST(type_from_caller)
{
	static const char *const docs[] = { "{}", " { \n } ", "{\"data\":{\"a\":[1,{}]}}" };
	for (size_t i = 0; i < 3; i++) {
		struct env e;
		env_open(&e, true);
		struct buf sum = BUF_INIT;
		char err[256], lid[64], xid[64];
		int n = trig_events_post(e.ev, "custom.kind-1", docs[i], strlen(docs[i]), 0, NULL, &sum,
					 NULL, err, sizeof(err));
		ck_assert_msg(n == 1, "%s: %d %s", docs[i], n, err);
		launch_id_of(sum.data, 0, lid, sizeof(lid));
		settle(&e);
		execution_of(lid, xid, sizeof(xid));
		char *out = output_of(xid);
		ck_assert_ptr_nonnull(out);
		ck_assert_str_eq(out, "custom.kind-1");
		free(out);
		/* The same type in the body and the request: fine. */
		static const char same[] = "{\"type\":\"custom.kind-1\"}";
		ck_assert_int_eq(trig_events_post(e.ev, "custom.kind-1", same, strlen(same), 0, NULL, NULL,
						  NULL, err, sizeof(err)), 1);
		env_close(&e);
		buf_release(&sum);
		remove_dir();
		make_dir();
	}
}
END_TEST

/* A trigger that re-triggers itself: kick launches tick (depth 1), each
 * tick's execution_completed launches the next, and the ninth launch is
 * refused, audited and reported; nothing is left running. */
START_TEST(depth_bound)
{
	struct env e;
	env_open(&e, true);
	char err[256];
	ck_assert_int_eq(trig_events_post(e.ev, "kick", "{}", 2, 0, NULL, NULL, NULL, err, sizeof(err)), 1);
	settle(&e);
	unsigned counts[4];
	trig_launcher_counts(e.l, counts);
	ck_assert_uint_eq(counts[TRIG_EXEC_COMPLETED], TRIG_EVENTS_MAX_DEPTH);
	env_close(&e);
	char *audit = audit_text();
	ck_assert_uint_eq(count_of(audit, "\"trigger\":\"kick\",\"kind\":\"event\",\"outcome\":\"launched\""), 1);
	ck_assert_uint_eq(count_of(audit, "\"trigger\":\"again\",\"kind\":\"event\",\"outcome\":\"launched\""),
			  TRIG_EVENTS_MAX_DEPTH - 1);
	ck_assert_uint_eq(count_of(audit, "\"trigger\":\"again\",\"kind\":\"event\",\"outcome\":\"error\","
				   "\"reason\":\"event chain deeper than 8 launches: a trigger may "
				   "re-trigger itself\""), 1);
	free(audit);
	/* Each tick's execution saw the trigger that launched it. */
	char path[512];
	snprintf(path, sizeof(path), "%s/state/executions", dir);
	unsigned kick = 0, again = 0;
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd, "cat %s/*/outputs/out 2>/dev/null; echo", path);
	FILE *p = popen(cmd.data, "r");
	char all[4096];
	size_t n = fread(all, 1, sizeof(all) - 1, p);
	all[n] = 0;
	pclose(p);
	buf_release(&cmd);
	/* kick's tick read event.data["trig.trigger"] of an outside event:
	 * nothing; every other tick read "kick" or "again". */
	kick = count_of(all, "kick");
	again = count_of(all, "again");
	ck_assert_uint_eq(kick, 1);
	ck_assert_uint_eq(again, TRIG_EVENTS_MAX_DEPTH - 2);
}
END_TEST

/* Depth given directly: 7 launches (at depth 8), 8 does not; a refused
 * launch gives its rate budget back. */
START_TEST(depth_direct_and_rate_budget)
{
	struct env e;
	env_open(&e, true);
	char err[256];
	struct buf sum = BUF_INIT, v = BUF_INIT;
	struct trig_events_stats st;
	int n = trig_events_post(e.ev, "rated", "{}", 2, TRIG_EVENTS_MAX_DEPTH, NULL, &sum, &st, err,
				 sizeof(err));
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(st.failed, 1);
	value_at(sum.data, sum.len, "errors[0].error", &v);
	ck_assert_str_eq(v.data, "event chain deeper than 8 launches: a trigger may re-trigger itself");
	ck_assert_int_eq(trig_events_post(e.ev, "rated", "{}", 2, TRIG_EVENTS_MAX_DEPTH - 1, NULL, NULL,
					  &st, err, sizeof(err)), 1);
	buf_reset(&sum);
	ck_assert_int_eq(trig_events_post(e.ev, "rated", "{}", 2, 0, NULL, &sum, &st, err, sizeof(err)), 0);
	value_at(sum.data, sum.len, "not_matched[0].outcome", &v);
	ck_assert_str_eq(v.data, "rate-limited");
	env_close(&e);
	buf_release(&sum);
	buf_release(&v);
}
END_TEST

/* The queue: events wait for attach; one past the bound is dropped, and
 * counted, not lost silently; then every queued one is dispatched. */
START_TEST(queue_bound)
{
	struct env e;
	env_open(&e, false);
	for (unsigned i = 0; i < TRIG_EVENTS_QUEUE_MAX; i++)
		trig_events_emit(e.ev, "nobody-waits", "{}", 2, 0);
	uint64_t posted, launches, dropped;
	trig_events_counts(e.ev, &posted, &launches, &dropped);
	ck_assert_uint_eq(dropped, 0);
	trig_events_emit(e.ev, "kick", "{}", 2, 0);
	trig_events_counts(e.ev, &posted, &launches, &dropped);
	ck_assert_uint_eq(dropped, 1);
	ck_assert_uint_eq(posted, 0);
	trig_events_attach(e.ev, e.l, e.g, NULL);
	trig_events_drain(e.ev);
	trig_events_counts(e.ev, &posted, &launches, &dropped);
	ck_assert_uint_eq(posted, TRIG_EVENTS_QUEUE_MAX);
	ck_assert_uint_eq(launches, 0);
	env_close(&e);
	/* The dropped kick was audited for its trigger. */
	char *audit = audit_text();
	ck_assert_uint_eq(count_of(audit, "\"trigger\":\"kick\",\"kind\":\"event\",\"outcome\":\"error\""), 1);
	ck_assert_ptr_nonnull(strstr(audit, "event queue is full"));
	free(audit);
}
END_TEST

/* Many threads post at once (run under ASan/TSan-free helgrind-free
 * conditions: the counts must add up). */
struct poster {
	struct trig_events *ev;
	unsigned launched;
};

static void *poster_main(void *arg)
{
	struct poster *p = arg;
	char err[256];
	for (int i = 0; i < 20; i++) {
		int n = trig_events_post(p->ev, "custom.kind-1", "{}", 2, 0, NULL, NULL, NULL, err,
					 sizeof(err));
		ck_assert_int_eq(n, 1);
		p->launched += (unsigned)n;
	}
	return NULL;
}

START_TEST(concurrent_posts)
{
	struct env e;
	env_open(&e, true);
	pthread_t th[4];
	struct poster ps[4];
	for (int i = 0; i < 4; i++) {
		ps[i] = (struct poster){ e.ev, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, poster_main, &ps[i]), 0);
	}
	unsigned total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += ps[i].launched;
	}
	ck_assert_uint_eq(total, 80);
	settle(&e);
	unsigned counts[4];
	trig_launcher_counts(e.l, counts);
	ck_assert_uint_eq(counts[TRIG_EXEC_COMPLETED], 80);
	env_close(&e);
}
END_TEST

static Suite *events_suite(void)
{
	Suite *s = suite_create("events");
	TCase *b = tcase_create("build");
	tcase_add_test(b, build_execution_completed);
	tcase_add_test(b, build_status_words);
	tcase_add_test(b, build_pipelines);
	tcase_add_test(b, build_escapes);
	tcase_add_test(b, type_grammar);
	suite_add_tcase(s, b);
	TCase *d = tcase_create("dispatch");
	tcase_add_checked_fixture(d, make_dir, remove_dir);
	tcase_set_timeout(d, 120);
	tcase_add_test(d, post_invalid);
	tcase_add_test(d, post_dataset_version_created);
	tcase_add_test(d, post_execution_completed);
	tcase_add_test(d, type_from_caller);
	tcase_add_test(d, depth_bound);
	tcase_add_test(d, depth_direct_and_rate_budget);
	tcase_add_test(d, queue_bound);
	tcase_add_test(d, concurrent_posts);
	suite_add_tcase(s, d);
	return s;
}

UNIT_MAIN(events_suite)
