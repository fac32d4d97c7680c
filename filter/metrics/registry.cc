#include "filter/metrics/registry.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace egressguard::metrics {

std::string_view describe(MetricType type) noexcept {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Histogram:
      return "histogram";
    case MetricType::Untyped:
      break;
  }
  return "untyped";
}

namespace {

bool name_char(char c, bool first, bool colon) noexcept {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const bool digit = c >= '0' && c <= '9';
  return alpha || (colon && c == ':') || (!first && digit);
}

}  // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, true)) {
      return false;
    }
  }
  return true;
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || name.substr(0, 2) == "__") {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, false)) {
      return false;
    }
  }
  return true;
}

void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
}

void append_help(std::string& out, std::string_view help) {
  for (const char c : help) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buffer[32];
  // Integers up to 2^53 are exact in a double: write them without exponent or fraction.
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    const auto n = static_cast<std::int64_t>(value);
    const auto r = std::to_chars(buffer, buffer + sizeof(buffer), n);
    out.append(buffer, r.ptr);
    return;
  }
  const auto r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, r.ptr);
}

Histogram::Histogram(std::vector<std::uint64_t> bounds, double divisor) : divisor_(divisor) {
  if (!(divisor > 0)) {
    throw std::invalid_argument("histogram: the divisor must be positive");
  }
  if (bounds.empty() || bounds.size() > kMaxBuckets) {
    throw std::invalid_argument("histogram: 1.." + std::to_string(kMaxBuckets) +
                                " bucket bounds are needed");
  }
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (i > 0 && bounds[i] <= bounds[i - 1]) {
      throw std::invalid_argument("histogram: bucket bounds must increase strictly");
    }
    bounds_[i] = bounds[i];
  }
  bound_count_ = bounds.size();
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot out;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < bound_count_; ++i) {
    out.upper_bounds.push_back(static_cast<double>(bounds_[i]) / divisor_);
    running += buckets_[i].load(std::memory_order_relaxed);
    out.cumulative.push_back(running);
  }
  running += buckets_[bound_count_].load(std::memory_order_relaxed);
  out.cumulative.push_back(running);
  out.count = running;
  out.sum = static_cast<double>(sum_.load(std::memory_order_relaxed)) / divisor_;
  return out;
}

std::vector<std::uint64_t> latency_buckets_ns() {
  return {10'000,      25'000,      50'000,      100'000,       250'000,      500'000,
          1'000'000,   2'500'000,   5'000'000,   10'000'000,    25'000'000,   50'000'000,
          100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000};
}

void Exposition::family(std::string_view name, std::string_view help, MetricType type) {
  if (!families_.emplace(name).second) {
    throw std::logic_error("metrics: family " + std::string(name) + " written twice");
  }
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  append_help(text_, help);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += describe(type);
  text_ += '\n';
}

void Exposition::sample_start(std::string_view name, std::string_view suffix,
                              std::span<const Label> labels, const Label* extra) {
  text_ += name;
  text_ += suffix;
  if (!labels.empty() || extra != nullptr) {
    text_ += '{';
    bool first = true;
    const auto one = [&](const Label& label) {
      if (!first) {
        text_ += ',';
      }
      first = false;
      text_ += label.name;
      text_ += "=\"";
      append_label_value(text_, label.value);
      text_ += '"';
    };
    for (const Label& label : labels) {
      one(label);
    }
    if (extra != nullptr) {
      one(*extra);
    }
    text_ += '}';
  }
  text_ += ' ';
}

void Exposition::sample(std::string_view name, std::span<const Label> labels, double value) {
  sample_start(name, "", labels, nullptr);
  append_value(text_, value);
  text_ += '\n';
}

void Exposition::sample(std::string_view name, std::span<const Label> labels, std::uint64_t value) {
  sample_start(name, "", labels, nullptr);
  text_ += std::to_string(value);
  text_ += '\n';
}

