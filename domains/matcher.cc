#include "domains/matcher.h"

#include <sys/mman.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <new>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "domains/name.h"

namespace egressguard::domains {
namespace {

// Suffix hashes. A suffix's hash depends only on its bytes, read as 8-byte words aligned to its
// END: word 0 is its last 8 bytes, word 1 the 8 before, and so on, and its first size % 8 bytes
// form a short head word. Every label-aligned suffix of a name ends where the name ends, so all
// of them share the name's full words: one pass over the name from the right folds each word
// into a chain once, and each dot met on the way yields the hash of the suffix after it from
// the chain so far and the bytes of the current word after the dot (one multiplication).
constexpr std::uint64_t kHashSeed = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t kChainMultiplier = 0xbf58476d1ce4e5b9ULL;
constexpr std::uint64_t kFinalMultiplier = 0xa0761d6478bd642fULL;

__extension__ using Product = unsigned __int128;

// Both halves of a * b folded into one word: its bits depend on all bits of a.
inline std::uint64_t fold_multiply(std::uint64_t a, std::uint64_t b) noexcept {
  const Product product = static_cast<Product>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

// 8 bytes as a little-endian number: the first byte in the low bits, on any host.
inline std::uint64_t load_word(const char* bytes) noexcept {
  std::uint64_t word = 0;
  std::memcpy(&word, bytes, 8);
  if constexpr (std::endian::native == std::endian::big) {
    word = __builtin_bswap64(word);
  }
  return word;
}

inline std::uint64_t load_u32(const char* bytes) noexcept {
  std::uint32_t word = 0;
  std::memcpy(&word, bytes, 4);
  if constexpr (std::endian::native == std::endian::big) {
    word = __builtin_bswap32(word);
  }
  return word;
}

// The first `size` (0 to 7) bytes of `bytes`, of which `total` >= size are readable, as a
// little-endian number (zero above them).
inline std::uint64_t load_head(const char* bytes, std::size_t size, std::size_t total) noexcept {
  if (total >= 8) {
    return load_word(bytes) & ((std::uint64_t{1} << (8 * size)) - 1);
  }
  if (size >= 4) {  // two loads that overlap when size < 8
    return load_u32(bytes) | load_u32(bytes + size - 4) << (8 * (size - 4));
  }
  if (size == 0) {
    return 0;
  }
  // 1 to 3 bytes: the first, the middle and the last (some the same).
  const auto byte = [bytes](std::size_t i) {
    return std::uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  };
  return byte(0) | byte(size / 2) | byte(size - 1);
}

// Room for any name of up to 253 bytes, even one made of dots only.
constexpr std::size_t kMaxSuffixes = 256;

// Bit 7 of each byte of `word` that is a dot: after XOR with "........", a dot is a zero
// byte, and the expression sets the high bit of exactly the zero bytes (no carries across).
inline std::uint64_t dot_bits(std::uint64_t word) noexcept {
  constexpr std::uint64_t kDots = 0x2e2e2e2e2e2e2e2eULL;
  constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  const std::uint64_t x = word ^ kDots;
  return ~(((x & kLow7) + kLow7) | x | kLow7);
}

// Hashes of every label-aligned suffix of `name` (1 to kMaxNameLength bytes): hashes[j] is for
// the suffix of j dots (j + 1 labels; j = count - 1: the whole name), which begins at byte
// starts[j]. Returns the number of labels, count. With fewer than kMaxSuffixes entries,
// returns 0 for a name with more labels than fit.
// `on_hash(j, hashes[j])` is called as each hash is known.
template <std::size_t N, typename OnHash = void (*)(std::size_t, std::uint64_t)>
[[gnu::always_inline]] inline std::size_t suffix_hashes(
    std::string_view name, std::array<std::uint64_t, N>& hashes,
    std::array<std::uint8_t, N>& starts,
    OnHash on_hash = [](std::size_t, std::uint64_t) {}) noexcept {
  static_assert(N <= kMaxSuffixes && N >= 9);
  const std::size_t length = name.size();
  const char* bytes = name.data();
  std::uint64_t chain = kHashSeed;
  std::size_t count = 0;
  // The suffixes that begin after the dots of `word` (8 bytes of the name, or its first 0 to 7
  // zero-extended), from the right; `span` is the size of the suffix from the word's first
  // byte on. The bytes after a dot are the head of its suffix; `chain` holds the words to the
  // right of `word`.
  const auto add_suffixes = [&](std::uint64_t word, std::size_t span) {
    for (std::uint64_t dots = dot_bits(word); dots != 0;) {
      const auto bit = static_cast<unsigned>(63 - __builtin_clzll(dots));
      dots ^= std::uint64_t{1} << bit;
      const std::size_t byte = bit / 8;  // the dot's
      const std::size_t size = span - 1 - byte;
      const std::uint64_t head = word >> (8 * byte) >> 8;
      const std::uint64_t hash =
          fold_multiply(chain ^ head ^ (std::uint64_t{size} << 56), kFinalMultiplier);
      hashes[count] = hash;
      on_hash(count, hash);
      starts[count] = static_cast<std::uint8_t>(length - size);
      ++count;
    }
  };
  std::size_t end = length;
  for (; end >= 8; end -= 8) {
    const std::uint64_t word = load_word(bytes + end - 8);
    add_suffixes(word, length - end + 8);
    chain = fold_multiply(chain ^ word, kChainMultiplier);
    if (N < kMaxSuffixes && count + 9 >= N) {
      return 0;  // may not fit: the caller takes the long way
    }
  }
  const std::uint64_t head = load_head(bytes, end, length);
  add_suffixes(head, length);
  const std::uint64_t hash =
      fold_multiply(chain ^ head ^ (std::uint64_t{length} << 56), kFinalMultiplier);
  hashes[count] = hash;
  on_hash(count, hash);
  starts[count] = 0;
  return count + 1;
}

// A table entry's tag: the top 24 bits of the name's hash (the low 32 pick the home bucket and
// filter block, so these vary between the names of one bucket) and the name's length, which is
// never 0 (0 marks a free entry).
constexpr std::uint32_t tag_of(std::uint64_t hash, std::size_t length) noexcept {
  return static_cast<std::uint32_t>(hash >> 40) << 8 | static_cast<std::uint32_t>(length);
}

// The filter's bits for a hash: 5 of the word's 64, 4 of them from a table of 2048 patterns
// picked by the top 11 bits of hash * kFilterMultiplier, one more by bits [26, 32) of it (a
// load and a shift instead of five shifts; as often wrong as 5 independent bits: 1 absent name
// in 54 at 10 bits per name, against 1 in 56).
constexpr std::uint64_t kFilterMultiplier = 0x94d049bb133111ebULL;
constexpr std::size_t kFilterBitsPerName = 10;
constexpr std::size_t kFilterPatterns = 2048;
constexpr int kFilterPatternBits = 4;

constexpr std::array<std::uint64_t, kFilterPatterns> make_filter_patterns() noexcept {
  std::array<std::uint64_t, kFilterPatterns> patterns{};
  std::uint64_t state = 0x2545f4914f6cdd1dULL;
  for (std::uint64_t& pattern : patterns) {
    while (std::popcount(pattern) < kFilterPatternBits) {
      state += 0x9e3779b97f4a7c15ULL;  // splitmix64
      std::uint64_t z = state;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      pattern |= std::uint64_t{1} << ((z ^ (z >> 31)) & 63);
    }
  }
  return patterns;
}
constexpr std::array<std::uint64_t, kFilterPatterns> kFilterPatternTable = make_filter_patterns();

inline std::uint64_t filter_bits(std::uint64_t hash) noexcept {
  const std::uint64_t mixed = hash * kFilterMultiplier;
  return kFilterPatternTable[mixed >> 53] | std::uint64_t{1} << (mixed >> 26 & 63);
}
// Table load: at most 4 of 5 entries used, 5.6 names per 7-entry bucket on average.
constexpr std::size_t kLoadNumerator = 4;
constexpr std::size_t kLoadDenominator = 5;
// Arrays from this size on are mapped with huge pages; smaller ones come from the heap.
constexpr std::size_t kPageMapThreshold = std::size_t{1} << 20;
constexpr std::size_t kPageSize = 4096;
constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept {
  return (n + to - 1) / to * to;
}

std::uint64_t name_hash(std::string_view name) noexcept {
  // Scratch, written before it is read: left uninitialised on purpose (hot path).
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  std::array<std::uint64_t, kMaxSuffixes> hashes;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  std::array<std::uint8_t, kMaxSuffixes> starts;
  const std::size_t count = suffix_hashes(name, hashes, starts);
  return hashes[count - 1];
}

constexpr std::uint8_t kKindMask = 0x03;
constexpr std::uint8_t kAllowFlag = 0x04;
constexpr std::uint8_t kLastFlag = 0x08;

}  // namespace

Matcher Matcher::compile(std::vector<Rule> rules) {
  if (rules.size() >= kEmpty) {
    throw std::length_error("too many rules for one matcher");
  }
  std::vector<std::uint64_t> hashes(rules.size());
  NameBuffer scratch;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    const auto normalized = normalize_name(rule.name, scratch);
    if (!normalized || *normalized != rule.name) {
      throw std::invalid_argument("rule name \"" + escape_for_message(rule.name) +
                                  "\" is not normalised");
    }
    if (rule.list > std::numeric_limits<std::uint16_t>::max()) {
      throw std::length_error("list id " + std::to_string(rule.list) + " is past 65535");
    }
    hashes[i] = name_hash(rule.name);
  }
  // Sorted by home bucket (the low half of the hash), which groups equal names; the names
  // then fill the table in order and overflow only into the next buckets.
  const auto key = [&hashes](std::uint32_t i) { return std::rotl(hashes[i], 32); };
  std::vector<std::uint32_t> order(rules.size());
  std::iota(order.begin(), order.end(), 0U);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (hashes[a] != hashes[b]) {
      return key(a) < key(b);
    }
    const int names = rules[a].name.compare(rules[b].name);
    if (names != 0) {
      return names < 0;
    }
    if (rules[a].list != rules[b].list) {
      return rules[a].list < rules[b].list;
    }
    return rules[a].line < rules[b].line;
  });
  // name_start[d]: where distinct name d begins in `order`; one more entry for the end.
  std::vector<std::uint32_t> name_start;
  std::size_t pool_size = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || hashes[order[i]] != hashes[order[i - 1]] ||
        rules[order[i]].name != rules[order[i - 1]].name) {
      name_start.push_back(static_cast<std::uint32_t>(i));
      pool_size += rules[order[i]].name.size();
    }
  }
  const std::size_t names = name_start.size();
  name_start.push_back(static_cast<std::uint32_t>(order.size()));
  if (pool_size > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("rule names exceed 4 GiB");
  }

  Matcher matcher;
  const std::size_t bucket_count =
      std::max<std::size_t>(1, (names * kLoadDenominator + kBucketEntries * kLoadNumerator - 1) /
                                   (kBucketEntries * kLoadNumerator));
  matcher.buckets_ = PageArray<Bucket>(bucket_count);
  matcher.filter_ =
      PageArray<std::uint64_t>(std::max<std::size_t>(1, (names * kFilterBitsPerName + 63) / 64));
  matcher.rules_ = PageArray<PackedRule>(rules.size());
  matcher.pool_ = PageArray<char>(pool_size);

  // Place every name: its tag, and for now its number d in place of its first rule.
  std::vector<std::uint8_t> used(bucket_count, 0);
  for (std::size_t d = 0; d < names; ++d) {
    const Rule& rule = rules[order[name_start[d]]];
    const std::uint64_t hash = hashes[order[name_start[d]]];
    std::size_t index = matcher.home(hash);
    while (used[index] == kBucketEntries) {
      if (++index == bucket_count) {
        index = 0;
      }
    }
    Bucket& bucket = matcher.buckets_[index];
    bucket.tag[used[index]] = tag_of(hash, rule.name.size());
    bucket.rule[used[index]] = static_cast<std::uint32_t>(d);
    ++used[index];
    const auto dots = static_cast<std::size_t>(std::count(rule.name.begin(), rule.name.end(), '.'));
    matcher.label_counts_[dots / 64] |= std::uint64_t{1} << (dots % 64);
    matcher.filter_[matcher.filter_word(hash)] |= filter_bits(hash);
  }
  // Lay out names and rules in table order: a bucket's names one after the other from its
  // pool offset, each name's rules contiguous.
  std::uint32_t pool_offset = 0;
  std::uint32_t next_rule = 0;
  for (std::size_t b = 0; b < bucket_count; ++b) {
    Bucket& bucket = matcher.buckets_[b];
    bucket.rule[kBucketEntries] = pool_offset;
    for (std::size_t e = 0; e < used[b]; ++e) {
      const std::uint32_t d = bucket.rule[e];
      bucket.rule[e] = next_rule;
      const std::string& name = rules[order[name_start[d]]].name;
      std::memcpy(matcher.pool_.data() + pool_offset, name.data(), name.size());
      for (std::uint32_t i = name_start[d]; i < name_start[d + 1]; ++i) {
        const Rule& rule = rules[order[i]];
        auto flags = static_cast<std::uint8_t>(static_cast<std::uint8_t>(rule.kind) & kKindMask);
        if (rule.action == Action::Allow) {
          flags |= kAllowFlag;
        }
        if (i + 1 == name_start[d + 1]) {
          flags |= kLastFlag;
        }
        matcher.rules_[next_rule++] =
            PackedRule{pool_offset, rule.line, static_cast<std::uint16_t>(rule.list),
                       static_cast<std::uint8_t>(name.size()), flags};
      }
      pool_offset += static_cast<std::uint32_t>(name.size());
    }
  }
  return matcher;
}

