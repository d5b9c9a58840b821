# SIGHUP reloads policies as one transaction: while reloads swap the rules a
# denied exec never gets through; a broken file leaves the running policy in
# force and is reported with FILE:LINE:COL; a valid change takes effect.
. /add/cases/lib.sh
mkdir -p /tmp/denied /tmp/pd
cp /bin/busybox /tmp/denied/true
cp $POL/deny-exec.yaml /tmp/pd/p.yaml
# The same policy with one more value: each reload really swaps the tables.
sed 's|        - "/tmp/denied/true"|        - "/tmp/denied/true"\n        - "/tmp/denied/other"|' $POL/deny-exec.yaml >/tmp/variant.yaml
start_vigild --policy-dir /tmp/pd
expect "denied before reloads" "$($TRY exec /tmp/denied/true)" "errno=EPERM"

# 10 reloads while a loop keeps trying the denied exec.
(i=0; while [ $i -lt 400 ]; do $TRY exec /tmp/denied/true; i=$((i + 1)); done) >/tmp/attempts &
LOOP=$!
n=0
while [ $n -lt 10 ]; do
	if [ $((n % 2)) -eq 0 ]; then cp /tmp/variant.yaml /tmp/pd/p.yaml; else cp $POL/deny-exec.yaml /tmp/pd/p.yaml; fi
	kill -HUP "$VPID"; n=$((n + 1))
	# One reload at a time: signals sent while one runs would coalesce.
	w=0
	while [ "$(grep -c 'reload: 1 policies \[test-deny-exec\] in force' $VLOG)" -lt $n ] && [ $w -lt 200 ]; do
		sleep 0.05; w=$((w + 1))
	done
done
wait $LOOP
expect "attempts during reloads" "$(wc -l </tmp/attempts | tr -d ' ')" "400"
expect "none got through" "$(grep -vc '^errno=EPERM$' /tmp/attempts)" "0"
expect "reloads applied" "$(grep -c 'reload: 1 policies \[test-deny-exec\] in force' $VLOG)" "10"

# A broken file: the running policy stays.
# wait_log PATTERN COUNT: until vigild's log has COUNT lines matching PATTERN
# (grep -E), up to 60 s; a reload is acted on when its outcome is logged.
wait_log() {
	w=0
	while [ "$(grep -Ec "$1" $VLOG)" -lt "$2" ] && [ $w -lt 600 ]; do sleep 0.1; w=$((w + 1)); done
	[ "$(grep -Ec "$1" $VLOG)" -ge "$2" ] || { echo "FAIL: vigild did not log '$1' within 60 s"; FAILS=$((FAILS + 1)); }
}
printf 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: [oops\n' >/tmp/pd/p.yaml
kill -HUP "$VPID"
wait_log 'reload failed: the running policies and rules stay' 1
expect "still denied after a broken reload" "$($TRY exec /tmp/denied/true)" "errno=EPERM"
grep -q '/tmp/pd/p.yaml:[0-9]*:[0-9]*: ' $VLOG && echo "ok:   error names FILE:LINE:COL" || { echo "FAIL: no FILE:LINE:COL"; FAILS=$((FAILS + 1)); }

# A valid change: monitor mode.
cp $POL/monitor-exec.yaml /tmp/pd/p.yaml
kill -HUP "$VPID"
wait_log 'reload: 1 policies \[test-monitor-exec\] in force' 1
expect "allowed after switching to monitor" "$($TRY exec /tmp/denied/true)" "ok"
stop_vigild
expect_event "reload failure reported" '"status":{"kind":"KIND_POLICY_FAILED"' '"subject":"reload"' '/tmp/pd/p.yaml:'
expect_event "new policy loaded" '"status":{"kind":"KIND_POLICY_LOADED"' '"subject":"test-monitor-exec"'
expect_event "would deny after reload" '"policy_name":"test-monitor-exec"' '"outcome":"OUTCOME_WOULD_DENY"'
finish
