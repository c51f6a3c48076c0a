/*
 * jwt.c — JWT verification (jwt.h): key material (PEM, JWKS, HMAC secrets)
 * turned into OpenSSL keys, the JWKS cache and its fetches (libcurl), and
 * the checks of one token: structure, header, key, signature, claims.
 *
 * A struct keyset is an immutable list of keys.  The keys of a JWKS URL
 * are replaced as a whole when fetched again: a verification holds a
 * reference to the set it started with, so a fetch never frees keys in
 * use.  Sets that never change (PEM, JWKS file, HMAC secret) are read
 * without a lock.
 */
#include "jwt.h"

#include "base64.h"
#include "json.h"
#include "json_iter.h"
#include "log.h"

#include <curl/curl.h>
#include <math.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MIN_RSA_BITS    2048
#define MAX_RSA_BITS    8192            /* checking a key runs Miller-Rabin on n */
#define MAX_KID         256
#define CONNECT_MS      5000L
#define FETCH_MS        10000L

enum family { FAM_HS, FAM_RS, FAM_PS, FAM_ES, FAM_ED };

struct alg {
	const char *name;
	unsigned bit;
	enum family fam;
	const char *md;         /* digest; NULL for EdDSA */
	unsigned size;          /* HS: MAC bytes; ES: bytes of R and of S */
};

static const struct alg algs[] = {
	{ "HS256", TRIG_HS256, FAM_HS, "SHA256", 32 },
	{ "HS384", TRIG_HS384, FAM_HS, "SHA384", 48 },
	{ "HS512", TRIG_HS512, FAM_HS, "SHA512", 64 },
	{ "RS256", TRIG_RS256, FAM_RS, "SHA256", 0 },
	{ "RS384", TRIG_RS384, FAM_RS, "SHA384", 0 },
	{ "RS512", TRIG_RS512, FAM_RS, "SHA512", 0 },
	{ "PS256", TRIG_PS256, FAM_PS, "SHA256", 0 },
	{ "PS384", TRIG_PS384, FAM_PS, "SHA384", 0 },
	{ "PS512", TRIG_PS512, FAM_PS, "SHA512", 0 },
	{ "ES256", TRIG_ES256, FAM_ES, "SHA256", 32 },
	{ "ES384", TRIG_ES384, FAM_ES, "SHA384", 48 },
	{ "EdDSA", TRIG_EDDSA, FAM_ED, NULL, 0 },
};
#define NALGS (sizeof(algs) / sizeof(algs[0]))

#define HS_ALGS  (TRIG_HS256 | TRIG_HS384 | TRIG_HS512)
#define PS_ALGS  (TRIG_PS256 | TRIG_PS384 | TRIG_PS512)
#define RSA_ALGS (TRIG_RS256 | TRIG_RS384 | TRIG_RS512 | PS_ALGS)
#define ALL_ALGS (HS_ALGS | RSA_ALGS | TRIG_ES256 | TRIG_ES384 | TRIG_EDDSA)

struct jwk {
	char *kid;              /* NULL: none */
	size_t kidlen;
	unsigned algs;          /* what it verifies, among the pinned algorithms */
	EVP_PKEY *pkey;         /* NULL for an HMAC secret */
	uint8_t *secret;
	size_t secretlen;
};

struct keyset {
	unsigned refs;          /* under trig_jwt_keys.mu (JWKS URL only) */
	int64_t fetched_ms;
	struct jwk *keys;
	size_t n;
};

/* Slots of the header, payload, JWKS and JWK queries. */
enum { H_ALL, H_ALG, H_KID, H_CRIT, H_SLOTS };
enum { P_ALL, P_EXP, P_NBF, P_ISS, P_AUD, P_CLAIMS };
enum { S_ALL, S_KEYS, S_SLOTS };
enum { K_ALL, K_KTY, K_KID, K_USE, K_ALG, K_OPS, K_CRV, K_N, K_E, K_X, K_Y, K_SLOTS };

struct trig_jwt_keys {
	const struct trig_cond_jwt *cond;
	struct trig_json_query *hq, *pq;
	unsigned npslots;
	int *claim_slot;        /* per claim binding: its slot in pq */
	bool by_kid;            /* a JWKS: kids select keys */
	struct keyset *set;
	/* JWKS URL only */
	char *url;
	bool http;              /* plain http to the loopback address */
	pthread_mutex_t mu;     /* set, generation, last_try_ms */
	pthread_mutex_t fetch_mu;       /* one fetch at a time */
	uint64_t generation;
	int64_t last_try_ms;
};

static void vsay(char *msg, size_t msglen, const char *fmt, va_list ap)
{
	if (msg && msglen)
		vsnprintf(msg, msglen, fmt, ap);
}

/* Writes a message (NULL msg: none) and returns -1. */
__attribute__((format(printf, 3, 4)))
static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(msg, msglen, fmt, ap);
	va_end(ap);
	return -1;
}

