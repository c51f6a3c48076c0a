/*
 * http.c — the libmicrohttpd server: webhooks, POST /events, run-info,
 * /healthz and /metrics (http.h).
 */
#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "buf.h"
#include "conditions.h"
#include "id.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "secret.h"
#include "timeutil.h"

/* What a request is for, once its headers are read. */
enum { Q_WEBHOOK, Q_EVENTS, Q_RUN_INFO };

/* Outcomes of event requests, for /metrics. */
static const char *const ev_outcomes[] = { "launched", "not-matched", "rejected", "error" };
#define EV_OUTCOMES (sizeof(ev_outcomes) / sizeof(ev_outcomes[0]))

struct trig_http {
	struct MHD_Daemon *d;
	const struct trig_project *p;
	struct trig_http_config cfg;
	struct trig_metrics *metrics;
	unsigned port;
	atomic_uint inflight;           /* requests begun and not yet answered */
	pthread_mutex_t token_mu;       /* the admin token: requests read, reload swaps */
	bool token_set;
	uint8_t token_digest[32];       /* SHA-256 of the admin token */
	atomic_uint_fast64_t ev_requests[EV_OUTCOMES];
	/* Launches: a request that launches is suspended and handed to these
	 * threads, which wait for the journal's sync (many together: group
	 * commit) while the HTTP threads go on serving. */
	pthread_mutex_t lmu;
	pthread_cond_t lcv;
	struct hreq *lhead, *ltail;     /* waiting to be launched */
	bool lstop;
	pthread_t *lthreads;
	unsigned nlthreads;
};

/* One request in flight: made by the URI callback, freed when it ends. */
struct hreq {
	char *uri;                      /* as received: path and query */
	bool started;                   /* the headers were seen */
	const struct trig_trigger *t;   /* the webhook, or NULL */
	struct buf body;
	uint64_t limit;                 /* max-body */
	const char *outcome;            /* the audit outcome, for the metrics */
	int64_t started_us;
	char id[TRIG_ID_MAX];
	int mode;                       /* Q_* */
	char *event_type;               /* /events/TYPE: TYPE; /events: NULL */
	char *launch_id;                /* run-info */
	/* A launch on a launch thread: the connection is suspended, the
	 * judged request waits in w, the answer comes back in resp. */
	struct MHD_Connection *conn;
	struct wreq *w;
	bool async;                     /* answer() keeps the response in resp */
	struct MHD_Response *resp;
	unsigned resp_status;
	struct hreq *lnext;
};

/* A webhook request being judged and launched: the request model and the
 * conditions' verdict, on the heap so that a launch thread can finish it. */
struct wreq {
	struct trig_request r;
	struct trig_eval e;
};

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct trig_http *h = cls;
	(void)c;
	atomic_fetch_add(&h->inflight, 1);
	struct hreq *q = trig_xcalloc(1, sizeof(*q));
	q->uri = trig_xstrdup(uri);
	q->started_us = trig_monotonic_us();
	trig_id_new(q->id, 'r');
	return q;
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode code)
{
	struct trig_http *h = cls;
	(void)c;
	(void)code;
	struct hreq *q = *state;
	if (!q)
		return;
	if (q->mode == Q_EVENTS) {
		size_t k = EV_OUTCOMES - 1;     /* an event request ended early: error */
		for (size_t i = 0; q->outcome && i < EV_OUTCOMES; i++)
			if (!strcmp(q->outcome, ev_outcomes[i]))
				k = i;
		atomic_fetch_add_explicit(&h->ev_requests[k], 1, memory_order_relaxed);
	} else {
		trig_metrics_request(h->metrics, q->outcome ? q->t : NULL,
				     q->outcome ? trig_metrics_outcome(q->outcome) : -1,
				     trig_monotonic_us() - q->started_us);
	}
	buf_release(&q->body);
	free(q->event_type);
	free(q->launch_id);
	free(q->uri);
	if (q->resp)
		MHD_destroy_response(q->resp);
	free(q);
	*state = NULL;
	atomic_fetch_sub(&h->inflight, 1);
}

/* Queues response R (and lets go of it); on a launch thread, where the
 * connection is suspended, keeps it for the HTTP thread to queue. */
