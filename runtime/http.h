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
 * on epoll (one thread per core).  A request that launches is suspended
 * and handed to a launch thread (64 by default), which journals it and
 * waits for the sync together with the others (one fdatasync covers them
 * all: group commit), then resumes the connection with its answer; the
 * HTTP threads never wait on the disk.  trig_http_stop() stops accepting,
 * waits (up to 10 s) for the requests in flight to be answered (the
 * launch threads finish those handed to them), then closes every
 * connection.
 *
 * Events (SPEC.md §2.4, docs/events.md): POST /events (the type from the
 * body) and POST /events/TYPE hand a notification event to the dispatcher
 * (events.h).  They need the admin token, TRIG_ADMIN_TOKEN (or a file named
 * by TRIG_ADMIN_TOKEN_FILE, re-read by trig_http_reload on SIGHUP), as
 * `Authorization: Bearer TOKEN` or `?token=TOKEN`, compared in constant
 * time: 401 without it, 403 when no admin token is configured, 405 for a
 * method but POST, 413 over 1 MiB, 400 for a body that is not a JSON
 * object with a valid type, else 202 with the dispatcher's summary when
 * something was launched, 200 when nothing was.
 *
 * Run-info (SPEC.md §4): GET or POST <webhook path>/runs/<launch id>
 * answers the launch's state (trig_launcher_run_info) behind the
 * webhook's authentication conditions only (token, hmac, jwt, timestamp,
 * ip-allow: no replay id is spent, no rate budget, no filter must match):
 * 200, 404 for an unknown launch or one of another trigger, the
 * webhook's rejected-status when authentication fails.
 */
#ifndef TRIG_HTTP_H
#define TRIG_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "conditions.h"
#include "events.h"
#include "launch.h"
#include "state.h"
#include "trig.h"

struct trig_http_config {
	const char *listen;             /* "HOST:PORT", "[V6]:PORT" or ":PORT" */
	unsigned workers;               /* HTTP threads; 0: one per core */
	unsigned launch_threads;        /* threads that journal launches; 0: 64 */
	unsigned max_connections;       /* 0: 1024 */
	unsigned timeout_s;             /* idle connection timeout; 0: 30 */
	/* Webhooks (all NULL: only /healthz is served). */
	struct trig_launcher *launcher;
	struct trig_guard *guard;
	struct trig_state *state;
	/* Events (NULL: /events answers 404) and the audit log for their
	 * requests (may be NULL). */
	struct trig_events *events;
	struct trig_audit *audit;
};

struct trig_http;

/* Binds and starts serving.  NULL with a message in err. */
struct trig_http *trig_http_start(const struct trig_project *p, const struct trig_http_config *cfg,
				  char *err, size_t errlen);

/* The port actually bound (for ":0"). */
unsigned trig_http_port(const struct trig_http *h);

/* Re-reads the admin token (SIGHUP).  On error the token in use is kept
 * and err says why (naming the variable or file, never the value). */
int trig_http_reload(struct trig_http *h, char *err, size_t errlen);

/* Reads the admin token: TRIG_ADMIN_TOKEN_FILE (a file, its trailing
 * newline dropped) if set, else TRIG_ADMIN_TOKEN.  1 with the token in OUT
 * (wipe it with trig_secret_release), 0 when neither is set (or it is
 * empty), -1 with a message when the file cannot be read. */
int trig_admin_token_read(struct buf *out, char *err, size_t errlen);

/* Stops accepting, finishes in-flight requests, frees. */
void trig_http_stop(struct trig_http *h);

#endif
