/*
 * launch.c — accepting launches, running their actions, resuming them.
 *
 * A launch is reference-counted: the thread that dispatches its actions
 * holds one reference, each queued execution another; whoever drops the
 * last writes the journal's end record and frees it.  So an execution that
 * ends before the next action is even queued is handled without races.
 */
#include "launch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base64.h"
#include "buf.h"
#include "fetch.h"
#include "httpc.h"
#include "json_iter.h"
#include "log.h"
#include "render.h"
#include "timeutil.h"

enum {
	ACT_PENDING = -1,       /* not started (yet) */
	ACT_QUEUED = -2,        /* handed to the backend */
	ACT_SKIPPED = -3,       /* an earlier action failed */
	ACT_FAILED_START = -4,  /* could not be started */
	ACT_ANSWERED = -5,      /* respond: the server answers the request with it */
};

struct ract {                   /* a rendered action */
	enum trig_action_kind kind;
	char exec_id[TRIG_ID_MAX];
	const struct trig_step *step;
	struct trig_kv *params, *inputs, *env;
	size_t nparams, ninputs, nenv;
	char *commit, *title;
	const char *payload_input;
	/* http */
	const char *method;
	char *url, *body;
	struct trig_kv *headers;
	size_t nheaders;
	int expect;
	int status;                     /* ACT_* or enum trig_exec_status */
	int exit_code;
	char *error;
};

struct launch {
	struct trig_launcher *l;
	char id[TRIG_ID_MAX];
	const struct trig_trigger *trigger;
	struct ract *acts;
	size_t nacts;
	char *payload;
	size_t payload_len;
	unsigned refs;                  /* under l->mu */
	bool stopped;                   /* an execution was stopped: resume later */
	bool has_request;               /* a webhook's: its respond is answered */
	char **strs;                    /* strings this launch owns */
	size_t nstrs, capstrs;
};

struct exec_ctx {
	struct launch *launch;
	size_t index;
};

struct trig_launcher {
	struct trig_launcher_config cfg;
	pthread_mutex_t mu;
	pthread_cond_t idle;
	unsigned inflight;
	unsigned *running;              /* per trigger index */
	unsigned counts[4];             /* ended executions by status */
	unsigned failed_actions;        /* other actions that failed or could not start */
};

static const char *const kind_names[] = { "schedule", "fire", "webhook", "event" };
static const char *const action_names[] = {
	"run-execution", "run-pipeline", "copy-pipeline", "fetch-repository", "http", "respond"
};

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
	l->cfg = *cfg;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->idle, NULL);
	l->running = trig_xcalloc(cfg->project->ntriggers ? cfg->project->ntriggers : 1,
				  sizeof(*l->running));
	return l;
}

void trig_launcher_free(struct trig_launcher *l)
{
	if (!l)
		return;
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->idle);
	free(l->running);
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

/* ------------------------------------------------------------ launches */

static char *own(struct launch *la, char *s)
{
	if (la->nstrs == la->capstrs) {
		la->capstrs = la->capstrs ? la->capstrs * 2 : 16;
		la->strs = trig_xrealloc(la->strs, la->capstrs * sizeof(*la->strs));
	}
	la->strs[la->nstrs++] = s;
	return s;
}

static void *own_mem(struct launch *la, size_t n)
{
	return own(la, trig_xcalloc(1, n ? n : 1));
}

static struct launch *launch_new(struct trig_launcher *l, const struct trig_trigger *t, size_t nacts)
{
	struct launch *la = trig_xcalloc(1, sizeof(*la));
	la->l = l;
	la->trigger = t;
	la->nacts = nacts;
	la->acts = trig_xcalloc(nacts ? nacts : 1, sizeof(*la->acts));
	for (size_t i = 0; i < nacts; i++) {
		la->acts[i].status = ACT_PENDING;
		la->acts[i].exit_code = -1;
	}
	return la;
}

static void launch_free(struct launch *la)
{
	for (size_t i = 0; i < la->nstrs; i++)
		free(la->strs[i]);
	free(la->strs);
	free(la->acts);
	free(la->payload);
	free(la);
}

