/*
 * test_launch.c — ids, template rendering, the JSON member iterator, and
 * launches end to end on a real state folder and local backend
 * (runtime/{id,render,json_iter,launch}.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "audit.h"
#include "buf.h"
#include "id.h"
#include "journal.h"
#include "json.h"
#include "json_iter.h"
#include "launch.h"
#include "local.h"
#include "log.h"
#include "render.h"
#include "state.h"

/* ------------------------------------------------------------ ids */

START_TEST(ids)
{
	enum { N = 20000 };
	char (*v)[TRIG_ID_MAX] = malloc(N * sizeof(*v));
	for (int i = 0; i < N; i++) {
		trig_id_new(v[i], 'l');
		ck_assert_uint_eq(strlen(v[i]), 28);
		ck_assert(trig_id_valid(v[i]));
		/* Time first: an id is never below one made before it in an
		 * earlier millisecond. */
		if (i && strncmp(v[i - 1] + 2, v[i] + 2, 10) != 0)
			ck_assert_int_lt(strcmp(v[i - 1], v[i]), 0);
	}
	for (int i = 1; i < N; i++)
		for (int j = i - 1; j >= 0 && j > i - 50; j--)
			ck_assert_str_ne(v[i], v[j]);
	free(v);
	ck_assert(!trig_id_valid("l-01M8D5J7XJFD8YX5949B8CAJA"));      /* 27 */
	ck_assert(!trig_id_valid("l-01M8D5J7XJFD8YX5949B8CAJAU"));     /* U is not Crockford */
	ck_assert(!trig_id_valid("L-01M8D5J7XJFD8YX5949B8CAJA0"));
	ck_assert(trig_id_valid("e-01M8D5J7XJFD8YX5949B8CAJA0"));
}
END_TEST

/* ------------------------------------------------------------ json_iter */

START_TEST(iter_members)
{
	const char *doc = "{\"a\": [1, \"]}\\\"\", {\"b\": null}], \"c\\\"\": {\"d\": true}, \"e\": -1.5e3}";
	struct trig_json_value root = { TRIG_JSON_OBJECT, doc, strlen(doc) }, k, v;
	ck_assert_int_eq(trig_json_validate(doc, strlen(doc), NULL), 0);
	struct trig_json_iter it;
	ck_assert_int_eq(trig_json_iter_begin(&it, &root), 0);
	ck_assert_int_eq(trig_json_iter_next(&it, &k, &v), 1);
	ck_assert_int_eq(v.type, TRIG_JSON_ARRAY);
	ck_assert_uint_eq(v.len, strlen("[1, \"]}\\\"\", {\"b\": null}]"));
	struct trig_json_iter in;
	struct trig_json_value e;
	ck_assert_int_eq(trig_json_iter_begin(&in, &v), 0);
	int types[3], n = 0;
	while (trig_json_iter_next(&in, NULL, &e) == 1)
		types[n++] = e.type;
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(types[0], TRIG_JSON_NUMBER);
	ck_assert_int_eq(types[1], TRIG_JSON_STRING);
	ck_assert_int_eq(types[2], TRIG_JSON_OBJECT);
	ck_assert_int_eq(trig_json_iter_next(&it, &k, &v), 1);
	ck_assert(trig_json_key_equal(&k, "c\"", 2));
	ck_assert_int_eq(v.type, TRIG_JSON_OBJECT);
	ck_assert_int_eq(trig_json_iter_next(&it, &k, &v), 1);
	ck_assert_int_eq(v.type, TRIG_JSON_NUMBER);
	ck_assert_uint_eq(v.len, 6);
	ck_assert_int_eq(trig_json_iter_next(&it, &k, &v), 0);

	const char *empty = "[ ]";
	struct trig_json_value ev = { TRIG_JSON_ARRAY, empty, 3 };
	ck_assert_int_eq(trig_json_iter_begin(&it, &ev), 0);
	ck_assert_int_eq(trig_json_iter_next(&it, NULL, &v), 0);
	struct trig_json_value s = { TRIG_JSON_STRING, "\"x\"", 3 };
	ck_assert_int_eq(trig_json_iter_begin(&it, &s), -1);
	const char *bad = "{\"a\" 1}";
	struct trig_json_value bv = { TRIG_JSON_OBJECT, bad, strlen(bad) };
	ck_assert_int_eq(trig_json_iter_begin(&it, &bv), 0);
	ck_assert_int_eq(trig_json_iter_next(&it, &k, &v), -1);
}
END_TEST

