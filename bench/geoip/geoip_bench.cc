// GeoIP lookups (geoip/database.h): ns per address for IPv4 and IPv6 on the MaxMind test
// databases, and 0 allocations per lookup.
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include "bench/alloc_counter.h"
#include "geoip/geo_databases.h"

namespace {

using egressguard::geoip::Database;
using egressguard::geoip::DatabaseKind;
using egressguard::geoip::GeoInfo;

std::string data(const std::string& file) {
  return std::string(EGRESSGUARD_SOURCE_DIR) + "/../shared/data/geoip/" + file;
}

std::vector<std::array<std::uint8_t, 16>> addresses(bool v6) {
  const char* v4_text[] = {"175.16.199.1", "2.125.160.216", "81.2.69.160", "1.128.0.1",
                           "12.81.92.9",   "89.160.20.130", "10.0.0.1",    "214.1.1.7"};
  const char* v6_text[] = {"2001:218::1",  "2a02:cf40::1", "240e::1", "2001:4600::1",
                           "2a02:d0c0::1", "2001:db8::1",  "2003::1", "2a02:d500::1"};
  std::vector<std::array<std::uint8_t, 16>> out;
  for (const char* text : v6 ? v6_text : v4_text) {
    std::array<std::uint8_t, 16> bytes{};
    inet_pton(v6 ? AF_INET6 : AF_INET, text, bytes.data());
    out.push_back(bytes);
  }
  return out;
}

void lookup(benchmark::State& state, const std::string& file, DatabaseKind kind, bool v6) {
  if (!std::filesystem::exists(data(file))) {
    state.SkipWithError(("shared data missing: " + data(file)).c_str());
    return;
  }
  auto db = Database::open(data(file), kind);
  if (!db) {
    state.SkipWithError(db.error().c_str());
    return;
  }
  const auto inputs = addresses(v6);
  const std::size_t size = v6 ? 16 : 4;
  std::size_t i = 0;
  const std::uint64_t before = egressguard::bench::allocation_count();
  for (auto _ : state) {
    GeoInfo info;
    const bool found = (*db)->lookup(egressguard::ByteSpan(inputs[i].data(), size), info);
    benchmark::DoNotOptimize(found);
    benchmark::DoNotOptimize(info);
    i = (i + 1) % inputs.size();
  }
  state.counters["allocs_per_iter"] =
      benchmark::Counter(static_cast<double>(egressguard::bench::allocation_count() - before) /
                         static_cast<double>(state.iterations()));
}

void BM_GeoipCountryLookupV4(benchmark::State& state) {
  lookup(state, "GeoIP2-Country-Test.mmdb", DatabaseKind::Country, false);
}
void BM_GeoipCountryLookupV6(benchmark::State& state) {
  lookup(state, "GeoIP2-Country-Test.mmdb", DatabaseKind::Country, true);
}
void BM_GeoipCityLookupV4(benchmark::State& state) {
  lookup(state, "GeoIP2-City-Test.mmdb", DatabaseKind::Country, false);
}
void BM_GeoipAsnLookupV4(benchmark::State& state) {
  lookup(state, "GeoLite2-ASN-Test.mmdb", DatabaseKind::Asn, false);
}
void BM_GeoipAsnLookupV6(benchmark::State& state) {
  lookup(state, "GeoLite2-ASN-Test.mmdb", DatabaseKind::Asn, true);
}

BENCHMARK(BM_GeoipCountryLookupV4);
BENCHMARK(BM_GeoipCountryLookupV6);
BENCHMARK(BM_GeoipCityLookupV4);
BENCHMARK(BM_GeoipAsnLookupV4);
BENCHMARK(BM_GeoipAsnLookupV6);

}  // namespace

BENCHMARK_MAIN();
