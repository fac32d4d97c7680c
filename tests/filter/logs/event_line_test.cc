// parse_event_line: the allocation-free field extractor for one JSON event line.
#include "filter/logs/event_line.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace egressguard::logs {
namespace {

constexpr std::string_view kExample =
    R"({"timestamp":"2026-11-29T09:40:12.518230Z","event_type":"block","sensor":"gw-example",)"
    R"("datapath":"pcap","flow_id":7,"src_ip":"10.8.0.10","src_port":40312,)"
    R"("dest_ip":"198.51.100.10","dest_port":443,"proto":"TCP","app_proto":"tls",)"
    R"("group":"gov-managed","name":"www.tiktok.com","alpn":"h2,http/1.1","action":"block",)"
    R"("mode":"enforce","reason":"rule","category":"tiktok","rule":"*.tiktok.com",)"
    R"("list":"domains/catalogue/tiktok.txt","line":26,"exception":false,"jurisdiction":"CN",)"
    R"("policy_version":1,"flags":[],"dns":{"qtype":1,"qtype_name":"A"}})";

TEST(ParseEventLine, ExtractsTheDocumentedExample) {
  auto e = parse_event_line(kExample);
  ASSERT_TRUE(e.has_value()) << to_string(e.error());
  EXPECT_EQ(e->timestamp.raw, "2026-11-29T09:40:12.518230Z");
  EXPECT_EQ(e->ts_us, 1795945212518230);  // date -d 2026-11-29T09:40:12Z +%s = 1795945212
  EXPECT_EQ(e->event_type.raw, "block");
  EXPECT_EQ(e->sensor.raw, "gw-example");
  EXPECT_EQ(e->datapath.raw, "pcap");
  EXPECT_EQ(e->src_ip.raw, "10.8.0.10");
  EXPECT_EQ(e->dest_ip.raw, "198.51.100.10");
  EXPECT_EQ(e->group.raw, "gov-managed");
  EXPECT_EQ(e->name.raw, "www.tiktok.com");
  EXPECT_FALSE(e->name.escaped);
  EXPECT_EQ(e->action.raw, "block");
  EXPECT_EQ(e->category.raw, "tiktok");
  EXPECT_EQ(e->rule.raw, "*.tiktok.com");
  EXPECT_EQ(e->list.raw, "domains/catalogue/tiktok.txt");
  EXPECT_EQ(e->line.kind, RawValue::Kind::Number);
  EXPECT_EQ(raw_uint(e->line, 0), 26U);
  EXPECT_EQ(e->count.kind, RawValue::Kind::Absent);
}

TEST(ParseEventLine, NullFieldsAndCountAndWhiteSpace) {
  auto e = parse_event_line(
      " { \"timestamp\" : \"2026-11-29T09:40:12Z\" , \"name\" : null , \"category\":null, "
      "\"count\" : 12 , \"flags\" : [ \"split\" , \"ech\" ] }\r");
  ASSERT_TRUE(e.has_value()) << to_string(e.error());
  EXPECT_EQ(e->name.kind, RawValue::Kind::Null);
  EXPECT_EQ(e->category.kind, RawValue::Kind::Null);
  EXPECT_EQ(raw_uint(e->count, 1), 12U);
  EXPECT_EQ(e->group.kind, RawValue::Kind::Absent);
}

TEST(ParseEventLine, FirstDuplicateKeyWins) {
  auto e = parse_event_line(
      R"({"timestamp":"2026-11-29T09:40:12Z","group":"gov-managed","group":"byod"})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->group.raw, "gov-managed");
}

TEST(ParseEventLine, KeepsEscapesAndFlagsThem) {
  auto e =
      parse_event_line(R"({"timestamp":"2026-11-29T09:40:12Z","name":"a\"b\\c\u001b\u00ff.com"})");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->name.escaped);
  EXPECT_EQ(e->name.raw, R"(a\"b\\c\u001b\u00ff.com)");
  std::string decoded;
  ASSERT_TRUE(append_json_unescaped(decoded, e->name.raw));
  EXPECT_EQ(decoded, std::string("a\"b\\c\x1b\xff.com"));
}

struct BadLine {
  const char* description;
  std::string line;
  LineError expected;
};

class ParseEventLineRejects : public ::testing::TestWithParam<BadLine> {};

TEST_P(ParseEventLineRejects, WithTheReason) {
  auto e = parse_event_line(GetParam().line);
  ASSERT_FALSE(e.has_value()) << GetParam().description;
  EXPECT_EQ(e.error(), GetParam().expected)
      << GetParam().description << ": " << to_string(e.error());
}

const std::string kTs = R"("timestamp":"2026-11-29T09:40:12Z")";

INSTANTIATE_TEST_SUITE_P(
    Table, ParseEventLineRejects,
    ::testing::Values(
        BadLine{"empty", "", LineError::Empty}, BadLine{"blanks", "  \t\r", LineError::Empty},
        BadLine{"text", "hello", LineError::NotObject},
        BadLine{"array", "[1,2]", LineError::NotObject},
        BadLine{"brace only", "{", LineError::Truncated},
        BadLine{"cut in key", R"({"timest)", LineError::Truncated},
        BadLine{"cut after key", "{" + kTs + R"(,"name")", LineError::Truncated},
        BadLine{"cut in value", "{" + kTs + R"(,"name":"www.tik)", LineError::Truncated},
        BadLine{"cut in escape", "{" + kTs + R"(,"name":"a\)", LineError::Truncated},
        BadLine{"cut in \\u", "{" + kTs + R"(,"name":"a\u00)", LineError::Truncated},
        BadLine{"cut in literal", "{" + kTs + R"(,"x":tr)", LineError::Truncated},
        BadLine{"cut in number", "{" + kTs + R"(,"line":-)", LineError::Truncated},
        BadLine{"cut in array", "{" + kTs + R"(,"flags":["split",)", LineError::Truncated},
        BadLine{"cut before close", "{" + kTs, LineError::Truncated},
        BadLine{"raw control byte", "{" + kTs + ",\"name\":\"a\x1b[2J\"}", LineError::BadString},
        BadLine{"raw newline", "{" + kTs + ",\"name\":\"a\nb\"}", LineError::BadString},
        BadLine{"bad escape", "{" + kTs + R"(,"name":"\x41"})", LineError::BadString},
        BadLine{"bad \\u", "{" + kTs + R"(,"name":"\u00g1"})", LineError::BadString},
        BadLine{"unquoted key", R"({timestamp:"x"})", LineError::BadValue},
        BadLine{"bare word", "{" + kTs + R"(,"name":www})", LineError::BadValue},
        BadLine{"misspelt literal", "{" + kTs + R"(,"x":nul})", LineError::BadValue},
        BadLine{"leading zero", "{" + kTs + R"(,"line":012})", LineError::BadValue},
        BadLine{"no exponent digits", "{" + kTs + R"(,"line":1e})", LineError::BadValue},
        BadLine{"missing comma", "{" + kTs + R"( "name":"a"})", LineError::BadValue},
        BadLine{"trailing comma", "{" + kTs + ",}", LineError::BadValue},
        BadLine{"two objects", "{" + kTs + "}{}", LineError::TrailingBytes},
        BadLine{"too deep",
                "{" + kTs + R"(,"x":)" + std::string(40, '[') + std::string(40, ']') + "}",
                LineError::TooDeep},
        BadLine{"no timestamp", R"({"name":"a"})", LineError::MissingTimestamp},
        BadLine{"timestamp number", R"({"timestamp":12})", LineError::MissingTimestamp},
        BadLine{"timestamp garbage", R"({"timestamp":"yesterday"})", LineError::BadTimestamp},
        BadLine{"timestamp no zone", R"({"timestamp":"2026-11-29T09:40:12"})",
                LineError::BadTimestamp},
        BadLine{"timestamp Feb 30", R"({"timestamp":"2026-02-30T09:40:12Z"})",
                LineError::BadTimestamp}));

struct TimeCase {
  const char* text;
  std::int64_t expected_us;
};

class ParseRfc3339 : public ::testing::TestWithParam<TimeCase> {};

TEST_P(ParseRfc3339, GivesUtcMicroseconds) {
  auto t = parse_rfc3339_us(GetParam().text);
  ASSERT_TRUE(t.has_value()) << GetParam().text;
  EXPECT_EQ(*t, GetParam().expected_us) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Table, ParseRfc3339,
                         ::testing::Values(TimeCase{"1970-01-01T00:00:00Z", 0},
                                           TimeCase{"2026-11-29T09:40:12Z", 1795945212000000},
                                           TimeCase{"2026-11-29T09:40:12.5Z", 1795945212500000},
                                           TimeCase{"2026-11-29T09:40:12.123456789Z",
                                                    1795945212123456},
                                           TimeCase{"2026-11-29T10:40:12+01:00", 1795945212000000},
                                           TimeCase{"2026-11-29t04:10:12-05:30", 1795945212000000},
                                           TimeCase{"2024-02-29 00:00:00Z", 1709164800000000},
                                           TimeCase{"1969-12-31T23:59:59Z", -1000000}));

}  // namespace
}  // namespace egressguard::logs