void Exposition::histogram(std::string_view name, std::span<const Label> labels,
                           const HistogramSnapshot& snapshot) {
  std::string le;
  for (std::size_t i = 0; i <= snapshot.upper_bounds.size(); ++i) {
    le.clear();
    if (i < snapshot.upper_bounds.size()) {
      append_value(le, snapshot.upper_bounds[i]);
    } else {
      le = "+Inf";
    }
    const Label extra{"le", le};
    sample_start(name, "_bucket", labels, &extra);
    text_ += std::to_string(snapshot.cumulative[i]);
    text_ += '\n';
  }
  sample_start(name, "_sum", labels, nullptr);
  append_value(text_, snapshot.sum);
  text_ += '\n';
  sample_start(name, "_count", labels, nullptr);
  text_ += std::to_string(snapshot.count);
  text_ += '\n';
}

void Exposition::counter(std::string_view name, std::string_view help, std::uint64_t value) {
  family(name, help, MetricType::Counter);
  sample(name, {}, value);
}

void Exposition::gauge(std::string_view name, std::string_view help, double value) {
  family(name, help, MetricType::Gauge);
  sample(name, {}, value);
}

struct Registry::Family {
  std::string name;
  std::string help;
  MetricType type = MetricType::Untyped;
  struct Child {
    LabelSet labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  std::vector<Child> children;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(std::string_view name, std::string_view help, MetricType type,
                                   const LabelSet& labels) {
  if (!valid_metric_name(name)) {
    throw std::invalid_argument("metrics: invalid metric name \"" + std::string(name) + "\"");
  }
  for (const auto& [label, value] : labels) {
    if (!valid_label_name(label) || (type == MetricType::Histogram && label == "le")) {
      throw std::invalid_argument("metrics: " + std::string(name) + ": invalid label name \"" +
                                  label + "\"");
    }
  }
  for (auto& f : families_) {
    if (f->name != name) {
      continue;
    }
    if (f->type != type || f->help != help) {
      throw std::invalid_argument("metrics: " + std::string(name) +
                                  " registered again with another type or help");
    }
    for (const auto& child : f->children) {
      if (child.labels == labels) {
        throw std::invalid_argument("metrics: " + std::string(name) +
                                    ": this label set is registered already");
      }
    }
    return *f;
  }
  auto f = std::make_unique<Family>();
  f->name = name;
  f->help = help;
  f->type = type;
  families_.push_back(std::move(f));
  return *families_.back();
}

Counter& Registry::counter(std::string_view name, std::string_view help, LabelSet labels) {
  const std::lock_guard<std::mutex> lock(mutex_);
  Family& f = family(name, help, MetricType::Counter, labels);
  f.children.push_back({std::move(labels), std::make_unique<Counter>(), nullptr, nullptr});
  return *f.children.back().counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, LabelSet labels) {
  const std::lock_guard<std::mutex> lock(mutex_);
  Family& f = family(name, help, MetricType::Gauge, labels);
  f.children.push_back({std::move(labels), nullptr, std::make_unique<Gauge>(), nullptr});
  return *f.children.back().gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               std::vector<std::uint64_t> bounds, double divisor, LabelSet labels) {
  auto histogram = std::make_unique<Histogram>(std::move(bounds), divisor);
  const std::lock_guard<std::mutex> lock(mutex_);
  Family& f = family(name, help, MetricType::Histogram, labels);
  f.children.push_back({std::move(labels), nullptr, nullptr, std::move(histogram)});
  return *f.children.back().histogram;
}

void Registry::add_collector(Collector collector) {
  const std::lock_guard<std::mutex> lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::expose() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  Exposition out;
  std::vector<Label> labels;
  for (const auto& f : families_) {
    out.family(f->name, f->help, f->type);
    for (const auto& child : f->children) {
      labels.clear();
      for (const auto& [name, value] : child.labels) {
        labels.push_back({name, value});
      }
      if (child.counter) {
        out.sample(f->name, labels, child.counter->value());
      } else if (child.gauge) {
        out.sample(f->name, labels, static_cast<double>(child.gauge->value()));
      } else if (child.histogram) {
        out.histogram(f->name, labels, child.histogram->snapshot());
      }
    }
  }
  for (const auto& collector : collectors_) {
    collector(out);
  }
  return out.take();
}

}  // namespace egressguard::metrics
