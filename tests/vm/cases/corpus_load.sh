# Every corpus policy that vigilctl accepts either loads and attaches in a real
# kernel (audit mode, so nothing in the guest is denied), or fails to load for
# the reason tests/vm/corpus_expectations.txt gives it (the same file feeds the
# "in the VM" column of docs/tetragon-corpus.md).
. /add/cases/lib.sh
EXPECT=/add/corpus_expectations.txt
n=0
for f in /add/tetragon-policies/*.yaml; do
	if ! vigilctl policy check "$f" >/dev/null 2>&1; then continue; fi
	n=$((n + 1))
	name=$(basename "$f")
	want=$(grep "^$name	" "$EXPECT" 2>/dev/null | cut -f2)
	# Empty the log here, not in the child: the loop below must not read
	# the previous run's "ready:" before the new vigild truncates it.
	: >"$EVENTS"; : >"$VLOG"
	vigild --audit --policy "$f" >"$EVENTS" 2>"$VLOG" &
	VPID=$!
	i=0
	# Until ready or gone (a policy that fails to load makes vigild exit).
	while [ $i -lt 1800 ] && kill -0 "$VPID" 2>/dev/null && ! grep -q 'ready:' "$VLOG"; do
		sleep 0.1; i=$((i + 1))
	done
	[ $i -ge 1800 ] && echo "note: $name: vigild neither ready nor gone after 180 s"
	if grep -q 'ready: 1 policies' "$VLOG"; then
		kill -TERM "$VPID"; wait "$VPID"
		if [ -n "$want" ]; then
			echo "FAIL: $name loaded, but corpus_expectations.txt says it fails: $want"
			FAILS=$((FAILS + 1))
		else
			echo "ok:   $name loaded"
		fi
	else
		kill -TERM "$VPID" 2>/dev/null; wait "$VPID"
		err=$(grep 'error:' "$VLOG" | head -1)
		[ -z "$err" ] && err="(no error logged; vigild exited $?)"
		if [ -n "$want" ] && echo "$err" | grep -qF -- "$want"; then
			echo "ok:   $name does not load, as expected: $want"
		else
			echo "FAIL: $name did not load: $err"; grep -v 'libbpf: [0-9]*: \|libbpf: ; ' "$VLOG" | tail -20
			FAILS=$((FAILS + 1))
		fi
	fi
done
expect "accepted corpus policies tried" "$([ $n -ge 1 ] && echo yes)" "yes"
finish
