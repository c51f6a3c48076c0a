/*
 * httpc.h — the `http` action: one HTTP request with libcurl.
 *
 * The request is made as rendered when the launch was accepted (method,
 * URL, headers, body).  Only http and https URLs are followed, redirects
 * are not, and each attempt has TRIG_HTTPC_TIMEOUT_S seconds (10 to
 * connect).  A network error, a 5xx or a 429 is tried again, up to
 * TRIG_HTTPC_ATTEMPTS attempts in all, 1 s then 2 s apart (4 s, ...); any
 * other status ends it.  A timeout_ms bounds the whole call, waits
 * included (the action's `timeout`).  The action succeeds when the final status is the
 * expected one (EXPECT; 0: any 2xx).  Messages name the URL without its
 * query string (which may carry a token) and quote at most 120 bytes of
 * the answer.
 */
#ifndef TRIG_HTTPC_H
#define TRIG_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "local.h"

#define TRIG_HTTPC_TIMEOUT_S 30
#define TRIG_HTTPC_ATTEMPTS 3

struct trig_httpc_request {
	const char *method;
	const char *url;
	const struct trig_kv *headers;
	size_t nheaders;
	const char *body;               /* NULL: none */
	size_t body_len;
	int expect;                     /* 0: any 2xx */
	int64_t timeout_ms;             /* the whole call, retries included; 0: none */
};

/* 0 when the expected status came, else -1 with a message; *status is
 * the last status (0 when no answer came). */
int trig_httpc_call(const struct trig_httpc_request *rq, int *status, char *err, size_t errlen);

#endif
