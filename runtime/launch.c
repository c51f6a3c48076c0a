/*
 * launch.c — accepting launches, running their actions, resuming them.
 *
 * A launch is reference-counted: the thread that dispatches its actions
 * holds one reference, each action in progress (a queued execution or
 * pipeline, a chain thread) another; whoever drops the last writes the
 * journal's end record and frees it.  So an execution that ends before
 * the next action is even queued is handled without races.
 *
 * The chain.  dispatch() starts the actions in order.  Executions and
 * pipelines on the local backend are queued (asynchronous: the chain goes
 * on at once); fetch-repository, http and every call to the Valohai API
 * run on a chain thread, and the chain goes on from there when they are
 * done.  An action whose templates read results of earlier actions
 * (actions.NAME.FIELD) is rendered only when it is reached, from the
 * values its templates read captured at acceptance (and journalled), so a
 * resumed launch renders it the same way; one that reads more than ids
 * waits (la->wait_at) until every earlier action has ended, and the last
 * one to end goes on with the chain.
 *
 * max-concurrent.  A trigger's launches beyond its limit are refused
 * (when-busy: skip) or journalled and queued in order (queue), started as
 * running ones finish.
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "buf.h"
#include "events.h"
#include "fetch.h"
#include "httpc.h"
#include "json_iter.h"
#include "log.h"
#include "pipeline.h"
#include "render.h"
#include "timeutil.h"
#include "valohai.h"

enum {
	ACT_PENDING = -1,       /* not started (yet) */
	ACT_QUEUED = -2,        /* handed to the backend */
	ACT_SKIPPED = -3,       /* an earlier action failed */
	ACT_FAILED_START = -4,  /* could not be started */
	ACT_ANSWERED = -5,      /* respond: the server answers the request with it */
	ACT_SUBMITTED = -6,     /* accepted by the Valohai API; runs there */
};

#define NO_WAIT ((size_t)-1)

struct ract {                   /* a rendered action */
	enum trig_action_kind kind;
	const struct trig_action *def;  /* its definition in the trigger */
	char run_id[TRIG_ID_MAX + 96];  /* execution or pipeline id (Valohai's: longer) */
	bool rendered;                  /* false: deferred, rendered when reached */
	bool created;                   /* execution_created emitted */
	struct trig_kv *captured;       /* deferred: the values its templates read */
	size_t ncaptured;
	const struct trig_step *step;
	const struct trig_pipeline *pipeline;
	struct trig_kv *params, *inputs, *env;
	size_t nparams, ninputs, nenv;
	char *commit, *title, *source;  /* source: copy-pipeline's, NULL = latest */
	const char *payload_input;
	/* http */
	const char *method;
	char *url, *body;
	struct trig_kv *headers;
	size_t nheaders;
	int expect;
	int64_t timeout_ms;
	/* results */
	int status;                     /* ACT_* or enum trig_exec_status */
	int exit_code;                  /* executions; http: the HTTP status */
	char *error;
	int64_t started_ms, ended_ms;
	char *where;                    /* local: the run's folder; valohai: its web URL */
	char *metadata;                 /* JSON object text, loaded when read */
	char *head;                     /* fetch-repository: the commit checked out */
};

struct launch {
	struct trig_launcher *l;
	char id[TRIG_ID_MAX];
	const struct trig_trigger *trigger;
	enum trig_launch_kind kind;
	struct ract *acts;
	size_t nacts;
	char *payload;
	size_t payload_len;
	int64_t now_ms;                 /* when accepted: `now` in templates */
	int64_t created_ms;
	unsigned depth;
	unsigned refs;                  /* under l->mu */
	unsigned active;                /* asynchronous actions not ended; under l->mu */
	size_t wait_at;                 /* the action waiting for them, or NO_WAIT */
	bool stopped;                   /* an execution was stopped: resume later */
	bool has_request;               /* a webhook's: its respond is answered */
	bool admitted;                  /* counted in l->active (max-concurrent) */
	struct launch *prev, *next;     /* l->live, under l->mu */
	struct launch *qnext;           /* the trigger's waiting queue */
	pthread_mutex_t smu;            /* guards strs: actions end on many threads */
	char **strs;                    /* strings this launch owns */
	size_t nstrs, capstrs;
};

struct act_ctx {
	struct launch *launch;
	size_t index;
};

struct busy_queue {
	struct launch *head, *tail;
	size_t len;
};

struct trig_launcher {
	struct trig_launcher_config cfg;
	pthread_mutex_t mu;
	pthread_cond_t idle;
	unsigned inflight;
	unsigned *running;              /* per trigger: launches not ended (queued included) */
	unsigned *active;               /* per trigger: launches started (max-concurrent) */
	struct busy_queue *queues;      /* per trigger: launches waiting for a slot */
	struct launch *live;            /* every launch not ended, for run-info */
	unsigned counts[4];             /* ended executions by status */
	unsigned failed_actions;        /* other actions that failed or could not start */
	unsigned submitted;             /* runs created on Valohai */
	uint64_t live_bytes;            /* payloads of the launches not ended */
};

#define MAX_BUSY_QUEUE 10000
/* The payloads the launches in progress keep (a queued execution keeps a
 * copy too): a launch beyond it is refused before it is acknowledged. */
#define MAX_LIVE_BYTES ((uint64_t)256 << 20)

static const char *const kind_names[] = { "schedule", "fire", "webhook", "event" };
static const char *const action_names[] = {
	"run-execution", "run-pipeline", "copy-pipeline", "fetch-repository", "http", "respond"
};

static void dispatch(struct launch *la, size_t from, bool failed);

const char *trig_launch_kind_name(enum trig_launch_kind k)
{
	return kind_names[k];
}

const char *trig_action_name(enum trig_action_kind k)
{
	return action_names[k];
}

int64_t trig_monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct trig_launcher *trig_launcher_new(const struct trig_launcher_config *cfg)
{
	struct trig_launcher *l = trig_xcalloc(1, sizeof(*l));
	size_t n = cfg->project->ntriggers ? cfg->project->ntriggers : 1;
	l->cfg = *cfg;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->idle, NULL);
	l->running = trig_xcalloc(n, sizeof(*l->running));
	l->active = trig_xcalloc(n, sizeof(*l->active));
	l->queues = trig_xcalloc(n, sizeof(*l->queues));
	return l;
}

void trig_launcher_free(struct trig_launcher *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->idle);
	free(l->running);
	free(l->active);
	free(l->queues);
	free(l);
}

static size_t trigger_index(const struct trig_launcher *l, const struct trig_trigger *t)
{
	return (size_t)(t - l->cfg.project->triggers);
}

unsigned trig_launcher_running(struct trig_launcher *l, const struct trig_trigger *t)
{
	pthread_mutex_lock(&l->mu);
	unsigned n = l->running[trigger_index(l, t)];
	pthread_mutex_unlock(&l->mu);
	return n;
}

void trig_launcher_wait(struct trig_launcher *l)
{
	pthread_mutex_lock(&l->mu);
	while (l->inflight)
		pthread_cond_wait(&l->idle, &l->mu);
	pthread_mutex_unlock(&l->mu);
}

void trig_launcher_counts(struct trig_launcher *l, unsigned counts[4])
{
	pthread_mutex_lock(&l->mu);
	memcpy(counts, l->counts, sizeof(l->counts));
	pthread_mutex_unlock(&l->mu);
}

struct trig_journal *trig_launcher_journal(struct trig_launcher *l)
{
	return l->cfg.journal;
}

unsigned trig_launcher_failed_actions(struct trig_launcher *l)
{
	pthread_mutex_lock(&l->mu);
	unsigned n = l->failed_actions;
	pthread_mutex_unlock(&l->mu);
	return n;
}

unsigned trig_launcher_submitted(struct trig_launcher *l)
{
	pthread_mutex_lock(&l->mu);
	unsigned n = l->submitted;
	pthread_mutex_unlock(&l->mu);
	return n;
}

/* ------------------------------------------------------------ launches */

static char *own(struct launch *la, char *s)
{
	pthread_mutex_lock(&la->smu);
	if (la->nstrs == la->capstrs) {
		la->capstrs = la->capstrs ? la->capstrs * 2 : 16;
		la->strs = trig_xrealloc(la->strs, la->capstrs * sizeof(*la->strs));
	}
	la->strs[la->nstrs++] = s;
	pthread_mutex_unlock(&la->smu);
	return s;
}

static void *own_mem(struct launch *la, size_t n)
{
	return own(la, trig_xcalloc(1, n ? n : 1));
}

static char *own_str(struct launch *la, const char *s)
{
	return s ? own(la, trig_xstrdup(s)) : NULL;
}

static struct launch *launch_new(struct trig_launcher *l, const struct trig_trigger *t, size_t nacts)
{
	struct launch *la = trig_xcalloc(1, sizeof(*la));
	la->l = l;
	la->trigger = t;
	la->nacts = nacts;
	la->wait_at = NO_WAIT;
	pthread_mutex_init(&la->smu, NULL);
	la->acts = trig_xcalloc(nacts ? nacts : 1, sizeof(*la->acts));
	for (size_t i = 0; i < nacts; i++) {
		la->acts[i].status = ACT_PENDING;
		la->acts[i].exit_code = -1;
		la->acts[i].rendered = true;
	}
	return la;
}

static void launch_free(struct launch *la)
{
	for (size_t i = 0; i < la->nstrs; i++)
		free(la->strs[i]);
	free(la->strs);
	pthread_mutex_destroy(&la->smu);
	free(la->acts);
	free(la->payload);
	free(la);
}

static bool is_run(enum trig_action_kind k)
{
	return k == TRIG_ACTION_RUN_EXECUTION || k == TRIG_ACTION_RUN_PIPELINE ||
	       k == TRIG_ACTION_COPY_PIPELINE;
}

static bool valohai(const struct trig_launcher *l)
{
	return l->cfg.project->backend.kind == TRIG_BACKEND_VALOHAI;
}

static const char *act_status_name(int s)
{
	switch (s) {
	case ACT_PENDING: return "pending";
	case ACT_QUEUED: return "queued";
	case ACT_SKIPPED: return "skipped";
	case ACT_FAILED_START: return "error";
	case ACT_ANSWERED: return "answered";
	case ACT_SUBMITTED: return "submitted";
	default: return trig_exec_status_name(s);
	}
}

static bool act_ok(int s)
{
	return s == TRIG_EXEC_COMPLETED || s == ACT_ANSWERED || s == ACT_SUBMITTED;
}

