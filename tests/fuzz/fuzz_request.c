/*
 * fuzz_request.c — the webhook request handler minus the network: the
 * input is parsed as an HTTP request (trig_request_parse), judged against
 * every trigger of a fixed project (token, hmac with the github and
 * stripe presets, timestamp in each format, ip-allow, replay, rate-limit,
 * filters on payload, form, query, headers and remote.ip, any/all/not
 * groups) with trig_guard_eval, and, when it passes, trig_eval_payload and
 * every action template rendered with its escaping.
 *
 * FUZZ_REQUEST_VERBOSE=1 in the environment prints each verdict.
 *
 * A header "X-Remote: ADDRESS" sets the peer's address.  So that mutated
 * bodies can get past the signatures, an "X-Hub-Signature-256: sha256=fuzz"
 * header is replaced by the body's real GitHub signature, and a
 * "Stripe-Signature: t=TS,v1=fuzz" by the real Stripe one.
 *
 * Each input gets a fresh guard (the replay and rate memories start
 * empty, so a crash reproduces from its input alone) and is judged, per
 * trigger: twice as `check` would (commit unset), then as `serve` would,
 * then again, then after every window has passed.  Rules checked (a broken
 * one aborts): the verdict is in range and stored in the eval; PASS has no
 * failed condition and no reason, any other verdict a reason; a refused
 * authentication never parsed the payload and never quotes a secret; a dry
 * run changes nothing (both dry runs and the first real one agree); a
 * launch with a replay id is a replay when repeated at once; a rate-limited
 * verdict says when to retry.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "conditions.h"
#include "json.h"
#include "render.h"
#include "request.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_request: %s:%d: '%s' failed\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 2023-11-14T22:13:20Z; the seeds' timestamps are 1700000000. */
#define NOW_MS 1700000000000LL

static const char *const secrets[][2] = {
	{ "FUZZ_TOKEN", "fuzz-token-4b1d" },
	{ "FUZZ_BEARER", "fuzz-bearer-77aa" },
	{ "FUZZ_GITHUB_SECRET", "It's a Secret to Everybody" },
	{ "FUZZ_STRIPE_SECRET", "whsec_fuzz_stripe" },
};

/* ------------------------------------------------------------ paths */

static const struct trig_path_seg s_ref[] = { { "ref", -1 } };
static const struct trig_path_seg s_after[] = { { "after", -1 } };
static const struct trig_path_seg s_pusher[] = { { "pusher", -1 }, { "name", -1 } };
static const struct trig_path_seg s_created[] = { { "created", -1 } };
static const struct trig_path_seg s_head[] = { { "head_commit", -1 }, { "id", -1 } };
static const struct trig_path_seg s_items[] = { { "data", -1 }, { "items", -1 } };
static const struct trig_path_seg s_count[] = { { "data", -1 }, { "count", -1 } };
static const struct trig_path_seg s_msg[] = { { "msg", -1 } };
static const struct trig_path_seg s_id[] = { { "id", -1 } };
static const struct trig_path_seg s_email[] = { { "commits", -1 }, { NULL, 0 }, { "author", -1 },
						{ "email", -1 } };
static const struct trig_path_seg s_type[] = { { "type", -1 } };
static const struct trig_path_seg s_repo[] = { { "repository", -1 }, { "full_name", -1 } };
static const struct trig_path_seg s_label[] = { { "labels", -1 }, { NULL, 1 }, { "name", -1 } };
static const struct trig_path_seg s_zen[] = { { "zen", -1 } };

#define PATH(id, s, t) { .root = TRIG_ROOT_PAYLOAD, .text = t, .segs = s, .nsegs = N(s), .path_id = id }

/* The payload fields: path_id is the index in paths[], the query's slot. */
#define P0 PATH(0, s_ref, "payload.ref")
#define P1 PATH(1, s_after, "payload.after")
#define P2 PATH(2, s_pusher, "payload.pusher.name")
#define P3 PATH(3, s_created, "payload.created")
#define P4 PATH(4, s_head, "payload.head_commit.id")
#define P5 PATH(5, s_items, "payload.data.items")
#define P6 PATH(6, s_count, "payload.data.count")
#define P7 PATH(7, s_msg, "payload.msg")
#define P8 PATH(8, s_id, "payload.id")
#define P9 PATH(9, s_email, "payload.commits[0].author.email")
#define P10 PATH(10, s_type, "payload.type")
#define P11 PATH(11, s_repo, "payload.repository.full_name")
#define P12 PATH(12, s_label, "payload.labels[1].name")
#define P13 PATH(13, s_zen, "payload.zen")

