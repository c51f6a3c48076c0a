# examples/slack-inference: a signed /predict command is answered at once
# with the execution's id; the inference runs on the text as one argument
# (shell and JSON metacharacters included) and its result is posted back,
# as valid JSON, to the command's response_url (a local stand-in here);
# the run-info endpoint reports the launch; a failing inference posts
# nothing back; an unsigned or stale request is refused.
. "$TRIG_SRC/tests/e2e/lib.sh"

cp "$TRIG_SRC"/examples/slack-inference/* .
build slack.trig ./slack-inference
export SLACK_SIGNING_SECRET=e2e-slack-inference-3c1d

# The stand-in for Slack's response_url: appends one JSON line per request
# ({"path", "content_type", "body"}) to posted.jsonl, then answers 200.
cat > standin.py <<'EOF'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        with open(sys.argv[1], "a") as f:
            f.write(json.dumps({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                "body": body}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
EOF
: > posted.jsonl
python3 standin.py posted.jsonl > standin.port &
PIDS="$PIDS $!"
wait_until 5 grep -qs '^[0-9]' standin.port || fail "the response_url stand-in did not start"
SLACK=http://127.0.0.1:$(cat standin.port)

start_server ./slack-inference
URL=http://127.0.0.1:$PORT/slack/predict

urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote_plus(sys.argv[1]))' "$1"; }

# sign TIMESTAMP BODY → the X-Slack-Signature value
sign() {
	printf 'v0:%s:%s' "$1" "$2" | openssl dgst -sha256 -hmac "$SLACK_SIGNING_SECRET" | sed 's/.*= /v0=/'
}

# predict TEXT RESPONSE-PATH [TIMESTAMP] → status; the answer in resp.txt,
# "STATUS SECONDS" in took.txt
predict() {
	ts=${3:-$(date +%s)}
	body="token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=acme&channel_id=C2147483705&channel_name=ml&user_id=U2147483697&user_name=ada&command=%2Fpredict&text=$(urlenc "$1")&response_url=$(urlenc "$SLACK$2")&trigger_id=13345224609.738474920.8088930838d88f008e0"
	curl -s -o resp.txt -w '%{http_code} %{time_total}' -X POST \
		-H 'Content-Type: application/x-www-form-urlencoded' \
		-H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: $(sign "$ts" "$body")" \
		--data-binary "$body" "$URL" > took.txt
	cut -d ' ' -f 1 took.txt
}

# run_info LAUNCH → the run-info document on stdout (a signed POST; empty body)
run_info() {
	ts=$(date +%s)
	curl -s -f -X POST -H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: $(sign "$ts" "")" \
		"$URL/runs/$1"
}

# launch_of EXECUTION → the launch id that the audit log gives the execution
launch_of() {
	python3 - "$1" <<'EOF'
import json, sys
for line in open(".trig-state/audit.jsonl"):
    r = json.loads(line)
    if any(a.get("id") == sys.argv[1] for a in r.get("actions", [])):
        print(r["launch"])
EOF
}

# ended LAUNCH — its run-info status is no longer pending
ended() {
	run_info "$1" > runinfo.json 2>/dev/null && ! grep -q '"status":"pending"' runinfo.json
}

posted_to() { grep -c "\"path\": \"$1\"" posted.jsonl || true; }

# 1. A text with every kind of metacharacter: answered at once, inferred on,
#    posted back.
TEXT=$(printf 'I love it, "great" $(touch PWNED); `touch PWNED2` & \\ok\nsecond line')
expect_eq "/predict (signed)" "$(predict "$TEXT" /commands/T0001/1)" 200
# Slack gives up after 3 seconds: the answer must not wait for the inference.
python3 -c 'import sys; sys.exit(float(open("took.txt").read().split()[1]) >= 3)' ||
	fail "the answer took $(cut -d ' ' -f 2 took.txt) s (Slack waits 3 s)"
python3 - resp.txt > exec1.txt <<'EOF' || { cat resp.txt >&2; fail "the immediate answer is not the ephemeral message"; }
import json, re, sys
m = json.load(open(sys.argv[1]))
assert m["response_type"] == "ephemeral", m
g = re.fullmatch(r"Predicting\.\.\. \(execution (\S+)\)", m["text"])
assert g, m
print(g.group(1))
EOF
EXEC=$(cat exec1.txt)
[ -d ".trig-state/executions/$EXEC" ] || fail "the answer names execution '$EXEC', which has no folder"

wait_until 15 grep -q '"path": "/commands/T0001/1"' posted.jsonl ||
	{ cat server.cur.log >&2; fail "nothing was posted back to response_url within 15 s"; }
expect_eq "execution status" "$(cat .trig-state/executions/$EXEC/status.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" completed
python3 - "$TEXT" "$EXEC" ".trig-state/executions/$EXEC/stdout.log" posted.jsonl <<'EOF' || fail "the inference or its post-back is wrong"
import json, sys
text, exe, stdout, posted = sys.argv[1:]
# The step got the text as exactly one argument, byte for byte.
meta = {}
for line in open(stdout):
    line = line.strip()
    if line.startswith("{"):
        meta.update(json.loads(line))
assert meta.get("text") == text, ("the step saw", meta.get("text"), "not", text)
assert meta["label"] == "positive", meta
# The post-back: JSON, one request, valid, with the label and the text escaped.
reqs = [json.loads(l) for l in open(posted)]
reqs = [r for r in reqs if r["path"] == "/commands/T0001/1"]
assert len(reqs) == 1, reqs
assert reqs[0]["content_type"] == "application/json", reqs[0]
msg = json.loads(reqs[0]["body"])        # raises if the body is not valid JSON
assert msg["response_type"] == "in_channel", msg
want = "<@U2147483697>: %s → *positive* (score %s, execution %s)" % (text, meta["score"], exe)
assert msg["text"] == want, (msg["text"], want)
EOF
[ ! -e PWNED ] && [ ! -e PWNED2 ] || fail "a command from the request's text ran"

LAUNCH=$(launch_of "$EXEC")
[ -n "$LAUNCH" ] || fail "no audit record names execution $EXEC"
wait_until 10 ended "$LAUNCH" || fail "run-info of $LAUNCH: still pending or unreadable: $(cat runinfo.json)"
python3 - "$EXEC" runinfo.json <<'EOF' || { cat runinfo.json >&2; fail "run-info of the launch"; }
import json, sys
ri = json.load(open(sys.argv[2]))
assert ri["status"] == "completed", ri
run = [a for a in ri["result"] if a["action"] == "run-execution"]
assert len(run) == 1 and run[0]["execution_id"] == sys.argv[1] and run[0]["exit_code"] == 0, ri
http = [a for a in ri["result"] if a["action"] == "http"]
assert len(http) == 1 and http[0].get("http_status") == 200, ri
EOF

# 2. An inference that fails (only blanks: the script exits 1): the answer
#    still comes at once, nothing is posted back, run-info says so.
expect_eq "/predict (blank text)" "$(predict '   ' /commands/T0001/2)" 200
EXEC2=$(python3 -c 'import json,re,sys; print(re.search(r"execution (\S+)\)", json.load(open("resp.txt"))["text"]).group(1))')
wait_until 10 at_least failed 1 || fail "the blank-text inference did not fail"
expect_grep '"exit_code":1' ".trig-state/executions/$EXEC2/status.json"
LAUNCH2=$(launch_of "$EXEC2")
[ -n "$LAUNCH2" ] || fail "no audit record names execution $EXEC2"
wait_until 10 ended "$LAUNCH2" || fail "run-info of $LAUNCH2: still pending or unreadable: $(cat runinfo.json)"
python3 - runinfo.json <<'EOF' || { cat runinfo.json >&2; fail "run-info of the failed launch"; }
import json, sys
ri = json.load(open(sys.argv[1]))
assert ri["status"] in ("complete_with_error", "error"), ri
st = {a["action"]: a["status"] for a in ri["result"]}
assert st["http"] == "skipped", ri
EOF
expect_eq "posts for the failed inference" "$(posted_to /commands/T0001/2)" 0

# 3. Refused: stale, unsigned, badly signed; a run-info request unsigned.
expect_eq "six minutes old" "$(predict 'good' /commands/T0001/3 $(($(date +%s) - 360)))" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data 'command=%2Fpredict&text=good' "$URL")
expect_eq "unsigned" "$code" 401
ts=$(date +%s)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Slack-Request-Timestamp: $ts" \
	-H "X-Slack-Signature: $(sign "$ts" 'command=%2Fpredict&text=bad')" \
	--data 'command=%2Fpredict&text=good' "$URL")
expect_eq "signed for another body" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/runs/$LAUNCH")
expect_eq "run-info unsigned" "$code" 401
stop_server

expect_eq "executions run" "$(ls .trig-state/executions | wc -l)" 2
expect_eq "posts for refused requests" "$(posted_to /commands/T0001/3)" 0
expect_eq "posts in all" "$(wc -l < posted.jsonl)" 1
