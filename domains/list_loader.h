// Loads one list file into rules: the same loader serves the daemon, reload and `check`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "domains/rule.h"

namespace egressguard::domains {

struct ListOptions {
  ListFormat format = ListFormat::Plain;
  // Skip (and count) bad lines instead of refusing the list: for third-party lists with junk.
  bool skip_invalid = false;
  // Plain and hosts lists: every exact name also covers its subdomains (HaGeZi "domains
  // including possible subdomains").
  bool subdomains = false;
};

struct LoadedList {
  std::vector<Rule> rules;
  std::size_t lines = 0;                // lines read
  std::size_t skipped_invalid = 0;      // bad lines skipped under skip_invalid
  std::size_t skipped_unsupported = 0;  // valid syntax the matcher cannot express
  // `path:line: what: why` for the first kMaxSkippedMessages skipped lines (invalid first, then
  // unsupported as they come).
  std::vector<std::string> skipped_messages;
};

constexpr std::size_t kMaxSkippedMessages = 20;

// Reads and parses `path`. On failure: every bad line as `path:line: what: why` (all of them,
// not just the first), or `path: cannot open: <reason>`; the list is refused whole.
Result<LoadedList, std::vector<std::string>> load_list(const std::string& path,
                                                       std::uint32_t list_id,
                                                       const ListOptions& options);

// The same on text already in memory; `display_path` is used in messages only.
Result<LoadedList, std::vector<std::string>> load_list_text(std::string_view text,
                                                            std::string_view display_path,
                                                            std::uint32_t list_id,
                                                            const ListOptions& options);

}  // namespace egressguard::domains
