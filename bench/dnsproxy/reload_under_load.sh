#!/usr/bin/env bash
# Hot reload under load (issue 4, item 6): `egressguard run` with the 1 M-rule list answers a
# steady dnsperf load while the policy is reloaded RELOADS times, alternating SIGHUP and
# `egressguard reload` (control socket). Asserts: dnsperf lost no query, no query was answered
# SERVFAIL (an upstream timeout), every reload went live, and the blocked tenth of the mix stayed
# NXDOMAIN. Then the list gets an invalid line: the reload is refused, `egressguard reload` exits 1
# and names list_1m.txt:LINE, and the old policy still answers (a listed name NXDOMAIN, an
# allowed one NOERROR).
#
# LIST=small (issue 7, item 3: many reloads): the policy is the names of the 1 M list that the
# query mix blocks (about 15 k, so the same tenth is blocked) and a reload takes milliseconds;
# with RELOADS=100 it is reloaded 100 times while dnsperf runs (tests/net/faults_reload_100.sh).
#
# Loopback only, no root. Bounded: about DURATION + 30 s. Stops everything it started.
# Environment: EGRESSGUARD (default build/egressguard), DATA (default build/bench-data/dnsproxy,
# generated on first use), DURATION (dnsperf seconds, default 30), RATE (queries/s offered,
# default 10000), RELOADS (default 4), WORKERS (default 2), LIST (1m | small, default 1m).
# Exit status: 0 pass, 1 an assertion failed, 2 setup problem (77 when a tool is missing and
# SKIP_MISSING=1, for ctest).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
DNSB_NAME=reload_under_load
# shellcheck source=bench/dnsproxy/lib.sh
source bench/dnsproxy/lib.sh

EGRESSGUARD=${EGRESSGUARD:-build/egressguard}
DATA=${DATA:-build/bench-data/dnsproxy}
DURATION=${DURATION:-30}
RATE=${RATE:-10000}
RELOADS=${RELOADS:-4}
WORKERS=${WORKERS:-2}
REAL_LIST=${REAL_LIST:-$repo/../shared/data/lists/bench/bench_union_domains.txt}

for tool in dnsperf unbound kdig python3 ss; do
  if ! command -v "$tool" >/dev/null; then
    if [ "${SKIP_MISSING:-0}" = 1 ] && [ "${CI:-}" != true ]; then
      echo "$DNSB_NAME: skipped: $tool not found (scripts/deps.sh installs it)"
      exit 77
    fi
    dnsb_die "$tool not found: sudo bash scripts/deps.sh"
  fi
done
[ -x "$EGRESSGUARD" ] || dnsb_die "$EGRESSGUARD not found: build it first"
if [ ! -s "$DATA/queries_1m.txt" ]; then
  if [ ! -s "$REAL_LIST" ]; then
    if [ "${SKIP_MISSING:-0}" = 1 ] && [ "${CI:-}" != true ]; then
      echo "$DNSB_NAME: skipped: $REAL_LIST not found (the shared data set)"
      exit 77
    fi
    dnsb_die "$REAL_LIST not found (the shared data set)"
  fi
  echo "$DNSB_NAME: generating $DATA" >&2
  python3 bench/dnsproxy/make_bench_data.py --list "$REAL_LIST" --out "$DATA"
fi
EGRESSGUARD=$(cd "$(dirname "$EGRESSGUARD")" && pwd)/$(basename "$EGRESSGUARD")

work=$(mktemp -d)
trap 'dnsb_cleanup; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# shellcheck source=tests/net/check_lib.sh
source tests/net/check_lib.sh

upstream_port=$(dnsb_free_port)
dnsb_start_unbound 127.0.0.53 "$upstream_port"
LIST=${LIST:-1m}
case $LIST in
  1m) cp "$DATA/list_1m.txt" "$work/list_1m.txt" ;;
  small)
    # The listed names (or listed parents) of the blocked queries: the same tenth is blocked.
    awk 'NR == FNR {l[$1] = 1; next}
         {n = $1; while (1) {if (n in l) {print n; break}; i = index(n, "."); if (!i) break; n = substr(n, i + 1)}}' \
      "$DATA/list_1m.txt" "$DATA/queries_1m.txt" | sort -u >"$work/list_1m.txt"
    ;;
  *) dnsb_die "LIST: 1m or small, not $LIST" ;;
esac
rules=$(wc -l <"$work/list_1m.txt")
port=$(dnsb_free_port)
dnsb_write_eg_config "$work/eg.toml" "$work/list_1m.txt" "$port" "$upstream_port" "$WORKERS" \
  "$work/eg.sock"
dnsb_spawn egressguard "$EGRESSGUARD" run --config "$work/eg.toml"
eg_pid=$DNSB_LAST_PID
dnsb_wait_answer 127.0.0.1 "$port" 120 || dnsb_die "egressguard did not start: $(tail "$work/egressguard.log")"
echo "$DNSB_NAME: egressguard up with $rules rules on 127.0.0.1:$port"

