# One path read under several roots (event.x, payload.x, claim-free) is one
# slot of the path table: every filter and template reads the field it
# names, whatever other triggers read before it.
. "$TRIG_SRC/tests/e2e/lib.sh"

cat > p.trig <<'DEFS'
project paths

step show {
    command "echo x={parameter:x} role={parameter:role}"
    parameter x: string = none
    parameter role: string = none
}

trigger on-event {
    on dataset_version_created
    when event.x exists
    run execution show { parameter x = event.x }
}

trigger admin {
    webhook POST "/admin"
    token header X-Token secret env T
    when payload.x == "1"
    when payload.role == "admin"
    run execution show {
        parameter x = payload.x
        parameter role = payload.role
    }
}
DEFS
build p.trig ./paths
export T=paths-token
printf '{"x":"0","role":"1","y":"admin"}' > wrong.json
printf '{"x":"1","role":"admin"}' > right.json
rc=0; ./paths check admin --payload wrong.json -H "X-Token: $T" > check.txt || rc=$?
expect_eq "a payload that must not match" "$rc" 1
expect_grep 'payload.x does not satisfy equals (it is "0")' check.txt
./paths check admin --payload right.json -H "X-Token: $T" > check.txt || fail "right.json: $(cat check.txt)"
expect_grep '^      parameter role = "admin"$' check.txt
./paths fire on-event --payload right.json > fire.txt 2>/dev/null || fail "fire on-event"
exec_id=$(sed -n 's/^execution //p' fire.txt)
expect_eq "event.x" "$(cat ".trig-state/executions/$exec_id/stdout.log")" "x=1 role=none"
