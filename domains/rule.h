// A rule: one normalised name with a kind, an action and where it came from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace egressguard::domains {

enum class RuleKind : std::uint8_t {
  Exact,   // the name only
  Suffix,  // the name and every name below it (label-aligned)
  Below,   // strictly below the name: RPZ "*.name"
};

enum class Action : std::uint8_t { Block, Allow };

enum class ListFormat : std::uint8_t { Plain, Hosts, Adblock, Rpz };

// "exact", "suffix", "below".
std::string_view describe(RuleKind kind) noexcept;
// "block", "allow".
std::string_view describe(Action action) noexcept;
// "plain", "hosts", "adblock", "rpz": the names used in configuration.
std::string_view describe(ListFormat format) noexcept;
// The inverse of describe(ListFormat); nullopt for anything else (case-sensitive).
std::optional<ListFormat> parse_list_format(std::string_view text) noexcept;

struct Rule {
  std::string name;  // normalised (normalize_rule_name)
  RuleKind kind = RuleKind::Exact;
  Action action = Action::Block;
  std::uint32_t list = 0;  // list id (index of the list in the snapshot)
  std::uint32_t line = 0;  // 1-based line in the list file; 0 when not from a file
};

// What a line parser produces, before the loader adds the list id and line number.
struct ParsedRule {
  std::string name;  // normalised
  RuleKind kind = RuleKind::Exact;
  Action action = Action::Block;

  friend bool operator==(const ParsedRule&, const ParsedRule&) = default;
};

// One line's worth of rules. A line parser returns std::nullopt for blank and comment lines.
struct ParsedLine {
  std::vector<ParsedRule> rules;  // several for a hosts line naming several hosts
  // Non-empty when the line is valid syntax of the format that the matcher cannot express
  // (AdBlock cosmetic or path rules, RPZ IP triggers): the loader counts it as
  // skipped_unsupported. `rules` is then empty.
  std::string unsupported;
};

}  // namespace egressguard::domains
