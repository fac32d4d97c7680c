#include "filter/app/daemon_metrics.h"

#include <array>
#include <ctime>

#include <unistd.h>

#include "base/json.h"
#include "filter/metrics/metrics_server.h"

#ifndef EGRESSGUARD_VERSION
#define EGRESSGUARD_VERSION "dev"
#endif

namespace egressguard::app {

namespace {

std::int64_t seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string utc(std::int64_t epoch_seconds) {
  const auto t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buffer{};
  std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer.data();
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

// Metric names from counter names: anything but [a-zA-Z0-9_] becomes '_'.
std::string metric_part(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) {
      c = '_';
    }
  }
  return out;
}

// InspectStats counters that are levels, not counts: exposed as gauges.
bool is_gauge(std::string_view name) noexcept {
  return name == "active_flows" || name == "reassembly_bytes_in_use" ||
         name == "reassembly_bytes_reserved";
}

}  // namespace

std::string inspect_stats_text(const inspect::InspectStats& stats) {
  std::string out;
  inspect::for_each_counter(stats, [&](std::string_view name, std::uint64_t value) {
    out += "inspect_";
    out += metric_part(name);
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  });
  return out;
}

metrics::HistogramSnapshot latency_snapshot(const dnsproxy::DnsLatencyCounts::Series& series) {
  metrics::HistogramSnapshot out;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < dnsproxy::kLatencyBoundsNs.size(); ++i) {
    out.upper_bounds.push_back(static_cast<double>(dnsproxy::kLatencyBoundsNs[i]) / 1e9);
    running += series.buckets[i];
    out.cumulative.push_back(running);
  }
  running += series.buckets.back();
  out.cumulative.push_back(running);
  out.count = running;
  out.sum = static_cast<double>(series.sum_ns) / 1e9;
  return out;
}

DaemonMetrics::DaemonMetrics(const Config& config, const inspect::PolicyStore& store)
    : config_(config),
      store_(store),
      started_(std::chrono::system_clock::now()),
      decisions_({"dnsproxy", "nfqueue"}),
      latency_(metrics::latency_buckets_ns(), 1e9) {
  if (auto policy = store_.current()) {
    lists_ = metrics::list_versions(*policy);
    lists_version_ = policy->version();
    decisions_.prepare(*policy);
  }
  registry_.add_collector([this](metrics::Exposition& out) { write_own(out); });
}

DaemonMetrics::~DaemonMetrics() {
  stop();
}

dnsproxy::DnsEventSink* DaemonMetrics::wrap_dns(dnsproxy::DnsEventSink* next) {
  dns_sink_ = std::make_unique<metrics::CountingDnsEventSink>(decisions_, kDnsproxy, next);
  return dns_sink_.get();
}

inspect::ObservationSink* DaemonMetrics::wrap_inline(inspect::ObservationSink* next) {
  inline_sink_ =
      std::make_unique<metrics::CountingObservationSink>(decisions_, kNfqueue, next, &latency_);
  return inline_sink_.get();
}

void DaemonMetrics::add_dns_proxy(const dnsproxy::DnsProxy& proxy) {
  proxy_ = &proxy;
  std::string listen;
  for (const auto& endpoint : proxy.endpoints()) {
    listen += listen.empty() ? "" : ", ";
    listen += json_string(endpoint.to_string());
  }
  datapath_json_ += std::string(datapath_json_.empty() ? "" : ",\n") +
                    "    {\"name\": \"dnsproxy\", \"listen\": [" + listen +
                    "], \"workers\": " + std::to_string(config_.dns.workers) + "}";
  registry_.add_collector([&proxy](metrics::Exposition& out) {
    const dnsproxy::DnsProxyCounters c = proxy.counters();
    c.for_each([&](std::string_view name, std::uint64_t value) {
      out.counter("egressguard_dnsproxy_" + metric_part(name) + "_total",
                  "DNS proxy counter " + std::string(name) + " (docs/dns-proxy.md, Counters)",
                  value);
    });
    out.family("egressguard_dnsproxy_parse_errors_total",
               "DNS proxy queries it could not use, by reason", metrics::MetricType::Counter);
    const std::array<std::pair<std::string_view, std::uint64_t>, 3> reasons{
        {{"formerr", c.formerr}, {"notimp", c.notimp}, {"malformed", c.dropped_malformed}}};
    for (const auto& [reason, value] : reasons) {
      const std::array<metrics::Label, 1> labels{metrics::Label{"reason", reason}};
      out.sample("egressguard_dnsproxy_parse_errors_total", labels, value);
    }
  });
}

