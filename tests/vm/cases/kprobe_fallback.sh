# kprobes attach as kprobe/kretprobe where fentry/fexit cannot be used
# (forced here with --kprobe-mechanism kprobe, on a kernel that has both):
# the same argument values as fentry (string, path, file, sockaddr, integer),
# return probes through kretprobe with matchReturnArgs, Sigkill and Signal in
# enforce and monitor mode, and Override refused with a clear reason. The
# per-call cost of fentry vs kprobe is measured by bench/kprobe_bench.sh.
. /add/cases/lib.sh
mkdir -p /tmp/kp
echo data >/tmp/kp/file
# The kprobe parts of hooks_enforce.sh's policies, without their lsmhooks.
kprobes_of() { awk '/^  [a-z]+:/ { skip = ($1 == "lsmhooks:") } !skip' "$1"; }
kprobes_of $POL/hooks.yaml >/tmp/kp-hooks.yaml
kprobes_of $POL/hooks-monitor.yaml >/tmp/kp-monitor.yaml

# Override cannot be honoured by a kprobe: the policy load fails, naming it.
{ sed 's/name: getpgid-watch/name: test-kprobe-override/' $POL/getpgid-watch.yaml
  echo '      matchActions: [{action: Override, argError: -1}]'; } >/tmp/override.yaml
vigild --kprobe-mechanism kprobe --policy /tmp/override.yaml >/dev/null 2>/tmp/override.log
expect "Override with kprobes forced: exit status" "$?" "3"
grep -q 'policy test-kprobe-override: kprobes sys_getpgid cannot be enforced on this kernel: kprobe/sys_getpgid: Override needs fmod_ret, and --kprobe-mechanism kprobe forbids trampolines: a kprobe cannot override a return value (bpf_override_return needs CONFIG_BPF_KPROBE_OVERRIDE)' /tmp/override.log \
	&& echo "ok:   Override refusal names the function and why" \
	|| { echo "FAIL: Override refusal message:"; cat /tmp/override.log; FAILS=$((FAILS + 1)); }
# The option is checked.
vigild --kprobe-mechanism kretprobe --policy /tmp/override.yaml >/dev/null 2>&1
expect "bad --kprobe-mechanism: usage error" "$?" "1"

# fentry (auto on this kernel): the reference events.
start_vigild --no-process-events --policy $POL/kprobe-args.yaml
expect "fentry: symlink" "$($TRY symlink /x/y.kp-target /tmp/kp/l1)" "ok"
expect "fentry: open a file under /tmp/kp/" "$($TRY open /tmp/kp/file)" "ok"
expect "fentry: connect 10.9.1.2:99 killed" "$($TRY connect udp 10.9.1.2 99)" "signal=KILL"
stop_vigild
cp $EVENTS /tmp/fentry.json
grep -o 'attached [^ ]* for [^ ]* (hook id [0-9]*, loaded in [0-9]* ms)' $VLOG | sed 's/^/load: /'

# kprobe forced: everything again, plus return probes and monitor mode.
start_vigild --no-process-events --control-socket /run/vigil-kp.sock --kprobe-mechanism kprobe --policy $POL/kprobe-args.yaml --policy /tmp/kp-hooks.yaml \
	--policy /tmp/kp-monitor.yaml
expect "kprobe: symlink" "$($TRY symlink /x/y.kp-target /tmp/kp/l2)" "ok"
expect "kprobe: open a file under /tmp/kp/" "$($TRY open /tmp/kp/file)" "ok"
expect "kprobe: connect 10.9.1.2:99 killed" "$($TRY connect udp 10.9.1.2 99)" "signal=KILL"
expect "kprobe: connect 10.9.1.2:98 lives" "$($TRY connect udp 10.9.1.2 98)" "errno=ENETUNREACH"
expect "kprobe: getpgid 4242 Signal USR1" "$($TRY getpgid 4242)" "signal=USR1"
expect "kprobe: getpgid 4243 Sigkill" "$($TRY getpgid 4243)" "signal=KILL"
expect "kprobe: getpgid 4244 NoPost" "$($TRY getpgid 4244)" "ok"
expect "kretprobe: getpgid 4247 returns -ESRCH: Sigkill" "$($TRY getpgid 4247)" "signal=KILL"
expect "kretprobe: getpgid 0 returns a pgid: Post" "$($TRY getpgid 0)" "ok"
expect "monitor: getpgid 5242 not signalled" "$($TRY getpgid 5242)" "ok"
expect "monitor: getpgid 5243 not killed" "$($TRY getpgid 5243)" "ok"
vigilctl --socket /run/vigil-kp.sock status >/tmp/status.txt 2>&1 || true
stop_vigild
grep -o 'attached [^ ]* for [^ ]* (hook id [0-9]*, loaded in [0-9]* ms)' $VLOG | sed 's/^/load: /'

