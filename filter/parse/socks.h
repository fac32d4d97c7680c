// SOCKS client handshakes at the start of a TCP stream, read from the client's bytes alone:
// SOCKS 4 and its 4A extension (the "SOCKS: A protocol for TCP proxies across firewalls"
// description: VN=4, CD, DSTPORT, DSTIP, USERID NUL, and for 4A DSTIP 0.0.0.x, x != 0, followed
// by the host name and a NUL), and SOCKS 5 (RFC 1928: method greeting, then the request) with the
// username/password sub-negotiation of RFC 1929 between them.
//
// The server's replies travel in the other direction and are not needed: the client sends its
// greeting, its credentials (when it offered username/password and the next byte is the
// sub-negotiation version 1) and its request in that order, and everything after the request is
// the tunnelled stream. A client that pipelines all of it in one segment parses the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/byte_span.h"
#include "base/result.h"

namespace egressguard::parse {

enum class SocksError : std::uint8_t {
  NeedMore,         // not an error: the handshake is consistent so far but not complete
  NotSocks,         // the first bytes are not a SOCKS 4 request or SOCKS 5 greeting
  BadRequest,       // a SOCKS handshake with a malformed field (address type, empty name ...)
  TooLong,          // a SOCKS 4 USERID or host name without its NUL within the bound
  UnsupportedAuth,  // an authentication sub-negotiation other than RFC 1929 (GSSAPI ...)
};

// A snake_case label for counters, e.g. "socks_bad_request".
std::string_view describe(SocksError error) noexcept;

enum class SocksCommand : std::uint8_t { Connect = 1, Bind = 2, UdpAssociate = 3 };
enum class SocksAddressType : std::uint8_t { Ipv4, Domain, Ipv6 };

// A SOCKS 4 USERID or 4A host name longer than this, without its NUL, is refused (TooLong).
inline constexpr std::size_t kMaxSocks4Field = 1024;

// The client's request. Views into the stream given to parse_socks_request: valid only while
// that buffer is.
struct SocksRequest {
  std::uint8_t version = 0;  // 4 (4A included) or 5
  SocksCommand command = SocksCommand::Connect;
  SocksAddressType address_type = SocksAddressType::Ipv4;
  // Domain: the host name verbatim (RFC 1928 ATYP 3, or SOCKS 4A); not checked or normalised.
  std::string_view domain;
  ByteSpan address;  // Ipv4: 4 bytes, Ipv6: 16 bytes, in network order; empty for Domain
  std::uint16_t port = 0;
  bool credentials = false;  // RFC 1929 username/password sent, or a non-empty SOCKS 4 USERID
  // Client bytes the handshake took (greeting, sub-negotiation, request): the tunnelled stream
  // starts at this offset.
  std::size_t handshake_size = 0;
};

// Parses the client side of a SOCKS handshake at the start of `stream` (in order, possibly
// incomplete). NeedMore until the request is complete.
Result<SocksRequest, SocksError> parse_socks_request(ByteSpan stream) noexcept;

// A cheap check for dispatching on any port: the bytes present so far can start a SOCKS 4
// request or a SOCKS 5 greeting (at least 1 byte needed).
bool looks_like_socks(ByteSpan stream) noexcept;

}  // namespace egressguard::parse