/* fail(), for functions whose failure is 0. */
__attribute__((format(printf, 3, 4)))
static int nothing(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(msg, msglen, fmt, ap);
	va_end(ap);
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A query of the whole document (slot 0) and the top-level members
 * names[0..n) (slots 1..n). */
static struct trig_json_query *query_of(const char *const *names, unsigned n)
{
	struct trig_json_query *q = trig_json_query_new();
	trig_json_query_add(q, NULL, 0);
	for (unsigned i = 0; i < n; i++) {
		struct trig_path_seg seg = { names[i], -1 };
		trig_json_query_add(q, &seg, 1);
	}
	return q;
}

/* ------------------------------------------------------------ key sets */

static void jwk_release(struct jwk *key)
{
	free(key->kid);
	EVP_PKEY_free(key->pkey);
	if (key->secret)
		OPENSSL_clear_free(key->secret, key->secretlen);
}

static void keyset_free(struct keyset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		jwk_release(&s->keys[i]);
	free(s->keys);
	free(s);
}

static struct keyset *keyset_new(void)
{
	struct keyset *s = trig_xcalloc(1, sizeof(*s));
	s->refs = 1;
	return s;
}

/* Takes *key. */
static void keyset_add(struct keyset *s, struct jwk *key)
{
	s->keys = trig_xrealloc(s->keys, (s->n + 1) * sizeof(*s->keys));
	s->keys[s->n++] = *key;
}

/* The algorithms a public key can verify, or 0 with why filled. */
static unsigned pkey_algs(EVP_PKEY *pkey, char *why, size_t whylen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int valid = ctx ? EVP_PKEY_public_check(ctx) : 0;
	EVP_PKEY_CTX_free(ctx);
	if (valid != 1)
		return nothing(why, whylen, "not a valid public key");
	if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS")) {
		int bits = EVP_PKEY_get_bits(pkey);
		if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS)
			return nothing(why, whylen, "an RSA key of %d bits (%d to %d needed)",
				       bits, MIN_RSA_BITS, MAX_RSA_BITS);
		return EVP_PKEY_is_a(pkey, "RSA-PSS") ? PS_ALGS : RSA_ALGS;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[80];
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), NULL))
			return nothing(why, whylen, "an EC key without a named curve");
		int nid = OBJ_sn2nid(group);
		if (nid == NID_undef)
			nid = EC_curve_nist2nid(group);
		if (nid == NID_X9_62_prime256v1)
			return TRIG_ES256;
		if (nid == NID_secp384r1)
			return TRIG_ES384;
		return nothing(why, whylen, "an EC key on a curve other than P-256 and P-384");
	}
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return TRIG_EDDSA;
	return nothing(why, whylen, "a key type other than RSA, EC and Ed25519");
}

/* One HMAC secret, for the pinned HS* algorithms. */
static struct keyset *hmac_key(const char *p, size_t len, unsigned pinned, char *err,
			       size_t errlen)
{
	if (!(pinned & HS_ALGS)) {
		fail(err, errlen, "the key is neither a PEM public key or certificate nor a JWKS");
		return NULL;
	}
	for (size_t i = 0; i < NALGS; i++) {
		if (algs[i].fam == FAM_HS && (pinned & algs[i].bit) && len < algs[i].size) {
			fail(err, errlen, "an %s secret must be at least %u bytes long",
			     algs[i].name, algs[i].size);
			return NULL;
		}
	}
	struct jwk key = { 0 };
	key.algs = pinned & HS_ALGS;
	key.secret = trig_xmalloc(len);
	memcpy(key.secret, p, len);
	key.secretlen = len;
	struct keyset *s = keyset_new();
	keyset_add(s, &key);
	return s;
}

/* Whether a PEM label can be shown: short, upper-case words. */
static bool printable_label(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 40)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == ' '))
			return false;
	return true;
}

/* One PEM block: a public key or a certificate. */
static struct keyset *parse_pem(const char *p, size_t len, unsigned pinned, char *err,
				size_t errlen)
{
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long dlen = 0;
	EVP_PKEY *pkey = NULL;
	struct keyset *s = NULL;
	BIO *bio = BIO_new_mem_buf(p, (int)len);
	if (!bio)
		trig_oom();
	if (!PEM_read_bio(bio, &name, &header, &der, &dlen)) {
		fail(err, errlen, "the key is not a readable PEM block");
		goto out;
	}
	char *rest = NULL;
	long nrest = BIO_get_mem_data(bio, &rest);
	for (long i = 0; i < nrest; i++) {
		if (!is_space(rest[i])) {
			fail(err, errlen, "the PEM block is followed by more than white space");
			goto out;
		}
	}
	if (*header) {
		fail(err, errlen, "the PEM block is encrypted");
		goto out;
	}
	const unsigned char *d = der;
	if (!strcmp(name, "PUBLIC KEY")) {
		pkey = d2i_PUBKEY(NULL, &d, dlen);
	} else if (!strcmp(name, "RSA PUBLIC KEY")) {
		pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &d, dlen);
	} else if (!strcmp(name, "CERTIFICATE")) {
		X509 *x = d2i_X509(NULL, &d, dlen);
		if (x)
			pkey = X509_get_pubkey(x);
		X509_free(x);
	} else {
		if (printable_label(name))
			fail(err, errlen, "a PEM '%s' is not a public key or a certificate", name);
		else
			fail(err, errlen, "the PEM block is not a public key or a certificate");
		goto out;
	}
	if (!pkey || d != der + dlen) {
		fail(err, errlen, "the PEM '%s' does not hold a valid key", name);
		goto out;
	}
	char why[128];
	unsigned can = pkey_algs(pkey, why, sizeof(why));
	if (!can) {
		fail(err, errlen, "the PEM key is unusable: %s", why);
		goto out;
	}
	if (!(can & pinned)) {
		fail(err, errlen, "the PEM key fits none of the pinned algorithms");
		goto out;
	}
	struct jwk key = { 0 };
	key.algs = can & pinned;
	key.pkey = pkey;
	pkey = NULL;
	s = keyset_new();
	keyset_add(s, &key);
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
	BIO_free(bio);
	return s;
}

/* ------------------------------------------------------------ JWKS */

/* The unpadded base64url string v decoded into a new block; its length,
 * or -1 (and nothing allocated). */
static long b64_member(const struct trig_json_value *v, struct buf *tmp, uint8_t **out)
{
	if (v->type != TRIG_JSON_STRING)
		return -1;
	buf_reset(tmp);
	if (trig_json_string(v, tmp) < 0 || tmp->len == 0 || memchr(tmp->data, '=', tmp->len))
		return -1;
	uint8_t *o = trig_xmalloc(tmp->len * 3 / 4 + 3);
	long n = trig_base64_decode(tmp->data, tmp->len, TRIG_B64_URL, o);
	if (n <= 0) {
		free(o);
		return -1;
	}
	*out = o;
	return n;
}

