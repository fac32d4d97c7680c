#!/usr/bin/env bash
# Side by side: `egressguard scan` against nDPI's `ndpiReader -i` (Debian libndpi-bin) on the same
# capture, in one run, alternating, RUNS times each. Prints packets/s (median wall time), CPU time,
# peak RSS and the ratio egressguard/ndpiReader; exits 1 when the ratio is below the floor.
#
# Builds nothing: build first with scripts/build.sh (binary build/egressguard, RelWithDebInfo).
# The capture (about 1.07 M packets, 11.8 k flows, 926 MB) is generated on first use by
# bench/scan/make_bench_capture.py and kept out of the repository (build/bench-data/).
#
# Environment:
#   EGRESSGUARD   binary to time (default build/egressguard)
#   CAPTURE       capture file (default build/bench-data/scan_bench.pcap; generated if missing)
#   RUNS          runs per tool (default 3)
#   FLOOR         minimum ratio egressguard/ndpiReader in packets/s (default 3.0)
#   METRIC        wall (default): the ratio of packets per wall-clock second decides; cpu: of
#                 packets per CPU second (user+sys), steadier on a machine shared with other work
#   REPORT_ONLY   1: print the figures, never fail on the ratio
#   PIN_CPU       core to pin both tools to with taskset (default: none)
set -euo pipefail
cd "$(dirname "$0")/../.."

EGRESSGUARD=${EGRESSGUARD:-build/egressguard}
CAPTURE=${CAPTURE:-build/bench-data/scan_bench.pcap}
CONFIG=examples/egressguard.toml
RUNS=${RUNS:-3}
FLOOR=${FLOOR:-3.0}
GOAL=5.0
REPORT_ONLY=${REPORT_ONLY:-0}
METRIC=${METRIC:-wall}
PIN_CPU=${PIN_CPU:-}

die() {
  echo "scan_vs_ndpi: $*" >&2
  exit 2
}

case $METRIC in wall | cpu) ;; *) die "METRIC must be wall or cpu, not $METRIC" ;; esac
[ -x "$EGRESSGUARD" ] || die "$EGRESSGUARD not found: build it first with scripts/build.sh"
command -v ndpiReader >/dev/null || die "ndpiReader not found: apt-get install libndpi-bin"
[ -x /usr/bin/time ] || die "/usr/bin/time not found: apt-get install time"
command -v python3 >/dev/null || die "python3 not found"

if [ ! -s "$CAPTURE" ] || [ ! -s "$CAPTURE.meta" ]; then
  echo "scan_vs_ndpi: generating $CAPTURE" >&2
  python3 bench/scan/make_bench_capture.py --out "$CAPTURE"
fi
meta() { sed -n "s/^$1=//p" "$CAPTURE.meta"; }
PACKETS=$(meta packets)
FLOWS=$(meta flows)
[ -n "$PACKETS" ] || die "$CAPTURE.meta has no packet count: delete both files to regenerate"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Both tools read the capture from the page cache: read it once before timing anything.
cat "$CAPTURE" >/dev/null

pin=()
if [ -n "$PIN_CPU" ]; then
  pin=(taskset -c "$PIN_CPU")
fi
# The exact commands timed. ndpiReader: -q prints no per-flow or summary output; a pcap file is
# always read by one thread (-n is ignored for files); no -F/-v/-J/-C/-w extra dissection or
# output; defaults otherwise (-T 80 / -U 24 packets of DPI per flow). egressguard: would-block
# events to /dev/null, per-group summary on stderr.
EG_CMD=("${pin[@]}" "$EGRESSGUARD" scan --config "$CONFIG" --events /dev/null "$CAPTURE")
NDPI_CMD=("${pin[@]}" ndpiReader -i "$CAPTURE" -q)

# run NAME I CMD...: one timed run; appends "wall user sys maxrss_kb" to $work/NAME.times.
run() {
  local name=$1 i=$2
  shift 2
  if ! /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/$name.$i.out" \
    2>"$work/$name.$i.err"; then
    cat "$work/$name.$i.err" >&2
    die "$name run $i failed: $*"
  fi
  cat "$work/time" >>"$work/$name.times"
}

echo "capture: $CAPTURE ($PACKETS packets, $FLOWS flows, $(($(stat -c %s "$CAPTURE") / 1000000)) MB)"
echo "egressguard: ${EG_CMD[*]}"
echo "ndpiReader:  ${NDPI_CMD[*]}  ($(ndpiReader -h 2>/dev/null | sed -n 's/.*\(nDPI [0-9.]*\).*/\1/p' | head -1))"
for i in $(seq 1 "$RUNS"); do
  run egressguard "$i" "${EG_CMD[@]}"
  run ndpiReader "$i" "${NDPI_CMD[@]}"
  echo "run $i/$RUNS: egressguard $(cut -d' ' -f1 <<<"$(tail -1 "$work/egressguard.times")") s," \
    "ndpiReader $(cut -d' ' -f1 <<<"$(tail -1 "$work/ndpiReader.times")") s"
