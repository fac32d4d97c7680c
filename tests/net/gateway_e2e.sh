#!/usr/bin/env bash
# End-to-end test of the inline gateway in the network-namespace lab: the gw namespace runs
# `egressguard run` (DNS proxy + NFQUEUE) and `egressguard firewall apply`; a gov-managed device
# (10.8.0.10) and a BYOD device (10.30.0.20) talk to the lab's servers through it. Asserts:
# gov HTTPS to www.tiktok.com fails fast with exactly one nfqueue block event (group gov-managed);
# gov HTTPS to an ordinary name works and its flow is offloaded (ct mark allow); BYOD reaches
# both; gov DNS for TikTok names is NXDOMAIN even when another resolver is asked (redirected to
# the proxy); gov QUIC to a TikTok name is blocked; a ClientHello in 7-byte segments is still
# blocked; apply is idempotent; after kill -9, fail-open lets new flows through and fail-closed
# stops them; a restart recovers; with learn_ips, addresses learned from DNS answers of TikTok
# names (a gov query answered NXDOMAIN, a BYOD answer) block gov's connections by IP, and the
# doh category's names fill doh_v4/doh_v6 at startup; remove leaves nothing behind.
# Needs root (tests/net/root_test.sh skips otherwise). Prints "N passed, N failed".
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}
source "$repo/scripts/lab/lab.sh"
lab_require_tools kdig python3 curl nft iptables-nft ip6tables-nft conntrack gtlsclient

source "$repo/tests/net/check_lib.sh"
fails() { ! "$@" >/dev/null 2>&1; }
quiet() { "$@" >/dev/null 2>&1; }
has() { grep -Eq -- "$1" <<<"$2"; }

lab_up
cleanup_firewall() { lab_exec gw "$eg" firewall remove >/dev/null 2>&1 || true; }
trap 'cleanup_firewall; lab_down' EXIT
lab_make_pki
lab_start_unbound
lab_start_nginx
lab_start_quic_server

