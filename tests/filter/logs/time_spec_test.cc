// parse_time_spec: --since / --until with an injected clock.
#include "filter/logs/time_spec.h"

#include <string>

#include <gtest/gtest.h>

namespace egressguard::logs {
namespace {

constexpr std::int64_t kSecond = 1000000;
// 2026-11-29T09:40:12Z, the injected "now".
constexpr std::int64_t kNow = 1795945212 * kSecond;

struct SpecCase {
  const char* text;
  std::int64_t expected_us;
};

class ParseTimeSpec : public ::testing::TestWithParam<SpecCase> {};

TEST_P(ParseTimeSpec, Accepts) {
  auto t = parse_time_spec(GetParam().text, kNow);
  ASSERT_TRUE(t.has_value()) << GetParam().text << ": " << t.error();
  EXPECT_EQ(*t, GetParam().expected_us) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseTimeSpec,
    ::testing::Values(
        SpecCase{"now", kNow}, SpecCase{"30s", kNow - 30 * kSecond},
        SpecCase{"30m", kNow - 1800 * kSecond}, SpecCase{"1h", kNow - 3600 * kSecond},
        SpecCase{"7d", kNow - 7 * 86400 * kSecond}, SpecCase{"2w", kNow - 14 * 86400 * kSecond},
        SpecCase{"1h30m", kNow - 5400 * kSecond}, SpecCase{"2026-11-29T09:40:12Z", kNow},
        SpecCase{"2026-11-29T10:40:12+01:00", kNow},
        SpecCase{"2026-11-29", kNow - (9 * 3600 + 40 * 60 + 12) * kSecond},
        SpecCase{"2026-11-29T09:40", kNow - 12 * kSecond}, SpecCase{"2026-11-29 09:40:12", kNow},
        SpecCase{"2026-11-29T09:40:12.25", kNow + kSecond / 4}));

TEST(ParseTimeSpec, RejectsWithAnExplanation) {
  for (const char* bad : {"", "yesterday", "1x", "h1", "2026-13-01", "2026-11-29T25:00", "-1h",
                          "1h30", "99999999999d"}) {
    auto t = parse_time_spec(bad, kNow);
    ASSERT_FALSE(t.has_value()) << bad;
    EXPECT_NE(t.error().find("expected RFC 3339"), std::string::npos) << t.error();
  }
}

TEST(ParseTimeSpec, RefusesDurationsBeyondACentury) {
  // 999999999w would overflow the microsecond clock (6e20 us): refused with the bound.
  for (const char* long_ago : {"999999999w", "36601d", "5228w5228w", "999999999d1s"}) {
    auto t = parse_time_spec(long_ago, kNow);
    ASSERT_FALSE(t.has_value()) << long_ago;
    EXPECT_EQ(t.error(), "invalid time \"" + std::string(long_ago) +
                             "\": a duration before now is at most 100 years (36600d)");
  }
  auto t = parse_time_spec("36600d", kNow);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, kNow - std::int64_t{36600} * 86400 * kSecond);
}

TEST(ParseTimeSpec, QuotesControlBytesEscaped) {
  auto t = parse_time_spec("1\x1b[2J", kNow);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().rfind("invalid time \"1\\u001b[2J\": expected RFC 3339", 0), 0u) << t.error();
}

TEST(FormatTime, RoundTripsThroughTheParser) {
  EXPECT_EQ(format_time_us(kNow), "2026-11-29T09:40:12Z");
  EXPECT_EQ(format_time_us(kNow + 518230), "2026-11-29T09:40:12.518230Z");
  EXPECT_EQ(format_time_us(-1), "1969-12-31T23:59:59.999999Z");
  for (const std::int64_t t :
       {std::int64_t{0}, kNow, kNow + 1, std::int64_t{951782400} * kSecond}) {
    auto back = parse_time_spec(format_time_us(t), 0);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, t);
  }
}

}  // namespace
}  // namespace egressguard::logs
