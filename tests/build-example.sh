#!/bin/sh
# build-example.sh NAME — build examples/NAME with the tree's trigc into
# $TRIG_BUILD/examples/NAME/ (the program is named after the project, its C
# kept beside it), then check the program answers `version` and `list`.
# Every *.trig and *.yaml of the example is a definition file, except
# valohai.yaml files (those are imported).
set -eu
: "${TRIGC:?}" "${TRIG_BUILD:?}" "${TRIG_SRC:?}"
name=$1
src=$TRIG_SRC/examples/$name
out=$TRIG_BUILD/examples/$name
rm -rf "$out"
mkdir -p "$out"
files=$(cd "$src" && ls ./*.trig ./*.yaml ./*.yml 2>/dev/null | grep -v '/valohai\.ya\?ml$' |
	sed "s|^\./|$src/|" || true)
[ -n "$files" ] || { echo "build-example: no definitions in examples/$name" >&2; exit 1; }
# shellcheck disable=SC2086
(cd "$out" && "$TRIGC" build $files --emit-c .)
prog=$(find "$out" -maxdepth 1 -type f -perm -u+x | head -n 1)
[ -n "$prog" ] || { echo "build-example: trigc made no program for examples/$name" >&2; exit 1; }
"$prog" version >/dev/null
"$prog" list >/dev/null