static const char *act_status_name(int s)
{
	switch (s) {
	case ACT_PENDING: return "pending";
	case ACT_QUEUED: return "queued";
	case ACT_SKIPPED: return "skipped";
	case ACT_FAILED_START: return "error";
	case ACT_ANSWERED: return "answered";
	default: return trig_exec_status_name(s);
	}
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

/* The journal's begin record: everything needed to run the launch again. */
static void begin_record(struct launch *la, const struct trig_launch_req *req, int64_t now_ms,
			 struct buf *b)
{
	buf_printf(b, "{\"v\":1,\"launch\":\"%s\",\"trigger\":", la->id);
	buf_json_cstr(b, la->trigger->name);
	buf_printf(b, ",\"kind\":\"%s\",\"tick\":%lld,\"now\":%lld,\"actions\":[",
		   kind_names[req->kind], (long long)req->tick, (long long)now_ms);
	for (size_t i = 0; i < la->nacts; i++) {
		const struct ract *a = &la->acts[i];
		buf_printf(b, "%s{\"action\":\"%s\"", i ? "," : "", action_names[a->kind]);
		if (a->kind == TRIG_ACTION_RUN_EXECUTION) {
			buf_printf(b, ",\"id\":\"%s\",\"step\":", a->exec_id);
			buf_json_cstr(b, a->step->name);
			buf_adds(b, ",\"parameters\":");
			json_kvs(b, a->params, a->nparams);
			buf_adds(b, ",\"inputs\":[");
			for (size_t k = 0; k < a->ninputs; k++) {
				buf_adds(b, k ? ",[" : "[");
				buf_json_cstr(b, a->inputs[k].name);
				buf_addc(b, ',');
				buf_json_cstr(b, a->inputs[k].value);
				buf_addc(b, ']');
			}
			buf_adds(b, "],\"environment\":");
			json_kvs(b, a->env, a->nenv);
			buf_adds(b, ",\"commit\":");
			buf_json_cstr(b, a->commit);
			buf_adds(b, ",\"title\":");
			buf_json_cstr(b, a->title);
			buf_adds(b, ",\"payload_input\":");
			buf_json_cstr(b, a->payload_input);
		} else if (a->kind == TRIG_ACTION_HTTP) {
			buf_adds(b, ",\"method\":");
			buf_json_cstr(b, a->method);
			buf_adds(b, ",\"url\":");
			buf_json_cstr(b, a->url);
			buf_adds(b, ",\"headers\":");
			json_kvs(b, a->headers, a->nheaders);
			buf_adds(b, ",\"body\":");
			buf_json_cstr(b, a->body);
			buf_printf(b, ",\"expect\":%d", a->expect);
		}
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

/* The launch's status in Valohai's run-info words. */
static const char *launch_status(const struct launch *la)
{
	unsigned ok = 0, bad = 0;
	for (size_t i = 0; i < la->nacts; i++) {
		int s = la->acts[i].status;
		if (s == TRIG_EXEC_COMPLETED || s == ACT_ANSWERED)
			ok++;
		else if (s != ACT_SKIPPED)
			bad++;
	}
	return !bad ? "completed" : ok ? "complete_with_error" : "error";
}

/* Every execution has ended (or none could start): the journal's end. */
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
			if (a->kind == TRIG_ACTION_RUN_EXECUTION)
				buf_printf(&b, ",\"id\":\"%s\",\"exit_code\":%d", a->exec_id, a->exit_code);
			else if (a->kind == TRIG_ACTION_HTTP)
				buf_printf(&b, ",\"http_status\":%d", a->exit_code);
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
	}
	pthread_mutex_lock(&l->mu);
	l->running[trigger_index(l, la->trigger)]--;
	if (--l->inflight == 0)
		pthread_cond_broadcast(&l->idle);
	pthread_mutex_unlock(&l->mu);
	launch_free(la);
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

static void exec_done(const struct trig_exec_result *r, void *ctx)
{
	struct exec_ctx *ec = ctx;
	struct launch *la = ec->launch;
	struct ract *a = &la->acts[ec->index];
	struct trig_launcher *l = la->l;
	free(ec);

	pthread_mutex_lock(&l->mu);
	a->status = r->status;
	a->exit_code = r->exit_code;
	if (r->error)
		a->error = own(la, trig_xstrdup(r->error));
	if (r->status == TRIG_EXEC_STOPPED)
		la->stopped = true;
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
			trig_warn("execution %s (trigger '%s', step '%s') was killed by signal %d",
				  r->id, la->trigger->name, a->step->name, r->signal);
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
	launch_unref(la);
}

static void dispatch(struct launch *la, size_t from, bool failed);

/* A fetch-repository or an http action, on its own thread: the actions
 * after it start when it has succeeded (a training runs the code just
 * fetched; a result is posted before the next step), or are skipped. */
static void *chain_main(void *arg)
{
	struct exec_ctx *ec = arg;
	struct launch *la = ec->launch;
	struct trig_launcher *l = la->l;
	size_t i = ec->index;
	struct ract *a = &la->acts[i];
	free(ec);
	char err[512];
	int rc, status = 0;
	if (a->kind == TRIG_ACTION_FETCH_REPOSITORY) {
		rc = trig_fetch_repository(l->cfg.project->backend.repository, err, sizeof(err));
	} else {
		struct trig_httpc_request rq = {
			.method = a->method, .url = a->url, .headers = a->headers,
			.nheaders = a->nheaders, .body = a->body,
			.body_len = a->body ? strlen(a->body) : 0, .expect = a->expect,
		};
		rc = trig_httpc_call(&rq, &status, err, sizeof(err));
	}
	pthread_mutex_lock(&l->mu);
	a->status = rc == 0 ? TRIG_EXEC_COMPLETED : TRIG_EXEC_ERROR;
	a->exit_code = status;
	if (rc != 0) {
		a->error = own(la, trig_xstrdup(err));
		l->failed_actions++;
	}
	pthread_mutex_unlock(&l->mu);
	if (rc != 0)
		trig_warn("launch %s (trigger '%s'): %s: %s", la->id, la->trigger->name,
			  action_names[a->kind], err);
	else if (l->cfg.verbose)
		trig_info("launch %s (trigger '%s'): %s done", la->id, la->trigger->name,
			  action_names[a->kind]);
	dispatch(la, i + 1, rc != 0);
	launch_unref(la);
	return NULL;
}

/* Starts the actions from FROM in order; an action that cannot start (or
 * FAILED, an earlier one) stops the chain: the rest are skipped.  A
 * fetch-repository holds the chain until it is done. */
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
		const char *unsupported = NULL;
		if (l->cfg.project->backend.kind != TRIG_BACKEND_LOCAL)
			unsupported = "the valohai backend is not supported by this runtime yet";
		else if (a->kind != TRIG_ACTION_RUN_EXECUTION && a->kind != TRIG_ACTION_FETCH_REPOSITORY &&
			 a->kind != TRIG_ACTION_HTTP)
			unsupported = "this action is not supported by this runtime yet";
		if (unsupported) {
			pthread_mutex_lock(&l->mu);
			a->status = ACT_FAILED_START;
			a->error = own(la, trig_xstrdup(unsupported));
			l->failed_actions++;
			pthread_mutex_unlock(&l->mu);
			trig_warn("launch %s (trigger '%s'): action %zu '%s': %s", la->id,
				  la->trigger->name, i + 1, action_names[a->kind], a->error);
			failed = true;
			continue;
		}
		struct exec_ctx *ec = trig_xmalloc(sizeof(*ec));
		ec->launch = la;
		ec->index = i;
		pthread_mutex_lock(&l->mu);
		la->refs++;
		a->status = ACT_QUEUED;
		pthread_mutex_unlock(&l->mu);
		if (a->kind == TRIG_ACTION_FETCH_REPOSITORY || a->kind == TRIG_ACTION_HTTP) {
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
			a->status = ACT_FAILED_START;
			a->error = own(la, trig_xstrdup(strerror(e)));
			l->failed_actions++;
			pthread_mutex_unlock(&l->mu);
			failed = true;
			continue;
		}
		struct trig_exec_request rq = {
			.id = a->exec_id, .launch_id = la->id, .trigger = la->trigger->name,
			.step = a->step, .params = a->params, .nparams = a->nparams,
			.inputs = a->inputs, .ninputs = a->ninputs, .env = a->env, .nenv = a->nenv,
			.payload_input = a->payload_input, .payload = la->payload,
			.payload_len = la->payload_len, .title = a->title, .commit = a->commit,
		};
		if (trig_local_submit(l->cfg.local, &rq, exec_done, ec) != 0) {
			int e = errno;
			free(ec);
			pthread_mutex_lock(&l->mu);
			la->refs--;
			a->status = ACT_FAILED_START;
			a->error = own(la, trig_xstrdup(e == EAGAIN ? "the execution queue is full"
						      : e == ECANCELED ? "the server is stopping"
						      : strerror(e)));
			if (e == ECANCELED)
				la->stopped = true;
			else
				l->failed_actions++;
			pthread_mutex_unlock(&l->mu);
			trig_warn("launch %s (trigger '%s'): execution %s cannot start: %s", la->id,
				  la->trigger->name, a->exec_id, a->error);
			failed = true;
		}
	}
}

