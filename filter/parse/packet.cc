#include "filter/parse/packet.h"

#include <algorithm>

#include "base/byte_reader.h"

namespace egressguard::parse {
namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;
constexpr std::uint16_t kEtherTeb = 0x6558;  // transparent Ethernet bridging (GRE)
constexpr std::uint16_t kEtherPppoeSession = 0x8864;
constexpr std::uint16_t kEtherMplsUnicast = 0x8847;
constexpr std::uint16_t kEtherMplsMulticast = 0x8848;
constexpr std::uint16_t kEtherErspan2 = 0x88be;
constexpr std::uint16_t kEtherErspan3 = 0x22eb;

constexpr std::uint8_t kProtoIpip = 4;
constexpr std::uint8_t kProtoIpv6InIp = 41;
constexpr std::uint8_t kProtoGre = 47;

// VLAN tags in one frame; MPLS labels in one stack; IPv6 extension headers in one chain.
// Real traffic uses a handful; the bounds stop crafted frames from looping long.
constexpr int kMaxVlanTags = 8;
constexpr int kMaxMplsLabels = 16;
constexpr int kMaxIpv6ExtHeaders = 16;

bool is_vlan_tpid(std::uint16_t type) noexcept {
  return type == 0x8100 || type == 0x88a8 || type == 0x9100 || type == 0x9200;
}

// EtherTypes that are well known never to carry IP.
bool is_known_non_ip(std::uint16_t type) noexcept {
  switch (type) {
    case 0x0806:  // ARP
    case 0x8035:  // RARP
    case 0x809b:  // AppleTalk
    case 0x80f3:  // AARP
    case 0x8137:  // IPX
    case 0x8809:  // slow protocols (LACP)
    case 0x8863:  // PPPoE discovery
    case 0x888e:  // EAPOL (802.1X)
    case 0x88cc:  // LLDP
    case 0x88e1:  // HomePlug
    case 0x88f7:  // PTP
    case 0x8899:  // Realtek RRCP
    case 0x893a:  // IEEE 1905
    case 0x88b5:  // local experimental
    case 0x88b6:  // local experimental
    case 0x9000:  // loopback (configuration test protocol)
      return true;
    default:
      return type < 0x0600;  // an 802.3 length field: LLC/SNAP, STP, CDP ...
  }
}

class Decoder {
 public:
  explicit Decoder(ByteSpan frame) noexcept : frame_(frame) {}

  PacketView out;
  DecodeError error = DecodeError::Truncated;

  bool fail(DecodeError e) noexcept {
    error = e;
    return false;
  }

  bool ethernet(ByteSpan data) noexcept {
    ByteReader r(data);
    r.skip(6);
    const ByteSpan src = r.take(6);
    const std::uint16_t type = r.u16();
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    set_mac(src);
    return ether_payload(type, r.rest());
  }

  bool linux_sll(ByteSpan data) noexcept {
    // struct sll_header: packet type, ARPHRD type, address length, 8 address bytes, protocol.
    ByteReader r(data);
    r.skip(2);
    const std::uint16_t hatype = r.u16();
    const std::uint16_t halen = r.u16();
    const ByteSpan address = r.take(8);
    const std::uint16_t protocol = r.u16();
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    return cooked(hatype, halen, address, protocol, r.rest());
  }

  bool linux_sll2(ByteSpan data) noexcept {
    // struct sll2_header: protocol, reserved, ifindex, ARPHRD type, packet type, address
    // length, 8 address bytes.
    ByteReader r(data);
    const std::uint16_t protocol = r.u16();
    r.skip(2 + 4);
    const std::uint16_t hatype = r.u16();
    r.skip(1);
    const std::uint8_t halen = r.u8();
    const ByteSpan address = r.take(8);
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    return cooked(hatype, halen, address, protocol, r.rest());
  }

  bool null_loopback(ByteSpan data) noexcept {
    ByteReader r(data);
    std::uint32_t family = r.u32();
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    // DLT_NULL stores the family in the capturing host's byte order, DLT_LOOP in network
    // order; every valid value is small, so a big one means the other byte order.
    if ((family & 0xffff0000U) != 0) {
      family = ((family & 0xffU) << 24) | ((family & 0xff00U) << 8) | ((family >> 8) & 0xff00U) |
               (family >> 24);
    }
    switch (family) {
      case 2:  // AF_INET everywhere
        return ip(r.rest(), 4);
      case 24:  // AF_INET6 on NetBSD/OpenBSD
      case 28:  // FreeBSD
      case 30:  // Darwin
        return ip(r.rest(), 6);
      default:
        return fail(DecodeError::NotIp);
    }
  }

