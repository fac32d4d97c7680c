#!/usr/bin/env bash
# The benchmark report (issue 7, item 5): one command that builds egressguard in Release mode and
# runs the side-by-side benchmarks, several runs each, then writes bench/results/latest.md: one
# Markdown table per benchmark with medians and ratios, the tool versions, the machine and the
# load average around each benchmark, and how to rerun.
#
#   bash bench/report.sh              # full: RUNS=3, about 20 minutes
#   QUICK=1 bash bench/report.sh      # short: one run each, short durations (a smoke test)
#
# Benchmarks (each one's own script documents its method; see bench/README.md):
#   matcher   bench/domains/matcher_bench (Google Benchmark; taskset -c 1; RUNS repetitions)
#   dnsproxy  bench/dnsproxy/dnsproxy_vs_dnsdist.sh: egressguard vs dnsdist vs unbound
#   overload  bench/dnsproxy/overload_memory.sh: 2x saturation, RSS, shedding, recovery
#   scan      bench/scan/scan_vs_ndpi.sh: egressguard scan vs ndpiReader
#   nfqueue   bench/nfqueue/nfqueue_bench.sh: the NFQUEUE datapath in the netns lab (root)
# A benchmark that cannot run here (a missing tool, no root for the lab) gets a line saying why
# in the report instead of a table; the report is still written.
#
# Environment:
#   BUILD      build directory (default build-release; configured with CMAKE_BUILD_TYPE=Release)
#   WERROR     1: configure with -DEGRESSGUARD_WERROR=ON (default OFF: a release report should
#              not fail on a compiler's false-positive warning)
#   RUNS       runs per benchmark and tool (default 3; QUICK: 1)
#   ONLY       space-separated subset of "matcher dnsproxy overload scan nfqueue" (default: all)
#   OUT        report file (default bench/results/latest.md)
#   NOTE       a line put under the title (e.g. "machine shared with parallel builds")
#   SOAK_MD    a soak result (bench/dnsproxy/soak.sh table) to include (default
#              bench/results/soak.md when present)
# Exit status: 0 report written, 2 the build failed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

BUILD=${BUILD:-build-release}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  RUNS=${RUNS:-1}
  DNS_DURATION=${DNS_DURATION:-5}
  NFQ_SECONDS=${NFQ_SECONDS:-2}
  MATCHER_MIN_TIME=${MATCHER_MIN_TIME:-0.05}
else
  RUNS=${RUNS:-3}
  DNS_DURATION=${DNS_DURATION:-15}
  NFQ_SECONDS=${NFQ_SECONDS:-5}
  MATCHER_MIN_TIME=${MATCHER_MIN_TIME:-0.5}
fi
ONLY=${ONLY:-matcher dnsproxy overload scan nfqueue}
OUT=${OUT:-bench/results/latest.md}
SOAK_MD=${SOAK_MD:-bench/results/soak.md}
NOTE=${NOTE:-}
raw=$BUILD/bench-results
mkdir -p "$raw" "$(dirname "$OUT")"

log() { echo "report: $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else print v[int((NR + 1) / 2)]}'; }

# ---- build ----
log "building $BUILD (Release)"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DEGRESSGUARD_WERROR="$([ "${WERROR:-0}" = 1 ] && echo ON || echo OFF)" >"$raw/cmake.log" 2>&1 ||
  {
    tail -20 "$raw/cmake.log" >&2
    exit 2
  }
ninja -C "$BUILD" -j"$(nproc)" egressguard matcher_bench >"$raw/build.log" 2>&1 || {
  tail -30 "$raw/build.log" >&2
  exit 2
}
EG=$repo/$BUILD/egressguard

# ---- versions ----
version_of() { "$@" 2>&1 | head -1 || true; }
eg_version=$(git describe --always --dirty --tags 2>/dev/null || echo unknown)
dnsdist_version=$(command -v dnsdist >/dev/null && version_of dnsdist --version || echo "not installed")
unbound_version=$(command -v unbound >/dev/null && unbound -V 2>&1 | sed -n 's/^Version //p' | head -1 || echo "not installed")
ndpi_version=$(command -v ndpiReader >/dev/null && ndpiReader -h 2>&1 | sed -n 's/.*\(nDPI [0-9.]*\).*/\1/p' | head -1 || echo "not installed")
dnsperf_version=$(command -v dnsperf >/dev/null && dnsperf -h 2>&1 | sed -n 's/^Version //p' | head -1 || echo "not installed")
cxx_version=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt" | head -1)
cxx_version=$("${cxx_version:-c++}" --version | head -1)
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
[ -n "$cpu_model" ] || cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)

