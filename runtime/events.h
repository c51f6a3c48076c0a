/*
 * events.h — notification events (SPEC.md §2.4): the events the runtime
 * emits, and the dispatcher ("event bus") that hands an event to the
 * notification triggers waiting for its type.
 *
 * Format.  Events use Valohai's notification format, so that a real
 * Valohai notification webhook can be pointed at a trig server:
 *
 *     {"project": {"id": ..., "name": ...}, "type": "execution_completed",
 *      "title": ..., "body": ..., "url": ...,
 *      "data": {"valohai.execution-id": ..., "valohai.execution-step": ...,
 *               "valohai.execution-status": "complete", ...,
 *               "trig.trigger": ..., "trig.launch": ..., "trig.depth": 1}}
 *
 * trig_event_build_run() writes the events of executions and pipelines
 * the launcher runs (docs/events.md lists every key).
 *
 * Dispatch.  trig_events_post() judges one event: it must be a JSON object
 * whose type ([a-z][a-z0-9_.-]*, 128 bytes at most) comes from the caller
 * (the URL of POST /events/TYPE, `emit TYPE`) or from the document's
 * "type" member; when both are given they must be equal, and when the
 * document has none the caller's type is written into it.  Every enabled
 * notification trigger whose `event` is that type then has its conditions
 * evaluated on the event (event.* fields are paths into the document) and
 * is launched (kind "event", depth + 1) when they pass; the others get an
 * audit record (not-matched, disabled, ...).  A launch deeper than
 * TRIG_EVENTS_MAX_DEPTH is refused (audit outcome "error"), so a trigger
 * that re-triggers itself stops after 8 launches.
 *
 * trig_events_emit() (and trig_events_hook(), the launcher's on_event)
 * queue an event for the dispatcher thread instead: a bounded queue
 * (TRIG_EVENTS_QUEUE_MAX events); an event that finds it full is not
 * dispatched, and that is logged and audited, never silent.
 *
 * Ownership: a struct trig_events borrows the project, the path query, the
 * state, the audit log, the launcher and the guard; they must outlive it.
 * Event texts passed in are borrowed for the call (emit copies them).
 * Thread-safety: post, emit and hook may be called from any thread at
 * once, once trig_events_attach() has been called (emit and hook also
 * before: those events wait in the queue).  trig_events_stop() and
 * trig_events_free() are called once, by the owner, in that order.
 */
#ifndef TRIG_EVENTS_H
#define TRIG_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "buf.h"
#include "conditions.h"
#include "json.h"
#include "launch.h"
#include "state.h"
#include "trig.h"

#define TRIG_EVENTS_MAX_DEPTH 8                 /* launches in one chain of events */
#define TRIG_EVENTS_MAX_BODY ((size_t)1 << 20)  /* bytes of one event */
#define TRIG_EVENTS_QUEUE_MAX 10000             /* events waiting for the dispatcher */
#define TRIG_EVENT_TYPE_MAX 128

/* ------------------------------------------------------------ building */

/* An execution or pipeline run, as the launcher knows it.  Strings may be
 * NULL (written as null, or left out where Valohai leaves them out). */
struct trig_event_run {
	const char *type;               /* "execution_completed", "pipeline_started", ... */
	const char *project;            /* the project's name */
	const char *id;                 /* execution id; a pipeline's event: the pipeline id */
	const char *step;               /* executions */
	const char *pipeline;           /* the pipeline's name (its events, and its nodes') */
	const char *pipeline_id;        /* pipelines, and executions that are a node of one */
	const char *node;               /* an execution's node in its pipeline */
	const char *status;             /* only for a type not listed in events.h: the
					   known types carry Valohai's word for them */
	const char *title, *commit, *url;
	const char *trigger, *launch;   /* the launch it belongs to */
	int exit_code;                  /* < 0: none (not ended, or killed) */
	int64_t created_ms, started_ms, ended_ms;       /* 0: unknown / not yet */
	unsigned depth;                 /* the launch's depth */
};

/* Appends the event's JSON text (one line, no newline) to OUT. */
void trig_event_build_run(struct buf *out, const struct trig_event_run *e);

/* Valohai's status word for an event type: "created", "started",
 * "complete", "error", "stopped"; NULL for a type that is not an
 * execution_* or pipeline_* event. */
