// DnsProxyConfig: the `[dns]` section of egressguard.toml (filter/app/config.cc fills it), what
// the DNS proxy listens on, where it forwards, how it answers blocked names and its bounds.
// Per-group switches (strip_ech, anti_bypass) live in inspect::GroupSpec so that they reload
// with the policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filter/parse/ip_address.h"

namespace egressguard::dnsproxy {

// How a blocked name is answered.
enum class BlockAnswer : std::uint8_t {
  Nxdomain,  // RCODE 3 (default)
  Null,      // A 0.0.0.0 / AAAA ::, NODATA for other types
  Refused,   // RCODE 5
};
// "nxdomain" | "null" | "refused"
std::string_view describe(BlockAnswer answer) noexcept;
std::optional<BlockAnswer> parse_block_answer(std::string_view text) noexcept;

// An address and port: "192.0.2.53:53", "[2001:db8::53]:53", or a bare address (port
// `default_port`).
struct Endpoint {
  parse::IpAddress ip;
  std::uint16_t port = 53;

  std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};
// nullopt with `why` set when `text` is not an endpoint.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port,
                                       std::string* why = nullptr);

struct DnsProxyConfig {
  bool enabled = false;             // a [dns] section is present
  std::vector<Endpoint> listen;     // UDP and TCP on each
  std::vector<Endpoint> upstreams;  // tried in order; the next one on timeout or failure
  BlockAnswer block_answer = BlockAnswer::Nxdomain;
  std::uint32_t block_ttl = 60;               // TTL (and SOA minimum) of made-up answers, seconds
  std::uint32_t workers = 1;                  // threads, each with its own sockets (SO_REUSEPORT)
  std::uint32_t upstream_timeout_ms = 1000;   // one try (one upstream, UDP or TCP)
  std::uint32_t query_timeout_ms = 3000;      // whole query: SERVFAIL when it runs out
  std::uint32_t tcp_idle_timeout_ms = 10000;  // client TCP connections without a query
  std::uint32_t max_tcp_connections = 1024;   // client TCP connections, over all workers
  std::uint32_t max_tcp_pipeline = 32;        // queries in flight per client TCP connection
  std::uint32_t max_pending = 4096;           // forwarded queries in flight per worker
  std::uint16_t udp_payload = 1232;           // EDNS UDP size advertised in made-up answers
};

}  // namespace egressguard::dnsproxy
