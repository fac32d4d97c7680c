// QUIC Initial decryption and the Google QUIC CHLO reader. Besides allocs_per_iter (C++ operator
// new), reports openssl_mallocs_per_iter: OpenSSL's own allocations, counted through
// CRYPTO_set_mem_functions installed before OpenSSL allocates anything.
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <openssl/crypto.h>

#include "bench/alloc_counter.h"
#include "filter/parse/quic_initial.h"

namespace {

std::atomic<std::uint64_t> g_openssl_mallocs{0};

void* counting_malloc(std::size_t n, const char* /*file*/, int /*line*/) {
  g_openssl_mallocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
void* counting_realloc(void* p, std::size_t n, const char* /*file*/, int /*line*/) {
  g_openssl_mallocs.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
void counting_free(void* p, const char* /*file*/, int /*line*/) {
  std::free(p);
}

// Installed during static initialisation, before the first OpenSSL call.
const bool g_hooked =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;

std::vector<std::uint8_t> read_hex(const std::string& name) {
  std::ifstream in(std::string(EGRESSGUARD_SOURCE_DIR) + "/tests/data/quic/" + name);
  std::stringstream s;
  s << in.rdbuf();
  std::vector<std::uint8_t> out;
  const std::string hex = s.str();
  std::string digits;
  for (char c : hex) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
      digits += c;
    }
  }
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

void report(benchmark::State& state, std::uint64_t allocs, std::uint64_t ssl_allocs,
            std::size_t bytes) {
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["allocs_per_iter"] = static_cast<double>(allocs) / iterations;
  state.counters["openssl_mallocs_per_iter"] =
      g_hooked ? static_cast<double>(ssl_allocs) / iterations : -1.0;
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
}

// Same flow again and again: keys come from the per-thread cache.
void BM_DecryptClientInitial(benchmark::State& state) {
  using namespace egressguard::parse;
  const std::vector<std::uint8_t> packet = read_hex("rfc9001_a2_client_initial.hex");
  std::vector<std::uint8_t> scratch(kQuicScratchSize);
  const egressguard::ByteSpan datagram(packet.data(), packet.size());
  benchmark::DoNotOptimize(decrypt_client_initial(datagram, {}, scratch));  // warm-up
  const std::uint64_t allocs = egressguard::bench::allocation_count();
  const std::uint64_t ssl = g_openssl_mallocs.load();
  for (auto _ : state) {
    auto r = decrypt_client_initial(datagram, {}, scratch);
    benchmark::DoNotOptimize(r);
  }
  report(state, egressguard::bench::allocation_count() - allocs, g_openssl_mallocs.load() - ssl,
         packet.size());
}
BENCHMARK(BM_DecryptClientInitial);

// Alternating v1 and v2 packets: every call derives keys (HKDF) and re-keys the contexts, the
// cost of a new flow.
void BM_DecryptClientInitialNewKeys(benchmark::State& state) {
  using namespace egressguard::parse;
  const std::vector<std::uint8_t> v1 = read_hex("rfc9001_a2_client_initial.hex");
  const std::vector<std::uint8_t> v2 = read_hex("rfc9369_a2_client_initial.hex");
  std::vector<std::uint8_t> scratch(kQuicScratchSize);
  const egressguard::ByteSpan a(v1.data(), v1.size());
  const egressguard::ByteSpan b(v2.data(), v2.size());
  benchmark::DoNotOptimize(decrypt_client_initial(a, {}, scratch));
  benchmark::DoNotOptimize(decrypt_client_initial(b, {}, scratch));
  const std::uint64_t allocs = egressguard::bench::allocation_count();
  const std::uint64_t ssl = g_openssl_mallocs.load();
  bool flip = false;
  for (auto _ : state) {
    auto r = decrypt_client_initial(flip ? a : b, {}, scratch);
    flip = !flip;
    benchmark::DoNotOptimize(r);
  }
  report(state, egressguard::bench::allocation_count() - allocs, g_openssl_mallocs.load() - ssl,
         v1.size());
}
BENCHMARK(BM_DecryptClientInitialNewKeys);

void BM_GquicChloSni(benchmark::State& state) {
  using namespace egressguard::parse;
  // Q043 public header, 12-byte hash, STREAM frame on stream 1, CHLO {PAD, SNI}, padding.
  std::vector<std::uint8_t> d = {0x0d, 1, 2, 3, 4, 5, 6, 7, 8, 'Q', '0', '4', '3', 1};
  d.insert(d.end(), 12, 0x5a);
  const std::string sni = "www.example.com";
  const std::vector<std::uint8_t> chlo = {
      'C', 'H', 'L', 'O', 2,   0,   0,
      0,   'P', 'A', 'D', 0,   200, 0,
      0,   0,   'S', 'N', 'I', 0,   static_cast<std::uint8_t>(200 + sni.size()),
      0,   0,   0};
  d.insert(d.end(), {0xa0, 0x01, 0x01, 0x00});
  d.insert(d.end(), chlo.begin(), chlo.end());
  d.insert(d.end(), 200, '-');
  d.insert(d.end(), sni.begin(), sni.end());
  d.resize(1350, 0);
  const egressguard::ByteSpan datagram(d.data(), d.size());
  const std::uint64_t allocs = egressguard::bench::allocation_count();
  for (auto _ : state) {
    auto r = gquic_chlo_sni(datagram);
    benchmark::DoNotOptimize(r);
  }
  report(state, egressguard::bench::allocation_count() - allocs, 0, d.size());
}
BENCHMARK(BM_GquicChloSni);

}  // namespace

BENCHMARK_MAIN();
