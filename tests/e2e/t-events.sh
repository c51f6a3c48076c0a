# Notification events (SPEC.md §2.4, §4): the real Valohai notifications
# POSTed to /events and /events/TYPE with and without the admin token,
# wrong types and bad JSON, `emit` through a server and in-process, the
# run-info of a webhook's launch behind its token, and "training completes
# -> validation runs" from the events the runtime emits itself.
. "$TRIG_SRC/tests/e2e/lib.sh"

V=$TRIG_SHARED/testdata/valohai
cat > p.trig <<'DEFS'
project events

step preprocess {
    command "echo preprocess uri={parameter:uri} name={parameter:name}"
    parameter uri: string = none
    parameter name: string = none
}

step deploy {
    command "echo deploy model={parameter:model} version={parameter:version}"
    parameter model: string = none
    parameter version: string = none
}

step train {
    command "echo training"
}

step validate {
    command "echo validate exec={parameter:exec} step={parameter:step} by={parameter:by}"
    parameter exec: string = none
    parameter step: string = none
    parameter by: string = none
}

step custom {
    command "echo custom msg={parameter:msg}"
    parameter msg: string = none
}

trigger new-images {
    on dataset_version_created
    when event.data.dataset.name matches /^images(-.*)?$/
    run execution preprocess {
        parameter uri = event.data.version.uri
        parameter name = event.data.dataset.name
    }
}

trigger deploy-model {
    on model_latest_approved_version_changed
    when event.data.model_version.status == "approved"
    run execution deploy {
        parameter model = event.data.model.name
        parameter version = event.data.model_version.counter
    }
}

trigger custom {
    on "my.custom-event"
    when event.data.msg exists
    run execution custom { parameter msg = event.data.msg }
}

trigger train-hook {
    webhook POST "/hooks/train"
    token bearer true secret env TRAIN_TOKEN
    run execution train
}

trigger validate-after-train {
    on execution_completed
    when event.data["valohai.execution-step"] == "train"
    run execution validate {
        parameter exec = event.data["valohai.execution-id"]
        parameter step = event.data.valohai\.execution-step
        parameter by = event.data["trig.trigger"]
    }
}
DEFS
build p.trig ./events

export TRAIN_TOKEN='train-e2e-token-51c0'
ADMIN='admin-e2e-token-8d2b'