static const struct trig_field paths[] = {
	P0,
	P1,
	P2,
	P3,
	P4,
	P5,
	P6,
	P7,
	P8,
	P9,
	P10,
	P11,
	P12,
	P13,
};

#define HEADER(n) { .root = TRIG_ROOT_HEADER, .text = "header." n, .name = n }
#define QUERY(n) { .root = TRIG_ROOT_QUERY, .text = "query." n, .name = n }
#define FORM(n) { .root = TRIG_ROOT_FORM, .text = "form." n, .name = n }
#define REMOTE { .root = TRIG_ROOT_REMOTE_IP, .text = "remote.ip" }

/* ------------------------------------------------------------ templates */

#define TEXT(s) { .kind = TRIG_PIECE_TEXT, .text = s, .len = sizeof(s) - 1 }
#define FIELD(...) { .kind = TRIG_PIECE_FIELD, .field = __VA_ARGS__ }
#define TMPL(src, pieces) { src, pieces, N(pieces) }

static const struct trig_piece t_delivery[] = { FIELD(HEADER("X-GitHub-Delivery")) };
static const struct trig_piece t_after[] = { FIELD(P1) };
static const struct trig_piece t_title[] = { TEXT("push by "), FIELD(P2), TEXT(" to "), FIELD(P11) };
static const struct trig_piece t_ref[] = { FIELD(P0) };
static const struct trig_piece t_email[] = { FIELD(P9) };
static const struct trig_piece t_user[] = { FIELD(FORM("user")) };
static const struct trig_piece t_respond[] = {
	TEXT("{\"user\": \""), FIELD(FORM("user")), TEXT("\", \"launch\": \""),
	FIELD({ .root = TRIG_ROOT_LAUNCH_ID, .text = "launch.id" }), TEXT("\"}"),
};
static const struct trig_piece t_url[] = {
	TEXT("https://example.com/"), FIELD(QUERY("name")), TEXT("?id="), FIELD(P8),
};
static const struct trig_piece t_body[] = {
	TEXT("{\"msg\": \""), FIELD(P7), TEXT("\", \"items\": "), FIELD(P5),
	TEXT(", \"at\": \""), FIELD({ .root = TRIG_ROOT_NOW, .text = "now" }), TEXT("\"}"),
};
static const struct trig_piece t_pid[] = { FIELD(P8) };
static const struct trig_piece t_remote[] = { FIELD(REMOTE) };
static const struct trig_piece t_name[] = {
	FIELD({ .root = TRIG_ROOT_TRIGGER, .text = "trigger.name" }), TEXT("/"), FIELD(P12),
	TEXT("/"), FIELD(HEADER("x-kind")), TEXT("/"), FIELD(REMOTE),
};
static const struct trig_piece t_type[] = { FIELD(P10) };
static const struct trig_piece t_zen[] = { FIELD(P13) };

/* ------------------------------------------------------------ steps, actions */

static const struct trig_param params[] = {
	{ "ref", TRIG_PARAM_STRING, "none", NULL, false },
	{ "who", TRIG_PARAM_STRING, NULL, NULL, true },
};
static const struct trig_step steps[] = {
	{ .name = "train", .command = "python3 train.py {parameters}", .params = params, .nparams = 2 },
};

static const struct trig_binding push_params[] = {
	{ "ref", TMPL("{{ payload.ref }}", t_ref) },
	{ "who", TMPL("{{ payload.commits[0].author.email }}", t_email) },
};
static const struct trig_binding push_env[] = {
	{ "DELIVERY", TMPL("{{ header.X-GitHub-Delivery }}", t_delivery) },
};
static const struct trig_action push_actions[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &steps[0],
	  .commit = TMPL("{{ payload.after }}", t_after),
	  .title = TMPL("push by {{ payload.pusher.name }} to {{ payload.repository.full_name }}", t_title),
	  .parameters = push_params, .nparameters = N(push_params),
	  .environment = push_env, .nenvironment = N(push_env), .payload_input = "event" },
};

