// NfqueueEventSink: events of the inline datapath's worker threads (one Inspector each), as JSON
// lines (docs/events.md) with datapath "nfqueue". Thread-safe: a mutex around formatting into
// a per-call line and one write(2) per line on an O_APPEND descriptor, so lines stay whole even
// when another writer appends to the same file. Only the first packets of a flow reach user
// space, so the event rate is bounded by new flows, not by traffic.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "filter/inspect/observation.h"

namespace egressguard::events {

class NfqueueEventSink : public inspect::ObservationSink {
 public:
  // `path` "-" is stdout. `log_allowed`: also names that were allowed (else blocks and, never,
  // unnamed flows).
  static Result<std::unique_ptr<NfqueueEventSink>, std::string> open(const std::string& path,
                                                                     std::string sensor,
                                                                     bool log_allowed);
  ~NfqueueEventSink() override;
  NfqueueEventSink(const NfqueueEventSink&) = delete;
  NfqueueEventSink& operator=(const NfqueueEventSink&) = delete;

  void on_observation(const inspect::Observation& observation) override;

  std::uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }
  std::uint64_t write_errors() const noexcept {
    return write_errors_.load(std::memory_order_relaxed);
  }

 private:
  NfqueueEventSink() = default;

  int fd_ = -1;
  bool owns_fd_ = false;
  bool log_allowed_ = false;
  std::string sensor_;
  std::mutex mutex_;
  std::string line_;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> write_errors_{0};
};

}  // namespace egressguard::events
