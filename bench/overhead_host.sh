#!/usr/bin/env bash
# What vigild costs the workload on this host, as a user feels it, and what it
# costs itself. One run, ROUNDS rounds; each round runs the three variants in a
# rotated order (A B C, B C A, C A B, ...) so that machine noise hits them alike:
#   none   no vigild
#   file   vigild --allow-degraded, empty --policy-dir, JSON on stdout > file
#   null   the same, stdout > /dev/null
#   anc0   the same with --ancestors 0 (a lever: ~45% of an exec line is ancestors)
# Workloads, each variant, each round:
#   exec   fork+execve+wait of a tiny static binary, EXECS times (µs/exec)
#   shell  a sh loop: SHELL_ITERS x (cat of a small file, /bin/true) (ms)
#   make   make -j2 of a generated tree of MAKE_FILES tiny C files (ms)
# And per vigild run: ready time (start to the "ready:" log line), its CPU per
# exec of the exec workload (sum of /proc/PID/task/*/schedstat run time, and
# utime+stime from /proc/PID/stat, before/after, after vigild went idle),
# VmRSS/VmHWM, event bytes of process_exec / process_exit lines (file
# variant), and the memlock of its BPF maps and programs (/proc/PID/fdinfo).
# vigild runs with no policies: process events only, nothing is enforced.
#
#   sudo bench/overhead_host.sh [BUILD_DIR] [ROUNDS] [EXECS] [SHELL_ITERS] [MAKE_FILES]
#
# Prints a markdown table: median [min-max] over the rounds, and the ratio of
# the medians to the no-vigild baseline of the same run. docs/benchmarks.md
# ("Overhead on the host") has the results. PERF=1 adds a perf record
# (cpu-clock, -g) of vigild during one extra exec workload and prints its top
# symbols.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rounds=${2:-5}
execs=${3:-2000}
shell_iters=${4:-300}
make_files=${5:-24}
[[ $(id -u) == 0 ]] || { echo "needs root" >&2; exit 1; }
[[ -x $build/vigild ]] || { echo "no vigild in $build" >&2; exit 1; }
tmp=$(mktemp -d /tmp/vigil-overhead.XXXXXX)
vpid=
stop_vigild() {
  if [[ -n $vpid ]]; then
    kill -TERM "$vpid" 2>/dev/null || true
    wait "$vpid" 2>/dev/null || true
    vpid=
  fi
}
trap 'stop_vigild; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# --- workloads ---------------------------------------------------------------
mkdir -p "$tmp/pol" "$tmp/files" "$tmp/src"
printf 'int main(void) { return 0; }\n' >"$tmp/tiny.c"
cc -static -O2 -o "$tmp/tiny" "$tmp/tiny.c"
cat >"$tmp/forkexec.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char** environ;
int main(int argc, char** argv) {  // N BINARY: prints ns per fork+exec+wait
  long n = atol(argv[1]);
  char* args[] = {argv[2], NULL};
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    pid_t p = fork();
    if (p == 0) { execve(argv[2], args, environ); _exit(127); }
    int st;
    if (p < 0 || waitpid(p, &st, 0) != p || st != 0) { perror("fork/exec"); return 1; }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%.0f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n);
  return 0;
}
C
cc -O2 -o "$tmp/forkexec" "$tmp/forkexec.c"
for i in $(seq 20); do head -c 2000 /dev/urandom | base64 >"$tmp/files/f$i"; done
cat >"$tmp/shell.sh" <<'SH'
i=0
while [ $i -lt "$1" ]; do
  cat "$2/f$(( i % 20 + 1 ))" >/dev/null
  /bin/true
  i=$((i + 1))
done
SH
for i in $(seq "$make_files"); do
  printf '#include <stdio.h>\nint f%d(int x) { return x * %d + 1; }\n' "$i" "$i" >"$tmp/src/f$i.c"
