# Events the kernel cannot queue are counted and reported, never silent: with
# a 16 KiB ring buffer and vigild stopped, 300 execs overflow it; once vigild
# runs again, a status event reports the loss, and every exec is accounted
# for as either an event or a counted loss.
. /add/cases/lib.sh
mkdir -p /tmp/rl
cp /bin/busybox /tmp/rl/true
start_vigild --ring-buffer-kb 16 --policy-dir /tmp/rl
kill -STOP "$VPID"
i=0
while [ $i -lt 300 ]; do /tmp/rl/true; i=$((i + 1)); done
kill -CONT "$VPID"
sleep 7
stop_vigild
seen=$(grep '"process_exec"' $EVENTS | grep -c '"binary":"/tmp/rl/true"')
lost=$(grep '"KIND_LOST_EVENTS"' $EVENTS | grep '"subject":"sched_process_exec"' | sed -n 's/.*"count":"\([0-9]*\)".*/\1/p' | awk '{s+=$1} END {print s+0}')
echo "exec events seen: $seen, reported lost: $lost"
expect "a loss was reported" "$([ "$lost" -gt 0 ] && echo yes)" "yes"
expect "every exec accounted for" "$([ $((seen + lost)) -ge 300 ] && echo yes)" "yes"
expect_event "status event" '"status":{"kind":"KIND_LOST_EVENTS"' '"subject":"sched_process_exec"'
finish
