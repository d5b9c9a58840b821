# Verifier cost of the generic hook instances: for each instance vigild loads,
# its size, the instructions the verifier processed (bpf_prog_info's
# verified_insns, the stable figure) and its load time (open + verify +
# attach, noisy under TCG), then the time until vigild is ready. Runs inside a
# VM guest (busybox sh), one guest per kernel and boot:
#
#   tests/vm/run --kernel 6.12 [--lsm lockdown,capability] --add bench/verifier_cost.sh \
#       --add tests/vm/policies -- sh /add/verifier_cost.sh [POLICY.yaml ...]
#
# The default policies are hooks.yaml and hooks-monitor.yaml: seven LSM hooks
# (fmod_ret on security_* when booted without bpf in lsm=), an fentry and an
# fexit. docs/benchmarks.md has the method and results.
set -u
[ $# -gt 0 ] || set -- /add/policies/hooks.yaml /add/policies/hooks-monitor.yaml
args=
for p in "$@"; do args="$args --policy $p"; done
start=$(date +%s)
# shellcheck disable=SC2086 # one word per argument
vigild --no-process-events $args >/dev/null 2>/tmp/v.log &
pid=$!
while ! grep -q 'ready:' /tmp/v.log; do
  kill -0 $pid 2>/dev/null || { cat /tmp/v.log; exit 1; }
  sleep 0.2
done
ready=$(($(date +%s) - start))
kill -TERM $pid
wait $pid
echo "kernel $(uname -r), lsm=$(cat /sys/kernel/security/lsm 2>/dev/null || echo '?')"
echo "instance | instructions | verified | load ms"
sed -n 's/.*loaded \([^ ]*\) for \([^:]*\): \([0-9]*\) instructions, \([0-9]*\) verified, in \([0-9]*\) ms.*/\1 (\2) | \3 | \4 | \5/p' /tmp/v.log
echo "vigild ready after ${ready} s"
