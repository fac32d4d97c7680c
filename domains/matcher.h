// The compiled, immutable name matcher (DESIGN section 4): every rule of every list of a
// snapshot in one flat hash table, probed once per label boundary of a query.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "domains/rule.h"

namespace egressguard::domains {

// How a group's policy uses one list; a policy is a span of these indexed by list id (ids past
// the end of the span are Ignore).
enum class ListUse : std::uint8_t {
  Ignore,  // the list's rules do not exist for this lookup
  Apply,   // each rule acts with its own action
  Except,  // every rule of the list allows (an exception list)
};

struct Match {
  bool matched = false;
  Action action = Action::Allow;
  std::uint32_t rule = 0;   // for Matcher::rule_info
  std::uint8_t labels = 0;  // labels of the matched rule's name: its specificity
};

// One rule as the matcher holds it. `name` is a view into the matcher: valid while it lives.
struct RuleInfo {
  std::string_view name;
  RuleKind kind = RuleKind::Exact;
  Action action = Action::Block;
  std::uint32_t list = 0;
  std::uint32_t line = 0;
};

class Matcher {
 public:
  // Matches nothing.
  Matcher() = default;

  // Names must be normalised (normalize_rule_name); throws std::invalid_argument on one that
  // is not and std::length_error past 65535 lists or 2^32 rules. Duplicate names (within a list
  // or across lists) are kept, each with its own provenance.
  static Matcher compile(std::vector<Rule> rules);

  // `normalized_name` comes from normalize_name. Walks label-aligned suffixes from the full name
  // up: the most specific matching rule decides (more labels wins; at the same name an exact
  // rule on the full name beats suffix rules), and at equal specificity Allow beats Block.
  // No allocation, no lock.
  Match lookup(std::string_view normalized_name, std::span<const ListUse> uses) const noexcept;

  // lookup() for a batch: out[i] = lookup(names[i], uses) for i < min(names.size(), out.size()).
  // Faster per name than single lookups when the table is not in cache: the memory accesses of
  // up to 8 names overlap. No allocation, no lock.
  void lookup_batch(std::span<const std::string_view> names, std::span<const ListUse> uses,
                    std::span<Match> out) const noexcept;

  // `rule` as returned in Match::rule; must be < size().
  RuleInfo rule_info(std::uint32_t rule) const;

  // Number of rules.
  std::size_t size() const noexcept { return rules_.size(); }
  // Bytes held by the structure (table, rules, names).
  std::size_t memory_bytes() const noexcept;

 private:
  // The table: one cache line per bucket of 8 entries, one entry per distinct name: 32 bits of
  // the name's hash (never 0; they also pick the home bucket) and the first of its rules, which
  // are contiguous in rules_. A name lives in its home bucket or, when that is full, in the
  // next ones; a bucket with a free entry ends a search.
  static constexpr std::size_t kBucketEntries = 8;
  struct alignas(64) Bucket {
    std::array<std::uint32_t, kBucketEntries> fingerprint;  // 0 = free
    std::array<std::uint32_t, kBucketEntries> rule;
  };
  // 12 bytes per rule; the name is stored once per distinct name in pool_.
  struct PackedRule {
    std::uint32_t name_offset;
    std::uint32_t line;
    std::uint16_t list;
    std::uint8_t name_length;
    std::uint8_t flags;  // kind (bits 0-1), allow (bit 2), last rule of its name (bit 3)
  };
  static_assert(sizeof(Bucket) == 64);
  static_assert(sizeof(PackedRule) == 12);
  static constexpr std::uint32_t kEmpty = 0xffffffffU;  // "no rule"

  std::size_t home(std::uint32_t fingerprint) const noexcept {
    return static_cast<std::size_t>((std::uint64_t{fingerprint} * buckets_.size()) >> 32);
  }
  // The three steps of a lookup, given the suffix hashes of a name (see matcher.cc): suffixes
  // worth a filter check (filter words prefetched), suffixes worth a probe (buckets
  // prefetched), and the answer.
  std::uint32_t prefetch_candidates(const std::uint64_t* hashes, std::size_t count) const noexcept;
  std::uint32_t prefetch_probes(const std::uint64_t* hashes,
                                std::uint32_t candidates) const noexcept;
  Match resolve(std::string_view name, const std::uint64_t* hashes, const std::uint8_t* starts,
                std::size_t count, std::uint32_t probe,
                std::span<const ListUse> uses) const noexcept;
  // First rule of the name `name` with hash fingerprint `fingerprint`, or kEmpty.
  std::uint32_t find(std::uint32_t fingerprint, std::string_view name) const noexcept;

  std::vector<Bucket> buckets_;
  // Bit n set when some rule name has n dots (n + 1 labels): lookups skip other suffixes.
  std::array<std::uint64_t, 2> label_counts_{};
  // One bit per hash value (low bits of the name hash): a clear bit proves a suffix has no rule
  // without touching the table. Small enough to stay in cache when the table does not.
  std::vector<std::uint64_t> filter_;
  std::uint64_t filter_mask_ = 0;
  std::vector<PackedRule> rules_;
  std::vector<char> pool_;
};

}  // namespace egressguard::domains
