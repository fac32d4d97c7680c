#!/usr/bin/env bash
# Deployment checks (docs/operators.md):
#   deploy_privdrop.sh            as root (via root_test.sh), in a network namespace: `egressguard
#                                 run` with [run] user = "nobody" binds port 53 and the control
#                                 socket as root, then runs as nobody with no capability (DNS
#                                 proxy only) or only CAP_NET_ADMIN (with [nfqueue]) on every
#                                 thread, no_new_privs; DNS still answers, reload over the
#                                 control socket works, events and metrics still flow.
#   deploy_privdrop.sh --unit     `systemd-analyze verify` of deploy/systemd/egressguard.service
#                                 (exit 77 = skipped when systemd-analyze is missing).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/check_lib.sh"
EG="$(readlink -f "${EGRESSGUARD:-$repo/build/egressguard}")"

if [ "${1:-}" = "--unit" ]; then
  if ! command -v systemd-analyze >/dev/null; then
    echo "SKIP: systemd-analyze is not installed (apt-get install systemd)" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 77
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # verify wants the ExecStart binary to exist: point it at the built one.
  sed "s#/usr/bin/egressguard#$EG#g" "$repo/deploy/systemd/egressguard.service" \
    >"$tmp/egressguard.service"
  check "systemd-analyze verify accepts the unit" \
    systemd-analyze verify "$tmp/egressguard.service"
  unit="$repo/deploy/systemd/egressguard.service"
  check "capabilities bounded to NET_ADMIN NET_RAW NET_BIND_SERVICE" \
    grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE' "$unit"
  for key in 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
    'SystemCallFilter=@system-service' 'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID' \
    'User=egressguard'; do
    check "unit has $key" grep -qxF "$key" "$unit"
  done
  check "unit restricts address families" grep -q '^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK$' "$unit"
  check "sysusers snippet creates egressguard" grep -q '^u *egressguard ' "$repo/deploy/sysusers.d/egressguard.conf"
  check "tmpfiles snippet creates /run/egressguard" grep -q '^d *\/run\/egressguard ' "$repo/deploy/tmpfiles.d/egressguard.conf"
  check_summary
  exit $?
fi

ns=egpd$$
tmp=$(mktemp -d)
chmod 755 "$tmp"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
nsx() { ip netns exec "$ns" "$@"; }

nobody_uid=$(id -u nobody)
nobody_gid=$(id -g nobody)
echo '*.tiktok.com' >"$tmp/tiktok.txt"
chmod 644 "$tmp/tiktok.txt"

# One DNS query over UDP to 127.0.0.1:53 in the namespace; prints the RCODE (3 = NXDOMAIN).
rcode() {
  nsx python3 - "$1" <<'PY'
import socket, struct, sys
name = sys.argv[1]
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
for label in name.split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, ("127.0.0.1", 53))
try:
    a, _ = s.recvfrom(4096)
    print(a[3] & 0x0F)
except socket.timeout:
    print("timeout")
PY
}