static enum MHD_Result queue_or_keep(struct MHD_Connection *c, struct hreq *q, unsigned status,
				     struct MHD_Response *r)
{
	if (q && q->async) {
		q->resp = r;
		q->resp_status = status;
		return MHD_YES;
	}
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer(struct MHD_Connection *c, struct hreq *q, unsigned status,
			    const char *type, const char *body, size_t len, const char *allow,
			    int64_t retry_after)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								  MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (q)
		MHD_add_response_header(r, "X-Request-Id", q->id);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (retry_after > 0) {
		char ra[24];
		snprintf(ra, sizeof(ra), "%lld", (long long)retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	return queue_or_keep(c, q, status, r);
}

static enum MHD_Result reply(struct MHD_Connection *c, struct hreq *q, unsigned status,
			     const char *type, const char *body)
{
	return answer(c, q, status, type, body, strlen(body), NULL, 0);
}

static enum MHD_Result reply_error(struct MHD_Connection *c, struct hreq *q, unsigned status,
				   const char *msg)
{
	char body[160];
	snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", msg);
	return reply(c, q, status, "application/json", body);
}

static const struct trig_trigger *route(const struct trig_project *p, const char *path)
{
	uint32_t lo = 0, hi = p->nroutes;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(path, p->routes[mid].path);
		if (cmp == 0)
			return &p->triggers[p->routes[mid].trigger];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
				  size_t key_len, const char *value, size_t value_len)
{
	(void)kind;
	trig_request_add_header(cls, key, key_len, value ? value : "", value ? value_len : 0);
	return MHD_YES;
}

static int status_of(const struct trig_trigger *t, enum trig_verdict v)
{
	switch (v) {
	case TRIG_VERDICT_NOT_MATCHED: return t->webhook->not_matched_status;
	case TRIG_VERDICT_REJECTED: return t->webhook->rejected_status;
	case TRIG_VERDICT_BAD_REQUEST: return MHD_HTTP_BAD_REQUEST;
	case TRIG_VERDICT_REPLAYED: return MHD_HTTP_CONFLICT;
	case TRIG_VERDICT_RATE_LIMITED: return MHD_HTTP_TOO_MANY_REQUESTS;
	default: return MHD_HTTP_ACCEPTED;
	}
}

static void audit(struct trig_http *h, struct hreq *q, const struct trig_request *r,
		  const char *outcome, int status, const struct trig_condition *c, const char *reason)
{
	q->outcome = outcome;
	struct trig_audit_request a = {
		.outcome = outcome, .request_id = q->id, .remote = r ? r->remote_text : NULL,
		.status = status, .condition = c ? c->source : NULL, .reason = reason,
		.started_us = q->started_us,
	};
	trig_launcher_audit_request(h->cfg.launcher, q->t, &a);
}

/* The respond action, rendered now that the launch has its id. */
static enum MHD_Result respond(struct MHD_Connection *c, struct hreq *q, const struct trig_action *a,
			       const struct trig_render_ctx *rc)
{
	const char *type = a->content_type ? a->content_type : "text/plain; charset=utf-8";
	bool json = strncmp(type, "application/json", 16) == 0;
	struct buf body = BUF_INIT;
	trig_render(&a->body, rc, json ? TRIG_ESC_JSON : TRIG_ESC_NONE, &body);
	struct MHD_Response *r = MHD_create_response_from_buffer(body.len, body.data ? body.data : "",
								  MHD_RESPMEM_MUST_COPY);
	buf_release(&body);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "X-Request-Id", q->id);
	for (uint32_t i = 0; i < a->nheaders; i++) {
		struct buf v = BUF_INIT;
		trig_render(&a->headers[i].value, rc, TRIG_ESC_NONE, &v);
		/* A header value never carries a line break from a request. */
		for (size_t k = 0; k < v.len; k++)
			if (v.data[k] == '\r' || v.data[k] == '\n')
				v.data[k] = ' ';
		MHD_add_response_header(r, a->headers[i].name, v.data ? v.data : "");
		buf_release(&v);
	}
	return queue_or_keep(c, q, (unsigned)(a->status ? a->status : 200), r);
}

static enum MHD_Result launch_judged(struct trig_http *h, struct MHD_Connection *c,
				     struct hreq *q, struct wreq *w);

static void wreq_free(struct wreq *w)
{
	if (!w)
		return;
	trig_eval_release(&w->e);
	trig_request_release(&w->r);
	free(w);
}

/* The whole request is in: judge it, then launch (on a launch thread,
 * the connection suspended meanwhile) and answer. */
static enum MHD_Result webhook(struct trig_http *h, struct MHD_Connection *c, struct hreq *q,
			       const char *method)
{
	const struct trig_trigger *t = q->t;
	struct wreq *w = trig_xcalloc(1, sizeof(*w));
	struct trig_request *r = &w->r;
	trig_request_init(r);
	enum MHD_Result ret;
	if (trig_request_set_target(r, method, q->uri) != 0) {
		audit(h, q, r, "error", 400, NULL, "the query string is malformed");
		ret = reply_error(c, q, MHD_HTTP_BAD_REQUEST, "bad request");
		trig_request_release(r);
		free(w);
		return ret;
	}
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, add_header, r);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	trig_request_set_remote(r, ci ? ci->client_addr : NULL);
	trig_request_set_body(r, q->body.data ? q->body.data : "", q->body.len);

