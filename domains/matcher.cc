#include "domains/matcher.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "domains/name.h"

namespace egressguard::domains {
namespace {

// Suffix hashes: a name's hash is built label by label from the right, so one pass over a
// query yields the hash of every label-aligned suffix, each boundary costing one label hash and
// one mix. A label is hashed 8 bytes at a time (labels are at most 63 bytes).
constexpr std::uint64_t kHashSeed = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t kHashMultiplier = 0xbf58476d1ce4e5b9ULL;

// Mixes the label [label, label + length) into the hash of the suffix to its right. The 8 bytes
// after the label must be readable (the caller pads its buffer).
inline std::uint64_t mix_label(std::uint64_t state, const char* label,
                               std::size_t length) noexcept {
  std::uint64_t h = (state ^ (length + 1)) * kHashMultiplier;
  std::size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, label + i, 8);
    h = (h ^ word) * kHashMultiplier;
    h ^= h >> 31;
  }
  if (i < length) {
    std::uint64_t word = 0;
    std::memcpy(&word, label + i, 8);
    word &= ~std::uint64_t{0} >> (8 * (8 - (length - i)));
    h = (h ^ word) * kHashMultiplier;
    h ^= h >> 31;
  }
  return h;
}

// MurmurHash3's fmix64, then the high 32 bits: the fingerprint that also picks the home slot.
constexpr std::uint32_t fingerprint_of(std::uint64_t state) noexcept {
  state ^= state >> 33;
  state *= 0xff51afd7ed558ccdULL;
  state ^= state >> 33;
  state *= 0xc4ceb9fe1a85ec53ULL;
  state ^= state >> 33;
  return static_cast<std::uint32_t>(state >> 32);
}

// Room for any name of up to 253 bytes, even one made of dots only.
constexpr std::size_t kMaxSuffixes = 256;

// Fingerprints of every label-aligned suffix of `name` (at most kMaxNameLength bytes):
// fingerprints[k] is for the suffix that starts at label k (k = 0: the whole name), which begins
// at byte starts[k]. Returns the number of labels.
std::size_t suffix_fingerprints(std::string_view name,
                                std::array<std::uint32_t, kMaxSuffixes>& fingerprints,
                                std::array<std::uint8_t, kMaxSuffixes>& starts) noexcept {
  const std::size_t length = name.size();
  std::array<char, kMaxNameLength + 8> buffer;  // the name, then 8 readable bytes
  std::memcpy(buffer.data(), name.data(), length);
  std::memset(buffer.data() + length, 0, 8);
  starts[0] = 0;
  std::size_t count = 1;
  for (std::size_t i = 0; i < length; ++i) {
    starts[count] = static_cast<std::uint8_t>(i + 1);  // kept only if buffer[i] is a dot
    count += buffer[i] == '.' ? 1U : 0U;
  }
  std::uint64_t state = kHashSeed;
  std::size_t end = length;
  for (std::size_t k = count; k-- > 0;) {
    const std::size_t begin = starts[k];
    state = mix_label(state, buffer.data() + begin, end - begin);
    fingerprints[k] = fingerprint_of(state);
    end = begin - 1;  // before the dot that precedes label k
  }
  return count;
}

std::uint32_t name_fingerprint(std::string_view name) noexcept {
  std::array<std::uint32_t, kMaxSuffixes> fingerprints;
  std::array<std::uint8_t, kMaxSuffixes> starts;
  suffix_fingerprints(name, fingerprints, starts);
  return fingerprints[0];
}

constexpr std::uint8_t kKindMask = 0x03;
constexpr std::uint8_t kAllowFlag = 0x04;
constexpr std::uint8_t kLastFlag = 0x08;

}  // namespace

