/*
 * test_hmac.c — webhook signatures (runtime/hmac.c).
 *
 * Every preset against the published vectors of the shared test data
 * (testdata/signatures/vectors.json), each then spoilt one way at a time:
 * a truncated secret, a tampered body, a tampered or missing header.  The
 * presets the vectors lack (stripe, shopify, gitlab) and custom conditions
 * are signed here by the openssl command, an oracle independent of
 * hmac.c's message building and parsing, as is a real GitHub payload.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "base64.h"
#include "buf.h"
#include "hmac.h"
#include "json.h"
#include "json_iter.h"
#include "request.h"
#include "secret.h"

enum { REASON = 200 };

/* ------------------------------------------------------------ helpers */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	ck_assert(!ferror(f));
	fclose(f);
	*len = b.len;
	return buf_detach(&b);
}

static void hex_encode(const uint8_t *p, size_t n, bool upper, struct buf *out)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		buf_addc(out, digits[p[i] >> 4]);
		buf_addc(out, digits[p[i] & 15]);
	}
}

/* Runs CMD (with %s replaced by a file holding MSG) and reads its output. */
static size_t run_openssl(const char *fmt, const char *arg, const void *msg, size_t msglen,
			  uint8_t *out, size_t outcap)
{
	char path[512], cmd[1024];
	snprintf(path, sizeof(path), "%s/trig-hmac-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, msg, msglen), (ssize_t)msglen);
	close(fd);
	snprintf(cmd, sizeof(cmd), fmt, arg, path);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	size_t n = fread(out, 1, outcap, p);
	ck_assert_int_eq(pclose(p), 0);
	unlink(path);
	return n;
}

/* The HMAC of MSG by `openssl dgst` (ALG: sha1, sha256, sha512); its length. */
static size_t oracle_mac(const char *alg, const void *key, size_t keylen, const void *msg,
			 size_t msglen, uint8_t out[64])
{
	struct buf hk = BUF_INIT, fmt = BUF_INIT;
	hex_encode(key, keylen, false, &hk);
	buf_printf(&fmt, "openssl dgst -%s -mac HMAC -macopt hexkey:%%s -binary %%s", alg);
	size_t n = run_openssl(fmt.data, hk.data, msg, msglen, out, 64);
	ck_assert_uint_eq(n, strcmp(alg, "sha1") == 0 ? 20 : strcmp(alg, "sha256") == 0 ? 32 : 64);
	buf_release(&hk);
	buf_release(&fmt);
	return n;
}

/* The oracle's HMAC of MSG, hex (lower case) or base64, as a new string. */
static char *oracle_sig(const char *alg, const char *key, size_t keylen, const char *msg,
			size_t msglen, bool base64)
{
	uint8_t mac[64];
	size_t n = oracle_mac(alg, key, keylen, msg, msglen, mac);
	struct buf b = BUF_INIT;
	if (base64)
		trig_base64_encode(&b, mac, n);
	else
		hex_encode(mac, n, false, &b);
	return buf_detach(&b);
}

static char *oracle_sha256_hex(const void *msg, size_t len)
{
	uint8_t d[32];
	ck_assert_uint_eq(run_openssl("openssl dgst -sha256 -binary %s%s", "", msg, len, d, 32), 32);
	struct buf b = BUF_INIT;
	hex_encode(d, 32, false, &b);
	return buf_detach(&b);
}

struct hdr {
	const char *name, *value;
};

/* FMT with each "$N" (N = 1..9) replaced by VALS[N - 1]. */
static void subst(const char *fmt, const char *const *vals, char *out, size_t cap)
{
	struct buf b = BUF_INIT;
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '$' && p[1] >= '1' && p[1] <= '9')
			buf_adds(&b, vals[*++p - '1']);
		else
			buf_addc(&b, *p);
	}
	ck_assert_uint_lt(b.len, cap);
	memcpy(out, buf_cstr(&b), b.len + 1);
	buf_release(&b);
}

/* S[0..N) as a new string, and PREFIX + S + SUFFIX. */
static char *cut(const char *s, size_t n)
{
	return strndup(s, n);
}

static char *wrap(const char *prefix, const char *s, const char *suffix)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s%s%s", prefix, s, suffix);
	return buf_detach(&b);
}

/* A fresh request: METHOD TARGET, the headers, the body (borrowed). */
static void make_request(struct trig_request *r, const char *method, const char *target,
			 const struct hdr *h, size_t nh, const char *body, size_t bodylen)
{
	trig_request_init(r);
	ck_assert_int_eq(trig_request_set_target(r, method, target), 0);
	for (size_t i = 0; i < nh; i++)
		if (h[i].name && h[i].value)
			trig_request_add_header(r, h[i].name, strlen(h[i].name), h[i].value,
						strlen(h[i].value));
	trig_request_set_body(r, body, bodylen);
}

/* A reason never shows the secret or any header value of the request. */
static void check_reason(const char *reason, const struct trig_request *r, const char *secret,
			 size_t secretlen)
{
	ck_assert_uint_gt(strlen(reason), 0);
	ck_assert_uint_lt(strlen(reason), 100);
	if (secretlen >= 4)
		ck_assert_ptr_null(memmem(reason, strlen(reason), secret, secretlen));
	for (size_t i = 0; i < r->headers.n; i++)
		if (r->headers.v[i].value_len >= 6)
			ck_assert_msg(!strstr(reason, r->headers.v[i].value), "%s", reason);
}

/* Makes the key of C from SECRET and verifies R: 0 or -1, with the
 * reason in REASON and the timestamp in *TS; -2 when the key is refused. */
static int verify_n(const struct trig_cond_hmac *c, const char *secret, size_t secretlen,
		    struct trig_request *r, int64_t *ts, char reason[REASON])
{
	struct buf key = BUF_INIT;
	char err[200] = "";
	memset(reason, 'x', REASON - 1);
	reason[REASON - 1] = 0;
	if (trig_hmac_key(c, secret, secretlen, &key, err, sizeof(err)) != 0) {
		check_reason(err, r, secret, secretlen);
		*ts = INT64_MIN;
		return -2;
	}
	ck_assert_uint_gt(key.len, 0);
	int64_t t = 42;
	int rv = trig_hmac_verify(c, key.data, key.len, r, &t, reason, REASON);
	trig_secret_release(&key);
	ck_assert(rv == 0 || rv == -1);
	if (rv) {
		check_reason(reason, r, secret, secretlen);
		ck_assert(t == INT64_MIN);
	} else {
		ck_assert_str_eq(reason, "");
	}
	*ts = t;
	return rv;
}

