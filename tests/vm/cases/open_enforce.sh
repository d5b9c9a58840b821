# file_open denial with Equal / Prefix / Postfix on the kernel's resolved path:
# direct, through a symlink, and relative; unrelated files still open.
. /add/cases/lib.sh
echo secret >/etc/vigil-secret
ln -s /etc/vigil-secret /tmp/innocent-name
mkdir -p /srv/vault/deep /srv/vaultx /home/u/.ssh
echo v >/srv/vault/deep/data; echo v >/srv/vaultx/data
echo k >/home/u/server.pem; echo k >/home/u/.ssh/id_rsa; echo k >/home/u/.ssh/id_rsa.pub
start_vigild --policy $POL/deny-open.yaml
expect "Equal: direct" "$($TRY open /etc/vigil-secret)" "errno=EACCES"
expect "Equal: symlink" "$($TRY open /tmp/innocent-name)" "errno=EACCES"
expect "Equal: relative" "$(cd /etc && $TRY open ./vigil-secret)" "errno=EACCES"
expect "Equal: dot-dot" "$(cd /srv && $TRY open ../etc/vigil-secret)" "errno=EACCES"
expect "unrelated file" "$($TRY open /etc/passwd)" "ok"
expect "Prefix: nested" "$($TRY open /srv/vault/deep/data)" "errno=EPERM"
expect "Prefix: relative" "$(cd /srv/vault/deep && $TRY open data)" "errno=EPERM"
expect "Prefix: sibling not matched" "$($TRY open /srv/vaultx/data)" "ok"
expect "Postfix: .pem" "$($TRY open /home/u/server.pem)" "errno=EPERM"
expect "Postfix: /id_rsa" "$($TRY open /home/u/.ssh/id_rsa)" "errno=EPERM"
expect "Postfix: id_rsa.pub not matched" "$($TRY open /home/u/.ssh/id_rsa.pub)" "ok"
stop_vigild
expect_event "Equal denial" '"policy_name":"test-deny-open"' '"hook":"file_open"' \
	'"path":"/etc/vigil-secret"' '"outcome":"OUTCOME_DENIED"' '"return_errno":13' \
	'"file_flags":32768' \
	"\"mechanism\":\"$MECH\""
expect_event "Prefix denial" '"path":"/srv/vault/deep/data"' '"selector":1'
expect_event "Postfix denial" '"path":"/home/u/.ssh/id_rsa"' '"selector":2'
expect_no_event "for an unrelated file" '"path":"/etc/passwd"'
finish
