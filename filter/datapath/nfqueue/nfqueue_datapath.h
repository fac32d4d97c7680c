// The inline datapath: packets the kernel queues with NFQUEUE (only the first packets of each
// new flow, see verdict.h) go through an Inspector and get a verdict that marks the flow for the
// kernel. One worker thread per queue, each with its own Inspector (shared-nothing); the kernel
// spreads flows over the queues (--queue-balance), so a flow always meets the same worker.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "filter/datapath/nfqueue/nfqueue_config.h"
#include "filter/inspect/inspect_config.h"
#include "filter/inspect/observation.h"
#include "filter/inspect/policy.h"
#include "filter/inspect/stats.h"

namespace egressguard::nfqueue {

// Adds `from` to `into`, field by field (gauges such as active_flows add up too: a sum over
// workers).
void add_inspect_stats(inspect::InspectStats& into, const inspect::InspectStats& from) noexcept;

// Counters summed over the workers.
struct NfqueueStats {
  std::uint64_t packets = 0;          // queued packets read
  std::uint64_t allowed = 0;          // verdicts that marked a flow allowed
  std::uint64_t dropped = 0;          // ... blocked, drop
  std::uint64_t rejected = 0;         // ... blocked, reject
  std::uint64_t undecided = 0;        // accepted without a mark (flow not decided yet)
  std::uint64_t decode_errors = 0;    // payloads that did not decode (accepted, unmarked)
  std::uint64_t verdict_batches = 0;  // verdict messages sent (batched runs)
  std::uint64_t enobufs = 0;          // the socket overflowed: the kernel lost packets' messages
  std::uint64_t verdict_errors = 0;   // a verdict could not be sent
};

class NfqueueWorker;

class NfqueueDatapath {
 public:
  // Binds every queue of `config` (fails if one is missing or bound by another process) and
  // builds one Inspector per queue. `store` and `sink` must outlive the datapath; `sink`
  // (nullable) is called from every worker thread concurrently, so it must be thread-safe.
  static Result<std::unique_ptr<NfqueueDatapath>, std::string> open(
      const NfqueueConfig& config, const inspect::PolicyStore& store,
      const inspect::InspectConfig& inspect_config, inspect::ObservationSink* sink);
  ~NfqueueDatapath();
  NfqueueDatapath(const NfqueueDatapath&) = delete;
  NfqueueDatapath& operator=(const NfqueueDatapath&) = delete;

  // Starts the worker threads.
  void start();
  // Stops and joins them; undecided flows are flushed (reported as unnamed). Idempotent.
  void stop();
  // Makes every worker pick up the PolicyStore's current snapshot at its next batch.
  void refresh_policy() noexcept;

  NfqueueStats stats() const noexcept;
  // The workers' Inspector counters (inspect/stats.h), summed. Any thread; each worker publishes
  // a copy of its own about every 100 ms and when it stops (a try-lock the worker never waits
  // on, outside the packet loop), so the values trail by at most that.
  inspect::InspectStats inspect_stats() const;
  std::size_t workers() const noexcept { return workers_.size(); }

 private:
  NfqueueDatapath() = default;

  std::vector<std::unique_ptr<NfqueueWorker>> workers_;
  std::vector<std::jthread> threads_;
};

}  // namespace egressguard::nfqueue
