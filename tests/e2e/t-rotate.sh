# Runtime control in a running server: SIGHUP re-reads a webhook's secret
# file (key rotation) while requests keep coming, and none is dropped or
# refused on the way; disable and enable take effect at once, without a
# restart.
. "$TRIG_SRC/tests/e2e/lib.sh"

cat > p.trig <<'DEFS'
project rotate

step noop {
    command "true"
}

trigger hook {
    webhook POST "/hooks/rotate"
    token header X-Token secret file "token.txt"
    run execution noop
}
DEFS
build p.trig ./rotate
printf 'first-token-7c1\n' > token.txt
start_server ./rotate
URL=http://127.0.0.1:$PORT/hooks/rotate

# 4 clients, 150 requests each, with the token in use, while the server is
# sent SIGHUP ten times (the file unchanged): every request is answered
# 202.
cat > load.py <<'PY'
import http.client, sys, threading
port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
codes, lock = {}, threading.Lock()
def worker():
    c = None
    for _ in range(n):
        try:
            if c is None:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("POST", "/hooks/rotate", body="{}", headers={"X-Token": token})
            r = c.getresponse()
            r.read()
            k = r.status
        except Exception as e:
            k, c = type(e).__name__, None
        with lock:
            codes[k] = codes.get(k, 0) + 1
ts = [threading.Thread(target=worker) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join("%s:%d" % kv for kv in sorted(codes.items(), key=str)))
PY
python3 load.py "$PORT" first-token-7c1 150 > load.out &
LOAD=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	kill -HUP "$SERVER_PID"
	sleep 0.05
done
wait "$LOAD"
expect_eq "answers while SIGHUP re-read the secrets" "$(cat load.out)" "202:600"
[ "$(grep -c 'SIGHUP: secrets read again' server.cur.log)" -ge 1 ] || fail "no SIGHUP was handled"

# Rotation: the new token from the file after SIGHUP, the old one refused.
printf 'second-token-e42\n' > token.txt
kill -HUP "$SERVER_PID"
post() { # TOKEN → status
	curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Token: $1" --data '{}' "$URL"
}
wait_until 10 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'X-Token: second-token-e42' --data '{}' '$URL')\" = 202 ]" ||
	fail "the new token was not accepted after SIGHUP"
expect_eq "the old token after rotation" "$(post first-token-7c1)" 401
# A file that cannot be read: the secrets in use are kept.
mv token.txt token.gone
kill -HUP "$SERVER_PID"
wait_until 10 grep -q 'SIGHUP: .*the secrets in use are kept' server.cur.log ||
	fail "an unreadable secret file was not reported"
expect_eq "the token in use after a failed reload" "$(post second-token-e42)" 202
mv token.gone token.txt

# disable / enable reach the running server at once.
./rotate disable hook 2>/dev/null
expect_eq "disabled" "$(post second-token-e42)" 404
./rotate enable hook 2>/dev/null
expect_eq "enabled again" "$(post second-token-e42)" 202
stop_server
grep -q 'first-token-7c1\|second-token-e42' server.log .trig-state/audit.jsonl && fail "a token was logged"
:
