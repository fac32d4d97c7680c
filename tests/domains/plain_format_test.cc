#include "domains/plain_format.h"

#include <gtest/gtest.h>

#include "format_test_helpers.h"

namespace egressguard::domains {
namespace {

using testing::block;
using testing::LineCase;
using testing::Outcome;

TEST(ParsePlainLine, HandlesTable) {
  const LineCase cases[] = {
      {"blank", "", Outcome::Nothing},
      {"whitespace", "  \t ", Outcome::Nothing},
      {"comment", "# Title: list", Outcome::Nothing},
      {"indented comment", "   # x", Outcome::Nothing},
      {"exact", "tiktok.com", Outcome::Rules, {block("tiktok.com", RuleKind::Exact)}},
      {"upper case and dot", "TikTok.COM.", Outcome::Rules, {block("tiktok.com", RuleKind::Exact)}},
      {"surrounding blanks",
       "  tiktok.com\t",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"wildcard = suffix",
       "*.tiktok.com",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Suffix)}},
      {"leading dot = suffix",
       ".tiktok.com",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Suffix)}},
      {"trailing comment",
       "tiktok.com # the app",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"trailing comment after tab",
       "tiktok.com\t#x",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"IDN",
       "b\xc3\xbc"
       "cher.de",
       Outcome::Rules,
       {block("xn--bcher-kva.de", RuleKind::Exact)}},
      {"space inside",
       "exa mple.com",
       Outcome::Error,
       {},
       "invalid domain \"exa mple.com\": label contains a space"},
      {"hash without blank is not a comment",
       "a#b.com",
       Outcome::Error,
       {},
       "invalid domain \"a#b.com\": label contains '#'"},
      {"double wildcard",
       "*.*.tiktok.com",
       Outcome::Error,
       {},
       "invalid domain \"*.tiktok.com\": label contains '*': a wildcard is only allowed as a "
       "leading \"*.\""},
      {"bare star",
       "*",
       Outcome::Error,
       {},
       "invalid domain \"*\": label contains '*': a wildcard is only allowed as a leading \"*.\""},
      {"empty after wildcard", "*.", Outcome::Error, {}, "invalid domain \"\": empty name"},
      {"hosts line",
       "0.0.0.0 tiktok.com",
       Outcome::Error,
       {},
       "\"0.0.0.0 tiktok.com\" looks like a hosts line: declare the list with format \"hosts\""},
      {"adblock line",
       "||tiktok.com^",
       Outcome::Error,
       {},
       "\"||tiktok.com^\" looks like an AdBlock rule: declare the list with format \"adblock\""},
      {"leading hyphen",
       "-x.com",
       Outcome::Error,
       {},
       "invalid domain \"-x.com\": label \"-x\" starts with a hyphen"},
  };
  for (const auto& c : cases) {
    testing::expect_line(c, parse_plain_line(c.line));
  }
}

}  // namespace
}  // namespace egressguard::domains
