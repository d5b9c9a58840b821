# Shared by the host e2e tests (sourced with the test's arguments: VIGILD
# VIGILCTL): a temp dir removed at exit, and vigild run in the background.
set -u
vigild=$1 vigilctl=$2
tmp=$(mktemp -d)
vpid=
helpers=()  # other background processes of the test (servers), killed at exit
trap 'if [[ -n $vpid ]]; then kill "$vpid" 2>/dev/null; fi; for h in "${helpers[@]}"; do kill "$h" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# Skips (77) unless BPF programs can be loaded here and tp_btf works: the
# process events these tests observe come from tp_btf programs.
need_tp_btf() {
  if [[ $(id -u) -ne 0 ]]; then echo "SKIP: needs root to load BPF"; exit 77; fi
  if ! "$vigilctl" probe | grep -q '^tp_btf *yes'; then echo "SKIP: tp_btf refused here"; exit 77; fi
}

# Skips (77) unless root can attach uprobes here; sets uprobe_target to the
# test program the uprobe tests probe (a copy of it, never a shared binary).
need_uprobes() {
  if [[ $(id -u) -ne 0 ]]; then echo "SKIP: needs root to load BPF"; exit 77; fi
  if [[ ! -e /sys/bus/event_source/devices/uprobe/type ]]; then echo "SKIP: no uprobe PMU"; exit 77; fi
  uprobe_target=$(dirname "$vigild")/tests/vigil-uprobe-target
  [[ -x $uprobe_target ]] || {
    echo "FAIL: $uprobe_target not built (cmake --build build --target vigil-uprobe-target)"
    exit 1
  }
}

# start_vigild STDOUT_FILE ARG...: vigild in the background (stderr in
# $tmp/log) until it says it is ready; fails the test otherwise.
start_vigild() {
  local out=$1
  shift
  "$vigild" "$@" >"$out" 2>"$tmp/log" &
  vpid=$!
  for _ in $(seq 100); do grep -q 'ready:' "$tmp/log" && return 0; sleep 0.1; done
  cat "$tmp/log"
  echo "FAIL: vigild not ready"
  exit 1
}

# stop_vigild: SIGTERM and wait; its exit status in $vrc, its log printed.
stop_vigild() {
  kill -TERM "$vpid"
  wait "$vpid"
  vrc=$?
  vpid=
  cat "$tmp/log"
}
