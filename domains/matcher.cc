#include "domains/matcher.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "domains/name.h"

namespace egressguard::domains {
namespace {

// Suffix hashes: a name's hash is built label by label from the right, so one pass over a
// query yields the hash of every label-aligned suffix, each boundary costing one label hash.
// A label is read 8 bytes at a time (labels are at most 63 bytes), never past the name's end.
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

// Mixes the label name[begin, end) into `state`, the hash of the suffix to its right; `length`
// is the name's. The result depends only on the label's bytes, not on where the label sits.
inline std::uint64_t mix_label(std::uint64_t state, const char* name, std::size_t length,
                               std::size_t begin, std::size_t end) noexcept {
  std::uint64_t h = (state ^ (end - begin + 1)) * kHashMultiplier;
  std::size_t i = begin;
  for (; i + 8 <= end; i += 8) {
    h = (h ^ load_word(name + i)) * kHashMultiplier;
  }
  if (const std::size_t rest = end - i; rest != 0) {
    std::uint64_t word = 0;
    if (i + 8 <= length) {
      // 8 readable bytes from the label's tail on: keep the first `rest`.
      word = load_word(name + i) & (~std::uint64_t{0} >> (8 * (8 - rest)));
    } else if (end >= 8) {
      // The 8 bytes that end with the label, shifted to keep its last `rest` bytes.
      word = load_word(name + end - 8) >> (8 * (8 - rest));
    } else {
      for (std::size_t j = 0; j < rest; ++j) {
        word |= std::uint64_t{static_cast<unsigned char>(name[i + j])} << (8 * j);
      }
    }
    h = (h ^ word) * kHashMultiplier;
  }
  return h ^ (h >> 29);
}

// The high half of the state, which the multiplications mixed best; 0 is kept for free entries.
constexpr std::uint32_t fingerprint_of(std::uint64_t state) noexcept {
  const auto fingerprint = static_cast<std::uint32_t>(state >> 32);
  return fingerprint == 0 ? 1U : fingerprint;
}

// Room for any name of up to 253 bytes, even one made of dots only.
constexpr std::size_t kMaxSuffixes = 256;

// Hashes of every label-aligned suffix of `name` (at most kMaxNameLength bytes): hashes[k] is
// for the suffix that starts at label k (k = 0: the whole name), which begins at byte
// starts[k]. Returns the number of labels.
// With fewer than kMaxSuffixes entries, returns 0 for a name with more labels than fit.
template <std::size_t N>
inline std::size_t suffix_hashes(std::string_view name, std::array<std::uint64_t, N>& hashes,
                                 std::array<std::uint8_t, N>& starts) noexcept {
  static_assert(N <= kMaxSuffixes && N >= 9);
  const std::size_t length = name.size();
  const char* bytes = name.data();
  starts[0] = 0;
  std::size_t count = 1;
  // Dots 8 bytes at a time: after XOR with "........", a dot is a zero byte; the expression
  // below sets the high bit of exactly the zero bytes (no false positives across bytes).
  constexpr std::uint64_t kDots = 0x2e2e2e2e2e2e2e2eULL;
  constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  std::size_t base = 0;
  for (; base + 8 <= length; base += 8) {
    const std::uint64_t x = load_word(bytes + base) ^ kDots;
    std::uint64_t zeros = ~(((x & kLow7) + kLow7) | x | kLow7);
    while (zeros != 0) {
      const auto byte = static_cast<std::size_t>(__builtin_ctzll(zeros)) / 8;
      starts[count++] = static_cast<std::uint8_t>(base + byte + 1);
      zeros &= zeros - 1;
    }
    if (N < kMaxSuffixes && count + 8 >= N) {
      return 0;  // may not fit: the caller takes the long way
    }
  }
  if (base < length) {
    if (length >= 8) {
      // The last 8 bytes, of which the first 8 - (length - base) were scanned above.
      const std::size_t skip = 8 - (length - base);
      const std::uint64_t x = load_word(bytes + length - 8) ^ kDots;
      std::uint64_t zeros = ~(((x & kLow7) + kLow7) | x | kLow7) >> (8 * skip);
      while (zeros != 0) {
        const auto byte = static_cast<std::size_t>(__builtin_ctzll(zeros)) / 8;
        starts[count++] = static_cast<std::uint8_t>(base + byte + 1);
        zeros &= zeros - 1;
      }
    } else {
      for (; base < length; ++base) {
        starts[count] = static_cast<std::uint8_t>(base + 1);  // kept only if this is a dot
        count += bytes[base] == '.' ? 1U : 0U;
      }
    }
  }
  std::uint64_t state = kHashSeed;
  std::size_t end = length;
  for (std::size_t k = count; k-- > 0;) {
    const std::size_t begin = starts[k];
    state = mix_label(state, bytes, length, begin, end);
    hashes[k] = state;
    end = begin - 1;  // before the dot that precedes label k
  }
  return count;
}

std::uint64_t name_hash(std::string_view name) noexcept {
  // Scratch, written before it is read: left uninitialised on purpose (hot path).
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  std::array<std::uint64_t, kMaxSuffixes> hashes;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
  std::array<std::uint8_t, kMaxSuffixes> starts;
  suffix_hashes(name, hashes, starts);
  return hashes[0];
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
  std::vector<std::uint32_t> fingerprints(rules.size());
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
    fingerprints[i] = fingerprint_of(hashes[i]);
  }
  // Group equal names (by fingerprint first: cheap and spreads the table build).
  std::vector<std::uint32_t> order(rules.size());
  std::iota(order.begin(), order.end(), 0U);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (fingerprints[a] != fingerprints[b]) {
      return fingerprints[a] < fingerprints[b];
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

  Matcher matcher;
  matcher.rules_.reserve(rules.size());
  std::size_t names = 0;
  std::size_t pool_size = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || rules[order[i]].name != rules[order[i - 1]].name) {
      ++names;
      pool_size += rules[order[i]].name.size();
    }
  }
  if (pool_size > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("rule names exceed 4 GiB");
  }
  matcher.pool_.reserve(pool_size);
  // Load factor 0.75 at most: 6 of 8 entries per bucket on average, ~11 bytes per name.
  const std::size_t bucket_count =
      std::max<std::size_t>(1, (names * 4 / 3 + kBucketEntries - 1) / kBucketEntries);
  matcher.buckets_.assign(bucket_count, Bucket{});
  // The filter: 8 to 16 bits per name, one hash, about 1 false "maybe" in 9 to 17.
  const std::size_t filter_bits = std::bit_ceil(std::max<std::size_t>(64, names * 8));
  matcher.filter_.assign(filter_bits / 64, 0);
  matcher.filter_mask_ = filter_bits - 1;
  std::vector<std::uint8_t> used(bucket_count, 0);
  const auto insert = [&matcher, &used](std::uint32_t fingerprint, std::uint32_t rule) {
    std::size_t index = matcher.home(fingerprint);
    while (used[index] == kBucketEntries) {
      if (++index == matcher.buckets_.size()) {
        index = 0;
      }
    }
    Bucket& bucket = matcher.buckets_[index];
    bucket.fingerprint[used[index]] = fingerprint;
    bucket.rule[used[index]] = rule;
    ++used[index];
  };