static void json_kvs(struct buf *b, const struct trig_kv *v, size_t n)
{
	buf_addc(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(b, ',');
		buf_json_cstr(b, v[i].name);
		buf_addc(b, ':');
		buf_json_cstr(b, v[i].value);
	}
	buf_addc(b, '}');
}

static void json_pairs(struct buf *b, const struct trig_kv *v, size_t n)
{
	buf_addc(b, '[');
	for (size_t k = 0; k < n; k++) {
		buf_adds(b, k ? ",[" : "[");
		buf_json_cstr(b, v[k].name);
		buf_addc(b, ',');
		buf_json_cstr(b, v[k].value);
		buf_addc(b, ']');
	}
	buf_addc(b, ']');
}

/* An action's rendered fields, in its journal record. */
static void action_record(const struct ract *a, struct buf *b)
{
	if (a->run_id[0]) {
		buf_adds(b, ",\"id\":");
		buf_json_cstr(b, a->run_id);
	}
	if (a->timeout_ms)
		buf_printf(b, ",\"timeout_ms\":%lld", (long long)a->timeout_ms);
	if (!a->rendered) {
		buf_adds(b, ",\"deferred\":true,\"captured\":");
		json_kvs(b, a->captured, a->ncaptured);
		return;
	}
	switch (a->kind) {
	case TRIG_ACTION_RUN_EXECUTION:
	case TRIG_ACTION_RUN_PIPELINE:
	case TRIG_ACTION_COPY_PIPELINE:
		if (a->step) {
			buf_adds(b, ",\"step\":");
			buf_json_cstr(b, a->step->name);
		}
		if (a->pipeline) {
			buf_adds(b, ",\"pipeline\":");
			buf_json_cstr(b, a->pipeline->name);
		}
		buf_adds(b, ",\"parameters\":");
		json_kvs(b, a->params, a->nparams);
		buf_adds(b, ",\"inputs\":");
		json_pairs(b, a->inputs, a->ninputs);
		buf_adds(b, ",\"environment\":");
		json_kvs(b, a->env, a->nenv);
		buf_adds(b, ",\"commit\":");
		buf_json_cstr(b, a->commit);
		buf_adds(b, ",\"title\":");
		buf_json_cstr(b, a->title);
		buf_adds(b, ",\"payload_input\":");
		buf_json_cstr(b, a->payload_input);
		if (a->kind == TRIG_ACTION_COPY_PIPELINE) {
			buf_adds(b, ",\"source\":");
			buf_json_cstr(b, a->source);
		}
		break;
	case TRIG_ACTION_HTTP:
		buf_adds(b, ",\"method\":");
		buf_json_cstr(b, a->method);
		buf_adds(b, ",\"url\":");
		buf_json_cstr(b, a->url);
		buf_adds(b, ",\"headers\":");
		json_kvs(b, a->headers, a->nheaders);
		buf_adds(b, ",\"body\":");
		buf_json_cstr(b, a->body);
		buf_printf(b, ",\"expect\":%d", a->expect);
		break;
	default:
		break;
	}
}

/* The journal's begin record: everything needed to run the launch again. */
static void begin_record(struct launch *la, const struct trig_launch_req *req, struct buf *b)
{
	buf_printf(b, "{\"v\":2,\"launch\":\"%s\",\"trigger\":", la->id);
	buf_json_cstr(b, la->trigger->name);
	buf_printf(b, ",\"kind\":\"%s\",\"tick\":%lld,\"now\":%lld,\"depth\":%u,\"actions\":[",
		   kind_names[req->kind], (long long)req->tick, (long long)la->now_ms, la->depth);
	for (size_t i = 0; i < la->nacts; i++) {
		const struct ract *a = &la->acts[i];
		buf_printf(b, "%s{\"action\":\"%s\"", i ? "," : "", action_names[a->kind]);
		action_record(a, b);
		buf_addc(b, '}');
	}
	/* The body's exact bytes, in base64: a record is one line, and a
	 * body need be neither one line nor JSON nor UTF-8. */
	buf_adds(b, "],\"payload\":");
	if (la->payload) {
		buf_addc(b, '"');
		trig_base64_encode(b, la->payload, la->payload_len);
		buf_addc(b, '"');
	} else {
		buf_adds(b, "null");
	}
	buf_addc(b, '}');
}

/* ------------------------------------------------------------ audit */

static void audit_write(struct trig_launcher *l, struct buf *b)
{
	if (l->cfg.audit && trig_audit_write(l->cfg.audit, b->data, b->len) != 0)
		trig_warn("cannot write the audit log: %s", strerror(errno));
}

static void audit_head(struct buf *b, const struct trig_trigger *t, enum trig_launch_kind kind,
		       const char *outcome)
{
	char now[TRIG_RFC3339_MAX];
	trig_format_rfc3339(now, trig_now_ms(), 3);
	buf_printf(b, "{\"time\":\"%s\",\"trigger\":", now);
	buf_json_cstr(b, t->name);
	buf_printf(b, ",\"kind\":\"%s\",\"outcome\":\"%s\"", kind_names[kind], outcome);
}

static void audit_tail(struct buf *b, int64_t tick, int64_t started_us)
{
	if (tick) {
		char t[TRIG_RFC3339_MAX];
		trig_format_rfc3339(t, tick * 1000, 0);
		buf_printf(b, ",\"tick\":\"%s\"", t);
	}
	if (started_us)
		buf_printf(b, ",\"duration_us\":%lld", (long long)(trig_monotonic_us() - started_us));
	buf_addc(b, '}');
}

void trig_launcher_audit(struct trig_launcher *l, const struct trig_trigger *t,
			 enum trig_launch_kind kind, const char *outcome, int64_t tick,
			 const char *condition, const char *reason, int64_t started_us)
{
	struct buf b = BUF_INIT;
	audit_head(&b, t, kind, outcome);
	if (condition) {
		buf_adds(&b, ",\"condition\":");
		buf_json_cstr(&b, condition);
	}
	if (reason) {
		buf_adds(&b, ",\"reason\":");
		buf_json_cstr(&b, reason);
	}
	audit_tail(&b, tick, started_us);
	audit_write(l, &b);
	buf_release(&b);
}

void trig_launcher_audit_request(struct trig_launcher *l, const struct trig_trigger *t,
				 const struct trig_audit_request *a)
{
	struct buf b = BUF_INIT;
	audit_head(&b, t, TRIG_LAUNCH_WEBHOOK, a->outcome);
	if (a->request_id)
		buf_printf(&b, ",\"request\":\"%s\"", a->request_id);
	if (a->remote && *a->remote) {
		buf_adds(&b, ",\"remote\":");
		buf_json_cstr(&b, a->remote);
	}
	buf_printf(&b, ",\"status\":%d", a->status);
	if (a->condition) {
		buf_adds(&b, ",\"condition\":");
		buf_json_cstr(&b, a->condition);
	}
	if (a->reason) {
		buf_adds(&b, ",\"reason\":");
		buf_json_cstr(&b, a->reason);
	}
	audit_tail(&b, 0, a->started_us);
	audit_write(l, &b);
	buf_release(&b);
}

/* ------------------------------------------------------------ events */

/* Emits TYPE for action A's run: its execution, its pipeline, or (NODE
 * set) the execution EXEC_ID of that node of its pipeline, whose folder
 * is URL (NULL before it has ended). */
static void emit(struct launch *la, const struct ract *a, const char *type, const char *node,
		 const char *exec_id, const char *url, const char *status, int exit_code,
		 int64_t started_ms, int64_t ended_ms)
{
	struct trig_launcher *l = la->l;
	if (!l->cfg.on_event)
		return;
	bool pipe = a->kind != TRIG_ACTION_RUN_EXECUTION;
	struct trig_event_run e = {
		.type = type, .project = l->cfg.project->name,
		.id = exec_id ? exec_id : a->run_id,
		.step = NULL, .status = status, .exit_code = exit_code,
		.created_ms = la->created_ms, .started_ms = started_ms, .ended_ms = ended_ms,
		.title = a->title, .commit = a->commit, .url = node ? url : a->where,
		.trigger = la->trigger->name, .launch = la->id, .depth = la->depth,
	};
	if (!pipe) {
		e.step = a->step ? a->step->name : NULL;
	} else {
		e.pipeline = a->pipeline ? a->pipeline->name : NULL;
		e.pipeline_id = a->run_id;
		if (node) {
			e.node = node;
			for (uint32_t k = 0; a->pipeline && k < a->pipeline->nnodes; k++)
				if (!strcmp(a->pipeline->nodes[k].name, node))
					e.step = a->pipeline->nodes[k].step->name;
		}
	}
	struct buf b = BUF_INIT;
	trig_event_build_run(&b, &e);
	l->cfg.on_event(l->cfg.event_ctx, type, b.data, b.len, la->depth);
	buf_release(&b);
}

static const char *exec_event(int status)
{
	switch (status) {
	case TRIG_EXEC_COMPLETED: return "execution_completed";
	case TRIG_EXEC_STOPPED: return "execution_stopped";
	default: return "execution_failed";
	}
}

/* ------------------------------------------------------------ ending */

/* The launch's status in Valohai's run-info words. */
static const char *launch_status(const struct launch *la)
{
	unsigned ok = 0, bad = 0;
	for (size_t i = 0; i < la->nacts; i++) {
		int s = la->acts[i].status;
		if (act_ok(s))
			ok++;
		else if (s != ACT_SKIPPED)
			bad++;
	}
	return !bad ? "completed" : ok ? "complete_with_error" : "error";
}

/* The run-info of SPEC.md §4; under l->mu or once the launch has ended. */
static void run_info(const struct launch *la, bool ended, struct buf *b)
{
	buf_printf(b, "{\"launch\":\"%s\",\"trigger\":", la->id);
	buf_json_cstr(b, la->trigger->name);
	buf_printf(b, ",\"status\":\"%s\",\"result\":[", ended ? launch_status(la) : "pending");
	for (size_t i = 0; i < la->nacts; i++) {
		const struct ract *a = &la->acts[i];
		buf_printf(b, "%s{\"action\":\"%s\",\"name\":", i ? "," : "", action_names[a->kind]);
		buf_json_cstr(b, a->def && a->def->name ? a->def->name : action_names[a->kind]);
		buf_printf(b, ",\"status\":\"%s\"", act_status_name(a->status));
		if (a->run_id[0]) {
			buf_adds(b, a->kind == TRIG_ACTION_RUN_EXECUTION ? ",\"execution_id\":"
									: ",\"pipeline_id\":");
			buf_json_cstr(b, a->run_id);
		}
		if (a->kind == TRIG_ACTION_RUN_EXECUTION && a->exit_code >= 0)
			buf_printf(b, ",\"exit_code\":%d", a->exit_code);
		else if (a->kind == TRIG_ACTION_HTTP && a->exit_code > 0)
			buf_printf(b, ",\"http_status\":%d", a->exit_code);
		if (a->error) {
			buf_adds(b, ",\"error\":");
			buf_json_cstr(b, a->error);
		}
		buf_addc(b, '}');
	}
	buf_adds(b, "]}");
}

