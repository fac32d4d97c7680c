// Matcher benchmarks (DESIGN section 4). Floors: >= 10 M lookups/s on one core at 1M rules with
// 10% hits, <= 48 bytes per rule, compile of 1M rules <= 2 s, 0 allocations per lookup.
// Rules: the 441k-name benchmark union from the shared data (as suffix rules, as HaGeZi
// wildcard lists are read), topped up with synthetic names of similar length to 1M; without the
// shared data, synthetic names only. Queries: 2^17 names, 10% hits (a rule name or a subdomain
// of one), 90% misses of 2-4 labels under common TLDs, read either uniformly ("cold": every
// lookup walks a random part of the table, the worst case) or Zipf-distributed ("skewed": a few
// names are most of the traffic, as at a gateway). lookup_batch is measured cold.
#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <malloc.h>

#include "bench/alloc_counter.h"
#include "domains/matcher.h"
#include "domains/name.h"

namespace egressguard::domains {
namespace {

const char* const kTlds[] = {"com", "net", "org", "io", "cn", "ru", "de", "co.uk", "info", "xyz"};

std::string random_label(std::mt19937_64& random, std::size_t min, std::size_t max) {
  const std::size_t length = min + random() % (max - min + 1);
  std::string label;
  for (std::size_t i = 0; i < length; ++i) {
    const auto pick = random() % 38;
    label += pick < 26 ? static_cast<char>('a' + pick)
                       : (pick < 36 ? static_cast<char>('0' + pick - 26) : '-');
  }
  if (label.front() == '-') {
    label.front() = 'a';
  }
  if (label.back() == '-') {
    label.back() = 'z';
  }
  return label;
}

// ~21 bytes on average, like the union list.
std::string synthetic_name(std::mt19937_64& random) {
  std::string name = random_label(random, 5, 12);
  if (random() % 2 == 0) {
    name = random_label(random, 2, 8) + "." + name;
  }
  return name + "." + kTlds[random() % std::size(kTlds)];
}

const std::vector<std::string>& union_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    std::ifstream in(std::string(EGRESSGUARD_SOURCE_DIR) +
                     "/../shared/data/lists/bench/bench_union_domains.txt");
    for (std::string line; std::getline(in, line);) {
      if (auto normalized = normalize_rule_name(line); normalized) {
        out.push_back(std::move(*normalized));
      }
    }
    std::mt19937_64 random(7);
    std::shuffle(out.begin(), out.end(), random);
    return out;
  }();
  return names;
}

std::vector<Rule> make_rules(std::size_t count) {
  std::vector<Rule> rules;
  rules.reserve(count);
  const auto& names = union_names();
  for (std::size_t i = 0; i < count && i < names.size(); ++i) {
    rules.push_back(Rule{names[i], RuleKind::Suffix, Action::Block,
                         static_cast<std::uint32_t>(i % 4), static_cast<std::uint32_t>(i + 1)});
  }
  std::mt19937_64 random(11);
  while (rules.size() < count) {
    const auto i = rules.size();
    rules.push_back(Rule{synthetic_name(random), i % 3 == 0 ? RuleKind::Exact : RuleKind::Suffix,
                         i % 50 == 0 ? Action::Allow : Action::Block,
                         static_cast<std::uint32_t>(i % 4), static_cast<std::uint32_t>(i + 1)});
  }
  return rules;
}

std::vector<std::string> make_queries(const std::vector<Rule>& rules, std::size_t count) {
  std::mt19937_64 random(13);
  std::vector<std::string> queries;
  queries.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (i % 10 == 0) {
      const Rule& rule = rules[random() % rules.size()];
      queries.push_back(rule.kind == RuleKind::Exact || random() % 2 == 0
                            ? rule.name
                            : random_label(random, 1, 8) + "." + rule.name);
    } else {
      std::string name = random_label(random, 3, 12) + "." + kTlds[random() % std::size(kTlds)];
      for (auto extra = random() % 3; extra > 0; --extra) {
        name = random_label(random, 1, 10) + "." + name;
      }
      queries.push_back(std::move(name));
    }
  }
  return queries;
}

