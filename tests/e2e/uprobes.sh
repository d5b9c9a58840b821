#!/usr/bin/env bash
# spec.uprobes on this host, for real: vigild attaches uprobes (and a
# uretprobe) to a test program copied into a temp dir, and only to it, so no
# other process on the machine can ever be hit. Every enforcing selector is
# scoped by matchBinaries to that copy. Checks: process_uprobe events with the
# int and string arguments and labels, matchArgs filtering in the kernel
# (Equal, Prefix, GT on the two arguments), matchPIDs (followForks on this
# script's pid; a pid no test process has), a return probe with returnArg and
# matchReturnArgs, Sigkill and Signal in enforce mode (the process dies of the
# signal), and in monitor mode (it lives; the event says WOULD_*); a reload
# that drops a policy detaches its uprobe and keeps the others attached.
. "$(dirname "$0")/lib/common.sh"
need_uprobes
mkdir "$tmp/bin" "$tmp/pol"
tgt=$tmp/bin/vigil-uprobe-target
mon=$tmp/bin/vigil-uprobe-monitor   # the same program under another name, for the monitor policy
cp "$uprobe_target" "$tgt"; cp "$uprobe_target" "$mon"

policy() { # NAME MODE BINARY SELECTORS...
  cat <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: $1
spec:
  options:
  - name: policy-mode
    value: $2
  uprobes:
  - path: "$3"
    symbols: ["vg_probe_op"]
    message: "vg_probe_op called"
    tags: ["e2e", "uprobe"]
    args:
    - index: 0
      type: int
      label: n
    - index: 1
      type: string
      label: name
    selectors:
YAML
}
{
  policy uprobe-enforce enforce "$tgt"
  cat <<YAML
    - matchBinaries: [{operator: In, values: ["$tgt"]}]
      matchArgs: [{index: 0, operator: Equal, values: ["7"]}]
      matchActions: [{action: Sigkill}]
    - matchBinaries: [{operator: In, values: ["$tgt"]}]
      matchArgs: [{index: 1, operator: Prefix, values: ["usr1-"]}]
      matchActions: [{action: Signal, argSig: 10}]
    - matchBinaries: [{operator: In, values: ["$tgt"]}]
      matchArgs: [{index: 1, operator: Equal, values: ["post"]}, {index: 0, operator: GT, values: ["100"]}]
      matchActions: [{action: Post, userStackTrace: true}]
    - matchPIDs: [{operator: In, followForks: true, values: [$$]}]
      matchArgs: [{index: 1, operator: Equal, values: ["by-pid"]}]
    - matchPIDs: [{operator: In, values: [1]}]
      matchArgs: [{index: 1, operator: Equal, values: ["pid-one"]}]
  - path: "$tgt"
    symbols: ["vg_probe_op"]
    return: true
    returnArg: {index: 0, type: int, label: ret}
    selectors:
    - matchBinaries: [{operator: In, values: ["$tgt"]}]
      matchReturnArgs: [{index: 0, operator: Equal, values: ["84"]}]
YAML
} >"$tmp/pol/enforce.yaml"
{
  policy uprobe-monitor monitor "$mon"
  cat <<YAML
    - matchBinaries: [{operator: In, values: ["$mon"]}]
      matchArgs: [{index: 0, operator: Equal, values: ["7"]}]
      matchActions: [{action: Sigkill}]
    - matchBinaries: [{operator: In, values: ["$mon"]}]
      matchArgs: [{index: 1, operator: Prefix, values: ["usr1-"]}]
      matchActions: [{action: Signal, argSig: 10}]
YAML
} >"$tmp/pol/monitor.yaml"
"$vigilctl" policy check "$tmp/pol/enforce.yaml" "$tmp/pol/monitor.yaml" || { echo "FAIL: policy check"; exit 1; }

