#include "domains/plain_format.h"

#include <array>

#include <arpa/inet.h>

#include "domains/line_text.h"
#include "domains/name.h"

namespace egressguard::domains {
namespace {

bool is_ip_literal(std::string_view word) {
  const std::string text(word);
  std::array<unsigned char, 16> buffer{};
  return inet_pton(AF_INET, text.c_str(), buffer.data()) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer.data()) == 1;
}

}  // namespace

Result<std::optional<ParsedLine>, std::string> parse_plain_line(std::string_view line) {
  line = text::trim(line);
  if (line.empty() || line.front() == '#') {
    return std::optional<ParsedLine>();
  }
  // A trailing comment needs whitespace before '#'.
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '#' && text::is_space(line[i - 1])) {
      line = text::trim(line.substr(0, i));
      break;
    }
  }
  if (text::starts_with(line, "||") || text::starts_with(line, "@@")) {
    return fail("\"" + escape_for_message(line) +
                "\" looks like an AdBlock rule: declare the list with format \"adblock\"");
  }
  const auto words = text::split_words(line);
  if (words.size() > 1 && is_ip_literal(words[0])) {
    return fail("\"" + escape_for_message(line) +
                "\" looks like a hosts line: declare the list with format \"hosts\"");
  }
  ParsedRule rule;
  rule.kind = RuleKind::Exact;
  std::string_view name = line;
  if (text::starts_with(name, "*.")) {
    rule.kind = RuleKind::Suffix;
    name.remove_prefix(2);
  } else if (text::starts_with(name, ".")) {
    rule.kind = RuleKind::Suffix;
    name.remove_prefix(1);
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
