#!/usr/bin/env bash
# Fuzz campaign: runs every libFuzzer target (tests/fuzz/*_fuzz.cc), one after the other, to at
# least EXECS executions each (default 10 M), starting from the seed corpus in the repo
# (tests/fuzz/corpus/<name>/) and growing a work corpus outside it, then writes a Markdown table
# (target, executions, exec/s, libFuzzer's final `cov:` and `ft:`, corpus size, crashes) to
# bench/results/fuzz-campaign.md.
#
# Usage: scripts/fuzz-campaign.sh [EXECS] [TARGET...]
# Environment:
#   FUZZ_WORK      work dir for the build, grown corpora, crashes and logs
#                  (default build-fuzz-campaign/, which git ignores)
#   FUZZ_MAX_TIME  cap in seconds per target (default 3600); a target that hits the cap before
#                  EXECS is marked "capped" in the table
#   FUZZ_JOBS      parallel libFuzzer workers per target (default 1: targets run sequentially and
#                  the 2-core CI machine keeps a core for everything else); with N > 1 the target
#                  runs with -fork=N and EXECS counts the executions of all workers
#   FUZZ_REPORT    report path (default bench/results/fuzz-campaign.md)
#   FUZZ_MAX_LEN   libFuzzer -max_len (default: libFuzzer's, 4096 or the largest seed). Text
#                  targets (lists, config) need no more than 512-1024 bytes to reach all their
#                  code and run 2-3x faster with it (rpz_list: 2.6k -> 6-7k exec/s, same cov)
#   FUZZ_JOBS=2 with -fork restarts workers and merges corpora; on 2 cores two campaigns side by
#   side on disjoint targets (FUZZ_JOBS=1, separate FUZZ_REPORT) get more executions.
# A crash does not stop the campaign: the target's row says so and the input is left in
# $FUZZ_WORK/crashes/<name>/; fix the bug, then copy the input into tests/fuzz/corpus/<name>/ as
# a regression case (scripts/fuzz.sh replays the seed corpus on every CI run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
execs=${1:-10000000}
shift || true
work=${FUZZ_WORK:-$root/build-fuzz-campaign}
max_time=${FUZZ_MAX_TIME:-3600}
jobs=${FUZZ_JOBS:-1}
report=${FUZZ_REPORT:-$root/bench/results/fuzz-campaign.md}
build=$work/build

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEGRESSGUARD_FUZZ=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in tests/fuzz/*_fuzz.cc; do
    [ -e "$src" ] || continue
    targets+=("$(basename "$src" .cc)")
  done
fi
ninja -C "$build" -j"${FUZZ_BUILD_JOBS:-2}" "${targets[@]}" >/dev/null

mkdir -p "$work/logs" "$(dirname "$report")"
rows=()
total_crashes=0
for t in "${targets[@]}"; do
  name=${t%_fuzz}
  seeds=tests/fuzz/corpus/$name
  corpus=$work/corpus/$name
  crashes=$work/crashes/$name
  log=$work/logs/$name.log
  mkdir -p "$corpus" "$crashes"
  args=(-runs="$execs" -max_total_time="$max_time" -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$crashes/")
  if [ "$jobs" -gt 1 ]; then
    args+=(-fork="$jobs" -ignore_crashes=1)
  fi
  if [ -n "${FUZZ_MAX_LEN:-}" ]; then
    args+=(-max_len="$FUZZ_MAX_LEN")
  fi
  echo "fuzz-campaign: $t (${execs} execs, cap ${max_time}s) -> $log"
  start=$(date +%s)
  set +e
  "$build/tests/fuzz/$t" "${args[@]}" "$corpus" $([ -d "$seeds" ] && echo "$seeds") >"$log" 2>&1
  status=$?
  set -e
  seconds=$(($(date +%s) - start))
  # Final figures: stat:: lines from -print_final_stats, cov/ft from libFuzzer's last status
  # line (DONE, or the last pulse when a run stopped early).
  units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  status_line=$(grep -E '^#[0-9]+.*cov: [0-9]+' "$log" | tail -1 || true)
  if [ -z "$units" ]; then  # -fork prints no stat:: lines; take the last status line
    units=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$status_line")
    rate=
  fi
  if [ -z "$rate" ] || [ "$rate" = 0 ]; then
    rate=$(( ${units:-0} / (seconds > 0 ? seconds : 1) ))
  fi
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$status_line")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$status_line")
  size=$(find "$corpus" -type f | wc -l)
  found=$(find "$crashes" -type f | wc -l)
  total_crashes=$((total_crashes + found))
  state=done
  if [ "$found" -gt 0 ] || { [ "$status" -ne 0 ] && [ "$jobs" -eq 1 ]; }; then
    state="crash (exit $status)"
  elif [ "${units:-0}" -lt "$execs" ]; then
    state="capped at ${max_time}s"
  fi
  echo "fuzz-campaign: $t: ${units:-?} execs, ${rate:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}," \
       "corpus $size, crashes $found, ${seconds}s, $state"
  rows+=("| $t | ${units:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | $size | $found | ${seconds} | $state |")
done

{
  echo "# Fuzz campaign"
  echo
  echo "\`scripts/fuzz-campaign.sh $execs${*:+ $*}\` on $(date -u +%Y-%m-%d), $(uname -m)," \
       "$(clang --version | head -1), $(nproc) cores, FUZZ_JOBS=$jobs," \
       "${FUZZ_MAX_LEN:+FUZZ_MAX_LEN=$FUZZ_MAX_LEN, }cap ${max_time}s per target."
  echo "Each target starts from its seed corpus (tests/fuzz/corpus/<name>/) and grows a work"
  echo "corpus in \`${work#"$root"/}\`. Figures are libFuzzer's final stats: \`cov\` = covered"
  echo "edges (PCs), \`ft\` = features; corpus = files in the work corpus at the end."
  echo
  echo "| target | executions | exec/s | cov | ft | corpus | crashes | seconds | result |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
} >"$report"
echo "fuzz-campaign: report in ${report#"$root"/}"
[ "$total_crashes" -eq 0 ]
