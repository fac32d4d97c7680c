// Rules as text, for `egressguard explain`, events and logs.
#pragma once

#include <string>

#include "domains/matcher.h"
#include "domains/rule.h"

namespace egressguard::domains {

// The rule in the syntax of its list format, as an operator would grep for it:
//   plain/hosts: "tiktok.com", "*.tiktok.com" (suffix), "*.tiktok.com (below)"
//   adblock:     "||tiktok.com^", "@@||tiktok.com^", "||*.tiktok.com^", "|tiktok.com^" (exact)
//   rpz:         "tiktok.com CNAME .", "*.tiktok.com CNAME .", "tiktok.com CNAME rpz-passthru."
// For plain and hosts lists an allow rule (only from an Except use) reads the same as a block.
std::string format_rule(const RuleInfo& rule, ListFormat format);

// Format-independent: "block tiktok.com and its subdomains", "allow exactly tiktok.com",
// "block names below tiktok.com".
std::string describe_rule(const RuleInfo& rule);

}  // namespace egressguard::domains
