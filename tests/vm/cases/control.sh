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
sleep 0.5
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
sleep 0.5
stop_vigild
wait $STREAM
cat /tmp/stream.txt
expect "streamed: denied, would-deny, denied, denied" \
	"$(grep -o 'OUTCOME_[A-Z_]*' /tmp/stream.txt | tr '\n' ' ')" \
	"OUTCOME_DENIED OUTCOME_WOULD_DENY OUTCOME_DENIED OUTCOME_DENIED "
finish
