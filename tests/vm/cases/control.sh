# The control socket: vigilctl status, run-time policy changes that take
# effect in the kernel at once, an event stream, and reload.
. /add/cases/lib.sh
SOCK=/run/vigil/control.sock
mkdir -p /tmp/denied /tmp/pd
cp /bin/busybox /tmp/denied/true
cp $POL/deny-exec.yaml /tmp/pd/p.yaml
start_vigild --control-socket $SOCK --policy-dir /tmp/pd
expect "socket is root-only" "$(stat -c %a $SOCK)" "600"
vigilctl --socket $SOCK status >/tmp/status.txt; cat /tmp/status.txt
grep -q 'test-deny-exec .* enforce .* enabled' /tmp/status.txt && echo "ok:   status lists the policy" || { echo "FAIL: status"; FAILS=$((FAILS + 1)); }
grep -q "^mechanism  $MECH" /tmp/status.txt && echo "ok:   status names the mechanism" || { echo "FAIL: mechanism"; FAILS=$((FAILS + 1)); }

vigilctl --socket $SOCK events --policy test-deny-exec -o compact >/tmp/stream.txt &
STREAM=$!
# outcomes: the outcomes the stream carried so far, on one line
outcomes() { grep -o 'OUTCOME_[A-Z_]*' /tmp/stream.txt | tr '\n' ' '; }
# The stream is connected once it carries an event (vigild sends a stream only
# what happens after it connected): attempt the denied exec until one arrives,
# instead of sleeping and hoping the connection was made.
k=0
while [ -z "$(outcomes)" ] && [ $k -lt 60 ]; do
	$TRY exec /tmp/denied/true >/dev/null; k=$((k + 1))
	w=0; while [ -z "$(outcomes)" ] && [ $w -lt 10 ]; do sleep 0.1; w=$((w + 1)); done
done
expect "the stream carries the denied exec" "$(outcomes | cut -d' ' -f1)" "OUTCOME_DENIED"
SYNC=$(outcomes)
expect "enforced" "$($TRY exec /tmp/denied/true)" "errno=EPERM"
vigilctl --socket $SOCK policy set-mode test-deny-exec monitor
expect "monitor after set-mode" "$($TRY exec /tmp/denied/true)" "ok"
vigilctl --socket $SOCK policy disable test-deny-exec
expect "allowed when disabled" "$($TRY exec /tmp/denied/true)" "ok"
vigilctl --socket $SOCK policy list >/tmp/list.txt
expect "list shows it disabled" "$(cut -f1,3 /tmp/list.txt)" "$(printf 'test-deny-exec\tdisabled')"
vigilctl --socket $SOCK policy enable test-deny-exec
vigilctl --socket $SOCK policy set-mode test-deny-exec enforce
expect "enforced again" "$($TRY exec /tmp/denied/true)" "errno=EPERM"
vigilctl --socket $SOCK policy disable no-such-policy 2>/tmp/err.txt; rc=$?
expect "unknown policy refused" "$rc $(cat /tmp/err.txt)" "1 vigilctl: no loaded policy named no-such-policy"
printf 'kind: [\n' >/tmp/pd/p.yaml
vigilctl --socket $SOCK reload 2>/tmp/reload.txt; rc=$?
cat /tmp/reload.txt
expect "broken reload fails" "$rc" "1"
grep -q '/tmp/pd/p.yaml:[0-9]*:[0-9]*:' /tmp/reload.txt && echo "ok:   reload error has FILE:LINE:COL" || { echo "FAIL: reload error"; FAILS=$((FAILS + 1)); }
expect "still enforced" "$($TRY exec /tmp/denied/true)" "errno=EPERM"
# A failed reload also keeps run-time changes: they are the running set.
vigilctl --socket $SOCK policy disable test-deny-exec
vigilctl --socket $SOCK reload 2>/dev/null
expect "still disabled after a failed reload" "$(vigilctl --socket $SOCK policy list | cut -f3)" "disabled"
expect "and still allowed" "$($TRY exec /tmp/denied/true)" "ok"
# The four events after the connection, then stop: wait for them to arrive
# (up to 30 s) rather than for a fixed time.
WANT="${SYNC}OUTCOME_DENIED OUTCOME_WOULD_DENY OUTCOME_DENIED OUTCOME_DENIED "
w=0; while [ "$(outcomes)" != "$WANT" ] && [ $w -lt 300 ]; do sleep 0.1; w=$((w + 1)); done
stop_vigild
wait $STREAM
cat /tmp/stream.txt
expect "streamed: denied (connecting), denied, would-deny, denied, denied" "$(outcomes)" "$WANT"
finish