/* ------------------------------------------------------------ render */

static const struct trig_path_seg seg_user[] = { { "user", -1 }, { "name", -1 } };
static const struct trig_path_seg seg_n[] = { { "n", -1 } };

START_TEST(render_templates)
{
	const struct trig_piece pieces[] = {
		{ .kind = TRIG_PIECE_TEXT, .text = "hi ", .len = 3 },
		{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_PAYLOAD, .segs = seg_user,
						       .nsegs = 2, .path_id = 0 } },
		{ .kind = TRIG_PIECE_TEXT, .text = " #", .len = 2 },
		{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_PAYLOAD, .segs = seg_n,
						       .nsegs = 1, .path_id = 1 } },
		{ .kind = TRIG_PIECE_TEXT, .text = " ", .len = 1 },
		{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_TRIGGER } },
		{ .kind = TRIG_PIECE_TEXT, .text = "/", .len = 1 },
		{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_LAUNCH_ID } },
		{ .kind = TRIG_PIECE_TEXT, .text = " ", .len = 1 },
		{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_NOW } },
		{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_HEADER, .name = "X" } },
	};
	struct trig_template t = { "src", pieces, 11 };
	const char *doc = "{\"user\": {\"name\": \"A \\\"b\\\"/\\u00e9 &\"}, \"n\": 7}";
	struct trig_json_query *q = trig_json_query_new();
	ck_assert_int_eq(trig_json_query_add(q, seg_user, 2), 0);
	ck_assert_int_eq(trig_json_query_add(q, seg_n, 1), 1);
	struct trig_json_value slots[2];
	ck_assert_int_eq(trig_json_extract(q, doc, strlen(doc), slots, NULL), 0);
	struct trig_render_ctx rc = {
		.trigger = "nightly", .launch_id = "l-1", .now_ms = 1767225600004LL,
		.paths = slots, .npaths = 2,
	};
	struct buf b = BUF_INIT;
	trig_render(&t, &rc, TRIG_ESC_NONE, &b);
	/* No request: the header renders as nothing. */
	ck_assert_str_eq(b.data, "hi A \"b\"/\xc3\xa9 & #7 nightly/l-1 2026-01-01T00:00:00Z");
	buf_reset(&b);
	trig_render(&t, &rc, TRIG_ESC_JSON, &b);
	ck_assert_str_eq(b.data, "hi A \\\"b\\\"/\xc3\xa9 & #7 nightly/l-1 2026-01-01T00:00:00Z");
	buf_reset(&b);
	trig_render(&t, &rc, TRIG_ESC_URL, &b);
	ck_assert_str_eq(b.data, "hi A%20%22b%22%2F%C3%A9%20%26 #7 nightly/l-1 2026-01-01T00%3A00%3A00Z");
	/* An absent path renders as nothing. */
	const char *doc2 = "{\"n\": [1]}";
	ck_assert_int_eq(trig_json_extract(q, doc2, strlen(doc2), slots, NULL), 0);
	buf_reset(&b);
	trig_render(&t, &rc, TRIG_ESC_NONE, &b);
	ck_assert_str_eq(b.data, "hi  #[1] nightly/l-1 2026-01-01T00:00:00Z");
	buf_release(&b);
	trig_json_query_free(q);
}
END_TEST

/* ------------------------------------------------------------ launches */

static char dir[256];

static void make_dir(void)
{
	unit_temp_dir(dir, sizeof(dir), "launch");
	trig_log_setup("test", TRIG_LOG_ERROR, false);
}

static void remove_dir(void)
{
	unit_remove_tree(dir);
}

