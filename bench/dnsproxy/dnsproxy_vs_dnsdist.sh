#!/usr/bin/env bash
# Side by side: the DNS proxy of `egressguard run` against dnsdist (Debian 12 package, 1.7) and
# against unbound as a filtering resolver (Debian 12, 1.17: the block list as local-zones
# `always_nxdomain`, everything else forwarded, its cache kept out of the way) in one run on this
# machine, on loopback only, with the same upstream (an unbound answering every name from
# memory), the same query mix and the same block list, for the 441 k real list and a 1 M list.
# dnsperf drives each for DURATION seconds (alternating, RUNS times). Prints queries/s, latency
# (average and 99th percentile), lost queries, CPU per query and peak RSS of each, and the
# ratios; exits 1 when egressguard is below the floors (against dnsdist).
#
# Builds nothing: build first (cmake -DCMAKE_BUILD_TYPE=Release, target egressguard). The lists
# and query files (about 40 MB) are generated on first use by bench/dnsproxy/make_bench_data.py
# into build/bench-data/dnsproxy/.
#
# Environment:
#   EGRESSGUARD   binary (default build/egressguard)
#   DATA          generated inputs (default build/bench-data/dnsproxy)
#   LISTS         which lists: "real 1m" (default), "real" or "1m"
#   DURATION      seconds per dnsperf run (default 15)
#   RUNS          runs per tool and list, alternating; the median counts (default 1)
#   WORKERS       egressguard worker threads = dnsdist UDP listeners and upstream sockets (2)
#   CLIENTS       dnsperf clients (source ports, default 20); OUTSTANDING: queries in flight (200)
#   QPS_FLOOR     minimum queries/s ratio egressguard/dnsdist (default 1.0; goal 1.5)
#   RSS_FLOOR     maximum peak-RSS ratio egressguard/dnsdist (default 0.5; goal 0.25)
#   TOOLS         which proxies: "eg dd ub" (default: egressguard, dnsdist, unbound); eg and dd
#                 are needed for the floors
#   REPORT_ONLY   1: print the figures, never fail on the ratios
# Exit status: 0 pass, 1 below a floor, 2 setup problem (missing tool or binary, a server that
# does not start, or a proxy that does not block exactly the blocked tenth of the mix).
# Needs: dnsperf, dnsdist, unbound, knot-dnsutils (kdig), python3, iproute2 (ss). Not root.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
DNSB_NAME=dnsproxy_vs_dnsdist
# shellcheck source=bench/dnsproxy/lib.sh
source bench/dnsproxy/lib.sh

EGRESSGUARD=${EGRESSGUARD:-build/egressguard}
DATA=${DATA:-build/bench-data/dnsproxy}
LISTS=${LISTS:-real 1m}
DURATION=${DURATION:-15}
RUNS=${RUNS:-1}
WORKERS=${WORKERS:-2}
TOOLS=${TOOLS:-eg dd ub}
QPS_FLOOR=${QPS_FLOOR:-1.0}
RSS_FLOOR=${RSS_FLOOR:-0.5}
REPORT_ONLY=${REPORT_ONLY:-0}
REAL_LIST=${REAL_LIST:-$repo/../shared/data/lists/bench/bench_union_domains.txt}

[ -x "$EGRESSGUARD" ] || dnsb_die "$EGRESSGUARD not found: build it first"
for tool in dnsperf dnsdist unbound kdig python3 ss; do
  command -v "$tool" >/dev/null || dnsb_die "$tool not found: sudo bash scripts/deps.sh"
done
if [ ! -s "$DATA/queries_1m.txt" ]; then
  [ -s "$REAL_LIST" ] || dnsb_die "$REAL_LIST not found (the shared data set)"
  echo "$DNSB_NAME: generating $DATA" >&2
  python3 bench/dnsproxy/make_bench_data.py --list "$REAL_LIST" --out "$DATA"
fi
DATA=$(cd "$DATA" && pwd)
EGRESSGUARD=$(cd "$(dirname "$EGRESSGUARD")" && pwd)/$(basename "$EGRESSGUARD")

work=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] && echo "$DNSB_NAME: keeping $work" >&2
trap 'dnsb_cleanup; [ "${KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

