#include "filter/parse/quic_initial.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace egressguard::parse {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes from_hex(std::string_view hex) {
  Bytes out;
  int high = -1;
  for (char c : hex) {
    int v = -1;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

Bytes read_hex_file(const std::string& name) {
  std::ifstream in(std::string(EGRESSGUARD_SOURCE_DIR) + "/tests/data/quic/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return from_hex(s.str());
}

ByteSpan span(const Bytes& b) {
  return {b.data(), b.size()};
}

// RFC 9001 A.2 / RFC 9369 A.2: the client's CRYPTO frame, then PADDING to 1162 bytes.
const Bytes kRfcCryptoFrame = from_hex(
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff");
const Bytes kRfcDcid = from_hex("8394c8f03e515708");

const Bytes kSaltV1 = from_hex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
const Bytes kSaltV2 = from_hex("0dede3def700a6db819381be6e269dcbf9bd2ed9");
const Bytes kSaltDraft29 = from_hex("afbfec289993d24c9e9786f19c6111e04390a899");
const Bytes kSaltDraft23 = from_hex("c3eef712c72ebb5a11a7d2432bb46365bef9f502");
const Bytes kSaltDraft22 = from_hex("7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a");
const Bytes kSaltT051 = from_hex("7a4edef4e7ccee5fa4506c19124fc8ccda6e033d");
const Bytes kSaltQ050 = from_hex("504574efd066fe2f9d945cfcdbd3a7f0d3b56b45");
const Bytes kSaltChromeGrease = from_hex("f964bf453a1f1b80a5f8820377d4afca580ee743");

// --- An independent encryptor (OpenSSL one-shot HMAC and EVP), checked against RFC 9001 A.2.

Bytes hmac_sha256(const Bytes& key, const Bytes& data) {
  Bytes out(32);
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
       &len);
  return out;
}

Bytes expand_label(const Bytes& secret, const std::string& label, std::size_t length) {
  const std::string full = "tls13 " + label;
  Bytes info = {0, static_cast<std::uint8_t>(length), static_cast<std::uint8_t>(full.size())};
  info.insert(info.end(), full.begin(), full.end());
  info.push_back(0);
  info.push_back(1);
  Bytes out = hmac_sha256(secret, info);
  out.resize(length);
  return out;
}

struct Keys {
  Bytes key, iv, hp;
};

Keys client_keys(const Bytes& dcid, const Bytes& salt, bool v2) {
  const Bytes secret = expand_label(hmac_sha256(salt, dcid), "client in", 32);
  const std::string p = v2 ? "quicv2 " : "quic ";
  return {expand_label(secret, p + "key", 16), expand_label(secret, p + "iv", 12),
          expand_label(secret, p + "hp", 16)};
}

void append_varint(Bytes& out, std::uint64_t v) {
  if (v < 64) {
    out.push_back(static_cast<std::uint8_t>(v));
  } else if (v < 16384) {
    out.push_back(static_cast<std::uint8_t>(0x40 | (v >> 8)));
    out.push_back(static_cast<std::uint8_t>(v));
  } else {
    for (int i = 3; i >= 0; --i) {
      out.push_back(static_cast<std::uint8_t>((i == 3 ? 0x80 : 0) | ((v >> (8 * i)) & 0xff)));
    }
  }
}

struct PacketSpec {
  std::uint32_t version = 1;
  Bytes dcid = kRfcDcid;
  Bytes key_dcid;  // keys from this DCID when not empty (a later Initial to the server's CID)
  Bytes scid;
  Bytes token;
  Bytes payload;
  std::uint32_t pn = 0;
  std::size_t pn_length = 1;
  Bytes salt = kSaltV1;
  bool v2 = false;
  unsigned type = 0;  // wire long-header type bits
};

Bytes protect(const PacketSpec& s) {
  const Keys k = client_keys(s.key_dcid.empty() ? s.dcid : s.key_dcid, s.salt, s.v2);
  Bytes h = {static_cast<std::uint8_t>(0xc0 | (s.type << 4) | (s.pn_length - 1)),
             static_cast<std::uint8_t>(s.version >> 24), static_cast<std::uint8_t>(s.version >> 16),
             static_cast<std::uint8_t>(s.version >> 8), static_cast<std::uint8_t>(s.version)};
  h.push_back(static_cast<std::uint8_t>(s.dcid.size()));
  h.insert(h.end(), s.dcid.begin(), s.dcid.end());
  h.push_back(static_cast<std::uint8_t>(s.scid.size()));
  h.insert(h.end(), s.scid.begin(), s.scid.end());
  append_varint(h, s.token.size());
  h.insert(h.end(), s.token.begin(), s.token.end());
  append_varint(h, s.pn_length + s.payload.size() + 16);
  const std::size_t pn_offset = h.size();
  for (std::size_t i = 0; i < s.pn_length; ++i) {
    h.push_back(static_cast<std::uint8_t>(s.pn >> (8 * (s.pn_length - 1 - i))));
  }
  Bytes nonce = k.iv;
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[11 - i] ^= static_cast<std::uint8_t>(std::uint64_t{s.pn} >> (8 * i));
  }
  Bytes ct(s.payload.size() + 16);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int len = 0;
  EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, k.key.data(), nonce.data());
  EVP_EncryptUpdate(c, nullptr, &len, h.data(), static_cast<int>(h.size()));
  EVP_EncryptUpdate(c, ct.data(), &len, s.payload.data(), static_cast<int>(s.payload.size()));
  EVP_EncryptFinal_ex(c, ct.data() + len, &len);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, ct.data() + s.payload.size());
  EVP_CIPHER_CTX_free(c);
  Bytes mask(16);
  c = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), nullptr, k.hp.data(), nullptr);
  EVP_EncryptUpdate(c, mask.data(), &len, ct.data() + (4 - s.pn_length), 16);
  EVP_CIPHER_CTX_free(c);
  Bytes out = h;
  out.insert(out.end(), ct.begin(), ct.end());
  out[0] = static_cast<std::uint8_t>(out[0] ^ (mask[0] & 0x0f));
  for (std::size_t i = 0; i < s.pn_length; ++i) {
    out[pn_offset + i] = static_cast<std::uint8_t>(out[pn_offset + i] ^ mask[1 + i]);
  }
  return out;
}

