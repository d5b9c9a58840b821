# What the README's run command does, in a kernel that enforces: vigild with
# no policy options loads /etc/vigil/policies.d in audit mode and reports.
. /add/cases/lib.sh
mkdir -p /tmp/dl
cp /bin/busybox /tmp/dl/true
[ -f /etc/shadow ] || echo "root:*:19000:0:99999:7:::" >/etc/shadow
start_vigild --audit
grep -q 'ready: 2 policies' $VLOG || { echo "FAIL: shipped policies not both loaded"; cat $VLOG; FAILS=$((FAILS + 1)); }
expect "audit: exec from /tmp allowed" "$($TRY exec /tmp/dl/true)" "ok"
expect "audit: /etc/shadow opens" "$($TRY open /etc/shadow)" "ok"
stop_vigild
expect_event "exec from /tmp" '"policy_name":"exec-from-writable-dirs"' \
	'"path":"/tmp/dl/true"' '"outcome":"OUTCOME_WOULD_DENY"'
expect_event "shadow read" '"policy_name":"sensitive-files"' '"path":"/etc/shadow"' \
	'"outcome":"OUTCOME_POSTED"'
finish
