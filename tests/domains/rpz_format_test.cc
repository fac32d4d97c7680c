#include "domains/rpz_format.h"

#include <gtest/gtest.h>

#include "domains/list_loader.h"
#include "format_test_helpers.h"

namespace egressguard::domains {
namespace {

using testing::allow;
using testing::block;
using testing::LineCase;
using testing::Outcome;

// Single records, each parsed after "$ORIGIN rpz.example." by a fresh parser.
TEST(RpzParser, HandlesRecordTable) {
  const LineCase cases[] = {
      {"blank", "", Outcome::Nothing},
      {"comment", "; policy", Outcome::Nothing},
      {"nxdomain", "tiktok.com CNAME .", Outcome::Rules, {block("tiktok.com", RuleKind::Exact)}},
      {"below", "*.tiktok.com CNAME .", Outcome::Rules, {block("tiktok.com", RuleKind::Below)}},
      {"nodata", "tiktok.com CNAME *.", Outcome::Rules, {block("tiktok.com", RuleKind::Exact)}},
      {"drop",
       "tiktok.com CNAME rpz-drop.",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"passthru",
       "ok.tiktok.com CNAME rpz-passthru.",
       Outcome::Rules,
       {allow("ok.tiktok.com", RuleKind::Exact)}},
      {"redirect",
       "tiktok.com CNAME walled.garden.example.",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"ttl and class",
       "tiktok.com 300 IN CNAME .",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"class then ttl",
       "tiktok.com IN 1h CNAME .",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"lower-case type",
       "tiktok.com cname .",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"absolute owner in origin",
       "tiktok.com.rpz.example. CNAME .",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"trailing comment",
       "tiktok.com CNAME . ; why",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"local data A",
       "tiktok.com A 10.0.0.1",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"local data AAAA",
       "tiktok.com AAAA ::1",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"apex SOA skipped", "@ SOA ns. admin. 1 3600 600 86400 300", Outcome::Nothing},
      {"NS skipped", "@ IN NS ns.example.", Outcome::Nothing},
      {"ip trigger",
       "32.1.0.0.127.rpz-ip CNAME .",
       Outcome::Unsupported,
       {},
       "rpz-ip trigger (only QNAME triggers are supported)"},
      {"nsdname trigger",
       "ns.evil.rpz-nsdname CNAME .",
       Outcome::Unsupported,
       {},
       "rpz-nsdname trigger (only QNAME triggers are supported)"},
      {"tcp-only",
       "tiktok.com CNAME rpz-tcp-only.",
       Outcome::Unsupported,
       {},
       "rpz-tcp-only. action"},
      {"TXT local data",
       "tiktok.com TXT \"blocked; by policy\"",
       Outcome::Unsupported,
       {},
       "local data of type TXT"},
      {"outside origin",
       "tiktok.com. CNAME .",
       Outcome::Error,
       {},
       "owner \"tiktok.com.\" is outside the zone origin \"rpz.example.\""},
      {"unknown type", "tiktok.com FOO .", Outcome::Error, {}, "unknown record type \"FOO\""},
      {"no type", "tiktok.com 300 IN", Outcome::Error, {}, "record for \"tiktok.com\" has no type"},
      {"CNAME without target",
       "tiktok.com CNAME",
       Outcome::Error,
       {},
       "CNAME needs exactly one target"},
      {"bad A", "tiktok.com A 10.0.0", Outcome::Error, {}, "A record needs one IPv4 address"},
      {"bad owner",
       "exa_mple..com CNAME .",
       Outcome::Error,
       {},
       "invalid domain \"exa_mple..com\": empty label (two dots in a row)"},
      {"star only",
       "* CNAME .",
       Outcome::Error,
       {},
       "wildcard owner \"*\" would match every name of the zone"},
      {"record at apex",
       "@ CNAME .",
       Outcome::Error,
       {},
       "CNAME record at the zone apex: a policy rule needs an owner below the origin"},
      {"include",
       "$INCLUDE other.zone",
       Outcome::Error,
       {},
       "$INCLUDE is not supported: inline the included file"},
      {"unknown directive",
       "$GENERATE 1-2 a$ CNAME .",
       Outcome::Error,
       {},
       "unknown directive \"$GENERATE\""},
      {"bad ttl", "$TTL soon", Outcome::Error, {}, "$TTL needs one TTL value, e.g. \"$TTL 300\""},
      {"stray paren",
       "tiktok.com CNAME . )",
       Outcome::Error,
       {},
       "unbalanced \")\": no \"(\" is open"},
      {"omitted owner first",
       "  CNAME .",
       Outcome::Error,
       {},
       "record without an owner name (the line starts with a blank)"},
  };
  for (const auto& c : cases) {
    RpzParser parser;
    ASSERT_TRUE(parser.parse_line("$ORIGIN rpz.example.").has_value());
    testing::expect_line(c, parser.parse_line(c.line));
  }
}

struct ZoneRule {
  std::string name;
  RuleKind kind;
  Action action;
  std::uint32_t line;
};

std::vector<ZoneRule> rules_of(const LoadedList& list) {
  std::vector<ZoneRule> out;
  for (const Rule& r : list.rules) {
    out.push_back(ZoneRule{r.name, r.kind, r.action, r.line});
  }
  return out;
}

bool operator==(const ZoneRule& a, const ZoneRule& b) {
  return a.name == b.name && a.kind == b.kind && a.action == b.action && a.line == b.line;
}

TEST(RpzParser, ReadsAWholeZoneWithMultiLineSoa) {
  const std::string zone =
      "$TTL 300\n"                                       // 1
      "$ORIGIN rpz.example.\n"                           // 2
      "@ IN SOA ns.rpz.example. admin.rpz.example. (\n"  // 3
      "    2024010101 ; serial\n"                        // 4
      "    3600 600 86400 300 )\n"                       // 5
      "  IN NS ns.rpz.example.\n"                        // 6
      "; TikTok\n"                                       // 7
      "tiktok.com CNAME .\n"                             // 8
      "*.tiktok.com CNAME .\n"                           // 9
      "ok.tiktok.com CNAME rpz-passthru.\n"              // 10
      "sink.example A 10.0.0.1\n"                        // 11
      "  AAAA ::1\n"                                     // 12: same policy, folded
      "multi.example (\n"                                // 13
      "  CNAME . )\n"                                    // 14
      "$ORIGIN sub.rpz.example.\n"                       // 15
      "x.com CNAME .\n";                                 // 16
  const auto loaded = load_list_text(zone, "z.rpz", 3, ListOptions{ListFormat::Rpz});
  ASSERT_TRUE(loaded.has_value()) << loaded.error().front();
  const std::vector<ZoneRule> expected = {
      {"tiktok.com", RuleKind::Exact, Action::Block, 8},
      {"tiktok.com", RuleKind::Below, Action::Block, 9},
      {"ok.tiktok.com", RuleKind::Exact, Action::Allow, 10},
      {"sink.example", RuleKind::Exact, Action::Block, 11},
      {"multi.example", RuleKind::Exact, Action::Block, 13},
      {"x.com", RuleKind::Exact, Action::Block, 16},
  };
  EXPECT_EQ(rules_of(*loaded), expected);
  EXPECT_EQ(loaded->lines, 16U);
  for (const Rule& r : loaded->rules) {
    EXPECT_EQ(r.list, 3U);
  }
}

TEST(RpzParser, WithoutOriginTakesOwnersAsWritten) {
  const auto loaded = load_list_text(
      "$TTL 60\n@ SOA localhost. root.localhost. 1 2 3 4 5\n@ NS localhost.\n"
      "tiktok.com CNAME .\nbytedance.com. CNAME .\n",
      "z.rpz", 0, ListOptions{ListFormat::Rpz});
  ASSERT_TRUE(loaded.has_value()) << loaded.error().front();
  const std::vector<ZoneRule> expected = {
      {"tiktok.com", RuleKind::Exact, Action::Block, 4},
      {"bytedance.com", RuleKind::Exact, Action::Block, 5},
  };
  EXPECT_EQ(rules_of(*loaded), expected);
}

TEST(RpzParser, ReportsAnUnterminatedParenthesisAtTheRecordStart) {
  const auto loaded = load_list_text("$ORIGIN rpz.example.\n@ SOA a. b. ( 1 2\n 3 4 5\n", "z.rpz",
                                     0, ListOptions{ListFormat::Rpz});
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error(),
            std::vector<std::string>{"z.rpz:2: unterminated \"(\": the record never closes"});
}

TEST(RpzParser, CountsUnsupportedTriggers) {
  const auto loaded =
      load_list_text("$ORIGIN rpz.example.\n32.1.0.0.127.rpz-ip CNAME .\na.com CNAME .\n", "z.rpz",
                     0, ListOptions{ListFormat::Rpz});
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->rules.size(), 1U);
  EXPECT_EQ(loaded->skipped_unsupported, 1U);
  EXPECT_EQ(loaded->skipped_messages,
            std::vector<std::string>{
                "z.rpz:2: skipped: rpz-ip trigger (only QNAME triggers are supported)"});
}

}  // namespace
}  // namespace egressguard::domains
