/*
 * pipeline.h — the local backend's pipeline runner: run-pipeline and
 * copy-pipeline (SPEC.md §2.3) over trig_local executions.
 *
 * A run (id "p-…", chosen by the caller) runs every node of a pipeline as
 * an execution of its step, id "<run id>.<node>", as a DAG: a node starts
 * once every node with an edge into it has COMPLETED; nodes that do not
 * wait on each other run in parallel (the backend's max_parallel bounds
 * them).  Edges, with valohai.yaml's semantics:
 *
 *     [prep.output.*.npz, train.input.dataset]
 *              every regular file under prep's outputs/ whose path there
 *              matches the glob (fnmatch(3), no flags: '*' crosses '/',
 *              as Python's fnmatch that Valohai uses) is copied into
 *              train's inputs/dataset/ under its base name, in path order;
 *              symbolic links are never followed
 *     [train.parameter.lr, eval.parameter.lr]
 *              eval gets train's final value of lr (train's execution.json)
 *     [train.metadata.acc, eval.parameter.min_acc]
 *              (an extension) eval gets the last value of key acc in the
 *              metadata train printed (trig_local_metadata())
 *
 * An input or parameter fed by an edge gets the edge's value, never the
 * step's default: naming it in the request as well is an error (the
 * request is refused, nothing runs).  A required input fed by output
 * edges that matched no file makes its node an ERROR.
 *
 * The request's parameters and inputs are keyed "NODE.NAME"; NODE must be
 * a node and NAME a parameter or input of its step, and the values are
 * checked against the parameter types, before anything runs: a bad request
 * is an ERROR result (with pipeline.json and status.json written) and no
 * node runs.  payload_input "NODE.NAME" hands the payload to that node.
 * The environment goes to every node.
 *
 * Failure is fail-fast (Argo's failFast, Valohai's default on-error): once
 * a node is FAILED or ERROR, or the run's timeout has passed, no other
 * node is handed to the backend (those not handed over are SKIPPED),
 * nodes it already has (running, or queued for a max_parallel slot)
 * finish, and the run is FAILED.  A run timeout gives each node started
 * the time left as its own timeout_ms; time a node spends queued for a
 * max_parallel slot is not counted against it, so a run can overrun by
 * that much.
 *
 * State, in <pipelines_dir>/<id>/ (0700 folders, 0600 files):
 *
 *     pipeline.json  written first (kept as is when a run is resumed): id,
 *                    pipeline, launch, trigger, title, commit, copied_from,
 *                    params {"NODE.NAME": value}, inputs {"NODE.NAME":
 *                    [values]} (as given: copy-pipeline re-runs them, so
 *                    the file is private to the server's user), names of
 *                    the environment variables, payload_input, timeout_ms,
 *                    nodes [{node, step, execution}], created
 *     status.json    written last, atomically: id, pipeline, status
 *                    (completed|failed|error), error, started, ended
 *                    (RFC 3339 UTC, ms), duration_ms, nodes [{node,
 *                    execution, status (+ skipped|pending), exit_code}]
 *
 * Resuming: a run whose folder has status.json is reported as recorded
 * and nothing runs.  A folder without one is an interrupted run: it starts
 * again and the backend reports the nodes that had finished from their
 * own status.json, so only unfinished nodes run again.  A run ended by
 * trig_pipelines_stop() is STOPPED and writes no status.json.
 *
 * Ownership: a request's strings and arrays are borrowed until
 * trig_pipeline_start() returns, except rq->pipeline and the steps it
 * points to, which must stay valid until the run's done callback has
 * returned (they are the project's constant tables).  Results passed to
 * callbacks are valid only during the call.
 *
 * Thread-safety: trig_pipeline_start() may be called from any thread at
 * once, also from a done or node callback.  Callbacks run on the
 * backend's worker threads (or on a short-lived thread of this module for
 * a result known at once: a bad request, a recorded run), never under a
 * lock of this module.  trig_pipeline_source() and trig_pipelines_list()
 * are reentrant and only read files.
 */
#ifndef TRIG_PIPELINE_H
#define TRIG_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "local.h"
#include "trig.h"

struct trig_pipeline_request {
	const char *id;                      /* run id, e.g. "p-…"; node executions "<id>.<node>" */
	const char *launch_id, *trigger;     /* recorded; may be NULL */
	const struct trig_pipeline *pipeline;
	const struct trig_kv *params;        /* "NODE.NAME" = value */
	size_t nparams;
	const struct trig_kv *inputs;        /* "NODE.NAME" = URL or path; may repeat */
	size_t ninputs;
	const struct trig_kv *env;           /* every node */
	size_t nenv;
	const char *payload_input;           /* "NODE.NAME" or NULL */
	const void *payload;
	size_t payload_len;
	const char *title, *commit, *copied_from;       /* recorded; may be NULL */
	int64_t timeout_ms;                  /* whole pipeline; 0: none */
};

