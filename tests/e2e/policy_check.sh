#!/usr/bin/env bash
# vigilctl policy check: valid files pass; a malformed file is reported as
# FILE:LINE:COL with exit status 1; the shipped policies are all valid.
set -u
vigilctl=$2
src=${VIGIL_SOURCE_DIR:?}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0

out=$("$vigilctl" policy check "$src"/policies/*.yaml "$src"/tests/vm/policies/*.yaml 2>&1)
rc=$?
echo "$out"
[[ $rc -eq 0 ]] || { echo "FAIL: shipped/test policies rejected (exit $rc)"; fail=1; }

# A selector with an unsupported operator, on line 14, column 19.
cat >"$tmp/bad.yaml" <<'YAML'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: bad-policy
spec:
  lsmhooks:
  - hook: "file_open"
    args:
    - index: 0
      type: "file"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Contains"
        values:
        - "/etc/shadow"
YAML
printf 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: [unclosed\n' >"$tmp/syntax.yaml"
out=$("$vigilctl" policy check "$tmp/bad.yaml" "$tmp/syntax.yaml" 2>&1)
rc=$?
echo "$out"
[[ $rc -eq 1 ]] || { echo "FAIL: exit status $rc, want 1"; fail=1; }
grep -qE "^$tmp/bad.yaml:14:19: .*Contains" <<<"$out" || { echo "FAIL: no FILE:14:19 error for the operator"; fail=1; }
grep -qE "^$tmp/syntax.yaml:[0-9]+:[0-9]+: " <<<"$out" || { echo "FAIL: no FILE:LINE:COL for the syntax error"; fail=1; }
exit $fail