Bytes crypto_frame(std::uint64_t offset, const Bytes& data, std::uint8_t type = 0x06) {
  Bytes f = {type};
  append_varint(f, offset);
  append_varint(f, data.size());
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

Bytes chunk_bytes(const QuicCryptoChunk& c) {
  return Bytes(c.data.begin(), c.data.end());
}

const Bytes kHello = from_hex("0100001003030102030405060708090a0b0c0d0e0f");

class QuicInitialTest : public ::testing::Test {
 protected:
  Result<QuicInitialInfo, QuicError> decrypt(const Bytes& datagram, const Bytes& key = {}) {
    return decrypt_client_initial(span(datagram), span(key), scratch_);
  }
  std::array<std::uint8_t, kQuicScratchSize> scratch_{};
};

// --- RFC vectors

TEST_F(QuicInitialTest, TestEncryptorReproducesRfc9001A2Packet) {
  PacketSpec s;
  s.payload = concat({kRfcCryptoFrame, Bytes(917, 0)});
  s.pn = 2;
  s.pn_length = 4;
  EXPECT_EQ(protect(s), read_hex_file("rfc9001_a2_client_initial.hex"));
  s.version = 0x6b3343cf;
  s.salt = kSaltV2;
  s.v2 = true;
  s.type = 1;
  EXPECT_EQ(protect(s), read_hex_file("rfc9369_a2_client_initial.hex"));
}

TEST_F(QuicInitialTest, DecryptsRfc9001A2ClientInitial) {
  const Bytes packet = read_hex_file("rfc9001_a2_client_initial.hex");
  ASSERT_EQ(packet.size(), 1200U);
  for (const Bytes& key : {Bytes{}, kRfcDcid}) {
    auto r = decrypt(packet, key);
    ASSERT_TRUE(r.has_value()) << describe(r.error());
    EXPECT_EQ(r->version, 1U);
    EXPECT_EQ(Bytes(r->dcid.begin(), r->dcid.end()), kRfcDcid);
    EXPECT_TRUE(r->scid.empty());
    EXPECT_TRUE(r->token.empty());
    EXPECT_EQ(r->initial_packets, 1U);
    EXPECT_EQ(r->first_packet_number, 2U);
    EXPECT_TRUE(r->has_padding);
    EXPECT_FALSE(r->other_packets);
    EXPECT_FALSE(r->trailing_error);
    EXPECT_EQ(r->protection.name, "v1");
    ASSERT_EQ(r->chunk_count, 1U);
    EXPECT_EQ(r->chunks[0].offset, 0U);
    // The CRYPTO frame header is 06 00 40f1: the data is the 241-byte ClientHello.
    EXPECT_EQ(chunk_bytes(r->chunks[0]), Bytes(kRfcCryptoFrame.begin() + 4, kRfcCryptoFrame.end()));
    EXPECT_EQ(r->chunks[0].data[0], 0x01);
  }
}

TEST_F(QuicInitialTest, DecryptsRfc9369A2ClientInitial) {
  const Bytes packet = read_hex_file("rfc9369_a2_client_initial.hex");
  auto r = decrypt(packet);
  ASSERT_TRUE(r.has_value()) << describe(r.error());
  EXPECT_EQ(r->version, 0x6b3343cfU);
  EXPECT_TRUE(r->protection.v2);
  ASSERT_EQ(r->chunk_count, 1U);
  EXPECT_EQ(chunk_bytes(r->chunks[0]), Bytes(kRfcCryptoFrame.begin() + 4, kRfcCryptoFrame.end()));
}

TEST_F(QuicInitialTest, FallsBackToPacketDcidWhenKeyDcidFails) {
  const Bytes packet = read_hex_file("rfc9001_a2_client_initial.hex");
  const Bytes other = from_hex("0102030405060708");
  auto r = decrypt(packet, other);
  ASSERT_TRUE(r.has_value()) << describe(r.error());
  EXPECT_EQ(Bytes(r->key_dcid.begin(), r->key_dcid.end()), kRfcDcid);
}

TEST_F(QuicInitialTest, UsesKeyDcidWhenPacketCarriesServerCid) {
  PacketSpec s;
  s.payload = concat({crypto_frame(0, kHello), Bytes(40, 0)});
  s.key_dcid = kRfcDcid;          // keys of the client's first Initial
  s.dcid = from_hex("aabbccdd");  // header: the server's CID
  const Bytes packet = protect(s);
  auto without_key = decrypt(packet);
  ASSERT_FALSE(without_key.has_value());
  EXPECT_EQ(without_key.error(), QuicError::DecryptFailed);
  auto r = decrypt(packet, kRfcDcid);
  ASSERT_TRUE(r.has_value()) << describe(r.error());
  EXPECT_EQ(Bytes(r->key_dcid.begin(), r->key_dcid.end()), kRfcDcid);
  EXPECT_EQ(Bytes(r->dcid.begin(), r->dcid.end()), s.dcid);
  ASSERT_EQ(r->chunk_count, 1U);
  EXPECT_EQ(chunk_bytes(r->chunks[0]), kHello);
}

// --- Errors

TEST_F(QuicInitialTest, EveryTruncationFailsWithTruncated) {
  const Bytes packet = read_hex_file("rfc9001_a2_client_initial.hex");
  for (std::size_t n = 0; n < packet.size(); ++n) {
    const Bytes cut(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = decrypt(cut);
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error(), QuicError::Truncated) << n;
  }
}

TEST_F(QuicInitialTest, EveryPayloadBitFlipFailsAuthentication) {
  const Bytes packet = read_hex_file("rfc9001_a2_client_initial.hex");
  for (std::size_t i = 18; i < packet.size(); ++i) {  // packet number onwards
    Bytes flipped = packet;
    flipped[i] ^= 0x01;
    auto r = decrypt(flipped);
    ASSERT_FALSE(r.has_value()) << i;
    EXPECT_EQ(r.error(), QuicError::DecryptFailed) << i;
  }
}

TEST_F(QuicInitialTest, ReportsHeaderErrors) {
  const Bytes packet = read_hex_file("rfc9001_a2_client_initial.hex");
  struct Case {
    const char* what;
    std::size_t at;
    Bytes bytes;
    QuicError expected;
  };
  const std::vector<Case> cases = {
      {"short header", 0, {0x40}, QuicError::ShortHeader},
      {"0-RTT type", 0, {0xd0}, QuicError::NotInitial},
      {"Handshake type", 0, {0xe0}, QuicError::NotInitial},
      {"version negotiation", 1, {0, 0, 0, 0}, QuicError::VersionNegotiation},
      {"unknown version", 1, {0x12, 0x34, 0x56, 0x78}, QuicError::UnsupportedVersion},
      {"draft-17", 1, {0xff, 0, 0, 0x11}, QuicError::UnsupportedVersion},
      {"Q046", 1, {'Q', '0', '4', '6'}, QuicError::GquicPlaintext},
      {"draft-29 salt", 1, {0xff, 0, 0, 0x1d}, QuicError::DecryptFailed},
      {"v2 version, v1 type", 1, {0x6b, 0x33, 0x43, 0xcf}, QuicError::NotInitial},
      {"DCID of 21 bytes", 5, {21}, QuicError::BadLength},
      {"DCID changed", 6, {0x84}, QuicError::DecryptFailed},
      {"Length 19", 16, {0x40, 0x13}, QuicError::BadLength},
      {"Length past the end", 16, {0x44, 0x9f}, QuicError::Truncated},
  };
  for (const Case& c : cases) {
    Bytes p = packet;
    std::copy(c.bytes.begin(), c.bytes.end(), p.begin() + static_cast<std::ptrdiff_t>(c.at));
    auto r = decrypt(p);
    ASSERT_FALSE(r.has_value()) << c.what;
    EXPECT_EQ(r.error(), c.expected) << c.what << ": " << describe(r.error());
  }
}

TEST_F(QuicInitialTest, ReportsScratchTooSmall) {
  const Bytes packet = read_hex_file("rfc9001_a2_client_initial.hex");
  std::array<std::uint8_t, 1000> small{};
  auto r = decrypt_client_initial(span(packet), {}, small);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), QuicError::ScratchTooSmall);
}

