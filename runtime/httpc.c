/*
 * httpc.c — the `http` action over libcurl's easy interface.
 */
#include "httpc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "log.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The first bytes of the answer, for messages. */
static size_t keep_some(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	size_t len = size * n;
	if (b->len < 120)
		buf_add(b, p, len < 120 - b->len ? len : 120 - b->len);
	return len;
}

/* The URL without its query or fragment, for messages. */
static void url_for_messages(const char *url, char *out, size_t len)
{
	snprintf(out, len, "%.*s", (int)strcspn(url, "?#"), url);
}

static void printable(struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] < 0x20 || b->data[i] == 0x7f)
			b->data[i] = ' ';
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int trig_httpc_call(const struct trig_httpc_request *rq, int *status, char *err, size_t errlen)
{
	pthread_once(&curl_once, curl_init);
	*status = 0;
	char shown[256];
	url_for_messages(rq->url, shown, sizeof(shown));
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	struct curl_slist *hl = NULL;
	for (size_t i = 0; i < rq->nheaders; i++) {
		struct buf h = BUF_INIT;
		buf_printf(&h, "%s: %s", rq->headers[i].name, rq->headers[i].value);
		hl = curl_slist_append(hl, h.data);
		buf_release(&h);
	}
	/* libcurl adds "Expect: 100-continue" to larger bodies: not here. */
	hl = curl_slist_append(hl, "Expect:");
	struct buf answer = BUF_INIT;
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)TRIG_HTTPC_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "trig/" TRIG_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_some);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
	if (rq->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	} else if (!strcmp(rq->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}

	int rc = -1;
	int64_t deadline = rq->timeout_ms ? monotonic_ms() + rq->timeout_ms : 0;
	for (int attempt = 1; attempt <= TRIG_HTTPC_ATTEMPTS; attempt++) {
		buf_reset(&answer);
		if (deadline) {
			int64_t left = deadline - monotonic_ms();
			if (left <= 0) {
				snprintf(err, errlen, "%s %s: timed out after %lld ms", rq->method, shown,
					 (long long)rq->timeout_ms);
				break;
			}
			if (left < (int64_t)TRIG_HTTPC_TIMEOUT_S * 1000)
				curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
		}
		CURLcode cc = curl_easy_perform(c);
		long code = 0;
		if (cc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		*status = (int)code;
		bool again = cc != CURLE_OK || code >= 500 || code == 429;
		if (cc != CURLE_OK)
			snprintf(err, errlen, "%s %s: %s", rq->method, shown, curl_easy_strerror(cc));
		else if (rq->expect ? code == rq->expect : code >= 200 && code < 300) {
			rc = 0;
			break;
		} else {
			char want[16] = "2xx";
			if (rq->expect)
				snprintf(want, sizeof(want), "%d", rq->expect);
			printable(&answer);
			snprintf(err, errlen, "%s %s answered %ld, not %s%s%s", rq->method, shown, code,
				 want, answer.len ? ": " : "", buf_cstr(&answer));
		}
		if (!again || attempt == TRIG_HTTPC_ATTEMPTS)
			break;
		struct timespec ts = { 1 << (attempt - 1), 0 };
		if (deadline && monotonic_ms() + ts.tv_sec * 1000 >= deadline) {
			snprintf(err + strlen(err), errlen - strlen(err), " (no time left to try again)");
			break;
		}
		trig_info("%s; trying again in %lds", err, (long)ts.tv_sec);
		nanosleep(&ts, NULL);
	}
	if (rc == 0)
		err[0] = 0;
	buf_release(&answer);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return rc;
}
