# spec.uprobes in a real kernel: a uprobe and a uretprobe on the test
# program's own function, and a uprobe on a shared library symbol (libc's
# strtol, which the program calls on its first argument): arguments from
# registers and user memory, matchArgs/matchBinaries, Sigkill, monitor mode.
. /add/cases/lib.sh
T=/add/vigil-uprobe-target
LIBC=
for f in /lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libc.so.6 /lib64/libc.so.6; do
	if [ -e "$f" ]; then LIBC=$f; break; fi
done
[ -n "$LIBC" ] || { echo "FAIL: no libc.so.6 in the guest"; exit 1; }
cat >/tmp/uprobes.yaml <<EOF2
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: test-uprobes}
spec:
  uprobes:
  - path: "$T"
    symbols: [vg_probe_op]
    args: [{index: 0, type: int, label: n}, {index: 1, type: string, label: name}]
    selectors:
    - matchBinaries: [{operator: In, values: ["$T"]}]
      matchArgs: [{index: 0, operator: Equal, values: ["7"]}]
      matchActions: [{action: Sigkill}]
    - matchBinaries: [{operator: In, values: ["$T"]}]
      matchArgs: [{index: 1, operator: Postfix, values: ["-post"]}]
  - path: "$T"
    symbols: [vg_probe_op]
    return: true
    returnArg: {index: 0, type: int, label: ret}
    selectors:
    - matchReturnArgs: [{index: 0, operator: Equal, values: ["84"]}]
  - path: "$LIBC"
    symbols: [strtol]
    args: [{index: 0, type: string, label: nptr}, {index: 2, type: int, label: base}]
    selectors:
    - matchBinaries: [{operator: In, values: ["$T"]}]
      matchArgs: [{index: 0, operator: Equal, values: ["4242"]}]
EOF2
cat >/tmp/uprobes-monitor.yaml <<EOF2
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: test-uprobes-monitor}
spec:
  options: [{name: policy-mode, value: monitor}]
  uprobes:
  - path: "$T"
    symbols: [vg_probe_op]
    args: [{index: 0, type: int, label: n}]
    selectors:
    - matchArgs: [{index: 0, operator: Equal, values: ["9"]}]
      matchActions: [{action: Sigkill}]
EOF2
start_vigild --policy /tmp/uprobes.yaml --policy /tmp/uprobes-monitor.yaml
$T 150 a-post >/dev/null; expect "posted call exits" "$?" 0
$T 7 x >/dev/null 2>&1; expect "Sigkill at the uprobe" "$?" 137
$T 42 ret >/dev/null; expect "uretprobe call" "$?" 0
$T 4242 lib >/dev/null; expect "strtol call" "$?" 0
$T 9 mon >/dev/null; expect "monitor: not killed" "$?" 0
$T 5 none >/dev/null; expect "unmatched call" "$?" 0
sleep 1
stop_vigild
expect_event "uprobe Post" '"process_uprobe"' '"symbol":"vg_probe_op"' \
	'"args":[{"label":"n","int_arg":"150"},{"label":"name","string_arg":"a-post"}]' \
	'"outcome":"OUTCOME_POSTED"' '"mechanism":"uprobe"'
expect_event "uprobe Sigkill" '"process_uprobe"' '"int_arg":"7"' '"outcome":"OUTCOME_KILLED"'
expect_event "uretprobe returnArg" '"process_uprobe"' '"mechanism":"uretprobe"' '"return":{"int_arg":"84"}'
expect_event "shared library symbol" '"process_uprobe"' "\"path\":\"$LIBC\"" '"symbol":"strtol"' \
	'"args":[{"label":"nptr","string_arg":"4242"},{"label":"base","int_arg":"10"}]'
expect_event "monitor Sigkill" '"policy_name":"test-uprobes-monitor"' '"outcome":"OUTCOME_WOULD_KILL"'
expect_no_event "for an unmatched call" '"int_arg":"5"'
expect "strtol: only the matching call posts" "$(grep -c '"symbol":"strtol"' $EVENTS)" 1
finish
