#include "filter/inspect/groups.h"

#include <algorithm>
#include <charconv>

namespace egressguard::inspect {

namespace {

void clear_host_bits(parse::IpAddress& ip, std::uint8_t prefix) noexcept {
  const std::size_t bytes = ip.family == 4 ? 4 : 16;
  for (std::size_t i = 0; i < bytes; ++i) {
    const std::size_t bit = i * 8;
    if (bit >= prefix) {
      ip.bytes[i] = 0;
    } else if (prefix - bit < 8) {
      const auto keep = static_cast<std::uint8_t>(0xffU << (8 - (prefix - bit)));
      ip.bytes[i] = static_cast<std::uint8_t>(ip.bytes[i] & keep);
    }
  }
}

}  // namespace

bool Cidr::contains(const parse::IpAddress& ip) const noexcept {
  if (ip.family != network.family) {
    return false;
  }
  const std::size_t full = prefix / 8U;
  for (std::size_t i = 0; i < full; ++i) {
    if (ip.bytes[i] != network.bytes[i]) {
      return false;
    }
  }
  const unsigned rest = prefix % 8U;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xffU << (8 - rest));
  return (ip.bytes[full] & mask) == network.bytes[full];
}

std::optional<Cidr> Cidr::parse(std::string_view text, std::string* why) {
  auto set_why = [&](std::string message) {
    if (why != nullptr) {
      *why = std::move(message);
    }
  };
  const auto slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  auto ip = parse::IpAddress::parse(addr);
  if (!ip) {
    set_why("\"" + std::string(addr) + "\" is not an IPv4 or IPv6 address");
    return std::nullopt;
  }
  const unsigned max = ip->family == 4 ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view len = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
    if (ec != std::errc() || end != len.data() + len.size() || len.empty()) {
      set_why("prefix length \"" + std::string(len) + "\" is not a number");
      return std::nullopt;
    }
    if (prefix > max) {
      set_why("prefix length " + std::to_string(prefix) + " is out of range: must be 0.." +
              std::to_string(max));
      return std::nullopt;
    }
  }
  Cidr cidr{*ip, static_cast<std::uint8_t>(prefix)};
  clear_host_bits(cidr.network, cidr.prefix);
  return cidr;
}

std::string Cidr::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix);
}

std::optional<MacAddress> parse_mac(std::string_view text) {
  MacAddress mac{};
  if (text.size() != 17) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < 6; ++i) {
    const std::string_view part = text.substr(i * 3, 2);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + 2, value, 16);
    if (ec != std::errc() || end != part.data() + 2) {
      return std::nullopt;
    }
    if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') {
      return std::nullopt;
    }
    mac[i] = static_cast<std::uint8_t>(value);
  }
  return mac;
}

GroupResolver::GroupResolver(std::vector<GroupMembers> groups, std::size_t default_group)
    : groups_(std::move(groups)), default_group_(default_group) {}

std::size_t GroupResolver::resolve(const SourceIdentity& source) const noexcept {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const GroupMembers& m = groups_[g];
    for (const Cidr& cidr : m.cidrs) {
      if (cidr.contains(source.ip)) {
        return g;
      }
    }
    if (!source.interface.empty() && std::find(m.interfaces.begin(), m.interfaces.end(),
                                               source.interface) != m.interfaces.end()) {
      return g;
    }
    if (source.mac != nullptr &&
        std::find(m.macs.begin(), m.macs.end(), *source.mac) != m.macs.end()) {
      return g;
    }
    if (source.vlan && std::find(m.vlans.begin(), m.vlans.end(), *source.vlan) != m.vlans.end()) {
      return g;
    }
  }
  return default_group_;
}

}  // namespace egressguard::inspect
