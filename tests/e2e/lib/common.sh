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

# wait_ready PID LOG: waits until vigild (PID) has written 'ready:' to LOG.
# Fails the test at once when vigild exits first, and after
# VIGIL_E2E_READY_TIMEOUT seconds (default 240: verifying generic programs on
# a busy shared host takes minutes; ctest's TIMEOUT is the outer limit).
wait_ready() {
  local pid=$1 log=$2 limit=${VIGIL_E2E_READY_TIMEOUT:-240} start=$SECONDS
  until grep -q 'ready:' "$log"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log"; echo "FAIL: vigild exited before it was ready"; exit 1
    fi
    if ((SECONDS - start >= limit)); then
      cat "$log"; echo "FAIL: vigild not ready after ${limit}s"; exit 1
    fi
    sleep 0.1
  done
}

# wait_for FILE PATTERN [SECONDS]: until a line of FILE matches PATTERN
# (grep -E), up to SECONDS (30); returns 1 if it never did. Events reach the
# output asynchronously: wait for the one a check needs, not a fixed time.
wait_for() {
  local file=$1 pat=$2 limit=${3:-30} start=$SECONDS
  until grep -qE -- "$pat" "$file" 2>/dev/null; do
    ((SECONDS - start < limit)) || return 1
    sleep 0.1
  done
}

# start_vigild STDOUT_FILE ARG...: vigild in the background (stderr in
# $tmp/log) until it says it is ready; fails the test otherwise.
start_vigild() {
  local out=$1
  shift
  : >"$tmp/log"
  "$vigild" "$@" >"$out" 2>"$tmp/log" &
  vpid=$!
  wait_ready "$vpid" "$tmp/log"
}

# stop_vigild: SIGTERM and wait; its exit status in $vrc, its log printed.
stop_vigild() {
  kill -TERM "$vpid"
  wait "$vpid"
  vrc=$?
  vpid=
  cat "$tmp/log"
}
