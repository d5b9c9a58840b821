# Exec denial in enforce mode: by path, through a symlink and a relative path;
# an unrelated binary still runs; the event says who, what and what happened.
. /add/cases/lib.sh
mkdir -p /tmp/denied /tmp/allowed
cp /bin/busybox /tmp/denied/true
cp /bin/busybox /tmp/allowed/true
ln -s /tmp/denied/true /tmp/link-to-denied
start_vigild --policy $POL/deny-exec.yaml
expect "exec denied path" "$($TRY exec /tmp/denied/true)" "errno=EPERM"
expect "exec via symlink" "$($TRY exec /tmp/link-to-denied)" "errno=EPERM"
expect "exec via relative path" "$(cd /tmp/denied && $TRY exec ./true)" "errno=EPERM"
expect "exec via ../ path" "$(cd /tmp/allowed && $TRY exec ../denied/true)" "errno=EPERM"
expect "unrelated exec" "$($TRY exec /tmp/allowed/true)" "ok"
stop_vigild
expect_event "denied exec" '"process_lsm"' '"policy_name":"test-deny-exec"' \
	'"hook":"bprm_check_security"' '"path":"/tmp/denied/true"' '"outcome":"OUTCOME_DENIED"' \
	'"action":"ACTION_OVERRIDE"' '"mode":"POLICY_MODE_ENFORCE"' '"return_errno":1' \
	'"binary":"/add/vigil-try"' '"node_name"' '"time"' "\"mechanism\":\"$MECH\""
expect_no_event "for the allowed binary" '"path":"/tmp/allowed/true"'
n=$(grep -c OUTCOME_DENIED $EVENTS)
expect "denied-exec events" "$n" "4"
finish
