// ByteSpan: a read-only view of bytes from the network or a file. Never owns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace egressguard {

using ByteSpan = std::span<const std::uint8_t>;

inline ByteSpan as_bytes(std::string_view text) noexcept {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes of a char buffer.
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

inline std::string_view as_chars(ByteSpan bytes) noexcept {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): chars of a byte buffer.
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace egressguard
