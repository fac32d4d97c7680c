// decode_packet: link layer, IPv4/IPv6 (options, extension headers, fragments), TCP/UDP and
// common tunnels (GRE, IP-in-IP, VXLAN, Geneve) down to the innermost 5-tuple.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/byte_span.h"
#include "base/result.h"
#include "filter/parse/ip_address.h"

namespace egressguard::parse {

// Where a frame starts. Datapaths map their own link-type values (pcap DLT) onto this.
enum class LinkType : std::uint8_t {
  Ethernet,   // DLT_EN10MB: Ethernet II, 802.1Q/802.1ad tags, PPPoE session, MPLS
  LinuxSll,   // DLT_LINUX_SLL: 16-byte Linux "cooked" header
  LinuxSll2,  // DLT_LINUX_SLL2: 20-byte Linux "cooked" v2 header
  Raw,        // starts at the IP header, v4 or v6 chosen by the version nibble
  Null,       // BSD loopback (DLT_NULL, DLT_LOOP): 4-byte address family, either byte order
  Ipv4,       // starts at an IPv4 header (NFQUEUE AF_INET, LINKTYPE_IPV4)
  Ipv6,       // starts at an IPv6 header (NFQUEUE AF_INET6, LINKTYPE_IPV6)
};

// pcap DLT / LINKTYPE value -> LinkType; nullopt for link types we cannot decode.
std::optional<LinkType> link_type_from_dlt(int dlt) noexcept;
std::string_view describe(LinkType link) noexcept;

enum class DecodeError : std::uint8_t {
  Truncated,             // a header ends beyond the captured bytes
  UnsupportedLink,       // LinkType value out of range
  UnsupportedEtherType,  // an EtherType we do not decode (not known to be non-IP either)
  BadIpVersion,          // version nibble is neither 4 nor 6, or does not match the link
  BadIpHeader,           // IHL < 5, total length < header length
  BadIpv6ExtHeader,      // extension-header chain too long or malformed
  BadTcpHeader,          // data offset < 5
  BadUdpHeader,          // UDP length < 8
  TunnelTooDeep,         // more than kMaxTunnelDepth nested encapsulations
  NotIp,                 // a valid frame that carries no IP: ARP, LLDP, EAPOL, 802.3/LLC ...
  BadGreHeader,          // GRE version/flags we cannot parse (routing present, version 1)
  BadTunnelHeader,       // VXLAN/Geneve header malformed
};

// A snake_case label for counters, e.g. "packet_truncated".
std::string_view describe(DecodeError error) noexcept;

inline constexpr std::uint8_t kTcpFin = 0x01;
inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpRst = 0x04;
inline constexpr std::uint8_t kTcpPsh = 0x08;
inline constexpr std::uint8_t kTcpAck = 0x10;
inline constexpr std::uint8_t kTcpUrg = 0x20;

inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpProtoUdp = 17;

// Encapsulations decoded before giving up with TunnelTooDeep.
inline constexpr std::uint8_t kMaxTunnelDepth = 4;
// UDP destination ports that carry a tunnel (IANA).
inline constexpr std::uint16_t kVxlanPort = 4789;
inline constexpr std::uint16_t kGenevePort = 6081;
inline constexpr std::uint16_t kGtpuPort = 2152;  // GTP-U (3GPP TS 29.281), mobile core taps

// One decoded frame. `payload` is a view into the frame passed to decode_packet: valid only
// while the caller's packet buffer is. Addresses, ports and IP fields are the innermost ones;
// L2 fields (VLAN, MAC) are the outermost ones (the segment the packet was seen on).
struct PacketView {
  IpAddress src, dst;
  // IP protocol of the innermost packet: 6 TCP, 17 UDP. Any other protocol (ICMP, ESP, SCTP, an
  // IPv6 "no next header") passes through with ports 0 and an empty payload.
  std::uint8_t l4 = 0;
  std::uint16_t sport = 0, dport = 0;
  std::uint32_t tcp_seq = 0, tcp_ack = 0;
  std::uint8_t tcp_flags = 0;  // kTcp* bits
  std::uint16_t tcp_window = 0;
  ByteSpan payload;  // TCP/UDP payload (or, for a non-first fragment, the fragment's data)

  std::uint16_t vlan = 0;  // outermost 802.1Q/802.1ad VLAN id
  bool has_vlan = false;
  std::array<std::uint8_t, 6> src_mac{};  // outermost Ethernet (or SLL) source address
  bool has_mac = false;

  std::uint8_t tunnel_depth = 0;     // 0 = not tunnelled
  IpAddress tunnel_src, tunnel_dst;  // outermost IP addresses when tunnel_depth > 0

  // Fragments. A non-first fragment (offset != 0) has l4 set but ports 0 and `payload` is its
  // data. A first fragment has its ports parsed and `payload` is what this fragment holds of the
  // L4 payload. Tunnels inside fragments are not decoded (the outer packet is reported).
  bool is_fragment = false;
  bool first_fragment = false;  // is_fragment && offset 0
  std::uint32_t frag_id = 0;
  std::uint16_t frag_offset = 0;  // bytes
  bool more_fragments = false;

  std::uint8_t ttl = 0;            // TTL or hop limit
  std::uint16_t ip_total_len = 0;  // IPv4 total length, IPv6 40 + payload length (as on the wire)
  // The frame holds less than the IP (or UDP) length says (capture snaplen); payload is cut.
  bool truncated = false;
  // Offsets into the frame of the innermost IP header and of its L4 header.
  std::size_t l3_offset = 0;
  std::size_t l4_offset = 0;
};

// Decodes one frame. Never allocates; never reads outside `frame`.
Result<PacketView, DecodeError> decode_packet(LinkType link, ByteSpan frame) noexcept;

}  // namespace egressguard::parse
