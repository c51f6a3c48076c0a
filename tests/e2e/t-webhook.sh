# Webhook triggers over loopback: GitHub's real push payloads signed as
# GitHub signs them, filters, the HTTP statuses of SPEC.md §4, replay,
# rate limits, respond, form bodies (Slack), `check`, and no secret in any
# log.
. "$TRIG_SRC/tests/e2e/lib.sh"

GH=$TRIG_SHARED/testdata/github
cat > p.trig <<'DEFS'
project hooks

step train {
    command "echo ref={parameter:ref} sha={parameter:sha} who={parameter:who}"
    parameter ref: string = none
    parameter sha: string = none
    parameter who: string = nobody
}

trigger github-push {
    webhook POST "/hooks/github" max-body 64KiB
    hmac preset github secret env GITHUB_WEBHOOK_SECRET
    replay id header.X-GitHub-Delivery window 1h
    when header.X-GitHub-Event == push
    when payload.ref in ["refs/tags/simple-tag", "refs/heads/main"]
    when payload.deleted == false
    run execution train {
        parameter ref = payload.ref
        parameter sha = payload.after
        parameter who = payload.pusher.name
    }
}

trigger limited {
    webhook POST "/hooks/limited"
    token bearer true secret file "token.txt"
    rate limit 2 per 1h
    run execution train
}

trigger slack {
    webhook POST "/hooks/slack"
    hmac preset slack secret env SLACK_SIGNING_SECRET
    timestamp header X-Slack-Request-Timestamp format unix tolerance 5m
    when form.command == "/train-model"
    run execution train { parameter who = form.user_name }
    respond 200 "{\"text\": \"training for {{ form.user_name }}: {{ launch.id }}\"}" content-type "application/json"
}
DEFS
build p.trig ./hooks

export GITHUB_WEBHOOK_SECRET='gh-e2e-secret-4f1a'
export SLACK_SIGNING_SECRET='slack-e2e-secret-77c2'
printf 'bearer-e2e-secret-9d3e\n' > token.txt
start_server ./hooks
URL=http://127.0.0.1:$PORT

# post PATH BODYFILE [curl args...] — prints the status; the body is in resp.txt
post() {
	path=$1 file=$2
	shift 2
	curl -s -o resp.txt -D resp.hdr -w '%{http_code}' -X POST --data-binary "@$file" "$@" "$URL$path"
}
ghsig() {
	printf 'sha256=%s' "$(openssl dgst -sha256 -hmac "$GITHUB_WEBHOOK_SECRET" < "$1" | sed 's/.*= //')"
}

