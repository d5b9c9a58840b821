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
for _ in $(seq "$rounds"); do
  for c in plain nomatch match post; do
    "$tmp/$c" --bench "$calls" | awk '{print $1}' >>"$tmp/$c.ns"
  done
done
kill "$vpid"; wait "$vpid" || true; vpid=
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(median "$tmp/plain.ns")
echo "kernel $(uname -r), $calls calls x $rounds rounds, medians:"
for c in plain nomatch match post; do
  m=$(median "$tmp/$c.ns")
  printf '%-8s %10.1f ns/call  %8.1fx plain  (+%.0f ns)\n' "$c" "$m" "$(echo "$m / $base" | bc -l)" "$(echo "$m - $base" | bc -l)"
done
