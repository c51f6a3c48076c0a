#!/bin/sh
# run.sh — the benchmarks of the first milestone (see bench/README.md).
#
#   make bench                         # builds trigc, libtrig.a, build/bench/nextfire
#   IDLE_SECONDS=5 make bench          # a quick run
#   sh bench/run.sh                    # the same, with the default build/ paths
#
# Measures, on generated projects (bench/gen-project.py, fixed seed):
#   1. trigc lint of a 1,000-trigger project, .trig, YAML and the YAML that
#      `trigc fmt --to yaml` makes of the .trig (hyperfine, else a timed loop);
#   2. trigc build of it: wall time, program size, generated C size;
#   3. ns per next-fire call (build/bench/nextfire);
#   4. `serve` of 10,000 schedules that cannot fire for days: start-up time,
#      CPU time and RSS over IDLE_SECONDS of idling, exit status on SIGTERM.
# Prints a table at the end and writes it to bench/results-latest.txt.
#
# Settings (environment): IDLE_SECONDS (60), LINT_RUNS (30), BUILD_RUNS (5),
# STARTUP_RUNS (5), NEXTFIRE_CALLS (200000 per case), NEXTFIRE_REPEAT (3),
# LINT_SCALING=no (skip linting the 2k-20k versions of the mix),
# SEED (1), HYPERFINE=no (use the timed loop even when hyperfine is there),
# BENCH_INSTALL=no (never apt-get install hyperfine), BENCH_WORK (the
# scratch folder; default $TRIG_BUILD/bench/work, emptied first),
# BENCH_RESULTS (where the table goes; default bench/results-latest.txt).
# Exit status: 0 when every step ran and every check held, 1 otherwise
# (a missed target is reported in the table, not by the exit status).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
: "${TRIG_SRC:=$(dirname "$here")}"
: "${TRIG_BUILD:=$TRIG_SRC/build}"
: "${TRIGC:=$TRIG_BUILD/bin/trigc}"
IDLE_SECONDS=${IDLE_SECONDS:-60}
LINT_RUNS=${LINT_RUNS:-30}
BUILD_RUNS=${BUILD_RUNS:-5}
STARTUP_RUNS=${STARTUP_RUNS:-5}
NEXTFIRE_CALLS=${NEXTFIRE_CALLS:-200000}
NEXTFIRE_REPEAT=${NEXTFIRE_REPEAT:-3}
SEED=${SEED:-1}
WORK=${BENCH_WORK:-$TRIG_BUILD/bench/work}
NEXTFIRE=$TRIG_BUILD/bench/nextfire
RESULTS=${BENCH_RESULTS:-$here/results-latest.txt}
export TZDIR="${TZDIR:-/usr/share/zoneinfo}"
export LC_ALL=C

die() {
	echo "bench: error: $*" >&2
	exit 1
}
say() {
	printf '  %-7s %s\n' "$1" "$2" >&2
}

for f in "$TRIGC" "$NEXTFIRE"; do
	[ -x "$f" ] || die "'$f' is missing: run 'make bench' (or make all build/bench/nextfire)"
done
command -v python3 >/dev/null || die "python3 is needed to generate the projects"
case $IDLE_SECONDS in
''|*[!0-9]*) die "IDLE_SECONDS must be a whole number of seconds" ;;
esac

rm -rf "$WORK"
mkdir -p "$WORK"
table=$WORK/table.txt
: > "$table"

# row LABEL RESULT [TARGET]
row() {
	printf '%-44s %-50s %s\n' "$1" "$2" "${3:-}" >> "$table"
}

# ------------------------------------------------------------ tools
# hyperfine if present; as root it may be installed (Debian package).
if [ "${HYPERFINE:-}" != no ] && ! command -v hyperfine >/dev/null 2>&1 &&
   [ "$(id -u)" -eq 0 ] && [ "${BENCH_INSTALL:-}" != no ] && command -v apt-get >/dev/null; then
	say APT "installing hyperfine"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends hyperfine \
		>"$WORK/apt.log" 2>&1 ||
	{ apt-get update -qq >>"$WORK/apt.log" 2>&1 &&
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends hyperfine \
		>>"$WORK/apt.log" 2>&1; } ||
	say APT "hyperfine could not be installed (see $WORK/apt.log): using a timed loop"
