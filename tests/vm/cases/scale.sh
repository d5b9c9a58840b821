# Scale: 10,000 values in one matchArgs filter (a path list on file_open, a
# port list on a generic hook) and 40 selectors on one hook; the first and the
# last value enforce, values outside the lists do not. Lookups are hash map
# lookups, so the list's size does not change what an operation costs.
. /add/cases/lib.sh
mkdir -p /tmp/scale
touch /tmp/scale/f00000 /tmp/scale/f09999 /tmp/scale/other
{
	printf 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata: {name: test-scale}\nspec:\n'
	printf '  lsmhooks:\n  - hook: file_open\n    args: [{index: 0, type: file}]\n    selectors:\n'
	printf '    - matchArgs:\n      - index: 0\n        operator: Equal\n        values:\n'
	awk 'BEGIN { for (i = 0; i < 10000; i++) printf "        - /tmp/scale/f%05d\n", i }'
	printf '      matchActions: [{action: Override, argError: -13}]\n'
	printf '  - hook: socket_connect\n    args: [{index: 1, type: sockaddr}]\n    selectors:\n'
	printf '    - matchArgs:\n      - index: 1\n        operator: DPort\n        values:\n'
	awk 'BEGIN { for (i = 20000; i < 30000; i++) printf "        - \"%d\"\n", i }'
	printf '      matchActions: [{action: Override, argError: -111}]\n'
	printf '  - hook: path_mkdir\n    args: [{index: 1, type: dentry}]\n    selectors:\n'
	awk 'BEGIN { for (i = 1; i <= 40; i++) printf "    - matchArgs: [{index: 1, operator: Equal, values: [/tmp/scale/d%02d]}]\n      matchActions: [{action: Override, argError: -1}]\n", i }'
} >/tmp/scale.yaml
expect "policy size (lines)" "$([ "$(wc -l </tmp/scale.yaml)" -gt 20000 ] && echo big)" "big"
start_vigild --policy /tmp/scale.yaml
expect "first of 10,000 paths" "$($TRY open /tmp/scale/f00000)" "errno=EACCES"
expect "last of 10,000 paths" "$($TRY open /tmp/scale/f09999)" "errno=EACCES"
expect "a path not in the list" "$($TRY open /tmp/scale/other)" "ok"
expect "first of 10,000 ports" "$($TRY connect udp 127.0.0.1 20000)" "errno=ECONNREFUSED"
expect "last of 10,000 ports" "$($TRY connect udp 127.0.0.1 29999)" "errno=ECONNREFUSED"
expect "a port not in the list" "$($TRY connect udp 127.0.0.1 30000)" "ok"
expect "selector 1 of 40" "$($TRY mkdir /tmp/scale/d01)" "errno=EPERM"
expect "selector 40 of 40" "$($TRY mkdir /tmp/scale/d40)" "errno=EPERM"
expect "no selector matches" "$($TRY mkdir /tmp/scale/d41)" "ok"
stop_vigild >/dev/null
expect_event "the 40th selector" '"hook":"path_mkdir"' '"selector":39' '"path":"/tmp/scale/d40"'
finish
