/*
 * test_pipeline.c — the local backend's pipeline runner (runtime/pipeline.c)
 * over a real trig_local running /bin/sh commands: dependency order,
 * parallel nodes, output→input copies by glob, parameter edges, fail-fast,
 * payload input, validation, timeouts, resuming interrupted and stopped
 * runs, recorded runs, copy-pipeline sources and the `pipelines` listing.
 *
 * Oracles: the steps themselves record what happened (nanosecond
 * timestamps from date(1), marker files, counters); Python's fnmatch
 * decides which outputs a glob matches (Valohai's own matcher); python3's
 * json module parses the --json listing.
 */
#include "unit.h"

#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ fixture */

static char root[PATH_MAX], workdir[PATH_MAX + 16], execs[PATH_MAX + 32], pipes[PATH_MAX + 32];
static struct trig_local *loc;
static struct trig_pipelines *ps;

static size_t backend_queue;    /* the local backend's max_queue; 0: its default */

static void open_backends(unsigned par)
{
	char err[512] = "";
	struct trig_local_config cfg = { 0 };
	cfg.executions_dir = execs;
	cfg.workdir = workdir;
	cfg.max_parallel = par;
	cfg.max_queue = backend_queue;
	cfg.kill_after_ms = 200;
	loc = trig_local_new(&cfg, err, sizeof(err));
	ck_assert_msg(loc != NULL, "trig_local_new: %s", err);
	struct trig_pipelines_config pc = { loc, pipes };
	ps = trig_pipelines_new(&pc, err, sizeof(err));
	ck_assert_msg(ps != NULL, "trig_pipelines_new: %s", err);
}

static void close_backends(void)
{
	trig_pipelines_stop(ps);
	trig_local_stop(loc, 0);
	trig_pipelines_free(ps);
	loc = NULL;
	ps = NULL;
}

static void setup(void)
{
	unit_temp_dir(root, sizeof(root), "pipeline");
	snprintf(workdir, sizeof(workdir), "%s/work", root);
	snprintf(execs, sizeof(execs), "%s/state/executions", root);
	snprintf(pipes, sizeof(pipes), "%s/state/pipelines", root);
	ck_assert_int_eq(mkdir(workdir, 0700), 0);
	open_backends(4);
}

static void teardown(void)
{
	if (ps)
		close_backends();
	unit_remove_tree(root);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(&b, tmp, n);
	fclose(f);
	buf_addc(&b, 0);
	return buf_detach(&b);
}

static char *work_file(const char *name)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	return slurp(path);
}

static char *exec_file(const char *id, const char *name)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s/%s", execs, id, name);
	return slurp(path);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static bool exec_exists(const char *id)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", execs, id);
	return exists(path);
}

static bool run_file_exists(const char *id, const char *name)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s/%s", pipes, id, name);
	return exists(path);
}

