#!/usr/bin/python3
# jwt_tokens.py DIR NOW — keys and tokens for tests/unit/test_jwt.c, made by
# an implementation independent of trig's: PyJWT and cryptography (Debian's
# python3-jwt and python3-cryptography, under /usr/bin/python3).
#
# Writes into DIR fresh keys as PEM files (public keys, one certificate, and
# for the refusal tests a private key, a 1024-bit RSA key and a P-521 key),
# the HMAC secret hs.key (64 random bytes) and the JWKS documents jwks.json,
# jwks-a.json and jwks-b.json.  Prints one "NAME TOKEN" line per token on
# stdout.  Claims are relative to NOW (seconds since the epoch).  Tokens
# PyJWT refuses to make (alg none with a signature, algorithm confusion,
# padded base64url, a DER ECDSA signature, a PSS salt of the wrong length or
# a signature one byte short, duplicate header members) are assembled here
# by hand with hmac and cryptography.  Exits 2 with a message when a module
# is missing.
import base64
import hashlib
import hmac
import json
import os
import sys

try:
    import jwt
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
except ImportError as e:
    sys.stderr.write("jwt_tokens.py: %s: install python3-jwt and python3-cryptography "
                     "(scripts/install-deps.sh)\n" % e)
    sys.exit(2)

import datetime

out, now = sys.argv[1], int(sys.argv[2])


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def pub_pem(key, fmt=serialization.PublicFormat.SubjectPublicKeyInfo):
    return key.public_key().public_bytes(serialization.Encoding.PEM, fmt)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(alg_class, key, **extra):
    d = json.loads(alg_class.to_jwk(key.public_key()))
    d.update(extra)
    return d


def by_hand(header, payload, key, digest=hashlib.sha256):
    """An HS* token over the exact JSON texts given, signed with key."""
    signing = b64(header.encode()) + "." + b64(payload.encode())
    return signing + "." + b64(hmac.new(key, signing.encode(), digest).digest())


rsa1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa_small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
ec256 = ec.generate_private_key(ec.SECP256R1())
ec384 = ec.generate_private_key(ec.SECP384R1())
ec521 = ec.generate_private_key(ec.SECP521R1())
ed = ed25519.Ed25519PrivateKey.generate()
secret = os.urandom(64)

write("hs.key", secret)
write("rsa.pem", pub_pem(rsa1))
write("rsa-pkcs1.pem", pub_pem(rsa1, serialization.PublicFormat.PKCS1))
write("rsa2.pem", pub_pem(rsa2))
write("rsa1024.pem", pub_pem(rsa_small))
write("ec256.pem", pub_pem(ec256))
write("ec384.pem", pub_pem(ec384))
write("ec521.pem", pub_pem(ec521))
write("ed25519.pem", pub_pem(ed))
write("rsa-private.pem", rsa1.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trig test")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(rsa1.public_key()).serial_number(1)
        .not_valid_before(datetime.datetime(2020, 1, 1))
        .not_valid_after(datetime.datetime(2021, 1, 1))   # expired: dates are not checked
        .sign(rsa1, hashes.SHA256()))
write("rsa.crt", cert.public_bytes(serialization.Encoding.PEM))

keys = [
    jwk(RSAAlgorithm, rsa1, kid="rsa-1", use="sig"),
    jwk(RSAAlgorithm, rsa2, kid="rsa-2", alg="RS256", key_ops=["verify"]),
    jwk(ECAlgorithm, ec256, kid="ec-256"),
    jwk(ECAlgorithm, ec384, kid="ec-384", alg="ES384"),
    jwk(OKPAlgorithm, ed, kid="ed-1"),
    jwk(RSAAlgorithm, rsa2, kid="enc-1", use="enc"),             # skipped: not for signatures
    jwk(ECAlgorithm, ec521, kid="ec-521"),                       # skipped: P-521
    {"kty": "oct", "kid": "oct-1", "k": b64(secret)},            # skipped: shared secret
    jwk(RSAAlgorithm, rsa_small, kid="rsa-small"),               # skipped: 1024 bits
]
# A P-256 key whose x starts with a zero byte, written as some issuers
# write it (PyJWT before 2.8): 31 bytes, the zero dropped.
while True:
    ec_short = ec.generate_private_key(ec.SECP256R1())
    pn = ec_short.public_key().public_numbers()
    if pn.x < 1 << 248:
        break
keys.append({"kty": "EC", "crv": "P-256", "kid": "ec-short",
             "x": b64(pn.x.to_bytes(31, "big")), "y": b64(pn.y.to_bytes(32, "big"))})
write("jwks.json", json.dumps({"keys": keys}, indent=1).encode())
write("jwks-a.json", json.dumps({"keys": [keys[0]]}).encode())
write("jwks-b.json", json.dumps({"keys": [keys[0], keys[1]]}).encode())

claims = {"iss": "https://issuer.example", "aud": ["other", "api"], "sub": "alice",
          "team": "ml", "n": 42, "admin": True, "iat": now, "nbf": now - 10, "exp": now + 600}