void DaemonMetrics::add_nfqueue(const nfqueue::NfqueueDatapath& nfqueue, std::size_t queues) {
  std::string list;
  for (const std::uint16_t q : config_.nfqueue.queues) {
    list += list.empty() ? "" : ", ";
    list += std::to_string(q);
  }
  datapath_json_ += std::string(datapath_json_.empty() ? "" : ",\n") +
                    "    {\"name\": \"nfqueue\", \"queues\": [" + list +
                    "], \"workers\": " + std::to_string(queues) + ", \"fail_mode\": \"" +
                    (config_.nfqueue.fail_open ? "open" : "closed") + "\"}";
  registry_.add_collector([&nfqueue](metrics::Exposition& out) {
    const nfqueue::NfqueueStats s = nfqueue.stats();
    out.counter("egressguard_packets_total", "Packets the inline datapath read from NFQUEUE",
                s.packets);
    out.family("egressguard_nfqueue_verdicts_total",
               "NFQUEUE verdicts by flow state (allowed, dropped, rejected, undecided)",
               metrics::MetricType::Counter);
    const std::array<std::pair<std::string_view, std::uint64_t>, 4> verdicts{
        {{"allowed", s.allowed},
         {"dropped", s.dropped},
         {"rejected", s.rejected},
         {"undecided", s.undecided}}};
    for (const auto& [state, value] : verdicts) {
      const std::array<metrics::Label, 1> labels{metrics::Label{"verdict", state}};
      out.sample("egressguard_nfqueue_verdicts_total", labels, value);
    }
    out.counter("egressguard_nfqueue_decode_errors_total",
                "Queued packets that did not decode (accepted unmarked)", s.decode_errors);
    out.counter("egressguard_nfqueue_verdict_messages_total",
                "Verdict messages sent (batched runs)", s.verdict_batches);
    out.counter("egressguard_nfqueue_enobufs_total",
                "Times the netlink socket overflowed: the kernel dropped queue messages",
                s.enobufs);
    out.counter("egressguard_nfqueue_verdict_errors_total", "Verdicts that could not be sent",
                s.verdict_errors);
    // The workers' Inspectors (filter/inspect/stats.h): packets, flows, decode and parse errors
    // by reason, evictions, reassembly drops ...
    inspect::for_each_counter(
        nfqueue.inspect_stats(), [&](std::string_view name, std::uint64_t value) {
          const std::string metric = "egressguard_nfqueue_inspect_" + metric_part(name);
          const std::string help = "Inline datapath Inspector: " + std::string(name) +
                                   " (summed over workers, filter/inspect/stats.h)";
          if (is_gauge(name)) {
            out.gauge(metric, help, static_cast<double>(value));
          } else {
            out.counter(metric + "_total", help, value);
          }
        });
  });
}

void DaemonMetrics::add_counters(std::string prefix, std::string help, CounterSource source) {
  registry_.add_collector([prefix = metric_part(prefix), help = std::move(help),
                           source = std::move(source)](metrics::Exposition& out) {
    source([&](std::string_view name, std::uint64_t value) {
      out.counter("egressguard_" + prefix + "_" + metric_part(name) + "_total",
                  help + ": " + std::string(name), value);
    });
  });
}

