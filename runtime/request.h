/*
 * request.h — one HTTP request as the conditions and templates see it.
 *
 * The server (http.c) and the dry run (`check --request FILE`) both fill a
 * struct trig_request; everything that judges a request (conditions.h,
 * hmac.h) or renders from it (render.h) reads it through the functions
 * here, never through libmicrohttpd.
 *
 *   - headers: names compared case-insensitively; the first of a repeated
 *     header wins for lookups (trig_request_header_n walks them all);
 *   - query: the target's query string, split at '&' and '=' and
 *     percent-decoded ('+' is a space), in order; the raw target is kept
 *     for signatures that cover the URL (Twilio);
 *   - form: the body as application/x-www-form-urlencoded, decoded the same
 *     way on first use (trig_request_form_parse); a malformed body (a bad
 *     %-escape) is a 400, as SPEC.md §4 says of a payload that is needed
 *     and invalid;
 *   - remote: the peer's address as 16 bytes (IPv4 as ::ffff:a.b.c.d) and
 *     as text.
 *
 * A request owns copies of everything added to it; trig_request_release()
 * frees them.  Lookups return pointers into the request, valid until then.
 * Not thread-safe: one request is handled by one thread.
 */
#ifndef TRIG_REQUEST_H
#define TRIG_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "trig.h"

struct sockaddr;

struct trig_pair {
	const char *name, *value;       /* NUL-terminated; may hold NULs inside */
	size_t name_len, value_len;
};

struct trig_pairs {
	struct trig_pair *v;
	size_t n, cap;
};

struct trig_request {
	const char *method;             /* "POST" */
	const char *target;             /* as received: path and query */
	const char *path;               /* the target up to '?' */
	struct trig_pairs headers, query, form;
	int form_state;                 /* 0 not parsed, 1 parsed, -1 malformed */
	const char *body;
	size_t body_len;
	uint8_t remote[16];
	char remote_text[48];           /* "" when unknown */
	struct trig_request_mem *mem;   /* the copies */
};

void trig_request_init(struct trig_request *r);
void trig_request_release(struct trig_request *r);

/* Sets method and target (path and query); -1 when the target is not an
 * origin-form path ("/..."), or its query has a bad %-escape. */
int trig_request_set_target(struct trig_request *r, const char *method, const char *target);

void trig_request_add_header(struct trig_request *r, const char *name, size_t name_len,
			     const char *value, size_t value_len);

/* The body is borrowed, not copied: it must outlive the request. */
void trig_request_set_body(struct trig_request *r, const char *body, size_t len);

/* The peer's address; AF_INET or AF_INET6, anything else leaves it unknown. */
void trig_request_set_remote(struct trig_request *r, const struct sockaddr *sa);
/* The same from text ("192.0.2.1", "2001:db8::1"); -1 if it is not an address. */
int trig_request_set_remote_text(struct trig_request *r, const char *text);

/* Parses a whole HTTP/1.x request message (request line, headers, an empty
 * line, the body; CRLF or LF line ends) into R, freshly initialized, as
 * `check --request FILE` reads it.  The request line is exactly
 * "METHOD SP TARGET SP HTTP/1.D", the target without control characters;
 * methods and header names are RFC 9110 tokens.  The body is what follows
 * the empty line, cut to Content-Length when there is one (decimal digits;
 * repeated, it must repeat the same value); it is borrowed from TEXT.  A
 * Transfer-Encoding header is refused (the body is taken as written).  -1
 * with a message in err. */
int trig_request_parse(struct trig_request *r, const char *text, size_t len, char *err,
		       size_t errlen);

/* The first header named NAME (any case), or NULL. */
const char *trig_request_header(const struct trig_request *r, const char *name, size_t *len);
/* The Ith header named NAME (0-based), or NULL: several signatures, say. */
const char *trig_request_header_n(const struct trig_request *r, const char *name, size_t i,
				  size_t *len);

/* The first query parameter NAME (exact case), decoded, or NULL. */
const char *trig_request_query(const struct trig_request *r, const char *name, size_t *len);

/* Decodes the body as a form once: 0, or -1 when it is malformed. */
int trig_request_form_parse(struct trig_request *r);
/* The first form field NAME, decoded, or NULL (also when the body is not
 * a valid form). */
const char *trig_request_form(struct trig_request *r, const char *name, size_t *len);

/* A render.h trig_request_fn over a struct trig_request (the ctx):
 * header, query, form, remote.ip and body fields. */
const char *trig_request_field(void *ctx, enum trig_root root, const char *name, size_t *len);

/* The methods of trig.h's TRIG_GET ... TRIG_OPTIONS bits: the bit of a
 * method's name (0 for any other), and the names of a set of bits, in bit
 * order, joined by SEP ("GET, POST"). */
unsigned trig_method_bit(const char *name);
void trig_methods_join(unsigned methods, const char *sep, struct buf *out);

/* Percent-decodes S[0..LEN) into OUT (room for LEN bytes), '+' as a space
 * when PLUS; returns the decoded length or -1 on a bad escape. */
long trig_percent_decode(const char *s, size_t len, bool plus, char *out);

#endif
