# examples/annotations: Label Studio's delivery with the static token
# launches a retraining; a wrong token, another project or another event
# does not; the seventh launch in an hour is rate-limited.
. "$TRIG_SRC/tests/e2e/lib.sh"

cp "$TRIG_SRC"/examples/annotations/* .
build annotations.trig ./annotations
export ANNOTATION_TOKEN=e2e-annotation-token-5d21
start_server ./annotations
URL=http://127.0.0.1:$PORT/hooks/annotations
deliver() { # FILE TOKEN → status
	curl -s -o resp.txt -D resp.hdr -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-H "X-Annotation-Token: $2" --data-binary "@$1" "$URL"
}

expect_eq "annotation created" "$(deliver annotation.json "$ANNOTATION_TOKEN")" 202
wait_until 10 at_least completed 1 || fail "the retraining did not complete"
expect_eq "what ran" "$(cat .trig-state/executions/*/stdout.log)" \
	"retraining on project images after task 1093"
expect_eq "a wrong token" "$(deliver annotation.json wrong-token)" 401
sed 's/"title": "images"/"title": "documents"/' annotation.json > other.json
expect_eq "another project" "$(deliver other.json "$ANNOTATION_TOKEN")" 200
sed 's/"ANNOTATION_CREATED"/"TASK_DELETED"/' annotation.json > deleted.json
expect_eq "another event" "$(deliver deleted.json "$ANNOTATION_TOKEN")" 200
for i in 2 3 4 5 6; do
	expect_eq "launch $i" "$(deliver annotation.json "$ANNOTATION_TOKEN")" 202
done
expect_eq "the seventh launch in an hour" "$(deliver annotation.json "$ANNOTATION_TOKEN")" 429
expect_grep '^Retry-After: [0-9]' resp.hdr
./annotations check labels-done --payload annotation.json -H "X-Annotation-Token: $ANNOTATION_TOKEN" \
	> check.txt || fail "check: $(cat check.txt)"
expect_grep '^      parameter task = "1093"$' check.txt
stop_server
