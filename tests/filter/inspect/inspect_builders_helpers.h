// Fixtures for inspection tests and benchmarks: a small policy on temporary list files, a sink
// that records observations, frame builders for whole client/server packets, and a QUIC v1
// Initial encryptor (RFC 9001 section 5) so tests can build Initials carrying any ClientHello.
// Header-only so that bench/filter/inspect can include it too.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include "filter/inspect/inspector.h"
#include "filter/inspect/observation.h"
#include "filter/inspect/policy.h"
#include "tests/filter/parse/builders_helpers.h"

namespace egressguard::test {

// ---- policy ----

// Groups, in match order: gov (10.1/16, fd00:1::/64; blocks tiktok; enforce), watch (10.3/16;
// blocks tiktok; monitor), byod (10.2/16; blocks nothing). Default group: byod.
// Category tiktok: *.tiktok.com, *.tiktokv.com, bytedance.com (exact).
class TestPolicy {
 public:
  TestPolicy() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("egressguard-inspect-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    const auto list = dir_ / "tiktok.txt";
    std::ofstream(list) << "*.tiktok.com\n*.tiktokv.com\nbytedance.com\n";

    inspect::PolicySpec spec;
    inspect::CategorySpec tiktok;
    tiktok.name = "tiktok";
    inspect::ListSpec list_spec;
    list_spec.name = "tiktok-list";
    list_spec.path = list.string();
    tiktok.lists.push_back(list_spec);
    spec.categories.push_back(tiktok);

    inspect::GroupSpec gov;
    gov.name = "gov";
    gov.members.cidrs.push_back(*inspect::Cidr::parse("10.1.0.0/16"));
    gov.members.cidrs.push_back(*inspect::Cidr::parse("fd00:1::/64"));
    gov.block = {"tiktok"};
    inspect::GroupSpec watch;
    watch.name = "watch";
    watch.members.cidrs.push_back(*inspect::Cidr::parse("10.3.0.0/16"));
    watch.block = {"tiktok"};
    watch.mode = inspect::Mode::Monitor;
    inspect::GroupSpec byod;
    byod.name = "byod";
    byod.members.cidrs.push_back(*inspect::Cidr::parse("10.2.0.0/16"));
    spec.groups = {gov, watch, byod};
    spec.default_group = "byod";

    auto snapshot = inspect::PolicySnapshot::build(spec);
    if (!snapshot) {
      throw std::runtime_error("test policy does not build: " + snapshot.error().front());
    }
    store_ = std::make_unique<inspect::PolicyStore>(*snapshot);
  }
  ~TestPolicy() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TestPolicy(const TestPolicy&) = delete;
  TestPolicy& operator=(const TestPolicy&) = delete;

  const inspect::PolicyStore& store() const { return *store_; }
  std::uint32_t group(std::string_view name) const {
    return static_cast<std::uint32_t>(store_->current()->find_group(name));
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<inspect::PolicyStore> store_;
};

// ---- observations ----

struct Seen {
  std::string name;
  inspect::AppProto app = inspect::AppProto::None;
  inspect::Decision decision;
  std::uint32_t flags = 0;
  std::string src, dst;
  std::uint16_t sport = 0, dport = 0;
  std::uint8_t l4 = 0;
  std::string alpn;
  std::uint16_t qtype = 0;
  std::uint64_t flow_id = 0;
  std::string interface;
  std::optional<std::uint16_t> vlan;
};

class RecordingSink : public inspect::ObservationSink {
 public:
  void on_observation(const inspect::Observation& o) override {
    seen.push_back(Seen{std::string(o.name), o.app, o.decision, o.flags, o.src.to_string(),
                        o.dst.to_string(), o.sport, o.dport, o.l4, std::string(o.alpn), o.dns_qtype,
                        o.flow_id, std::string(o.interface), o.vlan});
  }
  void on_flow_new(std::uint32_t group) override { new_flows.push_back(group); }