static const struct trig_param params[] = {
	{ "who", TRIG_PARAM_STRING, "nobody", NULL, false },
};
static const struct trig_step steps[] = {
	{ .name = "greet", .command = "printf '%s' {parameter:who} > \"$VH_OUTPUTS_DIR/out\"",
	  .params = params, .nparams = 1 },
};
static const struct trig_piece who_pieces[] = {
	{ .kind = TRIG_PIECE_TEXT, .text = "<", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_PAYLOAD, .text = "payload.user.name",
					       .segs = seg_user, .nsegs = 2, .path_id = 0 } },
	{ .kind = TRIG_PIECE_TEXT, .text = ">", .len = 1 },
};
static const struct trig_binding who[] = { { "who", { "<{{ payload.user.name }}>", who_pieces, 3 } } };
static const struct trig_action greet[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &steps[0], .parameters = who, .nparameters = 1 },
};
static const struct trig_action chain[] = {
	{ .kind = TRIG_ACTION_RUN_PIPELINE, .source = "run-pipeline p" },
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &steps[0] },
};
static const struct trig_schedule sched = { .spec = "every 1h", .every_ms = 3600000, .timezone = "UTC" };

/* Results: "score" prints Valohai metadata; "report" reads it, and the
 * score's status and id, through actions.score.* (deferred, waits). */
static const struct trig_step score_steps[] = {
	{ .name = "score", .command = "sleep 0.2; echo '{\"acc\": 0.5}'; echo 'not json';"
				      " echo '{\"acc\": 0.93, \"a.b\": {\"c\": 7}}'" },
	{ .name = "score", .command = "exit 3" },
};
static const struct trig_param what_param[] = { { "what", TRIG_PARAM_STRING, "", NULL, false } };
static const struct trig_step report_step = {
	.name = "report", .command = "printf '%s' {parameter:what} > \"$VH_OUTPUTS_DIR/out\"",
	.params = what_param, .nparams = 1,
};
static const struct trig_piece what_pieces[] = {
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_ACTION, .text = "actions.score.status",
					       .name = "status", .action = 0 } },
	{ .kind = TRIG_PIECE_TEXT, .text = " ", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_ACTION,
					       .text = "actions.score.metadata.acc",
					       .name = "metadata.acc", .action = 0 } },
	{ .kind = TRIG_PIECE_TEXT, .text = " ", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_ACTION,
					       .text = "actions.score.metadata[\"a.b\"].c",
					       .name = "metadata[\"a.b\"].c", .action = 0 } },
	{ .kind = TRIG_PIECE_TEXT, .text = " ", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_PAYLOAD, .text = "payload.user.name",
					       .segs = seg_user, .nsegs = 2, .path_id = 0 } },
	{ .kind = TRIG_PIECE_TEXT, .text = " ", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_ACTION, .text = "actions.score.id",
					       .name = "id", .action = 0 } },
};
static const struct trig_binding what[] = { { "what", { "…", what_pieces, 9 } } };
static const struct trig_action scored[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &score_steps[0], .name = "score" },
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &report_step, .name = "report",
	  .parameters = what, .nparameters = 1, .deferred = true, .waits = true },
};
static const struct trig_action scored_bad[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &score_steps[1], .name = "score" },
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &report_step, .name = "report",
	  .parameters = what, .nparameters = 1, .deferred = true, .waits = true },
};
static const struct trig_step slow_step = { .name = "slow", .command = "sleep 0.3" };
static const struct trig_action slow[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &slow_step, .name = "slow" },
};

static const struct trig_trigger triggers[] = {
	{ .name = "hello", .kind = TRIG_KIND_SCHEDULE, .enabled = true, .schedule = &sched,
	  .actions = greet, .nactions = 1 },
	{ .name = "chained", .kind = TRIG_KIND_SCHEDULE, .enabled = true, .schedule = &sched,
	  .actions = chain, .nactions = 2 },
	{ .name = "scored", .kind = TRIG_KIND_SCHEDULE, .enabled = true, .schedule = &sched,
	  .actions = scored, .nactions = 2 },
	{ .name = "one-at-a-time", .kind = TRIG_KIND_SCHEDULE, .enabled = true, .schedule = &sched,
	  .actions = slow, .nactions = 1, .max_concurrent = 1, .when_busy = TRIG_BUSY_QUEUE },
	{ .name = "skip-busy", .kind = TRIG_KIND_SCHEDULE, .enabled = true, .schedule = &sched,
	  .actions = slow, .nactions = 1, .max_concurrent = 1, .when_busy = TRIG_BUSY_SKIP },
	{ .name = "scored-bad", .kind = TRIG_KIND_SCHEDULE, .enabled = true, .schedule = &sched,
	  .actions = scored_bad, .nactions = 2 },
	{ .name = "slow", .kind = TRIG_KIND_SCHEDULE, .enabled = true, .schedule = &sched,
	  .actions = slow, .nactions = 1 },
};
static const struct trig_field paths[] = {
	{ .root = TRIG_ROOT_PAYLOAD, .text = "payload.user.name", .segs = seg_user, .nsegs = 2 },
};
static const struct trig_project project = {
	.abi = TRIG_ABI, .name = "t", .steps = steps, .nsteps = 1, .triggers = triggers,
	.ntriggers = 7, .paths = paths, .npaths = 1,
};