Result<void, std::string> DaemonMetrics::open_server() {
  if (!config_.metrics.enabled) {
    return {};
  }
  auto address = metrics::parse_listen(config_.metrics.listen, config_.metrics.allow_remote);
  if (!address) {
    return fail("metrics.listen " + address.error());
  }
  auto server = metrics::open_metrics_server(
      *address, registry_, [this] { return health(); }, {}, config_.metrics.allow_remote);
  if (!server) {
    return fail(server.error());
  }
  server_ = std::move(*server);
  return {};
}

void DaemonMetrics::start() {
  running_ = true;
  if (server_) {
    server_->start();
  }
}

void DaemonMetrics::stop() {
  running_ = false;
  if (server_) {
    server_->stop();
  }
}

std::string DaemonMetrics::endpoint() const {
  return server_ ? server_->endpoint() : "";
}

void DaemonMetrics::reloaded(std::string_view origin,
                             const Result<std::uint64_t, std::vector<std::string>>& result) {
  const std::int64_t now = seconds(std::chrono::system_clock::now());
  std::vector<metrics::ListVersion> lists;
  auto policy = store_.current();
  if (result && policy) {
    lists = metrics::list_versions(*policy);  // reads the lists once more, off the hot path
    decisions_.prepare(*policy);
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  last_reload_origin_ = origin;
  last_reload_time_ = now;
  last_reload_ok_ = result.has_value();
  last_reload_errors_.clear();
  if (result) {
    last_success_time_ = now;
    lists_ = std::move(lists);
    lists_version_ = policy ? policy->version() : 0;
  } else {
    last_reload_errors_ = result.error();
  }
}

void DaemonMetrics::set_privileges(std::string summary) {
  const std::lock_guard<std::mutex> lock(mutex_);
  privileges_ = std::move(summary);
}

std::string DaemonMetrics::health() const {
  if (!running_.load()) {
    return "not ready: the datapaths are not running";
  }
  if (!store_.current()) {
    return "not ready: no policy loaded";
  }
  return "";
}

void DaemonMetrics::write_own(metrics::Exposition& out) const {
  using metrics::Label;
  const std::array<Label, 1> version{Label{"version", EGRESSGUARD_VERSION}};
  out.family("egressguard_build_info", "egressguard version (value 1)", metrics::MetricType::Gauge);
  out.sample("egressguard_build_info", version, 1.0);
  out.gauge("egressguard_start_time_seconds", "When the daemon started (Unix time)",
            static_cast<double>(seconds(started_)));
  out.gauge("egressguard_up", "1 while the datapaths run (what /healthz reports)",
            health().empty() ? 1.0 : 0.0);
  auto policy = store_.current();
  out.gauge("egressguard_policy_version", "Version of the live policy (1 at start, +1 per reload)",
            policy ? static_cast<double>(policy->version()) : 0.0);
  out.counter("egressguard_reloads_total", "Successful policy reloads", store_.reloads());
  out.counter("egressguard_reload_failures_total",
              "Refused policy reloads (the previous policy stayed live)", store_.reload_failures());
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    out.gauge("egressguard_last_reload_success",
              "1 when the last reload succeeded (or none happened), 0 when it was refused",
              last_reload_ok_ ? 1.0 : 0.0);
    out.gauge("egressguard_last_reload_timestamp_seconds",
              "When the last reload was attempted (Unix time; 0: none yet)",
              static_cast<double>(last_reload_time_));
    out.gauge(
        "egressguard_last_reload_success_timestamp_seconds",
        "When the live policy was loaded (Unix time)",
        static_cast<double>(last_success_time_ != 0 ? last_success_time_ : seconds(started_)));
    metrics::write_list_metrics(out, lists_);
  }
  decisions_.write(out);

  out.family("egressguard_decision_latency_seconds",
             "Time to a decision. nfqueue: a queued packet's arrival in user space to its "
             "verdict. dnsproxy: a query's receipt to its answer handed to the kernel, by outcome "
             "(answered; servfail: no upstream answered in time; dropped: no answer)",
             metrics::MetricType::Histogram);
  const std::array<Label, 1> inline_labels{Label{"datapath", "nfqueue"}};
  out.histogram("egressguard_decision_latency_seconds", inline_labels, latency_.snapshot());
  if (proxy_ != nullptr) {
    const dnsproxy::DnsLatencyCounts latency = proxy_->latency();
    for (std::size_t o = 0; o < dnsproxy::kLatencyOutcomeCount; ++o) {
      const std::array<Label, 2> labels{
          Label{"datapath", "dnsproxy"},
          Label{"outcome", dnsproxy::describe(static_cast<dnsproxy::LatencyOutcome>(o))}};
      out.histogram("egressguard_decision_latency_seconds", labels,
                    latency_snapshot(latency.by_outcome[o]));
    }
  }
}

