// EventFilter: table-driven over one set of events; the substring pre-check (may_match) must
// never reject a line that matches().
#include "filter/logs/event_filter.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/logs/event_line.h"

namespace egressguard::logs {
namespace {

constexpr std::int64_t kSecond = 1000000;
constexpr std::int64_t kT0 = 1795945212 * kSecond;  // 2026-11-29T09:40:12Z

// Events keyed by a letter (the "sensor" field) so a case can list what it expects.
const std::vector<std::string> kLines = {
    // a: gov TikTok block over TLS
    R"({"timestamp":"2026-11-29T09:40:12Z","event_type":"block","sensor":"a","src_ip":"10.8.0.10","group":"gov-managed","name":"www.tiktok.com","action":"block","category":"tiktok","rule":"*.tiktok.com"})",
    // b: gov, upper case name with a trailing dot, one minute later
    R"({"timestamp":"2026-11-29T09:41:12Z","event_type":"block","sensor":"b","src_ip":"10.8.1.20","group":"gov-managed","name":"API.TikTok.COM.","action":"block","category":"tiktok","rule":"*.tiktok.com"})",
    // c: byod allowed name
    R"({"timestamp":"2026-11-29T09:42:12Z","event_type":"name","sensor":"c","src_ip":"10.9.0.5","group":"byod","name":"nottiktok.com","action":"allow","category":null,"rule":null})",
    // d: unnamed flow, IPv6 source
    R"({"timestamp":"2026-11-29T09:43:12Z","event_type":"unnamed_flow","sensor":"d","src_ip":"2001:db8::7","group":"gov-managed","name":null,"action":"allow","category":null})",
    // e: escaped group and name: group "gov\"x", name with a byte 0xff
    R"({"timestamp":"2026-11-29T09:44:12Z","event_type":"block","sensor":"e","src_ip":"10.8.0.10","group":"gov\"x","name":"t\u00ffk.tiktok.com","action":"block","category":"tiktok"})",
    // f: name escaped only by another writer (\u0041 = 'A'): must still match by value
    R"({"timestamp":"2026-11-29T09:45:12Z","event_type":"block","sensor":"f","src_ip":"10.8.0.99","group":"kiosk","name":"\u0041pi.bytedance.com","action":"block","category":"bytedance"})",
};

struct FilterCase {
  const char* description;
  FilterSpec spec;
  std::string expected;  // sensors of the matching lines, in order
};

FilterSpec with(void (*set)(FilterSpec&)) {
  FilterSpec s;
  set(s);
  return s;
}

class EventFilterTable : public ::testing::TestWithParam<FilterCase> {};

TEST_P(EventFilterTable, MatchesExactlyTheExpectedEvents) {
  auto filter = EventFilter::compile(GetParam().spec);
  ASSERT_TRUE(filter.has_value()) << filter.error();
  std::string got;
  for (const std::string& line : kLines) {
    auto e = parse_event_line(line);
    ASSERT_TRUE(e.has_value()) << line;
    const bool match = filter->matches(*e);
    if (match) {
      EXPECT_TRUE(filter->may_match(line))
          << GetParam().description << ": pre-check rejected " << line;
      got += std::string(e->sensor.raw);
    }
  }
  EXPECT_EQ(got, GetParam().expected) << GetParam().description;
}

