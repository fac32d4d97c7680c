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

// Suffix hashes: a name's hash is built label by label from the right, so one pass over a
// query yields the hash of every label-aligned suffix, each boundary costing one label hash.
// The name is first copied, 8 bytes at a time, into a zero-padded scratch buffer (finding its
// dots on the way), so that labels are then read 8 bytes at a time without bounds checks.
constexpr std::uint64_t kHashSeed = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t kHashMultiplier = 0xbf58476d1ce4e5b9ULL;

// 8 bytes as a little-endian number: the first byte in the low bits, on any host.
inline std::uint64_t load_word(const char* bytes) noexcept {
  std::uint64_t word = 0;
  std::memcpy(&word, bytes, 8);
  if constexpr (std::endian::native == std::endian::big) {
    word = __builtin_bswap64(word);
  }
  return word;
}

inline void store_word(char* bytes, std::uint64_t word) noexcept {
  if constexpr (std::endian::native == std::endian::big) {
    word = __builtin_bswap64(word);
  }
  std::memcpy(bytes, &word, 8);
}

// Mixes the label padded[begin, end) into `state`, the hash of the suffix to its right; 8
// bytes from `end` on must be readable. The result depends only on the label's bytes, not on
// where the label sits.
inline std::uint64_t mix_label(std::uint64_t state, const char* padded, std::size_t begin,
                               std::size_t end) noexcept {
  std::uint64_t h = (state ^ (end - begin + 1)) * kHashMultiplier;
  std::size_t i = begin;
  for (; i + 8 <= end; i += 8) {
    h = (h ^ load_word(padded + i)) * kHashMultiplier;
  }
  // The last 0 to 7 bytes (shift < 64: the mask is 0 for none).
  const std::uint64_t tail = load_word(padded + i) & ((std::uint64_t{1} << (8 * (end - i))) - 1);
  h = (h ^ tail) * kHashMultiplier;
  return h ^ (h >> 29);
}

// Room for any name of up to 253 bytes, even one made of dots only.
constexpr std::size_t kMaxSuffixes = 256;
// The scratch copy: a name, zero bytes to the next multiple of 8, and 8 more.
constexpr std::size_t kPaddedSize = (kMaxNameLength / 8 + 2) * 8;
static_assert(kPaddedSize >= kMaxNameLength / 8 * 8 + 16);  // the last word and 8 zero bytes

// Bit 7 of each byte of `word` that is a dot: after XOR with "........", a dot is a zero
// byte, and the expression sets the high bit of exactly the zero bytes (no carries across).
inline std::uint64_t dot_bits(std::uint64_t word) noexcept {
  constexpr std::uint64_t kDots = 0x2e2e2e2e2e2e2e2eULL;
  constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  const std::uint64_t x = word ^ kDots;
  return ~(((x & kLow7) + kLow7) | x | kLow7);
}

// Hashes of every label-aligned suffix of `name` (1 to kMaxNameLength bytes): hashes[j] is
// for the suffix of j dots (j + 1 labels; j = count - 1: the whole name), and the suffix that
// starts at label k (k = 0: the whole name) begins at byte starts[k]. Returns the number of
// labels, count.
// With fewer than kMaxSuffixes entries, returns 0 for a name with more labels than fit.
template <std::size_t N>
inline std::size_t suffix_hashes(std::string_view name, std::array<std::uint64_t, N>& hashes,
                                 std::array<std::uint8_t, N>& starts) noexcept {
  static_assert(N <= kMaxSuffixes && N >= 9);
  const std::size_t length = name.size();
  const char* bytes = name.data();
  // Scratch, written before it is read (up to 8 bytes past the name's last word).
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  alignas(8) std::array<char, kPaddedSize> padded;
  starts[0] = 0;
  std::size_t count = 1;
  std::size_t base = 0;
  const auto add_dots = [&](std::uint64_t word) {
    for (std::uint64_t dots = dot_bits(word); dots != 0; dots &= dots - 1) {
      const auto byte = static_cast<std::size_t>(__builtin_ctzll(dots)) / 8;
      starts[count++] = static_cast<std::uint8_t>(base + byte + 1);
    }
  };
  for (; base + 8 <= length; base += 8) {
    const std::uint64_t word = load_word(bytes + base);
    store_word(padded.data() + base, word);
    add_dots(word);
    if (N < kMaxSuffixes && count + 8 >= N) {
      return 0;  // may not fit: the caller takes the long way
    }
  }
  std::uint64_t last = 0;  // the name's last 0 to 7 bytes, zero-padded
  if (const std::size_t rest = length - base; rest != 0) {
    if (length >= 8) {
      last = load_word(bytes + length - 8) >> (8 * (8 - rest));
    } else {
      for (std::size_t i = 0; i < rest; ++i) {
        last |= std::uint64_t{static_cast<unsigned char>(bytes[base + i])} << (8 * i);
      }
    }
    add_dots(last);
  }
  store_word(padded.data() + base, last);
  store_word(padded.data() + base + 8, 0);
  std::uint64_t state = kHashSeed;
  std::size_t end = length;
  for (std::size_t j = 0; j < count; ++j) {
    const std::size_t begin = starts[count - 1 - j];
    state = mix_label(state, padded.data(), begin, end);
    hashes[j] = state;
    end = begin - 1;  // before the dot that precedes this label
  }
  return count;
}

