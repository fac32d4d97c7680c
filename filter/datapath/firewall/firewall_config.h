// FirewallConfig: the `[firewall]` section of egressguard.toml (filter/app/config.cc fills it):
// what `egressguard firewall print|apply|remove` generates besides the per-group policy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "filter/parse/ip_address.h"

namespace egressguard::firewall {

struct FirewallConfig {
  // Block, for enforced groups, addresses learned from DNS answers of names they may not reach
  // (nft sets learned_v4/learned_v6, each address for learn_timeout seconds). Off by default:
  // a CDN address shared by a blocked and an allowed name blocks both (over-blocking).
  bool learn_ips = false;
  std::uint32_t learn_timeout_s = 3600;
  // The category whose names are encrypted-DNS resolvers: their resolved addresses go into the
  // doh_v4/doh_v6 sets (for doh_timeout seconds) and are blocked for enforced groups that block
  // the category.
  std::string doh_category = "doh-bypass";
  std::uint32_t doh_timeout_s = 86400;
  // Resolver addresses blocked for those groups whatever DNS says (IP-literal DoH/DoT, e.g.
  // 1.1.1.1, 8.8.8.8): static elements of doh_static_v4/doh_static_v6.
  std::vector<parse::IpAddress> doh_addresses;
};

}  // namespace egressguard::firewall
