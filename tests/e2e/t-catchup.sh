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
  - name: minutely
    schedule: {cron: "* * * * *", catch-up: once}
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
printf 'once %s\nnever %s\nminutely %s\n' "$last" "$last" "$last" > .trig-state/ticks

start_server ./catchup
wait_until 10 at_least completed 2 || { cat server.cur.log >&2; fail "no catch-up launch"; }
sleep 0.5
stop_server
once() { grep -c '"trigger":"once","kind":"schedule","outcome":"launched"' .trig-state/audit.jsonl; }
expect_eq "catch-up launches of 'once'" "$(once)" 1
expect_eq "launches of 'never'" "$(grep -c '"trigger":"never"' .trig-state/audit.jsonl)" 0
expect_eq "launches of 'fresh'" "$(grep -c '"trigger":"fresh"' .trig-state/audit.jsonl)" 0
expect_grep "trigger 'once': caught up a missed tick" server.log
# Two years of minutely ticks missed: one launch stands for them all.
expect_eq "catch-ups of 'minutely'" "$(grep -c "trigger 'minutely': caught up" server.log)" 1

# The caught-up tick is recorded: a restart does not fire it again.
start_server ./catchup
sleep 0.5
stop_server
expect_eq "launches of 'once' after a restart" "$(once)" 1
expect_eq "catch-ups of 'once' after a restart" "$(grep -c "trigger 'once': caught up" server.log)" 1
