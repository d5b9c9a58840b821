#!/usr/bin/env bash
# The VM runner fails a run whose guest kernel logged a splat, on a real
# guest: COMMAND exits 0 after writing a WARNING in the kernel's own format
# to /dev/kmsg at KERN_CRIT, so it goes through the kernel's log and the
# serial console exactly as a WARN() would; the runner must exit 123 and show
# it. A real splat cannot be provoked safely from userspace in these guests
# (the Debian cloud kernels have no LKDTM, no fault injection, no lockdep),
# hence the injected line; tests/vm/splat_test.sh checks the matcher against
# recorded consoles of normal boots and real splat forms.
#   tests/vm/splat_vm.sh [--kernel 6.1|6.12]
set -u
here=$(cd "$(dirname "$0")" && pwd)
mark="vigil-splat-test-$$"
out=$("$here/run" "$@" --timeout 120 -- sh -c "
  echo '<2>WARNING: CPU: 0 PID: 1 at $mark:1 injected+0x0/0x1' >/dev/kmsg && echo written" 2>&1)
rc=$?
echo "$out"
fail=0
grep -qx written <<<"$out" && echo "ok:   COMMAND wrote the line and exited 0" || { echo "FAIL: COMMAND did not run"; fail=1; }
[[ $rc -eq 123 ]] && echo "ok:   the runner exited 123" || { echo "FAIL: the runner exited $rc, want 123"; fail=1; }
grep -q "| .*WARNING: CPU: 0 PID: 1 at $mark:1" <<<"$out" && echo "ok:   the splat is shown" ||
  { echo "FAIL: the splat is not in the runner's report"; fail=1; }
# the runner keeps a failed run's logs; this failure was the point
kept=$(sed -n 's|.*full serial log: \(/.*/vigil-vm\.[A-Za-z0-9]*\)/serial\.log.*|\1|p' <<<"$out" | head -1)
[[ -n $kept && -d $kept ]] && rm -rf "$kept"
exit $fail
