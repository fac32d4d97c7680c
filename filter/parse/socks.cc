#include "filter/parse/socks.h"

#include <algorithm>

#include "base/byte_reader.h"

namespace egressguard::parse {
namespace {

constexpr std::uint8_t kSocks4 = 4;
constexpr std::uint8_t kSocks5 = 5;
constexpr std::uint8_t kAuthSubnegotiationVersion = 1;  // RFC 1929 section 2
constexpr std::uint8_t kMethodGssapi = 0x01;            // RFC 1928 section 3
constexpr std::uint8_t kMethodUserPass = 0x02;
constexpr std::uint8_t kMethodNoAcceptable = 0xff;  // a server's answer, never offered
constexpr std::uint8_t kAtypIpv4 = 1;               // RFC 1928 section 5
constexpr std::uint8_t kAtypDomain = 3;
constexpr std::uint8_t kAtypIpv6 = 4;

// A NUL-terminated SOCKS 4 field at the reader's position: the bytes before the NUL, the reader
// moved past the NUL. NeedMore while no NUL has arrived, TooLong past kMaxSocks4Field.
Result<ByteSpan, SocksError> read_nul_terminated(ByteReader& r) noexcept {
  const ByteSpan rest = r.rest();
  const ByteSpan window = rest.first(std::min(rest.size(), kMaxSocks4Field + 1));
  const auto nul = std::find(window.begin(), window.end(), std::uint8_t{0});
  if (nul == window.end()) {
    return fail(rest.size() > kMaxSocks4Field ? SocksError::TooLong : SocksError::NeedMore);
  }
  const ByteSpan field = r.take(static_cast<std::size_t>(nul - window.begin()));
  r.skip(1);
  return field;
}

Result<SocksRequest, SocksError> parse_socks4(ByteSpan stream) noexcept {
  ByteReader r(stream);
  SocksRequest request;
  request.version = r.u8();
  const std::uint8_t command = r.u8();
  if (!r.ok()) {
    return fail(SocksError::NeedMore);
  }
  if (command != static_cast<std::uint8_t>(SocksCommand::Connect) &&
      command != static_cast<std::uint8_t>(SocksCommand::Bind)) {
    return fail(SocksError::NotSocks);
  }
  request.command = static_cast<SocksCommand>(command);
  request.port = r.u16();
  request.address = r.take(4);
  if (!r.ok()) {
    return fail(SocksError::NeedMore);
  }
  const auto userid = read_nul_terminated(r);
  if (!userid) {
    return fail(userid.error());
  }
  request.credentials = !userid->empty();
  // SOCKS 4A: DSTIP 0.0.0.x with x != 0 says "the host name follows the USERID".
  const ByteSpan ip = request.address;
  if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0) {
    const auto host = read_nul_terminated(r);
    if (!host) {
      return fail(host.error());
    }
    if (host->empty()) {
      return fail(SocksError::BadRequest);
    }
    request.address_type = SocksAddressType::Domain;
    request.address = {};
    request.domain = as_chars(*host);
  }
  request.handshake_size = r.position();
  return request;
}

Result<SocksRequest, SocksError> parse_socks5(ByteSpan stream) noexcept {
  ByteReader r(stream);
  SocksRequest request;
  request.version = r.u8();
  // Greeting (RFC 1928 section 3): VER, NMETHODS (1..255), METHODS.
  const std::uint8_t method_count = r.u8();
  if (!r.ok()) {
    return fail(SocksError::NeedMore);
  }
  if (method_count == 0) {
    return fail(SocksError::NotSocks);
  }
  const ByteSpan present = r.rest().first(std::min<std::size_t>(r.remaining(), method_count));
  if (std::find(present.begin(), present.end(), kMethodNoAcceptable) != present.end()) {
    return fail(SocksError::NotSocks);
  }
  const ByteSpan methods = r.take(method_count);
  if (!r.ok()) {
    return fail(SocksError::NeedMore);
  }
  const auto offers = [&methods](std::uint8_t method) {
    return std::find(methods.begin(), methods.end(), method) != methods.end();
  };

  ByteReader peek = r;
  const std::uint8_t next = peek.u8();
  if (!peek.ok()) {
    return fail(SocksError::NeedMore);
  }
  if (next == kAuthSubnegotiationVersion) {
    // RFC 1929 section 2: VER 1, ULEN, UNAME, PLEN, PASSWD. GSSAPI (RFC 1961) messages start
    // with version 1 too: only a client that offered username/password is read this way.
    if (!offers(kMethodUserPass)) {
      return fail(offers(kMethodGssapi) ? SocksError::UnsupportedAuth : SocksError::BadRequest);
    }
    r.skip(1);
    r.skip(r.u8());  // UNAME (RFC 1929 says 1..255; empty names are seen and harmless here)
    r.skip(r.u8());  // PASSWD
    if (!r.ok()) {
      return fail(SocksError::NeedMore);
    }
    request.credentials = true;
  } else if (next != kSocks5) {
    return fail(SocksError::NotSocks);
  }

  // Request (RFC 1928 section 4): VER, CMD, RSV, ATYP, DST.ADDR, DST.PORT. RSV is not checked:
  // servers ignore it, so refusing it would only let a request through unread.
  const std::uint8_t version = r.u8();
  if (!r.ok()) {
    return fail(SocksError::NeedMore);
  }
  if (version != kSocks5) {
    return fail(SocksError::BadRequest);
  }
  const std::uint8_t command = r.u8();
  if (!r.ok()) {
    return fail(SocksError::NeedMore);
  }
  if (command < static_cast<std::uint8_t>(SocksCommand::Connect) ||
      command > static_cast<std::uint8_t>(SocksCommand::UdpAssociate)) {
    return fail(SocksError::BadRequest);
  }
  r.skip(1);
  const std::uint8_t address_type = r.u8();
  if (!r.ok()) {
    return fail(SocksError::NeedMore);
  }
  request.command = static_cast<SocksCommand>(command);
  switch (address_type) {
    case kAtypIpv4:
      request.address = r.take(4);
      break;
    case kAtypIpv6:
      request.address_type = SocksAddressType::Ipv6;
      request.address = r.take(16);
      break;
    case kAtypDomain: {
      const std::uint8_t length = r.u8();
      if (r.ok() && length == 0) {
        return fail(SocksError::BadRequest);
      }
      request.address_type = SocksAddressType::Domain;
      request.domain = as_chars(r.take(length));
      break;
    }
    default:
      return fail(SocksError::BadRequest);
  }
  request.port = r.u16();
  if (!r.ok()) {
    return fail(SocksError::NeedMore);
  }
  request.handshake_size = r.position();
  return request;
}

}  // namespace

std::string_view describe(SocksError error) noexcept {
  switch (error) {
    case SocksError::NeedMore:
      return "socks_need_more";
    case SocksError::NotSocks:
      return "socks_not_socks";
    case SocksError::BadRequest:
      return "socks_bad_request";
    case SocksError::TooLong:
      return "socks_too_long";
    case SocksError::UnsupportedAuth:
      return "socks_unsupported_auth";
  }
  return "socks_unknown_error";
}

Result<SocksRequest, SocksError> parse_socks_request(ByteSpan stream) noexcept {
  if (stream.empty()) {
    return fail(SocksError::NeedMore);
  }
  switch (stream[0]) {
    case kSocks4:
      return parse_socks4(stream);
    case kSocks5:
      return parse_socks5(stream);
    default:
      return fail(SocksError::NotSocks);
  }
}

bool looks_like_socks(ByteSpan stream) noexcept {
  const auto request = parse_socks_request(stream);
  return request.has_value() || request.error() != SocksError::NotSocks;
}

}  // namespace egressguard::parse
