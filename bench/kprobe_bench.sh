# Per-call cost of a kprobes hook attached as fentry vs as kprobe, on the
# same function (sys_getpgid, getpgid-watch.yaml: one selector the calls miss),
# and the load (verification + attach) time of each instance. Runs inside a
# VM guest (busybox sh), one guest per kernel:
#
#   tests/vm/run --kernel 6.12 --add bench/kprobe_bench.sh --add build/tests/vigil-try \
#       --add tests/vm/policies/getpgid-watch.yaml -- sh /add/kprobe_bench.sh [CALLS] [ROUNDS]
#
# Prints ns per getpgid() without vigild, with the fentry instance, with the
# kprobe instance (best of ROUNDS runs of CALLS calls each), the overhead of
# each and their ratio. docs/benchmarks.md has the method and results.
set -u
calls=${1:-50000}
rounds=${2:-5}
TRY=/add/vigil-try
POLICY=/add/getpgid-watch.yaml
best() { # prints the lowest ns/call of $rounds runs
  b=
  i=0
  while [ $i -lt "$rounds" ]; do
    v=$($TRY bench-getpgid "$calls" 1)
    if [ -z "$b" ] || [ "$v" -lt "$b" ]; then b=$v; fi
    i=$((i + 1))
  done
  echo "$b"
}
run() { # MODE: starts vigild with --kprobe-mechanism MODE, prints "ns load_ms"
  vigild --no-process-events --kprobe-mechanism "$1" --policy $POLICY >/dev/null 2>/tmp/v.log &
  pid=$!
  while ! grep -q 'ready:' /tmp/v.log; do
    kill -0 $pid 2>/dev/null || { cat /tmp/v.log; exit 1; }
    sleep 0.1
  done
  ns=$(best)
  kill -TERM $pid; wait $pid
  ms=$(sed -n 's/.*attached .* for kprobe\/sys_getpgid (hook id [0-9]*, loaded in \([0-9]*\) ms).*/\1/p' /tmp/v.log)
  prog=$(sed -n 's/.*attached \([a-z]*\/[^ ]*\) for kprobe\/sys_getpgid .*/\1/p' /tmp/v.log)
  echo "$ns $ms $prog"
}
echo "kernel $(uname -r), $calls calls x $rounds rounds (best)"
best >/dev/null # warm-up: the first runs of a loop pay for TCG translation
base=$(best)
set -- $(run fentry); f_ns=$1 f_ms=$2 f_prog=$3
set -- $(run kprobe); k_ns=$1 k_ms=$2 k_prog=$3
base2=$(best)
echo "no vigild:        $base ns/call (again after: $base2; the lower is the baseline)"
[ "$base2" -lt "$base" ] && base=$base2
echo "$f_prog:  $f_ns ns/call, overhead $((f_ns - base)) ns; loaded in $f_ms ms"
echo "$k_prog:  $k_ns ns/call, overhead $((k_ns - base)) ns; loaded in $k_ms ms"
if [ $((f_ns - base)) -gt 0 ]; then
  echo "overhead ratio kprobe/fentry: $(( (k_ns - base) * 100 / (f_ns - base) ))%"
fi
