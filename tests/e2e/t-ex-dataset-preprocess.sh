# examples/dataset-preprocess: Valohai's real dataset_version_created
# notification, POSTed to /events and /events/TYPE with the admin token,
# runs the preprocessing pipeline on the version's URI: the local data
# folder's files for dataset://images/images-2026-11-26 are the prep node's
# input, the dataset name its parameter, the notification its payload
# input, and pack archives what prep wrote.  Other datasets are not
# matched; no token is 401; `emit`, through the server and in-process,
# does the same.
. "$TRIG_SRC/tests/e2e/lib.sh"

NOTE=$TRIG_SHARED/testdata/valohai/dataset_version_created.json
cp -r "$TRIG_SRC"/examples/dataset-preprocess/. .
"$TRIGC" lint preprocess.yaml > lint.out 2>&1 || { cat lint.out >&2; fail "trigc lint"; }
[ ! -s lint.out ] || { cat lint.out >&2; fail "trigc lint printed diagnostics"; }
build preprocess.yaml ./dataset-preprocess
cmp -s notification.json "$NOTE" || fail "the example's notification.json is not the real one"
DATA=data/datasets/images/images-2026-11-26
[ "$(ls $DATA | wc -l)" -ge 3 ] || fail "the example's data folder is missing"

ADMIN=admin-e2e-dataset-4f1e
export TRIG_ADMIN_TOKEN=$ADMIN
E=.trig-state/executions

