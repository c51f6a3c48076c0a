/*
 * test_jwt.c — JWT verification (runtime/jwt.c): every algorithm, key
 * material in every form, the time, issuer, audience and claim checks and
 * their edges, tampering, the algorithm policy (pinned list, none,
 * algorithm confusion), malformed tokens, JWKS with several kids, and the
 * JWKS URL cache against a small HTTP server run here.
 *
 * Oracles: the keys and tokens come from PyJWT and cryptography
 * (tests/unit/jwt_tokens.py, run once with /usr/bin/python3 into a
 * temporary folder: Debian's python3-jwt and python3-cryptography, which
 * scripts/install-deps.sh installs; without them every test fails, saying
 * so), and the published examples of RFC 7515 (A.1 HS256, A.2 RS256,
 * A.3 ES256) and RFC 8037 (A.4 Ed25519).  Tokens only this file makes are
 * for the structural cases (length bounds, headers without a valid alg).
 */
#include "unit.h"

#include "base64.h"
#include "buf.h"
#include "json.h"
#include "jwt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"

/* ------------------------------------------------------------ fixture */

static char dir[PATH_MAX];
static int64_t now_s, NOW;              /* the tokens' clock, seconds and ms */
static char gen_error[2048];
static struct token {
	char name[32];
	char *text;
} toks[80];
static int ntoks;

/* Runs jwt_tokens.py once, before the tests (in the runner's process). */
static void generate(void)
{
	const char *src = getenv("TRIG_SRC");
	char cmd[3 * PATH_MAX], line[20000], errpath[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "/tmp/trig-jwt-XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(gen_error, sizeof(gen_error), "mkdtemp: %s", strerror(errno));
		return;
	}
	now_s = (int64_t)time(NULL);
	NOW = now_s * 1000;
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	snprintf(cmd, sizeof(cmd), PYTHON " '%s/tests/unit/jwt_tokens.py' '%s' %lld 2>'%s'",
		 src ? src : ".", dir, (long long)now_s, errpath);
	FILE *p = popen(cmd, "r");
	if (!p) {
		snprintf(gen_error, sizeof(gen_error), "popen: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), p) && ntoks < (int)(sizeof(toks) / sizeof(toks[0]))) {
		char *sp = strchr(line, ' ');
		if (!sp || (size_t)(sp - line) >= sizeof(toks[0].name))
			continue;
		memcpy(toks[ntoks].name, line, (size_t)(sp - line));
		toks[ntoks].name[sp - line] = 0;
		sp[1 + strcspn(sp + 1, "\n")] = 0;
		toks[ntoks++].text = strdup(sp + 1);
	}
	int st = pclose(p);
	if (st != 0 || ntoks == 0) {
		char msg[1024] = "";
		FILE *e = fopen(errpath, "r");
		if (e) {
			size_t n = fread(msg, 1, sizeof(msg) - 1, e);
			msg[n] = 0;
			fclose(e);
		}
		snprintf(gen_error, sizeof(gen_error),
			 PYTHON " tests/unit/jwt_tokens.py failed (status %d; it needs Debian's "
			 "python3-jwt and python3-cryptography, see scripts/install-deps.sh): %s",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1, msg);
	}
}

static void cleanup(void)
{
	for (int i = 0; i < ntoks; i++)
		free(toks[i].text);
	if (*dir)
		unit_remove_tree(dir);
}

static const char *tok(const char *name)
{
	ck_assert_msg(!*gen_error, "%s", gen_error);
	for (int i = 0; i < ntoks; i++)
		if (!strcmp(toks[i].name, name))
			return toks[i].text;
	ck_abort_msg("jwt_tokens.py printed no token '%s'", name);
	return NULL;
}

static struct buf slurp(const char *name)
{
	char path[PATH_MAX + 64], chunk[4096];
	struct buf b = BUF_INIT;
	size_t n;
	ck_assert_msg(!*gen_error, "%s", gen_error);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return b;
}

/* ------------------------------------------------------------ helpers */

static struct trig_cond_jwt cond(unsigned algorithms, enum trig_secret_kind kind)
{
	struct trig_cond_jwt c;
	memset(&c, 0, sizeof(c));
	c.algorithms = algorithms;
	c.key.kind = kind;
	return c;
}

/* No ten bytes in a row of secret[0..n) appear in text, leaving out runs
 * with a space or a dash: PEM labels ("PUBLIC KEY"), which are not secret. */
static void assert_no_leak(const char *text, const void *secret, size_t n)
{
	const char *p = secret;
	size_t tl = strlen(text);
	for (size_t i = 0; i + 10 <= n; i++)
		if (!memchr(p + i, ' ', 10) && !memchr(p + i, '-', 10))
			ck_assert_msg(!memmem(text, tl, p + i, 10),
				      "'%s' holds bytes of a secret or token", text);
}

static struct trig_jwt_keys *load_mem(const struct trig_cond_jwt *c, const void *m, size_t n)
{
	char err[256] = "";
	struct trig_jwt_keys *k = trig_jwt_keys_new(c, m, n, err, sizeof(err));
	ck_assert_msg(k != NULL, "keys refused: %s", err);
	return k;
}

static struct trig_jwt_keys *load(const struct trig_cond_jwt *c, const char *file)
{
	struct buf m = slurp(file);
	struct trig_jwt_keys *k = load_mem(c, m.data, m.len);
	buf_release(&m);
	return k;
}

/* The message of keys that must be refused. */
static const char *load_err(const struct trig_cond_jwt *c, const void *m, size_t n)
{
	static char err[512];
	err[0] = 0;
	struct trig_jwt_keys *k = trig_jwt_keys_new(c, m, n, err, sizeof(err));
	ck_assert_msg(k == NULL, "keys accepted");
	ck_assert(err[0] != 0);
	if (n <= 65536)
		assert_no_leak(err, m, n);
	return err;
}

static const char *load_err_file(const struct trig_cond_jwt *c, const char *file, const char *extra)
{
	struct buf m = slurp(file);
	if (extra)
		buf_adds(&m, extra);
	const char *e = load_err(c, m.data, m.len);
	buf_release(&m);
	return e;
}

/*
 * Verifies token[0..n) at now_ms: "ok" or the reason.  Checks on the way
 * that a success appends one JSON object, that a failure appends nothing
 * and that its reason holds nothing of the token.
 */
static const char *run_n(struct trig_jwt_keys *k, const struct trig_cond_jwt *c,
			 const char *token, size_t n, int64_t now_ms)
{
	static char reason[256];
	struct buf claims = BUF_INIT;
	buf_adds(&claims, "x");
	reason[0] = 0;
	int r = trig_jwt_verify(k, c, token, n, now_ms, &claims, reason, sizeof(reason));
	if (r == 0) {
		struct trig_json_error e;
		ck_assert_msg(trig_json_validate(claims.data + 1, claims.len - 1, &e) == 0,
			      "claims are not JSON: %s", e.msg);
		ck_assert(claims.data[1] == '{');
		snprintf(reason, sizeof(reason), "ok");
	} else {
		ck_assert_int_eq(r, -1);
		ck_assert_uint_eq(claims.len, 1);
		ck_assert(reason[0] != 0);
		assert_no_leak(reason, token, n);
	}
	buf_release(&claims);
	return reason;
}

static const char *run(struct trig_jwt_keys *k, const struct trig_cond_jwt *c,
		       const char *token, int64_t now_ms)
{
	return run_n(k, c, token, strlen(token), now_ms);
}

#define VERIFY(k, c, name, now, want) ck_assert_str_eq(run(k, c, tok(name), now), want)

/* A copy of token with one character changed in the middle of part
 * (0 header, 1 payload, 2 signature), keeping it valid base64url. */
static char *tamper(const char *token, int part)
{
	char *t = strdup(token);
	char *s = t;
	for (int i = 0; i < part; i++)
		s = strchr(s, '.') + 1;
	size_t len = strcspn(s, ".");
	char *c = s + len / 2;
	*c = *c == 'A' ? 'B' : 'A';
	return t;
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

/* An HS256 token over the given JSON texts, made here (for structural
 * cases only: PyJWT makes all the others). */
static char *hs256(const char *header, const char *payload, const void *key, size_t keylen)
{
	struct buf t = BUF_INIT;
	uint8_t mac[64];
	size_t maclen = 0;
	b64u(&t, header, strlen(header));
	buf_addc(&t, '.');
	b64u(&t, payload, strlen(payload));
	ck_assert(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen,
			    (const unsigned char *)t.data, t.len,
			    mac, sizeof(mac), &maclen) != NULL);
	buf_addc(&t, '.');
	b64u(&t, mac, maclen);
	return buf_detach(&t);
}

static const struct {
	const char *name;
	unsigned bit;
	const char *pem;
} all[] = {
	{ "HS256", TRIG_HS256, "hs.key" },     { "HS384", TRIG_HS384, "hs.key" },
	{ "HS512", TRIG_HS512, "hs.key" },     { "RS256", TRIG_RS256, "rsa.pem" },
	{ "RS384", TRIG_RS384, "rsa.pem" },    { "RS512", TRIG_RS512, "rsa.pem" },
	{ "PS256", TRIG_PS256, "rsa.pem" },    { "PS384", TRIG_PS384, "rsa.pem" },
	{ "PS512", TRIG_PS512, "rsa.pem" },    { "ES256", TRIG_ES256, "ec256.pem" },
	{ "ES384", TRIG_ES384, "ec384.pem" },  { "EdDSA", TRIG_EDDSA, "ed25519.pem" },
};
#define NALL (sizeof(all) / sizeof(all[0]))
#define ASYM (TRIG_RS256 | TRIG_RS384 | TRIG_RS512 | TRIG_PS256 | TRIG_PS384 | TRIG_PS512 | \
	      TRIG_ES256 | TRIG_ES384 | TRIG_EDDSA)

