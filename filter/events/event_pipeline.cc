#include "filter/events/event_pipeline.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "filter/events/dns_event_sink.h"
#include "filter/events/event_json.h"
#include "filter/events/file_output.h"
#include "filter/events/syslog_output.h"

namespace egressguard::events {

namespace {

constexpr std::uint64_t kTickUs = 1'000'000;  // syslog reconnects, aggregation windows
constexpr std::uint64_t kSyncFlushUs = 200'000;

EventKind kind_of(const inspect::Observation& o) noexcept {
  const std::string_view type = event_type(o);
  if (type == "block") {
    return EventKind::Block;
  }
  return type == "name" ? EventKind::Name : EventKind::UnnamedFlow;
}

// group, source address, name, action, category, datapath: what makes events "the same".
void append_key(std::string& key, const inspect::Observation& o, std::string_view datapath) {
  constexpr char kSep = '\x1f';
  const inspect::PolicySnapshot* policy = o.policy;
  if (policy != nullptr && o.decision.group < policy->groups().size()) {
    key += policy->groups()[o.decision.group].spec.name;
  }
  key += kSep;
  key += o.src.to_string();
  key += kSep;
  key += o.name;
  key += kSep;
  key += inspect::describe(o.decision.verdict);
  key += kSep;
  if (policy != nullptr && o.decision.reason.kind == inspect::ReasonKind::Rule &&
      o.decision.reason.category < policy->categories().size()) {
    key += policy->categories()[o.decision.reason.category].name;
  }
  key += kSep;
  key += datapath;
}

}  // namespace

Result<std::unique_ptr<EventPipeline>, std::string> EventPipeline::open(
    const EventsConfig& config, EventPipelineOptions options) {
  std::vector<std::unique_ptr<EventOutput>> outputs;
  const std::uint64_t now = options.clock.now();
  if (!config.path.empty()) {
    FileOutputOptions file;
    file.path = config.path;
    file.rotate_size = config.rotate_size;
    file.rotate_daily = config.rotate_daily;
    file.keep = config.keep;
    file.max_age_days = config.max_age_days;
    file.compress = config.compress;
    file.background = options.background_housekeeping;
    auto opened = FileOutput::open(std::move(file), now);
    if (!opened) {
      return fail(std::move(opened).error());
    }
    outputs.push_back(std::move(*opened));
  }
  if (config.to_stdout && config.path != "-") {
    FileOutputOptions out;
    out.path = "-";
    auto opened = FileOutput::open(std::move(out), now);
    if (!opened) {
      return fail(std::move(opened).error());
    }
    outputs.push_back(std::move(*opened));
  }
  for (const SyslogOutputConfig& syslog : config.syslog) {
    SyslogOutputOptions o;
    o.config = syslog;
    o.hostname = options.sensor;
    auto opened = SyslogOutput::open(std::move(o));
    if (!opened) {
      return fail(std::move(opened).error());
    }
    outputs.push_back(std::move(*opened));
  }
  options.queue_capacity = config.queue_capacity;
  options.aggregate_window_us = std::uint64_t{config.aggregate_window_ms} * 1000U;
  return std::make_unique<EventPipeline>(std::move(outputs), std::move(options));
}

EventPipeline::EventPipeline(std::vector<std::unique_ptr<EventOutput>> outputs,
                             EventPipelineOptions options)
    : options_(std::move(options)), outputs_(std::move(outputs)), losses_(outputs_.size()) {
  if (options_.queue_capacity == 0) {
    options_.queue_capacity = 1;
  }
  if (options_.aggregate_window_us != 0) {
    aggregator_.emplace(options_.aggregate_window_us, options_.queue_capacity,
                        [this](const EventLine& line) { emit(line); });
  }
  if (!options_.synchronous) {
    writer_ = std::thread([this] { run(); });
  }
}

EventPipeline::~EventPipeline() {
  close();
}

bool EventPipeline::submit(const inspect::Observation& o, std::string_view datapath,
                           const dnsproxy::DnsBlockInfo* dns) noexcept {
  try {
    // Per producer thread: formatting allocates only until the line has reached its size.
    thread_local std::string json;
    thread_local std::string key;
    json.clear();
    key.clear();
    append_event_json(json, o, EventContext{options_.sensor, datapath});
    if (dns != nullptr) {
      append_dns_fields(json, *dns, event_type(o) == "block");
    }
    if (aggregator_) {
      append_key(key, o, datapath);
    }
    return submit_json(json, key, kind_of(o), o.ts_us);
  } catch (...) {  // allocation failure: drop the event, never the packet
    dropped_queue_full_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
}

bool EventPipeline::submit_json(std::string_view json, std::string_view key, EventKind kind,
                                std::uint64_t ts_us) noexcept {
  try {
    if (options_.synchronous) {
      const std::lock_guard<std::mutex> lock(sync_mutex_);
      if (closed_) {
        dropped_queue_full_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      accepted_.fetch_add(1, std::memory_order_relaxed);
      Slot slot{std::string(json), std::string(key), ts_us, kind};
      const std::uint64_t now = options_.clock.now();
      now_us_ = now;
      // Windows run on the events' own times: a capture of last week aggregates like live.
      process(slot, aggregator_ ? ts_us : now);
      if (now >= last_sync_flush_us_ + kSyncFlushUs) {  // monitor: lines appear promptly
        finish_batch(now, false);
        last_sync_flush_us_ = now;
      }
      return true;
    }
    bool wake = false;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (closing_ || queued_ >= options_.queue_capacity) {
        dropped_queue_full_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      if (queued_ == queue_.size()) {
        queue_.emplace_back();
      }
      Slot& slot = queue_[queued_++];
      slot.json.assign(json);
      slot.key.assign(key);
      slot.ts_us = ts_us;
      slot.kind = kind;
      accepted_.fetch_add(1, std::memory_order_relaxed);
      wake = queued_ == 1;
    }
    if (wake) {
      wake_.notify_one();
    }
    return true;
  } catch (...) {
    dropped_queue_full_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
}

void EventPipeline::process(const Slot& slot, std::uint64_t now_us) {
  if (aggregator_) {
    aggregator_->add(slot.key, slot.json, slot.kind, slot.ts_us, now_us);
    aggregated_.store(aggregator_->merged(), std::memory_order_relaxed);
    return;
  }
  static_cast<void>(now_us);
  emit(EventLine{slot.json, 1, slot.kind});
}

void EventPipeline::emit(const EventLine& line) {
  for (const auto& output : outputs_) {
    output->write(line, now_us_);
  }
}

void EventPipeline::finish_batch(std::uint64_t now_us, bool final) {
  for (const auto& output : outputs_) {
    output->flush(now_us);
  }
  if (final) {
    for (const auto& output : outputs_) {
      output->close(now_us);
    }
  }
  if (!options_.log) {
    return;
  }
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    LossReport& r = losses_[i];
    const std::uint64_t lost = outputs_[i]->counters().dropped_write_error;
    if (lost == r.reported) {
      continue;
    }
    if (!final && r.logged_once && now_us < r.last_log_us + options_.log_interval_us) {
      continue;
    }
    options_.log("events: " + std::to_string(lost - r.reported) + " event(s) lost writing to " +
                 std::string(outputs_[i]->name()) + " (" + std::to_string(lost) +
                 " in total): " + outputs_[i]->last_error());
    r.reported = lost;
    r.last_log_us = now_us;
    r.logged_once = true;
  }
}

void EventPipeline::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    std::uint64_t wait_us = kTickUs;
    if (aggregator_) {
      const std::uint64_t now = options_.clock.now();
      const std::uint64_t deadline = aggregator_->next_deadline();
      wait_us = std::min(wait_us, deadline > now ? deadline - now : 0);
    }
    if (queued_ == 0 && !closing_ && wait_us > 0) {
      wake_.wait_for(lock, std::chrono::microseconds(wait_us),
                     [this] { return closing_ || queued_ > 0; });
    }
    std::swap(queue_, batch_);
    const std::size_t n = queued_;
    queued_ = 0;
    const bool stop = closing_;
    lock.unlock();

    const std::uint64_t now = options_.clock.now();
    now_us_ = now;
    for (std::size_t i = 0; i < n; ++i) {
      process(batch_[i], now);
    }
    if (aggregator_) {
      if (stop) {
        aggregator_->flush_all();
      } else {
        aggregator_->expire(now);
      }
    }
    finish_batch(now, stop);
    if (stop) {
      return;
    }
    lock.lock();
  }
}

void EventPipeline::close() {
  if (options_.synchronous) {
    const std::lock_guard<std::mutex> lock(sync_mutex_);
    if (closed_) {
      return;
    }
    closed_ = true;
    const std::uint64_t now = options_.clock.now();
    now_us_ = now;
    if (aggregator_) {
      aggregator_->flush_all();
    }
    finish_batch(now, true);
    return;
  }
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) {
      return;
    }
    closed_ = true;
    closing_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) {
    writer_.join();
  }
}