TEST(QuicDescribe, GivesCounterLabels) {
  EXPECT_EQ(describe(QuicError::DecryptFailed), "quic_decrypt_failed");
  EXPECT_EQ(describe(QuicError::ShortHeader), "quic_short_header");
  EXPECT_EQ(describe(QuicError::TooManyChunks), "quic_too_many_chunks");
}

// --- Versions, frames, coalescing

TEST_F(QuicInitialTest, DecryptsEveryVersionWithItsSalt) {
  struct Case {
    std::uint32_t version;
    Bytes salt;
    bool v2;
    bool google;
  };
  const std::vector<Case> cases = {
      {0x00000001, kSaltV1, false, false},           {0x6b3343cf, kSaltV2, true, false},
      {0xff000022, kSaltV1, false, false},           {0xff000021, kSaltV1, false, false},
      {0xff000020, kSaltDraft29, false, false},      {0xff00001d, kSaltDraft29, false, false},
      {0xff00001c, kSaltDraft23, false, false},      {0xff000017, kSaltDraft23, false, false},
      {0xff000016, kSaltDraft22, false, false},      {0xfaceb001, kSaltDraft22, false, false},
      {0xfaceb002, kSaltDraft23, false, false},      {0xfaceb00e, kSaltDraft23, false, false},
      {0xfaceb010, kSaltDraft23, false, false},      {0xfaceb003, kSaltV1, false, false},
      {0x54303531, kSaltT051, false, true},          {0x51303530, kSaltQ050, false, true},
      {0x1a2a3a4a, kSaltV1, false, false},           {0x0a0a0a0a, kSaltDraft29, false, false},
      {0xdacafaba, kSaltChromeGrease, false, false},
  };
  for (const Case& c : cases) {
    PacketSpec s;
    s.version = c.version;
    s.salt = c.salt;
    s.v2 = c.v2;
    s.type = c.v2 ? 1 : 0;
    s.scid = from_hex("0a0b");
    s.payload = concat({crypto_frame(0, kHello, c.google ? 0x08 : 0x06), Bytes(30, 0)});
    const Bytes packet = protect(s);
    auto r = decrypt(packet);
    ASSERT_TRUE(r.has_value()) << std::hex << c.version << ": " << describe(r.error());
    EXPECT_EQ(r->version, c.version);
    ASSERT_EQ(r->chunk_count, 1U) << std::hex << c.version;
    EXPECT_EQ(chunk_bytes(r->chunks[0]), kHello);
    EXPECT_EQ(r->protection.framing == QuicFraming::Google, c.google);
  }
}