const char *trig_event_status_word(const char *type);

/* Whether S[0..LEN) is a valid event type: [a-z][a-z0-9_.-]*, at most
 * TRIG_EVENT_TYPE_MAX bytes. */
bool trig_event_type_valid(const char *s, size_t len);

/* ------------------------------------------------------------ dispatching */

struct trig_events;

/* A dispatcher for P's notification triggers.  PATHS is the project's path
 * query (trig_field.path_id indexes its slots); STATE (enable/disable
 * overrides) and AUDIT may be NULL.  Never NULL. */
struct trig_events *trig_events_new(const struct trig_project *p, const struct trig_json_query *paths,
				    struct trig_state *state, struct trig_audit *audit);

/* Second phase (the launcher is made with trig_events_hook as its
 * on_event, so it exists only after the dispatcher): sets the launcher and
 * the guard that judges conditions, and starts the dispatcher thread.
 * GUARD_PROJECT is the project G was made for when it is not the
 * dispatcher's own (NULL): a copy with the same triggers in the same order
 * (`emit` makes its guard on a copy whose other triggers have no
 * conditions, so that it needs no webhook's secrets). */
void trig_events_attach(struct trig_events *ev, struct trig_launcher *l, struct trig_guard *g,
			const struct trig_project *guard_project);

/* What one post did. */
struct trig_events_stats {
	unsigned matched;               /* triggers whose event is the type */
	unsigned launched;
	unsigned not_matched;           /* conditions failed (any verdict but PASS) */
	unsigned disabled;
	unsigned failed;                /* refused: depth, busy, the launch not accepted */
};

/*
 * Dispatches one event now, on the calling thread.  TYPE may be NULL (then
 * the document's "type" decides).  DEPTH is the depth of the launch the
 * event comes from (0 from outside).  REQUEST_ID (may be NULL) goes into
 * the audit records.  Appends to RESULT (may be NULL) a JSON summary:
 *   {"event":"e-…","type":T,"launches":[{"trigger":N,"launch":ID}],
 *    "not_matched":[{"trigger":N,"outcome":O,"condition":C,"reason":R}],
 *    "errors":[{"trigger":N,"error":E}]}
 * Returns the number of launches (0 included), or -1 when the event itself
 * is invalid (not a JSON object, bad or conflicting type, too large) with
 * a message in err; STATS (may be NULL) is filled either way.
 */
int trig_events_post(struct trig_events *ev, const char *type, const char *json, size_t len,
		     unsigned depth, const char *request_id, struct buf *result,
		     struct trig_events_stats *stats, char *err, size_t errlen);

/* Queues an event for the dispatcher thread (copied).  When the queue is
 * full, or the dispatcher has stopped, the event is dropped with an error
 * logged and an audit record for each trigger that waited for its type. */
void trig_events_emit(struct trig_events *ev, const char *type, const char *json, size_t len,
		      unsigned depth);

/* trig_events_emit with the launcher's signature (trig_launch_event_fn):
 * set cfg.on_event = trig_events_hook, cfg.event_ctx = the dispatcher. */
void trig_events_hook(void *ctx, const char *type, const char *json, size_t len, unsigned depth);

/* Blocks until the queue is empty and the dispatcher idle (for `emit`
 * in-process and tests); returns at once if the thread never started. */
void trig_events_drain(struct trig_events *ev);

/* Whether the queue is empty and the dispatcher idle, now; *DONE (may be
 * NULL) counts the queued events dispatched so far.  Waiting for a chain
 * of launches to settle (fire, emit): the launcher idle between two quiet
 * calls with the same *DONE means nothing is left. */
bool trig_events_quiet(struct trig_events *ev, uint64_t *done);

/* Dispatches what is queued, then stops the thread; later events are
 * dropped (logged and audited).  Idempotent. */
void trig_events_stop(struct trig_events *ev);

/* Stops (if needed) and frees.  NULL is accepted. */
void trig_events_free(struct trig_events *ev);

/* Events dispatched, launches made, events dropped (for the metrics). */
void trig_events_counts(struct trig_events *ev, uint64_t *posted, uint64_t *launches,
			uint64_t *dropped);

#endif
