/*
 * pipeline.c — the pipeline runner's scheduling overhead per node, in µs.
 *
 *     build/bench/pipeline [NODES] [REPEAT]      (defaults 100, 3)
 *
 * Runs, on a real local backend (runtime/local.h) in a temporary folder
 * ($TMPDIR, else /tmp), pipelines of NODES `true` steps:
 *
 *     chain     n0 -> n1 -> ... (every node waits for the one before)
 *     fan-out   n0 -> n1..n(N-1) (all wait for the first, then run at once)
 *
 * and, as baselines, NODES bare executions of the same step through
 * trig_local_submit(): one by one (each submitted when the previous one has
 * ended) for the chain, all submitted at once for the fan-out.  The
 * overhead per node is (pipeline time - baseline time) / NODES: what the
 * runner adds (pipeline.json and status.json, resolving edges, listing the
 * source's outputs, scheduling) on top of what the executions cost anyway.
 * The fan-out is also shown against the one-by-one baseline, as the task
 * asked.  Each figure is the best of REPEAT runs, as wall time and as this
 * process's CPU time (getrusage: the runner's and the backend's own work,
 * without the children and the waits for fsync, so much less noisy).  The edges are output
 * edges whose glob matches nothing, into optional inputs, so every node
 * pays for resolving them but no file is copied.  max_parallel is 8.  The
 * folder is removed at the end unless BENCH_KEEP is set.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pipeline.h"

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int left;
	int bad;
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CPU time (user + system) of this process, µs: the runner's own work,
 * without the children and without the waits for the disk. */
static int64_t cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static int64_t last_cpu;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void signal_one(struct waiter *w, bool ok)
{
	pthread_mutex_lock(&w->mu);
	w->left--;
	w->bad += !ok;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void wait_all(struct waiter *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->left > 0)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static void on_exec(const struct trig_exec_result *r, void *ctx)
{
	signal_one(ctx, r->status == TRIG_EXEC_COMPLETED);
}

static void on_pipeline(const struct trig_pipeline_result *r, void *ctx)
{
	if (r->status != TRIG_EXEC_COMPLETED)
		fprintf(stderr, "pipeline %s: %s: %s\n", r->id, trig_exec_status_name(r->status),
			r->error ? r->error : "");
	signal_one(ctx, r->status == TRIG_EXEC_COMPLETED);
}

static const struct trig_input in[] = { { "in", NULL, 0, true } };
static const struct trig_step step = { .name = "noop", .command = "true", .inputs = in,
				       .ninputs = 1 };
static unsigned seq;

/* n bare executions: one by one, or all at once.  µs, or -1. */
static int64_t bare(struct trig_local *l, int n, bool at_once)
{
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	int64_t t0 = now_us(), c0 = cpu_us();
	for (int i = 0; i < n; i++) {
		char id[64];
		snprintf(id, sizeof(id), "bare-%u-%d", seq, i);
		struct trig_exec_request rq = { .id = id, .step = &step };
		pthread_mutex_lock(&w.mu);
		w.left++;
		pthread_mutex_unlock(&w.mu);
		if (trig_local_submit(l, &rq, on_exec, &w) < 0) {
			perror("trig_local_submit");
			return -1;
		}
		if (!at_once)
			wait_all(&w);
	}
	wait_all(&w);
	seq++;
	last_cpu = cpu_us() - c0;
	return w.bad ? -1 : now_us() - t0;
}

static int64_t pipeline(struct trig_pipelines *ps, const struct trig_pipeline *pl)
{
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 1, 0 };
	char id[64];
	snprintf(id, sizeof(id), "p-%u", seq++);
	struct trig_pipeline_request rq = { .id = id, .pipeline = pl };
	int64_t t0 = now_us(), c0 = cpu_us();
	if (trig_pipeline_start(ps, &rq, on_pipeline, NULL, &w) < 0) {
		perror("trig_pipeline_start");
		return -1;
	}
	wait_all(&w);
	last_cpu = cpu_us() - c0;
	return w.bad ? -1 : now_us() - t0;
}

