/*
 * valohai.c — the Valohai backend: REST calls to Valohai's API v0 over
 * libcurl's easy interface, with retries, idempotency keys and no secret
 * in any message (valohai.h).
 */
#include "valohai.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "json.h"
#include "json_iter.h"
#include "log.h"

#ifndef TRIG_VERSION
#define TRIG_VERSION "dev"
#endif

#define DEFAULT_ATTEMPTS 5
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_BACKOFF_MS 500
#define MAX_BACKOFF_MS 8000
#define MAX_RETRY_AFTER_MS 60000
#define DEFAULT_POLL_MS 2000
#define MAX_ANSWER (8u << 20)   /* bytes of an API answer kept */
#define SHOWN 200               /* bytes of an error answer quoted */

struct trig_valohai {
	char *url;              /* no trailing slash */
	pthread_mutex_t mu;     /* guards token and auth (SIGHUP rotates them) */
	char *token;
	char **old;             /* tokens rotated away: still masked, freed at the end */
	size_t nold;
	atomic_bool cancelled;  /* trig_valohai_cancel(): stop waiting, stop retrying */
	char *project;
	char *auth;             /* "Authorization: Token ..." */
	bool http;              /* plain http to a loopback host */
	unsigned attempts;
	int64_t timeout_ms, connect_ms, backoff_ms;
	struct trig_json_query *whole;  /* slot 0: the whole document */
};

/* ------------------------------------------------------------ helpers */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void scrub(struct trig_valohai *v, char *err, size_t errlen);

/* fail(), the token masked before the message is cut to errlen. */
static void fail_masked(struct trig_valohai *v, char *err, size_t errlen,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fail_masked(struct trig_valohai *v, char *err, size_t errlen,
			const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	scrub(v, tmp, sizeof(tmp));
	snprintf(err, errlen, "%s", tmp);
}

/* Replaces every occurrence of the token in err by "***" (err stays
 * NUL-terminated within errlen; the text after a replacement is searched
 * on, never the mask itself). */
static void scrub_one(const char *token, char *err, size_t errlen)
{
	size_t tl = token ? strlen(token) : 0;
	if (!tl || !errlen)
		return;
	char *from = err, *p;
	while ((p = strstr(from, token))) {
		size_t off = (size_t)(p - err), rest = strlen(p + tl);
		if (off + 4 > errlen) {
			*p = 0;
			break;
		}
		if (rest > errlen - off - 4)
			rest = errlen - off - 4;
		memmove(p + 3, p + tl, rest);
		p[3 + rest] = 0;
		memcpy(p, "***", 3);
		from = p + 3;
	}
}

static void scrub(struct trig_valohai *v, char *err, size_t errlen)
{
	if (!v)
		return;
	pthread_mutex_lock(&v->mu);
	scrub_one(v->token, err, errlen);
	for (size_t i = 0; i < v->nold; i++)
		scrub_one(v->old[i], err, errlen);
	pthread_mutex_unlock(&v->mu);
}

/* 1: an https URL; 0: an http URL to a loopback host; -1: neither. */
static int url_kind(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int kind = -1;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (!strcasecmp(scheme, "https"))
			kind = 1;
		else if (!strcasecmp(scheme, "http") &&
			 (!strcasecmp(host, "localhost") || !strcmp(host, "127.0.0.1") ||
			  !strcmp(host, "[::1]")))
			kind = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return kind;
}

/* Sleeps MS, in slices, until cancelled: false when cancelled. */
static bool sleep_ms(struct trig_valohai *v, int64_t ms)
{
	while (ms > 0 && !atomic_load(&v->cancelled)) {
		int64_t d = ms < 100 ? ms : 100;
		struct timespec ts = { 0, (long)d * 1000000L };
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		ms -= d;
	}
	return !atomic_load(&v->cancelled);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t random32(void)
{
	uint32_t r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)now_ms() * 2654435761u;
	return r;
}

/* Percent-encodes s for a URL path segment or query value. */
static void add_escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_addc(b, (char)c);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
	}
}

/* Percent-encodes s as one URL path segment: as add_escaped(), and a
 * segment that is "." or ".." (an id from request text) has its dots
 * encoded too, so it can never walk to another path of the API with the
 * token (libcurl removes dot segments from a path). */
static void add_segment(struct buf *b, const char *s)
{
	if (!strcmp(s, ".") || !strcmp(s, "..")) {
		for (; *s; s++)
			buf_adds(b, "%2E");
		return;
	}
	add_escaped(b, s);
}

/* ------------------------------------------------------------ one call */

struct call {
	const char *what;               /* "create execution" */
	const char *method;
	const char *url;                /* full URL */
	const char *path;               /* for messages: no host, no query */
	const char *body;               /* NULL: none */
	size_t body_len;
	const char *content_type;
	const char *idem;               /* Idempotency-Key or NULL */
	bool auth;                      /* send the token (API calls only) */
	bool http;                      /* plain http allowed (loopback) */
};

struct sink {
	struct buf *b;
	bool too_big;
	int64_t retry_after_ms;         /* -1: none */
};

static size_t sink_write(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;
	if (len > MAX_ANSWER - s->b->len) {
		s->too_big = true;
		return 0;
	}
	buf_add(s->b, p, len);
	return len;
}

static size_t sink_header(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	if (len > sizeof(name) - 1 && !strncasecmp(p, name, sizeof(name) - 1)) {
		char tmp[32];
		size_t k = len - (sizeof(name) - 1);
		if (k >= sizeof(tmp))
			k = sizeof(tmp) - 1;
		memcpy(tmp, p + sizeof(name) - 1, k);
		tmp[k] = 0;
		char *end;
		long long secs = strtoll(tmp, &end, 10);
		while (*end == ' ' || *end == '\r' || *end == '\n' || *end == '\t')
			end++;
		if (end != tmp && !*end && secs >= 0)   /* an HTTP date: ignored */
			s->retry_after_ms = secs > MAX_RETRY_AFTER_MS / 1000 ? MAX_RETRY_AFTER_MS
									     : secs * 1000;
	}
	return len;
}

/* The first SHOWN bytes of an answer, on one line, the token masked in
 * the whole answer first (so that the cut cannot leave a piece of it).
 * v NULL (trig_valohai_parse_answer()): no token to mask. */
