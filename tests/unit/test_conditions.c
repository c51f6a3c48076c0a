/*
 * test_conditions.c — the condition evaluator (runtime/conditions.c):
 * every filter operator on every field root, groups, token, ip-allow,
 * timestamp, replay, rate-limit, the order of evaluation, the payload
 * (JSON, GitHub's form), secrets and their rotation.
 *
 * The tables are built here by hand, as trigc would lower them: payload
 * fields share one path table (trig_field.path_id indexes it, and the JSON
 * query is built from it in the same order), `in` values are sorted,
 * authentication conditions come first.  Independent oracles: a token
 * bucket in exact integer arithmetic for the GCRA rate limit, a bit-by-bit
 * prefix comparison for CIDRs, timegm() for RFC 3339 times, OpenSSL's
 * HMAC() for signed timestamps.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "unit.h"

#include "buf.h"
#include "conditions.h"
#include "json.h"
#include "render.h"
#include "request.h"

/* 2023-11-14T22:13:20Z */
#define NOW 1700000000000LL
#define HOUR 3600000LL

#define PASS TRIG_VERDICT_PASS
#define NOT_MATCHED TRIG_VERDICT_NOT_MATCHED
#define REJECTED TRIG_VERDICT_REJECTED
#define BAD_REQUEST TRIG_VERDICT_BAD_REQUEST
#define REPLAYED TRIG_VERDICT_REPLAYED
#define RATE_LIMITED TRIG_VERDICT_RATE_LIMITED

/* ------------------------------------------------------------ building tables */

/* Everything a test allocates; the fixture's teardown frees it. */
static void *owned[4096];
static unsigned nowned;

static void *own(void *p)
{
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_lt(nowned, sizeof(owned) / sizeof(owned[0]));
	owned[nowned++] = p;
	return p;
}

static void *zalloc(size_t n)
{
	return own(calloc(1, n ? n : 1));
}

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	struct buf b = BUF_INIT;
	buf_vprintf(&b, f, ap);
	va_end(ap);
	buf_grow(&b, 0);
	return own(buf_detach(&b));
}

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

/* The project's path table: every payload and claim field made, once. */
static struct trig_field paths[128];
static unsigned npaths;

/* A field from its text, as the compiler resolves it. */
static struct trig_field fld(const char *text)
{
	struct trig_field f = { .text = text };
	const char *rest = NULL;
	if (strncmp(text, "payload", 7) == 0) {
		f.root = TRIG_ROOT_PAYLOAD;
		rest = text + 7;
	} else if (strncmp(text, "claim.", 6) == 0) {
		f.root = TRIG_ROOT_CLAIM;
		rest = text + 5;
	} else if (strncmp(text, "header.", 7) == 0) {
		f.root = TRIG_ROOT_HEADER;
		f.name = text + 7;
	} else if (strncmp(text, "query.", 6) == 0) {
		f.root = TRIG_ROOT_QUERY;
		f.name = text + 6;
	} else if (strncmp(text, "form.", 5) == 0) {
		f.root = TRIG_ROOT_FORM;
		f.name = text + 5;
	} else if (strcmp(text, "remote.ip") == 0) {
		f.root = TRIG_ROOT_REMOTE_IP;
	} else if (strcmp(text, "trigger.name") == 0) {
		f.root = TRIG_ROOT_TRIGGER;
	} else {
		ck_abort_msg("unknown field '%s'", text);
	}
	if (!rest)
		return f;
	if (*rest == '.')
		rest++;
	struct trig_path_seg *segs;
	unsigned n;
	ck_assert_int_eq(trig_json_path_parse(rest, &segs, &n, NULL), 0);
	if (segs)
		own(segs);
	f.segs = segs;
	f.nsegs = (uint16_t)n;
	for (unsigned i = 0; i < npaths; i++)
		if (strcmp(paths[i].text, text) == 0) {
			f.path_id = (uint16_t)i;
			return f;
		}
	ck_assert_uint_lt(npaths, sizeof(paths) / sizeof(paths[0]));
	f.path_id = (uint16_t)npaths;
	paths[npaths++] = f;
	return f;
}

static struct trig_json_query *make_query(void)
{
	struct trig_json_query *q = trig_json_query_new();
	for (unsigned i = 0; i < npaths; i++)
		ck_assert_int_eq(trig_json_query_add(q, paths[i].segs, paths[i].nsegs), (int)i);
	return q;
}

/* "{{ FIELD }}", or "PREFIX{{ FIELD }}". */
static struct trig_template tmpl2(const char *prefix, const char *field)
{
	struct trig_piece *p = zalloc(2 * sizeof(*p));
	uint32_t n = 0;
	if (prefix) {
		p[n].kind = TRIG_PIECE_TEXT;
		p[n].text = prefix;
		p[n++].len = (uint32_t)strlen(prefix);
	}
	p[n].kind = TRIG_PIECE_FIELD;
	p[n++].field = fld(field);
	return (struct trig_template){ fmt("%s{{ %s }}", prefix ? prefix : "", field), p, n };
}

static struct trig_template tmpl(const char *field)
{
	return tmpl2(NULL, field);
}

static const char *const op_words[] = {
	"equals", "not-equals", "in", "not-in", "matches", "glob", "exists", "not-exists",
	"greater-than", "less-than", "contains",
};

static struct trig_condition filter(const char *field, enum trig_filter_op op, const char *value)
{
	struct trig_condition c = { .kind = TRIG_COND_FILTER };
	c.source = fmt("%s %s %s", field, op_words[op], value ? value : "");
	c.u.filter.field = fld(field);
	c.u.filter.op = op;
	c.u.filter.value = value;
	if (op == TRIG_OP_GREATER || op == TRIG_OP_LESS)
		c.u.filter.number = strtod(value, NULL);
	return c;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* in, not-in: the values sorted, as the compiler leaves them. */
static struct trig_condition filter_in(const char *field, enum trig_filter_op op,
				       const char *const *values)
{
	struct trig_condition c = filter(field, op, NULL);
	size_t n = 0;
	while (values[n])
		n++;
	const char **v = zalloc(n * sizeof(*v));
	memcpy(v, values, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_str);
	c.u.filter.values = v;
	c.u.filter.nvalues = (uint32_t)n;
	return c;
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define EQ(f, v) filter(f, TRIG_OP_EQUALS, v)
#define NE(f, v) filter(f, TRIG_OP_NOT_EQUALS, v)
#define IN(f, ...) filter_in(f, TRIG_OP_IN, LIST(__VA_ARGS__))
#define NOT_IN(f, ...) filter_in(f, TRIG_OP_NOT_IN, LIST(__VA_ARGS__))
#define MATCHES(f, v) filter(f, TRIG_OP_MATCHES, v)
#define GLOB(f, v) filter(f, TRIG_OP_GLOB, v)
#define EXISTS(f) filter(f, TRIG_OP_EXISTS, NULL)
#define NOT_EXISTS(f) filter(f, TRIG_OP_NOT_EXISTS, NULL)
#define GT(f, v) filter(f, TRIG_OP_GREATER, v)
#define LT(f, v) filter(f, TRIG_OP_LESS, v)
#define CONTAINS(f, v) filter(f, TRIG_OP_CONTAINS, v)

#define CONDS(...) ((const struct trig_condition[]){ __VA_ARGS__ })
#define NCONDS(...) (sizeof(CONDS(__VA_ARGS__)) / sizeof(struct trig_condition))

static const struct trig_condition *copy_conds(const struct trig_condition *c, size_t n)
{
	struct trig_condition *v = zalloc(n * sizeof(*v));
	memcpy(v, c, n * sizeof(*v));
	return v;
}

static struct trig_condition group(enum trig_cond_kind kind, const struct trig_condition *kids,
				   size_t n)
{
	static const char *const words[] = { [TRIG_COND_ANY] = "any", [TRIG_COND_ALL] = "all",
					      [TRIG_COND_NOT] = "not" };
	struct trig_condition c = { .kind = kind, .source = words[kind] };
	c.u.group.conditions = copy_conds(kids, n);
	c.u.group.nconditions = (uint32_t)n;
	return c;
}

#define ANY(...) group(TRIG_COND_ANY, CONDS(__VA_ARGS__), NCONDS(__VA_ARGS__))
#define ALL(...) group(TRIG_COND_ALL, CONDS(__VA_ARGS__), NCONDS(__VA_ARGS__))
#define NOT(...) group(TRIG_COND_NOT, CONDS(__VA_ARGS__), NCONDS(__VA_ARGS__))

static struct trig_secret env_secret(const char *name)
{
	return (struct trig_secret){ TRIG_SECRET_ENV, name };
}

static struct trig_condition token_header(const char *header, struct trig_secret s)
{
	struct trig_condition c = { .kind = TRIG_COND_TOKEN, .source = "token" };
	c.u.token.secret = s;
	c.u.token.header = header;
	return c;
}

static struct trig_condition token_query(const char *name, struct trig_secret s)
{
	struct trig_condition c = { .kind = TRIG_COND_TOKEN, .source = "token" };
	c.u.token.secret = s;
	c.u.token.query = name;
	return c;
}

static struct trig_condition token_bearer(struct trig_secret s)
{
	struct trig_condition c = { .kind = TRIG_COND_TOKEN, .source = "token" };
	c.u.token.secret = s;
	c.u.token.bearer = true;
	return c;
}

static struct trig_condition replay(struct trig_template id, int64_t window_ms)
{
	struct trig_condition c = { .kind = TRIG_COND_REPLAY, .source = "replay" };
	c.u.replay.id = id;
	c.u.replay.window_ms = window_ms;
	return c;
}

static struct trig_condition rate(int64_t max, int64_t per_ms, struct trig_template key)
{
	struct trig_condition c = { .kind = TRIG_COND_RATE_LIMIT, .source = "rate-limit" };
	c.u.rate_limit.max = max;
	c.u.rate_limit.per_ms = per_ms;
	c.u.rate_limit.key = key;
	return c;
}

static const struct trig_template no_template;

static struct trig_condition timestamp(const char *header, enum trig_time_format f, int64_t tol)
{
	struct trig_condition c = { .kind = TRIG_COND_TIMESTAMP, .source = "timestamp" };
	c.u.timestamp.header = header;
	c.u.timestamp.from_signature = header == NULL;
	c.u.timestamp.format = f;
	c.u.timestamp.tolerance_ms = tol;
	return c;
}

/* A CIDR in trig.h's form: IPv4 as ::ffff:a.b.c.d, prefix on 128 bits. */
static struct trig_cidr cidr(const char *text)
{
	struct trig_cidr c = { { 0 }, 0 };
	char addr[64];
	const char *slash = strchr(text, '/');
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash ? slash - text : (long)strlen(text)), text);
	if (strchr(addr, ':')) {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, c.addr), 1);
		c.prefix = (uint8_t)(slash ? atoi(slash + 1) : 128);
	} else {
		c.addr[10] = c.addr[11] = 0xff;
		ck_assert_int_eq(inet_pton(AF_INET, addr, c.addr + 12), 1);
		c.prefix = (uint8_t)(96 + (slash ? atoi(slash + 1) : 32));
	}
	return c;
}