fi
if [ "${HYPERFINE:-}" != no ] && command -v hyperfine >/dev/null 2>&1; then
	timer="hyperfine $(hyperfine --version | sed 's/^hyperfine //')"
else
	timer="loop of date +%s%N"
fi
have_perf=no
if command -v perf >/dev/null 2>&1 && perf stat -x, -e task-clock true >/dev/null 2>&1; then
	have_perf=yes
fi

# time_cmd NAME RUNS WARMUP COMMAND... — wall time of COMMAND (its output
# discarded; a failure is fatal).  Sets MEAN, SD (the sample standard
# deviation), MEDIAN and MIN, in seconds, and writes
# WORK/NAME.json (hyperfine) or WORK/NAME.times (the loop).
time_cmd() {
	name=$1 runs=$2 warm=$3
	shift 3
	if [ "${timer%% *}" = hyperfine ]; then
		cmd=""
		for a in "$@"; do
			cmd="$cmd '$a'"
		done
		hyperfine -N --style none --warmup "$warm" --runs "$runs" \
			--export-json "$WORK/$name.json" "$cmd" >"$WORK/$name.hyperfine" 2>&1 ||
			{ cat "$WORK/$name.hyperfine" >&2; die "'$*' failed"; }
		# shellcheck disable=SC2046  # split into the four figures
		set -- $(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.6f %.6f %.6f %.6f" % (r["mean"], r["stddev"] or 0.0, r["median"], r["min"]))' "$WORK/$name.json")
	else
		k=0
		while [ $k -lt "$warm" ]; do
			"$@" >/dev/null 2>&1 || die "'$*' failed"
			k=$((k + 1))
		done
		: > "$WORK/$name.times"
		k=0
		while [ $k -lt "$runs" ]; do
			t0=$(date +%s%N)
			"$@" >/dev/null 2>&1 || die "'$*' failed"
			t1=$(date +%s%N)
			echo $((t1 - t0)) >> "$WORK/$name.times"
			k=$((k + 1))
		done
		# shellcheck disable=SC2046
		set -- $(sort -n "$WORK/$name.times" | awk '{ t[++n] = $1; s += $1 }
			END { m = s / n; for (j = 1; j <= n; j++) q += (t[j] - m) ^ 2;
			      md = n % 2 ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2;
			      printf "%.6f %.6f %.6f %.6f\n", m / 1e9, (n > 1 ? sqrt(q / (n - 1)) : 0) / 1e9,
				     md / 1e9, t[1] / 1e9 }')
	fi
	MEAN=$1 SD=$2 MEDIAN=$3 MIN=$4
}

ms() {
	awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'
}
commas() {
	printf '%s\n' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/; ta'
}
verdict() {     # verdict VALUE LIMIT → "ok" or "MISSED"
	awk -v v="$1" -v l="$2" 'BEGIN { print (v < l) ? "ok" : "MISSED" }'
}

# ------------------------------------------------------------ machine
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mhz=$(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
rev=$(cd "$TRIG_SRC" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$rev" != unknown ] && [ -n "$(cd "$TRIG_SRC" && git status --porcelain 2>/dev/null)" ]; then
	rev="$rev (with uncommitted changes)"
fi
{
	echo "trig benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "machine: $(nproc) cores, $cpu${mhz:+ ($mhz MHz)}, $mem, Linux $(uname -r)"
	echo "trig:    $("$TRIGC" version), commit $rev; cc: $(${CC:-cc} --version | head -n 1)"
	echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the start"
	echo "timer:   $timer; perf: $have_perf; IDLE_SECONDS=$IDLE_SECONDS" \
	     "LINT_RUNS=$LINT_RUNS BUILD_RUNS=$BUILD_RUNS SEED=$SEED"
	echo
} > "$WORK/head.txt"
cat "$WORK/head.txt" >&2

# ------------------------------------------------------------ projects
say GEN "1,000-trigger project (mix) and 10,000 idle schedules"
python3 "$here/gen-project.py" --kind mix --seed "$SEED" "$WORK/mix"
python3 "$here/gen-project.py" --kind idle --seed "$SEED" "$WORK/idle"

# Each form must lint clean (no diagnostic at all) ...
lint_clean() {
	"$TRIGC" lint --werror "$1" >"$WORK/lint.out" 2>&1 ||
		{ head -n 40 "$WORK/lint.out" >&2; die "'trigc lint $1' failed"; }
	[ ! -s "$WORK/lint.out" ] || { head -n 40 "$WORK/lint.out" >&2; die "'trigc lint $1' printed diagnostics"; }
}
"$TRIGC" fmt --to yaml "$WORK/mix.trig" > "$WORK/mix-fmt.yaml" || die "trigc fmt --to yaml mix.trig failed"
for f in mix.trig mix.yaml mix-fmt.yaml idle.trig idle.yaml; do
	lint_clean "$WORK/$f"
done
# ... and both forms must be the same project: the canonical YAML of the
# .trig (formatted once more from YAML, see the README's note on regexes)
# equals the canonical YAML of the generated YAML.
for k in mix idle; do
	"$TRIGC" fmt --to yaml "$WORK/$k.trig" > "$WORK/$k.c1.yaml"
	"$TRIGC" fmt "$WORK/$k.c1.yaml" > "$WORK/$k.c2.yaml"
	"$TRIGC" fmt --to yaml "$WORK/$k.yaml" > "$WORK/$k.c3.yaml"
	cmp -s "$WORK/$k.c2.yaml" "$WORK/$k.c3.yaml" ||
		die "$k.trig and $k.yaml are not the same project (diff $WORK/$k.c2.yaml $WORK/$k.c3.yaml)"
done
if "$TRIGC" fmt --check "$WORK/mix-fmt.yaml" >/dev/null 2>&1; then
	fmt_canon=yes
else
	fmt_canon="no ($(diff "$WORK/mix-fmt.yaml" "$WORK/mix.c2.yaml" | grep -c '^<') lines differ)"
fi
ntrig=$(grep -c '^trigger ' "$WORK/mix.trig")
nsched=$(grep -c '^    schedule ' "$WORK/mix.trig")
nhook=$(grep -c '^    webhook ' "$WORK/mix.trig")
nev=$(grep -c '^    on ' "$WORK/mix.trig")
row "project 'mix' (generated, seed $SEED)" \
	"$(commas "$ntrig") triggers: $nsched schedule, $nhook webhook, $nev event"
size_of() {         # "BYTES B, LINES lines" of FILE
	echo "$(commas "$(wc -c < "$1")") B, $(commas "$(wc -l < "$1")") lines"
}
row "  size .trig / .yaml" "$(size_of "$WORK/mix.trig") / $(size_of "$WORK/mix.yaml")"
row "  fmt --to yaml output is canonical" "$fmt_canon"

# ------------------------------------------------------------ 1. lint
for f in mix.trig mix.yaml mix-fmt.yaml idle.trig idle.yaml; do
	say LINT "$f ($LINT_RUNS runs)"
	time_cmd "lint-$f" "$LINT_RUNS" 3 "$TRIGC" lint "$WORK/$f"
	case $f in
	mix*) label="lint, 1,000 triggers, $f"; target="< 500 ms: $(verdict "$MEAN" 0.5)" ;;
	*)    label="lint, 10,000 schedules, $f"; target="" ;;
	esac
	row "$label" "$(ms "$MEAN") ms ± $(ms "$SD") ms (median $(ms "$MEDIAN"), min $(ms "$MIN"))" "$target"
done

# How lint grows with the project: the same mix at 2k to 20k triggers.
if [ "${LINT_SCALING:-}" != no ]; then
	for n in 2000 5000 10000 20000; do
		say LINT "mix of $n triggers (5 runs)"
		python3 "$here/gen-project.py" --kind mix --seed "$SEED" --triggers $n "$WORK/mix$n"
		lint_clean "$WORK/mix$n.trig"
		time_cmd "lint-mix$n" 5 1 "$TRIGC" lint "$WORK/mix$n.trig"
		row "  scaling: lint, $(commas $n) triggers, .trig" "$(ms "$MEAN") ms ± $(ms "$SD") ms"
	done
fi

# ------------------------------------------------------------ 2. build
build_bench() {     # build_bench NAME LABEL
	say BUILD "$1.trig ($BUILD_RUNS runs)"
	time_cmd "build-$1" "$BUILD_RUNS" 1 "$TRIGC" build "$WORK/$1.trig" -o "$WORK/$1-prog"
	row "build, $2, wall" "$(awk -v m="$MEAN" -v s="$SD" 'BEGIN { printf "%.3f s ± %.3f s", m, s }')"
	# The same without the C compiler: trigc's own share (parse, check,
	# lower, emit); `--cc true` makes the compile step a no-op.
	mkdir -p "$WORK/$1-c"
	if "$TRIGC" build "$WORK/$1.trig" -o "$WORK/$1-nocc" --cc true --emit-c "$WORK/$1-c" >/dev/null 2>&1; then
		time_cmd "emit-$1" "$BUILD_RUNS" 1 "$TRIGC" build "$WORK/$1.trig" -o "$WORK/$1-nocc" \
			--cc true --emit-c "$WORK/$1-c"
		row "  of which trigc (build --cc true)" "$(awk -v m="$MEAN" -v s="$SD" 'BEGIN { printf "%.3f s ± %.3f s", m, s }')"
	fi
	"$TRIGC" build "$WORK/$1.trig" -o "$WORK/$1-prog" --emit-c "$WORK/$1-c" || die "trigc build $1.trig"
	sz=$(wc -c < "$WORK/$1-prog")
	# shellcheck disable=SC2046
	set -- "$1" "$2" $(size "$WORK/$1-prog" | awk 'NR == 2 { print $1, $2, $3 }')
	strip -o "$WORK/$1-prog.stripped" "$WORK/$1-prog"
	row "  program size" "$(commas "$sz") B (stripped $(commas "$(wc -c < "$WORK/$1-prog.stripped")") B)"
	row "  program text / data / bss" "$(commas "$3") / $(commas "$4") / $(commas "$5") B"
	c=$(ls "$WORK/$1-c"/*.c)
	row "  generated C" "$(commas "$(wc -c < "$c")") B, $(commas "$(wc -l < "$c")") lines"
}
build_bench mix "1,000 triggers"
build_bench idle "10,000 schedules"

# ------------------------------------------------------------ 3. next fire
say NEXTFIRE "$NEXTFIRE_REPEAT x $NEXTFIRE_CALLS calls per case"
i=0
: > "$WORK/nextfire.all"
while [ $i -lt "$NEXTFIRE_REPEAT" ]; do
	"$NEXTFIRE" "$NEXTFIRE_CALLS" > "$WORK/nextfire.$i" 2>/dev/null || die "$NEXTFIRE failed"
	grep -v -e '^expression' -e '^mean' "$WORK/nextfire.$i" >> "$WORK/nextfire.all"
	i=$((i + 1))
done
# Each case's figure is the median of its repeats; then the summary.
python3 - "$WORK/nextfire.all" > "$WORK/nextfire.sum" <<'EOF'
import statistics, sys
cases = {}
for line in open(sys.argv[1]):
    expr, zone, ns = line[:20].strip(), line[21:39].strip(), float(line.split()[-1])
    cases.setdefault((expr, zone), []).append(ns)
med = {k: statistics.median(v) for k, v in cases.items()}
vals = sorted(med.values())
lo = min(med, key=med.get)
hi = max(med, key=med.get)
print("cases %d" % len(med))
print("mean %.1f" % statistics.mean(vals))
print("median %.1f" % statistics.median(vals))
print("min %.1f %s (%s)" % (med[lo], lo[0], lo[1]))
print("max %.1f %s (%s)" % (med[hi], hi[0], hi[1]))
zones = []
for (e, z) in med:
    if z not in zones:
        zones.append(z)
print("zones " + " / ".join("%s %.1f" % (z, statistics.mean(v for (e, zz), v in med.items() if zz == z))
                            for z in zones))
spread = max((max(v) - min(v)) / statistics.median(v) for v in cases.values())
print("spread %.0f%%" % (100 * spread))
EOF
nf() {
	sed -n "s/^$1 //p" "$WORK/nextfire.sum"
}
row "next-fire, ns/call, $(nf cases) cases (median of $NEXTFIRE_REPEAT)" "mean $(nf mean), median $(nf median)"
row "  fastest" "$(nf min)"
row "  slowest" "$(nf max)"
row "  mean per zone" "$(nf zones)"
row "  largest spread between repeats of a case" "$(nf spread)"

# ------------------------------------------------------------ 4. serve idle
prog=$WORK/idle-prog
proc_ticks() {      # utime + stime of PID, in clock ticks
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
proc_kb() {         # proc_kb PID FIELD — VmRSS, VmHWM ... in kB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}
proc_ctxt() {       # context switches of all threads of PID
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }'
}
# serve_start N — start the server with a fresh state folder; waits for
# its "serving" line.  Sets PID and STARTUP_MS (exec to the line's time).
serve_start() {
	rm -rf "$WORK/state"
	: > "$WORK/serve.$1.log"
	t0=$(date +%s%N)
	"$prog" serve --listen 127.0.0.1:0 --state "$WORK/state" >"$WORK/serve.$1.out" 2>"$WORK/serve.$1.log" &
	PID=$!
	w=0
	until grep -q ': serving project' "$WORK/serve.$1.log"; do
		kill -0 "$PID" 2>/dev/null || { cat "$WORK/serve.$1.log" >&2; die "serve exited at start"; }
		w=$((w + 1))
		[ $w -lt 6000 ] || { kill -KILL "$PID"; die "serve did not start in 60 s"; }
		sleep 0.01
	done
	ts=$(sed -n 's/^\([0-9T:.-]*Z\) .*: serving project.*/\1/p' "$WORK/serve.$1.log")
	t1=$(date -u -d "$ts" +%s%3N)
	STARTUP_MS=$((t1 - t0 / 1000000))
}
# serve_stop N — SIGTERM; the status must be 0.  Sets STOP_MS.
serve_stop() {
	t0=$(date +%s%N)
	kill -TERM "$PID"
	rc=0
	wait "$PID" || rc=$?
	t1=$(date +%s%N)
	STOP_MS=$(((t1 - t0) / 1000000))
	[ $rc -eq 0 ] || { cat "$WORK/serve.$1.log" >&2; die "serve exited with status $rc on SIGTERM"; }
	grep -q ': stopped$' "$WORK/serve.$1.log" || die "serve did not log 'stopped'"
}

# The idle project is made so that nothing fires for days: check it.
first=$("$prog" list | awk 'NR > 1 && $NF != "-" { print $NF }' | sort | head -n 1)
first_h=$(( ($(date -u -d "$first" +%s) - $(date +%s)) / 3600 ))
[ "$first_h" -ge 1 ] || die "a schedule of the idle project fires at $first, too soon"

say SERVE "start-up, $STARTUP_RUNS runs"
: > "$WORK/startup.ms"
i=0
while [ $i -lt "$STARTUP_RUNS" ]; do
	serve_start "s$i"
	echo "$STARTUP_MS" >> "$WORK/startup.ms"
	serve_stop "s$i"
	i=$((i + 1))
done
startup=$(awk '{ s += $1; q += $1 * $1; n++; if (n == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
	END { m = s / n; v = n > 1 ? (q - n * m * m) / (n - 1) : 0;
	      printf "%.0f ms ± %.0f ms (min %d, max %d)", m, (v > 0 ? sqrt(v) : 0), lo, hi }' "$WORK/startup.ms")

say SERVE "idle for $IDLE_SECONDS s"
serve_start idle
rss0=$(proc_kb "$PID" VmRSS)
hwm0=$(proc_kb "$PID" VmHWM)
anon0=$(proc_kb "$PID" RssAnon)
file0=$(proc_kb "$PID" RssFile)
sleep 1         # let start-up settle: the window below is idling only
hz=$(getconf CLK_TCK)
ticks0=$(proc_ticks "$PID")
ctx0=$(proc_ctxt "$PID")
threads=$(proc_kb "$PID" Threads)
if [ $have_perf = yes ]; then
	perf stat -x, -e task-clock,context-switches -p "$PID" -- sleep "$IDLE_SECONDS" \
		2>"$WORK/perf.csv" >/dev/null || have_perf=no
else
	sleep "$IDLE_SECONDS"
fi
kill -0 "$PID" 2>/dev/null || die "serve died while idle"
ticks1=$(proc_ticks "$PID")
rss1=$(proc_kb "$PID" VmRSS)
hwm1=$(proc_kb "$PID" VmHWM)
ctx1=$(proc_ctxt "$PID")
audit=0
[ ! -f "$WORK/state/audit.jsonl" ] || audit=$(wc -l < "$WORK/state/audit.jsonl")
serve_stop idle
launched=$(find "$WORK/state" -path '*executions/*' -name status.json 2>/dev/null | wc -l)
cpu_ms=$(awk -v t=$((ticks1 - ticks0)) -v hz="$hz" 'BEGIN { printf "%.0f", t * 1000 / hz }')
if [ $have_perf = yes ]; then
	# "<not counted>": no thread of the process ran at all.
	perf_ms=$(awk -F, '$3 == "task-clock" { print ($1 ~ /not counted/) ? "0.000" : sprintf("%.3f", $1) }' "$WORK/perf.csv")
	perf_cs=$(awk -F, '$3 == "context-switches" { print ($1 ~ /not counted/) ? 0 : $1 }' "$WORK/perf.csv")
	perf_note="perf: task-clock $perf_ms ms, $perf_cs context switches"
else
	perf_note="perf not available"
fi
row "serve, 10,000 schedules, start-up" "$startup" "exec to 'serving'"
# ≈ 0 is taken as at most one clock tick over the whole window.
idle_ok=MISSED
[ $((ticks1 - ticks0)) -gt 1 ] || idle_ok=ok
row "  CPU while idle ${IDLE_SECONDS} s (utime+stime)" \
	"$((ticks1 - ticks0)) ticks of 1/$hz s = $cpu_ms ms" "≈ 0: $idle_ok"
row "  same, precise" "$perf_note"
row "  context switches, all threads" "$((ctx1 - ctx0)) in ${IDLE_SECONDS} s ($threads threads)"
row "  VmRSS at start / after ${IDLE_SECONDS} s" "$(commas "$rss0") kB / $(commas "$rss1") kB"
row "  RSS at start: anonymous / file-backed" "$(commas "$anon0") kB / $(commas "$file0") kB"
row "  VmHWM at start / after ${IDLE_SECONDS} s" "$(commas "$hwm0") kB / $(commas "$hwm1") kB"
row "  earliest next fire of the 10,000" "$first, in $first_h h"
fired_ok=MISSED
[ "$audit" -ne 0 ] || [ "$launched" -ne 0 ] || fired_ok=ok
row "  ticks fired while idle" "$audit audit records, $launched executions" "0: $fired_ok"
row "  SIGTERM" "exit 0 in $STOP_MS ms"

# ------------------------------------------------------------ report
{
	cat "$WORK/head.txt"
	printf '%-44s %-50s %s\n' "measure" "result" "target"
	cat "$table"
	echo
	echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg); files: $WORK"
} > "$RESULTS"
echo >&2
cat "$RESULTS"
