#!/usr/bin/env bash
# The whole userspace pipeline on this host's real kernel events: vigild with
# a vigil.yaml that loads a rule file and sends everything to a file sink. A
# program the test runs must show up in the file as its process_exec event,
# followed by the rule's alert naming it. Then a broken config is refused with
# FILE:LINE:COL before anything is loaded.
. "$(dirname "$0")/lib/common.sh"
need_tp_btf
mkdir "$tmp/empty" "$tmp/out"
probe="vgp-$$"  # proc.name is the 15-byte comm, as in Falco
cp "$(readlink -f /bin/true)" "$tmp/$probe"
cat >"$tmp/rules.yaml" <<YAML
- rule: Rule probe executed
  desc: the e2e test's marker program ran
  condition: evt.type in (execve, execveat) and proc.name = "$probe"
  output: "probe ran (exe=%proc.exepath parent=%proc.pname)"
  priority: WARNING
  tags: [test]
YAML
cat >"$tmp/vigil.yaml" <<YAML
rules:
  files: [$tmp/rules.yaml]
exporters:
  spool_dir: $tmp/spool
  sinks:
  - name: archive
    type: file
    path: $tmp/out/events.jsonl
YAML
start_vigild "$tmp/stdout" --config "$tmp/vigil.yaml" --policy-dir "$tmp/empty"
"$tmp/$probe"
wait_for "$tmp/out/events.jsonl" '"rule":"Rule probe executed"' || echo "(no alert within 30 s)"
stop_vigild
fail=0
[[ $vrc -eq 0 ]] || { echo "FAIL: vigild exit $vrc"; fail=1; }
[[ ! -s $tmp/stdout ]] || { echo "FAIL: events went to stdout with a sink configured"; fail=1; }
out=$tmp/out/events.jsonl
[[ $(stat -c %a "$out") == 600 ]] || { echo "FAIL: sink file mode $(stat -c %a "$out")"; fail=1; }
exec_n=$(grep -n "\"binary\":\"$tmp/$probe\"" "$out" | grep process_exec | head -1 | cut -d: -f1)
alert=$(jq -c 'select(.rule_alert.rule? == "Rule probe executed")' "$out")
alert_n=$(grep -n '"rule":"Rule probe executed"' "$out" | head -1 | cut -d: -f1)
echo "alert: $alert" | cut -c1-300
[[ -n $exec_n ]] && echo "ok:   process_exec in the file sink" || { echo "FAIL: no process_exec for the probe"; fail=1; }
[[ -n $alert ]] && echo "ok:   rule alert in the file sink" || { echo "FAIL: no rule alert"; fail=1; }
[[ -n $exec_n && -n $alert_n && $alert_n -gt $exec_n ]] && echo "ok:   alert after its event" || { echo "FAIL: alert order"; fail=1; }
[[ $(jq -r .rule_alert.output <<<"$alert") == "probe ran (exe=$tmp/$probe parent="* ]] && echo "ok:   output rendered" || { echo "FAIL: output '$(jq -r .rule_alert.output <<<"$alert")'"; fail=1; }
[[ $(jq -r .rule_alert.priority <<<"$alert") == WARNING ]] || { echo "FAIL: priority"; fail=1; }
[[ $(jq -r .rule_alert.process.binary <<<"$alert") == "$tmp/$probe" ]] || { echo "FAIL: alert process"; fail=1; }

# A broken config: refused before loading anything, with its position.
printf 'exporters:\n  sinks:\n  - name: x\n    type: carrier-pigeon\n' >"$tmp/bad.yaml"
"$vigild" --config "$tmp/bad.yaml" --policy-dir "$tmp/empty" >/dev/null 2>"$tmp/err"; rc=$?
cat "$tmp/err"
[[ $rc -eq 2 ]] || { echo "FAIL: broken config exit $rc, want 2"; fail=1; }
grep -q "^$tmp/bad.yaml:4:11: " "$tmp/err" && echo "ok:   config error at 4:11" || { echo "FAIL: no FILE:4:11 error"; fail=1; }
printf -- '- rule: broken\n  condition: evt.type = execve and\n  output: x\n  priority: INFO\n  desc: d\n' >"$tmp/badrules.yaml"
"$vigild" --rules "$tmp/badrules.yaml" --policy-dir "$tmp/empty" >/dev/null 2>"$tmp/err2"; rc=$?
cat "$tmp/err2"
[[ $rc -eq 2 ]] || { echo "FAIL: broken rules exit $rc, want 2"; fail=1; }
grep -q "^$tmp/badrules.yaml:[0-9]*:[0-9]*: " "$tmp/err2" && echo "ok:   rules error with position" || { echo "FAIL: no FILE:LINE:COL for rules"; fail=1; }
exit $fail
