// What an analyst asks of `egressguard logs`: a time window and field values. A compiled
// EventFilter answers in two steps per line: may_match() on the raw bytes (a substring test that
// rejects most lines of a selective query before any parsing) and matches() on the parsed line.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "filter/logs/event_line.h"

namespace egressguard::logs {

// Each list is OR-ed within a field; fields are AND-ed. Empty lists match everything.
struct FilterSpec {
  std::optional<std::int64_t> since_us;  // inclusive
  std::optional<std::int64_t> until_us;  // exclusive
  std::vector<std::string> groups;       // exact
  // Exact name or "*.suffix" (the suffix and every name under it, as a "*.x.com" rule), matched
  // ASCII case-insensitively with a trailing dot ignored: DNS names are case-insensitive.
  std::vector<std::string> names;
  std::vector<std::string> categories;  // exact
  std::vector<std::string> srcs;        // an address ("10.8.0.10", "2001:db8::1") or a CIDR
  std::vector<std::string> actions;     // exact: block, allow
  std::vector<std::string> types;       // exact event_type: block, name, unnamed_flow
};

class EventFilter {
 public:
  // Errors name the bad value: `--src "10.0.0.0/33": prefix length must be 0..32`.
  static Result<EventFilter, std::string> compile(const FilterSpec& spec);

  // False when the line certainly does not match: a line without any backslash has every
  // string verbatim, so a field equal to a value must show that value's bytes. Lines with an
  // escape always pass (they are rare: names with odd bytes).
  bool may_match(std::string_view line) const noexcept;

  // The full test on a parsed line. Not const: decodes escaped values into scratch buffers that
  // keep their capacity, so steady-state matching does not allocate.
  bool matches(const EventLine& event) noexcept;

  bool empty() const noexcept;

 private:
  struct Cidr {
    std::array<std::uint8_t, 16> bytes{};
    std::uint8_t family_bytes = 4;  // 4 or 16
    std::uint8_t prefix = 32;
  };
  struct NamePattern {
    std::string text;  // lower case, no trailing dot, no "*."
    bool suffix = false;
  };
  // A substring that every matching line holds, with its table for a Horspool search.
  struct Needle {
    std::string text;
    bool icase = false;
    std::array<std::uint8_t, 256> shift{};
  };

  bool string_in(const RawValue& value, const std::vector<std::string>& wanted) noexcept;
  bool name_matches(const RawValue& value) noexcept;
  bool src_matches(const RawValue& value) noexcept;
  static Needle make_needle(std::string text, bool icase);
  static bool contains(std::string_view hay, const Needle& needle) noexcept;

  FilterSpec spec_;
  std::vector<NamePattern> names_;
  std::vector<Cidr> srcs_;
  // For may_match: each inner list is one field's alternatives; a line must hold one of each.
  std::vector<std::vector<Needle>> needles_;
  std::string scratch_;   // a decoded JSON string
  std::string name_key_;  // a name in append_name_key form
};

// Lower-case ASCII copy without a trailing dot: the form names are compared and counted in.
void append_name_key(std::string& out, std::string_view name);

}  // namespace egressguard::logs