upstream_port=$(dnsb_free_port)
dnsb_start_unbound 127.0.0.53 "$upstream_port"

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

results=$work/results
: >"$results"
for list in $LISTS; do
  case $list in
    real) list_file=$DATA/list_real.txt queries=$DATA/queries_real.txt ;;
    1m) list_file=$DATA/list_1m.txt queries=$DATA/queries_1m.txt ;;
    *) dnsb_die "LISTS: unknown list $list (real, 1m)" ;;
  esac
  rules=$(wc -l <"$list_file")

  eg_port=$(dnsb_free_port)
  dnsb_write_eg_config "$work/eg.toml" "$list_file" "$eg_port" "$upstream_port" "$WORKERS" \
    "$work/eg.sock"
  "$EGRESSGUARD" check --config "$work/eg.toml" >/dev/null || dnsb_die "egressguard check failed"
  start=$SECONDS
  dnsb_spawn "eg-$list" "$EGRESSGUARD" run --config "$work/eg.toml"
  eg_pid=$DNSB_LAST_PID
  dnsb_wait_answer 127.0.0.1 "$eg_port" 120 || dnsb_die "egressguard did not start: $(tail "$work/eg-$list.log")"
  eg_start=$((SECONDS - start))

  dd_port=$(dnsb_free_port)
  while [ "$dd_port" = "$eg_port" ]; do dd_port=$(dnsb_free_port); done
  dnsb_write_dnsdist_config "$work/dnsdist.conf" "$list_file" "$dd_port" "$upstream_port" "$WORKERS"
  start=$SECONDS
  dnsb_spawn "dnsdist-$list" dnsdist --supervised --disable-syslog -C "$work/dnsdist.conf"
  dd_pid=$DNSB_LAST_PID
  dnsb_wait_answer 127.0.0.1 "$dd_port" 300 || dnsb_die "dnsdist did not start: $(tail "$work/dnsdist-$list.log")"
  dd_start=$((SECONDS - start))

  ub_port=
  ub_pid=
  if [[ " $TOOLS " == *" ub "* ]]; then
    ub_port=$(dnsb_free_port)
    while [ "$ub_port" = "$eg_port" ] || [ "$ub_port" = "$dd_port" ]; do ub_port=$(dnsb_free_port); done
    dnsb_write_unbound_filter_config "$work/unbound-filter.conf" "$list_file" "$ub_port" \
      "$upstream_port" "$WORKERS"
    start=$SECONDS
    dnsb_spawn "unbound-$list" unbound -d -c "$work/unbound-filter.conf"
    ub_pid=$DNSB_LAST_PID
    dnsb_wait_answer 127.0.0.1 "$ub_port" 600 || dnsb_die "unbound (filter) did not start: $(tail "$work/unbound-$list.log")"
    ub_start=$((SECONDS - start))
  fi

  # Warm-up (page faults, upstream sockets), not counted.
  for tool in $TOOLS; do
    eval "port=\$${tool}_port"
    dnsb_perf "$work/warm" "$port" "$queries" 2
  done

  for i in $(seq "$RUNS"); do
    for tool in $TOOLS; do
      eval "port=\$${tool}_port pid=\$${tool}_pid"
      c0=$(dnsb_cpu_ticks "$pid")
      dnsb_perf "$work/$tool-$list-$i.out" "$port" "$queries" "$DURATION"
      c1=$(dnsb_cpu_ticks "$pid")
      read -r qps avg p99 lost nx completed < <(dnsb_figures "$work/$tool-$list-$i.out")
      # CPU microseconds per answered query (user + system, all threads).
      cpu_us=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$completed" \
        'BEGIN {printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}')
      echo "$list $tool $i $qps $avg $p99 $lost $nx $cpu_us" >>"$results"
      # Both must block exactly the blocked tenth of the mix (same list, same semantics).
      awk -v n="$nx" 'BEGIN {exit !(n >= 9.5 && n <= 10.5)}' ||
        dnsb_die "$tool on list $list answered NXDOMAIN to $nx % of the queries, expected 10 %"
    done
  done
  for tool in $TOOLS; do
    eval "pid=\$${tool}_pid st=\$${tool}_start"
    echo "$list $tool mem $(dnsb_rss_kb "$pid" VmHWM) $(dnsb_rss_kb "$pid" VmRSS) $st $rules" >>"$results"
  done
  dnsb_stop "$eg_pid"
  dnsb_stop "$dd_pid"
  [ -z "$ub_pid" ] || dnsb_stop "$ub_pid"