static void launch_register(struct trig_launcher *l, struct launch *la)
{
	pthread_mutex_lock(&l->mu);
	la->refs = 1;
	l->inflight++;
	l->running[trigger_index(l, la->trigger)]++;
	pthread_mutex_unlock(&l->mu);
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
		a->url = own(la, trig_xstrdup(""));
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
			a->headers[i].value = own(la, trig_xstrdup(""));
		if (!strcasecmp(d->headers[i].name, "Content-Type") &&
		    strstr(a->headers[i].value, "json"))
			json = true;
	}
	if (d->body.source) {
		trig_render(&d->body, rc, json ? TRIG_ESC_JSON : TRIG_ESC_NONE, &v);
		a->body = own(la, buf_detach(&v));
		if (!a->body)
			a->body = own(la, trig_xstrdup(""));
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
	return own(la, buf_detach(&v));
}

int trig_launch(struct trig_launcher *l, const struct trig_launch_req *req,
		struct trig_launch_info *info, char *err, size_t errlen)
{
	const struct trig_trigger *t = req->trigger;
	const struct trig_project *p = l->cfg.project;
	int64_t now_ms = trig_now_ms();
	struct launch *la = launch_new(l, t, t->nactions);
	trig_id_new(la->id, 'l');
	la->has_request = req->kind == TRIG_LAUNCH_WEBHOOK;

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
		.trigger = t->name, .launch_id = la->id, .now_ms = now_ms,
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
		if (d->kind == TRIG_ACTION_HTTP) {
			render_http(la, d, a, &rc);
			continue;
		}
		if (d->kind != TRIG_ACTION_RUN_EXECUTION)
			continue;
		trig_id_new(a->exec_id, 'e');
		a->step = d->step;
		a->params = render_bindings(la, d->parameters, d->nparameters, &rc, &a->nparams);
		a->inputs = render_bindings(la, d->inputs, d->ninputs, &rc, &a->ninputs);
		a->env = render_bindings(la, d->environment, d->nenvironment, &rc, &a->nenv);
		a->commit = render_opt(la, &d->commit, &rc);
		a->title = render_opt(la, &d->title, &rc);
		a->payload_input = d->payload_input;
	}
	(void)p;

	/* Durable before anything starts or is acknowledged. */
	struct buf rec = BUF_INIT;
	begin_record(la, req, now_ms, &rec);
	if (trig_journal_begin(l->cfg.journal, la->id, rec.data, rec.len) != 0) {
		snprintf(err, errlen, "cannot write the journal: %s", strerror(errno));
		buf_release(&rec);
		goto fail;
	}
	buf_release(&rec);

	memset(info, 0, sizeof(*info));
	memcpy(info->id, la->id, sizeof(info->id));
	for (size_t i = 0; i < la->nacts; i++)
		if (la->acts[i].kind == TRIG_ACTION_RUN_EXECUTION) {
			if (info->nexecutions < 16)
				memcpy(info->execution_ids[info->nexecutions], la->acts[i].exec_id,
				       TRIG_ID_MAX);
			info->nexecutions++;
		}

	launch_register(l, la);
	dispatch(la, 0, false);

	/* The audit record, with each action's state after dispatch. */
	struct buf b = BUF_INIT;
	audit_head(&b, t, req->kind, "launched");
	if (req->request_id)
		buf_printf(&b, ",\"request\":\"%s\"", req->request_id);
	buf_printf(&b, ",\"launch\":\"%s\",\"actions\":[", la->id);
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < la->nacts; i++) {
		const struct ract *a = &la->acts[i];
		buf_printf(&b, "%s{\"action\":\"%s\"", i ? "," : "", action_names[a->kind]);
		if (a->kind == TRIG_ACTION_RUN_EXECUTION) {
			buf_adds(&b, ",\"step\":");
			buf_json_cstr(&b, a->step->name);
			buf_printf(&b, ",\"id\":\"%s\"", a->exec_id);
		}
		buf_printf(&b, ",\"status\":\"%s\"", act_status_name(a->status == ACT_QUEUED ||
								      a->status >= 0 ? ACT_QUEUED
										     : a->status));
		if (a->error) {
			buf_adds(&b, ",\"error\":");
			buf_json_cstr(&b, a->error);
		}
		buf_addc(&b, '}');
	}
	pthread_mutex_unlock(&l->mu);
	buf_addc(&b, ']');
	audit_tail(&b, req->tick, req->started_us);
	audit_write(l, &b);
	buf_release(&b);
	free(slots);

	launch_unref(la);
	return 0;