[[gnu::always_inline]] inline bool Matcher::filter_says_maybe(std::uint64_t hash) const noexcept {
  const std::uint64_t bits = filter_bits(hash);
  return (filter_[filter_word(hash)] & bits) == bits;
}

[[gnu::always_inline]] inline std::uint32_t Matcher::find(std::uint64_t hash,
                                                          std::string_view name) const noexcept {
  const std::uint32_t tag = tag_of(hash, name.size());
  constexpr unsigned kEntries = (1U << kBucketEntries) - 1;
  std::size_t index = home(hash);
  // At most 4/5 of the entries are used, so some bucket has a free entry and the loop ends.
  while (true) {
    const Bucket& bucket = buckets_[index];
#if defined(__SSE2__)
    const __m128i key = _mm_set1_epi32(static_cast<int>(tag));
    const __m128i zero = _mm_setzero_si128();
    const __m128i low = _mm_load_si128(reinterpret_cast<const __m128i*>(bucket.tag.data()));
    const __m128i high = _mm_load_si128(reinterpret_cast<const __m128i*>(bucket.tag.data() + 4));
    auto matches =
        static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(low, key))) |
                              (_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(high, key))) << 4));
    const auto free = static_cast<unsigned>(
        _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(low, zero))) |
        (_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(high, zero))) << 4));
