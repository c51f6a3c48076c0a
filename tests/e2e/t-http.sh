# The HTTP server: /healthz, 404 elsewhere, a webhook that needs its
# secret to start, graceful stop on SIGTERM.
. "$TRIG_SRC/tests/e2e/lib.sh"

cat > p.trig <<'DEFS'
project web

step noop {
    command "true"
}

trigger hook {
    webhook POST "/hooks/x"
    token header "X-Token" secret env HOOK_TOKEN
    run execution noop
}
DEFS
build p.trig ./web

# A secret that is not there stops the start, naming it (not a value).
rc=0; env -u HOOK_TOKEN ./web serve --listen 127.0.0.1:0 2>start.err || rc=$?
expect_eq "serve without its secret" "$rc" 3
expect_grep "environment variable HOOK_TOKEN is not set" start.err

export HOOK_TOKEN=tok-e2e
start_server ./web

code=$(curl -s -o body.txt -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
expect_eq "GET /healthz" "$code" 200
expect_eq "/healthz body" "$(cat body.txt)" "ok"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$PORT/healthz")
expect_eq "HEAD /healthz" "$code" 200
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/healthz")
expect_eq "POST /healthz" "$code" 405
code=$(curl -s -o body.txt -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
expect_eq "GET /nope" "$code" 404
expect_grep '"error":"not found"' body.txt
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"a":1}' "http://127.0.0.1:$PORT/hooks/x")
expect_eq "POST /hooks/x without its token" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'X-Token: tok-e2e' -d '{"a":1}' \
	"http://127.0.0.1:$PORT/hooks/x")
expect_eq "POST /hooks/x with its token" "$code" 202
stop_server
expect_grep 'SIGTERM: shutting down' server.log
expect_grep 'stopped' server.log