TEST_F(QuicInitialTest, ReadsFramesAllowedInInitial) {
  struct Case {
    const char* what;
    Bytes payload;
    std::size_t chunks;
    bool ok;
    QuicError error;
  };
  const Bytes ack = from_hex("02050001000103");        // 1 extra range
  const Bytes ack_ecn = from_hex("0305000000010203");  // ECN counts
  const Bytes close = from_hex("1c0a0003616263");      // reason "abc"
  const std::vector<Case> cases = {
      {"ping, crypto", concat({{0x01}, crypto_frame(0, kHello), Bytes(30, 0)}), 1, true, {}},
      {"ack, crypto", concat({ack, crypto_frame(0, kHello), Bytes(30, 0)}), 1, true, {}},
      {"ack ecn, crypto", concat({ack_ecn, crypto_frame(0, kHello), Bytes(30, 0)}), 1, true, {}},
      {"crypto, close", concat({crypto_frame(0, kHello), close, Bytes(30, 0)}), 1, true, {}},
      {"stream frame", concat({crypto_frame(0, kHello), from_hex("0800"), Bytes(30, 0)}), 0, false,
       QuicError::BadFrame},
      {"app close", concat({from_hex("1d000000"), Bytes(30, 0)}), 0, false, QuicError::BadFrame},
      {"crypto past end", concat({Bytes(30, 0), from_hex("060010")}), 0, false,
       QuicError::BadFrame},
      {"two-byte frame type", concat({from_hex("4006"), Bytes(30, 0)}), 0, false,
       QuicError::BadFrame},
  };
  for (const Case& c : cases) {
    PacketSpec s;
    s.payload = c.payload;
    auto r = decrypt(protect(s));
    ASSERT_EQ(r.has_value(), c.ok) << c.what;
    if (c.ok) {
      EXPECT_EQ(r->chunk_count, c.chunks) << c.what;
    } else {
      EXPECT_EQ(r.error(), c.error) << c.what;
    }
  }
}

