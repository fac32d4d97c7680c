#!/usr/bin/env bash
# End-to-end test of the DNS proxy (`egressguard run`, [dns]) in the network-namespace lab:
# egressguard runs in the gateway namespace, forwarding to the lab's unbound; kdig queries it from
# a gov-managed device (10.8.0.10, fd00:8::10) and a BYOD device (10.30.0.20). Asserts: TikTok
# names -> NXDOMAIN with EDE 15 for gov and the real answer for byod; CNAME cloaking
# (cdn.example-shop.com -> www.tiktok.com) blocked for gov only; TCP; IPv6; the anti-bypass
# canary; a bad list reload is refused with file:line and the old policy stays; a good reload
# and SIGHUP take effect; upstream down -> SERVFAIL within the timeout; SIGTERM stops cleanly and
# the events file holds exactly the expected block events.
# Needs root (tests/net/root_test.sh skips otherwise). Prints "N passed, N failed".
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}
source "$repo/scripts/lab/lab.sh"
lab_require_tools kdig python3

source "$repo/tests/net/check_lib.sh"
# kq ROLE SERVER [kdig options] NAME [TYPE]: full kdig output (EDNS on, so EDE is shown).
kq() {
  local role=$1 server=$2
  shift 2
  lab_exec "$role" kdig "@$server" +edns +timeout=3 +retry=1 "$@" 2>&1 || true
}
has() { # has REGEX TEXT
  grep -Eq -- "$1" <<<"$2"
}
lacks() {
  ! grep -Eq -- "$1" <<<"$2"
}

lab_up
lab_start_unbound

dir=$LAB_TMP/eg
mkdir -p "$dir"
printf '# e2e list\n*.tiktok.com\n*.tiktokcdn.com\n*.tiktokv.com\n' >"$dir/tiktok.txt"
cat >"$dir/eg.toml" <<TOML
default_group = "gov-managed"

[events]
path = "events.jsonl"
sensor = "lab-gw"

[dns]
listen = ["$LAB_GW_GOV_V4:53", "[$LAB_GW_GOV_V6]:53", "$LAB_GW_BYOD_V4:53"]
upstreams = ["$LAB_DNS_V4:53", "[$LAB_DNS_V6]:53"]
block_answer = "nxdomain"
block_ttl = 60
workers = 2
upstream_timeout_ms = 500
query_timeout_ms = 1500

[control]
socket = "ctl.sock"

[[category]]
name = "tiktok"
jurisdiction = "CN"
lists = [{ path = "tiktok.txt" }]

[[group]]
name = "gov-managed"
cidrs = ["$LAB_GOV_NET_V4", "$LAB_GOV_NET_V6"]
block = ["tiktok"]

[[group]]
name = "byod"
cidrs = ["$LAB_BYOD_NET_V4", "$LAB_BYOD_NET_V6"]
TOML

"$eg" check --config "$dir/eg.toml" >/dev/null
lab_spawn gw egressguard "$eg" run --config "$dir/eg.toml"
lab_wait_listen gw udp "$LAB_GW_GOV_V4" 53
lab_wait_listen gw tcp "$LAB_GW_GOV_V4" 53
lab_wait_listen gw udp "$LAB_GW_GOV_V6" 53
lab_wait_listen gw udp "$LAB_GW_BYOD_V4" 53
lab_check_alive egressguard
GOV=$LAB_GW_GOV_V4
BYOD=$LAB_GW_BYOD_V4

out=$(kq gov "$GOV" www.tiktok.com A) # event 1
check "gov: www.tiktok.com -> NXDOMAIN" has 'status: NXDOMAIN' "$out"
check "gov: EDE 15 Blocked with the category" \
  has "EDE: 15 \(Blocked\): 'blocked by egressguard: category tiktok'" "$out"
