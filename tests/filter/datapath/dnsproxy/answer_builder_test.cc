#include "filter/datapath/dnsproxy/answer_builder.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/datapath/dnsproxy/dns_message.h"
#include "tests/filter/datapath/dnsproxy/dns_test_helpers.h"

namespace egressguard::dnsproxy {
namespace {

using testing::make_query;
using testing::parse_answer;

struct AnswerCase {
  const char* description;
  std::uint16_t qtype;
  bool edns;
  AnswerOptions options;
  std::uint8_t rcode;
  std::vector<std::string> answers;
  std::size_t authority;  // SOA records
  bool opt;
  std::optional<std::uint16_t> ede;
  std::string ede_text;
};

AnswerOptions opts(std::uint8_t rcode, bool null_address, std::optional<ExtendedError> ede,
                   bool edns) {
  AnswerOptions o;
  o.rcode = rcode;
  o.null_address = null_address;
  o.ttl = 42;
  o.ede = std::move(ede);
  o.edns = edns;
  return o;
}

const ExtendedError kBlocked{kEdeBlocked, "blocked by egressguard: category tiktok"};
const ExtendedError kFiltered{kEdeFiltered, "filtered by egressguard: Firefox DoH canary"};

class BuildAnswer : public ::testing::TestWithParam<AnswerCase> {};

TEST_P(BuildAnswer, MatchesTheTable) {
  const AnswerCase& c = GetParam();
  const auto query = make_query({"www.TikTok.com", c.qtype, 0xbeef, c.edns, 4096, true});
  auto wire = build_answer(query, c.options);
  ASSERT_TRUE(wire.has_value()) << c.description << ": " << wire.error();
  const auto a = parse_answer(*wire);
  ASSERT_TRUE(a.ok) << c.description;
  EXPECT_EQ(a.id, 0xbeef) << c.description;
  EXPECT_TRUE(a.qr) << c.description;
  EXPECT_TRUE(a.rd) << c.description;
  EXPECT_TRUE(a.ra) << c.description;
  EXPECT_EQ(a.qname, "www.TikTok.com.") << c.description << ": question copied byte for byte";
  EXPECT_EQ(a.qtype, c.qtype) << c.description;
  EXPECT_EQ(a.rcode, c.rcode) << c.description;
  EXPECT_EQ(a.answers, c.answers) << c.description;
  EXPECT_EQ(a.authority.size(), c.authority) << c.description;
  if (c.authority > 0) {
    EXPECT_EQ(a.authority[0].rfind("www.TikTok.com. 42 IN SOA egressguard.invalid.", 0), 0U)
        << a.authority[0];
  }
  EXPECT_EQ(a.opt, c.opt) << c.description;
  EXPECT_EQ(a.ede, c.ede) << c.description;
  EXPECT_EQ(a.ede_text, c.ede_text) << c.description;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BuildAnswer,
    ::testing::Values(AnswerCase{"NXDOMAIN with EDNS carries EDE 15",
                                 1,
                                 true,
                                 opts(kRcodeNxDomain, false, kBlocked, true),
                                 kRcodeNxDomain,
                                 {},
                                 1,
                                 true,
                                 15,
                                 "blocked by egressguard: category tiktok"},
                      AnswerCase{"NXDOMAIN without EDNS has no OPT (RFC 6891 section 7)",
                                 1,
                                 false,
                                 opts(kRcodeNxDomain, false, kBlocked, false),
                                 kRcodeNxDomain,
                                 {},
                                 1,
                                 false,
                                 std::nullopt,
                                 ""},
                      AnswerCase{"null A",
                                 1,
                                 true,
                                 opts(kRcodeNoError, true, kBlocked, true),
                                 kRcodeNoError,
                                 {"www.TikTok.com. 42 IN A 0.0.0.0"},
                                 0,
                                 true,
                                 15,
                                 "blocked by egressguard: category tiktok"},
                      AnswerCase{"null AAAA without EDNS",
                                 28,
                                 false,
                                 opts(kRcodeNoError, true, kBlocked, false),
                                 kRcodeNoError,
                                 {"www.TikTok.com. 42 IN AAAA ::"},
                                 0,
                                 false,
                                 std::nullopt,
                                 ""},
                      AnswerCase{"null for MX is NODATA with SOA",
                                 15,
                                 true,
                                 opts(kRcodeNoError, true, kBlocked, true),
                                 kRcodeNoError,
                                 {},
                                 1,
                                 true,
                                 15,
                                 "blocked by egressguard: category tiktok"},
                      AnswerCase{"REFUSED with EDE, no SOA",
                                 1,
                                 true,
                                 opts(kRcodeRefused, false, kBlocked, true),
                                 kRcodeRefused,
                                 {},
                                 0,
                                 true,
                                 15,
                                 "blocked by egressguard: category tiktok"},
                      AnswerCase{"REFUSED without EDNS",
                                 1,
                                 false,
                                 opts(kRcodeRefused, false, kBlocked, false),
                                 kRcodeRefused,
                                 {},
                                 0,
                                 false,
                                 std::nullopt,
                                 ""},
                      AnswerCase{"anti-bypass NXDOMAIN, EDE 17",
                                 1,
                                 true,
                                 opts(kRcodeNxDomain, false, kFiltered, true),
                                 kRcodeNxDomain,
                                 {},
                                 1,
                                 true,
                                 17,
                                 "filtered by egressguard: Firefox DoH canary"},
                      AnswerCase{"NODATA (DDR), EDE 17",
                                 64,
                                 true,
                                 opts(kRcodeNoError, false, kFiltered, true),
                                 kRcodeNoError,
                                 {},
                                 1,
                                 true,
                                 17,
                                 "filtered by egressguard: Firefox DoH canary"},
                      AnswerCase{"SERVFAIL with EDNS but no EDE",
                                 1,
                                 true,
                                 opts(kRcodeServFail, false, std::nullopt, true),
                                 kRcodeServFail,
                                 {},
                                 0,
                                 true,
                                 std::nullopt,
                                 ""}));

TEST(BuildAnswer, TruncatedAnswerHasOnlyTheQuestion) {
  const auto query = make_query({"big.example", 16, 7, false});
  AnswerOptions o;
  o.truncated = true;
  auto wire = build_answer(query, o);
  ASSERT_TRUE(wire.has_value());
  const auto a = parse_answer(*wire);
  EXPECT_TRUE(a.tc);
  EXPECT_TRUE(a.answers.empty());
  EXPECT_TRUE(a.authority.empty());
  EXPECT_EQ(a.qname, "big.example.");
}

TEST(BuildAnswer, FailsOnGarbage) {
  const std::vector<std::uint8_t> garbage = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  EXPECT_FALSE(build_answer(garbage, AnswerOptions{}).has_value());
}

TEST(HeaderOnlyAnswer, CopiesIdAndRdAndSetsRcode) {
  const auto query = make_query({"x.example", 1, 0x4242, false, 0, true});
  const auto a = header_only_answer(query, kRcodeFormErr);
  ASSERT_EQ(a.size(), kDnsHeaderSize);
  EXPECT_EQ(a[0], 0x42);
  EXPECT_EQ(a[1], 0x42);
  EXPECT_EQ(a[2], 0x81);  // QR, RD
  EXPECT_EQ(a[3], 0x81);  // RA, FORMERR
  for (std::size_t i = 4; i < a.size(); ++i) {
    EXPECT_EQ(a[i], 0) << i;
  }
}

TEST(EncodeEdeOption, IsCodeLengthInfoCodeText) {
  const auto o = encode_ede_option({15, "ab"});
  EXPECT_EQ(o, (std::vector<std::uint8_t>{0, 15, 0, 4, 0, 15, 'a', 'b'}));
}

// HTTPS RDATA: priority 1, target ".", alpn=h2 (key 1), ech (key 5, 4 bytes), port=443 (key 3
// comes before 5 in a real record; here the order is 1, 3, 5 as RFC 9460 requires).
const char* kHttpsWithEch =
    "www.tiktok.com. 300 IN HTTPS \\# 24 0001 00 0001 0003 026832 0003 0002 01bb "
    "0005 0004 deadbeef";
const char* kHttpsWithoutEch =
    "www.tiktok.com. 300 IN HTTPS \\# 16 0001 00 0001 0003 026832 0003 0002 01bb";

TEST(StripEch, RemovesOnlyTheEchParameterAndFixesRdlength) {
  const auto query = make_query({"www.tiktok.com", 65, 1, true});
  const std::vector<std::uint8_t> cookie = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
  const auto response = testing::make_response(
      query, {kHttpsWithEch, "www.tiktok.com. 300 IN A 198.51.100.10"}, 0, false, cookie);
  auto stripped = strip_ech(response);
  ASSERT_TRUE(stripped.has_value()) << stripped.error();
  const auto expected = testing::make_response(
      query, {kHttpsWithoutEch, "www.tiktok.com. 300 IN A 198.51.100.10"}, 0, false, cookie);
  const auto a = parse_answer(*stripped);
  const auto e = parse_answer(expected);
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.answers, e.answers);
  EXPECT_EQ(a.edns_data, cookie) << "EDNS options pass through";
  EXPECT_EQ(stripped->size() + 8, response.size()) << "4 bytes of key/length + 4 of value gone";
  parse::DnsNameBuffer buffer{};
  auto scan = scan_response(*stripped, buffer, nullptr);
  ASSERT_TRUE(scan.has_value());
  EXPECT_FALSE(scan->has_ech);
}

TEST(StripEch, RemovesEchWhenItIsTheOnlyParameter) {
  const auto query = make_query({"a.example", 65, 1, false});
  const auto response =
      testing::make_response(query, {"a.example. 60 IN HTTPS \\# 10 0001 00 0005 0003 aabbcc"});
  auto stripped = strip_ech(response);
  ASSERT_TRUE(stripped.has_value()) << stripped.error();
  parse::DnsNameBuffer buffer{};
  auto scan = scan_response(*stripped, buffer, nullptr);
  ASSERT_TRUE(scan.has_value());
  EXPECT_FALSE(scan->has_ech);
  EXPECT_EQ(stripped->size() + 7, response.size());
}

struct ParamsCase {
  const char* description;
  std::vector<std::uint8_t> params;
  bool ok;
  std::vector<std::uint8_t> expected;
};

class StripEchParams : public ::testing::TestWithParam<ParamsCase> {};

TEST_P(StripEchParams, MatchesTheTable) {
  const ParamsCase& c = GetParam();
  std::vector<std::uint8_t> out(c.params.size());
  auto size = strip_ech_params(c.params, out.data());
  ASSERT_EQ(size.has_value(), c.ok) << c.description;
  if (c.ok) {
    out.resize(*size);
    EXPECT_EQ(out, c.expected) << c.description;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, StripEchParams,
    ::testing::Values(ParamsCase{"empty", {}, true, {}},
                      ParamsCase{
                          "no ech", {0, 1, 0, 3, 2, 'h', '2'}, true, {0, 1, 0, 3, 2, 'h', '2'}},
                      ParamsCase{"ech only", {0, 5, 0, 2, 9, 9}, true, {}},
                      ParamsCase{"ech in the middle",
                                 {0, 1, 0, 1, 7, 0, 5, 0, 2, 9, 9, 0, 6, 0, 1, 8},
                                 true,
                                 {0, 1, 0, 1, 7, 0, 6, 0, 1, 8}},
                      ParamsCase{"length past the end", {0, 1, 0, 9, 1}, false, {}},
                      ParamsCase{"half a key", {0}, false, {}}));

}  // namespace
}  // namespace egressguard::dnsproxy
