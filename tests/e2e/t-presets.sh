# Every hmac preset over loopback, with the providers' published vectors
# (../shared/testdata/signatures/vectors.json) where they exist and
# signatures made with openssl otherwise; a custom scheme; a query token;
# ip-allow; any/all/not.
. "$TRIG_SRC/tests/e2e/lib.sh"

VEC=$TRIG_SHARED/testdata/signatures/vectors.json
vec() { # PROVIDER FIELD → the field of that provider's vector
	/usr/bin/python3 -c 'import json, sys
v = [x for x in json.load(open(sys.argv[1])) if x["provider"] == sys.argv[2]][0]
f = sys.argv[3]
print(v["headers"][f[2:]] if f.startswith("h:") else v[f], end="")' "$VEC" "$1" "$2"
}

cat > p.trig <<'DEFS'
project presets

step noop {
    command "true"
}

trigger github {
    webhook POST "/github"
    hmac preset github secret env GITHUB_SECRET
    run execution noop
}
trigger slack {
    webhook POST "/slack"
    hmac preset slack secret env SLACK_SECRET
    run execution noop
}
trigger svix {
    webhook POST "/svix"
    hmac preset standard-webhooks secret env SVIX_SECRET
    run execution noop
}
trigger twilio {
    webhook POST "/myapp.php"
    hmac preset twilio secret env TWILIO_SECRET
    run execution noop
}
trigger stripe {
    webhook POST "/stripe"
    hmac preset stripe secret env STRIPE_SECRET
    timestamp from signature format unix tolerance 5m
    run execution noop
}
trigger shopify {
    webhook POST "/shopify"
    hmac preset shopify secret env SHOPIFY_SECRET
    run execution noop
}
trigger gitlab {
    webhook POST "/gitlab"
    hmac preset gitlab secret env GITLAB_SECRET
    run execution noop
}
trigger custom {
    webhook POST "/custom"
    hmac {
        algorithm sha512
        secret env CUSTOM_SECRET
        secret-encoding base64
        header X-Signature
        prefix "v2="
        encoding base64
        message "{{ header.X-Timestamp }}.{{ query.tenant }}.{{ body }}"
    }
    timestamp header X-Timestamp format rfc3339 tolerance 1m
    run execution noop
}
trigger by-query {
    webhook GET "/by-query"
    token query key secret env INSIDE_TOKEN
    when query.env in [prod, staging]
    run execution noop
}
trigger inside {
    webhook POST "/inside"
    token header X-Token secret env INSIDE_TOKEN
    ip-allow ["10.0.0.0/8", "2001:db8::/32"]
    run execution noop
}
trigger grouped {
    webhook POST "/grouped"
    token header X-Token secret env INSIDE_TOKEN
    any {
        when payload.action == opened
        all {
            when payload.action == labeled
            when payload.label == train
        }
    }
    not { when payload.sender == bot }
    run execution noop
}
DEFS
build p.trig ./presets

export GITHUB_SECRET SLACK_SECRET SVIX_SECRET TWILIO_SECRET
GITHUB_SECRET=$(vec github secret)
SLACK_SECRET=$(vec slack secret)
SVIX_SECRET=$(vec standard-webhooks secret)
TWILIO_SECRET=$(vec twilio secret)
export STRIPE_SECRET=whsec_e2eStripeSecret0123456789 SHOPIFY_SECRET=e2e-shopify-secret \
	GITLAB_SECRET=e2e-gitlab-token INSIDE_TOKEN=e2e-inside-token \
	CUSTOM_SECRET=$(printf 'e2e custom key bytes' | base64)
start_server ./presets
URL=http://127.0.0.1:$PORT

post() { # PATH BODY [curl args] → status
	p=$1 b=$2
	shift 2
	printf '%s' "$b" > body.bin
	curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @body.bin "$@" "$URL$p"
}

# GitHub and Standard Webhooks: the published vectors, as published.
b=$(vec github body)
expect_eq "github vector" "$(post /github "$b" -H "X-Hub-Signature-256: $(vec github h:X-Hub-Signature-256)")" 202
expect_eq "github vector, body changed" "$(post /github "$b." -H "X-Hub-Signature-256: $(vec github h:X-Hub-Signature-256)")" 401
b=$(vec standard-webhooks body)
svix() {
	post /svix "$1" -H "webhook-id: $(vec standard-webhooks h:webhook-id)" \
		-H "webhook-timestamp: $(vec standard-webhooks h:webhook-timestamp)" -H "webhook-signature: $2"
}
sig=$(vec standard-webhooks h:webhook-signature)
expect_eq "standard-webhooks vector" "$(svix "$b" "$sig")" 202
expect_eq "standard-webhooks, another signature first" "$(svix "$b" "v1,AAAA$sig $sig")" 202
expect_eq "standard-webhooks, body changed" "$(svix "$b " "$sig")" 401

# Slack's vector is from 2018: with no timestamp condition it verifies.
b=$(vec slack body)
expect_eq "slack vector" "$(post /slack "$b" -H "X-Slack-Request-Timestamp: $(vec slack h:X-Slack-Request-Timestamp)" \
	-H "X-Slack-Signature: $(vec slack h:X-Slack-Signature)" -H 'Content-Type: application/x-www-form-urlencoded')" 202