static void shown_answer(struct trig_valohai *v, const char *ans, size_t len, char *out,
			 size_t outlen)
{
	struct buf m = BUF_INIT;
	if (v)
		pthread_mutex_lock(&v->mu);
	size_t tl = v ? strlen(v->token) : 0, i = 0;
	while (i < len && m.len < SHOWN) {
		if (tl && len - i >= tl && !memcmp(ans + i, v->token, tl)) {
			buf_adds(&m, "***");
			i += tl;
		} else {
			buf_addc(&m, ans[i++]);
		}
	}
	if (v)
		pthread_mutex_unlock(&v->mu);
	size_t n = m.len < SHOWN ? m.len : SHOWN, j = 0;
	for (i = 0; i < n && j + 1 < outlen; i++) {
		unsigned char c = (unsigned char)m.data[i];
		out[j++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	out[j] = 0;
	buf_release(&m);
}

static int64_t backoff(struct trig_valohai *v, unsigned attempt)
{
	int64_t d = v->backoff_ms;
	for (unsigned i = 1; i < attempt && d < MAX_BACKOFF_MS; i++)
		d *= 2;
	if (d > MAX_BACKOFF_MS)
		d = MAX_BACKOFF_MS;
	int64_t jitter = d / 4;
	if (jitter > 0)
		d += (int64_t)(random32() % (uint64_t)(jitter + 1));
	return d;
}

static void add_header(struct curl_slist **hl, const char *line)
{
	struct curl_slist *t = curl_slist_append(*hl, line);
	if (!t)
		trig_oom();
	*hl = t;
}

/* Whether s can go into a header: printable ASCII, no line break. */
static bool header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Makes the call with retries.  0 with *status (2xx) and the answer in
 * ans, or -1 with err filled (*status: the last status, 0 if none). */
static int perform(struct trig_valohai *v, const struct call *k, struct buf *ans,
		   long *status, char *err, size_t errlen)
{
	*status = 0;
	if (k->idem && (!*k->idem || strlen(k->idem) > 255 || !header_safe(k->idem))) {
		fail(err, errlen, "valohai %s: bad idempotency key (1 to 255 printable ASCII "
		     "characters)", k->what);
		return -1;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		fail(err, errlen, "valohai %s: cannot start libcurl", k->what);
		return -1;
	}
	struct curl_slist *hl = NULL;
	struct buf h = BUF_INIT;
	add_header(&hl, "Accept: application/json");
	if (k->auth) {
		pthread_mutex_lock(&v->mu);
		add_header(&hl, v->auth);       /* copied by libcurl */
		pthread_mutex_unlock(&v->mu);
	}
	if (k->content_type) {
		buf_printf(&h, "Content-Type: %s", k->content_type);
		add_header(&hl, h.data);
	}
	if (k->idem) {
		buf_reset(&h);
		buf_printf(&h, "Idempotency-Key: %s", k->idem);
		add_header(&hl, h.data);
	}
	/* libcurl adds "Expect: 100-continue" to larger bodies: not here */
	add_header(&hl, "Expect:");
	buf_release(&h);
	struct sink sink = { ans, false, -1 };
	char ebuf[CURL_ERROR_SIZE];
	curl_easy_setopt(c, CURLOPT_URL, k->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, k->http ? "http" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)v->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)v->connect_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "trig/" TRIG_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	if (k->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, k->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)k->body_len);
	}
	if (strcmp(k->method, "GET"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, k->method);
	else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);

	int rc = -1;
	for (unsigned attempt = 1;; attempt++) {
		buf_reset(ans);
		sink.too_big = false;
		sink.retry_after_ms = -1;
		ebuf[0] = 0;
		CURLcode cc = curl_easy_perform(c);
		long code = 0;
		if (cc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		*status = code;
		bool again;
		if (cc != CURLE_OK) {
			again = !sink.too_big;
			fail_masked(v, err, errlen, "valohai %s (%s %s): %s", k->what, k->method, k->path,
			     sink.too_big ? "answer too long" : *ebuf ? ebuf : curl_easy_strerror(cc));
		} else if (code >= 200 && code < 300) {
			rc = 0;
			break;
		} else {
			char shown[SHOWN + 1];
			shown_answer(v, ans->data, ans->len, shown, sizeof(shown));
			again = code >= 500 || code == 429;
			fail_masked(v, err, errlen, "valohai %s (%s %s): answered %ld%s%s", k->what,
				    k->method, k->path, code, *shown ? ": " : "", shown);
		}
		if (!again || attempt >= v->attempts)
			break;
		int64_t d = sink.retry_after_ms >= 0 ? sink.retry_after_ms : backoff(v, attempt);
		trig_info("%s; attempt %u of %u, trying again in %" PRId64 " ms", err, attempt,
			  v->attempts, d);
		if (!sleep_ms(v, d)) {
			fail(err, errlen, "valohai %s (%s %s): the server is stopping", k->what,
			     k->method, k->path);
			break;
		}
	}
	if (rc == 0)
		err[0] = 0;
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc;
}

/* A 2xx answer ans[0..len) must be a JSON object: 0 with *doc (which
 * borrows ans), or -1 with err filled.  whole: the whole-document query;
 * v may be NULL (nothing to mask). */
static int answer_object(struct trig_valohai *v, const struct trig_json_query *whole,
			 const char *what, const char *method, const char *path, long status,
			 const char *ans, size_t len, struct trig_json_value *doc, char *err,
			 size_t errlen)
{
	if (trig_json_extract(whole, ans, len, doc, NULL) || doc->type != TRIG_JSON_OBJECT) {
		char shown[SHOWN + 1];
		shown_answer(v, ans, len, shown, sizeof(shown));
		fail_masked(v, err, errlen, "valohai %s (%s %s): answered %ld but not a JSON object: %s",
			    what, method, path, status, shown);
		return -1;
	}
	return 0;
}

/* An API call: {url}{path}, with the token; the answer must be a JSON
 * object, parsed into *doc (which borrows ans). */
static int api(struct trig_valohai *v, const char *what, const char *method,
	       const char *path, const struct buf *body, const char *idem, struct buf *ans,
	       struct trig_json_value *doc, char *err, size_t errlen)
{
	struct buf url = BUF_INIT;
	buf_printf(&url, "%s%s", v->url, path);
	char shown_path[256];
	snprintf(shown_path, sizeof(shown_path), "%.*s", (int)strcspn(path, "?"), path);
	struct call k = {
		.what = what, .method = method, .url = url.data, .path = shown_path,
		.body = body ? body->data : NULL, .body_len = body ? body->len : 0,
		.content_type = body ? "application/json" : NULL, .idem = idem, .auth = true,
		.http = v->http,
	};
	long status;
	int rc = perform(v, &k, ans, &status, err, errlen);
	buf_release(&url);
	if (rc)
		return -1;
	return answer_object(v, v->whole, what, method, shown_path, status, ans->data, ans->len,
			     doc, err, errlen);
}

/* ------------------------------------------------------------ JSON reading */

/* The last member KEY of object obj (type ABSENT when none). */
static struct trig_json_value member(const struct trig_json_value *obj, const char *key)
{
	struct trig_json_value found = { TRIG_JSON_ABSENT, NULL, 0 }, k, val;
	struct trig_json_iter it;
	if (obj->type != TRIG_JSON_OBJECT || trig_json_iter_begin(&it, obj))
		return found;
	while (trig_json_iter_next(&it, &k, &val) == 1)
		if (trig_json_key_equal(&k, key, strlen(key)))
			found = val;
	return found;
}

/* The text of a string or number value into out[len] ("" otherwise, or
 * when it does not fit). */
static void value_text(const struct trig_json_value *val, char *out, size_t len)
{
	out[0] = 0;
	if (val->type != TRIG_JSON_STRING && val->type != TRIG_JSON_NUMBER)
		return;
	struct buf b = BUF_INIT;
	if (!trig_json_string(val, &b) && b.len < len && !memchr(b.data, 0, b.len))
		memcpy(out, b.data, b.len + 1);
	buf_release(&b);
}

static bool value_is(const struct trig_json_value *val, const char *s)
{
	return val->type == TRIG_JSON_STRING && trig_json_key_equal(val, s, strlen(s));
}

