#!/usr/bin/env bash
# ctest: the DNS proxy at twice its saturation load keeps serving, sheds load through its pending
# bound, keeps its RSS bounded and answers a fresh query right after. A short run of
# bench/dnsproxy/overload_memory.sh (see there): loopback only, no root, about 25 s.
# Skips (exit 77) when dnsperf, unbound, kdig, cc or the shared list is missing, unless CI=true.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}
export EGRESSGUARD=$eg
export DATA=${DATA:-$(dirname "$eg")/bench-data/dnsproxy}
export SATURATE=${SATURATE:-4} DURATION=${DURATION:-8} SKIP_MISSING=1
exec bash "$repo/bench/dnsproxy/overload_memory.sh"