static EVP_PKEY *rsa_from(const uint8_t *n, long nlen, const uint8_t *e, long elen)
{
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	OSSL_PARAM *params = NULL;
	if (bld && bn && be && ctx && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static EVP_PKEY *ec_from(const char *group, const uint8_t *x, const uint8_t *y, size_t size)
{
	uint8_t point[1 + 2 * 48];
	point[0] = 0x04;        /* uncompressed */
	memcpy(point + 1, x, size);
	memcpy(point + 1 + size, y, size);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* The key types a JWK can have here. */
enum jwk_type { JWK_RSA, JWK_P256, JWK_P384, JWK_ED25519 };

/* The public key of a JWK of a supported type, or NULL with why. */
static EVP_PKEY *jwk_pkey(enum jwk_type type, const struct trig_json_value *m, struct buf *tmp,
			  char *why, size_t whylen)
{
	uint8_t *a = NULL, *b = NULL;
	long na, nb = -1;
	size_t size = type == JWK_P256 ? 32 : type == JWK_P384 ? 48 : 0;
	EVP_PKEY *pkey = NULL;

	switch (type) {
	case JWK_RSA:
		na = b64_member(&m[K_N], tmp, &a);
		nb = b64_member(&m[K_E], tmp, &b);
		if (na < 0 || nb < 0)
			fail(why, whylen, "n or e is not unpadded base64url");
		else if (na > MAX_RSA_BITS / 8 + 1 || nb > 64)
			fail(why, whylen, "n or e is too long");
		else if (!(pkey = rsa_from(a, na, b, nb)))
			fail(why, whylen, "n and e are not an RSA key");
		break;
	case JWK_P256:
	case JWK_P384:
		na = b64_member(&m[K_X], tmp, &a);
		nb = b64_member(&m[K_Y], tmp, &b);
		/* RFC 7518 wants the curve's full length, but some issuers
		 * (PyJWT before 2.8) drop leading zero bytes: pad them back. */
		if (na > 0 && nb > 0 && na <= (long)size && nb <= (long)size) {
			uint8_t *pa = trig_xcalloc(1, size), *pb = trig_xcalloc(1, size);
			memcpy(pa + size - (size_t)na, a, (size_t)na);
			memcpy(pb + size - (size_t)nb, b, (size_t)nb);
			free(a);
			free(b);
			a = pa, b = pb;
			na = nb = (long)size;
		}
		if (na != (long)size || nb != (long)size)
			fail(why, whylen, "x or y is not %zu bytes of unpadded base64url", size);
		else if (!(pkey = ec_from(size == 32 ? "prime256v1" : "secp384r1", a, b, size)))
			fail(why, whylen, "x and y are not a point of the curve");
		break;
	case JWK_ED25519:
		na = b64_member(&m[K_X], tmp, &a);
		if (na != 32)
			fail(why, whylen, "x is not 32 bytes of unpadded base64url");
		else if (!(pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, a, 32)))
			fail(why, whylen, "x is not an Ed25519 key");
		break;
	}
	free(a);
	free(b);
	ERR_clear_error();
	return pkey;
}

/* Whether the JWK's key_ops (an array) allows "verify". */
static bool ops_verify(const struct trig_json_value *ops)
{
	struct trig_json_iter it;
	struct trig_json_value v;
	if (ops->type != TRIG_JSON_ARRAY || trig_json_iter_begin(&it, ops) < 0)
		return false;
	while (trig_json_iter_next(&it, NULL, &v) == 1)
		if (trig_json_key_equal(&v, "verify", 6))
			return true;
	return false;
}

/*
 * Fills key from one JWK (the value obj) and returns 1.  A JWK that is not
 * for this condition (another use, another type or curve, no pinned
 * algorithm) returns 0, a malformed or weak one -1, with why filled.
 */
static int parse_jwk(const struct trig_json_query *q, const struct trig_json_value *obj,
		     unsigned pinned, struct buf *tmp, struct jwk *key, char *why, size_t whylen)
{
	struct trig_json_value m[K_SLOTS];
	const struct trig_json_value *kty = &m[K_KTY], *crv = &m[K_CRV];
	enum jwk_type type;
	unsigned only = ALL_ALGS;
	memset(key, 0, sizeof(*key));
	if (obj->type != TRIG_JSON_OBJECT || trig_json_extract(q, obj->raw, obj->len, m, NULL) < 0)
		return fail(why, whylen, "not a JSON object");
	if (m[K_USE].type != TRIG_JSON_ABSENT && !trig_json_key_equal(&m[K_USE], "sig", 3))
		return nothing(why, whylen, "use is not sig");
	if (m[K_OPS].type != TRIG_JSON_ABSENT && !ops_verify(&m[K_OPS]))
		return nothing(why, whylen, "key_ops does not allow verify");
	if (m[K_ALG].type != TRIG_JSON_ABSENT) {
		only = 0;
		for (size_t i = 0; i < NALGS; i++)
			if (trig_json_key_equal(&m[K_ALG], algs[i].name, strlen(algs[i].name)))
				only = algs[i].bit;
		if (!only)
			return nothing(why, whylen, "alg is not a supported algorithm");
	}
	if (trig_json_key_equal(kty, "RSA", 3))
		type = JWK_RSA;
	else if (trig_json_key_equal(kty, "EC", 2) && trig_json_key_equal(crv, "P-256", 5))
		type = JWK_P256;
	else if (trig_json_key_equal(kty, "EC", 2) && trig_json_key_equal(crv, "P-384", 5))
		type = JWK_P384;
	else if (trig_json_key_equal(kty, "OKP", 3) && trig_json_key_equal(crv, "Ed25519", 7))
		type = JWK_ED25519;
	else
		return nothing(why, whylen, "kty and crv are not RSA, EC P-256, EC P-384 "
				    "or OKP Ed25519");
	if (m[K_KID].type != TRIG_JSON_ABSENT) {
		buf_reset(tmp);
		if (m[K_KID].type != TRIG_JSON_STRING || trig_json_string(&m[K_KID], tmp) < 0)
			return fail(why, whylen, "kid is not a string");
		if (tmp->len > MAX_KID)
			return fail(why, whylen, "kid is longer than %d bytes", MAX_KID);
	}
	char what[128];
	EVP_PKEY *pkey = jwk_pkey(type, m, tmp, what, sizeof(what));
	unsigned can = pkey ? pkey_algs(pkey, what, sizeof(what)) : 0;
	ERR_clear_error();
	if (!can) {
		EVP_PKEY_free(pkey);
		return fail(why, whylen, "%s", what);
	}
	if (!(can & only & pinned)) {
		EVP_PKEY_free(pkey);
		return nothing(why, whylen, "fits none of the pinned algorithms");
	}
	if (m[K_KID].type != TRIG_JSON_ABSENT) {
		buf_reset(tmp);
		trig_json_string(&m[K_KID], tmp);
		key->kidlen = tmp->len;
		key->kid = trig_xmalloc(tmp->len + 1);
		memcpy(key->kid, buf_cstr(tmp), tmp->len + 1);
	}
	key->pkey = pkey;
	key->algs = can & only & pinned;
	return 1;
}

/* The usable keys of a JWKS document; NULL with err when there is none
 * or the document is not a JWKS. */
static struct keyset *parse_jwks(const char *doc, size_t len, unsigned pinned, char *err,
				 size_t errlen)
{
	static const char *const top[] = { "keys" };
	static const char *const members[] = {
		"kty", "kid", "use", "alg", "key_ops", "crv", "n", "e", "x", "y",
	};
	struct trig_json_value v[S_SLOTS];
	struct trig_json_error je;
	struct trig_json_query *q = query_of(top, 1);
	struct trig_json_query *kq = query_of(members, K_SLOTS - 1);
	struct keyset *s = NULL;
	struct buf tmp = BUF_INIT;
	char first[160] = "";

	if (len > TRIG_JWT_MAX_JWKS) {
		fail(err, errlen, "the JWKS is larger than %d bytes", TRIG_JWT_MAX_JWKS);
		goto out;
	}
	if (trig_json_extract(q, doc, len, v, &je) < 0) {
		fail(err, errlen, "the JWKS is not valid JSON (at byte %zu)", je.offset);
		goto out;
	}
	if (v[S_ALL].type != TRIG_JSON_OBJECT || v[S_KEYS].type != TRIG_JSON_ARRAY) {
		fail(err, errlen, "the JWKS is not an object with a \"keys\" array");
		goto out;
	}
	struct trig_json_iter it;
	struct trig_json_value obj;
	unsigned index = 0;
	int r;
	trig_json_iter_begin(&it, &v[S_KEYS]);
	while ((r = trig_json_iter_next(&it, NULL, &obj)) == 1)
		index++;
	if (r < 0) {
		fail(err, errlen, "the JWKS's keys cannot be read");
		goto out;
	}
	if (index > TRIG_JWT_MAX_KEYS) {
		fail(err, errlen, "the JWKS has more than %d keys", TRIG_JWT_MAX_KEYS);
		goto out;
	}
	s = keyset_new();
	index = 0;
	trig_json_iter_begin(&it, &v[S_KEYS]);
	while (trig_json_iter_next(&it, NULL, &obj) == 1) {
		struct jwk key;
		char why[128];
		int got = parse_jwk(kq, &obj, pinned, &tmp, &key, why, sizeof(why));
		if (got > 0) {
			keyset_add(s, &key);
		} else {
			/* The kid, if readable, as a JSON string: one line. */
			struct trig_json_value kid;
			struct buf name = BUF_INIT;
			struct trig_json_value m[K_SLOTS];
			if (obj.type == TRIG_JSON_OBJECT &&
			    trig_json_extract(kq, obj.raw, obj.len, m, NULL) == 0 &&
			    (kid = m[K_KID]).type == TRIG_JSON_STRING && kid.len <= MAX_KID) {
				buf_reset(&tmp);
				trig_json_string(&kid, &tmp);
				buf_adds(&name, " (kid ");
				buf_json_str(&name, tmp.data ? tmp.data : "", tmp.len);
				buf_adds(&name, ")");
			}
			trig_log(got < 0 ? TRIG_LOG_WARN : TRIG_LOG_DEBUG,
				 "jwks: key %u%s skipped: %s", index, buf_cstr(&name), why);
			if (!*first)
				snprintf(first, sizeof(first), "; key %u: %s", index, why);
			buf_release(&name);
		}
		index++;
	}
	if (s->n == 0) {
		fail(err, errlen, "the JWKS has no usable key%s", first);
		goto bad;
	}
	goto out;
bad:
	keyset_free(s);
	s = NULL;
out:
	buf_release(&tmp);
	trig_json_query_free(q);
	trig_json_query_free(kq);
	return s;
}

/* Whether material is a JSON object with a "keys" member. */
static bool is_jwks(const char *p, size_t len)
{
	static const char *const top[] = { "keys" };
	size_t i = 0;
	while (i < len && is_space(p[i]))
		i++;
	if (i == len || p[i] != '{')
		return false;
	struct trig_json_query *q = query_of(top, 1);
	struct trig_json_value v[S_SLOTS];
	bool yes = trig_json_extract(q, p, len, v, NULL) == 0 && v[S_KEYS].type != TRIG_JSON_ABSENT;
	trig_json_query_free(q);
	return yes;
}

/* ------------------------------------------------------------ fetching */

struct sink {
	struct buf b;
	bool too_big;
};

static size_t sink_write(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;
	if (len > TRIG_JWT_MAX_JWKS - s->b.len) {
		s->too_big = true;
		return 0;
	}
	buf_add(&s->b, p, len);
	return len;
}

/* 1: an https URL; 0: an http URL to the loopback address; -1: neither. */
static int url_kind(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int kind = -1;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (!strcasecmp(scheme, "https"))
			kind = 1;
		else if (!strcasecmp(scheme, "http") &&
			 (!strcasecmp(host, "localhost") || !strcmp(host, "127.0.0.1") ||
			  !strcmp(host, "[::1]")))
			kind = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return kind;
}

/* Fetches and parses the JWKS of k->url. */
static struct keyset *fetch(const struct trig_jwt_keys *k, char *err, size_t errlen)
{
	struct sink sink = { BUF_INIT, false };
	char ebuf[CURL_ERROR_SIZE] = "";
	struct keyset *s = NULL;
	CURL *c = curl_easy_init();
	if (!c) {
		fail(err, errlen, "cannot start a download");
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_URL, k->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, k->http ? "http" : "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS,
			 k->http ? (long)CURLPROTO_HTTP : (long)CURLPROTO_HTTPS);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, FETCH_MS);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)TRIG_JWT_MAX_JWKS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "trig-jwks");
	CURLcode res = curl_easy_perform(c);
	if (sink.too_big || res == CURLE_FILESIZE_EXCEEDED)
		fail(err, errlen, "the JWKS is larger than %d bytes", TRIG_JWT_MAX_JWKS);
	else if (res != CURLE_OK)
		fail(err, errlen, "cannot fetch the JWKS: %s",
		     *ebuf ? ebuf : curl_easy_strerror(res));
	else
		s = parse_jwks(sink.b.data ? sink.b.data : "", sink.b.len, k->cond->algorithms,
			       err, errlen);
	curl_easy_cleanup(c);
	buf_release(&sink.b);
	return s;
}

