#include "domains/adblock_format.h"

#include "domains/line_text.h"
#include "domains/name.h"

namespace egressguard::domains {
namespace {

Result<std::optional<ParsedLine>, std::string> unsupported(std::string why) {
  ParsedLine parsed;
  parsed.unsupported = std::move(why);
  return std::optional<ParsedLine>(std::move(parsed));
}

bool is_harmless_option(std::string_view option) {
  return option == "important" || option == "all" || option == "document" || option == "doc";
}

bool is_cosmetic(std::string_view line) {
  for (const std::string_view marker : {"##", "#@#", "#?#", "#$#", "#%#", "#@$#", "#@?#"}) {
    if (line.find(marker) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::optional<ParsedLine>, std::string> parse_adblock_line(std::string_view line) {
  line = text::trim(line);
  if (line.empty() || line.front() == '!' || (line.front() == '[' && line.back() == ']')) {
    return std::optional<ParsedLine>();
  }
  if (is_cosmetic(line)) {
    return unsupported("cosmetic rule");
  }
  if (line.front() == '#') {
    return std::optional<ParsedLine>();  // "# comment", as in AdGuard Home lists
  }
  ParsedRule rule;
  rule.kind = RuleKind::Suffix;
  rule.action = Action::Block;
  std::string_view body = line;
  if (text::starts_with(body, "@@")) {
    rule.action = Action::Allow;
    body.remove_prefix(2);
  }
  if (body.size() >= 2 && body.front() == '/' && body.back() == '/') {
    return unsupported("regular expression rule");
  }
  if (!text::starts_with(body, "||")) {
    return unsupported("rule not anchored with \"||\"");
  }
  body.remove_prefix(2);
  std::string_view options;
  if (const std::size_t dollar = body.find('$'); dollar != std::string_view::npos) {
    options = body.substr(dollar + 1);
    body = body.substr(0, dollar);
  }
  const std::size_t caret = body.find('^');
  if (caret == std::string_view::npos) {
    if (body.find('/') != std::string_view::npos) {
      return unsupported("rule with a path");
    }
    return unsupported("rule without a \"^\" separator");
  }
  const std::string_view after = body.substr(caret + 1);
  if (!after.empty() && after != "|") {
    return unsupported("rule with a pattern after \"^\"");
  }
  std::string_view name = body.substr(0, caret);
  if (name.find('/') != std::string_view::npos) {
    return unsupported("rule with a path");
  }
  if (name.find(':') != std::string_view::npos) {
    return unsupported("rule with a port");
  }
  while (!options.empty()) {
    const std::size_t comma = options.find(',');
    const std::string_view option = options.substr(0, comma);
    if (!is_harmless_option(option)) {
      return unsupported("option $" + std::string(option));
    }
    options = comma == std::string_view::npos ? std::string_view() : options.substr(comma + 1);
  }
  if (text::starts_with(name, "*.")) {
    rule.kind = RuleKind::Below;
    name.remove_prefix(2);
  }
  if (name.find('*') != std::string_view::npos) {
    return unsupported("wildcard inside a name");
  }
  auto normalized = normalize_rule_name(name);
  if (!normalized) {
    return fail(std::move(normalized).error());
  }
  rule.name = std::move(*normalized);
  ParsedLine parsed;
  parsed.rules.push_back(std::move(rule));
  return std::optional<ParsedLine>(std::move(parsed));
}

}  // namespace egressguard::domains