/* Fills out from a created run's answer: id and urls.display. */
static int read_run(const char *what, const struct trig_json_value *doc,
		    struct trig_valohai_run *out, char *err, size_t errlen)
{
	struct trig_json_value id = member(doc, "id");
	struct trig_json_value urls = member(doc, "urls");
	struct trig_json_value display = member(&urls, "display");
	value_text(&id, out->id, sizeof(out->id));
	value_text(&display, out->url, sizeof(out->url));
	if (!out->id[0]) {
		fail(err, errlen, "valohai %s: the answer has no id", what);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ handle */

struct trig_valohai *trig_valohai_new(const struct trig_valohai_config *cfg, char *err,
				      size_t errlen)
{
	pthread_once(&curl_once, curl_init);
	if (!cfg->url || !*cfg->url) {
		fail(err, errlen, "valohai backend: no url");
		return NULL;
	}
	if (!cfg->token || !*cfg->token) {
		fail(err, errlen, "valohai backend: no token");
		return NULL;
	}
	if (!header_safe(cfg->token)) {
		fail(err, errlen, "valohai backend: the token holds characters that cannot go "
		     "into a header");
		return NULL;
	}
	if (!cfg->project_id || !*cfg->project_id) {
		fail(err, errlen, "valohai backend: no project id");
		return NULL;
	}
	int kind = url_kind(cfg->url);
	if (kind < 0) {
		fail(err, errlen, "valohai url '%.200s' must be https (plain http only to a loopback "
		     "host)", cfg->url);
		return NULL;
	}
	struct trig_valohai *v = trig_xcalloc(1, sizeof(*v));
	v->url = trig_xstrdup(cfg->url);
	for (size_t n = strlen(v->url); n > 0 && v->url[n - 1] == '/'; n--)
		v->url[n - 1] = 0;
	pthread_mutex_init(&v->mu, NULL);
	v->token = trig_xstrdup(cfg->token);
	v->project = trig_xstrdup(cfg->project_id);
	struct buf a = BUF_INIT;
	buf_printf(&a, "Authorization: Token %s", cfg->token);
	v->auth = buf_detach(&a);
	v->http = kind == 0;
	v->attempts = cfg->max_attempts ? cfg->max_attempts : DEFAULT_ATTEMPTS;
	v->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	v->backoff_ms = cfg->backoff_ms > 0 ? cfg->backoff_ms : DEFAULT_BACKOFF_MS;
	v->connect_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : DEFAULT_CONNECT_MS;
	if (v->connect_ms > v->timeout_ms)
		v->connect_ms = v->timeout_ms;
	v->whole = trig_json_query_new();
	if (trig_json_query_add(v->whole, NULL, 0) != 0) {
		trig_valohai_free(v);
		fail(err, errlen, "valohai backend: cannot build a JSON query");
		return NULL;
	}
	return v;
}

void trig_valohai_free(struct trig_valohai *v)
{
	if (!v)
		return;
	if (v->token)
		explicit_bzero(v->token, strlen(v->token));
	if (v->auth)
		explicit_bzero(v->auth, strlen(v->auth));
	for (size_t i = 0; i < v->nold; i++) {
		explicit_bzero(v->old[i], strlen(v->old[i]));
		free(v->old[i]);
	}
	free(v->old);
	free(v->url);
	free(v->token);
	free(v->project);
	free(v->auth);
	trig_json_query_free(v->whole);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

int trig_valohai_set_token(struct trig_valohai *v, const char *token, char *err, size_t errlen)
{
	if (!token || !*token || !header_safe(token)) {
		fail(err, errlen, "valohai backend: the new token is empty or holds characters "
		     "that cannot go into a header");
		return -1;
	}
	struct buf a = BUF_INIT;
	buf_printf(&a, "Authorization: Token %s", token);
	pthread_mutex_lock(&v->mu);
	if (strcmp(token, v->token) != 0) {
		/* The old one is kept, to be masked in answers still on the way. */
		v->old = trig_xrealloc(v->old, (v->nold + 1) * sizeof(*v->old));
		v->old[v->nold++] = v->token;
		v->token = trig_xstrdup(token);
		explicit_bzero(v->auth, strlen(v->auth));
		free(v->auth);
		v->auth = buf_detach(&a);
	}
	pthread_mutex_unlock(&v->mu);
	if (a.data) {
		explicit_bzero(a.data, a.len);
		buf_release(&a);
	}
	return 0;
}

void trig_valohai_cancel(struct trig_valohai *v)
{
	if (v)
		atomic_store(&v->cancelled, true);
}

bool trig_valohai_cancelled(struct trig_valohai *v)
{
	return v && atomic_load(&v->cancelled);
}

/* ------------------------------------------------------------ JSON writing */

struct kvlist {
	struct trig_kv *a;
	size_t n, cap;
};

static void kv_push(struct kvlist *l, const char *name, const char *value)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->a = trig_xrealloc(l->a, l->cap * sizeof(*l->a));
	}
	l->a[l->n].name = name;
	l->a[l->n].value = value ? value : "";
	l->n++;
}

static void kv_release(struct kvlist *l)
{
	free(l->a);
	l->a = NULL;
	l->n = l->cap = 0;
}

static bool seen_before(const struct kvlist *l, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(l->a[j].name, l->a[i].name))
			return true;
	return false;
}

/* A JSON number text of the kind wanted (integer: no fraction, no
 * exponent), as JSON writes numbers. */
static bool json_number(const char *s, bool integer)
{
	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	if (integer && strpbrk(s, ".eE"))
		return false;
	return strspn(s, "-+0123456789.eE") == strlen(s) &&
	       trig_json_validate(s, strlen(s), NULL) == 0;
}

/* A parameter's value, typed as the step declares it (Valohai takes
 * numbers and booleans as JSON numbers and booleans); a value that is not
 * of its type goes as a string, for Valohai to judge. */
static void add_param_value(struct buf *b, const struct trig_step *step, const char *name,
			    const char *value)
{
	enum trig_param_type type = TRIG_PARAM_STRING;
	for (uint32_t i = 0; step && i < step->nparams; i++)
		if (!strcmp(step->params[i].name, name))
			type = step->params[i].type;
	switch (type) {
	case TRIG_PARAM_INTEGER:
	case TRIG_PARAM_FLOAT:
		if (json_number(value, type == TRIG_PARAM_INTEGER)) {
			buf_adds(b, value);
			return;
		}
		break;
	case TRIG_PARAM_FLAG:
		if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcmp(value, "1")) {
			buf_adds(b, "true");
			return;
		}
		if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcmp(value, "0")) {
			buf_adds(b, "false");
			return;
		}
		break;
	case TRIG_PARAM_STRING:
		break;
	}
	buf_json_cstr(b, value);
}

/* {name: value}: the last value of each name, names in order of first
 * appearance; params: typed by the step. */
static void add_object(struct buf *b, const struct kvlist *l, const struct trig_step *step,
		       bool params)
{
	buf_addc(b, '{');
	bool first = true;
	for (size_t i = 0; i < l->n; i++) {
		if (seen_before(l, i))
			continue;
		size_t last = i;
		for (size_t j = i + 1; j < l->n; j++)
			if (!strcmp(l->a[j].name, l->a[i].name))
				last = j;
		if (!first)
			buf_addc(b, ',');
		first = false;
		buf_json_cstr(b, l->a[i].name);
		buf_addc(b, ':');
		if (params)
			add_param_value(b, step, l->a[i].name, l->a[last].value);
		else
			buf_json_cstr(b, l->a[last].value);
	}
	buf_addc(b, '}');
}

/* {name: [value, ...]}: every value of each name, in order. */
static void add_lists(struct buf *b, const struct kvlist *l)
{
	buf_addc(b, '{');
	bool first = true;
	for (size_t i = 0; i < l->n; i++) {
		if (seen_before(l, i))
			continue;
		if (!first)
			buf_addc(b, ',');
		first = false;
		buf_json_cstr(b, l->a[i].name);
		buf_adds(b, ":[");
		bool f2 = true;
		for (size_t j = i; j < l->n; j++) {
			if (strcmp(l->a[j].name, l->a[i].name))
				continue;
			if (!f2)
				buf_addc(b, ',');
			f2 = false;
			buf_json_cstr(b, l->a[j].value);
		}
		buf_addc(b, ']');
	}
	buf_addc(b, '}');
}

/* What one execution (or pipeline node) gets, names without "NODE.". */
struct run_values {
	struct kvlist params, inputs, env;
};

static void run_values_release(struct run_values *r)
{
	kv_release(&r->params);
	kv_release(&r->inputs);
	kv_release(&r->env);
}

/* Puts the step's defaults first, then the request's values; an input
 * named by the request (or receiving the payload) loses its defaults. */
