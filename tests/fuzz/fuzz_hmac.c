/*
 * fuzz_hmac.c — libFuzzer target for webhook signatures (runtime/hmac.h).
 *
 * The input is parsed as an HTTP request (trig_request_parse); every
 * preset, and two custom conditions (one over the body, one over a
 * message template), then verify it with fixed keys: those of the shared
 * test vectors, so that the seed corpus (tests/fuzz/corpus/hmac/, signed
 * requests) starts from requests that pass.
 *
 * Rules checked (a broken one aborts): a verification returns 0 or -1; a
 * refusal has a reason and no timestamp; a pass has an empty reason
 * and a timestamp exactly for the schemes that sign one; and for github,
 * shopify and gitlab the verdict is the one an independent oracle (HMAC()
 * over the body, compared as text) reaches.  An input that is not a
 * request is verified as the body of a fixed POST.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "buf.h"
#include "hmac.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_hmac: %s:%d: '%s' failed\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

/* "{{ header.X-Ts }}:{{ query.id }}:{{ form.f }}:{{ body }}" */
static const struct trig_piece msg_pieces[] = {
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_HEADER, .name = "X-Ts" } },
	{ .kind = TRIG_PIECE_TEXT, .text = ":", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_QUERY, .name = "id" } },
	{ .kind = TRIG_PIECE_TEXT, .text = ":", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_FORM, .name = "f" } },
	{ .kind = TRIG_PIECE_TEXT, .text = ":", .len = 1 },
	{ .kind = TRIG_PIECE_FIELD, .field = { .root = TRIG_ROOT_BODY } },
};

static const struct {
	struct trig_cond_hmac c;
	const char *secret;
} conds[] = {
	{ { .preset = TRIG_PRESET_GITHUB }, "It's a Secret to Everybody" },
	{ { .preset = TRIG_PRESET_GITLAB }, "gitlab-token" },
	{ { .preset = TRIG_PRESET_SLACK }, "8f742231b10e8888abcd99yyyzzz85a5" },
	{ { .preset = TRIG_PRESET_STRIPE }, "whsec_stripe_fuzz" },
	{ { .preset = TRIG_PRESET_STANDARD_WEBHOOKS }, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
	{ { .preset = TRIG_PRESET_SHOPIFY }, "shopify-secret" },
	{ { .preset = TRIG_PRESET_TWILIO }, "12345" },
	{ { .algorithm = TRIG_SHA1, .header = "X-Sig", .prefix = "sha1=",
	    .secret_encoding = TRIG_ENC_HEX }, "6b6579" },
	{ { .algorithm = TRIG_SHA512, .header = "X-Sig512", .encoding = TRIG_ENC_BASE64,
	    .secret_encoding = TRIG_ENC_BASE64,
	    .message = { "{{ header.X-Ts }}:{{ query.id }}:{{ form.f }}:{{ body }}", msg_pieces, 7 } },
	  "whsec_a2V5" },
};
enum { NCONDS = sizeof(conds) / sizeof(conds[0]) };

static struct buf keys[NCONDS];

/* What github, shopify and gitlab must decide, worked out apart. */
static int oracle(enum trig_hmac_preset p, const struct buf *key, const struct trig_request *r)
{
	static const char *const names[] = {
		[TRIG_PRESET_GITHUB] = "X-Hub-Signature-256", [TRIG_PRESET_SHOPIFY] = "X-Shopify-Hmac-Sha256",
		[TRIG_PRESET_GITLAB] = "X-Gitlab-Token",
	};
	size_t len;
	const char *v = trig_request_header(r, names[p], &len);
	if (!v)
		return -1;
	if (p == TRIG_PRESET_GITLAB)
		return len == key->len && memcmp(v, key->data, len) == 0 ? 0 : -1;
	uint8_t mac[32];
	unsigned maclen = 0;
	REQUIRE(HMAC(EVP_sha256(), key->data, (int)key->len, (const uint8_t *)r->body, r->body_len,
		     mac, &maclen) != NULL && maclen == 32);
	struct buf want = BUF_INIT;
	int rv = -1;
	if (p == TRIG_PRESET_GITHUB) {
		buf_adds(&want, "sha256=");
		for (int i = 0; i < 32; i++)
			buf_printf(&want, "%02x", mac[i]);
		rv = len == want.len && memcmp(v, want.data, 7) == 0 &&
		     strncasecmp(v + 7, want.data + 7, len - 7) == 0 ? 0 : -1;
	} else {
		trig_base64_encode(&want, mac, 32);     /* 44 characters, one '=' */
		rv = (len == 44 || len == 43) && memcmp(v, want.data, len) == 0 ? 0 : -1;
	}
	buf_release(&want);
	return rv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!keys[0].data)
		for (int i = 0; i < NCONDS; i++) {
			char err[128];
			REQUIRE(trig_hmac_key(&conds[i].c, conds[i].secret, strlen(conds[i].secret),
					      &keys[i], err, sizeof(err)) == 0);
		}

	struct trig_request r;
	char err[128];
	trig_request_init(&r);
	if (trig_request_parse(&r, (const char *)data, size, err, sizeof(err)) != 0) {
		trig_request_release(&r);
		trig_request_init(&r);
		REQUIRE(trig_request_set_target(&r, "POST", "/hook?id=1") == 0);
		trig_request_add_header(&r, "Host", 4, "example.com", 11);
		trig_request_set_body(&r, (const char *)data, size);
	}
	for (int i = 0; i < NCONDS; i++) {
		const struct trig_cond_hmac *c = &conds[i].c;
		char reason[64];
		int64_t ts = 42;
		memset(reason, 'x', sizeof(reason));
		int rv = trig_hmac_verify(c, keys[i].data, keys[i].len, &r, &ts, reason, sizeof(reason));
		REQUIRE(rv == 0 || rv == -1);
		REQUIRE(memchr(reason, 0, sizeof(reason)) != NULL);
		if (rv) {
			REQUIRE(reason[0] != 0 && ts == INT64_MIN);
		} else {
			bool timed = c->preset == TRIG_PRESET_SLACK || c->preset == TRIG_PRESET_STRIPE ||
				     c->preset == TRIG_PRESET_STANDARD_WEBHOOKS;
			REQUIRE(reason[0] == 0);
			REQUIRE(timed ? ts >= 0 : ts == INT64_MIN);
		}
		if (c->preset == TRIG_PRESET_GITHUB || c->preset == TRIG_PRESET_SHOPIFY ||
		    c->preset == TRIG_PRESET_GITLAB)
			REQUIRE(rv == oracle(c->preset, &keys[i], &r));
	}
	trig_request_release(&r);
	return 0;
}
