# Runs several cases one after another in one guest: booting a guest under
# TCG costs more than most small cases, and CI runs every case on two kernels.
# Each case runs in its own shell with an empty /tmp, as it would alone; a
# vigild it left running is stopped before the next. Fails when any case
# failed, naming them.
#   sh /add/cases/group.sh exec_enforce sigkill ...
set -u
failed=""
for c in "$@"; do
	echo "=== case $c"
	start=$(date +%s)
	if sh "/add/cases/$c.sh"; then r=passed; else r=FAILED; failed="$failed $c"; fi
	echo "=== case $c: $r in $(($(date +%s) - start)) s"
	for pid in $(pidof vigild 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	rm -rf /tmp/* /tmp/.[!.]* 2>/dev/null
done
if [ -n "$failed" ]; then
	echo "failed cases:$failed"
	exit 1
fi
echo "all $# cases passed"