sections=()  # each a file of Markdown
add_section() { sections+=("$1"); }

# ---- matcher ----
run_matcher() {
  local md=$raw/matcher.md json=$raw/matcher.json l0 l1
  l0=$(loadavg)
  local pin=()
  (($(nproc) >= 2)) && pin=(taskset -c 1)
  "${pin[@]}" "$BUILD/bench/matcher_bench" --benchmark_filter='BM_MatcherLookup/|BM_MatcherCompile' \
    --benchmark_repetitions="$RUNS" --benchmark_min_time="$MATCHER_MIN_TIME" \
    --benchmark_out="$json" --benchmark_out_format=json >"$raw/matcher.txt" 2>&1
  l1=$(loadavg)
  python3 - "$json" "$RUNS" "$l0" "$l1" >"$md" <<'PY'
import json, statistics, sys
path, runs, l0, l1 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
data = json.load(open(path))
rows = {}
for b in data["benchmarks"]:
    if b.get("run_type") != "iteration":
        continue
    rows.setdefault(b["run_name"], []).append(b)
def med(name, key):
    vals = [b[key] for b in rows.get(name, []) if key in b]
    return statistics.median(vals) if vals else None
print("## Matcher (`matcher_bench`, one core)\n")
print(f"Median of {runs} repetitions; load average {l0} before, {l1} after. Floor (issue 2): "
      ">= 10 M lookups/s at 1 M rules cold, <= 48 bytes/rule, compile 1 M rules <= 2 s, "
      "0 allocations per lookup.\n")
print("| rules | cold (uniform) M lookups/s | skewed (Zipf) M lookups/s | bytes/rule | allocs/lookup | compile |")
print("|---|---|---|---|---|---|")
for rules, label in [(10000, "10 k"), (100000, "100 k"), (441374, "441 k (real list)"), (1000000, "1 M")]:
    cold = med(f"BM_MatcherLookup/rules:{rules}/skewed:0", "items_per_second")
    skew = med(f"BM_MatcherLookup/rules:{rules}/skewed:1", "items_per_second")
    bpr = med(f"BM_MatcherLookup/rules:{rules}/skewed:0", "bytes_per_rule")
    allocs = med(f"BM_MatcherLookup/rules:{rules}/skewed:0", "allocs_per_iter")
    comp = med(f"BM_MatcherCompile/{rules}/iterations:3", "real_time")
    f = lambda v, fmt: (fmt % v) if v is not None else "-"
    print(f"| {label} | {f(cold and cold / 1e6, '%.1f')} | {f(skew and skew / 1e6, '%.1f')} | "
          f"{f(bpr, '%.1f')} | {f(allocs, '%.0f')} | {f(comp, '%.0f ms')} |")
cold = med("BM_MatcherLookup/rules:1000000/skewed:0", "items_per_second")
if cold:
    print(f"\n1 M rules cold: {cold / 1e6:.1f} M lookups/s = {cold / 10e6:.2f}x the 10 M/s floor.")
PY
  add_section "$md"
}

# ---- DNS proxy: egressguard vs dnsdist vs unbound ----
run_dnsproxy() {
  local md=$raw/dnsproxy.md out=$raw/dnsproxy.txt l0 l1
  l0=$(loadavg)
  if ! EGRESSGUARD=$EG DATA=$BUILD/bench-data/dnsproxy RUNS=$RUNS DURATION=$DNS_DURATION \
    REPORT_ONLY=1 bash bench/dnsproxy/dnsproxy_vs_dnsdist.sh >"$out" 2>&1; then
    printf '## DNS proxy vs dnsdist vs unbound\n\nNot run: %s\n' "$(tail -1 "$out")" >"$md"
    add_section "$md"
    return
  fi
  l1=$(loadavg)
  {
    echo "## DNS proxy: egressguard vs dnsdist vs unbound (\`bench/dnsproxy/dnsproxy_vs_dnsdist.sh\`)"
    echo
    echo "Loopback, same upstream (an unbound answering from memory), same block list with the same"
    echo "meaning (a name and its subdomains NXDOMAIN), same query mix (10 % blocked, 80 % A,"
    echo "20 % AAAA), dnsperf \`-c 20 -q 200 -l $DNS_DURATION\`, one tool at a time, alternating,"
    echo "median of $RUNS runs. Each proxy has 2 workers/threads. unbound is a filtering resolver:"
    echo "the list as \`local-zone: \"name.\" always_nxdomain\`, everything else forwarded, its cache"
    echo "held at TTL 0 so that every allowed query is forwarded as by the other two (neither caches)."
    echo "Load average $l0 before, $l1 after."
    echo
    sed -n '/^| list /,/^$/p' "$out" | sed '/^$/d'
    echo
    grep -E '^list ' "$out" | sed 's/^/- /'
  } >"$md"
  add_section "$md"
}

