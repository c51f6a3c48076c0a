# examples/github-push with GitHub's real deliveries: tags, pings and other
# branches are not matched; a push to main (the real payload, its ref set
# to main) is verified, fetched into the checkout and trained.
. "$TRIG_SRC/tests/e2e/lib.sh"

GH=$TRIG_SHARED/testdata/github
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
# The repository on "GitHub", a developer's clone, and the server's checkout.
git init -q --bare -b main origin.git
git clone -q origin.git dev 2>/dev/null
cp "$TRIG_SRC"/examples/github-push/* dev/
(cd dev && git add . && git commit -qm "first" && git push -q origin HEAD:main 2>/dev/null)
git clone -q -b main origin.git checkout
(cd checkout && "$TRIGC" build push.trig -o ../github-push) 2>build.err || fail "build: $(cat build.err)"

export GITHUB_WEBHOOK_SECRET=e2e-github-secret-31b7
start_server ./github-push
URL=http://127.0.0.1:$PORT/hooks/github
deliver() { # FILE EVENT DELIVERY-ID → status
	sig=$(openssl dgst -sha256 -hmac "$GITHUB_WEBHOOK_SECRET" < "$1" | sed 's/.*= //')
	curl -s -o resp.txt -w '%{http_code}' -X POST --data-binary "@$1" \
		-H 'Content-Type: application/json' -H "X-GitHub-Event: $2" \
		-H "X-GitHub-Delivery: $3" -H "X-Hub-Signature-256: sha256=$sig" "$URL"
}

n=0
for f in push.0 push.1 push.2; do
	n=$((n + 1))
	expect_eq "$f (a tag)" "$(deliver "$GH/$f.json" push "tag-$n")" 200
done
expect_eq "ping" "$(deliver "$GH/ping.0.json" ping ping-1)" 200
expect_eq "pull_request" "$(deliver "$GH/pull_request.0.json" pull_request pr-1)" 200

# A new commit lands on main; GitHub's push delivery for it.
(cd dev && echo "# v2" >> train.py && git commit -qam "second" && git push -q origin HEAD:main 2>/dev/null)
head=$(git -C origin.git rev-parse main)
sed -e 's|"ref": "refs/tags/simple-tag"|"ref": "refs/heads/main"|' \
    -e "s|\"after\": \"6113728f27ae82c7b1a177c8d03f9e96e0adf246\"|\"after\": \"$head\"|" \
    "$GH/push.0.json" > push-main.json
grep -q '"ref": "refs/heads/main"' push-main.json || fail "could not retarget the payload"
expect_eq "push to main" "$(deliver push-main.json push main-1)" 202
expect_grep '"trigger":"on-push","launch":"l-' resp.txt
expect_eq "the same delivery again" "$(deliver push-main.json push main-1)" 409
wait_until 20 at_least completed 1 || { cat server.cur.log >&2; fail "the training did not complete"; }
out=$(cat .trig-state/executions/*/stdout.log)
expect_eq "what was trained" "$out" "training commit $head (pushed $head by Codertocat)"
expect_eq "the checkout was fast-forwarded" "$(git -C checkout rev-parse HEAD)" "$head"
stop_server
./github-push logs --json > audit.json
expect_grep '"outcome":"not-matched".*"reason":"payload.ref does not satisfy equals' audit.json
expect_grep '"outcome":"replayed"' audit.json
! grep -rqF "$GITHUB_WEBHOOK_SECRET" server.log .trig-state || fail "the secret is in a log"