/* Lines in a work file (a step appends one per run). */
static int count_lines(const char *name)
{
	char *s = work_file(name);
	int n = 0;
	for (char *p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

/* ------------------------------------------------------------ waiting */

struct outcome {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int ndone;                      /* done callbacks (must be 1) */
	int status;
	bool recorded;
	char error[512];
	char dir[PATH_MAX];
	int64_t started, ended;
	size_t nnodes;
	struct { char node[32], exec[160]; int status, exit_code; } nodes[16];
	/* node callbacks */
	int nstarted, nended, nrecorded;
	char order[512];                /* "+a -a +b ..." */
};

static void outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
}

static void on_done(const struct trig_pipeline_result *r, void *ctx)
{
	struct outcome *o = ctx;
	pthread_mutex_lock(&o->mu);
	o->ndone++;
	o->status = r->status;
	o->recorded = r->recorded;
	snprintf(o->error, sizeof(o->error), "%s", r->error ? r->error : "");
	snprintf(o->dir, sizeof(o->dir), "%s", r->dir ? r->dir : "");
	o->started = r->started_ms;
	o->ended = r->ended_ms;
	o->nnodes = r->nnodes;
	for (size_t i = 0; i < r->nnodes && i < 16; i++) {
		snprintf(o->nodes[i].node, sizeof(o->nodes[i].node), "%s", r->nodes[i].node);
		snprintf(o->nodes[i].exec, sizeof(o->nodes[i].exec), "%s", r->nodes[i].exec_id);
		o->nodes[i].status = r->nodes[i].status;
		o->nodes[i].exit_code = r->nodes[i].exit_code;
	}
	o->done = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

static void on_node(void *ctx, const char *pid, const char *node, const struct trig_exec_result *r)
{
	struct outcome *o = ctx;
	(void)pid;
	pthread_mutex_lock(&o->mu);
	ck_assert(!o->done);            /* node progress comes before the run's end */
	if (!r)
		o->nstarted++;
	else if (r->recorded)
		o->nrecorded++;
	else
		o->nended++;
	size_t l = strlen(o->order);
	snprintf(o->order + l, sizeof(o->order) - l, "%s%s ", r ? "-" : "+", node);
	pthread_mutex_unlock(&o->mu);
}

static void wait_outcome(struct outcome *o)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 60;
	pthread_mutex_lock(&o->mu);
	while (!o->done)
		ck_assert_int_eq(pthread_cond_timedwait(&o->cv, &o->mu, &ts), 0);
	pthread_mutex_unlock(&o->mu);
}

static void run(const struct trig_pipeline_request *rq, struct outcome *o)
{
	outcome_init(o);
	ck_assert_int_eq(trig_pipeline_start(ps, rq, on_done, on_node, o), 0);
	wait_outcome(o);
	usleep(20000);
	ck_assert_int_eq(o->ndone, 1);
}

static int node_status(const struct outcome *o, const char *node)
{
	for (size_t i = 0; i < o->nnodes; i++)
		if (!strcmp(o->nodes[i].node, node))
			return o->nodes[i].status;
	ck_abort_msg("no node '%s' in the result", node);
	return -1;
}

/* ------------------------------------------------------------ steps */

/* Appends "start NAME NS" and "end NAME NS" lines to order.txt around a
 * short sleep, and one line to runs.NAME. */
#define STAMP_STEP(var, nm)                                                          \
	static const struct trig_step var = {                                        \
		.name = nm,                                                          \
		.command = "echo start " nm " $(date +%s%N) >> order.txt\n"          \
			   "sleep 0.05\n"                                            \
			   "echo " nm " >> runs." nm "\n"                            \
			   "echo end " nm " $(date +%s%N) >> order.txt",             \
	}

STAMP_STEP(st_a, "a");
STAMP_STEP(st_b, "b");

static long long stamp(const char *text, const char *what, const char *node)
{
	char key[64];
	snprintf(key, sizeof(key), "%s %s ", what, node);
	const char *p = strstr(text, key);
	ck_assert_msg(p != NULL, "no '%s' in order.txt", key);
	return atoll(p + strlen(key));
}

/* ------------------------------------------------------------ tests */

START_TEST(edges_to_unknown_names_are_refused)
{
	static const struct trig_node nodes[] = { { "a", &st_a }, { "b", &st_b } };
	static const struct trig_edge edges[][1] = {
		{ { 0, 1, "output", "*", "input", "in" } },             /* b has no input 'in' */
		{ { 0, 1, "parameter", "x", "parameter", "y" } },       /* nor parameters */
		{ { 0, 1, "output", "*", "parameter", "y" } },
		{ { 0, 5, "output", "*", "input", "in" } },
	};
	static const char *const want[] = {
		"pipeline 'e': edge [a.output.*, b.input.in] is not valid",
		"pipeline 'e': edge [a.parameter.x, b.parameter.y] is not valid",
		"pipeline 'e': edge [a.output.*, b.parameter.y] is not valid",
		"pipeline 'e': edge 1 is malformed",
	};
	for (int i = 0; i < 4; i++) {
		struct trig_pipeline pl = { "e", nodes, 2, edges[i], 1 };
		char id[16];
		snprintf(id, sizeof(id), "p-e%d", i);
		struct trig_pipeline_request rq = { .id = id, .pipeline = &pl };
		struct outcome o;
		run(&rq, &o);
		ck_assert_int_eq(o.status, TRIG_EXEC_ERROR);
		ck_assert_str_eq(o.error, want[i]);
	}
	ck_assert(!exec_exists("p-e0.a"));
	ck_assert_int_eq(count_lines("runs.a"), 0);
}
END_TEST

/* Steps with an optional input 'in', for edges that only order nodes. */
#define ORDER_STEP(var, nm)                                                          \
	static const struct trig_input var##_in[] = { { "in", NULL, 0, true } };     \
	static const struct trig_step var = {                                        \
		.name = nm,                                                          \
		.command = "echo start " nm " $(date +%s%N) >> order.txt\n"          \
			   "sleep 0.05\n"                                            \
			   "echo " nm " >> runs." nm "\n"                            \
			   "echo end " nm " $(date +%s%N) >> order.txt",             \
		.inputs = var##_in, .ninputs = 1,                                    \
	}

ORDER_STEP(os_a, "a");
ORDER_STEP(os_b, "b");
ORDER_STEP(os_c, "c");
ORDER_STEP(os_d, "d");

static const struct trig_node chain_nodes[] = { { "a", &os_a }, { "b", &os_b }, { "c", &os_c } };
static const struct trig_edge chain_edges[] = {
	{ 0, 1, "output", "*", "input", "in" },
	{ 1, 2, "output", "*", "input", "in" },
};
static const struct trig_pipeline chain = { "chain", chain_nodes, 3, chain_edges, 2 };

START_TEST(dependency_order)
{
	static const struct trig_node nodes[] = {
		{ "d", &os_d }, { "b", &os_b }, { "c", &os_c }, { "a", &os_a },
	};
	static const struct trig_edge edges[] = {
		{ 3, 1, "output", "*", "input", "in" },
		{ 3, 2, "output", "*", "input", "in" },
		{ 1, 0, "output", "*", "input", "in" },
		{ 2, 0, "output", "*.x", "input", "in" },
		{ 2, 0, "output", "*.y", "input", "in" },   /* two edges, one dependency */
	};
	static const struct trig_pipeline pl = { "diamond", nodes, 4, edges, 5 };
	struct trig_pipeline_request rq = { .id = "p-1", .pipeline = &pl, .launch_id = "l-1",
					    .trigger = "nightly", .title = "t" };
	struct outcome o;
	run(&rq, &o);
	ck_assert_msg(o.status == TRIG_EXEC_COMPLETED, "status %d: %s", o.status, o.error);
	ck_assert(!o.recorded);
	ck_assert_int_eq(o.nnodes, 4);
	ck_assert_str_eq(o.nodes[0].node, "d");
	ck_assert_str_eq(o.nodes[0].exec, "p-1.d");
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(o.nodes[i].status, TRIG_EXEC_COMPLETED);
		ck_assert_int_eq(o.nodes[i].exit_code, 0);
	}
	ck_assert_int_eq(o.nstarted, 4);
	ck_assert_int_eq(o.nended, 4);
	char *t = work_file("order.txt");
	ck_assert_ptr_nonnull(t);
	ck_assert_int_gt(stamp(t, "start", "b"), stamp(t, "end", "a"));
	ck_assert_int_gt(stamp(t, "start", "c"), stamp(t, "end", "a"));
	ck_assert_int_gt(stamp(t, "start", "d"), stamp(t, "end", "b"));
	ck_assert_int_gt(stamp(t, "start", "d"), stamp(t, "end", "c"));
	free(t);
	/* node events: a's end comes before b's start */
	const char *ea = strstr(o.order, "-a "), *sb = strstr(o.order, "+b ");
	ck_assert(ea && sb && ea < sb);
	ck_assert(run_file_exists("p-1", "pipeline.json"));
	ck_assert(run_file_exists("p-1", "status.json"));
	char path[PATH_MAX * 2];
	struct stat st;
	snprintf(path, sizeof(path), "%s/p-1", pipes);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/p-1/status.json", pipes);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_ge(o.ended, o.started);
}
END_TEST

START_TEST(independent_nodes_run_in_parallel)
{
	/* each waits (at most 5 s) for the other's marker: both complete only
	 * if they run at the same time */
	static const struct trig_step x = {
		.name = "x",
		.command = "touch x.marker\n"
			   "i=0; while [ ! -e y.marker ]; do sleep 0.01; i=$((i+1)); "
			   "[ $i -lt 500 ] || exit 7; done",
	};
	static const struct trig_step y = {
		.name = "y",
		.command = "touch y.marker\n"
			   "i=0; while [ ! -e x.marker ]; do sleep 0.01; i=$((i+1)); "
			   "[ $i -lt 500 ] || exit 7; done",
	};
	static const struct trig_node nodes[] = { { "x", &x }, { "y", &y } };
	static const struct trig_pipeline pl = { "par", nodes, 2, NULL, 0 };
	struct trig_pipeline_request rq = { .id = "p-par", .pipeline = &pl };
	struct outcome o;
	run(&rq, &o);
	ck_assert_msg(o.status == TRIG_EXEC_COMPLETED, "status %d: %s", o.status, o.error);
}
END_TEST

START_TEST(parallelism_is_bounded_by_max_parallel)
{
	close_backends();
	open_backends(1);
	static const struct trig_step x = {
		.name = "x",
		.command = "touch x.marker\n"
			   "i=0; while [ ! -e y.marker ]; do sleep 0.01; i=$((i+1)); "
			   "[ $i -lt 30 ] || exit 7; done",
	};
	static const struct trig_step y = { .name = "y", .command = "touch y.marker" };
	static const struct trig_node nodes[] = { { "x", &x }, { "y", &y } };
	static const struct trig_pipeline pl = { "par", nodes, 2, NULL, 0 };
	struct trig_pipeline_request rq = { .id = "p-one", .pipeline = &pl };
	struct outcome o;
	run(&rq, &o);
	/* one slot: x waits in vain for y and fails; y, queued in the
	 * backend before x failed, runs after it */
	ck_assert_int_eq(o.status, TRIG_EXEC_FAILED);
	ck_assert_int_eq(node_status(&o, "x"), TRIG_EXEC_FAILED);
	ck_assert_int_eq(node_status(&o, "y"), TRIG_EXEC_COMPLETED);
	ck_assert_str_eq(o.error, "node 'x' failed with exit code 7");
}
END_TEST

