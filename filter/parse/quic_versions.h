// QUIC versions whose client Initial packets can be decrypted with public keys: the initial salt
// each uses (RFC 9001 section 5.2 and its predecessors), the key labels and long-header type
// numbering (RFC 9369 for v2), and the frame encoding inside (IETF or Google QUIC).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace egressguard::parse {

// HKDF-Extract salt for initial_secret = HKDF-Extract(salt, client DCID).
using QuicInitialSalt = std::array<std::uint8_t, 20>;

// Frame encoding inside a decrypted Initial: IETF (RFC 9000 section 19) or Google QUIC's own
// frames, which Q050, T050 and T051 keep under IETF-style packet protection (CRYPTO is 0x08 there).
enum class QuicFraming : std::uint8_t { Ietf, Google };

// What the CRYPTO stream carries: a TLS 1.3 handshake, or a Google QUIC CHLO tag-value message.
enum class QuicHandshake : std::uint8_t { Tls, GoogleChlo };

// How one version protects its client Initial packets.
struct QuicVersionInfo {
  std::string_view name;  // "v1", "draft-29", "mvfst-draft-27", "T051", ...
  // Salts to try in order: the first is the version's own; later ones cover versions whose salt
  // is not pinned down (greased 0x?a?a?a?a versions, unlisted mvfst aliases). Unused ones null.
  std::array<const QuicInitialSalt*, 4> salts{};
  bool v2 = false;  // RFC 9369: "quicv2 " key labels and Initial long-header type 0b01
  QuicFraming framing = QuicFraming::Ietf;
  QuicHandshake handshake = QuicHandshake::Tls;
};

// The protection of `version`, or nullopt when its Initial packets cannot be decrypted here
// (unknown versions, Google QUIC up to Q046, which sends its CHLO in plaintext).
std::optional<QuicVersionInfo> quic_version_info(std::uint32_t version) noexcept;

// Google QUIC versions with the gQUIC crypto handshake in plaintext: 'Q' '0' digit digit up to
// Q049 (Q050 and later encrypt their Initial packets).
bool is_plaintext_gquic_version(std::uint32_t version) noexcept;

// 0x?a?a?a?a: reserved by RFC 9000 section 15 to force version negotiation.
constexpr bool is_greased_quic_version(std::uint32_t version) noexcept {
  return (version & 0x0f0f0f0fU) == 0x0a0a0a0aU;
}

}  // namespace egressguard::parse