// A fixed mmap threshold: glibc otherwise raises it after large frees, and then large vectors
// come from the heap, whose pages are not returned on free, hiding the RSS a matcher holds.
[[maybe_unused]] const int kFixedMmapThreshold = mallopt(M_MMAP_THRESHOLD, 1 << 17);

// Heap bytes in use (small chunks and mmapped blocks).
std::size_t heap_bytes() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

// One matcher and query set per rule count, built once for all lookup benchmarks.
struct LookupSetup {
  Matcher matcher;
  std::vector<std::string> queries;    // 2^17 distinct names, 10% hits
  std::vector<std::string_view> cold;  // the queries in order: every name equally likely
  // 2^20 draws, Zipf (s = 1) over the queries, laid out one after the other like names in
  // packet buffers.
  std::string skewed_text;
  std::vector<std::string_view> skewed;
};

const LookupSetup& setup(std::size_t count) {
  static std::map<std::size_t, std::unique_ptr<LookupSetup>> cache;
  auto& entry = cache[count];
  if (!entry) {
    entry = std::make_unique<LookupSetup>();
    std::vector<Rule> rules = make_rules(count);
    entry->queries = make_queries(rules, std::size_t{1} << 17);
    entry->matcher = Matcher::compile(std::move(rules));
    entry->cold.assign(entry->queries.begin(), entry->queries.end());
    // Zipf over the hits (every 10th query) 10% of the time, over the misses otherwise, so
    // that the hit ratio stays 10% although a few names carry most of the traffic.
    const std::size_t per_class = entry->queries.size() / 10;
    std::vector<double> weights(per_class);
    for (std::size_t i = 0; i < weights.size(); ++i) {
      weights[i] = 1.0 / static_cast<double>(i + 1);
    }
    std::discrete_distribution<std::size_t> zipf(weights.begin(), weights.end());
    std::mt19937_64 random(17);
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (std::size_t i = 0; i < (std::size_t{1} << 20); ++i) {
      const std::size_t rank = zipf(random);
      const std::size_t offset = random() % 10 == 0 ? 0 : 1 + random() % 9;
      const std::string& name = entry->queries[rank * 10 + offset];
      spans.emplace_back(entry->skewed_text.size(), name.size());
      entry->skewed_text += name;
    }
    for (const auto& [start, length] : spans) {
      entry->skewed.emplace_back(entry->skewed_text.data() + start, length);
    }
  }
  return *entry;
}

const std::vector<ListUse> kUses = {ListUse::Apply, ListUse::Apply, ListUse::Except,
                                    ListUse::Apply};