START_TEST(a_full_queue_delays_nodes)
{
	/* One slot and a queue of one: of six nodes ready at once, most
	 * find the queue full; they wait for room and all run. */
	close_backends();
	backend_queue = 1;
	open_backends(1);
	backend_queue = 0;
	static const struct trig_step w = { .name = "w", .command = "sleep 0.05; echo $VH_EXECUTION_ID >> ran.txt" };
	static const struct trig_node nodes[] = { { "a", &w }, { "b", &w }, { "c", &w },
						  { "d", &w }, { "e", &w }, { "f", &w } };
	static const struct trig_pipeline pl = { "full", nodes, 6, NULL, 0 };
	struct trig_pipeline_request rq = { .id = "p-full", .pipeline = &pl };
	struct outcome o;
	run(&rq, &o);
	ck_assert_msg(o.status == TRIG_EXEC_COMPLETED, "status %d: %s", o.status,
		      o.error ? o.error : "");
	ck_assert_int_eq(count_lines("ran.txt"), 6);
}
END_TEST

/* Python's fnmatch (what Valohai matches edges with) over a list of
 * paths: the matching ones, sorted, one per line. */
static char *py_fnmatch(const char *glob, const char *const *paths, size_t n)
{
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd, "python3 -c 'import fnmatch,sys; g=sys.argv[1]; "
		   "print(\"\".join(p+chr(10) for p in sorted(sys.argv[2:]) "
		   "if fnmatch.fnmatchcase(p, g)), end=\"\")' '%s'", glob);
	for (size_t i = 0; i < n; i++)
		buf_printf(&cmd, " '%s'", paths[i]);
	FILE *p = popen(buf_cstr(&cmd), "r");
	ck_assert_ptr_nonnull(p);
	struct buf out = BUF_INIT;
	char tmp[1024];
	size_t k;
	while ((k = fread(tmp, 1, sizeof(tmp), p)) > 0)
		buf_add(&out, tmp, k);
	ck_assert_int_eq(pclose(p), 0);
	buf_release(&cmd);
	buf_addc(&out, 0);
	return buf_detach(&out);
}

START_TEST(outputs_go_to_inputs_by_glob)
{
	static const struct trig_step prep = {
		.name = "prep",
		.command = "cd \"$VH_OUTPUTS_DIR\"\n"
			   "printf 1 > a.npz; printf 2 > b.txt; printf 3 > model.npz.bak\n"
			   "mkdir sub; printf 4 > sub/c.npz; printf 5 > .hidden.npz\n"
			   "ln -s /etc/passwd link.npz",
	};
	static const char *const dflt[] = { "nonexistent-default.npz" };
	static const struct trig_input train_in[] = { { "dataset", dflt, 1, false } };
	static const struct trig_step train = {
		.name = "train",
		.command = "cd \"$VH_INPUTS_DIR/dataset\"\n"
			   "for f in $(ls -A | sort); do echo $f $(cat $f); done > \"$VH_OUTPUTS_DIR/seen\"",
		.inputs = train_in, .ninputs = 1,
	};
	static const struct trig_node nodes[] = { { "prep", &prep }, { "train", &train } };
	static const struct trig_edge edges[] = { { 0, 1, "output", "*.npz", "input", "dataset" } };
	static const struct trig_pipeline pl = { "glob", nodes, 2, edges, 1 };
	struct trig_pipeline_request rq = { .id = "p-glob", .pipeline = &pl };
	struct outcome o;
	run(&rq, &o);
	ck_assert_msg(o.status == TRIG_EXEC_COMPLETED, "status %d: %s", o.status, o.error);
	/* the oracle: which regular files Python's fnmatch matches */
	static const char *const files[] = { "a.npz", "b.txt", "model.npz.bak", "sub/c.npz",
					     ".hidden.npz" };
	char *want = py_fnmatch("*.npz", files, 5);
	/* base names and contents: a.npz 1, .hidden.npz 5, c.npz 4 */
	struct buf exp = BUF_INIT;
	const char *contents[] = { "1", "2", "3", "4", "5" };
	char *seen = exec_file("p-glob.train", "outputs/seen");
	ck_assert_ptr_nonnull(seen);
	int nmatch = 0;
	for (const char *p = want; *p; nmatch++) {
		const char *nl = strchr(p, '\n');
		for (int i = 0; i < 5; i++) {
			if (strlen(files[i]) == (size_t)(nl - p) && !memcmp(files[i], p, (size_t)(nl - p))) {
				const char *base = strrchr(files[i], '/');
				buf_printf(&exp, "%s %s\n", base ? base + 1 : files[i], contents[i]);
			}
		}
		p = nl + 1;
	}
	ck_assert_int_eq(nmatch, 3);
	/* ls -A | sort of the base names */
	char *lines[8];
	int nl = 0;
	char *dup = trig_xstrdup(buf_cstr(&exp));
	for (char *s = strtok(dup, "\n"); s; s = strtok(NULL, "\n"))
		lines[nl++] = s;
	for (int i = 0; i < nl; i++)
		for (int j = i + 1; j < nl; j++)
			if (strcmp(lines[i], lines[j]) > 0) {
				char *t = lines[i];
				lines[i] = lines[j];
				lines[j] = t;
			}
	struct buf sorted = BUF_INIT;
	for (int i = 0; i < nl; i++)
		buf_printf(&sorted, "%s\n", lines[i]);
	ck_assert_str_eq(seen, buf_cstr(&sorted));
	ck_assert_ptr_null(strstr(seen, "link.npz"));   /* a link is not followed */
	free(dup);
	buf_release(&sorted);
	buf_release(&exp);
	free(want);
	free(seen);
}
END_TEST

/* The shape of nightly-training in testdata/valohai/valohai.yaml, with
 * shell commands standing in for the Python scripts. */