check "gov: no answer record" lacks '^www\.tiktok\.com\..*IN[[:space:]]+A[[:space:]]' "$out"
out=$(lab_exec gov kdig "@$GOV" +noedns +timeout=3 www.tiktok.com AAAA 2>&1 || true) # event 2
check "gov without EDNS: NXDOMAIN, no OPT" \
  bash -c "grep -q 'status: NXDOMAIN' <<<\"\$1\" && ! grep -q 'EDNS' <<<\"\$1\"" _ "$out"
out=$(kq byod "$BYOD" www.tiktok.com A)
check "byod: www.tiktok.com -> the real answer" \
  has 'www\.tiktok\.com\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+198\.51\.100\.10' "$out"
check "byod: no EDE" lacks 'EDE' "$out"

out=$(kq gov "$GOV" cdn.example-shop.com A) # event 3
check "gov: CNAME cloaking cdn.example-shop.com -> NXDOMAIN" has 'status: NXDOMAIN' "$out"
check "gov: CNAME cloaking names the target in the EDE" \
  has "EDE: 15 \(Blocked\): 'blocked by egressguard: CNAME target www\.tiktok\.com, category tiktok'" "$out"
out=$(kq byod "$BYOD" cdn.example-shop.com A)
check "byod: CNAME cloaking answered (CNAME + A)" \
  bash -c "grep -Eq 'CNAME[[:space:]]+www\.tiktok\.com\.' <<<\"\$1\" && grep -Eq 'IN[[:space:]]+A[[:space:]]+198\.51\.100\.' <<<\"\$1\"" _ "$out"

out=$(kq gov "$GOV" +tcp v16m.tiktokcdn.com A) # event 4
check "gov over TCP: NXDOMAIN with EDE 15" \
  bash -c "grep -q 'status: NXDOMAIN' <<<\"\$1\" && grep -q 'EDE: 15' <<<\"\$1\"" _ "$out"
out=$(kq byod "$BYOD" +tcp vk.com A)
check "byod over TCP: forwarded answer" has 'vk\.com\..*IN[[:space:]]+A[[:space:]]+198\.51\.100\.10' "$out"
out=$(kq gov "$GOV" +tcp www.example.org A)
check "gov over TCP: ordinary name answered" has 'IN[[:space:]]+A[[:space:]]+198\.51\.100\.10' "$out"

out=$(kq gov "$LAB_GW_GOV_V6" www.tiktok.com AAAA) # event 5
check "gov over IPv6 (from fd00:8::10): NXDOMAIN with EDE 15" \
  bash -c "grep -q 'status: NXDOMAIN' <<<\"\$1\" && grep -q 'EDE: 15' <<<\"\$1\"" _ "$out"
out=$(kq gov "$LAB_GW_GOV_V6" news.example.net AAAA)
check "gov over IPv6: ordinary AAAA answered" has 'AAAA[[:space:]]+2001:db8:100::10' "$out"

out=$(kq gov "$GOV" use-application-dns.net A) # event 6
check "gov: use-application-dns.net -> NXDOMAIN with EDE 17 Filtered" \
  bash -c "grep -q 'status: NXDOMAIN' <<<\"\$1\" && grep -q 'EDE: 17' <<<\"\$1\"" _ "$out"
out=$(kq gov "$GOV" _dns.resolver.arpa SVCB) # event 7
check "gov: _dns.resolver.arpa -> NODATA with EDE 17" \
  bash -c "grep -q 'status: NOERROR' <<<\"\$1\" && grep -q 'EDE: 17' <<<\"\$1\"" _ "$out"
out=$(kq byod "$BYOD" use-application-dns.net A)
check "byod: use-application-dns.net untouched (unbound's own answer, no EDE)" lacks 'EDE' "$out"

# A bad list: refused with file:line, the old policy stays.
cp "$dir/tiktok.txt" "$dir/tiktok.good"
printf '*.tiktok.com\nexa mple.com\n' >"$dir/tiktok.txt"
rc=0
err=$("$eg" reload --config "$dir/eg.toml" 2>&1) || rc=$?
check "bad reload: egressguard reload exits 1" test "$rc" = 1
check "bad reload: the error names file:line" has 'tiktok\.txt:2' "$err"
check "bad reload: logged by the daemon" grep -q 'reload (control socket) refused: .*tiktok\.txt:2' \
  "$LAB_TMP/log/egressguard.log"