/* Events the launcher emitted: "type\n" each, in order. */
static pthread_mutex_t events_mu = PTHREAD_MUTEX_INITIALIZER;
static struct buf events = BUF_INIT;

static void on_event(void *ctx, const char *type, const char *json, size_t len, unsigned depth)
{
	(void)ctx;
	(void)depth;
	/* A Valohai-format notification of this project. */
	ck_assert_ptr_nonnull(memmem(json, len, "\"type\":\"", 8));
	pthread_mutex_lock(&events_mu);
	buf_printf(&events, "%s\n", type);
	pthread_mutex_unlock(&events_mu);
}

struct env {
	struct trig_state *st;
	struct trig_journal *j;
	struct trig_audit *audit;
	struct trig_local *local;
	struct trig_json_query *q;
	struct trig_launcher *l;
};

static size_t env_max_queue;   /* the local backend's; 0: its default */

static void env_open(struct env *e, unsigned flags)
{
	char err[512], sdir[300], execdir[400];
	memset(e, 0, sizeof(*e));
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	snprintf(execdir, sizeof(execdir), "%s/executions", sdir);
	e->st = trig_state_open(sdir, flags, err, sizeof(err));
	ck_assert_msg(e->st != NULL, "%s", err);
	e->j = trig_journal_open(e->st, err, sizeof(err));
	ck_assert_msg(e->j != NULL, "%s", err);
	e->audit = trig_audit_open(e->st, err, sizeof(err));
	ck_assert_msg(e->audit != NULL, "%s", err);
	struct trig_local_config lc = { .executions_dir = execdir, .workdir = dir, .max_parallel = 2,
					.max_queue = env_max_queue };
	e->local = trig_local_new(&lc, err, sizeof(err));
	ck_assert_msg(e->local != NULL, "%s", err);
	e->q = trig_json_query_new();
	trig_json_query_add(e->q, seg_user, 2);
	static char runs[400];
	snprintf(runs, sizeof(runs), "%s/runs", sdir);
	mkdir(runs, 0700);
	struct trig_launcher_config cfg = {
		.project = &project, .journal = e->j, .audit = e->audit, .local = e->local, .paths = e->q,
		.runs_dir = runs, .on_event = on_event,
	};
	buf_reset(&events);
	e->l = trig_launcher_new(&cfg);
}

static void env_close(struct env *e)
{
	trig_launcher_wait(e->l);
	trig_local_stop(e->local, 0);
	trig_launcher_free(e->l);
	trig_json_query_free(e->q);
	trig_journal_close(e->j);
	trig_audit_close(e->audit);
	trig_state_close(e->st);
}

static char *slurp(const char *fmt, const char *a)
{
	char path[512];
	snprintf(path, sizeof(path), fmt, dir, a);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char text[65536];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	return text;
}

static unsigned pending_count;
static char pending_begin[4096];

static void count_pending(const char *id, const char *begin, const char *update, void *ctx)
{
	(void)id;
	(void)update;
	(void)ctx;
	pending_count++;
	snprintf(pending_begin, sizeof(pending_begin), "%s", begin);
}

