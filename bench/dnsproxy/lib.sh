# Shared by the DNS proxy bench scripts (bench/dnsproxy/*.sh) and tests/net/dnsproxy_reload_load.sh:
# an unbound upstream on loopback that answers every name from memory, egressguard and dnsdist
# configurations for one block list, readiness checks, dnsperf runs and their figures. Source it
# after setting `repo` and `work` (a private temporary directory); every process started here is
# recorded in DNSB_PIDS and stopped by dnsb_cleanup.
# shellcheck shell=bash

DNSB_PIDS=()
DNSB_PERF_PREFIX=()   # e.g. (taskset -c 1): prefix of every dnsb_perf command
DNSB_UNBOUND_PREFIX=() # e.g. (taskset -c 0): prefix of the unbound command

dnsb_die() {
  echo "${DNSB_NAME:-dnsproxy bench}: $*" >&2
  exit 2
}

# dnsb_free_port: prints a loopback UDP+TCP port nobody listens on (from 20000 + random).
dnsb_free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 30000))
    if ! ss -Hlnu "sport = :$port" | grep -q . && ! ss -Hlnt "sport = :$port" | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  dnsb_die "no free loopback port found"
}

# dnsb_spawn NAME CMD...: starts CMD in the background, output to $work/NAME.log; pid in
# DNSB_LAST_PID.
dnsb_spawn() {
  local name=$1
  shift
  "$@" >"$work/$name.log" 2>&1 &
  DNSB_LAST_PID=$!
  DNSB_PIDS+=("$DNSB_LAST_PID")
}

# dnsb_stop PID: TERM, wait up to 10 s, then KILL.
dnsb_stop() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || {
      wait "$pid" 2>/dev/null || true
      return 0
    }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

dnsb_cleanup() {
  local pid
  for pid in "${DNSB_PIDS[@]}"; do
    dnsb_stop "$pid"
  done
  DNSB_PIDS=()
}

# dnsb_start_unbound ADDR PORT: unbound answering every A with 192.0.2.1 and every AAAA with
# 2001:db8::1 from memory (local-zone "." redirect): never recurses, never the bottleneck.
# One thread, large socket buffers (root may set them beyond rmem_max).
dnsb_start_unbound() {
  local addr=$1 port=$2
  cat >"$work/unbound.conf" <<EOF
server:
    verbosity: 0
    num-threads: ${UNBOUND_THREADS:-1}
    so-reuseport: yes
    so-rcvbuf: 8m
    so-sndbuf: 8m
    chroot: ""
    username: ""
    directory: "$work"
    pidfile: ""
    do-daemonize: no
    use-syslog: no
    logfile: ""
    interface: $addr@$port
    do-ip6: no
    do-tcp: yes
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
    local-zone: "." redirect
    local-data: ". 300 IN A 192.0.2.1"
    local-data: ". 300 IN AAAA 2001:db8::1"
remote-control:
    control-enable: no
EOF
  dnsb_spawn unbound "${DNSB_UNBOUND_PREFIX[@]}" unbound -d -c "$work/unbound.conf"
  DNSB_UNBOUND_PID=$DNSB_LAST_PID
  dnsb_wait_answer "$addr" "$port" 20 || dnsb_die "unbound did not start: $(cat "$work/unbound.log")"
}

# dnsb_wait_answer ADDR PORT SECS: waits until ADDR:PORT answers a query (any RCODE).
dnsb_wait_answer() {
  local addr=$1 port=$2 secs=$3
  local end=$((SECONDS + secs))
  while ((SECONDS < end)); do
    if kdig "@$addr" -p "$port" +timeout=1 +retry=0 +noall +header ready.example A 2>/dev/null |
      grep -q 'status:'; then
      return 0
    fi
    sleep 0.3
  done
  return 1
}

# dnsb_write_eg_config FILE LIST PORT UPSTREAM_PORT WORKERS CONTROL: an egressguard configuration
# with one group (every loopback client) blocking one category made of LIST (plain names, each
# covering its subdomains, as dnsdist's SuffixMatchNode), answering NXDOMAIN. DNSB_MAX_PENDING,
# when set, becomes [dns] max_pending.
dnsb_write_eg_config() {
  local file=$1 list=$2 port=$3 upstream_port=$4 workers=$5 control=$6
  cat >"$file" <<EOF
default_group = "bench"

[dns]
listen = ["127.0.0.1:$port"]
upstreams = ["127.0.0.53:$upstream_port"]
block_answer = "nxdomain"
workers = $workers
upstream_timeout_ms = 1000
query_timeout_ms = 3000${DNSB_MAX_PENDING:+
max_pending = $DNSB_MAX_PENDING}

[control]
socket = "$control"

[[category]]
name = "bench"
lists = [{ path = "$list", format = "plain", subdomains = true }]

[[group]]
name = "bench"
cidrs = ["127.0.0.0/8"]
block = ["bench"]
EOF
}

