# A relative workdir is relative to the file that names it, for lint and
# for the program alike: here a second definition file in sub/ names
# "data", which exists only as sub/data.
. "$TRIG_SRC/tests/e2e/lib.sh"

mkdir -p sub/data
cat > p.trig <<'DEFS'
project two

step where {
    command "pwd"
}

trigger t {
    schedule every 1h
    run execution where
}
DEFS
cat > sub/backend.trig <<'DEFS'
backend local { workdir "data" }
DEFS
"$TRIGC" lint p.trig sub/backend.trig || fail "lint"
"$TRIGC" build p.trig sub/backend.trig -o ./two 2>build.err || fail "build: $(cat build.err)"
./two fire t > fire.txt 2>/dev/null || fail "fire"
exec_id=$(sed -n 's/^execution //p' fire.txt)
expect_eq "the command's folder" "$(cat ".trig-state/executions/$exec_id/stdout.log")" \
	"$(cd sub/data && pwd -P)"