field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# all_threads_capeff MASK: the main thread has exactly MASK; every other thread MASK or nothing
# (threads started before the switch lost theirs in setuid; the datapath threads started after
# it inherit MASK); no_new_privs everywhere.
all_threads_capeff() {
  local t v
  [ "$(field "$pid" CapEff)" = "$1" ] || { echo "main thread: CapEff $(field "$pid" CapEff)"; return 1; }
  for t in /proc/"$pid"/task/*; do
    v=$(awk '$1 == "CapEff:" { print $2 }' "$t/status")
    [ "$v" = "$1" ] || [ "$v" = 0000000000000000 ] ||
      { echo "thread ${t##*/}: CapEff $v, expected $1"; return 1; }
    [ "$(awk '$1 == "NoNewPrivs:" { print $2 }' "$t/status")" = 1 ] || return 1
  done
}
# threads_with_capeff MASK: how many threads hold exactly MASK.
threads_with_capeff() {
  cat /proc/"$pid"/task/*/status | awk -v m="$1" '$1 == "CapEff:" && $2 == m' | wc -l
}

start() {  # start CONFIG: runs the daemon in the namespace, waits for its control socket
  : >"$tmp/log"
  ip netns exec "$ns" "$EG" run --config "$1" >"$tmp/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    grep -q 'privileges: ' "$tmp/log" && [ -S "$tmp/ctl.sock" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
}
stop() {
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local rc=$?
  pid=""
  return $rc
}

base_config() {
  cat <<TOML
default_group = "gov"
[dns]
listen = ["127.0.0.1:53"]
upstreams = ["127.0.0.1:9"]
upstream_timeout_ms = 200
query_timeout_ms = 400
[control]
socket = "$tmp/ctl.sock"
[events]
path = "$tmp/events.json"
[metrics]
listen = "127.0.0.1:9477"
[run]
user = "nobody"
[[category]]
name = "tiktok"
lists = [{ path = "$tmp/tiktok.txt" }]
[[group]]
name = "gov"
cidrs = ["127.0.0.0/8"]
block = ["tiktok"]
TOML
}

# --- 1. DNS proxy only: no capability left ---------------------------------------------------
base_config >"$tmp/dns.toml"
start "$tmp/dns.toml"
check "daemon started and dropped privileges" grep -q 'privileges: uid=' "$tmp/log"
check "Uid is nobody (real, effective, saved)" \
  test "$(field "$pid" Uid | head -1)" = "$nobody_uid" -a \
  "$(awk '$1 == "Uid:" { print $2 $3 $4 $5 }' /proc/$pid/status)" = "$nobody_uid$nobody_uid$nobody_uid$nobody_uid"
check "Gid is nobody's group" \
  test "$(awk '$1 == "Gid:" { print $2 $3 $4 $5 }' /proc/$pid/status)" = "$nobody_gid$nobody_gid$nobody_gid$nobody_gid"
check "no supplementary groups" test -z "$(awk '$1 == "Groups:" { print $2 }' /proc/$pid/status)"
check "CapEff 0 and NoNewPrivs 1 on every thread" all_threads_capeff 0000000000000000
check "CapPrm and CapBnd empty" \
  test "$(field "$pid" CapPrm)$(field "$pid" CapBnd)" = "00000000000000000000000000000000"
check "port 53 still answers: blocked name NXDOMAIN" test "$(rcode www.tiktok.com)" = 3
check "control socket owned by nobody, mode 0600" \
  test "$(stat -c '%u %a' "$tmp/ctl.sock")" = "$nobody_uid 600"
check "events file writable by the dropped user" \
  sh -c "sleep 0.5; grep -q 'www.tiktok.com' '$tmp/events.json' && test \$(stat -c %u '$tmp/events.json') = $nobody_uid"
check "metrics: /healthz 200 after the drop" \
  sh -c "nsx_out=\$(ip netns exec $ns python3 -c 'import urllib.request as u; print(u.urlopen(\"http://127.0.0.1:9477/healthz\").read().decode())'); [ \"\$nsx_out\" = ok ]"
check "metrics count the block" \
  sh -c "ip netns exec $ns python3 -c 'import urllib.request as u; print(u.urlopen(\"http://127.0.0.1:9477/metrics\").read().decode())' 2>/dev/null | grep -q '^egressguard_decisions_total{datapath=\"dnsproxy\",group=\"gov\",category=\"tiktok\",action=\"block\"} 1\$'"
echo 'example.org' >>"$tmp/tiktok.txt"
check "reload over the control socket as the dropped user" \
  sh -c "'$EG' reload --socket '$tmp/ctl.sock' | grep -q 'ok policy version 2'"
check "the reloaded list decides" test "$(rcode example.org)" = 3
kill -HUP "$pid"
sleep 0.3
check "SIGHUP reload too" sh -c "'$EG' status --socket '$tmp/ctl.sock' | grep -q '\"reloads\": 2'"
check "status reports the drop" \
  sh -c "'$EG' status --socket '$tmp/ctl.sock' | grep -q '\"privileges\": \"uid=$nobody_uid(nobody) .* capabilities=none no_new_privs=1\"'"
check "clean stop" stop

# --- 2. with [nfqueue]: CAP_NET_ADMIN only (verdicts, nft sets) -----------------------------
{ base_config; printf '[nfqueue]\nqueues = [3]\nfail_mode = "open"\n'; } >"$tmp/nfq.toml"
start "$tmp/nfq.toml"
if grep -q 'netfilter queue\|libnftables' "$tmp/log"; then
  echo "skip nfqueue part: $(grep -m1 'error' "$tmp/log")"
  stop
else
  check "nfqueue: daemon started as nobody" grep -q 'capabilities=cap_net_admin' "$tmp/log"
  check "nfqueue: CapEff = CAP_NET_ADMIN only, on every thread" all_threads_capeff 0000000000001000
  check "nfqueue: CapBnd = CAP_NET_ADMIN" test "$(field "$pid" CapBnd)" = 0000000000001000
  check "nfqueue: the queue worker thread holds CAP_NET_ADMIN" \
    test "$(threads_with_capeff 0000000000001000)" -ge 2
  check "nfqueue: DNS still answers" test "$(rcode www.tiktok.com)" = 3
  check "nfqueue: reload works" sh -c "'$EG' reload --socket '$tmp/ctl.sock' | grep -q '^ok'"
  check "nfqueue: stats carry the NFQUEUE counters" \
    sh -c "python3 -c \"import socket; s=socket.socket(socket.AF_UNIX); s.connect('$tmp/ctl.sock'); s.sendall(b'stats\\n'); print(s.recv(65536).decode())\" | grep -q '^nfqueue_packets '"
  check "nfqueue: clean stop" stop
fi

# --- 3. a user that does not exist is a start-up error --------------------------------------
sed 's/^user = "nobody"/user = "no-such-user-eg"/' "$tmp/dns.toml" >"$tmp/bad.toml"
check "unknown run.user refused before binding" \
  sh -c "ip netns exec $ns '$EG' run --config '$tmp/bad.toml' 2>&1 | grep -q 'run.user \"no-such-user-eg\": no such user'"
[ "$failed" -ne 0 ] && { echo "--- daemon log"; cat "$tmp/log"; }
check_summary
