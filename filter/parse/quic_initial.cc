// SHA256_Init/Update/Final keep their state on the stack; EVP_DigestInit in OpenSSL 3.0 allocates
// a provider context on every call (10 mallocs per key derivation, measured in quic_bench), so
// the 1.1.1 API level is requested to use them without deprecation warnings.
#define OPENSSL_API_COMPAT 10101
#include "filter/parse/quic_initial.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <optional>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "base/byte_reader.h"

namespace egressguard::parse {
namespace {

constexpr std::size_t kMaxCidLength = 20;  // RFC 9000 section 17.2 (v1 and later)
constexpr std::size_t kSampleOffset = 4;   // RFC 9001 section 5.4.2: pn_offset + 4
constexpr std::size_t kSampleLength = 16;
constexpr std::size_t kTagLength = 16;  // AEAD_AES_128_GCM
constexpr std::size_t kKeyLength = 16;
constexpr std::size_t kIvLength = 12;
constexpr std::size_t kSha256Length = 32;
constexpr std::uint64_t kMaxStreamOffset = (std::uint64_t{1} << 62) - 1;

using Sha256 = std::array<std::uint8_t, kSha256Length>;

// Per-thread OpenSSL state: fetched ciphers, reusable contexts and the keys of the last
// (salt, labels, DCID) triple. Contexts are created once, so decryption does not allocate.
class InitialCrypto {
 public:
  InitialCrypto() noexcept
      : gcm_(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr)),
        ecb_(EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr)),
        aead_(EVP_CIPHER_CTX_new()),
        hp_(EVP_CIPHER_CTX_new()) {}
  ~InitialCrypto() {
    EVP_CIPHER_CTX_free(hp_);
    EVP_CIPHER_CTX_free(aead_);
    EVP_CIPHER_free(ecb_);
    EVP_CIPHER_free(gcm_);
  }
  InitialCrypto(const InitialCrypto&) = delete;
  InitialCrypto& operator=(const InitialCrypto&) = delete;
  InitialCrypto(InitialCrypto&&) = delete;
  InitialCrypto& operator=(InitialCrypto&&) = delete;

  bool ok() const noexcept {
    return gcm_ != nullptr && ecb_ != nullptr && aead_ != nullptr && hp_ != nullptr;
  }

  // Keys the contexts for client Initial packets of (salt, v2 labels, dcid); cached.
  bool load(const QuicInitialSalt& salt, bool v2, ByteSpan dcid) noexcept {
    if (loaded_ && loaded_salt_ == &salt && loaded_v2_ == v2 && dcid.size() == loaded_dcid_len_ &&
        std::equal(dcid.begin(), dcid.end(), loaded_dcid_.begin())) {
      return true;
    }
    loaded_ = false;
    // RFC 9001 section 5.2: initial_secret = HKDF-Extract(salt, dcid);
    // client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32).
    Sha256 initial{};
    Sha256 client{};
    std::array<std::uint8_t, kKeyLength> key{};
    std::array<std::uint8_t, kKeyLength> hp{};
    if (!hmac(salt, {dcid}, initial) || !expand_label(initial, "client in", client) ||
        !expand_label(client, v2 ? "quicv2 key" : "quic key", key) ||
        !expand_label(client, v2 ? "quicv2 iv" : "quic iv", iv_) ||
        !expand_label(client, v2 ? "quicv2 hp" : "quic hp", hp)) {
      return false;
    }
    if (EVP_DecryptInit_ex(aead_, aead_ready_ ? nullptr : gcm_, nullptr, key.data(), nullptr) !=
            1 ||
        EVP_EncryptInit_ex(hp_, hp_ready_ ? nullptr : ecb_, nullptr, hp.data(), nullptr) != 1) {
      return false;
    }
    aead_ready_ = true;
    hp_ready_ = true;
    EVP_CIPHER_CTX_set_padding(hp_, 0);
    loaded_salt_ = &salt;
    loaded_v2_ = v2;
    loaded_dcid_len_ = dcid.size();
    std::copy(dcid.begin(), dcid.end(), loaded_dcid_.begin());
    loaded_ = true;
    return true;
  }

  // RFC 9001 section 5.4.3: AES-ECB(hp_key, sample).
  bool header_mask(ByteSpan sample, std::array<std::uint8_t, kSampleLength>& mask) noexcept {
    int out_len = 0;
    return EVP_EncryptUpdate(hp_, mask.data(), &out_len, sample.data(),
                             static_cast<int>(kSampleLength)) == 1 &&
           out_len == static_cast<int>(kSampleLength);
  }

