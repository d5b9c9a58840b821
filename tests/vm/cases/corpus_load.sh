# Every corpus policy that vigilctl accepts also loads and attaches in a real
# kernel (audit mode, so nothing in the guest is denied).
. /add/cases/lib.sh
n=0
for f in /add/tetragon-policies/*.yaml; do
	if ! vigilctl policy check "$f" >/dev/null 2>&1; then continue; fi
	n=$((n + 1))
	start_vigild --audit --policy "$f"
	stop_vigild >/dev/null
	if grep -q 'ready: 1 policies' $VLOG; then
		echo "ok:   $(basename "$f") loaded"
	else
		echo "FAIL: $(basename "$f") did not load"; cat $VLOG; FAILS=$((FAILS + 1))
	fi
done
expect "accepted corpus policies tried" "$([ $n -ge 1 ] && echo yes)" "yes"
finish
