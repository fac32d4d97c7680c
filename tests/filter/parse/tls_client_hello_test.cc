#include "filter/parse/tls_client_hello.h"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/parse/builders_helpers.h"

namespace egressguard::parse {
namespace {

using test::Bytes;

std::array<std::uint8_t, kClientHelloScratchSize> g_scratch{};

struct HelloCase {
  std::string name{};
  Bytes handshake{};
  std::optional<TlsParseError> error{};
  std::string sni{};
  bool has_sni = false;
  bool has_ech = false;
  bool has_esni = false;
  bool odd = false;
  bool quic_tp = false;
};

Bytes hello(const test::ClientHelloSpec& spec) {
  return test::client_hello(spec);
}

std::vector<HelloCase> hello_cases() {
  std::vector<HelloCase> c;
  c.push_back({"sni", hello({.sni = "www.tiktok.com"}), {}, "www.tiktok.com", true});
  c.push_back({"no_sni", hello({}), {}, "", false});
  c.push_back({"ech_outer_sni",
               hello({.sni = "public.example", .ech = true}),
               {},
               "public.example",
               true,
               true});
  c.push_back({"esni", hello({.sni = "", .esni = true}), {}, "", false, false, true});
  c.push_back({"odd_sni_bytes",
               hello({.sni = "bad name\x01.com"}),
               {},
               "bad name\x01.com",
               true,
               false,
               false,
               true});
  c.push_back({"quic_transport_params",
               hello({.sni = "q.example", .quic_transport_params = true}),
               {},
               "q.example",
               true,
               false,
               false,
               false,
               true});
  c.push_back({"post_quantum_key_share",
               hello({.sni = "pq.example", .key_share_bytes = 1216}),
               {},
               "pq.example",
               true});
  c.push_back({"chrome_like",
               test::chrome_like_client_hello("vcs-va.tiktokv.com"),
               {},
               "vcs-va.tiktokv.com",
               true,
               true});
  {
    test::ClientHelloSpec spec{.sni = "first.example"};
    Bytes entry{0};
    test::append(entry, test::with_u16_length(as_bytes("second.example")));
    spec.extra_extensions = {{0, test::with_u16_length(entry)}};
    c.push_back({"duplicate_sni_rejected", hello(spec), TlsParseError::BadExtension});
  }
  {
    test::ClientHelloSpec spec;
    spec.extra_extensions = {{0, Bytes{0, 9, 0, 0, 3, 'a'}}};  // list longer than extension
    c.push_back({"sni_list_overruns", hello(spec), TlsParseError::BadExtension});
  }
  {
    test::ClientHelloSpec spec;
    spec.extra_extensions = {{16, Bytes{0, 3, 5, 'h', '2'}}};  // name overruns list
    c.push_back({"alpn_name_overruns", hello(spec), TlsParseError::BadExtension});
  }
  {
    Bytes h = hello({.sni = "a.example"});
    h[0] = 2;  // ServerHello
    c.push_back({"server_hello", h, TlsParseError::NotClientHello});
  }
  {
    Bytes h = hello({.sni = "a.example"});
    h.resize(h.size() - 1);
    c.push_back({"short_by_one", h, TlsParseError::Truncated});
  }
  {
    Bytes h = hello({.sni = "a.example"});
    h[4 + 2 + 32] = 40;  // session id length > 32
    c.push_back({"session_id_too_long", h, TlsParseError::BadLength});
  }
  {
    // Extensions block length one more than what follows.
    Bytes h = hello({.sni = "a.example"});
    const std::size_t ext_len_at = 4 + 2 + 32 + 33 + 2 + 8 + 2;
    h[ext_len_at + 1] = static_cast<std::uint8_t>(h[ext_len_at + 1] + 1);
    c.push_back({"extensions_overrun_body", h, TlsParseError::BadLength});
  }
  {
    // No extensions at all (SSL 3.0 style).
    Bytes body{3, 0};
    test::append(body, Bytes(32, 1));
    test::append(body, Bytes{0, 0, 2, 0, 0x2f, 1, 0});
    Bytes h{1};
    test::put24(h, static_cast<std::uint32_t>(body.size()));
    test::append(h, body);
    c.push_back({"no_extensions", h, {}, "", false});
  }
  c.push_back({"garbage", test::bytes_of("GET / HTTP/1.1\r\n"), TlsParseError::NotClientHello});
  c.push_back({"empty", {}, TlsParseError::Truncated});
  return c;
}

class ParseClientHello : public ::testing::TestWithParam<HelloCase> {};

TEST_P(ParseClientHello, MatchesTable) {
  const HelloCase& c = GetParam();
  const auto result = parse_client_hello(c.handshake);
  if (c.error) {
    ASSERT_FALSE(result.has_value()) << result->sni;
    EXPECT_EQ(describe(result.error()), describe(*c.error));
    return;
  }
  ASSERT_TRUE(result.has_value()) << describe(result.error());
  EXPECT_EQ(result->sni, c.sni);
  EXPECT_EQ(result->has_sni, c.has_sni);
  EXPECT_EQ(result->has_ech, c.has_ech);
  EXPECT_EQ(result->has_esni, c.has_esni);
  EXPECT_EQ(result->sni_odd_bytes, c.odd);
  EXPECT_EQ(result->has_quic_transport_params, c.quic_tp);
}

INSTANTIATE_TEST_SUITE_P(Table, ParseClientHello, ::testing::ValuesIn(hello_cases()),
                         [](const ::testing::TestParamInfo<HelloCase>& p) { return p.param.name; });

// ---- salvage_client_hello_sni: a ClientHello broken after its server_name ----

// Sets the length of the extension of type 0x4444 (the marker used below) to `length`.
Bytes with_marker_length(Bytes h, std::uint16_t length) {
  for (std::size_t i = 0; i + 3 < h.size(); ++i) {
    if (h[i] == 0x44 && h[i + 1] == 0x44) {
      h[i + 2] = static_cast<std::uint8_t>(length >> 8);
      h[i + 3] = static_cast<std::uint8_t>(length);
      return h;
    }
  }
  ADD_FAILURE() << "no marker extension";
  return h;
}

struct SalvageCase {
  std::string name{};
  Bytes handshake{};
  TlsParseError strict{};  // what parse_client_hello says
  std::string sni{};       // salvaged; empty: nothing can be salvaged
};

std::vector<SalvageCase> salvage_cases() {
  std::vector<SalvageCase> c;
  const Bytes marker(8, 0x77);
  Bytes sni_entry{0};
  test::append(sni_entry, test::with_u16_length(as_bytes("www.tiktok.com")));
  const Bytes sni_body = test::with_u16_length(sni_entry);
  // nDPI's tls_invalid_reads.pcap: ALPN list length 47241 in an 11-byte extension, then bytes
  // that do not frame as extensions.
  c.push_back({"bad_alpn_after_sni",
               hello({.sni = "e.crashlytics.com",
                      .extra_extensions = {{16, Bytes{0xb8, 0x89, 0xa5, 0x2f, 0x56}}}}),
               TlsParseError::BadExtension, "e.crashlytics.com"});
  c.push_back(
      {"list_breaks_off_after_sni",
       with_marker_length(hello({.sni = "www.tiktok.com", .extra_extensions = {{0x4444, marker}}}),
                          0x4fc6),
       TlsParseError::BadExtension, "www.tiktok.com"});
  {
    Bytes h = hello({.sni = "a.example"});
    const std::size_t ext_len_at = 4 + 2 + 32 + 33 + 2 + 8 + 2;
    h[ext_len_at + 1] = static_cast<std::uint8_t>(h[ext_len_at + 1] + 1);
    c.push_back({"extensions_overrun_body", h, TlsParseError::BadLength, "a.example"});
  }
  c.push_back(
      {"list_breaks_off_before_sni",
       with_marker_length(hello({.extra_extensions = {{0x4444, marker}, {0, sni_body}}}), 0x4fc6),
       TlsParseError::BadExtension, ""});
  c.push_back({"duplicate_sni_then_broken",
               with_marker_length(hello({.sni = "a.example",
                                         .extra_extensions = {{0, sni_body}, {0x4444, marker}}}),
                                  0x4fc6),
               TlsParseError::BadExtension, ""});
  c.push_back({"malformed_sni", hello({.extra_extensions = {{0, Bytes{0, 9, 0, 0, 3, 'a'}}}}),
               TlsParseError::BadExtension, ""});
  c.push_back({"no_sni_bad_alpn", hello({.extra_extensions = {{16, Bytes{0, 3, 5, 'h', '2'}}}}),
               TlsParseError::BadExtension, ""});
  {
    Bytes h = hello({.sni = "a.example"});
    h[4 + 2 + 32] = 40;  // session id length > 32: the header itself is broken
    c.push_back({"broken_header", h, TlsParseError::BadLength, ""});
  }
  return c;
}

class SalvageClientHelloSni : public ::testing::TestWithParam<SalvageCase> {};

TEST_P(SalvageClientHelloSni, KeepsOnlyAWellFormedLeadingServerName) {
  const SalvageCase& c = GetParam();
  const auto strict = parse_client_hello(c.handshake);
  ASSERT_FALSE(strict.has_value());
  EXPECT_EQ(describe(strict.error()), describe(c.strict));
  const auto salvaged = salvage_client_hello_sni(c.handshake);
  if (c.sni.empty()) {
    EXPECT_FALSE(salvaged.has_value()) << salvaged->sni;
    return;
  }
  ASSERT_TRUE(salvaged.has_value()) << describe(salvaged.error());
  EXPECT_EQ(salvaged->sni, c.sni);
  EXPECT_TRUE(salvaged->has_sni);
}

INSTANTIATE_TEST_SUITE_P(Table, SalvageClientHelloSni, ::testing::ValuesIn(salvage_cases()),
                         [](const ::testing::TestParamInfo<SalvageCase>& p) {
                           return p.param.name;
                         });

TEST(SalvageClientHelloSni, AgreesWithTheStrictParserOnAValidHello) {
  const Bytes h = test::chrome_like_client_hello("www.tiktok.com");
  const auto salvaged = salvage_client_hello_sni(h);
  ASSERT_TRUE(salvaged.has_value());
  EXPECT_EQ(salvaged->sni, "www.tiktok.com");
}

TEST(ParseClientHello, ReadsAlpnVersionsAndCounts) {
  const Bytes h = test::chrome_like_client_hello("www.tiktok.com");
  const auto info = parse_client_hello(h);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->legacy_version, 0x0303);
  EXPECT_TRUE(info->offers_tls13);
  EXPECT_GE(info->extension_count, 16);
  EXPECT_TRUE(alpn_offers(info->alpn, "h2"));
  EXPECT_TRUE(alpn_offers(info->alpn, "http/1.1"));
  EXPECT_FALSE(alpn_offers(info->alpn, "h3"));
  EXPECT_FALSE(alpn_offers(info->alpn, "h"));
  // Views point into the handshake buffer.
  EXPECT_EQ(as_bytes(info->sni).data() - h.data(),
            4 + 2 + 32 + 33 + 2 + 8 + 2 + 2 + 2 + 2 + 2 + 1 + 2);
}

// ---- assemble_client_hello ----

TEST(AssembleClientHello, ReturnsAViewIntoTheStreamForOneRecord) {
  const Bytes h = test::chrome_like_client_hello("www.tiktok.com");
  const Bytes stream = test::cat({test::tls_records(h), test::bytes_of("trailing app data")});
  const auto message = assemble_client_hello(stream, g_scratch);
  ASSERT_TRUE(message.has_value()) << describe(message.error());
  EXPECT_EQ(message->data(), stream.data() + 5);
  EXPECT_EQ(Bytes(message->begin(), message->end()), h);
}

struct SplitCase {
  std::string name{};
  std::size_t fragment;
};

class AssembleSplit : public ::testing::TestWithParam<SplitCase> {};

TEST_P(AssembleSplit, ReassemblesAcrossRecords) {
  const Bytes h = test::chrome_like_client_hello("vcs-va.tiktokv.com");
  const Bytes stream = test::tls_records(h, GetParam().fragment);
  const auto message = assemble_client_hello(stream, g_scratch);
  ASSERT_TRUE(message.has_value()) << describe(message.error());
  EXPECT_EQ(Bytes(message->begin(), message->end()), h);
  const auto info = parse_client_hello(*message);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->sni, "vcs-va.tiktokv.com");
}

