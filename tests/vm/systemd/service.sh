#!/bin/bash
# Vigil as a systemd service, in a Debian 12 guest booted with systemd as init
# (tests/vm/systemd/test boots it). Installs the freshly built .deb with dpkg,
# then checks what an operator relies on:
#   - a broken policy fails `systemctl start` (exit 2, no restart loop);
#   - `systemctl start vigil` returns (Type=notify) only once policies are
#     enforced: an exec denied right after it returns is denied;
#   - a policy dropped into /etc/vigil/policies.d/ is enforced (exec and open);
#   - `systemctl reload vigil` with a broken policy fails, keeps the old one
#     enforced and reports FILE:LINE:COL in the journal and in `vigilctl
#     status`; the journal entries carry structured fields (PRIORITY,
#     VIGIL_FILE, VIGIL_POLICY, CODE_FILE, ...); a good reload adds a policy;
#   - `kill -9` of vigild leaves enforcement in place while it is down, systemd
#     restarts it, and the event of an exec denied meanwhile is delivered
#     afterwards (pinned ring buffer);
#   - `dpkg -i` over the running service (upgrade) restarts it, still enforcing;
#   - `systemctl stop vigil` removes every pin, link and program it attached.
set -u
FAILS=0
TRY=/usr/local/bin/vigil-try
PD=/etc/vigil/policies.d
EVENTS=/var/log/vigil/events.jsonl

