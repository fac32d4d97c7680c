#!/usr/bin/env bash
# Installs every Debian 12 package egressguard needs to build, test and benchmark, as root with
# apt-get. Safe to run again: it installs only what is missing.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config git clang clang-format clang-tidy
  libclang-rt-14-dev
  # libraries
  libpcap-dev libmaxminddb-dev libldns-dev libspdlog-dev libfmt-dev libboost-dev
  libboost-system-dev libnetfilter-queue-dev libtomlplusplus-dev libcli11-dev libssl-dev
  zlib1g-dev libidn2-dev libnftables-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # real peers, clients and servers used by the tests, the lab and the side-by-side benches
  tshark tcpdump libndpi-bin unbound nginx knot-dnsutils dnsutils curl openssl ngtcp2-client
  ngtcp2-server iproute2 nftables iptables python3 mmdb-bin ethtool util-linux time dnsperf
  dnsdist conntrack iperf3 rsyslog jq libmaxmind-db-writer-perl systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: these packages are missing and installing them needs root: ${missing[*]}" >&2
  echo "deps.sh: run as root (sudo bash scripts/deps.sh)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Packaged daemons may start themselves on install; the tests run their own instances.
for svc in unbound nginx dnsdist rsyslog; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
    systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done
echo "deps.sh: installed ${#missing[@]} packages"