# json FILE EXPR — a Python expression over the JSON document in FILE (d).
json() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
# post PATH FILE [curl args...] — prints the status; the answer is in resp.json.
post() {
	path=$1 file=$2
	shift 2
	curl -s -o resp.json -w '%{http_code}' -X POST --data-binary "@$file" "$@" "$URL$path"
}
# launched — the launch id of the summary in resp.json (exactly one launch
# of preprocess-new-data, no errors).
launched() {
	json resp.json '(lambda l: l[0]["launch"] if len(l) == 1 and l[0]["trigger"] == "preprocess-new-data" and not d["errors"] else "")(d["launches"])'
}
# run_of LAUNCH — "ID STATUS NODES_DONE/NODES_TOTAL" of the pipeline run of LAUNCH.
run_of() {
	./dataset-preprocess pipelines --json > runs.json || return 1
	python3 - "$1" <<'PY'
import json, sys
for line in open("runs.json"):
    r = json.loads(line)
    if r["launch"] == sys.argv[1]:
        print(r["id"], r["status"], "%s/%s" % (r["nodes_done"], r["nodes_total"]))
PY
}
finished() {
	case $(run_of "$1") in *" running "*|"") return 1 ;; esac
}
# check_run LAUNCH — the run of LAUNCH completed, with the version's files.
check_run() {
	wait_until 15 finished "$1" || { cat server.cur.log >&2 2>/dev/null; fail "the run of $1 did not finish"; }
	set -- "$1" $(run_of "$1")
	expect_eq "run of $1" "$3 $4" "completed 2/2"
	P=$2
	# The prep node got exactly the version's files, byte for byte.
	expect_eq "prep's images" "$(ls $E/$P.prep/inputs/images | tr '\n' ' ')" "$(ls $DATA | tr '\n' ' ')"
	for f in $DATA/*; do
		cmp -s "$f" "$E/$P.prep/inputs/images/$(basename "$f")" || fail "prep's copy of $f differs"
	done
	expect_eq "prep's parameters" \
		"$(json $E/$P.prep/execution.json '"%s %s" % (d["parameters"]["dataset"], d["parameters"]["version"])')" \
		"images images-2026-11-26"
	expect_eq "prep's input" "$(json $E/$P.prep/execution.json 'd["inputs"]["images"]')" \
		"['dataset://images/images-2026-11-26']"
	# The notification itself is the payload input.
	expect_eq "payload input" "$(json $E/$P.prep/inputs/event/payload.json 'd["data"]["version"]["id"]')" \
		0191a2b3-0000-4000-8000-000000000002
	expect_eq "manifest's version id" "$(json $E/$P.prep/outputs/manifest.json 'd["version_id"]')" \
		0191a2b3-0000-4000-8000-000000000002
	# The digests prep printed are those of the data folder's files.
	(cd $DATA && sha256sum -- * | awk '{print $2 " " $1}') > want.sums
	grep -v '^{' $E/$P.prep/stdout.log > got.sums
	cmp -s got.sums want.sums || { diff got.sums want.sums >&2; fail "prep did not read the version's files"; }
	# pack: the *.pgm edge and the parameter edge (prep.parameter.version).
	expect_eq "pack's images" "$(ls $E/$P.pack/inputs/images | tr '\n' ' ')" \
		"cat-0001.pgm cat-0002.pgm dog-0001.pgm "
	expect_eq "pack's version" "$(json $E/$P.pack/execution.json 'd["parameters"]["version"]')" \
		images-2026-11-26
	expect_eq "the archive" "$(tar tf $E/$P.pack/outputs/images-2026-11-26.tar | tr '\n' ' ')" \
		"manifest.json images/cat-0001.pgm images/cat-0002.pgm images/dog-0001.pgm "
}

# another NAME URI > FILE — the real notification, for another dataset.
another() {
	python3 - "$NOTE" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["data"]["dataset"]["name"] = sys.argv[2]
d["data"]["version"]["uri"] = sys.argv[3]
d["title"] = "Dataset version created: %s" % sys.argv[3]
print(json.dumps(d))
PY
}

start_server ./dataset-preprocess
URL=http://127.0.0.1:$PORT

# No admin token, a wrong one: 401, nothing runs.
expect_eq "no admin token" "$(post /events "$NOTE")" 401
expect_eq "a wrong admin token" "$(post /events "$NOTE" -H 'Authorization: Bearer nope')" 401
expect_eq "a wrong admin token in the query" "$(post "/events/dataset_version_created?token=nope" "$NOTE")" 401
[ ! -d .trig-state/pipelines ] || [ -z "$(ls .trig-state/pipelines)" ] || fail "a refused event ran something"

# The real notification at /events (type from the body): 202, one launch.
expect_eq "POST /events" "$(post /events "$NOTE" -H "Authorization: Bearer $ADMIN")" 202
expect_eq "summary's type" "$(json resp.json 'd["type"]')" dataset_version_created
L1=$(launched)
[ -n "$L1" ] || { cat resp.json >&2; fail "the summary names no launch of preprocess-new-data"; }
check_run "$L1"

# The same at /events/dataset_version_created.
expect_eq "POST /events/TYPE" \
	"$(post /events/dataset_version_created "$NOTE" -H "Authorization: Bearer $ADMIN")" 202
L2=$(launched)
[ -n "$L2" ] && [ "$L2" != "$L1" ] || { cat resp.json >&2; fail "no new launch for /events/TYPE"; }
check_run "$L2"

# Another dataset, and one whose name only contains "images": not matched, 200.
for name in audio my-images; do
	another $name "dataset://$name/v1" > other.json
	expect_eq "notification for dataset $name" \
		"$(post /events other.json -H "Authorization: Bearer $ADMIN")" 200
	expect_eq "$name: launches" "$(json resp.json 'd["launches"]')" "[]"
	expect_eq "$name: not matched" \
		"$(json resp.json '[(n["trigger"], n["outcome"]) for n in d["not_matched"]]')" \
		"[('preprocess-new-data', 'not-matched')]"
	expect_grep "(it is \\\\\"$name\\\\\")" resp.json
done
# An images-* dataset matches, but its version is not in the data folder:
# the run fails and says which input and where it looked.
another images-thumbnails dataset://images-thumbnails/v1 > thumb.json
expect_eq "images-thumbnails" "$(post /events thumb.json -H "Authorization: Bearer $ADMIN")" 202
LT=$(launched)
wait_until 15 finished "$LT" || fail "the images-thumbnails run did not finish"
expect_eq "images-thumbnails run" "$(run_of "$LT" | cut -d' ' -f2-)" "failed 0/2"
expect_grep "input 'images': dataset://images-thumbnails/v1 is not in the data folder" runs.json

# emit through the server.
./dataset-preprocess emit dataset_version_created --payload "$NOTE" --server "$URL" > resp.json 2> emit.err ||
	{ cat emit.err >&2; fail "emit --server"; }
L3=$(launched)
[ -n "$L3" ] || { cat resp.json >&2; fail "emit --server launched nothing"; }
check_run "$L3"
stop_server

# emit in-process: dispatches, runs the pipeline, waits, exits 0.
./dataset-preprocess emit dataset_version_created --payload "$NOTE" > resp.json 2> emit.err ||
	{ cat emit.err >&2; fail "emit in-process"; }
L4=$(launched)
[ -n "$L4" ] || { cat resp.json >&2; fail "emit in-process launched nothing"; }
expect_eq "in-process run" "$(run_of "$L4" | cut -d' ' -f2-)" "completed 2/2"
check_run "$L4"
# In-process, a notification that matches nothing exits 1.
another audio dataset://audio/v1 > other.json
rc=0
./dataset-preprocess emit dataset_version_created --payload other.json > resp.json 2> emit.err || rc=$?
expect_eq "emit of a notification that matches nothing" "$rc" 1

# Five runs in all (four completed, one failed); every decision audited.
./dataset-preprocess pipelines --json > runs.json
expect_eq "runs" "$(grep -c '"status":"completed"' runs.json) $(grep -c '"status":"failed"' runs.json)" "4 1"
expect_eq "event launches audited" \
	"$(grep -c '"trigger":"preprocess-new-data","kind":"event","outcome":"launched"' .trig-state/audit.jsonl)" 5
expect_eq "not-matched audited" \
	"$(grep -c '"trigger":"preprocess-new-data","kind":"event","outcome":"not-matched"' .trig-state/audit.jsonl)" 3
! grep -q "$ADMIN" server.log .trig-state/audit.jsonl || fail "the admin token is in a log"
echo ok
