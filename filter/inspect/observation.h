// What the Inspector reports besides its verdicts: one Observation per name it extracts (DNS
// query, TLS SNI, QUIC SNI, HTTP Host) and one per TLS/QUIC flow that ends without a name, so
// that the SOC also sees unnamed flows. Sinks turn them into events (DESIGN section 7).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "filter/inspect/policy.h"
#include "filter/parse/ip_address.h"

namespace egressguard::inspect {

// The application protocol a name (or a flow) was seen in. Socks: the host name a client asked a
// SOCKS 4A / 5 proxy to connect to (an HTTP CONNECT authority is Http).
enum class AppProto : std::uint8_t { None, Dns, Tls, Quic, Http, Ip, Socks };
inline constexpr std::size_t kAppProtoCount = 7;
// "none", "dns", "tls", "quic", "http", "ip", "socks".
std::string_view describe(AppProto app) noexcept;

// Per-flow evasion and visibility flags (a bitmask in Observation::flags).
enum FlowFlag : std::uint32_t {
  kFlagSplit = 1U << 0,             // ClientHello / Host spanned more than one TCP segment
  kFlagOutOfOrder = 1U << 1,        // a client segment arrived ahead of a hole
  kFlagOverlap = 1U << 2,           // overlapping segments, or a retransmission with other bytes
  kFlagRetransmit = 1U << 3,        // a segment repeated bytes already seen, identically
  kFlagRecordFragmented = 1U << 4,  // ClientHello across more than one TLS record
  kFlagEch = 1U << 5,               // encrypted_client_hello offered (the SNI is the outer one)
  kFlagEsni = 1U << 6,              // draft ESNI offered
  kFlagNoSni = 1U << 7,             // a ClientHello without server_name
  kFlagIpLiteral = 1U << 8,         // the SNI / Host is an IP address
  kFlagIpFragment = 1U << 9,        // the flow carried IP fragments
  kFlagQuicMultiPacket = 1U << 10,  // the ClientHello's CRYPTO data spanned several Initials
  kFlagTruncated = 1U << 11,        // a reassembly bound was hit (stream_bytes or memory)
  kFlagOddBytes = 1U << 12,         // the name has bytes a log line must escape
  kFlagGap = 1U << 13,              // a missing segment kept the name from completing
  kFlagMidStream = 1U << 14,        // the TCP handshake was not seen; stream starts mid-flow
  kFlagDecryptFailed = 1U << 15,    // a QUIC Initial could not be decrypted
  kFlagTunnel = 1U << 16,           // seen inside a SOCKS or HTTP CONNECT tunnel (proxy handshake)
  kFlagMalformed = 1U << 17,        // the ClientHello is malformed after a well-formed server_name
};
inline constexpr std::size_t kFlowFlagCount = 18;

// The snake_case name of one flag ("split", "out_of_order", ...); empty for an unknown bit.
std::string_view describe(FlowFlag flag) noexcept;
// Writes the names of the flags set in `flags`, lowest bit first, into `out`; returns how many.
// No allocation: for event writers on the packet path.
std::size_t flag_names(std::uint32_t flags,
                       std::array<std::string_view, kFlowFlagCount>& out) noexcept;
// The same joined with ',' ("split,ech"); empty when no flag is set. Allocates.
std::string flags_to_string(std::uint32_t flags);

// One name seen (or one TLS/QUIC flow ended without a name). Oriented client -> server.
// String views are valid only during ObservationSink::on_observation.
struct Observation {
  std::uint64_t ts_us = 0;
  parse::IpAddress src, dst;  // client, server
  std::uint16_t sport = 0, dport = 0;
  std::uint8_t l4 = 0;  // 6 TCP, 17 UDP
  AppProto app = AppProto::None;
  std::string_view name;  // raw as seen on the wire (not normalised, not escaped); may be empty
  std::string_view alpn;  // offered ALPN protocols joined with ','; empty when none
  std::uint16_t dns_qtype = 0;
  Decision decision;
  // The snapshot that took `decision` (its rule/list/category indexes refer to it). Set by the
  // Inspector; valid during the callback.
  const PolicySnapshot* policy = nullptr;
  std::uint32_t flags = 0;  // FlowFlag bits
  std::uint64_t flow_id = 0;
  std::string_view interface;  // ingress interface; empty when unknown
  std::optional<std::uint16_t> vlan;
};

// Receives observations from one Inspector, on that Inspector's thread.
class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  virtual void on_observation(const Observation& observation) = 0;
  // A new flow was created for a source in `group`.
  virtual void on_flow_new(std::uint32_t group) { static_cast<void>(group); }
};

// What the datapath knows about a packet besides its bytes.
struct PacketMeta {
  std::uint64_t ts_us = 0;     // capture or arrival time
  std::string_view interface;  // ingress interface; empty when unknown
};

}  // namespace egressguard::inspect
