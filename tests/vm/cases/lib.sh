# Shared helpers for the guest-side VM tests (busybox sh). Each case sources
# this, runs vigild with a policy, attempts real operations with vigil-try and
# checks the kernel's answer and the JSON events.
set -u
FAILS=0
TRY=/add/vigil-try
EVENTS=/tmp/events.json
VLOG=/tmp/vigild.log
POL=/add/policies
# How lsmhooks are enforced on this boot: BPF LSM, or fmod_ret where the
# kernel was booted without bpf in lsm= (tests/vm/run --lsm).
if grep -qw bpf /sys/kernel/security/lsm; then MECH=bpf_lsm; else MECH=fmod_ret; fi
echo "guest: $(uname -r), LSMs $(cat /sys/kernel/security/lsm), expecting mechanism $MECH"

# start_vigild ARG... : runs vigild in the background, waits until it is ready.
start_vigild() {
	# Truncate here, not only in the child: the wait below must not see a
	# previous run's "ready:" before the new vigild has opened the log.
	: >"$EVENTS"; : >"$VLOG"
	vigild "$@" >"$EVENTS" 2>"$VLOG" &
	VPID=$!
	i=0
	# Up to 180 s: under TCG on a busy host, verifying a dozen hook programs
	# takes a while.
	while [ $i -lt "${READY_TENTHS:-1800}" ]; do
		if grep -q 'ready:' "$VLOG"; then return 0; fi
		if ! kill -0 "$VPID" 2>/dev/null; then
			echo "FAIL: vigild exited before ready:"; cat "$VLOG"; exit 1
		fi
		sleep 0.1; i=$((i + 1))
	done
	echo "FAIL: vigild not ready after 180 s:"; cat "$VLOG"; exit 1
}

# stop_vigild: SIGTERM, wait, and show its log (for diagnosis).
stop_vigild() {
	kill -TERM "$VPID"
	wait "$VPID"
	VRC=$?
	sed 's/^/  vigild| /' "$VLOG"
	if [ "$VRC" -ne 0 ]; then echo "FAIL: vigild exited with $VRC"; FAILS=$((FAILS + 1)); fi
}

# expect DESC ACTUAL WANTED
expect() {
	if [ "$2" = "$3" ]; then
		echo "ok:   $1 -> $2"
	else
		echo "FAIL: $1 -> got '$2', want '$3'"; FAILS=$((FAILS + 1))
	fi
}

# expect_event DESC FRAGMENT... : some event line holds every fragment.
expect_event() {
	desc=$1; shift
	tmp=$EVENTS
	for frag in "$@"; do
		grep -F -- "$frag" "$tmp" >/tmp/ev.$$ || true
		tmp=/tmp/ev.$$.2; cp /tmp/ev.$$ "$tmp"
	done
	if [ -s "$tmp" ]; then
		echo "ok:   event $desc"
	else
		echo "FAIL: no event $desc with: $*"; echo "  events:"; sed 's/^/    /' "$EVENTS"
		FAILS=$((FAILS + 1))
	fi
}

# expect_no_event DESC FRAGMENT
expect_no_event() {
	if grep -qF -- "$2" "$EVENTS"; then
		echo "FAIL: unexpected event $1: $(grep -F -- "$2" "$EVENTS" | head -1)"; FAILS=$((FAILS + 1))
	else
		echo "ok:   no event $1"
	fi
}

# expect_no_lsm_event DESC FRAGMENT : no policy event holds FRAGMENT.
expect_no_lsm_event() {
	if grep -F '"process_lsm"' "$EVENTS" | grep -qF -- "$2"; then
		echo "FAIL: unexpected policy event $1"; FAILS=$((FAILS + 1))
	else
		echo "ok:   no policy event $1"
	fi
}

finish() {
	if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
	echo "all checks passed"; exit 0
}
