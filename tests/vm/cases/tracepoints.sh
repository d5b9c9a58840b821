# spec.tracepoints through the generic hook (tp_btf/sys_enter), spec.lists,
# InMap/NotInMap on syscall64, matchBinaries, and NotifyEnforcer with
# spec.enforcers on dup(2) in enforce and monitor mode. Whether the kernel
# lets the enforcer return the error (fmod_ret on __x64_sys_dup) or only
# signal (fentry) is read from vigild's degraded status and checked both ways.
# Then syscalls/sys_enter_NAME and sys_exit_NAME (raw_syscalls programs with a
# system call number filter, arguments from pt_regs) and the sched, signal,
# task and module tracepoints with their format-file fields (tp-sc.yaml).
. /add/cases/lib.sh
mkdir -p /tmp/bin
for b in tp-post tp-deny tp-kill tp-mon tp-other tp-sc tp-sckill tp-scnote tp-scmon tp-ren; do
	cp $TRY /tmp/bin/$b
done
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
  - subsystem: syscalls
    event: sys_enter_dup
    args: [{index: 5, type: int, label: fildes}]
    selectors:
    - matchBinaries: [{operator: In, values: [/tmp/bin/tp-scmon]}]
      matchActions: [{action: Sigkill}]
EOF
cp /add/cases/tracepoints-syscalls.yaml /tmp/tp-sc.yaml
start_vigild --policy /tmp/tp.yaml --policy /tmp/tp-mon.yaml --policy /tmp/tp-sc.yaml
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
expect "sys_enter_getpgid: matching pid" "$(/tmp/bin/tp-sc getpgid 4242)" "ok"
expect "sys_enter_getpgid: other pid" "$(/tmp/bin/tp-sc getpgid 4243)" "ok"
expect "sys_enter_getpgid: dup is another system call" "$(/tmp/bin/tp-sc dup 2)" "ok"
expect "sys_enter_dup Sigkill: killed" "$(/tmp/bin/tp-sckill dup 2)" "signal=KILL"
expect "sys_enter_dup Sigkill: getpgid untouched" "$(/tmp/bin/tp-sckill getpgid 0)" "ok"
expect "sys_enter_dup NotifyEnforcer argSig 9: killed" "$(/tmp/bin/tp-scnote dup 2)" "signal=KILL"
expect "sys_enter_dup Sigkill in monitor mode: not killed" "$(/tmp/bin/tp-scmon dup 2)" "ok"
expect "signal_generate: kill 10" "$(/tmp/bin/tp-sc kill 10)" "ok"
expect "task_rename at exec" "$(/tmp/bin/tp-ren getpgid 0)" "ok"
sleep 1
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
expect "sys_enter_getpgid: one event, for pid 4242 only" \
	"$(grep '"event":"sys_enter_getpgid"' $EVENTS | grep -c '"binary":"/tmp/bin/tp-sc"')" "1"
expect_event "sys_enter_getpgid with its argument" '"subsys":"syscalls"' '"event":"sys_enter_getpgid"' \
	'"binary":"/tmp/bin/tp-sc"' '"label":"pid","int_arg":"4242"' \
	'"label":"nr","syscall_id":{"id":121,"abi":"x64"}' '"outcome":"OUTCOME_POSTED"'
expect_event "sys_exit_getpgid ret -ESRCH" '"event":"sys_exit_getpgid"' '"binary":"/tmp/bin/tp-sc"' \
	'"label":"ret","int_arg":"-3"'
expect "sys_exit_getpgid: the two getpgid calls of tp-sc, no other call" \
	"$(grep -c '"event":"sys_exit_getpgid"' $EVENTS)" "2"
expect_event "sys_enter_dup Sigkill" '"event":"sys_enter_dup"' '"binary":"/tmp/bin/tp-sckill"' \
	'"label":"fildes","int_arg":"2"' '"action":"ACTION_SIGKILL"' '"outcome":"OUTCOME_KILLED"'
expect_event "sys_enter_dup NotifyEnforcer" '"event":"sys_enter_dup"' '"binary":"/tmp/bin/tp-scnote"' \
	'"action":"ACTION_NOTIFY_ENFORCER"' '"outcome":"OUTCOME_KILLED"'
expect_event "sys_enter_dup monitor" '"event":"sys_enter_dup"' '"binary":"/tmp/bin/tp-scmon"' \
	'"outcome":"OUTCOME_WOULD_KILL"' '"mode":"POLICY_MODE_MONITOR"'
expect "sys_enter_dup: no event for tp-sckill's getpgid" \
	"$(grep '"process_tracepoint"' $EVENTS | grep '"binary":"/tmp/bin/tp-sckill"' | grep -Evc '"event":"(sys_enter_dup|signal_generate)"')" "0"
expect "no malformed record (signal_generate inside a Sigkill has its own scratch)" \
	"$(grep -c 'dropping malformed' $VLOG)" "0"
expect_event "sched_process_exec" '"subsys":"sched"' '"event":"sched_process_exec"' \
	'"label":"filename","string_arg":"/tmp/bin/tp-sc"' '"label":"pid","int_arg":"'
expect "sched_process_exec: one event for each of the 4 execs of tp-sc" \
	"$(grep -c '"event":"sched_process_exec"' $EVENTS)" "4"
expect_event "sched_process_exit" '"event":"sched_process_exit"' '"binary":"/tmp/bin/tp-sc"' \
	'"label":"comm","string_arg":"tp-sc"'
expect_event "signal_generate" '"subsys":"signal"' '"event":"signal_generate"' '"binary":"/tmp/bin/tp-sc"' \
	'"label":"sig","int_arg":"10"' '"label":"comm","string_arg":"tp-sc"' '"label":"result","int_arg":"0"' \
	'"label":"code","int_arg":"0"'
expect_event "signal_generate inside Sigkill's bpf_send_signal" '"event":"signal_generate"' \
	'"binary":"/tmp/bin/tp-sckill"' '"label":"sig","int_arg":"9"' '"label":"comm","string_arg":"tp-sckill"' \
	'"label":"code","int_arg":"128"'
expect "signal_generate: no other SIGKILL matched (tp-sc's child, tp-scnote)" \
	"$(grep '"event":"signal_generate"' $EVENTS | grep '"label":"sig","int_arg":"9"' | grep -vc '"binary":"/tmp/bin/tp-sckill"')" "0"
expect_event "task_rename" '"subsys":"task"' '"event":"task_rename"' \
	'"label":"newcomm","string_arg":"tp-ren"'
# The guest has no module to load, so module_load cannot fire here: what is
# checked is that its program was attached to the kernel's real tracepoint (a
# policy that silently dropped it would fail) and that nothing was posted.
expect "module_load: the kernel has the tracepoint" \
	"$([ -d /sys/kernel/tracing/events/module/module_load ] && echo yes)" "yes"
expect "module_load: its program attached" \
	"$(grep -c 'attached .* for tracepoint/module/module_load ' $VLOG)" "1"
expect "module_load: no module loaded, no event" "$(grep -c '"event":"module_load"' $EVENTS)" "0"
finish
