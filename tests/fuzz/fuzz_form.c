/*
 * fuzz_form.c — libFuzzer target for the request model (runtime/request.h):
 * trig_request_parse on arbitrary bytes, then the form body, the query,
 * header lookups and the field callback templates use.
 *
 * Rules checked on every input (a broken one aborts, which libFuzzer
 * reports as a crash):
 *   - a refused message has a message; an accepted one has a token method,
 *     a path starting with '/' and a body lying inside the input;
 *   - printed again (request line, "Name: value" lines, the body, CRLF
 *     line ends) an accepted request parses to the same request;
 *   - every value a lookup returns is NUL-terminated at its length;
 *     header lookups ignore case, and header_n(name, 0) is header(name);
 *   - the body is a malformed form exactly when it holds a '%' not
 *     followed by two hex digits (an oracle independent of the decoder),
 *     and otherwise has one field per non-empty '&'-separated segment,
 *     none longer than its segment; the same for the query;
 *   - the field callback agrees with the lookups.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_form: %s:%d: '%s' failed\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The oracle: -1 when s[0..n) has a bad %-escape, else the number of
 * non-empty '&' segments. */
static long count_pairs(const char *s, size_t n)
{
	long pairs = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '%' && (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2])))
			return -1;
	for (size_t i = 0; i < n;) {
		size_t end = i;
		while (end < n && s[end] != '&')
			end++;
		pairs += end > i;
		i = end + 1;
	}
	return pairs;
}

static void check_pairs(const struct trig_pairs *p, size_t rawlen)
{
	for (size_t i = 0; i < p->n; i++) {
		REQUIRE(p->v[i].name[p->v[i].name_len] == 0);
		REQUIRE(p->v[i].value[p->v[i].value_len] == 0);
		REQUIRE(p->v[i].name_len + p->v[i].value_len <= rawlen);
	}
}

static void check_value(const char *v, size_t len)
{
	if (v)
		REQUIRE(v[len] == 0);
}

static void same_request(const struct trig_request *a, const struct trig_request *b)
{
	REQUIRE(strcmp(a->method, b->method) == 0 && strcmp(a->target, b->target) == 0);
	REQUIRE(a->headers.n == b->headers.n && a->query.n == b->query.n);
	for (size_t i = 0; i < a->headers.n; i++) {
		const struct trig_pair *x = &a->headers.v[i], *y = &b->headers.v[i];
		REQUIRE(x->name_len == y->name_len && memcmp(x->name, y->name, x->name_len) == 0);
		REQUIRE(x->value_len == y->value_len && memcmp(x->value, y->value, x->value_len) == 0);
	}
	REQUIRE(a->body_len == b->body_len && memcmp(a->body, b->body, a->body_len) == 0);
}

static void lookups(struct trig_request *r)
{
	static const char *const names[] = {
		"Content-Type", "content-length", "HOST", "x-hub-signature-256", "a", "", "X",
	};
	size_t len, len2;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = trig_request_header(r, names[i], &len);
		check_value(v, len);
		REQUIRE(v == trig_request_header_n(r, names[i], 0, &len2));
		if (v)
			REQUIRE(len == len2);
		size_t k = 0;
		while (trig_request_header_n(r, names[i], k, &len2))
			k++;
		REQUIRE(k <= r->headers.n);
		const char *q = trig_request_query(r, names[i], &len);
		check_value(q, len);
		const char *f = trig_request_form(r, names[i], &len);
		check_value(f, len);
		const char *cb = trig_request_field(r, TRIG_ROOT_FORM, names[i], &len2);
		REQUIRE(cb == f && (!f || len == len2));
		cb = trig_request_field(r, TRIG_ROOT_QUERY, names[i], &len2);
		REQUIRE(cb == q);
		cb = trig_request_field(r, TRIG_ROOT_HEADER, names[i], &len2);
		REQUIRE(cb == v);
	}
	/* Each header is found by its own name, in upper and in lower case. */
	char name[64];
	for (size_t i = 0; i < r->headers.n && i < 8; i++) {
		const struct trig_pair *h = &r->headers.v[i];
		if (h->name_len >= sizeof(name))
			continue;
		for (int upper = 0; upper < 2; upper++) {
			for (size_t j = 0; j <= h->name_len; j++) {
				unsigned char c = (unsigned char)h->name[j];
				name[j] = (char)(upper ? toupper(c) : tolower(c));
			}
			const char *v = trig_request_header(r, name, &len);
			REQUIRE(v != NULL);
			check_value(v, len);
		}
	}
	const char *b = trig_request_field(r, TRIG_ROOT_BODY, NULL, &len);
	REQUIRE(b != NULL && len == r->body_len);
	b = trig_request_field(r, TRIG_ROOT_REMOTE_IP, NULL, &len);
	REQUIRE(b == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct trig_request r;
	char err[128];
	trig_request_init(&r);
	err[0] = 0;
	if (trig_request_parse(&r, text, size, err, sizeof(err)) != 0) {
		REQUIRE(err[0] != 0 && strlen(err) < sizeof(err));
		trig_request_release(&r);
		return 0;
	}
	REQUIRE(r.method[0] && r.path[0] == '/' && strlen(r.path) <= strlen(r.target));
	REQUIRE(r.body >= text && r.body_len <= size && (size_t)(r.body - text) <= size - r.body_len);

	/* The query against the oracle. */
	const char *qm = strchr(r.target, '?');
	long want = qm ? count_pairs(qm + 1, strlen(qm + 1)) : 0;
	REQUIRE(want >= 0 && r.query.n == (size_t)want);
	check_pairs(&r.query, qm ? strlen(qm + 1) : 0);

	/* The form against the oracle. */
	want = count_pairs(r.body, r.body_len);
	int fp = trig_request_form_parse(&r);
	REQUIRE((fp == 0) == (want >= 0));
	REQUIRE(fp != 0 || r.form.n == (size_t)want);
	REQUIRE(fp == 0 || r.form.n == 0);
	check_pairs(&r.form, r.body_len);
	REQUIRE(trig_request_form_parse(&r) == fp);

	lookups(&r);

	/* Printed again and parsed again: the same request. */
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s %s HTTP/1.1\r\n", r.method, r.target);
	for (size_t i = 0; i < r.headers.n; i++) {
		buf_add(&b, r.headers.v[i].name, r.headers.v[i].name_len);
		buf_adds(&b, ": ");
		buf_add(&b, r.headers.v[i].value, r.headers.v[i].value_len);
		buf_adds(&b, "\r\n");
	}
	buf_adds(&b, "\r\n");
	buf_add(&b, r.body, r.body_len);
	struct trig_request again;
	trig_request_init(&again);
	REQUIRE(trig_request_parse(&again, b.data, b.len, err, sizeof(err)) == 0);
	same_request(&r, &again);
	trig_request_release(&again);
	buf_release(&b);
	trig_request_release(&r);
	return 0;
}
