#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzz.cc) with clang + ASan/UBSan into build-fuzz/
# and runs each for SECONDS (default 10) from its seed corpus (tests/fuzz/corpus/<name>/).
# A crash fails the script; its input is left in build-fuzz/crashes/ — add it to the corpus as a
# regression case once fixed. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
# -O1 -g1: a third quicker to build than -O2 -g, still symbolised; CI builds this tree from scratch.
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=${FUZZ_OPT:--O1 -g1} -DNDEBUG" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=${FUZZ_OPT:--O1 -g1} -DNDEBUG" -DEGRESSGUARD_FUZZ=ON \
  -DEGRESSGUARD_SANITIZE=ON >/dev/null
ninja -C build-fuzz -j"$(nproc)" fuzzers >/dev/null
mkdir -p build-fuzz/crashes
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in tests/fuzz/*_fuzz.cc; do
    [ -e "$src" ] || continue
    targets+=("$(basename "$src" .cc)")
  done
fi
for t in "${targets[@]}"; do
  name=${t%_fuzz}
  corpus=tests/fuzz/corpus/$name
  work=build-fuzz/corpus-work/$name
  mkdir -p "$work"
  echo "fuzz: $t for ${seconds}s"
  ./build-fuzz/tests/fuzz/"$t" -max_total_time="$seconds" -artifact_prefix=build-fuzz/crashes/ \
    -print_final_stats=1 "$work" $( [ -d "$corpus" ] && echo "$corpus" ) 2>&1 |
    grep -E "^stat::number_of_executed_units|ERROR|SUMMARY|Test unit written" || true
  if ls build-fuzz/crashes/ 2>/dev/null | grep -q .; then
    echo "fuzz: $t found a crash: build-fuzz/crashes/" >&2
    exit 1
  fi
done
