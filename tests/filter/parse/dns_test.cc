#include "filter/parse/dns.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/parse/builders_helpers.h"

namespace egressguard::parse {
namespace {

using test::Bytes;

struct Case {
  std::string name{};
  Bytes message{};
  std::optional<DnsParseError> error{};
  std::string qname{};
  std::uint16_t qtype = 1;
  bool odd = false;
};

// A response: question "www.tiktok.com" at 12, then an answer whose name points at it.
Bytes compressed_response() {
  Bytes m = test::dns_header(7, 0x8180, 1, 1);
  test::append(m, test::dns_name("www.tiktok.com"));
  test::put16(m, 1);
  test::put16(m, 1);
  test::append(m, Bytes{0xc0, 12});  // answer name -> question name
  test::put16(m, 5);                 // CNAME
  test::put16(m, 1);
  test::put32(m, 60);
  Bytes rdata{3, 'c', 'd', 'n'};
  test::append(rdata, Bytes{0xc0, 16});  // -> "tiktok.com" inside the question
  test::append(m, test::with_u16_length(rdata));
  return m;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"simple", test::dns_query(1, "www.example.com"), {}, "www.example.com"});
  c.push_back({"case_kept", test::dns_query(1, "WwW.TikTok.COM", 28), {}, "WwW.TikTok.COM", 28});
  c.push_back({"root", test::dns_query(1, "", 2), {}, "", 2});
  c.push_back({"underscore_ok",
               test::dns_query(1, "_dmarc.example.com", 16),
               {},
               "_dmarc.example.com",
               16});
  {
    Bytes m = test::dns_header(1, 0x0100, 1);
    test::append(m, Bytes{3, 'a', '.', 'b', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1});
    c.push_back({"dot_in_label_flagged", m, {}, "a.b.com", 1, true});
  }
  {
    Bytes m = test::dns_header(1, 0x0100, 1);
    test::append(m, Bytes{2, 'a', 0x01, 0, 0, 1, 0, 1});
    c.push_back({"control_byte_flagged", m, {}, std::string("a\x01", 2), 1, true});
  }
  {
    // The question name itself compressed: "www" + pointer back into an earlier name is
    // impossible in a question at offset 12, so a pointer here must fail.
    Bytes m = test::dns_header(1, 0x0100, 1);
    test::append(m, Bytes{3, 'w', 'w', 'w', 0xc0, 12, 0, 1, 0, 1});
    c.push_back({"pointer_to_itself_loop", m, DnsParseError::PointerLoop});
  }
  {
    Bytes m = test::dns_header(1, 0x0100, 1);
    test::append(m, Bytes{0xc0, 30, 0, 1, 0, 1});
    c.push_back({"forward_pointer", m, DnsParseError::PointerLoop});
  }
  {
    Bytes m = test::dns_header(1, 0x0100, 1);
    test::append(m, Bytes{0xc0, 2, 0, 1, 0, 1});
    c.push_back({"pointer_into_header", m, DnsParseError::BadPointer});
  }
  {
    Bytes m = test::dns_header(1, 0x0100, 1);
    test::append(m, Bytes{0x41, 0, 0, 1, 0, 1});
    c.push_back({"extended_label_type", m, DnsParseError::BadLabelType});
  }
  {
    // 5 labels of 63 bytes: 320 wire bytes.
    std::string name;
    for (int i = 0; i < 5; ++i) {
      name += std::string(63, static_cast<char>('a' + i));
      name += i < 4 ? "." : "";
    }
    c.push_back({"name_too_long", test::dns_query(1, name), DnsParseError::NameTooLong});
    // Exactly 255 wire bytes: 3*63 + 61 = 250 label bytes + 4 length bytes + root = 255.
    std::string longest = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                          std::string(63, 'c') + "." + std::string(61, 'd');
    c.push_back({"longest_name", test::dns_query(1, longest), {}, longest});
  }
  {
    Bytes m = test::dns_query(1, "a.example.com");
    m[5] = 2;  // QDCOUNT 2
    test::append(m, test::dns_name("b.example.com"));
    test::put16(m, 28);
    test::put16(m, 1);
    c.push_back({"several_questions_first_wins", m, {}, "a.example.com"});
  }
  c.push_back({"no_question", test::dns_header(1, 0x0100, 0), DnsParseError::NoQuestion});
  c.push_back({"reserved_opcode", test::dns_header(1, 0x1900, 1), DnsParseError::BadHeader});
  c.push_back(
      {"header_only_with_qdcount", test::dns_header(1, 0x0100, 1), DnsParseError::Truncated});
  c.push_back({"short_header", Bytes{0, 1, 1, 0, 0}, DnsParseError::Truncated});
  {
    Bytes m = test::dns_query(1, "www.example.com");
    m.resize(m.size() - 1);  // qclass cut
    c.push_back({"qclass_cut", m, DnsParseError::Truncated});
    m.resize(12 + 6);  // inside the name
    c.push_back({"name_cut", m, DnsParseError::Truncated});
  }
  c.push_back({"response_with_answers", compressed_response(), {}, "www.tiktok.com"});
  return c;
}

class ParseDnsMessage : public ::testing::TestWithParam<Case> {};

