#!/bin/sh
# launches.sh — journalled launches: throughput and fsyncs per launch at 32
# concurrent webhook clients, and memory with 10,000 launches queued.
#
#   make bench-launches              # builds trigc and libtrig, then runs this
#   DURATION=4 sh bench/launches.sh  # a quick run
#
# 1. Throughput.  A webhook trigger (static token, no filter) runs the
#    no-op step `true` on the local backend.  wrk (one thread, CONNECTIONS
#    connections, DURATION seconds) posts to it; every 202 is a launch
#    journalled and fdatasync'ed before the answer.  The server's /metrics
#    gives the journal's begin records and fdatasync calls: group commit
#    makes one sync cover the begins of every request waiting for it (the
#    server's launch threads wait together; the HTTP threads do not wait).
#    ROUNDS runs (default 3), each on a fresh state folder.
# 2. Memory.  The same server with a step that sleeps and max-parallel 1:
#    QUEUED (default 10,000) launches are posted (8 client threads, python3),
#    all acknowledged and queued behind the one running; the server's RSS is
#    read before, after, and after a second batch of the same size, which
#    the full queue refuses (503 with Retry-After: the local backend keeps
#    at most 10,000 executions waiting, and a launch it could not queue is
#    refused before it is acknowledged).
#
# Settings: DURATION (8), CONNECTIONS (32), ROUNDS (3), QUEUED
# (10000), BENCH_WORK (default build/bench/launches), BENCH_RESULTS (default
# bench/results-launches.txt).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${TRIG_SRC:=$(dirname "$here")}"
: "${TRIG_BUILD:=$TRIG_SRC/build}"
: "${TRIGC:=$TRIG_BUILD/bin/trigc}"
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-3}
QUEUED=${QUEUED:-10000}
WORK=${BENCH_WORK:-$TRIG_BUILD/bench/launches}
RESULTS=${BENCH_RESULTS:-$here/results-launches.txt}
PORT=${TRIG_PORT:-19180}
export LC_ALL=C

die() {
	echo "bench: error: $*" >&2
	exit 1
}

[ -x "$TRIGC" ] || die "'$TRIGC' is missing: run 'make'"
command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

cat > launches.trig <<'DEFS'
project launches

backend local { max-parallel 2 }

step noop {
    command "true"
}

step wait {
    command "sleep 600"
}

trigger go {
    webhook POST "/hooks/go"
    token header X-Token secret env BENCH_TOKEN
    run execution noop
}

trigger pile {
    webhook POST "/hooks/pile"
    token header X-Token secret env BENCH_TOKEN
    run execution wait
}
DEFS
"$TRIGC" build launches.trig -o launches
cat > post.lua <<'LUA'
wrk.method = "POST"
wrk.headers["X-Token"] = "b3nch"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"ref": "refs/heads/main"}'
LUA

PID=
cleanup() {
	[ -z "$PID" ] || kill -9 "$PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

start() { # ARGS... — serve in the background; sets PID
	rm -rf state
	BENCH_TOKEN=b3nch ./launches serve --quiet --listen "127.0.0.1:$PORT" --state state "$@" \
		2>server.log &
	PID=$!
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "the server did not start: $(cat server.log)"
		sleep 0.1
	done
}

stop() {
	kill -TERM "$PID"
	wait "$PID" 2>/dev/null || true
	PID=
}

metric() { # NAME — from /metrics
	curl -s "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

rss() {
	awk '/^VmRSS/ { print $2 }' "/proc/$PID/status"
}

exec 3>"$RESULTS"
{
	echo "# journalled launches, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "# 1. wrk -t1 -c$CONNECTIONS -d${DURATION}s POST /hooks/go (step \`true\`, local backend)"
	echo "#    launches/s: launches journalled (202) per second; 503: refused while the 10,000"
	echo "#    waiting executions filled the queue (the step runs slower than launches come)"
	printf '%-8s %12s %10s %10s %10s %12s %8s\n' round launches/s p99-ms launches syncs \
		syncs/launch 503
} >&3

for w in $(seq "$ROUNDS"); do
	start
	wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s post.lua --latency \
		"http://127.0.0.1:$PORT/hooks/go" > wrk.txt 2>&1 || die "wrk failed: $(cat wrk.txt)"
	p99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.2f", v }' wrk.txt)
	bad=$(awk '/Non-2xx/ { print $5 }' wrk.txt)
	begins=$(metric trig_journal_launches_total)
	syncs=$(metric trig_journal_syncs_total)
	printf '%-8s %12s %10s %10s %10s %12s %8s\n' "$w" \
		"$(awk -v b="$begins" -v d="$DURATION" 'BEGIN { printf "%.1f", b / d }')" "$p99" \
		"$begins" "$syncs" \
		"$(awk -v s="$syncs" -v b="$begins" 'BEGIN { printf "%.3f", b ? s / b : 0 }')" \
		"${bad:-0}" >&3
	stop
done

# 2. Memory with QUEUED launches waiting.
cat > pile.py <<'PY'
import http.client, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
codes = {}
lock = threading.Lock()
def worker(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(k):
        c.request("POST", "/hooks/pile", body='{"n": 1}',
                  headers={"X-Token": "b3nch", "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        with lock:
            codes[r.status] = codes.get(r.status, 0) + 1
ts = [threading.Thread(target=worker, args=(n // 8 + (1 if i < n % 8 else 0),)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join("%d:%d" % kv for kv in sorted(codes.items())))
PY
start --max-parallel 1
before=$(rss)
t0=$(date +%s.%N)
codes1=$(python3 pile.py "$PORT" "$QUEUED")
t1=$(date +%s.%N)
after=$(rss)
codes2=$(python3 pile.py "$PORT" "$QUEUED")
again=$(rss)
{
	echo "# 2. $QUEUED launches of a step that sleeps, max-parallel 1"
	echo "#    answers: $codes1 in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s;" \
	     "a second batch of $QUEUED: $codes2"
	printf '%-34s %10s\n' "rss-kB" ""
	printf '%-34s %10s\n' "idle" "$before"
	printf '%-34s %10s\n' "with $QUEUED queued" "$after"
	printf '%-34s %10s\n' "after a second batch" "$again"
	printf '%-34s %10s\n' "per queued launch (bytes)" \
		"$(awk -v a="$before" -v b="$after" -v n="$QUEUED" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')"
} >&3
stop
# SIGTERM stopped the running execution's process group; a resumed launch
# would run it again: the state goes.
rm -rf state
exec 3>&-
cat "$RESULTS"
