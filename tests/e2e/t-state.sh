# A bad or busy state folder gets a clear error and nothing is changed.
. "$TRIG_SRC/tests/e2e/lib.sh"

cat > p.trig <<'DEFS'
project st

step noop {
    command "true"
}

trigger t {
    schedule every 1h
    run execution noop
}
DEFS
build p.trig ./st

# Two servers on one state folder: the second refuses.
start_server ./st
rc=0; ./st serve --listen 127.0.0.1:0 2>second.err || rc=$?
expect_eq "second server" "$rc" 3
expect_grep "in use by another server (pid $SERVER_PID)" second.err
stop_server

# A folder of another format version.
mkdir other && echo 99 > other/VERSION
rc=0; ./st serve --listen 127.0.0.1:0 --state other 2>v.err || rc=$?
expect_eq "foreign version" "$rc" 3
expect_grep "other" v.err
expect_eq "VERSION untouched" "$(cat other/VERSION)" 99

# The workdir must exist.
rc=0; ./st fire t --workdir /nonexistent 2>w.err || rc=$?
expect_eq "missing workdir" "$rc" 3
expect_grep "workdir '/nonexistent' is not a folder" w.err

# A port in use.
start_server ./st --state s2
rc=0; ./st serve --listen "127.0.0.1:$PORT" --state s3 2>port.err || rc=$?
expect_eq "port in use" "$rc" 3
expect_grep "cannot listen on '127.0.0.1:$PORT'" port.err
stop_server

# logs on a folder that does not exist: an error, and no folder made.
rc=0; ./st logs --state nothing-here 2>l.err || rc=$?
expect_eq "logs without state" "$rc" 3
[ ! -e nothing-here ] || fail "logs created a state folder"