/* Keeps a finished launch's run-info in the runs folder (not synced: it
 * is a report; the journal is the record). */
static void save_run_info(struct launch *la)
{
	const char *dir = la->l->cfg.runs_dir;
	if (!dir)
		return;
	struct buf b = BUF_INIT, path = BUF_INIT, tmp = BUF_INIT;
	run_info(la, true, &b);
	buf_addc(&b, '\n');
	buf_printf(&path, "%s/%s.json", dir, la->id);
	buf_printf(&tmp, "%s/.%s.tmp", dir, la->id);
	int fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len || close(fd) != 0 ||
	    rename(buf_cstr(&tmp), buf_cstr(&path)) != 0) {
		trig_warn("cannot write the run-info of launch %s: %s", la->id, strerror(errno));
		unlink(buf_cstr(&tmp));
	}
	buf_release(&b);
	buf_release(&path);
	buf_release(&tmp);
}

static void start_admitted(struct launch *la);

/* Starts a launch that waited for a slot.  A launch that ends at once
 * (the server is stopping) frees a slot for the next, and so on: started
 * in a loop, not by recursion, so a long queue cannot exhaust the stack. */
static __thread struct launch *starting_head, *starting_tail;
static __thread bool starting;

static void start_queued(struct launch *la)
{
	la->qnext = NULL;
	if (starting_tail)
		starting_tail->qnext = la;
	else
		starting_head = la;
	starting_tail = la;
	if (starting)
		return;
	starting = true;
	while (starting_head) {
		struct launch *n = starting_head;
		starting_head = n->qnext;
		if (!starting_head)
			starting_tail = NULL;
		start_admitted(n);
	}
	starting = false;
}

/* Every action has ended (or none could start): the journal's end. */
static void launch_finish(struct launch *la)
{
	struct trig_launcher *l = la->l;
	if (!la->stopped) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "{\"launch\":\"%s\",\"status\":\"%s\",\"actions\":[", la->id,
			   launch_status(la));
		for (size_t i = 0; i < la->nacts; i++) {
			const struct ract *a = &la->acts[i];
			buf_printf(&b, "%s{\"action\":\"%s\",\"status\":\"%s\"", i ? "," : "",
				   action_names[a->kind], act_status_name(a->status));
			if (a->run_id[0]) {
				buf_adds(&b, ",\"id\":");
				buf_json_cstr(&b, a->run_id);
			}
			if (is_run(a->kind) || a->kind == TRIG_ACTION_HTTP)
				buf_printf(&b, ",\"%s\":%d", a->kind == TRIG_ACTION_HTTP ? "http_status"
											   : "exit_code",
					   a->exit_code);
			if (a->error) {
				buf_adds(&b, ",\"error\":");
				buf_json_cstr(&b, a->error);
			}
			buf_addc(&b, '}');
		}
		buf_adds(&b, "]}");
		if (trig_journal_end(l->cfg.journal, la->id, b.data, b.len) != 0)
			trig_warn("cannot record the end of launch %s: %s (it will run again after "
				  "a restart)", la->id, strerror(errno));
		buf_release(&b);
		save_run_info(la);
	}
	size_t ti = trigger_index(l, la->trigger);
	struct launch *next = NULL;
	pthread_mutex_lock(&l->mu);
	if (la->prev)
		la->prev->next = la->next;
	else
		l->live = la->next;
	if (la->next)
		la->next->prev = la->prev;
	l->running[ti]--;
	l->live_bytes -= la->payload_len;
	if (la->admitted) {
		l->active[ti]--;
		struct busy_queue *q = &l->queues[ti];
		if (q->head) {
			next = q->head;
			q->head = next->qnext;
			if (!q->head)
				q->tail = NULL;
			q->len--;
			next->admitted = true;
			l->active[ti]++;
		}
	}
	pthread_mutex_unlock(&l->mu);
	launch_free(la);
	if (next)
		start_queued(next);
	pthread_mutex_lock(&l->mu);
	if (--l->inflight == 0)
		pthread_cond_broadcast(&l->idle);
	pthread_mutex_unlock(&l->mu);
}

static void launch_unref(struct launch *la)
{
	struct trig_launcher *l = la->l;
	pthread_mutex_lock(&l->mu);
	bool last = --la->refs == 0;
	pthread_mutex_unlock(&l->mu);
	if (last)
		launch_finish(la);
}

/* An asynchronous action (a local execution or pipeline) has ended: if
 * an action waits for it, the chain goes on from there. */
static void async_ended(struct launch *la)
{
	struct trig_launcher *l = la->l;
	size_t resume = NO_WAIT;
	pthread_mutex_lock(&l->mu);
	if (--la->active == 0 && la->wait_at != NO_WAIT) {
		resume = la->wait_at;
		la->wait_at = NO_WAIT;
	}
	pthread_mutex_unlock(&l->mu);
	if (resume != NO_WAIT)
		dispatch(la, resume, false);
}

static void exec_started(const char *id, int64_t started_ms, void *ctx)
{
	struct act_ctx *ec = ctx;
	struct launch *la = ec->launch;
	struct ract *a = &la->acts[ec->index];
	pthread_mutex_lock(&la->l->mu);
	a->started_ms = started_ms;
	pthread_mutex_unlock(&la->l->mu);
	(void)id;
	emit(la, a, "execution_started", NULL, NULL, NULL, "started", -1, started_ms, 0);
}

/* How an asynchronous action (an execution, a pipeline run) ended; under
 * l->mu.  A stop leaves the launch unended, to run again after a restart. */
static void record_end_locked(struct launch *la, struct ract *a, int status, int64_t started_ms,
			      int64_t ended_ms, const char *error, const char *dir)
{
	a->status = status;
	a->started_ms = started_ms;
	a->ended_ms = ended_ms;
	if (error)
		a->error = own_str(la, error);
	if (dir)
		a->where = own_str(la, dir);
	if (status == TRIG_EXEC_STOPPED)
		la->stopped = true;
}

static void exec_done(const struct trig_exec_result *r, void *ctx)
{
	struct act_ctx *ec = ctx;
	struct launch *la = ec->launch;
	struct ract *a = &la->acts[ec->index];
	struct trig_launcher *l = la->l;
	free(ec);

	pthread_mutex_lock(&l->mu);
	record_end_locked(la, a, r->status, r->started_ms, r->ended_ms, r->error, r->dir);
	a->exit_code = r->exit_code;
	if (r->status >= 0 && r->status < 4)
		l->counts[r->status]++;
	pthread_mutex_unlock(&l->mu);

	double secs = r->started_ms && r->ended_ms ? (double)(r->ended_ms - r->started_ms) / 1000 : 0;
	switch (r->status) {
	case TRIG_EXEC_COMPLETED:
		if (l->cfg.verbose)
			trig_info("execution %s (trigger '%s', step '%s') completed in %.1fs", r->id,
				  la->trigger->name, a->step->name, secs);
		break;
	case TRIG_EXEC_FAILED:
		if (r->signal)
			trig_warn("execution %s (trigger '%s', step '%s') was killed by signal %d%s%s",
				  r->id, la->trigger->name, a->step->name, r->signal,
				  r->error ? ": " : "", r->error ? r->error : "");
		else
			trig_warn("execution %s (trigger '%s', step '%s') failed with exit code %d",
				  r->id, la->trigger->name, a->step->name, r->exit_code);
		break;
	case TRIG_EXEC_ERROR:
		trig_warn("execution %s (trigger '%s', step '%s') could not start: %s", r->id,
			  la->trigger->name, a->step->name, r->error ? r->error : "unknown error");
		break;
	case TRIG_EXEC_STOPPED:
		trig_info("execution %s (trigger '%s') stopped; it runs again after a restart", r->id,
			  la->trigger->name);
		break;
	}
	if (r->status != TRIG_EXEC_STOPPED)        /* a stop runs it again after a restart */
		emit(la, a, exec_event(r->status), NULL, NULL, NULL, trig_exec_status_name(r->status),
		     r->exit_code, r->started_ms, r->ended_ms);
	async_ended(la);
	launch_unref(la);
}

static void pipeline_node(void *ctx, const char *pipeline_id, const char *node,
			  const struct trig_exec_result *r)
{
	struct act_ctx *ec = ctx;
	struct launch *la = ec->launch;
	struct ract *a = &la->acts[ec->index];
	(void)pipeline_id;
	if (!r) {
		char id[TRIG_ID_MAX + 160];
		snprintf(id, sizeof(id), "%s.%s", a->run_id, node);
		emit(la, a, "execution_started", node, id, NULL, "started", -1, trig_now_ms(), 0);
		return;
	}
	if (r->status == TRIG_EXEC_STOPPED)
		return;
	emit(la, a, exec_event(r->status), node, r->id, r->dir, trig_exec_status_name(r->status),
	     r->exit_code, r->started_ms, r->ended_ms);
	pthread_mutex_lock(&la->l->mu);
	if (r->status >= 0 && r->status < 4)
		la->l->counts[r->status]++;
	pthread_mutex_unlock(&la->l->mu);
}

static void pipeline_done(const struct trig_pipeline_result *r, void *ctx)
{
	struct act_ctx *ec = ctx;
	struct launch *la = ec->launch;
	struct ract *a = &la->acts[ec->index];
	struct trig_launcher *l = la->l;
	free(ec);

	pthread_mutex_lock(&l->mu);
	record_end_locked(la, a, r->status, r->started_ms, r->ended_ms, r->error, r->dir);
	if (r->status != TRIG_EXEC_STOPPED && r->status != TRIG_EXEC_COMPLETED)
		l->failed_actions++;
	pthread_mutex_unlock(&l->mu);
	if (r->status == TRIG_EXEC_COMPLETED) {
		if (l->cfg.verbose)
			trig_info("pipeline %s (trigger '%s', pipeline '%s') completed", r->id,
				  la->trigger->name, a->pipeline->name);
	} else if (r->status != TRIG_EXEC_STOPPED) {
		trig_warn("pipeline %s (trigger '%s', pipeline '%s') %s%s%s", r->id, la->trigger->name,
			  a->pipeline->name, trig_exec_status_name(r->status), r->error ? ": " : "",
			  r->error ? r->error : "");
	}
	if (r->status != TRIG_EXEC_STOPPED)
		emit(la, a, r->status == TRIG_EXEC_COMPLETED ? "pipeline_completed" : "pipeline_failed",
		     NULL, NULL, NULL, trig_exec_status_name(r->status), -1, r->started_ms,
		     r->ended_ms);
	async_ended(la);
	launch_unref(la);
}