static struct trig_condition ip_allow(const char *const *texts)
{
	struct trig_condition c = { .kind = TRIG_COND_IP_ALLOW, .source = "ip-allow" };
	size_t n = 0;
	while (texts[n])
		n++;
	struct trig_cidr *v = zalloc(n * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = cidr(texts[i]);
	c.u.ip_allow.cidrs = v;
	c.u.ip_allow.ncidrs = (uint32_t)n;
	return c;
}

/* ------------------------------------------------------------ project and guard */

static struct trig_trigger triggers[64];
static unsigned ntriggers;
static struct trig_project project;
static struct trig_json_query *query;
static struct trig_guard *guard;

static const struct trig_trigger *add_trigger(const char *name, const struct trig_condition *c,
					      size_t n)
{
	ck_assert_uint_lt(ntriggers, sizeof(triggers) / sizeof(triggers[0]));
	struct trig_trigger *t = &triggers[ntriggers++];
	*t = (struct trig_trigger){
		.name = name, .kind = TRIG_KIND_WEBHOOK, .enabled = true,
		.conditions = copy_conds(c, n), .nconditions = (uint32_t)n,
	};
	return t;
}

#define TRIGGER(name, ...) add_trigger(name, CONDS(__VA_ARGS__), NCONDS(__VA_ARGS__))

/* Makes the guard of the triggers added so far; NULL with ERR filled. */
static struct trig_guard *try_start(char *err, size_t errlen)
{
	project = (struct trig_project){
		.abi = TRIG_ABI, .name = "t", .triggers = triggers, .ntriggers = ntriggers,
		.paths = paths, .npaths = npaths,
	};
	query = make_query();
	err[0] = 0;
	guard = trig_guard_new(&project, query, err, errlen);
	return guard;
}

static void start(void)
{
	char err[512];
	ck_assert_msg(try_start(err, sizeof(err)) != NULL, "trig_guard_new: %s", err);
}

/* ------------------------------------------------------------ requests */

static struct trig_request reqs[256];
static unsigned nreqs;

static struct trig_request *request_n(const char *target, const char *body, size_t len,
				      const char *const *headers)
{
	ck_assert_uint_lt(nreqs, sizeof(reqs) / sizeof(reqs[0]));
	struct trig_request *r = &reqs[nreqs++];
	trig_request_init(r);
	ck_assert_int_eq(trig_request_set_target(r, "POST", target), 0);
	for (; *headers; headers++) {
		const char *colon = strchr(*headers, ':');
		ck_assert_ptr_nonnull(colon);
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		trig_request_add_header(r, *headers, (size_t)(colon - *headers), v, strlen(v));
	}
	if (body) {
		char *copy = zalloc(len + 1);
		memcpy(copy, body, len);
		trig_request_set_body(r, copy, len);
	}
	return r;
}

/* REQ(target, body or NULL, "Header: value"..., NULL) */
#define REQ(target, body, ...) request_n(target, body, slen(body), (const char *const[]){ __VA_ARGS__, NULL })

static struct trig_request *from(struct trig_request *r, const char *ip)
{
	ck_assert_int_eq(trig_request_set_remote_text(r, ip), 0);
	return r;
}

/* ------------------------------------------------------------ judging */

static struct trig_eval ev;
static bool ev_live;

static void ev_reset(void)
{
	if (ev_live)
		trig_eval_release(&ev);
	ev_live = true;
}

/* T (of the started guard) judges R at NOW_MS. */
static enum trig_verdict judge(const struct trig_trigger *t, struct trig_request *r, int64_t now_ms,
			       bool commit)
{
	ev_reset();
	enum trig_verdict v = trig_guard_eval(guard, t, r, now_ms, commit, &ev, NULL, NULL);
	ck_assert_int_eq(v, ev.verdict);
	return v;
}

/* The conditions C[0..N) alone, in a trigger and guard of their own. */
static enum trig_verdict judge_alone(const struct trig_condition *c, size_t n,
				     struct trig_request *r)
{
	struct trig_trigger t = { .name = "alone", .kind = TRIG_KIND_WEBHOOK, .enabled = true,
				  .conditions = c, .nconditions = (uint32_t)n };
	struct trig_project p = { .abi = TRIG_ABI, .name = "t", .triggers = &t, .ntriggers = 1,
				  .paths = paths, .npaths = npaths };
	struct trig_json_query *q = make_query();
	char err[512];
	struct trig_guard *g = trig_guard_new(&p, q, err, sizeof(err));
	ck_assert_msg(g != NULL, "trig_guard_new: %s", err);
	ev_reset();
	enum trig_verdict v = trig_guard_eval(g, &t, r, NOW, true, &ev, NULL, NULL);
	trig_guard_free(g);
	trig_json_query_free(q);
	return v;
}

static const char *const verdict_names[] = {
	"PASS", "NOT_MATCHED", "REJECTED", "BAD_REQUEST", "REPLAYED", "RATE_LIMITED",
};

/* Condition C judges R as V, with the reason WHY (NULL: not checked). */
static void expect_(int line, struct trig_condition c, struct trig_request *r, enum trig_verdict v,
		    const char *why)
{
	enum trig_verdict got = judge_alone(&c, 1, r);
	ck_assert_msg(got == v, "line %d: '%s': %s, expected %s (reason '%s')", line, c.source,
		      verdict_names[got], verdict_names[v], ev.reason);
	if (why)
		ck_assert_msg(strcmp(ev.reason, why) == 0, "line %d: '%s': reason '%s', expected '%s'",
			      line, c.source, ev.reason, why);
	if (v == PASS)
		ck_assert_msg(ev.failed == NULL && !ev.reason[0], "line %d", line);
	else
		ck_assert_msg(ev.failed != NULL && ev.failed->source == c.source, "line %d", line);
}

#define EXPECT(c, r, v, why) expect_(__LINE__, c, r, v, why)
#define PASSES(c, r) expect_(__LINE__, c, r, PASS, "")
#define MISSES(c, r, why) expect_(__LINE__, c, r, NOT_MATCHED, why)

/* ------------------------------------------------------------ files */

static char dir[256];

static const char *file_with(const char *name, const char *content, size_t len)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s/trig-cond-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		ck_assert_ptr_nonnull(mkdtemp(dir));
	}
	const char *path = fmt("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(content, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static char *read_shared(const char *rel, size_t *len)
{
	FILE *f = fopen(unit_shared(rel), "rb");
	ck_assert_msg(f != NULL, "%s: %s", unit_shared(rel), strerror(errno));
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return own(buf_detach(&b));
}

static void teardown(void)
{
	if (ev_live)
		trig_eval_release(&ev);
	ev_live = false;
	trig_guard_free(guard);
	guard = NULL;
	trig_json_query_free(query);
	query = NULL;
	for (unsigned i = 0; i < nreqs; i++)
		trig_request_release(&reqs[i]);
	nreqs = 0;
	ntriggers = 0;
	npaths = 0;
	if (dir[0]) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		ck_assert_int_eq(system(cmd), 0);
		dir[0] = 0;
	}
	for (unsigned i = 0; i < nowned; i++)
		free(owned[i]);
	nowned = 0;
}

/* ------------------------------------------------------------ filters on the payload */

static const char doc[] =
	"{\"ref\": \"refs/heads/main\", \"n\": 42, \"f\": 2.5, \"neg\": -3, \"exp\": 1e3,"
	" \"t\": true, \"no\": false, \"nul\": null, \"s\": \"a\\u0000bc\", \"empty\": \"\","
	" \"str\": \"h\\u00e9llo w\\u00f6rld\", \"numstr\": \"17\", \"hex\": \"0x10\","
	" \"sp\": \" 5\", \"inf\": \"inf\", \"esc\": \"tab\\there \\\"q\\\"\","
	" \"arr\": [\"train\", \"eval\", 3, null, [1]], \"none\": [],"
	" \"obj\": {\"a\": {\"b\": [10, {\"c\": \"deep\"}]}}}";

static struct trig_request *json_req(const char *body)
{
	return REQ("/h", body, "Content-Type: application/json");
}

START_TEST(payload_equals)
{
	struct trig_request *r = json_req(doc);
	PASSES(EQ("payload.ref", "refs/heads/main"), r);
	MISSES(EQ("payload.ref", "refs/heads/mai"), r,
	       "payload.ref does not satisfy equals (it is \"refs/heads/main\")");
	MISSES(EQ("payload.ref", "refs/heads/main "), r, NULL);
	/* Nested paths and array indexes. */
	PASSES(EQ("payload.obj.a.b[1].c", "deep"), r);
	PASSES(EQ("payload.obj.a.b[0]", "10"), r);
	PASSES(EQ("payload.arr[1]", "eval"), r);
	MISSES(EQ("payload.arr[9]", "eval"), r, "payload.arr[9] is absent");
	MISSES(EQ("payload.obj.a.b.c", "deep"), r, "payload.obj.a.b.c is absent");
	/* Numbers compare as written; booleans and null as their words. */
	PASSES(EQ("payload.n", "42"), r);
	MISSES(EQ("payload.n", "42.0"), r, NULL);
	PASSES(EQ("payload.f", "2.5"), r);
	PASSES(EQ("payload.exp", "1e3"), r);
	MISSES(EQ("payload.exp", "1000"), r, NULL);
	PASSES(EQ("payload.t", "true"), r);
	PASSES(EQ("payload.no", "false"), r);
	PASSES(EQ("payload.nul", "null"), r);
	/* Strings are decoded; arrays and objects are their JSON text. */
	PASSES(EQ("payload.str", "h\xc3\xa9llo w\xc3\xb6rld"), r);
	PASSES(EQ("payload.esc", "tab\there \"q\""), r);
	PASSES(EQ("payload.arr[4]", "[1]"), r);
	PASSES(EQ("payload.empty", ""), r);
	/* A NUL inside a value is part of it. */
	MISSES(EQ("payload.s", "a"), r, "payload.s does not satisfy equals (it is \"a\")");
	MISSES(EQ("payload.s", "abc"), r, NULL);
	MISSES(EQ("payload.missing", "x"), r, "payload.missing is absent");

	PASSES(NE("payload.ref", "refs/heads/dev"), r);
	MISSES(NE("payload.ref", "refs/heads/main"), r,
	       "payload.ref does not satisfy not-equals (it is \"refs/heads/main\")");
	PASSES(NE("payload.missing", "x"), r);
	PASSES(NE("payload.s", "a"), r);
	MISSES(NE("payload.nul", "null"), r, NULL);
	MISSES(NE("payload.empty", ""), r, NULL);
}
END_TEST

START_TEST(payload_in)
{
	struct trig_request *r = json_req(doc);
	PASSES(IN("payload.ref", "refs/heads/release", "refs/heads/main"), r);
	PASSES(IN("payload.ref", "z", "refs/heads/main", "a", "m", "refs/heads/mainx"), r);
	MISSES(IN("payload.ref", "refs/heads/release", "refs/heads/dev"), r,
	       "payload.ref does not satisfy in (it is \"refs/heads/main\")");
	MISSES(IN("payload.missing", "x", "y"), r, "payload.missing is absent");
	PASSES(IN("payload.n", "41", "42"), r);
	PASSES(IN("payload.t", "true", "yes"), r);
	PASSES(IN("payload.empty", "", "x"), r);
	/* "a\0bc" is none of "a", "abc", "bc". */
	MISSES(IN("payload.s", "a", "abc", "bc"), r, NULL);

	PASSES(NOT_IN("payload.ref", "refs/heads/release", "refs/heads/dev"), r);
	MISSES(NOT_IN("payload.ref", "refs/heads/release", "refs/heads/main"), r,
	       "payload.ref does not satisfy not-in (it is \"refs/heads/main\")");
	PASSES(NOT_IN("payload.missing", "x"), r);
	PASSES(NOT_IN("payload.s", "a", "abc"), r);

	/* Many values: every one found by the bisection, and near misses not. */
	const char *v[41];
	for (int i = 0; i < 40; i++)
		v[i] = fmt("v%03d", (i * 7) % 40);
	v[40] = NULL;
	for (int i = 0; i < 40; i++) {
		struct trig_request *q = json_req(fmt("{\"k\": \"v%03d\"}", i));
		PASSES(filter_in("payload.k", TRIG_OP_IN, v), q);
		MISSES(filter_in("payload.k", TRIG_OP_NOT_IN, v), q, NULL);
		struct trig_request *q2 = json_req(fmt("{\"k\": \"v%03d \"}", i));
		MISSES(filter_in("payload.k", TRIG_OP_IN, v), q2, NULL);
	}
}
END_TEST

