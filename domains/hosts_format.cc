#include "domains/hosts_format.h"

#include <array>

#include <arpa/inet.h>

#include "domains/line_text.h"
#include "domains/name.h"

namespace egressguard::domains {
namespace {

enum class Address : std::uint8_t { NotAnAddress, Sink, Other };

Address classify(std::string_view word) {
  const std::string text(word);
  std::array<unsigned char, 16> buffer{};
  if (inet_pton(AF_INET, text.c_str(), buffer.data()) == 1) {
    const bool any = buffer[0] == 0 && buffer[1] == 0 && buffer[2] == 0 && buffer[3] == 0;
    const bool loopback = buffer[0] == 127 && buffer[1] == 0 && buffer[2] == 0 && buffer[3] == 1;
    return (any || loopback) ? Address::Sink : Address::Other;
  }
  if (inet_pton(AF_INET6, text.c_str(), buffer.data()) == 1) {
    bool zero_prefix = true;
    for (std::size_t i = 0; i < 15; ++i) {
      zero_prefix = zero_prefix && buffer[i] == 0;
    }
    return (zero_prefix && buffer[15] <= 1) ? Address::Sink : Address::Other;
  }
  return Address::NotAnAddress;
}

bool is_local_name(std::string_view name) {
  return text::iequals(name, "localhost") || text::iequals(name, "localhost.localdomain") ||
         text::iequals(name, "broadcasthost") || text::iequals(name, "local") ||
         text::iequals(name.substr(0, 4), "ip6-") || classify(name) != Address::NotAnAddress;
}

}  // namespace

Result<std::optional<ParsedLine>, std::string> parse_hosts_line(std::string_view line) {
  const std::size_t hash = line.find('#');
  if (hash != std::string_view::npos) {
    line = line.substr(0, hash);
  }
  const auto words = text::split_words(line);
  if (words.empty()) {
    return std::optional<ParsedLine>();
  }
  // The usual local entries carry addresses that are not sinks ("255.255.255.255
  // broadcasthost", "fe80::1%lo0 localhost"): a line naming only local names is skipped first.
  bool only_local = words.size() > 1;
  for (std::size_t i = 1; i < words.size(); ++i) {
    only_local = only_local && is_local_name(words[i]);
  }
  if (only_local) {
    return std::optional<ParsedLine>();
  }
  switch (classify(words[0])) {
    case Address::NotAnAddress: {
      // Appended rather than `"\"" + std::string&&`: g++ 12 at -O3 reports a false -Wrestrict
      // on that inlined insert at the front (GCC bug 105329).
      std::string message = "\"";
      message += escape_for_message(words[0]);
      message += "\" is not an address: a hosts line is \"0.0.0.0 NAME...\"";
      return fail(std::move(message));
    }
    case Address::Other:
      return fail("address " + std::string(words[0]) +
                  " is not a sink: use 0.0.0.0, 127.0.0.1, :: or ::1");
    case Address::Sink:
      break;
  }
  if (words.size() == 1) {
    return fail("address " + std::string(words[0]) + " without a host name");
  }
  ParsedLine parsed;
  for (std::size_t i = 1; i < words.size(); ++i) {
    if (is_local_name(words[i])) {
      continue;
    }
    auto normalized = normalize_rule_name(words[i]);
    if (!normalized) {
      return fail(std::move(normalized).error());
    }
    parsed.rules.push_back(ParsedRule{std::move(*normalized), RuleKind::Exact, Action::Block});
  }
  if (parsed.rules.empty()) {
    return std::optional<ParsedLine>();
  }
  return std::optional<ParsedLine>(std::move(parsed));
}

}  // namespace egressguard::domains
