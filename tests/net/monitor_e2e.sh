#!/usr/bin/env bash
# End-to-end test of `egressguard monitor`: a live, passive capture on the lab gateway's
# server-facing interface while a gov-managed and a BYOD device visit TikTok and an ordinary
# site. Asserts: the gov device's TikTok DNS/TLS/QUIC names give block events with group
# gov-managed, the BYOD device gives none, traffic is untouched (monitor is passive: both devices
# get their pages), and SIGINT stops it cleanly with the per-group summary.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}
source "$repo/scripts/lab/lab.sh"

source "$repo/tests/net/check_lib.sh"

lab_up
lab_make_pki
lab_start_unbound
lab_start_nginx
lab_start_quic_server

events=$LAB_TMP/events.json
lab_spawn gw monitor "$eg" monitor --config "$repo/examples/egressguard.toml" -i "$LAB_GW_SRV_IF" \
  --events "$events" --all
sleep 1
lab_check_alive monitor

lab_dns gov www.tiktok.com >/dev/null || true
gov_page=$(lab_https gov www.tiktok.com || true)
lab_quic gov www.tiktok.com >/dev/null || true
byod_page=$(lab_https byod www.tiktok.com || true)
lab_dns byod www.tiktok.com >/dev/null || true
lab_https gov www.example.org >/dev/null || true
sleep 1
lab_stop monitor INT
log=$LAB_TMP/log/monitor.log

check "monitor is passive: the gov device still got the page" \
  test "$gov_page" = "egressguard lab: www.tiktok.com"
check "byod got the page" test "$byod_page" = "egressguard lab: www.tiktok.com"
check "gov DNS query for TikTok is a block event" \
  grep -q '"event_type":"block".*"src_ip":"10.8.0.10".*"app_proto":"dns".*"group":"gov-managed","name":"www.tiktok.com"' "$events"
check "gov TLS SNI is a block event" \
  grep -q '"event_type":"block".*"app_proto":"tls","in_iface":"srv0","group":"gov-managed","name":"www.tiktok.com"' "$events"
check "gov QUIC SNI is a block event" \
  grep -q '"event_type":"block".*"app_proto":"quic".*"group":"gov-managed","name":"www.tiktok.com"' "$events"
check "no block event for byod" bash -c "! grep '\"group\":\"byod\"' '$events' | grep -q '\"event_type\":\"block\"'"
check "byod names are logged as allowed (--all)" \
  grep -q '"event_type":"name".*"group":"byod","name":"www.tiktok.com"' "$events"
check "ordinary site allowed for gov" \
  grep -q '"event_type":"name".*"group":"gov-managed","name":"www.example.org".*"action":"allow"' "$events"
check "SIGINT prints the summary" grep -q '^gov-managed ' "$log"
check "monitor exited cleanly on SIGINT" grep -q 'monitor: [0-9]* packets' "$log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
