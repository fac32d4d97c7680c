#include "domains/list_loader.h"

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace egressguard::domains {
namespace {

TEST(LoadListText, ReportsEveryBadLineAndRefusesTheList) {
  const auto loaded = load_list_text("good.com\nexa mple.com\n# c\n-bad.com\nalso.good\n",
                                     "lists/gov.txt", 0, ListOptions{ListFormat::Plain});
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error(),
            (std::vector<std::string>{
                "lists/gov.txt:2: invalid domain \"exa mple.com\": label contains a space",
                "lists/gov.txt:4: invalid domain \"-bad.com\": label \"-bad\" starts with a hyphen",
            }));
}

TEST(LoadListText, SkipInvalidCountsAndKeepsTheRest) {
  const auto loaded = load_list_text("good.com\r\nexa mple.com\r\n\r\n-bad.com\r\n*.also.good",
                                     "l.txt", 7, ListOptions{ListFormat::Plain, true});
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->lines, 5U);
  EXPECT_EQ(loaded->skipped_invalid, 2U);
  EXPECT_EQ(loaded->skipped_unsupported, 0U);
  ASSERT_EQ(loaded->rules.size(), 2U);
  EXPECT_EQ(loaded->rules[0].name, "good.com");
  EXPECT_EQ(loaded->rules[0].kind, RuleKind::Exact);
  EXPECT_EQ(loaded->rules[0].line, 1U);
  EXPECT_EQ(loaded->rules[0].list, 7U);
  EXPECT_EQ(loaded->rules[1].name, "also.good");
  EXPECT_EQ(loaded->rules[1].kind, RuleKind::Suffix);
  EXPECT_EQ(loaded->rules[1].line, 5U);
  EXPECT_EQ(loaded->skipped_messages,
            (std::vector<std::string>{
                "l.txt:2: invalid domain \"exa mple.com\": label contains a space",
                "l.txt:4: invalid domain \"-bad.com\": label \"-bad\" starts with a hyphen",
            }));
}

TEST(LoadListText, KeepsOnlyTheFirstSkippedMessages) {
  std::string text;
  for (int i = 0; i < 50; ++i) {
    text += "bad name\n";
  }
  const auto loaded = load_list_text(text, "l.txt", 0, ListOptions{ListFormat::Plain, true});
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->skipped_invalid, 50U);
  EXPECT_EQ(loaded->skipped_messages.size(), kMaxSkippedMessages);
}

TEST(LoadListText, SubdomainsOptionTurnsExactIntoSuffix) {
  ListOptions options{ListFormat::Plain};
  options.subdomains = true;
  const auto plain = load_list_text("a.com\n*.b.com\n", "p", 0, options);
  ASSERT_TRUE(plain.has_value());
  ASSERT_EQ(plain->rules.size(), 2U);
  EXPECT_EQ(plain->rules[0].kind, RuleKind::Suffix);
  EXPECT_EQ(plain->rules[1].kind, RuleKind::Suffix);

  options.format = ListFormat::Hosts;
  const auto hosts = load_list_text("0.0.0.0 a.com b.com\n", "h", 0, options);
  ASSERT_TRUE(hosts.has_value());
  ASSERT_EQ(hosts->rules.size(), 2U);
  EXPECT_EQ(hosts->rules[1].name, "b.com");
  EXPECT_EQ(hosts->rules[1].kind, RuleKind::Suffix);
  EXPECT_EQ(hosts->rules[1].line, 1U);

  // RPZ rules keep their own kinds.
  options.format = ListFormat::Rpz;
  const auto rpz = load_list_text("a.com CNAME .\n", "r", 0, options);
  ASSERT_TRUE(rpz.has_value());
  EXPECT_EQ(rpz->rules.at(0).kind, RuleKind::Exact);
}

TEST(LoadListText, AdblockCountsUnsupportedSyntaxWithoutFailing) {
  const auto loaded = load_list_text(
      "! comment\n||a.com^\n@@||b.a.com^\nexample.com##.ad\n||c.com/path\n||d.com^$third-party\n",
      "f.txt", 1, ListOptions{ListFormat::Adblock});
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->rules.size(), 2U);
  EXPECT_EQ(loaded->skipped_unsupported, 3U);
  EXPECT_EQ(loaded->skipped_invalid, 0U);
  EXPECT_EQ(loaded->skipped_messages,
            (std::vector<std::string>{"f.txt:4: skipped: cosmetic rule",
                                      "f.txt:5: skipped: rule with a path",
                                      "f.txt:6: skipped: option $third-party"}));
  EXPECT_EQ(loaded->rules[1].action, Action::Allow);
}

TEST(LoadList, ReportsAnUnreadableFile) {
  const auto loaded = load_list("/nonexistent/egressguard/list.txt", 0, ListOptions{});
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error(),
            std::vector<std::string>{
                "/nonexistent/egressguard/list.txt: cannot open: No such file or directory"});
}

TEST(LoadList, ReportsADirectory) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  const auto loaded = load_list(dir, 0, ListOptions{});
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error(), std::vector<std::string>{dir + ": cannot open: is a directory"});
}

TEST(LoadList, ReadsAFile) {
  const testing::TempDir dir("eg-list-loader");
  const std::string path = dir.write("list.txt", "# test\ntiktok.com\n*.bytedance.com\n");
  const auto loaded = load_list(path, 2, ListOptions{});
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->lines, 3U);
  ASSERT_EQ(loaded->rules.size(), 2U);
  EXPECT_EQ(loaded->rules[1].name, "bytedance.com");
  EXPECT_EQ(loaded->rules[1].line, 3U);
}

TEST(ParseListFormat, RoundTrips) {
  for (const ListFormat f :
       {ListFormat::Plain, ListFormat::Hosts, ListFormat::Adblock, ListFormat::Rpz}) {
    EXPECT_EQ(parse_list_format(describe(f)), f);
  }
  EXPECT_EQ(parse_list_format("Plain"), std::nullopt);
  EXPECT_EQ(parse_list_format("domains"), std::nullopt);
}

}  // namespace
}  // namespace egressguard::domains
