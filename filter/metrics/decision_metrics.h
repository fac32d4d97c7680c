// DecisionMetrics: decisions by datapath, group, category and action, names seen by kind, flows
// and evasion flags, counted from what the datapaths already report (Inspector observations,
// DNS proxy block events) through two pass-through sinks, so that nothing is counted twice.
//
// The (group, category, action) label sets are a fixed matrix built from a policy snapshot: the
// categories a group uses (blocks or allows) plus "none" (no rule decided), times the actions
// "allow", "block" (enforced) and "would_block" (monitor mode). A reload brings a new snapshot
// and so a new table; it is built once per snapshot (by the first thread that meets it, or by
// prepare()), cached per thread, and its counters keep their values across reloads when the
// group and category names stay. Series of groups or categories that disappear stay exposed
// with their last value (Prometheus counters never go back).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "filter/datapath/dnsproxy/dns_proxy_core.h"
#include "filter/inspect/observation.h"
#include "filter/inspect/policy.h"
#include "filter/metrics/registry.h"

namespace egressguard::metrics {

enum class DecisionAction : std::uint8_t { Allow, Block, WouldBlock };
inline constexpr std::size_t kDecisionActionCount = 3;
// "allow" | "block" | "would_block"
std::string_view describe(DecisionAction action) noexcept;
DecisionAction decision_action(const inspect::Decision& decision) noexcept;

class DecisionMetrics {
 public:
  // `datapaths`: the values of the `datapath` label, fixed at setup ({"dnsproxy", "nfqueue"}).
  explicit DecisionMetrics(std::vector<std::string> datapaths);
  ~DecisionMetrics();
  DecisionMetrics(const DecisionMetrics&) = delete;
  DecisionMetrics& operator=(const DecisionMetrics&) = delete;

  // Counts one observation: its decision (with observation.policy; without it the decision is
  // counted as unmapped), its name by app protocol, its flags. No lock and no allocation once
  // this thread has met the snapshot.
  void count(std::size_t datapath, const inspect::Observation& observation) noexcept;
  void count_flow(std::size_t datapath) noexcept { flows_[datapath].inc(); }

  // Builds the snapshot's table now, so that its series exist (at 0) before the first decision.
  void prepare(const inspect::PolicySnapshot& policy);

  // Writes egressguard_decisions_total, egressguard_names_total, egressguard_unnamed_total,
  // egressguard_flows_total, egressguard_flow_flags_total and
  // egressguard_decisions_unmapped_total.
  void write(Exposition& out) const;

  std::uint64_t decisions(std::size_t datapath, std::string_view group, std::string_view category,
                          DecisionAction action) const;  // for tests; 0 when unknown

  struct Table;

 private:
  struct Cell {
    std::size_t datapath = 0;
    std::string group;
    std::string category;
    DecisionAction action = DecisionAction::Allow;
    Counter counter;
  };
  std::shared_ptr<const Table> table_for(const inspect::PolicySnapshot& policy);
  Counter* cell(std::size_t datapath, const std::string& group, const std::string& category,
                DecisionAction action);  // under mutex_

  const std::uint64_t id_;  // tells thread caches of different instances apart
  std::vector<std::string> datapaths_;
  std::unique_ptr<Counter[]> names_;  // datapath * kAppProtoCount
  std::unique_ptr<Counter[]> flags_;  // datapath * kFlowFlagCount
  std::unique_ptr<Counter[]> flows_;
  std::unique_ptr<Counter[]> unnamed_;
  std::unique_ptr<Counter[]> unmapped_;

  mutable std::mutex mutex_;
  std::deque<Cell> cells_;  // stable addresses; creation order is exposition order
  std::map<std::tuple<std::size_t, std::string, std::string, DecisionAction>, Counter*> index_;
  std::vector<std::shared_ptr<const Table>> tables_;  // the most recent few snapshots
};

// Passes the Inspector's observations on to `next` (nullable) after counting them; with
// `latency`, observes the time from the packet's arrival (Observation::ts_us, wall clock) to the
// decision for every named observation. Thread-safe as DecisionMetrics is.
class CountingObservationSink final : public inspect::ObservationSink {
 public:
  CountingObservationSink(DecisionMetrics& metrics, std::size_t datapath,
                          inspect::ObservationSink* next, Histogram* latency = nullptr)
      : metrics_(metrics), datapath_(datapath), next_(next), latency_(latency) {}
  void on_observation(const inspect::Observation& observation) override;
  void on_flow_new(std::uint32_t group) override;

 private:
  DecisionMetrics& metrics_;
  std::size_t datapath_;
  inspect::ObservationSink* next_;
  Histogram* latency_;
};

// The same for the DNS proxy: its block events and its allowed queries (on_dns_allow, one per
// query let through: counted, passed on, never formatted here); flagged answers (on_dns_flag)
// are passed on uncounted, their query is counted by its on_dns_allow. The proxy's other counts
// are its own counters.
class CountingDnsEventSink final : public dnsproxy::DnsEventSink {
 public:
  CountingDnsEventSink(DecisionMetrics& metrics, std::size_t datapath, dnsproxy::DnsEventSink* next)
      : metrics_(metrics), datapath_(datapath), next_(next) {}
  bool on_dns_block(const inspect::Observation& observation,
                    const dnsproxy::DnsBlockInfo& info) noexcept override;
  void on_dns_allow(const inspect::Observation& observation) noexcept override;
  bool on_dns_flag(const inspect::Observation& observation,
                   const dnsproxy::DnsBlockInfo& info) noexcept override;

 private:
  DecisionMetrics& metrics_;
  std::size_t datapath_;
  dnsproxy::DnsEventSink* next_;
};

}  // namespace egressguard::metrics
