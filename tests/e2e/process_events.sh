#!/usr/bin/env bash
# Process events on this host, in whatever mode the kernel allows (degraded on
# the development host: tp_btf only). vigild runs without policies, so it only
# observes. A child the test spawns must appear as process_exec with its full
# binary path, arguments, cwd and parent, then as process_exit with the same
# exec_id and its exit status.
. "$(dirname "$0")/lib/common.sh"
need_tp_btf
mkdir "$tmp/empty" "$tmp/work"
start_vigild "$tmp/events" --policy-dir "$tmp/empty"
marker="vigil-e2e-$$"
(cd "$tmp/work" && exec /bin/sh -c "exec /bin/echo $marker 'two words' >/dev/null; exit 7") ; shrc=$?
(cd "$tmp/work" && /bin/sh -c 'exit 7'); rc7=$?
# the marker's exec and exit and the exit with status 7 have arrived (up to
# 30 s; the checks below say what is missing if they did not)
for _ in $(seq 300); do
  [[ $(grep -c "$marker" "$tmp/events") -ge 2 && $(grep -c '"process_exit".*"status":7' "$tmp/events") -ge 1 ]] && break
  sleep 0.1
done
stop_vigild
fail=0
[[ $vrc -eq 0 ]] || { echo "FAIL: vigild exit $vrc"; fail=1; }
echo_bin=$(readlink -f /bin/echo)
exec_line=$(jq -c --arg m "$marker" 'select(.process_exec.process.arguments? // "" | startswith($m))' "$tmp/events" | head -1)
echo "exec: $exec_line" | cut -c1-400
[[ -n $exec_line ]] || { echo "FAIL: no process_exec for the child"; fail=1; }
check() { # jq-expr expected
  local got; got=$(jq -r "$1" <<<"$exec_line")
  [[ $got == "$2" ]] && echo "ok:   $1 = $2" || { echo "FAIL: $1 = '$got', want '$2'"; fail=1; }
}
check .process_exec.process.binary "$echo_bin"
check .process_exec.process.arguments "$marker 'two words'"
check .process_exec.process.cwd "$(readlink -f "$tmp/work")"
check .process_exec.process.flags execve
# The subshell forked from this script exec'd sh, which exec'd echo: same
# process, so its parent is this script.
check .process_exec.parent.pid "$$"
check .process_exec.parent.binary "$(readlink -f /proc/$$/exe)"
check '.process_exec.parent.exec_id == .process_exec.process.parent_exec_id' true
check '.node_name | length > 0' true
check '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z$")' true
id=$(jq -r .process_exec.process.exec_id <<<"$exec_line")
# exec replaced the shell's image in the same process: the exit carries the echo's exec_id.
exit_line=$(jq -c --arg id "$id" 'select(.process_exit.process.exec_id? == $id)' "$tmp/events")
[[ -n $exit_line ]] && echo "ok:   process_exit with the same exec_id" || { echo "FAIL: no process_exit for $id"; fail=1; }
[[ $(jq -r '.process_exit.status // 0' <<<"$exit_line") == 0 ]] || { echo "FAIL: echo exit status"; fail=1; }
# The parent shell's exec event came first (exec_id order in the stream).
pid_exec=$(jq -c --arg id "$(jq -r .process_exec.parent.exec_id <<<"$exec_line")" 'select(.process_exec.process.exec_id? == $id)' "$tmp/events" | wc -l)
[[ $pid_exec -ge 1 ]] && echo "ok:   parent's exec event emitted" || { echo "FAIL: parent never announced"; fail=1; }
n7=$(jq -c 'select(.process_exit.status? == 7)' "$tmp/events" | wc -l)
[[ $n7 -ge 1 ]] && echo "ok:   exit status 7 seen" || { echo "FAIL: no exit with status 7"; fail=1; }
exit $fail
