#!/usr/bin/env bash
# Prometheus metrics: vigild serves /metrics, promtool (Prometheus's own
# checker) accepts the exposition, and the counters move with real events.
. "$(dirname "$0")/lib/common.sh"
need_tp_btf
command -v promtool >/dev/null || { echo "FAIL: promtool missing (scripts/install-deps installs prometheus)"; exit 1; }
mkdir "$tmp/empty"
start_vigild /dev/null --policy-dir "$tmp/empty" --metrics-listen 127.0.0.1:0
port=$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$tmp/log")
[[ -n $port ]] || { cat "$tmp/log"; echo "FAIL: no metrics port"; exit 1; }
for _ in 1 2 3; do /bin/true; done
sleep 2
curl -fsS "http://127.0.0.1:$port/metrics" >"$tmp/m.txt" || { echo "FAIL: scrape"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/other")
health=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/healthz")
stop_vigild >/dev/null
fail=0
promtool check metrics <"$tmp/m.txt" && echo "ok:   promtool check metrics" || { echo "FAIL: promtool"; fail=1; }
execs=$(sed -n 's/^vigil_events_total{type="process_exec"} \([0-9]*\)$/\1/p' "$tmp/m.txt")
kexec=$(sed -n 's/^vigil_kernel_events_total{hook="sched_process_exec"} \([0-9]*\)$/\1/p' "$tmp/m.txt")
[[ ${execs:-0} -ge 3 ]] && echo "ok:   process_exec events counted ($execs)" || { echo "FAIL: execs '$execs'"; fail=1; }
[[ ${kexec:-0} -ge 3 ]] && echo "ok:   kernel exec records counted ($kexec)" || { echo "FAIL: kernel execs '$kexec'"; fail=1; }
grep -q '^vigil_kernel_lost_total{hook="sched_process_exec"} 0$' "$tmp/m.txt" && echo "ok:   no losses" || { echo "FAIL: losses line"; fail=1; }
[[ $code == 404 ]] && echo "ok:   other paths 404" || { echo "FAIL: /other gave $code"; fail=1; }
[[ $health == "ok"$'\n'" 200" ]] && echo "ok:   /healthz 200" || { echo "FAIL: /healthz gave '$health'"; fail=1; }

# A port in use fails the start before vigild reports ready, with exit
# status 5 (the unit restarts on it), never after.
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1); print(s.getsockname()[1], flush=True); time.sleep(300)' >"$tmp/busy" &
busy=$!
for _ in $(seq 50); do [[ -s $tmp/busy ]] && break; sleep 0.1; done
"$vigild" --policy-dir "$tmp/empty" --metrics-listen "127.0.0.1:$(cat "$tmp/busy")" >/dev/null 2>"$tmp/busy.log"
rc=$?
kill $busy
grep -q 'ready:' "$tmp/busy.log" && { echo "FAIL: ready before the metrics port was bound"; fail=1; }
[[ $rc == 5 ]] && echo "ok:   port in use: exit 5, never ready" || { cat "$tmp/busy.log"; echo "FAIL: port in use gave exit $rc"; fail=1; }
exit $fail
