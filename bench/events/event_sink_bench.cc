// Event pipeline throughput (filter/events/event_pipeline.h): events/s from producer threads
// through the bounded queue and the writer thread into a JSON lines file (with size rotation),
// and what a producer allocates per event. Each iteration submits a batch and closes the
// pipeline, so the time includes writing every event out (items_per_second = events/s end to
// end). Counters: allocs_per_event, bytes_per_event (operator new, all threads), dropped
// (queue full; 0 when the writer keeps up).
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include "bench/alloc_counter.h"
#include "filter/events/event_pipeline.h"
#include "filter/inspect/policy.h"

namespace egressguard::events {
namespace {

constexpr int kBatch = 50'000;

// A one-group policy blocking *.tiktok.com, built from a temporary list file.
struct BenchPolicy {
  std::filesystem::path dir;
  std::shared_ptr<const inspect::PolicySnapshot> snapshot;
  BenchPolicy() {
    dir = std::filesystem::temp_directory_path() / ("eg-event-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "tiktok.txt") << "*.tiktok.com\n";
    inspect::PolicySpec spec;
    inspect::CategorySpec tiktok;
    tiktok.name = "tiktok";
    tiktok.jurisdiction = "CN";
    inspect::ListSpec list;
    list.name = "tiktok-list";
    list.path = (dir / "tiktok.txt").string();
    tiktok.lists.push_back(list);
    spec.categories.push_back(tiktok);
    inspect::GroupSpec gov;
    gov.name = "gov-managed";
    gov.members.cidrs.push_back(*inspect::Cidr::parse("10.8.0.0/16"));
    gov.block = {"tiktok"};
    spec.groups = {gov};
    spec.default_group = "gov-managed";
    auto built = inspect::PolicySnapshot::build(spec, 1);
    if (!built) {
      std::abort();
    }
    snapshot = std::move(*built);
  }
  ~BenchPolicy() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

BenchPolicy& policy() {
  static BenchPolicy p;
  return p;
}

inspect::Observation observation(const std::string& name) {
  inspect::Observation o;
  o.ts_us = 1795942800000000ULL;
  o.src = *parse::IpAddress::parse("10.8.0.10");
  o.dst = *parse::IpAddress::parse("198.51.100.10");
  o.sport = 40312;
  o.dport = 443;
  o.l4 = 6;
  o.app = inspect::AppProto::Tls;
  o.name = name;
  o.alpn = "h2,http/1.1";
  o.policy = policy().snapshot.get();
  o.decision = o.policy->decide_name(name, 0);
  o.flow_id = 7;
  return o;
}

// state.range(0): producer threads; state.range(1): aggregation window (ms, 0 = off).
void BM_EventPipelineToFile(benchmark::State& state) {
  const auto producers = static_cast<int>(state.range(0));
  const auto window_ms = static_cast<std::uint32_t>(state.range(1));
  const std::filesystem::path dir = policy().dir / "out";
  std::vector<std::string> names;
  for (int i = 0; i < 64; ++i) {
    names.push_back("v" + std::to_string(i) + ".www.tiktok.com");
  }
  std::uint64_t allocs = 0;
  std::uint64_t bytes = 0;
  std::uint64_t dropped = 0;
  std::uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    EventsConfig config;
    config.path = (dir / "events.json").string();
    config.rotate_size = 64ULL << 20;
    config.queue_capacity = 1U << 20;
    config.aggregate_window_ms = window_ms;
    EventPipelineOptions options;
    options.sensor = "gw-example";
    auto pipeline = EventPipeline::open(config, options);
    if (!pipeline) {
      state.SkipWithError(pipeline.error().c_str());
      return;
    }
    state.ResumeTiming();
    const std::uint64_t allocs_before = bench::allocation_count();
    const std::uint64_t bytes_before = bench::allocation_bytes();
    std::vector<std::thread> threads;
    for (int t = 0; t < producers; ++t) {
      threads.emplace_back([&, t] {
        const int per_thread = kBatch / producers;
        for (int i = 0; i < per_thread; ++i) {
          const inspect::Observation o = observation(names[static_cast<std::size_t>((i + t) % 64)]);
          benchmark::DoNotOptimize((*pipeline)->submit(o, "dnsproxy"));
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    (*pipeline)->close();
    allocs += bench::allocation_count() - allocs_before;
    bytes += bench::allocation_bytes() - bytes_before;
    const EventCounters c = (*pipeline)->counters();
    dropped += c.dropped_queue_full;
    events += c.accepted + c.dropped_queue_full;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["allocs_per_event"] =
      static_cast<double>(allocs) / static_cast<double>(events == 0 ? 1 : events);
  state.counters["bytes_per_event"] =
      static_cast<double>(bytes) / static_cast<double>(events == 0 ? 1 : events);
  state.counters["dropped"] = static_cast<double>(dropped);
}
BENCHMARK(BM_EventPipelineToFile)
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({2, 10000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The producer's share alone: one submit of a formatted line into the queue (the writer drains
// concurrently). allocs_per_iter is 0 once the queue's slots have grown to the line's size.
void BM_SubmitJsonLine(benchmark::State& state) {
  const std::filesystem::path dir = policy().dir / "line";
  std::filesystem::create_directories(dir);
  EventsConfig config;
  config.path = (dir / "events.json").string();
  config.rotate_size = 256ULL << 20;
  EventPipelineOptions options;
  auto pipeline = EventPipeline::open(config, options);
  const std::string line(560, 'x');
  for (int i = 0; i < 100000; ++i) {  // warm the slots
    static_cast<void>((*pipeline)->submit_json(line, {}, EventKind::Block, 0));
  }
  const std::uint64_t allocs = bench::allocation_count();
  for (auto _ : state) {
    benchmark::DoNotOptimize((*pipeline)->submit_json(line, {}, EventKind::Block, 0));
  }
  state.counters["allocs_per_iter"] = benchmark::Counter(
      static_cast<double>(bench::allocation_count() - allocs), benchmark::Counter::kAvgIterations);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
  (*pipeline)->close();
  state.counters["dropped"] = static_cast<double>((*pipeline)->counters().dropped_queue_full);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SubmitJsonLine);

}  // namespace
}  // namespace egressguard::events
BENCHMARK_MAIN();
