# Sigkill kills the caller (and the open never succeeds); in monitor mode the
# caller lives and the event says it would have been killed.
. /add/cases/lib.sh
echo x >/tmp/tripwire
start_vigild --policy $POL/kill-open.yaml
expect "open of tripwire" "$($TRY open /tmp/tripwire)" "signal=KILL"
expect "other file" "$($TRY open /etc/passwd)" "ok"
stop_vigild
expect_event "kill" '"policy_name":"test-kill-open"' '"path":"/tmp/tripwire"' \
	'"action":"ACTION_SIGKILL"' '"outcome":"OUTCOME_KILLED"' "\"mechanism\":\"$MECH\""
start_vigild --audit --policy $POL/kill-open.yaml
expect "audit: caller lives" "$($TRY open /tmp/tripwire)" "ok"
stop_vigild
expect_event "would kill" '"outcome":"OUTCOME_WOULD_KILL"' '"mode":"POLICY_MODE_MONITOR"'
finish