/* A reference to the current set, and its generation. */
static struct keyset *acquire(struct trig_jwt_keys *k, uint64_t *gen)
{
	if (!k->url)
		return k->set;
	pthread_mutex_lock(&k->mu);
	struct keyset *s = k->set;
	s->refs++;
	*gen = k->generation;
	pthread_mutex_unlock(&k->mu);
	return s;
}

static void release(struct trig_jwt_keys *k, struct keyset *s)
{
	if (!k->url)
		return;
	pthread_mutex_lock(&k->mu);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&k->mu);
	if (last)
		keyset_free(s);
}

/*
 * Fetches the JWKS again if the last attempt is TRIG_JWT_REFETCH_MS old
 * (or in the future: the clock went back) and no other fetch replaced the
 * set of generation seen meanwhile.  wait: wait for a fetch in progress
 * (else give up at once).  Returns whether the set is now newer than seen.
 */
static bool refresh(struct trig_jwt_keys *k, int64_t now_ms, bool wait, uint64_t seen)
{
	if (wait)
		pthread_mutex_lock(&k->fetch_mu);
	else if (pthread_mutex_trylock(&k->fetch_mu) != 0)
		return false;
	pthread_mutex_lock(&k->mu);
	bool changed = k->generation != seen;
	int64_t since = now_ms - k->last_try_ms;
	bool due = !changed && (since >= TRIG_JWT_REFETCH_MS || since < 0);
	if (due)
		k->last_try_ms = now_ms;
	pthread_mutex_unlock(&k->mu);
	if (due) {
		char err[256];
		struct keyset *s = fetch(k, err, sizeof(err));
		if (s) {
			s->fetched_ms = now_ms;
			pthread_mutex_lock(&k->mu);
			struct keyset *old = k->set;
			k->set = s;
			k->generation++;
			pthread_mutex_unlock(&k->mu);
			release(k, old);
			changed = true;
		} else {
			trig_warn("jwt: cannot refresh the JWKS, keeping the keys there are: %s",
				  err);
		}
	}
	pthread_mutex_unlock(&k->fetch_mu);
	return changed;
}