static unsigned recover_pending(void)
{
	char err[512], sdir[300];
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	struct trig_state *st = trig_state_open(sdir, TRIG_STATE_SERVER, err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
	pending_count = 0;
	ck_assert_int_eq(trig_journal_recover(st, count_pending, NULL, err, sizeof(err)), 0);
	trig_state_close(st);
	return pending_count;
}

START_TEST(launch_runs_and_ends)
{
	struct env e;
	env_open(&e, 0);
	/* Pretty-printed, as bodies often are: the journal's one-line record
	 * must hold it all the same. */
	const char *payload = "{\n  \"user\": {\"name\": \"Ada; $(touch PWNED) 'x'\"}\n}\n";
	struct trig_launch_req req = {
		.trigger = &triggers[0], .kind = TRIG_LAUNCH_FIRE, .payload = payload,
		.payload_len = strlen(payload),
	};
	struct trig_launch_info info;
	char err[256];
	ck_assert_int_eq(trig_launch(e.l, &req, &info, err, sizeof(err)), 0);
	ck_assert(trig_id_valid(info.id));
	ck_assert_uint_eq(info.nexecutions, 1);
	trig_launcher_wait(e.l);
	unsigned counts[4];
	trig_launcher_counts(e.l, counts);
	ck_assert_uint_eq(counts[TRIG_EXEC_COMPLETED], 1);
	/* The rendered value reached the command as one argument. */
	ck_assert_str_eq(slurp("%s/state/executions/%s/outputs/out", info.execution_ids[0]),
			 "<Ada; $(touch PWNED) 'x'>");
	char marker[400];
	snprintf(marker, sizeof(marker), "%s/PWNED", dir);
	ck_assert_int_ne(access(marker, F_OK), 0);
	/* The audit record. */
	const char *audit = slurp("%s/state/audit.jsonl%s", "");
	ck_assert_ptr_nonnull(strstr(audit, "\"trigger\":\"hello\",\"kind\":\"fire\",\"outcome\":\"launched\""));
	ck_assert_ptr_nonnull(strstr(audit, info.execution_ids[0]));
	env_close(&e);
	/* Ended in the journal: nothing to resume. */
	ck_assert_uint_eq(recover_pending(), 0);
}
END_TEST

START_TEST(launch_refuses_bad_payload)
{
	struct env e;
	env_open(&e, 0);
	struct trig_launch_req req = {
		.trigger = &triggers[0], .kind = TRIG_LAUNCH_FIRE, .payload = "{\"user\":", .payload_len = 8,
	};
	struct trig_launch_info info;
	char err[256];
	ck_assert_int_eq(trig_launch(e.l, &req, &info, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not valid JSON"));
	ck_assert_ptr_nonnull(strstr(slurp("%s/state/audit.jsonl%s", ""), "\"outcome\":\"error\""));
	env_close(&e);
	ck_assert_uint_eq(recover_pending(), 0);
	char execs[400];
	snprintf(execs, sizeof(execs), "rmdir '%s/state/executions' 2>/dev/null", dir);
	ck_assert_int_eq(system(execs), 0);      /* empty: nothing ran */
}
END_TEST

START_TEST(chain_stops_at_failed_action)
{
	struct env e;
	env_open(&e, 0);
	struct trig_launch_req req = { .trigger = &triggers[1], .kind = TRIG_LAUNCH_SCHEDULE, .tick = 1 };
	struct trig_launch_info info;
	char err[256];
	ck_assert_int_eq(trig_launch(e.l, &req, &info, err, sizeof(err)), 0);
	trig_launcher_wait(e.l);
	unsigned counts[4];
	trig_launcher_counts(e.l, counts);
	ck_assert_uint_eq(counts[0] + counts[1] + counts[2] + counts[3], 0);
	const char *audit = slurp("%s/state/audit.jsonl%s", "");
	const char *rp = strstr(audit, "\"action\":\"run-pipeline\"");
	ck_assert_ptr_nonnull(rp);
	ck_assert_ptr_nonnull(strstr(rp, "\"status\":\"error\",\"error\":\"pipelines cannot run here\""));
	ck_assert_ptr_nonnull(strstr(audit, "\"status\":\"skipped\""));
	ck_assert_ptr_nonnull(strstr(audit, "\"tick\":\"1970-01-01T00:00:01Z\""));
	env_close(&e);
	ck_assert_uint_eq(recover_pending(), 0);
}
END_TEST

START_TEST(resume_from_journal)
{
	/* A launch journalled by a process that died before running it. */
	char err[512], sdir[300];
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	struct trig_state *st = trig_state_open(sdir, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(st);
	struct trig_journal *j = trig_journal_open(st, err, sizeof(err));
	const char *rec = "{\"v\":1,\"launch\":\"l-01M8D5J7XJFD8YX5949B8CAJA0\",\"trigger\":\"hello\","
			  "\"kind\":\"schedule\",\"tick\":0,\"now\":0,\"actions\":[{\"action\":\"run-execution\","
			  "\"id\":\"e-01M8D5J7XJFD8YX5949B8CAJA1\",\"step\":\"greet\",\"parameters\":"
			  "{\"who\":\"from \\\"journal\\\"\"},\"inputs\":[],\"environment\":{},\"commit\":null,"
			  "\"title\":null,\"payload_input\":null}],\"payload\":null}";
	ck_assert_int_eq(trig_journal_begin(j, "l-01M8D5J7XJFD8YX5949B8CAJA0", rec, strlen(rec)), 0);
	const char *gone = "{\"v\":1,\"launch\":\"l-2\",\"trigger\":\"removed\",\"kind\":\"webhook\","
			   "\"actions\":[],\"payload\":null}";
	ck_assert_int_eq(trig_journal_begin(j, "l-2", gone, strlen(gone)), 0);
	const char *mangled = "{\"v\":1,\"launch\":\"l-3\",\"trigger\":\"hello\",\"kind\":\"fire\","
			      "\"actions\":[],\"payload\":\"eyJ4Ijox!Q==\"}";
	ck_assert_int_eq(trig_journal_begin(j, "l-3", mangled, strlen(mangled)), 0);
	trig_journal_close(j);
	trig_state_close(st);

	struct env e;
	env_open(&e, TRIG_STATE_SERVER);
	ck_assert_int_eq(trig_journal_recover(e.st, count_pending, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(pending_count, 3);
	ck_assert_int_eq(trig_launcher_resume(e.l, "l-01M8D5J7XJFD8YX5949B8CAJA0", rec), 0);
	ck_assert_int_eq(trig_launcher_resume(e.l, "l-2", gone), -1);
	ck_assert_int_eq(trig_launcher_resume(e.l, "l-3", mangled), -1);
	trig_launcher_wait(e.l);
	ck_assert_str_eq(slurp("%s/state/executions/%s/outputs/out", "e-01M8D5J7XJFD8YX5949B8CAJA1"),
			 "from \"journal\"");
	env_close(&e);
	/* All ended: the resumed one completed, the others with their errors. */
	ck_assert_uint_eq(recover_pending(), 0);
}
END_TEST

START_TEST(results_of_earlier_actions)
{
	struct env e;
	env_open(&e, 0);
	const char *payload = "{\"user\": {\"name\": \"Ada\"}}";
	struct trig_launch_req req = {
		.trigger = &triggers[2], .kind = TRIG_LAUNCH_FIRE, .payload = payload,
		.payload_len = strlen(payload),
	};
	struct trig_launch_info info;
	char err[256];
	ck_assert_int_eq(trig_launch(e.l, &req, &info, err, sizeof(err)), 0);
	ck_assert_uint_eq(info.nexecutions, 2);
	/* While it runs, run-info says pending. */
	struct buf ri = BUF_INIT;
	ck_assert_int_eq(trig_launcher_run_info(e.l, &triggers[2], info.id, &ri), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&ri), "\"status\":\"pending\""));
	buf_reset(&ri);
	/* Not another trigger's. */
	ck_assert_int_eq(trig_launcher_run_info(e.l, &triggers[0], info.id, &ri), -1);
	ck_assert_int_eq(errno, ENOENT);
	trig_launcher_wait(e.l);
	/* The report ran after the score ended, with its results; the
	 * payload value was captured at acceptance. */
	char want[256];
	snprintf(want, sizeof(want), "completed 0.93 7 Ada %s", info.execution_ids[0]);
	ck_assert_str_eq(slurp("%s/state/executions/%s/outputs/out", info.execution_ids[1]), want);
	/* After the end, run-info comes from the runs folder. */
	ck_assert_int_eq(trig_launcher_run_info(e.l, &triggers[2], info.id, &ri), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&ri), "\"status\":\"completed\""));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&ri), info.execution_ids[1]));
	buf_release(&ri);
	pthread_mutex_lock(&events_mu);
	ck_assert_str_eq(buf_cstr(&events), "execution_created\nexecution_started\nexecution_completed\n"
					    "execution_created\nexecution_started\nexecution_completed\n");
	pthread_mutex_unlock(&events_mu);
	env_close(&e);
	ck_assert_uint_eq(recover_pending(), 0);
}
END_TEST

