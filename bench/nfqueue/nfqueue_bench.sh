#!/usr/bin/env bash
# NFQUEUE datapath benchmark in the network-namespace lab (needs root, iperf3, python3):
#   - first-packet latency: TCP connect time (the SYN goes through NFQUEUE) p50/p99, without and
#     with egressguard; the difference is the added latency;
#   - decided new TLS flows per second with one queue (one worker thread, one core);
#   - bulk TCP throughput (iperf3, port 443 so the flow is queued, decided and then offloaded by
#     its ct mark) without and with egressguard.
# Prints a table. Usage: bench/nfqueue/nfqueue_bench.sh [SECONDS]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}
secs=${1:-5}
source "$repo/scripts/lab/lab.sh"
lab_require_tools iperf3 python3 nft iptables-nft
lab_up
trap 'lab_exec gw "$eg" firewall remove >/dev/null 2>&1 || true; lab_down' EXIT
lab_make_pki
lab_start_nginx
# iperf3 on the QUIC address, TCP 443 (the QUIC server uses UDP 443 there).
lab_spawn srv iperf3 iperf3 -s -B "$LAB_QUIC_V4" -p 443
lab_wait_listen srv tcp "$LAB_QUIC_V4" 443
dir=$LAB_TMP/eg
mkdir -p "$dir"
printf '*.tiktok.com\n' >"$dir/tiktok.txt"
cat >"$dir/eg.toml" <<TOML
default_group = "gov-managed"
[dns]
listen = ["$LAB_GW_GOV_V4:53"]
upstreams = ["$LAB_DNS_V4:53"]
[nfqueue]
queues = [0]
fail_mode = "open"
[[category]]
name = "tiktok"
lists = [{ path = "tiktok.txt" }]
[[group]]
name = "gov-managed"
cidrs = ["$LAB_GOV_NET_V4"]
block = ["tiktok"]
TOML
flows=$repo/bench/nfqueue/flows.py

measure() { # prints: connect_p50 connect_p99 flows_per_s gbit_per_s
  local lat fl bw
  lat=$(lab_exec gov python3 "$flows" connect "$LAB_WEB_V4" 443 2000)
  fl=$(lab_exec gov python3 "$flows" flows "$LAB_WEB_V4" www.example.org "$secs" 4)
  bw=$(lab_exec gov iperf3 -c "$LAB_QUIC_V4" -p 443 -t "$secs" -J |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))')
  echo "$lat $fl $bw"
}

read -r b50 b99 bflows bbw < <(measure)
lab_exec gw "$eg" firewall apply --config "$dir/eg.toml" >/dev/null 2>&1
lab_spawn gw eg taskset -c 0 "$eg" run --config "$dir/eg.toml"
lab_wait_listen gw udp "$LAB_GW_GOV_V4" 53
read -r e50 e99 eflows ebw < <(measure)
cpu=$(awk '{print ($14+$15)/100}' "/proc/$(pgrep -P "$(lab_pid eg)" -f egressguard || lab_pid eg)/stat" 2>/dev/null || echo "?")
lab_stop eg TERM
grep -E 'nfqueue: [0-9]+ packets' "$LAB_TMP/log/eg.log" | sed 's/.*nfqueue:/egressguard nfqueue:/' || true

printf '\n%-44s %12s %12s %10s\n' "metric" "no filter" "egressguard" "ratio"
printf '%-44s %12s %12s %10s\n' "first packet: TCP connect p50 (us)" "$b50" "$e50" "+$((e50 - b50)) us"
printf '%-44s %12s %12s %10s\n' "first packet: TCP connect p99 (us)" "$b99" "$e99" "+$((e99 - b99)) us"
printf '%-44s %12s %12s %10s\n' "new TLS flows/s (4 client threads, 1 queue)" "$bflows" "$eflows" \
  "$(python3 -c "print('%.0f%%' % (100*$eflows/$bflows))")"
printf '%-44s %12s %12s %10s\n' "bulk TCP, iperf3 (Gbit/s, offloaded flow)" "$bbw" "$ebw" \
  "$(python3 -c "print('%.1f%%' % (100*$ebw/$bbw))")"
echo "egressguard CPU time during the run: ${cpu}s"
