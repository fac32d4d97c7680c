// NfqueueConfig: the `[nfqueue]` section of egressguard.toml (filter/app/config.cc fills it):
// which kernel queues the inline datapath serves, how many packets of a flow the kernel queues,
// and what happens to traffic when the daemon is not there (fail-open or fail-closed).
#pragma once

#include <cstdint>
#include <vector>

namespace egressguard::nfqueue {

struct NfqueueConfig {
  bool enabled = false;  // a [nfqueue] section is present
  // Queue numbers, consecutive (the kernel rule spreads flows with --queue-balance first:last).
  // One worker thread, with its own Inspector, per queue.
  std::vector<std::uint16_t> queues{0};
  // true: NFQA_CFG_F_FAIL_OPEN on each queue (a full queue accepts) and --queue-bypass on the
  // rule (no process bound: accept). false: both drop. Required in the config: it is a security
  // decision.
  bool fail_open = true;
  // Client (original direction) packets of a flow queued to user space at most; afterwards the
  // kernel passes an undecided flow without asking (ct original packets <= max_packets).
  std::uint32_t max_packets = 20;
  // Kernel queue length (packets waiting for a verdict) per queue.
  std::uint32_t queue_maxlen = 4096;
  // Packets read from the socket before their verdicts are sent (runs of equal verdicts go out
  // as one batch verdict).
  std::uint32_t batch = 64;
  // Netlink socket receive buffer, bytes.
  std::uint32_t socket_buffer = 8U << 20;
};

}  // namespace egressguard::nfqueue