START_TEST(payload_matches_glob)
{
	struct trig_request *r = json_req(doc);
	/* POSIX extended, searched anywhere unless anchored. */
	PASSES(MATCHES("payload.ref", "heads/ma"), r);
	PASSES(MATCHES("payload.ref", "^refs/heads/(main|release)$"), r);
	PASSES(MATCHES("payload.ref", "[a-z]+/[a-z]+/m(a|e)in"), r);
	MISSES(MATCHES("payload.ref", "^heads"), r,
	       "payload.ref does not satisfy matches (it is \"refs/heads/main\")");
	MISSES(MATCHES("payload.ref", "^refs/heads/ma$"), r, NULL);
	MISSES(MATCHES("payload.ref", "main$x"), r, NULL);
	PASSES(MATCHES("payload.n", "^4[0-9]$"), r);
	PASSES(MATCHES("payload.empty", "^$"), r);
	MISSES(MATCHES("payload.missing", "."), r, "payload.missing is absent");
	/* A NUL inside: the search goes on past it, anchors see the whole value. */
	PASSES(MATCHES("payload.s", "b"), r);
	PASSES(MATCHES("payload.s", "c$"), r);
	PASSES(MATCHES("payload.s", "^a"), r);
	MISSES(MATCHES("payload.s", "^a$"), r, NULL);
	MISSES(MATCHES("payload.s", "^abc$"), r, NULL);
	/* Not a Perl regex: \d is not a digit class in ERE. */
	MISSES(MATCHES("payload.n", "^\\d+$"), r, NULL);

	PASSES(GLOB("payload.ref", "refs/heads/*"), r);
	PASSES(GLOB("payload.ref", "refs/heads/ma?n"), r);
	PASSES(GLOB("payload.ref", "[rx]efs/*/main"), r);
	PASSES(GLOB("payload.ref", "*"), r);
	MISSES(GLOB("payload.ref", "refs/tags/*"), r,
	       "payload.ref does not satisfy glob (it is \"refs/heads/main\")");
	MISSES(GLOB("payload.ref", "heads/*"), r, NULL);     /* whole value */
	MISSES(GLOB("payload.missing", "*"), r, "payload.missing is absent");
	MISSES(GLOB("payload.s", "a*"), r, NULL);            /* NUL inside */
	PASSES(GLOB("payload.empty", "*"), r);
}
END_TEST

START_TEST(payload_exists)
{
	struct trig_request *r = json_req(doc);
	PASSES(EXISTS("payload.ref"), r);
	PASSES(EXISTS("payload.nul"), r);          /* null is a value */
	PASSES(EXISTS("payload.empty"), r);
	PASSES(EXISTS("payload.no"), r);
	PASSES(EXISTS("payload.none"), r);
	PASSES(EXISTS("payload.obj.a.b[1]"), r);
	PASSES(EXISTS("payload"), r);              /* the whole document */
	MISSES(EXISTS("payload.missing"), r, "payload.missing is absent");
	MISSES(EXISTS("payload.ref.x"), r, "payload.ref.x is absent");
	MISSES(EXISTS("payload.none[0]"), r, "payload.none[0] is absent");
	PASSES(NOT_EXISTS("payload.missing"), r);
	MISSES(NOT_EXISTS("payload.ref"), r, "payload.ref is present");
	MISSES(NOT_EXISTS("payload.nul"), r, "payload.nul is present");
}
END_TEST

START_TEST(payload_numbers)
{
	struct trig_request *r = json_req(doc);
	PASSES(GT("payload.n", "41"), r);
	MISSES(GT("payload.n", "42"), r, "payload.n does not satisfy greater-than (it is \"42\")");
	PASSES(GT("payload.n", "41.999"), r);
	PASSES(LT("payload.n", "42.5"), r);
	MISSES(LT("payload.n", "42"), r, "payload.n does not satisfy less-than (it is \"42\")");
	PASSES(GT("payload.f", "2.4"), r);
	PASSES(LT("payload.f", "2.6"), r);
	PASSES(LT("payload.neg", "0"), r);
	PASSES(GT("payload.neg", "-3.5"), r);
	PASSES(GT("payload.exp", "999"), r);
	PASSES(LT("payload.exp", "1000.5"), r);
	/* A string holding a number is a number. */
	PASSES(GT("payload.numstr", "16"), r);
	PASSES(LT("payload.numstr", "17.5"), r);
	/* Not numbers. */
	static const char *const nan_fields[] = {
		"payload.str", "payload.t", "payload.nul", "payload.empty", "payload.hex",
		"payload.sp", "payload.inf", "payload.arr", "payload.obj", "payload.s",
	};
	for (size_t i = 0; i < sizeof(nan_fields) / sizeof(nan_fields[0]); i++) {
		const char *why = fmt("%s is not a number", nan_fields[i]);
		MISSES(GT(nan_fields[i], "-1e300"), r, why);
		MISSES(LT(nan_fields[i], "1e300"), r, why);
	}
	MISSES(GT("payload.missing", "0"), r, "payload.missing is absent");
	MISSES(LT("payload.missing", "0"), r, "payload.missing is absent");
}
END_TEST

START_TEST(payload_contains)
{
	struct trig_request *r = json_req(doc);
	/* An array: an element equal to the value (its text, as equals sees it). */
	PASSES(CONTAINS("payload.arr", "train"), r);
	PASSES(CONTAINS("payload.arr", "eval"), r);
	PASSES(CONTAINS("payload.arr", "3"), r);
	PASSES(CONTAINS("payload.arr", "[1]"), r);
	MISSES(CONTAINS("payload.arr", "rain"), r,
	       "payload.arr does not satisfy contains (it is \"[\"train\", \"eval\", 3, null, [1]]\")");
	MISSES(CONTAINS("payload.arr", "tra"), r, NULL);
	MISSES(CONTAINS("payload.none", ""), r, NULL);
	MISSES(CONTAINS("payload.none", "x"), r, NULL);
	/* A string: a substring. */
	PASSES(CONTAINS("payload.ref", "heads"), r);
	PASSES(CONTAINS("payload.ref", "refs/heads/main"), r);
	PASSES(CONTAINS("payload.ref", ""), r);
	MISSES(CONTAINS("payload.ref", "refs/heads/main/"), r, NULL);
	MISSES(CONTAINS("payload.ref", "HEADS"), r, NULL);
	PASSES(CONTAINS("payload.str", "w\xc3\xb6r"), r);
	PASSES(CONTAINS("payload.s", "bc"), r);    /* past the NUL */
	PASSES(CONTAINS("payload.n", "4"), r);
	MISSES(CONTAINS("payload.missing", ""), r, "payload.missing is absent");
}
END_TEST

/* ------------------------------------------------------------ other roots */

START_TEST(header_fields)
{
	struct trig_request *r = REQ("/h", "{}", "x-github-event: push", "X-COUNT: 12",
				     "X-Empty:", "X-Twice: first", "x-twice: second",
				     "X-List: a, b, c");
	PASSES(EQ("header.X-GitHub-Event", "push"), r);
	PASSES(EQ("header.x-github-event", "push"), r);
	PASSES(EQ("header.X-GITHUB-EVENT", "push"), r);
	/* A header's value never reaches a reason (it may be a credential). */
	MISSES(EQ("header.X-GitHub-Event", "Push"), r,
	       "header.X-GitHub-Event does not satisfy equals");
	MISSES(EQ("header.X-Missing", "push"), r, "header.X-Missing is absent");
	PASSES(NE("header.X-Missing", "push"), r);
	PASSES(IN("header.X-GitHub-Event", "ping", "push"), r);
	PASSES(NOT_IN("header.X-GitHub-Event", "ping", "release"), r);
	PASSES(MATCHES("header.x-github-event", "^pu"), r);
	PASSES(GLOB("header.X-GitHub-Event", "p*"), r);
	PASSES(EXISTS("header.X-Empty"), r);
	PASSES(EQ("header.X-Empty", ""), r);
	PASSES(NOT_EXISTS("header.X-Missing"), r);
	MISSES(NOT_EXISTS("header.x-count"), r, "header.x-count is present");
	PASSES(GT("header.X-Count", "11.5"), r);
	PASSES(LT("header.X-Count", "13"), r);
	MISSES(GT("header.X-GitHub-Event", "0"), r, "header.X-GitHub-Event is not a number");
	PASSES(CONTAINS("header.X-List", "b, c"), r);
	MISSES(CONTAINS("header.X-List", "d"), r, NULL);
	/* The first of a repeated header. */
	PASSES(EQ("header.X-Twice", "first"), r);
}
END_TEST

START_TEST(query_fields)
{
	struct trig_request *r = REQ("/h?branch=main&n=5&sp=a+b&enc=%2Fx%26&flag&Case=1&n=6",
				     "{}", NULL);
	PASSES(EQ("query.branch", "main"), r);
	PASSES(EQ("query.sp", "a b"), r);
	PASSES(EQ("query.enc", "/x&"), r);
	PASSES(EQ("query.n", "5"), r);             /* the first */
	PASSES(GT("query.n", "4"), r);
	PASSES(EXISTS("query.flag"), r);
	PASSES(EQ("query.flag", ""), r);
	MISSES(EXISTS("query.case"), r, "query.case is absent");   /* exact case */
	PASSES(EXISTS("query.Case"), r);
	PASSES(IN("query.branch", "main", "dev"), r);
	PASSES(MATCHES("query.sp", "^a b$"), r);
	PASSES(CONTAINS("query.enc", "&"), r);
	PASSES(GLOB("query.branch", "ma*"), r);
	MISSES(EQ("query.missing", ""), r, "query.missing is absent");
}
END_TEST

START_TEST(form_fields)
{
	const char *ct = "Content-Type: application/x-www-form-urlencoded";
	struct trig_request *r = REQ("/h", "a=1&b=hello+world&c=%26%3D&d=&a=2", ct);
	PASSES(EQ("form.a", "1"), r);
	PASSES(EQ("form.b", "hello world"), r);
	PASSES(EQ("form.c", "&="), r);
	PASSES(EXISTS("form.d"), r);
	PASSES(NOT_EXISTS("form.z"), r);
	PASSES(GT("form.a", "0"), r);
	PASSES(MATCHES("form.b", "o w"), r);
	PASSES(CONTAINS("form.b", "llo"), r);
	MISSES(EQ("form.z", "1"), r, "form.z is absent");
	/* A malformed form is a bad request, whatever the operator. */
	struct trig_request *bad = REQ("/h", "a=%zz&b=1", ct);
	EXPECT(EQ("form.b", "1"), bad, BAD_REQUEST, "the form body is malformed");
	EXPECT(NOT_EXISTS("form.z"), bad, BAD_REQUEST, "the form body is malformed");
	/* A form field reads the body as a form whatever the content type. */
	struct trig_request *plain = REQ("/h", "x=1", NULL);
	PASSES(EQ("form.x", "1"), plain);
}
END_TEST

START_TEST(remote_ip_field)
{
	struct trig_request *r = from(REQ("/h", "{}", NULL), "192.0.2.7");
	PASSES(EQ("remote.ip", "192.0.2.7"), r);
	PASSES(MATCHES("remote.ip", "^192\\.0\\.2\\."), r);
	PASSES(GLOB("remote.ip", "192.0.2.*"), r);
	PASSES(IN("remote.ip", "192.0.2.7", "192.0.2.8"), r);
	struct trig_request *r6 = from(REQ("/h", "{}", NULL), "2001:db8::1");
	PASSES(EQ("remote.ip", "2001:db8::1"), r6);
	/* A v4-mapped peer reads as IPv4. */
	struct trig_request *m = from(REQ("/h", "{}", NULL), "::ffff:192.0.2.9");
	PASSES(EQ("remote.ip", "192.0.2.9"), m);
	struct trig_request *unknown = REQ("/h", "{}", NULL);
	MISSES(EXISTS("remote.ip"), unknown, "remote.ip is absent");
	PASSES(NOT_EXISTS("remote.ip"), unknown);
}
END_TEST

/* ------------------------------------------------------------ groups */