# ---- overload ----
run_overload() {
  local md=$raw/overload.md out=$raw/overload.txt
  EGRESSGUARD=$EG DATA=$BUILD/bench-data/dnsproxy REPORT_ONLY=1 \
    bash bench/dnsproxy/overload_memory.sh >"$out" 2>&1 || true
  {
    echo "## DNS proxy at twice its saturation load (\`bench/dnsproxy/overload_memory.sh\`)"
    echo
    echo "egressguard (1 M list, one worker, \`max_pending = 512\`) and its upstream pinned to core 0;"
    echo "the generator on core 1: dnsperf unthrottled for the saturation rate, then"
    echo "\`bench/dnsproxy/dns_blast.c\` (open loop) offering twice that for 15 s."
    echo
    if grep -q '^| list ' "$out"; then
      sed -n '/^| list /,/^$/p' "$out" | sed '/^$/d'
      echo
      grep -E '^(ok|FAIL) ' "$out" | sed 's/^/- /'
    else
      echo "Not run: $(tail -1 "$out")"
    fi
  } >"$md"
  add_section "$md"
}

# ---- scan vs ndpiReader ----
run_scan() {
  local md=$raw/scan.md out=$raw/scan.txt l0 l1 capture
  capture=${CAPTURE:-}
  if [ -z "$capture" ]; then
    capture=$BUILD/bench-data/scan_bench.pcap
    # Reuse another build directory's capture (926 MB, deterministic) when there is one.
    [ -s "$capture" ] || [ ! -s build/bench-data/scan_bench.pcap ] || capture=build/bench-data/scan_bench.pcap
  fi
  l0=$(loadavg)
  if ! EGRESSGUARD=$EG CAPTURE=$capture RUNS=$RUNS REPORT_ONLY=1 \
    bash bench/scan/scan_vs_ndpi.sh >"$out" 2>&1; then
    printf '## Capture scan vs ndpiReader\n\nNot run: %s\n' "$(tail -1 "$out")" >"$md"
    add_section "$md"
    return
  fi
  l1=$(loadavg)
  {
    echo "## Capture scan: \`egressguard scan\` vs \`ndpiReader\` (\`bench/scan/scan_vs_ndpi.sh\`)"
    echo
    sed -n 's/^capture: /Capture: /p' "$out"
    echo "Median of $RUNS runs each, alternating, capture in the page cache; load average $l0"
    echo "before, $l1 after."
    echo
    echo "| tool | wall s | CPU s | packets/s | packets per CPU-s | peak RSS MB | flows |"
    echo "|---|---|---|---|---|---|---|"
    awk '/^tool +wall s/ {t = 1; next} t && ($1 == "egressguard" || $1 == "ndpiReader") {
           f = ""; for (i = 7; i <= NF; i++) f = f (i > 7 ? " " : "") $i
           printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, f}' "$out"
    echo
    grep -E '^ratio ' "$out" | sed 's/^ratio/Ratio/'
  } >"$md"
  add_section "$md"
}

