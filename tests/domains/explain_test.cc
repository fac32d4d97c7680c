#include "domains/explain.h"

#include <gtest/gtest.h>

namespace egressguard::domains {
namespace {

struct FormatCase {
  RuleKind kind;
  Action action;
  ListFormat format;
  const char* expected;
};

TEST(FormatRule, WritesTheListSyntax) {
  const FormatCase cases[] = {
      {RuleKind::Exact, Action::Block, ListFormat::Plain, "tiktok.com"},
      {RuleKind::Suffix, Action::Block, ListFormat::Plain, "*.tiktok.com"},
      {RuleKind::Below, Action::Block, ListFormat::Hosts, "*.tiktok.com (below)"},
      {RuleKind::Suffix, Action::Block, ListFormat::Adblock, "||tiktok.com^"},
      {RuleKind::Suffix, Action::Allow, ListFormat::Adblock, "@@||tiktok.com^"},
      {RuleKind::Below, Action::Block, ListFormat::Adblock, "||*.tiktok.com^"},
      {RuleKind::Exact, Action::Block, ListFormat::Rpz, "tiktok.com CNAME ."},
      {RuleKind::Below, Action::Block, ListFormat::Rpz, "*.tiktok.com CNAME ."},
      {RuleKind::Exact, Action::Allow, ListFormat::Rpz, "tiktok.com CNAME rpz-passthru."},
  };
  for (const auto& c : cases) {
    const RuleInfo info{"tiktok.com", c.kind, c.action, 0, 1};
    EXPECT_EQ(format_rule(info, c.format), c.expected);
  }
}

TEST(DescribeRule, SaysWhatTheRuleCovers) {
  EXPECT_EQ(describe_rule({"tiktok.com", RuleKind::Suffix, Action::Block, 0, 1}),
            "block tiktok.com and its subdomains");
  EXPECT_EQ(describe_rule({"tiktok.com", RuleKind::Exact, Action::Allow, 0, 1}),
            "allow exactly tiktok.com");
  EXPECT_EQ(describe_rule({"tiktok.com", RuleKind::Below, Action::Block, 0, 1}),
            "block names below tiktok.com");
}

}  // namespace
}  // namespace egressguard::domains