START_TEST(groups)
{
	struct trig_request *main_ = json_req("{\"ref\": \"refs/heads/main\", \"n\": 3}");
	struct trig_request *dev = json_req("{\"ref\": \"refs/heads/dev\", \"n\": 3}");
	struct trig_condition is_main = EQ("payload.ref", "refs/heads/main");
	struct trig_condition is_rel = EQ("payload.ref", "refs/heads/release");
	struct trig_condition small = LT("payload.n", "5");

	PASSES(ANY(is_main, is_rel), main_);
	PASSES(ANY(is_rel, is_main), main_);
	MISSES(ANY(is_main, is_rel), dev, "any: none of 2 matched");
	PASSES(ALL(is_main, small), main_);
	MISSES(ALL(small, is_main), dev,
	       "all: payload.ref does not satisfy equals (it is \"refs/heads/dev\")");
	/* not: passes if none of its conditions does (docs/language.md). */
	PASSES(NOT(is_rel), main_);
	MISSES(NOT(is_main), main_, "not: 'payload.ref equals refs/heads/main' matched");
	PASSES(NOT(is_main, is_rel), dev);
	MISSES(NOT(is_rel, is_main), main_, "not: 'payload.ref equals refs/heads/main' matched");
	MISSES(NOT(is_main, small), dev, "not: 'payload.n less-than 5' matched");
	MISSES(NOT(small, is_rel), dev, NULL);
	/* Nested. */
	PASSES(ANY(ALL(is_rel, small), ALL(is_main, small)), main_);
	MISSES(ANY(ALL(is_rel, small), ALL(is_main, small)), dev, "any: none of 2 matched");
	PASSES(NOT(ANY(is_main, is_rel)), dev);
	MISSES(NOT(ANY(is_main, is_rel)), main_, "not: 'any' matched");
	PASSES(ALL(NOT(is_rel), ANY(is_main, NOT(small))), main_);
	PASSES(NOT(NOT(is_main)), main_);
	MISSES(NOT(NOT(is_main)), dev, NULL);
	/* A member that needs an invalid payload: a bad request. */
	struct trig_request *bad = json_req("{\"ref\": ");
	EXPECT(ANY(EQ("header.X", "y"), is_main), bad, BAD_REQUEST, NULL);
	EXPECT(NOT(is_main), bad, BAD_REQUEST, NULL);
}
END_TEST

/* The example of docs/language.md, "any, all, not", on several payloads. */
START_TEST(groups_docs_example)
{
	const struct trig_condition c[] = {
		ANY(EQ("payload.action", "opened"),
		    ALL(EQ("payload.action", "labeled"), EQ("payload.label.name", "train"))),
		NOT(EQ("payload.sender.type", "Bot")),
	};
	static const struct { const char *body; enum trig_verdict v; } cases[] = {
		{ "{\"action\": \"opened\", \"sender\": {\"type\": \"User\"}}", PASS },
		{ "{\"action\": \"opened\", \"sender\": {\"type\": \"Bot\"}}", NOT_MATCHED },
		{ "{\"action\": \"labeled\", \"label\": {\"name\": \"train\"}}", PASS },
		{ "{\"action\": \"labeled\", \"label\": {\"name\": \"bug\"}}", NOT_MATCHED },
		{ "{\"action\": \"closed\"}", NOT_MATCHED },
		{ "{\"action\": \"labeled\", \"label\": {\"name\": \"train\"}, \"sender\": {\"type\": \"Bot\"}}",
		  NOT_MATCHED },
		{ "[]", NOT_MATCHED },
		{ "{\"action\": \"opened\",}", BAD_REQUEST },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum trig_verdict v = judge_alone(c, 2, json_req(cases[i].body));
		ck_assert_msg(v == cases[i].v, "%s: %s (%s)", cases[i].body, verdict_names[v], ev.reason);
	}
}
END_TEST

/* ------------------------------------------------------------ token */

START_TEST(token_header_env)
{
	setenv("TRIG_TEST_TOKEN", "s3cret-token", 1);
	struct trig_condition c = token_header("X-Token", env_secret("TRIG_TEST_TOKEN"));
	PASSES(c, REQ("/h", "{}", "X-Token: s3cret-token"));
	PASSES(c, REQ("/h", "{}", "x-token: s3cret-token"));
	EXPECT(c, REQ("/h", "{}", "X-Token: s3cret-tokem"), REJECTED, "the token does not match");
	EXPECT(c, REQ("/h", "{}", "X-Token: s3cret-token!"), REJECTED, "the token does not match");
	EXPECT(c, REQ("/h", "{}", "X-Token: s3cret-toke"), REJECTED, "the token does not match");
	EXPECT(c, REQ("/h", "{}", "X-Token: S3CRET-TOKEN"), REJECTED, "the token does not match");
	EXPECT(c, REQ("/h", "{}", "X-Token:"), REJECTED, "the token does not match");
	EXPECT(c, REQ("/h", "{}", "X-Other: s3cret-token"), REJECTED, "no 'X-Token' header");
	EXPECT(c, REQ("/h?X-Token=s3cret-token", "{}", NULL), REJECTED, "no 'X-Token' header");
	/* The first of two headers counts. */
	EXPECT(c, REQ("/h", "{}", "X-Token: wrong", "X-Token: s3cret-token"), REJECTED,
	       "the token does not match");
	/* A NUL after the token is not ignored. */
	struct trig_request *nul = REQ("/h", "{}", NULL);
	trig_request_add_header(nul, "X-Token", 7, "s3cret-token\0", 13);
	EXPECT(c, nul, REJECTED, "the token does not match");
}
END_TEST

START_TEST(token_query_and_bearer)
{
	setenv("TRIG_TEST_TOKEN", "a b+c", 1);
	struct trig_condition q = token_query("token", env_secret("TRIG_TEST_TOKEN"));
	PASSES(q, REQ("/h?x=1&token=a+b%2Bc", "{}", NULL));
	PASSES(q, REQ("/h?token=a%20b%2bc&token=zzz", "{}", NULL));
	EXPECT(q, REQ("/h?token=a+b+c", "{}", NULL), REJECTED, "the token does not match");
	EXPECT(q, REQ("/h?token=", "{}", NULL), REJECTED, "the token does not match");
	EXPECT(q, REQ("/h?Token=a+b%2Bc", "{}", NULL), REJECTED, "no 'token' query parameter");
	EXPECT(q, REQ("/h", "{}", "token: a b+c"), REJECTED, "no 'token' query parameter");

	setenv("TRIG_TEST_BEARER", "tok-123", 1);
	struct trig_condition b = token_bearer(env_secret("TRIG_TEST_BEARER"));
	PASSES(b, REQ("/h", "{}", "Authorization: Bearer tok-123"));
	PASSES(b, REQ("/h", "{}", "authorization: bearer tok-123"));
	PASSES(b, REQ("/h", "{}", "AUTHORIZATION: BEARER tok-123"));
	PASSES(b, REQ("/h", "{}", "Authorization: BeArEr tok-123"));
	EXPECT(b, REQ("/h", "{}", "Authorization: Bearer tok-1234"), REJECTED, "the token does not match");
	EXPECT(b, REQ("/h", "{}", "Authorization: Bearer tok-12"), REJECTED, "the token does not match");
	EXPECT(b, REQ("/h", "{}", "Authorization: Bearer  tok-123"), REJECTED, "the token does not match");
	EXPECT(b, REQ("/h", "{}", "Authorization: Bearer "), REJECTED, "the token does not match");
	EXPECT(b, REQ("/h", "{}", "Authorization: Bearer"), REJECTED, "no 'Authorization: Bearer' header");
	EXPECT(b, REQ("/h", "{}", "Authorization: Basic tok-123"), REJECTED,
	       "no 'Authorization: Bearer' header");
	EXPECT(b, REQ("/h", "{}", "Authorization: Bearertok-123"), REJECTED,
	       "no 'Authorization: Bearer' header");
	EXPECT(b, REQ("/h", "{}", "Authorization: tok-123"), REJECTED, "no 'Authorization: Bearer' header");
	EXPECT(b, REQ("/h", "{}", NULL), REJECTED, "no 'Authorization: Bearer' header");
}
END_TEST

START_TEST(token_file_secret)
{
	const char *lf = file_with("lf", "file-token\n", 11);
	const char *crlf = file_with("crlf", "file-token\r\n", 12);
	const char *two = file_with("two", "file-token\n\n", 12);
	const char *none = file_with("none", "file-token", 10);
	static const char *const ok[] = { "X-T: file-token" };
	for (int i = 0; i < 3; i++) {
		const char *path = i == 0 ? lf : i == 1 ? crlf : none;
		struct trig_condition c = token_header("X-T", (struct trig_secret){ TRIG_SECRET_FILE, path });
		PASSES(c, REQ("/h", "{}", ok[0]));
		EXPECT(c, REQ("/h", "{}", "X-T: file-token\n"), REJECTED, "the token does not match");
	}
	/* Only one newline is dropped. */
	struct trig_condition c = token_header("X-T", (struct trig_secret){ TRIG_SECRET_FILE, two });
	EXPECT(c, REQ("/h", "{}", ok[0]), REJECTED, "the token does not match");
	struct trig_request *r = REQ("/h", "{}", NULL);
	trig_request_add_header(r, "X-T", 3, "file-token\n", 11);
	PASSES(c, r);
}
END_TEST

START_TEST(secret_errors)
{
	setenv("TRIG_TEST_PRESENT", "alpha-secret-123", 1);
	unsetenv("TRIG_TEST_MISSING");
	TRIGGER("first", token_header("X-T", env_secret("TRIG_TEST_PRESENT")));
	TRIGGER("second", token_bearer(env_secret("TRIG_TEST_MISSING")));
	char err[512];
	ck_assert_ptr_null(try_start(err, sizeof(err)));
	ck_assert_msg(strstr(err, "TRIG_TEST_MISSING") && strstr(err, "'second'"), "%s", err);
	ck_assert_msg(!strstr(err, "alpha-secret-123"), "%s", err);
	trig_json_query_free(query);
	query = NULL;

	/* Empty is missing too. */
	setenv("TRIG_TEST_MISSING", "", 1);
	ck_assert_ptr_null(try_start(err, sizeof(err)));
	ck_assert_msg(strstr(err, "TRIG_TEST_MISSING") && strstr(err, "empty"), "%s", err);
	trig_json_query_free(query);
	query = NULL;

	/* A file: named, never its contents. */
	ntriggers = 0;
	const char *secret_file = file_with("s", "beta-secret-456\n", 16);
	TRIGGER("third", token_header("X-T", (struct trig_secret){ TRIG_SECRET_FILE, secret_file }));
	const char *missing = fmt("%s/nope", dir);
	TRIGGER("fourth", token_header("X-T", (struct trig_secret){ TRIG_SECRET_FILE, missing }));
	ck_assert_ptr_null(try_start(err, sizeof(err)));
	ck_assert_msg(strstr(err, missing) && strstr(err, "'fourth'"), "%s", err);
	ck_assert_msg(!strstr(err, "beta-secret-456"), "%s", err);
	trig_json_query_free(query);
	query = NULL;

	ntriggers = 0;
	const char *empty = file_with("empty", "\n", 1);
	TRIGGER("fifth", token_header("X-T", (struct trig_secret){ TRIG_SECRET_FILE, empty }));
	ck_assert_ptr_null(try_start(err, sizeof(err)));
	ck_assert_msg(strstr(err, empty) && strstr(err, "empty"), "%s", err);
	trig_json_query_free(query);
	query = NULL;

	/* A regular expression that does not compile. */
	ntriggers = 0;
	TRIGGER("sixth", MATCHES("payload.x", "a(b"));
	ck_assert_ptr_null(try_start(err, sizeof(err)));
	ck_assert_msg(strstr(err, "'sixth'") && strstr(err, "a(b"), "%s", err);
}
END_TEST

