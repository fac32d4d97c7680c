// QUIC client Initial packets: removes header protection and decrypts them with the version's
// public initial keys (RFC 9001 section 5, RFC 9369 section 3.3), and returns the CRYPTO frame
// data they carry. Reassembling CRYPTO data across datagrams and parsing the ClientHello is the
// caller's job (filter/parse/tls_client_hello.h). Google QUIC's plaintext CHLO (Q043/Q046 and
// older) is read by gquic_chlo_sni().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/byte_span.h"
#include "base/result.h"
#include "filter/parse/quic_versions.h"

namespace egressguard::parse {

enum class QuicError : std::uint8_t {
  NotQuic,             // not a QUIC packet of a kind read here
  NotInitial,          // long header, supported version, but not an Initial packet
  ShortHeader,         // 1-RTT packet: nothing to decrypt without the handshake keys
  UnsupportedVersion,  // version with no known public initial keys
  VersionNegotiation,  // version 0 (RFC 9000 section 17.2.1)
  GquicPlaintext,      // Google QUIC <= Q049: CHLO in plaintext, use gquic_chlo_sni()
  Truncated,           // a field runs past the end of the datagram
  BadLength,           // a length is invalid (CID > 20 bytes, payload too short to sample)
  DecryptFailed,       // authentication failed with every candidate key
  BadFrame,            // malformed frame, or a frame type not allowed in an Initial packet
  TooManyChunks,       // more CRYPTO frames than QuicInitialInfo::chunks holds
  ScratchTooSmall,     // the caller's scratch cannot hold the plaintext
  NoChlo,              // gQUIC: no CHLO message found
  NoSni,               // gQUIC: CHLO without an SNI tag
  CryptoUnavailable,   // OpenSSL lacks SHA-256 or AES-128-GCM/ECB (e.g. restricted provider)
};

// Counter label for `error`, e.g. "quic_decrypt_failed".
std::string_view describe(QuicError error) noexcept;

// One CRYPTO frame: `data` is a view into the caller's scratch.
struct QuicCryptoChunk {
  std::uint64_t offset = 0;
  ByteSpan data;
};

// What decrypt_client_initial() found. dcid/scid/token are views into the datagram, chunk data
// views into the scratch: valid only while both buffers are.
struct QuicInitialInfo {
  static constexpr std::size_t kMaxChunks = 32;

  std::uint32_t version = 0;   // of the first packet
  QuicVersionInfo protection;  // salts, labels and frame encoding used
  ByteSpan dcid, scid, token;  // of the first packet
  ByteSpan key_dcid;           // the DCID the keys were derived from (argument or packet's own)
  // CRYPTO frames of every Initial packet coalesced in the datagram, in wire order (not sorted).
  std::array<QuicCryptoChunk, kMaxChunks> chunks{};
  std::size_t chunk_count = 0;
  std::size_t initial_packets = 0;        // coalesced Initial packets decrypted
  std::uint32_t first_packet_number = 0;  // truncated packet number of the first packet
  bool has_padding = false;               // PADDING frames seen
  bool has_ack = false;                   // ACK frames seen (not a client's first flight)
  bool other_packets = false;  // the datagram continues with a non-Initial packet (0-RTT, ...)
  // First failure on a coalesced packet after the first (the first packets' data is kept).
  bool trailing_error = false;
  QuicError trailing_error_kind = QuicError::Truncated;

  std::span<const QuicCryptoChunk> crypto_chunks() const noexcept {
    return {chunks.data(), chunk_count};
  }
};

// Plaintext is never larger than the datagram, so scratch of the largest datagram accepted is
// enough; this size covers datagrams of 8 KiB.
inline constexpr std::size_t kQuicScratchSize = 8192;

// Parses a UDP datagram sent by a client. For every coalesced long-header Initial packet (stopping
// at the first other packet), removes header protection and decrypts it with the version's
// initial keys derived from `key_dcid` (the DCID of the client's first Initial of the flow, which
// the caller keeps because later Initials may carry the server's CID; empty: the packet's own
// DCID). If `key_dcid` fails and the packet's own DCID differs, that is tried too (the client
// restarted after a Retry): callers keep info.key_dcid of each success as the flow's key DCID.
// Collects CRYPTO frames; PADDING, PING, ACK and CONNECTION_CLOSE are skipped; any other frame is
// BadFrame. Plaintext goes to `scratch` (at least the datagram's size). An error on the first
// packet fails the call; on a later one it is reported in trailing_error and the earlier packets'
// data returned. Thread-safe; keeps per-thread OpenSSL contexts and the keys of the last DCID (no
// allocation after a thread's first call).
Result<QuicInitialInfo, QuicError> decrypt_client_initial(ByteSpan datagram, ByteSpan key_dcid,
                                                          std::span<std::uint8_t> scratch) noexcept;

// The frame walk of decrypt_client_initial() over one packet's plaintext, appending CRYPTO
// frames to `info` (exposed for the fuzzer: it cannot forge AEAD tags).
Result<void, QuicError> parse_initial_frames(ByteSpan plaintext, QuicFraming framing,
                                             QuicInitialInfo& info) noexcept;

// Cheap dispatch test for UDP on any port: a long header with version 0, a version decrypted
// here, or a Google QUIC long-header version, and a DCID length that fits.
bool looks_like_quic_long_header(ByteSpan datagram) noexcept;

// Google QUIC crypto handshake (QUIC Crypto, not TLS): the SNI tag of the CHLO in a client packet.
// Q024..Q043 use the gQUIC public header (flags, 8-byte CID, version, packet number), Q046 a long
// header; the CHLO starts a STREAM frame on stream 1 after a 12-byte null-encryption hash. The
// result is a view into `datagram`. Q050 (encrypted) needs the overload with scratch.
Result<std::string_view, QuicError> gquic_chlo_sni(ByteSpan datagram) noexcept;

// As above, and also decrypts Q050 Initial packets into `scratch` (the result may then be a view
// into `scratch`).
Result<std::string_view, QuicError> gquic_chlo_sni(ByteSpan datagram,
                                                   std::span<std::uint8_t> scratch) noexcept;

// The SNI tag of a CHLO message (tag "CHLO", u16 count, u16 padding, count x (tag, u32 end
// offset), values; little-endian), e.g. reassembled Q050 CRYPTO data. View into `message`.
Result<std::string_view, QuicError> gquic_chlo_message_sni(ByteSpan message) noexcept;

}  // namespace egressguard::parse