# Three generic programs to verify on a busy 2-core host: minutes (wait_ready).
"$vigild" --policy-dir "$tmp/pol" >"$tmp/events" 2>"$tmp/log" &
vpid=$!
wait_ready "$vpid" "$tmp/log"
fail=0
run() { # EXPECTED-STATUS PROGRAM ARGS...
  local want=$1; shift
  "$@" >/dev/null 2>&1; local rc=$?
  [[ $rc -eq $want ]] && echo "ok:   $(basename "$1") ${*:2} exited $rc" \
    || { echo "FAIL: $(basename "$1") ${*:2} exited $rc, want $want"; fail=1; }
}
run 0 "$tgt" 150 post        # matchArgs Equal + GT: posted
run 0 "$tgt" 5 post          # GT fails: nothing
run 0 "$tgt" 3 other         # no selector: nothing
run 137 "$tgt" 7 kill-me     # Sigkill: 128 + 9
run 138 "$tgt" 4 usr1-x      # Signal 10 (SIGUSR1, default action: terminate)
run 0 "$tgt" 42 ret          # returns 84: the uretprobe posts
run 0 "$tgt" 9 by-pid        # matchPIDs followForks on this script
run 0 "$tgt" 9 pid-one       # matchPIDs 1: nothing
run 0 "$mon" 7 kill-me       # monitor: lives, WOULD_KILL
run 0 "$mon" 4 usr1-x        # monitor: lives, WOULD_SIGNAL
# Reload without the monitor policy: its uprobe is detached; the enforce
# policy's stay attached (same hook ids and links, never re-attached).
mv "$tmp/pol/monitor.yaml" "$tmp/monitor.yaml.off"
kill -HUP "$vpid"
for _ in $(seq 600); do grep -q 'reload: 1 policies \[uprobe-enforce\] in force' "$tmp/log" && break; sleep 0.1; done
grep -q 'reload: 1 policies \[uprobe-enforce\] in force' "$tmp/log" && echo "ok:   reload in force" \
  || { echo "FAIL: reload not in force"; fail=1; }
grep -q "detaching uprobe/$mon:vg_probe_op" "$tmp/log" && echo "ok:   reload detached the monitor uprobe" \
  || { echo "FAIL: monitor uprobe not detached"; fail=1; }
[[ $(grep -c "attached uprobe/$tgt:vg_probe_op for" "$tmp/log") -eq 1 ]] && echo "ok:   enforce uprobe kept" \
  || { echo "FAIL: enforce uprobe attached again"; fail=1; }
run 0 "$tgt" 151 post        # still probed after the reload
run 0 "$mon" 7 kill-me       # no longer probed
sleep 1
stop_vigild
[[ $vrc -eq 0 ]] || { echo "FAIL: vigild exit $vrc"; fail=1; }
up() { jq -c 'select(.process_uprobe) | .process_uprobe' "$tmp/events"; }
echo "process_uprobe events:"; up | cut -c1-300
one() { # DESCRIPTION JQ-FILTER: exactly one event matches
  local n; n=$(up | jq -c "select($2)" | wc -l)
  [[ $n -eq 1 ]] && echo "ok:   $1" || { echo "FAIL: $1: $n events, want 1"; fail=1; }
}
none() {
  local n; n=$(up | jq -c "select($2)" | wc -l)
  [[ $n -eq 0 ]] && echo "ok:   $1" || { echo "FAIL: $1: $n events, want 0"; fail=1; }
}
one "posted with both args, labels, path, symbol, message, tags" \
  ".args == [{\"label\":\"n\",\"int_arg\":\"150\"},{\"label\":\"name\",\"string_arg\":\"post\"}] and .path == \"$tgt\" and .symbol == \"vg_probe_op\" and .policy_name == \"uprobe-enforce\" and .message == \"vg_probe_op called\" and .tags == [\"e2e\",\"uprobe\"] and .action == \"ACTION_POST\" and .outcome == \"OUTCOME_POSTED\" and .mode == \"POLICY_MODE_ENFORCE\" and .mechanism == \"uprobe\" and .selector == 2 and .process.binary == \"$tgt\" and .process.arguments == \"150 post\" and .parent.pid == $$"
