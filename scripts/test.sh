#!/usr/bin/env bash
# Quick start (b): install dependencies, build with warnings as errors, and run every test:
# the GoogleTest suites through ctest (unit, parser tables, real captures, network namespaces),
# the format check, and a short libFuzzer run of every fuzz target.
# Environment: FUZZ_SECONDS (default 10) per fuzz target; SKIP_FUZZ=1 to skip the fuzz stage.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh

echo "== build (g++, -Werror)"
bash scripts/build.sh -DEGRESSGUARD_WERROR=ON

echo "== clang-format"
files=$(git ls-files '*.h' '*.cc' 2>/dev/null || find base domains geoip filter tests bench -name '*.h' -o -name '*.cc')
clang-format --dry-run -Werror $files

echo "== ctest"
(cd build && ctest --output-on-failure -j"$(nproc)" --timeout 900)

if [ "${SKIP_FUZZ:-0}" != "1" ]; then
  echo "== fuzz (clang, libFuzzer + ASan/UBSan, ${FUZZ_SECONDS:-10}s per target)"
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
fi
echo "== all tests passed"