/* ------------------------------------------------------------ results */

/* Valohai's execution metadata of action A, loaded once. */
static const char *metadata_of(struct launch *la, struct ract *a)
{
	if (a->metadata)
		return a->metadata;
	struct buf b = BUF_INIT;
	if (a->kind == TRIG_ACTION_RUN_EXECUTION && a->where && !valohai(la->l) &&
	    trig_local_metadata(a->where, &b) == 0)
		a->metadata = own(la, buf_detach(&b));
	buf_release(&b);
	return a->metadata;
}

/* The value of actions.NAME.FIELD: A is the action, FIELD its part. */
static int action_field(struct launch *la, struct ract *a, const char *field, struct buf *out)
{
	if (!strcmp(field, "id")) {
		if (!a->run_id[0])
			return -1;
		buf_adds(out, a->run_id);
		return 0;
	}
	if (!strcmp(field, "status")) {
		buf_adds(out, act_status_name(a->status));
		return 0;
	}
	if (!strcmp(field, "exit_code") || !strcmp(field, "http_status")) {
		if (a->exit_code < 0)
			return -1;
		buf_printf(out, "%d", a->exit_code);
		return 0;
	}
	if (!strcmp(field, "duration")) {
		if (!a->started_ms || !a->ended_ms)
			return -1;
		buf_printf(out, "%.3f", (double)(a->ended_ms - a->started_ms) / 1000);
		return 0;
	}
	if (!strcmp(field, "url")) {
		if (!a->where)
			return -1;
		buf_adds(out, a->where);
		return 0;
	}
	if (!strcmp(field, "commit")) {
		if (!a->head)
			return -1;
		buf_adds(out, a->head);
		return 0;
	}
	if (!strncmp(field, "metadata.", 9) || !strncmp(field, "metadata[", 9)) {
		const char *md = metadata_of(la, a);
		if (!md)
			return -1;
		struct trig_json_query *q = trig_json_query_new();
		struct trig_json_value v;
		int rc = -1;
		/* The key's path: metadata.acc, metadata["a.b"].c */
		const char *path = field + (field[8] == '.' ? 9 : 8);
		if (trig_json_query_add_text(q, path, NULL) == 0 &&
		    trig_json_extract(q, md, strlen(md), &v, NULL) == 0 &&
		    v.type != TRIG_JSON_ABSENT)
			rc = trig_json_string(&v, out);
		trig_json_query_free(q);
		return rc;
	}
	return -1;
}

struct lookup {
	struct launch *la;
	struct ract *a;
};

/* Fields of a deferred action: results of earlier actions, and the values
 * captured when the launch was accepted. */
static int deferred_lookup(void *ctx, const struct trig_field *f, struct buf *out)
{
	struct lookup *lk = ctx;
	if (f->root == TRIG_ROOT_ACTION) {
		if (f->action >= lk->la->nacts)
			return -1;
		return action_field(lk->la, &lk->la->acts[f->action], f->name, out);
	}
	for (size_t i = 0; i < lk->a->ncaptured; i++)
		if (!strcmp(lk->a->captured[i].name, f->text)) {
			buf_adds(out, lk->a->captured[i].value);
			return 0;
		}
	return -1;
}

/* ------------------------------------------------------------ rendering */

/* Calls FN for each template of action D. */
static void each_template(const struct trig_action *d,
			  void (*fn)(const struct trig_template *t, void *ctx), void *ctx)
{
	const struct trig_template *ts[] = { &d->commit, &d->title, &d->copy_source, &d->url,
					     &d->body };
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
		fn(ts[i], ctx);
	for (uint32_t i = 0; i < d->nparameters; i++)
		fn(&d->parameters[i].value, ctx);
	for (uint32_t i = 0; i < d->ninputs; i++)
		fn(&d->inputs[i].value, ctx);
	for (uint32_t i = 0; i < d->nenvironment; i++)
		fn(&d->environment[i].value, ctx);
	for (uint32_t i = 0; i < d->nheaders; i++)
		fn(&d->headers[i].value, ctx);
}

struct capture {
	struct launch *la;
	struct ract *a;
	const struct trig_render_ctx *rc;
	size_t cap;
};

static void capture_template(const struct trig_template *t, void *ctx)
{
	struct capture *c = ctx;
	struct ract *a = c->a;
	for (uint32_t i = 0; i < t->npieces; i++) {
		const struct trig_field *f = &t->pieces[i].field;
		if (t->pieces[i].kind != TRIG_PIECE_FIELD || f->root == TRIG_ROOT_ACTION ||
		    f->root == TRIG_ROOT_TRIGGER || f->root == TRIG_ROOT_LAUNCH_ID ||
		    f->root == TRIG_ROOT_NOW)
			continue;
		bool seen = false;
		for (size_t k = 0; k < a->ncaptured && !seen; k++)
			seen = !strcmp(a->captured[k].name, f->text);
		struct buf v = BUF_INIT;
		if (seen || trig_render_field(f, c->rc, &v) != 0) {
			buf_release(&v);
			continue;
		}
		if (a->ncaptured == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 8;
			struct trig_kv *n = own_mem(c->la, c->cap * sizeof(*n));
			if (a->ncaptured)
				memcpy(n, a->captured, a->ncaptured * sizeof(*n));
			a->captured = n;
		}
		a->captured[a->ncaptured].name = f->text;
		a->captured[a->ncaptured].value = own(c->la, buf_detach(&v));
		if (!a->captured[a->ncaptured].value)
			a->captured[a->ncaptured].value = own_str(c->la, "");
		a->ncaptured++;
	}
}

static struct trig_kv *render_bindings(struct launch *la, const struct trig_binding *b, uint32_t n,
				       const struct trig_render_ctx *rc, size_t *out_n)
{
	struct trig_kv *kv = own_mem(la, n * sizeof(*kv));
	for (uint32_t i = 0; i < n; i++) {
		struct buf v = BUF_INIT;
		trig_render(&b[i].value, rc, TRIG_ESC_NONE, &v);
		kv[i].name = b[i].name;
		kv[i].value = own(la, buf_detach(&v));
		if (!kv[i].value)
			kv[i].value = own_str(la, "");
	}
	*out_n = n;
	return kv;
}

static char *render_opt(struct launch *la, const struct trig_template *t,
			const struct trig_render_ctx *rc)
{
	if (!t->source)
		return NULL;
	struct buf v = BUF_INIT;
	trig_render(t, rc, TRIG_ESC_NONE, &v);
	char *s = own(la, buf_detach(&v));
	return s ? s : own_str(la, "");
}

/* An http action as it will be sent: field values percent-encoded in the
 * URL, JSON-escaped in a body whose Content-Type is JSON, and never a line
 * break in a header. */
static void render_http(struct launch *la, const struct trig_action *d, struct ract *a,
			const struct trig_render_ctx *rc)
{
	a->method = d->method ? d->method : "POST";
	a->expect = d->status;
	/* A field that starts the URL is the URL (form.response_url): taken
	 * as it is; fields after it are percent-encoded. */
	struct buf v = BUF_INIT;
	struct trig_template rest = d->url;
	if (rest.npieces && rest.pieces[0].kind == TRIG_PIECE_FIELD) {
		trig_render_field(&rest.pieces[0].field, rc, &v);
		rest.pieces++;
		rest.npieces--;
	}
	trig_render(&rest, rc, TRIG_ESC_URL, &v);
	a->url = own(la, buf_detach(&v));
	if (!a->url)
		a->url = own_str(la, "");
	bool json = false;
	a->headers = own_mem(la, d->nheaders * sizeof(*a->headers));
	a->nheaders = d->nheaders;
	for (uint32_t i = 0; i < d->nheaders; i++) {
		trig_render(&d->headers[i].value, rc, TRIG_ESC_NONE, &v);
		for (size_t k = 0; k < v.len; k++)
			if (v.data[k] == '\r' || v.data[k] == '\n')
				v.data[k] = ' ';
		a->headers[i].name = d->headers[i].name;
		a->headers[i].value = own(la, buf_detach(&v));
		if (!a->headers[i].value)
			a->headers[i].value = own_str(la, "");
		if (!strcasecmp(d->headers[i].name, "Content-Type") &&
		    strstr(a->headers[i].value, "json"))
			json = true;
	}
	if (d->body.source) {
		trig_render(&d->body, rc, json ? TRIG_ESC_JSON : TRIG_ESC_NONE, &v);
		a->body = own(la, buf_detach(&v));
		if (!a->body)
			a->body = own_str(la, "");
	}
}

/* Renders action A from its definition D with RC. */
static void render_action(struct launch *la, const struct trig_action *d, struct ract *a,
			  const struct trig_render_ctx *rc)
{
	a->timeout_ms = d->timeout_ms;
	switch (d->kind) {
	case TRIG_ACTION_HTTP:
		render_http(la, d, a, rc);
		break;
	case TRIG_ACTION_RUN_EXECUTION:
	case TRIG_ACTION_RUN_PIPELINE:
	case TRIG_ACTION_COPY_PIPELINE:
		/* a->step and a->pipeline were set at acceptance: the audit
		 * record may be reading them on another thread. */
		a->params = render_bindings(la, d->parameters, d->nparameters, rc, &a->nparams);
		a->inputs = render_bindings(la, d->inputs, d->ninputs, rc, &a->ninputs);
		a->env = render_bindings(la, d->environment, d->nenvironment, rc, &a->nenv);
		a->commit = render_opt(la, &d->commit, rc);
		a->title = render_opt(la, &d->title, rc);
		a->source = render_opt(la, &d->copy_source, rc);
		if (a->source && !*a->source)
			a->source = NULL;
		a->payload_input = d->payload_input;
		break;
	default:
		break;
	}
	a->rendered = true;
}

