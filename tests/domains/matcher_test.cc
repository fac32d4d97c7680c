#include "domains/matcher.h"

#include <algorithm>
#include <initializer_list>
#include <random>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
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

// Every label count from 1 to 80 (lookups take a fast path up to some count, a general one
// past it, and a third past 64): a deep exact rule and a shallow suffix rule both answer.
TEST(Matcher, AnswersAtEveryLabelCount) {
  std::vector<Rule> rules = {rule("b.example", RuleKind::Suffix, Action::Block, 0, 1)};
  std::vector<std::string> names;
  std::string name = "example";
  for (std::uint32_t labels = 2; labels <= 80; ++labels) {
    name = (labels % 3 == 0 ? "cc" : "b") + std::string(".") + name;
    names.push_back(name);
    if (labels % 5 == 0) {
      rules.push_back(rule(name, RuleKind::Exact, Action::Allow, 0, labels));
    }
  }
  const Matcher matcher = Matcher::compile(rules);
  const ListUse uses[] = {kApply};
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto labels = static_cast<std::uint32_t>(i + 2);
    SCOPED_TRACE(names[i]);
    const Match m = matcher.lookup(names[i], uses);
    ASSERT_TRUE(m.matched);
    if (labels % 5 == 0) {
      EXPECT_EQ(m.action, Action::Allow);
      EXPECT_EQ(m.labels, labels);
    } else {
      EXPECT_EQ(m.action, Action::Block);
      EXPECT_EQ(m.labels, 2);
    }
  }
}