  // AEAD_AES_128_GCM open (RFC 9001 section 5.3); the AAD is given in pieces so the
  // unprotected header need not be copied. Writes ciphertext.size() bytes to `out`.
  bool open(std::uint64_t packet_number, std::initializer_list<ByteSpan> aad, ByteSpan ciphertext,
            ByteSpan tag, std::uint8_t* out) noexcept {
    std::array<std::uint8_t, kIvLength> nonce = iv_;
    for (std::size_t i = 0; i < 8; ++i) {
      nonce[kIvLength - 1 - i] ^= static_cast<std::uint8_t>(packet_number >> (8 * i));
    }
    std::array<std::uint8_t, kTagLength> tag_copy{};
    std::copy(tag.begin(), tag.end(), tag_copy.begin());
    int len = 0;
    if (EVP_DecryptInit_ex(aead_, nullptr, nullptr, nullptr, nonce.data()) != 1) {
      return false;
    }
    for (ByteSpan part : aad) {
      if (!part.empty() && EVP_DecryptUpdate(aead_, nullptr, &len, part.data(),
                                             static_cast<int>(part.size())) != 1) {
        return false;
      }
    }
    int written = 0;
    if (!ciphertext.empty() && EVP_DecryptUpdate(aead_, out, &written, ciphertext.data(),
                                                 static_cast<int>(ciphertext.size())) != 1) {
      return false;
    }
    if (EVP_CIPHER_CTX_ctrl(aead_, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagLength),
                            tag_copy.data()) != 1) {
      return false;
    }
    int final_len = 0;
    return EVP_DecryptFinal_ex(aead_, out + written, &final_len) == 1;
  }

 private:
  // HMAC-SHA256 (RFC 2104) over the concatenation of `parts`; key at most one block.
  static bool hmac(ByteSpan key, std::initializer_list<ByteSpan> parts, Sha256& out) noexcept {
    constexpr std::size_t kBlock = 64;
    std::array<std::uint8_t, kBlock> pad{};
    if (key.size() > kBlock) {
      return false;
    }
    std::copy(key.begin(), key.end(), pad.begin());
    for (auto& b : pad) {
      b ^= 0x36;
    }
    SHA256_CTX sha{};
    Sha256 inner{};
    if (SHA256_Init(&sha) != 1 || SHA256_Update(&sha, pad.data(), pad.size()) != 1) {
      return false;
    }
    for (ByteSpan part : parts) {
      if (SHA256_Update(&sha, part.data(), part.size()) != 1) {
        return false;
      }
    }
    if (SHA256_Final(inner.data(), &sha) != 1) {
      return false;
    }
    for (auto& b : pad) {
      b ^= 0x36 ^ 0x5c;
    }
    return SHA256_Init(&sha) == 1 && SHA256_Update(&sha, pad.data(), pad.size()) == 1 &&
           SHA256_Update(&sha, inner.data(), inner.size()) == 1 &&
           SHA256_Final(out.data(), &sha) == 1;
  }

  // HKDF-Expand-Label(secret, label, "", out.size()) of RFC 8446 section 7.1, for outputs of at
  // most one hash block: T(1) = HMAC(secret, HkdfLabel || 0x01).
  template <std::size_t N>
  bool expand_label(const Sha256& secret, std::string_view label,
                    std::array<std::uint8_t, N>& out) noexcept {
    static_assert(N <= kSha256Length);
    constexpr std::string_view kPrefix = "tls13 ";
    const std::array<std::uint8_t, 3> head = {
        0, static_cast<std::uint8_t>(N), static_cast<std::uint8_t>(kPrefix.size() + label.size())};
    constexpr std::array<std::uint8_t, 2> kTail = {0x00, 0x01};  // empty context, counter 1
    Sha256 block{};
    if (!hmac(secret, {head, as_bytes(kPrefix), as_bytes(label), kTail}, block)) {
      return false;
    }
    std::copy_n(block.begin(), N, out.begin());
    return true;
  }

  EVP_CIPHER* gcm_;
  EVP_CIPHER* ecb_;
  EVP_CIPHER_CTX* aead_;
  EVP_CIPHER_CTX* hp_;
  bool aead_ready_ = false;
  bool hp_ready_ = false;
  bool loaded_ = false;
  const QuicInitialSalt* loaded_salt_ = nullptr;
  bool loaded_v2_ = false;
  std::array<std::uint8_t, kMaxCidLength> loaded_dcid_{};
  std::size_t loaded_dcid_len_ = 0;
  std::array<std::uint8_t, kIvLength> iv_{};
};

