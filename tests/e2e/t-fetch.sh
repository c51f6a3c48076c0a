# fetch-repository: a launch brings the backend's checkout up to date
# (git fetch, fast-forward) before the execution after it runs the code;
# a failed fetch skips the rest of the chain.
. "$TRIG_SRC/tests/e2e/lib.sh"

command -v git >/dev/null || fail "git is needed"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
git init -q --bare origin.git
git clone -q origin.git dev 2>/dev/null
(cd dev && echo 'print("v1")' > train.py && git add train.py && git commit -qm v1 && git push -q origin HEAD 2>/dev/null)
git clone -q origin.git checkout

cat > p.trig <<'DEFS'
project fetch

backend local { workdir "checkout", repository "checkout" }

step train {
    command "git log -1 --format=%s; cat train.py"
}

trigger push {
    schedule daily "03:00"
    fetch repository
    run execution train
}
DEFS
build p.trig ./fetch

# A new commit upstream: the launch fetches it, then trains on it.
(cd dev && echo 'print("v2")' > train.py && git commit -qam v2 && git push -q origin HEAD 2>/dev/null)
./fetch fire push > fire.txt 2>fire.err || fail "fire: $(cat fire.err)"
exec_id=$(sed -n 's/^execution //p' fire.txt)
printf 'v2\nprint("v2")\n' | cmp - ".trig-state/executions/$exec_id/stdout.log" ||
	fail "the execution did not run the fetched code: $(cat ".trig-state/executions/$exec_id/stdout.log")"

# The checkout diverged: no fast-forward, the execution is skipped, fire exits 1.
(cd checkout && echo local > local.txt && git add local.txt && git commit -qm local)
(cd dev && echo 'print("v3")' > train.py && git commit -qam v3 && git push -q origin HEAD 2>/dev/null)
rc=0; ./fetch fire push > fire.txt 2>fire.err || rc=$?
expect_eq "fire with a diverged checkout" "$rc" 1
expect_grep '1 action failed or could not start' fire.err
expect_grep "fetch-repository: git merge in '.*checkout' failed" fire.err
exec_id=$(sed -n 's/^execution //p' fire.txt)
[ ! -e ".trig-state/executions/$exec_id/stdout.log" ] || fail "the execution ran after a failed fetch"
