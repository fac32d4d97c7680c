// The AdBlock / AdGuard DNS subset that names domains:
//   ||example.com^           block example.com and every name below it (suffix)
//   @@||example.com^         allow (exception), suffix
//   ||*.example.com^         block strictly below example.com
//   ! comment, # comment, [Adblock Plus 2.0]
// Options: `$important`, `$all`, `$document` (`$doc`) are accepted and ignored: at DNS/SNI level
// they block the same names as the bare rule. Any other option (`$third-party`, `$script`,
// `$denyallow=`, `$badfilter`, `$dnstype=`, ...) narrows or changes a rule in ways a name
// matcher cannot honour, so the line is skipped and counted as unsupported. So is every other
// syntax: cosmetic rules (`##`, `#@#`, `#?#`, `#$#`), paths (`||x.com/ads`), regexes (`/re/`),
// address rules (`|http://...`), bare words. Only a malformed name inside `||...^` is an error.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "domains/rule.h"

namespace egressguard::domains {

// One line without its line break. std::nullopt for blank and comment lines; a ParsedLine with
// `unsupported` set for syntax that is skipped on purpose.
Result<std::optional<ParsedLine>, std::string> parse_adblock_line(std::string_view line);

}  // namespace egressguard::domains
