# overlap: skip — a tick while the trigger's last launch still runs launches
# nothing and is audited as not-matched with the reason.  enable/disable of a
# running server take effect at its next tick.
. "$TRIG_SRC/tests/e2e/lib.sh"

cat > p.trig <<'DEFS'
project overlap

step slow {
    command "sleep 2.5"
}

step quick {
    command "true"
}

trigger slow-one {
    schedule every 1s overlap skip
    run execution slow
}

trigger quick-one {
    schedule every 1s
    run execution quick
}
DEFS
build p.trig ./overlap
start_server ./overlap --max-parallel 4
wait_until 15 grep -q '"trigger":"slow-one".*"condition":"overlap"' .trig-state/audit.jsonl ||
	fail "no tick was skipped for overlap"
expect_grep '"reason":"the previous launch is still running"' .trig-state/audit.jsonl

# Disable quick-one while the server runs: its ticks become "disabled".
./overlap disable quick-one 2>/dev/null
wait_until 10 grep -q '"trigger":"quick-one","kind":"schedule","outcome":"disabled"' \
	.trig-state/audit.jsonl || fail "the running server did not see the disable"
before=$(grep -c '"trigger":"quick-one".*"launched"' .trig-state/audit.jsonl)
sleep 2
after=$(grep -c '"trigger":"quick-one".*"launched"' .trig-state/audit.jsonl)
expect_eq "launches while disabled" "$after" "$before"
./overlap enable quick-one 2>/dev/null
wait_until 10 sh -c "[ \$(grep -c '\"trigger\":\"quick-one\".*\"launched\"' .trig-state/audit.jsonl) -gt $after ]" ||
	fail "the running server did not see the enable"
stop_server
