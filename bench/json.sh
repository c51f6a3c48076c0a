#!/bin/sh
# json.sh — trig's one-pass JSON extractor against jansson's DOM parse on
# the real GitHub payloads (bench/jsonextract.c; see bench/README.md).
#
#   make bench-json                 # builds libtrig, then runs this
#   ROUNDS=2000 sh bench/json.sh    # a quick run
#
# Installs libjansson-dev with apt-get when it is missing (BENCH_INSTALL=no:
# never).  Settings: ROUNDS (20000 per document), SHARED (the shared
# folder; default ../shared next to the source tree).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${TRIG_SRC:=$(dirname "$here")}"
: "${TRIG_BUILD:=$TRIG_SRC/build}"
: "${SHARED:=$(cd "$TRIG_SRC/.." && pwd)/shared}"
: "${CC:=cc}"
ROUNDS=${ROUNDS:-20000}

if ! pkg-config --exists jansson; then
	[ "${BENCH_INSTALL:-yes}" != no ] || { echo "bench: libjansson-dev is missing" >&2; exit 1; }
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get install -y --no-install-recommends libjansson-dev >/dev/null 2>&1 ||
		{ $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends libjansson-dev >/dev/null; }
fi
mkdir -p "$TRIG_BUILD/bench"
# shellcheck disable=SC2046
$CC -std=c11 -O2 -iquote "$TRIG_SRC/runtime" -iquote "$TRIG_SRC/runtime/include" \
	"$here/jsonextract.c" "$TRIG_BUILD/lib/libtrig.a" $(pkg-config --cflags --libs jansson) \
	-o "$TRIG_BUILD/bench/jsonextract"
"$TRIG_BUILD/bench/jsonextract" "$ROUNDS" "$SHARED"/testdata/github/*.json
