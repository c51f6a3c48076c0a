# The generated program's command line: help, list, next, fire, version,
# enable/disable, logs filters, exit codes.
. "$TRIG_SRC/tests/e2e/lib.sh"

cat > p.trig <<'DEFS'
project cli

step hello {
    command "echo hello {parameter:who} from {parameter:where}"
    parameter who: string = "world"
    parameter where: string = "here"
}

step broken {
    command "echo about to fail; exit 3"
}

trigger nightly {
    description "Every night"
    schedule cron "0 2 * * *"
    run execution hello
}

trigger helsinki {
    schedule cron "30 3 * * *" timezone "Europe/Helsinki"
    run execution hello
}

trigger vixie {
    schedule cron "0 12 13 * fri"
    run execution hello
}

trigger quarter {
    schedule every 15m
    run execution hello {
        parameter who = payload.user.name
        parameter where = payload.repository.full_name
    }
}

trigger fails {
    schedule daily "06:00"
    run execution broken
}

pipeline twice {
    node first step hello
}

pipeline breaks {
    node first step broken
}

trigger pull {
    schedule daily "07:00"
    run pipeline twice
    run execution hello
}

trigger pull-broken {
    schedule daily "08:00"
    run pipeline breaks
}
DEFS
build p.trig ./cli

# help on every command, usage errors
./cli --help | grep -q '^commands:' || fail "help"
for c in serve list next fire logs enable disable executions; do
	./cli "$c" --help > h.txt || fail "$c --help exit status"
	expect_grep "usage: cli $c" h.txt
done
rc=0; ./cli frobnicate 2>/dev/null || rc=$?
expect_eq "unknown command" "$rc" 2
rc=0; ./cli next nosuch 2>err.txt || rc=$?
expect_eq "unknown trigger" "$rc" 2
expect_grep "no trigger named 'nosuch'" err.txt

# version names the definitions' hash
./cli version > v.txt
expect_grep "project 'cli', definitions [0-9a-f]\{16\}, built by trigc" v.txt

# next: exact RFC 3339 UTC times
./cli next nightly -n 3 --after 2026-01-01T02:00:00Z > n.txt
printf '2026-01-02T02:00:00Z\n2026-01-03T02:00:00Z\n2026-01-04T02:00:00Z\n' | cmp - n.txt ||
	fail "next nightly: $(cat n.txt)"
# Helsinki: 03:30 does not exist on 2026-03-29 (03:00 -> 04:00 EEST): the
# gap's end, 04:00 EEST = 01:00Z, then 03:30 EEST = 00:30Z.
./cli next helsinki -n 3 --after 2026-03-28T00:00:00Z > n.txt
printf '2026-03-28T01:30:00Z\n2026-03-29T01:00:00Z\n2026-03-30T00:30:00Z\n' | cmp - n.txt ||
	fail "next helsinki (spring): $(cat n.txt)"
# Autumn: 03:30 happens twice on 2026-10-25 (04:00 EEST -> 03:00 EET): once.
./cli next helsinki -n 3 --after 2026-10-24T00:00:00Z > n.txt
printf '2026-10-24T00:30:00Z\n2026-10-25T00:30:00Z\n2026-10-26T01:30:00Z\n' | cmp - n.txt ||
	fail "next helsinki (autumn): $(cat n.txt)"
# Vixie cron: day 13 OR Friday.
./cli next vixie -n 4 --after 2026-02-01T00:00:00Z > n.txt
printf '2026-02-06T12:00:00Z\n2026-02-13T12:00:00Z\n2026-02-20T12:00:00Z\n2026-02-27T12:00:00Z\n' |
	cmp - n.txt || fail "next vixie: $(cat n.txt)"
./cli next quarter -n 2 --after 2026-05-05T10:00:00Z > n.txt
printf '2026-05-05T10:15:00Z\n2026-05-05T10:30:00Z\n' | cmp - n.txt || fail "next every: $(cat n.txt)"
rc=0; ./cli next nightly --after yesterday 2>/dev/null || rc=$?
expect_eq "bad --after" "$rc" 2

# list
./cli list > l.txt
expect_grep '^nightly  *schedule  *yes  *cron 0 2 \* \* \* (UTC)  *20' l.txt
expect_grep '^helsinki .*(Europe/Helsinki)' l.txt
./cli list --json > l.json
expect_grep '"name":"quarter","kind":"schedule","enabled":true,"when":"every 15m"' l.json

# fire with a payload: the templates read two of its paths (a pretty-printed
# document, as files usually are); exit 0 when it completed
cat > payload.json <<'JSON'
{
    "repository": {"full_name": "octo/mnist", "private": false},
    "user": {"name": "Ada Lovelace; rm -rf /"}
}
JSON
./cli fire quarter --payload payload.json > fire.txt 2>fire.err || fail "fire quarter: $(cat fire.err)"
expect_grep '^launch l-' fire.txt
exec_id=$(sed -n 's/^execution //p' fire.txt)
expect_grep '^hello Ada Lovelace; rm -rf / from octo/mnist$' ".trig-state/executions/$exec_id/stdout.log"
# an invalid payload is refused before anything is journalled or run
printf '{"user": ' > bad.json
rc=0; ./cli fire quarter --payload bad.json 2>fire.err || rc=$?
expect_eq "fire with bad JSON" "$rc" 1
expect_grep 'not valid JSON' fire.err
# a failing step: fire exits 1
rc=0; ./cli fire fails > /dev/null 2>fire.err || rc=$?
expect_eq "fire of a failing step" "$rc" 1
./cli executions > e.txt
expect_grep 'fails  *broken  *failed  *3' e.txt