dir=$LAB_TMP/eg
mkdir -p "$dir"
printf '# e2e list\n*.tiktok.com\n*.tiktokcdn.com\n*.tiktokv.com\n' >"$dir/tiktok.txt"
printf '# e2e list\n*.dns.google\n' >"$dir/doh.txt"
write_config() { # write_config open|closed [DOH_LIST [FIREWALL_LINES]]
  cat >"$dir/eg.toml" <<TOML
default_group = "gov-managed"

[events]
path = "events.jsonl"
sensor = "lab-gw"

[dns]
listen = ["$LAB_GW_GOV_V4:53", "[$LAB_GW_GOV_V6]:53", "$LAB_GW_BYOD_V4:53"]
upstreams = ["$LAB_DNS_V4:53"]
upstream_timeout_ms = 500
query_timeout_ms = 1500

[nfqueue]
queues = [0, 1]
fail_mode = "$1"

[firewall]
doh_addresses = ["9.9.9.9"]
${3:-}

[[category]]
name = "tiktok"
lists = [{ path = "tiktok.txt" }]

[[category]]
name = "doh-bypass"
lists = [{ path = "${2:-doh.txt}" }]

[[group]]
name = "gov-managed"
cidrs = ["$LAB_GOV_NET_V4", "$LAB_GOV_NET_V6"]
block = ["tiktok", "doh-bypass"]
enforce_action = "reject"

[[group]]
name = "byod"
cidrs = ["$LAB_BYOD_NET_V4", "$LAB_BYOD_NET_V6"]
TOML
}
events=$dir/events.jsonl
start_eg() {
  lab_spawn gw eg "$eg" run --config "$dir/eg.toml"
  lab_wait_listen gw udp "$LAB_GW_GOV_V4" 53
  sleep 0.3
  lab_check_alive eg
}
nfq_blocks() { # nfq_blocks NAME: block events of the inline datapath for NAME
  [[ -f "$events" ]] || { echo 0; return; }
  grep '"datapath":"nfqueue"' "$events" | grep '"event_type":"block"' |
    grep -c "\"name\":\"$1\"" || true
}
elapsed_ms() { # elapsed_ms CMD...: runs CMD (status ignored), prints its duration in ms
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

write_config open
# --- firewall apply: idempotent --------------------------------------------------------------
check "firewall print is a dry run (nothing loaded)" \
  bash -c "lab_exec() { :; }; '$eg' firewall print --config '$dir/eg.toml' | grep -q 'table inet egressguard' && [[ -z \"\$(ip netns exec $(lab_ns gw) nft list ruleset)\" ]]"
check "firewall apply" quiet lab_exec gw "$eg" firewall apply --config "$dir/eg.toml"
first=$(lab_exec gw nft list table inet egressguard)
check "firewall apply again (idempotent)" quiet lab_exec gw "$eg" firewall apply --config "$dir/eg.toml"
check "same nft table after the second apply" test "$first" == "$(lab_exec gw nft list table inet egressguard)"
check "one FORWARD jump to EGRESSGUARD (v4 and v6)" test \
  "$(lab_exec gw iptables-nft -t mangle -S FORWARD | grep -c EGRESSGUARD)$(lab_exec gw ip6tables-nft -t mangle -S FORWARD | grep -c EGRESSGUARD)" == 11
check "queue rule is fail-open (--queue-bypass)" has 'queue-bypass' "$(lab_exec gw iptables-nft -t mangle -S EGRESSGUARD)"

start_eg

# --- TLS by SNI ------------------------------------------------------------------------------
ms=$(elapsed_ms lab_https gov www.tiktok.com)
check "gov: https://www.tiktok.com fails" fails lab_https gov www.tiktok.com
check "gov: ... fast (${ms} ms < 2000, TCP reset)" test "$ms" -lt 2000
sleep 0.5
check "gov: exactly one nfqueue block event per blocked connection (2 attempts -> 2)" \
  test "$(nfq_blocks www.tiktok.com)" == 2
check "gov: the block event names group gov-managed and the tls SNI" \
  grep -q '"group":"gov-managed".*"name":"www.tiktok.com"' "$events"
check "gov: https://www.example.org works" has '^egressguard lab: www.example.org$' \
  "$(lab_https gov www.example.org 2>&1)"
check "gov: allowed flow is offloaded (ct mark allow = 0x10000)" has 'mark=65536' \
  "$(lab_exec gw conntrack -L -p tcp --dport 443 -s "$LAB_GOV_V4" 2>/dev/null)"
check "gov: blocked flow carries ct mark reject (0x30000)" has 'mark=196608' \
  "$(lab_exec gw conntrack -L -p tcp --dport 443 -s "$LAB_GOV_V4" 2>/dev/null)"
check "gov: http://www.tiktok.com (Host) fails" fails lab_http gov www.tiktok.com
check "gov: https over IPv6 to www.tiktok.com fails" fails lab_https gov www.tiktok.com -6
check "byod: https://www.tiktok.com works" has '^egressguard lab: www.tiktok.com$' \
  "$(lab_https byod www.tiktok.com 2>&1)"
check "byod: https://www.example.org works" has '^egressguard lab: www.example.org$' \
  "$(lab_https byod www.example.org 2>&1)"
check "byod: no block event" fails grep -q "\"src_ip\":\"$LAB_BYOD_V4\".*\"event_type\":\"block\"" "$events"

# --- split ClientHello -----------------------------------------------------------------------
check "gov: ClientHello in 7-byte segments is still blocked" \
  fails lab_exec gov python3 "$repo/tests/net/split_client_hello.py" www.tiktok.com "$LAB_WEB_V4" 7
check "gov: ClientHello in 7-byte segments to an allowed name works" \
  quiet lab_exec gov python3 "$repo/tests/net/split_client_hello.py" www.example.org "$LAB_WEB_V4" 7
check "gov: the split block event is flagged split" \
  grep -q '"name":"www.tiktok.com".*split' "$events"

# --- QUIC --------------------------------------------------------------------------------------
check "gov: QUIC to www.tiktok.com is blocked" fails lab_quic gov www.tiktok.com
check "gov: QUIC to www.example.org works" has 'egressguard lab: quic' "$(lab_quic gov www.example.org 2>&1)"
check "byod: QUIC to www.tiktok.com works" has 'egressguard lab: quic' "$(lab_quic byod www.tiktok.com 2>&1)"

# --- DNS redirect ------------------------------------------------------------------------------
check "gov: DNS for www.tiktok.com at the lab resolver is NXDOMAIN (redirected)" \
  has '^status: NXDOMAIN$' "$(lab_dns gov www.tiktok.com 2>&1)"
check "gov: DNS asked at another address (198.51.100.10) is NXDOMAIN" \
  has '^status: NXDOMAIN$' "$(lab_dns gov -s "$LAB_WEB_V4" www.tiktok.com 2>&1)"
check "gov: DNS over TCP at another resolver is NXDOMAIN" \
  has '^status: NXDOMAIN$' "$(lab_dns gov -t www.tiktok.com 2>&1)"
check "gov: DNS for an ordinary name still resolves" \
  has 'IN A 198\.51\.100\.10$' "$(lab_dns gov www.example.org 2>&1)"
check "byod: DNS at the lab resolver is not redirected" \
  has 'IN A 198\.51\.100\.10$' "$(lab_dns byod www.tiktok.com 2>&1)"
gov_chain=$(lab_exec gw nft list chain inet egressguard g0_gov_managed)
check "ruleset: gov DoT (TCP 853) and DoQ (UDP 853) rejected" \
  has 'tcp dport 853 reject with tcp reset' "$gov_chain"
check "ruleset: gov DoQ (UDP 853) rejected" has 'udp dport 853 reject' "$gov_chain"
check "ruleset: gov DoH resolver sets (doh_v4, static 9.9.9.9) blocked" \
  has 'ip daddr @doh_static_v4' "$gov_chain"
check "ruleset: doh_static_v4 holds 9.9.9.9" has '9\.9\.9\.9' \
  "$(lab_exec gw nft list set inet egressguard doh_static_v4)"

# --- fail-open: kill -9 ------------------------------------------------------------------------
lab_stop eg KILL
check "fail-open, daemon killed: gov https://www.example.org (new flow) works" \
  has '^egressguard lab: www.example.org$' "$(lab_https gov www.example.org 2>&1)"
start_eg
check "restart: gov https://www.tiktok.com blocked again" fails lab_https gov www.tiktok.com
check "restart: gov https://www.example.org works" has '^egressguard lab: www.example.org$' \
  "$(lab_https gov www.example.org 2>&1)"
lab_stop eg TERM

# --- fail-closed -------------------------------------------------------------------------------
write_config closed
check "fail-closed: firewall apply" quiet lab_exec gw "$eg" firewall apply --config "$dir/eg.toml"
check "fail-closed: queue rule without --queue-bypass" fails grep -q queue-bypass \
  <(lab_exec gw iptables-nft -t mangle -S EGRESSGUARD)
start_eg
check "fail-closed: gov https://www.example.org works while running" \
  has '^egressguard lab: www.example.org$' "$(lab_https gov www.example.org 2>&1)"
check "fail-closed: gov https://www.tiktok.com blocked" fails lab_https gov www.tiktok.com
lab_stop eg KILL
check "fail-closed, daemon killed: gov https://www.example.org (new flow) stops" \
  fails lab_exec gov curl -sS --max-time 3 --cacert "$LAB_CA_CERT" \
  --resolve "www.example.org:443:$LAB_WEB_V4" https://www.example.org/
check "fail-closed, daemon killed: byod still works (never queued)" \
  has '^egressguard lab: www.example.org$' "$(lab_https byod www.example.org 2>&1)"
start_eg
check "fail-closed restart: gov https://www.example.org works again" \
  has '^egressguard lab: www.example.org$' "$(lab_https gov www.example.org 2>&1)"
lab_stop eg TERM

# --- learned addresses (learn_ips) and the DoH sets -------------------------------------------
# The lab serves every name from 198.51.100.10 (2001:db8:100::10), so once the TikTok addresses
# are learned gov's other names there are blocked too: the over-blocking that keeps learn_ips off
# by default (docs/inline.md). Hence this section runs last.
set_elements() { lab_exec gw nft list set inet egressguard "$1" | tr -d '\n'; }
no_sni_https() { # no_sni_https ROLE: HTTPS to the web server's address (no name, no SNI)
  lab_exec "$1" curl -sS -k --max-time 3 -o /dev/null "https://$LAB_WEB_V4/"
}
wait_element() { # wait_element SET ADDR: up to 3 s for ADDR to show up in SET
  local i
  for i in $(seq 30); do
    has "$2" "$(set_elements "$1")" && return 0
    sleep 0.1
  done
  return 1
}
write_config open doh.txt $'learn_ips = true\nlearn_timeout = 600'
check "learn: firewall apply (learned_v4/v6 declared)" quiet lab_exec gw "$eg" firewall apply --config "$dir/eg.toml"
start_eg
check "learn: learned_v4 starts empty" fails has 'elements' "$(set_elements learned_v4)"
check "learn: gov HTTPS to the server's address (no SNI) works before learning" quiet no_sni_https gov
check "learn: gov DNS for www.tiktok.com is NXDOMAIN" has '^status: NXDOMAIN$' \
  "$(lab_dns gov www.tiktok.com 2>&1)"
check "learn: ... and the proxy resolves it in the background: learned_v4 has 198.51.100.10" \
  wait_element learned_v4 '198\.51\.100\.10'
check "learn: gov HTTPS by address (no SNI) to a learned address is blocked" fails no_sni_https gov
check "learn: byod HTTPS by address still works (not enforced)" quiet no_sni_https byod
check "learn: over-blocking: gov https://www.example.org (same address) is blocked too" \
  fails lab_https gov www.example.org
# Re-apply empties the sets; SIGHUP makes the daemon forget what it added.
check "learn: firewall apply again empties learned_v4" quiet lab_exec gw "$eg" firewall apply --config "$dir/eg.toml"
check "learn: learned_v4 is empty after apply" fails has '198\.51\.100\.10' "$(set_elements learned_v4)"
kill -HUP "$(lab_pid eg)"
sleep 0.3
check "learn: byod resolves www.tiktok.com through the proxy" has 'IN A 198\.51\.100\.10$' \
  "$(lab_dns byod -s "$LAB_GW_BYOD_V4" www.tiktok.com 2>&1)"
check "learn: byod's answer filled learned_v4 (198.51.100.10, 198.51.100.20)" \
  wait_element learned_v4 '198\.51\.100\.10.*198\.51\.100\.20|198\.51\.100\.20.*198\.51\.100\.10'
check "learn: ... with the configured timeout" has 'timeout 10m' "$(set_elements learned_v4)"
check "learn: byod resolves www.tiktok.com AAAA through the proxy" has 'IN AAAA 2001:db8:100::10$' \
  "$(lab_dns byod -s "$LAB_GW_BYOD_V4" www.tiktok.com AAAA 2>&1)"
check "learn: byod's AAAA answer filled learned_v6" wait_element learned_v6 '2001:db8:100::10'
check "learn: gov HTTPS by address (no SNI) blocked again" fails no_sni_https gov
lab_stop eg TERM

# The doh category pointed at names the lab serves: news.example.net (exact) and *.telegram.org
# (a suffix rule: its bare name telegram.org is resolved).
printf '# e2e doh list: lab names\nnews.example.net\n*.telegram.org\n' >"$dir/doh-lab.txt"
write_config open doh-lab.txt 'doh_timeout = 600'
check "doh: firewall apply" quiet lab_exec gw "$eg" firewall apply --config "$dir/eg.toml"
check "doh: doh_v4 starts empty" fails has 'elements' "$(set_elements doh_v4)"
start_eg
check "doh: doh_v4 filled at startup from the category's names (198.51.100.10)" \
  wait_element doh_v4 '198\.51\.100\.10'
check "doh: doh_v6 filled too (2001:db8:100::10)" wait_element doh_v6 '2001:db8:100::10'
check "doh: no learned_v4 without learn_ips" fails quiet lab_exec gw nft list set inet egressguard learned_v4
check "doh: gov HTTPS by address to a DoH resolver's address is blocked" fails no_sni_https gov
lab_stop eg TERM

# --- remove --------------------------------------------------------------------------------------
check "firewall remove" quiet lab_exec gw "$eg" firewall remove --config "$dir/eg.toml"
check "remove leaves an empty ruleset" test -z "$(lab_exec gw nft list ruleset)"
check "remove again succeeds" quiet lab_exec gw "$eg" firewall remove

echo "$passed passed, $failed failed"
((failed == 0))
