/*
 * events.c — notification events: the Valohai-format events the runtime
 * emits, and the dispatcher that launches the notification triggers an
 * event concerns (events.h).
 */
#include "events.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "id.h"
#include "log.h"
#include "request.h"
#include "timeutil.h"

/* ------------------------------------------------------------ building */

static const struct {
	const char *type, *status, *verb;
} known[] = {
	{ "execution_created", "created", "created" },
	{ "execution_started", "started", "started" },
	{ "execution_completed", "complete", "completed" },
	{ "execution_failed", "error", "failed" },
	{ "execution_stopped", "stopped", "stopped" },
	{ "pipeline_started", "started", "started" },
	{ "pipeline_completed", "complete", "completed" },
	{ "pipeline_failed", "error", "failed" },
};

static int known_index(const char *type)
{
	for (size_t i = 0; type && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i].type, type))
			return (int)i;
	return -1;
}

const char *trig_event_status_word(const char *type)
{
	int i = known_index(type);
	return i < 0 ? NULL : known[i].status;
}

bool trig_event_type_valid(const char *s, size_t len)
{
	if (!s || !len || len > TRIG_EVENT_TYPE_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* Valohai's time format: "2026-11-26T02:00:03.112000+00:00"; null when
 * unknown. */
static void json_time(struct buf *b, int64_t ms)
{
	if (ms <= 0) {
		buf_adds(b, "null");
		return;
	}
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	if (!gmtime_r(&s, &tm)) {
		buf_adds(b, "null");
		return;
	}
	buf_printf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03d000+00:00\"", tm.tm_year + 1900,
		   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void member(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, ",\"%s\":", key);
	buf_json_cstr(b, value);
}

static void duration_text(struct buf *b, int64_t ms)
{
	if (ms < 60000)
		buf_printf(b, "%.1f seconds", (double)ms / 1000);
	else if (ms < 3600000)
		buf_printf(b, "%lld minutes", (long long)(ms / 60000));
	else
		buf_printf(b, "%lld hours %lld minutes", (long long)(ms / 3600000),
			   (long long)(ms % 3600000 / 60000));
}

void trig_event_build_run(struct buf *out, const struct trig_event_run *e)
{
	int k = known_index(e->type);
	const char *status = k >= 0 ? known[k].status : e->status;
	const char *verb = k >= 0 ? known[k].verb : e->status;
	bool pipe_event = e->type && !strncmp(e->type, "pipeline_", 9);
	bool ended = e->ended_ms > 0;
	int64_t dur_ms = -1;
	if (ended)
		dur_ms = e->started_ms > 0 && e->ended_ms > e->started_ms ? e->ended_ms - e->started_ms
									   : 0;

	/* The head: project, type, title, body, url. */
	buf_adds(out, "{\"project\":{\"id\":null,\"name\":");
	buf_json_cstr(out, e->project);
	buf_adds(out, "},\"type\":");
	buf_json_cstr(out, e->type);
	struct buf t = BUF_INIT;
	if (pipe_event) {
		buf_printf(&t, "Pipeline %s %s", e->pipeline_id ? e->pipeline_id : e->id ? e->id : "",
			   verb ? verb : "");
	} else {
		buf_printf(&t, "Execution %s %s", e->id ? e->id : "", verb ? verb : "");
	}
	buf_adds(out, ",\"title\":");
	buf_json_str(out, t.data, t.len);
	buf_reset(&t);
	if (pipe_event)
		buf_printf(&t, "Pipeline %s (%s) %s", e->pipeline_id ? e->pipeline_id : e->id ? e->id : "",
			   e->pipeline ? e->pipeline : "", verb ? verb : "");
	else
		buf_printf(&t, "Execution %s (%s) %s", e->id ? e->id : "", e->step ? e->step : "",
			   verb ? verb : "");
	if (dur_ms >= 0) {
		buf_adds(&t, " in ");
		duration_text(&t, dur_ms);
	}
	buf_adds(out, ",\"body\":");
	buf_json_str(out, t.data, t.len);
	buf_release(&t);
	buf_adds(out, ",\"url\":");
	buf_json_cstr(out, e->url ? e->url : "");

	/* The data: Valohai's keys, then trig's. */
	buf_adds(out, ",\"data\":{");
	if (pipe_event) {
		buf_adds(out, "\"valohai.pipeline-id\":");
		buf_json_cstr(out, e->pipeline_id ? e->pipeline_id : e->id);
		member(out, "valohai.pipeline-name", e->pipeline);
		member(out, "valohai.pipeline-title", e->title ? e->title : e->pipeline);
		member(out, "valohai.pipeline-status", status);
		buf_adds(out, ",\"valohai.pipeline-ctime\":");
		json_time(out, e->created_ms);
		if (dur_ms >= 0)
			buf_printf(out, ",\"valohai.pipeline-duration\":%.3f", (double)dur_ms / 1000);
	} else {
		buf_adds(out, "\"valohai.execution-id\":");
		buf_json_cstr(out, e->id);
		member(out, "valohai.execution-step", e->step);
		member(out, "valohai.execution-status", status);
		buf_adds(out, ",\"valohai.execution-ctime\":");
		json_time(out, e->created_ms);
		buf_adds(out, ",\"valohai.execution-qtime\":");
		json_time(out, e->created_ms);
		buf_adds(out, ",\"valohai.execution-stime\":");
		json_time(out, e->started_ms);
		if (dur_ms >= 0)
			buf_printf(out, ",\"valohai.execution-duration\":%.3f", (double)dur_ms / 1000);
		if (ended && e->exit_code >= 0)
			buf_printf(out, ",\"valohai.execution-exit-code\":%d", e->exit_code);
		member(out, "valohai.execution-title", e->title);
		if (e->pipeline_id) {
			member(out, "valohai.pipeline-id", e->pipeline_id);
			member(out, "valohai.pipeline-name", e->pipeline);
			member(out, "valohai.pipeline-node", e->node);
		}
	}
	member(out, "valohai.commit-identifier", e->commit);
	member(out, "valohai.project-name", e->project);
	member(out, "trig.trigger", e->trigger);
	member(out, "trig.launch", e->launch);
	buf_printf(out, ",\"trig.depth\":%u}}", e->depth);
}

/* ------------------------------------------------------------ the dispatcher */

struct qitem {
	struct qitem *next;
	char *type;
	char *json;
	size_t len;
	unsigned depth;
};

#define LOGGED_MAX 64

struct trig_events {
	const struct trig_project *p;
	const struct trig_json_query *paths;
	struct trig_state *state;
	struct trig_audit *audit;
	struct trig_launcher *launcher;
	struct trig_guard *guard;
	const struct trig_project *gp;          /* the guard's project */
	struct trig_json_query *head_q;         /* the document, "type", data["trig.launch"] */

	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	struct qitem *head, *tail;
	size_t qlen;
	uint64_t done;                          /* queued events dispatched */
	bool started, stopping, stopped, busy;
	pthread_t thread;
	/* Chains refused for depth, logged once each (a ring of launch ids). */
	char logged[LOGGED_MAX][TRIG_ID_MAX + 96];
	unsigned nlogged;

	atomic_uint_fast64_t posted, launches, dropped;
};

enum { H_DOC, H_TYPE, H_LAUNCH, H_N };

struct trig_events *trig_events_new(const struct trig_project *p, const struct trig_json_query *paths,
				    struct trig_state *state, struct trig_audit *audit)
{
	struct trig_events *ev = trig_xcalloc(1, sizeof(*ev));
	ev->p = p;
	ev->paths = paths;
	ev->state = state;
	ev->audit = audit;
	ev->head_q = trig_json_query_new();
	static const struct trig_path_seg type_seg[] = { { "type", -1 } };
	static const struct trig_path_seg launch_seg[] = { { "data", -1 }, { "trig.launch", -1 } };
	if (trig_json_query_add(ev->head_q, NULL, 0) != H_DOC ||
	    trig_json_query_add(ev->head_q, type_seg, 1) != H_TYPE ||
	    trig_json_query_add(ev->head_q, launch_seg, 2) != H_LAUNCH)
		abort();        /* cannot happen: fixed, valid paths */
	pthread_mutex_init(&ev->mu, NULL);
	pthread_cond_init(&ev->work, NULL);
	pthread_cond_init(&ev->idle, NULL);
	atomic_init(&ev->posted, 0);
	atomic_init(&ev->launches, 0);
	atomic_init(&ev->dropped, 0);
	return ev;
}

static bool waits_for(const struct trig_trigger *t, const char *type)
{
	return t->kind == TRIG_KIND_NOTIFICATION && t->event && type && !strcmp(t->event, type);
}

/* An event that will not be dispatched: logged, and audited for each
 * trigger that waited for its type. */
static void dropped(struct trig_events *ev, const char *type, const char *why)
{
	atomic_fetch_add(&ev->dropped, 1);
	trig_error("event '%s' dropped: %s", type ? type : "?", why);
	if (!ev->audit)
		return;
	/* Written here, not by the launcher: it may not exist yet. */
	char now[TRIG_RFC3339_MAX];
	trig_format_rfc3339(now, trig_now_ms(), 3);
	struct buf b = BUF_INIT;
	for (uint32_t i = 0; i < ev->p->ntriggers; i++) {
		if (!waits_for(&ev->p->triggers[i], type))
			continue;
		buf_reset(&b);
		buf_printf(&b, "{\"time\":\"%s\",\"trigger\":", now);
		buf_json_cstr(&b, ev->p->triggers[i].name);
		buf_adds(&b, ",\"kind\":\"event\",\"outcome\":\"error\",\"reason\":");
		struct buf r = BUF_INIT;
		buf_printf(&r, "event '%s' dropped: %s", type, why);
		buf_json_str(&b, r.data, r.len);
		buf_release(&r);
		buf_addc(&b, '}');
		if (trig_audit_write(ev->audit, b.data, b.len) != 0)
			trig_warn("cannot write the audit log: %s", strerror(errno));
	}
	buf_release(&b);
}

static void *dispatcher_main(void *arg)
{
	struct trig_events *ev = arg;
	pthread_mutex_lock(&ev->mu);
	for (;;) {
		while (!ev->head && !ev->stopping)
			pthread_cond_wait(&ev->work, &ev->mu);
		if (!ev->head)
			break;          /* stopping, and nothing left */
		struct qitem *it = ev->head;
		ev->head = it->next;
		if (!ev->head)
			ev->tail = NULL;
		ev->qlen--;
		ev->busy = true;
		pthread_mutex_unlock(&ev->mu);
		char err[256];
		if (trig_events_post(ev, it->type, it->json, it->len, it->depth, NULL, NULL, NULL, err,
				     sizeof(err)) < 0)
			trig_error("event '%s' not dispatched: %s", it->type, err);
		free(it->type);
		free(it->json);
		free(it);
		pthread_mutex_lock(&ev->mu);
		ev->busy = false;
		ev->done++;
		if (!ev->head)
			pthread_cond_broadcast(&ev->idle);
	}
	ev->stopped = true;
	pthread_cond_broadcast(&ev->idle);
	pthread_mutex_unlock(&ev->mu);
	return NULL;
}

void trig_events_attach(struct trig_events *ev, struct trig_launcher *l, struct trig_guard *g,
			const struct trig_project *guard_project)
{
	pthread_mutex_lock(&ev->mu);
	ev->launcher = l;
	ev->guard = g;
	ev->gp = guard_project ? guard_project : ev->p;
	if (!ev->started && !ev->stopping) {
		int rc = pthread_create(&ev->thread, NULL, dispatcher_main, ev);
		if (rc != 0) {
			/* Without the thread, queued events are dispatched by
			 * nobody: say so loudly; posts still work. */
			trig_error("cannot start the event dispatcher: %s", strerror(rc));
			ev->stopping = ev->stopped = true;
		} else {
			ev->started = true;
		}
	}
	pthread_mutex_unlock(&ev->mu);
}

void trig_events_emit(struct trig_events *ev, const char *type, const char *json, size_t len,
		      unsigned depth)
{
	if (len > TRIG_EVENTS_MAX_BODY) {
		dropped(ev, type, "it is larger than 1 MiB");
		return;
	}
	pthread_mutex_lock(&ev->mu);
	if (ev->stopping) {
		pthread_mutex_unlock(&ev->mu);
		dropped(ev, type, "the event dispatcher has stopped");
		return;
	}
	if (ev->qlen >= TRIG_EVENTS_QUEUE_MAX) {
		pthread_mutex_unlock(&ev->mu);
		dropped(ev, type, "the event queue is full (10000 events waiting)");
		return;
	}
	struct qitem *it = trig_xcalloc(1, sizeof(*it));
	it->type = trig_xstrdup(type ? type : "");
	it->json = trig_xmalloc(len + 1);
	memcpy(it->json, json, len);
	it->json[len] = 0;
	it->len = len;
	it->depth = depth;
	if (ev->tail)
		ev->tail->next = it;
	else
		ev->head = it;
	ev->tail = it;
	ev->qlen++;
	pthread_cond_signal(&ev->work);
	pthread_mutex_unlock(&ev->mu);
}

void trig_events_hook(void *ctx, const char *type, const char *json, size_t len, unsigned depth)
{
	trig_events_emit(ctx, type, json, len, depth);
}

void trig_events_drain(struct trig_events *ev)
{
	pthread_mutex_lock(&ev->mu);
	while (ev->started && !ev->stopped && (ev->head || ev->busy))
		pthread_cond_wait(&ev->idle, &ev->mu);
	pthread_mutex_unlock(&ev->mu);
}

bool trig_events_quiet(struct trig_events *ev, uint64_t *done)
{
	pthread_mutex_lock(&ev->mu);
	bool quiet = !ev->head && !ev->busy;
	if (done)
		*done = ev->done;
	pthread_mutex_unlock(&ev->mu);
	return quiet;
}

void trig_events_stop(struct trig_events *ev)
{
	pthread_mutex_lock(&ev->mu);
	bool join = ev->started && !ev->stopping;
	ev->stopping = true;
	pthread_cond_broadcast(&ev->work);
	pthread_mutex_unlock(&ev->mu);
	if (join)
		pthread_join(ev->thread, NULL);
	/* Whatever no thread will dispatch (it never started). */
	pthread_mutex_lock(&ev->mu);
	struct qitem *it = ev->head;
	ev->head = ev->tail = NULL;
	ev->qlen = 0;
	pthread_mutex_unlock(&ev->mu);
	while (it) {
		struct qitem *next = it->next;
		dropped(ev, it->type, "the event dispatcher has stopped");
		free(it->type);
		free(it->json);
		free(it);
		it = next;
	}
}

void trig_events_free(struct trig_events *ev)
{
	if (!ev)
		return;
	trig_events_stop(ev);
	trig_json_query_free(ev->head_q);
	pthread_mutex_destroy(&ev->mu);
	pthread_cond_destroy(&ev->work);
	pthread_cond_destroy(&ev->idle);
	free(ev);
}

void trig_events_counts(struct trig_events *ev, uint64_t *posted, uint64_t *launches,
			uint64_t *ndropped)
{
	*posted = atomic_load(&ev->posted);
	*launches = atomic_load(&ev->launches);
	*ndropped = atomic_load(&ev->dropped);
}

/* ------------------------------------------------------------ posting */

/* Whether the refusal of a chain from LAUNCH should be logged: once per
 * launch the refused events come from. */
static bool first_refusal(struct trig_events *ev, const char *launch)
{
	pthread_mutex_lock(&ev->mu);
	bool first = true;
	for (unsigned i = 0; i < LOGGED_MAX && i < ev->nlogged; i++)
		if (!strcmp(ev->logged[i], launch))
			first = false;
	if (first)
		snprintf(ev->logged[ev->nlogged++ % LOGGED_MAX], sizeof(ev->logged[0]), "%s", launch);
	pthread_mutex_unlock(&ev->mu);
	return first;
}

static void summary_item(struct buf *b, bool *first, const char *trigger)
{
	buf_adds(b, *first ? "{\"trigger\":" : ",{\"trigger\":");
	*first = false;
	buf_json_cstr(b, trigger);
}

int trig_events_post(struct trig_events *ev, const char *type, const char *json, size_t len,
		     unsigned depth, const char *request_id, struct buf *result,
		     struct trig_events_stats *stats, char *err, size_t errlen)
{
	struct trig_events_stats st = { 0 };
	int64_t started_us = trig_monotonic_us();
	if (stats)
		*stats = st;
	if (!ev->launcher || !ev->guard) {
		snprintf(err, errlen, "the event dispatcher is not ready");
		return -1;
	}
	if (len > TRIG_EVENTS_MAX_BODY) {
		snprintf(err, errlen, "the event is larger than 1 MiB");
		return -1;
	}
	if (type && !trig_event_type_valid(type, strlen(type))) {
		snprintf(err, errlen, "the event type is not valid (expected [a-z][a-z0-9_.-]*, "
			 "at most %d characters)", TRIG_EVENT_TYPE_MAX);
		return -1;
	}
	struct trig_json_value h[H_N];
	struct trig_json_error jerr;
	if (trig_json_extract(ev->head_q, json ? json : "", len, h, &jerr) != 0) {
		snprintf(err, errlen, "the event is not valid JSON: %s at byte %zu", jerr.msg, jerr.offset);
		return -1;
	}
	if (h[H_DOC].type != TRIG_JSON_OBJECT) {
		snprintf(err, errlen, "the event is a JSON %s, not an object",
			 trig_json_type_name(h[H_DOC].type));
		return -1;
	}
	struct buf doc_type = BUF_INIT, doc = BUF_INIT, launch_of = BUF_INIT;
	int rc = -1;
	if (h[H_TYPE].type != TRIG_JSON_ABSENT) {
		if (h[H_TYPE].type != TRIG_JSON_STRING) {
			snprintf(err, errlen, "the event's \"type\" is a %s, not a string",
				 trig_json_type_name(h[H_TYPE].type));
			goto out;
		}
		trig_json_string(&h[H_TYPE], &doc_type);
		if (!trig_event_type_valid(doc_type.data, doc_type.len)) {
			snprintf(err, errlen, "the event's \"type\" is not a valid type (expected "
				 "[a-z][a-z0-9_.-]*, at most %d characters)", TRIG_EVENT_TYPE_MAX);
			goto out;
		}
		if (type && strcmp(type, doc_type.data) != 0) {
			snprintf(err, errlen, "the event's type '%s' differs from '%s' in the request",
				 doc_type.data, type);
			goto out;
		}
		type = doc_type.data;
		buf_add(&doc, json, len);
	} else if (!type) {
		snprintf(err, errlen, "the event has no \"type\" (send it to /events/TYPE, or add "
			 "\"type\" to the object)");
		goto out;
	} else {
		/* The type goes into the document, so event.type reads it. */
		const char *open = h[H_DOC].raw;
		const char *p = open + 1;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		buf_add(&doc, json, (size_t)(open + 1 - json));
		buf_adds(&doc, "\"type\":");
		buf_json_cstr(&doc, type);
		if (*p != '}')
			buf_addc(&doc, ',');
		buf_add(&doc, open + 1, len - (size_t)(open + 1 - json));
	}
	if (h[H_LAUNCH].type == TRIG_JSON_STRING)
		trig_json_string(&h[H_LAUNCH], &launch_of);
	atomic_fetch_add(&ev->posted, 1);

	char eid[TRIG_ID_MAX];
	trig_id_new(eid, 'n');
	if (result) {
		buf_printf(result, "{\"event\":\"%s\",\"type\":", eid);
		buf_json_cstr(result, type);
	}
	struct buf launched = BUF_INIT, skipped = BUF_INIT, errors = BUF_INIT;
	bool first_l = true, first_s = true, first_e = true;
	const char *rid = request_id ? request_id : eid;
	for (uint32_t i = 0; i < ev->p->ntriggers; i++) {
		const struct trig_trigger *t = &ev->p->triggers[i];
		if (!waits_for(t, type))
			continue;
		st.matched++;
		if (!(ev->state ? trig_state_enabled(ev->state, t->name, t->enabled) : t->enabled)) {
			st.disabled++;
			trig_launcher_audit(ev->launcher, t, TRIG_LAUNCH_EVENT, "disabled", 0, NULL, NULL,
					    started_us);
			summary_item(&skipped, &first_s, t->name);
			buf_adds(&skipped, ",\"outcome\":\"disabled\"}");
			continue;
		}
		struct trig_request r;
		trig_request_init(&r);
		char target[TRIG_EVENT_TYPE_MAX + 16];
		snprintf(target, sizeof(target), "/events/%s", type);
		trig_request_set_target(&r, "POST", target);
		trig_request_set_body(&r, doc.data, doc.len);
		struct trig_eval e;
		const struct trig_trigger *gt = &ev->gp->triggers[i];
		enum trig_verdict v = trig_guard_eval(ev->guard, gt, &r, trig_now_ms(), true, &e, NULL,
						      NULL);
		if (v == TRIG_VERDICT_PASS)
			v = trig_eval_payload(ev->guard, gt, &r, &e);
		if (v != TRIG_VERDICT_PASS) {
			const char *outcome = v == TRIG_VERDICT_BAD_REQUEST ? "error"
									: trig_verdict_outcome(v);
			const char *cond = e.failed ? e.failed->source : NULL;
			st.not_matched++;
			trig_launcher_audit(ev->launcher, t, TRIG_LAUNCH_EVENT, outcome, 0, cond,
					    e.reason, started_us);
			summary_item(&skipped, &first_s, t->name);
			buf_printf(&skipped, ",\"outcome\":\"%s\"", outcome);
			if (cond) {
				buf_adds(&skipped, ",\"condition\":");
				buf_json_cstr(&skipped, cond);
			}
			buf_adds(&skipped, ",\"reason\":");
			buf_json_cstr(&skipped, e.reason);
			buf_addc(&skipped, '}');
			trig_eval_release(&e);
			trig_request_release(&r);
			continue;
		}
		if (depth + 1 > TRIG_EVENTS_MAX_DEPTH) {
			static const char why[] = "event chain deeper than 8 launches: a trigger may "
						  "re-trigger itself";
			trig_guard_undo(ev->guard, gt, &e);
			st.failed++;
			trig_launcher_audit(ev->launcher, t, TRIG_LAUNCH_EVENT, "error", 0, NULL, why,
					    started_us);
			if (first_refusal(ev, launch_of.len ? launch_of.data : type))
				trig_error("trigger '%s' not launched for event '%s'%s%s: %s", t->name,
					   type, launch_of.len ? " of launch " : "",
					   launch_of.len ? launch_of.data : "", why);
			summary_item(&errors, &first_e, t->name);
			buf_adds(&errors, ",\"error\":");
			buf_json_cstr(&errors, why);
			buf_addc(&errors, '}');
			trig_eval_release(&e);
			trig_request_release(&r);
			continue;
		}
		struct trig_render_ctx values;
		trig_eval_render_ctx(&e, &r, &values);
		struct trig_launch_req lr = {
			.trigger = t, .kind = TRIG_LAUNCH_EVENT, .payload = doc.data,
			.payload_len = doc.len, .started_us = started_us, .values = &values,
			.request_id = rid, .depth = depth + 1,
		};
		struct trig_launch_info info;
		char lerr[512];
		int lrc = trig_launch(ev->launcher, &lr, &info, lerr, sizeof(lerr));
		if (lrc == 0) {
			st.launched++;
			atomic_fetch_add(&ev->launches, 1);
			summary_item(&launched, &first_l, t->name);
			buf_printf(&launched, ",\"launch\":\"%s\"}", info.id);
		} else {
			/* The launcher audited it ("skipped" or "error"). */
			trig_guard_undo(ev->guard, gt, &e);
			st.failed++;
			if (lrc < 0)
				trig_error("event '%s' (trigger '%s'): %s", type, t->name, lerr);
			summary_item(lrc > 0 ? &skipped : &errors, lrc > 0 ? &first_s : &first_e,
				     t->name);
			struct buf *b = lrc > 0 ? &skipped : &errors;
			buf_adds(b, lrc > 0 ? ",\"outcome\":\"skipped\",\"reason\":" : ",\"error\":");
			buf_json_cstr(b, lerr);
			buf_addc(b, '}');
		}
		trig_eval_release(&e);
		trig_request_release(&r);
	}
	if (result) {
		buf_adds(result, ",\"launches\":[");
		buf_add(result, launched.data, launched.len);
		buf_adds(result, "],\"not_matched\":[");
		buf_add(result, skipped.data, skipped.len);
		buf_adds(result, "],\"errors\":[");
		buf_add(result, errors.data, errors.len);
		buf_adds(result, "]}");
	}
	buf_release(&launched);
	buf_release(&skipped);
	buf_release(&errors);
	rc = (int)st.launched;
out:
	if (stats)
		*stats = st;
	buf_release(&doc_type);
	buf_release(&doc);
	buf_release(&launch_of);
	return rc;
}