static int verify(const struct trig_cond_hmac *c, const char *secret, struct trig_request *r,
		  int64_t *ts, char reason[REASON])
{
	return verify_n(c, secret, strlen(secret), r, ts, reason);
}

/* ------------------------------------------------------------ the vectors */

enum { MAX_HEADERS = 4 };

struct vector {
	enum trig_hmac_preset preset;
	char *provider, *secret, *body, *url;
	size_t secret_len, body_len;
	int64_t now;                    /* INT64_MIN when the vector has none */
	struct hdr h[MAX_HEADERS];
	size_t nh;
};

static char *json_text(const struct trig_json_value *v, size_t *len)
{
	struct buf b = BUF_INIT;
	ck_assert_int_eq(v->type, TRIG_JSON_STRING);
	ck_assert_int_eq(trig_json_string(v, &b), 0);
	if (len)
		*len = b.len;
	return buf_detach(&b);
}

static enum trig_hmac_preset preset_named(const char *name)
{
	static const char *const names[] = {
		[TRIG_PRESET_GITHUB] = "github", [TRIG_PRESET_GITLAB] = "gitlab",
		[TRIG_PRESET_SLACK] = "slack", [TRIG_PRESET_STRIPE] = "stripe",
		[TRIG_PRESET_STANDARD_WEBHOOKS] = "standard-webhooks",
		[TRIG_PRESET_SHOPIFY] = "shopify", [TRIG_PRESET_TWILIO] = "twilio",
	};
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], name) == 0)
			return (enum trig_hmac_preset)i;
	ck_abort_msg("unknown provider '%s' in vectors.json", name);
	return TRIG_PRESET_NONE;
}

/* Reads the vectors with the project's own JSON extractor and iterator. */
static size_t load_vectors(struct vector *out, size_t cap)
{
	size_t len, n = 0;
	char *doc = read_file(unit_shared("testdata/signatures/vectors.json"), &len);
	ck_assert_int_eq(trig_json_validate(doc, len, NULL), 0);
	/* The whole document is the path of no segments. */
	struct trig_json_query *q = trig_json_query_new();
	ck_assert_int_eq(trig_json_query_add(q, NULL, 0), 0);
	struct trig_json_value root, obj, k, v, hk, hv;
	ck_assert_int_eq(trig_json_extract(q, doc, len, &root, NULL), 0);
	trig_json_query_free(q);
	ck_assert_int_eq(root.type, TRIG_JSON_ARRAY);
	struct trig_json_iter all, it, hit;
	ck_assert_int_eq(trig_json_iter_begin(&all, &root), 0);
	while (trig_json_iter_next(&all, NULL, &obj) == 1) {
		ck_assert_uint_lt(n, cap);
		struct vector *x = &out[n++];
		memset(x, 0, sizeof(*x));
		x->now = INT64_MIN;
		ck_assert_int_eq(trig_json_iter_begin(&it, &obj), 0);
		while (trig_json_iter_next(&it, &k, &v) == 1) {
			if (trig_json_key_equal(&k, "provider", 8)) {
				x->provider = json_text(&v, NULL);
			} else if (trig_json_key_equal(&k, "secret", 6)) {
				x->secret = json_text(&v, &x->secret_len);
			} else if (trig_json_key_equal(&k, "body", 4)) {
				x->body = json_text(&v, &x->body_len);
			} else if (trig_json_key_equal(&k, "url", 3)) {
				x->url = json_text(&v, NULL);
			} else if (trig_json_key_equal(&k, "now", 3)) {
				ck_assert_int_eq(v.type, TRIG_JSON_NUMBER);
				x->now = strtoll(v.raw, NULL, 10);
			} else if (trig_json_key_equal(&k, "headers", 7)) {
				ck_assert_int_eq(trig_json_iter_begin(&hit, &v), 0);
				while (trig_json_iter_next(&hit, &hk, &hv) == 1) {
					ck_assert_uint_lt(x->nh, MAX_HEADERS);
					x->h[x->nh].name = json_text(&hk, NULL);
					x->h[x->nh++].value = json_text(&hv, NULL);
				}
			}
		}
		ck_assert_ptr_nonnull(x->provider);
		ck_assert_ptr_nonnull(x->secret);
		ck_assert_ptr_nonnull(x->body);
		x->preset = preset_named(x->provider);
	}
	free(doc);
	return n;
}

static void free_vector(struct vector *x)
{
	free(x->provider);
	free(x->secret);
	free(x->body);
	free(x->url);
	for (size_t i = 0; i < x->nh; i++) {
		free((char *)x->h[i].name);
		free((char *)x->h[i].value);
	}
}

/* The request a vector describes: a POST of its body to its URL (Host
 * and target; form-encoded as Twilio's is) or to /hook, with its headers
 * except the one named SKIP, and with header REPLACE's value replaced by
 * WITH.  BODY overrides the vector's body when not NULL. */
static void vector_request(const struct vector *x, struct trig_request *r, const char *skip,
			   const char *replace, const char *with, const char *body)
{
	struct hdr h[MAX_HEADERS + 2];
	size_t nh = 0;
	char host[256] = "";
	const char *target = "/hook";
	if (x->url) {
		const char *p = strstr(x->url, "://");
		ck_assert_ptr_nonnull(p);
		p += 3;
		target = strchr(p, '/');
		ck_assert_ptr_nonnull(target);
		snprintf(host, sizeof(host), "%.*s", (int)(target - p), p);
		h[nh++] = (struct hdr){ "Host", host };
		h[nh++] = (struct hdr){ "Content-Type", "application/x-www-form-urlencoded" };
	}
	for (size_t i = 0; i < x->nh; i++) {
		if (skip && strcasecmp(skip, x->h[i].name) == 0)
			continue;
		h[nh] = x->h[i];
		if (replace && strcasecmp(replace, x->h[i].name) == 0)
			h[nh].value = with;
		nh++;
	}
	make_request(r, "POST", target, h, nh, body ? body : x->body, body ? strlen(body) : x->body_len);
}

static const char *sig_header(enum trig_hmac_preset p)
{
	switch (p) {
	case TRIG_PRESET_GITHUB: return "X-Hub-Signature-256";
	case TRIG_PRESET_SLACK: return "X-Slack-Signature";
	case TRIG_PRESET_STANDARD_WEBHOOKS: return "webhook-signature";
	case TRIG_PRESET_TWILIO: return "X-Twilio-Signature";
	default: ck_abort_msg("no vector expected for preset %d", p);
	}
	return NULL;
}

