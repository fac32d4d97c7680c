// Counting events for `egressguard logs top` and `egressguard logs stats`. An aggregated event
// (one line standing for several identical events in a window) counts its "count" field;
// other events count 1.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "filter/logs/event_line.h"

namespace egressguard::logs {

// The events one line stands for: its "count" when that is a positive integer, else 1.
std::uint64_t event_weight(const EventLine& event) noexcept;

// Counts per key (decoded bytes). Lookups of known keys do not allocate.
class Tally {
 public:
  void add(std::string_view key, std::uint64_t n);
  // The `limit` largest counts, largest first, ties by key; limit 0 = all.
  std::vector<std::pair<std::string, std::uint64_t>> top(std::size_t limit) const;
  std::size_t size() const noexcept { return counts_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::uint64_t, Hash, std::equal_to<>> counts_;
};

// The fields `logs top --by` counts.
enum class TopField : std::uint8_t { Name, Src, Group, Category };

// Parses "name", "src", "group", "category"; false otherwise.
bool parse_top_field(std::string_view text, TopField& out) noexcept;

// The key an event is counted under: names lower-cased without a trailing dot (DNS names are
// case-insensitive); "(none)" for null or absent values (an unnamed flow's name, a rule-less
// event's category).
inline constexpr std::string_view kNoValue = "(none)";
void append_count_key(std::string& out, const EventLine& event, TopField field);

// Everything `logs stats` prints.
struct Stats {
  std::uint64_t lines = 0;   // event lines
  std::uint64_t events = 0;  // events they stand for (aggregated counts included)
  std::int64_t first_us = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_us = std::numeric_limits<std::int64_t>::min();
  Tally by_action;
  Tally by_type;
  Tally by_group;
  Tally by_category;
  Tally by_datapath;

  void add(const EventLine& event);

 private:
  std::string scratch_;
};

}  // namespace egressguard::logs
