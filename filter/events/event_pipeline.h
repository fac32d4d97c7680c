// EventPipeline: the one way events leave egressguard, for every datapath (DESIGN section 7).
// Producers (DNS proxy workers, NFQUEUE workers, the pcap loop) format the event (event_json.h)
// and queue it; the queue is bounded (`queue_capacity`): when it is full the event is dropped
// and counted, a producer never waits for the writer. One writer thread takes the queue in
// batches, aggregates repeated events (event_aggregator.h) and hands each line to every output
// (file with rotation, stdout, syslog). close() (SIGTERM, normal exit) writes out everything
// accepted before it returns.
//
// Counters (stats): accepted (queued), dropped_queue_full, aggregated (folded into another
// event's count), written / dropped_write_error (in events, of the first output: the file when
// there is one; every output also has its own). After close(), accepted = written +
// dropped_write_error of each output.
//
// synchronous = true runs without a thread: submit() writes before it returns (scan: no packet
// deadline, and its summary wants every line written), aggregation windows then run on the
// events' own times (capture time).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.h"
#include "filter/datapath/dnsproxy/dns_proxy_core.h"
#include "filter/events/event_aggregator.h"
#include "filter/events/event_output.h"
#include "filter/events/events_config.h"
#include "filter/inspect/observation.h"

namespace egressguard::events {

struct EventPipelineOptions {
  std::string sensor;  // "sensor" in every event
  std::size_t queue_capacity = 65536;
  std::uint64_t aggregate_window_us = 0;  // 0 = off
  bool synchronous = false;
  Clock clock;
  // Warnings (a write failed: disk full, receiver gone), at most one per `log_interval_us`
  // and output, with the count of events lost meanwhile.
  std::function<void(std::string_view message)> log;
  std::uint64_t log_interval_us = 10'000'000;
  bool background_housekeeping = true;  // file compression/retention on a helper thread
};

struct EventCounters {
  std::uint64_t accepted = 0;
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t aggregated = 0;
  std::uint64_t written = 0;
  std::uint64_t dropped_write_error = 0;
};

class EventPipeline {
 public:
  // Outputs from [events]: the file (`path`; "-" = stdout), stdout (`stdout = true`), each
  // [[events.syslog]]. Aggregation and queue size from the same section.
  static Result<std::unique_ptr<EventPipeline>, std::string> open(const EventsConfig& config,
                                                                  EventPipelineOptions options);
  EventPipeline(std::vector<std::unique_ptr<EventOutput>> outputs, EventPipelineOptions options);
  ~EventPipeline();
  EventPipeline(const EventPipeline&) = delete;
  EventPipeline& operator=(const EventPipeline&) = delete;

  // Formats and queues one event. Thread-safe, never blocks on the writer; false when dropped
  // (queue full, closed). `dns` adds the DNS proxy's fields (dns_answer, ede, block_cause ...).
  bool submit(const inspect::Observation& observation, std::string_view datapath,
              const dnsproxy::DnsBlockInfo* dns = nullptr) noexcept;
  // A formatted event (one JSON object, no newline) and its aggregation key.
  bool submit_json(std::string_view json, std::string_view key, EventKind kind,
                   std::uint64_t ts_us) noexcept;

  // Writes out everything accepted, stops the writer, closes the outputs. Idempotent.
  void close();

  EventCounters counters() const noexcept;
  // "events_accepted", "events_written", "events_dropped_queue_full",
  // "events_dropped_write_error", "events_aggregated", then per output
  // "events_<output>_written", "events_<output>_dropped_write_error" (file, stdout, syslog<N>).
  void for_each_counter(const std::function<void(std::string_view, std::uint64_t)>& fn) const;
  const std::vector<std::unique_ptr<EventOutput>>& outputs() const noexcept { return outputs_; }
  bool aggregating() const noexcept { return options_.aggregate_window_us != 0; }

 private:
  struct Slot {
    std::string json;
    std::string key;
    std::uint64_t ts_us = 0;
    EventKind kind = EventKind::Block;
  };
  void run();
  // `now_us`: the aggregation window's clock; outputs get now_us_.
  void process(const Slot& slot, std::uint64_t now_us);
  void emit(const EventLine& line);
  void finish_batch(std::uint64_t now_us, bool final);

  EventPipelineOptions options_;
  std::vector<std::unique_ptr<EventOutput>> outputs_;
  std::optional<EventAggregator> aggregator_;
  std::uint64_t now_us_ = 0;  // writer: the batch's time, for emit()
  std::uint64_t last_sync_flush_us_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Slot> queue_;  // producers fill [0, queued_); slots keep their capacity
  std::size_t queued_ = 0;
  bool closing_ = false;
  bool closed_ = false;
  std::vector<Slot> batch_;  // writer
  std::mutex sync_mutex_;    // synchronous mode: one submit at a time

  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> dropped_queue_full_{0};
  std::atomic<std::uint64_t> aggregated_{0};

  struct LossReport {
    std::uint64_t reported = 0;  // dropped_write_error already logged
    std::uint64_t last_log_us = 0;
    bool logged_once = false;
  };
  std::vector<LossReport> losses_;
  std::thread writer_;
};

}  // namespace egressguard::events
