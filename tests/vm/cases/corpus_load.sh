# Every corpus policy that vigilctl accepts either loads and attaches in a real
# kernel (audit mode, so nothing in the guest is denied), or fails to load for
# the reason tests/vm/corpus_expectations.txt gives it (the same file feeds the
# "in the VM" column of docs/tetragon-corpus.md). Policies expected to load go
# in batches (one vigild per batch, names unique within a batch): starting
# vigild once per file took minutes under TCG.
. /add/cases/lib.sh
EXPECT=/add/corpus_expectations.txt
n=0

# run_vigild ARG...: vigild until ready or gone; prints nothing, sets READY.
run_vigild() {
	# Empty the log here, not in the child: the loop below must not read the
	# previous run's "ready:" before the new vigild truncates it.
	: >"$EVENTS"; : >"$VLOG"
	vigild --audit "$@" >"$EVENTS" 2>"$VLOG" &
	VPID=$!
	i=0
	# Up to 600 s: a batch verifies some 35 generic hooks, 1-10 s each under
	# TCG depending on how busy the host is.
	while [ $i -lt 6000 ] && kill -0 "$VPID" 2>/dev/null && ! grep -q 'ready:' "$VLOG"; do
		sleep 0.1; i=$((i + 1))
	done
	READY=$(grep -c 'ready:' "$VLOG")
	kill -TERM "$VPID" 2>/dev/null; wait "$VPID" 2>/dev/null
}

# expected_failure FILE: the reason FILE is expected not to load on this
# kernel (corpus_expectations.txt: FILE<tab>REASON[<tab>KERNEL SERIES]).
KSERIES=$(uname -r | cut -d. -f1,2)
expected_failure() {
	while IFS='	' read -r file want kernel; do
		[ "$file" = "$1" ] || continue
		[ -z "$kernel" ] || [ "$kernel" = "$KSERIES" ] || continue
		echo "$want"
	done <"$EXPECT"
}

BATCH="" NAMES=" " FILES=""
flush() {
	[ -z "$BATCH" ] && return
	count=$(echo $FILES | wc -w)
	run_vigild $BATCH
	if [ "$READY" -ge 1 ] && grep -q "ready: $count policies" "$VLOG"; then
		for f in $FILES; do echo "ok:   $(basename "$f") loaded"; done
	else
		echo "FAIL: batch did not load: $(grep 'error:' "$VLOG" | head -1)"
		echo "  batch: $FILES"
		grep -v 'libbpf: [0-9]*: \|libbpf: ; ' "$VLOG" | tail -20
		FAILS=$((FAILS + 1))
	fi
	BATCH="" NAMES=" " FILES=""
}

for f in /add/tetragon-policies/*.yaml; do
	name=$(vigilctl policy check "$f" 2>/dev/null | sed -n 's/.*: ok (policy \(.*\))$/\1/p')
	[ -z "$name" ] && continue
	n=$((n + 1))
	[ -n "$(expected_failure "$(basename "$f")")" ] && continue
	case "$NAMES" in *" $name "*) flush ;; esac
	BATCH="$BATCH --policy $f" NAMES="$NAMES$name " FILES="$FILES $f"
done
flush

# The ones expected not to load, one at a time, for the reason given.
while IFS='	' read -r file want kernel; do
	[ -z "$file" ] && continue
	[ -z "$kernel" ] || [ "$kernel" = "$KSERIES" ] || continue
	f=/add/tetragon-policies/$file
	run_vigild --policy "$f"
	if [ "$READY" -ge 1 ]; then
		echo "FAIL: $file loaded, but corpus_expectations.txt says it fails: $want"
		FAILS=$((FAILS + 1))
	elif grep 'error:' "$VLOG" | head -1 | grep -qF -- "$want"; then
		echo "ok:   $file does not load, as expected: $want"
	else
		echo "FAIL: $file did not load, but not for the expected reason ($want): $(grep 'error:' "$VLOG" | head -1)"
		FAILS=$((FAILS + 1))
	fi
done <"$EXPECT"
expect "accepted corpus policies tried" "$([ $n -ge 1 ] && echo yes)" "yes"
finish