out=$(kq gov "$GOV" www.tiktok.com A) # event 8
check "after the bad reload TikTok stays blocked" has 'status: NXDOMAIN' "$out"
out=$(kq gov "$GOV" tiktokv.com A) # event 9
check "after the bad reload the old list is whole (tiktokv.com blocked)" has 'EDE: 15' "$out"

# A good reload: a list without tiktok.com.
printf '*.telegram.org\n' >"$dir/tiktok.txt"
rc=0
msg=$("$eg" reload --config "$dir/eg.toml" 2>&1) || rc=$?
check "good reload: exit 0, new version live" \
  bash -c "[[ $rc == 0 ]] && grep -q 'ok policy version' <<<\"\$1\"" _ "$msg"
out=$(kq gov "$GOV" www.tiktok.com A)
check "after the good reload www.tiktok.com is answered for gov" \
  has 'IN[[:space:]]+A[[:space:]]+198\.51\.100\.10' "$out"
out=$(kq gov "$GOV" web.telegram.org A) # event 10
check "after the good reload web.telegram.org is blocked for gov" has 'status: NXDOMAIN' "$out"

# SIGHUP reloads too.
cp "$dir/tiktok.good" "$dir/tiktok.txt"
kill -HUP "$(lab_pid egressguard)"
for _ in $(seq 50); do
  grep -q 'reload (SIGHUP): policy version' "$LAB_TMP/log/egressguard.log" && break
  sleep 0.1
done
out=$(kq gov "$GOV" www.tiktok.com A) # event 11
check "after SIGHUP TikTok is blocked again" has 'status: NXDOMAIN' "$out"

# Upstreams down: SERVFAIL within query_timeout (1.5 s).
lab_stop unbound
start=$(date +%s%N)
out=$(lab_exec byod kdig "@$BYOD" +edns +timeout=5 +retry=0 www.example.org A 2>&1 || true)
ms=$((($(date +%s%N) - start) / 1000000))
check "upstreams down: SERVFAIL" has 'status: SERVFAIL' "$out"
check "upstreams down: answered within the timeout (${ms} ms <= 2500)" test "$ms" -le 2500
lab_check_alive egressguard

lab_stop egressguard TERM
log=$LAB_TMP/log/egressguard.log
check "SIGTERM: clean stop" grep -q 'stopped' "$log"
check "counters: servfail counted" grep -q 'counter servfail [1-9]' "$log"
check "counters: one failed reload" grep -q 'counter reload_failures 1' "$log"

events=$dir/events.jsonl
check "events: exactly the expected block events" python3 - "$events" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
expected = [
    ("www.tiktok.com", "list", None), ("www.tiktok.com", "list", None),
    ("cdn.example-shop.com", "cname", "www.tiktok.com"), ("v16m.tiktokcdn.com", "list", None),
    ("www.tiktok.com", "list", None), ("use-application-dns.net", "anti_bypass", None),
    ("_dns.resolver.arpa", "anti_bypass", None), ("www.tiktok.com", "list", None),
    ("tiktokv.com", "list", None), ("web.telegram.org", "list", None),
    ("www.tiktok.com", "list", None),
]
got = [(e["name"], e["block_cause"], e.get("cname_target")) for e in events]
ok = sorted(got) == sorted(expected)
for e in events:
    ok = ok and e["event_type"] == "block" and e["group"] == "gov-managed"
    ok = ok and e["datapath"] == "dnsproxy" and e["app_proto"] == "dns"
    ok = ok and e["src_ip"] in ("10.8.0.10", "fd00:8::10") and e["sensor"] == "lab-gw"
if not ok:
    print("got:", got, file=sys.stderr)
sys.exit(0 if ok else 1)
PY

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