	struct trig_eval *e = &w->e;
	enum trig_verdict v = trig_guard_eval(h->cfg.guard, t, r, trig_now_ms(), true, e, NULL, NULL);
	if (v == TRIG_VERDICT_PASS)
		v = trig_eval_payload(h->cfg.guard, t, r, e);
	if (v != TRIG_VERDICT_PASS) {
		int status = status_of(t, v);
		audit(h, q, r, v == TRIG_VERDICT_BAD_REQUEST ? "error" : trig_verdict_outcome(v), status,
		      e->failed, e->reason);
		if (v == TRIG_VERDICT_NOT_MATCHED) {
			struct buf b = BUF_INIT;
			buf_adds(&b, "{\"trigger\":");
			buf_json_cstr(&b, t->name);
			buf_adds(&b, ",\"launched\":false}\n");
			ret = answer(c, q, (unsigned)status, "application/json", b.data, b.len, NULL, 0);
			buf_release(&b);
		} else {
			/* Never why: the audit record says it. */
			static const char *const words[] = {
				"", "", "unauthorized", "bad request", "replayed", "rate limited"
			};
			char body[64];
			snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", words[v]);
			ret = answer(c, q, (unsigned)status, "application/json", body, strlen(body), NULL,
				   v == TRIG_VERDICT_RATE_LIMITED ? e->retry_after_s : 0);
		}
		wreq_free(w);
		return ret;
	}
	pthread_mutex_lock(&h->lmu);
	if (h->nlthreads && !h->lstop) {
		/* To a launch thread: this HTTP thread does not wait for the
		 * journal's sync.  The answer comes back through resp. */
		q->w = w;
		q->conn = c;
		q->async = true;
		MHD_suspend_connection(c);
		q->lnext = NULL;
		if (h->ltail)
			h->ltail->lnext = q;
		else
			h->lhead = q;
		h->ltail = q;
		pthread_cond_signal(&h->lcv);
		pthread_mutex_unlock(&h->lmu);
		return MHD_YES;
	}
	pthread_mutex_unlock(&h->lmu);
	/* No launch threads (or they have stopped: the server is stopping
	 * and a keep-alive connection sent one more): launch here. */
	ret = launch_judged(h, c, q, w);
	wreq_free(w);
	return ret;
}

/* Launches a request its conditions passed, and answers it (or, on a
 * launch thread, prepares the answer). */
static enum MHD_Result launch_judged(struct trig_http *h, struct MHD_Connection *c,
				     struct hreq *q, struct wreq *w)
{
	const struct trig_trigger *t = q->t;
	struct trig_request *r = &w->r;
	struct trig_eval *e = &w->e;
	enum MHD_Result ret;
	struct trig_render_ctx values;
	trig_eval_render_ctx(e, r, &values);
	struct trig_launch_req lr = {
		.trigger = t, .kind = TRIG_LAUNCH_WEBHOOK, .started_us = q->started_us,
		.payload = r->body, .payload_len = r->body_len, .values = &values, .request_id = q->id,
	};
	struct trig_launch_info info;
	char err[512];
	int lrc = trig_launch(h->cfg.launcher, &lr, &info, err, sizeof(err));
	if (lrc > 0) {
		/* max-concurrent, when-busy: skip.  trig_launch wrote the audit
		 * record; the request was fine, nothing is to be tried again. */
		trig_guard_undo(h->cfg.guard, t, e);
		q->outcome = "skipped";
		struct buf b = BUF_INIT;
		buf_adds(&b, "{\"trigger\":");
		buf_json_cstr(&b, t->name);
		buf_adds(&b, ",\"launched\":false,\"reason\":\"busy\"}\n");
		ret = answer(c, q, MHD_HTTP_OK, "application/json", b.data, b.len, NULL, 0);
		buf_release(&b);
		return ret;
	}
	if (lrc != 0) {
		/* trig_launch wrote the audit record; nothing was launched, so a
		 * 503 tells the sender to try again (a full queue: later). */
		int e0 = errno;
		trig_error("request %s (trigger '%s'): %s", q->id, t->name, err);
		trig_guard_undo(h->cfg.guard, t, e);
		q->outcome = "error";
		static const char busy[] = "{\"error\":\"the launch could not be accepted\"}\n";
		return answer(c, q, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", busy,
			      sizeof(busy) - 1, NULL, e0 == EAGAIN || e0 == EBUSY ? 5 : 0);
	}
	q->outcome = "launched";
	const struct trig_action *resp = NULL;
	for (uint32_t i = 0; i < t->nactions; i++)
		if (t->actions[i].kind == TRIG_ACTION_RESPOND)
			resp = &t->actions[i];
	if (resp) {
		values.trigger = t->name;
		values.launch_id = info.id;
		values.lookup = trig_launch_info_lookup;     /* actions.NAME.id */
		values.lookup_ctx = &info;
		return respond(c, q, resp, &values);
	}
	struct buf b = BUF_INIT;
	buf_adds(&b, "{\"trigger\":");
	buf_json_cstr(&b, t->name);
	buf_printf(&b, ",\"launch\":\"%s\"}\n", info.id);
	ret = answer(c, q, MHD_HTTP_ACCEPTED, "application/json", b.data, b.len, NULL, 0);
	buf_release(&b);
	return ret;
}

