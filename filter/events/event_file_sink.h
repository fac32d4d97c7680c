// ObservationSink for the passive commands: writes events as JSON lines to a file or stdout and
// keeps the per-group summary (flows, names, blocks by category) that `scan` and `monitor`
// print at the end. Synchronous: the passive datapath has no packet deadline. The daemon's
// asynchronous sinks (rotation, syslog) come with the event-sink issue.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "filter/events/event_json.h"
#include "filter/inspect/observation.h"

namespace egressguard::events {

class EventFileSink : public inspect::ObservationSink {
 public:
  // `path` "-" is stdout; empty writes no events (summary only).
  static Result<std::unique_ptr<EventFileSink>, std::string> open(const std::string& path,
                                                                  bool log_allowed,
                                                                  std::string sensor,
                                                                  std::string datapath);
  ~EventFileSink() override;
  EventFileSink(const EventFileSink&) = delete;
  EventFileSink& operator=(const EventFileSink&) = delete;

  void on_observation(const inspect::Observation& observation) override;
  void on_flow_new(std::uint32_t group) override;

  // Flushes the events; false when a write failed (disk full ...), with the reason.
  Result<void, std::string> flush();
  std::string summary(const inspect::PolicySnapshot& policy) const;
  std::uint64_t events_written() const noexcept { return events_; }

 private:
  EventFileSink() = default;

  struct GroupSummary {
    std::uint64_t flows = 0;
    std::uint64_t names = 0;
    std::uint64_t blocks = 0;
    std::uint64_t unnamed = 0;
    std::map<std::string, std::uint64_t> blocks_by_category;
  };

  std::FILE* file_ = nullptr;
  bool owns_file_ = false;
  bool log_allowed_ = false;
  bool write_failed_ = false;
  std::string path_;
  std::string sensor_;
  std::string datapath_;
  std::string line_;
  std::uint64_t events_ = 0;
  std::vector<GroupSummary> groups_;
};

}  // namespace egressguard::events