#else
    unsigned matches = 0;
    unsigned free = 0;
    for (std::size_t e = 0; e < kBucketEntries; ++e) {
      matches |= (bucket.tag[e] == tag ? 1U : 0U) << e;
      free |= (bucket.tag[e] == 0 ? 1U : 0U) << e;
    }
#endif
    // The tag is never 0, so the last (always 0) tag never matches.
    while (matches != 0) {
      const auto e = static_cast<std::size_t>(__builtin_ctz(matches));
      const std::uint32_t rule = bucket.rule[e];
      __builtin_prefetch(&rules_[rule]);  // read next, on a hit: overlap it with the name's miss
      std::size_t offset = bucket.rule[kBucketEntries];
      for (std::size_t before = 0; before < e; ++before) {
        offset += bucket.tag[before] & 0xffU;
      }
      if (std::memcmp(pool_.data() + offset, name.data(), name.size()) == 0) {
        return rule;
      }
      matches &= matches - 1;
    }
    if ((free & kEntries) != 0) {
      return kEmpty;  // the name would have been stored here
    }
    if (++index == buckets_.size()) {
      index = 0;
    }
  }
}

void Matcher::prefetch_filter(const std::uint64_t* hashes,
                              std::uint64_t candidates) const noexcept {
  for (; candidates != 0; candidates &= candidates - 1) {
    const auto j = static_cast<std::size_t>(__builtin_ctzll(candidates));
    __builtin_prefetch(&filter_[filter_word(hashes[j])]);
  }
}

