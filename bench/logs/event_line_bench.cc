// The per-line cost of `egressguard logs`: parse_event_line on a realistic event, the substring
// pre-check of a selective filter, and the full filter step. Inputs are built once, outside the
// timed loop; allocs_per_iter must stay 0 (the query engine's steady state).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/alloc_counter.h"
#include "filter/logs/event_filter.h"
#include "filter/logs/event_line.h"

namespace egressguard::logs {
namespace {

constexpr std::string_view kBlock =
    R"({"timestamp":"2026-11-29T09:40:12.518230Z","event_type":"block","sensor":"gw-bench-01",)"
    R"("datapath":"nfqueue","flow_id":7,"src_ip":"10.8.0.10","src_port":40312,)"
    R"("dest_ip":"198.51.100.10","dest_port":443,"proto":"TCP","app_proto":"tls",)"
    R"("group":"gov-managed","name":"www.tiktok.com","alpn":"h2,http/1.1","action":"block",)"
    R"("mode":"enforce","reason":"rule","category":"tiktok","rule":"*.tiktok.com",)"
    R"("list":"domains/catalogue/tiktok.txt","line":26,"exception":false,"jurisdiction":"CN",)"
    R"("policy_version":3,"flags":["split"]})";
constexpr std::string_view kAllowDns =
    R"({"timestamp":"2026-11-29T09:40:13.000102Z","event_type":"name","sensor":"gw-bench-01",)"
    R"("datapath":"dnsproxy","flow_id":8,"src_ip":"10.9.3.77","src_port":53124,)"
    R"("dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","app_proto":"dns","group":"byod",)"
    R"("name":"outlook.office365.com","dns":{"qtype":28,"qtype_name":"AAAA"},"action":"allow",)"
    R"("mode":"enforce","reason":"no_rule","category":null,"rule":null,"list":null,"line":null,)"
    R"("policy_version":3,"flags":[]})";

void report(benchmark::State& state, std::uint64_t allocations_before, std::size_t bytes) {
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["allocs_per_iter"] =
      static_cast<double>(bench::allocation_count() - allocations_before) / iterations;
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
}

void BM_ParseEventLine(benchmark::State& state) {
  EventLine event;
  LineError error = LineError::Empty;
  const std::uint64_t before = bench::allocation_count();
  for (auto _ : state) {
    const bool ok = parse_event_line(kBlock, event, error);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(event);
  }
  report(state, before, kBlock.size());
}
BENCHMARK(BM_ParseEventLine);

EventFilter selective_filter() {
  FilterSpec spec;
  spec.groups = {"gov-managed"};
  spec.names = {"*.tiktok.com"};
  spec.since_us = 0;
  return std::move(*EventFilter::compile(spec));
}

// The pre-check alone on a line it rejects (another group): most lines of a selective query.
void BM_FilterMayMatchReject(benchmark::State& state) {
  const EventFilter filter = selective_filter();
  const std::uint64_t before = bench::allocation_count();
  for (auto _ : state) {
    const bool maybe = filter.may_match(kAllowDns);
    benchmark::DoNotOptimize(maybe);
  }
  report(state, before, kAllowDns.size());
}
BENCHMARK(BM_FilterMayMatchReject);

// What the query engine does per line: pre-check, parse, match; half the lines match.
void BM_FilterStep(benchmark::State& state) {
  EventFilter filter = selective_filter();
  const std::vector<std::string_view> lines = {kBlock, kAllowDns};
  EventLine event;
  LineError error = LineError::Empty;
  std::size_t i = 0;
  std::size_t bytes = 0;
  const std::uint64_t before = bench::allocation_count();
  for (auto _ : state) {
    const std::string_view line = lines[i++ & 1U];
    bytes += line.size();
    const bool match =
        filter.may_match(line) && parse_event_line(line, event, error) && filter.matches(event);
    benchmark::DoNotOptimize(match);
  }
  report(state, before, bytes / (state.iterations() == 0 ? 1 : state.iterations()));
}
BENCHMARK(BM_FilterStep);

}  // namespace
}  // namespace egressguard::logs

BENCHMARK_MAIN();
