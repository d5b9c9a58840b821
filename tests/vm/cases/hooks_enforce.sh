# Generic hooks: LSM hooks beyond file_open/bprm_check and kprobes, with
# string, path, integer and socket operators, every action, and a monitor-mode
# policy on the same hooks at the same time. Each check is a real operation.
# Then every operation again under vigild --audit: every operator and action
# in monitor mode (nothing refused, WOULD_* events instead).
. /add/cases/lib.sh
mkdir -p /tmp/ro /tmp/bin /srv /tmp/nodirs
echo data >/tmp/ro/file
touch /tmp/a.lock /tmp/a.txt
cp $TRY /tmp/bin/vt
# Task filters: matchPIDs needs this shell's pid, so the policy is written here.
cat >/tmp/task.yaml <<EOF
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: test-task-filters}
spec:
  kprobes:
  - call: sys_getpgid
    syscall: true
    args: [{index: 0, type: int}]
    selectors:
    - matchArgs: [{index: 0, operator: Equal, values: ["4250"]}]
      matchCapabilities: [{type: Effective, operator: In, values: [CAP_SYS_ADMIN, CAP_BPF]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4251"]}]
      matchCapabilities: [{type: Effective, operator: NotIn, values: [CAP_SYS_ADMIN]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4252"]}]
      matchPIDs: [{operator: In, followForks: true, values: ["$$"]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4253"]}]
      matchPIDs: [{operator: In, values: ["$$"]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4254"]}]
      matchNamespaces: [{namespace: Mnt, operator: In, values: [host_ns]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4255"]}]
      matchNamespaces: [{namespace: Mnt, operator: NotIn, values: [host_ns]}]
      matchActions: [{action: Signal, argSig: 10}]
EOF
# op DESC WANT CMD [natural]: one real operation. Enforce pass: CMD's output
# must be WANT. Audit pass (vigild --audit: every policy as if in monitor
# mode): nothing may be signalled or killed, and an operation Vigil refused
# (WANT not ok) must not be refused the same way; "natural": WANT is the
# kernel's own answer (routing), the same in both passes.
MODE=enforce
op() {
	got=$(eval "$3")
	if [ "$MODE" = enforce ]; then
		expect "$1" "$got" "$2"
		return
	fi
	case "$got" in
	signal=*) echo "FAIL: audit: $1 -> $got"; FAILS=$((FAILS + 1)); return ;;
	esac
	if [ "$2" != ok ] && [ "${4:-}" != natural ] && [ "$got" = "$2" ]; then
		echo "FAIL: audit: $1 -> still $got"; FAILS=$((FAILS + 1)); return
	fi
	echo "ok:   audit: $1 -> $got"
}
run_ops() {
	# path_mkdir: Equal on the parent path, NotPrefix on it.
	op "mkdir: Equal parent" "errno=EPERM" '$TRY mkdir /tmp/nodirs/sub'
	op "mkdir: allowed under /tmp" "ok" '$TRY mkdir /tmp/fine'
	op "mkdir: NotPrefix outside the list" "errno=EACCES" '$TRY mkdir /srv/new'
	op "mkdir: relative, outside the list" "errno=EACCES" 'cd /srv && $TRY mkdir rel'
	# path_unlink: Postfix on the dentry.
	op "unlink: Postfix .lock" "errno=EBUSY" '$TRY unlink /tmp/a.lock'
	op "unlink: other file" "ok" '$TRY unlink /tmp/a.txt'
	# socket_connect: DAddr (CIDR and single address) AND DPort; Family AND NotDAddr.
	op "connect: 10/8 port 80" "errno=ECONNREFUSED" '$TRY connect udp 10.1.2.3 80'
	op "connect: exact address port 443" "errno=ECONNREFUSED" '$TRY connect udp 192.168.7.7 443'
	op "connect: 10/8 other port (routing decides)" "errno=ENETUNREACH" '$TRY connect udp 10.1.2.3 81' natural
	op "connect: outside the prefix" "errno=ENETUNREACH" '$TRY connect udp 11.1.2.3 80' natural
	op "connect: loopback" "ok" '$TRY connect udp 127.0.0.1 80'
	op "connect: IPv6 not ::1" "errno=EPERM" '$TRY connect udp ::2 53'
	op "connect: IPv6 ::1" "ok" '$TRY connect udp ::1 53'
	# socket_bind: SPortPriv AND SAddr.
	op "bind: privileged port on loopback" "errno=EACCES" '$TRY bind udp 127.0.0.1 80'
	op "bind: unprivileged port" "ok" '$TRY bind udp 127.0.0.1 8080'
	# SPort AND NotSAddr; SAddr AND NotSPort AND NotSPortPriv.
	op "bind: port 9001 on any address" "errno=EADDRINUSE" '$TRY bind udp 0.0.0.0 9001'
	op "bind: port 9001 on loopback" "ok" '$TRY bind udp 127.0.0.1 9001'
	op "bind: 127.0.0.2 port 9004" "errno=EADDRNOTAVAIL" '$TRY bind udp 127.0.0.2 9004'
	op "bind: 127.0.0.2 port 9002 (NotSPort)" "ok" '$TRY bind udp 127.0.0.2 9002'
	op "bind: 127.0.0.2 port 81 (privileged: the first selector)" "errno=EACCES" '$TRY bind udp 127.0.0.2 81'
	# DAddr AND DPortPriv; DAddr AND NotDPort AND NotDPortPriv; monitor: DAddr AND DPort.
	op "connect: 127.0.0.3 privileged port" "errno=EHOSTUNREACH" '$TRY connect udp 127.0.0.3 22'
	op "connect: 127.0.0.3 port 2222" "ok" '$TRY connect udp 127.0.0.3 2222'
	op "connect: 127.0.0.4 port 5353" "errno=ETIMEDOUT" '$TRY connect udp 127.0.0.4 5353'
	op "connect: 127.0.0.4 port 53 (NotDPort)" "ok" '$TRY connect udp 127.0.0.4 53'
	op "connect: 127.0.0.4 port 22 (NotDPortPriv)" "ok" '$TRY connect udp 127.0.0.4 22'
	op "connect: 127.0.0.5 port 7 (monitor)" "ok" '$TRY connect udp 127.0.0.5 7'
	# socket_create: Equal AND InRange, GT, LT; matchBinaries Prefix.
	op "socket: raw protocol in range" "errno=EPERM" '$TRY socket 2 3 255'
	op "socket: raw protocol out of range" "ok" '$TRY socket 2 3 1'
	op "socket: family GT 40" "errno=EPERM" '$TRY socket 44 2 0'
	op "socket: family LT 1" "errno=EPERM" '$TRY socket 0 2 0'
	op "socket: AF_INET6 from /tmp/bin/" "errno=EPERM" '/tmp/bin/vt socket 10 2 0'
	op "socket: AF_INET6 from elsewhere" "ok" '$TRY socket 10 2 0'
	# task_kill: Equal and NotInRange on the signal.
	op "kill: SIGUSR2" "errno=EPERM" '$TRY kill 12'
	op "kill: real-time signal" "errno=EPERM" '$TRY kill 34'
	op "kill: SIGTERM" "ok" '$TRY kill 15'
	# file_permission: Prefix AND Mask (MAY_WRITE): reads pass, writes are refused.
	op "write under /tmp/ro" "errno=EROFS" '$TRY write /tmp/ro/file'
	op "read under /tmp/ro" "ok" '$TRY open /tmp/ro/file'
	op "write elsewhere" "ok" '$TRY write /tmp/rw-file'
	# kprobe on a system call (fentry): Signal, Sigkill, NoPost, Post.
	op "getpgid 4242: Signal USR1" "signal=USR1" '$TRY getpgid 4242'
	op "getpgid 4243: Sigkill" "signal=KILL" '$TRY getpgid 4243'
	op "getpgid 4244: NoPost" "ok" '$TRY getpgid 4244'
	op "getpgid 4245: Post" "ok" '$TRY getpgid 4245'
	op "getpgid 4246: excluded by NotEqual" "ok" '$TRY getpgid 4246'
	# rateLimit (global scope): three identical calls post one event; other
	# arguments are another event.
	for i in 1 2 3; do $TRY getpgid 4260 >/dev/null; done
	$TRY getpgid 4261 >/dev/null
	# Return probe (fexit): matchArgs AND matchReturnArgs on the returned value.
	op "getpgid 4247 returns -ESRCH: Sigkill after the call" "signal=KILL" '$TRY getpgid 4247'
	op "getpgid 0 returns a pgid: Post" "ok" '$TRY getpgid 0'
	# matchCapabilities, matchPIDs (followForks), matchNamespaces (host_ns).
	op "caps: root holds CAP_SYS_ADMIN (In)" "signal=USR1" '$TRY getpgid 4250'
	op "caps: NotIn CAP_SYS_ADMIN" "ok" '$TRY getpgid 4251'
	op "pids: a descendant of this shell, followForks" "signal=USR1" '$TRY getpgid 4252'
	op "pids: not this shell itself, no followForks" "ok" '$TRY getpgid 4253'
	op "namespaces: the host mount namespace (In host_ns)" "signal=USR1" '$TRY getpgid 4254'
	op "namespaces: NotIn host_ns from the host" "ok" '$TRY getpgid 4255'
	# The guest's busybox has unshare and the guest runs as root: not being
	# able to make a mount namespace is a failure, not a skip.
	if unshare -m true; then
		op "namespaces: NotIn host_ns from a new mount namespace" "signal=USR1" 'unshare -m $TRY getpgid 4255'
	else
		echo "FAIL: unshare -m does not work in this guest"; FAILS=$((FAILS + 1))
	fi
	# The monitor-mode policy: nothing happens, events say what would have.
	op "monitor: mkdir" "ok" '$TRY mkdir /tmp/watched'
	op "monitor: getpgid 5242 not signalled" "ok" '$TRY getpgid 5242'
	op "monitor: getpgid 5243 not killed" "ok" '$TRY getpgid 5243'
}
start_vigild --policy $POL/hooks.yaml --policy $POL/hooks-monitor.yaml --policy /tmp/task.yaml
run_ops
stop_vigild

expect_event "mkdir Equal" '"process_lsm"' '"hook":"path_mkdir"' '"policy_name":"test-hooks"' \
	'"path":"/tmp/nodirs/sub"' '"label":"parent","file_arg":"/tmp/nodirs"' '"label":"name","file_arg":"/tmp/nodirs/sub"' \
	'"outcome":"OUTCOME_DENIED"' '"return_errno":1' "\"mechanism\":\"$MECH\""
expect_event "mkdir NotPrefix" '"hook":"path_mkdir"' '"path":"/srv/new"' '"selector":1' '"return_errno":13'
expect_event "unlink dentry" '"hook":"path_unlink"' '"label":"entry","file_arg":"/tmp/a.lock"' \
	'"path":"/tmp/a.lock"' '"return_errno":16'
expect_event "connect" '"hook":"socket_connect"' '"label":"address","sock_arg":"inet 10.1.2.3:80"' \
	'"return_errno":111'
expect_event "connect IPv6" '"hook":"socket_connect"' '"sock_arg":"inet6 [::2]:53"' '"selector":1'
expect_event "connect DPortPriv" '"hook":"socket_connect"' '"sock_arg":"inet 127.0.0.3:22"' '"selector":2' \
	'"return_errno":113'
expect_event "connect NotDPort, NotDPortPriv" '"sock_arg":"inet 127.0.0.4:5353"' '"selector":3' '"return_errno":110'
expect_no_lsm_event "connect 127.0.0.4:53" '"sock_arg":"inet 127.0.0.4:53"'
expect_event "connect DPort (monitor)" '"policy_name":"test-hooks-monitor"' '"sock_arg":"inet 127.0.0.5:7"' \
	'"outcome":"OUTCOME_WOULD_DENY"'
expect_event "bind SPort, NotSAddr" '"hook":"socket_bind"' '"sock_arg":"inet 0.0.0.0:9001"' '"return_errno":98'
expect_event "bind NotSPort, NotSPortPriv" '"hook":"socket_bind"' '"sock_arg":"inet 127.0.0.2:9004"' \
	'"return_errno":99'
expect_event "socket_create ints" '"hook":"socket_create"' '"label":"family","int_arg":"2"' \
	'"label":"protocol","int_arg":"255"'
expect_event "task_kill" '"hook":"task_kill"' '"label":"sig","int_arg":"12"' '"label":"target","int_arg":"'
expect_event "file_permission" '"hook":"file_permission"' '"path":"/tmp/ro/file"' '"return_errno":30'
expect_event "kprobe Signal" '"process_kprobe"' '"function_name":"sys_getpgid"' \
	'"label":"pid","int_arg":"4242"' '"action":"ACTION_SIGNAL"' '"outcome":"OUTCOME_SIGNALED"' \
	'"signal":10' '"mechanism":"fentry"'
expect_event "kprobe Sigkill" '"function_name":"sys_getpgid"' '"int_arg":"4243"' '"outcome":"OUTCOME_KILLED"'
# kernelStackTrace: the system call's path through the kernel, named from
# kallsyms; userStackTrace: the caller's frame in its own binary.
expect_event "kernelStackTrace" '"int_arg":"4245"' '"kernel_stack_trace":[{"address":"' \
	'"symbol":"__x64_sys_getpgid"},{"address":"' '"symbol":"do_syscall_64"' \
	'"user_stack_trace":[{"offset":"' '"module":"/add/vigil-try","build_id":"'
expect_event "kprobe Post with message and tags" '"int_arg":"4245"' '"outcome":"OUTCOME_POSTED"' \
	'"message":"getpgid of a watched id"' '"tags":["test"]'
expect_event "return probe Sigkill" '"function_name":"sys_getpgid"' '"int_arg":"4247"' \
	'"mechanism":"fexit"' '"return":{"int_arg":"-3"}' '"outcome":"OUTCOME_KILLED"'
expect_event "return probe Post" '"mechanism":"fexit"' '"label":"pid","int_arg":"0"' '"return":{"int_arg":"'
expect_no_event "for NoPost" '"int_arg":"4244"'
expect "rateLimit: one event for three identical calls" \
	"$(grep '"process_kprobe"' $EVENTS | grep -c '"label":"pid","int_arg":"4260"')" "1"
expect "rateLimit: other arguments post their own event" \
	"$(grep '"process_kprobe"' $EVENTS | grep -c '"label":"pid","int_arg":"4261"')" "1"
expect_no_event "for a NotEqual exclusion" '"int_arg":"4246"'
expect_event "monitor mkdir" '"policy_name":"test-hooks-monitor"' '"path":"/tmp/watched"' \
	'"outcome":"OUTCOME_WOULD_DENY"' '"mode":"POLICY_MODE_MONITOR"'
expect_event "monitor Signal" '"policy_name":"test-hooks-monitor"' '"int_arg":"5242"' \
	'"outcome":"OUTCOME_WOULD_SIGNAL"'
expect_event "monitor Sigkill" '"policy_name":"test-hooks-monitor"' '"int_arg":"5243"' \
	'"outcome":"OUTCOME_WOULD_KILL"'
# The audit pass: every operation again under vigild --audit (every policy
# as if in monitor mode), from the same starting state. Nothing is refused,
# killed or signalled, and each hook posts, as WOULD_*, one event for each
# event the enforce pass posted as enforced or would-be.
cp "$EVENTS" /tmp/events-enforce.json
rmdir /tmp/fine /tmp/watched
touch /tmp/a.txt
MODE=audit
start_vigild --audit --policy $POL/hooks.yaml --policy $POL/hooks-monitor.yaml --policy /tmp/task.yaml
run_ops
stop_vigild
expect "audit: no event says denied, killed or signalled" \
	"$(grep -cE '"outcome":"OUTCOME_(DENIED|KILLED|SIGNALED)"' "$EVENTS")" "0"
acted='"outcome":"OUTCOME_(DENIED|KILLED|SIGNALED|WOULD_DENY|WOULD_KILL|WOULD_SIGNAL)"'
for h in '"hook":"path_mkdir"' '"hook":"path_unlink"' '"hook":"socket_connect"' '"hook":"socket_bind"' \
	'"hook":"socket_create"' '"hook":"task_kill"' '"hook":"file_permission"' \
	'"function_name":"sys_getpgid"'; do
	enf=$(grep -F "$h" /tmp/events-enforce.json | grep -cE "$acted")
	aud=$(grep -F "$h" "$EVENTS" | grep -cE '"outcome":"OUTCOME_WOULD_(DENY|KILL|SIGNAL)"')
	expect "audit: $h: as many would-be outcomes as the enforce pass acted on ($enf)" "$aud" "$enf"
done
finish
