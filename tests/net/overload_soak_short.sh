#!/usr/bin/env bash
# ctest: a 90 s soak at 80 % of the measured saturation with RSS sampled every 5 s: the last 30 s
# may not exceed the first 30 s by more than 4 MB. What this short run proves: nothing grows per
# query (at about 50 k queries/s, 8 bytes kept per query would add 24 MB between the windows);
# slow growth needs the 30-minute run (bench/dnsproxy/soak.sh, figures in bench/results/).
# Loopback only, no root, about 110 s. Skips (exit 77) when a tool or the shared list is missing,
# unless CI=true.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}
export EGRESSGUARD=$eg
export DATA=${DATA:-$(dirname "$eg")/bench-data/dnsproxy}
export DURATION=${DURATION:-90} SAMPLE=${SAMPLE:-5} WINDOW=${WINDOW:-30} SATURATE=${SATURATE:-4}
export SKIP_MISSING=1
exec bash "$repo/bench/dnsproxy/soak.sh"
