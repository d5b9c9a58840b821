#!/usr/bin/env bash
# Per-call cost of a uprobe, as the probed program sees it: the test program
# (tests/uprobe_target.c) calls vg_probe_op N times and reports ns per call.
# Three copies of it run in the same rounds under one vigild: `plain` (not
# probed), `nomatch` (a uprobe whose one selector's matchArgs never matches:
# the program runs, reads both arguments, evaluates and returns), `match` (a
# selector that matches every call, action NoPost: the decision without an
# event) and `post` (matches every call and posts an event, rateLimit off).
# The uprobes are on these temp copies only.
#
#   bench/uprobe_bench.sh [BUILD_DIR] [CALLS] [ROUNDS]
#
# Needs root. Prints the median ns/call per copy and the ratios to `plain`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
calls=${2:-200000}
rounds=${3:-5}
tmp=$(mktemp -d)
vpid=
trap 'if [[ -n $vpid ]]; then kill "$vpid" 2>/dev/null || true; fi; rm -rf "$tmp"' EXIT
mkdir "$tmp/pol"
for c in plain nomatch match post; do cp "$build/tests/vigil-uprobe-target" "$tmp/$c"; done
pol() { # NAME COPY SELECTOR-YAML
  cat >"$tmp/pol/$1.yaml" <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: bench-$1}
spec:
  uprobes:
  - path: "$tmp/$2"
    symbols: [vg_probe_op]
    args: [{index: 0, type: int}, {index: 1, type: string}]
    selectors:
    - $3
YAML
}
pol nomatch nomatch 'matchArgs: [{index: 1, operator: Equal, values: ["never"]}]'
pol match match 'matchArgs: [{index: 1, operator: Equal, values: ["bench"]}]
      matchActions: [{action: NoPost}]'
pol post post 'matchArgs: [{index: 1, operator: Equal, values: ["bench"]}]'
"$build/vigild" --policy-dir "$tmp/pol" --no-process-events >/dev/null 2>"$tmp/log" &
vpid=$!
for _ in $(seq 900); do grep -q 'ready:' "$tmp/log" && break; sleep 0.1; done
grep -q 'ready:' "$tmp/log" || { cat "$tmp/log"; exit 1; }
# The BPF program's own share: its run time per run from the kernel's BPF
# stats (BPF_ENABLE_STATS, held only during the rounds), by program id.
python3 - "$tmp" "$calls" "$rounds" <<'PY'
import ctypes, json, subprocess, sys
tmp, calls, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_uint32 * 30)()
fd = libc.syscall(321, 32, ctypes.byref(attr), ctypes.sizeof(attr))  # bpf(BPF_ENABLE_STATS, RUN_TIME)
def stats():
    out = {}
    for p in json.loads(subprocess.check_output(["bpftool", "-j", "prog", "show"])):
        if p.get("name") == "vg_gen_uprobe":
            out[p["id"]] = (p.get("run_time_ns", 0), p.get("run_cnt", 0))
    return out
for _ in range(rounds):
    for c in ["plain", "nomatch", "match", "post"]:
        before = stats()
        ns = subprocess.check_output([f"{tmp}/{c}", "--bench", calls]).split()[0].decode()
        after = stats()
        open(f"{tmp}/{c}.ns", "a").write(ns + "\n")
        prog = [(after[i][0] - before[i][0], after[i][1] - before[i][1]) for i in after if i in before and after[i][1] > before[i][1]]
        if prog and fd >= 0:
            t, n = prog[0]
            open(f"{tmp}/{c}.bpf", "a").write("%.1f\n" % (t / n))
PY
kill "$vpid"; wait "$vpid" || true; vpid=
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(median "$tmp/plain.ns")
echo "kernel $(uname -r), $calls calls x $rounds rounds, medians:"
for c in plain nomatch match post; do
  m=$(median "$tmp/$c.ns")
  b=-; [[ -s $tmp/$c.bpf ]] && b=$(median "$tmp/$c.bpf")
  printf '%-8s %10.1f ns/call  %8.1fx plain  (+%.0f ns; BPF program %s ns/run)\n' "$c" "$m" \
    "$(echo "$m / $base" | bc -l)" "$(echo "$m - $base" | bc -l)" "$b"
done
