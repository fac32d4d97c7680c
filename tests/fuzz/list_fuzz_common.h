// Shared body of the list-format fuzz targets: parse the input as a list in one format, both
// strict and with skip_invalid, compile what loads and look every rule's name up again.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "domains/list_loader.h"
#include "domains/matcher.h"
#include "domains/name.h"

namespace egressguard::domains::fuzz {

inline bool same_rules(const std::vector<Rule>& a, const std::vector<Rule>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Rule& x, const Rule& y) {
    return x.name == y.name && x.kind == y.kind && x.action == y.action && x.list == y.list &&
           x.line == y.line;
  });
}

inline void check_list(const std::uint8_t* data, std::size_t size, ListFormat format) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<Rule> strict_rules;
  bool strict_loaded = false;
  for (const bool skip_invalid : {false, true}) {
    ListOptions options{format, skip_invalid, size % 2 == 1};
    auto loaded = load_list_text(text, "fuzz.txt", 1, options);
    if (!loaded) {
      if (skip_invalid || loaded.error().empty()) {
        std::abort();  // skip_invalid never refuses a list; a refusal says why
      }
      continue;
    }
    if (strict_loaded) {
      // A list that loads strictly has nothing to skip: skip_invalid loads the same rules (the
      // matcher checks below ran on them already).
      if (!same_rules(loaded->rules, strict_rules)) {
        std::abort();
      }
      continue;
    }
    const std::size_t rules = loaded->rules.size();
    std::vector<Rule> copy = loaded->rules;
    if (!skip_invalid) {
      strict_rules = copy;
      strict_loaded = true;
    }
    const Matcher matcher = Matcher::compile(std::move(loaded->rules));
    if (matcher.size() != rules) {
      std::abort();
    }
    const ListUse uses[] = {ListUse::Ignore, ListUse::Apply};
    std::vector<std::string_view> names;
    for (const Rule& rule : copy) {
      names.emplace_back(rule.name);
    }
    std::vector<Match> batch(names.size());
    matcher.lookup_batch(names, uses, batch);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const Match single = matcher.lookup(names[i], uses);
      if (single.matched != batch[i].matched || single.rule != batch[i].rule ||
          single.action != batch[i].action || single.labels != batch[i].labels) {
        std::abort();  // lookup_batch answers as lookup does
      }
    }
    for (const Rule& rule : copy) {
      NameBuffer buffer;
      const auto name = normalize_name(rule.name, buffer);
      if (!name || *name != rule.name) {
        std::abort();  // loaded names are normalised
      }
      const Match match = matcher.lookup(*name, uses);
      if (rule.kind != RuleKind::Below && !match.matched) {
        std::abort();  // an exact or suffix rule matches its own name
      }
    }
  }
}

}  // namespace egressguard::domains::fuzz