TEST_F(QuicInitialTest, KeepsOutOfOrderCryptoFramesInWireOrder) {
  const Bytes a(kHello.begin(), kHello.begin() + 10);
  const Bytes b(kHello.begin() + 10, kHello.end());
  PacketSpec s;
  s.payload = concat({crypto_frame(10, b), Bytes(5, 0), crypto_frame(0, a), Bytes(30, 0)});
  auto r = decrypt(protect(s));
  ASSERT_TRUE(r.has_value()) << describe(r.error());
  ASSERT_EQ(r->chunk_count, 2U);
  EXPECT_EQ(r->chunks[0].offset, 10U);
  EXPECT_EQ(chunk_bytes(r->chunks[0]), b);
  EXPECT_EQ(r->chunks[1].offset, 0U);
  EXPECT_EQ(chunk_bytes(r->chunks[1]), a);
}

TEST_F(QuicInitialTest, ReportsTooManyChunks) {
  Bytes payload;
  for (std::size_t i = 0; i < QuicInitialInfo::kMaxChunks + 1; ++i) {
    payload = concat({payload, crypto_frame(i, {0x01})});
  }
  PacketSpec s;
  s.payload = payload;
  auto r = decrypt(protect(s));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), QuicError::TooManyChunks);
}

TEST_F(QuicInitialTest, DecryptsTwoCoalescedInitials) {
  PacketSpec first;
  first.payload = concat({crypto_frame(0, Bytes(kHello.begin(), kHello.begin() + 8)), Bytes(8, 0)});
  PacketSpec second = first;
  second.pn = 1;
  second.payload = concat({crypto_frame(8, Bytes(kHello.begin() + 8, kHello.end())), Bytes(20, 0)});
  const Bytes datagram = concat({protect(first), protect(second), Bytes(50, 0)});
  auto r = decrypt(datagram);
  ASSERT_TRUE(r.has_value()) << describe(r.error());
  EXPECT_EQ(r->initial_packets, 2U);
  ASSERT_EQ(r->chunk_count, 2U);
  EXPECT_EQ(concat({chunk_bytes(r->chunks[0]), chunk_bytes(r->chunks[1])}), kHello);
  EXPECT_FALSE(r->other_packets);
  EXPECT_FALSE(r->trailing_error);
}

TEST_F(QuicInitialTest, StopsAtCoalescedZeroRttPacket) {
  PacketSpec initial;
  initial.payload = concat({crypto_frame(0, kHello), Bytes(30, 0)});
  PacketSpec zero_rtt = initial;
  zero_rtt.type = 1;  // 0-RTT in v1
  zero_rtt.payload = from_hex("0800aabbccddeeff00112233445566778899");
  const Bytes datagram = concat({protect(initial), protect(zero_rtt)});
  auto r = decrypt(datagram);
  ASSERT_TRUE(r.has_value()) << describe(r.error());
  EXPECT_EQ(r->initial_packets, 1U);
  EXPECT_EQ(r->chunk_count, 1U);
  EXPECT_TRUE(r->other_packets);
  EXPECT_FALSE(r->trailing_error);
}

TEST_F(QuicInitialTest, KeepsFirstPacketWhenSecondIsCorrupt) {
  PacketSpec initial;
  initial.payload = concat({crypto_frame(0, kHello), Bytes(30, 0)});
  Bytes second = protect(initial);
  second.back() ^= 0xff;
  const Bytes datagram = concat({protect(initial), second});
  auto r = decrypt(datagram);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->initial_packets, 1U);
  EXPECT_TRUE(r->trailing_error);
  EXPECT_EQ(r->trailing_error_kind, QuicError::DecryptFailed);
}

TEST(LooksLikeQuicLongHeader, DispatchesOnHeaderShape) {
  const Bytes packet = read_hex_file("rfc9001_a2_client_initial.hex");
  EXPECT_TRUE(looks_like_quic_long_header(span(packet)));
  EXPECT_TRUE(looks_like_quic_long_header(span(from_hex("c0000000000401020304"))));
  EXPECT_TRUE(looks_like_quic_long_header(span(from_hex("c3513034365000000000000000"))));
  EXPECT_FALSE(looks_like_quic_long_header(span(from_hex("c0123456780401020304"))));
  EXPECT_FALSE(looks_like_quic_long_header(span(from_hex("40000000010401020304"))));
  EXPECT_FALSE(looks_like_quic_long_header(span(from_hex("c000000001"))));
  EXPECT_FALSE(looks_like_quic_long_header(span(from_hex("c000000001ff01020304"))));
}

