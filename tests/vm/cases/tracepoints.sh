# spec.tracepoints through the generic hook (tp_btf/sys_enter), spec.lists,
# InMap/NotInMap on syscall64, matchBinaries, and NotifyEnforcer with
# spec.enforcers on dup(2) in enforce and monitor mode. Whether the kernel
# lets the enforcer return the error (fmod_ret on __x64_sys_dup) or only
# signal (fentry) is read from vigild's degraded status and checked both ways.
. /add/cases/lib.sh
mkdir -p /tmp/bin
for b in tp-post tp-deny tp-kill tp-mon tp-other; do cp $TRY /tmp/bin/$b; done
cat >/tmp/tp.yaml <<EOF
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: test-tp}
spec:
  lists:
  - {name: dups, type: syscalls, values: [sys_dup]}
  - {name: pgid, type: syscalls, values: [sys_getpgid, __ia32_sys_getpgid]}
  enforcers:
  - calls: ["list:dups"]
  tracepoints:
  - subsystem: raw_syscalls
    event: sys_enter
    message: "watched system call"
    args:
    - {index: 4, type: syscall64, label: id}
    - {index: 3, type: int, label: tid}
    selectors:
    - matchBinaries: [{operator: In, values: [/tmp/bin/tp-deny]}]
      matchArgs: [{index: 0, operator: InMap, values: ["list:dups"]}]
      matchActions: [{action: NotifyEnforcer, argError: -1}]
    - matchBinaries: [{operator: In, values: [/tmp/bin/tp-kill]}]
      matchArgs: [{index: 0, operator: InMap, values: ["list:dups"]}]
      matchActions: [{action: NotifyEnforcer, argSig: 9}]
    - matchBinaries: [{operator: In, values: [/tmp/bin/tp-post]}]
      matchArgs:
      - {index: 0, operator: InMap, values: ["list:pgid"]}
      - {index: 0, operator: NotInMap, values: ["list:dups", "2"]}
EOF
cat >/tmp/tp-mon.yaml <<EOF
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: test-tp-monitor}
spec:
  options: [{name: policy-mode, value: monitor}]
  lists: [{name: dups, type: syscalls, values: [sys_dup]}]
  enforcers: [{calls: ["list:dups"]}]
  tracepoints:
  - subsystem: raw_syscalls
    event: sys_enter
    args: [{index: 4, type: syscall64, label: id}, {index: 3, type: int, label: tid}]
    selectors:
    - matchBinaries: [{operator: In, values: [/tmp/bin/tp-mon]}]
      matchArgs: [{index: 0, operator: InMap, values: ["list:dups"]}]
      matchActions: [{action: NotifyEnforcer, argError: -1, argSig: 9}]
EOF
start_vigild --policy /tmp/tp.yaml --policy /tmp/tp-mon.yaml
if grep -q 'argError is not enforced' "$VLOG"; then DENY=0; else DENY=1; fi
echo "enforcer: $(grep -o 'attached [a-z_]*/__x64_sys_dup' "$VLOG"), argError enforced: $DENY"
if [ $DENY = 1 ]; then
	expect "NotifyEnforcer argError: dup denied" "$(/tmp/bin/tp-deny dup 2)" "errno=EPERM"
else
	expect "NotifyEnforcer argError: not enforceable here, dup runs" "$(/tmp/bin/tp-deny dup 2)" "ok"
fi
expect "NotifyEnforcer argSig 9: killed at dup" "$(/tmp/bin/tp-kill dup 2)" "signal=KILL"
expect "NotifyEnforcer argSig 9: other syscalls untouched" "$(/tmp/bin/tp-kill getpgid 0)" "ok"
expect "Post: getpgid" "$(/tmp/bin/tp-post getpgid 4321)" "ok"
expect "monitor: dup not killed" "$(/tmp/bin/tp-mon dup 2)" "ok"
expect "other binary: dup untouched" "$(/tmp/bin/tp-other dup 2)" "ok"
# The note is consumed at dup: the next dup of the same (new) process is fine.
expect "plain dup after all" "$(/tmp/bin/tp-post dup 2)" "ok"
stop_vigild

if [ $DENY = 1 ]; then
	expect_event "NotifyEnforcer deny" '"process_tracepoint"' '"subsys":"raw_syscalls"' '"event":"sys_enter"' \
		'"binary":"/tmp/bin/tp-deny"' '"label":"id","syscall_id":{"id":32,"abi":"x64"}' \
		'"action":"ACTION_NOTIFY_ENFORCER"' '"outcome":"OUTCOME_DENIED"' '"return_errno":-1' \
		'"mechanism":"tp_btf"' '"message":"watched system call"'
else
	expect_event "NotifyEnforcer deny, degraded" '"process_tracepoint"' '"binary":"/tmp/bin/tp-deny"' \
		'"action":"ACTION_NOTIFY_ENFORCER"' '"outcome":"OUTCOME_POSTED"'
	expect_event "enforcer degraded status" '"status"' '"KIND_DEGRADED"' '"subject":"enforcer"' \
		'argError is not enforced'
fi
expect_event "NotifyEnforcer kill" '"process_tracepoint"' '"binary":"/tmp/bin/tp-kill"' \
	'"syscall_id":{"id":32,"abi":"x64"}' '"outcome":"OUTCOME_KILLED"' '"signal":9'
expect_event "Post with args" '"process_tracepoint"' '"binary":"/tmp/bin/tp-post"' \
	'"label":"id","syscall_id":{"id":121,"abi":"x64"}' '"label":"tid","int_arg":"' \
	'"action":"ACTION_POST"' '"outcome":"OUTCOME_POSTED"'
expect_event "monitor would kill" '"policy_name":"test-tp-monitor"' '"binary":"/tmp/bin/tp-mon"' \
	'"outcome":"OUTCOME_WOULD_KILL"' '"mode":"POLICY_MODE_MONITOR"'
expect "no tracepoint event for another binary" \
	"$(grep '"process_tracepoint"' $EVENTS | grep -c '"binary":"/tmp/bin/tp-other"')" "0"
expect "one event for tp-kill (getpgid not matched)" \
	"$(grep '"process_tracepoint"' $EVENTS | grep -c '"binary":"/tmp/bin/tp-kill"')" "1"
expect "Post: only getpgid for tp-post" \
	"$(grep '"process_tracepoint"' $EVENTS | grep '"binary":"/tmp/bin/tp-post"' | grep -vc '"id":121')" "0"
finish