  // version: 4 or 6 when the link says which, 0 to choose by the version nibble.
  bool ip(ByteSpan data, int version) noexcept {
    if (data.empty()) {
      return fail(DecodeError::Truncated);
    }
    const int nibble = data[0] >> 4;
    if ((nibble != 4 && nibble != 6) || (version != 0 && nibble != version)) {
      return fail(DecodeError::BadIpVersion);
    }
    return nibble == 4 ? ipv4(data) : ipv6(data);
  }

 private:
  std::size_t offset_of(ByteSpan part) const noexcept {
    return static_cast<std::size_t>(part.data() - frame_.data());
  }

  void set_mac(ByteSpan mac) noexcept {
    if (!out.has_mac && mac.size() >= 6) {
      std::copy_n(mac.begin(), 6, out.src_mac.begin());
      out.has_mac = true;
    }
  }

  bool cooked(std::uint16_t hatype, std::uint16_t halen, ByteSpan address, std::uint16_t protocol,
              ByteSpan rest) noexcept {
    constexpr std::uint16_t kArphrdEther = 1;
    constexpr std::uint16_t kArphrdNetlink = 824;
    if (hatype == kArphrdNetlink) {
      return fail(DecodeError::NotIp);
    }
    if (hatype == kArphrdEther && halen >= 6) {
      set_mac(address);
    }
    return ether_payload(protocol, rest);
  }

  bool ether_payload(std::uint16_t type, ByteSpan data) noexcept {
    for (int tags = 0; is_vlan_tpid(type); ++tags) {
      if (tags == kMaxVlanTags) {
        return fail(DecodeError::UnsupportedEtherType);
      }
      ByteReader r(data);
      const std::uint16_t tci = r.u16();
      type = r.u16();
      if (!r.ok()) {
        return fail(DecodeError::Truncated);
      }
      if (!out.has_vlan) {
        out.vlan = static_cast<std::uint16_t>(tci & 0x0fffU);
        out.has_vlan = true;
      }
      data = r.rest();
    }
    switch (type) {
      case kEtherIpv4:
        return ip(data, 4);
      case kEtherIpv6:
        return ip(data, 6);
      case kEtherPppoeSession:
        return pppoe_session(data);
      case kEtherMplsUnicast:
      case kEtherMplsMulticast:
        return mpls(data);
      default:
        return fail(is_known_non_ip(type) ? DecodeError::NotIp : DecodeError::UnsupportedEtherType);
    }
  }

  // RFC 2516 section 4: version/type 0x11, code 0, session id, length, then a PPP frame.
  bool pppoe_session(ByteSpan data) noexcept {
    ByteReader r(data);
    const std::uint8_t version_type = r.u8();
    r.skip(1 + 2);
    const std::uint16_t length = r.u16();
    const std::uint16_t ppp_protocol = r.u16();
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    if (version_type != 0x11 || length < 2) {
      return fail(DecodeError::UnsupportedEtherType);
    }
    ByteSpan ppp = r.rest();
    ppp = ppp.first(std::min<std::size_t>(ppp.size(), length - 2U));
    switch (ppp_protocol) {
      case 0x0021:
        return ip(ppp, 4);
      case 0x0057:
        return ip(ppp, 6);
      default:  // LCP, IPCP, CHAP ...
        return fail(DecodeError::NotIp);
    }
  }

  // RFC 3032: 4-byte labels until the bottom-of-stack bit, then IP chosen by its nibble.
  bool mpls(ByteSpan data) noexcept {
    ByteReader r(data);
    for (int labels = 0;; ++labels) {
      if (labels == kMaxMplsLabels) {
        return fail(DecodeError::UnsupportedEtherType);
      }
      const std::uint32_t entry = r.u32();
      if (!r.ok()) {
        return fail(DecodeError::Truncated);
      }
      if ((entry & 0x100U) != 0) {
        break;
      }
    }
    const ByteSpan rest = r.rest();
    if (rest.empty()) {
      return fail(DecodeError::Truncated);
    }
    const int nibble = rest[0] >> 4;
    if (nibble != 4 && nibble != 6) {
      return fail(DecodeError::UnsupportedEtherType);  // pseudowire or other payload
    }
    return ip(rest, 0);
  }