  for (std::size_t i = 0; i < order.size(); ++i) {
    const Rule& rule = rules[order[i]];
    const bool first = i == 0 || rule.name != rules[order[i - 1]].name;
    const bool last = i + 1 == order.size() || rule.name != rules[order[i + 1]].name;
    std::uint32_t offset = 0;
    if (first) {
      const auto labels =
          static_cast<std::size_t>(std::count(rule.name.begin(), rule.name.end(), '.'));
      matcher.label_counts_[labels / 64] |= std::uint64_t{1} << (labels % 64);
      offset = static_cast<std::uint32_t>(matcher.pool_.size());
      matcher.pool_.insert(matcher.pool_.end(), rule.name.begin(), rule.name.end());
      insert(fingerprints[order[i]], static_cast<std::uint32_t>(matcher.rules_.size()));
      const std::uint64_t bit = hashes[order[i]] & matcher.filter_mask_;
      matcher.filter_[bit / 64] |= std::uint64_t{1} << (bit % 64);
    } else {
      offset = matcher.rules_.back().name_offset;
    }
    auto flags = static_cast<std::uint8_t>(static_cast<std::uint8_t>(rule.kind) & kKindMask);
    if (rule.action == Action::Allow) {
      flags |= kAllowFlag;
    }
    if (last) {
      flags |= kLastFlag;
    }
    matcher.rules_.push_back(PackedRule{offset, rule.line, static_cast<std::uint16_t>(rule.list),
                                        static_cast<std::uint8_t>(rule.name.size()), flags});
  }
  return matcher;
}