def token(name, key, alg, kid=None, **changes):
    c = dict(claims)
    for k, v in changes.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    headers = {"kid": kid} if kid else None
    print(name, jwt.encode(c, key, algorithm=alg, headers=headers))


signers = {
    "HS256": (secret, None), "HS384": (secret, None), "HS512": (secret, None),
    "RS256": (rsa1, "rsa-1"), "RS384": (rsa1, "rsa-1"), "RS512": (rsa1, "rsa-1"),
    "PS256": (rsa1, "rsa-1"), "PS384": (rsa1, "rsa-1"), "PS512": (rsa1, "rsa-1"),
    "ES256": (ec256, "ec-256"), "ES384": (ec384, "ec-384"), "EdDSA": (ed, "ed-1"),
}
for alg, (key, kid) in signers.items():
    token("ok-" + alg, key, alg, kid)

token("nokid-RS256", rsa1, "RS256")
token("rsa2-RS256", rsa2, "RS256", "rsa-2")
token("rsa2-PS256", rsa2, "PS256", "rsa-2")
token("unknown-kid", rsa1, "RS256", "nope")
token("enc-kid", rsa2, "RS256", "enc-1")
token("wrongkey-RS256", rsa2, "RS256", "rsa-1")
token("long-RS256", rsa1, "RS256", "rsa-1", exp=now + 3 * 86400)
token("long2-RS256", rsa2, "RS256", "rsa-2", exp=now + 3 * 86400)
token("expired-HS256", secret, "HS256", exp=now - 100)
token("future-HS256", secret, "HS256", nbf=now + 300)
token("float-HS256", secret, "HS256", exp=now + 600.5, nbf=now - 0.25)
token("noexp-HS256", secret, "HS256", exp=None)
token("bare-HS256", secret, "HS256", iss=None, aud=None, sub=None, team=None, n=None,
      admin=None, nbf=None)
token("iss-HS256", secret, "HS256", iss="https://evil.example")
token("aud-str-HS256", secret, "HS256", aud="api")
token("aud-wrong-HS256", secret, "HS256", aud=["nope"])
token("aud-bad-HS256", secret, "HS256", aud=["api", 1])
token("claim-HS256", secret, "HS256", team="ops")
print("crit-HS256", jwt.encode(claims, secret, algorithm="HS256", headers={"crit": ["exp"]}))
print("none", jwt.encode(claims, None, algorithm="none"))

body = json.dumps(claims)
print("none-sig", by_hand('{"alg":"none"}', body, secret).rsplit(".", 1)[0] + "."
      + by_hand('{"alg":"HS256"}', body, secret).rsplit(".", 1)[1])
print("NONE", by_hand('{"alg":"NONE"}', body, secret))
print("kid-int", by_hand('{"alg":"HS256","kid":5}', body, secret))
print("dup-alg", by_hand('{"alg":"none","alg":"HS256"}', body, secret))
print("hdr-array", by_hand('["HS256"]', body, secret))
print("payload-array", by_hand('{"alg":"HS256"}', json.dumps([claims]), secret))

# The payload signed with its padded base64url encoding, so that only the
# padding is wrong.  The claims are grown until the encoding needs padding.
padded = dict(claims)
while len(json.dumps(padded)) % 3 == 0:
    padded["x"] = padded.get("x", "") + "x"
p64 = base64.urlsafe_b64encode(json.dumps(padded).encode()).decode()
signing = b64(b'{"alg":"HS256"}') + "." + p64
print("padded-HS256", signing + "." + b64(hmac.new(secret, signing.encode(), hashlib.sha256).digest()))

# The payload of a valid token replaced: the signature is of other claims.
h, _, s = jwt.encode(claims, secret, algorithm="HS256").split(".")
print("tampered-HS256", h + "." + b64(json.dumps(dict(claims, team="admin")).encode()) + "." + s)

# Algorithm confusion: HS256 keyed with the text of the RSA public key.
print("confusion-HS256", by_hand('{"alg":"HS256","typ":"JWT"}', body, pub_pem(rsa1)))

# PS256 with a salt of 0 bytes: valid RSASSA-PSS, but JWA wants the hash's length.
signing = b64(b'{"alg":"PS256","kid":"rsa-1"}') + "." + b64(body.encode())
sig = rsa1.sign(signing.encode(), padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=0),
                hashes.SHA256())
print("salt0-PS256", signing + "." + b64(sig))

# PS256 whose signature starts with a zero byte, sent without it: OpenSSL's
# PSS check alone would take the shorter signature (about 1 in 256 tries).
while True:
    t = jwt.encode(claims, rsa1, algorithm="PS256", headers={"kid": "rsa-1"})
    h, p, s = t.split(".")
    raw = base64.urlsafe_b64decode(s + "==")
    if raw[0] == 0:
        print("short-PS256", h + "." + p + "." + b64(raw[1:]))
        break

# ES256 with the DER signature OpenSSL would make, not JOSE's R||S.
signing = b64(b'{"alg":"ES256","kid":"ec-256"}') + "." + b64(body.encode())
der = ec256.sign(signing.encode(), ec.ECDSA(hashes.SHA256()))
print("der-ES256", signing + "." + b64(der))
token("short-ES256", ec_short, "ES256", "ec-short")