/* ------------------------------------------------------------ signatures */

static bool digest_verify(EVP_PKEY *pkey, const struct alg *a, const uint8_t *msg, size_t msglen,
			  const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok = false;
	if (!mctx)
		trig_oom();
	if (EVP_DigestVerifyInit_ex(mctx, &pctx, a->md, NULL, NULL, pkey, NULL) != 1)
		goto out;
	if (a->fam == FAM_PS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, a->md, NULL) != 1))
		goto out;
	ok = EVP_DigestVerify(mctx, sig, siglen, msg, msglen) == 1;
out:
	EVP_MD_CTX_free(mctx);
	return ok;
}

/* JOSE's R||S as the DER ECDSA-Sig-Value OpenSSL verifies; its length, or -1. */
static int es_der(const uint8_t *sig, unsigned size, uint8_t **der)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)size, NULL), *s = BN_bin2bn(sig + size, (int)size, NULL);
	int n = -1;
	if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL;   /* es owns them */
		*der = NULL;
		n = i2d_ECDSA_SIG(es, der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return n;
}

static bool check_sig(const struct jwk *key, const struct alg *a, const uint8_t *msg,
		      size_t msglen, const uint8_t *sig, size_t siglen)
{
	bool ok = false;
	switch (a->fam) {
	case FAM_HS: {
		uint8_t mac[EVP_MAX_MD_SIZE];
		size_t maclen = 0;
		if (EVP_Q_mac(NULL, "HMAC", NULL, a->md, NULL, key->secret, key->secretlen, msg,
			      msglen, mac, sizeof(mac), &maclen))
			ok = siglen == maclen && CRYPTO_memcmp(mac, sig, maclen) == 0;
		OPENSSL_cleanse(mac, sizeof(mac));
		break;
	}
	case FAM_RS:
	case FAM_PS:
		ok = siglen == (size_t)EVP_PKEY_get_size(key->pkey) &&
		     digest_verify(key->pkey, a, msg, msglen, sig, siglen);
		break;
	case FAM_ES: {
		uint8_t *der = NULL;
		int n = siglen == 2 * a->size ? es_der(sig, a->size, &der) : -1;
		ok = n > 0 && digest_verify(key->pkey, a, msg, msglen, der, (size_t)n);
		OPENSSL_free(der);
		break;
	}
	case FAM_ED:
		ok = digest_verify(key->pkey, a, msg, msglen, sig, siglen);
		break;
	}
	ERR_clear_error();
	return ok;
}

