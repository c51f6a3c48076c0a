# Durability (issue 4, point 7): the server is killed with SIGKILL in the
# middle of a burst of ~200 concurrent webhook requests; after a restart,
# every acknowledged (202) launch's execution completes, and no execution
# runs twice: those that were running when the server died are adopted
# (their supervisor outlives the server), not started again.
. "$TRIG_SRC/tests/e2e/lib.sh"

cat > p.trig <<'DEFS'
project crash

step record {
    command ["echo \"$VH_EXECUTION_ID\" >> \"$TRIG_TEST_DIR/ran\"", "n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')", "sleep \"0.$(printf %03d $((n % 300)))\""]
    environment TRIG_TEST_DIR = "@WORK@"
}

trigger burst {
    webhook POST "/hooks/burst"
    token header "X-Token" secret env HOOK_TOKEN
    run execution record
}
DEFS
sed -i "s|@WORK@|$WORK|" p.trig
build p.trig ./crash
export HOOK_TOKEN=tok-crash-e2e

start_server ./crash --max-parallel 8
URL=http://127.0.0.1:$PORT/hooks/burst

# 8 clients, 25 requests each; a client stops at its first failure (the
# server is gone).  Each 202's launch id goes to acked.N.
CLIENTS=8
PER_CLIENT=25
client() {
	i=0
	: > "acked.$1"
	while [ $i -lt $PER_CLIENT ]; do
		code=$(curl -s -m 10 -o "resp.$1" -w '%{http_code}' -X POST -H "X-Token: $HOOK_TOKEN" \
			-d "{\"client\":$1,\"n\":$i}" "$URL") || code=000
		[ "$code" = 202 ] || break
		sed -n 's/.*"launch":"\([^"]*\)".*/\1/p' "resp.$1" >> "acked.$1"
		i=$((i + 1))
	done
	echo "$code" > "last.$1"
}
CLIENT_PIDS=""
c=1
while [ $c -le $CLIENTS ]; do
	client $c &
	CLIENT_PIDS="$CLIENT_PIDS $!"
	c=$((c + 1))
done
PIDS="$PIDS $CLIENT_PIDS"

acked_count() {
	cat acked.* 2>/dev/null | wc -l
}
half_acked() {
	[ "$(acked_count)" -ge $((CLIENTS * PER_CLIENT / 2)) ]
}
wait_until 30 half_acked || fail "the first half of the burst was not acknowledged in 30 s"
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
cat server.cur.log >> server.log
done_at_kill=$(count_status completed)
for p in $CLIENT_PIDS; do
	wait "$p" || fail "a client failed"
done
acked=$(acked_count)
cat acked.* > acked.txt
[ "$(sort acked.txt | uniq -d | wc -l)" -eq 0 ] || fail "a launch id was acknowledged twice"
echo "acknowledged: $acked launches; completed when the server was killed: $done_at_kill"
[ "$acked" -ge $((CLIENTS * PER_CLIENT / 2)) ] || fail "only $acked launches acknowledged"
[ "$acked" -lt $((CLIENTS * PER_CLIENT)) ] || fail "the server was killed after the burst, not in it"
[ "$done_at_kill" -lt "$acked" ] || fail "nothing was left to do when the server was killed"

start_server ./crash --max-parallel 8

# launch id -> status of its execution, for every execution folder.
launch_status() {
	grep -o '"launch":"[^"]*"' .trig-state/executions/*/execution.json 2>/dev/null |
		sed 's|/execution.json:"launch":"| |; s|"$||' | sort > launches.txt
	grep -o '"status":"[^"]*"' .trig-state/executions/*/status.json 2>/dev/null |
		sed 's|/status.json:"status":"| |; s|"$||' | sort > statuses.txt
	join -a 1 -e none -o 1.2,2.2 launches.txt statuses.txt | sort > map.txt
}
all_acked_completed() {
	launch_status
	# the acknowledged launches, and the launches the restart resumed
	# (those journalled whose answer the kill cut off too)
	{ cat acked.txt; sed -n 's/.*resuming launch \([^ ]*\) .*/\1/p' server.cur.log; } |
		sort -u > want.txt
	awk '$2 == "completed" { print $1 }' map.txt | sort -u > completed.txt
	[ -z "$(comm -23 want.txt completed.txt)" ]
}
if ! wait_until 40 all_acked_completed; then
	# (want.txt also holds the resumed launches that were never acknowledged)
	comm -23 want.txt completed.txt | head -5 >&2
	cat server.cur.log >&2
	fail "$(comm -23 want.txt completed.txt | wc -l) acknowledged launches did not complete"
fi
launch_status
! grep -q ' none$' map.txt || fail "an execution has no status.json"
stop_server

# Every execution ran once: no id twice in the file they append to.
dups=$(sort ran | uniq -d)
[ -z "$dups" ] || fail "executions ran twice: $(echo $dups | head -c 300)"
# ... and every completed execution appears in it exactly once.
expect_eq "executions run vs completed" "$(sort -u ran | wc -l)" "$(count_status completed)"
expect_eq "executions failed or in error" "$(count_status failed)$(count_status error)" "00"
expect_grep "resuming launch" server.log
echo "restart: $(grep -c 'resuming launch' server.log) launches resumed," \
	"$(grep -c 'adopting it' server.log) running executions adopted," \
	"$(grep -c 'ended while the server was down' server.log) ended while it was down"
