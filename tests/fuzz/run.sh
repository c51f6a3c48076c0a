#!/bin/sh
# run.sh BUILD_DIR — run every libFuzzer target built in BUILD_DIR for
# FUZZ_TIME seconds each (default 60), starting from its committed seed
# corpus tests/fuzz/corpus/NAME and growing a working corpus in
# BUILD_DIR/corpus/NAME (the seeds are never modified).  A crash stops the
# run with its reproducer saved in BUILD_DIR/crashes/NAME/.
set -eu
dir=$(cd "$1" && pwd)
time=${FUZZ_TIME:-60}
src=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	name=${name#fuzz_}
	work=$dir/corpus/$name
	crashes=$dir/crashes/$name
	mkdir -p "$work" "$crashes"
	seeds=$src/corpus/$name
	[ -d "$seeds" ] || seeds=
	dict=
	[ -f "$src/$name.dict" ] && dict=-dict=$src/$name.dict
	printf '  %-7s %s (%ss)\n' FUZZ "$name" "$time"
	# shellcheck disable=SC2086
	if ! "$bin" -max_total_time="$time" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/" $dict "$work" $seeds \
		>"$dir/$name.log" 2>&1; then
		echo "fuzz: $name failed; see $dir/$name.log and $crashes/" >&2
		tail -n 30 "$dir/$name.log" >&2
		status=1
		continue
	fi
	sed -n 's/^stat::number_of_executed_units: */    runs: /p; s/^stat::average_exec_per_sec: */    exec\/s: /p' \
		"$dir/$name.log"
	grep -o 'cov: [0-9]* ft: [0-9]*' "$dir/$name.log" | tail -n 1 | sed 's/^/    /'
done
exit $status