/* A deferred action, rendered when the chain reaches it. */
static void render_deferred(struct launch *la, size_t i)
{
	struct ract *a = &la->acts[i];
	struct lookup lk = { la, a };
	struct trig_render_ctx rc = {
		.trigger = la->trigger->name, .launch_id = la->id, .now_ms = la->now_ms,
		.lookup = deferred_lookup, .lookup_ctx = &lk,
	};
	render_action(la, a->def, a, &rc);
}

/* ------------------------------------------------------------ the chain */

static void fail_action(struct launch *la, struct ract *a, size_t i, const char *why, bool count)
{
	struct trig_launcher *l = la->l;
	pthread_mutex_lock(&l->mu);
	a->status = ACT_FAILED_START;
	a->error = own_str(la, why);
	if (count)
		l->failed_actions++;
	pthread_mutex_unlock(&l->mu);
	trig_warn("launch %s (trigger '%s'): action %zu '%s': %s", la->id, la->trigger->name, i + 1,
		  action_names[a->kind], why);
}

static void idem_key(const struct launch *la, size_t i, char *out, size_t n)
{
	snprintf(out, n, "%s-%zu", la->id, i);
}

/* Waits for the earlier Valohai runs of the launch to end (an action that
 * reads their results), filling in their status, exit code, metadata. */