START_TEST(failed_action_skips_its_readers)
{
	struct env e;
	env_open(&e, 0);
	struct trig_launch_req req = { .trigger = &triggers[5], .kind = TRIG_LAUNCH_FIRE };
	struct trig_launch_info info;
	char err[256];
	ck_assert_int_eq(trig_launch(e.l, &req, &info, err, sizeof(err)), 0);
	trig_launcher_wait(e.l);
	unsigned counts[4];
	trig_launcher_counts(e.l, counts);
	ck_assert_uint_eq(counts[TRIG_EXEC_FAILED], 1);
	ck_assert_uint_eq(counts[TRIG_EXEC_COMPLETED], 0);
	/* The report never ran. */
	ck_assert_ptr_null(slurp("%s/state/executions/%s/execution.json", info.execution_ids[1]));
	struct buf ri = BUF_INIT;
	ck_assert_int_eq(trig_launcher_run_info(e.l, &triggers[5], info.id, &ri), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&ri), "\"status\":\"error\""));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&ri), "\"status\":\"skipped\""));
	buf_release(&ri);
	env_close(&e);
	ck_assert_uint_eq(recover_pending(), 0);
}
END_TEST

START_TEST(max_concurrent_queues)
{
	struct env e;
	env_open(&e, 0);
	struct trig_launch_req req = { .trigger = &triggers[3], .kind = TRIG_LAUNCH_FIRE };
	struct trig_launch_info info[3];
	char err[256];
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(trig_launch(e.l, &req, &info[i], err, sizeof(err)), 0);
	ck_assert_uint_eq(trig_launcher_running(e.l, &triggers[3]), 3);
	trig_launcher_wait(e.l);
	/* One at a time: each started after the one before it ended. */
	for (int i = 1; i < 3; i++) {
		char *prev = strdup(slurp("%s/state/executions/%s/status.json", info[i - 1].execution_ids[0]));
		char *cur = slurp("%s/state/executions/%s/status.json", info[i].execution_ids[0]);
		ck_assert_ptr_nonnull(prev);
		ck_assert_ptr_nonnull(cur);
		const char *pe = strstr(prev, "\"ended\":\""), *cs = strstr(cur, "\"started\":\"");
		ck_assert_ptr_nonnull(pe);
		ck_assert_ptr_nonnull(cs);
		/* RFC 3339 UTC times of one format compare as strings. */
		ck_assert_int_le(strncmp(pe + 9, cs + 11, 24), 0);
		free(prev);
	}
	const char *audit = slurp("%s/state/audit.jsonl%s", "");
	ck_assert_ptr_nonnull(strstr(audit, "\"waiting\":true"));
	env_close(&e);
	ck_assert_uint_eq(recover_pending(), 0);
}
END_TEST