# dnsb_write_dnsdist_config FILE LIST PORT UPSTREAM_PORT LISTENERS: dnsdist with LISTENERS UDP
# listeners on one port (SO_REUSEPORT: one receiver thread each), the same upstream with as many
# sockets, the same list in a SuffixMatchNode -> NXDOMAIN, no packet cache, no console, no
# security polling (nothing leaves loopback).
dnsb_write_dnsdist_config() {
  local file=$1 list=$2 port=$3 upstream_port=$4 listeners=$5
  {
    echo 'setSecurityPollSuffix("")'
    echo "setLocal(\"127.0.0.1:$port\", {reusePort=true})"
    for _ in $(seq 2 "$listeners"); do
      echo "addLocal(\"127.0.0.1:$port\", {reusePort=true})"
    done
    echo "newServer({address=\"127.0.0.53:$upstream_port\", sockets=$listeners, checkInterval=3600})"
    echo 'local smn = newSuffixMatchNode()'
    echo "for line in io.lines(\"$list\") do smn:add(line) end"
    echo 'addAction(SuffixMatchNodeRule(smn), RCodeAction(DNSRCode.NXDOMAIN))'
  } >"$file"
}

# dnsb_perf OUT PORT QUERIES SECS [dnsperf options...]: one dnsperf run against 127.0.0.1:PORT,
# every answer's latency recorded (-v); output in OUT.
dnsb_perf() {
  local out=$1 port=$2 queries=$3 secs=$4
  shift 4
  "${DNSB_PERF_PREFIX[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$queries" -l "$secs" -c "${CLIENTS:-20}" \
    -q "${OUTSTANDING:-200}" -v "$@" >"$out" 2>&1 || true
}

# dnsb_figures OUT: "qps avg_ms p99_ms lost nxdomain_pct completed" from a dnsperf -v output.
# p99: the 99th percentile of the per-query latencies that -v prints ("> RCODE name type secs").
dnsb_figures() {
  local out=$1
  local qps avg lost completed nx p99
  qps=$(sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p' "$out")
  avg=$(sed -n 's/^ *Average Latency (s): *\([0-9.]*\).*/\1/p' "$out")
  lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$out")
  completed=$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' "$out")
  nx=$(sed -n 's/.*NXDOMAIN [0-9]* (\([0-9.]*\)%).*/\1/p' "$out")
  p99=$(awk '$1 == ">" && $NF ~ /^[0-9.]+$/ {print $NF}' "$out" | sort -n |
    awk '{v[NR] = $1} END {if (NR == 0) {print "nan"; exit} i = int(NR * 0.99); if (i < 1) i = 1; print v[i]}')
  [ -n "$qps" ] || {
    cat "$out" >&2
    dnsb_die "dnsperf printed no statistics"
  }
  awk -v q="$qps" -v a="$avg" -v p="$p99" -v l="${lost:-0}" -v n="${nx:-0}" -v c="${completed:-0}" \
    'BEGIN {printf "%.0f %.3f %.3f %d %.2f %d\n", q, a * 1000, p * 1000, l, n, c}'
}

# dnsb_rss_kb PID FIELD: VmHWM or VmRSS of PID in kB.
dnsb_rss_kb() {
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

# dnsb_cpu_ticks PID: user + system CPU time of PID in clock ticks.
dnsb_cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# dnsb_control_stats SOCKET: the daemon's counters ("name value" lines) from its control socket.
dnsb_control_stats() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"stats\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode())
PY
}

# dnsb_skip_or_die MESSAGE: exit 77 (ctest skip) when SKIP_MISSING=1 and not CI=true, else die.
dnsb_skip_or_die() {
  if [ "${SKIP_MISSING:-0}" = 1 ] && [ "${CI:-}" != true ]; then
    echo "${DNSB_NAME:-dnsproxy bench}: skipped: $*"
    exit 77
  fi
  dnsb_die "$*"
}

# dnsb_require_tools TOOL...: every TOOL on PATH, else skip or die (see dnsb_skip_or_die).
dnsb_require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || dnsb_skip_or_die "$tool not found (sudo bash scripts/deps.sh)"
  done
}