EventCounters EventPipeline::counters() const noexcept {
  EventCounters c;
  c.accepted = accepted_.load(std::memory_order_relaxed);
  c.dropped_queue_full = dropped_queue_full_.load(std::memory_order_relaxed);
  c.aggregated = aggregated_.load(std::memory_order_relaxed);
  if (!outputs_.empty()) {
    const OutputCounters first = outputs_.front()->counters();
    c.written = first.written;
    c.dropped_write_error = first.dropped_write_error;
  }
  return c;
}

void EventPipeline::for_each_counter(
    const std::function<void(std::string_view, std::uint64_t)>& fn) const {
  const EventCounters c = counters();
  fn("events_accepted", c.accepted);
  fn("events_written", c.written);
  fn("events_dropped_queue_full", c.dropped_queue_full);
  fn("events_dropped_write_error", c.dropped_write_error);
  fn("events_aggregated", c.aggregated);
  std::size_t syslogs = 0;
  for (const auto& output : outputs_) {
    std::string name(output->name());
    if (name == "syslog") {
      name += std::to_string(syslogs++);
    }
    const OutputCounters o = output->counters();
    fn("events_" + name + "_written", o.written);
    fn("events_" + name + "_dropped_write_error", o.dropped_write_error);
    if (name == "file") {
      fn("events_file_rotations", o.rotations);
    }
  }
}

}  // namespace egressguard::events