INSTANTIATE_TEST_SUITE_P(
    Table, EventFilterTable,
    ::testing::Values(
        FilterCase{"no filter", {}, "abcdef"},
        FilterCase{"group", with([](FilterSpec& s) { s.groups = {"gov-managed"}; }), "abd"},
        FilterCase{"two groups", with([](FilterSpec& s) {
                     s.groups = {"byod", "kiosk"};
                   }),
                   "cf"},
        FilterCase{"escaped group", with([](FilterSpec& s) { s.groups = {"gov\"x"}; }), "e"},
        FilterCase{"group prefix is not the group", with([](FilterSpec& s) { s.groups = {"gov"}; }),
                   ""},
        FilterCase{"exact name", with([](FilterSpec& s) { s.names = {"www.tiktok.com"}; }), "a"},
        FilterCase{"exact name ignores case and trailing dot",
                   with([](FilterSpec& s) { s.names = {"api.tiktok.com"}; }), "b"},
        FilterCase{"name given in upper case",
                   with([](FilterSpec& s) { s.names = {"WWW.TIKTOK.COM."}; }), "a"},
        FilterCase{"suffix glob", with([](FilterSpec& s) { s.names = {"*.tiktok.com"}; }), "abe"},
        FilterCase{"suffix glob matches the suffix itself",
                   with([](FilterSpec& s) { s.names = {"*.www.tiktok.com"}; }), "a"},
        FilterCase{"suffix is label-aligned", with([](FilterSpec& s) { s.names = {"*.ktok.com"}; }),
                   ""},
        FilterCase{"escaped name decoded",
                   with([](FilterSpec& s) { s.names = {"t\xffk.tiktok.com"}; }), "e"},
        FilterCase{"name written with \\u escapes by another writer",
                   with([](FilterSpec& s) { s.names = {"api.bytedance.com"}; }), "f"},
        FilterCase{"star matches every named event", with([](FilterSpec& s) { s.names = {"*"}; }),
                   "abcef"},
        FilterCase{"category", with([](FilterSpec& s) { s.categories = {"tiktok"}; }), "abe"},
        FilterCase{"action", with([](FilterSpec& s) { s.actions = {"allow"}; }), "cd"},
        FilterCase{"type", with([](FilterSpec& s) {
                     s.types = {"unnamed_flow", "name"};
                   }),
                   "cd"},
        FilterCase{"src address", with([](FilterSpec& s) { s.srcs = {"10.8.0.10"}; }), "ae"},
        FilterCase{"src address is not a prefix of another",
                   with([](FilterSpec& s) { s.srcs = {"10.8.0.1"}; }), ""},
        FilterCase{"src /24", with([](FilterSpec& s) { s.srcs = {"10.8.0.0/24"}; }), "aef"},
        FilterCase{"src /23", with([](FilterSpec& s) { s.srcs = {"10.8.0.0/23"}; }), "abef"},
        FilterCase{"src /0 of one family", with([](FilterSpec& s) { s.srcs = {"0.0.0.0/0"}; }),
                   "abcef"},
        FilterCase{"src IPv6 written long",
                   with([](FilterSpec& s) { s.srcs = {"2001:0db8:0:0:0:0:0:7"}; }), "d"},
        FilterCase{"src IPv6 CIDR", with([](FilterSpec& s) { s.srcs = {"2001:db8::/32"}; }), "d"},
        FilterCase{"since inclusive", with([](FilterSpec& s) { s.since_us = kT0 + 60 * kSecond; }),
                   "bcdef"},
        FilterCase{"until exclusive", with([](FilterSpec& s) { s.until_us = kT0 + 60 * kSecond; }),
                   "a"},
        FilterCase{"window and group and name", with([](FilterSpec& s) {
                     s.since_us = kT0 + 30 * kSecond;
                     s.until_us = kT0 + 10 * 60 * kSecond;
                     s.groups = {"gov-managed"};
                     s.names = {"*.tiktok.com"};
                   }),
                   "b"},
        FilterCase{"fields AND-ed", with([](FilterSpec& s) {
                     s.groups = {"byod"};
                     s.actions = {"block"};
                   }),
                   ""}));

TEST(EventFilter, RejectsBadValuesWithTheirOption) {
  for (const char* bad :
       {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.0", "host.example", "2001:db8::/129"}) {
    FilterSpec s;
    s.srcs = {bad};
    auto f = EventFilter::compile(s);
    ASSERT_FALSE(f.has_value()) << bad;
    EXPECT_NE(f.error().find(std::string("--src \"") + bad + "\""), std::string::npos) << f.error();
  }
  FilterSpec window;
  window.since_us = kT0;
  window.until_us = kT0;
  EXPECT_FALSE(EventFilter::compile(window).has_value());
  FilterSpec dot;
  dot.names = {"."};
  EXPECT_FALSE(EventFilter::compile(dot).has_value());
}

TEST(EventFilter, PreCheckRejectsLinesWithoutTheValues) {
  FilterSpec s;
  s.groups = {"gov-managed"};
  s.names = {"*.tiktok.com"};
  auto f = EventFilter::compile(s);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->may_match(kLines[2]));  // byod
  EXPECT_TRUE(f->may_match(kLines[5]));   // kiosk, but it holds an escape: parse to compare
  EXPECT_TRUE(f->may_match(kLines[1]));   // case-insensitive name search
  EXPECT_TRUE(f->empty() == false);
  auto none = EventFilter::compile({});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(none->may_match("anything"));
}

}  // namespace
}  // namespace egressguard::logs
