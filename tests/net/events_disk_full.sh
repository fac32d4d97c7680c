#!/usr/bin/env bash
# Disk full for the event log: `egressguard run` (DNS proxy on loopback) writes its events to a
# 64 KiB tmpfs, mounted in a private mount namespace (unshare -m), and gets thousands of blocked
# queries. Asserts: every query is still answered (NXDOMAIN) after the disk is full; the lost
# events are counted (control socket `stats`: events_dropped_write_error > 0 and accepted =
# written + dropped_write_error) and reported in the log ("No space left on device", rate
# limited); the file holds only whole JSON lines; SIGTERM still stops cleanly and the final
# counters match the file. Needs root (tests/net/root_test.sh skips otherwise).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}

if [ "${EG_DISK_FULL_INNER:-}" != 1 ]; then
  exec env EG_DISK_FULL_INNER=1 unshare -m bash "$0" "$@"
fi
source "$repo/tests/net/check_lib.sh"

tmp=$(mktemp -d /tmp/eg-disk-full.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  umount "$tmp/logs" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
mount --make-rprivate /
mkdir -p "$tmp/logs"
mount -t tmpfs -o size=64k tmpfs "$tmp/logs"

port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '*.tiktok.com\n' >"$tmp/tiktok.txt"
cat >"$tmp/eg.toml" <<TOML
default_group = "gov"
[events]
path = "logs/events.json"
sensor = "disk-full"
[dns]
listen = ["127.0.0.1:$port"]
upstreams = ["127.0.0.1:9"]
workers = 2
[control]
socket = "ctl.sock"
[[category]]
name = "tiktok"
lists = [{ path = "tiktok.txt" }]
[[group]]
name = "gov"
cidrs = ["127.0.0.0/8"]
block = ["tiktok"]
TOML
"$eg" run --config "$tmp/eg.toml" 2>"$tmp/stderr.log" &
pid=$!

# dns.py N: sends N blocked queries one by one, prints how many were answered NXDOMAIN.
cat >"$tmp/dns.py" <<'PY'
import socket, struct, sys
n = int(sys.argv[2]); port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
ok = 0
for i in range(n):
    name = b"h%d.tiktok.com" % i
    q = struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l for l in name.split(b".")) + b"\0\0\1\0\1"
    s.sendto(q, ("127.0.0.1", port))
    try:
        a = s.recv(4096)
        if struct.unpack("!H", a[:2])[0] == i & 0xffff and a[3] & 0xf == 3:
            ok += 1
    except socket.timeout:
        pass
print(ok)
PY
# stats.py: the control socket's stats as KEY VALUE lines.
stats() {
  python3 - "$tmp/ctl.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"stats\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
print(data.decode())
PY
}
stat() { stats | awk -v k="$1" '$1 == k { print $2 }'; }

for _ in $(seq 100); do
  [ -S "$tmp/ctl.sock" ] && [ "$(python3 "$tmp/dns.py" "$port" 1)" = 1 ] && break
  sleep 0.1
done
answered=$(python3 "$tmp/dns.py" "$port" 3000)
check "all 3000 queries answered NXDOMAIN while the disk fills" [ "$answered" -eq 3000 ]
sleep 1
lost=$(stat events_dropped_write_error)
accepted=$(stat events_accepted)
written=$(stat events_written)
echo "stats: accepted=$accepted written=$written dropped_write_error=$lost"
check "lost events are counted" [ "${lost:-0}" -gt 0 ]
check "accepted = written + dropped_write_error" [ "$accepted" -eq $((written + lost)) ]
check "the loss is reported in the log" grep -q "lost writing to file (.*): No space left on device" "$tmp/stderr.log"
reports=$(grep -c "lost writing to file" "$tmp/stderr.log" || true)
check "the report is rate limited ($reports lines)" [ "$reports" -le 3 ]
answered=$(python3 "$tmp/dns.py" "$port" 200)
check "queries still answered with the disk full" [ "$answered" -eq 200 ]

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
check "SIGTERM stops cleanly" [ "$status" -eq 0 ]
final=$(grep -o 'events: [0-9]* accepted, [0-9]* written, [0-9]* dropped_queue_full, [0-9]* dropped_write_error' "$tmp/stderr.log")
read -r f_accepted f_written f_lost < <(sed -E 's/events: ([0-9]+) accepted, ([0-9]+) written, [0-9]+ dropped_queue_full, ([0-9]+) dropped_write_error/\1 \2 \3/' <<<"$final")
lines=$(wc -l <"$tmp/logs/events.json")
echo "final: $final; lines in the file: $lines"
check "final accepted = written + dropped_write_error" [ "$f_accepted" -eq $((f_written + f_lost)) ]
check "the file holds exactly the written events" [ "$lines" -eq "$f_written" ]
check "every line of the file is whole JSON" python3 -c '
import json, sys
data = open(sys.argv[1], "rb").read()
assert data.endswith(b"\n")
for line in data.splitlines():
    json.loads(line)
' "$tmp/logs/events.json"
check_summary