static const struct trig_binding form_headers[] = {
	{ "X-User", TMPL("{{ form.user }}", t_user) },
};
static const struct trig_action form_actions[] = {
	{ .kind = TRIG_ACTION_RESPOND, .status = 201, .content_type = "application/json",
	  .body = TMPL("{\"user\": \"{{ form.user }}\", \"launch\": \"{{ launch.id }}\"}", t_respond),
	  .headers = form_headers, .nheaders = N(form_headers) },
};

static const struct trig_binding http_headers[] = {
	{ "X-Id", TMPL("{{ payload.id }}", t_pid) },
};
static const struct trig_action query_actions[] = {
	{ .kind = TRIG_ACTION_HTTP, .method = "POST",
	  .url = TMPL("https://example.com/{{ query.name }}?id={{ payload.id }}", t_url),
	  .body = TMPL("{\"msg\": \"{{ payload.msg }}\", ...}", t_body),
	  .headers = http_headers, .nheaders = N(http_headers), .content_type = "application/json" },
};

static const struct trig_binding open_params[] = {
	{ "who", TMPL("{{ remote.ip }}", t_remote) },
	{ "ref", TMPL("{{ trigger.name }}/...", t_name) },
};
static const struct trig_action open_actions[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &steps[0],
	  .parameters = open_params, .nparameters = N(open_params) },
};

static const struct trig_binding stripe_params[] = {
	{ "ref", TMPL("{{ payload.type }}", t_type) },
};
static const struct trig_action stripe_actions[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &steps[0],
	  .parameters = stripe_params, .nparameters = N(stripe_params) },
};

static const struct trig_binding zen_params[] = {
	{ "who", TMPL("{{ payload.zen }}", t_zen) },
};
static const struct trig_action zen_actions[] = {
	{ .kind = TRIG_ACTION_RUN_EXECUTION, .step = &steps[0],
	  .parameters = zen_params, .nparameters = N(zen_params) },
};

/* ------------------------------------------------------------ conditions */

#define FILTER(f, o, ...) { .kind = TRIG_COND_FILTER, .source = #f " " #o, \
			    .u.filter = { .field = f, .op = o, __VA_ARGS__ } }
#define GROUP(k, kids) { .kind = k, .source = #k, .u.group = { kids, N(kids) } }
#define ENV(name) { TRIG_SECRET_ENV, name }

static const char *const refs[] = { "refs/heads/main", "refs/heads/release", "refs/tags/simple-tag" };
static const char *const form_actions_in[] = { "deploy", "train" };
static const char *const kinds[] = { "Bot", "Build", "bot" };

/* github-push: what GitHub sends, as JSON or as its form. */
static const struct trig_condition push_any[] = {
	FILTER(P3, TRIG_OP_EQUALS, .value = "true"),
	FILTER(P4, TRIG_OP_EXISTS),
};
static const struct trig_condition push_conds[] = {
	{ .kind = TRIG_COND_HMAC, .source = "hmac github",
	  .u.hmac = { .preset = TRIG_PRESET_GITHUB, .algorithm = TRIG_SHA256,
		      .secret = ENV("FUZZ_GITHUB_SECRET") } },
	{ .kind = TRIG_COND_REPLAY, .source = "replay",
	  .u.replay = { TMPL("{{ header.X-GitHub-Delivery }}", t_delivery), 3600000 } },
	FILTER(HEADER("X-GitHub-Event"), TRIG_OP_EQUALS, .value = "push"),
	FILTER(P0, TRIG_OP_IN, .values = refs, .nvalues = N(refs)),
	GROUP(TRIG_COND_ANY, push_any),
	{ .kind = TRIG_COND_RATE_LIMIT, .source = "rate-limit", .u.rate_limit = { .max = 10, .per_ms = 3600000 } },
};