static void with_defaults(const struct trig_step *step, const struct run_values *rq,
			  const char *payload_input, const char *datum, struct run_values *out)
{
	for (uint32_t i = 0; i < step->nparams; i++)
		if (step->params[i].default_value)
			kv_push(&out->params, step->params[i].name, step->params[i].default_value);
	for (size_t i = 0; i < rq->params.n; i++)
		kv_push(&out->params, rq->params.a[i].name, rq->params.a[i].value);
	for (uint32_t i = 0; i < step->ninputs; i++) {
		const struct trig_input *in = &step->inputs[i];
		bool named = payload_input && !strcmp(payload_input, in->name);
		for (size_t j = 0; j < rq->inputs.n && !named; j++)
			named = !strcmp(rq->inputs.a[j].name, in->name);
		for (uint32_t j = 0; j < in->ndefaults && !named; j++)
			kv_push(&out->inputs, in->name, in->defaults[j]);
	}
	for (size_t i = 0; i < rq->inputs.n; i++)
		kv_push(&out->inputs, rq->inputs.a[i].name, rq->inputs.a[i].value);
	if (payload_input)
		kv_push(&out->inputs, payload_input, datum);
	for (uint32_t i = 0; i < step->nenv; i++)
		kv_push(&out->env, step->env[i].name, step->env[i].value);
	for (size_t i = 0; i < rq->env.n; i++)
		kv_push(&out->env, rq->env.a[i].name, rq->env.a[i].value);
}

/* "step", "commit", "parameters", "inputs", "environment_variables"
 * members (no braces). */
static void add_template(struct buf *b, const struct trig_step *step, const char *commit,
			 const struct run_values *r)
{
	buf_adds(b, "\"step\":");
	buf_json_cstr(b, step->name);
	if (commit && *commit) {
		buf_adds(b, ",\"commit\":");
		buf_json_cstr(b, commit);
	}
	buf_adds(b, ",\"parameters\":");
	add_object(b, &r->params, step, true);
	buf_adds(b, ",\"inputs\":");
	add_lists(b, &r->inputs);
	buf_adds(b, ",\"environment_variables\":");
	add_object(b, &r->env, NULL, false);
}

/* ------------------------------------------------------------ payload upload */

/* Where make_upload says to upload: the datum's id, the URL, whether it
 * is plain http (to a loopback host), whether it is a form POST. */
struct upload_target {
	char id[128], url[4096];
	bool http, form;
};

/* Reads make_upload's answer into *t; with "fields" (an S3-style
 * presigned POST), appends to up the form's parts before the file, each
 * opened by "--" boundary (a field name holding '"', CR, LF or NUL is
 * refused).  0, or -1 with err filled. */
static int read_upload(const struct trig_json_value *doc, const char *boundary,
		       struct upload_target *t, struct buf *up, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	struct trig_json_value val = member(doc, "id");
	if (val.type == TRIG_JSON_ABSENT)
		val = member(doc, "datum_id");
	value_text(&val, t->id, sizeof(t->id));
	val = member(doc, "url");
	value_text(&val, t->url, sizeof(t->url));
	struct trig_json_value fields = member(doc, "fields");
	if (!t->id[0] || !t->url[0] || strpbrk(t->id, "/?#%") || !strcmp(t->id, ".") ||
	    !strcmp(t->id, "..")) {
		fail(err, errlen, "valohai make upload: the answer has no usable id and url");
		return -1;
	}
	int kind = url_kind(t->url);
	if (kind < 0) {
		fail(err, errlen, "valohai make upload: the upload URL is neither https nor http to "
		     "a loopback host");
		return -1;
	}
	t->http = kind == 0;
	if (fields.type != TRIG_JSON_OBJECT)
		return 0;
	/* multipart/form-data: the fields in order (the file comes last) */
	t->form = true;
	struct trig_json_iter it;
	struct trig_json_value k, fv;
	if (trig_json_iter_begin(&it, &fields)) {
		fail(err, errlen, "valohai make upload: bad fields");
		return -1;
	}
	while (trig_json_iter_next(&it, &k, &fv) == 1) {
		struct buf kt = BUF_INIT, vt = BUF_INIT;
		if (trig_json_string(&k, &kt) || trig_json_string(&fv, &vt) ||
		    memchr(kt.data, '"', kt.len) || memchr(kt.data, '\r', kt.len) ||
		    memchr(kt.data, '\n', kt.len) || memchr(kt.data, 0, kt.len)) {
			buf_release(&kt);
			buf_release(&vt);
			fail(err, errlen, "valohai make upload: bad fields");
			return -1;
		}
		buf_printf(up, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n",
			   boundary, kt.data);
		buf_add(up, vt.data, vt.len);
		buf_adds(up, "\r\n");
		buf_release(&kt);
		buf_release(&vt);
	}
	return 0;
}

/* Uploads the payload as a datum: make_upload, the upload itself (a PUT,
 * or a form POST when make_upload answers "fields", as S3's presigned
 * POST), finalize.  uri gets "datum://ID". */
static int upload_payload(struct trig_valohai *v, const char *key, const void *data,
			  size_t len, char *uri, size_t urilen, char *err, size_t errlen)
{
	struct buf body = BUF_INIT, ans = BUF_INIT, ikey = BUF_INIT, up = BUF_INIT, path = BUF_INIT;
	struct buf ctype = BUF_INIT, ans2 = BUF_INIT;
	struct trig_json_value doc;
	int rc = -1;
	buf_adds(&body, "{\"project\":");
	buf_json_cstr(&body, v->project);
	buf_printf(&body, ",\"filename\":\"payload.json\",\"content_type\":"
		   "\"application/octet-stream\",\"content_length\":%zu}", len);
	if (key)
		buf_printf(&ikey, "%s-payload", key);
	if (api(v, "make upload", "POST", "/api/v0/data/make_upload/", &body,
		key ? ikey.data : NULL, &ans, &doc, err, errlen))
		goto out;
	struct upload_target t;
	char boundary[40];
	snprintf(boundary, sizeof(boundary), "trig-%08x%08x%08x", random32(), random32(),
		 random32());
	if (read_upload(&doc, boundary, &t, &up, err, errlen))
		goto out;
	const char *id = t.id, *url = t.url;
	const char *method = "PUT";
	buf_adds(&ctype, "application/octet-stream");
	if (t.form) {
		buf_reset(&ctype);
		buf_printf(&ctype, "multipart/form-data; boundary=%s", boundary);
		buf_printf(&up, "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
			   "filename=\"payload.json\"\r\nContent-Type: application/octet-stream\r\n\r\n",
			   boundary);
		buf_add(&up, data, len);
		buf_printf(&up, "\r\n--%s--\r\n", boundary);
		method = "POST";
	} else {
		buf_add(&up, data, len);
	}
	char shown[256];
	snprintf(shown, sizeof(shown), "%.*s", (int)strcspn(url, "?#"), url);
	struct call k = {
		.what = "upload payload", .method = method, .url = url, .path = shown,
		.body = buf_cstr(&up), .body_len = up.len, .content_type = ctype.data,
		.idem = NULL, .auth = false, .http = t.http,
	};
	long status;
	if (perform(v, &k, &ans2, &status, err, errlen))
		goto out;
	buf_reset(&body);
	buf_adds(&body, "{}");
	buf_adds(&path, "/api/v0/data/");
	add_segment(&path, id);
	buf_adds(&path, "/finalize/");
	buf_reset(&ikey);
	if (key)
		buf_printf(&ikey, "%s-finalize", key);
	if (api(v, "finalize upload", "POST", path.data, &body, key ? ikey.data : NULL, &ans, &doc,
		err, errlen))
		goto out;
	if ((size_t)snprintf(uri, urilen, "datum://%s", id) >= urilen) {
		fail(err, errlen, "valohai make upload: datum id too long");
		goto out;
	}
	rc = 0;
out:
	buf_release(&body);
	buf_release(&ans);
	buf_release(&ans2);
	buf_release(&ikey);
	buf_release(&up);
	buf_release(&path);
	buf_release(&ctype);
	return rc;
}

/* ------------------------------------------------------------ executions */

static void copy_kvs(struct kvlist *l, const struct trig_kv *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kv_push(l, a[i].name, a[i].value);
}