static const char *vector_header(const struct vector *x, const char *name)
{
	for (size_t i = 0; i < x->nh; i++)
		if (strcasecmp(x->h[i].name, name) == 0)
			return x->h[i].value;
	ck_abort_msg("%s: no header %s", x->provider, name);
	return NULL;
}

START_TEST(published_vectors)
{
	struct vector v[16];
	size_t n = load_vectors(v, 16);
	ck_assert_uint_ge(n, 4);
	unsigned seen = 0;
	for (size_t i = 0; i < n; i++) {
		struct vector *x = &v[i];
		struct trig_cond_hmac c = { .preset = x->preset };
		struct trig_request r;
		char reason[REASON];
		int64_t ts;
		const char *sh = sig_header(x->preset), *sig = vector_header(x, sh);
		seen |= 1u << x->preset;

		/* As published. */
		vector_request(x, &r, NULL, NULL, NULL, NULL);
		ck_assert_msg(verify_n(&c, x->secret, x->secret_len, &r, &ts, reason) == 0, "%s: %s",
			      x->provider, reason);
		bool timed = x->preset == TRIG_PRESET_SLACK ||
			     x->preset == TRIG_PRESET_STANDARD_WEBHOOKS;
		ck_assert_msg(timed == (x->now != INT64_MIN), "%s", x->provider);
		ck_assert(ts == (timed ? x->now : INT64_MIN));
		trig_request_release(&r);

		/* The secret short of its last byte. */
		vector_request(x, &r, NULL, NULL, NULL, NULL);
		int rv = verify_n(&c, x->secret, x->secret_len - 1, &r, &ts, reason);
		ck_assert_msg(rv == -1 || rv == -2, "%s", x->provider);
		if (rv == -1)
			ck_assert_str_eq(reason, "signature mismatch");
		trig_request_release(&r);

		/* One byte of the body changed; a byte more; a byte less. */
		char *body = strdup(x->body);
		body[x->body_len / 2] ^= 1;
		vector_request(x, &r, NULL, NULL, NULL, body);
		ck_assert_int_eq(verify_n(&c, x->secret, x->secret_len, &r, &ts, reason), -1);
		ck_assert_str_eq(reason, "signature mismatch");
		trig_request_release(&r);
		free(body);
		vector_request(x, &r, NULL, NULL, NULL, NULL);
		r.body_len--;
		ck_assert_int_eq(verify_n(&c, x->secret, x->secret_len, &r, &ts, reason), -1);
		trig_request_release(&r);

		/* The signature with one character changed (to another of its
		 * alphabet). */
		bool hex = x->preset == TRIG_PRESET_GITHUB || x->preset == TRIG_PRESET_SLACK;
		char *bad = strdup(sig);
		size_t at = strlen(bad) - 5;
		bad[at] = bad[at] != '0' ? '0' : '1';
		vector_request(x, &r, NULL, sh, bad, NULL);
		ck_assert_int_eq(verify_n(&c, x->secret, x->secret_len, &r, &ts, reason), -1);
		ck_assert_str_eq(reason, "signature mismatch");
		trig_request_release(&r);
		/* Cut short: a signature of the wrong length is malformed. */
		bad[strlen(bad) - 2] = 0;
		vector_request(x, &r, NULL, sh, bad, NULL);
		ck_assert_int_eq(verify_n(&c, x->secret, x->secret_len, &r, &ts, reason), -1);
		ck_assert_msg(strstr(reason, "malformed") && strstr(reason, sh), "%s", reason);
		trig_request_release(&r);
		free(bad);

		/* Hex in upper case is the same signature; base64 with one
		 * letter's case changed is not. */
		char *upper = strdup(sig);
		char *p = strchr(upper, hex ? '=' : ',');
		for (p = p ? p + 1 : upper; *p; p++)
			if (*p >= 'a' && *p <= 'z') {
				*p = (char)(*p - 'a' + 'A');
				if (!hex)
					break;
			}
		ck_assert_str_ne(upper, sig);
		vector_request(x, &r, NULL, sh, upper, NULL);
		ck_assert_int_eq(verify_n(&c, x->secret, x->secret_len, &r, &ts, reason), hex ? 0 : -1);
		trig_request_release(&r);
		free(upper);

		/* Each header missing in turn. */
		for (size_t j = 0; j < x->nh; j++) {
			vector_request(x, &r, x->h[j].name, NULL, NULL, NULL);
			ck_assert_int_eq(verify_n(&c, x->secret, x->secret_len, &r, &ts, reason), -1);
			char want[100];
			snprintf(want, sizeof(want), "no '%s' header", x->h[j].name);
			ck_assert_str_eq(reason, want);
			trig_request_release(&r);
		}

		/* Another signed value changed: the timestamp, the id, the URL. */
		if (timed) {
			const char *tsh = x->preset == TRIG_PRESET_SLACK ? "X-Slack-Request-Timestamp"
									 : "webhook-timestamp";
			char later[32];
			snprintf(later, sizeof(later), "%lld", (long long)x->now + 1);
			vector_request(x, &r, NULL, tsh, later, NULL);
			ck_assert_int_eq(verify_n(&c, x->secret, x->secret_len, &r, &ts, reason), -1);
			ck_assert_str_eq(reason, "signature mismatch");
			trig_request_release(&r);
			vector_request(x, &r, NULL, tsh, "soon", NULL);
			ck_assert_int_eq(verify_n(&c, x->secret, x->secret_len, &r, &ts, reason), -1);
			ck_assert_str_eq(reason, x->preset == TRIG_PRESET_SLACK
					 ? "malformed 'X-Slack-Request-Timestamp' header"
					 : "malformed 'webhook-timestamp' header");
			trig_request_release(&r);
		}
		if (x->preset == TRIG_PRESET_STANDARD_WEBHOOKS) {
			vector_request(x, &r, NULL, "webhook-id", "msg_other", NULL);
			ck_assert_int_eq(verify_n(&c, x->secret, x->secret_len, &r, &ts, reason), -1);
			trig_request_release(&r);
		}
		trig_request_release(&r);
	}
	ck_assert_uint_eq(seen, 1u << TRIG_PRESET_GITHUB | 1u << TRIG_PRESET_SLACK |
			  1u << TRIG_PRESET_STANDARD_WEBHOOKS | 1u << TRIG_PRESET_TWILIO);
	for (size_t i = 0; i < n; i++)
		free_vector(&v[i]);
}
END_TEST

/* ------------------------------------------------------------ github */