static int await_valohai(struct launch *la, size_t upto, char *err, size_t errlen)
{
	for (size_t k = 0; k < upto; k++) {
		struct ract *e = &la->acts[k];
		if (!is_run(e->kind) || e->status != ACT_SUBMITTED || !e->run_id[0])
			continue;
		struct trig_valohai_status st;
		memset(&st, 0, sizeof(st));
		int rc = trig_valohai_wait(la->l->cfg.valohai, e->kind != TRIG_ACTION_RUN_EXECUTION,
					   e->run_id, 2000, e->timeout_ms, &st, err, errlen);
		pthread_mutex_lock(&la->l->mu);
		if (rc == 0) {
			e->status = st.ok ? TRIG_EXEC_COMPLETED : TRIG_EXEC_FAILED;
			e->exit_code = st.exit_code;
			if (st.metadata.len)
				e->metadata = own(la, buf_detach(&st.metadata));
		}
		pthread_mutex_unlock(&la->l->mu);
		trig_valohai_status_release(&st);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* A blocking action, on a chain thread (fetch-repository, http, any call
 * to the Valohai API).  0, or -1 with a message. */
static int run_blocking(struct launch *la, size_t i, char *err, size_t errlen)
{
	struct trig_launcher *l = la->l;
	struct ract *a = &la->acts[i];
	char key[TRIG_ID_MAX + 24];
	idem_key(la, i, key, sizeof(key));
	int status = 0;
	if (valohai(l) && a->def && a->def->waits && await_valohai(la, i, err, errlen) != 0)
		return -1;
	if (!a->rendered)
		render_deferred(la, i);
	if (a->kind == TRIG_ACTION_HTTP) {
		struct trig_httpc_request rq = {
			.method = a->method, .url = a->url, .headers = a->headers,
			.nheaders = a->nheaders, .body = a->body,
			.body_len = a->body ? strlen(a->body) : 0, .expect = a->expect,
			.timeout_ms = a->timeout_ms,
		};
		int rc = trig_httpc_call(&rq, &status, err, errlen);
		pthread_mutex_lock(&l->mu);
		a->exit_code = status;
		pthread_mutex_unlock(&l->mu);
		return rc;
	}
	if (a->kind == TRIG_ACTION_FETCH_REPOSITORY) {
		if (valohai(l))
			return trig_valohai_fetch_repository(l->cfg.valohai, key, err, errlen);
		char head[64] = "";
		int rc = trig_fetch_repository(l->cfg.project->backend.repository, a->timeout_ms,
					       head, sizeof(head), err, errlen);
		if (rc == 0 && head[0]) {
			pthread_mutex_lock(&l->mu);
			a->head = own_str(la, head);
			pthread_mutex_unlock(&l->mu);
		}
		return rc;
	}
	/* A run on the Valohai backend. */
	struct trig_valohai_run run;
	memset(&run, 0, sizeof(run));
	int rc;
	if (a->kind == TRIG_ACTION_RUN_EXECUTION) {
		struct trig_valohai_execution rq = {
			.step = a->step, .commit = a->commit, .title = a->title,
			.params = a->params, .nparams = a->nparams, .inputs = a->inputs,
			.ninputs = a->ninputs, .env = a->env, .nenv = a->nenv,
			.payload_input = a->payload_input, .payload = la->payload,
			.payload_len = la->payload_len,
		};
		rc = trig_valohai_create_execution(l->cfg.valohai, &rq, key, &run, err, errlen);
	} else if (a->kind == TRIG_ACTION_RUN_PIPELINE) {
		struct trig_valohai_pipeline rq = {
			.pipeline = a->pipeline, .commit = a->commit, .title = a->title,
			.params = a->params, .nparams = a->nparams, .inputs = a->inputs,
			.ninputs = a->ninputs, .env = a->env, .nenv = a->nenv,
			.payload_input = a->payload_input, .payload = la->payload,
			.payload_len = la->payload_len,
		};
		rc = trig_valohai_create_pipeline(l->cfg.valohai, &rq, key, &run, err, errlen);
	} else {
		rc = trig_valohai_copy_pipeline(l->cfg.valohai, a->pipeline->name, a->source,
						a->params, a->nparams, key, &run, err, errlen);
	}
	if (rc == 0) {
		pthread_mutex_lock(&l->mu);
		snprintf(a->run_id, sizeof(a->run_id), "%s", run.id);
		if (run.url[0])
			a->where = own_str(la, run.url);
		a->started_ms = trig_now_ms();
		pthread_mutex_unlock(&l->mu);
		if (l->cfg.verbose)
			trig_info("launch %s (trigger '%s'): %s %s created on Valohai", la->id,
				  la->trigger->name, action_names[a->kind], run.id);
	}
	return rc;
}

static void *chain_main(void *arg)
{
	struct act_ctx *ec = arg;
	struct launch *la = ec->launch;
	struct trig_launcher *l = la->l;
	size_t i = ec->index;
	struct ract *a = &la->acts[i];
	free(ec);
	char err[512] = "";
	int rc = run_blocking(la, i, err, sizeof(err));
	bool run = is_run(a->kind);
	/* The server stopping cut a Valohai call short: the launch is not
	 * ended, and runs again after a restart (with the same keys). */
	bool stopping = rc != 0 && trig_valohai_cancelled(l->cfg.valohai);
	pthread_mutex_lock(&l->mu);
	a->status = rc != 0 ? ACT_FAILED_START : run ? ACT_SUBMITTED : TRIG_EXEC_COMPLETED;
	if (rc == 0 && run)
		l->submitted++;
	if (rc != 0) {
		a->error = own_str(la, err);
		if (stopping)
			la->stopped = true;
		else
			l->failed_actions++;
	}
	pthread_mutex_unlock(&l->mu);
	if (stopping)
		trig_info("launch %s (trigger '%s'): %s: %s; it runs again after a restart", la->id,
			  la->trigger->name, action_names[a->kind], err);
	else if (rc != 0)
		trig_warn("launch %s (trigger '%s'): %s: %s", la->id, la->trigger->name,
			  action_names[a->kind], err);
	else if (l->cfg.verbose && !run)
		trig_info("launch %s (trigger '%s'): %s done", la->id, la->trigger->name,
			  action_names[a->kind]);
	dispatch(la, i + 1, rc != 0);
	launch_unref(la);
	return NULL;
}

/* copy-pipeline on the local backend: the source run's request, with the
 * action's parameters on top. */
static int copy_request(struct launch *la, struct ract *a, struct trig_pipeline_request *rq,
			struct trig_pipeline_source *src, char *err, size_t errlen)
{
	const char *dir = la->l->cfg.pipelines_dir;
	if (!dir) {
		snprintf(err, errlen, "no pipeline runs are kept");
		return -1;
	}
	if (trig_pipeline_source(dir, a->pipeline->name, a->source, src, err, errlen) != 0)
		return -1;
	size_t n = src->nparams + a->nparams;
	struct trig_kv *p = own_mem(la, n * sizeof(*p));
	memcpy(p, src->params, src->nparams * sizeof(*p));
	memcpy(p + src->nparams, a->params, a->nparams * sizeof(*p));
	rq->params = p;
	rq->nparams = n;     /* a name given twice: the last wins */
	/* An input the action names replaces all of the source's files for
	 * it (a repeated name adds files, so it cannot simply come last). */
	struct trig_kv *in = own_mem(la, (src->ninputs + a->ninputs) * sizeof(*in));
	size_t nin = 0;
	for (size_t k = 0; k < src->ninputs; k++) {
		bool replaced = false;
		for (size_t m = 0; m < a->ninputs && !replaced; m++)
			replaced = !strcmp(src->inputs[k].name, a->inputs[m].name);
		if (!replaced)
			in[nin++] = src->inputs[k];
	}
	memcpy(in + nin, a->inputs, a->ninputs * sizeof(*in));
	rq->inputs = in;
	rq->ninputs = nin + a->ninputs;
	rq->commit = a->commit ? a->commit : src->commit;
	rq->title = a->title ? a->title : src->title;
	rq->copied_from = src->id;
	return 0;
}

/* An execution the backend's full queue refused: tried again every half
 * second, with the launch's reference the attempt held. */
static void *retry_main(void *arg)
{
	struct act_ctx *ec = arg;
	struct launch *la = ec->launch;
	size_t i = ec->index;
	free(ec);
	struct timespec ts = { 0, 500 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	dispatch(la, i, false);
	launch_unref(la);
	return NULL;
}

/* Starts action I asynchronously on the local backend: 0; 1 when it will
 * be tried again (the backend's queue is full: retry_main() goes on with
 * the chain); -1 when it failed (marked so; la->stopped when the server
 * is stopping). */
static int start_local(struct launch *la, size_t i)
{
	struct trig_launcher *l = la->l;
	struct ract *a = &la->acts[i];
	struct act_ctx *ec = trig_xmalloc(sizeof(*ec));
	ec->launch = la;
	ec->index = i;
	pthread_mutex_lock(&l->mu);
	la->refs++;
	la->active++;
	a->status = ACT_QUEUED;
	pthread_mutex_unlock(&l->mu);
	int rc, e = 0;
	char err[256] = "";
	if (a->kind == TRIG_ACTION_RUN_EXECUTION) {
		struct trig_exec_request rq = {
			.id = a->run_id, .launch_id = la->id, .trigger = la->trigger->name,
			.step = a->step, .params = a->params, .nparams = a->nparams,
			.inputs = a->inputs, .ninputs = a->ninputs, .env = a->env, .nenv = a->nenv,
			.payload_input = a->payload_input, .payload = la->payload,
			.payload_len = la->payload_len, .title = a->title, .commit = a->commit,
			.timeout_ms = a->timeout_ms, .started = exec_started,
		};
		if (!a->created) {
			a->created = true;
			emit(la, a, "execution_created", NULL, NULL, NULL, "created", -1, 0, 0);
		}
		rc = trig_local_submit(l->cfg.local, &rq, exec_done, ec);
		e = errno;
	} else if (!l->cfg.pipelines) {
		rc = -1;
		e = ENOTSUP;
		snprintf(err, sizeof(err), "pipelines cannot run here");
	} else {
		struct trig_pipeline_request rq = {
			.id = a->run_id, .launch_id = la->id, .trigger = la->trigger->name,
			.pipeline = a->pipeline, .params = a->params, .nparams = a->nparams,
			.inputs = a->inputs, .ninputs = a->ninputs, .env = a->env, .nenv = a->nenv,
			.payload_input = a->payload_input, .payload = la->payload,
			.payload_len = la->payload_len, .title = a->title, .commit = a->commit,
			.timeout_ms = a->timeout_ms,
		};
		struct trig_pipeline_source src;
		memset(&src, 0, sizeof(src));
		rc = 0;
		if (a->kind == TRIG_ACTION_COPY_PIPELINE) {
			rc = copy_request(la, a, &rq, &src, err, sizeof(err));
			e = 0;
		}
		if (rc == 0) {
			emit(la, a, "pipeline_started", NULL, NULL, NULL, "started", -1, trig_now_ms(), 0);
			rc = trig_pipeline_start(l->cfg.pipelines, &rq, pipeline_done, pipeline_node, ec);
			e = errno;
		}
		trig_pipeline_source_release(&src);
	}
	if (rc == 0)
		return 0;
	if (e == EAGAIN && a->kind == TRIG_ACTION_RUN_EXECUTION) {
		/* The queue filled since the launch was accepted (it was not
		 * full then): an acknowledged launch waits for room, it does
		 * not fail for it.  The chain goes on from retry_main(). */
		pthread_attr_t attr;
		pthread_t th;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_mutex_lock(&l->mu);
		la->active--;
		a->status = ACT_PENDING;        /* ec's reference goes to the retry */
		pthread_mutex_unlock(&l->mu);
		if (pthread_create(&th, &attr, retry_main, ec) == 0) {
			pthread_attr_destroy(&attr);
			return 1;
		}
		pthread_attr_destroy(&attr);
		pthread_mutex_lock(&l->mu);
		la->active++;
		pthread_mutex_unlock(&l->mu);
	}
	free(ec);
	if (!err[0])
		snprintf(err, sizeof(err), "%s", e == EAGAIN ? "the execution queue is full"
					   : e == ECANCELED ? "the server is stopping" : strerror(e));
	pthread_mutex_lock(&l->mu);
	la->refs--;
	la->active--;
	if (e == ECANCELED)
		la->stopped = true;
	pthread_mutex_unlock(&l->mu);
	fail_action(la, a, i, err, e != ECANCELED);
	if (a->kind == TRIG_ACTION_RUN_EXECUTION && e != ECANCELED)
		emit(la, a, "execution_failed", NULL, NULL, NULL, "error", -1, 0, trig_now_ms());
	return -1;
}

/* Starts the actions from FROM in order; an action that cannot start (or
 * FAILED, an earlier one) stops the chain: the rest are skipped. */
static void dispatch(struct launch *la, size_t from, bool failed)
{
	struct trig_launcher *l = la->l;
	for (size_t i = from; i < la->nacts; i++) {
		struct ract *a = &la->acts[i];
		if (failed) {
			pthread_mutex_lock(&l->mu);
			a->status = ACT_SKIPPED;
			pthread_mutex_unlock(&l->mu);
			continue;
		}
		if (a->kind == TRIG_ACTION_RESPOND) {
			/* The server answers with it; a launch without a request
			 * (fire, a tick, a resumed one) has nobody to answer. */
			pthread_mutex_lock(&l->mu);
			a->status = la->has_request ? ACT_ANSWERED : ACT_SKIPPED;
			pthread_mutex_unlock(&l->mu);
			continue;
		}
		if (a->def && a->def->waits) {
			/* It reads results: every earlier action must have ended. */
			bool earlier_failed = false;
			pthread_mutex_lock(&l->mu);
			if (la->active) {
				la->wait_at = i;
				pthread_mutex_unlock(&l->mu);
				return;         /* async_ended() goes on from i */
			}
			for (size_t k = 0; k < i; k++)
				if (!act_ok(la->acts[k].status) && la->acts[k].status != ACT_SKIPPED)
					earlier_failed = true;
			if (earlier_failed)
				a->status = ACT_SKIPPED;
			pthread_mutex_unlock(&l->mu);
			if (earlier_failed) {
				trig_warn("launch %s (trigger '%s'): action %zu '%s' skipped: an "
					  "action before it failed", la->id, la->trigger->name, i + 1,
					  action_names[a->kind]);
				failed = true;
				continue;
			}
		}
		bool blocking = a->kind == TRIG_ACTION_FETCH_REPOSITORY ||
				a->kind == TRIG_ACTION_HTTP || valohai(l);
		if (!blocking) {
			if (!a->rendered)
				render_deferred(la, i);
			int rc = start_local(la, i);
			if (rc > 0)
				return;         /* retry_main() goes on from i */
			if (rc < 0)
				failed = true;
			continue;
		}
		struct act_ctx *ec = trig_xmalloc(sizeof(*ec));
		ec->launch = la;
		ec->index = i;
		pthread_mutex_lock(&l->mu);
		la->refs++;
		a->status = ACT_QUEUED;
		pthread_mutex_unlock(&l->mu);
		pthread_attr_t attr;
		pthread_t th;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		int e = pthread_create(&th, &attr, chain_main, ec);
		pthread_attr_destroy(&attr);
		if (e == 0)
			return;         /* chain_main goes on from i + 1 */
		free(ec);
		pthread_mutex_lock(&l->mu);
		la->refs--;
		pthread_mutex_unlock(&l->mu);
		fail_action(la, a, i, strerror(e), true);
		failed = true;
	}
}

/* A launch that waited in its trigger's queue got a slot: its chain
 * starts, and the queue's reference goes. */
static void start_admitted(struct launch *la)
{
	dispatch(la, 0, false);
	launch_unref(la);
}

/* Registers a journalled launch, with one reference for the caller.
 * Returns true when it may start now; false when it waits in its
 * trigger's queue (max-concurrent), which holds a second reference. */
static bool launch_register(struct trig_launcher *l, struct launch *la, bool reserved)
{
	const struct trig_trigger *t = la->trigger;
	size_t ti = trigger_index(l, t);
	bool now = true;
	pthread_mutex_lock(&l->mu);
	la->refs = 1;
	l->inflight++;
	l->running[ti]++;
	l->live_bytes += la->payload_len;
	la->next = l->live;
	if (l->live)
		l->live->prev = la;
	l->live = la;
	if (reserved) {
		la->admitted = true;    /* its slot was taken by reserve() */
	} else if (t->max_concurrent && l->active[ti] >= t->max_concurrent) {
		struct busy_queue *q = &l->queues[ti];
		if (q->tail)
			q->tail->qnext = la;
		else
			q->head = la;
		q->tail = la;
		q->len++;
		la->refs++;     /* the queue's, given to start_admitted() */
		now = false;
	} else {
		la->admitted = true;
		l->active[ti]++;
	}
	pthread_mutex_unlock(&l->mu);
	return now;
}

/* max-concurrent: whether trigger T can take one more launch now (skip)
 * or in its queue (queue).  For skip, a launch that may go takes its slot
 * at once (*reserved), so two at the same moment cannot both have it. */
static bool busy(struct trig_launcher *l, const struct trig_trigger *t, bool *reserved)
{
	*reserved = false;
	if (!t->max_concurrent)
		return false;
	size_t ti = trigger_index(l, t);
	pthread_mutex_lock(&l->mu);
	bool full;
	if (t->when_busy == TRIG_BUSY_SKIP) {
		full = l->active[ti] >= t->max_concurrent;
		if (!full) {
			l->active[ti]++;
			*reserved = true;
		}
	} else {
		full = l->queues[ti].len >= MAX_BUSY_QUEUE;
	}
	pthread_mutex_unlock(&l->mu);
	return full;
}

static void unreserve(struct trig_launcher *l, const struct trig_trigger *t)
{
	pthread_mutex_lock(&l->mu);
	l->active[trigger_index(l, t)]--;
	pthread_mutex_unlock(&l->mu);
}

int trig_launch(struct trig_launcher *l, const struct trig_launch_req *req,
		struct trig_launch_info *info, char *err, size_t errlen)
{
	const struct trig_trigger *t = req->trigger;
	bool reserved;
	if (busy(l, t, &reserved)) {
		bool skip = t->when_busy == TRIG_BUSY_SKIP;
		snprintf(err, errlen, skip ? "%u launches of the trigger are running (max-concurrent)"
					   : "%u launches of the trigger are waiting (max-concurrent)",
			 skip ? t->max_concurrent : MAX_BUSY_QUEUE);
		trig_launcher_audit(l, t, req->kind, skip ? "skipped" : "error", req->tick, NULL, err,
				    req->started_us);
		errno = EBUSY;
		return skip ? 1 : -1;
	}
	bool runs = false;
	for (uint32_t i = 0; i < t->nactions; i++)
		runs = runs || is_run(t->actions[i].kind);
	const char *full = NULL;
	if (runs && !valohai(l) && l->cfg.local && trig_local_full(l->cfg.local))
		full = "the execution queue is full: try again later";
	pthread_mutex_lock(&l->mu);
	if (!full && l->live_bytes + req->payload_len > MAX_LIVE_BYTES)
		full = "the payloads of the launches in progress fill their memory budget: "
		       "try again later";
	pthread_mutex_unlock(&l->mu);
	if (full) {
		/* Refused now, before it is acknowledged, rather than accepted
		 * with an execution that cannot be queued. */
		snprintf(err, errlen, "%s", full);
		trig_launcher_audit(l, t, req->kind, "error", req->tick, NULL, err, req->started_us);
		if (reserved)
			unreserve(l, t);
		errno = EAGAIN;
		return -1;
	}
	struct launch *la = launch_new(l, t, t->nactions);
	trig_id_new(la->id, 'l');
	la->kind = req->kind;
	la->has_request = req->kind == TRIG_LAUNCH_WEBHOOK;
	la->now_ms = trig_now_ms();
	la->created_ms = la->now_ms;
	la->depth = req->depth;

	/* The payload's paths, extracted in one pass (unless the caller, a
	 * webhook that judged them already, hands its values over). */
	unsigned nslots = l->cfg.paths ? trig_json_query_slots(l->cfg.paths) : 0;
	struct trig_json_value *slots = NULL;
	if (req->payload) {
		struct trig_json_error jerr;
		if (!req->values) {
			slots = trig_xcalloc(nslots ? nslots : 1, sizeof(*slots));
			if (trig_json_extract(l->cfg.paths, req->payload, req->payload_len, slots,
					      &jerr) != 0) {
				snprintf(err, errlen, "the payload is not valid JSON: %s at byte %zu",
					 jerr.msg, jerr.offset);
				goto fail;
			}
		}
		la->payload = trig_xmalloc(req->payload_len + 1);
		memcpy(la->payload, req->payload, req->payload_len);
		la->payload[req->payload_len] = 0;
		la->payload_len = req->payload_len;
	}
	struct trig_render_ctx rc = {
		.trigger = t->name, .launch_id = la->id, .now_ms = la->now_ms,
		.paths = req->payload ? slots : NULL, .npaths = nslots,
	};
	if (req->values) {
		rc.paths = req->values->paths;
		rc.claims = req->values->claims;
		rc.npaths = req->values->npaths;
		rc.request = req->values->request;
		rc.request_ctx = req->values->request_ctx;
	}
	for (uint32_t i = 0; i < t->nactions; i++) {
		const struct trig_action *d = &t->actions[i];
		struct ract *a = &la->acts[i];
		a->kind = d->kind;
		a->def = d;
		a->step = d->kind == TRIG_ACTION_RUN_EXECUTION ? d->step : NULL;
		a->pipeline = is_run(d->kind) && d->kind != TRIG_ACTION_RUN_EXECUTION ? d->pipeline
										     : NULL;
		if (d->kind == TRIG_ACTION_RUN_EXECUTION)
			trig_id_new(a->run_id, 'e');
		else if ((d->kind == TRIG_ACTION_RUN_PIPELINE || d->kind == TRIG_ACTION_COPY_PIPELINE) &&
			 !valohai(l))
			trig_id_new(a->run_id, 'p');
		if (valohai(l) && is_run(d->kind))
			a->run_id[0] = 0;       /* Valohai gives the id */
		if (d->deferred) {
			struct capture c = { la, a, &rc, 0 };
			a->rendered = false;
			a->kind = d->kind;
			a->timeout_ms = d->timeout_ms;
			each_template(d, capture_template, &c);
			continue;
		}
		render_action(la, d, a, &rc);
	}

	/* Durable before anything starts or is acknowledged. */
	struct buf rec = BUF_INIT;
	begin_record(la, req, &rec);
	if (trig_journal_begin(l->cfg.journal, la->id, rec.data, rec.len) != 0) {
		snprintf(err, errlen, "cannot write the journal: %s", strerror(errno));
		buf_release(&rec);
		goto fail;
	}
	buf_release(&rec);

	memset(info, 0, sizeof(*info));
	memcpy(info->id, la->id, sizeof(info->id));
	info->nactions = (uint32_t)la->nacts;
	for (size_t i = 0; i < la->nacts && i < 16; i++)
		if (strlen(la->acts[i].run_id) < TRIG_ID_MAX)
			memcpy(info->action_ids[i], la->acts[i].run_id, strlen(la->acts[i].run_id) + 1);
	for (size_t i = 0; i < la->nacts; i++)
		if (la->acts[i].kind == TRIG_ACTION_RUN_EXECUTION && la->acts[i].run_id[0]) {
			if (info->nexecutions < 16)
				memcpy(info->execution_ids[info->nexecutions], la->acts[i].run_id,
				       TRIG_ID_MAX);
			info->nexecutions++;
		}

	bool now = launch_register(l, la, reserved);
	if (now)
		dispatch(la, 0, false);

	/* The audit record, with each action's state after dispatch (the
	 * launch's own reference keeps it alive until the end of this). */
	struct buf b = BUF_INIT;
	audit_head(&b, t, req->kind, "launched");
	if (req->request_id)
		buf_printf(&b, ",\"request\":\"%s\"", req->request_id);
	buf_printf(&b, ",\"launch\":\"%s\",\"actions\":[", la->id);
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < la->nacts; i++) {
		const struct ract *a = &la->acts[i];
		buf_printf(&b, "%s{\"action\":\"%s\"", i ? "," : "", action_names[a->kind]);
		if (a->step) {
			buf_adds(&b, ",\"step\":");
			buf_json_cstr(&b, a->step->name);
		}
		if (a->pipeline) {
			buf_adds(&b, ",\"pipeline\":");
			buf_json_cstr(&b, a->pipeline->name);
		}
		if (a->run_id[0])
			buf_printf(&b, ",\"id\":\"%s\"", a->run_id);
		/* What has started is "queued" here, whether or not it has
		 * already ended (the journal and run-info have the ends);
		 * what waits for earlier actions is "pending". */
		int st = a->status >= 0 || a->status == ACT_SUBMITTED ? ACT_QUEUED : a->status;
		buf_printf(&b, ",\"status\":\"%s\"", act_status_name(st));
		if (a->error) {
			buf_adds(&b, ",\"error\":");
			buf_json_cstr(&b, a->error);
		}
		buf_addc(&b, '}');
	}
	pthread_mutex_unlock(&l->mu);
	buf_addc(&b, ']');
	if (!now)
		buf_adds(&b, ",\"waiting\":true");
	audit_tail(&b, req->tick, req->started_us);
	audit_write(l, &b);
	buf_release(&b);
	free(slots);
	launch_unref(la);
	return 0;

fail:
	free(slots);
	if (reserved)
		unreserve(l, t);
	trig_launcher_audit(l, t, req->kind, "error", req->tick, NULL, err, req->started_us);
	launch_free(la);
	return -1;
}

/* ------------------------------------------------------------ resuming */

static char *json_text(struct launch *la, const struct trig_json_value *v)
{
	if (v->type == TRIG_JSON_ABSENT || v->type == TRIG_JSON_NULL)
		return NULL;
	struct buf b = BUF_INIT;
	if (trig_json_string(v, &b) != 0) {
		buf_release(&b);
		return NULL;
	}
	char *s = buf_detach(&b);
	return own(la, s ? s : trig_xstrdup(""));
}

static int read_kvs(struct launch *la, const struct trig_json_value *obj, struct trig_kv **out,
		    size_t *n)
{
	struct trig_json_iter it;
	struct trig_json_value k, v;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (trig_json_iter_begin(&it, obj) != 0)
		return -1;
	int r;
	while ((r = trig_json_iter_next(&it, &k, &v)) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			struct trig_kv *nv = own_mem(la, cap * sizeof(*nv));
			if (*n)
				memcpy(nv, *out, *n * sizeof(*nv));
			*out = nv;
		}
		(*out)[*n].name = json_text(la, &k);
		(*out)[*n].value = json_text(la, &v);
		if (!(*out)[*n].name || !(*out)[*n].value)
			return -1;
		(*n)++;
	}
	return r;
}

static int read_pairs(struct launch *la, const struct trig_json_value *arr, struct trig_kv **out,
		      size_t *n)
{
	struct trig_json_iter it, pit;
	struct trig_json_value pair, a, b;
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	if (trig_json_iter_begin(&it, arr) != 0)
		return -1;
	int r;
	while ((r = trig_json_iter_next(&it, NULL, &pair)) == 1) {
		if (trig_json_iter_begin(&pit, &pair) != 0 || trig_json_iter_next(&pit, NULL, &a) != 1 ||
		    trig_json_iter_next(&pit, NULL, &b) != 1)
			return -1;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			struct trig_kv *nv = own_mem(la, cap * sizeof(*nv));
			if (*n)
				memcpy(nv, *out, *n * sizeof(*nv));
			*out = nv;
		}
		(*out)[*n].name = json_text(la, &a);
		(*out)[*n].value = json_text(la, &b);
		if (!(*out)[*n].name || !(*out)[*n].value)
			return -1;
		(*n)++;
	}
	return r;
}

