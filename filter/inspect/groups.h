// Device groups: who is asking. A source belongs to the first group (in configuration order)
// one of whose members matches it — CIDR (v4/v6), ingress interface, MAC or VLAN — and to the
// explicit default group when none does (DESIGN section 2).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filter/parse/ip_address.h"

namespace egressguard::inspect {

using MacAddress = std::array<std::uint8_t, 6>;

// An address prefix such as 10.8.0.0/16 or fd00:8::/64. Host bits are cleared on parse.
struct Cidr {
  parse::IpAddress network;
  std::uint8_t prefix = 0;

  bool contains(const parse::IpAddress& ip) const noexcept;
  // Accepts "a.b.c.d/n", "v6/n", or a bare address (a /32 or /128). nullopt with `why` set
  // when invalid.
  static std::optional<Cidr> parse(std::string_view text, std::string* why = nullptr);
  std::string to_string() const;
};

// "aa:bb:cc:dd:ee:ff" or with '-' separators; case-insensitive.
std::optional<MacAddress> parse_mac(std::string_view text);

struct GroupMembers {
  std::vector<Cidr> cidrs;
  std::vector<std::string> interfaces;
  std::vector<MacAddress> macs;
  std::vector<std::uint16_t> vlans;
};

// What a datapath knows about the sender of a packet or query.
struct SourceIdentity {
  parse::IpAddress ip;
  std::string_view interface;  // ingress interface name; empty when unknown
  const MacAddress* mac = nullptr;
  std::optional<std::uint16_t> vlan;
};

class GroupResolver {
 public:
  GroupResolver() = default;
  GroupResolver(std::vector<GroupMembers> groups, std::size_t default_group);

  // Index of the first group that matches, or the default group.
  std::size_t resolve(const SourceIdentity& source) const noexcept;
  std::size_t default_group() const noexcept { return default_group_; }

 private:
  std::vector<GroupMembers> groups_;
  std::size_t default_group_ = 0;
};

}  // namespace egressguard::inspect