// --- Google QUIC

Bytes chlo(const std::string& sni) {
  // CHLO with PAD (3 bytes), SNI, VER.
  Bytes m = {'C', 'H', 'L', 'O', 3, 0, 0, 0};
  const auto entry = [&m](std::string_view tag, std::uint32_t end) {
    m.insert(m.end(), tag.begin(), tag.end());
    for (int i = 0; i < 4; ++i) {
      m.push_back(static_cast<std::uint8_t>(end >> (8 * i)));
    }
  };
  entry(std::string_view("PAD\0", 4), 3);
  entry(std::string_view("SNI\0", 4), static_cast<std::uint32_t>(3 + sni.size()));
  entry(std::string_view("VER\0", 4), static_cast<std::uint32_t>(7 + sni.size()));
  m.insert(m.end(), {'-', '-', '-'});
  m.insert(m.end(), sni.begin(), sni.end());
  m.insert(m.end(), {'Q', '0', '4', '3'});
  return m;
}

TEST(GquicChloSni, ReadsPlaintextChloOfEachHeaderForm) {
  const Bytes hash(12, 0x5a);
  const Bytes message = chlo("www.example.com");
  const Bytes len_be = {static_cast<std::uint8_t>(message.size() >> 8),
                        static_cast<std::uint8_t>(message.size())};
  struct Case {
    const char* what;
    Bytes datagram;
  };
  const std::vector<Case> cases = {
      {"Q043 public header", concat({from_hex("0d0102030405060708"),
                                     {'Q', '0', '4', '3'},
                                     {0x01},
                                     hash,
                                     {0xa0, 0x01},
                                     len_be,
                                     message})},
      {"Q024 private flags, little endian", concat({from_hex("0d0102030405060708"),
                                                    {'Q', '0', '2', '4'},
                                                    {0x01},
                                                    hash,
                                                    {0x01},
                                                    {0xa0, 0x01, len_be[1], len_be[0]},
                                                    message})},
      {"Q046 long header", concat({from_hex("c3"),
                                   {'Q', '0', '4', '6'},
                                   {0x50},
                                   Bytes(8, 7),
                                   from_hex("00000001"),
                                   hash,
                                   {0xa0, 0x01},
                                   len_be,
                                   message})},
      {"no version flag, ack first", concat({from_hex("0c0102030405060708"),
                                             {0x03},
                                             hash,
                                             from_hex("00400001f30e0100"),
                                             {0xa4, 0x01, 0x04, 0x00},
                                             len_be,
                                             message})},
  };
  for (const Case& c : cases) {
    auto r = gquic_chlo_sni(span(c.datagram));
    ASSERT_TRUE(r.has_value()) << c.what << ": " << describe(r.error());
    EXPECT_EQ(*r, "www.example.com") << c.what;
  }
}

TEST(GquicChloSni, ReportsErrors) {
  const Bytes hash(12, 0);
  Bytes no_sni = {'C', 'H', 'L', 'O', 1, 0, 0, 0, 'V', 'E', 'R', 0, 4, 0, 0, 0, 'Q', '0', '4', '3'};
  struct Case {
    const char* what;
    Bytes datagram;
    QuicError expected;
  };
  const std::vector<Case> cases = {
      {"empty", {}, QuicError::Truncated},
      {"public reset", from_hex("0a0102030405060708"), QuicError::NotQuic},
      {"IETF version", concat({from_hex("0d0102030405060708"), from_hex("00000001")}),
       QuicError::NotQuic},
      {"no CHLO",
       concat({from_hex("0d0102030405060708"), {'Q', '0', '4', '3', 1}, hash, Bytes(40, 0)}),
       QuicError::NoChlo},
      {"CHLO without SNI",
       concat({from_hex("0d0102030405060708"), {'Q', '0', '4', '3', 1}, hash, no_sni}),
       QuicError::NoSni},
      {"Q050 without scratch", concat({from_hex("c3"), {'Q', '0', '5', '0'}, Bytes(30, 0)}),
       QuicError::ScratchTooSmall},
  };
  for (const Case& c : cases) {
    auto r = gquic_chlo_sni(span(c.datagram));
    ASSERT_FALSE(r.has_value()) << c.what;
    EXPECT_EQ(r.error(), c.expected) << c.what << ": " << describe(r.error());
  }
}

