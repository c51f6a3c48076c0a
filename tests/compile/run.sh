#!/bin/sh
# run.sh — the compiler's golden tests (make compile-tests).
#
# Needs TRIGC and TRIG_SRC (the Makefile also sets TRIG_BUILD, whose
# include/ the generated C is checked against, and TRIG_SHARED).
#
#   lint/NAME.trig | lint/NAME.yaml | lint/NAME.yml | lint/NAME/
#       `trigc lint` of the file (of a folder: of its .trig, .yaml and .yml
#       files but valohai.yaml, in name order) run inside its folder with
#       NO_COLOR.  Beside it:
#         NAME.err     the exact stderr (empty for a clean file)
#         NAME.out     the exact stdout, when there is any (--format json|sarif)
#         NAME.args    extra arguments, put before the files (--werror ...)
#         NAME.status  the exit status, when it is not the one the output
#                      implies: 1 if it holds an error, else 0
#   build/NAME.trig | build/NAME.yaml
#       `trigc build --emit-c` run inside build/: the C must equal NAME.c,
#       with the folder's absolute path written @DIR@ and trigc's version
#       @VERSION@; it must compile warning-free with strict flags, and a
#       second build must give the same bytes.
#   roundtrip/FILE and every definition file of examples/*/
#       In a copy of its folder: X -> fmt --to yaml -> Y.yaml -> fmt --to
#       trig -> Z.trig; Y and Z must be canonical (fmt --check), Z back to
#       YAML must give Y again, and X, Y and Z must build to the same C.
#
# TRIG_UPDATE_GOLDEN=1 rewrites the expected outputs (lint and build) from
# what trigc does now: review the diff before committing it.
# COMPILE=PATTERN runs only the tests whose name (lint/NAME, build/NAME,
# roundtrip/FILE, example/NAME/FILE) matches the shell pattern.
set -u
: "${TRIGC:?}" "${TRIG_SRC:?}"
here=$TRIG_SRC/tests/compile
update=${TRIG_UPDATE_GOLDEN:-0}
only=${COMPILE:-}
include=${TRIG_BUILD:+$TRIG_BUILD/include}
: "${include:=$(dirname "$(dirname "$TRIGC")")/include}"
CC=${CC:-cc}
STRICT="-std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -Werror -fsyntax-only"

export NO_COLOR=1
unset TRIG_RUNTIME_DIR

tmp=$(mktemp -d "${TMPDIR:-/tmp}/trig-compile.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

version=$("$TRIGC" version | sed 's/^trigc //')
pass=0
failed=""
lint_out=$tmp/lint-all      # every expected lint output, for the rule coverage
: >"$lint_out"

selected()
{
	[ -z "$only" ] && return 0
	# shellcheck disable=SC2254
	case $1 in $only) return 0 ;; esac
	return 1
}

ok()
{
	pass=$((pass + 1))
	printf '  %-7s %s\n' PASS "$1"
}

# fail NAME WHY [FILE]: FILE holds the details (a diff, an error output).
fail()
{
	failed="$failed $1"
	printf '  %-7s %s: %s\n' FAIL "$1" "$2"
	if [ $# -ge 3 ] && [ -s "$3" ]; then
		head -n 60 "$3" | sed 's/^/    | /'
	fi
}

# same EXPECTED ACTUAL DIFF: compares two files, the diff in DIFF.
same()
{
	if [ -f "$1" ]; then
		diff -u "$1" "$2" >"$3" 2>&1
	else
		diff -u /dev/null "$2" >"$3" 2>&1
	fi
}

# The definition files of folder $1, one a line, valohai.yaml left out.
definitions()
{
	(cd "$1" && for f in *.trig *.yaml *.yml; do
		[ -f "$f" ] || continue
		case $f in valohai.yaml | valohai.yml) continue ;; esac
		echo "$f"
	done)
}

# ------------------------------------------------------------------ lint

# The rules trigc reports; each must have a golden test.
rules="syntax usage unknown-key duplicate-key bad-value missing-key trigger-kind
unknown-condition unknown-action project import bad-name duplicate-trigger
duplicate-step duplicate-pipeline duplicate-path schedule cron-syntax cron-never
monthly-short-months timezone-unused unknown-timezone literal-secret webhook-no-auth
template-root template-syntax unknown-step unknown-pipeline unknown-node
unknown-parameter unknown-input condition-context action-context no-actions workdir
unknown-action-name ambiguous-action action-order unknown-action-field duplicate-action
event-loop event-loop-possible event-cycle"

