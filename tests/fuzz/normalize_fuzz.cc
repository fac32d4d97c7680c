// libFuzzer target: normalize_name (hot path) and normalize_rule_name (load path, libidn2), and
// Matcher::lookup on whatever normalize_name accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "domains/matcher.h"
#include "domains/name.h"

namespace {

const egressguard::domains::Matcher& matcher() {
  using egressguard::domains::Action;
  using egressguard::domains::Rule;
  using egressguard::domains::RuleKind;
  static const auto instance = egressguard::domains::Matcher::compile({
      Rule{"tiktok.com", RuleKind::Suffix, Action::Block, 0, 1},
      Rule{"ok.tiktok.com", RuleKind::Exact, Action::Allow, 0, 2},
      Rule{"a", RuleKind::Below, Action::Block, 1, 3},
      Rule{"xn--bcher-kva.de", RuleKind::Suffix, Action::Block, 1, 4},
  });
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace egressguard::domains;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  NameBuffer buffer;
  const auto fast = normalize_name(input, buffer);
  if (fast) {
    if (fast->empty() || fast->size() > kMaxNameLength) {
      std::abort();
    }
    const ListUse uses[] = {ListUse::Apply, ListUse::Except};
    const Match match = matcher().lookup(*fast, uses);
    if (match.matched && match.rule >= matcher().size()) {
      std::abort();
    }
  }
  const auto strict = normalize_rule_name(input);
  bool control = false;
  for (const char c : input) {
    control = control || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  }
  if (strict && control) {
    std::abort();  // a control byte never survives (libidn2 once cut a label at a NUL)
  }
  if (strict) {
    // A rule name is also a valid network name, and normalising it again changes nothing.
    NameBuffer again;
    const auto renormalized = normalize_name(*strict, again);
    if (!renormalized || *renormalized != *strict) {
      std::abort();
    }
    const auto twice = normalize_rule_name(*strict);
    if (!twice || *twice != *strict) {
      std::abort();
    }
  } else if (strict.error().rfind("invalid domain \"", 0) != 0) {
    std::abort();
  }
  return 0;
}
