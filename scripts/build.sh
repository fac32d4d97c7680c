#!/usr/bin/env bash
# Configures and builds egressguard into build/ (binary: build/egressguard).
# Usage: scripts/build.sh [extra cmake -D options...]
# Environment: TARGETS="egressguard" builds only those targets (default: everything, tests and
# benchmarks included).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
# shellcheck disable=SC2086
ninja -C build -j"$(nproc)" ${TARGETS:-}
