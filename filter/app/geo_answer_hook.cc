#include "filter/app/geo_answer_hook.h"

namespace egressguard::app {

inspect::Decision GeoAnswerHook::decide_answer_address(
    const dnsproxy::AnswerAddressContext& context, const parse::IpAddress& address) noexcept {
  inspect::Decision geo;
  geo.group = context.group;
  const inspect::PolicySnapshot* policy = context.policy;
  if (policy != nullptr && context.group < policy->groups().size() &&
      !policy->groups()[context.group].address.empty()) {
    const inspect::Decision question = policy->decide_raw_name(context.qname, context.group);
    const bool allowed_by_rule = question.reason.kind == inspect::ReasonKind::Rule &&
                                 question.verdict == inspect::Verdict::Allow;
    if (!allowed_by_rule) {
      const inspect::Decision decision = policy->decide_address(address, context.group);
      if (decision.verdict == inspect::Verdict::Block) {
        if (decision.mode == inspect::Mode::Enforce) {
          blocked_.fetch_add(1, std::memory_order_relaxed);
          return decision;
        }
        would_block_.fetch_add(1, std::memory_order_relaxed);
        geo = decision;
      } else if (decision.reason.kind == inspect::ReasonKind::GeoFlag) {
        flagged_.fetch_add(1, std::memory_order_relaxed);
        geo = decision;
      }
    }
  }
  if (next_ != nullptr) {
    const inspect::Decision next = next_->decide_answer_address(context, address);
    if (next.enforced_block()) {
      return next;
    }
  }
  return geo;
}

inspect::Verdict GeoAnswerHook::on_answer_address(const dnsproxy::AnswerAddressContext& context,
                                                  const parse::IpAddress& address) noexcept {
  return decide_answer_address(context, address).enforced_block() ? inspect::Verdict::Block
                                                                  : inspect::Verdict::Allow;
}

GeoAnswerCounters GeoAnswerHook::counters() const noexcept {
  return GeoAnswerCounters{blocked_.load(std::memory_order_relaxed),
                           would_block_.load(std::memory_order_relaxed),
                           flagged_.load(std::memory_order_relaxed)};
}

}  // namespace egressguard::app
