# Process events and enrichment on a kernel that enforces: exec and exit events
# with binary, arguments, cwd and lineage; a policy event names the exec_id and
# parent of the process that triggered it, announced before it.
. /add/cases/lib.sh
mkdir -p /tmp/pe/work
cp /bin/busybox /tmp/pe/sh
echo secret >/etc/vigil-secret
start_vigild --policy $POL/deny-open.yaml
(cd /tmp/pe/work && /tmp/pe/sh -c "exec $TRY open /etc/vigil-secret" >/dev/null)
(cd /tmp/pe/work && /tmp/pe/sh -c 'exit 5')
stop_vigild
expect_event "exec of the shell" '"process_exec"' '"binary":"/tmp/pe/sh"' \
	"\"arguments\":\"-c 'exec /add/vigil-try open /etc/vigil-secret'\"" '"cwd":"/tmp/pe/work"' \
	'"flags":"execve"'
expect_event "exec of vigil-try" '"process_exec"' '"binary":"/add/vigil-try"' \
	'"arguments":"open /etc/vigil-secret"' '"parent":{' '"ancestors":['
expect_event "exit status 5" '"process_exit"' '"binary":"/tmp/pe/sh"' '"status":5'
# The denial names the forked child of vigil-try, its parent vigil-try.
line=$(grep '"process_lsm"' $EVENTS | head -1)
id=$(echo "$line" | sed -n 's/.*"process_lsm":{"process":{"exec_id":"\([^"]*\)".*/\1/p')
pid_line=$(grep -n "\"process_exec\":{\"process\":{\"exec_id\":\"$id\"" $EVENTS | head -1 | cut -d: -f1)
lsm_line=$(grep -n '"process_lsm"' $EVENTS | head -1 | cut -d: -f1)
if [ -n "$id" ] && [ -n "$pid_line" ] && [ "$pid_line" -lt "$lsm_line" ]; then
	echo "ok:   policy event's exec_id $id announced at line $pid_line before line $lsm_line"
else
	echo "FAIL: exec_id '$id' of the policy event not announced before it"; FAILS=$((FAILS + 1))
fi
expect_event "policy event with lineage" '"process_lsm"' '"flags":"clone"' \
	'"parent":{' '"binary":"/add/vigil-try"' '"outcome":"OUTCOME_DENIED"'
finish
