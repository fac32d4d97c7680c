// Plain domain lists (HaGeZi, blocklistproject, operator lists): one name per line.
//   example.com          exact
//   *.example.com        example.com and every name below it (suffix)
//   .example.com         same as "*.example.com"
//   # comment            also trailing: "example.com  # why"
// The loader turns exact rules into suffix rules when the list option `subdomains` is set
// (HaGeZi "domains including possible subdomains" lists).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "domains/rule.h"

namespace egressguard::domains {

// One line without its line break. std::nullopt for a blank or comment line; the error is
// `what: why`, e.g. `invalid domain "exa mple.com": label contains a space`.
Result<std::optional<ParsedLine>, std::string> parse_plain_line(std::string_view line);

}  // namespace egressguard::domains
