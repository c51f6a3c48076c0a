/*
 * test_request.c — the request model (runtime/request.c): percent-decoding,
 * the query, headers, the form body, the parser of whole request messages,
 * remote addresses (libc's inet_pton as the oracle) and the field callback
 * templates use.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "unit.h"

#include "request.h"

/* The value of a lookup as a C string, or NULL, checking that the value
 * is NUL-terminated at its length. */
static const char *val(const char *v, const size_t *len)
{
	if (v)
		ck_assert_uint_eq(strlen(v), *len);
	return v;
}

static const char *query(const struct trig_request *r, const char *name)
{
	size_t len = 12345;
	return val(trig_request_query(r, name, &len), &len);
}

static const char *header(const struct trig_request *r, const char *name)
{
	size_t len = 12345;
	return val(trig_request_header(r, name, &len), &len);
}

static const char *form(struct trig_request *r, const char *name)
{
	size_t len = 12345;
	return val(trig_request_form(r, name, &len), &len);
}

/* ------------------------------------------------------------ decoding */

START_TEST(percent_decode)
{
	char out[64];
	ck_assert_int_eq(trig_percent_decode("a%20b+c", 7, true, out), 5);
	ck_assert_mem_eq(out, "a b c", 5);
	ck_assert_int_eq(trig_percent_decode("a%20b+c", 7, false, out), 5);
	ck_assert_mem_eq(out, "a b+c", 5);
	ck_assert_int_eq(trig_percent_decode("%e2%82%AC%2b", 12, true, out), 4);
	ck_assert_mem_eq(out, "\xe2\x82\xac+", 4);
	ck_assert_int_eq(trig_percent_decode("x%00y", 5, true, out), 3);
	ck_assert_mem_eq(out, "x\0y", 3);
	ck_assert_int_eq(trig_percent_decode("", 0, true, out), 0);
	/* Bad escapes: short at the end, not hex, alone. */
	static const char *const bad[] = { "%", "%4", "a%4", "%zz", "%4g", "%g4", "%%41", "a%" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(trig_percent_decode(bad[i], strlen(bad[i]), true, out) == -1, "%s", bad[i]);
	/* The length bounds the input: "%41" cut to 2 bytes is a bad escape. */
	ck_assert_int_eq(trig_percent_decode("%41", 2, true, out), -1);
	ck_assert_int_eq(trig_percent_decode("%41", 3, true, out), 1);
	ck_assert_int_eq(out[0], 'A');
}
END_TEST

/* ------------------------------------------------------------ target and query */

START_TEST(target_and_query)
{
	struct trig_request r;
	trig_request_init(&r);
	ck_assert_str_eq(r.method, "GET");
	ck_assert_str_eq(r.path, "/");
	ck_assert_int_eq(trig_request_set_target(&r, "POST",
						 "/hooks/x?a=1&b=x+y%21&c=%26&&=v&d=&e&a=2&f+g=%3D"), 0);
	ck_assert_str_eq(r.method, "POST");
	ck_assert_str_eq(r.path, "/hooks/x");
	ck_assert_str_eq(r.target, "/hooks/x?a=1&b=x+y%21&c=%26&&=v&d=&e&a=2&f+g=%3D");
	ck_assert_uint_eq(r.query.n, 8);        /* the empty segment between && is no pair */
	ck_assert_str_eq(query(&r, "a"), "1");  /* the first of a repeated name */
	ck_assert_str_eq(r.query.v[6].name, "a");
	ck_assert_str_eq(r.query.v[6].value, "2");
	ck_assert_str_eq(query(&r, "b"), "x y!");
	ck_assert_str_eq(query(&r, "c"), "&");
	ck_assert_str_eq(query(&r, ""), "v");   /* an empty name */
	ck_assert_str_eq(query(&r, "d"), "");   /* an empty value */
	ck_assert_str_eq(query(&r, "e"), "");   /* no '=' at all */
	ck_assert_str_eq(query(&r, "f g"), "=");
	ck_assert_ptr_null(query(&r, "A"));     /* names are exact */
	ck_assert_ptr_null(query(&r, "f"));
	ck_assert_ptr_null(query(&r, "zz"));

	/* A value holding a NUL: found by its length. */
	ck_assert_int_eq(trig_request_set_target(&r, "GET", "/p?n=a%00b"), 0);
	size_t len;
	const char *v = trig_request_query(&r, "n", &len);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(v, "a\0b", 4);

	/* No query; an empty query; a trailing '?'. */
	ck_assert_int_eq(trig_request_set_target(&r, "GET", "/plain"), 0);
	ck_assert_str_eq(r.path, "/plain");
	ck_assert_uint_eq(r.query.n, 0);
	ck_assert_int_eq(trig_request_set_target(&r, "GET", "/p?"), 0);
	ck_assert_str_eq(r.path, "/p");
	ck_assert_uint_eq(r.query.n, 0);
	ck_assert_int_eq(trig_request_set_target(&r, "GET", "/p?&&&"), 0);
	ck_assert_uint_eq(r.query.n, 0);

	/* Bad targets and bad escapes; a failure leaves no half query. */
	ck_assert_int_eq(trig_request_set_target(&r, "GET", "/q?a=1&b=%G1"), -1);
	ck_assert_uint_eq(r.query.n, 0);
	ck_assert_ptr_null(query(&r, "a"));
	ck_assert_int_eq(trig_request_set_target(&r, "GET", "/q?a=1&%"), -1);
	ck_assert_int_eq(trig_request_set_target(&r, "GET", "http://example.com/"), -1);
	ck_assert_int_eq(trig_request_set_target(&r, "OPTIONS", "*"), -1);
	ck_assert_int_eq(trig_request_set_target(&r, "GET", ""), -1);
	trig_request_release(&r);
}
END_TEST

/* ------------------------------------------------------------ headers */

START_TEST(headers)
{
	struct trig_request r;
	trig_request_init(&r);
	trig_request_add_header(&r, "Content-Type", 12, "text/plain", 10);
	trig_request_add_header(&r, "X-A", 3, "one", 3);
	trig_request_add_header(&r, "X-AB", 4, "long", 4);
	trig_request_add_header(&r, "x-a", 3, "two", 3);
	trig_request_add_header(&r, "X-Empty", 7, "", 0);
	trig_request_add_header(&r, "X-Bin", 5, "a\0b", 3);
	ck_assert_str_eq(header(&r, "content-type"), "text/plain");
	ck_assert_str_eq(header(&r, "CONTENT-TYPE"), "text/plain");
	ck_assert_str_eq(header(&r, "x-a"), "one");
	ck_assert_str_eq(header(&r, "X-Ab"), "long");
	ck_assert_ptr_null(header(&r, "X"));
	ck_assert_ptr_null(header(&r, "X-ABC"));
	ck_assert_ptr_null(header(&r, "Content-Typ"));
	ck_assert_str_eq(header(&r, "x-empty"), "");
	size_t len;
	ck_assert_ptr_nonnull(trig_request_header(&r, "x-bin", &len));
	ck_assert_uint_eq(len, 3);
	/* header_n walks every header of the name, in order. */
	ck_assert_str_eq(trig_request_header_n(&r, "X-A", 0, &len), "one");
	ck_assert_str_eq(trig_request_header_n(&r, "X-A", 1, &len), "two");
	ck_assert_uint_eq(len, 3);
	ck_assert_ptr_null(trig_request_header_n(&r, "X-A", 2, &len));
	ck_assert_ptr_null(trig_request_header_n(&r, "X-AB", 1, &len));
	ck_assert_ptr_null(trig_request_header_n(&r, "nope", 0, &len));

	/* Many headers and long values: the pair array and the copies grow. */
	char name[32], value[6000];
	memset(value, 'v', sizeof(value));
	for (int i = 0; i < 300; i++) {
		int n = snprintf(name, sizeof(name), "H-%d", i);
		value[0] = (char)('a' + i % 26);
		trig_request_add_header(&r, name, (size_t)n, value, (size_t)(i * 20));
	}
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "h-%d", i);
		const char *v = trig_request_header(&r, name, &len);
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(len, (size_t)(i * 20));
		if (i)
			ck_assert_int_eq(v[0], 'a' + i % 26);
		ck_assert_int_eq(v[len], 0);
	}
	trig_request_release(&r);
	ck_assert_ptr_null(r.mem);
	ck_assert_uint_eq(r.headers.n, 0);
}
END_TEST

