#!/usr/bin/env bash
# The shipped unit passes `systemd-analyze verify`, keeps its exposure score
# (`systemd-analyze security`) at or under 4.0, and the shipped vigil.yaml is
# one vigild accepts and runs with.
# Exit status 77 (ctest: skipped) when systemd-analyze is missing, or when
# the vigild part cannot run here (not root, tp_btf refused) and everything
# else passed: a test that could not check what it promises does not pass.
. "$(dirname "$0")/lib/common.sh"
src=${VIGIL_SOURCE_DIR:?}
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
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

if [[ $(id -u) -ne 0 ]]; then
  skip="needs root to run vigild"
elif ! "$vigilctl" probe | grep -q '^tp_btf *yes'; then
  skip="tp_btf refused here"
else
  skip=
  mkdir -p "$tmp/varlog" "$tmp/empty"
  sed "s|/var/log/vigil|$tmp/varlog|; s|/var/lib/vigil/spool|$tmp/spool|" "$src/packaging/vigil.yaml" >"$tmp/vigil.yaml"
  start_vigild /dev/null --config "$tmp/vigil.yaml" --policy-dir "$tmp/empty" --rules-dir "$src/rules/default"
  stop_vigild
  [[ $vrc -eq 0 ]] && echo "ok:   shipped vigil.yaml and rules run" || { echo "FAIL: shipped config (exit $vrc)"; fail=1; }
  [[ -s $tmp/varlog/events.jsonl ]] && echo "ok:   archive sink written" || { echo "FAIL: no archive"; fail=1; }
fi
if [[ -n $skip && $fail -eq 0 ]]; then
  echo "SKIP: the shipped vigil.yaml was not run: $skip"; exit 77
fi
exit $fail
