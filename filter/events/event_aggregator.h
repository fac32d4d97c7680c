// EventAggregator: folds repeated identical events into one. Events with the same key (group,
// source address, name, action, category, datapath: built by the pipeline) seen within
// `window_us` of the first one become one line, the first event's, with "count" (how many),
// "first_timestamp" and "last_timestamp" added (docs/events.md). A line is held until its window
// ends, so aggregated events reach the outputs up to one window late. At most `max_entries`
// windows are open; beyond that the oldest is emitted early (a flood of distinct names costs
// bounded memory). Writer thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "filter/events/event_output.h"

namespace egressguard::events {

class EventAggregator {
 public:
  using Emit = std::function<void(const EventLine& line)>;

  EventAggregator(std::uint64_t window_us, std::size_t max_entries, Emit emit);

  // One event; `now_us` is the clock the window runs on; `ts_us` the event's own time.
  void add(std::string_view key, std::string_view json, EventKind kind, std::uint64_t ts_us,
           std::uint64_t now_us);
  // Emits every window that ended by `now_us`.
  void expire(std::uint64_t now_us);
  // Emits everything (shutdown).
  void flush_all();
  // When the next window ends; UINT64_MAX when none is open.
  std::uint64_t next_deadline() const noexcept;
  std::size_t open_windows() const noexcept { return entries_.size(); }
  // Events folded into an earlier one.
  std::uint64_t merged() const noexcept { return merged_; }

 private:
  struct Entry {
    std::string json;
    EventKind kind = EventKind::Block;
    std::uint64_t first_ts = 0;
    std::uint64_t last_ts = 0;
    std::uint64_t count = 0;
    std::uint64_t deadline = 0;
  };
  void emit_front();

  std::uint64_t window_us_;
  std::size_t max_entries_;
  Emit emit_;
  std::unordered_map<std::string, Entry> entries_;
  // By deadline. Pointers, not iterators: a rehash keeps elements in place but not iterators.
  std::deque<std::pair<const std::string, Entry>*> order_;
  std::string line_;
  std::string key_;
  std::uint64_t merged_ = 0;
};

}  // namespace egressguard::events
