#!/usr/bin/env bash
# The shipped unit passes `systemd-analyze verify`, keeps its exposure score
# (`systemd-analyze security`) at or under 4.0, and the shipped vigil.yaml is
# one vigild accepts and runs with.
set -u
vigild=$1 vigilctl=$2
src=${VIGIL_SOURCE_DIR:?}
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d); trap 'kill $vpid 2>/dev/null; rm -rf "$tmp"' EXIT
vpid=
fail=0
sed "s|/usr/bin/vigild|$vigild|; s|/usr/bin/vigilctl|$vigilctl|" "$src/packaging/vigil.service" >"$tmp/vigil.service"
# verify runs man(1) for the unit's man: Documentation: the package's pages
mkdir -p "$tmp/man/man8" "$tmp/man/man5"
cp "$src"/docs/man/*.8 "$tmp/man/man8/" && cp "$src"/docs/man/*.5 "$tmp/man/man5/"
out=$(MANPATH=$tmp/man systemd-analyze verify "$tmp/vigil.service" 2>&1); rc=$?
echo "$out"
[[ $rc -eq 0 && -z $out ]] && echo "ok:   systemd-analyze verify" || { echo "FAIL: verify (rc $rc)"; fail=1; }
score=$(systemd-analyze security --offline=true "$tmp/vigil.service" 2>/dev/null |
  sed -n 's/.*Overall exposure level for vigil.service: \([0-9.]*\).*/\1/p')
echo "exposure: $score"
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 4.0) }' && echo "ok:   exposure $score <= 4.0" ||
  { echo "FAIL: exposure '$score' > 4.0"; fail=1; }

if [[ $(id -u) -eq 0 ]] && "$vigilctl" probe | grep -q '^tp_btf *yes'; then
  mkdir -p "$tmp/log" "$tmp/empty"
  sed "s|/var/log/vigil|$tmp/log|; s|/var/lib/vigil/spool|$tmp/spool|" "$src/packaging/vigil.yaml" >"$tmp/vigil.yaml"
  "$vigild" --config "$tmp/vigil.yaml" --policy-dir "$tmp/empty" --rules-dir "$src/rules/default" \
    >/dev/null 2>"$tmp/err" &
  vpid=$!
  for _ in $(seq 100); do grep -q 'ready:' "$tmp/err" && break; sleep 0.1; done
  kill -TERM $vpid; wait $vpid; rc=$?; vpid=
  cat "$tmp/err"
  [[ $rc -eq 0 ]] && grep -q 'ready:' "$tmp/err" && echo "ok:   shipped vigil.yaml and rules run" || { echo "FAIL: shipped config"; fail=1; }
  [[ -s $tmp/log/events.jsonl ]] && echo "ok:   archive sink written" || { echo "FAIL: no archive"; fail=1; }
fi
exit $fail
