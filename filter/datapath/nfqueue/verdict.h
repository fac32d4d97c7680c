// Verdicts of the inline datapath, as pure functions so that tests need no kernel.
//
// The kernel side (filter/datapath/firewall/ruleset.h) and this side agree on packet and
// conntrack mark values inside kMarkMask:
//   - the ruleset sets kMarkQueue on a packet it wants inspected; iptables' NFQUEUE rule queues
//     packets carrying it;
//   - the verdict is always NF_ACCEPT with the packet mark's kMarkMask bits replaced by the
//     flow's state: kMarkAllow (decided, allowed), kMarkDrop / kMarkReject (decided, blocked), or
//     0 (undecided: the next client packet is queued again, up to the connbytes bound);
//   - a later nft chain copies a non-zero state into the conntrack mark, drops or rejects
//     (TCP reset / ICMP admin-prohibited) blocked packets, and from then on the kernel handles
//     every packet of the flow by its ct mark alone: user space sees only a flow's first packets.
// Blocked packets are accepted by the queue and stopped by the kernel rule so that the block
// sticks to the connection: a plain NF_DROP would leave the ct mark unset, and once the
// connbytes bound is passed a retransmitted ClientHello would go through unqueued.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "filter/inspect/policy.h"

namespace egressguard::nfqueue {

inline constexpr std::uint32_t kMarkMask = 0x00ff0000U;
inline constexpr std::uint32_t kMarkAllow = 0x00010000U;
inline constexpr std::uint32_t kMarkDrop = 0x00020000U;
inline constexpr std::uint32_t kMarkReject = 0x00030000U;
inline constexpr std::uint32_t kMarkQueue = 0x00800000U;  // packet mark only: "inspect me"

// NF_ACCEPT / NF_DROP values of <linux/netfilter.h>, without including it here.
inline constexpr std::uint32_t kNfDrop = 0;
inline constexpr std::uint32_t kNfAccept = 1;

enum class FlowState : std::uint8_t { Undecided, Allowed, Dropped, Rejected };

struct Verdict {
  std::uint32_t verdict = kNfAccept;
  std::uint32_t mark = 0;  // the packet's new mark

  friend bool operator==(const Verdict&, const Verdict&) = default;
};

// What the flow's decision means for the kernel. `decided` is the Inspector's "flow done";
// blocks that are not enforced (monitor mode) are allowed.
FlowState flow_state(const inspect::Decision& decision, bool decided,
                     inspect::EnforceAction action) noexcept;

// The verdict for a packet whose mark was `old_mark`: bits outside kMarkMask are kept.
Verdict make_verdict(FlowState state, std::uint32_t old_mark) noexcept;

// Packet ids and verdicts of one batch, in queue order. Consecutive packets with the same
// verdict and mark form a run, which one batch verdict ("every id up to N") settles.
struct PendingVerdict {
  std::uint32_t id = 0;
  Verdict verdict;
};
struct VerdictRun {
  std::uint32_t last_id = 0;
  std::uint32_t count = 0;
  Verdict verdict;
};

// Calls `emit(const VerdictRun&)` once per run of `pending`, in order. Ids must increase (queue
// order); a gap in ids ends a run, so a batch verdict never covers a packet it was not meant for.
template <typename Emit>
void for_each_run(std::span<const PendingVerdict> pending, Emit&& emit) {
  std::size_t i = 0;
  while (i < pending.size()) {
    VerdictRun run{pending[i].id, 1, pending[i].verdict};
    std::size_t j = i + 1;
    while (j < pending.size() && pending[j].verdict == run.verdict &&
           pending[j].id == run.last_id + 1) {
      run.last_id = pending[j].id;
      ++run.count;
      ++j;
    }
    emit(run);
    i = j;
  }
}

}  // namespace egressguard::nfqueue
