# The http action: rendered at acceptance with context-aware escaping
# (percent-encoding in the URL, JSON escaping in a JSON body, no line
# break in a header), sent with libcurl to a local stand-in that records
# what it gets; retried on 5xx; an unexpected status stops the chain.
. "$TRIG_SRC/tests/e2e/lib.sh"

# The stand-in: answers /ok 200, /created 201, /flaky 500 then 200, and
# appends "METHOD PATH?QUERY | header | body" for each request to got.txt.
cat > standin.py <<'PY'
import http.server, sys
hits = {}
class H(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode()
        path = self.path.split("?")[0]
        hits[path] = hits.get(path, 0) + 1
        with open("got.txt", "a") as f:
            f.write(f"{self.command} {self.path} | {self.headers.get('X-Who', '')} | {body}\n")
        code = {"/ok": 200, "/created": 201}.get(path, 200)
        if path == "/flaky" and hits[path] == 1:
            code = 500
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    do_GET = do_POST = do_PUT = handle_one
    def log_message(self, *a):
        pass
http.server.HTTPServer.allow_reuse_address = True
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
/usr/bin/python3 standin.py > standin.port 2>standin.err &
PIDS="$PIDS $!"
wait_until 10 test -s standin.port || fail "the stand-in did not start"
SP=$(cat standin.port)

cat > p.trig <<DEFS
project calls

step train {
    command "echo trained {parameter:who}"
    parameter who: string = nobody
}

trigger post {
    webhook POST "/go"
    token header X-Token secret env TOKEN
    http POST "http://127.0.0.1:$SP/ok?user={{ payload.who }}&tag=x" {
        header Content-Type = "application/json"
        header X-Who = payload.who
        body "{\\"text\\": \\"{{ payload.who }} started {{ launch.id }}\\"}"
        expect 200
    }
    run execution train { parameter who = payload.who }
    respond 202 "ok"
}

trigger strict {
    webhook POST "/strict"
    token header X-Token secret env TOKEN
    http PUT "http://127.0.0.1:$SP/ok" { expect 201 }
    run execution train
}

trigger flaky {
    webhook POST "/flaky"
    token header X-Token secret env TOKEN
    http GET "http://127.0.0.1:$SP/flaky"
    run execution train { parameter who = flaky }
}

trigger back {
    webhook POST "/back"
    token header X-Token secret env TOKEN
    http POST form.response_url { body "done for {{ form.user }}" }
}
DEFS
build p.trig ./calls
export TOKEN=http-action-token
start_server ./calls
post() { curl -s -o /dev/null -w '%{http_code}' -H "X-Token: $TOKEN" "$@"; }

# Quotes, a newline and an ampersand from the payload, in every context.
printf '{"who": "Ada \\"the\\" L&L\\nx"}' > who.json
expect_eq "post" "$(post --data-binary @who.json "http://127.0.0.1:$PORT/go")" 202
wait_until 10 at_least completed 1 || fail "the execution after the http action did not run"
line=$(grep '^POST /ok' got.txt)
expect_eq "what the stand-in got" "$line" \
	"POST /ok?user=Ada%20%22the%22%20L%26L%0Ax&tag=x | Ada \"the\" L&L x | {\"text\": \"Ada \\\"the\\\" L&L\\nx started $(sed -n 's/.*"launch":"\(l-[0-9A-Z]*\)".*/\1/p' .trig-state/audit.jsonl | head -n 1)\"}"

# 200 where 201 was expected: the chain stops, the execution is skipped.
expect_eq "strict" "$(post -d '{}' "http://127.0.0.1:$PORT/strict")" 202
wait_until 10 grep -q 'PUT /ok' got.txt || fail "no PUT"
sleep 0.5
expect_eq "executions after strict" "$(count_status completed)" 1

# A 500 is tried again, and the second answer is a 200.
expect_eq "flaky" "$(post -d '{}' "http://127.0.0.1:$PORT/flaky")" 202
wait_until 15 at_least completed 2 || fail "the execution after a retried call did not run"
expect_eq "calls to /flaky" "$(grep -c '^GET /flaky' got.txt)" 2

# The whole URL from the request (Slack's response_url) is used as it is.
expect_eq "back" "$(post --data-urlencode "response_url=http://127.0.0.1:$SP/ok?hook=1" \
	--data-urlencode 'user=ada' "http://127.0.0.1:$PORT/back")" 202
wait_until 10 grep -q '^POST /ok?hook=1 |  | done for ada$' got.txt || fail "response_url: $(cat got.txt)"
stop_server
expect_grep "http: PUT http://127.0.0.1:$SP/ok answered 200, not 201" server.log
