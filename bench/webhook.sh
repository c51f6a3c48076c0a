#!/bin/sh
# webhook.sh — webhook throughput and latency, trig against adnanh/webhook,
# side by side in one run (see bench/README.md).
#
#   make bench-webhook              # builds trigc and libtrig, then runs this
#   DURATION=4 sh bench/webhook.sh  # a quick run
#
# Both servers run the rule of ../shared/bench/adnanh-webhook-hooks.json:
# HMAC-SHA256 of the body in X-Hub-Signature-256 (GitHub's scheme, secret
# "s3cret") and payload.ref equal to a value, on the real GitHub push
# payload ../shared/testdata/github/push.0.json.  wrk (one thread, 32
# connections) measures three cases:
#   a. valid signature, filter not matching   (gh-nomatch)
#   b. invalid signature                      (gh-nomatch, signature of zeros)
#   c. launch accepted                        (gh-match: trig journals the
#      launch, synced, and runs the step `true`; webhook runs /bin/true)
# and the servers' RSS before and after each case.  Cases a and b run
# ROUNDS times (default 3), the servers taking turns; the table gives the
# medians and the ratio of the median rates.  Installs wrk and
# webhook with apt-get when they are missing (BENCH_INSTALL=no: never).
#
# Settings: DURATION (8 seconds per run), ROUNDS (3), CONNECTIONS (32), SHARED (the
# shared folder; default ../shared next to the source tree), BENCH_WORK
# (scratch; default build/bench/webhook), BENCH_RESULTS (the table;
# default bench/results-webhook.txt).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${TRIG_SRC:=$(dirname "$here")}"
: "${TRIG_BUILD:=$TRIG_SRC/build}"
: "${TRIGC:=$TRIG_BUILD/bin/trigc}"
: "${SHARED:=$(cd "$TRIG_SRC/.." && pwd)/shared}"
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
WORK=${BENCH_WORK:-$TRIG_BUILD/bench/webhook}
RESULTS=${BENCH_RESULTS:-$here/results-webhook.txt}
PAYLOAD=$SHARED/testdata/github/push.0.json
TRIG_PORT=${TRIG_PORT:-19080}
PEER_PORT=${PEER_PORT:-19090}
export LC_ALL=C

die() {
	echo "bench: error: $*" >&2
	exit 1
}

[ -x "$TRIGC" ] || die "'$TRIGC' is missing: run 'make'"
[ -f "$PAYLOAD" ] || die "no payload at '$PAYLOAD' (set SHARED)"
missing=
command -v wrk >/dev/null || missing="$missing wrk"
command -v webhook >/dev/null || missing="$missing webhook"
if [ -n "$missing" ]; then
	[ "${BENCH_INSTALL:-yes}" != no ] || die "missing:$missing"
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	# shellcheck disable=SC2086
	$sudo apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 ||
		{ $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends $missing >/dev/null; }
fi

rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

cat > bench.trig <<'DEFS'
project bench

step noop {
    command "true"
}

trigger gh-nomatch {
    webhook POST "/hooks/gh-nomatch"
    hmac preset github secret env BENCH_SECRET
    when payload.ref == "refs/heads/main"
    run execution noop
    respond 200 "queued"
}

trigger gh-match {
    webhook POST "/hooks/gh-match"
    hmac preset github secret env BENCH_SECRET
    when payload.ref == "refs/tags/simple-tag"
    run execution noop
    respond 200 "queued"
}
DEFS
"$TRIGC" build bench.trig -o bench
"$SHARED/bench/make-wrk-lua" "$PAYLOAD" s3cret > good.lua
"$SHARED/bench/make-wrk-lua" "$PAYLOAD" bad > bad.lua

PIDS=
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT INT TERM

BENCH_SECRET=s3cret ./bench serve --quiet --listen "127.0.0.1:$TRIG_PORT" --state state \
	2>trig.log &
TRIG_PID=$!
PIDS="$PIDS $TRIG_PID"
webhook -hooks "$SHARED/bench/adnanh-webhook-hooks.json" -ip 127.0.0.1 -port "$PEER_PORT" \
	>peer.log 2>&1 &