done

echo
echo "DNS proxy side by side: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
  "dnsperf -c ${CLIENTS:-20} -q ${OUTSTANDING:-200} -l $DURATION, $RUNS run(s) each, median;" \
  "WORKERS=$WORKERS"
printf '| %-4s | %-18s | %9s | %7s | %7s | %6s | %7s | %9s | %9s | %7s |\n' list tool "queries/s" \
  "avg ms" "p99 ms" lost "cpu us/q" "peak RSS" "RSS after" "start s"
echo '|------|--------------------|-----------|---------|---------|--------|---------|-----------|-----------|---------|'
status=0
verdicts=()
for list in $LISTS; do
  for tool in $TOOLS; do
    case $tool in eg) name="egressguard run" ;; dd) name="dnsdist 1.7" ;; *) name="unbound 1.17" ;; esac
    q=$(awk -v l="$list" -v t="$tool" '$1 == l && $2 == t && $3 != "mem" {print $4}' "$results" | median)
    a=$(awk -v l="$list" -v t="$tool" '$1 == l && $2 == t && $3 != "mem" {print $5}' "$results" | median)
    p=$(awk -v l="$list" -v t="$tool" '$1 == l && $2 == t && $3 != "mem" {print $6}' "$results" | median)
    lost=$(awk -v l="$list" -v t="$tool" '$1 == l && $2 == t && $3 != "mem" {s += $7} END {print s}' "$results")
    cpu=$(awk -v l="$list" -v t="$tool" '$1 == l && $2 == t && $3 != "mem" {print $9}' "$results" | median)
    read -r hwm rss st rules < <(awk -v l="$list" -v t="$tool" '$1 == l && $2 == t && $3 == "mem" {print $4, $5, $6, $7}' "$results")
    printf '| %-4s | %-18s | %9s | %7s | %7s | %6s | %7s | %6.1f MB | %6.1f MB | %7s |\n' "$list" \
      "$name" "$q" "$a" "$p" "$lost" "$cpu" "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')" \
      "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "$st"
    eval "${tool}_q=$q ${tool}_hwm=$hwm ${tool}_cpu=$cpu ${tool}_rules=$rules"
  done
  qr=$(awk -v a="$eg_q" -v b="$dd_q" 'BEGIN {printf "%.2f", a / b}')
  rr=$(awk -v a="$eg_hwm" -v b="$dd_hwm" 'BEGIN {printf "%.2f", a / b}')
  cr=$(awk -v a="$eg_cpu" -v b="$dd_cpu" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
  verdict=pass
  if awk -v r="$qr" -v f="$QPS_FLOOR" 'BEGIN {exit !(r < f)}' ||
    awk -v r="$rr" -v f="$RSS_FLOOR" 'BEGIN {exit !(r > f)}'; then
    verdict="BELOW THE FLOOR"
    status=1
  fi
  verdicts+=("list $list ($eg_rules rules): queries/s egressguard/dnsdist ${qr}x (floor ${QPS_FLOOR}x, goal 1.5x); peak RSS ${rr}x (floor <= ${RSS_FLOOR}x, goal 0.25x); CPU per query ${cr}x: $verdict")
  if [[ " $TOOLS " == *" ub "* ]]; then
    verdicts+=("list $list: egressguard/unbound: queries/s $(awk -v a="$eg_q" -v b="$ub_q" 'BEGIN {printf "%.2f", a / b}')x; peak RSS $(awk -v a="$eg_hwm" -v b="$ub_hwm" 'BEGIN {printf "%.2f", a / b}')x; CPU per query $(awk -v a="$eg_cpu" -v b="$ub_cpu" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')x")
  fi
done
echo
printf '%s\n' "${verdicts[@]}"
if [ "$REPORT_ONLY" = 1 ]; then
  exit 0
fi
exit "$status"
