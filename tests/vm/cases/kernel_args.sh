# Tetragon's kernel argument types, task selectors and sock tracking on real
# operations: char_buf (write), skb (a UDP datagram on ip_output, Sigkill'ed
# by destination port), bpf_attr (vigilctl probe's programs), returnArg sock
# with TrackSock (sk_alloc), kiocb + iov_iter (a write to a tty),
# matchParentBinaries, followChildren, matchCapabilityChanges and
# matchNamespaceChanges; a monitor-mode policy on the same hooks.
. /add/cases/lib.sh
mkdir -p /tmp/bin
cp $TRY /tmp/bin/vt
cp $TRY /tmp/bin/vm2
# write (char_buf) by BIN and UDP to DPORT (skb): Sigkill, in the policy's mode.
hooks() {
	cat <<POL
  - call: sys_write
    syscall: true
    args:
    - {index: 0, type: int}
    - {index: 1, type: char_buf, sizeArgIndex: 3}
    - {index: 2, type: size_t}
    selectors:
    - matchBinaries: [{operator: In, values: [$1]}]
      matchArgs: [{index: 1, operator: Prefix, values: ["x"]}]
      matchActions: [{action: Sigkill}]
  - call: ip_output
    args:
    - {index: 1, type: sock}
    - {index: 2, type: skb, label: datagram}
    selectors:
    - matchArgs:
      - {index: 2, operator: Protocol, values: [IPPROTO_UDP]}
      - {index: 2, operator: DAddr, values: [127.0.0.1/32]}
      - {index: 2, operator: DPort, values: ["$2"]}
      matchActions: [{action: Sigkill}]
POL
}
{ printf 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata: {name: kargs-monitor}\n'
  printf 'spec:\n  options: [{name: policy-mode, value: monitor}]\n  kprobes:\n'
  hooks /tmp/bin/vm2 5998; } >/tmp/kargs-monitor.yaml
{ printf 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata: {name: kargs-enforce}\n'
  printf 'spec:\n  kprobes:\n'
  hooks /tmp/bin/vt 5999
  cat <<'POL'
  - call: sys_getpgid
    syscall: true
    args: [{index: 0, type: int}]
    selectors:
    - matchArgs: [{index: 0, operator: Equal, values: ["4261"]}]
      matchParentBinaries: [{operator: In, values: [/add/vigil-try]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4266"]}]
      matchParentBinaries: [{operator: Prefix, values: [/nowhere/, /tmp/bin/]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4267"]}]
      matchParentBinaries: [{operator: NotPostfix, values: [/vt, /nothing]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4262"]}]
      matchBinaries: [{operator: In, values: [/tmp/bin/vt], followChildren: true}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4263"]}]
      matchBinaries: [{operator: In, values: [/tmp/bin/vt]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4264"]}]
      matchCapabilityChanges: [{type: Effective, operator: In, values: [CAP_NET_RAW]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchArgs: [{index: 0, operator: Equal, values: ["4265"]}]
      matchNamespaceChanges: [{operator: In, values: [Uts]}]
      matchActions: [{action: Signal, argSig: 10}]
  - call: bpf_check
    args: [{index: 1, type: bpf_attr}]
    selectors:
    - matchBinaries: [{operator: Postfix, values: [/vigilctl]}]
  - call: sk_alloc
    return: true
    args: [{index: 1, type: int, label: family}]
    returnArg: {index: 0, type: sock}
    returnArgAction: TrackSock
    selectors:
    - matchBinaries: [{operator: In, values: [/tmp/bin/vt]}]
  - call: tty_write
    args:
    - {index: 0, type: kiocb}
    - {index: 1, type: iov_iter}
    selectors:
    - matchArgs: [{index: 1, operator: Prefix, values: [vigil-tty]}]
POL
} >/tmp/kargs.yaml
# Six generic instances: up to 10 minutes of verification on a busy TCG host.
READY_TENTHS=6000 start_vigild --policy /tmp/kargs.yaml --policy /tmp/kargs-monitor.yaml

# char_buf: the bytes written, matched by Prefix, killed (enforce) or not (monitor).
expect "write: char_buf Prefix x (enforce)" "$(/tmp/bin/vt write /tmp/w1)" "signal=KILL"
expect "write: other binary" "$($TRY write /tmp/w2)" "ok"
expect "write: char_buf Prefix x (monitor)" "$(/tmp/bin/vm2 write /tmp/w3)" "ok"
# skb: protocol, destination address and port of a datagram.
expect "udp to 127.0.0.1:5999 (enforce)" "$($TRY sendudp 127.0.0.1 5999)" "signal=KILL"
expect "udp to 127.0.0.1:5998 (monitor)" "$($TRY sendudp 127.0.0.1 5998)" "ok"
expect "udp to 127.0.0.1:5997" "$($TRY sendudp 127.0.0.1 5997)" "ok"
# Task selectors.
expect "matchParentBinaries In" "$($TRY getpgid 4261)" "signal=USR1"
expect "matchParentBinaries: parent is vt" "$(/tmp/bin/vt getpgid 4261)" "ok"
# vigil-try runs each operation in a child of its own: the parent is vt or $TRY.
expect "matchParentBinaries Prefix: parent is vt" "$(/tmp/bin/vt getpgid 4266)" "signal=USR1"
expect "matchParentBinaries Prefix: parent is vigil-try" "$($TRY getpgid 4266)" "ok"
expect "matchParentBinaries NotPostfix: parent is vigil-try" "$($TRY getpgid 4267)" "signal=USR1"
expect "matchParentBinaries NotPostfix: parent is vt" "$(/tmp/bin/vt getpgid 4267)" "ok"
expect "followChildren: exec'd child of vt" "$(/tmp/bin/vt exec $TRY getpgid 4262 | head -1)" "signal=USR1"
expect "no followChildren: exec'd child of vt" "$(/tmp/bin/vt exec $TRY getpgid 4263 | head -1)" "ok"
expect "no followChildren: vt itself" "$(/tmp/bin/vt getpgid 4263)" "signal=USR1"
expect "capability dropped since exec" "$($TRY capdrop 13 4264)" "signal=USR1"
expect "capabilities as at exec" "$($TRY getpgid 4264)" "ok"
expect "uts namespace changed since exec" "$($TRY unshare-uts 4265)" "signal=USR1"
expect "namespaces as at exec" "$($TRY getpgid 4265)" "ok"
# bpf_attr: the programs vigilctl probe loads.
vigilctl probe >/dev/null 2>&1
# returnArg sock with TrackSock.
$TRY socket 2 2 0 >/dev/null
/tmp/bin/vt socket 2 2 0 >/dev/null
# kiocb + iov_iter: a write to a terminal.
for t in /dev/ttyS0 /dev/console /dev/tty0; do
	[ -c "$t" ] && { echo vigil-tty >"$t"; break; } 2>/dev/null
done
sleep 1
stop_vigild

expect_event "char_buf bytes, killed" '"function_name":"sys_write"' '"policy_name":"kargs-enforce"' \
	'{"bytes_arg":"eA=="}' '"OUTCOME_KILLED"'
expect_event "char_buf bytes, monitor" '"function_name":"sys_write"' '"policy_name":"kargs-monitor"' \
	'{"bytes_arg":"eA=="}' '"OUTCOME_WOULD_KILL"'
expect_event "skb, killed" '"function_name":"ip_output"' '"label":"datagram","skb_arg":{' \
	'"daddr":"127.0.0.1","sport":' '"dport":5999,"proto":17,"protocol":"IPPROTO_UDP","family":"AF_INET"}' \
	'"OUTCOME_KILLED"'
expect_event "skb, monitor" '"function_name":"ip_output"' '"dport":5998' '"OUTCOME_WOULD_KILL"'
expect_no_event "skb of an unmatched port" '"dport":5997'
expect_event "bpf_attr of vigilctl probe" '"function_name":"bpf_check"' '"bpf_attr_arg":{"ProgType":"BPF_PROG_TYPE_' \
	'"InsnCnt":'
expect_event "returned sock of sk_alloc" '"function_name":"sk_alloc"' '"binary":"/tmp/bin/vt"' \
	'"label":"family","int_arg":"2"' '"return":{"sock_arg":"'
expect_event "kiocb path and iov_iter bytes" '"function_name":"tty_write"' '{"file_arg":"/dev/' \
	'"bytes_arg":"dmlnaWwtdHR5Cg=="'
expect_event "matchParentBinaries" '"function_name":"sys_getpgid"' '"int_arg":"4261"' '"OUTCOME_SIGNALED"'
expect_event "matchCapabilityChanges" '"function_name":"sys_getpgid"' '"selector":5' '"OUTCOME_SIGNALED"'
expect_event "matchNamespaceChanges" '"function_name":"sys_getpgid"' '"selector":6' '"OUTCOME_SIGNALED"'
expect_event "matchParentBinaries Prefix" '"function_name":"sys_getpgid"' '"int_arg":"4266"' '"OUTCOME_SIGNALED"'
expect_event "matchParentBinaries NotPostfix" '"function_name":"sys_getpgid"' '"int_arg":"4267"' '"OUTCOME_SIGNALED"'
finish