for m in kprobe/security_path_symlink kprobe/fd_install kprobe/security_socket_connect \
	kprobe/__x64_sys_getpgid kretprobe/__x64_sys_getpgid; do
	grep -q "attached $m for" $VLOG && echo "ok:   attached $m" \
		|| { echo "FAIL: $m not attached"; FAILS=$((FAILS + 1)); }
done
grep -q 'kprobe/__x64_sys_getpgid' /tmp/status.txt && grep -q 'kretprobe/__x64_sys_getpgid' /tmp/status.txt \
	&& echo "ok:   vigilctl status shows the mechanism per hook" \
	|| { echo "FAIL: vigilctl status:"; cat /tmp/status.txt; FAILS=$((FAILS + 1)); }
grep -q 'attached fentry/' $VLOG && { echo "FAIL: a trampoline with kprobes forced"; FAILS=$((FAILS + 1)); }
# The same argument values, whichever mechanism read them.
for fn in security_path_symlink fd_install security_socket_connect; do
	a=$(grep "\"function_name\":\"$fn\"" /tmp/fentry.json | grep -o '"args":\[[^]]*\]' | head -1)
	b=$(grep "\"function_name\":\"$fn\"" $EVENTS | grep -o '"args":\[[^]]*\]' | head -1)
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		echo "ok:   $fn: same arguments as fentry: $b"
	else
		echo "FAIL: $fn arguments: fentry '$a', kprobe '$b'"; FAILS=$((FAILS + 1))
	fi
done
expect_event "kprobe string and path" '"function_name":"security_path_symlink"' '"mechanism":"kprobe"' \
	'"label":"dir","file_arg":"/tmp/kp"' '"label":"target","string_arg":"/x/y.kp-target"'
expect_event "kprobe file" '"function_name":"fd_install"' '"mechanism":"kprobe"' \
	'"label":"file","file_arg":"/tmp/kp/file"'
expect_event "kprobe sockaddr Sigkill" '"function_name":"security_socket_connect"' '"mechanism":"kprobe"' \
	'"sock_arg":"inet 10.9.1.2:99"' '"label":"addrlen","int_arg":"16"' '"outcome":"OUTCOME_KILLED"'
expect_event "kprobe Signal" '"function_name":"sys_getpgid"' '"mechanism":"kprobe"' \
	'"label":"pid","int_arg":"4242"' '"outcome":"OUTCOME_SIGNALED"' '"signal":10'
expect_event "kprobe Sigkill" '"mechanism":"kprobe"' '"int_arg":"4243"' '"outcome":"OUTCOME_KILLED"'
expect_no_event "for NoPost" '"int_arg":"4244"'
expect_event "kretprobe Sigkill" '"mechanism":"kretprobe"' '"int_arg":"4247"' '"return":{"int_arg":"-3"}' \
	'"outcome":"OUTCOME_KILLED"'
expect_event "kretprobe Post" '"mechanism":"kretprobe"' '"label":"pid","int_arg":"0"' '"return":{"int_arg":"'
expect_event "monitor Signal" '"policy_name":"test-hooks-monitor"' '"mechanism":"kprobe"' '"int_arg":"5242"' \
	'"outcome":"OUTCOME_WOULD_SIGNAL"'
expect_event "monitor Sigkill" '"policy_name":"test-hooks-monitor"' '"int_arg":"5243"' \
	'"outcome":"OUTCOME_WOULD_KILL"'
finish
