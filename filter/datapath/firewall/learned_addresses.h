// LearnedAddresses: the DNS proxy's answer-address hook that fills the firewall's timeout sets
// from relayed upstream answers (any client group: a BYOD device resolving www.tiktok.com
// teaches the gateway the addresses that gov-managed devices may not reach by IP):
//   - the qname, a CNAME target before the record, or the record's owner is in the
//     `doh_category` ([firewall] doh_category) for an enforced group -> doh_v4/doh_v6
//     (doh_timeout), always;
//   - else one of those names is blocked by the policy of at least one enforced group (mode
//     enforce, at least one blocked category) -> learned_v4/learned_v6 (learn_timeout), only
//     with learn_ips = true.
// Answers for names no enforced group blocks add nothing. Loopback, unspecified, multicast,
// link-local and broadcast addresses are never added (private and documentation ranges are).
// The hook never blocks an answer: it returns Allow and only queues for NftSetWriter.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "filter/datapath/dnsproxy/dns_proxy_core.h"
#include "filter/datapath/firewall/firewall_config.h"
#include "filter/datapath/firewall/nft_set_writer.h"
#include "filter/inspect/policy.h"
#include "filter/parse/ip_address.h"

namespace egressguard::firewall {

// Where the addresses of an answer go.
enum class AnswerTarget : std::uint8_t { None, Learned, Doh };

// False for addresses that must never be added: unspecified (0.0.0.0/8, ::), loopback (127/8,
// ::1), link-local (169.254/16, fe80::/10), multicast (224/4, ff00::/8), 255.255.255.255; an
// IPv4-mapped IPv6 address is judged as its IPv4 address.
bool is_learnable(const parse::IpAddress& address) noexcept;

// The target of an answer whose names (qname, CNAME targets, owner; raw from the wire) are
// `names`: Doh when one is decided by a rule of `doh_category` in an enforced group, else Learned
// when one is an enforced block for some enforced group, else None. Ignores learn_ips.
AnswerTarget classify_names(const inspect::PolicySnapshot& policy,
                            std::span<const std::string_view> names,
                            std::string_view doh_category) noexcept;

#define EGRESSGUARD_LEARNED_COUNTERS(X)                                                   \
  X(learned_added)   /* addresses queued for learned_v4/v6 */                             \
  X(learned_dropped) /* addresses for learned/doh sets the writer's full queue dropped */ \
  X(learned_recent)  /* addresses skipped: added recently (still in the set) */           \
  X(doh_added)       /* addresses queued for doh_v4/v6 from relayed answers */            \
  X(unlearnable)     /* addresses of blocked names never added (loopback, ...) */

struct LearnedCounters {
#define EGRESSGUARD_LEARNED_FIELD(name) std::uint64_t name = 0;
  EGRESSGUARD_LEARNED_COUNTERS(EGRESSGUARD_LEARNED_FIELD)
#undef EGRESSGUARD_LEARNED_FIELD
  void for_each(const std::function<void(std::string_view, std::uint64_t)>& fn) const;
};

class LearnedAddresses : public dnsproxy::AnswerAddressHook {
 public:
  // `writer` must outlive this.
  LearnedAddresses(FirewallConfig config, NftSetWriter& writer);

  // The hook: classifies the answer (cached per thread while the same answer's records come
  // in) and queues the address. Always Allow.
  inspect::Verdict on_answer_address(const dnsproxy::AnswerAddressContext& context,
                                     const parse::IpAddress& address) noexcept override;

  // Queues `address` for `target`'s set (learned only with learn_ips). Any thread. True when
  // queued or already there.
  bool add(AnswerTarget target, const parse::IpAddress& address) noexcept;

  const FirewallConfig& config() const noexcept { return config_; }
  LearnedCounters counters() const noexcept;

 private:
  FirewallConfig config_;
  NftSetWriter& writer_;
#define EGRESSGUARD_LEARNED_ATOMIC(name) std::atomic<std::uint64_t> name##_{0};
  EGRESSGUARD_LEARNED_COUNTERS(EGRESSGUARD_LEARNED_ATOMIC)
#undef EGRESSGUARD_LEARNED_ATOMIC
};

}  // namespace egressguard::firewall