// A table entry's tag: the top 24 bits of the name's hash (the low 32 pick the home bucket and
// filter block, so these vary between the names of one bucket) and the name's length, which is
// never 0 (0 marks a free entry).
constexpr std::uint32_t tag_of(std::uint64_t hash, std::size_t length) noexcept {
  return static_cast<std::uint32_t>(hash >> 40) << 8 | static_cast<std::uint32_t>(length);
}

// The filter's bits for a hash: bits [16 + 6i, 22 + 6i) of hash * this, i < Hashes.
constexpr std::uint64_t kFilterMultiplier = 0x94d049bb133111ebULL;
constexpr std::size_t kFilterBitsPerName = 10;

template <std::size_t... I>
constexpr std::uint64_t filter_bits(std::uint64_t hash, std::index_sequence<I...>) noexcept {
  static_assert(16 + 6 * sizeof...(I) <= 64);
  const std::uint64_t mixed = hash * kFilterMultiplier;
  return ((std::uint64_t{1} << (mixed >> (16 + 6 * I) & 63)) | ...);  // unrolled
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
    matcher.filter_[matcher.filter_word(hash)] |=
        filter_bits(hash, std::make_index_sequence<kFilterHashes>());
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
  const std::uint64_t bits = filter_bits(hash, std::make_index_sequence<kFilterHashes>());
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

std::uint64_t Matcher::prefetch_probes(const std::uint64_t* hashes,
                                       std::uint64_t candidates) const noexcept {
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
                       const std::uint8_t* starts, std::size_t count, std::uint64_t probe,
                       std::span<const ListUse> uses) const noexcept {
  // Most specific (most dots) first: the first suffix with an applicable rule decides.
  while (probe != 0) {
    const auto j = static_cast<std::size_t>(63 - __builtin_clzll(probe));
    probe &= ~(std::uint64_t{1} << j);
    const Match m = resolve_suffix(name, hashes[j], starts[count - 1 - j], j + 1, uses);
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
      const Match m = resolve_suffix(name, hashes[j], starts[count - 1 - j], j + 1, uses);
      if (m.matched) {
        return m;
      }
    }
  }
  return {};
}

Match Matcher::lookup(std::string_view normalized_name,
                      std::span<const ListUse> uses) const noexcept {
  const std::size_t length = normalized_name.size();
  if (buckets_.empty() || length == 0 || length > kMaxNameLength) {
    return {};
  }
  // Scratch, written before it is read: left uninitialised on purpose (hot path).
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  std::array<std::uint64_t, kMaxSuffixes> hashes;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  std::array<std::uint8_t, kMaxSuffixes> starts;
  const std::size_t count = suffix_hashes(normalized_name, hashes, starts);
  if (count > 64) {
    return lookup_long(normalized_name, hashes.data(), starts.data(), count, uses);
  }
  // Check only suffixes with a label count that some rule has (typically not the TLD), in the
  // filter first; start the filter's and then the table's cache misses at once so that they
  // overlap.
  const std::uint64_t mask = candidates(count);
  prefetch_filter(hashes.data(), mask);
  const std::uint64_t probe = prefetch_probes(hashes.data(), mask);
  return resolve(normalized_name, hashes.data(), starts.data(), count, probe, uses);
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
        out[first + j] = resolve(names[first + j], hashes[j].data(), starts[j].data(), counts[j],
                                 masks[j], uses);
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