InitialCrypto& thread_crypto() noexcept {
  thread_local InitialCrypto crypto;
  return crypto;
}

bool same_bytes(ByteSpan a, ByteSpan b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

bool add_chunk(QuicInitialInfo& info, std::uint64_t offset, ByteSpan data) noexcept {
  if (info.chunk_count == info.chunks.size()) {
    return false;
  }
  info.chunks[info.chunk_count++] = QuicCryptoChunk{offset, data};
  return true;
}

// RFC 9000 section 19: the frames a client may send in an Initial packet (section 12.4).
Result<void, QuicError> parse_ietf_frames(ByteSpan plain, QuicInitialInfo& info) noexcept {
  ByteReader r(plain);
  while (!r.empty()) {
    const std::uint8_t type = r.u8();
    switch (type) {
      case 0x00: {  // PADDING: runs of zero bytes
        info.has_padding = true;
        const ByteSpan rest = r.rest();
        const auto nonzero =
            std::find_if(rest.begin(), rest.end(), [](std::uint8_t b) { return b != 0; });
        r.skip(static_cast<std::size_t>(nonzero - rest.begin()));
        break;
      }
      case 0x01:  // PING
        break;
      case 0x02:
      case 0x03: {   // ACK, ACK with ECN counts
        r.varint();  // largest acknowledged
        r.varint();  // ack delay
        const std::uint64_t ranges = r.varint();
        r.varint();  // first range
        if (!r.ok() || ranges > r.remaining()) {
          return fail(QuicError::BadFrame);
        }
        for (std::uint64_t i = 0; i < ranges; ++i) {
          r.varint();  // gap
          r.varint();  // range length
        }
        if (type == 0x03) {
          r.varint();
          r.varint();
          r.varint();
        }
        info.has_ack = true;
        break;
      }
      case 0x06: {  // CRYPTO
        const std::uint64_t offset = r.varint();
        const std::uint64_t length = r.varint();
        if (!r.ok() || length > r.remaining() || offset + length > kMaxStreamOffset) {
          return fail(QuicError::BadFrame);
        }
        if (!add_chunk(info, offset, r.take(static_cast<std::size_t>(length)))) {
          return fail(QuicError::TooManyChunks);
        }
        break;
      }
      case 0x1c: {   // CONNECTION_CLOSE (transport)
        r.varint();  // error code
        r.varint();  // frame type
        const std::uint64_t reason = r.varint();
        if (!r.ok() || reason > r.remaining()) {
          return fail(QuicError::BadFrame);
        }
        r.skip(static_cast<std::size_t>(reason));
        break;
      }
      default:
        return fail(QuicError::BadFrame);
    }
    if (!r.ok()) {
      return fail(QuicError::BadFrame);
    }
  }
  return {};
}

// Google QUIC packet number / ack block field sizes for 2-bit codes.
std::size_t gquic_length_code(unsigned code) noexcept {
  constexpr std::array<std::size_t, 4> kLengths = {1, 2, 4, 6};
  return kLengths[code & 3U];
}

// Frames of Q050/T050/T051 Initial packets, in Google QUIC encoding (Chromium quic_framer.cc):
// PADDING 0x00 fills the rest of the packet, PING 0x07, CRYPTO 0x08 (varint offset and length),
// ACK 0x40-0x7f (01ntllmm).
Result<void, QuicError> parse_google_frames(ByteSpan plain, QuicInitialInfo& info) noexcept {
  ByteReader r(plain);
  while (!r.empty()) {
    const std::uint8_t type = r.u8();
    if (type == 0x00) {
      info.has_padding = true;
      break;
    }
    if (type == 0x07) {
      continue;
    }
    if (type == 0x08) {
      const std::uint64_t offset = r.varint();
      const std::uint64_t length = r.varint();
      if (!r.ok() || length > r.remaining() || offset + length > kMaxStreamOffset) {
        return fail(QuicError::BadFrame);
      }
      if (!add_chunk(info, offset, r.take(static_cast<std::size_t>(length)))) {
        return fail(QuicError::TooManyChunks);
      }
      continue;
    }
    if ((type & 0xc0) == 0x40) {
      const std::size_t largest_length = gquic_length_code(type >> 2U);
      const std::size_t block_length = gquic_length_code(type);
      r.skip(largest_length + 2);  // largest acked, ack delay (ufloat16)
      const std::size_t blocks = (type & 0x20) != 0 ? r.u8() : 0;
      r.skip(block_length + blocks * (1 + block_length));
      const std::size_t timestamps = r.u8();
      if (timestamps > 0) {
        r.skip(1 + 4 + (timestamps - 1) * (1 + 2));
      }
      if (!r.ok()) {
        return fail(QuicError::BadFrame);
      }
      info.has_ack = true;
      continue;
    }
    return fail(QuicError::BadFrame);
  }
  return {};
}

// One long-header packet at the start of `data`, up to the packet number.
struct LongHeader {
  std::uint8_t first = 0;
  std::uint32_t version = 0;
  QuicVersionInfo protection;
  ByteSpan dcid, scid, token;
  std::size_t pn_offset = 0;
  std::size_t packet_length = 0;  // header + Length
};

Result<LongHeader, QuicError> parse_long_header(ByteSpan data) noexcept {
  ByteReader r(data);
  LongHeader h;
  h.first = r.u8();
  if (!r.ok()) {
    return fail(QuicError::Truncated);
  }
  if ((h.first & 0x80) == 0) {
    return fail(QuicError::ShortHeader);
  }
  h.version = r.u32();
  if (!r.ok()) {
    return fail(QuicError::Truncated);
  }
  if (h.version == 0) {
    return fail(QuicError::VersionNegotiation);
  }
  const std::optional<QuicVersionInfo> protection = quic_version_info(h.version);
  if (!protection) {
    return fail(is_plaintext_gquic_version(h.version) ? QuicError::GquicPlaintext
                                                      : QuicError::UnsupportedVersion);
  }
  h.protection = *protection;
  const unsigned initial_type = h.protection.v2 ? 1U : 0U;  // RFC 9369 section 3.2
  if (((h.first >> 4U) & 3U) != initial_type) {
    return fail(QuicError::NotInitial);
  }
  const std::size_t dcid_length = r.u8();
  if (r.ok() && dcid_length > kMaxCidLength) {
    return fail(QuicError::BadLength);
  }
  h.dcid = r.take(dcid_length);
  const std::size_t scid_length = r.u8();
  if (r.ok() && scid_length > kMaxCidLength) {
    return fail(QuicError::BadLength);
  }
  h.scid = r.take(scid_length);
  const std::uint64_t token_length = r.varint();
  if (r.ok() && token_length > r.remaining()) {
    return fail(QuicError::Truncated);
  }
  h.token = r.take(static_cast<std::size_t>(token_length));
  const std::uint64_t length = r.varint();
  if (!r.ok()) {
    return fail(QuicError::Truncated);
  }
  if (length > r.remaining()) {
    return fail(QuicError::Truncated);
  }
  if (length < kSampleOffset + kSampleLength) {
    return fail(QuicError::BadLength);  // no room for the header protection sample
  }
  h.pn_offset = r.position();
  h.packet_length = h.pn_offset + static_cast<std::size_t>(length);
  return h;
}

// Removes header protection and opens one packet with the keys of (salt, dcid). On success
// writes the plaintext to `out` and returns its size.
std::optional<std::size_t> open_packet(InitialCrypto& crypto, ByteSpan packet, const LongHeader& h,
                                       const QuicInitialSalt& salt, ByteSpan key_dcid,
                                       std::span<std::uint8_t> out,
                                       std::uint32_t& packet_number) noexcept {
  if (!crypto.load(salt, h.protection.v2, key_dcid)) {
    return std::nullopt;
  }
  std::array<std::uint8_t, kSampleLength> mask{};
  if (!crypto.header_mask(packet.subspan(h.pn_offset + kSampleOffset, kSampleLength), mask)) {
    return std::nullopt;
  }
  const auto first = static_cast<std::uint8_t>(h.first ^ (mask[0] & 0x0fU));
  const std::size_t pn_length = (first & 3U) + 1;
  std::array<std::uint8_t, 4> pn_bytes{};
  std::uint32_t pn = 0;
  for (std::size_t i = 0; i < pn_length; ++i) {
    pn_bytes[i] = static_cast<std::uint8_t>(packet[h.pn_offset + i] ^ mask[1 + i]);
    pn = (pn << 8U) | pn_bytes[i];
  }
  const std::size_t payload_offset = h.pn_offset + pn_length;
  const std::size_t ciphertext_length = packet.size() - payload_offset - kTagLength;
  if (ciphertext_length > out.size()) {
    return std::nullopt;
  }
  const std::array<std::uint8_t, 1> first_byte = {first};
  // The packet number is used as sent: a client's Initial packet numbers start at 0 and stay
  // below the 2^(8 * length) that the truncated encoding can carry.
  if (!crypto.open(
          pn,
          {first_byte, packet.subspan(1, h.pn_offset - 1), ByteSpan(pn_bytes.data(), pn_length)},
          packet.subspan(payload_offset, ciphertext_length),
          packet.subspan(packet.size() - kTagLength), out.data())) {
    return std::nullopt;
  }
  packet_number = pn;
  return ciphertext_length;
}

// Decrypts the Initial packet at the start of `data` and appends its CRYPTO frames to `info`.
// Returns the packet's length.
Result<std::size_t, QuicError> decrypt_one(ByteSpan data, ByteSpan key_dcid,
                                           std::span<std::uint8_t> scratch,
                                           std::size_t& scratch_used, QuicInitialInfo& info,
                                           const LongHeader& h) noexcept {
  InitialCrypto& crypto = thread_crypto();
  if (!crypto.ok()) {
    return fail(QuicError::CryptoUnavailable);
  }
  const ByteSpan packet = data.first(h.packet_length);
  const std::span<std::uint8_t> out = scratch.subspan(scratch_used);
  if (packet.size() - h.pn_offset - 1 - kTagLength > out.size()) {
    return fail(QuicError::ScratchTooSmall);
  }
  // Candidate key DCIDs: the caller's, then the packet's own if different.
  std::array<ByteSpan, 2> dcids = {key_dcid.empty() ? h.dcid : key_dcid, h.dcid};
  const std::size_t dcid_count = same_bytes(dcids[0], dcids[1]) ? 1 : 2;
  std::optional<std::size_t> plain_length;
  std::uint32_t pn = 0;
  for (std::size_t d = 0; d < dcid_count && !plain_length; ++d) {
    for (const QuicInitialSalt* salt : h.protection.salts) {
      if (salt == nullptr) {
        break;
      }
      plain_length = open_packet(crypto, packet, h, *salt, dcids[d], out, pn);
      if (plain_length) {
        if (info.initial_packets == 0) {
          info.key_dcid = dcids[d];
          info.first_packet_number = pn;
          // Report the salt that worked first, so callers see what decrypted the flow.
          info.protection.salts = {salt, nullptr, nullptr, nullptr};
        }
        break;
      }
    }
  }
  if (!plain_length) {
    return fail(QuicError::DecryptFailed);
  }
  const ByteSpan plain(out.data(), *plain_length);
  const std::size_t chunks_before = info.chunk_count;
  const Result<void, QuicError> frames = h.protection.framing == QuicFraming::Google
                                             ? parse_google_frames(plain, info)
                                             : parse_ietf_frames(plain, info);
  if (!frames) {
    info.chunk_count = chunks_before;
    return fail(frames.error());
  }
  scratch_used += *plain_length;
  ++info.initial_packets;
  return h.packet_length;
}

std::uint32_t read_be32(ByteSpan b) noexcept {
  return (std::uint32_t{b[0]} << 24U) | (std::uint32_t{b[1]} << 16U) | (std::uint32_t{b[2]} << 8U) |
         std::uint32_t{b[3]};
}

std::uint32_t read_le32(ByteSpan b) noexcept {
  return std::uint32_t{b[0]} | (std::uint32_t{b[1]} << 8U) | (std::uint32_t{b[2]} << 16U) |
         (std::uint32_t{b[3]} << 24U);
}

constexpr std::string_view kChloTag = "CHLO";
constexpr std::size_t kMaxChloEntries = 128;  // Chromium crypto_framer.cc kMaxEntries

}  // namespace

