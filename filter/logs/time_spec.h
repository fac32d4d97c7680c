// The times an analyst types after --since / --until.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace egressguard::logs {

// Parses a point in time, as microseconds since the Unix epoch (UTC):
//   - RFC 3339: "2026-11-29T09:40:12Z", "2026-11-29T10:40:12.5+01:00";
//   - a date or date and time without a zone, read as UTC: "2026-11-29", "2026-11-29T09:40",
//     "2026-11-29 09:40:12";
//   - a duration before `now_us`: "30s", "30m", "1h", "7d", "2w", combined as "1h30m";
//   - "now".
// `now_us` is the clock, injected so tests are repeatable. Errors say what was expected.
Result<std::int64_t, std::string> parse_time_spec(std::string_view text, std::int64_t now_us);

// The current time from the system clock, for parse_time_spec.
std::int64_t system_now_us() noexcept;

// "2026-11-29T09:40:12Z" (microseconds only when not zero).
std::string format_time_us(std::int64_t ts_us);

}  // namespace egressguard::logs