/* Fills action I from its record (an object). */
static int read_action(struct launch *la, size_t i, const struct trig_json_value *obj, char *err,
		       size_t errlen)
{
	const struct trig_project *p = la->l->cfg.project;
	const struct trig_trigger *t = la->trigger;
	struct ract *a = &la->acts[i];
	struct trig_json_iter it;
	struct trig_json_value k, v;
	struct buf key = BUF_INIT;
	const char *kind = NULL, *step = NULL, *pipeline = NULL, *id = NULL;
	bool deferred = false;
	int r, rc = 0;
	if (trig_json_iter_begin(&it, obj) != 0)
		return -1;
	while (rc == 0 && (r = trig_json_iter_next(&it, &k, &v)) == 1) {
		buf_reset(&key);
		trig_json_string(&k, &key);
		const char *kk = buf_cstr(&key);
		if (!strcmp(kk, "action"))
			kind = json_text(la, &v);
		else if (!strcmp(kk, "id"))
			id = json_text(la, &v);
		else if (!strcmp(kk, "step"))
			step = json_text(la, &v);
		else if (!strcmp(kk, "pipeline"))
			pipeline = json_text(la, &v);
		else if (!strcmp(kk, "deferred"))
			deferred = v.type == TRIG_JSON_TRUE;
		else if (!strcmp(kk, "captured"))
			rc = read_kvs(la, &v, &a->captured, &a->ncaptured);
		else if (!strcmp(kk, "parameters"))
			rc = read_kvs(la, &v, &a->params, &a->nparams);
		else if (!strcmp(kk, "environment"))
			rc = read_kvs(la, &v, &a->env, &a->nenv);
		else if (!strcmp(kk, "inputs"))
			rc = read_pairs(la, &v, &a->inputs, &a->ninputs);
		else if (!strcmp(kk, "commit"))
			a->commit = json_text(la, &v);
		else if (!strcmp(kk, "title"))
			a->title = json_text(la, &v);
		else if (!strcmp(kk, "source"))
			a->source = json_text(la, &v);
		else if (!strcmp(kk, "payload_input"))
			a->payload_input = json_text(la, &v);
		else if (!strcmp(kk, "method"))
			a->method = json_text(la, &v);
		else if (!strcmp(kk, "url"))
			a->url = json_text(la, &v);
		else if (!strcmp(kk, "headers"))
			rc = read_kvs(la, &v, &a->headers, &a->nheaders);
		else if (!strcmp(kk, "body"))
			a->body = json_text(la, &v);
		else if (!strcmp(kk, "expect") && v.type == TRIG_JSON_NUMBER)
			a->expect = atoi(v.raw);
		else if (!strcmp(kk, "timeout_ms") && v.type == TRIG_JSON_NUMBER)
			a->timeout_ms = strtoll(v.raw, NULL, 10);
	}
	buf_release(&key);
	if (rc != 0 || !kind) {
		snprintf(err, errlen, "a malformed action in its journal record");
		return -1;
	}
	int found = -1;
	for (int n = 0; n < 6; n++)
		if (!strcmp(kind, action_names[n]))
			found = n;
	if (found < 0) {
		snprintf(err, errlen, "an unknown action '%s' in its journal record", kind);
		return -1;
	}
	a->kind = (enum trig_action_kind)found;
	/* The definition: needed to render a deferred action, and to name
	 * the action in run-info. */
	if (i < t->nactions && t->actions[i].kind == a->kind)
		a->def = &t->actions[i];
	if (deferred) {
		if (!a->def || !a->def->deferred) {
			snprintf(err, errlen, "action %zu of the trigger changed since the launch", i + 1);
			return -1;
		}
		a->rendered = false;
		a->step = a->kind == TRIG_ACTION_RUN_EXECUTION ? a->def->step : NULL;
		a->pipeline = is_run(a->kind) && a->kind != TRIG_ACTION_RUN_EXECUTION
				      ? a->def->pipeline : NULL;
	}
	if (id) {
		if (strlen(id) >= sizeof(a->run_id)) {
			snprintf(err, errlen, "an action id too long in the journal record");
			return -1;
		}
		memcpy(a->run_id, id, strlen(id) + 1);
	}
	if (a->kind == TRIG_ACTION_HTTP && !deferred && (!a->method || !a->url)) {
		snprintf(err, errlen, "an http action without its method or URL in the journal record");
		return -1;
	}
	if (!is_run(a->kind) || deferred)
		return 0;
	if (!id && !valohai(la->l)) {
		snprintf(err, errlen, "a %s without its id in the journal record", kind);
		return -1;
	}
	if (a->kind == TRIG_ACTION_RUN_EXECUTION) {
		for (uint32_t n = 0; step && n < p->nsteps; n++)
			if (!strcmp(p->steps[n].name, step))
				a->step = &p->steps[n];
		if (!a->step) {
			snprintf(err, errlen, "step '%s' is no longer defined", step ? step : "?");
			return -1;
		}
	} else {
		for (uint32_t n = 0; pipeline && n < p->npipelines; n++)
			if (!strcmp(p->pipelines[n].name, pipeline))
				a->pipeline = &p->pipelines[n];
		if (!a->pipeline) {
			snprintf(err, errlen, "pipeline '%s' is no longer defined",
				 pipeline ? pipeline : "?");
			return -1;
		}
	}
	return 0;
}