# a pipeline: its node runs as execution ID.first, listed by `pipelines`
rc=0; ./cli fire pull > fire.txt 2>fire.err || rc=$?
expect_eq "fire of a pipeline" "$rc" 0
expect_grep '^pipeline p-[0-9A-Z]*$' fire.txt
pid=$(sed -n 's/^pipeline //p' fire.txt)
./cli pipelines > pl.txt
expect_grep "^$pid  *twice  *completed .* 1/1" pl.txt
./cli pipelines --json > pl.json
expect_grep "\"id\":\"$pid\",\"pipeline\":\"twice\",\"status\":\"completed\"" pl.json
./cli executions > e.txt
expect_grep "^$pid\.first " e.txt
# in time order: the node after the failing step fired before it, and
# its columns aligned with the header
[ "$(grep -n ' broken ' e.txt | cut -d: -f1)" -lt "$(grep -n "^$pid\.first " e.txt | cut -d: -f1)" ] ||
	fail "executions not in time order: $(cat e.txt)"
hdr=$(head -n 1 e.txt | awk '{ print index($0, "TRIGGER") }')
row=$(grep "^$pid\.first " e.txt | awk '{ print index($0, "pull") }')
expect_eq "the TRIGGER column of a pipeline node" "$row" "$hdr"
# a pipeline whose node fails: fire says so and exits 1
rc=0; ./cli fire pull-broken > fire.txt 2>fire.err || rc=$?
expect_eq "fire of a failing pipeline" "$rc" 1
./cli pipelines > pl.txt
expect_grep ' breaks  *failed ' pl.txt
./cli pipelines --help | grep -q '^usage: cli pipelines' || fail "pipelines --help"

# enable / disable persist in the state folder
./cli disable nightly 2>/dev/null
./cli list | grep -q '^nightly  *schedule  *no ' || fail "disable not shown by list"
rc=0; ./cli fire nightly 2>fire.err || rc=$?
expect_eq "fire of a disabled trigger" "$rc" 1
expect_grep 'is disabled' fire.err
./cli fire nightly --force > /dev/null 2>&1 || fail "fire --force"
./cli enable nightly 2>/dev/null
./cli list | grep -q '^nightly  *schedule  *yes ' || fail "enable not shown by list"

# logs: filters by trigger and outcome, JSON lines as stored
./cli logs --outcome disabled > d.txt
expect_grep 'nightly  *fire  *disabled' d.txt
[ "$(./cli logs quarter --outcome error | wc -l)" -eq 1 ] || fail "logs quarter --outcome error"
./cli logs --json --since 1h > all.json
[ "$(wc -l < all.json)" -eq 7 ] || fail "expected 7 audit records, got $(wc -l < all.json)"
./cli logs --since 2999-01-01T00:00:00Z > none.txt
[ ! -s none.txt ] || fail "--since in the future printed records"

# the valohai backend: its token is read at start (a missing one stops
# fire before anything runs); the execution is created through the API
# (a local mock of it), never run locally
python3 "$TRIG_SRC/tests/e2e/valohai_mock.py" --port 0 --token vh-e2e-token --record vh.jsonl > vh.port &
PIDS="$PIDS $!"
i=0
while [ ! -s vh.port ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "the mock did not start"; sleep 0.1; done
VH_PORT=$(head -n 1 vh.port)
cat > remote.yaml <<DEFS
project: remote
backend:
  kind: valohai
  url: http://127.0.0.1:$VH_PORT
  token: {env: VALOHAI_TOKEN}
  project-id: 0170a7c5-1a8f-4b7e-9d44-1c2c3e4f5a6b
steps:
  - name: hello
    command: touch ran-locally
triggers:
  - name: nightly
    schedule: {cron: "0 2 * * *"}
    actions:
      - run-execution: {step: hello}
DEFS
build remote.yaml ./remote
rc=0; ./remote fire nightly --state remote-state > /dev/null 2>fire.err || rc=$?
expect_eq "fire on the valohai backend without its token" "$rc" 3
expect_grep 'VALOHAI_TOKEN' fire.err
rc=0; VALOHAI_TOKEN=vh-e2e-token ./remote fire nightly --state remote-state > fire.txt 2>fire.err || rc=$?
expect_eq "fire on the valohai backend" "$rc" 0
expect_grep '^remote: 1 created on Valohai$' fire.err
expect_grep '"path": "/api/v0/executions/"' vh.jsonl
expect_grep '"step": "hello"' vh.jsonl
grep -q 'vh-e2e-token' vh.jsonl remote-state/audit.jsonl fire.err && fail "the token was recorded"
[ ! -e ran-locally ] || fail "the valohai backend ran the step locally"
