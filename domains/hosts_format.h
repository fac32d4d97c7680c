// Hosts files used as block lists (StevenBlack style): `ADDRESS NAME [NAME...]`, where ADDRESS
// is a sink: 0.0.0.0, 127.0.0.1, :: or ::1. '#' starts a comment anywhere on a line.
// The usual local entries (localhost, localhost.localdomain, broadcasthost, local, ip6-*, and
// names that are IP literals such as "0.0.0.0 0.0.0.0") are skipped. Every name is an exact
// rule (a suffix rule when the list option `subdomains` is set, applied by the loader).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "domains/rule.h"

namespace egressguard::domains {

// One line without its line break. std::nullopt for blank, comment and local-only lines.
Result<std::optional<ParsedLine>, std::string> parse_hosts_line(std::string_view line);

}  // namespace egressguard::domains
