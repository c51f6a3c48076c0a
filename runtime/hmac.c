/*
 * hmac.c — webhook signatures: HMAC with OpenSSL's EVP_MAC, comparisons
 * with CRYPTO_memcmp.  hmac.h says what each preset checks.
 */
#include "hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "render.h"
#include "secret.h"

#define WHSEC "whsec_"
#define WHSEC_LEN 6

/* Room for a received signature once decoded: any MAC, and base64's
 * slack (trig_base64_decode writes up to n * 3 / 4 + 3 bytes). */
enum { SIG_MAX = EVP_MAX_MD_SIZE + 8 };

/* How a received signature compares: the best of several wins. */
enum { SIG_NONE = -2, SIG_MALFORMED = -1, SIG_MISMATCH = 0, SIG_MATCH = 1 };

/* One piece of a signed message. */
struct part {
	const void *p;
	size_t n;
};

/* What one verification works with. */
struct check {
	const void *key;
	size_t keylen;
	struct trig_request *r;
	int64_t ts;             /* the signed timestamp; INT64_MIN when none */
	char *reason;
	size_t reasonlen;
};

__attribute__((format(printf, 2, 3)))
static int refuse(struct check *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->reason, k->reasonlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A Unix time in seconds written as 1 to 18 decimal digits. */
static bool unix_time(const char *s, size_t n, int64_t *out)
{
	if (n == 0 || n > 18)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* ------------------------------------------------------------ MACs */

static EVP_MAC *hmac_impl;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_fetch(void)
{
	hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static const char *digest_name(enum trig_hmac_alg alg)
{
	switch (alg) {
	case TRIG_SHA1:
		return "SHA1";
	case TRIG_SHA256:
		return "SHA256";
	case TRIG_SHA512:
		return "SHA512";
	}
	return NULL;
}

/* The HMAC of the parts, one after another, into out; its length, or 0
 * when it cannot be computed (an unknown algorithm, OpenSSL failing). */
static size_t mac(const struct check *k, enum trig_hmac_alg alg, const struct part *parts,
		  size_t nparts, uint8_t out[EVP_MAX_MD_SIZE])
{
	const char *digest = digest_name(alg);
	pthread_once(&hmac_once, hmac_fetch);
	if (!hmac_impl || !digest)
		return 0;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_impl);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_end(),
	};
	size_t len = 0;
	bool ok = ctx && EVP_MAC_init(ctx, k->key, k->keylen, params);
	for (size_t i = 0; ok && i < nparts; i++)
		if (parts[i].n)
			ok = EVP_MAC_update(ctx, parts[i].p, parts[i].n);
	ok = ok && EVP_MAC_final(ctx, out, &len, EVP_MAX_MD_SIZE);
	EVP_MAC_CTX_free(ctx);
	return ok ? len : 0;
}

/* How the received signature s[0..n), encoded as ENC (base64 in the
 * given alphabets), compares with WANT. */
static int sig_compare(const uint8_t *want, size_t wantlen, const char *s, size_t n,
		       enum trig_encoding enc, unsigned alphabets)
{
	uint8_t got[SIG_MAX];
	long len = -1;
	if (enc == TRIG_ENC_BASE64) {
		if (n <= (EVP_MAX_MD_SIZE + 2) / 3 * 4)
			len = trig_base64_decode(s, n, alphabets, got);
	} else if (n <= 2 * EVP_MAX_MD_SIZE) {
		len = trig_hex_decode(s, n, got);
	}
	if (len < 0 || (size_t)len != wantlen)
		return SIG_MALFORMED;
	return CRYPTO_memcmp(want, got, wantlen) == 0 ? SIG_MATCH : SIG_MISMATCH;
}

/* The outcome of comparing the signatures of header NAME. */
static int verdict(struct check *k, int best, const char *name)
{
	switch (best) {
	case SIG_MATCH:
		return 0;
	case SIG_MISMATCH:
		return refuse(k, "signature mismatch");
	default:
		return refuse(k, "malformed '%s' header", name);
	}
}

static const char *need_header(struct check *k, const char *name, size_t *len)
{
	const char *v = trig_request_header(k->r, name, len);
	if (!v)
		refuse(k, "no '%s' header", name);
	return v;
}

/* The one signature in header NAME, after PREFIX, over the parts. */
static int one_signature(struct check *k, const char *name, const char *prefix,
			 enum trig_encoding enc, unsigned alphabets, enum trig_hmac_alg alg,
			 const struct part *parts, size_t nparts)
{
	size_t len, plen = prefix ? strlen(prefix) : 0;
	const char *v = need_header(k, name, &len);
	if (!v)
		return -1;
	if (len < plen || (plen && memcmp(v, prefix, plen) != 0))
		return refuse(k, "malformed '%s' header", name);
	uint8_t want[EVP_MAX_MD_SIZE];
	size_t wantlen = mac(k, alg, parts, nparts, want);
	if (!wantlen)
		return refuse(k, "cannot compute the signature");
	return verdict(k, sig_compare(want, wantlen, v + plen, len - plen, enc, alphabets), name);
}

/* The next item of s[0..n) separated by SEP, from *pos; false at the end. */
static bool next_item(const char *s, size_t n, char sep, size_t *pos, const char **item,
		      size_t *ilen)
{
	if (*pos > n)
		return false;
	const char *p = s + *pos, *e = memchr(p, sep, n - *pos);
	*ilen = e ? (size_t)(e - p) : n - *pos;
	*item = p;
	*pos += *ilen + 1;
	return true;
}

static struct part body_part(const struct trig_request *r)
{
	return (struct part){ r->body, r->body_len };
}

/* ------------------------------------------------------------ presets */

static int verify_github(struct check *k)
{
	struct part body = body_part(k->r);
	return one_signature(k, "X-Hub-Signature-256", "sha256=", TRIG_ENC_HEX, 0, TRIG_SHA256,
			     &body, 1);
}

static int verify_shopify(struct check *k)
{
	struct part body = body_part(k->r);
	return one_signature(k, "X-Shopify-Hmac-Sha256", NULL, TRIG_ENC_BASE64, TRIG_B64_STD,
			     TRIG_SHA256, &body, 1);
}

/* A static token: SHA-256 of both sides compared, so that neither the
 * contents nor the length of the secret shows in the time taken. */
static int verify_gitlab(struct check *k)
{
	static const char name[] = "X-Gitlab-Token";
	size_t len;
	const char *v = need_header(k, name, &len);
	if (!v)
		return -1;
	uint8_t a[32], b[32];
	if (!EVP_Digest(v, len, a, NULL, EVP_sha256(), NULL) ||
	    !EVP_Digest(k->key, k->keylen, b, NULL, EVP_sha256(), NULL))
		return refuse(k, "cannot compute the digest");
	return CRYPTO_memcmp(a, b, sizeof(a)) == 0 ? 0 : refuse(k, "token mismatch");
}

static int verify_slack(struct check *k)
{
	static const char name[] = "X-Slack-Request-Timestamp";
	size_t len;
	const char *ts = need_header(k, name, &len);
	int64_t t;
	if (!ts)
		return -1;
	if (!unix_time(ts, len, &t))
		return refuse(k, "malformed '%s' header", name);
	const struct part parts[] = { { "v0:", 3 }, { ts, len }, { ":", 1 }, body_part(k->r) };
	if (one_signature(k, "X-Slack-Signature", "v0=", TRIG_ENC_HEX, 0, TRIG_SHA256, parts, 4))
		return -1;
	k->ts = t;
	return 0;
}

static int verify_stripe(struct check *k)
{
	static const char name[] = "Stripe-Signature";
	size_t len, pos = 0, n, tslen = 0;
	const char *v = need_header(k, name, &len), *item, *ts = NULL;
	int64_t t;
	if (!v)
		return -1;
	/* The timestamp first: every v1 signature covers it. */
	while (next_item(v, len, ',', &pos, &item, &n))
		if (n >= 2 && item[0] == 't' && item[1] == '=') {
			if (ts)
				return refuse(k, "malformed '%s' header", name);
			ts = item + 2;
			tslen = n - 2;
		}
	if (!ts || !unix_time(ts, tslen, &t))
		return refuse(k, "malformed '%s' header", name);
	const struct part parts[] = { { ts, tslen }, { ".", 1 }, body_part(k->r) };
	uint8_t want[EVP_MAX_MD_SIZE];
	size_t wantlen = mac(k, TRIG_SHA256, parts, 3, want);
	if (!wantlen)
		return refuse(k, "cannot compute the signature");
	int best = SIG_NONE;
	for (pos = 0; next_item(v, len, ',', &pos, &item, &n);) {
		if (n < 3 || memcmp(item, "v1=", 3) != 0)
			continue;
		int s = sig_compare(want, wantlen, item + 3, n - 3, TRIG_ENC_HEX, 0);
		best = s > best ? s : best;
	}
	if (best == SIG_NONE)
		return refuse(k, "no v1 signature in the '%s' header", name);
	if (verdict(k, best, name))
		return -1;
	k->ts = t;
	return 0;
}

static int verify_standard_webhooks(struct check *k)
{
	/* The standard's headers, or Svix's own names for the same. */
	static const char *const names[2][3] = {
		{ "webhook-id", "webhook-timestamp", "webhook-signature" },
		{ "svix-id", "svix-timestamp", "svix-signature" },
	};
	size_t idlen, tslen, len, pos = 0, n;
	const char *id, *ts, *v, *item;
	int fam = !trig_request_header(k->r, names[0][0], &idlen) &&
		  trig_request_header(k->r, names[1][0], &idlen);
	int64_t t;
	if (!(id = need_header(k, names[fam][0], &idlen)) ||
	    !(ts = need_header(k, names[fam][1], &tslen)) ||
	    !(v = need_header(k, names[fam][2], &len)))
		return -1;
	if (!unix_time(ts, tslen, &t))
		return refuse(k, "malformed '%s' header", names[fam][1]);
	const struct part parts[] = {
		{ id, idlen }, { ".", 1 }, { ts, tslen }, { ".", 1 }, body_part(k->r),
	};
	uint8_t want[EVP_MAX_MD_SIZE];
	size_t wantlen = mac(k, TRIG_SHA256, parts, 5, want);
	if (!wantlen)
		return refuse(k, "cannot compute the signature");
	/* "v1,SIG v1,SIG ...": entries of other versions are not ours. */
	int best = SIG_NONE;
	while (next_item(v, len, ' ', &pos, &item, &n)) {
		if (n < 3 || memcmp(item, "v1,", 3) != 0)
			continue;
		int s = sig_compare(want, wantlen, item + 3, n - 3, TRIG_ENC_BASE64, TRIG_B64_STD);
		best = s > best ? s : best;
	}
	if (best == SIG_NONE)
		return refuse(k, "no v1 signature in the '%s' header", names[fam][2]);
	if (verdict(k, best, names[fam][2]))
		return -1;
	k->ts = t;
	return 0;
}

/* The first entry of a comma-separated header such as X-Forwarded-Host. */
static const char *first_entry(const struct trig_request *r, const char *name, size_t *len)
{
	const char *v = trig_request_header(r, name, len);
	if (v) {
		const char *comma = memchr(v, ',', *len);
		size_t n = comma ? (size_t)(comma - v) : *len;
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		*len = n;
	}
	return v;
}

/* Where the ":PORT" that ends HOST[0..N) begins (a port follows the
 * brackets of an IPv6 address), or N when there is none. */
static size_t port_start(const char *host, size_t n)
{
	size_t i = n;
	while (i && host[i - 1] >= '0' && host[i - 1] <= '9')
		i--;
	return i < n && i && host[i - 1] == ':' ? i - 1 : n;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct trig_pair *x = *(const struct trig_pair *const *)a;
	const struct trig_pair *y = *(const struct trig_pair *const *)b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);
	if (c || x->name_len != y->name_len)
		return c ? c : x->name_len < y->name_len ? -1 : 1;
	n = x->value_len < y->value_len ? x->value_len : y->value_len;
	c = memcmp(x->value, y->value, n);
	if (c || x->value_len != y->value_len)
		return c ? c : x->value_len < y->value_len ? -1 : 1;
	return 0;
}