START_TEST(nightly_training_shape)
{
	static const char *const url[] = { "https://example.com/mnist.npz" };
	static const struct trig_input pre_in[] = { { "dataset", url, 1, false } };
	static const struct trig_param pre_p[] = { { "normalize", TRIG_PARAM_FLAG, "true", NULL, false } };
	static const struct trig_step preprocess = {
		.name = "preprocess",
		.command = "echo {parameters} > \"$VH_OUTPUTS_DIR/mnist.npz\"\n"
			   "echo log > \"$VH_OUTPUTS_DIR/preprocess.log\"",
		.inputs = pre_in, .ninputs = 1, .params = pre_p, .nparams = 1,
	};
	static const struct trig_input train_in[] = { { "dataset", NULL, 0, false } };
	static const struct trig_param train_p[] = {
		{ "epochs", TRIG_PARAM_INTEGER, "5", NULL, false },
	};
	static const struct trig_step train = {
		.name = "train",
		.command = "cat \"$VH_INPUTS_DIR/dataset/mnist.npz\" > \"$VH_OUTPUTS_DIR/model-1.bin\"\n"
			   "echo {parameters} >> \"$VH_OUTPUTS_DIR/model-1.bin\"",
		.inputs = train_in, .ninputs = 1, .params = train_p, .nparams = 1,
	};
	static const struct trig_input eval_in[] = {
		{ "model", NULL, 0, false }, { "dataset", NULL, 0, false },
	};
	static const struct trig_step evaluate = {
		.name = "evaluate",
		.command = "cd \"$VH_INPUTS_DIR\"; ls -R . > \"$VH_OUTPUTS_DIR/tree\"; "
			   "cat model/model-1.bin > \"$VH_OUTPUTS_DIR/model\"",
		.inputs = eval_in, .ninputs = 2,
	};
	static const struct trig_node nodes[] = {
		{ "preprocess", &preprocess }, { "train", &train }, { "evaluate", &evaluate },
	};
	static const struct trig_edge edges[] = {
		{ 0, 1, "output", "*.npz", "input", "dataset" },
		{ 0, 2, "output", "*.npz", "input", "dataset" },
		{ 1, 2, "output", "model*", "input", "model" },
	};
	static const struct trig_pipeline pl = { "nightly-training", nodes, 3, edges, 3 };
	/* the dataset default is a URL that must not be fetched: a local file instead */
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/mnist.npz", workdir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("raw", f);
	fclose(f);
	static const struct trig_kv inputs[] = { { "preprocess.dataset", "mnist.npz" } };
	static const struct trig_kv params[] = { { "train.epochs", "7" },
						 { "preprocess.normalize", "false" } };
	struct trig_pipeline_request rq = { .id = "p-nightly", .pipeline = &pl,
					    .inputs = inputs, .ninputs = 1, .params = params,
					    .nparams = 2 };
	struct outcome o;
	run(&rq, &o);
	ck_assert_msg(o.status == TRIG_EXEC_COMPLETED, "status %d: %s", o.status, o.error);
	char *model = exec_file("p-nightly.evaluate", "outputs/model");
	ck_assert_str_eq(model, "\n--epochs=7\n");   /* normalize=false: left out */
	free(model);
	char *tree = exec_file("p-nightly.evaluate", "outputs/tree");
	ck_assert_str_eq(tree, ".:\ndataset\nmodel\n\n./dataset:\nmnist.npz\n\n./model:\nmodel-1.bin\n");
	free(tree);
}
END_TEST

START_TEST(required_edge_input_without_files_is_an_error)
{
	static const struct trig_step prep = { .name = "prep", .command = "true" };
	static const struct trig_input in[] = { { "dataset", NULL, 0, false } };
	static const struct trig_step train = {
		.name = "train", .command = "true", .inputs = in, .ninputs = 1,
	};
	static const struct trig_node nodes[] = { { "prep", &prep }, { "train", &train } };
	static const struct trig_edge edges[] = { { 0, 1, "output", "*.npz", "input", "dataset" } };
	static const struct trig_pipeline pl = { "noout", nodes, 2, edges, 1 };
	struct trig_pipeline_request rq = { .id = "p-noout", .pipeline = &pl };
	struct outcome o;
	run(&rq, &o);
	ck_assert_int_eq(o.status, TRIG_EXEC_FAILED);
	ck_assert_int_eq(node_status(&o, "prep"), TRIG_EXEC_COMPLETED);
	ck_assert_int_eq(node_status(&o, "train"), TRIG_EXEC_ERROR);
	ck_assert_ptr_nonnull(strstr(o.error, "dataset"));
}
END_TEST

START_TEST(parameter_edges)
{
	static const struct trig_param ap[] = { { "lr", TRIG_PARAM_FLOAT, "0.5", NULL, false } };
	static const struct trig_step a = {
		.name = "a", .command = "echo '{\"acc\": 0.9}'\necho '{\"acc\": 0.93}'",
		.params = ap, .nparams = 1,
	};
	static const struct trig_param bp[] = {
		{ "rate", TRIG_PARAM_FLOAT, NULL, NULL, false },
		{ "acc", TRIG_PARAM_STRING, NULL, NULL, false },
	};
	static const struct trig_step b = {
		.name = "b",
		.command = "echo {parameter:rate} {parameter:acc} > \"$VH_OUTPUTS_DIR/got\"",
		.params = bp, .nparams = 2,
	};
	static const struct trig_node nodes[] = { { "a", &a }, { "b", &b } };
	static const struct trig_edge edges[] = {
		{ 0, 1, "parameter", "lr", "parameter", "rate" },
		{ 0, 1, "metadata", "acc", "parameter", "acc" },
	};
	static const struct trig_pipeline pl = { "params", nodes, 2, edges, 2 };
	static const struct trig_kv params[] = { { "a.lr", "0.25" } };
	struct trig_pipeline_request rq = { .id = "p-par", .pipeline = &pl, .params = params,
					    .nparams = 1 };
	struct outcome o;
	run(&rq, &o);
	ck_assert_msg(o.status == TRIG_EXEC_COMPLETED, "status %d: %s", o.status, o.error);
	char *got = exec_file("p-par.b", "outputs/got");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "0.25 0.93\n");
	free(got);

	/* the default travels too */
	struct trig_pipeline_request rq2 = { .id = "p-par2", .pipeline = &pl };
	run(&rq2, &o);
	ck_assert_int_eq(o.status, TRIG_EXEC_COMPLETED);
	got = exec_file("p-par2.b", "outputs/got");
	ck_assert_str_eq(got, "0.5 0.93\n");
	free(got);
}
END_TEST

START_TEST(failure_skips_dependants_and_fails_the_run)
{
	static const struct trig_step bad = { .name = "bad", .command = "exit 3" };
	static const struct trig_step slow = {
		.name = "slow", .command = "sleep 0.3; echo slow >> runs.slow",
	};
	static const struct trig_node nodes[] = {
		{ "bad", &bad }, { "after", &os_b }, { "slow", &slow }, { "last", &os_c },
	};
	static const struct trig_edge edges[] = {
		{ 0, 1, "output", "*", "input", "in" },
		{ 2, 3, "output", "*", "input", "in" },
	};
	static const struct trig_pipeline pl = { "fail", nodes, 4, edges, 2 };
	struct trig_pipeline_request rq = { .id = "p-fail", .pipeline = &pl };
	struct outcome o;
	run(&rq, &o);
	ck_assert_int_eq(o.status, TRIG_EXEC_FAILED);
	ck_assert_str_eq(o.error, "node 'bad' failed with exit code 3");
	ck_assert_int_eq(node_status(&o, "bad"), TRIG_EXEC_FAILED);
	ck_assert_int_eq(o.nodes[0].exit_code, 3);
	ck_assert_int_eq(node_status(&o, "after"), TRIG_NODE_SKIPPED);
	ck_assert_int_eq(o.nodes[1].exit_code, -1);
	/* the running node finished; what waited on it did not start */
	ck_assert_int_eq(node_status(&o, "slow"), TRIG_EXEC_COMPLETED);
	ck_assert_int_eq(count_lines("runs.slow"), 1);
	ck_assert_int_eq(node_status(&o, "last"), TRIG_NODE_SKIPPED);
	ck_assert(!exec_exists("p-fail.after"));
	ck_assert(!exec_exists("p-fail.last"));
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/p-fail/status.json", pipes);
	char *st = slurp(path);
	ck_assert_ptr_nonnull(strstr(st, "\"status\":\"failed\""));
	ck_assert_ptr_nonnull(strstr(st, "{\"node\":\"after\",\"execution\":\"p-fail.after\","
				     "\"status\":\"skipped\",\"exit_code\":null}"));
	free(st);
}
END_TEST

