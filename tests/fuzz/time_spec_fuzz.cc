// libFuzzer target: the times an analyst gives `egressguard logs --since/--until`
// (filter/logs/time_spec.h). Any text is a time or a refusal that names it escaped on one line;
// no arithmetic overflows (UBSan); an accepted time between years 0000 and 9999 prints with
// format_time_us and parses back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "filter/logs/time_spec.h"

namespace {

// 2026-11-29T09:40:12Z, the clock the durations count back from.
constexpr std::int64_t kNow = std::int64_t{1795945212} * 1000000;
// 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in microseconds.
constexpr std::int64_t kYear0 = std::int64_t{-62167219200} * 1000000;
constexpr std::int64_t kYear10000 = std::int64_t{253402300800} * 1000000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes as text.
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto t = egressguard::logs::parse_time_spec(text, kNow);
  if (!t) {
    const std::string& error = t.error();
    if (error.rfind("invalid time \"", 0) != 0) {
      std::abort();
    }
    for (const char ch : error) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c >= 0x7f) {
        std::abort();  // one printable line whatever was typed
      }
    }
    return 0;
  }
  if (*t >= kYear0 && *t < kYear10000) {
    const std::string printed = egressguard::logs::format_time_us(*t);
    const auto back = egressguard::logs::parse_time_spec(printed, 0);
    if (!back || *back != *t) {
      std::abort();
    }
  }
  return 0;
}