/* A launch thread: launches the requests handed to it, keeps each answer
 * in its request and resumes its connection; the HTTP thread then sends
 * it (handle()).  Many wait for the journal's sync together. */
static void *launch_main(void *arg)
{
	struct trig_http *h = arg;
	for (;;) {
		pthread_mutex_lock(&h->lmu);
		while (!h->lhead && !h->lstop)
			pthread_cond_wait(&h->lcv, &h->lmu);
		struct hreq *q = h->lhead;
		if (q) {
			h->lhead = q->lnext;
			if (!h->lhead)
				h->ltail = NULL;
		}
		pthread_mutex_unlock(&h->lmu);
		if (!q)
			return NULL;            /* stopping, nothing left */
		struct wreq *w = q->w;
		q->w = NULL;
		if (launch_judged(h, q->conn, q, w) != MHD_YES && !q->resp)
			q->resp_status = 0;     /* could not even make an answer: close */
		wreq_free(w);
		MHD_resume_connection(q->conn);
	}
}

/* ------------------------------------------------------------ the admin token */

int trig_admin_token_read(struct buf *out, char *err, size_t errlen)
{
	const char *file = getenv("TRIG_ADMIN_TOKEN_FILE");
	buf_reset(out);
	if (file && *file) {
		struct trig_secret s = { TRIG_SECRET_FILE, file };
		if (trig_secret_read(&s, out, err, errlen) != 0)
			return -1;
	} else {
		const char *v = getenv("TRIG_ADMIN_TOKEN");
		if (v)
			buf_adds(out, v);
	}
	return out->len ? 1 : 0;
}

int trig_http_reload(struct trig_http *h, char *err, size_t errlen)
{
	struct buf tok = BUF_INIT;
	int rc = trig_admin_token_read(&tok, err, errlen);
	if (rc < 0) {
		trig_secret_release(&tok);
		return -1;
	}
	uint8_t d[32];
	if (rc)
		EVP_Digest(tok.data, tok.len, d, NULL, EVP_sha256(), NULL);
	trig_secret_release(&tok);
	pthread_mutex_lock(&h->token_mu);
	h->token_set = rc == 1;
	memcpy(h->token_digest, d, sizeof(d));
	pthread_mutex_unlock(&h->token_mu);
	OPENSSL_cleanse(d, sizeof(d));
	return 0;
}

/* The admin token of a request: 1 it matches, 0 it does not (or none was
 * sent), -1 no admin token is configured.  *why says which. */
static int admin_auth(struct trig_http *h, struct trig_request *r, const char **why)
{
	size_t len;
	const char *v = trig_request_header(r, "Authorization", &len);
	if (v && len >= 7 && strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7;
		len -= 7;
	} else if (v) {
		v = NULL;       /* another scheme: ?token= may still be given */
	}
	if (!v)
		v = trig_request_query(r, "token", &len);
	uint8_t d[32], want[32];
	bool set;
	pthread_mutex_lock(&h->token_mu);
	set = h->token_set;
	memcpy(want, h->token_digest, sizeof(want));
	pthread_mutex_unlock(&h->token_mu);
	if (!set) {
		*why = "events are disabled: TRIG_ADMIN_TOKEN is not set";
		return -1;
	}
	if (!v) {
		*why = "no admin token ('Authorization: Bearer' header or 'token' query parameter)";
		return 0;
	}
	/* SHA-256 of both, compared in constant time: neither the length nor
	 * the contents of the token leak through timing. */
	EVP_Digest(v, len, d, NULL, EVP_sha256(), NULL);
	int ok = CRYPTO_memcmp(d, want, sizeof(d)) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	*why = ok ? NULL : "the admin token does not match";
	return ok;
}

/* ------------------------------------------------------------ events */

