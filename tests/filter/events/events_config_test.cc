#include "filter/events/events_config.h"

#include <string>

#include <gtest/gtest.h>

namespace egressguard::events {
namespace {

struct SizeCase {
  const char* text;
  std::uint64_t bytes;  // 0 with an error
  const char* error;
};

TEST(ParseSize, ReadsUnitsAsPowersOf1024) {
  const SizeCase cases[] = {
      {"4096", 4096, ""},
      {"100MB", 100ULL << 20, ""},
      {"100MiB", 100ULL << 20, ""},
      {"64k", 64ULL << 10, ""},
      {"1G", 1ULL << 30, ""},
      {"2TB", 2ULL << 40, ""},
      {"10B", 10, ""},
      {"MB", 0, "expected a number followed by a unit such as \"100MB\""},
      {"10MX", 0, "unknown unit \"MX\": expected B, K, M, G or T"},
      {"99999999999999999999", 0, "the number is too large"},
      {"20000000T", 0, "the number is too large"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_size(c.text);
    if (c.bytes != 0) {
      ASSERT_TRUE(parsed.has_value()) << c.text << ": " << parsed.error();
      EXPECT_EQ(*parsed, c.bytes) << c.text;
    } else {
      ASSERT_FALSE(parsed.has_value()) << c.text;
      EXPECT_EQ(parsed.error(), c.error) << c.text;
    }
  }
}

TEST(ParseDuration, ReadsMillisecondsSecondsMinutesHours) {
  EXPECT_EQ(*parse_duration_ms("10s"), 10'000U);
  EXPECT_EQ(*parse_duration_ms("500ms"), 500U);
  EXPECT_EQ(*parse_duration_ms("2m"), 120'000U);
  EXPECT_EQ(*parse_duration_ms("1h"), 3'600'000U);
  EXPECT_EQ(*parse_duration_ms("0"), 0U);
  EXPECT_EQ(parse_duration_ms("10").error(), "a unit is required: ms, s, m or h");
  EXPECT_EQ(parse_duration_ms("10d").error(), "unknown unit \"d\": expected ms, s, m or h");
  EXPECT_EQ(parse_duration_ms("s").error(), "expected a number followed by a unit such as \"10s\"");
}

TEST(ParseFacility, KnowsRfc5424Names) {
  EXPECT_EQ(*parse_facility("kern"), 0);
  EXPECT_EQ(*parse_facility("daemon"), 3);
  EXPECT_EQ(*parse_facility("authpriv"), 10);
  EXPECT_EQ(*parse_facility("LOCAL0"), 16);
  EXPECT_EQ(*parse_facility("local7"), 23);
  EXPECT_FALSE(parse_facility("local8").has_value());
  EXPECT_FALSE(parse_facility("").has_value());
}

TEST(ParseSyslogAddress, NeedsHostAndPort) {
  auto v4 = parse_syslog_address("192.0.2.1:514");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->host, "192.0.2.1");
  EXPECT_EQ(v4->port, 514);
  auto v6 = parse_syslog_address("[2001:db8::1]:6514");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, 6514);
  EXPECT_EQ(parse_syslog_address("siem.example:10514")->host, "siem.example");
  EXPECT_EQ(parse_syslog_address("siem.example").error(), "a port is required: write \"host:514\"");
  EXPECT_EQ(parse_syslog_address("2001:db8::1:514").error(),
            "an IPv6 address needs brackets: write \"[::1]:514\"");
  EXPECT_EQ(parse_syslog_address("[::1]").error(), "a port is required: write \"[::1]:514\"");
  EXPECT_EQ(parse_syslog_address("host:0").error(), "port \"0\" is not a number in 1..65535");
  EXPECT_EQ(parse_syslog_address(":514").error(), "the host is empty");
}

TEST(CheckAppName, FollowsRfc5424) {
  EXPECT_TRUE(check_app_name("egressguard").has_value());
  EXPECT_FALSE(check_app_name("egress guard").has_value());
  EXPECT_FALSE(check_app_name("").has_value());
  EXPECT_FALSE(check_app_name(std::string(49, 'a')).has_value());
}

}  // namespace
}  // namespace egressguard::events
