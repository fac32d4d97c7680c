// The compiled, immutable name matcher (DESIGN section 4): every rule of every list of a
// snapshot in one flat hash table, probed once per label boundary of a query that passes a
// cache-resident Bloom filter.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
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
  // A zero-filled array of trivially copyable T. Large ones are mapped to 2 MiB-aligned
  // addresses and marked for transparent huge pages (Linux), so that random probes over many
  // megabytes cost fewer TLB misses.
  template <typename T>
  class PageArray {
   public:
    PageArray() = default;
    explicit PageArray(std::size_t size)
        : data_(static_cast<T*>(allocate_pages(size * sizeof(T)))), size_(size) {}
    PageArray(const PageArray& other) : PageArray(other.size_) {
      if (size_ != 0) {
        std::memcpy(static_cast<void*>(data_), other.data_, size_ * sizeof(T));
      }
    }
    PageArray(PageArray&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    PageArray& operator=(PageArray other) noexcept {
      std::swap(data_, other.data_);
      std::swap(size_, other.size_);
      return *this;
    }
    ~PageArray() { free_pages(data_, size_ * sizeof(T)); }

    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }
    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    // Bytes taken from the system (whole pages for the large ones).
    std::size_t held_bytes() const noexcept { return held_bytes_for(size_ * sizeof(T)); }

   private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
  };
  static_assert(std::is_nothrow_move_constructible_v<PageArray<int>>);
  // Zero-filled, aligned to 64 bytes; nullptr for 0 bytes; throws std::bad_alloc.
  static void* allocate_pages(std::size_t bytes);
  static void free_pages(void* data, std::size_t bytes) noexcept;
  static std::size_t held_bytes_for(std::size_t bytes) noexcept;

  // The table: one cache line per bucket of 7 entries, one entry per distinct name. An entry's
  // tag holds 24 bits of the name's hash and its length (never 0: 0 marks a free entry); its
  // rule is the first of the name's rules, which are contiguous in rules_. A name lives in its
  // home bucket or, when that is full, in the next ones; a bucket with a free entry ends a
  // search. The names of a bucket's entries lie one after the other in pool_ from
  // rule[kBucketEntries] on, so that a probe finds a name without reading its rule first and
  // can fetch both at once.
  static constexpr std::size_t kBucketEntries = 7;
  struct alignas(64) Bucket {
    std::array<std::uint32_t, kBucketEntries + 1> tag;   // tag[kBucketEntries] stays 0
    std::array<std::uint32_t, kBucketEntries + 1> rule;  // rule[kBucketEntries]: pool offset
  };
  // The pre-filter: a blocked Bloom filter of the names with one 64-bit word per name (one
  // cache line per check) in which 5 bits are set. A clear bit proves that a suffix
  // has no rule without touching the table; at 10 bits per name it says "maybe" for about 1
  // absent name in 60. Its size (1.25 MB per million names) is what counts: it must stay in
  // the core's cache (L2) while the table does not; larger filters that are wrong less often
  // (16 bits per name: 1 in 260) made cold lookups slower at 1M rules, and blocks of 8 words
  // with a bit in each cost 3 times the instructions per check (bench/README.md, matcher).
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

  // Where a suffix hash leads: its home bucket and its filter word.
  std::size_t home(std::uint64_t hash) const noexcept {
    return static_cast<std::size_t>(((hash & 0xffffffffU) * buckets_.size()) >> 32);
  }
  std::size_t filter_word(std::uint64_t hash) const noexcept {
    return static_cast<std::size_t>(((hash & 0xffffffffU) * filter_.size()) >> 32);
  }
  bool filter_says_maybe(std::uint64_t hash) const noexcept;
  // The three steps of a lookup, given the suffix hashes of a name (hashes[j]: the suffix with
  // j dots, which begins at byte starts[j]; see matcher.cc): prefetch the filter words of the
  // suffixes worth a check, then prefetch the buckets of those that pass it (the returned mask),
  // then the answer.
  void prefetch_filter(const std::uint64_t* hashes, std::uint64_t candidates) const noexcept;
  std::uint64_t prefetch_probes(const std::uint64_t* hashes,
                                std::uint64_t candidates) const noexcept;
  Match resolve(std::string_view name, const std::uint64_t* hashes, const std::uint8_t* starts,
                std::uint64_t probe, std::span<const ListUse> uses) const noexcept;
  // The answer of the suffix name[start..] (hash `hash`, `labels` labels) alone.
  Match resolve_suffix(std::string_view name, std::uint64_t hash, std::size_t start,
                       std::size_t labels, std::span<const ListUse> uses) const noexcept;
  // Bits j (< 64) of the suffixes with j dots that some rule name has, for a name of `count`
  // labels (count <= 64).
  std::uint64_t candidates(std::size_t count) const noexcept {
    return label_counts_[0] & (count == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1);
  }
  // lookup() for names with more labels than its fast path takes.
  Match lookup_slow(std::string_view name, std::span<const ListUse> uses) const noexcept;
  // lookup() for names of more than 64 labels, given their suffix hashes: no prefetching.
  Match lookup_long(std::string_view name, const std::uint64_t* hashes, const std::uint8_t* starts,
                    std::size_t count, std::span<const ListUse> uses) const noexcept;
  // First rule of the name `name` with hash `hash`, or kEmpty.
  std::uint32_t find(std::uint64_t hash, std::string_view name) const noexcept;

  PageArray<Bucket> buckets_;
  // Bit n set when some rule name has n dots (n + 1 labels): lookups skip other suffixes.
  std::array<std::uint64_t, 2> label_counts_{};
  PageArray<std::uint64_t> filter_;
  PageArray<PackedRule> rules_;
  PageArray<char> pool_;
};

}  // namespace egressguard::domains