[[gnu::always_inline]] inline std::uint64_t Matcher::prefetch_probes(
    const std::uint64_t* hashes, std::uint64_t candidates) const noexcept {
  std::uint64_t probe = 0;
  for (; candidates != 0; candidates &= candidates - 1) {
    const auto j = static_cast<std::size_t>(__builtin_ctzll(candidates));
    if (filter_says_maybe(hashes[j])) {
      probe |= std::uint64_t{1} << j;
      __builtin_prefetch(&buckets_[home(hashes[j])]);
    }
  }
  return probe;
}

Match Matcher::resolve_suffix(std::string_view name, std::uint64_t hash, std::size_t start,
                              std::size_t labels, std::span<const ListUse> uses) const noexcept {
  std::uint32_t index = find(hash, name.substr(start));
  if (index == kEmpty) {
    return {};
  }
  const bool full = start == 0;
  // Tier 2: an exact rule on the full name; tier 1: suffix/below rules. Then Allow > Block.
  int best_score = -1;
  std::uint32_t best_rule = 0;
  while (true) {
    const PackedRule& rule = rules_[index];
    const ListUse use = rule.list < uses.size() ? uses[rule.list] : ListUse::Ignore;
    const auto kind = static_cast<RuleKind>(rule.flags & kKindMask);
    const bool applies = kind == RuleKind::Exact ? full : kind == RuleKind::Suffix || !full;
    if (use != ListUse::Ignore && applies) {
      const bool allow = use == ListUse::Except || (rule.flags & kAllowFlag) != 0;
      const int score = (kind == RuleKind::Exact ? 2 : 0) + (allow ? 1 : 0);
      if (score > best_score) {
        best_score = score;
        best_rule = index;
      }
    }
    if ((rule.flags & kLastFlag) != 0) {
      break;
    }
    ++index;
  }
  if (best_score < 0) {
    return {};
  }
  return Match{true, (best_score & 1) != 0 ? Action::Allow : Action::Block, best_rule,
               static_cast<std::uint8_t>(labels)};
}