# ---- NFQUEUE ----
run_nfqueue() {
  local md=$raw/nfqueue.md l0 l1 i ok=0
  l0=$(loadavg)
  for i in $(seq "$RUNS"); do
    if EGRESSGUARD=$EG bash bench/nfqueue/nfqueue_bench.sh "$NFQ_SECONDS" >"$raw/nfqueue.$i.txt" 2>&1; then
      ok=$((ok + 1))
    fi
  done
  l1=$(loadavg)
  if ((ok == 0)); then
    printf '## NFQUEUE datapath\n\nNot run: %s\n' "$(tail -1 "$raw/nfqueue.1.txt")" >"$md"
    add_section "$md"
    return
  fi
  # metric rows: "label|no filter|egressguard"
  metric() { # metric PATTERN FIELD(2 = no filter, 3 = egressguard): median over runs
    local f
    for f in "$raw"/nfqueue.*.txt; do
      grep -E "^$1" "$f" | sed -E "s|^$1 +||" | awk -v c="$2" '{print $(c - 1)}'
    done | median
  }
  {
    echo "## NFQUEUE datapath (\`bench/nfqueue/nfqueue_bench.sh\`, network-namespace lab)"
    echo
    echo "Without and with \`egressguard run\` (one queue, pinned to core 0) on the gateway"
    echo "namespace; median of $ok run(s) of ${NFQ_SECONDS} s per measurement; load average $l0"
    echo "before, $l1 after."
    echo
    echo "| metric | no filter | egressguard | ratio |"
    echo "|---|---|---|---|"
    local label pattern b e
    while IFS='|' read -r label pattern; do
      b=$(metric "$pattern" 2)
      e=$(metric "$pattern" 3)
      echo "| $label | $b | $e | $(awk -v b="$b" -v e="$e" 'BEGIN {if (b + 0 > 0) printf "%.2f", e / b; else print "-"}') |"
    done <<'ROWS'
first packet: TCP connect p50 (us)|first packet: TCP connect p50 \(us\)
first packet: TCP connect p99 (us)|first packet: TCP connect p99 \(us\)
new TLS flows/s (4 client threads, 1 queue)|new TLS flows/s \(4 client threads, 1 queue\)
bulk TCP, iperf3 Gbit/s (offloaded flow)|bulk TCP, iperf3 \(Gbit/s, offloaded flow\)
ROWS
  } >"$md"
  add_section "$md"
}

for b in $ONLY; do
  log "running $b ($(loadavg))"
  case $b in
    matcher) run_matcher ;;
    dnsproxy) run_dnsproxy ;;
    overload) run_overload ;;
    scan) run_scan ;;
    nfqueue) run_nfqueue ;;
    *) log "unknown benchmark $b (matcher dnsproxy overload scan nfqueue)" ;;
  esac
done

# ---- the report ----
{
  echo "# egressguard benchmark report"
  echo
  echo "Generated by \`bash bench/report.sh\`$([ "$QUICK" = 1 ] && echo " (QUICK=1: one short run each, figures indicative only)")"
  echo "on $(date -u '+%Y-%m-%d %H:%M UTC'). Raw outputs: \`$raw/\` (not committed)."
  [ -z "$NOTE" ] || {
    echo
    echo "**Note:** $NOTE"
  }
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| egressguard | \`$eg_version\`, Release build (\`$BUILD\`), $cxx_version |"
  echo "| dnsdist | $dnsdist_version |"
  echo "| unbound | $unbound_version |"
  echo "| ndpiReader | $ndpi_version |"
  echo "| dnsperf | $dnsperf_version |"
  echo "| kernel | $(uname -sr) |"
  echo "| CPU | $cpu_model, $(nproc) cores |"
  echo "| load average at the end | $(loadavg) |"
  echo
  echo "Figures on a machine shared with other work move by 10-30 %; ratios of tools run"
  echo "alternately in the same minutes are steadier than absolute rates. The per-benchmark"
  echo "method, floors and goals are in \`bench/README.md\`."
  for s in "${sections[@]}"; do
    echo
    cat "$s"
  done
  if [ -s "$SOAK_MD" ]; then
    echo
    cat "$SOAK_MD"
  fi
  echo
  echo "## Rerun"
  echo
  echo '```sh'
  echo 'sudo bash scripts/deps.sh          # dnsperf dnsdist unbound knot-dnsutils libndpi-bin iperf3 ...'
  echo 'bash bench/report.sh               # Release build in build-release, RUNS=3, writes bench/results/latest.md'
  echo 'QUICK=1 bash bench/report.sh       # one short run of each'
  echo 'ONLY="dnsproxy scan" RUNS=5 bash bench/report.sh'
  echo 'DURATION=1800 bash bench/dnsproxy/soak.sh   # the 30-minute soak (bench/results/soak.md)'
  echo '```'
} >"$OUT"
log "wrote $OUT"
