#include "filter/parse/quic_versions.h"

namespace egressguard::parse {
namespace {

// RFC 9001 section 5.2 (v1; also draft-33 and draft-34).
constexpr QuicInitialSalt kSaltV1 = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                     0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
// RFC 9369 section 3.3.1 (v2).
constexpr QuicInitialSalt kSaltV2 = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                     0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
// draft-ietf-quic-tls-29 section 5.2 (drafts 29 to 32).
constexpr QuicInitialSalt kSaltDraft29 = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2,
                                          0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61,
                                          0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
// draft-ietf-quic-tls-23 section 5.2 (drafts 23 to 28; mvfst's default).
constexpr QuicInitialSalt kSaltDraft23 = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb,
                                          0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4,
                                          0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};
// draft-ietf-quic-tls-21/22 section 5.2.
constexpr QuicInitialSalt kSaltDraft22 = {0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb,
                                          0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51,
                                          0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a};
// Chromium/quiche crypto_utils.cc: kQ050Salt, kT050Salt, kT051Salt.
constexpr QuicInitialSalt kSaltQ050 = {0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94,
                                       0x5c, 0xfc, 0xdb, 0xd3, 0xa7, 0xf0, 0xd3, 0xb5, 0x6b, 0x45};
constexpr QuicInitialSalt kSaltT050 = {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
                                       0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10};
constexpr QuicInitialSalt kSaltT051 = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
                                       0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};
// Chromium/quiche kReservedForNegotiationSalt: what Chrome uses for its greased versions.
constexpr QuicInitialSalt kSaltChromeGrease = {0xf9, 0x64, 0xbf, 0x45, 0x3a, 0x1f, 0x1b,
                                               0x80, 0xa5, 0xf8, 0x82, 0x03, 0x77, 0xd4,
                                               0xaf, 0xca, 0x58, 0x0e, 0xe7, 0x43};

constexpr std::uint32_t kVersion1 = 0x00000001;
constexpr std::uint32_t kVersion2 = 0x6b3343cf;
constexpr std::uint32_t kQ050 = 0x51303530;
constexpr std::uint32_t kT050 = 0x54303530;
constexpr std::uint32_t kT051 = 0x54303531;

QuicVersionInfo ietf(std::string_view name, const QuicInitialSalt& salt) noexcept {
  QuicVersionInfo info;
  info.name = name;
  info.salts[0] = &salt;
  return info;
}

QuicVersionInfo ietf(std::string_view name, const QuicInitialSalt& salt,
                     const QuicInitialSalt& fallback) noexcept {
  QuicVersionInfo info = ietf(name, salt);
  info.salts[1] = &fallback;
  return info;
}

QuicVersionInfo google(std::string_view name, const QuicInitialSalt& salt,
                       QuicHandshake handshake) noexcept {
  QuicVersionInfo info = ietf(name, salt);
  info.framing = QuicFraming::Google;
  info.handshake = handshake;
  return info;
}

// Facebook mvfst (quic/QuicConstants.h, getQuicVersionSalt): 0xfaceb001 is based on draft-22
// (Wireshark and nDPI use the draft-22 salt, confirmed on nDPI's quic-mvfst-22 capture); the
// QUIC_V1 aliases 0xfaceb003/0xfaceb004 use the v1 salt; every other mvfst version (MVFST
// 0xfaceb002, MVFST_EXPERIMENTAL 0xfaceb00e, MVFST_ALIAS 0xfaceb010, experimental 0xfaceb011..)
// falls to mvfst's default, the draft-23 salt.
QuicVersionInfo mvfst(std::uint32_t version) noexcept {
  switch (version) {
    case 0xfaceb001:
      return ietf("mvfst-draft-22", kSaltDraft22, kSaltDraft23);
    case 0xfaceb002:
      return ietf("mvfst-draft-27", kSaltDraft23, kSaltV1);
    case 0xfaceb003:
    case 0xfaceb004:
      return ietf("mvfst-v1-alias", kSaltV1, kSaltDraft23);
    case 0xfaceb00e:
      return ietf("mvfst-experimental", kSaltDraft23, kSaltV1);
    default:
      return ietf("mvfst", kSaltDraft23, kSaltV1);
  }
}

}  // namespace

std::optional<QuicVersionInfo> quic_version_info(std::uint32_t version) noexcept {
  switch (version) {
    case kVersion1:
      return ietf("v1", kSaltV1);
    case kVersion2: {
      QuicVersionInfo info = ietf("v2", kSaltV2);
      info.v2 = true;
      return info;
    }
    case kQ050:
      return google("Q050", kSaltQ050, QuicHandshake::GoogleChlo);
    case kT050:
      return google("T050", kSaltT050, QuicHandshake::Tls);
    case kT051:
      return google("T051", kSaltT051, QuicHandshake::Tls);
    default:
      break;
  }
  if ((version & 0xffffff00U) == 0xff000000U) {
    const std::uint32_t draft = version & 0xffU;
    if (draft >= 33 && draft <= 34) {
      return ietf("draft-33/34", kSaltV1);
    }
    if (draft >= 29 && draft <= 32) {
      return ietf("draft-29..32", kSaltDraft29);
    }
    if (draft >= 23 && draft <= 28) {
      return ietf("draft-23..28", kSaltDraft23);
    }
    if (draft >= 21 && draft <= 22) {
      return ietf("draft-21/22", kSaltDraft22);
    }
    return std::nullopt;  // drafts before 21 protect packet numbers differently
  }
  if ((version & 0xffffff00U) == 0xfaceb000U) {
    return mvfst(version);
  }
  if (is_greased_quic_version(version)) {
    // A client forcing version negotiation still sends a real ClientHello, protected with
    // whatever salt its stack picks: draft-29 (Wireshark's guess; every greased Initial of
    // nDPI's quic_interop_V capture), v1, Chromium's kReservedForNegotiationSalt, or the
    // draft-23 salt (older Chromium).
    QuicVersionInfo info = ietf("greased", kSaltDraft29, kSaltV1);
    info.salts[2] = &kSaltChromeGrease;
    info.salts[3] = &kSaltDraft23;
    return info;
  }
  return std::nullopt;
}

bool is_plaintext_gquic_version(std::uint32_t version) noexcept {
  // 'Q' '0' d d with dd <= 49.
  if ((version & 0xffff0000U) != 0x51300000U) {
    return false;
  }
  const std::uint32_t tens = (version >> 8) & 0xffU;
  const std::uint32_t ones = version & 0xffU;
  if (tens < '0' || tens > '9' || ones < '0' || ones > '9') {
    return false;
  }
  return (tens - '0') * 10 + (ones - '0') < 50;
}

}  // namespace egressguard::parse
