#!/usr/bin/env bash
# Records examples/captures/default.pcap and default.truth.tsv: a gov-managed device and a BYOD
# device visiting TikTok, Telegram, VK and ordinary sites, with real clients (kdig, dig, curl,
# openssl s_client, the ngtcp2 client) against local servers (unbound, nginx, the ngtcp2
# server) in the network-namespace lab of scripts/lab/lab.sh. Captured with tcpdump on the
# gateway's server-facing interface (no NAT: client addresses are kept, each packet appears
# once). Every visit is checked; any failure aborts and leaves the previous files in place.
#
# usage: sudo scripts/make-default-capture.sh [OUT_DIR]     (default: examples/captures)
# Needs: iproute2 unbound nginx knot-dnsutils dnsutils curl openssl ngtcp2-client
#        ngtcp2-server tcpdump tshark ethtool python3. See examples/captures/README.md.
set -euo pipefail

if [[ "$(id -u)" != 0 ]]; then
  echo "error: ${0##*/} must run as root (it creates network namespaces)" >&2
  exit 1
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${1:-$repo/examples/captures}
max_bytes=$((200 * 1024))

# shellcheck source=scripts/lab/lab.sh
source "$repo/scripts/lab/lab.sh"
lab_require_tools ip unbound nginx kdig dig curl openssl gtlsclient gtlsserver tcpdump tshark \
  python3

lab_up
lab_make_pki
lab_start_unbound ""
lab_start_nginx
lab_start_quic_server

work=$LAB_TMP/capture
mkdir -p "$work"
expected=$work/expected.tsv # src <TAB> kind <TAB> name, one line per name the visits must show
: >"$expected"
step=0
src="" src6="" # the visiting device's addresses, set around each visit_all

# fail_step DESCRIPTION OUTPUT_FILE: shows what a client printed and aborts.
fail_step() {
  echo "error: step $step failed: $1" >&2
  sed 's/^/  | /' "$2" >&2 || true
  exit 1
}

# run_step ROLE DESCRIPTION PATTERN CMD...: runs CMD (a lab client function, or a command run
# inside ROLE by lab_exec); it must exit 0 and print a line matching the extended regex PATTERN.
run_step() {
  local role=$1 what=$2 pattern=$3 log
  shift 3
  step=$((step + 1))
  log=$work/step-$step.log
  if ! "$@" >"$log" 2>&1; then
    fail_step "$role: $what (exit status)" "$log"
  fi
  grep -Eq -- "$pattern" "$log" || fail_step "$role: $what (no /$pattern/ in output)" "$log"
  echo "  $role: $what" >&2
}

expect() { # expect SRC KIND NAME
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$expected"
}

# Visits. $src / $src6 are the visiting device's addresses; each visit records the names it
# must leave in the capture.
dns_udp() { # dns_udp ROLE NAME TYPE ANSWER_REGEX  (kdig over UDP/IPv4)
  run_step "$1" "DNS/UDP $2 $3" "$4" lab_dns "$1" "$2" "$3"
  expect "$src" dns "$2"
  expect "$LAB_DNS_V4" dns_response "$2"
}
dns_tcp() { # dns_tcp ROLE NAME TYPE ANSWER_REGEX  (kdig over TCP/IPv4)
  run_step "$1" "DNS/TCP $2 $3" "$4" lab_dns "$1" -t "$2" "$3"
  expect "$src" dns "$2"
  expect "$LAB_DNS_V4" dns_response "$2"
}
dns_v6() { # dns_v6 ROLE NAME TYPE ANSWER_REGEX  (dig over UDP/IPv6)
  run_step "$1" "DNS/UDP over IPv6 $2 $3 (dig)" "$4" lab_exec "$1" dig -6 "@$LAB_DNS_V6" \
    +tries=2 +time=3 +noall +answer "$2" "$3"
  expect "$src6" dns "$2"
  expect "$LAB_DNS_V6" dns_response "$2"
}
https() { # https ROLE NAME [-6]  (curl, TLS, SNI NAME)
  run_step "$1" "HTTPS $2 ${3:-}" "^egressguard lab: $2\$" lab_https "$@"
  if [[ "${3:-}" == -6 ]]; then expect "$src6" sni "$2"; else expect "$src" sni "$2"; fi
}
http() { # http ROLE NAME [-6]  (curl, plain HTTP, Host NAME)
  run_step "$1" "HTTP $2 ${3:-}" "^egressguard lab: $2\$" lab_http "$@"
  if [[ "${3:-}" == -6 ]]; then expect "$src6" http_host "$2"; else expect "$src" http_host "$2"; fi
}
s_client() { # s_client ROLE NAME  (openssl s_client handshake only)
  run_step "$1" "TLS handshake $2 (openssl s_client)" "^Verification: OK" lab_tls "$1" "$2"
  expect "$src" sni "$2"
}
quic() { # quic ROLE NAME  (ngtcp2 client, HTTP/3 over QUIC v1, SNI NAME)
  run_step "$1" "QUIC (HTTP/3) $2" "^egressguard lab: quic\$" lab_quic "$1" "$2"
  expect "$src" quic_sni "$2"
}
https_ip_literal() { # https_ip_literal ROLE: TLS to an IP literal, so no SNI at all
  run_step "$1" "HTTPS to IP literal $LAB_WEB_V4 (no SNI)" "^egressguard lab: default server\$" \
    lab_https "$1" "$LAB_WEB_V4"
}

