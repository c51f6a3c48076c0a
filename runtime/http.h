/*
 * http.h — the HTTP server of `serve` (libmicrohttpd).
 *
 * Serves the webhook triggers of a project on their paths (the build-time
 * route table, searched by binary search), GET/HEAD /healthz and
 * /metrics (metrics.h); everything else is 404.  A webhook request is
 * refused as early as it can be: an unknown path, a disabled trigger, a
 * method not allowed or a Content-Length over max-body before its body is
 * read; a chunked body is cut off at max-body.  Then the conditions judge
 * it (conditions.h), and a request that passes is launched (launch.h,
 * journalled and synced) before it is answered 202 or by its respond
 * action.  Every request gets an id (X-Request-Id) and, for a webhook, an
 * audit record.  Limits: connections, connection timeout (slow clients),
 * 32 KiB of header memory per connection.  The server runs a thread pool
 * on epoll; trig_http_stop() stops accepting, waits (up to 10 s) for the
 * requests in flight to be answered, then closes every connection.
 */
#ifndef TRIG_HTTP_H
#define TRIG_HTTP_H

#include <stddef.h>

#include "conditions.h"
#include "launch.h"
#include "state.h"
#include "trig.h"

struct trig_http_config {
	const char *listen;             /* "HOST:PORT", "[V6]:PORT" or ":PORT" */
	unsigned workers;               /* threads; 0: one per core */
	unsigned max_connections;       /* 0: 1024 */
	unsigned timeout_s;             /* idle connection timeout; 0: 30 */
	/* Webhooks (all NULL: only /healthz is served). */
	struct trig_launcher *launcher;
	struct trig_guard *guard;
	struct trig_state *state;
};

struct trig_http;

/* Binds and starts serving.  NULL with a message in err. */
struct trig_http *trig_http_start(const struct trig_project *p, const struct trig_http_config *cfg,
				  char *err, size_t errlen);

/* The port actually bound (for ":0"). */
unsigned trig_http_port(const struct trig_http *h);

/* Stops accepting, finishes in-flight requests, frees. */
void trig_http_stop(struct trig_http *h);

#endif
