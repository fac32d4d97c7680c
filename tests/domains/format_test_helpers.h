// Table rows shared by the list format tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/result.h"
#include "domains/rule.h"

namespace egressguard::domains::testing {

enum class Outcome { Nothing, Rules, Unsupported, Error };

struct LineCase {
  const char* description;
  std::string line;
  Outcome outcome;
  std::vector<ParsedRule> rules = {};
  std::string text = {};  // unsupported reason or error message
};

inline ParsedRule block(std::string name, RuleKind kind) {
  return ParsedRule{std::move(name), kind, Action::Block};
}
inline ParsedRule allow(std::string name, RuleKind kind) {
  return ParsedRule{std::move(name), kind, Action::Allow};
}

inline void expect_line(const LineCase& c,
                        const Result<std::optional<ParsedLine>, std::string>& result) {
  SCOPED_TRACE(c.description);
  if (c.outcome == Outcome::Error) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error(), c.text);
    return;
  }
  ASSERT_TRUE(result.has_value()) << result.error();
  if (c.outcome == Outcome::Nothing) {
    EXPECT_FALSE(result->has_value());
    return;
  }
  ASSERT_TRUE(result->has_value());
  const ParsedLine& parsed = **result;
  if (c.outcome == Outcome::Unsupported) {
    EXPECT_EQ(parsed.unsupported, c.text);
    EXPECT_TRUE(parsed.rules.empty());
    return;
  }
  EXPECT_TRUE(parsed.unsupported.empty());
  EXPECT_EQ(parsed.rules, c.rules);
}

}  // namespace egressguard::domains::testing