START_TEST(payload_input_on_a_node)
{
	static const struct trig_step a = { .name = "a", .command = "true" };
	static const struct trig_step b = {
		.name = "b",
		.command = "cat \"$VH_INPUTS_DIR/event/payload.json\" > \"$VH_OUTPUTS_DIR/got\"",
	};
	static const struct trig_node nodes[] = { { "a", &a }, { "b", &b } };
	static const struct trig_pipeline pl = { "payload", nodes, 2, NULL, 0 };
	static const char body[] = "{\"x\": \"$(touch pwned); `id`\"}";
	struct trig_pipeline_request rq = {
		.id = "p-pay", .pipeline = &pl, .payload_input = "b.event",
		.payload = body, .payload_len = sizeof(body) - 1,
	};
	struct outcome o;
	run(&rq, &o);
	ck_assert_msg(o.status == TRIG_EXEC_COMPLETED, "status %d: %s", o.status, o.error);
	char *got = exec_file("p-pay.b", "outputs/got");
	ck_assert_str_eq(got, body);
	free(got);
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/p-pay.a/inputs/event", execs);
	ck_assert(!exists(path));
	snprintf(path, sizeof(path), "%s/pwned", workdir);
	ck_assert(!exists(path));
}
END_TEST

START_TEST(bad_requests_run_nothing)
{
	static const struct trig_param p[] = { { "n", TRIG_PARAM_INTEGER, "1", NULL, false } };
	static const struct trig_input in[] = { { "data", NULL, 0, true } };
	static const struct trig_step s = {
		.name = "s", .command = "echo ran >> runs.s", .params = p, .nparams = 1,
		.inputs = in, .ninputs = 1,
	};
	static const struct trig_node nodes[] = { { "x", &s }, { "y", &s } };
	static const struct trig_edge edges[] = { { 0, 1, "output", "*", "input", "data" } };
	static const struct trig_pipeline pl = { "bad", nodes, 2, edges, 1 };
	static const struct {
		struct trig_kv kv;
		bool input;
		const char *payload;
		const char *want;
	} cases[] = {
		{ { "z.n", "1" }, false, NULL, "parameter 'z.n': no such node in pipeline 'bad'" },
		{ { "n", "1" }, false, NULL, "parameter 'n': no such node" },
		{ { "x.m", "1" }, false, NULL, "step 's' of node 'x' has no parameter 'm'" },
		{ { "y.n", "one" }, false, NULL, "node 'y': " },
		{ { "x.other", "f" }, true, NULL, "step 's' of node 'x' has no input 'other'" },
		{ { "y.data", "f" }, true, NULL, "input 'y.data' is fed by an edge" },
		{ { "x.n", "2" }, false, "q.data", "payload input 'q.data'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char id[32];
		snprintf(id, sizeof(id), "p-bad%zu", i);
		struct trig_pipeline_request rq = { .id = id, .pipeline = &pl };
		if (cases[i].input) {
			rq.inputs = &cases[i].kv;
			rq.ninputs = 1;
		} else {
			rq.params = &cases[i].kv;
			rq.nparams = 1;
		}
		rq.payload_input = cases[i].payload;
		struct outcome o;
		run(&rq, &o);
		ck_assert_int_eq(o.status, TRIG_EXEC_ERROR);
		ck_assert_msg(strstr(o.error, cases[i].want), "case %zu: '%s'", i, o.error);
		ck_assert_int_eq(o.nstarted + o.nended, 0);
		ck_assert(run_file_exists(id, "pipeline.json"));
		ck_assert(run_file_exists(id, "status.json"));
	}
	ck_assert_int_eq(count_lines("runs.s"), 0);
	ck_assert(!exists(execs) || !exec_exists("p-bad0.x"));

	/* malformed requests are refused at once */
	struct trig_pipeline_request rq = { .id = "bad id", .pipeline = &pl };
	struct outcome o;
	outcome_init(&o);
	errno = 0;
	ck_assert_int_eq(trig_pipeline_start(ps, &rq, on_done, NULL, &o), -1);
	ck_assert_int_eq(errno, EINVAL);
	rq.id = "p-ok";
	ck_assert_int_eq(trig_pipeline_start(ps, &rq, NULL, NULL, &o), -1);
	ck_assert_int_eq(errno, EINVAL);
	rq.pipeline = NULL;
	ck_assert_int_eq(trig_pipeline_start(ps, &rq, on_done, NULL, &o), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(cycles_are_refused)
{
	static const struct trig_node nodes[] = { { "a", &os_a }, { "b", &os_b } };
	static const struct trig_edge edges[] = {
		{ 0, 1, "output", "*", "input", "in" },
		{ 1, 0, "output", "*", "input", "in" },
	};
	static const struct trig_pipeline pl = { "cyc", nodes, 2, edges, 2 };
	struct trig_pipeline_request rq = { .id = "p-cyc", .pipeline = &pl };
	struct outcome o;
	run(&rq, &o);
	ck_assert_int_eq(o.status, TRIG_EXEC_ERROR);
	ck_assert_str_eq(o.error, "pipeline 'cyc': its edges make a cycle");
}
END_TEST

START_TEST(a_running_id_is_refused)
{
	static const struct trig_step s = { .name = "s", .command = "sleep 0.3" };
	static const struct trig_node nodes[] = { { "s", &s } };
	static const struct trig_pipeline pl = { "one", nodes, 1, NULL, 0 };
	struct trig_pipeline_request rq = { .id = "p-dup", .pipeline = &pl };
	struct outcome o, o2;
	outcome_init(&o);
	outcome_init(&o2);
	ck_assert_int_eq(trig_pipeline_start(ps, &rq, on_done, NULL, &o), 0);
	ck_assert_int_eq(trig_pipeline_start(ps, &rq, on_done, NULL, &o2), -1);
	ck_assert_int_eq(errno, EEXIST);
	wait_outcome(&o);
	ck_assert_int_eq(o.status, TRIG_EXEC_COMPLETED);
}
END_TEST

START_TEST(timeout_fails_the_run_and_skips_the_rest)
{
	static const struct trig_step slow = { .name = "slow", .command = "sleep 5" };
	static const struct trig_node nodes[] = { { "slow", &slow }, { "after", &os_b } };
	static const struct trig_edge edges[] = { { 0, 1, "output", "*", "input", "in" } };
	static const struct trig_pipeline pl = { "to", nodes, 2, edges, 1 };
	struct trig_pipeline_request rq = { .id = "p-to", .pipeline = &pl, .timeout_ms = 300 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct outcome o;
	run(&rq, &o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_int_eq(o.status, TRIG_EXEC_FAILED);
	ck_assert_str_eq(o.error, "timed out after 300ms");
	ck_assert_int_eq(node_status(&o, "slow"), TRIG_EXEC_FAILED);
	ck_assert_int_eq(node_status(&o, "after"), TRIG_NODE_SKIPPED);
	ck_assert_msg(secs < 3, "took %.2f s", secs);
}
END_TEST

static void remove_file(const char *dir, const char *id, const char *name)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, id, name);
	ck_assert_int_eq(unlink(path), 0);
}

START_TEST(interrupted_run_reruns_only_unfinished_nodes)
{
	struct trig_pipeline_request rq = { .id = "p-res", .pipeline = &chain };
	struct outcome o;
	run(&rq, &o);
	ck_assert_int_eq(o.status, TRIG_EXEC_COMPLETED);
	/* a crash after b ended, before c started: c has no folder, the run
	 * no status.json */
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/p-res.c", execs);
	unit_remove_tree(path);
	ck_assert(!exists(path));
	remove_file(pipes, "p-res", "status.json");
	close_backends();
	open_backends(4);
	run(&rq, &o);
	ck_assert_msg(o.status == TRIG_EXEC_COMPLETED, "status %d: %s", o.status, o.error);
	ck_assert(!o.recorded);
	ck_assert_int_eq(count_lines("runs.a"), 1);
	ck_assert_int_eq(count_lines("runs.b"), 1);
	ck_assert_int_eq(count_lines("runs.c"), 2);
	ck_assert_int_eq(o.nrecorded, 2);
	ck_assert_int_eq(o.nended, 1);
	ck_assert(run_file_exists("p-res", "status.json"));
}
END_TEST

START_TEST(stopped_run_resumes)
{
	static const struct trig_input in[] = { { "in", NULL, 0, true } };
	static const struct trig_step slow = {
		.name = "slow", .command = "echo b >> runs.b\nsleep 30", .inputs = in, .ninputs = 1,
	};
	static const struct trig_step quick = {
		.name = "quick", .command = "echo b >> runs.b", .inputs = in, .ninputs = 1,
	};
	static const struct trig_node nodes[] = { { "a", &os_a }, { "b", &slow }, { "c", &os_c } };
	static const struct trig_node nodes2[] = { { "a", &os_a }, { "b", &quick }, { "c", &os_c } };
	static const struct trig_pipeline pl = { "stop", nodes, 3, chain_edges, 2 };
	static const struct trig_pipeline pl2 = { "stop", nodes2, 3, chain_edges, 2 };
	struct trig_pipeline_request rq = { .id = "p-stop", .pipeline = &pl };
	struct outcome o;
	outcome_init(&o);
	ck_assert_int_eq(trig_pipeline_start(ps, &rq, on_done, on_node, &o), 0);
	/* wait until b runs */
	for (int i = 0; i < 500 && count_lines("runs.b") < 1; i++)
		usleep(10000);
	ck_assert_int_eq(count_lines("runs.b"), 1);
	trig_pipelines_stop(ps);
	struct trig_pipeline_request rq_other = { .id = "p-other", .pipeline = &pl };
	ck_assert_int_eq(trig_pipeline_start(ps, &rq_other, on_done, NULL, &o), -1);
	ck_assert_int_eq(errno, ECANCELED);
	trig_local_stop(loc, 0);
	trig_pipelines_free(ps);
	ps = NULL;
	loc = NULL;
	ck_assert(o.done);
	ck_assert_msg(o.status == TRIG_EXEC_STOPPED, "status %d: %s", o.status, o.error);
	ck_assert_int_eq(node_status(&o, "a"), TRIG_EXEC_COMPLETED);
	ck_assert_int_eq(node_status(&o, "b"), TRIG_EXEC_STOPPED);
	ck_assert_int_eq(node_status(&o, "c"), TRIG_NODE_PENDING);
	ck_assert(!run_file_exists("p-stop", "status.json"));
	ck_assert(run_file_exists("p-stop", "pipeline.json"));

	open_backends(4);
	rq.pipeline = &pl2;
	run(&rq, &o);
	ck_assert_msg(o.status == TRIG_EXEC_COMPLETED, "status %d: %s", o.status, o.error);
	ck_assert_int_eq(count_lines("runs.a"), 1);
	ck_assert_int_eq(count_lines("runs.b"), 2);
	ck_assert_int_eq(count_lines("runs.c"), 1);
}
END_TEST

START_TEST(finished_run_is_reported_as_recorded)
{
	static const struct trig_step bad = { .name = "bad", .command = "echo x >> runs.bad; exit 2" };
	static const struct trig_node nodes[] = { { "a", &os_a }, { "bad", &bad } };
	static const struct trig_pipeline pl = { "rec", nodes, 2, NULL, 0 };
	struct trig_pipeline_request rq = { .id = "p-rec", .pipeline = &pl };
	struct outcome o, o2;
	run(&rq, &o);
	ck_assert_int_eq(o.status, TRIG_EXEC_FAILED);
	run(&rq, &o2);
	ck_assert(o2.recorded);
	ck_assert_int_eq(o2.status, TRIG_EXEC_FAILED);
	ck_assert_str_eq(o2.error, o.error);
	ck_assert_int_eq(o2.started, o.started);
	ck_assert_int_eq(o2.ended, o.ended);
	ck_assert_int_eq(o2.nnodes, 2);
	ck_assert_str_eq(o2.nodes[1].node, "bad");
	ck_assert_str_eq(o2.nodes[1].exec, "p-rec.bad");
	ck_assert_int_eq(o2.nodes[1].status, TRIG_EXEC_FAILED);
	ck_assert_int_eq(o2.nodes[1].exit_code, 2);
	ck_assert_int_eq(o2.nodes[0].status, o.nodes[0].status);
	ck_assert_int_eq(o2.nstarted + o2.nended + o2.nrecorded, 0);
	ck_assert_int_eq(count_lines("runs.a"), 1);
	ck_assert_int_eq(count_lines("runs.bad"), 1);
}
END_TEST

static const struct trig_step noop = { .name = "noop", .command = "true" };
static const struct trig_param np[] = { { "n", TRIG_PARAM_INTEGER, "1", NULL, false } };
static const struct trig_input ni[] = { { "data", NULL, 0, true } };
static const struct trig_step nstep = {
	.name = "nstep", .command = "true", .params = np, .nparams = 1, .inputs = ni, .ninputs = 1,
};
static const struct trig_node p_nodes[] = { { "x", &nstep } };
static const struct trig_pipeline pipe_p = { "pp", p_nodes, 1, NULL, 0 };
static const struct trig_node q_nodes[] = { { "x", &noop }, { "y", &noop } };
static const struct trig_pipeline pipe_q = { "qq", q_nodes, 2, NULL, 0 };

static void make_runs(void)
{
	/* p-1 and p-2 of pp, then p-3 of qq, in this order of creation */
	static const struct trig_kv params1[] = { { "x.n", "11" } };
	static const struct trig_kv params2[] = { { "x.n", "22" } };
	static const struct trig_kv inputs2[] = { { "x.data", "a.txt" }, { "x.data", "b.txt" } };
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/a.txt", workdir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("a", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/b.txt", workdir);
	f = fopen(path, "w");
	fputs("b", f);
	fclose(f);
	struct outcome o;
	struct trig_pipeline_request r1 = { .id = "p-1", .pipeline = &pipe_p, .params = params1,
					    .nparams = 1, .title = "first", .commit = "abc" };
	run(&r1, &o);
	ck_assert_int_eq(o.status, TRIG_EXEC_COMPLETED);
	usleep(5000);
	struct trig_pipeline_request r2 = { .id = "p-2", .pipeline = &pipe_p, .params = params2,
					    .nparams = 1, .inputs = inputs2, .ninputs = 2,
					    .copied_from = "p-1" };
	run(&r2, &o);
	ck_assert_msg(o.status == TRIG_EXEC_COMPLETED, "%s", o.error);
	usleep(5000);
	struct trig_pipeline_request r3 = { .id = "p-3", .pipeline = &pipe_q };
	run(&r3, &o);
	ck_assert_int_eq(o.status, TRIG_EXEC_COMPLETED);
}

START_TEST(copy_source_latest_by_id_and_wrong_pipeline)
{
	make_runs();
	struct trig_pipeline_source s;
	char err[256] = "";
	ck_assert_int_eq(trig_pipeline_source(pipes, "pp", NULL, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.id, "p-2");
	ck_assert_str_eq(s.pipeline, "pp");
	ck_assert_ptr_null(s.title);
	ck_assert_int_eq(s.nparams, 1);
	ck_assert_str_eq(s.params[0].name, "x.n");
	ck_assert_str_eq(s.params[0].value, "22");
	ck_assert_int_eq(s.ninputs, 2);
	ck_assert_str_eq(s.inputs[0].name, "x.data");
	ck_assert_str_eq(s.inputs[0].value, "a.txt");
	ck_assert_str_eq(s.inputs[1].value, "b.txt");
	trig_pipeline_source_release(&s);

	ck_assert_int_eq(trig_pipeline_source(pipes, "pp", "p-1", &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.id, "p-1");
	ck_assert_str_eq(s.title, "first");
	ck_assert_str_eq(s.commit, "abc");
	ck_assert_str_eq(s.params[0].value, "11");
	ck_assert_int_eq(s.ninputs, 0);
	trig_pipeline_source_release(&s);

	ck_assert_int_eq(trig_pipeline_source(pipes, "qq", NULL, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.id, "p-3");
	trig_pipeline_source_release(&s);

	ck_assert_int_eq(trig_pipeline_source(pipes, "pp", "p-3", &s, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(err, "copy-pipeline: run 'p-3' is of pipeline 'qq', not 'pp'");
	ck_assert_int_eq(trig_pipeline_source(pipes, "pp", "p-9", &s, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(trig_pipeline_source(pipes, "pp", "../x", &s, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(trig_pipeline_source(pipes, "zz", NULL, &s, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(err, "copy-pipeline: no run of pipeline 'zz' to copy");

	/* a copy run with the source's request and an override */
	ck_assert_int_eq(trig_pipeline_source(pipes, "pp", "p-2", &s, err, sizeof(err)), 0);
	struct trig_kv params[4];
	size_t n = 0;
	for (size_t i = 0; i < s.nparams; i++)
		params[n++] = s.params[i];
	params[n++] = (struct trig_kv){ "x.n", "33" };
	struct trig_pipeline_request rq = { .id = "p-4", .pipeline = &pipe_p, .params = params,
					    .nparams = n, .inputs = s.inputs, .ninputs = s.ninputs,
					    .copied_from = s.id };
	struct outcome o;
	run(&rq, &o);
	trig_pipeline_source_release(&s);
	ck_assert_int_eq(o.status, TRIG_EXEC_COMPLETED);
	char *ej = exec_file("p-4.x", "execution.json");
	ck_assert_ptr_nonnull(strstr(ej, "\"parameters\":{\"n\":\"33\"}"));
	free(ej);
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/p-4/pipeline.json", pipes);
	char *pj = slurp(path);
	ck_assert_ptr_nonnull(strstr(pj, "\"copied_from\":\"p-2\""));
	free(pj);
}
END_TEST

START_TEST(copy_source_in_missing_folder)
{
	struct trig_pipeline_source s;
	char err[256], path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/none", root);
	ck_assert_int_eq(trig_pipeline_source(path, "pp", NULL, &s, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

static char *list_text(bool json)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/list.out", root);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(trig_pipelines_list(pipes, json, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return slurp(path);
}

START_TEST(listing_text_and_json)
{
	make_runs();
	/* a failed run, and an unfinished one */
	static const struct trig_step bad = { .name = "bad", .command = "exit 1" };
	static const struct trig_node nodes[] = { { "ok", &noop }, { "bad", &bad }, { "z", &noop } };
	static const struct trig_edge edges[] = { { 1, 2, "output", "*", "input", "in" } };
	static const struct trig_input zin[] = { { "in", NULL, 0, true } };
	static const struct trig_step zs = { .name = "z", .command = "true", .inputs = zin, .ninputs = 1 };
	static const struct trig_node nodes2[] = { { "ok", &noop }, { "bad", &bad }, { "z", &zs } };
	static const struct trig_pipeline pl = { "ff", nodes2, 3, edges, 1 };
	(void)nodes;
	usleep(5000);
	struct trig_pipeline_request rq = { .id = "p-5", .pipeline = &pl, .launch_id = "l-9",
					    .trigger = "nightly" };
	struct outcome o;
	run(&rq, &o);
	ck_assert_int_eq(o.status, TRIG_EXEC_FAILED);
	usleep(5000);
	rq.id = "p-6";
	run(&rq, &o);
	remove_file(pipes, "p-6", "status.json");

	char *text = list_text(false);
	/* header, then newest first */
	const char *want_order[] = { "ID ", "p-6 ", "p-5 ", "p-3 ", "p-2 ", "p-1 " };
	const char *line = text;
	for (int i = 0; i < 6; i++) {
		ck_assert_msg(!strncmp(line, want_order[i], strlen(want_order[i])), "line %d: %s", i, line);
		line = strchr(line, '\n');
		ck_assert_ptr_nonnull(line);
		line++;
	}
	ck_assert_str_eq(line, "");
	ck_assert_ptr_nonnull(strstr(text, "p-5 "));
	const char *l5 = strstr(text, "\np-5 ");
	ck_assert_ptr_nonnull(strstr(l5, "ff"));
	ck_assert(!strncmp(strstr(l5, "failed"), "failed", 6));
	const char *end5 = strchr(l5 + 1, '\n');
	ck_assert(!strncmp(end5 - 4, " 1/3", 4));
	const char *l6 = strstr(text, "\np-6 ");
	ck_assert_ptr_nonnull(strstr(l6, "running"));
	ck_assert(!strncmp(strchr(l6 + 1, '\n') - 4, " -/3", 4));
	free(text);

	char *json = list_text(true);
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/list.json", root);
	FILE *f = fopen(path, "w");
	fputs(json, f);
	fclose(f);
	free(json);
	/* python3 as the oracle: every line parses, and the fields hold */
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd,
		 "python3 -c '\n"
		 "import json, sys\n"
		 "rows = [json.loads(l) for l in open(sys.argv[1])]\n"
		 "assert [r[\"id\"] for r in rows] == [\"p-6\", \"p-5\", \"p-3\", \"p-2\", \"p-1\"], rows\n"
		 "r = {x[\"id\"]: x for x in rows}\n"
		 "assert r[\"p-5\"][\"status\"] == \"failed\" and r[\"p-5\"][\"nodes_done\"] == 1\n"
		 "assert r[\"p-5\"][\"nodes_total\"] == 3 and r[\"p-5\"][\"pipeline\"] == \"ff\"\n"
		 "assert r[\"p-5\"][\"launch\"] == \"l-9\" and r[\"p-5\"][\"trigger\"] == \"nightly\"\n"
		 "assert r[\"p-5\"][\"error\"] == \"node \\x27bad\\x27 failed with exit code 1\"\n"
		 "assert isinstance(r[\"p-5\"][\"duration_ms\"], int)\n"
		 "assert r[\"p-6\"][\"status\"] == \"running\" and r[\"p-6\"][\"nodes_done\"] is None\n"
		 "assert r[\"p-6\"][\"duration_ms\"] is None\n"
		 "assert r[\"p-3\"][\"status\"] == \"completed\" and r[\"p-3\"][\"nodes_done\"] == 2\n"
		 "assert r[\"p-1\"][\"launch\"] is None\n"
		 "assert all(x[\"created\"].endswith(\"Z\") for x in rows)\n"
		 "assert sorted(x[\"created\"] for x in rows) == [x[\"created\"] for x in rows][::-1]\n"
		 "' '%s'", path);
	ck_assert_int_eq(system(buf_cstr(&cmd)), 0);
	buf_release(&cmd);

	/* a missing folder lists nothing, without an error */
	snprintf(path, sizeof(path), "%s/none", root);
	f = tmpfile();
	ck_assert_int_eq(trig_pipelines_list(path, true, f), 0);
	ck_assert_int_eq(ftell(f), 0);
	fclose(f);
}
END_TEST

START_TEST(pipeline_json_records_the_request)
{
	static const struct trig_kv params[] = { { "x.n", "5" } };
	static const struct trig_kv inputs[] = { { "x.data", "a.txt" } };
	static const struct trig_kv env[] = { { "SECRET_TOKEN", "hunter2" } };
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/a.txt", workdir);
	FILE *f = fopen(path, "w");
	fputs("a", f);
	fclose(f);
	struct trig_pipeline_request rq = {
		.id = "p-j", .pipeline = &pipe_p, .params = params, .nparams = 1,
		.inputs = inputs, .ninputs = 1, .env = env, .nenv = 1, .launch_id = "l-1",
		.trigger = "tr", .title = "T", .commit = "c0ffee", .timeout_ms = 60000,
	};
	struct outcome o;
	run(&rq, &o);
	ck_assert_int_eq(o.status, TRIG_EXEC_COMPLETED);
	snprintf(path, sizeof(path), "%s/p-j/pipeline.json", pipes);
	struct buf cmd = BUF_INIT;
	buf_printf(&cmd,
		 "python3 -c '\n"
		 "import json, sys\n"
		 "p = json.load(open(sys.argv[1]))\n"
		 "assert p[\"id\"] == \"p-j\" and p[\"pipeline\"] == \"pp\" and p[\"launch\"] == \"l-1\"\n"
		 "assert p[\"trigger\"] == \"tr\" and p[\"title\"] == \"T\" and p[\"commit\"] == \"c0ffee\"\n"
		 "assert p[\"copied_from\"] is None and p[\"timeout_ms\"] == 60000\n"
		 "assert p[\"params\"] == {\"x.n\": \"5\"} and p[\"inputs\"] == {\"x.data\": [\"a.txt\"]}\n"
		 "assert p[\"environment\"] == [\"SECRET_TOKEN\"]\n"
		 "assert p[\"nodes\"] == [{\"node\": \"x\", \"step\": \"nstep\", \"execution\": \"p-j.x\"}]\n"
		 "assert p[\"created\"].endswith(\"Z\")\n"
		 "s = json.load(open(sys.argv[2]))\n"
		 "assert s[\"status\"] == \"completed\" and s[\"error\"] is None\n"
		 "assert s[\"nodes\"] == [{\"node\": \"x\", \"execution\": \"p-j.x\", "
		 "\"status\": \"completed\", \"exit_code\": 0}]\n"
		 "assert s[\"started\"] == p[\"created\"] and s[\"duration_ms\"] >= 0\n"
		 "' '%s' '%s/p-j/status.json'", path, pipes);
	ck_assert_int_eq(system(buf_cstr(&cmd)), 0);
	buf_release(&cmd);
	char *pj = slurp(path);
	ck_assert_ptr_null(strstr(pj, "hunter2"));
	free(pj);
}
END_TEST

/* Starts a new pipeline from inside a done callback (the launcher chains). */
struct chain_ctx {
	struct outcome first, second;
	const struct trig_pipeline *pl;
	int rc;
};

static void on_done_chain(const struct trig_pipeline_result *r, void *ctx)
{
	struct chain_ctx *c = ctx;
	struct trig_pipeline_request rq = { .id = "p-chain2", .pipeline = c->pl };
	c->rc = trig_pipeline_start(ps, &rq, on_done, NULL, &c->second);
	on_done(r, &c->first);
}

START_TEST(done_callback_may_start_a_run)
{
	static struct chain_ctx c;
	outcome_init(&c.first);
	outcome_init(&c.second);
	c.pl = &chain;
	struct trig_pipeline_request rq = { .id = "p-chain1", .pipeline = &chain };
	ck_assert_int_eq(trig_pipeline_start(ps, &rq, on_done_chain, NULL, &c), 0);
	wait_outcome(&c.first);
	ck_assert_int_eq(c.rc, 0);
	wait_outcome(&c.second);
	ck_assert_int_eq(c.second.status, TRIG_EXEC_COMPLETED);
	ck_assert_int_eq(count_lines("runs.c"), 2);
}
END_TEST

START_TEST(status_names)
{
	ck_assert_str_eq(trig_node_status_name(TRIG_EXEC_COMPLETED), "completed");
	ck_assert_str_eq(trig_node_status_name(TRIG_EXEC_STOPPED), "stopped");
	ck_assert_str_eq(trig_node_status_name(TRIG_NODE_SKIPPED), "skipped");
	ck_assert_str_eq(trig_node_status_name(TRIG_NODE_PENDING), "pending");
}
END_TEST

static Suite *pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("run");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, status_names);
	tcase_add_test(tc, edges_to_unknown_names_are_refused);
	tcase_add_test(tc, dependency_order);
	tcase_add_test(tc, independent_nodes_run_in_parallel);
	tcase_add_test(tc, parallelism_is_bounded_by_max_parallel);
	tcase_add_test(tc, a_full_queue_delays_nodes);
	tcase_add_test(tc, outputs_go_to_inputs_by_glob);
	tcase_add_test(tc, nightly_training_shape);
	tcase_add_test(tc, required_edge_input_without_files_is_an_error);
	tcase_add_test(tc, parameter_edges);
	tcase_add_test(tc, failure_skips_dependants_and_fails_the_run);
	tcase_add_test(tc, payload_input_on_a_node);
	tcase_add_test(tc, bad_requests_run_nothing);
	tcase_add_test(tc, cycles_are_refused);
	tcase_add_test(tc, a_running_id_is_refused);
	tcase_add_test(tc, timeout_fails_the_run_and_skips_the_rest);
	tcase_add_test(tc, interrupted_run_reruns_only_unfinished_nodes);
	tcase_add_test(tc, stopped_run_resumes);
	tcase_add_test(tc, finished_run_is_reported_as_recorded);
	tcase_add_test(tc, copy_source_latest_by_id_and_wrong_pipeline);
	tcase_add_test(tc, copy_source_in_missing_folder);
	tcase_add_test(tc, listing_text_and_json);
	tcase_add_test(tc, pipeline_json_records_the_request);
	tcase_add_test(tc, done_callback_may_start_a_run);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(pipeline_suite)