PEER_PID=$!
PIDS="$PIDS $PEER_PID"
for port in $TRIG_PORT $PEER_PORT; do
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "nothing answers on port $port"
		sleep 0.1
	done
done

rss() {
	awk '/^VmRSS/ { print $2 }' "/proc/$1/status"
}

# run NAME SCRIPT URL — prints "req/s p99-ms non-2xx"
run() {
	wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s "$2" --latency "$3" > "$1.wrk" 2>&1 ||
		die "wrk failed: $(cat "$1.wrk")"
	rps=$(awk '/^Requests\/sec/ { print $2 }' "$1.wrk")
	p99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.2f", v }' "$1.wrk")
	bad=$(awk '/Non-2xx/ { print $5 }' "$1.wrk")
	echo "$rps $p99 ${bad:-0}"
}

exec 3>"$RESULTS"
{
	echo "# trig vs adnanh/webhook $(webhook -version 2>&1 | awk '{ print $3 }'), $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "# $(nproc) cores, wrk -t1 -c$CONNECTIONS -d${DURATION}s, payload $(wc -c < "$PAYLOAD") bytes"
	printf '%-28s %12s %10s %10s %12s %12s\n' case server req/s p99-ms non-2xx rss-kB-before-after
} >&3

# median N... — the middle value (of an odd count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Each case runs ROUNDS times, the two servers taking turns, so that a
# noisy neighbour hurts both alike; the table gives the medians.
for case in a b c; do
	case $case in
	a) name="a. valid sig, no match"; script=good.lua; path=gh-nomatch ;;
	b) name="b. invalid signature"; script=bad.lua; path=gh-nomatch ;;
	c) name="c. launch accepted"; script=good.lua; path=gh-match ;;
	esac
	rounds=$ROUNDS
	[ $case != c ] || rounds=1     # launches pile up: one round is enough
	for side in trig webhook; do
		eval "rps_$side= p99_$side= bad_$side= before_$side="
	done
	r=0
	while [ $r -lt "$rounds" ]; do
		r=$((r + 1))
		for side in trig webhook; do
			if [ $side = trig ]; then
				pid=$TRIG_PID url=http://127.0.0.1:$TRIG_PORT/hooks/$path
			else
				pid=$PEER_PID url=http://127.0.0.1:$PEER_PORT/hooks/$path
			fi
			[ $r -gt 1 ] || eval "before_$side=$(rss "$pid")"
			set -- $(run "$side-$case-$r" "$script" "$url")
			eval "rps_$side=\"\$rps_$side $1\" p99_$side=\"\$p99_$side $2\" bad_$side=\"\$bad_$side $3\""
		done
	done
	for side in trig webhook; do
		[ $side = trig ] && pid=$TRIG_PID || pid=$PEER_PID
		eval "rps=\$(median \$rps_$side) p99=\$(median \$p99_$side) bad=\$(median \$bad_$side) before=\$before_$side"
		printf '%-28s %12s %10s %10s %12s %12s\n' "$name" "$side" "$rps" "$p99" "$bad" \
			"$before->$(rss "$pid")" >&3
		eval "med_$side=$rps"
		eval "all_$side=\"\$rps_$side\""
	done
	ratio=$(awk -v t="$med_trig" -v p="$med_webhook" 'BEGIN { printf "%.1f", t / p }')
	printf '%-28s %12s %10s    (rounds: trig%s; webhook%s)\n' "" "trig/peer" "${ratio}x" \
		"$all_trig" "$all_webhook" >&3
done
launched=$(./bench logs --state state --outcome launched | wc -l)
curl -s "http://127.0.0.1:$TRIG_PORT/metrics" > metrics.txt
begins=$(sed -n 's/^trig_journal_launches_total //p' metrics.txt)
syncs=$(sed -n 's/^trig_journal_syncs_total //p' metrics.txt)
printf '# trig journalled %s launches in case c; %s fdatasync calls for %s journal begins: %s per launch\n' \
	"$launched" "$syncs" "$begins" "$(awk -v s="$syncs" -v b="$begins" 'BEGIN { printf "%.3f", b ? s / b : 0 }')" >&3
exec 3>&-
cat "$RESULTS"