/* ------------------------------------------------------------ algorithms */

START_TEST(test_every_algorithm)
{
	for (size_t i = 0; i < NALL; i++) {
		char name[32];
		struct trig_cond_jwt c = cond(all[i].bit, TRIG_SECRET_FILE);
		struct trig_jwt_keys *k = load(&c, all[i].pem);
		snprintf(name, sizeof(name), "ok-%s", all[i].name);
		VERIFY(k, &c, name, NOW, "ok");
		/* every other algorithm is refused: only this one is pinned */
		for (size_t j = 0; j < NALL; j++) {
			char other[32], want[64];
			if (j == i)
				continue;
			snprintf(other, sizeof(other), "ok-%s", all[j].name);
			snprintf(want, sizeof(want), "algorithm %s is not allowed", all[j].name);
			VERIFY(k, &c, other, NOW, want);
		}
		/* one character changed in the signature, or in the payload */
		for (int part = 1; part <= 2; part++) {
			char *t = tamper(tok(name), part);
			ck_assert_str_eq(run(k, &c, t, NOW), "bad signature");
			free(t);
		}
		trig_jwt_keys_free(k);
	}
}
END_TEST

START_TEST(test_claims_out)
{
	struct trig_cond_jwt c = cond(TRIG_HS256, TRIG_SECRET_ENV);
	struct trig_jwt_keys *k = load(&c, "hs.key");
	const char *t = tok("ok-HS256");
	const char *p = strchr(t, '.') + 1;
	size_t plen = strcspn(p, ".");
	uint8_t *want = malloc(plen);
	long wlen = trig_base64_decode(p, plen, TRIG_B64_URL, want);
	ck_assert_int_gt(wlen, 0);

	struct buf claims = BUF_INIT;
	char reason[128];
	buf_adds(&claims, "before:");
	ck_assert_int_eq(trig_jwt_verify(k, &c, t, strlen(t), NOW, &claims, reason, sizeof(reason)), 0);
	ck_assert_uint_eq(claims.len, 7 + (size_t)wlen);
	ck_assert_mem_eq(claims.data, "before:", 7);
	ck_assert_mem_eq(claims.data + 7, want, (size_t)wlen);

	struct trig_json_query *q = trig_json_query_new();
	ck_assert_int_eq(trig_json_query_add_text(q, "sub", NULL), 0);
	struct trig_json_value v;
	ck_assert_int_eq(trig_json_extract(q, claims.data + 7, claims.len - 7, &v, NULL), 0);
	ck_assert(trig_json_key_equal(&v, "alice", 5));
	trig_json_query_free(q);
	buf_release(&claims);
	free(want);
	trig_jwt_keys_free(k);
}
END_TEST

/* ------------------------------------------------------------ key material */

START_TEST(test_pem_forms)
{
	struct trig_cond_jwt c = cond(TRIG_RS256 | TRIG_PS256, TRIG_SECRET_FILE);
	static const char *const files[] = { "rsa.pem", "rsa-pkcs1.pem", "rsa.crt" };
	for (size_t i = 0; i < 3; i++) {
		struct trig_jwt_keys *k = load(&c, files[i]);
		VERIFY(k, &c, "ok-RS256", NOW, "ok");
		VERIFY(k, &c, "ok-PS256", NOW, "ok");
		/* the kid is not looked at with a PEM key */
		VERIFY(k, &c, "unknown-kid", NOW, "ok");
		VERIFY(k, &c, "rsa2-RS256", NOW, "bad signature");
		VERIFY(k, &c, "salt0-PS256", NOW, "bad signature");
		VERIFY(k, &c, "short-PS256", NOW, "bad signature");
		trig_jwt_keys_free(k);
	}
	/* leading and trailing white space is fine */
	struct buf m = BUF_INIT;
	struct buf pem = slurp("rsa.pem");
	buf_adds(&m, " \n\t");
	buf_add(&m, pem.data, pem.len);
	buf_adds(&m, "\n\n  ");
	struct trig_jwt_keys *k = load_mem(&c, m.data, m.len);
	VERIFY(k, &c, "ok-RS256", NOW, "ok");
	trig_jwt_keys_free(k);
	buf_release(&m);
	buf_release(&pem);
}
END_TEST

