#!/usr/bin/env bash
# vigilctl events --file: recorded JSON lines (as vigild writes them, invalid
# UTF-8 already replaced and kept in raw_strings) read back, filtered by type
# and policy, rendered compact for every event kind; a line that is not an
# event is reported as FILE:LINE and fails the command. No root needed.
. "$(dirname "$0")/lib/common.sh"
fail=0
check() {  # check NAME GOT WANT
  if [[ $2 == "$3" ]]; then echo "ok:   $1"; else printf 'FAIL: %s\n  got:  %s\n  want: %s\n' "$1" "$2" "$3"; fail=1; fi
}
T='"time":"2026-12-07T10:00:00.000000001Z"'
cat >"$tmp/ev.jsonl" <<JSON
{"process_exec":{"process":{"pid":10,"binary":"/usr/bin/sh","arguments":"-c true"}},$T}
{"process_lsm":{"process":{"pid":11,"binary":"/tmp/\uFFFD/x"},"policy_name":"p","hook":"file_open","outcome":"OUTCOME_DENIED","path":"/etc/shadow"},"raw_strings":{"process_lsm.process.binary":"L3RtcC//L3g="},$T}
{"process_kprobe":{"process":{"pid":12,"binary":"/usr/bin/cat"},"policy_name":"p","function_name":"security_file_open","outcome":"OUTCOME_POSTED","args":[{"file_arg":"/etc/passwd"}]},$T}
{"process_tracepoint":{"process":{"pid":13,"binary":"/usr/bin/id"},"policy_name":"q","subsys":"raw_syscalls","event":"sys_enter","outcome":"OUTCOME_POSTED"},$T}
{"process_uprobe":{"process":{"pid":14,"binary":"/opt/app"},"policy_name":"p","path":"/opt/app","symbol":"op","outcome":"OUTCOME_KILLED"},$T}
{"status":{"kind":"KIND_DEGRADED","subject":"kprobe","message":"fallback"},$T}
JSON
out=$("$vigilctl" events --file "$tmp/ev.jsonl" -o compact); rc=$?
check "compact, every kind" "$rc $(cut -d' ' -f2- <<<"$out" | tr '\n' '|')" \
  "0 exec 10 /usr/bin/sh -c true|OUTCOME_DENIED p file_open /etc/shadow by 11 /tmp/"$'\xef\xbf\xbd'"/x|OUTCOME_POSTED p security_file_open /etc/passwd by 12 /usr/bin/cat|OUTCOME_POSTED q raw_syscalls/sys_enter by 13 /usr/bin/id|OUTCOME_KILLED p /opt/app:op by 14 /opt/app|STATUS KIND_DEGRADED kprobe fallback|"
out=$("$vigilctl" events --file - --policy p --type process_kprobe <"$tmp/ev.jsonl")
check "stdin, --policy and --type" "$(jq -r '.process_kprobe.process.pid' <<<"$out")" "12"
out=$("$vigilctl" events --file "$tmp/ev.jsonl" --policy p | jq -r 'keys_unsorted[0]' | tr '\n' ' ')
check "--policy p: every policy kind of p" "$out" "process_lsm process_kprobe process_uprobe "
raw=$("$vigilctl" events --file "$tmp/ev.jsonl" --type process_lsm | jq -r '.raw_strings["process_lsm.process.binary"]' | base64 -d | od -An -tx1 | tr -d ' \n')
check "raw bytes kept" "$raw" "2f746d702fff2f78"
printf '{"process_exec":{}}\nnot json\n{"nope":1}\n' >"$tmp/bad.jsonl"
"$vigilctl" events --file "$tmp/bad.jsonl" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "bad lines: exit 1, FILE:LINE each, good lines kept" \
  "$rc $(grep -c '' "$tmp/out") $(cut -d: -f2 "$tmp/err" | tr '\n' ' ')" "1 1 2 3 "
"$vigilctl" events --file "$tmp/ev.jsonl" --type bogus 2>"$tmp/err"; rc=$?
check "unknown --type is a usage error naming the valid ones" \
  "$rc $(grep -c 'process_uprobe' "$tmp/err")" "2 1"
exit $fail
