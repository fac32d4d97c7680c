#include "filter/events/event_file_sink.h"

#include <cerrno>
#include <cstring>

namespace egressguard::events {

Result<std::unique_ptr<EventFileSink>, std::string> EventFileSink::open(const std::string& path,
                                                                        bool log_allowed,
                                                                        std::string sensor,
                                                                        std::string datapath) {
  std::unique_ptr<EventFileSink> sink(new EventFileSink());
  sink->path_ = path;
  sink->log_allowed_ = log_allowed;
  sink->sensor_ = std::move(sensor);
  sink->datapath_ = std::move(datapath);
  if (path == "-") {
    sink->file_ = stdout;
  } else if (!path.empty()) {
    sink->file_ = std::fopen(path.c_str(), "a");
    if (sink->file_ == nullptr) {
      return fail(path + ": cannot open for writing events: " + std::strerror(errno));
    }
    sink->owns_file_ = true;
  }
  return sink;
}

EventFileSink::~EventFileSink() {
  if (owns_file_ && file_ != nullptr) {
    std::fclose(file_);
  }
}

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
  if (file_ == nullptr || (!blocked && !log_allowed_)) {
    return;
  }
  line_.clear();
  append_event_json(line_, o, EventContext{sensor_, datapath_});
  line_.push_back('\n');
  if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
    write_failed_ = true;
  }
  ++events_;
}

Result<void, std::string> EventFileSink::flush() {
  if (file_ != nullptr && std::fflush(file_) != 0) {
    write_failed_ = true;
  }
  if (write_failed_) {
    return fail((path_ == "-" ? std::string("stdout") : path_) +
                ": writing events failed: " + std::strerror(errno));
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