START_TEST(test_material_refused)
{
	struct trig_cond_jwt rs = cond(TRIG_RS256, TRIG_SECRET_FILE);
	struct trig_cond_jwt es = cond(TRIG_ES256 | TRIG_ES384, TRIG_SECRET_FILE);
	struct trig_cond_jwt hs = cond(TRIG_HS256, TRIG_SECRET_ENV);
	struct trig_cond_jwt hs2 = cond(TRIG_HS256 | TRIG_HS512, TRIG_SECRET_ENV);

	ck_assert_str_eq(load_err_file(&rs, "rsa-private.pem", NULL),
			 "a PEM 'PRIVATE KEY' is not a public key or a certificate");
	ck_assert_str_eq(load_err_file(&rs, "rsa1024.pem", NULL),
			 "the PEM key is unusable: an RSA key of 1024 bits (2048 to 8192 needed)");
	ck_assert_str_eq(load_err_file(&es, "ec521.pem", NULL),
			 "the PEM key is unusable: an EC key on a curve other than P-256 and P-384");
	ck_assert_str_eq(load_err_file(&rs, "rsa.pem", "x"),
			 "the PEM block is followed by more than white space");
	ck_assert_str_eq(load_err_file(&rs, "rsa.pem", "-----BEGIN PUBLIC KEY-----\n"),
			 "the PEM block is followed by more than white space");
	ck_assert_str_eq(load_err_file(&es, "rsa.pem", NULL),
			 "the PEM key fits none of the pinned algorithms");
	ck_assert_str_eq(load_err_file(&rs, "ec256.pem", NULL),
			 "the PEM key fits none of the pinned algorithms");
	/* algorithm confusion, prevented when loading: a PEM is never a secret */
	ck_assert_str_eq(load_err_file(&hs, "rsa.pem", NULL),
			 "the PEM key fits none of the pinned algorithms");
	ck_assert_str_eq(load_err_file(&rs, "hs.key", NULL),
			 "the key is neither a PEM public key or certificate nor a JWKS");

	static const char bad_body[] = "-----BEGIN PUBLIC KEY-----\nAAAAAAAA\n-----END PUBLIC KEY-----\n";
	ck_assert_str_eq(load_err(&rs, bad_body, strlen(bad_body)),
			 "the PEM 'PUBLIC KEY' does not hold a valid key");
	static const char open_pem[] = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOC\n";
	ck_assert_str_eq(load_err(&rs, open_pem, strlen(open_pem)),
			 "the key is not a readable PEM block");

	/* HMAC secrets: at least the hash's length (RFC 7518 §3.2) */
	static const char s31[] = "0123456789abcdef0123456789abcde";
	static const char s63[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
	ck_assert_str_eq(load_err(&hs, s31, 31), "an HS256 secret must be at least 32 bytes long");
	ck_assert_str_eq(load_err(&hs2, s63, 63), "an HS512 secret must be at least 64 bytes long");
	struct trig_jwt_keys *k = load_mem(&hs, s63, 32);
	trig_jwt_keys_free(k);
	ck_assert_str_eq(load_err(&hs, "", 0), "the key is empty");
	ck_assert_str_eq(load_err(&hs, NULL, 0), "the key is empty");

	struct trig_cond_jwt none = cond(0, TRIG_SECRET_ENV);
	ck_assert_str_eq(load_err(&none, s63, 63), "no supported algorithm is pinned");
	struct trig_cond_jwt unset = cond(TRIG_HS256, TRIG_SECRET_NONE);
	ck_assert_str_eq(load_err(&unset, s63, 63), "the key is not set");
}
END_TEST

/* ------------------------------------------------------------ JWKS */

START_TEST(test_jwks_kids)
{
	struct trig_cond_jwt c = cond(ASYM, TRIG_SECRET_JWKS_FILE);
	struct trig_jwt_keys *k = load(&c, "jwks.json");
	for (size_t i = 0; i < NALL; i++) {
		char name[32];
		if (all[i].bit & ASYM) {
			snprintf(name, sizeof(name), "ok-%s", all[i].name);
			VERIFY(k, &c, name, NOW, "ok");
		}
	}
	VERIFY(k, &c, "rsa2-RS256", NOW, "ok");
	VERIFY(k, &c, "short-ES256", NOW, "ok");        /* x written in 31 bytes */
	VERIFY(k, &c, "nokid-RS256", NOW, "ok");        /* tried against every RSA key */
	VERIFY(k, &c, "wrongkey-RS256", NOW, "bad signature");
	VERIFY(k, &c, "unknown-kid", NOW, "unknown key id");
	VERIFY(k, &c, "enc-kid", NOW, "unknown key id");        /* use: enc was skipped */
	/* rsa-2 says alg RS256 */
	VERIFY(k, &c, "rsa2-PS256", NOW, "the key of that kid does not fit algorithm PS256");
	VERIFY(k, &c, "ok-HS256", NOW, "algorithm HS256 is not allowed");
	trig_jwt_keys_free(k);

	/* The same document as an env/file secret is a JWKS too. */
	struct trig_cond_jwt e = cond(TRIG_ES256 | TRIG_HS256, TRIG_SECRET_ENV);
	k = load(&e, "jwks.json");
	VERIFY(k, &e, "ok-ES256", NOW, "ok");
	VERIFY(k, &e, "ok-HS256", NOW, "no key fits algorithm HS256");  /* oct keys are skipped */
	VERIFY(k, &e, "der-ES256", NOW, "bad signature");
	trig_jwt_keys_free(k);
}
END_TEST

START_TEST(test_jwks_refused)
{
	struct trig_cond_jwt c = cond(ASYM, TRIG_SECRET_JWKS_FILE);
	static const struct {
		const char *doc, *err;
	} cases[] = {
		{ "", "the JWKS is not valid JSON (at byte " },
		{ "{\"keys\": [}", "the JWKS is not valid JSON (at byte " },
		{ "[1]", "the JWKS is not an object with a \"keys\" array" },
		{ "{\"keys\": {}}", "the JWKS is not an object with a \"keys\" array" },
		{ "{\"keys\": []}", "the JWKS has no usable key" },
		{ "{\"keys\": [1]}", "the JWKS has no usable key; key 0: not a JSON object" },
		{ "{\"keys\": [{\"kty\": \"oct\", \"k\": \"AAAA\"}]}",
		  "the JWKS has no usable key; key 0: kty and crv are not RSA, EC P-256, EC P-384 or OKP Ed25519" },
		{ "{\"keys\": [{\"kty\": \"RSA\", \"n\": \"AAAA=\", \"e\": \"AQAB\"}]}",
		  "the JWKS has no usable key; key 0: n or e is not unpadded base64url" },
		{ "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-521\", \"x\": \"AA\", \"y\": \"AA\"}]}",
		  "the JWKS has no usable key; key 0: kty and crv are not RSA, EC P-256, EC P-384 or OKP Ed25519" },
		/* (1, 1) is not on P-256 */
		{ "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", "
		  "\"x\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\", "
		  "\"y\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}]}",
		  "the JWKS has no usable key; key 0: x and y are not a point of the curve" },
		/* short coordinates are padded (PyJWT before 2.8 drops leading
		 * zero bytes); (0, 0) is still not on the curve */
		{ "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"AAAA\", \"y\": \"AAAA\"}]}",
		  "the JWKS has no usable key; key 0: x and y are not a point of the curve" },
		/* 33 bytes is too long for P-256 */
		{ "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", "
		  "\"x\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\", "
		  "\"y\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\"}]}",
		  "the JWKS has no usable key; key 0: x or y is not 32 bytes of unpadded base64url" },
		{ "{\"keys\": [{\"kty\": \"OKP\", \"crv\": \"X25519\", "
		  "\"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
		  "the JWKS has no usable key; key 0: kty and crv are not RSA, EC P-256, EC P-384 or OKP Ed25519" },
		{ "{\"keys\": [{\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"alg\": \"ES256\", "
		  "\"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
		  "the JWKS has no usable key; key 0: fits none of the pinned algorithms" },
		{ "{\"keys\": [{\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"alg\": \"none\", "
		  "\"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
		  "the JWKS has no usable key; key 0: alg is not a supported algorithm" },
		{ "{\"keys\": [{\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"key_ops\": [\"sign\"], "
		  "\"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
		  "the JWKS has no usable key; key 0: key_ops does not allow verify" },
		{ "{\"keys\": [{\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"kid\": 7, "
		  "\"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
		  "the JWKS has no usable key; key 0: kid is not a string" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *e = load_err(&c, cases[i].doc, strlen(cases[i].doc));
		ck_assert_msg(!strncmp(e, cases[i].err, strlen(cases[i].err)),
			      "case %zu: '%s', wanted '%s'", i, e, cases[i].err);
	}

	/* one good key among bad ones is enough */
	static const char one[] = "{\"keys\": [{\"kty\": \"oct\"}, {\"kty\": \"OKP\", "
				  "\"crv\": \"Ed25519\", \"x\": \"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";
	trig_jwt_keys_free(load_mem(&c, one, strlen(one)));

	/* too many keys, too many bytes */
	struct buf m = BUF_INIT;
	buf_adds(&m, "{\"keys\": [");
	for (int i = 0; i <= TRIG_JWT_MAX_KEYS; i++)
		buf_adds(&m, i ? ", {}" : "{}");
	buf_adds(&m, "]}");
	ck_assert_str_eq(load_err(&c, m.data, m.len), "the JWKS has more than 100 keys");
	buf_reset(&m);
	buf_adds(&m, "{\"keys\": []");
	while (m.len <= TRIG_JWT_MAX_JWKS)
		buf_adds(&m, "          ");
	buf_adds(&m, "}");
	ck_assert_str_eq(load_err(&c, m.data, m.len), "the JWKS is larger than 1048576 bytes");
	struct trig_cond_jwt e = cond(ASYM, TRIG_SECRET_ENV);
	ck_assert_str_eq(load_err(&e, m.data, m.len), "the key is larger than 1048576 bytes");
	buf_release(&m);
}
END_TEST

/* ------------------------------------------------------------ time */

START_TEST(test_time)
{
	struct trig_cond_jwt c = cond(TRIG_HS256, TRIG_SECRET_FILE);
	struct trig_jwt_keys *k = load(&c, "hs.key");
	int64_t exp = (now_s + 600) * 1000, nbf = (now_s - 10) * 1000;

	VERIFY(k, &c, "expired-HS256", NOW, "expired 100s ago");
	VERIFY(k, &c, "future-HS256", NOW, "not valid yet (for another 300s)");
	VERIFY(k, &c, "noexp-HS256", NOW, "missing exp");
	/* exp: valid strictly before it */
	VERIFY(k, &c, "ok-HS256", exp - 1, "ok");
	VERIFY(k, &c, "ok-HS256", exp, "expired 0s ago");
	/* nbf: valid from it on */
	VERIFY(k, &c, "ok-HS256", nbf, "ok");
	VERIFY(k, &c, "ok-HS256", nbf - 1, "not valid yet (for another 1s)");
	/* fractions of seconds, to the millisecond: exp now+600.5, nbf now-0.25 */
	VERIFY(k, &c, "float-HS256", exp + 499, "ok");
	VERIFY(k, &c, "float-HS256", exp + 500, "expired 0s ago");
	VERIFY(k, &c, "float-HS256", NOW - 250, "ok");
	VERIFY(k, &c, "float-HS256", NOW - 251, "not valid yet (for another 1s)");

	/* leeway widens both bounds, exactly */
	c.leeway_ms = 30000;
	VERIFY(k, &c, "ok-HS256", exp + 29999, "ok");
	VERIFY(k, &c, "ok-HS256", exp + 30000, "expired 30s ago");
	VERIFY(k, &c, "ok-HS256", nbf - 30000, "ok");
	VERIFY(k, &c, "ok-HS256", nbf - 30001, "not valid yet (for another 31s)");
	VERIFY(k, &c, "expired-HS256", NOW, "expired 100s ago");
	c.leeway_ms = 100000;
	VERIFY(k, &c, "expired-HS256", NOW - 1, "ok");
	VERIFY(k, &c, "expired-HS256", NOW, "expired 100s ago");
	c.leeway_ms = 300000;
	VERIFY(k, &c, "future-HS256", NOW, "ok");
	trig_jwt_keys_free(k);
}
END_TEST

/* ------------------------------------------------------------ iss, aud, claims */

START_TEST(test_issuer_audience_claims)
{
	static const char *const aud1[] = { "api" };
	static const char *const aud2[] = { "nope", "other" };
	static const struct trig_binding claims[] = {
		{ "team", { "ml", NULL, 0 } },
		{ "n", { "42", NULL, 0 } },
		{ "admin", { "true", NULL, 0 } },
		{ "iss", { "https://issuer.example", NULL, 0 } },
	};
	struct trig_cond_jwt c = cond(TRIG_HS256, TRIG_SECRET_FILE);
	struct trig_jwt_keys *k;

	c.issuer = "https://issuer.example";
	k = load(&c, "hs.key");
	VERIFY(k, &c, "ok-HS256", NOW, "ok");
	VERIFY(k, &c, "iss-HS256", NOW, "issuer mismatch");
	VERIFY(k, &c, "bare-HS256", NOW, "missing issuer");
	trig_jwt_keys_free(k);

	c = cond(TRIG_HS256, TRIG_SECRET_FILE);
	k = load(&c, "hs.key");
	VERIFY(k, &c, "aud-wrong-HS256", NOW, "ok");    /* no audience: aud is not looked at */
	trig_jwt_keys_free(k);
	c.audience = aud1;
	c.naudience = 1;
	k = load(&c, "hs.key");
	VERIFY(k, &c, "ok-HS256", NOW, "ok");
	VERIFY(k, &c, "aud-str-HS256", NOW, "ok");
	VERIFY(k, &c, "aud-wrong-HS256", NOW, "audience mismatch");
	VERIFY(k, &c, "aud-bad-HS256", NOW, "malformed token: aud is not a list of strings");
	VERIFY(k, &c, "bare-HS256", NOW, "missing audience");
	trig_jwt_keys_free(k);
	c.audience = aud2;
	c.naudience = 2;
	k = load(&c, "hs.key");
	VERIFY(k, &c, "ok-HS256", NOW, "ok");
	VERIFY(k, &c, "aud-str-HS256", NOW, "audience mismatch");
	trig_jwt_keys_free(k);

	c = cond(TRIG_HS256, TRIG_SECRET_FILE);
	c.claims = claims;
	c.nclaims = 4;
	k = load(&c, "hs.key");
	VERIFY(k, &c, "ok-HS256", NOW, "ok");
	VERIFY(k, &c, "claim-HS256", NOW, "claim 'team' mismatch");
	VERIFY(k, &c, "iss-HS256", NOW, "claim 'iss' mismatch");
	VERIFY(k, &c, "bare-HS256", NOW, "missing claim 'team'");
	trig_jwt_keys_free(k);

	/* numbers and booleans compare as written; null, arrays, objects never */
	static const struct {
		const char *name, *value, *want;
	} one[] = {
		{ "n", "42.0", "claim 'n' mismatch" }, { "admin", "True", "claim 'admin' mismatch" },
		{ "aud", "api", "claim 'aud' mismatch" }, { "sub", "alice", "ok" },
		{ "sub", "alic", "claim 'sub' mismatch" }, { "nothere", "", "missing claim 'nothere'" },
		{ "sub", NULL, "claim 'sub' mismatch" },
	};
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		struct trig_binding b = { one[i].name, { one[i].value, NULL, 0 } };
		c.claims = &b;
		c.nclaims = 1;
		k = load(&c, "hs.key");
		VERIFY(k, &c, "ok-HS256", NOW, one[i].want);
		trig_jwt_keys_free(k);
	}
}
END_TEST

/* ------------------------------------------------------------ policy */

START_TEST(test_algorithm_policy)
{
	struct trig_cond_jwt c = cond(TRIG_HS256, TRIG_SECRET_FILE);
	struct trig_jwt_keys *k = load(&c, "hs.key");
	VERIFY(k, &c, "ok-HS384", NOW, "algorithm HS384 is not allowed");
	VERIFY(k, &c, "none", NOW, "algorithm none is refused");
	VERIFY(k, &c, "none-sig", NOW, "algorithm none is refused");
	VERIFY(k, &c, "NONE", NOW, "algorithm none is refused");
	VERIFY(k, &c, "tampered-HS256", NOW, "bad signature");
	/* duplicate members: the last wins (RFC 7515 §5.2 allows it) */
	VERIFY(k, &c, "dup-alg", NOW, "ok");
	trig_jwt_keys_free(k);

	/* Algorithm confusion: an HS256 token whose secret is the text of the
	 * RSA public key, against that key.  First make sure the token really
	 * is that HMAC (OpenSSL computes it here), so the refusal means something. */
	struct buf pem = slurp("rsa.pem");
	const char *t = tok("confusion-HS256");
	const char *sig = strrchr(t, '.') + 1;
	uint8_t mac[64], dec[64];
	size_t maclen = 0;
	ck_assert(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, pem.data, pem.len,
			    (const unsigned char *)t,
			    (size_t)(sig - 1 - t), mac, sizeof(mac), &maclen) != NULL);
	ck_assert_int_eq(trig_base64_decode(sig, strlen(sig), TRIG_B64_URL, dec), (long)maclen);
	ck_assert_mem_eq(mac, dec, maclen);

	c = cond(TRIG_HS256 | TRIG_RS256, TRIG_SECRET_FILE);
	k = load_mem(&c, pem.data, pem.len);
	VERIFY(k, &c, "confusion-HS256", NOW, "algorithm HS256 does not fit the key");
	VERIFY(k, &c, "ok-HS256", NOW, "algorithm HS256 does not fit the key");
	VERIFY(k, &c, "ok-RS256", NOW, "ok");
	trig_jwt_keys_free(k);
	c = cond(TRIG_HS256 | TRIG_RS256, TRIG_SECRET_JWKS_FILE);
	k = load(&c, "jwks.json");
	VERIFY(k, &c, "confusion-HS256", NOW, "no key fits algorithm HS256");
	trig_jwt_keys_free(k);
	/* and the other way: an RSA token against an HMAC secret */
	c = cond(TRIG_HS256 | TRIG_RS256, TRIG_SECRET_FILE);
	k = load(&c, "hs.key");
	VERIFY(k, &c, "ok-RS256", NOW, "algorithm RS256 does not fit the key");
	VERIFY(k, &c, "ok-HS256", NOW, "ok");
	trig_jwt_keys_free(k);
	buf_release(&pem);

	/* A condition other than the keys' own is refused. */
	struct trig_cond_jwt c2 = cond(TRIG_HS256, TRIG_SECRET_FILE);
	k = load(&c2, "hs.key");
	VERIFY(k, &c, "ok-HS256", NOW, "the keys are of another condition");
	trig_jwt_keys_free(k);
}
END_TEST