int trig_valohai_create_execution(struct trig_valohai *v, const struct trig_valohai_execution *rq,
				  const char *idempotency_key, struct trig_valohai_run *out,
				  char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!rq->step) {
		fail(err, errlen, "valohai create execution: no step");
		return -1;
	}
	char datum[160] = "";
	if (rq->payload_input && upload_payload(v, idempotency_key, rq->payload, rq->payload_len,
						datum, sizeof(datum), err, errlen))
		return -1;
	struct run_values req = { { 0 }, { 0 }, { 0 } }, all = { { 0 }, { 0 }, { 0 } };
	copy_kvs(&req.params, rq->params, rq->nparams);
	copy_kvs(&req.inputs, rq->inputs, rq->ninputs);
	copy_kvs(&req.env, rq->env, rq->nenv);
	with_defaults(rq->step, &req, rq->payload_input, datum, &all);
	struct buf body = BUF_INIT, ans = BUF_INIT;
	buf_adds(&body, "{\"project\":");
	buf_json_cstr(&body, v->project);
	if (rq->title) {
		buf_adds(&body, ",\"title\":");
		buf_json_cstr(&body, rq->title);
	}
	buf_addc(&body, ',');
	add_template(&body, rq->step, rq->commit, &all);
	buf_addc(&body, '}');
	run_values_release(&req);
	run_values_release(&all);
	struct trig_json_value doc;
	int rc = api(v, "create execution", "POST", "/api/v0/executions/", &body, idempotency_key,
		     &ans, &doc, err, errlen);
	if (!rc)
		rc = read_run("create execution", &doc, out, err, errlen);
	buf_release(&body);
	buf_release(&ans);
	return rc;
}

/* ------------------------------------------------------------ pipelines */

/* Splits "NODE.NAME": the node's index, or -1 with err filled. */
static int node_of(const struct trig_pipeline *p, const char *key, const char *what,
		   const char **name, char *err, size_t errlen)
{
	const char *dot = strchr(key, '.');
	if (dot && dot > key && dot[1]) {
		size_t n = (size_t)(dot - key);
		for (uint32_t i = 0; i < p->nnodes; i++)
			if (strlen(p->nodes[i].name) == n && !memcmp(p->nodes[i].name, key, n)) {
				*name = dot + 1;
				return (int)i;
			}
	}
	fail(err, errlen, "valohai %s: %s '%.200s' names no node of pipeline '%s' (NODE.NAME)",
	     "create pipeline", what, key, p->name);
	return -1;
}

/* The request's values of node i, names without "NODE.". */
static int node_values(const struct trig_pipeline *p, uint32_t node, const struct trig_kv *a,
		       size_t n, const char *what, struct kvlist *out, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const char *name;
		int k = node_of(p, a[i].name, what, &name, err, errlen);
		if (k < 0)
			return -1;
		if ((uint32_t)k == node)
			kv_push(out, name, a[i].value);
	}
	return 0;
}

static void add_edge(struct buf *b, const char *src, const char *skey, const char *stype,
		     const char *dst, const char *dkey, const char *dtype)
{
	buf_adds(b, "{\"source_node\":");
	buf_json_cstr(b, src);
	buf_adds(b, ",\"source_key\":");
	buf_json_cstr(b, skey);
	buf_adds(b, ",\"source_type\":");
	buf_json_cstr(b, stype);
	buf_adds(b, ",\"target_node\":");
	buf_json_cstr(b, dst);
	buf_adds(b, ",\"target_key\":");
	buf_json_cstr(b, dkey);
	buf_adds(b, ",\"target_type\":");
	buf_json_cstr(b, dtype);
	buf_addc(b, '}');
}

int trig_valohai_create_pipeline(struct trig_valohai *v, const struct trig_valohai_pipeline *rq,
				 const char *idempotency_key, struct trig_valohai_run *out,
				 char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const struct trig_pipeline *p = rq->pipeline;
	if (!p) {
		fail(err, errlen, "valohai create pipeline: no pipeline");
		return -1;
	}
	const char *payload_name = NULL;
	int payload_node = -1;
	if (rq->payload_input) {
		payload_node = node_of(p, rq->payload_input, "payload input", &payload_name, err,
				       errlen);
		if (payload_node < 0)
			return -1;
	}
	/* every key is checked before anything is created */
	struct kvlist tmp = { 0 };
	int bad = node_values(p, 0, rq->params, rq->nparams, "parameter", &tmp, err, errlen) ||
		  node_values(p, 0, rq->inputs, rq->ninputs, "input", &tmp, err, errlen);
	kv_release(&tmp);
	if (bad)
		return -1;
	char datum[160] = "";
	if (rq->payload_input && upload_payload(v, idempotency_key, rq->payload, rq->payload_len,
						datum, sizeof(datum), err, errlen))
		return -1;
	struct buf body = BUF_INIT, ans = BUF_INIT;
	buf_adds(&body, "{\"project\":");
	buf_json_cstr(&body, v->project);
	buf_adds(&body, ",\"title\":");
	buf_json_cstr(&body, rq->title ? rq->title : p->name);
	buf_adds(&body, ",\"nodes\":[");
	for (uint32_t i = 0; i < p->nnodes; i++) {
		const struct trig_node *nd = &p->nodes[i];
		struct run_values req = { { 0 }, { 0 }, { 0 } }, all = { { 0 }, { 0 }, { 0 } };
		node_values(p, i, rq->params, rq->nparams, "parameter", &req.params, err, errlen);
		node_values(p, i, rq->inputs, rq->ninputs, "input", &req.inputs, err, errlen);
		copy_kvs(&req.env, rq->env, rq->nenv);
		with_defaults(nd->step, &req, (int)i == payload_node ? payload_name : NULL, datum,
			      &all);
		if (i)
			buf_addc(&body, ',');
		buf_adds(&body, "{\"name\":");
		buf_json_cstr(&body, nd->name);
		buf_adds(&body, ",\"type\":\"execution\",\"template\":{");
		add_template(&body, nd->step, rq->commit, &all);
		buf_adds(&body, "}}");
		run_values_release(&req);
		run_values_release(&all);
	}
	buf_adds(&body, "],\"edges\":[");
	for (uint32_t i = 0; i < p->nedges; i++) {
		const struct trig_edge *e = &p->edges[i];
		if (e->from_node >= p->nnodes || e->to_node >= p->nnodes) {
			fail(err, errlen, "valohai create pipeline: edge %u of '%s' names no node",
			     i, p->name);
			buf_release(&body);
			return -1;
		}
		if (i)
			buf_addc(&body, ',');
		add_edge(&body, p->nodes[e->from_node].name, e->from_name, e->from_kind,
			 p->nodes[e->to_node].name, e->to_name, e->to_kind);
	}
	buf_adds(&body, "]}");
	struct trig_json_value doc;
	int rc = api(v, "create pipeline", "POST", "/api/v0/pipelines/", &body, idempotency_key,
		     &ans, &doc, err, errlen);
	if (!rc)
		rc = read_run("create pipeline", &doc, out, err, errlen);
	buf_release(&body);
	buf_release(&ans);
	return rc;
}

/* ------------------------------------------------------------ copy pipeline */

/* A member of a pipeline run's answer that is its state, not its recipe:
 * left out of the copy. */
static bool state_key(const struct trig_json_value *k)
{
	static const char *const keys[] = {
		"id", "status", "execution", "executions", "pipeline", "counter", "ctime", "mtime",
		"urls", "url", "started", "ended", "duration", "creator", "project",
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (trig_json_key_equal(k, keys[i], strlen(keys[i])))
			return true;
	return false;
}

static void add_raw(struct buf *b, const struct trig_json_value *val)
{
	buf_add(b, val->raw, val->len);
}

/* An override, typed like the value it replaces. */
static void add_override(struct buf *b, const struct trig_json_value *orig, const char *value)
{
	if (orig && orig->type == TRIG_JSON_NUMBER && json_number(value, false))
		buf_adds(b, value);
	else if (orig && (orig->type == TRIG_JSON_TRUE || orig->type == TRIG_JSON_FALSE) &&
		 (!strcmp(value, "true") || !strcmp(value, "false")))
		buf_adds(b, value);
	else
		buf_json_cstr(b, value);
}

/* The last override of name in l, or NULL. */
static const char *override_of(const struct kvlist *l, const char *name, size_t len)
{
	const char *found = NULL;
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->a[i].name) == len && !memcmp(l->a[i].name, name, len))
			found = l->a[i].value;
	return found;
}

