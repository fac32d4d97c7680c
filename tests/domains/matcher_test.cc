#include "domains/matcher.h"

#include <algorithm>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domains/name.h"

namespace egressguard::domains {
namespace {

constexpr ListUse kApply = ListUse::Apply;
constexpr ListUse kIgnore = ListUse::Ignore;
constexpr ListUse kExcept = ListUse::Except;

Rule rule(std::string name, RuleKind kind, Action action, std::uint32_t list, std::uint32_t line) {
  return Rule{std::move(name), kind, action, list, line};
}

struct LookupCase {
  const char* description;
  std::string query;
  std::vector<ListUse> uses;
  bool matched;
  Action action = Action::Allow;
  std::string rule_name = {};
  RuleKind kind = RuleKind::Exact;
  std::uint32_t list = 0;
  std::uint32_t line = 0;
  std::uint8_t labels = 0;
};

void check(const Matcher& matcher, const LookupCase& c) {
  SCOPED_TRACE(c.description);
  NameBuffer buffer;
  const auto name = normalize_name(c.query, buffer);
  ASSERT_TRUE(name.has_value());
  const Match m = matcher.lookup(*name, c.uses);
  ASSERT_EQ(m.matched, c.matched);
  if (!c.matched) {
    return;
  }
  EXPECT_EQ(m.action, c.action);
  EXPECT_EQ(m.labels, c.labels);
  const RuleInfo info = matcher.rule_info(m.rule);
  EXPECT_EQ(info.name, c.rule_name);
  EXPECT_EQ(info.kind, c.kind);
  EXPECT_EQ(info.list, c.list);
  EXPECT_EQ(info.line, c.line);
}

TEST(Matcher, FollowsPrecedenceTable) {
  const Matcher matcher = Matcher::compile({
      // list 0: a block list
      rule("tiktok.com", RuleKind::Suffix, Action::Block, 0, 1),
      rule("exact.example", RuleKind::Exact, Action::Block, 0, 2),
      rule("below.example", RuleKind::Below, Action::Block, 0, 3),
      rule("mixed.example", RuleKind::Suffix, Action::Allow, 0, 4),
      rule("mixed.example", RuleKind::Exact, Action::Block, 0, 5),
      rule("deep.allowed.example", RuleKind::Suffix, Action::Block, 0, 6),
      rule("same.example", RuleKind::Suffix, Action::Block, 0, 7),
      rule("below.same.example", RuleKind::Below, Action::Block, 0, 8),
      // list 1: exceptions written as allow rules
      rule("ok.tiktok.com", RuleKind::Suffix, Action::Allow, 1, 1),
      rule("allowed.example", RuleKind::Suffix, Action::Allow, 1, 2),
      rule("same.example", RuleKind::Suffix, Action::Allow, 1, 3),
      rule("below.same.example", RuleKind::Suffix, Action::Allow, 1, 4),
      // list 2: a block list that a group may use as an exception list
      rule("tiktok.com", RuleKind::Exact, Action::Block, 2, 9),
  });
  EXPECT_EQ(matcher.size(), 13U);
  const std::vector<ListUse> all = {kApply, kApply, kApply};
  const LookupCase cases[] = {
      {"suffix covers itself",
       "tiktok.com",
       {kApply},
       true,
       Action::Block,
       "tiktok.com",
       RuleKind::Suffix,
       0,
       1,
       2},
      {"suffix covers subdomain",
       "www.tiktok.com",
       {kApply},
       true,
       Action::Block,
       "tiktok.com",
       RuleKind::Suffix,
       0,
       1,
       2},
      {"suffix covers deep subdomain",
       "a.b.c.tiktok.com",
       {kApply},
       true,
       Action::Block,
       "tiktok.com",
       RuleKind::Suffix,
       0,
       1,
       2},
      {"not label aligned", "nottiktok.com", {kApply}, false},
      {"not a parent", "com", {kApply}, false},
      {"other tld", "tiktok.co", {kApply}, false},
      {"exact matches itself",
       "exact.example",
       {kApply},
       true,
       Action::Block,
       "exact.example",
       RuleKind::Exact,
       0,
       2,
       2},
      {"exact does not cover subdomains", "www.exact.example", {kApply}, false},
      {"below does not match the name", "below.example", {kApply}, false},
      {"below matches subdomains",
       "x.below.example",
       {kApply},
       true,
       Action::Block,
       "below.example",
       RuleKind::Below,
       0,
       3,
       2},
      {"exact beats suffix at the same name",
       "mixed.example",
       {kApply},
       true,
       Action::Block,
       "mixed.example",
       RuleKind::Exact,
       0,
       5,
       2},
      {"suffix allow applies below",
       "www.mixed.example",
       {kApply},
       true,
       Action::Allow,
       "mixed.example",
       RuleKind::Suffix,
       0,
       4,
       2},
      {"more specific allow beats block", "ok.tiktok.com", all, true, Action::Allow,
       "ok.tiktok.com", RuleKind::Suffix, 1, 1, 3},
      {"more specific allow covers below", "cdn.ok.tiktok.com", all, true, Action::Allow,
       "ok.tiktok.com", RuleKind::Suffix, 1, 1, 3},
      {"sibling of allow still blocked", "ko.tiktok.com", all, true, Action::Block, "tiktok.com",
       RuleKind::Suffix, 0, 1, 2},
      {"more specific block under an allow", "x.deep.allowed.example", all, true, Action::Block,
       "deep.allowed.example", RuleKind::Suffix, 0, 6, 3},
      {"allow above the block", "y.allowed.example", all, true, Action::Allow, "allowed.example",
       RuleKind::Suffix, 1, 2, 2},
      {"allow beats block at equal specificity", "same.example", all, true, Action::Allow,
       "same.example", RuleKind::Suffix, 1, 3, 2},
      {"below and suffix at one name: allow wins", "z.below.same.example", all, true, Action::Allow,
       "below.same.example", RuleKind::Suffix, 1, 4, 3},
      {"ignored list does not exist",
       "ok.tiktok.com",
       {kApply, kIgnore},
       true,
       Action::Block,
       "tiktok.com",
       RuleKind::Suffix,
       0,
       1,
       2},
      {"uses shorter than lists: rest ignored",
       "same.example",
       {kApply},
       true,
       Action::Block,
       "same.example",
       RuleKind::Suffix,
       0,
       7,
       2},
      {"no uses: nothing matches", "tiktok.com", {}, false},
      {"all ignored", "tiktok.com", {kIgnore, kIgnore, kIgnore}, false},
      {"except turns a block list into allow",
       "tiktok.com",
       {kApply, kIgnore, kExcept},
       true,
       Action::Allow,
       "tiktok.com",
       RuleKind::Exact,
       2,
       9,
       2},
      {"exact of an except list does not cover subdomains",
       "www.tiktok.com",
       {kApply, kIgnore, kExcept},
       true,
       Action::Block,
       "tiktok.com",
       RuleKind::Suffix,
       0,
       1,
       2},
      {"only list 2 applied",
       "tiktok.com",
       {kIgnore, kIgnore, kApply},
       true,
       Action::Block,
       "tiktok.com",
       RuleKind::Exact,
       2,
       9,
       2},
      {"exact (list 2) beats suffix (list 0) at the same name", "tiktok.com", all, true,
       Action::Block, "tiktok.com", RuleKind::Exact, 2, 9, 2},
      {"unknown name", "example.org", all, false},
  };
  for (const auto& c : cases) {
    check(matcher, c);
  }
}

TEST(Matcher, EmptyMatcherMatchesNothing) {
  const Matcher empty;
  const ListUse uses[] = {kApply};
  EXPECT_FALSE(empty.lookup("tiktok.com", uses).matched);
  EXPECT_EQ(empty.size(), 0U);
  const Matcher compiled = Matcher::compile({});
  EXPECT_FALSE(compiled.lookup("tiktok.com", uses).matched);
}

TEST(Matcher, RejectsNamesThatAreNotNormalised) {
  EXPECT_THROW((void)Matcher::compile({rule("TikTok.com", RuleKind::Exact, Action::Block, 0, 1)}),
               std::invalid_argument);
  EXPECT_THROW((void)Matcher::compile({rule("a..b", RuleKind::Exact, Action::Block, 0, 1)}),
               std::invalid_argument);
  EXPECT_THROW((void)Matcher::compile({rule("a.com", RuleKind::Exact, Action::Block, 70000, 1)}),
               std::length_error);
}

TEST(Matcher, RuleInfoRejectsAnIndexOutOfRange) {
  const Matcher matcher = Matcher::compile({rule("a.com", RuleKind::Exact, Action::Block, 0, 1)});
  EXPECT_EQ(matcher.rule_info(0).name, "a.com");
  EXPECT_THROW((void)matcher.rule_info(1), std::out_of_range);
}

TEST(Matcher, HandlesLongAndManyLabelNames) {
  std::string many;  // 127 one-byte labels = 253 bytes
  for (int i = 0; i < 127; ++i) {
    many += (i == 0 ? "" : ".");
    many += "a";
  }
  ASSERT_EQ(many.size(), 253U);
  const Matcher matcher = Matcher::compile({rule("a.a", RuleKind::Suffix, Action::Block, 0, 1),
                                            rule(many, RuleKind::Exact, Action::Allow, 0, 2)});
  const ListUse uses[] = {kApply};
  const Match full = matcher.lookup(many, uses);
  ASSERT_TRUE(full.matched);
  EXPECT_EQ(full.action, Action::Allow);
  EXPECT_EQ(full.labels, 127);
  const Match parent = matcher.lookup(std::string_view(many).substr(2), uses);
  ASSERT_TRUE(parent.matched);
  EXPECT_EQ(parent.action, Action::Block);
  EXPECT_EQ(parent.labels, 2);
}

// Cross-checks the table against a naive reference on random names from a small alphabet, so
// that many names share suffixes and fingerprints collide in home slots.
TEST(Matcher, AgreesWithANaiveReference) {
  std::mt19937 engine(12345);
  const auto next = [&engine](unsigned n) { return static_cast<std::uint32_t>(engine() % n); };
  const char* labels[] = {"a", "b", "c", "ab", "ba", "com", "x-y", "_t"};
  const auto random_name = [&](int max_labels) {
    std::string name;
    const int count = 1 + static_cast<int>(next(static_cast<unsigned>(max_labels)));
    for (int i = 0; i < count; ++i) {
      name += (i == 0 ? "" : ".");
      name += labels[next(8)];
    }
    return name;
  };
  std::vector<Rule> rules;
  for (std::uint32_t i = 0; i < 3000; ++i) {
    rules.push_back(rule(random_name(4), static_cast<RuleKind>(next(3)),
                         next(4) == 0 ? Action::Allow : Action::Block, next(3), i + 1));
  }
  const Matcher matcher = Matcher::compile(rules);
  ASSERT_EQ(matcher.size(), rules.size());
  const std::vector<ListUse> uses = {kApply, kExcept, kIgnore};
  for (int q = 0; q < 5000; ++q) {
    const std::string query = random_name(6);
    // Reference: best (labels, tier, allow) over every rule.
    int best_labels = -1;
    int best_score = -1;
    for (const Rule& r : rules) {
      if (uses[r.list] == kIgnore) {
        continue;
      }
      const bool full = query == r.name;
      const bool parent = query.size() > r.name.size() &&
                          query.compare(query.size() - r.name.size(), r.name.size(), r.name) == 0 &&
                          query[query.size() - r.name.size() - 1] == '.';
      const bool applies = r.kind == RuleKind::Exact    ? full
                           : r.kind == RuleKind::Suffix ? (full || parent)
                                                        : parent;
      if (!applies) {
        continue;
      }
      const int labels_count = 1 + static_cast<int>(std::count(r.name.begin(), r.name.end(), '.'));
      const bool allow = uses[r.list] == kExcept || r.action == Action::Allow;
      const int score = (r.kind == RuleKind::Exact ? 2 : 0) + (allow ? 1 : 0);
      if (labels_count > best_labels || (labels_count == best_labels && score > best_score)) {
        best_labels = labels_count;
        best_score = score;
      }
    }
    const Match m = matcher.lookup(query, uses);
    SCOPED_TRACE(query);
    ASSERT_EQ(m.matched, best_labels >= 0);
    if (m.matched) {
      EXPECT_EQ(m.labels, best_labels);
      EXPECT_EQ(m.action, (best_score & 1) != 0 ? Action::Allow : Action::Block);
      const RuleInfo info = matcher.rule_info(m.rule);
      EXPECT_EQ(1 + std::count(info.name.begin(), info.name.end(), '.'), best_labels);
    }
  }
}

TEST(Matcher, BatchLookupAgreesWithSingleLookups) {
  std::mt19937 engine(99);
  const auto next = [&engine](unsigned n) { return static_cast<std::uint32_t>(engine() % n); };
  std::vector<Rule> rules;
  // 61 labels; the rule is its last 21.
  std::string deep = "a";
  std::string deep_suffix;
  for (int i = 0; i < 60; ++i) {
    deep = "l" + std::to_string(i % 7) + "." + deep;
    if (i == 19) {
      deep_suffix = deep;
    }
  }
  rules.push_back(rule(deep_suffix, RuleKind::Suffix, Action::Block, 0, 1));
  for (std::uint32_t i = 0; i < 500; ++i) {
    rules.push_back(rule("n" + std::to_string(next(200)) + ".z" + std::to_string(next(5)) + ".com",
                         static_cast<RuleKind>(next(3)),
                         next(3) == 0 ? Action::Allow : Action::Block, next(2), i + 2));
  }
  const Matcher matcher = Matcher::compile(rules);
  std::vector<std::string> queries;
  for (int i = 0; i < 300; ++i) {
    queries.push_back("w" + std::to_string(next(3)) + ".n" + std::to_string(next(200)) + ".z" +
                      std::to_string(next(5)) + ".com");
  }
  queries.push_back(deep);                   // 61 labels: the long way
  queries.push_back(deep.substr(2));         // still long
  queries.push_back("");                     // empty
  queries.push_back(std::string(300, 'a'));  // too long
  std::vector<std::string_view> views(queries.begin(), queries.end());
  const ListUse uses[] = {kApply, kExcept};
  std::vector<Match> batch(views.size());
  matcher.lookup_batch(views, uses, batch);
  int matched = 0;
  for (std::size_t i = 0; i < views.size(); ++i) {
    const Match single = matcher.lookup(views[i], uses);
    SCOPED_TRACE(queries[i]);
    ASSERT_EQ(batch[i].matched, single.matched);
    EXPECT_EQ(batch[i].action, single.action);
    EXPECT_EQ(batch[i].rule, single.rule);
    EXPECT_EQ(batch[i].labels, single.labels);
    matched += single.matched ? 1 : 0;
  }
  EXPECT_GT(matched, 50);
  EXPECT_TRUE(batch[300].matched);  // the deep name, under its 21-label suffix rule
  EXPECT_EQ(batch[300].labels, 21);
}

TEST(Matcher, KeepsDuplicatesWithTheirProvenance) {
  const Matcher matcher = Matcher::compile({
      rule("dup.com", RuleKind::Suffix, Action::Block, 0, 10),
      rule("dup.com", RuleKind::Suffix, Action::Block, 1, 20),
      rule("dup.com", RuleKind::Suffix, Action::Block, 0, 30),
  });
  EXPECT_EQ(matcher.size(), 3U);
  std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
  for (std::uint32_t i = 0; i < matcher.size(); ++i) {
    const RuleInfo info = matcher.rule_info(i);
    EXPECT_EQ(info.name, "dup.com");
    seen.insert({info.list, info.line});
  }
  EXPECT_EQ(seen, (std::set<std::pair<std::uint32_t, std::uint32_t>>{{0, 10}, {0, 30}, {1, 20}}));
  const ListUse only_second[] = {kIgnore, kApply};
  const Match m = matcher.lookup("a.dup.com", only_second);
  ASSERT_TRUE(m.matched);
  EXPECT_EQ(matcher.rule_info(m.rule).list, 1U);
  EXPECT_EQ(matcher.rule_info(m.rule).line, 20U);
}

TEST(Matcher, ReportsItsMemory) {
  std::vector<Rule> rules;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    rules.push_back(
        rule("name" + std::to_string(i) + ".example.com", RuleKind::Exact, Action::Block, 0, i));
  }
  const Matcher matcher = Matcher::compile(rules);
  // 12 bytes per rule, ~20 bytes of name, ~11 bytes of table.
  EXPECT_GT(matcher.memory_bytes(), 1000U * 30);
  EXPECT_LT(matcher.memory_bytes(), 1000U * 48);
}

}  // namespace
}  // namespace egressguard::domains
