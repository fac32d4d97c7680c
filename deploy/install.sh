#!/usr/bin/env bash
# Installs a built egressguard as a systemd service (docs/operators.md, Install):
#   deploy/install.sh [BUILD_DIR]      (default: build; run as root)
# The binary, unit, sysusers/tmpfiles snippets, example config, catalogue and guides go under
# /usr (cmake --install); the egressguard user and its directories are created; an existing
# /etc/egressguard/egressguard.toml is never overwritten. The service is enabled but not started:
# edit the configuration, `egressguard check` it, then `systemctl start egressguard`.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
if [[ $EUID -ne 0 ]]; then
  echo "install.sh: run as root" >&2
  exit 1
fi
cmake --install "$build" --prefix /usr
systemd-sysusers /usr/lib/sysusers.d/egressguard.conf
systemd-tmpfiles --create /usr/lib/tmpfiles.d/egressguard.conf
if [[ ! -e /etc/egressguard/egressguard.toml ]]; then
  # The example's paths point into the source tree and /tmp: point them at the installed
  # catalogue, /etc/egressguard/lists and /run/egressguard (PrivateTmp hides /tmp).
  sed -e 's#\.\./domains/catalogue/#/usr/share/egressguard/catalogue/#' \
    -e 's#"lists/#"/etc/egressguard/lists/#' \
    -e 's#^socket = .*#socket = "/run/egressguard/control.sock"#' \
    /usr/share/egressguard/examples/egressguard.toml >/etc/egressguard/egressguard.toml
  chgrp egressguard /etc/egressguard/egressguard.toml
  chmod 0640 /etc/egressguard/egressguard.toml
  mkdir -p /etc/egressguard/lists
  cp -n /usr/share/egressguard/examples/lists/* /etc/egressguard/lists/ 2>/dev/null || true
  echo "installed /etc/egressguard/egressguard.toml: edit it (lists, groups, [dns] listen)"
fi
systemctl daemon-reload
systemctl enable egressguard.service
echo "next: egressguard check --config /etc/egressguard/egressguard.toml && systemctl start egressguard"
