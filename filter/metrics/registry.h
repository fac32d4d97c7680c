// Metrics (DESIGN section 7): counters, gauges and histograms that packet threads update with one
// relaxed atomic add (no lock, no allocation), and a Registry that owns them and writes the
// Prometheus text exposition (format 0.0.4) when scraped. Label sets are fixed when a metric is
// registered (at startup, or when a reload rebuilds a table), never looked up on the hot path.
//
// Counts that already live elsewhere (the DNS proxy's X-macro counters, the NFQUEUE workers'
// stats, the policy store's reload counts) are not counted twice: a collector reads them at
// scrape time and writes them through the same Exposition.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace egressguard::metrics {

enum class MetricType : std::uint8_t { Counter, Gauge, Histogram, Untyped };
// "counter" | "gauge" | "histogram" | "untyped": the word on a # TYPE line.
std::string_view describe(MetricType type) noexcept;

// A label as written in an exposition: views, valid during the call.
struct Label {
  std::string_view name;
  std::string_view value;
};
// Labels a registered metric keeps (name, value), in the order written.
using LabelSet = std::vector<std::pair<std::string, std::string>>;

// True for a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name ([a-zA-Z_][a-zA-Z0-9_]*,
// not starting with "__", which Prometheus reserves).
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

// Label value and HELP text escaping of the text format 0.0.4: label values escape backslash,
// double quote and line feed; HELP escapes backslash and line feed.
void append_label_value(std::string& out, std::string_view value);
void append_help(std::string& out, std::string_view help);
// A sample value: integers without exponent, "+Inf", "-Inf", "NaN", else shortest round-trip.
void append_value(std::string& out, double value);

// A monotonically increasing count. Cache-line aligned so that two counters updated by different
// threads never share a line.
class alignas(64) Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down (integers: connections, versions, timestamps in seconds).
class alignas(64) Gauge {
 public:
  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// What a histogram holds at one moment; bucket counts are cumulative (Prometheus `le`).
struct HistogramSnapshot {
  std::vector<double> upper_bounds;       // in the exposed unit (e.g. seconds), +Inf not included
  std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
  double sum = 0;
  std::uint64_t count = 0;  // == cumulative.back()
};

// A histogram of integer observations in a native unit (nanoseconds, bytes) with fixed bucket
// bounds; exposed values are divided by `divisor` (1e9 turns nanoseconds into seconds; a
// division, so that 1000 ns is written as exactly 1e-06).
// observe() is a linear scan over at most kMaxBuckets bounds and two relaxed atomic adds.
class Histogram {
 public:
  static constexpr std::size_t kMaxBuckets = 32;

  // `bounds` strictly increasing, at most kMaxBuckets; throws std::invalid_argument otherwise.
  Histogram(std::vector<std::uint64_t> bounds, double divisor);

  void observe(std::uint64_t value) noexcept {
    std::size_t i = 0;
    while (i < bound_count_ && value > bounds_[i]) {
      ++i;
    }
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  HistogramSnapshot snapshot() const;
  double divisor() const noexcept { return divisor_; }

 private:
  std::array<std::uint64_t, kMaxBuckets> bounds_{};
  std::size_t bound_count_ = 0;
  double divisor_ = 1;
  std::array<std::atomic<std::uint64_t>, kMaxBuckets + 1> buckets_{};  // not cumulative
  std::atomic<std::uint64_t> sum_{0};
};

// Decision latency buckets in nanoseconds: 10 us .. 2.5 s.
std::vector<std::uint64_t> latency_buckets_ns();

// Writes the text exposition format 0.0.4. A family (# HELP, # TYPE, then its samples) must be
// written in one piece; a family name written twice throws std::logic_error, because Prometheus
// rejects the whole scrape then.
class Exposition {
 public:
  void family(std::string_view name, std::string_view help, MetricType type);
  void sample(std::string_view name, std::span<const Label> labels, double value);
  void sample(std::string_view name, std::span<const Label> labels, std::uint64_t value);
  // `name`_bucket{...,le="..."}, `name`_sum, `name`_count.
  void histogram(std::string_view name, std::span<const Label> labels,
                 const HistogramSnapshot& snapshot);

  // One family with one unlabelled sample.
  void counter(std::string_view name, std::string_view help, std::uint64_t value);
  void gauge(std::string_view name, std::string_view help, double value);

  const std::string& text() const noexcept { return text_; }
  std::string take() { return std::move(text_); }

 private:
  void sample_start(std::string_view name, std::string_view suffix, std::span<const Label> labels,
                    const Label* extra);

  std::string text_;
  std::unordered_set<std::string> families_;
};

// Owns registered metrics and collectors; expose() writes all of them. Registration (setup,
// reload) and exposition take a mutex; updates of a registered metric never do.
class Registry {
 public:
  using Collector = std::function<void(Exposition& out)>;

  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers one labelled child of family `name` (created on first use with `help`). The
  // returned reference stays valid as long as the Registry. Throws std::invalid_argument for an
  // invalid name or label name, a type or help that differs from the family's, or a label set
  // registered twice.
  Counter& counter(std::string_view name, std::string_view help, LabelSet labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, LabelSet labels = {});
  Histogram& histogram(std::string_view name, std::string_view help,
                       std::vector<std::uint64_t> bounds, double divisor, LabelSet labels = {});

  // Runs at every exposition, after the registered metrics, in the order added.
  void add_collector(Collector collector);

  // The whole text exposition. Throws std::logic_error when two collectors wrote one family.
  std::string expose() const;

 private:
  struct Family;
  Family& family(std::string_view name, std::string_view help, MetricType type,
                 const LabelSet& labels);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
  std::vector<Collector> collectors_;
};

}  // namespace egressguard::metrics