lint_one()
{
	name=$1 dir=$2 files=$3
	base=$here/lint/$name
	args=""
	[ -f "$base.args" ] && args=$(cat "$base.args")
	out=$tmp/lint.out err=$tmp/lint.err
	# shellcheck disable=SC2086
	(cd "$dir" && "$TRIGC" lint $args $files) >"$out" 2>"$err"
	rc=$?
	# SARIF names trigc's version: written @VERSION@ in the goldens.
	sed -i "s|\"version\": \"$version\"}|\"version\": \"@VERSION@\"}|" "$out"
	if [ "$update" = 1 ]; then
		cp "$err" "$base.err"
		if [ -s "$out" ]; then cp "$out" "$base.out"; else rm -f "$base.out"; fi
	fi
	cat "$base.err" >>"$lint_out" 2>/dev/null
	cat "$base.out" >>"$lint_out" 2>/dev/null
	if [ -f "$base.status" ]; then
		want=$(cat "$base.status")
	elif cat "$base.err" "$base.out" 2>/dev/null |
		grep -q -e ': error: ' -e '"severity": "error"' -e '"level": "error"'; then
		want=1
	else
		want=0
	fi
	if ! same "$base.err" "$err" "$tmp/diff"; then
		fail "lint/$name" "stderr differs from $name.err" "$tmp/diff"
	elif [ -f "$base.out" ] && ! same "$base.out" "$out" "$tmp/diff"; then
		fail "lint/$name" "stdout differs from $name.out" "$tmp/diff"
	elif [ ! -f "$base.out" ] && [ -s "$out" ]; then
		same /dev/null "$out" "$tmp/diff"
		fail "lint/$name" "unexpected stdout" "$tmp/diff"
	elif [ "$rc" != "$want" ]; then
		fail "lint/$name" "exit status $rc, expected $want"
	else
		ok "lint/$name"
	fi
}

