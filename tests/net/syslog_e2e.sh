#!/usr/bin/env bash
# Syslog output against a real rsyslog: the test starts its own rsyslogd (imudp + imtcp on
# 127.0.0.1 high ports, writing what it parsed to a file), then `egressguard scan` sends the
# events of a small capture over UDP and TCP (RFC 5424; TCP with RFC 6587 octet counting).
# Asserts the RFC 5424 header fields as rsyslog parsed them (PRI, facility, severity, HOSTNAME,
# APP-NAME, PROCID, MSGID, no structured data) and that every MSG is the JSON line of the events
# file byte for byte, including names with quotes, a newline and bytes >= 0x80.
# Loopback only, no root. Skips (77) without rsyslogd / python3, fails instead under CI=true.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
eg=${EGRESSGUARD:-$repo/build/egressguard}
source "$repo/tests/net/check_lib.sh"

for tool in rsyslogd python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (apt-get install rsyslog python3)" >&2
    [ "${CI:-}" = "true" ] && { echo "FAIL: under CI=true a skip is a failure" >&2; exit 1; }
    exit 77
  fi
done

tmp=$(mktemp -d /tmp/eg-syslog-e2e.XXXXXX)
rsyslog_pid=
cleanup() {
  if [ -n "$rsyslog_pid" ]; then kill "$rsyslog_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

read -r udp_port tcp_port < <(python3 - <<'PY'
import socket
s1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s1.bind(("127.0.0.1", 0))
s2 = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s2.bind(("127.0.0.1", 0))
print(s1.getsockname()[1], s2.getsockname()[1])
PY
)

# rsyslog: both inputs into one file, one line per message, header fields separated by '|'.
cat >"$tmp/rsyslog.conf" <<CONF
global(workDirectory="$tmp" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp")
template(name="fields" type="string"
  string="%inputname%|%pri%|%syslogfacility-text%|%syslogseverity-text%|%protocol-version%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n")
ruleset(name="eg") {
  action(type="omfile" file="$tmp/received.log" template="fields")
}
input(type="imudp" address="127.0.0.1" port="$udp_port" ruleset="eg")
input(type="imtcp" address="127.0.0.1" port="$tcp_port" ruleset="eg")
CONF
rsyslogd -N1 -f "$tmp/rsyslog.conf" >/dev/null 2>&1 || { echo "rsyslog config invalid" >&2; rsyslogd -N1 -f "$tmp/rsyslog.conf"; exit 1; }
rsyslogd -n -f "$tmp/rsyslog.conf" -i "$tmp/rsyslog.pid" >"$tmp/rsyslog.out" 2>&1 &
rsyslog_pid=$!
for _ in $(seq 100); do
  if python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$tcp_port),0.2)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

# A capture with DNS queries from a gov device; hostile names (quote, newline, bytes >= 0x80).
python3 - "$tmp/hostile.pcap" <<'PY'
import struct, sys
names = [b"www.tiktok.com", b'a"b\\.tiktok.com', b"new\nline.tiktok.com",
         b"\xff\xfe\x80high.tiktok.com", b"example.org"]
def csum(data):
    if len(data) % 2: data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
for i, name in enumerate(names):
    q = struct.pack("!HHHHHH", 0x1000 + i, 0x0100, 1, 0, 0, 0)
    for label in name.split(b"."):
        q += bytes([len(label)]) + label
    q += b"\0" + struct.pack("!HH", 1, 1)
    udp = struct.pack("!HHHH", 40000 + i, 53, 8 + len(q), 0) + q
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                     bytes([10, 8, 0, 10]), bytes([10, 8, 0, 1]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00" + ip + udp
    out.append(struct.pack("<IIII", 1795942800 + i, 0, len(eth), len(eth)) + eth)
open(sys.argv[1], "wb").write(b"".join(out))
PY

printf '*.tiktok.com\n' >"$tmp/tiktok.txt"
cat >"$tmp/eg.toml" <<TOML
default_group = "gov"

[events]
path = "events.json"
sensor = "lab sensor"

[[events.syslog]]
address = "127.0.0.1:$udp_port"
protocol = "udp"
facility = "local3"
app_name = "eg-test"

[[events.syslog]]
address = "127.0.0.1:$tcp_port"
protocol = "tcp"
facility = "local3"
app_name = "eg-test"

[[category]]
name = "tiktok"
lists = [{ path = "tiktok.txt" }]

[[group]]
name = "gov"
cidrs = ["10.8.0.0/16"]
block = ["tiktok"]
TOML

"$eg" scan --config "$tmp/eg.toml" --all "$tmp/hostile.pcap" >"$tmp/scan.out" 2>"$tmp/scan.err" ||
  { cat "$tmp/scan.err" >&2; exit 1; }
events=$(wc -l <"$tmp/events.json")
check "scan wrote the 5 events to the file" [ "$events" -eq 5 ]

# Wait for rsyslog to write all 10 messages (5 per transport).
for _ in $(seq 100); do
  [ -f "$tmp/received.log" ] && [ "$(wc -l <"$tmp/received.log")" -ge 10 ] && break
  sleep 0.1
done
kill "$rsyslog_pid"
wait "$rsyslog_pid" 2>/dev/null || true
rsyslog_pid=

python3 - "$tmp/events.json" "$tmp/received.log" >"$tmp/compare.out" <<'PY' && compare=ok || compare=fail
import json, sys
events = open(sys.argv[1], "rb").read().decode("ascii").splitlines()
received = open(sys.argv[2], "rb").read().decode("utf-8").splitlines()
ok = True
def bad(why):
    global ok
    ok = False
    print("FAIL", why)
by_input = {"imudp": [], "imtcp": []}
for line in received:
    f = line.split("|", 10)
    if len(f) != 11:
        bad("unparsed line: %r" % line); continue
    inp, pri, fac, sev, ver, host, app, procid, msgid, sd, msg = f
    by_input.setdefault(inp, []).append(msg)
    event = json.loads(msg)  # the MSG is one valid JSON object
    want_sev = {"block": "warning", "name": "info", "unnamed_flow": "notice"}[event["event_type"]]
    want_pri = 19 * 8 + {"warning": 4, "info": 6, "notice": 5}[want_sev]
    for what, got, want in [("pri", pri, str(want_pri)), ("facility", fac, "local3"),
                            ("severity", sev, want_sev), ("version", ver, "1"),
                            ("hostname", host, "lab_sensor"), ("app-name", app, "eg-test"),
                            ("msgid", msgid, event["event_type"]), ("sd", sd, "-")]:
        if got != want:
            bad("%s: %s is %r, expected %r" % (inp, what, got, want))
    if not procid.isdigit():
        bad("procid %r" % procid)
for inp in ("imudp", "imtcp"):
    if by_input[inp] != events:
        bad("%s messages differ from the events file:\n%s\n%s" % (inp, by_input[inp], events))
hostile = [json.loads(e)["name"] for e in events]
for want in ['a"b\\', "new\nline", "\u00ff\u00fe\u0080high"]:
    if not any(n.startswith(want) for n in hostile):
        bad("hostile name %r not in %r" % (want, hostile))
print("compared %d events, %d received; first: %s" % (len(events), len(received), received[:1]))
sys.exit(0 if ok else 1)
PY
cat "$tmp/compare.out"
check "rsyslog got every event over UDP and TCP, RFC 5424 fields right, MSG = JSON line" \
  [ "$compare" = ok ]
check_summary