# dnsb_ensure_data DATA REAL_LIST: generates the lists and query files into DATA on first use.
dnsb_ensure_data() {
  local data=$1 real=$2
  [ -s "$data/queries_1m.txt" ] && return 0
  [ -s "$real" ] || dnsb_skip_or_die "$real not found (the shared data set)"
  echo "${DNSB_NAME:-dnsproxy bench}: generating $data" >&2
  python3 bench/dnsproxy/make_bench_data.py --list "$real" --out "$data"
}

# dnsb_pin_setup PIN: with PIN=1 on 2+ cores sets DNSB_SERVER_PIN=(taskset -c 0) (the proxy and
# its upstream) and DNSB_GEN_PIN=(taskset -c 1-N) (the load generator), else both empty.
dnsb_pin_setup() {
  DNSB_SERVER_PIN=()
  DNSB_GEN_PIN=()
  local cores
  cores=$(nproc)
  if [ "$1" = 1 ] && ((cores >= 2)) && command -v taskset >/dev/null; then
    DNSB_SERVER_PIN=(taskset -c 0)
    DNSB_GEN_PIN=(taskset -c "1-$((cores - 1))")
  fi
}

# dnsb_status PORT NAME [TYPE [ADDR]]: the RCODE ADDR:PORT answers for NAME (empty: no answer in
# 2 s).
dnsb_status() {
  kdig "@${4:-127.0.0.1}" -p "$1" +timeout=2 +retry=0 +noall +header "$2" "${3:-A}" 2>/dev/null |
    sed -n 's/.*status: \([A-Z]*\).*/\1/p'
}

# dnsb_blast_build: compiles bench/dnsproxy/dns_blast.c into $work/dns_blast (cc, once per run);
# path in DNSB_BLAST.
dnsb_blast_build() {
  DNSB_BLAST=$work/dns_blast
  [ -x "$DNSB_BLAST" ] && return 0
  command -v cc >/dev/null || dnsb_skip_or_die "cc not found (apt-get install gcc)"
  cc -O2 -o "$DNSB_BLAST" bench/dnsproxy/dns_blast.c || dnsb_die "dns_blast does not compile"
}

# dnsb_query_ms PORT NAME [TYPE [ADDR]]: "RCODE MS": the RCODE ADDR:PORT answers for NAME and the
# answer time kdig measured, in ms ("NONE 99999" when nothing came back within 2 s).
dnsb_query_ms() {
  kdig "@${4:-127.0.0.1}" -p "$1" +timeout=2 +retry=0 +noall +header +stats "$2" "${3:-A}" 2>/dev/null |
    awk '/status:/ {sub(/.*status: /, ""); sub(/[;,].*/, ""); s = $0}
         /^;; From .* in [0-9.]+ ms/ {m = $(NF - 1)}
         END {if (s == "") print "NONE 99999"; else print s, (m == "" ? 99999 : m)}'
}

# dnsb_write_unbound_filter_config FILE LIST PORT UPSTREAM_PORT THREADS: unbound as a filtering
# resolver in front of the same upstream: every name of LIST a local-zone `always_nxdomain` (the
# name and its subdomains answer NXDOMAIN, as egressguard's `subdomains = true` and dnsdist's
# SuffixMatchNode), everything else forwarded to 127.0.0.53@UPSTREAM_PORT. THREADS threads with
# SO_REUSEPORT. Its cache is kept out of the way (cache-max-ttl 0, tiny caches) so that every
# allowed query is forwarded, as by the other two, which have none.
dnsb_write_unbound_filter_config() {
  local file=$1 list=$2 port=$3 upstream_port=$4 threads=$5
  awk '{printf "    local-zone: \"%s.\" always_nxdomain\n", $1}' "$list" >"$file.zones"
  cat >"$file" <<EOF2
server:
    verbosity: 0
    num-threads: $threads
    so-reuseport: yes
    so-rcvbuf: 8m
    so-sndbuf: 8m
    chroot: ""
    username: ""
    directory: "$work"
    pidfile: ""
    do-daemonize: no
    use-syslog: no
    logfile: ""
    interface: 127.0.0.1@$port
    do-ip6: no
    do-tcp: yes
    do-not-query-localhost: no
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
    cache-max-ttl: 0
    cache-max-negative-ttl: 0
    msg-cache-size: 1m
    rrset-cache-size: 1m
    num-queries-per-thread: 4096
    outgoing-range: 8192
    include: "$file.zones"
forward-zone:
    name: "."
    forward-addr: 127.0.0.53@$upstream_port
remote-control:
    control-enable: no
EOF2
}