/* ------------------------------------------------------------ form */

START_TEST(form_body)
{
	struct trig_request r;
	trig_request_init(&r);
	/* No body: a valid, empty form. */
	ck_assert_int_eq(trig_request_form_parse(&r), 0);
	ck_assert_ptr_null(form(&r, "a"));

	const char *body = "a=1&text=hello+world%21&a=2&&empty=&flag&%C3%A9=%E2%82%AC";
	trig_request_set_body(&r, body, strlen(body));
	ck_assert_int_eq(r.form_state, 0);     /* parsed on first use */
	ck_assert_str_eq(form(&r, "a"), "1");
	ck_assert_int_eq(r.form_state, 1);
	ck_assert_uint_eq(r.form.n, 6);
	ck_assert_str_eq(form(&r, "text"), "hello world!");
	ck_assert_str_eq(form(&r, "empty"), "");
	ck_assert_str_eq(form(&r, "flag"), "");
	ck_assert_str_eq(form(&r, "\xc3\xa9"), "\xe2\x82\xac");
	ck_assert_ptr_null(form(&r, "A"));
	ck_assert_int_eq(trig_request_form_parse(&r), 0);
	ck_assert_uint_eq(r.form.n, 6);        /* once only */

	/* The body is borrowed and cut at its length, not at a NUL. */
	const char cut[] = "x=1&y=2";
	trig_request_set_body(&r, cut, 3);
	ck_assert_str_eq(form(&r, "x"), "1");
	ck_assert_ptr_null(form(&r, "y"));
	const char nul[] = "x=a\0b&y=2";
	trig_request_set_body(&r, nul, sizeof(nul) - 1);
	size_t len;
	ck_assert_ptr_nonnull(trig_request_form(&r, "x", &len));
	ck_assert_uint_eq(len, 3);
	ck_assert_str_eq(form(&r, "y"), "2");

	/* Malformed: a bad escape anywhere spoils the whole body. */
	static const char *const bad[] = { "a=1&b=%zz", "a=%", "%4=1", "a=1&b=%2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		trig_request_set_body(&r, bad[i], strlen(bad[i]));
		ck_assert_int_eq(trig_request_form_parse(&r), -1);
		ck_assert_int_eq(r.form_state, -1);
		ck_assert_uint_eq(r.form.n, 0);
		ck_assert_ptr_null(form(&r, "a"));
		ck_assert_int_eq(trig_request_form_parse(&r), -1);
	}
	/* A new body is parsed again. */
	trig_request_set_body(&r, "a=ok", 4);
	ck_assert_str_eq(form(&r, "a"), "ok");
	/* A JSON body is a form of one odd name. */
	trig_request_set_body(&r, "{\"a\": 1}", 8);
	ck_assert_int_eq(trig_request_form_parse(&r), 0);
	ck_assert_ptr_null(form(&r, "a"));
	trig_request_release(&r);
}
END_TEST

