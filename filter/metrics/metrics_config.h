// MetricsConfig: the `[metrics]` section of egressguard.toml (filter/app/config.cc fills it):
// where the Prometheus endpoint listens. Metrics say which groups reach which categories, so by
// default only a loopback address is accepted; another one needs `allow_remote = true`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace egressguard::metrics {

inline constexpr std::uint16_t kDefaultMetricsPort = 9477;

struct MetricsConfig {
  bool enabled = false;                   // a [metrics] section is present
  std::string listen = "127.0.0.1:9477";  // IP literal and port; "[::1]:9477" for IPv6
  bool allow_remote = false;              // accept a non-loopback `listen`
};

// An address to listen on, checked.
struct ListenAddress {
  std::string ip;  // IP literal, without brackets
  std::uint16_t port = kDefaultMetricsPort;
  bool loopback = false;

  std::string to_string() const;  // "127.0.0.1:9477", "[::1]:9477"
};

// Parses "127.0.0.1:9477", "[::1]:9477" or a bare address (port 9477). Port 0 lets the kernel
// choose (tests). Errors: not an IP literal, bad port, and a non-loopback address unless
// `allow_remote`: "... is not a loopback address: metrics would be reachable from the network;
// set allow_remote = true to allow it".
Result<ListenAddress, std::string> parse_listen(std::string_view text, bool allow_remote);

}  // namespace egressguard::metrics
