// Resolves one name's A and AAAA records through the DNS proxy's upstreams, for the background
// tasks that fill the firewall's address sets (background_learner.h). Plain UDP, the upstreams
// one after the other with `timeout` per try; a truncated (TC=1) answer counts as a failed try
// (answers of A/AAAA questions for resolver names fit in UDP). Blocking: never call it on the DNS
// path.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "filter/datapath/dnsproxy/dns_proxy_config.h"
#include "filter/parse/ip_address.h"

namespace egressguard::firewall {

struct ResolvedName {
  std::vector<std::string> cnames;  // CNAME targets of the answers, in order (raw)
  std::vector<parse::IpAddress> addresses;
};

// A query for `name` (dotted, at most 253 characters, labels of 1..63) with RD set, no EDNS.
Result<std::vector<std::uint8_t>, std::string> build_address_query(std::string_view name,
                                                                   std::uint16_t qtype,
                                                                   std::uint16_t id);

// A then AAAA. Fails (with the last reason) only when neither question got an answer; an
// answer without addresses (NXDOMAIN, NODATA) is a success with none.
Result<ResolvedName, std::string> resolve_addresses(std::span<const dnsproxy::Endpoint> upstreams,
                                                    std::string_view name,
                                                    std::chrono::milliseconds timeout);

}  // namespace egressguard::firewall
