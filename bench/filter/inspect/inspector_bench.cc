// Inspector cost per packet: (a) a bulk packet of a decided flow, (b) the first packets of a TLS
// flow up to its decision (SYN, SYN-ACK, ACK, ClientHello; new flows with LRU eviction), (c) a
// DNS query on UDP. allocs_per_iter must be 0 for (a) and (c) once warmed up.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/alloc_counter.h"
#include "filter/inspect/inspector.h"
#include "tests/filter/inspect/inspect_builders_helpers.h"

namespace egressguard::inspect {
namespace {

using test::Bytes;
constexpr auto kEth = parse::LinkType::Ethernet;

void BM_InspectDecidedFlowPacket(benchmark::State& state) {
  test::TestPolicy policy;
  Inspector inspector(policy.store(), InspectConfig{}, nullptr);
  PacketMeta meta{1000000, "eth0"};
  inspector.inspect_frame(
      kEth,
      test::tcp_frame("10.1.0.7", 40000, "192.0.2.10", 443, 1, test::tls_stream("example.org")),
      meta);
  const Bytes bulk = test::tcp_frame("10.1.0.7", 40000, "192.0.2.10", 443, 5000, Bytes(1400, 0x17));
  inspector.inspect_frame(kEth, bulk, meta);  // warm-up
  const std::uint64_t allocs = bench::allocation_count();
  for (auto _ : state) {
    meta.ts_us += 10;
    benchmark::DoNotOptimize(inspector.inspect_frame(kEth, bulk, meta));
  }
  state.counters["allocs_per_iter"] = benchmark::Counter(
      static_cast<double>(bench::allocation_count() - allocs), benchmark::Counter::kAvgIterations);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bulk.size()));
}
BENCHMARK(BM_InspectDecidedFlowPacket);

void BM_InspectTlsFlowSetup(benchmark::State& state) {
  test::TestPolicy policy;
  InspectConfig config;
  config.max_flows = 1024;  // 4096 tuples cycled: every iteration is a new flow, one eviction
  Inspector inspector(policy.store(), config, nullptr);
  struct FlowFrames {
    Bytes syn, syn_ack, ack, hello;
  };
  std::vector<FlowFrames> flows;
  const Bytes stream = test::tls_stream("www.tiktok.com");
  for (int i = 0; i < 4096; ++i) {
    const std::string client =
        "10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1);
    const auto port = static_cast<std::uint16_t>(30000 + i);
    flows.push_back({test::tcp_frame(client, port, "192.0.2.10", 443, 100, {}, parse::kTcpSyn, 0),
                     test::tcp_frame("192.0.2.10", 443, client, port, 900, {},
                                     parse::kTcpSyn | parse::kTcpAck, 101),
                     test::tcp_frame(client, port, "192.0.2.10", 443, 101, {}, parse::kTcpAck, 901),
                     test::tcp_frame(client, port, "192.0.2.10", 443, 101, stream)});
  }
  PacketMeta meta{1000000, "eth0"};
  std::size_t next = 0;
  for (const FlowFrames& f : flows) {  // warm-up: fills the table and the pools
    inspector.inspect_frame(kEth, f.syn, meta);
  }
  const std::uint64_t allocs = bench::allocation_count();
  for (auto _ : state) {
    const FlowFrames& f = flows[next];
    next = (next + 1) % flows.size();
    meta.ts_us += 10;
    inspector.inspect_frame(kEth, f.syn, meta);
    inspector.inspect_frame(kEth, f.syn_ack, meta);
    inspector.inspect_frame(kEth, f.ack, meta);
    benchmark::DoNotOptimize(inspector.inspect_frame(kEth, f.hello, meta));
  }
  state.counters["allocs_per_iter"] = benchmark::Counter(
      static_cast<double>(bench::allocation_count() - allocs), benchmark::Counter::kAvgIterations);
  state.counters["blocked"] = static_cast<double>(inspector.stats().decisions_block);
  state.SetItemsProcessed(state.iterations() * 4);  // packets
}
BENCHMARK(BM_InspectTlsFlowSetup);

void BM_InspectDnsQuery(benchmark::State& state) {
  test::TestPolicy policy;
  Inspector inspector(policy.store(), InspectConfig{}, nullptr);
  const Bytes query =
      test::udp_frame("10.1.0.7", 33000, "192.0.2.53", 53, test::dns_query(1, "www.tiktok.com"));
  PacketMeta meta{1000000, "eth0"};
  inspector.inspect_frame(kEth, query, meta);  // warm-up
  const std::uint64_t allocs = bench::allocation_count();
  for (auto _ : state) {
    meta.ts_us += 10;
    benchmark::DoNotOptimize(inspector.inspect_frame(kEth, query, meta));
  }
  state.counters["allocs_per_iter"] = benchmark::Counter(
      static_cast<double>(bench::allocation_count() - allocs), benchmark::Counter::kAvgIterations);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * query.size()));
}
BENCHMARK(BM_InspectDnsQuery);

}  // namespace
}  // namespace egressguard::inspect

BENCHMARK_MAIN();
