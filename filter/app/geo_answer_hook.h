// GeoAnswerHook: the DNS proxy's answer-address hook (dnsproxy::AnswerAddressHook) for GeoIP and
// ASN rules. An A/AAAA answer address that the client's group blocks by country, ASN or a
// category's IP list (PolicySnapshot::decide_address) turns the answer into a blocked one (the
// proxy's `blocked_address` path, EDE 17 Filtered) in an enforcing group; in a monitoring group
// it is reported as would-block; an address in one of the group's flag_countries is allowed and
// reported (geo_flag). The decision keeps its reason (geo_country, geo_asn, ip_list, geo_flag),
// so the proxy's event names the rule and the address. Domain rules beat GeoIP rules: a question
// that an allow rule decided is never blocked by its addresses. Every address not blocked here
// goes on to `next` (the firewall's learned sets).
#pragma once

#include <atomic>
#include <cstdint>

#include "filter/datapath/dnsproxy/dns_proxy_core.h"

namespace egressguard::app {

struct GeoAnswerCounters {
  std::uint64_t blocked = 0;      // answers blocked by an address rule (enforcing groups)
  std::uint64_t would_block = 0;  // monitoring groups: would have been blocked
  std::uint64_t flagged = 0;      // addresses in a flag_countries country (allowed)
};

class GeoAnswerHook : public dnsproxy::AnswerAddressHook {
 public:
  // `next` (nullable) must outlive this.
  explicit GeoAnswerHook(dnsproxy::AnswerAddressHook* next = nullptr) : next_(next) {}

  inspect::Decision decide_answer_address(const dnsproxy::AnswerAddressContext& context,
                                          const parse::IpAddress& address) noexcept override;
  // decide_answer_address's enforced block as a verdict.
  inspect::Verdict on_answer_address(const dnsproxy::AnswerAddressContext& context,
                                     const parse::IpAddress& address) noexcept override;

  GeoAnswerCounters counters() const noexcept;

 private:
  dnsproxy::AnswerAddressHook* next_;
  std::atomic<std::uint64_t> blocked_{0};
  std::atomic<std::uint64_t> would_block_{0};
  std::atomic<std::uint64_t> flagged_{0};
};

}  // namespace egressguard::app
