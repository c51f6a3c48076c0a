# `matches` filters compile to re2c DFAs at build time; their verdicts
# must agree with grep -E in the C locale (POSIX extended regular
# expressions, searched anywhere in the value, bytewise) on every pattern
# and input below.
. "$TRIG_SRC/tests/e2e/lib.sh"

# pattern<TAB>inputs separated by '|' (an empty input included where it matters)
cat > cases.txt <<'CASES'
abc	abc|xabcx|ab|ABC|
^abc	abc|abcd|xabc|
abc$	abc|xabc|abcx|
^abc$	abc|abcc|aabc|
^release: v[0-9]+(\.[0-9]+)*$	release: v1|release: v1.2.3|release: v1.|release: v|xrelease: v1
^[a-z]+@example\.com$	ada@example.com|ada@exampleXcom|Ada@example.com|@example.com
^images(-.*)?$	images|images-2024|imagesx|images-
colou?r	color|colour|colouur|col
a{2,3}	a|aa|aaa|aaaa|baab
^a{2,3}$	a|aa|aaa|aaaa
^(ab|cd)+$	ab|abcd|cdab|abc|
[[:digit:]]+	x1|abc|2
^[^0-9]+$	abc|ab1|
\.	a.b|ab
^.$	a|ab|é
^..$	é|ab|a
(foo|bar)baz	foobaz|barbaz|bazfoo|fobaz
^(a|b)*c	c|abc|abac|d|bbbbc
[-a]	-|a|b
[]a]	]|a|b
^x.*y$	xy|x123y|x123|yx
CASES

{
	echo 'project rx'
	echo 'step noop { command "true" }'
	n=0
	while IFS='	' read -r pat inputs; do
		printf 'trigger r%d {\n    webhook POST "/r%d"\n    when header.X-V matches "%s"\n    run execution noop\n}\n' \
			"$n" "$n" "$(printf '%s' "$pat" | sed 's/\\/\\\\/g; s/"/\\"/g')"
		n=$((n + 1))
	done < cases.txt
} > rx.trig
"$TRIGC" build rx.trig -o ./rx --emit-c gen 2>build.err || fail "build: $(cat build.err)"
grep -q 'trig_match_0' gen/rx.c || fail "no DFA in the generated C"
printf '' > empty

n=0 checked=0
while IFS='	' read -r pat inputs; do
	rest=$inputs
	while :; do
		case $rest in
		*'|'*) in=${rest%%|*}; rest=${rest#*|} ;;
		*) in=$rest; rest= ;;
		esac
		want=1
		printf '%s' "$in" | LC_ALL=C grep -Eq -- "$pat" && want=0
		got=0
		./rx check "r$n" --payload empty -H "X-V: $in" > out.txt 2>&1 || got=$?
		[ "$got" = "$want" ] || fail "/$pat/ on '$in': check says $got, grep -E says $want
$(cat out.txt)"
		checked=$((checked + 1))
		[ -n "$rest" ] || break
	done
	n=$((n + 1))
done < cases.txt
[ "$checked" -ge 70 ] || fail "only $checked cases ran"

# A regular expression re2c cannot take is refused by lint, at its column.
printf 'project bad\nstep s { command "true" }\ntrigger t {\n    webhook POST\n    when header.X matches "a(b"\n    run execution s\n}\n' > bad.trig
rc=0; "$TRIGC" lint bad.trig 2>lint.err || rc=$?
expect_eq "lint of an unclosed group" "$rc" 1
expect_grep "bad.trig:5:29: error: '(' is not closed \[regex\]" lint.err