START_TEST(github_real_payload)
{
	const char *path = unit_shared("testdata/github/push.0.json");
	size_t len;
	char *body = read_file(path, &len);
	/* The oracle: `openssl dgst -sha256 -hmac KEY FILE`, printing
	 * "HMAC-SHA2-256(FILE)= HEX". */
	char out[512] = "";
	run_openssl("openssl dgst -sha256 -hmac '%s' %s", "trig test secret", body, len,
		    (uint8_t *)out, sizeof(out) - 1);
	char *eq = strstr(out, "= ");
	ck_assert_ptr_nonnull(eq);
	char sig[80];
	ck_assert_int_eq(snprintf(sig, sizeof(sig), "sha256=%.64s", eq + 2), 71);

	struct trig_cond_hmac c = { .preset = TRIG_PRESET_GITHUB };
	struct hdr h[] = {
		{ "X-GitHub-Event", "push" }, { "x-hub-signature-256", sig },
		{ "X-Hub-Signature", "sha1=0000000000000000000000000000000000000000" },
	};
	struct trig_request r;
	char reason[REASON];
	int64_t ts;
	make_request(&r, "POST", "/webhooks/push", h, 3, body, len);
	ck_assert_int_eq(verify(&c, "trig test secret", &r, &ts, reason), 0);
	ck_assert(ts == INT64_MIN);
	ck_assert_int_eq(verify(&c, "trig test secreT", &r, &ts, reason), -1);
	trig_request_release(&r);
	/* The last byte of the payload missing (a newline or the final brace). */
	make_request(&r, "POST", "/webhooks/push", h, 3, body, len - 1);
	ck_assert_int_eq(verify(&c, "trig test secret", &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "signature mismatch");
	trig_request_release(&r);
	/* Without its "sha256=", or with sha1's. */
	h[1].value = sig + 7;
	make_request(&r, "POST", "/webhooks/push", h, 3, body, len);
	ck_assert_int_eq(verify(&c, "trig test secret", &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "malformed 'X-Hub-Signature-256' header");
	trig_request_release(&r);
	memcpy(sig + 2, "sha1=", 5);
	h[1].value = sig + 2;
	make_request(&r, "POST", "/webhooks/push", h, 3, body, len);
	ck_assert_int_eq(verify(&c, "trig test secret", &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "malformed 'X-Hub-Signature-256' header");
	trig_request_release(&r);
	free(body);
}
END_TEST

/* ------------------------------------------------------------ stripe */

START_TEST(stripe)
{
	static const char secret[] = "whsec_3nSgK5WhXHkfM9yHOlKoAq1Yc1BfRhJi";
	static const char body[] = "{\n  \"id\": \"evt_1\",\n  \"type\": \"payment_intent.succeeded\"\n}";
	/* The signed payload is "TIMESTAMP.BODY"; the key the whole string. */
	char msg[256];
	snprintf(msg, sizeof(msg), "1700000000.%s", body);
	char *good = oracle_sig("sha256", secret, strlen(secret), msg, strlen(msg), false);
	char *stripped = oracle_sig("sha256", secret + 6, strlen(secret) - 6, msg, strlen(msg), false);
	char *other = oracle_sig("sha256", secret, strlen(secret), "1700000000.{}", 13, false);
	char *later = oracle_sig("sha256", secret, strlen(secret), msg, strlen(msg), false);
	later[0] = later[0] == 'f' ? '0' : 'f';

	char *cut60 = cut(good, 60), *longer = wrap("", good, "ab"), *shifted = wrap("x", good, "");
	shifted[64] = 0;        /* "x" and the first 63 digits */
	const char *const vals[] = { good, stripped, other, later, cut60, longer, shifted };
	static const struct { const char *fmt; int rv; const char *reason; } cases[] = {
		{ "t=1700000000,v1=$1", 0, NULL },
		{ "t=1700000000,v1=$2,v1=$1,v0=$3", 0, NULL },          /* any v1 */
		{ "v1=$1,t=1700000000", 0, NULL },                      /* any order */
		{ "t=1700000000,v1=$2", -1, "signature mismatch" },     /* key without whsec_ */
		{ "t=1700000000,v1=$3,v1=$4", -1, "signature mismatch" },
		{ "t=1700000000,v0=$1", -1, "no v1 signature in the 'Stripe-Signature' header" },
		{ "t=1700000000,v2=$1", -1, "no v1 signature in the 'Stripe-Signature' header" },
		{ "t=1700000001,v1=$1", -1, "signature mismatch" },
		{ "v1=$1", -1, "malformed 'Stripe-Signature' header" },
		{ "t=,v1=$1", -1, "malformed 'Stripe-Signature' header" },
		{ "t=17e8,v1=$1", -1, "malformed 'Stripe-Signature' header" },
		{ "t=1700000000,t=1700000000,v1=$1", -1, "malformed 'Stripe-Signature' header" },
		{ "t=1700000000,v1=$5", -1, "malformed 'Stripe-Signature' header" },
		{ "t=1700000000,v1=$6", -1, "malformed 'Stripe-Signature' header" },
		{ "t=1700000000,v1=$7", -1, "malformed 'Stripe-Signature' header" },
		{ "t=1700000000, v1=$1", -1, "no v1 signature in the 'Stripe-Signature' header" },
		{ "t=1700000000,v1=,v1=$3", -1, "signature mismatch" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char hv[512];
		subst(cases[i].fmt, vals, hv, sizeof(hv));
		struct hdr h[] = { { "Stripe-Signature", hv } };
		struct trig_request r;
		char reason[REASON];
		int64_t ts;
		/* secret-encoding has no say: the key is the string as is. */
		struct trig_cond_hmac c = { .preset = TRIG_PRESET_STRIPE,
					    .secret_encoding = i % 2 ? TRIG_ENC_BASE64 : TRIG_ENC_RAW };
		make_request(&r, "POST", "/stripe", h, 1, body, strlen(body));
		ck_assert_msg(verify(&c, secret, &r, &ts, reason) == cases[i].rv, "%s: %s", hv, reason);
		if (cases[i].rv == 0)
			ck_assert(ts == 1700000000);
		else
			ck_assert_str_eq(reason, cases[i].reason);
		trig_request_release(&r);
	}
	free(cut60);
	free(longer);
	free(shifted);
	/* Upper-case hex; the body changed; the header missing. */
	struct trig_cond_hmac c = { .preset = TRIG_PRESET_STRIPE };
	char hv[256];
	snprintf(hv, sizeof(hv), "t=1700000000,v1=%s", good);
	for (char *p = hv + 16; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	struct hdr h[] = { { "stripe-signature", hv } };
	struct trig_request r;
	char reason[REASON];
	int64_t ts;
	make_request(&r, "POST", "/stripe", h, 1, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), 0);
	trig_request_release(&r);
	make_request(&r, "POST", "/stripe", h, 1, body, strlen(body) - 1);
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	trig_request_release(&r);
	make_request(&r, "POST", "/stripe", h, 0, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "no 'Stripe-Signature' header");
	/* The secret cut short. */
	trig_request_release(&r);
	make_request(&r, "POST", "/stripe", h, 1, body, strlen(body));
	ck_assert_int_eq(verify_n(&c, secret, strlen(secret) - 1, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "signature mismatch");
	trig_request_release(&r);
	free(good);
	free(stripped);
	free(other);
	free(later);
}
END_TEST

/* ------------------------------------------------------------ standard webhooks */

START_TEST(standard_webhooks)
{
	/* A 24-byte key, "whsec_" + base64. */
	static const uint8_t key[24] = "0123456789abcdefghijklmn";
	static const char secret[] = "whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1u";
	static const char body[] = "{\"type\":\"dataset.created\"}";
	static const char msg[] = "msg_2b3c.1714000000.{\"type\":\"dataset.created\"}";
	char *good = oracle_sig("sha256", (const char *)key, 24, msg, strlen(msg), true);
	char *other = oracle_sig("sha256", (const char *)key, 24, "x", 1, true);
	char *cut40 = cut(good, 40), *shifted = wrap("A", good, "");
	const char *const vals[] = { good, other, cut40, shifted };
	static const struct { const char *fmt; int rv; const char *reason; } cases[] = {
		{ "v1,$1", 0, NULL },
		{ "v1,$2 v1,$1", 0, NULL },
		{ "v1a,$2 v1,$1 v2,$2", 0, NULL },
		{ "v1,$2  v1,$1", 0, NULL },
		{ "v1,$2", -1, "signature mismatch" },
		{ "v1,$2 v1,$2", -1, "signature mismatch" },
		{ "v1,$2 v1,!!", -1, "signature mismatch" },
		{ "v1a,$1", -1, "no v1 signature in the 'webhook-signature' header" },
		{ "v2,$1", -1, "no v1 signature in the 'webhook-signature' header" },
		{ "$1", -1, "no v1 signature in the 'webhook-signature' header" },
		{ "v1=$1", -1, "no v1 signature in the 'webhook-signature' header" },
		{ "v1,", -1, "malformed 'webhook-signature' header" },
		{ "v1,$3", -1, "malformed 'webhook-signature' header" },
		{ "v1,$4", -1, "malformed 'webhook-signature' header" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char hv[512];
		subst(cases[i].fmt, vals, hv, sizeof(hv));
		struct hdr h[] = {
			{ "webhook-id", "msg_2b3c" }, { "webhook-timestamp", "1714000000" },
			{ "webhook-signature", hv },
		};
		struct trig_request r;
		char reason[REASON];
		int64_t ts;
		/* secret-encoding has no say: the key is always base64. */
		struct trig_cond_hmac c = { .preset = TRIG_PRESET_STANDARD_WEBHOOKS,
					    .secret_encoding = i % 2 ? TRIG_ENC_HEX : TRIG_ENC_RAW };
		make_request(&r, "POST", "/sw", h, 3, body, strlen(body));
		ck_assert_msg(verify(&c, secret, &r, &ts, reason) == cases[i].rv, "%s: %s", hv, reason);
		if (cases[i].rv == 0)
			ck_assert(ts == 1714000000);
		else
			ck_assert_str_eq(reason, cases[i].reason);
		/* The secret without its prefix is the same key. */
		if (cases[i].rv == 0)
			ck_assert_int_eq(verify(&c, secret + 6, &r, &ts, reason), 0);
		trig_request_release(&r);
	}
	/* Svix's own header names. */
	char hv[128];
	snprintf(hv, sizeof(hv), "v1,%s", good);
	struct trig_cond_hmac c = { .preset = TRIG_PRESET_STANDARD_WEBHOOKS };
	struct hdr svix[] = {
		{ "svix-id", "msg_2b3c" }, { "svix-timestamp", "1714000000" }, { "svix-signature", hv },
	};
	struct trig_request r;
	char reason[REASON];
	int64_t ts;
	make_request(&r, "POST", "/sw", svix, 3, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), 0);
	ck_assert(ts == 1714000000);
	trig_request_release(&r);
	svix[1].value = NULL;
	make_request(&r, "POST", "/sw", svix, 3, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "no 'svix-timestamp' header");
	trig_request_release(&r);
	/* A secret that is not base64 is refused at start-up. */
	make_request(&r, "POST", "/sw", svix, 0, body, strlen(body));
	ck_assert_int_eq(verify(&c, "whsec_not*base64", &r, &ts, reason), -2);
	ck_assert_int_eq(verify(&c, "whsec_", &r, &ts, reason), -2);
	trig_request_release(&r);
	free(good);
	free(other);
	free(cut40);
	free(shifted);
}
END_TEST

/* ------------------------------------------------------------ shopify */

START_TEST(shopify)
{
	static const char secret[] = "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";
	static const char body[] = "{\"id\":820982911946154508,\"email\":\"jon@example.com\"}";
	char *good = oracle_sig("sha256", secret, strlen(secret), body, strlen(body), true);
	struct trig_cond_hmac c = { .preset = TRIG_PRESET_SHOPIFY };
	struct hdr h[] = { { "X-Shopify-Topic", "orders/create" }, { "X-Shopify-Hmac-Sha256", good } };
	struct trig_request r;
	char reason[REASON];
	int64_t ts;
	make_request(&r, "POST", "/shop", h, 2, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), 0);
	ck_assert(ts == INT64_MIN);
	ck_assert_int_eq(verify_n(&c, secret, strlen(secret) - 1, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "signature mismatch");
	trig_request_release(&r);
	make_request(&r, "POST", "/shop", h, 2, body, strlen(body) - 1);
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "signature mismatch");
	trig_request_release(&r);
	make_request(&r, "POST", "/shop", h, 1, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "no 'X-Shopify-Hmac-Sha256' header");
	trig_request_release(&r);
	/* Base64 is case-sensitive; hex of the same MAC is not base64; a
	 * URL-safe rewrite is not Shopify's alphabet. */
	char *bad = strdup(good);
	for (char *p = bad; *p; p++)
		if (*p >= 'a' && *p <= 'z') {
			*p = (char)(*p - 32);
			break;
		}
	h[1].value = bad;
	make_request(&r, "POST", "/shop", h, 2, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "signature mismatch");
	trig_request_release(&r);
	char *hex = oracle_sig("sha256", secret, strlen(secret), body, strlen(body), false);
	h[1].value = hex;
	make_request(&r, "POST", "/shop", h, 2, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "malformed 'X-Shopify-Hmac-Sha256' header");
	trig_request_release(&r);
	free(bad);
	free(hex);
	free(good);
}
END_TEST

/* ------------------------------------------------------------ gitlab */

START_TEST(gitlab)
{
	static const char secret[] = "glpat-token-9f8e7d6c";
	struct trig_cond_hmac c = { .preset = TRIG_PRESET_GITLAB };
	static const struct { const char *token; int rv; } cases[] = {
		{ "glpat-token-9f8e7d6c", 0 },
		{ "glpat-token-9f8e7d6", -1 },          /* a prefix */
		{ "glpat-token-9f8e7d6c ", -1 },
		{ "GLPAT-TOKEN-9F8E7D6C", -1 },         /* case matters */
		{ "glpat-token-9f8e7d6d", -1 },
		{ "", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hdr h[] = { { "X-Gitlab-Event", "Push Hook" }, { "X-Gitlab-Token", cases[i].token } };
		struct trig_request r;
		char reason[REASON];
		int64_t ts;
		make_request(&r, "POST", "/gl", h, 2, "{}", 2);
		ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), cases[i].rv);
		if (cases[i].rv)
			ck_assert_str_eq(reason, "token mismatch");
		trig_request_release(&r);
	}
	/* The body is not signed: any body passes with the right token. */
	struct hdr h[] = { { "x-gitlab-token", secret } };
	struct trig_request r;
	char reason[REASON];
	int64_t ts;
	make_request(&r, "POST", "/gl", h, 1, "anything", 8);
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), 0);
	ck_assert_int_eq(verify_n(&c, secret, strlen(secret) - 1, &r, &ts, reason), -1);
	trig_request_release(&r);
	make_request(&r, "POST", "/gl", h, 0, "{}", 2);
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "no 'X-Gitlab-Token' header");
	trig_request_release(&r);
	/* secret-encoding applies: hex "414243" is the token "ABC". */
	c.secret_encoding = TRIG_ENC_HEX;
	h[0].value = "ABC";
	make_request(&r, "POST", "/gl", h, 1, "{}", 2);
	ck_assert_int_eq(verify(&c, "414243", &r, &ts, reason), 0);
	trig_request_release(&r);
}
END_TEST