/* token-form: a form, a token in a header, an address list. */
static const struct trig_cidr allowed[] = {
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0 }, 104 },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 0 }, 120 },
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128 },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 128 }, 121 },
};
static const struct trig_condition form_not[] = {
	FILTER(FORM("user"), TRIG_OP_MATCHES, .value = "^bot-|\\[bot\\]$"),
	FILTER(FORM("user"), TRIG_OP_NOT_EXISTS),
};
static const struct trig_condition form_conds[] = {
	{ .kind = TRIG_COND_TOKEN, .source = "token header",
	  .u.token = { .secret = ENV("FUZZ_TOKEN"), .header = "X-Token" } },
	{ .kind = TRIG_COND_IP_ALLOW, .source = "ip-allow", .u.ip_allow = { allowed, N(allowed) } },
	FILTER(FORM("action"), TRIG_OP_IN, .values = form_actions_in, .nvalues = N(form_actions_in)),
	FILTER(FORM("n"), TRIG_OP_GREATER, .number = 0),
	FILTER(FORM("n"), TRIG_OP_LESS, .number = 1e6),
	GROUP(TRIG_COND_NOT, form_not),
	{ .kind = TRIG_COND_RATE_LIMIT, .source = "rate-limit key",
	  .u.rate_limit = { .max = 2, .per_ms = 60000, .key = TMPL("{{ form.user }}", t_user) } },
};

/* bearer-query: a bearer token, a unix timestamp, query and JSON filters. */
static const struct trig_condition query_all[] = {
	FILTER(QUERY("v"), TRIG_OP_LESS, .number = 10),
	FILTER(QUERY("name"), TRIG_OP_GLOB, .value = "ml-*"),
	FILTER(QUERY("env"), TRIG_OP_NOT_EQUALS, .value = "dev"),
};
static const struct trig_condition query_conds[] = {
	{ .kind = TRIG_COND_TOKEN, .source = "token bearer",
	  .u.token = { .secret = ENV("FUZZ_BEARER"), .bearer = true } },
	{ .kind = TRIG_COND_TIMESTAMP, .source = "timestamp unix",
	  .u.timestamp = { .header = "X-Timestamp", .format = TRIG_TIME_UNIX, .tolerance_ms = 300000 } },
	GROUP(TRIG_COND_ALL, query_all),
	FILTER(P5, TRIG_OP_CONTAINS, .value = "x"),
	FILTER(P6, TRIG_OP_GREATER, .number = 3),
	FILTER(P7, TRIG_OP_MATCHES, .value = "(urgent|asap)"),
	FILTER(P7, TRIG_OP_CONTAINS, .value = ":"),
};

/* open: no authentication; headers, nested groups, a payload replay id,
 * a budget per address. */
static const struct trig_condition open_inner[] = {
	FILTER(HEADER("X-KIND"), TRIG_OP_IN, .values = kinds, .nvalues = N(kinds)),
	FILTER(P12, TRIG_OP_EQUALS, .value = "train"),
};
static const struct trig_condition open_inner_not[] = {
	FILTER(P8, TRIG_OP_NOT_EXISTS),
};
static const struct trig_condition open_any[] = {
	GROUP(TRIG_COND_ALL, open_inner),
	GROUP(TRIG_COND_NOT, open_inner_not),
	FILTER(REMOTE, TRIG_OP_MATCHES, .value = "^2001:db8:"),
};
static const struct trig_condition open_conds[] = {
	{ .kind = TRIG_COND_REPLAY, .source = "replay payload.id",
	  .u.replay = { TMPL("{{ payload.id }}", t_pid), 60000 } },
	GROUP(TRIG_COND_ANY, open_any),
	FILTER(HEADER("x-kind"), TRIG_OP_NOT_IN, .values = kinds, .nvalues = 1),
	FILTER(P8, TRIG_OP_GLOB, .value = "[a-z]*"),
	{ .kind = TRIG_COND_RATE_LIMIT, .source = "rate-limit remote",
	  .u.rate_limit = { .max = 3, .per_ms = 1000, .key = TMPL("{{ remote.ip }}", t_remote) } },
};