enum { R_OK, R_BAD_SIG, R_UNKNOWN_KID, R_NO_FIT };

struct kid {
	bool present;
	const char *s;
	size_t len;
};

static int try_keys(const struct keyset *s, bool by_kid, const struct kid *kid,
		    const struct alg *a, const uint8_t *msg, size_t msglen, const uint8_t *sig,
		    size_t siglen)
{
	bool named = false, fit = false;
	for (size_t i = 0; i < s->n; i++) {
		const struct jwk *key = &s->keys[i];
		if (by_kid && kid->present) {
			if (!key->kid || key->kidlen != kid->len ||
			    memcmp(key->kid, kid->s, kid->len))
				continue;
			named = true;
		}
		if (!(key->algs & a->bit))
			continue;
		fit = true;
		if (check_sig(key, a, msg, msglen, sig, siglen))
			return R_OK;
	}
	if (by_kid && kid->present && !named)
		return R_UNKNOWN_KID;
	return fit ? R_BAD_SIG : R_NO_FIT;
}

static int check_keys(struct trig_jwt_keys *k, const struct kid *kid, const struct alg *a,
		      const uint8_t *msg, size_t msglen, const uint8_t *sig, size_t siglen,
		      int64_t now_ms)
{
	uint64_t gen = 0;
	if (k->url) {
		pthread_mutex_lock(&k->mu);
		int64_t since = now_ms - k->last_try_ms;
		bool stale = now_ms - k->set->fetched_ms >= TRIG_JWT_MAX_AGE_MS &&
			     (since >= TRIG_JWT_REFETCH_MS || since < 0);
		gen = k->generation;
		pthread_mutex_unlock(&k->mu);
		if (stale)
			refresh(k, now_ms, false, gen);
	}
	struct keyset *s = acquire(k, &gen);
	int r = try_keys(s, k->by_kid, kid, a, msg, msglen, sig, siglen);
	if (r == R_UNKNOWN_KID && k->url && refresh(k, now_ms, true, gen)) {
		release(k, s);
		s = acquire(k, &gen);
		r = try_keys(s, k->by_kid, kid, a, msg, msglen, sig, siglen);
	}
	release(k, s);
	return r;
}

/* ------------------------------------------------------------ claims */

/* The number v, finite and at most 1e15 in size (seconds); false if not. */
static bool number_of(const struct trig_json_value *v, struct buf *tmp, double *out)
{
	if (v->type != TRIG_JSON_NUMBER)
		return false;
	buf_reset(tmp);
	buf_add(tmp, v->raw, v->len);
	char *end;
	double d = strtod(tmp->data, &end);
	if (*end || !isfinite(d) || fabs(d) > 1e15)
		return false;
	*out = d;
	return true;
}

static bool is_audience(const struct trig_cond_jwt *c, const struct trig_json_value *v)
{
	for (uint32_t i = 0; i < c->naudience; i++)
		if (trig_json_key_equal(v, c->audience[i], strlen(c->audience[i])))
			return true;
	return false;
}