done
{
  printf 'OBJS := $(patsubst %%.c,%%.o,$(wildcard *.c))\n'
  printf 'all: lib.a\nlib.a: $(OBJS)\n\tar rcs $@ $^\n'
  printf '%%.o: %%.c\n\tcc -O0 -c -o $@ $<\n'
  printf 'clean:\n\trm -f *.o lib.a\n'
} >"$tmp/src/Makefile"

now_ns() { date +%s%N; }
run_exec() { "$tmp/forkexec" "$execs" "$tmp/tiny"; }             # ns/exec
run_shell() { local t=$(now_ns); sh "$tmp/shell.sh" "$shell_iters" "$tmp/files"; echo $(( ($(now_ns) - t) / 1000 )); }  # µs
run_make() {
  make -s -C "$tmp/src" clean >/dev/null
  local t=$(now_ns); make -s -j2 -C "$tmp/src" >/dev/null; echo $(( ($(now_ns) - t) / 1000 ))
}

# --- vigild probes -----------------------------------------------------------
cpu_ns() { # run time of all of vigild's threads, ns
  cat /proc/"$vpid"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d\n", s}'
}
cpu_ticks() { # utime+stime, clock ticks
  awk '{sub(/.*\) /, ""); print $12 + $13}' /proc/"$vpid"/stat
}
tiny_execs() { grep -c "^{\"process_exec\".*\"binary\":\"$tmp/tiny\"" "$1" || true; }
wakeups() { # context switches of all of vigild's threads (each wait for the ring buffer is one)
  cat /proc/"$vpid"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ {s += $2} END {print s + 0}'
}
forks() { awk '$1 == "processes" {print $2}' /proc/stat; }  # forks since boot, host-wide
settle() { # wait until vigild has drained what the workload queued (max 2 s)
  local a b
  a=$(cpu_ns)
  for _ in $(seq 20); do
    sleep 0.1; b=$(cpu_ns)
    (( b - a < 1000000 )) && return   # < 1 ms CPU in 100 ms: idle
    a=$b
  done
}
bpf_memlock() { # "maps_bytes progs_bytes nmaps nprogs" from vigild's BPF fds
  for f in /proc/"$vpid"/fdinfo/*; do cat "$f" 2>/dev/null; echo; done | awk '
    /^map_id:/ {mid = $2} /^prog_id:/ {pid = $2} /^memlock:/ {ml = $2}
    /^$/ { if (mid != "" && !(mid in M)) {M[mid] = ml; mb += ml; nm++}
           if (pid != "" && !(pid in P)) {P[pid] = ml; pb += ml; np++}
           mid = ""; pid = ""; ml = 0 }
    END {printf "%d %d %d %d\n", mb, pb, nm, np}'
}
ready_ms=
start_vigild() { # OUT: starts vigild (sets vpid), sets ready_ms; not in a subshell
  local out=$1 t0
  shift
  : >"$tmp/log"
  t0=$(now_ns)
  "$build/vigild" --allow-degraded --policy-dir "$tmp/pol" "$@" >"$out" 2>"$tmp/log" &
  vpid=$!
  for _ in $(seq 3000); do
    grep -q 'ready:' "$tmp/log" && break
    kill -0 "$vpid" 2>/dev/null || { cat "$tmp/log" >&2; exit 1; }
    sleep 0.01
  done
  grep -q 'ready:' "$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
  ready_ms=$(( ($(now_ns) - t0) / 1000000 ))
}

R=$tmp/results   # lines: variant metric value
: >"$R"
rec() { echo "$1 $2 $3" >>"$R"; }

one_variant() { # VARIANT ROUND
  local v=$1 out c0 c1 t0 t1 e0 e1 f0 f1 w0 w1 ns
  if [[ $v == none ]]; then
    rec none exec_us "$(awk -v n="$(run_exec)" 'BEGIN {print n / 1000}')"
    rec none shell_ms "$(awk -v n="$(run_shell)" 'BEGIN {print n / 1000}')"
    rec none make_ms "$(awk -v n="$(run_make)" 'BEGIN {print n / 1000}')"
    return
  fi
  local extra=()
  if [[ $v == file ]]; then out=$tmp/events.json; else out=/dev/null; fi
  [[ $v == anc0 ]] && extra=(--ancestors 0)
  start_vigild "$out" "${extra[@]}"
  rec "$v" ready_ms "$ready_ms"
  settle
  [[ $v == file ]] && e0=$(tiny_execs "$out")
  c0=$(cpu_ns); t0=$(cpu_ticks); f0=$(forks); w0=$(wakeups)
  ns=$(run_exec)
  f1=$(forks)
  settle
  c1=$(cpu_ns); t1=$(cpu_ticks); w1=$(wakeups)
  rec "$v" wakeups_per_exec "$(awk -v a="$w0" -v b="$w1" -v n="$execs" 'BEGIN {print (b - a) / n}')"
  rec "$v" exec_us "$(awk -v n="$ns" 'BEGIN {print n / 1000}')"
  rec "$v" cpu_us_per_exec "$(awk -v a="$c0" -v b="$c1" -v n="$execs" 'BEGIN {print (b - a) / n / 1000}')"
  rec "$v" host_forks_per_exec "$(awk -v a="$f0" -v b="$f1" -v n="$execs" 'BEGIN {print (b - a) / n}')"
  rec "$v" cpu_us_per_fork "$(awk -v a="$c0" -v b="$c1" -v f="$((f1 - f0))" 'BEGIN {print (b - a) / f / 1000}')"
  rec "$v" ticks_us_per_exec "$(awk -v a="$t0" -v b="$t1" -v n="$execs" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {print (b - a) * 1e6 / hz / n}')"
  if [[ $v == file ]]; then # the loop's exec events in the output (1.00: none lost)
    e1=$(tiny_execs "$out")
    rec file events_seen_per_exec "$(awk -v a="$e0" -v b="$e1" -v n="$execs" 'BEGIN {print (b - a) / n}')"
  fi
  rec "$v" shell_ms "$(awk -v n="$(run_shell)" 'BEGIN {print n / 1000}')"
  rec "$v" make_ms "$(awk -v n="$(run_make)" 'BEGIN {print n / 1000}')"
  settle
  rec "$v" rss_mib "$(awk '/^VmRSS:/ {print $2 / 1024}' /proc/"$vpid"/status)"
  rec "$v" hwm_mib "$(awk '/^VmHWM:/ {print $2 / 1024}' /proc/"$vpid"/status)"
  read -r mb pb nm np < <(bpf_memlock)
  rec "$v" bpf_maps_kib "$((mb / 1024))"
  rec "$v" bpf_progs_kib "$((pb / 1024))"
  rec "$v" bpf_maps_n "$nm"
  rec "$v" bpf_progs_n "$np"
  stop_vigild
  if [[ $v == file ]]; then # event sizes, bytes per line incl. newline
    awk -v tiny="$tmp/tiny" '
      index($0, "{\"process_exec\"") == 1 { ne++; be += length($0) + 1; if (index($0, tiny)) {nt++; bt += length($0) + 1} }
      index($0, "{\"process_exit\"") == 1 { nx++; bx += length($0) + 1 }
      END { printf "exec_bytes %d\nexit_bytes %d\ntiny_exec_bytes %d\n", ne ? be / ne : 0, nx ? bx / nx : 0, nt ? bt / nt : 0 }' \
      "$out" | while read -r k val; do rec file "$k" "$val"; done
    if command -v python3 >/dev/null; then # what the exec line's bytes are
      python3 - "$out" <<'PY' | while read -r k val; do rec file "$k" "$val"; done
import json, sys
n = anc = cap = 0
for line in open(sys.argv[1], errors="replace"):
    if not line.startswith('{"process_exec"'):
        continue
    e = json.loads(line)["process_exec"]
    n += 1
    anc += len(json.dumps(e.get("ancestors", []), separators=(",", ":")))
    for p in [e.get("process") or {}, e.get("parent") or {}] + list(e.get("ancestors", [])):
        cap += len(json.dumps(p.get("cap", {}), separators=(",", ":")))
if n:
    print("exec_ancestors_bytes", anc // n)
    print("exec_cap_bytes", cap // n)
PY
    fi
    rm -f "$out"
  fi
}

echo "kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds x $execs execs," \
  "shell $shell_iters iterations, make -j2 of $make_files files" >&2
others=$(pgrep -x vigild | tr '\n' ' ' || true)
[[ -n $others ]] && echo "warning: other vigild running (pids $others): their BPF programs run in every variant" >&2
run_exec >/dev/null; run_make >/dev/null   # warm caches
calib() { # decode+enrich+render of an exec (+exit) in a tight loop: this machine's speed now
  [[ -x $build/events_bench ]] || return 0
  "$build/events_bench" --benchmark_filter='^BM_ExecDecodeEnrichRender$' --benchmark_min_time=0.5 2>/dev/null |
    awk '$1 == "BM_ExecDecodeEnrichRender" {print $4 / 1000}' | while read -r u; do rec none calib_us "$u"; done
}
calib
variants=(none file null anc0)
for r in $(seq 0 $((rounds - 1))); do
  for k in 0 1 2 3; do
    v=${variants[$(( (r + k) % 4 ))]}
    echo "$(date -u +%T) round $((r + 1))/$rounds: $v" >&2
    one_variant "$v" "$r"
  done
done

calib
if [[ ${PERF:-0} == 1 ]] && command -v perf >/dev/null; then
  start_vigild /dev/null
  settle
  perf record -q -e cpu-clock -F 999 --call-graph dwarf,16384 -p "$vpid" -o "$tmp/perf.data" -- sleep 600 2>/dev/null &
  ppid=$!
  sleep 0.5
  for _ in 1 2 3; do run_exec >/dev/null; done
  settle
  kill -INT "$ppid"; wait "$ppid" || true
  stop_vigild
  echo "perf (cpu-clock, dwarf call graphs): vigild, 3 x $execs execs, output /dev/null; % of vigild's samples, self+children"
  { perf report -i "$tmp/perf.data" --children --sort sym --stdio -g none 2>/dev/null |
      grep -E '^ +[0-9]' | grep -E 'ring_buffer__poll|onRecord$|Pipeline::write|renderJson|sanitizeStrings|ProcessCache::on(Exec|Clone|Exit)|fillLineage|\] epoll_wait|x64_sys_(write|epoll_wait)|_int_malloc|operator new|pvm_irq_enable|exc_page_fault|formatRfc3339' |
      awk '!seen[$0]++' | cut -c1-120; } || true
  echo
fi

if [[ ${CALLGRIND:-0} == 1 ]] && command -v valgrind >/dev/null; then
  # instructions in vigild's record handling (onRecord and below; not the
  # kernel, not epoll), per process that exited while it ran: load-independent
  : >"$tmp/log"
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" '--toggle-collect=*onRecord*' \
    "$build/vigild" --allow-degraded --policy-dir "$tmp/pol" >"$tmp/cg.json" 2>"$tmp/log" &
  vpid=$!
  for _ in $(seq 300); do grep -q 'ready:' "$tmp/log" && break; sleep 1; done
  "$tmp/forkexec" 500 "$tmp/tiny" >/dev/null
  sleep 3
  stop_vigild
  exits=$(grep -c '^{"process_exit"' "$tmp/cg.json" || true)
  total=$(callgrind_annotate --auto=no "$tmp/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  echo "callgrind: $total instructions in onRecord for $exits process lifecycles (fork+exec+exit):" \
    "$(awk -v t="$total" -v n="$exits" 'BEGIN {printf "%.0f", t / n}') per exec; inclusive:"
  callgrind_annotate --auto=no --inclusive=yes "$tmp/cg.out" 2>/dev/null |
    grep -E 'Pipeline::write|renderJson|sanitizeStrings|ProcessCache::on(Exec|Clone|Exit)\(|fillLineage|Reflection::ListFields\(|Reflection::HasBit|appendJsonString|^ *[0-9,]+ \([^)]*\) +[^ ]*:(malloc|free) ' |
    sed -E 's/\(anonymous namespace\):://g; s/^ *([0-9,]+) \(([^)]*)\) +[^:]*:([^(]*).*/\2 \3/' | awk '!seen[$2]++' || true
  echo
fi

# --- table -------------------------------------------------------------------
mstat() { # VARIANT METRIC -> "median min max" (empty when none)
  awk -v v="$1" -v m="$2" '$1 == v && $2 == m {print $3}' "$R" | sort -g | awk '
    {a[NR] = $1} END { if (NR == 0) exit
      med = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
      printf "%s %s %s\n", med, a[1], a[NR] }'
}
cell() { # VARIANT METRIC [BASE-MEDIAN]
  local s; s=$(mstat "$1" "$2")
  [[ -z $s ]] && { printf -- '-'; return; }
  awk -v s="$s" -v b="${3:-}" 'BEGIN { split(s, x, " ")
    f = x[1] >= 100 ? "%.0f" : (x[1] >= 10 ? "%.1f" : "%.2f")
    printf f " [" f "–" f "]", x[1], x[2], x[3]
    if (b != "" && b > 0) printf " (x%.3f)", x[1] / b }'
}
row() { # LABEL METRIC RATIO?
  local base=
  [[ ${3:-} == ratio ]] && base=$(mstat none "$2" | cut -d' ' -f1)
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$(cell none "$2")" "$(cell file "$2" "$base")" "$(cell null "$2" "$base")" \
    "$(cell anc0 "$2" "$base")"
}
echo "median [min–max] over $rounds rounds (ratio of medians to no vigild); kernel $(uname -r)"
echo
echo "| metric | no vigild | vigild → file | vigild → /dev/null | /dev/null, --ancestors 0 |"
echo "| --- | --- | --- | --- | --- |"
row "fork+exec+wait of a static binary, µs/exec" exec_us ratio
row "shell loop ($shell_iters x cat + /bin/true), ms" shell_ms ratio
row "make -j2, $make_files tiny C files, ms" make_ms ratio
row "vigild CPU per exec (schedstat), µs" cpu_us_per_exec
row "vigild CPU per exec (utime+stime), µs" ticks_us_per_exec
row "vigild context switches per exec" wakeups_per_exec
row "host forks during the exec loop, per workload exec" host_forks_per_exec
row "vigild CPU per host fork (schedstat), µs" cpu_us_per_fork
row "process_exec events of the loop in the output, per exec" events_seen_per_exec
row "ready time, ms" ready_ms
row "events_bench exec+exit, 1.2 KB JSON, tight loop (CPU µs; before and after)" calib_us
row "VmRSS after the round, MiB" rss_mib
row "VmHWM, MiB" hwm_mib
row "process_exec line, bytes (all)" exec_bytes
row "process_exec line, bytes (the tiny binary)" tiny_exec_bytes
row "… of which ancestors (--ancestors 4), bytes" exec_ancestors_bytes
row "… of which cap lists (process, parent, ancestors), bytes" exec_cap_bytes
row "process_exit line, bytes" exit_bytes
row "BPF maps memlock, KiB" bpf_maps_kib
row "BPF programs memlock, KiB" bpf_progs_kib
row "BPF maps (count)" bpf_maps_n
row "BPF programs (count)" bpf_progs_n