# A real push, signed: launched (202), the execution reads three payload paths.
code=$(post /hooks/github "$GH/push.0.json" -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-1" \
	-H "X-Hub-Signature-256: $(ghsig "$GH/push.0.json")" -H 'Content-Type: application/json')
expect_eq "signed push" "$code" 202
expect_grep '"trigger":"github-push","launch":"l-' resp.txt
expect_grep '^X-Request-Id: r-' resp.hdr
wait_until 10 at_least completed 1 || fail "the push's execution did not complete"
cat .trig-state/executions/*/stdout.log > out.txt
expect_grep '^ref=refs/tags/simple-tag sha=6113728f27ae82c7b1a177c8d03f9e96e0adf246 who=Codertocat$' out.txt

# The same delivery again: 409.
code=$(post /hooks/github "$GH/push.0.json" -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-1" \
	-H "X-Hub-Signature-256: $(ghsig "$GH/push.0.json")")
expect_eq "replayed delivery" "$code" 409

# Tampered body, missing and truncated signatures: 401, nothing said why.
sed 's/Codertocat/Mallory/' "$GH/push.0.json" > tampered.json
code=$(post /hooks/github tampered.json -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-2" \
	-H "X-Hub-Signature-256: $(ghsig "$GH/push.0.json")")
expect_eq "tampered body" "$code" 401
expect_eq "401 body" "$(cat resp.txt)" '{"error":"unauthorized"}'
code=$(post /hooks/github "$GH/push.0.json" -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-3")
expect_eq "no signature" "$code" 401
sig=$(ghsig "$GH/push.0.json")
code=$(post /hooks/github "$GH/push.0.json" -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-4" \
	-H "X-Hub-Signature-256: ${sig%?}")
expect_eq "truncated signature" "$code" 401

# Signed, but a filter does not match: 200, launched false.
code=$(post /hooks/github "$GH/ping.0.json" -H "X-GitHub-Event: ping" -H "X-GitHub-Delivery: d-5" \
	-H "X-Hub-Signature-256: $(ghsig "$GH/ping.0.json")")
expect_eq "ping" "$code" 200
expect_eq "not-matched body" "$(cat resp.txt)" '{"trigger":"github-push","launched":false}'

# Signed, but not JSON: 400.
printf '{"ref": ' > broken.json
code=$(post /hooks/github broken.json -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-6" \
	-H "X-Hub-Signature-256: $(ghsig broken.json)")
expect_eq "signed invalid JSON" "$code" 400

# Method, size, path.
code=$(curl -s -o /dev/null -D resp.hdr -w '%{http_code}' "$URL/hooks/github")
expect_eq "GET on a POST webhook" "$code" 405
expect_grep '^Allow: POST' resp.hdr
head -c 70000 /dev/zero | tr '\0' 'x' > big.txt
code=$(post /hooks/github big.txt -H "X-GitHub-Event: push")
expect_eq "body over max-body" "$code" 413
code=$(post /hooks/nope "$GH/push.0.json")
expect_eq "unknown path" "$code" 404
big=$(head -c 40000 /dev/zero | tr '\0' a)
code=$(post /hooks/github "$GH/push.0.json" -H "X-Big: $big")
expect_eq "40 KB of headers" "$code" 431

# A disabled trigger is not there (404), and is back when enabled.
./hooks disable github-push 2>/dev/null
code=$(post /hooks/github "$GH/push.1.json" -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: d-7" \
	-H "X-Hub-Signature-256: $(ghsig "$GH/push.1.json")")
expect_eq "disabled" "$code" 404
./hooks enable github-push 2>/dev/null

# Bearer token from a file; rate limit 2 per hour counts launches.
printf '{}' > empty.json
code=$(post /hooks/limited empty.json -H 'Authorization: Bearer wrong')
expect_eq "wrong bearer" "$code" 401
for i in 1 2; do
	code=$(post /hooks/limited empty.json -H 'Authorization: Bearer bearer-e2e-secret-9d3e')
	expect_eq "launch $i within the rate" "$code" 202
done
code=$(post /hooks/limited empty.json -H 'Authorization: Bearer bearer-e2e-secret-9d3e')
expect_eq "third launch in the hour" "$code" 429
ra=$(sed -n 's/^Retry-After: \([0-9]*\).*/\1/p' resp.hdr)
[ -n "$ra" ] && [ "$ra" -gt 1000 ] && [ "$ra" -le 1800 ] || fail "Retry-After '$ra' (want about 30 minutes)"

# Slack: a form body signed now; respond answers at once with the launch id.
SLACK_BODY='token=xyz&team_id=T1&command=%2Ftrain-model&text=mnist&user_name=ada+lovelace&response_url=http%3A%2F%2F127.0.0.1%2Fr'
printf '%s' "$SLACK_BODY" > slack.txt
ts=$(date +%s)
ssig=v0=$(printf 'v0:%s:%s' "$ts" "$SLACK_BODY" | openssl dgst -sha256 -hmac "$SLACK_SIGNING_SECRET" | sed 's/.*= //')
code=$(post /hooks/slack slack.txt -H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: $ssig" \
	-H 'Content-Type: application/x-www-form-urlencoded')
expect_eq "slack command" "$code" 200
expect_grep '^{"text": "training for ada lovelace: l-[0-9A-Z]*"}$' resp.txt
expect_grep '^Content-Type: application/json' resp.hdr
old=$((ts - 600))
ssig=v0=$(printf 'v0:%s:%s' "$old" "$SLACK_BODY" | openssl dgst -sha256 -hmac "$SLACK_SIGNING_SECRET" | sed 's/.*= //')
code=$(post /hooks/slack slack.txt -H "X-Slack-Request-Timestamp: $old" -H "X-Slack-Signature: $ssig")
expect_eq "slack request ten minutes old" "$code" 401
wait_until 10 at_least completed 4 || fail "expected 4 completed executions"
cat .trig-state/executions/*/stdout.log > out.txt
expect_grep '^ref=none sha=none who=ada lovelace$' out.txt

# The audit log: each rejection names its condition and reason.
./hooks logs --json > audit.json
expect_grep '"outcome":"replayed"' audit.json
expect_grep '"outcome":"rejected","request":"r-[0-9A-Z]*","remote":"127.0.0.1","status":401,"condition":"hmac github"' audit.json
expect_grep '"outcome":"rate-limited"' audit.json
expect_grep '"outcome":"not-matched".*"reason":"header.X-GitHub-Event does not satisfy equals' audit.json
expect_grep '"outcome":"disabled"' audit.json
expect_grep '"reason":"the request is [0-9]*s old (tolerance 300s)"' audit.json

# check: the dry run says why, launches nothing.
n_before=$(ls .trig-state/executions | wc -l)
rc=0; ./hooks check github-push --payload "$GH/push.0.json" -H "X-GitHub-Event: push" \
	-H "X-GitHub-Delivery: d-9" -H "X-Hub-Signature-256: $(ghsig "$GH/push.0.json")" > check.txt || rc=$?
expect_eq "check of a good request" "$rc" 0
expect_grep '^  pass  hmac github$' check.txt
expect_grep '^      parameter who = "Codertocat"$' check.txt
rc=0; ./hooks check github-push --payload "$GH/push.0.json" -H "X-GitHub-Event: ping" \
	-H "X-Hub-Signature-256: $(ghsig "$GH/push.0.json")" > check.txt || rc=$?
expect_eq "check of a ping" "$rc" 1
expect_grep '^  FAIL  filter header.X-GitHub-Event equals push$' check.txt
printf 'POST /hooks/limited HTTP/1.1\r\nAuthorization: Bearer bearer-e2e-secret-9d3e\r\nContent-Length: 2\r\n\r\n{}' > req.http
./hooks check limited --request req.http > check.txt || fail "check --request: $(cat check.txt)"
expect_eq "executions after check" "$(ls .trig-state/executions | wc -l)" "$n_before"

# /metrics: the same outcomes, in Prometheus' text format.
curl -s "$URL/metrics" > metrics.txt
expect_grep '^trig_http_requests_total{trigger="github-push",outcome="launched"} 1$' metrics.txt
expect_grep '^trig_http_requests_total{trigger="github-push",outcome="rejected"} 4$' metrics.txt
expect_grep '^trig_http_requests_total{trigger="github-push",outcome="replayed"} 1$' metrics.txt
expect_grep '^trig_http_requests_total{trigger="limited",outcome="rate-limited"} 1$' metrics.txt
expect_grep '^trig_http_request_duration_seconds_bucket{trigger="slack",le="+Inf"} 2$' metrics.txt
expect_grep '^trig_executions_total{status="completed"} 4$' metrics.txt
expect_grep '^trig_journal_launches_total 4$' metrics.txt
syncs=$(sed -n 's/^trig_journal_syncs_total //p' metrics.txt)
[ "$syncs" -ge 1 ] && [ "$syncs" -le 4 ] || fail "journal syncs: '$syncs' for 4 launches"

stop_server

# No secret, signature or token in any log or state file.
for s in "$GITHUB_WEBHOOK_SECRET" "$SLACK_SIGNING_SECRET" bearer-e2e-secret-9d3e "${sig#sha256=}" "${ssig#v0=}"; do
	if grep -rqF -- "$s" server.log .trig-state check.txt; then
		fail "a secret or signature is in the logs: $(grep -rlF -- "$s" server.log .trig-state check.txt)"
	fi
done