seen=" "
for f in "$here"/lint/*; do
	[ -e "$f" ] || continue
	b=$(basename "$f")
	if [ -d "$f" ]; then
		name=$b
		files=$(definitions "$f" | tr '\n' ' ')
		dir=$f
	else
		case $b in
		*.trig) name=${b%.trig} ;;
		*.yaml) name=${b%.yaml} ;;
		*.yml) name=${b%.yml} ;;
		*) continue ;;
		esac
		files=$b
		dir=$here/lint
		# A folder test's inputs live in the folder, not beside it.
	fi
	case $seen in *" $name "*)
		fail "lint/$name" "two inputs named '$name'"
		continue ;;
	esac
	seen="$seen$name "
	selected "lint/$name" || continue
	if [ -z "$files" ] && [ ! -f "$here/lint/$name.args" ]; then
		fail "lint/$name" "no definition files"
		continue
	fi
	lint_one "$name" "$dir" "$files"
done

# Every rule is shown by at least one golden (only on a full run).
if [ -z "$only" ]; then
	missing=""
	for r in $rules; do
		grep -q -F -e "[$r]" -e "\"rule\": \"$r\"" -e "\"ruleId\": \"$r\"" "$lint_out" ||
			missing="$missing $r"
	done
	if [ -n "$missing" ]; then
		fail "lint/coverage" "no golden shows the rules:$missing"
	else
		ok "lint/coverage"
	fi
fi

# ------------------------------------------------------------------ build

bdir=$here/build

# re TEXT: TEXT as a sed pattern (| delimited) that matches it literally.
re()
{
	printf '%s' "$1" | sed 's/[][\\.*^$|]/\\&/g'
}
abs_l=$(re "$(cd "$bdir" && pwd -L)")
abs_p=$(re "$(cd "$bdir" && pwd -P)")
ver=$(re "$version")

# placeholders FILE: the folder and the version written as @DIR@ and @VERSION@.
placeholders()
{
	sed -e "s|$abs_p|@DIR@|g" -e "s|$abs_l|@DIR@|g" \
		-e "s|\"$ver\"|\"@VERSION@\"|g" -e "s|trigc $ver |trigc @VERSION@ |" "$1"
}

for f in "$bdir"/*.trig "$bdir"/*.yaml; do
	case $f in */valohai.yaml) continue ;; esac
	[ -f "$f" ] || continue
	b=$(basename "$f")
	name=${b%.*}
	selected "build/$name" || continue
	o1=$tmp/b1 o2=$tmp/b2
	rm -rf "$o1" "$o2"
	mkdir -p "$o1" "$o2"
	# The C is what this test is about; `true` stands in for cc.
	if ! (cd "$bdir" && "$TRIGC" build "$b" --emit-c "$o1" --cc true -o "$o1/prog") \
		>"$tmp/log" 2>&1; then
		fail "build/$name" "trigc build failed" "$tmp/log"
		continue
	fi
	c=$(ls "$o1"/*.c 2>/dev/null | head -n 1)
	if [ -z "$c" ]; then
		fail "build/$name" "trigc build wrote no C"
		continue
	fi
	placeholders "$c" >"$tmp/b.c"
	[ "$update" = 1 ] && cp "$tmp/b.c" "$bdir/$name.c"
	if ! same "$bdir/$name.c" "$tmp/b.c" "$tmp/diff"; then
		fail "build/$name" "generated C differs from $name.c" "$tmp/diff"
		continue
	fi
	(cd "$bdir" && "$TRIGC" build "$b" --emit-c "$o2" --cc true -o "$o2/prog") >/dev/null 2>&1
	if ! cmp -s "$c" "$o2/$(basename "$c")"; then
		diff -u "$c" "$o2/$(basename "$c")" >"$tmp/diff" 2>&1
		fail "build/$name" "a second build gives other C" "$tmp/diff"
		continue
	fi
	# shellcheck disable=SC2086
	if ! $CC $STRICT -I"$include" "$c" >"$tmp/log" 2>&1; then
		fail "build/$name" "the generated C does not compile cleanly" "$tmp/log"
		continue
	fi
	ok "build/$name"
done

# ------------------------------------------------------------------ round trips

# roundtrip NAME FOLDER FILE
roundtrip()
{
	name=$1 src=$2 x=$3
	w=$tmp/rt
	rm -rf "$w"
	cp -R "$src" "$w"
	log=$tmp/rt.log
	y=__rt_y.yaml z=__rt_z.trig
	cd "$w" || return
	if ! "$TRIGC" fmt --to yaml "$x" >"$y" 2>"$log"; then
		fail "$name" "fmt --to yaml failed" "$log"
	elif ! "$TRIGC" fmt --to trig "$y" >"$z" 2>"$log"; then
		fail "$name" "fmt --to trig of the YAML failed" "$log"
	elif ! "$TRIGC" fmt "$y" >"$tmp/y2" 2>"$log" || ! same "$y" "$tmp/y2" "$tmp/diff"; then
		cat "$log" >>"$tmp/diff"
		fail "$name" "fmt of the canonical YAML changes it" "$tmp/diff"
	elif ! "$TRIGC" fmt "$z" >"$tmp/z2" 2>"$log" || ! same "$z" "$tmp/z2" "$tmp/diff"; then
		cat "$log" >>"$tmp/diff"
		fail "$name" "fmt of the canonical .trig changes it" "$tmp/diff"
	elif ! "$TRIGC" fmt --check "$y" >"$log" 2>&1 || ! "$TRIGC" fmt --check "$z" >"$log" 2>&1; then
		fail "$name" "fmt --check refuses a canonical output" "$log"
	elif ! "$TRIGC" fmt --to yaml "$z" >"$tmp/y3" 2>"$log" || ! same "$y" "$tmp/y3" "$tmp/diff"; then
		cat "$log" >>"$tmp/diff"
		fail "$name" "YAML -> .trig -> YAML is not the identity" "$tmp/diff"
	else
		bad=""
		for v in x y z; do
			eval "in=\$$v"
			mkdir -p "$tmp/c-$v"
			rm -f "$tmp/c-$v"/*.c
			# shellcheck disable=SC2154
			if ! "$TRIGC" build --no-line --emit-c "$tmp/c-$v" --cc true -o "$tmp/c-$v/prog" \
				"$in" >"$log" 2>&1; then
				bad="build of $in failed"
				break
			fi
		done
		if [ -n "$bad" ]; then
			fail "$name" "$bad" "$log"
		elif ! same "$tmp/c-x/"*.c "$tmp/c-y/"*.c "$tmp/diff"; then
			fail "$name" "the YAML builds to other C" "$tmp/diff"
		elif ! same "$tmp/c-x/"*.c "$tmp/c-z/"*.c "$tmp/diff"; then
			fail "$name" "the converted .trig builds to other C" "$tmp/diff"
		else
			ok "$name"
		fi
	fi
	cd "$here" || exit 3
}

for f in "$here"/roundtrip/*; do
	[ -f "$f" ] || continue
	b=$(basename "$f")
	case $b in *.trig | *.yaml | *.yml) ;; *) continue ;; esac
	case $b in valohai.yaml | valohai.yml) continue ;; esac
	selected "roundtrip/$b" || continue
	roundtrip "roundtrip/$b" "$here/roundtrip" "$b"
done
for d in "$TRIG_SRC"/examples/*/; do
	[ -d "$d" ] || continue
	e=$(basename "$d")
	for b in $(definitions "$d"); do
		selected "example/$e/$b" || continue
		roundtrip "example/$e/$b" "$d" "$b"
	done
done

# ------------------------------------------------------------------ summary

if [ -n "$failed" ]; then
	echo "compile: $pass passed, FAILED:$failed" >&2
	exit 1
fi
echo "compile: $pass passed"
