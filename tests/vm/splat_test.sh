#!/usr/bin/env bash
# The VM runner's kernel-splat scan (tests/vm/run --scan-serial), without
# booting a guest: the recorded serial consoles of normal boots of both Debian
# cloud kernels (testdata/serial-*.log, recorded with the runner's
# "quiet loglevel=5") and the benign lines of testdata/benign.txt match
# nothing; every block of testdata/splats.txt, alone, fails the scan with 123
# and shows its marked line(s). tests/vm/splat_vm.sh checks the same scan on a
# guest's real console.
set -u
here=$(cd "$(dirname "$0")" && pwd)
run=$here/run
td=$here/testdata
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
n_boot=0
for f in "$td"/serial-*.log; do
  [[ -e $f ]] || continue
  n_boot=$((n_boot + 1))
  if out=$("$run" --scan-serial "$f" 2>&1); then
    echo "ok:   $(basename "$f"): a normal boot, no splat"
  else
    echo "FAIL: $(basename "$f"): a normal boot matched as a splat:"; echo "$out"; fail=1
  fi
done
[[ $n_boot -ge 2 ]] || { echo "FAIL: $n_boot recorded boot logs in $td, want one per kernel"; fail=1; }

grep -v '^#' "$td/benign.txt" >"$tmp/benign.log"
# with the \r the serial port puts at the end of lines, too
sed 's/$/\r/' "$tmp/benign.log" >"$tmp/benign-crlf.log"
for f in "$tmp/benign.log" "$tmp/benign-crlf.log"; do
  if out=$("$run" --scan-serial "$f" 2>&1); then echo "ok:   benign lines ($(basename "$f")): no splat"
  else echo "FAIL: benign lines matched:"; echo "$out"; fail=1; fi
done

n=0
grep -v '^#' "$td/splats.txt" | awk -v d="$tmp" '
  /^%%$/ { k++; next } { print > (d "/splat." (k + 0)) }'
for b in "$tmp"/splat.*; do
  n=$((n + 1))
  sed 's/^!//' "$b" | sed 's/$/\r/' >"$b.log"   # as the serial port writes it
  out=$("$run" --scan-serial "$b.log" 2>&1); rc=$?
  first=$(grep -m1 '^!' "$b" | cut -c2-)
  if [[ $rc -ne 123 ]]; then
    echo "FAIL: splat not detected (exit $rc): $first"; fail=1; continue
  fi
  missing=0
  while IFS= read -r want; do
    grep -qF -- "${want#!}" <<<"$out" || { echo "FAIL: the report lacks '${want#!}':"; echo "$out"; missing=1; fail=1; }
  done < <(grep '^!' "$b")
  ((missing)) || echo "ok:   detected and shown: ${first#*] }"
done
[[ $n -ge 15 ]] || { echo "FAIL: only $n splat examples read from splats.txt"; fail=1; }

# A normal boot with one splat appended is caught, and the exit status is
# 123 even though the scan's input is otherwise clean.
f=$(ls "$td"/serial-*.log | head -1)
{ cat "$f"; sed -n 2p "$tmp/splat.0" | cut -c2-; } >"$tmp/mixed.log"
"$run" --scan-serial "$tmp/mixed.log" >/dev/null 2>&1; rc=$?
[[ $rc -eq 123 ]] && echo "ok:   a boot log with a WARNING appended: 123" || { echo "FAIL: boot log + WARNING: exit $rc"; fail=1; }
exit $fail