INSTANTIATE_TEST_SUITE_P(Table, AssembleSplit,
                         ::testing::Values(SplitCase{"one_byte_records", 1},
                                           SplitCase{"three_byte_records", 3},
                                           SplitCase{"header_split", 2},
                                           SplitCase{"two_records", 1000},
                                           SplitCase{"odd_size", 517}),
                         [](const ::testing::TestParamInfo<SplitCase>& p) { return p.param.name; });

TEST(AssembleClientHello, NeedsMoreAtEveryPrefixOfOneRecord) {
  const Bytes h = test::chrome_like_client_hello("www.tiktok.com");
  const Bytes stream = test::tls_records(h);
  for (std::size_t n = 0; n < stream.size(); ++n) {
    const auto message = assemble_client_hello(ByteSpan(stream.data(), n), g_scratch);
    ASSERT_FALSE(message.has_value()) << n;
    EXPECT_EQ(message.error(), TlsParseError::NeedMore) << n;
  }
  EXPECT_TRUE(assemble_client_hello(stream, g_scratch).has_value());
}

TEST(AssembleClientHello, NeedsMoreAtEveryPrefixOfSplitRecords) {
  const Bytes h = test::client_hello({.sni = "split.example", .alpn = {"h2"}});
  const Bytes stream = test::tls_records(h, 50);
  for (std::size_t n = 0; n < stream.size(); ++n) {
    const auto message = assemble_client_hello(ByteSpan(stream.data(), n), g_scratch);
    ASSERT_FALSE(message.has_value()) << n;
    EXPECT_EQ(message.error(), TlsParseError::NeedMore) << n;
  }
  const auto message = assemble_client_hello(stream, g_scratch);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(parse_client_hello(*message)->sni, "split.example");
}