fail:
	free(slots);
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
	return own(la, buf_detach(&b));
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

/* Fills one action from its record (an object). */
static int read_action(struct launch *la, const struct trig_json_value *obj, struct ract *a,
		       char *err, size_t errlen)
{
	const struct trig_project *p = la->l->cfg.project;
	struct trig_json_iter it;
	struct trig_json_value k, v;
	struct buf key = BUF_INIT;
	const char *kind = NULL, *step = NULL, *id = NULL;
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
	}
	buf_release(&key);
	if (rc != 0 || !kind) {
		snprintf(err, errlen, "a malformed action in its journal record");
		return -1;
	}
	for (int i = 0; i < 6; i++)
		if (!strcmp(kind, action_names[i]))
			a->kind = (enum trig_action_kind)i;
	if (a->kind == TRIG_ACTION_HTTP && (!a->method || !a->url)) {
		snprintf(err, errlen, "an http action without its method or URL in the journal record");
		return -1;
	}
	if (a->kind != TRIG_ACTION_RUN_EXECUTION)
		return 0;
	if (!id || !step || strlen(id) >= TRIG_ID_MAX) {
		snprintf(err, errlen, "a run-execution without its id or step in the journal record");
		return -1;
	}
	memcpy(a->exec_id, id, strlen(id) + 1);
	for (uint32_t i = 0; i < p->nsteps; i++)
		if (!strcmp(p->steps[i].name, step))
			a->step = &p->steps[i];
	if (!a->step) {
		snprintf(err, errlen, "step '%s' is no longer defined", step);
		return -1;
	}
	return 0;
}

int trig_launcher_resume(struct trig_launcher *l, const char *id, const char *begin)
{
	const struct trig_project *p = l->cfg.project;
	static const char *const fields[] = { "trigger", "kind", "actions", "payload" };
	struct trig_json_query *q = trig_json_query_new();
	for (int i = 0; i < 4; i++)
		trig_json_query_add_text(q, fields[i], NULL);
	struct trig_json_value v[4];
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
	trig_json_iter_begin(&it, &v[2]);
	for (size_t i = 0; i < nacts && trig_json_iter_next(&it, NULL, &item) == 1; i++)
		if (read_action(la, &item, &la->acts[i], err, sizeof(err)) != 0)
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
	launch_register(l, la);
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
