/*
 * launch.h — accepting a launch and carrying out its actions.
 *
 * A launch is one firing of a trigger (a schedule tick, a manual `fire`, a
 * webhook request, an event).  trig_launch():
 *   1. gives it an id and renders every action's templates, so what runs is
 *      fixed at acceptance (parameters, inputs, environment, commit, title);
 *      an action that reads results of earlier ones (actions.NAME.FIELD)
 *      is rendered when the chain reaches it, from the request values its
 *      templates read, captured now;
 *   2. writes it to the journal, synced, before returning: from then on it
 *      survives a crash (journal.h) and may be acknowledged;
 *   3. writes the audit record (outcome "launched", each action's id);
 *   4. starts its actions in order, or queues the launch when its trigger
 *      already runs max-concurrent launches.  Local executions and
 *      pipelines are queued on the backend and the chain goes on;
 *      fetch-repository, http and Valohai API calls hold the chain until
 *      done; an action that reads results other than ids waits until every
 *      earlier action has ended.  An action that fails stops the chain.
 * The launcher emits the Valohai-format events of its local executions and
 * pipelines (on_event).  When every action of the launch has ended, the
 * journal gets its end record and the run-info is kept in runs_dir.  A
 * launch found unfinished in the journal at start-up is resumed with
 * trig_launcher_resume(): its executions run again unless their folders
 * say they finished or are still running (local.h), so nothing is lost and
 * nothing that completed runs twice.  Valohai API calls carry an
 * Idempotency-Key "<launch id>-<action index>", the same when resumed.
 *
 * Ownership: the launcher borrows everything in its config; the caller
 * frees the launcher (after trig_launcher_wait() or once the backend has
 * stopped) and then closes the journal, audit log and backend.
 * Thread-safety: every function may be called from any thread.
 */
#ifndef TRIG_LAUNCH_H
#define TRIG_LAUNCH_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "id.h"
#include "journal.h"
#include "json.h"
#include "local.h"
#include "render.h"
#include "trig.h"

/* An event the launcher emits (SPEC.md §2.4): TYPE ("execution_started",
 * ...), its Valohai-format JSON text, and the depth of the launch it comes
 * from (events.h bounds chains of launches caused by events).  Called on
 * backend or chain threads, never under a lock of the launcher. */
typedef void trig_launch_event_fn(void *ctx, const char *type, const char *json, size_t len,
				  unsigned depth);

struct trig_pipelines;
struct trig_valohai;

struct trig_launcher_config {
	const struct trig_project *project;
	struct trig_journal *journal;
	struct trig_audit *audit;               /* may be NULL */
	struct trig_local *local;
	const struct trig_json_query *paths;    /* the project's path table */
	bool verbose;                           /* log each execution's end */
	struct trig_pipelines *pipelines;       /* local backend's pipeline runner; may be NULL */
	const char *pipelines_dir;              /* its runs (copy-pipeline's sources); may be NULL */
	const char *runs_dir;                   /* run-info of ended launches; NULL: not kept */
	struct trig_valohai *valohai;           /* valohai backend; NULL for local */
	trig_launch_event_fn *on_event;         /* may be NULL */
	void *event_ctx;
};

struct trig_launcher;

struct trig_launcher *trig_launcher_new(const struct trig_launcher_config *cfg);
void trig_launcher_free(struct trig_launcher *l);

enum trig_launch_kind {
	TRIG_LAUNCH_SCHEDULE, TRIG_LAUNCH_FIRE, TRIG_LAUNCH_WEBHOOK, TRIG_LAUNCH_EVENT,
};

/* The word of a kind in the audit log: "schedule", "fire", ... */
const char *trig_launch_kind_name(enum trig_launch_kind k);

/* The word of an action: "run-execution", "http", ... */
const char *trig_action_name(enum trig_action_kind k);

struct trig_launch_req {
	const struct trig_trigger *trigger;
	enum trig_launch_kind kind;
	int64_t tick;                   /* schedule: unix seconds; else 0 */
	const char *payload;            /* JSON document, or NULL */
	size_t payload_len;
	int64_t started_us;             /* when handling began (monotonic µs), for duration_us */
	/* A webhook's values, already extracted: the payload's paths, the
	 * claims and the request fields (only these members are used). */
	const struct trig_render_ctx *values;
	const char *request_id;         /* for the audit record, or NULL */
	unsigned depth;                 /* an event's launch: the event's depth + 1; else 0 */
};

