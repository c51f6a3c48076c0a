# examples/valohai-backend: the project on the Valohai backend, against the
# mock API (tests/e2e/valohai_mock.py).  Firing the schedule creates the
# pipeline with its nodes and edges; a webhook uploads its payload and
# creates the execution with the payload's parameters, then posts the
# execution's metadata to a stand-in; 503s and dropped connections are
# retried with one Idempotency-Key and create one execution; a 400 fails
# the launch with Valohai's error, unretried; nothing runs locally; no
# token is ever written down; without VALOHAI_TOKEN the program refuses to
# start.
. "$TRIG_SRC/tests/e2e/lib.sh"

cp "$TRIG_SRC"/examples/valohai-backend/* .
PROJECT=0170a7c5-1a8f-4b7e-9d44-1c2c3e4f5a6b
export VALOHAI_TOKEN=vh-e2e-api-token-6b2f91c0
export RETRAIN_TOKEN=rt-e2e-hook-token-0d7c44aa

# The mock API: the first creating call is answered 503.
VALOHAI_MOCK_TOKEN=$VALOHAI_TOKEN python3 "$TRIG_SRC/tests/e2e/valohai_mock.py" --port 0 \
	--project "$PROJECT" --record rec.jsonl --tick 0.2 --fail-first 1 > mock.port 2> mock.err &
PIDS="$PIDS $!"
wait_until 5 grep -qs '^[0-9]' mock.port || { cat mock.err >&2; fail "the mock API did not start"; }
MOCK=http://127.0.0.1:$(head -n 1 mock.port)

# The stand-in for the results service: one JSON line per request.
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
wait_until 5 grep -qs '^[0-9]' standin.port || fail "the results stand-in did not start"
REPORTS=http://127.0.0.1:$(cat standin.port)

# The URLs are compiled in: point them at the mock and the stand-in.  The
# mock's metadata comes from the parameter "mock-metadata": give the train
# step one (on Valohai, train.py prints it).
sed -i "s|\"https://app.valohai.com\"|\"$MOCK\"|; s|\"https://ml-reports.example.com/|\"$REPORTS/|" project.trig
grep -q "$MOCK" project.trig && grep -q "$REPORTS" project.trig || fail "the URLs were not substituted"
python3 - <<'EOF' || fail "cannot add mock-metadata to valohai.yaml"
s = open("valohai.yaml").read()
anchor = "      - name: learning_rate\n        type: float\n        default: 0.01\n"
assert s.count(anchor) == 1
s = s.replace(anchor, anchor + "      - name: mock-metadata\n        type: string\n"
              "        default: '{\"accuracy\": 0.931, \"loss\": 0.207}'\n")
open("valohai.yaml", "w").write(s)
EOF
build project.trig ./valohai-backend

# api_json PATH → the mock's answer (with the API token, as a client would)
api_json() { curl -s -f -H "Authorization: Token $VALOHAI_TOKEN" "$MOCK$1"; }

# 0. Without VALOHAI_TOKEN the program refuses to start and names it.
rc=0
env -u VALOHAI_TOKEN timeout 10 ./valohai-backend serve --listen 127.0.0.1:0 --state st0 \
	> notoken.out 2> notoken.err || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "serve without VALOHAI_TOKEN: exit status $rc, want a refusal"
expect_grep VALOHAI_TOKEN notoken.err
[ ! -s rec.jsonl ] || fail "serve without VALOHAI_TOKEN called the API"

# 1. fire the schedule: one pipeline, created after one 503, with the
#    pipeline's nodes and edges and one Idempotency-Key on both attempts.
./valohai-backend fire nightly > fire.out 2> fire.err || { cat fire.err >&2; fail "fire nightly"; }
FIRE=$(sed -n 's/^launch \(l-[0-9A-Z]*\)$/\1/p' fire.out)
[ -n "$FIRE" ] || { cat fire.out fire.err >&2; fail "fire printed no launch id"; }
python3 - "$FIRE" "$PROJECT" <<'EOF' || fail "the pipeline POSTed for 'fire nightly' is wrong"
import json, sys
launch, project = sys.argv[1:]
recs = [json.loads(l) for l in open("rec.jsonl")]
posts = [r for r in recs if r["method"] == "POST" and r["path"] == "/api/v0/pipelines/"]
assert [r["idempotency_key"] for r in posts] == [launch + "-0"] * 2, posts
assert [r["status"] for r in posts] == [503, 201], [r["status"] for r in posts]
assert posts[0].get("injected") and not posts[1].get("replayed"), posts
assert all(r["auth_ok"] for r in posts)
b = posts[1]["body"]
assert b == posts[0]["body"], "the retry sent another body"
assert b["project"] == project and b["title"].startswith("nightly 20"), b
nodes = {n["name"]: n for n in b["nodes"]}
assert [n["name"] for n in b["nodes"]] == ["preprocess", "train", "evaluate"], b["nodes"]
assert all(n["type"] == "execution" and n["template"]["step"] == n["name"] for n in b["nodes"])
assert nodes["train"]["template"]["parameters"]["epochs"] == 20, nodes["train"]
assert nodes["train"]["template"]["parameters"]["learning_rate"] == 0.01, nodes["train"]
assert nodes["preprocess"]["template"]["inputs"] == {
    "images": ["https://data.example.com/images/latest.zip"]}, nodes["preprocess"]
def edge(s, sk, t, tk):
    return {"source_node": s, "source_key": sk, "source_type": "output",
            "target_node": t, "target_key": tk, "target_type": "input"}
assert b["edges"] == [edge("preprocess", "*.npz", "train", "dataset"),
                      edge("preprocess", "*.npz", "evaluate", "dataset"),
                      edge("train", "model*", "evaluate", "model")], b["edges"]
EOF
api_json "/api/v0/pipelines/?project=$PROJECT" > pipelines.json || fail "cannot list the mock's pipelines"
expect_eq "pipelines created by fire" \
	"$(python3 -c 'import json; print(json.load(open("pipelines.json"))["count"])')" 1

# 2. A webhook launch: the payload is uploaded and is the input "request";
#    the parameters come from it; the metadata is posted to the stand-in.
start_server ./valohai-backend
URL=http://127.0.0.1:$PORT/hooks/retrain

# retrain VERSION → status; the answer in resp.txt, the payload in payload-VERSION.json
retrain() {
	printf '{"dataset": {"name": "images", "version": "%s", "url": "https://data.example.com/images/%s.zip"}, "epochs": 8, "learning_rate": 0.001, "requested_by": "ada \\"the\\" tester $(id)"}' \
		"$1" "$1" > "payload-$1.json"
	curl -s -o resp.txt -w '%{http_code}' -H "Authorization: Bearer $RETRAIN_TOKEN" \
		-H 'Content-Type: application/json' --data-binary "@payload-$1.json" "$URL"
}
launch_id() { python3 -c 'import json; print(json.load(open("resp.txt"))["launch"])'; }

# run_info LAUNCH → its run-info, once it is no longer pending, in runinfo.json
ended() {
	curl -s -f -H "Authorization: Bearer $RETRAIN_TOKEN" "$URL/runs/$1" > runinfo.json 2>/dev/null &&
		! grep -q '"status":"pending"' runinfo.json
}
# reported VERSION — the stand-in has a report for that dataset version
reported() {
	python3 - "$1" <<'EOF'
import json, sys
sys.exit(0 if any(json.loads(json.loads(l)["body"]).get("version") == sys.argv[1]
                  for l in open("posted.jsonl")) else 1)
EOF
}

expect_eq "retrain v12 (token)" "$(retrain v12)" 202
L1=$(launch_id)
wait_until 15 ended "$L1" || { cat server.cur.log >&2; fail "launch $L1 did not end within 15 s"; }
wait_until 5 reported v12 || { cat runinfo.json server.cur.log >&2; fail "no report was posted for v12"; }
python3 - "$L1" "$PROJECT" payload-v12.json runinfo.json v12 <<'EOF' || fail "the webhook launch on Valohai is wrong"
import json, sys
launch, project, payload_file, runinfo, version = sys.argv[1:]
payload = open(payload_file, "rb").read()
recs = [json.loads(l) for l in open("rec.jsonl")]
mine = lambda r: (r["idempotency_key"] or "").startswith(launch + "-")
# The upload: make_upload, the bytes to storage (without the token), finalize.
mk = [r for r in recs if r["path"] == "/api/v0/data/make_upload/" and mine(r)]
assert len(mk) == 1 and mk[0]["status"] == 200, mk
assert mk[0]["body"]["project"] == project and mk[0]["body"]["filename"] == "payload.json", mk
assert mk[0]["body"]["content_length"] == len(payload), mk
ups = [r for r in recs if r["path"].startswith("/_mock/upload/")]
up = [r for r in ups if r["raw"].encode() == payload]
assert len(up) == 1 and up[0]["status"] == 200 and not up[0]["auth_ok"], ups
datum = up[0]["path"].rsplit("/", 1)[-1]
fin = [r for r in recs if r["path"] == "/api/v0/data/%s/finalize/" % datum]
assert len(fin) == 1 and fin[0]["status"] == 200, fin
# The execution: one attempt, the payload's values, the payload as "request".
ex = [r for r in recs if r["method"] == "POST" and r["path"] == "/api/v0/executions/" and mine(r)]
assert len(ex) == 1 and ex[0]["status"] == 201 and ex[0]["idempotency_key"] == launch + "-0", ex
b = ex[0]["body"]
assert b["project"] == project and b["step"] == "train", b
assert b["title"] == "retrain on images " + version, b
assert b["parameters"]["epochs"] == 8 and b["parameters"]["learning_rate"] == 0.001, b
assert b["inputs"] == {"dataset": ["https://data.example.com/images/%s.zip" % version],
                       "request": ["datum://" + datum]}, b["inputs"]
assert b["environment_variables"] == {"PYTHONUNBUFFERED": "1"}, b
# run-info: completed, with Valohai's execution id; the report reads its metadata.
ri = json.load(open(runinfo))
assert ri["status"] == "completed", ri
run = [a for a in ri["result"] if a["action"] == "run-execution"]
http = [a for a in ri["result"] if a["action"] == "http"]
assert len(run) == 1 and len(http) == 1 and http[0]["http_status"] == 200, ri
eid = run[0]["execution_id"]
assert any(r["method"] == "GET" and r["path"] == "/api/v0/executions/%s/" % eid for r in recs)
reports = [json.loads(json.loads(l)["body"]) for l in open("posted.jsonl")]
reports = [m for m in reports if m["version"] == version]
assert len(reports) == 1, reports
m = reports[0]
want = {"dataset": "images", "version": version,
        "requested_by": json.loads(payload)["requested_by"], "execution": eid,
        "accuracy": "0.931", "loss": "0.207"}
assert {k: m[k] for k in want} == want, (m, want)
assert m["url"].endswith("/execution/%s/" % eid), m
EOF
DATUM=$(python3 -c 'import json; [print(l["path"].rsplit("/",1)[-1]) for l in map(json.loads, open("rec.jsonl")) if l["path"].startswith("/_mock/upload/")]' | head -n 1)
api_json "/api/v0/data/$DATUM/" > datum.json || fail "the mock has no datum $DATUM"
python3 -c 'import json,sys; d=json.load(open("datum.json")); assert d["finalized"] and d["content"].encode()==open("payload-v12.json","rb").read(), d' ||
	fail "the datum's content is not the payload"

# 3. Failures on demand: a connection closed without an answer, then a
#    503.  The launch is retried (after a backoff each time) with the same
#    Idempotency-Key and creates one execution.  (The dropped connection
#    comes first: on a kept-alive connection libcurl itself would re-send
#    at once, and the backend's own retry would not be what is tested.)
curl -s -f -X POST --data '{"status": 0, "count": 1, "path": "/api/v0/executions/"}' "$MOCK/_mock/fail" > /dev/null &&
	curl -s -f -X POST --data '{"status": 503, "count": 1, "path": "/api/v0/executions/"}' "$MOCK/_mock/fail" > /dev/null ||
	fail "cannot arm the mock's failures"
expect_eq "retrain v13 (token)" "$(retrain v13)" 202
L2=$(launch_id)
wait_until 20 ended "$L2" || { cat server.cur.log >&2; fail "launch $L2 did not end within 20 s"; }
wait_until 5 reported v13 || { cat runinfo.json server.cur.log >&2; fail "no report was posted for v13"; }
python3 - "$L2" runinfo.json <<'EOF' || fail "the retried launch"
import json, sys
launch, runinfo = sys.argv[1:]
recs = [json.loads(l) for l in open("rec.jsonl")]
ex = [r for r in recs if r["method"] == "POST" and r["path"] == "/api/v0/executions/"
      and (r["idempotency_key"] or "").startswith(launch + "-")]
assert [r["idempotency_key"] for r in ex] == [launch + "-0"] * 3, ex
assert [r["status"] for r in ex] == [0, 503, 201], [r["status"] for r in ex]
assert all(r.get("injected") for r in ex[:2]) and not ex[2].get("injected"), ex
# backoff: 0.5 s, then 1 s (each plus up to 25 % jitter)
gaps = [b["time"] - a["time"] for a, b in zip(ex, ex[1:])]
assert 0.4 <= gaps[0] <= 2.5 and 0.9 <= gaps[1] <= 3.5, gaps
assert ex[0]["body"] == ex[1]["body"] == ex[2]["body"], "the retries sent other bodies"
assert sum(1 for r in ex if r["status"] == 201) == 1
ri = json.load(open(runinfo))
assert ri["status"] == "completed", ri
EOF
expect_grep "answered 503.*attempt 2 of 5" server.cur.log

# 4. A 400: the launch's action fails with Valohai's error, at once (a 4xx
#    is not retried), the report is skipped, nothing is posted.
curl -s -f -X POST --data '{"status": 400, "count": 1, "path": "/api/v0/executions/"}' "$MOCK/_mock/fail" > /dev/null ||
	fail "cannot arm the mock's 400"
expect_eq "retrain v14 (token)" "$(retrain v14)" 202
L3=$(launch_id)
wait_until 10 ended "$L3" || { cat server.cur.log >&2; fail "launch $L3 did not end within 10 s"; }
python3 - "$L3" runinfo.json <<'EOF' || { cat runinfo.json >&2; fail "the launch that Valohai refused"; }
import json, sys
launch, runinfo = sys.argv[1:]
recs = [json.loads(l) for l in open("rec.jsonl")]
ex = [r for r in recs if r["method"] == "POST" and r["path"] == "/api/v0/executions/"
      and (r["idempotency_key"] or "").startswith(launch + "-")]
assert [r["status"] for r in ex] == [400], [r["status"] for r in ex]
ri = json.load(open(runinfo))
assert ri["status"] == "error", ri
st = {a["action"]: a for a in ri["result"]}
assert "answered 400" in st["run-execution"]["error"], st
assert "failing on demand" in st["run-execution"]["error"], st
assert "execution_id" not in st["run-execution"], st
assert st["http"]["status"] == "skipped", st
EOF
expect_grep "$L3.*answered 400.*failing on demand" server.cur.log
reported v14 && fail "a report was posted for the launch Valohai refused"

# Unauthenticated: refused, and the API is not called.
n=$(wc -l < rec.jsonl)
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary @payload-v12.json "$URL")
expect_eq "retrain without the token" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/runs/$L1")
expect_eq "run-info without the token" "$code" 401
stop_server
expect_eq "API calls after refused requests" "$(wc -l < rec.jsonl)" "$n"

# Nothing ran here; every API call carried the token; no token was written.
[ -z "$(ls -A .trig-state/executions 2>/dev/null)" ] || fail "an execution ran locally"
python3 -c '
import json
for r in map(json.loads, open("rec.jsonl")):
    if r["path"].startswith("/api/"):
        assert r["auth_ok"], r
    else:
        assert not r["auth_ok"], r
' || fail "a call without the token, or the token sent to storage"
expect_eq "reports posted" "$(wc -l < posted.jsonl)" 2
for secret in "$VALOHAI_TOKEN" "$RETRAIN_TOKEN"; do
	if grep -r -l -F -- "$secret" . > leaks.txt; then
		cat leaks.txt >&2
		fail "a token was written to a file"
	fi
done