Match Matcher::resolve(std::string_view name, const std::uint64_t* hashes,
                       const std::uint8_t* starts, std::uint64_t probe,
                       std::span<const ListUse> uses) const noexcept {
  // Most specific (most dots) first: the first suffix with an applicable rule decides.
  while (probe != 0) {
    const auto j = static_cast<std::size_t>(63 - __builtin_clzll(probe));
    probe &= ~(std::uint64_t{1} << j);
    const Match m = resolve_suffix(name, hashes[j], starts[j], j + 1, uses);
    if (m.matched) {
      return m;
    }
  }
  return {};
}

Match Matcher::lookup_long(std::string_view name, const std::uint64_t* hashes,
                           const std::uint8_t* starts, std::size_t count,
                           std::span<const ListUse> uses) const noexcept {
  for (std::size_t j = count; j-- > 0;) {
    if (j < 128 && (label_counts_[j / 64] >> (j % 64) & 1U) != 0 && filter_says_maybe(hashes[j])) {
      const Match m = resolve_suffix(name, hashes[j], starts[j], j + 1, uses);
      if (m.matched) {
        return m;
      }
    }
  }
  return {};
}

Match Matcher::lookup_slow(std::string_view name, std::span<const ListUse> uses) const noexcept {
  // Scratch, written before it is read: left uninitialised on purpose.
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  std::array<std::uint64_t, kMaxSuffixes> hashes;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  std::array<std::uint8_t, kMaxSuffixes> starts;
  const std::size_t count = suffix_hashes(name, hashes, starts);
  if (count > 64) {
    return lookup_long(name, hashes.data(), starts.data(), count, uses);
  }
  const std::uint64_t mask = candidates(count);
  prefetch_filter(hashes.data(), mask);
  const std::uint64_t probe = prefetch_probes(hashes.data(), mask);
  return resolve(name, hashes.data(), starts.data(), probe, uses);
}

Match Matcher::lookup(std::string_view normalized_name,
                      std::span<const ListUse> uses) const noexcept {
  const std::size_t length = normalized_name.size();
  if (buckets_.empty() || length == 0 || length > kMaxNameLength) {
    return {};
  }
  // Names of up to 23 labels (all but odd ones) take this path, fully inlined. Scratch, written
  // before it is read: left uninitialised on purpose (hot path).
  constexpr std::size_t kLabels = 32;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  std::array<std::uint64_t, kLabels> hashes;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  std::array<std::uint8_t, kLabels> starts;
  // Each suffix with a label count that some rule has (typically not the TLD) starts its
  // filter word's cache miss as soon as its hash is known, so that they overlap each other
  // and the rest of the hashing.
  const std::uint64_t wanted = label_counts_[0];
  const std::size_t count =
      suffix_hashes(normalized_name, hashes, starts, [&](std::size_t j, std::uint64_t hash) {
        if ((wanted >> j & 1U) != 0) {
          __builtin_prefetch(&filter_[filter_word(hash)]);
        }
      });
  if (count == 0) {
    return lookup_slow(normalized_name, uses);
  }
  // Then the filter's answers, starting the table's cache misses of those that pass it.
  const std::uint64_t probe = prefetch_probes(hashes.data(), candidates(count));
  if (probe == 0) {
    return {};
  }
  return resolve(normalized_name, hashes.data(), starts.data(), probe, uses);
}