/* stripe: a signed timestamp. */
static const struct trig_condition stripe_conds[] = {
	{ .kind = TRIG_COND_HMAC, .source = "hmac stripe",
	  .u.hmac = { .preset = TRIG_PRESET_STRIPE, .algorithm = TRIG_SHA256,
		      .secret = ENV("FUZZ_STRIPE_SECRET") } },
	{ .kind = TRIG_COND_TIMESTAMP, .source = "timestamp from signature",
	  .u.timestamp = { .from_signature = true, .tolerance_ms = 300000 } },
	FILTER(P10, TRIG_OP_EQUALS, .value = "invoice.paid"),
};

/* dated: RFC 3339 and unix-ms timestamps, a query token; the payload only
 * for the templates. */
static const struct trig_condition dated_conds[] = {
	{ .kind = TRIG_COND_TOKEN, .source = "token query",
	  .u.token = { .secret = ENV("FUZZ_TOKEN"), .query = "token" } },
	{ .kind = TRIG_COND_TIMESTAMP, .source = "timestamp rfc3339",
	  .u.timestamp = { .header = "Date-RFC3339", .format = TRIG_TIME_RFC3339, .tolerance_ms = 60000 } },
	{ .kind = TRIG_COND_TIMESTAMP, .source = "timestamp unix-ms",
	  .u.timestamp = { .header = "X-Ms", .format = TRIG_TIME_UNIX_MS, .tolerance_ms = 1000 } },
	FILTER(HEADER("X-GitHub-Event"), TRIG_OP_EXISTS),
};

static const struct trig_webhook hook = { "/hooks/x", TRIG_POST, 1 << 20, 200, 401 };

#define TRIGGER(n, conds, acts) { .name = n, .kind = TRIG_KIND_WEBHOOK, .enabled = true, \
				  .webhook = &hook, .conditions = conds, .nconditions = N(conds), \
				  .actions = acts, .nactions = N(acts) }

static const struct trig_trigger triggers[] = {
	TRIGGER("github-push", push_conds, push_actions),
	TRIGGER("token-form", form_conds, form_actions),
	TRIGGER("bearer-query", query_conds, query_actions),
	TRIGGER("open", open_conds, open_actions),
	TRIGGER("stripe", stripe_conds, stripe_actions),
	TRIGGER("dated", dated_conds, zen_actions),
};

static const struct trig_project project = {
	.abi = TRIG_ABI, .name = "fuzz", .steps = steps, .nsteps = N(steps),
	.triggers = triggers, .ntriggers = N(triggers), .paths = paths, .npaths = N(paths),
};

static struct trig_json_query *query;
static bool verbose;            /* FUZZ_REQUEST_VERBOSE: each verdict on stderr */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_REQUEST_VERBOSE") != NULL;
	for (size_t i = 0; i < N(secrets); i++)
		setenv(secrets[i][0], secrets[i][1], 1);
	query = trig_json_query_new();
	for (size_t i = 0; i < N(paths); i++)
		REQUIRE(trig_json_query_add(query, paths[i].segs, paths[i].nsegs) == (int)i);
	char err[512];
	struct trig_guard *g = trig_guard_new(&project, query, err, sizeof(err));
	if (!g) {
		fprintf(stderr, "fuzz_request: %s\n", err);
		abort();
	}
	trig_guard_free(g);
	return 0;
}

/* ------------------------------------------------------------ signing */