std::string_view describe(QuicError error) noexcept {
  switch (error) {
    case QuicError::NotQuic:
      return "quic_not_quic";
    case QuicError::NotInitial:
      return "quic_not_initial";
    case QuicError::ShortHeader:
      return "quic_short_header";
    case QuicError::UnsupportedVersion:
      return "quic_unsupported_version";
    case QuicError::VersionNegotiation:
      return "quic_version_negotiation";
    case QuicError::GquicPlaintext:
      return "quic_gquic_plaintext";
    case QuicError::Truncated:
      return "quic_truncated";
    case QuicError::BadLength:
      return "quic_bad_length";
    case QuicError::DecryptFailed:
      return "quic_decrypt_failed";
    case QuicError::BadFrame:
      return "quic_bad_frame";
    case QuicError::TooManyChunks:
      return "quic_too_many_chunks";
    case QuicError::ScratchTooSmall:
      return "quic_scratch_too_small";
    case QuicError::NoChlo:
      return "quic_no_chlo";
    case QuicError::NoSni:
      return "quic_no_sni";
    case QuicError::CryptoUnavailable:
      return "quic_crypto_unavailable";
  }
  return "quic_unknown_error";
}

Result<QuicInitialInfo, QuicError> decrypt_client_initial(
    ByteSpan datagram, ByteSpan key_dcid, std::span<std::uint8_t> scratch) noexcept {
  QuicInitialInfo info;
  if (datagram.empty()) {
    return fail(QuicError::Truncated);
  }
  if (key_dcid.size() > kMaxCidLength) {
    return fail(QuicError::BadLength);
  }
  std::size_t offset = 0;
  std::size_t scratch_used = 0;
  while (offset < datagram.size()) {
    const ByteSpan rest = datagram.subspan(offset);
    const bool first = info.initial_packets == 0;
    Result<LongHeader, QuicError> header = parse_long_header(rest);
    if (header && !first && header->version != info.version) {
      info.other_packets = true;  // a different version cannot be coalesced (RFC 9000 12.2)
      break;
    }
    if (!header) {
      if (first) {
        return fail(header.error());
      }
      const QuicError e = header.error();
      if (e == QuicError::ShortHeader || e == QuicError::NotInitial) {
        // Zero bytes after the last packet are padding, not a short header packet.
        const bool all_zero =
            std::all_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b == 0; });
        info.other_packets = !all_zero;
        info.has_padding = info.has_padding || all_zero;
      } else {
        info.trailing_error = true;
        info.trailing_error_kind = e;
      }
      break;
    }
    if (first) {
      info.version = header->version;
      info.protection = header->protection;
      info.dcid = header->dcid;
      info.scid = header->scid;
      info.token = header->token;
    }
    Result<std::size_t, QuicError> used =
        decrypt_one(rest, key_dcid, scratch, scratch_used, info, *header);
    if (!used) {
      if (first) {
        return fail(used.error());
      }
      info.trailing_error = true;
      info.trailing_error_kind = used.error();
      break;
    }
    offset += *used;
  }
  return info;
}