/* The result of trig_launch(). */
struct trig_launch_info {
	char id[TRIG_ID_MAX];
	uint32_t nexecutions;
	char execution_ids[16][TRIG_ID_MAX];    /* the first 16 */
	uint32_t nactions;
	char action_ids[16][TRIG_ID_MAX];       /* by action index: a local run's id, or "" */
};

/* A trig_render_ctx lookup over a struct trig_launch_info (CTX): renders
 * actions.NAME.id for a respond action; 1 for any other field. */
int trig_launch_info_lookup(void *ctx, const struct trig_field *f, struct buf *out);

/* Accepts a launch (steps 1-4 above).  0: journalled and started, or
 * queued behind its trigger's max-concurrent (*info filled); 1: refused
 * because the trigger is busy (max-concurrent with when-busy: skip; the
 * audit log has a "skipped" record, err says why); -1: not accepted
 * (errno EBUSY: the trigger's queue is full), nothing was journalled or
 * started, a message in err, and the audit log has an "error" record. */
int trig_launch(struct trig_launcher *l, const struct trig_launch_req *req,
		struct trig_launch_info *info, char *err, size_t errlen);

/* Resumes a launch read back from the journal (trig_journal_recover's
 * callback).  Returns 0, or -1 when the record cannot be resumed (its
 * trigger or step no longer exists...): it is then ended in the journal
 * with the reason, logged and audited as an error. */
int trig_launcher_resume(struct trig_launcher *l, const char *id, const char *begin);

/* Launches of TRIGGER not yet ended (for `overlap: skip`). */
unsigned trig_launcher_running(struct trig_launcher *l, const struct trig_trigger *t);

/* Blocks until no launch is unfinished. */
void trig_launcher_wait(struct trig_launcher *l);

/* Counts of executions that ended, by status (for `fire`'s exit code). */
void trig_launcher_counts(struct trig_launcher *l, unsigned counts[4]);

/* The journal the launcher writes to (for its statistics). */
struct trig_journal *trig_launcher_journal(struct trig_launcher *l);

/* Actions other than executions that failed or could not start (a
 * fetch-repository that failed, an unsupported action). */
unsigned trig_launcher_failed_actions(struct trig_launcher *l);

/* Executions and pipelines created on the Valohai backend (they run
 * there; the counts above are the local backend's). */
unsigned trig_launcher_submitted(struct trig_launcher *l);

/* Writes an audit record for a decision that launched nothing: outcome is
 * "disabled", "not-matched", "error", ...; condition and reason may be
 * NULL; tick 0 when not a schedule. */
void trig_launcher_audit(struct trig_launcher *l, const struct trig_trigger *t,
			 enum trig_launch_kind kind, const char *outcome, int64_t tick,
			 const char *condition, const char *reason, int64_t started_us);

/* The audit record of a webhook request that launched nothing. */
struct trig_audit_request {
	const char *outcome;            /* "rejected", "not-matched", ... */
	const char *request_id;
	const char *remote;             /* the peer's address */
	int status;                     /* the HTTP status answered */
	const char *condition, *reason; /* the failing condition; may be NULL */
	int64_t started_us;
};
void trig_launcher_audit_request(struct trig_launcher *l, const struct trig_trigger *t,
				 const struct trig_audit_request *a);

/* The run-info of SPEC.md §4 (Valohai's run-info API): the state of
 * launch LAUNCH_ID of trigger T as {"status": "pending|completed|error|
 * complete_with_error", "result": [{"action": ..., "execution_id": ...}]},
 * appended to OUT.  0, or -1 with errno ENOENT when no launch of T has
 * that id. */
int trig_launcher_run_info(struct trig_launcher *l, const struct trig_trigger *t,
			   const char *launch_id, struct buf *out);

/* Monotonic microseconds, for started_us. */
int64_t trig_monotonic_us(void);

#endif