START_TEST(secret_reload)
{
	const char *path = file_with("tok", "old-token\n", 10);
	setenv("TRIG_TEST_ROT", "env-old", 1);
	const struct trig_trigger *f = TRIGGER("f", token_header("X-T", (struct trig_secret){
							   TRIG_SECRET_FILE, path }));
	const struct trig_trigger *e = TRIGGER("e", token_header("X-T", env_secret("TRIG_TEST_ROT")));
	start();
	struct trig_request *old_f = REQ("/h", "{}", "X-T: old-token");
	struct trig_request *new_f = REQ("/h", "{}", "X-T: new-token");
	struct trig_request *old_e = REQ("/h", "{}", "X-T: env-old");
	struct trig_request *new_e = REQ("/h", "{}", "X-T: env-new");
	ck_assert_int_eq(judge(f, old_f, NOW, true), PASS);
	ck_assert_int_eq(judge(f, new_f, NOW, true), REJECTED);
	ck_assert_int_eq(judge(e, old_e, NOW, true), PASS);

	/* Rotated: the new secrets are in use, the old ones not. */
	file_with("tok", "new-token\n", 10);
	setenv("TRIG_TEST_ROT", "env-new", 1);
	char err[512] = "";
	ck_assert_msg(trig_guard_reload(guard, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(judge(f, old_f, NOW, true), REJECTED);
	ck_assert_int_eq(judge(f, new_f, NOW, true), PASS);
	ck_assert_int_eq(judge(e, old_e, NOW, true), REJECTED);
	ck_assert_int_eq(judge(e, new_e, NOW, true), PASS);

	/* One secret cannot be read: nothing changes, not even the ones that could. */
	file_with("tok", "newer-token\n", 12);
	unsetenv("TRIG_TEST_ROT");
	ck_assert_int_eq(trig_guard_reload(guard, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "TRIG_TEST_ROT") && !strstr(err, "newer-token"), "%s", err);
	ck_assert_int_eq(judge(f, new_f, NOW, true), PASS);
	ck_assert_int_eq(judge(f, REQ("/h", "{}", "X-T: newer-token"), NOW, true), REJECTED);
	ck_assert_int_eq(judge(e, new_e, NOW, true), PASS);

	ck_assert_int_eq(unlink(path), 0);
	setenv("TRIG_TEST_ROT", "env-newest", 1);
	ck_assert_int_eq(trig_guard_reload(guard, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, path) != NULL, "%s", err);
	ck_assert_int_eq(judge(f, new_f, NOW, true), PASS);
	ck_assert_int_eq(judge(e, new_e, NOW, true), PASS);
}
END_TEST

/* Requests judged on several threads while the secrets are read again and
 * again (to the same values): every request sees a whole set of secrets. */
struct hammer {
	const struct trig_trigger *t;
	int bad;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct trig_request r;
	trig_request_init(&r);
	trig_request_add_header(&r, "X-T", 3, "same-token", 10);
	trig_request_set_body(&r, "{\"a\": 1}", 8);
	for (int i = 0; i < 3000; i++) {
		struct trig_eval e;
		if (trig_guard_eval(guard, h->t, &r, NOW + i, true, &e, NULL, NULL) != PASS)
			h->bad++;
		trig_eval_release(&e);
	}
	trig_request_release(&r);
	return NULL;
}

START_TEST(reload_while_judging)
{
	const char *path = file_with("tok", "same-token\n", 11);
	const struct trig_trigger *t = TRIGGER("t",
		token_header("X-T", (struct trig_secret){ TRIG_SECRET_FILE, path }),
		EQ("payload.a", "1"));
	start();
	pthread_t th[4];
	struct hammer h[4];
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){ t, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
	}
	char err[256];
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(trig_guard_reload(guard, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(h[i].bad, 0);
	}
}
END_TEST

/* ------------------------------------------------------------ ip-allow */

START_TEST(ip_allow_lists)
{
	struct trig_condition c = ip_allow(LIST("10.0.0.0/8", "192.0.2.7", "172.16.0.0/12",
						"2001:db8::/32", "fe80::1"));
	static const char *const in[] = {
		"10.0.0.0", "10.255.255.255", "10.1.2.3", "192.0.2.7", "172.16.0.0", "172.31.255.255",
		"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:1::5", "fe80::1",
		"::ffff:10.9.9.9", "::ffff:172.20.0.1",
	};
	static const char *const out[] = {
		"11.0.0.0", "9.255.255.255", "192.0.2.6", "192.0.2.8", "172.15.255.255", "172.32.0.0",
		"2001:db9::", "2001:db7:ffff::1", "fe80::2", "::a00:1", "::ffff:11.0.0.1", "0.0.0.0",
		"255.255.255.255", "::",
	};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		PASSES(c, from(REQ("/h", "{}", NULL), in[i]));
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		struct trig_request *r = from(REQ("/h", "{}", NULL), out[i]);
		EXPECT(c, r, REJECTED, fmt("%s is not in the allowed ranges", r->remote_text));
	}
	EXPECT(c, REQ("/h", "{}", NULL), REJECTED, "the remote address is not in the allowed ranges");

	/* /0: every IPv4 address for 0.0.0.0/0, every address for ::/0. */
	struct trig_condition v4all = ip_allow(LIST("0.0.0.0/0"));
	struct trig_condition all = ip_allow(LIST("::/0"));
	PASSES(v4all, from(REQ("/h", "{}", NULL), "203.0.113.9"));
	PASSES(v4all, from(REQ("/h", "{}", NULL), "0.0.0.0"));
	PASSES(v4all, from(REQ("/h", "{}", NULL), "::ffff:8.8.8.8"));
	EXPECT(v4all, from(REQ("/h", "{}", NULL), "2001:db8::1"), REJECTED, NULL);
	PASSES(all, from(REQ("/h", "{}", NULL), "2001:db8::1"));
	PASSES(all, from(REQ("/h", "{}", NULL), "203.0.113.9"));
	EXPECT(all, REQ("/h", "{}", NULL), REJECTED, "the remote address is not in the allowed ranges");
	/* A /32 inside IPv6 and an odd prefix. */
	struct trig_condition odd = ip_allow(LIST("2001:db8:8000::/33", "198.51.100.128/25"));
	PASSES(odd, from(REQ("/h", "{}", NULL), "2001:db8:8000::1"));
	EXPECT(odd, from(REQ("/h", "{}", NULL), "2001:db8:7fff::1"), REJECTED, NULL);
	PASSES(odd, from(REQ("/h", "{}", NULL), "198.51.100.128"));
	EXPECT(odd, from(REQ("/h", "{}", NULL), "198.51.100.127"), REJECTED, NULL);
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random CIDRs and addresses near them against a bit-by-bit comparison. */
START_TEST(ip_allow_random)
{
	enum { NC = 24 };
	struct trig_cidr cs[NC];
	const struct trig_trigger *ts[NC];
	for (int i = 0; i < NC; i++) {
		for (int k = 0; k < 16; k++)
			cs[i].addr[k] = (uint8_t)next_rand();
		cs[i].prefix = (uint8_t)(next_rand() % 129);
		if (i % 3 == 0) {       /* an IPv4 block */
			memset(cs[i].addr, 0, 10);
			cs[i].addr[10] = cs[i].addr[11] = 0xff;
			cs[i].prefix = (uint8_t)(96 + next_rand() % 33);
		}
		struct trig_cidr *one = zalloc(sizeof(*one));
		*one = cs[i];
		struct trig_condition c = { .kind = TRIG_COND_IP_ALLOW, .source = "ip-allow" };
		c.u.ip_allow.cidrs = one;
		c.u.ip_allow.ncidrs = 1;
		ts[i] = add_trigger(fmt("c%d", i), &c, 1);
	}
	start();
	int inside = 0;
	for (int n = 0; n < 3000; n++) {
		int i = (int)(next_rand() % NC);
		uint8_t a[16];
		memcpy(a, cs[i].addr, 16);
		/* Flip one bit somewhere, usually near the prefix's end. */
		int bit = n % 4 == 0 ? (int)(next_rand() % 128) :
			  (cs[i].prefix + (int)(next_rand() % 5) - 3 + 128) % 128;
		if (n % 5)
			a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		bool want = true;
		for (int b = 0; b < cs[i].prefix; b++)
			if (((a[b / 8] >> (7 - b % 8)) & 1) != ((cs[i].addr[b / 8] >> (7 - b % 8)) & 1))
				want = false;
		char text[INET6_ADDRSTRLEN];
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, a, text, sizeof(text)));
		struct trig_request r;
		trig_request_init(&r);
		ck_assert_int_eq(trig_request_set_remote_text(&r, text), 0);
		enum trig_verdict v = judge(ts[i], &r, NOW, true);
		trig_request_release(&r);
		ck_assert_msg((v == PASS) == want, "%s in /%d block %d: %s", text, cs[i].prefix, i,
			      verdict_names[v]);
		inside += want;
	}
	ck_assert_int_gt(inside, 500);
	ck_assert_int_lt(inside, 2900);
}
END_TEST

/* ------------------------------------------------------------ timestamp */

START_TEST(timestamp_header)
{
	/* The oracle for the clock: libc. */
	struct tm tm = { .tm_year = 2023 - 1900, .tm_mon = 10, .tm_mday = 14, .tm_hour = 22,
			 .tm_min = 13, .tm_sec = 20 };
	ck_assert_int_eq((long long)timegm(&tm) * 1000, NOW);

	struct trig_condition u = timestamp("X-Ts", TRIG_TIME_UNIX, 300000);
	PASSES(u, REQ("/h", "{}", "X-Ts: 1700000000"));
	PASSES(u, REQ("/h", "{}", "x-ts: 1699999700"));         /* 300 s old: the edge */
	EXPECT(u, REQ("/h", "{}", "X-Ts: 1699999699"), REJECTED,
	       "the request is 301s old (tolerance 300s)");
	PASSES(u, REQ("/h", "{}", "X-Ts: 1700000300"));
	EXPECT(u, REQ("/h", "{}", "X-Ts: 1700000301"), REJECTED,
	       "the request is 301s in the future (tolerance 300s)");
	PASSES(u, REQ("/h", "{}", "X-Ts: 0001700000000"));
	EXPECT(u, REQ("/h", "{}", "X-Ts: 0"), REJECTED, NULL);
	EXPECT(u, REQ("/h", "{}", NULL), REJECTED, "no 'X-Ts' header");
	static const char *const bad[] = {
		"", "abc", "17e8", "-5", "+1700000000", "1700000000.5", "1700000000s",
		"0x6553f100", "99999999999999999999", "9223372036854776", " 1700000000",
		"1700000000 ", "\t1700000000", "\v1700000000", "1 700000000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct trig_request *r = REQ("/h", "{}", NULL);
		trig_request_add_header(r, "X-Ts", 4, bad[i], strlen(bad[i]));
		EXPECT(u, r, REJECTED, "'X-Ts' is not a unix time");
	}
	struct trig_request *nul = REQ("/h", "{}", NULL);
	trig_request_add_header(nul, "X-Ts", 4, "1700000000\0", 11);
	EXPECT(u, nul, REJECTED, "'X-Ts' is not a unix time");

	struct trig_condition ms = timestamp("X-Ts", TRIG_TIME_UNIX_MS, 300000);
	PASSES(ms, REQ("/h", "{}", "X-Ts: 1700000000000"));
	PASSES(ms, REQ("/h", "{}", "X-Ts: 1699999700000"));
	EXPECT(ms, REQ("/h", "{}", "X-Ts: 1699999699999"), REJECTED,
	       "the request is 300s old (tolerance 300s)");
	PASSES(ms, REQ("/h", "{}", "X-Ts: 1700000300000"));
	EXPECT(ms, REQ("/h", "{}", "X-Ts: 1700000300001"), REJECTED,
	       "the request is 300s in the future (tolerance 300s)");
	EXPECT(ms, REQ("/h", "{}", "X-Ts: 1700000000"), REJECTED, NULL);       /* seconds: 1970 */
	EXPECT(ms, REQ("/h", "{}", "X-Ts: 9223372036854775807"), REJECTED,
	       NULL);
	EXPECT(ms, REQ("/h", "{}", "X-Ts: 1.7e12"), REJECTED, "'X-Ts' is not a unix-ms time");

	struct trig_condition rfc = timestamp("X-Ts", TRIG_TIME_RFC3339, 300000);
	PASSES(rfc, REQ("/h", "{}", "X-Ts: 2023-11-14T22:13:20Z"));
	PASSES(rfc, REQ("/h", "{}", "X-Ts: 2023-11-15T00:13:20+02:00"));
	PASSES(rfc, REQ("/h", "{}", "X-Ts: 2023-11-14T22:08:20Z"));
	EXPECT(rfc, REQ("/h", "{}", "X-Ts: 2023-11-14T22:08:19Z"), REJECTED,
	       "the request is 301s old (tolerance 300s)");
	PASSES(rfc, REQ("/h", "{}", "X-Ts: 2023-11-14T22:18:20Z"));
	EXPECT(rfc, REQ("/h", "{}", "X-Ts: 2023-11-14T22:18:21Z"), REJECTED,
	       "the request is 301s in the future (tolerance 300s)");
	EXPECT(rfc, REQ("/h", "{}", "X-Ts: yesterday"), REJECTED, "'X-Ts' is not an RFC 3339 time");
	EXPECT(rfc, REQ("/h", "{}", "X-Ts: 2023-13-14T22:13:20Z"), REJECTED,
	       "'X-Ts' is not an RFC 3339 time");
	EXPECT(rfc, REQ("/h", "{}", "X-Ts: 1700000000"), REJECTED, "'X-Ts' is not an RFC 3339 time");
}
END_TEST

