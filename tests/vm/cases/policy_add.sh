# vigilctl policy add / delete: each a transaction like reload (compiled into
# the other half of the tables, switched hook by hook). An added policy
# enforces at once; a broken file is refused with FILE:LINE:COL and nothing
# changes; a duplicate name is refused unless --replace; delete allows again
# at once; an added policy lasts until the next reload unless --persist put it
# in the policy directory. /metrics shows BPF run time and count per program.
. /add/cases/lib.sh
SOCK=/run/vigil/control.sock
CTL="vigilctl --socket $SOCK"
mkdir -p /tmp/denied /tmp/pd
cp /bin/busybox /tmp/denied/true
echo secret >/etc/vigil-secret
cp $POL/deny-exec.yaml /tmp/pd/exec.yaml
start_vigild --control-socket $SOCK --policy-dir /tmp/pd --metrics-listen 127.0.0.1:9464
names() { $CTL policy list | cut -f1 | tr '\n' ' '; }
expect "exec denied (policy dir)" "$($TRY exec /tmp/denied/true)" "errno=EPERM"
expect "open allowed before add" "$($TRY open /etc/vigil-secret)" "ok"

$CTL policy add $POL/deny-open.yaml >/tmp/out.txt 2>&1; rc=$?
cat /tmp/out.txt
expect "add succeeds" "$rc" "0"
expect "open denied right after add" "$($TRY open /etc/vigil-secret)" "errno=EACCES"
expect "exec still denied" "$($TRY exec /tmp/denied/true)" "errno=EPERM"
expect "list after add" "$(names)" "test-deny-exec test-deny-open "
expect "added policy names its file" "$($CTL policy list | grep test-deny-open | cut -f4)" "$POL/deny-open.yaml"

# A broken file: FILE:LINE:COL, and the running set is untouched.
printf 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: [oops\n' >/tmp/broken.yaml
$CTL policy add /tmp/broken.yaml 2>/tmp/err.txt; rc=$?
cat /tmp/err.txt
expect "broken add fails" "$rc" "1"
grep -q '^vigilctl: /tmp/broken.yaml:[0-9]*:[0-9]*: ' /tmp/err.txt && echo "ok:   error names FILE:LINE:COL" || { echo "FAIL: no FILE:LINE:COL"; FAILS=$((FAILS + 1)); }
expect "list after broken add" "$(names)" "test-deny-exec test-deny-open "
expect "open still denied" "$($TRY open /etc/vigil-secret)" "errno=EACCES"

# The same name again: refused, unless --replace.
$CTL policy add $POL/deny-open.yaml 2>/tmp/err.txt; rc=$?
expect "duplicate refused" "$rc $(grep -c 'already loaded' /tmp/err.txt)" "1 1"
sed 's/argError: -13/argError: -1/' $POL/deny-open.yaml >/tmp/deny-open-eperm.yaml
$CTL policy add --replace /tmp/deny-open-eperm.yaml; rc=$?
expect "--replace succeeds" "$rc" "0"
expect "replaced policy in force" "$($TRY open /etc/vigil-secret)" "errno=EPERM"
expect "list after replace" "$(names)" "test-deny-exec test-deny-open "

# Run-time changes of the policies that stay survive an add or delete.
$CTL policy disable test-deny-exec
$CTL policy delete test-deny-open; rc=$?
expect "delete succeeds" "$rc" "0"
expect "open allowed right after delete" "$($TRY open /etc/vigil-secret)" "ok"
expect "disabled policy stays disabled" "$($CTL policy list | cut -f1,3)" "$(printf 'test-deny-exec\tdisabled')"
expect "and its exec allowed" "$($TRY exec /tmp/denied/true)" "ok"
$CTL policy enable test-deny-exec
$CTL policy delete test-deny-open 2>/tmp/err.txt; rc=$?
expect "deleting an unknown policy" "$rc $(cat /tmp/err.txt)" "1 vigilctl: no loaded policy named test-deny-open"

# Without --persist an added policy lasts until the next reload; with it the
# file goes into the policy directory and a reload keeps it.
$CTL policy add $POL/deny-open.yaml >/dev/null
$CTL reload >/dev/null
expect "reload drops the runtime-added policy" "$(names)" "test-deny-exec "
expect "open allowed after reload" "$($TRY open /etc/vigil-secret)" "ok"
$CTL policy add --persist $POL/deny-open.yaml; rc=$?
expect "add --persist" "$rc $(cmp -s $POL/deny-open.yaml /tmp/pd/deny-open.yaml && echo same)" "0 same"
$CTL reload >/dev/null
# (a reload reads the directory in name order: deny-open.yaml, exec.yaml)
expect "reload keeps the persisted policy" "$(names)" "test-deny-open test-deny-exec "
expect "and it enforces" "$($TRY open /etc/vigil-secret)" "errno=EACCES"

# BPF run-time stats per program: non-zero after the operations above.
for i in 1 2 3 4 5; do $TRY open /etc/passwd >/dev/null; $TRY exec /bin/true >/dev/null; done
sleep 1.5
wget -q -O /tmp/m.txt http://127.0.0.1:9464/metrics; rc=$?
expect "metrics scraped" "$rc" "0"
grep '^vigil_bpf' /tmp/m.txt
expect "bpf stats on" "$(sed -n 's/^vigil_bpf_stats_enabled \(.*\)$/\1/p' /tmp/m.txt)" "1"
if [ $MECH = bpf_lsm ]; then OPEN=lsm/file_open EXEC=lsm/bprm_check_security
else OPEN=fmod_ret/security_file_open EXEC=fmod_ret/security_bprm_check; fi
for prog in $OPEN $EXEC tp_btf/sched_process_exec; do
	cnt=$(sed -n "s|^vigil_bpf_run_count_total{program=\"$prog\"} \(.*\)$|\1|p" /tmp/m.txt)
	tim=$(sed -n "s|^vigil_bpf_run_time_seconds_total{program=\"$prog\"} \(.*\)$|\1|p" /tmp/m.txt)
	[ -n "$cnt" ] && [ "$cnt" -ge 5 ] && echo "ok:   $prog ran $cnt times" || { echo "FAIL: $prog run count '$cnt'"; FAILS=$((FAILS + 1)); }
	awk -v t="${tim:-0}" 'BEGIN { exit !(t > 0) }' && echo "ok:   $prog ran for ${tim}s" || { echo "FAIL: $prog run time '$tim'"; FAILS=$((FAILS + 1)); }
done
stop_vigild
expect_event "added policy loaded" '"kind":"KIND_POLICY_LOADED"' '"subject":"test-deny-open"'
expect_event "add failure reported" '"kind":"KIND_POLICY_FAILED"' '"subject":"policy add"' '/tmp/broken.yaml:'
expect_event "added policy's denial named" '"policy_name":"test-deny-open"' '"outcome":"OUTCOME_DENIED"'
finish