Result<void, QuicError> parse_initial_frames(ByteSpan plaintext, QuicFraming framing,
                                             QuicInitialInfo& info) noexcept {
  return framing == QuicFraming::Google ? parse_google_frames(plaintext, info)
                                        : parse_ietf_frames(plaintext, info);
}

bool looks_like_quic_long_header(ByteSpan datagram) noexcept {
  constexpr std::size_t kMinimum = 7;  // first byte, version, DCID length, SCID length
  if (datagram.size() < kMinimum || (datagram[0] & 0x80) == 0) {
    return false;
  }
  const std::uint32_t version = read_be32(datagram.subspan(1, 4));
  if (version == 0 || is_plaintext_gquic_version(version)) {
    return true;  // version negotiation; Q046 uses 4-bit CID lengths, checked by its parser
  }
  if (!quic_version_info(version)) {
    return false;
  }
  const std::size_t dcid_length = datagram[5];
  return dcid_length <= kMaxCidLength && 6 + dcid_length < datagram.size();
}

Result<std::string_view, QuicError> gquic_chlo_message_sni(ByteSpan message) noexcept {
  ByteReader r(message);
  if (as_chars(r.take(4)) != kChloTag) {
    return fail(QuicError::NoChlo);
  }
  const ByteSpan count_bytes = r.take(2);
  r.skip(2);  // padding
  if (!r.ok()) {
    return fail(QuicError::Truncated);
  }
  const std::size_t count = count_bytes[0] | (std::size_t{count_bytes[1]} << 8U);
  if (count > kMaxChloEntries) {
    return fail(QuicError::NoChlo);
  }
  const ByteSpan table = r.take(count * 8);
  if (!r.ok()) {
    return fail(QuicError::Truncated);
  }
  const ByteSpan values = r.rest();
  std::uint32_t previous_end = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const ByteSpan entry = table.subspan(i * 8, 8);
    const std::uint32_t end = read_le32(entry.subspan(4));
    if (end < previous_end) {
      return fail(QuicError::NoChlo);  // end offsets must not decrease
    }
    if (as_chars(entry.first(4)) == std::string_view("SNI\0", 4)) {
      if (end > values.size()) {
        return fail(QuicError::Truncated);
      }
      return as_chars(values.subspan(previous_end, end - previous_end));
    }
    previous_end = end;
  }
  return fail(QuicError::NoSni);
}