/* Stripe's signed t=: the timestamp condition judges the signed time. */
static struct trig_request *stripe_req(const char *key, const char *ts, const char *body)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "%s.%s", ts, body);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg,
				   strlen(msg), mac, &maclen));
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	for (unsigned i = 0; i < maclen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return REQ("/h", body, fmt("Stripe-Signature: t=%s,v1=%s", ts, hex));
}

START_TEST(timestamp_from_signature)
{
	setenv("TRIG_TEST_STRIPE", "whsec_test_secret", 1);
	struct trig_condition h = { .kind = TRIG_COND_HMAC, .source = "hmac" };
	h.u.hmac.preset = TRIG_PRESET_STRIPE;
	h.u.hmac.algorithm = TRIG_SHA256;
	h.u.hmac.secret = env_secret("TRIG_TEST_STRIPE");
	const struct trig_trigger *t = TRIGGER("stripe", h, timestamp(NULL, TRIG_TIME_UNIX, 300000));
	const char *key = "whsec_test_secret";
	start();
	ck_assert_int_eq(judge(t, stripe_req(key, "1700000000", "{}"), NOW, true), PASS);
	ck_assert_int_eq(judge(t, stripe_req(key, "1699999700", "{}"), NOW, true), PASS);
	ck_assert_int_eq(judge(t, stripe_req(key, "1699999699", "{}"), NOW, true), REJECTED);
	ck_assert_str_eq(ev.reason, "the request is 301s old (tolerance 300s)");
	ck_assert_ptr_eq(ev.failed, &t->conditions[1]);
	ck_assert_int_eq(judge(t, stripe_req(key, "1700000301", "{}"), NOW, true), REJECTED);
	ck_assert_str_eq(ev.reason, "the request is 301s in the future (tolerance 300s)");
	/* 18 digits of seconds: far in the future, not an overflow. */
	ck_assert_int_eq(judge(t, stripe_req(key, "999999999999999999", "{}"), NOW, true), REJECTED);
	ck_assert_ptr_eq(ev.failed, &t->conditions[1]);
	ck_assert_int_eq(judge(t, stripe_req(key, "0", "{}"), NOW, true), REJECTED);
	ck_assert_ptr_eq(ev.failed, &t->conditions[1]);
	/* A wrong key: the hmac fails first. */
	ck_assert_int_eq(judge(t, stripe_req("whsec_other", "1700000000", "{}"), NOW, true), REJECTED);
	ck_assert_ptr_eq(ev.failed, &t->conditions[0]);
}
END_TEST

/* ------------------------------------------------------------ replay */

START_TEST(replay_window)
{
	const struct trig_trigger *t = TRIGGER("r", replay(tmpl("header.X-Delivery"), HOUR),
					       EQ("payload.ok", "yes"));
	start();
	const char *yes = "{\"ok\": \"yes\"}", *no = "{\"ok\": \"no\"}";
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: A"), NOW, true), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: A"), NOW + 1000, true), REPLAYED);
	ck_assert_str_eq(ev.reason, "id 'A' was seen in the last 3600s");
	ck_assert_ptr_eq(ev.failed, &t->conditions[0]);
	ck_assert_str_eq(trig_verdict_outcome(ev.verdict), "replayed");
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: A"), NOW + HOUR - 1, true), REPLAYED);
	/* Other ids are independent; ids are compared exactly. */
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: a"), NOW + 2000, true), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: A "), NOW + 2000, true), PASS);
	/* After the window the id passes again, and is remembered anew. */
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: A"), NOW + HOUR, true), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: A"), NOW + HOUR + 1, true), REPLAYED);

	/* Not remembered when a filter failed: the redelivery is no replay. */
	ck_assert_int_eq(judge(t, REQ("/h", no, "X-Delivery: B"), NOW, true), NOT_MATCHED);
	ck_assert_int_eq(judge(t, REQ("/h", no, "X-Delivery: B"), NOW, true), NOT_MATCHED);
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: B"), NOW, true), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: B"), NOW, true), REPLAYED);
	/* Nor when the payload was invalid. */
	ck_assert_int_eq(judge(t, REQ("/h", "{\"ok\": ", "X-Delivery: C"), NOW, true), BAD_REQUEST);
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: C"), NOW, true), PASS);

	/* Nor without commit (`check`). */
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: D"), NOW, false), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: D"), NOW, false), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: D"), NOW, true), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery: D"), NOW, false), REPLAYED);

	/* An empty id is a malformed request (400), never remembered. */
	ck_assert_int_eq(judge(t, REQ("/h", yes, NULL), NOW, true), TRIG_VERDICT_BAD_REQUEST);
	ck_assert_str_eq(ev.reason, "the replay id is empty");
	ck_assert_int_eq(judge(t, REQ("/h", yes, "X-Delivery:"), NOW, true), TRIG_VERDICT_BAD_REQUEST);
	ck_assert_str_eq(ev.reason, "the replay id is empty");
	/* Checked after the filters: a request that does not match says so. */
	ck_assert_int_eq(judge(t, REQ("/h", no, NULL), NOW, true), NOT_MATCHED);
}
END_TEST

START_TEST(replay_after_authentication)
{
	setenv("TRIG_TEST_TOKEN", "tok", 1);
	const struct trig_trigger *t = TRIGGER("r", token_header("X-T", env_secret("TRIG_TEST_TOKEN")),
					       replay(tmpl("header.X-Delivery"), HOUR));
	start();
	ck_assert_int_eq(judge(t, REQ("/h", "{}", "X-T: bad", "X-Delivery: A"), NOW, true), REJECTED);
	ck_assert_int_eq(judge(t, REQ("/h", "{}", "X-T: tok", "X-Delivery: A"), NOW, true), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", "{}", "X-T: bad", "X-Delivery: A"), NOW, true), REJECTED);
	ck_assert_int_eq(judge(t, REQ("/h", "{}", "X-T: tok", "X-Delivery: A"), NOW, true), REPLAYED);
}
END_TEST

/* An id or key read from the payload, which no filter parsed. */
START_TEST(replay_id_from_payload)
{
	const struct trig_trigger *t = TRIGGER("r", replay(tmpl("payload.delivery"), HOUR));
	const struct trig_trigger *k = TRIGGER("k", rate(1, HOUR, tmpl("payload.user.id")));
	start();
	ck_assert_int_eq(judge(t, json_req("{\"delivery\": \"d1\"}"), NOW, true), PASS);
	ck_assert_int_eq(judge(t, json_req("{\"delivery\": \"d1\"}"), NOW, true), REPLAYED);
	ck_assert_str_eq(ev.reason, "id 'd1' was seen in the last 3600s");
	ck_assert_int_eq(judge(t, json_req("{\"delivery\": \"d2\"}"), NOW, true), PASS);
	ck_assert_int_eq(judge(t, json_req("{\"delivery\": \"d3\""), NOW, true), BAD_REQUEST);
	ck_assert_msg(strncmp(ev.reason, "the payload is not valid JSON", 29) == 0, "%s", ev.reason);
	ck_assert_int_eq(judge(t, json_req("{\"delivery\": \"d3\"}"), NOW, true), PASS);

	ck_assert_int_eq(judge(k, json_req("{\"user\": {\"id\": 7}}"), NOW, true), PASS);
	ck_assert_int_eq(judge(k, json_req("{\"user\": {\"id\": 8}}"), NOW, true), PASS);
	ck_assert_int_eq(judge(k, json_req("{\"user\": {\"id\": 7}}"), NOW, true), RATE_LIMITED);
	ck_assert_str_eq(ev.reason, "1 launch per 3600s for '7' used up");
	ck_assert_int_eq(judge(k, json_req("{\"user\": "), NOW, true), BAD_REQUEST);
	/* The bad request spent nothing. */
	ck_assert_int_eq(judge(k, json_req("{\"user\": {\"id\": 9}}"), NOW, true), PASS);
}
END_TEST

/* A payload the actions need and is invalid: refused before anything is
 * remembered, so a corrected redelivery launches. */
START_TEST(memory_untouched_by_bad_payload)
{
	struct trig_binding *b = zalloc(sizeof(*b));
	b->name = "who";
	b->value = tmpl("payload.who");
	struct trig_action *a = zalloc(sizeof(*a));
	a->kind = TRIG_ACTION_RUN_EXECUTION;
	a->parameters = b;
	a->nparameters = 1;
	struct trig_trigger *t = (struct trig_trigger *)TRIGGER("m", replay(tmpl("header.X-D"), HOUR),
							       rate(1, HOUR, no_template));
	t->actions = a;
	t->nactions = 1;
	start();
	ck_assert_int_eq(judge(t, json_req("{\"who\": "), NOW, true), BAD_REQUEST);
	ck_assert_int_eq(judge(t, REQ("/h", "{\"who\": ", "X-D: 1"), NOW, true), BAD_REQUEST);
	ck_assert_ptr_null(ev.failed);
	ck_assert_str_eq(trig_verdict_outcome(ev.verdict), "error");
	ck_assert_int_eq(judge(t, REQ("/h", "{\"who\": \"Ada\"}", "X-D: 1"), NOW, true), PASS);
	ck_assert_int_eq(trig_eval_payload(guard, t, &reqs[nreqs - 1], &ev), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", "{\"who\": \"Ada\"}", "X-D: 1"), NOW, true), REPLAYED);
	ck_assert_int_eq(judge(t, REQ("/h", "{\"who\": \"Ada\"}", "X-D: 2"), NOW, true), RATE_LIMITED);
}
END_TEST

/* ------------------------------------------------------------ rate-limit */

START_TEST(rate_limit_basic)
{
	const struct trig_trigger *t = TRIGGER("r", rate(2, HOUR, no_template));
	start();
	struct trig_request *r = REQ("/h", "{}", NULL);
	ck_assert_int_eq(judge(t, r, NOW, true), PASS);
	ck_assert_int_eq(judge(t, r, NOW, true), PASS);
	ck_assert_int_eq(judge(t, r, NOW, true), RATE_LIMITED);
	ck_assert_int_eq(ev.retry_after_s, 1800);
	ck_assert_str_eq(ev.reason, "2 launches per 3600s used up");
	ck_assert_ptr_eq(ev.failed, &t->conditions[0]);
	ck_assert_str_eq(trig_verdict_outcome(ev.verdict), "rate-limited");
	/* Refused requests spend nothing. */
	ck_assert_int_eq(judge(t, r, NOW + 1000, true), RATE_LIMITED);
	ck_assert_int_eq(ev.retry_after_s, 1799);
	ck_assert_int_eq(judge(t, r, NOW + 1799500, true), RATE_LIMITED);
	ck_assert_int_eq(ev.retry_after_s, 1);
	/* One refilled after half the period, and only one. */
	ck_assert_int_eq(judge(t, r, NOW + 1800000, true), PASS);
	ck_assert_int_eq(judge(t, r, NOW + 1800000, true), RATE_LIMITED);
	ck_assert_int_eq(ev.retry_after_s, 1800);
	/* Without commit nothing is spent. */
	ck_assert_int_eq(judge(t, r, NOW + 3600000, false), PASS);
	ck_assert_int_eq(judge(t, r, NOW + 3600000, false), PASS);
	ck_assert_int_eq(judge(t, r, NOW + 3600000, true), PASS);
	ck_assert_int_eq(judge(t, r, NOW + 3600000, false), RATE_LIMITED);
	/* A full budget after a whole period of quiet. */
	ck_assert_int_eq(judge(t, r, NOW + 3 * HOUR, true), PASS);
	ck_assert_int_eq(judge(t, r, NOW + 3 * HOUR, true), PASS);
	ck_assert_int_eq(judge(t, r, NOW + 3 * HOUR, true), RATE_LIMITED);
}
END_TEST

