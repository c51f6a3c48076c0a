/*
 * jwt.h — verifying JSON Web Tokens (compact JWS, RFC 7515/7519) for the
 * `jwt` condition (SPEC.md §2.2), with OpenSSL 3.
 *
 * A struct trig_jwt_keys holds the verification keys of one condition;
 * trig_jwt_verify() checks one token against them and the condition.
 *
 * Keys.  The material of the condition's `key` secret is read by the caller
 * and given to trig_jwt_keys_new() as bytes, used exactly as given (nothing
 * is trimmed; a caller that reads a file decides about its last newline):
 *   - TRIG_SECRET_ENV, TRIG_SECRET_FILE: after leading white space,
 *       "-----BEGIN " is one PEM block: PUBLIC KEY (SubjectPublicKeyInfo),
 *           RSA PUBLIC KEY (PKCS#1) or CERTIFICATE (only its key is used:
 *           its dates, issuer and chain are not checked); nothing but white
 *           space may follow it; encrypted blocks and private keys are refused;
 *       a JSON object with a "keys" member is a JWKS (below);
 *       anything else is an HMAC secret, for HS* only, at least as long as
 *           the hash of every pinned HS* algorithm (32, 48, 64 bytes: RFC 7518
 *           §3.2).
 *   - TRIG_SECRET_JWKS_FILE: the bytes are a JWKS.
 *   - TRIG_SECRET_JWKS_URL: material is NULL; key.ref is fetched with
 *     libcurl: https only (plain http only to localhost, 127.0.0.1 or ::1,
 *     for tests), redirects to https only, never through a proxy for those
 *     loopback names, 5 s to connect, 10 s in all, at most
 *     TRIG_JWT_MAX_JWKS bytes, any status but 2xx is a failure.
 * Material is at most TRIG_JWT_MAX_JWKS bytes.  A JWKS is strict JSON (json.h)
 * {"keys": [JWK, ...]} with at most TRIG_JWT_MAX_KEYS keys.  A JWK is used if
 * it is kty RSA (n, e; 2048 to 8192 bits: RS*, PS*), EC (crv P-256: ES256,
 * P-384: ES384; x and y of the curve's full length; the point must be on the
 * curve) or OKP (crv Ed25519: EdDSA); its "use", when present, is "sig"; its
 * "key_ops", when present, holds "verify"; its "alg", when present, names one
 * supported algorithm, which is then the only one it verifies; base64url
 * members are unpadded.  As RFC 7517 §5 asks, other JWKs are skipped: those
 * not meant for this condition (another use or key_ops, kty oct, another
 * curve, an unsupported alg, no pinned algorithm) quietly (debug log), and
 * malformed or weak ones of a supported type (bad base64url, a point off
 * the curve, RSA outside 2048-8192 bits, a kid that is not a string) with a
 * warning; both name the key's index and kid.  A JWKS with no usable key is
 * an error, which names the first reason.  A PEM key likewise needs 2048
 * to 8192 bits for RSA, P-256 or P-384 for EC, or Ed25519.  Every key is
 * kept only for the pinned algorithms it can verify; a PEM key or HMAC
 * secret that fits none of them is an error.
 *
 * Tokens.  trig_jwt_verify() accepts a token when all of this holds, checked
 * in this order, and reports the first failure:
 *   - at most TRIG_JWT_MAX_TOKEN bytes; exactly three dot-separated parts,
 *     each unpadded base64url ('=' is refused), header and payload not empty;
 *   - the header is a JSON object (json.h strictness, the last of duplicate
 *     members wins); "alg" is a string naming a supported algorithm ("none",
 *     in any spelling, is never accepted) that the condition pins; "crit" is
 *     absent (no extension is understood); "kid", when present, is a string;
 *     "jku", "jwk", "x5u", "x5c" are ignored: keys never come from a token;
 *   - a key fits the algorithm: an HS* token is refused when the keys are
 *     public keys, an RS/PS/ES/EdDSA token when the key is an HMAC secret
 *     (algorithm confusion); with a JWKS, a token's kid selects the keys of
 *     that kid (keys without a kid serve only tokens without one), and a
 *     token without a kid is tried against every key that fits its alg;
 *     a PEM key or HMAC secret ignores the kid;
 *   - the signature verifies: HS* HMAC compared in constant time
 *     (CRYPTO_memcmp); RS* RSASSA-PKCS1-v1_5 and PS* RSASSA-PSS (MGF1 with
 *     the same hash, salt length = hash length), the signature exactly as
 *     long as the modulus; ES256/ES384 JOSE R||S (64/96 bytes), converted to
 *     DER for OpenSSL; EdDSA Ed25519;
 *   - only then is the payload read: a JSON object; "exp" is required, a
 *     number (integer or fraction, seconds), and now < exp + leeway; "nbf",
 *     when present, a number, and now >= nbf - leeway (leeway: the
 *     condition's leeway_ms, so both bounds are exact to the millisecond);
 *     when the condition has an issuer, "iss" is a string equal to it; when
 *     it has audiences, "aud" is a string or an array of strings, one of
 *     which equals one of them (when it has none, "aud" is not looked at);
 *   - each of the condition's claims: the top-level claim of the binding's
 *     name (taken literally: dots are part of the name) is present, and
 *     equals the binding's template source text (trig_template.source,
 *     NULL as ""), literally: templates are not rendered yet.  A string
 *     claim compares its decoded value; a number, true or false its JSON
 *     text as written (42 is not 42.0); null, arrays and objects never
 *     equal.
 * Failure reasons are short fixed phrases ("expired 37s ago", "algorithm
 * HS256 is not allowed", "bad signature", "issuer mismatch", "unknown key
 * id", "malformed token: ...").  They name algorithms only from the
 * supported list and claims only by the condition's own names, and never
 * hold bytes of the token (not even its kid) or of a key.
 *
 * The JWKS cache (TRIG_SECRET_JWKS_URL).  trig_jwt_keys_new() fetches the
 * document once and fails if it cannot.  Afterwards a fetch happens while
 * verifying, and its clock is the now_ms given to trig_jwt_verify():
 *   - when a token's kid is in no key, at most once per TRIG_JWT_REFETCH_MS
 *     (30 s) since the last attempt, successful or not; the verifying thread
 *     waits for it (and for a fetch already running) and then looks again;
 *   - when the keys are TRIG_JWT_MAX_AGE_MS (an hour) old, with the same
 *     limit; the thread that notices fetches while the others go on with
 *     the old keys.
 * A fetch that fails (network, status, size, syntax, no usable key) keeps the
 * keys there were, and is logged as a warning.  The initial fetch is stamped
 * with the wall clock (CLOCK_REALTIME), so now_ms must be that clock too.
 *
 * Ownership: trig_jwt_keys_new() copies what it keeps of the material (the
 * caller may wipe it afterwards) and borrows the condition, which must
 * outlive the keys.  Thread-safety: any number of threads may call
 * trig_jwt_verify() on one keys object at once; trig_jwt_keys_free() must be
 * the last call.  libcurl's global state is initialised when a JWKS URL is
 * used (libcurl >= 7.84, where that is thread-safe).
 */