static void hex_hmac(const char *key, const void *msg, size_t len, char out[2 * EVP_MAX_MD_SIZE + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	REQUIRE(HMAC(EVP_sha256(), key, (int)strlen(key), msg, len, mac, &n) != NULL);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

/* Replaces the first placeholder signature of each kind with a real one
 * (see the top); the header then points into GH or STRIPE. */
static void sign(struct trig_request *r, struct buf *gh, struct buf *stripe)
{
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	for (size_t i = 0; i < r->headers.n; i++) {
		struct trig_pair *h = &r->headers.v[i];
		if (!gh->data && h->name_len == 19 && strncasecmp(h->name, "X-Hub-Signature-256", 19) == 0 &&
		    h->value_len == 11 && memcmp(h->value, "sha256=fuzz", 11) == 0) {
			hex_hmac(secrets[2][1], r->body, r->body_len, hex);
			buf_printf(gh, "sha256=%s", hex);
			h->value = gh->data;
			h->value_len = gh->len;
		} else if (!stripe->data && h->name_len == 16 && strncasecmp(h->name, "Stripe-Signature", 16) == 0 &&
			   h->value_len > 10 && memcmp(h->value, "t=", 2) == 0 &&
			   memcmp(h->value + h->value_len - 8, ",v1=fuzz", 8) == 0) {
			size_t tslen = h->value_len - 10;
			struct buf msg = BUF_INIT;
			buf_add(&msg, h->value + 2, tslen);
			buf_addc(&msg, '.');
			buf_add(&msg, r->body, r->body_len);
			hex_hmac(secrets[3][1], msg.data, msg.len, hex);
			buf_release(&msg);
			buf_add(stripe, h->value, 2 + tslen);
			buf_printf(stripe, ",v1=%s", hex);
			h->value = stripe->data;
			h->value_len = stripe->len;
		}
	}
}

/* ------------------------------------------------------------ judging */

static bool has_kind(const struct trig_trigger *t, enum trig_cond_kind k)
{
	for (uint32_t i = 0; i < t->nconditions; i++)
		if (t->conditions[i].kind == k)
			return true;
	return false;
}

static void trace(void *ctx, const struct trig_condition *c, bool passed, const char *reason)
{
	unsigned *n = ctx;
	REQUIRE(c != NULL && c->source != NULL);
	REQUIRE(passed || reason != NULL);
	(*n)++;
}

static void check_eval(const struct trig_eval *e, enum trig_verdict v)
{
	REQUIRE(v >= TRIG_VERDICT_PASS && v <= TRIG_VERDICT_RATE_LIMITED);
	REQUIRE(e->verdict == v);
	REQUIRE(trig_verdict_outcome(v) != NULL);
	if (v == TRIG_VERDICT_PASS) {
		REQUIRE(e->failed == NULL && e->reason[0] == 0);
		return;
	}
	REQUIRE(e->reason[0] != 0);
	REQUIRE(memchr(e->reason, 0, sizeof(e->reason)) != NULL);
	if (v == TRIG_VERDICT_REJECTED) {
		/* Authentication comes first: nothing read the payload. */
		REQUIRE(e->payload_state == 0);
		REQUIRE(e->failed != NULL);
		for (size_t i = 0; i < N(secrets); i++)
			REQUIRE(strstr(e->reason, secrets[i][1]) == NULL);
	}
	if (v == TRIG_VERDICT_RATE_LIMITED)
		REQUIRE(e->retry_after_s >= 1);
	if (v == TRIG_VERDICT_NOT_MATCHED)
		REQUIRE(e->failed != NULL && e->failed->kind >= TRIG_COND_FILTER &&
			e->failed->kind <= TRIG_COND_NOT);
}

/* What the server does after a PASS: the payload for the templates, then
 * every template rendered as its destination escapes it. */
static enum trig_verdict render_actions(struct trig_guard *g, const struct trig_trigger *t,
					struct trig_request *r, struct trig_eval *e)
{
	enum trig_verdict v = trig_eval_payload(g, t, r, e);
	check_eval(e, v);
	if (v != TRIG_VERDICT_PASS)
		return v;
	REQUIRE(e->payload_state >= 0);
	struct trig_render_ctx rc;
	trig_eval_render_ctx(e, r, &rc);
	rc.trigger = t->name;
	rc.launch_id = "l-01M8DHKE5K7BKPDHBN3ZN7E35D";
	rc.now_ms = NOW_MS;
	struct buf out = BUF_INIT;
	for (uint32_t i = 0; i < t->nactions; i++) {
		const struct trig_action *a = &t->actions[i];
		bool json = a->content_type && strncmp(a->content_type, "application/json", 16) == 0;
		trig_render(&a->commit, &rc, TRIG_ESC_NONE, &out);
		trig_render(&a->title, &rc, TRIG_ESC_NONE, &out);
		trig_render(&a->url, &rc, TRIG_ESC_URL, &out);
		for (uint32_t k = 0; k < a->nparameters; k++)
			trig_render(&a->parameters[k].value, &rc, TRIG_ESC_NONE, &out);
		for (uint32_t k = 0; k < a->nenvironment; k++)
			trig_render(&a->environment[k].value, &rc, TRIG_ESC_NONE, &out);
		for (uint32_t k = 0; k < a->nheaders; k++)
			trig_render(&a->headers[k].value, &rc, TRIG_ESC_NONE, &out);
		buf_reset(&out);
		trig_render(&a->body, &rc, json ? TRIG_ESC_JSON : TRIG_ESC_NONE, &out);
		/* The respond body puts values only inside strings: JSON
		 * escaping must keep it one valid document. */
		if (json && a->kind == TRIG_ACTION_RESPOND)
			REQUIRE(trig_json_validate(out.data, out.len, NULL) == 0);
		buf_reset(&out);
	}
	buf_release(&out);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trig_request r;
	char err[256];
	trig_request_init(&r);
	if (trig_request_parse(&r, (const char *)data, size, err, sizeof(err)) != 0) {
		REQUIRE(err[0] != 0);
		trig_request_release(&r);
		return 0;
	}
	size_t len;
	const char *remote = trig_request_header(&r, "X-Remote", &len);
	if (remote && len < 64 && !memchr(remote, 0, len)) {
		char text[64];
		memcpy(text, remote, len);
		text[len] = 0;
		if (trig_request_set_remote_text(&r, text) == 0)
			REQUIRE(r.remote_text[0] != 0);
	}
	struct buf gh = BUF_INIT, stripe = BUF_INIT;
	sign(&r, &gh, &stripe);

	struct trig_guard *g = trig_guard_new(&project, query, err, sizeof(err));
	REQUIRE(g != NULL);
	for (size_t i = 0; i < N(triggers); i++) {
		const struct trig_trigger *t = &triggers[i];
		struct trig_eval e;
		unsigned traced = 0;
		/* `check`: twice, nothing remembered in between. */
		enum trig_verdict dry = trig_guard_eval(g, t, &r, NOW_MS, false, &e, trace, &traced);
		check_eval(&e, dry);
		REQUIRE(traced >= 1 || t->nconditions == 0);
		trig_eval_release(&e);
		enum trig_verdict dry2 = trig_guard_eval(g, t, &r, NOW_MS, false, &e, NULL, NULL);
		check_eval(&e, dry2);
		REQUIRE(dry2 == dry);
		trig_eval_release(&e);
		/* `serve`. */
		enum trig_verdict v = trig_guard_eval(g, t, &r, NOW_MS, true, &e, NULL, NULL);
		check_eval(&e, v);
		REQUIRE(v == dry);
		if (verbose)
			fprintf(stderr, "%-14s %-12s %s\n", t->name, trig_verdict_outcome(v), e.reason);
		bool launched = false, memory = has_kind(t, TRIG_COND_REPLAY) ||
						 has_kind(t, TRIG_COND_RATE_LIMIT);
		if (v == TRIG_VERDICT_PASS) {
			launched = render_actions(g, t, &r, &e) == TRIG_VERDICT_PASS;
			/* A replay id or budget is recorded only for a request
			 * whose templates have what they need. */
			REQUIRE(launched || !memory);
		}
		trig_eval_release(&e);
		/* At once again: a launch with a replay id is now a replay. */
		v = trig_guard_eval(g, t, &r, NOW_MS + 1, true, &e, NULL, NULL);
		check_eval(&e, v);
		if (launched && has_kind(t, TRIG_COND_REPLAY))
			REQUIRE(v == TRIG_VERDICT_REPLAYED);
		trig_eval_release(&e);
		/* Every window has passed (the timestamps have not). */
		v = trig_guard_eval(g, t, &r, NOW_MS + 2 * 3600000, true, &e, NULL, NULL);
		check_eval(&e, v);
		if (v == TRIG_VERDICT_PASS)
			render_actions(g, t, &r, &e);
		trig_eval_release(&e);
	}
	trig_guard_free(g);
	buf_release(&gh);
	buf_release(&stripe);
	trig_request_release(&r);
	return 0;
}
