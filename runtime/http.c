/*
 * http.c — the libmicrohttpd server.
 */
#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "conditions.h"
#include "id.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "timeutil.h"

struct trig_http {
	struct MHD_Daemon *d;
	const struct trig_project *p;
	struct trig_http_config cfg;
	struct trig_metrics *metrics;
	unsigned port;
	atomic_uint inflight;           /* requests begun and not yet answered */
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
	trig_metrics_request(h->metrics, q->outcome ? q->t : NULL,
			     q->outcome ? trig_metrics_outcome(q->outcome) : -1,
			     trig_monotonic_us() - q->started_us);
	buf_release(&q->body);
	free(q->uri);
	free(q);
	*state = NULL;
	atomic_fetch_sub(&h->inflight, 1);
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
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
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
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)(a->status ? a->status : 200), r);
	MHD_destroy_response(r);
	return ret;
}

/* The whole request is in: judge it, launch, answer. */
static enum MHD_Result webhook(struct trig_http *h, struct MHD_Connection *c, struct hreq *q,
			       const char *method)
{
	const struct trig_trigger *t = q->t;
	struct trig_request r;
	trig_request_init(&r);
	enum MHD_Result ret;
	if (trig_request_set_target(&r, method, q->uri) != 0) {
		audit(h, q, &r, "error", 400, NULL, "the query string is malformed");
		ret = reply_error(c, q, MHD_HTTP_BAD_REQUEST, "bad request");
		goto out;
	}
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, add_header, &r);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	trig_request_set_remote(&r, ci ? ci->client_addr : NULL);
	trig_request_set_body(&r, q->body.data ? q->body.data : "", q->body.len);

	struct trig_eval e;
	enum trig_verdict v = trig_guard_eval(h->cfg.guard, t, &r, trig_now_ms(), true, &e, NULL, NULL);
	if (v == TRIG_VERDICT_PASS)
		v = trig_eval_payload(h->cfg.guard, t, &r, &e);
	if (v != TRIG_VERDICT_PASS) {
		int status = status_of(t, v);
		audit(h, q, &r, v == TRIG_VERDICT_BAD_REQUEST ? "error" : trig_verdict_outcome(v), status,
		      e.failed, e.reason);
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
				   v == TRIG_VERDICT_RATE_LIMITED ? e.retry_after_s : 0);
		}
		trig_eval_release(&e);
		goto out;
	}

	struct trig_render_ctx values;
	trig_eval_render_ctx(&e, &r, &values);
	struct trig_launch_req lr = {
		.trigger = t, .kind = TRIG_LAUNCH_WEBHOOK, .started_us = q->started_us,
		.payload = r.body, .payload_len = r.body_len, .values = &values, .request_id = q->id,
	};
	struct trig_launch_info info;
	char err[512];
	if (trig_launch(h->cfg.launcher, &lr, &info, err, sizeof(err)) != 0) {
		/* trig_launch wrote the audit record; nothing was launched, so a
		 * 503 tells the sender to try again. */
		trig_error("request %s (trigger '%s'): %s", q->id, t->name, err);
		trig_guard_undo(h->cfg.guard, t, &e);
		q->outcome = "error";
		ret = reply_error(c, q, MHD_HTTP_SERVICE_UNAVAILABLE, "the launch could not be accepted");
		trig_eval_release(&e);
		goto out;
	}
	q->outcome = "launched";
	const struct trig_action *resp = NULL;
	for (uint32_t i = 0; i < t->nactions; i++)
		if (t->actions[i].kind == TRIG_ACTION_RESPOND)
			resp = &t->actions[i];
	if (resp) {
		values.trigger = t->name;
		values.launch_id = info.id;
		ret = respond(c, q, resp, &values);
	} else {
		struct buf b = BUF_INIT;
		buf_adds(&b, "{\"trigger\":");
		buf_json_cstr(&b, t->name);
		buf_printf(&b, ",\"launch\":\"%s\"}\n", info.id);
		ret = answer(c, q, MHD_HTTP_ACCEPTED, "application/json", b.data, b.len, NULL, 0);
		buf_release(&b);
	}
	trig_eval_release(&e);
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
			enum MHD_Result ret = answer(c, q, MHD_HTTP_OK, "text/plain; version=0.0.4",
						     b.data, b.len, NULL, 0);
			buf_release(&b);
			return ret;
		}
		q->t = route(h->p, url);
		if (!q->t || !h->cfg.launcher)
			return reply_error(c, q, MHD_HTTP_NOT_FOUND, "not found");
		if (!trig_state_enabled(h->cfg.state, q->t->name, q->t->enabled)) {
			audit(h, q, NULL, "disabled", 404, NULL, NULL);
			return reply_error(c, q, MHD_HTTP_NOT_FOUND, "not found");
		}
		if (!(trig_method_bit(method) & q->t->webhook->methods)) {
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
			audit(h, q, NULL, "rejected", 413, NULL, "the body is larger than max-body");
			return reply_error(c, q, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (q->body.len + *upload_size > q->limit) {
			/* A chunked body grew past the limit.  libmicrohttpd takes no
			 * response in the middle of a body, and reading the rest
			 * would be what the limit forbids: close the connection. */
			audit(h, q, NULL, "rejected", 413, NULL,
			      "the chunked body grew larger than max-body; connection closed");
			return MHD_NO;
		}
		buf_add(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
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
			 MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->cfg = *cfg;
	h->metrics = trig_metrics_new(p);
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
		trig_metrics_free(h->metrics);
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
	MHD_stop_daemon(h->d);
	trig_metrics_free(h->metrics);
	free(h);
}
