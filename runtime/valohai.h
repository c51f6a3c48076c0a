/*
 * valohai.h — the Valohai backend: the actions of SPEC.md §2.3 as REST
 * calls to a Valohai-compatible API (public API v0), over libcurl.
 *
 *     create execution    POST {url}/api/v0/executions/
 *     create pipeline     POST {url}/api/v0/pipelines/
 *     copy pipeline       GET  {url}/api/v0/pipelines/?project=...   (latest)
 *                         GET  {url}/api/v0/pipelines/{id}/, then POST a new one
 *     fetch repository    POST {url}/api/v0/projects/{project_id}/fetch/
 *     status              GET  {url}/api/v0/executions/{id}/  or  .../pipelines/{id}/
 *     payload input       POST {url}/api/v0/data/make_upload/, PUT (or form POST)
 *                         to the URL it answers, POST .../data/{id}/finalize/;
 *                         the input gets datum://{id}
 * docs/valohai-backend.md gives the request bodies and which shapes are
 * Valohai's documented ones and which were chosen here.
 *
 * Every call carries "Authorization: Token <token>" (never the upload to
 * the storage URL make_upload answers).  A network error, a 5xx or a 429
 * is tried again, up to max_attempts attempts in all, backoff_ms, then
 * doubling, capped at 8 s, plus up to a quarter more of random jitter; a
 * 429's Retry-After (seconds, at most 60) is honoured.  Any other 4xx ends
 * the call at once.  Every creating POST carries the caller's
 * Idempotency-Key, the same on every attempt (and, since the caller derives
 * it from the launch, after a restart), so that a retried call creates
 * nothing twice.  Plain http is accepted only to a loopback host
 * (localhost, 127.0.0.1, [::1]); otherwise https; redirects are never
 * followed.
 *
 * Errors name the call, then the status and the first 200 bytes of
 * Valohai's answer on one line: "valohai create execution: answered 400:
 * {"step": ["..."]}".  The token never appears in an error or a log line
 * (an answer that echoes it has it replaced by "***").
 *
 * Ownership: trig_valohai_new() copies the configuration (strings
 * included); requests are borrowed for the duration of a call.  Results go
 * into caller-provided structures; struct trig_valohai_status's metadata is
 * a buffer the caller releases with trig_valohai_status_release().
 *
 * Thread-safety: after trig_valohai_new() returns, the handle changes only
 * through trig_valohai_set_token() (under a lock) and trig_valohai_cancel();
 * every other function may be called from any number of threads at once
 * (each call uses its own libcurl easy handle).  trig_valohai_free() must
 * come after every call has returned.  Calls block (network, retries,
 * polling): run them on worker threads.
 */
#ifndef TRIG_VALOHAI_H
#define TRIG_VALOHAI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "local.h"
#include "trig.h"

struct trig_valohai_config {
	const char *url;            /* https://app.valohai.com (no trailing slash needed) */
	const char *token;          /* the API token (secret) */
	const char *project_id;
	unsigned max_attempts;      /* 0: 5 */
	int64_t timeout_ms;         /* per attempt; 0: 30 s */
	int64_t backoff_ms;         /* first retry delay; 0: 500 ms */
	int64_t connect_timeout_ms; /* added: 0: 10 s (never more than timeout_ms) */
};

struct trig_valohai;

/* A handle, or NULL with a message in err (a missing url, token or
 * project id; a url that is neither https nor http to a loopback host). */
struct trig_valohai *trig_valohai_new(const struct trig_valohai_config *cfg, char *err,
				      size_t errlen);
void trig_valohai_free(struct trig_valohai *v);         /* NULL: nothing */

/* Key rotation (SIGHUP): calls from now on use TOKEN; the old one is still
 * masked in messages.  -1 (nothing changes) for an empty or unsafe token. */
int trig_valohai_set_token(struct trig_valohai *v, const char *token, char *err, size_t errlen);

/* Shutting down: waits and backoff sleeps end at once (within 0.1 s) and
 * their calls fail with "the server is stopping"; a request in flight
 * finishes.  trig_valohai_cancelled() tells a caller why its call failed. */
void trig_valohai_cancel(struct trig_valohai *v);
bool trig_valohai_cancelled(struct trig_valohai *v);

/* What a creating call answers: the run's id and its web page ("" when
 * the API gave none). */
struct trig_valohai_run {
	char id[128];
	char url[512];
};

struct trig_valohai_execution {
	const struct trig_step *step;
	const char *commit;             /* NULL or "": left out (the API's default) */
	const char *title;              /* NULL: none */
	const struct trig_kv *params;   /* over the step's defaults; last wins */
	size_t nparams;
	const struct trig_kv *inputs;   /* name may repeat: one URL each */
	size_t ninputs;
	const struct trig_kv *env;      /* over the step's environment-variables */
	size_t nenv;
	const char *payload_input;      /* NULL: none; else the input that gets the payload */
	const void *payload;
	size_t payload_len;
};

/* Creates an execution (uploading the payload first when payload_input is
 * set; the upload's make_upload call carries "<idempotency_key>-payload").
 * 0 and *out filled, or -1 with a message in err. */
int trig_valohai_create_execution(struct trig_valohai *v, const struct trig_valohai_execution *rq,
				  const char *idempotency_key, struct trig_valohai_run *out,
				  char *err, size_t errlen);