/* ------------------------------------------------------------ parsing */

static int parse(struct trig_request *r, const char *text, size_t len, char *err)
{
	trig_request_init(r);
	err[0] = 0;
	int rv = trig_request_parse(r, text, len, err, 200);
	ck_assert(rv == 0 || rv == -1);
	ck_assert((rv == 0) == (err[0] == 0));
	return rv;
}

START_TEST(parse_messages)
{
	static const char crlf[] =
		"POST /hooks/x?y=1&z=%7E HTTP/1.1\r\n"
		"Host: example.com\r\n"
		"Content-Type:application/x-www-form-urlencoded \t\r\n"
		"X-Multi: a\r\n"
		"x-multi:  b  \r\n"
		"Content-Length: 9\r\n"
		"\r\n"
		"a=1&b=2\r\n"
		"this is past the length";
	static const char lf[] =
		"POST /hooks/x?y=1&z=%7E HTTP/1.0\n"
		"Host: example.com\n"
		"Content-Type:application/x-www-form-urlencoded \t\n"
		"X-Multi: a\n"
		"x-multi:  b  \n"
		"Content-Length: 9\n"
		"\n"
		"a=1&b=2\r\n"
		"this is past the length";
	const char *const texts[] = { crlf, lf };
	const size_t lens[] = { sizeof(crlf) - 1, sizeof(lf) - 1 };
	char err[200];
	for (int i = 0; i < 2; i++) {
		struct trig_request r;
		ck_assert_int_eq(parse(&r, texts[i], lens[i], err), 0);
		ck_assert_str_eq(r.method, "POST");
		ck_assert_str_eq(r.target, "/hooks/x?y=1&z=%7E");
		ck_assert_str_eq(r.path, "/hooks/x");
		ck_assert_str_eq(query(&r, "z"), "~");
		ck_assert_uint_eq(r.headers.n, 5);
		ck_assert_str_eq(header(&r, "host"), "example.com");
		ck_assert_str_eq(header(&r, "content-type"), "application/x-www-form-urlencoded");
		size_t len;
		ck_assert_str_eq(trig_request_header_n(&r, "X-MULTI", 1, &len), "b");
		ck_assert_uint_eq(r.body_len, 9);
		ck_assert_ptr_eq(r.body, strstr(texts[i], "a=1"));     /* borrowed */
		ck_assert_str_eq(form(&r, "b"), "2\r\n");
		trig_request_release(&r);
	}

	struct trig_request r;
	/* No Content-Length: the rest of the text, whatever it holds. */
	static const char all[] = "PUT /p HTTP/1.1\nX: 1\n\nline 1\r\nline 2\n\0tail";
	ck_assert_int_eq(parse(&r, all, sizeof(all) - 1, err), 0);
	ck_assert_uint_eq(r.body_len, sizeof("line 1\r\nline 2\n\0tail") - 1);
	ck_assert_mem_eq(r.body, "line 1\r\nline 2\n\0tail", r.body_len);
	trig_request_release(&r);
	/* No headers, no body. */
	ck_assert_int_eq(parse(&r, "GET /healthz HTTP/1.1\r\n\r\n", 25, err), 0);
	ck_assert_uint_eq(r.headers.n, 0);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_str_eq(r.method, "GET");
	trig_request_release(&r);
	/* Content-Length 0 with a body after it; the same length twice. */
	static const char zero[] = "POST / HTTP/1.1\nContent-Length: 0\ncontent-length: 0\n\nignored";
	ck_assert_int_eq(parse(&r, zero, sizeof(zero) - 1, err), 0);
	ck_assert_uint_eq(r.body_len, 0);
	trig_request_release(&r);
	/* A header value with a colon in it; an empty value. */
	static const char colon[] = "GET / HTTP/1.1\nX-Url: http://a:1/b\nX-E:\n\n";
	ck_assert_int_eq(parse(&r, colon, sizeof(colon) - 1, err), 0);
	ck_assert_str_eq(header(&r, "x-url"), "http://a:1/b");
	ck_assert_str_eq(header(&r, "x-e"), "");
	trig_request_release(&r);
}
END_TEST