  std::vector<Seen> seen;
  std::vector<std::uint32_t> new_flows;
};

// ---- frames ----

inline bool is_v6(std::string_view address) {
  return address.find(':') != std::string_view::npos;
}

inline Bytes ip_frame(std::string_view src, std::string_view dst, std::uint8_t proto, ByteSpan l4) {
  if (is_v6(src)) {
    return ethernet(0x86dd, ipv6(src, dst, proto, l4));
  }
  return ethernet(0x0800, ipv4(src, dst, proto, l4));
}

inline Bytes tcp_frame(std::string_view src, std::uint16_t sport, std::string_view dst,
                       std::uint16_t dport, std::uint32_t seq, ByteSpan payload,
                       std::uint8_t flags = parse::kTcpAck | parse::kTcpPsh,
                       std::uint32_t ack = 1) {
  return ip_frame(src, dst, parse::kIpProtoTcp, tcp(sport, dport, payload, flags, seq, ack));
}

inline Bytes udp_frame(std::string_view src, std::uint16_t sport, std::string_view dst,
                       std::uint16_t dport, ByteSpan payload) {
  return ip_frame(src, dst, parse::kIpProtoUdp, udp(sport, dport, payload));
}

// A TLS ClientHello in records of at most `max_fragment` bytes.
inline Bytes tls_stream(std::string_view sni, std::size_t max_fragment = 16384,
                        std::vector<std::string> alpn = {"h2", "http/1.1"}) {
  ClientHelloSpec spec;
  spec.sni = std::string(sni);
  spec.alpn = std::move(alpn);
  return tls_records(client_hello(spec), max_fragment);
}

// ---- QUIC v1 Initial (RFC 9001 section 5) ----

namespace quic {

inline Bytes hmac_sha256(const Bytes& key, const Bytes& data) {
  Bytes out(32);
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
       &len);
  return out;
}

inline Bytes expand_label(const Bytes& secret, const std::string& label, std::size_t length) {
  const std::string full = "tls13 " + label;
  Bytes info = {0, static_cast<std::uint8_t>(length), static_cast<std::uint8_t>(full.size())};
  info.insert(info.end(), full.begin(), full.end());
  info.push_back(0);
  info.push_back(1);
  Bytes out = hmac_sha256(secret, info);
  out.resize(length);
  return out;
}

inline void append_varint(Bytes& out, std::uint64_t v) {
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

inline Bytes crypto_frame(std::uint64_t offset, ByteSpan data) {
  Bytes f = {0x06};
  append_varint(f, offset);
  append_varint(f, data.size());
  append(f, data);
  return f;
}

// A protected v1 client Initial with `frames` padded to 1162 bytes of payload.
inline Bytes initial(const Bytes& dcid, Bytes frames, std::uint32_t pn = 0) {
  static const Bytes kSaltV1 = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
  if (frames.size() < 1162) {
    frames.resize(1162, 0);  // PADDING
  }
  const Bytes secret = expand_label(hmac_sha256(kSaltV1, dcid), "client in", 32);
  const Bytes key = expand_label(secret, "quic key", 16);
  const Bytes iv = expand_label(secret, "quic iv", 12);
  const Bytes hp = expand_label(secret, "quic hp", 16);
  constexpr std::size_t kPnLength = 2;
  Bytes h = {0xc0 | (kPnLength - 1), 0, 0, 0, 1};
  h.push_back(static_cast<std::uint8_t>(dcid.size()));
  append(h, dcid);
  h.push_back(0);  // no SCID
  h.push_back(0);  // no token
  append_varint(h, kPnLength + frames.size() + 16);
  const std::size_t pn_offset = h.size();
  h.push_back(static_cast<std::uint8_t>(pn >> 8));
  h.push_back(static_cast<std::uint8_t>(pn));
  Bytes nonce = iv;
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[11 - i] ^= static_cast<std::uint8_t>(std::uint64_t{pn} >> (8 * i));
  }
  Bytes ct(frames.size() + 16);
  int len = 0;
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, key.data(), nonce.data());
  EVP_EncryptUpdate(c, nullptr, &len, h.data(), static_cast<int>(h.size()));
  EVP_EncryptUpdate(c, ct.data(), &len, frames.data(), static_cast<int>(frames.size()));
  EVP_EncryptFinal_ex(c, ct.data() + len, &len);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, ct.data() + frames.size());
  EVP_CIPHER_CTX_free(c);
  Bytes mask(16);
  c = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), nullptr, hp.data(), nullptr);
  EVP_EncryptUpdate(c, mask.data(), &len, ct.data() + (4 - kPnLength), 16);
  EVP_CIPHER_CTX_free(c);
  Bytes out = h;
  append(out, ct);
  out[0] = static_cast<std::uint8_t>(out[0] ^ (mask[0] & 0x0f));
  for (std::size_t i = 0; i < kPnLength; ++i) {
    out[pn_offset + i] = static_cast<std::uint8_t>(out[pn_offset + i] ^ mask[1 + i]);
  }
  return out;
}

}  // namespace quic

}  // namespace egressguard::test