/* Node states beyond enum trig_exec_status. */
enum {
	TRIG_NODE_SKIPPED = 16,         /* never ran: a node failed, or the run timed out */
	TRIG_NODE_PENDING,              /* not run (yet): the run was stopped */
};

struct trig_node_result {
	const char *node;
	const char *exec_id;
	int status;             /* enum trig_exec_status, TRIG_NODE_SKIPPED or _PENDING */
	int exit_code;          /* -1 when none */
};

struct trig_pipeline_result {
	const char *id;
	int status;             /* enum trig_exec_status of the whole run */
	int64_t started_ms, ended_ms;   /* unix ms; started: the first attempt's */
	const char *error;      /* FAILED, ERROR, STOPPED: why; NULL otherwise */
	const char *dir;        /* the run's folder (absolute) */
	bool recorded;          /* read back from an existing status.json */
	const struct trig_node_result *nodes;   /* in the pipeline's node order */
	size_t nnodes;
};

/* "completed", "failed", "error", "stopped", "skipped", "pending". */
const char *trig_node_status_name(int status);

typedef void trig_pipeline_done_fn(const struct trig_pipeline_result *r, void *ctx);

/* Node progress, for events: r NULL when the node's execution has started
 * (not called for a node read back from its status.json), else its end
 * (r->recorded for a node that had finished before a resume).  Called on
 * worker threads, before the dependants of the node start, and before the
 * run's done callback. */
typedef void trig_pipeline_node_fn(void *ctx, const char *pipeline_id, const char *node,
				   const struct trig_exec_result *r);

struct trig_pipelines_config {
	struct trig_local *local;       /* borrowed; outlives the runner */
	const char *pipelines_dir;      /* created (0700, with parents) if missing */
};

struct trig_pipelines;

/* NULL with a message in err on failure. */
struct trig_pipelines *trig_pipelines_new(const struct trig_pipelines_config *cfg, char *err,
					  size_t errlen);

/*
 * Starts a run and returns 0; `done` is called exactly once, later, when
 * the run has ended (node may be NULL).  -1 with errno EINVAL for a
 * malformed request (bad id, no pipeline, no done callback; an id whose
 * node execution ids would not be valid), EEXIST when a run with this id
 * is in progress, ECANCELED after trig_pipelines_stop(), or the errno of
 * a failure to create the run's folder or pipeline.json.
 */
int trig_pipeline_start(struct trig_pipelines *ps, const struct trig_pipeline_request *rq,
			trig_pipeline_done_fn *done, trig_pipeline_node_fn *node, void *ctx);

/*
 * From now on no node starts and no run is accepted; returns at once.
 * Shutting down: trig_pipelines_stop(ps), then trig_local_stop() (its
 * STOPPED results end the runs, reported STOPPED, no status.json), then
 * trig_pipelines_free(ps).
 */
void trig_pipelines_stop(struct trig_pipelines *ps);

/* Waits until every run has reported (its done callback has returned),
 * then frees ps.  NULL is accepted. */
void trig_pipelines_free(struct trig_pipelines *ps);

/* copy-pipeline: the request of a past run.  Every string is owned by the
 * structure; free with trig_pipeline_source_release(). */
struct trig_pipeline_source {
	char *id, *pipeline;
	char *title, *commit;           /* may be NULL */
	struct trig_kv *params;         /* "NODE.NAME" = value, as recorded */
	size_t nparams;
	struct trig_kv *inputs;
	size_t ninputs;
	int64_t created_ms;
};

/*
 * Finds the run ID_OR_NULL (which must be a run of PIPELINE_NAME), or,
 * when NULL, the latest run of PIPELINE_NAME by created time (whatever its
 * status, finished or not), and fills *out.  0, or -1 with errno ENOENT
 * (no such run, no run of that pipeline), EINVAL (a malformed id, or a run
 * of another pipeline) or an I/O errno, with a message in err.
 */
int trig_pipeline_source(const char *pipelines_dir, const char *pipeline_name,
			 const char *id_or_null, struct trig_pipeline_source *out, char *err,
			 size_t errlen);

void trig_pipeline_source_release(struct trig_pipeline_source *s);

/*
 * The `pipelines` CLI: one line per run, newest first (created time, then
 * id): ID, PIPELINE, STATUS ("running" without status.json: in progress or
 * interrupted), CREATED, DURATION, NODES (done/total, done = completed
 * nodes; "-" for a run in progress), under a header line; with json, one
 * object per line: {"id","pipeline","status","created","duration_ms",
 * "nodes_done","nodes_total","launch","trigger","error"} (null where
 * unknown).  A missing folder lists nothing.  0, or -1 with errno.
 */
int trig_pipelines_list(const char *pipelines_dir, bool json, FILE *out);

#endif
