// Matcher benchmarks (DESIGN section 4). Floors: >= 10 M lookups/s on one core at 1M rules with
// 10% hits, <= 48 bytes per rule, compile of 1M rules <= 2 s, 0 allocations per lookup.
// Rules: the 441k-name benchmark union from the shared data (as suffix rules, as HaGeZi
// wildcard lists are read), topped up with synthetic names of similar length to 1M; without the
// shared data, synthetic names only. Queries: 2^17 names, 10% hits (a rule name or a subdomain
// of one), 90% misses of 2-4 labels under common TLDs.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

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

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

void BM_MatcherLookup(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  std::vector<Rule> rules = make_rules(count);
  const std::vector<std::string> queries = make_queries(rules, std::size_t{1} << 17);
  const Matcher matcher = Matcher::compile(std::move(rules));
  const std::vector<ListUse> uses = {ListUse::Apply, ListUse::Apply, ListUse::Except,
                                     ListUse::Apply};
  std::size_t i = 0;
  std::size_t hits = 0;
  const std::uint64_t allocs_before = bench::allocation_count();
  for (auto _ : state) {
    const Match m = matcher.lookup(queries[i], uses);
    benchmark::DoNotOptimize(m);
    hits += m.matched ? 1 : 0;
    i = (i + 1) & (queries.size() - 1);
  }
  const std::uint64_t allocs = bench::allocation_count() - allocs_before;
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs_per_iter"] =
      static_cast<double>(allocs) / static_cast<double>(state.iterations());
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
  state.counters["rules"] = static_cast<double>(matcher.size());
  state.counters["bytes_per_rule"] =
      static_cast<double>(matcher.memory_bytes()) / static_cast<double>(matcher.size());
}
BENCHMARK(BM_MatcherLookup)->Arg(10'000)->Arg(100'000)->Arg(441'374)->Arg(1'000'000);

void BM_MatcherCompile(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const std::vector<Rule> rules = make_rules(count);
  double bytes = 0;
  double rss_growth = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Rule> copy = rules;
    const std::size_t rss_before = rss_bytes();
    state.ResumeTiming();
    Matcher matcher = Matcher::compile(std::move(copy));
    state.PauseTiming();
    bytes = static_cast<double>(matcher.memory_bytes());
    // The moved-from rules were freed inside compile; what stays is the matcher.
    rss_growth = static_cast<double>(rss_bytes()) - static_cast<double>(rss_before);
    benchmark::DoNotOptimize(matcher);
    state.ResumeTiming();
  }
  state.counters["rules"] = static_cast<double>(count);
  state.counters["bytes_per_rule"] = bytes / static_cast<double>(count);
  state.counters["rss_growth_per_rule"] = rss_growth / static_cast<double>(count);
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
