# Generic hooks: LSM hooks beyond file_open/bprm_check and kprobes, with
# string, path, integer and socket operators, every action, and a monitor-mode
# policy on the same hooks at the same time. Each check is a real operation.
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
start_vigild --policy $POL/hooks.yaml --policy $POL/hooks-monitor.yaml --policy /tmp/task.yaml

# path_mkdir: Equal on the parent path, NotPrefix on it.
expect "mkdir: Equal parent" "$($TRY mkdir /tmp/nodirs/sub)" "errno=EPERM"
expect "mkdir: allowed under /tmp" "$($TRY mkdir /tmp/fine)" "ok"
expect "mkdir: NotPrefix outside the list" "$($TRY mkdir /srv/new)" "errno=EACCES"
expect "mkdir: relative, outside the list" "$(cd /srv && $TRY mkdir rel)" "errno=EACCES"
# path_unlink: Postfix on the dentry.
expect "unlink: Postfix .lock" "$($TRY unlink /tmp/a.lock)" "errno=EBUSY"
expect "unlink: other file" "$($TRY unlink /tmp/a.txt)" "ok"
# socket_connect: DAddr (CIDR and single address) AND DPort; Family AND NotDAddr.
expect "connect: 10/8 port 80" "$($TRY connect udp 10.1.2.3 80)" "errno=ECONNREFUSED"
expect "connect: exact address port 443" "$($TRY connect udp 192.168.7.7 443)" "errno=ECONNREFUSED"
expect "connect: 10/8 other port (routing decides)" "$($TRY connect udp 10.1.2.3 81)" "errno=ENETUNREACH"
expect "connect: outside the prefix" "$($TRY connect udp 11.1.2.3 80)" "errno=ENETUNREACH"
expect "connect: loopback" "$($TRY connect udp 127.0.0.1 80)" "ok"
expect "connect: IPv6 not ::1" "$($TRY connect udp ::2 53)" "errno=EPERM"
expect "connect: IPv6 ::1" "$($TRY connect udp ::1 53)" "ok"
# socket_bind: SPortPriv AND SAddr.
expect "bind: privileged port on loopback" "$($TRY bind udp 127.0.0.1 80)" "errno=EACCES"
expect "bind: unprivileged port" "$($TRY bind udp 127.0.0.1 8080)" "ok"
# SPort AND NotSAddr; SAddr AND NotSPort AND NotSPortPriv.
expect "bind: port 9001 on any address" "$($TRY bind udp 0.0.0.0 9001)" "errno=EADDRINUSE"
expect "bind: port 9001 on loopback" "$($TRY bind udp 127.0.0.1 9001)" "ok"
expect "bind: 127.0.0.2 port 9004" "$($TRY bind udp 127.0.0.2 9004)" "errno=EADDRNOTAVAIL"
expect "bind: 127.0.0.2 port 9002 (NotSPort)" "$($TRY bind udp 127.0.0.2 9002)" "ok"
expect "bind: 127.0.0.2 port 81 (privileged: the first selector)" "$($TRY bind udp 127.0.0.2 81)" "errno=EACCES"
# DAddr AND DPortPriv; DAddr AND NotDPort AND NotDPortPriv; monitor: DAddr AND DPort.
expect "connect: 127.0.0.3 privileged port" "$($TRY connect udp 127.0.0.3 22)" "errno=EHOSTUNREACH"
expect "connect: 127.0.0.3 port 2222" "$($TRY connect udp 127.0.0.3 2222)" "ok"
expect "connect: 127.0.0.4 port 5353" "$($TRY connect udp 127.0.0.4 5353)" "errno=ETIMEDOUT"
expect "connect: 127.0.0.4 port 53 (NotDPort)" "$($TRY connect udp 127.0.0.4 53)" "ok"
expect "connect: 127.0.0.4 port 22 (NotDPortPriv)" "$($TRY connect udp 127.0.0.4 22)" "ok"
expect "connect: 127.0.0.5 port 7 (monitor)" "$($TRY connect udp 127.0.0.5 7)" "ok"
# socket_create: Equal AND InRange, GT, LT; matchBinaries Prefix.
expect "socket: raw protocol in range" "$($TRY socket 2 3 255)" "errno=EPERM"
expect "socket: raw protocol out of range" "$($TRY socket 2 3 1)" "ok"
expect "socket: family GT 40" "$($TRY socket 44 2 0)" "errno=EPERM"
expect "socket: family LT 1" "$($TRY socket 0 2 0)" "errno=EPERM"
expect "socket: AF_INET6 from /tmp/bin/" "$(/tmp/bin/vt socket 10 2 0)" "errno=EPERM"
expect "socket: AF_INET6 from elsewhere" "$($TRY socket 10 2 0)" "ok"
# task_kill: Equal and NotInRange on the signal.
expect "kill: SIGUSR2" "$($TRY kill 12)" "errno=EPERM"
expect "kill: real-time signal" "$($TRY kill 34)" "errno=EPERM"
expect "kill: SIGTERM" "$($TRY kill 15)" "ok"
# file_permission: Prefix AND Mask (MAY_WRITE): reads pass, writes are refused.
expect "write under /tmp/ro" "$($TRY write /tmp/ro/file)" "errno=EROFS"
expect "read under /tmp/ro" "$($TRY open /tmp/ro/file)" "ok"
expect "write elsewhere" "$($TRY write /tmp/rw-file)" "ok"
# kprobe on a system call (fentry): Signal, Sigkill, NoPost, Post.
expect "getpgid 4242: Signal USR1" "$($TRY getpgid 4242)" "signal=USR1"
expect "getpgid 4243: Sigkill" "$($TRY getpgid 4243)" "signal=KILL"
expect "getpgid 4244: NoPost" "$($TRY getpgid 4244)" "ok"
expect "getpgid 4245: Post" "$($TRY getpgid 4245)" "ok"
expect "getpgid 4246: excluded by NotEqual" "$($TRY getpgid 4246)" "ok"
# rateLimit (global scope): three identical calls post one event; other
# arguments are another event.
for i in 1 2 3; do $TRY getpgid 4260 >/dev/null; done
$TRY getpgid 4261 >/dev/null
# Return probe (fexit): matchArgs AND matchReturnArgs on the returned value.
expect "getpgid 4247 returns -ESRCH: Sigkill after the call" "$($TRY getpgid 4247)" "signal=KILL"
expect "getpgid 0 returns a pgid: Post" "$($TRY getpgid 0)" "ok"
# matchCapabilities, matchPIDs (followForks), matchNamespaces (host_ns).
expect "caps: root holds CAP_SYS_ADMIN (In)" "$($TRY getpgid 4250)" "signal=USR1"
expect "caps: NotIn CAP_SYS_ADMIN" "$($TRY getpgid 4251)" "ok"
expect "pids: a descendant of this shell, followForks" "$($TRY getpgid 4252)" "signal=USR1"
expect "pids: not this shell itself, no followForks" "$($TRY getpgid 4253)" "ok"
expect "namespaces: the host mount namespace (In host_ns)" "$($TRY getpgid 4254)" "signal=USR1"
expect "namespaces: NotIn host_ns from the host" "$($TRY getpgid 4255)" "ok"
if unshare -m true 2>/dev/null; then
	expect "namespaces: NotIn host_ns from a new mount namespace" "$(unshare -m $TRY getpgid 4255)" "signal=USR1"
else
	echo "skip: no unshare in this guest"
fi
# The monitor-mode policy: nothing happens, events say what would have.
expect "monitor: mkdir" "$($TRY mkdir /tmp/watched)" "ok"
expect "monitor: getpgid 5242 not signalled" "$($TRY getpgid 5242)" "ok"
expect "monitor: getpgid 5243 not killed" "$($TRY getpgid 5243)" "ok"
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
finish