[[gnu::always_inline]] inline std::uint32_t Matcher::find(std::uint32_t fingerprint,
                                                          std::string_view name) const noexcept {
  std::size_t index = home(fingerprint);
  // At most 3/4 of the entries are used, so some bucket has a free entry and the loop ends.
  while (true) {
    const Bucket& bucket = buckets_[index];
#if defined(__SSE2__)
    const __m128i key = _mm_set1_epi32(static_cast<int>(fingerprint));
    const __m128i zero = _mm_setzero_si128();
    const __m128i low = _mm_load_si128(reinterpret_cast<const __m128i*>(bucket.fingerprint.data()));
    const __m128i high =
        _mm_load_si128(reinterpret_cast<const __m128i*>(bucket.fingerprint.data() + 4));
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
      matches |= (bucket.fingerprint[e] == fingerprint ? 1U : 0U) << e;
      free |= (bucket.fingerprint[e] == 0 ? 1U : 0U) << e;
    }
#endif
    while (matches != 0) {
      const auto e = static_cast<std::size_t>(__builtin_ctz(matches));
      const PackedRule& rule = rules_[bucket.rule[e]];
      if (rule.name_length == name.size() &&
          std::memcmp(pool_.data() + rule.name_offset, name.data(), name.size()) == 0) {
        return bucket.rule[e];
      }
      matches &= matches - 1;
    }
    if (free != 0) {
      return kEmpty;  // the name would have been stored here
    }
    if (++index == buckets_.size()) {
      index = 0;
    }
  }
}

std::uint32_t Matcher::prefetch_candidates(const std::uint64_t* hashes,
                                           std::size_t count) const noexcept {
  std::uint32_t candidates = 0;
  for (std::size_t k = 0; k < count && k < 32; ++k) {
    const std::size_t dots = count - k - 1;
    if (dots < 128 && (label_counts_[dots / 64] >> (dots % 64) & 1U) != 0) {
      candidates |= 1U << k;
      __builtin_prefetch(&filter_[(hashes[k] & filter_mask_) / 64]);
    }
  }
  return candidates;
}

std::uint32_t Matcher::prefetch_probes(const std::uint64_t* hashes,
                                       std::uint32_t candidates) const noexcept {
  std::uint32_t probe = 0;
  for (std::uint32_t rest = candidates; rest != 0; rest &= rest - 1) {
    const auto k = static_cast<std::size_t>(__builtin_ctz(rest));
    const std::uint64_t bit = hashes[k] & filter_mask_;
    if ((filter_[bit / 64] >> (bit % 64) & 1U) != 0) {
      probe |= 1U << k;
      __builtin_prefetch(&buckets_[home(fingerprint_of(hashes[k]))]);
    }
  }
  return probe;
}

Match Matcher::resolve(std::string_view name, const std::uint64_t* hashes,
                       const std::uint8_t* starts, std::size_t count, std::uint32_t probe,
                       std::span<const ListUse> uses) const noexcept {
  // Most specific first: the first suffix with an applicable rule decides.
  for (std::size_t k = 0; k < count; ++k) {
    if (k < 32 && (probe >> k & 1U) == 0) {
      continue;
    }
    std::uint32_t index = find(fingerprint_of(hashes[k]), name.substr(starts[k]));
    if (index == kEmpty) {
      continue;
    }
    const bool full = k == 0;
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
    if (best_score >= 0) {
      return Match{true, (best_score & 1) != 0 ? Action::Allow : Action::Block, best_rule,
                   static_cast<std::uint8_t>(count - k)};
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
  // Probe only suffixes with a label count that some rule has (typically not the TLD) and that
  // pass the filter; start those table misses at once so that the probes overlap them.
  const std::uint32_t candidates = prefetch_candidates(hashes.data(), count);
  const std::uint32_t probe = prefetch_probes(hashes.data(), candidates);
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
  std::array<std::uint32_t, kChunk> masks;
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
          masks[j] = prefetch_candidates(hashes[j].data(), counts[j]);
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
  return sizeof(*this) + buckets_.capacity() * sizeof(Bucket) +
         filter_.capacity() * sizeof(std::uint64_t) + rules_.capacity() * sizeof(PackedRule) +
         pool_.capacity();
}

}  // namespace egressguard::domains
