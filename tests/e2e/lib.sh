# lib.sh — helpers sourced by the end-to-end tests.  Each test runs in its own
# empty folder ($WORK); everything it starts is killed when it exits.

set -eu
: "${TRIGC:?}" "${TRIG_BUILD:?}" "${TRIG_SRC:?}" "${WORK:?}"

PIDS=""
cleanup() {
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# build FILE PROG — trigc build, failing the test on any diagnostic.
build() {
	"$TRIGC" build "$1" -o "$2" 2>build.err || { cat build.err >&2; fail "trigc build $1"; }
	[ ! -s build.err ] || { cat build.err >&2; fail "trigc build $1 printed diagnostics"; }
}

# start_server PROG [ARGS...] — serve on a free port in the background;
# sets SERVER_PID and PORT.  The server logs to server.cur.log, which
# stop_server appends to server.log (the log of every server of the test).
start_server() {
	prog=$1
	shift
	: > server.cur.log
	"$prog" serve --listen 127.0.0.1:0 "$@" >server.out 2>>server.cur.log &
	SERVER_PID=$!
	PIDS="$PIDS $SERVER_PID"
	i=0
	while ! grep -q ', port [0-9]*' server.cur.log 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat server.cur.log >&2; fail "server did not start"; }
		kill -0 "$SERVER_PID" 2>/dev/null || { cat server.cur.log >&2; fail "server exited"; }
		sleep 0.1
	done
	PORT=$(sed -n 's/.*, port \([0-9]*\),.*/\1/p' server.cur.log)
}

# stop_server — SIGTERM and wait; fails unless it exits 0.
stop_server() {
	kill -TERM "$SERVER_PID"
	rc=0
	wait "$SERVER_PID" || rc=$?
	cat server.cur.log >> server.log
	[ $rc -eq 0 ] || { cat server.cur.log >&2; fail "server exited with status $rc"; }
}

# wait_until SECONDS COMMAND... — retry COMMAND every 0.1s.
wait_until() {
	limit=$(( $1 * 10 ))
	shift
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -lt $limit ] || return 1
		sleep 0.1
	done
}

# count_status STATUS — executions whose status.json says STATUS.
count_status() {
	grep -l "\"status\":\"$1\"" .trig-state/executions/*/status.json 2>/dev/null | wc -l
}

at_least() {
	[ "$(count_status "$1")" -ge "$2" ]
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# expect_grep PATTERN FILE
expect_grep() {
	grep -q -- "$1" "$2" || { echo "--- $2" >&2; cat "$2" >&2; fail "'$1' not in $2"; }
}
