# Actions through the built program: copy-pipeline re-runs the latest (or
# a given) run of a pipeline with its values and the action's overrides;
# an action's timeout stops its execution and fails the launch;
# max-concurrent with when-busy: skip answers a busy webhook 200 and
# launches nothing, with when-busy: queue the launch waits its turn.
. "$TRIG_SRC/tests/e2e/lib.sh"

cat > p.trig <<'DEFS'
project actions

step show {
    command "echo x={parameter:x} y={parameter:y} >> \"$VH_OUTPUTS_DIR/out.txt\"; echo x={parameter:x} y={parameter:y}"
    parameter x: string = none
    parameter y: string = none
}

step nap {
    command "echo start $(date +%s%N) >> naps.log; sleep {parameter:secs}; echo end $(date +%s%N) >> naps.log"
    parameter secs: string = 1
}

pipeline twice {
    node a step show
    node b step show
    edge a.parameter.x -> b.parameter.x
}

trigger first {
    webhook POST "/hooks/first"
    token header X-Token secret env HOOK_TOKEN
    run pipeline twice {
        parameter a.x = payload.x
        parameter a.y = "from-first"
    }
}

trigger again {
    webhook POST "/hooks/again"
    token header X-Token secret env HOOK_TOKEN
    copy pipeline twice source payload.source {
        parameter a.y = "from-copy"
    }
}

trigger too-slow {
    webhook POST "/hooks/slow"
    token header X-Token secret env HOOK_TOKEN
    run execution nap as slow timeout 1s {
        parameter secs = 30
    }
}

trigger one-only {
    webhook POST "/hooks/one"
    token header X-Token secret env HOOK_TOKEN
    max-concurrent 1
    when-busy skip
    run execution nap { parameter secs = 2 }
}

trigger one-by-one {
    webhook POST "/hooks/queue"
    token header X-Token secret env HOOK_TOKEN
    max-concurrent 1
    run execution nap { parameter secs = 1 }
}
DEFS
build p.trig ./actions
export HOOK_TOKEN=e2e-actions-token
start_server ./actions
post() { # PATH JSON → status; the answer in resp.json
	curl -s -o resp.json -w '%{http_code}' -X POST -H "X-Token: $HOOK_TOKEN" \
		-H 'Content-Type: application/json' --data "$2" "http://127.0.0.1:$PORT$1"
}
runs_done() { # N → at least N pipeline runs have a status.json
	[ "$(ls .trig-state/pipelines/*/status.json 2>/dev/null | wc -l)" -ge "$1" ]
}

# a run of the pipeline, then copies of it
expect_eq "run-pipeline" "$(post /hooks/first '{"x": "one"}')" 202
wait_until 15 runs_done 1 || fail "the pipeline did not finish"
src=$(ls .trig-state/pipelines)
expect_eq "a copy of the latest run" "$(post /hooks/again '{}')" 202
wait_until 15 runs_done 2 || fail "the copy did not finish"
./actions pipelines --json > pl.json
expect_grep '"pipeline":"twice","status":"completed"' pl.json
copy=$(python3 -c '
import json, sys
runs = [json.loads(l) for l in open("pl.json")]
print([r["id"] for r in runs if r["id"] != sys.argv[1]][0])' "$src")
# the copy's node a: x from the source run, y from the copy action; b got x by its edge
expect_eq "copy, node a" "$(cat ".trig-state/executions/$copy.a/outputs/out.txt")" "x=one y=from-copy"
expect_eq "copy, node b" "$(cat ".trig-state/executions/$copy.b/outputs/out.txt")" "x=one y=none"
expect_grep "\"copied_from\":\"$src\"" ".trig-state/pipelines/$copy/pipeline.json"
# a copy of a given run; an unknown run fails the launch's action
expect_eq "a copy of a given run" "$(post /hooks/again "{\"source\": \"$src\"}")" 202
wait_until 15 runs_done 3 || fail "the second copy did not finish"
expect_eq "a copy of a run that does not exist" \
	"$(post /hooks/again '{"source": "p-01M8NOSUCHRUN0000000000000"}')" 202
launch=$(python3 -c 'import json; print(json.load(open("resp.json"))["launch"])')
runinfo() { curl -s -X POST -H "X-Token: $HOOK_TOKEN" "http://127.0.0.1:$PORT/hooks/again/runs/$launch"; }
wait_until 10 sh -c "curl -s -X POST -H 'X-Token: $HOOK_TOKEN' http://127.0.0.1:$PORT/hooks/again/runs/$launch | grep -q '\"status\":\"error\"'" ||
	fail "the copy of an unknown run did not fail: $(runinfo)"
runinfo > ri.json
expect_grep "no pipeline run 'p-01M8NOSUCHRUN0000000000000'" ri.json

# a timeout stops the execution and fails the launch
t0=$(date +%s)
expect_eq "a launch with a timeout" "$(post /hooks/slow '{}')" 202
launch=$(python3 -c 'import json; print(json.load(open("resp.json"))["launch"])')
wait_until 10 sh -c "curl -s -X POST -H 'X-Token: $HOOK_TOKEN' http://127.0.0.1:$PORT/hooks/slow/runs/$launch | grep -q '\"status\":\"error\"'" ||
	fail "the timed-out execution did not end the launch"
[ $(($(date +%s) - t0)) -lt 10 ] || fail "the timeout took too long"
grep -l '"error":"timed out after 1 s"' .trig-state/executions/*/status.json > /dev/null ||
	fail "no execution says it timed out"

# max-concurrent 1, when-busy skip: the second is answered 200 busy
: > naps.log
expect_eq "the first of one-only" "$(post /hooks/one '{}')" 202
expect_eq "the second while it runs" "$(post /hooks/one '{}')" 200
expect_eq "busy answer" "$(cat resp.json)" '{"trigger":"one-only","launched":false,"reason":"busy"}'
./actions logs one-only --outcome skipped > skipped.txt
[ "$(wc -l < skipped.txt)" -eq 1 ] || fail "expected one skipped record: $(cat skipped.txt)"

# max-concurrent 1, when-busy queue: three launches run one after another
wait_until 10 sh -c '[ "$(grep -c ^end naps.log)" -ge 1 ]' || fail "one-only's nap did not end"
: > naps.log
for i in 1 2 3; do
	expect_eq "queued launch $i" "$(post /hooks/queue '{}')" 202
done
wait_until 20 sh -c '[ "$(grep -c ^end naps.log)" -ge 3 ]' || fail "the queued launches did not all run"
python3 - <<'PY' || fail "queued launches overlapped: $(cat naps.log)"
ev = [l.split() for l in open("naps.log")]
running = 0
for kind, _ in sorted(ev, key=lambda e: int(e[1])):
    running += 1 if kind == "start" else -1
    assert running <= 1, "two ran at once"
PY
stop_server
