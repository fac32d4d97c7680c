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
  // Client (original direction) packets of a flow queued to user space at most (ct original
  // packets <= max_packets). A flow leaves the queue as soon as the daemon decides it (usually
  // at its first data packet); this bound only ends the inspection of flows still undecided,
  // e.g. a ClientHello cut into tiny segments: beyond it they pass when fail-open and are
  // stopped when fail-closed. In-order segments of a ClientHello count, so keep it above
  // "ClientHello bytes / smallest segment" you intend to catch.
  std::uint32_t max_packets = 100;
  // Kernel queue length (packets waiting for a verdict) per queue.
  std::uint32_t queue_maxlen = 4096;
  // Packets read from the socket before their verdicts are sent (runs of equal verdicts go out
  // as one batch verdict).
  std::uint32_t batch = 64;
  // Netlink socket receive buffer, bytes.
  std::uint32_t socket_buffer = 8U << 20;
};

}  // namespace egressguard::nfqueue