void Matcher::lookup_batch(std::span<const std::string_view> names, std::span<const ListUse> uses,
                           std::span<Match> out) const noexcept {
  const std::size_t total = std::min(names.size(), out.size());
  constexpr std::size_t kChunk = 8;
  constexpr std::size_t kLabels = 32;  // longer names take lookup()
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): scratch, written first
  std::array<std::array<std::uint64_t, kLabels>, kChunk> hashes;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): scratch, written first
  std::array<std::array<std::uint8_t, kLabels>, kChunk> starts;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): scratch, written first
  std::array<std::size_t, kChunk> counts;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): scratch, written first
  std::array<std::uint64_t, kChunk> masks;
  for (std::size_t first = 0; first < total; first += kChunk) {
    const std::size_t n = std::min(kChunk, total - first);
    // Three passes over the chunk, so that the cache misses of its names overlap.
    for (std::size_t j = 0; j < n; ++j) {
      const std::string_view name = names[first + j];
      counts[j] = 0;
      masks[j] = 0;
      if (!buckets_.empty() && !name.empty() && name.size() <= kMaxNameLength) {
        counts[j] = suffix_hashes(name, hashes[j], starts[j]);
        if (counts[j] != 0) {
          masks[j] = candidates(counts[j]);
          prefetch_filter(hashes[j].data(), masks[j]);
        } else {
          out[first + j] = lookup(name, uses);
        }
      } else {
        out[first + j] = Match{};
      }
    }
    for (std::size_t j = 0; j < n; ++j) {
      if (counts[j] != 0) {
        masks[j] = prefetch_probes(hashes[j].data(), masks[j]);
      }
    }
    for (std::size_t j = 0; j < n; ++j) {
      if (counts[j] != 0) {
        out[first + j] =
            resolve(names[first + j], hashes[j].data(), starts[j].data(), masks[j], uses);
      }
    }
  }
}

RuleInfo Matcher::rule_info(std::uint32_t rule) const {
  if (rule >= rules_.size()) {
    throw std::out_of_range("rule index " + std::to_string(rule) + " out of range");
  }
  const PackedRule& packed = rules_[rule];
  RuleInfo info;
  info.name = std::string_view(pool_.data() + packed.name_offset, packed.name_length);
  info.kind = static_cast<RuleKind>(packed.flags & kKindMask);
  info.action = (packed.flags & kAllowFlag) != 0 ? Action::Allow : Action::Block;
  info.list = packed.list;
  info.line = packed.line;
  return info;
}

std::size_t Matcher::memory_bytes() const noexcept {
  return sizeof(*this) + buckets_.held_bytes() + filter_.held_bytes() + rules_.held_bytes() +
         pool_.held_bytes();
}

void* Matcher::allocate_pages(std::size_t bytes) {
  if (bytes == 0) {
    return nullptr;
  }
  if (bytes < kPageMapThreshold) {
    void* data = ::operator new (bytes, std::align_val_t{64});
    std::memset(data, 0, bytes);
    return data;
  }
  // Map 2 MiB more than needed, keep the 2 MiB-aligned part (anonymous pages are zero).
  const std::size_t size = round_up(bytes, kPageSize);
  void* mapped = mmap(nullptr, size + kHugePageSize, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    throw std::bad_alloc();
  }
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  const std::uintptr_t aligned = round_up(start, kHugePageSize);
  if (aligned != start) {
    munmap(mapped, aligned - start);
  }
  if (const std::size_t tail = start + size + kHugePageSize - (aligned + size); tail != 0) {
    munmap(reinterpret_cast<void*>(aligned + size), tail);
  }
  void* data = reinterpret_cast<void*>(aligned);
#if defined(MADV_HUGEPAGE)
  madvise(data, size, MADV_HUGEPAGE);  // a hint: without it, 4 KiB pages
#endif
  return data;
}

void Matcher::free_pages(void* data, std::size_t bytes) noexcept {
  if (data == nullptr) {
    return;
  }
  if (bytes < kPageMapThreshold) {
    ::operator delete (data, std::align_val_t{64});
  } else {
    munmap(data, round_up(bytes, kPageSize));
  }
}

std::size_t Matcher::held_bytes_for(std::size_t bytes) noexcept {
  return bytes < kPageMapThreshold ? bytes : round_up(bytes, kPageSize);
}

}  // namespace egressguard::domains
