# catch-up across restarts: with `catch-up: once` a server that was down at
# a tick fires one launch when it starts; with `none` it does not.
. "$TRIG_SRC/tests/e2e/lib.sh"

cat > p.yaml <<'DEFS'
project: catchup
steps:
  - name: noop
    command: "true"
triggers:
  - name: once
    schedule: {cron: "0 0 1 1 *", catch-up: once}
    actions:
      - run-execution: {step: noop}
  - name: never
    schedule: {cron: "0 0 1 1 *", catch-up: none}
    actions:
      - run-execution: {step: noop}
  - name: fresh
    schedule: {cron: "0 0 1 1 *", catch-up: once}
    actions:
      - run-execution: {step: noop}
DEFS
build p.yaml ./catchup

# The state of a server that last fired both yearly ticks two years ago
# (`fresh` never fired: nothing to catch up).
./catchup list >/dev/null
mkdir -p .trig-state
echo 1 > .trig-state/VERSION
last=$(( $(date +%s) - 2 * 366 * 86400 ))
printf 'once %s\nnever %s\n' "$last" "$last" > .trig-state/ticks

start_server ./catchup
wait_until 10 at_least completed 1 || { cat server.cur.log >&2; fail "no catch-up launch"; }
sleep 0.5
stop_server
expect_eq "catch-up launches" "$(grep -c '"outcome":"launched"' .trig-state/audit.jsonl)" 1
expect_grep '"trigger":"once","kind":"schedule","outcome":"launched"' .trig-state/audit.jsonl
expect_grep "trigger 'once': caught up a missed tick" server.log

# The caught-up tick is recorded: a restart does not fire it again.
start_server ./catchup
sleep 0.5
stop_server
expect_eq "launches after a restart" "$(grep -c '"outcome":"launched"' .trig-state/audit.jsonl)" 1
