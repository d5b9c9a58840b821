# Monitor mode, both ways: the policy's own policy-mode and the daemon-wide
# --audit switch. Nothing is denied; events say what would have happened.
. /add/cases/lib.sh
mkdir -p /tmp/denied
cp /bin/busybox /tmp/denied/true
start_vigild --policy $POL/monitor-exec.yaml
expect "monitor policy: exec allowed" "$($TRY exec /tmp/denied/true)" "ok"
stop_vigild
expect_event "would deny (policy-mode)" '"policy_name":"test-monitor-exec"' \
	'"path":"/tmp/denied/true"' '"outcome":"OUTCOME_WOULD_DENY"' '"mode":"POLICY_MODE_MONITOR"'
expect_no_event "with an errno in monitor mode" '"return_errno"'

start_vigild --audit --policy $POL/deny-exec.yaml
expect "--audit: exec allowed" "$($TRY exec /tmp/denied/true)" "ok"
stop_vigild
expect_event "would deny (--audit)" '"policy_name":"test-deny-exec"' \
	'"outcome":"OUTCOME_WOULD_DENY"' '"mode":"POLICY_MODE_MONITOR"'
expect_no_event "denied" 'OUTCOME_DENIED'

# After vigild stops, nothing is left attached: the exec works again.
start_vigild --policy $POL/deny-exec.yaml
expect "enforced again" "$($TRY exec /tmp/denied/true)" "errno=EPERM"
stop_vigild
expect "after stop: allowed" "$($TRY exec /tmp/denied/true)" "ok"
finish