/* The events' lines of /metrics, after metrics.h's. */
static void events_metrics(struct trig_http *h, struct buf *b)
{
	buf_adds(b, "# HELP trig_event_requests_total POST /events requests by outcome.\n"
		    "# TYPE trig_event_requests_total counter\n");
	for (size_t i = 0; i < EV_OUTCOMES; i++)
		buf_printf(b, "trig_event_requests_total{outcome=\"%s\"} %llu\n", ev_outcomes[i],
			   (unsigned long long)atomic_load_explicit(&h->ev_requests[i],
								    memory_order_relaxed));
	if (!h->cfg.events)
		return;
	uint64_t posted, launches, dropped;
	trig_events_counts(h->cfg.events, &posted, &launches, &dropped);
	buf_printf(b, "# HELP trig_events_total Events dispatched (posted and emitted by the runtime).\n"
		      "# TYPE trig_events_total counter\ntrig_events_total %llu\n"
		      "# HELP trig_event_launches_total Launches made by notification triggers.\n"
		      "# TYPE trig_event_launches_total counter\ntrig_event_launches_total %llu\n"
		      "# HELP trig_events_dropped_total Events not dispatched (queue full, stopping).\n"
		      "# TYPE trig_events_dropped_total counter\ntrig_events_dropped_total %llu\n",
		   (unsigned long long)posted, (unsigned long long)launches,
		   (unsigned long long)dropped);
}

/* The audit record of an event request (no one trigger: "trigger" is
 * null; the launches and not-matched decisions have their own records). */
static void audit_event(struct trig_http *h, struct hreq *q, const struct trig_request *r,
			const char *outcome, int status, const char *type, const char *reason,
			const char *summary, size_t summary_len)
{
	q->outcome = outcome;
	if (!h->cfg.audit)
		return;
	char now[TRIG_RFC3339_MAX];
	trig_format_rfc3339(now, trig_now_ms(), 3);
	struct buf b = BUF_INIT;
	buf_printf(&b, "{\"time\":\"%s\",\"trigger\":null,\"kind\":\"event\",\"outcome\":\"%s\"",
		   now, outcome);
	buf_adds(&b, ",\"event\":");
	buf_json_cstr(&b, type);
	buf_printf(&b, ",\"request\":\"%s\"", q->id);
	if (r && r->remote_text[0]) {
		buf_adds(&b, ",\"remote\":");
		buf_json_cstr(&b, r->remote_text);
	}
	buf_printf(&b, ",\"status\":%d", status);
	if (reason) {
		buf_adds(&b, ",\"reason\":");
		buf_json_cstr(&b, reason);
	}
	if (summary) {
		buf_adds(&b, ",\"dispatch\":");
		buf_add(&b, summary, summary_len);
	}
	buf_printf(&b, ",\"duration_us\":%lld}", (long long)(trig_monotonic_us() - q->started_us));
	if (trig_audit_write(h->cfg.audit, b.data, b.len) != 0)
		trig_warn("cannot write the audit log: %s", strerror(errno));
	buf_release(&b);
}

static void fill_request(struct MHD_Connection *c, struct trig_request *r)
{
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, add_header, r);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	trig_request_set_remote(r, ci ? ci->client_addr : NULL);
}

/* The headers of an event request: refuse what can be refused unread. */
static enum MHD_Result events_head(struct trig_http *h, struct MHD_Connection *c, struct hreq *q,
				   const char *url, const char *method)
{
	q->mode = Q_EVENTS;
	if (url[7] == '/')
		q->event_type = trig_xstrdup(url + 8);
	if (strcmp(method, "POST") != 0)
		return answer(c, q, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
			      "{\"error\":\"method not allowed\"}\n", 31, "POST", 0);
	struct trig_request r;
	trig_request_init(&r);
	enum MHD_Result ret = MHD_YES;
	if (trig_request_set_target(&r, method, q->uri) != 0) {
		audit_event(h, q, NULL, "error", 400, NULL, "the query string is malformed", NULL, 0);
		ret = reply_error(c, q, MHD_HTTP_BAD_REQUEST, "bad request");
		goto out;
	}
	fill_request(c, &r);
	const char *why;
	int auth = admin_auth(h, &r, &why);
	if (auth <= 0) {
		audit_event(h, q, &r, "rejected", auth < 0 ? 403 : 401, NULL, why, NULL, 0);
		if (auth < 0)
			ret = reply_error(c, q, MHD_HTTP_FORBIDDEN,
					  "events are disabled: TRIG_ADMIN_TOKEN is not set");
		else
			ret = reply_error(c, q, MHD_HTTP_UNAUTHORIZED, "unauthorized");
		goto out;
	}
	q->limit = TRIG_EVENTS_MAX_BODY;
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > q->limit) {
		audit_event(h, q, &r, "error", 413, q->event_type, "the event is larger than 1 MiB",
			    NULL, 0);
		ret = reply_error(c, q, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
	}
out:
	trig_request_release(&r);
	return ret;
}

