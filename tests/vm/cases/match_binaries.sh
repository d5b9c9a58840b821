# matchBinaries In: only the named binary is denied, including its forked
# children and processes that started before vigild.
. /add/cases/lib.sh
mkdir -p /tmp/bins /tmp/guarded
cp $TRY /tmp/bins/untrusted
cp $TRY /tmp/bins/trusted
echo g >/tmp/guarded/file
# Started before vigild: known from /proc at start.
mkfifo /tmp/go
/tmp/bins/untrusted after /tmp/go open /tmp/guarded/file >/tmp/early.out &
EARLY=$!
start_vigild --policy $POL/binary-open.yaml
expect "untrusted binary" "$(/tmp/bins/untrusted open /tmp/guarded/file)" "errno=EPERM"
expect "trusted binary" "$(/tmp/bins/trusted open /tmp/guarded/file)" "ok"
expect "untrusted, unguarded file" "$(/tmp/bins/untrusted open /etc/passwd)" "ok"
echo go >/tmp/go; wait $EARLY
expect "process started before vigild" "$(cat /tmp/early.out)" "errno=EPERM"
stop_vigild
expect_event "binary match" '"policy_name":"test-binary-open"' '"binary":"/tmp/bins/untrusted"' \
	'"path":"/tmp/guarded/file"' '"outcome":"OUTCOME_DENIED"'
expect_no_lsm_event "for the trusted binary" '"binary":"/tmp/bins/trusted"'
finish
