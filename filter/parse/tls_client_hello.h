// TLS ClientHello parsing (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2) and reassembly of
// the ClientHello handshake message from the TLS records at the start of a TCP stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/byte_span.h"
#include "base/result.h"

namespace egressguard::parse {

enum class TlsParseError : std::uint8_t {
  NeedMore,        // not an error: the stream ends before the ClientHello is complete
  NotTls,          // the first bytes are not a TLS handshake record (e.g. HTTP)
  NotHandshake,    // a TLS record of another content type where handshake data is expected
  NotClientHello,  // a handshake message other than ClientHello (e.g. the server's side)
  BadLength,       // a length field inconsistent with its container
  BadExtension,    // a malformed extension (SNI, ALPN) or a duplicated server_name
  TooLarge,        // the ClientHello does not fit the caller's scratch buffer
  Truncated,       // the handshake message is shorter than its header says
};

// A snake_case label for counters, e.g. "tls_truncated".
std::string_view describe(TlsParseError error) noexcept;

// What a ClientHello shows on the wire. Views into the handshake buffer given to
// parse_client_hello: valid only while that buffer (the packet, the stream or the scratch
// buffer) is.
struct ClientHelloInfo {
  // First host_name entry of server_name (RFC 6066 section 3), verbatim; empty when absent.
  // With ECH this is the outer (public) name.
  std::string_view sni;
  // protocol_name_list of ALPN (RFC 7301 section 3.1) without its 2-byte length: a sequence of
  // 1-byte-length-prefixed names. Empty when absent. See alpn_offers().
  ByteSpan alpn;
  std::uint16_t legacy_version = 0;  // 0x0303 for TLS 1.2 and 1.3
  bool has_sni = false;
  bool has_ech = false;        // encrypted_client_hello, 0xfe0d
  bool has_esni = false;       // draft ESNI, 0xffce
  bool sni_odd_bytes = false;  // a byte outside [0-9A-Za-z._-] in the SNI: escape before logging
  bool offers_tls13 = false;   // supported_versions lists 0x0304
  std::uint16_t extension_count = 0;
  bool has_quic_transport_params = false;  // 0x39 or draft 0xffa5
};

// Parses one complete handshake message starting at its header (type 1, u24 length), as
// returned by assemble_client_hello or carried in QUIC CRYPTO frames. Bytes after the message
// are ignored.
Result<ClientHelloInfo, TlsParseError> parse_client_hello(ByteSpan handshake) noexcept;

// For a ClientHello that parse_client_hello refused: its server_name when the message is
// well-formed up to the extension list and that list frames correctly up to and including one
// well-formed server_name extension; after it the list may break off or overrun the message, and
// the contents of other extensions (ALPN, supported_versions) are not checked. No server
// completes a handshake on such a ClientHello, so the name only says what the client asked for:
// deciding on it adds a name where there was none, never hides one. A duplicated or malformed
// server_name, a break before it, or a broken header still fail (BadExtension when the message
// has no server_name to salvage). Same view rules as parse_client_hello.
Result<ClientHelloInfo, TlsParseError> salvage_client_hello_sni(ByteSpan handshake) noexcept;

// The handshake message size assemble_client_hello callers should allow: big enough for
// post-quantum key shares (a few KB) with room to spare.
inline constexpr std::size_t kClientHelloScratchSize = std::size_t{16} * 1024;

// `stream` is the start of a TCP stream (in order, possibly incomplete): TLS records of type 22.
// Returns the complete ClientHello handshake message: a view into `stream` when the first
// record holds all of it, otherwise the fragments of consecutive records copied into `scratch`
// and a view into `scratch`. NeedMore when the stream ends first, TooLarge when the message
// exceeds `scratch`, NotTls when the stream does not start with a TLS handshake record.
Result<ByteSpan, TlsParseError> assemble_client_hello(ByteSpan stream,
                                                      std::span<std::uint8_t> scratch) noexcept;

// A cheap check for dispatching on any port: true when the bytes present so far are consistent
// with the start of a TLS handshake record carrying a ClientHello (at least 1 byte needed).
bool looks_like_tls(ByteSpan stream) noexcept;

// True when the ALPN protocol_name_list offers `protocol` (e.g. "h2", "http/1.1").
bool alpn_offers(ByteSpan alpn, std::string_view protocol) noexcept;

}  // namespace egressguard::parse
