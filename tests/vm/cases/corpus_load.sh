# Every corpus policy that vigilctl accepts either loads and attaches in a real
# kernel (audit mode, so nothing in the guest is denied), or fails to load for
# the reason tests/vm/corpus_expectations.txt gives it; the ones it rejects are
# exactly those the file lists as "rejected: " (the same file feeds the
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

# Every file of the corpus is accounted for: vigilctl rejects exactly the
# files listed as "rejected: " (for the reason given), and accepts every other.
total=0 rejected=0 loads=0
for f in /add/tetragon-policies/*.yaml; do
	total=$((total + 1))
	base=$(basename "$f")
	want=$(expected_failure "$base")
	vigilctl policy check "$f" >/tmp/check.txt 2>&1
	name=$(sed -n 's/.*: ok (policy \(.*\))$/\1/p' /tmp/check.txt)
	case "$want" in
	"rejected: "*)
		rejected=$((rejected + 1))
		if [ -n "$name" ]; then
			echo "FAIL: $base accepted, but corpus_expectations.txt says: $want"; FAILS=$((FAILS + 1))
		elif grep -qF -- "${want#rejected: }" /tmp/check.txt; then
			echo "ok:   $base rejected, as expected: ${want#rejected: }"
		else
			echo "FAIL: $base rejected, but not for the expected reason (${want#rejected: }): $(head -1 /tmp/check.txt)"
			FAILS=$((FAILS + 1))
		fi
		continue ;;
	esac
	if [ -z "$name" ]; then
		echo "FAIL: $base rejected by vigilctl, not listed in corpus_expectations.txt: $(head -1 /tmp/check.txt)"
		FAILS=$((FAILS + 1)); continue
	fi
	n=$((n + 1))
	[ -n "$want" ] && continue
	loads=$((loads + 1))
	case "$NAMES" in *" $name "*) flush ;; esac
	BATCH="$BATCH --policy $f" NAMES="$NAMES$name " FILES="$FILES $f"
done
flush

# The ones expected not to load, one at a time, for the reason given.
while IFS='	' read -r file want kernel; do
	[ -z "$file" ] && continue
	[ -z "$kernel" ] || [ "$kernel" = "$KSERIES" ] || continue
	f=/add/tetragon-policies/$file
	if [ ! -f "$f" ]; then
		echo "FAIL: corpus_expectations.txt names $file, which is not in the corpus"; FAILS=$((FAILS + 1)); continue
	fi
	case "$want" in "rejected: "*) continue ;; esac
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
# The counts docs/tetragon-corpus.md states (36 files, 33 accepted; 29 load
# on 6.1, 28 on 6.12): a corpus that shrank or a parser that rejects more
# must not pass by loading what is left.
if [ "$KSERIES" = 6.12 ]; then want_loads=28; else want_loads=29; fi
expect "corpus files, accepted, rejected, loading" "$total $n $rejected $loads" "36 33 3 $want_loads"
finish