static bool is_form(const struct trig_request *r)
{
	static const char form[] = "application/x-www-form-urlencoded";
	size_t len, n = sizeof(form) - 1;
	const char *ct = trig_request_header(r, "Content-Type", &len);
	return strcmp(r->method, "POST") == 0 && ct && len >= n && strncasecmp(ct, form, n) == 0 &&
	       (len == n || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* The form fields sorted by name then value, each name then its value. */
static void twilio_params(struct trig_request *r, struct buf *out)
{
	const struct trig_pair **v = trig_xmalloc(r->form.n * sizeof(*v));
	for (size_t i = 0; i < r->form.n; i++)
		v[i] = &r->form.v[i];
	qsort(v, r->form.n, sizeof(*v), pair_cmp);
	for (size_t i = 0; i < r->form.n; i++) {
		buf_add(out, v[i]->name, v[i]->name_len);
		buf_add(out, v[i]->value, v[i]->value_len);
	}
	free(v);
}

/* A body that is not a form is signed through the URL's bodySHA256. */
static int twilio_body(struct check *k)
{
	static const char name[] = "bodySHA256";
	size_t len;
	const char *h = trig_request_query(k->r, name, &len);
	uint8_t d[32];
	if (!h)
		return refuse(k, "the body is not signed: no '%s' query parameter", name);
	if (!EVP_Digest(k->r->body, k->r->body_len, d, NULL, EVP_sha256(), NULL))
		return refuse(k, "cannot compute the digest");
	switch (sig_compare(d, sizeof(d), h, len, TRIG_ENC_HEX, 0)) {
	case SIG_MATCH:
		return 0;
	case SIG_MISMATCH:
		return refuse(k, "body hash mismatch");
	default:
		return refuse(k, "malformed '%s' query parameter", name);
	}
}

static int verify_twilio(struct check *k)
{
	static const char name[] = "X-Twilio-Signature";
	struct trig_request *r = k->r;
	size_t len, plen, hlen;
	const char *sig = need_header(k, name, &len);
	if (!sig)
		return -1;
	const char *proto = first_entry(r, "X-Forwarded-Proto", &plen);
	const char *host = first_entry(r, "X-Forwarded-Host", &hlen);
	if (!proto) {
		proto = "https";
		plen = 5;
	}
	if (!host && !(host = need_header(k, "Host", &hlen)))
		return -1;
	bool form = is_form(r);
	if (form && trig_request_form_parse(r) != 0)
		return refuse(k, "malformed form body");

	/* The URL as built, and again with its port toggled. */
	struct buf url = BUF_INIT, alt = BUF_INIT, params = BUF_INIT;
	size_t port = port_start(host, hlen);
	buf_add(&url, proto, plen);
	buf_adds(&url, "://");
	buf_add(&alt, url.data, url.len);
	buf_add(&url, host, hlen);
	buf_add(&alt, host, port);
	if (port == hlen)
		buf_adds(&alt, plen == 5 && strncasecmp(proto, "https", 5) == 0 ? ":443" : ":80");
	buf_adds(&url, r->target);
	buf_adds(&alt, r->target);
	if (form)
		twilio_params(r, &params);

	int best = SIG_MALFORMED;
	for (int i = 0; i < 2; i++) {
		const struct buf *u = i ? &alt : &url;
		const struct part parts[] = { { u->data, u->len }, { params.data, params.len } };
		uint8_t want[EVP_MAX_MD_SIZE];
		size_t wantlen = mac(k, TRIG_SHA1, parts, 2, want);
		if (!wantlen) {
			best = SIG_NONE;
			break;
		}
		int s = sig_compare(want, wantlen, sig, len, TRIG_ENC_BASE64, TRIG_B64_STD);
		best = s > best ? s : best;
	}
	buf_release(&url);
	buf_release(&alt);
	buf_release(&params);
	if (best == SIG_NONE)
		return refuse(k, "cannot compute the signature");
	if (verdict(k, best, name))
		return -1;
	return form || r->body_len == 0 ? 0 : twilio_body(k);
}

static int verify_custom(struct check *k, const struct trig_cond_hmac *c)
{
	if (!c->header)
		return refuse(k, "the condition names no signature header");
	enum trig_encoding enc = c->encoding == TRIG_ENC_BASE64 ? TRIG_ENC_BASE64 : TRIG_ENC_HEX;
	unsigned alphabets = TRIG_B64_STD | TRIG_B64_URL;
	if (!c->message.source && !c->message.npieces) {
		struct part body = body_part(k->r);
		return one_signature(k, c->header, c->prefix, enc, alphabets, c->algorithm, &body, 1);
	}
	struct trig_render_ctx rc = { .request = trig_request_field, .request_ctx = k->r };
	struct buf msg = BUF_INIT;
	trig_render(&c->message, &rc, TRIG_ESC_NONE, &msg);
	struct part m = { msg.data, msg.len };
	int rv = one_signature(k, c->header, c->prefix, enc, alphabets, c->algorithm, &m, 1);
	buf_release(&msg);
	return rv;
}

int trig_hmac_verify(const struct trig_cond_hmac *c, const void *key, size_t keylen,
		     struct trig_request *r, int64_t *timestamp_s, char *reason,
		     size_t reasonlen)
{
	struct check k = { key, keylen, r, INT64_MIN, reason, reasonlen };
	int rv;
	*timestamp_s = INT64_MIN;
	if (reasonlen)
		reason[0] = 0;
	if (keylen == 0)
		return refuse(&k, "no key");
	switch (c->preset) {
	case TRIG_PRESET_GITHUB:
		rv = verify_github(&k);
		break;
	case TRIG_PRESET_GITLAB:
		rv = verify_gitlab(&k);
		break;
	case TRIG_PRESET_SLACK:
		rv = verify_slack(&k);
		break;
	case TRIG_PRESET_STRIPE:
		rv = verify_stripe(&k);
		break;
	case TRIG_PRESET_STANDARD_WEBHOOKS:
		rv = verify_standard_webhooks(&k);
		break;
	case TRIG_PRESET_SHOPIFY:
		rv = verify_shopify(&k);
		break;
	case TRIG_PRESET_TWILIO:
		rv = verify_twilio(&k);
		break;
	default:
		rv = verify_custom(&k, c);
		break;
	}
	if (rv == 0)
		*timestamp_s = k.ts;
	return rv;
}

/* ------------------------------------------------------------ keys */

int trig_hmac_key(const struct trig_cond_hmac *c, const char *secret, size_t len,
		  struct buf *key, char *err, size_t errlen)
{
	static const char *const enc_names[] = {
		[TRIG_ENC_RAW] = "raw", [TRIG_ENC_HEX] = "hex", [TRIG_ENC_BASE64] = "base64",
	};
	enum trig_encoding enc = c->secret_encoding;
	if (c->preset == TRIG_PRESET_STRIPE)
		enc = TRIG_ENC_RAW;
	else if (c->preset == TRIG_PRESET_STANDARD_WEBHOOKS)
		enc = TRIG_ENC_BASE64;
	if (enc != TRIG_ENC_RAW && len >= WHSEC_LEN && memcmp(secret, WHSEC, WHSEC_LEN) == 0) {
		secret += WHSEC_LEN;
		len -= WHSEC_LEN;
	}
	struct buf k = BUF_INIT;
	buf_grow(&k, len + 3);
	long n;
	switch (enc) {
	case TRIG_ENC_HEX:
		n = trig_hex_decode(secret, len, (uint8_t *)k.data);
		break;
	case TRIG_ENC_BASE64:
		n = trig_base64_decode(secret, len, TRIG_B64_STD | TRIG_B64_URL, (uint8_t *)k.data);
		break;
	default:
		if (len)
			memcpy(k.data, secret, len);
		n = (long)len;
		break;
	}
	if (n <= 0) {
		trig_secret_release(&k);
		if (n == 0)
			snprintf(err, errlen, "the secret is empty");
		else
			snprintf(err, errlen, "the secret is not valid %s%s", enc_names[enc],
				 c->preset == TRIG_PRESET_STANDARD_WEBHOOKS
					 ? " (standard-webhooks secrets are base64, after 'whsec_')"
					 : enc == TRIG_ENC_HEX ? " (secret-encoding: hex)"
							       : " (secret-encoding: base64)");
		return -1;
	}
	k.len = (size_t)n;
	k.data[k.len] = 0;
	trig_secret_release(key);
	*key = k;
	return 0;
}