/* The whole event is in: dispatch it, answer with the summary. */
static enum MHD_Result events_body(struct trig_http *h, struct MHD_Connection *c, struct hreq *q)
{
	struct trig_request r;
	trig_request_init(&r);
	trig_request_set_target(&r, "POST", q->uri);
	fill_request(c, &r);
	struct buf summary = BUF_INIT;
	struct trig_events_stats st;
	char err[512];
	enum MHD_Result ret;
	int n = trig_events_post(h->cfg.events, q->event_type, q->body.data ? q->body.data : "",
				 q->body.len, 0, q->id, &summary, &st, err, sizeof(err));
	if (n < 0) {
		audit_event(h, q, &r, "error", 400, q->event_type, err, NULL, 0);
		struct buf b = BUF_INIT;
		buf_adds(&b, "{\"error\":");
		buf_json_cstr(&b, err);
		buf_adds(&b, "}\n");
		ret = answer(c, q, MHD_HTTP_BAD_REQUEST, "application/json", b.data, b.len, NULL, 0);
		buf_release(&b);
	} else {
		unsigned status = n > 0 ? MHD_HTTP_ACCEPTED : MHD_HTTP_OK;
		/* The type the dispatcher settled on is in the summary. */
		audit_event(h, q, &r, n > 0 ? "launched" : "not-matched", (int)status, q->event_type,
			    NULL, summary.data, summary.len);
		buf_addc(&summary, '\n');
		ret = answer(c, q, status, "application/json", summary.data, summary.len, NULL, 0);
	}
	buf_release(&summary);
	trig_request_release(&r);
	return ret;
}

/* ------------------------------------------------------------ run-info */

static bool is_auth(enum trig_cond_kind k)
{
	return k == TRIG_COND_TOKEN || k == TRIG_COND_HMAC || k == TRIG_COND_JWT ||
	       k == TRIG_COND_TIMESTAMP || k == TRIG_COND_IP_ALLOW;
}

/*
 * Runs T's authentication conditions only.  conditions.c has no such mode,
 * so: the conditions are evaluated without committing (no replay id
 * remembered, no budget spent), and since the compiler puts every
 * authentication condition before the others, a verdict other than
 * REJECTED means all of them passed — unless an authentication condition
 * comes after another one in this table, which then must PASS as a whole
 * (fail closed).
 */
static bool authenticate(struct trig_http *h, const struct trig_trigger *t, struct trig_request *r,
			 struct trig_eval *e)
{
	enum trig_verdict v = trig_guard_eval(h->cfg.guard, t, r, trig_now_ms(), false, e, NULL, NULL);
	if (v == TRIG_VERDICT_PASS)
		return true;
	if (v == TRIG_VERDICT_REJECTED)
		return false;
	bool seen_other = false;
	for (uint32_t i = 0; i < t->nconditions; i++) {
		if (!is_auth(t->conditions[i].kind))
			seen_other = true;
		else if (seen_other)
			return false;
	}
	/* Not an authentication failure: say so in no reason of ours. */
	e->failed = NULL;
	e->reason[0] = 0;
	return true;
}

/* PATH is "<webhook path>/runs/<id>": its webhook (the longest path that
 * fits) and the id, or NULL. */
static const struct trig_trigger *run_info_route(const struct trig_project *p, const char *path,
						 char **id)
{
	size_t len = strlen(path);
	for (size_t i = len; i-- > 0;) {
		if (path[i] != '/' || len - i < 7 || memcmp(path + i, "/runs/", 6) != 0)
			continue;
		const char *rest = path + i + 6;
		if (strchr(rest, '/'))
			continue;
		char *prefix = trig_xmalloc(i + 1);
		memcpy(prefix, path, i);
		prefix[i] = 0;
		const struct trig_trigger *t = route(p, prefix);
		free(prefix);
		if (t) {
			*id = trig_xstrdup(rest);
			return t;
		}
	}
	return NULL;
}

