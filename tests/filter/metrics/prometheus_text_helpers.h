// A strict reader of the Prometheus text format 0.0.4 for tests: checks what a scraper checks
// (names, label syntax and escapes, values, # TYPE before a family's samples, families not
// split or repeated, histogram series) and returns the samples.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace egressguard::testing {

struct PromSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped values
  double value = 0;
};

struct PromText {
  std::vector<PromSample> samples;
  std::map<std::string, std::string> types;  // family -> type
  std::map<std::string, std::string> help;   // family -> unescaped help

  // The value of the sample `name` whose labels include every pair of `labels`; -1 when absent.
  double value(const std::string& name,
               const std::vector<std::pair<std::string, std::string>>& labels = {}) const;
  std::size_t count(const std::string& name) const;
};

// Parses `text`; the error names the line and what is wrong.
Result<PromText, std::string> parse_prometheus_text(const std::string& text);

}  // namespace egressguard::testing