TEST(GquicChloSni, DecryptsQ050Chlo) {
  PacketSpec s;
  s.version = 0x51303530;
  s.salt = kSaltQ050;
  s.payload = concat({crypto_frame(0, chlo("q050.example"), 0x08), Bytes(40, 0)});
  std::array<std::uint8_t, kQuicScratchSize> scratch{};
  auto r = gquic_chlo_sni(span(protect(s)), scratch);
  ASSERT_TRUE(r.has_value()) << describe(r.error());
  EXPECT_EQ(*r, "q050.example");
}

// --- Real captures (shared data)

std::string shared_dir() {
  return std::string(EGRESSGUARD_SOURCE_DIR) + "/../shared/data";
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

bool have_tshark() {
  return std::system("tshark -v > /dev/null 2>&1") == 0;
}

struct Datagram {
  std::string src, dst;
  Bytes payload;
};

// UDP payloads of `file` matching `filter`, through tshark.
std::vector<Datagram> tshark_datagrams(const std::string& file, const std::string& filter) {
  const std::string cmd = "tshark -n -r '" + file +
                          "' -d udp.port==853,quic -d udp.port==784,quic -d udp.port==8853,quic "
                          "-Y '" +
                          filter +
                          "' -T fields -E separator=/t -e ip.src -e ipv6.src -e udp.srcport "
                          "-e ip.dst -e ipv6.dst -e udp.dstport -e udp.payload 2>/dev/null";
  std::vector<Datagram> out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  std::string line;
  std::array<char, 65536> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe) != nullptr) {
    line += buf.data();
    if (line.empty() || line.back() != '\n') {
      continue;
    }
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t')) {
      f.push_back(field);
    }
    line.clear();
    if (f.size() < 7) {
      continue;
    }
    Datagram d;
    d.src = f[0] + f[1] + ":" + f[2];
    d.dst = f[3] + f[4] + ":" + f[5];
    d.payload = from_hex(f[6].substr(0, f[6].find(',')));  // first payload if tunnelled
    out.push_back(std::move(d));
  }
  pclose(pipe);
  return out;
}

std::set<std::string> truth_names(const std::string& capture) {
  std::set<std::string> names;
  std::ifstream in(shared_dir() + "/truth/" + capture + ".tsv");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t')) {
      f.push_back(field);
    }
    if (f.size() >= 8 && f[6] == "quic_sni") {
      names.insert(f[7]);
    }
  }
  return names;
}

bool skip_without_captures() {
  if (!std::filesystem::exists(shared_dir() + "/pcaps") || !have_tshark()) {
    return true;
  }
  return false;
}

const std::vector<std::string> kIetfCaptures = {
    "ndpi/doq.pcapng",
    "ndpi/quic-27.pcap",
    "ndpi/quic-29.pcap",
    "ndpi/quic-34.pcap",
    "ndpi/quic-mvfst-22.pcap",
    "ndpi/quic-mvfst-exp.pcap",
    "ndpi/quic-v2.pcapng",
    "ndpi/quic_0RTT.pcap",
    "ndpi/quic_cc_ack.pcapng",
    "ndpi/quic_crypto_aes_auth_size.pcap",
    "ndpi/quic_frags_ch_in_multiple_packets.pcapng",
    "ndpi/quic_frags_different_dcid.pcapng",
    "ndpi/quic_interop_V.pcapng",
    "ndpi/quic_q50.pcap",
    "ndpi/quic_t51.pcap",
    "ndpi/gquic.pcap",
    "ndpi/sites.pcapng",
    "suricata-verify/ja4-quic__input.pcap",
    "suricata-verify/ja4-tls-quic__input.pcap",
    "suricata-verify/quic-frag__input.pcap",
    "suricata-verify/quic-ietf__input.pcap",
    "suricata-verify/quic-retry__input.pcap",
    "zeek/quic__chromium-115.0.5790.110-api-cirrus-com.pcap",
    "zeek/quic__curl-8.1.2-dev-http3-www-google-de.pcap",
    "zeek/quic__quic-multiple-initial-fragmented-crypto.pcap",
    "zeek/quic__quic_win11_firefox_google.pcap",
    "zeek/quic__quicv2-echo-443.pcap",
};

