/*
 * hmac.h — webhook signatures: the `hmac` condition (SPEC.md §2.2).
 *
 * A provider signs each request with a secret it shares with us; the
 * condition recomputes the signature over the request and compares.  Each
 * preset follows its provider's documented scheme exactly:
 *
 *   github       X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256(body)
 *   gitlab       X-Gitlab-Token: the secret itself (a static token, not a
 *                signature; SPEC.md's "gitlab-style none"), compared in
 *                constant time whatever the lengths
 *   slack        X-Slack-Signature: "v0=" + hex HMAC-SHA256("v0:" + TS +
 *                ":" + body), TS = X-Slack-Request-Timestamp
 *   stripe       Stripe-Signature: "t=TS,v1=HEX[,v1=HEX...]" (other
 *                schemes such as v0= are ignored); HMAC-SHA256(TS + "." +
 *                body); the key is the whole "whsec_..." string, as is
 *   standard-webhooks (Svix)  webhook-id, webhook-timestamp and
 *                webhook-signature, or when webhook-id is absent Svix's
 *                svix-id, svix-timestamp and svix-signature; the signature
 *                header holds "v1,BASE64" entries separated by spaces;
 *                HMAC-SHA256(ID + "." + TS + "." + body); the key is the
 *                base64 after an optional "whsec_"
 *   shopify      X-Shopify-Hmac-Sha256: base64 HMAC-SHA256(body)
 *   twilio       X-Twilio-Signature: base64 HMAC-SHA1(URL + PARAMS), where
 *                URL is the URL Twilio requested: the scheme from
 *                X-Forwarded-Proto (its first entry) or else "https", the
 *                host from X-Forwarded-Host (its first entry) or else Host,
 *                then the request target as received.  As Twilio's own
 *                libraries do, the URL is also tried with the default port
 *                added (":443", ":80") or, when it has a port, without it.
 *                PARAMS, for a POST whose Content-Type is
 *                application/x-www-form-urlencoded, is every form field
 *                (decoded) sorted by name then value, byte-wise, each name
 *                followed by its value; otherwise it is empty, and a
 *                non-empty body must then be covered by the URL's
 *                bodySHA256 query parameter (hex SHA-256 of the body, as
 *                Twilio sends for JSON bodies), or the request is refused
 *   none         (custom) `algorithm` over the rendered `message` template
 *                (trig_request_field for its request fields, nothing
 *                escaped) or the raw body when there is no template; the
 *                signature in `header`, after `prefix`, as `encoding` hex or
 *                base64 (either alphabet)
 *
 * A signed timestamp (slack, stripe, standard-webhooks) must be decimal
 * Unix seconds, or its header is malformed.
 *
 * A received signature is decoded to bytes first (hex in any case, base64
 * with or without padding), its length checked, and the bytes compared in
 * constant time.  Where one header holds several signatures (Stripe,
 * Standard Webhooks), the request passes if any of them matches.
 *
 * The key: trig_hmac_key() turns the secret as read (secret.h) into the
 * HMAC key once, at start-up.  Stripe uses the secret as is and Standard
 * Webhooks base64-decodes it, whatever `secret-encoding` says; the other
 * presets and custom conditions follow `secret-encoding`: raw (the bytes as
 * is, a "whsec_" prefix included), hex or base64 (either alphabet), the
 * last two after stripping a "whsec_" prefix.  An empty key is refused.
 *
 * Ownership: the caller owns the key buffer (release it with
 * trig_secret_release(), which wipes it); nothing here keeps a pointer to
 * its arguments.  Thread-safety: both functions may run in any number of
 * threads at once (each request with its own struct trig_request).
 */
#ifndef TRIG_HMAC_H
#define TRIG_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "request.h"
#include "trig.h"

/* Replaces KEY's contents with the HMAC key made from the secret
 * SECRET[0..LEN) (as read: the caller has trimmed its trailing newline)
 * for condition C.  0, or -1 with a message in ERR that never quotes the
 * secret ("the secret is not valid base64 (secret-encoding: base64)"). */
int trig_hmac_key(const struct trig_cond_hmac *c, const char *secret, size_t len,
		  struct buf *key, char *err, size_t errlen);

/* Checks the signature of request R for condition C with the key made by
 * trig_hmac_key().  0 (and an empty REASON) when a signature in the
 * request matches; -1 with a short reason for the audit log ("no 'X-Hub-Signature-256' header",
 * "malformed 'Stripe-Signature' header", "signature mismatch"), which
 * never quotes the secret or a signature.  *TIMESTAMP_S is the signed
 * timestamp (Unix seconds) when the request passes and its scheme has one
 * (slack, stripe, standard-webhooks), for a `timestamp: {from: signature}`
 * condition to judge; INT64_MIN otherwise.  R is not const: a form body
 * is parsed on first use (Twilio). */
int trig_hmac_verify(const struct trig_cond_hmac *c, const void *key, size_t keylen,
		     struct trig_request *r, int64_t *timestamp_s, char *reason,
		     size_t reasonlen);

#endif
