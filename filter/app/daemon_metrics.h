// DaemonMetrics: what `egressguard run` tells the outside about itself. It owns the metrics
// registry, the decision counters (filter/metrics/decision_metrics.h), the decision latency
// histogram and the Prometheus endpoint ([metrics]), and keeps what the control socket's
// `status` reports: start time, datapaths, live policy and list versions, reload counts and the
// last reload error. Counters that already exist in the datapaths (DNS proxy, NFQUEUE workers,
// firewall sets, event pipeline, policy store) are read when scraped, not counted again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "filter/app/config.h"
#include "filter/datapath/dnsproxy/dns_proxy.h"
#include "filter/datapath/nfqueue/nfqueue_datapath.h"
#include "filter/inspect/policy.h"
#include "filter/metrics/decision_metrics.h"
#include "filter/metrics/http_server.h"
#include "filter/metrics/list_versions.h"
#include "filter/metrics/registry.h"

namespace egressguard::app {

// The control socket's `stats` lines for the inline datapath's Inspector counters:
// "inspect_<name> <value>" per InspectStats counter (inspect/stats.h names).
std::string inspect_stats_text(const inspect::InspectStats& stats);

// The DNS proxy's latency histogram of one outcome in exposition form (seconds).
metrics::HistogramSnapshot latency_snapshot(const dnsproxy::DnsLatencyCounts::Series& series);

// Visits (name, value) pairs: the shape of every for_each / for_each_counter in the datapaths.
using CounterVisitor = std::function<void(std::string_view, std::uint64_t)>;
using CounterSource = std::function<void(const CounterVisitor&)>;

class DaemonMetrics {
 public:
  static constexpr std::size_t kDnsproxy = 0;  // datapath label indexes
  static constexpr std::size_t kNfqueue = 1;

  DaemonMetrics(const Config& config, const inspect::PolicyStore& store);
  ~DaemonMetrics();
  DaemonMetrics(const DaemonMetrics&) = delete;
  DaemonMetrics& operator=(const DaemonMetrics&) = delete;

  metrics::Registry& registry() noexcept { return registry_; }

  // Pass-through sinks that count decisions (and, inline, their latency) on the way to `next`
  // (nullable). Never null; they live as long as this object.
  dnsproxy::DnsEventSink* wrap_dns(dnsproxy::DnsEventSink* next);
  inspect::ObservationSink* wrap_inline(inspect::ObservationSink* next);

  // Counters of the running datapaths, read at scrape time. `proxy` and `nfqueue` must outlive
  // this object's server (stop() first). add_dns_proxy also exposes the proxy's decision latency
  // (egressguard_decision_latency_seconds{datapath="dnsproxy",outcome=...}); add_nfqueue the
  // workers' Inspector counters (egressguard_nfqueue_inspect_*).
  void add_dns_proxy(const dnsproxy::DnsProxy& proxy);
  void add_nfqueue(const nfqueue::NfqueueDatapath& nfqueue, std::size_t queues);
  // One counter family `egressguard_<prefix>_<name>_total` per name `source` visits.
  void add_counters(std::string prefix, std::string help, CounterSource source);

  // Binds the [metrics] endpoint (nothing without [metrics]).
  Result<void, std::string> open_server();
  // Starts the endpoint's thread; the datapaths are running from now on (/healthz 200).
  void start();
  // /healthz turns 503; the endpoint stops. Idempotent.
  void stop();
  std::string endpoint() const;  // "127.0.0.1:9477", empty without a server

  // Records a reload's outcome (status, egressguard_last_reload_*) and, on success, the new
  // policy's list versions.
  void reloaded(std::string_view origin,
                const Result<std::uint64_t, std::vector<std::string>>& result);

  // Notes what privilege drop did, for status ("uid=... capabilities=...").
  void set_privileges(std::string summary);

  // The control socket's `status`: "ok\n" + one JSON object (indented, one key a line).
  std::string status() const;
  // "" when healthy (datapaths running, a policy loaded), else why not.
  std::string health() const;

 private:
  void write_own(metrics::Exposition& out) const;

  const Config& config_;
  const inspect::PolicyStore& store_;
  const std::chrono::system_clock::time_point started_;
  metrics::Registry registry_;
  metrics::DecisionMetrics decisions_;
  metrics::Histogram latency_;  // inline; written with the proxy's in write_own
  const dnsproxy::DnsProxy* proxy_ = nullptr;
  std::unique_ptr<metrics::CountingDnsEventSink> dns_sink_;
  std::unique_ptr<metrics::CountingObservationSink> inline_sink_;
  std::unique_ptr<metrics::HttpServer> server_;
  std::atomic<bool> running_{false};
  std::string datapath_json_;  // built by add_dns_proxy / add_nfqueue

  mutable std::mutex mutex_;  // guards the fields below
  std::vector<metrics::ListVersion> lists_;
  std::uint64_t lists_version_ = 0;
  std::string last_reload_origin_;
  std::int64_t last_reload_time_ = 0;  // seconds since the epoch; 0 = none yet
  bool last_reload_ok_ = true;
  std::vector<std::string> last_reload_errors_;
  std::int64_t last_success_time_ = 0;
  std::string privileges_;
};

}  // namespace egressguard::app
