# shellcheck shell=bash disable=SC2034  # LAB_* variables are read by the sourcing scripts
# egressguard network-namespace test lab: a bash library, to be sourced (never executed).
#
#   source scripts/lab/lab.sh
#   lab_up                      # namespaces, links, addresses, routes; trap lab_down on EXIT
#   lab_make_pki                # per-run throwaway CA + server cert (SANs from hosts.tsv)
#   lab_start_unbound           # DNS on 192.0.2.53 / 2001:db8:53::53 (srv)
#   lab_start_nginx             # TLS 443 + HTTP 80 on 198.51.100.10 / 2001:db8:100::10 (srv)
#   lab_start_quic_server       # QUIC (HTTP/3) on 198.51.100.20:443 (srv)
#   lab_exec gov curl ...       # run a command inside a namespace
#   lab_down                    # kill everything started, delete namespaces and temp dir
#
# Topology (no NAT; client source addresses are preserved up to the servers):
#
#   gov  eth0 10.8.0.10/16  fd00:8::10/64  ──── gov0  10.8.0.1/16  fd00:8::1/64   ┐
#   byod eth0 10.30.0.20/16 fd00:30::20/64 ──── byod0 10.30.0.1/16 fd00:30::1/64  ├ gw (router)
#   srv  eth0 203.0.113.2/24 2001:db8:ffff::2/64 ── srv0 203.0.113.1/24 2001:db8:ffff::1/64 ┘
#   srv  lo: 192.0.2.53 2001:db8:53::53 (DNS), 198.51.100.10 2001:db8:100::10 (web),
#            198.51.100.20 (QUIC)
#
# Every name the lab creates carries the prefix $LAB_PREFIX (default eg-<pid of the sourcing
# shell>), so parallel runs do not collide. See scripts/lab/README.md.

if [[ -n "${LAB_LIB_LOADED:-}" ]]; then
  return 0
fi
LAB_LIB_LOADED=1

LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${LAB_PREFIX:=eg-$$}"
: "${LAB_HOSTS_FILE:=$LAB_LIB_DIR/hosts.tsv}"
: "${LAB_VERBOSE:=0}"

LAB_ROLES=(gov byod gw srv)

# Addresses (fixed: the example configuration and the tests rely on them). Public API: used by
# the scripts that source this file.
LAB_GOV_V4=10.8.0.10
LAB_GOV_V6=fd00:8::10
LAB_GOV_NET_V4=10.8.0.0/16
LAB_GOV_NET_V6=fd00:8::/64
LAB_BYOD_V4=10.30.0.20
LAB_BYOD_V6=fd00:30::20
LAB_BYOD_NET_V4=10.30.0.0/16
LAB_BYOD_NET_V6=fd00:30::/64
LAB_GW_GOV_V4=10.8.0.1
LAB_GW_GOV_V6=fd00:8::1
LAB_GW_BYOD_V4=10.30.0.1
LAB_GW_BYOD_V6=fd00:30::1
LAB_GW_SRV_V4=203.0.113.1
LAB_GW_SRV_V6=2001:db8:ffff::1
LAB_SRV_V4=203.0.113.2
LAB_SRV_V6=2001:db8:ffff::2
LAB_DNS_V4=192.0.2.53
LAB_DNS_V6=2001:db8:53::53
LAB_WEB_V4=198.51.100.10
LAB_WEB_V6=2001:db8:100::10
LAB_QUIC_V4=198.51.100.20
# MACs (locally administered), fixed so captures and MAC-based group tests are stable.
LAB_GOV_MAC=02:e9:00:08:00:10
LAB_BYOD_MAC=02:e9:00:30:00:20
LAB_SRV_MAC=02:e9:00:ff:00:02
LAB_GW_GOV_MAC=02:e9:00:08:00:01
LAB_GW_BYOD_MAC=02:e9:00:30:00:01
LAB_GW_SRV_MAC=02:e9:00:ff:00:01
# Interface names inside the namespaces.
LAB_CLIENT_IF=eth0     # in gov, byod and srv
LAB_GW_GOV_IF=gov0     # in gw, facing gov
LAB_GW_BYOD_IF=byod0   # in gw, facing byod
LAB_GW_SRV_IF=srv0     # in gw, facing srv (the capture point: each packet seen once)

