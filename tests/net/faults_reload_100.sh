#!/usr/bin/env bash
# ctest: 100 policy reloads (a small list, alternating SIGHUP and `egressguard reload`) while
# dnsperf runs: no query lost, no SERVFAIL, every reload live and counted; then a bad list is
# refused with file:line. bench/dnsproxy/reload_under_load.sh with LIST=small RELOADS=100:
# loopback only, no root, about 60 s.
# Skips (exit 77) when dnsperf, unbound or kdig, or the shared list, is missing, unless CI=true.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}
export EGRESSGUARD=$eg
export DATA=${DATA:-$(dirname "$eg")/bench-data/dnsproxy}
export LIST=small RELOADS=${RELOADS:-100} DURATION=${DURATION:-60} RATE=${RATE:-3000} SKIP_MISSING=1
exec bash "$repo/bench/dnsproxy/reload_under_load.sh"