static int check_payload(const struct trig_jwt_keys *k, const struct trig_cond_jwt *c,
			 const char *p, size_t n, int64_t now_ms, struct buf *tmp, char *reason,
			 size_t reasonlen)
{
	struct trig_json_value *v = trig_xmalloc(k->npslots * sizeof(*v));
	double leeway = c->leeway_ms > 0 ? (double)c->leeway_ms : 0, now = (double)now_ms;
	double exp = 0, nbf = 0;
	int rc = -1;

	if (trig_json_extract(k->pq, p, n, v, NULL) < 0 || v[P_ALL].type != TRIG_JSON_OBJECT) {
		fail(reason, reasonlen, "malformed token: the payload is not a JSON object");
		goto out;
	}
	if (v[P_EXP].type == TRIG_JSON_ABSENT) {
		fail(reason, reasonlen, "missing exp");
		goto out;
	}
	if (!number_of(&v[P_EXP], tmp, &exp)) {
		fail(reason, reasonlen, "malformed token: exp is not a number of seconds");
		goto out;
	}
	if (v[P_NBF].type != TRIG_JSON_ABSENT && !number_of(&v[P_NBF], tmp, &nbf)) {
		fail(reason, reasonlen, "malformed token: nbf is not a number of seconds");
		goto out;
	}
	if (now >= exp * 1000 + leeway) {
		fail(reason, reasonlen, "expired %.0fs ago", floor((now - exp * 1000) / 1000));
		goto out;
	}
	if (v[P_NBF].type != TRIG_JSON_ABSENT && now < nbf * 1000 - leeway) {
		fail(reason, reasonlen, "not valid yet (for another %.0fs)",
		     ceil((nbf * 1000 - now) / 1000));
		goto out;
	}
	if (c->issuer) {
		if (v[P_ISS].type == TRIG_JSON_ABSENT) {
			fail(reason, reasonlen, "missing issuer");
			goto out;
		}
		if (!trig_json_key_equal(&v[P_ISS], c->issuer, strlen(c->issuer))) {
			fail(reason, reasonlen, "issuer mismatch");
			goto out;
		}
	}
	if (c->naudience) {
		const struct trig_json_value *aud = &v[P_AUD];
		bool found = false;
		if (aud->type == TRIG_JSON_ABSENT) {
			fail(reason, reasonlen, "missing audience");
			goto out;
		}
		if (aud->type == TRIG_JSON_ARRAY) {
			struct trig_json_iter it;
			struct trig_json_value e;
			int r;
			trig_json_iter_begin(&it, aud);
			while ((r = trig_json_iter_next(&it, NULL, &e)) == 1) {
				if (e.type != TRIG_JSON_STRING) {
					r = -1;
					break;
				}
				found = found || is_audience(c, &e);
			}
			if (r < 0) {
				fail(reason, reasonlen,
				     "malformed token: aud is not a list of strings");
				goto out;
			}
		} else if (aud->type == TRIG_JSON_STRING) {
			found = is_audience(c, aud);
		} else {
			fail(reason, reasonlen, "malformed token: aud is not a string");
			goto out;
		}
		if (!found) {
			fail(reason, reasonlen, "audience mismatch");
			goto out;
		}
	}
	for (uint32_t i = 0; i < c->nclaims; i++) {
		const struct trig_json_value *cv = &v[k->claim_slot[i]];
		const char *want = c->claims[i].value.source ? c->claims[i].value.source : "";
		size_t wlen = strlen(want);
		bool eq = false;
		switch (cv->type) {
		case TRIG_JSON_ABSENT:
			fail(reason, reasonlen, "missing claim '%s'", c->claims[i].name);
			goto out;
		case TRIG_JSON_STRING:
			eq = trig_json_key_equal(cv, want, wlen);
			break;
		case TRIG_JSON_NUMBER:
		case TRIG_JSON_TRUE:
		case TRIG_JSON_FALSE:
			eq = cv->len == wlen && memcmp(cv->raw, want, wlen) == 0;
			break;
		default:
			break;
		}
		if (!eq) {
			fail(reason, reasonlen, "claim '%s' mismatch", c->claims[i].name);
			goto out;
		}
	}
	rc = 0;
out:
	free(v);
	return rc;
}

/* ------------------------------------------------------------ interface */

struct trig_jwt_keys *trig_jwt_keys_new(const struct trig_cond_jwt *c, const void *material,
					size_t len, char *err, size_t errlen)
{
	static const char *const hnames[] = { "alg", "kid", "crit" };
	static const char *const pnames[] = { "exp", "nbf", "iss", "aud" };
	const char *p = material;

	if (!(c->algorithms & ALL_ALGS)) {
		fail(err, errlen, "no supported algorithm is pinned");
		return NULL;
	}
	struct trig_jwt_keys *k = trig_xcalloc(1, sizeof(*k));
	k->cond = c;
	pthread_mutex_init(&k->mu, NULL);
	pthread_mutex_init(&k->fetch_mu, NULL);
	k->hq = query_of(hnames, H_SLOTS - 1);
	k->pq = query_of(pnames, P_CLAIMS - 1);
	k->claim_slot = trig_xcalloc(c->nclaims ? c->nclaims : 1, sizeof(*k->claim_slot));
	for (uint32_t i = 0; i < c->nclaims; i++) {
		struct trig_path_seg seg = { c->claims[i].name, -1 };
		k->claim_slot[i] = trig_json_query_add(k->pq, &seg, 1);
		if (k->claim_slot[i] < 0) {
			fail(err, errlen, "a claim without a name");
			goto bad;
		}
	}
	k->npslots = trig_json_query_slots(k->pq);

	switch (c->key.kind) {
	case TRIG_SECRET_ENV:
	case TRIG_SECRET_FILE: {
		size_t i = 0;
		if (len > TRIG_JWT_MAX_JWKS) {
			fail(err, errlen, "the key is larger than %d bytes", TRIG_JWT_MAX_JWKS);
			goto bad;
		}
		if (!p || len == 0) {
			fail(err, errlen, "the key is empty");
			goto bad;
		}
		while (i < len && is_space(p[i]))
			i++;
		if (len - i >= 11 && !memcmp(p + i, "-----BEGIN ", 11)) {
			k->set = parse_pem(p + i, len - i, c->algorithms, err, errlen);
		} else if (is_jwks(p, len)) {
			k->by_kid = true;
			k->set = parse_jwks(p, len, c->algorithms, err, errlen);
		} else {
			k->set = hmac_key(p, len, c->algorithms, err, errlen);
		}
		break;
	}
	case TRIG_SECRET_JWKS_FILE:
		k->by_kid = true;
		k->set = parse_jwks(p ? p : "", p ? len : 0, c->algorithms, err, errlen);
		break;
	case TRIG_SECRET_JWKS_URL: {
		int kind = c->key.ref ? url_kind(c->key.ref) : -1;
		if (kind < 0) {
			fail(err, errlen, "the JWKS URL must be https (plain http only to the "
			     "loopback address)");
			goto bad;
		}
		CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
		if (cc != CURLE_OK) {
			fail(err, errlen, "cannot initialise libcurl: %s", curl_easy_strerror(cc));
			goto bad;
		}
		k->url = trig_xstrdup(c->key.ref);
		k->http = kind == 0;
		k->by_kid = true;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		k->last_try_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		k->set = fetch(k, err, errlen);
		if (k->set)
			k->set->fetched_ms = k->last_try_ms;
		break;
	}
	default:
		fail(err, errlen, "the key is not set");
		break;
	}
	if (k->set)
		return k;
bad:
	trig_jwt_keys_free(k);
	return NULL;
}

