/*
 * http.c — the libmicrohttpd server.
 */
#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "log.h"

struct trig_http {
	struct MHD_Daemon *d;
	const struct trig_project *p;
	unsigned port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								  MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	(void)cls;
	(void)version;
	(void)upload;
	/* The first call is for the headers; answering then means a body,
	 * if any, is not read. */
	if (!*state) {
		*state = (void *)1;
		if (*upload_size == 0 && strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0 &&
		    strcmp(method, "PATCH") != 0)
			goto route;
		return MHD_YES;
	}
	if (*upload_size) {
		/* No route reads a body yet: drop it unread. */
		*upload_size = 0;
		return MHD_YES;
	}
route:
	if (!strcmp(url, "/healthz")) {
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
				     "{\"error\":\"method not allowed\"}\n");
		return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n");
	}
	return reply(c, MHD_HTTP_NOT_FOUND, "application/json", "{\"error\":\"not found\"}\n");
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
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_THREAD_POOL_SIZE, workers,
				MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections ? cfg->max_connections : 1024,
				MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s ? cfg->timeout_s : 30,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on '%s': %s", cfg->listen,
			 errno ? strerror(errno) : "libmicrohttpd refused to start");
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
	/* Stop accepting first, then let in-flight requests end. */
	MHD_quiesce_daemon(h->d);
	MHD_stop_daemon(h->d);
	free(h);
}
