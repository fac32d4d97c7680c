#include "filter/events/event_file_sink.h"

#include <cstdio>

namespace egressguard::events {

Result<std::unique_ptr<EventFileSink>, std::string> EventFileSink::open(const EventsConfig& config,
                                                                        bool log_allowed,
                                                                        std::string sensor,
                                                                        std::string datapath) {
  std::unique_ptr<EventFileSink> sink(new EventFileSink());
  sink->path_ = config.path;
  sink->log_allowed_ = log_allowed;
  sink->datapath_ = std::move(datapath);
  if (!config.path.empty() || config.to_stdout || !config.syslog.empty()) {
    EventPipelineOptions options;
    options.sensor = std::move(sensor);
    options.synchronous = true;
    options.background_housekeeping = false;
    auto pipeline = EventPipeline::open(config, std::move(options));
    if (!pipeline) {
      return fail(std::move(pipeline).error());
    }
    sink->pipeline_ = std::move(*pipeline);
  }
  return sink;
}

EventFileSink::~EventFileSink() = default;

void EventFileSink::on_flow_new(std::uint32_t group) {
  if (group >= groups_.size()) {
    groups_.resize(group + 1);
  }
  ++groups_[group].flows;
}

void EventFileSink::on_observation(const inspect::Observation& o) {
  const std::uint32_t group = o.decision.group;
  if (group >= groups_.size()) {
    groups_.resize(group + 1);
  }
  GroupSummary& g = groups_[group];
  const bool blocked = o.decision.verdict == inspect::Verdict::Block;
  if (o.name.empty()) {
    ++g.unnamed;
  } else {
    ++g.names;
  }
  if (blocked) {
    ++g.blocks;
    if (o.policy != nullptr && o.decision.reason.kind == inspect::ReasonKind::Rule) {
      ++g.blocks_by_category[o.policy->categories()[o.decision.reason.category].name];
    }
  }
  if (!pipeline_ || (!blocked && !log_allowed_)) {
    return;
  }
  static_cast<void>(pipeline_->submit(o, datapath_));
}

Result<void, std::string> EventFileSink::flush() {
  if (!pipeline_) {
    return {};
  }
  pipeline_->close();
  for (const auto& output : pipeline_->outputs()) {
    const OutputCounters c = output->counters();
    if (c.dropped_write_error != 0) {
      const std::string where = output->name() == "file" ? path_ : std::string(output->name());
      return fail(where + ": writing events failed: " + std::to_string(c.dropped_write_error) +
                  " event(s) lost: " + output->last_error());
    }
  }
  return {};
}

std::string EventFileSink::summary(const inspect::PolicySnapshot& policy) const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %8s %8s %8s %8s  %s\n", "group", "flows", "names",
                "unnamed", "blocked", "blocked by category");
  out += line;
  for (std::size_t g = 0; g < policy.groups().size(); ++g) {
    const GroupSummary empty;
    const GroupSummary& s = g < groups_.size() ? groups_[g] : empty;
    std::string categories;
    for (const auto& [name, count] : s.blocks_by_category) {
      categories += (categories.empty() ? "" : " ") + name + "=" + std::to_string(count);
    }
    std::snprintf(
        line, sizeof line, "%-16s %8llu %8llu %8llu %8llu  ", policy.groups()[g].spec.name.c_str(),
        static_cast<unsigned long long>(s.flows), static_cast<unsigned long long>(s.names),
        static_cast<unsigned long long>(s.unnamed), static_cast<unsigned long long>(s.blocks));
    out += line;
    out += categories + "\n";
  }
  return out;
}

}  // namespace egressguard::events