std::string DaemonMetrics::status() const {
  const auto now = std::chrono::system_clock::now();
  auto policy = store_.current();
  std::string j = "{\n";
  j += "  \"version\": " + json_string(EGRESSGUARD_VERSION) + ",\n";
  j += "  \"pid\": " + std::to_string(::getpid()) + ",\n";
  j += "  \"started\": " + json_string(utc(seconds(started_))) + ",\n";
  j += "  \"uptime_seconds\": " +
       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - started_).count()) +
       ",\n";
  j += "  \"config\": " + json_string(config_.path) + ",\n";
  j += "  \"healthy\": " + std::string(health().empty() ? "true" : "false") + ",\n";
  j += "  \"datapaths\": [\n" + datapath_json_ + "\n  ],\n";
  j += "  \"control_socket\": " + json_string(config_.control.socket) + ",\n";
  j += "  \"metrics\": " + (server_ ? json_string(server_->endpoint()) : std::string("null")) +
       ",\n";
  const std::lock_guard<std::mutex> lock(mutex_);
  j += "  \"privileges\": " + json_string(privileges_) + ",\n";
  if (policy) {
    j += "  \"policy\": {\"version\": " + std::to_string(policy->version()) +
         ", \"groups\": " + std::to_string(policy->groups().size()) +
         ", \"categories\": " + std::to_string(policy->categories().size()) +
         ", \"lists\": " + std::to_string(policy->list_count()) +
         ", \"rules\": " + std::to_string(policy->domains().matcher.size()) + ", \"loaded\": " +
         json_string(utc(last_success_time_ != 0 ? last_success_time_ : seconds(started_))) +
         "},\n";
  } else {
    j += "  \"policy\": null,\n";
  }
  j += "  \"lists\": [";
  for (std::size_t i = 0; i < lists_.size(); ++i) {
    const metrics::ListVersion& v = lists_[i];
    j += i == 0 ? "\n" : ",\n";
    j += "    {\"name\": " + json_string(v.name) + ", \"category\": " + json_string(v.category) +
         ", \"path\": " + json_string(v.path) + ", \"format\": " + json_string(v.format) +
         ", \"rules\": " + std::to_string(v.rules) +
         ", \"skipped_invalid\": " + std::to_string(v.skipped_invalid) +
         ", \"size\": " + std::to_string(v.size) +
         ", \"mtime\": " + json_string(v.mtime != 0 ? utc(v.mtime) : "") +
         ", \"sha256\": " + json_string(v.sha256) + "}";
  }
  j += lists_.empty() ? "],\n" : "\n  ],\n";
  j += "  \"reloads\": " + std::to_string(store_.reloads()) + ",\n";
  j += "  \"reload_failures\": " + std::to_string(store_.reload_failures()) + ",\n";
  if (last_reload_time_ == 0) {
    j += "  \"last_reload\": null\n";
  } else {
    j += "  \"last_reload\": {\"time\": " + json_string(utc(last_reload_time_)) +
         ", \"origin\": " + json_string(last_reload_origin_) +
         ", \"ok\": " + (last_reload_ok_ ? "true" : "false") + ", \"errors\": [";
    for (std::size_t i = 0; i < last_reload_errors_.size(); ++i) {
      j += (i == 0 ? "" : ", ") + json_string(last_reload_errors_[i]);
    }
    j += "]}\n";
  }
  j += "}\n";
  return "ok\n" + j;
}

}  // namespace egressguard::app
