// Packet and message builders for parser and inspection tests: each returns the wire bytes of
// one layer around a payload, so a test composes a frame as ethernet(ipv4(tcp(payload))).
// Header-only (inline) so that tests in other folders can include it without linking anything
// but egressguard_parse. Checksums are left zero: the parsers do not verify them.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/byte_span.h"
#include "filter/parse/ip_address.h"
#include "filter/parse/packet.h"

namespace egressguard::test {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::array<std::uint8_t, 6> kMacA{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
inline constexpr std::array<std::uint8_t, 6> kMacB{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

inline void put8(Bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void put16(Bytes& out, std::uint32_t v) {
  put8(out, v >> 8);
  put8(out, v);
}
inline void put24(Bytes& out, std::uint32_t v) {
  put8(out, v >> 16);
  put16(out, v);
}
inline void put32(Bytes& out, std::uint32_t v) {
  put16(out, v >> 16);
  put16(out, v);
}
inline void append(Bytes& out, ByteSpan data) {
  out.insert(out.end(), data.begin(), data.end());
}
inline void append(Bytes& out, std::string_view text) {
  append(out, as_bytes(text));
}

inline Bytes bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}
inline Bytes cat(std::initializer_list<ByteSpan> parts) {
  Bytes out;
  for (const ByteSpan part : parts) {
    append(out, part);
  }
  return out;
}
inline Bytes with_u16_length(ByteSpan body) {
  Bytes out;
  put16(out, static_cast<std::uint32_t>(body.size()));
  append(out, body);
  return out;
}
inline Bytes with_u8_length(ByteSpan body) {
  Bytes out;
  put8(out, static_cast<std::uint32_t>(body.size()));
  append(out, body);
  return out;
}

inline Bytes address_bytes(std::string_view text) {
  const auto address = parse::IpAddress::parse(text);
  if (!address) {
    return {};
  }
  const std::size_t size = address->family == 4 ? 4 : 16;
  return {address->bytes.begin(), address->bytes.begin() + static_cast<std::ptrdiff_t>(size)};
}

// ---- L4 ----

inline Bytes tcp(std::uint16_t sport, std::uint16_t dport, ByteSpan payload,
                 std::uint8_t flags = parse::kTcpAck | parse::kTcpPsh, std::uint32_t seq = 1000,
                 std::uint32_t ack = 2000, ByteSpan options = {}) {
  Bytes out;
  put16(out, sport);
  put16(out, dport);
  put32(out, seq);
  put32(out, ack);
  const std::size_t header_words = (20 + options.size() + 3) / 4;
  put8(out, static_cast<std::uint32_t>(header_words << 4));
  put8(out, flags);
  put16(out, 65535);  // window
  put16(out, 0);      // checksum
  put16(out, 0);      // urgent
  append(out, options);
  out.resize(header_words * 4, 0);  // pad options with EOL
  append(out, payload);
  return out;
}

inline Bytes udp(std::uint16_t sport, std::uint16_t dport, ByteSpan payload) {
  Bytes out;
  put16(out, sport);
  put16(out, dport);
  put16(out, static_cast<std::uint32_t>(8 + payload.size()));
  put16(out, 0);
  append(out, payload);
  return out;
}

// ---- L3 ----

struct Ipv4Spec {
  std::string src = "10.0.0.1";
  std::string dst = "10.0.0.2";
  std::uint8_t ttl = 64;
  std::uint16_t id = 0x1234;
  std::uint16_t frag_offset = 0;  // bytes, a multiple of 8
  bool more_fragments = false;
  Bytes options{};     // padded to 4 bytes
  int total_len = -1;  // override the total length field
};

inline Bytes ipv4(const Ipv4Spec& spec, std::uint8_t protocol, ByteSpan payload) {
  Bytes options = spec.options;
  options.resize((options.size() + 3) / 4 * 4, 0);
  const std::size_t header_len = 20 + options.size();
  Bytes out;
  put8(out, static_cast<std::uint32_t>(0x40 | (header_len / 4)));
  put8(out, 0);
  put16(out, spec.total_len >= 0 ? static_cast<std::uint32_t>(spec.total_len)
                                 : static_cast<std::uint32_t>(header_len + payload.size()));
  put16(out, spec.id);
  put16(out,
        static_cast<std::uint32_t>((spec.more_fragments ? 0x2000 : 0) | (spec.frag_offset / 8)));
  put8(out, spec.ttl);
  put8(out, protocol);
  put16(out, 0);
  append(out, address_bytes(spec.src));
  append(out, address_bytes(spec.dst));
  append(out, options);
  append(out, payload);
  return out;
}

inline Bytes ipv4(std::string_view src, std::string_view dst, std::uint8_t protocol,
                  ByteSpan payload) {
  Ipv4Spec spec;
  spec.src = std::string(src);
  spec.dst = std::string(dst);
  return ipv4(spec, protocol, payload);
}

struct Ipv6Spec {
  std::string src = "fd00::1";
  std::string dst = "fd00::2";
  std::uint8_t hop_limit = 64;
  int payload_len = -1;  // override the payload length field
};

// `payload` includes any extension headers; `next` is the first next-header value.
inline Bytes ipv6(const Ipv6Spec& spec, std::uint8_t next, ByteSpan payload) {
  Bytes out;
  put32(out, 0x60000000);
  put16(out, spec.payload_len >= 0 ? static_cast<std::uint32_t>(spec.payload_len)
                                   : static_cast<std::uint32_t>(payload.size()));
  put8(out, next);
  put8(out, spec.hop_limit);
  append(out, address_bytes(spec.src));
  append(out, address_bytes(spec.dst));
  append(out, payload);
  return out;
}

inline Bytes ipv6(std::string_view src, std::string_view dst, std::uint8_t next, ByteSpan payload) {
  Ipv6Spec spec;
  spec.src = std::string(src);
  spec.dst = std::string(dst);
  return ipv6(spec, next, payload);
}

// A hop-by-hop / routing / destination-options header of 8 * (units + 1) bytes (PadN filled),
// followed by `rest`.
inline Bytes ipv6_ext(std::uint8_t next, std::size_t units, ByteSpan rest) {
  Bytes out;
  put8(out, next);
  put8(out, static_cast<std::uint32_t>(units));
  put8(out, 1);  // PadN
  put8(out, static_cast<std::uint32_t>(8 * (units + 1) - 4));
  out.resize(8 * (units + 1), 0);
  append(out, rest);
  return out;
}

inline Bytes ipv6_fragment(std::uint8_t next, std::uint16_t offset, bool more, std::uint32_t id,
                           ByteSpan rest) {
  Bytes out;
  put8(out, next);
  put8(out, 0);
  put16(out, static_cast<std::uint32_t>((offset & 0xfff8) | (more ? 1 : 0)));
  put32(out, id);
  append(out, rest);
  return out;
}

// ---- L2 ----

struct VlanTag {
  std::uint16_t tpid = 0x8100;
  std::uint16_t vid = 0;
};

inline Bytes ethernet(std::uint16_t ethertype, ByteSpan payload,
                      std::initializer_list<VlanTag> tags = {},
                      const std::array<std::uint8_t, 6>& src = kMacA) {
  Bytes out(kMacB.begin(), kMacB.end());
  append(out, src);
  for (const VlanTag& tag : tags) {
    put16(out, tag.tpid);
    put16(out, tag.vid);
  }
  put16(out, ethertype);
  append(out, payload);
  return out;
}

inline Bytes linux_sll(std::uint16_t protocol, ByteSpan payload, std::uint16_t hatype = 1,
                       const std::array<std::uint8_t, 6>& src = kMacA) {
  Bytes out;
  put16(out, 0);  // packet type: to us
  put16(out, hatype);
  put16(out, 6);
  append(out, src);
  put16(out, 0);  // address padding to 8 bytes
  put16(out, protocol);
  append(out, payload);
  return out;
}

inline Bytes linux_sll2(std::uint16_t protocol, ByteSpan payload, std::uint16_t hatype = 1,
                        const std::array<std::uint8_t, 6>& src = kMacA) {
  Bytes out;
  put16(out, protocol);
  put16(out, 0);
  put32(out, 3);  // ifindex
  put16(out, hatype);
  put8(out, 4);  // packet type: outgoing
  put8(out, 6);
  append(out, src);
  put16(out, 0);
  append(out, payload);
  return out;
}

inline Bytes null_loopback(std::uint32_t family, bool little_endian, ByteSpan payload) {
  Bytes out;
  if (little_endian) {
    put8(out, family);
    put8(out, family >> 8);
    put8(out, family >> 16);
    put8(out, family >> 24);
  } else {
    put32(out, family);
  }
  append(out, payload);
  return out;
}

// ---- tunnels ----

struct GreSpec {
  bool checksum = false;
  bool key = false;
  bool sequence = false;
};

inline Bytes gre(std::uint16_t protocol, ByteSpan payload, GreSpec spec = {}) {
  Bytes out;
  put16(out, static_cast<std::uint32_t>((spec.checksum ? 0x8000 : 0) | (spec.key ? 0x2000 : 0) |
                                        (spec.sequence ? 0x1000 : 0)));
  put16(out, protocol);
  if (spec.checksum) {
    put32(out, 0);
  }
  if (spec.key) {
    put32(out, 0xcafe);
  }
  if (spec.sequence) {
    put32(out, 7);
  }
  append(out, payload);
  return out;
}

inline Bytes vxlan(std::uint32_t vni, ByteSpan inner_frame) {
  Bytes out;
  put32(out, 0x08000000);
  put32(out, vni << 8);
  append(out, inner_frame);
  return out;
}

// ---- DNS ----

// "a.b" -> 1 'a' 1 'b' 0; "" -> the root.
inline Bytes dns_name(std::string_view dotted) {
  Bytes out;
  while (!dotted.empty()) {
    const std::size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    put8(out, static_cast<std::uint32_t>(label.size()));
    append(out, label);
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  put8(out, 0);
  return out;
}

inline Bytes dns_header(std::uint16_t id, std::uint16_t flags, std::uint16_t qdcount,
                        std::uint16_t ancount = 0) {
  Bytes out;
  put16(out, id);
  put16(out, flags);
  put16(out, qdcount);
  put16(out, ancount);
  put16(out, 0);
  put16(out, 0);
  return out;
}

inline Bytes dns_query(std::uint16_t id, std::string_view name, std::uint16_t qtype = 1) {
  Bytes out = dns_header(id, 0x0100, 1);
  append(out, dns_name(name));
  put16(out, qtype);
  put16(out, 1);
  return out;
}

// ---- TLS ----

struct ClientHelloSpec {
  std::string sni{};  // no server_name extension when empty
  std::vector<std::string> alpn{};
  bool ech = false;
  bool esni = false;
  bool quic_transport_params = false;
  bool tls13 = true;
  std::size_t key_share_bytes = 32;  // X25519; ~1.2 KB with an ML-KEM hybrid
  std::size_t padding = 0;
  std::vector<std::pair<std::uint16_t, Bytes>> extra_extensions{};
};

inline Bytes extension(std::uint16_t type, ByteSpan body) {
  Bytes out;
  put16(out, type);
  append(out, with_u16_length(body));
  return out;
}

inline Bytes sni_extension(std::string_view host) {
  Bytes entry;
  put8(entry, 0);
  append(entry, with_u16_length(as_bytes(host)));
  return extension(0, with_u16_length(entry));
}

// A ClientHello handshake message (type 1, u24 length) without the record layer.
inline Bytes client_hello(const ClientHelloSpec& spec) {
  Bytes extensions;
  if (!spec.sni.empty()) {
    append(extensions, sni_extension(spec.sni));
  }
  append(extensions, extension(23, {}));                             // extended_master_secret
  append(extensions, extension(0xff01, Bytes{0}));                   // renegotiation_info
  append(extensions, extension(10, Bytes{0, 4, 0, 0x1d, 0, 0x17}));  // supported_groups
  append(extensions, extension(11, Bytes{1, 0}));                    // ec_point_formats
  append(extensions, extension(35, {}));                             // session_ticket
  if (!spec.alpn.empty()) {
    Bytes list;
    for (const std::string& protocol : spec.alpn) {
      append(list, with_u8_length(as_bytes(protocol)));
    }
    append(extensions, extension(16, with_u16_length(list)));
  }
  append(extensions, extension(5, Bytes{1, 0, 0, 0, 0}));      // status_request
  append(extensions, extension(13, Bytes{0, 4, 4, 3, 8, 4}));  // signature_algorithms
  if (spec.tls13) {
    append(extensions, extension(43, Bytes{4, 3, 4, 3, 3}));  // supported_versions
    append(extensions, extension(45, Bytes{1, 1}));           // psk_key_exchange_modes
    Bytes share;
    put16(share, 0x1d);
    append(share, with_u16_length(Bytes(spec.key_share_bytes, 0x42)));
    append(extensions, extension(51, with_u16_length(share)));  // key_share
  }
  if (spec.quic_transport_params) {
    append(extensions, extension(0x39, Bytes{1, 2, 0x40, 0x64}));
  }
  if (spec.esni) {
    append(extensions, extension(0xffce, Bytes(40, 0x11)));
  }
  if (spec.ech) {
    append(extensions, extension(0xfe0d, Bytes(200, 0x22)));
  }
  for (const auto& [type, body] : spec.extra_extensions) {
    append(extensions, extension(type, body));
  }
  if (spec.padding != 0) {
    append(extensions, extension(21, Bytes(spec.padding, 0)));
  }
  Bytes body;
  put16(body, 0x0303);
  append(body, Bytes(32, 0xab));                  // random
  append(body, with_u8_length(Bytes(32, 0xcd)));  // session id
  append(body, with_u16_length(Bytes{0x13, 0x01, 0x13, 0x02, 0xc0, 0x2b, 0xc0, 0x2f}));
  append(body, with_u8_length(Bytes{0}));  // null compression
  append(body, with_u16_length(extensions));
  Bytes out;
  put8(out, 1);
  put24(out, static_cast<std::uint32_t>(body.size()));
  append(out, body);
  return out;
}

// Roughly what Chrome sends: GREASE, 16+ extensions, X25519 + ML-KEM hybrid key share.
inline Bytes chrome_like_client_hello(std::string_view sni) {
  ClientHelloSpec spec;
  spec.sni = std::string(sni);
  spec.alpn = {"h2", "http/1.1"};
  spec.key_share_bytes = 1216;
  spec.extra_extensions = {
      {0x0a0a, {}},                       // GREASE
      {18, {}},                           // signed_certificate_timestamp
      {27, Bytes{2, 0, 2}},               // compress_certificate (brotli)
      {17513, Bytes{0, 3, 2, 'h', '2'}},  // application_settings
      {0xfe0d, Bytes(186, 0x5a)},         // ECH GREASE
      {0x1a1a, Bytes{0}},                 // GREASE
  };
  return client_hello(spec);
}

// Wraps a handshake message in TLS records of at most `max_fragment` bytes each.
inline Bytes tls_records(ByteSpan handshake, std::size_t max_fragment = 16384,
                         std::uint8_t minor = 1) {
  Bytes out;
  for (std::size_t at = 0; at < handshake.size(); at += max_fragment) {
    const ByteSpan part = handshake.subspan(at, std::min(max_fragment, handshake.size() - at));
    put8(out, 22);
    put8(out, 3);
    put8(out, minor);
    append(out, with_u16_length(part));
  }
  return out;
}

}  // namespace egressguard::test
