#include "filter/parse/tls_client_hello.h"

#include <algorithm>

#include "base/byte_reader.h"

namespace egressguard::parse {
namespace {

constexpr std::uint8_t kContentHandshake = 22;
constexpr std::uint8_t kHandshakeClientHello = 1;
constexpr std::size_t kRecordHeaderSize = 5;
constexpr std::size_t kHandshakeHeaderSize = 4;
// RFC 8446 section 5.1: a plaintext record fragment is at most 2^14 bytes.
constexpr std::size_t kMaxRecordFragment = 16384;

constexpr std::uint16_t kExtServerName = 0;
constexpr std::uint16_t kExtAlpn = 16;
constexpr std::uint16_t kExtSupportedVersions = 43;
constexpr std::uint16_t kExtQuicTransportParams = 0x39;
constexpr std::uint16_t kExtQuicTransportParamsDraft = 0xffa5;
constexpr std::uint16_t kExtEch = 0xfe0d;
constexpr std::uint16_t kExtEsni = 0xffce;

bool is_plain_host_byte(std::uint8_t c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '.' || c == '_';
}

// RFC 6066 section 3: server_name_list of (name_type, opaque name<1..2^16-1>).
bool parse_server_name(ByteSpan data, ClientHelloInfo& info) noexcept {
  ByteReader r(data);
  ByteReader list(r.take(r.u16()));
  if (!r.ok() || !r.empty()) {
    return false;
  }
  while (!list.empty()) {
    const std::uint8_t name_type = list.u8();
    const ByteSpan name = list.take(list.u16());
    if (!list.ok()) {
      return false;
    }
    if (name_type == 0 && !info.has_sni) {
      info.has_sni = true;
      info.sni = as_chars(name);
      info.sni_odd_bytes = !std::all_of(name.begin(), name.end(), is_plain_host_byte);
    }
  }
  return true;
}

bool parse_alpn(ByteSpan data, ClientHelloInfo& info) noexcept {
  ByteReader r(data);
  const ByteSpan list = r.take(r.u16());
  if (!r.ok() || !r.empty()) {
    return false;
  }
  // Check the inner names once so that alpn_offers() can trust the framing.
  ByteReader names(list);
  while (!names.empty()) {
    names.skip(names.u8());
  }
  if (!names.ok()) {
    return false;
  }
  info.alpn = list;
  return true;
}

bool parse_supported_versions(ByteSpan data, ClientHelloInfo& info) noexcept {
  ByteReader r(data);
  ByteReader versions(r.take(r.u8()));
  if (!r.ok()) {
    return false;
  }
  while (versions.remaining() >= 2) {
    if (versions.u16() == 0x0304) {
      info.offers_tls13 = true;
    }
  }
  return true;
}

}  // namespace

std::string_view describe(TlsParseError error) noexcept {
  switch (error) {
    case TlsParseError::NeedMore:
      return "tls_need_more";
    case TlsParseError::NotTls:
      return "tls_not_tls";
    case TlsParseError::NotHandshake:
      return "tls_not_handshake";
    case TlsParseError::NotClientHello:
      return "tls_not_client_hello";
    case TlsParseError::BadLength:
      return "tls_bad_length";
    case TlsParseError::BadExtension:
      return "tls_bad_extension";
    case TlsParseError::TooLarge:
      return "tls_too_large";
    case TlsParseError::Truncated:
      return "tls_truncated";
  }
  return "tls_unknown_error";
}

namespace {

// parse_client_hello, or with `salvage` the lenient reading of salvage_client_hello_sni: the
// extension block may overrun the body, the extension list may break off, and extensions other
// than server_name are not validated; the server_name extension itself stays strict.
Result<ClientHelloInfo, TlsParseError> read_client_hello(ByteSpan handshake,
                                                         bool salvage) noexcept {
  ByteReader r(handshake);
  const std::uint8_t type = r.u8();
  const std::uint32_t length = r.u24();
  if (!r.ok()) {
    return fail(TlsParseError::Truncated);
  }
  if (type != kHandshakeClientHello) {
    return fail(TlsParseError::NotClientHello);
  }
  ByteReader body(r.take(length));
  if (!r.ok()) {
    return fail(TlsParseError::Truncated);
  }
  ClientHelloInfo info;
  info.legacy_version = body.u16();
  body.skip(32);  // random
  const std::uint8_t session_id_len = body.u8();
  body.skip(session_id_len);
  const std::uint16_t cipher_suites_len = body.u16();
  body.skip(cipher_suites_len);
  const std::uint8_t compression_len = body.u8();
  body.skip(compression_len);
  if (!body.ok()) {
    return fail(TlsParseError::BadLength);
  }
  if (session_id_len > 32 || cipher_suites_len < 2 || cipher_suites_len % 2 != 0 ||
      compression_len < 1) {
    return fail(TlsParseError::BadLength);
  }
  if (body.empty()) {
    if (salvage) {
      return fail(TlsParseError::BadExtension);
    }
    return info;  // no extensions (SSL 3.0 style): no SNI
  }
  const std::uint16_t extensions_length = body.u16();
  ByteReader extensions(body.take(
      salvage ? std::min<std::size_t>(extensions_length, body.remaining()) : extensions_length));
  if (!body.ok() || (!salvage && !body.empty())) {
    return fail(TlsParseError::BadLength);
  }
  while (!extensions.empty()) {
    const std::uint16_t ext_type = extensions.u16();
    const ByteSpan ext = extensions.take(extensions.u16());
    if (!extensions.ok()) {
      if (salvage && info.has_sni) {
        return info;  // the list breaks off after a complete server_name
      }
      return fail(TlsParseError::BadExtension);
    }
    ++info.extension_count;
    switch (ext_type) {
      case kExtServerName:
        // Two server_name extensions would let a filter and a server disagree on the name.
        if (info.has_sni || !parse_server_name(ext, info)) {
          return fail(TlsParseError::BadExtension);
        }
        break;
      case kExtAlpn:
        if (!parse_alpn(ext, info) && !salvage) {
          return fail(TlsParseError::BadExtension);
        }
        break;
      case kExtSupportedVersions:
        if (!parse_supported_versions(ext, info) && !salvage) {
          return fail(TlsParseError::BadExtension);
        }
        break;
      case kExtEch:
        info.has_ech = true;
        break;
      case kExtEsni:
        info.has_esni = true;
        break;
      case kExtQuicTransportParams:
      case kExtQuicTransportParamsDraft:
        info.has_quic_transport_params = true;
        break;
      default:
        break;
    }
  }
  if (salvage && !info.has_sni) {
    return fail(TlsParseError::BadExtension);
  }
  return info;
}

}  // namespace

Result<ClientHelloInfo, TlsParseError> parse_client_hello(ByteSpan handshake) noexcept {
  return read_client_hello(handshake, false);
}

Result<ClientHelloInfo, TlsParseError> salvage_client_hello_sni(ByteSpan handshake) noexcept {
  return read_client_hello(handshake, true);
}

Result<ByteSpan, TlsParseError> assemble_client_hello(ByteSpan stream,
                                                      std::span<std::uint8_t> scratch) noexcept {
  std::size_t copied = 0;
  std::size_t needed = 0;  // 4 + handshake length, once the handshake header is known
  ByteReader r(stream);
  for (bool first = true;; first = false) {
    if (r.empty()) {
      return fail(TlsParseError::NeedMore);
    }
    ByteReader header(r.rest());
    const std::uint8_t content_type = header.u8();
    const std::uint8_t major = header.u8();
    const std::uint8_t minor = header.u8();
    const std::uint16_t record_len = header.u16();
    // Check what is present of the header before waiting for the rest.
    const bool version_ok =
        (header.position() < 2 || major == 3) && (header.position() < 3 || minor <= 4);
    if (content_type != kContentHandshake || !version_ok) {
      if (first) {
        return fail(TlsParseError::NotTls);
      }
      return fail(version_ok ? TlsParseError::NotHandshake : TlsParseError::NotTls);
    }
    if (!header.ok()) {
      return fail(TlsParseError::NeedMore);
    }
    if (record_len == 0 || record_len > kMaxRecordFragment) {
      return fail(TlsParseError::BadLength);  // RFC 8446 section 5.1
    }
    r.skip(kRecordHeaderSize);
    const std::size_t available = std::min<std::size_t>(r.remaining(), record_len);
    const ByteSpan fragment = r.take(available);
    // The handshake header, as far as it is known.
    if (copied == 0 && fragment.size() >= kHandshakeHeaderSize) {
      ByteReader hs(fragment);
      const std::uint8_t hs_type = hs.u8();
      needed = kHandshakeHeaderSize + hs.u24();
      if (hs_type != kHandshakeClientHello) {
        return fail(TlsParseError::NotClientHello);
      }
      if (fragment.size() >= needed) {
        return fragment.first(needed);  // the common case: all in the first record, no copy
      }
    } else if (copied == 0 && !fragment.empty() && fragment[0] != kHandshakeClientHello) {
      return fail(TlsParseError::NotClientHello);
    }
    if (needed > scratch.size()) {
      return fail(TlsParseError::TooLarge);
    }
    // Copy this fragment (only what belongs to the message while its size is known).
    std::size_t take = fragment.size();
    if (needed != 0) {
      take = std::min(take, needed - copied);
    }
    if (copied + take > scratch.size()) {
      return fail(TlsParseError::TooLarge);
    }
    std::copy(fragment.begin(), fragment.begin() + static_cast<std::ptrdiff_t>(take),
              scratch.begin() + static_cast<std::ptrdiff_t>(copied));
    copied += take;
    if (needed == 0 && copied >= kHandshakeHeaderSize) {
      ByteReader hs(ByteSpan(scratch.data(), copied));
      const std::uint8_t hs_type = hs.u8();
      needed = kHandshakeHeaderSize + hs.u24();
      if (hs_type != kHandshakeClientHello) {
        return fail(TlsParseError::NotClientHello);
      }
      if (needed > scratch.size()) {
        return fail(TlsParseError::TooLarge);
      }
      copied = std::min(copied, needed);
    }
    if (needed != 0 && copied >= needed) {
      return ByteSpan(scratch.data(), needed);
    }
    if (available < record_len) {
      return fail(TlsParseError::NeedMore);  // the stream ends inside this record
    }
  }
}

bool looks_like_tls(ByteSpan stream) noexcept {
  // Record header: type 22, version 3.0-3.4, length; then handshake type 1.
  if (stream.empty() || stream[0] != kContentHandshake) {
    return false;
  }
  if (stream.size() >= 2 && stream[1] != 3) {
    return false;
  }
  if (stream.size() >= 3 && stream[2] > 4) {
    return false;
  }
  if (stream.size() >= 6 && stream[5] != kHandshakeClientHello) {
    return false;
  }
  return true;
}

bool alpn_offers(ByteSpan alpn, std::string_view protocol) noexcept {
  ByteReader r(alpn);
  while (!r.empty()) {
    const ByteSpan name = r.take(r.u8());
    if (!r.ok()) {
      return false;
    }
    if (as_chars(name) == protocol) {
      return true;
    }
  }
  return false;
}

}  // namespace egressguard::parse