/* params with the overrides of l applied (both objects). */
static void add_params_over(struct buf *b, const struct trig_json_value *params,
			    const struct kvlist *l)
{
	struct trig_json_iter it;
	struct trig_json_value k, val;
	struct kvlist done = { 0 };
	struct buf kt = BUF_INIT;
	bool first = true;
	buf_addc(b, '{');
	if (params->type == TRIG_JSON_OBJECT && !trig_json_iter_begin(&it, params)) {
		while (trig_json_iter_next(&it, &k, &val) == 1) {
			buf_reset(&kt);
			if (trig_json_string(&k, &kt))
				continue;
			const char *o = override_of(l, kt.data, kt.len);
			if (!first)
				buf_addc(b, ',');
			first = false;
			add_raw(b, &k);
			buf_addc(b, ':');
			if (o)
				add_override(b, &val, o);
			else
				add_raw(b, &val);
		}
	}
	/* overrides of parameters the source did not have */
	for (size_t i = 0; i < l->n; i++) {
		bool present = false;
		if (params->type == TRIG_JSON_OBJECT && !trig_json_iter_begin(&it, params))
			while (!present && trig_json_iter_next(&it, &k, &val) == 1)
				present = trig_json_key_equal(&k, l->a[i].name, strlen(l->a[i].name));
		for (size_t j = 0; j < done.n && !present; j++)
			present = !strcmp(done.a[j].name, l->a[i].name);
		if (present)
			continue;
		kv_push(&done, l->a[i].name, NULL);
		if (!first)
			buf_addc(b, ',');
		first = false;
		buf_json_cstr(b, l->a[i].name);
		buf_addc(b, ':');
		add_override(b, NULL, override_of(l, l->a[i].name, strlen(l->a[i].name)));
	}
	buf_addc(b, '}');
	buf_release(&kt);
	kv_release(&done);
}

/* A node's template with the parameter overrides of l. */
static void add_template_over(struct buf *b, const struct trig_json_value *tpl,
			      const struct kvlist *l)
{
	struct trig_json_iter it;
	struct trig_json_value k, val, none = { TRIG_JSON_ABSENT, NULL, 0 };
	bool first = true, had = false;
	buf_addc(b, '{');
	if (!trig_json_iter_begin(&it, tpl)) {
		while (trig_json_iter_next(&it, &k, &val) == 1) {
			if (!first)
				buf_addc(b, ',');
			first = false;
			add_raw(b, &k);
			buf_addc(b, ':');
			if (trig_json_key_equal(&k, "parameters", 10)) {
				had = true;
				add_params_over(b, &val, l);
			} else {
				add_raw(b, &val);
			}
		}
	}
	if (!had && l->n) {
		if (!first)
			buf_addc(b, ',');
		buf_adds(b, "\"parameters\":");
		add_params_over(b, &none, l);
	}
	buf_addc(b, '}');
}

/* The id of the latest pipeline titled (or named) name in a list answer,
 * into id[len] ("" when none). */
static void pick_latest(const struct trig_json_value *doc, const char *name, char *id,
			size_t len)
{
	struct trig_json_value results = member(doc, "results"), k, item;
	struct trig_json_iter it;
	long long best = -2;
	id[0] = 0;
	if (results.type != TRIG_JSON_ARRAY || trig_json_iter_begin(&it, &results))
		return;
	while (trig_json_iter_next(&it, &k, &item) == 1) {
		struct trig_json_value t = member(&item, "title");
		struct trig_json_value n = member(&item, "name");
		if (!value_is(&t, name) && !value_is(&n, name))
			continue;
		char num[32], this_id[128];
		struct trig_json_value c = member(&item, "counter");
		struct trig_json_value i = member(&item, "id");
		value_text(&c, num, sizeof(num));
		value_text(&i, this_id, sizeof(this_id));
		long long counter = *num ? strtoll(num, NULL, 10) : -1;
		if (*this_id && counter > best && strlen(this_id) < len) {
			best = counter;
			memcpy(id, this_id, strlen(this_id) + 1);
		}
	}
}

/* The id of the latest pipeline titled name, into id[len]. */
static int find_latest(struct trig_valohai *v, const char *name, char *id, size_t len,
		       char *err, size_t errlen)
{
	struct buf path = BUF_INIT, ans = BUF_INIT;
	struct trig_json_value doc;
	buf_adds(&path, "/api/v0/pipelines/?project=");
	add_escaped(&path, v->project);
	buf_adds(&path, "&title=");
	add_escaped(&path, name);
	buf_adds(&path, "&ordering=-counter&limit=100");
	int rc = api(v, "list pipelines", "GET", path.data, NULL, NULL, &ans, &doc, err, errlen);
	if (!rc) {
		pick_latest(&doc, name, id, len);
		if (!id[0]) {
			fail(err, errlen, "valohai copy pipeline: no pipeline titled '%s' in project "
			     "'%s' to copy", name, v->project);
			rc = -1;
		}
	}
	buf_release(&path);
	buf_release(&ans);
	return rc;
}

/* The body of a copy of the pipeline run doc (the answer of GET
 * pipelines/ID/): its nodes without their state, the parameter overrides
 * "NODE.NAME" of params applied to the templates, its edges with source
 * and target nodes named.  0 with the body appended to body, or -1 with
 * err filled. */
