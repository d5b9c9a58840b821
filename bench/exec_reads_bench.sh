#!/usr/bin/env bash
# Kernel cost of an exec record per read variant: the run time of
# tp_btf/sched_process_exec per exec, from the kernel's BPF run-time stats
# (BPF_ENABLE_STATS, held only while measuring), with vigild run once per
# variant (--exec-reads proc | helper | btf; proc reads no paths: the
# baseline) and the same exec loop each time.
#
#   bench/exec_reads_bench.sh [VIGILD] [EXECS] [ROUNDS]
#
# Needs root and a kernel where both variants load (vigilctl probe: read_kernel
# and btf_reads yes). Prints ns per exec for two binaries: a short path and a
# deep one (20 components, 326 bytes). Other processes' execs on the host are
# counted too; they are few next to the loop's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
vigild=${1:-$root/build/vigild}
execs=${2:-3000}
rounds=${3:-5}
tmp=$(mktemp -d)
vpid=
trap 'if [[ -n $vpid ]]; then kill "$vpid" 2>/dev/null || true; fi; rm -rf "$tmp"' EXIT
mkdir "$tmp/empty"
. "$root/tests/e2e/lib/deep_path.sh"
deep=$(deep_binary "$tmp")

measure() { # BINARY: prints ns per run of vg_tp_exec over $execs execs of BINARY
  python3 - "$1" "$execs" "$tmp" <<'PY'
import ctypes, json, os, subprocess, sys
binary, n, cwd = sys.argv[1], int(sys.argv[2]), sys.argv[3]
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_uint32 * 30)()          # union bpf_attr; enable_stats.type = BPF_STATS_RUN_TIME (0)
fd = libc.syscall(321, 32, ctypes.byref(attr), ctypes.sizeof(attr))  # bpf(BPF_ENABLE_STATS)
if fd < 0:
    sys.exit("BPF_ENABLE_STATS: errno %d" % ctypes.get_errno())
def stats():
    progs = json.loads(subprocess.check_output(["bpftool", "-j", "prog", "show", "name", "vg_tp_exec"]))
    p = progs[0] if isinstance(progs, list) else progs
    return p.get("run_time_ns", 0), p.get("run_cnt", 0)
t0, c0 = stats()
for _ in range(n):
    pid = os.posix_spawn(binary, [binary, "-x", "argument"], {}, file_actions=[])
    os.waitpid(pid, 0)
t1, c1 = stats()
os.close(fd)
print("%.0f" % ((t1 - t0) / max(c1 - c0, 1)))
PY
}

# Rounds interleave the variants, so that load from elsewhere on the machine
# falls on all of them alike; the medians are printed.
for round in $(seq "$rounds"); do
  for mode in proc helper btf; do
    "$vigild" --policy-dir "$tmp/empty" --no-process-events --exec-reads "$mode" >/dev/null 2>"$tmp/log" &
    vpid=$!
    for _ in $(seq 100); do grep -q 'ready:' "$tmp/log" && break; sleep 0.1; done
    grep -q 'ready:' "$tmp/log" || { cat "$tmp/log"; exit 1; }
    (cd "$tmp" && measure /usr/bin/true) >>"$tmp/$mode.short"
    (cd "$tmp" && measure "$deep") >>"$tmp/$mode.deep"
    kill "$vpid"; wait "$vpid" || true; vpid=
  done
done
median() { sort -n "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
echo "ns per exec of tp_btf/sched_process_exec, median of $rounds rounds of $execs execs"
echo "(short: /usr/bin/true; deep: a ${#deep}-byte path of 20 components)"
for mode in proc helper btf; do
  echo "$mode short $(median "$tmp/$mode.short") deep $(median "$tmp/$mode.deep")  (short: $(tr '\n' ' ' <"$tmp/$mode.short"))"
done
