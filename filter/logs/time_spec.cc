#include "filter/logs/time_spec.h"

#include <array>
#include <chrono>
#include <cstdio>

#include "base/json.h"
#include "filter/logs/event_line.h"

namespace egressguard::logs {

namespace {

constexpr std::int64_t kMicrosPerSecond = 1000000;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// The longest duration before now that --since/--until take; longer is a typo (and would
// overflow the microsecond clock past 292 000 years).
constexpr std::int64_t kMaxDurationSeconds = std::int64_t{100} * 366 * 86400;

enum class Duration { NotOne, Ok, TooLong };

// "30m", "1h30m", "7d": digits and a unit, repeated. NotOne when `text` is not that shape.
Duration parse_duration(std::string_view text, std::int64_t& micros) noexcept {
  if (text.empty() || !is_digit(text.front())) {
    return Duration::NotOne;
  }
  std::int64_t seconds = 0;
  std::size_t i = 0;
  bool too_long = false;
  while (i < text.size()) {
    std::int64_t n = 0;
    std::size_t digits = 0;
    while (i < text.size() && is_digit(text[i])) {
      n = n * 10 + (text[i] - '0');
      ++i;
      if (++digits > 9) {
        return Duration::NotOne;
      }
    }
    if (digits == 0 || i == text.size()) {
      return Duration::NotOne;
    }
    std::int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        return Duration::NotOne;
    }
    ++i;
    // n < 10^9 and unit <= 604800: n * unit < 6.1e14, no overflow; the sum is kept bounded.
    seconds += n * unit;
    if (seconds > kMaxDurationSeconds) {
      too_long = true;
      seconds = kMaxDurationSeconds;
    }
  }
  micros = seconds * kMicrosPerSecond;
  return too_long ? Duration::TooLong : Duration::Ok;
}

}  // namespace

Result<std::int64_t, std::string> parse_time_spec(std::string_view text, std::int64_t now_us) {
  if (text == "now") {
    return now_us;
  }
  std::int64_t ago = 0;
  switch (parse_duration(text, ago)) {
    case Duration::Ok:
      return now_us - ago;
    case Duration::TooLong:
      return fail("invalid time " + json_string(text) +
                  ": a duration before now is at most 100 years (36600d)");
    case Duration::NotOne:
      break;
  }
  if (auto rfc = parse_rfc3339_us(text)) {
    return *rfc;
  }
  // A date, or a date and time without a zone: UTC.
  std::string full(text);
  if (full.size() == 10) {
    full += "T00:00:00";
  } else if (full.size() == 16) {
    full += ":00";
  }
  if (full.size() >= 19 && full.find_first_of("Zz+", 19) == std::string::npos &&
      full.find('-', 19) == std::string::npos) {
    full += 'Z';
    if (auto utc = parse_rfc3339_us(full)) {
      return *utc;
    }
  }
  return fail("invalid time " + json_string(text) +
              ": expected RFC 3339 (2026-11-29T09:40:12Z), a date (2026-11-29, UTC), or a "
              "duration before now (30m, 1h, 7d, 1h30m)");
}

std::int64_t system_now_us() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_time_us(std::int64_t ts_us) {
  std::int64_t seconds = ts_us / kMicrosPerSecond;
  std::int64_t micros = ts_us % kMicrosPerSecond;
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --seconds;
  }
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  // civil_from_days (H. Hinnant).
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  std::array<char, 64> buffer{};
  int n = 0;
  if (micros == 0) {
    n = std::snprintf(buffer.data(), buffer.size(), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                      static_cast<long long>(year), static_cast<long long>(month),
                      static_cast<long long>(day), static_cast<long long>(rest / 3600),
                      static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  } else {
    n = std::snprintf(
        buffer.data(), buffer.size(), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ",
        static_cast<long long>(year), static_cast<long long>(month), static_cast<long long>(day),
        static_cast<long long>(rest / 3600), static_cast<long long>(rest / 60 % 60),
        static_cast<long long>(rest % 60), static_cast<long long>(micros));
  }
  return std::string(buffer.data(), static_cast<std::size_t>(n > 0 ? n : 0));
}

}  // namespace egressguard::logs
