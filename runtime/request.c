/*
 * request.c — the request model: headers, query, form, remote address,
 * and the parser of a whole request message for `check --request`.
 */
#include "request.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base64.h"
#include "buf.h"

/* The copies a request owns: a list of blocks, bump-allocated. */
struct trig_request_mem {
	struct trig_request_mem *next;
	size_t used, cap;
	char data[];
};

static void *mem_alloc(struct trig_request *r, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct trig_request_mem *m = r->mem;
	if (!m || m->cap - m->used < n) {
		size_t cap = n > 4000 ? n : 4000;
		m = trig_xmalloc(sizeof(*m) + cap);
		m->next = r->mem;
		m->used = 0;
		m->cap = cap;
		r->mem = m;
	}
	void *p = m->data + m->used;
	m->used += n;
	return p;
}

static char *mem_copy(struct trig_request *r, const char *s, size_t n)
{
	char *p = mem_alloc(r, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void trig_request_init(struct trig_request *r)
{
	memset(r, 0, sizeof(*r));
	r->method = "GET";
	r->target = r->path = "/";
}

void trig_request_release(struct trig_request *r)
{
	free(r->headers.v);
	free(r->query.v);
	free(r->form.v);
	while (r->mem) {
		struct trig_request_mem *next = r->mem->next;
		free(r->mem);
		r->mem = next;
	}
	memset(r, 0, sizeof(*r));
}

static struct trig_pair *pairs_push(struct trig_pairs *p)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->v = trig_xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	return &p->v[p->n++];
}

static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
};

unsigned trig_method_bit(const char *name)
{
	for (unsigned i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (!strcmp(name, method_names[i]))
			return 1u << i;
	return 0;
}

void trig_methods_join(unsigned methods, const char *sep, struct buf *out)
{
	bool first = true;
	for (unsigned i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (methods & (1u << i)) {
			if (!first)
				buf_adds(out, sep);
			buf_adds(out, method_names[i]);
			first = false;
		}
}

long trig_percent_decode(const char *s, size_t len, bool plus, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = trig_hex_digit((unsigned char)s[i + 1])) < 0 ||
			    (lo = trig_hex_digit((unsigned char)s[i + 2])) < 0)
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = plus && c == '+' ? ' ' : c;
		}
	}
	return (long)o;
}

/* Splits "a=1&b=2" into decoded pairs; -1 on a bad escape. */
static int split_pairs(struct trig_request *r, struct trig_pairs *out, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && s[end] != '&')
			end++;
		if (end > i) {
			size_t eq = i;
			while (eq < end && s[eq] != '=')
				eq++;
			size_t nlen = eq - i, vlen = eq < end ? end - eq - 1 : 0;
			char *name = mem_alloc(r, nlen + 1), *value = mem_alloc(r, vlen + 1);
			long dn = trig_percent_decode(s + i, nlen, true, name);
			long dv = eq < end ? trig_percent_decode(s + eq + 1, vlen, true, value) : 0;
			if (dn < 0 || dv < 0)
				return -1;
			name[dn] = 0;
			value[dv] = 0;
			*pairs_push(out) = (struct trig_pair){ name, value, (size_t)dn, (size_t)dv };
		}
		i = end + 1;
	}
	return 0;
}

int trig_request_set_target(struct trig_request *r, const char *method, const char *target)
{
	if (target[0] != '/')
		return -1;
	r->method = mem_copy(r, method, strlen(method));
	r->target = mem_copy(r, target, strlen(target));
	const char *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - target) : strlen(target);
	r->path = mem_copy(r, target, plen);
	r->query.n = 0;
	if (q && split_pairs(r, &r->query, q + 1, strlen(q + 1)) != 0) {
		r->query.n = 0;
		return -1;
	}
	return 0;
}

void trig_request_add_header(struct trig_request *r, const char *name, size_t name_len,
			     const char *value, size_t value_len)
{
	*pairs_push(&r->headers) = (struct trig_pair){
		mem_copy(r, name, name_len), mem_copy(r, value, value_len), name_len, value_len
	};
}

void trig_request_set_body(struct trig_request *r, const char *body, size_t len)
{
	r->body = body;
	r->body_len = len;
	r->form.n = 0;
	r->form_state = 0;
}

