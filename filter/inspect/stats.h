// InspectStats: the counters of one Inspector, plain fields (CONVENTIONS section 4). A metrics
// exporter sums them over workers; for_each_counter() names them for export.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filter/inspect/observation.h"
#include "filter/parse/packet.h"

namespace egressguard::inspect {

inline constexpr std::size_t kDecodeErrorCount =
    static_cast<std::size_t>(parse::DecodeError::BadTunnelHeader) + 1;

struct InspectStats {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  // Frames decode_packet refused, by DecodeError value (NotIp included).
  std::array<std::uint64_t, kDecodeErrorCount> decode_errors{};
  std::uint64_t non_ip = 0;       // frames without IP (ARP, LLDP ...): DecodeError::NotIp
  std::uint64_t non_tcp_udp = 0;  // IP packets of another protocol (ICMP, ESP ...)

  std::uint64_t flows_created = 0;
  std::uint64_t flows_evicted = 0;  // removed to make room (table full)
  std::uint64_t flows_expired = 0;  // removed after flow_idle_timeout_s
  std::uint64_t active_flows = 0;

  // Names extracted, by AppProto.
  std::array<std::uint64_t, kAppProtoCount> names{};
  std::uint64_t unnamed_flows = 0;  // TLS/QUIC flows decided without a name
  // Decisions taken (one per name, one per flow decided without a name).
  std::uint64_t decisions_block = 0;
  std::uint64_t decisions_allow = 0;
  std::uint64_t packets_blocked = 0;  // packets answered with Verdict::Block

  std::uint64_t dns_parse_errors = 0;
  std::uint64_t tls_parse_errors = 0;
  std::uint64_t quic_decrypt_failures = 0;
  std::uint64_t http_parse_errors = 0;
  std::uint64_t socks_parse_errors = 0;
  std::uint64_t tunnels = 0;  // SOCKS / HTTP CONNECT handshakes followed into the tunnel

  std::uint64_t reassembly_drops = 0;           // buffers refused: memory bound or pending list
  std::uint64_t reassembly_bytes_in_use = 0;    // buffers handed out now
  std::uint64_t reassembly_bytes_reserved = 0;  // buffers allocated so far (<= reassembly_memory)
  std::uint64_t fragments_attributed = 0;
  std::uint64_t fragments_unattributed = 0;

  std::uint64_t policy_refreshes = 0;  // snapshot version changes picked up
};

// Calls f(name, value) for every counter, arrays expanded ("decode_errors_packet_truncated",
// "names_tls" ...). Names are stable: they become metric names.
template <typename F>
void for_each_counter(const InspectStats& s, F&& f) {
  f("packets", s.packets);
  f("bytes", s.bytes);
  for (std::size_t i = 0; i < kDecodeErrorCount; ++i) {
    f(parse::describe(static_cast<parse::DecodeError>(i)), s.decode_errors[i]);
  }
  f("non_ip", s.non_ip);
  f("non_tcp_udp", s.non_tcp_udp);
  f("flows_created", s.flows_created);
  f("flows_evicted", s.flows_evicted);
  f("flows_expired", s.flows_expired);
  f("active_flows", s.active_flows);
  static constexpr std::array<std::string_view, kAppProtoCount> kNames{
      "names_none", "names_dns", "names_tls",  "names_quic",
      "names_http", "names_ip",  "names_socks"};
  for (std::size_t i = 0; i < kAppProtoCount; ++i) {
    f(kNames[i], s.names[i]);
  }
  f("unnamed_flows", s.unnamed_flows);
  f("decisions_block", s.decisions_block);
  f("decisions_allow", s.decisions_allow);
  f("packets_blocked", s.packets_blocked);
  f("dns_parse_errors", s.dns_parse_errors);
  f("tls_parse_errors", s.tls_parse_errors);
  f("quic_decrypt_failures", s.quic_decrypt_failures);
  f("http_parse_errors", s.http_parse_errors);
  f("socks_parse_errors", s.socks_parse_errors);
  f("tunnels", s.tunnels);
  f("reassembly_drops", s.reassembly_drops);
  f("reassembly_bytes_in_use", s.reassembly_bytes_in_use);
  f("reassembly_bytes_reserved", s.reassembly_bytes_reserved);
  f("fragments_attributed", s.fragments_attributed);
  f("fragments_unattributed", s.fragments_unattributed);
  f("policy_refreshes", s.policy_refreshes);
}

}  // namespace egressguard::inspect
