#include "filter/metrics/decision_metrics.h"

#include <array>
#include <atomic>
#include <ctime>
#include <set>

namespace egressguard::metrics {

std::string_view describe(DecisionAction action) noexcept {
  switch (action) {
    case DecisionAction::Allow:
      return "allow";
    case DecisionAction::Block:
      return "block";
    case DecisionAction::WouldBlock:
      break;
  }
  return "would_block";
}

DecisionAction decision_action(const inspect::Decision& decision) noexcept {
  if (decision.verdict == inspect::Verdict::Allow) {
    return DecisionAction::Allow;
  }
  return decision.mode == inspect::Mode::Enforce ? DecisionAction::Block
                                                 : DecisionAction::WouldBlock;
}

// One snapshot's matrix: cells[((d * groups + g) * (categories + 1) + c) * 3 + a], where
// c == categories is "none"; null where the group does not use the category.
struct DecisionMetrics::Table {
  const inspect::PolicySnapshot* policy = nullptr;
  std::uint64_t version = 0;
  std::size_t groups = 0;
  std::size_t categories = 0;
  std::vector<Counter*> cells;
};

namespace {

constexpr std::string_view kNoCategory = "none";

std::atomic<std::uint64_t> g_next_id{1};

struct ThreadCache {
  std::uint64_t owner = 0;
  const inspect::PolicySnapshot* policy = nullptr;
  std::uint64_t version = 0;
  std::shared_ptr<const DecisionMetrics::Table> table;
};
thread_local ThreadCache t_cache;

std::unique_ptr<Counter[]> counters(std::size_t n) {
  return std::make_unique<Counter[]>(n == 0 ? 1 : n);
}

std::uint64_t now_us() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
}

}  // namespace

DecisionMetrics::DecisionMetrics(std::vector<std::string> datapaths)
    : id_(g_next_id.fetch_add(1, std::memory_order_relaxed)), datapaths_(std::move(datapaths)) {
  const std::size_t d = datapaths_.size();
  names_ = counters(d * inspect::kAppProtoCount);
  flags_ = counters(d * inspect::kFlowFlagCount);
  flows_ = counters(d);
  unnamed_ = counters(d);
  unmapped_ = counters(d);
}

DecisionMetrics::~DecisionMetrics() = default;

Counter* DecisionMetrics::cell(std::size_t datapath, const std::string& group,
                               const std::string& category, DecisionAction action) {
  auto key = std::make_tuple(datapath, group, category, action);
  if (auto it = index_.find(key); it != index_.end()) {
    return it->second;
  }
  Cell& c = cells_.emplace_back();
  c.datapath = datapath;
  c.group = group;
  c.category = category;
  c.action = action;
  index_.emplace(std::move(key), &c.counter);
  return &c.counter;
}

std::shared_ptr<const DecisionMetrics::Table> DecisionMetrics::table_for(
    const inspect::PolicySnapshot& policy) {
  const std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& t : tables_) {
    if (t->policy == &policy && t->version == policy.version()) {
      return t;
    }
  }
  auto table = std::make_shared<Table>();
  table->policy = &policy;
  table->version = policy.version();
  table->groups = policy.groups().size();
  table->categories = policy.categories().size();
  const std::size_t columns = table->categories + 1;
  table->cells.assign(datapaths_.size() * table->groups * columns * kDecisionActionCount, nullptr);
  for (std::size_t g = 0; g < table->groups; ++g) {
    const inspect::CompiledGroup& group = policy.groups()[g];
    // The categories whose lists this group applies or takes exceptions from, then "none".
    std::set<std::size_t> used;
    for (std::size_t list = 0; list < group.uses.size() && list < policy.list_count(); ++list) {
      if (group.uses[list] != domains::ListUse::Ignore) {
        used.insert(policy.list_category(static_cast<std::uint32_t>(list)));
      }
    }
    used.insert(table->categories);
    for (std::size_t d = 0; d < datapaths_.size(); ++d) {
      for (const std::size_t c : used) {
        if (c > table->categories) {
          continue;
        }
        const std::string category =
            c == table->categories ? std::string(kNoCategory) : policy.categories()[c].name;
        for (std::size_t a = 0; a < kDecisionActionCount; ++a) {
          table->cells[((d * table->groups + g) * columns + c) * kDecisionActionCount + a] =
              cell(d, group.spec.name, category, static_cast<DecisionAction>(a));
        }
      }
    }
  }
  tables_.push_back(table);
  if (tables_.size() > 4) {
    tables_.erase(tables_.begin());
  }
  return table;
}

void DecisionMetrics::prepare(const inspect::PolicySnapshot& policy) {
  static_cast<void>(table_for(policy));
}

void DecisionMetrics::count(std::size_t datapath,
                            const inspect::Observation& observation) noexcept {
  if (datapath >= datapaths_.size()) {
    return;
  }
  if (observation.name.empty()) {
    unnamed_[datapath].inc();
  } else {
    const auto app = static_cast<std::size_t>(observation.app);
    if (app < inspect::kAppProtoCount) {
      names_[datapath * inspect::kAppProtoCount + app].inc();
    }
  }
  for (std::uint32_t bits = observation.flags; bits != 0; bits &= bits - 1) {
    const auto bit = static_cast<std::size_t>(__builtin_ctz(bits));
    if (bit < inspect::kFlowFlagCount) {
      flags_[datapath * inspect::kFlowFlagCount + bit].inc();
    }
  }
  const inspect::PolicySnapshot* policy = observation.policy;
  if (policy == nullptr) {
    unmapped_[datapath].inc();
    return;
  }
  ThreadCache& cache = t_cache;
  if (cache.owner != id_ || cache.policy != policy || cache.version != policy->version()) {
    try {
      cache.table = table_for(*policy);  // once per snapshot and thread
    } catch (...) {
      cache = ThreadCache{};
      unmapped_[datapath].inc();
      return;
    }
    cache.owner = id_;
    cache.policy = policy;
    cache.version = policy->version();
  }
  const Table& table = *cache.table;
  const inspect::Decision& decision = observation.decision;
  const std::size_t g = decision.group;
  std::size_t c = table.categories;
  if (decision.reason.kind == inspect::ReasonKind::Rule && decision.reason.category < c) {
    c = decision.reason.category;
  }
  Counter* counter = nullptr;
  if (g < table.groups) {
    const std::size_t a = static_cast<std::size_t>(decision_action(decision));
    counter = table.cells[((datapath * table.groups + g) * (table.categories + 1) + c) *
                              kDecisionActionCount +
                          a];
  }
  if (counter == nullptr) {
    unmapped_[datapath].inc();
    return;
  }
  counter->inc();
}

