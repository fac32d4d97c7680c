// IP lists: files of autonomous system numbers and address prefixes that a category blocks for
// flows without a name (domains/catalogue/ip/, docs in domains/catalogue/README.md).
//
//   # comment (whole line or trailing)
//   AS396986          an ASN: "AS" (any case) and 1..4294967294
//   71.18.0.0/16      a prefix, IPv4 or IPv6; host bits must be zero
//
// Errors are `file:line: what: why`, every one in the file; a file with any error is refused.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_span.h"
#include "base/result.h"

namespace egressguard::geoip {

// The highest ASN a rule may name: 4294967295 is reserved (RFC 7300), and 0 means "none".
inline constexpr std::uint32_t kMaxAsn = 4294967294U;

// Parses "AS396986" / "as396986" (and, with `bare_ok`, "396986"); nullopt with `why` set.
std::optional<std::uint32_t> parse_asn(std::string_view text, std::string* why,
                                       bool bare_ok = false);

// An address prefix (network order, host bits zero).
struct IpPrefix {
  std::array<std::uint8_t, 16> bytes{};
  std::uint8_t length = 0;  // prefix length in bits
  std::uint8_t family = 0;  // 4 or 6

  // `address`: 4 or 16 bytes; an IPv4 prefix never contains an IPv6 address and vice versa.
  bool contains(ByteSpan address) const noexcept;
  // "a.b.c.d/n" or "v6/n"; nullopt with `why` set (host bits set, bad length, bad address).
  static std::optional<IpPrefix> parse(std::string_view text, std::string* why);
  std::string to_string() const;
};

struct IpListEntry {
  std::uint32_t asn = 0;  // 0 for a prefix entry
  IpPrefix prefix;        // when asn == 0
  std::uint32_t line = 0;
};

// One line (comments and blank lines are no entry: nullopt without error).
Result<std::optional<IpListEntry>, std::string> parse_ip_list_line(std::string_view line);

struct IpList {
  std::string path;
  std::vector<IpListEntry> entries;
};

Result<IpList, std::vector<std::string>> load_ip_list(const std::string& path);
// The same from text; `path` names it in errors.
Result<IpList, std::vector<std::string>> parse_ip_list(std::string_view text,
                                                       const std::string& path);

}  // namespace egressguard::geoip