struct trig_valohai_pipeline {
	const struct trig_pipeline *pipeline;
	const char *commit;             /* every node; NULL or "": left out */
	const char *title;              /* NULL: the pipeline's name */
	const struct trig_kv *params;   /* "NODE.NAME" */
	size_t nparams;
	const struct trig_kv *inputs;   /* "NODE.NAME"; may repeat */
	size_t ninputs;
	const struct trig_kv *env;      /* every node */
	size_t nenv;
	const char *payload_input;      /* "NODE.NAME" or NULL */
	const void *payload;
	size_t payload_len;
};

/* Creates a pipeline run: one execution node per node (a template with the
 * step's defaults and the request's values), the edges as Valohai's
 * source/target objects.  A key that names no node is an error. */
int trig_valohai_create_pipeline(struct trig_valohai *v, const struct trig_valohai_pipeline *rq,
				 const char *idempotency_key, struct trig_valohai_run *out,
				 char *err, size_t errlen);

/* Re-runs a pipeline: source_id, or (NULL) the latest pipeline of the
 * project whose title is pipeline_name; its nodes and edges are posted
 * again as a new pipeline with the "NODE.NAME" parameter overrides.
 * -1 when there is no such pipeline or a node named in params is not in it. */
int trig_valohai_copy_pipeline(struct trig_valohai *v, const char *pipeline_name,
			       const char *source_id, const struct trig_kv *params, size_t nparams,
			       const char *idempotency_key, struct trig_valohai_run *out,
			       char *err, size_t errlen);

/* Asks Valohai to fetch the project's repository.  -1 also when the
 * answer lists errors (the first one is the message). */
int trig_valohai_fetch_repository(struct trig_valohai *v, const char *idempotency_key,
				  char *err, size_t errlen);

struct trig_valohai_status {
	char status[32];        /* Valohai's word: queued, started, complete, error... */
	int exit_code;          /* -1 unknown */
	bool terminal;          /* complete, error, stopped, crashed */
	bool ok;                /* complete */
	struct buf metadata;    /* JSON object text or empty (executions) */
};

/* Frees out->metadata (the rest is plain data). */
void trig_valohai_status_release(struct trig_valohai_status *st);

/* One look at an execution's (pipeline false) or a pipeline's status.
 * Initialises *out entirely (release it afterwards, also after -1). */
int trig_valohai_status(struct trig_valohai *v, bool pipeline, const char *id,
			struct trig_valohai_status *out, char *err, size_t errlen);

/* Polls every poll_ms (0: 2 s) until a terminal status or timeout_ms
 * (0: forever).  0 when terminal (whether ok or not: look at out->ok); -1
 * on a failed call or a timeout ("timed out after N ms waiting for
 * execution 'ID' (status started)"), with *out holding the last status
 * seen.  Initialises *out entirely (release it afterwards). */
int trig_valohai_wait(struct trig_valohai *v, bool pipeline, const char *id, int64_t poll_ms,
		      int64_t timeout_ms, struct trig_valohai_status *out, char *err, size_t errlen);

/* ------------------------------------------------------------ for tests */

/* The answers of the API that the calls above read. */
enum trig_valohai_answer {
	TRIG_VALOHAI_ANSWER_EXECUTION,          /* create execution: id, urls.display */
	TRIG_VALOHAI_ANSWER_PIPELINE,           /* create (or copy) pipeline: the same */
	TRIG_VALOHAI_ANSWER_EXECUTION_STATUS,   /* status, exit_code, metadata */
	TRIG_VALOHAI_ANSWER_PIPELINE_STATUS,    /* status, exit_code */
	TRIG_VALOHAI_ANSWER_PIPELINE_LIST,      /* copy: the latest pipeline titled name */
	TRIG_VALOHAI_ANSWER_PIPELINE_SOURCE,    /* copy: GET pipelines/ID/, the new body */
	TRIG_VALOHAI_ANSWER_MAKE_UPLOAD,        /* id (or datum_id), url, fields */
	TRIG_VALOHAI_ANSWER_FETCH,              /* errors */
	TRIG_VALOHAI_ANSWER_KINDS               /* how many kinds there are */
};

/*
 * For tests and fuzzing: reads body[0..len), as a 2xx answer of the call
 * KIND, with the very code the calls use (the check that it is a JSON
 * object included), without a handle or any network, and appends what was
 * read to out, one "name: value" line each:
 *     EXECUTION, PIPELINE     "id: ID\nurl: URL\n"
 *     *_STATUS                "status: WORD\nexit_code: N\nterminal: true|false\n"
 *                             "ok: true|false\nmetadata: JSON\n" (metadata empty
 *                             when none; pipelines have none)
 *     PIPELINE_LIST           "id: ID\n" (the latest pipeline titled or named NAME)
 *     PIPELINE_SOURCE         "body: JSON\n", the body that would copy the run
 *                             (project "PROJECT"; title, when the source has
 *                             none, NAME or else "ID"), with PARAMS ("NODE.NAME")
 *     MAKE_UPLOAD             "id: ID\nurl: URL\nhttp: true|false\nmethod: PUT|POST\n",
 *                             with "fields", then "form:\n" and the multipart
 *                             parts before the file, boundary "BOUNDARY"
 *     FETCH                   nothing
 * name: the title sought (PIPELINE_LIST), the pipeline's name
 * (PIPELINE_SOURCE), the run's id in messages (*_STATUS); may be NULL.
 * params (PIPELINE_SOURCE only) are borrowed.  Returns 0 (err ""), or -1
 * with err filled as the real call would fail (out then unchanged).
 * Reentrant.
 */
int trig_valohai_parse_answer(enum trig_valohai_answer kind, const char *body, size_t len,
			      const char *name, const struct trig_kv *params, size_t nparams,
			      struct buf *out, char *err, size_t errlen);

#endif