void DecisionMetrics::write(Exposition& out) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  out.family("egressguard_decisions_total",
             "Decisions by datapath, device group, category (none: no rule decided) and action "
             "(allow, block, would_block: a block in a monitor-mode group).",
             MetricType::Counter);
  for (const Cell& c : cells_) {
    const std::array<Label, 4> labels{Label{"datapath", datapaths_[c.datapath]},
                                      Label{"group", c.group}, Label{"category", c.category},
                                      Label{"action", describe(c.action)}};
    out.sample("egressguard_decisions_total", labels, c.counter.value());
  }
  out.family("egressguard_decisions_unmapped_total",
             "Decisions that could not be attributed to a group and category (should stay 0)",
             MetricType::Counter);
  for (std::size_t d = 0; d < datapaths_.size(); ++d) {
    const std::array<Label, 1> labels{Label{"datapath", datapaths_[d]}};
    out.sample("egressguard_decisions_unmapped_total", labels, unmapped_[d].value());
  }
  out.family("egressguard_names_total",
             "Names seen (DNS query, TLS SNI, QUIC SNI, HTTP Host, SOCKS target) by kind",
             MetricType::Counter);
  for (std::size_t d = 0; d < datapaths_.size(); ++d) {
    for (std::size_t a = 1; a < inspect::kAppProtoCount; ++a) {
      const std::array<Label, 2> labels{
          Label{"datapath", datapaths_[d]},
          Label{"kind", inspect::describe(static_cast<inspect::AppProto>(a))}};
      out.sample("egressguard_names_total", labels,
                 names_[d * inspect::kAppProtoCount + a].value());
    }
  }
  out.family("egressguard_unnamed_flows_total", "TLS/QUIC flows that ended without a usable name",
             MetricType::Counter);
  for (std::size_t d = 0; d < datapaths_.size(); ++d) {
    const std::array<Label, 1> labels{Label{"datapath", datapaths_[d]}};
    out.sample("egressguard_unnamed_flows_total", labels, unnamed_[d].value());
  }
  out.family("egressguard_flows_total", "Flows created by the inspection core",
             MetricType::Counter);
  for (std::size_t d = 0; d < datapaths_.size(); ++d) {
    const std::array<Label, 1> labels{Label{"datapath", datapaths_[d]}};
    out.sample("egressguard_flows_total", labels, flows_[d].value());
  }
  out.family("egressguard_flow_flags_total",
             "Named observations by evasion/visibility flag (split, ech, ip_literal, ...)",
             MetricType::Counter);
  for (std::size_t d = 0; d < datapaths_.size(); ++d) {
    for (std::size_t f = 0; f < inspect::kFlowFlagCount; ++f) {
      const std::array<Label, 2> labels{
          Label{"datapath", datapaths_[d]},
          Label{"flag", inspect::describe(static_cast<inspect::FlowFlag>(1U << f))}};
      out.sample("egressguard_flow_flags_total", labels,
                 flags_[d * inspect::kFlowFlagCount + f].value());
    }
  }
}

std::uint64_t DecisionMetrics::decisions(std::size_t datapath, std::string_view group,
                                         std::string_view category, DecisionAction action) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it =
      index_.find(std::make_tuple(datapath, std::string(group), std::string(category), action));
  return it == index_.end() ? 0 : it->second->value();
}

void CountingObservationSink::on_observation(const inspect::Observation& observation) {
  metrics_.count(datapath_, observation);
  if (latency_ != nullptr && !observation.name.empty() && observation.ts_us != 0) {
    const std::uint64_t now = now_us();
    // The wall clock may step: ignore negative or absurd spans instead of recording them.
    if (now >= observation.ts_us && now - observation.ts_us < 60'000'000U) {
      latency_->observe((now - observation.ts_us) * 1000U);
    }
  }
  if (next_ != nullptr) {
    next_->on_observation(observation);
  }
}

void CountingObservationSink::on_flow_new(std::uint32_t group) {
  metrics_.count_flow(datapath_);
  if (next_ != nullptr) {
    next_->on_flow_new(group);
  }
}

bool CountingDnsEventSink::on_dns_block(const inspect::Observation& observation,
                                        const dnsproxy::DnsBlockInfo& info) noexcept {
  metrics_.count(datapath_, observation);
  return next_ == nullptr || next_->on_dns_block(observation, info);
}

void CountingDnsEventSink::on_dns_allow(const inspect::Observation& observation) noexcept {
  metrics_.count(datapath_, observation);
  if (next_ != nullptr) {
    next_->on_dns_allow(observation);
  }
}

bool CountingDnsEventSink::on_dns_flag(const inspect::Observation& observation,
                                       const dnsproxy::DnsBlockInfo& info) noexcept {
  return next_ == nullptr || next_->on_dns_flag(observation, info);
}

}  // namespace egressguard::metrics