none "GT filters n=5 out" '.args[0].int_arg == "5"'
# userStackTrace: the first frame is in vg_probe_op, inside the target file:
# its build id and offset, as the kernel read them while the process ran (it
# has exited by the time vigild reads the event), and the file named by that
# build id. Deeper frames need frame pointers, which an optimized build may
# not keep: not checked.
bid=$(readelf -n "$tgt" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
one "userStackTrace: innermost frame in the target binary, by build id" \
  ".args[0].int_arg == \"150\" and .user_stack_trace[0].module == \"$tgt\" and .user_stack_trace[0].build_id == \"$bid\" and (.user_stack_trace[0].offset | tonumber) > 0 and (.kernel_stack_trace // []) == []"
none "no selector matches n=3" '.args[0].int_arg == "3"'
one "Sigkill enforced" '.action == "ACTION_SIGKILL" and .outcome == "OUTCOME_KILLED" and .args[1].string_arg == "kill-me" and .policy_name == "uprobe-enforce"'
one "Signal enforced" '.action == "ACTION_SIGNAL" and .outcome == "OUTCOME_SIGNALED" and .signal == 10 and .policy_name == "uprobe-enforce"'
one "uretprobe with returnArg" '.mechanism == "uretprobe" and .return.int_arg == "84" and .symbol == "vg_probe_op" and (.args // []) == []'
none "uretprobe filters other return values" '.mechanism == "uretprobe" and .return.int_arg != "84"'
one "matchPIDs followForks" '.args[1].string_arg == "by-pid" and .selector == 3'
none "matchPIDs on pid 1 does not match" '.args[1].string_arg == "pid-one"'
one "monitor Sigkill: WOULD_KILL" '.policy_name == "uprobe-monitor" and .outcome == "OUTCOME_WOULD_KILL" and .mode == "POLICY_MODE_MONITOR"'
one "monitor Signal: WOULD_SIGNAL" '.policy_name == "uprobe-monitor" and .outcome == "OUTCOME_WOULD_SIGNAL" and .signal == 10'
none "the monitor binary never hits the enforce policy" ".policy_name == \"uprobe-enforce\" and .process.binary == \"$mon\""
grep -q "attached uprobe/$tgt:vg_probe_op" "$tmp/log" || { echo "FAIL: no attach line"; fail=1; }
one "the reloaded set still posts" '.args[0].int_arg == "151" and .policy_name == "uprobe-enforce"' 

# A missing file and a missing symbol: clear errors at load, no crash.
sed "s|vg_probe_op|vg_no_such_symbol|" "$tmp/monitor.yaml.off" >"$tmp/nosym.yaml"
timeout 60 "$vigild" --policy "$tmp/nosym.yaml" >/dev/null 2>"$tmp/nosym.log"; rc=$?
grep -q "nosym.yaml:[0-9]*:[0-9]*: .*symbol \"vg_no_such_symbol\" not found in $mon" "$tmp/nosym.log" && [[ $rc -ne 0 && $rc -lt 128 ]] \
  && echo "ok:   missing symbol: exit $rc, $(grep -o 'symbol "vg_no_such_symbol".*' "$tmp/nosym.log" | head -1)" \
  || { cat "$tmp/nosym.log"; echo "FAIL: missing symbol (exit $rc)"; fail=1; }
sed "s|path: \"$mon\"|path: \"$tmp/bin/absent\"|" "$tmp/monitor.yaml.off" >"$tmp/nofile.yaml"
timeout 60 "$vigild" --policy "$tmp/nofile.yaml" >/dev/null 2>"$tmp/nofile.log"; rc=$?
grep -q "nofile.yaml:[0-9]*:[0-9]*: .*$tmp/bin/absent: No such file or directory" "$tmp/nofile.log" && [[ $rc -ne 0 && $rc -lt 128 ]] \
  && echo "ok:   missing file: exit $rc" || { cat "$tmp/nofile.log"; echo "FAIL: missing file (exit $rc)"; fail=1; }
exit $fail