  // IP length field vs captured bytes: use the smaller and remember a capture cut.
  ByteSpan clamp(ByteSpan data, std::size_t length) noexcept {
    if (length > data.size()) {
      out.truncated = true;
      return data;
    }
    return data.first(length);
  }

  void reset_transport() noexcept {
    out.sport = 0;
    out.dport = 0;
    out.tcp_seq = 0;
    out.tcp_ack = 0;
    out.tcp_flags = 0;
    out.tcp_window = 0;
    out.payload = {};
    out.is_fragment = false;
    out.first_fragment = false;
    out.frag_id = 0;
    out.frag_offset = 0;
    out.more_fragments = false;
  }

  // RFC 791 section 3.1.
  bool ipv4(ByteSpan data) noexcept {
    ByteReader r(data);
    const std::uint8_t version_ihl = r.u8();
    const std::size_t header_len = std::size_t{version_ihl & 0x0fU} * 4U;
    r.skip(1);
    std::size_t total_len = r.u16();
    const std::uint16_t id = r.u16();
    const std::uint16_t flags_offset = r.u16();
    const std::uint8_t ttl = r.u8();
    const std::uint8_t protocol = r.u8();
    r.skip(2);
    const ByteSpan src = r.take(4);
    const ByteSpan dst = r.take(4);
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    if (header_len < 20) {
      return fail(DecodeError::BadIpHeader);
    }
    r.skip(header_len - 20);  // options
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    out.ip_total_len = static_cast<std::uint16_t>(total_len);
    if (total_len == 0) {
      total_len = data.size();  // segmentation offload: the NIC fills the length in later
    } else if (total_len < header_len) {
      return fail(DecodeError::BadIpHeader);
    }
    reset_transport();
    out.src = IpAddress::from_bytes(src);
    out.dst = IpAddress::from_bytes(dst);
    out.ttl = ttl;
    out.l3_offset = offset_of(data);
    const ByteSpan body = clamp(data, total_len).subspan(header_len);
    const auto frag_offset = static_cast<std::uint16_t>((flags_offset & 0x1fffU) * 8U);
    const bool more = (flags_offset & 0x2000U) != 0;
    if (frag_offset != 0 || more) {
      out.is_fragment = true;
      out.first_fragment = frag_offset == 0;
      out.frag_id = id;
      out.frag_offset = frag_offset;
      out.more_fragments = more;
    }
    return transport(protocol, body);
  }