static int copy_body(const struct trig_json_value *doc, const char *project, const char *id,
		     const char *pipeline_name, const struct trig_kv *params, size_t nparams,
		     struct buf *body, char *err, size_t errlen)
{
	struct buf t = BUF_INIT;
	struct kvlist ids = { 0 }, over = { 0 };
	char **owned = NULL;
	size_t nowned = 0;
	int rc = -1;
	struct trig_json_value nodes = member(doc, "nodes"), edges = member(doc, "edges");
	struct trig_json_value title = member(doc, "title"), k, node;
	struct trig_json_iter it;
	if (nodes.type != TRIG_JSON_ARRAY || trig_json_iter_begin(&it, &nodes)) {
		fail(err, errlen, "valohai copy pipeline: pipeline '%s' has no nodes", id);
		goto out;
	}
	/* node ids and names (edges may name nodes by id) */
	while (trig_json_iter_next(&it, &k, &node) == 1) {
		struct trig_json_value nid = member(&node, "id"), nn = member(&node, "name");
		char a[128], b[128];
		value_text(&nid, a, sizeof(a));
		value_text(&nn, b, sizeof(b));
		owned = trig_xrealloc(owned, (nowned + 2) * sizeof(*owned));
		owned[nowned++] = trig_xstrdup(a);
		owned[nowned++] = trig_xstrdup(b);
		kv_push(&ids, owned[nowned - 2], owned[nowned - 1]);
	}
	for (size_t i = 0; i < nparams; i++) {
		const char *dot = strchr(params[i].name, '.');
		bool known = false;
		for (size_t j = 0; dot && j < ids.n && !known; j++)
			known = strlen(ids.a[j].value) == (size_t)(dot - params[i].name) &&
				!memcmp(ids.a[j].value, params[i].name, (size_t)(dot - params[i].name));
		if (!known || !dot[1]) {
			fail(err, errlen, "valohai copy pipeline: parameter '%.200s' names no node of "
			     "pipeline '%s' (NODE.NAME)", params[i].name, id);
			goto out;
		}
	}
	buf_adds(body, "{\"project\":");
	buf_json_cstr(body, project);
	buf_adds(body, ",\"title\":");
	if (title.type == TRIG_JSON_STRING)
		add_raw(body, &title);
	else
		buf_json_cstr(body, pipeline_name ? pipeline_name : id);
	buf_adds(body, ",\"nodes\":[");
	trig_json_iter_begin(&it, &nodes);
	for (size_t ni = 0; trig_json_iter_next(&it, &k, &node) == 1; ni++) {
		struct trig_json_iter mi;
		struct trig_json_value mk, mv;
		const char *nname = ids.a[ni].value;
		kv_release(&over);
		for (size_t i = 0; i < nparams; i++) {
			size_t n = strlen(nname);
			if (!strncmp(params[i].name, nname, n) && params[i].name[n] == '.')
				kv_push(&over, params[i].name + n + 1, params[i].value);
		}
		if (ni)
			buf_addc(body, ',');
		buf_addc(body, '{');
		bool first = true;
		if (node.type == TRIG_JSON_OBJECT && !trig_json_iter_begin(&mi, &node)) {
			while (trig_json_iter_next(&mi, &mk, &mv) == 1) {
				if (state_key(&mk))
					continue;
				if (!first)
					buf_addc(body, ',');
				first = false;
				add_raw(body, &mk);
				buf_addc(body, ':');
				if (trig_json_key_equal(&mk, "template", 8) && mv.type == TRIG_JSON_OBJECT)
					add_template_over(body, &mv, &over);
				else
					add_raw(body, &mv);
			}
		}
		buf_addc(body, '}');
	}
	buf_adds(body, "],\"edges\":[");
	if (edges.type == TRIG_JSON_ARRAY && !trig_json_iter_begin(&it, &edges)) {
		struct trig_json_value edge;
		for (size_t ei = 0; trig_json_iter_next(&it, &k, &edge) == 1; ei++) {
			struct trig_json_iter mi;
			struct trig_json_value mk, mv;
			if (ei)
				buf_addc(body, ',');
			buf_addc(body, '{');
			bool first = true;
			if (edge.type == TRIG_JSON_OBJECT && !trig_json_iter_begin(&mi, &edge)) {
				while (trig_json_iter_next(&mi, &mk, &mv) == 1) {
					if (trig_json_key_equal(&mk, "id", 2) ||
					    trig_json_key_equal(&mk, "pipeline", 8))
						continue;
					if (!first)
						buf_addc(body, ',');
					first = false;
					add_raw(body, &mk);
					buf_addc(body, ':');
					const char *name = NULL;
					if ((trig_json_key_equal(&mk, "source_node", 11) ||
					     trig_json_key_equal(&mk, "target_node", 11)) &&
					    mv.type == TRIG_JSON_STRING) {
						buf_reset(&t);
						if (!trig_json_string(&mv, &t))
							for (size_t j = 0; j < ids.n && !name; j++)
								if (*ids.a[j].name &&
								    !strcmp(ids.a[j].name, t.data))
									name = ids.a[j].value;
					}
					if (name)
						buf_json_cstr(body, name);
					else
						add_raw(body, &mv);
				}
			}
			buf_addc(body, '}');
		}
	}
	buf_adds(body, "]}");
	rc = 0;
out:
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	kv_release(&ids);
	kv_release(&over);
	buf_release(&t);
	return rc;
}

int trig_valohai_copy_pipeline(struct trig_valohai *v, const char *pipeline_name,
			       const char *source_id, const struct trig_kv *params, size_t nparams,
			       const char *idempotency_key, struct trig_valohai_run *out,
			       char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	char id[128];
	if (source_id && *source_id) {
		if (strlen(source_id) >= sizeof(id)) {
			fail(err, errlen, "valohai copy pipeline: source id too long");
			return -1;
		}
		strcpy(id, source_id);
	} else if (find_latest(v, pipeline_name ? pipeline_name : "", id, sizeof(id), err, errlen)) {
		return -1;
	}
	struct buf path = BUF_INIT, src = BUF_INIT, body = BUF_INIT, ans = BUF_INIT;
	struct trig_json_value doc;
	int rc = -1;
	buf_adds(&path, "/api/v0/pipelines/");
	add_segment(&path, id);
	buf_addc(&path, '/');
	if (api(v, "get pipeline", "GET", path.data, NULL, NULL, &src, &doc, err, errlen))
		goto out;
	if (copy_body(&doc, v->project, id, pipeline_name, params, nparams, &body, err, errlen))
		goto out;
	if (api(v, "copy pipeline", "POST", "/api/v0/pipelines/", &body, idempotency_key, &ans,
		&doc, err, errlen))
		goto out;
	rc = read_run("copy pipeline", &doc, out, err, errlen);
out:
	buf_release(&path);
	buf_release(&src);
	buf_release(&body);
	buf_release(&ans);
	return rc;
}

/* ------------------------------------------------------------ fetch */

/* A fetch's answer: -1 with the first of its "errors" in err, else 0.
 * v may be NULL (nothing to mask). */
static int read_fetch(struct trig_valohai *v, const struct trig_json_value *doc, char *err,
		      size_t errlen)
{
	struct trig_json_value errors = member(doc, "errors"), k, e;
	struct trig_json_iter it;
	if (errors.type == TRIG_JSON_ARRAY && !trig_json_iter_begin(&it, &errors) &&
	    trig_json_iter_next(&it, &k, &e) == 1) {
		struct buf t = BUF_INIT;
		if (e.type != TRIG_JSON_STRING || trig_json_string(&e, &t))
			buf_add(&t, e.raw, e.len);
		char shown[SHOWN + 1];
		shown_answer(v, t.data, t.len, shown, sizeof(shown));
		fail_masked(v, err, errlen, "valohai fetch repository: %s", shown);
		buf_release(&t);
		return -1;
	}
	return 0;
}

int trig_valohai_fetch_repository(struct trig_valohai *v, const char *idempotency_key,
				  char *err, size_t errlen)
{
	struct buf path = BUF_INIT, body = BUF_INIT, ans = BUF_INIT;
	struct trig_json_value doc;
	buf_adds(&path, "/api/v0/projects/");
	add_segment(&path, v->project);
	buf_adds(&path, "/fetch/");
	buf_adds(&body, "{}");
	int rc = api(v, "fetch repository", "POST", path.data, &body, idempotency_key, &ans, &doc,
		     err, errlen);
	if (!rc)
		rc = read_fetch(v, &doc, err, errlen);
	buf_release(&path);
	buf_release(&body);
	buf_release(&ans);
	return rc;
}

/* ------------------------------------------------------------ status */

void trig_valohai_status_release(struct trig_valohai_status *st)
{
	buf_release(&st->metadata);
}

static bool word_in(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(w, *list))
			return true;
	return false;
}

/* Reads a status answer into *out (initialised by the caller): 0, or -1
 * with err filled when it has no status. */
static int read_status(const char *what, const struct trig_json_value *doc, bool pipeline,
		       struct trig_valohai_status *out, char *err, size_t errlen)
{
	static const char *const terminal[] = { "complete", "error", "stopped", "crashed", NULL };
	struct trig_json_value s = member(doc, "status"), x = member(doc, "exit_code");
	struct trig_json_value md = member(doc, "metadata");
	value_text(&s, out->status, sizeof(out->status));
	if (!out->status[0]) {
		fail(err, errlen, "valohai %s: the answer has no status", what);
		return -1;
	}
	char num[32];
	value_text(&x, num, sizeof(num));
	if (x.type == TRIG_JSON_NUMBER && json_number(num, true)) {
		long long n = strtoll(num, NULL, 10);
		if (n >= -1 && n <= 255)
			out->exit_code = (int)n;
	}
	out->terminal = word_in(out->status, terminal);
	out->ok = !strcmp(out->status, "complete");
	if (!pipeline && md.type == TRIG_JSON_OBJECT)
		buf_add(&out->metadata, md.raw, md.len);
	return 0;
}