void report(benchmark::State& state, const Matcher& matcher, std::uint64_t allocs, std::size_t hits,
            std::int64_t lookups) {
  state.SetItemsProcessed(lookups);
  state.counters["allocs_per_iter"] =
      static_cast<double>(allocs) / static_cast<double>(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(lookups);
  state.counters["rules"] = static_cast<double>(matcher.size());
  state.counters["bytes_per_rule"] =
      static_cast<double>(matcher.memory_bytes()) / static_cast<double>(matcher.size());
}

// Single lookups; range(1): 0 = cold (uniform over 2^17 names), 1 = skewed (Zipf).
void BM_MatcherLookup(benchmark::State& state) {
  const LookupSetup& s = setup(static_cast<std::size_t>(state.range(0)));
  const std::vector<std::string_view>& queries = state.range(1) == 0 ? s.cold : s.skewed;
  std::size_t i = 0;
  std::size_t hits = 0;
  const std::uint64_t allocs_before = bench::allocation_count();
  for (auto _ : state) {
    const Match m = s.matcher.lookup(queries[i], kUses);
    benchmark::DoNotOptimize(m);
    hits += m.matched ? 1 : 0;
    i = (i + 1) & (queries.size() - 1);
  }
  report(state, s.matcher, bench::allocation_count() - allocs_before, hits, state.iterations());
}
BENCHMARK(BM_MatcherLookup)
    ->ArgNames({"rules", "skewed"})
    ->ArgsProduct({{10'000, 100'000, 441'374, 1'000'000}, {0, 1}});
// The same with a fixed number of lookups (2^18: every cold query twice), for instruction and
// cache-miss counts under valgrind, which are then per lookup: counts / 262144.
BENCHMARK(BM_MatcherLookup)
    ->Name("BM_MatcherLookupCounted")
    ->ArgNames({"rules", "skewed"})
    ->ArgsProduct({{10'000, 441'374, 1'000'000}, {0}})
    ->Iterations(1 << 18);

// Batches of 16 names (lookup_batch), cold: one iteration = 16 lookups.
void BM_MatcherLookupBatch(benchmark::State& state) {
  const LookupSetup& s = setup(static_cast<std::size_t>(state.range(0)));
  constexpr std::size_t kBatch = 16;
  std::array<Match, kBatch> out{};
  std::size_t i = 0;
  std::size_t hits = 0;
  const std::uint64_t allocs_before = bench::allocation_count();
  for (auto _ : state) {
    s.matcher.lookup_batch(std::span(s.cold).subspan(i, kBatch), kUses, out);
    benchmark::DoNotOptimize(out);
    for (const Match& m : out) {
      hits += m.matched ? 1 : 0;
    }
    i = (i + kBatch) & (s.cold.size() - 1);
  }
  report(state, s.matcher, bench::allocation_count() - allocs_before, hits,
         state.iterations() * static_cast<std::int64_t>(kBatch));
}
BENCHMARK(BM_MatcherLookupBatch)->ArgName("rules")->Arg(10'000)->Arg(1'000'000);

void BM_MatcherCompile(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const std::vector<Rule> rules = make_rules(count);
  double bytes = 0;
  double rss_growth = 0;
  double heap_growth = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Rule> copy = rules;
    state.ResumeTiming();
    auto matcher = std::make_unique<Matcher>(Matcher::compile(std::move(copy)));
    state.PauseTiming();
    bytes = static_cast<double>(matcher->memory_bytes());
    // What the matcher holds in the heap and in resident pages: the difference made by freeing
    // it (its large vectors are mmapped blocks, returned to the system on free).
    const std::size_t heap_with = heap_bytes();
    const std::size_t rss_with = rss_bytes();
    matcher.reset();
    heap_growth = static_cast<double>(heap_with) - static_cast<double>(heap_bytes());
    rss_growth = static_cast<double>(rss_with) - static_cast<double>(rss_bytes());
    state.ResumeTiming();
  }
  state.counters["rules"] = static_cast<double>(count);
  state.counters["bytes_per_rule"] = bytes / static_cast<double>(count);
  state.counters["rss_growth_per_rule"] = rss_growth / static_cast<double>(count);
  state.counters["heap_growth_per_rule"] = heap_growth / static_cast<double>(count);
}
BENCHMARK(BM_MatcherCompile)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_NormalizeName(benchmark::State& state) {
  const std::string input = "Vcs-VA.TikTokV.com.";
  NameBuffer buffer;
  const std::uint64_t allocs_before = bench::allocation_count();
  for (auto _ : state) {
    auto name = normalize_name(input, buffer);
    benchmark::DoNotOptimize(name);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(input.size()));
  state.counters["allocs_per_iter"] =
      static_cast<double>(bench::allocation_count() - allocs_before) /
      static_cast<double>(state.iterations());
}
BENCHMARK(BM_NormalizeName);

}  // namespace
}  // namespace egressguard::domains

BENCHMARK_MAIN();