/* ------------------------------------------------------------ twilio */

/* A Twilio request signed by the oracle over SIGNED_URL + PARAMS. */
static int twilio(const char *method, const char *target, const struct hdr *h, size_t nh,
		  const char *body, const char *signed_url, const char *params, char reason[REASON])
{
	static const char secret[] = "twilio-auth-token-0123";
	struct buf msg = BUF_INIT;
	buf_adds(&msg, signed_url);
	buf_adds(&msg, params);
	char *sig = oracle_sig("sha1", secret, strlen(secret), msg.data, msg.len, true);
	struct hdr all[8];
	memcpy(all, h, nh * sizeof(*h));
	all[nh++] = (struct hdr){ "X-Twilio-Signature", sig };
	struct trig_request r;
	struct trig_cond_hmac c = { .preset = TRIG_PRESET_TWILIO };
	int64_t ts;
	make_request(&r, method, target, all, nh, body, strlen(body));
	int rv = verify(&c, secret, &r, &ts, reason);
	ck_assert(ts == INT64_MIN);
	trig_request_release(&r);
	buf_release(&msg);
	free(sig);
	return rv;
}

START_TEST(twilio_urls)
{
	char reason[REASON];
	const struct hdr form[] = {
		{ "Host", "hooks.example.com" }, { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
	};
	/* Parameters in any order, sorted by name then value, decoded;
	 * the query stays in the URL as sent. */
	const char *body = "To=%2B1800&From=%2B1415&Body=hi+there&A=2&A=1&a=0";
	ck_assert_int_eq(twilio("POST", "/sms?x=%20y", form, 2, body,
				"https://hooks.example.com/sms?x=%20y",
				"A1A2Bodyhi thereFrom+1415To+1800a0", reason), 0);
	ck_assert_int_eq(twilio("POST", "/sms?x=%20y", form, 2, body,
				"https://hooks.example.com/sms?x= y",
				"A1A2Bodyhi thereFrom+1415To+1800a0", reason), -1);
	ck_assert_str_eq(reason, "signature mismatch");
	ck_assert_int_eq(twilio("POST", "/sms", form, 2, body, "https://hooks.example.com/sms",
				"A2A1Bodyhi thereFrom+1415To+1800a0", reason), -1);
	/* The default port added, or the port given removed. */
	ck_assert_int_eq(twilio("POST", "/sms", form, 2, "", "https://hooks.example.com:443/sms", "",
				reason), 0);
	const struct hdr ported[] = { { "Host", "hooks.example.com:8443" }, form[1] };
	ck_assert_int_eq(twilio("POST", "/sms", ported, 2, "", "https://hooks.example.com:8443/sms", "",
				reason), 0);
	ck_assert_int_eq(twilio("POST", "/sms", ported, 2, "", "https://hooks.example.com/sms", "",
				reason), 0);
	ck_assert_int_eq(twilio("POST", "/sms", ported, 2, "", "https://hooks.example.com:443/sms", "",
				reason), -1);
	ck_assert_int_eq(twilio("POST", "/sms", form, 2, "", "https://hooks.example.com:80/sms", "",
				reason), -1);
	ck_assert_int_eq(twilio("POST", "/sms", form, 2, "", "http://hooks.example.com/sms", "",
				reason), -1);
	/* Behind a proxy. */
	const struct hdr proxied[] = {
		{ "Host", "10.0.0.5:8080" }, { "X-Forwarded-Proto", "http, https" },
		{ "X-Forwarded-Host", "public.example.org , inner" }, form[1],
	};
	ck_assert_int_eq(twilio("POST", "/t", proxied, 4, "", "http://public.example.org/t", "",
				reason), 0);
	ck_assert_int_eq(twilio("POST", "/t", proxied, 4, "", "http://public.example.org:80/t", "",
				reason), 0);
	ck_assert_int_eq(twilio("POST", "/t", proxied, 4, "", "https://10.0.0.5:8080/t", "",
				reason), -1);
	const struct hdr v6[] = { { "Host", "[2001:db8::1]" } };
	ck_assert_int_eq(twilio("GET", "/t?a=1", v6, 1, "", "https://[2001:db8::1]:443/t?a=1", "",
				reason), 0);
	/* No host at all. */
	ck_assert_int_eq(twilio("GET", "/t", form + 1, 1, "", "https:///t", "", reason), -1);
	ck_assert_str_eq(reason, "no 'Host' header");
	/* A malformed form. */
	ck_assert_int_eq(twilio("POST", "/sms", form, 2, "a=%zz", "https://hooks.example.com/sms", "",
				reason), -1);
	ck_assert_str_eq(reason, "malformed form body");
}
END_TEST

START_TEST(twilio_bodies)
{
	char reason[REASON];
	const struct hdr json[] = { { "Host", "api.example.com" }, { "Content-Type", "application/json" } };
	const char *body = "{\"CallSid\":\"CA1\"}";
	char *sha = oracle_sha256_hex(body, strlen(body));
	char target[128], url[160];
	snprintf(target, sizeof(target), "/voice?bodySHA256=%s", sha);
	snprintf(url, sizeof(url), "https://api.example.com%s", target);
	/* A JSON body: covered by its hash in the signed URL, not as params. */
	ck_assert_int_eq(twilio("POST", target, json, 2, body, url, "", reason), 0);
	ck_assert_int_eq(twilio("POST", target, json, 2, "{\"CallSid\":\"CA2\"}", url, "", reason), -1);
	ck_assert_str_eq(reason, "body hash mismatch");
	for (char *p = strchr(target, '='); *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	snprintf(url, sizeof(url), "https://api.example.com%s", target);
	ck_assert_int_eq(twilio("POST", target, json, 2, body, url, "", reason), 0);
	ck_assert_int_eq(twilio("POST", "/voice?bodySHA256=abc", json, 2, body,
				"https://api.example.com/voice?bodySHA256=abc", "", reason), -1);
	ck_assert_str_eq(reason, "malformed 'bodySHA256' query parameter");
	/* A body nothing signs is refused. */
	ck_assert_int_eq(twilio("POST", "/voice", json, 2, body, "https://api.example.com/voice", "",
				reason), -1);
	ck_assert_str_eq(reason, "the body is not signed: no 'bodySHA256' query parameter");
	/* A form body on a GET is not parameters either. */
	const struct hdr form[] = {
		{ "Host", "api.example.com" }, { "Content-Type", "application/x-www-form-urlencoded" },
	};
	ck_assert_int_eq(twilio("GET", "/voice", form, 2, "a=1", "https://api.example.com/voice",
				"a1", reason), -1);
	ck_assert_int_eq(twilio("GET", "/voice", form, 2, "", "https://api.example.com/voice", "",
				reason), 0);
	free(sha);
}
END_TEST

/* ------------------------------------------------------------ custom */

/* "{{ header.X-Ts }}.{{ query.id }}.{{ form.f }}.{{ body }}" */
static const struct trig_piece msg_pieces[] = {
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_HEADER, .text = "header.X-Ts", .name = "X-Ts" } },
	{ .kind = TRIG_PIECE_TEXT, .text = ".", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_QUERY, .text = "query.id", .name = "id" } },
	{ .kind = TRIG_PIECE_TEXT, .text = ".", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_FORM, .text = "form.f", .name = "f" } },
	{ .kind = TRIG_PIECE_TEXT, .text = ".", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_BODY, .text = "body" } },
};