static int64_t best(int64_t a, int64_t b)
{
	if (a < 0 || b < 0)
		return -1;
	return a < b ? a : b;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	int repeat = argc > 2 ? atoi(argv[2]) : 3;
	if (n < 2 || n > 10000 || repeat < 1) {
		fprintf(stderr, "usage: %s [NODES (2..10000)] [REPEAT]\n", argv[0]);
		return 2;
	}
	trig_log_setup("bench", TRIG_LOG_WARN, false);
	const char *tmp = getenv("TMPDIR");
	char root[PATH_MAX], work[PATH_MAX + 8], execs[PATH_MAX + 16], pipes[PATH_MAX + 16];
	snprintf(root, sizeof(root), "%s/trig-bench-pipeline-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(work, sizeof(work), "%s/work", root);
	snprintf(execs, sizeof(execs), "%s/executions", root);
	snprintf(pipes, sizeof(pipes), "%s/pipelines", root);
	if (mkdir(work, 0700) < 0) {
		perror("mkdir");
		return 1;
	}
	char err[512];
	struct trig_local_config lc = { .executions_dir = execs, .workdir = work,
					.max_parallel = 8 };
	struct trig_local *l = trig_local_new(&lc, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "trig_local_new: %s\n", err);
		return 1;
	}
	struct trig_pipelines_config pc = { l, pipes };
	struct trig_pipelines *ps = trig_pipelines_new(&pc, err, sizeof(err));
	if (!ps) {
		fprintf(stderr, "trig_pipelines_new: %s\n", err);
		return 1;
	}

	struct trig_node *nodes = calloc((size_t)n, sizeof(*nodes));
	char (*names)[16] = calloc((size_t)n, sizeof(*names));
	struct trig_edge *chain = calloc((size_t)n, sizeof(*chain));
	struct trig_edge *fan = calloc((size_t)n, sizeof(*fan));
	if (!nodes || !names || !chain || !fan) {
		perror("calloc");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "n%d", i);
		nodes[i] = (struct trig_node){ names[i], &step };
		if (i) {
			chain[i - 1] = (struct trig_edge){ (uint32_t)i - 1, (uint32_t)i, "output",
							   "*.none", "input", "in" };
			fan[i - 1] = (struct trig_edge){ 0, (uint32_t)i, "output", "*.none",
							 "input", "in" };
		}
	}
	struct trig_pipeline pchain = { "chain", nodes, (uint32_t)n, chain, (uint32_t)n - 1 };
	struct trig_pipeline pfan = { "fan-out", nodes, (uint32_t)n, fan, (uint32_t)n - 1 };

	int64_t wall[4], cpu[4];
	for (int k = 0; k < 4; k++)
		wall[k] = cpu[k] = INT64_MAX;
	for (int r = 0; r < repeat; r++) {
		for (int k = 0; k < 4; k++) {
			int64_t t = k == 0 ? bare(l, n, false) : k == 1 ? pipeline(ps, &pchain)
				  : k == 2 ? bare(l, n, true) : pipeline(ps, &pfan);
			wall[k] = best(wall[k], t);
			cpu[k] = best(cpu[k], t < 0 ? -1 : last_cpu);
		}
	}
	static const char *const what[] = { "bare executions, one by one", "chain pipeline",
					    "bare executions, all at once", "fan-out pipeline" };
	int rc = 0;
	if (wall[0] < 0 || wall[1] < 0 || wall[2] < 0 || wall[3] < 0) {
		fprintf(stderr, "a run failed\n");
		rc = 1;
	} else {
		printf("nodes %d, best of %d, max_parallel 8, folder %s\n", n, repeat, root);
		printf("%-30s %10s %14s %14s\n", "case", "wall ms", "wall µs/node",
		       "CPU µs/node");
		for (int k = 0; k < 4; k++)
			printf("%-30s %10.1f %14.1f %14.1f\n", what[k], wall[k] / 1e3,
			       (double)wall[k] / n, (double)cpu[k] / n);
		printf("overhead per node (pipeline - bare)       wall µs    CPU µs\n");
		printf("  chain   - one by one               %12.1f %9.1f\n",
		       (double)(wall[1] - wall[0]) / n, (double)(cpu[1] - cpu[0]) / n);
		printf("  fan-out - one by one               %12.1f %9.1f\n",
		       (double)(wall[3] - wall[0]) / n, (double)(cpu[3] - cpu[0]) / n);
		printf("  fan-out - all at once              %12.1f %9.1f\n",
		       (double)(wall[3] - wall[2]) / n, (double)(cpu[3] - cpu[2]) / n);
	}
	trig_pipelines_stop(ps);
	trig_local_stop(l, 0);
	trig_pipelines_free(ps);
	if (!getenv("BENCH_KEEP"))
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(nodes);
	free(names);
	free(chain);
	free(fan);
	return rc;
}