int trig_valohai_status(struct trig_valohai *v, bool pipeline, const char *id,
			struct trig_valohai_status *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	if (!id || !*id || strlen(id) > 127) {
		fail(err, errlen, "valohai status: bad %s id", pipeline ? "pipeline" : "execution");
		return -1;
	}
	struct buf path = BUF_INIT, ans = BUF_INIT;
	struct trig_json_value doc;
	char what[200];
	snprintf(what, sizeof(what), "status of %s '%s'", pipeline ? "pipeline" : "execution", id);
	buf_adds(&path, pipeline ? "/api/v0/pipelines/" : "/api/v0/executions/");
	add_segment(&path, id);
	buf_addc(&path, '/');
	int rc = api(v, what, "GET", path.data, NULL, NULL, &ans, &doc, err, errlen);
	if (!rc)
		rc = read_status(what, &doc, pipeline, out, err, errlen);
	buf_release(&path);
	buf_release(&ans);
	return rc;
}

int trig_valohai_wait(struct trig_valohai *v, bool pipeline, const char *id, int64_t poll_ms,
		      int64_t timeout_ms, struct trig_valohai_status *out, char *err, size_t errlen)
{
	if (poll_ms <= 0)
		poll_ms = DEFAULT_POLL_MS;
	int64_t start = now_ms();
	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	for (;;) {
		struct trig_valohai_status st;
		if (trig_valohai_status(v, pipeline, id, &st, err, errlen)) {
			trig_valohai_status_release(&st);
			return -1;
		}
		trig_valohai_status_release(out);
		*out = st;
		if (st.terminal)
			return 0;
		int64_t waited = now_ms() - start;
		if (timeout_ms > 0 && waited >= timeout_ms) {
			fail(err, errlen, "timed out after %" PRId64 " ms waiting for %s '%s' (status %s)",
			     timeout_ms, pipeline ? "pipeline" : "execution", id, st.status);
			return -1;
		}
		int64_t d = poll_ms;
		if (timeout_ms > 0 && waited + d > timeout_ms)
			d = timeout_ms - waited;
		if (!sleep_ms(v, d)) {
			fail(err, errlen, "stopped waiting for %s '%s': the server is stopping",
			     pipeline ? "pipeline" : "execution", id);
			return -1;
		}
	}
}

/* ------------------------------------------------------------ answers, offline */

int trig_valohai_parse_answer(enum trig_valohai_answer kind, const char *body, size_t len,
			      const char *name, const struct trig_kv *params, size_t nparams,
			      struct buf *out, char *err, size_t errlen)
{
	static const struct {
		const char *what, *method, *path;
	} calls[] = {
		[TRIG_VALOHAI_ANSWER_EXECUTION] = { "create execution", "POST", "/api/v0/executions/" },
		[TRIG_VALOHAI_ANSWER_PIPELINE] = { "create pipeline", "POST", "/api/v0/pipelines/" },
		[TRIG_VALOHAI_ANSWER_EXECUTION_STATUS] = { "status of execution", "GET",
							   "/api/v0/executions/ID/" },
		[TRIG_VALOHAI_ANSWER_PIPELINE_STATUS] = { "status of pipeline", "GET",
							  "/api/v0/pipelines/ID/" },
		[TRIG_VALOHAI_ANSWER_PIPELINE_LIST] = { "list pipelines", "GET", "/api/v0/pipelines/" },
		[TRIG_VALOHAI_ANSWER_PIPELINE_SOURCE] = { "get pipeline", "GET",
							  "/api/v0/pipelines/ID/" },
		[TRIG_VALOHAI_ANSWER_MAKE_UPLOAD] = { "make upload", "POST",
						      "/api/v0/data/make_upload/" },
		[TRIG_VALOHAI_ANSWER_FETCH] = { "fetch repository", "POST",
						"/api/v0/projects/ID/fetch/" },
	};
	if ((unsigned)kind >= sizeof(calls) / sizeof(calls[0]) || (!body && len)) {
		fail(err, errlen, "valohai parse answer: bad arguments");
		return -1;
	}
	struct trig_json_query *whole = trig_json_query_new();
	struct trig_json_value doc;
	int rc = -1;
	if (trig_json_query_add(whole, NULL, 0) != 0) {
		fail(err, errlen, "valohai backend: cannot build a JSON query");
		goto out;
	}
	char what[200];
	snprintf(what, sizeof(what), "%s", calls[kind].what);
	if (kind == TRIG_VALOHAI_ANSWER_EXECUTION_STATUS || kind == TRIG_VALOHAI_ANSWER_PIPELINE_STATUS)
		snprintf(what, sizeof(what), "%s '%.150s'", calls[kind].what, name ? name : "");
	if (answer_object(NULL, whole, what, calls[kind].method, calls[kind].path, 200, body, len,
			  &doc, err, errlen))
		goto out;
	switch (kind) {
	case TRIG_VALOHAI_ANSWER_EXECUTION:
	case TRIG_VALOHAI_ANSWER_PIPELINE: {
		struct trig_valohai_run run;
		memset(&run, 0, sizeof(run));
		rc = read_run(what, &doc, &run, err, errlen);
		if (!rc)
			buf_printf(out, "id: %s\nurl: %s\n", run.id, run.url);
		break;
	}
	case TRIG_VALOHAI_ANSWER_EXECUTION_STATUS:
	case TRIG_VALOHAI_ANSWER_PIPELINE_STATUS: {
		bool pipeline = kind == TRIG_VALOHAI_ANSWER_PIPELINE_STATUS;
		struct trig_valohai_status st;
		memset(&st, 0, sizeof(st));
		st.exit_code = -1;
		rc = read_status(what, &doc, pipeline, &st, err, errlen);
		if (!rc) {
			buf_printf(out, "status: %s\nexit_code: %d\nterminal: %s\nok: %s\nmetadata: ",
				   st.status, st.exit_code, st.terminal ? "true" : "false",
				   st.ok ? "true" : "false");
			buf_add(out, st.metadata.data, st.metadata.len);
			buf_addc(out, '\n');
		}
		trig_valohai_status_release(&st);
		break;
	}
	case TRIG_VALOHAI_ANSWER_PIPELINE_LIST: {
		char id[128];
		pick_latest(&doc, name ? name : "", id, sizeof(id));
		if (!id[0]) {
			fail(err, errlen, "valohai copy pipeline: no pipeline titled '%s' to copy",
			     name ? name : "");
		} else {
			buf_printf(out, "id: %s\n", id);
			rc = 0;
		}
		break;
	}
	case TRIG_VALOHAI_ANSWER_PIPELINE_SOURCE: {
		struct buf b = BUF_INIT;
		rc = copy_body(&doc, "PROJECT", "ID", name, params, nparams, &b, err, errlen);
		if (!rc) {
			buf_adds(out, "body: ");
			buf_add(out, b.data, b.len);
			buf_addc(out, '\n');
		}
		buf_release(&b);
		break;
	}
	case TRIG_VALOHAI_ANSWER_MAKE_UPLOAD: {
		struct upload_target t;
		struct buf form = BUF_INIT;
		rc = read_upload(&doc, "BOUNDARY", &t, &form, err, errlen);
		if (!rc) {
			buf_printf(out, "id: %s\nurl: %s\nhttp: %s\nmethod: %s\n", t.id, t.url,
				   t.http ? "true" : "false", t.form ? "POST" : "PUT");
			if (t.form) {
				buf_adds(out, "form:\n");
				buf_add(out, form.data, form.len);
			}
		}
		buf_release(&form);
		break;
	}
	case TRIG_VALOHAI_ANSWER_FETCH:
		rc = read_fetch(NULL, &doc, err, errlen);
		break;
	case TRIG_VALOHAI_ANSWER_KINDS:
		break;          /* refused above */
	}
out:
	trig_json_query_free(whole);
	if (!rc && errlen)
		err[0] = 0;
	return rc;
}