START_TEST(custom_templates)
{
	static const char secret[] = "custom-secret";
	static const char body[] = "f=a%26b&g=2";
	struct trig_cond_hmac c = {
		.algorithm = TRIG_SHA512, .header = "X-Sig", .prefix = "sig=", .encoding = TRIG_ENC_BASE64,
		.message = { "{{ header.X-Ts }}.{{ query.id }}.{{ form.f }}.{{ body }}", msg_pieces, 7 },
	};
	/* The message as the template reads, built by hand. */
	static const char msg[] = "1714000000.42 x.a&b.f=a%26b&g=2";
	char *b64 = oracle_sig("sha512", secret, strlen(secret), msg, strlen(msg), true);
	char hv[200];
	snprintf(hv, sizeof(hv), "sig=%s", b64);
	struct hdr h[] = { { "X-Ts", "1714000000" }, { "X-Sig", hv } };
	struct trig_request r;
	char reason[REASON];
	int64_t ts;
	make_request(&r, "POST", "/c?id=42+x", h, 2, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), 0);
	ck_assert(ts == INT64_MIN);     /* a custom scheme has no timestamp of its own */
	trig_request_release(&r);
	/* Each part of the message counts. */
	make_request(&r, "POST", "/c?id=43+x", h, 2, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "signature mismatch");
	trig_request_release(&r);
	h[0].value = "1714000001";
	make_request(&r, "POST", "/c?id=42+x", h, 2, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	trig_request_release(&r);
	h[0].value = "1714000000";
	make_request(&r, "POST", "/c?id=42+x", h, 2, "f=a%26b&g=3", 11);
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	trig_request_release(&r);
	/* URL-safe base64 without padding is the same signature here. */
	char url[200] = "sig=";
	for (const char *p = b64; *p && *p != '='; p++) {
		size_t n = strlen(url);
		url[n] = *p == '+' ? '-' : *p == '/' ? '_' : *p;
		url[n + 1] = 0;
	}
	ck_assert_ptr_nonnull(strpbrk(url, "-_"));
	h[1].value = url;
	make_request(&r, "POST", "/c?id=42+x", h, 2, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), 0);
	trig_request_release(&r);
	/* Without the prefix; without the header. */
	h[1].value = b64;
	make_request(&r, "POST", "/c?id=42+x", h, 2, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "malformed 'X-Sig' header");
	trig_request_release(&r);
	make_request(&r, "POST", "/c?id=42+x", h, 1, body, strlen(body));
	ck_assert_int_eq(verify(&c, secret, &r, &ts, reason), -1);
	ck_assert_str_eq(reason, "no 'X-Sig' header");
	trig_request_release(&r);
	free(b64);

	/* An empty template is an empty message, not the body. */
	struct trig_cond_hmac e = { .algorithm = TRIG_SHA256, .header = "X-Sig", .message = { "", NULL, 0 } };
	char *empty = oracle_sig("sha256", secret, strlen(secret), "", 0, false);
	h[1].value = empty;
	make_request(&r, "POST", "/c", h, 2, body, strlen(body));
	ck_assert_int_eq(verify(&e, secret, &r, &ts, reason), 0);
	e.message.source = NULL;
	ck_assert_int_eq(verify(&e, secret, &r, &ts, reason), -1);
	trig_request_release(&r);
	free(empty);
}
END_TEST