# Set by lab_up / lab_make_pki.
LAB_TMP=""
LAB_CA_CERT=""
LAB_SERVER_CERT=""
LAB_SERVER_KEY=""
LAB_LAST_PID=""

lab_log() {
  echo "lab[$LAB_PREFIX]: $*" >&2
}

lab_die() {
  echo "lab[$LAB_PREFIX]: error: $*" >&2
  exit 1
}

# Runs "$@", showing the command when LAB_VERBOSE=1; dies with the command line on failure.
lab_run() {
  if [[ "$LAB_VERBOSE" == 1 ]]; then
    echo "+ $*" >&2
  fi
  "$@" || lab_die "command failed ($?): $*"
}

lab_require_root() {
  if [[ "$(id -u)" != 0 ]]; then
    echo "error: ${0##*/} must run as root (it creates network namespaces)" >&2
    exit 1
  fi
}

# lab_require_tools TOOL...: dies naming every missing tool.
lab_require_tools() {
  local missing=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if ((${#missing[@]} > 0)); then
    lab_die "missing tools: ${missing[*]} (apt-get install unbound nginx knot-dnsutils" \
      "dnsutils curl openssl ngtcp2-client ngtcp2-server tcpdump iproute2 ethtool tshark)"
  fi
}

# lab_ns ROLE: prints the namespace name of ROLE (gov, byod, gw, srv).
lab_ns() {
  echo "${LAB_PREFIX}-$1"
}

# lab_exec ROLE CMD...: runs CMD inside ROLE's namespace (stdin/stdout/stderr passed through).
lab_exec() {
  local role=$1
  shift
  ip netns exec "$(lab_ns "$role")" "$@"
}

# lab_link NS_A IF_A MAC_A NS_B IF_B MAC_B: a veth pair created directly inside the two
# namespaces (it never exists in the root namespace), fixed MACs, offloads off so captures hold
# wire-sized packets with valid checksums.
lab_link() {
  local ns_a=$1 if_a=$2 mac_a=$3 ns_b=$4 if_b=$5 mac_b=$6 pair
  lab_run ip link add "$if_a" address "$mac_a" netns "$ns_a" type veth \
    peer name "$if_b" address "$mac_b" netns "$ns_b"
  local ns ifn
  for pair in "$ns_a:$if_a" "$ns_b:$if_b"; do
    ns=${pair%%:*}
    ifn=${pair#*:}
    if command -v ethtool >/dev/null 2>&1; then
      ip netns exec "$ns" ethtool -K "$ifn" tx off rx off tso off gso off gro off \
        >/dev/null 2>&1 || true
    fi
    lab_run ip -n "$ns" link set "$ifn" up
  done
}

# lab_addr NS IF ADDR/PREFIX...: adds addresses (v6 without duplicate address detection, so they
# are usable at once).
lab_addr() {
  local ns=$1 ifn=$2 a
  shift 2
  for a in "$@"; do
    if [[ "$a" == *:* ]]; then
      lab_run ip -n "$ns" -6 addr add "$a" dev "$ifn" nodad
    else
      lab_run ip -n "$ns" addr add "$a" dev "$ifn"
    fi
  done
}

# lab_up: builds the four namespaces and their links, and arms `trap lab_down EXIT` (plus INT and
# TERM) unless LAB_NO_TRAP=1. Dies if a namespace with the prefix already exists.
lab_up() {
  lab_require_root
  lab_require_tools ip
  local role ns
  for role in "${LAB_ROLES[@]}"; do
    ns=$(lab_ns "$role")
    if ip netns list | awk '{print $1}' | grep -qxF "$ns"; then
      lab_die "namespace $ns already exists (another run with prefix $LAB_PREFIX?)"
    fi
  done
  LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/${LAB_PREFIX}.XXXXXX")
  mkdir -p "$LAB_TMP/log"
  : >"$LAB_TMP/pids"
  if [[ "${LAB_NO_TRAP:-0}" != 1 ]]; then
    trap lab_down EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
  fi
  for role in "${LAB_ROLES[@]}"; do
    ns=$(lab_ns "$role")
    lab_run ip netns add "$ns"
    echo "$ns" >>"$LAB_TMP/namespaces"
    lab_run ip -n "$ns" link set lo up
    # No router solicitations, no autoconfiguration: only the addresses below exist.
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.accept_ra=0 \
      net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.router_solicitations=0 \
      net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.default.autoconf=0 >/dev/null 2>&1 || true
  done
  local gov byod gw srv
  gov=$(lab_ns gov)
  byod=$(lab_ns byod)
  gw=$(lab_ns gw)
  srv=$(lab_ns srv)

  lab_link "$gov" "$LAB_CLIENT_IF" "$LAB_GOV_MAC" "$gw" "$LAB_GW_GOV_IF" "$LAB_GW_GOV_MAC"
  lab_link "$byod" "$LAB_CLIENT_IF" "$LAB_BYOD_MAC" "$gw" "$LAB_GW_BYOD_IF" "$LAB_GW_BYOD_MAC"
  lab_link "$srv" "$LAB_CLIENT_IF" "$LAB_SRV_MAC" "$gw" "$LAB_GW_SRV_IF" "$LAB_GW_SRV_MAC"

  lab_addr "$gov" "$LAB_CLIENT_IF" "$LAB_GOV_V4/16" "$LAB_GOV_V6/64"
  lab_addr "$byod" "$LAB_CLIENT_IF" "$LAB_BYOD_V4/16" "$LAB_BYOD_V6/64"
  lab_addr "$gw" "$LAB_GW_GOV_IF" "$LAB_GW_GOV_V4/16" "$LAB_GW_GOV_V6/64"
  lab_addr "$gw" "$LAB_GW_BYOD_IF" "$LAB_GW_BYOD_V4/16" "$LAB_GW_BYOD_V6/64"
  lab_addr "$gw" "$LAB_GW_SRV_IF" "$LAB_GW_SRV_V4/24" "$LAB_GW_SRV_V6/64"
  lab_addr "$srv" "$LAB_CLIENT_IF" "$LAB_SRV_V4/24" "$LAB_SRV_V6/64"
  lab_addr "$srv" lo "$LAB_DNS_V4/32" "$LAB_WEB_V4/32" "$LAB_QUIC_V4/32" \
    "$LAB_DNS_V6/128" "$LAB_WEB_V6/128"

  lab_run ip -n "$gov" route add default via "$LAB_GW_GOV_V4"
  lab_run ip -n "$gov" -6 route add default via "$LAB_GW_GOV_V6"
  lab_run ip -n "$byod" route add default via "$LAB_GW_BYOD_V4"
  lab_run ip -n "$byod" -6 route add default via "$LAB_GW_BYOD_V6"
  lab_run ip -n "$srv" route add default via "$LAB_GW_SRV_V4"
  lab_run ip -n "$srv" -6 route add default via "$LAB_GW_SRV_V6"
  lab_run ip -n "$gw" route add 192.0.2.0/24 via "$LAB_SRV_V4"
  lab_run ip -n "$gw" route add 198.51.100.0/24 via "$LAB_SRV_V4"
  lab_run ip -n "$gw" -6 route add 2001:db8:53::/64 via "$LAB_SRV_V6"
  lab_run ip -n "$gw" -6 route add 2001:db8:100::/64 via "$LAB_SRV_V6"
  lab_run ip netns exec "$gw" sysctl -q -w net.ipv4.ip_forward=1 \
    net.ipv6.conf.all.forwarding=1
  lab_log "up: namespaces $gov $byod $gw $srv (temp dir $LAB_TMP)"
}

# lab_spawn ROLE NAME CMD...: starts CMD in the background inside ROLE's namespace, output to
# $LAB_TMP/log/NAME.log, and records its pid (set in LAB_LAST_PID) so lab_stop / lab_down end it.
# Call it directly, not inside $(...), so the process stays a child of this shell.
lab_spawn() {
  local role=$1 name=$2
  shift 2
  ip netns exec "$(lab_ns "$role")" "$@" >"$LAB_TMP/log/$name.log" 2>&1 &
  LAB_LAST_PID=$!
  echo "$LAB_LAST_PID $name" >>"$LAB_TMP/pids"
}

# lab_pid NAME: prints the pid lab_spawn recorded for NAME (empty if none).
lab_pid() {
  awk -v n="$1" '$2 == n { p = $1 } END { if (p != "") print p }' "$LAB_TMP/pids"
}

# lab_forget PID: drops PID from the tracked processes.
lab_forget() {
  awk -v p="$1" '$1 != p' "$LAB_TMP/pids" >"$LAB_TMP/pids.new"
  mv "$LAB_TMP/pids.new" "$LAB_TMP/pids"
}

# lab_stop NAME [SIGNAL]: signals the process spawned as NAME (default TERM), waits for it (up to
# 5 s, then KILL) and forgets it. Always returns 0 (use lab_wait for an exit status).
lab_stop() {
  local name=$1 sig=${2:-TERM} pid i
  pid=$(lab_pid "$name")
  [[ -n "$pid" ]] || return 0
  # stderr off for the whole block: bash reports a killed background job ("Killed") there.
  {
    kill "-$sig" "$pid" || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" || break
      sleep 0.1
    done
    kill -KILL "$pid" || true
    wait "$pid" || true
  } 2>/dev/null
  lab_forget "$pid"
}

# lab_wait NAME [SECONDS]: waits (default 30 s) for the process spawned as NAME to exit by itself
# and returns its exit status; on timeout kills it and returns 124.
lab_wait() {
  local name=$1 secs=${2:-30} pid i rc=0
  pid=$(lab_pid "$name")
  [[ -n "$pid" ]] || lab_die "lab_wait: no process named $name"
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    { wait "$pid"; } 2>/dev/null || true
    rc=124
  else
    { wait "$pid"; } 2>/dev/null || rc=$?
  fi
  lab_forget "$pid"
  return "$rc"
}

# lab_wait_listen ROLE tcp|udp ADDR PORT [SECONDS]: waits until something listens there.
lab_wait_listen() {
  local role=$1 proto=$2 addr=$3 port=$4 secs=${5:-10} i flag=-Hlnt
  [[ "$proto" == udp ]] && flag=-Hlnu
  [[ "$addr" == *:* ]] && addr="[$addr]"
  for ((i = 0; i < secs * 10; i++)); do
    if lab_exec "$role" ss "$flag" | awk '{print $4}' | grep -qxF "$addr:$port"; then
      return 0
    fi
    sleep 0.1
  done
  lab_die "nothing listens on $proto $addr:$port in $role after ${secs}s"
}

# lab_check_alive NAME: dies (showing its log) if the process spawned as NAME has exited.
lab_check_alive() {
  local pid
  pid=$(lab_pid "$1")
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    sed 's/^/  | /' "$LAB_TMP/log/$1.log" >&2 || true
    lab_die "$1 is not running"
  fi
}

# lab_names: prints the distinct names of $LAB_HOSTS_FILE, in file order.
lab_names() {
  awk -F'\t' '!/^#/ && NF >= 3 && !seen[$1]++ { print $1 }' "$LAB_HOSTS_FILE"
}

# lab_make_pki: generates a throwaway CA and one server certificate (EC P-256, 7 days) whose SANs
# are every name of $LAB_HOSTS_FILE plus the web and QUIC addresses. Sets LAB_CA_CERT,
# LAB_SERVER_CERT, LAB_SERVER_KEY (files under $LAB_TMP/pki, deleted by lab_down).
lab_make_pki() {
  lab_require_tools openssl
  local dir=$LAB_TMP/pki san name
  mkdir -p "$dir"
  san="IP:$LAB_WEB_V4,IP:$LAB_WEB_V6,IP:$LAB_QUIC_V4"
  while read -r name; do
    san="DNS:$name,$san"
  done < <(lab_names | tac)
  lab_run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 7 -subj "/CN=egressguard lab CA $LAB_PREFIX" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  lab_run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=egressguard lab server" \
    2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
    "subjectAltName=$san" >"$dir/server.ext"
  lab_run openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 7 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
  chmod 600 "$dir/ca.key" "$dir/server.key"
  LAB_CA_CERT=$dir/ca.pem
  LAB_SERVER_CERT=$dir/server.pem
  LAB_SERVER_KEY=$dir/server.key
}

# lab_start_unbound [EXTRA_CONF]: starts unbound in srv, authoritative for "." with the records
# of $LAB_HOSTS_FILE (CNAMEs followed; NXDOMAIN for any other name; never recurses). EXTRA_CONF,
# if given, is included inside the server: clause (options, local-zone/local-data lines, which
# take precedence over the zone). Config and zone: $LAB_TMP/unbound/; log:
# $LAB_TMP/log/unbound.log (one line per query).
lab_start_unbound() {
  lab_require_tools unbound
  local extra=${1:-} dir=$LAB_TMP/unbound tpl include="" name type value
  mkdir -p "$dir"
  {
    # shellcheck disable=SC2016
    echo '$TTL 300'
    echo ". IN SOA ns.lab. hostmaster.lab. 1 3600 600 86400 300"
    echo ". IN NS ns.lab."
    echo "ns.lab. IN A $LAB_DNS_V4"
    echo "ns.lab. IN AAAA $LAB_DNS_V6"
    while IFS=$'\t' read -r name type value; do
      [[ -z "$name" || "$name" == \#* ]] && continue
      [[ "$type" == CNAME ]] && value="$value."
      echo "$name. IN $type $value"
    done <"$LAB_HOSTS_FILE"
  } >"$dir/root.zone"
  if [[ -n "$extra" ]]; then
    include="    include: \"$(readlink -f "$extra")\""
  fi
  tpl=$(<"$LAB_LIB_DIR/unbound.conf.in")
  tpl=${tpl//@DIR@/$dir}
  tpl=${tpl//@DNS_V4@/$LAB_DNS_V4}
  tpl=${tpl//@DNS_V6@/$LAB_DNS_V6}
  tpl=${tpl//@INCLUDE@/$include}
  printf '%s\n' "$tpl" >"$dir/unbound.conf"
  lab_exec srv unbound-checkconf "$dir/unbound.conf" >"$LAB_TMP/log/unbound-checkconf.log" 2>&1 ||
    { cat "$LAB_TMP/log/unbound-checkconf.log" >&2; lab_die "bad unbound config $dir/unbound.conf"; }
  lab_spawn srv unbound unbound -d -c "$dir/unbound.conf"
  lab_wait_listen srv udp "$LAB_DNS_V4" 53
  lab_wait_listen srv tcp "$LAB_DNS_V4" 53
  lab_wait_listen srv udp "$LAB_DNS_V6" 53
  lab_check_alive unbound
}

# lab_start_nginx: starts nginx in srv: TLS on 443 and plain HTTP on 80 at the web addresses, one
# virtual host per name of $LAB_HOSTS_FILE answering "egressguard lab: NAME", plus a default
# server. Needs lab_make_pki first. Logs: $LAB_TMP/nginx/{error,access}.log.
lab_start_nginx() {
  lab_require_tools nginx
  [[ -n "$LAB_SERVER_CERT" ]] || lab_die "lab_start_nginx: call lab_make_pki first"
  local dir=$LAB_TMP/nginx tpl servers="" name
  mkdir -p "$dir/tmp"
  while read -r name; do
    servers+="
    server {
        listen $LAB_WEB_V4:443 ssl;
        listen [$LAB_WEB_V6]:443 ssl;
        listen $LAB_WEB_V4:80;
        listen [$LAB_WEB_V6]:80;
        server_name $name;
        return 200 \"egressguard lab: $name\\n\";
    }"
  done < <(lab_names)
  tpl=$(<"$LAB_LIB_DIR/nginx.conf.in")
  tpl=${tpl//@DIR@/$dir}
  tpl=${tpl//@CERT@/$LAB_SERVER_CERT}
  tpl=${tpl//@KEY@/$LAB_SERVER_KEY}
  tpl=${tpl//@WEB_V4@/$LAB_WEB_V4}
  tpl=${tpl//@WEB_V6@/$LAB_WEB_V6}
  tpl=${tpl//@SERVERS@/$servers}
  printf '%s\n' "$tpl" >"$dir/nginx.conf"
  lab_exec srv nginx -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
    >"$LAB_TMP/log/nginx-check.log" 2>&1 ||
    { cat "$LAB_TMP/log/nginx-check.log" >&2; lab_die "bad nginx config $dir/nginx.conf"; }
  lab_spawn srv nginx nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
  lab_wait_listen srv tcp "$LAB_WEB_V4" 443
  lab_wait_listen srv tcp "$LAB_WEB_V4" 80
  lab_wait_listen srv tcp "$LAB_WEB_V6" 443
  lab_check_alive nginx
}

# lab_start_quic_server: starts the ngtcp2 example server (gtlsserver, HTTP/3) in srv on
# $LAB_QUIC_V4:443 with the lab certificate, serving $LAB_TMP/quic/htdocs (index.html says
# "egressguard lab: quic"). Needs lab_make_pki first.
lab_start_quic_server() {
  lab_require_tools gtlsserver
  [[ -n "$LAB_SERVER_CERT" ]] || lab_die "lab_start_quic_server: call lab_make_pki first"
  local dir=$LAB_TMP/quic
  mkdir -p "$dir/htdocs"
  echo "egressguard lab: quic" >"$dir/htdocs/index.html"
  lab_spawn srv quic gtlsserver -q --timeout=10s -d "$dir/htdocs" "$LAB_QUIC_V4" 443 \
    "$LAB_SERVER_KEY" "$LAB_SERVER_CERT"
  lab_wait_listen srv udp "$LAB_QUIC_V4" 443
  lab_check_alive quic
}

# lab_set_resolver ROLE ADDR...: gives ROLE's namespace its own /etc/resolv.conf (through
# /etc/netns/<ns>/, which `ip netns exec` bind-mounts), so ordinary clients resolve via ADDR.
# Removed by lab_down.
lab_set_resolver() {
  local role=$1 ns a
  shift
  ns=$(lab_ns "$role")
  mkdir -p "/etc/netns/$ns"
  echo "/etc/netns/$ns" >>"$LAB_TMP/etc_dirs"
  : >"/etc/netns/$ns/resolv.conf"
  for a in "$@"; do
    echo "nameserver $a" >>"/etc/netns/$ns/resolv.conf"
  done
  echo "options timeout:2 attempts:1" >>"/etc/netns/$ns/resolv.conf"
}

# lab_set_hosts ROLE "ADDR NAME..."...: gives ROLE's namespace its own /etc/hosts (localhost plus
# the given lines), e.g. so a client that resolves its argument itself reaches a lab address
# without DNS traffic. Removed by lab_down.
lab_set_hosts() {
  local role=$1 ns
  shift
  ns=$(lab_ns "$role")
  mkdir -p "/etc/netns/$ns"
  echo "/etc/netns/$ns" >>"$LAB_TMP/etc_dirs"
  printf '%s\n' "127.0.0.1 localhost" "::1 localhost" "$@" >"/etc/netns/$ns/hosts"
}

# --- Clients. Each runs inside ROLE's namespace, prints what the server answered on stdout
# (diagnostics on stderr) and returns the client's exit status, so a test can assert both
# "allowed" (status 0, expected body) and "blocked" (non-zero, or NXDOMAIN / no answer). ---

# lab_dns ROLE [-t] [-6] [-s SERVER] NAME [TYPE]: kdig query (default A, UDP, to $LAB_DNS_V4;
# -t TCP; -6 to $LAB_DNS_V6 over IPv6; -s another server, e.g. a DNS proxy on the gateway).
# Prints the status line ("status: NOERROR") then the answer records, one a line, fields
# separated by one space ("vk.com. 300 IN A 198.51.100.10"); kdig's errors as they come.
lab_dns() {
  local role=$1 server=$LAB_DNS_V4 opts=() out rc
  shift
  while [[ $# -gt 0 && "$1" == -* ]]; do
    case $1 in
      -t) opts+=(+tcp) ;;
      -6) server=$LAB_DNS_V6 ;;
      -s) server=$2; shift ;;
      *) lab_die "lab_dns: unknown option $1" ;;
    esac
    shift
  done
  rc=0
  out=$(lab_exec "$role" kdig "@$server" "${opts[@]}" +timeout=3 +retry=1 +noall +header \
    +answer "$1" "${2:-A}" 2>&1) || rc=$?
  # +header prints ";; ->>HEADER<<- opcode: QUERY; status: NOERROR; id: N"
  awk '/^;;.*status: / { sub(/.*status: /, ""); sub(/;.*/, ""); print "status: " $0; next }
       !/^;/ && NF { $1 = $1; print }' <<<"$out"
  return "$rc"
}

# lab_https ROLE NAME [-6] [-a ADDR] [-k]: curl GET https://NAME/ with SNI NAME, connecting to
# $LAB_WEB_V4 (or $LAB_WEB_V6 with -6, or ADDR) without DNS; verifies against the lab CA unless
# -k. Prints the body ("egressguard lab: NAME").
lab_https() {
  local role=$1 name=$2 addr=$LAB_WEB_V4 tls=(--cacert "$LAB_CA_CERT") fam=()
  shift 2
  while [[ $# -gt 0 ]]; do
    case $1 in
      -6) addr=$LAB_WEB_V6; fam=(-6) ;;
      -a) addr=$2; shift ;;
      -k) tls=(-k) ;;
      *) lab_die "lab_https: unknown option $1" ;;
    esac
    shift
  done
  [[ "$addr" == *:* ]] && addr="[$addr]"
  lab_exec "$role" curl -sS --fail --max-time 10 "${fam[@]}" "${tls[@]}" \
    --resolve "$name:443:$addr" "https://$name/"
}

# lab_http ROLE NAME [-6] [-a ADDR]: curl GET http://NAME/ (Host: NAME) to $LAB_WEB_V4 (or v6,
# or ADDR) without DNS. Prints the body.
lab_http() {
  local role=$1 name=$2 addr=$LAB_WEB_V4 fam=()
  shift 2
  while [[ $# -gt 0 ]]; do
    case $1 in
      -6) addr=$LAB_WEB_V6; fam=(-6) ;;
      -a) addr=$2; shift ;;
      *) lab_die "lab_http: unknown option $1" ;;
    esac
    shift
  done
  [[ "$addr" == *:* ]] && addr="[$addr]"
  lab_exec "$role" curl -sS --fail --max-time 10 "${fam[@]}" --resolve "$name:80:$addr" \
    "http://$name/"
}

# lab_tls ROLE NAME [ADDR]: openssl s_client handshake with SNI NAME to ADDR:443 (default
# $LAB_WEB_V4), verifying chain and host name against the lab CA; sends nothing. Prints
# s_client's brief summary (includes "Verification: OK").
lab_tls() {
  local role=$1 name=$2 addr=${3:-$LAB_WEB_V4}
  [[ "$addr" == *:* ]] && addr="[$addr]"
  lab_exec "$role" timeout 15 openssl s_client -brief -connect "$addr:443" -servername "$name" \
    -CAfile "$LAB_CA_CERT" -verify_return_error -verify_hostname "$name" </dev/null 2>&1
}

# lab_quic ROLE NAME [ADDR]: HTTP/3 GET https://NAME/ over QUIC v1 with the ngtcp2 client
# (gtlsclient) to ADDR:443 (default $LAB_QUIC_V4), SNI NAME. gtlsclient sends SNI "localhost"
# when given an address, so it is given NAME, resolved through a private /etc/hosts bind-mounted
# for this one call (no DNS packets). It does not verify the certificate. Prints the body.
lab_quic() {
  local role=$1 name=$2 addr=${3:-$LAB_QUIC_V4} dir rc=0
  dir=$(mktemp -d "$LAB_TMP/quic-client.XXXXXX")
  printf '%s\n' "127.0.0.1 localhost" "$addr $name" >"$dir/hosts"
  # shellcheck disable=SC2016
  lab_exec "$role" unshare --mount --propagation private sh -c \
    'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh "$dir/hosts" \
    timeout 20 gtlsclient -q --exit-on-all-streams-close --timeout=5s --handshake-timeout=5s \
    --download="$dir" "$name" 443 "https://$name/" >"$dir/client.log" 2>&1 || rc=$?
  if [[ $rc == 0 && -f "$dir/index.html" ]]; then
    cat "$dir/index.html"
  else
    cat "$dir/client.log" >&2
    [[ $rc == 0 ]] && rc=1
  fi
  rm -rf "$dir"
  return "$rc"
}

# lab_capture_start NAME ROLE IFACE FILE [FILTER...]: tcpdump (full snaplen, pcap format,
# packet-buffered) on IFACE inside ROLE, writing FILE; returns once tcpdump is listening.
lab_capture_start() {
  lab_require_tools tcpdump
  local name=$1 role=$2 ifn=$3 file=$4 i
  shift 4
  lab_spawn "$role" "$name" tcpdump -n -i "$ifn" -s 0 -U --immediate-mode -Z root -w "$file" "$@"
  for ((i = 0; i < 100; i++)); do
    grep -q "listening on" "$LAB_TMP/log/$name.log" 2>/dev/null && return 0
    lab_check_alive "$name"
    sleep 0.1
  done
  lab_die "tcpdump $name did not start"
}

# lab_capture_stop NAME: stops the capture cleanly (SIGINT flushes the file) and prints
# tcpdump's summary to stderr. Waits a second first: packets still in the kernel's capture ring
# when tcpdump stops are lost.
lab_capture_stop() {
  sleep 1
  lab_stop "$1" INT
  grep -E "captured|dropped" "$LAB_TMP/log/$1.log" | sed "s/^/lab[$LAB_PREFIX]: $1: /" >&2 || true
}

# lab_down: ends every process lab_spawn started and anything else still inside the lab's
# namespaces, deletes the namespaces (their veths go with them), /etc/netns entries and the temp
# dir (kept if LAB_KEEP_TMP=1). Idempotent; safe to call from an EXIT trap.
lab_down() {
  local rc=$? pid name ns dir
  [[ -n "$LAB_TMP" && -d "$LAB_TMP" ]] || return "$rc"
  if [[ -s "$LAB_TMP/pids" ]]; then
    while read -r pid name; do
      kill -TERM "$pid" 2>/dev/null || true
    done <"$LAB_TMP/pids"
    sleep 0.2
    while read -r pid name; do
      kill -KILL "$pid" 2>/dev/null || true
      { wait "$pid"; } 2>/dev/null || true
    done <"$LAB_TMP/pids"
    : >"$LAB_TMP/pids"
  fi
  if [[ -f "$LAB_TMP/namespaces" ]]; then
    while read -r ns; do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null || true
      done
      ip netns del "$ns" 2>/dev/null || true
    done <"$LAB_TMP/namespaces"
  fi
  if [[ -f "$LAB_TMP/etc_dirs" ]]; then
    while read -r dir; do
      [[ "$dir" == /etc/netns/"$LAB_PREFIX"-* ]] && rm -rf "$dir"
    done <"$LAB_TMP/etc_dirs"
    rmdir /etc/netns 2>/dev/null || true # only if empty: another run may be using it
  fi
  if [[ "${LAB_KEEP_TMP:-0}" == 1 ]]; then
    lab_log "down (kept $LAB_TMP)"
  else
    rm -rf "$LAB_TMP"
    lab_log "down"
  fi
  LAB_TMP=""
  return "$rc"
}
