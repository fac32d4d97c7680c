#!/usr/bin/env bash
# ctest: the DNS proxy reloads its 1 M-rule policy under dnsperf load without losing a query, and
# refuses a bad list with file:line while the old policy keeps answering. A short run of
# bench/dnsproxy/reload_under_load.sh (see there): loopback only, no root, about 40 s.
# Skips (exit 77) when dnsperf, unbound or kdig, or the shared list, is missing, unless CI=true.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}
export EGRESSGUARD=$eg
export DATA=${DATA:-$(dirname "$eg")/bench-data/dnsproxy}
export DURATION=${DURATION:-15} RATE=${RATE:-5000} RELOADS=${RELOADS:-4} SKIP_MISSING=1
exec bash "$repo/bench/dnsproxy/reload_under_load.sh"