/* ------------------------------------------------------------ malformed */

START_TEST(test_malformed)
{
	struct trig_cond_jwt c = cond(TRIG_HS256, TRIG_SECRET_FILE);
	struct trig_jwt_keys *k = load(&c, "hs.key");
	struct buf key = slurp("hs.key");
	const char *ok = tok("ok-HS256");
	static const struct {
		const char *token, *want;
	} cases[] = {
		{ "", "malformed token: not three parts" },
		{ "abc", "malformed token: not three parts" },
		{ "a.b", "malformed token: not three parts" },
		{ "a.b.c.d", "malformed token: not three parts" },
		{ "..", "malformed token: an empty header" },
		{ ".YQ.YQ", "malformed token: an empty header" },
		{ "YQ..YQ", "malformed token: an empty payload" },
		{ "Y!.YQ.YQ", "malformed token: the header is not unpadded base64url" },
		{ "YQ==.YQ.YQ", "malformed token: the header is not unpadded base64url" },
		{ "YQ.Y+.YQ", "malformed token: the payload is not unpadded base64url" },
		{ "YQ.YQ.Y/", "malformed token: the signature is not unpadded base64url" },
		{ "YR.YQ.YQ", "malformed token: the header is not unpadded base64url" },
		{ "YQ.YQ.YQ", "malformed token: the header is not a JSON object" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(!strcmp(run(k, &c, cases[i].token, NOW), cases[i].want),
			      "'%s': '%s'", cases[i].token, run(k, &c, cases[i].token, NOW));

	VERIFY(k, &c, "padded-HS256", NOW, "malformed token: the payload is not unpadded base64url");
	VERIFY(k, &c, "hdr-array", NOW, "malformed token: the header is not a JSON object");
	VERIFY(k, &c, "payload-array", NOW, "malformed token: the payload is not a JSON object");
	VERIFY(k, &c, "crit-HS256", NOW, "malformed token: crit is not supported");
	VERIFY(k, &c, "kid-int", NOW, "malformed token: kid is not a string");

	/* the token exactly, nothing around it */
	struct buf t = BUF_INIT;
	buf_adds(&t, ok);
	buf_adds(&t, "=");
	ck_assert_str_eq(run(k, &c, t.data, NOW), "malformed token: the signature is not unpadded base64url");
	buf_reset(&t);
	buf_adds(&t, " ");
	buf_adds(&t, ok);
	ck_assert_str_eq(run(k, &c, t.data, NOW), "malformed token: the header is not unpadded base64url");
	buf_reset(&t);
	buf_add(&t, ok, strlen(ok) + 1);        /* with its NUL */
	ck_assert_str_eq(run_n(k, &c, t.data, t.len, NOW),
			 "malformed token: the signature is not unpadded base64url");
	ck_assert_str_eq(run_n(k, &c, ok, strlen(ok) - 3, NOW), "bad signature");   /* 30 bytes */

	/* headers without a usable alg */
	static const struct {
		const char *header, *want;
	} hdr[] = {
		{ "{\"typ\":\"JWT\"}", "malformed token: alg is missing" },
		{ "{\"alg\":256}", "malformed token: alg is not a string" },
		{ "{\"alg\":\"ES512\"}", "unsupported algorithm" },
		{ "{\"alg\":\"hs256\"}", "unsupported algorithm" },
		{ "{\"alg\":\"HS256\\u0000\"}", "unsupported algorithm" },
		{ "{\"alg\":\"N\\u006fne\"}", "algorithm none is refused" },
		{ "{\"alg\":\"HS\\u0032\\u0035\\u0036\"}", "ok" },      /* JSON escapes decode */
		{ "{\"alg\":\"HS256\",\"crit\":[]}", "malformed token: crit is not supported" },
		{ "{\"alg\":\"HS256\",\"kid\":null}", "malformed token: kid is not a string" },
		{ "{\"alg\":\"HS256\",\"jku\":\"https://evil.example/jwks\"}", "ok" },
		{ "{\"alg\":\"HS256\"} x", "malformed token: the header is not a JSON object" },
		{ "{\"alg\":\"HS256\",\"x\":\"\xff\"}", "malformed token: the header is not a JSON object" },
	};
	char payload[128];
	snprintf(payload, sizeof(payload), "{\"exp\":%lld}", (long long)now_s + 60);
	for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
		char *s = hs256(hdr[i].header, payload, key.data, key.len);
		ck_assert_msg(!strcmp(run(k, &c, s, NOW), hdr[i].want), "%s: '%s'", hdr[i].header,
			      run(k, &c, s, NOW));
		free(s);
	}
	static const char *const bad_payloads[] = { "{\"exp\":\"1\"}", "{\"exp\":1e999}",
						    "{\"exp\":true}", "[]", "{\"exp\":1}x" };
	static const char *const bad_why[] = {
		"malformed token: exp is not a number of seconds",
		"malformed token: exp is not a number of seconds",
		"malformed token: exp is not a number of seconds",
		"malformed token: the payload is not a JSON object",
		"malformed token: the payload is not a JSON object",
	};
	for (size_t i = 0; i < 5; i++) {
		char *s = hs256("{\"alg\":\"HS256\"}", bad_payloads[i], key.data, key.len);
		ck_assert_str_eq(run(k, &c, s, NOW), bad_why[i]);
		free(s);
	}
	snprintf(payload, sizeof(payload), "{\"exp\":%lld,\"nbf\":\"0\"}", (long long)now_s + 60);
	char *s = hs256("{\"alg\":\"HS256\"}", payload, key.data, key.len);
	ck_assert_str_eq(run(k, &c, s, NOW), "malformed token: nbf is not a number of seconds");
	free(s);
	snprintf(payload, sizeof(payload), "{\"exp\":%lld.5e3}", (long long)now_s);  /* far ahead */
	s = hs256("{\"alg\":\"HS256\"}", payload, key.data, key.len);
	ck_assert_str_eq(run(k, &c, s, NOW), "ok");
	free(s);

	/* the length bound: a valid token just under 16 KiB, one just over */
	buf_reset(&t);
	buf_printf(&t, "{\"exp\":%lld,\"pad\":\"", (long long)now_s + 60);
	while (t.len < 12200)
		buf_addc(&t, 'p');
	buf_adds(&t, "\"}");
	s = hs256("{\"alg\":\"HS256\"}", t.data, key.data, key.len);
	ck_assert_uint_le(strlen(s), TRIG_JWT_MAX_TOKEN);
	ck_assert_uint_gt(strlen(s), TRIG_JWT_MAX_TOKEN - 100);
	ck_assert_str_eq(run(k, &c, s, NOW), "ok");
	free(s);
	buf_reset(&t);
	buf_adds(&t, ok);
	while (t.len <= TRIG_JWT_MAX_TOKEN)
		buf_addc(&t, 'A');
	ck_assert_str_eq(run(k, &c, t.data, NOW), "malformed token: longer than 16384 bytes");

	buf_release(&t);
	buf_release(&key);
	trig_jwt_keys_free(k);
}
END_TEST

/* ------------------------------------------------------------ RFC vectors */

/* RFC 7515 A.1-A.3: header, payload {"iss":"joe", "exp":1300819380, ...}. */
#define RFC7515_PAYLOAD "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
static const char a1_token[] =
	"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." RFC7515_PAYLOAD
	".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char a1_key[] =
	"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
static const char a2_token[] =
	"eyJhbGciOiJSUzI1NiJ9." RFC7515_PAYLOAD
	".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2"
	"Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQB"
	"MHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI"
	"2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
static const char a2_jwks[] =
	"{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbj"
	"i9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690"
	"r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsm"
	"tdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PA"
	"cDTW9gb54h4FRWyuXpoQ\"}]}";
static const char a3_token[] =
	"eyJhbGciOiJFUzI1NiJ9." RFC7515_PAYLOAD
	".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
static const char a3_jwks[] =
	"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
	"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
/* RFC 8037 A.4: EdDSA over the text "Example of Ed25519 signing". */
static const char ed_token[] =
	"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3"
	"AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
static const char ed_jwks[] =
	"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";
#define RFC_EXP 1300819380000LL

START_TEST(test_rfc_vectors)
{
	/* A.1: HS256, the key given as a JWK "k" */
	uint8_t secret[80];
	long n = trig_base64_decode(a1_key, strlen(a1_key), TRIG_B64_URL, secret);
	ck_assert_int_eq(n, 64);
	static const struct trig_binding root = { "http://example.com/is_root", { "true", NULL, 0 } };
	struct trig_cond_jwt c = cond(TRIG_HS256, TRIG_SECRET_ENV);
	c.issuer = "joe";
	c.claims = &root;       /* a claim name with dots, taken literally */
	c.nclaims = 1;
	struct trig_jwt_keys *k = load_mem(&c, secret, (size_t)n);
	ck_assert_str_eq(run(k, &c, a1_token, RFC_EXP - 1), "ok");
	ck_assert_str_eq(run(k, &c, a1_token, RFC_EXP), "expired 0s ago");
	struct buf claims = BUF_INIT;
	char reason[128];
	ck_assert_int_eq(trig_jwt_verify(k, &c, a1_token, strlen(a1_token), RFC_EXP - 1000, &claims,
					 reason, sizeof(reason)), 0);
	ck_assert_str_eq(claims.data, "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n "
			 "\"http://example.com/is_root\":true}");
	buf_release(&claims);
	trig_jwt_keys_free(k);

	/* A.2: RS256 */
	c = cond(TRIG_RS256, TRIG_SECRET_JWKS_FILE);
	k = load_mem(&c, a2_jwks, strlen(a2_jwks));
	ck_assert_str_eq(run(k, &c, a2_token, RFC_EXP - 1), "ok");
	char *t = tamper(a2_token, 2);
	ck_assert_str_eq(run(k, &c, t, RFC_EXP - 1), "bad signature");
	free(t);
	trig_jwt_keys_free(k);
	c = cond(TRIG_PS256, TRIG_SECRET_JWKS_FILE);
	k = load_mem(&c, a2_jwks, strlen(a2_jwks));
	ck_assert_str_eq(run(k, &c, a2_token, RFC_EXP - 1), "algorithm RS256 is not allowed");
	trig_jwt_keys_free(k);

	/* A.3: ES256 */
	c = cond(TRIG_ES256, TRIG_SECRET_JWKS_FILE);
	k = load_mem(&c, a3_jwks, strlen(a3_jwks));
	ck_assert_str_eq(run(k, &c, a3_token, RFC_EXP - 1), "ok");
	t = tamper(a3_token, 2);
	ck_assert_str_eq(run(k, &c, t, RFC_EXP - 1), "bad signature");
	free(t);
	trig_jwt_keys_free(k);

	/* RFC 8037 A.4: the signature verifies, then the payload (text, not
	 * JSON) is refused; a changed signature fails earlier. */
	c = cond(TRIG_EDDSA, TRIG_SECRET_JWKS_FILE);
	k = load_mem(&c, ed_jwks, strlen(ed_jwks));
	ck_assert_str_eq(run(k, &c, ed_token, NOW), "malformed token: the payload is not a JSON object");
	t = tamper(ed_token, 2);
	ck_assert_str_eq(run(k, &c, t, NOW), "bad signature");
	free(t);
	trig_jwt_keys_free(k);
}
END_TEST

/* ------------------------------------------------------------ JWKS URL */

struct server {
	int ls, port;
	pthread_t thread;
	pthread_mutex_t mu;
	struct buf doc;
	int status;
	int hits;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	for (;;) {
		int fd = accept(s->ls, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		char req[8192];
		size_t got = 0;
		while (got < sizeof(req) - 1) {
			ssize_t r = read(fd, req + got, sizeof(req) - 1 - got);
			if (r <= 0)
				break;
			got += (size_t)r;
			req[got] = 0;
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		struct buf resp = BUF_INIT;
		pthread_mutex_lock(&s->mu);
		s->hits++;
		buf_printf(&resp, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
			   "Content-Length: %zu\r\nConnection: close\r\n\r\n", s->status, s->doc.len);
		buf_add(&resp, s->doc.data, s->doc.len);
		pthread_mutex_unlock(&s->mu);
		for (size_t off = 0; off < resp.len;) {
			ssize_t w = write(fd, resp.data + off, resp.len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		buf_release(&resp);
		close(fd);
	}
}

static void server_start(struct server *s)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof(a);
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	s->status = 200;
	s->ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s->ls, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s->ls, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s->ls, 16), 0);
	ck_assert_int_eq(getsockname(s->ls, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->ls, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->ls);
	buf_release(&s->doc);
	pthread_mutex_destroy(&s->mu);
}

static void server_set(struct server *s, const char *file, int status)
{
	struct buf d = file ? slurp(file) : (struct buf)BUF_INIT;
	pthread_mutex_lock(&s->mu);
	buf_release(&s->doc);
	s->doc = d;
	s->status = status;
	pthread_mutex_unlock(&s->mu);
}

static int server_hits(struct server *s)
{
	pthread_mutex_lock(&s->mu);
	int n = s->hits;
	pthread_mutex_unlock(&s->mu);
	return n;
}

START_TEST(test_jwks_url)
{
	struct server s;
	char url[128];
	server_start(&s);
	server_set(&s, "jwks-a.json", 200);        /* rsa-1 */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/.well-known/jwks.json", s.port);
	struct trig_cond_jwt c = cond(TRIG_RS256, TRIG_SECRET_JWKS_URL);
	c.key.ref = url;
	struct trig_jwt_keys *k = trig_jwt_keys_new(&c, NULL, 0, NULL, 0);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(server_hits(&s), 1);
	VERIFY(k, &c, "ok-RS256", NOW, "ok");
	VERIFY(k, &c, "long-RS256", NOW, "ok");
	ck_assert_int_eq(server_hits(&s), 1);

	/* rsa-2 appears: the unknown kid makes one fetch, then verifies */
	server_set(&s, "jwks-b.json", 200);
	VERIFY(k, &c, "rsa2-RS256", NOW, "ok");
	ck_assert_int_eq(server_hits(&s), 2);
	VERIFY(k, &c, "rsa2-RS256", NOW, "ok");
	ck_assert_int_eq(server_hits(&s), 2);
	/* an unknown kid again: not within 30 s of the last fetch */
	VERIFY(k, &c, "unknown-kid", NOW + 1000, "unknown key id");
	VERIFY(k, &c, "unknown-kid", NOW + 29999, "unknown key id");
	ck_assert_int_eq(server_hits(&s), 2);
	VERIFY(k, &c, "unknown-kid", NOW + 30000, "unknown key id");
	ck_assert_int_eq(server_hits(&s), 3);
	VERIFY(k, &c, "unknown-kid", NOW + 31000, "unknown key id");
	ck_assert_int_eq(server_hits(&s), 3);

	/* keys an hour old are fetched again, even for a known kid */
	VERIFY(k, &c, "long-RS256", NOW + 30000 + TRIG_JWT_MAX_AGE_MS - 1, "ok");
	ck_assert_int_eq(server_hits(&s), 3);
	VERIFY(k, &c, "long-RS256", NOW + 30000 + TRIG_JWT_MAX_AGE_MS, "ok");
	ck_assert_int_eq(server_hits(&s), 4);

	/* a failed fetch keeps the keys, and is not retried at once */
	server_set(&s, "jwks-b.json", 500);
	int64_t t = NOW + 30000 + 2 * TRIG_JWT_MAX_AGE_MS;
	VERIFY(k, &c, "long2-RS256", t, "ok");
	ck_assert_int_eq(server_hits(&s), 5);
	VERIFY(k, &c, "long2-RS256", t + 1000, "ok");
	VERIFY(k, &c, "unknown-kid", t + 2000, "unknown key id");
	ck_assert_int_eq(server_hits(&s), 5);

	/* a new document replaces the keys: rsa-2 is gone */
	server_set(&s, "jwks-a.json", 200);
	VERIFY(k, &c, "unknown-kid", t + 30000, "unknown key id");
	ck_assert_int_eq(server_hits(&s), 6);
	VERIFY(k, &c, "long2-RS256", t + 31000, "unknown key id");
	VERIFY(k, &c, "long-RS256", t + 31000, "ok");
	ck_assert_int_eq(server_hits(&s), 6);
	trig_jwt_keys_free(k);

	/* refusals when loading */
	char err[256];
	server_set(&s, "jwks-a.json", 404);
	ck_assert_ptr_null(trig_jwt_keys_new(&c, NULL, 0, err, sizeof(err)));
	ck_assert_msg(!strncmp(err, "cannot fetch the JWKS: ", 23), "%s", err);
	server_set(&s, "rsa.pem", 200);
	ck_assert_ptr_null(trig_jwt_keys_new(&c, NULL, 0, err, sizeof(err)));
	ck_assert_msg(!strncmp(err, "the JWKS is not valid JSON (at byte ", 28), "%s", err);
	pthread_mutex_lock(&s.mu);
	buf_reset(&s.doc);
	while (s.doc.len <= TRIG_JWT_MAX_JWKS)
		buf_adds(&s.doc, "                ");
	pthread_mutex_unlock(&s.mu);
	ck_assert_ptr_null(trig_jwt_keys_new(&c, NULL, 0, err, sizeof(err)));
	ck_assert_str_eq(err, "the JWKS is larger than 1048576 bytes");
	server_stop(&s);
	ck_assert_ptr_null(trig_jwt_keys_new(&c, NULL, 0, err, sizeof(err)));
	ck_assert_msg(!strncmp(err, "cannot fetch the JWKS: ", 23), "%s", err);

	static const char *const refused[] = {
		"http://id.example.com/jwks.json", "ftp://127.0.0.1/jwks.json", "file:///etc/passwd",
		"http://10.0.0.1/jwks", "not a url", "",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		c.key.ref = refused[i];
		ck_assert_ptr_null(trig_jwt_keys_new(&c, NULL, 0, err, sizeof(err)));
		ck_assert_str_eq(err, "the JWKS URL must be https (plain http only to the loopback address)");
	}
	c.key.ref = NULL;
	ck_assert_ptr_null(trig_jwt_keys_new(&c, NULL, 0, err, sizeof(err)));
}
END_TEST

/* Many threads verifying while unknown kids keep replacing the key set. */
struct worker {
	struct trig_jwt_keys *k;
	const struct trig_cond_jwt *c;
	int id, bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	const char *good = tok("ok-RS256"), *unknown = tok("unknown-kid");
	for (int i = 0; i < 40; i++) {
		char reason[128];
		struct buf claims = BUF_INIT;
		int64_t at = NOW + (int64_t)(i * 4 + w->id) * 31000 % 500000;
		if (trig_jwt_verify(w->k, w->c, good, strlen(good), at, &claims, reason,
				    sizeof(reason)) != 0)
			w->bad++;
		if (trig_jwt_verify(w->k, w->c, unknown, strlen(unknown), at, &claims, reason,
				    sizeof(reason)) == 0 || strcmp(reason, "unknown key id"))
			w->bad++;
		buf_release(&claims);
	}
	return NULL;
}

START_TEST(test_jwks_url_threads)
{
	struct server s;
	char url[128];
	server_start(&s);
	server_set(&s, "jwks-b.json", 200);
	snprintf(url, sizeof(url), "http://localhost:%d/jwks", s.port);
	struct trig_cond_jwt c = cond(TRIG_RS256, TRIG_SECRET_JWKS_URL);
	c.key.ref = url;
	struct trig_jwt_keys *k = trig_jwt_keys_new(&c, NULL, 0, NULL, 0);
	ck_assert_ptr_nonnull(k);
	pthread_t th[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ k, &c, i, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].bad, 0);
	}
	ck_assert_int_gt(server_hits(&s), 2);
	trig_jwt_keys_free(k);
	server_stop(&s);
}
END_TEST

static Suite *jwt_suite(void)
{
	Suite *s = suite_create("jwt");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, generate, cleanup);
	tcase_add_test(tc, test_every_algorithm);
	tcase_add_test(tc, test_claims_out);
	tcase_add_test(tc, test_pem_forms);
	tcase_add_test(tc, test_material_refused);
	tcase_add_test(tc, test_jwks_kids);
	tcase_add_test(tc, test_jwks_refused);
	tcase_add_test(tc, test_time);
	tcase_add_test(tc, test_issuer_audience_claims);
	tcase_add_test(tc, test_algorithm_policy);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_rfc_vectors);
	tcase_add_test(tc, test_jwks_url);
	tcase_add_test(tc, test_jwks_url_threads);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(jwt_suite)