Result<std::string_view, QuicError> gquic_chlo_sni(ByteSpan datagram) noexcept {
  ByteReader r(datagram);
  const std::uint8_t flags = r.u8();
  if (!r.ok()) {
    return fail(QuicError::Truncated);
  }
  if ((flags & 0x80) != 0) {
    // Q046: long header, version, one byte of 4-bit CID lengths (+3 when non-zero), CIDs,
    // packet number of (flags & 3) + 1 bytes.
    const std::uint32_t version = r.u32();
    if (!r.ok()) {
      return fail(QuicError::Truncated);
    }
    if (!is_plaintext_gquic_version(version)) {
      const std::optional<QuicVersionInfo> info = quic_version_info(version);
      return fail(info && info->handshake == QuicHandshake::GoogleChlo ? QuicError::ScratchTooSmall
                                                                       : QuicError::NotQuic);
    }
    const std::uint8_t lengths = r.u8();
    const std::size_t dcid = (lengths >> 4U) == 0 ? 0 : (lengths >> 4U) + 3U;
    const std::size_t scid = (lengths & 0x0fU) == 0 ? 0 : (lengths & 0x0fU) + 3U;
    r.skip(dcid + scid + (flags & 3U) + 1);
  } else {
    // Public header (Q024..Q043): 0x01 version present, 0x02 public reset, 0x08 8-byte CID,
    // 0x30 packet number length. 0x04 (diversification nonce) is only sent by servers.
    if ((flags & 0x02) != 0) {
      return fail(QuicError::NotQuic);
    }
    if ((flags & 0x08) != 0) {
      r.skip(8);
    }
    if ((flags & 0x01) != 0) {
      const std::uint32_t version = r.u32();
      if (r.ok() && !is_plaintext_gquic_version(version)) {
        return fail(QuicError::NotQuic);
      }
    }
    r.skip(gquic_length_code(flags >> 4U));
  }
  r.skip(12);  // null encryption: FNV-1a 128 hash truncated to 12 bytes
  if (!r.ok()) {
    return fail(QuicError::Truncated);
  }
  // The CHLO starts a STREAM frame's data on stream 1, after version-dependent framing (private
  // flags before Q034, ACK/STOP_WAITING in a retried CHLO, little- or big-endian lengths); a
  // candidate counts only if its tag table is consistent.
  const std::string_view payload = as_chars(r.rest());
  QuicError last = QuicError::NoChlo;
  for (std::size_t at = payload.find(kChloTag); at != std::string_view::npos;
       at = payload.find(kChloTag, at + 1)) {
    Result<std::string_view, QuicError> sni = gquic_chlo_message_sni(r.rest().subspan(at));
    if (sni || sni.error() != QuicError::NoChlo) {
      if (sni || sni.error() == QuicError::NoSni) {
        return sni;
      }
      last = sni.error();
    }
  }
  return fail(last);
}

Result<std::string_view, QuicError> gquic_chlo_sni(ByteSpan datagram,
                                                   std::span<std::uint8_t> scratch) noexcept {
  if (datagram.size() >= 5 && (datagram[0] & 0x80) != 0) {
    const std::optional<QuicVersionInfo> info = quic_version_info(read_be32(datagram.subspan(1)));
    if (info && info->handshake == QuicHandshake::GoogleChlo) {
      Result<QuicInitialInfo, QuicError> initial = decrypt_client_initial(datagram, {}, scratch);
      if (!initial) {
        return fail(initial.error());
      }
      for (const QuicCryptoChunk& chunk : initial->crypto_chunks()) {
        if (chunk.offset == 0) {
          return gquic_chlo_message_sni(chunk.data);
        }
      }
      return fail(QuicError::NoChlo);
    }
  }
  return gquic_chlo_sni(datagram);
}

}  // namespace egressguard::parse