/* A launch that could not be accepted after all (the journal failed)
 * gives its replay id and its share of the budget back. */
START_TEST(undo_after_failed_launch)
{
	const struct trig_trigger *t = TRIGGER("u", replay(tmpl("header.X-Id"), HOUR),
					       rate(2, HOUR, no_template));
	start();
	ck_assert_int_eq(judge(t, REQ("/h", "{}", "X-Id: a"), NOW, true), PASS);
	ck_assert_uint_eq(ev.nundo, 2);
	trig_guard_undo(guard, t, &ev);
	ck_assert_uint_eq(ev.nundo, 0);
	/* The id is forgotten, the budget whole: two more launches pass. */
	ck_assert_int_eq(judge(t, REQ("/h", "{}", "X-Id: a"), NOW, true), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", "{}", "X-Id: b"), NOW, true), PASS);
	ck_assert_int_eq(judge(t, REQ("/h", "{}", "X-Id: c"), NOW, true), RATE_LIMITED);
	ck_assert_int_eq(judge(t, REQ("/h", "{}", "X-Id: a"), NOW, true), REPLAYED);
	/* Without a commit there is nothing to give back. */
	ck_assert_int_eq(judge(t, REQ("/h", "{}", "X-Id: d"), NOW + 2 * HOUR, false), PASS);
	ck_assert_uint_eq(ev.nundo, 0);
}
END_TEST

START_TEST(rate_limit_keys_and_filters)
{
	setenv("TRIG_TEST_TOKEN", "tok", 1);
	const struct trig_trigger *k = TRIGGER("k", rate(1, 60000, tmpl("query.user")));
	const struct trig_trigger *f = TRIGGER("f", token_header("X-T", env_secret("TRIG_TEST_TOKEN")),
					       EQ("query.go", "yes"), rate(1, HOUR, no_template));
	start();
	ck_assert_int_eq(judge(k, REQ("/h?user=a", "{}", NULL), NOW, true), PASS);
	ck_assert_int_eq(judge(k, REQ("/h?user=a", "{}", NULL), NOW, true), RATE_LIMITED);
	ck_assert_str_eq(ev.reason, "1 launch per 60s for 'a' used up");
	ck_assert_int_eq(ev.retry_after_s, 60);
	ck_assert_int_eq(judge(k, REQ("/h?user=b", "{}", NULL), NOW, true), PASS);
	ck_assert_int_eq(judge(k, REQ("/h?user=b", "{}", NULL), NOW + 59999, true), RATE_LIMITED);
	ck_assert_int_eq(judge(k, REQ("/h?user=b", "{}", NULL), NOW + 60000, true), PASS);
	/* No key: one budget shared by every request without one. */
	ck_assert_int_eq(judge(k, REQ("/h", "{}", NULL), NOW, true), PASS);
	ck_assert_int_eq(judge(k, REQ("/h?user=", "{}", NULL), NOW, true), RATE_LIMITED);
	ck_assert_str_eq(ev.reason, "1 launch per 60s used up");

	/* Not matched, not authenticated: nothing spent. */
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(judge(f, REQ("/h?go=no", "{}", "X-T: tok"), NOW, true), NOT_MATCHED);
		ck_assert_int_eq(judge(f, REQ("/h?go=yes", "{}", "X-T: bad"), NOW, true), REJECTED);
	}
	ck_assert_int_eq(judge(f, REQ("/h?go=yes", "{}", "X-T: tok"), NOW, true), PASS);
	ck_assert_int_eq(judge(f, REQ("/h?go=yes", "{}", "X-T: tok"), NOW, true), RATE_LIMITED);
	/* A request that does not match is told so, even with no budget. */
	ck_assert_int_eq(judge(f, REQ("/h?go=no", "{}", "X-T: tok"), NOW, true), NOT_MATCHED);
}
END_TEST

START_TEST(rate_limit_with_replay)
{
	const struct trig_trigger *two = TRIGGER("two", replay(tmpl("header.X-D"), 2 * HOUR),
						 rate(2, HOUR, no_template));
	const struct trig_trigger *one = TRIGGER("one", replay(tmpl("header.X-D"), 2 * HOUR),
						 rate(1, HOUR, no_template));
	start();
	/* A replay spends no budget. */
	ck_assert_int_eq(judge(two, REQ("/h", "{}", "X-D: 1"), NOW, true), PASS);
	ck_assert_int_eq(judge(two, REQ("/h", "{}", "X-D: 1"), NOW, true), REPLAYED);
	ck_assert_int_eq(judge(two, REQ("/h", "{}", "X-D: 1"), NOW, true), REPLAYED);
	ck_assert_int_eq(judge(two, REQ("/h", "{}", "X-D: 2"), NOW, true), PASS);
	ck_assert_int_eq(judge(two, REQ("/h", "{}", "X-D: 3"), NOW, true), RATE_LIMITED);
	/* A rate-limited request's id is not remembered. */
	ck_assert_int_eq(judge(one, REQ("/h", "{}", "X-D: a"), NOW, true), PASS);
	ck_assert_int_eq(judge(one, REQ("/h", "{}", "X-D: b"), NOW, true), RATE_LIMITED);
	ck_assert_int_eq(judge(one, REQ("/h", "{}", "X-D: b"), NOW + HOUR, true), PASS);
	ck_assert_int_eq(judge(one, REQ("/h", "{}", "X-D: b"), NOW + 2 * HOUR, true), REPLAYED);
}
END_TEST

/* GCRA against a token bucket of MAX tokens refilled continuously at MAX
 * per PER, in exact integers (levels scaled by PER in microseconds). */
START_TEST(rate_limit_reference)
{
	static const int64_t maxes[] = { 1, 2, 3, 4, 5, 6, 8, 9, 10 };
	static const int64_t pers[] = { 1800000, HOUR, 2 * HOUR };
	enum { NM = sizeof(maxes) / sizeof(maxes[0]), NP = sizeof(pers) / sizeof(pers[0]) };
	const struct trig_trigger *ts[NM * NP];
	for (int i = 0; i < NM * NP; i++)
		ts[i] = TRIGGER(fmt("r%d", i), rate(maxes[i % NM], pers[i / NM], no_template));
	start();
	struct trig_request *r = REQ("/h", "{}", NULL);
	int limited = 0, passed = 0;
	for (int i = 0; i < NM * NP; i++) {
		int64_t max = maxes[i % NM], per_us = pers[i / NM] * 1000;
		int64_t level = max * per_us, now = NOW, last = NOW;
		for (int n = 0; n < 400; n++) {
			now += (int64_t)(next_rand() % (uint64_t)(2 * pers[i / NM] / max + 1));
			if (n % 7 == 0)
				now += (1000 - now % 1000) % 1000;      /* whole seconds, too */
			level += (now - last) * 1000 * max;
			if (level > max * per_us)
				level = max * per_us;
			last = now;
			bool allow = level >= per_us;
			enum trig_verdict v = judge(ts[i], r, now, true);
			ck_assert_msg((v == PASS) == allow, "max %lld per %lld ms, request %d: %s",
				      (long long)max, (long long)pers[i / NM], n, verdict_names[v]);
			if (allow) {
				level -= per_us;
				passed++;
			} else {
				int64_t wait_us = (per_us - level + max - 1) / max;
				ck_assert_int_eq(ev.retry_after_s, (wait_us + 999999) / 1000000);
				limited++;
			}
		}
	}
	ck_assert_int_gt(limited, 500);
	ck_assert_int_gt(passed, 500);
}
END_TEST

/* More launches per period than milliseconds, and huge periods. */
START_TEST(rate_limit_extremes)
{
	const struct trig_trigger *fast = TRIGGER("fast", rate(2000, 1000, no_template));
	const struct trig_trigger *slow = TRIGGER("slow", rate(1, INT64_MAX, no_template));
	const struct trig_trigger *many = TRIGGER("many", rate(INT64_MAX, 1000, no_template));
	const struct trig_trigger *forever = TRIGGER("forever", replay(tmpl("header.X-D"), INT64_MAX));
	start();
	struct trig_request *r = REQ("/h", "{}", "X-D: x");
	for (int i = 0; i < 2000; i++)
		ck_assert_int_eq(judge(fast, r, NOW, true), PASS);
	ck_assert_int_eq(judge(fast, r, NOW, true), RATE_LIMITED);
	ck_assert_int_eq(ev.retry_after_s, 1);
	ck_assert_str_eq(ev.reason, "2000 launches per 1s used up");
	/* Half a millisecond per launch: two more after one millisecond. */
	ck_assert_int_eq(judge(fast, r, NOW + 1, true), PASS);
	ck_assert_int_eq(judge(fast, r, NOW + 1, true), PASS);
	ck_assert_int_eq(judge(fast, r, NOW + 1, true), RATE_LIMITED);

	ck_assert_int_eq(judge(slow, r, NOW, true), PASS);
	ck_assert_int_eq(judge(slow, r, NOW + 1000LL * 86400000, true), RATE_LIMITED);
	ck_assert_int_gt(ev.retry_after_s, 1000LL * 86400);

	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(judge(many, r, NOW, true), PASS);

	ck_assert_int_eq(judge(forever, r, NOW, true), PASS);
	ck_assert_int_eq(judge(forever, r, NOW + 1000LL * 86400000, true), REPLAYED);
}
END_TEST

/* ------------------------------------------------------------ order */

START_TEST(authentication_first)
{
	setenv("TRIG_TEST_TOKEN", "tok", 1);
	/* As trigc lowers it: authentication first, then the filters. */
	const struct trig_trigger *t = TRIGGER("t", token_header("X-T", env_secret("TRIG_TEST_TOKEN")),
					       ip_allow(LIST("192.0.2.0/24")),
					       EQ("header.X-Event", "push"), EQ("payload.ref", "main"));
	start();
	/* Everything wrong: the token is what is reported. */
	ck_assert_int_eq(judge(t, from(REQ("/h", "{\"ref\": \"dev\"}", "X-T: bad", "X-Event: ping"),
				       "198.51.100.1"), NOW, true), REJECTED);
	ck_assert_ptr_eq(ev.failed, &t->conditions[0]);
	ck_assert_str_eq(ev.reason, "the token does not match");
	ck_assert_str_eq(trig_verdict_outcome(ev.verdict), "rejected");
	/* A good token, a bad address, a failing filter: the address. */
	ck_assert_int_eq(judge(t, from(REQ("/h", "{\"ref\": \"dev\"}", "X-T: tok", "X-Event: ping"),
				       "198.51.100.1"), NOW, true), REJECTED);
	ck_assert_ptr_eq(ev.failed, &t->conditions[1]);
	/* Invalid JSON and a bad token: rejected, and the body never parsed. */
	ck_assert_int_eq(judge(t, from(REQ("/h", "{\"ref\": ", "X-T: bad", "X-Event: push"),
				       "192.0.2.1"), NOW, true), REJECTED);
	ck_assert_int_eq(ev.payload_state, 0);
	ck_assert_ptr_null(ev.payload);
	/* Authenticated, invalid JSON: a bad request, from the filter that needs it. */
	ck_assert_int_eq(judge(t, from(REQ("/h", "{\"ref\": ", "X-T: tok", "X-Event: push"),
				       "192.0.2.1"), NOW, true), BAD_REQUEST);
	ck_assert_ptr_eq(ev.failed, &t->conditions[3]);
	ck_assert_msg(strncmp(ev.reason, "the payload is not valid JSON: ", 31) == 0, "%s", ev.reason);
	ck_assert_str_eq(trig_verdict_outcome(ev.verdict), "error");
	/* A header filter fails before the payload is parsed. */
	ck_assert_int_eq(judge(t, from(REQ("/h", "{\"ref\": ", "X-T: tok", "X-Event: ping"),
				       "192.0.2.1"), NOW, true), NOT_MATCHED);
	ck_assert_ptr_eq(ev.failed, &t->conditions[2]);
	ck_assert_int_eq(ev.payload_state, 0);
	ck_assert_str_eq(trig_verdict_outcome(ev.verdict), "not-matched");
	ck_assert_int_eq(judge(t, from(REQ("/h", "{\"ref\": \"main\"}", "X-T: tok", "X-Event: push"),
				       "192.0.2.1"), NOW, true), PASS);
	ck_assert_str_eq(trig_verdict_outcome(ev.verdict), "launched");
	ck_assert_int_eq(ev.payload_state, 1);
}
END_TEST