START_TEST(max_concurrent_skips)
{
	struct env e;
	env_open(&e, 0);
	struct trig_launch_req req = { .trigger = &triggers[4], .kind = TRIG_LAUNCH_FIRE };
	struct trig_launch_info info;
	char err[256];
	ck_assert_int_eq(trig_launch(e.l, &req, &info, err, sizeof(err)), 0);
	ck_assert_int_eq(trig_launch(e.l, &req, &info, err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "max-concurrent"));
	trig_launcher_wait(e.l);
	/* A slot is free again. */
	ck_assert_int_eq(trig_launch(e.l, &req, &info, err, sizeof(err)), 0);
	trig_launcher_wait(e.l);
	unsigned counts[4];
	trig_launcher_counts(e.l, counts);
	ck_assert_uint_eq(counts[TRIG_EXEC_COMPLETED], 2);
	ck_assert_ptr_nonnull(strstr(slurp("%s/state/audit.jsonl%s", ""), "\"outcome\":\"skipped\""));
	env_close(&e);
}
END_TEST

static struct env *race_env;
static int race_rc[8];

static void *race_launch(void *arg)
{
	int k = (int)(intptr_t)arg;
	struct trig_launch_req req = { .trigger = &triggers[4], .kind = TRIG_LAUNCH_FIRE };
	struct trig_launch_info info;
	char err[256];
	race_rc[k] = trig_launch(race_env->l, &req, &info, err, sizeof(err));
	return NULL;
}

