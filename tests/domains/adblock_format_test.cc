#include "domains/adblock_format.h"

#include <gtest/gtest.h>

#include "format_test_helpers.h"

namespace egressguard::domains {
namespace {

using testing::allow;
using testing::block;
using testing::LineCase;
using testing::Outcome;

TEST(ParseAdblockLine, HandlesTable) {
  const LineCase cases[] = {
      {"blank", "", Outcome::Nothing},
      {"bang comment", "! Title: AdGuard DNS filter", Outcome::Nothing},
      {"header", "[Adblock Plus 2.0]", Outcome::Nothing},
      {"hash comment", "# comment", Outcome::Nothing},
      {"block", "||tiktok.com^", Outcome::Rules, {block("tiktok.com", RuleKind::Suffix)}},
      {"allow", "@@||tiktok.com^", Outcome::Rules, {allow("tiktok.com", RuleKind::Suffix)}},
      {"upper case", "||TikTok.COM^", Outcome::Rules, {block("tiktok.com", RuleKind::Suffix)}},
      {"trailing pipe", "||tiktok.com^|", Outcome::Rules, {block("tiktok.com", RuleKind::Suffix)}},
      {"below", "||*.tiktok.com^", Outcome::Rules, {block("tiktok.com", RuleKind::Below)}},
      {"important",
       "||tiktok.com^$important",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Suffix)}},
      {"all and document",
       "@@||tiktok.com^$all,document",
       Outcome::Rules,
       {allow("tiktok.com", RuleKind::Suffix)}},
      {"third-party", "||tiktok.com^$third-party", Outcome::Unsupported, {}, "option $third-party"},
      {"important then script",
       "||tiktok.com^$important,script",
       Outcome::Unsupported,
       {},
       "option $script"},
      {"denyallow",
       "||tiktok.com^$denyallow=a.com",
       Outcome::Unsupported,
       {},
       "option $denyallow=a.com"},
      {"cosmetic", "example.com##.ad", Outcome::Unsupported, {}, "cosmetic rule"},
      {"generic cosmetic", "##.banner", Outcome::Unsupported, {}, "cosmetic rule"},
      {"cosmetic exception", "example.com#@#.ad", Outcome::Unsupported, {}, "cosmetic rule"},
      {"path", "||tiktok.com/ads", Outcome::Unsupported, {}, "rule with a path"},
      {"path after caret",
       "||tiktok.com^ads",
       Outcome::Unsupported,
       {},
       "rule with a pattern after \"^\""},
      {"no caret", "||tiktok.com", Outcome::Unsupported, {}, "rule without a \"^\" separator"},
      {"regex", "/^ads[0-9]+\\./", Outcome::Unsupported, {}, "regular expression rule"},
      {"address rule",
       "|https://tiktok.com/",
       Outcome::Unsupported,
       {},
       "rule not anchored with \"||\""},
      {"bare word", "tiktok.com", Outcome::Unsupported, {}, "rule not anchored with \"||\""},
      {"port", "||tiktok.com:443^", Outcome::Unsupported, {}, "rule with a port"},
      {"inner wildcard", "||ads*.tiktok.com^", Outcome::Unsupported, {}, "wildcard inside a name"},
      {"space in name",
       "||exa mple.com^",
       Outcome::Error,
       {},
       "invalid domain \"exa mple.com\": label contains a space"},
      {"empty name", "||^", Outcome::Error, {}, "invalid domain \"\": empty name"},
  };
  for (const auto& c : cases) {
    testing::expect_line(c, parse_adblock_line(c.line));
  }
}

}  // namespace
}  // namespace egressguard::domains