# post PATH FILE [curl args...] — prints the status; the body is in resp.txt
post() {
	path=$1 file=$2
	shift 2
	curl -s -o resp.txt -w '%{http_code}' -X POST --data-binary "@$file" "$@" "$URL$path"
}
# out_of STEP — what the executions of STEP printed.
out_of() {
	for d in .trig-state/executions/*/; do
		grep -q "\"step\":\"$1\"" "$d/execution.json" 2>/dev/null && cat "$d/stdout.log"
	done
	true
}
has_out() {
	out_of "$1" | grep -q -- "$2"
}

# Without TRIG_ADMIN_TOKEN, /events is disabled (403) and serve says so.
unset TRIG_ADMIN_TOKEN TRIG_ADMIN_TOKEN_FILE
start_server ./events
URL=http://127.0.0.1:$PORT
expect_grep 'POST /events is disabled: TRIG_ADMIN_TOKEN is not set' server.cur.log
code=$(post /events "$V/dataset_version_created.json" -H "Authorization: Bearer $ADMIN")
expect_eq "events without an admin token configured" "$code" 403
expect_grep 'events are disabled' resp.txt
stop_server

export TRIG_ADMIN_TOKEN="$ADMIN"
start_server ./events
URL=http://127.0.0.1:$PORT

# No token, a wrong one, another scheme: 401, nothing launched.
code=$(post /events "$V/dataset_version_created.json")
expect_eq "no admin token" "$code" 401
code=$(post /events "$V/dataset_version_created.json" -H 'Authorization: Bearer nope')
expect_eq "wrong admin token" "$code" 401
code=$(post "/events?token=nope" "$V/dataset_version_created.json")
expect_eq "wrong admin token in the query" "$code" 401
code=$(post /events "$V/dataset_version_created.json" -H "Authorization: Basic $ADMIN")
expect_eq "admin token with another scheme" "$code" 401
code=$(curl -s -o resp.txt -w '%{http_code}' "$URL/events?token=$ADMIN")
expect_eq "GET /events" "$code" 405

# The real dataset_version_created, type from the body: 202, preprocess
# runs on the version's URI.
code=$(post /events "$V/dataset_version_created.json" -H "Authorization: Bearer $ADMIN")
expect_eq "dataset_version_created" "$code" 202
expect_grep '"type":"dataset_version_created","launches":\[{"trigger":"new-images","launch":"l-' resp.txt
wait_until 10 has_out preprocess 'uri=dataset://images/images-2026-11-26 name=images' ||
	fail "preprocess did not run on the version's URI"

# model_latest_approved_version_changed via /events/TYPE and ?token=.
code=$(post "/events/model_latest_approved_version_changed?token=$ADMIN" \
	"$V/model_latest_approved_version_changed.json")
expect_eq "model_latest_approved_version_changed" "$code" 202
wait_until 10 has_out deploy 'deploy model=digits version=7' || fail "deploy did not run"

# A type in the URL that the body contradicts, bad JSON, not an object, a
# bad type: 400.
code=$(post "/events/dataset_version_created" "$V/model_latest_approved_version_changed.json" \
	-H "Authorization: Bearer $ADMIN")
expect_eq "conflicting types" "$code" 400
expect_grep "differs from 'dataset_version_created'" resp.txt
printf '{"data": ' > bad.json
code=$(post /events/my.custom-event bad.json -H "Authorization: Bearer $ADMIN")
expect_eq "bad JSON" "$code" 400
printf '[1, 2]' > arr.json
code=$(post /events/my.custom-event arr.json -H "Authorization: Bearer $ADMIN")
expect_eq "not an object" "$code" 400
printf '{}' > empty.json
code=$(post /events/Not-A-Type empty.json -H "Authorization: Bearer $ADMIN")
expect_eq "bad type" "$code" 400
code=$(post /events empty.json -H "Authorization: Bearer $ADMIN")
expect_eq "no type at all" "$code" 400

# A custom type nobody filters in: 200, not launched; then one that is.
code=$(post /events/my.custom-event empty.json -H "Authorization: Bearer $ADMIN")
expect_eq "custom event that does not match" "$code" 200
expect_grep '"launches":\[\],"not_matched":\[{"trigger":"custom","outcome":"not-matched"' resp.txt
code=$(post /events/nobody.listens empty.json -H "Authorization: Bearer $ADMIN")
expect_eq "type no trigger waits for" "$code" 200
printf '{"data": {"msg": "hello; $(touch pwned) `id`"}}' > custom.json
code=$(post /events/my.custom-event custom.json -H "Authorization: Bearer $ADMIN")
expect_eq "custom event" "$code" 202
wait_until 10 has_out custom 'custom msg=hello; $(touch pwned) `id`' || fail "custom did not run"
[ ! -e pwned ] || fail "an event value was run by a shell"

# Over 1 MiB: 413.
head -c 1100000 /dev/zero | tr '\0' ' ' > big.json
code=$(post /events/my.custom-event big.json -H "Authorization: Bearer $ADMIN")
expect_eq "event over 1 MiB" "$code" 413

# emit through the server: exit 0 and the server's answer; 1 on a 4xx.
./events emit my.custom-event --payload custom.json --server "$URL" > emit.out ||
	fail "emit --server failed"
expect_grep '"launches":\[{"trigger":"custom"' emit.out
rc=0
TRIG_ADMIN_TOKEN=wrong ./events emit my.custom-event --server "$URL" > emit.out 2> emit.err || rc=$?
expect_eq "emit --server with a wrong token" "$rc" 1
expect_grep 'the server answered 401' emit.err

# Training completes -> validation runs: a webhook launches train; its
# execution_completed (emitted by the runtime) launches validate.
code=$(curl -s -o resp.txt -w '%{http_code}' -X POST -H "Authorization: Bearer $TRAIN_TOKEN" "$URL/hooks/train")
expect_eq "train webhook" "$code" 202
LAUNCH=$(sed -n 's/.*"launch":"\([^"]*\)".*/\1/p' resp.txt)
[ -n "$LAUNCH" ] || fail "no launch id in $(cat resp.txt)"
wait_until 20 has_out validate 'step=train by=train-hook' || {
	cat server.cur.log >&2
	fail "validation did not run after training completed"
}
wait_until 10 test -s .trig-state/runs/"$LAUNCH".json || fail "no run-info kept for $LAUNCH"
TRAIN_EXEC=$(sed -n 's/.*"execution_id":"\([^"]*\)".*/\1/p' .trig-state/runs/"$LAUNCH".json 2>/dev/null)
out_of validate | grep -q "exec=$TRAIN_EXEC " || fail "validate did not get the train execution's id"
expect_grep '"trigger":"validate-after-train","kind":"event","outcome":"launched"' .trig-state/audit.jsonl

# Run-info of the webhook's launch: behind its token (401), then 200; an
# unknown launch 404; PUT 405.
code=$(curl -s -o resp.txt -w '%{http_code}' "$URL/hooks/train/runs/$LAUNCH")
expect_eq "run-info without the webhook's token" "$code" 401
code=$(curl -s -o resp.txt -w '%{http_code}' -H 'Authorization: Bearer nope' "$URL/hooks/train/runs/$LAUNCH")
expect_eq "run-info with a wrong token" "$code" 401
code=$(curl -s -o resp.txt -w '%{http_code}' -H "Authorization: Bearer $TRAIN_TOKEN" "$URL/hooks/train/runs/$LAUNCH")
expect_eq "run-info" "$code" 200
expect_grep '"status":"completed"' resp.txt
expect_grep "\"execution_id\":\"$TRAIN_EXEC\"" resp.txt
code=$(curl -s -o resp.txt -w '%{http_code}' -X POST -H "Authorization: Bearer $TRAIN_TOKEN" "$URL/hooks/train/runs/$LAUNCH")
expect_eq "run-info by POST" "$code" 200
code=$(curl -s -o resp.txt -w '%{http_code}' -H "Authorization: Bearer $TRAIN_TOKEN" "$URL/hooks/train/runs/l-01M8DZ14K65489MXP8HTB4HF1R")
expect_eq "run-info of an unknown launch" "$code" 404
code=$(curl -s -o resp.txt -w '%{http_code}' -X PUT -H "Authorization: Bearer $TRAIN_TOKEN" "$URL/hooks/train/runs/$LAUNCH")
expect_eq "run-info by PUT" "$code" 405

# The metrics count event requests.
curl -s "$URL/metrics" > metrics.txt
expect_grep '^trig_event_requests_total{outcome="rejected"} 5$' metrics.txt
expect_grep '^trig_event_requests_total{outcome="launched"} 4$' metrics.txt
expect_grep '^trig_events_dropped_total 0$' metrics.txt
stop_server

# Key rotation: the admin token from a file, re-read on SIGHUP.
unset TRIG_ADMIN_TOKEN
printf 'first-admin-token-0a1\n' > admin.txt
export TRIG_ADMIN_TOKEN_FILE=$PWD/admin.txt
start_server ./events
URL=http://127.0.0.1:$PORT
code=$(post /events/nobody.listens empty.json -H 'Authorization: Bearer first-admin-token-0a1')
expect_eq "admin token from a file" "$code" 200
printf 'second-admin-token-9f2\n' > admin.txt
kill -HUP "$SERVER_PID"
wait_until 10 grep -q 'SIGHUP: secrets read again' server.cur.log || fail "no SIGHUP"
code=$(post /events/nobody.listens empty.json -H 'Authorization: Bearer first-admin-token-0a1')
expect_eq "the old admin token after SIGHUP" "$code" 401
code=$(post /events/nobody.listens empty.json -H 'Authorization: Bearer second-admin-token-9f2')
expect_eq "the new admin token after SIGHUP" "$code" 200
stop_server
unset TRIG_ADMIN_TOKEN_FILE
export TRIG_ADMIN_TOKEN="$ADMIN"

# emit in-process: launches, waits, exit 0; nothing matched: exit 1.
./events emit dataset_version_created --payload "$V/dataset_version_created.json" > emit.out 2> emit.err ||
	{ cat emit.err >&2; fail "emit in-process failed"; }
expect_grep '"launches":\[{"trigger":"new-images"' emit.out
rc=0
./events emit my.custom-event > emit.out 2> emit.err || rc=$?
expect_eq "emit of an event that matches nothing" "$rc" 1
rc=0
./events emit 'Bad Type' 2> emit.err || rc=$?
expect_eq "emit of a bad type" "$rc" 2
# In-process, with no webhook secret set: only notification triggers' are needed.
env -u TRAIN_TOKEN ./events emit my.custom-event --payload custom.json > emit.out 2> emit.err ||
	{ cat emit.err >&2; fail "emit without the webhook's secret"; }

# Nothing secret in any log.
for f in server.log .trig-state/audit.jsonl; do
	! grep -q -e "$ADMIN" -e "$TRAIN_TOKEN" -e admin-token- "$f" || fail "a token is in $f"
done
echo ok