  // RFC 8200 sections 3 and 4.
  bool ipv6(ByteSpan data) noexcept {
    ByteReader r(data);
    r.skip(4);
    const std::uint16_t payload_len = r.u16();
    std::uint8_t next = r.u8();
    const std::uint8_t hop_limit = r.u8();
    const ByteSpan src = r.take(16);
    const ByteSpan dst = r.take(16);
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    reset_transport();
    out.src = IpAddress::from_bytes(src);
    out.dst = IpAddress::from_bytes(dst);
    out.ttl = hop_limit;
    out.l3_offset = offset_of(data);
    out.ip_total_len =
        static_cast<std::uint16_t>(std::min<std::size_t>(40U + payload_len, 0xffffU));
    // Payload length 0: a jumbogram or segmentation offload; use what was captured.
    ByteSpan rest = payload_len == 0 ? r.rest() : clamp(r.rest(), payload_len);
    for (int count = 0;; ++count) {
      if (count == kMaxIpv6ExtHeaders) {
        return fail(DecodeError::BadIpv6ExtHeader);
      }
      switch (next) {
        case 0:  // hop-by-hop options: only right after the fixed header
          if (count != 0) {
            return fail(DecodeError::BadIpv6ExtHeader);
          }
          [[fallthrough]];
        case 43:   // routing
        case 60:   // destination options
        case 135:  // mobility
        case 139:  // HIP
        case 140:  // shim6
        {
          ByteReader e(rest);
          const std::uint8_t following = e.u8();
          const std::size_t length = (std::size_t{e.u8()} + 1U) * 8U;
          e.skip(length - 2U);
          if (!e.ok()) {
            return fail(DecodeError::Truncated);
          }
          next = following;
          rest = e.rest();
          continue;
        }
        case 51: {  // authentication header, RFC 4302: length in 4-byte units minus 2
          ByteReader e(rest);
          const std::uint8_t following = e.u8();
          const std::size_t length = (std::size_t{e.u8()} + 2U) * 4U;
          e.skip(length - 2U);
          if (!e.ok()) {
            return fail(DecodeError::Truncated);
          }
          next = following;
          rest = e.rest();
          continue;
        }
        case 44: {  // fragment, RFC 8200 section 4.5
          ByteReader e(rest);
          const std::uint8_t following = e.u8();
          e.skip(1);
          const std::uint16_t offset_flags = e.u16();
          const std::uint32_t id = e.u32();
          if (!e.ok()) {
            return fail(DecodeError::Truncated);
          }
          next = following;
          rest = e.rest();
          const auto offset = static_cast<std::uint16_t>(offset_flags & 0xfff8U);
          const bool more = (offset_flags & 1U) != 0;
          if (offset == 0 && !more) {
            continue;  // an atomic fragment (RFC 6946): a whole packet
          }
          out.is_fragment = true;
          out.first_fragment = offset == 0;
          out.frag_id = id;
          out.frag_offset = offset;
          out.more_fragments = more;
          if (offset != 0) {
            return transport(next, rest);
          }
          continue;
        }
        default:
          return transport(next, rest);
      }
    }
  }

  bool transport(std::uint8_t protocol, ByteSpan data) noexcept {
    out.l4 = protocol;
    out.l4_offset = offset_of(data);
    if (out.is_fragment && !out.first_fragment) {
      out.payload = data;
      return true;
    }
    switch (protocol) {
      case kIpProtoTcp:
        return tcp(data);
      case kIpProtoUdp:
        return udp(data);
      case kProtoIpip:
      case kProtoIpv6InIp:
        if (out.is_fragment) {
          return true;
        }
        return enter_tunnel() && ip(data, protocol == kProtoIpip ? 4 : 6);
      case kProtoGre:
        if (out.is_fragment) {
          return true;
        }
        return gre(data);
      default:
        return true;
    }
  }

  // RFC 9293 section 3.1.
  bool tcp(ByteSpan data) noexcept {
    ByteReader r(data);
    out.sport = r.u16();
    out.dport = r.u16();
    out.tcp_seq = r.u32();
    out.tcp_ack = r.u32();
    const std::uint16_t offset_flags = r.u16();
    out.tcp_window = r.u16();
    r.skip(4);  // checksum, urgent pointer
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    const std::size_t header_len = static_cast<std::size_t>(offset_flags >> 12U) * 4U;
    out.tcp_flags = static_cast<std::uint8_t>(offset_flags & 0xffU);
    if (header_len < 20) {
      return fail(DecodeError::BadTcpHeader);
    }
    r.skip(header_len - 20);  // options
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    out.payload = r.rest();
    return true;
  }

  // RFC 768.
  bool udp(ByteSpan data) noexcept {
    ByteReader r(data);
    out.sport = r.u16();
    out.dport = r.u16();
    const std::uint16_t length = r.u16();
    r.skip(2);
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    if (out.is_fragment) {
      out.payload = r.rest();  // the UDP length covers the whole datagram, not this fragment
      return true;
    }
    if (length < 8) {
      return fail(DecodeError::BadUdpHeader);
    }
    out.payload = clamp(r.rest(), length - 8U);
    if (out.dport == kVxlanPort) {
      return vxlan(out.payload);
    }
    if (out.dport == kGenevePort) {
      return geneve(out.payload);
    }
    if (out.dport == kGtpuPort) {
      return gtpu(out.payload);
    }
    return true;
  }

