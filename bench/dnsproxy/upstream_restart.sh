#!/usr/bin/env bash
# Fault (issue 7, item 3): the upstream resolver is killed and restarted under load.
# `egressguard run` (the real list, upstream_timeout_ms 1000, query_timeout_ms 3000) answers
# dnsperf at RATE queries/s for DURATION s; at DOWN_AT s the upstream unbound is killed
# (SIGKILL), at UP_AT s it is started again on the same address and port.
# Asserts (check lines):
#   - while it is down, a query is answered SERVFAIL within query_timeout_ms + 500 ms (no hang);
#   - the proxy never stops answering: dnsperf (timeout 5 s, above query_timeout_ms) lost no
#     query, and queries for listed names stay NXDOMAIN while the upstream is down;
#   - after the restart a query is answered NOERROR within RECOVER_S (3) s, and a fresh dnsperf
#     run (3 s) gets no SERVFAIL and loses nothing: full service is back;
#   - the proxy is still running and its counters show the outage (servfail > 0, upstream
#     errors or timeouts > 0).
#
# Loopback only, no root, about DURATION + 15 s. Stops everything it started.
# Environment: EGRESSGUARD (build/egressguard), DATA (build/bench-data/dnsproxy), RATE (3000),
# DURATION (16), DOWN_AT (4), UP_AT (10), RECOVER_S (3), WORKERS (2), SKIP_MISSING=1 (exit 77
# when a tool or the data is missing; not under CI=true).
# Exit status: 0 pass, 1 an assertion failed, 2 setup problem, 77 skipped.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
DNSB_NAME=upstream_restart
# shellcheck source=bench/dnsproxy/lib.sh
source bench/dnsproxy/lib.sh

EGRESSGUARD=${EGRESSGUARD:-build/egressguard}
DATA=${DATA:-build/bench-data/dnsproxy}
RATE=${RATE:-3000}
DURATION=${DURATION:-16}
DOWN_AT=${DOWN_AT:-4}
UP_AT=${UP_AT:-10}
RECOVER_S=${RECOVER_S:-3}
WORKERS=${WORKERS:-2}
REAL_LIST=${REAL_LIST:-$repo/../shared/data/lists/bench/bench_union_domains.txt}

dnsb_require_tools dnsperf unbound kdig python3 ss
[ -x "$EGRESSGUARD" ] || dnsb_die "$EGRESSGUARD not found: build it first"
dnsb_ensure_data "$DATA" "$REAL_LIST"
DATA=$(cd "$DATA" && pwd)
EGRESSGUARD=$(cd "$(dirname "$EGRESSGUARD")" && pwd)/$(basename "$EGRESSGUARD")

work=$(mktemp -d)
trap 'dnsb_cleanup; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
# shellcheck source=tests/net/check_lib.sh
source tests/net/check_lib.sh

upstream_port=$(dnsb_free_port)
dnsb_start_unbound 127.0.0.53 "$upstream_port"
port=$(dnsb_free_port)
dnsb_write_eg_config "$work/eg.toml" "$DATA/list_real.txt" "$port" "$upstream_port" "$WORKERS" \
  "$work/eg.sock"
dnsb_spawn egressguard "$EGRESSGUARD" run --config "$work/eg.toml"
eg_pid=$DNSB_LAST_PID
dnsb_wait_answer 127.0.0.1 "$port" 120 || dnsb_die "egressguard did not start: $(tail "$work/egressguard.log")"
allowed=$(sed -n 2p "$DATA/allowed.txt")
blocked=$(head -1 "$DATA/list_real.txt")
query_timeout_ms=3000
counter() {
  local v
  v=$(sed -n "s/^$1 //p" <<<"$stats")
  echo "${v:-0}"
}

dnsperf -s 127.0.0.1 -p "$port" -d "$DATA/queries_real.txt" -l "$DURATION" -c 20 -q 2000 \
  -Q "$RATE" -t 5 >"$work/perf.out" 2>&1 &
perf_pid=$!
DNSB_PIDS+=("$perf_pid")
t0=$SECONDS

