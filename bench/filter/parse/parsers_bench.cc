// Nanoseconds per parse for each filter/parse parser on realistic inputs. Inputs are built once,
// outside the timed loop; allocs_per_iter must stay 0 (CONVENTIONS section 4).
#include <array>
#include <cstdint>
#include <string_view>

#include <benchmark/benchmark.h>

#include "bench/alloc_counter.h"
#include "filter/parse/dns.h"
#include "filter/parse/http_host.h"
#include "filter/parse/packet.h"
#include "filter/parse/tls_client_hello.h"
#include "tests/filter/parse/builders_helpers.h"

namespace egressguard::parse {
namespace {

void report(benchmark::State& state, std::uint64_t allocations_before, std::size_t bytes) {
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["allocs_per_iter"] =
      static_cast<double>(bench::allocation_count() - allocations_before) / iterations;
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
}

// Ethernet + 802.1Q + IPv4 + TCP carrying a ClientHello-sized payload.
void BM_DecodePacket(benchmark::State& state) {
  const test::Bytes payload(517, 0x16);
  const test::Bytes frame = test::ethernet(
      0x0800,
      test::ipv4("10.1.2.3", "203.0.113.9", kIpProtoTcp,
                 test::tcp(51515, 443, payload, kTcpAck | kTcpPsh, 1, 1,
                           test::Bytes{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})),  // timestamps
      {{0x8100, 42}});
  const std::uint64_t before = bench::allocation_count();
  for (auto _ : state) {
    auto packet = decode_packet(LinkType::Ethernet, frame);
    benchmark::DoNotOptimize(packet);
  }
  report(state, before, frame.size());
}
BENCHMARK(BM_DecodePacket);

void BM_DecodePacketVxlan(benchmark::State& state) {
  const test::Bytes inner =
      test::ethernet(0x86dd, test::ipv6("2001:db8::1", "2001:db8::2", kIpProtoUdp,
                                        test::udp(5353, 53, test::dns_query(1, "www.tiktok.com"))));
  const test::Bytes frame =
      test::ethernet(0x0800, test::ipv4("192.0.2.1", "192.0.2.2", kIpProtoUdp,
                                        test::udp(40000, kVxlanPort, test::vxlan(7, inner))));
  const std::uint64_t before = bench::allocation_count();
  for (auto _ : state) {
    auto packet = decode_packet(LinkType::Ethernet, frame);
    benchmark::DoNotOptimize(packet);
  }
  report(state, before, frame.size());
}
BENCHMARK(BM_DecodePacketVxlan);

void BM_ParseDnsMessage(benchmark::State& state) {
  const test::Bytes query = test::dns_query(0x1234, "vcs-va.tiktokv.com", 65);
  DnsNameBuffer buffer{};
  const std::uint64_t before = bench::allocation_count();
  for (auto _ : state) {
    auto message = parse_dns_message(query, buffer);
    benchmark::DoNotOptimize(message);
    benchmark::DoNotOptimize(buffer);
  }
  report(state, before, query.size());
}
BENCHMARK(BM_ParseDnsMessage);

// Chrome-like: GREASE, ~18 extensions, X25519MLKEM768 key share (~1.7 KB in one record).
void BM_ParseClientHello(benchmark::State& state) {
  const test::Bytes hello = test::chrome_like_client_hello("www.tiktok.com");
  const std::uint64_t before = bench::allocation_count();
  for (auto _ : state) {
    auto info = parse_client_hello(hello);
    benchmark::DoNotOptimize(info);
  }
  report(state, before, hello.size());
}
BENCHMARK(BM_ParseClientHello);

// The TCP path: find the handshake in the record stream, then parse it.
void BM_AssembleAndParseClientHello(benchmark::State& state) {
  const test::Bytes hello = test::chrome_like_client_hello("www.tiktok.com");
  const auto fragment = static_cast<std::size_t>(state.range(0));
  const test::Bytes stream = test::tls_records(hello, fragment);
  static std::array<std::uint8_t, kClientHelloScratchSize> scratch{};
  const std::uint64_t before = bench::allocation_count();
  for (auto _ : state) {
    auto message = assemble_client_hello(stream, scratch);
    if (message.has_value()) {
      auto info = parse_client_hello(*message);
      benchmark::DoNotOptimize(info);
    }
    benchmark::DoNotOptimize(message);
  }
  report(state, before, stream.size());
}
BENCHMARK(BM_AssembleAndParseClientHello)->Arg(16384)->Arg(512);

void BM_ParseHttpRequest(benchmark::State& state) {
  constexpr std::string_view kRequest =
      "GET /foryou?lang=en HTTP/1.1\r\n"
      "Host: www.tiktok.com\r\n"
      "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
      "Gecko) Chrome/124.0.0.0 Safari/537.36\r\n"
      "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
      "Accept-Language: en-US,en;q=0.9\r\n"
      "Accept-Encoding: gzip, deflate\r\n"
      "Connection: keep-alive\r\n\r\n";
  const std::uint64_t before = bench::allocation_count();
  for (auto _ : state) {
    auto request = parse_http_request(as_bytes(kRequest));
    benchmark::DoNotOptimize(request);
  }
  report(state, before, kRequest.size());
}
BENCHMARK(BM_ParseHttpRequest);

}  // namespace
}  // namespace egressguard::parse

BENCHMARK_MAIN();
