# An `every: 1s` schedule served for real: the executions run on the local
# backend in the workdir with a clean environment, their output and status
# are kept, and every tick is in the audit log.
. "$TRIG_SRC/tests/e2e/lib.sh"

mkdir proj
cat > proj/tick.trig <<'DEFS'
project ticker

step record {
    command ["pwd > \"$VH_OUTPUTS_DIR/cwd\"", "env > \"$VH_OUTPUTS_DIR/env\"", "echo tick {parameter:label} && echo oops >&2"]
    parameter label: string = "none"
    environment MODEL_NAME = "mnist"
}

trigger every-second {
    schedule every 1s
    run execution record { parameter label = "{{ trigger.name }}" }
}
DEFS
build proj/tick.trig ./ticker

SECRET_TOKEN=hunter2 start_server ./ticker
wait_until 20 at_least completed 3 || { ls -R .trig-state >&2; fail "fewer than 3 executions completed"; }
stop_server

# Each completed execution ran in the definitions' folder with a clean env.
n=0
for d in .trig-state/executions/*/; do
	[ -f "$d/status.json" ] || continue
	grep -q '"status":"completed"' "$d/status.json" || continue
	n=$((n + 1))
	expect_eq "cwd" "$(cat "$d/outputs/cwd")" "$(cd proj && pwd -P)"
	expect_grep '^MODEL_NAME=mnist$' "$d/outputs/env"
	expect_grep '^VH_OUTPUTS_DIR=' "$d/outputs/env"
	expect_grep '^VH_INPUTS_DIR=' "$d/outputs/env"
	expect_grep '^VH_EXECUTION_ID=e-' "$d/outputs/env"
	if grep -q 'SECRET_TOKEN\|hunter2' "$d/outputs/env"; then
		fail "the server's environment leaked into the execution"
	fi
	expect_grep '^tick every-second$' "$d/stdout.log"
	expect_grep '^oops$' "$d/stderr.log"
	expect_grep '"exit_code":0' "$d/status.json"
done
[ $n -ge 3 ] || fail "only $n completed executions checked"

# The audit log has a launched record per tick, with the execution's id.
launched=$(grep -c '"kind":"schedule","outcome":"launched"' .trig-state/audit.jsonl)
[ "$launched" -ge 3 ] || fail "$launched launched records"
./ticker logs every-second --outcome launched > logs.txt
expect_grep 'every-second *schedule *launched *l-' logs.txt
expect_grep 'run-execution record e-' logs.txt
./ticker logs --json | head -n 1 > first.json
expect_grep '"duration_us":' first.json
expect_grep '"tick":"20' first.json
./ticker executions > execs.txt
expect_grep 'every-second *record *completed *0' execs.txt