ok() { echo "ok:   $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
# expect DESC ACTUAL WANTED
expect() { if [ "$2" = "$3" ]; then ok "$1 -> $2"; else fail "$1 -> got '$2', want '$3'"; fi; }
# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds
wait_for() {
	local n=$(($1 * 5)); shift
	while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.2; n=$((n - 1)); done
	return 1
}
elapsed() { echo "[$(cut -d' ' -f1 /proc/uptime)s]"; }
journal() { journalctl -u vigil --no-pager -o cat "$@"; }
vigil_progs() { bpftool prog show 2>/dev/null | grep -c ' name vg_'; }
# links do not name their program; systemd has its own (BPF LSM restrict_fs)
bpf_links() { bpftool link show 2>/dev/null | grep -c '^[0-9][0-9]*: '; }
show_diag() {
	echo "--- systemctl status vigil"; systemctl status vigil --no-pager -l 2>&1 | tail -n 20
	echo "--- journalctl -u vigil (last 40)"; journal -n 40
}

echo "guest: $(uname -r), $(systemctl --version | head -n1), LSMs $(cat /sys/kernel/security/lsm)"

# --- install ----------------------------------------------------------------
DEB=$(ls /add/vigil*.deb | head -n1)
if ! dpkg -i "$DEB" >/tmp/dpkg.log 2>&1; then
	cat /tmp/dpkg.log; echo "FAIL: dpkg -i $DEB"; exit 1
fi
ok "dpkg -i $(basename "$DEB") $(elapsed)"
for m in man8/vigild.8 man8/vigilctl.8 man5/vigil.yaml.5; do
	[ -s /usr/share/man/$m ] || fail "the package did not install /usr/share/man/$m"
done
# the postinst ran systemctl daemon-reload
expect "unit known to systemd" "$(systemctl show -p LoadState --value vigil)" "loaded"
install -m 755 /add/vigil-try $TRY
mkdir -p /usr/local/denied /srv
cp /bin/true /usr/local/denied/true
cp /bin/true /usr/local/denied/while-down
echo secret >/srv/vigil-secret
expect "exec allowed before vigil runs" "$($TRY exec /usr/local/denied/true)" "ok"
expect "open allowed before vigil runs" "$($TRY open /srv/vigil-secret)" "ok"

cat >$PD/zz-vm-deny.yaml <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: vm-deny
spec:
  lsmhooks:
  - hook: "bprm_check_security"
    args:
    - index: 0
      type: "linux_binprm"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Prefix"
        values:
        - "/usr/local/denied/"
      matchActions:
      - action: Override
        argError: -1
  - hook: "file_open"
    args:
    - index: 0
      type: "file"
    selectors:
    - matchArgs:
      - index: 0
        operator: "Equal"
        values:
        - "/srv/vigil-secret"
      matchActions:
      - action: Override
        argError: -1
EOF

links_before=$(bpf_links)

# --- a broken policy at start: the start fails, no restart loop -------------
printf 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: [oops\n' >$PD/zz-broken-start.yaml
systemctl start vigil 2>/dev/null && fail "systemctl start succeeded with a broken policy" ||
	ok "systemctl start fails with a broken policy"
expect "  unit failed, exit status 2 (invalid policy)" \
	"$(systemctl is-active vigil) $(systemctl show -p ExecMainStatus --value vigil)" "failed 2"
expect "  not restarted (RestartPreventExitStatus)" "$(systemctl show -p NRestarts --value vigil)" "0"
journalctl -u vigil -o json --no-pager | grep '"VIGIL_FILE":"/etc/vigil/policies.d/zz-broken-start.yaml"' |
	grep -q '"PRIORITY":"3"' && ok "  journal: the error with VIGIL_FILE, PRIORITY=3" ||
	{ fail "  no journal entry with VIGIL_FILE for the start error"; journal -n 10; }
rm $PD/zz-broken-start.yaml
systemctl reset-failed vigil
# --- start: ready means enforced --------------------------------------------
echo "systemctl start vigil $(elapsed)"
if ! systemctl start vigil; then
	fail "systemctl start vigil"; show_diag; exit 1
fi
# the very first thing after start returns
r_exec=$($TRY exec /usr/local/denied/true)
r_open=$($TRY open /srv/vigil-secret)
echo "started $(elapsed)"
expect "exec denied as soon as start returned" "$r_exec" "errno=EPERM"
expect "open denied (policy from $PD)" "$r_open" "errno=EPERM"
expect "vigil active" "$(systemctl is-active vigil)" "active"
echo "  status: $(systemctl show -p StatusText --value vigil)"
expect "other execs run" "$($TRY exec /bin/true)" "ok"
[ -n "$(ls /sys/fs/bpf/vigil 2>/dev/null)" ] && ok "pins under /sys/fs/bpf/vigil" || fail "nothing pinned under /sys/fs/bpf/vigil"
vigilctl status >/tmp/status.txt 2>&1 && ok "vigilctl status" || { fail "vigilctl status"; cat /tmp/status.txt; }
grep -q 'vm-deny' /tmp/status.txt && ok "vigilctl status lists vm-deny" || { fail "vm-deny not in vigilctl status"; cat /tmp/status.txt; }

# --- reload with a broken policy --------------------------------------------
printf 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: [oops\n' >$PD/zz-broken.yaml
# ExecReload is `vigilctl reload`: the reload is over when systemctl returns,
# and it fails
systemctl reload vigil 2>/tmp/reload.err && fail "systemctl reload succeeded with a broken policy" ||
	ok "systemctl reload fails with a broken policy: $(head -n1 /tmp/reload.err)"
if vigilctl status 2>&1 | grep -q "$PD/zz-broken.yaml:[0-9]*:[0-9]*:"; then
	ok "vigilctl status reports the broken file as FILE:LINE:COL: $(vigilctl status 2>&1 | grep -m1 zz-broken.yaml)"
else
	fail "vigilctl status does not report $PD/zz-broken.yaml:LINE:COL"; vigilctl status
fi
expect "exec still denied after the broken reload" "$($TRY exec /usr/local/denied/true)" "errno=EPERM"
expect "vigil still active" "$(systemctl is-active vigil)" "active"
journal | grep -q "$PD/zz-broken.yaml:[0-9]*:[0-9]*:" && ok "journal names FILE:LINE:COL" ||
	{ fail "journal does not name $PD/zz-broken.yaml:LINE:COL"; journal -n 20; }

# structured fields (sd_journal_send): the reload error as one JSON entry
journalctl -u vigil -o json --no-pager >/tmp/journal.json
field() { # field ENTRY NAME -> value of a string field of a JSON line
	sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p" <<<"$1"
}
entry=$(grep '"VIGIL_FILE":"/etc/vigil/policies.d/zz-broken.yaml"' /tmp/journal.json | head -n1)
if [ -n "$entry" ]; then
	ok "journal entry with VIGIL_FILE=$PD/zz-broken.yaml"
	expect "  its PRIORITY (err)" "$(field "$entry" PRIORITY)" "3"
	# the location the message names, as fields
	loc=$(sed -n 's|.*/etc/vigil/policies.d/zz-broken.yaml:\([0-9]*\):\([0-9]*\): .*|\1 \2|p' <<<"$(field "$entry" MESSAGE)")
	expect "  its VIGIL_LINE VIGIL_COLUMN" "$(field "$entry" VIGIL_LINE) $(field "$entry" VIGIL_COLUMN)" "${loc:-?}"
	expect "  its SYSLOG_IDENTIFIER" "$(field "$entry" SYSLOG_IDENTIFIER)" "vigild"
	expect "  its _TRANSPORT (native protocol)" "$(field "$entry" _TRANSPORT)" "journal"
	expect "  its _SYSTEMD_UNIT" "$(field "$entry" _SYSTEMD_UNIT)" "vigil.service"
	[ -n "$(field "$entry" CODE_FILE)" ] && ok "  its CODE_FILE $(field "$entry" CODE_FILE):$(field "$entry" CODE_LINE)" ||
		{ fail "  no CODE_FILE in: $entry"; }
else
	fail "no journal entry with VIGIL_FILE=$PD/zz-broken.yaml"; grep zz-broken /tmp/journal.json | head -n 3
fi
entry=$(grep '"MESSAGE":"ready:' /tmp/journal.json | head -n1)
expect "ready line at PRIORITY info" "$(field "$entry" PRIORITY)" "6"
policy_entry=$(grep '"VIGIL_POLICY":"vm-deny"' /tmp/journal.json | head -n1)
[ -n "$policy_entry" ] && ok "an entry with VIGIL_POLICY=vm-deny: $(field "$policy_entry" MESSAGE)" || fail "no entry with VIGIL_POLICY=vm-deny"

# the broken file gone and a new policy dropped in, a reload succeeds again
rm $PD/zz-broken.yaml
echo secret >/srv/vigil-secret2
expect "open allowed before the new policy" "$($TRY open /srv/vigil-secret2)" "ok"
sed 's/name: vm-deny/name: vm-deny-2/; s|/srv/vigil-secret|/srv/vigil-secret2|; s|/usr/local/denied/|/usr/local/denied-2/|' \
	$PD/zz-vm-deny.yaml >$PD/zz-vm-deny-2.yaml
systemctl reload vigil && ok "systemctl reload succeeds once the file is gone" || fail "systemctl reload failed after the fix"
expect "open denied by the policy added on reload" "$($TRY open /srv/vigil-secret2)" "errno=EPERM"
journal | grep -q 'reload: .* policies .* in force' && ok "journal: reload in force" || fail "no successful reload in the journal"
vigilctl status 2>&1 | grep -q 'last reload failed' && fail "stale reload error in vigilctl status" ||
	ok "vigilctl status no longer reports a reload error"
expect "exec denied after the good reload" "$($TRY exec /usr/local/denied/true)" "errno=EPERM"

# --- kill -9: enforcement stays, systemd restarts, queued events arrive -----
# the events so far have reached the file sink before the daemon dies
wait_for 20 grep -q '"path":"/usr/local/denied/true"' $EVENTS || fail "no event for the first denial in $EVENTS"
pid=$(systemctl show -p MainPID --value vigil)
kill -9 "$pid"
r_down=$($TRY exec /usr/local/denied/while-down)
state_down=$(systemctl is-active vigil)
expect "exec denied while vigild is down (state $state_down)" "$r_down" "errno=EPERM"
restarted() { local p; p=$(systemctl show -p MainPID --value vigil); [ "$(systemctl is-active vigil)" = active ] && [ "$p" != 0 ] && [ "$p" != "$pid" ]; }
if wait_for 90 restarted; then
	ok "systemd restarted vigild (pid $pid -> $(systemctl show -p MainPID --value vigil), NRestarts=$(systemctl show -p NRestarts --value vigil)) $(elapsed)"
else
	fail "vigild was not restarted"; show_diag
fi
journal | grep -q 'adopting pinned maps and links' && ok "the new vigild adopted the pins" || fail "no adoption logged"
expect "exec denied after the restart" "$($TRY exec /usr/local/denied/true)" "errno=EPERM"
queued() { grep '"path":"/usr/local/denied/while-down"' $EVENTS | grep -q '"process_lsm"'; }
if wait_for 30 queued; then
	expect "event of the exec denied while down delivered once" \
		"$(grep '"process_lsm"' $EVENTS | grep -c '"path":"/usr/local/denied/while-down"')" "1"
	grep '"path":"/usr/local/denied/while-down"' $EVENTS | grep -q '"policy_name":"vm-deny"' &&
		ok "  names policy vm-deny" || fail "  event does not name vm-deny"
else
	fail "the event of the exec denied while vigild was down never arrived"; tail -n 5 $EVENTS
fi

# --- upgrade: dpkg -i over the running service restarts it (postinst) ------
pid=$(systemctl show -p MainPID --value vigil)
if dpkg -i "$DEB" >/tmp/dpkg.log 2>&1; then ok "dpkg -i again (upgrade path) $(elapsed)"; else fail "dpkg -i again"; cat /tmp/dpkg.log; fi
expect "vigil active after the upgrade" "$(systemctl is-active vigil)" "active"
[ "$(systemctl show -p MainPID --value vigil)" != "$pid" ] && ok "postinst restarted vigild" || fail "vigild not restarted by the upgrade"
expect "exec denied after the upgrade" "$($TRY exec /usr/local/denied/true)" "errno=EPERM"

# --- stop: everything attached goes away ------------------------------------
n_progs=$(vigil_progs) n_links=$(bpf_links)
[ "$n_progs" -gt 0 ] && [ "$n_links" -gt "$links_before" ] && ok "bpftool sees $n_progs vg_* programs and $n_links links while running" ||
	fail "bpftool sees $n_progs vg_* programs and $n_links links while running"
systemctl stop vigil
expect "vigil inactive after stop" "$(systemctl is-active vigil)" "inactive"
expect "clean exit status" "$(systemctl show -p ExecMainStatus --value vigil)" "0"
expect "no pins left in /sys/fs/bpf/vigil" "$(ls /sys/fs/bpf/vigil 2>/dev/null | wc -l)" "0"
gone() { [ "$(vigil_progs)" = 0 ]; }
wait_for 10 gone && ok "no vg_* BPF programs left" || { fail "BPF programs left after stop:"; bpftool prog show | grep -A2 ' name vg_'; }
expect "BPF links back to the $links_before before start" "$(bpf_links)" "$links_before"
expect "exec allowed after stop" "$($TRY exec /usr/local/denied/true)" "ok"
expect "open allowed after stop" "$($TRY open /srv/vigil-secret)" "ok"
expect "open allowed after stop (policy added on reload)" "$($TRY open /srv/vigil-secret2)" "ok"

echo "done $(elapsed)"
if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed"
	show_diag
	exit 1
fi
echo "all checks passed"