struct StreamCase {
  std::string name{};
  Bytes stream{};
  TlsParseError error{};
};

class AssembleErrors : public ::testing::TestWithParam<StreamCase> {};

TEST_P(AssembleErrors, MatchesTable) {
  std::array<std::uint8_t, 4096> small{};
  const auto message = assemble_client_hello(GetParam().stream, small);
  ASSERT_FALSE(message.has_value());
  EXPECT_EQ(describe(message.error()), describe(GetParam().error));
}

std::vector<StreamCase> stream_cases() {
  std::vector<StreamCase> c;
  c.push_back({"http", test::bytes_of("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), TlsParseError::NotTls});
  c.push_back({"ssh", test::bytes_of("SSH-2.0-OpenSSH_9.2\r\n"), TlsParseError::NotTls});
  c.push_back({"bad_version", Bytes{22, 2, 0, 0, 4, 1, 0, 0, 0}, TlsParseError::NotTls});
  c.push_back({"bad_minor", Bytes{22, 3, 9}, TlsParseError::NotTls});
  c.push_back(
      {"application_data_first", Bytes{23, 3, 3, 0, 5, 1, 2, 3, 4, 5}, TlsParseError::NotTls});
  c.push_back({"zero_length_record", Bytes{22, 3, 1, 0, 0}, TlsParseError::BadLength});
  c.push_back({"oversized_record", Bytes{22, 3, 1, 0x48, 0x01, 1}, TlsParseError::BadLength});
  c.push_back(
      {"server_hello", test::tls_records(Bytes{2, 0, 0, 2, 3, 3}), TlsParseError::NotClientHello});
  c.push_back(
      {"server_hello_one_byte_record", Bytes{22, 3, 3, 0, 1, 2}, TlsParseError::NotClientHello});
  c.push_back({"too_large_two_records",
               test::tls_records(test::client_hello({.sni = "big.example", .padding = 5000}), 4000),
               TlsParseError::TooLarge});
  c.push_back({"too_large_split",
               test::tls_records(test::client_hello({.sni = "big.example", .padding = 5000}), 100),
               TlsParseError::TooLarge});
  {
    const Bytes h = test::client_hello({.sni = "x.example"});
    Bytes stream = test::tls_records(ByteSpan(h.data(), 20));
    test::append(stream, Bytes{21, 3, 3, 0, 2, 2, 40});  // an alert in the middle
    c.push_back({"alert_inside_hello", stream, TlsParseError::NotHandshake});
  }
  return c;
}

INSTANTIATE_TEST_SUITE_P(Table, AssembleErrors, ::testing::ValuesIn(stream_cases()),
                         [](const ::testing::TestParamInfo<StreamCase>& p) {
                           return p.param.name;
                         });

TEST(AssembleClientHello, FitsAPostQuantumHelloInTheDefaultScratch) {
  const Bytes h = test::client_hello({.sni = "pq.example", .key_share_bytes = 8000});
  const Bytes stream = test::tls_records(h, 16384);
  ASSERT_GT(h.size(), 8000U);
  const auto message = assemble_client_hello(stream, g_scratch);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(parse_client_hello(*message)->sni, "pq.example");
}

TEST(LooksLikeTls, ChecksThePrefixPresent) {
  const Bytes stream = test::tls_records(test::client_hello({.sni = "a.example"}));
  for (std::size_t n = 1; n <= 6; ++n) {
    EXPECT_TRUE(looks_like_tls(ByteSpan(stream.data(), n))) << n;
  }
  EXPECT_FALSE(looks_like_tls({}));
  EXPECT_FALSE(looks_like_tls(test::bytes_of("GET / HTTP/1.1")));
  EXPECT_FALSE(looks_like_tls(Bytes{22, 3, 3, 0, 40, 2}));  // ServerHello
  EXPECT_FALSE(looks_like_tls(Bytes{22, 4}));
}

TEST(DescribeTlsParseError, UsesCounterLabels) {
  EXPECT_EQ(describe(TlsParseError::Truncated), "tls_truncated");
  EXPECT_EQ(describe(TlsParseError::NeedMore), "tls_need_more");
}

}  // namespace
}  // namespace egressguard::parse
