#!/usr/bin/env bash
# CLI conventions both programs keep: --version, --help on stdout with exit 0,
# a usage error with exit 2 on stderr. No root needed.
. "$(dirname "$0")/lib/common.sh"
fail=0
check() {  # check NAME GOT WANT
  if [[ $2 == "$3" ]]; then echo "ok:   $1"; else printf 'FAIL: %s\n  got:  %s\n  want: %s\n' "$1" "$2" "$3"; fail=1; fi
}
src=${VIGIL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
version=$(sed -n 's/^project(vigil VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
check "vigild --version" "$("$vigild" --version)" "vigild $version"
check "vigilctl --version" "$("$vigilctl" --version)" "vigilctl $version"
"$vigild" --help >"$tmp/out" 2>"$tmp/err"; rc=$?
check "vigild --help: stdout, exit 0" "$rc $(grep -c -- '^  --policy-dir' "$tmp/out") $(wc -c <"$tmp/err")" "0 1 0"
"$vigilctl" --help >"$tmp/out" 2>"$tmp/err"; rc=$?
check "vigilctl --help: stdout, exit 0" "$rc $(grep -c '^  events' "$tmp/out") $(wc -c <"$tmp/err")" "0 1 0"
"$vigild" --no-such-flag >"$tmp/out" 2>"$tmp/err"; rc=$?
check "vigild unknown flag: exit 1 (usage), on stderr" "$rc $(wc -c <"$tmp/out") $([[ -s $tmp/err ]] && echo said)" "1 0 said"
"$vigilctl" events --type bogus >"$tmp/out" 2>"$tmp/err"; rc=$?
check "vigilctl enum value checked: exit 2, on stderr" "$rc $(wc -c <"$tmp/out") $(grep -c 'one of: process_exec' "$tmp/err")" "2 0 1"
# rules check --skip-invalid: a rule on a field Vigil lacks only warns; a
# broken file still fails.
cat >"$tmp/r.yaml" <<'YAML'
- rule: good
  desc: d
  condition: evt.type = execve
  output: "x %proc.name"
  priority: WARNING
- rule: lacks a field
  desc: d
  condition: evt.type = execve and proc.sname = x
  output: "y"
  priority: WARNING
YAML
"$vigilctl" rules check "$tmp/r.yaml" >"$tmp/out"; rc=$?
check "rules check: a rule that does not compile fails" "$rc" "1"
"$vigilctl" rules check --skip-invalid "$tmp/r.yaml" >"$tmp/out"; rc=$?
check "rules check --skip-invalid: it warns, exit 0" "$rc $(grep -c 'rule skipped (--skip-invalid) (warning)' "$tmp/out")" "0 1"
printf -- '- rule: [\n' >"$tmp/bad.yaml"
"$vigilctl" rules check --skip-invalid "$tmp/bad.yaml" >"$tmp/out"; rc=$?
check "rules check --skip-invalid: a broken file still fails" "$rc" "1"
exit $fail
