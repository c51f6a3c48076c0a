# A launch accepted before a crash is resumed after a restart: a `fire` is
# killed with SIGKILL while its execution runs; the next server finds the
# launch unfinished in the journal and runs it to completion, once.
. "$TRIG_SRC/tests/e2e/lib.sh"

cat > p.trig <<'DEFS'
project resume

step slow {
    command ["echo started >> \"$TRIG_TEST_DIR/attempts\"", "sleep 2", "echo done > \"$VH_OUTPUTS_DIR/done\""]
    environment TRIG_TEST_DIR = "@WORK@"
}

trigger once {
    schedule every 1h
    run execution slow
}
DEFS
sed -i "s|@WORK@|$WORK|" p.trig
build p.trig ./resume

# A manual fire: killed while its execution sleeps.
./resume fire once > fire.txt 2>&1 &
FIRE=$!
PIDS="$PIDS $FIRE"
wait_until 10 test -s attempts || fail "the execution never started"
kill -9 $FIRE
wait $FIRE 2>/dev/null || true
launch=$(sed -n 's/^launch //p' fire.txt)
[ -n "$launch" ] || fail "fire printed no launch id"
# Let the orphaned attempt end, so the resumed one is the only one running.
sleep 2.5

start_server ./resume
wait_until 20 at_least completed 1 || { cat server.cur.log >&2; fail "the resumed launch did not complete"; }
expect_grep "resuming launch $launch of trigger 'once'" server.cur.log
stop_server
# The journal holds nothing pending any more: a new server resumes nothing.
start_server ./resume
sleep 0.5
stop_server
[ "$(grep -c 'resuming launch' server.log)" -eq 1 ] || fail "the launch was resumed twice"
