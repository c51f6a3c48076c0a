/*
 * http.h — the HTTP server of `serve` (libmicrohttpd).
 *
 * This is the skeleton the webhook triggers plug into: GET/HEAD /healthz
 * answers 200, every other path 404 (webhook routes come with the webhook
 * runtime).  Limits are enforced from the start: connections, connection
 * timeout (slow clients), request header size.  The server runs a thread
 * pool on epoll; trig_http_stop() stops accepting and lets in-flight
 * requests finish.
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