// Cross-checks the table against a naive reference on random names made of `labels`.
void check_against_naive_reference(const std::vector<std::string>& labels, std::uint32_t seed) {
  std::mt19937 engine(seed);
  const auto next = [&engine](unsigned n) { return static_cast<std::uint32_t>(engine() % n); };
  const auto random_name = [&](int max_labels) {
    std::string name;
    const int count = 1 + static_cast<int>(next(static_cast<unsigned>(max_labels)));
    for (int i = 0; i < count; ++i) {
      name += (i == 0 ? "" : ".");
      name += labels[next(static_cast<unsigned>(labels.size()))];
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

// A small alphabet: many names share suffixes and fingerprints collide in home slots.
TEST(Matcher, AgreesWithANaiveReference) {
  check_against_naive_reference({"a", "b", "c", "ab", "ba", "com", "x-y", "_t"}, 12345);
}

// Labels of 1 to 17 bytes, so that suffixes start at every offset within a name's 8-byte words
// (suffix hashes are built from words aligned to the name's end) and names of 1 to 7 bytes
// take every short path.
TEST(Matcher, AgreesWithANaiveReferenceAcrossWordBoundaries) {
  check_against_naive_reference(
      {"a", "bc", "def", "ghij", "klmno", "pqrstu", "vwxyz01", "23456789", "abcdefghi", "com",
       "co-uk", "0123456789abcdef", "0123456789abcdefg", "x", "yz"},
      54321);
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

// A reference for the precedence rules built on a map from name to rules: walks the query's
// label-aligned suffixes from the full name up, and at the first with an applicable rule takes
// the best (exact on the full name, then allow), the first by (list, line) among equals.
class ReferenceMatcher {
 public:
  ReferenceMatcher(const std::vector<Rule>& rules, std::span<const ListUse> uses)
      : rules_(rules), uses_(uses) {
    for (std::size_t i = 0; i < rules.size(); ++i) {
      by_name_[rules[i].name].push_back(i);
    }
  }

  // The matching rule, or nullptr; `labels` gets its label count.
  const Rule* lookup(const std::string& query, int& labels) const {
    int count = 1 + static_cast<int>(std::count(query.begin(), query.end(), '.'));
    for (std::size_t start = 0;; --count) {
      const auto it = by_name_.find(query.substr(start));
      if (it != by_name_.end()) {
        const Rule* best = nullptr;
        int best_score = -1;
        for (const std::size_t i : it->second) {
          const Rule& r = rules_[i];
          const ListUse use = r.list < uses_.size() ? uses_[r.list] : ListUse::Ignore;
          const bool full = start == 0;
          const bool applies = r.kind == RuleKind::Exact    ? full
                               : r.kind == RuleKind::Suffix ? true
                                                            : !full;
          if (use == ListUse::Ignore || !applies) {
            continue;
          }
          const bool allow = use == ListUse::Except || r.action == Action::Allow;
          const int score = (r.kind == RuleKind::Exact ? 2 : 0) + (allow ? 1 : 0);
          if (score > best_score ||
              (score == best_score &&
               std::pair(r.list, r.line) < std::pair(best->list, best->line))) {
            best = &r;
            best_score = score;
          }
        }
        if (best != nullptr) {
          labels = count;
          return best;
        }
      }
      const std::size_t dot = query.find('.', start);
      if (dot == std::string::npos) {
        return nullptr;
      }
      start = dot + 1;
    }
  }

 private:
  const std::vector<Rule>& rules_;
  std::span<const ListUse> uses_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_name_;
};

std::string random_label(std::mt19937_64& engine, std::size_t min, std::size_t max) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
  const std::size_t length = min + engine() % (max - min + 1);
  std::string label;
  for (std::size_t i = 0; i < length; ++i) {
    label += kAlphabet[engine() % (i == 0 || i + 1 == length ? 36 : kAlphabet.size())];
  }
  return label;
}

// The filter and the table together never lose a rule, on a matcher large enough for its
// arrays to be page-mapped: every rule's name, and random names below it, find a rule at least
// as specific, and every answer (hit or miss, single or batch) is the reference's.
TEST(Matcher, NeverMissesARuleAndAgreesWithAMapReferenceAt100kRules) {
  std::mt19937_64 engine(2024);
  const char* const tlds[] = {"com", "net", "org", "io", "cn", "co.uk", "xn--p1ai", "de"};
  std::vector<Rule> rules;
  for (std::uint32_t i = 0; i < 100'000; ++i) {
    std::string name = random_label(engine, 1, 14) + "." + tlds[engine() % std::size(tlds)];
    for (auto extra = engine() % 4; extra > 0; --extra) {
      name = random_label(engine, 1, engine() % 8 == 0 ? 63 : 10) + "." + name;
    }
    if (engine() % 50 == 0 && !rules.empty()) {
      name = rules[engine() % rules.size()].name;  // duplicates across lists and kinds
    }
    rules.push_back(rule(std::move(name), static_cast<RuleKind>(engine() % 3),
                         engine() % 5 == 0 ? Action::Allow : Action::Block,
                         static_cast<std::uint32_t>(engine() % 4), i + 1));
  }
  const Matcher matcher = Matcher::compile(rules);
  ASSERT_EQ(matcher.size(), rules.size());
  // Names here are long (some labels of 63 bytes): bound what is held beside them.
  std::set<std::string_view> names;
  for (const Rule& r : rules) {
    names.insert(r.name);
  }
  std::size_t name_bytes = 0;
  for (const std::string_view name : names) {
    name_bytes += name.size();
  }
  EXPECT_LT(matcher.memory_bytes(), name_bytes + rules.size() * 12 + names.size() * 16);
  const std::vector<ListUse> uses = {kApply, kApply, kExcept, kApply};
  const ReferenceMatcher reference(rules, uses);

  std::vector<std::string> queries;
  for (const Rule& r : rules) {
    // Every rule must be found through the filter: the name itself (exact, suffix) and a name
    // one to three labels below it (suffix, below), at least as specifically as the rule.
    std::string below = r.name;
    for (auto extra = 1 + engine() % 3; extra > 0; --extra) {
      below = random_label(engine, 1, 12) + "." + below;
    }
    const int rule_labels = 1 + static_cast<int>(std::count(r.name.begin(), r.name.end(), '.'));
    for (const std::string& q : {r.name, below}) {
      const bool should = q == r.name ? r.kind != RuleKind::Below : r.kind != RuleKind::Exact;
      if (!should || q.size() > kMaxNameLength) {
        continue;
      }
      const Match m = matcher.lookup(q, uses);
      ASSERT_TRUE(m.matched) << q << " (rule " << r.name << ")";
      ASSERT_GE(m.labels, rule_labels) << q;
    }
    if (queries.size() < 60'000 && below.size() <= kMaxNameLength) {
      queries.push_back(engine() % 2 == 0 ? r.name : below);
    }
  }
  for (int i = 0; i < 60'000; ++i) {  // mostly misses, some sharing a rule's suffix
    std::string name = random_label(engine, 1, 12) + "." + tlds[engine() % std::size(tlds)];
    if (engine() % 4 == 0) {
      name = random_label(engine, 1, 8) + "." + rules[engine() % rules.size()].name;
    }
    if (name.size() <= kMaxNameLength) {
      queries.push_back(std::move(name));
    }
  }
  std::vector<std::string_view> views(queries.begin(), queries.end());
  std::vector<Match> batch(views.size());
  matcher.lookup_batch(views, uses, batch);
  std::size_t hits = 0;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    SCOPED_TRACE(queries[i]);
    int labels = 0;
    const Rule* expected = reference.lookup(queries[i], labels);
    const Match m = matcher.lookup(queries[i], uses);
    ASSERT_EQ(m.matched, expected != nullptr);
    ASSERT_EQ(batch[i].matched, m.matched);
    if (!m.matched) {
      continue;
    }
    ++hits;
    EXPECT_EQ(m.labels, labels);
    const bool allow = uses[expected->list] == kExcept || expected->action == Action::Allow;
    EXPECT_EQ(m.action, allow ? Action::Allow : Action::Block);
    const RuleInfo info = matcher.rule_info(m.rule);
    EXPECT_EQ(info.name, expected->name);
    EXPECT_EQ(info.kind, expected->kind);
    EXPECT_EQ(info.list, expected->list);
    EXPECT_EQ(info.line, expected->line);
    EXPECT_EQ(batch[i].rule, m.rule);
    EXPECT_EQ(batch[i].action, m.action);
    EXPECT_EQ(batch[i].labels, m.labels);
  }
  EXPECT_GT(hits, 50'000U);
  EXPECT_LT(hits, queries.size());
}

TEST(Matcher, CopiesAndMovesKeepTheirAnswers) {
  std::vector<Rule> rules;
  for (std::uint32_t i = 0; i < 50'000; ++i) {  // large enough for page-mapped arrays
    rules.push_back(rule("n" + std::to_string(i) + ".example.com", RuleKind::Suffix,
                         i % 7 == 0 ? Action::Allow : Action::Block, 0, i + 1));
  }
  const Matcher original = Matcher::compile(rules);
  Matcher copy = original;
  Matcher moved = std::move(copy);
  Matcher assigned;
  assigned = original;
  const ListUse uses[] = {kApply};
  for (std::uint32_t i = 0; i < 50'000; i += 997) {
    const std::string query = "www.n" + std::to_string(i) + ".example.com";
    for (const Matcher* m : std::initializer_list<const Matcher*>{&original, &moved, &assigned}) {
      const Match match = m->lookup(query, uses);
      ASSERT_TRUE(match.matched) << query;
      EXPECT_EQ(m->rule_info(match.rule).line, i + 1);
      EXPECT_EQ(match.action, i % 7 == 0 ? Action::Allow : Action::Block);
    }
  }
  EXPECT_FALSE(moved.lookup("www.n50000.example.com", uses).matched);
  EXPECT_EQ(moved.memory_bytes(), original.memory_bytes());
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
  // 12 bytes per rule, ~20 bytes of name, ~11 bytes of table, 2 of filter.
  EXPECT_GT(matcher.memory_bytes(), 1000U * 30);
  EXPECT_LT(matcher.memory_bytes(), 1000U * 48);
}

}  // namespace
}  // namespace egressguard::domains
