// The metrics hot path: a counter increment, a histogram observation and one decision counted
// through DecisionMetrics (the per-thread table cached), each with 0 allocations; plus a full
// text exposition for scale.
#include <filesystem>
#include <fstream>

#include <benchmark/benchmark.h>

#include "bench/alloc_counter.h"
#include "filter/metrics/decision_metrics.h"
#include "filter/metrics/registry.h"

namespace egressguard::metrics {
namespace {

template <typename F>
void run_counting(benchmark::State& state, F&& body) {
  const std::uint64_t allocs = bench::allocation_count();
  for (auto _ : state) {
    body();
  }
  state.counters["allocs_per_iter"] =
      benchmark::Counter(static_cast<double>(bench::allocation_count() - allocs) /
                         static_cast<double>(state.iterations()));
}

void BM_CounterInc(benchmark::State& state) {
  static Registry registry;
  static Counter& counter = registry.counter("bench_total", "bench");
  run_counting(state, [&] { counter.inc(); });
  benchmark::DoNotOptimize(counter.value());
}
BENCHMARK(BM_CounterInc)->ThreadRange(1, 2);

void BM_HistogramObserve(benchmark::State& state) {
  static Histogram histogram(latency_buckets_ns(), 1e9);
  std::uint64_t v = 1000;
  run_counting(state, [&] {
    histogram.observe(v);
    v = (v * 7 + 13) % 3'000'000'000ULL;  // spread over the buckets
  });
  benchmark::DoNotOptimize(histogram.snapshot().count);
}
BENCHMARK(BM_HistogramObserve)->ThreadRange(1, 2);

std::shared_ptr<const inspect::PolicySnapshot> bench_policy() {
  const auto dir = std::filesystem::temp_directory_path() / "eg-metrics-bench";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tiktok.txt") << "*.tiktok.com\n";
  inspect::PolicySpec spec;
  inspect::CategorySpec tiktok;
  tiktok.name = "tiktok";
  inspect::ListSpec list;
  list.name = "tiktok";
  list.path = (dir / "tiktok.txt").string();
  tiktok.lists.push_back(list);
  spec.categories.push_back(tiktok);
  inspect::GroupSpec gov;
  gov.name = "gov";
  gov.block = {"tiktok"};
  spec.groups.push_back(gov);
  spec.default_group = "gov";
  auto built = inspect::PolicySnapshot::build(spec);
  return built ? *built : nullptr;
}

void BM_DecisionCount(benchmark::State& state) {
  static const auto policy = bench_policy();
  static DecisionMetrics metrics({"dnsproxy", "nfqueue"});
  inspect::Observation o;
  o.app = inspect::AppProto::Tls;
  o.name = "www.tiktok.com";
  o.policy = policy.get();
  o.decision = policy->decide_name("www.tiktok.com", 0);
  metrics.count(1, o);  // builds this thread's table outside the timed loop
  run_counting(state, [&] { metrics.count(1, o); });
}
BENCHMARK(BM_DecisionCount)->ThreadRange(1, 2);

void BM_Exposition(benchmark::State& state) {
  Registry registry;
  for (int g = 0; g < 10; ++g) {
    for (int c = 0; c < 10; ++c) {
      registry.counter("bench_decisions_total", "x",
                       {{"group", "g" + std::to_string(g)}, {"category", "c" + std::to_string(c)}});
    }
  }
  registry.histogram("bench_latency_seconds", "x", latency_buckets_ns(), 1e9);
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = registry.expose();
    bytes += text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_Exposition);

}  // namespace
}  // namespace egressguard::metrics

BENCHMARK_MAIN();