sleep "$DOWN_AT"
kill -KILL "$DNSB_UNBOUND_PID"
wait "$DNSB_UNBOUND_PID" 2>/dev/null || true
echo "$DNSB_NAME: upstream killed at $((SECONDS - t0)) s"
sleep 0.5
# kdig waits up to 6 s: the proxy's own SERVFAIL must come first.
read -r down_rcode down_ms <<<"$(kdig @127.0.0.1 -p "$port" +timeout=6 +retry=0 +noall +header +stats \
  "$allowed" A 2>/dev/null | awk '/status:/ {sub(/.*status: /, ""); sub(/[;,].*/, ""); s = $0}
    /^;; From .* in [0-9.]+ ms/ {m = $(NF - 1)} END {print (s == "" ? "NONE" : s), (m == "" ? 99999 : m)}')"
down_blocked=$(dnsb_status "$port" "$blocked")
echo "$DNSB_NAME: while down: $allowed -> $down_rcode in $down_ms ms; $blocked -> $down_blocked"

sleep $((UP_AT - (SECONDS - t0) > 0 ? UP_AT - (SECONDS - t0) : 0))
# Same address and port; the previous config file is reused as it is.
dnsb_spawn unbound "${DNSB_UNBOUND_PREFIX[@]}" unbound -d -c "$work/unbound.conf"
DNSB_UNBOUND_PID=$DNSB_LAST_PID
up_ns=$(date +%s%N)
recovered_ms=
while (($(date +%s%N) - up_ns < (RECOVER_S + 5) * 1000000000)); do
  if [ "$(dnsb_status "$port" "$allowed")" = NOERROR ]; then
    recovered_ms=$((($(date +%s%N) - up_ns) / 1000000))
    break
  fi
  sleep 0.1
done
echo "$DNSB_NAME: upstream restarted at $((SECONDS - t0)) s; NOERROR again after ${recovered_ms:-never} ms"
wait "$perf_pid" || true
sed -n '/Statistics/,$p' "$work/perf.out"
lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$work/perf.out")
codes=$(sed -n 's/^ *Response codes: *//p' "$work/perf.out")

# Full service: a fresh run after the restart.
dnsb_perf "$work/after.out" "$port" "$DATA/queries_real.txt" 3 -Q "$RATE" -t 5
after_lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$work/after.out")
after_codes=$(sed -n 's/^ *Response codes: *//p' "$work/after.out")
alive=yes
kill -0 "$eg_pid" 2>/dev/null || alive=no
stats=
[ $alive = no ] || stats=$(dnsb_control_stats "$work/eg.sock")

echo
check "while down: SERVFAIL, not a hang ($down_rcode in $down_ms ms <= $((query_timeout_ms + 500)) ms)" \
  awk -v r="$down_rcode" -v m="$down_ms" -v lim=$((query_timeout_ms + 500)) 'BEGIN {exit !(r == "SERVFAIL" && m <= lim)}'
check "while down: a listed name is still NXDOMAIN ($down_blocked)" test "$down_blocked" = NXDOMAIN
check "under load through the outage: no query lost (${lost:-?}; $codes)" test "${lost:-1}" = 0
check "the outage shows as SERVFAIL in dnsperf's answers" grep -q SERVFAIL <<<"$codes"
check "after the restart: NOERROR within $RECOVER_S s (${recovered_ms:-never} ms)" \
  test "${recovered_ms:-999999}" -le $((RECOVER_S * 1000))
check "after the restart: full service (lost ${after_lost:-?}; $after_codes)" \
  bash -c '[ "$1" = 0 ] && [ -n "$2" ] && ! grep -q SERVFAIL <<<"$2"' _ "${after_lost:-1}" "$after_codes"
check "the proxy is still running" test $alive = yes
check "counters: servfail $(counter servfail) > 0, upstream errors+timeouts $(($(counter upstream_errors) + $(counter upstream_timeouts))) > 0" \
  test "$(counter servfail)" -gt 0 -a $(($(counter upstream_errors) + $(counter upstream_timeouts))) -gt 0
check_summary
