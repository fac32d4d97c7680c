#!/usr/bin/env bash
# ctest: the upstream resolver is killed and restarted under load: SERVFAIL (not a hang) while it
# is down, full service within seconds after, no crash, the outage counted.
# bench/dnsproxy/upstream_restart.sh: loopback only, no root, about 30 s.
# Skips (exit 77) when dnsperf, unbound or kdig, or the shared list, is missing, unless CI=true.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}
export EGRESSGUARD=$eg
export DATA=${DATA:-$(dirname "$eg")/bench-data/dnsproxy}
export SKIP_MISSING=1
exec bash "$repo/bench/dnsproxy/upstream_restart.sh"
