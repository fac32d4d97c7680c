// Fuzzes the configuration loader: any text must give a Config or a list of
// `file:line:col: what: why` errors, never a crash, a hang or an escaped exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filter/app/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes as text.
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = egressguard::app::parse_config(text, "fuzz.toml", "/etc/egressguard");
  if (!config.has_value() && config.error().empty()) {
    __builtin_trap();  // a refusal must say why
  }
  return 0;
}