START_TEST(custom_algorithms)
{
	static const char body[] = "{\"event\":\"model.trained\",\"accuracy\":0.98}";
	static const struct {
		enum trig_hmac_alg alg;
		const char *name;
		enum trig_encoding enc;
	} cases[] = {
		{ TRIG_SHA1, "sha1", TRIG_ENC_HEX }, { TRIG_SHA1, "sha1", TRIG_ENC_BASE64 },
		{ TRIG_SHA256, "sha256", TRIG_ENC_HEX }, { TRIG_SHA256, "sha256", TRIG_ENC_BASE64 },
		{ TRIG_SHA512, "sha512", TRIG_ENC_HEX }, { TRIG_SHA512, "sha512", TRIG_ENC_BASE64 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool b64 = cases[i].enc == TRIG_ENC_BASE64;
		struct trig_cond_hmac c = { .algorithm = cases[i].alg, .header = "X-Signature",
					    .encoding = cases[i].enc };
		char *sig = oracle_sig(cases[i].name, "k", 1, body, strlen(body), b64);
		struct hdr h[] = { { "x-signature", sig } };
		struct trig_request r;
		char reason[REASON];
		int64_t ts;
		make_request(&r, "POST", "/c", h, 1, body, strlen(body));
		ck_assert_msg(verify(&c, "k", &r, &ts, reason) == 0, "%s: %s", cases[i].name, reason);
		/* The same MAC by another algorithm's reckoning is refused. */
		c.algorithm = (enum trig_hmac_alg)((cases[i].alg + 1) % 3);
		ck_assert_int_eq(verify(&c, "k", &r, &ts, reason), -1);
		ck_assert_str_eq(reason, "malformed 'X-Signature' header");
		trig_request_release(&r);
		free(sig);
	}
}
END_TEST

START_TEST(secret_encodings)
{
	/* The key: the bytes 00 ff 10 'A' 7f. */
	static const char key[] = "\x00\xff\x10\x41\x7f";
	static const char body[] = "payload";
	char *sig = oracle_sig("sha256", key, 5, body, 7, false);
	struct hdr h[] = { { "X-Sig", sig } };
	struct trig_request r;
	char reason[REASON];
	int64_t ts;
	make_request(&r, "POST", "/c", h, 1, body, 7);
	static const struct { enum trig_encoding enc; const char *secret; } good[] = {
		{ TRIG_ENC_HEX, "00ff10417f" }, { TRIG_ENC_HEX, "00FF10417F" },
		{ TRIG_ENC_HEX, "whsec_00ff10417f" }, { TRIG_ENC_BASE64, "AP8QQX8=" },
		{ TRIG_ENC_BASE64, "AP8QQX8" }, { TRIG_ENC_BASE64, "whsec_AP8QQX8=" },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct trig_cond_hmac c = { .algorithm = TRIG_SHA256, .header = "X-Sig",
					    .secret_encoding = good[i].enc };
		ck_assert_msg(verify(&c, good[i].secret, &r, &ts, reason) == 0, "%s: %s",
			      good[i].secret, reason);
	}
	trig_request_release(&r);

	/* raw keeps a "whsec_" prefix: the key is the whole string. */
	static const char raw[] = "whsec_plain";
	char *rawsig = oracle_sig("sha256", raw, strlen(raw), body, 7, false);
	h[0].value = rawsig;
	make_request(&r, "POST", "/c", h, 1, body, 7);
	struct trig_cond_hmac c = { .algorithm = TRIG_SHA256, .header = "X-Sig" };
	ck_assert_int_eq(verify(&c, raw, &r, &ts, reason), 0);
	ck_assert_int_eq(verify(&c, raw + 6, &r, &ts, reason), -1);
	trig_request_release(&r);

	/* Secrets that cannot be decoded: refused with a message that does
	 * not quote them. */
	static const struct { enum trig_encoding enc; const char *secret; const char *err; } bad[] = {
		{ TRIG_ENC_HEX, "00ff1", "the secret is not valid hex (secret-encoding: hex)" },
		{ TRIG_ENC_HEX, "00fg", "the secret is not valid hex (secret-encoding: hex)" },
		{ TRIG_ENC_HEX, "whsec_", "the secret is empty" },
		{ TRIG_ENC_BASE64, "AP8QQX8==", "the secret is not valid base64 (secret-encoding: base64)" },
		{ TRIG_ENC_BASE64, "AP8*QX8=", "the secret is not valid base64 (secret-encoding: base64)" },
		{ TRIG_ENC_BASE64, "", "the secret is empty" },
		{ TRIG_ENC_RAW, "", "the secret is empty" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct trig_cond_hmac b = { .algorithm = TRIG_SHA256, .header = "X-Sig",
					    .secret_encoding = bad[i].enc };
		struct buf k = BUF_INIT;
		char err[200] = "";
		buf_adds(&k, "old key");
		ck_assert_int_eq(trig_hmac_key(&b, bad[i].secret, strlen(bad[i].secret), &k, err,
					       sizeof(err)), -1);
		ck_assert_str_eq(err, bad[i].err);
		ck_assert_str_eq(k.data, "old key");    /* untouched on failure */
		buf_release(&k);
	}
	/* A key replaces what the buffer held. */
	struct buf k = BUF_INIT;
	char err[200];
	buf_adds(&k, "a much longer old key than the new one");
	struct trig_cond_hmac hx = { .secret_encoding = TRIG_ENC_HEX };
	ck_assert_int_eq(trig_hmac_key(&hx, "00ff10417f", 10, &k, err, sizeof(err)), 0);
	ck_assert_uint_eq(k.len, 5);
	ck_assert_mem_eq(k.data, key, 5);
	trig_secret_release(&k);
	/* No key: nothing passes. */
	make_request(&r, "POST", "/c", h, 1, body, 7);
	ck_assert_int_eq(trig_hmac_verify(&c, "", 0, &r, &ts, reason, sizeof(reason)), -1);
	trig_request_release(&r);
	free(sig);
	free(rawsig);
}
END_TEST

static Suite *hmac_suite(void)
{
	Suite *s = suite_create("hmac");
	TCase *tc = tcase_create("hmac");
	tcase_add_test(tc, published_vectors);
	tcase_add_test(tc, github_real_payload);
	tcase_add_test(tc, stripe);
	tcase_add_test(tc, standard_webhooks);
	tcase_add_test(tc, shopify);
	tcase_add_test(tc, gitlab);
	tcase_add_test(tc, twilio_urls);
	tcase_add_test(tc, twilio_bodies);
	tcase_add_test(tc, custom_templates);
	tcase_add_test(tc, custom_algorithms);
	tcase_add_test(tc, secret_encodings);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(hmac_suite)
