# Exec records' paths from the kernel, whichever read variant this boot
# allows (bpf_probe_read_kernel, or BTF-typed reads under
# lockdown=confidentiality): a binary at a deep path (names of 1..17 bytes
# around the walk's 8-byte words, names of 60 and 70 bytes, 326+ bytes in
# all), a cwd across a mount, arguments including an empty one and one of
# 600 bytes. The processes exit at once, so /proc could not have supplied
# any of it ('"flags":"execve"' matches no "execve procFS").
. /add/cases/lib.sh
d=/tmp/ep
n=1
while [ $n -le 17 ]; do d="$d/$(printf 'n%.0s' $(seq $n))"; n=$((n + 1)); done
d="$d/$(printf 'L%.0s' $(seq 60))/$(printf 'M%.0s' $(seq 70))"
mkdir -p "$d" /tmp/mnt /tmp/nopol
cp /bin/busybox "$d/prog"
mount -t tmpfs none /tmp/mnt && mkdir /tmp/mnt/work
big=$(printf 'A%.0s' $(seq 600))
start_vigild --policy-dir /tmp/nopol
if grep -q 'through BTF-typed pointers' "$VLOG"; then reads=btf; else reads=helper; fi
echo "exec reads: $reads (lockdown: $(cat /sys/kernel/security/lockdown))"
(cd /tmp/mnt/work && "$d/prog" x '' 'y z' >/dev/null 2>&1)
(cd /tmp/mnt/work && "$d/prog" big "$big" >/dev/null 2>&1)
stop_vigild
expect_event "deep binary, mount-crossing cwd, empty argument" '"process_exec"' \
	"\"binary\":\"$d/prog\"" '"cwd":"/tmp/mnt/work"' "\"arguments\":\"x '' 'y z'\"" '"flags":"execve"'
if [ $reads = btf ]; then
	# bpf_snprintf copies up to 511 bytes of one argument
	expect_event "600-byte argument cut at 511" '"process_exec"' \
		"\"arguments\":\"big $(printf 'A%.0s' $(seq 511))\"" '"flags":"execve truncArgs"'
else
	expect_event "600-byte argument whole" '"process_exec"' "\"arguments\":\"big $big\"" '"flags":"execve"'
fi
finish
