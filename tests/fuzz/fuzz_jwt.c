/*
 * fuzz_jwt.c — libFuzzer target for JWT verification (runtime/jwt.h).
 *
 * The first byte of an input says what the rest is:
 *   0, 1  a token, verified against a fixed HMAC secret (HS256/384/512
 *         pinned) and a fixed RSA public key (RS* and PS* pinned; the key
 *         pair is generated once, in the process), with an issuer, an
 *         audience, claims and a leeway in the condition;
 *   2     key material (PEM, JWKS or secret) for trig_jwt_keys_new() with
 *         every algorithm pinned; when it is accepted, a few fixed tokens
 *         are verified against it;
 *   3     a header and a payload, split at the first newline, signed here
 *         with the HMAC secret and verified, so that the header and claim
 *         checks see input that passes the signature.
 * Rules: a verification returns 0 or -1; a failure gives a non-empty
 * printable reason and leaves the claims buffer alone; a success appends
 * exactly the signed payload, which is a JSON object.  Any broken rule
 * aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base64.h"
#include "buf.h"
#include "json.h"
#include "jwt.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_jwt: %s:%d: '%s' failed\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

#define NOW 1700000000000LL

/* The HMAC secret of the seeds in tests/fuzz/corpus/jwt/. */
static const char secret[] = "fuzz-jwt-secret-0123456789abcdef0123456789abcdef0123456789abcdef";

static const char *const audience[] = { "api", "other" };
static const struct trig_binding claims[] = {
	{ "team", { "ml", NULL, 0 } },
	{ "n", { "42", NULL, 0 } },
};
static struct trig_cond_jwt hs_cond = {
	.algorithms = TRIG_HS256 | TRIG_HS384 | TRIG_HS512,
	.key = { TRIG_SECRET_ENV, "FUZZ" },
	.issuer = "https://issuer.example",
	.audience = audience,
	.naudience = 2,
	.leeway_ms = 30000,
	.claims = claims,
	.nclaims = 2,
};
static struct trig_cond_jwt rsa_cond = {
	.algorithms = TRIG_RS256 | TRIG_RS384 | TRIG_RS512 | TRIG_PS256 | TRIG_PS384 | TRIG_PS512,
	.key = { TRIG_SECRET_FILE, "rsa.pem" },
};
static struct trig_cond_jwt any_cond = {
	.algorithms = TRIG_HS256 | TRIG_HS384 | TRIG_HS512 | TRIG_RS256 | TRIG_RS384 | TRIG_RS512 |
		      TRIG_PS256 | TRIG_PS384 | TRIG_PS512 | TRIG_ES256 | TRIG_ES384 | TRIG_EDDSA,
	.key = { TRIG_SECRET_FILE, "fuzzed" },
};
static struct trig_jwt_keys *hs_keys, *rsa_keys;

/* Tokens tried against fuzzed keys: every algorithm's header, one kid. */
static const char *const probes[] = {
	"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJleHAiOjE3MDAwMDAwMDB9.AAAA",
	"eyJhbGciOiJQUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.AAAA",
	("eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),        /* 64 zero bytes */
	"eyJhbGciOiJFUzM4NCJ9.eyJleHAiOjE3MDAwMDAwMDB9.AAAA",
	"eyJhbGciOiJFZERTQSJ9.eyJleHAiOjE3MDAwMDAwMDB9.AAAA",
};

static void setup(void)
{
	char err[256] = "";
	trig_log_setup("fuzz_jwt", TRIG_LOG_ERROR, false);     /* JWKs skipped: not news */
	hs_keys = trig_jwt_keys_new(&hs_cond, secret, strlen(secret), err, sizeof(err));
	REQUIRE(hs_keys != NULL);
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	REQUIRE(pkey != NULL);
	BIO *bio = BIO_new(BIO_s_mem());
	REQUIRE(bio && PEM_write_bio_PUBKEY(bio, pkey) == 1);
	char *pem;
	long n = BIO_get_mem_data(bio, &pem);
	rsa_keys = trig_jwt_keys_new(&rsa_cond, pem, (size_t)n, err, sizeof(err));
	REQUIRE(rsa_keys != NULL);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
}

static void check(struct trig_jwt_keys *k, const struct trig_cond_jwt *c, const char *token,
		  size_t len, const char *payload, size_t plen)
{
	struct buf out = BUF_INIT;
	char reason[128];
	buf_adds(&out, "@");
	memset(reason, 0, sizeof(reason));
	int r = trig_jwt_verify(k, c, token, len, NOW, &out, reason, sizeof(reason));
	REQUIRE(r == 0 || r == -1);
	if (r < 0) {
		REQUIRE(out.len == 1 && reason[0] != 0);
		for (const char *p = reason; *p; p++)
			REQUIRE(*p >= 0x20 && *p < 0x7f);
	} else {
		REQUIRE(out.len > 1 && out.data[1] == '{');
		REQUIRE(trig_json_validate(out.data + 1, out.len - 1, NULL) == 0);
		if (payload)
			REQUIRE(out.len - 1 == plen && memcmp(out.data + 1, payload, plen) == 0);
	}
	buf_release(&out);
}

/* Unpadded base64url of p[0..n), appended to b. */
static void b64u(struct buf *b, const void *p, size_t n)
{
	struct buf t = BUF_INIT;
	trig_base64_encode(&t, p, n);
	for (size_t i = 0; i < t.len && t.data[i] != '='; i++)
		buf_addc(b, t.data[i] == '+' ? '-' : t.data[i] == '/' ? '_' : t.data[i]);
	buf_release(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!hs_keys)
		setup();
	if (size == 0)
		return 0;
	const char *rest = (const char *)data + 1;
	size_t n = size - 1;

	switch (data[0] & 3) {
	case 0:
	case 1:
		check(hs_keys, &hs_cond, rest, n, NULL, 0);
		check(rsa_keys, &rsa_cond, rest, n, NULL, 0);
		break;
	case 2: {
		char err[256] = "";
		struct trig_jwt_keys *k = trig_jwt_keys_new(&any_cond, rest, n, err, sizeof(err));
		REQUIRE(k != NULL || err[0] != 0);
		for (size_t i = 0; k && i < sizeof(probes) / sizeof(probes[0]); i++)
			check(k, &any_cond, probes[i], strlen(probes[i]), NULL, 0);
		trig_jwt_keys_free(k);
		break;
	}
	case 3: {
		const char *nl = memchr(rest, '\n', n);
		size_t hlen = nl ? (size_t)(nl - rest) : n;
		const char *payload = nl ? nl + 1 : "";
		size_t plen = nl ? n - hlen - 1 : 0;
		struct buf t = BUF_INIT;
		uint8_t mac[64];
		size_t maclen = 0;
		b64u(&t, rest, hlen);
		buf_addc(&t, '.');
		b64u(&t, payload, plen);
		REQUIRE(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, strlen(secret),
				  (const unsigned char *)t.data, t.len, mac, sizeof(mac),
				  &maclen) != NULL);
		buf_addc(&t, '.');
		b64u(&t, mac, maclen);
		check(hs_keys, &hs_cond, t.data, t.len, payload, plen);
		buf_release(&t);
		break;
	}
	}
	return 0;
}