#ifndef TRIG_JWT_H
#define TRIG_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "trig.h"

#define TRIG_JWT_MAX_TOKEN      16384           /* bytes of one token */
#define TRIG_JWT_MAX_JWKS       (1 << 20)       /* bytes of key material or a JWKS */
#define TRIG_JWT_MAX_KEYS       100             /* keys in one JWKS */
#define TRIG_JWT_REFETCH_MS     30000           /* least time between two fetches */
#define TRIG_JWT_MAX_AGE_MS     3600000         /* age at which keys are fetched again */

struct trig_jwt_keys;

/*
 * Builds the keys of condition c from the material of its `key` secret
 * (material[0..len); NULL and 0 for TRIG_SECRET_JWKS_URL, whose URL is
 * c->key.ref).  Returns NULL with a message in err[0..errlen) when the
 * material is unusable, the condition pins no supported algorithm, or the
 * JWKS cannot be fetched; the message never holds key bytes.
 */
struct trig_jwt_keys *trig_jwt_keys_new(const struct trig_cond_jwt *c, const void *material,
					size_t len, char *err, size_t errlen);

/* Frees the keys (wiping HMAC secrets); NULL is allowed. */
void trig_jwt_keys_free(struct trig_jwt_keys *k);

/*
 * Verifies token[0..len) (the compact form, without "Bearer ") against the
 * keys and c, which must be the condition the keys were built for, at
 * now_ms (milliseconds since the epoch).  On success returns 0 and appends
 * the decoded payload (the JSON claims object, as signed) to *claims.  On
 * failure returns -1 with a reason in reason[0..reasonlen) and leaves
 * *claims alone.
 */
int trig_jwt_verify(struct trig_jwt_keys *k, const struct trig_cond_jwt *c, const char *token,
		    size_t len, int64_t now_ms, struct buf *claims, char *reason,
		    size_t reasonlen);

#endif
