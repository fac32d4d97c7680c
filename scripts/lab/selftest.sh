#!/usr/bin/env bash
# Self-test of the network-namespace lab (lab.sh): builds it, checks every server and client
# function for the expected positive and negative results, and checks that lab_down leaves no
# namespace, process or file behind. Needs root; takes a few seconds. Exit status 0 = all passed.
set -euo pipefail

if [[ "$(id -u)" != 0 ]]; then
  echo "error: ${0##*/} must run as root (it creates network namespaces)" >&2
  exit 1
fi

LAB_PREFIX=egst-$$
# shellcheck source=scripts/lab/lab.sh
source "$(dirname "${BASH_SOURCE[0]}")/lab.sh"
LAB_NO_TRAP=1 # this test calls lab_down itself, then checks what is left
trap 'lab_down' EXIT

failures=0
check() { # check DESCRIPTION CMD...: CMD must succeed
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then
    echo "ok   $what"
  else
    echo "FAIL $what"
    failures=$((failures + 1))
  fi
}
out_has() { # out_has REGEX CMD...: CMD succeeds and prints a line matching REGEX
  local re=$1 out
  shift
  out=$("$@" 2>&1) || return 1
  grep -Eq -- "$re" <<<"$out"
}
out_has_any() { # out_has_any REGEX CMD...: CMD prints a line matching REGEX, whatever its status
  local re=$1 out
  shift
  out=$("$@" 2>&1) || true
  grep -Eq -- "$re" <<<"$out"
}
fails() { ! "$@"; }

lab_up
lab_make_pki
lab_start_unbound ""
lab_start_nginx
lab_start_quic_server

for role in gov byod; do
  check "$role: DNS/UDP A" out_has '^www\.tiktok\.com\. 300 IN A 198\.51\.100\.20$' \
    lab_dns "$role" www.tiktok.com A
  check "$role: DNS/TCP A" out_has '^vk\.com\. 300 IN A 198\.51\.100\.10$' lab_dns "$role" -t vk.com
  check "$role: DNS over IPv6 AAAA" out_has 'AAAA 2001:db8:100::10$' \
    lab_dns "$role" -6 telegram.org AAAA
  check "$role: CNAME followed" out_has '^www\.tiktok\.com\. 300 IN A 198\.51\.100\.10$' \
    lab_dns "$role" cdn.example-shop.com A
  check "$role: unknown name NXDOMAIN" out_has '^status: NXDOMAIN$' lab_dns "$role" nothere.example
  check "$role: HTTPS by SNI" out_has '^egressguard lab: t\.me$' lab_https "$role" t.me
  check "$role: HTTPS over IPv6" out_has '^egressguard lab: www\.capcut\.com$' \
    lab_https "$role" www.capcut.com -6
  check "$role: HTTPS IP literal -> default server" out_has '^egressguard lab: default server$' \
    lab_https "$role" "$LAB_WEB_V4"
  check "$role: HTTPS unknown name fails verification" fails lab_https "$role" nothere.example
  check "$role: HTTP by Host" out_has '^egressguard lab: web\.telegram\.org$' \
    lab_http "$role" web.telegram.org
  check "$role: HTTP over IPv6" out_has '^egressguard lab: telegram\.org$' \
    lab_http "$role" telegram.org -6
  check "$role: openssl s_client verifies" out_has '^Verification: OK' lab_tls "$role" vk.com
  check "$role: QUIC HTTP/3" out_has '^egressguard lab: quic$' lab_quic "$role" www.tiktok.com
done
# Negative cases that wait for a client timeout: once only.
check "gov: no DNS server at the gateway" fails lab_dns gov -s "$LAB_GW_GOV_V4" vk.com
check "gov: QUIC to a closed port fails" fails lab_quic gov www.tiktok.com "$LAB_WEB_V4"
check "unbound logged the queries" grep -q 'fd00:30::20 telegram.org. AAAA IN' \
  "$LAB_TMP/log/unbound.log"
check "nginx logged the requests" grep -q '10.30.0.20' "$LAB_TMP/nginx/access.log"

lab_set_resolver gov "$LAB_DNS_V4"
check "resolver per namespace" out_has '^198\.51\.100\.10 ' \
  lab_exec gov getent ahostsv4 news.example.net
lab_set_hosts byod "192.0.2.99 only-in-byod.test"
check "hosts per namespace" out_has '^192\.0\.2\.99 ' lab_exec byod getent hosts only-in-byod.test
check "hosts not leaking to other namespaces" fails lab_exec gov getent hosts only-in-byod.test

pcap=$LAB_TMP/selftest.pcap
lab_capture_start cap gw "$LAB_GW_SRV_IF" "$pcap" udp port 53
lab_dns gov www.example.org >/dev/null
lab_dns byod www.example.org >/dev/null
lab_capture_stop cap 2>/dev/null
check "capture holds each packet once (4 frames)" test "$(tcpdump -r "$pcap" 2>/dev/null | wc -l)" = 4
check "capture keeps client addresses" out_has_any 'IP 10\.30\.0\.20\.[0-9]+ > 192\.0\.2\.53\.53' \
  tcpdump -n -r "$pcap"

lab_spawn gw exits3 sh -c 'exit 3'
rc=0
lab_wait exits3 || rc=$?
check "lab_wait returns the exit status" test "$rc" = 3
lab_spawn gw sleeper sleep 60
sleeper_pid=$LAB_LAST_PID
lab_stop sleeper KILL
check "lab_stop ends the process" fails kill -0 "$sleeper_pid"
lab_spawn srv leftover sleep 60
leftover_pid=$LAB_LAST_PID

tmp=$LAB_TMP
lab_down 2>/dev/null
for role in "${LAB_ROLES[@]}"; do
  check "namespace $role removed" fails sh -c "ip netns list | grep -q '^$(lab_ns "$role")\\b'"
done
check "processes ended" fails kill -0 "$leftover_pid"
check "temp dir removed" test ! -e "$tmp"
check "/etc/netns entries removed" test ! -e "/etc/netns/$(lab_ns gov)"

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