// Every client Initial of a supported version in the captures decrypts, the CRYPTO data of each
// flow starts with a ClientHello (or a CHLO for Q050), and every quic_sni name of the truth
// appears in some flow's reassembled CRYPTO data.
TEST(QuicInitialCaptures, DecryptsEveryClientInitial) {
  if (skip_without_captures()) {
    if (in_ci()) {
      FAIL() << "shared captures or tshark missing under CI=true";
    }
    GTEST_SKIP() << "shared data (" << shared_dir() << ") or tshark not available";
  }
  std::array<std::uint8_t, kQuicScratchSize> scratch{};
  std::size_t total = 0;
  for (const std::string& capture : kIetfCaptures) {
    SCOPED_TRACE(capture);
    const std::vector<Datagram> datagrams = tshark_datagrams(
        shared_dir() + "/pcaps/" + capture,
        "(quic.long.packet_type==0 || quic.long.packet_type_v2==1) && !icmp && !icmpv6");
    ASSERT_FALSE(datagrams.empty());
    // Flow key (unordered endpoints) -> client endpoint, key DCID, CRYPTO stream.
    struct Flow {
      std::string client;
      Bytes key_dcid;
      std::map<std::uint64_t, Bytes> crypto;
      bool chlo = false;
    };
    std::map<std::string, Flow> flows;
    for (const Datagram& d : datagrams) {
      const std::string key = std::min(d.src, d.dst) + "|" + std::max(d.src, d.dst);
      auto [it, fresh] = flows.try_emplace(key);
      Flow& flow = it->second;
      if (fresh) {
        flow.client = d.src;
      }
      if (d.src != flow.client) {
        continue;  // server Initials use the server keys
      }
      if (d.payload.size() >= 6 && d.payload[0] >= 0x80) {
        const std::uint32_t version = (std::uint32_t{d.payload[1]} << 24) |
                                      (std::uint32_t{d.payload[2]} << 16) |
                                      (std::uint32_t{d.payload[3]} << 8) | d.payload[4];
        if (flow.key_dcid.empty() && d.payload.size() > 6u + d.payload[5]) {
          flow.key_dcid.assign(d.payload.begin() + 6, d.payload.begin() + 6 + d.payload[5]);
        }
        if (!quic_version_info(version)) {
          continue;
        }
      }
      auto r = decrypt_client_initial(span(d.payload), span(flow.key_dcid), scratch);
      ASSERT_TRUE(r.has_value()) << "datagram " << total << " from " << d.src << ": "
                                 << describe(r.error());
      ++total;
      // After a Retry the keys follow the new DCID: keep what worked.
      flow.key_dcid.assign(r->key_dcid.begin(), r->key_dcid.end());
      flow.chlo = r->protection.handshake == QuicHandshake::GoogleChlo;
      for (const QuicCryptoChunk& c : r->crypto_chunks()) {
        flow.crypto.emplace(c.offset, Bytes(c.data.begin(), c.data.end()));
      }
    }
    std::string all_crypto;
    for (auto& [key, flow] : flows) {
      if (flow.crypto.empty()) {
        continue;
      }
      // Reassemble from offset 0 while contiguous.
      Bytes stream;
      for (const auto& [offset, data] : flow.crypto) {
        if (offset > stream.size()) {
          break;
        }
        const std::size_t skip = stream.size() - static_cast<std::size_t>(offset);
        if (skip < data.size()) {
          stream.insert(stream.end(), data.begin() + static_cast<std::ptrdiff_t>(skip), data.end());
        }
      }
      ASSERT_FALSE(stream.empty()) << key;
      if (flow.chlo) {
        EXPECT_EQ(std::string(stream.begin(), stream.begin() + 4), "CHLO") << key;
      } else {
        EXPECT_EQ(stream[0], 0x01) << key;  // TLS ClientHello
      }
      all_crypto.append(stream.begin(), stream.end());
      all_crypto += '\n';
    }
    for (const std::string& name : truth_names(capture)) {
      EXPECT_NE(all_crypto.find(name), std::string::npos) << name;
    }
  }
  EXPECT_GT(total, 100U);
}

TEST(QuicInitialCaptures, ReadsEveryPlaintextGquicSni) {
  if (skip_without_captures()) {
    if (in_ci()) {
      FAIL() << "shared captures or tshark missing under CI=true";
    }
    GTEST_SKIP() << "shared data (" << shared_dir() << ") or tshark not available";
  }
  const std::vector<std::string> captures = {
      "ndpi/quic.pcap",   "ndpi/quic_q43.pcap",      "ndpi/quic_q46.pcap", "ndpi/http_ipv6.pcap",
      "ndpi/wechat.pcap", "ndpi/youtubeupload.pcap", "ndpi/telegram.pcap",
  };
  for (const std::string& capture : captures) {
    SCOPED_TRACE(capture);
    std::set<std::string> found;
    for (const Datagram& d :
         tshark_datagrams(shared_dir() + "/pcaps/" + capture, "gquic.tag==\"CHLO\"")) {
      auto r = gquic_chlo_sni(span(d.payload));
      if (r.has_value()) {
        found.insert(std::string(*r));
      } else {
        EXPECT_EQ(r.error(), QuicError::NoSni) << d.src;
      }
    }
    std::set<std::string> expected = truth_names(capture);
    EXPECT_EQ(found, expected);
  }
}

}  // namespace
}  // namespace egressguard::parse