START_TEST(parse_errors)
{
	static const struct {
		const char *text;
		const char *err;        /* the start of the message */
	} bad[] = {
		{ "", "line 1: expected a request line" },
		{ "\r\n\r\n", "line 1: expected a request line" },
		{ "POST\r\n\r\n", "line 1: expected a request line" },
		{ "POST /x\r\n\r\n", "line 1: expected a request line" },
		{ "POST /x HTTP/1.1 junk\r\n\r\n", "line 1: expected a request line" },
		{ "POST /x HTTP/1.\r\n\r\n", "line 1: expected a request line" },
		{ "POST /x HTTP/1.x\r\n\r\n", "line 1: expected a request line" },
		{ "POST /x HTTP/2.0\r\n\r\n", "line 1: expected a request line" },
		{ "POST /x http/1.1\r\n\r\n", "line 1: expected a request line" },
		{ " /x HTTP/1.1\r\n\r\n", "line 1: expected a request line" },
		{ "POST  /x HTTP/1.1\r\n\r\n", "line 1: expected a request line" },
		{ "PO(ST /x HTTP/1.1\r\n\r\n", "line 1: expected a request line" },
		{ "POST x HTTP/1.1\r\n\r\n", "line 1: the target must be a path" },
		{ "POST /x?a=%zz HTTP/1.1\r\n\r\n", "line 1: the target must be a path" },
		{ "POST /x HTTP/1.1\r\n", "line 2: the headers do not end" },
		{ "POST /x HTTP/1.1\r\nHost: a\r\n", "line 3: the headers do not end" },
		{ "POST /x HTTP/1.1\nHost: a", "line 3: the headers do not end" },
		{ "POST /x HTTP/1.1\r\nno colon\r\n\r\n", "line 2: expected a header" },
		{ "POST /x HTTP/1.1\r\n: v\r\n\r\n", "line 2: expected a header" },
		{ "POST /x HTTP/1.1\r\nBad Name: v\r\n\r\n", "line 2: expected a header" },
		{ "POST /x HTTP/1.1\r\nBad\tName: v\r\n\r\n", "line 2: expected a header" },
		{ "POST /x HTTP/1.1\r\nHost : v\r\n\r\n", "line 2: expected a header" },
		{ "POST /x HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n", "line 3: expected a header" },
		{ "POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "line 2: bad Content-Length" },
		{ "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "line 2: bad Content-Length" },
		{ "POST /x HTTP/1.1\r\nContent-Length: +1\r\n\r\nab", "line 2: bad Content-Length" },
		{ "POST /x HTTP/1.1\r\nContent-Length: 1 1\r\n\r\nab", "line 2: bad Content-Length" },
		{ "POST /x HTTP/1.1\r\nContent-Length:\r\n\r\n", "line 2: bad Content-Length" },
		{ "POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
		  "line 2: bad Content-Length" },
		{ "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		  "line 3: bad Content-Length" },
		{ "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
		  "line 2: Transfer-Encoding is not supported" },
		{ "POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort",
		  "the body has 5 bytes, Content-Length says 10" },
	};
	char err[200];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct trig_request r;
		ck_assert_msg(parse(&r, bad[i].text, strlen(bad[i].text), err) == -1, "%s", bad[i].text);
		ck_assert_msg(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0, "%s: %s",
			      bad[i].text, err);
		trig_request_release(&r);
	}
	/* A NUL inside the request line or a header name; a control
	 * character in the target. */
	static const char nul0[] = "POST /x\0y HTTP/1.1\r\n\r\n";
	static const char ctl[] = "POST /x\ty HTTP/1.1\r\n\r\n";
	static const char nul1[] = "PO\0T /x HTTP/1.1\r\n\r\n";
	static const char nul2[] = "POST /x HTTP/1.1\r\nA\0B: 1\r\n\r\n";
	struct trig_request r;
	ck_assert_int_eq(parse(&r, nul0, sizeof(nul0) - 1, err), -1);
	ck_assert_str_eq(err, "line 1: the target must be a path such as /hooks/x, with a well-formed query");
	trig_request_release(&r);
	ck_assert_int_eq(parse(&r, ctl, sizeof(ctl) - 1, err), -1);
	trig_request_release(&r);
	ck_assert_int_eq(parse(&r, nul1, sizeof(nul1) - 1, err), -1);
	trig_request_release(&r);
	ck_assert_int_eq(parse(&r, nul2, sizeof(nul2) - 1, err), -1);
	trig_request_release(&r);
	/* A short error buffer is cut, not overrun. */
	char small[8];
	memset(small, 'x', sizeof(small));
	trig_request_init(&r);
	ck_assert_int_eq(trig_request_parse(&r, "x", 1, small, 5), -1);
	ck_assert_uint_eq(strlen(small), 4);
	ck_assert_int_eq(small[5], 'x');
	trig_request_release(&r);
}
END_TEST

/* ------------------------------------------------------------ remote */

START_TEST(remote_addresses)
{
	struct trig_request r;
	trig_request_init(&r);
	ck_assert_str_eq(r.remote_text, "");

	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(80) };
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", &in.sin_addr), 1);
	trig_request_set_remote(&r, (const struct sockaddr *)&in);
	ck_assert_str_eq(r.remote_text, "192.0.2.1");
	uint8_t mapped[16];
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:192.0.2.1", mapped), 1);
	ck_assert_mem_eq(r.remote, mapped, 16);

	/* IPv6, and the text form inet_ntop gives it. */
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:DB8:0:0::1", &in6.sin6_addr), 1);
	trig_request_set_remote(&r, (const struct sockaddr *)&in6);
	ck_assert_str_eq(r.remote_text, "2001:db8::1");
	ck_assert_mem_eq(r.remote, &in6.sin6_addr, 16);

	/* A v4-mapped peer of a dual-stack socket reads as IPv4, and its
	 * 16 bytes are those of the plain IPv4 peer. */
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:198.51.100.7", &in6.sin6_addr), 1);
	trig_request_set_remote(&r, (const struct sockaddr *)&in6);
	ck_assert_str_eq(r.remote_text, "198.51.100.7");
	ck_assert_int_eq(trig_request_set_remote_text(&r, "198.51.100.7"), 0);
	ck_assert_mem_eq(r.remote, &in6.sin6_addr, 16);
	ck_assert_str_eq(r.remote_text, "198.51.100.7");

	/* Text forms. */
	ck_assert_int_eq(trig_request_set_remote_text(&r, "::1"), 0);
	ck_assert_str_eq(r.remote_text, "::1");
	ck_assert_int_eq(r.remote[15], 1);
	ck_assert_int_eq(trig_request_set_remote_text(&r, "::ffff:10.0.0.1"), 0);
	ck_assert_str_eq(r.remote_text, "10.0.0.1");
	ck_assert_int_eq(trig_request_set_remote_text(&r, "fe80::1:2"), 0);
	ck_assert_str_eq(r.remote_text, "fe80::1:2");
	static const char *const bad[] = { "", "1.2.3", "256.1.1.1", "example.com", "::g", "1.2.3.4/8" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(trig_request_set_remote_text(&r, bad[i]), -1);
	ck_assert_str_eq(r.remote_text, "fe80::1:2");   /* unchanged by a refusal */

	/* Anything but IPv4 and IPv6 is unknown. */
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	trig_request_set_remote(&r, (const struct sockaddr *)&un);
	ck_assert_str_eq(r.remote_text, "");
	uint8_t zero[16] = { 0 };
	ck_assert_mem_eq(r.remote, zero, 16);
	ck_assert_int_eq(trig_request_set_remote_text(&r, "10.1.2.3"), 0);
	trig_request_set_remote(&r, NULL);
	ck_assert_str_eq(r.remote_text, "");
	trig_request_release(&r);
}
END_TEST

/* ------------------------------------------------------------ fields */

START_TEST(fields)
{
	struct trig_request r;
	trig_request_init(&r);
	ck_assert_int_eq(trig_request_set_target(&r, "POST", "/h?q=1+2"), 0);
	trig_request_add_header(&r, "X-Token", 7, "abc", 3);
	trig_request_set_body(&r, "f=v%21", 6);
	size_t len = 99;
	const char *v;
	ck_assert_str_eq(val(trig_request_field(&r, TRIG_ROOT_HEADER, "x-token", &len), &len), "abc");
	ck_assert_ptr_null(trig_request_field(&r, TRIG_ROOT_HEADER, "x-none", &len));
	ck_assert_str_eq(val(trig_request_field(&r, TRIG_ROOT_QUERY, "q", &len), &len), "1 2");
	ck_assert_ptr_null(trig_request_field(&r, TRIG_ROOT_QUERY, "f", &len));
	ck_assert_str_eq(val(trig_request_field(&r, TRIG_ROOT_FORM, "f", &len), &len), "v!");
	ck_assert_ptr_null(trig_request_field(&r, TRIG_ROOT_FORM, "q", &len));
	/* remote.ip: absent until known. */
	ck_assert_ptr_null(trig_request_field(&r, TRIG_ROOT_REMOTE_IP, NULL, &len));
	ck_assert_int_eq(trig_request_set_remote_text(&r, "203.0.113.9"), 0);
	ck_assert_str_eq(val(trig_request_field(&r, TRIG_ROOT_REMOTE_IP, NULL, &len), &len),
			 "203.0.113.9");
	/* body: the raw bytes, not decoded. */
	v = trig_request_field(&r, TRIG_ROOT_BODY, NULL, &len);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(v, "f=v%21", 6);
	/* Roots that are not the request's. */
	static const enum trig_root others[] = {
		TRIG_ROOT_PAYLOAD, TRIG_ROOT_CLAIM, TRIG_ROOT_EVENT, TRIG_ROOT_TRIGGER,
		TRIG_ROOT_LAUNCH_ID, TRIG_ROOT_NOW,
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		ck_assert_ptr_null(trig_request_field(&r, others[i], "q", &len));
	/* No body at all: an empty body, and an empty form. */
	trig_request_set_body(&r, NULL, 0);
	v = trig_request_field(&r, TRIG_ROOT_BODY, NULL, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(trig_request_field(&r, TRIG_ROOT_FORM, "f", &len));
	trig_request_release(&r);
}
END_TEST

static Suite *request_suite(void)
{
	Suite *s = suite_create("request");
	TCase *tc = tcase_create("request");
	tcase_add_test(tc, percent_decode);
	tcase_add_test(tc, target_and_query);
	tcase_add_test(tc, headers);
	tcase_add_test(tc, form_body);
	tcase_add_test(tc, parse_messages);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, remote_addresses);
	tcase_add_test(tc, fields);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(request_suite)