TEST_P(ParseDnsMessage, MatchesTable) {
  const Case& c = GetParam();
  DnsNameBuffer buffer{};
  const auto result = parse_dns_message(c.message, buffer);
  if (c.error) {
    ASSERT_FALSE(result.has_value()) << result->qname;
    EXPECT_EQ(describe(result.error()), describe(*c.error));
    return;
  }
  ASSERT_TRUE(result.has_value()) << describe(result.error());
  EXPECT_EQ(result->qname, c.qname);
  EXPECT_EQ(result->qtype, c.qtype);
  EXPECT_EQ(result->qclass, 1);
  EXPECT_EQ(result->name_has_odd_bytes, c.odd);
  EXPECT_GE(result->qname.data(), buffer.data());
}

INSTANTIATE_TEST_SUITE_P(Table, ParseDnsMessage, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

TEST(ParseDnsMessage, ReadsHeaderFieldsAndQuestionEnd) {
  const Bytes m = compressed_response();
  DnsNameBuffer buffer{};
  const auto result = parse_dns_message(m, buffer);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->id, 7);
  EXPECT_TRUE(result->qr);
  EXPECT_TRUE(result->rd);
  EXPECT_TRUE(result->ra);
  EXPECT_EQ(result->rcode, 0);
  EXPECT_EQ(result->ancount, 1);
  EXPECT_EQ(result->qname_labels, 3);
  EXPECT_EQ(result->question_end, 12U + 16U + 4U);
}

TEST(ReadDnsName, FollowsPointersInAnswers) {
  const Bytes m = compressed_response();
  DnsNameBuffer buffer{};
  std::size_t offset = 32;  // answer name
  auto name = read_dns_name(m, offset, buffer);
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(*name, "www.tiktok.com");
  EXPECT_EQ(offset, 34U);
  offset = 44;  // CNAME rdata: "cdn" + pointer to "tiktok.com"
  name = read_dns_name(m, offset, buffer);
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(*name, "cdn.tiktok.com");
  EXPECT_EQ(offset, m.size());
}

TEST(ReadDnsName, RejectsTwoPointersThatChaseEachOther) {
  Bytes m = test::dns_header(1, 0x8180, 1);
  test::append(m, Bytes{0, 0, 1, 0, 1});     // root question at 12
  test::append(m, Bytes{1, 'a', 0xc0, 21});  // 17: "a" -> 21
  test::append(m, Bytes{1, 'b', 0xc0, 17});  // 21: "b" -> 17
  DnsNameBuffer buffer{};
  std::size_t offset = 21;
  const auto name = read_dns_name(m, offset, buffer);
  ASSERT_FALSE(name.has_value());
  EXPECT_EQ(name.error(), DnsParseError::PointerLoop);
  EXPECT_EQ(offset, 21U);  // unchanged on failure
}

TEST(ReadDnsName, RejectsOffsetPastEnd) {
  const Bytes m = test::dns_query(1, "a.b");
  DnsNameBuffer buffer{};
  std::size_t offset = m.size() + 1;
  EXPECT_FALSE(read_dns_name(m, offset, buffer).has_value());
}

TEST(ParseDnsMessage, TruncatedAtEveryPrefix) {
  const Bytes m = test::dns_query(0x4242, "vcs-va.tiktokv.com", 65);
  DnsNameBuffer buffer{};
  for (std::size_t n = 0; n < m.size(); ++n) {
    const auto result = parse_dns_message(ByteSpan(m.data(), n), buffer);
    ASSERT_FALSE(result.has_value()) << n;
    EXPECT_EQ(result.error(), DnsParseError::Truncated) << n;
  }
  EXPECT_TRUE(parse_dns_message(m, buffer).has_value());
}

TEST(NextTcpDnsMessage, SplitsSeveralMessagesAndWaitsForTheRest) {
  const Bytes q1 = test::dns_query(1, "a.example");
  const Bytes q2 = test::dns_query(2, "b.example");
  const Bytes stream = test::cat({test::with_u16_length(q1), test::with_u16_length(q2)});
  ByteReader reader(stream);
  auto first = next_tcp_dns_message(reader);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->size(), q1.size());
  auto second = next_tcp_dns_message(reader);
  ASSERT_TRUE(second.has_value());
  DnsNameBuffer buffer{};
  const auto parsed = parse_dns_message(*second, buffer);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->qname, "b.example");
  EXPECT_FALSE(next_tcp_dns_message(reader).has_value());
  EXPECT_TRUE(reader.ok());

  // Every cut inside the second message gives the first, then nothing, without consuming.
  for (std::size_t n = q1.size() + 2; n < stream.size(); ++n) {
    ByteReader partial(ByteSpan(stream.data(), n));
    ASSERT_TRUE(next_tcp_dns_message(partial).has_value());
    const std::size_t before = partial.position();
    EXPECT_FALSE(next_tcp_dns_message(partial).has_value()) << n;
    EXPECT_EQ(partial.position(), before);
    EXPECT_TRUE(partial.ok());
  }
}

TEST(DescribeDnsParseError, UsesCounterLabels) {
  EXPECT_EQ(describe(DnsParseError::BadName), "dns_bad_qname");
  EXPECT_EQ(describe(DnsParseError::PointerLoop), "dns_pointer_loop");
}

}  // namespace
}  // namespace egressguard::parse
