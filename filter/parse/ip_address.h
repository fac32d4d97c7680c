// IpAddress: an IPv4 or IPv6 address held by value (17 bytes of state), cheap to copy, hash and
// compare on the packet path. Text conversion is for logs and config, not for the hot path.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/byte_span.h"

namespace egressguard::parse {

struct IpAddress {
  // Longest text form: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" (45 chars) plus NUL.
  static constexpr std::size_t kMaxTextSize = 46;

  std::uint8_t family = 0;  // 4 or 6; 0 = unset
  // Network byte order. IPv4 uses bytes[0..3]; the rest stays zero so == and hash() are simple.
  std::array<std::uint8_t, 16> bytes{};

  // `host_order` as in 0x7f000001 for 127.0.0.1.
  static IpAddress v4(std::uint32_t host_order) noexcept;
  // 4 bytes give IPv4, 16 give IPv6, any other size gives an unset address.
  static IpAddress from_bytes(ByteSpan network_order) noexcept;
  // Dotted IPv4 or any IPv6 text form (inet_pton); nullopt when invalid.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const noexcept { return family == 4; }
  bool is_v6() const noexcept { return family == 6; }
  // Host order IPv4 value (0 for IPv6).
  std::uint32_t v4_host_order() const noexcept;
  std::uint64_t hash() const noexcept;

  // Writes the text form (dotted IPv4, RFC 5952 IPv6, "-" when unset) without a NUL into `out`,
  // which must hold kMaxTextSize bytes; returns the length written.
  std::size_t to_chars(char* out) const noexcept;
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// For std::unordered_map<IpAddress, ...>.
struct IpAddressHash {
  std::size_t operator()(const IpAddress& address) const noexcept {
    return static_cast<std::size_t>(address.hash());
  }
};

}  // namespace egressguard::parse

template <>
struct std::hash<egressguard::parse::IpAddress> {
  std::size_t operator()(const egressguard::parse::IpAddress& address) const noexcept {
    return static_cast<std::size_t>(address.hash());
  }
};