done

# Both must have read every packet: egressguard says so on stderr; ndpiReader -q says nothing, so
# one untimed run without -q prints its traffic statistics.
eg_packets=$(sed -n 's/^scan: \([0-9]*\) packets.*/\1/p' "$work/egressguard.1.err")
[ "$eg_packets" = "$PACKETS" ] || die "egressguard read ${eg_packets:-?} packets, expected $PACKETS"
ndpiReader -i "$CAPTURE" >"$work/ndpi.verbose" 2>&1 || die "ndpiReader (verification run) failed"
ndpi_packets=$(sed -n 's/^[[:space:]]*IP packets:[[:space:]]*\([0-9]*\).*/\1/p' "$work/ndpi.verbose" |
  head -1)
ndpi_flows=$(sed -n 's/^[[:space:]]*Unique flows:[[:space:]]*\([0-9]*\).*/\1/p' "$work/ndpi.verbose" |
  head -1)
[ "$ndpi_packets" = "$PACKETS" ] || die "ndpiReader read ${ndpi_packets:-?} packets, expected $PACKETS"
eg_flows=$(awk '$1 ~ /^(exempt|gov-managed|byod|guest)$/ { s += $2 } END { print s + 0 }' \
  "$work/egressguard.1.err")
eg_events=$(sed -n 's/^scan: [0-9]* packets, \([0-9]*\) events.*/\1/p' "$work/egressguard.1.err")

# summary NAME: median wall, median user+sys, max RSS (MB), packets/s at median wall.
summary() {
  awk -v packets="$PACKETS" '
    { wall[NR] = $1; cpu[NR] = $2 + $3; if ($4 > rss) rss = $4 }
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END { w = median(wall, NR); c = median(cpu, NR)
          printf "%.2f %.2f %.1f %.0f %.0f\n", w, c, rss / 1024, packets / w, packets / (c > 0 ? c : 0.01) }
  ' "$work/$1.times"
}
read -r eg_wall eg_cpu eg_rss eg_pps eg_cpu_pps <<<"$(summary egressguard)"
read -r nd_wall nd_cpu nd_rss nd_pps nd_cpu_pps <<<"$(summary ndpiReader)"
ratio=$(awk -v a="$eg_pps" -v b="$nd_pps" 'BEGIN { printf "%.2f", a / b }')
cpu_ratio=$(awk -v a="$eg_cpu_pps" -v b="$nd_cpu_pps" 'BEGIN { printf "%.2f", a / b }')

echo
printf '%-12s %10s %10s %14s %14s %10s %s\n' tool "wall s" "cpu s" "packets/s" "pkts/cpu-s" \
  "RSS MB" "flows"
printf '%-12s %10s %10s %14s %14s %10s %s\n' egressguard "$eg_wall" "$eg_cpu" "$eg_pps" \
  "$eg_cpu_pps" "$eg_rss" "$eg_flows ($eg_events events)"
printf '%-12s %10s %10s %14s %14s %10s %s\n' ndpiReader "$nd_wall" "$nd_cpu" "$nd_pps" \
  "$nd_cpu_pps" "$nd_rss" "$ndpi_flows"
echo "(median of $RUNS runs each, alternating; RSS = max of the runs' peak resident set size)"
echo
echo "ratio egressguard/ndpiReader: ${ratio}x packets/s (wall), ${cpu_ratio}x per CPU second;" \
  "floor ${FLOOR}x, goal ${GOAL}x (on $METRIC)"
if [ "$METRIC" = cpu ]; then
  ratio=$cpu_ratio
fi

if awk -v r="$ratio" -v f="$FLOOR" 'BEGIN { exit !(r < f) }'; then
  if [ "$REPORT_ONLY" = 1 ]; then
    echo "BELOW FLOOR (REPORT_ONLY=1: not failing)"
    exit 0
  fi
  echo "FAIL: below the floor of ${FLOOR}x"
  exit 1
fi
if awk -v r="$ratio" -v g="$GOAL" 'BEGIN { exit !(r < g) }'; then
  echo "ok: above the floor, below the goal of ${GOAL}x"
else
  echo "ok: at or above the goal of ${GOAL}x"
fi
