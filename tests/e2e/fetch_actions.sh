#!/usr/bin/env bash
# GetUrl and DnsLookup end to end on this host: a uprobe policy on a test
# program copied into a temp dir (Post only, nothing enforcing; no other
# process can hit it) asks vigild to fetch a URL from a real local HTTP
# server (python3 -m http.server) and to resolve a name when the program
# calls the probed function with a chosen argument. Checks: the server saw
# one GET per matching call and none for the others, the events are exported
# (or not, with NoPost), and vigild's metrics count the requests.
. "$(dirname "$0")/lib/common.sh"
need_uprobes
mkdir "$tmp/bin" "$tmp/www"
echo canary >"$tmp/www/vigil-canary"; echo quiet >"$tmp/www/vigil-quiet"   # 200s: done (4xx/5xx count as failed)
tgt=$tmp/bin/vigil-uprobe-target
cp "$uprobe_target" "$tgt"

# The HTTP server: a free port, its request log in $tmp/http.log.
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/http.out" 2>"$tmp/http.log" &
helpers+=($!)
for _ in $(seq 100); do grep -q 'port' "$tmp/http.out" && break; sleep 0.1; done
port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$tmp/http.out" | head -1)
[[ -n $port ]] || { cat "$tmp/http.out" "$tmp/http.log"; echo "FAIL: no HTTP server"; exit 1; }

cat >"$tmp/fetch.yaml" <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: fetch-actions
spec:
  uprobes:
  - path: "$tgt"
    symbols: ["vg_probe_op"]
    args: [{index: 0, type: int, label: n}]
    selectors:
    - matchBinaries: [{operator: In, values: ["$tgt"]}]
      matchArgs: [{index: 0, operator: Equal, values: ["501"]}]
      matchActions:
      - {action: GetUrl, argUrl: "http://127.0.0.1:$port/vigil-canary"}
      - {action: DnsLookup, argFqdn: localhost}
    - matchBinaries: [{operator: In, values: ["$tgt"]}]
      matchArgs: [{index: 0, operator: Equal, values: ["502"]}]
      matchActions:
      - {action: GetUrl, argUrl: "http://127.0.0.1:$port/vigil-quiet"}
      - {action: NoPost}
YAML
start_vigild "$tmp/events" --no-process-events --policy "$tmp/fetch.yaml" --metrics-listen 127.0.0.1:0
mport=$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$tmp/log")
fail=0
"$tgt" 501 a >/dev/null
"$tgt" 501 b >/dev/null
"$tgt" 502 c >/dev/null
"$tgt" 503 d >/dev/null   # no selector: no request
for _ in $(seq 50); do [[ $(grep -c 'GET /vigil-' "$tmp/http.log") -ge 3 ]] && break; sleep 0.1; done
# vigild publishes its metrics once a second.
for _ in $(seq 50); do
  metrics=$(curl -fsS "http://127.0.0.1:$mport/metrics")
  grep -q 'action="DnsLookup",result="done"} 2$' <<<"$metrics" && break
  sleep 0.1
done
stop_vigild
n_canary=$(grep -c 'GET /vigil-canary ' "$tmp/http.log")
n_quiet=$(grep -c 'GET /vigil-quiet ' "$tmp/http.log")
[[ $n_canary -eq 2 ]] && echo "ok:   GetUrl: two requests for two matching calls" \
  || { cat "$tmp/http.log"; echo "FAIL: GetUrl: $n_canary requests, want 2"; fail=1; }
[[ $n_quiet -eq 1 ]] && echo "ok:   GetUrl with NoPost: the request is made" \
  || { echo "FAIL: GetUrl with NoPost: $n_quiet requests, want 1"; fail=1; }
[[ $(grep -c 'GET ' "$tmp/http.log") -eq 3 ]] && echo "ok:   no request for the unmatched call" \
  || { echo "FAIL: extra requests"; cat "$tmp/http.log"; fail=1; }
n_ev=$(jq -c 'select(.process_uprobe.policy_name == "fetch-actions")' "$tmp/events" | wc -l)
[[ $n_ev -eq 2 ]] && echo "ok:   two events exported (NoPost's is not)" \
  || { echo "FAIL: $n_ev events exported, want 2"; fail=1; }
check_metric() { # DESCRIPTION REGEX
  grep -qE "$2" <<<"$metrics" && echo "ok:   metrics: $1" \
    || { echo "FAIL: metrics: $1"; grep vigil_action_requests <<<"$metrics"; fail=1; }
}
check_metric "3 GetUrl done" '^vigil_action_requests_total\{action="GetUrl",result="done"\} 3$'
check_metric "2 DnsLookup done" '^vigil_action_requests_total\{action="DnsLookup",result="done"\} 2$'
check_metric "nothing failed" '^vigil_action_requests_total\{action="GetUrl",result="failed"\} 0$'
[[ $vrc -eq 0 ]] || { echo "FAIL: vigild exit $vrc"; fail=1; }
exit $fail