void trig_request_set_remote(struct trig_request *r, const struct sockaddr *sa)
{
	memset(r->remote, 0, sizeof(r->remote));
	r->remote_text[0] = 0;
	if (!sa)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		r->remote[10] = r->remote[11] = 0xff;
		memcpy(r->remote + 12, &in->sin_addr, 4);
		inet_ntop(AF_INET, &in->sin_addr, r->remote_text, sizeof(r->remote_text));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		memcpy(r->remote, &in6->sin6_addr, 16);
		/* A v4-mapped peer (a dual-stack socket) reads as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, r->remote + 12, r->remote_text, sizeof(r->remote_text));
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, r->remote_text, sizeof(r->remote_text));
	}
}

int trig_request_set_remote_text(struct trig_request *r, const char *text)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	if (inet_pton(AF_INET, text, &in.sin_addr) == 1)
		trig_request_set_remote(r, (struct sockaddr *)&in);
	else if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1)
		trig_request_set_remote(r, (struct sockaddr *)&in6);
	else
		return -1;
	return 0;
}

/* One line of TEXT from *pos, without its CRLF or LF; NULL at the end. */
static const char *next_line(const char *text, size_t len, size_t *pos, size_t *line_len)
{
	if (*pos >= len)
		return NULL;
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += nl ? n + 1 : n;
	if (n && s[n - 1] == '\r')
		n--;
	*line_len = n;
	return s;
}

/* An RFC 9110 token character: what a method or a header name is made of. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* Content-Length: decimal digits only (no sign, no space), at most 18. */
static long parse_length(const char *s, size_t n)
{
	long v = 0;
	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int trig_request_parse(struct trig_request *r, const char *text, size_t len, char *err,
		       size_t errlen)
{
	size_t pos = 0, n;
	const char *line = next_line(text, len, &pos, &n);
	/* METHOD SP TARGET SP HTTP/1.x, and nothing after. */
	const char *sp1 = line ? memchr(line, ' ', n) : NULL;
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;
	if (!sp2 || !is_token(line, (size_t)(sp1 - line)) || sp2 == sp1 + 1 ||
	    (size_t)(line + n - sp2 - 1) != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    sp2[8] < '0' || sp2[8] > '9') {
		snprintf(err, errlen, "line 1: expected a request line such as 'POST /hooks/x HTTP/1.1'");
		return -1;
	}
	char *method = mem_copy(r, line, (size_t)(sp1 - line));
	char *target = mem_copy(r, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	bool ctl = false;
	for (const char *p = sp1 + 1; p < sp2; p++)
		ctl |= (unsigned char)*p < 0x20 || *p == 0x7f;
	if (ctl || trig_request_set_target(r, method, target) != 0) {
		snprintf(err, errlen, "line 1: the target must be a path such as /hooks/x, "
			 "with a well-formed query");
		return -1;
	}
	unsigned lineno = 1;
	long content_length = -1;
	for (;;) {
		line = next_line(text, len, &pos, &n);
		lineno++;
		if (!line) {
			snprintf(err, errlen, "line %u: the headers do not end with an empty line", lineno);
			return -1;
		}
		if (n == 0)
			break;
		const char *colon = memchr(line, ':', n);
		if (!colon || !is_token(line, (size_t)(colon - line))) {
			snprintf(err, errlen, "line %u: expected a header 'Name: value'", lineno);
			return -1;
		}
		size_t nlen = (size_t)(colon - line);
		const char *v = colon + 1, *end = line + n;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		trig_request_add_header(r, line, nlen, v, (size_t)(end - v));
		if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
			/* Two different lengths: which body is meant is anyone's guess. */
			long cl = parse_length(v, (size_t)(end - v));
			if (cl < 0 || (content_length >= 0 && cl != content_length)) {
				snprintf(err, errlen, "line %u: bad Content-Length", lineno);
				return -1;
			}
			content_length = cl;
		} else if (nlen == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			snprintf(err, errlen, "line %u: Transfer-Encoding is not supported: give the "
				 "body as it is, with or without a Content-Length", lineno);
			return -1;
		}
	}
	size_t body_len = len - pos;
	if (content_length >= 0) {
		if ((size_t)content_length > body_len) {
			snprintf(err, errlen, "the body has %zu bytes, Content-Length says %ld", body_len,
				 content_length);
			return -1;
		}
		body_len = (size_t)content_length;
	}
	trig_request_set_body(r, text + pos, body_len);
	return 0;
}

const char *trig_request_header_n(const struct trig_request *r, const char *name, size_t i,
				  size_t *len)
{
	size_t nlen = strlen(name);
	for (size_t k = 0; k < r->headers.n; k++) {
		const struct trig_pair *h = &r->headers.v[k];
		if (h->name_len == nlen && strncasecmp(h->name, name, nlen) == 0 && i-- == 0) {
			*len = h->value_len;
			return h->value;
		}
	}
	return NULL;
}

const char *trig_request_header(const struct trig_request *r, const char *name, size_t *len)
{
	return trig_request_header_n(r, name, 0, len);
}

static const char *pairs_get(const struct trig_pairs *p, const char *name, size_t *len)
{
	size_t nlen = strlen(name);
	for (size_t k = 0; k < p->n; k++)
		if (p->v[k].name_len == nlen && memcmp(p->v[k].name, name, nlen) == 0) {
			*len = p->v[k].value_len;
			return p->v[k].value;
		}
	return NULL;
}

const char *trig_request_query(const struct trig_request *r, const char *name, size_t *len)
{
	return pairs_get(&r->query, name, len);
}

int trig_request_form_parse(struct trig_request *r)
{
	if (r->form_state == 0) {
		r->form_state = 1;
		if (split_pairs(r, &r->form, r->body ? r->body : "", r->body_len) != 0) {
			r->form.n = 0;
			r->form_state = -1;
		}
	}
	return r->form_state > 0 ? 0 : -1;
}

const char *trig_request_form(struct trig_request *r, const char *name, size_t *len)
{
	if (trig_request_form_parse(r) != 0)
		return NULL;
	return pairs_get(&r->form, name, len);
}

const char *trig_request_field(void *ctx, enum trig_root root, const char *name, size_t *len)
{
	struct trig_request *r = ctx;
	switch (root) {
	case TRIG_ROOT_HEADER:
		return trig_request_header(r, name, len);
	case TRIG_ROOT_QUERY:
		return trig_request_query(r, name, len);
	case TRIG_ROOT_FORM:
		return trig_request_form(r, name, len);
	case TRIG_ROOT_REMOTE_IP:
		*len = strlen(r->remote_text);
		return *len ? r->remote_text : NULL;
	case TRIG_ROOT_BODY:
		*len = r->body_len;
		return r->body ? r->body : "";
	default:
		return NULL;
	}
}
