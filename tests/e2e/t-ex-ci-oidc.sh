# examples/ci-oidc: GitHub-Actions-shaped OIDC tokens made by PyJWT, the
# keys served as a JWKS by a local stand-in for GitHub: a token from main
# launches an evaluation with its claims; other branches, other
# repositories, expired, wrongly signed and HS256-confused tokens do not.
. "$TRIG_SRC/tests/e2e/lib.sh"

PY=/usr/bin/python3
$PY -c 'import jwt, cryptography' 2>/dev/null ||
	fail "/usr/bin/python3 lacks PyJWT (python3-jwt, python3-cryptography: scripts/install-deps.sh)"
cp "$TRIG_SRC"/examples/ci-oidc/* .
mkdir www
$PY - <<'PY'
import json
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm
for name in ("github", "mallory"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    open(name + ".pem", "wb").write(key.private_bytes(serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pub = key.public_key()
    open(name + ".pub.pem", "wb").write(pub.public_bytes(serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo))
    if name == "github":
        jwk = json.loads(RSAAlgorithm.to_jwk(pub))
        jwk.update(kid="gh-1", use="sig", alg="RS256")
        json.dump({"keys": [jwk]}, open("www/jwks", "w"))
PY
# GitHub's JWKS endpoint, on loopback (trig allows plain http only there).
$PY -m http.server 0 --bind 127.0.0.1 --directory www > jwks.log 2>&1 &
PIDS="$PIDS $!"
wait_until 10 grep -q 'Serving HTTP' jwks.log || fail "the JWKS server did not start"
jport=$(sed -n 's/.*port \([0-9]*\).*/\1/p' jwks.log | head -n 1)
sed -i "s|https://token.actions.githubusercontent.com/.well-known/jwks|http://127.0.0.1:$jport/jwks|" ci.trig
build ci.trig ./ci-oidc
start_server ./ci-oidc
URL=http://127.0.0.1:$PORT/hooks/ci

token() { # KEY REF REPO EXP-OFFSET [ALG]
	$PY - "$@" <<'PY'
import sys, time, jwt
key, ref, repo, off = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
alg = sys.argv[5] if len(sys.argv) > 5 else "RS256"
now = int(time.time())
claims = {"iss": "https://token.actions.githubusercontent.com", "aud": "trig",
          "sub": f"repo:{repo}:ref:{ref}", "repository": repo, "ref": ref,
          "sha": "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "run_id": "9876543210",
          "event_name": "push", "iat": now - 5, "nbf": now - 5, "exp": now + off}
if alg.startswith("HS"):
    # PyJWT refuses to key HMAC with a PEM (it guards against the very
    # confusion tested here): sign by hand.
    import base64, hashlib, hmac, json
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "gh-1"}).encode())
    body = b64(json.dumps(claims).encode())
    mac = hmac.new(open(key, "rb").read(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    print(f"{head}.{body}.{b64(mac)}")
else:
    print(jwt.encode(claims, open(key, "rb").read(), algorithm=alg, headers={"kid": "gh-1"}))
PY
}
call() { # TOKEN → status
	curl -s -o resp.txt -w '%{http_code}' -X POST -H "Authorization: Bearer $1" "$URL"
}

expect_eq "a job on main" "$(call "$(token github.pem refs/heads/main acme/mnist 300)")" 202
expect_grep '^{"launch": "l-[0-9A-Z]*", "sha": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}$' resp.txt
wait_until 10 at_least completed 1 || fail "the evaluation did not complete"
expect_eq "what ran" "$(cat .trig-state/executions/*/stdout.log)" \
	"evaluating 6113728f27ae82c7b1a177c8d03f9e96e0adf246 for CI run 9876543210"
expect_eq "another branch" "$(call "$(token github.pem refs/heads/dev acme/mnist 300)")" 200
expect_eq "another repository" "$(call "$(token github.pem refs/heads/main evil/mnist 300)")" 401
expect_eq "expired" "$(call "$(token github.pem refs/heads/main acme/mnist -120)")" 401
expect_eq "signed by another key" "$(call "$(token mallory.pem refs/heads/main acme/mnist 300)")" 401
# Algorithm confusion: HS256 keyed with the public key anyone can fetch.
cp github.pub.pem pub.txt
expect_eq "HS256 with the public key" \
	"$(call "$(token pub.txt refs/heads/main acme/mnist 300 HS256)")" 401
expect_eq "no token" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")" 401
stop_server
./ci-oidc logs --json > audit.json
expect_grep '"reason":"expired' audit.json
expect_grep '"reason":"algorithm HS256 is not allowed' audit.json