expect_eq "slack vector, timestamp changed" "$(post /slack "$b" -H "X-Slack-Request-Timestamp: 1531420619" \
	-H "X-Slack-Signature: $(vec slack h:X-Slack-Signature)" -H 'Content-Type: application/x-www-form-urlencoded')" 401

# Twilio's vector: the URL Twilio called, https://mycompany.com/myapp.php?foo=1&bar=2.
b=$(vec twilio body)
twilio() {
	post "/myapp.php?foo=1&bar=2" "$1" -H 'Host: mycompany.com' -H "X-Twilio-Signature: $2" \
		-H 'Content-Type: application/x-www-form-urlencoded'
}
expect_eq "twilio vector" "$(twilio "$b" "$(vec twilio h:X-Twilio-Signature)")" 202
expect_eq "twilio vector, a parameter changed" "$(twilio "${b%1212}1213" "$(vec twilio h:X-Twilio-Signature)")" 401

# Stripe: signed now over "t.body" with the whole whsec_ string.
b='{"id":"evt_1","type":"checkout.session.completed"}'
ts=$(date +%s)
v1=$(printf '%s.%s' "$ts" "$b" | openssl dgst -sha256 -hmac "$STRIPE_SECRET" | sed 's/.*= //')
expect_eq "stripe" "$(post /stripe "$b" -H "Stripe-Signature: t=$ts,v1=deadbeef,v1=$v1")" 202
old=$((ts - 600))
v1old=$(printf '%s.%s' "$old" "$b" | openssl dgst -sha256 -hmac "$STRIPE_SECRET" | sed 's/.*= //')
expect_eq "stripe, signed ten minutes ago" "$(post /stripe "$b" -H "Stripe-Signature: t=$old,v1=$v1old")" 401
expect_eq "stripe, another t" "$(post /stripe "$b" -H "Stripe-Signature: t=$((ts + 1)),v1=$v1")" 401

# Shopify: base64 HMAC-SHA256 of the body.
b='{"id":820982911946154508,"email":"jon@example.com"}'
sh=$(printf '%s' "$b" | openssl dgst -sha256 -hmac "$SHOPIFY_SECRET" -binary | base64)
expect_eq "shopify" "$(post /shopify "$b" -H "X-Shopify-Hmac-Sha256: $sh")" 202
expect_eq "shopify, hex instead" "$(post /shopify "$b" -H "X-Shopify-Hmac-Sha256: $(printf '%s' "$b" |
	openssl dgst -sha256 -hmac "$SHOPIFY_SECRET" | sed 's/.*= //')")" 401

# GitLab: the static X-Gitlab-Token.
expect_eq "gitlab" "$(post /gitlab '{}' -H "X-Gitlab-Token: $GITLAB_SECRET")" 202
expect_eq "gitlab, wrong token" "$(post /gitlab '{}' -H "X-Gitlab-Token: ${GITLAB_SECRET}x")" 401

# A custom scheme: SHA-512 over a message template, base64, a prefix, a
# base64-encoded secret, and an RFC 3339 timestamp in the signed message.
b='{"job":"train"}'
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
custom() { # TIMESTAMP TENANT-SIGNED TENANT-SENT
	sig=$(printf '%s.%s.%s' "$1" "$2" "$b" | openssl dgst -sha512 -hmac 'e2e custom key bytes' -binary | base64 -w0)
	post "/custom?tenant=$3" "$b" -H "X-Timestamp: $1" -H "X-Signature: v2=$sig"
}
expect_eq "custom hmac" "$(custom "$now" acme acme)" 202
expect_eq "custom hmac, another tenant" "$(custom "$now" acme other)" 401
expect_eq "custom hmac, two minutes old" "$(custom "$(date -u -d '-2 min' +%Y-%m-%dT%H:%M:%SZ)" acme acme)" 401

# A token in the query, and a filter on the query.
q() { curl -s -o /dev/null -w '%{http_code}' "$URL/by-query?$1"; }
expect_eq "query token" "$(q "key=$INSIDE_TOKEN&env=prod")" 202
expect_eq "query token, env dev" "$(q "key=$INSIDE_TOKEN&env=dev")" 200
expect_eq "query token, wrong" "$(q "key=nope&env=prod")" 401

# ip-allow: loopback is not in 10.0.0.0/8 or 2001:db8::/32.
expect_eq "ip-allow from 127.0.0.1" "$(post /inside '{}' -H "X-Token: $INSIDE_TOKEN")" 401

# Groups: any / all / not.
g() { post /grouped "$1" -H "X-Token: $INSIDE_TOKEN"; }
expect_eq "opened" "$(g '{"action":"opened","sender":"ada"}')" 202
expect_eq "labeled train" "$(g '{"action":"labeled","label":"train","sender":"ada"}')" 202
expect_eq "labeled other" "$(g '{"action":"labeled","label":"docs","sender":"ada"}')" 200
expect_eq "opened by a bot" "$(g '{"action":"opened","sender":"bot"}')" 200
stop_server
./presets logs --json > audit.json
expect_grep '"trigger":"inside".*"reason":"127.0.0.1 is not in the allowed ranges"' audit.json
expect_grep '"trigger":"stripe".*"reason":"the request is 60[0-9]s old (tolerance 300s)"' audit.json
