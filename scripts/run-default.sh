#!/usr/bin/env bash
# Quick start (a): install dependencies, build, validate the bundled default configuration and
# lists, explain two decisions, and scan the bundled capture of a gov-managed and a BYOD device:
# the gov-managed device's TikTok/Telegram traffic is blocked, the BYOD device is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
TARGETS=egressguard bash scripts/build.sh
config=examples/egressguard.toml
./build/egressguard check --config "$config"
./build/egressguard explain --config "$config" --group gov-managed www.tiktok.com
./build/egressguard explain --config "$config" --group byod www.tiktok.com
if [ -f examples/captures/default.pcap ]; then
  ./build/egressguard scan --config "$config" --events - examples/captures/default.pcap
fi
