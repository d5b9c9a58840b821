# Enforcement survives the daemon: with --pin-dir, kill -9 leaves the policy
# enforced; the next start adopts the pinned maps and links, reads the events
# the kernel queued while no daemon ran, and a clean stop removes everything.
. /add/cases/lib.sh
PIN=/sys/fs/bpf/vigil
mkdir -p /tmp/denied
cp /bin/busybox /tmp/denied/true
cp /bin/busybox /tmp/denied/while-down
sed 's|        - "/tmp/denied/true"|        - "/tmp/denied/true"\n        - "/tmp/denied/while-down"|' $POL/deny-exec.yaml >/tmp/p.yaml
start_vigild --pin-dir $PIN --policy /tmp/p.yaml
expect "denied (first daemon)" "$($TRY exec /tmp/denied/true)" "errno=EPERM"
# Let the first daemon read that event before it dies; otherwise the next one
# reads it from the adopted ring buffer (as it should) and the count below is 2.
i=0; while [ $i -lt 50 ] && ! grep -q '"path":"/tmp/denied/true"' $EVENTS; do sleep 0.1; i=$((i + 1)); done
kill -9 "$VPID"; wait "$VPID" 2>/dev/null
expect "denied while no daemon runs" "$($TRY exec /tmp/denied/while-down)" "errno=EPERM"
ls $PIN | grep -q '^link_hook_[0-9]*$' && echo "ok:   links pinned" || { echo "FAIL: no pinned link"; ls $PIN; FAILS=$((FAILS + 1)); }

start_vigild --pin-dir $PIN --policy /tmp/p.yaml
grep -q 'adopting pinned maps and links' $VLOG && echo "ok:   second daemon adopted the pins" || { echo "FAIL: not adopted"; FAILS=$((FAILS + 1)); }
expect "denied (second daemon)" "$($TRY exec /tmp/denied/true)" "errno=EPERM"
sleep 1
stop_vigild
expect "event queued while down, read after restart" \
	"$(grep '"process_lsm"' $EVENTS | grep -c '"path":"/tmp/denied/while-down"')" "1"
expect "one event per denial after adoption" \
	"$(grep '"process_lsm"' $EVENTS | grep -c '"path":"/tmp/denied/true"')" "1"
expect_event "queued event named" '"policy_name":"test-deny-exec"' '"path":"/tmp/denied/while-down"' '"outcome":"OUTCOME_DENIED"'
expect "clean stop removed the pins" "$(ls $PIN 2>/dev/null | wc -l | tr -d ' ')" "0"
expect "allowed after a clean stop" "$($TRY exec /tmp/denied/true)" "ok"
finish