  // 3GPP TS 29.281 section 5: version 1, PT 1, message type 255 (G-PDU) carries a user IP
  // packet after the 8-byte header, the optional 4 bytes (sequence number, N-PDU number, next
  // extension header type) when E, S or PN is set, and the extension headers (length in 4-byte
  // units, the last byte naming the next one). Anything else is plain UDP to port 2152.
  bool gtpu(ByteSpan data) noexcept {
    constexpr std::uint8_t kGpdu = 0xff;
    ByteReader r(data);
    const std::uint8_t flags = r.u8();
    const std::uint8_t type = r.u8();
    const std::uint16_t length = r.u16();
    r.skip(4);  // TEID
    if (!r.ok() || (flags & 0xf0U) != 0x30U || type != kGpdu) {
      return true;
    }
    ByteReader body(clamp(r.rest(), length));
    if ((flags & 0x07U) != 0) {
      body.skip(3);  // sequence number, N-PDU number
      for (std::uint8_t next = body.u8(); next != 0 && body.ok(); next = body.u8()) {
        const std::uint8_t units = body.u8();
        if (units == 0) {
          return true;
        }
        body.skip(std::size_t{units} * 4U - 2U);
      }
    }
    const ByteSpan inner = body.rest();
    if (!body.ok() || inner.empty()) {
      return true;
    }
    const auto version = static_cast<std::uint8_t>(inner[0] >> 4);
    if (version != 4 && version != 6) {
      return true;
    }
    return enter_tunnel() && ip(inner, version);
  }

  bool enter_tunnel() noexcept {
    if (out.tunnel_depth >= kMaxTunnelDepth) {
      return fail(DecodeError::TunnelTooDeep);
    }
    if (out.tunnel_depth == 0) {
      out.tunnel_src = out.src;
      out.tunnel_dst = out.dst;
    }
    ++out.tunnel_depth;
    return true;
  }

  // RFC 7348 section 5: flags (I = 0x08), 24 reserved bits, VNI, 8 reserved bits; then
  // Ethernet. Without the I flag the datagram is treated as plain UDP to port 4789.
  bool vxlan(ByteSpan data) noexcept {
    ByteReader r(data);
    const std::uint8_t flags = r.u8();
    r.skip(7);
    if (!r.ok() || (flags & 0x08U) == 0) {
      return true;
    }
    return enter_tunnel() && ethernet(r.rest());
  }

  // RFC 8926 section 3.4: version 0, options in 4-byte units, protocol type.
  bool geneve(ByteSpan data) noexcept {
    ByteReader r(data);
    const std::uint8_t version_optlen = r.u8();
    r.skip(1);
    const std::uint16_t protocol = r.u16();
    r.skip(4 + (version_optlen & 0x3fU) * 4U);
    if (!r.ok() || (version_optlen >> 6) != 0) {
      return true;  // not Geneve as we know it: plain UDP
    }
    switch (protocol) {
      case kEtherTeb:
        return enter_tunnel() && ethernet(r.rest());
      case kEtherIpv4:
        return enter_tunnel() && ip(r.rest(), 4);
      case kEtherIpv6:
        return enter_tunnel() && ip(r.rest(), 6);
      default:
        return true;
    }
  }

  // RFC 2784 and RFC 2890. Version 1 (PPTP) and unknown payloads pass through as protocol 47.
  bool gre(ByteSpan data) noexcept {
    constexpr std::uint16_t kChecksum = 0x8000;
    constexpr std::uint16_t kRouting = 0x4000;
    constexpr std::uint16_t kKey = 0x2000;
    constexpr std::uint16_t kSequence = 0x1000;
    constexpr std::uint16_t kStrictRouteAndRecursion = 0x0f00;
    ByteReader r(data);
    const std::uint16_t flags = r.u16();
    const std::uint16_t protocol = r.u16();
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    if ((flags & 0x7U) != 0) {
      return true;
    }
    if ((flags & (kRouting | kStrictRouteAndRecursion)) != 0) {
      return fail(DecodeError::BadGreHeader);
    }
    if ((flags & kChecksum) != 0) {
      r.skip(4);
    }
    if ((flags & kKey) != 0) {
      r.skip(4);
    }
    if ((flags & kSequence) != 0) {
      r.skip(4);
    }
    if (!r.ok()) {
      return fail(DecodeError::Truncated);
    }
    switch (protocol) {
      case kEtherIpv4:
        return enter_tunnel() && ip(r.rest(), 4);
      case kEtherIpv6:
        return enter_tunnel() && ip(r.rest(), 6);
      case kEtherTeb:
        return enter_tunnel() && ethernet(r.rest());
      case kEtherErspan2:  // 8-byte ERSPAN type II header
        r.skip(8);
        if (!r.ok()) {
          return fail(DecodeError::Truncated);
        }
        return enter_tunnel() && ethernet(r.rest());
      case kEtherErspan3: {  // 12-byte ERSPAN type III header, +8 with the O flag
        const ByteSpan header = r.take(12);
        if (!r.ok()) {
          return fail(DecodeError::Truncated);
        }
        if ((header[11] & 1U) != 0) {
          r.skip(8);
          if (!r.ok()) {
            return fail(DecodeError::Truncated);
          }
        }
        return enter_tunnel() && ethernet(r.rest());
      }
      default:
        return true;
    }
  }

