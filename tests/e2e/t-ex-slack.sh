# examples/slack-train: a signed /train-model command is answered at once
# with a message for the channel and trains; a shell-looking model name is
# not matched and runs nothing; an old or unsigned request is refused.
. "$TRIG_SRC/tests/e2e/lib.sh"

cp "$TRIG_SRC"/examples/slack-train/* .
build slack.trig ./slack-train
export SLACK_SIGNING_SECRET=e2e-slack-signing-8f0c
start_server ./slack-train
URL=http://127.0.0.1:$PORT/slack/train-model

command() { # TEXT [TIMESTAMP] → status; the answer in resp.txt
	ts=${2:-$(date +%s)}
	text=$(printf '%s' "$1" | sed 's/ /+/g; s/;/%3B/g; s|/|%2F|g')
	body="token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=acme&channel_id=C2147483705&channel_name=ml&user_id=U2147483697&user_name=ada&command=%2Ftrain-model&text=$text&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0"
	sig=$(printf 'v0:%s:%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$SLACK_SIGNING_SECRET" | sed 's/.*= //')
	curl -s -o resp.txt -w '%{http_code}' -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
		-H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: v0=$sig" --data "$body" "$URL"
}

expect_eq "/train-model mnist" "$(command mnist)" 200
expect_grep '^{"response_type": "in_channel", "text": "Training mnist for <@U2147483697> (launch l-[0-9A-Z]*)"}$' resp.txt
wait_until 10 at_least completed 1 || fail "the training did not complete"
expect_eq "what ran" "$(cat .trig-state/executions/*/stdout.log)" "training mnist for ada"

expect_eq "a model name with a shell in it" "$(command 'x; touch PWNED')" 200
expect_eq "not matched" "$(cat resp.txt)" '{"trigger":"train-model","launched":false}'
expect_eq "six minutes old" "$(command mnist $(($(date +%s) - 360)))" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data 'command=%2Ftrain-model&text=mnist' "$URL")
expect_eq "unsigned" "$code" 401
stop_server
[ ! -e PWNED ] || fail "a command from the request ran"
[ "$(ls .trig-state/executions | wc -l)" -eq 1 ] || fail "expected exactly one execution"