/* The trace sees each condition evaluated, in order, with its verdict. */
struct seen {
	const struct trig_condition *c[8];
	bool passed[8];
	int n;
};

static void on_trace(void *ctx, const struct trig_condition *c, bool passed, const char *reason)
{
	struct seen *s = ctx;
	(void)reason;
	ck_assert_int_lt(s->n, 8);
	s->c[s->n] = c;
	s->passed[s->n++] = passed;
}

START_TEST(trace_order)
{
	setenv("TRIG_TEST_TOKEN", "tok", 1);
	const struct trig_trigger *t = TRIGGER("t", token_header("X-T", env_secret("TRIG_TEST_TOKEN")),
					       replay(tmpl("header.X-D"), HOUR),
					       EQ("query.a", "1"), EQ("query.b", "2"));
	start();
	struct seen s = { .n = 0 };
	ev_reset();
	struct trig_request *r = REQ("/h?a=1&b=3", "{}", "X-T: tok", "X-D: 1");
	ck_assert_int_eq(trig_guard_eval(guard, t, r, NOW, true, &ev, on_trace, &s), NOT_MATCHED);
	ck_assert_int_eq(s.n, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_eq(s.c[i], &t->conditions[i]);
	ck_assert(s.passed[0] && s.passed[1] && s.passed[2] && !s.passed[3]);
}
END_TEST

/* ------------------------------------------------------------ payload */

START_TEST(payload_invalid)
{
	struct trig_condition c = EQ("payload.ref", "main");
	static const char *const bad[] = { "", " ", "{", "{\"ref\": main}", "{\"ref\": \"main\"} x",
					   "\xef\xbb\xbf{}", "ref=main", "{\"ref\": \"main\",}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT(c, json_req(bad[i]), BAD_REQUEST, NULL);
		ck_assert_msg(strncmp(ev.reason, "the payload is not valid JSON: ", 31) == 0, "%s",
			      ev.reason);
	}
	/* No body at all. */
	EXPECT(c, REQ("/h", NULL, NULL), BAD_REQUEST, NULL);
	/* Any JSON value will do: the path is then absent. */
	MISSES(c, json_req("[1, 2]"), "payload.ref is absent");
	MISSES(c, json_req("null"), "payload.ref is absent");
	PASSES(NOT_EXISTS("payload.ref"), json_req("\"x\""));
}
END_TEST

/* A form-encoded string of S (spaces as '+'). */
static const char *form_encode(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_')
			buf_addc(&b, (char)c);
		else if (c == ' ')
			buf_addc(&b, '+');
		else
			buf_printf(&b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return own(buf_detach(&b));
}

START_TEST(payload_github_form)
{
	size_t len;
	const char *push = read_shared("testdata/github/push.0.json", &len);
	const char *body = fmt("payload=%s", form_encode(push, len));
	const char *form_ct = "Content-Type: application/x-www-form-urlencoded";
	struct trig_condition ref = EQ("payload.ref", "refs/tags/simple-tag");
	struct trig_condition id = EQ("payload.head_commit.id", "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
	struct trig_condition pusher = EXISTS("payload.pusher.name");

	/* The same payload as JSON and as GitHub's form. */
	struct trig_request *as_json = REQ("/h", push, "Content-Type: application/json");
	struct trig_request *as_form = REQ("/h", body, form_ct);
	struct trig_request *as_form2 = REQ("/h", fmt("zzz=1&%s&payload=%%7B%%7D", body),
					    "content-type: Application/X-WWW-Form-Urlencoded; charset=utf-8");
	struct trig_request *rs[] = { as_json, as_form, as_form2 };
	for (int i = 0; i < 3; i++) {
		PASSES(ref, rs[i]);
		PASSES(id, rs[i]);
		PASSES(pusher, rs[i]);
		MISSES(EQ("payload.ref", "refs/heads/main"), rs[i], NULL);
	}
	PASSES(EXISTS("form.payload"), as_form);
	PASSES(EQ("form.zzz", "1"), as_form2);
	/* The document the templates see is the field, decoded. */
	ck_assert_int_eq(judge_alone(&ref, 1, as_form), PASS);
	ck_assert_uint_eq(ev.payload_len, len);
	ck_assert_mem_eq(ev.payload, push, len);

	/* Form content type, no payload field: the body itself (curl -d). */
	struct trig_request *curl = REQ("/h", "{\"ref\": \"refs/tags/simple-tag\"}", form_ct);
	PASSES(ref, curl);
	/* A body with a bad %-escape is not a form: still the body itself. */
	PASSES(EQ("payload.p", "100%"), REQ("/h", "{\"p\": \"100%\"}", form_ct));
	/* Not quite the form type: the body. */
	struct trig_request *other = REQ("/h", body, "Content-Type: application/x-www-form-urlencodedx");
	EXPECT(ref, other, BAD_REQUEST, NULL);
	/* A payload field that is not JSON. */
	EXPECT(ref, REQ("/h", "payload=%7Bref", form_ct), BAD_REQUEST, NULL);
	EXPECT(ref, REQ("/h", "payload=", form_ct), BAD_REQUEST, NULL);
}
END_TEST

/* Only the templates read the payload: trig_eval_payload parses it. */
START_TEST(payload_for_templates)
{
	struct trig_binding *b = zalloc(2 * sizeof(*b));
	b[0].name = "who";
	b[0].value = tmpl2("user ", "payload.who");
	b[1].name = "ref";
	b[1].value = tmpl("form.ref");
	struct trig_action *a = zalloc(2 * sizeof(*a));
	a[0].kind = TRIG_ACTION_RUN_EXECUTION;
	a[0].parameters = &b[0];
	a[0].nparameters = 1;
	a[1].kind = TRIG_ACTION_RESPOND;
	a[1].headers = &b[1];
	a[1].nheaders = 1;
	struct trig_trigger *t = (struct trig_trigger *)TRIGGER("t", EQ("header.X-A", "1"));
	t->actions = &a[0];
	t->nactions = 1;
	struct trig_trigger *f = (struct trig_trigger *)TRIGGER("f", EQ("header.X-A", "1"));
	f->actions = &a[1];
	f->nactions = 1;
	const struct trig_trigger *none = TRIGGER("none", EQ("header.X-A", "1"));
	struct trig_trigger *both = (struct trig_trigger *)TRIGGER("both", EQ("payload.who", "Bo"));
	both->actions = &a[0];
	both->nactions = 1;
	start();

	struct trig_request *r = REQ("/h", "{\"who\": \"Ada\"}", "X-A: 1");
	ck_assert_int_eq(judge(t, r, NOW, true), PASS);
	ck_assert_int_eq(ev.payload_state, 0);
	ck_assert_int_eq(trig_eval_payload(guard, t, r, &ev), PASS);
	ck_assert_int_eq(ev.payload_state, 1);
	struct trig_render_ctx rc;
	trig_eval_render_ctx(&ev, r, &rc);
	struct buf out = BUF_INIT;
	trig_render(&b[0].value, &rc, TRIG_ESC_NONE, &out);
	ck_assert_str_eq(buf_cstr(&out), "user Ada");
	buf_release(&out);

	struct trig_request *bad = REQ("/h", "{\"who\": ", "X-A: 1");
	ck_assert_int_eq(judge(t, bad, NOW, true), PASS);
	ck_assert_int_eq(trig_eval_payload(guard, t, bad, &ev), BAD_REQUEST);
	ck_assert_ptr_null(ev.failed);
	ck_assert_msg(strncmp(ev.reason, "the payload is not valid JSON: ", 31) == 0, "%s", ev.reason);
	/* A trigger whose templates do not read the payload does not care. */
	ck_assert_int_eq(judge(none, bad, NOW, true), PASS);
	ck_assert_int_eq(trig_eval_payload(guard, none, bad, &ev), PASS);
	ck_assert_int_eq(ev.payload_state, 0);
	/* Templates that read the form need a well-formed one. */
	struct trig_request *fr = REQ("/h", "ref=main&x=%zz", "X-A: 1");
	ck_assert_int_eq(judge(f, fr, NOW, true), PASS);
	ck_assert_int_eq(trig_eval_payload(guard, f, fr, &ev), BAD_REQUEST);
	ck_assert_str_eq(ev.reason, "the form body is malformed");
	struct trig_request *fr2 = REQ("/h", "ref=main", "X-A: 1");
	ck_assert_int_eq(judge(f, fr2, NOW, true), PASS);
	ck_assert_int_eq(trig_eval_payload(guard, f, fr2, &ev), PASS);
	/* Parsed already by a condition: not again. */
	struct trig_request *r2 = REQ("/h", "{\"who\": \"Bo\"}", "X-A: 1");
	ck_assert_int_eq(judge(both, r2, NOW, true), PASS);
	ck_assert_int_eq(ev.payload_state, 1);
	const struct trig_json_value *parsed = ev.paths;
	ck_assert_int_eq(trig_eval_payload(guard, both, r2, &ev), PASS);
	ck_assert_ptr_eq(ev.paths, parsed);
	ck_assert_int_eq(judge(both, REQ("/h", "{\"who\": \"Al\"}", "X-A: 1"), NOW, true), NOT_MATCHED);
}
END_TEST

START_TEST(verdict_outcomes)
{
	ck_assert_str_eq(trig_verdict_outcome(PASS), "launched");
	ck_assert_str_eq(trig_verdict_outcome(NOT_MATCHED), "not-matched");
	ck_assert_str_eq(trig_verdict_outcome(REJECTED), "rejected");
	/* docs/runtime.md: an invalid payload is an `error` in the audit log. */
	ck_assert_str_eq(trig_verdict_outcome(BAD_REQUEST), "error");
	ck_assert_str_eq(trig_verdict_outcome(REPLAYED), "replayed");
	ck_assert_str_eq(trig_verdict_outcome(RATE_LIMITED), "rate-limited");
}
END_TEST

static Suite *conditions_suite(void)
{
	Suite *s = suite_create("conditions");
	struct {
		const char *name;
		const TTest *tests[16];
	} cases[] = {
		{ "filters", { payload_equals, payload_in, payload_matches_glob, payload_exists,
			       payload_numbers, payload_contains, header_fields, query_fields,
			       form_fields, remote_ip_field } },
		{ "groups", { groups, groups_docs_example } },
		{ "token", { token_header_env, token_query_and_bearer, token_file_secret, secret_errors,
			     secret_reload, reload_while_judging } },
		{ "ip", { ip_allow_lists, ip_allow_random } },
		{ "timestamp", { timestamp_header, timestamp_from_signature } },
		{ "memory", { replay_window, replay_after_authentication, replay_id_from_payload,
			      memory_untouched_by_bad_payload, rate_limit_basic,
			      rate_limit_keys_and_filters, rate_limit_with_replay, rate_limit_reference,
			      rate_limit_extremes, undo_after_failed_launch } },
		{ "order", { authentication_first, trace_order } },
		{ "payload", { payload_invalid, payload_github_form, payload_for_templates,
			       verdict_outcomes } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_checked_fixture(tc, NULL, teardown);
		tcase_set_timeout(tc, 120);
		for (size_t k = 0; k < 16 && cases[i].tests[k]; k++)
			tcase_add_test(tc, cases[i].tests[k]);
		suite_add_tcase(s, tc);
	}
	return s;
}

UNIT_MAIN(conditions_suite)