  ByteSpan frame_;
};

}  // namespace

std::optional<LinkType> link_type_from_dlt(int dlt) noexcept {
  switch (dlt) {
    case 0:    // DLT_NULL
    case 108:  // DLT_LOOP
      return LinkType::Null;
    case 1:  // DLT_EN10MB
      return LinkType::Ethernet;
    case 12:   // DLT_RAW (most platforms)
    case 14:   // DLT_RAW (OpenBSD)
    case 101:  // LINKTYPE_RAW
      return LinkType::Raw;
    case 113:  // DLT_LINUX_SLL
      return LinkType::LinuxSll;
    case 276:  // DLT_LINUX_SLL2
      return LinkType::LinuxSll2;
    case 228:  // LINKTYPE_IPV4
      return LinkType::Ipv4;
    case 229:  // LINKTYPE_IPV6
      return LinkType::Ipv6;
    default:
      return std::nullopt;
  }
}

std::string_view describe(LinkType link) noexcept {
  switch (link) {
    case LinkType::Ethernet:
      return "ethernet";
    case LinkType::LinuxSll:
      return "linux_sll";
    case LinkType::LinuxSll2:
      return "linux_sll2";
    case LinkType::Raw:
      return "raw";
    case LinkType::Null:
      return "null";
    case LinkType::Ipv4:
      return "ipv4";
    case LinkType::Ipv6:
      return "ipv6";
  }
  return "unknown";
}

std::string_view describe(DecodeError error) noexcept {
  switch (error) {
    case DecodeError::Truncated:
      return "packet_truncated";
    case DecodeError::UnsupportedLink:
      return "packet_unsupported_link";
    case DecodeError::UnsupportedEtherType:
      return "packet_unsupported_ethertype";
    case DecodeError::BadIpVersion:
      return "packet_bad_ip_version";
    case DecodeError::BadIpHeader:
      return "packet_bad_ip_header";
    case DecodeError::BadIpv6ExtHeader:
      return "packet_bad_ipv6_ext_header";
    case DecodeError::BadTcpHeader:
      return "packet_bad_tcp_header";
    case DecodeError::BadUdpHeader:
      return "packet_bad_udp_header";
    case DecodeError::TunnelTooDeep:
      return "packet_tunnel_too_deep";
    case DecodeError::NotIp:
      return "packet_not_ip";
    case DecodeError::BadGreHeader:
      return "packet_bad_gre_header";
    case DecodeError::BadTunnelHeader:
      return "packet_bad_tunnel_header";
  }
  return "packet_unknown_error";
}

Result<PacketView, DecodeError> decode_packet(LinkType link, ByteSpan frame) noexcept {
  Decoder d(frame);
  bool ok = false;
  switch (link) {
    case LinkType::Ethernet:
      ok = d.ethernet(frame);
      break;
    case LinkType::LinuxSll:
      ok = d.linux_sll(frame);
      break;
    case LinkType::LinuxSll2:
      ok = d.linux_sll2(frame);
      break;
    case LinkType::Raw:
      ok = d.ip(frame, 0);
      break;
    case LinkType::Null:
      ok = d.null_loopback(frame);
      break;
    case LinkType::Ipv4:
      ok = d.ip(frame, 4);
      break;
    case LinkType::Ipv6:
      ok = d.ip(frame, 6);
      break;
    default:
      return fail(DecodeError::UnsupportedLink);
  }
  if (!ok) {
    return fail(d.error);
  }
  return d.out;
}

}  // namespace egressguard::parse