blocked=$(head -1 "$work/list_1m.txt")
status_of() { # status_of NAME: the RCODE egressguard answers for NAME A
  kdig @127.0.0.1 -p "$port" +timeout=2 +retry=1 +noall +header "$1" A 2>/dev/null |
    sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}

# The load: RATE queries/s for DURATION s, the benchmark mix (10 % blocked).
dnsperf -s 127.0.0.1 -p "$port" -d "$DATA/queries_1m.txt" -l "$DURATION" -c 20 -q 500 \
  -Q "$RATE" -t 3 >"$work/perf.out" 2>&1 &
perf_pid=$!
DNSB_PIDS+=("$perf_pid")
sleep 2
reload_ok=0
for i in $(seq "$RELOADS"); do
  began=$SECONDS
  if ((i % 2 == 1)); then
    want=$(($(grep -c 'reload (SIGHUP): policy version' "$work/egressguard.log" || true) + 1))
    kill -HUP "$eg_pid"
    for _ in $(seq 600); do
      (($(grep -c 'reload (SIGHUP): policy version' "$work/egressguard.log" || true) >= want)) && break
      grep -q 'reload (SIGHUP) refused' "$work/egressguard.log" && break
      sleep 0.1
    done
    if (($(grep -c 'reload (SIGHUP): policy version' "$work/egressguard.log" || true) >= want)); then
      reload_ok=$((reload_ok + 1))
      how=SIGHUP
    else
      how="SIGHUP (not live)"
    fi
  else
    if "$EGRESSGUARD" reload --config "$work/eg.toml" >"$work/reload.$i.out" 2>&1; then
      reload_ok=$((reload_ok + 1))
      how="egressguard reload: $(head -1 "$work/reload.$i.out")"
    else
      how="egressguard reload FAILED: $(cat "$work/reload.$i.out")"
    fi
  fi
  echo "$DNSB_NAME: reload $i under load ($how) took $((SECONDS - began)) s"
  kill -0 "$perf_pid" 2>/dev/null || break
done
wait "$perf_pid" || true
sed -n '/Statistics/,$p' "$work/perf.out"
lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$work/perf.out")
completed=$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' "$work/perf.out")
codes=$(sed -n 's/^ *Response codes: *//p' "$work/perf.out")
nx=$(sed -n 's/.*NXDOMAIN [0-9]* (\([0-9.]*\)%).*/\1/p' "$work/perf.out")
stats=$(dnsb_control_stats "$work/eg.sock")
counter() { sed -n "s/^$1 //p" <<<"$stats"; }

check "every reload under load went live ($reload_ok of $RELOADS)" test "$reload_ok" = "$RELOADS"
check "dnsperf: answers received (${completed:-0})" test "${completed:-0}" -gt 0
check "dnsperf: no query lost or timed out (${lost:-?})" test "${lost:-1}" = 0
check "dnsperf: no SERVFAIL ($codes)" bash -c '! grep -q SERVFAIL <<<"$1"' _ "$codes"
check "blocked tenth of the mix stayed blocked (NXDOMAIN ${nx:-?} %)" \
  awk -v n="${nx:-0}" 'BEGIN {exit !(n >= 9.5 && n <= 10.5)}'
check "proxy counters: no upstream timeout, no SERVFAIL, no overflow" \
  test "$(counter upstream_timeouts)/$(counter servfail)/$(counter pending_overflow)" = 0/0/0
check "proxy counters: $RELOADS reloads, none failed" \
  test "$(counter reloads)/$(counter reload_failures)" = "$RELOADS/0"

# A bad line: refused whole, with file:line; the old policy stays.
bad_line=$((rules + 1))
echo 'exa mple.com' >>"$work/list_1m.txt"
rc=0
"$EGRESSGUARD" reload --config "$work/eg.toml" >"$work/bad.out" 2>&1 || rc=$?
cat "$work/bad.out"
check "bad list: egressguard reload exits 1" test "$rc" = 1
check "bad list: the error names list_1m.txt:$bad_line" grep -q "list_1m\.txt:$bad_line" "$work/bad.out"
check "bad list: the daemon logged the refusal" grep -q "refused: .*list_1m\.txt:$bad_line" \
  "$work/egressguard.log"
check "old policy still blocks $blocked (NXDOMAIN)" test "$(status_of "$blocked")" = NXDOMAIN
check "old policy still blocks www.$blocked (NXDOMAIN)" test "$(status_of "www.$blocked")" = NXDOMAIN
allowed=$(head -1 "$DATA/allowed.txt")
check "old policy still forwards $allowed (NOERROR)" test "$(status_of "$allowed")" = NOERROR
check "egressguard still running" kill -0 "$eg_pid"

check_summary