Matcher Matcher::compile(std::vector<Rule> rules) {
  if (rules.size() >= kEmpty) {
    throw std::length_error("too many rules for one matcher");
  }
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
    fingerprints[i] = name_fingerprint(rule.name);
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
  // Load factor 0.75 at most: short Robin Hood probe runs, ~11 bytes of table per name.
  const std::size_t slot_count = std::max<std::size_t>(8, names + names / 3 + 1);
  matcher.slots_.assign(slot_count, Slot{0, kEmpty});

  const auto insert = [&matcher](Slot entry) {
    std::size_t index = matcher.home(entry.fingerprint);
    std::size_t distance = 0;
    const std::size_t n = matcher.slots_.size();
    while (true) {
      Slot& slot = matcher.slots_[index];
      if (slot.rule == kEmpty) {
        slot = entry;
        return;
      }
      const std::size_t slot_home = matcher.home(slot.fingerprint);
      const std::size_t slot_distance =
          index >= slot_home ? index - slot_home : index + n - slot_home;
      if (slot_distance < distance) {
        std::swap(slot, entry);
        distance = slot_distance;
      }
      ++distance;
      if (++index == n) {
        index = 0;
      }
    }
  };

  for (std::size_t i = 0; i < order.size(); ++i) {
    const Rule& rule = rules[order[i]];
    const bool first = i == 0 || rule.name != rules[order[i - 1]].name;
    const bool last = i + 1 == order.size() || rule.name != rules[order[i + 1]].name;
    std::uint32_t offset = 0;
    if (first) {
      offset = static_cast<std::uint32_t>(matcher.pool_.size());
      matcher.pool_.insert(matcher.pool_.end(), rule.name.begin(), rule.name.end());
      insert(Slot{fingerprints[order[i]], static_cast<std::uint32_t>(matcher.rules_.size())});
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

std::uint32_t Matcher::find(std::uint32_t fingerprint, std::string_view name) const noexcept {
  const std::size_t n = slots_.size();
  std::size_t index = home(fingerprint);
  const std::size_t start = index;
  for (std::size_t distance = 0;; ++distance) {
    const Slot slot = slots_[index];
    if (slot.rule == kEmpty) {
      return kEmpty;
    }
    if (slot.fingerprint == fingerprint) {
      const PackedRule& rule = rules_[slot.rule];
      if (rule.name_length == name.size() &&
          std::memcmp(pool_.data() + rule.name_offset, name.data(), name.size()) == 0) {
        return slot.rule;
      }
    } else {
      // Robin Hood invariant: a slot closer to its home than we are to ours ends the run.
      const std::size_t slot_home = home(slot.fingerprint);
      const std::size_t slot_distance =
          index >= slot_home ? index - slot_home : index + n - slot_home;
      if (slot_distance < distance) {
        return kEmpty;
      }
    }
    if (++index == n) {
      index = 0;
    }
    if (index == start) {
      return kEmpty;
    }
  }
}

Match Matcher::lookup(std::string_view normalized_name,
                      std::span<const ListUse> uses) const noexcept {
  const std::size_t length = normalized_name.size();
  if (rules_.empty() || length == 0 || length > kMaxNameLength) {
    return {};
  }
  std::array<std::uint32_t, kMaxSuffixes> fingerprints;
  std::array<std::uint8_t, kMaxSuffixes> starts;
  const std::size_t count = suffix_fingerprints(normalized_name, fingerprints, starts);
  // Start every table miss at once: the probes below then mostly hit the cache.
  for (std::size_t k = 0; k < count; ++k) {
    __builtin_prefetch(&slots_[home(fingerprints[k])]);
  }
  // Most specific first: the first suffix with an applicable rule decides.
  for (std::size_t k = 0; k < count; ++k) {
    const std::string_view suffix = normalized_name.substr(starts[k]);
    std::uint32_t index = find(fingerprints[k], suffix);
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
  return sizeof(*this) + slots_.capacity() * sizeof(Slot) + rules_.capacity() * sizeof(PackedRule) +
         pool_.capacity();
}

}  // namespace egressguard::domains
