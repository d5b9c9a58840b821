#!/usr/bin/env bash
# What a syscalls/* tracepoint instance costs the system calls it is not
# about, against a raw_syscalls/sys_enter instance that evaluates every call.
# A copy of vigil-try times CALLS getpgid(2) calls (ns per call, best of
# ROUNDS) with no vigild, then under vigild with each policy alone:
#   nr-filter:  syscalls/sys_enter_dup (the program compares the system call
#               number and returns for every other call)
#   full:       raw_syscalls/sys_enter with a selector on the id (InMap dup):
#               every call reads its arguments and runs the selector loop
# Both selectors are scoped by matchBinaries to a temp copy no process runs,
# and only post: nothing on the machine is denied or signalled.
#
#   bench/tracepoint_bench.sh [BUILD_DIR] [CALLS] [ROUNDS]
#
# Needs root and tp_btf (the host's kernel has it). docs/tracepoints.md has
# the results.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
calls=${2:-2000000}
rounds=${3:-5}
tmp=$(mktemp -d)
vpid=
trap 'if [[ -n $vpid ]]; then kill "$vpid" 2>/dev/null || true; fi; rm -rf "$tmp"' EXIT
cp "$build/tests/vigil-try" "$tmp/try"
pol() { # NAME TRACEPOINT-YAML
  cat >"$tmp/$1.yaml" <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: bench-$1}
spec:
  lists: [{name: dups, type: syscalls, values: [sys_dup]}]
  tracepoints:
  - $2
    selectors:
    - matchBinaries: [{operator: In, values: ["$tmp/nobody-runs-this"]}]
YAML
}
pol nr-filter 'subsystem: syscalls
    event: sys_enter_dup
    args: [{index: 5, type: int}]'
pol full 'subsystem: raw_syscalls
    event: sys_enter
    args: [{index: 4, type: syscall64}]'
echo '      matchArgs: [{index: 0, operator: InMap, values: ["list:dups"]}]' >>"$tmp/full.yaml"
best() { # the lowest ns/call of ROUNDS runs
  local b= v
  for _ in $(seq "$rounds"); do
    v=$("$tmp/try" bench-getpgid "$calls" 0)
    if [[ -z $b || $v -lt $b ]]; then b=$v; fi
  done
  echo "$b"
}
under() { # POLICY: best ns/call while vigild runs it
  "$build/vigild" --no-process-events --policy "$tmp/$1.yaml" >/dev/null 2>"$tmp/log" &
  vpid=$!
  for _ in $(seq 900); do grep -q 'ready:' "$tmp/log" && break; sleep 0.1; done
  grep -q 'ready:' "$tmp/log" || { cat "$tmp/log"; exit 1; }
  best
  kill -TERM "$vpid"; wait "$vpid" || true; vpid=
}
echo "kernel $(uname -r), $calls getpgid calls x $rounds rounds (best)"
best >/dev/null  # warm-up
base=$(best)
nr=$(under nr-filter)
full=$(under full)
base2=$(best)
[[ $base2 -lt $base ]] && base=$base2
echo "no vigild:                       $base ns/call"
echo "syscalls/sys_enter_dup:          $nr ns/call (+$((nr - base)))"
echo "raw_syscalls/sys_enter, id InMap: $full ns/call (+$((full - base)))"
