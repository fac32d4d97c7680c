#include "filter/events/event_aggregator.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "filter/events/event_json.h"

namespace egressguard::events {

EventAggregator::EventAggregator(std::uint64_t window_us, std::size_t max_entries, Emit emit)
    : window_us_(window_us),
      max_entries_(max_entries == 0 ? 1 : max_entries),
      emit_(std::move(emit)) {}

void EventAggregator::add(std::string_view key, std::string_view json, EventKind kind,
                          std::uint64_t ts_us, std::uint64_t now_us) {
  expire(now_us);
  key_.assign(key);  // reused: no allocation per lookup once it has grown
  auto found = entries_.find(key_);
  if (found != entries_.end()) {
    Entry& e = found->second;
    ++e.count;
    e.first_ts = std::min(e.first_ts, ts_us);
    e.last_ts = std::max(e.last_ts, ts_us);
    ++merged_;
    return;
  }
  if (entries_.size() >= max_entries_) {
    emit_front();
  }
  auto [it, inserted] = entries_.emplace(key_, Entry{});
  Entry& e = it->second;
  e.json.assign(json);
  e.kind = kind;
  e.first_ts = ts_us;
  e.last_ts = ts_us;
  e.count = 1;
  e.deadline = now_us + window_us_;
  order_.push_back(&*it);
}

void EventAggregator::emit_front() {
  const auto it = entries_.find(order_.front()->first);
  order_.pop_front();
  const Entry& e = it->second;
  line_.assign(e.json);
  if (!line_.empty() && line_.back() == '}') {
    line_.pop_back();
    line_ += ",\"count\":";
    line_ += std::to_string(e.count);
    line_ += ",\"first_timestamp\":\"";
    append_timestamp(line_, e.first_ts);
    line_ += "\",\"last_timestamp\":\"";
    append_timestamp(line_, e.last_ts);
    line_ += "\"}";
  }
  const EventLine line{line_, e.count, e.kind};
  entries_.erase(it);
  emit_(line);
}

void EventAggregator::expire(std::uint64_t now_us) {
  while (!order_.empty() && order_.front()->second.deadline <= now_us) {
    emit_front();
  }
}

void EventAggregator::flush_all() {
  while (!order_.empty()) {
    emit_front();
  }
}

std::uint64_t EventAggregator::next_deadline() const noexcept {
  return order_.empty() ? std::numeric_limits<std::uint64_t>::max()
                        : order_.front()->second.deadline;
}

}  // namespace egressguard::events
