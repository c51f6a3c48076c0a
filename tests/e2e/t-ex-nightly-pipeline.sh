# examples/nightly-pipeline: a Helsinki-time schedule runs valohai.yaml's
# preprocess -> train -> evaluate pipeline.  fire completes the run with
# 3/3 nodes; the *.csv edge hands train exactly preprocess's CSV files;
# evaluate runs after train and reads its model; the trigger's node
# parameters reach the nodes; a training that diverges fails the run and
# skips evaluate; `next` agrees with Python's zoneinfo across both DST
# changes; a server that missed the night catches up once.
. "$TRIG_SRC/tests/e2e/lib.sh"

cp "$TRIG_SRC"/examples/nightly-pipeline/* .
"$TRIGC" lint nightly.trig > lint.out 2>&1 || { cat lint.out >&2; fail "trigc lint"; }
[ ! -s lint.out ] || { cat lint.out >&2; fail "trigc lint printed diagnostics"; }
build nightly.trig ./nightly

# json FILE EXPR — evaluate a Python expression over the JSON document in
# FILE (bound to d); prints the result.
json() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- a run that completes
./nightly fire nightly > fire.out 2> fire.err || { cat fire.out fire.err >&2; fail "fire nightly"; }
P=$(sed -n 's/^pipeline \(p-[0-9A-Z]*\)$/\1/p' fire.out)
[ -n "$P" ] || { cat fire.out >&2; fail "fire printed no pipeline id"; }
expect_grep '^launch l-[0-9A-Z]*$' fire.out

./nightly pipelines --json > pipelines.json
expect_eq "pipeline runs listed" "$(wc -l < pipelines.json)" 1
head -n 1 pipelines.json > run.json
expect_eq "run id" "$(json run.json 'd["id"]')" "$P"
expect_eq "run status" "$(json run.json 'd["status"]')" completed
expect_eq "nodes done" "$(json run.json '"%d/%d" % (d["nodes_done"], d["nodes_total"])')" 3/3
expect_eq "run's pipeline" "$(json run.json 'd["pipeline"]')" nightly-training
expect_eq "run's trigger" "$(json run.json 'd["trigger"]')" nightly

E=.trig-state/executions
# The three node executions, <run id>.<node>, all completed.
./nightly executions --json > executions.json
python3 - "$P" > listed.txt <<'PY' || fail "executions --json is not one JSON object per line"
import json, sys
for line in open("executions.json"):
    e = json.loads(line)
    print(e["id"], e["step"], e["status"], e["trigger"])
PY
sort listed.txt > listed.sorted
printf '%s\n' "$P.evaluate evaluate completed nightly" "$P.preprocess preprocess completed nightly" \
	"$P.train train completed nightly" > want.txt
cmp -s listed.sorted want.txt || { diff listed.sorted want.txt >&2; fail "executions does not list the three nodes"; }

# preprocess wrote four files; the edge preprocess.output.*.csv gave train
# exactly the two CSV files, byte for byte, and nothing else.
expect_eq "preprocess outputs" "$(cd $E/$P.preprocess/outputs && ls | tr '\n' ' ')" \
	"preview.txt stats.json test.csv train.csv "
expect_eq "train's inputs" "$(cd $E/$P.train/inputs && find . -type f | sort | tr '\n' ' ')" \
	"./dataset/test.csv ./dataset/train.csv "
for f in train.csv test.csv; do
	cmp -s $E/$P.preprocess/outputs/$f $E/$P.train/inputs/dataset/$f ||
		fail "train's $f is not preprocess's"
	cmp -s $E/$P.preprocess/outputs/$f $E/$P.evaluate/inputs/dataset/$f ||
		fail "evaluate's $f is not preprocess's"
done
expect_grep '^dataset files: test.csv train.csv$' $E/$P.train/stdout.log
# train.output.model* gave evaluate model.json, not loss.csv.
expect_eq "evaluate's model input" "$(ls $E/$P.evaluate/inputs/model)" model.json

# The trigger's node parameters (not valohai.yaml's defaults) reached the nodes.
expect_eq "preprocess rows" "$(json $E/$P.preprocess/execution.json 'd["parameters"]["rows"]')" 400
expect_eq "train parameters" \
	"$(json $E/$P.train/execution.json '"%s %s" % (d["parameters"]["epochs"], d["parameters"]["learning_rate"])')" \
	"40 0.5"
expect_eq "train's command" "$(json $E/$P.train/execution.json 'd["command"]')" \
	"python3 train.py --epochs=40 --learning_rate=0.5"
expect_eq "epochs trained" "$(grep -c '^{"epoch": ' $E/$P.train/stdout.log)" 40
expect_grep '^{"rows": 400, "train": 320, "test": 80, ' $E/$P.preprocess/stdout.log

# evaluate started after train ended, and read train's model: it printed the
# SHA-256 of train's outputs/model.json.
python3 - "$E/$P.train/status.json" "$E/$P.evaluate/status.json" <<'PY' || fail "evaluate did not run after train"
import json, sys
train, ev = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(0 if ev["started"] >= train["ended"] else 1)
PY
sum=$(sha256sum $E/$P.train/outputs/model.json | cut -d' ' -f1)
expect_grep "^model sha256 $sum\$" $E/$P.evaluate/stdout.log
# Its metadata line: an accuracy over 80/80 test rows, well above chance.
tail -n 1 $E/$P.evaluate/stdout.log > metadata.json
expect_eq "test rows" "$(json metadata.json 'd["test_rows"]')" 80
expect_eq "accuracy well above chance" "$(json metadata.json '0.8 <= d["accuracy"] <= 1')" True
expect_eq "evaluation.json" "$(json $E/$P.evaluate/outputs/evaluation.json 'd')" "$(json metadata.json 'd')"

# ---- a training that diverges: train fails, evaluate is skipped, fire exits 1
mkdir bad
cp nightly.trig valohai.yaml ./*.py bad/
sed -i 's/parameter train.learning_rate = 0.5$/parameter train.learning_rate = 5/' bad/nightly.trig
grep -q 'train.learning_rate = 5$' bad/nightly.trig || fail "could not make the diverging variant"
(cd bad && build nightly.trig ./nightly)
rc=0
(cd bad && ./nightly fire nightly > fire.out 2> fire.err) || rc=$?
expect_eq "fire of a failing pipeline" "$rc" 1
BP=$(sed -n 's/^pipeline \(p-[0-9A-Z]*\)$/\1/p' bad/fire.out)
[ -n "$BP" ] || { cat bad/fire.out >&2; fail "fire printed no pipeline id"; }
(cd bad && ./nightly pipelines --json) > bad/run.json
expect_eq "failed run" "$(json bad/run.json '"%s %d/%d" % (d["status"], d["nodes_done"], d["nodes_total"])')" \
	"failed 1/3"
expect_eq "failed run's error" "$(json bad/run.json 'd["error"]')" "node 'train' failed with exit code 1"
expect_eq "node statuses" \
	"$(json bad/.trig-state/pipelines/$BP/status.json '" ".join(n["node"] + "=" + n["status"] for n in d["nodes"])')" \
	"preprocess=completed train=failed evaluate=skipped"
expect_grep 'training diverged at epoch' bad/$E/$BP.train/stderr.log
[ ! -e bad/$E/$BP.evaluate ] || fail "the skipped evaluate node got an execution folder"
expect_eq "executions of the failed run" "$(ls bad/$E | tr '\n' ' ')" "$BP.preprocess $BP.train "

# ---- next: 02:30 in Helsinki, in UTC, across both DST changes of 2026,
# against Python's zoneinfo.
for after in 2026-03-26T12:00:00Z 2026-10-22T12:00:00Z; do
	./nightly next nightly -n 6 --after "$after" > next.out || fail "next nightly --after $after"
	python3 - "$after" > want.out <<'PY'
import datetime as dt, sys, zoneinfo
tz = zoneinfo.ZoneInfo("Europe/Helsinki")
after = dt.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
day, n = after.date() - dt.timedelta(days=1), 0
while n < 6:
    t = dt.datetime(day.year, day.month, day.day, 2, 30, tzinfo=tz).astimezone(dt.timezone.utc)
    if t > after:
        print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))
        n += 1
    day += dt.timedelta(days=1)
PY
	cmp -s next.out want.out || { diff next.out want.out >&2; fail "next nightly --after $after"; }
done
# The change is in there: 00:30Z in winter (EET, also on the 29th: clocks
# go forward at 03:00), 23:30Z the day before in summer (EEST).
./nightly next nightly -n 4 --after 2026-03-27T12:00:00Z | tr '\n' ' ' > next.out
expect_eq "next across the March change" "$(cat next.out)" \
	"2026-03-28T00:30:00Z 2026-03-29T00:30:00Z 2026-03-29T23:30:00Z 2026-03-30T23:30:00Z "
./nightly list > list.out
expect_grep '^nightly  *schedule  *yes  *cron 30 2 \* \* \* (Europe/Helsinki)' list.out

# ---- catch-up once: a server that last ran the schedule two days ago runs
# the pipeline once when it starts.
printf 'nightly %s\n' $(( $(date +%s) - 2 * 86400 )) > .trig-state/ticks
start_server ./nightly
caught_up() {
	./nightly pipelines --json > now.json && [ "$(grep -c '"status":"completed"' now.json)" -ge 2 ]
}
wait_until 15 caught_up || { cat server.cur.log now.json >&2; fail "no catch-up run"; }
sleep 0.5
stop_server
expect_eq "runs after the catch-up" "$(wc -l < now.json)" 2
expect_grep "trigger 'nightly': caught up a missed tick" server.log
expect_eq "executions after the catch-up" "$(ls $E | wc -l)" 6
echo ok
