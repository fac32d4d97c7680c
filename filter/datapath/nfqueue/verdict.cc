#include "filter/datapath/nfqueue/verdict.h"

namespace egressguard::nfqueue {

FlowState flow_state(const inspect::Decision& decision, bool decided,
                     inspect::EnforceAction action) noexcept {
  if (decision.enforced_block()) {
    return action == inspect::EnforceAction::Drop ? FlowState::Dropped : FlowState::Rejected;
  }
  return decided ? FlowState::Allowed : FlowState::Undecided;
}

Verdict make_verdict(FlowState state, std::uint32_t old_mark) noexcept {
  std::uint32_t value = 0;
  switch (state) {
    case FlowState::Undecided:
      value = 0;
      break;
    case FlowState::Allowed:
      value = kMarkAllow;
      break;
    case FlowState::Dropped:
      value = kMarkDrop;
      break;
    case FlowState::Rejected:
      value = kMarkReject;
      break;
  }
  return Verdict{kNfAccept, (old_mark & ~kMarkMask) | value};
}

}  // namespace egressguard::nfqueue