int trig_launcher_resume(struct trig_launcher *l, const char *id, const char *begin)
{
	const struct trig_project *p = l->cfg.project;
	static const char *const fields[] = { "trigger", "kind", "actions", "payload", "now",
					      "depth" };
	enum { NF = sizeof(fields) / sizeof(fields[0]) };
	struct trig_json_query *q = trig_json_query_new();
	for (int i = 0; i < NF; i++)
		trig_json_query_add_text(q, fields[i], NULL);
	struct trig_json_value v[NF];
	char err[256] = "";
	struct launch *la = NULL;
	const struct trig_trigger *t = NULL;
	size_t len = strlen(begin);
	struct buf name = BUF_INIT;

	if (trig_json_extract(q, begin, len, v, NULL) != 0 || v[0].type != TRIG_JSON_STRING ||
	    v[2].type != TRIG_JSON_ARRAY) {
		snprintf(err, sizeof(err), "its journal record is malformed");
		goto fail;
	}
	trig_json_string(&v[0], &name);
	for (uint32_t i = 0; i < p->ntriggers; i++)
		if (!strcmp(p->triggers[i].name, buf_cstr(&name)))
			t = &p->triggers[i];
	if (!t) {
		snprintf(err, sizeof(err), "trigger '%s' is no longer defined", buf_cstr(&name));
		goto fail;
	}
	size_t nacts = 0;
	struct trig_json_iter it;
	struct trig_json_value item;
	trig_json_iter_begin(&it, &v[2]);
	while (trig_json_iter_next(&it, NULL, &item) == 1)
		nacts++;
	la = launch_new(l, t, nacts);
	if (strlen(id) >= TRIG_ID_MAX) {
		snprintf(err, sizeof(err), "its id is too long");
		goto fail;
	}
	memcpy(la->id, id, strlen(id) + 1);
	la->now_ms = v[4].type == TRIG_JSON_NUMBER ? strtoll(v[4].raw, NULL, 10) : trig_now_ms();
	la->created_ms = la->now_ms;
	la->depth = v[5].type == TRIG_JSON_NUMBER ? (unsigned)strtoul(v[5].raw, NULL, 10) : 0;
	for (int i = 0; i < 4; i++) {
		struct buf k = BUF_INIT;
		if (v[1].type == TRIG_JSON_STRING && trig_json_string(&v[1], &k) == 0 &&
		    !strcmp(kind_names[i], buf_cstr(&k)))
			la->kind = (enum trig_launch_kind)i;
		buf_release(&k);
	}
	trig_json_iter_begin(&it, &v[2]);
	for (size_t i = 0; i < nacts && trig_json_iter_next(&it, NULL, &item) == 1; i++)
		if (read_action(la, i, &item, err, sizeof(err)) != 0)
			goto fail;
	if (v[3].type == TRIG_JSON_STRING) {
		/* Base64 has no escapes: the raw text between the quotes. */
		la->payload = trig_xmalloc(v[3].len / 4 * 3 + 3);
		long n = trig_base64_decode(v[3].raw + 1, v[3].len - 2, TRIG_B64_STD,
					    (uint8_t *)la->payload);
		if (n < 0) {
			snprintf(err, sizeof(err), "its payload is not base64");
			goto fail;
		}
		la->payload[n] = 0;
		la->payload_len = (size_t)n;
	} else if (v[3].type != TRIG_JSON_ABSENT && v[3].type != TRIG_JSON_NULL) {
		snprintf(err, sizeof(err), "its payload is not a string");
		goto fail;
	}
	trig_json_query_free(q);
	buf_release(&name);
	trig_info("resuming launch %s of trigger '%s'", id, t->name);
	if (launch_register(l, la, false))
		dispatch(la, 0, false);
	launch_unref(la);
	return 0;

fail:
	trig_json_query_free(q);
	trig_error("launch %s cannot be resumed: %s", id, err);
	struct buf b = BUF_INIT;
	buf_printf(&b, "{\"launch\":\"%s\",\"status\":\"error\",\"error\":", id);
	buf_json_cstr(&b, err);
	buf_addc(&b, '}');
	if (trig_journal_end(l->cfg.journal, id, b.data, b.len) != 0)
		trig_warn("cannot record the end of launch %s: %s", id, strerror(errno));
	buf_release(&b);
	if (t) {
		/* Audit under the kind the launch was accepted as. */
		enum trig_launch_kind kind = TRIG_LAUNCH_FIRE;
		struct buf k = BUF_INIT;
		if (v[1].type == TRIG_JSON_STRING && trig_json_string(&v[1], &k) == 0)
			for (int i = 0; i < 4; i++)
				if (!strcmp(kind_names[i], buf_cstr(&k)))
					kind = (enum trig_launch_kind)i;
		buf_release(&k);
		trig_launcher_audit(l, t, kind, "error", 0, NULL, err, 0);
	}
	if (la)
		launch_free(la);
	buf_release(&name);
	return -1;
}

int trig_launch_info_lookup(void *ctx, const struct trig_field *f, struct buf *out)
{
	const struct trig_launch_info *info = ctx;
	if (f->root != TRIG_ROOT_ACTION)
		return 1;
	if (strcmp(f->name, "id") != 0 || f->action >= info->nactions || f->action >= 16 ||
	    !info->action_ids[f->action][0])
		return -1;
	buf_adds(out, info->action_ids[f->action]);
	return 0;
}

/* ------------------------------------------------------------ run-info */

int trig_launcher_run_info(struct trig_launcher *l, const struct trig_trigger *t,
			   const char *launch_id, struct buf *out)
{
	if (!trig_id_valid(launch_id)) {
		errno = ENOENT;
		return -1;
	}
	pthread_mutex_lock(&l->mu);
	for (struct launch *la = l->live; la; la = la->next)
		if (!strcmp(la->id, launch_id)) {
			int rc = -1;
			if (la->trigger == t) {
				run_info(la, false, out);
				rc = 0;
			}
			pthread_mutex_unlock(&l->mu);
			if (rc)
				errno = ENOENT;
			return rc;
		}
	pthread_mutex_unlock(&l->mu);
	/* Ended: its saved run-info, if it is one of T's. */
	if (!l->cfg.runs_dir) {
		errno = ENOENT;
		return -1;
	}
	struct buf path = BUF_INIT, doc = BUF_INIT;
	buf_printf(&path, "%s/%s.json", l->cfg.runs_dir, launch_id);
	int fd = open(buf_cstr(&path), O_RDONLY | O_CLOEXEC);
	buf_release(&path);
	if (fd < 0) {
		errno = ENOENT;
		return -1;
	}
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && doc.len < (1u << 20))
		buf_add(&doc, chunk, (size_t)n);
	close(fd);
	struct trig_json_query *q = trig_json_query_new();
	trig_json_query_add_text(q, "trigger", NULL);
	struct trig_json_value v;
	struct buf name = BUF_INIT;
	int rc = -1;
	if (doc.len && trig_json_extract(q, doc.data, doc.len, &v, NULL) == 0 &&
	    v.type == TRIG_JSON_STRING && trig_json_string(&v, &name) == 0 &&
	    !strcmp(buf_cstr(&name), t->name)) {
		while (doc.len && doc.data[doc.len - 1] == '\n')
			doc.len--;
		buf_add(out, doc.data, doc.len);
		rc = 0;
	}
	trig_json_query_free(q);
	buf_release(&name);
	buf_release(&doc);
	if (rc)
		errno = ENOENT;
	return rc;
}