static enum MHD_Result run_info(struct trig_http *h, struct MHD_Connection *c, struct hreq *q,
				const char *method)
{
	const struct trig_trigger *t = q->t;
	struct trig_request r;
	trig_request_init(&r);
	enum MHD_Result ret;
	if (trig_request_set_target(&r, method, q->uri) != 0) {
		ret = reply_error(c, q, MHD_HTTP_BAD_REQUEST, "bad request");
		goto out;
	}
	fill_request(c, &r);
	trig_request_set_body(&r, q->body.data ? q->body.data : "", q->body.len);
	struct trig_eval e;
	if (!authenticate(h, t, &r, &e)) {
		int status = t->webhook->rejected_status;
		audit(h, q, &r, "rejected", status, e.failed, e.reason);
		char body[64];
		snprintf(body, sizeof(body), "{\"error\":\"unauthorized\"}\n");
		ret = answer(c, q, (unsigned)status, "application/json", body, strlen(body), NULL, 0);
		trig_eval_release(&e);
		goto out;
	}
	trig_eval_release(&e);
	struct buf b = BUF_INIT;
	if (trig_launcher_run_info(h->cfg.launcher, t, q->launch_id, &b) != 0) {
		ret = reply_error(c, q, MHD_HTTP_NOT_FOUND, "no such launch");
	} else {
		buf_addc(&b, '\n');
		ret = answer(c, q, MHD_HTTP_OK, "application/json", b.data, b.len, NULL, 0);
	}
	buf_release(&b);
out:
	trig_request_release(&r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	struct trig_http *h = cls;
	struct hreq *q = *state;
	(void)version;

	if (!q->started) {
		/* The headers: route, and refuse what can be refused unread. */
		q->started = true;
		if (!strcmp(url, "/healthz")) {
			if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
				return answer(c, q, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
					    "{\"error\":\"method not allowed\"}\n", 31, "GET, HEAD", 0);
			return reply(c, q, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n");
		}
		if (!strcmp(url, "/metrics")) {
			if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
				return answer(c, q, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
					      "{\"error\":\"method not allowed\"}\n", 31, "GET, HEAD", 0);
			struct buf b = BUF_INIT;
			trig_metrics_render(h->metrics, h->cfg.launcher, &b);
			events_metrics(h, &b);
			enum MHD_Result ret = answer(c, q, MHD_HTTP_OK, "text/plain; version=0.0.4",
						     b.data, b.len, NULL, 0);
			buf_release(&b);
			return ret;
		}
		if (h->cfg.events && h->cfg.launcher &&
		    (!strcmp(url, "/events") || !strncmp(url, "/events/", 8)))
			return events_head(h, c, q, url, method);
		q->t = route(h->p, url);
		if (!q->t && h->cfg.launcher && h->cfg.guard) {
			q->t = run_info_route(h->p, url, &q->launch_id);
			if (q->t)
				q->mode = Q_RUN_INFO;
		}
		if (!q->t || !h->cfg.launcher)
			return reply_error(c, q, MHD_HTTP_NOT_FOUND, "not found");
		if (!trig_state_enabled(h->cfg.state, q->t->name, q->t->enabled)) {
			if (q->mode == Q_WEBHOOK)
				audit(h, q, NULL, "disabled", 404, NULL, NULL);
			return reply_error(c, q, MHD_HTTP_NOT_FOUND, "not found");
		}
		if (q->mode == Q_RUN_INFO) {
			if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
				return answer(c, q, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
					      "{\"error\":\"method not allowed\"}\n", 31, "GET, POST", 0);
		} else if (!(trig_method_bit(method) & q->t->webhook->methods)) {
			struct buf allow = BUF_INIT;
			trig_methods_join(q->t->webhook->methods, ", ", &allow);
			enum MHD_Result ret = answer(c, q, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
						     "{\"error\":\"method not allowed\"}\n", 31,
						     buf_cstr(&allow), 0);
			buf_release(&allow);
			return ret;
		}
		q->limit = q->t->webhook->max_body;
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > q->limit) {
			if (q->mode == Q_WEBHOOK)
				audit(h, q, NULL, "rejected", 413, NULL, "the body is larger than max-body");
			return reply_error(c, q, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
		}
		return MHD_YES;
	}
	if (q->async) {
		/* Resumed: the launch thread left the answer (none: close). */
		q->async = false;
		if (!q->resp)
			return MHD_NO;
		enum MHD_Result ret = MHD_queue_response(c, q->resp_status, q->resp);
		MHD_destroy_response(q->resp);
		q->resp = NULL;
		return ret;
	}
	if (*upload_size) {
		if (q->body.len + *upload_size > q->limit) {
			/* A chunked body grew past the limit.  libmicrohttpd takes no
			 * response in the middle of a body, and reading the rest
			 * would be what the limit forbids: close the connection. */
			if (q->mode == Q_EVENTS)
				audit_event(h, q, NULL, "error", 413, q->event_type,
					    "the chunked body grew larger than 1 MiB; connection closed",
					    NULL, 0);
			else if (q->mode == Q_WEBHOOK)
				audit(h, q, NULL, "rejected", 413, NULL,
				      "the chunked body grew larger than max-body; connection closed");
			return MHD_NO;
		}
		buf_add(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->mode == Q_EVENTS)
		return events_body(h, c, q);
	if (q->mode == Q_RUN_INFO)
		return run_info(h, c, q, method);
	return webhook(h, c, q, method);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
		msg[--n] = 0;
	trig_debug("http: %s", msg);
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
			size_t errlen)
{
	char host[256];
	const char *port;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = 0;
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			goto bad;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = 0;
		port = colon + 1;
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535)
		goto bad;
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	int rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
bad:
	snprintf(err, errlen, "bad listen address '%s' (expected HOST:PORT, [IPV6]:PORT or :PORT)", s);
	return -1;
}

/* Lets the launch threads finish the launches queued, then joins them. */
static void launch_threads_stop(struct trig_http *h)
{
	pthread_mutex_lock(&h->lmu);
	h->lstop = true;
	pthread_cond_broadcast(&h->lcv);
	pthread_mutex_unlock(&h->lmu);
	for (unsigned i = 0; i < h->nlthreads; i++)
		pthread_join(h->lthreads[i], NULL);
	free(h->lthreads);
	h->lthreads = NULL;
	pthread_mutex_lock(&h->lmu);
	h->nlthreads = 0;
	pthread_mutex_unlock(&h->lmu);
}

struct trig_http *trig_http_start(const struct trig_project *p, const struct trig_http_config *cfg,
				  char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (parse_listen(cfg->listen, &ss, &sslen, err, errlen) != 0)
		return NULL;
	struct trig_http *h = trig_xcalloc(1, sizeof(*h));
	h->p = p;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned workers = cfg->workers ? cfg->workers : ncpu > 0 ? (unsigned)ncpu : 1;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->cfg = *cfg;
	pthread_mutex_init(&h->token_mu, NULL);
	for (size_t i = 0; i < EV_OUTCOMES; i++)
		atomic_init(&h->ev_requests[i], 0);
	if (cfg->events && trig_http_reload(h, err, errlen) != 0) {
		pthread_mutex_destroy(&h->token_mu);
		free(h);
		return NULL;
	}
	h->metrics = trig_metrics_new(p);
	pthread_mutex_init(&h->lmu, NULL);
	pthread_cond_init(&h->lcv, NULL);
	if (cfg->launcher) {
		/* The launch threads: a request that launches waits in one for
		 * the journal's fdatasync, together with the others (group
		 * commit), while the HTTP threads go on serving. */
		unsigned n = cfg->launch_threads ? cfg->launch_threads : 64;
		h->lthreads = trig_xcalloc(n, sizeof(*h->lthreads));
		for (unsigned i = 0; i < n; i++) {
			int e = pthread_create(&h->lthreads[i], NULL, launch_main, h);
			if (e != 0) {
				if (!h->nlthreads) {
					snprintf(err, errlen, "cannot start a thread: %s", strerror(e));
					free(h->lthreads);
					trig_metrics_free(h->metrics);
					pthread_mutex_destroy(&h->token_mu);
					free(h);
					return NULL;
				}
				break;
			}
			h->nlthreads++;
		}
	}
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
				MHD_OPTION_URI_LOG_CALLBACK, uri_cb, h,
				MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_THREAD_POOL_SIZE, workers,
				MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections ? cfg->max_connections : 1024,
				MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s ? cfg->timeout_s : 30,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on '%s': %s", cfg->listen,
			 errno ? strerror(errno) : "libmicrohttpd refused to start");
		launch_threads_stop(h);
		pthread_mutex_destroy(&h->lmu);
		pthread_cond_destroy(&h->lcv);
		trig_metrics_free(h->metrics);
		pthread_mutex_destroy(&h->token_mu);
		OPENSSL_cleanse(h->token_digest, sizeof(h->token_digest));
		free(h);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	return h;
}

unsigned trig_http_port(const struct trig_http *h)
{
	return h->port;
}

void trig_http_stop(struct trig_http *h)
{
	if (!h)
		return;
	/* Stop accepting, let the requests in flight be answered (a launch
	 * being journalled is acknowledged), then close every connection. */
	MHD_quiesce_daemon(h->d);
	for (int i = 0; i < 1000 && atomic_load(&h->inflight); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&h->inflight))
		trig_warn("%u requests still in flight after 10s; closing them",
			  atomic_load(&h->inflight));
	/* The launch threads finish what they were handed (each launch is
	 * journalled or refused, and its connection resumed) before the
	 * daemon, which must not stop with a connection suspended. */
	launch_threads_stop(h);
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lmu);
	pthread_cond_destroy(&h->lcv);
	trig_metrics_free(h->metrics);
	pthread_mutex_destroy(&h->token_mu);
	OPENSSL_cleanse(h->token_digest, sizeof(h->token_digest));
	free(h);
}
