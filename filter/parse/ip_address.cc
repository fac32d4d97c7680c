#include "filter/parse/ip_address.h"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>

namespace egressguard::parse {
namespace {

constexpr std::string_view kHex = "0123456789abcdef";

std::size_t write_decimal(char* out, std::uint8_t value) noexcept {
  std::size_t n = 0;
  if (value >= 100) {
    out[n++] = static_cast<char>('0' + value / 100);
  }
  if (value >= 10) {
    out[n++] = static_cast<char>('0' + (value / 10) % 10);
  }
  out[n++] = static_cast<char>('0' + value % 10);
  return n;
}

std::size_t write_dotted(char* out, const std::uint8_t* quad) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i != 0) {
      out[n++] = '.';
    }
    n += write_decimal(out + n, quad[i]);
  }
  return n;
}

// Lower-case hex without leading zeros (RFC 5952 section 4.1 and 4.3).
std::size_t write_hex_group(char* out, std::uint16_t value) noexcept {
  std::size_t n = 0;
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const auto nibble = static_cast<unsigned>((value >> shift) & 0xfU);
    if (nibble != 0 || started || shift == 0) {
      out[n++] = kHex[nibble];
      started = true;
    }
  }
  return n;
}

std::uint64_t load64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

IpAddress IpAddress::v4(std::uint32_t host_order) noexcept {
  IpAddress a;
  a.family = 4;
  a.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::from_bytes(ByteSpan network_order) noexcept {
  IpAddress a;
  if (network_order.size() == 4 || network_order.size() == 16) {
    a.family = network_order.size() == 4 ? 4 : 6;
    std::copy(network_order.begin(), network_order.end(), a.bytes.begin());
  }
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= kMaxTextSize) {
    return std::nullopt;
  }
  std::array<char, kMaxTextSize> z{};  // inet_pton needs a NUL-terminated copy
  std::copy(text.begin(), text.end(), z.begin());
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, z.data(), a.bytes.data()) != 1) {
      return std::nullopt;
    }
    a.family = 4;
  } else {
    if (inet_pton(AF_INET6, z.data(), a.bytes.data()) != 1) {
      return std::nullopt;
    }
    a.family = 6;
  }
  return a;
}

std::uint32_t IpAddress::v4_host_order() const noexcept {
  if (family != 4) {
    return 0;
  }
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

std::uint64_t IpAddress::hash() const noexcept {
  // Two 64-bit halves mixed with the murmur3 finaliser; family keeps 0.0.0.0 and :: apart.
  std::uint64_t h = load64(bytes.data()) ^ (load64(bytes.data() + 8) * 0x9e3779b97f4a7c15ULL) ^
                    (std::uint64_t{family} << 56);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::size_t IpAddress::to_chars(char* out) const noexcept {
  if (family == 4) {
    return write_dotted(out, bytes.data());
  }
  if (family != 6) {
    out[0] = '-';
    return 1;
  }
  std::array<std::uint16_t, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i) {
    groups[i] = static_cast<std::uint16_t>((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  }
  // IPv4-mapped addresses print their IPv4 part dotted (RFC 5952 section 5).
  const bool mapped = groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 &&
                      groups[4] == 0 && groups[5] == 0xffff;
  if (mapped) {
    constexpr std::string_view kPrefix = "::ffff:";
    std::copy(kPrefix.begin(), kPrefix.end(), out);
    return kPrefix.size() + write_dotted(out + kPrefix.size(), bytes.data() + 12);
  }
  // The longest run of two or more zero groups becomes "::"; the first one on a tie
  // (RFC 5952 section 4.2).
  std::size_t best_start = 8;
  std::size_t best_len = 1;
  for (std::size_t i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < 8 && groups[j] == 0) {
      ++j;
    }
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  std::size_t n = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best_start) {
      out[n++] = ':';
      out[n++] = ':';
      i += best_len - 1;
      continue;
    }
    if (i != 0 && i != best_start + best_len) {
      out[n++] = ':';
    }
    n += write_hex_group(out + n, groups[i]);
  }
  return n;
}

std::string IpAddress::to_string() const {
  std::array<char, kMaxTextSize> buffer{};
  return {buffer.data(), to_chars(buffer.data())};
}

}  // namespace egressguard::parse