START_TEST(max_concurrent_skips_at_the_same_moment)
{
	/* Eight launches at once of a trigger with max-concurrent 1 and
	 * when-busy skip: one runs, seven are skipped, none waits. */
	struct env e;
	env_open(&e, 0);
	race_env = &e;
	pthread_t th[8];
	for (int k = 0; k < 8; k++)
		ck_assert_int_eq(pthread_create(&th[k], NULL, race_launch, (void *)(intptr_t)k), 0);
	for (int k = 0; k < 8; k++)
		pthread_join(th[k], NULL);
	int ran = 0, skipped = 0;
	for (int k = 0; k < 8; k++) {
		ran += race_rc[k] == 0;
		skipped += race_rc[k] == 1;
	}
	ck_assert_int_eq(ran, 1);
	ck_assert_int_eq(skipped, 7);
	trig_launcher_wait(e.l);
	unsigned counts[4];
	trig_launcher_counts(e.l, counts);
	ck_assert_uint_eq(counts[TRIG_EXEC_COMPLETED], 1);
	env_close(&e);
}
END_TEST

START_TEST(full_queue_refuses_before_acknowledging)
{
	struct env e;
	env_max_queue = 1;
	env_open(&e, 0);
	env_max_queue = 0;
	/* Two run (0.3 s each), one waits: the queue is full, and the
	 * fourth launch is refused before it is journalled. */
	struct trig_launch_req req = { .trigger = &triggers[6], .kind = TRIG_LAUNCH_FIRE };
	struct trig_launch_info info;
	char err[256];
	int rc = 0, accepted = 0;
	for (int i = 0; i < 10 && rc == 0; i++)
		if ((rc = trig_launch(e.l, &req, &info, err, sizeof(err))) == 0)
			accepted++;
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(errno, EAGAIN);
	/* Up to 2 running and 1 waiting (fewer while the workers have not
	 * yet taken the first ones off the queue). */
	ck_assert_int_ge(accepted, 1);
	ck_assert_int_le(accepted, 3);
	ck_assert_ptr_nonnull(strstr(err, "queue is full"));
	trig_launcher_wait(e.l);
	env_close(&e);
	/* Every launch accepted ended; the refused one was never journalled. */
	ck_assert_uint_eq(recover_pending(), 0);
	ck_assert_ptr_nonnull(strstr(slurp("%s/state/audit.jsonl%s", ""), "the execution queue is full"));
}
END_TEST

static Suite *launch_suite(void)
{
	Suite *s = suite_create("launch");
	TCase *tc = tcase_create("pieces");
	tcase_add_test(tc, ids);
	tcase_add_test(tc, iter_members);
	tcase_add_test(tc, render_templates);
	suite_add_tcase(s, tc);
	tc = tcase_create("launches");
	tcase_add_checked_fixture(tc, make_dir, remove_dir);
	tcase_add_test(tc, launch_runs_and_ends);
	tcase_add_test(tc, launch_refuses_bad_payload);
	tcase_add_test(tc, chain_stops_at_failed_action);
	tcase_add_test(tc, resume_from_journal);
	tcase_add_test(tc, results_of_earlier_actions);
	tcase_add_test(tc, failed_action_skips_its_readers);
	tcase_add_test(tc, max_concurrent_queues);
	tcase_add_test(tc, max_concurrent_skips);
	tcase_add_test(tc, max_concurrent_skips_at_the_same_moment);
	tcase_add_test(tc, full_queue_refuses_before_acknowledging);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(launch_suite)
