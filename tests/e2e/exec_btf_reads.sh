#!/usr/bin/env bash
# Exec events without bpf_probe_read_kernel, as under lockdown=confidentiality:
# vigild --exec-reads btf reads binary and cwd through BTF-typed pointers only
# and argv with bpf_snprintf("%pus") (libbpf turns bpf_probe_read_user into
# the refused bpf_probe_read under confidentiality). Processes the test spawns exit at once,
# so /proc cannot have supplied what the events carry (and the events must not
# be flagged procFS). Paths cover what the walk must get right: a symlinked
# /bin, a mount crossing (/dev/shm), names of every length around the 8-byte
# words the walk copies, a name too long for the dentry's inline buffer, a path
# longer than 255 bytes; and the controlling terminal of a process on a pty.
. "$(dirname "$0")/lib/common.sh"
need_tp_btf
if ! "$vigilctl" probe | grep -q '^btf_reads *yes'; then echo "SKIP: no bpf_rdonly_cast here"; exit 77; fi
mkdir "$tmp/empty"
. "$(dirname "$0")/lib/deep_path.sh"
prog=$(deep_binary "$tmp")
# cwd across a mount: /dev/shm is a tmpfs on most hosts
shm=$(mktemp -d /dev/shm/vigil-e2e-XXXXXX)
trap 'if [[ -n $vpid ]]; then kill "$vpid" 2>/dev/null; fi; rm -rf "$tmp" "$shm"' EXIT
mkdir "$shm/work"
start_vigild "$tmp/events" --policy-dir "$tmp/empty" --exec-reads btf
grep -q 'through BTF-typed pointers' "$tmp/log" || { cat "$tmp/log"; echo "FAIL: vigild did not pick the BTF reads"; exit 1; }
marker="vigil-btf-$$"
# setsid: no controlling terminal, whatever the test runs under
(cd "$shm/work" && exec setsid -w /bin/echo "$marker" 'two words' "") >/dev/null
(cd "$shm/work" && exec "$prog" "$marker-long" x)
big=$(printf 'A%.0s' $(seq 600))
"$prog" "$marker-big" "$big"
script -qec "/bin/echo $marker-tty" /dev/null >/dev/null </dev/null
sleep 1
stop_vigild
fail=0
[[ $vrc -eq 0 ]] || { echo "FAIL: vigild exit $vrc"; fail=1; }
event() { jq -c --arg a "$1" 'select(.process_exec.process.arguments? // "" | startswith($a))' "$tmp/events" | head -1; }
check() { # event jq-expr expected
  local got; got=$(jq -r "$2" <<<"$1")
  [[ $got == "$3" ]] && echo "ok:   $2 = ${3:0:120}" || { echo "FAIL: $2 = '$got', want '$3'"; fail=1; }
}
e=$(event "$marker 'two words'")
[[ -n $e ]] || { echo "FAIL: no process_exec for the echo"; fail=1; }
check "$e" .process_exec.process.binary "$(readlink -f /bin/echo)"
check "$e" .process_exec.process.arguments "$marker 'two words' ''"
check "$e" .process_exec.process.cwd "$(readlink -f "$shm/work")"
check "$e" .process_exec.process.flags execve
check "$e" '.process_exec.process.ns.pid.inum' "$(stat -Lc %i /proc/self/ns/pid)"
e=$(event "$marker-long")
[[ -n $e ]] || { echo "FAIL: no process_exec for the long path"; fail=1; }
want=$(readlink -f "$prog")
echo "long binary path: ${#want} bytes"
check "$e" .process_exec.process.binary "$want"
check "$e" .process_exec.process.binary_truncated null
check "$e" .process_exec.process.flags execve
# One argument longer than bpf_snprintf's 511 bytes: cut there, flagged.
e=$(event "$marker-big")
[[ -n $e ]] || { echo "FAIL: no process_exec with the long argument"; fail=1; }
check "$e" .process_exec.process.arguments "$marker-big ${big:0:511}"
check "$e" .process_exec.process.arguments_truncated true
check "$e" .process_exec.process.flags "execve truncArgs"
e=$(event "$marker-tty")
[[ -n $e ]] || { echo "FAIL: no process_exec for the echo on a pty"; fail=1; }
check "$e" '.process_exec.process.tty | test("^pts/[0-9]+$")' true
check "$(event "$marker 'two words'")" '.process_exec.process.tty // "" | test("^pts/")' false
exit $fail
