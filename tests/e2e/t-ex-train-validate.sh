# examples/train-validate: "when training completes, run validation".  A
# training (fired, then requested through the webhook) ends; the runtime's
# own execution_completed event launches validate with the training's id
# and folder; validate reads the model there; promote then gets
# validate's id and the accuracy it printed (action results).  The
# validation's and promotion's own events do not start another
# validation (no loop); the audit log shows the event launches; a
# validation that fails skips the promotion.
. "$TRIG_SRC/tests/e2e/lib.sh"

cp "$TRIG_SRC"/examples/train-validate/* .
"$TRIGC" lint train-validate.trig > lint.out 2>&1 || { cat lint.out >&2; fail "trigc lint"; }
[ ! -s lint.out ] || { cat lint.out >&2; fail "trigc lint printed diagnostics"; }
build train-validate.trig ./train-validate
E=$(pwd -P)/.trig-state/executions

# json FILE EXPR — a Python expression over the JSON document in FILE (d).
json() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
# listing — `executions --json` as "ID STEP STATUS TRIGGER" lines, in execs.txt.
listing() {
	./train-validate executions --json > execs.json || return 1
	python3 - > execs.txt <<'PY'
import json
for line in open("execs.json"):
    e = json.loads(line)
    print(e["id"], e["step"], e["status"], e["trigger"])
PY
}
# of STEP — the ids of STEP's executions (from execs.txt).
of() {
	awk -v s="$1" '$2 == s { print $1 }' execs.txt
}
# validated TRAINING — a validate of TRAINING and a promote have ended.
validated() {
	listing || return 1
	for v in $(awk '$2 == "validate" && $3 != "running" { print $1 }' execs.txt); do
		[ "$(json "$E/$v/execution.json" 'd["parameters"]["training"]')" = "$1" ] || continue
		for p in $(awk '$2 == "promote" && $3 != "running" { print $1 }' execs.txt); do
			[ "$(json "$E/$p/execution.json" 'd["parameters"]["validation"]')" = "$v" ] && return 0
		done
	done
	return 1
}
# check_chain TRAINING — validate and promote of TRAINING did what they should.
check_chain() {
	T=$1
	V= P=
	for v in $(of validate); do
		[ "$(json "$E/$v/execution.json" 'd["parameters"]["training"]')" = "$T" ] && V=$v
	done
	[ -n "$V" ] || fail "no validation of $T"
	for p in $(of promote); do
		[ "$(json "$E/$p/execution.json" 'd["parameters"]["validation"]')" = "$V" ] && P=$p
	done
	[ -n "$P" ] || fail "no promotion after validation $V"
	expect_eq "validation $V" "$(grep "^$V " execs.txt | cut -d' ' -f2-)" "validate completed validate-after-train"
	expect_eq "promotion $P" "$(grep "^$P " execs.txt | cut -d' ' -f2-)" "promote completed validate-after-train"
	# validate's parameters: the training's id and its folder (the event's url).
	expect_eq "validate's folder" "$(json "$E/$V/execution.json" 'd["parameters"]["folder"]')" "$E/$T"
	expect_eq "validate's title" "$(json "$E/$V/execution.json" 'd["title"]')" "validate $T"
	# ... and it read the model there.
	sum=$(sha256sum "$E/$T/outputs/model.json" | cut -d' ' -f1)
	expect_grep "^validating the model of $T (sha256 $sum)\$" "$E/$V/stdout.log"
	expect_eq "validation.json" "$(json "$E/$V/outputs/validation.json" '"%s %s" % (d["training"], d["model_sha256"])')" \
		"$T $sum"
	# It started after the training ended.
	python3 - "$E/$T/status.json" "$E/$V/status.json" <<'PY' || fail "validation $V started before training $T ended"
import json, sys
t, v = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(0 if v["started"] >= t["ended"] else 1)
PY
	# promote got validate's results: its id and the accuracy it printed.
	tail -n 1 "$E/$V/stdout.log" > md.json
	A=$(json md.json 'd["accuracy"]')
	expect_eq "accuracy in validation.json" "$(json "$E/$V/outputs/validation.json" 'd["accuracy"]')" "$A"
	expect_eq "promote's parameters" \
		"$(json "$E/$P/execution.json" '" ".join(d["parameters"][k] for k in ("training", "folder", "validation", "accuracy"))')" \
		"$T $E/$T $V $A"
	expect_eq "a good model" "$(json md.json '0.85 <= d["accuracy"] <= 1')" True
	expect_eq "promoted" "$(json "$E/$P/outputs/decision.json" '(d["promoted"], d["accuracy"], d["validation"])')" \
		"(True, $A, '$V')"
	cmp -s "$E/$T/outputs/model.json" "$E/$P/outputs/model.json" || fail "the promoted model is not the training's"
	# Both belong to one event launch, not to the training's.
	LV=$(json "$E/$V/execution.json" 'd["launch"]')
	expect_eq "promote's launch" "$(json "$E/$P/execution.json" 'd["launch"]')" "$LV"
	[ "$LV" != "$(json "$E/$T/execution.json" 'd["launch"]')" ] || fail "validation ran in the training's launch"
}

# ---- fire the nightly training: validation and promotion follow.
./train-validate fire nightly > fire.out 2> fire.err || { cat fire.out fire.err >&2; fail "fire nightly"; }
T1=$(sed -n 's/^execution \(e-[0-9A-Z]*\)$/\1/p' fire.out)
[ -n "$T1" ] || { cat fire.out >&2; fail "fire printed no execution id"; }
wait_until 20 validated "$T1" || { cat execs.txt >&2; fail "no validation and promotion of $T1"; }
check_chain "$T1"
listing
expect_eq "executions after one training" "$(cut -d' ' -f2 execs.txt | sort | tr '\n' ' ')" "promote train validate "

# The audit log: one event launch of validate-after-train, naming both
# executions; validate's and promote's own completions were not matched.
./train-validate logs validate-after-train --json > logs.json
python3 - "$V" "$P" <<'PY' || { cat logs.json >&2; fail "logs --json"; }
import json, sys
recs = [json.loads(l) for l in open("logs.json")]
launched = [r for r in recs if r["outcome"] == "launched"]
assert len(launched) == 1, launched
r = launched[0]
assert r["kind"] == "event" and r["trigger"] == "validate-after-train", r
assert r["request"].startswith("n-"), r
assert [a["id"] for a in r["actions"]] == sys.argv[1:3], r
others = sorted(r["reason"] for r in recs if r["outcome"] == "not-matched")
assert len(others) == 2 and "validate" in others[1] and "promote" in others[0], others
assert all(r["kind"] == "event" for r in recs), recs
assert len(recs) == 3, recs
PY
! grep -q '"outcome":"error"' .trig-state/audit.jsonl || fail "an error in the audit log"

# ---- the webhook: train on request, the same chain follows, once.
export TRAIN_TOKEN=e2e-train-token-77a1
export TRIG_ADMIN_TOKEN=e2e-admin-token-3c5d
start_server ./train-validate
URL=http://127.0.0.1:$PORT
code=$(curl -s -o resp.txt -w '%{http_code}' -X POST "$URL/hooks/train")
expect_eq "train without the token" "$code" 401
code=$(curl -s -o resp.txt -w '%{http_code}' -X POST -H "Authorization: Bearer $TRAIN_TOKEN" "$URL/hooks/train")
expect_eq "train" "$code" 202
T2=$(sed -n 's/^training \(e-[0-9A-Z]*\)$/\1/p' resp.txt)
[ -n "$T2" ] || { cat resp.txt >&2; fail "the answer names no execution: $(cat resp.txt)"; }
wait_until 20 validated "$T2" || { cat execs.txt server.cur.log >&2; fail "no validation and promotion of $T2"; }
check_chain "$T2"

# A Valohai execution_completed for a training that ran elsewhere: the
# validation launches but fails (the folder is not on this machine), and
# the promotion that would read its accuracy is skipped.
code=$(curl -s -o resp.json -w '%{http_code}' -X POST -H "Authorization: Bearer $TRIG_ADMIN_TOKEN" \
	--data-binary "@$TRIG_SHARED/testdata/valohai/execution_completed.json" "$URL/events")
expect_eq "Valohai's execution_completed" "$code" 202
LX=$(json resp.json 'd["launches"][0]["launch"]')
wait_until 20 grep -q '"status":"skipped"' .trig-state/runs/"$LX".json 2>/dev/null ||
	fail "the promotion after a failed validation was not skipped"
expect_eq "run of $LX" "$(json .trig-state/runs/"$LX".json '[(r["name"], r["status"]) for r in d["result"]]')" \
	"[('validation', 'failed'), ('promote', 'skipped')]"
VX=$(json .trig-state/runs/"$LX".json 'd["result"][0]["execution_id"]')
expect_grep 'is not on this machine' "$E/$VX/stderr.log"
expect_eq "the remote training's id" "$(json "$E/$VX/execution.json" 'd["parameters"]["training"]')" \
	0191a2b3-0000-4000-8000-000000000020

# No loop: after a moment, still exactly one validation and one promotion
# per local training, plus the failed validation.
sleep 1
stop_server
listing
expect_eq "executions in all" "$(cut -d' ' -f2,3 execs.txt | sort | tr '\n' ' ')" \
	"promote completed promote completed train completed train completed validate completed validate completed validate failed "
expect_eq "event launches" \
	"$(grep -c '"trigger":"validate-after-train","kind":"event","outcome":"launched"' .trig-state/audit.jsonl)" 3
! grep -q '"outcome":"error"' .trig-state/audit.jsonl || fail "an error in the audit log"
! grep -q -e "$TRAIN_TOKEN" -e "$TRIG_ADMIN_TOKEN" server.log .trig-state/audit.jsonl || fail "a token is in a log"
echo ok
