// ObservationSink for the passive commands: writes events through a synchronous EventPipeline
// (the same file output, rotation, aggregation and syslog as the daemon) and keeps the per-group
// summary (flows, names, blocks by category) that `scan` and `monitor` print at the end.
// Synchronous: the passive datapath has no packet deadline.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "filter/events/event_json.h"
#include "filter/events/event_pipeline.h"
#include "filter/events/events_config.h"
#include "filter/inspect/observation.h"

namespace egressguard::events {

class EventFileSink : public inspect::ObservationSink {
 public:
  // `config.path` "-" is stdout; empty (and no other output) writes no events (summary only).
  static Result<std::unique_ptr<EventFileSink>, std::string> open(const EventsConfig& config,
                                                                  bool log_allowed,
                                                                  std::string sensor,
                                                                  std::string datapath);
  ~EventFileSink() override;
  EventFileSink(const EventFileSink&) = delete;
  EventFileSink& operator=(const EventFileSink&) = delete;

  void on_observation(const inspect::Observation& observation) override;
  void on_flow_new(std::uint32_t group) override;

  // Writes out every event (and closes the outputs); an error when one was lost (disk full ...).
  Result<void, std::string> flush();
  std::string summary(const inspect::PolicySnapshot& policy) const;
  std::uint64_t events_written() const noexcept {
    return pipeline_ ? pipeline_->counters().written : 0;
  }

 private:
  EventFileSink() = default;

  struct GroupSummary {
    std::uint64_t flows = 0;
    std::uint64_t names = 0;
    std::uint64_t blocks = 0;
    std::uint64_t unnamed = 0;
    std::map<std::string, std::uint64_t> blocks_by_category;
  };

  std::unique_ptr<EventPipeline> pipeline_;
  bool log_allowed_ = false;
  std::string path_;
  std::string datapath_;
  std::vector<GroupSummary> groups_;
};

}  // namespace egressguard::events
