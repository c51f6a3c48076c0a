#!/bin/sh
# run.sh — run every end-to-end test (tests/e2e/t-*.sh), each in a fresh
# temporary folder, and report.  Needs TRIGC, TRIG_BUILD, TRIG_SRC (set by
# the Makefile).  E2E=NAME runs only t-NAME.sh.
set -u
: "${TRIGC:?}" "${TRIG_BUILD:?}" "${TRIG_SRC:?}"
here=$TRIG_SRC/tests/e2e
pass=0
failed=""
for t in "$here"/t-*.sh; do
	name=$(basename "$t" .sh)
	name=${name#t-}
	if [ -n "${E2E:-}" ] && [ "$E2E" != "$name" ]; then
		continue
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/trig-e2e-$name.XXXXXX")
	if (cd "$work" && WORK=$work sh "$t") >"$work.log" 2>&1; then
		pass=$((pass + 1))
		printf '  %-7s %s\n' PASS "e2e/$name"
		rm -rf "$work" "$work.log"
	else
		printf '  %-7s %s (log: %s.log, folder kept)\n' FAIL "e2e/$name" "$work"
		sed 's/^/    | /' "$work.log" | tail -n 40
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "e2e: FAILED:$failed" >&2
	exit 1
fi
echo "e2e: $pass passed"