visit_all() { # visit_all ROLE: the same visits for every device, in the same order
  local r=$1
  # TikTok: web, app API over DNS/TCP + TLS, CDN name, QUIC, CapCut over IPv6, an allowed-list
  # style subdomain, and a CNAME-cloaked name (first-party name whose answer is www.tiktok.com).
  dns_udp "$r" www.tiktok.com A ' A 198\.51\.100\.10$'
  https "$r" www.tiktok.com
  dns_tcp "$r" api16-normal-c-useast1a.tiktokv.com A ' A 198\.51\.100\.10$'
  https "$r" api16-normal-c-useast1a.tiktokv.com
  dns_udp "$r" v16m.tiktokcdn.com A ' A 198\.51\.100\.20$'
  quic "$r" www.tiktok.com
  dns_v6 "$r" www.capcut.com AAAA 'AAAA[[:space:]]+2001:db8:100::10$'
  https "$r" www.capcut.com -6
  dns_udp "$r" newsroom.tiktok.com A ' A 198\.51\.100\.10$'
  https "$r" newsroom.tiktok.com
  dns_udp "$r" cdn.example-shop.com A ' CNAME www\.tiktok\.com\.$'
  # Telegram: HTTP Host over IPv4 and IPv6, TLS to t.me.
  dns_udp "$r" web.telegram.org A ' A 198\.51\.100\.10$'
  http "$r" web.telegram.org
  dns_v6 "$r" telegram.org AAAA 'AAAA[[:space:]]+2001:db8:100::10$'
  http "$r" telegram.org -6
  dns_udp "$r" t.me A ' A 198\.51\.100\.10$'
  https "$r" t.me
  # VK: DNS over TCP, TLS from openssl s_client.
  dns_tcp "$r" vk.com A ' A 198\.51\.100\.10$'
  s_client "$r" vk.com
  # Ordinary sites.
  dns_udp "$r" www.example.org A ' A 198\.51\.100\.10$'
  https "$r" www.example.org
  http "$r" www.example.org
  dns_udp "$r" news.example.net A ' A 198\.51\.100\.10$'
  https "$r" news.example.net
  # A TLS flow with no name at all (IP literal).
  https_ip_literal "$r"
}

pcap=$work/default.pcap
# Only TCP and UDP: keeps IPv6 neighbour discovery and MLD out of the file.
lab_capture_start capture gw "$LAB_GW_SRV_IF" "$pcap" tcp or udp

echo "visits from gov-managed device ($LAB_GOV_V4, $LAB_GOV_V6):" >&2
src=$LAB_GOV_V4 src6=$LAB_GOV_V6 visit_all gov
echo "visits from BYOD device ($LAB_BYOD_V4, $LAB_BYOD_V6):" >&2
src=$LAB_BYOD_V4 src6=$LAB_BYOD_V6 visit_all byod

lab_capture_stop capture

truth=$work/default.truth.tsv
python3 "$repo/scripts/lab/capture_truth.py" "$pcap" "$truth"

# Every expected (src, kind, name) must be in the truth, and nothing else may be.
awk -F'\t' 'NR > 1 { print $3 "\t" $7 "\t" $8 }' "$truth" | sort -u >"$work/seen.tsv"
sort -u "$expected" >"$work/expected.sorted.tsv"
if ! diff -u "$work/expected.sorted.tsv" "$work/seen.tsv" >"$work/truth.diff"; then
  echo "error: capture does not hold exactly the expected names (- expected, + seen):" >&2
  cat "$work/truth.diff" >&2
  exit 1
fi
size=$(stat -c %s "$pcap")
if ((size >= max_bytes)); then
  echo "error: capture is $size bytes, limit $max_bytes" >&2
  exit 1
fi

mkdir -p "$out_dir"
cp "$pcap" "$out_dir/default.pcap.new"
cp "$truth" "$out_dir/default.truth.tsv.new"
mv "$out_dir/default.pcap.new" "$out_dir/default.pcap"
mv "$out_dir/default.truth.tsv.new" "$out_dir/default.truth.tsv"
frames=$(tshark -n -r "$out_dir/default.pcap" 2>/dev/null | wc -l)
echo "wrote $out_dir/default.pcap ($size bytes, $frames frames) and default.truth.tsv" \
  "($(($(wc -l <"$out_dir/default.truth.tsv") - 1)) names)" >&2