void trig_jwt_keys_free(struct trig_jwt_keys *k)
{
	if (!k)
		return;
	keyset_free(k->set);
	if (k->url) {
		free(k->url);
		curl_global_cleanup();
	}
	pthread_mutex_destroy(&k->mu);
	pthread_mutex_destroy(&k->fetch_mu);
	trig_json_query_free(k->hq);
	trig_json_query_free(k->pq);
	free(k->claim_slot);
	free(k);
}

/* Decodes one part of a token: unpadded base64url only. */
static long b64_part(const char *s, size_t n, uint8_t *out)
{
	if (memchr(s, '=', n))
		return -1;
	return trig_base64_decode(s, n, TRIG_B64_URL, out);
}

int trig_jwt_verify(struct trig_jwt_keys *k, const struct trig_cond_jwt *c, const char *token,
		    size_t len, int64_t now_ms, struct buf *claims, char *reason,
		    size_t reasonlen)
{
	static const char *const names[3] = { "header", "payload", "signature" };
	const char *part[3], *end = token + len;
	size_t plen[3];
	long dlen[3];
	uint8_t *dec[3], *scratch = NULL;
	struct buf tmp = BUF_INIT;
	int rc = -1;

	if (c != k->cond)
		return fail(reason, reasonlen, "the keys are of another condition");
	if (len > TRIG_JWT_MAX_TOKEN)
		return fail(reason, reasonlen, "malformed token: longer than %d bytes",
			    TRIG_JWT_MAX_TOKEN);
	part[0] = token;
	for (int i = 1; i < 3; i++) {
		const char *dot = memchr(part[i - 1], '.', (size_t)(end - part[i - 1]));
		if (!dot)
			return fail(reason, reasonlen, "malformed token: not three parts");
		plen[i - 1] = (size_t)(dot - part[i - 1]);
		part[i] = dot + 1;
	}
	plen[2] = (size_t)(end - part[2]);
	if (memchr(part[2], '.', plen[2]))
		return fail(reason, reasonlen, "malformed token: not three parts");
	if (plen[0] == 0 || plen[1] == 0)
		return fail(reason, reasonlen, "malformed token: an empty %s",
			    plen[0] ? "payload" : "header");

	/* Each part decodes into at most 3/4 of its length plus 3 bytes. */
	scratch = trig_xmalloc(len + 16);
	for (int i = 0; i < 3; i++) {
		dec[i] = i ? dec[i - 1] + dlen[i - 1] + 1 : scratch;
		dlen[i] = b64_part(part[i], plen[i], dec[i]);
		if (dlen[i] < 0) {
			fail(reason, reasonlen, "malformed token: the %s is not unpadded base64url",
			     names[i]);
			goto out;
		}
	}

	/* The header. */
	struct trig_json_value h[H_SLOTS];
	const struct alg *a = NULL;
	if (trig_json_extract(k->hq, (const char *)dec[0], (size_t)dlen[0], h, NULL) < 0 ||
	    h[H_ALL].type != TRIG_JSON_OBJECT) {
		fail(reason, reasonlen, "malformed token: the header is not a JSON object");
		goto out;
	}
	if (h[H_ALG].type != TRIG_JSON_STRING) {
		fail(reason, reasonlen, "malformed token: alg is %s",
		     h[H_ALG].type == TRIG_JSON_ABSENT ? "missing" : "not a string");
		goto out;
	}
	for (size_t i = 0; i < NALGS; i++)
		if (trig_json_key_equal(&h[H_ALG], algs[i].name, strlen(algs[i].name)))
			a = &algs[i];
	if (!a) {
		trig_json_string(&h[H_ALG], &tmp);
		if (tmp.len == 4 && !strncasecmp(tmp.data, "none", 4))
			fail(reason, reasonlen, "algorithm none is refused");
		else
			fail(reason, reasonlen, "unsupported algorithm");
		goto out;
	}
	if (!(c->algorithms & a->bit)) {
		fail(reason, reasonlen, "algorithm %s is not allowed", a->name);
		goto out;
	}
	if (h[H_CRIT].type != TRIG_JSON_ABSENT) {
		fail(reason, reasonlen, "malformed token: crit is not supported");
		goto out;
	}
	struct kid kid = { false, NULL, 0 };
	if (h[H_KID].type != TRIG_JSON_ABSENT) {
		if (h[H_KID].type != TRIG_JSON_STRING) {
			fail(reason, reasonlen, "malformed token: kid is not a string");
			goto out;
		}
		buf_reset(&tmp);
		trig_json_string(&h[H_KID], &tmp);
		kid = (struct kid){ true, tmp.data ? tmp.data : "", tmp.len };
	}

	/* The signature, over the encoded header and payload as received. */
	switch (check_keys(k, &kid, a, (const uint8_t *)token, plen[0] + 1 + plen[1], dec[2],
			   (size_t)dlen[2], now_ms)) {
	case R_OK:
		break;
	case R_UNKNOWN_KID:
		fail(reason, reasonlen, "unknown key id");
		goto out;
	case R_NO_FIT:
		if (!k->by_kid)
			fail(reason, reasonlen, "algorithm %s does not fit the key", a->name);
		else if (kid.present)
			fail(reason, reasonlen, "the key of that kid does not fit algorithm %s",
			     a->name);
		else
			fail(reason, reasonlen, "no key fits algorithm %s", a->name);
		goto out;
	default:
		fail(reason, reasonlen, "bad signature");
		goto out;
	}

	/* The claims, now known to be the issuer's. */
	if (check_payload(k, c, (const char *)dec[1], (size_t)dlen[1], now_ms, &tmp, reason,
			  reasonlen) < 0)
		goto out;
	buf_add(claims, dec[1], (size_t)dlen[1]);
	rc = 0;
out:
	buf_release(&tmp);
	free(scratch);
	return rc;
}
