#!/usr/bin/env bash
# Quick start (b): install dependencies, build with warnings as errors, and run every test:
# the GoogleTest suites through ctest (unit, parser tables, real captures, network namespaces),
# the format check, the sanitizer stage (scripts/sanitize.sh: every test again under ASan+UBSan,
# the concurrent ones under TSan), and a short libFuzzer run of every fuzz target.
# Environment: FUZZ_SECONDS (default 10) per fuzz target; SKIP_FUZZ=1 to skip the fuzz stage;
# SKIP_SANITIZE=1 to skip the sanitizer stage. Each stage prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
stage_start=$SECONDS
stage_done() {
  echo "== $1 took $((SECONDS - stage_start))s"
  stage_start=$SECONDS
}
bash scripts/deps.sh
stage_done deps

echo "== build (g++, -Werror)"
bash scripts/build.sh -DEGRESSGUARD_WERROR=ON
stage_done build

echo "== clang-format"
files=$(git ls-files '*.h' '*.cc' 2>/dev/null || find base domains geoip filter tests bench -name '*.h' -o -name '*.cc')
clang-format --dry-run -Werror $files
stage_done clang-format

echo "== ctest"
(cd build && ctest --output-on-failure -j"$(nproc)" --timeout 900)
stage_done ctest

if [ "${SKIP_SANITIZE:-0}" != "1" ]; then
  echo "== sanitizers (ASan+UBSan: every test in build-fuzz (clang); TSan: the concurrent tests)"
  bash scripts/sanitize.sh
  stage_done sanitizers
fi

if [ "${SKIP_FUZZ:-0}" != "1" ]; then
  echo "== fuzz (clang, libFuzzer + ASan/UBSan, ${FUZZ_SECONDS:-10}s per target)"
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
  stage_done fuzz
fi
echo "== all tests passed"
