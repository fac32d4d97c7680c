#include "filter/datapath/firewall/learned_addresses.h"

#include <array>
#include <utility>

namespace egressguard::firewall {

namespace {

void bump(std::atomic<std::uint64_t>& counter) noexcept {
  counter.fetch_add(1, std::memory_order_relaxed);
}

bool learnable_v4(const std::uint8_t* b) noexcept {
  if (b[0] == 0 || b[0] == 127) {
    return false;  // "this network" / unspecified, loopback
  }
  if (b[0] == 169 && b[1] == 254) {
    return false;  // link-local
  }
  if (b[0] >= 224 && b[0] <= 239) {
    return false;  // multicast
  }
  return !(b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255);  // broadcast
}

// The per-thread memo of the last answer classified: every A/AAAA record of one answer asks
// about the same names.
struct AnswerMemo {
  const void* hook = nullptr;
  const inspect::PolicySnapshot* policy = nullptr;
  std::uint64_t version = 0;
  std::string key;
  AnswerTarget target = AnswerTarget::None;
};

void append_key(std::string& key, std::string_view name) {
  key += name;
  key += '\n';
}

}  // namespace

bool is_learnable(const parse::IpAddress& address) noexcept {
  const auto& b = address.bytes;
  if (address.is_v4()) {
    return learnable_v4(b.data());
  }
  if (!address.is_v6()) {
    return false;
  }
  bool mapped = b[10] == 0xff && b[11] == 0xff;
  for (std::size_t i = 0; i < 10; ++i) {
    mapped = mapped && b[i] == 0;
  }
  if (mapped) {
    return learnable_v4(b.data() + 12);
  }
  if (b[0] == 0xff) {
    return false;  // multicast
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
    return false;  // link-local fe80::/10
  }
  bool zero_prefix = true;  // :: and ::1
  for (std::size_t i = 0; i < 15; ++i) {
    zero_prefix = zero_prefix && b[i] == 0;
  }
  return !(zero_prefix && b[15] <= 1);
}

AnswerTarget classify_names(const inspect::PolicySnapshot& policy,
                            std::span<const std::string_view> names,
                            std::string_view doh_category) noexcept {
  AnswerTarget target = AnswerTarget::None;
  const auto& groups = policy.groups();
  const auto& categories = policy.categories();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const inspect::GroupSpec& spec = groups[g].spec;
    if (spec.mode != inspect::Mode::Enforce || spec.block.empty()) {
      continue;
    }
    for (const std::string_view name : names) {
      if (name.empty()) {
        continue;
      }
      const inspect::Decision d = policy.decide_raw_name(name, static_cast<std::uint32_t>(g));
      if (!d.enforced_block()) {
        continue;
      }
      if (d.reason.kind == inspect::ReasonKind::Rule && d.reason.category < categories.size() &&
          categories[d.reason.category].name == doh_category) {
        return AnswerTarget::Doh;
      }
      target = AnswerTarget::Learned;
    }
  }
  return target;
}

void LearnedCounters::for_each(
    const std::function<void(std::string_view, std::uint64_t)>& fn) const {
#define EGRESSGUARD_LEARNED_EACH(name) fn(#name, name);
  EGRESSGUARD_LEARNED_COUNTERS(EGRESSGUARD_LEARNED_EACH)
#undef EGRESSGUARD_LEARNED_EACH
}

LearnedAddresses::LearnedAddresses(FirewallConfig config, NftSetWriter& writer)
    : config_(std::move(config)), writer_(writer) {}

bool LearnedAddresses::add(AnswerTarget target, const parse::IpAddress& address) noexcept {
  if (target == AnswerTarget::None || (target == AnswerTarget::Learned && !config_.learn_ips)) {
    return false;
  }
  if (!is_learnable(address)) {
    bump(unlearnable_);
    return false;
  }
  const bool doh = target == AnswerTarget::Doh;
  switch (writer_.add(doh ? AddressSet::Doh : AddressSet::Learned, address,
                      doh ? config_.doh_timeout_s : config_.learn_timeout_s)) {
    case NftSetWriter::AddResult::Queued:
      bump(doh ? doh_added_ : learned_added_);
      return true;
    case NftSetWriter::AddResult::Recent:
      bump(learned_recent_);
      return true;
    case NftSetWriter::AddResult::Dropped:
      bump(learned_dropped_);
      return false;
  }
  return false;
}

inspect::Verdict LearnedAddresses::on_answer_address(const dnsproxy::AnswerAddressContext& context,
                                                     const parse::IpAddress& address) noexcept {
  if (context.policy == nullptr) {
    return inspect::Verdict::Allow;
  }
  thread_local AnswerMemo memo;
  thread_local std::string scratch;
  try {
    scratch.clear();  // keeps its capacity: no allocation once warm
    append_key(scratch, context.qname);
    append_key(scratch, context.owner);
    for (const std::string& cname : context.cnames) {
      append_key(scratch, cname);
    }
    if (memo.hook != this || memo.policy != context.policy ||
        memo.version != context.policy->version() || scratch != memo.key) {
      memo.key.swap(scratch);
      std::array<std::string_view, 2 + dnsproxy::kMaxHookCnames> names{};
      std::size_t n = 0;
      names[n++] = context.qname;
      names[n++] = context.owner;
      for (const std::string& cname : context.cnames) {
        if (n < names.size()) {
          names[n++] = cname;
        }
      }
      memo.hook = this;
      memo.policy = context.policy;
      memo.version = context.policy->version();
      memo.target =
          classify_names(*context.policy, std::span(names.data(), n), config_.doh_category);
    }
  } catch (...) {
    memo.policy = nullptr;  // out of memory: nothing learned from this record
    return inspect::Verdict::Allow;
  }
  add(memo.target, address);
  return inspect::Verdict::Allow;
}

LearnedCounters LearnedAddresses::counters() const noexcept {
  LearnedCounters c;
#define EGRESSGUARD_LEARNED_COPY(name) c.name = name##_.load(std::memory_order_relaxed);
  EGRESSGUARD_LEARNED_COUNTERS(EGRESSGUARD_LEARNED_COPY)
#undef EGRESSGUARD_LEARNED_COPY
  return c;
}

}  // namespace egressguard::firewall
