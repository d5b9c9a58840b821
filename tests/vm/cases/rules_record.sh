# Falco-style rules live in vigild, on real kernel events, and the recording
# the replay tests use (tests/vm/record-rules-fixtures keeps what this prints
# between the "=== recorded events" markers as tests/rules/fixtures/).
#
# vigild runs the sensitive-files policy (Post on /etc/shadow ...), a deny
# policy, the Falco corpus rules and Vigil's shipped rules. Scenarios:
#   attacks:  a shell spawned by a web-server binary (/usr/sbin/nginx forks and
#             execs sh -c ...); /etc/shadow read by cat; an open the deny
#             policy refuses
#   benign:   sshd reading /etc/shadow (an expected reader); a shell spawned
#             by a shell; ordinary commands
#   network:  (vigild has the socket_connect hook; a refusal fails) connect
#             to a public address from an unexpected binary
#             (/tmp/.cache/kworkerd, an attack); from curl, and to private
#             and loopback addresses (benign). The guest has no network: the
#             connects fail, but the hook has decided and reported them first.
#
# Needs: --add cases, policies, vigil-try, the corpus's falco-rules folder and
# rules/default (see tests/CMakeLists.txt).
. /add/cases/lib.sh
CORPUS=/add/falco-rules/falco_rules.yaml
SHIPPED=/add/default/vigil_rules.yaml
TUNING=/tmp/vigil-tuning.yaml

# Falco's own answer to a rule the engine cannot run is to disable it in a
# local file; list the corpus rules Vigil cannot compile and do that.
vigilctl rules check "$CORPUS" >/tmp/check.txt 2>&1
grep -v '(warning)$' /tmp/check.txt | sed -n "s/^[^ ]* rule '\([^']*\)': .*/\1/p" | sort -u >/tmp/failed.txt
: >"$TUNING"
while read -r name; do printf -- '- rule: "%s"\n  enabled: false\n' "$name" >>"$TUNING"; done </tmp/failed.txt
echo "corpus rules disabled for this run: $(wc -l </tmp/failed.txt)"
expect "tuned rule set loads" "$(vigilctl rules check "$CORPUS" "$SHIPPED" "$TUNING" >/dev/null 2>&1; echo $?)" 0

printf 'root:*:20000:0:99999:7:::\nnobody:*:20000:0:99999:7:::\n' >/etc/shadow
chmod 640 /etc/shadow
echo secret >/etc/vigil-secret
cp "$TRY" /usr/sbin/nginx
cp "$TRY" /usr/sbin/sshd
# busybox runs its own applets through /proc/self/exe (comm "exe"); a copy
# named cat, run by path, is a process named cat as on any distribution.
mkdir -p /usr/local/bin
cp /bin/busybox /usr/local/bin/cat

cat >/tmp/watch-connect.yaml <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: watch-connect
spec:
  lsmhooks:
  - hook: socket_connect
    args:
    - {index: 0, type: socket}
    - {index: 1, type: sockaddr, label: address}
    selectors:
    - matchArgs:
      - {index: 1, operator: Family, values: [AF_INET]}
      matchActions:
      - {action: Post}
EOF
# vigild has the socket_connect hook (hooks_enforce.sh enforces it): a policy
# check that refuses it is a failure, not a reason to skip the scenario.
NET=0
NETPOL=
if vigilctl policy check /tmp/watch-connect.yaml >/tmp/netcheck.txt 2>&1; then
	NET=1
	NETPOL="--policy /tmp/watch-connect.yaml"
	mkdir -p /tmp/.cache
	cp "$TRY" /tmp/.cache/kworkerd
	cp "$TRY" /usr/bin/curl
else
	echo "FAIL: connection scenario: vigilctl refuses the socket_connect policy: $(head -1 /tmp/netcheck.txt)"
	FAILS=$((FAILS + 1))
fi

# shellcheck disable=SC2086
start_vigild --policy /etc/vigil/policies.d/sensitive-files.yaml --policy "$POL/deny-open.yaml" $NETPOL \
	--rules "$CORPUS" --rules "$SHIPPED" --rules "$TUNING"
# Attacks.
expect "web server spawns a shell" "$(/usr/sbin/nginx exec /bin/sh -c 'id >/dev/null; uname -a >/dev/null')" ok
expect "cat reads /etc/shadow" "$(/usr/local/bin/cat /etc/shadow >/dev/null && echo ok)" ok
expect "denied open" "$($TRY open /etc/vigil-secret)" errno=EACCES
# Benign.
expect "sshd reads /etc/shadow" "$(/usr/sbin/sshd open /etc/shadow)" ok
expect "shell spawns a shell" "$(sh -c 'ls / >/dev/null && echo ok')" ok
expect "unwatched file" "$($TRY open /etc/passwd)" ok
if [ "$NET" = 1 ]; then
	# Attack, then benign: results vary without a network; the events do not.
	echo "connect from kworkerd to 203.0.113.9:4444: $(/tmp/.cache/kworkerd connect tcp 203.0.113.9 4444)"
	echo "connect from curl to 203.0.113.10:443: $(/usr/bin/curl connect tcp 203.0.113.10 443)"
	echo "connect from kworkerd to 10.0.2.2:80: $(/tmp/.cache/kworkerd connect tcp 10.0.2.2 80)"
	echo "connect from kworkerd to 127.0.0.1:9: $(/tmp/.cache/kworkerd connect tcp 127.0.0.1 9)"
fi
sleep 1
stop_vigild

# The rules ran live in vigild: alerts in its output, as rule_alert events.
expect_event "alert: shell under nginx" '"rule_alert"' '"rule":"Run shell untrusted"' '"proc.pname":"nginx"'
expect_event "alert: corpus rule on the /etc/shadow read" '"rule_alert"' \
	'"rule":"Read sensitive file untrusted"' '"fd.name":"/etc/shadow"' '"proc.name":"cat"'
expect_event "alert: shipped rule on the /etc/shadow read" '"rule_alert"' \
	'"rule":"Sensitive file opened by untrusted program"' '"proc.name":"cat"'
expect_event "alert: denial" '"rule_alert"' '"rule":"Kernel policy denied an operation"' \
	'"fd.name":"/etc/vigil-secret"'
expect_event "the benign sshd read was recorded" '"process_lsm"' '"comm":"sshd"' '"path":"/etc/shadow"'
want=4
if [ "$NET" = 1 ]; then
	want=5
	expect_event "alert: outbound connection" '"rule_alert"' '"rule":"Outbound connection from unexpected binary"' \
		'"fd.name":"203.0.113.9:4444"' '"proc.name":"kworkerd"'
	expect_event "the benign curl connect was recorded" '"process_lsm"' '"comm":"curl"' \
		'"sock_arg":"inet 203.0.113.10:443"'
fi
alerts=$(grep -c '"rule_alert"' "$EVENTS")
expect "alerts in vigild's output" "$alerts" "$want"
if [ "$alerts" != "$want" ]; then grep '"rule_alert"' "$EVENTS" | sed 's/^/  alert| /'; fi

echo "=== recorded events begin"
grep -v '"rule_alert"' "$EVENTS"
echo "=== recorded events end"
finish
